/* SPDX-License-Identifier: MIT */
/*
 * A strategy transfer's life, the same for every caller (the role under
 * test, copylab copy, serve and relay): made, begun, driven to its end by
 * the loop they share, ended.
 */
#ifndef COPYLAB_DRIVE_H
#define COPYLAB_DRIVE_H

#include "strategy.h"

#include <signal.h>

/*
 * Zeroes x and sets what every transfer starts with: the scenario and its
 * endpoint kinds, no descriptors (-1), nothing to wait on, the block and
 * the tunables.  The caller then fills its descriptors and total.
 */
void xfer_init(struct xfer *x, enum scenario sc, enum endpoint_kind in, enum endpoint_kind out,
	       size_t block, const struct tunables *tun);
/*
 * Gives the strategy its private state (priv_size bytes, zeroed) and runs
 * its setup.  0, or the negative errno with x->failed_call set.  After any
 * return, xfer_end releases what was made (a strategy's teardown runs even
 * after its setup failed; nothing runs when the state could not be had).
 */
int xfer_begin(const struct strategy *s, struct xfer *x);
/* Teardown and the state freed, once; nothing for a transfer never begun. */
void xfer_end(const struct strategy *s, struct xfer *x);
/*
 * The next transfer on a begun x, whose last one ended: the caller has
 * set in_fd, in_offset, total and block.  The strategy's rearm reuses
 * what its setup made; without one (or when it does not fit) the old
 * transfer ends and a new one begins.  0 or -errno, as xfer_begin.
 */
int xfer_next(const struct strategy *s, struct xfer *x);

/*
 * Steps s->move until it says done, waiting in poll() on what the strategy
 * names when it cannot progress (with tun.busy it does not wait: it steps
 * again at once, a spin).  0, or the negative errno of the step that
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
