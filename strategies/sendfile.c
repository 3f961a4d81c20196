/* SPDX-License-Identifier: MIT */
/*
 * sendfile: the kernel copies file pages to the output itself; no byte
 * enters user memory.  The input must be a file the page cache can read.
 */
#include "io.h"

#include <errno.h>

struct sendfile_state {
	off_t off;	/* next input offset; the fd's own position is left alone */
};

static int sendfile_setup(struct xfer *x)
{
	struct sendfile_state *st = x->priv;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	st->off = (off_t)x->in_offset;
	return 0;
}

/* One sendfile() of up to a block; it advances st->off by what it sent. */
static ssize_t sendfile_move(struct xfer *x)
{
	struct sendfile_state *st = x->priv;
	uint64_t left = x->total - ((uint64_t)st->off - x->in_offset);
	size_t want = left < x->block ? (size_t)left : x->block;
	ssize_t n;

	if (left == 0)
		return 0;
	n = io_sendfile(x, x->out_fd, x->in_fd, &st->off, want);
	if (n < 0)
		return n;
	/* sendfile returns 0 at the input's EOF: the file is shorter than total. */
	if (n == 0)
		return io_fail(x, "sendfile", EIO);
	x->moved += (uint64_t)n;
	return n;
}

static void sendfile_teardown(struct xfer *x)
{
}

#define SENDFILE_NEEDS_FILE \
	"sendfile cannot read from a socket: its input must support mmap-like page-cache reads (a regular file)"

const struct strategy strategy_sendfile = {
	.name = "sendfile",
	.summary = "sendfile(): the kernel copies file pages to the socket or file, no user buffer",
	.needs = "Linux 2.2 or later; the input must be a file in the page cache (not a socket); the output may be any file since 2.6.33, a socket before",
	.caveat = {
		[SC_SERVE] = "the bytes never enter user memory, so TLS in user space is impossible (kTLS is the kernel's way, and a kernel built without CONFIG_TLS lacks it)",
		[SC_COPY] = "copy_file_range does the same file to file and lets the file system share extents instead of copying",
	},
	.support = {
		[SC_SERVE] = { .ok = true },
		[SC_SEND] = { .why_not = "sendfile reads from a file descriptor; application memory has none (use write/send or vmsplice)" },
		[SC_RELAY] = { .why_not = SENDFILE_NEEDS_FILE },
		[SC_FANOUT] = { .why_not = SENDFILE_NEEDS_FILE },
		[SC_STORE] = { .why_not = SENDFILE_NEEDS_FILE },
		[SC_COPY] = { .ok = true },
		[SC_ECHO] = { .why_not = SENDFILE_NEEDS_FILE },
		[SC_PIPE] = { .why_not = "sendfile reads from a file descriptor; application memory has none (vmsplice puts memory into a pipe)" },
		[SC_RECV] = { .why_not = "sendfile reads from a file; recv reads a socket into the role's own memory, which is no descriptor to send to" },
	},
	.tunables = 0,
	.priv_size = sizeof(struct sendfile_state),
	.setup = sendfile_setup,
	.move = sendfile_move,
	.no_user_buffer = true,
	.teardown = sendfile_teardown,
};
