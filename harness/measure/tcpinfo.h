/* SPDX-License-Identifier: MIT */
/*
 * TCP's own view of a role's sending sockets (tcpinfo.c): what iperf3 and
 * ss report from TCP_INFO — segments retransmitted, the smoothed round
 * trip, the congestion window — and the kernel's "chrono" times, which say
 * what held a sender back: the receiver's window, or its own send buffer.
 * Read by the role itself at its window's end (after the ledger closed:
 * not the role's work), so a sender's bytes still in flight then are not
 * yet acknowledged in it.
 */
#ifndef COPYLAB_MEASURE_TCPINFO_H
#define COPYLAB_MEASURE_TCPINFO_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_facts {
	uint32_t sockets;		/* TCP sockets read; 0: none (not TCP, or closed) */
	uint64_t retrans_segs;		/* tcpi_total_retrans, summed */
	uint64_t bytes_retrans;		/* tcpi_bytes_retrans, summed */
	uint64_t bytes_acked;		/* tcpi_bytes_acked, summed */
	uint64_t busy_us;		/* tcpi_busy_time: time with data to send, summed */
	uint64_t rwnd_limited_us;	/* of it, held by the receiver's window */
	uint64_t sndbuf_limited_us;	/* of it, held by the send buffer (the application's writes) */
	double rtt_us;			/* tcpi_rtt, smoothed, the mean over the sockets */
	double snd_cwnd;		/* tcpi_snd_cwnd in segments, the mean */
	uint32_t snd_mss;		/* of the first socket */
};

/* Adds fd's TCP_INFO to *sum; 0, or -errno (ENOTSOCK, EOPNOTSUPP: not TCP; EBADF: closed). */
int tcp_facts_add(int fd, struct tcp_facts *sum);
/* The means from the sums, once every socket is added. */
void tcp_facts_finish(struct tcp_facts *sum);

#endif
