/* SPDX-License-Identifier: MIT */
/*
 * --interval's time series drawn: per cell with intervals, the receiving
 * side's throughput and each role's CPU over the run (as iperf3 -i shows
 * slow start and stalls), with its min/median/max interval throughput.
 */
#ifndef COPYLAB_SERIES_CHART_H
#define COPYLAB_SERIES_CHART_H

#include "gnuplot.h"

/* One chart per cell whose records have intervals (its first such rep). */
void plot_series(struct plot *p);

#endif
