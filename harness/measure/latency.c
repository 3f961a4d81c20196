/* SPDX-License-Identifier: MIT */
/* A log-linear histogram: exact below 64 ns, 1/64 relative width above. */
#include "latency.h"

#include <math.h>
#include <string.h>

static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < LAT_SUB)
		return (unsigned)v;
	e = 63 - __builtin_clzll(v) - 6;	/* v >> e lies in [64, 128) */
	unsigned idx = e * LAT_SUB + (unsigned)(v >> e);

	return idx < LAT_BUCKETS ? idx : LAT_BUCKETS - 1;
}

/* The middle of a bucket's range, the value reported for it. */
static uint64_t value_of(unsigned idx)
{
	unsigned e;

	if (idx < 2 * LAT_SUB)
		return idx;
	e = idx / LAT_SUB - 1;
	return ((uint64_t)(idx - e * LAT_SUB) << e) + ((1ull << e) >> 1);
}

void latency_add(struct latency_hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	if (h->count == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->count++;
	h->sum_ns += ns;
}

uint64_t latency_quantile(const struct latency_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < LAT_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = value_of(i);

			/* The bucket's middle can overshoot the largest value seen. */
			return v > h->max_ns ? h->max_ns : v < h->min_ns ? h->min_ns : v;
		}
	}
	return h->max_ns;
}

void latency_summarize(const struct latency_hist *h, struct latency_summary *out)
{
	uint32_t outstanding = out->outstanding;

	memset(out, 0, sizeof(*out));
	out->outstanding = outstanding;
	out->count = h->count;
	if (h->count == 0)
		return;
	out->mean_us = (double)h->sum_ns / (double)h->count / 1e3;
	out->min_us = h->min_ns / 1e3;
	out->p50_us = latency_quantile(h, 0.50) / 1e3;
	out->p90_us = latency_quantile(h, 0.90) / 1e3;
	out->p99_us = latency_quantile(h, 0.99) / 1e3;
	out->p999_us = latency_quantile(h, 0.999) / 1e3;
	out->max_us = h->max_ns / 1e3;
}
