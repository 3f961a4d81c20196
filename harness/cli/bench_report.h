/* SPDX-License-Identifier: MIT */
/* What copylab bench prints after its table: the headline figures of the matrix. */
#ifndef COPYLAB_CLI_BENCH_REPORT_H
#define COPYLAB_CLI_BENCH_REPORT_H

#include "session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The second block the bench runs zero-copy receive at, beside DEFAULT_BLOCK. */
#define ZCRECV_BENCH_BLOCK ((size_t)1 << 20)
/* recv's block in the bench: the tcp_mmap selftest's chunk, as claim 13's cell. */
#define RECV_BENCH_BLOCK ((size_t)512 << 10)

/*
 * The headline ratios and comparisons, each from the medians of the
 * session's counted reps; a figure whose cells did not run is left out.
 * background_busy_cpus: the machine's busy CPUs just before the routed
 * relay group, or NAN when not measured.
 */
void print_headline(const struct session *s, double background_busy_cpus, FILE *out);
/*
 * The blocks of the quick run's block sweep (serve, send, relay over tcp),
 * whose stalls the headline lists: the i-th in *block, false past the last.
 */
bool bench_sweep_block(size_t i, size_t *block);

#endif
