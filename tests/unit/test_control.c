/* SPDX-License-Identifier: MIT */
/* nic mode's control messages (harness/engine/control.c): frame limits, each message checked, round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/engine/control.h"
#include "harness/results/record.h"

static struct ctl_msg m;
static char err[256];

static int parse(const char *s)
{
	err[0] = '\0';
	return ctl_parse(s, strlen(s), &m, err, sizeof(err));
}

/* parse(s) is refused, and err mentions what. */
static void refused(const char *s, const char *what)
{
	assert_int_equal(parse(s), -EPROTO);
	if (!strstr(err, what))
		fail_msg("message %s: error \"%s\" does not mention \"%s\"", s, err, what);
}

#define RUN_OK "{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"serve\",\"size\":4097," \
	       "\"block\":65536,\"sndbuf\":0,\"rcvbuf\":8192,\"nodelay\":true,\"discard\":false,\"close_at\":-1}"

static void test_frame_len(void **state)
{
	const unsigned char zero[4] = { 0, 0, 0, 0 }, one[4] = { 0, 0, 0, 1 };
	const unsigned char max[4] = { 0, 1, 0, 0 }, over[4] = { 0, 1, 0, 1 }, huge[4] = { 0xff, 0xff, 0xff, 0xff };
	size_t len;

	assert_int_equal(ctl_frame_len(one, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 1);
	assert_int_equal(ctl_frame_len(max, &len, err, sizeof(err)), 0);
	assert_int_equal(len, REMOTE_MSG_MAX);
	assert_int_equal(ctl_frame_len(over, &len, err, sizeof(err)), -EMSGSIZE);
	assert_non_null(strstr(err, "65537 bytes: the limit is 1 to 65536"));
	assert_int_equal(ctl_frame_len(zero, &len, err, sizeof(err)), -EMSGSIZE);
	assert_int_equal(ctl_frame_len(huge, &len, err, sizeof(err)), -EMSGSIZE);
}

static void test_run(void **state)
{
	assert_int_equal(parse(RUN_OK), 0);
	assert_int_equal(m.op, CTL_RUN);
	assert_int_equal(m.version, 1);
	assert_int_equal(m.run.role, RK_SINK);
	assert_string_equal(m.run.scenario, "serve");
	assert_int_equal(m.run.size, 4097);
	assert_int_equal(m.run.block, 65536);
	assert_int_equal(m.run.rcvbuf, 8192);
	assert_true(m.run.nodelay);
	assert_false(m.run.discard);
	assert_true(m.run.close_at == UINT64_MAX);

	/* Optional fields take their defaults; close_at >= 0 is kept. */
	assert_int_equal(parse("{\"op\":\"run\",\"version\":1,\"role\":\"source\",\"scenario\":\"relay\",\"size\":0,"
			       "\"block\":1,\"close_at\":100}"), 0);
	assert_int_equal(m.run.role, RK_SOURCE);
	assert_int_equal(m.run.sndbuf, 0);
	assert_int_equal(m.run.close_at, 100);
	assert_int_equal(parse("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\","
			       "\"size\":1099511627776,\"block\":1073741824}"), 0);

	refused("{\"op\":\"run\",\"version\":1,\"role\":\"tested\",\"scenario\":\"s\",\"size\":1,\"block\":1}",
		"\"role\" must be \"sink\" or \"source\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":-1,\"block\":1}",
		"\"size\" must be an integer from 0 to 1 TiB");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1099511627777,\"block\":1}",
		"\"size\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1.5,\"block\":1}", "\"size\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1}", "\"block\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1,\"block\":0}", "\"block\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1,\"block\":1,\"rcvbuf\":-1}",
		"\"rcvbuf\" must be an integer from 0 to 1 GiB");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1,\"block\":1,\"nodelay\":1}",
		"\"nodelay\" must be true or false");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"s\",\"size\":1,\"block\":1,\"close_at\":-2}",
		"\"close_at\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"\",\"size\":1,\"block\":1}", "\"scenario\"");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"0123456789012345678901234567890123\","
		"\"size\":1,\"block\":1}", "\"scenario\" must be a string of at most 31 bytes");
	refused("{\"op\":\"run\",\"version\":1,\"role\":\"sink\",\"scenario\":\"a\\u0000b\",\"size\":1,\"block\":1}",
		"malformed");	/* jansson refuses \u0000 (no JSON_ALLOW_NUL) */
	refused("{\"op\":\"run\",\"role\":\"sink\",\"scenario\":\"s\",\"size\":1,\"block\":1}", "\"version\"");
}

static void test_hello_go_and_unknown(void **state)
{
	assert_int_equal(parse("{\"op\":\"hello\",\"version\":1}"), 0);
	assert_int_equal(m.op, CTL_HELLO);
	assert_int_equal(m.version, 1);
	/* A later version parses: refusing it with a sentence is the daemon's job. */
	assert_int_equal(parse("{\"op\":\"hello\",\"version\":7}"), 0);
	assert_int_equal(m.version, 7);
	refused("{\"op\":\"hello\"}", "\"version\"");
	assert_int_equal(parse("{\"op\":\"go\",\"extra\":[1,2]}"), 0);
	assert_int_equal(m.op, CTL_GO);
	refused("{\"op\":\"format\"}", "unknown op \"format\"; expected hello, auth, run, go or result");
	refused("{\"op\":3}", "\"op\" must be a string");
	refused("{\"x\":1}", "needs \"op\"");
}

static void test_auth(void **state)
{
	const char *mac = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char text[160];

	snprintf(text, sizeof(text), "{\"op\":\"auth\",\"mac\":\"%s\"}", mac);
	assert_int_equal(parse(text), 0);
	assert_int_equal(m.op, CTL_AUTH);
	assert_int_equal(m.auth.mac[0], 0x00);
	assert_int_equal(m.auth.mac[1], 0x11);
	assert_int_equal(m.auth.mac[31], 0xff);
	refused("{\"op\":\"auth\"}", "\"mac\" must be 64 lowercase hex digits");
	refused("{\"op\":\"auth\",\"mac\":\"0011\"}", "\"mac\" must be 64 lowercase hex digits");
	refused("{\"op\":\"auth\",\"mac\":\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"}",
		"lowercase hex");
	refused("{\"op\":\"auth\",\"mac\":7}", "\"mac\"");

	/* A hello's answer from a daemon that needs a key carries the challenge. */
	snprintf(text, sizeof(text), "{\"ok\":true,\"daemon\":\"sink\",\"version\":1,\"nonce\":\"%s\"}", mac);
	assert_int_equal(parse(text), 0);
	assert_true(m.reply.has_nonce);
	assert_int_equal(m.reply.nonce[2], 0x22);
	assert_int_equal(parse("{\"ok\":true,\"daemon\":\"sink\",\"version\":1}"), 0);
	assert_false(m.reply.has_nonce);
	refused("{\"ok\":true,\"daemon\":\"sink\",\"version\":1,\"nonce\":\"ab\"}", "\"nonce\" must be 64");
}

static void test_malformed(void **state)
{
	refused("hello", "malformed");
	refused("[1]", "not a JSON object");
	refused("\"op\"", "malformed");	/* a bare scalar: jansson wants [ or { */
	refused("{\"op\":\"go\"", "malformed");
	refused("{\"op\":\"go\",\"op\":\"run\"}", "malformed");	/* duplicate keys */
	refused("{\"op\":\"go\"} trailing", "malformed");
	assert_int_equal(ctl_parse("{\"op\":\"go\"}", 0, &m, err, sizeof(err)), -EPROTO);
	/* Only len bytes are read: a longer buffer's tail is not part of the message. */
	assert_int_equal(ctl_parse("{\"op\":\"go\"}GARBAGE", 11, &m, err, sizeof(err)), 0);
}

static void test_oversize(void **state)
{
	size_t n = REMOTE_MSG_MAX + 1;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"op\":\"go\"}", 11);
	assert_int_equal(ctl_parse(big, n, &m, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "the limit is 1 to 65536"));
	assert_int_equal(ctl_parse(big, REMOTE_MSG_MAX, &m, err, sizeof(err)), 0);	/* whitespace is JSON */
	free(big);
}

static void test_replies(void **state)
{
	assert_int_equal(parse("{\"ok\":true,\"daemon\":\"source\",\"version\":1,\"pid\":42}"), 0);
	assert_int_equal(m.op, CTL_REPLY);
	assert_true(m.reply.ok && m.reply.has_daemon);
	assert_int_equal(m.reply.daemon, RK_SOURCE);
	assert_int_equal(m.reply.pid, 42);
	assert_int_equal(parse("{\"ok\":true,\"token\":\"0123456789abcdef0123456789abcdef\"}"), 0);
	assert_string_equal(m.reply.token, "0123456789abcdef0123456789abcdef");
	assert_false(m.reply.has_daemon);
	assert_int_equal(parse("{\"ok\":false,\"error\":\"busy: try again\"}"), 0);
	assert_false(m.reply.ok);
	assert_string_equal(m.reply.error, "busy: try again");

	refused("{\"ok\":true,\"token\":\"0123456789ABCDEF0123456789abcdef\"}", "lowercase hex");
	refused("{\"ok\":true,\"token\":\"0123\"}", "\"token\"");
	refused("{\"ok\":true}", "must carry \"daemon\"");
	refused("{\"ok\":true,\"daemon\":\"echo\",\"version\":1}", "\"daemon\" must be \"sink\" or \"source\"");
	refused("{\"ok\":true,\"daemon\":\"sink\"}", "\"version\"");
	refused("{\"ok\":false}", "\"error\"");
	refused("{\"ok\":\"yes\"}", "\"ok\" must be true or false");
}

#define RESULT_OK "{\"op\":\"result\",\"status\":0,\"call\":\"\",\"what\":\"\",\"bytes\":4097,\"io_calls\":3," \
	"\"io_short\":1,\"io_eintr\":0,\"verify\":\"ok\",\"digest\":\"0x00000000deadbeef\",\"note\":\"\"," \
	"\"first_bad_offset\":null,\"cpu_user_s\":0.25,\"cpu_sys_s\":1,\"ctx_voluntary\":5," \
	"\"ctx_involuntary\":0,\"faults_minor\":7,\"faults_major\":0}"

static void test_result(void **state)
{
	char s[1024];

	assert_int_equal(parse(RESULT_OK), 0);
	assert_int_equal(m.op, CTL_RESULT);
	assert_int_equal(m.result.bytes, 4097);
	assert_int_equal(m.result.verify, VERIFY_OK);
	assert_int_equal(m.result.digest, 0xdeadbeef);
	assert_false(m.result.has_bad);
	assert_true(m.result.cpu_user_s == 0.25 && m.result.cpu_sys_s == 1.0);
	assert_int_equal(m.result.faults_minor, 7);

	/* One field at a time made wrong: each is refused, naming the field. */
	static const struct { const char *from, *to, *what; } bad[] = {
		{ "\"status\":0", "\"status\":5", "\"status\"" },
		{ "\"status\":0", "\"status\":-4096", "\"status\"" },
		{ "\"bytes\":4097", "\"bytes\":-1", "\"bytes\"" },
		{ "\"bytes\":4097", "\"bytes\":\"4097\"", "\"bytes\"" },
		{ "\"verify\":\"ok\"", "\"verify\":\"fine\"", "\"verify\"" },
		{ "\"digest\":\"0x00000000deadbeef\"", "\"digest\":\"0x-1\"", "\"digest\"" },
		{ "\"digest\":\"0x00000000deadbeef\"", "\"digest\":\"0x10000000000000000\"", "\"digest\"" },
		{ "\"digest\":\"0x00000000deadbeef\"", "\"digest\":\"0x\"", "\"digest\"" },
		{ "\"digest\":\"0x00000000deadbeef\"", "\"digest\":\"deadbeef\"", "\"digest\"" },
		{ "\"first_bad_offset\":null", "\"first_bad_offset\":-3", "\"first_bad_offset\"" },
		{ "\"cpu_user_s\":0.25", "\"cpu_user_s\":-0.25", "\"cpu_user_s\"" },
		{ "\"cpu_sys_s\":1", "\"cpu_sys_s\":null", "\"cpu_sys_s\"" },
		{ "\"faults_minor\":7", "\"faults_minor\":true", "\"faults_minor\"" },
		{ "\"ctx_voluntary\":5,", "", "\"ctx_voluntary\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at = strstr(RESULT_OK, bad[i].from);

		assert_non_null(at);
		snprintf(s, sizeof(s), "%.*s%s%s", (int)(at - RESULT_OK), RESULT_OK, bad[i].to, at + strlen(bad[i].from));
		refused(s, bad[i].what);
	}
	/* A mismatch with its offset. */
	const char *at = strstr(RESULT_OK, "\"verify\":\"ok\"");

	snprintf(s, sizeof(s), "%.*s\"verify\":\"mismatch\"%s", (int)(at - RESULT_OK), RESULT_OK, at + 13);
	at = strstr(s, "\"first_bad_offset\":null");
	memcpy((char *)at, "\"first_bad_offset\":4096", 23);
	assert_int_equal(parse(s), 0);
	assert_int_equal(m.result.verify, VERIFY_MISMATCH);
	assert_true(m.result.has_bad);
	assert_int_equal(m.result.first_bad_offset, 4096);
}

/* What ctl_to_json writes, ctl_parse reads back into the same struct. */
static void round_trip(const struct ctl_msg *in)
{
	json_t *o = ctl_to_json(in);
	char *text;
	struct ctl_msg out;

	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
	assert_non_null(text);
	if (ctl_parse(text, strlen(text), &out, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	assert_memory_equal(&out, in, sizeof(out));
	free(text);
	json_decref(o);
}

static void test_round_trips(void **state)
{
	struct ctl_msg a;

	memset(&a, 0, sizeof(a));
	a.op = CTL_HELLO;
	a.version = REMOTE_VERSION;
	round_trip(&a);

	memset(&a, 0, sizeof(a));
	a.op = CTL_GO;
	round_trip(&a);

	memset(&a, 0, sizeof(a));
	a.op = CTL_RUN;
	a.version = REMOTE_VERSION;
	a.run.role = RK_SOURCE;
	strcpy(a.run.scenario, "fanout");
	a.run.size = 67108864;
	a.run.block = 1 << 20;
	a.run.close_at = UINT64_MAX;
	a.run.sndbuf = 4096;
	a.run.discard = true;
	round_trip(&a);
	a.run.close_at = 12345;
	round_trip(&a);

	memset(&a, 0, sizeof(a));
	a.op = CTL_RESULT;
	a.result.status = -104;
	strcpy(a.result.call, "read");
	strcpy(a.result.what, "the driver closed the control channel mid-run");
	a.result.bytes = 1ull << 40;
	a.result.verify = VERIFY_MISMATCH;
	a.result.digest = UINT64_MAX;
	a.result.has_bad = true;
	a.result.first_bad_offset = 65536;
	a.result.cpu_user_s = 0.1;
	a.result.cpu_sys_s = 1e-9;
	a.result.faults_major = 3;
	round_trip(&a);
	a.result.verify = -1;
	a.result.has_bad = false;
	a.result.first_bad_offset = 0;
	round_trip(&a);

	memset(&a, 0, sizeof(a));
	a.op = CTL_REPLY;
	a.reply.ok = true;
	strcpy(a.reply.token, "00112233445566778899aabbccddeeff");
	round_trip(&a);
	memset(&a, 0, sizeof(a));
	a.op = CTL_REPLY;
	a.reply.ok = true;
	a.reply.has_daemon = true;
	a.reply.daemon = RK_SINK;
	a.reply.version = 1;
	a.reply.pid = 99;
	round_trip(&a);
	a.reply.has_nonce = true;
	for (int i = 0; i < CTL_NONCE_LEN; i++)
		a.reply.nonce[i] = (unsigned char)(i * 37 + 5);
	round_trip(&a);
	memset(&a, 0, sizeof(a));
	a.op = CTL_AUTH;
	for (int i = 0; i < CTL_MAC_LEN; i++)
		a.auth.mac[i] = (unsigned char)(255 - i * 3);
	round_trip(&a);
	memset(&a, 0, sizeof(a));
	a.op = CTL_REPLY;
	strcpy(a.reply.error, "a control message of 65537 bytes: the limit is 1 to 65536");
	round_trip(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_len),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_hello_go_and_unknown),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_round_trips),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
