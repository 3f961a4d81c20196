/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP mode words of `copylab stackd --netif xdp:MODE`
 * (xsk_mode_parse, harness/net/xsk_port.c): each attach and bind word,
 * both in either order, auto, and every malformed spelling refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "harness/net/xsk_port.h"

/* parsed SPEC: 0 and the request, or -EINVAL; the request starts as a non-auto one. */
static int parsed(const char *spec, struct xsk_port_request *req)
{
	*req = (struct xsk_port_request){ XSK_ATTACH_GENERIC, XSK_BIND_ZEROCOPY, 3 };
	return xsk_mode_parse(spec, req);
}

static void test_each_word(void **state)
{
	struct xsk_port_request r;

	(void)state;
	assert_int_equal(parsed("", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_AUTO);
	assert_int_equal(r.bind, XSK_BIND_AUTO);
	assert_int_equal(r.queue, 3);	/* not a mode word: left alone */
	assert_int_equal(parsed("native", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_NATIVE);
	assert_int_equal(r.bind, XSK_BIND_AUTO);
	assert_int_equal(parsed("generic", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_GENERIC);
	assert_int_equal(parsed("copy", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_AUTO);
	assert_int_equal(r.bind, XSK_BIND_COPY);
	assert_int_equal(parsed("zerocopy", &r), 0);
	assert_int_equal(r.bind, XSK_BIND_ZEROCOPY);
	assert_int_equal(parsed("auto", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_AUTO);
	assert_int_equal(r.bind, XSK_BIND_AUTO);
}

static void test_both_either_order(void **state)
{
	struct xsk_port_request r;

	(void)state;
	assert_int_equal(parsed("generic:copy", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_GENERIC);
	assert_int_equal(r.bind, XSK_BIND_COPY);
	assert_int_equal(parsed("zerocopy:native", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_NATIVE);
	assert_int_equal(r.bind, XSK_BIND_ZEROCOPY);
	assert_int_equal(parsed("auto:copy", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_AUTO);
	assert_int_equal(r.bind, XSK_BIND_COPY);
	assert_int_equal(parsed("native:auto", &r), 0);
	assert_int_equal(r.attach, XSK_ATTACH_NATIVE);
	assert_int_equal(r.bind, XSK_BIND_AUTO);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"bogus", "native:generic", "copy:zerocopy", "native:copy:generic", "copy:copy",
		":native", "native:", "native::copy", ":", "NATIVE",
		/* 64 characters whose first 63 are a valid mode: never cut short into one */
		"skb:auto:auto:auto:auto:auto:auto:auto:auto:auto:auto:auto:copyx",
	};
	struct xsk_port_request r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parsed(bad[i], &r) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_word),
		cmocka_unit_test(test_both_either_order),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
