/* SPDX-License-Identifier: MIT */
/*
 * `copylab serve`: a static HTTP/1.1 file server whose response bodies are
 * moved by a strategy module, the same code `copylab run serve` measures.
 * One epoll loop, level-triggered, non-blocking sockets: each connection
 * reads a request head, answers it (GET, HEAD, one byte range), and its
 * body moves in strategy steps with a budget per wake-up, so a fast client
 * never holds the loop and a slow one never blocks it; pipelined requests
 * are answered one per turn of the loop.  Paths resolve beneath --root
 * (openat2 RESOLVE_BENEATH, else a walk of openat(O_NOFOLLOW) that does
 * the same).  docs/threat-model.md says what it trusts and refuses.
 */
#include "harness/cli/cli.h"
#include "server.h"
#include "strategies/drive.h"
#include "http.h"
#include "serve_path.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SERVE_BUDGET		(4u << 20)	/* body bytes per connection per wake-up */
#define SERVE_LINGER_MS		2000		/* reading what a closed-on client still sends */
#define SERVE_LINGER_TURN	(64u << 10)	/* drained per wake-up, then the others' turn */
#define SERVE_LINGER_MAX	(1u << 20)	/* drained in all before the connection is cut */
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
	long requests;			/* heads parsed on this connection */
	uint64_t lingered;		/* bytes drained after the last answer */

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
	int64_t started_ms;		/* when the request's head was complete */
	char log_req[160];		/* the request line; empty when no answer is under way */
};

/* What the summary on exit counts. */
struct serve_stats {
	uint64_t responses, by_class[6];	/* by_class[3]: 3xx */
	uint64_t body_bytes;
	uint64_t cut;				/* answers ended before their last byte */
	uint64_t silent;			/* closed by --header-timeout before a byte came */
	uint64_t head_timeouts;			/* 408: a head begun, not finished in time */
	uint64_t idle_closed;			/* kept alive, then idle past --idle-timeout */
	uint64_t capped;			/* closed at --max-requests */
};

struct server {
	struct ev_server srv;		/* own_timeout_ms: --header-timeout */
	struct serve_root root;		/* --root, and how paths resolve beneath it */
	char root_real[PATH_MAX];	/* for the start-up line */
	struct serve_stats stats;
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

static void log_response(struct server *sv, struct conn *c, const char *cut);

/* why: what ended an answer under way (it is logged as cut), or NULL. */
static void conn_close(struct server *sv, struct conn *c, const char *why)
{
	if (c->ec.dead)
		return;
	if (c->log_req[0])
		log_response(sv, c, why ? why : "closed");
	conn_end_body(sv, c, false);
	ev_del(sv->srv.ep, c->h.fd);
	close(c->h.fd);
	c->h.fd = -1;
	ev_conn_drop(&sv->srv, &c->ec);
}

/* The body bytes that left so far (head_len 0: no answer begun). */
static uint64_t body_sent(const struct conn *c)
{
	if (c->body_live)
		return c->x.moved;
	return c->head_len > 0 && c->head_sent == c->head_len ? c->body_len : 0;
}

/*
 * The access log's line of an answer, whole or cut (cut: why it ended
 * early): when, who, the request, the status, the body bytes sent of
 * those promised, how long it took, the strategy.  Counted for the
 * summary even with --quiet.  Clears log_req: one line per answer.
 */
static void log_response(struct server *sv, struct conn *c, const char *cut)
{
	struct serve_stats *st = &sv->stats;
	uint64_t sent = body_sent(c);
	char took[32];

	if (!c->log_req[0])
		return;
	st->responses++;
	st->by_class[c->status / 100 < 6 ? c->status / 100 : 0]++;
	st->body_bytes += sent;
	st->cut += cut != NULL;
	if (!sv->srv.quiet)
		ev_log(&sv->srv, "%s \"%s\" %d %" PRIu64 " of %" PRIu64 " bytes, %s, %s%s%s", c->ec.peer,
		       c->log_req, c->status, sent, c->body_len,
		       ev_duration(took, sizeof(took), ev_now_ms() - c->started_ms),
		       sv->srv.spec.label, cut ? ", cut: " : "", cut ? cut : "");
	c->log_req[0] = '\0';
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
	c->started_ms = ev_now_ms();
	/*
	 * A body is never read: what follows the head is not a request, so
	 * the connection ends after this answer.  At --max-requests it ends
	 * too, so that one client cannot keep a connection for ever.
	 */
	c->keep_alive = rq->keep_alive && !rq->has_body && !sv->srv.stopping;
	if (++c->requests >= sv->srv.max_requests && c->keep_alive) {
		c->keep_alive = false;
		sv->stats.capped++;
	}

	if (rq->method == HTTP_OTHER) {
		respond_error(sv, c, 405, false, "Allow: GET, HEAD", false);
		return;
	}
	if (http_path_climbs(rq->path)) {
		respond_error(sv, c, 403, head_only, NULL, false);
		return;
	}
	fd = serve_open_target(&sv->root, rq->path, &st);
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
	log_response(sv, c, NULL);
	conn_end_body(sv, c, true);
	if (!c->keep_alive) {
		conn_linger(sv, c);
		return;
	}
	c->state = CS_READ;
	c->since_ms = ev_now_ms();
	conn_set_events(sv, c, EPOLLIN);
	/*
	 * A pipelined request may be waiting in the buffer already: it is
	 * answered on the loop's next turn, after the other connections had
	 * theirs, so that a client pipelining without end gets one answer a
	 * turn and never holds the loop (nor grows the stack).
	 */
	if (c->in_len > 0)
		ev_conn_queue(&sv->srv, &c->ec);
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
			conn_close(sv, c, "send failed");
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
		if (r != -EPIPE && r != -ECONNRESET)
			ev_log(&sv->srv, "copylab serve: %s: %s failed: %s (%s)", c->ec.peer,
			       c->x.failed_call ? c->x.failed_call : "move", strerror((int)-r),
			       sv->srv.spec.s->name);
		conn_close(sv, c, r == -EPIPE || r == -ECONNRESET ? "the client went" : "move failed");
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
				conn_close(sv, c, "out of memory");
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
				c->started_ms = ev_now_ms();
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
			conn_close(sv, c, NULL);
			return;
		}
		/*
		 * The head timeout runs from accept for the first request (a
		 * client that connects and waits is held no longer than one
		 * that trickles), and from the first byte for the next ones.
		 */
		if (c->in_len == 0 && c->requests > 0)
			c->since_ms = ev_now_ms();
		c->in_len += (size_t)n;
	}
}

/*
 * After an answer that closes, what the client still sends is read and
 * dropped, so that our close does not become a reset that destroys the
 * answer in flight.  Bounded: SERVE_LINGER_TURN a wake-up (level-triggered
 * epoll brings it back), SERVE_LINGER_MAX and SERVE_LINGER_MS in all.
 */
static void conn_linger_read(struct server *sv, struct conn *c)
{
	char sink[4096];
	uint64_t turn = 0;

	while (turn < SERVE_LINGER_TURN) {
		ssize_t n = recv(c->h.fd, sink, sizeof(sink), 0);

		if (n > 0) {
			turn += (uint64_t)n;
			c->lingered += (uint64_t)n;
			if (c->lingered > SERVE_LINGER_MAX)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;
	}
	if (turn < SERVE_LINGER_TURN)
		conn_close(sv, c, NULL);
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
			conn_close(sv, c, "the client went");
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
		conn_close(server_of(srv), c, NULL);
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
	else if (c->state == CS_READ && c->in_len > 0)
		conn_read(server_of(srv), c);	/* a pipelined request (response_done) */
}

/* Slow-loris and dead peers. */
static void serve_conn_sweep(struct ev_server *srv, struct ev_conn *ec, int64_t now)
{
	struct server *sv = server_of(srv);
	struct conn *c = conn_of(ec);

	switch (c->state) {
	case CS_READ:
		if (c->in_len == 0 && c->requests == 0 && now - c->since_ms > srv->own_timeout_ms) {
			/* Connected and sent nothing: no answer, as nginx does. */
			sv->stats.silent++;
			conn_close(sv, c, NULL);
		} else if (c->in_len == 0 && c->requests > 0 && now - c->since_ms > srv->idle_timeout_ms) {
			sv->stats.idle_closed++;
			conn_close(sv, c, NULL);
		} else if (c->in_len > 0 && now - c->since_ms > srv->own_timeout_ms) {
			/* Best effort: a 408 if the socket takes it, then close. */
			sv->stats.head_timeouts++;
			snprintf(c->log_req, sizeof(c->log_req), "(request head timeout)");
			c->started_ms = now;
			respond_error(sv, c, 408, false, NULL, true);
			c->in_len = 0;
			conn_send(sv, c);
		}
		break;
	case CS_SEND:
		if (now - c->since_ms > srv->idle_timeout_ms)
			conn_close(sv, c, "no progress within --idle-timeout");
		break;
	case CS_LINGER:
		if (now - c->since_ms > SERVE_LINGER_MS)
			conn_close(sv, c, NULL);
		break;
	}
}

static void serve_conn_stop(struct ev_server *srv, struct ev_conn *ec)
{
	struct conn *c = conn_of(ec);

	if (c->state == CS_READ && c->in_len == 0)
		conn_close(server_of(srv), c, NULL);
	else
		c->keep_alive = false;	/* finish this answer, then close */
}

/* What is still open when the loop ends: a stop's --grace is over. */
static void serve_conn_close(struct ev_server *srv, struct ev_conn *ec)
{
	conn_close(server_of(srv), conn_of(ec), "stopping, --grace over");
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
"416 431 505.  Paths never leave DIR (openat2 RESOLVE_BENEATH, else a walk\n"
"of openat(O_NOFOLLOW): symlinks that point out are refused); only regular\n"
"files are served.  Binds to exactly ADDR; port 0 picks a free port.  Prints\n"
"\"listening on ADDR:PORT\" on stdout when ready.  SIGINT, SIGTERM or SIGQUIT\n"
"stop accepting, let the answers in flight finish (up to --grace), log the\n"
"ones cut, print a summary and exit 0; a second one stops at once.  SIGHUP\n"
"reopens --log.  docs/threat-model.md: what it trusts, refuses and limits.\n"
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
"  --header-timeout S     seconds to receive a whole request head, the first\n"
"                         from the connection's accept; default 10\n"
"  --idle-timeout S       seconds a kept-alive connection may idle, or a\n"
"                         response may make no progress; default 60\n"
"  --max-requests N       requests on one kept-alive connection; default 1000\n"
"  --backlog N            listen(2) backlog (capped by net.core.somaxconn);\n"
"                         default 1024\n"
"  --grace S              seconds a stop leaves answers to finish; default 10\n"
"  --log FILE             the log (access lines, errors, summary) appended to\n"
"                         FILE instead of stderr; SIGHUP reopens it\n"
"  --quiet                no access lines (errors and the summary stay)\n");
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
	.own_opts = EV_OPT_MAX_REQUESTS,
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

/* --root: the directory, and its real path for the start-up line.  0 or the exit status. */
static int open_root(struct server *sv)
{
	const char *root = sv->srv.target_s;

	sv->root = (struct serve_root){ .have_openat2 = sv->root.have_openat2, .srv = &sv->srv };
	sv->root.fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sv->root.fd < 0 || !realpath(root, sv->root_real))
		return usage_error("--root %s: %s", root, strerror(errno));
	return 0;
}

/* The summary on exit: what was answered, and what was cut or refused and why. */
static void serve_summary(struct server *sv)
{
	const struct serve_stats *st = &sv->stats;

	ev_log(&sv->srv, "copylab serve: stopped: %" PRIu64 " answers (2xx %" PRIu64 ", 3xx %" PRIu64
	       ", 4xx %" PRIu64 ", 5xx %" PRIu64 "), %" PRIu64 " body bytes; cut %" PRIu64
	       ", silent connections closed %" PRIu64 ", head timeouts %" PRIu64
	       ", idle closed %" PRIu64 ", --max-requests reached %" PRIu64 ", accept errors %" PRIu64,
	       st->responses, st->by_class[2], st->by_class[3], st->by_class[4], st->by_class[5],
	       st->body_bytes, st->cut, st->silent, st->head_timeouts, st->idle_closed, st->capped,
	       sv->srv.accept_errors);
}

/*
 * COPYLAB_TEST_NO_OPENAT2=1, for tests only: paths resolve by the walk, as
 * on a kernel without openat2, so that tests/serve_hostile.t can try the
 * escapes on it here.  Said on the log, never silent.
 */
static void test_switches(struct server *sv)
{
	const char *v = getenv("COPYLAB_TEST_NO_OPENAT2");

	if (!v || strcmp(v, "1"))
		return;
	sv->root.have_openat2 = false;
	ev_log(&sv->srv, "copylab serve: COPYLAB_TEST_NO_OPENAT2=1 (for tests only): "
			 "resolving paths without openat2, by a walk of openat(O_NOFOLLOW)");
}

int cmd_serve(int argc, char **argv)
{
	struct server sv = {
		.srv = { .tool = &serve_tool, .own_timeout_ms = 10000, .idle_timeout_ms = 60000,
			 .max_requests = 1000 },
		.root = { .have_openat2 = true },
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
	test_switches(&sv);

	ret = ev_server_run(srv);

	ev_server_close(srv);
	close(sv.root.fd);
	serve_summary(&sv);
	ev_log_close(srv);
	return ret;
}
