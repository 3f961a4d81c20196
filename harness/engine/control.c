/* SPDX-License-Identifier: MIT */
/*
 * nic mode's control messages as data: the frame header's length, one
 * message's JSON text checked field by field into struct ctl_msg, and the
 * struct written back as JSON.  No sockets here (remote.c and remote_daemon.c
 * do the I/O), so the parser can be unit-tested and fuzzed on plain buffers.
 */
#include "control.h"
#include "harness/results/record.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ctl_role_name(enum role_kind k)
{
	return k == RK_SINK ? "sink" : k == RK_SOURCE ? "source" : NULL;
}

int ctl_frame_len(const unsigned char hdr[4], size_t *len, char *err, size_t errlen)
{
	*len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (*len == 0 || *len > REMOTE_MSG_MAX) {
		snprintf(err, errlen, "a control message of %zu bytes: the limit is 1 to %d", *len, REMOTE_MSG_MAX);
		return -EMSGSIZE;
	}
	return 0;
}

/* ---- fields: each getter says what it wanted when the field is wrong ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* An integer field in [lo, hi]; absent: *out = dflt unless required. */
static int get_int(json_t *o, const char *key, long long lo, long long hi, bool required, long long dflt,
		   long long *out, const char *range, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!v && !required) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(err, errlen, "\"%s\" must be an integer from %s", key, range);
	*out = json_integer_value(v);
	return 0;
}

/* A non-negative integer that the far host counted: 0 to 2^63-1. */
static int get_count(json_t *o, const char *key, uint64_t *out, char *err, size_t errlen)
{
	long long v = 0;
	int r = get_int(o, key, 0, INT64_MAX, true, 0, &v, "0 to 2^63-1", err, errlen);

	*out = (uint64_t)v;
	return r;
}

/* A string field that fits buf (with its NUL) and holds no NUL; absent: "" unless required. */
static int get_str(json_t *o, const char *key, char *buf, size_t size, bool required, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	buf[0] = '\0';
	if (!v && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, errlen, "\"%s\" must be a string of at most %zu bytes, without NUL", key, size - 1);
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_bool(json_t *o, const char *key, bool *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, errlen, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* A CPU time in seconds: a number, at least 0 (JSON has no infinities; jansson refuses overflow). */
static int get_seconds(json_t *o, const char *key, double *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
		return fail(err, errlen, "\"%s\" must be a number of seconds, at least 0", key);
	*out = json_number_value(v);
	return 0;
}

/* Exactly n bytes as 2n lowercase hex digits; absent: *present false unless required. */
static int get_hex(json_t *o, const char *key, unsigned char *out, size_t n, bool required, bool *present,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	if (present)
		*present = false;
	if (!v && !required)
		return 0;
	if (!s || json_string_length(v) != 2 * n || strspn(s, "0123456789abcdef") != 2 * n)
		return fail(err, errlen, "\"%s\" must be %zu lowercase hex digits", key, 2 * n);
	for (size_t i = 0; i < n; i++) {
		char pair[3] = { s[2 * i], s[2 * i + 1], '\0' };

		out[i] = (unsigned char)strtoul(pair, NULL, 16);
	}
	if (present)
		*present = true;
	return 0;
}

static void put_hex(char *out, const unsigned char *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static int get_role(json_t *o, const char *key, bool required, enum role_kind *out, bool *present,
		    char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (present)
		*present = false;
	if (!json_object_get(o, key) && !required)
		return 0;
	if (s && !strcmp(s, "sink"))
		*out = RK_SINK;
	else if (s && !strcmp(s, "source"))
		*out = RK_SOURCE;
	else
		return fail(err, errlen, "\"%s\" must be \"sink\" or \"source\"", key);
	if (present)
		*present = true;
	return 0;
}

/* ---- messages ----------------------------------------------------------------- */

static int parse_version(json_t *o, struct ctl_msg *m, char *err, size_t errlen)
{
	long long v = 0;
	int r = get_int(o, "version", 1, INT32_MAX, true, 0, &v, "1 to 2^31-1 (this build speaks 1)", err, errlen);

	m->version = (int)v;
	return r;
}

static int parse_run(json_t *o, struct ctl_msg *m, char *err, size_t errlen)
{
	struct ctl_run *run = &m->run;
	long long v;
	int r;

	if ((r = parse_version(o, m, err, errlen)) ||
	    (r = get_role(o, "role", true, &run->role, NULL, err, errlen)) ||
	    (r = get_str(o, "scenario", run->scenario, sizeof(run->scenario), true, err, errlen)))
		return r;
	if (!run->scenario[0])
		return fail(err, errlen, "\"scenario\" must name a scenario");
	if ((r = get_int(o, "size", 0, CTL_SIZE_MAX, true, 0, &v, "0 to 1 TiB", err, errlen)))
		return r;
	run->size = v;
	if ((r = get_int(o, "block", 1, CTL_BLOCK_MAX, true, 0, &v, "1 to 1 GiB", err, errlen)))
		return r;
	run->block = v;
	if ((r = get_int(o, "sndbuf", 0, CTL_SOCKBUF_MAX, false, 0, &v, "0 to 1 GiB", err, errlen)))
		return r;
	run->sndbuf = (int)v;
	if ((r = get_int(o, "rcvbuf", 0, CTL_SOCKBUF_MAX, false, 0, &v, "0 to 1 GiB", err, errlen)))
		return r;
	run->rcvbuf = (int)v;
	if ((r = get_int(o, "close_at", -1, INT64_MAX, false, -1, &v, "-1 (none) to 2^63-1", err, errlen)))
		return r;
	run->close_at = v < 0 ? UINT64_MAX : (uint64_t)v;
	if ((r = get_bool(o, "nodelay", &run->nodelay, err, errlen)) ||
	    (r = get_bool(o, "discard", &run->discard, err, errlen)))
		return r;
	return 0;
}

static int parse_result(json_t *o, struct ctl_msg *m, char *err, size_t errlen)
{
	struct ctl_result *res = &m->result;
	json_t *verify = json_object_get(o, "verify"), *bad = json_object_get(o, "first_bad_offset");
	const char *digest = json_string_value(json_object_get(o, "digest"));
	long long v;
	char *end;
	int r;

	if ((r = get_int(o, "status", -4095, 0, true, 0, &v, "-4095 to 0 (0 or -errno)", err, errlen)))
		return r;
	res->status = (int)v;
	if ((r = get_str(o, "call", res->call, sizeof(res->call), false, err, errlen)) ||
	    (r = get_str(o, "what", res->what, sizeof(res->what), false, err, errlen)) ||
	    (r = get_str(o, "note", res->note, sizeof(res->note), false, err, errlen)) ||
	    (r = get_count(o, "bytes", &res->bytes, err, errlen)) ||
	    (r = get_count(o, "io_calls", &res->io_calls, err, errlen)) ||
	    (r = get_count(o, "io_short", &res->io_short, err, errlen)) ||
	    (r = get_count(o, "io_eintr", &res->io_eintr, err, errlen)) ||
	    (r = get_seconds(o, "cpu_user_s", &res->cpu_user_s, err, errlen)) ||
	    (r = get_seconds(o, "cpu_sys_s", &res->cpu_sys_s, err, errlen)) ||
	    (r = get_count(o, "ctx_voluntary", &res->ctx_voluntary, err, errlen)) ||
	    (r = get_count(o, "ctx_involuntary", &res->ctx_involuntary, err, errlen)) ||
	    (r = get_count(o, "faults_minor", &res->faults_minor, err, errlen)) ||
	    (r = get_count(o, "faults_major", &res->faults_major, err, errlen)))
		return r;
	if (json_is_null(verify))
		res->verify = -1;
	else if (json_is_string(verify) && !strcmp(json_string_value(verify), "ok"))
		res->verify = VERIFY_OK;
	else if (json_is_string(verify) && !strcmp(json_string_value(verify), "mismatch"))
		res->verify = VERIFY_MISMATCH;
	else if (json_is_string(verify) && !strcmp(json_string_value(verify), "skipped"))
		res->verify = VERIFY_SKIPPED;
	else
		return fail(err, errlen, "\"verify\" must be \"ok\", \"mismatch\", \"skipped\" or null");
	/* "0x" and 1 to 16 hex digits: strtoull alone would take signs, spaces and overflow. */
	if (!digest || strncmp(digest, "0x", 2) || strlen(digest) < 3 || strlen(digest) > 18 ||
	    strspn(digest + 2, "0123456789abcdefABCDEF") != strlen(digest + 2))
		return fail(err, errlen, "\"digest\" must be \"0x\" and 1 to 16 hex digits");
	res->digest = strtoull(digest + 2, &end, 16);
	res->has_bad = false;
	if (bad && !json_is_null(bad)) {
		if (!json_is_integer(bad) || json_integer_value(bad) < 0)
			return fail(err, errlen, "\"first_bad_offset\" must be null or an offset, at least 0");
		res->has_bad = true;
		res->first_bad_offset = json_integer_value(bad);
	}
	return 0;
}

static int parse_reply(json_t *o, struct ctl_msg *m, char *err, size_t errlen)
{
	struct ctl_reply *rep = &m->reply;
	json_t *ok = json_object_get(o, "ok");
	long long v;
	int r;

	if (!json_is_boolean(ok))
		return fail(err, errlen, "\"ok\" must be true or false");
	rep->ok = json_is_true(ok);
	if (!rep->ok) {
		if ((r = get_str(o, "error", rep->error, sizeof(rep->error), true, err, errlen)))
			return r;
		return 0;
	}
	if ((r = get_role(o, "daemon", false, &rep->daemon, &rep->has_daemon, err, errlen)))
		return r;
	if (rep->has_daemon) {
		if ((r = get_int(o, "version", 1, INT32_MAX, true, 0, &v, "1 to 2^31-1", err, errlen)))
			return r;
		rep->version = (int)v;
		if ((r = get_int(o, "pid", 1, INT32_MAX, false, 0, &v, "1 to 2^31-1", err, errlen)))
			return r;
		rep->pid = (int)v;
	}
	if ((r = get_str(o, "token", rep->token, sizeof(rep->token), false, err, errlen)) ||
	    (r = get_hex(o, "nonce", rep->nonce, sizeof(rep->nonce), false, &rep->has_nonce, err, errlen)))
		return r;
	if (rep->token[0] && (strlen(rep->token) != REMOTE_TOKEN_LEN ||
			      strspn(rep->token, "0123456789abcdef") != REMOTE_TOKEN_LEN))
		return fail(err, errlen, "\"token\" must be %d lowercase hex digits", REMOTE_TOKEN_LEN);
	if (!rep->has_daemon && !rep->token[0])
		return fail(err, errlen, "a reply with \"ok\":true must carry \"daemon\" (to hello) or \"token\" (to run)");
	return 0;
}

int ctl_parse(const char *text, size_t len, struct ctl_msg *m, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	const char *op;
	int r;

	memset(m, 0, sizeof(*m));
	if (len == 0 || len > REMOTE_MSG_MAX)
		return fail(err, errlen, "a control message of %zu bytes: the limit is 1 to %d", len, REMOTE_MSG_MAX);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return fail(err, errlen, "a malformed control message: %s", je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return fail(err, errlen, "a malformed control message: not a JSON object");
	}
	op = json_string_value(json_object_get(o, "op"));
	if (!op && json_object_get(o, "op")) {
		r = fail(err, errlen, "\"op\" must be a string: hello, auth, run, go or result");
	} else if (!op) {
		m->op = CTL_REPLY;
		r = json_object_get(o, "ok") ? parse_reply(o, m, err, errlen)
		    : fail(err, errlen, "a control message needs \"op\" (hello, auth, run, go, result) or, as a reply, \"ok\"");
	} else if (!strcmp(op, "hello")) {
		m->op = CTL_HELLO;
		r = parse_version(o, m, err, errlen);
	} else if (!strcmp(op, "auth")) {
		m->op = CTL_AUTH;
		r = get_hex(o, "mac", m->auth.mac, sizeof(m->auth.mac), true, NULL, err, errlen);
	} else if (!strcmp(op, "run")) {
		m->op = CTL_RUN;
		r = parse_run(o, m, err, errlen);
	} else if (!strcmp(op, "go")) {
		m->op = CTL_GO;
		r = 0;
	} else if (!strcmp(op, "result")) {
		m->op = CTL_RESULT;
		r = parse_result(o, m, err, errlen);
	} else {
		r = fail(err, errlen, "unknown op \"%.40s\"; expected hello, auth, run, go or result", op);
	}
	json_decref(o);
	return r;
}

/* ---- writing -------------------------------------------------------------------- */

static json_t *result_to_json(const struct ctl_result *res)
{
	static const char *const verify_names[] = {
		[VERIFY_OK] = "ok", [VERIFY_MISMATCH] = "mismatch", [VERIFY_SKIPPED] = "skipped",
	};
	const char *verify = res->verify >= 0 && res->verify < (int)(sizeof(verify_names) / sizeof(verify_names[0]))
			     ? verify_names[res->verify] : NULL;
	char digest[24];

	snprintf(digest, sizeof(digest), "0x%016" PRIx64, res->digest);
	return json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:s, s:s, s:o,"
			 " s:f, s:f, s:I, s:I, s:I, s:I}",
			 "op", "result", "status", res->status, "call", res->call, "what", res->what,
			 "bytes", (json_int_t)res->bytes, "io_calls", (json_int_t)res->io_calls,
			 "io_short", (json_int_t)res->io_short, "io_eintr", (json_int_t)res->io_eintr,
			 "verify", verify ? json_string(verify) : json_null(),
			 "digest", digest, "note", res->note,
			 "first_bad_offset", res->has_bad ? json_integer((json_int_t)res->first_bad_offset) : json_null(),
			 "cpu_user_s", res->cpu_user_s, "cpu_sys_s", res->cpu_sys_s,
			 "ctx_voluntary", (json_int_t)res->ctx_voluntary,
			 "ctx_involuntary", (json_int_t)res->ctx_involuntary,
			 "faults_minor", (json_int_t)res->faults_minor,
			 "faults_major", (json_int_t)res->faults_major);
}

static json_t *reply_to_json(const struct ctl_reply *rep)
{
	json_t *o;

	if (!rep->ok)
		return json_pack("{s:b, s:s}", "ok", 0, "error", rep->error);
	if (!(o = json_pack("{s:b}", "ok", 1)))
		return NULL;
	if (rep->has_daemon && (json_object_set_new(o, "daemon", json_string(ctl_role_name(rep->daemon))) ||
				json_object_set_new(o, "version", json_integer(rep->version)) ||
				(rep->pid && json_object_set_new(o, "pid", json_integer(rep->pid)))))
		goto fail;
	if (rep->token[0] && json_object_set_new(o, "token", json_string(rep->token)))
		goto fail;
	if (rep->has_nonce) {
		char hex[2 * CTL_NONCE_LEN + 1];

		put_hex(hex, rep->nonce, sizeof(rep->nonce));
		if (json_object_set_new(o, "nonce", json_string(hex)))
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *ctl_to_json(const struct ctl_msg *m)
{
	const struct ctl_run *run = &m->run;

	switch (m->op) {
	case CTL_HELLO:
		return json_pack("{s:s, s:i}", "op", "hello", "version", m->version);
	case CTL_RUN:
		return json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:i, s:i, s:b, s:b, s:I}",
				 "op", "run", "version", m->version, "role", ctl_role_name(run->role),
				 "scenario", run->scenario, "size", (json_int_t)run->size,
				 "block", (json_int_t)run->block, "sndbuf", run->sndbuf, "rcvbuf", run->rcvbuf,
				 "nodelay", run->nodelay, "discard", run->discard,
				 "close_at", run->close_at == UINT64_MAX ? (json_int_t)-1 : (json_int_t)run->close_at);
	case CTL_GO:
		return json_pack("{s:s}", "op", "go");
	case CTL_AUTH: {
		char hex[2 * CTL_MAC_LEN + 1];

		put_hex(hex, m->auth.mac, sizeof(m->auth.mac));
		return json_pack("{s:s, s:s}", "op", "auth", "mac", hex);
	}
	case CTL_RESULT:
		return result_to_json(&m->result);
	case CTL_REPLY:
		return reply_to_json(&m->reply);
	}
	return NULL;
}
