/* SPDX-License-Identifier: MIT */
/*
 * The line charts of `copylab plot`, against a size on log axes: the
 * sweeps of block, transfer size or connections, and echo's latency
 * against the message size.  charts_draw calls them per transport.
 */
#ifndef COPYLAB_REPORT_LINES_H
#define COPYLAB_REPORT_LINES_H

#include "gnuplot.h"

/* Every sweep in the data points of SC over TR: each dimension with two or more values. */
void plot_sweeps(struct plot *p, const char *sc, const char *tr);
/* latency-SC-TR, when SC over TR has warm latency records with figures. */
int plot_latency(struct plot *p, const char *sc, const char *tr);
/* load-SC-TR, when SC over TR has open-loop (--rps) latency records with figures. */
int plot_load(struct plot *p, const char *sc, const char *tr);

#endif
