/* SPDX-License-Identifier: MIT */
/*
 * The charts of `copylab plot` (docs/charts.md), each a .dat and a
 * .vars.gp for one of the gnuplot scripts in scripts/plot/: charts.c draws
 * the bar and point charts (throughput by strategy, the run overview, CPU
 * per GiB by role, efficiency), ledger_chart.c the copy ledger,
 * cputime_chart.c where each role's CPU went, lines.c the sweeps and
 * echo's latency.
 */
#ifndef COPYLAB_REPORT_CHARTS_H
#define COPYLAB_REPORT_CHARTS_H

#include "gnuplot.h"

/*
 * Draws every chart of p's run into p->plots, scenario by scenario, then
 * the whole run; notes what it cannot draw.  A chart gnuplot fails on is
 * counted in p->gnuplot_failures.
 */
void charts_draw(struct plot *p);

#endif
