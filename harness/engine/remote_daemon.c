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

#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
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
 * How long a stream that ended short waits for the control channel to say
 * whether the driver is gone.  A killed driver's processes end one at a
 * time: the role that holds the data connection may go first, and the
 * control channel close a moment later.  A live driver never closes it
 * while it waits for the result, so only its failed runs (a short stream)
 * get their result this much later, and a gone driver is never reported
 * as damaged data.
 */
#define DRIVER_FATE_MS 3000

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

/* Whether the driver hangs up its control channel within wait_ms (0: whether it has already). */
static bool driver_leaves(int ctl, int wait_ms)
{
	int64_t deadline = mono_ms() + wait_ms;

	for (;;) {
		struct pollfd p = { .fd = ctl, .events = POLLRDHUP };
		int64_t left = deadline - mono_ms();

		if (driver_gone(ctl))
			return true;
		if (left <= 0 || daemon_stop)
			return false;
		poll(&p, 1, left > 1000 ? 1000 : (int)left);
	}
}

/*
 * Whether the transfer ended short of the run for a reason on the wire (an
 * error on the data connection, or a sink's EOF before the size): what a
 * driver that is going away looks like from here, for a moment.
 */
static bool stream_short(const struct ctl_run *fr, const struct ctl_result *res)
{
	if (res->status)
		return res->status != -ETIMEDOUT && res->status != -EINTR;	/* not the deadline, not a stop */
	return fr->role == RK_SINK && fr->close_at == UINT64_MAX && res->bytes < fr->size;
}

/*
 * The control connections the daemon holds between runs: each read without
 * blocking, a frame at a time, so that a silent or trickling stranger
 * delays nobody.  A control message starts with a zero byte (its length is
 * below 2^24); a data token never does.
 */
#define MAX_CTL_CONNS 16
/* Time to prove the key, from the moment the daemon is free to listen (hellos do not extend it). */
#define AUTH_TIMEOUT_MS 5000
/* An authenticated connection with no run in this long is closed (hellos do not extend it). */
#define IDLE_TIMEOUT_MS 30000
/* A connection on the port during a run must show what it is (a token or a frame) within this. */
#define STRANGER_TIMEOUT_MS 5000
#define MAX_STRANGERS 8

struct conn {
	int fd;
	bool authed;
	bool has_nonce;			/* the challenge of its last hello, not yet answered */
	unsigned char nonce[CTL_NONCE_LEN];
	int64_t deadline;		/* mono ms; 0: accepted during a run, not started */
	unsigned char hdr[4];
	size_t hgot;
	char *body;			/* the frame being read (its length from hdr) */
	size_t blen, bgot;
};

static struct conn conns[MAX_CTL_CONNS];
static int nconns;

static void daemon_signal(int sig)
{
	daemon_stop = sig;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* The time a connection has to do what it must next (prove the key, then ask for a run). */
static int64_t conn_window(const struct remote_daemon_config *dc, const struct conn *c)
{
	return mono_ms() + (c->authed ? IDLE_TIMEOUT_MS : AUTH_TIMEOUT_MS);
}

/*
 * Takes fd into the table (a run in progress: during, its clock starts when
 * the run ends).  A full table answers "busy" and closes it.
 */
static void conn_add(const struct remote_daemon_config *dc, int fd, bool during_run)
{
	struct conn *c;

	if (nconns == MAX_CTL_CONNS) {
		remote_send_error(fd, "busy: too many connections waiting; try again");
		close(fd);
		return;
	}
	c = &conns[nconns++];
	*c = (struct conn){ .fd = fd, .authed = !dc->key };
	set_nonblock(fd, true);
	remote_nodelay(fd);
	watch_peer(fd, 0);
	c->deadline = during_run ? 0 : conn_window(dc, c);
}

static void conn_drop(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->body);
	c->body = NULL;
	c->fd = -1;
}

/* Drops the closed connections (fd -1) from the table, keeping the order. */
static void conns_compact(void)
{
	int n = 0;

	for (int i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			conns[n++] = conns[i];
	nconns = n;
}

/*
 * A frame's bytes as far as they have come, without waiting.  1: a whole
 * message in *m; 0: more to come; -EPIPE at EOF; another -errno (err says
 * why, and the peer should hear it) when the frame is refused.
 */
static int conn_read(struct conn *c, struct ctl_msg *m, char *err, size_t errlen)
{
	ssize_t n;
	int r;

	if (c->hgot < sizeof(c->hdr)) {
		n = recv(c->fd, c->hdr + c->hgot, sizeof(c->hdr) - c->hgot, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -EPIPE;
		if (n < 0)
			return 0;
		c->hgot += (size_t)n;
		if (c->hgot < sizeof(c->hdr))
			return 0;
		if ((r = ctl_frame_len(c->hdr, &c->blen, err, errlen)))
			return r;	/* refused before reading (or allocating) any of it */
		if (!(c->body = malloc(c->blen))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		c->bgot = 0;
	}
	n = recv(c->fd, c->body + c->bgot, c->blen - c->bgot, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -EPIPE;
	if (n < 0)
		return 0;
	c->bgot += (size_t)n;
	if (c->bgot < c->blen)
		return 0;
	r = ctl_parse(c->body, c->blen, m, err, errlen);
	free(c->body);
	c->body = NULL;
	c->hgot = 0;
	return r ? r : 1;
}

/* A connection on the port during a run, not yet known to be a data or a control connection. */
struct stranger {
	int fd;
	int64_t deadline;
	char got[REMOTE_TOKEN_LEN];
	size_t n;
};

/*
 * What a stranger's bytes so far make it: 1 this run's data connection,
 * 0 not known yet, -1 closed (a wrong token, EOF, or a control connection
 * handed to the table).
 */
static int stranger_read(const struct remote_daemon_config *dc, struct stranger *s, const char *token)
{
	unsigned char first;
	ssize_t n;

	if (s->n == 0) {
		n = recv(s->fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 1 && first == 0) {
			conn_add(dc, s->fd, true);	/* another driver: its turn comes after this run */
			s->fd = -1;
			return -1;
		}
	}
	/* Only the token's bytes: what follows it is the stream. */
	n = recv(s->fd, s->got + s->n, sizeof(s->got) - s->n, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		goto drop;
	s->n += (size_t)n;
	if (s->n < sizeof(s->got))
		return 0;
	if (CRYPTO_memcmp(s->got, token, sizeof(s->got)) == 0)
		return 1;
drop:
	close(s->fd);
	s->fd = -1;
	return -1;
}

/*
 * The data connection that presents the token.  Every connection that
 * arrives meanwhile is read without blocking and on its own short
 * deadline, so strangers (silent, trickling, wrong) never delay the real
 * one.  Watches the run's control channel too: a driver killed between its
 * run message and its data connection never makes one, and the daemon must
 * not sit out the wait for it while the next driver waits.
 */
static int accept_data(const struct remote_daemon_config *dc, int lfd, int ctl, const char *token,
		       int64_t deadline, char *err, size_t errlen)
{
	struct stranger st[MAX_STRANGERS];
	int nst = 0, fd = -1;

	while (!daemon_stop && fd < 0) {
		struct pollfd p[2 + MAX_STRANGERS] = { { .fd = lfd, .events = POLLIN }, { .fd = ctl, .events = POLLRDHUP } };
		int64_t now = mono_ms(), left = deadline - now;

		if (left <= 0)
			break;
		for (int i = 0; i < nst; i++) {
			p[2 + i] = (struct pollfd){ .fd = st[i].fd, .events = POLLIN };
			if (st[i].deadline - now < left)
				left = st[i].deadline - now < 0 ? 0 : st[i].deadline - now;
		}
		if (poll(p, 2 + nst, left > 1000 ? 1000 : (int)left) < 0)
			continue;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			goto gone;
		for (int i = 0; i < nst && fd < 0; i++)
			if ((p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) && stranger_read(dc, &st[i], token) == 1)
				fd = st[i].fd, st[i].fd = -1;
		now = mono_ms();
		for (int i = 0; i < nst; i++)
			if (st[i].fd >= 0 && (fd >= 0 || st[i].deadline <= now)) {
				close(st[i].fd);	/* silent past its time, or the run has its data connection */
				st[i].fd = -1;
			}
		int n = 0;
		for (int i = 0; i < nst; i++)
			if (st[i].fd >= 0)
				st[n++] = st[i];
		nst = n;
		if (fd >= 0 || !(p[0].revents & POLLIN))
			continue;
		int nfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (nfd < 0)
			continue;
		if (nst == MAX_STRANGERS) {	/* the oldest has had the longest to show its token */
			close(st[0].fd);
			memmove(st, st + 1, --nst * sizeof(st[0]));
		}
		st[nst++] = (struct stranger){ .fd = nfd, .deadline = mono_ms() + STRANGER_TIMEOUT_MS };
	}
	for (int i = 0; i < nst; i++)
		close(st[i].fd);
	if (fd >= 0) {
		set_nonblock(fd, false);
		watch_peer(fd, DATA_PEER_LOST_MS);
		return fd;
	}
	snprintf(err, errlen, "no data connection with this run's token in time");
	return -ETIMEDOUT;
gone:
	for (int i = 0; i < nst; i++)
		close(st[i].fd);
	snprintf(err, errlen, "the driver closed the control channel before its data connection (stopped or killed)");
	return -ECONNABORTED;
}

/* Waits for {"op":"go"} until the run's deadline.  0, or -1 with err. */
static int wait_go(int ctl, int64_t deadline, char *err, size_t errlen)
{
	struct ctl_msg m;
	int64_t left = deadline - mono_ms();

	if (remote_recv(ctl, &m, left > GO_TIMEOUT_MS ? GO_TIMEOUT_MS : left > 0 ? (int)left : 0, err, errlen))
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

/* When a run must be over, however its peer behaves (a trickle never lets a call time out). */
struct run_limits {
	int64_t deadline, budget_ms;
};

/*
 * After a data call: whether the run must end (its deadline passed, the
 * daemon stopped, the driver gone), with the error in res.
 */
static bool transfer_must_end(int ctl, const struct run_limits *lim, const char *call, struct ctl_result *res)
{
	if (mono_ms() >= lim->deadline) {
		char what[96];

		snprintf(what, sizeof(what), "the run's deadline passed (%" PRId64 " s for its size; the daemon's --run-timeout)",
			 lim->budget_ms / 1000);
		far_error(res, ETIMEDOUT, call, what);
		return true;
	}
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
static enum data_next data_call_done(ssize_t n, size_t len, int ctl, const struct run_limits *lim, const char *call,
				     struct ctl_result *res)
{
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		/* An idle wake-up, not an I/O call of the role. */
		return transfer_must_end(ctl, lim, call, res) ? DATA_END : DATA_RETRY;
	res->io_calls++;
	if (n < 0 && errno == EINTR) {
		res->io_eintr++;
		return transfer_must_end(ctl, lim, call, res) ? DATA_END : DATA_RETRY;
	}
	if (n < 0) {
		far_error(res, errno, call, NULL);
		return DATA_END;
	}
	if (n > 0 && (size_t)n < len)
		res->io_short++;
	return DATA_MOVED;
}

static void far_source(int fd, int ctl, const struct run_limits *lim, const struct payload *p, struct ctl_result *res)
{
	for (uint64_t off = 0; off < p->size;) {
		/* Checked while bytes flow too: a peer that takes a byte a second never lets a call time out.
		 * The clock is the vDSO's, so the role's system calls stay as they were. */
		if (mono_ms() >= lim->deadline && transfer_must_end(ctl, lim, "send", res))
			return;
		size_t len = p->size - off < FIXED_IO_BLOCK ? p->size - off : FIXED_IO_BLOCK;
		ssize_t n = send(fd, p->data + off, len, MSG_NOSIGNAL);
		enum data_next next = data_call_done(n, len, ctl, lim, "send", res);

		if (next == DATA_END)
			return;
		if (next == DATA_RETRY)
			continue;
		off += n;
		res->bytes += n;
	}
	shutdown(fd, SHUT_WR);
}

static void far_sink(int fd, int ctl, const struct run_limits *lim, const struct ctl_run *fr, struct verifier *v,
		     struct ctl_result *res)
{
	static unsigned char scratch[FIXED_IO_BLOCK];

	for (;;) {
		size_t len = sizeof(scratch);
		unsigned char *at = fr->discard ? scratch : verifier_space(v, &len);
		enum data_next next;
		ssize_t n;

		if (mono_ms() >= lim->deadline && transfer_must_end(ctl, lim, "read", res))
			return;	/* a trickle never lets a read time out: see far_source */
		if (fr->close_at != UINT64_MAX) {
			if (res->bytes >= fr->close_at)
				break;
			if (fr->close_at - res->bytes < len)
				len = fr->close_at - res->bytes;
		}
		n = read(fd, at, len);
		next = data_call_done(n, len, ctl, lim, "read", res);
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

int64_t remote_run_budget_ms(uint64_t size, int run_timeout_s)
{
	int64_t floor_ms = (int64_t)run_timeout_s * 1000, need_ms = (int64_t)(size / (REMOTE_MIN_RATE / 1000));

	return need_ms > floor_ms ? need_ms : floor_ms;
}

/* One run on an open control channel: prepare, token, data, go, window, result. */
static int serve_run(const struct remote_daemon_config *dc, int lfd, int ctl, const struct ctl_run *fr)
{
	struct run_limits lim = { .budget_ms = remote_run_budget_ms(fr->size, dc->run_timeout_s) };
	bool verbose = dc->verbose;
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
	const char *abandoned = "run abandoned: ";	/* the log's word for a run ended without a result */
	int data = -1, ret = -1;

	lim.deadline = mono_ms() + lim.budget_ms;
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
	if ((data = accept_data(dc, lfd, ctl, token, lim.deadline < mono_ms() + DATA_ACCEPT_TIMEOUT_MS ? lim.deadline
				: mono_ms() + DATA_ACCEPT_TIMEOUT_MS, err, sizeof(err))) < 0) {
		remote_send_error(ctl, err);
		goto abort;
	}
	if (remote_apply_sockopts(data, fr->sndbuf, fr->rcvbuf) == 0 && fr->nodelay) {
		int one = 1;

		setsockopt(data, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	wake_data_calls(data);
	if (wait_go(ctl, lim.deadline, err, sizeof(err))) {
		remote_send_error(ctl, err);
		goto abort;
	}
	/* The token is read: the message becomes the result. */
	m = (struct ctl_msg){ .op = CTL_RESULT, .result = { .verify = -1 } };
	getrusage(RUSAGE_SELF, &u0);
	if (fr->role == RK_SOURCE)
		far_source(data, ctl, &lim, &p, res);
	else
		far_sink(data, ctl, &lim, fr, have_v ? &v : NULL, res);
	getrusage(RUSAGE_SELF, &u1);
	/* A driver waits for the result on the channel, so a hang-up means it is gone (a killed
	 * driver's data connection ends too, often first: a short stream waits to see which). */
	if (res->status == -ECONNABORTED || driver_leaves(ctl, stream_short(fr, res) ? DRIVER_FATE_MS : 0)) {
		snprintf(err, sizeof(err), "driver gone at byte %" PRIu64 " (run abandoned): "
			 "the driver closed the control channel mid-run", res->bytes);
		abandoned = "";	/* err says it */
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
		fprintf(stderr, "copylab %s: %s %" PRIu64 " bytes: %s%s\n", remote_kind_name(fr->role),
			fr->scenario, fr->size, abandoned, err);
out:
	if (data >= 0)
		close(data);
	if (have_v)
		verifier_free(&v);
	expected_free(&e);
	payload_destroy(&p);
	return ret;
}

/* The answer to hello: the role, and a fresh challenge when a key is needed. */
static int answer_hello(const struct remote_daemon_config *dc, struct conn *c)
{
	struct ctl_msg reply = { .op = CTL_REPLY, .reply = {
		.ok = true, .has_daemon = true, .daemon = dc->kind, .version = REMOTE_VERSION, .pid = getpid() } };

	if (dc->key && !c->authed) {
		if (remote_nonce(c->nonce))
			return -EIO;
		c->has_nonce = true;
		reply.reply.has_nonce = true;
		memcpy(reply.reply.nonce, c->nonce, sizeof(c->nonce));
	}
	return remote_send(c->fd, &reply);
}

/* The answer to auth: 0 when it proves the key (the challenge is spent either way), else -1 with err. */
static int check_auth(const struct remote_daemon_config *dc, struct conn *c, const struct ctl_msg *m,
		      char *err, size_t errlen)
{
	const char *name = remote_kind_name(dc->kind);
	struct ctl_msg reply = { .op = CTL_REPLY, .reply = {
		.ok = true, .has_daemon = true, .daemon = dc->kind, .version = REMOTE_VERSION, .pid = getpid() } };
	bool good;

	if (!dc->key || c->authed) {
		snprintf(err, errlen, "an auth message, but this %s %s", name,
			 dc->key ? "has taken this connection's key already" : "runs without a key (--insecure-no-auth)");
		return -1;
	}
	if (!c->has_nonce) {
		snprintf(err, errlen, "an auth message before hello: ask hello for a challenge first");
		return -1;
	}
	good = remote_auth_check(dc->key, c->nonce, dc->kind, m->auth.mac);
	c->has_nonce = false;
	if (!good) {
		snprintf(err, errlen, "the key does not match: the driver's --key must be a copy of this %s's --key file",
			 name);
		return -1;
	}
	c->authed = true;
	c->deadline = conn_window(dc, c);
	return remote_send(c->fd, &reply) ? -1 : 0;
}

/*
 * Whether run message m may go ahead on c: 0, or -1 with err.  Everything
 * is checked before anything is allocated for it.
 */
static int check_run(const struct remote_daemon_config *dc, const struct conn *c, const struct ctl_msg *m,
		     char *err, size_t errlen)
{
	const char *name = remote_kind_name(dc->kind);

	if (!c->authed)
		snprintf(err, errlen, "this %s needs a key: give the driver --key FILE (a copy of the %s's --key), "
			 "which answers hello's challenge before the run", name, name);
	else if (m->version != REMOTE_VERSION)
		snprintf(err, errlen, "protocol version %d; this daemon speaks %d", m->version, REMOTE_VERSION);
	else if (m->run.role != dc->kind)
		snprintf(err, errlen, "this daemon plays %s; the run asks for role %s", name, remote_kind_name(m->run.role));
	else if (m->run.size > dc->max_size)
		snprintf(err, errlen, "a run of %" PRIu64 " bytes; this %s takes at most %" PRIu64 " (its --max-size)",
			 m->run.size, name, dc->max_size);
	else
		return 0;
	return -1;
}

/*
 * One whole message on connection i.  false when the connection is to be
 * closed (after its error reply, if any).  A run is served here, start to
 * end, while the other connections wait.
 */
static bool handle_msg(const struct remote_daemon_config *dc, int lfd, int i, const struct ctl_msg *m, int *runs)
{
	struct conn *c = &conns[i];
	char err[320];
	int fd = c->fd;

	switch (m->op) {
	case CTL_HELLO:
		return answer_hello(dc, c) == 0;
	case CTL_AUTH:
		if (check_auth(dc, c, m, err, sizeof(err)) == 0)
			return true;
		break;
	case CTL_RUN: {
		int64_t t0 = mono_ms(), paused;
		int r;

		if (check_run(dc, c, m, err, sizeof(err)))
			break;
		set_nonblock(fd, false);
		r = serve_run(dc, lfd, fd, &m->run);
		set_nonblock(fd, true);
		/* serve_run may have added connections: c is taken afresh from the table. */
		c = &conns[i];
		paused = mono_ms() - t0;
		/* The others' clocks stood still while the daemon could not listen to them. */
		for (int j = 0; j < nconns; j++)
			if (j != i && conns[j].fd >= 0)
				conns[j].deadline = conns[j].deadline ? conns[j].deadline + paused : conn_window(dc, &conns[j]);
		if (r)
			return false;
		(*runs)++;
		c->deadline = conn_window(dc, c);
		return true;
	}
	default:
		snprintf(err, sizeof(err), "a %s message here; expected hello, auth or run",
			 m->op == CTL_GO ? "go" : m->op == CTL_RESULT ? "result" : "reply");
	}
	if (dc->verbose)
		fprintf(stderr, "copylab %s: refused: %s\n", remote_kind_name(dc->kind), err);
	remote_send_error(fd, err);
	return false;
}

/* The connections whose time is up: told why, and closed. */
static void expire_conns(const struct remote_daemon_config *dc)
{
	int64_t now = mono_ms();

	for (int i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		char err[160];

		if (c->fd < 0 || !c->deadline || c->deadline > now)
			continue;
		if (c->authed)
			snprintf(err, sizeof(err), "closed: no run within %d s", IDLE_TIMEOUT_MS / 1000);
		else
			snprintf(err, sizeof(err), "closed: no answer to the key challenge within %d s (hello, then auth)",
				 AUTH_TIMEOUT_MS / 1000);
		if (dc->verbose)
			fprintf(stderr, "copylab %s: %s\n", remote_kind_name(dc->kind), err);
		remote_send_error(c->fd, err);
		conn_drop(c);
	}
}

/* One turn of the loop: new connections, whole messages, expired connections. */
static void serve_turn(const struct remote_daemon_config *dc, int lfd, int *runs)
{
	struct pollfd p[1 + MAX_CTL_CONNS] = { { .fd = lfd, .events = POLLIN } };
	int n = nconns, wait = 1000;
	int64_t now = mono_ms();

	for (int i = 0; i < n; i++) {
		p[1 + i] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (conns[i].deadline && conns[i].deadline - now < wait)
			wait = conns[i].deadline - now < 0 ? 0 : (int)(conns[i].deadline - now);
	}
	if (poll(p, 1 + n, wait) > 0) {
		for (int i = 0; i < n && !daemon_stop; i++) {
			struct ctl_msg m;
			char err[256];
			int r;

			if (conns[i].fd < 0 || !(p[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = conn_read(&conns[i], &m, err, sizeof(err));
			if (r == 0 || (r == 1 && handle_msg(dc, lfd, i, &m, runs)))
				continue;
			if (r < 0 && r != -EPIPE) {
				if (dc->verbose)
					fprintf(stderr, "copylab %s: refused: %s\n", remote_kind_name(dc->kind), err);
				remote_send_error(conns[i].fd, err);
			}
			conn_drop(&conns[i]);
		}
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				conn_add(dc, fd, false);
		}
	}
	expire_conns(dc);
	conns_compact();
}

/* The listening socket on dc->listen_addr, or -1 after saying why (*status: the exit status). */
static int listen_on(const struct remote_daemon_config *dc, int *status)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	const char *name = remote_kind_name(dc->kind);
	char host[256], port[16];
	int lfd, one = 1, r;

	*status = 2;
	if (remote_split_hostport(dc->listen_addr, host, sizeof(host), port, sizeof(port))) {
		fprintf(stderr, "copylab %s: --listen '%s' is not ADDR:PORT ([v6]:PORT for IPv6)\n", name, dc->listen_addr);
		return -1;
	}
	if ((r = getaddrinfo(host, port, &hints, &ai))) {
		fprintf(stderr, "copylab %s: --listen %s: %s\n", name, dc->listen_addr, gai_strerror(r));
		return -1;
	}
	*status = 1;
	/*
	 * Non-blocking: a run accepts from this socket too (its data connection,
	 * another driver's hello), so the loop's readiness from before the run
	 * can be stale by the time it acts on it; a blocking accept() would then
	 * hold the daemon, and every driver queued in its table, until some
	 * other connection came.
	 */
	lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 16)) {
		fprintf(stderr, "copylab %s: cannot listen on %s: %s\n", name, dc->listen_addr, strerror(errno));
		freeaddrinfo(ai);
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	freeaddrinfo(ai);
	return lfd;
}

int remote_daemon(const struct remote_daemon_config *dc)
{
	struct sigaction sa = { .sa_handler = daemon_signal };
	const char *name = remote_kind_name(dc->kind);
	int lfd, status, runs = 0;

	if ((lfd = listen_on(dc, &status)) < 0)
		return status;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "copylab %s: listening on %s (%s; runs up to %" PRIu64 " bytes; one run at a time; Ctrl-C ends)\n",
		name, dc->listen_addr, dc->key ? "drivers must prove the key" : "NO KEY: anyone who reaches it may run",
		dc->max_size);
	while (!daemon_stop && (dc->max_runs <= 0 || runs < dc->max_runs))
		serve_turn(dc, lfd, &runs);
	for (int i = 0; i < nconns; i++)
		conn_drop(&conns[i]);
	nconns = 0;
	close(lfd);
	if (daemon_stop)
		fprintf(stderr, "copylab %s: stopped by %s after %d run%s\n", name, strsignal(daemon_stop), runs,
			runs == 1 ? "" : "s");
	return 0;
}
