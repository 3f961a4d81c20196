/* SPDX-License-Identifier: MIT */
/*
 * Transports: how two socket endpoints are connected.  The parent makes
 * each connected pair before it forks the roles, so no role races another
 * to listen or connect, and a pair made in another network namespace (a
 * later veth transport) is still just two descriptors.
 */
#ifndef COPYLAB_TRANSPORT_H
#define COPYLAB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

enum transport { TR_TCP, TR_UNIX, TR_COUNT };

struct sockopts {
	int sndbuf;		/* SO_SNDBUF, 0 = kernel default */
	int rcvbuf;		/* SO_RCVBUF, 0 = kernel default */
	bool nodelay;		/* TCP_NODELAY (request/response traffic) */
};

const char *transport_name(enum transport t);
int transport_find(const char *name);	/* -1 when unknown */
const char *transport_names(char *buf, size_t len);

/*
 * A connected stream pair: *up is the end that sends toward *down.
 * 0, or -errno with err naming the call that failed.
 */
int transport_pair(enum transport t, const struct sockopts *o, int *up, int *down,
		   char *err, size_t errlen);

#endif
