/* SPDX-License-Identifier: MIT */
/*
 * msg_zerocopy: send(MSG_ZEROCOPY) after setsockopt(SO_ZEROCOPY).  The
 * kernel pins the pages of the send buffer instead of copying them into
 * the socket and says on the socket's error queue when it let go of them;
 * only then may the buffer change.  serve reads the file into a ring of
 * buffers and refills a buffer only once every send from it completed;
 * send sends slices of the payload, which never changes, and still reaps
 * every completion to count what the kernel copied after all (all of it
 * toward a local socket: loopback delivers by copying).
 */
#include "io.h"
#include "zerocopy.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * serve's ring: enough buffers to keep sends in flight while others
 * complete.  A buffer is reused only after its sends' notifications, which
 * on TCP wait for the peer's ACK; under two full segments in flight the
 * receiver delays that ACK (40 ms here): sixteen 4 KiB buffers moved
 * 1.7 MB/s.  So the ring holds at least ZC_BYTES_IN_FLIGHT, whatever the block.
 */
#define ZC_RING_MIN 16
#define ZC_RING_MAX 128
#define ZC_BYTES_IN_FLIGHT (512u << 10)

struct zc_buf {
	unsigned char *data;
	size_t len;		/* bytes read into it */
	size_t sent;		/* of those, handed to send */
	uint32_t pending;	/* sends from it not yet completed */
};

struct zc_state {
	struct zc_tracker trk;
	struct zc_buf ring[ZC_RING_MAX];
	unsigned nbuf;		/* serve: buffers in the ring */
	size_t block;		/* serve: each buffer's size */
	unsigned char *mem;	/* serve: the ring's memory, nbuf * block */
	size_t mem_len;
	unsigned fill_i, send_i;	/* serve: next buffer to read into / to send */
	uint64_t consumed;	/* serve: bytes read from the file */
};

static int zc_setup(struct xfer *x)
{
	struct zc_state *st = x->priv;
	int one = 1;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	/* AF_UNIX has no zero-copy send: EOPNOTSUPP here says so. */
	if (setsockopt(x->out_fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0)
		return (int)io_fail(x, "setsockopt_so_zerocopy", errno);
	x->zc.reported = true;
	st->trk.next_seq = x->zc_next_seq;
	if (x->scenario == SC_SERVE) {
		int ret;

		/* read() from the file's position: start at the range's offset. */
		if (x->in_offset && lseek(x->in_fd, (off_t)x->in_offset, SEEK_SET) < 0)
			return (int)io_fail(x, "lseek", errno);
		st->nbuf = (unsigned)((ZC_BYTES_IN_FLIGHT + x->block - 1) / x->block);
		st->nbuf = st->nbuf < ZC_RING_MIN ? ZC_RING_MIN : st->nbuf > ZC_RING_MAX ? ZC_RING_MAX : st->nbuf;
		ret = io_buffer_alloc(x, st->nbuf * x->block, false, (void **)&st->mem);
		if (ret < 0)
			return ret;
		st->mem_len = st->nbuf * x->block;
		st->block = x->block;
		for (unsigned i = 0; i < st->nbuf; i++)
			st->ring[i].data = st->mem + (size_t)i * x->block;
	}
	return 0;
}

static void buffer_done(void *arg, uint16_t tag)
{
	struct zc_state *st = arg;
	struct zc_buf *b = &st->ring[tag % st->nbuf];

	if (b->pending)
		b->pending--;
	/* Every byte handed to send and every send completed: reusable. */
	if (b->pending == 0 && b->sent == b->len)
		b->len = b->sent = 0;
}

/*
 * Read every notification waiting on the error queue (never blocks: the
 * error queue is read with MSG_ERRQUEUE, which does not wait).  Returns
 * the number of notifications, or a negative errno.
 */
static ssize_t zc_reap(struct xfer *x, struct zc_state *st)
{
	ssize_t reaped = 0;

	for (;;) {
		char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct msghdr msg = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
		struct cmsghdr *cm;

		if (recvmsg(x->out_fd, &msg, MSG_ERRQUEUE) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return reaped;
			if (errno == EINTR)
				continue;
			return io_fail(x, "recvmsg", errno);
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct zc_range r;
			int err = 0;

			switch (zerocopy_parse_cmsg(cm, &r, &err)) {
			case ZC_RANGE:
				zerocopy_complete(&st->trk, &x->zc, &r,
						  x->scenario == SC_SERVE ? buffer_done : NULL, st);
				reaped++;
				break;
			case ZC_ERROR:
				return io_fail(x, "recvmsg", err);
			case ZC_NOT_ZEROCOPY:
				break;
			}
		}
	}
}

/*
 * Wait for completions: the error queue's readiness is POLLERR, which
 * poll() reports whatever events were asked for.
 */
static ssize_t wait_completions(struct xfer *x)
{
	return io_wait_ready(x, x->out_fd, 0, -1, 0);
}

/*
 * One send(MSG_ZEROCOPY).  ENOBUFS is the kernel refusing to pin more
 * (optmem_max per socket, RLIMIT_MEMLOCK for a user without
 * CAP_IPC_LOCK): completions free what it counts, so wait for them and
 * retry; with nothing in flight, waiting cannot help and it is an error.
 */
static ssize_t zc_send(struct xfer *x, struct zc_state *st, const void *buf, size_t n,
		       uint16_t tag)
{
	ssize_t ret;

	ret = send(x->out_fd, buf, n, MSG_ZEROCOPY | MSG_NOSIGNAL);
	x->io.calls++;
	if (ret < 0) {
		int err = errno;

		if (err == ENOBUFS && st->trk.inflight > 0)
			return wait_completions(x);
		if (err == EAGAIN || err == EWOULDBLOCK) {
			x->io.eagain++;
			/*
			 * POLLOUT for room; POLLERR (always reported) for
			 * completions.  A blocking socket can say EAGAIN too:
			 * a zero-copy send that cannot get its memory and
			 * whose wait was cut short.
			 */
			return io_wait_ready(x, x->out_fd, POLLOUT, -1, 0);
		}
		if (err == EINTR)
			x->io.eintr++;
		return io_fail(x, "send", err);
	}
	if (ret == 0)
		return io_fail(x, "send", EIO);
	if ((size_t)ret < n)
		x->io.short_ops++;
	zerocopy_track_send(&st->trk, &x->zc, (uint32_t)ret, tag);
	x->zc_next_seq = st->trk.next_seq;
	x->moved += (uint64_t)ret;
	return ret;
}

static ssize_t zc_move_send(struct xfer *x, struct zc_state *st)
{
	uint64_t left = x->total - x->moved;

	if (left == 0)
		return st->trk.inflight ? wait_completions(x) : 0;
	if (st->trk.inflight >= ZC_TRACK - 1)
		return wait_completions(x);
	return zc_send(x, st, x->mem + x->moved, left < x->block ? (size_t)left : x->block, 0);
}

static ssize_t zc_move_serve(struct xfer *x, struct zc_state *st)
{
	struct zc_buf *s = &st->ring[st->send_i], *f = &st->ring[st->fill_i];
	ssize_t n;

	if (s->sent < s->len) {
		if (st->trk.inflight >= ZC_TRACK - 1)
			return wait_completions(x);
		n = zc_send(x, st, s->data + s->sent, s->len - s->sent, (uint16_t)st->send_i);
		if (n > 0) {
			s->pending++;
			s->sent += (size_t)n;
			if (s->sent == s->len)
				st->send_i = (st->send_i + 1) % st->nbuf;
		}
		return n;
	}
	if (st->consumed < x->total) {
		uint64_t left = x->total - st->consumed;

		/* The next buffer in the ring still has sends in flight. */
		if (f->len != 0)
			return wait_completions(x);
		n = io_read(x, x->in_fd, f->data, left < x->block ? (size_t)left : x->block);
		if (n < 0)
			return n;
		if (n == 0)
			return io_fail(x, "read", EIO);	/* the file shrank */
		f->len = (size_t)n;
		st->consumed += (uint64_t)n;
		st->fill_i = (st->fill_i + 1) % st->nbuf;
		return n;
	}
	return st->trk.inflight ? wait_completions(x) : 0;
}

static ssize_t zc_move(struct xfer *x)
{
	struct zc_state *st = x->priv;
	ssize_t r = zc_reap(x, st);

	if (r < 0)
		return r;
	r = x->scenario == SC_SERVE ? zc_move_serve(x, st) : zc_move_send(x, st);
	/* Notifications reaped are progress too: buffers came free. */
	return r;
}

/*
 * serve's next response on the same socket: the ring of buffers and the
 * tracker stay (every send of the last response has completed, or it
 * would not have ended); only the file position and the ring's indices
 * start again.
 */
static int zc_rearm(struct xfer *x)
{
	struct zc_state *st = x->priv;

	if (x->scenario != SC_SERVE || x->block > st->block)
		return -ENOSPC;
	if (st->trk.inflight)
		return (int)io_fail(x, "zc_rearm", EBUSY);
	/* The next range may come on the same descriptor: seek whatever the offset. */
	if (lseek(x->in_fd, (off_t)x->in_offset, SEEK_SET) < 0)
		return (int)io_fail(x, "lseek", errno);
	for (unsigned i = 0; i < st->nbuf; i++)
		st->ring[i].len = st->ring[i].sent = st->ring[i].pending = 0;
	st->fill_i = st->send_i = 0;
	st->consumed = 0;
	return 0;
}

static void zc_teardown(struct xfer *x)
{
	struct zc_state *st = x->priv;

	if (!st)
		return;
	/* After an error, sends may still hold the ring's pages: the kernel
	 * keeps its own references, so unmapping is safe (the data in flight
	 * stays valid until the kernel drops them). */
	io_buffer_free(st->mem, st->mem_len, false);
	st->mem = NULL;
}

#define ZC_NEEDS_SOCKET_OUT "MSG_ZEROCOPY is a flag of send() on a socket; this output is not one"
#define ZC_NEEDS_MEMORY_IN \
	"MSG_ZEROCOPY sends user memory; a socket input would first be copied in by recv (use splice or sockmap)"

const struct strategy strategy_msg_zerocopy = {
	.name = "msg_zerocopy",
	.summary = "send(MSG_ZEROCOPY): the kernel pins user pages instead of copying; completions on the error queue free them",
	.needs = "Linux 4.14 or later (TCP); completions must be reaped from the error queue; pinned pages count against RLIMIT_MEMLOCK (ENOBUFS beyond it); the kernel's documentation expects a gain only for sends of about 10 KB and more; delivered to a local socket (loopback, veth) the kernel copies anyway",
	.support = {
		[SC_SERVE] = { .ok = true },
		[SC_SEND] = { .ok = true },
		[SC_RELAY] = { .why_not = ZC_NEEDS_MEMORY_IN },
		[SC_FANOUT] = { .why_not = ZC_NEEDS_MEMORY_IN },
		[SC_STORE] = { .why_not = ZC_NEEDS_SOCKET_OUT },
		[SC_COPY] = { .why_not = ZC_NEEDS_SOCKET_OUT },
		[SC_ECHO] = { .why_not = ZC_NEEDS_MEMORY_IN },
		[SC_PIPE] = { .why_not = ZC_NEEDS_SOCKET_OUT },
		[SC_RECV] = { .why_not = ZC_NEEDS_SOCKET_OUT },
	},
	.tunables = 0,
	.priv_size = sizeof(struct zc_state),
	.setup = zc_setup,
	.move = zc_move,
	.teardown = zc_teardown,
	.rearm = zc_rearm,
	.af_unix_why_not = "AF_UNIX sockets have no zero-copy send: setsockopt(SO_ZEROCOPY) is EOPNOTSUPP",
	.waits_beyond_sockets = "it waits on the socket's error queue (POLLERR) for its zero-copy completions before reusing a buffer",
};
