/* SPDX-License-Identifier: MIT */
/* The command line's value parsers: sizes, counts, seconds, strategy labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "harness/model/options.h"

static char err[320];

static uint64_t size_ok(const char *s)
{
	uint64_t v = 0;

	assert_int_equal(parse_size("--size", s, 1ull << 40, &v, err, sizeof(err)), 0);
	return v;
}

static void size_bad(const char *s, const char *must_say)
{
	uint64_t v;

	assert_true(parse_size("--size", s, 1ull << 40, &v, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "--size"));
	assert_non_null(strstr(err, must_say));
}

static void test_sizes(void **state)
{
	assert_int_equal(size_ok("0"), 0);
	assert_int_equal(size_ok("4097"), 4097);
	assert_int_equal(size_ok("64K"), 65536);
	assert_int_equal(size_ok("64k"), 65536);
	assert_int_equal(size_ok("1M"), 1048576);
	assert_int_equal(size_ok("1MiB"), 1048576);
	assert_int_equal(size_ok("2G"), 2ull << 30);
	assert_int_equal(size_ok("1024G"), 1ull << 40);
}

static void test_bad_sizes(void **state)
{
	size_bad("", "not a size");
	size_bad("abc", "not a size");
	size_bad("-1", "not a size");
	size_bad("12X", "unknown suffix");
	size_bad("1.5M", "unknown suffix");
	size_bad("1MX", "unknown suffix");
	size_bad("1025G", "too large");
	size_bad("99999999999999999999999", "too large");
}

static void test_counts_and_seconds(void **state)
{
	long v;
	double d;

	assert_int_equal(parse_count("--reps", "5", 1, 1000, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 5);
	assert_true(parse_count("--reps", "0", 1, 1000, &v, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "from 1 to 1000"));
	assert_true(parse_count("--reps", "3x", 1, 1000, &v, err, sizeof(err)) < 0);
	assert_int_equal(parse_seconds("--timeout", "0.5", &d, err, sizeof(err)), 0);
	assert_true(d == 0.5);
	assert_true(parse_seconds("--timeout", "0", &d, err, sizeof(err)) < 0);
	assert_true(parse_seconds("--timeout", "nan", &d, err, sizeof(err)) < 0);
}

static void test_strategy_labels(void **state)
{
	struct strategy_spec sp;

	assert_int_equal(parse_strategy_spec("readwrite", &sp, err, sizeof(err)), 0);
	assert_string_equal(sp.s->name, "readwrite");
	assert_int_equal(sp.tun.set, 0);

	assert_int_equal(parse_strategy_spec("vmsplice:gift", &sp, err, sizeof(err)), 0);
	assert_true(sp.tun.gift);
	assert_string_equal(sp.label, "vmsplice:gift");

	assert_int_equal(parse_strategy_spec("splice:more:pipe=1M", &sp, err, sizeof(err)), 0);
	assert_true(sp.tun.more);
	assert_int_equal(sp.tun.pipe_size, 1 << 20);

	assert_true(parse_strategy_spec("nosuch", &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "unknown strategy 'nosuch'"));
	assert_non_null(strstr(err, "readwrite"));
	assert_non_null(strstr(err, "vmsplice"));

	/* An option the strategy does not honour is refused, never ignored. */
	assert_true(parse_strategy_spec("sendfile:gift", &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "no option 'gift'"));
	assert_true(parse_strategy_spec("splice:pipe", &sp, err, sizeof(err)) < 0);
	assert_true(parse_strategy_spec("splice:pipe=lots", &sp, err, sizeof(err)) < 0);
}

static void test_registry_is_consistent(void **state)
{
	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];

		assert_ptr_equal(strategy_find(s->name), s);
		assert_non_null(s->summary);
		assert_non_null(s->move);
		for (int sc = 0; sc < SC_COUNT; sc++)
			if (!s->support[sc].ok) {
				/* Every refusal teaches: a sentence, not a blank. */
				assert_non_null(s->support[sc].why_not);
				assert_true(strlen(s->support[sc].why_not) > 20);
			}
	}
	assert_null(strategy_find("nosuch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_counts_and_seconds),
		cmocka_unit_test(test_strategy_labels),
		cmocka_unit_test(test_registry_is_consistent),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
