/* SPDX-License-Identifier: MIT */
/*
 * The io_uring pipeline the uring_* strategies share: a FIFO of slots
 * (buffers, or pipes for uring_splice) between input and output.  Input
 * operations fill slots in stream order, output operations drain them in
 * the same order; completions are reaped and new operations queued on
 * every move().  What an operation is (READ/RECV, WRITE/SEND, SPLICE,
 * SEND_ZC) is the strategy's choice through struct uring_ops.
 *
 * Waiting: in blocking mode move() submits and waits for one completion in
 * the same io_uring_enter (io_uring_submit_and_wait): one syscall per
 * round trip.  With --nonblock it submits, and when no completion is ready
 * returns -EAGAIN with the ring's fd and POLLIN as what to wait for (a
 * ring fd polls readable when its completion queue is not empty), so an
 * event loop can drive many rings; that costs one poll per wait more.
 *
 * Built only with liburing (HAVE_LIBURING); without it the uring_*
 * strategies say so in their support table.
 */
#ifndef COPYLAB_URING_H
#define COPYLAB_URING_H

#include "strategy.h"

/*
 * The ring's limits, outside HAVE_LIBURING: the label parser checks ring=
 * and batch= against them with uring_check_tunables, which
 * uring_pipeline_open applies as well, so a label that would fail at setup
 * is a usage error instead.
 */
#define URING_MAX_SLOTS 64
#define URING_DEFAULT_ENTRIES 64
#define URING_MAX_ENTRIES 4096	/* copylab's bound; the kernel's is 32768 */
#define URING_DEFAULT_BATCH 4
/* Each slot may have an input, an output and a poll in the submission queue. */
#define URING_SQES_PER_SLOT 3

/*
 * 0 when ring= and batch= (or their defaults) fit each other: batch at most
 * URING_MAX_SLOTS and URING_SQES_PER_SLOT * batch + 1 entries at most ring.
 * Otherwise -EINVAL and why says the rule in a sentence.
 */
int uring_check_tunables(const struct tunables *t, char *why, size_t len);

#ifdef HAVE_LIBURING
#include <liburing.h>

/* Kernels since 6.2 know these; liburing 2.3's headers do not. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

/* send_zc: bytes kept in flight by default, whatever the block (uring.c says why) */
#define URING_ZC_BYTES_IN_FLIGHT (512u << 10)

enum uslot_state { US_FREE, US_READING, US_FULL, US_NOTIF };

struct uslot {
	unsigned char *buf;	/* a buffer, or NULL for a pipe slot */
	int pipe[2];		/* uring_splice: the slot's pipe */
	uint64_t off;		/* stream offset of the slot's first byte */
	size_t want;		/* file/memory input: bytes this slot gets */
	size_t len;		/* bytes in the slot */
	size_t out_done;	/* of those, written (or handed to send) */
	unsigned in_ops, out_ops;	/* operations in flight on this slot */
	unsigned notifs;	/* send_zc: notifications still to come */
	uint32_t zc_size[16];	/* send_zc: their sends' sizes, oldest first */
	unsigned zc_head;
	enum uslot_state st;
};

struct uring_pipeline;

/* How a strategy reads into and writes out of a slot.  Each preps one SQE. */
struct uring_ops {
	/* Read into s at s->off + s->len, up to s->want - s->len (file) or the slot's room. */
	void (*prep_in)(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s);
	/* Write the slot's bytes from s->out_done on. */
	void (*prep_out)(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s);
	/* For errors, by endpoint kind: "io_uring_read", "io_uring_send"... */
	const char *in_file_name, *in_sock_name, *out_file_name, *out_sock_name;
	bool zc;			/* output is SEND_ZC: slots wait for notifications */
};

struct uring_pipeline {
	struct xfer *x;
	const struct uring_ops *ops;
	struct io_uring ring;
	bool initialized;		/* slots' pipe fds are -1, not 0: safe to close */
	bool ring_open;
	unsigned nslots;		/* the batch: slots, so operations in flight */
	size_t slot_size;		/* bytes a slot holds */
	size_t setup_block;		/* x->block at setup: a rearm may not ask for more */
	unsigned in_max;		/* input operations in flight at most */
	struct uslot slot[URING_MAX_SLOTS];
	unsigned r, w;			/* next slot to fill / to drain (FIFO) */
	uint64_t in_next;		/* stream offset the next slot starts at */
	bool in_eof;			/* socket or pipe input ended */
	unsigned in_flight, out_flight;
	bool in_file, in_mem, out_file;
	bool out_mem;			/* recv: a full slot is used where it lies, no output op */
	uint64_t in_base;		/* file input: offset of the stream's first byte */
	const char *in_name, *out_name;	/* the failing operation's name */
	unsigned char *mem;		/* the slots' buffers */
	size_t mem_len;
};

/*
 * Open the ring (ring=, sqpoll from the tunables) and lay out nslots slots
 * of slot_size bytes; with_buffers allocates their memory.  in_max: input
 * operations in flight at once (1 keeps a socket's reads in order).
 */
int uring_pipeline_open(struct xfer *x, struct uring_pipeline *p, const struct uring_ops *ops,
			size_t slot_size, bool with_buffers);
void uring_pipeline_close(struct uring_pipeline *p);
/*
 * The strategies' rearm (strategy.h): the ring and the slots serve the
 * next transfer of the same xfer once the last one ended; -ENOSPC for a
 * larger block, -EBUSY if anything is still in flight.
 */
int uring_rearm(struct xfer *x);
/* One step: reap, queue, submit (and wait in blocking mode). */
ssize_t uring_pipeline_move(struct uring_pipeline *p);
/* 0 if the running kernel's io_uring has opcode op, else -EOPNOTSUPP naming it. */
int uring_need_opcode(struct xfer *x, struct io_uring *ring, int op, const char *name);
/* -EOPNOTSUPP when fd is an AF_UNIX socket and the strategy cannot use one. */
int uring_refuse_unix(struct xfer *x, int fd, const char *why_call);

#endif /* HAVE_LIBURING */

#define URING_MISSING "built without liburing (install liburing-dev and rebuild)"

/*
 * A uring_* strategy's table, built with liburing or without: without it,
 * every scenario the strategy supports says why it cannot run
 * (URING_MISSING), and its calls are the uring_unbuilt_* ones, which only
 * refuse.
 */
#ifdef HAVE_LIBURING
#define URING_OK { .ok = true }
#define URING_PRIV_SIZE sizeof(struct uring_pipeline)
#define URING_TUNABLES(t) (t)
#define URING_SETUP(fn) (fn)
#define URING_MOVE(fn) (fn)
#define URING_TEARDOWN(fn) (fn)
#define URING_REARM uring_rearm
#else
#define URING_OK { .why_not = URING_MISSING }
#define URING_PRIV_SIZE 0
#define URING_TUNABLES(t) 0
#define URING_SETUP(fn) uring_unbuilt_setup
#define URING_MOVE(fn) uring_unbuilt_move
#define URING_TEARDOWN(fn) uring_unbuilt_teardown
#define URING_REARM NULL
int uring_unbuilt_setup(struct xfer *x);
ssize_t uring_unbuilt_move(struct xfer *x);
void uring_unbuilt_teardown(struct xfer *x);
#endif

#endif
