/* SPDX-License-Identifier: MIT */
/*
 * Where each role's CPU went (cputime_chart.h), into cputime-SC-TR.dat:
 * a block per role, the role under test first, and in each a row per
 * strategy and variant: the groups of the role's sampled CPU per GiB, the
 * sampled total and getrusage's CPU beside it.  Every role is drawn, not
 * only the one under test: over loopback a strategy's saving or cost can
 * land in the other end's receive path.  scripts/plot/cputime.gp stacks
 * the groups.
 */
#include "cputime_chart.h"

#include "cells.h"
#include "harness/model/sbuf.h"
#include "style.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROLES 8

/* What the panels are drawn from: the roles, which of them were sampled, why one was not. */
struct split_panels {
	const char *roles[MAX_ROLES];
	int nroles;
	bool have[MAX_ROLES];
	char why[MAX_ROLES][256];
	double ymax;		/* the tallest bar or getrusage point of any panel, for one scale */
	double rate_hz;		/* the sampler's rate, from the first record with one; 0: none */
	struct sbuf tics;	/* the strategies' labels at their x, for every panel alike */
};

/* Whether the chart draws cell C: a usable rep, and a peer only when its role under test was sampled. */
static bool split_drawn(const struct rr_dir *d, const struct rr_cell *c)
{
	return c->nusable && (!c->peer || isfinite(role_median(d, c, NULL, RW_SAMPLED)));
}

/* ROLE's row of cell C at X: the groups, the sampled total, getrusage's CPU; notes what it lacks. */
static void split_row(const struct rr_dir *d, const struct rr_cell *c, const char *suffix, int x, int r,
		      struct split_panels *sp, FILE *dat)
{
	const char *role = sp->roles[r];
	double groups[CG_COUNT], sampled = NAN, cpu = role_median(d, c, role, RW_CPU);
	bool have = role_split(d, c, role, groups, &sampled);

	fprintf(dat, "%d\t%s%s", x, c->strategy, suffix);
	for (int g = 0; g < CG_COUNT; g++) {
		fputc('\t', dat);
		gp_num(dat, have ? groups[g] : NAN);
	}
	fputc('\t', dat);
	gp_num(dat, sampled);
	fputc('\t', dat);
	gp_num(dat, cpu);
	fputc('\n', dat);
	sp->have[r] |= have;
	if (have && !sp->rate_hz) {
		char path[96];

		snprintf(path, sizeof(path), "roles.%s.cputime.rate_hz", role);
		for (size_t i = 0; i < c->nusable && !sp->rate_hz; i++)
			rr_num(d->rec[c->rec[i]], path, &sp->rate_hz);
	}
	if (r == 0) {
		char esc[512], sesc[256];

		sb_printf(&sp->tics, "%s\"%s%s\" %d", x > 1 ? ", " : "", gp_escape(c->strategy, esc, sizeof(esc)),
			  gp_escape(suffix, sesc, sizeof(sesc)), x);
	}
	if (!have && !c->peer && !sp->why[r][0])
		cputime_missing(d, c, role, sp->why[r], sizeof(sp->why[r]));
	if (have && sampled > sp->ymax)
		sp->ymax = sampled;
	if (have && isfinite(cpu) && cpu > sp->ymax)
		sp->ymax = cpu;
}

/* A block per role of every cell PC draws, at the same x in each; returns how many cells. */
static int split_rows(const struct plot *p, const struct point_cells *pc, struct split_panels *sp, FILE *dat)
{
	int n = 0;

	for (int r = 0; r < sp->nroles; r++) {
		int x = 0;

		if (r)
			fputs("\n\n", dat);
		for (int k = 0; k < pc->n; k++) {
			struct rr_cell cv;
			char suffix[96];

			if (!point_cell(&p->d, pc, k, &cv, suffix, sizeof(suffix)))
				continue;
			if (split_drawn(&p->d, &cv))
				split_row(&p->d, &cv, suffix, ++x, r, sp, dat);
			free(cv.rec);
		}
		n = x;
	}
	return n;
}

/* The roles of SC over TR's cells, the one under test first: from its first cell with a usable rep. */
static void split_roles(const struct plot *p, const struct point_cells *pc, struct split_panels *sp)
{
	for (int k = 0; k < pc->n && !sp->nroles; k++) {
		struct rr_cell cv;
		char suffix[96];

		if (!point_cell(&p->d, pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		if (cv.nusable && !cv.peer)
			sp->nroles = roles_of(&p->d, &cv, sp->roles, MAX_ROLES);
		free(cv.rec);
	}
}

/* The x tics, the groups' titles and colours, and each panel's title, switch and note. */
static void split_vars(FILE *vars, const struct split_panels *sp)
{
	char name[32], text[320];
	int key = 0;

	/* a run too short for a single sample has bars of 0: gnuplot refuses an empty range */
	fprintf(vars, "ngroups = %d\nnroles = %d\nymax = %g\n", CG_COUNT, sp->nroles, sp->ymax > 0 ? sp->ymax * 1.15 : 1);
	for (int g = 0; g < CG_COUNT; g++) {
		snprintf(name, sizeof(name), "group_title_%d", g + 1);
		gp_str(vars, name, cpu_group_title(g));
		fprintf(vars, "group_color_%d = \"#%06x\"\n", g + 1, cpu_group_color(g));
	}
	for (int r = 0; r < sp->nroles; r++) {
		snprintf(name, sizeof(name), "role_title_%d", r + 1);
		snprintf(text, sizeof(text), "%s%s: sampled CPU per GiB moved, by where it went", sp->roles[r],
			 r == 0 ? " (under test)" : "");
		gp_str(vars, name, text);
		fprintf(vars, "role_have_%d = %d\n", r + 1, sp->have[r]);
		if (sp->have[r] && !key)
			key = r + 1;
		snprintf(name, sizeof(name), "role_note_%d", r + 1);
		gp_str(vars, name, sp->why[r][0] ? sp->why[r] : "-");
	}
	/* the legend on the first panel with bars: a panel that says "not measured" has none to explain */
	fprintf(vars, "key_role = %d\nset xtics (%s)\n", key, sp->tics.p ? sp->tics.p : "");
}

int plot_cputime(struct plot *p, const char *sc, const char *tr)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct point pt = representative(&pts);
	struct point_cells pc = point_cells_of(&p->d, sc, tr, pt);
	struct split_panels sp = { 0 };
	char name[128], title[1024], caption[512], ptext[96], rate[32] = "";
	bool any = false;
	FILE *dat, *vars;
	int n;

	snprintf(name, sizeof(name), "cputime-%s-%s", sc, tr);
	split_roles(p, &pc, &sp);
	if (sp.nroles == 0 || chart_open(p, name, &dat, &vars))
		return sp.nroles ? -1 : 0;
	n = split_rows(p, &pc, &sp, dat);
	fclose(dat);
	if (sp.tics.oom)
		n = 0;
	for (int r = 0; r < sp.nroles; r++)
		any |= sp.have[r];
	fprintf(vars, "set xrange [0.3:%g]\nwidth = 1300\nheight = %d\n", n + 0.7, 120 + 300 * sp.nroles);
	split_vars(vars, &sp);
	if (sp.rate_hz > 0)
		snprintf(rate, sizeof(rate), " at %.0f Hz", sp.rate_hz);
	snprintf(title, sizeof(title), "%s (%s) over %s, %s: where each role's CPU went, per GiB moved\n"
		 "(sampled%s, the median rep's split; dot: getrusage's user + system, median)\n%s; run %s",
		 sc, scenario_path(sc), tr, point_text(pt, ptext, sizeof(ptext)), rate, p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	free(sp.tics.p);
	if (n == 0)
		return 0;
	if (!any) {
		/* no figure to stack: the report says why rather than show empty panels */
		plot_note(p, "%s over %s: no CPU split chart: no role was sampled: %s", sc, tr, sp.why[0]);
		return 0;
	}
	snprintf(caption, sizeof(caption), "%s over %s: where each role's CPU went per GiB (sampled groups, stacked; "
		 "the role under test first)", sc, tr);
	return chart_finish(p, name, "cputime.gp", sc, caption);
}
