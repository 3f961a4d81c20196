/* SPDX-License-Identifier: MIT */
/* TCP_INFO of a role's sending sockets, summed (tcpinfo.h). */
#include "tcpinfo.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* Whether the kernel's answer of len bytes reaches field f (an older kernel copies less). */
#define HAS(len, f) ((len) >= offsetof(struct tcp_info, f) + sizeof(((struct tcp_info *)0)->f))

int tcp_facts_add(int fd, struct tcp_facts *sum)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int proto;
	socklen_t plen = sizeof(proto);

	if (fd < 0)
		return -EBADF;
	/* a pipe or a file: ENOTSOCK; an AF_UNIX socket: protocol 0 */
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) < 0)
		return -errno;
	if (proto != IPPROTO_TCP)
		return -EOPNOTSUPP;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	sum->sockets++;
	sum->retrans_segs += ti.tcpi_total_retrans;
	sum->rtt_us += ti.tcpi_rtt;
	sum->snd_cwnd += ti.tcpi_snd_cwnd;
	if (sum->sockets == 1)
		sum->snd_mss = ti.tcpi_snd_mss;
	if (HAS(len, tcpi_bytes_acked))
		sum->bytes_acked += ti.tcpi_bytes_acked;
	if (HAS(len, tcpi_sndbuf_limited)) {
		sum->busy_us += ti.tcpi_busy_time;
		sum->rwnd_limited_us += ti.tcpi_rwnd_limited;
		sum->sndbuf_limited_us += ti.tcpi_sndbuf_limited;
	}
	if (HAS(len, tcpi_bytes_retrans))
		sum->bytes_retrans += ti.tcpi_bytes_retrans;
	return 0;
}

void tcp_facts_finish(struct tcp_facts *sum)
{
	if (sum->sockets) {
		sum->rtt_us /= sum->sockets;
		sum->snd_cwnd /= sum->sockets;
	}
}
