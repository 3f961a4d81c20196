/* SPDX-License-Identifier: MIT */
/* The echo latency histogram: exact small values, percentiles within 1.6%. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "harness/measure/latency.h"

static void test_small_values_are_exact(void **state)
{
	struct latency_hist *h = calloc(1, sizeof(*h));

	for (uint64_t v = 1; v <= 100; v++)
		latency_add(h, v);
	assert_int_equal(latency_quantile(h, 0.5), 50);
	assert_int_equal(latency_quantile(h, 0.99), 99);
	assert_int_equal(latency_quantile(h, 1.0), 100);
	assert_int_equal(h->count, 100);
	free(h);
}

static void assert_close(uint64_t got, uint64_t want)
{
	double err = ((double)got - (double)want) / (double)want;

	if (err < -0.016 || err > 0.016)
		fail_msg("got %llu, wanted %llu within 1.6%%", (unsigned long long)got, (unsigned long long)want);
}

static void test_percentiles_of_a_uniform_spread(void **state)
{
	struct latency_hist *h = calloc(1, sizeof(*h));

	/* 1 µs .. 100 ms in 1 µs steps, shuffled order does not matter. */
	for (uint64_t v = 100000; v >= 1; v--)
		latency_add(h, v * 1000);
	assert_close(latency_quantile(h, 0.50), 50000000);
	assert_close(latency_quantile(h, 0.90), 90000000);
	assert_close(latency_quantile(h, 0.99), 99000000);
	assert_close(latency_quantile(h, 0.999), 99900000);
	assert_int_equal(h->max_ns, 100000000);
	assert_int_equal(h->min_ns, 1000);
	free(h);
}

static void test_tail_is_seen(void **state)
{
	struct latency_hist *h = calloc(1, sizeof(*h));
	struct latency_summary s = { .outstanding = 8 };

	/* 999 fast round trips and one slow: p99.9 and max see it, p99 does not. */
	for (int i = 0; i < 999; i++)
		latency_add(h, 20000);
	latency_add(h, 5000000);
	latency_summarize(h, &s);
	assert_int_equal(s.count, 1000);
	assert_int_equal(s.outstanding, 8);
	assert_true(s.p99_us > 19.6 && s.p99_us < 20.4);
	assert_true(s.p999_us > 19.6 && s.p999_us < 20.4);	/* rank 999 of 1000 */
	assert_true(s.max_us == 5000.0);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_percentiles_of_a_uniform_spread),
		cmocka_unit_test(test_tail_is_seen),
	};

	return cmocka_run_group_tests_name("latency", tests, NULL, NULL);
}
