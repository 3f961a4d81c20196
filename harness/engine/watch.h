/* SPDX-License-Identifier: MIT */
/*
 * Which role stopped: each role's progress during a repetition, shared
 * with the parent (the fixed roles note theirs, the tested role's transfer
 * is sampled), and at a timeout the role to name — a stopped process
 * first, else the one whose bytes stopped moving first.
 */
#ifndef COPYLAB_WATCH_H
#define COPYLAB_WATCH_H

#include "rep.h"
#include "strategies/strategy.h"

#include <sys/types.h>

/* Shared with the role processes (MAP_SHARED before fork). */
struct rep_watch {
	struct role_progress progress[MAX_ROLES];	/* the fixed roles write theirs */
	struct xfer tested;				/* the tested role's transfer (one connection) */
};

/* The parent's own view of the tested role, from sampling tested.moved. */
struct watch_view {
	bool sampled;		/* the tested role runs its transfer in the shared page */
	uint64_t moved;
	int64_t seen_ns;	/* when moved was last seen to change; 0 = never */
};

struct rep_watch *watch_map(void);
void watch_unmap(struct rep_watch *w);
/* Notes whether the tested role moved bytes since the last look. */
void watch_sample(const struct rep_watch *w, struct watch_view *v, int64_t now);

/* What the parent knows of each role, to name one at a timeout. */
struct watch_roles {
	int n;
	const char *const *names;
	const pid_t *pid;
	const bool *active;	/* still running, local, and watched */
	int tested;		/* the index of the tested role */
};

/*
 * At a timeout: the role to blame (-1 when none can be told apart) and a
 * sentence saying why, with every active role's bytes.  The process state
 * is read from /proc: a stopped role (SIGSTOP, a debugger) is the cause.
 */
int watch_blame(const struct rep_watch *w, const struct watch_view *v, const struct watch_roles *r,
		int64_t t_release, int64_t now, char *why, size_t len);

/* 'R', 'S', 'T', ... from /proc/PID/stat; '?' when it cannot be read. */
char process_state(pid_t pid);

#endif
