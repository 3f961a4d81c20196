/* SPDX-License-Identifier: MIT */
/*
 * A run or bench session: its results directory, scratch directory, probes
 * (BPF ledger, tracer) and the groups of cells it runs, interleaved.
 */
#ifndef COPYLAB_CLI_SESSION_H
#define COPYLAB_CLI_SESSION_H

struct cpusample;
#include "harness/engine/rep.h"

#include <stdbool.h>
#include <stdio.h>

#define MAX_SPECS 16

struct results;

/* One cell's configuration and the strategies run in it, interleaved. */
struct group {
	struct run_config cfg;
	struct strategy_spec spec[MAX_SPECS];
	int nspecs;
};

struct session {
	struct results *res;
	char run_id[64];
	char workdir[PATH_MAX];
	int reps, warmup;
	bool json;
	bool progress_tty;
	int cells_done, cells_total;	/* repetitions, for progress */
	int64_t started_ns;
	struct rep_result *all;		/* every counted rep, for bench's ratios */
	struct ledger *ledger;
	char bpf_note[128];
	struct cpusample *sampler;	/* where each role's CPU goes; needs the ledger */
	char cputime_note[160];
	copytrace_totals_fn tracer;
	char tracer_note[128];
	size_t nall, capall;
	struct remote *remote;		/* --transport nic */
	bool keep_going;		/* bench: a failed cell ends only that strategy's reps */
	int cells_failed;
};

/*
 * The probes, before session_open: the BPF ledger (unless no_bpf), then
 * the tracer (which may re-execute copylab).  0 or EXIT_RUN_FAILED.
 */
int session_ledger(struct session *s, bool no_bpf, bool require_bpf);
int session_tracer(struct session *s, bool want, bool refuse);

struct parsed;
/* The conditions a run or bench set for all its cells, into env.json (compare names them). */
void session_conditions(const struct parsed *p, const struct session *s);

/*
 * --out and --workdir before anything is made: the scratch base an
 * existing writable directory; the results directory new, or an empty
 * one, under a directory this user can write.  0 or EXIT_USAGE.
 */
int session_check_paths(const char *out, const char *workbase);

/*
 * The run id, the scratch directory (in workbase, default /var/tmp), the
 * results directory (out, default results/<run-id>), locked for this
 * run.  0, EXIT_USAGE when out is another run's directory (held, or
 * holding results) or not a directory, or EXIT_RUN_FAILED.
 */
int session_open(struct session *s, const char *out, const char *workbase);

/* Prints the table on `table` unless NULL (the caller printed it), then closes. */
void session_close(struct session *s, FILE *table);

/*
 * What went to stdout (the table, --json's records) reached it: 0, or
 * EXIT_RUN_FAILED after saying that WHAT could not be written (a full
 * disk, a reader that went away).
 */
int session_stdout_check(const char *what);

/* One group: warm-ups, then counted reps, strategies interleaved. 0 or 1. */
int run_group(struct session *s, struct group *g);

#endif
