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

#include <stdio.h>

/* The counted repetitions of a run, in the order they were added. */
struct rep_set {
	const struct rep_result *reps;
	size_t n;
};

/* summary.csv's text, header and one row a cell, appended to sb.  0 or -errno. */
int summary_csv(const struct rep_set *r, struct sbuf *sb);
/* The readable table (median [min..max], ratio, CPU/GiB), one block a data point. */
void summary_print_table(const struct rep_set *r, FILE *out);

#endif
