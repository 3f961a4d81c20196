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
/* The kinds, one per line, for `copylab run --help`. */
const char *fault_help(void);
const char *fault_name(enum fault_kind k);

#endif
