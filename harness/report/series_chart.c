/* SPDX-License-Identifier: MIT */
/* Interval series charts: throughput and CPU over time, gaps left as gaps. */
#include "series_chart.h"
#include "style.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES_ROLES 8

/* The cell a record belongs to, as one string: a chart per cell. */
static void cell_key(json_t *rec, char *buf, size_t len)
{
	double t = 0, bytes = 0, block = 0;

	rr_num(rec, "time_s", &t);
	rr_num(rec, "bytes", &bytes);
	rr_num(rec, "block", &block);
	snprintf(buf, len, "%s|%s|%s|%g|%g", rr_str(rec, "scenario") ? rr_str(rec, "scenario") : "?",
		 rr_str(rec, "transport") ? rr_str(rec, "transport") : "?",
		 rr_str(rec, "strategy") ? rr_str(rec, "strategy") : "?", block, t > 0 ? -t : bytes);
}

/* A file name from a cell: letters, digits and '-' only. */
static void chart_name(json_t *rec, char *buf, size_t len)
{
	double t = 0, bytes = 0;

	rr_num(rec, "time_s", &t);
	rr_num(rec, "bytes", &bytes);
	snprintf(buf, len, "series-%s-%s-%s-%s%g", rr_str(rec, "scenario"), rr_str(rec, "transport"),
		 rr_str(rec, "strategy"), t > 0 ? "t" : "b", t > 0 ? t : bytes);
	for (char *c = buf; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
			*c = '_';
}

/*
 * A role's CPU comes from /proc/PID/stat in 10 ms clock ticks.  The run's
 * last interval ends with the run, often a few milliseconds long, where a
 * tick more or less reads as a share of 2 CPUs for one thread: an
 * interval shorter than half the one asked has its CPU drawn as a gap.
 */
static bool cpu_resolvable(double dt, double asked)
{
	return dt > 0 && !(asked > 0 && dt < asked / 2);
}

/* t_s, MB/s, then each role's CPU as a share of one CPU; NaN for a gap. */
static int series_data(FILE *dat, json_t *iv, double asked, const char *roles[], int nroles)
{
	size_t i;
	json_t *e;

	fputs("t_s\tmbps", dat);
	for (int r = 0; r < nroles; r++)
		fprintf(dat, "\t%s", roles[r]);
	fputc('\n', dat);
	json_array_foreach(iv, i, e) {
		double t = NAN, dt = NAN, b = NAN, cpu;

		rr_num(e, "t_s", &t);
		rr_num(e, "dt_s", &dt);
		gp_num(dat, t);
		fputc('\t', dat);
		gp_num(dat, rr_num(e, "bytes", &b) && dt > 0 ? b / dt / 1e6 : NAN);
		for (int r = 0; r < nroles; r++) {
			json_t *c = json_object_get(json_object_get(e, "cpu"), roles[r]);

			cpu = json_is_number(c) && cpu_resolvable(dt, asked) ? json_number_value(c) / dt : NAN;
			fputc('\t', dat);
			gp_num(dat, cpu);
		}
		fputc('\n', dat);
	}
	return 0;
}

static int plot_one(struct plot *p, json_t *rec)
{
	json_t *iv = json_object_get(rec, "intervals"), *cpu0 = json_object_get(json_array_get(iv, 0), "cpu");
	const char *roles[MAX_SERIES_ROLES], *key, *sc = rr_str(rec, "scenario"), *tr = rr_str(rec, "transport");
	const char *st = rr_str(rec, "strategy");
	char name[256], title[1024], caption[512], stats[160] = "no interval had its bytes", colors[64];
	double t = 0, bytes = 0, interval = 0, mn, md, mx;
	int nroles = 0;
	json_t *v;
	FILE *dat, *vars;

	/* a role's name is a word of the chart's legend: a key that is not a plain name is no role of ours */
	json_object_foreach(cpu0, key, v)
		if (nroles < MAX_SERIES_ROLES && *key && strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(key))
			roles[nroles++] = key;
	chart_name(rec, name, sizeof(name));
	if (chart_open(p, name, &dat, &vars))
		return -1;
	rr_num(rec, "interval_s", &interval);
	series_data(dat, iv, interval, roles, nroles);
	fclose(dat);
	rr_num(rec, "time_s", &t);
	rr_num(rec, "bytes", &bytes);
	if (rr_num(rec, "interval_bps.min", &mn) && rr_num(rec, "interval_bps.median", &md) &&
	    rr_num(rec, "interval_bps.max", &mx))
		snprintf(stats, sizeof(stats), "interval throughput min %.0f, median %.0f, max %.0f MB/s",
			 mn / 1e6, md / 1e6, mx / 1e6);
	snprintf(colors, sizeof(colors), "#%06x", strategy_color(st));
	fprintf(vars, "nroles = %d\nwidth = 1200\nheight = 760\n", nroles);
	gp_str(vars, "color", colors);
	{
		/* gnuplot's words(): the roles as one string, each name escaped (they come from the record) */
		struct sbuf list = { 0 };

		for (int r = 0; r < nroles; r++)
			sb_printf(&list, "%s%s", r ? " " : "", roles[r]);
		gp_str(vars, "roles", list.p ? list.p : "");
		free(list.p);
	}
	snprintf(title, sizeof(title), "%s over %s, %s: every %g ms, %s %g %s (rep %d)\n%s; %s; run %s", sc, tr, st,
		 interval * 1e3, t > 0 ? "bounded by time," : "bounded by size,", t > 0 ? t : bytes,
		 t > 0 ? "s" : "bytes", (int)json_integer_value(json_object_get(rec, "rep")), stats, p->machine,
		 p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	snprintf(caption, sizeof(caption), "%s over %s, %s: throughput and each role's CPU every %g ms (%s); "
		 "a gap is an interval whose figure could not be read", sc, tr, st, interval * 1e3, stats);
	return chart_finish(p, name, "series.gp", sc, caption);
}

void plot_series(struct plot *p)
{
	char (*drawn)[256] = calloc(p->d.nrec ? p->d.nrec : 1, sizeof(*drawn));
	size_t nd = 0;

	if (!drawn)
		return;
	for (size_t i = 0; i < p->d.nrec; i++) {
		json_t *rec = p->d.rec[i], *iv = json_object_get(rec, "intervals");
		char key[256];
		bool seen = false;

		if (!json_is_array(iv) || json_array_size(iv) == 0 || !rr_str(rec, "scenario"))
			continue;
		cell_key(rec, key, sizeof(key));
		for (size_t k = 0; k < nd && !seen; k++)
			seen = !strcmp(drawn[k], key);
		if (seen)
			continue;
		snprintf(drawn[nd++], sizeof(drawn[0]), "%s", key);
		plot_one(p, rec);
	}
	free(drawn);
}
