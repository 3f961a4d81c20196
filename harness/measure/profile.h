/* SPDX-License-Identifier: MIT */
/*
 * `copylab run --profile`: perf record on the role under test over its
 * repetition, reduced to the top kernel and user symbols with their share
 * of samples, so a reader sees where the time goes (_copy_to_iter and
 * friends against TCP work).  cpu-clock sampling: it needs no hardware
 * counters, which many virtual machines lack.
 */
#ifndef COPYLAB_PROFILE_H
#define COPYLAB_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROFILE_TOP 12

struct profile_entry {
	char symbol[64];
	bool kernel;
	double share;		/* fraction of the samples, 0..1 */
};

struct profile_result {
	bool taken;
	uint64_t samples;
	int n;
	struct profile_entry top[PROFILE_TOP];
	char note[128];		/* why there is no profile */
};

struct profile_run {
	pid_t perf_pid;
	char data_path[4096];
	char ctl_path[4096], ack_path[4096];	/* perf's control FIFOs, beside the data under --workdir */
	int ctl_fd, ack_fd;
};

/*
 * Starts perf record on pid and returns once its events are on (perf said
 * so on its control FIFO).  0, or -1 with why; nothing is left running.
 */
int profile_start(struct profile_run *p, pid_t target, const char *dir, char *why, size_t whylen);
/* Stops perf, reads its report into out, removes the data file. */
void profile_finish(struct profile_run *p, struct profile_result *out);
/* Parses `perf report --stdio -q` text (one "  12.34%  [k] symbol" a line). */
int profile_parse(const char *text, struct profile_result *out);

#endif
