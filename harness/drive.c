/* SPDX-License-Identifier: MIT */
/* The step loop of a strategy transfer, with poll() where it must wait. */
#include "drive.h"

#include <errno.h>
#include <poll.h>

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
