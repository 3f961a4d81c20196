/* SPDX-License-Identifier: MIT */
/*
 * The figures of a role that the record, the summary and the charts state
 * alike, derived from what the engine measured: the copy ledger whichever
 * instrument counted it, where its CPU went (the sampler's groups in
 * seconds), and how busy it kept its CPU over the window.  Pure functions.
 */
#ifndef COPYLAB_ROLE_FIGURES_H
#define COPYLAB_ROLE_FIGURES_H

#include "record.h"
#include "harness/measure/memcpy_rate.h"

#include <stdbool.h>
#include <stdint.h>

/* A role at or above this share of one CPU over the window limited the cell. */
#define LIMITING_BUSY 0.9

/*
 * The copy ledger of one role with the same fields from BPF and from the
 * tracer.  Bytes through user memory include io_uring's read/recv and
 * write/send completions (BPF only: io_uring_seen), and leave out what
 * zero-copy sends took without copying (MSG_ZEROCOPY, SEND_ZC, from the
 * role's own completions).
 */
struct role_ledger {
	bool have;
	const char *source;		/* "bpf" or "tracer" */
	uint64_t calls_read, calls_write, calls_splice;	/* data-moving syscalls by family */
	uint64_t to_user, from_user, in_kernel;	/* bytes */
	uint64_t zerocopy_not_copied;	/* bytes zero-copy sends took without copying */
	bool io_uring_seen;		/* io_uring's completions were counted */
};

struct role_ledger role_ledger_of(const struct role_result *ro);

/* Where the role's CPU went, in seconds, from the sampler's counts. */
struct role_cputime {
	bool have;
	uint64_t samples;
	double rate_hz;
	double sampled_s;		/* samples x period */
	double group_s[CG_COUNT];
	double copy_s;			/* copy_kernel + copy_user */
	double copy_share;		/* of the role's CPU (getrusage); NAN when it used none */
	/*
	 * The copy time the ledger's bytes through user memory predict, at
	 * memcpy's rate in cache and from memory (env.json); NAN without the
	 * calibration or the ledger.
	 */
	double predicted_resident_s, predicted_dram_s;
};

struct role_cputime role_cputime_of(const struct role_result *ro, const struct memcpy_rate *rate);

/*
 * The role's CPU seconds, and the steal in its stretches on a CPU (the
 * ledger's; a role that ran flat out on a CPU the host took from it half
 * the time is busy 1.0, not 0.5), over the repetition's wall time; NAN
 * without a wall time.
 */
double role_busy(const struct rep_result *rep, const struct role_result *ro);
/* The index of the busiest role at or above LIMITING_BUSY, or -1. */
int limiting_role(const struct rep_result *rep);

#endif
