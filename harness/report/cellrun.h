/* SPDX-License-Identifier: MIT */
/*
 * Cells run as child processes of `copylab run ... --json --out DIR` (the
 * code path a user runs by hand), and their records and summary read back:
 * what `copylab claims` and `copylab advise` share.
 */
#ifndef COPYLAB_CELLRUN_H
#define COPYLAB_CELLRUN_H

#include <jansson.h>
#include <stdbool.h>

#include "harness/model/base.h"	/* errno_name() */
#include "harness/model/record.h"		/* scenario_name(), the strategy registry */

struct crrow {
	int ncols;
	char **cols;		/* the header's names (shared) */
	char **vals;
};

struct crcell {
	char *command;		/* "copylab run --scenario ..." as a user would type it */
	char *dir;		/* its results directory */
	char *log;		/* its stderr (the table, or the error) */
	int exit_code;		/* of the child; -1 if it could not run */
	char first_stderr_line[512];	/* the first "copylab: ..." line, or "" */
	json_t *records;	/* array of the records of results.jsonl */
	int nrows;
	struct crrow *rows;	/* summary.csv */
};

/*
 * Runs `copylab ARGV[0..n-1] --json --out DIR` (the executable itself, from
 * /proc/self/exe) with stdout and stderr into DIR.log, after clearing DIR of
 * an earlier cell's files, and reads back what it wrote.  Never NULL.
 */
struct crcell *cell_run(const char **argv, int n, const char *dir);
/* Reads DIR/results.jsonl and DIR/summary.csv as a cell (advise --from). */
struct crcell *cell_load(const char *dir);

/* Records of one strategy label, of one payload size (bytes < 0: any). */
struct crgroup {
	struct crcell *cell;
	const char *strategy;
	long bytes;
};

/* A dotted path into a record ("roles.relay.bpf.per_gib.bytes_to_user"); NAN when absent or null. */
double cr_rec_num(json_t *rec, const char *path);
/* The median of a figure over a group's usable records (status ok); NAN if none. */
double cell_median(const struct crgroup *g, const char *path);

/* The ratio a/b of a figure, paired by repetition number. */
struct crpaired {
	int n;
	double median, min, max;
	double coverage;	/* of min..max for the median: 1 - 2 * 0.5^n */
};
struct crpaired paired_ratio(struct crcell *c, const char *a, const char *b, long bytes, const char *path);

/* summary.csv's row of a strategy label and size (bytes < 0: the first); NULL if none. */
const struct crrow *summary_row(const struct crcell *c, const char *strategy, long bytes);
double cr_csv_num(const struct crrow *r, const char *col);	/* NAN if empty or absent */
const char *cr_csv_str(const struct crrow *r, const char *col);	/* "" if absent */

/* "64M" -> 67108864 (K/M/G powers of 1024); -1 when it is not a size. */
long cr_size(const char *s);
char *cr_strdup(const char *s);
/* Appends to a malloc'd string (NULL starts one). */
void cr_append(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
