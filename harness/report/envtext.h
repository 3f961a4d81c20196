/* SPDX-License-Identifier: MIT */
/*
 * The report's one-line summaries of env.json's verdict-changing facts
 * (envtext.c): cpufreq, mitigations, net_sysctl, and a link's steering.
 * The raw detail stays in env.json.  No I/O.
 */
#ifndef COPYLAB_REPORT_ENVTEXT_H
#define COPYLAB_REPORT_ENVTEXT_H

#include <jansson.h>
#include <stdbool.h>

#include "harness/model/sbuf.h"

/*
 * Appends the summary of OBJ's KEY to s ("governor performance (2
 * policies); boost off", "RPS none; XPS not shown; IRQs none: a virtual
 * device"); a null fact reads as "not known" with its KEY_note.  false,
 * appending nothing, for a key it does not summarise.
 */
bool envtext_fact(json_t *obj, const char *key, struct sbuf *s);

#endif
