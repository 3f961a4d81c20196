/* SPDX-License-Identifier: MIT */
/*
 * The report of a run: DIR/report.md and a self-contained DIR/report.html
 * that put the environment, the summary tables and the charts drawn
 * together.
 */
#ifndef COPYLAB_REPORT_PAGE_H
#define COPYLAB_REPORT_PAGE_H

#include "gnuplot.h"

/* Writes both pages of p's run with the charts drawn so far (adds notes); 0 or -1. */
int report_write(struct plot *p);

#endif
