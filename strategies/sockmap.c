/* SPDX-License-Identifier: MIT */
/*
 * sockmap: the kernel relays.  setup() loads an sk_skb verdict program
 * (sockmap.bpf.c), attaches it to a sockmap holding the input socket and
 * puts the output socket (for echo, the input socket itself) in a second
 * map as the redirect target.  From then on every skb the input socket
 * receives is handed to the target's egress inside the kernel (softirq and
 * a kworker: the psock backlog), and never reaches this process.
 *
 * move() only waits for the end, which takes two conditions:
 *  - the input's EOF: with a verdict program the data never queues on the
 *    input socket, but the FIN still sets RCV_SHUTDOWN, which poll reports
 *    as POLLIN|POLLRDHUP (and recv(MSG_PEEK) then returns 0).  Only
 *    POLLRDHUP is asked: POLLIN also fires while arriving skbs wait for
 *    the verdict, and each wake-up would be a syscall (measured: 12560
 *    per GiB with POLLIN, 160 without);
 *  - every byte the input received counted by the program (it counts an
 *    skb only after taking it off the receive queue, so the count lags
 *    the FIN: the input's tcpi_bytes_received, less the FIN, says when it
 *    caught up) and
 *  - every redirected byte gone out: the psock backlog may still hold
 *    skbs for a full output socket when the FIN arrives, and shutting the
 *    output down then would cut them off.  The bytes written into the
 *    output socket (acknowledged + still queued) reaching the program's
 *    byte count says they left; until then move() waits on a timerfd.
 *    (Waiting for every byte to be acknowledged, as an earlier version
 *    did, made the wait as long as the sink took to read a full socket
 *    buffer: hundreds of ticks on a busy machine.)
 * x->moved is the program's count of redirected bytes, read from the
 * skeleton's mapping of .bss (no syscall).
 */
#include "io.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>	/* tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#include <poll.h>
#include <string.h>
#include <linux/sockios.h>	/* SIOCOUTQ */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_BPF
#include <bpf/bpf.h>

#define TCP_STATE_CLOSE 7	/* include/net/tcp_states.h */
#define TCP_STATE_CLOSE_WAIT 8
#include <bpf/libbpf.h>
#include "sockmap.skel.h"

struct sockmap_state {
	struct sockmap_bpf *skel;
	int ingress_fd, egress_fd;	/* the maps */
	bool attached;
	bool timer_open;
	int timer_fd;			/* ticks while the backlog drains */
	long tick_ms;			/* the last tick's interval */
	double last_look;		/* CLOCK_MONOTONIC seconds of the last tick, 0 before */
	uint64_t last_written;		/* bytes written to the output then */
	uint64_t written_base;		/* written_to_output() at setup: the SYN, if counted */
	bool eof;
	/*
	 * The input had ended before setup (the peer sent all and closed:
	 * CLOSE_WAIT), and the kernel lets only ESTABLISHED sockets join a
	 * sockmap: what is left in its receive queue is moved with recv/send
	 * (visible in the syscall counts).  Never in the harness's runs, where
	 * setup precedes the source's first byte.
	 */
	bool copy_rest;
	unsigned char *buf;
	size_t buf_len, buf_off;
};

static int fail_errno(struct xfer *x, const char *call, int err)
{
	return (int)io_fail(x, call, err ? err : EINVAL);
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return ti.tcpi_state;
}

static void unload(struct sockmap_state *st)
{
	__u32 key = 0;

	if (!st->skel)
		return;
	/* Out of the maps first: the sockets go back to plain TCP. */
	bpf_map_delete_elem(st->ingress_fd, &key);
	bpf_map_delete_elem(st->egress_fd, &key);
	if (st->attached)
		bpf_prog_detach2(bpf_program__fd(st->skel->progs.relay_verdict), st->ingress_fd,
				 BPF_SK_SKB_STREAM_VERDICT);
	st->attached = false;
	sockmap_bpf__destroy(st->skel);
	st->skel = NULL;
}

/*
 * Only ESTABLISHED sockets join a sockmap (EOPNOTSUPP otherwise).  An
 * input whose FIN came in since it was checked is the copy_rest case; any
 * other refusal is the error.
 */
static int insert_failed(struct xfer *x, struct sockmap_state *st, const char *call, int err)
{
	if (err == EOPNOTSUPP && tcp_state(x->in_fd) == TCP_STATE_CLOSE_WAIT) {
		unload(st);
		st->copy_rest = true;
		return io_buffer_alloc(x, x->block ? x->block : 65536, false, (void **)&st->buf);
	}
	return fail_errno(x, call, err);
}

static uint64_t written_to_output(int fd);

static int sockmap_setup(struct xfer *x)
{
	struct sockmap_state *st = x->priv;
	int dom = 0, prog_fd, ret;
	socklen_t len = sizeof(dom);
	__u32 key = 0;
	__u64 in = (__u64)x->in_fd, out = (__u64)x->out_fd;

	/*
	 * AF_UNIX stream sockets join a sockmap and redirect (5.15+; tried
	 * on 6.18: EOF shows as POLLIN|POLLRDHUP and a peek of 0), but the
	 * end of a relay cannot be seen there: no count like tcpi_bytes_acked
	 * says when the psock backlog has handed the last redirected bytes
	 * to the output, and shutting it down earlier would cut them off.
	 */
	if (getsockopt(x->out_fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_UNIX)
		return fail_errno(x, "sockmap_af_unix", EOPNOTSUPP);
	if (tcp_state(x->in_fd) == TCP_STATE_CLOSE_WAIT) {
		st->copy_rest = true;
		return io_buffer_alloc(x, x->block ? x->block : 65536, false, (void **)&st->buf);
	}
	libbpf_set_print(NULL);
	st->skel = sockmap_bpf__open_and_load();
	if (!st->skel)
		return fail_errno(x, "bpf_prog_load", errno);
	st->ingress_fd = bpf_map__fd(st->skel->maps.ingress);
	st->egress_fd = bpf_map__fd(st->skel->maps.egress);
	prog_fd = bpf_program__fd(st->skel->progs.relay_verdict);
	ret = bpf_prog_attach(prog_fd, st->ingress_fd, BPF_SK_SKB_STREAM_VERDICT, 0);
	if (ret)
		return fail_errno(x, "bpf_prog_attach", errno);
	st->attached = true;
	/* The target first: a skb must never find the redirect map empty. */
	if (bpf_map_update_elem(st->egress_fd, &key, &out, BPF_ANY))
		return insert_failed(x, st, "sockmap_insert_out", errno);
	if (bpf_map_update_elem(st->ingress_fd, &key, &in, BPF_ANY))
		return insert_failed(x, st, "sockmap_insert_in", errno);
	st->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (st->timer_fd < 0)
		return fail_errno(x, "timerfd_create", errno);
	st->timer_open = true;
	/* Before the first byte: what the counts already hold (the SYN). */
	st->written_base = written_to_output(x->out_fd);
	return 0;
}

/*
 * Payload bytes the socket has received from its peer, once its FIN is in:
 * tcpi_bytes_received advances with rcv_nxt, which counts the FIN's
 * sequence number too (measured: 4194306 for 4194305 bytes).
 */
static uint64_t received_by(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return UINT64_MAX;	/* never "all counted": the tick goes on until --timeout */
	return ti.tcpi_bytes_received ? ti.tcpi_bytes_received - 1 : 0;
}

/*
 * How long to sleep before looking again, in ms.  While the backlog drains,
 * a third of the time the rest should take at the rate seen since the last
 * look: a drain of a few hundred ms costs some fifteen wake-ups rather than
 * one per tick, and the end is seen late by a third of the last interval.
 * Without progress since the last look (a sink that stalls, or the first
 * look): 1, 2, then 4 ms.  Always 1 to 20 ms.
 */
static long next_tick_ms(struct sockmap_state *st, uint64_t total, uint64_t written)
{
	struct timespec ts;
	double now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	if (st->last_look > 0 && written > st->last_written && total > written && now > st->last_look) {
		double rate = (written - st->last_written) / (now - st->last_look);

		ms = (long)(1000.0 / 3 * (double)(total - written) / rate);
	} else {
		ms = st->tick_ms ? (st->tick_ms < 4 ? st->tick_ms * 2 : 4) : 1;
	}
	if (ms < 1)
		ms = 1;
	if (ms > 20)
		ms = 20;
	st->last_look = now;
	st->last_written = written;
	st->tick_ms = ms;
	return ms;
}

/*
 * Bytes written into the output socket so far: acknowledged by its peer
 * plus still in its write queue (SIOCOUTQ).  The acknowledged count is
 * read first, so a byte acknowledged between the two calls is in neither
 * and the sum can only be short, never over: the end is never declared
 * while the psock backlog still holds a redirected byte.  Bytes in the
 * write queue need not be waited for: the FIN that shutdown() queues goes
 * out after them.  The sum also counts the SYN where the peer acknowledged
 * one (tcpi_bytes_acked does, on this kernel: 65538 for 65537 bytes), so
 * the caller subtracts what it read before the first byte (written_base).
 */
static uint64_t written_to_output(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int queued = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	if (ioctl(fd, SIOCOUTQ, &queued) < 0 || queued < 0)
		return 0;
	return ti.tcpi_bytes_acked + (uint64_t)queued;
}

/*
 * The output's fate.  A reset peer leaves ECONNRESET in the output's
 * SO_ERROR and the socket closed.  The psock backlog also breaks the pipe
 * (EPIPE in SO_ERROR) when it meets the input's FIN, an empty skb it
 * cannot send, while the output is still ESTABLISHED and every byte went
 * out: that one is not a failure (tcpi_bytes_acked decides).  0, or the
 * errno to fail with.
 */
#define TCP_STATE_ESTABLISHED 1

static int output_error(int fd)
{
	int err = 0, state;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	if (err == 0 || err == ECONNRESET)
		return err;
	state = tcp_state(fd);
	if (state == TCP_STATE_ESTABLISHED || state == TCP_STATE_CLOSE_WAIT)
		return 0;
	return err;
}

/* The rest of an input that ended before setup: plain recv and send. */
static ssize_t copy_rest(struct xfer *x, struct sockmap_state *st)
{
	ssize_t n;

	if (st->buf_off == st->buf_len) {
		n = io_read(x, x->in_fd, st->buf, x->block ? x->block : 65536);
		if (n <= 0)
			return n;	/* 0: the end; or -EAGAIN with x->wait set */
		st->buf_off = 0;
		st->buf_len = (size_t)n;
	}
	n = io_send(x, x->out_fd, st->buf + st->buf_off, st->buf_len - st->buf_off, true);
	if (n < 0)
		return n;
	st->buf_off += (size_t)n;
	x->moved += (uint64_t)n;
	return n ? n : 1;
}

static ssize_t sockmap_move(struct xfer *x)
{
	struct sockmap_state *st = x->priv;
	volatile struct sockmap_bpf__bss *bss;
	uint64_t redirected;
	int err;
	char c;

	if (st->copy_rest)
		return copy_rest(x, st);
	bss = st->skel->bss;

	if ((err = output_error(x->out_fd)))
		return io_fail(x, "sockmap_redirect", err);
	if (!st->eof) {
		ssize_t n = recv(x->in_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

		/*
		 * A relay's other direction (copylab relay runs one sockmap
		 * transfer each way) has this input as its output, and its
		 * psock backlog leaves EPIPE in the socket's error when it
		 * meets its own input's FIN: a recv reports that pending
		 * error, once.  Not a failure of this input unless the socket
		 * is closed (a reset shows as ECONNRESET, or as TCP_CLOSE).
		 */
		if (n < 0 && errno == EPIPE && tcp_state(x->in_fd) != TCP_STATE_CLOSE) {
			x->io.calls++;
			n = recv(x->in_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		}

		/* The one call that looks at the input: counted like the others. */
		x->io.calls++;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			x->io.eagain++;
		x->moved = bss->redirected_bytes;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return io_fail(x, "recv", errno);
		/*
		 * n > 0: bytes the program has not taken yet (none, in
		 * practice); wait for them to go and for the FIN.  And on the
		 * output for POLLERR/POLLHUP (reported whatever is asked):
		 * a peer that went away.
		 */
		if (n != 0)
			return io_wait_ready(x, x->in_fd, POLLRDHUP, x->out_fd, 0);
		st->eof = true;
	}
	if (bss->failed_skbs)
		return io_fail(x, "sockmap_redirect", EPIPE);
	redirected = bss->redirected_bytes;
	x->moved = redirected;
	/*
	 * The verdict takes an skb off the receive queue before it counts
	 * it, so an empty queue and the FIN can be seen before the last bytes
	 * are counted, for as long as the softirq or kworker that runs it is
	 * held off (over 1 ms on a loaded machine: a rule of "the count held
	 * still over one tick" lost the last byte of 4194305 under the fault
	 * tests).  So the end is exact: every byte the input received
	 * (tcpi_bytes_received, final once the FIN is in) counted as
	 * redirected, and all of it left the psock backlog for the output.
	 */
	uint64_t received = received_by(x->in_fd);
	uint64_t written = written_to_output(x->out_fd) - st->written_base;

	if (redirected < received || written < redirected) {
		/*
		 * The source may have sent everything long before the backlog
		 * drains (the redirected skbs do not hold back its window), so
		 * this wait can last much of the transfer: a one-shot tick,
		 * re-armed (which also clears its count) at an interval that
		 * follows the drain, so the relay still wakes only a few times.
		 */
		struct itimerspec tick = { .it_value = { 0, 0 } };

		tick.it_value.tv_nsec = next_tick_ms(st, received != UINT64_MAX ? received : redirected,
						     written) * 1000000L;
		if (timerfd_settime(st->timer_fd, 0, &tick, NULL))
			return io_fail(x, "timerfd_settime", errno);
		return io_wait_ready(x, st->timer_fd, POLLIN, x->out_fd, 0);
	}
	return 0;
}

static void sockmap_teardown(struct xfer *x)
{
	struct sockmap_state *st = x->priv;

	if (!st)
		return;
	io_buffer_free(st->buf, x->block ? x->block : 65536, false);
	st->buf = NULL;
	if (st->timer_open)
		close(st->timer_fd);
	st->timer_open = false;
	unload(st);
}

#define SOCKMAP_PRIV sizeof(struct sockmap_state)
#else /* !HAVE_BPF */

#ifndef BPF_UNAVAILABLE
#define BPF_UNAVAILABLE "no reason given at build time"
#endif

/* The reason is the build's; the call names it (and the record keeps it). */
static int sockmap_setup(struct xfer *x)
{
	return (int)io_fail(x, "built_without_bpf", EOPNOTSUPP);
}

static ssize_t sockmap_move(struct xfer *x)
{
	return io_fail(x, "built_without_bpf", EOPNOTSUPP);
}

static void sockmap_teardown(struct xfer *x)
{
}

#define SOCKMAP_PRIV 0
#endif

#define SOCKMAP_SOCKETS_ONLY "a sockmap redirects between sockets; this path has a file, pipe or memory end"

const struct strategy strategy_sockmap = {
	.name = "sockmap",
	.summary = "BPF sockmap + sk_skb verdict: the kernel redirects each skb to the peer socket; the process only waits",
	.needs = "Linux 4.14 or later with a BPF sk_skb verdict program; root, or CAP_BPF with CAP_NET_ADMIN; the bytes never reach the relay process, so it can neither inspect nor change them",
	.caveat = {
		[SC_RELAY] = "its work runs in softirq and kworkers: judge it by system-wide CPU, not by the relay process's",
	},
	.support = {
		[SC_SERVE] = { .why_not = SOCKMAP_SOCKETS_ONLY },
		[SC_SEND] = { .why_not = SOCKMAP_SOCKETS_ONLY },
		[SC_RELAY] = { .ok = true },
		[SC_FANOUT] = { .why_not = "a verdict redirects each skb to one socket; it cannot also write a file" },
		[SC_STORE] = { .why_not = SOCKMAP_SOCKETS_ONLY },
		[SC_COPY] = { .why_not = SOCKMAP_SOCKETS_ONLY },
		[SC_ECHO] = { .ok = true },
		[SC_PIPE] = { .why_not = SOCKMAP_SOCKETS_ONLY },
		[SC_RECV] = { .why_not = SOCKMAP_SOCKETS_ONLY },
	},
	.tunables = 0,
	.unequal_answer_why_not = "a sockmap verdict redirects each received skb as it is, in the kernel, so it can only send back exactly what came: an answer of another size must be written from the server's own memory (readwrite)",
	.priv_size = SOCKMAP_PRIV,
	.setup = sockmap_setup,
	.move = sockmap_move,
	.teardown = sockmap_teardown,
	.af_unix_why_not = "AF_UNIX sockets redirect in a sockmap, but nothing tells when the last redirected byte has left the psock backlog, so the relay cannot end safely",
	.needs_privilege = "sockmap loads a BPF program, which needs root or CAP_BPF",
	.waits_beyond_sockets = "it waits on a timer while the kernel drains the BPF program's backlog",
	.cpu_elsewhere = "its redirects run in softirq and kworkers, charged to whoever is on the CPU, not to the process that plays the role",
};
