/* SPDX-License-Identifier: MIT */
/*
 * The chart of where each role's CPU went (docs/charts.md): the CPU
 * sampler's groups (harness/measure/cpugroups.h) per GiB moved, stacked,
 * a bar per strategy, a panel per role.
 */
#ifndef COPYLAB_REPORT_CPUTIME_CHART_H
#define COPYLAB_REPORT_CPUTIME_CHART_H

#include "gnuplot.h"

/* cputime-SC-TR at SC over TR's representative data point; a note instead when no role was sampled. */
int plot_cputime(struct plot *p, const char *sc, const char *tr);

#endif
