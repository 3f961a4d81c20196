/* SPDX-License-Identifier: MIT */
/*
 * uring_rw: read/write through io_uring (liburing).  The same two copies
 * as readwrite (into a user buffer and out of it), but the calls are SQEs:
 * READ/WRITE at explicit offsets on files, RECV/SEND (MSG_NOSIGNAL) on
 * sockets, several slots in flight, and one io_uring_enter per round trip
 * instead of one syscall per call.
 */
#include "io.h"
#include "uring.h"

#include <errno.h>
#include <sys/socket.h>

#ifdef HAVE_LIBURING

static void rw_prep_in(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s)
{
	if (p->in_file)
		io_uring_prep_read(sqe, p->x->in_fd, s->buf + s->len, (unsigned)(s->want - s->len),
				   p->in_base + s->off + s->len);
	else
		io_uring_prep_recv(sqe, p->x->in_fd, s->buf, p->slot_size, 0);
}

static void rw_prep_out(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s)
{
	size_t n = s->len - s->out_done;

	if (p->out_file)
		io_uring_prep_write(sqe, p->x->out_fd, s->buf + s->out_done, (unsigned)n,
				    s->off + s->out_done);
	else	/* MSG_NOSIGNAL: a vanished peer is -EPIPE, not SIGPIPE */
		io_uring_prep_send(sqe, p->x->out_fd, s->buf + s->out_done, n, MSG_NOSIGNAL);
}

static const struct uring_ops rw_ops = {
	.prep_in = rw_prep_in,
	.prep_out = rw_prep_out,
	.in_file_name = "io_uring_read",
	.in_sock_name = "io_uring_recv",
	.out_file_name = "io_uring_write",
	.out_sock_name = "io_uring_send",
};

static int rw_setup(struct xfer *x)
{
	return uring_pipeline_open(x, x->priv, &rw_ops, x->block, true);
}

static ssize_t rw_move(struct xfer *x)
{
	return uring_pipeline_move(x->priv);
}

static void rw_teardown(struct xfer *x)
{
	if (x->priv)
		uring_pipeline_close(x->priv);
}

#endif /* HAVE_LIBURING */

const struct strategy strategy_uring_rw = {
	.name = "uring_rw",
	.summary = "io_uring READ/RECV into user buffers and WRITE/SEND out of them: readwrite's copies, batched syscalls",
	.needs = "io_uring READ/WRITE and RECV/SEND opcodes: Linux 5.6 or later; often disabled by policy (sysctl kernel.io_uring_disabled since 6.6, container seccomp profiles)",
	.support = {
		[SC_SERVE] = URING_OK,
		[SC_SEND] = { .why_not = "the payload is in memory already: a ring of SENDs is uring_send_zc's case (or readwrite's)" },
		[SC_RELAY] = URING_OK,
		[SC_FANOUT] = { .why_not = "each slot of this pipeline drains to one output; fanout's second copy is tee's or readwrite's" },
		[SC_STORE] = URING_OK,
		[SC_COPY] = URING_OK,
		[SC_ECHO] = { .why_not = "echo is one request at a time: a ring in flight gains nothing over readwrite there" },
		[SC_PIPE] = { .why_not = "the input is application memory: there is nothing to READ (use readwrite or vmsplice)" },
		[SC_RECV] = URING_OK,
	},
	.tunables = URING_TUNABLES(TUN_RING | TUN_BATCH | TUN_SQPOLL | TUN_HUGEPAGES),
	.check_tunables = uring_check_tunables,
	.priv_size = URING_PRIV_SIZE,
	.setup = URING_SETUP(rw_setup),
	.move = URING_MOVE(rw_move),
	.teardown = URING_TEARDOWN(rw_teardown),
	.rearm = URING_REARM,
	.waits_beyond_sockets = "it waits on its io_uring ring's descriptor for completions",
};
