/* SPDX-License-Identifier: MIT */
/*
 * The fixed roles, one implementation for every strategy: the source
 * (source.c), the sink (sink.c) and echo's client (echo_client.c).  Plain
 * blocking I/O, so that every strategy meets the same peers.
 */
#ifndef COPYLAB_FIXED_ROLES_H
#define COPYLAB_FIXED_ROLES_H

#include "rep.h"

/* Each runs in its role's process and ends it with role_exit(). */
void run_source(const struct role_ctx *r, struct role_report *rep) __attribute__((noreturn));
void run_sink(const struct role_ctx *r, struct role_report *rep) __attribute__((noreturn));
/* --conns N: the sink of N connections. */
void run_sink_many(const struct role_ctx *r, struct role_report *rep) __attribute__((noreturn));
void run_echo_client(const struct role_ctx *r, struct role_report *rep) __attribute__((noreturn));
/* relay --rps: the far end, a fixed read/write echo behind the relay under test. */
void run_echo_far(const struct role_ctx *r, struct role_report *rep) __attribute__((noreturn));

/*
 * How a fixed receiver reads (the sink, and echo's client for the replies):
 * up to EOF, or with the faults of --fault acting at exact byte counts
 * (each read is cut so the count lands on N).
 */
struct recv_plan {
	uint64_t stop_at;	/* stop reading here (sink-close, sink-reset, sink-stall) */
	uint64_t halfclose_at;	/* shutdown(SHUT_WR) here, then read on */
	uint64_t kill_at;	/* SIGKILL this process here */
	size_t max_read;	/* 0: what the verifier has room for */
	unsigned sleep_us;	/* between reads (sink-slow) */
	bool spin;		/* fd is non-blocking: read again at once on EAGAIN (pipe with busy) */
};

/* Up to EOF, no fault. */
extern const struct recv_plan plain_receive;

/* The plan the faults of r's run make for its receiver. */
struct recv_plan receiver_plan(const struct role_ctx *r);
/* Receive into the verifier until EOF, or until the plan says stop.  0 or rep->status. */
int receive_verified(int fd, struct verifier *v, const struct recv_plan *p, struct role_report *rep);
/* --fault sink-slow: the smallest receive buffer the kernel grants (it doubles and clamps). */
void shrink_receive_buffer(int fd);

#endif
