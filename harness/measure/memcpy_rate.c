/* SPDX-License-Identifier: MIT */
/* memcpy's rate in cache and from memory, measured once (memcpy_rate.h). */
#include "memcpy_rate.h"
#include "harness/model/base.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define RESIDENT_BYTES (128u << 10)	/* source and destination together fit a 256 KiB L2 */
#define DRAM_BYTES (48u << 20)		/* source and destination, 96 MiB, three times the last-level cache here */
#define PASS_NS 30000000LL		/* each measurement copies for about 30 ms: it runs at every run */

/* Bytes per second of the best of three passes: noise only ever slows a pass. */
static double rate_of(unsigned char *dst, const unsigned char *src, size_t len)
{
	double best = 0;

	for (int pass = 0; pass < 3; pass++) {
		uint64_t bytes = 0;
		int64_t t0 = now_ns(), dt;

		do {
			memcpy(dst, src, len);
			bytes += len;
			dt = now_ns() - t0;
		} while (dt < PASS_NS / 3);
		if (bytes / (dt / 1e9) > best)
			best = bytes / (dt / 1e9);
	}
	return best;
}

static void measure(struct memcpy_rate *r)
{
	size_t len = 2 * (size_t)DRAM_BYTES;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return;
	/* Touched first, so page faults stay out of the rate. */
	memset(m, 0x5a, len);
	r->resident_bytes = RESIDENT_BYTES;
	r->dram_bytes = DRAM_BYTES;
	r->resident_bytes_per_s = rate_of(m + DRAM_BYTES, m, RESIDENT_BYTES);
	r->dram_bytes_per_s = rate_of(m + DRAM_BYTES, m, DRAM_BYTES);
	r->have = r->resident_bytes_per_s > 0 && r->dram_bytes_per_s > 0;
	munmap(m, len);
}

const struct memcpy_rate *memcpy_rate(void)
{
	static struct memcpy_rate r;
	static bool measured;

	if (!measured) {
		measure(&r);
		measured = true;
	}
	return &r;
}
