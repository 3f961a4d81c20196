/* SPDX-License-Identifier: MIT */
/*
 * The fixed source: the payload over the scenario's socket in blocks of
 * FIXED_IO_BLOCK, with MSG_ZEROCOPY over lo-ns, the faults of --fault at
 * exact byte counts, and with --conns all connections from one poll loop.
 */
#include "fixed_roles.h"
#include "role_process.h"
#include "strategies/zerocopy.h"
#include "harness/model/base.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* Write all of buf to a socket (MSG_NOSIGNAL: an early close is EPIPE, not a signal). */
static int send_all(int fd, const unsigned char *buf, size_t len, struct role_report *rep)
{
	while (len > 0) {
		ssize_t n = count_call(&rep->res.io, send(fd, buf, len, MSG_NOSIGNAL), len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return set_error(rep, errno, "send", NULL);
		buf += n;
		len -= n;
		rep->res.bytes += n;
		note_progress(rep);
	}
	return 0;
}

/*
 * Take every zero-copy completion waiting on the error queue, waiting for
 * one first when `wait` (the kernel refused to pin more: ENOBUFS).  The
 * payload never changes, so completions only free the kernel's count of
 * pinned memory; a real error on the queue fails the role, and so does a
 * wait in which no completion comes (nothing in flight: waiting cannot help).
 */
static int reap_zerocopy(int fd, bool wait, struct role_report *rep)
{
	struct pollfd pf = { .fd = fd, .events = 0 };
	int n = 0;

	if (wait) {
		n = poll(&pf, 1, 2000);
		if (n < 0 && errno != EINTR)
			return set_error(rep, errno, "poll", "zero-copy completions");
		if (n == 0)
			return set_error(rep, ENOBUFS, "send",
					 "MSG_ZEROCOPY: the kernel pins no more and no completion came");
	}
	for (;;) {
		char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct msghdr msg = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };

		if (count_call(&rep->res.io, recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT), 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return set_error(rep, errno, "recvmsg", "error queue");
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct zc_range zr;
			int err = 0;

			if (zerocopy_parse_cmsg(cm, &zr, &err) == ZC_ERROR)
				return set_error(rep, err, "recvmsg", "error queue");
		}
	}
}

/* send_all with MSG_ZEROCOPY: the sender zerocopy_recv needs to find whole pages. */
static int send_all_zerocopy(int fd, const unsigned char *buf, size_t len, struct role_report *rep)
{
	while (len > 0) {
		ssize_t n = count_call(&rep->res.io, send(fd, buf, len, MSG_NOSIGNAL | MSG_ZEROCOPY), len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			if (reap_zerocopy(fd, true, rep))
				return rep->status;
			continue;
		}
		if (n < 0)
			return set_error(rep, errno, "send", "MSG_ZEROCOPY");
		buf += n;
		len -= n;
		rep->res.bytes += n;
		note_progress(rep);
	}
	return 0;
}

/*
 * The fixed source of every cell over lo-ns sends with MSG_ZEROCOPY, for
 * every strategy alike: only then do received pages stay whole pages that
 * zerocopy_recv can map (a plain send() on loopback packs the data into
 * the socket's page fragments, and 0% maps).
 */
static bool source_uses_zerocopy(const struct role_ctx *r)
{
	return r->c->transport == TR_LONS;
}

/*
 * --conns N: the source sends connection k's slice on out_fds[k], all N
 * from one poll() loop over non-blocking sockets, shutting each down after
 * its last byte.
 */
static int send_many(const struct role_ctx *r, struct role_report *rep)
{
	const struct payload *p = &r->in->payload;
	int n = r->nconn, left = n;
	uint64_t *next = calloc(n, sizeof(*next)), *end = calloc(n, sizeof(*end));
	struct pollfd *pf = calloc(n, sizeof(*pf));
	int *idx = calloc(n, sizeof(*idx));

	if (!next || !end || !pf || !idx) {
		set_error(rep, ENOMEM, "calloc", "source connections");
		goto out;
	}
	for (int k = 0; k < n; k++) {
		uint64_t off, len;

		conn_slice(p->size, n, k, &off, &len);
		next[k] = off;
		end[k] = off + len;
		if (set_nonblock(r->out_fds[k])) {
			set_error(rep, errno, "fcntl(O_NONBLOCK)", "source");
			goto out;
		}
		if (len == 0) {
			shutdown(r->out_fds[k], SHUT_WR);
			left--;
		}
	}
	while (left > 0) {
		int np = 0;

		for (int k = 0; k < n; k++)
			if (next[k] < end[k]) {
				pf[np] = (struct pollfd){ .fd = r->out_fds[k], .events = POLLOUT };
				idx[np++] = k;
			}
		if (poll(pf, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			set_error(rep, errno, "poll", "source");
			goto out;
		}
		for (int j = 0; j < np; j++) {
			int k = idx[j];

			if (!pf[j].revents)
				continue;
			/*
			 * A few blocks per connection in turn: a loopback socket takes
			 * megabytes before EAGAIN, and sending one connection's share
			 * whole would make the source, not the role under test, decide
			 * the spread of completion times.
			 */
			for (int b = 0; b < FIXED_TURN_CALLS && next[k] < end[k]; b++) {
				size_t len = end[k] - next[k] < FIXED_IO_BLOCK ? end[k] - next[k] : FIXED_IO_BLOCK;
				ssize_t m = count_call(&rep->res.io, send(r->out_fds[k], p->data + next[k], len,
									 MSG_NOSIGNAL), len);

				if (m < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (m < 0) {
					char what[48];

					snprintf(what, sizeof(what), "connection %d of %d", k + 1, n);
					set_error(rep, errno, "send", what);
					goto out;
				}
				next[k] += m;
				rep->res.bytes += m;
				note_progress(rep);
			}
			if (next[k] == end[k]) {
				shutdown(r->out_fds[k], SHUT_WR);
				left--;
			}
		}
	}
out:
	free(next);
	free(end);
	free(pf);
	free(idx);
	return rep->status;
}

void run_source(const struct role_ctx *r, struct role_report *rep)
{
	const struct payload *p = &r->in->payload;
	bool zc = source_uses_zerocopy(r);
	enum fault_kind fk = r->c->fault.kind;
	uint64_t end = p->size, die = kill_at(r);
	struct window w;
	int one = 1;

	/* source-reset / source-halfclose / kill: the stream stops at exactly N bytes. */
	if (fk == FAULT_SOURCE_RESET || fk == FAULT_SOURCE_HALFCLOSE)
		end = min_u64(end, r->c->fault.n);
	end = min_u64(end, die);
	snprintf(rep->fixed_sender, sizeof(rep->fixed_sender), "%s", zc ? "msg_zerocopy" : "send");
	if (zc && setsockopt(r->out_fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		set_error(rep, errno, "setsockopt", "SO_ZEROCOPY");
		role_exit(r, rep);
	}
	payload_prefault(p);
	window_prepare(r, &w, rep);
	if (window_open(r, &w, rep))
		role_exit(r, rep);
	if (r->nconn > 1) {
		send_many(r, rep);
		window_close(r, &w, rep);
		role_exit(r, rep);
	}
	/* --time: the ring again and again, until the time is up (a block's send between looks at the clock). */
	int64_t stop_ns = r->c->time_s > 0 ? now_ns() + (int64_t)(r->c->time_s * 1e9) : 0;

	if (stop_ns)
		end = UINT64_MAX;
	for (uint64_t off = 0; off < end && !rep->status; off += FIXED_IO_BLOCK) {
		size_t len = end - off < FIXED_IO_BLOCK ? end - off : FIXED_IO_BLOCK;
		const unsigned char *at = p->data + (stop_ns ? off % p->size : off);

		if (stop_ns && now_ns() >= stop_ns)
			break;
		if (zc) {
			send_all_zerocopy(r->out_fd, at, len, rep);
			/* Completions pile up on the error queue: take them as they come. */
			if (!rep->status && (off / FIXED_IO_BLOCK) % 16 == 15)
				reap_zerocopy(r->out_fd, false, rep);
		} else {
			send_all(r->out_fd, at, len, rep);
		}
	}
	if (die != UINT64_MAX && !rep->status)
		die_by_sigkill();
	if ((fk == FAULT_SOURCE_RESET || fk == FAULT_SOURCE_HALFCLOSE) && !rep->status &&
	    rep->res.bytes == r->c->fault.n)
		fault_fired(rep, rep->res.bytes);
	if (fk == FAULT_SOURCE_RESET && !rep->status)
		reset_connection(r->out_fd);
	else if (!rep->status)
		shutdown(r->out_fd, SHUT_WR);
	window_close(r, &w, rep);
	role_exit(r, rep);
}
