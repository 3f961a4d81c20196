/* SPDX-License-Identifier: MIT */
/*
 * The bar and point charts of `copylab plot` (charts.h) and the order in
 * which every chart of a run is drawn: for each, the cells it shows are
 * picked, their figures written to its .dat, its titles and legend to its
 * .vars.gp, and its script in scripts/plot/ run on them.
 */
#include "charts.h"

#include "harness/model/options.h"
#include "cells.h"
#include "cputime_chart.h"
#include "ledger_chart.h"
#include "lines.h"
#include "series_chart.h"
#include "harness/model/sbuf.h"
#include "style.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- legends and labels ---------------------------------------------------- */

static void legend_vars(FILE *vars, const struct list *strategies)
{
	char names[1024], colors[1024];

	legend_names(strategies, names, sizeof(names));
	legend_colors(strategies, colors, sizeof(colors));
	gp_str(vars, "names", names);
	gp_str(vars, "colors", colors);
}

/* "tcp, unix and veth": the transports, for a title */
static const char *transports_text(const struct list *t, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < t->n; i++) {
		strncat(buf, i ? (i == t->n - 1 ? " and " : ", ") : "", len - strlen(buf) - 1);
		strncat(buf, t->v[i], len - strlen(buf) - 1);
	}
	return buf;
}

/* ---- bar charts: throughput per scenario, and the run overview ------------- */

/* A group of bars: the strategies at one data point and variant. */
struct group {
	const char *scenario, *transport;
	struct point pt;
	struct variant v;	/* the records of the point a group's bars are drawn from */
	char label[160];
};

enum bar_metric { BAR_THROUGHPUT, BAR_TESTED_CPU };

struct bar_chart {
	const char *name;
	const char *scenario;	/* NULL: a chart of the whole run */
	enum bar_metric what;
	const char *title, *caption, *xlabel;
};

/* The cell of STRATEGY in group G, narrowed to its variant (free out->rec); false when it has none. */
static bool group_cell(const struct plot *p, const struct group *g, const char *strategy, struct rr_cell *out)
{
	return cell_in_variant(&p->d, find_cell(&p->d, g->scenario, g->transport, g->pt, strategy), g->v, out);
}

/* The strategies with a bar in any group, for the legend and the order of bars. */
static struct list bars_strategies(const struct plot *p, const struct group *g, int ng)
{
	struct list strategies = { 0 };

	for (int i = 0; i < ng; i++) {
		struct list s = strategies_of(&p->d, g[i].scenario, g[i].transport);

		for (int k = 0; k < s.n; k++) {
			struct rr_cell cv;

			if (group_cell(p, &g[i], s.v[k], &cv)) {
				list_add(&strategies, s.v[k]);
				free(cv.rec);
			}
		}
	}
	return strategies;
}

/* A bar at X: median, min, max, the strategy's colour and the value printed above it. */
/* One bar's data line; whether it has a figure to draw (a failed cell, or nat's absent role, has none). */
static bool bar_line(const struct plot *p, FILE *dat, double x, const struct rr_cell *c, enum bar_metric what)
{
	struct role_metric tested = { NULL, RW_CPU, 0 };
	double med, lo, hi;

	if (what == BAR_THROUGHPUT)
		rr_cell_stat(&p->d, c, m_mbps, NULL, &med, &lo, &hi);
	else
		rr_cell_stat(&p->d, c, m_role, &tested, &med, &lo, &hi);
	fprintf(dat, "%g\t", x);
	gp_num(dat, med);
	fputc('\t', dat);
	gp_num(dat, lo);
	fputc('\t', dat);
	gp_num(dat, hi);
	if (!isfinite(med))
		fprintf(dat, "\t%u\tfailed\n", strategy_color(c->strategy));
	else if (what == BAR_THROUGHPUT)
		fprintf(dat, "\t%u\t%.0f\n", strategy_color(c->strategy), med);
	else
		fprintf(dat, "\t%u\t%.3f\n", strategy_color(c->strategy), med);
	return isfinite(med);
}

/* A group's label as an xtic at X (line breaks as \n in a gnuplot string); returns its lines. */
static int group_tic(struct sbuf *tics, const char *label, double x)
{
	char esc[1024];
	int lines = 1;

	for (const char *s = label; *s; s++)
		lines += *s == '\n';
	sb_printf(tics, "%s\"%s\" %g", tics->len > 11 ? ", " : "", gp_escape(label, esc, sizeof(esc)), x);
	return lines;
}

/*
 * The bars of every group, a gap between groups; the xtics into TICS.
 * Returns how many bars; *drawn how many of them have a figure.
 */
static int bars_data(const struct plot *p, const struct group *g, int ng, const struct list *strategies,
		     enum bar_metric what, FILE *dat, struct sbuf *tics, double *x, int *max_lines, int *drawn)
{
	int nbars = 0;

	for (int i = 0; i < ng; i++) {
		double first = -1, last = 0;

		for (int k = 0; k < strategies->n; k++) {
			struct rr_cell cv;

			if (!group_cell(p, &g[i], strategies->v[k], &cv))
				continue;
			*x += 1;
			*drawn += bar_line(p, dat, *x, &cv, what);
			if (first < 0)
				first = *x;
			last = *x;
			nbars++;
			free(cv.rec);
		}
		if (first >= 0) {
			int lines = group_tic(tics, g[i].label, (first + last) / 2);

			if (lines > *max_lines)
				*max_lines = lines;
		}
		*x += 1;	/* a gap between groups */
	}
	return nbars;
}

static int draw_bars(struct plot *p, const struct bar_chart *bc, const struct group *g, int ng)
{
	struct list strategies = bars_strategies(p, g, ng);
	FILE *dat, *vars;
	int nbars, max_lines = 1, drawn = 0;
	struct sbuf tics = { 0 };
	double x = 0.5;

	if (chart_open(p, bc->name, &dat, &vars))
		return -1;
	sb_add(&tics, "set xtics (");
	nbars = bars_data(p, g, ng, &strategies, bc->what, dat, &tics, &x, &max_lines, &drawn);
	sb_add(&tics, ")\n");
	fclose(dat);
	if (tics.p)
		fputs(tics.p, vars);
	free(tics.p);
	fprintf(vars, "set xrange [0:%g]\n", x);
	fprintf(vars, "width = %d\nheight = %d\nshow_values = %d\nxlabel_drop = %d\n", nbars > 30 ? 1600 : 1200,
		620, nbars <= 28, max_lines - 1);
	legend_vars(vars, &strategies);
	gp_str(vars, "title", bc->title);
	gp_str(vars, "xlabel", bc->xlabel);
	gp_str(vars, "ylabel", bc->what == BAR_THROUGHPUT
		? "throughput (MB/s, 1 MB = 10^6 bytes): median, bars min..max"
		: "CPU s per GiB, role under test (user + system): median, bars min..max");
	fclose(vars);
	if (nbars > 0 && drawn == 0)
		plot_note(p, "%s: no chart: no cell has this figure (no process played the role under test, "
			  "or no repetition completed)", bc->name);
	if (drawn == 0)
		return 0;
	return chart_finish(p, bc->name, "bars.gp", bc->scenario, bc->caption);
}

/*
 * Whether SC's transports hold more than one data point between them
 * (then each group is labelled with its point); *only is the last one seen.
 */
static bool several_points(const struct plot *p, const char *sc, const struct list *tr, struct point *only)
{
	bool many = false;

	*only = (struct point){ .conns = 1 };
	for (int t = 0; t < tr->n; t++) {
		struct points pts = points_of(&p->d, sc, tr->v[t]);

		if (pts.n > 1 || (t > 0 && !point_eq(pts.v[0], *only)))
			many = true;
		*only = pts.v[0];
	}
	return many;
}

/* "tcp\n64 MiB\nblock 64 KiB\n8 connections\ncold cache": a group's label, its point when MANY. */
static void throughput_label(struct group *g, const struct variants *vs, bool many)
{
	char a[48], b[48], w[88], conns[32] = "";

	variant_words(g->v, vs, w, sizeof(w));
	if (!many) {
		snprintf(g->label, sizeof(g->label), "%s%s%s", g->transport, w[0] ? "\n" : "", w);
		return;
	}
	if (g->pt.conns > 1)
		snprintf(conns, sizeof(conns), "\n%u connections", g->pt.conns);
	snprintf(g->label, sizeof(g->label), "%s\n%s\n%s%s%s%s%s", g->transport,
		 point_size_text(g->pt, a, sizeof(a)), g->pt.block ? "block " : "peers",
		 g->pt.block ? human_bytes(g->pt.block, b, sizeof(b)) : "", conns, w[0] ? "\n" : "", w);
}

static int plot_throughput(struct plot *p, const char *sc)
{
	struct list tr = transports_of(&p->d, sc);
	struct group g[MAX_LIST];
	int ng = 0;
	char title[1024], caption[512], name[128], ttext[128], ptext[96];
	struct point only;
	bool many = several_points(p, sc, &tr, &only);

	for (int t = 0; t < tr.n; t++) {
		struct points pts = points_of(&p->d, sc, tr.v[t]);

		for (int i = 0; i < pts.n && ng < MAX_LIST; i++) {
			/* One group of bars per variant of the point: a cold cache, a pipe size asked, ... */
			struct variants vs = point_variants(&p->d, sc, tr.v[t], pts.v[i]);

			for (int vi = 0; vi < vs.n && ng < MAX_LIST; vi++) {
				g[ng] = (struct group){ sc, tr.v[t], pts.v[i], vs.v[vi], "" };
				throughput_label(&g[ng++], &vs, many);
			}
		}
	}
	transports_text(&tr, ttext, sizeof(ttext));
	snprintf(title, sizeof(title), "%s (%s): throughput by strategy, median of the counted reps, bars min..max\n"
		 "transport %s%s%s\n%s; run %s", sc, scenario_path(sc), ttext, many ? "" : ", ",
		 many ? "" : point_text(only, ptext, sizeof(ptext)), p->machine, p->run_id);
	snprintf(caption, sizeof(caption), "%s: throughput by strategy (median, min..max), over %s", sc, ttext);
	snprintf(name, sizeof(name), "throughput-%s", sc);
	return draw_bars(p, &(struct bar_chart){ name, sc, BAR_THROUGHPUT, title, caption, "transport" }, g, ng);
}

/* The whole run in two charts: every scenario's representative data point. */
static int plot_overview(struct plot *p)
{
	struct list sc = scenarios_of(&p->d);
	struct group g[MAX_LIST];
	int ng = 0;
	char title[1024];

	for (int s = 0; s < sc.n; s++) {
		struct list tr = transports_of(&p->d, sc.v[s]);

		for (int t = 0; t < tr.n && ng < MAX_LIST; t++) {
			struct points pts = points_of(&p->d, sc.v[s], tr.v[t]);
			char a[48], w[88];

			if (!has_usable(&p->d, sc.v[s], tr.v[t]))
				continue;
			struct point pt = representative(&pts);
			struct variants vs = point_variants(&p->d, sc.v[s], tr.v[t], pt);

			/* the defaults where the run has them; a pipe size or cold cache is named */
			g[ng] = (struct group){ sc.v[s], tr.v[t], pt, main_variant(&vs), "" };
			variant_words(g[ng].v, NULL, w, sizeof(w));
			snprintf(g[ng].label, sizeof(g[ng].label), "%s\n%s\n%s%s%s", sc.v[s], tr.v[t],
				 point_size_text(g[ng].pt, a, sizeof(a)), w[0] ? "\n" : "", w);
			ng++;
		}
	}
	snprintf(title, sizeof(title), "Every scenario: throughput by strategy (median, bars min..max)\n%s; run %s",
		 p->machine, p->run_id);
	draw_bars(p, &(struct bar_chart){ "throughput", NULL, BAR_THROUGHPUT, title,
		  "the whole run: throughput of every scenario and strategy", "scenario, transport, size" }, g, ng);
	snprintf(title, sizeof(title), "Every scenario: CPU of the role under test per GiB moved (user + system, median, bars min..max)\n%s; run %s",
		 p->machine, p->run_id);
	return draw_bars(p, &(struct bar_chart){ "cpu_per_gib", NULL, BAR_TESTED_CPU, title,
			 "the whole run: CPU per GiB of the role under test", "scenario, transport, size" }, g, ng);
}

/* ---- CPU per GiB by role ------------------------------------------------------ */

/* A stacked bar per role of C from X + 1 on; returns the last x. */
static double cpu_role_bars(const struct plot *p, FILE *dat, const struct rr_cell *c, double x, int *nbars)
{
	const char *roles[8];
	int nr = roles_of(&p->d, c, roles, 8);

	for (int r = 0; r < nr; r++) {
		double u = role_median(&p->d, c, roles[r], RW_USER);
		double s = role_median(&p->d, c, roles[r], RW_SYS);
		char label[64];

		x += 1;
		snprintf(label, sizeof(label), "%s%s", roles[r], r == 0 ? " (tested)" : "");
		fprintf(dat, "%g\t%s\t%s\t", x, c->strategy, label);
		gp_num(dat, u);
		fputc('\t', dat);
		gp_num(dat, s);
		fputc('\t', dat);
		gp_num(dat, u + s);
		fputc('\n', dat);
		(*nbars)++;
	}
	return x;
}

static int plot_cpu_roles(struct plot *p, const char *sc, const char *tr)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct point pt = representative(&pts);
	struct point_cells pc = point_cells_of(&p->d, sc, tr, pt);
	char name[128], title[1024], caption[512], ptext[96];
	FILE *dat, *vars;
	double x = 0;
	int nbars = 0;

	snprintf(name, sizeof(name), "cpu-%s-%s", sc, tr);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	/* Variant by variant (a cold cache, a pipe size asked), strategy by strategy. */
	for (int k = 0; k < pc.n; k++) {
		struct rr_cell cv;
		char suffix[96];
		double first = x + 1;

		if (!point_cell(&p->d, &pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		x = cpu_role_bars(p, dat, &cv, x, &nbars);
		char esc[512], sesc[256];

		fprintf(vars, "set label \"%s%s\" at first %g, graph -0.13 center font ',11'\n",
			gp_escape(cv.strategy, esc, sizeof(esc)), gp_escape(suffix, sesc, sizeof(sesc)), (first + x) / 2);
		x += 1;
		free(cv.rec);
	}
	fclose(dat);
	fprintf(vars, "set xrange [0:%g]\nwidth = %d\nheight = 620\n", x, nbars > 18 ? 1600 : 1200);
	snprintf(title, sizeof(title), "%s (%s) over %s, %s: CPU seconds per GiB moved, by role, system and user stacked\n"
		 "(medians over the counted reps; per GiB of the cell's %s payload)\n%s; run %s",
		 sc, scenario_path(sc), tr, point_text(pt, ptext, sizeof(ptext)), sc, p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (nbars == 0)
		return 0;
	snprintf(caption, sizeof(caption), "%s over %s: CPU per GiB by role (user and system)%s%s", sc, tr,
		 pts.n > 1 ? " at " : "", pts.n > 1 ? ptext : "");
	return chart_finish(p, name, "cpu.gp", sc, caption);
}

/* ---- efficiency ---------------------------------------------------------------- */

/* A point per strategy and variant of PC: throughput against CPU per GiB.  Returns how many. */
static int efficiency_points(const struct plot *p, const struct point_cells *pc, FILE *dat)
{
	int n = 0;

	for (int k = 0; k < pc->n; k++) {
		struct rr_cell cv;
		char suffix[96];
		double mb, cpu;

		if (!point_cell(&p->d, pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		mb = cell_metric_median(&p->d, &cv, m_mbps, NULL);
		cpu = role_median(&p->d, &cv, NULL, RW_CPU);
		fprintf(dat, "%s%s\t", cv.strategy, suffix);
		gp_num(dat, cpu);
		fputc('\t', dat);
		gp_num(dat, mb);
		fprintf(dat, "\t%u\n", strategy_color(cv.strategy));
		/* a cell without both figures (nat: no role under test) is no point */
		n += isfinite(mb) && isfinite(cpu);
		free(cv.rec);
	}
	return n;
}

static int plot_efficiency(struct plot *p, const char *sc)
{
	struct list tr = transports_of(&p->d, sc);
	char name[128], title[1024], caption[512], words[256] = "", ttext[128], ptext[96] = "";
	FILE *dat, *vars;
	int n = 0;
	struct point pt = { .conns = 1 };

	snprintf(name, sizeof(name), "efficiency-%s", sc);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	/* a block of points per transport, at its representative data point */
	for (int t = 0; t < tr.n; t++) {
		struct points pts = points_of(&p->d, sc, tr.v[t]);
		struct point_cells pc;

		pt = representative(&pts);
		pc = point_cells_of(&p->d, sc, tr.v[t], pt);
		if (t)
			fputs("\n\n", dat);
		n += efficiency_points(p, &pc, dat);
		strncat(words, tr.v[t], sizeof(words) - strlen(words) - 2);
		strncat(words, " ", sizeof(words) - strlen(words) - 1);
	}
	fclose(dat);
	fprintf(vars, "width = 1100\nheight = 650\n");
	gp_str(vars, "transports", words);
	transports_text(&tr, ttext, sizeof(ttext));
	if (tr.n == 1)
		point_text(pt, ptext, sizeof(ptext));
	snprintf(title, sizeof(title), "%s (%s): throughput against CPU per GiB of the role under test\n"
		 "transport %s%s%s (higher and further left is better)\n%s; run %s", sc, scenario_path(sc), ttext,
		 ptext[0] ? ", " : "", ptext, p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (n == 0)
		return 0;
	snprintf(caption, sizeof(caption), "%s: efficiency, throughput against CPU per GiB", sc);
	return chart_finish(p, name, "efficiency.gp", sc, caption);
}

/* ---- every chart of a run ----------------------------------------------------------- */

/* The charts of one scenario: throughput, then per transport CPU, its split, ledger, sweeps, latency, load; efficiency. */
static void charts_of_scenario(struct plot *p, const char *sc)
{
	struct list tr = transports_of(&p->d, sc);

	plot_throughput(p, sc);
	for (int t = 0; t < tr.n; t++) {
		if (!has_usable(&p->d, sc, tr.v[t]))
			continue;
		plot_cpu_roles(p, sc, tr.v[t]);
		plot_cputime(p, sc, tr.v[t]);
		plot_ledger(p, sc, tr.v[t]);
		plot_sweeps(p, sc, tr.v[t]);
		if (has_latency(&p->d, sc)) {
			plot_latency(p, sc, tr.v[t]);
			plot_load(p, sc, tr.v[t]);
		}
	}
	plot_efficiency(p, sc);
}

void charts_draw(struct plot *p)
{
	struct list sc = scenarios_of(&p->d);
	bool peers = false;

	for (size_t i = 0; i < p->d.ncells; i++)
		peers |= p->d.cell[i].peer;
	if (peers)
		plot_note(p, "peers.jsonl: scripts/peers.sh's records are drawn beside copylab's (labels peer:... and "
			  "copylab:...); they have CPU and throughput, and a copy ledger where peers.sh's copylab probe "
			  "counted one");
	for (int s = 0; s < sc.n; s++) {
		if (!has_usable(&p->d, sc.v[s], NULL)) {
			plot_note(p, "%s: no chart: no repetition completed and verified", sc.v[s]);
			continue;
		}
		charts_of_scenario(p, sc.v[s]);
	}
	plot_overview(p);
	plot_series(p);
}
