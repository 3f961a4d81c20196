/* SPDX-License-Identifier: MIT */
/*
 * zerocopy_recv: receive from TCP by mapping the pages the data arrived in
 * (mmap of the socket, then getsockopt(TCP_ZEROCOPY_RECEIVE) per chunk)
 * instead of copying them out with read().  What cannot be mapped comes by
 * copy: the tail of less than a page through the small copy buffer handed
 * to the same getsockopt, and data in frames that are not whole pages
 * (the kernel's recv_skip_hint) with read().  So it is byte-exact on any
 * TCP link and maps only where the link allows it: a segment that carries
 * whole pages (lo-ns: MSS 61440, fifteen pages) from a sender whose pages
 * stayed whole (MSG_ZEROCOPY).  The record says how many bytes were mapped.
 * In recv the role uses the bytes where they are mapped (no write after),
 * and SO_RCVLOWAT is the chunk, as the kernel's tcp_mmap selftest sets it:
 * each wakeup finds a chunk's worth of pages to map at once.
 */
#include "io.h"
#include "zcrecv.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* The ring's floor: mappings are dropped once per ring, never per chunk. */
#define ZCR_RING_MIN ((size_t)16 << 20)
#define ZCR_RING_CHUNKS 16

struct zcr_state {
	size_t page;
	unsigned char *ring;	/* PROT_READ mapping of the socket */
	size_t ring_len, pos;	/* next mapping goes at ring + pos */
	size_t chunk;		/* block in whole pages: the least room worth mapping into */
	/*
	 * Less than a page on purpose: a copy buffer that can hold everything
	 * queued makes the kernel copy all of it instead of mapping.
	 */
	unsigned char *copybuf;
	uint32_t copybuf_len;
	unsigned char *readbuf;	/* for recv_skip_hint bytes, block bytes */
	size_t readbuf_len;
	uint64_t skip;		/* bytes to read() before the next mapping */
	/* What the last step produced, delivered in stream order. */
	const unsigned char *seg[2];
	size_t seg_len[2];
	int nseg, cur;
	size_t seg_done;
	bool eof;
};

static int zcr_setup(struct xfer *x)
{
	struct zcr_state *st = x->priv;
	int domain = 0, ret;
	socklen_t len = sizeof(domain);

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	if (getsockopt(x->in_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return (int)io_fail(x, "getsockopt_so_domain", errno);
	/* Only TCP maps received pages; AF_UNIX has no such call. */
	if (domain != AF_INET && domain != AF_INET6)
		return (int)io_fail(x, "setup", EOPNOTSUPP);
	st->page = (size_t)sysconf(_SC_PAGESIZE);
	st->chunk = (x->block + st->page - 1) / st->page * st->page;
	st->ring_len = st->chunk * ZCR_RING_CHUNKS;
	if (st->ring_len < ZCR_RING_MIN)
		st->ring_len = ZCR_RING_MIN;
	st->ring = mmap(NULL, st->ring_len, PROT_READ, MAP_SHARED, x->in_fd, 0);
	if (st->ring == MAP_FAILED) {
		st->ring = NULL;
		return (int)io_fail(x, "mmap", errno);
	}
	st->copybuf_len = (uint32_t)st->page - 1;
	if ((ret = io_buffer_alloc(x, st->page, false, (void **)&st->copybuf)) < 0)
		return ret;
	if ((ret = io_buffer_alloc(x, x->block, false, (void **)&st->readbuf)) < 0)
		return ret;
	st->readbuf_len = x->block;
	/*
	 * recv reproduces tcp_mmap, which wakes only when a chunk is queued.
	 * store keeps the kernel's default (one byte), which its figures and
	 * claims were taken with.  The kernel caps the value at half the
	 * receive buffer, so a small --rcvbuf cannot stall the stream.
	 */
	if (x->out_kind == EP_MEMORY) {
		int lowat = st->chunk > INT_MAX ? INT_MAX : (int)st->chunk;

		if (setsockopt(x->in_fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) < 0)
			return (int)io_fail(x, "setsockopt_so_rcvlowat", errno);
	}
	x->zcr.reported = true;
	return 0;
}

static void queue_seg(struct zcr_state *st, const unsigned char *p, size_t n)
{
	if (n == 0)
		return;
	st->seg[st->nseg] = p;
	st->seg_len[st->nseg] = n;
	st->nseg++;
}

/* Write out what the last step produced; 0 once all of it is out. */
static ssize_t zcr_deliver(struct xfer *x, struct zcr_state *st)
{
	ssize_t progress = 0, n;

	while (st->cur < st->nseg) {
		size_t left = st->seg_len[st->cur] - st->seg_done;

		if (x->out_kind == EP_MEMORY) {
			/* Used where it lies: in the mapped pages, the copy buffer or the read buffer. */
			n = io_use(x, st->seg[st->cur] + st->seg_done, left);
			if (n < 0)
				return n;
			progress += n;
			st->cur++;
			st->seg_done = 0;
			continue;
		}
		n = io_send(x, x->out_fd, st->seg[st->cur] + st->seg_done, left,
			    x->out_kind == EP_SOCKET);
		if (n < 0)
			return progress ? progress : n;
		if (n == 0)
			return io_fail(x, x->out_kind == EP_SOCKET ? "send" : "write", EIO);
		st->seg_done += (size_t)n;
		x->moved += (uint64_t)n;
		progress += n;
		if (st->seg_done == st->seg_len[st->cur]) {
			st->cur++;
			st->seg_done = 0;
		}
	}
	st->nseg = st->cur = 0;
	return progress;
}

/* getsockopt said EIO: the end of the stream only if a peek says so too. */
static ssize_t zcr_confirm_eof(struct xfer *x, struct zcr_state *st)
{
	char c;
	ssize_t n = recv(x->in_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	x->io.calls++;
	if (n == 0) {
		st->eof = true;
		return 0;
	}
	return io_fail(x, "getsockopt_tcp_zerocopy_receive", n < 0 && errno != EAGAIN ? errno : EIO);
}

/* Bytes the kernel cannot map: read() them, as readwrite would. */
static ssize_t zcr_read_skip(struct xfer *x, struct zcr_state *st)
{
	size_t want = st->skip < st->readbuf_len ? (size_t)st->skip : st->readbuf_len;
	ssize_t n = io_read(x, x->in_fd, st->readbuf, want);

	if (n < 0)
		return n;
	if (n == 0) {
		/* The hint counted bytes that are gone: the peer ended early. */
		st->eof = true;
		st->skip = 0;
		return 0;
	}
	st->skip -= (uint64_t)n;
	x->zcr.bytes_read += (uint64_t)n;
	queue_seg(st, st->readbuf, (size_t)n);
	return 1;
}

/* One getsockopt(TCP_ZEROCOPY_RECEIVE): map what can be, copy the rest. */
static ssize_t zcr_map(struct xfer *x, struct zcr_state *st)
{
	struct tcp_zerocopy_receive zc;
	socklen_t zlen = sizeof(zc);
	struct zcr_outcome o;
	size_t ask, drop;
	int ret;

	drop = zcrecv_ring_next(&st->pos, st->ring_len, st->chunk, &ask);
	if (drop) {
		x->zcr.unmaps++;
		if (madvise(st->ring, drop, MADV_DONTNEED) < 0)
			return io_fail(x, "madvise", errno);
	}
	memset(&zc, 0, sizeof(zc));
	zc.address = (uint64_t)(uintptr_t)(st->ring + st->pos);
	zc.length = (uint32_t)ask;
	zc.copybuf_address = (uint64_t)(uintptr_t)st->copybuf;
	zc.copybuf_len = (int32_t)st->copybuf_len;
	/*
	 * The length asked is all the ring's room, not one block: see
	 * zcrecv_ring_next.  u32: the ring is far below 4 GiB.  Nothing is
	 * mapped past pos since the last drop: the kernel need not zap.
	 */
	zc.flags = TCP_RECEIVE_ZEROCOPY_FLAG_TLB_CLEAN_HINT;
	ret = getsockopt(x->in_fd, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &zc, &zlen);
	zcrecv_interpret(ret, ret < 0 ? errno : 0, &zc, (uint32_t)ask, st->copybuf_len, &o);
	x->io.calls++;
	x->zcr.maps++;
	if (o.eof_maybe)
		return zcr_confirm_eof(x, st);
	if (o.err == EINTR)
		x->io.eintr++;
	if (o.err)
		return io_fail(x, "getsockopt_tcp_zerocopy_receive", o.err);
	if (o.nothing) {
		/* Nothing queued: this call's EAGAIN, though getsockopt never says it. */
		x->io.eagain++;
		return io_wait_ready(x, x->in_fd, POLLIN, -1, 0);
	}
	if (o.mapped) {
		queue_seg(st, st->ring + st->pos, o.mapped);
		/* Whole pages; rounding keeps the next address aligned all the same. */
		st->pos += (o.mapped + st->page - 1) / st->page * st->page;
		x->zcr.bytes_mapped += o.mapped;
	}
	if (o.copied) {
		queue_seg(st, st->copybuf, o.copied);
		x->zcr.bytes_copybuf += o.copied;
	}
	st->skip = o.skip;
	return 1;
}

static ssize_t zcr_move(struct xfer *x)
{
	struct zcr_state *st = x->priv;
	ssize_t n;

	if (st->nseg) {
		n = zcr_deliver(x, st);
		if (st->nseg || n < 0)
			return n;
		return n ? n : 1;
	}
	if (st->eof)
		return 0;
	n = st->skip ? zcr_read_skip(x, st) : zcr_map(x, st);
	if (n <= 0 || !st->nseg)
		return n;
	n = zcr_deliver(x, st);
	return n == 0 ? 1 : n;
}

static void zcr_teardown(struct xfer *x)
{
	struct zcr_state *st = x->priv;

	if (!st)
		return;
	if (st->ring)
		munmap(st->ring, st->ring_len);
	io_buffer_free(st->copybuf, st->page, false);
	io_buffer_free(st->readbuf, st->readbuf_len, false);
	st->ring = st->copybuf = st->readbuf = NULL;
}

const struct strategy strategy_zerocopy_recv = {
	.name = "zerocopy_recv",
	.summary = "maps received TCP pages into memory (mmap + TCP_ZEROCOPY_RECEIVE) instead of read(); "
		   "the remainder through a small copy buffer",
	.needs = "Linux 4.18 or later (TCP_ZEROCOPY_RECEIVE); maps whole pages only: the sender's segments must carry page-aligned payloads (an MTU of at least 4 KiB plus headers), or the bytes are copied after all; the mapped pages stay the application's until it unmaps them",
	.support = {
		[SC_SERVE] = { false, "zerocopy_recv is a receive strategy, and the server reads a file" },
		[SC_SEND] = { false, "zerocopy_recv is a receive strategy, and send's role under test is the sender "
				     "(its sink is a fixed role, the same for every strategy)" },
		[SC_RELAY] = { false, "not built: the relay would copy the mapped pages back into a socket; "
				      "store shows the receive side alone" },
		[SC_FANOUT] = { false, "not built: the relay would copy the mapped pages back into a socket; "
				       "store shows the receive side alone" },
		[SC_STORE] = { .ok = true },
		[SC_COPY] = { false, "copy has no socket to receive from" },
		[SC_ECHO] = { false, "echo's requests are small and answered one by one: less than a page "
				     "is queued at a time, so nothing could be mapped" },
		[SC_PIPE] = { false, "pipe has no socket to receive from" },
		[SC_RECV] = { .ok = true },
	},
	.tunables = 0,
	.priv_size = sizeof(struct zcr_state),
	.setup = zcr_setup,
	.move = zcr_move,
	.teardown = zcr_teardown,
	.af_unix_why_not = "AF_UNIX sockets cannot be mapped: mmap of a socket and TCP_ZEROCOPY_RECEIVE are TCP's",
};
