/* SPDX-License-Identifier: MIT */
/*
 * Cells of `copylab claims` and `copylab advise`: a child `copylab run`
 * per cell, its records (results.jsonl) and summary (summary.csv) read back.
 */
#include "cellrun.h"
#include "harness/model/options.h"
#include "harness/results/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *cr_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fputs("copylab: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

void cr_append(char **s, const char *fmt, ...)
{
	va_list ap;
	char *add = NULL, *joined = NULL;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) < 0)
		add = NULL;
	va_end(ap);
	if (!add)
		return;
	if (asprintf(&joined, "%s%s", *s ? *s : "", add) < 0)
		joined = NULL;
	free(add);
	if (joined) {
		free(*s);
		*s = joined;
	}
}

long cr_size(const char *s)
{
	char err[160];
	uint64_t v;

	/* The command line's own parser: the same suffixes, the same limits. */
	return parse_size("size", s, 1ull << 40, &v, err, sizeof(err)) ? -1 : (long)v;
}

/* ---------------------------------------------------------------- a cell's records and summary */

struct crcell *cell_new(json_t *records, struct rr_csv *summary)
{
	struct crcell *c = calloc(1, sizeof(*c));

	if (!c) {
		fputs("copylab: out of memory\n", stderr);
		exit(1);
	}
	c->command = cr_strdup("");
	c->dir = cr_strdup("");
	c->log = cr_strdup("");
	c->records = records;
	c->summary = *summary;
	c->nrows = (int)c->summary.nrows;
	c->rows = calloc(c->summary.nrows + 1, sizeof(*c->rows));
	for (int r = 0; r < c->nrows; r++)
		c->rows[r] = (struct crrow){ &c->summary, (size_t)r };
	return c;
}

void cell_free(struct crcell *c)
{
	if (!c)
		return;
	free(c->command);
	free(c->dir);
	free(c->log);
	json_decref(c->records);
	rr_csv_free(&c->summary);
	free(c->rows);
	free(c);
}

/*
 * The cell of DIR: copylab's own records (results.jsonl, not a peer's
 * peers.jsonl) and summary.csv.  A cell that was refused wrote none.
 */
struct crcell *cell_load(const char *dir)
{
	json_t *records = json_array();
	struct rr_csv summary = { 0 };
	struct crcell *c;
	struct rr_dir d;
	char err[512];

	if (rr_open(dir, &d, err, sizeof(err)) == RR_OK) {
		for (size_t i = 0; i < d.nrec; i++)
			if (!rr_is_peer(d.rec[i]))
				json_array_append(records, d.rec[i]);
		summary = d.summary;
		memset(&d.summary, 0, sizeof(d.summary));	/* the cell's now */
		rr_close(&d);
	}
	c = cell_new(records, &summary);
	free(c->dir);
	c->dir = cr_strdup(dir);
	return c;
}

/* ---------------------------------------------------------------- running a cell */

static void clear_dir(const char *dir)
{
	static const char *files[] = { "results.jsonl", "summary.csv", "env.json" };
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
}

/* Runs `copylab ARGS --json --out DIR`, its stderr into LOG: its exit status, -1 if it could not run. */
static int run_child(const char **argv, int n, const char *dir, const char *log)
{
	const char **args = calloc((size_t)n + 6, sizeof(*args));
	int status, k = 0, code = -1;
	pid_t pid;

	args[k++] = "copylab";
	for (int i = 0; i < n && argv[i]; i++)
		args[k++] = argv[i];
	args[k++] = "--json";
	args[k++] = "--out";
	args[k++] = dir;
	args[k] = NULL;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0)
			dup2(fd, 2);
		if (devnull >= 0)
			dup2(devnull, 1);	/* the records are in DIR/results.jsonl */
		execv("/proc/self/exe", (char *const *)args);
		_exit(127);
	}
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	free(args);
	return code;
}

/* The first "copylab: ..." line of LOG (a refusal's reason), or "". */
static void first_copylab_line(const char *log, char *out, size_t len)
{
	FILE *f = fopen(log, "r");
	char line[1024];

	*out = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "copylab:", 8)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%.500s", line);
			break;
		}
	}
	if (f)
		fclose(f);
}

struct crcell *cell_run(const char **argv, int n, const char *dir)
{
	char *log = NULL, *command = cr_strdup("copylab");
	struct crcell *c;
	int code;

	cr_append(&log, "%s.log", dir);
	for (int i = 0; i < n && argv[i]; i++)
		cr_append(&command, " %s", argv[i]);
	clear_dir(dir);
	code = run_child(argv, n, dir, log);
	c = cell_load(dir);
	c->exit_code = code;
	free(c->command);
	c->command = command;
	free(c->log);
	c->log = log;
	first_copylab_line(log, c->first_stderr_line, sizeof(c->first_stderr_line));
	return c;
}

/* ---------------------------------------------------------------- figures */

/* A record's figure at a dotted path; NAN when absent or null. */
static double figure(json_t *rec, const char *path)
{
	double v;

	return rr_num(rec, path, &v) ? v : NAN;
}

static double path_figure(json_t *rec, const void *path)
{
	return figure(rec, path);
}

bool cr_usable(json_t *rec, const char *strategy, long bytes)
{
	const char *s = json_string_value(json_object_get(rec, "strategy"));
	const char *st = json_string_value(json_object_get(rec, "status"));

	return s && strategy && !strcmp(s, strategy) && st && !strcmp(st, "ok") &&
	       (bytes < 0 || (long)figure(rec, "bytes") == bytes);
}

double cell_median_of(const struct crgroup *g, cr_figure f, const void *arg)
{
	size_t i, n = 0;
	json_t *rec;
	double *v, m;

	if (!g->cell || !g->cell->records)
		return NAN;
	v = calloc(json_array_size(g->cell->records) + 1, sizeof(*v));
	json_array_foreach(g->cell->records, i, rec) {
		double x;

		if (!cr_usable(rec, g->strategy, g->bytes))
			continue;
		x = f(rec, arg);
		if (!isnan(x))
			v[n++] = x;
	}
	m = stats_median(v, n);
	free(v);
	return m;
}

double cell_median(const struct crgroup *g, const char *path)
{
	return cell_median_of(g, path_figure, path);
}

/* The repetition and figure of each usable record of STRATEGY at BYTES (NAN where it lacks the figure). */
static size_t samples_of(const struct crcell *c, const char *strategy, long bytes, cr_figure f, const void *arg,
			 struct stats_sample *out)
{
	size_t i, n = 0;
	json_t *rec;

	json_array_foreach(c->records, i, rec)
		if (cr_usable(rec, strategy, bytes))
			out[n++] = (struct stats_sample){ (int)figure(rec, "rep"), f(rec, arg) };
	return n;
}

/*
 * The payload sizes of A's usable records at BYTES (bytes < 0: every
 * size), each once; -1 for records bounded by time, whose reps pair
 * whatever each moved.
 */
static size_t sizes_of(const struct crcell *c, const char *a, long bytes, long *out)
{
	size_t i, n = 0;
	json_t *rec;

	json_array_foreach(c->records, i, rec) {
		long size = figure(rec, "time_s") > 0 ? -1 : (long)figure(rec, "bytes");
		size_t k = 0;

		if (!cr_usable(rec, a, bytes))
			continue;
		while (k < n && out[k] != size)
			k++;
		if (k == n)
			out[n++] = size;
	}
	return n;
}

struct crpaired paired_ratio_of(struct crcell *c, const char *a, const char *b, long bytes,
				cr_figure f, const void *arg)
{
	struct crpaired p = { 0, NAN, NAN, NAN, 0, NAN, NAN, 0, NAN, NAN, 0 };
	struct stats_sample *sa, *sb;
	size_t count, nsizes, n = 0;
	long *sizes;
	double *v;

	if (!c || !c->records)
		return p;
	count = json_array_size(c->records) + 1;
	sa = calloc(count, sizeof(*sa));
	sb = calloc(count, sizeof(*sb));
	sizes = calloc(count, sizeof(*sizes));
	v = calloc(count, sizeof(*v));
	nsizes = sizes_of(c, a, bytes, sizes);
	for (size_t k = 0; k < nsizes; k++) {
		size_t na = samples_of(c, a, sizes[k], f, arg, sa);
		size_t nb = samples_of(c, b, sizes[k], f, arg, sb);

		n += stats_paired_ratios(sa, na, sb, nb, v + n, count - n);
	}
	if (n) {
		struct stats_summary s = stats_summarize(v, n);

		p.n = (int)n;
		p.median = s.median;
		p.min = s.min;
		p.max = s.max;
		p.coverage = stats_minmax_level(n);
		p.lo = s.ci.lo;
		p.hi = s.ci.hi;
		p.level = s.ci.level;
		s.ci = stats_median_interval_at(v, n, CR_DECISION_LEVEL);
		p.dlo = s.ci.lo;
		p.dhi = s.ci.hi;
		p.dlevel = s.ci.level;
	}
	free(sa);
	free(sb);
	free(sizes);
	free(v);
	return p;
}

struct crpaired paired_ratio(struct crcell *c, const char *a, const char *b, long bytes, const char *path)
{
	return paired_ratio_of(c, a, b, bytes, path_figure, path);
}

int cell_merge(struct crcell *into, struct crcell *more)
{
	double top = 0, r;
	size_t i;
	json_t *rec;
	int added = 0;

	json_array_foreach(into->records, i, rec)
		if (rr_num(rec, "rep", &r) && r > top)
			top = r;
	json_array_foreach(more->records, i, rec) {
		json_t *copy = json_deep_copy(rec);

		if (rr_num(rec, "rep", &r))
			json_object_set_new(copy, "rep", json_integer((json_int_t)(r + top)));
		json_array_append_new(into->records, copy);
		added++;
	}
	cr_append(&into->command, "\n%s", more->command);
	cell_free(more);
	return added;
}

const struct crrow *summary_row(const struct crcell *c, const char *strategy, long bytes)
{
	for (int i = 0; c && i < c->nrows; i++) {
		const struct crrow *r = &c->rows[i];

		if (strcmp(cr_csv_str(r, "strategy"), strategy))
			continue;
		if (bytes >= 0 && (long)cr_csv_num(r, "bytes") != bytes)
			continue;
		return r;
	}
	return NULL;
}

const char *cr_csv_str(const struct crrow *r, const char *col)
{
	const char *s = r ? rr_csv_get(r->csv, r->row, col) : NULL;

	return s ? s : "";
}

double cr_csv_num(const struct crrow *r, const char *col)
{
	const char *s = cr_csv_str(r, col);
	char *end;
	double v;

	if (!*s)
		return NAN;
	v = strtod(s, &end);
	return end == s ? NAN : v;
}

void cr_resolution(const struct crcell *c, const char *a, const char *b, long bytes,
		   int *total, int *missing, int *unresolved, double *ticks)
{
	size_t i, n = 0;
	json_t *rec;
	double *t = calloc(json_array_size(c->records) + 1, sizeof(*t));

	*total = *missing = *unresolved = 0;
	json_array_foreach(c->records, i, rec) {
		json_t *r = rr_get(rec, "system_cpu.resolved");

		if (!cr_usable(rec, a, bytes) && !cr_usable(rec, b, bytes))
			continue;
		++*total;
		if (!json_is_boolean(r)) {
			++*missing;
		} else if (!json_is_true(r)) {
			double v;

			++*unresolved;
			if (t)
				t[n++] = rr_num(rec, "system_cpu.busy_ticks", &v) ? v : NAN;
		}
	}
	*ticks = stats_median(t, n);
	free(t);
}
