/* SPDX-License-Identifier: MIT */
/* TCP_ZEROCOPY_RECEIVE result interpretation and ring placement (zcrecv.h). */
#include "zcrecv.h"

#include <errno.h>
#include <string.h>

void zcrecv_interpret(int ret, int call_errno, const struct tcp_zerocopy_receive *zc,
		      uint32_t asked, uint32_t copybuf_len, struct zcr_outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (ret < 0) {
		/*
		 * The kernel says EIO when nothing is queued and the peer's FIN
		 * has arrived; the caller confirms it is the end, not a fault.
		 */
		if (call_errno == EIO)
			o->eof_maybe = true;
		else
			o->err = call_errno ? call_errno : EIO;
		return;
	}
	/* A pending socket error (ECONNRESET...) comes back in the struct. */
	if (zc->err) {
		o->err = zc->err < 0 ? -zc->err : zc->err;
		return;
	}
	/* copybuf_len out: bytes copied, or a negative errno of the copy. */
	if (zc->copybuf_len < 0) {
		o->err = -zc->copybuf_len;
		return;
	}
	if (zc->length > asked || (uint32_t)zc->copybuf_len > copybuf_len) {
		o->err = EPROTO;
		return;
	}
	o->mapped = zc->length;
	o->copied = (uint32_t)zc->copybuf_len;
	o->skip = zc->recv_skip_hint;
	o->nothing = !o->mapped && !o->copied && !o->skip;
}

size_t zcrecv_ring_next(size_t *pos, size_t ring_len, size_t min_room, size_t *ask)
{
	size_t drop = 0;

	if (min_room > ring_len || min_room == 0)
		min_room = ring_len;
	if (*pos > ring_len || ring_len - *pos < min_room) {
		drop = *pos < ring_len ? *pos : ring_len;
		*pos = 0;
	}
	*ask = ring_len - *pos;
	return drop;
}
