/* SPDX-License-Identifier: MIT */
/*
 * Counted syscall wrappers, pipe and buffer helpers shared by the
 * strategies (the interface is strategies/io.h).
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define HUGE_PAGE_SIZE ((size_t)2 << 20)

void io_wait(struct xfer *x, int fd, short events)
{
	x->wait[0].fd = fd;
	x->wait[0].events = events;
	x->wait[1].fd = -1;
	x->wait[1].events = 0;
}

ssize_t io_wait_ready(struct xfer *x, int fd0, short ev0, int fd1, short ev1)
{
	struct pollfd p[2] = { { .fd = fd0, .events = ev0 }, { .fd = fd1, .events = ev1 } };

	if (x->tun.nonblock) {
		x->wait[0] = (struct wait_on){ fd0, ev0 };
		x->wait[1] = (struct wait_on){ fd1, fd1 >= 0 ? ev1 : 0 };
		return -EAGAIN;
	}
	if (poll(p, fd1 >= 0 ? 2 : 1, -1) < 0) {
		if (errno == EINTR)
			x->io.eintr++;
		return io_fail(x, "poll", errno);
	}
	return 1;
}

ssize_t io_fail(struct xfer *x, const char *call, int err)
{
	x->failed_call = call;
	return -err;
}

/*
 * The bookkeeping every wrapper shares: count the call, classify its
 * result, and on EAGAIN say what to poll for.  Takes errno from the caller
 * because it must be read right after the syscall.
 */
static ssize_t io_account(struct xfer *x, const char *call, ssize_t ret, int err,
			  size_t asked, int wait_fd, short wait_events)
{
	x->io.calls++;
	if (ret >= 0) {
		if (ret > 0 && (size_t)ret < asked)
			x->io.short_ops++;
		return ret;
	}
	if (err == EAGAIN || err == EWOULDBLOCK) {
		x->io.eagain++;
		io_wait(x, wait_fd, wait_events);
		err = EAGAIN;
	} else if (err == EINTR) {
		x->io.eintr++;
	}
	return io_fail(x, call, err);
}

ssize_t io_read(struct xfer *x, int fd, void *buf, size_t n)
{
	ssize_t ret = read(fd, buf, n);

	return io_account(x, "read", ret, errno, n, fd, POLLIN);
}

ssize_t io_recv_trunc(struct xfer *x, int fd, size_t n)
{
	ssize_t ret = recv(fd, NULL, n, MSG_TRUNC);

	return io_account(x, "recv_msg_trunc", ret, errno, n, fd, POLLIN);
}

ssize_t io_use(struct xfer *x, const unsigned char *p, size_t n)
{
	int ret = x->use && n ? x->use(x->use_arg, p, n) : 0;

	if (ret < 0)
		return io_fail(x, "use", -ret);
	x->moved += n;
	return (ssize_t)n;
}

ssize_t io_write(struct xfer *x, int fd, const void *buf, size_t n)
{
	ssize_t ret = write(fd, buf, n);

	return io_account(x, "write", ret, errno, n, fd, POLLOUT);
}

ssize_t io_send(struct xfer *x, int fd, const void *buf, size_t n, bool is_socket)
{
	ssize_t ret;

	if (!is_socket)
		return io_write(x, fd, buf, n);
	/* MSG_NOSIGNAL: a peer that went away is an -EPIPE to report, not a signal. */
	ret = send(fd, buf, n, MSG_NOSIGNAL);
	return io_account(x, "send", ret, errno, n, fd, POLLOUT);
}

ssize_t io_pwrite(struct xfer *x, int fd, const void *buf, size_t n, off_t off)
{
	ssize_t ret = pwrite(fd, buf, n, off);

	return io_account(x, "pwrite", ret, errno, n, fd, POLLOUT);
}

ssize_t io_sendfile(struct xfer *x, int out, int in, off_t *off, size_t n)
{
	ssize_t ret = sendfile(out, in, off, n);

	return io_account(x, "sendfile", ret, errno, n, out, POLLOUT);
}

ssize_t io_splice(struct xfer *x, int in, loff_t *off_in, int out, loff_t *off_out,
		  size_t n, unsigned int flags, int wait_fd, short wait_events)
{
	ssize_t ret = splice(in, off_in, out, off_out, n, flags);

	return io_account(x, "splice", ret, errno, n, wait_fd, wait_events);
}

ssize_t io_tee(struct xfer *x, int in, int out, size_t n, unsigned int flags,
	       int wait_fd, short wait_events)
{
	ssize_t ret = tee(in, out, n, flags);

	return io_account(x, "tee", ret, errno, n, wait_fd, wait_events);
}

ssize_t io_vmsplice(struct xfer *x, int pipe_w, const struct iovec *iov,
		    unsigned long nr, unsigned int flags)
{
	size_t asked = 0;
	ssize_t ret;

	for (unsigned long i = 0; i < nr; i++)
		asked += iov[i].iov_len;
	ret = vmsplice(pipe_w, iov, nr, flags);
	return io_account(x, "vmsplice", ret, errno, asked, pipe_w, POLLOUT);
}

int io_pipe_open(struct xfer *x, int fds[2], size_t *granted)
{
	int size, err;

	if (pipe2(fds, O_CLOEXEC | (x->tun.nonblock ? O_NONBLOCK : 0)) < 0)
		return (int)io_fail(x, "pipe2", errno);

	if ((x->tun.set & TUN_PIPE_SIZE) && x->tun.pipe_size > 0) {
		int want = x->tun.pipe_size > INT_MAX ? INT_MAX : (int)x->tun.pipe_size;

		/*
		 * Above pipe-max-size without CAP_SYS_RESOURCE (or over the
		 * per-user pipe budget) the kernel says EPERM; EBUSY means the
		 * pipe holds more than the new size.  Both leave a working
		 * pipe, so keep the default and report what was granted.
		 */
		if (fcntl(fds[1], F_SETPIPE_SZ, want) < 0 &&
		    errno != EPERM && errno != EBUSY) {
			err = errno;
			io_pipe_close(fds);
			return (int)io_fail(x, "fcntl", err);
		}
	}

	size = fcntl(fds[1], F_GETPIPE_SZ);
	if (size < 0) {
		err = errno;
		io_pipe_close(fds);
		return (int)io_fail(x, "fcntl", err);
	}
	*granted = (size_t)size;
	x->pipe_granted = (size_t)size;
	return 0;
}

void io_pipe_close(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

unsigned int io_splice_flags(const struct xfer *x, bool toward_socket)
{
	unsigned int flags = 0;

	if (x->tun.nonblock)
		flags |= SPLICE_F_NONBLOCK;
	if (x->tun.more && toward_socket)
		flags |= SPLICE_F_MORE;
	if (x->tun.move)
		flags |= SPLICE_F_MOVE;
	return flags;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static size_t buffer_map_len(size_t len, bool huge)
{
	return round_up(len, huge ? HUGE_PAGE_SIZE : (size_t)sysconf(_SC_PAGESIZE));
}

/*
 * Whether the mapping that holds addr has any AnonHugePages.  smaps is
 * per mapping, so this sees our region alone, not the whole process.
 */
static bool thp_backs(const void *addr)
{
	unsigned long start, end, kb;
	bool in_region = false, found = false;
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in_region = (unsigned long)addr >= start && (unsigned long)addr < end;
			continue;
		}
		if (in_region && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
			found = kb > 0;
			break;
		}
	}
	fclose(f);
	return found;
}

/* An anonymous region aligned to 2 MiB: map more than needed, trim the ends. */
static void *map_huge_aligned(size_t map_len)
{
	size_t over = map_len + HUGE_PAGE_SIZE;
	unsigned char *raw, *aligned;
	size_t head, tail;

	raw = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	aligned = (unsigned char *)round_up((size_t)raw, HUGE_PAGE_SIZE);
	head = (size_t)(aligned - raw);
	tail = over - head - map_len;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(aligned + map_len, tail);
	return aligned;
}

int io_buffer_alloc(struct xfer *x, size_t len, bool huge, void **out)
{
	size_t map_len = buffer_map_len(len, huge);
	void *buf;

	*out = NULL;
	if (len == 0)
		return 0;
	if (huge) {
		buf = map_huge_aligned(map_len);
		if (!buf)
			return (int)io_fail(x, "mmap", errno);
		/*
		 * Best effort: THP is a hint and the buffer works without it
		 * (EINVAL where THP is not built in); thp_granted tells.
		 */
		(void)madvise(buf, map_len, MADV_HUGEPAGE);
	} else {
		buf = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return (int)io_fail(x, "mmap", errno);
	}
	/* Take the page faults now, before the barrier, not in the timed loop. */
	memset(buf, 0, len);
	if (huge && thp_backs(buf))
		x->thp_granted = true;
	*out = buf;
	return 0;
}

void io_buffer_free(void *buf, size_t len, bool huge)
{
	if (buf && len)
		munmap(buf, buffer_map_len(len, huge));
}
