/* SPDX-License-Identifier: MIT */
/*
 * The cells of a run read back (harness/results/read.h), as the charts and
 * the report look at them: the scenarios, transports, strategies and data
 * points of a run, the variants of a cell (cache, outstanding, pipe size),
 * a record's figures per GiB by role (its copy ledger, its sampled CPU and
 * the split of it), the role that limited a cell, and echo's latency rows.
 */
#ifndef COPYLAB_REPORT_CELLS_H
#define COPYLAB_REPORT_CELLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/measure/cpugroups.h"
#include "harness/results/read.h"

#define GIB 1073741824.0
/* The most scenarios, strategies or data points a chart or table takes. */
#define MAX_LIST 64

/* Distinct strings in first-seen order. */
struct list {
	const char *v[MAX_LIST];
	int n;
};

void list_add(struct list *l, const char *s);

/* A data point: what a cell's records share besides scenario, transport and strategy. */
struct point {
	uint64_t bytes, block;	/* bounded by time: bytes is what a first rep moved, not part of the point */
	unsigned conns;		/* parallel connections sharing bytes (--conns), >= 1 */
	double time_s;		/* --time: the bound, the point's in place of bytes; 0 bounded by size */
};

struct points {
	struct point v[MAX_LIST];
	int n;
};

struct list scenarios_of(const struct rr_dir *d);
/* The strategies of SC over TR (any transport when TR is NULL). */
struct list strategies_of(const struct rr_dir *d, const char *sc, const char *tr);
struct list transports_of(const struct rr_dir *d, const char *sc);
/* Whether a and b are one point: the same block and conns, and the same time, or size when neither is timed. */
bool point_eq(struct point a, struct point b);
/* "64 MiB", or "10 s" for a point bounded by time. */
const char *point_size_text(struct point pt, char *buf, size_t len);
/* The data points of a scenario over a transport, sorted by bytes, block, conns. */
struct points points_of(const struct rr_dir *d, const char *sc, const char *tr);
/*
 * The one data point a per-role chart shows when a sweep put several in
 * the run: the largest transfer, the block nearest the default 64 KiB,
 * and the fewest connections.
 */
struct point representative(const struct points *p);
const struct rr_cell *find_cell(const struct rr_dir *d, const char *sc, const char *tr, struct point pt,
				const char *strategy);
/* Whether any cell of SC (over TR, or any transport when NULL) has a usable rep. */
bool has_usable(const struct rr_dir *d, const char *sc, const char *tr);
/* Whether any record of SC has a latency object (echo). */
bool has_latency(const struct rr_dir *d, const char *sc);
/* Completed without a mismatch: a record that gives figures. */
bool rec_usable(json_t *r);
/* "64 MiB, block 64 KiB", ", 8 connections" when there are several. */
const char *point_text(struct point pt, char *buf, size_t len);
/* The scenario's data path from the scenario table, "" when it is not there. */
const char *scenario_path(const char *sc);
/* Roles of a scenario, the tested one first (the scenario table, else the record). */
int roles_of(const struct rr_dir *d, const struct rr_cell *c, const char **out, int max);

/*
 * results_read groups records by (scenario, transport, bytes, block,
 * conns, strategy); a run can hold several variants of such a cell that
 * summary.csv keeps apart: a cold-cache and a warm one, echo with 1 and
 * with N messages outstanding, the pipe scenario at the default pipe and
 * at --pipe-size 1M.  The tables and every chart tell them apart here,
 * from the records.
 */
struct variant {
	const char *cache;	/* "warm", "cold" */
	int outstanding;	/* 0: the records have no latency object */
	uint64_t pipe;		/* pipe_size_asked (--pipe-size); 0: the kernel default */
	unsigned rps;		/* echo --rps: requests a second offered; 0: closed loop */
};

struct variants {
	struct variant v[8];
	int n;
};

/* The variants of a data point, over all its strategies, in first-seen order. */
struct variants point_variants(const struct rr_dir *d, const char *sc, const char *tr, struct point pt);
/*
 * The one variant a chart with a single bar per strategy shows: the
 * defaults where the run has them (warm cache, the kernel's pipe, the
 * fewest messages outstanding).
 */
struct variant main_variant(const struct variants *vs);
/* Cell C narrowed to variant V in *out (free out->rec); false when C is NULL or has no record of V. */
bool cell_in_variant(const struct rr_dir *d, const struct rr_cell *c, struct variant v, struct rr_cell *out);
/*
 * What sets variant V apart among ALL: "cold cache, 8 outstanding, 1 MiB
 * pipe"; "" for the defaults.
 */
const char *variant_words(struct variant v, const struct variants *all, char *buf, size_t len);
/* " (cold cache, 8 outstanding, 1 MiB pipe)", or "" for the defaults (variant_words). */
const char *variant_suffix(struct variant v, const struct variants *all, char *buf, size_t len);

/*
 * What a chart of one data point draws: each strategy in each variant of
 * it, variant by variant, the K-th of n by point_cell.
 */
struct point_cells {
	const char *sc, *tr;
	struct point pt;
	struct list st;
	struct variants vs;
	int n;			/* vs.n * st.n */
};

struct point_cells point_cells_of(const struct rr_dir *d, const char *sc, const char *tr, struct point pt);
/*
 * The K-th cell of PC in *out (free out->rec) and what sets its variant
 * apart in SUFFIX; false when that strategy has no record of that variant.
 */
bool point_cell(const struct rr_dir *d, const struct point_cells *pc, int k, struct rr_cell *out, char *suffix,
		size_t len);

/* A record's throughput in MB/s (10^6 bytes), an rr_metric. */
bool m_mbps(json_t *r, const void *arg, double *v);

/*
 * A role's figures.  USERMEM and KERNEL are the copy ledger's bytes:
 * roles.ROLE.ledger, else (records written before it) bpf, else tracer;
 * absent when that instrument saw none of the role's data-moving calls
 * (ledger_unseen).  SAMPLED, COPY, PREDICTED_* and GROUP are the CPU
 * sampler's (cputime): the role's sampled CPU, the part of it in the copy
 * routines, the copy time memcpy's measured rates predict (data in cache,
 * from memory), one group of cputime.groups.
 */
enum role_what {
	RW_USER, RW_SYS, RW_CPU, RW_USERMEM, RW_KERNEL, RW_SYSCALLS, RW_CALLS, RW_CTX, RW_FAULTS,
	RW_SAMPLED, RW_COPY, RW_PREDICTED_RESIDENT, RW_PREDICTED_DRAM, RW_GROUP,
};

struct role_metric {
	const char *role;	/* NULL: the role under test */
	enum role_what what;
	enum cpu_group group;	/* RW_GROUP only */
};

/* A role's figure per GiB of the record's bytes (the payload), an rr_metric of a struct role_metric. */
bool m_role(json_t *r, const void *arg, double *v);
/* The median of metric M over the usable reps of C; NAN when C is NULL or none has it. */
double cell_metric_median(const struct rr_dir *d, const struct rr_cell *c, rr_metric m, const void *arg);
/* The median of a role's figure per GiB over C (ROLE NULL: the role under test). */
double role_median(const struct rr_dir *d, const struct rr_cell *c, const char *role, enum role_what w);
/*
 * Whether ROLE's ledger in record R (NULL: the role under test) missed
 * its data path: the instrument could not see io_uring, and counted none
 * of the data-moving calls the role made (the tracer under io_uring).
 */
bool ledger_unseen(json_t *r, const char *role);
/*
 * Where ROLE's CPU went in C, per GiB: the groups of the repetition whose
 * sampled CPU is the median (the two middle ones averaged), so they add
 * up to *sampled, that median.  False when no rep has a CPU sample.
 */
bool role_split(const struct rr_dir *d, const struct rr_cell *c, const char *role, double groups[CG_COUNT],
		double *sampled);
/* metrics.KEY of C's first usable record that has one: why an instrument did (not) count; NULL if none. */
const char *cell_metrics_note(const struct rr_dir *d, const struct rr_cell *c, const char *key);
/*
 * Why ROLE (NULL: the role under test) of C has no CPU sample, for a
 * reader: metrics.cputime's reason, or records older than the sampler.
 */
const char *cputime_missing(const struct rr_dir *d, const struct rr_cell *c, const char *role, char *buf,
			    size_t len);
/*
 * The role that set C's pace: the limiting_role most of its usable reps
 * name (its busy was 0.9 or more); NULL when under half do, or the
 * records predate the key.
 */
const char *cell_limiting_role(const struct rr_dir *d, const struct rr_cell *c);

/* One row of echo's latency: a strategy at one message size, outstanding and cache. */
struct lat_row {
	const char *strategy, *cache;
	uint64_t message;
	uint64_t response;	/* bytes of each answer (echo --response); the message's in an echo */
	int outstanding;
	size_t nreps;		/* usable records with a latency object */
	unsigned rps;		/* offered (--rps), 0 closed loop */
	double achieved;	/* requests a second the replies came back at, median over reps */
	double p50, p99, p999, max;	/* µs: medians over reps; max: the largest of the reps */
};

struct lat_rows {
	struct lat_row *v;	/* malloc'd: free it */
	size_t n;
};

/* The latency rows of SC over TR, sorted by outstanding, message size, strategy (first seen). */
struct lat_rows latency_rows(const struct rr_dir *d, const char *sc, const char *tr);

/*
 * Open loop: the share of the offered load the replies must come back at
 * for the load to count as offered.  Below it the client (or a full
 * window) could not keep to the schedule, and the latencies hold the
 * client's own lateness as much as the server's.
 */
#define LOAD_OFFERED_SHARE 0.9
/* R is open loop and its achieved rate fell below LOAD_OFFERED_SHARE of the offered one. */
bool lat_row_not_offered(const struct lat_row *r);

#endif
