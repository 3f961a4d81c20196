/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: stackd's reading of control requests
 * (userstack/ctl_req.h), as any local client may send them.  The first
 * bytes of the input choose how the rest is cut into reads (down to one
 * byte at a time, as a client holding half a request would); the rest is
 * the byte stream.  Checks: a read never goes past the request being
 * collected, every completed request is exactly the next 40 bytes of the
 * stream, none is completed early or lost, and us_req_check accepts only
 * known requests with valid fields and gives a sentence for each refusal.
 */
#include "userstack/ctl_req.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_request(const struct us_req *q)
{
	const char *why = (const char *)1;
	int r = us_req_check(q, &why);

	if (r != 0 && r != -EINVAL)
		abort();
	if (r < 0 && (!why || !*why))
		abort();	/* a refusal always says why */
	if (r == 0 && why)
		abort();
	if (r == 0 && (q->op < US_SOCKET || q->op > US_LOOKUP))
		abort();
	if (r == 0 && q->op == US_SOCKET && q->a != US_DATA_IPC && q->a != US_DATA_SHM)
		abort();
	if (us_req_names_socket(q->op) == (q->op == US_SOCKET || q->op == US_LOOKUP))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct us_req_buf rb = { .have = 0 };
	const uint8_t *cuts;
	size_t ncuts, pos = 0, done = 0, k = 0;

	if (size < 1)
		return 0;
	ncuts = data[0] % 16 + 1;	/* the read sizes, used in turn */
	if (size < 1 + ncuts)
		return 0;
	cuts = data + 1;
	data += 1 + ncuts;
	size -= 1 + ncuts;
	while (pos < size) {
		size_t room, n = cuts[k++ % ncuts] % 64 + 1;
		unsigned char *p = us_req_space(&rb, &room);
		struct us_req q;

		if (room < 1 || room > sizeof(struct us_req) || p != rb.b + rb.have)
			abort();
		if (n > room)
			n = room;	/* stackd reads at most the room */
		if (n > size - pos)
			n = size - pos;
		memcpy(p, data + pos, n);
		pos += n;
		if (us_req_take(&rb, n, &q)) {
			if (pos - done != sizeof(q) || memcmp(&q, data + done, sizeof(q)))
				abort();	/* not the next 40 bytes: a request lost, merged or cut */
			done = pos;
			check_request(&q);
		} else if (pos - done >= sizeof(q) || rb.have != pos - done) {
			abort();
		}
	}
	/* A caller's bad count is capped, never an overrun. */
	{
		struct us_req q;
		size_t room;

		us_req_space(&rb, &room);
		if (us_req_take(&rb, room + 1000, &q) != true || rb.have != 0)
			abort();
	}
	return 0;
}
