/* SPDX-License-Identifier: MIT */
/*
 * What both ends of nic mode share beyond remote.h: the framing and the
 * address handling that the driver (remote.c) and the daemons
 * (remote_daemon.c) both use.
 */
#ifndef COPYLAB_REMOTE_WIRE_H
#define COPYLAB_REMOTE_WIRE_H

#include "rep.h"
#include "harness/model/base.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* The daemon's SIGINT/SIGTERM (its number), 0 while it runs. */
extern volatile sig_atomic_t daemon_stop;

static inline int64_t mono_ms(void)
{
	return now_ns() / 1000000;
}

const char *remote_kind_name(enum role_kind k);
/* Reads exactly len bytes before the deadline (ms, -1: none).  0, -ETIMEDOUT, -EPIPE at EOF. */
int remote_read_exact(int fd, void *buf, size_t len, int64_t deadline);
/* Control messages are small and answered at once: no Nagle on the channel. */
void remote_nodelay(int fd);
/* {"ok":false,"error":text}, as far as the peer still listens. */
void remote_send_error(int fd, const char *text);
/* "host:port" or "[v6]:port" into host and port.  0 or -EINVAL. */
int remote_split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen);
/* SO_SNDBUF, SO_RCVBUF when non-zero.  0 or -errno. */
int remote_apply_sockopts(int fd, int sndbuf, int rcvbuf);

#endif
