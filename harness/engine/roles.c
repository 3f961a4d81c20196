/* SPDX-License-Identifier: MIT */
/*
 * Role processes: setup before the barrier, the measured window, and the
 * report.  The tested role drives its strategy step by step, polling on
 * what the strategy names when it cannot progress; the fixed roles use
 * plain blocking I/O so that every strategy meets the same peers.
 */
#include "roles.h"
#include "harness/model/base.h"
#include "harness/model/scenario.h"
#include "harness/measure/perfcount.h"
#include "harness/measure/latency.h"
#include "strategies/drive.h"
#include "harness/measure/bpf/ledger.h"
#include "strategies/zerocopy.h"

#include <xxhash.h>

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* The window's usage: getrusage deltas, so setup and hashing-after are out. */
static void window_usage(struct role_result *res, const struct rusage *a, const struct rusage *b)
{
	res->cpu_user_s = tv_s(b->ru_utime) - tv_s(a->ru_utime);
	res->cpu_sys_s = tv_s(b->ru_stime) - tv_s(a->ru_stime);
	res->ctx_voluntary = b->ru_nvcsw - a->ru_nvcsw;
	res->ctx_involuntary = b->ru_nivcsw - a->ru_nivcsw;
	res->faults_minor = b->ru_minflt - a->ru_minflt;
	res->faults_major = b->ru_majflt - a->ru_majflt;
}

/* 'D' and the report in one write: below PIPE_BUF, so it arrives whole. */
static void send_report(const struct role_ctx *r, struct role_report *rep)
{
	char msg[1 + sizeof(*rep)];

	msg[0] = 'D';
	memcpy(msg + 1, rep, sizeof(*rep));
	while (write(r->report_fd, msg, sizeof(msg)) < 0 && errno == EINTR)
		;
}

static __attribute__((noreturn)) void role_exit(const struct role_ctx *r, struct role_report *rep)
{
	send_report(r, rep);
	_exit(rep->status ? 1 : 0);
}

static int set_error(struct role_report *rep, int err, const char *call, const char *what)
{
	rep->status = err < 0 ? err : -err;
	snprintf(rep->call, sizeof(rep->call), "%s", call ? call : "?");
	snprintf(rep->what, sizeof(rep->what), "%.*s", (int)sizeof(rep->what) - 1, what ? what : "");	/* a long path is cut */
	return rep->status;
}

/* Tell the parent this role is ready, then block until the barrier opens. */
static int barrier_wait(const struct role_ctx *r)
{
	char c = 'R', buf;

	if (write(r->report_fd, &c, 1) != 1)
		return -errno;
	for (;;) {
		ssize_t n = read(r->go_fd, &buf, 1);

		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * The measured window of one role: from the barrier's release to the
 * role's last byte.  Counters are opened before the barrier and switched
 * on and off at the window's edges, so setup, pattern generation and the
 * hashing of files afterwards stay out of every figure.
 */
struct window {
	struct rusage u0;
	struct perf_set perf;
	bool perf_on, ledger_on;
	struct copytrace_totals tracer0;
};

/* What the preloaded tracer counted since the window opened. */
static void tracer_window_delta(copytrace_totals_fn fn, const struct copytrace_totals *a,
				struct copytrace_totals *out)
{
	struct copytrace_totals b;

	if (fn(&b)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	for (int f = 0; f < CT_FAMILIES; f++) {
		out->calls[f] = b.calls[f] - a->calls[f];
		out->bytes[f] = b.bytes[f] - a->bytes[f];
	}
	out->vmsplice_calls = b.vmsplice_calls - a->vmsplice_calls;
	out->vmsplice_bytes = b.vmsplice_bytes - a->vmsplice_bytes;
}

static void window_prepare(const struct role_ctx *r, struct window *w, struct role_report *rep)
{
	memset(w, 0, sizeof(*w));
	if (r->c->no_perf) {
		snprintf(rep->perf_note, sizeof(rep->perf_note), "off (--no-perf)");
		return;
	}
	w->perf_on = perf_open_self(&w->perf) == 0;
	perf_describe(&w->perf, rep->perf_note, sizeof(rep->perf_note));
}

/* Waits at the barrier, then opens the window.  0 or -errno. */
static int window_open(const struct role_ctx *r, struct window *w, struct role_report *rep)
{
	int ret = barrier_wait(r);

	if (ret)
		return set_error(rep, ret, "read", "barrier");
	if (r->c->ledger)
		w->ledger_on = ledger_window_begin(r->c->ledger, r->slot) == 0;
	if (r->c->tracer)
		rep->res.have_tracer = r->c->tracer(&w->tracer0) == 0;
	if (w->perf_on)
		perf_window_begin();
	getrusage(RUSAGE_SELF, &w->u0);
	return 0;
}

static void window_close(const struct role_ctx *r, struct window *w, struct role_report *rep)
{
	struct rusage u1;

	rep->t_end_ns = now_ns();
	getrusage(RUSAGE_SELF, &u1);
	rep->res.cpu_last = sched_getcpu();
	if (w->perf_on)
		perf_window_end();
	if (rep->res.have_tracer)
		tracer_window_delta(r->c->tracer, &w->tracer0, &rep->res.tracer);
	/* Close the ledger before reading counters: those reads are not the role's. */
	if (w->ledger_on)
		ledger_window_end(r->c->ledger);
	if (w->perf_on) {
		perf_read(&w->perf, &rep->res.perf);
		perf_close(&w->perf);
	}
	window_usage(&rep->res, &w->u0, &u1);
}

/* ---- faults (--fault) ------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A fault that acts at a byte count: never, unless this is the fault asked for. */
static uint64_t fault_at(const struct run_config *c, enum fault_kind k)
{
	return c->fault.kind == k ? c->fault.n : UINT64_MAX;
}

static uint64_t kill_at(const struct role_ctx *r)
{
	return r->c->fault.kind == FAULT_KILL && r->c->fault.role_index == r->slot ? r->c->fault.n : UINT64_MAX;
}

/* --fault kill=ROLE@N: die as a role killed from outside would, mid-stream. */
static void die_by_sigkill(void)
{
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

/* --fault sink-reset / source-reset: close with an RST instead of a FIN. */
static void reset_connection(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* --fault sink-stall: hold the connection open and read nothing, until killed. */
static __attribute__((noreturn)) void stall_forever(void)
{
	for (;;)
		pause();
}

/* ---- the tested role ---------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int open_output(const char *path, struct role_report *rep)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		set_error(rep, errno, "open", path);
	return fd;
}

/*
 * Build the strategy's view of connection k's transfer from the scenario's
 * endpoints.  With --conns N each connection carries its own slice of the
 * payload, and every descriptor is non-blocking: one loop drives them all.
 */
static int tested_prepare(const struct role_ctx *r, int k, struct xfer *x, struct role_report *rep)
{
	bool nonblock = r->c->nonblock || r->nconn > 1;

	const struct scenario_def *d = scenario_def(r->c->scenario);

	xfer_init(x, r->c->scenario, d->in, d->out, r->c->block, &r->spec->tun);
	x->tun.nonblock = nonblock;
	if (r->c->pipe_size && !(x->tun.set & TUN_PIPE_SIZE) &&
	    (r->spec->s->tunables & TUN_PIPE_SIZE)) {
		x->tun.set |= TUN_PIPE_SIZE;
		x->tun.pipe_size = r->c->pipe_size;
	}

	switch (d->in) {
	case EP_FILE:
		x->in_fd = open(r->in->source_path, O_RDONLY | O_CLOEXEC);
		if (x->in_fd < 0)
			return set_error(rep, errno, "open", r->in->source_path);
		x->total = r->in->payload.size;	/* the size asked, unless a test damaged it */
		if (r->nconn > 1)
			conn_slice(r->in->payload.size, r->nconn, k, &x->in_offset, &x->total);
		break;
	case EP_MEMORY:
		x->mem = r->in->payload.data;
		x->total = r->in->payload.size;
		payload_prefault(&r->in->payload);
		break;
	default:
		x->in_fd = k ? r->in_fds[k] : r->in_fd;	/* in_fds: --conns only */
		x->total = UINT64_MAX;
		break;
	}
	if (d->out == EP_FILE) {
		x->out_fd = open_output(r->out_path, rep);
		if (x->out_fd < 0)
			return rep->status;
	} else {
		x->out_fd = k ? r->out_fds[k] : r->out_fd;
	}
	if (d->out2_file) {
		x->out2_fd = open_output(r->out2_path, rep);
		if (x->out2_fd < 0)
			return rep->status;
	}
	if (nonblock) {
		int fds[2] = { d->in == EP_SOCKET ? x->in_fd : -1,
			       d->out != EP_FILE ? x->out_fd : -1 };

		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0 && set_nonblock(fds[i]))
				return set_error(rep, errno, "fcntl(O_NONBLOCK)", NULL);
	}
	return 0;
}

/* After the last byte: let the peer see EOF. */
static void tested_finish(struct xfer *x)
{
	if (x->out_kind == EP_SOCKET)
		shutdown(x->out_fd, SHUT_WR);
	else if (x->out_kind == EP_PIPE)
		close(x->out_fd);
}

/*
 * A file input shorter now than the transfer it was opened for was
 * truncated under the strategy (read or sendfile ends early: EIO; a
 * mapping past the end: EFAULT).  The error says so, not only the errno.
 */
static bool input_shrank(const struct xfer *x, char *what, size_t len)
{
	struct stat st;

	if (x->in_kind != EP_FILE || fstat(x->in_fd, &st) < 0 ||
	    (uint64_t)st.st_size >= x->in_offset + x->total)
		return false;
	snprintf(what, len, "the input file shrank to %lld bytes during the transfer of %llu",
		 (long long)st.st_size, (unsigned long long)(x->in_offset + x->total));
	return true;
}

static void on_storm_signal(int sig)
{
}

/*
 * --fault signals=HZ: the parent sends SIGUSR1 and SIGCHLD to this role
 * during the transfer.  Handlers without SA_RESTART, so a blocking call
 * returns EINTR and the strategy (or the drive loop) must retry it.
 */
static void catch_storm_signals(void)
{
	struct sigaction sa = { .sa_handler = on_storm_signal };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
}

static __attribute__((noreturn)) void run_tested(const struct role_ctx *r, struct role_report *rep)
{
	const struct strategy *s = r->spec->s;
	struct window w;
	struct xfer x;
	ssize_t ret;
	char what[96];

	if (tested_prepare(r, 0, &x, rep))
		role_exit(r, rep);
	/*
	 * Counters first: perf's inherit only reaches threads created after
	 * the counter, and setup may start one (io_uring's SQPOLL poller).
	 */
	window_prepare(r, &w, rep);
	ret = xfer_begin(s, &x);
	if (ret < 0) {
		set_error(rep, ret, x.failed_call, x.begun ? "setup" : "strategy state");
		goto out;
	}
	if (r->c->fault.kind == FAULT_SIGNALS)
		catch_storm_signals();
	if (window_open(r, &w, rep))
		goto out;
	ret = xfer_drive_until(s, &x, NULL, kill_at(r));
	if (ret == 1)
		die_by_sigkill();
	if (ret == 0)
		tested_finish(&x);
	window_close(r, &w, rep);
	if (ret < 0)
		set_error(rep, ret, x.failed_call, input_shrank(&x, what, sizeof(what)) ? what : NULL);
out:
	rep->res.bytes = x.moved;
	rep->res.io = x.io;
	rep->pipe_granted = x.pipe_granted;
	rep->thp_granted = x.thp_granted;
	rep->zc = x.zc;
	rep->zcr = x.zcr;
	xfer_end(s, &x);
	role_exit(r, rep);
}

static void tested_conn_done(struct xfer *x, int i, void *arg)
{
	(void)i;
	(void)arg;
	tested_finish(x);
}

static void zc_add(struct zerocopy_counters *a, const struct zerocopy_counters *b)
{
	a->reported |= b->reported;
	a->sends += b->sends;
	a->completions += b->completions;
	a->copied += b->copied;
	a->bytes_copied += b->bytes_copied;
}

/*
 * --conns N: the tested role runs N transfers of its strategy, each set up
 * before the barrier, all stepped from one loop (xfers_drive).  Its figures
 * are the sums over the connections; pipe_granted is the first one's.
 */
static __attribute__((noreturn)) void run_tested_many(const struct role_ctx *r, struct role_report *rep)
{
	const struct strategy *s = r->spec->s;
	int n = r->nconn, failed = 0, prepared = 0;
	struct xfer *xs = calloc(n, sizeof(*xs));
	struct window w;
	ssize_t ret = 0;

	if (!xs) {
		set_error(rep, ENOMEM, "calloc", "transfers");
		role_exit(r, rep);
	}
	window_prepare(r, &w, rep);
	for (; prepared < n; prepared++) {
		struct xfer *x = &xs[prepared];

		if (tested_prepare(r, prepared, x, rep))
			goto out;
		ret = xfer_begin(s, x);
		if (ret < 0) {
			char what[64];

			snprintf(what, sizeof(what), "%s of connection %d of %d",
				 x->begun ? "setup" : "strategy state", prepared + 1, n);
			set_error(rep, ret, x->failed_call, what);
			goto out;
		}
	}
	if (window_open(r, &w, rep))
		goto out;
	ret = xfers_drive(s, xs, n, tested_conn_done, NULL, &failed);
	window_close(r, &w, rep);
	if (ret < 0) {
		char what[48];

		snprintf(what, sizeof(what), "connection %d of %d", failed + 1, n);
		set_error(rep, ret, xs[failed].failed_call, what);
	}
out:
	for (int k = 0; k < n; k++) {
		struct xfer *x = &xs[k];

		rep->res.bytes += x->moved;
		rep->res.io.calls += x->io.calls;
		rep->res.io.short_ops += x->io.short_ops;
		rep->res.io.eagain += x->io.eagain;
		rep->res.io.eintr += x->io.eintr;
		zc_add(&rep->zc, &x->zc);
		xfer_end(s, x);
	}
	rep->pipe_granted = xs[0].pipe_granted;
	rep->thp_granted = xs[0].thp_granted;
	free(xs);
	role_exit(r, rep);
}

/* ---- fixed roles ------------------------------------------------------- */

static ssize_t count_call(struct io_counters *io, ssize_t n, size_t asked)
{
	io->calls++;
	if (n < 0 && errno == EAGAIN)
		io->eagain++;
	else if (n < 0 && errno == EINTR)
		io->eintr++;
	else if (n > 0 && (size_t)n < asked)
		io->short_ops++;
	return n;
}

/* Write all of buf to a socket (MSG_NOSIGNAL: an early close is EPIPE, not a signal). */
static int send_all(int fd, const unsigned char *buf, size_t len, struct role_report *rep)
{
	while (len > 0) {
		ssize_t n = count_call(&rep->res.io, send(fd, buf, len, MSG_NOSIGNAL), len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return set_error(rep, errno, "send", NULL);
		buf += n;
		len -= n;
		rep->res.bytes += n;
	}
	return 0;
}

/*
 * Take every zero-copy completion waiting on the error queue, waiting for
 * one first when `wait` (the kernel refused to pin more: ENOBUFS).  The
 * payload never changes, so completions only free the kernel's count of
 * pinned memory; a real error on the queue fails the role, and so does a
 * wait in which no completion comes (nothing in flight: waiting cannot help).
 */
static int reap_zerocopy(int fd, bool wait, struct role_report *rep)
{
	struct pollfd pf = { .fd = fd, .events = 0 };
	int n = 0;

	if (wait) {
		n = poll(&pf, 1, 2000);
		if (n < 0 && errno != EINTR)
			return set_error(rep, errno, "poll", "zero-copy completions");
		if (n == 0)
			return set_error(rep, ENOBUFS, "send",
					 "MSG_ZEROCOPY: the kernel pins no more and no completion came");
	}
	for (;;) {
		char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct msghdr msg = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };

		if (count_call(&rep->res.io, recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT), 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return set_error(rep, errno, "recvmsg", "error queue");
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct zc_range zr;
			int err = 0;

			if (zerocopy_parse_cmsg(cm, &zr, &err) == ZC_ERROR)
				return set_error(rep, err, "recvmsg", "error queue");
		}
	}
}

/* send_all with MSG_ZEROCOPY: the sender zerocopy_recv needs to find whole pages. */
static int send_all_zerocopy(int fd, const unsigned char *buf, size_t len, struct role_report *rep)
{
	while (len > 0) {
		ssize_t n = count_call(&rep->res.io, send(fd, buf, len, MSG_NOSIGNAL | MSG_ZEROCOPY), len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			if (reap_zerocopy(fd, true, rep))
				return rep->status;
			continue;
		}
		if (n < 0)
			return set_error(rep, errno, "send", "MSG_ZEROCOPY");
		buf += n;
		len -= n;
		rep->res.bytes += n;
	}
	return 0;
}

/*
 * The fixed source of every cell over lo-ns sends with MSG_ZEROCOPY, for
 * every strategy alike: only then do received pages stay whole pages that
 * zerocopy_recv can map (a plain send() on loopback packs the data into
 * the socket's page fragments, and 0% maps).
 */
static bool source_uses_zerocopy(const struct role_ctx *r)
{
	return r->c->transport == TR_LONS;
}

/*
 * --conns N: the source sends connection k's slice on out_fds[k], all N
 * from one poll() loop over non-blocking sockets, shutting each down after
 * its last byte.
 */
static int send_many(const struct role_ctx *r, struct role_report *rep)
{
	const struct payload *p = &r->in->payload;
	int n = r->nconn, left = n;
	uint64_t *next = calloc(n, sizeof(*next)), *end = calloc(n, sizeof(*end));
	struct pollfd *pf = calloc(n, sizeof(*pf));
	int *idx = calloc(n, sizeof(*idx));

	if (!next || !end || !pf || !idx) {
		set_error(rep, ENOMEM, "calloc", "source connections");
		goto out;
	}
	for (int k = 0; k < n; k++) {
		uint64_t off, len;

		conn_slice(p->size, n, k, &off, &len);
		next[k] = off;
		end[k] = off + len;
		if (set_nonblock(r->out_fds[k])) {
			set_error(rep, errno, "fcntl(O_NONBLOCK)", "source");
			goto out;
		}
		if (len == 0) {
			shutdown(r->out_fds[k], SHUT_WR);
			left--;
		}
	}
	while (left > 0) {
		int np = 0;

		for (int k = 0; k < n; k++)
			if (next[k] < end[k]) {
				pf[np] = (struct pollfd){ .fd = r->out_fds[k], .events = POLLOUT };
				idx[np++] = k;
			}
		if (poll(pf, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			set_error(rep, errno, "poll", "source");
			goto out;
		}
		for (int j = 0; j < np; j++) {
			int k = idx[j];

			if (!pf[j].revents)
				continue;
			/*
			 * A few blocks per connection in turn: a loopback socket takes
			 * megabytes before EAGAIN, and sending one connection's share
			 * whole would make the source, not the role under test, decide
			 * the spread of completion times.
			 */
			for (int b = 0; b < FIXED_TURN_CALLS && next[k] < end[k]; b++) {
				size_t len = end[k] - next[k] < FIXED_IO_BLOCK ? end[k] - next[k] : FIXED_IO_BLOCK;
				ssize_t m = count_call(&rep->res.io, send(r->out_fds[k], p->data + next[k], len,
									 MSG_NOSIGNAL), len);

				if (m < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (m < 0) {
					char what[48];

					snprintf(what, sizeof(what), "connection %d of %d", k + 1, n);
					set_error(rep, errno, "send", what);
					goto out;
				}
				next[k] += m;
				rep->res.bytes += m;
			}
			if (next[k] == end[k]) {
				shutdown(r->out_fds[k], SHUT_WR);
				left--;
			}
		}
	}
out:
	free(next);
	free(end);
	free(pf);
	free(idx);
	return rep->status;
}

static __attribute__((noreturn)) void run_source(const struct role_ctx *r, struct role_report *rep)
{
	const struct payload *p = &r->in->payload;
	bool zc = source_uses_zerocopy(r);
	enum fault_kind fk = r->c->fault.kind;
	uint64_t end = p->size, die = kill_at(r);
	struct window w;
	int one = 1;

	/* source-reset / source-halfclose / kill: the stream stops at exactly N bytes. */
	if (fk == FAULT_SOURCE_RESET || fk == FAULT_SOURCE_HALFCLOSE)
		end = min_u64(end, r->c->fault.n);
	end = min_u64(end, die);
	snprintf(rep->fixed_sender, sizeof(rep->fixed_sender), "%s", zc ? "msg_zerocopy" : "send");
	if (zc && setsockopt(r->out_fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		set_error(rep, errno, "setsockopt", "SO_ZEROCOPY");
		role_exit(r, rep);
	}
	payload_prefault(p);
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	if (r->nconn > 1) {
		send_many(r, rep);
		window_close(r, &w, rep);
		role_exit(r, rep);
	}
	for (uint64_t off = 0; off < end && !rep->status; off += FIXED_IO_BLOCK) {
		size_t len = end - off < FIXED_IO_BLOCK ? end - off : FIXED_IO_BLOCK;

		if (zc) {
			send_all_zerocopy(r->out_fd, p->data + off, len, rep);
			/* Completions pile up on the error queue: take them as they come. */
			if (!rep->status && (off / FIXED_IO_BLOCK) % 16 == 15)
				reap_zerocopy(r->out_fd, false, rep);
		} else {
			send_all(r->out_fd, p->data + off, len, rep);
		}
	}
	if (die != UINT64_MAX && !rep->status)
		die_by_sigkill();
	if (fk == FAULT_SOURCE_RESET && !rep->status)
		reset_connection(r->out_fd);
	else if (!rep->status)
		shutdown(r->out_fd, SHUT_WR);
	window_close(r, &w, rep);
	role_exit(r, rep);
}

/*
 * How a fixed receiver reads: up to EOF, or with the faults of --fault
 * acting at exact byte counts (each read is cut so the count lands on N).
 */
struct recv_plan {
	uint64_t stop_at;	/* stop reading here (sink-close, sink-reset, sink-stall) */
	uint64_t halfclose_at;	/* shutdown(SHUT_WR) here, then read on */
	uint64_t kill_at;	/* SIGKILL this process here */
	size_t max_read;	/* 0: what the verifier has room for */
	unsigned sleep_us;	/* between reads (sink-slow) */
};

static const struct recv_plan plain_receive = {
	.stop_at = UINT64_MAX, .halfclose_at = UINT64_MAX, .kill_at = UINT64_MAX,
};

static struct recv_plan receiver_plan(const struct role_ctx *r)
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

/* Receive into the verifier until EOF, or until the plan says stop. */
static int receive_verified(int fd, struct verifier *v, const struct recv_plan *p, struct role_report *rep)
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
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return set_error(rep, errno, "read", NULL);
		if (n == 0)
			return 0;	/* end of stream: the verifier judges the length */
		verifier_commit(v, n);
		rep->res.bytes += n;
		if (verifier_received(v) == p->halfclose_at)
			shutdown(fd, SHUT_WR);
		if (verifier_received(v) >= p->kill_at)
			die_by_sigkill();
		if (p->sleep_us)
			usleep(p->sleep_us);
	}
	return 0;
}

/* --sink discard: splice to /dev/null, so the sink copies nothing (unverified). */
static int receive_discarded(int fd, struct role_report *rep)
{
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
			m = count_call(&rep->res.io, splice(src, NULL, devnull, NULL, left, 0), left);
			if (m < 0 && errno == EINTR) {
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

/* --fault sink-slow: the smallest receive buffer the kernel grants (it doubles and clamps). */
static void shrink_receive_buffer(int fd)
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

static __attribute__((noreturn)) void run_sink_many(const struct role_ctx *r, struct role_report *rep)
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

static __attribute__((noreturn)) void run_sink(const struct role_ctx *r, struct role_report *rep)
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
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	if (r->c->sink_discard)
		receive_discarded(r->in_fd, rep);
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

/*
 * Request/response: messages of `block` bytes, at most `outstanding` of
 * them sent and not yet fully echoed.  Sending and receiving interleave in
 * one poll() loop: a message larger than the socket buffers would
 * otherwise deadlock, the server blocked on a full send buffer that the
 * client, still sending, never drains.  Every round trip — from the first
 * byte of a message sent to its last byte back — goes into the histogram.
 */
struct echo_state {
	const unsigned char *data;
	uint64_t size, block;
	uint64_t nmsgs, next, done;	/* messages: total, next to start, fully echoed */
	uint64_t sent;			/* bytes sent */
	unsigned outstanding;
	int64_t *t_start;		/* a ring of `outstanding` send times */
	struct latency_hist *hist;
	/* --fault: the client acts at these byte counts (UINT64_MAX: never). */
	uint64_t send_until;		/* source-reset, source-halfclose: sends stop here */
	struct recv_plan recv;		/* sink-reset, sink-stall, sink-slow, kill */
	bool ended;			/* a fault ended the exchange (reset or half-close) */
};

static uint64_t echo_msg_end(const struct echo_state *e, uint64_t m)
{
	uint64_t end = (m + 1) * e->block;

	return end < e->size ? end : e->size;
}

static int echo_send_some(int fd, struct echo_state *e, struct role_report *rep)
{
	if (e->next >= e->nmsgs)
		return 0;
	if (e->sent == e->next * e->block) {
		/* Starting message `next`, if the window of outstanding requests allows. */
		if (e->next - e->done >= e->outstanding)
			return 0;
		e->t_start[e->next % e->outstanding] = now_ns();
	}
	uint64_t end = min_u64(echo_msg_end(e, e->next), e->send_until);
	ssize_t n = count_call(&rep->res.io, send(fd, e->data + e->sent, end - e->sent,
						  MSG_NOSIGNAL | MSG_DONTWAIT), end - e->sent);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return set_error(rep, errno, "send", NULL);
	if (n > 0) {
		e->sent += n;
		if (e->sent == echo_msg_end(e, e->next))
			e->next++;
	}
	return 0;
}

static int echo_receive_some(int fd, struct echo_state *e, struct verifier *v, struct role_report *rep)
{
	size_t room;
	unsigned char *at = verifier_space(v, &room);
	ssize_t n;

	uint64_t limit = min_u64(e->size, min_u64(e->recv.stop_at, e->recv.kill_at));

	if (limit - verifier_received(v) < room)
		room = limit - verifier_received(v);
	if (e->recv.max_read && room > e->recv.max_read)
		room = e->recv.max_read;
	n = count_call(&rep->res.io, recv(fd, at, room, MSG_DONTWAIT), room);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return set_error(rep, errno, "recv", NULL);
	if (n == 0)
		return set_error(rep, EPIPE, "recv", "the server closed before echoing everything");
	if (n > 0) {
		int64_t now = now_ns();

		verifier_commit(v, n);
		rep->res.bytes += n;
		while (e->done < e->next && verifier_received(v) >= echo_msg_end(e, e->done)) {
			latency_add(e->hist, (uint64_t)(now - e->t_start[e->done % e->outstanding]));
			e->done++;
		}
		if (e->recv.sleep_us)
			usleep(e->recv.sleep_us);
	}
	return 0;
}

/*
 * The faults of --fault that end the client's exchange early.  True when
 * the exchange is over (the connection reset or half-closed).
 */
static bool echo_fault(int fd, const struct role_ctx *r, struct echo_state *e, struct verifier *v,
		       struct role_report *rep)
{
	enum fault_kind fk = r->c->fault.kind;
	uint64_t got = verifier_received(v);

	if (got >= e->recv.kill_at)
		die_by_sigkill();
	if (fk == FAULT_SINK_STALL && got >= e->recv.stop_at)
		stall_forever();
	if ((fk == FAULT_SINK_RESET && got >= e->recv.stop_at) ||
	    (fk == FAULT_SOURCE_RESET && e->sent >= e->send_until)) {
		reset_connection(fd);
		return e->ended = true;
	}
	if (fk == FAULT_SOURCE_HALFCLOSE && e->sent >= e->send_until) {
		/* The client finishes early: what it sent comes back, then EOF. */
		shutdown(fd, SHUT_WR);
		receive_verified(fd, v, &plain_receive, rep);
		return e->ended = true;
	}
	return false;
}

static int echo_exchange(int fd, const struct role_ctx *r, struct echo_state *e, struct verifier *v,
			 struct role_report *rep)
{
	while (e->done < e->nmsgs && !rep->status) {
		bool partly_sent = e->sent > e->next * e->block;
		bool can_send = partly_sent || (e->next < e->nmsgs && e->next - e->done < e->outstanding);
		struct pollfd p = { .fd = fd, .events = POLLIN | (can_send ? POLLOUT : 0) };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return set_error(rep, errno, "poll", NULL);
		}
		if (can_send && (p.revents & (POLLOUT | POLLERR)) && echo_send_some(fd, e, rep))
			break;
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && echo_receive_some(fd, e, v, rep))
			break;
		if (r->c->fault.kind != FAULT_NONE && echo_fault(fd, r, e, v, rep))
			break;
	}
	return rep->status;
}

static __attribute__((noreturn)) void run_echo_client(const struct role_ctx *r, struct role_report *rep)
{
	const struct payload *p = &r->in->payload;
	struct echo_state e = {
		.data = p->data, .size = p->size, .block = r->c->block,
		.nmsgs = (p->size + r->c->block - 1) / r->c->block,
		.outstanding = r->c->outstanding ? r->c->outstanding : 1,
	};
	struct verifier v;
	struct window w;

	rep->verify = VERIFY_MISMATCH;
	payload_prefault(p);
	e.t_start = calloc(e.outstanding, sizeof(*e.t_start));
	e.hist = calloc(1, sizeof(*e.hist));
	if (!e.t_start || !e.hist || verifier_init(&v, &r->in->expected)) {
		set_error(rep, ENOMEM, "malloc", "echo client");
		role_exit(r, rep);
	}
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	e.send_until = UINT64_MAX;
	if (r->c->fault.kind == FAULT_SOURCE_RESET || r->c->fault.kind == FAULT_SOURCE_HALFCLOSE)
		e.send_until = r->c->fault.n;
	e.recv = receiver_plan(r);
	if (r->c->fault.kind == FAULT_SINK_SLOW)
		shrink_receive_buffer(r->in_fd);
	echo_exchange(r->out_fd, r, &e, &v, rep);
	if (!rep->status && !e.ended) {
		shutdown(r->out_fd, SHUT_WR);
		/* Anything after the last reply is extra data: the verifier catches it. */
		receive_verified(r->in_fd, &v, &plain_receive, rep);
	}
	window_close(r, &w, rep);
	/* Percentiles after the window: they cost nothing inside it. */
	rep->latency.outstanding = e.outstanding;
	latency_summarize(e.hist, &rep->latency);
	if (verifier_finish(&v, &rep->digest))
		rep->verify = VERIFY_OK;
	snprintf(rep->note, sizeof(rep->note), "%s", v.note);
	verifier_free(&v);
	role_exit(r, rep);
}

void role_main(const struct role_ctx *r)
{
	struct role_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.verify = -1;
	switch (r->kind) {
	case RK_TESTED:
		if (r->nconn > 1)
			run_tested_many(r, &rep);
		run_tested(r, &rep);
	case RK_SOURCE:
		run_source(r, &rep);
	case RK_SINK:
		if (r->nconn > 1)
			run_sink_many(r, &rep);
		run_sink(r, &rep);
	case RK_ECHO_CLIENT:
		run_echo_client(r, &rep);
	}
	_exit(2);
}
