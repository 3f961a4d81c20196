/* SPDX-License-Identifier: MIT */
/*
 * The fixed sink: reads the stream into the verifier (or splices it to
 * /dev/null with --sink discard), acts out the receiver's faults of
 * --fault, and with --conns receives every connection from one poll loop.
 */
#include "fixed_roles.h"
#include "role_process.h"
#include "harness/model/base.h"

#include <xxhash.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

const struct recv_plan plain_receive = {
	.stop_at = UINT64_MAX, .halfclose_at = UINT64_MAX, .kill_at = UINT64_MAX,
};

struct recv_plan receiver_plan(const struct role_ctx *r)
{
	const struct run_config *c = r->c;
	struct recv_plan p = plain_receive;

	p.stop_at = c->sink_close_at;
	if (c->fault.kind == FAULT_SINK_RESET || c->fault.kind == FAULT_SINK_STALL)
		p.stop_at = c->fault.n;
	p.halfclose_at = fault_at(c, FAULT_SINK_HALFCLOSE);
	p.kill_at = kill_at(r);
	if (c->fault.kind == FAULT_SINK_SLOW) {
		p.max_read = FAULT_SLOW_READ;
		p.sleep_us = (unsigned)c->fault.n;
	}
	return p;
}

int receive_verified(int fd, struct verifier *v, const struct recv_plan *p, struct role_report *rep)
{
	while (verifier_received(v) < p->stop_at) {
		uint64_t got = verifier_received(v);
		uint64_t next = min_u64(p->stop_at, min_u64(p->kill_at, p->halfclose_at > got ? p->halfclose_at : UINT64_MAX));
		size_t len;
		unsigned char *at = verifier_space(v, &len);
		ssize_t n;

		if (got >= p->kill_at)
			die_by_sigkill();
		if (next != UINT64_MAX && next - got < len)
			len = next - got;
		if (p->max_read && len > p->max_read)
			len = p->max_read;
		n = count_call(&rep->res.io, read(fd, at, len), len);
		if (n < 0 && (errno == EINTR || (p->spin && errno == EAGAIN)))
			continue;
		if (n < 0)
			return set_error(rep, errno, "read", NULL);
		if (n == 0)
			return 0;	/* end of stream: the verifier judges the length */
		verifier_commit(v, n);
		rep->res.bytes += n;
		note_progress(rep);
		if (verifier_received(v) == p->halfclose_at && shutdown(fd, SHUT_WR) == 0)
			fault_fired(rep, p->halfclose_at);
		if (verifier_received(v) >= p->kill_at)
			die_by_sigkill();
		if (p->sleep_us) {
			fault_fired(rep, verifier_received(v));
			usleep(p->sleep_us);
		}
	}
	/* sink-close, sink-reset, sink-stall: the receiver stops here and acts. */
	if (p->stop_at != UINT64_MAX)
		fault_fired(rep, verifier_received(v));
	return 0;
}

/*
 * --sink discard: splice to /dev/null, so the sink copies nothing
 * (unverified).  spin (a pipe only): SPLICE_F_NONBLOCK, and an empty pipe
 * is asked again at once instead of slept on.
 */
static int receive_discarded(int fd, bool spin, struct role_report *rep)
{
	unsigned nb = spin ? SPLICE_F_NONBLOCK : 0;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), p[2] = { -1, -1 }, ret = 0;
	struct stat st;
	bool from_pipe = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);

	if (devnull < 0)
		return set_error(rep, errno, "open", "/dev/null");
	if (!from_pipe && pipe2(p, O_CLOEXEC)) {
		close(devnull);
		return set_error(rep, errno, "pipe2", NULL);
	}
	for (;;) {
		int src = from_pipe ? fd : p[0];
		ssize_t n = 1 << 20, m;

		if (!from_pipe) {
			n = count_call(&rep->res.io, splice(fd, NULL, p[1], NULL, 1 << 20, 0), 1 << 20);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				ret = set_error(rep, errno, "splice", "socket to pipe");
				break;
			}
			if (n == 0)
				break;
		}
		for (ssize_t left = n; left > 0; left -= m) {
			m = count_call(&rep->res.io, splice(src, NULL, devnull, NULL, left, nb), left);
			if (m < 0 && (errno == EINTR || (nb && errno == EAGAIN))) {
				m = 0;
				continue;
			}
			if (m < 0) {
				ret = set_error(rep, errno, "splice", "to /dev/null");
				goto out;
			}
			if (m == 0)
				goto out;	/* pipe writer closed: end of stream */
			rep->res.bytes += m;
			note_progress(rep);
		}
	}
out:
	close(devnull);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	return ret;
}

void shrink_receive_buffer(int fd)
{
	int v = FAULT_SLOW_RCVBUF;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/*
 * --conns N: the sink (serve's client) receives every connection from one
 * poll() loop over non-blocking sockets, each into its own verifier of its
 * own slice, and notes when each one's last byte came (conn_end_ns).
 */
struct sink_many {
	int n, open;
	struct verifier *v;
	bool *done;
	struct pollfd *pf;
	int *idx;
};

static int receive_many(const struct role_ctx *r, struct sink_many *m, struct role_report *rep)
{
	while (m->open > 0) {
		int np = 0;

		for (int k = 0; k < m->n; k++)
			if (!m->done[k]) {
				m->pf[np] = (struct pollfd){ .fd = r->in_fds[k], .events = POLLIN };
				m->idx[np++] = k;
			}
		if (poll(m->pf, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return set_error(rep, errno, "poll", "sink");
		}
		for (int j = 0; j < np; j++) {
			int k = m->idx[j];

			/* A few reads per connection in turn: none starves the others. */
			for (int b = 0; m->pf[j].revents && b < FIXED_TURN_CALLS; b++) {
				size_t len;
				unsigned char *at = verifier_space(&m->v[k], &len);
				ssize_t got = count_call(&rep->res.io, read(r->in_fds[k], at, len), len);

				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (got < 0) {
					char what[48];

					snprintf(what, sizeof(what), "connection %d of %d", k + 1, m->n);
					return set_error(rep, errno, "read", what);
				}
				if (got == 0) {
					r->conn_end_ns[k] = now_ns();
					m->done[k] = true;
					m->open--;
					break;
				}
				verifier_commit(&m->v[k], got);
				rep->res.bytes += got;
				note_progress(rep);
			}
		}
	}
	return 0;
}

/* Every connection's verdict; the digest is XXH3-64 over theirs, in order. */
static void judge_many(const struct role_ctx *r, struct sink_many *m, struct role_report *rep)
{
	uint64_t d[MAX_CONNS];

	rep->verify = VERIFY_OK;
	for (int k = 0; k < m->n; k++) {
		if (verifier_finish(&m->v[k], &d[k]) || rep->verify != VERIFY_OK)
			continue;
		rep->verify = VERIFY_MISMATCH;
		/* The verifier counts from the connection's first byte; the payload's offset as well. */
		snprintf(rep->note, sizeof(rep->note), "connection %d of %d (payload offset %llu of its bytes %llu..%llu): %s",
			 k + 1, m->n, (unsigned long long)(r->in->slice[k].base + m->v[k].bad_off),
			 (unsigned long long)r->in->slice[k].base,
			 (unsigned long long)(r->in->slice[k].base + r->in->slice[k].total), m->v[k].note);
	}
	rep->digest = XXH3_64bits(d, m->n * sizeof(d[0]));
}

void run_sink_many(const struct role_ctx *r, struct role_report *rep)
{
	struct sink_many m = { .n = r->nconn, .open = r->nconn };
	struct window w;
	int inited = 0;

	rep->verify = VERIFY_MISMATCH;
	m.v = calloc(m.n, sizeof(*m.v));
	m.done = calloc(m.n, sizeof(*m.done));
	m.pf = calloc(m.n, sizeof(*m.pf));
	m.idx = calloc(m.n, sizeof(*m.idx));
	if (!m.v || !m.done || !m.pf || !m.idx) {
		set_error(rep, ENOMEM, "calloc", "sink connections");
		role_exit(r, rep);
	}
	for (; inited < m.n; inited++) {
		if (verifier_init(&m.v[inited], &r->in->slice[inited])) {
			set_error(rep, ENOMEM, "malloc", "verifier");
			role_exit(r, rep);
		}
		if (set_nonblock(r->in_fds[inited])) {
			set_error(rep, errno, "fcntl(O_NONBLOCK)", "sink");
			role_exit(r, rep);
		}
	}
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	receive_many(r, &m, rep);
	window_close(r, &w, rep);
	if (!rep->status)
		judge_many(r, &m, rep);
	for (int k = 0; k < inited; k++)
		verifier_free(&m.v[k]);
	free(m.v);
	free(m.done);
	free(m.pf);
	free(m.idx);
	role_exit(r, rep);
}

/*
 * The pipe's reader spins when the writer's label says busy: Mazzoli's
 * last step has both sides of the pipe busy-looping.  The record says so
 * (busy.reader_spun), so a busy cell never hides that its reader changed.
 */
static bool reader_spins(const struct role_ctx *r, struct role_report *rep)
{
	if (r->c->scenario != SC_PIPE || !r->spec->tun.busy)
		return false;
	if (set_nonblock(r->in_fd)) {
		set_error(rep, errno, "fcntl(O_NONBLOCK)", "the spinning pipe reader");
		return false;
	}
	rep->busy.reader_spun = true;
	return true;
}

void run_sink(const struct role_ctx *r, struct role_report *rep)
{
	struct verifier v;
	struct window w;
	struct recv_plan plan = receiver_plan(r);
	enum fault_kind fk = r->c->fault.kind;

	rep->verify = VERIFY_SKIPPED;
	if (!r->c->sink_discard && verifier_init(&v, &r->in->expected)) {
		set_error(rep, ENOMEM, "malloc", "verifier");
		role_exit(r, rep);
	}
	if (fk == FAULT_SINK_SLOW)
		shrink_receive_buffer(r->in_fd);
	plan.spin = reader_spins(r, rep);
	if (rep->status)
		role_exit(r, rep);
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	if (r->c->sink_discard)
		receive_discarded(r->in_fd, plan.spin, rep);
	else
		receive_verified(r->in_fd, &v, &plan, rep);
	if (fk == FAULT_SINK_STALL && !rep->status && verifier_received(&v) >= r->c->fault.n)
		stall_forever();
	if (fk == FAULT_SINK_RESET)
		reset_connection(r->in_fd);
	else if (r->c->sink_close_at != UINT64_MAX)
		close(r->in_fd);	/* --fault sink-close=N: vanish mid-stream, as a client that gives up */
	window_close(r, &w, rep);
	if (!r->c->sink_discard) {
		rep->verify = verifier_finish(&v, &rep->digest) ? VERIFY_OK : VERIFY_MISMATCH;
		snprintf(rep->note, sizeof(rep->note), "%s", v.note);
		verifier_free(&v);
	} else {
		snprintf(rep->note, sizeof(rep->note),
			 "the sink spliced to /dev/null (--sink discard): nothing was hashed");
	}
	role_exit(r, rep);
}
