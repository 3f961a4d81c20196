/* SPDX-License-Identifier: MIT */
/*
 * How fast this machine copies memory, measured once per process: memcpy
 * over a buffer that stays in cache and over one far larger than the last
 * level cache.  With the ledger's inferred bytes it gives the copy time a
 * role would spend if every inferred byte were copied once at that rate,
 * printed beside the sampled copy time (env.json, the record).
 */
#ifndef COPYLAB_MEMCPY_RATE_H
#define COPYLAB_MEMCPY_RATE_H

#include <stdbool.h>
#include <stddef.h>

struct memcpy_rate {
	bool have;
	double resident_bytes_per_s;	/* RESIDENT_BYTES, copied again and again */
	double dram_bytes_per_s;	/* DRAM_BYTES, each pass evicting the last */
	size_t resident_bytes, dram_bytes;
};

/* Measured on the first call (about 0.3 s), then remembered. */
const struct memcpy_rate *memcpy_rate(void);

#endif
