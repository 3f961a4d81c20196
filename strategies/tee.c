/* SPDX-License-Identifier: MIT */
/*
 * tee: fanout without a user copy.  socket -> pipe A; tee(A -> B) shares
 * A's pages with B; B -> the file, A -> the socket, all by splice.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

struct tee_state {
	int a[2], b[2];		/* A feeds the socket, B the file */
	bool a_open, b_open;
	size_t pipe_size;
	/*
	 * tee always copies from A's head and does not consume it, so A's
	 * bytes are in two groups: a_dup at the head, already duplicated into
	 * B and not yet spliced to the socket, then the rest of a_len.  A tee
	 * while a_dup > 0 would duplicate those head bytes a second time.
	 */
	size_t a_len, a_dup, b_len;
	loff_t out2_off;
	bool eof;		/* input socket said EOF */
};

static int tee_setup(struct xfer *x)
{
	struct tee_state *st = x->priv;
	int ret;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	ret = io_pipe_open(x, st->a, &st->pipe_size);
	if (ret < 0)
		return ret;
	st->a_open = true;
	/* B gets A's size too: an empty B then has a slot for every slot of A. */
	ret = io_pipe_open(x, st->b, &st->pipe_size);
	if (ret < 0)
		return ret;
	st->b_open = true;
	return 0;
}

/* Refill the empty pipe A from the input socket (empty: see splice.c). */
static ssize_t fill_a(struct xfer *x, struct tee_state *st)
{
	ssize_t n = io_splice(x, x->in_fd, NULL, st->a[1], NULL, x->block,
			      io_splice_flags(x, false), x->in_fd, POLLIN);

	if (n < 0)
		return n;
	if (n == 0)
		st->eof = true;
	st->a_len = (size_t)n;
	return n;
}

/*
 * Duplicate A's not-yet-duplicated bytes into the empty B.  Only when B is
 * empty: B is drained by us, so a tee waiting for room in B would wait
 * forever, and B of A's size always has room for all of A.
 */
static ssize_t dup_a_into_b(struct xfer *x, struct tee_state *st)
{
	ssize_t n = io_tee(x, st->a[0], st->b[1], st->a_len,
			   x->tun.nonblock ? SPLICE_F_NONBLOCK : 0, st->b[1], POLLOUT);

	if (n < 0)
		return n;
	if (n == 0)
		return io_fail(x, "tee", EIO);
	st->a_dup = (size_t)n;
	st->b_len = (size_t)n;
	return n;
}

/* B -> the file, completely: a regular file does not say EAGAIN. */
static ssize_t drain_b(struct xfer *x, struct tee_state *st)
{
	ssize_t n, progress = 0;

	while (st->b_len > 0) {
		n = io_splice(x, st->b[0], NULL, x->out2_fd, &st->out2_off, st->b_len,
			      io_splice_flags(x, false), x->out2_fd, POLLOUT);
		if (n < 0)
			return n;
		if (n == 0)
			return io_fail(x, "splice", EIO);
		st->b_len -= (size_t)n;
		progress += n;
	}
	return progress;
}

/* A -> the socket, at most the bytes B already has a copy of. */
static ssize_t send_a(struct xfer *x, struct tee_state *st)
{
	ssize_t n = io_splice(x, st->a[0], NULL, x->out_fd, NULL, st->a_dup,
			      io_splice_flags(x, true), x->out_fd, POLLOUT);

	if (n < 0)
		return n;
	if (n == 0)
		return io_fail(x, "splice", EIO);
	st->a_dup -= (size_t)n;
	st->a_len -= (size_t)n;
	x->moved += (uint64_t)n;
	return n;
}

/* One cycle per call: refill A when empty, then duplicate and drain both. */
static ssize_t tee_move(struct xfer *x)
{
	struct tee_state *st = x->priv;
	ssize_t n, progress = 0;

	if (st->a_len == 0 && st->b_len == 0) {
		if (st->eof)
			return 0;
		n = fill_a(x, st);
		if (n <= 0)
			return n;
		progress += n;
	}
	while (st->a_len > 0 || st->b_len > 0) {
		if (st->a_dup == 0 && st->a_len > 0 && st->b_len == 0) {
			n = dup_a_into_b(x, st);
			if (n < 0)
				return n;
		}
		n = drain_b(x, st);
		if (n < 0)
			return n;
		progress += n;
		if (st->a_dup > 0) {
			n = send_a(x, st);
			if (n < 0)
				return n;
			progress += n;
		}
	}
	return progress;
}

static void tee_teardown(struct xfer *x)
{
	struct tee_state *st = x->priv;

	if (!st)
		return;
	if (st->a_open)
		io_pipe_close(st->a);
	if (st->b_open)
		io_pipe_close(st->b);
	st->a_open = st->b_open = false;
}

#define TEE_ONE_DESTINATION \
	"tee duplicates a pipe into another pipe; with one destination there is nothing to duplicate (use splice)"
#define TEE_NO_PIPE_FROM_MEMORY \
	"tee duplicates data already in a pipe; application memory enters a pipe only through vmsplice"

const struct strategy strategy_tee = {
	.name = "tee",
	.summary = "splice socket into pipe A, tee A into pipe B, splice B to the file and A to the socket",
	.needs = "Linux 2.6.17 or later; duplicates a pipe's pages without consuming them: two pipes (four descriptors) per connection",
	.support = {
		[SC_SERVE] = { .why_not = TEE_ONE_DESTINATION },
		[SC_SEND] = { .why_not = TEE_NO_PIPE_FROM_MEMORY },
		[SC_RELAY] = { .why_not = TEE_ONE_DESTINATION },
		[SC_FANOUT] = { .ok = true },
		[SC_STORE] = { .why_not = TEE_ONE_DESTINATION },
		[SC_COPY] = { .why_not = TEE_ONE_DESTINATION },
		[SC_ECHO] = { .why_not = TEE_ONE_DESTINATION },
		[SC_PIPE] = { .why_not = TEE_NO_PIPE_FROM_MEMORY },
		[SC_RECV] = { .why_not = "tee duplicates a pipe into another pipe; recv has no pipe, and one destination: the role's memory" },
	},
	.tunables = TUN_PIPE_SIZE | TUN_MORE | TUN_MOVE,
	.priv_size = sizeof(struct tee_state),
	.setup = tee_setup,
	.move = tee_move,
	.teardown = tee_teardown,
};
