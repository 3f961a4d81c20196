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
#include "harness/results/record.h"		/* scenario_name(), the strategy registry */
#include "harness/results/read.h"

/* A row of a cell's summary.csv. */
struct crrow {
	const struct rr_csv *csv;
	size_t row;
};

struct crcell {
	char *command;		/* "copylab run --scenario ..." as a user would type it */
	char *dir;		/* its results directory */
	char *log;		/* its stderr (the table, or the error) */
	int exit_code;		/* of the child; -1 if it could not run */
	char first_stderr_line[512];	/* the first "copylab: ..." line, or "" */
	json_t *records;	/* array of the records of results.jsonl */
	struct rr_csv summary;	/* summary.csv */
	int nrows;
	struct crrow *rows;	/* summary's rows, in its order */
};

/*
 * Runs `copylab ARGV[0..n-1] --json --out DIR` (the executable itself, from
 * /proc/self/exe) with stdout and stderr into DIR.log, after clearing DIR of
 * an earlier cell's files, and reads back what it wrote.  Never NULL.
 */
struct crcell *cell_run(const char **argv, int n, const char *dir);
/*
 * Reads DIR/results.jsonl and DIR/summary.csv as a cell (advise --from)
 * through harness/results/read.c; a directory it cannot read gives a cell
 * with no records and no rows.
 */
struct crcell *cell_load(const char *dir);
/*
 * A cell of RECORDS (a JSON array) and SUMMARY, both taken over, with ""
 * for its command, directory and log: what cell_load builds from a run
 * directory, and a unit test from records of its own.
 */
struct crcell *cell_new(json_t *records, struct rr_csv *summary);
void cell_free(struct crcell *c);

/* Records of one strategy label, of one payload size (bytes < 0: any). */
struct crgroup {
	struct crcell *cell;
	const char *strategy;
	long bytes;
};

/* Whether REC is a usable record (status ok) of STRATEGY at BYTES (bytes < 0: any size). */
bool cr_usable(json_t *rec, const char *strategy, long bytes);

/* A figure of one record, NAN when the record lacks it; ARG is the figure's own. */
typedef double (*cr_figure)(json_t *rec, const void *arg);

/* The median of a figure over a group's usable records (status ok); NAN if none. */
double cell_median(const struct crgroup *g, const char *path);
double cell_median_of(const struct crgroup *g, cr_figure f, const void *arg);

/* The ratio a/b of a figure, paired by repetition number. */
struct crpaired {
	int n;
	double median, min, max;
	double coverage;	/* of min..max for the median: 1 - 2 * 0.5^n */
	/*
	 * The distribution-free interval for the median (stats_median_interval):
	 * min..max up to 8 pairs, then order statistics that narrow as pairs are
	 * added, so more repetitions can decide what a few could not.
	 */
	double lo, hi, level;
	/*
	 * The interval a verdict decides on: at 99% (CR_DECISION_LEVEL), since
	 * claims looks again after adding repetitions (up to four times), and
	 * at 95% a look falls outside by chance alone more than once in twenty
	 * (a flip between two runs on a quiet machine showed it).  From 8 pairs
	 * on; below, dlevel says the coverage min..max has.
	 */
	double dlo, dhi, dlevel;
};

#define CR_DECISION_LEVEL 0.99
/* Pairs are of one payload size: each size of a sweep numbers its repetitions anew. */
struct crpaired paired_ratio(struct crcell *c, const char *a, const char *b, long bytes, const char *path);
struct crpaired paired_ratio_of(struct crcell *c, const char *a, const char *b, long bytes,
				cr_figure f, const void *arg);

/*
 * Adds the records of MORE, a later run of the same cell, to INTO and frees
 * MORE.  Its repetitions are renumbered after INTO's highest, so a pair is
 * always two strategies of one round of one run, never of two runs.  Its
 * command joins INTO's, one a line.  INTO's summary.csv stays its first
 * run's.  The number of records added.
 */
int cell_merge(struct crcell *into, struct crcell *more);

/*
 * The system-wide CPU of the usable records of A and B: how many there
 * are, how many lack system_cpu.resolved (a copylab before it), how many
 * rest on too few /proc/stat ticks to decide, and those ones' median
 * ticks (NAN if none).  What claims and advise both refuse to decide on.
 */
void cr_resolution(const struct crcell *c, const char *a, const char *b, long bytes,
		   int *total, int *missing, int *unresolved, double *ticks);

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
