/* SPDX-License-Identifier: MIT */
/*
 * What `copylab compare` decides, without I/O: which of two runs'
 * conditions and facts (env.json) differ, which records belong to a
 * summary row, and B/A of a figure with its interval and verdict.
 */
#ifndef COPYLAB_REPORT_COMPARE_DIFF_H
#define COPYLAB_REPORT_COMPARE_DIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "harness/results/read.h"

/* One key of env.json whose values differ: "conditions.sndbuf", "default", "4096". */
struct env_diff {
	char key[160];
	char a[200], b[200];	/* "(absent)" where a run lacks the key */
};

struct env_diffs {
	struct env_diff *v;	/* malloc'd: env_diffs_free */
	size_t n;
	size_t nconditions;	/* v[0..nconditions) are conditions.*, then the machine's facts (verdict-changing first) */
	bool a_conditions, b_conditions;	/* whether each env.json recorded its conditions */
};

/*
 * The keys of env A and env B (either may be NULL) that differ, at every
 * depth: the run's conditions first (only when both recorded them), then
 * the facts that can turn a verdict around (cpufreq, mitigations,
 * net_sysctl and a link's steering, wherever they sit), then the other
 * facts of the machine and build.  What differs between any two runs
 * is left out: the run id, the start time, memcpy's measured rates, the
 * command line (it names the output directory), the pids in namespace
 * names and reference counts.
 */
struct env_diffs env_differences(json_t *a, json_t *b);
void env_diffs_free(struct env_diffs *d);

enum compare_verdict { CMP_BEYOND_NOISE, CMP_NO_DIFFERENCE, CMP_TOO_FEW, CMP_NO_FIGURE };

/* B/A of one figure over two runs' repetitions. */
struct compare_ratio {
	double ratio;		/* median of B / median of A */
	double lo, hi, level;	/* stats_ratio_interval at COMPARE_LEVEL */
	size_t na, nb;		/* repetitions with the figure on each side */
	enum compare_verdict verdict;
};

#define COMPARE_LEVEL 0.95
#define COMPARE_MIN_REPS 3

/*
 * The estimate from each side's values (NAN and non-positive ones left
 * out): beyond noise when the interval excludes 1.0, no difference
 * measured when it holds it, too few reps under COMPARE_MIN_REPS on a side.
 */
struct compare_ratio compare_ratio_of(const double *b, size_t nb, const double *a, size_t na);
/* "beyond noise", "no difference measured", "too few reps", "no figure". */
const char *compare_verdict_text(enum compare_verdict v);

#endif
