/* SPDX-License-Identifier: MIT */
/*
 * Faults that can fire and faults that did: fault_check_reach refuses an
 * offset out of reach of the payload, fault_text gives the canonical
 * --fault text, and fault_outcome_check fails a fault that never acted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "harness/engine/fault.h"
#include "harness/results/record.h"

static struct fault parsed(const char *arg)
{
	struct fault f;
	char err[256];

	assert_int_equal(fault_parse(arg, &f, err, sizeof(err)), 0);
	return f;
}

static void test_reach_refuses_offsets_at_or_past_size(void **state)
{
	struct fault none = { 0 }, kill = parsed("kill=server@2M"), trunc = parsed("truncate=1M"),
		     slow = parsed("sink-slow=100"), close1 = parsed("sink-close=1048575");
	char err[320] = "";

	assert_int_equal(fault_check_reach(&kill, CORRUPT_NONE, 0, 1 << 20, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--fault kill=server@2M: the payload is 1048576 bytes"));
	assert_int_equal(fault_check_reach(&kill, CORRUPT_NONE, 0, 4 << 20, err, sizeof(err)), 0);
	assert_int_equal(fault_check_reach(&trunc, CORRUPT_NONE, 0, 1 << 20, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cuts nothing"));
	assert_int_equal(fault_check_reach(&close1, CORRUPT_NONE, 0, 1 << 20, err, sizeof(err)), 0);
	/* Not a byte offset: no reach to check. */
	assert_int_equal(fault_check_reach(&slow, CORRUPT_NONE, 0, 1, err, sizeof(err)), 0);
	assert_int_equal(fault_check_reach(&none, CORRUPT_FLIP, 1 << 20, 1 << 20, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "flip@1M: byte 1048576 is past the payload of 1048576"));
	assert_int_equal(fault_check_reach(&none, CORRUPT_FLIP, (1 << 20) - 1, 1 << 20, err, sizeof(err)), 0);
	/* swap needs two whole blocks from N. */
	assert_int_equal(fault_check_reach(&none, CORRUPT_SWAP, (1 << 20) - 8192, 1 << 20, err, sizeof(err)), 0);
	assert_int_equal(fault_check_reach(&none, CORRUPT_SWAP, (1 << 20) - 8191, 1 << 20, err, sizeof(err)), -EINVAL);
}

static void test_text_is_canonical(void **state)
{
	struct fault none = { 0 }, kill = parsed("kill=sink@65536"), sig = parsed("signals=5000");
	char buf[64];

	fault_text(&kill, CORRUPT_NONE, 0, buf, sizeof(buf));
	assert_string_equal(buf, "kill=sink@64K");
	fault_text(&sig, CORRUPT_NONE, 0, buf, sizeof(buf));
	assert_string_equal(buf, "signals=5000");
	fault_text(&none, CORRUPT_DUP, 1000, buf, sizeof(buf));
	assert_string_equal(buf, "dup@1000");
	fault_text(&none, CORRUPT_NONE, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_outcome_not_fired_fails(void **state)
{
	struct fault kill = parsed("kill=server@2M"), sig = parsed("signals=10"), none = { 0 };
	struct fault_outcome o;
	char err[320] = "";

	fault_outcome_begin(&o, &kill, CORRUPT_NONE, 0, "server");
	assert_string_equal(o.asked, "kill=server@2M");
	assert_true(o.at_offset);
	assert_int_equal(o.at, 2u << 20);
	o.role_bytes = 1 << 20;
	assert_int_equal(fault_outcome_check(&o, err, sizeof(err)), -1);
	assert_string_equal(err, "--fault kill=server@2M did not fire: the server moved 1048576 bytes, fewer than 2097152");
	o.fired = true;
	assert_int_equal(fault_outcome_check(&o, err, sizeof(err)), 0);

	fault_outcome_begin(&o, &sig, CORRUPT_NONE, 0, "relay");
	assert_false(o.at_offset);
	assert_int_equal(fault_outcome_check(&o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no signal was sent"));

	/* No fault asked: nothing to check. */
	fault_outcome_begin(&o, &none, CORRUPT_NONE, 0, NULL);
	assert_string_equal(o.asked, "");
	assert_int_equal(fault_outcome_check(&o, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reach_refuses_offsets_at_or_past_size),
		cmocka_unit_test(test_text_is_canonical),
		cmocka_unit_test(test_outcome_not_fired_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
