/* SPDX-License-Identifier: MIT */
/*
 * The life of a role process around its transfer: ready at the barrier,
 * counters on and off at the window's edges, one report to the parent, and
 * the --fault acts that end a role mid-stream.
 */
#include "role_process.h"
#include "harness/model/base.h"
#include "harness/measure/bpf/ledger.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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
_Static_assert(1 + sizeof(struct role_report) <= PIPE_BUF, "a role report must fit one atomic pipe write");

static void send_report(const struct role_ctx *r, struct role_report *rep)
{
	char msg[1 + sizeof(*rep)];

	msg[0] = 'D';
	memcpy(msg + 1, rep, sizeof(*rep));
	while (write(r->report_fd, msg, sizeof(msg)) < 0 && errno == EINTR)
		;
}

void role_exit(const struct role_ctx *r, struct role_report *rep)
{
	send_report(r, rep);
	_exit(rep->status ? 1 : 0);
}

int set_error(struct role_report *rep, int err, const char *call, const char *what)
{
	rep->status = err < 0 ? err : -err;
	snprintf(rep->call, sizeof(rep->call), "%s", call ? call : "?");
	snprintf(rep->what, sizeof(rep->what), "%.*s", (int)sizeof(rep->what) - 1, what ? what : "");	/* a long path is cut */
	return rep->status;
}

int barrier_wait(const struct role_ctx *r)
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

void window_prepare(const struct role_ctx *r, struct window *w, struct role_report *rep)
{
	memset(w, 0, sizeof(*w));
	if (r->c->no_perf) {
		snprintf(rep->perf_note, sizeof(rep->perf_note), "off (--no-perf)");
		return;
	}
	w->perf_on = perf_open_self(&w->perf) == 0;
	perf_describe(&w->perf, rep->perf_note, sizeof(rep->perf_note));
}

int window_open(const struct role_ctx *r, struct window *w, struct role_report *rep)
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

void window_close(const struct role_ctx *r, struct window *w, struct role_report *rep)
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
	for (int k = 0; k < (r->nconn > 1 ? r->nconn : 1); k++)
		tcp_facts_add(r->nconn > 1 ? r->out_fds[k] : r->out_fd, &rep->res.tcp_send);
	tcp_facts_finish(&rep->res.tcp_send);
	if (w->perf_on) {
		perf_read(&w->perf, &rep->res.perf);
		perf_close(&w->perf);
	}
	window_usage(&rep->res, &w->u0, &u1);
}

/* ---- faults (--fault) ------------------------------------------------- */

uint64_t fault_at(const struct run_config *c, enum fault_kind k)
{
	return c->fault.kind == k ? c->fault.n : UINT64_MAX;
}

uint64_t kill_at(const struct role_ctx *r)
{
	return r->c->fault.kind == FAULT_KILL && r->c->fault.role_index == r->slot ? r->c->fault.n : UINT64_MAX;
}

void die_by_sigkill(void)
{
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

void reset_connection(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* ---- progress, for the parent's timeout ------------------------------- */

static struct role_progress *progress_self;

void progress_to(struct role_progress *p)
{
	progress_self = p;
}

void note_progress(const struct role_report *rep)
{
	if (progress_self) {
		progress_self->bytes = rep->res.bytes;
		progress_self->last_ns = now_ns();
	}
}

void fault_fired(struct role_report *rep, uint64_t at)
{
	if (rep->fault_fired)
		return;
	rep->fault_fired = true;
	rep->fault_fired_at = at;
}

void stall_forever(void)
{
	for (;;)
		pause();
}

/* ---- calls --------------------------------------------------------------- */

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}
