/* SPDX-License-Identifier: MIT */
/* The command line's value parsers: sizes, counts, seconds, strategy labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness/model/options.h"
#include "strategies/uring.h"

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

/* --time and --interval: a number with ms, s or m; the bounds said in the sentence. */
static void test_durations(void **state)
{
	double d;

	(void)state;
	assert_int_equal(parse_duration("--time", "500ms", 0.001, 3600, &d, err, sizeof(err)), 0);
	assert_true(d == 0.5);
	assert_int_equal(parse_duration("--time", "10s", 0.001, 3600, &d, err, sizeof(err)), 0);
	assert_true(d == 10);
	assert_int_equal(parse_duration("--time", "2m", 0.001, 3600, &d, err, sizeof(err)), 0);
	assert_true(d == 120);
	assert_int_equal(parse_duration("--interval", "1ms", 0.001, 3600, &d, err, sizeof(err)), 0);
	assert_true(d == 0.001);
	assert_int_equal(parse_duration("--interval", "0.25", 0.001, 3600, &d, err, sizeof(err)), 0);
	assert_true(d == 0.25);
	/* below the floor, above the ceiling, no number, an unknown unit, a sign */
	assert_true(parse_duration("--interval", "0.5ms", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "--interval: '0.5ms'"));
	assert_non_null(strstr(err, "from 1ms to 1h"));
	assert_true(parse_duration("--time", "61m", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "from 1ms to 1h"));
	assert_true(parse_duration("--time", "", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_true(parse_duration("--time", "ms", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_true(parse_duration("--time", "10h", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "e.g. 500ms, 10s, 2m"));
	assert_true(parse_duration("--time", "-1s", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_true(parse_duration("--time", "nan", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_true(parse_duration("--time", "inf", 0.001, 3600, &d, err, sizeof(err)) < 0);
	assert_true(parse_duration("--time", "1e3ms", 0.001, 3600, &d, err, sizeof(err)) < 0);
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

/* Typos in a label are refused, never run as something else. */
static void test_label_typos(void **state)
{
	struct strategy_spec sp;
	char longest[64];

	assert_true(parse_strategy_spec("splice:", &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "empty option"));
	assert_true(parse_strategy_spec("splice::more", &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "empty option"));
	assert_true(parse_strategy_spec("uring_rw:batch=8:batch=16", &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "'batch' twice"));
	assert_true(parse_strategy_spec("splice:more:more", &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "'more' twice"));
	/* 47 characters fit the label; 48 are refused with the limit named. */
	snprintf(longest, sizeof(longest), "uring_rw:ring=%033d", 64);
	assert_int_equal(strlen(longest), 47);
	assert_int_equal(parse_strategy_spec(longest, &sp, err, sizeof(err)), 0);
	snprintf(longest, sizeof(longest), "uring_rw:ring=%034d", 64);
	assert_true(parse_strategy_spec(longest, &sp, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "at most 47"));
}

/* The io_uring options' rules, in the words the user reads. */
static void test_uring_label_messages(void **state)
{
	static const char *const names[] = { "uring_rw", "uring_splice", "uring_send_zc" };
	struct strategy_spec sp;
	char label[48];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(label, sizeof(label), "%s:batch=64", names[i]);
		assert_true(parse_strategy_spec(label, &sp, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, label));
		assert_non_null(strstr(err, "ring=64 (the default) takes batch 1..21"));
		assert_non_null(strstr(err, "batch=64 needs ring=193 or more"));
		snprintf(label, sizeof(label), "%s:ring=4", names[i]);
		assert_true(parse_strategy_spec(label, &sp, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "batch=4 (the default) needs ring=13 or more"));
		snprintf(label, sizeof(label), "%s:ring=4096:batch=65", names[i]);
		assert_true(parse_strategy_spec(label, &sp, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "batch=65 is more than 64"));
		snprintf(label, sizeof(label), "%s:ring=13", names[i]);
		assert_int_equal(parse_strategy_spec(label, &sp, err, sizeof(err)), 0);
		snprintf(label, sizeof(label), "%s:batch=21", names[i]);
		assert_int_equal(parse_strategy_spec(label, &sp, err, sizeof(err)), 0);
	}
}

#ifdef HAVE_LIBURING
static void no_prep(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s) {}

/*
 * What the label parser takes, setup takes, and what it refuses, setup
 * refuses: every pairing of ring= and batch= around the edges, opened
 * for real (a ring of the running kernel), also as send_zc opens it.
 */
static void test_uring_labels_match_setup(void **state)
{
	static const unsigned rings[] = { 1, 3, 4, 12, 13, 14, 64, 96, 97, 192, 193, 4096 };
	static const unsigned batches[] = { 0, 1, 4, 5, 21, 22, 32, 63, 64, 65 };

	for (int zc = 0; zc < 2; zc++)
		for (size_t r = 0; r < sizeof(rings) / sizeof(rings[0]); r++)
			for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
				struct uring_ops ops = { .prep_in = no_prep, .prep_out = no_prep, .zc = zc };
				struct strategy_spec sp;
				struct uring_pipeline pl;
				struct xfer x = { .in_kind = EP_FILE, .out_kind = EP_SOCKET, .in_fd = -1,
						  .out_fd = -1, .block = 65536 };
				char label[48];
				int parsed, opened;

				if (batches[b])
					snprintf(label, sizeof(label), "%s:ring=%u:batch=%u",
						 zc ? "uring_send_zc" : "uring_rw", rings[r], batches[b]);
				else
					snprintf(label, sizeof(label), "%s:ring=%u", zc ? "uring_send_zc" : "uring_rw",
						 rings[r]);
				parsed = parse_strategy_spec(label, &sp, err, sizeof(err));
				x.tun = sp.tun;
				if (parsed)	/* the refused label's tunables, as setup would get them */
					x.tun = (struct tunables){ .set = TUN_RING | (batches[b] ? TUN_BATCH : 0),
								   .ring_entries = rings[r], .batch = batches[b] };
				opened = uring_pipeline_open(&x, &pl, &ops, 65536, false);
				uring_pipeline_close(&pl);
				if ((parsed == 0) != (opened == 0))
					fail_msg("%s: the parser says %d (%s), setup says %d (%s)", label, parsed,
						 parsed ? err : "ok", opened, x.failed_call ? x.failed_call : "ok");
			}
}
#endif

/* trunc: a readwrite option for recv only, and not over AF_UNIX; the refusal says why. */
static void test_trunc_label(void **state)
{
	struct strategy_spec sp;
	struct label_limit l;
	char msg[320];
	const char *why;

	assert_int_equal(parse_strategy_spec("readwrite:trunc", &sp, msg, sizeof(msg)), 0);
	assert_true(sp.tun.trunc);
	assert_true(sp.tun.set & TUN_TRUNC);
	assert_null(spec_option_refusal(&sp, SC_RECV, false));
	why = spec_option_refusal(&sp, SC_RELAY, false);
	assert_non_null(why);
	assert_non_null(strstr(why, "only recv"));
	why = spec_option_refusal(&sp, SC_RECV, true);
	assert_non_null(why);
	assert_non_null(strstr(why, "AF_UNIX"));
	assert_int_equal(parse_strategy_spec("splice:trunc", &sp, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "has no option 'trunc'"));
	assert_int_equal(parse_strategy_spec("readwrite:trunc:hugepages", &sp, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "keeps no buffer"));
	/* A label without trunc runs anywhere its strategy does. */
	assert_int_equal(parse_strategy_spec("readwrite:hugepages", &sp, msg, sizeof(msg)), 0);
	assert_null(spec_option_refusal(&sp, SC_RELAY, true));
	/* copylab list shows the same limit. */
	assert_true(label_option_limit(0, &l));
	assert_string_equal(l.name, "trunc");
	assert_int_equal(l.only_in, 1u << SC_RECV);
	assert_true(label_option_limit(1, &l));
	assert_string_equal(l.name, "busy");
	assert_int_equal(l.only_in, (1u << SC_ECHO) | (1u << SC_PIPE));
	assert_false(label_option_limit(2, &l));
}

/* busy: echo and pipe only (the loops that spin), on the strategies that honour it. */
static void test_busy_label(void **state)
{
	struct strategy_spec sp;
	char msg[512];

	(void)state;
	assert_int_equal(parse_strategy_spec("vmsplice:hugepages:busy", &sp, msg, sizeof(msg)), 0);
	assert_true(sp.tun.busy);
	assert_true(sp.tun.set & TUN_BUSY);
	assert_null(spec_option_refusal(&sp, SC_PIPE, false));
	assert_int_equal(parse_strategy_spec("readwrite:busy", &sp, msg, sizeof(msg)), 0);
	assert_null(spec_option_refusal(&sp, SC_ECHO, true));
	assert_null(spec_option_refusal(&sp, SC_PIPE, false));
	assert_non_null(spec_option_refusal(&sp, SC_RELAY, false));
	assert_non_null(strstr(spec_option_refusal(&sp, SC_COPY, false), "echo server"));
	assert_int_equal(parse_strategy_spec("splice:busy", &sp, msg, sizeof(msg)), 0);
	assert_null(spec_option_refusal(&sp, SC_ECHO, false));
	/* A strategy whose loop cannot spin has no such option. */
	assert_int_equal(parse_strategy_spec("sendfile:busy", &sp, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "has no option 'busy'"));
	assert_int_equal(parse_strategy_spec("uring_rw:busy", &sp, msg, sizeof(msg)), -EINVAL);
}

static void test_meminfo(void **state)
{
	uint64_t v = 0;

	assert_int_equal(parse_meminfo_available("MemTotal:       24683784 kB\n"
						 "MemFree:        23000000 kB\n"
						 "MemAvailable:   24317480 kB\n"
						 "Buffers:           12345 kB\n", &v), 0);
	assert_int_equal(v, 24317480ull * 1024);
	/* The last line may end without a newline. */
	assert_int_equal(parse_meminfo_available("MemAvailable: 7 kB", &v), 0);
	assert_int_equal(v, 7 * 1024);
	/* A kernel before 3.14 has no such line: no figure, not zero. */
	assert_int_equal(parse_meminfo_available("MemTotal: 1024 kB\nMemFree: 512 kB\n", &v), -ENOENT);
	assert_int_equal(parse_meminfo_available("", &v), -ENOENT);
	/* Only the key at a line's start counts. */
	assert_int_equal(parse_meminfo_available("XMemAvailable: 5 kB\n", &v), -ENOENT);
	assert_int_equal(parse_meminfo_available("MemAvailable: lots kB\n", &v), -EINVAL);
	assert_int_equal(parse_meminfo_available("MemAvailable: 5 MB\n", &v), -EINVAL);
	assert_int_equal(parse_meminfo_available("MemAvailable: 5\n", &v), -EINVAL);
	assert_int_equal(parse_meminfo_available("MemAvailable: 99999999999999999999 kB\n", &v), -EINVAL);
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
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_strategy_labels),
		cmocka_unit_test(test_label_typos),
		cmocka_unit_test(test_uring_label_messages),
#ifdef HAVE_LIBURING
		cmocka_unit_test(test_uring_labels_match_setup),
#endif
		cmocka_unit_test(test_trunc_label),
		cmocka_unit_test(test_busy_label),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_registry_is_consistent),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
