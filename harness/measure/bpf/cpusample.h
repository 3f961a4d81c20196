/* SPDX-License-Identifier: MIT */
/*
 * Where each role's CPU goes, sampled: cputime.bpf.c on a software
 * cpu-clock perf event of every CPU, counting the samples of the processes
 * in the ledger's windows (the same tgid -> slot map) by CPU group
 * (harness/measure/cpugroups.h).  Each sample stands for one sampling
 * period of CPU time, so groups come out in seconds; the copy groups are
 * the measured copy time.  Needs the BPF ledger, perf_event_open on every
 * CPU and readable /proc/kallsyms addresses: root.
 *
 * Use: cpusample_open() once after ledger_open(); per repetition
 * cpusample_reset(slot) before the roles fork and cpusample_read(slot)
 * after they end, like the ledger.
 */
#ifndef COPYLAB_CPUSAMPLE_H
#define COPYLAB_CPUSAMPLE_H

#include "harness/measure/cpugroups.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ledger;
struct cpusample;

struct cpusample_counts {
	uint64_t samples[CG_COUNT];
	uint64_t total;
	double period_s;	/* CPU seconds one sample stands for */
};

int cpusample_open(struct ledger *l, struct cpusample **out, char *why, size_t whylen);
void cpusample_close(struct cpusample *s);
/* The method in a sentence, for env.json and the record's note. */
const char *cpusample_describe(const struct cpusample *s);
/* The kernel copy routines found in /proc/kallsyms, space-separated. */
const char *cpusample_copy_routines(const struct cpusample *s);
/* Sampling rate in Hz. */
double cpusample_rate_hz(void);
int cpusample_reset(struct cpusample *s, int slot);
int cpusample_read(struct cpusample *s, int slot, struct cpusample_counts *out);

#endif
