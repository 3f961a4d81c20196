/* SPDX-License-Identifier: MIT */
/*
 * copy_file_range: file -> file with one syscall per block and no user
 * buffer.  The filesystem decides what happens underneath: a reflink
 * (btrfs, XFS with reflink, bcachefs: extents shared, no data moved), a
 * server-side copy (NFS 4.2, SMB), or, as on ext4, an in-kernel copy of
 * page-cache pages (do_splice_direct).  docs/strategies/copy_file_range.md
 * tells which and when it fails instead.
 */
#include "io.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

struct cfr_state {
	loff_t in_off, out_off;
};

static int cfr_setup(struct xfer *x)
{
	struct cfr_state *st = x->priv;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	st->in_off = (loff_t)x->in_offset;	/* where the input's range starts */
	return 0;
}

/*
 * One call per step.  No fallback to read/write on EXDEV or EOPNOTSUPP:
 * a figure labelled copy_file_range must be copy_file_range's; the error
 * is the lesson (cp falls back, this strategy reports).
 */
static ssize_t cfr_move(struct xfer *x)
{
	struct cfr_state *st = x->priv;
	uint64_t left = x->total - x->moved;
	size_t want = left < x->block ? (size_t)left : x->block;
	ssize_t n;

	if (left == 0)
		return 0;
	n = copy_file_range(x->in_fd, &st->in_off, x->out_fd, &st->out_off, want, 0);
	x->io.calls++;
	if (n < 0) {
		if (errno == EINTR)
			x->io.eintr++;
		return io_fail(x, "copy_file_range", errno);
	}
	/* 0 before the end: the source shrank under us. */
	if (n == 0)
		return io_fail(x, "copy_file_range", EIO);
	if ((size_t)n < want)
		x->io.short_ops++;
	x->moved += (uint64_t)n;
	return n;
}

/* Nothing to release: the harness owns both files. */
static void cfr_teardown(struct xfer *x)
{
}

#define CFR_FILES_ONLY \
	"copy_file_range copies between two regular files; a socket or pipe on either side is EINVAL"

const struct strategy strategy_copy_file_range = {
	.name = "copy_file_range",
	.summary = "copy_file_range(): the filesystem copies file to file (reflink, server-side or in-kernel copy)",
	.needs = "Linux 4.5 or later, file to file only; across file systems only from 5.3 to 5.18 in general, and since 5.19 only between file systems of one type that implement it (EXDEV otherwise: fall back to read/write, as cp does)",
	.support = {
		[SC_SERVE] = { .why_not = "copy_file_range needs a regular file as output; serve writes a socket (use sendfile)" },
		[SC_SEND] = { .why_not = "copy_file_range reads a file descriptor; application memory has none" },
		[SC_RELAY] = { .why_not = CFR_FILES_ONLY },
		[SC_FANOUT] = { .why_not = CFR_FILES_ONLY },
		[SC_STORE] = { .why_not = "copy_file_range needs a regular file as input; store reads a socket (use splice)" },
		[SC_COPY] = { .ok = true },
		[SC_ECHO] = { .why_not = CFR_FILES_ONLY },
		[SC_PIPE] = { .why_not = CFR_FILES_ONLY },
		[SC_RECV] = { .why_not = CFR_FILES_ONLY },
	},
	.tunables = 0,
	.priv_size = sizeof(struct cfr_state),
	.setup = cfr_setup,
	.move = cfr_move,
	.teardown = cfr_teardown,
};
