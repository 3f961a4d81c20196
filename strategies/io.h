/* SPDX-License-Identifier: MIT */
/*
 * Counted syscall wrappers shared by the strategies.  Each returns the
 * syscall's result, or a negative errno with x->failed_call set to the
 * syscall's name; EAGAIN also fills x->wait with the descriptor and event
 * the caller names, so the harness knows what to poll for.  Counting here
 * keeps io_counters honest without a tracer: calls, short transfers,
 * EAGAIN and EINTR are what the partial-transfer tests check.
 */
#ifndef COPYLAB_STRATEGY_IO_H
#define COPYLAB_STRATEGY_IO_H

#include "strategy.h"

#include <sys/uio.h>

ssize_t io_read(struct xfer *x, int fd, void *buf, size_t n);
ssize_t io_write(struct xfer *x, int fd, const void *buf, size_t n);
/*
 * recv(fd, NULL, n, MSG_TRUNC): on TCP the kernel drops up to n queued
 * bytes without copying them anywhere.  Returns how many it dropped.
 */
ssize_t io_recv_trunc(struct xfer *x, int fd, size_t n);
/*
 * EP_MEMORY output: hand n received bytes at p to the role's use
 * (x->use), then count them in x->moved.  n, or -errno with failed_call
 * "use" when the use refused them.
 */
ssize_t io_use(struct xfer *x, const unsigned char *p, size_t n);
/* send(2) with MSG_NOSIGNAL when fd is a socket, write(2) otherwise. */
ssize_t io_send(struct xfer *x, int fd, const void *buf, size_t n, bool is_socket);
ssize_t io_pwrite(struct xfer *x, int fd, const void *buf, size_t n, off_t off);
ssize_t io_sendfile(struct xfer *x, int out, int in, off_t *off, size_t n);
/* wait_fd/wait_events: what to poll for if the call returns EAGAIN. */
ssize_t io_splice(struct xfer *x, int in, loff_t *off_in, int out, loff_t *off_out,
		  size_t n, unsigned int flags, int wait_fd, short wait_events);
ssize_t io_tee(struct xfer *x, int in, int out, size_t n, unsigned int flags,
	       int wait_fd, short wait_events);
ssize_t io_vmsplice(struct xfer *x, int pipe_w, const struct iovec *iov,
		    unsigned long nr, unsigned int flags);

/*
 * Wait for readiness the strategy cannot get from its own calls (error-
 * queue completions, the end of a kernel-run relay): with --nonblock, name
 * up to two descriptors in x->wait and return -EAGAIN for the caller's
 * loop; blocking, poll here (move() never returns -EAGAIN in blocking
 * mode) and return 1 to be called again.  fd1 < 0: only one.  -errno
 * (-EINTR included) when poll fails.
 */
ssize_t io_wait_ready(struct xfer *x, int fd0, short ev0, int fd1, short ev1);

/* Record a failure that did not come from a wrapped call. */
ssize_t io_fail(struct xfer *x, const char *call, int err);
void io_wait(struct xfer *x, int fd, short events);

/*
 * A pipe for splice-family strategies: O_CLOEXEC, O_NONBLOCK when the
 * transfer is non-blocking, sized with F_SETPIPE_SZ when asked.  The size
 * granted is stored in *granted (pipe-max-size and CAP_SYS_RESOURCE decide).
 */
int io_pipe_open(struct xfer *x, int fds[2], size_t *granted);
void io_pipe_close(int fds[2]);

/* splice flags for a splice into out_kind, from the tunables. */
unsigned int io_splice_flags(const struct xfer *x, bool toward_socket);

/*
 * Page-aligned anonymous memory of len bytes, pre-touched so its page
 * faults fall before the barrier.  With huge, the region is 2 MiB aligned
 * and madvised MADV_HUGEPAGE, and x->thp_granted is set when THP backs it.
 * len 0 gives NULL and 0.  Free with the same len and huge.
 */
int io_buffer_alloc(struct xfer *x, size_t len, bool huge, void **out);
void io_buffer_free(void *buf, size_t len, bool huge);

#endif
