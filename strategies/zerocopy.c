/* SPDX-License-Identifier: MIT */
/*
 * MSG_ZEROCOPY completion parsing and accounting (the interface and the
 * format of a notification are in zerocopy.h).
 */
#include "zerocopy.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <string.h>

enum zc_parse zerocopy_parse_cmsg(const struct cmsghdr *cm, struct zc_range *r, int *err)
{
	struct sock_extended_err ee;

	if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
	      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
		return ZC_NOT_ZEROCOPY;
	if (cm->cmsg_len < CMSG_LEN(sizeof(ee)))
		return ZC_NOT_ZEROCOPY;
	/* CMSG_DATA need not be aligned for the struct: copy it out. */
	memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
	if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
		if (ee.ee_errno == 0)
			return ZC_NOT_ZEROCOPY;
		*err = (int)ee.ee_errno;
		return ZC_ERROR;
	}
	/* A zerocopy notification's ee_errno is 0; anything else is an error. */
	if (ee.ee_errno != 0) {
		*err = (int)ee.ee_errno;
		return ZC_ERROR;
	}
	r->lo = ee.ee_info;
	r->hi = ee.ee_data;
	r->copied = (ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0;
	return ZC_RANGE;
}

void zerocopy_track_send(struct zc_tracker *t, struct zerocopy_counters *zc, uint32_t n,
			 uint16_t tag)
{
	uint32_t i = t->next_seq % ZC_TRACK;

	t->bytes[i] = n;
	t->tag[i] = tag;
	t->pending[i] = true;
	t->next_seq++;
	t->inflight++;
	zc->reported = true;
	zc->sends++;
	zc->bytes += n;
}

uint32_t zerocopy_complete(struct zc_tracker *t, struct zerocopy_counters *zc,
			   const struct zc_range *r, void (*done)(void *arg, uint16_t tag),
			   void *arg)
{
	uint32_t len = zerocopy_range_len(r), stray = 0;

	/* More than can be in flight: a corrupt range; count it, touch nothing. */
	if (len == 0 || len > ZC_TRACK)
		return len ? len : 1;
	for (uint32_t k = 0; k < len; k++) {
		uint32_t seq = r->lo + k, i = seq % ZC_TRACK;
		/* In flight means among the last `inflight` numbers handed out. */
		bool in_window = (uint32_t)(t->next_seq - 1 - seq) < ZC_TRACK;

		if (!in_window || !t->pending[i]) {
			stray++;
			continue;
		}
		t->pending[i] = false;
		t->inflight--;
		zc->completions++;
		if (r->copied) {
			zc->copied++;
			zc->bytes_copied += t->bytes[i];
		}
		if (done)
			done(arg, t->tag[i]);
	}
	return stray;
}
