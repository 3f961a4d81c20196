/* SPDX-License-Identifier: MIT */
/*
 * The ranges of the numbers a run directory holds (read.h): a summary.csv
 * or a record with nan, inf, -1e308 or a negative time is not what copylab
 * wrote, and drawn it would make a chart or a ratio that means nothing.
 */
#include "read.h"
#include "harness/model/base.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WANT_RANGE	"want a finite number from 0 to 1e18"

/* summary.csv's columns of text; every other field is a number or empty. */
static bool text_column(const char *name)
{
	static const char *const text[] = { "scenario", "transport", "strategy", "tested_role", "cache",
					    "difference", "limited_by" };

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (!strcmp(name, text[i]))
			return true;
	return false;
}

/*
 * The columns compare and the report read as numbers: text there is an
 * error too.  Others that do not parse as a number are left alone (a
 * column added later may hold words).
 */
static bool read_as_number(const char *name)
{
	static const char *const num[] = { "bytes", "block", "reps", "verified_reps", "conns", "outstanding",
					   "pipe_size_asked", "rps", "time_s", "response" };

	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		if (!strcmp(name, num[i]))
			return true;
	return strstr(name, "_median") || strstr(name, "_min") || strstr(name, "_max") ||
	       !strncmp(name, "ratio_", 6) || strstr(name, "_ci_");
}

int rr_summary_check(const struct rr_csv *c, const char *name, char *err, size_t errlen)
{
	for (size_t r = 0; r < c->nrows; r++) {
		for (size_t k = 0; k < c->ncols; k++) {
			const char *col = c->head[k], *f = c->cells[r * c->ncols + k];
			int line = c->line ? c->line[r] : (int)r + 2;
			char *end;
			double v;

			if (!*f || text_column(col))
				continue;
			v = strtod(f, &end);
			if (*end || end == f) {
				if (!read_as_number(col))
					continue;
				return errorf(err, errlen, "%s:%d: column '%s' is '%.40s' (want a number or nothing)",
					    name, line, col, f);
			}
			/* strtod reads "nan" and "inf" too, and an overflow as HUGE_VAL (inf). */
			if (!isfinite(v) || v < 0 || v > RR_NUM_MAX)
				return errorf(err, errlen, "%s:%d: column '%s' is '%.40s' (" WANT_RANGE ")",
					    name, line, col, f);
		}
	}
	return 0;
}

/* Every number under v, whose key path so far is path[0..len). */
static int check_numbers(json_t *v, char *path, size_t len, size_t cap, const char *file, int line,
			 char *err, size_t errlen)
{
	const char *key;
	json_t *sub;
	size_t i;

	if (json_is_number(v)) {
		double x = json_number_value(v);

		if (isfinite(x) && x >= 0 && x <= RR_NUM_MAX)
			return 0;
		return errorf(err, errlen, "%s:%d: key '%s' is %.15g (" WANT_RANGE ")", file, line, path, x);
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, sub) {
			int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);

			if (n < 0 || (size_t)n >= cap - len)
				return errorf(err, errlen, "%s:%d: key path '%.60s...' too deep", file, line, path);
			if (check_numbers(sub, path, len + (size_t)n, cap, file, line, err, errlen))
				return -1;
			path[len] = '\0';
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, sub) {
			int n = snprintf(path + len, cap - len, "[%zu]", i);

			if (n < 0 || (size_t)n >= cap - len)
				return errorf(err, errlen, "%s:%d: key path '%.60s...' too deep", file, line, path);
			if (check_numbers(sub, path, len + (size_t)n, cap, file, line, err, errlen))
				return -1;
			path[len] = '\0';
		}
	}
	return 0;
}

int rr_record_check_numbers(json_t *rec, const char *file, int line, char *err, size_t errlen)
{
	char path[512] = "";

	return check_numbers(rec, path, 0, sizeof(path), file, line, err, errlen);
}
