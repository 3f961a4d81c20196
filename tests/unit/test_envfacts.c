/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/measure/envfacts.c: the parsers of sysctl, sysfs
 * and command-line text (strings in, no I/O), and the collectors over a
 * made-up /sys and /proc tree: each fact read where it is, null with a
 * reason where it is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/measure/envfacts.h"

#define UNUSED __attribute__((unused))

static void test_triple(void **state UNUSED)
{
	long long v[3];

	assert_int_equal(envf_parse_triple("4096\t131072\t6291456\n", v), 0);
	assert_true(v[0] == 4096 && v[1] == 131072 && v[2] == 6291456);
	assert_int_equal(envf_parse_triple("4096 131072", v), -EINVAL);
	assert_int_equal(envf_parse_triple("4096 131072 6291456 7", v), -EINVAL);
	assert_int_equal(envf_parse_triple("-1 2 3", v), -EINVAL);
	assert_int_equal(envf_parse_triple("99999999999999999999 2 3", v), -EINVAL);
	assert_int_equal(envf_parse_triple("", v), -EINVAL);
	assert_int_equal(envf_parse_triple(NULL, v), -EINVAL);
}

static void test_integer_and_flag(void **state UNUSED)
{
	long long v;

	assert_int_equal(envf_parse_integer(" 131072\n", &v), 0);
	assert_true(v == 131072);
	assert_int_equal(envf_parse_integer("12a", &v), -EINVAL);
	assert_int_equal(envf_parse_integer("", &v), -EINVAL);
	assert_int_equal(envf_parse_flag("0\n"), 0);
	assert_int_equal(envf_parse_flag("1"), 1);
	assert_int_equal(envf_parse_flag("2"), -1);
	assert_int_equal(envf_parse_flag("on"), -1);
	assert_int_equal(envf_parse_flag(""), -1);
}

static void test_cmdline(void **state UNUSED)
{
	char v[64];

	assert_true(envf_cmdline_mitigations("mitigations=auto,no_guest_host console=ttyS0 quiet -- --init", v,
					     sizeof(v)));
	assert_string_equal(v, "auto,no_guest_host");
	/* The kernel takes the last one. */
	assert_true(envf_cmdline_mitigations("mitigations=off nosmt mitigations=auto,nosmt\n", v, sizeof(v)));
	assert_string_equal(v, "auto,nosmt");
	/* After "--" the arguments are init's. */
	assert_false(envf_cmdline_mitigations("quiet -- mitigations=off", v, sizeof(v)));
	assert_false(envf_cmdline_mitigations("nomitigations=off spectre_v2=off", v, sizeof(v)));
	assert_false(envf_cmdline_mitigations("", v, sizeof(v)));
	assert_true(envf_cmdline_mitigations("mitigations=", v, sizeof(v)));
	assert_string_equal(v, "");
}

static void mask_is(const char *mask, const char *want)
{
	char out[64];

	assert_int_equal(envf_mask_cpus(mask, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_mask(void **state UNUSED)
{
	char tiny[4];

	mask_is("00000000,00000003\n", "0-1");
	mask_is("0", "none");
	mask_is("00000000,00000000", "none");
	mask_is("f0", "4-7");
	mask_is("5", "0,2");
	mask_is("1,00000000", "32");
	mask_is("80000001,ffffffff", "0-32,63");
	mask_is("FF", "0-7");
	assert_int_equal(envf_mask_cpus("zz", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(envf_mask_cpus(",1", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(envf_mask_cpus("1,,1", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(envf_mask_cpus("1,", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(envf_mask_cpus("", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(envf_mask_cpus(NULL, tiny, sizeof(tiny)), -EINVAL);
	/* "none" does not fit in 4 bytes, nor "0,2,4-5": refused, not cut short (found by fuzz_envfacts). */
	assert_int_equal(envf_mask_cpus("00", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(envf_mask_cpus("35", tiny, sizeof(tiny)), -EINVAL);
}

static void test_irq_and_vuln(void **state UNUSED)
{
	unsigned irq;

	assert_true(envf_irq_name("24", &irq));
	assert_int_equal(irq, 24);
	assert_false(envf_irq_name("a1", &irq));
	assert_false(envf_irq_name("-1", &irq));
	assert_false(envf_irq_name("", &irq));
	assert_false(envf_irq_name("99999999999", &irq));
	assert_string_equal(envf_vuln_state("Not affected"), "not affected");
	assert_string_equal(envf_vuln_state("Mitigation: Retpolines; IBPB: conditional"), "mitigated");
	assert_string_equal(envf_vuln_state("Vulnerable: Clear CPU buffers attempted, no microcode"), "vulnerable");
	assert_string_equal(envf_vuln_state("Unknown: Dependent on hypervisor status"), "unknown");
	assert_string_equal(envf_vuln_state(NULL), "unknown");
}

/* ---- the collectors over a made-up tree ----------------------------------------- */

static char root[64];

static void put(const char *path, const char *text)
{
	char full[512], *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	for (slash = strchr(full + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(full, 0755);
		*slash = '/';
	}
	if (!text) {
		mkdir(full, 0755);
		return;
	}
	assert_non_null(f = fopen(full, "w"));
	fputs(text, f);
	fclose(f);
}

static int make_root(void **state UNUSED)
{
	snprintf(root, sizeof(root), "/tmp/test_envfacts.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state UNUSED)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void test_cpufreq_absent_then_present(void **state UNUSED)
{
	json_t *o = envf_cpufreq(root);

	/* Nothing there: null with the reason, never a guess. */
	assert_true(json_is_null(json_object_get(o, "governor")));
	assert_non_null(strstr(str(o, "governor_note"), "no cpufreq driver"));
	assert_true(json_is_null(json_object_get(o, "boost")));
	assert_non_null(str(o, "boost_note"));
	json_decref(o);

	put("/sys/devices/system/cpu/intel_pstate/no_turbo", "1\n");
	put("/sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "performance\n");
	put("/sys/devices/system/cpu/cpufreq/policy1/scaling_governor", "powersave\n");
	o = envf_cpufreq(root);
	assert_string_equal(str(json_object_get(o, "governor"), "policy0"), "performance");
	assert_string_equal(str(json_object_get(o, "governor"), "policy1"), "powersave");
	assert_null(json_object_get(o, "governor_note"));
	/* no_turbo 1: boost off. */
	assert_true(json_is_false(json_object_get(o, "boost")));
	assert_non_null(strstr(str(o, "boost_source"), "no_turbo"));
	json_decref(o);

	put("/sys/devices/system/cpu/cpufreq/boost", "1\n");
	o = envf_cpufreq(root);
	assert_true(json_is_true(json_object_get(o, "boost")));
	assert_string_equal(str(o, "boost_source"), "/sys/devices/system/cpu/cpufreq/boost");
	json_decref(o);
}

static void test_mitigations(void **state UNUSED)
{
	json_t *o = envf_mitigations(root), *v;

	assert_true(json_is_null(json_object_get(o, "vulnerabilities")));
	assert_non_null(str(o, "vulnerabilities_note"));
	assert_true(json_is_null(json_object_get(o, "cmdline")));
	json_decref(o);

	put("/sys/devices/system/cpu/vulnerabilities/meltdown", "Not affected\n");
	put("/sys/devices/system/cpu/vulnerabilities/spectre_v2", "Mitigation: Retpolines; IBPB: conditional\n");
	put("/proc/cmdline", "console=ttyS0 quiet\n");
	o = envf_mitigations(root);
	v = json_object_get(o, "vulnerabilities");
	assert_int_equal(json_object_size(v), 2);
	assert_string_equal(str(v, "spectre_v2"), "Mitigation: Retpolines; IBPB: conditional");
	assert_true(json_is_null(json_object_get(o, "cmdline")));
	assert_non_null(strstr(str(o, "cmdline_note"), "no mitigations="));
	json_decref(o);

	put("/proc/cmdline", "console=ttyS0 mitigations=off quiet\n");
	o = envf_mitigations(root);
	assert_string_equal(str(o, "cmdline"), "off");
	json_decref(o);
}

static void test_net_sysctl(void **state UNUSED)
{
	json_t *o, *r;

	put("/proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
	put("/proc/sys/net/ipv4/tcp_wmem", "x\n");
	put("/proc/sys/net/core/optmem_max", "20480\n");
	put("/proc/sys/net/core/wmem_max", "212992\n");
	o = envf_net_sysctl(root);
	r = json_object_get(o, "tcp_rmem");
	assert_int_equal(json_integer_value(json_object_get(r, "min")), 4096);
	assert_int_equal(json_integer_value(json_object_get(r, "default")), 131072);
	assert_int_equal(json_integer_value(json_object_get(r, "max")), 6291456);
	assert_true(json_is_null(json_object_get(o, "tcp_wmem")));
	assert_non_null(strstr(str(o, "tcp_wmem_note"), "not three integers"));
	assert_int_equal(json_integer_value(json_object_get(o, "optmem_max")), 20480);
	assert_int_equal(json_integer_value(json_object_get(o, "wmem_max")), 212992);
	assert_true(json_is_null(json_object_get(o, "rmem_max")));
	assert_non_null(strstr(str(o, "rmem_max_note"), "/proc/sys/net/core/rmem_max"));
	json_decref(o);
}

static void test_link_steering(void **state UNUSED)
{
	json_t *o;

	/* A veth: RPS on its one queue, no XPS file, no device behind it. */
	put("/sys/class/net/veth0/queues/rx-0/rps_cpus", "00000000,00000003\n");
	put("/sys/class/net/veth0/queues/tx-0", NULL);
	o = envf_link_steering(root, "veth0");
	assert_string_equal(str(json_object_get(o, "rps"), "rx-0"), "0-1");
	assert_true(json_is_null(json_object_get(o, "xps")));
	assert_non_null(strstr(str(o, "xps_note"), "xps_cpus"));
	assert_true(json_is_null(json_object_get(o, "irqs")));
	assert_non_null(strstr(str(o, "irqs_note"), "no IRQs: a virtual device"));
	json_decref(o);

	/* A NIC: two queues each way, two MSI IRQs, one of which has no affinity file. */
	put("/sys/class/net/eth0/queues/rx-0/rps_cpus", "0\n");
	put("/sys/class/net/eth0/queues/rx-1/rps_cpus", "0\n");
	put("/sys/class/net/eth0/queues/tx-0/xps_cpus", "1\n");
	put("/sys/class/net/eth0/queues/tx-1/xps_cpus", "2\n");
	put("/sys/class/net/eth0/device/msi_irqs/24", "msix\n");
	put("/sys/class/net/eth0/device/msi_irqs/25", "msix\n");
	put("/proc/irq/24/smp_affinity_list", "0-1\n");
	o = envf_link_steering(root, "eth0");
	assert_string_equal(str(json_object_get(o, "rps"), "rx-1"), "none");
	assert_string_equal(str(json_object_get(o, "xps"), "tx-1"), "1");
	assert_string_equal(str(json_object_get(o, "irqs"), "24"), "0-1");
	assert_true(json_is_null(json_object_get(json_object_get(o, "irqs"), "25")));
	json_decref(o);

	/* A device that does not exist (read in the wrong namespace): nulls with reasons. */
	o = envf_link_steering(root, "gone0");
	assert_true(json_is_null(json_object_get(o, "rps")));
	assert_non_null(strstr(str(o, "rps_note"), "gone0"));
	assert_null(strstr(str(o, "irqs_note"), "virtual"));
	assert_true(json_is_null(json_object_get(o, "xps")));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triple),
		cmocka_unit_test(test_integer_and_flag),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_irq_and_vuln),
		cmocka_unit_test_setup_teardown(test_cpufreq_absent_then_present, make_root, remove_root),
		cmocka_unit_test_setup_teardown(test_mitigations, make_root, remove_root),
		cmocka_unit_test_setup_teardown(test_net_sysctl, make_root, remove_root),
		cmocka_unit_test_setup_teardown(test_link_steering, make_root, remove_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
