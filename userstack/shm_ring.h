/* SPDX-License-Identifier: MIT */
/*
 * The shm data path: per shimmed socket, one memfd mapped by the program
 * (the shim) and by stackd, holding two single-producer rings: tx (program
 * -> stack) and rx (stack -> program).  Bytes are copied once into a ring
 * and once out of it; the Unix pair carries only one-byte doorbells, and
 * only to a side that said it is waiting (the waiting flags), so a busy
 * stream sends almost none.  Positions are byte counters that only grow;
 * neither side trusts the other's counters beyond the ring's size: every
 * offset is masked into the ring and every length capped by it, whatever
 * the other side wrote (tests/fuzz/fuzz_shm_ring.c holds them to that).
 * Header-only so the shim (no lwIP) and stackd share one definition.
 */
#ifndef COPYLAB_USERSTACK_SHM_RING_H
#define COPYLAB_USERSTACK_SHM_RING_H

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* The shim routes these past its own wrappers (it defines them before including this). */
#ifndef SHM_SEND
#define SHM_SEND send
#define SHM_RECV recv
#endif

#define SHM_RING_SIZE (256u * 1024u)	/* per direction; a power of two */
#define SHM_HDR_SIZE 4096u
#define SHM_MAP_SIZE (SHM_HDR_SIZE + 2 * SHM_RING_SIZE)

enum { SHM_WAITER_APP = 0, SHM_WAITER_STACK = 1 };
enum { SHM_OPEN = 0, SHM_CLOSED = 1, SHM_RESET = 2 };

struct shm_ring {
	_Atomic uint64_t head;		/* bytes ever produced */
	_Atomic uint64_t tail;		/* bytes ever consumed */
	_Atomic uint32_t waiting[2];	/* a side that sleeps until a doorbell */
	_Atomic uint32_t state;		/* SHM_OPEN, SHM_CLOSED (EOF after the data), SHM_RESET */
	char pad[64 - 28];
};

struct shm_ring_pair {
	struct shm_ring tx;	/* program -> stack */
	struct shm_ring rx;	/* stack -> program */
};

/* The data of ring r: tx's after the header page, rx's after tx's. */
static inline char *shm_ring_data(struct shm_ring *r)
{
	uintptr_t a = (uintptr_t)r;
	char *base = (char *)(a & ~(uintptr_t)(SHM_HDR_SIZE - 1));

	return base + SHM_HDR_SIZE + ((a & (SHM_HDR_SIZE - 1)) ? SHM_RING_SIZE : 0);
}

static inline size_t shm_ring_used(struct shm_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	return h - t > SHM_RING_SIZE ? 0 : (size_t)(h - t);
}

static inline size_t shm_ring_room(struct shm_ring *r)
{
	return SHM_RING_SIZE - shm_ring_used(r);
}

/* Producer: copies up to n bytes in, returns how many. */
static inline size_t shm_ring_put(struct shm_ring *r, const void *src, size_t n)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t room = shm_ring_room(r), off = (size_t)(h & (SHM_RING_SIZE - 1)), first;
	char *d = shm_ring_data(r);

	if (n > room)
		n = room;
	first = SHM_RING_SIZE - off < n ? SHM_RING_SIZE - off : n;
	memcpy(d + off, src, first);
	memcpy(d, (const char *)src + first, n - first);
	atomic_store_explicit(&r->head, h + n, memory_order_release);
	return n;
}

/* Consumer: the contiguous readable bytes (up to the ring's end), *n of them. */
static inline const void *shm_ring_peek(struct shm_ring *r, size_t *n)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t used = shm_ring_used(r), off = (size_t)(t & (SHM_RING_SIZE - 1));

	*n = SHM_RING_SIZE - off < used ? SHM_RING_SIZE - off : used;
	return shm_ring_data(r) + off;
}

static inline void shm_ring_consume(struct shm_ring *r, size_t n)
{
	atomic_fetch_add_explicit(&r->tail, n, memory_order_release);
}

/* Consumer: copies up to n bytes out (peek: leaves them), returns how many. */
static inline size_t shm_ring_get(struct shm_ring *r, void *dst, size_t n, int peek)
{
	size_t got = 0;
	uint64_t t0 = atomic_load_explicit(&r->tail, memory_order_relaxed);

	while (got < n) {
		size_t avail;
		const void *p = shm_ring_peek(r, &avail);

		if (!avail)
			break;
		if (avail > n - got)
			avail = n - got;
		memcpy((char *)dst + got, p, avail);
		got += avail;
		shm_ring_consume(r, avail);
	}
	if (peek)
		atomic_store_explicit(&r->tail, t0, memory_order_release);
	return got;
}

/* Says side `who` will sleep until a doorbell; then it must look at the ring once more. */
static inline void shm_ring_arm(struct shm_ring *r, int who)
{
	atomic_store_explicit(&r->waiting[who], 1, memory_order_seq_cst);
}

/* After producing or consuming: rings side `who`'s doorbell on fd if it sleeps. */
static inline void shm_ring_wake(struct shm_ring *r, int fd, int who)
{
	if (atomic_load_explicit(&r->waiting[who], memory_order_seq_cst) &&
	    atomic_exchange_explicit(&r->waiting[who], 0, memory_order_seq_cst)) {
		char b = 1;

		(void)!SHM_SEND(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

static inline int shm_ring_closed(struct shm_ring *r)
{
	return atomic_load_explicit(&r->state, memory_order_acquire) != SHM_OPEN;
}

/* The producer's EOF: the consumer sees it once the ring is empty.  Always rings. */
static inline void shm_ring_close(struct shm_ring *r, int fd)
{
	char b = 1;

	atomic_store_explicit(&r->state, SHM_CLOSED, memory_order_release);
	(void)!SHM_SEND(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The peer reset the connection: both directions end with ECONNRESET. */
static inline void shm_ring_reset(struct shm_ring_pair *p, int fd)
{
	char b = 1;

	atomic_store_explicit(&p->rx.state, SHM_RESET, memory_order_release);
	atomic_store_explicit(&p->tx.state, SHM_RESET, memory_order_release);
	(void)!SHM_SEND(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Reads away the doorbells queued on fd (their count carries no meaning). */
static inline void shm_ring_drain_doorbells(int fd)
{
	char junk[256];

	while (SHM_RECV(fd, junk, sizeof(junk), MSG_DONTWAIT) == (ssize_t)sizeof(junk))
		;
}

/*
 * stackd: a new memfd with both rings, mapped; *memfd is for the program.
 * Sealed at its size: a program that shrank it would make stackd's next
 * look at the rings a SIGBUS (and growing it has no use), and F_SEAL_SEAL
 * keeps the seals from being taken off again.
 */
static inline int shm_ring_create(struct shm_ring_pair **pair, size_t *len, int *memfd)
{
	void *m;
	int fd = memfd_create("copylab-stack-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, SHM_MAP_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
	    (m = mmap(NULL, SHM_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		int r = -errno;

		close(fd);
		return r;
	}
	*pair = m;
	*len = SHM_MAP_SIZE;
	*memfd = fd;
	return 0;
}

#endif
