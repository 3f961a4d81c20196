/* SPDX-License-Identifier: MIT */
/*
 * What `copylab advise` says beside its ranking: the strategies it did not
 * test and why (from each strategy's table, through strategy_refusal, as
 * `copylab run` decides), the runs whose figures do not mean what their
 * name suggests (zero-copy that copied, a receive that mapped nothing,
 * repetitions that failed verification), and the caveats: each ranked
 * strategy's `needs` and `caveat[scenario]` from its table, and those the
 * records imply (transport, size, repetitions, connections, cache, pipes).
 */
#ifndef COPYLAB_ADVISE_NOTES_H
#define COPYLAB_ADVISE_NOTES_H

#include <stdbool.h>
#include <stdio.h>

#include "cellrun.h"

/* What the records were taken at: the workload advise speaks of. */
struct advise_workload {
	const char *scenario;
	int sc;			/* enum scenario */
	const char *transport;	/* the records' own; NULL when the scenario has no sockets */
	long bytes, block;
	int reps;		/* the fewest usable reps of a ranked strategy */
	unsigned conns;
	const char *cache;	/* "warm", "cold" */
	bool privileged;	/* the run could load BPF and make namespaces (root) */
	unsigned rps;		/* requests a second offered open loop (echo, relay's round trip); 0 none */
	double time_s;		/* --time: each rep ran this long and moved its own count (bytes is -1: any); 0 by size */
	double steal_cpus;	/* the hypervisor's steal in the median rep, in CPUs; NAN unknown */
	double ncpus;		/* the run's online CPUs; 0 unknown */
};

/*
 * The strategies of the table not among LABELS, each with why (another
 * scenario, another transport, a privilege); returns how many lines it
 * printed.  A strategy no rule refuses but absent from the records is
 * named too: its run failed or it was not asked for.
 */
int print_not_tested(FILE *out, const struct advise_workload *w, const char *const *labels, int n);
/* The ranked strategies whose figures are not what their name suggests; how many lines. */
int print_degenerate(FILE *out, struct crcell *c, const struct advise_workload *w, const char *const *labels,
		     int n);
/* The caveats: the records' (measurement) ones, then each ranked strategy's from its table. */
void print_caveats(FILE *out, const struct advise_workload *w, const char *const *labels, int n);

/* "64 MiB", "1.5 GiB", "4 KiB", "100 B" */
const char *size_words(long bytes, char *buf, size_t len);

#endif
