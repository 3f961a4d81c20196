/* SPDX-License-Identifier: MIT */
/*
 * `copylab serve`: a static HTTP/1.1 file server whose response bodies are
 * moved by a strategy module, the same code `copylab run serve` measures.
 * One epoll loop, level-triggered, non-blocking sockets: each connection
 * reads a request head, answers it (GET, HEAD, one byte range), and its
 * body moves in strategy steps with a budget per wake-up, so a fast client
 * never holds the loop and a slow one never blocks it.  Paths resolve
 * beneath --root (openat2 RESOLVE_BENEATH, else a realpath check).
 */
#include "harness/cli/cli.h"
#include "evloop.h"
#include "strategies/drive.h"
#include "http.h"
#include "harness/model/options.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SERVE_BUDGET		(4u << 20)	/* body bytes per connection per wake-up */
#define SERVE_LINGER_MS		2000		/* reading what a closed-on client still sends */
#define SERVE_GRACE_MS		10000		/* in-flight responses at a stop */
#define SERVE_HEAD_MAX		1024		/* our response heads */

enum { H_LISTEN, H_SIGNAL, H_CONN, H_WAIT };

enum conn_state {
	CS_READ,	/* reading a request head */
	CS_SEND,	/* sending a response head and body */
	CS_LINGER,	/* answered and shut down: draining until the client closes */
};

struct conn {
	struct ev_handle h;		/* the socket */
	struct ev_handle hw;		/* another descriptor the strategy waits on */
	uint32_t events;		/* epoll interest on the socket */
	enum conn_state state;
	size_t slot;
	bool dead;			/* closed; freed at the end of the loop's turn */
	bool in_ready;
	struct conn *next_dead;
	char peer[64];

	char in[HTTP_MAX_HEAD];		/* request bytes not yet consumed */
	size_t in_len;
	int64_t since_ms;		/* start of the wait the timeout measures */

	/* the response */
	char head[SERVE_HEAD_MAX + 128];	/* head, and an error's small body */
	size_t head_len, head_sent;
	bool keep_alive;
	struct xfer x;			/* the body; x.begun while one is in progress */
	uint32_t zc_next_seq;	/* the socket's, kept between responses (struct xfer) */
	int file_fd;
	uint64_t body_len;
	int status;
	char log_req[160];
};

struct server {
	const struct strategy *s;
	struct tunables tun;
	size_t block;
	int root_fd;
	char root_real[PATH_MAX];
	bool have_openat2;
	long max_conns;
	int64_t header_timeout_ms, idle_timeout_ms;
	bool quiet;

	int ep, listen_fd, sig_fd;
	struct ev_handle hl, hs;
	bool accepting;
	bool stopping;
	int64_t stop_deadline;
	struct conn **conns;
	long live;
	struct conn **ready, **ready_next;	/* waits epoll cannot watch (a regular file) */
	size_t nready;
	struct conn *graveyard;		/* closed this turn: events may still name them */
};

/* ---- connections ----------------------------------------------------------- */

static void conn_set_events(struct server *sv, struct conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	if (ev_mod(sv->ep, &c->h, ev) == 0)
		c->events = ev;
}

static void conn_drop_wait(struct server *sv, struct conn *c)
{
	if (c->hw.fd >= 0) {
		ev_del(sv->ep, c->hw.fd);
		c->hw.fd = -1;
	}
}

static void conn_end_body(struct server *sv, struct conn *c)
{
	conn_drop_wait(sv, c);
	if (c->x.begun) {
		xfer_end(sv->s, &c->x);
		/* The socket keeps counting its zero-copy sends across responses. */
		c->zc_next_seq = c->x.zc_next_seq;
	}
	if (c->file_fd >= 0) {
		close(c->file_fd);
		c->file_fd = -1;
	}
}

static void accept_resume(struct server *sv);

static void conn_close(struct server *sv, struct conn *c)
{
	if (c->dead)
		return;
	if (c->in_ready)
		for (size_t i = 0; i < sv->nready; i++)
			if (sv->ready[i] == c) {
				sv->ready[i] = sv->ready[--sv->nready];
				break;
			}
	conn_end_body(sv, c);
	ev_del(sv->ep, c->h.fd);
	close(c->h.fd);
	c->h.fd = -1;
	c->dead = true;
	sv->conns[c->slot] = NULL;
	sv->live--;
	/* Freed after this turn of the loop: its events may still be in the batch. */
	c->next_dead = sv->graveyard;
	sv->graveyard = c;
	accept_resume(sv);
}

static void bury_dead(struct server *sv)
{
	while (sv->graveyard) {
		struct conn *c = sv->graveyard;

		sv->graveyard = c->next_dead;
		free(c);
	}
}

static void log_response(struct server *sv, struct conn *c, uint64_t body_sent)
{
	if (sv->quiet || !c->log_req[0])
		return;
	fprintf(stderr, "%s \"%s\" %d %" PRIu64 "\n", c->peer, c->log_req, c->status, body_sent);
}

/* After the last byte of an answer that closes: half-close, then drain. */
static void conn_linger(struct server *sv, struct conn *c)
{
	shutdown(c->h.fd, SHUT_WR);
	c->state = CS_LINGER;
	c->since_ms = ev_now_ms();
	conn_set_events(sv, c, EPOLLIN);
}

/* ---- responses --------------------------------------------------------------- */

static const char *http_date(char *buf, size_t len, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return buf;
}

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
		{ "js", "text/javascript" }, { "json", "application/json" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "pdf", "application/pdf" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* Appends to the response head; false when it would not fit. */
static bool head_add(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool head_add(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->head + c->head_len, sizeof(c->head) - c->head_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(c->head) - c->head_len)
		return false;
	c->head_len += (size_t)n;
	return true;
}

static void head_start(struct server *sv, struct conn *c, int status)
{
	char date[64];

	c->status = status;
	c->head_len = c->head_sent = 0;
	head_add(c, "HTTP/1.1 %d %s\r\nServer: copylab\r\nDate: %s\r\n", status,
		 http_reason(status), http_date(date, sizeof(date), time(NULL)));
	(void)sv;
}

static void head_end(struct conn *c)
{
	head_add(c, "Connection: %s\r\n\r\n", c->keep_alive ? "keep-alive" : "close");
}

/*
 * An error answer with a one-line text body (none for HEAD).  `extra` is
 * one more header line or NULL.  close: the connection ends after it.
 */
static void respond_error(struct server *sv, struct conn *c, int status, bool head_only,
			  const char *extra, bool close_after)
{
	char body[96];
	int blen = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));

	if (close_after)
		c->keep_alive = false;
	head_start(sv, c, status);
	head_add(c, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n", blen);
	if (extra)
		head_add(c, "%s\r\n", extra);
	head_end(c);
	if (!head_only)
		head_add(c, "%s", body);
	c->body_len = 0;
	c->state = CS_SEND;
}

/* ---- resolving a path beneath the root ---------------------------------------- */

static long sys_openat2(int dirfd, const char *path, struct open_how *how)
{
#ifdef SYS_openat2
	return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
#else
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Opens rel (no leading '/'; "." for the root) for reading, never outside
 * the root: symlinks may be followed only while they stay beneath it.
 * fd, or -status (403, 404).
 */
static int open_beneath(struct server *sv, int dirfd, const char *rel)
{
	int fd, err;

	if (sv->have_openat2) {
		struct open_how how = {
			/* O_NONBLOCK: a FIFO must not hang the loop in open() */
			.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)sys_openat2(dirfd, rel, &how);
		if (fd >= 0)
			return fd;
		err = errno;
		if (err != ENOSYS)
			return err == ENOENT || err == ENOTDIR ? -404 : -403;
		sv->have_openat2 = false;
	}

	/* No openat2: resolve the whole path and check it is still under the root. */
	char dirpath[PATH_MAX], full[PATH_MAX * 2], real[PATH_MAX];
	char proc[64];
	ssize_t dl;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	dl = readlink(proc, dirpath, sizeof(dirpath) - 1);
	if (dl < 0)
		return -403;
	dirpath[dl] = '\0';
	snprintf(full, sizeof(full), "%s/%s", dirpath, rel);
	if (!realpath(full, real))
		return errno == ENOENT || errno == ENOTDIR ? -404 : -403;
	size_t rl = strlen(sv->root_real);
	if (strncmp(real, sv->root_real, rl) != 0 || (real[rl] != '/' && real[rl] != '\0'))
		return -403;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -404 : -403;
	return fd;
}

/*
 * The file a path names: a regular file, or a directory's index.html.
 * fd with *st filled, or -status.
 */
static int open_target(struct server *sv, const char *path, struct stat *st)
{
	const char *rel = path;
	int fd, idx;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	fd = open_beneath(sv, sv->root_fd, rel);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0) {
		close(fd);
		return -403;
	}
	if (S_ISDIR(st->st_mode)) {
		idx = open_beneath(sv, fd, "index.html");
		close(fd);
		if (idx < 0)
			return idx == -404 ? -403 : idx;	/* no listing of directories */
		fd = idx;
		if (fstat(fd, st) < 0) {
			close(fd);
			return -403;
		}
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -403;
	}
	/* O_NONBLOCK was for the open only; a regular file's reads ignore it, but be plain. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* ---- a request ----------------------------------------------------------------- */

static int start_body(struct server *sv, struct conn *c, uint64_t first, uint64_t count)
{
	struct xfer *x = &c->x;
	int ret;

	/* No call needs more than the body: a small file gets a small buffer. */
	xfer_init(x, SC_SERVE, EP_FILE, EP_SOCKET, count < sv->block ? (size_t)count : sv->block, &sv->tun);
	x->zc_next_seq = c->zc_next_seq;
	x->in_fd = c->file_fd;
	x->out_fd = c->h.fd;
	x->total = count;
	x->in_offset = first;
	x->tun.nonblock = true;
	ret = xfer_begin(sv->s, x);
	if (!x->begun)
		return ret;
	if (ret < 0 && !sv->quiet)
		fprintf(stderr, "copylab serve: %s: setup failed in %s: %s\n", sv->s->name,
			x->failed_call ? x->failed_call : "?", strerror(-ret));
	return ret;
}

static void handle_request(struct server *sv, struct conn *c, const struct http_request *rq)
{
	bool head_only = rq->method == HTTP_HEAD;
	uint64_t first = 0, count;
	struct stat st;
	char extra[96], date[64];
	int fd, r;

	snprintf(c->log_req, sizeof(c->log_req), "%s %.120s HTTP/1.%d", rq->method_name, rq->path,
		 rq->version_minor);
	c->keep_alive = rq->keep_alive && !rq->has_body && !sv->stopping;

	if (rq->method == HTTP_OTHER) {
		respond_error(sv, c, 405, false, "Allow: GET, HEAD", false);
		return;
	}
	if (http_path_climbs(rq->path)) {
		respond_error(sv, c, 403, head_only, NULL, false);
		return;
	}
	fd = open_target(sv, rq->path, &st);
	if (fd < 0) {
		respond_error(sv, c, -fd, head_only, NULL, false);
		return;
	}
	r = http_resolve_range(rq, (uint64_t)st.st_size, &first, &count);
	if (r < 0) {
		close(fd);
		snprintf(extra, sizeof(extra), "Content-Range: bytes */%" PRIu64, (uint64_t)st.st_size);
		respond_error(sv, c, 416, head_only, extra, false);
		return;
	}
	if (r == 0) {
		first = 0;
		count = (uint64_t)st.st_size;
	}

	head_start(sv, c, r ? 206 : 200);
	head_add(c, "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n"
		    "Last-Modified: %s\r\nAccept-Ranges: bytes\r\n",
		 content_type(rq->path), count, http_date(date, sizeof(date), st.st_mtime));
	if (r)
		head_add(c, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n", first,
			 first + count - 1, (uint64_t)st.st_size);
	head_end(c);
	c->state = CS_SEND;
	c->body_len = 0;
	if (head_only || count == 0) {
		close(fd);
		return;
	}
	c->file_fd = fd;
	c->body_len = count;
	if (start_body(sv, c, first, count) < 0) {
		conn_end_body(sv, c);
		respond_error(sv, c, 500, head_only, NULL, true);
	}
}

/* ---- driving a connection ------------------------------------------------------ */

static void conn_send(struct server *sv, struct conn *c);
static void conn_read(struct server *sv, struct conn *c);

/* Wait for what the strategy named; a descriptor epoll cannot watch is "ready". */
static void wait_for_strategy(struct server *sv, struct conn *c)
{
	uint32_t sock_ev = 0;
	bool other = false;

	for (int i = 0; i < 2; i++) {
		const struct wait_on *w = &c->x.wait[i];

		if (w->fd < 0)
			continue;
		if (w->fd == c->h.fd) {
			sock_ev |= ev_from_poll(w->events);
			continue;
		}
		other = true;
		if (c->hw.fd != w->fd) {
			conn_drop_wait(sv, c);
			c->hw.fd = w->fd;
			if (ev_add(sv->ep, &c->hw, ev_from_poll(w->events)) < 0) {
				c->hw.fd = -1;
				/* A regular file (epoll refuses it) is always ready: try again soon. */
				if (!c->in_ready) {
					c->in_ready = true;
					sv->ready[sv->nready++] = c;
				}
			}
		} else {
			ev_mod(sv->ep, &c->hw, ev_from_poll(w->events));
		}
	}
	if (!other)
		conn_drop_wait(sv, c);
	conn_set_events(sv, c, sock_ev);
}

static void response_done(struct server *sv, struct conn *c)
{
	log_response(sv, c, c->x.begun ? c->x.moved : (c->head_len > 0 ? c->body_len : 0));
	conn_end_body(sv, c);
	c->log_req[0] = '\0';
	if (!c->keep_alive) {
		conn_linger(sv, c);
		return;
	}
	c->state = CS_READ;
	c->since_ms = ev_now_ms();
	conn_set_events(sv, c, EPOLLIN);
	/* A pipelined request may be waiting in the buffer already. */
	if (c->in_len > 0)
		conn_read(sv, c);
}

static void conn_send(struct server *sv, struct conn *c)
{
	uint64_t start;

	while (c->head_sent < c->head_len) {
		/* MSG_MORE: the head leaves with the body's first bytes. */
		ssize_t n = send(c->h.fd, c->head + c->head_sent, c->head_len - c->head_sent,
				 MSG_NOSIGNAL | (c->x.begun ? MSG_MORE : 0));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_set_events(sv, c, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			conn_close(sv, c);
			return;
		}
		c->head_sent += (size_t)n;
		c->since_ms = ev_now_ms();
	}
	if (!c->x.begun) {
		response_done(sv, c);
		return;
	}
	start = c->x.moved;
	for (;;) {
		ssize_t r = sv->s->move(&c->x);

		if (r > 0) {
			c->since_ms = ev_now_ms();
			if (c->x.moved - start >= SERVE_BUDGET) {
				/* Enough for this wake-up: the others get their turn. */
				conn_drop_wait(sv, c);
				conn_set_events(sv, c, EPOLLOUT);
				return;
			}
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN) {
			wait_for_strategy(sv, c);
			return;
		}
		if (r == 0) {
			response_done(sv, c);
			return;
		}
		/* Mid-body there is no way to tell the client but to close. */
		if (!sv->quiet && r != -EPIPE && r != -ECONNRESET)
			fprintf(stderr, "copylab serve: %s: %s failed: %s (%s)\n", c->peer,
				c->x.failed_call ? c->x.failed_call : "move", strerror((int)-r),
				sv->s->name);
		log_response(sv, c, c->x.moved);
		conn_close(sv, c);
		return;
	}
}

/* Parse what is buffered; read more when a head is incomplete. */
static void conn_read(struct server *sv, struct conn *c)
{
	struct http_request *rq;
	int r;

	for (;;) {
		if (c->in_len > 0) {
			rq = malloc(sizeof(*rq));
			if (!rq) {
				conn_close(sv, c);
				return;
			}
			r = http_parse_request(c->in, c->in_len, rq);
			if (r > 0) {
				size_t used = (size_t)r;

				handle_request(sv, c, rq);
				free(rq);
				memmove(c->in, c->in + used, c->in_len - used);
				c->in_len -= used;
				c->since_ms = ev_now_ms();
				conn_send(sv, c);
				return;
			}
			free(rq);
			if (r < 0) {
				snprintf(c->log_req, sizeof(c->log_req), "(bad request)");
				respond_error(sv, c, -r, false, NULL, true);
				c->in_len = 0;
				conn_send(sv, c);
				return;
			}
		}
		ssize_t n = recv(c->h.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(sv, c);
			return;
		}
		/* The head timeout runs from a request's first byte. */
		if (c->in_len == 0)
			c->since_ms = ev_now_ms();
		c->in_len += (size_t)n;
	}
}

static void conn_linger_read(struct server *sv, struct conn *c)
{
	char sink[4096];

	for (;;) {
		ssize_t n = recv(c->h.fd, sink, sizeof(sink), 0);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(sv, c);
		return;
	}
}

/*
 * A zero-copy send strategy (msg_zerocopy) gets its completions on the
 * error queue, so an EPOLLERR with no socket error is its wake-up, and its
 * move() reads the queue; a real error (a reset) ends the connection.
 */
static bool errqueue_only(struct conn *c)
{
	return c->x.begun && ev_socket_error(c->h.fd) == 0;
}

static void conn_event(struct server *sv, struct conn *c, uint32_t ev)
{
	switch (c->state) {
	case CS_READ:
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(sv, c);
		break;
	case CS_SEND:
		if ((ev & EPOLLERR) && !(ev & EPOLLOUT) && !errqueue_only(c)) {
			log_response(sv, c, c->x.begun ? c->x.moved : 0);
			conn_close(sv, c);
			break;
		}
		conn_send(sv, c);
		break;
	case CS_LINGER:
		conn_linger_read(sv, c);
		break;
	}
}

/* ---- accepting, timeouts, stopping ------------------------------------------- */

static void accept_pause(struct server *sv)
{
	if (sv->accepting && sv->listen_fd >= 0 && ev_mod(sv->ep, &sv->hl, 0) == 0)
		sv->accepting = false;
}

static void accept_resume(struct server *sv)
{
	if (!sv->accepting && !sv->stopping && sv->listen_fd >= 0 && sv->live < sv->max_conns &&
	    ev_mod(sv->ep, &sv->hl, EPOLLIN) == 0)
		sv->accepting = true;
}

static void accept_new(struct server *sv)
{
	int one = 1;

	while (sv->live < sv->max_conns) {
		int fd = accept4(sv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		size_t slot;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE/ENFILE: stop accepting until a connection closes. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(sv);
			return;
		}
		c = calloc(1, sizeof(*c));
		for (slot = 0; c && slot < (size_t)sv->max_conns && sv->conns[slot]; slot++)
			;
		if (!c || slot == (size_t)sv->max_conns) {
			free(c);
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->h = (struct ev_handle){ .kind = H_CONN, .fd = fd, .owner = c };
		c->hw = (struct ev_handle){ .kind = H_WAIT, .fd = -1, .owner = c };
		c->file_fd = -1;
		c->slot = slot;
		c->state = CS_READ;
		c->since_ms = ev_now_ms();
		ev_addr_str(fd, true, c->peer, sizeof(c->peer));
		if (ev_add(sv->ep, &c->h, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->events = EPOLLIN;
		sv->conns[slot] = c;
		sv->live++;
	}
	accept_pause(sv);
}

/* Slow-loris and dead peers: the timeouts, checked about once a second. */
static void sweep_timeouts(struct server *sv)
{
	int64_t now = ev_now_ms();

	for (long i = 0; i < sv->max_conns; i++) {
		struct conn *c = sv->conns[i];

		if (!c)
			continue;
		switch (c->state) {
		case CS_READ:
			if (c->in_len == 0 && now - c->since_ms > sv->idle_timeout_ms) {
				conn_close(sv, c);
			} else if (c->in_len > 0 && now - c->since_ms > sv->header_timeout_ms) {
				/* Best effort: a 408 if the socket takes it, then close. */
				snprintf(c->log_req, sizeof(c->log_req), "(request head timeout)");
				respond_error(sv, c, 408, false, NULL, true);
				c->in_len = 0;
				conn_send(sv, c);
			}
			break;
		case CS_SEND:
			if (now - c->since_ms > sv->idle_timeout_ms) {
				log_response(sv, c, c->x.begun ? c->x.moved : 0);
				conn_close(sv, c);
			}
			break;
		case CS_LINGER:
			if (now - c->since_ms > SERVE_LINGER_MS)
				conn_close(sv, c);
			break;
		}
	}
}

static void begin_stop(struct server *sv)
{
	sv->stopping = true;
	sv->stop_deadline = ev_now_ms() + SERVE_GRACE_MS;
	if (sv->listen_fd >= 0) {
		ev_del(sv->ep, sv->listen_fd);
		close(sv->listen_fd);
		sv->listen_fd = -1;
	}
	for (long i = 0; i < sv->max_conns; i++) {
		struct conn *c = sv->conns[i];

		if (!c)
			continue;
		if (c->state == CS_READ && c->in_len == 0)
			conn_close(sv, c);
		else
			c->keep_alive = false;	/* finish this answer, then close */
	}
}

static void run_ready(struct server *sv)
{
	struct conn **list = sv->ready;
	size_t k = sv->nready;

	/* Swap lists: what these sends add again waits for the next turn. */
	sv->ready = sv->ready_next;
	sv->ready_next = list;
	sv->nready = 0;
	for (size_t i = 0; i < k; i++) {
		list[i]->in_ready = false;
		if (!list[i]->dead && list[i]->state == CS_SEND)
			conn_send(sv, list[i]);
	}
}

static int serve_loop(struct server *sv)
{
	struct epoll_event evs[256];
	int64_t last_sweep = ev_now_ms();

	while (!sv->stopping || (sv->live > 0 && ev_now_ms() < sv->stop_deadline)) {
		int n = epoll_wait(sv->ep, evs, 256, sv->nready ? 0 : 250);

		if (n < 0 && errno != EINTR) {
			perror("copylab serve: epoll_wait");
			return EXIT_RUN_FAILED;
		}
		for (int i = 0; i < n; i++) {
			struct ev_handle *h = evs[i].data.ptr;
			struct conn *c;

			switch (h->kind) {
			case H_LISTEN:
				accept_new(sv);
				break;
			case H_SIGNAL:
				if (ev_signal_read(sv->sig_fd)) {
					if (sv->stopping)
						return 0;	/* a second signal: stop now */
					begin_stop(sv);
				}
				break;
			default:
				c = h->owner;
				if (!c->dead)
					conn_event(sv, c, h->kind == H_WAIT ? EPOLLOUT : evs[i].events);
				break;
			}
		}
		if (sv->nready)
			run_ready(sv);
		if (ev_now_ms() - last_sweep >= 1000) {
			sweep_timeouts(sv);
			last_sweep = ev_now_ms();
		}
		bury_dead(sv);
	}
	return 0;
}

/* ---- the command ------------------------------------------------------------------ */

static void serve_usage(FILE *out)
{
	fprintf(out,
"usage: copylab serve --listen ADDR:PORT --root DIR [--strategy NAME] [OPTIONS]\n"
"\n"
"A static HTTP/1.1 file server whose response bodies are moved by a copylab\n"
"strategy (any that supports the serve scenario: copylab list).  GET and HEAD,\n"
"keep-alive, one byte range per request (206), errors 400 403 404 405 408 414\n"
"416 431 505.  Paths never leave DIR (openat2 RESOLVE_BENEATH; symlinks that\n"
"point out are refused).  Binds to exactly ADDR; port 0 picks a free port.\n"
"Prints \"listening on ADDR:PORT\" on stdout when ready; SIGINT/SIGTERM stop\n"
"accepting, finish the answers in flight (up to 10 s) and exit 0.\n"
"\n"
"  --listen ADDR:PORT     where to listen (e.g. 127.0.0.1:8080)\n"
"  --root DIR             the directory served\n"
"  --strategy LABEL       strategy with options (sendfile, splice:pipe=1M, ...);\n"
"                         default sendfile\n"
"  --block N              bytes per strategy call; default 64K, and 2M for a\n"
"                         strategy with no user buffer (sendfile, splice,\n"
"                         which also asks for 1 MiB pipes)\n"
"  --max-conns N          connections at once (more wait in the backlog);\n"
"                         default 1024, at most the descriptor limit allows\n"
"  --header-timeout S     seconds to receive a whole request head; default 10\n"
"  --idle-timeout S       seconds a kept-alive connection may idle, or a\n"
"                         response may make no progress; default 60\n"
"  --quiet                no access log (one line per request on stderr)\n");
}

enum { OPT_LISTEN = 256, OPT_ROOT, OPT_STRATEGY, OPT_BLOCK, OPT_MAXC, OPT_HTO, OPT_ITO, OPT_QUIET };

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "max-conns", required_argument, NULL, OPT_MAXC },
		{ "header-timeout", required_argument, NULL, OPT_HTO },
		{ "idle-timeout", required_argument, NULL, OPT_ITO },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_s = NULL, *root = NULL, *label = "sendfile";
	struct server sv = { .block = 64 * 1024, .max_conns = 1024, .header_timeout_ms = 10000,
			     .idle_timeout_ms = 60000, .have_openat2 = true, .listen_fd = -1 };
	struct strategy_spec spec;
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[512], addr[80];
	struct refusal why;
	uint64_t block;
	bool block_set = false;
	long n, fd_limit;
	double secs;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN: listen_s = optarg; break;
		case OPT_ROOT: root = optarg; break;
		case OPT_STRATEGY: label = optarg; break;
		case OPT_QUIET: sv.quiet = true; break;
		case OPT_BLOCK:
			if (parse_size("--block", optarg, 1ull << 30, &block, err, sizeof(err)))
				return usage_error("%s", err);
			if (block == 0)
				return usage_error("--block must be at least 1 byte");
			sv.block = (size_t)block;
			block_set = true;
			break;
		case OPT_MAXC:
			if (parse_count("--max-conns", optarg, 1, 1000000, &n, err, sizeof(err)))
				return usage_error("%s", err);
			sv.max_conns = n;
			break;
		case OPT_HTO:
		case OPT_ITO:
			if (parse_seconds(opt == OPT_HTO ? "--header-timeout" : "--idle-timeout",
					  optarg, &secs, err, sizeof(err)))
				return usage_error("%s", err);
			if (secs <= 0)
				return usage_error("%s must be more than 0 seconds",
						   opt == OPT_HTO ? "--header-timeout" : "--idle-timeout");
			*(opt == OPT_HTO ? &sv.header_timeout_ms : &sv.idle_timeout_ms) =
				(int64_t)(secs * 1000);
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			serve_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("serve: unexpected argument '%s' (see copylab serve --help)", argv[optind]);
	if (!listen_s || !root)
		return usage_error("serve needs --listen ADDR:PORT and --root DIR (see copylab serve --help)");
	if (parse_strategy_spec(label, &spec, err, sizeof(err)))
		return usage_error("%s", err);
	/*
	 * Whatever else a strategy waits on (an io_uring ring, the socket's
	 * error queue) is a descriptor epoll watches beside the connection
	 * (H_WAIT, errqueue_only): only a strategy that runs no process at all
	 * has nothing to serve with.
	 */
	why = strategy_refusal(spec.s, &EV_PLACE(SC_SERVE));
	if (why.kind != REFUSE_NONE)
		return usage_error("%s cannot serve files%s: %s", spec.s->name,
				   why.kind == REFUSE_PROCESS ? " with this tool" : "", why.why);
	sv.s = spec.s;
	sv.tun = spec.tun;
	/* nginx's sendfile_max_chunk: 2 MiB a call, then the next connection */
	ev_call_sizes(sv.s, &sv.tun, &sv.block, block_set, 2u << 20);
	if (ev_parse_addr(listen_s, &ss, &sl, err, sizeof(err)))
		return usage_error("--listen %s", err);

	sv.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sv.root_fd < 0 || !realpath(root, sv.root_real))
		return usage_error("--root %s: %s", root, strerror(errno));

	/* Each connection may hold a socket, a file and a pipe pair. */
	fd_limit = ev_raise_nofile();
	if (sv.max_conns > (fd_limit - 16) / 4) {
		sv.max_conns = (fd_limit - 16) / 4 > 1 ? (fd_limit - 16) / 4 : 1;
		fprintf(stderr, "copylab serve: --max-conns lowered to %ld (descriptor limit %ld)\n",
			sv.max_conns, fd_limit);
	}
	sv.conns = calloc((size_t)sv.max_conns, sizeof(*sv.conns));
	sv.ready = calloc((size_t)sv.max_conns, sizeof(*sv.ready));
	sv.ready_next = calloc((size_t)sv.max_conns, sizeof(*sv.ready_next));
	if (!sv.conns || !sv.ready || !sv.ready_next) {
		fprintf(stderr, "copylab serve: out of memory\n");
		return EXIT_RUN_FAILED;
	}

	sv.sig_fd = ev_signals();
	sv.ep = ev_epoll();
	sv.listen_fd = ev_listen(&ss, sl, 1024);
	if (sv.sig_fd < 0 || sv.ep < 0) {
		perror("copylab serve: signalfd/epoll");
		return EXIT_RUN_FAILED;
	}
	if (sv.listen_fd < 0) {
		fprintf(stderr, "copylab serve: cannot listen on %s: %s\n", listen_s,
			strerror(-sv.listen_fd));
		return EXIT_RUN_FAILED;
	}
	sv.hl = (struct ev_handle){ .kind = H_LISTEN, .fd = sv.listen_fd };
	sv.hs = (struct ev_handle){ .kind = H_SIGNAL, .fd = sv.sig_fd };
	if (ev_add(sv.ep, &sv.hl, EPOLLIN) || ev_add(sv.ep, &sv.hs, EPOLLIN)) {
		perror("copylab serve: epoll_ctl");
		return EXIT_RUN_FAILED;
	}
	sv.accepting = true;

	printf("listening on %s\n", ev_addr_str(sv.listen_fd, false, addr, sizeof(addr)));
	fflush(stdout);
	if (!sv.quiet)
		fprintf(stderr, "copylab serve: http://%s/ root %s, strategy %s, block %zu, pipe %zu asked, max %ld connections\n",
			addr, sv.root_real, spec.label, sv.block,
			sv.tun.set & TUN_PIPE_SIZE ? sv.tun.pipe_size : 0, sv.max_conns);

	ret = serve_loop(&sv);

	for (long i = 0; i < sv.max_conns; i++)
		if (sv.conns[i])
			conn_close(&sv, sv.conns[i]);
	bury_dead(&sv);
	if (sv.listen_fd >= 0)
		close(sv.listen_fd);
	close(sv.ep);
	close(sv.sig_fd);
	close(sv.root_fd);
	free(sv.conns);
	free(sv.ready);
	free(sv.ready_next);
	if (!sv.quiet)
		fprintf(stderr, "copylab serve: stopped\n");
	return ret;
}
