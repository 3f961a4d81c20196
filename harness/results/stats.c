/* SPDX-License-Identifier: MIT */
/*
 * Order statistics for the summary: a median that does not reorder the
 * caller's data, and ratios paired by repetition (see docs/results.md).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

double stats_median(const double *v, size_t n)
{
	double *s, m;

	if (n == 0)
		return NAN;
	/* Sort a copy: callers keep their samples in repetition order. */
	s = malloc(n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

double stats_min(const double *v, size_t n)
{
	double m = NAN;

	for (size_t i = 0; i < n; i++)
		if (i == 0 || v[i] < m)
			m = v[i];
	return m;
}

double stats_max(const double *v, size_t n)
{
	double m = NAN;

	for (size_t i = 0; i < n; i++)
		if (i == 0 || v[i] > m)
			m = v[i];
	return m;
}

/* P(B <= k) for B ~ Binomial(n, 1/2). */
static double binom_half_cdf(size_t n, size_t k)
{
	double p = 0, term = pow(0.5, (double)n);	/* C(n,0) / 2^n */

	for (size_t i = 0; i <= k && i <= n; i++) {
		p += term;
		term = term * (double)(n - i) / (double)(i + 1);
	}
	return p;
}

/*
 * A distribution-free interval for the median: the order statistics
 * x(j) .. x(n+1-j), covering the true median with probability
 * 1 - 2 P(B <= j-1).  j is the largest that still covers 95%; with fewer
 * than 6 samples no pair does, so the interval is min..max and its real
 * (lower) coverage is reported rather than a 95% it does not have.
 */
struct stats_interval stats_median_interval(const double *v, size_t n)
{
	return stats_median_interval_at(v, n, 0.95);
}

struct stats_interval stats_median_interval_at(const double *v, size_t n, double level)
{
	struct stats_interval ci = { NAN, NAN, NAN };
	size_t j = 1;
	double *s;

	if (n == 0 || !(s = malloc(n * sizeof(*s))))
		return ci;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	while (j + 1 <= (n + 1) / 2 && 1 - 2 * binom_half_cdf(n, j) >= level)
		j++;
	ci.lo = s[j - 1];
	ci.hi = s[n - j];
	ci.level = n == 1 ? 0 : 1 - 2 * binom_half_cdf(n, j - 1);
	free(s);
	return ci;
}

double stats_minmax_level(size_t n)
{
	return 1.0 - 2.0 * pow(0.5, (double)n);
}

struct stats_summary stats_summarize(const double *v, size_t n)
{
	return (struct stats_summary){
		.n = n,
		.median = stats_median(v, n),
		.min = stats_min(v, n),
		.max = stats_max(v, n),
		.ci = stats_median_interval(v, n),
	};
}

size_t stats_paired_ratios(const struct stats_sample *a, size_t na,
			   const struct stats_sample *b, size_t nb,
			   double *out, size_t cap)
{
	size_t k = 0;

	/*
	 * Pairing by repetition index cancels drift that hits both strategies
	 * of one round alike (they run interleaved).  Quadratic, but a cell
	 * has a handful of repetitions.
	 */
	for (size_t i = 0; i < na && k < cap; i++) {
		for (size_t j = 0; j < nb; j++) {
			if (b[j].rep != a[i].rep)
				continue;
			double q = a[i].value / b[j].value;

			if (isfinite(q))
				out[k++] = q;
			break;
		}
	}
	return k;
}
