/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/report/compare_diff.c: which conditions of two
 * runs differ (and in which order), and B/A's verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "harness/measure/env.h"
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

/* The diff for KEY, or NULL. */
static const struct env_diff *named(const struct env_diffs *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].key, key))
			return &d->v[i];
	return NULL;
}

/*
 * The facts that can turn a verdict around come before the rest of the
 * machine's, wherever they sit (a link's steering inside the transport),
 * so the 40 lines compare prints never cut them off.
 */
static void test_verdict_facts_first(void **state UNUSED)
{
	json_t *a = env("{\"kernel\":{\"release\":\"6.1\"},\"cpufreq\":{\"governor\":{\"policy0\":\"powersave\"}},"
			"\"transport\":{\"mtu\":1500,\"ends\":[{\"steering\":{\"rps\":{\"rx-0\":\"none\"}}}]},"
			"\"net_sysctl\":{\"tcp_rmem\":{\"min\":4096,\"default\":131072,\"max\":6291456}}}");
	json_t *b = env("{\"kernel\":{\"release\":\"6.2\"},\"cpufreq\":{\"governor\":{\"policy0\":\"performance\"}},"
			"\"transport\":{\"mtu\":9000,\"ends\":[{\"steering\":{\"rps\":{\"rx-0\":\"0-1\"}}}]},"
			"\"net_sysctl\":{\"tcp_rmem\":{\"min\":4096,\"default\":87380,\"max\":6291456}}}");
	struct env_diffs d = env_differences(a, b);

	assert_int_equal(d.n, 5);
	assert_string_equal(d.v[0].key, "cpufreq.governor.policy0");
	assert_string_equal(d.v[1].key, "transport.ends[0].steering.rps.rx-0");
	assert_string_equal(d.v[2].key, "net_sysctl.tcp_rmem.default");
	assert_string_equal(d.v[2].a, "131072");
	assert_string_equal(d.v[2].b, "87380");
	assert_string_equal(d.v[3].key, "kernel.release");
	assert_string_equal(d.v[4].key, "transport.mtu");
	env_diffs_free(&d);
	json_decref(a);
	json_decref(b);
}

/*
 * Two env.json as copylab writes them, the second with another tcp_rmem,
 * governor, optmem_max, mitigations= and workdir filesystem: compare names
 * each, and nothing else.
 */
static void test_collected_facts_flagged(void **state UNUSED)
{
	char *argv[] = { "copylab", "run", NULL };
	struct env_conditions c = { .argv = argv, .workdir = "/var/tmp" };
	json_t *a = env_collect(), *b, *sys, *rmem, *cond;
	struct env_diffs d;

	assert_non_null(a);
	json_object_set_new(a, "conditions", env_conditions_json(&c));
	sys = json_object_get(a, "net_sysctl");
	rmem = json_object_get(sys, "tcp_rmem");
	/* This machine's values are readable: the fields are there with their types. */
	assert_true(json_is_integer(json_object_get(rmem, "default")));
	assert_true(json_is_integer(json_object_get(sys, "optmem_max")));
	assert_true(json_is_object(json_object_get(a, "cpufreq")));
	assert_non_null(json_object_get(json_object_get(a, "cpufreq"), "governor"));
	assert_true(json_is_object(json_object_get(json_object_get(a, "mitigations"), "vulnerabilities")));
	b = json_deep_copy(a);
	sys = json_object_get(b, "net_sysctl");
	rmem = json_object_get(sys, "tcp_rmem");
	json_object_set_new(rmem, "default", json_integer(json_integer_value(json_object_get(rmem, "default")) + 1));
	json_object_set_new(sys, "optmem_max", json_integer(json_integer_value(json_object_get(sys, "optmem_max")) * 2));
	json_object_set_new(json_object_get(b, "cpufreq"), "governor", json_pack("{s:s}", "policy0", "test-governor"));
	json_object_set_new(json_object_get(b, "mitigations"), "cmdline", json_string("test-mitigations"));
	cond = json_object_get(b, "conditions");
	json_object_set_new(cond, "workdir_fs", json_string("test-fs"));

	d = env_differences(a, b);
	assert_non_null(named(&d, "conditions.workdir_fs"));
	assert_non_null(named(&d, "net_sysctl.tcp_rmem.default"));
	assert_non_null(named(&d, "net_sysctl.optmem_max"));
	assert_non_null(named(&d, "mitigations.cmdline"));
	/* A governor where A had none (null here) or another one. */
	assert_true(named(&d, "cpufreq.governor") || named(&d, "cpufreq.governor.policy0"));
	for (size_t i = 0; i < d.n; i++)
		assert_true(!strncmp(d.v[i].key, "net_sysctl.", 11) || !strncmp(d.v[i].key, "cpufreq.", 8) ||
			    !strcmp(d.v[i].key, "mitigations.cmdline") || !strcmp(d.v[i].key, "conditions.workdir_fs"));
	env_diffs_free(&d);
	json_decref(a);
	json_decref(b);
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
		cmocka_unit_test(test_verdict_facts_first),
		cmocka_unit_test(test_collected_facts_flagged),
		cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
