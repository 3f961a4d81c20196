/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the control messages of the nic daemons and their
 * driver (harness/engine/control.c), which both sides read through ctl_parse.
 * The input is read two ways: as one message's text, and as a frame (the
 * 4-byte big-endian length, then that many bytes of text) the way
 * remote_recv reads the socket.  Checks control.h's promises: a refusal
 * comes with a sentence; an accepted message has every field inside its
 * range, strings that end within their arrays, and writes back (ctl_to_json)
 * to text that parses into the same struct.
 */
#include "harness/engine/control.h"
#include "harness/results/record.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_fields(const struct ctl_msg *m)
{
	switch (m->op) {
	case CTL_HELLO:
		if (m->version < 1)
			abort();
		break;
	case CTL_RUN:
		if (m->version < 1 || (m->run.role != RK_SINK && m->run.role != RK_SOURCE))
			abort();
		if (!terminated(m->run.scenario, sizeof(m->run.scenario)) || !m->run.scenario[0])
			abort();
		if (m->run.size > CTL_SIZE_MAX || m->run.block < 1 || m->run.block > CTL_BLOCK_MAX)
			abort();
		if (m->run.sndbuf < 0 || m->run.sndbuf > CTL_SOCKBUF_MAX || m->run.rcvbuf < 0 ||
		    m->run.rcvbuf > CTL_SOCKBUF_MAX)
			abort();
		break;
	case CTL_GO:
	case CTL_AUTH:		/* 32 bytes, any values: nothing more to hold */
		break;
	case CTL_RESULT:
		if (m->result.status > 0 || m->result.status < -4095)
			abort();
		if (!terminated(m->result.call, sizeof(m->result.call)) ||
		    !terminated(m->result.what, sizeof(m->result.what)) ||
		    !terminated(m->result.note, sizeof(m->result.note)))
			abort();
		if (m->result.verify != -1 && m->result.verify != VERIFY_OK && m->result.verify != VERIFY_MISMATCH &&
		    m->result.verify != VERIFY_SKIPPED)
			abort();
		if (!(m->result.cpu_user_s >= 0) || !(m->result.cpu_sys_s >= 0))
			abort();	/* also catches NaN */
		if (m->result.bytes > INT64_MAX || m->result.io_calls > INT64_MAX)
			abort();
		break;
	case CTL_REPLY:
		if (!terminated(m->reply.error, sizeof(m->reply.error)) || !terminated(m->reply.token, sizeof(m->reply.token)))
			abort();
		if (m->reply.token[0] && (strlen(m->reply.token) != REMOTE_TOKEN_LEN ||
					  strspn(m->reply.token, "0123456789abcdef") != REMOTE_TOKEN_LEN))
			abort();
		if (m->reply.ok && !m->reply.has_daemon && !m->reply.token[0])
			abort();
		if (m->reply.has_daemon && m->reply.daemon != RK_SINK && m->reply.daemon != RK_SOURCE)
			abort();
		break;
	default:
		abort();
	}
}

/* What the parser accepted, written back and read again, is the same message. */
static void check_round_trip(const struct ctl_msg *m)
{
	json_t *o = ctl_to_json(m);
	struct ctl_msg again;
	char err[256], *text;

	if (!o)
		abort();
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(o);
	if (!text)
		abort();
	if (ctl_parse(text, strlen(text), &again, err, sizeof(err)) != 0)
		abort();
	if (memcmp(&again, m, sizeof(again)))
		abort();
	free(text);
}

static void parse_one(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes: ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1), err[256];
	struct ctl_msg m;
	int r;

	if (!buf)
		return;
	memcpy(buf, data, size);
	err[0] = '\0';
	r = ctl_parse(buf, size, &m, err, sizeof(err));
	if (r == 0) {
		check_fields(&m);
		check_round_trip(&m);
	} else if (r != -EPROTO || !err[0] || !terminated(err, sizeof(err))) {
		abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t len;

	parse_one(data, size);
	if (size >= 4) {
		int r = ctl_frame_len(data, &len, err, sizeof(err));

		if ((r == 0) != (len >= 1 && len <= REMOTE_MSG_MAX) || (r && r != -EMSGSIZE))
			abort();
		if (r == 0 && len <= size - 4)
			parse_one(data + 4, len);
	}
	return 0;
}
