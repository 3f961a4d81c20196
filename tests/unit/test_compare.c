/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/report/compare_diff.c: which conditions of two
 * runs differ (and in which order), which records are a summary row's,
 * and B/A's verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "harness/report/compare_diff.h"

#define UNUSED __attribute__((unused))

static json_t *env(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	assert_non_null(j);
	return j;
}

/* The condition that changed comes first, before a fact of the machine; the run's own ids never show. */
static void test_conditions_first(void **state UNUSED)
{
	json_t *a = env("{\"run_id\":\"1\",\"created_utc\":\"x\",\"kernel\":{\"release\":\"6.1\"},"
			"\"memcpy\":{\"dram_bytes_per_s\":1},\"transport\":{\"ns\":\"copylab-4242-1-a\"},"
			"\"conditions\":{\"argv\":[\"copylab\",\"--out\",\"a\"],\"sndbuf\":null,\"pin\":\"auto\"}}");
	json_t *b = env("{\"run_id\":\"2\",\"created_utc\":\"y\",\"kernel\":{\"release\":\"6.2\"},"
			"\"memcpy\":{\"dram_bytes_per_s\":2},\"transport\":{\"ns\":\"copylab-977-3-a\"},"
			"\"conditions\":{\"argv\":[\"copylab\",\"--out\",\"b\"],\"sndbuf\":4096,\"pin\":\"auto\"}}");
	struct env_diffs d = env_differences(a, b);

	assert_int_equal(d.n, 2);
	assert_int_equal(d.nconditions, 1);
	assert_string_equal(d.v[0].key, "conditions.sndbuf");
	assert_string_equal(d.v[0].a, "default");
	assert_string_equal(d.v[0].b, "4096");
	assert_string_equal(d.v[1].key, "kernel.release");
	assert_true(d.a_conditions && d.b_conditions);
	env_diffs_free(&d);
	json_decref(a);
	json_decref(b);
}

/*
 * What only one run has is a difference, named once at its top (the
 * transport object, not each fact of it); without conditions in A, only
 * the facts are compared.
 */
static void test_absent_and_old_runs(void **state UNUSED)
{
	json_t *a = env("{\"kernel\":{\"release\":\"6.1\"},\"thp_enabled\":\"madvise\"}");
	json_t *b = env("{\"kernel\":{\"release\":\"6.1\"},\"thp_enabled\":\"madvise\",\"transport\":{\"mtu\":1500,\"qdisc\":[1]},"
			"\"conditions\":{\"sndbuf\":4096}}");
	struct env_diffs d = env_differences(a, b);

	assert_false(d.a_conditions);
	assert_true(d.b_conditions);
	assert_int_equal(d.nconditions, 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].key, "transport");
	assert_string_equal(d.v[0].a, "(absent)");
	assert_string_equal(d.v[0].b, "(recorded)");
	env_diffs_free(&d);
	d = env_differences(a, a);
	assert_int_equal(d.n, 0);
	env_diffs_free(&d);
	json_decref(a);
	json_decref(b);
}

/* A record is its row's when every column of the cell matches; absent columns read as the defaults. */
static void test_record_in_row(void **state UNUSED)
{
	const char *csv = "scenario,transport,bytes,block,strategy,cache,outstanding,conns,pipe_size_asked\n"
			  "serve,tcp,1024,512,splice,warm,0,1,0\n"
			  "serve,tcp,1024,512,splice,cold,0,1,0\n";
	struct rr_csv c = { 0 };
	char err[200];
	json_t *warm = env("{\"scenario\":\"serve\",\"transport\":\"tcp\",\"bytes\":1024,\"block\":512,"
			   "\"strategy\":\"splice\",\"cache\":\"warm\",\"latency\":null}");
	json_t *old = env("{\"scenario\":\"serve\",\"transport\":\"tcp\",\"bytes\":1024,\"block\":512,"
			  "\"strategy\":\"splice\"}");
	json_t *other = env("{\"scenario\":\"serve\",\"transport\":\"tcp\",\"bytes\":2048,\"block\":512,"
			    "\"strategy\":\"splice\"}");

	assert_int_equal(rr_csv_parse(csv, "summary.csv", &c, err, sizeof(err)), 0);
	assert_true(record_in_row(warm, &c, 0));
	assert_false(record_in_row(warm, &c, 1));
	assert_true(record_in_row(old, &c, 0));
	assert_false(record_in_row(other, &c, 0));
	rr_csv_free(&c);
	json_decref(warm);
	json_decref(old);
	json_decref(other);
}

/* Beyond noise only when the interval excludes 1; under 3 reps a side no verdict is given. */
static void test_verdicts(void **state UNUSED)
{
	const double a[] = { 100, 104, 96, 102, 98 }, same[] = { 101, 97, 103, 99, 100 };
	const double half[] = { 50, 52, 48, 51, 49 }, undefined[] = { NAN, 0, -1 };
	struct compare_ratio r;

	r = compare_ratio_of(half, 5, a, 5);
	assert_int_equal(r.verdict, CMP_BEYOND_NOISE);
	assert_true(fabs(r.ratio - 0.5) < 1e-12 && r.hi < 1 && r.lo < r.ratio && r.hi > r.ratio);
	r = compare_ratio_of(same, 5, a, 5);
	assert_int_equal(r.verdict, CMP_NO_DIFFERENCE);
	assert_true(r.lo < 1 && r.hi > 1);
	r = compare_ratio_of(half, 2, a, 5);
	assert_int_equal(r.verdict, CMP_TOO_FEW);
	assert_int_equal(r.nb, 2);
	r = compare_ratio_of(undefined, 3, a, 5);
	assert_int_equal(r.verdict, CMP_NO_FIGURE);
	assert_true(isnan(r.ratio));
	assert_string_equal(compare_verdict_text(CMP_BEYOND_NOISE), "beyond noise");
	assert_string_equal(compare_verdict_text(CMP_NO_DIFFERENCE), "no difference measured");
	assert_string_equal(compare_verdict_text(CMP_TOO_FEW), "too few reps");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conditions_first),
		cmocka_unit_test(test_absent_and_old_runs),
		cmocka_unit_test(test_record_in_row),
		cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
