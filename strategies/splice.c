/* SPDX-License-Identifier: MIT */
/*
 * splice: input -> own pipe -> output, all inside the kernel.  splice needs
 * a pipe on one side of every call, so the strategy keeps one in between.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

struct splice_state {
	int pipe[2];
	bool pipe_open;
	size_t pipe_size;
	size_t in_pipe;		/* bytes in the pipe, not yet spliced out */
	loff_t in_off, out_off;	/* used when that side is a file */
	uint64_t consumed;	/* bytes taken from the input */
	bool eof;		/* socket input said EOF */
};

static int splice_setup(struct xfer *x)
{
	struct splice_state *st = x->priv;
	int ret;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	ret = io_pipe_open(x, st->pipe, &st->pipe_size);
	if (ret < 0)
		return ret;
	st->pipe_open = true;
	st->in_off = (loff_t)x->in_offset;	/* file input: where its range starts */
	return 0;
}

static bool input_done(const struct xfer *x, const struct splice_state *st)
{
	return st->eof || st->consumed == x->total;
}

/*
 * Fill the (empty) pipe from the input.  Only an empty pipe is filled:
 * socket data may take a pipe slot per fragment, so a partly full pipe can
 * have no slot left for the next splice and a blocking one would wait on
 * ourselves.  Returns bytes, 0 at the input's end, or a negative errno.
 */
static ssize_t fill_pipe(struct xfer *x, struct splice_state *st)
{
	bool in_file = x->in_kind == EP_FILE;
	uint64_t left = x->total - st->consumed;
	size_t want = left < x->block ? (size_t)left : x->block;
	ssize_t n;

	n = io_splice(x, x->in_fd, in_file ? &st->in_off : NULL, st->pipe[1], NULL, want,
		      io_splice_flags(x, false), x->in_fd, POLLIN);
	if (n < 0)
		return n;
	if (n == 0) {
		/* A socket ends with EOF; a file that ends early was truncated. */
		if (in_file)
			return io_fail(x, "splice", EIO);
		st->eof = true;
		return 0;
	}
	st->in_pipe = (size_t)n;
	st->consumed += (uint64_t)n;
	return n;
}

/* Splice the whole pipe to the output, resuming where an EAGAIN stopped. */
static ssize_t drain_pipe(struct xfer *x, struct splice_state *st)
{
	bool to_socket = x->out_kind == EP_SOCKET;
	unsigned int flags = io_splice_flags(x, to_socket);
	ssize_t n, progress = 0;

	/* The file's last bytes: no more follow, so do not hold the segment. */
	if (x->in_kind == EP_FILE && st->consumed == x->total)
		flags &= ~SPLICE_F_MORE;

	while (st->in_pipe > 0) {
		n = io_splice(x, st->pipe[0], NULL, x->out_fd,
			      x->out_kind == EP_FILE ? &st->out_off : NULL, st->in_pipe,
			      flags, x->out_fd, POLLOUT);
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

/* One cycle per call: fill the empty pipe, then drain it completely. */
static ssize_t splice_move(struct xfer *x)
{
	struct splice_state *st = x->priv;
	ssize_t n;

	if (st->in_pipe == 0) {
		if (input_done(x, st))
			return 0;
		n = fill_pipe(x, st);
		if (n <= 0)
			return n;
	}
	return drain_pipe(x, st);
}

static void splice_teardown(struct xfer *x)
{
	struct splice_state *st = x->priv;

	if (st && st->pipe_open) {
		io_pipe_close(st->pipe);
		st->pipe_open = false;
	}
}

const struct strategy strategy_splice = {
	.name = "splice",
	.summary = "splice() input into a pipe and the pipe into the output: bytes never leave the kernel",
	.needs = "Linux 2.6.17 or later; one end of every call must be a pipe, so each connection holds a pipe (two descriptors) whose size (F_SETPIPE_SZ, up to pipe-max-size without CAP_SYS_RESOURCE) bounds each call",
	.caveat = {
		[SC_RELAY] = "copylab relay runs it with 1 MiB calls and 1 MiB pipes; the pipe size changes its figures a lot (see the block and pipe beside each rank)",
		[SC_SERVE] = "the bytes never enter user memory, so TLS in user space is impossible",
	},
	.support = {
		[SC_SERVE] = { .ok = true },
		[SC_SEND] = { .why_not = "splice moves data between descriptors; application memory can only enter a pipe through vmsplice" },
		[SC_RELAY] = { .ok = true },
		[SC_FANOUT] = { .why_not = "splice moves each byte to one place; sending the same bytes to a second output needs tee to duplicate the pipe" },
		[SC_STORE] = { .ok = true },
		[SC_COPY] = { .ok = true },
		[SC_ECHO] = { .ok = true },
		[SC_PIPE] = { .why_not = "splice moves data between descriptors; application memory can only enter a pipe through vmsplice" },
		[SC_RECV] = { .why_not = "splice keeps the bytes in the kernel, between descriptors; recv's role must have them in its own memory to use them" },
	},
	.tunables = TUN_PIPE_SIZE | TUN_MORE | TUN_MOVE | TUN_BUSY,
	.unequal_answer_why_not = "splice moves the bytes it receives through a pipe unchanged and never sees them, so it can only send back exactly what came: an answer of another size must be written from the server's own memory (readwrite)",
	.priv_size = sizeof(struct splice_state),
	.setup = splice_setup,
	.move = splice_move,
	.teardown = splice_teardown,
	.no_user_buffer = true,
};
