/* SPDX-License-Identifier: MIT */
/*
 * Reading a run directory back (results.jsonl, summary.csv, env.json; see
 * docs/results.md) for `copylab plot`, `report` and `compare`.  Every error
 * names the file and, for a record, its line, so a user can find it.
 * Records are grouped into cells (scenario, transport, bytes, block,
 * strategy) with medians over their usable repetitions.
 */
#ifndef COPYLAB_RESULTS_READ_H
#define COPYLAB_RESULTS_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What rr_open returns. */
enum rr_status {
	RR_OK = 0,
	RR_NO_DIR = 2,		/* DIR does not exist or is not a directory (usage) */
	RR_BAD = 1,		/* a file is missing or malformed */
	RR_REFUSED = 3,		/* a file is not a regular file, over its size cap, or holds a number
				 * out of its field's range: not a results directory (usage) */
};

/* A CSV file (RFC 4180): a header and rows of strings, "" for empty fields. */
struct rr_csv {
	size_t ncols, nrows;
	char **head;		/* ncols names */
	char **cells;		/* nrows * ncols, row-major */
	int *line;		/* nrows: the line each row starts on, for messages */
};

/* One cell: the records of one (scenario, transport, bytes, block, conns, strategy). */
struct rr_cell {
	const char *scenario, *transport, *strategy;	/* point into the first record */
	uint64_t bytes, block;	/* bounded by time: bytes is the first record's (each rep moves its own) */
	double time_s;		/* --time: the bound, the cell's in place of bytes; 0 bounded by size */
	unsigned conns;		/* parallel connections (1 for a record without "conns") */
	bool peer;		/* records of scripts/peers.sh (peers.jsonl), not copylab run's */
	size_t nreps;		/* records of the cell */
	size_t nusable;		/* completed without a mismatch: these give figures */
	size_t nverified;
	size_t *rec;		/* indices of the usable records, in run order */
	const char *tested_role;	/* the role with under_test, from the first record */
};

struct rr_dir {
	char path[4096];
	json_t *env;		/* env.json, or NULL (then env_note says why) */
	char env_note[4400];
	json_t **rec;		/* results.jsonl, one object per line */
	int *rec_line;		/* its line number, for messages */
	size_t nrec;
	bool have_summary;
	struct rr_csv summary;	/* summary.csv (empty when missing) */
	struct rr_cell *cell;	/* cells, in the order they first appear */
	size_t ncells;
};

/*
 * Reads DIR.  results.jsonl is required and every line must be a record
 * with the keys a chart needs; env.json and summary.csv are optional (a
 * missing one is noted, a malformed one is an error).  On failure err
 * names the file (and line) and what is wrong.
 */
enum rr_status rr_open(const char *dir, struct rr_dir *d, char *err, size_t errlen);
void rr_close(struct rr_dir *d);

/*
 * One line of results.jsonl (NUL-terminated, no line end): the record, a
 * new reference, when it is JSON and has the keys a chart needs; NULL
 * with err ("FILE:LINE: what is wrong") otherwise.  Pure: no I/O.
 */
json_t *rr_record_parse(const char *text, const char *file, int line, char *err, size_t errlen);

/* Parses CSV text.  0, or -1 with err ("NAME:LINE: what is wrong"). */
int rr_csv_parse(const char *text, const char *name, struct rr_csv *c, char *err, size_t errlen);
void rr_csv_free(struct rr_csv *c);
/*
 * Every number of a summary (all but its text columns) finite, at least 0
 * and at most RR_NUM_MAX, and the columns compare and the report read as
 * numbers numeric or empty.  0, or -1 with err ("NAME:LINE: column 'C' is
 * 'V' (want ...)").  Pure: no I/O.
 */
int rr_summary_check(const struct rr_csv *c, const char *name, char *err, size_t errlen);
/*
 * Every number of a record (recursively): at least 0 (every figure copylab
 * writes is a count, a size, a time, a rate or a share) and at most
 * RR_NUM_MAX, so that sums and ratios stay finite.  0, or -1 with err
 * ("FILE:LINE: key 'roles.writer.cpu_sys_s' is -0.5 (want ...)").
 */
int rr_record_check_numbers(json_t *rec, const char *file, int line, char *err, size_t errlen);
#define RR_NUM_MAX 1e18		/* 1 EB, or 31 years in seconds: beyond any figure of a run */
int rr_csv_col(const struct rr_csv *c, const char *name);	/* -1 if absent */
/* The field of ROW in column NAME, or NULL when the column is absent. */
const char *rr_csv_get(const struct rr_csv *c, size_t row, const char *name);
/* A summary row's conns: 1 where the column is absent or empty (older runs). */
unsigned rr_summary_conns(const struct rr_csv *c, size_t row);
/* A summary row's pipe_size_asked: 0 (the kernel default) where absent or empty (older runs). */
uint64_t rr_summary_pipe(const struct rr_csv *c, size_t row);
/* A record of scripts/peers.sh (peers.jsonl), read beside copylab's own. */
bool rr_is_peer(json_t *rec);

/* A record's "conns": 1 when absent (older records, peers' records). */
unsigned rr_conns(json_t *rec);
/* A record's "pipe_size_asked": 0 (the kernel default) when null or absent (older records). */
uint64_t rr_pipe_asked(json_t *rec);

/* Dotted path lookup: "roles.server.bpf.bytes_to_user".  NULL if absent. */
json_t *rr_get(json_t *obj, const char *path);
/* The number at path (integer or real); false when absent, null or not a number. */
bool rr_num(json_t *obj, const char *path, double *out);
const char *rr_str(json_t *obj, const char *path);

/* "AMD EPYC, 2 CPUs, Linux 6.1.0": the machine of env.json, or "unknown machine". */
const char *rr_machine(const struct rr_dir *d, char *buf, size_t len);

/*
 * A figure of one record: returns true and sets *v when the record has it.
 * arg is what the caller passed to rr_cell_stat.
 */
typedef bool (*rr_metric)(json_t *rec, const void *arg, double *v);

/* Median, min and max of a metric over the usable reps of a cell; returns how many had it. */
size_t rr_cell_stat(const struct rr_dir *d, const struct rr_cell *c, rr_metric m, const void *arg,
		    double *med, double *min, double *max);
/* The median of v[0..n) (sorts v); NAN when n is 0.  Even n: mean of the middle two. */
double rr_median(double *v, size_t n);

#endif
