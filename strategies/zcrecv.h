/* SPDX-License-Identifier: MIT */
/*
 * TCP_ZEROCOPY_RECEIVE bookkeeping apart from the socket, so a unit test
 * can feed it synthetic results (tests/unit/test_zcrecv.c): what one
 * getsockopt said (pages mapped, bytes copied into the copy buffer, bytes
 * to read(), end of stream, an error), and where the next mapping goes in
 * the strategy's ring.
 */
#ifndef COPYLAB_ZCRECV_H
#define COPYLAB_ZCRECV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/tcp.h>

/* What one getsockopt(TCP_ZEROCOPY_RECEIVE) gave, in stream order. */
struct zcr_outcome {
	uint32_t mapped;	/* bytes now mapped at the address asked (whole pages) */
	uint32_t copied;	/* then: bytes the kernel copied into the copy buffer */
	uint32_t skip;		/* then: bytes that cannot be mapped: read() them */
	bool eof_maybe;		/* EIO with nothing queued: end of stream, to be confirmed */
	bool nothing;		/* nothing queued yet: wait for POLLIN */
	int err;		/* a positive errno: the call or the socket failed */
};

/*
 * Interpret one call: ret and call_errno as getsockopt returned them, zc
 * as it left the struct.  asked is the length requested (a mapped length
 * beyond it is a kernel contract broken: EPROTO).
 */
void zcrecv_interpret(int ret, int call_errno, const struct tcp_zerocopy_receive *zc,
		      uint32_t asked, uint32_t copybuf_len, struct zcr_outcome *o);

/*
 * Where the next mapping goes in a ring of ring_len bytes (page multiples):
 * *ask gets the length to ask at *pos, all the room left up to the ring's
 * end.  Asking for all of it matters: where a mapping ends because the
 * length asked ran out in the middle of a segment, the kernel fills the
 * copy buffer from the rest of that segment, the stream is then off page
 * alignment, and the rest of the segment can only be read().  When less
 * than min_room is left, *pos goes back to 0 and the return value is how
 * many bytes from the ring's start hold mappings the caller must drop
 * first (one madvise(MADV_DONTNEED) for the whole ring, never one per
 * chunk: unmapping costs about what a copy saves, so only batching pays).
 * 0 when nothing is to be dropped.
 */
size_t zcrecv_ring_next(size_t *pos, size_t ring_len, size_t min_room, size_t *ask);

#endif
