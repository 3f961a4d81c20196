/* SPDX-License-Identifier: MIT */
/*
 * What a run found, in words: a summary row's ratio to readwrite and its
 * verdict, and the findings that open the report (the fastest strategy
 * and the cheapest in CPU of each scenario and transport, with the
 * verdict and the role that set the pace).
 */
#ifndef COPYLAB_REPORT_FINDINGS_H
#define COPYLAB_REPORT_FINDINGS_H

#include "gnuplot.h"
#include "harness/model/sbuf.h"
#include "harness/results/read.h"

#include <stddef.h>

/* A summary.csv field scaled and formatted; "-" when empty, the text as it is when not a number. */
void summary_num(char *buf, size_t len, const char *field, double scale, const char *fmt);
/* "1.23x [1.10..1.40] faster", "0.98x no difference measured", "1 (baseline)". */
void summary_verdict_text(const struct rr_csv *cs, long sr, const char *strategy, char *out, size_t len);
/* The findings section of both pages (nothing without a summary.csv). */
void report_findings(const struct plot *p, struct sbuf *md, struct sbuf *html);

#endif
