/* SPDX-License-Identifier: MIT */
/*
 * Echo's client: requests of `block` bytes to the role under test, at most
 * `outstanding` in flight, every reply verified and every round trip timed.
 * A reply is the request itself, or with --response the request's bytes
 * over and over to that many bytes (verify.h: expected_fill).
 * Closed loop by default (a request leaves when the window allows); open
 * loop with --rps (each leaves at its scheduled time).
 */
#include "fixed_roles.h"
#include "role_process.h"
#include "harness/model/base.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Request/response: messages of `block` bytes, at most `outstanding` of
 * them sent and not yet fully echoed.  Sending and receiving interleave in
 * one poll() loop: a message larger than the socket buffers would
 * otherwise deadlock, the server blocked on a full send buffer that the
 * client, still sending, never drains.  Every round trip — from the first
 * byte of a message sent to its last byte back — goes into the histogram.
 *
 * Open loop (--rps R): message m is due at t0 + m / R and its round trip
 * counts from then, not from when it left.  A client that waited for a
 * reply before sending would send less when the server stalls and time
 * only the requests that got through quickly (coordinated omission, which
 * wrk2 corrects); here a stall shows in the latency of every request that
 * was due during it.
 */
struct echo_state {
	const unsigned char *data;
	uint64_t size, block;
	uint64_t nmsgs, next, done;	/* messages: total, next to start, fully echoed */
	uint64_t answer;		/* --response: bytes of each reply; 0: a reply is its request */
	uint64_t back;			/* bytes that come back in all */
	uint64_t sent;			/* bytes sent */
	unsigned outstanding;
	int64_t *t_start;		/* a ring of `outstanding` send times (open loop: due times) */
	int64_t t0, period_ns;		/* open loop: message m is due at t0 + m * period_ns; period 0: closed */
	int64_t last_reply;		/* when the last full reply came back */
	int64_t lag_max;		/* open loop: the latest a message started after it was due */
	struct latency_hist *hist;
	/* --fault: the client acts at these byte counts (UINT64_MAX: never). */
	uint64_t send_until;		/* source-reset, source-halfclose: sends stop here */
	struct recv_plan recv;		/* sink-reset, sink-stall, sink-slow, kill */
	bool ended;			/* a fault ended the exchange (reset or half-close) */
};

static uint64_t echo_msg_end(const struct echo_state *e, uint64_t m)
{
	uint64_t end = (m + 1) * e->block;

	return end < e->size ? end : e->size;
}

/* Where the reply to message m ends in the stream that comes back. */
static uint64_t echo_reply_end(const struct echo_state *e, uint64_t m)
{
	return e->answer ? (m + 1) * e->answer : echo_msg_end(e, m);
}

static int echo_send_some(int fd, struct echo_state *e, struct role_report *rep)
{
	if (e->next >= e->nmsgs)
		return 0;
	if (e->sent == e->next * e->block) {
		/* Starting message `next`, if the window of outstanding requests allows. */
		int64_t now = now_ns();

		if (e->next - e->done >= e->outstanding)
			return 0;
		if (e->period_ns) {
			int64_t due = e->t0 + (int64_t)e->next * e->period_ns;

			if (now < due)
				return 0;
			if (now - due > e->lag_max)
				e->lag_max = now - due;
			now = due;
		}
		e->t_start[e->next % e->outstanding] = now;
	}
	uint64_t end = min_u64(echo_msg_end(e, e->next), e->send_until);
	ssize_t n = count_call(&rep->res.io, send(fd, e->data + e->sent, end - e->sent,
						  MSG_NOSIGNAL | MSG_DONTWAIT), end - e->sent);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return set_error(rep, errno, "send", NULL);
	if (n > 0) {
		e->sent += n;
		note_progress(rep);
		if (e->sent == echo_msg_end(e, e->next))
			e->next++;
	}
	return 0;
}

static int echo_receive_some(int fd, struct echo_state *e, struct verifier *v, struct role_report *rep)
{
	size_t room;
	unsigned char *at = verifier_space(v, &room);
	ssize_t n;

	uint64_t limit = min_u64(e->back, min_u64(e->recv.stop_at, e->recv.kill_at));

	if (limit - verifier_received(v) < room)
		room = limit - verifier_received(v);
	if (e->recv.max_read && room > e->recv.max_read)
		room = e->recv.max_read;
	n = count_call(&rep->res.io, recv(fd, at, room, MSG_DONTWAIT), room);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return set_error(rep, errno, "recv", NULL);
	if (n == 0)
		return set_error(rep, EPIPE, "recv", "the server closed before echoing everything");
	if (n > 0) {
		int64_t now = now_ns();

		verifier_commit(v, n);
		rep->res.bytes += n;
		note_progress(rep);
		while (e->done < e->next && verifier_received(v) >= echo_reply_end(e, e->done)) {
			latency_add(e->hist, (uint64_t)(now - e->t_start[e->done % e->outstanding]));
			e->done++;
			e->last_reply = now;
		}
		if (e->recv.sleep_us) {
			fault_fired(rep, verifier_received(v));
			usleep(e->recv.sleep_us);
		}
	}
	return 0;
}

/*
 * The faults of --fault that end the client's exchange early.  True when
 * the exchange is over (the connection reset or half-closed).
 */
static bool echo_fault(int fd, const struct role_ctx *r, struct echo_state *e, struct verifier *v,
		       struct role_report *rep)
{
	enum fault_kind fk = r->c->fault.kind;
	uint64_t got = verifier_received(v);

	if (got >= e->recv.kill_at)
		die_by_sigkill();
	if (fk == FAULT_SINK_STALL && got >= e->recv.stop_at)
		stall_forever();
	if (fk == FAULT_SINK_RESET && got >= e->recv.stop_at) {
		fault_fired(rep, got);
		reset_connection(fd);
		return e->ended = true;
	}
	if (fk == FAULT_SOURCE_RESET && e->sent >= e->send_until) {
		fault_fired(rep, e->sent);
		reset_connection(fd);
		return e->ended = true;
	}
	if (fk == FAULT_SOURCE_HALFCLOSE && e->sent >= e->send_until) {
		fault_fired(rep, e->sent);
		/* The client finishes early: what it sent comes back, then EOF. */
		shutdown(fd, SHUT_WR);
		receive_verified(fd, v, &plain_receive, rep);
		return e->ended = true;
	}
	return false;
}

/*
 * Open loop: how long poll may sleep before the next message is due (NULL:
 * no limit); *due_now when it is due already.  Closed loop: no limit.
 */
static const struct timespec *until_due(const struct echo_state *e, bool *due_now, struct timespec *ts)
{
	int64_t wait;

	*due_now = true;
	if (!e->period_ns || e->next >= e->nmsgs)
		return NULL;
	wait = e->t0 + (int64_t)e->next * e->period_ns - now_ns();
	if (wait <= 0)
		return NULL;
	*due_now = false;
	ts->tv_sec = wait / 1000000000;
	ts->tv_nsec = wait % 1000000000;
	return ts;
}

static int echo_exchange(int fd, const struct role_ctx *r, struct echo_state *e, struct verifier *v,
			 struct role_report *rep)
{
	while (e->done < e->nmsgs && !rep->status) {
		bool partly_sent = e->sent > e->next * e->block, due_now;
		struct timespec ts;
		const struct timespec *limit = until_due(e, &due_now, &ts);
		bool window = e->next < e->nmsgs && e->next - e->done < e->outstanding;
		bool can_send = partly_sent || (window && due_now);
		struct pollfd p = { .fd = fd, .events = POLLIN | (can_send ? POLLOUT : 0) };

		/* a full window waits for a reply, not for the schedule */
		if (ppoll(&p, 1, window && !partly_sent ? limit : NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			return set_error(rep, errno, "poll", NULL);
		}
		if (can_send && (p.revents & (POLLOUT | POLLERR)) && echo_send_some(fd, e, rep))
			break;
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && echo_receive_some(fd, e, v, rep))
			break;
		if (r->c->fault.kind != FAULT_NONE && echo_fault(fd, r, e, v, rep))
			break;
	}
	return rep->status;
}

void run_echo_client(const struct role_ctx *r, struct role_report *rep)
{
	const struct payload *p = &r->in->payload;
	struct echo_state e = {
		.data = p->data, .size = p->size, .block = r->c->block,
		.nmsgs = (p->size + r->c->block - 1) / r->c->block,
		.outstanding = echo_window(r->c),
		.period_ns = r->c->rps ? (int64_t)(1e9 / r->c->rps) : 0,
		.answer = r->c->response,
	};
	/* --response: the size is whole requests (checked by the command), each answered in full */
	const struct expected *back = r->c->response ? &r->in->answers : &r->in->expected;
	struct verifier v;
	struct window w;

	rep->verify = VERIFY_MISMATCH;
	payload_prefault(p);
	e.t_start = calloc(e.outstanding, sizeof(*e.t_start));
	e.hist = calloc(1, sizeof(*e.hist));
	e.back = back->total;
	if (!e.t_start || !e.hist || verifier_init(&v, back)) {
		set_error(rep, ENOMEM, "malloc", "echo client");
		role_exit(r, rep);
	}
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	e.send_until = UINT64_MAX;
	if (r->c->fault.kind == FAULT_SOURCE_RESET || r->c->fault.kind == FAULT_SOURCE_HALFCLOSE)
		e.send_until = r->c->fault.n;
	e.recv = receiver_plan(r);
	if (r->c->fault.kind == FAULT_SINK_SLOW)
		shrink_receive_buffer(r->in_fd);
	e.t0 = e.last_reply = now_ns();
	echo_exchange(r->out_fd, r, &e, &v, rep);
	if (!rep->status && !e.ended) {
		shutdown(r->out_fd, SHUT_WR);
		/* Anything after the last reply is extra data: the verifier catches it. */
		receive_verified(r->in_fd, &v, &plain_receive, rep);
	}
	window_close(r, &w, rep);
	/* Percentiles after the window: they cost nothing inside it. */
	rep->latency.outstanding = e.outstanding;
	latency_summarize(e.hist, &rep->latency);
	rep->latency.offered_rps = r->c->rps;
	rep->latency.achieved_rps = e.last_reply > e.t0 ? e.done / ((double)(e.last_reply - e.t0) / 1e9) : NAN;
	rep->latency.send_lag_max_us = e.period_ns ? e.lag_max / 1e3 : NAN;
	if (verifier_finish(&v, &rep->digest))
		rep->verify = VERIFY_OK;
	snprintf(rep->note, sizeof(rep->note), "%s", v.note);
	verifier_free(&v);
	role_exit(r, rep);
}

/* All of p back to fd, every call counted. */
static int echo_back(int fd, const unsigned char *p, size_t len, struct role_report *rep)
{
	while (len) {
		ssize_t n = count_call(&rep->res.io, write(fd, p, len), len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return set_error(rep, errno, "write", "echoing back through the relay");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * relay's round trip: the far end echoes every byte back through the
 * relay, read and write with one buffer, the same for every strategy under
 * test, until the client's end of stream has come through; then it ends
 * its own direction.  It verifies nothing: the client checks every reply
 * that made it through both ways.
 */
void run_echo_far(const struct role_ctx *r, struct role_report *rep)
{
	unsigned char *buf = malloc(FIXED_IO_BLOCK);
	struct window w;
	ssize_t n = 1;

	if (!buf) {
		set_error(rep, ENOMEM, "malloc", "far echo");
		role_exit(r, rep);
	}
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	while (n > 0 && !rep->status) {
		n = count_call(&rep->res.io, read(r->in_fd, buf, FIXED_IO_BLOCK), FIXED_IO_BLOCK);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n < 0)
			set_error(rep, errno, "read", NULL);
		else if (n > 0 && echo_back(r->out_fd, buf, (size_t)n, rep) == 0) {
			rep->res.bytes += (uint64_t)n;
			note_progress(rep);
		}
	}
	if (!rep->status)
		shutdown(r->out_fd, SHUT_WR);
	window_close(r, &w, rep);
	free(buf);
	role_exit(r, rep);
}
