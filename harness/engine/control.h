/* SPDX-License-Identifier: MIT */
/*
 * nic mode's control messages, without the sockets: the frame header, and
 * one message's text parsed and checked into a typed struct, and back.
 * The daemons (remote_daemon.c) and the driver (remote.c) both read every
 * message through ctl_parse; tests/unit/test_control.c and the libFuzzer target
 * tests/fuzz/fuzz_control.c hold it to what remote.h promises.
 */
#ifndef COPYLAB_CONTROL_H
#define COPYLAB_CONTROL_H

#include "roles.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REMOTE_MSG_MAX (64 * 1024)	/* the longest message text */
#define REMOTE_VERSION 1
#define REMOTE_TOKEN_LEN 32		/* lowercase hex */
#define CTL_SCENARIO_MAX 32		/* scenario names are shorter than this */
#define CTL_SIZE_MAX (1ull << 40)	/* a run of at most 1 TiB */
#define CTL_BLOCK_MAX (1ull << 30)
#define CTL_SOCKBUF_MAX (1 << 30)
#define CTL_NONCE_LEN 32		/* bytes of the daemon's challenge (64 hex on the wire) */
#define CTL_MAC_LEN 32			/* bytes of HMAC-SHA256 (64 hex on the wire) */

enum ctl_op {
	CTL_HELLO,	/* driver -> daemon: which role do you play? */
	CTL_RUN,	/* driver -> daemon: one repetition's parameters */
	CTL_GO,		/* driver -> daemon: the barrier is released */
	CTL_RESULT,	/* daemon -> driver: the far role's outcome and counters */
	CTL_REPLY,	/* daemon -> driver: {"ok":...} to a hello, an auth or a run */
	CTL_AUTH,	/* driver -> daemon: the key's answer to the hello's nonce */
};

struct ctl_run {
	enum role_kind role;		/* RK_SINK or RK_SOURCE */
	char scenario[CTL_SCENARIO_MAX];
	uint64_t size, block;
	uint64_t close_at;		/* --fault sink-close=N; UINT64_MAX: none */
	int sndbuf, rcvbuf;		/* 0: the kernel's default */
	bool nodelay, discard;
};

struct ctl_result {
	int status;			/* 0 or -errno */
	char call[24], what[96], note[160];
	uint64_t bytes, io_calls, io_short, io_eintr;
	int verify;			/* VERIFY_OK, _MISMATCH, _SKIPPED (record.h), or -1: none */
	uint64_t digest;
	bool has_bad;			/* first_bad_offset is set */
	uint64_t first_bad_offset;
	double cpu_user_s, cpu_sys_s;
	uint64_t ctx_voluntary, ctx_involuntary, faults_minor, faults_major;
};

struct ctl_reply {
	bool ok;
	char error[256];		/* the daemon's reason, when !ok */
	bool has_daemon;		/* an answer to hello: */
	enum role_kind daemon;		/*   the role it plays */
	int version, pid;
	char token[REMOTE_TOKEN_LEN + 1];	/* an answer to run: "" when none */
	bool has_nonce;			/* hello's answer from a daemon that needs a key: */
	unsigned char nonce[CTL_NONCE_LEN];	/*   the challenge to prove it on */
};

struct ctl_auth {
	unsigned char mac[CTL_MAC_LEN];	/* HMAC-SHA256 (remote_auth.h) */
};

struct ctl_msg {
	enum ctl_op op;
	int version;			/* hello's and run's protocol version */
	union {
		struct ctl_run run;
		struct ctl_result result;
		struct ctl_reply reply;
		struct ctl_auth auth;
	};
};

/*
 * The frame's 4-byte big-endian header: *len, the length of the text that
 * follows.  0, or -EMSGSIZE (0 bytes, or over REMOTE_MSG_MAX) with err.
 */
int ctl_frame_len(const unsigned char hdr[4], size_t *len, char *err, size_t errlen);

/*
 * One message's text (len bytes, need not end in NUL) into *m.  0, or
 * -EPROTO with a sentence in err naming what is wrong and what would be
 * right.  Checks types and ranges only; whether the op or role is the one
 * expected now is the caller's business.  Unknown keys are ignored.
 */
int ctl_parse(const char *text, size_t len, struct ctl_msg *m, char *err, size_t errlen);

/* The message as a JSON object (new reference), for remote_send; NULL if out of memory. */
json_t *ctl_to_json(const struct ctl_msg *m);

/* "sink", "source" (the names on the wire), or NULL for another kind. */
const char *ctl_role_name(enum role_kind k);

#endif
