/* SPDX-License-Identifier: MIT */
/*
 * Order statistics for the summary: a median that does not reorder the
 * caller's data, ratios paired by repetition (see docs/results.md), and an
 * interval for the ratio of two unpaired runs (copylab compare).
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

/* The finite, positive values of v into out: the ones a ratio can use. */
static size_t positive_of(const double *v, size_t n, double *out)
{
	size_t k = 0;

	for (size_t i = 0; v && i < n; i++)
		if (isfinite(v[i]) && v[i] > 0)
			out[k++] = v[i];
	return k;
}

/*
 * P(U <= u) for u = 0..m*n into cdf, U the Mann-Whitney statistic of m and
 * n samples under "no difference".  The counts of U are the coefficients
 * of the Gaussian binomial [m+n choose m](q), built one factor
 * (1 - q^(n+i)) / (1 - q^i) at a time; every partial product is itself a
 * Gaussian binomial, so no coefficient goes negative.
 */
static void mann_whitney_cdf(size_t m, size_t n, double *cdf)
{
	size_t top = m * n;
	long double *c = calloc(top + 1, sizeof(*c)), total = 0;

	if (!c) {
		for (size_t u = 0; u <= top; u++)
			cdf[u] = 0;
		return;
	}
	c[0] = 1;
	for (size_t i = 1; i <= m; i++) {
		for (size_t u = top; u >= n + i; u--)
			c[u] -= c[u - (n + i)];
		for (size_t u = i; u <= top; u++)
			c[u] += c[u - i];
	}
	for (size_t u = 0; u <= top; u++)
		total += c[u];
	for (long double run = 0, *p = c; p <= c + top; p++) {
		run += *p;
		cdf[p - c] = (double)(run / total);
	}
	free(c);
}

struct stats_interval stats_ratio_interval(const double *b, size_t nb, const double *a, size_t na, double level)
{
	struct stats_interval ci = { NAN, NAN, NAN };
	double *pa = malloc((na + 1) * sizeof(*pa)), *pb = malloc((nb + 1) * sizeof(*pb));
	double *r = NULL, *cdf = NULL;
	size_t m, n, mn, k = 1;

	if (!pa || !pb)
		goto out;
	m = positive_of(b, nb, pb);
	n = positive_of(a, na, pa);
	mn = m * n;
	/* The ratios are sorted and the distribution is m*n long: cap the work. */
	if (mn == 0 || mn > 1000000 || !(r = malloc(mn * sizeof(*r))) || !(cdf = malloc((mn + 1) * sizeof(*cdf))))
		goto out;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++)
			r[i * n + j] = pb[i] / pa[j];
	qsort(r, mn, sizeof(*r), cmp_double);
	mann_whitney_cdf(m, n, cdf);
	/*
	 * r(k) .. r(mn+1-k) covers the ratio of the two distributions' centres
	 * with probability 1 - 2 P(U <= k-1): widen k while that stays >= level.
	 */
	while (k + 1 <= (mn + 1) / 2 && 1 - 2 * cdf[k] >= level)
		k++;
	ci.lo = r[k - 1];
	ci.hi = r[mn - k];
	ci.level = 1 - 2 * cdf[k - 1];
out:
	free(pa);
	free(pb);
	free(r);
	free(cdf);
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
