/* SPDX-License-Identifier: MIT */
/*
 * uring_send_zc: IORING_OP_SEND_ZC.  Each send posts two completions: its
 * result (flagged IORING_CQE_F_MORE) and later a notification
 * (IORING_CQE_F_NOTIF) when the kernel no longer needs the buffer's pages.
 * A slot is refilled only after its notifications.  With
 * IORING_SEND_ZC_REPORT_USAGE the notification's res says whether the
 * kernel copied after all (IORING_NOTIF_USAGE_ZC_COPIED): toward a local
 * socket, as on loopback, it always does.
 */
#include "io.h"
#include "uring.h"

#include <errno.h>
#include <sys/socket.h>

#ifdef HAVE_LIBURING

static void zc_prep_in(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s)
{
	io_uring_prep_read(sqe, p->x->in_fd, s->buf + s->len, (unsigned)(s->want - s->len),
			   p->in_base + s->off + s->len);
}

static void zc_prep_out(struct uring_pipeline *p, struct io_uring_sqe *sqe, struct uslot *s)
{
	io_uring_prep_send_zc(sqe, p->x->out_fd, s->buf + s->out_done, s->len - s->out_done,
			      MSG_NOSIGNAL, IORING_SEND_ZC_REPORT_USAGE);
}

static const struct uring_ops zc_ops = {
	.prep_in = zc_prep_in,
	.prep_out = zc_prep_out,
	.in_file_name = "io_uring_read",
	.in_sock_name = "io_uring_read",
	.out_file_name = "io_uring_send_zc",
	.out_sock_name = "io_uring_send_zc",
	.zc = true,
};

static int szc_setup(struct xfer *x)
{
	struct uring_pipeline *p = x->priv;
	int ret;

	/* AF_UNIX sockets lack SOCK_SUPPORT_ZC: SEND_ZC would fail with EOPNOTSUPP. */
	ret = uring_refuse_unix(x, x->out_fd, "send_zc_af_unix");
	if (ret < 0)
		return ret;
	ret = uring_pipeline_open(x, p, &zc_ops, x->block, x->in_kind == EP_FILE);
	if (ret < 0)
		return ret;
	ret = uring_need_opcode(x, &p->ring, IORING_OP_SEND_ZC, "io_uring_probe_send_zc");
	if (ret < 0)
		return ret;
	x->zc.reported = true;
	return 0;
}

static ssize_t szc_move(struct xfer *x)
{
	return uring_pipeline_move(x->priv);
}

static void szc_teardown(struct xfer *x)
{
	if (x->priv)
		uring_pipeline_close(x->priv);
}

#endif /* HAVE_LIBURING */

#define SZC_SOCKET_OUT "SEND_ZC sends to a socket; this output is not one"
#define SZC_MEMORY_IN "SEND_ZC sends user memory; a socket input would first be copied in by a recv (use uring_splice)"

const struct strategy strategy_uring_send_zc = {
	.name = "uring_send_zc",
	.summary = "io_uring SEND_ZC: zero-copy sends whose buffers are reused only after their notification CQE",
	.needs = "io_uring SEND_ZC: Linux 6.0 or later; a buffer is reused only after its notification; delivered to a local socket (loopback, veth) the kernel copies anyway; often disabled by policy",
	.support = {
		[SC_SERVE] = URING_OK,
		[SC_SEND] = URING_OK,
		[SC_RELAY] = { .why_not = SZC_MEMORY_IN },
		[SC_FANOUT] = { .why_not = SZC_MEMORY_IN },
		[SC_STORE] = { .why_not = SZC_SOCKET_OUT },
		[SC_COPY] = { .why_not = SZC_SOCKET_OUT },
		[SC_ECHO] = { .why_not = SZC_MEMORY_IN },
		[SC_PIPE] = { .why_not = SZC_SOCKET_OUT },
		[SC_RECV] = { .why_not = SZC_SOCKET_OUT },
	},
	.tunables = URING_TUNABLES(TUN_RING | TUN_BATCH | TUN_SQPOLL | TUN_HUGEPAGES),
	.check_tunables = uring_check_tunables,
	.priv_size = URING_PRIV_SIZE,
	.setup = URING_SETUP(szc_setup),
	.move = URING_MOVE(szc_move),
	.teardown = URING_TEARDOWN(szc_teardown),
	.rearm = URING_REARM,
	.af_unix_why_not = "AF_UNIX sockets do not support zero-copy sends: IORING_OP_SEND_ZC fails with EOPNOTSUPP",
	.waits_beyond_sockets = "it waits on its io_uring ring's descriptor for completions and notifications",
};
