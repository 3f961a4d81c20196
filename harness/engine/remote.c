/* SPDX-License-Identifier: MIT */
/*
 * nic mode, both ends: the driver's side (remote_open, remote_role_begin,
 * remote_role_main in a role's process) and the daemons that play the
 * fixed source or sink on the far host, one run at a time.  The protocol
 * is described in remote.h.
 */
#include "remote.h"
#include "harness/model/base.h"
#include "pattern.h"
#include "harness/model/record.h"
#include "harness/model/scenario.h"
#include "verify.h"

#include <arpa/inet.h>
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

#define MAX_PEERS 2
#define CONNECT_TIMEOUT_MS 5000
#define PREPARE_TIMEOUT_MS 300000	/* the daemon builds the payload and its hashes */
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

struct remote_peer {
	char addr[300];		/* as given: "HOST:PORT" */
	char host[256], port[16];
	enum role_kind kind;
};

struct remote {
	struct remote_peer peer[MAX_PEERS];
	int npeers;
};

static const char *kind_name(enum role_kind k)
{
	switch (k) {
	case RK_SINK: return "sink";
	case RK_SOURCE: return "source";
	case RK_ECHO_CLIENT: return "echo-client";
	default: return "tested";
	}
}

/* ---- framing ---------------------------------------------------------------- */

static volatile sig_atomic_t daemon_stop;	/* the daemon's SIGINT/SIGTERM */

static int64_t mono_ms(void)
{
	return now_ns() / 1000000;
}

/* Reads exactly len bytes before the deadline (ms, -1: none).  0, -ETIMEDOUT, -EPIPE at EOF. */
static int read_exact(int fd, void *buf, size_t len, int64_t deadline)
{
	char *p = buf;

	while (len > 0) {
		if (deadline >= 0) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int64_t left = deadline - mono_ms();
			int r;

			if (left <= 0)
				return -ETIMEDOUT;
			r = poll(&pf, 1, left > 1000 ? 1000 : (int)left);
			if (run_interrupted || daemon_stop)
				return -EINTR;	/* the driver's Ctrl-C, or the daemon's */
			if (r < 0 && errno != EINTR)
				return -errno;
			if (r <= 0)
				continue;
		}
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int remote_send(int fd, const struct ctl_msg *msg)
{
	json_t *o = ctl_to_json(msg);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL, *frame;
	size_t len;
	uint32_t be;
	int r;

	json_decref(o);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	if (len > REMOTE_MSG_MAX) {
		free(text);
		return -EMSGSIZE;
	}
	/* Length and text in one write: two small writes would meet Nagle and a delayed ACK. */
	if (!(frame = malloc(sizeof(be) + len))) {
		free(text);
		return -ENOMEM;
	}
	be = htonl((uint32_t)len);
	memcpy(frame, &be, sizeof(be));
	memcpy(frame + sizeof(be), text, len);
	r = write_all(fd, frame, sizeof(be) + len, NULL);
	free(frame);
	free(text);
	return r;
}

/* Control messages are small and answered at once: no Nagle on the channel. */
static void control_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

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

int remote_recv(int fd, struct ctl_msg *msg, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	unsigned char hdr[4];
	size_t len;
	char *buf;
	int r;

	memset(msg, 0, sizeof(*msg));
	if ((r = read_exact(fd, hdr, sizeof(hdr), deadline))) {
		snprintf(err, errlen, "%s", r == -EPIPE ? "the peer closed the control channel"
			 : r == -ETIMEDOUT ? "no message within the time limit"
			 : r == -EINTR ? "interrupted" : strerror(-r));
		return r;
	}
	if ((r = ctl_frame_len(hdr, &len, err, errlen)))
		return r;	/* refused before reading (or allocating) any of it */
	if (!(buf = malloc(len))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((r = read_exact(fd, buf, len, deadline))) {
		snprintf(err, errlen, "a truncated control message (%s)", r == -EPIPE ? "closed mid-message" : strerror(-r));
		free(buf);
		return r;
	}
	r = ctl_parse(buf, len, msg, err, errlen);
	free(buf);
	return r;
}

static void send_error(int fd, const char *text)
{
	struct ctl_msg m = { .op = CTL_REPLY, .reply = { .ok = false } };

	snprintf(m.reply.error, sizeof(m.reply.error), "%s", text);
	remote_send(fd, &m);
}

/* ---- addresses --------------------------------------------------------------- */

/* "host:port" or "[v6]:port" into host and port.  0 or -EINVAL. */
static int split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= hlen)
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(end - s - 1), s + 1);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s || (size_t)(colon - s) >= hlen || strchr(s, ':') != colon)
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	}
	if (!colon[1] || strlen(colon + 1) >= plen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	snprintf(port, plen, "%s", colon + 1);
	return atoi(port) > 0 && atoi(port) < 65536 ? 0 : -EINVAL;
}

static int apply_sockopts(int fd, int sndbuf, int rcvbuf)
{
	if (sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)))
		return -errno;
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		return -errno;
	return 0;
}

/* A connected TCP socket to host:port (blocking afterwards), or -errno. */
static int connect_peer(const char *host, const char *port, int sndbuf, int rcvbuf,
			char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	int fd = -1, r, e = ECONNREFUSED;

	if ((r = getaddrinfo(host, port, &hints, &ai))) {
		snprintf(err, errlen, "%s:%s: %s", host, port, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if ((r = apply_sockopts(fd, sndbuf, rcvbuf))) {
			e = -r;
			close(fd);
			fd = -1;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) && errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t sl = sizeof(e);

			e = ETIMEDOUT;
			if (poll(&p, 1, CONNECT_TIMEOUT_MS) == 1)
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl);
		} else {
			e = errno;
			if (e == EISCONN || e == 0)
				e = 0;
		}
		if (e == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(err, errlen, "connect to %s:%s: %s", host, port, strerror(e));
		return -e;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* ---- the driver's side -------------------------------------------------------- */

static int hello(struct remote_peer *p, char *err, size_t errlen)
{
	struct ctl_msg m = { .op = CTL_HELLO, .version = REMOTE_VERSION }, reply;
	char why[256];
	int fd = connect_peer(p->host, p->port, 0, 0, why, sizeof(why)), r;

	if (fd < 0) {
		snprintf(err, errlen, "--peer %s: %s (is `copylab sink|source --listen %s` running there?)",
			 p->addr, why, p->addr);
		return fd;
	}
	r = remote_send(fd, &m);
	if (!r)
		r = remote_recv(fd, &reply, CONNECT_TIMEOUT_MS, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	close(fd);
	if (r) {
		snprintf(err, errlen, "--peer %s: hello: %s%s", p->addr, why,
			 r == -ETIMEDOUT ? " (a daemon serves one run at a time: is another driver's run in progress there?)" : "");
		return r;
	}
	if (reply.op != CTL_REPLY || !reply.reply.ok || !reply.reply.has_daemon) {
		const char *e = reply.op == CTL_REPLY && !reply.reply.ok ? reply.reply.error : NULL;

		snprintf(err, errlen, "--peer %s: not a copylab daemon%s%s", p->addr, e ? ": " : "", e ? e : "");
		return -EPROTO;
	}
	if (reply.reply.version != REMOTE_VERSION) {
		snprintf(err, errlen, "--peer %s: protocol version %d, this copylab speaks %d",
			 p->addr, reply.reply.version, REMOTE_VERSION);
		return -EPROTO;
	}
	p->kind = reply.reply.daemon;
	return 0;
}

int remote_open(const char *peers, struct remote **out, char *err, size_t errlen)
{
	struct remote *r = calloc(1, sizeof(*r));
	char buf[640], *save = NULL, *tok;
	int ret;

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(buf, sizeof(buf), "%s", peers);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct remote_peer *p = &r->peer[r->npeers];

		if (r->npeers == MAX_PEERS) {
			snprintf(err, errlen, "--peer: at most %d daemons (one sink, one source)", MAX_PEERS);
			ret = -EINVAL;
			goto fail;
		}
		snprintf(p->addr, sizeof(p->addr), "%s", tok);
		if (split_hostport(tok, p->host, sizeof(p->host), p->port, sizeof(p->port))) {
			snprintf(err, errlen, "--peer: '%s' is not HOST:PORT ([v6]:PORT for IPv6)", tok);
			ret = -EINVAL;
			goto fail;
		}
		if ((ret = hello(p, err, errlen)))
			goto fail;
		for (int i = 0; i < r->npeers; i++)
			if (r->peer[i].kind == p->kind) {
				snprintf(err, errlen, "--peer: %s and %s are both %s daemons", r->peer[i].addr,
					 p->addr, kind_name(p->kind));
				ret = -EINVAL;
				goto fail;
			}
		r->npeers++;
	}
	if (r->npeers == 0) {
		snprintf(err, errlen, "--peer: no address given");
		ret = -EINVAL;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	free(r);
	return ret;
}

void remote_close(struct remote *r)
{
	free(r);
}

static const struct remote_peer *peer_for(const struct remote *r, enum role_kind kind)
{
	for (int i = 0; r && i < r->npeers; i++)
		if (r->peer[i].kind == kind)
			return &r->peer[i];
	return NULL;
}

const char *remote_peer_for(const struct remote *r, enum role_kind kind)
{
	const struct remote_peer *p = peer_for(r, kind);

	return p ? p->addr : NULL;
}

const char *remote_first_peer(const struct remote *r)
{
	return r && r->npeers ? r->peer[0].addr : NULL;
}

int remote_check_scenario(const struct remote *r, enum scenario sc, char *err, size_t errlen)
{
	const struct scenario_def *d = scenario_def(sc);

	if (!d->uses_transport) {
		snprintf(err, errlen, "transport nic: scenario %s has no socket to carry", d->name);
		return -EINVAL;
	}
	for (int i = 1; i < d->nroles; i++) {
		enum role_kind k = sc == SC_ECHO ? RK_ECHO_CLIENT
				   : !strcmp(d->roles[i], "source") ? RK_SOURCE : RK_SINK;

		if (k == RK_ECHO_CLIENT) {
			snprintf(err, errlen, "transport nic: scenario echo needs a far echo client, and the daemons play only source and sink");
			return -EOPNOTSUPP;
		}
		if (!peer_for(r, k)) {
			snprintf(err, errlen, "transport nic: scenario %s needs a `copylab %s` daemon on the far host; --peer names %s",
				 d->name, kind_name(k), r->npeers == 1 ? "only a" : "none");
			if (r->npeers == 1)
				snprintf(err + strlen(err), errlen - strlen(err), " %s (%s)", kind_name(r->peer[0].kind), r->peer[0].addr);
			return -EINVAL;
		}
	}
	return 0;
}

int remote_role_begin(const struct remote *r, enum role_kind kind, const struct run_config *c,
		      int *data_fd, int *ctl_fd, char *err, size_t errlen)
{
	const struct remote_peer *p = peer_for(r, kind);
	struct ctl_msg m = { .op = CTL_RUN, .version = REMOTE_VERSION }, reply;
	char why[256];
	int ctl, data = -1, ret, one = 1;

	*data_fd = *ctl_fd = -1;
	if (kind != RK_SINK && kind != RK_SOURCE) {
		snprintf(err, errlen, "transport nic: scenario %s needs a far %s, and the daemons play only source and sink",
			 scenario_name(c->scenario), kind_name(kind));
		return -EOPNOTSUPP;
	}
	if (!p) {
		snprintf(err, errlen, "transport nic: scenario %s needs a `copylab %s` daemon on the far host; --peer names none",
			 scenario_name(c->scenario), kind_name(kind));
		return -EINVAL;
	}
	ctl = connect_peer(p->host, p->port, 0, 0, why, sizeof(why));
	if (ctl < 0) {
		snprintf(err, errlen, "far %s %s: control channel: %s", kind_name(kind), p->addr, why);
		return ctl;
	}
	control_nodelay(ctl);
	m.run = (struct ctl_run){
		.role = kind, .size = c->size, .block = c->block, .close_at = c->sink_close_at,
		.sndbuf = c->sock.sndbuf, .rcvbuf = c->sock.rcvbuf,
		.nodelay = c->sock.nodelay, .discard = c->sink_discard,
	};
	snprintf(m.run.scenario, sizeof(m.run.scenario), "%s", scenario_name(c->scenario));
	if ((ret = remote_send(ctl, &m))) {
		snprintf(err, errlen, "far %s %s: sending the run: %s", kind_name(kind), p->addr, strerror(-ret));
		goto fail;
	}
	if ((ret = remote_recv(ctl, &reply, PREPARE_TIMEOUT_MS, why, sizeof(why)))) {
		snprintf(err, errlen, "far %s %s: %s", kind_name(kind), p->addr, why);
		goto fail;
	}
	if (reply.op != CTL_REPLY || !reply.reply.ok || !reply.reply.token[0]) {
		const char *e = reply.op == CTL_REPLY && !reply.reply.ok ? reply.reply.error : NULL;

		snprintf(err, errlen, "far %s %s refused the run: %s", kind_name(kind), p->addr,
			 e ? e : "no token in its reply");
		ret = -EPROTO;
		goto fail;
	}
	data = connect_peer(p->host, p->port, c->sock.sndbuf, c->sock.rcvbuf, why, sizeof(why));
	if (data < 0) {
		ret = data;
		snprintf(err, errlen, "far %s %s: data connection: %s", kind_name(kind), p->addr, why);
		goto fail;
	}
	if (c->sock.nodelay)
		setsockopt(data, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((ret = write_all(data, reply.reply.token, REMOTE_TOKEN_LEN, NULL))) {
		snprintf(err, errlen, "far %s %s: sending the data token: %s", kind_name(kind), p->addr, strerror(-ret));
		goto fail;
	}
	*data_fd = data;
	*ctl_fd = ctl;
	return 0;
fail:
	close(ctl);
	if (data >= 0)
		close(data);
	return ret;
}

static __attribute__((noreturn)) void role_report_send(const struct role_ctx *ctx, struct role_report *rep)
{
	char msg[1 + sizeof(*rep)];

	msg[0] = 'D';
	memcpy(msg + 1, rep, sizeof(*rep));
	while (write(ctx->report_fd, msg, sizeof(msg)) < 0 && errno == EINTR)
		;
	_exit(rep->status ? 1 : 0);
}

/* The far result into the report the parent expects from any role. */
static void result_to_report(const struct ctl_result *m, struct role_report *rep)
{
	rep->status = m->status;
	snprintf(rep->call, sizeof(rep->call), "%s", m->call);
	/* The far texts are as long as the report's own fields: the prefixes cut their ends. */
	snprintf(rep->what, sizeof(rep->what), "on the far host%s%.78s", m->what[0] ? ": " : "", m->what);
	rep->res.cpu_user_s = m->cpu_user_s;
	rep->res.cpu_sys_s = m->cpu_sys_s;
	rep->res.ctx_voluntary = m->ctx_voluntary;
	rep->res.ctx_involuntary = m->ctx_involuntary;
	rep->res.faults_minor = m->faults_minor;
	rep->res.faults_major = m->faults_major;
	rep->res.bytes = m->bytes;
	rep->res.io.calls = m->io_calls;
	rep->res.io.short_ops = m->io_short;
	rep->res.io.eintr = m->io_eintr;
	rep->verify = m->verify;
	rep->digest = m->digest;
	snprintf(rep->note, sizeof(rep->note), "%s%.149s", m->note[0] ? "far host: " : "", m->note);
	snprintf(rep->perf_note, sizeof(rep->perf_note), "far host: getrusage only (no perf, no ledger)");
}

void remote_role_main(const struct role_ctx *ctx, int ctl_fd)
{
	struct role_report rep;
	struct ctl_msg m = { .op = CTL_GO };
	char why[256], tag = 'R', b;
	int r;

	memset(&rep, 0, sizeof(rep));
	rep.verify = -1;
	if (write(ctx->report_fd, &tag, 1) != 1)
		_exit(2);
	while ((r = read(ctx->go_fd, &b, 1)) != 0)
		if (r < 0 && errno != EINTR)
			_exit(2);
	if ((r = remote_send(ctl_fd, &m))) {
		rep.status = r;
		snprintf(rep.call, sizeof(rep.call), "send");
		snprintf(rep.what, sizeof(rep.what), "\"go\" to the far %s", kind_name(ctx->kind));
		role_report_send(ctx, &rep);
	}
	/* No deadline here: the parent's --timeout kills this process, which closes the channel. */
	r = remote_recv(ctl_fd, &m, -1, why, sizeof(why));
	rep.t_end_ns = now_ns();
	if (r || m.op != CTL_RESULT) {
		const char *e = r ? why : m.op == CTL_REPLY && !m.reply.ok ? m.reply.error
				: "another message where the result was due";

		rep.status = r ? r : -EPROTO;
		snprintf(rep.call, sizeof(rep.call), "recv");
		snprintf(rep.what, sizeof(rep.what), "far %s result: %.70s", kind_name(ctx->kind), e);
	} else {
		result_to_report(&m.result, &rep);
	}
	role_report_send(ctx, &rep);
}

/* ---- the daemons ---------------------------------------------------------------- */

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
				control_nodelay(fd);
				watch_peer(fd, 0);
				pending[npending++] = fd;	/* another driver: its turn comes after this run */
				continue;
			}
			send_error(fd, "busy: too many drivers waiting; try again");
			close(fd);
			continue;
		}
		if (read_exact(fd, got, sizeof(got), mono_ms() + 5000) == 0 && !memcmp(got, token, sizeof(got))) {
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

static void far_source(int fd, int ctl, const struct payload *p, struct ctl_result *res)
{
	for (uint64_t off = 0; off < p->size;) {
		size_t len = p->size - off < FIXED_IO_BLOCK ? p->size - off : FIXED_IO_BLOCK;
		ssize_t n = send(fd, p->data + off, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (transfer_must_end(ctl, "send", res))
				return;
			continue;	/* an idle wake-up, not an I/O call of the role */
		}
		res->io_calls++;
		if (n < 0 && errno == EINTR) {
			res->io_eintr++;
			if (transfer_must_end(ctl, "send", res))
				return;
			continue;
		}
		if (n < 0) {
			far_error(res, errno, "send", NULL);
			return;
		}
		if ((size_t)n < len)
			res->io_short++;
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
		ssize_t n;

		if (fr->close_at != UINT64_MAX) {
			if (res->bytes >= fr->close_at)
				break;
			if (fr->close_at - res->bytes < len)
				len = fr->close_at - res->bytes;
		}
		n = read(fd, at, len);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (transfer_must_end(ctl, "read", res))
				return;
			continue;	/* an idle wake-up, not an I/O call of the role */
		}
		res->io_calls++;
		if (n < 0 && errno == EINTR) {
			res->io_eintr++;
			if (transfer_must_end(ctl, "read", res))
				return;
			continue;
		}
		if (n < 0) {
			far_error(res, errno, "read", NULL);
			return;
		}
		if (n == 0)
			break;
		if ((size_t)n < len)
			res->io_short++;
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
		send_error(ctl, "getrandom failed on the far host");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
	/* The pattern and its hashes are made before the window, as the local roles do. */
	if (payload_create(&p, fr->size, NULL)) {
		send_error(ctl, "the far host has no memory for the payload");
		goto out;
	}
	if (fr->role == RK_SINK) {
		if (!fr->discard) {
			if (expected_build(&e, p.data, fr->size) || verifier_init(&v, &e)) {
				send_error(ctl, "the far host has no memory for the chunk hashes");
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
		send_error(ctl, err);
		goto abort;
	}
	if (apply_sockopts(data, fr->sndbuf, fr->rcvbuf) == 0 && fr->nodelay) {
		int one = 1;

		setsockopt(data, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	wake_data_calls(data);
	if (wait_go(ctl, err, sizeof(err))) {
		send_error(ctl, err);
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
		fprintf(stderr, "copylab %s: %s %" PRIu64 " bytes: %" PRIu64 " moved, %s%s\n", kind_name(fr->role),
			fr->scenario, fr->size, res->bytes, res->status ? "failed in " : "",
			res->status ? res->call : res->verify == VERIFY_OK ? "ok"
			: res->verify == VERIFY_MISMATCH ? "mismatch" : res->verify == VERIFY_SKIPPED ? "skipped" : "sent");
	goto out;
abort:
	if (verbose)
		fprintf(stderr, "copylab %s: %s %" PRIu64 " bytes: run abandoned: %s\n", kind_name(fr->role),
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
				fprintf(stderr, "copylab %s: refused: %s\n", kind_name(kind), err);
			send_error(ctl, err);
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
			snprintf(err, sizeof(err), "this daemon plays %s; the run asks for role %s", kind_name(kind),
				 kind_name(m.run.role));
		} else {
			if (serve_run(lfd, ctl, &m.run, verbose))
				return;
			(*runs)++;
			continue;
		}
		if (verbose)
			fprintf(stderr, "copylab %s: refused: %s\n", kind_name(kind), err);
		send_error(ctl, err);
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

	if (split_hostport(listen_addr, host, sizeof(host), port, sizeof(port))) {
		fprintf(stderr, "copylab %s: --listen '%s' is not ADDR:PORT ([v6]:PORT for IPv6)\n",
			kind_name(kind), listen_addr);
		return 2;
	}
	if ((r = getaddrinfo(host, port, &hints, &ai))) {
		fprintf(stderr, "copylab %s: --listen %s: %s\n", kind_name(kind), listen_addr, gai_strerror(r));
		return 2;
	}
	lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 8)) {
		fprintf(stderr, "copylab %s: cannot listen on %s: %s\n", kind_name(kind), listen_addr, strerror(errno));
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
	fprintf(stderr, "copylab %s: listening on %s (one run at a time; Ctrl-C ends)\n", kind_name(kind), listen_addr);
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
			control_nodelay(ctl);
			watch_peer(ctl, 0);
		}
		serve_conn(lfd, ctl, kind, verbose, &runs);
		close(ctl);
	}
	while (npending > 0)
		close(pending[--npending]);
	close(lfd);
	if (daemon_stop)
		fprintf(stderr, "copylab %s: stopped by %s after %d run%s\n", kind_name(kind),
			strsignal(daemon_stop), runs, runs == 1 ? "" : "s");
	return 0;
}
