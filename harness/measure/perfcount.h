/* SPDX-License-Identifier: MIT */
/*
 * perf counters of one role process over its measured window.  The role
 * opens them itself, disabled, before the barrier; one prctl() switches
 * every counter of the process on at the window's start and off at its
 * end, so the figures cover exactly the window.  Hardware counters are
 * used where the machine has them and reported missing (with why) where not.
 */
#ifndef COPYLAB_PERFCOUNT_H
#define COPYLAB_PERFCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum perf_counter {
	PC_TASK_CLOCK,		/* ns on a CPU */
	PC_CONTEXT_SWITCHES,
	PC_CPU_MIGRATIONS,
	PC_PAGE_FAULTS,
	PC_FAULTS_MINOR,
	PC_FAULTS_MAJOR,
	PC_CYCLES,
	PC_INSTRUCTIONS,
	PC_CACHE_MISSES,
	PC_COUNT
};

struct perf_values {
	uint64_t v[PC_COUNT];
	uint32_t have;		/* bit i: counter i was counted */
};

struct perf_set {
	int fd[PC_COUNT];
	uint32_t open;		/* bit i: fd[i] is open */
	int first_err[PC_COUNT];	/* errno of a counter that did not open */
	bool user_only;		/* kernel events excluded (unprivileged) */
};

/* Opens what it can.  0 if at least the software counters opened, else -errno. */
int perf_open_self(struct perf_set *s);
void perf_window_begin(void);
void perf_window_end(void);
void perf_read(const struct perf_set *s, struct perf_values *out);
void perf_close(struct perf_set *s);
const char *perf_counter_name(enum perf_counter c);
/* "software only: hardware counters unavailable (ENOENT)" and the like. */
void perf_describe(const struct perf_set *s, char *buf, size_t len);

#endif
