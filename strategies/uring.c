/* SPDX-License-Identifier: MIT */
/*
 * The io_uring slot pipeline shared by uring_rw, uring_splice and
 * uring_send_zc (the model and its waiting rule are in uring.h); without
 * liburing, the calls that refuse in their place.
 */
#include "uring.h"
#include "io.h"

#include <errno.h>
#include <stdio.h>

int uring_check_tunables(const struct tunables *t, char *why, size_t len)
{
	bool ring_set = (t->set & TUN_RING) && t->ring_entries;
	bool batch_set = (t->set & TUN_BATCH) && t->batch;
	unsigned ring = ring_set ? t->ring_entries : URING_DEFAULT_ENTRIES;
	unsigned batch = batch_set ? t->batch : URING_DEFAULT_BATCH;
	unsigned fits = (ring - 1) / URING_SQES_PER_SLOT;
	char on_ring[96], on_batch[96];

	if (fits > URING_MAX_SLOTS)
		fits = URING_MAX_SLOTS;
	if (ring <= URING_MAX_ENTRIES && batch >= 1 && batch <= fits)
		return 0;
	if (ring > URING_MAX_ENTRIES)
		snprintf(on_ring, sizeof(on_ring), "ring=%u is more than %d", ring, URING_MAX_ENTRIES);
	else if (fits == 0)
		snprintf(on_ring, sizeof(on_ring), "ring=%u%s leaves no room for a slot", ring,
			 ring_set ? "" : " (the default)");
	else
		snprintf(on_ring, sizeof(on_ring), "ring=%u%s takes batch 1..%u", ring,
			 ring_set ? "" : " (the default)", fits);
	if (batch > URING_MAX_SLOTS)
		snprintf(on_batch, sizeof(on_batch), "batch=%u is more than %d", batch, URING_MAX_SLOTS);
	else
		snprintf(on_batch, sizeof(on_batch), "batch=%u%s needs ring=%u or more", batch,
			 batch_set ? "" : " (the default)", URING_SQES_PER_SLOT * batch + 1);
	snprintf(why, len,
		 "ring must be 1..%d entries (the kernel rounds it up to a power of two) and batch 1..%d slots, "
		 "with ring at least %d*batch+1 (each slot may have an input, an output and a poll in the "
		 "submission queue at once): %s, and %s",
		 URING_MAX_ENTRIES, URING_MAX_SLOTS, URING_SQES_PER_SLOT, on_ring, on_batch);
	return -EINVAL;
}

#ifdef HAVE_LIBURING

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { K_IN = 1, K_OUT = 2, K_POLL = 3 };

static uint64_t udata(unsigned slot, int kind)
{
	return ((uint64_t)slot << 4) | (uint64_t)kind;
}

int uring_need_opcode(struct xfer *x, struct io_uring *ring, int op, const char *name)
{
	struct io_uring_probe *pr = io_uring_get_probe_ring(ring);
	bool ok = pr && io_uring_opcode_supported(pr, op);

	if (pr)
		io_uring_free_probe(pr);
	if (!ok)
		return (int)io_fail(x, name, EOPNOTSUPP);
	return 0;
}

int uring_refuse_unix(struct xfer *x, int fd, const char *why_call)
{
	int dom = 0;
	socklen_t len = sizeof(dom);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_UNIX)
		return (int)io_fail(x, why_call, EOPNOTSUPP);
	return 0;
}

int uring_pipeline_open(struct xfer *x, struct uring_pipeline *p, const struct uring_ops *ops,
			size_t slot_size, bool with_buffers)
{
	struct io_uring_params prm;
	unsigned entries = URING_DEFAULT_ENTRIES, batch = URING_DEFAULT_BATCH;
	char why[8];
	int ret;

	memset(p, 0, sizeof(*p));
	p->x = x;
	p->ops = ops;
	for (int i = 0; i < URING_MAX_SLOTS; i++)
		p->slot[i].pipe[0] = p->slot[i].pipe[1] = -1;
	p->initialized = true;
	if (x->block == 0 || slot_size == 0)
		return (int)io_fail(x, "setup", EINVAL);
	/* ring= and batch= (options.c parses them); 0 keeps the default. */
	if ((x->tun.set & TUN_RING) && x->tun.ring_entries)
		entries = x->tun.ring_entries;
	/* The label parser has refused what this refuses; a caller that skipped it gets EINVAL. */
	if (uring_check_tunables(&x->tun, why, sizeof(why)))
		return (int)io_fail(x, "batch_option", EINVAL);
	if ((x->tun.set & TUN_BATCH) && x->tun.batch) {
		batch = x->tun.batch;
	} else if (ops->zc) {
		/*
		 * A SEND_ZC slot stays taken until the peer's ACK frees the
		 * kernel's hold on its pages.  Under two full segments in
		 * flight the receiver delays that ACK (40 ms here), and four
		 * 16 KiB slots then moved 3 MB/s: keep at least
		 * URING_ZC_BYTES_IN_FLIGHT in the slots.  A ring= in the
		 * label is kept, as the label says: the slots stop at what it
		 * holds.  Otherwise the ring grows to hold them.
		 */
		size_t want = (URING_ZC_BYTES_IN_FLIGHT + slot_size - 1) / slot_size;
		unsigned most = URING_MAX_SLOTS;

		if ((x->tun.set & TUN_RING) && x->tun.ring_entries)
			most = (entries - 1) / URING_SQES_PER_SLOT < most ? (entries - 1) / URING_SQES_PER_SLOT : most;
		batch = want > most ? most : want > batch ? (unsigned)want : batch;
		while (URING_SQES_PER_SLOT * batch + 1 > entries)
			entries *= 2;
	}
	p->nslots = batch;
	p->slot_size = slot_size;
	p->setup_block = x->block;
	p->in_file = x->in_kind == EP_FILE;
	p->in_mem = x->in_kind == EP_MEMORY;
	p->out_file = x->out_kind == EP_FILE;
	p->out_mem = x->out_kind == EP_MEMORY;
	p->in_base = p->in_file ? x->in_offset : 0;
	/* Failures name the operation as a syscall would be named. */
	p->in_name = p->in_file ? ops->in_file_name : ops->in_sock_name;
	p->out_name = p->out_file ? ops->out_file_name : ops->out_sock_name;
	/* A stream socket's reads stay in order only one at a time. */
	p->in_max = p->in_file ? batch : 1;

	memset(&prm, 0, sizeof(prm));
	if ((x->tun.set & TUN_SQPOLL) || x->tun.sqpoll) {
		prm.flags |= IORING_SETUP_SQPOLL;
		prm.sq_thread_idle = 100;	/* ms before the poller sleeps */
	}
	ret = io_uring_queue_init_params(entries, &p->ring, &prm);
	if (ret < 0)
		return (int)io_fail(x, "io_uring_setup", -ret);
	p->ring_open = true;

	if (with_buffers) {
		p->mem_len = (size_t)batch * slot_size;
		ret = io_buffer_alloc(x, p->mem_len, x->tun.hugepages, (void **)&p->mem);
		if (ret < 0)
			return ret;
		for (unsigned i = 0; i < batch; i++)
			p->slot[i].buf = p->mem + (size_t)i * slot_size;
	}
	return 0;
}

void uring_pipeline_close(struct uring_pipeline *p)
{
	/* Also after a setup that never ran (priv all zeroes): then a no-op. */
	if (!p->initialized)
		return;
	if (p->ring_open)
		io_uring_queue_exit(&p->ring);
	p->ring_open = false;
	io_buffer_free(p->mem, p->mem_len, p->x && p->x->tun.hugepages);
	p->mem = NULL;
}

int uring_rearm(struct xfer *x)
{
	struct uring_pipeline *p = x->priv;

	if (!p || !p->ring_open)
		return -ENOSPC;
	if (x->block > p->setup_block)
		return -ENOSPC;
	if (p->in_flight || p->out_flight || p->w != p->r)
		return (int)io_fail(x, "io_uring_rearm", EBUSY);
	for (unsigned i = 0; i < p->nslots; i++) {
		struct uslot *s = &p->slot[i];

		if (s->notifs || s->in_ops || s->out_ops)
			return (int)io_fail(x, "io_uring_rearm", EBUSY);
		s->off = s->len = s->out_done = s->want = 0;
		s->st = US_FREE;
	}
	p->x = x;
	p->r = p->w = 0;
	p->in_next = 0;
	p->in_eof = false;
	p->in_base = p->in_file ? x->in_offset : 0;
	return 0;
}

/* An SQE, submitting what is queued when the submission queue is full. */
static struct io_uring_sqe *get_sqe(struct uring_pipeline *p)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);

	if (!sqe) {
		io_uring_submit(&p->ring);
		sqe = io_uring_get_sqe(&p->ring);
	}
	return sqe;
}

static struct uslot *slot_at(struct uring_pipeline *p, uint64_t seq)
{
	return &p->slot[seq % p->nslots];
}

static bool input_exhausted(const struct uring_pipeline *p)
{
	if (p->in_file || p->in_mem)
		return p->in_next >= p->x->total;
	return p->in_eof;
}

/*
 * Queue an operation on slot i.  after_poll: the last try said EAGAIN (an
 * O_NONBLOCK descriptor under --nonblock), so a POLL_ADD linked in front
 * waits for readiness first.
 */
static int queue_op(struct uring_pipeline *p, unsigned i, int kind, bool after_poll)
{
	struct uslot *s = &p->slot[i];
	struct io_uring_sqe *sqe;

	if (after_poll) {
		sqe = get_sqe(p);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_poll_add(sqe, kind == K_IN ? p->x->in_fd : p->x->out_fd,
				       kind == K_IN ? POLLIN : POLLOUT);
		io_uring_sqe_set_data64(sqe, udata(i, K_POLL));
		sqe->flags |= IOSQE_IO_LINK;
	}
	sqe = get_sqe(p);
	if (!sqe)
		return -EBUSY;
	if (kind == K_IN) {
		p->ops->prep_in(p, sqe, s);
		s->in_ops++;
		p->in_flight++;
	} else {
		p->ops->prep_out(p, sqe, s);
		s->out_ops++;
		p->out_flight++;
	}
	io_uring_sqe_set_data64(sqe, udata(i, kind));
	p->x->io.calls++;
	return 0;
}

static void slot_maybe_free(struct uring_pipeline *p, struct uslot *s)
{
	if (s->st == US_FULL && s->out_done == s->len && !s->out_ops && !s->notifs)
		s->st = US_FREE;
}

/* Errors a retry fixes: EAGAIN from an O_NONBLOCK fd, a link cut short. */
static bool retryable(int res)
{
	return res == -EAGAIN || res == -EINTR || res == -ECANCELED;
}

static int on_input(struct uring_pipeline *p, unsigned i, int res)
{
	struct xfer *x = p->x;
	struct uslot *s = &p->slot[i];

	s->in_ops--;
	p->in_flight--;
	if (res < 0) {
		if (!retryable(res))
			return (int)io_fail(x, p->in_name, -res);
		x->io.eagain += res == -EAGAIN;
		return queue_op(p, i, K_IN, res == -EAGAIN);
	}
	if (res == 0) {
		/* A file that ends before its size was truncated under us. */
		if (p->in_file)
			return (int)io_fail(x, p->in_name, EIO);
		p->in_eof = true;
		if (s->len == 0)
			s->st = US_FREE;
		else
			s->st = US_FULL;
		return 0;
	}
	s->len += (size_t)res;
	if (p->in_file && s->len < s->want) {
		x->io.short_ops++;
		return queue_op(p, i, K_IN, false);	/* the rest of the slot */
	}
	if (!p->in_file) {
		if ((size_t)res < s->want)
			x->io.short_ops++;
		p->in_next += (uint64_t)res;
	}
	s->st = US_FULL;
	return 0;
}

static int on_output(struct uring_pipeline *p, unsigned i, const struct io_uring_cqe *cqe)
{
	struct xfer *x = p->x;
	struct uslot *s = &p->slot[i];
	int res = cqe->res;

	s->out_ops--;
	p->out_flight--;
	/* send_zc: a notification follows; remember the send's size for it. */
	if (p->ops->zc && (cqe->flags & IORING_CQE_F_MORE)) {
		s->zc_size[(s->zc_head + s->notifs) % 16] = res > 0 ? (uint32_t)res : 0;
		s->notifs++;
	}
	if (res < 0) {
		if (!retryable(res))
			return (int)io_fail(x, p->out_name, -res);
		x->io.eagain += res == -EAGAIN;
		return queue_op(p, i, K_OUT, res == -EAGAIN);
	}
	if (res == 0 && s->len > s->out_done)
		return (int)io_fail(x, p->out_name, EIO);
	if (p->ops->zc) {
		x->zc.sends++;
		x->zc.bytes += (uint64_t)res;
	}
	if ((size_t)res < s->len - s->out_done)
		x->io.short_ops++;
	s->out_done += (size_t)res;
	x->moved += (uint64_t)res;
	slot_maybe_free(p, s);
	return 0;
}

static void on_notif(struct uring_pipeline *p, unsigned i, const struct io_uring_cqe *cqe)
{
	struct uslot *s = &p->slot[i];
	struct xfer *x = p->x;

	uint32_t size = 0;

	if (s->notifs) {
		size = s->zc_size[s->zc_head];
		s->zc_head = (s->zc_head + 1) % 16;
		s->notifs--;
	}
	x->zc.completions++;
	/* With IORING_SEND_ZC_REPORT_USAGE, res says whether the kernel copied. */
	if ((uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED) {
		x->zc.copied++;
		x->zc.bytes_copied += size;
	}
	slot_maybe_free(p, s);
}

/* Every completion that is ready; the count reaped, or -errno. */
static int reap(struct uring_pipeline *p)
{
	struct io_uring_cqe *cqe;
	int n = 0, ret = 0;

	while (ret == 0 && io_uring_peek_cqe(&p->ring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		unsigned i = (unsigned)(ud >> 4);
		int kind = (int)(ud & 0xf);

		if (kind == K_IN)
			ret = on_input(p, i, cqe->res);
		else if (kind == K_OUT && (cqe->flags & IORING_CQE_F_NOTIF))
			on_notif(p, i, cqe);
		else if (kind == K_OUT)
			ret = on_output(p, i, cqe);
		/* K_POLL: the linked operation reports for itself. */
		io_uring_cqe_seen(&p->ring, cqe);
		n++;
	}
	return ret < 0 ? ret : n;
}

/* Start inputs into free slots, in stream order. */
static int queue_inputs(struct uring_pipeline *p)
{
	struct xfer *x = p->x;

	while (p->in_flight < p->in_max && !input_exhausted(p)) {
		unsigned i = (unsigned)(p->r % p->nslots);
		struct uslot *s = &p->slot[i];
		int ret;

		if (p->r - p->w >= p->nslots || s->st != US_FREE)
			break;
		s->off = p->in_next;
		s->len = s->out_done = 0;
		s->want = p->slot_size;
		if (p->in_file || p->in_mem) {
			uint64_t left = x->total - p->in_next;

			s->want = left < p->slot_size ? (size_t)left : p->slot_size;
			p->in_next += s->want;
		}
		p->r++;
		if (p->in_mem) {
			/* Memory needs no read: the slot points into the payload. */
			s->buf = (unsigned char *)x->mem + s->off;
			s->len = s->want;
			s->st = US_FULL;
			continue;
		}
		s->st = US_READING;
		ret = queue_op(p, i, K_IN, false);
		if (ret < 0)
			return (int)io_fail(x, "io_uring_get_sqe", -ret);
	}
	return 0;
}

/*
 * Start outputs in stream order.  A socket takes one at a time (two sends
 * in flight could interleave after a short one); a file takes one per
 * slot, each at its own offset.
 */
static int queue_outputs(struct uring_pipeline *p)
{
	for (uint64_t seq = p->w; seq < p->r; seq++) {
		unsigned i = (unsigned)(seq % p->nslots);
		struct uslot *s = &p->slot[i];
		int ret;

		if (s->st == US_READING)
			break;
		if (s->st != US_FULL || s->out_done == s->len || s->out_ops)
			continue;
		if (!p->out_file && p->out_flight)
			break;
		/* send_zc: a slot remembers 16 notifications at most. */
		if (p->ops->zc && s->notifs >= 15)
			break;
		ret = queue_op(p, i, K_OUT, false);
		if (ret < 0)
			return (int)io_fail(p->x, "io_uring_get_sqe", -ret);
		if (!p->out_file)
			break;
	}
	return 0;
}

static void advance_free(struct uring_pipeline *p)
{
	while (p->w < p->r && slot_at(p, p->w)->st == US_FREE)
		p->w++;
}

/*
 * recv: the output is the role's own memory.  Each full slot, in stream
 * order, is used where the RECV put it and freed for the next RECV: no
 * output operation.
 */
static int use_full_slots(struct uring_pipeline *p)
{
	while (p->w < p->r) {
		struct uslot *s = slot_at(p, p->w);
		ssize_t n;

		if (s->st != US_FULL)
			break;
		n = io_use(p->x, s->buf + s->out_done, s->len - s->out_done);
		if (n < 0)
			return (int)n;
		s->out_done = s->len;
		s->st = US_FREE;
		p->w++;
	}
	return 0;
}

ssize_t uring_pipeline_move(struct uring_pipeline *p)
{
	struct xfer *x = p->x;
	uint64_t moved0 = x->moved;
	int reaped, ret;

	reaped = reap(p);
	if (reaped < 0)
		return reaped;
	advance_free(p);
	if (p->out_mem && (ret = use_full_slots(p)) < 0)
		return ret;
	if ((ret = queue_inputs(p)) < 0 || (!p->out_mem && (ret = queue_outputs(p)) < 0))
		return ret;
	if (input_exhausted(p) && p->w == p->r && !p->in_flight && !p->out_flight &&
	    !io_uring_sq_ready(&p->ring))
		return 0;
	if (!p->in_flight && !p->out_flight && !io_uring_sq_ready(&p->ring)) {
		/* Only notifications outstanding: they need no submission. */
		bool notifs = false;

		for (unsigned i = 0; i < p->nslots; i++)
			notifs |= p->slot[i].notifs > 0;
		if (!notifs)
			return io_fail(x, "io_uring_pipeline", EIO);
	}

	if (!x->tun.nonblock) {
		/*
		 * Submit and wait in one enter.  A completion already posted
		 * (reaped next step) satisfies the wait at once.
		 */
		ret = io_uring_submit_and_wait(&p->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN)
			return io_fail(x, "io_uring_enter", -ret);
		if (ret == -EINTR)
			x->io.eintr++;
		return x->moved > moved0 ? (ssize_t)(x->moved - moved0) : 1;
	}
	ret = io_uring_submit(&p->ring);
	if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN)
		return io_fail(x, "io_uring_enter", -ret);
	if (reaped || io_uring_cq_ready(&p->ring))
		return x->moved > moved0 ? (ssize_t)(x->moved - moved0) : 1;
	/* The ring's fd polls readable once a completion is posted. */
	io_wait(x, p->ring.ring_fd, POLLIN);
	return -EAGAIN;
}

#else /* !HAVE_LIBURING */

int uring_unbuilt_setup(struct xfer *x)
{
	return (int)io_fail(x, "built_without_liburing", EOPNOTSUPP);
}

ssize_t uring_unbuilt_move(struct xfer *x)
{
	return io_fail(x, "built_without_liburing", EOPNOTSUPP);
}

void uring_unbuilt_teardown(struct xfer *x)
{
}

#endif /* HAVE_LIBURING */
