/* SPDX-License-Identifier: MIT */
/*
 * Cells of `copylab claims` and `copylab advise`: a child `copylab run`
 * per cell, its records (results.jsonl) and summary (summary.csv) read back.
 */
#include "cellrun.h"
#include "harness/model/options.h"

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

/* ---------------------------------------------------------------- reading a run directory */

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void load_records(struct crcell *c)
{
	char path[PATH_MAX + 32];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	c->records = json_array();
	snprintf(path, sizeof(path), "%s/results.jsonl", c->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		json_error_t e;
		json_t *rec = json_loads(line, 0, &e);

		if (rec)
			json_array_append_new(c->records, rec);
	}
	free(line);
	fclose(f);
}

/* One CSV line into fields (RFC 4180 quoting); the line is modified. */
static int csv_split(char *line, char ***out)
{
	int n = 0, cap = 16;
	char **f = calloc((size_t)cap, sizeof(*f));
	char *p = line;

	for (;;) {
		char *start, *w;

		if (n == cap) {
			cap *= 2;
			f = realloc(f, (size_t)cap * sizeof(*f));
		}
		if (*p == '"') {
			start = w = ++p;
			while (*p) {
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			*w = '\0';
			f[n++] = start;
			/* p is at ',' or the end */
			if (*p == ',') {
				*p++ = '\0';
				continue;
			}
			break;
		}
		start = p;
		while (*p && *p != ',' && *p != '\n' && *p != '\r')
			p++;
		f[n++] = start;
		if (*p == ',') {
			*p++ = '\0';
			continue;
		}
		*p = '\0';
		break;
	}
	*out = f;
	return n;
}

static void load_summary(struct crcell *c)
{
	char path[PATH_MAX + 32];
	char *text, *save = NULL, *line, **header = NULL;
	int nh = 0;

	snprintf(path, sizeof(path), "%s/summary.csv", c->dir);
	text = read_whole(path);
	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **vals;
		int n = csv_split(line, &vals);

		if (!header) {
			header = vals;
			nh = n;
			continue;
		}
		c->rows = realloc(c->rows, (size_t)(c->nrows + 1) * sizeof(*c->rows));
		c->rows[c->nrows].ncols = n < nh ? n : nh;
		c->rows[c->nrows].cols = header;
		c->rows[c->nrows].vals = vals;
		c->nrows++;
	}
	/* text stays allocated: the rows point into it. */
}

struct crcell *cell_load(const char *dir)
{
	struct crcell *c = calloc(1, sizeof(*c));

	c->dir = cr_strdup(dir);
	c->command = cr_strdup("");
	c->log = cr_strdup("");
	load_records(c);
	load_summary(c);
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

struct crcell *cell_run(const char **argv, int n, const char *dir)
{
	struct crcell *c = calloc(1, sizeof(*c));
	const char **args = calloc((size_t)n + 6, sizeof(*args));
	pid_t pid;
	int status, k = 0;

	c->dir = cr_strdup(dir);
	c->log = NULL;
	cr_append(&c->log, "%s.log", dir);
	c->command = cr_strdup("copylab");
	for (int i = 0; i < n && argv[i]; i++)
		cr_append(&c->command, " %s", argv[i]);
	clear_dir(dir);

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
		int fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, 2);
		}
		if (devnull >= 0)
			dup2(devnull, 1);	/* the records are in DIR/results.jsonl */
		execv("/proc/self/exe", (char *const *)args);
		_exit(127);
	}
	c->exit_code = -1;
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	free(args);
	{
		FILE *f = fopen(c->log, "r");
		char line[1024];

		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "copylab:", 8)) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(c->first_stderr_line, sizeof(c->first_stderr_line), "%.500s", line);
				break;
			}
		}
		if (f)
			fclose(f);
	}
	load_records(c);
	load_summary(c);
	return c;
}

/* ---------------------------------------------------------------- figures */

double cr_rec_num(json_t *rec, const char *path)
{
	char buf[256], *save = NULL;
	json_t *v = rec;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = json_is_object(v) ? json_object_get(v, k) : NULL;
	return v && json_is_number(v) ? json_number_value(v) : NAN;
}

static bool usable(json_t *rec, const char *strategy, long bytes)
{
	const char *s = json_string_value(json_object_get(rec, "strategy"));
	const char *st = json_string_value(json_object_get(rec, "status"));

	return s && !strcmp(s, strategy) && st && !strcmp(st, "ok") &&
	       (bytes < 0 || (long)cr_rec_num(rec, "bytes") == bytes);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, int n)
{
	if (n == 0)
		return NAN;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double cell_median(const struct crgroup *g, const char *path)
{
	size_t i, count;
	json_t *rec;
	double *v;
	int n = 0;
	double m;

	if (!g->cell || !g->cell->records)
		return NAN;
	count = json_array_size(g->cell->records);
	v = calloc(count + 1, sizeof(*v));
	json_array_foreach(g->cell->records, i, rec) {
		double x;

		if (!usable(rec, g->strategy, g->bytes))
			continue;
		x = cr_rec_num(rec, path);
		if (!isnan(x))
			v[n++] = x;
	}
	m = median_of(v, n);
	free(v);
	return m;
}

struct crpaired paired_ratio(struct crcell *c, const char *a, const char *b, long bytes, const char *path)
{
	struct crpaired p = { 0, NAN, NAN, NAN, 0 };
	size_t i, j, count;
	json_t *ra, *rb;
	double *v;

	if (!c || !c->records)
		return p;
	count = json_array_size(c->records);
	v = calloc(count + 1, sizeof(*v));
	json_array_foreach(c->records, i, ra) {
		if (!usable(ra, a, bytes))
			continue;
		json_array_foreach(c->records, j, rb) {
			double x, y;

			if (!usable(rb, b, bytes) ||
			    cr_rec_num(ra, "rep") != cr_rec_num(rb, "rep") ||
			    cr_rec_num(ra, "bytes") != cr_rec_num(rb, "bytes"))
				continue;
			x = cr_rec_num(ra, path);
			y = cr_rec_num(rb, path);
			if (!isnan(x) && !isnan(y) && y > 0)
				v[p.n++] = x / y;
			break;
		}
	}
	if (p.n) {
		p.median = median_of(v, p.n);	/* sorts v */
		p.min = v[0];
		p.max = v[p.n - 1];
		p.coverage = 1.0 - 2.0 * pow(0.5, p.n);
	}
	free(v);
	return p;
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
	for (int i = 0; r && i < r->ncols; i++)
		if (!strcmp(r->cols[i], col))
			return r->vals[i];
	return "";
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
