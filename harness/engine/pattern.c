/* SPDX-License-Identifier: MIT */
/* Deterministic, offset-unique source pattern and the shared payload. */
#include "pattern.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PATTERN_SLICE (64ull << 20)

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static inline uint64_t splitmix64(uint64_t i)
{
	uint64_t z = i * 0x9e3779b97f4a7c15ull + 0x6a09e667f3bcc909ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void pattern_fill(unsigned char *buf, uint64_t off, size_t len)
{
	uint64_t word = off / 8;
	size_t skip = off % 8;

	while (len > 0) {
		uint64_t v = splitmix64(word++);
		unsigned char bytes[8];

		/* Little-endian by definition, whatever the host. */
		for (int i = 0; i < 8; i++)
			bytes[i] = (unsigned char)(v >> (8 * i));
		size_t n = 8 - skip < len ? 8 - skip : len;
		memcpy(buf, bytes + skip, n);
		buf += n;
		len -= n;
		skip = 0;
	}
}

int payload_create(struct payload *p, uint64_t size, bool (*should_stop)(void))
{
	long page = sysconf(_SC_PAGESIZE);

	memset(p, 0, sizeof(*p));
	p->size = size;
	if (size == 0)
		return 0;
	/* A spare block past the end, where a duplicated block can go (tests). */
	p->mapped = (size + page - 1) / page * page + 4096;
	p->data = mmap(NULL, p->mapped, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->data == MAP_FAILED) {
		p->data = NULL;
		return -errno;
	}
	/* In slices, so Ctrl-C during a large payload's generation is prompt. */
	for (uint64_t off = 0; off < size; off += PATTERN_SLICE) {
		if (should_stop && should_stop())
			return -EINTR;
		pattern_fill(p->data + off, off, size - off < PATTERN_SLICE ? size - off : PATTERN_SLICE);
	}
	return 0;
}

void payload_destroy(struct payload *p)
{
	if (p->data)
		munmap(p->data, p->mapped);
	memset(p, 0, sizeof(*p));
}

void payload_prefault(const struct payload *p)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned char sink = 0;

	if (!p->data)
		return;
	if (madvise(p->data, p->mapped, MADV_POPULATE_READ) == 0)
		return;
	/* Kernels before 5.14: touch one byte a page. */
	for (size_t off = 0; off < p->mapped; off += page)
		sink ^= p->data[off];
	(void)sink;
}
