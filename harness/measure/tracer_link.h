/* SPDX-License-Identifier: MIT */
/*
 * The LD_PRELOAD tracer as a ledger for copylab's own roles: where BPF
 * cannot load (no root, no BTF), copylab re-executes itself with
 * libcopytrace.so preloaded, and each role reads the library's totals at
 * the edges of its window.  With --tracer it runs beside BPF, so the two
 * instruments can be checked against each other on the same calls.
 */
#ifndef COPYLAB_TRACER_LINK_H
#define COPYLAB_TRACER_LINK_H

#include "tracer/copytrace.h"

#include <stdbool.h>
#include <stddef.h>

#define TRACER_NAME "libcopytrace.so"

/* $COPYLAB_TRACER, else libcopytrace.so beside the executable.  0 or -1 with why. */
int tracer_find(char *path, size_t len, char *why, size_t whylen);
/* The preloaded library's totals function, or NULL when it is not loaded. */
copytrace_totals_fn tracer_loaded(void);
/*
 * Re-executes this program with the tracer preloaded (counting on, its
 * per-process records discarded).  Returns only on failure, with why.
 */
int tracer_reexec(char **argv, char *why, size_t whylen);
/* True in the copylab that tracer_reexec started (it checks its options a second time). */
bool tracer_reexecuted(void);

#endif
