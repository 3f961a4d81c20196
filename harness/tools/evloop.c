/* SPDX-License-Identifier: MIT */
/* The epoll plumbing of `copylab serve` and `copylab relay` (see evloop.h). */
#include "evloop.h"
#include "harness/model/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

int ev_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		  char *err, size_t errlen)
{
	char host[128];
	const char *colon, *port, *h = s;
	size_t hlen;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int r;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		h = s + 1;
		hlen = (size_t)(close - h);
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host) || !*port)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		snprintf(err, errlen, "'%s': %s (give a numeric ADDR:PORT, e.g. 127.0.0.1:8080)",
			 s, gai_strerror(r));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)", s);
	return -1;
}

const char *ev_addr_str(int fd, bool peer, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
		  : getsockname(fd, (struct sockaddr *)&ss, &sl)) < 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

int ev_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog)
{
	int one = 1, err;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* A restart must not wait out TIME_WAIT of the last run's connections. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, backlog) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int ev_epoll(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

int ev_add(int ep, struct ev_handle *h, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = h };

	return epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &e) < 0 ? -errno : 0;
}

int ev_mod(int ep, struct ev_handle *h, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = h };

	return epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &e) < 0 ? -errno : 0;
}

void ev_del(int ep, int fd)
{
	if (fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
}

int ev_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int ev_signal_read(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

long ev_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 1L << 20 ? 1L << 20 : (long)rl.rlim_cur;
}

int64_t ev_now_ms(void)
{
	return now_ns() / 1000000;
}

int ev_socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

uint32_t ev_from_poll(short events)
{
	return ((events & POLLIN) ? EPOLLIN : 0) | ((events & POLLOUT) ? EPOLLOUT : 0) |
	       ((events & POLLRDHUP) ? EPOLLRDHUP : 0) | ((events & POLLPRI) ? EPOLLPRI : 0) |
	       ((events & POLLERR) ? EPOLLERR : 0);
}

/*
 * Why: at 64 KiB a call, copylab serve made 16384 sendfile calls per GiB
 * where nginx (sendfile_max_chunk 2m) made about 850, and copylab relay's
 * splice moved 64 KiB per pipe where a 1 MiB pipe takes 13 times fewer
 * calls (docs/tools.md).  The cap still bounds what one connection moves
 * before the loop turns to the next.
 */
void ev_call_sizes(const struct strategy *s, struct tunables *tun, size_t *block, bool block_set, size_t big)
{
	if (!s->no_user_buffer)
		return;
	if (!block_set)
		*block = big;
	if ((s->tunables & TUN_PIPE_SIZE) && !(tun->set & TUN_PIPE_SIZE)) {
		tun->set |= TUN_PIPE_SIZE;
		tun->pipe_size = EV_PIPE_SIZE;
	}
}

