/* SPDX-License-Identifier: MIT */
/*
 * Round-trip latency of the echo scenario: every round trip is counted
 * (no sampling) into a log-linear histogram of nanoseconds, whose buckets
 * are within 1/64 (1.6%) of their values; percentiles are read from it
 * after the measured window.
 */
#ifndef COPYLAB_LATENCY_H
#define COPYLAB_LATENCY_H

#include <stdint.h>

#define LAT_SUB 64			/* buckets per power of two */
#define LAT_BUCKETS (LAT_SUB * 40)	/* up to ~2^40 ns (18 minutes) */

struct latency_hist {
	uint64_t count, sum_ns, max_ns, min_ns;
	uint32_t bucket[LAT_BUCKETS];
};

/* What the record keeps of it. */
struct latency_summary {
	uint64_t count;
	uint32_t outstanding;		/* requests in flight at most */
	uint32_t offered_rps;		/* open loop (--rps): the schedule; 0 closed loop */
	double achieved_rps;		/* round trips over the time from the first scheduled send to the last reply */
	double send_lag_max_us;		/* open loop: the latest a request's first byte left after its time */
	double mean_us, min_us, p50_us, p90_us, p99_us, p999_us, max_us;
};

void latency_add(struct latency_hist *h, uint64_t ns);
/* The value below which a fraction q of the round trips fall (nearest rank). */
uint64_t latency_quantile(const struct latency_hist *h, double q);
void latency_summarize(const struct latency_hist *h, struct latency_summary *out);

#endif
