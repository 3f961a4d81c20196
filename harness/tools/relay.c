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
 * on either side closes both.
 */
#include "harness/cli/cli.h"
#include "evloop.h"
#include "strategies/drive.h"
#include "harness/model/options.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#define RELAY_GRACE_MS	10000		/* open connections at a stop */

enum { H_LISTEN, H_SIGNAL, H_CLIENT, H_UPSTREAM, H_WAIT };
enum { C2U, U2C };

struct pair {
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
	bool queued;			/* in rl->runnable: budget spent, more to move */
	size_t rq_slot;
	bool dead;
	struct pair *next_dead;
	size_t slot;
	char peer[64];
};

struct relay {
	const struct strategy *s;
	struct tunables tun;
	size_t block;
	struct sockaddr_storage to;
	socklen_t to_len;
	const char *to_s;
	long max_conns;
	int64_t connect_timeout_ms, idle_timeout_ms;	/* idle 0: none */
	bool quiet;

	int ep, listen_fd, sig_fd;
	struct ev_handle hl, hs;
	bool accepting, stopping;
	int64_t stop_deadline;
	struct pair **pairs;
	long live;
	/*
	 * Pairs that spent their budget with bytes still to move: stepped
	 * again after the next look at epoll (timeout 0 while any are here),
	 * since a strategy with operations in flight (io_uring) may have
	 * nothing for epoll to report on its sockets.
	 */
	struct pair **runnable;
	size_t nrunnable;
	struct pair *graveyard;
	uint64_t served;
};

static void accept_resume(struct relay *rl);

static void runnable_add(struct relay *rl, struct pair *p)
{
	if (p->queued)
		return;
	p->queued = true;
	p->rq_slot = rl->nrunnable;
	rl->runnable[rl->nrunnable++] = p;
}

static void runnable_remove(struct relay *rl, struct pair *p)
{
	if (!p->queued)
		return;
	p->queued = false;
	rl->runnable[p->rq_slot] = rl->runnable[--rl->nrunnable];
	rl->runnable[p->rq_slot]->rq_slot = p->rq_slot;
}

static void drop_wait(struct relay *rl, struct pair *p, int d, int i)
{
	if (p->hw[d][i].fd < 0)
		return;
	ev_del(rl->ep, p->hw[d][i].fd);
	p->hw[d][i].fd = -1;
	p->ev_w[d][i] = 0;
}

static void pair_close(struct relay *rl, struct pair *p, const char *why)
{
	if (p->dead)
		return;
	runnable_remove(rl, p);
	for (int d = 0; d < 2; d++) {
		/* Out of the epoll set before teardown closes the ring or timer. */
		drop_wait(rl, p, d, 0);
		drop_wait(rl, p, d, 1);
		xfer_end(rl->s, &p->x[d]);
	}
	if (!rl->quiet)
		fprintf(stderr, "%s: closed, %" PRIu64 " bytes to upstream, %" PRIu64 " back%s%s\n",
			p->peer, p->x[C2U].moved, p->x[U2C].moved, why ? ": " : "", why ? why : "");
	ev_del(rl->ep, p->hc.fd);
	ev_del(rl->ep, p->hu.fd);
	close(p->hc.fd);
	if (p->hu.fd >= 0)
		close(p->hu.fd);
	p->dead = true;
	rl->pairs[p->slot] = NULL;
	rl->live--;
	p->next_dead = rl->graveyard;
	rl->graveyard = p;
	accept_resume(rl);
}

static void bury_dead(struct relay *rl)
{
	while (rl->graveyard) {
		struct pair *p = rl->graveyard;

		rl->graveyard = p->next_dead;
		free(p);
	}
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
		ev_del(rl->ep, h->fd);
		*cur = 0;
		return;
	}
	if ((*cur == 0 ? ev_add(rl->ep, h, ev) : ev_mod(rl->ep, h, ev)) == 0)
		*cur = ev;
}

static void init_xfer(struct relay *rl, struct xfer *x, int in, int out)
{
	xfer_init(x, SC_RELAY, EP_SOCKET, EP_SOCKET, rl->block, &rl->tun);
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
		ret = xfer_begin(rl->s, &p->x[d]);
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
		if (p->ev_w[d][i] != ev && (ret = ev_mod(rl->ep, h, ev)) < 0)
			return ret;
		p->ev_w[d][i] = ev;
		return 0;
	}
	drop_wait(rl, p, d, i);
	*h = (struct ev_handle){ .kind = H_WAIT, .fd = w->fd, .owner = p };
	if ((ret = ev_add(rl->ep, h, ev)) < 0) {
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
			ssize_t r = rl->s->move(x);

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
			pair_close(rl, p, why);
			return -1;
		}
		moved += (int64_t)(x->moved - start);
	}
	if (p->done[C2U] && p->done[U2C]) {
		pair_close(rl, p, NULL);
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
				pair_close(rl, p, why);
				return -1;
			}
		}
	set_events(rl, &p->hc, &p->ev_c, ev_c);
	set_events(rl, &p->hu, &p->ev_u, ev_u);
	if (more)
		runnable_add(rl, p);
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

			snprintf(why, sizeof(why), "connect to %s: %s", rl->to_s, strerror(err));
			pair_close(rl, p, why);
			return;
		}
		p->connecting = false;
		err = pair_start(rl, p);
		if (err < 0) {
			char why[160];
			const struct xfer *x = &p->x[p->x[U2C].begun ? U2C : C2U];

			snprintf(why, sizeof(why), "%s setup: %s: %s", rl->s->name,
				 x->failed_call ? x->failed_call : "calloc", strerror(-err));
			pair_close(rl, p, why);
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
		pair_close(rl, p, why);
	}
}

/* ---- accepting, timeouts, stopping ------------------------------------------- */

static void accept_pause(struct relay *rl)
{
	if (rl->accepting && rl->listen_fd >= 0 && ev_mod(rl->ep, &rl->hl, 0) == 0)
		rl->accepting = false;
}

static void accept_resume(struct relay *rl)
{
	if (!rl->accepting && !rl->stopping && rl->listen_fd >= 0 && rl->live < rl->max_conns &&
	    ev_mod(rl->ep, &rl->hl, EPOLLIN) == 0)
		rl->accepting = true;
}

static void accept_new(struct relay *rl)
{
	int one = 1;

	while (rl->live < rl->max_conns) {
		int fd = accept4(rl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), ufd;
		struct pair *p;
		size_t slot;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(rl);
			return;
		}
		p = calloc(1, sizeof(*p));
		for (slot = 0; p && slot < (size_t)rl->max_conns && rl->pairs[slot]; slot++)
			;
		ufd = socket(rl->to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (!p || slot == (size_t)rl->max_conns || ufd < 0) {
			free(p);
			close(fd);
			if (ufd >= 0)
				close(ufd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p->hc = (struct ev_handle){ .kind = H_CLIENT, .fd = fd, .owner = p };
		p->hu = (struct ev_handle){ .kind = H_UPSTREAM, .fd = ufd, .owner = p };
		for (int d = 0; d < 2; d++)
			for (int i = 0; i < 2; i++) {
				p->need[d][i].fd = -1;
				p->hw[d][i] = (struct ev_handle){ .kind = H_WAIT, .fd = -1, .owner = p };
			}
		p->slot = slot;
		p->since_ms = ev_now_ms();
		ev_addr_str(fd, true, p->peer, sizeof(p->peer));
		rl->pairs[slot] = p;
		rl->live++;
		rl->served++;
		/* The client waits unwatched (interest 0) until the upstream answers. */
		if (ev_add(rl->ep, &p->hu, EPOLLOUT) < 0) {
			pair_close(rl, p, "epoll_ctl");
			continue;
		}
		p->ev_u = EPOLLOUT;
		if (connect(ufd, (struct sockaddr *)&rl->to, rl->to_len) < 0 && errno != EINPROGRESS) {
			char why[160];

			snprintf(why, sizeof(why), "connect to %s: %s", rl->to_s, strerror(errno));
			pair_close(rl, p, why);
			continue;
		}
		/* Connected or not yet: EPOLLOUT on the upstream says which. */
		p->connecting = true;
		if (!rl->quiet)
			fprintf(stderr, "%s: accepted, connecting to %s\n", p->peer, rl->to_s);
	}
	accept_pause(rl);
}

static void sweep_timeouts(struct relay *rl)
{
	int64_t now = ev_now_ms();

	for (long i = 0; i < rl->max_conns; i++) {
		struct pair *p = rl->pairs[i];

		if (!p)
			continue;
		if (p->connecting && now - p->since_ms > rl->connect_timeout_ms) {
			pair_close(rl, p, "connect timed out");
			continue;
		}
		/*
		 * Bytes a strategy moves without this process (sockmap's
		 * program) show in x->moved only when it is stepped, and its
		 * descriptors may say nothing while they flow: step the pair
		 * before calling it idle.
		 */
		if (!p->connecting && rl->idle_timeout_ms && now - p->since_ms > rl->idle_timeout_ms &&
		    pair_pump(rl, p) < 0)
			continue;
		if (rl->idle_timeout_ms && now - p->since_ms > rl->idle_timeout_ms)
			pair_close(rl, p, "idle timeout");
		else if (rl->stopping && now > rl->stop_deadline)
			pair_close(rl, p, "stopping");
	}
}

static void begin_stop(struct relay *rl)
{
	rl->stopping = true;
	rl->stop_deadline = ev_now_ms() + RELAY_GRACE_MS;
	if (rl->listen_fd >= 0) {
		ev_del(rl->ep, rl->listen_fd);
		close(rl->listen_fd);
		rl->listen_fd = -1;
	}
}

/* One more turn for each pair that spent its budget (it may queue itself again). */
static void step_runnable(struct relay *rl)
{
	size_t n = rl->nrunnable;

	for (size_t i = 0; i < n && rl->nrunnable > 0; i++) {
		struct pair *p = rl->runnable[0];

		runnable_remove(rl, p);
		if (!p->dead)
			pair_pump(rl, p);
	}
}

static int relay_loop(struct relay *rl)
{
	struct epoll_event evs[256];
	int64_t last_sweep = ev_now_ms();

	while (!rl->stopping || (rl->live > 0 && ev_now_ms() < rl->stop_deadline)) {
		int n = epoll_wait(rl->ep, evs, 256, rl->nrunnable ? 0 : 250);

		if (n < 0 && errno != EINTR) {
			perror("copylab relay: epoll_wait");
			return EXIT_RUN_FAILED;
		}
		for (int i = 0; i < n; i++) {
			struct ev_handle *h = evs[i].data.ptr;
			struct pair *p;

			switch (h->kind) {
			case H_LISTEN:
				accept_new(rl);
				break;
			case H_SIGNAL:
				if (ev_signal_read(rl->sig_fd)) {
					if (rl->stopping)
						return 0;
					begin_stop(rl);
				}
				break;
			default:
				p = h->owner;
				if (!p->dead)
					pair_event(rl, p, h->kind, evs[i].events);
				break;
			}
		}
		step_runnable(rl);
		if (ev_now_ms() - last_sweep >= 1000) {
			sweep_timeouts(rl);
			last_sweep = ev_now_ms();
		}
		bury_dead(rl);
	}
	return 0;
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
	ret = xfer_begin(rl->s, &x);
	during = open_fds();
	xfer_end(rl->s, &x);
	close(fds[0]);
	close(fds[1]);
	if (ret < 0) {
		snprintf(why, len, "%s: %s%s%s", x.failed_call ? x.failed_call : "setup", strerror(-ret),
			 rl->s->needs_privilege && geteuid() != 0 ? " (" : "",
			 rl->s->needs_privilege && geteuid() != 0 ? rl->s->needs_privilege : "");
		if (rl->s->needs_privilege && geteuid() != 0)
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
"when ready; SIGINT/SIGTERM stop accepting and let open connections finish\n"
"(up to 10 s).\n"
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
"  --idle-timeout S        close a connection silent that long; default: never\n"
"  --quiet                 no line per connection on stderr\n");
}

enum { OPT_LISTEN = 256, OPT_TO, OPT_STRATEGY, OPT_BLOCK, OPT_MAXC, OPT_CTO, OPT_ITO, OPT_QUIET };

int cmd_relay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "to", required_argument, NULL, OPT_TO },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "max-conns", required_argument, NULL, OPT_MAXC },
		{ "connect-timeout", required_argument, NULL, OPT_CTO },
		{ "idle-timeout", required_argument, NULL, OPT_ITO },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_s = NULL, *label = "splice";
	struct relay rl = { .block = 64 * 1024, .max_conns = 1024, .connect_timeout_ms = 10000,
			    .listen_fd = -1 };
	struct strategy_spec spec;
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[512], addr[80];
	struct refusal why;
	uint64_t block;
	bool block_set = false;
	long n, fd_limit, per_pair;
	int per_xfer;
	double secs;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN: listen_s = optarg; break;
		case OPT_TO: rl.to_s = optarg; break;
		case OPT_STRATEGY: label = optarg; break;
		case OPT_QUIET: rl.quiet = true; break;
		case OPT_BLOCK:
			if (parse_size("--block", optarg, 1ull << 30, &block, err, sizeof(err)))
				return usage_error("%s", err);
			if (block == 0)
				return usage_error("--block must be at least 1 byte");
			rl.block = (size_t)block;
			block_set = true;
			break;
		case OPT_MAXC:
			if (parse_count("--max-conns", optarg, 1, 1000000, &n, err, sizeof(err)))
				return usage_error("%s", err);
			rl.max_conns = n;
			break;
		case OPT_CTO:
		case OPT_ITO:
			if (parse_seconds(opt == OPT_CTO ? "--connect-timeout" : "--idle-timeout",
					  optarg, &secs, err, sizeof(err)))
				return usage_error("%s", err);
			if (secs <= 0)
				return usage_error("%s must be more than 0 seconds",
						   opt == OPT_CTO ? "--connect-timeout" : "--idle-timeout");
			*(opt == OPT_CTO ? &rl.connect_timeout_ms : &rl.idle_timeout_ms) =
				(int64_t)(secs * 1000);
			break;
		case 'h':
			relay_usage(stdout);
			return 0;
		default:
			relay_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("relay: unexpected argument '%s' (see copylab relay --help)", argv[optind]);
	if (!listen_s || !rl.to_s)
		return usage_error("relay needs --listen ADDR:PORT and --to ADDR:PORT (see copylab relay --help)");
	if (parse_strategy_spec(label, &spec, err, sizeof(err)))
		return usage_error("%s", err);
	/* This loop watches whatever x->wait names, rings and timers too: only nat is refused. */
	why = strategy_refusal(spec.s, &EV_PLACE(SC_RELAY));
	if (why.kind != REFUSE_NONE)
		return usage_error("%s cannot relay%s: %s", spec.s->name,
				   why.kind == REFUSE_PROCESS ? " with this tool" : "", why.why);
	rl.s = spec.s;
	rl.tun = spec.tun;
	/* up to a whole 1 MiB pipe a call: the pipe bounds a splice anyway */
	ev_call_sizes(rl.s, &rl.tun, &rl.block, block_set, EV_PIPE_SIZE);
	if (ev_parse_addr(listen_s, &ss, &sl, err, sizeof(err)))
		return usage_error("--listen %s", err);
	if (ev_parse_addr(rl.to_s, &rl.to, &rl.to_len, err, sizeof(err)))
		return usage_error("--to %s", err);

	fd_limit = ev_raise_nofile();
	per_xfer = probe_strategy(&rl, err, sizeof(err));
	if (per_xfer == -2) {
		fprintf(stderr, "copylab relay: %s cannot run here: %s\n", spec.s->name, err);
		return EXIT_RUN_FAILED;
	}
	/* A pair holds two sockets and what each direction's setup opened (two pipes for splice). */
	per_pair = 2 + 2 * (per_xfer >= 0 ? per_xfer : 2);
	if (rl.max_conns > (fd_limit - 16) / per_pair) {
		rl.max_conns = (fd_limit - 16) / per_pair > 1 ? (fd_limit - 16) / per_pair : 1;
		fprintf(stderr, "copylab relay: --max-conns lowered to %ld (descriptor limit %ld)\n",
			rl.max_conns, fd_limit);
	}
	rl.pairs = calloc((size_t)rl.max_conns, sizeof(*rl.pairs));
	rl.runnable = calloc((size_t)rl.max_conns, sizeof(*rl.runnable));
	if (!rl.pairs || !rl.runnable) {
		fprintf(stderr, "copylab relay: out of memory\n");
		return EXIT_RUN_FAILED;
	}
	rl.sig_fd = ev_signals();
	rl.ep = ev_epoll();
	if (rl.sig_fd < 0 || rl.ep < 0) {
		perror("copylab relay: signalfd/epoll");
		return EXIT_RUN_FAILED;
	}
	rl.listen_fd = ev_listen(&ss, sl, 1024);
	if (rl.listen_fd < 0) {
		fprintf(stderr, "copylab relay: cannot listen on %s: %s\n", listen_s,
			strerror(-rl.listen_fd));
		return EXIT_RUN_FAILED;
	}
	rl.hl = (struct ev_handle){ .kind = H_LISTEN, .fd = rl.listen_fd };
	rl.hs = (struct ev_handle){ .kind = H_SIGNAL, .fd = rl.sig_fd };
	if (ev_add(rl.ep, &rl.hl, EPOLLIN) || ev_add(rl.ep, &rl.hs, EPOLLIN)) {
		perror("copylab relay: epoll_ctl");
		return EXIT_RUN_FAILED;
	}
	rl.accepting = true;

	printf("listening on %s\n", ev_addr_str(rl.listen_fd, false, addr, sizeof(addr)));
	fflush(stdout);
	if (!rl.quiet)
		fprintf(stderr, "copylab relay: %s -> %s, strategy %s, block %zu, pipe %zu asked, max %ld connections\n",
			addr, rl.to_s, spec.label, rl.block, rl.tun.set & TUN_PIPE_SIZE ? rl.tun.pipe_size : 0,
			rl.max_conns);

	ret = relay_loop(&rl);

	for (long i = 0; i < rl.max_conns; i++)
		if (rl.pairs[i])
			pair_close(&rl, rl.pairs[i], "stopping");
	bury_dead(&rl);
	if (rl.listen_fd >= 0)
		close(rl.listen_fd);
	close(rl.ep);
	close(rl.sig_fd);
	free(rl.pairs);
	free(rl.runnable);
	if (!rl.quiet)
		fprintf(stderr, "copylab relay: stopped after %" PRIu64 " connections\n", rl.served);
	return ret;
}
