/* SPDX-License-Identifier: MIT */
/*
 * MSG_ZEROCOPY completion parsing, apart from the sockets so that a unit
 * test can feed it synthetic error-queue data (tests/unit/test_zerocopy.c).
 *
 * Each successful send(MSG_ZEROCOPY) takes the next 32-bit sequence number
 * of its socket.  The kernel reports finished sends on the socket's error
 * queue as a struct sock_extended_err with ee_origin SO_EE_ORIGIN_ZEROCOPY
 * and the inclusive range [ee_info, ee_data] of sequence numbers (ranges
 * of consecutive sends merge into one notification).  ee_code carries
 * SO_EE_CODE_ZEROCOPY_COPIED when the kernel copied the data after all:
 * toward a local socket (loopback, veth into a local stack), or a device
 * without scatter-gather.
 */
#ifndef COPYLAB_ZEROCOPY_H
#define COPYLAB_ZEROCOPY_H

#include "strategy.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* glibc before 2.27 (and some libcs) lack them; the kernel has had both since 4.14. */
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

struct zc_range {
	uint32_t lo, hi;	/* inclusive; hi may have wrapped below lo */
	bool copied;		/* SO_EE_CODE_ZEROCOPY_COPIED */
};

enum zc_parse {
	ZC_NOT_ZEROCOPY = 0,	/* some other control message: ignore it */
	ZC_RANGE = 1,		/* *r filled */
	ZC_ERROR = -1,		/* a real socket error on the queue: *err set */
};

/*
 * One control message of a recvmsg(MSG_ERRQUEUE).  An IP_RECVERR /
 * IPV6_RECVERR message of origin SO_EE_ORIGIN_ZEROCOPY is a range; one of
 * another origin with an ee_errno is an error (e.g. an ICMP report).
 */
enum zc_parse zerocopy_parse_cmsg(const struct cmsghdr *cm, struct zc_range *r, int *err);

/* Sends in a range: hi - lo + 1 modulo 2^32 (ranges may wrap). */
static inline uint32_t zerocopy_range_len(const struct zc_range *r)
{
	return r->hi - r->lo + 1;
}

/*
 * Sequence numbers still in flight, and their sizes: a ring indexed by
 * sequence number modulo ZC_TRACK.  A sender keeps fewer than ZC_TRACK
 * sends in flight, so each in-flight number has its own entry.
 */
#define ZC_TRACK 1024

struct zc_tracker {
	uint32_t next_seq;		/* the number the next send will take */
	uint32_t inflight;		/* sends not yet completed */
	uint32_t bytes[ZC_TRACK];	/* size of send seq, by seq % ZC_TRACK */
	uint16_t tag[ZC_TRACK];		/* caller's tag (e.g. buffer index) */
	bool pending[ZC_TRACK];
};

/* Note a send of n bytes that took the next sequence number. */
void zerocopy_track_send(struct zc_tracker *t, struct zerocopy_counters *zc, uint32_t n,
			 uint16_t tag);

/*
 * Account a completion range: sends become completions, copied ones count
 * (with their bytes) as copied.  done(tag) is called per send completed,
 * when given.  Numbers not in flight (a duplicate or a corrupt range) are
 * ignored and counted in the return value: 0 means the range was clean.
 */
uint32_t zerocopy_complete(struct zc_tracker *t, struct zerocopy_counters *zc,
			   const struct zc_range *r, void (*done)(void *arg, uint16_t tag),
			   void *arg);

#endif
