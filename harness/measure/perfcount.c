/* SPDX-License-Identifier: MIT */
/* perf_event_open counters for the calling process, switched by prctl(). */
#include "perfcount.h"
#include "harness/model/base.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
} counters[PC_COUNT] = {
	[PC_TASK_CLOCK] = { "task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
	[PC_CONTEXT_SWITCHES] = { "context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	[PC_CPU_MIGRATIONS] = { "cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	[PC_PAGE_FAULTS] = { "page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	[PC_FAULTS_MINOR] = { "faults_minor", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN },
	[PC_FAULTS_MAJOR] = { "faults_major", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	[PC_CYCLES] = { "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	[PC_INSTRUCTIONS] = { "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
	[PC_CACHE_MISSES] = { "cache_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
};

const char *perf_counter_name(enum perf_counter c)
{
	return c < PC_COUNT ? counters[c].name : "?";
}

static int open_counter(uint32_t type, uint64_t config, bool user_only)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.disabled = 1;
	a.inherit = 1;		/* threads a strategy starts (SQPOLL) count too */
	a.enable_on_exec = 0;
	a.exclude_kernel = user_only;
	a.exclude_hv = 1;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int perf_open_self(struct perf_set *s)
{
	bool user_only = false;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < PC_COUNT; i++) {
		int fd = open_counter(counters[i].type, counters[i].config, user_only);

		/* perf_event_paranoid=2 without root: kernel time cannot be counted. */
		if (fd < 0 && errno == EACCES && !user_only) {
			user_only = true;
			fd = open_counter(counters[i].type, counters[i].config, true);
		}
		s->fd[i] = fd;
		if (fd >= 0)
			s->open |= 1u << i;
		else
			s->first_err[i] = errno;
	}
	if (user_only) {
		/*
		 * Switches and migrations happen in the kernel: with kernel
		 * events excluded they read 0, which would be a false figure.
		 */
		for (int i = PC_CONTEXT_SWITCHES; i <= PC_CPU_MIGRATIONS; i++)
			if (s->open & (1u << i)) {
				close(s->fd[i]);
				s->open &= ~(1u << i);
				s->first_err[i] = EACCES;
			}
		s->user_only = true;
	}
	if (!(s->open & (1u << PC_TASK_CLOCK)))
		return -s->first_err[PC_TASK_CLOCK];
	return 0;
}

void perf_window_begin(void)
{
	prctl(PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0);
}

void perf_window_end(void)
{
	prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0);
}

void perf_read(const struct perf_set *s, struct perf_values *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < PC_COUNT; i++) {
		uint64_t buf[3];	/* value, time enabled, time running */

		if (!(s->open & (1u << i)) || read(s->fd[i], buf, sizeof(buf)) != sizeof(buf))
			continue;
		/* A multiplexed counter is scaled; one never scheduled is missing, not 0. */
		if (buf[2] == 0 && buf[1] != 0)
			continue;
		out->v[i] = buf[2] && buf[2] < buf[1] ? (uint64_t)((double)buf[0] * buf[1] / buf[2]) : buf[0];
		out->have |= 1u << i;
	}
}

void perf_close(struct perf_set *s)
{
	for (int i = 0; i < PC_COUNT; i++)
		if (s->open & (1u << i))
			close(s->fd[i]);
	s->open = 0;
}

void perf_describe(const struct perf_set *s, char *buf, size_t len)
{
	uint32_t hw = (1u << PC_CYCLES) | (1u << PC_INSTRUCTIONS) | (1u << PC_CACHE_MISSES);

	if (!(s->open & (1u << PC_TASK_CLOCK)))
		snprintf(buf, len, "unavailable: %s (%s)", strerror(s->first_err[PC_TASK_CLOCK]),
			 errno_name(s->first_err[PC_TASK_CLOCK]));
	else if (s->user_only)
		snprintf(buf, len, "user-mode events only (perf_event_paranoid without root): "
			 "no context switches or migrations");
	else if ((s->open & hw) == hw)
		snprintf(buf, len, "ok");
	else
		snprintf(buf, len, "software counters only: hardware counters unavailable (%s)",
			 errno_name(s->first_err[PC_CYCLES] ? s->first_err[PC_CYCLES]
				    : s->first_err[PC_INSTRUCTIONS]));
}
