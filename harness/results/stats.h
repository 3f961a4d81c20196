/* SPDX-License-Identifier: MIT */
/*
 * Order statistics over repetitions: median, min, max, and ratios paired
 * by repetition index.  Pure functions; an undefined value is NAN.
 */
#ifndef COPYLAB_STATS_H
#define COPYLAB_STATS_H

#include <stddef.h>

/* Median of v[0..n): the middle value, or the mean of the two middle ones. */
double stats_median(const double *v, size_t n);
double stats_min(const double *v, size_t n);
double stats_max(const double *v, size_t n);

/* An interval for the median and the probability that it covers it. */
struct stats_interval {
	double lo, hi;
	double level;		/* e.g. 0.9375 for min..max of 5 samples */
};

struct stats_interval stats_median_interval(const double *v, size_t n);
/*
 * The same at a coverage of at least `level`: the widest order statistics
 * that keep it, or min..max (with its lower coverage, said in .level)
 * when even those cannot.
 */
struct stats_interval stats_median_interval_at(const double *v, size_t n, double level);
/* How often min..max of n samples covers their median: 1 - 2 * 0.5^n. */
double stats_minmax_level(size_t n);

/*
 * An interval for b / a when the samples are not paired (two runs): the
 * order statistics of every b_i / a_j that the Mann-Whitney null
 * distribution allows at `level` (the Hodges-Lehmann interval of the log
 * ratio, moved back by exp).  Figures that are not finite and positive are
 * left out; with too few for `level`, min..max of the ratios and the
 * coverage it has.  NAN when a side has none (or over 10^6 ratios).
 */
struct stats_interval stats_ratio_interval(const double *b, size_t nb, const double *a, size_t na, double level);

struct stats_summary {
	size_t n;
	double median, min, max;	/* NAN when n == 0 */
	struct stats_interval ci;	/* for the median */
};

struct stats_summary stats_summarize(const double *v, size_t n);

/* One figure tagged with the repetition that produced it, for pairing. */
struct stats_sample {
	int rep;
	double value;
};

/*
 * For each sample of a whose rep also appears in b (first match), stores
 * a.value / b.value in out (at most cap of them) and returns how many.
 * Pairs whose quotient is not finite (b.value == 0, NAN) are left out.
 */
size_t stats_paired_ratios(const struct stats_sample *a, size_t na,
			   const struct stats_sample *b, size_t nb,
			   double *out, size_t cap);

#endif
