/* SPDX-License-Identifier: MIT */
/*
 * The summary of a run's repetitions (summary.c): one row a cell, as
 * summary.csv's text and as the readable table.  The results handle
 * (write.h) writes the one and prints the other.
 */
#ifndef COPYLAB_SUMMARY_H
#define COPYLAB_SUMMARY_H

#include "harness/model/sbuf.h"
#include "record.h"

#include <stdbool.h>
#include <stdio.h>

/* The counted repetitions of a run, in the order they were added. */
struct rep_set {
	const struct rep_result *reps;
	size_t n;
};

/*
 * The hypervisor's steal worth a word beside a cell's figures: in the
 * median repetition, at least 5% of the machine's CPUs (steal_cpus: steal
 * seconds over wall seconds).  Steal takes time from whatever ran, in some
 * repetitions more than in others: throughput and latency carry it, and
 * pairing repetitions cancels it only where it fell alike.
 */
static inline bool steal_notable(double steal_cpus, double ncpus)
{
	return ncpus > 0 && steal_cpus >= 0.05 * ncpus;
}

/* summary.csv's text, header and one row a cell, appended to sb.  0 or -errno. */
int summary_csv(const struct rep_set *r, struct sbuf *sb);
/* The readable table (median [min..max], ratio, CPU/GiB), one block a data point. */
void summary_print_table(const struct rep_set *r, FILE *out);

#endif
