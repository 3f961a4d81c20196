/* SPDX-License-Identifier: MIT */
/*
 * The source pattern: every 8-byte word is splitmix64 of its word index, so
 * each offset holds its own value (a swapped, dropped or duplicated block
 * is caught) and any range can be regenerated from its offset alone.
 */
#ifndef COPYLAB_PATTERN_H
#define COPYLAB_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fill buf with the pattern bytes of stream offsets [off, off + len). */
void pattern_fill(unsigned char *buf, uint64_t off, size_t len);

/*
 * The payload of a run: the first `size` pattern bytes in a shared
 * anonymous mapping, generated once before any role starts, so roles that
 * fork share it without copying and the timed loop never generates data.
 */
struct payload {
	unsigned char *data;	/* NULL when size is 0 */
	uint64_t size;
	size_t mapped;		/* bytes mapped (size rounded up to a page) */
};

/* should_stop (may be NULL) is asked between slices: -EINTR when it says so. */
int payload_create(struct payload *p, uint64_t size, bool (*should_stop)(void));
void payload_destroy(struct payload *p);
/* Fault the payload's pages in without writing (before the barrier). */
void payload_prefault(const struct payload *p);

#endif
