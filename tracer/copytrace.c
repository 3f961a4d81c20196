/* SPDX-License-Identifier: MIT */
/*
 * libcopytrace.so: the copy ledger of any dynamically linked program, no
 * root needed.  LD_PRELOAD it with COPYTRACE_OUT=FILE and it counts, per fd
 * kind, the calls and the bytes returned by the read, write and splice
 * families (plus vmsplice and file mmaps), then appends one JSON line for
 * the process to FILE when it exits.  Without COPYTRACE_OUT every wrapper
 * is a plain pass-through.  `copylab trace` drives it; docs/tracer.md says
 * what it can and cannot see.
 *
 * Rules of the hot path: no locks and no malloc (relaxed atomics only), the
 * caller's errno is what the real call left, and the real function is
 * found with dlsym(RTLD_NEXT) on first use, so a call made before our
 * constructor (from another library's constructor) still works.
 */
#include "copytrace.h"
#include "trace_record.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* --- counters ------------------------------------------------------------ */

struct counters {
	COPYTRACE_LEDGER_FIELDS(_Atomic uint64_t)
};
#define COUNTER_WORDS (sizeof(struct counters) / sizeof(_Atomic uint64_t))
/* A snapshot (struct copytrace_ledger) is the counters word for word. */
_Static_assert(sizeof(struct copytrace_ledger) == COUNTER_WORDS * sizeof(uint64_t), "a snapshot mirrors the counters");

static struct counters ctr;

static inline void add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static void counters_snapshot(uint64_t out[COUNTER_WORDS])
{
	_Atomic uint64_t *w = (_Atomic uint64_t *)&ctr;

	for (size_t i = 0; i < COUNTER_WORDS; i++)
		out[i] = atomic_load_explicit(&w[i], memory_order_relaxed);
}

/* Takes away what a record already reported, keeping what came after. */
static void counters_subtract(const uint64_t snap[COUNTER_WORDS])
{
	_Atomic uint64_t *w = (_Atomic uint64_t *)&ctr;

	for (size_t i = 0; i < COUNTER_WORDS; i++)
		atomic_fetch_sub_explicit(&w[i], snap[i], memory_order_relaxed);
}

static void counters_reset(void)
{
	_Atomic uint64_t *w = (_Atomic uint64_t *)&ctr;

	for (size_t i = 0; i < COUNTER_WORDS; i++)
		atomic_store_explicit(&w[i], 0, memory_order_relaxed);
}

/* --- state ------------------------------------------------------------------ */

enum { ST_UNKNOWN, ST_INITING, ST_OFF, ST_ON };
static _Atomic int state = ST_UNKNOWN;
static char out_path[PATH_MAX];
/* The process the counters belong to: a vfork or raw clone child shares or
 * copies them without the atfork reset, and must not report them. */
static _Atomic pid_t owner_pid;

static _Atomic bool exit_reported;	/* the exit record is made once */
static atomic_flag record_busy = ATOMIC_FLAG_INIT;	/* record_buf is in use */

static void child_after_fork(void)
{
	counters_reset();
	atomic_store(&exit_reported, false);
	atomic_flag_clear(&record_busy);
	atomic_store(&owner_pid, getpid());
}

static void trace_init(void)
{
	int expected = ST_UNKNOWN;

	if (!atomic_compare_exchange_strong(&state, &expected, ST_INITING))
		return;		/* done, or another thread is at it: it decides */
	const char *p = getenv(COPYTRACE_ENV_OUT);
	int next = ST_OFF;

	if (p && *p && strlen(p) < sizeof(out_path)) {
		strcpy(out_path, p);
		atomic_store(&owner_pid, getpid());
		pthread_atfork(NULL, NULL, child_after_fork);
		next = ST_ON;
	}
	atomic_store(&state, next);
}

static inline bool tracing(void)
{
	int s = atomic_load_explicit(&state, memory_order_acquire);

	if (__builtin_expect(s == ST_UNKNOWN, 0)) {
		int saved = errno;

		trace_init();
		errno = saved;
		s = atomic_load_explicit(&state, memory_order_acquire);
	}
	return s == ST_ON;
}

/* Totals over fd kinds, for the program the library is preloaded into. */
EXPORT int copytrace_totals(struct copytrace_totals *out)
{
	if (!tracing())
		return -1;
	memset(out, 0, sizeof(*out));
	for (int f = 0; f < CT_FAMILIES; f++)
		for (int k = 0; k < CT_KINDS; k++) {
			out->calls[f] += atomic_load_explicit(&ctr.calls[f][k], memory_order_relaxed);
			out->bytes[f] += atomic_load_explicit(&ctr.bytes[f][k], memory_order_relaxed);
		}
	out->vmsplice_calls = atomic_load_explicit(&ctr.vms_calls, memory_order_relaxed);
	out->vmsplice_bytes = atomic_load_explicit(&ctr.vms_bytes, memory_order_relaxed);
	return 0;
}

/* --- the real functions ---------------------------------------------------- */

/*
 * One slot per interposed name.  A race between two first calls stores the
 * same pointer twice, which is harmless.  A name libc lacks leaves the slot
 * NULL and the wrapper fails with ENOSYS (the program could not have linked
 * against it, so only a dlsym caller can meet this).
 */
static void *resolve(void *_Atomic *slot, const char *name)
{
	void *fn = atomic_load_explicit(slot, memory_order_acquire);

	if (__builtin_expect(fn == NULL, 0)) {
		int saved = errno;

		fn = dlsym(RTLD_NEXT, name);
		if (fn)
			atomic_store_explicit(slot, fn, memory_order_release);
		errno = saved;
	}
	return fn;
}

#define REAL_SLOT(name) static void *_Atomic real_##name##_slot;
#define REAL(name) ((__typeof__(&name))resolve(&real_##name##_slot, #name))
/* For the __*_chk names, declared by no header we include. */
#define REAL_T(name, type) ((type)resolve(&real_##name##_slot, #name))

/* Calls a real function, or fails with ENOSYS if it could not be found. */
#define CALL_REAL(fn, ...) ((fn) ? (fn)(__VA_ARGS__) : (errno = ENOSYS, -1))

#define FOR_EACH_REAL(X) \
	X(read) X(readv) X(pread) X(pread64) X(preadv) X(preadv64) X(preadv2) X(preadv64v2) \
	X(recv) X(recvfrom) X(recvmsg) X(recvmmsg) \
	X(__read_chk) X(__pread_chk) X(__pread64_chk) X(__recv_chk) X(__recvfrom_chk) \
	X(write) X(writev) X(pwrite) X(pwrite64) X(pwritev) X(pwritev64) X(pwritev2) X(pwritev64v2) \
	X(send) X(sendto) X(sendmsg) X(sendmmsg) \
	X(sendfile) X(sendfile64) X(splice) X(tee) X(vmsplice) X(copy_file_range) \
	X(mmap) X(mmap64) \
	X(close) X(fclose) X(dup) X(dup2) X(dup3) X(close_range) \
	X(socket) X(socketpair) X(accept) X(accept4) X(pipe) X(pipe2) \
	X(execve) X(execv) X(execvp) X(execvpe) X(_exit) X(_Exit)

FOR_EACH_REAL(REAL_SLOT)

/* --- fd kinds ------------------------------------------------------------- */

/*
 * A byte per fd below FD_CACHE: 0 unknown, else kind + 1.  Entries go stale
 * when an fd number is reused, so every call that ends or makes an fd
 * (close, fclose, dup*, close_range, socket, accept, pipe...) forgets its
 * number.  Closes inside libc (closedir, a FILE that libc opened and closed
 * itself) do not pass here: a wrong kind after such a reuse is possible,
 * which docs/tracer.md says.  fds above the cache are looked up each time.
 */
#define FD_CACHE 4096
static _Atomic unsigned char fd_cache[FD_CACHE];

static inline void fd_forget(int fd)
{
	if (fd >= 0 && fd < FD_CACHE)
		atomic_store_explicit(&fd_cache[fd], 0, memory_order_relaxed);
}

static int fd_kind(int fd)
{
	struct stat st;
	int kind;

	if (fd >= 0 && fd < FD_CACHE) {
		unsigned char v = atomic_load_explicit(&fd_cache[fd], memory_order_relaxed);

		if (v)
			return v - 1;
	}
	/* The raw syscall: async-signal-safe, and deaf to any fstat wrapper. */
	if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0)
		return CT_OTHER;	/* a bad fd: counted, never cached */
	if (S_ISREG(st.st_mode))
		kind = CT_FILE;
	else if (S_ISSOCK(st.st_mode))
		kind = CT_SOCKET;
	else if (S_ISFIFO(st.st_mode))
		kind = CT_PIPE;
	else
		kind = CT_OTHER;
	if (fd < FD_CACHE)
		atomic_store_explicit(&fd_cache[fd], (unsigned char)(kind + 1), memory_order_relaxed);
	return kind;
}

/* --- accounting ------------------------------------------------------------- */

/* Every call counts; bytes are the sum of positive returns (as the BPF ledger). */
static void account(int fam, int fd, ssize_t ret)
{
	int saved = errno;
	int kind = fd_kind(fd);

	add(&ctr.calls[fam][kind], 1);
	if (ret > 0)
		add(&ctr.bytes[fam][kind], (uint64_t)ret);
	errno = saved;
}

static void account_splice(int fd_in, int fd_out, ssize_t ret)
{
	int saved = errno;
	int src = fd_kind(fd_in), dst = fd_kind(fd_out);

	/* Filed under the destination's kind: where the bytes went. */
	add(&ctr.calls[CT_SPLICE][dst], 1);
	add(&ctr.route_calls[src][dst], 1);
	if (ret > 0) {
		add(&ctr.bytes[CT_SPLICE][dst], (uint64_t)ret);
		add(&ctr.route_bytes[src][dst], (uint64_t)ret);
	}
	errno = saved;
}

/* recvmmsg/sendmmsg return a message count; the bytes are in msg_len. */
static ssize_t mmsg_bytes(const struct mmsghdr *v, int n)
{
	ssize_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += v[i].msg_len;
	return sum;
}

/* --- the read family -------------------------------------------------------- */

#define READ_LIKE(ret, fd) do { if (tracing()) account(CT_READ, (fd), (ret)); } while (0)
#define WRITE_LIKE(ret, fd) do { if (tracing()) account(CT_WRITE, (fd), (ret)); } while (0)
/*
 * recv(MSG_TRUNC) on a stream socket returns what the kernel threw away
 * uncopied: a call of the read family that brought no byte to user memory.
 */
#define RECV_LIKE(ret, fd, flags) READ_LIKE(((flags) & MSG_TRUNC) && (ret) > 0 ? 0 : (ret), fd)

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t (*fn)(int, void *, size_t) = REAL(read);
	ssize_t r = fn ? fn(fd, buf, n) : syscall(SYS_read, fd, buf, n);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r = CALL_REAL(REAL(readv), fd, iov, cnt);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = CALL_REAL(REAL(pread), fd, buf, n, off);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	ssize_t r = CALL_REAL(REAL(pread64), fd, buf, n, off);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t r = CALL_REAL(REAL(preadv), fd, iov, cnt, off);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	ssize_t r = CALL_REAL(REAL(preadv64), fd, iov, cnt, off);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	ssize_t r = CALL_REAL(REAL(preadv2), fd, iov, cnt, off, flags);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	ssize_t r = CALL_REAL(REAL(preadv64v2), fd, iov, cnt, off, flags);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	ssize_t r = CALL_REAL(REAL(recv), fd, buf, n, flags);

	RECV_LIKE(r, fd, flags);
	return r;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen)
{
	ssize_t r = CALL_REAL(REAL(recvfrom), fd, buf, n, flags, addr, alen);

	RECV_LIKE(r, fd, flags);
	return r;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r = CALL_REAL(REAL(recvmsg), fd, msg, flags);

	RECV_LIKE(r, fd, flags);
	return r;
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags, struct timespec *tmo)
{
	int r = CALL_REAL(REAL(recvmmsg), fd, v, vlen, flags, tmo);

	READ_LIKE(r > 0 ? mmsg_bytes(v, r) : r, fd);
	return r;
}

/* What _FORTIFY_SOURCE builds call instead of read, pread and recv(from). */
EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t r = CALL_REAL(REAL_T(__read_chk, ssize_t (*)(int, void *, size_t, size_t)),
			      fd, buf, n, buflen);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	ssize_t r = CALL_REAL(REAL_T(__pread_chk, ssize_t (*)(int, void *, size_t, off_t, size_t)),
			      fd, buf, n, off, buflen);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	ssize_t r = CALL_REAL(REAL_T(__pread64_chk, ssize_t (*)(int, void *, size_t, off64_t, size_t)),
			      fd, buf, n, off, buflen);

	READ_LIKE(r, fd);
	return r;
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	ssize_t r = CALL_REAL(REAL_T(__recv_chk, ssize_t (*)(int, void *, size_t, size_t, int)),
			      fd, buf, n, buflen, flags);

	RECV_LIKE(r, fd, flags);
	return r;
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
			      struct sockaddr *addr, socklen_t *alen)
{
	ssize_t r = CALL_REAL(REAL_T(__recvfrom_chk, ssize_t (*)(int, void *, size_t, size_t, int,
								 struct sockaddr *, socklen_t *)),
			      fd, buf, n, buflen, flags, addr, alen);

	RECV_LIKE(r, fd, flags);
	return r;
}

/* --- the write family ------------------------------------------------------- */

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	ssize_t (*fn)(int, const void *, size_t) = REAL(write);
	ssize_t r = fn ? fn(fd, buf, n) : syscall(SYS_write, fd, buf, n);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r = CALL_REAL(REAL(writev), fd, iov, cnt);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r = CALL_REAL(REAL(pwrite), fd, buf, n, off);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	ssize_t r = CALL_REAL(REAL(pwrite64), fd, buf, n, off);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t r = CALL_REAL(REAL(pwritev), fd, iov, cnt, off);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	ssize_t r = CALL_REAL(REAL(pwritev64), fd, iov, cnt, off);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	ssize_t r = CALL_REAL(REAL(pwritev2), fd, iov, cnt, off, flags);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	ssize_t r = CALL_REAL(REAL(pwritev64v2), fd, iov, cnt, off, flags);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	ssize_t r = CALL_REAL(REAL(send), fd, buf, n, flags);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *addr, socklen_t alen)
{
	ssize_t r = CALL_REAL(REAL(sendto), fd, buf, n, flags, addr, alen);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t r = CALL_REAL(REAL(sendmsg), fd, msg, flags);

	WRITE_LIKE(r, fd);
	return r;
}

EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags)
{
	int r = CALL_REAL(REAL(sendmmsg), fd, v, vlen, flags);

	WRITE_LIKE(r > 0 ? mmsg_bytes(v, r) : r, fd);
	return r;
}

/* --- the splice family, and vmsplice -------------------------------------- */

EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *off, size_t n)
{
	ssize_t r = CALL_REAL(REAL(sendfile), out_fd, in_fd, off, n);

	if (tracing())
		account_splice(in_fd, out_fd, r);
	return r;
}

EXPORT ssize_t sendfile64(int out_fd, int in_fd, off64_t *off, size_t n)
{
	ssize_t r = CALL_REAL(REAL(sendfile64), out_fd, in_fd, off, n);

	if (tracing())
		account_splice(in_fd, out_fd, r);
	return r;
}

EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n, unsigned int flags)
{
	ssize_t r = CALL_REAL(REAL(splice), fd_in, off_in, fd_out, off_out, n, flags);

	if (tracing())
		account_splice(fd_in, fd_out, r);
	return r;
}

EXPORT ssize_t tee(int fd_in, int fd_out, size_t n, unsigned int flags)
{
	ssize_t r = CALL_REAL(REAL(tee), fd_in, fd_out, n, flags);

	if (tracing())
		account_splice(fd_in, fd_out, r);
	return r;
}

EXPORT ssize_t copy_file_range(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out,
			       size_t n, unsigned int flags)
{
	ssize_t r = CALL_REAL(REAL(copy_file_range), fd_in, off_in, fd_out, off_out, n, flags);

	if (tracing())
		account_splice(fd_in, fd_out, r);
	return r;
}

/*
 * vmsplice on a pipe's write end maps user pages into the pipe (no copy
 * yet: the reader or a later splice copies, and the sender must not reuse
 * the buffer); on a read end the kernel copies from the pipe into the iov.
 * Both are kept apart from the three families.
 */
EXPORT ssize_t vmsplice(int fd, const struct iovec *iov, size_t nr, unsigned int flags)
{
	ssize_t r = CALL_REAL(REAL(vmsplice), fd, iov, nr, flags);

	if (tracing()) {
		int saved = errno;
		int fl = fcntl(fd, F_GETFL);
		bool to_user = fl >= 0 && (fl & O_ACCMODE) == O_RDONLY;

		add(&ctr.vms_calls, 1);
		if (to_user)
			add(&ctr.vms_read_calls, 1);
		if (r > 0) {
			add(&ctr.vms_bytes, (uint64_t)r);
			if (to_user)
				add(&ctr.vms_read_bytes, (uint64_t)r);
		}
		errno = saved;
	}
	return r;
}

/* --- mmap of files ----------------------------------------------------------- */

static void account_mmap(void *r, size_t len, int flags, int fd)
{
	int saved = errno;

	if (r != MAP_FAILED && !(flags & MAP_ANONYMOUS) && fd >= 0 && fd_kind(fd) == CT_FILE) {
		add(&ctr.mmap_calls, 1);
		add(&ctr.mmap_bytes, len);
	}
	errno = saved;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*fn)(void *, size_t, int, int, int, off_t) = REAL(mmap);
	void *r;

	if (!fn) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	r = fn(addr, len, prot, flags, fd, off);
	if (tracing())
		account_mmap(r, len, flags, fd);
	return r;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *(*fn)(void *, size_t, int, int, int, off64_t) = REAL(mmap64);
	void *r;

	if (!fn) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	r = fn(addr, len, prot, flags, fd, off);
	if (tracing())
		account_mmap(r, len, flags, fd);
	return r;
}

/* --- calls that end or make an fd: keep the kind cache true ------------- */

EXPORT int close(int fd)
{
	int (*fn)(int) = REAL(close);
	int r;

	fd_forget(fd);
	r = fn ? fn(fd) : (int)syscall(SYS_close, fd);
	fd_forget(fd);
	return r;
}

EXPORT int fclose(FILE *fp)
{
	int fd = fp ? fileno(fp) : -1;
	int r = CALL_REAL(REAL(fclose), fp);

	fd_forget(fd);
	return r;
}

EXPORT int dup(int fd)
{
	int r = CALL_REAL(REAL(dup), fd);

	fd_forget(r);
	return r;
}

EXPORT int dup2(int fd, int fd2)
{
	int r = CALL_REAL(REAL(dup2), fd, fd2);

	fd_forget(fd2);
	return r;
}

EXPORT int dup3(int fd, int fd2, int flags)
{
	int r = CALL_REAL(REAL(dup3), fd, fd2, flags);

	fd_forget(fd2);
	return r;
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int r = CALL_REAL(REAL(close_range), first, last, flags);

	for (unsigned int fd = first; fd <= last && fd < FD_CACHE; fd++)
		fd_forget((int)fd);
	return r;
}

EXPORT int socket(int domain, int type, int proto)
{
	int r = CALL_REAL(REAL(socket), domain, type, proto);

	fd_forget(r);
	return r;
}

EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	int r = CALL_REAL(REAL(socketpair), domain, type, proto, sv);

	if (r == 0) {
		fd_forget(sv[0]);
		fd_forget(sv[1]);
	}
	return r;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	int r = CALL_REAL(REAL(accept), fd, addr, alen);

	fd_forget(r);
	return r;
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	int r = CALL_REAL(REAL(accept4), fd, addr, alen, flags);

	fd_forget(r);
	return r;
}

EXPORT int pipe(int p[2])
{
	int r = CALL_REAL(REAL(pipe), p);

	if (r == 0) {
		fd_forget(p[0]);
		fd_forget(p[1]);
	}
	return r;
}

EXPORT int pipe2(int p[2], int flags)
{
	int r = CALL_REAL(REAL(pipe2), p, flags);

	if (r == 0) {
		fd_forget(p[0]);
		fd_forget(p[1]);
	}
	return r;
}

/* --- reporting ----------------------------------------------------------- */

static bool snap_empty(const struct copytrace_ledger *s)
{
	const uint64_t *w = (const uint64_t *)s;

	for (size_t i = 0; i < COUNTER_WORDS; i++)
		if (w[i])
			return false;
	return true;
}

/*
 * event "exit": the process ends (destructor or _exit).  event "exec": this
 * image is about to be replaced; what it reported is taken away again, so
 * if the exec fails the exit record holds only what came after.
 */
static void report(const char *event)
{
	bool is_exit = event[1] == 'x' && event[2] == 'i';	/* "exit" */
	struct copytrace_ledger s;
	int saved = errno;

	/* A vfork or raw clone child shares or copies its parent's counters. */
	if (atomic_load(&state) != ST_ON || (pid_t)syscall(SYS_getpid) != atomic_load(&owner_pid))
		goto out;
	if (atomic_flag_test_and_set(&record_busy))
		goto out;
	if (is_exit && atomic_exchange(&exit_reported, true))
		goto unlock;
	counters_snapshot((uint64_t *)&s);
	if (!is_exit && snap_empty(&s))
		goto unlock;	/* nothing happened before this exec: say nothing */
	if (trace_record_append(out_path, &s, event) && !is_exit)
		counters_subtract((const uint64_t *)&s);
unlock:
	atomic_flag_clear(&record_busy);
out:
	errno = saved;
}

/*
 * exec replaces the image and its counters: report first.  execl, execle,
 * execlp and fexecve reach the kernel inside libc without passing here;
 * what an image did before one of those is lost (docs/tracer.md).
 */
EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (tracing())
		report("exec");
	return CALL_REAL(REAL(execve), path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	if (tracing())
		report("exec");
	return CALL_REAL(REAL(execv), path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	if (tracing())
		report("exec");
	return CALL_REAL(REAL(execvp), file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (tracing())
		report("exec");
	return CALL_REAL(REAL(execvpe), file, argv, envp);
}

/* Shells (dash) and forked children end with _exit: no destructor runs. */
EXPORT _Noreturn void _exit(int status)
{
	void (*fn)(int) = REAL(_exit);

	if (tracing())
		report("exit");
	if (fn)
		fn(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT _Noreturn void _Exit(int status)
{
	void (*fn)(int) = REAL(_Exit);

	if (tracing())
		report("exit");
	if (fn)
		fn(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/* --- load and exit ------------------------------------------------------------ */

#define RESOLVE_NOW(name) resolve(&real_##name##_slot, #name);

__attribute__((constructor)) static void copytrace_load(void)
{
	int saved = errno;

	trace_init();
	/* Resolve everything now, so a first call from a signal handler does
	 * not meet dlsym (which is not async-signal-safe). */
	if (atomic_load(&state) == ST_ON) {
		FOR_EACH_REAL(RESOLVE_NOW)
	}
	errno = saved;
}

__attribute__((destructor)) static void copytrace_unload(void)
{
	report("exit");
}
