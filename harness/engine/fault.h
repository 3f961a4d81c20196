/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for tests (--fault KIND=VALUE): what can go wrong around
 * the role under test, as a table of kinds (fault.c) that parses each one,
 * says which scenarios it applies to, and writes the help text.  The roles
 * (role_process.h and the fixed roles) and the run engine (run.c) act on
 * the parsed fault.
 */
#ifndef COPYLAB_FAULT_H
#define COPYLAB_FAULT_H

#include "strategies/strategy.h"

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

enum fault_kind {
	FAULT_NONE,
	FAULT_SINK_CLOSE,	/* the fixed receiver closes after N bytes */
	FAULT_SINK_RESET,	/* ... resets (SO_LINGER {1,0}, close) after N bytes */
	FAULT_SINK_HALFCLOSE,	/* ... shuts down its sending side at N bytes, reads on */
	FAULT_SINK_STALL,	/* ... stops reading at N bytes (a stuck peer: --timeout ends it) */
	FAULT_SINK_SLOW,	/* ... tiny SO_RCVBUF, small reads, N µs asleep between them */
	FAULT_SOURCE_RESET,	/* the fixed source resets after sending N bytes */
	FAULT_SOURCE_HALFCLOSE,	/* ... finishes early: shutdown(SHUT_WR) after N bytes */
	FAULT_SIGNALS,		/* SIGUSR1/SIGCHLD at N Hz to the role under test */
	FAULT_TRUNCATE,		/* the source file is cut to N bytes after setup */
	FAULT_KILL,		/* one role SIGKILLs itself after N bytes */
};

struct fault {
	enum fault_kind kind;
	uint64_t n;		/* bytes, µs or Hz, by kind */
	char role[16];		/* FAULT_KILL: the role's name */
	int role_index;		/* FAULT_KILL: its index in the scenario, once checked */
};

/*
 * Negative verification (--fault flip@N, drop@N, dup@N, swap@N): the data
 * entering the path is damaged after the expected hashes were taken, as a
 * faulty strategy would damage it, so a test can prove that every kind of
 * damage is caught and located.  N is a byte offset, exact: flip inverts a
 * bit of byte N; drop removes the CORRUPT_BLOCK bytes from N (fewer at the
 * end); dup sends those bytes twice (the stream first differs at N +
 * CORRUPT_BLOCK, where the second copy starts); swap exchanges the block at
 * N with the one after it (both must be whole).
 */
enum corruption { CORRUPT_NONE, CORRUPT_FLIP, CORRUPT_DROP, CORRUPT_DUP, CORRUPT_SWAP };
#define CORRUPT_BLOCK 4096

/* The reads of a slow sink (FAULT_SINK_SLOW), and its SO_RCVBUF. */
#define FAULT_SLOW_READ 4096
#define FAULT_SLOW_RCVBUF 4096

/*
 * Parses the VALUE of one fault kind from "--fault KIND=VALUE".  1 when
 * ARG is not a kind of this table (the caller tries its own), 0 when it
 * parsed, -EINVAL with err filled when it is one of these kinds but wrong.
 */
int fault_parse(const char *arg, struct fault *f, char *err, size_t errlen);
/*
 * 0 when the fault applies to the scenario (and, for kill, names one of
 * its roles; role_index is set); -EINVAL with a sentence saying why not.
 */
int fault_check(struct fault *f, enum scenario sc, bool remote, char *err, size_t errlen);
/*
 * Whether a fault can fire in a payload of `size` bytes: 0, or -EINVAL with
 * a sentence when one that acts at a byte offset (every kind but sink-slow
 * and signals; flip, drop, dup, swap) is at or past the end, where it would
 * never act (truncate=N with N >= size cuts nothing).  For a sweep, give it
 * the smallest size of the run.
 */
int fault_check_reach(const struct fault *f, enum corruption c, uint64_t corrupt_at, uint64_t size,
		      char *err, size_t errlen);
/* True when the fault acts at a byte offset (fault.n is bytes). */
bool fault_at_offset(enum fault_kind k);
/*
 * The fault as a canonical --fault text ("kill=server@2M", "flip@1000",
 * "signals=5000"); "" when none is asked.  Sizes take the largest of
 * K, M, G that divides them exactly.
 */
void fault_text(const struct fault *f, enum corruption c, uint64_t corrupt_at, char *buf, size_t len);
const char *corruption_name(enum corruption c);

struct fault_outcome;
/* o: the fault asked (none: o->asked is ""), acted out by `role` (NULL: by the harness). */
void fault_outcome_begin(struct fault_outcome *o, const struct fault *f, enum corruption c,
			 uint64_t corrupt_at, const char *role);
/*
 * After a repetition that otherwise succeeded: 0 when no fault was asked or
 * it fired; -1 with a sentence naming the fault and why it did not fire.
 */
int fault_outcome_check(const struct fault_outcome *o, char *err, size_t errlen);

/* The kinds, one per line, for `copylab run --help`. */
const char *fault_help(void);
const char *fault_name(enum fault_kind k);

/*
 * --fault signals=HZ, acted by the parent while it waits: SIGUSR1 and
 * SIGCHLD in turn to pid, counted in *sent_total.  How long (ms, at most
 * ms) the wait may block before the next signal is due.
 */
int fault_signal_storm(pid_t pid, uint64_t hz, uint64_t *sent_total, int64_t *next_ns, int ms);

#endif
