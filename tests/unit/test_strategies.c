/* SPDX-License-Identifier: MIT */
/*
 * Every strategy x every scenario it supports, driven directly with real
 * descriptors (socketpairs, TCP on 127.0.0.1, pipes, temporary files) and
 * checked byte for byte; plus back-pressure, early close, truncated input,
 * the registry and the io.c wrappers.  Needs only strategies/ code.
 */
#include "strategies/io.h"
#include "strategies/strategy.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define PATTERN_LEN (8 * MIB)
#define RUN_TIMEOUT_S 20	/* one transfer; a hang fails the run, not the binary */
#define JOIN_TIMEOUT_S 10
#define NEVER UINT64_MAX

static const uint64_t sizes[] = { 0, 1, 4095, 4096, 4097, 65537, MIB + 1 };
static const size_t blocks[] = { 64 * 1024, 1000 };

static char tmpdir[64];
static struct io_counters io_totals;	/* over all runs, for the closing note */
static unsigned long runs, thp_runs;
static unsigned char *pattern;	/* unique per offset: a swapped block shows */
static unsigned file_seq;

/* ---- the payload --------------------------------------------------------- */

static uint64_t splitmix64(uint64_t v)
{
	v += 0x9e3779b97f4a7c15ull;
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
	return v ^ (v >> 31);
}

static void make_pattern(unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t word = splitmix64(i / 8);
		size_t n = len - i < 8 ? len - i : 8;

		memcpy(buf + i, &word, n);
	}
}

/* "" when buf is pattern[0..want), else where and how it differs. */
static void compare_to_pattern(const unsigned char *buf, uint64_t got, uint64_t want,
			       char *why, size_t why_len, const char *what)
{
	uint64_t n = got < want ? got : want;

	for (uint64_t i = 0; i < n; i++) {
		if (buf[i] != pattern[i]) {
			snprintf(why, why_len, "%s: first wrong byte at offset %" PRIu64, what, i);
			return;
		}
	}
	if (got != want)
		snprintf(why, why_len, "%s: %" PRIu64 " bytes, expected %" PRIu64, what, got, want);
}

/* ---- peers: the fixed roles, as threads ---------------------------------- */

struct peer {
	pthread_t tid;
	bool started;
	int fd;
	bool is_socket;
	/* writer */
	const unsigned char *data;
	uint64_t len;
	/* reader */
	unsigned char *got;
	uint64_t got_len, cap;
	size_t read_size;
	unsigned slow_us;
	uint64_t close_after;	/* close the fd after this many bytes */
	bool closed_fd;
	int err;		/* errno of a failure that was not expected */
};

static void *writer_main(void *arg)
{
	struct peer *p = arg;
	uint64_t off = 0;
	ssize_t n;

	while (off < p->len) {
		size_t want = p->len - off < 64 * KIB ? (size_t)(p->len - off) : 64 * KIB;

		n = send(p->fd, p->data + off, want, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The strategy failed or the test ended the run early. */
			p->err = errno;
			return NULL;
		}
		off += (uint64_t)n;
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

/*
 * recv's use of the bytes: the role's own memory is the output, so the
 * test keeps a copy of every piece handed over, in order, for the check.
 */
static int collect_use(void *arg, const unsigned char *p, size_t n)
{
	struct peer *c = arg;

	while (c->got_len + n > c->cap) {
		uint64_t cap = c->cap ? c->cap * 2 : 256 * KIB;
		unsigned char *grown = realloc(c->got, cap);

		if (!grown)
			return -ENOMEM;
		c->got = grown;
		c->cap = cap;
	}
	memcpy(c->got + c->got_len, p, n);
	c->got_len += n;
	return 0;
}

static void *reader_main(void *arg)
{
	struct peer *p = arg;
	size_t want = p->read_size ? p->read_size : 64 * KIB;
	ssize_t n;

	for (;;) {
		if (p->got_len + want > p->cap) {
			uint64_t cap = p->cap ? p->cap * 2 : 256 * KIB;
			unsigned char *grown = realloc(p->got, cap);

			if (!grown) {
				p->err = ENOMEM;
				return NULL;
			}
			p->got = grown;
			p->cap = cap;
		}
		n = read(p->fd, p->got + p->got_len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			p->err = errno;
			return NULL;
		}
		if (n == 0)
			return NULL;
		p->got_len += (uint64_t)n;
		if (p->got_len >= p->close_after) {
			close(p->fd);
			p->closed_fd = true;
			return NULL;
		}
		if (p->slow_us)
			usleep(p->slow_us);
	}
}

/* Peers start with SIGALRM blocked: it is meant for the strategy's calls. */
static int peer_start(struct peer *p, void *(*fn)(void *))
{
	sigset_t alrm, old;
	int ret;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	ret = pthread_create(&p->tid, NULL, fn, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p->started = ret == 0;
	return ret;
}

static bool peer_join(struct peer *p)
{
	struct timespec deadline;

	if (!p->started)
		return true;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_TIMEOUT_S;
	if (pthread_timedjoin_np(p->tid, NULL, &deadline) != 0) {
		/* Unstick it: a shut down socket ends its blocked call. */
		shutdown(p->fd, SHUT_RDWR);
		pthread_join(p->tid, NULL);
		p->started = false;
		return false;
	}
	p->started = false;
	return true;
}

/* ---- one run -------------------------------------------------------------- */

enum transport { TR_UNIX, TR_TCP };

struct run_spec {
	const struct strategy *s;
	enum scenario sc;
	uint64_t size;
	size_t block;
	bool nonblock;
	enum transport tr;
	struct tunables tun;	/* nonblock is filled from .nonblock */
	int sockbuf;		/* SO_SNDBUF and SO_RCVBUF everywhere; 0: default */
	int out_pipe_size;	/* F_SETPIPE_SZ on the pipe scenario's pipe; 0: default */
	unsigned slow_us;	/* the reader sleeps this long between reads */
	size_t read_size;	/* the reader's read size; 0: 64 KiB */
	uint64_t close_after;	/* the reader closes after this many bytes */
	uint64_t file_len;	/* input file length, NEVER: size (else truncated) */
};

struct run_result {
	ssize_t ret;		/* 0, or the error of setup or move */
	const char *stage;	/* where ret came from */
	const char *failed_call;
	struct io_counters io;
	uint64_t moved;
	size_t pipe_granted;
	bool thp_granted;
	char why[256];		/* a problem with the output, "" if none */
};

struct run_fds {
	int in, out, out2;		/* what the strategy gets */
	int peer_in, peer_out;		/* the peers' ends */
	int pipe_r;			/* pipe scenario: the reader's end */
	char in_path[128], out_path[128], out2_path[128];
};

static const char *scenario_label(enum scenario sc)
{
	static const char *const names[SC_COUNT] = {
		[SC_SERVE] = "serve", [SC_SEND] = "send", [SC_RELAY] = "relay",
		[SC_FANOUT] = "fanout", [SC_STORE] = "store", [SC_COPY] = "copy",
		[SC_ECHO] = "echo", [SC_PIPE] = "pipe", [SC_RECV] = "recv",
	};
	return sc < SC_COUNT ? names[sc] : "?";
}

static enum endpoint_kind input_kind(enum scenario sc)
{
	switch (sc) {
	case SC_SERVE: case SC_COPY: return EP_FILE;
	case SC_SEND: case SC_PIPE: return EP_MEMORY;
	default: return EP_SOCKET;
	}
}

static enum endpoint_kind output_kind(enum scenario sc)
{
	switch (sc) {
	case SC_STORE: case SC_COPY: return EP_FILE;
	case SC_PIPE: return EP_PIPE;
	case SC_RECV: return EP_MEMORY;
	default: return EP_SOCKET;
	}
}

static bool uses_socket(enum scenario sc)
{
	return input_kind(sc) == EP_SOCKET || output_kind(sc) == EP_SOCKET;
}

static void describe(const struct run_spec *sp, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s size=%" PRIu64 " block=%zu %s %s%s%s", sp->s->name,
		 scenario_label(sp->sc), sp->size, sp->block,
		 sp->nonblock ? "nonblock" : "blocking",
		 !uses_socket(sp->sc) ? "no-socket" : sp->tr == TR_TCP ? "tcp" : "unix",
		 sp->sockbuf ? " small-sockbuf" : "", sp->tun.set ? " tunables" : "");
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void set_sockbuf(int fd, int size)
{
	if (size) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
}

/* A connected pair: sv[0] for the strategy, sv[1] for the peer. */
static int socket_pair(enum transport tr, int sockbuf, int sv[2])
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	int lfd, cfd, afd;

	if (tr == TR_UNIX) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		set_sockbuf(sv[0], sockbuf);
		set_sockbuf(sv[1], sockbuf);
		return 0;
	}
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || cfd < 0)
		goto fail;
	/* Before connect: the receive window is negotiated from them. */
	set_sockbuf(lfd, sockbuf);
	set_sockbuf(cfd, sockbuf);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0 ||
	    connect(cfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		goto fail;
	close(lfd);
	sv[0] = afd;
	sv[1] = cfd;
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	return -errno;
}

static int create_file(char *path, size_t path_len, const char *what, int flags,
		       const unsigned char *data, uint64_t len)
{
	int fd;

	snprintf(path, path_len, "%s/%s-%u", tmpdir, what, file_seq++);
	fd = open(path, flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (uint64_t off = 0; off < len;) {
		ssize_t n = pwrite(fd, data + off, len - off, (off_t)off);

		if (n <= 0) {
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		off += (uint64_t)n;
	}
	return fd;
}

/* Compare a file the strategy wrote with the pattern, by reading it back. */
static void check_file(int fd, uint64_t want, char *why, size_t why_len, const char *what)
{
	struct stat sb;
	unsigned char *buf;
	uint64_t off = 0;
	ssize_t n;

	if (fstat(fd, &sb) < 0) {
		snprintf(why, why_len, "%s: fstat: %s", what, strerror(errno));
		return;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		snprintf(why, why_len, "%s: out of memory", what);
		return;
	}
	while (off < (uint64_t)sb.st_size &&
	       (n = pread(fd, buf + off, (size_t)((uint64_t)sb.st_size - off), (off_t)off)) > 0)
		off += (uint64_t)n;
	compare_to_pattern(buf, off, want, why, why_len, what);
	free(buf);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/*
 * A fast interval timer while the strategy runs: its blocking calls get
 * EINTR (or a short count) now and then, as in a real process with
 * signals, and a hung call cannot hold the test past its deadline.
 */
static void interrupts(bool on)
{
	struct itimerval it = { 0 };

	if (on) {
		it.it_interval.tv_usec = 2000;
		it.it_value.tv_usec = 2000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The harness's loop: move until 0, polling x->wait on EAGAIN. */
static ssize_t drive(const struct strategy *s, struct xfer *x, char *why, size_t why_len)
{
	double deadline = now_s() + RUN_TIMEOUT_S;
	struct pollfd pfd[2];
	ssize_t ret;
	nfds_t n;

	for (;;) {
		ret = s->move(x);
		if (ret == 0)
			return 0;
		if (now_s() > deadline) {
			snprintf(why, why_len, "no end after %d s (last move %zd)", RUN_TIMEOUT_S, ret);
			return -ETIMEDOUT;
		}
		if (ret > 0 || ret == -EINTR)
			continue;
		if (ret != -EAGAIN)
			return ret;
		if (!x->tun.nonblock) {
			snprintf(why, why_len, "-EAGAIN in blocking mode");
			return ret;
		}
		n = 0;
		for (int i = 0; i < 2; i++) {
			if (x->wait[i].fd >= 0) {
				pfd[n].fd = x->wait[i].fd;
				pfd[n].events = x->wait[i].events;
				n++;
			}
		}
		if (n == 0) {
			snprintf(why, why_len, "-EAGAIN without x->wait");
			return ret;
		}
		poll(pfd, n, 100);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Connect the endpoints of spec's scenario; peers' ends go to the peers. */
static int wire_endpoints(const struct run_spec *sp, struct xfer *x, struct run_fds *f)
{
	enum endpoint_kind in = input_kind(sp->sc), out = output_kind(sp->sc);
	uint64_t file_len = sp->file_len == NEVER ? sp->size : sp->file_len;
	int sv[2], pp[2], ret;

	x->in_kind = in;
	x->out_kind = out;
	if (sp->sc == SC_ECHO) {
		ret = socket_pair(sp->tr, sp->sockbuf, sv);
		if (ret < 0)
			return ret;
		f->in = f->out = sv[0];
		f->peer_in = sv[1];
	} else {
		if (in == EP_FILE) {
			f->in = create_file(f->in_path, sizeof(f->in_path), "in", O_RDWR,
					    pattern, file_len);
			if (f->in < 0)
				return f->in;
			/* The harness gives a fresh O_RDONLY descriptor at offset 0. */
			close(f->in);
			f->in = open(f->in_path, O_RDONLY | O_CLOEXEC);
			if (f->in < 0)
				return -errno;
		} else if (in == EP_SOCKET) {
			ret = socket_pair(sp->tr, sp->sockbuf, sv);
			if (ret < 0)
				return ret;
			f->in = sv[0];
			f->peer_in = sv[1];
		}
		if (out == EP_SOCKET) {
			ret = socket_pair(sp->tr, sp->sockbuf, sv);
			if (ret < 0)
				return ret;
			f->out = sv[0];
			f->peer_out = sv[1];
		} else if (out == EP_FILE) {
			f->out = create_file(f->out_path, sizeof(f->out_path), "out", O_RDWR, NULL, 0);
			if (f->out < 0)
				return f->out;
		} else if (out == EP_PIPE) {
			if (pipe2(pp, O_CLOEXEC) < 0)
				return -errno;
			if (sp->out_pipe_size)
				fcntl(pp[1], F_SETPIPE_SZ, sp->out_pipe_size);
			f->pipe_r = pp[0];
			f->out = pp[1];
		}
	}
	if (sp->sc == SC_FANOUT) {
		f->out2 = create_file(f->out2_path, sizeof(f->out2_path), "out2", O_RDWR, NULL, 0);
		if (f->out2 < 0)
			return f->out2;
	}
	if (sp->nonblock) {
		if (in == EP_SOCKET)
			set_nonblock(f->in);
		if (out == EP_SOCKET || out == EP_PIPE)
			set_nonblock(f->out);
	}
	x->in_fd = f->in;
	x->out_fd = f->out;
	x->out2_fd = f->out2;
	x->mem = in == EP_MEMORY ? pattern : NULL;
	x->total = in == EP_SOCKET ? UINT64_MAX : sp->size;
	return 0;
}

static int start_peers(const struct run_spec *sp, const struct run_fds *f,
		       struct peer *writer, struct peer *reader)
{
	int ret;

	if (f->peer_in >= 0) {
		writer->fd = f->peer_in;
		writer->data = pattern;
		writer->len = sp->size;
		ret = peer_start(writer, writer_main);
		if (ret)
			return -ret;
	}
	if (f->peer_out >= 0 || f->pipe_r >= 0 || sp->sc == SC_ECHO) {
		reader->fd = sp->sc == SC_ECHO ? f->peer_in : f->peer_out >= 0 ? f->peer_out : f->pipe_r;
		reader->read_size = sp->read_size;
		reader->slow_us = sp->slow_us;
		reader->close_after = sp->close_after;
		ret = peer_start(reader, reader_main);
		if (ret)
			return -ret;
	}
	return 0;
}

/*
 * What the harness does after move() returns 0 (end the output stream), or
 * after an error (close the strategy's ends: unread data makes TCP reset,
 * so a writer blocked on a full socket stops too).
 */
static void end_streams(struct xfer *x, struct run_fds *f, bool ok)
{
	if (ok) {
		if (output_kind(x->scenario) == EP_SOCKET)
			shutdown(f->out, SHUT_WR);
		else if (output_kind(x->scenario) == EP_PIPE)
			close_fd(&f->out);
		return;
	}
	if (f->out == f->in)
		f->out = -1;
	close_fd(&f->in);
	close_fd(&f->out);
}

static void check_outputs(const struct run_spec *sp, const struct xfer *x,
			  const struct run_fds *f, const struct peer *reader,
			  struct run_result *r)
{
	size_t wl = sizeof(r->why);

	if (reader->err) {
		snprintf(r->why, wl, "reader: %s", strerror(reader->err));
		return;
	}
	if (output_kind(sp->sc) == EP_FILE)
		check_file(f->out, sp->size, r->why, wl, "output file");
	else
		compare_to_pattern(reader->got, reader->got_len, sp->size, r->why, wl, "output");
	if (!r->why[0] && f->out2 >= 0)
		check_file(f->out2, sp->size, r->why, wl, "second output file");
	if (!r->why[0] && x->moved != sp->size)
		snprintf(r->why, wl, "x->moved %" PRIu64 ", expected %" PRIu64, x->moved, sp->size);
}

static void run_one(const struct run_spec *sp_in, struct run_result *r)
{
	/*
	 * A strategy that cannot use AF_UNIX (strategy.h: af_unix_why_not)
	 * runs the same case over TCP instead.
	 */
	struct run_spec tcp_spec = *sp_in;
	const struct run_spec *sp = sp_in;
	struct run_fds f = { -1, -1, -1, -1, -1, -1, "", "", "" };
	struct peer writer = { .fd = -1, .close_after = NEVER };
	struct peer reader = { .fd = -1, .close_after = NEVER };
	struct xfer x = { .scenario = sp->sc, .block = sp->block, .tun = sp->tun };
	bool set_up = false;
	ssize_t ret;

	if (sp_in->tr == TR_UNIX && sp_in->s->af_unix_why_not) {
		tcp_spec.tr = TR_TCP;
		sp = &tcp_spec;
	}
	memset(r, 0, sizeof(*r));
	x.tun.nonblock = sp->nonblock;
	x.out2_fd = -1;
	x.wait[0].fd = x.wait[1].fd = -1;
	x.priv = calloc(1, sp->s->priv_size ? sp->s->priv_size : 1);

	ret = wire_endpoints(sp, &x, &f);
	if (ret < 0) {
		r->stage = "test setup";
		goto out;
	}
	if (x.out_kind == EP_MEMORY) {
		x.use = collect_use;
		x.use_arg = &reader;
	}
	/*
	 * Setup before the peers, as the harness does (its barrier): a
	 * strategy may rely on no byte arriving before it is set up.  sockmap
	 * does: a byte queued before its verdict program joins the socket is
	 * never redirected, and a writer started first stalled its relay in
	 * about one run of this file in eight.
	 */
	r->stage = "setup";
	ret = sp->s->setup(&x);
	set_up = true;
	if (ret == 0 && (ret = start_peers(sp, &f, &writer, &reader)) < 0)
		r->stage = "test setup";
	if (ret == 0) {
		r->stage = "move";
		interrupts(true);
		ret = drive(sp->s, &x, r->why, sizeof(r->why));
		interrupts(false);
	}
out:
	r->ret = ret;
	r->failed_call = x.failed_call;
	r->io = x.io;
	r->moved = x.moved;
	r->pipe_granted = x.pipe_granted;
	r->thp_granted = x.thp_granted;
	io_totals.calls += x.io.calls;
	io_totals.short_ops += x.io.short_ops;
	io_totals.eagain += x.io.eagain;
	io_totals.eintr += x.io.eintr;
	runs++;
	thp_runs += x.thp_granted;
	/* In the harness's order: end the output after success, then teardown. */
	if (ret == 0)
		end_streams(&x, &f, true);
	if (set_up)
		sp->s->teardown(&x);
	if (ret != 0)
		end_streams(&x, &f, false);
	if (!peer_join(&writer) || !peer_join(&reader)) {
		if (!r->why[0])
			snprintf(r->why, sizeof(r->why), "a peer did not finish");
	}
	if (ret == 0 && !r->why[0])
		check_outputs(sp, &x, &f, &reader, r);

	if (reader.closed_fd) {
		/* The reader closed its end itself. */
		if (f.peer_out == reader.fd)
			f.peer_out = -1;
		if (f.pipe_r == reader.fd)
			f.pipe_r = -1;
	}
	if (f.out == f.in)
		f.out = -1;
	close_fd(&f.in);
	close_fd(&f.out);
	close_fd(&f.out2);
	close_fd(&f.peer_in);
	close_fd(&f.peer_out);
	close_fd(&f.pipe_r);
	if (f.in_path[0])
		unlink(f.in_path);
	if (f.out_path[0])
		unlink(f.out_path);
	if (f.out2_path[0])
		unlink(f.out2_path);
	free(reader.got);
	free(x.priv);
}

/* Run, and fail the test with the run's description unless it succeeded. */
static void run_expect_ok(const struct run_spec *sp, struct run_result *r)
{
	char desc[200];

	run_one(sp, r);
	if (r->ret == 0 && !r->why[0])
		return;
	describe(sp, desc, sizeof(desc));
	fail_msg("%s: %s %s (%s) %s", desc, r->stage ? r->stage : "", strerror((int)-r->ret),
		 r->failed_call ? r->failed_call : "no failed_call", r->why);
}

/* ---- the tests ----------------------------------------------------------- */

struct matrix_case {
	const struct strategy *s;
	enum scenario sc;
};

/* Every size x block x mode (x transport where a socket is involved). */
static void test_matrix(void **state)
{
	const struct matrix_case *mc = *state;
	int ntr = uses_socket(mc->sc) ? 2 : 1;
	struct run_result r;

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (size_t bi = 0; bi < sizeof(blocks) / sizeof(blocks[0]); bi++)
			for (int nb = 0; nb < 2; nb++)
				for (int tr = 0; tr < ntr; tr++) {
					struct run_spec sp = {
						.s = mc->s, .sc = mc->sc, .size = sizes[si],
						.block = blocks[bi], .nonblock = nb,
						.tr = tr ? TR_TCP : TR_UNIX,
						.close_after = NEVER, .file_len = NEVER,
					};

					run_expect_ok(&sp, &r);
				}
}

/* Every tunable a strategy accepts, all at once: the flags must not break it. */
static void test_tunables(void **state)
{
	const struct matrix_case *mc = *state;
	static const uint64_t tun_sizes[] = { 4097, MIB + 1 };
	struct run_result r;
	char desc[200];

	for (size_t si = 0; si < 2; si++)
		for (int nb = 0; nb < 2; nb++) {
			struct run_spec sp = {
				.s = mc->s, .sc = mc->sc, .size = tun_sizes[si],
				.block = 64 * KIB, .nonblock = nb, .tr = TR_TCP,
				.close_after = NEVER, .file_len = NEVER,
				.tun = {
					.set = mc->s->tunables, .pipe_size = MIB,
					.more = true, .move = true, .gift = true,
					.hugepages = true, .populate = true,
				},
			};

			run_expect_ok(&sp, &r);
			describe(&sp, desc, sizeof(desc));
			/* 1 MiB is pipe-max-size, so it is granted even without privilege. */
			if ((mc->s->tunables & TUN_PIPE_SIZE) && r.pipe_granted)
				assert_int_equal(r.pipe_granted, MIB);
		}
}

/*
 * Tiny socket buffers and a slow reader: a non-blocking strategy must meet
 * EAGAIN or short transfers, and still deliver every byte.  Blocking, it
 * sleeps in its calls, where the interval timer interrupts it.
 */
static void test_backpressure(void **state)
{
	const struct matrix_case *mc = *state;
	struct run_result r;
	char desc[200];

	for (int nb = 0; nb < 2; nb++)
		for (int tr = 0; tr < 2; tr++) {
			struct run_spec sp = {
				.s = mc->s, .sc = mc->sc, .size = 512 * KIB, .block = 64 * KIB,
				.nonblock = nb, .tr = tr ? TR_TCP : TR_UNIX, .sockbuf = 4096,
				.out_pipe_size = 4096, .slow_us = 100, .read_size = 4096,
				.close_after = NEVER, .file_len = NEVER,
			};

			run_expect_ok(&sp, &r);
			describe(&sp, desc, sizeof(desc));
			/*
			 * A strategy whose bytes the kernel moves (sockmap: its
			 * move only looks for the end) meets EAGAIN only if it
			 * looks before the kernel is done: set up before the
			 * peers, a small echo can end before its first look.
			 */
			if (nb && !mc->s->cpu_elsewhere && r.io.eagain == 0 && r.io.short_ops == 0)
				fail_msg("%s: no EAGAIN and no short transfer in %" PRIu64 " calls",
					 desc, r.io.calls);
		}
}

/* The reader goes away early: move() must fail with EPIPE/ECONNRESET, not hang. */
static void test_early_close(void **state)
{
	const struct matrix_case *mc = *state;
	struct run_result r;
	char desc[200];

	for (int nb = 0; nb < 2; nb++)
		for (int tr = 0; tr < 2; tr++) {
			struct run_spec sp = {
				.s = mc->s, .sc = mc->sc, .size = 4 * MIB, .block = 64 * KIB,
				.nonblock = nb, .tr = tr ? TR_TCP : TR_UNIX, .sockbuf = 16384,
				.out_pipe_size = 4096, .close_after = 64 * KIB,
				.file_len = NEVER,
			};

			run_one(&sp, &r);
			describe(&sp, desc, sizeof(desc));
			if (r.ret != -EPIPE && r.ret != -ECONNRESET)
				fail_msg("%s: move returned %zd (%s), expected -EPIPE or -ECONNRESET %s",
					 desc, r.ret, strerror((int)-r.ret), r.why);
			if (!r.failed_call)
				fail_msg("%s: error without failed_call", desc);
		}
}

/* A file shorter than total is an error (-EIO), never a silent short copy. */
static void test_truncated_input(void **state)
{
	const struct matrix_case *mc = *state;
	struct run_result r;
	char desc[200];

	for (int nb = 0; nb < 2; nb++) {
		struct run_spec sp = {
			.s = mc->s, .sc = mc->sc, .size = 65537, .block = 4096,
			.nonblock = nb, .tr = TR_UNIX, .close_after = NEVER,
			.file_len = 65537 - 100,
		};

		run_one(&sp, &r);
		describe(&sp, desc, sizeof(desc));
		if (r.ret != -EIO)
			fail_msg("%s: returned %zd (%s), expected -EIO", desc, r.ret,
				 strerror((int)-r.ret));
		if (!r.failed_call)
			fail_msg("%s: error without failed_call", desc);
	}
}

/* The registry is the list, and every refusal explains itself. */
static void test_registry(void **state)
{
	/* One entry per line of the list, counted from the list itself. */
	static const char *const listed[] = {
#define STRATEGY(name) #name,
#include "strategies/list.h"
#undef STRATEGY
	};

	assert_int_equal(strategy_count, sizeof(listed) / sizeof(listed[0]));
	for (size_t i = 0; i < strategy_count; i++)
		assert_string_equal(strategy_table[i]->name, listed[i]);
	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];

		assert_non_null(s->name);
		assert_ptr_equal(strategy_find(s->name), s);
		assert_non_null(s->summary);
		assert_true(strlen(s->summary) > 10);
		assert_non_null(s->setup);
		assert_non_null(s->move);
		assert_non_null(s->teardown);
		/* A role done by kernel configuration says what does it, and can undo it. */
		if (s->role_replaced_by) {
			assert_non_null(s->configure);
			assert_non_null(s->unconfigure);
		}
		if (s->only_transport)
			assert_true(s->elsewhere_why_not && strlen(s->elsewhere_why_not) > 20);
		for (int sc = 0; sc < SC_COUNT; sc++) {
			const struct scenario_support *sup = &s->support[sc];

			if (sup->ok) {
				assert_null(sup->why_not);
				continue;
			}
			if (!sup->why_not || strlen(sup->why_not) < 20 ||
			    strchr(sup->why_not, '\n'))
				fail_msg("%s/%s: refused without a one-sentence reason", s->name,
					 scenario_label(sc));
		}
	}
	assert_null(strategy_find("no-such-strategy"));
	assert_null(strategy_find(NULL));
	assert_true(strategy_supports(strategy_find("readwrite"), SC_ECHO));
	assert_false(strategy_supports(strategy_find("sendfile"), SC_RELAY));
	assert_false(strategy_supports(strategy_find("tee"), SC_RELAY));
	assert_false(strategy_supports(strategy_find("splice"), SC_SEND));
}

/*
 * readwrite:trunc in recv: MSG_TRUNC drops every byte in the kernel, so
 * the role is handed none of them (use is never called), the count is the
 * payload's, and the transfer says it left them unseen.  Outside recv its
 * setup refuses: the bytes would have to go on somewhere.
 */
static void test_readwrite_trunc(void **state)
{
	const struct strategy *s = strategy_find("readwrite");
	struct tunables tun = { .set = TUN_TRUNC, .trunc = true };

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int nb = 0; nb < 2; nb++) {
			struct peer writer = { .fd = -1, .close_after = NEVER }, used = { .fd = -1 };
			struct xfer x = { .scenario = SC_RECV, .in_kind = EP_SOCKET, .out_kind = EP_MEMORY,
					  .block = 64 * KIB, .tun = tun, .out_fd = -1, .out2_fd = -1,
					  .total = UINT64_MAX, .use = collect_use, .use_arg = &used };
			char why[200] = "";
			int sv[2];

			x.tun.nonblock = nb;
			x.wait[0].fd = x.wait[1].fd = -1;
			assert_int_equal(socket_pair(TR_TCP, 0, sv), 0);
			if (nb)
				set_nonblock(sv[0]);
			x.in_fd = sv[0];
			writer = (struct peer){ .fd = sv[1], .data = pattern, .len = sizes[si], .close_after = NEVER };
			assert_int_equal(peer_start(&writer, writer_main), 0);
			x.priv = calloc(1, s->priv_size);
			assert_int_equal(s->setup(&x), 0);
			assert_int_equal(drive(s, &x, why, sizeof(why)), 0);
			assert_true(peer_join(&writer));
			assert_int_equal(x.moved, sizes[si]);
			assert_int_equal(used.got_len, 0);
			assert_non_null(x.unseen);
			assert_non_null(strstr(x.unseen, "MSG_TRUNC"));
			s->teardown(&x);
			free(x.priv);
			close(sv[0]);
			close(sv[1]);
		}
	{
		struct xfer x = { .scenario = SC_RELAY, .in_kind = EP_SOCKET, .out_kind = EP_SOCKET,
				  .block = 64 * KIB, .tun = tun, .in_fd = -1, .out_fd = -1, .out2_fd = -1 };

		x.priv = calloc(1, s->priv_size);
		assert_int_equal(s->setup(&x), -EINVAL);
		s->teardown(&x);
		free(x.priv);
	}
}

/*
 * echo --response: readwrite answers x->answer bytes for every request of
 * x->block, made of the request's bytes over and over (byte j of answer k
 * is byte j mod block of request k), shorter, longer and equal, blocking
 * and not; splice and sockmap say in their table why they cannot.
 */
static void test_readwrite_answers(void **state)
{
	static const struct { size_t request, answer; } shapes[] = {
		{ 1000, 64 }, { 64, 5000 }, { 4096, 3 * 4096 + 7 }, { 1, 1 }, { 200 * KIB, 100 },	/* nreq * request within PATTERN_LEN */
	};
	const struct strategy *s = strategy_find("readwrite");
	const size_t nreq = 37;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		for (int nb = 0; nb < 2; nb++) {
			size_t n = shapes[i].request, m = shapes[i].answer;
			struct peer writer, reader;
			struct xfer x = { .scenario = SC_ECHO, .in_kind = EP_SOCKET, .out_kind = EP_SOCKET,
					  .block = n, .answer = m, .out2_fd = -1, .total = UINT64_MAX };
			char why[200] = "";
			int sv[2];

			x.tun.nonblock = nb;
			x.wait[0].fd = x.wait[1].fd = -1;
			assert_int_equal(socket_pair(TR_TCP, 0, sv), 0);
			if (nb)
				set_nonblock(sv[0]);
			x.in_fd = x.out_fd = sv[0];
			writer = (struct peer){ .fd = sv[1], .data = pattern, .len = nreq * n, .close_after = NEVER };
			reader = (struct peer){ .fd = sv[1], .close_after = NEVER };
			assert_int_equal(peer_start(&writer, writer_main), 0);
			assert_int_equal(peer_start(&reader, reader_main), 0);
			x.priv = calloc(1, s->priv_size);
			assert_int_equal(s->setup(&x), 0);
			assert_int_equal(drive(s, &x, why, sizeof(why)), 0);
			shutdown(sv[0], SHUT_WR);
			assert_true(peer_join(&writer));
			assert_true(peer_join(&reader));
			assert_int_equal(reader.err, 0);
			assert_int_equal(reader.got_len, nreq * m);
			assert_int_equal(x.moved, nreq * m);
			for (size_t k = 0; k < nreq; k++)
				for (size_t j = 0; j < m; j++)
					if (reader.got[k * m + j] != pattern[k * n + j % n])
						fail_msg("request %zu B, answer %zu B: answer %zu byte %zu differs", n, m, k, j);
			s->teardown(&x);
			free(x.priv);
			free(reader.got);
			close(sv[0]);
			close(sv[1]);
		}
	assert_null(s->unequal_answer_why_not);
	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *t = strategy_table[i];
		struct strategy_place echo = { .scenario = SC_ECHO, .transport = "tcp", .privileged = 1,
					       .unequal_answer = true };
		struct refusal r = strategy_refusal(t, &echo);

		if (!strategy_supports(t, SC_ECHO) || t == s)
			continue;
		/* every other echo strategy sends back what came: refused, with its sentence */
		assert_int_equal(r.kind, REFUSE_ANSWER);
		assert_true(strlen(r.why) > 20);
		echo.unequal_answer = false;
		assert_int_not_equal(strategy_refusal(t, &echo).kind, REFUSE_ANSWER);
	}
}

/* The wrappers count, classify and say what to wait for. */
static void test_io_wrappers(void **state)
{
	struct xfer x = { .wait = { { -1, 0 }, { 7, POLLIN } } };
	unsigned char buf[64];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(io_read(&x, sv[0], buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(x.io.calls, 1);
	assert_int_equal(x.io.eagain, 1);
	assert_int_equal(x.wait[0].fd, sv[0]);
	assert_int_equal(x.wait[0].events, POLLIN);
	assert_int_equal(x.wait[1].fd, -1);
	assert_string_equal(x.failed_call, "read");

	assert_int_equal(io_send(&x, sv[1], "abc", 3, true), 3);
	assert_int_equal(io_read(&x, sv[0], buf, sizeof(buf)), 3);
	assert_int_equal(x.io.short_ops, 1);
	assert_int_equal(x.io.calls, 3);

	close(sv[1]);
	assert_int_equal(io_send(&x, sv[0], "abc", 3, true), -EPIPE);
	assert_string_equal(x.failed_call, "send");
	close(sv[0]);

	x.tun = (struct tunables){ .nonblock = true, .more = true, .move = true };
	assert_int_equal(io_splice_flags(&x, true), SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_MOVE);
	assert_int_equal(io_splice_flags(&x, false), SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	x.tun = (struct tunables){ 0 };
	assert_int_equal(io_splice_flags(&x, true), 0);
}

/* Over pipe-max-size the kernel says EPERM: keep the default, report it. */
static void test_pipe_size(void **state)
{
	struct xfer x = { .tun = { .set = TUN_PIPE_SIZE, .pipe_size = 64 * KIB * 1024 } };
	size_t granted = 0;
	int fds[2] = { -1, -1 };

	assert_int_equal(io_pipe_open(&x, fds, &granted), 0);
	assert_true(granted > 0);
	assert_int_equal(x.pipe_granted, granted);
	assert_int_equal((size_t)fcntl(fds[0], F_GETPIPE_SZ), granted);
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	io_pipe_close(fds);
	assert_int_equal(fds[0], -1);

	x.tun.pipe_size = 256 * KIB;
	x.tun.nonblock = true;
	assert_int_equal(io_pipe_open(&x, fds, &granted), 0);
	assert_int_equal(granted, 256 * KIB);
	assert_true(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
	io_pipe_close(fds);
}

/* teardown must be safe when setup never ran or failed half way. */
/* What nat asked the harness to run in the router namespace. */
static char nat_seen[4][600];
static int nat_calls, nat_fail_at = -1;

static int nat_fake_exec(struct kernel_path *k, char *const argv[])
{
	size_t n = 0;

	if (nat_calls < 4) {
		nat_seen[nat_calls][0] = '\0';
		for (int i = 0; argv[i]; i++)
			n += snprintf(nat_seen[nat_calls] + n, sizeof(nat_seen[0]) - n, "%s%s", i ? "|" : "", argv[i]);
	}
	if (nat_calls++ == nat_fail_at) {
		snprintf(k->err, sizeof(k->err), "nft: Error: Could not process rule");
		return -1;
	}
	return 0;
}

/*
 * nat's configuration: one nft call makes the table, its prerouting nat
 * chain and the DNAT rule from the front address to the sink's; the
 * teardown deletes that table; a failing nft is -EIO with the call named,
 * and nothing is left to undo.
 */
static void test_nat_rules(void **state)
{
	const struct strategy *s = strategy_find("nat");
	struct kernel_path k = { .scenario = SC_RELAY, .netns = "copylab-1-abcdef-r",
				 .exec_in_netns = nat_fake_exec };

	assert_non_null(s);
	assert_non_null(s->role_replaced_by);
	assert_string_equal(s->only_transport, "routed");
	snprintf(k.table, sizeof(k.table), "copylab-1-abcdef-r-nat");
	k.front_addr = inet_addr("10.213.7.2");
	k.front_port = htons(40001);
	k.back_addr = inet_addr("10.213.8.2");
	k.back_port = htons(40002);
	nat_calls = 0;
	nat_fail_at = -1;
	assert_int_equal(s->configure(&k), 0);
	assert_true(k.configured);
	assert_int_equal(nat_calls, 1);
	assert_non_null(strstr(nat_seen[0], "add table ip copylab-1-abcdef-r-nat;"));
	assert_non_null(strstr(nat_seen[0], "type nat hook prerouting priority dstnat"));
	assert_non_null(strstr(nat_seen[0], "ip daddr 10.213.7.2 tcp dport 40001 dnat to 10.213.8.2:40002"));
	s->unconfigure(&k);
	assert_false(k.configured);
	assert_int_equal(nat_calls, 2);
	assert_string_equal(nat_seen[1], "nft|delete|table|ip|copylab-1-abcdef-r-nat");
	s->unconfigure(&k);		/* twice: nothing more to remove */
	assert_int_equal(nat_calls, 2);

	nat_calls = 0;
	nat_fail_at = 0;
	assert_int_equal(s->configure(&k), -EIO);
	assert_false(k.configured);
	assert_string_equal(k.failed_call, "nft add table");
	assert_non_null(strstr(k.err, "Could not process rule"));
	s->unconfigure(&k);
	assert_int_equal(nat_calls, 1);	/* nothing was made, nothing deleted */

	/* Only a relay has a connection to forward. */
	k.scenario = SC_ECHO;
	k.failed_call = NULL;
	assert_int_equal(s->configure(&k), -EINVAL);
	assert_non_null(k.failed_call);
}

static void test_teardown_without_setup(void **state)
{
	bool stdin_open = fcntl(0, F_GETFD) >= 0;

	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];
		struct xfer x = { .in_fd = -1, .out_fd = -1, .out2_fd = -1 };

		x.priv = calloc(1, s->priv_size ? s->priv_size : 1);
		assert_non_null(x.priv);
		s->teardown(&x);
		s->teardown(&x);
		free(x.priv);
	}
	/* A zeroed priv holds fd 0 where a pipe would be: it must survive. */
	if (stdin_open)
		assert_true(fcntl(0, F_GETFD) >= 0);
}

/* ---- registration --------------------------------------------------------- */

/*
 * Killed mid-test (the runner's timeout sends SIGTERM): the scratch files
 * and their directory go first.  Only async-signal-safe calls: the
 * directory is read with getdents64 into a static buffer.
 */
static void on_fatal(int sig)
{
	static char buf[4096];
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	while (dfd >= 0 && (n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			struct linux_dirent64 {
				uint64_t d_ino;
				int64_t d_off;
				unsigned short d_reclen;
				unsigned char d_type;
				char d_name[];
			} *d = (void *)(buf + off);

			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				unlinkat(dfd, d->d_name, 0);
			off += d->d_reclen;
		}
	if (dfd >= 0)
		close(dfd);
	rmdir(tmpdir);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int group_setup(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	static const int fatal[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

	snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/copylab-unit.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal);
	pattern = malloc(PATTERN_LEN);
	if (!pattern)
		return -1;
	make_pattern(pattern, PATTERN_LEN);
	signal(SIGPIPE, SIG_IGN);
	/* No SA_RESTART: interrupted calls must come back with EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	/* A TAP comment: what the runs met, so a quiet matrix is visible. */
	print_message("# %lu runs: %" PRIu64 " calls, %" PRIu64 " short, %" PRIu64
		      " EAGAIN, %" PRIu64 " EINTR; huge pages granted in %lu\n",
		      runs, io_totals.calls, io_totals.short_ops, io_totals.eagain,
		      io_totals.eintr, thp_runs);
	free(pattern);
	rmdir(tmpdir);
	return 0;
}

/* recv's output is the role's memory: no reader to be slow or to close. */
static bool writes_to_stream(enum scenario sc)
{
	return (output_kind(sc) == EP_SOCKET || output_kind(sc) == EP_PIPE) && sc != SC_ECHO;
}

#define MAX_TESTS 256

static struct CMUnitTest tests[MAX_TESTS];
static size_t ntests;

/* Register fn for one strategy/scenario pair under "label name/scenario". */
static void add_case_test(const char *label, CMUnitTestFunction fn, struct matrix_case *mc)
{
	char name[96];

	if (ntests == MAX_TESTS)
		return;
	snprintf(name, sizeof(name), "%s %s/%s", label, mc->s->name, scenario_label(mc->sc));
	tests[ntests++] = (struct CMUnitTest){ .name = strdup(name), .test_func = fn,
					       .initial_state = mc };
}

int main(void)
{
	static struct matrix_case cases[MAX_TESTS];
	size_t ncases = 0;

	tests[ntests++] = (struct CMUnitTest){ .name = "registry", .test_func = test_registry };
	tests[ntests++] = (struct CMUnitTest){ .name = "io wrappers", .test_func = test_io_wrappers };
	tests[ntests++] = (struct CMUnitTest){ .name = "pipe size", .test_func = test_pipe_size };
	tests[ntests++] = (struct CMUnitTest){ .name = "teardown without setup",
					       .test_func = test_teardown_without_setup };
	tests[ntests++] = (struct CMUnitTest){ .name = "nat rules", .test_func = test_nat_rules };
	tests[ntests++] = (struct CMUnitTest){ .name = "readwrite:trunc", .test_func = test_readwrite_trunc };
	tests[ntests++] = (struct CMUnitTest){ .name = "readwrite answers", .test_func = test_readwrite_answers };

	for (size_t i = 0; i < strategy_count; i++) {
		for (int sc = 0; sc < SC_COUNT; sc++) {
			const struct strategy *s = strategy_table[i];
			struct matrix_case *mc = &cases[ncases];

			/* No process to drive: nat's rules are tested below and in tests/nat.t. */
			if (!strategy_supports(s, sc) || ncases == MAX_TESTS || s->role_replaced_by)
				continue;
			ncases++;
			mc->s = s;
			mc->sc = sc;
			add_case_test("matrix", test_matrix, mc);
			if (s->tunables)
				add_case_test("tunables", test_tunables, mc);
			if (writes_to_stream(sc) || sc == SC_ECHO)
				add_case_test("backpressure", test_backpressure, mc);
			if (writes_to_stream(sc))
				add_case_test("early close", test_early_close, mc);
			if (input_kind(sc) == EP_FILE)
				add_case_test("truncated input", test_truncated_input, mc);
		}
	}
	return _cmocka_run_group_tests("strategies", tests, ntests, group_setup, group_teardown);
}
