/* SPDX-License-Identifier: MIT */
/*
 * `copylab relay`: a TCP proxy whose two directions are moved by a strategy
 * module, the same code `copylab run relay` measures.  Each accepted
 * connection gets its own upstream connection and two transfers (client ->
 * upstream, upstream -> client), stepped from one level-triggered epoll
 * loop with a budget per wake-up.  A direction waits on what its strategy
 * names in x->wait: the pair's sockets, or a descriptor of the strategy's
 * own (an io_uring ring, sockmap's drain timer), which gets an epoll entry
 * of its own (H_WAIT).  When one direction's input ends and every byte of
 * it is delivered (a splice pipe is empty, sockmap's backlog drained), its
 * output is shut down for writing, so half-close passes through; an error
 * on either side closes both.  A pair silent past --idle-timeout, or past
 * --fin-timeout once one side has ended, is closed (HAProxy's tunnel and
 * client-fin timeouts): no peer holds a slot of --max-conns for ever.
 */
#include "harness/cli/cli.h"
#include "server.h"
#include "strategies/drive.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_BUDGET	(4u << 20)	/* bytes per direction per wake-up */

enum { H_CLIENT, H_UPSTREAM, H_WAIT };
enum { C2U, U2C };

struct pair {
	struct ev_conn ec;		/* first: the server frees it through this */
	struct ev_handle hc, hu;	/* client and upstream sockets */
	uint32_t ev_c, ev_u;		/* their epoll interest */
	bool connecting;		/* upstream connect() in progress */
	bool done[2];			/* input ended and everything delivered */
	struct xfer x[2];
	struct wait_on need[2][2];	/* what each direction waits for */
	/*
	 * need[d][i] when it is not one of the pair's sockets (a ring, a
	 * timer): registered as H_WAIT, fd -1 when not; ev_w its interest.
	 */
	struct ev_handle hw[2][2];
	uint32_t ev_w[2][2];
	int64_t since_ms;		/* last progress */
	int64_t started_ms;		/* accepted */
};

/* How pairs ended, for the summary on exit. */
enum pair_end { END_CLEAN, END_IDLE, END_FIN, END_CONNECT, END_CONNECT_TIMEOUT, END_ERROR,
		END_STOPPING, END_KINDS };
static const char *const end_names[END_KINDS] = {
	"clean", "idle timeout", "fin timeout", "connect failed", "connect timeout", "error", "stopping",
};

struct relay {
	/* target_s: --to; own_timeout_ms: --connect-timeout; idle_timeout_ms 0: none */
	struct ev_server srv;
	struct sockaddr_storage to;
	socklen_t to_len;
	uint64_t served;
	uint64_t refused;		/* clients closed at once: no descriptor for their upstream */
	uint64_t bytes[2];		/* C2U, U2C, of closed pairs */
	uint64_t ends[END_KINDS];
};

_Static_assert(offsetof(struct pair, ec) == 0, "the server frees a pair through its ev_conn");

static struct relay *relay_of(struct ev_server *srv)
{
	return ev_container_of(srv, struct relay, srv);
}

static struct pair *pair_of(struct ev_conn *ec)
{
	return ev_container_of(ec, struct pair, ec);
}

static void drop_wait(struct relay *rl, struct pair *p, int d, int i)
{
	if (p->hw[d][i].fd < 0)
		return;
	ev_del(rl->srv.ep, p->hw[d][i].fd);
	p->hw[d][i].fd = -1;
	p->ev_w[d][i] = 0;
}

/*
 * Ends a pair: how (for the summary) and why (for its log line, NULL for
 * a clean end of both directions).
 */
static void pair_close(struct relay *rl, struct pair *p, enum pair_end how, const char *why)
{
	char took[32];

	if (p->ec.dead)
		return;
	for (int d = 0; d < 2; d++) {
		/* Out of the epoll set before teardown closes the ring or timer. */
		drop_wait(rl, p, d, 0);
		drop_wait(rl, p, d, 1);
		xfer_end(rl->srv.spec.s, &p->x[d]);
	}
	rl->ends[how]++;
	rl->bytes[C2U] += p->x[C2U].moved;
	rl->bytes[U2C] += p->x[U2C].moved;
	if (!rl->srv.quiet)
		ev_log(&rl->srv, "%s: closed, %" PRIu64 " bytes to upstream, %" PRIu64 " back%s%s (%s, %s)",
		       p->ec.peer, p->x[C2U].moved, p->x[U2C].moved, why ? ": " : "", why ? why : "",
		       ev_duration(took, sizeof(took), ev_now_ms() - p->started_ms), rl->srv.spec.label);
	ev_del(rl->srv.ep, p->hc.fd);
	ev_del(rl->srv.ep, p->hu.fd);
	close(p->hc.fd);
	if (p->hu.fd >= 0)
		close(p->hu.fd);
	ev_conn_drop(&rl->srv, &p->ec);
}

/*
 * A socket nobody waits on is taken out of the epoll set (interest 0 means
 * "not registered"): epoll reports a hang-up whatever the interest, and a
 * hung-up upstream whose bytes still wait for a slow client would
 * otherwise wake the loop for nothing until the client drains them.
 */
static void set_events(struct relay *rl, struct ev_handle *h, uint32_t *cur, uint32_t ev)
{
	if (*cur == ev)
		return;
	if (ev == 0) {
		ev_del(rl->srv.ep, h->fd);
		*cur = 0;
		return;
	}
	if ((*cur == 0 ? ev_add(rl->srv.ep, h, ev) : ev_mod(rl->srv.ep, h, ev)) == 0)
		*cur = ev;
}

static void init_xfer(struct relay *rl, struct xfer *x, int in, int out)
{
	xfer_init(x, SC_RELAY, EP_SOCKET, EP_SOCKET, rl->srv.block, &rl->srv.spec.tun);
	x->in_fd = in;
	x->out_fd = out;
	x->total = UINT64_MAX;
	x->tun.nonblock = true;
}

/* Both directions set up once the upstream answers.  0 or -errno. */
static int pair_start(struct relay *rl, struct pair *p)
{
	int one = 1, ret;

	setsockopt(p->hu.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	init_xfer(rl, &p->x[C2U], p->hc.fd, p->hu.fd);
	init_xfer(rl, &p->x[U2C], p->hu.fd, p->hc.fd);
	for (int d = 0; d < 2; d++) {
		ret = xfer_begin(rl->srv.spec.s, &p->x[d]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * A direction's wait on a descriptor that is not one of the pair's sockets
 * (its io_uring ring, sockmap's timer): an epoll entry of its own.  0, or
 * -errno when epoll refuses it.
 */
static int watch_foreign(struct relay *rl, struct pair *p, int d, int i, const struct wait_on *w)
{
	struct ev_handle *h = &p->hw[d][i];
	uint32_t ev = ev_from_poll(w->events);
	int ret;

	if (w->fd < 0 || w->fd == p->hc.fd || w->fd == p->hu.fd) {
		drop_wait(rl, p, d, i);
		return 0;
	}
	if (h->fd == w->fd) {
		if (p->ev_w[d][i] != ev && (ret = ev_mod(rl->srv.ep, h, ev)) < 0)
			return ret;
		p->ev_w[d][i] = ev;
		return 0;
	}
	drop_wait(rl, p, d, i);
	*h = (struct ev_handle){ .kind = H_WAIT, .fd = w->fd, .owner = &p->ec };
	if ((ret = ev_add(rl->srv.ep, h, ev)) < 0) {
		h->fd = -1;
		return ret;
	}
	p->ev_w[d][i] = ev;
	return 0;
}

/*
 * Steps each direction until it waits, ends, or used its budget, then sets
 * the epoll interest to what the directions wait for.  Returns the bytes
 * moved, or -1 when the pair was closed.
 */
static int64_t pair_pump(struct relay *rl, struct pair *p)
{
	int64_t moved = 0;
	uint32_t ev_c = 0, ev_u = 0;
	bool more = false;

	for (int d = 0; d < 2; d++) {
		struct xfer *x = &p->x[d];
		uint64_t start = x->moved;

		if (p->done[d])
			continue;
		for (;;) {
			ssize_t r = rl->srv.spec.s->move(x);

			if (r > 0) {
				if (x->moved - start < RELAY_BUDGET)
					continue;
				/*
				 * Budget spent: step it again after the others had
				 * a look, whatever its descriptors say.
				 */
				more = true;
				p->need[d][0].fd = p->need[d][1].fd = -1;
				break;
			}
			if (r == -EINTR)
				continue;
			if (r == -EAGAIN) {
				p->need[d][0] = x->wait[0];
				p->need[d][1] = x->wait[1];
				break;
			}
			if (r == 0) {
				/* Input at EOF, all of it delivered: pass the half-close on. */
				p->done[d] = true;
				shutdown(x->out_fd, SHUT_WR);
				p->need[d][0].fd = p->need[d][1].fd = -1;
				break;
			}
			char why[160];

			snprintf(why, sizeof(why), "%s %s: %s", d == C2U ? "to upstream" : "to client",
				 x->failed_call ? x->failed_call : "move", strerror((int)-r));
			pair_close(rl, p, END_ERROR, why);
			return -1;
		}
		moved += (int64_t)(x->moved - start);
	}
	if (p->done[C2U] && p->done[U2C]) {
		pair_close(rl, p, END_CLEAN, NULL);
		return -1;
	}
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < 2; i++) {
			const struct wait_on *w = &p->need[d][i];
			int ret;

			/*
			 * A socket named with events 0 (sockmap's output) is
			 * watched for errors and hang-ups only, which epoll
			 * reports whatever the interest: EPOLLERR keeps the
			 * interest non-zero, i.e. registered.
			 */
			if (w->fd >= 0 && w->fd == p->hc.fd)
				ev_c |= EPOLLERR | ev_from_poll(w->events);
			else if (w->fd >= 0 && w->fd == p->hu.fd)
				ev_u |= EPOLLERR | ev_from_poll(w->events);
			if ((ret = watch_foreign(rl, p, d, i, w)) < 0) {
				char why[160];

				snprintf(why, sizeof(why), "epoll_ctl on the strategy's descriptor %d: %s",
					 w->fd, strerror(-ret));
				pair_close(rl, p, END_ERROR, why);
				return -1;
			}
		}
	set_events(rl, &p->hc, &p->ev_c, ev_c);
	set_events(rl, &p->hu, &p->ev_u, ev_u);
	if (more)
		ev_conn_queue(&rl->srv, &p->ec);
	if (moved)
		p->since_ms = ev_now_ms();
	return moved;
}

/*
 * The error still pending on a socket after every direction had its turn,
 * or 0.  A strategy may consume the error itself (sockmap reads SO_ERROR:
 * the psock backlog leaves an EPIPE there at the input's FIN that is no
 * failure), so the event alone does not say; and POLLERR with SO_ERROR 0
 * is the error queue, a zero-copy strategy's completions (as in copylab
 * serve), not a dead peer.
 */
static int pending_error(int fd)
{
	struct pollfd pf = { .fd = fd, .events = 0 };

	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLERR))
		return 0;
	return ev_socket_error(fd);
}

static void pair_event(struct relay *rl, struct pair *p, int kind, uint32_t ev)
{
	bool upstream = kind == H_UPSTREAM;
	int64_t moved;
	int err;

	if (p->connecting) {
		socklen_t len = sizeof(err);

		err = 0;
		if (!upstream)
			return;
		getsockopt(p->hu.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			char why[160];

			snprintf(why, sizeof(why), "connect to %s: %s", rl->srv.target_s, strerror(err));
			pair_close(rl, p, END_CONNECT, why);
			return;
		}
		p->connecting = false;
		err = pair_start(rl, p);
		if (err < 0) {
			char why[160];
			const struct xfer *x = &p->x[p->x[U2C].begun ? U2C : C2U];

			snprintf(why, sizeof(why), "%s setup: %s: %s", rl->srv.spec.s->name,
				 x->failed_call ? x->failed_call : "calloc", strerror(-err));
			pair_close(rl, p, END_ERROR, why);
			return;
		}
	}
	moved = pair_pump(rl, p);
	/* A socket error that let nothing move and is still there will not go away: end the pair. */
	if (moved == 0 && kind != H_WAIT && (ev & EPOLLERR) &&
	    (err = pending_error(upstream ? p->hu.fd : p->hc.fd))) {
		char why[160];

		snprintf(why, sizeof(why), "%s socket error: %s", upstream ? "upstream" : "client",
			 strerror(err));
		pair_close(rl, p, END_ERROR, why);
	}
}

/* ---- what the server asks of a pair -------------------------------------------- */

/* The upstream's socket beside the client's; -1 refuses the client. */
static int relay_conn_open(struct ev_server *srv, struct ev_conn *ec, int fd)
{
	struct relay *rl = relay_of(srv);
	struct pair *p = pair_of(ec);
	int ufd = socket(rl->to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char peer[64];
	int err = errno;

	if (ufd < 0) {
		/* The client is closed at once, told rather than left hanging. */
		rl->refused++;
		ev_log(srv, "%s: no socket for the upstream: %s; client closed",
		       ev_addr_str(fd, true, peer, sizeof(peer)), strerror(err));
		return -1;
	}
	p->hc = (struct ev_handle){ .kind = H_CLIENT, .fd = fd, .owner = ec };
	p->hu = (struct ev_handle){ .kind = H_UPSTREAM, .fd = ufd, .owner = ec };
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < 2; i++) {
			p->need[d][i].fd = -1;
			p->hw[d][i] = (struct ev_handle){ .kind = H_WAIT, .fd = -1, .owner = ec };
		}
	p->since_ms = p->started_ms = ev_now_ms();
	return 0;
}

static void relay_conn_start(struct ev_server *srv, struct ev_conn *ec)
{
	struct relay *rl = relay_of(srv);
	struct pair *p = pair_of(ec);

	rl->served++;
	/* The client waits unwatched (interest 0) until the upstream answers. */
	if (ev_add(srv->ep, &p->hu, EPOLLOUT) < 0) {
		pair_close(rl, p, END_ERROR, "epoll_ctl");
		return;
	}
	p->ev_u = EPOLLOUT;
	if (connect(p->hu.fd, (struct sockaddr *)&rl->to, rl->to_len) < 0 && errno != EINPROGRESS) {
		char why[160];

		snprintf(why, sizeof(why), "connect to %s: %s", srv->target_s, strerror(errno));
		pair_close(rl, p, END_CONNECT, why);
		return;
	}
	/* Connected or not yet: EPOLLOUT on the upstream says which. */
	p->connecting = true;
	if (!srv->quiet)
		ev_log(srv, "%s: accepted, connecting to %s", ec->peer, srv->target_s);
}

static void relay_conn_event(struct ev_server *srv, struct ev_conn *ec, const struct ev_handle *h,
			     uint32_t events)
{
	pair_event(relay_of(srv), pair_of(ec), h->kind, events);
}

static void relay_conn_step(struct ev_server *srv, struct ev_conn *ec)
{
	pair_pump(relay_of(srv), pair_of(ec));
}

/*
 * The silence a pair may keep: --idle-timeout, or --fin-timeout once one
 * direction has ended (a peer that half-closed and then neither side
 * speaks is the commonest way to hold a slot for ever).
 */
static int64_t pair_patience(const struct ev_server *srv, const struct pair *p, enum pair_end *how)
{
	*how = END_IDLE;
	if ((p->done[C2U] || p->done[U2C]) && srv->fin_timeout_ms < srv->idle_timeout_ms) {
		*how = END_FIN;
		return srv->fin_timeout_ms;
	}
	return srv->idle_timeout_ms;
}

static void relay_conn_sweep(struct ev_server *srv, struct ev_conn *ec, int64_t now)
{
	struct relay *rl = relay_of(srv);
	struct pair *p = pair_of(ec);
	enum pair_end how;
	int64_t limit = pair_patience(srv, p, &how);
	char why[96], t[32];

	if (p->connecting && now - p->since_ms > srv->own_timeout_ms) {
		pair_close(rl, p, END_CONNECT_TIMEOUT, "connect timed out");
		return;
	}
	/*
	 * Bytes a strategy moves without this process (sockmap's program)
	 * show in x->moved only when it is stepped, and its descriptors may
	 * say nothing while they flow: step the pair before calling it idle.
	 */
	if (!p->connecting && now - p->since_ms > limit && pair_pump(rl, p) < 0)
		return;
	limit = pair_patience(srv, p, &how);
	if (now - p->since_ms > limit) {
		snprintf(why, sizeof(why), "%s (--%s %s)", how == END_FIN ? "half-closed, then silent" : "silent",
			 how == END_FIN ? "fin-timeout" : "idle-timeout", ev_duration(t, sizeof(t), limit));
		pair_close(rl, p, how, why);
	} else if (srv->stopping && now > srv->stop_deadline) {
		pair_close(rl, p, END_STOPPING, "stopping, --grace over");
	}
}

/* What is still open when the loop ends: the stop's grace time is over. */
static void relay_conn_close(struct ev_server *srv, struct ev_conn *ec)
{
	pair_close(relay_of(srv), pair_of(ec), END_STOPPING, "stopping, --grace over");
}

/* ---- the start-up probe ---------------------------------------------------------- */

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * A connected pair of loopback TCP sockets, non-blocking: 0, or -1 (the
 * machine has no IPv4 loopback, and the probe is skipped).
 */
static int loopback_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	fds[0] = fds[1] = -1;
	if (ls < 0)
		return -1;
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &len) ||
	    (fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fds[0], (struct sockaddr *)&a, len) ||
	    (fds[1] = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		close(ls);
		if (fds[0] >= 0)
			close(fds[0]);
		fds[0] = -1;
		return -1;
	}
	close(ls);
	for (int i = 0; i < 2; i++)
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	return 0;
}

/*
 * One setup and teardown of the strategy on a loopback connection before
 * listening, so that a strategy this machine or user cannot run (sockmap
 * without CAP_BPF, io_uring disabled by sysctl) is one clear error at
 * start-up instead of a refusal per connection, and so that the
 * descriptors one transfer holds (pipes, a ring, BPF maps and programs, a
 * timer) size --max-conns.  Returns the descriptors per transfer (0 or
 * more), -1 when no probe could be made, or -2 with why filled.
 */
static int probe_strategy(struct relay *rl, char *why, size_t len)
{
	struct xfer x;
	int fds[2], before, during, ret = 0;

	if (loopback_pair(fds))
		return -1;
	init_xfer(rl, &x, fds[0], fds[1]);
	before = open_fds();
	ret = xfer_begin(rl->srv.spec.s, &x);
	during = open_fds();
	xfer_end(rl->srv.spec.s, &x);
	close(fds[0]);
	close(fds[1]);
	if (ret < 0) {
		snprintf(why, len, "%s: %s%s%s", x.failed_call ? x.failed_call : "setup", strerror(-ret),
			 rl->srv.spec.s->needs_privilege && geteuid() != 0 ? " (" : "",
			 rl->srv.spec.s->needs_privilege && geteuid() != 0 ? rl->srv.spec.s->needs_privilege : "");
		if (rl->srv.spec.s->needs_privilege && geteuid() != 0)
			snprintf(why + strlen(why), len - strlen(why), ")");
		return -2;
	}
	return before >= 0 && during >= before ? during - before : -1;
}

/* ---- the command ------------------------------------------------------------------ */

static void relay_usage(FILE *out)
{
	fprintf(out,
"usage: copylab relay --listen ADDR:PORT --to ADDR:PORT [--strategy NAME] [OPTIONS]\n"
"\n"
"A TCP proxy: every connection accepted on --listen gets its own connection\n"
"to --to, and the bytes of both directions are moved by a copylab strategy\n"
"(any that relays with a process, io_uring's and sockmap's included: copylab\n"
"list; not nat).  A strategy this user cannot run (sockmap without CAP_BPF)\n"
"is refused at start-up, exit 1.  Half-close passes\n"
"through (a direction's end is a shutdown of its output once every byte of\n"
"it is delivered); an error on either side closes both.  Binds to exactly\n"
"ADDR; port 0 picks a free port.  Prints \"listening on ADDR:PORT\" on stdout\n"
"when ready.  SIGINT, SIGTERM or SIGQUIT stop accepting and let open\n"
"connections finish (up to --grace), then print a summary; a second one\n"
"stops at once.  SIGHUP reopens --log.  docs/threat-model.md: what it\n"
"trusts, refuses and limits.\n"
"\n"
"  --listen ADDR:PORT      where to listen\n"
"  --to ADDR:PORT          the upstream every connection is relayed to\n"
"  --strategy LABEL        strategy with options (splice, splice:pipe=1M,\n"
"                          readwrite, ...); default splice\n"
"  --block N               bytes per strategy call; default 64K, and 1M for a\n"
"                          strategy with no user buffer (splice, which also\n"
"                          asks for 1 MiB pipes)\n"
"  --max-conns N           connections at once; default 1024\n"
"  --connect-timeout S     seconds for the upstream to answer; default 10\n"
"  --idle-timeout S        close a pair when no byte moved either way for S\n"
"                          seconds (HAProxy's timeout tunnel); default 300\n"
"  --fin-timeout S         the same once one side has ended its sending\n"
"                          (HAProxy's client-fin/server-fin); default 30\n"
"  --backlog N             listen(2) backlog (capped by net.core.somaxconn);\n"
"                          default 1024\n"
"  --grace S               seconds a stop leaves pairs to finish; default 10\n"
"  --log FILE              the log appended to FILE instead of stderr;\n"
"                          SIGHUP reopens it\n"
"  --quiet                 no line per connection (errors and the summary stay)\n");
}

static const struct ev_tool relay_tool = {
	.name = "relay",
	.scenario = SC_RELAY,
	.cannot = "relay",
	.default_label = "splice",
	.target_opt = "to",
	.target_arg = "ADDR:PORT",
	.own_timeout_opt = "connect-timeout",
	/* up to a whole 1 MiB pipe a call: the pipe bounds a splice anyway */
	.big_block = EV_PIPE_SIZE,
	.own_opts = EV_OPT_FIN_TIMEOUT,
	.usage = relay_usage,
	.conn_size = sizeof(struct pair),
	.conn_open = relay_conn_open,
	.conn_start = relay_conn_start,
	.conn_event = relay_conn_event,
	.conn_step = relay_conn_step,
	.conn_sweep = relay_conn_sweep,
	.conn_close = relay_conn_close,
};

/*
 * The descriptors a pair holds: two sockets and what each direction's
 * setup opened (two pipes for splice).  -1, said on stderr, when the
 * strategy cannot run here.
 */
static long pair_fds(struct relay *rl)
{
	char err[512];
	int per_xfer = probe_strategy(rl, err, sizeof(err));

	if (per_xfer == -2) {
		fprintf(stderr, "copylab relay: %s cannot run here: %s\n", rl->srv.spec.s->name, err);
		return -1;
	}
	return 2 + 2 * (per_xfer >= 0 ? per_xfer : 2);
}

/* The summary on exit: pairs, bytes, and how they ended. */
static void relay_summary(struct relay *rl)
{
	char ends[512];
	size_t n = 0;

	for (int k = 0; k < END_KINDS; k++)
		n += (size_t)snprintf(ends + n, sizeof(ends) - n, "%s%s %" PRIu64, k ? ", " : "",
				      end_names[k], rl->ends[k]);
	ev_log(&rl->srv, "copylab relay: stopped after %" PRIu64 " connections: %" PRIu64
	       " bytes to upstream, %" PRIu64 " back; ended: %s; refused %" PRIu64 ", accept errors %" PRIu64,
	       rl->served, rl->bytes[C2U], rl->bytes[U2C], ends, rl->refused, rl->srv.accept_errors);
}

int cmd_relay(int argc, char **argv)
{
	struct relay rl = { .srv = { .tool = &relay_tool, .own_timeout_ms = 10000,
				     .idle_timeout_ms = 300000, .fin_timeout_ms = 30000 } };
	struct ev_server *srv = &rl.srv;
	char err[512], where[512], t[3][32];
	long per_pair;
	int ret;

	if (!ev_server_configure(srv, argc, argv, &ret))
		return ret;
	if (ev_parse_addr(srv->target_s, &rl.to, &rl.to_len, err, sizeof(err)))
		return usage_error("--to %s", err);
	per_pair = pair_fds(&rl);
	if (per_pair < 0)
		return EXIT_RUN_FAILED;
	ret = ev_server_listen(srv, per_pair);
	if (ret)
		return ret;
	snprintf(where, sizeof(where), "%s -> %s, timeouts: connect %s, idle %s, fin %s", srv->addr,
		 srv->target_s, ev_duration(t[0], sizeof(t[0]), srv->own_timeout_ms),
		 ev_duration(t[1], sizeof(t[1]), srv->idle_timeout_ms),
		 ev_duration(t[2], sizeof(t[2]), srv->fin_timeout_ms));
	ev_server_announce(srv, where);

	ret = ev_server_run(srv);

	ev_server_close(srv);
	relay_summary(&rl);
	ev_log_close(srv);
	return ret;
}
