/* SPDX-License-Identifier: MIT */
/*
 * The running server of `copylab serve` and `copylab relay` (see server.h):
 * listening, accepting, the loop, the sweep, the stop.
 */
#include "server.h"
#include "harness/cli/cli.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a stop leaves open connections to finish: both usages promise 10 s. */
#define EV_GRACE_MS	10000

/* The kinds of the server's own handles; a tool's are 0 and up. */
enum { EV_LISTEN = -2, EV_SIGNAL = -1 };

/* ---- the connections ---------------------------------------------------------- */

static void accept_resume(struct ev_server *srv);

void ev_conn_queue(struct ev_server *srv, struct ev_conn *c)
{
	if (c->queued)
		return;
	c->queued = true;
	c->rq_slot = srv->nrunnable;
	srv->runnable[srv->nrunnable++] = c;
}

static void runnable_remove(struct ev_server *srv, struct ev_conn *c)
{
	if (!c->queued)
		return;
	c->queued = false;
	srv->runnable[c->rq_slot] = srv->runnable[--srv->nrunnable];
	srv->runnable[c->rq_slot]->rq_slot = c->rq_slot;
}

void ev_conn_drop(struct ev_server *srv, struct ev_conn *c)
{
	runnable_remove(srv, c);
	c->dead = true;
	srv->conns[c->slot] = NULL;
	srv->live--;
	/* Freed after this turn of the loop: its events may still be in the batch. */
	c->next_dead = srv->graveyard;
	srv->graveyard = c;
	accept_resume(srv);
}

static void bury_dead(struct ev_server *srv)
{
	while (srv->graveyard) {
		struct ev_conn *c = srv->graveyard;

		srv->graveyard = c->next_dead;
		free(c);
	}
}

/* One more turn for each queued connection; what these turns queue again waits for the next. */
static void step_runnable(struct ev_server *srv)
{
	struct ev_conn **list = srv->runnable;
	size_t n = srv->nrunnable;

	srv->runnable = srv->runnable_next;
	srv->runnable_next = list;
	srv->nrunnable = 0;
	for (size_t i = 0; i < n; i++)
		list[i]->queued = false;
	for (size_t i = 0; i < n; i++)
		if (!list[i]->dead)
			srv->tool->conn_step(srv, list[i]);
}

/* ---- accepting ------------------------------------------------------------------ */

static void accept_pause(struct ev_server *srv)
{
	if (srv->accepting && srv->listen_fd >= 0 && ev_mod(srv->ep, &srv->hl, 0) == 0)
		srv->accepting = false;
}

static void accept_resume(struct ev_server *srv)
{
	if (!srv->accepting && !srv->stopping && srv->listen_fd >= 0 &&
	    srv->live < srv->max_conns && ev_mod(srv->ep, &srv->hl, EPOLLIN) == 0)
		srv->accepting = true;
}

static void accept_new(struct ev_server *srv)
{
	int one = 1;

	while (srv->live < srv->max_conns) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ev_conn *c = NULL;
		size_t slot;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE/ENFILE: stop accepting until a connection closes. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(srv);
			return;
		}
		for (slot = 0; slot < (size_t)srv->max_conns && srv->conns[slot]; slot++)
			;
		if (slot < (size_t)srv->max_conns)
			c = calloc(1, srv->tool->conn_size);
		if (!c || srv->tool->conn_open(srv, c, fd) < 0) {
			free(c);
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->slot = slot;
		ev_addr_str(fd, true, c->peer, sizeof(c->peer));
		srv->conns[slot] = c;
		srv->live++;
		srv->tool->conn_start(srv, c);
	}
	accept_pause(srv);
}

/* ---- timeouts, stopping, the loop --------------------------------------------- */

/* Slow-loris and dead peers: the tool's timeouts, checked about once a second. */
static void sweep_timeouts(struct ev_server *srv)
{
	int64_t now = ev_now_ms();

	for (long i = 0; i < srv->max_conns; i++)
		if (srv->conns[i])
			srv->tool->conn_sweep(srv, srv->conns[i], now);
}

static void begin_stop(struct ev_server *srv)
{
	srv->stopping = true;
	srv->stop_deadline = ev_now_ms() + EV_GRACE_MS;
	if (srv->listen_fd >= 0) {
		ev_del(srv->ep, srv->listen_fd);
		close(srv->listen_fd);
		srv->listen_fd = -1;
	}
	if (!srv->tool->conn_stop)
		return;
	for (long i = 0; i < srv->max_conns; i++)
		if (srv->conns[i])
			srv->tool->conn_stop(srv, srv->conns[i]);
}

/* One epoll batch.  1 to go on, 0 at a second signal (stop now), -1 when epoll fails. */
static int run_events(struct ev_server *srv)
{
	struct epoll_event evs[256];
	int n = epoll_wait(srv->ep, evs, 256, srv->nrunnable ? 0 : 250);

	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "copylab %s: epoll_wait: %s\n", srv->tool->name, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct ev_handle *h = evs[i].data.ptr;
		struct ev_conn *c;

		switch (h->kind) {
		case EV_LISTEN:
			accept_new(srv);
			break;
		case EV_SIGNAL:
			if (ev_signal_read(srv->sig_fd)) {
				if (srv->stopping)
					return 0;
				begin_stop(srv);
			}
			break;
		default:
			c = h->owner;
			if (!c->dead)
				srv->tool->conn_event(srv, c, h, evs[i].events);
			break;
		}
	}
	return 1;
}

int ev_server_run(struct ev_server *srv)
{
	int64_t last_sweep = ev_now_ms();

	while (!srv->stopping || (srv->live > 0 && ev_now_ms() < srv->stop_deadline)) {
		int r = run_events(srv);

		if (r <= 0)
			return r < 0 ? EXIT_RUN_FAILED : 0;
		step_runnable(srv);
		if (ev_now_ms() - last_sweep >= 1000) {
			sweep_timeouts(srv);
			last_sweep = ev_now_ms();
		}
		bury_dead(srv);
	}
	return 0;
}

/* ---- starting and ending ------------------------------------------------------- */

int ev_server_listen(struct ev_server *srv, long per_conn)
{
	const char *name = srv->tool->name;
	long fd_limit = ev_raise_nofile();
	long fit = (fd_limit - 16) / per_conn;

	if (srv->max_conns > fit) {
		srv->max_conns = fit > 1 ? fit : 1;
		fprintf(stderr, "copylab %s: --max-conns lowered to %ld (descriptor limit %ld)\n",
			name, srv->max_conns, fd_limit);
	}
	srv->conns = calloc((size_t)srv->max_conns, sizeof(*srv->conns));
	srv->runnable = calloc((size_t)srv->max_conns, sizeof(*srv->runnable));
	srv->runnable_next = calloc((size_t)srv->max_conns, sizeof(*srv->runnable_next));
	if (!srv->conns || !srv->runnable || !srv->runnable_next) {
		fprintf(stderr, "copylab %s: out of memory\n", name);
		return EXIT_RUN_FAILED;
	}
	srv->sig_fd = ev_signals();
	srv->ep = ev_epoll();
	if (srv->sig_fd < 0 || srv->ep < 0) {
		fprintf(stderr, "copylab %s: signalfd/epoll: %s\n", name, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	srv->listen_fd = ev_listen(&srv->listen_addr, srv->listen_len, 1024);
	if (srv->listen_fd < 0) {
		fprintf(stderr, "copylab %s: cannot listen on %s: %s\n", name, srv->listen_s,
			strerror(-srv->listen_fd));
		return EXIT_RUN_FAILED;
	}
	srv->hl = (struct ev_handle){ .kind = EV_LISTEN, .fd = srv->listen_fd };
	srv->hs = (struct ev_handle){ .kind = EV_SIGNAL, .fd = srv->sig_fd };
	if (ev_add(srv->ep, &srv->hl, EPOLLIN) || ev_add(srv->ep, &srv->hs, EPOLLIN)) {
		fprintf(stderr, "copylab %s: epoll_ctl: %s\n", name, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	srv->accepting = true;

	printf("listening on %s\n", ev_addr_str(srv->listen_fd, false, srv->addr, sizeof(srv->addr)));
	fflush(stdout);
	return 0;
}

void ev_server_announce(const struct ev_server *srv, const char *where)
{
	const struct tunables *tun = &srv->spec.tun;

	if (srv->quiet)
		return;
	fprintf(stderr, "copylab %s: %s, strategy %s, block %zu, pipe %zu asked, max %ld connections\n",
		srv->tool->name, where, srv->spec.label, srv->block,
		tun->set & TUN_PIPE_SIZE ? tun->pipe_size : 0, srv->max_conns);
}

void ev_server_close(struct ev_server *srv)
{
	for (long i = 0; i < srv->max_conns; i++)
		if (srv->conns[i])
			srv->tool->conn_close(srv, srv->conns[i]);
	bury_dead(srv);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	close(srv->ep);
	close(srv->sig_fd);
	free(srv->conns);
	free(srv->runnable);
	free(srv->runnable_next);
}
