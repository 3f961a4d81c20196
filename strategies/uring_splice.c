/* SPDX-License-Identifier: MIT */
/*
 * uring_splice: IORING_OP_SPLICE input -> a pipe per slot -> output.  The
 * bytes stay in the kernel as with splice; the calls are SQEs.  io_uring
 * cannot run a splice without blocking, so each one is handed to an io-wq
 * worker thread (iou-wrk-PID, a thread of this process: its CPU counts in
 * the role's getrusage and its SQEs in the ledger).
 */
#include "io.h"
#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef HAVE_LIBURING

static void sp_prep_in(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s)
{
	struct xfer *x = p->x;
	size_t n = (p->in_file ? s->want : p->slot_size) - s->len;

	io_uring_prep_splice(sqe, x->in_fd, p->in_file ? (int64_t)(p->in_base + s->off + s->len) : -1,
			     s->pipe[1], -1, (unsigned)n, io_splice_flags(x, false) & ~SPLICE_F_NONBLOCK);
}

static void sp_prep_out(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s)
{
	struct xfer *x = p->x;
	unsigned flags = io_splice_flags(x, !p->out_file) & ~SPLICE_F_NONBLOCK;

	/* The stream's last bytes: no more follow, so do not hold the segment. */
	if (p->in_file && s->off + s->len == x->total)
		flags &= ~SPLICE_F_MORE;
	io_uring_prep_splice(sqe, s->pipe[0], -1, x->out_fd,
			     p->out_file ? (int64_t)(s->off + s->out_done) : -1,
			     (unsigned)(s->len - s->out_done), flags);
}

static const struct uring_ops splice_ops = {
	.prep_in = sp_prep_in,
	.prep_out = sp_prep_out,
	.in_file_name = "io_uring_splice",
	.in_sock_name = "io_uring_splice",
	.out_file_name = "io_uring_splice",
	.out_sock_name = "io_uring_splice",
};

static int sp_setup(struct xfer *x)
{
	struct uring_pipeline *p = x->priv;
	bool nb = x->tun.nonblock;
	long page = sysconf(_SC_PAGESIZE);
	size_t granted = 0, slot;
	int ret;

	ret = uring_pipeline_open(x, p, &splice_ops, x->block, false);
	if (ret < 0)
		return ret;
	ret = uring_need_opcode(x, &p->ring, IORING_OP_SPLICE, "io_uring_probe_splice");
	if (ret < 0)
		return ret;
	/*
	 * The slots' pipes block: io_uring runs each splice in a worker that
	 * may wait; a non-blocking pipe would only turn that into EAGAIN.
	 */
	x->tun.nonblock = false;
	for (unsigned i = 0; i < p->nslots && ret == 0; i++)
		ret = io_pipe_open(x, p->slot[i].pipe, &granted);
	x->tun.nonblock = nb;
	if (ret < 0)
		return ret;
	/*
	 * A slot holds what its pipe holds: a fuller splice would wait on
	 * itself.  A pipe holds pages, not bytes: file bytes that start
	 * inside a page (a Range request from copylab serve, an odd --block)
	 * take one page more than their length, so leave that page free.
	 */
	slot = x->block < granted ? x->block : granted;
	if (p->in_file && ((x->in_offset | x->block) % (uint64_t)page) && slot > (size_t)page)
		slot = (slot < granted - (size_t)page) ? slot : granted - (size_t)page;
	p->slot_size = slot;
	return 0;
}

static ssize_t sp_move(struct xfer *x)
{
	return uring_pipeline_move(x->priv);
}

static void sp_teardown(struct xfer *x)
{
	struct uring_pipeline *p = x->priv;

	if (!p || !p->initialized)
		return;
	uring_pipeline_close(p);
	for (unsigned i = 0; i < URING_MAX_SLOTS; i++)
		if (p->slot[i].pipe[0] >= 0 || p->slot[i].pipe[1] >= 0)
			io_pipe_close(p->slot[i].pipe);
}

#endif /* HAVE_LIBURING */

const struct strategy strategy_uring_splice = {
	.name = "uring_splice",
	.summary = "io_uring SPLICE input into a pipe and the pipe into the output: splice's path, submitted as SQEs",
	.needs = "io_uring SPLICE: Linux 5.7 or later; each splice runs in an io-wq worker thread (its CPU is the role's); often disabled by policy (kernel.io_uring_disabled since 6.6, container seccomp profiles)",
	.caveat = {
		[SC_RELAY] = "copylab relay gives it 1 MiB calls and 1 MiB pipes (no user buffer); with 64 KiB pipes it moves much less (docs/tools.md)",
	},
	.support = {
		[SC_SERVE] = URING_OK,
		[SC_SEND] = { .why_not = "splice moves data between descriptors; application memory can only enter a pipe through vmsplice" },
		[SC_RELAY] = URING_OK,
		[SC_FANOUT] = { .why_not = "splice moves each byte to one place; the second output needs tee" },
		[SC_STORE] = URING_OK,
		[SC_COPY] = URING_OK,
		[SC_ECHO] = { .why_not = "echo is one request at a time: splice does it with two calls and no ring" },
		[SC_PIPE] = { .why_not = "splice moves data between descriptors; application memory can only enter a pipe through vmsplice" },
		[SC_RECV] = { .why_not = "splice keeps the bytes in the kernel, between descriptors; recv's role must have them in its own memory (uring_rw's RECV puts them there)" },
	},
	.tunables = URING_TUNABLES(TUN_RING | TUN_BATCH | TUN_SQPOLL | TUN_PIPE_SIZE | TUN_MORE | TUN_MOVE),
	.check_tunables = uring_check_tunables,
	.priv_size = URING_PRIV_SIZE,
	.setup = URING_SETUP(sp_setup),
	.move = URING_MOVE(sp_move),
	.teardown = URING_TEARDOWN(sp_teardown),
	.rearm = URING_REARM,
	.waits_beyond_sockets = "it waits on its io_uring ring's descriptor for completions",
	/* The bytes stay in pipes: copylab's tools give it splice's 1 MiB calls and pipes. */
	.no_user_buffer = true,
};
