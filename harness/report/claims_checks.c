/* SPDX-License-Identifier: MIT */
/*
 * The seed articles' direct checks of the kernel (claims.h): small calls
 * whose answer is the figure, run once per `copylab claims`.  Each says
 * what it did in `cmd`; a step that fails before the call under test
 * leaves that call's errno in place of its answer.
 */
#include "claims.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PATTERN_LEN 4096

static void fill(unsigned char *buf, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 31 + seed);
}

static struct kcall failed(void)
{
	return (struct kcall){ -1, errno ? errno : EIO };
}

/* Reads LEN bytes from FD (at offset 0 when SEEK) and compares them with WANT. */
static bool reads_back(int fd, bool seek, const unsigned char *want, size_t len)
{
	unsigned char *got = malloc(len);
	size_t have = 0;
	ssize_t n;
	bool same;

	if (!got)
		return false;
	while (have < len && (n = seek ? pread(fd, got + have, len - have, (off_t)have)
				       : read(fd, got + have, len - have)) > 0)
		have += (size_t)n;
	same = have == len && !memcmp(got, want, len);
	free(got);
	return same;
}

/*
 * sendfile() of a 4 KiB regular file into another regular file (`call`)
 * and into a pipe (`second`), each read back.  The seed says the output
 * must be a socket (since 2.6.9); since 2.6.33 any file takes it.
 */
struct kcheck check_sendfile_outputs(void)
{
	struct kcheck k = { .cmd = "sendfile(out=regular file, in=regular file) and sendfile(out=pipe, in=regular "
				   "file), 4 KiB each, in harness/report/claims_checks.c" };
	char in_path[] = "/tmp/copylab-claims-inXXXXXX", out_path[] = "/tmp/copylab-claims-outXXXXXX";
	unsigned char data[PATTERN_LEN];
	int in = mkstemp(in_path), out = mkstemp(out_path), p[2] = { -1, -1 };
	off_t off = 0;

	if (in >= 0)
		unlink(in_path);
	if (out >= 0)
		unlink(out_path);
	fill(data, sizeof(data), 7);
	if (in < 0 || out < 0 || pwrite(in, data, sizeof(data), 0) != (ssize_t)sizeof(data) || pipe(p)) {
		k.call = k.second = failed();
		goto out;
	}
	errno = 0;
	k.call.ret = sendfile(out, in, &off, sizeof(data));
	k.call.err = k.call.ret < 0 ? errno : 0;
	k.data_intact = k.call.ret == (long)sizeof(data) && reads_back(out, true, data, sizeof(data));
	off = 0;
	errno = 0;
	/* 4 KiB fits a default pipe: the call cannot block on a reader that is not there. */
	k.second.ret = sendfile(p[1], in, &off, sizeof(data));
	k.second.err = k.second.ret < 0 ? errno : 0;
	k.second_intact = k.second.ret == (long)sizeof(data) && reads_back(p[0], false, data, sizeof(data));
out:
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return k;
}

/* A loopback TCP pair whose sending end *tx has 4 KiB of send buffer and no reader: the one the check fills. */
static int tight_tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int small = 4096, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*tx = *rx = -1;
	if (l < 0)
		return -1;
	/* The listener's receive buffer is the accepted socket's: small before the handshake fixes the window. */
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &alen))
		goto fail;
	*tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*tx < 0 || setsockopt(*tx, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) ||
	    connect(*tx, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	*rx = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (*rx < 0 || fcntl(*tx, F_SETFL, O_NONBLOCK))
		goto fail;
	close(l);
	return 0;
fail:
	close(l);
	if (*tx >= 0)
		close(*tx);
	if (*rx >= 0)
		close(*rx);
	*tx = *rx = -1;
	return -1;
}

/*
 * A pipe holding 64 KiB, spliced with SPLICE_F_NONBLOCK into a loopback
 * TCP socket that can take less (4 KiB buffers, nobody reading): what the
 * call returned (`call`), what it was asked (`asked`), and how many bytes
 * it left in the pipe (`left`, FIONREAD).
 */
struct kcheck check_splice_partial(void)
{
	struct kcheck k = { .cmd = "splice(pipe holding 64 KiB, non-blocking loopback TCP socket with 4 KiB "
				   "buffers, 64 KiB, SPLICE_F_NONBLOCK) in harness/report/claims_checks.c",
			    .asked = 65536, .left = -1 };
	static unsigned char data[65536];
	int p[2] = { -1, -1 }, tx, rx, left = -1;

	fill(data, sizeof(data), 3);
	if (tight_tcp_pair(&tx, &rx)) {
		k.call = failed();
		return k;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) || write(p[1], data, sizeof(data)) != (ssize_t)sizeof(data)) {
		k.call = failed();
		goto out;
	}
	errno = 0;
	k.call.ret = splice(p[0], NULL, tx, NULL, sizeof(data), SPLICE_F_NONBLOCK);
	k.call.err = k.call.ret < 0 ? errno : 0;
	if (ioctl(p[0], FIONREAD, &left) == 0)
		k.left = left;
out:
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	close(tx);
	close(rx);
	return k;
}

/*
 * docs/labs' reuse.c as a check: vmsplice a page of 'A's into a pipe,
 * overwrite the page with 'B's, read the pipe (`call`: the vmsplice;
 * data_intact: the reader got the 'A's).  The control does the same with
 * write() (`second`, second_intact), which copies, so its reader must get
 * the 'A's.
 */
struct kcheck check_vmsplice_reuse(void)
{
	struct kcheck k = { .cmd = "vmsplice(pipe, one page of 'A's), then the page overwritten with 'B's and the pipe "
				   "read; the same with write() as the control, in harness/report/claims_checks.c" };
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *buf = NULL, *want = malloc((size_t)page);
	int p[2] = { -1, -1 };
	struct iovec iov;

	if (!want || posix_memalign((void **)&buf, (size_t)page, (size_t)page) || pipe2(p, O_CLOEXEC)) {
		k.call = k.second = failed();
		goto out;
	}
	memset(want, 'A', (size_t)page);
	memset(buf, 'A', (size_t)page);
	iov = (struct iovec){ buf, (size_t)page };
	errno = 0;
	k.call.ret = vmsplice(p[1], &iov, 1, 0);
	k.call.err = k.call.ret < 0 ? errno : 0;
	memset(buf, 'B', (size_t)page);
	k.data_intact = k.call.ret == page && reads_back(p[0], false, want, (size_t)page);
	memset(buf, 'A', (size_t)page);
	errno = 0;
	k.second.ret = write(p[1], buf, (size_t)page);
	k.second.err = k.second.ret < 0 ? errno : 0;
	memset(buf, 'B', (size_t)page);
	k.second_intact = k.second.ret == page && reads_back(p[0], false, want, (size_t)page);
out:
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	free(buf);
	free(want);
	return k;
}

/*
 * Whether this machine lets a process count last-level cache misses, the
 * nearest thing to memory traffic a process can count (user space only,
 * which perf_event_paranoid 2 allows): perf_event_open's answer.
 */
struct kcheck check_hw_counters(void)
{
	struct kcheck k = { .cmd = "perf_event_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, exclude_kernel) "
				   "in harness/report/claims_checks.c" };
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE, .size = sizeof(attr), .config = PERF_COUNT_HW_CACHE_MISSES,
		.disabled = 1, .exclude_kernel = 1, .exclude_hv = 1,
	};
	long fd;

	errno = 0;
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	k.call.ret = fd;
	k.call.err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close((int)fd);
	return k;
}
