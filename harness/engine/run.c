/* SPDX-License-Identifier: MIT */
/*
 * One repetition: descriptors made in the parent, one forked process per
 * role, a barrier, reports collected under a deadline, and cleanup on
 * every path (no role left running, no output file left behind).
 */
#include "run.h"
#include "inputs.h"
#include "harness/model/base.h"
#include "remote.h"
#include "harness/net/userstack_link.h"
#include "roles.h"
#include "watch.h"
#include "timed.h"
#include "harness/results/stats.h"
#include "harness/model/scenario.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/measure/bpf/cpusample.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- one repetition ----------------------------------------------------- */

struct rep_state {
	const struct run_config *c;
	const struct strategy_spec *spec;
	struct role_ctx ctx[MAX_ROLES];
	int nroles;
	pid_t pid[MAX_ROLES];
	int report_rd[MAX_ROLES];
	bool reported[MAX_ROLES];
	struct role_report report[MAX_ROLES];
	bool remote[MAX_ROLES];	/* nic: the role plays on the far host; a local stand-in reports it */
	int plan_fds[8 + 4 * MAX_CONNS];	/* every socket and pipe end made for the roles */
	int nplan;
	int go[2];
	char out_path[PATH_MAX], out2_path[PATH_MAX];
	bool absent[MAX_ROLES];	/* no process plays this role: kernel configuration does (nat) */
	struct kernel_path kpath;	/* what that configuration is, for unconfigure */
	uint64_t signals_sent;	/* --fault signals */
	bool truncated;		/* --fault truncate: the source file must be restored */
	int64_t *conn_end_ns;	/* shared mapping: each connection's last byte (MAX_CONNS) */
	long scenario_pipe;	/* pipe: the size its pipe was granted (F_GETPIPE_SZ); 0 elsewhere */
	struct rep_watch *watch;	/* shared: each role's progress, for a timeout's blame */
	struct watch_view view;
	int64_t t_release;
	struct rep_sampler sampler;	/* --interval: the readings taken while waiting */
};

static enum role_kind role_kind_of(const struct run_config *c, int i)
{
	enum scenario sc = c->scenario;
	const char *name = scenario_def(sc)->roles[i];

	if (i == 0)
		return RK_TESTED;
	if (relay_round_trip(c))
		return i == 1 ? RK_ECHO_CLIENT : RK_ECHO_FAR;
	if (strcmp(name, "source") == 0)
		return RK_SOURCE;
	if (sc == SC_ECHO)
		return RK_ECHO_CLIENT;
	return RK_SINK;
}

static int plan_add(struct rep_state *st, int fd)
{
	st->plan_fds[st->nplan++] = fd;
	return fd;
}

/*
 * tested_up: the up end is the role under test's (userstack puts that end
 * in lwIP, the other in the kernel; other transports ignore it).
 */
static int make_pair_leg(struct rep_state *st, enum leg leg, bool tested_up, int *up, int *down,
			 char *err, size_t errlen)
{
	struct sockopts o = st->c->sock;
	int r;

	/* Request/response traffic must not wait on Nagle and delayed ACKs. */
	o.nodelay = o.nodelay || times_round_trips(st->c);
	if (st->c->transport == TR_USERSTACK)
		r = userstack_pair(&o, tested_up, up, down, err, errlen);
	else
		r = transport_pair_leg(st->c->transport, leg, &o, up, down, err, errlen);
	if (r == 0) {
		plan_add(st, *up);
		plan_add(st, *down);
	}
	return r;
}

static int make_pair(struct rep_state *st, bool tested_up, int *up, int *down, char *err, size_t errlen)
{
	return make_pair_leg(st, LEG_THROUGH, tested_up, up, down, err, errlen);
}

static int configure_strategy(void *arg, struct kernel_path *k)
{
	const struct strategy *s = arg;

	return s->configure(k);
}

/*
 * The role under test is kernel configuration (nat): no process for it.
 * The source connects to the router, the strategy's configuration carries
 * the connection to the sink; unconfigure runs when the rep ends.
 */
static int plan_replaced_role(struct rep_state *st, char *err, size_t errlen)
{
	const struct strategy *s = st->spec->s;
	int up, down, r;

	if (st->c->scenario != SC_RELAY) {
		snprintf(err, errlen, "%s replaces the relay role only, not the %s of %s", s->name,
			 scenario_def(st->c->scenario)->roles[0], scenario_name(st->c->scenario));
		return -EINVAL;
	}
	st->kpath.scenario = st->c->scenario;
	r = transport_pair_via_router(st->c->transport, &st->c->sock, configure_strategy, (void *)s,
				      &st->kpath, &up, &down, err, errlen);
	if (r)
		return r;
	plan_add(st, up);
	plan_add(st, down);
	st->absent[0] = true;
	st->ctx[1].out_fd = up;		/* source */
	st->ctx[2].in_fd = down;	/* sink */
	return 0;
}

/*
 * nic: every fixed role plays on the far host.  Each gives the tested role
 * one end of a data connection, and its local stand-in (forked like a
 * role) the control channel, as its in_fd.
 */
static int plan_remote(struct rep_state *st, char *err, size_t errlen)
{
	struct role_ctx *t = &st->ctx[0];

	for (int i = 1; i < st->nroles; i++) {
		enum role_kind k = role_kind_of(st->c, i);
		int data, ctl, r;

		if ((r = remote_role_begin(st->c->remote, k, st->c, &data, &ctl, err, errlen)))
			return r;
		plan_add(st, data);
		plan_add(st, ctl);
		st->remote[i] = true;
		st->ctx[i].in_fd = ctl;
		if (k == RK_SOURCE)
			t->in_fd = data;
		else
			t->out_fd = data;
	}
	return 0;
}

/* Descriptors of each role, by scenario: who talks to whom. */
static int plan_endpoints(struct rep_state *st, char *err, size_t errlen)
{
	enum scenario sc = st->c->scenario;
	struct role_ctx *t = &st->ctx[0];
	int up, down, up2, down2, p[2], r = 0;

	if (st->c->transport == TR_NIC && scenario_def(sc)->uses_transport)
		return plan_remote(st, err, errlen);
	if (st->spec->s->role_replaced_by)
		return plan_replaced_role(st, err, errlen);
	switch (sc) {
	case SC_SERVE:
	case SC_SEND:
		for (int k = 0; k < t->nconn; k++) {
			if ((r = make_pair(st, true, &up, &down, err, errlen)))
				return r;
			t->out_fds[k] = up;
			st->ctx[1].in_fds[k] = down;
		}
		t->out_fd = t->out_fds[0];
		st->ctx[1].in_fd = st->ctx[1].in_fds[0];
		break;
	case SC_RELAY:
	case SC_FANOUT:
		/* routed: the relay in the router namespace, source in A, sink in B. */
		for (int k = 0; k < t->nconn; k++) {
			if ((r = make_pair_leg(st, LEG_TO_MIDDLE, false, &up, &down, err, errlen)) ||
			    (r = make_pair_leg(st, LEG_FROM_MIDDLE, true, &up2, &down2, err, errlen)))
				return r;
			st->ctx[1].out_fds[k] = up;	/* source */
			t->in_fds[k] = down;
			t->out_fds[k] = up2;
			st->ctx[2].in_fds[k] = down2;	/* sink */
		}
		st->ctx[1].out_fd = st->ctx[1].out_fds[0];
		t->in_fd = t->in_fds[0];
		t->out_fd = t->out_fds[0];
		st->ctx[2].in_fd = st->ctx[2].in_fds[0];
		if (relay_round_trip(st->c)) {
			/* the replies' way back: a second transfer on the same two sockets */
			t->nconn = 2;
			t->in_fds[1] = t->out_fd;
			t->out_fds[1] = t->in_fd;
			st->ctx[1].in_fd = st->ctx[1].out_fd;
			st->ctx[2].out_fd = st->ctx[2].in_fd;
		}
		break;
	case SC_STORE:
	case SC_RECV:
		if ((r = make_pair(st, false, &up, &down, err, errlen)))
			return r;
		st->ctx[1].out_fd = up;
		t->in_fd = down;
		break;
	case SC_ECHO:
		if ((r = make_pair(st, false, &up, &down, err, errlen)))
			return r;
		st->ctx[1].out_fd = st->ctx[1].in_fd = up;
		t->in_fd = t->out_fd = down;
		break;
	case SC_PIPE:
		if (pipe2(p, O_CLOEXEC)) {
			snprintf(err, errlen, "pipe2: %s", strerror(errno));
			return -errno;
		}
		plan_add(st, p[0]);
		plan_add(st, p[1]);
		/* Every strategy meets the same pipe: sized once, for all alike. */
		if (st->c->pipe_size)
			fcntl(p[1], F_SETPIPE_SZ, (int)st->c->pipe_size);
		/*
		 * A refused F_SETPIPE_SZ (above pipe-max-size without
		 * CAP_SYS_RESOURCE) leaves the old size: the record says what
		 * the writer really met, not what was asked.
		 */
		st->scenario_pipe = fcntl(p[1], F_GETPIPE_SZ);
		t->out_fd = p[1];
		st->ctx[1].in_fd = p[0];
		break;
	case SC_COPY:
	default:
		break;
	}
	return 0;
}

static bool is_mine(const struct role_ctx *mine, int fd)
{
	if (fd == mine->in_fd || fd == mine->out_fd)
		return true;
	for (int k = 0; k < mine->nconn; k++)
		if (fd == mine->in_fds[k] || fd == mine->out_fds[k])
			return true;
	return false;
}

static void close_foreign_fds(const struct rep_state *st, const struct role_ctx *mine, int self)
{
	for (int i = 0; i < st->nplan; i++)
		if (!is_mine(mine, st->plan_fds[i]))
			close(st->plan_fds[i]);
	for (int i = 0; i < st->nroles; i++)
		if (i != self)
			close(st->ctx[i].report_fd);
	for (int i = 0; i < st->nroles; i++)
		close(st->report_rd[i]);
	close(st->go[1]);
}

static int fork_role(struct rep_state *st, int i, char *err, size_t errlen)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		/* A role must never outlive the harness that measures it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(3);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (st->c->pin[i] >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(st->c->pin[i], &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		close_foreign_fds(st, &st->ctx[i], i);
		transport_close_inherited();
		if (st->remote[i])
			remote_role_main(&st->ctx[i], st->ctx[i].in_fd);
		role_main(&st->ctx[i]);
	}
	st->pid[i] = pid;
	return 0;
}

static void kill_roles(struct rep_state *st)
{
	for (int i = 0; i < st->nroles; i++)
		if (st->pid[i] > 0)
			kill(st->pid[i], SIGKILL);
}

static void reap_roles(struct rep_state *st, int *status)
{
	for (int i = 0; i < st->nroles; i++) {
		status[i] = 0;
		if (st->pid[i] > 0) {
			while (waitpid(st->pid[i], &status[i], 0) < 0 && errno == EINTR)
				;
			if (st->c->ledger)
				ledger_forget(st->c->ledger, st->pid[i]);
			st->pid[i] = 0;
		}
	}
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

enum wait_outcome { WAIT_OK, WAIT_ROLE_FAILED, WAIT_DIED, WAIT_TIMEOUT, WAIT_SIGNAL };

/*
 * Wait for one message from every role still expected to speak: 'R' in
 * the setup phase, 'D' + report after the release.  Returns the first
 * thing that went wrong; *who names the role.
 */
static enum wait_outcome collect(struct rep_state *st, bool setup_phase, int64_t deadline, int *who)
{
	bool done[MAX_ROLES] = { 0 };
	int left = st->nroles;
	bool storm = !setup_phase && st->c->fault.kind == FAULT_SIGNALS;
	int64_t next_signal = 0;

	for (int i = 0; i < st->nroles; i++)
		if (st->absent[i] || (!setup_phase && st->reported[i])) {
			done[i] = true;
			left--;
		}
	while (left > 0) {
		struct pollfd p[MAX_ROLES];
		int idx[MAX_ROLES], n = 0;
		int64_t ms = (deadline - now_ns()) / 1000000;

		if (run_interrupted)
			return WAIT_SIGNAL;
		if (ms <= 0) {
			for (int i = 0; i < st->nroles; i++)
				if (!done[i]) {
					*who = i;
					break;
				}
			return WAIT_TIMEOUT;
		}
		for (int i = 0; i < st->nroles; i++)
			if (!done[i]) {
				p[n] = (struct pollfd){ .fd = st->report_rd[i], .events = POLLIN };
				idx[n++] = i;
			}
		/* During the transfer, look at the tested role's progress ten times a second. */
		int wait_ms = ms > (setup_phase ? 1000 : 100) ? (setup_phase ? 1000 : 100) : (int)ms;

		if (!setup_phase) {
			watch_sample(st->watch, &st->view, now_ns());
			sampler_tick(&st->sampler, now_ns());
			wait_ms = sampler_wait_ms(&st->sampler, now_ns(), wait_ms);
		}
		if (storm)
			wait_ms = fault_signal_storm(st->pid[0], st->c->fault.n, &st->signals_sent, &next_signal, wait_ms);
		int r = poll(p, n, wait_ms);

		if (r < 0 && errno != EINTR)
			return WAIT_DIED;
		for (int k = 0; r > 0 && k < n; k++) {
			int i = idx[k];
			char tag;

			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			*who = i;
			if (read_full(st->report_rd[i], &tag, 1))
				return WAIT_DIED;
			if (tag == 'R' && setup_phase) {
				done[i] = true;
				left--;
				continue;
			}
			if (tag != 'D' || read_full(st->report_rd[i], &st->report[i], sizeof(st->report[i])))
				return WAIT_DIED;
			st->reported[i] = true;
			done[i] = true;
			left--;
			if (st->report[i].status)
				return WAIT_ROLE_FAILED;
		}
	}
	return WAIT_OK;
}

/*
 * A role that fails may only be the first to notice that another one died
 * (a sink killed mid-stream makes the server's send fail with EPIPE a
 * moment before the sink's exit is seen).  Before blaming the role that
 * reported, wait a little (at most 300 ms) for the others: one whose report
 * pipe ends without a report died, and it is the cause.  True, with *who
 * set to it, when one did.
 */
static bool find_dead_role(struct rep_state *st, int *who)
{
	int64_t deadline = now_ns() + 300 * 1000000LL;
	bool gone[MAX_ROLES] = { 0 };

	for (;;) {
		struct pollfd p[MAX_ROLES];
		int idx[MAX_ROLES], n = 0;
		int64_t ms = (deadline - now_ns()) / 1000000;

		for (int i = 0; i < st->nroles; i++)
			if (!st->absent[i] && !st->reported[i] && !gone[i] && st->report_rd[i] >= 0) {
				p[n] = (struct pollfd){ .fd = st->report_rd[i], .events = POLLIN };
				idx[n++] = i;
			}
		if (n == 0 || ms <= 0)
			return false;
		if (poll(p, n, (int)ms) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			int i = idx[k];
			char tag;

			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (read_full(st->report_rd[i], &tag, 1)) {
				*who = i;	/* the pipe ended without a word: that role died */
				return true;
			}
			if (tag == 'D' && read_full(st->report_rd[i], &st->report[i], sizeof(st->report[i])) == 0)
				st->reported[i] = true;
			else
				gone[i] = true;
		}
	}
}

/* A role that reported damage in what it received, or -1. */
static int mismatched_role(const struct rep_state *st)
{
	for (int i = 0; i < st->nroles; i++)
		if (st->reported[i] && st->report[i].verify == VERIFY_MISMATCH)
			return i;
	return -1;
}

/*
 * why: at a timeout, which role stopped and what each had moved (watch.c);
 * who is then that role, or -1 when none could be told apart.
 */
static void describe_failure(struct rep_state *st, enum wait_outcome w, int who,
			     const int *wstatus, const char *why, struct rep_result *out)
{
	size_t len = sizeof(out->error);
	char head[160], role[40] = "";

	/* An interrupt is the user's doing: no role is to blame for it. */
	if (who >= 0 && w != WAIT_SIGNAL)
		snprintf(role, sizeof(role), ": role %s", scenario_def(st->c->scenario)->roles[who]);
	snprintf(head, sizeof(head), "%s %s%s%s%s", st->spec->label,
		 scenario_name(st->c->scenario), strcmp(out->cell.transport, "none") ? " over " : "",
		 strcmp(out->cell.transport, "none") ? out->cell.transport : "", role);
	switch (w) {
	case WAIT_ROLE_FAILED: {
		const struct role_report *r = &st->report[who];
		int e = -r->status;

		out->status = r->status;
		snprintf(out->error, len, "%s: %s failed: %s (%s)%s%s", head, r->call,
			 strerror(e), errno_name(e), r->what[0] ? ": " : "", r->what);
		break;
	}
	case WAIT_TIMEOUT:
		out->status = -ETIMEDOUT;
		snprintf(out->error, len, "%s: timeout: still running after %.3g s (--timeout)%s%s; all roles were killed",
			 head, st->c->timeout_s, why && why[0] ? "; " : "", why ? why : "");
		break;
	case WAIT_SIGNAL:
		out->status = -EINTR;
		snprintf(out->error, len, "%s: interrupted by SIG%s (%s); all roles were killed and no record was written",
			 head, sigabbrev_np(run_interrupted) ? sigabbrev_np(run_interrupted) : "?",
			 strsignal(run_interrupted));
		break;
	case WAIT_DIED:
	default:
		out->status = -ECHILD;
		if (WIFSIGNALED(wstatus[who]))
			snprintf(out->error, len, "%s: the role process died from signal SIG%s (%s)",
				 head, sigabbrev_np(WTERMSIG(wstatus[who])) ? sigabbrev_np(WTERMSIG(wstatus[who])) : "?",
				 strsignal(WTERMSIG(wstatus[who])));
		else
			snprintf(out->error, len, "%s: the role process exited (status %d) without a report",
				 head, WEXITSTATUS(wstatus[who]));
		break;
	}
}

static void fill_roles(struct rep_state *st, struct rep_result *out)
{
	const struct scenario_def *d = scenario_def(st->c->scenario);

	out->nroles = 0;
	/* A role no process played has no figures at all: it is left out, and said so. */
	if (st->absent[0])
		snprintf(out->role_absent, sizeof(out->role_absent), "%s: no process; %s", d->roles[0],
			 st->spec->s->role_replaced_by);
	for (int i = 0; i < st->nroles; i++) {
		struct role_result *res = &out->roles[out->nroles];

		if (st->absent[i])
			continue;
		out->nroles++;
		*res = st->report[i].res;
		snprintf(res->name, sizeof(res->name), "%s", d->roles[i]);
		res->under_test = i == 0;
		res->cpu_pinned = st->c->pin[i];
		/* A far role's ledger slot saw no process: no ledger rather than zeros. */
		res->have_ledger = !st->remote[i] && st->c->ledger &&
				   ledger_read(st->c->ledger, i, &res->ledger) == 0;
		res->have_cputime = !st->remote[i] && st->c->sampler &&
				    cpusample_read(st->c->sampler, i, &res->cputime) == 0;
		res->zc = st->report[i].zc;
		/* a far role's stand-in sends nothing of the payload: its sockets are not the role's */
		if (st->remote[i])
			memset(&res->tcp_send, 0, sizeof(res->tcp_send));
	}
	out->pipe_granted = st->report[0].pipe_granted;
	/* The pipe scenario's strategies write into its pipe, unless they made one of their own. */
	if (!out->pipe_granted && st->scenario_pipe > 0)
		out->pipe_granted = (size_t)st->scenario_pipe;
	out->hugepages_asked = st->spec->tun.hugepages;
	out->thp_granted = st->report[0].thp_granted;
	out->zc = st->report[0].zc;
	out->zcr = st->report[0].zcr;
	out->busy = st->report[0].busy;
	for (int i = 1; i < st->nroles; i++)
		out->busy.reader_spun |= st->report[i].busy.reader_spun;
	for (int i = 1; i < st->nroles; i++)
		if (st->report[i].fixed_sender[0])
			snprintf(out->fixed_sender, sizeof(out->fixed_sender), "%s", st->report[i].fixed_sender);
	for (int i = 1; i < st->nroles; i++)
		if (st->report[i].latency.count)
			out->latency = st->report[i].latency;
	snprintf(out->perf_note, sizeof(out->perf_note), "%s", st->report[0].perf_note);
}

/*
 * Each connection's share and completion time (its last byte at the
 * receiving role); one connection's are the cell's own.
 */
static void conn_spread_fill(const struct rep_state *st, int64_t t_release, struct rep_result *out)
{
	unsigned n = run_conns(st->c);
	double done[MAX_CONNS], bps[MAX_CONNS];
	struct conn_spread *sp = &out->spread;

	sp->bytes_min = UINT64_MAX;
	sp->bytes_max = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t off, len;

		conn_slice(out->cell.bytes, n, i, &off, &len);
		done[i] = n == 1 ? out->wall_s : (st->conn_end_ns[i] - t_release) / 1e9;
		if (done[i] < 0)
			done[i] = 0;
		bps[i] = done[i] > 0 ? len / done[i] : 0;
		sp->bytes_min = len < sp->bytes_min ? len : sp->bytes_min;
		sp->bytes_max = len > sp->bytes_max ? len : sp->bytes_max;
	}
	sp->completion_min_s = stats_min(done, n);
	sp->completion_max_s = stats_max(done, n);
	sp->completion_median_s = stats_median(done, n);
	sp->bps_min = stats_min(bps, n);
	sp->bps_max = stats_max(bps, n);
	sp->bps_median = stats_median(bps, n);
}

/* Wall time, and the verdict of every receiving role and output file. */
static int judge(struct rep_state *st, const struct run_inputs *in, int64_t t_release,
		 struct rep_result *out)
{
	const struct scenario_def *d = scenario_def(st->c->scenario);
	int64_t t_end = t_release;
	bool skipped = false;

	for (int i = 0; i < st->nroles; i++)
		if (st->report[i].t_end_ns > t_end)
			t_end = st->report[i].t_end_ns;
	out->wall_s = (t_end - t_release) / 1e9;
	/* --time: the bytes are what the source sent, once every receiver has counted as many. */
	if (st->c->time_s > 0 && timed_count_check(st->report, st->ctx, d->roles, st->absent, st->nroles,
						   &out->cell.bytes, out->verify_note, sizeof(out->verify_note))) {
		out->verify = VERIFY_MISMATCH;
		return -EIO;
	}
	out->bytes_per_s = out->wall_s > 0 ? out->cell.bytes / out->wall_s : 0;
	conn_spread_fill(st, t_release, out);
	out->verify = VERIFY_OK;
	/* Relay's round trip: the replies prove only what came back; the far echo proves it crossed. */
	if (relay_round_trip(st->c) && !st->absent[2] && st->report[2].res.bytes != st->c->size) {
		out->verify = VERIFY_MISMATCH;
		snprintf(out->verify_note, sizeof(out->verify_note),
			 "%s: the far echo got %" PRIu64 " of the %" PRIu64 " request bytes: the relay did not carry every request to it",
			 d->roles[2], st->report[2].res.bytes, st->c->size);
		return -EIO;
	}

	/* Every role that verifies: the fixed receivers, and recv's role under test (its output is its memory). */
	for (int i = 0; i < st->nroles; i++) {
		const struct role_report *r = &st->report[i];

		if (st->absent[i])
			continue;	/* no process, no report: its zeroes are no verdict */
		if (r->verify == VERIFY_MISMATCH) {
			out->verify = VERIFY_MISMATCH;
			snprintf(out->verify_note, sizeof(out->verify_note), "%s: %s", d->roles[i], r->note);
			return -EIO;
		}
		if (r->verify == VERIFY_SKIPPED) {
			skipped = true;
			snprintf(out->verify_note, sizeof(out->verify_note), "%s", r->note);
		}
		if (r->verify == VERIFY_OK)
			out->digest = r->digest;
	}
	const char *files[2] = { d->out == EP_FILE ? st->out_path : NULL,
				 d->out2_file ? st->out2_path : NULL };
	struct expected whole = in->expected;

	whole.total = st->c->time_s > 0 ? out->cell.bytes : whole.total;	/* a timed file: what was sent */
	for (int k = 0; k < 2; k++) {
		if (!files[k])
			continue;
		if (!verify_file(files[k], &whole, &out->digest, out->verify_note,
				 sizeof(out->verify_note))) {
			out->verify = VERIFY_MISMATCH;
			return -EIO;
		}
	}
	if (skipped)
		out->verify = VERIFY_SKIPPED;
	return 0;
}

static void fill_cell(const struct run_config *c, const struct strategy_spec *spec,
		      struct rep_result *out)
{
	struct cell *cell = &out->cell;

	cell->scenario = c->scenario;
	snprintf(cell->strategy, sizeof(cell->strategy), "%s", spec->label);
	snprintf(cell->base, sizeof(cell->base), "%s", spec->s->name);
	snprintf(cell->transport, sizeof(cell->transport), "%s",
		 scenario_def(c->scenario)->uses_transport ? transport_name(c->transport) : "none");
	cell->bytes = c->size;		/* --time: what moved, once judged */
	cell->time_s = c->time_s;
	cell->block = c->block;
	snprintf(cell->cache, sizeof(cell->cache), "%s", c->cache_cold ? "cold" : "warm");
	cell->outstanding = times_round_trips(c) ? echo_window(c) : 0;
	cell->rps = times_round_trips(c) ? c->rps : 0;
	cell->response = c->scenario == SC_ECHO ? c->response : 0;
	cell->conns = run_conns(c);
	/* What was asked is the key: a grant can differ from one strategy to the next. */
	cell->pipe_asked = c->pipe_size;
	snprintf(out->bpf_note, sizeof(out->bpf_note), "%s", c->bpf_note ? c->bpf_note : "off");
	snprintf(out->tracer_note, sizeof(out->tracer_note), "%s", c->tracer_note ? c->tracer_note : "off");
	snprintf(out->cputime_note, sizeof(out->cputime_note), "%s", c->cputime_note ? c->cputime_note : "off");
}

/* What each role is given before fork: its report pipe, its kind and slot, its files. 0, or -1 with out->error. */
static int role_contexts(struct rep_state *st, const struct run_inputs *in, struct rep_result *out)
{
	const struct scenario_def *d = scenario_def(st->c->scenario);

	for (int i = 0; i < st->nroles; i++) {
		int rp[2];
		struct role_ctx *r = &st->ctx[i];

		if (pipe2(rp, O_CLOEXEC)) {
			snprintf(out->error, sizeof(out->error), "pipe2: %s", strerror(errno));
			return -1;
		}
		st->report_rd[i] = rp[0];
		r->report_fd = rp[1];
		r->kind = role_kind_of(st->c, i);
		r->slot = i;
		r->c = st->c;
		r->spec = st->spec;
		r->in = in;
		r->go_fd = st->go[0];
		r->progress = st->watch ? &st->watch->progress[i] : NULL;
		r->out_path = d->out == EP_FILE ? st->out_path : NULL;
		r->out2_path = d->out2_file ? st->out2_path : NULL;
	}
	return 0;
}

/* The role that acts out the run's fault, or -1 when the harness itself does. */
static int fault_actor(const struct rep_state *st)
{
	enum fault_kind k = st->c->fault.kind;
	bool sink_side = k == FAULT_SINK_CLOSE || k == FAULT_SINK_RESET || k == FAULT_SINK_HALFCLOSE ||
			 k == FAULT_SINK_STALL || k == FAULT_SINK_SLOW;
	bool source_side = k == FAULT_SOURCE_RESET || k == FAULT_SOURCE_HALFCLOSE;

	if (st->c->corrupt != CORRUPT_NONE || k == FAULT_TRUNCATE || k == FAULT_NONE)
		return -1;
	if (k == FAULT_KILL)
		return st->c->fault.role_index;
	if (k == FAULT_SIGNALS)
		return 0;
	for (int i = 1; i < st->nroles; i++) {
		enum role_kind rk = st->ctx[i].kind;

		if (rk == RK_ECHO_CLIENT || (sink_side && rk == RK_SINK) || (source_side && rk == RK_SOURCE))
			return i;
	}
	return -1;
}

/* --fault: what was asked, and whether (and where) it fired, from whoever acted it out. */
static void fault_outcome_fill(const struct rep_state *st, const struct run_inputs *in, const int *wstatus,
			       struct fault_outcome *o)
{
	const struct run_config *c = st->c;
	int i = fault_actor(st);

	fault_outcome_begin(o, &c->fault, c->corrupt, c->corrupt_at,
			    i >= 0 ? scenario_def(c->scenario)->roles[i] : NULL);
	if (!o->asked[0])
		return;
	o->role_bytes = i >= 0 ? st->report[i].res.bytes : c->size;
	if (c->corrupt != CORRUPT_NONE) {
		o->fired = o->have_fired_at = in->corrupted;
		o->fired_at = c->corrupt_at;
	} else if (c->fault.kind == FAULT_TRUNCATE) {
		o->fired = o->have_fired_at = st->truncated;
		o->fired_at = c->fault.n;
	} else if (c->fault.kind == FAULT_SIGNALS) {
		o->signals_sent = st->signals_sent;
		o->fired = st->signals_sent > 0;
	} else if (c->fault.kind == FAULT_KILL) {
		o->fired = i >= 0 && WIFSIGNALED(wstatus[i]) && WTERMSIG(wstatus[i]) == SIGKILL;
	} else if (i >= 0) {
		o->fired = st->report[i].fault_fired;
		o->have_fired_at = o->fired && fault_at_offset(c->fault.kind);
		o->fired_at = st->report[i].fault_fired_at;
	}
}

/* At a timeout: the role that stopped, not the first in the scenario's order (watch.c). */
static int timeout_blame(struct rep_state *st, char *why, size_t len)
{
	const struct scenario_def *d = scenario_def(st->c->scenario);
	bool active[MAX_ROLES];
	struct watch_roles r = { .n = st->nroles, .names = d->roles, .pid = st->pid, .active = active, .tested = 0 };
	int blamed;

	for (int i = 0; i < st->nroles; i++)
		active[i] = st->pid[i] > 0 && !st->absent[i] && !st->remote[i] && !st->reported[i];
	watch_sample(st->watch, &st->view, now_ns());
	blamed = watch_blame(st->watch, &st->view, &r, st->t_release, now_ns(), why, len);
	return blamed;
}

/* --interval: the baseline reading at the release; without memory, the record's series is null. */
static void start_sampler(struct rep_state *st, struct rep_result *out)
{
	bool local[MAX_ROLES];

	out->interval_s = st->c->interval_s;
	for (int i = 0; i < st->nroles; i++)
		local[i] = st->pid[i] > 0 && !st->absent[i] && !st->remote[i];
	if (sampler_start(&st->sampler, st->c, st->ctx, st->nroles, st->pid, local, st->watch, st->view.sampled,
			  st->t_release))
		sampler_drop(&st->sampler);
}

/* The barrier's release: every role starts now, and the interval readings with them. */
static int64_t release_roles(struct rep_state *st, struct rep_result *out)
{
	st->t_release = now_ns();
	close(st->go[1]);
	st->go[1] = -1;
	start_sampler(st, out);
	return st->t_release;
}

int run_rep(const struct run_config *c, const struct strategy_spec *spec,
	    const struct run_inputs *in, int rep, struct rep_result *out)
{
	const struct scenario_def *d = scenario_def(c->scenario);
	struct rep_state *st = calloc(1, sizeof(*st));
	int wstatus[MAX_ROLES] = { 0 }, who = 0, ret = 1;
	struct profile_run prof = { 0 };
	struct system_cpu sys0, sys1;
	struct userstack_sample us0 = { 0 }, us1 = { 0 };
	enum wait_outcome w;
	int64_t t_release;
	char why[256] = "";

	memset(out, 0, sizeof(*out));
	fill_cell(c, spec, out);
	out->rep = rep;
	/* N connections are driven non-blocking, and busy spins on what non-blocking calls say */
	out->nonblock = c->nonblock || run_conns(c) > 1 || spec->tun.busy;
	if (!st) {
		snprintf(out->error, sizeof(out->error), "out of memory");
		return 1;
	}
	st->c = c;
	st->spec = spec;
	st->nroles = d->nroles;
	st->go[0] = st->go[1] = -1;
	st->conn_end_ns = mmap(NULL, MAX_CONNS * sizeof(int64_t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st->conn_end_ns == MAP_FAILED) {
		snprintf(out->error, sizeof(out->error), "mmap: %s", strerror(errno));
		free(st);
		return 1;
	}
	for (int i = 0; i < MAX_ROLES; i++) {
		st->report_rd[i] = st->ctx[i].report_fd = -1;
		st->ctx[i].in_fd = st->ctx[i].out_fd = -1;
		st->ctx[i].nconn = (int)run_conns(c);
		st->ctx[i].conn_end_ns = st->conn_end_ns;
		for (int k = 0; k < MAX_CONNS; k++)
			st->ctx[i].in_fds[k] = st->ctx[i].out_fds[k] = -1;
	}
	snprintf(st->out_path, sizeof(st->out_path), "%s/out-%d-%d.dat", c->workdir, (int)getpid(), rep);
	snprintf(st->out2_path, sizeof(st->out2_path), "%s/record-%d-%d.dat", c->workdir, (int)getpid(), rep);

	if (plan_endpoints(st, out->error, sizeof(out->error)) || pipe2(st->go, O_CLOEXEC)) {
		if (!out->error[0])
			snprintf(out->error, sizeof(out->error), "pipe2: %s", strerror(errno));
		out->status = -EIO;
		goto cleanup;
	}
	/* One connection: the tested role's transfer lives where the parent can sample it. */
	st->watch = watch_map();
	st->view.sampled = st->watch && run_conns(c) == 1 && !st->remote[0] && !relay_round_trip(c);
	if (st->view.sampled)
		st->ctx[0].tested_xfer = &st->watch->tested;
	if (role_contexts(st, in, out))
		goto cleanup;
	if (c->cache_cold && in->source_path[0])
		evict_source(in->source_path, out->cache_note, sizeof(out->cache_note));
	for (int i = 0; i < st->nroles; i++) {
		if (c->ledger)
			ledger_reset(c->ledger, i);
		if (c->sampler)
			cpusample_reset(c->sampler, i);
	}
	for (int i = 0; i < st->nroles; i++)
		if (!st->absent[i] && fork_role(st, i, out->error, sizeof(out->error)))
			goto kill;
	/* The parent keeps only the read ends of the reports and the barrier. */
	for (int i = 0; i < st->nplan; i++)
		close(st->plan_fds[i]);
	st->nplan = 0;
	for (int i = 0; i < st->nroles; i++) {
		close(st->ctx[i].report_fd);
		st->ctx[i].report_fd = -1;
	}
	close(st->go[0]);
	st->go[0] = -1;

	w = collect(st, true, now_ns() + (int64_t)((c->timeout_s > 60 ? c->timeout_s : 60) * 1e9), &who);
	if (w != WAIT_OK)
		goto fail;
	/* --fault truncate=N: every role has opened (and mapped) the file; now it shrinks. */
	if (c->fault.kind == FAULT_TRUNCATE && in->source_path[0]) {
		if (truncate(in->source_path, (off_t)c->fault.n) < 0) {
			out->status = -errno;
			snprintf(out->error, sizeof(out->error), "--fault truncate: truncate %.200s: %s",
				 in->source_path, strerror(errno));
			goto kill;
		}
		st->truncated = true;
	}
	if (c->profile && !st->absent[0] && profile_start(&prof, st->pid[0], c->workdir, out->profile.note,
					sizeof(out->profile.note)))
		prof.perf_pid = 0;
	system_cpu_read(&sys0, c->ledger);
	if (c->transport == TR_USERSTACK)
		userstack_sample(&us0);
	t_release = release_roles(st, out);
	w = collect(st, false, t_release + (int64_t)((c->time_s + c->timeout_s) * 1e9), &who);
	if (w != WAIT_OK)
		goto fail;
	out->interval_bps = series_throughput(out->series = sampler_finish(&st->sampler, now_ns()));
	system_cpu_read(&sys1, c->ledger);
	if (c->transport == TR_USERSTACK)
		userstack_sample(&us1);
	out->system_cpu = system_cpu_delta(&sys0, &sys1);
	profile_finish(&prof, &out->profile);
	reap_roles(st, wstatus);
	fill_roles(st, out);
	/* The stack's own CPU and syscalls, a role of its own beside the application's. */
	if (c->transport == TR_USERSTACK && d->uses_transport && out->nroles < MAX_ROLES)
		userstack_role(&us0, &us1, &out->roles[out->nroles++]);
	fault_outcome_fill(st, in, wstatus, &out->fault);
	if (judge(st, in, t_release, out)) {
		out->status = -EIO;
		snprintf(out->error, sizeof(out->error), "%s %s%s%s: verification failed: %s",
			 spec->label, d->name, d->uses_transport ? " over " : "",
			 d->uses_transport ? out->cell.transport : "", out->verify_note);
		goto cleanup;
	}
	/* A test built on a fault that never acted would pass without testing anything. */
	if (fault_outcome_check(&out->fault, why, sizeof(why))) {
		out->status = -ECANCELED;
		snprintf(out->error, sizeof(out->error), "%s %s%s%s: %s; no record was written",
			 spec->label, d->name, d->uses_transport ? " over " : "",
			 d->uses_transport ? out->cell.transport : "", why);
		goto cleanup;
	}
	ret = 0;
	goto cleanup;
fail: {
	int noticed = who, dead, bad;
	bool blamed = w == WAIT_ROLE_FAILED && find_dead_role(st, &dead);

	/* Before the kill: a stopped role shows as stopped only while it lives. */
	if (w == WAIT_TIMEOUT && st->t_release)
		who = timeout_blame(st, why, sizeof(why));
	profile_finish(&prof, &out->profile);
	kill_roles(st);
	reap_roles(st, wstatus);
	/*
	 * Ctrl-C reaches the whole process group: a role may die of it before
	 * the parent's handler runs, and its end is no failure of its own.
	 * The reap is a system call: the parent's pending signal is handled by now.
	 */
	if (run_interrupted) {
		w = WAIT_SIGNAL;
		blamed = false;
	}
	if (!blamed && w == WAIT_ROLE_FAILED && !fault_acts_on_stream(st->c) && (bad = mismatched_role(st)) >= 0) {
		/*
		 * A receiver that found damage stops reading: its peer's reset is
		 * the consequence.  Not where a fault ends a stream on purpose
		 * (a close, a reset, a kill): there the short stream is the
		 * consequence and the role's error is what the fault tests.
		 */
		const struct role_report *r = &st->report[noticed];

		out->status = -EIO;
		out->verify = VERIFY_MISMATCH;
		snprintf(out->error, sizeof(out->error), "%s %s%s%s: verification failed: %s: %s; then role %s: %s failed: %s",
			 st->spec->label, d->name, d->uses_transport ? " over " : "",
			 d->uses_transport ? out->cell.transport : "", d->roles[bad], st->report[bad].note,
			 d->roles[noticed], r->call, errno_name(-r->status));
	} else if (blamed) {
		const struct role_report *r = &st->report[noticed];
		size_t used;

		describe_failure(st, WAIT_DIED, dead, wstatus, NULL, out);
		used = strlen(out->error);
		snprintf(out->error + used, sizeof(out->error) - used, "; then role %s: %s failed: %s",
			 d->roles[noticed], r->call, errno_name(-r->status));
	} else {
		describe_failure(st, w, who, wstatus, why, out);
	}
	fill_roles(st, out);
	goto cleanup;
}
kill:
	out->status = -ECHILD;
	kill_roles(st);
	reap_roles(st, wstatus);
cleanup:
	if (st->truncated)
		restore_source(in, c->fault.n);
	for (int i = 0; i < st->nplan; i++)
		close(st->plan_fds[i]);
	for (int i = 0; i < st->nroles; i++) {
		if (st->report_rd[i] >= 0)
			close(st->report_rd[i]);
		if (st->ctx[i].report_fd >= 0)
			close(st->ctx[i].report_fd);
	}
	if (st->go[0] >= 0)
		close(st->go[0]);
	if (st->go[1] >= 0)
		close(st->go[1]);
	unlink(st->out_path);
	unlink(st->out2_path);
	if (st->kpath.configured) {
		spec->s->unconfigure(&st->kpath);
		/* Not the rep's failure: the table goes with the router namespace at exit. */
		if (st->kpath.configured || st->kpath.failed_call)
			fprintf(stderr, "copylab: %s: removing %s: %s\n", spec->label, st->kpath.table, st->kpath.err);
	}
	munmap(st->conn_end_ns, MAX_CONNS * sizeof(int64_t));
	sampler_drop(&st->sampler);
	if (ret)
		rep_result_release(out);	/* no record: no series */
	watch_unmap(st->watch);
	free(st);
	return ret;
}
