/* SPDX-License-Identifier: MIT */
/*
 * mmap_write: map the file side instead of reading it.  serve/copy write
 * slices of the mapped input (one copy saved: no read into a buffer); store
 * read()s straight into a mapping of the destination file.
 */
#include "io.h"

#include <fcntl.h>

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* store maps the destination a window at a time: at least this much. */
#define STORE_WINDOW_MIN ((size_t)4 << 20)

struct mmap_write_state {
	/* serve, copy: the whole input file, mapped read-only */
	unsigned char *in_map;
	size_t in_map_len;
	size_t in_map_skip;	/* in_offset less the page-aligned offset mapped */
	uint64_t sent;

	/* store: the current window of the destination file */
	unsigned char *win;
	size_t win_len;			/* window size (bytes mapped when win != NULL) */
	uint64_t win_off;		/* file offset of the window */
	size_t win_fill;		/* bytes received into the window */
	uint64_t received;
	bool finished;			/* file cut to its exact size */
};

static int map_flags(const struct xfer *x)
{
	return MAP_SHARED | (x->tun.populate ? MAP_POPULATE : 0);
}

static int map_input(struct xfer *x, struct mmap_write_state *st)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t map_off = x->in_offset / page * page;	/* mmap offsets are page-aligned */
	struct stat sb;
	void *map;

	/* mmap of length 0 is EINVAL: an empty input needs no map. */
	if (x->total == 0)
		return 0;
	if (fstat(x->in_fd, &sb) < 0)
		return (int)io_fail(x, "fstat", errno);
	/*
	 * Touching a mapped page past EOF faults (SIGBUS, or EFAULT inside a
	 * syscall): a file shorter than its range is refused up front.
	 */
	if ((uint64_t)sb.st_size < x->in_offset || (uint64_t)sb.st_size - x->in_offset < x->total)
		return (int)io_fail(x, "mmap", EIO);

	st->in_map_skip = (size_t)(x->in_offset - map_off);
	map = mmap(NULL, x->total + st->in_map_skip, PROT_READ, map_flags(x), x->in_fd,
		   (off_t)map_off);
	if (map == MAP_FAILED)
		return (int)io_fail(x, "mmap", errno);
	st->in_map = map;
	st->in_map_len = x->total + st->in_map_skip;
	/* Read-ahead in big steps, and drop pages behind us sooner. */
	(void)madvise(map, st->in_map_len, MADV_SEQUENTIAL);
	return 0;
}

static int mmap_write_setup(struct xfer *x)
{
	struct mmap_write_state *st = x->priv;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t win = x->block > STORE_WINDOW_MIN ? x->block : STORE_WINDOW_MIN;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	if (x->scenario == SC_STORE) {
		/* Windows start page-aligned, as mmap offsets must. */
		st->win_len = (win + page - 1) / page * page;
		return 0;
	}
	return map_input(x, st);
}

/* serve, copy: one write/send of the next block-sized slice of the map. */
static ssize_t send_from_map(struct xfer *x, struct mmap_write_state *st)
{
	uint64_t left = x->total - st->sent;
	size_t want = left < x->block ? (size_t)left : x->block;
	ssize_t n;

	if (left == 0)
		return 0;
	n = io_send(x, x->out_fd, st->in_map + st->in_map_skip + st->sent, want,
		    x->out_kind == EP_SOCKET);
	if (n < 0)
		return n;
	if (n == 0)
		return io_fail(x, x->out_kind == EP_SOCKET ? "send" : "write", EIO);
	st->sent += (uint64_t)n;
	x->moved += (uint64_t)n;
	return n;
}

/* Grow the file to cover the next window and map it writable. */
static int map_window(struct xfer *x, struct mmap_write_state *st)
{
	void *map;

	/*
	 * Storing into pages past EOF would fault: extend the file first, and
	 * reserve its blocks, so a full disk is ENOSPC here and not EFAULT
	 * from a read() into a mapping the filesystem cannot back.
	 */
	int err = posix_fallocate(x->out_fd, (off_t)st->win_off, (off_t)st->win_len);

	if (err == EOPNOTSUPP || err == EINVAL) {
		if (ftruncate(x->out_fd, (off_t)(st->win_off + st->win_len)) < 0)
			return (int)io_fail(x, "ftruncate", errno);
	} else if (err) {
		return (int)io_fail(x, "posix_fallocate", err);
	}
	map = mmap(NULL, st->win_len, PROT_WRITE, map_flags(x), x->out_fd, (off_t)st->win_off);
	if (map == MAP_FAILED)
		return (int)io_fail(x, "mmap", errno);
	st->win = map;
	st->win_fill = 0;
	return 0;
}

static int unmap_window(struct xfer *x, struct mmap_write_state *st)
{
	if (!st->win)
		return 0;
	if (munmap(st->win, st->win_len) < 0)
		return (int)io_fail(x, "munmap", errno);
	st->win = NULL;
	return 0;
}

/* At EOF: drop the window and cut the file back to the bytes received. */
static ssize_t finish_store(struct xfer *x, struct mmap_write_state *st)
{
	int ret = unmap_window(x, st);

	if (ret < 0)
		return ret;
	if (ftruncate(x->out_fd, (off_t)st->received) < 0)
		return io_fail(x, "ftruncate", errno);
	st->finished = true;
	return 0;
}

/* store: one read() into the mapped window, remapping when it is full. */
static ssize_t receive_into_map(struct xfer *x, struct mmap_write_state *st)
{
	size_t room, want;
	ssize_t n;
	int ret;

	if (st->finished)
		return 0;
	if (st->received == x->total)
		return finish_store(x, st);
	if (!st->win) {
		ret = map_window(x, st);
		if (ret < 0)
			return ret;
	}
	room = st->win_len - st->win_fill;
	want = room < x->block ? room : x->block;
	if ((uint64_t)want > x->total - st->received)
		want = (size_t)(x->total - st->received);

	n = io_read(x, x->in_fd, st->win + st->win_fill, want);
	if (n < 0)
		return n;
	if (n == 0)
		return finish_store(x, st);
	st->win_fill += (size_t)n;
	st->received += (uint64_t)n;
	x->moved += (uint64_t)n;
	if (st->win_fill == st->win_len) {
		ret = unmap_window(x, st);
		if (ret < 0)
			return ret;
		st->win_off += st->win_len;
	}
	return n;
}

static ssize_t mmap_write_move(struct xfer *x)
{
	struct mmap_write_state *st = x->priv;

	if (x->scenario == SC_STORE)
		return receive_into_map(x, st);
	return send_from_map(x, st);
}

static void mmap_write_teardown(struct xfer *x)
{
	struct mmap_write_state *st = x->priv;

	if (!st)
		return;
	if (st->in_map)
		munmap(st->in_map, st->in_map_len);
	if (st->win)
		munmap(st->win, st->win_len);
	st->in_map = st->win = NULL;
}

const struct strategy strategy_mmap_write = {
	.name = "mmap_write",
	.summary = "mmap the file side: write/send slices of a mapped input, or read() into a mapped output",
	.needs = "any Linux; page faults grow with the mapped size (:populate takes them up front), and a file truncated by another process while mapped raises SIGBUS in this one",
	.caveat = {
		[SC_STORE] = "the file is extended and its blocks reserved one window at a time (posix_fallocate), then cut back at the end: a full disk fails at a window, and the file's size is wrong until the upload ends",
	},
	.support = {
		[SC_SERVE] = { .ok = true },
		[SC_SEND] = { .why_not = "the input is already application memory: there is no file to map, so this is readwrite" },
		[SC_RELAY] = { .why_not = "a socket cannot be mapped: neither end of a relay is a file" },
		[SC_FANOUT] = { .why_not = "the input is a socket, which cannot be mapped, and the stream must reach two outputs (use readwrite or tee)" },
		[SC_STORE] = { .ok = true },
		[SC_COPY] = { .ok = true },
		[SC_ECHO] = { .why_not = "a socket cannot be mapped: an echo has no file on either side" },
		[SC_PIPE] = { .why_not = "the input is already application memory and a pipe cannot be mapped: there is nothing to map" },
		[SC_RECV] = { .why_not = "mmap_write maps a file and writes it out; recv has no file, and its output is the role's own memory (zerocopy_recv maps received pages)" },
	},
	.tunables = TUN_POPULATE,
	.priv_size = sizeof(struct mmap_write_state),
	.setup = mmap_write_setup,
	.move = mmap_write_move,
	.teardown = mmap_write_teardown,
};
