/* SPDX-License-Identifier: MIT */
/* Loopback TCP and AF_UNIX stream pairs. */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const names[TR_COUNT] = { [TR_TCP] = "tcp", [TR_UNIX] = "unix" };

const char *transport_name(enum transport t)
{
	return t < TR_COUNT ? names[t] : "?";
}

int transport_find(const char *name)
{
	for (int i = 0; i < TR_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *transport_names(char *buf, size_t len)
{
	snprintf(buf, len, "tcp, unix");
	return buf;
}

static int fail(char *err, size_t errlen, const char *call, int fd1, int fd2)
{
	int e = errno;

	snprintf(err, errlen, "%s: %s", call, strerror(e));
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	return -e;
}

/* Buffer sizes go on before connect so TCP's window scale is chosen for them. */
static int apply_bufs(int fd, const struct sockopts *o, char *err, size_t errlen)
{
	if (o->sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf)))
		return fail(err, errlen, "setsockopt(SO_SNDBUF)", -1, -1);
	if (o->rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf)))
		return fail(err, errlen, "setsockopt(SO_RCVBUF)", -1, -1);
	return 0;
}

static int tcp_pair(const struct sockopts *o, int *up, int *down, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1, lfd, cfd = -1, afd, r;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return fail(err, errlen, "socket", -1, -1);
	if ((r = apply_bufs(lfd, o, err, errlen)))
		goto out;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen))
		return fail(err, errlen, "bind/listen on 127.0.0.1", lfd, -1);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0)
		return fail(err, errlen, "socket", lfd, -1);
	if ((r = apply_bufs(cfd, o, err, errlen)))
		goto out;
	if (connect(cfd, (struct sockaddr *)&a, sizeof(a)))
		return fail(err, errlen, "connect to 127.0.0.1", lfd, cfd);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		return fail(err, errlen, "accept4", lfd, cfd);
	close(lfd);
	if (o->nodelay) {
		setsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	*up = cfd;
	*down = afd;
	return 0;
out:
	close(lfd);
	if (cfd >= 0)
		close(cfd);
	return r;
}

static int unix_pair(const struct sockopts *o, int *up, int *down, char *err, size_t errlen)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return fail(err, errlen, "socketpair(AF_UNIX)", -1, -1);
	if ((r = apply_bufs(sv[0], o, err, errlen)) || (r = apply_bufs(sv[1], o, err, errlen))) {
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	*up = sv[0];
	*down = sv[1];
	return 0;
}

int transport_pair(enum transport t, const struct sockopts *o, int *up, int *down,
		   char *err, size_t errlen)
{
	switch (t) {
	case TR_TCP:
		return tcp_pair(o, up, down, err, errlen);
	case TR_UNIX:
		return unix_pair(o, up, down, err, errlen);
	default:
		snprintf(err, errlen, "unknown transport");
		return -EINVAL;
	}
}
