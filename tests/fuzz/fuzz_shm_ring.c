/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the shm rings (userstack/shm_ring.h) with a hostile
 * other side.  The memory is shared with the program, which may write any
 * head, tail or state at any moment; the input is a script of operations
 * by stackd (put, get, peek, consume) interleaved with such writes.  The
 * rings live in an allocation of exactly SHM_MAP_SIZE, so ASan reports any
 * access outside them; the checks hold the ring's promises: used and room
 * within the ring, no more moved than asked, a peek inside the data area.
 */
#include "userstack/shm_ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t take_u64(const uint8_t **d, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;

	memcpy(&v, *d, k);
	*d += k;
	*n -= k;
	return v;
}

static size_t take_len(const uint8_t **d, size_t *n)
{
	/* Lengths around the ring's size and its wrap matter most. */
	uint64_t v = take_u64(d, n);

	switch (v & 3) {
	case 0: return (size_t)(v >> 2) % 64;
	case 1: return SHM_RING_SIZE - 32 + (size_t)(v >> 2) % 64;
	case 2: return (size_t)(v >> 2) % (2 * SHM_RING_SIZE);
	default: return (size_t)(v >> 2);	/* anything: put/get cap it */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shm_ring_pair *pair;
	static char *buf;
	const size_t bufsz = 2 * SHM_RING_SIZE;

	if (!pair) {
		pair = aligned_alloc(SHM_HDR_SIZE, SHM_MAP_SIZE);
		buf = malloc(bufsz);
		if (!pair || !buf)
			abort();
	}
	memset(pair, 0, SHM_HDR_SIZE);
	while (size > 0) {
		uint8_t op = *data++;
		struct shm_ring *r = op & 0x80 ? &pair->rx : &pair->tx;
		char *lo = (char *)pair + SHM_HDR_SIZE + (r == &pair->rx ? SHM_RING_SIZE : 0);
		size_t n, got;
		const void *p;

		size--;
		switch (op & 7) {
		case 0:		/* the other side writes any head */
			atomic_store(&r->head, take_u64(&data, &size));
			break;
		case 1:		/* ... or any tail */
			atomic_store(&r->tail, take_u64(&data, &size));
			break;
		case 2:		/* ... or any state and waiting flags */
			atomic_store(&r->state, (uint32_t)take_u64(&data, &size));
			atomic_store(&r->waiting[SHM_WAITER_APP], (uint32_t)take_u64(&data, &size));
			break;
		case 3:
			n = take_len(&data, &size);
			if (n > bufsz)
				n = bufsz;
			memset(buf, 0x5a, n);
			got = shm_ring_put(r, buf, n);
			if (got > n || got > SHM_RING_SIZE)
				abort();
			break;
		case 4:
		case 5:
			n = take_len(&data, &size);
			if (n > bufsz)
				n = bufsz;
			got = shm_ring_get(r, buf, n, (op & 7) == 5);
			if (got > n || got > SHM_RING_SIZE)
				abort();
			break;
		case 6:
			p = shm_ring_peek(r, &n);
			if (n > SHM_RING_SIZE || (const char *)p < lo || (const char *)p + n > lo + SHM_RING_SIZE)
				abort();
			if (n)
				memcpy(buf, p, n);	/* stackd hands it to tcp_write: every byte is read */
			shm_ring_consume(r, n);
			break;
		default:
			shm_ring_arm(r, SHM_WAITER_STACK);
			shm_ring_wake(r, -1, SHM_WAITER_APP);	/* fd -1: the doorbell's send fails, harmlessly */
			(void)shm_ring_closed(r);
			break;
		}
		if (shm_ring_used(r) > SHM_RING_SIZE || shm_ring_room(r) > SHM_RING_SIZE)
			abort();
	}
	return 0;
}
