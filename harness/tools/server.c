/* SPDX-License-Identifier: MIT */
/*
 * The running server of `copylab serve` and `copylab relay` (see server.h):
 * listening, accepting, the loop, the sweep, the stop.
 */
#include "server.h"
#include "harness/cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The kinds of the server's own handles; a tool's are 0 and up. */
enum { EV_LISTEN = -2, EV_SIGNAL = -1 };

/* ---- the log -------------------------------------------------------------------- */

void ev_log(struct ev_server *srv, const char *fmt, ...)
{
	FILE *out = srv->log ? srv->log : stderr;
	struct timespec ts;
	struct tm tm;
	char when[40];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "%s.%03ldZ ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

const char *ev_duration(char *buf, size_t len, int64_t ms)
{
	snprintf(buf, len, "%" PRId64 ".%03d s", ms / 1000, (int)(ms % 1000));
	return buf;
}

void ev_log_close(struct ev_server *srv)
{
	if (srv->log)
		fclose(srv->log);
	srv->log = NULL;
}

/* --log FILE appended to, line by line (O_APPEND: a rotated file's writer never overwrites). */
static FILE *log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

/* SIGHUP: logrotate moved the file away; write on in a new one at the same path. */
static void log_reopen(struct ev_server *srv)
{
	FILE *f;

	if (!srv->log_path)
		return;
	f = log_open(srv->log_path);
	if (!f) {
		ev_log(srv, "copylab %s: SIGHUP: cannot reopen --log %s: %s; writing on to the old file",
		       srv->tool->name, srv->log_path, strerror(errno));
		return;
	}
	fclose(srv->log);
	srv->log = f;
	ev_log(srv, "copylab %s: SIGHUP: log reopened", srv->tool->name);
}

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

/*
 * accept(2) failed for want of descriptors or memory: the backlog still
 * holds the client, and a level-triggered listener would wake the loop
 * for nothing until something frees.  Off until a connection closes or
 * EV_ACCEPT_RETRY_MS pass, whichever comes first; said once per pause.
 */
static void accept_backoff(struct ev_server *srv, int err)
{
	srv->accept_errors++;
	if (!srv->accepting)
		return;
	accept_pause(srv);
	srv->accept_retry_at = ev_now_ms() + EV_ACCEPT_RETRY_MS;
	ev_log(srv, "copylab %s: accept: %s (%ld connections open); not accepting for %d ms",
	       srv->tool->name, strerror(err), srv->live, EV_ACCEPT_RETRY_MS);
}

/* The retry timer of accept_backoff, checked on each turn of the loop. */
static void accept_retry(struct ev_server *srv, int64_t now)
{
	if (srv->accept_retry_at && now >= srv->accept_retry_at) {
		srv->accept_retry_at = 0;
		accept_resume(srv);
	}
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
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_backoff(srv, errno);
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
	srv->stop_deadline = ev_now_ms() + srv->grace_ms;
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

/*
 * A signal from the signalfd.  SIGHUP reopens the log; SIGINT, SIGTERM and
 * SIGQUIT stop gracefully (nginx's QUIT, HAProxy's soft stop), and a
 * second one stops now.  1 to go on, 0 to stop now.
 */
static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGQUIT: return "SIGQUIT";
	case SIGHUP: return "SIGHUP";
	}
	return "a signal";
}

static int on_signal(struct ev_server *srv)
{
	int sig = ev_signal_read(srv->sig_fd);
	char t[32];

	if (!sig)
		return 1;
	if (sig == SIGHUP) {
		log_reopen(srv);
		return 1;
	}
	if (srv->stopping) {
		ev_log(srv, "copylab %s: %s again: stopping now, %ld connections cut", srv->tool->name,
		       signal_name(sig), srv->live);
		return 0;
	}
	ev_log(srv, "copylab %s: %s: not accepting; %ld connections get up to %s to finish",
	       srv->tool->name, signal_name(sig), srv->live, ev_duration(t, sizeof(t), srv->grace_ms));
	begin_stop(srv);
	return 1;
}

/* The wait for epoll: none with connections queued, else until the next timer (at most 250 ms). */
static int wait_ms(const struct ev_server *srv)
{
	int64_t left;

	if (srv->nrunnable)
		return 0;
	if (!srv->accept_retry_at)
		return 250;
	left = srv->accept_retry_at - ev_now_ms();
	return left <= 0 ? 0 : left < 250 ? (int)left : 250;
}

/* One epoll batch.  1 to go on, 0 at a second signal (stop now), -1 when epoll fails. */
static int run_events(struct ev_server *srv)
{
	struct epoll_event evs[256];
	int n = epoll_wait(srv->ep, evs, 256, wait_ms(srv));

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
			if (!on_signal(srv))
				return 0;
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
	char t[32];

	while (!srv->stopping || (srv->live > 0 && ev_now_ms() < srv->stop_deadline)) {
		int r = run_events(srv);

		if (r <= 0)
			return r < 0 ? EXIT_RUN_FAILED : 0;
		step_runnable(srv);
		accept_retry(srv, ev_now_ms());
		if (ev_now_ms() - last_sweep >= 1000) {
			sweep_timeouts(srv);
			last_sweep = ev_now_ms();
		}
		bury_dead(srv);
	}
	if (srv->live > 0)
		ev_log(srv, "copylab %s: --grace %s over: %ld connections cut", srv->tool->name,
		       ev_duration(t, sizeof(t), srv->grace_ms), srv->live);
	return 0;
}

/* ---- starting and ending ------------------------------------------------------- */

int ev_server_listen(struct ev_server *srv, long per_conn)
{
	const char *name = srv->tool->name;
	long fd_limit = ev_raise_nofile();
	long fit = (fd_limit - 16) / per_conn;

	if (srv->log_path && !(srv->log = log_open(srv->log_path)))
		return usage_error("--log %s: %s (give a file in a directory that exists)", srv->log_path,
				   strerror(errno));
	if (srv->max_conns > fit) {
		srv->max_conns = fit > 1 ? fit : 1;
		ev_log(srv, "copylab %s: --max-conns lowered to %ld (descriptor limit %ld)", name,
		       srv->max_conns, fd_limit);
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
	srv->listen_fd = ev_listen(&srv->listen_addr, srv->listen_len, srv->backlog);
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

void ev_server_announce(struct ev_server *srv, const char *where)
{
	const struct tunables *tun = &srv->spec.tun;

	if (srv->quiet)
		return;
	ev_log(srv, "copylab %s: %s, strategy %s, block %zu, pipe %zu asked, max %ld connections, backlog %d",
	       srv->tool->name, where, srv->spec.label, srv->block,
	       tun->set & TUN_PIPE_SIZE ? tun->pipe_size : 0, srv->max_conns, srv->backlog);
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
