/* SPDX-License-Identifier: MIT */
/*
 * Role processes: role_main, which runs the role a process was forked
 * for, and the tested role, which drives its strategy step by step,
 * polling on what the strategy names when it cannot progress.  The fixed
 * roles it meets are in fixed_roles.h; what every role shares (barrier,
 * window, report) in role_process.h.
 */
#include "roles.h"
#include "fixed_roles.h"
#include "role_process.h"
#include "harness/model/scenario.h"
#include "strategies/drive.h"
#include "harness/model/base.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the tested role ---------------------------------------------------- */

static int open_output(const char *path, struct role_report *rep)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		set_error(rep, errno, "open", path);
	return fd;
}

/*
 * SO_BUSY_POLL's value with busy: 50 µs, what the kernel's documentation
 * suggests for net.core.busy_read.  It lets a receive call poll the
 * device queue (NAPI) instead of sleeping; a socket with no NAPI context
 * (loopback, AF_UNIX) takes the setting and has nothing to poll, which the
 * record's napi_id shows.
 */
#define BUSY_POLL_USEC 50

/* busy: SO_BUSY_POLL on each distinct socket of the transfer (every connection adds its own), and what the kernel said. */
static void busy_poll_sockets(const struct xfer *x, struct busy_outcome *b)
{
	int fds[2] = { x->in_kind == EP_SOCKET ? x->in_fd : -1,
		       x->out_kind == EP_SOCKET && x->out_fd != x->in_fd ? x->out_fd : -1 };
	int usec = BUSY_POLL_USEC;

	b->asked = true;
	b->usec = BUSY_POLL_USEC;
	b->napi_id = -1;
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		b->sockets++;
		if (setsockopt(fds[i], SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec)) == 0)
			b->granted++;
		else if (!b->refused_errno)
			b->refused_errno = errno;
	}
}

/* After the transfer: the NAPI context the first socket's packets came through (0: none). */
static void busy_poll_napi(const struct xfer *x, struct busy_outcome *b)
{
	int fd = x->in_kind == EP_SOCKET ? x->in_fd : x->out_kind == EP_SOCKET ? x->out_fd : -1;
	unsigned id = 0;
	socklen_t len = sizeof(id);

	if (b->asked && fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len) == 0)
		b->napi_id = (int32_t)id;
}

/*
 * Build the strategy's view of connection k's transfer from the scenario's
 * endpoints.  With --conns N each connection carries its own slice of the
 * payload, and every descriptor is non-blocking: one loop drives them all.
 */
static int tested_prepare(const struct role_ctx *r, int k, struct xfer *x, struct role_report *rep)
{
	/* busy spins on EAGAIN, so its descriptors must say EAGAIN instead of sleeping. */
	bool nonblock = r->c->nonblock || r->nconn > 1 || r->spec->tun.busy;
	const struct scenario_def *d = scenario_def(r->c->scenario);

	xfer_init(x, r->c->scenario, d->in, d->out, r->c->block, &r->spec->tun);
	x->tun.nonblock = nonblock;
	x->answer = r->c->scenario == SC_ECHO ? r->c->response : 0;
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
	if (x->tun.busy)
		busy_poll_sockets(x, &rep->busy);
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

/* recv's use of the bytes: hashed where the strategy received them. */
static int tested_use(void *arg, const unsigned char *p, size_t n)
{
	verifier_feed(arg, p, n);
	return 0;
}

/*
 * The tested role's own verdict, where its output is its memory (recv):
 * what it used, judged as a sink judges; bytes its strategy left unseen
 * by design (MSG_TRUNC) are reported unverified, with the strategy's why,
 * once their count is the stream's.
 */
static void tested_judge(const struct xfer *x, struct verifier *v, struct role_report *rep)
{
	if (x->unseen) {
		/*
		 * Nothing to hash, but the count is still the stream's: a short one
		 * is no figure.  An open stream's (--time) the parent judges.
		 */
		if (v->e->total != EXPECTED_OPEN && x->moved != v->e->total) {
			rep->verify = VERIFY_MISMATCH;
			snprintf(rep->note, sizeof(rep->note), "received %llu bytes of the %llu sent (counted only: %s)",
				 (unsigned long long)x->moved, (unsigned long long)v->e->total, x->unseen);
			return;
		}
		rep->verify = VERIFY_SKIPPED;
		snprintf(rep->note, sizeof(rep->note), "%s", x->unseen);
		return;
	}
	rep->verify = verifier_finish(v, &rep->digest) ? VERIFY_OK : VERIFY_MISMATCH;
	snprintf(rep->note, sizeof(rep->note), "%s", v->note);
}

/*
 * --time where the role under test sends from memory (send, pipe): laps
 * of the payload, each a whole transfer (xfer_next: rearmed, or torn down
 * and set up again, as copylab serve does between responses), until the
 * time is up: the clock is looked at between laps, so the stream ends at
 * the first lap's end past it.  *before: what the laps before the last moved.
 */
static ssize_t drive_laps(const struct strategy *s, struct xfer *x, double time_s, uint64_t *before)
{
	int64_t stop = now_ns() + (int64_t)(time_s * 1e9);
	ssize_t ret;

	while ((ret = xfer_drive_until(s, x, NULL, UINT64_MAX)) == 0 && now_ns() < stop) {
		*before += x->moved;
		if ((ret = xfer_next(s, x)) < 0)
			break;
	}
	return ret;
}

static __attribute__((noreturn)) void run_tested(const struct role_ctx *r, struct role_report *rep)
{
	const struct strategy *s = r->spec->s;
	struct window w;
	struct xfer own, *x = r->tested_xfer ? r->tested_xfer : &own;	/* shared: the parent samples x->moved */
	bool uses = scenario_def(r->c->scenario)->out == EP_MEMORY;
	struct verifier v = { 0 };
	uint64_t laps = 0;
	ssize_t ret;
	char what[96];

	if (tested_prepare(r, 0, x, rep))
		role_exit(r, rep);
	if (uses) {
		if (verifier_init(&v, &r->in->expected)) {
			set_error(rep, ENOMEM, "malloc", "verifier");
			role_exit(r, rep);
		}
		x->use = tested_use;
		x->use_arg = &v;
	}
	/*
	 * Counters first: perf's inherit only reaches threads created after
	 * the counter, and setup may start one (io_uring's SQPOLL poller).
	 */
	window_prepare(r, &w, rep);
	ret = xfer_begin(s, x);
	if (ret < 0) {
		set_error(rep, ret, x->failed_call, x->begun ? "setup" : "strategy state");
		goto out;
	}
	if (r->c->fault.kind == FAULT_SIGNALS)
		catch_storm_signals();
	if (window_open(r, &w, rep))
		goto out;
	if (r->c->time_s > 0 && x->in_kind == EP_MEMORY)
		ret = drive_laps(s, x, r->c->time_s, &laps);
	else
		ret = xfer_drive_until(s, x, NULL, kill_at(r));
	if (ret == 1)
		die_by_sigkill();
	if (ret == 0)
		tested_finish(x);
	window_close(r, &w, rep);
	if (ret < 0)
		set_error(rep, ret, x->failed_call, input_shrank(x, what, sizeof(what)) ? what : NULL);
	else if (uses)
		tested_judge(x, &v, rep);
out:
	rep->res.bytes = laps + x->moved;
	rep->res.io = x->io;
	rep->pipe_granted = x->pipe_granted;
	rep->thp_granted = x->thp_granted;
	rep->zc = x->zc;
	rep->zcr = x->zcr;
	busy_poll_napi(x, &rep->busy);
	xfer_end(s, x);
	if (uses)
		verifier_free(&v);
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
	a->bytes += b->bytes;
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

void role_main(const struct role_ctx *r)
{
	struct role_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.verify = -1;
	if (r->kind != RK_TESTED)
		progress_to(r->progress);
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
	case RK_ECHO_FAR:
		run_echo_far(r, &rep);
	}
	_exit(2);
}
