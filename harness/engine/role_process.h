/* SPDX-License-Identifier: MIT */
/*
 * What every role process shares (role_process.c): the barrier, the
 * measured window and the one report to the parent, the error a role
 * fails with, and the --fault acts that end a role mid-stream.
 */
#ifndef COPYLAB_ROLE_PROCESS_H
#define COPYLAB_ROLE_PROCESS_H

#include "rep.h"
#include "harness/measure/perfcount.h"

#include <errno.h>
#include <sys/resource.h>

/* ---- the report and the barrier ---- */

/* Sends the report to the parent and ends the process (1 when it failed). */
void role_exit(const struct role_ctx *r, struct role_report *rep) __attribute__((noreturn));
/* Records the failure (err: an errno, either sign) and returns rep->status. */
int set_error(struct role_report *rep, int err, const char *call, const char *what);
/* Tells the parent this role is ready, then blocks until the barrier opens.  0 or -errno. */
int barrier_wait(const struct role_ctx *r);

/*
 * The measured window of one role: from the barrier's release to the
 * role's last byte.  Counters are opened before the barrier and switched
 * on and off at the window's edges, so setup, pattern generation and the
 * hashing of files afterwards stay out of every figure.
 */
struct window {
	struct rusage u0;
	struct perf_set perf;
	bool perf_on, ledger_on;
	struct copytrace_totals tracer0;
};

/* Opens the counters, before any setup that may start a thread. */
void window_prepare(const struct role_ctx *r, struct window *w, struct role_report *rep);
/* Waits at the barrier, then opens the window.  0 or -errno (in rep). */
int window_open(const struct role_ctx *r, struct window *w, struct role_report *rep);
/* At the role's last byte: every figure of the window into rep->res. */
void window_close(const struct role_ctx *r, struct window *w, struct role_report *rep);

/* ---- the faults a role acts out (--fault) ---- */

/* A fault that acts at a byte count: never (UINT64_MAX), unless c asks for kind k. */
uint64_t fault_at(const struct run_config *c, enum fault_kind k);
/* Where --fault kill=ROLE@N kills this role, or UINT64_MAX. */
uint64_t kill_at(const struct role_ctx *r);
/* --fault kill=ROLE@N: die as a role killed from outside would, mid-stream. */
void die_by_sigkill(void) __attribute__((noreturn));
/* --fault sink-reset / source-reset: close with an RST instead of a FIN. */
void reset_connection(int fd);
/* --fault sink-stall: hold the connection open and read nothing, until killed. */
void stall_forever(void) __attribute__((noreturn));

/* The role acted out the run's fault at its byte count `at` (the first time counts). */
void fault_fired(struct role_report *rep, uint64_t at);
/*
 * A fixed role moved bytes: rep->res.bytes, its total so far, goes to the
 * parent's view of its progress (one role per process: role_main says
 * where that is).
 */
void note_progress(const struct role_report *rep);
void progress_to(struct role_progress *p);

/* ---- calls ---- */

int set_nonblock(int fd);

/* A fixed role's call, counted as the tested role's are (strategies/drive.c). */
static inline ssize_t count_call(struct io_counters *io, ssize_t n, size_t asked)
{
	io->calls++;
	if (n < 0 && errno == EAGAIN)
		io->eagain++;
	else if (n < 0 && errno == EINTR)
		io->eintr++;
	else if (n > 0 && (size_t)n < asked)
		io->short_ops++;
	return n;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

#endif
