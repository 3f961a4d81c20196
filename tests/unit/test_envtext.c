/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/report/envtext.c: the report's one line for each
 * verdict-changing fact of env.json, from made-up env.json objects: the
 * values shown, a null fact shown with its reason, other keys left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness/report/envtext.h"

#define UNUSED __attribute__((unused))

static char line[2048];

/* The summary of KEY of the env.json object TEXT, into line; false when envtext leaves KEY alone. */
static bool summary(const char *text, const char *key)
{
	json_t *o = json_loads(text, 0, NULL);
	struct sbuf s = { 0 };
	bool known;

	assert_non_null(o);
	known = envtext_fact(o, key, &s);
	snprintf(line, sizeof(line), "%s", s.p ? s.p : "");
	free(s.p);
	json_decref(o);
	return known;
}

static void test_cpufreq(void **state UNUSED)
{
	assert_true(summary("{\"cpufreq\":{\"governor\":{\"policy0\":\"performance\",\"policy1\":\"performance\"},"
			    "\"boost\":false,\"boost_source\":\"x\"}}", "cpufreq"));
	assert_string_equal(line, "governor performance (2 policies); boost off");
	assert_true(summary("{\"cpufreq\":{\"governor\":{\"policy0\":\"performance\",\"policy1\":\"powersave\"},"
			    "\"boost\":true}}", "cpufreq"));
	assert_string_equal(line, "governor policy0 performance, policy1 powersave; boost on");
	assert_true(summary("{\"cpufreq\":{\"governor\":null,\"governor_note\":\"no cpufreq driver\","
			    "\"boost\":null,\"boost_note\":\"neither\"}}", "cpufreq"));
	assert_string_equal(line, "governor not known (no cpufreq driver); boost not known (neither)");
}

static void test_mitigations(void **state UNUSED)
{
	assert_true(summary("{\"mitigations\":{\"vulnerabilities\":{\"meltdown\":\"Not affected\",\"mds\":\"Not affected\","
			    "\"spectre_v2\":\"Mitigation: Retpolines\",\"srbds\":\"Vulnerable\","
			    "\"tsa\":\"Unknown: hypervisor\"},\"cmdline\":\"auto,nosmt\"}}", "mitigations"));
	assert_string_equal(line, "mitigations=auto,nosmt on the kernel command line; vulnerable: srbds; "
			    "mitigated: spectre_v2; unknown: tsa; 2 not affected");
	assert_true(summary("{\"mitigations\":{\"vulnerabilities\":{\"meltdown\":\"Not affected\"},\"cmdline\":null,"
			    "\"cmdline_note\":\"none\"}}", "mitigations"));
	assert_string_equal(line, "no mitigations= on the kernel command line (the kernel's default); "
			    "vulnerable: none; mitigated: none; unknown: none; 1 not affected");
}

static void test_sysctl(void **state UNUSED)
{
	assert_true(summary("{\"net_sysctl\":{\"tcp_rmem\":{\"min\":4096,\"default\":131072,\"max\":6291456},"
			    "\"tcp_wmem\":null,\"tcp_wmem_note\":\"unreadable\",\"optmem_max\":20480,"
			    "\"rmem_max\":212992,\"wmem_max\":212992}}", "net_sysctl"));
	assert_string_equal(line, "tcp_rmem 4096 131072 6291456; tcp_wmem not known (unreadable); optmem_max 20480; "
			    "rmem_max 212992; wmem_max 212992");
	/* The whole fact null: its own note. */
	assert_true(summary("{\"net_sysctl\":null,\"net_sysctl_note\":\"setns: EPERM\"}", "net_sysctl"));
	assert_string_equal(line, "net_sysctl not known (setns: EPERM)");
}

static void test_steering(void **state UNUSED)
{
	assert_true(summary("{\"steering\":{\"rps\":{\"rx-0\":\"none\"},\"xps\":null,"
			    "\"xps_note\":\"no /sys/class/net/v/queues/tx-*/xps_cpus: the kernel shows none for this device\","
			    "\"irqs\":null,\"irqs_note\":\"no IRQs: a virtual device (no /sys/class/net/v/device)\"}}",
			    "steering"));
	assert_string_equal(line, "RPS none (1 queue); XPS not offered by the kernel for this device; "
			    "IRQs none: a virtual device");
	assert_true(summary("{\"steering\":{\"rps\":{\"rx-0\":\"0-1\",\"rx-1\":\"none\"},\"xps\":{\"tx-0\":\"0\"},"
			    "\"irqs\":{\"24\":\"0-1\",\"25\":\"0-1\"}}}", "steering"));
	assert_string_equal(line, "RPS rx-0 0-1, rx-1 none; XPS 0 (1 queue); IRQs 0-1 (2 IRQs)");
}

static void test_other_keys(void **state UNUSED)
{
	assert_false(summary("{\"kernel\":{\"release\":\"6.1\"}}", "kernel"));
	assert_string_equal(line, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpufreq),
		cmocka_unit_test(test_mitigations),
		cmocka_unit_test(test_sysctl),
		cmocka_unit_test(test_steering),
		cmocka_unit_test(test_other_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
