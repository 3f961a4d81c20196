/* SPDX-License-Identifier: MIT */
/*
 * What keeps the charts alike: a fixed colour per strategy, so a strategy
 * looks the same in every chart, one per group of sampled CPU, and the
 * lists a legend is made of.
 */
#ifndef COPYLAB_REPORT_STYLE_H
#define COPYLAB_REPORT_STYLE_H

#include <stddef.h>
#include <stdint.h>

#include "cells.h"

/* 0xRRGGBB of a strategy label (peer:..., copylab:... too). */
uint32_t strategy_color(const char *label);
/* 0xRRGGBB of a group of sampled CPU time (cpu_group_name): copying in reds, the stacks in blues. */
uint32_t cpu_group_color(enum cpu_group g);
/* "#3a78b5 #c0392b ": the colour of each strategy, for a chart's lines or bars. */
void legend_colors(const struct list *st, char *buf, size_t len);
/* "readwrite splice ": the strategies' names, for a legend. */
void legend_names(const struct list *st, char *buf, size_t len);

#endif
