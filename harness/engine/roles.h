/* SPDX-License-Identifier: MIT */
/*
 * The roles of a repetition.  The tested role drives a strategy; the fixed
 * roles (source, sink, echo client) are one implementation for every
 * strategy, so only the role under test differs between cells.
 */
#ifndef COPYLAB_ROLES_H
#define COPYLAB_ROLES_H

#include "run.h"
#include "harness/measure/latency.h"

enum role_kind { RK_TESTED, RK_SOURCE, RK_SINK, RK_ECHO_CLIENT };

#define FIXED_IO_BLOCK (64 * 1024)
/* --conns: calls of FIXED_IO_BLOCK per connection per turn of a fixed role's loop */
#define FIXED_TURN_CALLS 4

/* What a role process tells the parent when it ends (one atomic pipe write). */
struct role_report {
	int32_t status;			/* 0 or -errno */
	char call[24];			/* the syscall that failed */
	char what[96];			/* extra context for the error */
	struct role_result res;
	int32_t verify;			/* enum verify_state; -1: not a verifying role */
	uint64_t digest;
	char note[160];
	char perf_note[96];
	uint64_t pipe_granted;
	int32_t thp_granted;		/* the strategy's memory is backed by huge pages */
	struct zerocopy_counters zc;
	struct zcrecv_counters zcr;	/* the tested role's zero-copy receive */
	char fixed_sender[16];		/* a source role: "send" or "msg_zerocopy" */
	struct latency_summary latency;	/* the echo client's round trips */
	int64_t t_end_ns;		/* CLOCK_MONOTONIC at the role's last byte */
};

/* Everything a role needs, decided by the parent before fork. */
struct role_ctx {
	enum role_kind kind;
	const struct run_config *c;
	const struct strategy_spec *spec;
	const struct run_inputs *in;
	int in_fd, out_fd;		/* sockets or pipe ends; -1 for files/memory */
	/*
	 * --conns N (serve, relay): the role's N connections, in_fds[0] and
	 * out_fds[0] being in_fd and out_fd; unused entries are -1.
	 */
	int nconn;
	int in_fds[MAX_CONNS], out_fds[MAX_CONNS];
	/* Shared with the parent: CLOCK_MONOTONIC of each connection's last byte
	 * at the receiving role (MAX_CONNS entries). */
	int64_t *conn_end_ns;
	const char *out_path;		/* file output of the tested role, or NULL */
	const char *out2_path;		/* fanout's recording, or NULL */
	int slot;			/* the role's index: its ledger slot */
	int go_fd;			/* barrier: read returns 0 at release */
	int report_fd;			/* where the report goes */
};

/* Runs in the child; never returns. */
void role_main(const struct role_ctx *r) __attribute__((noreturn));

int64_t now_ns(void);

#endif
