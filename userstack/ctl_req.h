/* SPDX-License-Identifier: MIT */
/*
 * stackd's reading of control requests, without I/O: a per-connection
 * buffer that collects a request from however many reads it arrives in
 * (stackd never waits for the rest of one: it reads what is there and
 * comes back), and the checks of a whole request's fields, each refusal
 * with a sentence.  Header-only so stackd and the fuzz target
 * (tests/fuzz/fuzz_stackd_req.c) share one definition.
 */
#ifndef COPYLAB_USERSTACK_CTL_REQ_H
#define COPYLAB_USERSTACK_CTL_REQ_H

#include "proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(struct us_req) == 40, "struct us_req is 40 bytes on the wire (tests/stackd_hostile.py)");
_Static_assert(sizeof(struct us_rep) == 40, "struct us_rep is 40 bytes on the wire (tests/stackd_hostile.py)");

struct us_req_buf {
	unsigned char b[sizeof(struct us_req)];
	size_t have;
};

/* Where the next read goes and how much it may bring: never past this request. */
static inline void *us_req_space(struct us_req_buf *rb, size_t *room)
{
	*room = sizeof(rb->b) - rb->have;
	return rb->b + rb->have;
}

/*
 * n bytes were read into us_req_space's room: true when that completed a
 * request, which is then in *q (and the buffer is empty again).
 */
static inline bool us_req_take(struct us_req_buf *rb, size_t n, struct us_req *q)
{
	if (n > sizeof(rb->b) - rb->have)
		n = sizeof(rb->b) - rb->have;	/* a caller's bug, never an overrun */
	rb->have += n;
	if (rb->have < sizeof(rb->b))
		return false;
	memcpy(q, rb->b, sizeof(*q));
	rb->have = 0;
	return true;
}

/* Requests that name a socket by its id. */
static inline bool us_req_names_socket(uint32_t op)
{
	return op != US_SOCKET && op != US_LOOKUP;
}

/*
 * A whole request's fields: 0, or -EINVAL with *why saying what was wrong.
 * The socket it names, and whether this connection may act on it, are
 * stackd's to look up, not this check's.
 */
static inline int us_req_check(const struct us_req *q, const char **why)
{
	*why = NULL;
	switch (q->op) {
	case US_SOCKET:
		if (q->a != US_DATA_IPC && q->a != US_DATA_SHM)
			*why = "US_SOCKET's data path must be US_DATA_IPC (0) or US_DATA_SHM (1)";
		break;
	case US_BIND:
	case US_LISTEN:
	case US_CONNECT:
	case US_STATUS:
	case US_NAME:
	case US_SETOPT:		/* an option stackd does not know is ENOPROTOOPT, as the kernel says */
	case US_GETOPT:
	case US_LOOKUP:
		break;
	default:
		*why = "unknown request (valid: US_SOCKET..US_LOOKUP)";
	}
	return *why ? -EINVAL : 0;
}

#endif
