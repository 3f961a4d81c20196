/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/results/stats.c: median, min, max and paired ratios,
 * including the even, single and empty cases the summary relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "harness/results/stats.h"

/* cmocka passes state to every test; most do not need it. */
#define UNUSED __attribute__((unused))

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_median_odd(void **state UNUSED)
{
	const double v[] = { 300, 100, 200 };

	assert_true(stats_median(v, N(v)) == 200);
}

static void test_median_even_is_mean_of_middle_two(void **state UNUSED)
{
	const double v[] = { 4, 1, 3, 2 };

	assert_true(stats_median(v, N(v)) == 2.5);
}

static void test_median_one(void **state UNUSED)
{
	const double v[] = { 7.25 };

	assert_true(stats_median(v, 1) == 7.25);
	assert_true(stats_min(v, 1) == 7.25);
	assert_true(stats_max(v, 1) == 7.25);
}

static void test_empty_is_nan(void **state UNUSED)
{
	struct stats_summary s = stats_summarize(NULL, 0);

	assert_true(isnan(stats_median(NULL, 0)));
	assert_true(isnan(stats_min(NULL, 0)));
	assert_true(isnan(stats_max(NULL, 0)));
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.median) && isnan(s.min) && isnan(s.max));
}

static void test_median_keeps_input_order(void **state UNUSED)
{
	double v[] = { 3, 1, 2 };

	stats_median(v, N(v));
	assert_true(v[0] == 3 && v[1] == 1 && v[2] == 2);
}

static void test_min_max(void **state UNUSED)
{
	const double v[] = { 5, -1, 9, 0 };

	assert_true(stats_min(v, N(v)) == -1);
	assert_true(stats_max(v, N(v)) == 9);
}

static void test_summarize(void **state UNUSED)
{
	const double v[] = { 150, 600, 300 };
	struct stats_summary s = stats_summarize(v, N(v));

	assert_int_equal(s.n, 3);
	assert_true(s.median == 300 && s.min == 150 && s.max == 600);
}

static void test_paired_ratios_by_rep(void **state UNUSED)
{
	/* Out of order on purpose: pairing goes by rep, not by position. */
	const struct stats_sample a[] = { { 3, 600 }, { 1, 150 }, { 2, 300 } };
	const struct stats_sample b[] = { { 1, 100 }, { 2, 200 }, { 3, 300 } };
	double out[3];
	size_t n = stats_paired_ratios(a, N(a), b, N(b), out, N(out));

	assert_int_equal(n, 3);
	assert_true(out[0] == 2 && out[1] == 1.5 && out[2] == 1.5);
	assert_true(stats_median(out, n) == 1.5);
}

static void test_paired_ratios_skip_unpaired_and_undefined(void **state UNUSED)
{
	/* rep 2 has no partner; rep 3's partner is 0 (a failed figure). */
	const struct stats_sample a[] = { { 1, 10 }, { 2, 20 }, { 3, 30 }, { 4, 40 } };
	const struct stats_sample b[] = { { 1, 5 }, { 3, 0 }, { 4, 80 } };
	double out[4];
	size_t n = stats_paired_ratios(a, N(a), b, N(b), out, N(out));

	assert_int_equal(n, 2);
	assert_true(out[0] == 2 && out[1] == 0.5);
}

static void test_paired_ratios_respect_cap_and_empty(void **state UNUSED)
{
	const struct stats_sample a[] = { { 1, 1 }, { 2, 2 } };
	double out[1];

	assert_int_equal(stats_paired_ratios(a, N(a), a, N(a), out, 1), 1);
	assert_true(out[0] == 1);
	assert_int_equal(stats_paired_ratios(a, N(a), NULL, 0, out, 1), 0);
	assert_int_equal(stats_paired_ratios(NULL, 0, a, N(a), out, 1), 0);
}

/*
 * The median's interval uses order statistics: min..max below 6 samples
 * (coverage 1 - 2/2^n, reported as it is), and the textbook pairs above
 * (n = 9: x(2)..x(8), 96.1%; n = 17: x(5)..x(13), 95.1%).
 */
static void test_median_interval(void **state UNUSED)
{
	double v[17] = { 9, 1, 8, 2, 7, 3, 6, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17 };
	struct stats_interval ci;

	ci = stats_median_interval(v, 5);		/* 9 1 8 2 7 */
	assert_true(ci.lo == 1 && ci.hi == 9);
	assert_true(fabs(ci.level - 0.9375) < 1e-12);
	ci = stats_median_interval(v, 9);		/* 1..9 */
	assert_true(ci.lo == 2 && ci.hi == 8);
	assert_true(fabs(ci.level - 0.9609375) < 1e-9);
	ci = stats_median_interval(v, 17);		/* 1..17 */
	assert_true(ci.lo == 5 && ci.hi == 13);
	assert_true(ci.level >= 0.95 && ci.level < 0.96);
	ci = stats_median_interval(v, 0);
	assert_true(isnan(ci.lo) && isnan(ci.hi));
}

/* min..max of 3 samples covers the median 75% of the time, of 6: 96.9%. */
static void test_minmax_level(void **state UNUSED)
{
	assert_true(stats_minmax_level(3) == 0.75);
	assert_true(fabs(stats_minmax_level(6) - 0.96875) < 1e-12);
	assert_true(stats_minmax_level(1) == 0);
}

/*
 * Two unpaired samples (two runs): every b_i / a_j, and the order statistics
 * of them that the Mann-Whitney distribution allows (Hodges-Lehmann).  3 and
 * 3: no pair reaches 95% (P(U = 0) = 1/20 per side), so min..max of the 9
 * ratios at its own 90%; 5 and 5: the textbook critical U of 2, so the 3rd
 * smallest to the 3rd largest of 25, covering 1 - 2 * 4/252.
 */
static void test_ratio_interval_exact(void **state UNUSED)
{
	const double a[] = { 1, 2, 3 }, b[] = { 3, 1, 2 };
	const double a5[] = { 100, 110, 90, 105, 95 };
	double b5[5];
	struct stats_interval ci;

	ci = stats_ratio_interval(b, 3, a, 3, 0.95);
	assert_true(fabs(ci.lo - 1.0 / 3) < 1e-12 && ci.hi == 3);
	assert_true(fabs(ci.level - 0.9) < 1e-12);
	for (int i = 0; i < 5; i++)
		b5[i] = 2 * a5[(i + 2) % 5];
	ci = stats_ratio_interval(b5, 5, a5, 5, 0.95);
	assert_true(fabs(ci.level - (1 - 8.0 / 252)) < 1e-12);
	/* The 25 ratios sorted: 2*x/y over x, y in a5; the 3rd from each end. */
	assert_true(fabs(ci.lo - 2 * 95.0 / 110) < 1e-12);
	assert_true(fabs(ci.hi - 2 * 110.0 / 95) < 1e-12);
}

/* A doubling is beyond the noise of +-10%; the same runs are not. */
static void test_ratio_interval_decides(void **state UNUSED)
{
	const double a[] = { 100, 104, 96, 102, 98, 101 }, same[] = { 99, 103, 97, 100, 101, 102 };
	double twice[6];
	struct stats_interval ci;

	for (int i = 0; i < 6; i++)
		twice[i] = 1.5 * a[5 - i];
	ci = stats_ratio_interval(twice, 6, a, 6, 0.95);
	assert_true(ci.lo > 1.3 && ci.hi < 1.7 && ci.level >= 0.95);
	ci = stats_ratio_interval(same, 6, a, 6, 0.95);
	assert_true(ci.lo < 1 && ci.hi > 1 && ci.level >= 0.95);
}

/* Zero, negative and undefined figures give no ratio; nothing left: NAN. */
static void test_ratio_interval_drops_undefined(void **state UNUSED)
{
	const double a[] = { 0, 2, NAN, 4, -1 }, b[] = { 4, 8 };
	struct stats_interval ci;

	ci = stats_ratio_interval(b, 2, a, 5, 0.95);	/* a is {2, 4} */
	assert_true(ci.lo == 1 && ci.hi == 4);
	assert_true(fabs(ci.level - (1 - 2.0 / 6)) < 1e-12);
	ci = stats_ratio_interval(b, 2, a, 1, 0.95);
	assert_true(isnan(ci.lo) && isnan(ci.hi));
	ci = stats_ratio_interval(NULL, 0, a, 5, 0.95);
	assert_true(isnan(ci.lo) && isnan(ci.hi));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_odd),
		cmocka_unit_test(test_median_even_is_mean_of_middle_two),
		cmocka_unit_test(test_median_one),
		cmocka_unit_test(test_empty_is_nan),
		cmocka_unit_test(test_median_keeps_input_order),
		cmocka_unit_test(test_min_max),
		cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_paired_ratios_by_rep),
		cmocka_unit_test(test_paired_ratios_skip_unpaired_and_undefined),
		cmocka_unit_test(test_paired_ratios_respect_cap_and_empty),
		cmocka_unit_test(test_median_interval),
		cmocka_unit_test(test_minmax_level),
		cmocka_unit_test(test_ratio_interval_exact),
		cmocka_unit_test(test_ratio_interval_decides),
		cmocka_unit_test(test_ratio_interval_drops_undefined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
