/* SPDX-License-Identifier: MIT */
/*
 * What `copylab plot` and `compare` draw with: the context of one command
 * (the run read back, where its charts go, the charts drawn so far and
 * the notes for the report) and gnuplot run on a chart's data, in a
 * temporary directory whose results are renamed into place, so a reader
 * never sees a half-written chart.
 */
#ifndef COPYLAB_REPORT_GNUPLOT_H
#define COPYLAB_REPORT_GNUPLOT_H

#include <limits.h>
#include <stdio.h>

#include "harness/results/read.h"
#include "harness/model/sbuf.h"

/* A chart drawn, for the report. */
struct chart {
	char name[128];		/* file name without extension, in plots/ */
	char scenario[24];	/* "" for charts of the whole run */
	char caption[512];
};

struct plot {
	struct rr_dir d;
	char dir[PATH_MAX];
	char plots[PATH_MAX + 16];
	char tmp[PATH_MAX + 32];
	char scripts[PATH_MAX];
	char machine[256];
	const char *run_id;
	char formats[32];	/* "png svg" */
	struct chart *ch;
	size_t nch, capch;
	struct sbuf notes;	/* one note per line, for the report and stdout */
	int gnuplot_failures;
	/* echo at offered loads: the p99 the report says each strategy stays within (µs); 0: the default, 1000 */
	double p99_limit_us;
};

/* Adds a line to the notes, once however often it is given. */
void plot_note(struct plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the charts, the notes and the run of P. */
void plot_free(struct plot *p);

/* --format png,svg into "png svg"; 0, or usage_error's status. */
int plot_formats_parse(const char *arg, char *out, size_t len);
/* The gnuplot scripts: $COPYLAB_SCRIPTS, else scripts/plot beside the executable. */
int plot_find_scripts(char *out, size_t len);
/* Removes the temporary directory p->tmp and what is left in it. */
void plot_tmp_remove(const struct plot *p);

/* A gnuplot variable NAME set to a string literal: "\n" in titles is a line break. */
/*
 * S escaped into OUT (LEN bytes, cut short if need be) for a gnuplot
 * double-quoted string: quotes, backslashes and line breaks escaped, and
 * backquotes, which gnuplot would run as a shell command even there, and
 * other control characters written in octal.  Every text from a record
 * goes through it.  Returns OUT.
 */
const char *gp_escape(const char *s, char *out, size_t len);
void gp_str(FILE *f, const char *name, const char *value);
/* A number for a .dat file; NaN where it is not finite, which gnuplot skips. */
void gp_num(FILE *f, double v);

/* Opens NAME.dat and NAME.vars.gp in the temporary directory, the vars file with the paths set. */
int chart_open(struct plot *p, const char *name, FILE **dat, FILE **vars);
/*
 * Draws NAME with SCRIPT, moves its charts (and data) into plots/ and
 * lists it for the report under SCENARIO (NULL: the whole run).  A failure
 * is counted in p->gnuplot_failures.
 */
int chart_finish(struct plot *p, const char *name, const char *script, const char *scenario,
		 const char *caption);

#endif
