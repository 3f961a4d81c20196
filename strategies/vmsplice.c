/* SPDX-License-Identifier: MIT */
/*
 * vmsplice: hand pages of application memory to a pipe by reference (no
 * copy into the pipe); for send, splice that pipe on to the socket.
 *
 * The buffer-reuse hazard of vmsplice (changing memory whose pages still
 * sit in a pipe changes the data in flight) cannot arise here: the payload
 * x->mem, or our private copy of it, is never written after setup.  The
 * pipe holds references to the pages, so they outlive even our munmap of
 * the private copy in teardown.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

struct vmsplice_state {
	const unsigned char *src;	/* x->mem or mem_copy */
	unsigned char *mem_copy;	/* huge-page private copy of x->mem */
	size_t mem_copy_len;
	int pipe[2];			/* send: our pipe in front of the socket */
	bool pipe_open;
	size_t pipe_size;
	size_t in_pipe;			/* send: bytes in our pipe */
	uint64_t off;			/* bytes of the payload handed to a pipe */
};

static int vmsplice_setup(struct xfer *x)
{
	struct vmsplice_state *st = x->priv;
	int ret;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	st->src = x->mem;
	if (x->tun.hugepages && x->total > 0) {
		ret = io_buffer_alloc(x, x->total, true, (void **)&st->mem_copy);
		if (ret < 0)
			return ret;
		st->mem_copy_len = x->total;
		memcpy(st->mem_copy, x->mem, x->total);
		st->src = st->mem_copy;
	}
	if (x->scenario == SC_SEND) {
		ret = io_pipe_open(x, st->pipe, &st->pipe_size);
		if (ret < 0)
			return ret;
		st->pipe_open = true;
	}
	return 0;
}

/* vmsplice the next slice of the payload (up to a block) into pipe_w. */
static ssize_t give_slice(struct xfer *x, struct vmsplice_state *st, int pipe_w)
{
	uint64_t left = x->total - st->off;
	struct iovec iov = {
		.iov_base = (void *)(st->src + st->off),
		.iov_len = left < x->block ? (size_t)left : x->block,
	};
	unsigned int flags = (x->tun.nonblock ? SPLICE_F_NONBLOCK : 0) |
			     (x->tun.gift ? SPLICE_F_GIFT : 0);
	ssize_t n = io_vmsplice(x, pipe_w, &iov, 1, flags);

	if (n < 0)
		return n;
	if (n == 0)
		return io_fail(x, "vmsplice", EIO);
	st->off += (uint64_t)n;
	return n;
}

/* pipe: straight into the harness's pipe, whose reader drains it. */
static ssize_t vmsplice_to_out_pipe(struct xfer *x, struct vmsplice_state *st)
{
	ssize_t n;

	if (st->off == x->total)
		return 0;
	n = give_slice(x, st, x->out_fd);
	if (n > 0)
		x->moved += (uint64_t)n;
	return n;
}

/* Splice our whole pipe to the socket, resuming where an EAGAIN stopped. */
static ssize_t drain_to_socket(struct xfer *x, struct vmsplice_state *st)
{
	unsigned int flags = io_splice_flags(x, true);
	ssize_t n, progress = 0;

	/* The payload's last bytes: no more follow, so do not hold the segment. */
	if (st->off == x->total)
		flags &= ~SPLICE_F_MORE;
	while (st->in_pipe > 0) {
		n = io_splice(x, st->pipe[0], NULL, x->out_fd, NULL, st->in_pipe, flags,
			      x->out_fd, POLLOUT);
		if (n < 0)
			return n;
		if (n == 0)
			return io_fail(x, "splice", EIO);
		st->in_pipe -= (size_t)n;
		x->moved += (uint64_t)n;
		progress += n;
	}
	return progress;
}

/*
 * send: fill our pipe only when it is empty, then drain it completely (the
 * rule splice.c explains), one cycle per call.
 */
static ssize_t vmsplice_to_socket(struct xfer *x, struct vmsplice_state *st)
{
	ssize_t n;

	if (st->in_pipe == 0) {
		if (st->off == x->total)
			return 0;
		n = give_slice(x, st, st->pipe[1]);
		if (n < 0)
			return n;
		st->in_pipe = (size_t)n;
	}
	return drain_to_socket(x, st);
}

static ssize_t vmsplice_move(struct xfer *x)
{
	struct vmsplice_state *st = x->priv;

	if (x->scenario == SC_PIPE)
		return vmsplice_to_out_pipe(x, st);
	return vmsplice_to_socket(x, st);
}

static void vmsplice_teardown(struct xfer *x)
{
	struct vmsplice_state *st = x->priv;

	if (!st)
		return;
	if (st->pipe_open)
		io_pipe_close(st->pipe);
	st->pipe_open = false;
	io_buffer_free(st->mem_copy, st->mem_copy_len, true);
	st->mem_copy = NULL;
	st->mem_copy_len = 0;
}

#define VMSPLICE_NEEDS_MEMORY \
	"vmsplice maps application memory into a pipe; this input is a descriptor, which splice moves"

const struct strategy strategy_vmsplice = {
	.name = "vmsplice",
	.summary = "vmsplice() application memory into a pipe by page reference; send splices the pipe to the socket",
	.needs = "Linux 2.6.17 or later; the pipe keeps references to the application's pages, so a buffer must not be written again until the reader has consumed it (a ring of buffers as large as the pipe)",
	.support = {
		[SC_SERVE] = { .why_not = VMSPLICE_NEEDS_MEMORY },
		[SC_SEND] = { .ok = true },
		[SC_RELAY] = { .why_not = VMSPLICE_NEEDS_MEMORY },
		[SC_FANOUT] = { .why_not = VMSPLICE_NEEDS_MEMORY },
		[SC_STORE] = { .why_not = VMSPLICE_NEEDS_MEMORY },
		[SC_COPY] = { .why_not = VMSPLICE_NEEDS_MEMORY },
		[SC_ECHO] = { .why_not = VMSPLICE_NEEDS_MEMORY },
		[SC_PIPE] = { .ok = true },
		[SC_RECV] = { .why_not = VMSPLICE_NEEDS_MEMORY },
	},
	.tunables = TUN_PIPE_SIZE | TUN_MORE | TUN_GIFT | TUN_HUGEPAGES | TUN_BUSY,
	.priv_size = sizeof(struct vmsplice_state),
	.setup = vmsplice_setup,
	.move = vmsplice_move,
	.teardown = vmsplice_teardown,
};
