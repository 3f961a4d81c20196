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
#include "server.h"
#include "strategies/drive.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>
#include <linux/openat2.h>
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
#define SERVE_HEAD_MAX		1024		/* our response heads */

enum { H_CONN, H_WAIT };

enum conn_state {
	CS_READ,	/* reading a request head */
	CS_SEND,	/* sending a response head and body */
	CS_LINGER,	/* answered and shut down: draining until the client closes */
};

struct conn {
	struct ev_conn ec;		/* first: the server frees it through this */
	struct ev_handle h;		/* the socket */
	struct ev_handle hw;		/* another descriptor the strategy waits on */
	uint32_t events;		/* epoll interest on the socket */
	enum conn_state state;

	char in[HTTP_MAX_HEAD];		/* request bytes not yet consumed */
	size_t in_len;
	int64_t since_ms;		/* start of the wait the timeout measures */

	/* the response */
	char head[SERVE_HEAD_MAX + 128];	/* head, and an error's small body */
	size_t head_len, head_sent;
	bool keep_alive;
	/*
	 * The body's transfer.  It stays begun between responses on a
	 * kept-alive connection, so a strategy with a rearm (io_uring's ring,
	 * msg_zerocopy's buffers) sets up once per connection, as the harness
	 * does once per transfer; body_live says whether a body is going.
	 */
	struct xfer x;
	bool body_live;
	uint32_t zc_next_seq;	/* the socket's, kept between responses (struct xfer) */
	int file_fd;
	uint64_t body_len;
	int status;
	char log_req[160];
};

struct server {
	struct ev_server srv;		/* own_timeout_ms: --header-timeout */
	int root_fd;
	char root_real[PATH_MAX];
	bool have_openat2;
};

static struct server *server_of(struct ev_server *srv)
{
	return ev_container_of(srv, struct server, srv);
}

_Static_assert(offsetof(struct conn, ec) == 0, "the server frees a connection through its ev_conn");

static struct conn *conn_of(struct ev_conn *ec)
{
	return ev_container_of(ec, struct conn, ec);
}

/* ---- connections ----------------------------------------------------------- */

static void conn_set_events(struct server *sv, struct conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	if (ev_mod(sv->srv.ep, &c->h, ev) == 0)
		c->events = ev;
}

static void conn_drop_wait(struct server *sv, struct conn *c)
{
	if (c->hw.fd >= 0) {
		ev_del(sv->srv.ep, c->hw.fd);
		c->hw.fd = -1;
	}
}

/*
 * The body is over.  keep: it ended whole, so the strategy's state may
 * serve the next response; otherwise (an error, the connection closing)
 * it is torn down.
 */
static void conn_end_body(struct server *sv, struct conn *c, bool keep)
{
	conn_drop_wait(sv, c);
	c->body_live = false;
	/* The socket keeps counting its zero-copy sends across responses. */
	c->zc_next_seq = c->x.zc_next_seq;
	if (c->x.begun && !(keep && sv->srv.spec.s->rearm))
		xfer_end(sv->srv.spec.s, &c->x);
	if (c->file_fd >= 0) {
		close(c->file_fd);
		c->file_fd = -1;
	}
}

static void conn_close(struct server *sv, struct conn *c)
{
	if (c->ec.dead)
		return;
	conn_end_body(sv, c, false);
	ev_del(sv->srv.ep, c->h.fd);
	close(c->h.fd);
	c->h.fd = -1;
	ev_conn_drop(&sv->srv, &c->ec);
}

static void log_response(struct server *sv, struct conn *c, uint64_t body_sent)
{
	if (sv->srv.quiet || !c->log_req[0])
		return;
	fprintf(stderr, "%s \"%s\" %d %" PRIu64 "\n", c->ec.peer, c->log_req, c->status, body_sent);
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
	size_t block = count < sv->srv.block ? (size_t)count : sv->srv.block;

	if (!x->begun) {
		xfer_init(x, SC_SERVE, EP_FILE, EP_SOCKET, block, &sv->srv.spec.tun);
		x->zc_next_seq = c->zc_next_seq;
		x->out_fd = c->h.fd;
		x->tun.nonblock = true;
	}
	x->in_fd = c->file_fd;
	x->total = count;
	x->in_offset = first;
	x->block = block;
	ret = xfer_next(sv->srv.spec.s, x);
	if (!x->begun)
		return ret;
	c->body_live = true;
	if (ret < 0 && !sv->srv.quiet)
		fprintf(stderr, "copylab serve: %s: setup failed in %s: %s\n", sv->srv.spec.s->name,
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
	c->keep_alive = rq->keep_alive && !rq->has_body && !sv->srv.stopping;

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
		conn_end_body(sv, c, false);
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
			if (ev_add(sv->srv.ep, &c->hw, ev_from_poll(w->events)) < 0) {
				c->hw.fd = -1;
				/* A regular file (epoll refuses it) is always ready: try again soon. */
				ev_conn_queue(&sv->srv, &c->ec);
			}
		} else {
			ev_mod(sv->srv.ep, &c->hw, ev_from_poll(w->events));
		}
	}
	if (!other)
		conn_drop_wait(sv, c);
	conn_set_events(sv, c, sock_ev);
}

static void response_done(struct server *sv, struct conn *c)
{
	log_response(sv, c, c->body_live ? c->x.moved : (c->head_len > 0 ? c->body_len : 0));
	conn_end_body(sv, c, true);
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
				 MSG_NOSIGNAL | (c->body_live ? MSG_MORE : 0));

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
	if (!c->body_live) {
		response_done(sv, c);
		return;
	}
	start = c->x.moved;
	for (;;) {
		ssize_t r = sv->srv.spec.s->move(&c->x);

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
		if (!sv->srv.quiet && r != -EPIPE && r != -ECONNRESET)
			fprintf(stderr, "copylab serve: %s: %s failed: %s (%s)\n", c->ec.peer,
				c->x.failed_call ? c->x.failed_call : "move", strerror((int)-r),
				sv->srv.spec.s->name);
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
	return c->body_live && ev_socket_error(c->h.fd) == 0;
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
			log_response(sv, c, c->body_live ? c->x.moved : 0);
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

/* ---- what the server asks of a connection ---------------------------------------- */

static int serve_conn_open(struct ev_server *srv, struct ev_conn *ec, int fd)
{
	struct conn *c = conn_of(ec);

	c->h = (struct ev_handle){ .kind = H_CONN, .fd = fd, .owner = ec };
	c->hw = (struct ev_handle){ .kind = H_WAIT, .fd = -1, .owner = ec };
	c->file_fd = -1;
	c->state = CS_READ;
	c->since_ms = ev_now_ms();
	return 0;
}

static void serve_conn_start(struct ev_server *srv, struct ev_conn *ec)
{
	struct conn *c = conn_of(ec);

	if (ev_add(srv->ep, &c->h, EPOLLIN) < 0) {
		conn_close(server_of(srv), c);
		return;
	}
	c->events = EPOLLIN;
}

static void serve_conn_event(struct ev_server *srv, struct ev_conn *ec, const struct ev_handle *h,
			     uint32_t events)
{
	/* The strategy's own descriptor is ready: the body can move on. */
	conn_event(server_of(srv), conn_of(ec), h->kind == H_WAIT ? EPOLLOUT : events);
}

static void serve_conn_step(struct ev_server *srv, struct ev_conn *ec)
{
	struct conn *c = conn_of(ec);

	if (c->state == CS_SEND)
		conn_send(server_of(srv), c);
}

/* Slow-loris and dead peers. */
static void serve_conn_sweep(struct ev_server *srv, struct ev_conn *ec, int64_t now)
{
	struct server *sv = server_of(srv);
	struct conn *c = conn_of(ec);

	switch (c->state) {
	case CS_READ:
		if (c->in_len == 0 && now - c->since_ms > srv->idle_timeout_ms) {
			conn_close(sv, c);
		} else if (c->in_len > 0 && now - c->since_ms > srv->own_timeout_ms) {
			/* Best effort: a 408 if the socket takes it, then close. */
			snprintf(c->log_req, sizeof(c->log_req), "(request head timeout)");
			respond_error(sv, c, 408, false, NULL, true);
			c->in_len = 0;
			conn_send(sv, c);
		}
		break;
	case CS_SEND:
		if (now - c->since_ms > srv->idle_timeout_ms) {
			log_response(sv, c, c->body_live ? c->x.moved : 0);
			conn_close(sv, c);
		}
		break;
	case CS_LINGER:
		if (now - c->since_ms > SERVE_LINGER_MS)
			conn_close(sv, c);
		break;
	}
}

static void serve_conn_stop(struct ev_server *srv, struct ev_conn *ec)
{
	struct conn *c = conn_of(ec);

	if (c->state == CS_READ && c->in_len == 0)
		conn_close(server_of(srv), c);
	else
		c->keep_alive = false;	/* finish this answer, then close */
}

static void serve_conn_close(struct ev_server *srv, struct ev_conn *ec)
{
	conn_close(server_of(srv), conn_of(ec));
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

static const struct ev_tool serve_tool = {
	.name = "serve",
	.scenario = SC_SERVE,
	.cannot = "serve files",
	.default_label = "sendfile",
	.target_opt = "root",
	.target_arg = "DIR",
	.own_timeout_opt = "header-timeout",
	/* nginx's sendfile_max_chunk: 2 MiB a call, then the next connection */
	.big_block = 2u << 20,
	.usage = serve_usage,
	.conn_size = sizeof(struct conn),
	.conn_open = serve_conn_open,
	.conn_start = serve_conn_start,
	.conn_event = serve_conn_event,
	.conn_step = serve_conn_step,
	.conn_sweep = serve_conn_sweep,
	.conn_stop = serve_conn_stop,
	.conn_close = serve_conn_close,
};

/* --root: the directory, and its real path for the check without openat2.  0 or the exit status. */
static int open_root(struct server *sv)
{
	const char *root = sv->srv.target_s;

	sv->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sv->root_fd < 0 || !realpath(root, sv->root_real))
		return usage_error("--root %s: %s", root, strerror(errno));
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct server sv = {
		.srv = { .tool = &serve_tool, .own_timeout_ms = 10000, .idle_timeout_ms = 60000 },
		.have_openat2 = true,
	};
	struct ev_server *srv = &sv.srv;
	char where[PATH_MAX + 128];
	int ret;

	if (!ev_server_configure(srv, argc, argv, &ret))
		return ret;
	ret = open_root(&sv);
	if (ret)
		return ret;
	/* Each connection may hold a socket, a file and a pipe pair. */
	ret = ev_server_listen(srv, 4);
	if (ret)
		return ret;
	snprintf(where, sizeof(where), "http://%s/ root %s", srv->addr, sv.root_real);
	ev_server_announce(srv, where);

	ret = ev_server_run(srv);

	ev_server_close(srv);
	close(sv.root_fd);
	if (!srv->quiet)
		fprintf(stderr, "copylab serve: stopped\n");
	return ret;
}
