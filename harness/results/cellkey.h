/* SPDX-License-Identifier: MIT */
/*
 * Which summary rows and records are one cell (cellkey.c): every condition
 * the run varied, as summary.csv's columns and a record's keys say it, read
 * the same way from both.  A column or key newer than a run reads as its
 * default, so older runs still pair.  compare, findings and the report ask
 * here rather than each listing the columns it remembers.  Pure: no I/O.
 */
#ifndef COPYLAB_RESULTS_CELLKEY_H
#define COPYLAB_RESULTS_CELLKEY_H

#include "read.h"

/* A cell's conditions, each at its default where the run did not name it. */
struct rr_cell_key {
	const char *scenario, *transport, *strategy;	/* point into the row or record */
	const char *cache;	/* "warm" or "cold" */
	uint64_t bytes;		/* bounded by time: what the first rep moved; not part of the cell */
	uint64_t block;
	unsigned outstanding;	/* requests in flight, at least 1 */
	unsigned conns;		/* at least 1 */
	uint64_t pipe;		/* --pipe-size as asked; 0 the kernel default */
	unsigned rps;		/* offered requests a second; 0 closed loop */
	double time_s;		/* --time; 0 bounded by size */
	uint64_t response;	/* bytes answered per request; 0 when the answer is the request's size */
};

/* Row ROW of a summary; false when a column every summary has is missing. */
bool rr_row_key(const struct rr_csv *c, size_t row, struct rr_cell_key *k);
/* A record; false when a key every record has is missing. */
bool rr_record_key(json_t *rec, struct rr_cell_key *k);
/*
 * The same data point: every condition but the strategy.  A run bounded by
 * time is one point by its time (each rep moves its own count of bytes);
 * one bounded by time is never the same point as one bounded by size.
 */
bool rr_same_point(const struct rr_cell_key *a, const struct rr_cell_key *b);
/* The same point and the same strategy. */
bool rr_same_cell(const struct rr_cell_key *a, const struct rr_cell_key *b);

/* The row of d's summary that is the cell K, or -1. */
long rr_summary_row_of(const struct rr_dir *d, const struct rr_cell_key *k);
/* The row of d's summary that is the same cell as row ROW of summary B, or -1. */
long rr_summary_same_cell(const struct rr_dir *d, const struct rr_csv *b, size_t row);
/* Whether record REC is one of the repetitions of summary row ROW. */
bool rr_record_in_row(json_t *rec, const struct rr_csv *c, size_t row);

#endif
