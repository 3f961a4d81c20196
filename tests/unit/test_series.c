/* SPDX-License-Identifier: MIT */
/*
 * --interval's series: readings become intervals whose bytes add up to the
 * total, a figure missing at either end of an interval is null (a gap),
 * never a zero, and the throughput figures leave out the run's short tail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "harness/results/series.h"

static const char *const names[] = { "relay", "source", "sink" };

static struct series_point at(int64_t ms, uint64_t bytes, double relay, double source, double sink)
{
	struct series_point p = { .t_ns = ms * 1000000, .have_bytes = true, .bytes = bytes };

	p.have_cpu[0] = p.have_cpu[1] = p.have_cpu[2] = true;
	p.cpu_s[0] = relay;
	p.cpu_s[1] = source;
	p.cpu_s[2] = sink;
	return p;
}

static void test_intervals_add_up(void **state)
{
	struct interval_series *s = series_new(0.1, 3, names);
	struct series_point p;
	uint64_t sum = 0;

	(void)state;
	assert_non_null(s);
	p = at(0, 0, 1.0, 2.0, 3.0);
	assert_int_equal(series_add(s, &p), 0);
	p = at(100, 1000, 1.05, 2.01, 3.02);
	series_add(s, &p);
	p = at(200, 3000, 1.10, 2.02, 3.04);
	series_add(s, &p);
	p = at(230, 3500, 1.11, 2.03, 3.05);
	series_add(s, &p);
	assert_int_equal(s->n, 3);
	for (size_t i = 0; i < s->n; i++)
		sum += s->iv[i].bytes;
	assert_int_equal(sum, 3500);
	assert_true(fabs(s->iv[0].cpu_s[0] - 0.05) < 1e-9);
	assert_true(fabs(s->iv[2].dt_s - 0.03) < 1e-9);
	/* the 30 ms tail is left out of the throughput figures */
	struct series_stats st = series_throughput(s);
	assert_int_equal(st.n, 2);
	assert_true(fabs(st.min - 10000) < 1e-6 && fabs(st.max - 20000) < 1e-6);
	series_free(s);
}

/* A reading that could not be taken: both intervals it bounds are gaps, null in the record. */
static void test_gap_is_null_not_zero(void **state)
{
	struct interval_series *s = series_new(0.1, 3, names);
	struct series_point p;
	json_t *j, *iv;

	(void)state;
	p = at(0, 0, 0, 0, 0);
	series_add(s, &p);
	p = at(100, 1000, 0.1, 0.1, 0.1);
	p.have_cpu[2] = false;		/* the sink's /proc/PID/stat could not be read */
	series_add(s, &p);
	p = at(200, 2000, 0.2, 0.2, 0.2);
	p.have_bytes = false;		/* nor the receiver's count */
	series_add(s, &p);
	p = at(300, 3000, 0.3, 0.3, 0.3);
	series_add(s, &p);
	j = series_json(s);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 3);
	iv = json_array_get(j, 0);
	assert_true(json_is_integer(json_object_get(iv, "bytes")));
	assert_true(json_is_null(json_object_get(json_object_get(iv, "cpu"), "sink")));
	assert_true(json_is_real(json_object_get(json_object_get(iv, "cpu"), "relay")));
	iv = json_array_get(j, 1);
	assert_true(json_is_null(json_object_get(iv, "bytes")));
	assert_true(json_is_null(json_object_get(json_object_get(iv, "cpu"), "sink")));
	iv = json_array_get(j, 2);
	assert_true(json_is_null(json_object_get(iv, "bytes")));
	assert_true(json_is_real(json_object_get(json_object_get(iv, "cpu"), "sink")));
	/* the gaps are not counted as zero throughput */
	assert_int_equal(series_throughput(s).n, 1);
	json_decref(j);
	series_free(s);
}

/* A counter that went backwards (a different process, a reset) is a gap too. */
static void test_backwards_is_gap(void **state)
{
	struct interval_series *s = series_new(0.1, 3, names);
	struct series_point p;

	(void)state;
	p = at(0, 500, 1, 1, 1);
	series_add(s, &p);
	p = at(100, 400, 0.5, 1, 1);
	series_add(s, &p);
	assert_false(s->iv[0].have_bytes);
	assert_false(s->iv[0].have_cpu[0]);
	assert_true(s->iv[0].have_cpu[1]);
	assert_true(json_is_null(series_stats_json(&(struct series_stats){ 0 })));
	series_free(s);
}

/* Past SERIES_MAX readings, the last interval grows: nothing is lost, the bytes still add up. */
static void test_cap_lengthens_the_last(void **state)
{
	struct interval_series *s = series_new(0.001, 3, names);
	struct series_point p;
	uint64_t sum = 0;

	(void)state;
	for (int64_t k = 0; k <= SERIES_MAX + 5; k++) {
		p = at(k, (uint64_t)k * 10, 0, 0, 0);
		assert_int_equal(series_add(s, &p), 0);
	}
	assert_int_equal(s->n, SERIES_MAX);
	assert_int_equal(s->merged, 5);
	for (size_t i = 0; i < s->n; i++)
		sum += s->iv[i].bytes;
	assert_int_equal(sum, (uint64_t)(SERIES_MAX + 5) * 10);
	assert_true(fabs(s->iv[s->n - 1].dt_s - 0.006) < 1e-9);
	series_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intervals_add_up),
		cmocka_unit_test(test_gap_is_null_not_zero),
		cmocka_unit_test(test_backwards_is_gap),
		cmocka_unit_test(test_cap_lengthens_the_last),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
