/* SPDX-License-Identifier: MIT */
/* Driving one strategy transfer to its end: the loop every caller shares. */
#ifndef COPYLAB_DRIVE_H
#define COPYLAB_DRIVE_H

#include "strategy.h"

#include <signal.h>

/*
 * Steps s->move until it says done, waiting in poll() on what the strategy
 * names when it cannot progress.  0, or the negative errno of the step that
 * failed (x->failed_call says which call).  *stop, when given and set
 * (a signal handler's flag), ends it with -EINTR between steps.
 */
ssize_t xfer_drive(const struct strategy *s, struct xfer *x, volatile sig_atomic_t *stop);
/*
 * The same, but it also returns 1 as soon as x->moved reaches `until`
 * (between steps, or with the step that ended the transfer): a test
 * stops the role there (--fault kill=ROLE@N).
 */
ssize_t xfer_drive_until(const struct strategy *s, struct xfer *x, volatile sig_atomic_t *stop,
			 uint64_t until);

/*
 * --conns N: steps n transfers of one strategy from one loop until every
 * one is done.  Each transfer that can progress takes up to a few steps in
 * turn, so a fast connection cannot starve the others; when none can, one
 * poll() waits on what every waiting transfer named in its wait[].  The
 * transfers must be non-blocking.  on_done(x, i, arg) runs as transfer i
 * completes (the role shuts its output down there).  0, or the negative
 * errno of the step that failed, with *failed its index.
 */
ssize_t xfers_drive(const struct strategy *s, struct xfer *xs, int n,
		    void (*on_done)(struct xfer *x, int i, void *arg), void *arg, int *failed);

#endif
