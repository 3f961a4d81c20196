/* SPDX-License-Identifier: MIT */
/*
 * The plumbing under `copylab serve` and `copylab relay` (server.c builds
 * their server from it): address parsing, the listening socket, an epoll
 * set whose entries point at small handles, the stop and log signals as
 * a descriptor, and a strategy's wait[] turned into epoll interest.
 * Level-triggered throughout: a connection that stops after its budget is
 * reported again, so no client can starve the others.
 */
#ifndef COPYLAB_EVLOOP_H
#define COPYLAB_EVLOOP_H

#include "strategies/strategy.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* What an epoll entry points at: the owner and which of its descriptors. */
struct ev_handle {
	int kind;	/* the tool's own tag, 0 and up (server.c's are negative) */
	int fd;
	void *owner;
};

/* "127.0.0.1:8080", "[::1]:8080".  0, or -1 with err filled. */
int ev_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		  char *err, size_t errlen);
/* "127.0.0.1:8080" of a socket's local (peer = false) or remote address. */
const char *ev_addr_str(int fd, bool peer, char *buf, size_t len);

/* A non-blocking listening socket bound to exactly that address.  fd or -errno. */
int ev_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog);

int ev_epoll(void);
int ev_add(int ep, struct ev_handle *h, uint32_t events);
int ev_mod(int ep, struct ev_handle *h, uint32_t events);
void ev_del(int ep, int fd);

/*
 * SIGINT, SIGTERM, SIGQUIT (stop) and SIGHUP (reopen the log) blocked and
 * delivered through a signalfd (returned), so none kills the server
 * between two steps of a connection;
 * SIGPIPE ignored (sendfile and splice to a closed socket would raise it).
 */
int ev_signals(void);
/* Reads one signal from the signalfd: its number, or 0. */
int ev_signal_read(int sfd);

/* Raises RLIMIT_NOFILE to its hard limit; returns the soft limit now. */
long ev_raise_nofile(void);

int64_t ev_now_ms(void);

/* poll(2) events of a strategy's wait[] as epoll events (POLLRDHUP too). */
uint32_t ev_from_poll(short events);
/*
 * The socket's pending error (SO_ERROR, which reading clears), or 0.
 * EPOLLERR means "sk_err is set, or the error queue holds something": with
 * 0 here it is the error queue, a zero-copy strategy's completions, not a
 * dead peer.  Both tools ask this before closing a connection on EPOLLERR.
 */
int ev_socket_error(int fd);

/*
 * Where the tools run a strategy, for strategy_refusal: on real sockets,
 * not one of copylab run's transports (NULL), in their own process, privilege not judged up front (a strategy that needs one
 * fails its setup, and the tool names the call).  Only a strategy whose
 * role no process plays (role_replaced_by: nat) is refused: what else a
 * strategy waits on (waits_beyond_sockets: an io_uring ring, a timer, the
 * socket's error queue) is a descriptor in x->wait that both tools add to
 * their epoll set beside the connection's sockets.
 */
#define EV_PLACE(sc) ((struct strategy_place){ .scenario = (sc), .transport = NULL, \
					       .own_process = true, .privileged = -1 })

/*
 * The tools' call sizes.  A strategy whose calls cost no user memory
 * (no_user_buffer: sendfile, splice) asks for up to `big` bytes a call
 * unless --block was given, and for a pipe of EV_PIPE_SIZE unless its
 * label names one (the kernel may grant less: pipe-max-size, the per-user
 * pipe budget; the strategy reports what it got).  Others keep *block:
 * their buffer is *block bytes per connection.
 */
#define EV_PIPE_SIZE (1u << 20)
void ev_call_sizes(const struct strategy *s, struct tunables *tun, size_t *block, bool block_set, size_t big);

#endif
