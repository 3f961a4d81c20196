/* SPDX-License-Identifier: MIT */
/*
 * nic mode, the far host: `copylab sink|source --listen` (remote_daemon)
 * plays the fixed sink or source for one driver's run at a time, watching
 * the driver's control channel so that a driver gone ends its run.
 */
#include "remote.h"
#include "remote_wire.h"
#include "pattern.h"
#include "verify.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define DATA_ACCEPT_TIMEOUT_MS 30000
#define GO_TIMEOUT_MS 600000
/*
 * A blocked data read or send on the far host wakes this often to look at
 * the control channel: a driver that is gone aborts the run within it.
 */
#define DATA_WAKE_MS 1000
/*
 * A driver host that vanishes without a FIN or RST: keepalive probes close
 * the (idle) control channel to it in about 25 s (10 s idle, 3 probes 5 s
 * apart), which ends the run.  A data connection also gives up on data
 * left unacknowledged (or a zero window) this long: the driver's default
 * --timeout, after which a live driver has ended the repetition itself.
 * (TCP_USER_TIMEOUT would also stretch keepalive to its own length, so the
 * control channel has none.)
 */
#define DATA_PEER_LOST_MS 120000

/*
 * The daemon's connections to a driver: keepalive probes, and on a data
 * connection a limit on unacknowledged data (user_timeout_ms, 0: none),
 * so a driver host that loses power or its link (no FIN, no RST ever
 * arrives) ends its run instead of holding the daemon forever.
 */
static void watch_peer(int fd, int user_timeout_ms)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (user_timeout_ms > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

/*
 * Whether the driver has hung up its control channel: closed (its process
 * ended or was killed: FIN), reset, or lost to keepalive.  During a run the
 * driver sends nothing after "go", so this never consumes a message; a
 * message waiting ("go" before the data connection was accepted) is not a
 * hang-up.
 */
static bool driver_gone(int ctl)
{
	struct pollfd p = { .fd = ctl, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/*
 * Control connections that arrived while a run waited for its data
 * connection: served, in order, after the run.  A control message starts
 * with a zero byte (its length is below 2^24); a token never does.
 */
#define MAX_PENDING 16
static int pending[MAX_PENDING], npending;

static void daemon_signal(int sig)
{
	daemon_stop = sig;
}

/*
 * The data connection that presents the token; strangers are closed.
 * Watches the run's control channel meanwhile: a driver killed between its
 * run message and its data connection never makes one, and the daemon must
 * not sit out DATA_ACCEPT_TIMEOUT_MS for it while the next driver waits.
 */
static int accept_data(int lfd, int ctl, const char *token, char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + DATA_ACCEPT_TIMEOUT_MS;

	while (!daemon_stop) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = ctl, .events = POLLRDHUP } };
		char got[REMOTE_TOKEN_LEN];
		int64_t left = deadline - mono_ms();
		int fd;

		if (left <= 0)
			break;
		if (poll(p, 2, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			goto gone;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct pollfd pf[2] = { { .fd = fd, .events = POLLIN }, { .fd = ctl, .events = POLLRDHUP } };
		unsigned char first;

		if (poll(pf, 2, 5000) > 0 && (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			close(fd);
			goto gone;
		}
		if ((pf[0].revents & POLLIN) && recv(fd, &first, 1, MSG_PEEK) == 1 && first == 0) {
			if (npending < MAX_PENDING) {
				remote_nodelay(fd);
				watch_peer(fd, 0);
				pending[npending++] = fd;	/* another driver: its turn comes after this run */
				continue;
			}
			remote_send_error(fd, "busy: too many drivers waiting; try again");
			close(fd);
			continue;
		}
		if (remote_read_exact(fd, got, sizeof(got), mono_ms() + 5000) == 0 && !memcmp(got, token, sizeof(got))) {
			watch_peer(fd, DATA_PEER_LOST_MS);
			return fd;
		}
		close(fd);	/* not this run's: another driver waits its turn */
	}
	snprintf(err, errlen, "no data connection with this run's token within %d s", DATA_ACCEPT_TIMEOUT_MS / 1000);
	return -ETIMEDOUT;
gone:
	snprintf(err, errlen, "the driver closed the control channel before its data connection (stopped or killed)");
	return -ECONNABORTED;
}

/* Waits for {"op":"go"}.  0, or -1 with err. */
static int wait_go(int ctl, char *err, size_t errlen)
{
	struct ctl_msg m;

	if (remote_recv(ctl, &m, GO_TIMEOUT_MS, err, errlen))
		return -1;
	if (m.op != CTL_GO) {
		snprintf(err, errlen, "expected {\"op\":\"go\"}, got another message");
		return -1;
	}
	return 0;
}

static int far_error(struct ctl_result *res, int err, const char *call, const char *what)
{
	res->status = -err;
	snprintf(res->call, sizeof(res->call), "%s", call);
	snprintf(res->what, sizeof(res->what), "%s", what ? what : "");
	return -1;
}

/*
 * The data socket's blocking calls return after DATA_WAKE_MS without
 * progress, so the transfer loops can look at the control channel; a busy
 * transfer never waits that long, so this adds no call while bytes flow.
 */
static void wake_data_calls(int fd)
{
	struct timeval t = { .tv_sec = DATA_WAKE_MS / 1000, .tv_usec = DATA_WAKE_MS % 1000 * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
}

/*
 * A data call that returned EINTR or timed out (EAGAIN): whether the run
 * must end (the daemon stopped, the driver gone), with the error in res.
 */
static bool transfer_must_end(int ctl, const char *call, struct ctl_result *res)
{
	if (daemon_stop) {
		far_error(res, EINTR, call, "the daemon was stopped");
		return true;
	}
	if (driver_gone(ctl)) {
		far_error(res, ECONNABORTED, call, "the driver closed the control channel mid-run");
		return true;
	}
	return false;
}

/* What follows a far role's data call. */
enum data_next { DATA_MOVED, DATA_RETRY, DATA_END };

/*
 * Counts one data call (n its result, len what it asked) and says what
 * follows: n bytes moved (0: EOF), a retry (an idle wake-up or EINTR), or
 * the end of the transfer (an error, or the run must end; res says which).
 */
static enum data_next data_call_done(ssize_t n, size_t len, int ctl, const char *call, struct ctl_result *res)
{
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		/* An idle wake-up, not an I/O call of the role. */
		return transfer_must_end(ctl, call, res) ? DATA_END : DATA_RETRY;
	res->io_calls++;
	if (n < 0 && errno == EINTR) {
		res->io_eintr++;
		return transfer_must_end(ctl, call, res) ? DATA_END : DATA_RETRY;
	}
	if (n < 0) {
		far_error(res, errno, call, NULL);
		return DATA_END;
	}
	if (n > 0 && (size_t)n < len)
		res->io_short++;
	return DATA_MOVED;
}

static void far_source(int fd, int ctl, const struct payload *p, struct ctl_result *res)
{
	for (uint64_t off = 0; off < p->size;) {
		size_t len = p->size - off < FIXED_IO_BLOCK ? p->size - off : FIXED_IO_BLOCK;
		ssize_t n = send(fd, p->data + off, len, MSG_NOSIGNAL);
		enum data_next next = data_call_done(n, len, ctl, "send", res);

		if (next == DATA_END)
			return;
		if (next == DATA_RETRY)
			continue;
		off += n;
		res->bytes += n;
	}
	shutdown(fd, SHUT_WR);
}

static void far_sink(int fd, int ctl, const struct ctl_run *fr, struct verifier *v, struct ctl_result *res)
{
	static unsigned char scratch[FIXED_IO_BLOCK];

	for (;;) {
		size_t len = sizeof(scratch);
		unsigned char *at = fr->discard ? scratch : verifier_space(v, &len);
		enum data_next next;
		ssize_t n;

		if (fr->close_at != UINT64_MAX) {
			if (res->bytes >= fr->close_at)
				break;
			if (fr->close_at - res->bytes < len)
				len = fr->close_at - res->bytes;
		}
		n = read(fd, at, len);
		next = data_call_done(n, len, ctl, "read", res);
		if (next == DATA_END)
			return;
		if (next == DATA_RETRY)
			continue;
		if (n == 0)
			break;
		if (!fr->discard)
			verifier_commit(v, n);
		res->bytes += n;
	}
}

static double tv(struct timeval t)
{
	return t.tv_sec + t.tv_usec / 1e6;
}

/* One run on an open control channel: prepare, token, data, go, window, result. */
static int serve_run(int lfd, int ctl, const struct ctl_run *fr, bool verbose)
{
	struct payload p = { 0 };
	struct expected e = { 0 };
	struct verifier v;
	bool have_v = false;
	struct ctl_msg m = { .op = CTL_REPLY, .reply = { .ok = true } };
	struct ctl_result *res = &m.result;
	struct rusage u0, u1;
	char err[256];
	unsigned char raw[REMOTE_TOKEN_LEN / 2];
	char *token = m.reply.token;
	int data = -1, ret = -1;

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
		remote_send_error(ctl, "getrandom failed on the far host");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
	/* The pattern and its hashes are made before the window, as the local roles do. */
	if (payload_create(&p, fr->size, NULL)) {
		remote_send_error(ctl, "the far host has no memory for the payload");
		goto out;
	}
	if (fr->role == RK_SINK) {
		if (!fr->discard) {
			if (expected_build(&e, p.data, fr->size) || verifier_init(&v, &e)) {
				remote_send_error(ctl, "the far host has no memory for the chunk hashes");
				goto out;
			}
			have_v = true;
		}
		payload_destroy(&p);	/* the hashes are all the sink needs */
	} else {
		payload_prefault(&p);
	}
	if (remote_send(ctl, &m))
		goto out;
	if ((data = accept_data(lfd, ctl, token, err, sizeof(err))) < 0) {
		remote_send_error(ctl, err);
		goto abort;
	}
	if (remote_apply_sockopts(data, fr->sndbuf, fr->rcvbuf) == 0 && fr->nodelay) {
		int one = 1;

		setsockopt(data, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	wake_data_calls(data);
	if (wait_go(ctl, err, sizeof(err))) {
		remote_send_error(ctl, err);
		goto abort;
	}
	/* The token is read: the message becomes the result. */
	m = (struct ctl_msg){ .op = CTL_RESULT, .result = { .verify = -1 } };
	getrusage(RUSAGE_SELF, &u0);
	if (fr->role == RK_SOURCE)
		far_source(data, ctl, &p, res);
	else
		far_sink(data, ctl, fr, have_v ? &v : NULL, res);
	getrusage(RUSAGE_SELF, &u1);
	/* A driver waits for the result on the channel, so a hang-up means it is gone (a killed
	 * driver's data connection ends too, which looks like a short stream). */
	if (res->status == -ECONNABORTED || driver_gone(ctl)) {
		snprintf(err, sizeof(err), "the driver closed the control channel mid-run, after %" PRIu64 " bytes",
			 res->bytes);
		goto abort;	/* nobody to send a result to */
	}
	if (fr->role == RK_SINK && fr->close_at != UINT64_MAX) {
		close(data);	/* --fault sink-close=N: vanish mid-stream */
		data = -1;
	}
	if (fr->role == RK_SINK && have_v) {
		bool good = verifier_finish(&v, &res->digest);

		res->verify = good ? VERIFY_OK : VERIFY_MISMATCH;
		snprintf(res->note, sizeof(res->note), "%s", v.note);
		res->has_bad = v.bad;
		res->first_bad_offset = v.bad_off;
	} else if (fr->role == RK_SINK) {
		res->verify = VERIFY_SKIPPED;
		snprintf(res->note, sizeof(res->note), "the far sink discarded (--sink discard): nothing was hashed");
	}
	res->cpu_user_s = tv(u1.ru_utime) - tv(u0.ru_utime);
	res->cpu_sys_s = tv(u1.ru_stime) - tv(u0.ru_stime);
	res->ctx_voluntary = u1.ru_nvcsw - u0.ru_nvcsw;
	res->ctx_involuntary = u1.ru_nivcsw - u0.ru_nivcsw;
	res->faults_minor = u1.ru_minflt - u0.ru_minflt;
	res->faults_major = u1.ru_majflt - u0.ru_majflt;
	ret = remote_send(ctl, &m) == 0 ? 0 : -1;
	if (verbose)
		fprintf(stderr, "copylab %s: %s %" PRIu64 " bytes: %" PRIu64 " moved, %s%s\n", remote_kind_name(fr->role),
			fr->scenario, fr->size, res->bytes, res->status ? "failed in " : "",
			res->status ? res->call : res->verify == VERIFY_OK ? "ok"
			: res->verify == VERIFY_MISMATCH ? "mismatch" : res->verify == VERIFY_SKIPPED ? "skipped" : "sent");
	goto out;
abort:
	if (verbose)
		fprintf(stderr, "copylab %s: %s %" PRIu64 " bytes: run abandoned: %s\n", remote_kind_name(fr->role),
			fr->scenario, fr->size, err);
out:
	if (data >= 0)
		close(data);
	if (have_v)
		verifier_free(&v);
	expected_free(&e);
	payload_destroy(&p);
	return ret;
}

/* Messages on one control connection until it closes or misbehaves. */
static void serve_conn(int lfd, int ctl, enum role_kind kind, bool verbose, int *runs)
{
	char err[256];

	while (!daemon_stop) {
		struct ctl_msg m;
		int r = remote_recv(ctl, &m, 60000, err, sizeof(err));

		if (r == -EPIPE)
			return;
		if (r) {
			if (verbose)
				fprintf(stderr, "copylab %s: refused: %s\n", remote_kind_name(kind), err);
			remote_send_error(ctl, err);
			return;
		}
		if (m.op == CTL_HELLO) {
			struct ctl_msg reply = { .op = CTL_REPLY, .reply = {
				.ok = true, .has_daemon = true, .daemon = kind, .version = REMOTE_VERSION, .pid = getpid() } };

			if (remote_send(ctl, &reply))
				return;
			continue;
		}
		if (m.op != CTL_RUN) {
			snprintf(err, sizeof(err), "a %s message here; expected hello or run",
				 m.op == CTL_GO ? "go" : m.op == CTL_RESULT ? "result" : "reply");
		} else if (m.version != REMOTE_VERSION) {
			snprintf(err, sizeof(err), "protocol version %d; this daemon speaks %d", m.version, REMOTE_VERSION);
		} else if (m.run.role != kind) {
			snprintf(err, sizeof(err), "this daemon plays %s; the run asks for role %s", remote_kind_name(kind),
				 remote_kind_name(m.run.role));
		} else {
			if (serve_run(lfd, ctl, &m.run, verbose))
				return;
			(*runs)++;
			continue;
		}
		if (verbose)
			fprintf(stderr, "copylab %s: refused: %s\n", remote_kind_name(kind), err);
		remote_send_error(ctl, err);
		return;
	}
}

int remote_daemon(enum role_kind kind, const char *listen_addr, int max_runs, bool verbose)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	struct sigaction sa = { .sa_handler = daemon_signal };
	char host[256], port[16];
	int lfd, one = 1, r, runs = 0;

	if (remote_split_hostport(listen_addr, host, sizeof(host), port, sizeof(port))) {
		fprintf(stderr, "copylab %s: --listen '%s' is not ADDR:PORT ([v6]:PORT for IPv6)\n",
			remote_kind_name(kind), listen_addr);
		return 2;
	}
	if ((r = getaddrinfo(host, port, &hints, &ai))) {
		fprintf(stderr, "copylab %s: --listen %s: %s\n", remote_kind_name(kind), listen_addr, gai_strerror(r));
		return 2;
	}
	lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 8)) {
		fprintf(stderr, "copylab %s: cannot listen on %s: %s\n", remote_kind_name(kind), listen_addr, strerror(errno));
		freeaddrinfo(ai);
		if (lfd >= 0)
			close(lfd);
		return 1;
	}
	freeaddrinfo(ai);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "copylab %s: listening on %s (one run at a time; Ctrl-C ends)\n", remote_kind_name(kind), listen_addr);
	while (!daemon_stop && (max_runs <= 0 || runs < max_runs)) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int ctl;

		if (npending > 0) {
			ctl = pending[0];
			memmove(pending, pending + 1, --npending * sizeof(pending[0]));
		} else {
			if (poll(&p, 1, 1000) <= 0)
				continue;
			ctl = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (ctl < 0)
				continue;
			remote_nodelay(ctl);
			watch_peer(ctl, 0);
		}
		serve_conn(lfd, ctl, kind, verbose, &runs);
		close(ctl);
	}
	while (npending > 0)
		close(pending[--npending]);
	close(lfd);
	if (daemon_stop)
		fprintf(stderr, "copylab %s: stopped by %s after %d run%s\n", remote_kind_name(kind),
			strsignal(daemon_stop), runs, runs == 1 ? "" : "s");
	return 0;
}
