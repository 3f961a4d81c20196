/* SPDX-License-Identifier: MIT */
/*
 * nic mode's verdict on the link toward the peer (env_link_virtual,
 * harness/measure/env.c): each software driver is virtual, so is a device
 * with no hardware behind it, and a NIC with a device is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "harness/measure/env.h"

static char kind[64], why[160];

static bool judged(const char *driver, bool has_device)
{
	kind[0] = why[0] = '\0';
	return env_link_virtual(driver, has_device, kind, sizeof(kind), why, sizeof(why));
}

static void test_software_drivers(void **state)
{
	static const char *const sw[] = { "veth", "tun", "bridge", "macvlan", "ipvlan", "dummy", "loopback" };

	(void)state;
	for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
		char want[32];

		/* Even with a device (a tun opened by a VM's helper has none, but say one had). */
		assert_true(judged(sw[i], true));
		snprintf(want, sizeof(want), "a %s", sw[i]);
		assert_string_equal(kind, want);
		assert_non_null(strstr(why, sw[i]));
	}
}

static void test_no_backing_device(void **state)
{
	(void)state;
	assert_true(judged("bonding", false));
	assert_string_equal(kind, "a device with no hardware behind it");
	assert_non_null(strstr(why, "no backing device"));
	assert_non_null(strstr(why, "bonding"));
	assert_true(judged(NULL, false));	/* lo answers no ethtool driver query */
	assert_non_null(strstr(why, "unknown"));
	assert_true(judged("", false));
}

static void test_real_nic(void **state)
{
	(void)state;
	assert_false(judged("ixgbe", true));
	assert_false(judged("mlx5_core", true));
	assert_false(judged("virtio_net", true));	/* a VM's NIC: a device, judged by it */
	assert_false(judged(NULL, true));
	assert_string_equal(why, "");			/* nothing to say of a real one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_software_drivers),
		cmocka_unit_test(test_no_backing_device),
		cmocka_unit_test(test_real_nic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
