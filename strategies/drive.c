/* SPDX-License-Identifier: MIT */
/* A strategy transfer's life: init, begin, the step loops (poll() where they must wait, or a spin with busy), end. */
#include "drive.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

void xfer_init(struct xfer *x, enum scenario sc, enum endpoint_kind in, enum endpoint_kind out,
	       size_t block, const struct tunables *tun)
{
	memset(x, 0, sizeof(*x));
	x->scenario = sc;
	x->in_kind = in;
	x->out_kind = out;
	x->in_fd = x->out_fd = x->out2_fd = -1;
	x->wait[0].fd = x->wait[1].fd = -1;
	x->block = block;
	x->tun = *tun;
}

int xfer_begin(const struct strategy *s, struct xfer *x)
{
	if (s->priv_size && !(x->priv = calloc(1, s->priv_size))) {
		x->failed_call = "calloc";
		return -ENOMEM;
	}
	x->begun = true;
	return s->setup ? s->setup(x) : 0;
}

void xfer_end(const struct strategy *s, struct xfer *x)
{
	if (!x->begun)
		return;
	if (s->teardown)
		s->teardown(x);
	free(x->priv);
	x->priv = NULL;
	x->begun = false;
}

int xfer_next(const struct strategy *s, struct xfer *x)
{
	int ret;

	if (!x->begun)
		return xfer_begin(s, x);
	x->moved = 0;
	x->failed_call = NULL;
	x->wait[0].fd = x->wait[1].fd = -1;
	if (s->rearm) {
		ret = s->rearm(x);
		if (ret != -ENOSPC)
			return ret;
		x->failed_call = NULL;
	}
	xfer_end(s, x);
	return xfer_begin(s, x);
}

ssize_t xfer_drive(const struct strategy *s, struct xfer *x, volatile sig_atomic_t *stop)
{
	return xfer_drive_until(s, x, stop, UINT64_MAX);
}

ssize_t xfer_drive_until(const struct strategy *s, struct xfer *x, volatile sig_atomic_t *stop,
			 uint64_t until)
{
	for (;;) {
		struct pollfd p[2];
		int n = 0;
		ssize_t r;

		if (stop && *stop) {
			x->failed_call = "(interrupted)";
			return -EINTR;
		}
		if (x->moved >= until)
			return 1;
		r = s->move(x);
		if (r > 0 || r == -EINTR)
			continue;
		/* A step that passed `until` and finished (sockmap's kernel moves it all): still 1. */
		if (r == 0 && x->moved >= until)
			return 1;
		if (r != -EAGAIN)
			return r;
		/* busy: no sleep; the next turn calls move again (and looks at *stop first). */
		if (x->tun.busy)
			continue;
		for (int i = 0; i < 2; i++)
			if (x->wait[i].fd >= 0)
				p[n++] = (struct pollfd){ .fd = x->wait[i].fd, .events = x->wait[i].events };
		if (n == 0) {
			x->failed_call = "move (EAGAIN without a descriptor to wait on)";
			return -EINVAL;
		}
		if (poll(p, n, -1) < 0 && errno != EINTR) {
			x->failed_call = "poll";
			return -errno;
		}
	}
}

/* Steps of one transfer before the loop turns to the next one. */
#define XFER_STEP_BUDGET 16

enum xfer_state { XS_RUN, XS_WAIT, XS_DONE };

/* One transfer's turn: a few steps, until it waits, ends or fails. */
static ssize_t xfer_turn(const struct strategy *s, struct xfer *x, enum xfer_state *st)
{
	for (int b = 0; b < XFER_STEP_BUDGET; b++) {
		ssize_t r = s->move(x);

		if (r > 0 || r == -EINTR)
			continue;
		if (r == 0) {
			*st = XS_DONE;
			return 0;
		}
		if (r != -EAGAIN)
			return r;
		if (x->wait[0].fd < 0 && x->wait[1].fd < 0) {
			x->failed_call = "move (EAGAIN without a descriptor to wait on)";
			return -EINVAL;
		}
		*st = XS_WAIT;
		return 0;
	}
	return 0;	/* budget spent: still runnable */
}

ssize_t xfers_drive(const struct strategy *s, struct xfer *xs, int n,
		    void (*on_done)(struct xfer *x, int i, void *arg), void *arg, int *failed)
{
	enum xfer_state *st = calloc(n, sizeof(*st));
	struct pollfd *p = calloc(2 * (size_t)n, sizeof(*p));
	int *owner = calloc(2 * (size_t)n, sizeof(*owner));
	int left = n;
	ssize_t ret = 0;

	*failed = 0;
	if (!st || !p || !owner) {
		xs[0].failed_call = "calloc";
		ret = -ENOMEM;
		goto out;
	}
	while (left > 0) {
		bool runnable = false;
		int np = 0;

		for (int i = 0; i < n; i++) {
			if (st[i] != XS_RUN)
				continue;
			if ((ret = xfer_turn(s, &xs[i], &st[i])) < 0) {
				*failed = i;
				goto out;
			}
			if (st[i] == XS_DONE) {
				left--;
				if (on_done)
					on_done(&xs[i], i, arg);
			}
			runnable |= st[i] == XS_RUN;
		}
		if (left == 0)
			break;
		for (int i = 0; i < n; i++)
			for (int k = 0; st[i] == XS_WAIT && k < 2; k++)
				if (xs[i].wait[k].fd >= 0) {
					p[np] = (struct pollfd){ .fd = xs[i].wait[k].fd, .events = xs[i].wait[k].events };
					owner[np++] = i;
				}
		if (np == 0)
			continue;
		/*
		 * With some still runnable, only look (timeout 0) at who else is
		 * ready; busy never sleeps either, so a waiting transfer runs
		 * again on the next turn whether or not poll saw it ready.
		 */
		if (poll(p, np, runnable || xs[0].tun.busy ? 0 : -1) < 0 && errno != EINTR) {
			xs[0].failed_call = "poll";
			ret = -errno;
			goto out;
		}
		for (int j = 0; j < np; j++)
			if (p[j].revents || xs[0].tun.busy)
				st[owner[j]] = XS_RUN;
	}
out:
	free(st);
	free(p);
	free(owner);
	return ret;
}
