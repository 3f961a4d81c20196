/* SPDX-License-Identifier: MIT */
/*
 * nic mode, the driver's side: remote_open asks each daemon what it plays,
 * remote_role_begin sets up a repetition's far role, remote_role_main
 * stands in for it in the role's process.  Also the framing and addresses
 * that the daemons (remote_daemon.c) share.  The protocol is in remote.h.
 */
#include "remote.h"
#include "remote_wire.h"
#include "role_process.h"
#include "harness/model/base.h"
#include "harness/model/scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PEERS 2
#define CONNECT_TIMEOUT_MS 5000
#define PREPARE_TIMEOUT_MS 300000	/* the daemon builds the payload and its hashes */

struct remote_peer {
	char addr[300];		/* as given: "HOST:PORT" */
	char host[256], port[16];
	enum role_kind kind;
};

struct remote {
	struct remote_peer peer[MAX_PEERS];
	int npeers;
	struct remote_key key;		/* copylab run's --key */
	bool have_key;
};

const char *remote_kind_name(enum role_kind k)
{
	switch (k) {
	case RK_SINK: return "sink";
	case RK_SOURCE: return "source";
	case RK_ECHO_CLIENT: return "echo-client";
	default: return "tested";
	}
}

/* ---- framing ---------------------------------------------------------------- */

/* Set by the daemon's SIGINT/SIGTERM (remote_daemon.c): a frame being read gives up. */
volatile sig_atomic_t daemon_stop;

int remote_read_exact(int fd, void *buf, size_t len, int64_t deadline)
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

void remote_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}


int remote_recv(int fd, struct ctl_msg *msg, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	unsigned char hdr[4];
	size_t len;
	char *buf;
	int r;

	memset(msg, 0, sizeof(*msg));
	if ((r = remote_read_exact(fd, hdr, sizeof(hdr), deadline))) {
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
	if ((r = remote_read_exact(fd, buf, len, deadline))) {
		snprintf(err, errlen, "a truncated control message (%s)", r == -EPIPE ? "closed mid-message" : strerror(-r));
		free(buf);
		return r;
	}
	r = ctl_parse(buf, len, msg, err, errlen);
	free(buf);
	return r;
}

void remote_send_error(int fd, const char *text)
{
	struct ctl_msg m = { .op = CTL_REPLY, .reply = { .ok = false } };

	snprintf(m.reply.error, sizeof(m.reply.error), "%s", text);
	remote_send(fd, &m);
}

/* ---- addresses --------------------------------------------------------------- */

int remote_split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen)
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

int remote_apply_sockopts(int fd, int sndbuf, int rcvbuf)
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
		if ((r = remote_apply_sockopts(fd, sndbuf, rcvbuf))) {
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

/*
 * On a new control connection: hello (which daemon is this?), then, when
 * the daemon asks for a key, auth with the answer to its challenge.  Sets
 * p->kind.  The hello's answer is awaited wait_ms: a daemon answers it when
 * the run in progress (another driver's) ends.  0, or -errno with err
 * (without the peer's name).
 */
static int greet(int fd, struct remote_peer *p, const struct remote_key *key, int wait_ms, char *err, size_t errlen)
{
	struct ctl_msg m = { .op = CTL_HELLO, .version = REMOTE_VERSION }, reply;
	char why[256];
	int r = remote_send(fd, &m);

	if (!r)
		r = remote_recv(fd, &reply, wait_ms, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	if (r) {
		snprintf(err, errlen, "hello: %s%s", why,
			 r == -ETIMEDOUT ? " (a daemon serves one run at a time: is another driver's run in progress there?)" : "");
		return r;
	}
	if (reply.op != CTL_REPLY || !reply.reply.ok || !reply.reply.has_daemon) {
		const char *e = reply.op == CTL_REPLY && !reply.reply.ok ? reply.reply.error : NULL;

		snprintf(err, errlen, "not a copylab daemon%s%s", e ? ": " : "", e ? e : "");
		return -EPROTO;
	}
	if (reply.reply.version != REMOTE_VERSION) {
		snprintf(err, errlen, "protocol version %d, this copylab speaks %d", reply.reply.version, REMOTE_VERSION);
		return -EPROTO;
	}
	p->kind = reply.reply.daemon;
	if (!reply.reply.has_nonce)
		return 0;	/* a daemon run with --insecure-no-auth asks for nothing */
	if (!key) {
		snprintf(err, errlen, "the far %s needs a key: give --key FILE (a copy of the daemon's --key)",
			 remote_kind_name(p->kind));
		return -EACCES;
	}
	m = (struct ctl_msg){ .op = CTL_AUTH };
	if ((r = remote_auth_mac(key, reply.reply.nonce, p->kind, m.auth.mac)) || (r = remote_send(fd, &m)) ||
	    (r = remote_recv(fd, &reply, wait_ms, why, sizeof(why)))) {
		snprintf(err, errlen, "auth: %s", r == -EIO ? "libcrypto failed to compute HMAC-SHA256" : why);
		return r;
	}
	if (reply.op != CTL_REPLY || !reply.reply.ok) {
		snprintf(err, errlen, "the far %s refused the key: %s", remote_kind_name(p->kind),
			 reply.op == CTL_REPLY ? reply.reply.error : "another message where the answer to auth was due");
		return -EACCES;
	}
	return 0;
}

static int hello(struct remote_peer *p, const struct remote_key *key, char *err, size_t errlen)
{
	char why[512];
	int fd = connect_peer(p->host, p->port, 0, 0, why, sizeof(why)), r;

	if (fd < 0) {
		snprintf(err, errlen, "--peer %s: %s (is `copylab sink|source --listen %s` running there?)",
			 p->addr, why, p->addr);
		return fd;
	}
	r = greet(fd, p, key, CONNECT_TIMEOUT_MS, why, sizeof(why));
	close(fd);
	if (r)
		snprintf(err, errlen, "--peer %s: %s", p->addr, why);
	return r;
}

int remote_open(const char *peers, const struct remote_key *key, struct remote **out, char *err, size_t errlen)
{
	struct remote *r = calloc(1, sizeof(*r));
	char buf[640], *save = NULL, *tok;
	int ret;

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (key) {
		r->key = *key;
		r->have_key = true;
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
		if (remote_split_hostport(tok, p->host, sizeof(p->host), p->port, sizeof(p->port))) {
			snprintf(err, errlen, "--peer: '%s' is not HOST:PORT ([v6]:PORT for IPv6)", tok);
			ret = -EINVAL;
			goto fail;
		}
		if ((ret = hello(p, r->have_key ? &r->key : NULL, err, errlen)))
			goto fail;
		for (int i = 0; i < r->npeers; i++)
			if (r->peer[i].kind == p->kind) {
				snprintf(err, errlen, "--peer: %s and %s are both %s daemons", r->peer[i].addr,
					 p->addr, remote_kind_name(p->kind));
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
				 d->name, remote_kind_name(k), r->npeers == 1 ? "only a" : "none");
			if (r->npeers == 1)
				snprintf(err + strlen(err), errlen - strlen(err), " %s (%s)", remote_kind_name(r->peer[0].kind), r->peer[0].addr);
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
			 scenario_name(c->scenario), remote_kind_name(kind));
		return -EOPNOTSUPP;
	}
	if (!p) {
		snprintf(err, errlen, "transport nic: scenario %s needs a `copylab %s` daemon on the far host; --peer names none",
			 scenario_name(c->scenario), remote_kind_name(kind));
		return -EINVAL;
	}
	ctl = connect_peer(p->host, p->port, 0, 0, why, sizeof(why));
	if (ctl < 0) {
		snprintf(err, errlen, "far %s %s: control channel: %s", remote_kind_name(kind), p->addr, why);
		return ctl;
	}
	remote_nodelay(ctl);
	{
		struct remote_peer again = *p;

		/* Queued behind another driver's run as the run message used to be. */
		if ((ret = greet(ctl, &again, r->have_key ? &r->key : NULL, PREPARE_TIMEOUT_MS, why, sizeof(why))) || again.kind != p->kind) {
			snprintf(err, errlen, "far %s %s: control channel: %s", remote_kind_name(kind), p->addr,
				 ret ? why : "the daemon there plays another role now");
			ret = ret ? ret : -EPROTO;
			goto fail;
		}
	}
	m.run = (struct ctl_run){
		.role = kind, .size = c->size, .block = c->block, .close_at = c->sink_close_at,
		.sndbuf = c->sock.sndbuf, .rcvbuf = c->sock.rcvbuf,
		.nodelay = c->sock.nodelay, .discard = c->sink_discard,
	};
	snprintf(m.run.scenario, sizeof(m.run.scenario), "%s", scenario_name(c->scenario));
	if ((ret = remote_send(ctl, &m))) {
		snprintf(err, errlen, "far %s %s: sending the run: %s", remote_kind_name(kind), p->addr, strerror(-ret));
		goto fail;
	}
	if ((ret = remote_recv(ctl, &reply, PREPARE_TIMEOUT_MS, why, sizeof(why)))) {
		snprintf(err, errlen, "far %s %s: %s", remote_kind_name(kind), p->addr, why);
		goto fail;
	}
	if (reply.op != CTL_REPLY || !reply.reply.ok || !reply.reply.token[0]) {
		const char *e = reply.op == CTL_REPLY && !reply.reply.ok ? reply.reply.error : NULL;

		snprintf(err, errlen, "far %s %s refused the run: %s", remote_kind_name(kind), p->addr,
			 e ? e : "no token in its reply");
		ret = -EPROTO;
		goto fail;
	}
	data = connect_peer(p->host, p->port, c->sock.sndbuf, c->sock.rcvbuf, why, sizeof(why));
	if (data < 0) {
		ret = data;
		snprintf(err, errlen, "far %s %s: data connection: %s", remote_kind_name(kind), p->addr, why);
		goto fail;
	}
	if (c->sock.nodelay)
		setsockopt(data, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((ret = write_all(data, reply.reply.token, REMOTE_TOKEN_LEN, NULL))) {
		snprintf(err, errlen, "far %s %s: sending the data token: %s", remote_kind_name(kind), p->addr, strerror(-ret));
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
	char why[256];
	int r;

	memset(&rep, 0, sizeof(rep));
	rep.verify = -1;
	if (barrier_wait(ctx))
		_exit(2);
	if ((r = remote_send(ctl_fd, &m))) {
		rep.status = r;
		snprintf(rep.call, sizeof(rep.call), "send");
		snprintf(rep.what, sizeof(rep.what), "\"go\" to the far %s", remote_kind_name(ctx->kind));
		role_exit(ctx, &rep);
	}
	/* No deadline here: the parent's --timeout kills this process, which closes the channel. */
	r = remote_recv(ctl_fd, &m, -1, why, sizeof(why));
	rep.t_end_ns = now_ns();
	if (r || m.op != CTL_RESULT) {
		const char *e = r ? why : m.op == CTL_REPLY && !m.reply.ok ? m.reply.error
				: "another message where the result was due";

		rep.status = r ? r : -EPROTO;
		snprintf(rep.call, sizeof(rep.call), "recv");
		snprintf(rep.what, sizeof(rep.what), "far %s result: %.70s", remote_kind_name(ctx->kind), e);
	} else {
		result_to_report(&m.result, &rep);
	}
	role_exit(ctx, &rep);
}
