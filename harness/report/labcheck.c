/* SPDX-License-Identifier: MIT */
/*
 * `copylab lab check N DIR`: reads the run directories a student's lab N
 * left under DIR, names the cells of the key that are missing, and prints
 * the student's own figures in the key's table: both strategies' medians,
 * their paired ratio with its interval (as advise and claims pair them,
 * cellrun.c), the direction the key expects and whether the student's
 * interval supports it.  The key's rows are data: one line per figure.
 */
#include "labcheck.h"
#include "harness/cli/cli.h"
#include "cellrun.h"
#include "cells.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAB_MAX 7
#define MAX_RUNS 256

enum expect { EX_LOWER, EX_HIGHER, EX_SAME };

/* One figure of the key: STRATEGY against BASE in one cell of the lab. */
struct lab_row {
	int lab;
	const char *scenario, *transport;
	int nonblock;		/* the cell's runs: 1 --nonblock only, 0 without */
	const char *base, *strategy;
	const char *figure, *path;	/* words, and the record's JSON path */
	enum expect expect;
	const char *root;	/* why only root can make the cell; NULL: anyone */
	const char *command;	/* the lab's command that makes it */
};

#define SERVE1 "./copylab run --scenario serve --strategy readwrite,sendfile --size 256M --reps 5 --json > lab1.jsonl"
#define RELAY2 "./copylab run --scenario relay --strategy readwrite,splice,splice:pipe=1M --size 256M --reps 5 --json > lab2.jsonl"
#define PIPE3 "./copylab run --scenario pipe --strategy readwrite,vmsplice,vmsplice:gift --size 256M --reps 5 --json > lab3-pipe.jsonl"
#define SEND3 "./copylab run --scenario send --strategy readwrite,vmsplice --size 256M --reps 5 --json > lab3-send.jsonl"
#define RELAY4 "./copylab run --scenario relay --strategy readwrite,splice --size 64M --reps 3 --tracer --json > lab4.jsonl"
#define RELAY5 "./copylab run --scenario relay --strategy readwrite,splice --transport %s --size 256M --reps 5 --json"
#define ADVISE6 "./copylab advise --scenario relay --size 256M --reps 5"
#define SMALL6 "./copylab run --scenario relay --strategy readwrite,splice --nonblock --sndbuf 4096 --rcvbuf 4096 --size 64M --reps 5 --json > lab6-small.jsonl"
#define ECHO6 "./copylab run --scenario echo --strategy readwrite,splice --block 1K --outstanding 8 --size 10M --reps 5 --json > lab6-echo.jsonl"
#define NAT6 "./copylab run --scenario relay --strategy readwrite,splice,sockmap,nat --transport routed --size 256M --reps 5 --json > lab6-nat.jsonl"
#define SEND7 "./copylab run --scenario send --strategy readwrite,vmsplice --transport %s --size 256M --reps 5 --json"
#define NS_ROOT "the transport makes network namespaces"

/*
 * The directions are the key's answers (docs/labs/instructors/), measured
 * on the reference machine, quiet, on 2026-12-07: where the key found no
 * difference, EX_SAME, whatever the articles predict.
 */
static const struct lab_row rows[] = {
	{ 1, "serve", "tcp", 0, "readwrite", "sendfile", "MB/s", "bytes_per_s", EX_SAME, NULL, SERVE1 },
	{ 1, "serve", "tcp", 0, "readwrite", "sendfile", "server CPU s/GiB", "roles.server.cpu_per_gib_s", EX_LOWER, NULL, SERVE1 },
	{ 1, "serve", "tcp", 0, "readwrite", "sendfile", "machine busy s/GiB", "system_cpu.busy_per_gib_s", EX_LOWER, NULL, SERVE1 },
	{ 1, "serve", "tcp", 0, "readwrite", "sendfile", "server bytes to user/GiB", "roles.server.ledger.per_gib.bytes_to_user", EX_LOWER, NULL, SERVE1 },

	{ 2, "relay", "tcp", 0, "readwrite", "splice", "MB/s", "bytes_per_s", EX_SAME, NULL, RELAY2 },
	{ 2, "relay", "tcp", 0, "readwrite", "splice", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_LOWER, NULL, RELAY2 },
	{ 2, "relay", "tcp", 0, "readwrite", "splice", "machine busy s/GiB", "system_cpu.busy_per_gib_s", EX_LOWER, NULL, RELAY2 },
	{ 2, "relay", "tcp", 0, "readwrite", "splice", "relay bytes to user/GiB", "roles.relay.ledger.per_gib.bytes_to_user", EX_LOWER, NULL, RELAY2 },
	{ 2, "relay", "tcp", 0, "splice", "splice:pipe=1M", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_SAME, NULL, RELAY2 },

	{ 3, "pipe", NULL, 0, "readwrite", "vmsplice", "MB/s", "bytes_per_s", EX_HIGHER, NULL, PIPE3 },
	{ 3, "pipe", NULL, 0, "readwrite", "vmsplice", "writer CPU s/GiB", "roles.writer.cpu_per_gib_s", EX_LOWER, NULL, PIPE3 },
	{ 3, "pipe", NULL, 0, "readwrite", "vmsplice", "reader CPU s/GiB", "roles.reader.cpu_per_gib_s", EX_LOWER, NULL, PIPE3 },
	{ 3, "pipe", NULL, 0, "vmsplice", "vmsplice:gift", "MB/s", "bytes_per_s", EX_SAME, NULL, PIPE3 },
	{ 3, "send", "tcp", 0, "readwrite", "vmsplice", "MB/s", "bytes_per_s", EX_SAME, NULL, SEND3 },
	{ 3, "send", "tcp", 0, "readwrite", "vmsplice", "sender CPU s/GiB", "roles.sender.cpu_per_gib_s", EX_LOWER, NULL, SEND3 },

	{ 4, "relay", "tcp", 0, "readwrite", "splice", "relay bytes to user/GiB", "roles.relay.ledger.per_gib.bytes_to_user", EX_LOWER, NULL, RELAY4 },
	{ 4, "relay", "tcp", 0, "readwrite", "splice", "sink bytes to user/GiB", "roles.sink.ledger.per_gib.bytes_to_user", EX_SAME, NULL, RELAY4 },

	{ 5, "relay", "unix", 0, "readwrite", "splice", "MB/s", "bytes_per_s", EX_HIGHER, NULL, RELAY5 },
	{ 5, "relay", "unix", 0, "readwrite", "splice", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_LOWER, NULL, RELAY5 },
	{ 5, "relay", "tcp", 0, "readwrite", "splice", "MB/s", "bytes_per_s", EX_SAME, NULL, RELAY5 },
	{ 5, "relay", "tcp", 0, "readwrite", "splice", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_LOWER, NULL, RELAY5 },
	{ 5, "relay", "veth", 0, "readwrite", "splice", "MB/s", "bytes_per_s", EX_SAME, NS_ROOT, RELAY5 },
	{ 5, "relay", "veth", 0, "readwrite", "splice", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_LOWER, NS_ROOT, RELAY5 },

	{ 6, "relay", "tcp", 0, "readwrite", "splice", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_LOWER, NULL, ADVISE6 },
	{ 6, "relay", "tcp", 0, "readwrite", "splice", "machine busy s/GiB", "system_cpu.busy_per_gib_s", EX_LOWER, NULL, ADVISE6 },
	{ 6, "relay", "tcp", 1, "readwrite", "splice", "relay CPU s/GiB", "roles.relay.cpu_per_gib_s", EX_SAME, NULL, SMALL6 },
	{ 6, "echo", "tcp", 0, "readwrite", "splice", "p50 latency us", "latency.p50_us", EX_SAME, NULL, ECHO6 },
	{ 6, "relay", "routed", 0, "readwrite", "nat", "machine busy s/GiB", "system_cpu.busy_per_gib_s", EX_LOWER,
	  "sockmap loads BPF, nat writes nftables rules, routed makes namespaces", NAT6 },

	{ 7, "send", "userstack", 0, "readwrite", "vmsplice", "sender CPU s/GiB", "roles.sender.cpu_per_gib_s", EX_LOWER,
	  "stackd makes a namespace and a TAP", SEND7 },
	{ 7, "send", "veth", 0, "readwrite", "vmsplice", "sender CPU s/GiB", "roles.sender.cpu_per_gib_s", EX_LOWER, NS_ROOT, SEND7 },
};

/* The run directories found under DIR, each read once. */
struct runs {
	char *dir[MAX_RUNS];
	struct crcell *cell[MAX_RUNS];
	int n;
};

static void lab_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab lab check N DIR\n\n"
		"Reads the results lab N (1..%d, docs/labs/) left under DIR, the directory\n"
		"the lab was run in: every run directory DIR/results/*/ and DIR/*/ (or DIR\n"
		"itself) with a results.jsonl.  Names the cells of the instructors' key\n"
		"that are missing, with the lab's command that makes each, and prints your\n"
		"own figures in the key's table: both strategies' medians, their ratio\n"
		"paired repetition by repetition with its interval, the direction the key\n"
		"expects, and whether your interval supports it (an interval that holds\n"
		"1.0: no difference measured).  A cell only root can make is not required\n"
		"of another user.\n\n"
		"Exit status: 0 every required cell found, 1 a required cell is missing,\n"
		"2 bad usage.\n", LAB_MAX);
}

/* When DIR's results.jsonl was last written, or -1 when it has none. */
static double results_time(const char *dir)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return -1;
	return (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
}

static bool has_results(const char *dir)
{
	return results_time(dir) >= 0;
}

/* Oldest run first (advise's directories are named otherwise than run's), then by name. */
static int by_time(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	double tx = results_time(x), ty = results_time(y);

	return tx < ty ? -1 : tx > ty ? 1 : strcmp(x, y);
}

/* Adds the run directories directly under PARENT (cmd_lab reads them in time order). */
static void add_runs_under(struct runs *r, const char *parent)
{
	struct dirent *e;
	DIR *d = opendir(parent);

	if (!d)
		return;
	while ((e = readdir(d)) && r->n < MAX_RUNS) {
		char *path = NULL;

		if (e->d_name[0] == '.')
			continue;
		cr_append(&path, "%s/%s", parent, e->d_name);
		if (has_results(path))
			r->dir[r->n++] = path;
		else
			free(path);
	}
	closedir(d);
}

static void runs_free(struct runs *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->dir[i]);
		cell_free(r->cell[i]);
	}
}

static bool rec_in_row(json_t *rec, const struct lab_row *row)
{
	const char *sc = json_string_value(json_object_get(rec, "scenario"));
	const char *tr = json_string_value(json_object_get(rec, "transport"));
	bool nonblock = json_is_true(json_object_get(rec, "nonblock"));

	return sc && !strcmp(sc, row->scenario) && (!row->transport || (tr && !strcmp(tr, row->transport))) &&
	       nonblock == (row->nonblock == 1);
}

/*
 * The records of ROW's cell in run C, as a cell of their own (free it), or
 * NULL: both strategies must be there, of one size and block (a sweep is
 * not the key's cell).
 */
static struct crcell *row_cell(const struct crcell *c, const struct lab_row *row)
{
	json_t *keep = json_array(), *rec;
	size_t i;
	double bytes = NAN, block = NAN;
	bool base = false, strategy = false, uniform = true;
	struct rr_csv none = { 0 };

	json_array_foreach(c->records, i, rec) {
		double b, k;

		if (!rec_in_row(rec, row) || !rr_num(rec, "bytes", &b) || !rr_num(rec, "block", &k))
			continue;
		if (isnan(bytes)) {
			bytes = b;
			block = k;
		}
		uniform = uniform && b == bytes && k == block;
		base = base || cr_usable(rec, row->base, -1);
		strategy = strategy || cr_usable(rec, row->strategy, -1);
		json_array_append(keep, rec);
	}
	if (!base || !strategy || !uniform) {
		json_decref(keep);
		return NULL;
	}
	return cell_new(keep, &none);
}

static const char *expect_words(enum expect e)
{
	return e == EX_LOWER ? "lower" : e == EX_HIGHER ? "higher" : "no difference";
}

/* The fewest pairs whose min..max covers the median with 94% (1 - 2 * 0.5^5). */
#define PAIRS_TO_DECIDE 5

/* Whether the paired interval supports the key's direction, in words. */
static const char *support_words(const struct crpaired *p, enum expect e)
{
	if (p->n == 0 || isnan(p->lo))
		return "no paired repetitions";
	if (p->n < PAIRS_TO_DECIDE)
		return "too few pairs to decide";
	if (p->lo <= 1.0 && p->hi >= 1.0)
		return e == EX_SAME ? "supports it (no difference measured)" : "no difference measured";
	if (p->hi < 1.0)
		return e == EX_LOWER ? "supports it" : "against it: measured lower";
	return e == EX_HIGHER ? "supports it" : "against it: measured higher";
}

/* The key's command of ROW, with its transport where the lab runs it over several. */
static void print_command(const struct lab_row *row)
{
	printf("    ");
	printf(row->command, row->transport ? row->transport : "");
	printf("\n");
}

/* The unit a figure is shown in: MB/s for throughput, GiB per GiB for ledger bytes. */
static double figure_scale(const char *path)
{
	if (!strcmp(path, "bytes_per_s"))
		return 1e-6;
	return strstr(path, ".per_gib.bytes_") ? 1.0 / GIB : 1.0;
}

/*
 * Whether a system-wide figure of CELL is too coarse to pair: without
 * root it comes from /proc/stat's ticks, and a small run spans few of them
 * (the record says "resolved": false).
 */
static bool unresolved(const struct crcell *cell, const struct lab_row *row)
{
	json_t *rec;
	size_t i;

	if (strncmp(row->path, "system_cpu.", 11))
		return false;
	json_array_foreach(cell->records, i, rec)
		if (json_is_false(rr_get(rec, "system_cpu.resolved")))
			return true;
	return false;
}

/* Prints one figure of the key; whether its pairs were too few to decide. */
static bool print_row(struct crcell *cell, const struct lab_row *row)
{
	struct crgroup ga = { cell, row->base, -1 }, gb = { cell, row->strategy, -1 };
	struct crpaired p = paired_ratio(cell, row->strategy, row->base, -1, row->path);
	double scale = figure_scale(row->path);
	char ratio[96];

	if (p.n)
		snprintf(ratio, sizeof(ratio), "%.3f [%.3f..%.3f] %.0f%%, %d pair%s", p.median, p.lo, p.hi,
			 100.0 * p.level, p.n, p.n == 1 ? "" : "s");
	else
		snprintf(ratio, sizeof(ratio), "-");
	printf("  %-26s %12.4g %12.4g  %-36s %-14s %s\n", row->figure, scale * cell_median(&ga, row->path),
	       scale * cell_median(&gb, row->path), ratio, expect_words(row->expect),
	       unresolved(cell, row) ? "unresolved: /proc/stat's ticks are too coarse at this size" :
				       support_words(&p, row->expect));
	return p.n > 0 && p.n < PAIRS_TO_DECIDE;
}

/*
 * The key's rows of LAB against the runs; the number of required cells
 * missing.  *few counts the figures whose pairs were too few to decide.
 */
static int check_lab(int lab, struct runs *r, int *few)
{
	const struct lab_row *prev = NULL;
	struct crcell *cell = NULL;
	int missing = 0;
	bool root = geteuid() == 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct lab_row *row = &rows[i];
		const char *from = NULL;

		if (row->lab != lab)
			continue;
		bool same = prev && !strcmp(prev->scenario, row->scenario) && prev->nonblock == row->nonblock &&
			    !strcmp(prev->base, row->base) && !strcmp(prev->strategy, row->strategy) &&
			    (prev->transport ? row->transport && !strcmp(prev->transport, row->transport) : !row->transport);
		if (same && !cell)
			continue;	/* its cell was reported missing */
		if (!same) {
			cell_free(cell);
			cell = NULL;
			for (int k = r->n - 1; k >= 0 && !cell; k--)	/* the latest run that has it */
				if ((cell = row_cell(r->cell[k], row)))
					from = r->dir[k];
			prev = row;
			printf("\n%s%s%s%s, %s against %s", row->scenario, row->transport ? " over " : "",
			       row->transport ? row->transport : "", row->nonblock ? " (--nonblock)" : "", row->strategy,
			       row->base);
			if (!cell) {
				if (row->root && !root) {
					printf(": not required without root (%s)\n", row->root);
				} else {
					printf(": MISSING, made by\n");
					missing++;
				}
				print_command(row);
				continue;
			}
			printf(" (from %s)\n  %-26s %12s %12s  %-36s %-14s %s\n", from, "figure", row->base, row->strategy,
			       "ratio [interval] coverage, pairs", "key expects", "your intervals");
		}
		*few += print_row(cell, row);
	}
	cell_free(cell);
	return missing;
}

int cmd_lab(int argc, char **argv)
{
	struct runs r = { 0 };
	struct stat st;
	char *end;
	long lab;
	int missing, few = 0;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		lab_usage(stdout);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "check")) {
		fprintf(stderr, "copylab lab: expected `check N DIR`%s%s\n", argc >= 2 ? ", not " : "",
			argc >= 2 ? argv[1] : "");
		lab_usage(stderr);
		return EXIT_USAGE;
	}
	lab = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end || lab < 1 || lab > LAB_MAX) {
		fprintf(stderr, "copylab lab check: N is the lab's number, 1 to %d, not '%s'\n", LAB_MAX, argv[2]);
		return EXIT_USAGE;
	}
	if (stat(argv[3], &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "copylab lab check: DIR must be the directory lab %ld was run in; '%s' is not a directory\n",
			lab, argv[3]);
		return EXIT_USAGE;
	}
	if (has_results(argv[3]))
		r.dir[r.n++] = cr_strdup(argv[3]);
	add_runs_under(&r, argv[3]);
	{
		char *sub = NULL;

		cr_append(&sub, "%s/results", argv[3]);
		add_runs_under(&r, sub);
		free(sub);
	}
	qsort(r.dir, (size_t)r.n, sizeof(r.dir[0]), by_time);
	for (int i = 0; i < r.n; i++)
		r.cell[i] = cell_load(r.dir[i]);
	printf("lab %ld: the key's cells (docs/labs/instructors/lab%ld.md) in %d run director%s under %s\n", lab, lab,
	       r.n, r.n == 1 ? "y" : "ies", argv[3]);
	missing = check_lab((int)lab, &r, &few);
	if (missing)
		printf("\nSome cells of the key are missing: run the commands above.\n");
	else
		printf("\nEvery cell the key requires of you is here.\n");
	if (few)
		printf("%d figure%s rest%s on fewer than %d pairs, whose min..max covers the median with less than\n"
		       "94%%: run the lab's command with --reps 8 to decide.\n",
		       few, few == 1 ? "" : "s", few == 1 ? "s" : "", PAIRS_TO_DECIDE);
	runs_free(&r);
	return missing ? EXIT_RUN_FAILED : 0;
}
