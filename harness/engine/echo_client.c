/* SPDX-License-Identifier: MIT */
/*
 * Echo's client: requests of `block` bytes to the role under test, at most
 * `outstanding` in flight, every reply verified and every round trip timed.
 */
#include "fixed_roles.h"
#include "role_process.h"
#include "harness/model/base.h"

#include <poll.h>
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
 */
struct echo_state {
	const unsigned char *data;
	uint64_t size, block;
	uint64_t nmsgs, next, done;	/* messages: total, next to start, fully echoed */
	uint64_t sent;			/* bytes sent */
	unsigned outstanding;
	int64_t *t_start;		/* a ring of `outstanding` send times */
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

static int echo_send_some(int fd, struct echo_state *e, struct role_report *rep)
{
	if (e->next >= e->nmsgs)
		return 0;
	if (e->sent == e->next * e->block) {
		/* Starting message `next`, if the window of outstanding requests allows. */
		if (e->next - e->done >= e->outstanding)
			return 0;
		e->t_start[e->next % e->outstanding] = now_ns();
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

	uint64_t limit = min_u64(e->size, min_u64(e->recv.stop_at, e->recv.kill_at));

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
		while (e->done < e->next && verifier_received(v) >= echo_msg_end(e, e->done)) {
			latency_add(e->hist, (uint64_t)(now - e->t_start[e->done % e->outstanding]));
			e->done++;
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

static int echo_exchange(int fd, const struct role_ctx *r, struct echo_state *e, struct verifier *v,
			 struct role_report *rep)
{
	while (e->done < e->nmsgs && !rep->status) {
		bool partly_sent = e->sent > e->next * e->block;
		bool can_send = partly_sent || (e->next < e->nmsgs && e->next - e->done < e->outstanding);
		struct pollfd p = { .fd = fd, .events = POLLIN | (can_send ? POLLOUT : 0) };

		if (poll(&p, 1, -1) < 0) {
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
		.outstanding = r->c->outstanding ? r->c->outstanding : 1,
	};
	struct verifier v;
	struct window w;

	rep->verify = VERIFY_MISMATCH;
	payload_prefault(p);
	e.t_start = calloc(e.outstanding, sizeof(*e.t_start));
	e.hist = calloc(1, sizeof(*e.hist));
	if (!e.t_start || !e.hist || verifier_init(&v, &r->in->expected)) {
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
	if (verifier_finish(&v, &rep->digest))
		rep->verify = VERIFY_OK;
	snprintf(rep->note, sizeof(rep->note), "%s", v.note);
	verifier_free(&v);
	role_exit(r, rep);
}
