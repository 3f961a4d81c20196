/* SPDX-License-Identifier: MIT */
/*
 * The copy ledger chart of `copylab plot` (docs/charts.md): what the role
 * under test moved through user memory and inside the kernel per GiB,
 * the time its copies took, sampled and predicted, and its syscalls,
 * context switches and page faults.
 */
#ifndef COPYLAB_REPORT_LEDGER_CHART_H
#define COPYLAB_REPORT_LEDGER_CHART_H

#include "gnuplot.h"

/* ledger-SC-TR at SC over TR's representative data point; notes what the records lack. */
int plot_ledger(struct plot *p, const char *sc, const char *tr);

#endif
