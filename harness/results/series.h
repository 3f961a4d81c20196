/* SPDX-License-Identifier: MIT */
/*
 * --interval: a repetition's time series.  The parent reads cumulative
 * figures (the receiving side's bytes, each role's CPU) every interval;
 * the builder turns consecutive readings into intervals, and a figure
 * missing at either end of an interval is a gap (null in the record),
 * never a zero.  No I/O: the engine reads, this file only counts.
 */
#ifndef COPYLAB_SERIES_H
#define COPYLAB_SERIES_H

#include "harness/model/scenario.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * At most this many intervals in one record: --interval is refused where
 * the run would make more, and readings past it lengthen the last one.
 */
#define SERIES_MAX 100000
/* About the most one interval takes in a record: its times, bytes and each role's CPU. */
#define SERIES_JSON_BYTES 200

/* Cumulative readings at t_ns after the barrier's release. */
struct series_point {
	int64_t t_ns;
	bool have_bytes;
	uint64_t bytes;
	bool have_cpu[MAX_ROLES];
	double cpu_s[MAX_ROLES];	/* user + system since the process began */
};

/* What moved between two readings. */
struct series_interval {
	double t_s, dt_s;		/* the interval's end after the release, its length */
	bool have_bytes;
	uint64_t bytes;
	bool have_cpu[MAX_ROLES];
	double cpu_s[MAX_ROLES];
};

struct series_stats {
	size_t n;			/* intervals with bytes, of a full interval's length */
	double min, median, max;	/* their bytes / dt_s */
};

struct interval_series {
	double interval_s;		/* as asked */
	int nroles;
	char role[MAX_ROLES][16];
	size_t n, cap;
	struct series_interval *iv;
	bool have_last;
	struct series_point last;
	size_t merged;			/* readings past SERIES_MAX, added to the last interval */
};

/* An empty series of nroles roles named names[]; NULL without memory. */
struct interval_series *series_new(double interval_s, int nroles, const char *const names[]);
void series_free(struct interval_series *s);
/* A reading: the first is the baseline, each next one closes an interval. 0 or -ENOMEM. */
int series_add(struct interval_series *s, const struct series_point *p);
/*
 * Throughput over the intervals that had bytes; a last one shorter than
 * half an interval (the run's tail) is left out, its rate being noise.
 */
struct series_stats series_throughput(const struct interval_series *s);
/* The record's "intervals": [{t_s, dt_s, bytes, cpu: {role: s}}]; null fields for gaps. */
json_t *series_json(const struct interval_series *s);
json_t *series_stats_json(const struct series_stats *st);

#endif
