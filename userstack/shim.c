// SPDX-License-Identifier: MIT
/*
 * libcopylab-stack.so: LD_PRELOAD into any dynamically linked program, its
 * IPv4 TCP sockets then live in copylab stackd (lwIP); every other call goes
 * to libc untouched (dlsym(RTLD_NEXT)).
 *
 * A shimmed socket is a real fd: one end of an AF_UNIX stream pair whose
 * other end stackd holds.  So poll, select, epoll (ipc path), fork, exec,
 * dup and SCM_RIGHTS all see an ordinary fd, and when stackd dies the
 * kernel closes its ends, which the shim turns into ECONNRESET/EPIPE.
 *  - ipc path: the payload travels in the pair itself (read/write go to
 *    the kernel as they are; only an EOF asks stackd whether it was a FIN
 *    or a reset);
 *  - shm path: the payload goes through two rings in a memfd both map
 *    (shm_ring.h); the pair carries doorbells only, and poll/select learn
 *    readiness from the rings.
 * Control calls (socket, bind, listen, connect, names, options) are records
 * on one control connection per process (proto.h).  connect() waits for
 * lwIP's answer even on a nonblocking socket (then returns 0): a connect
 * inside the namespace takes well under a millisecond.
 * An fd this process did not make (after exec, or inherited) is recognised
 * the first time it is used: the shim passes the fd itself to stackd
 * (US_LOOKUP, SCM_RIGHTS), which is also how a control connection proves
 * it may act on a socket another one made (after fork; stackd refuses
 * others with EPERM).  Descriptors stackd sends that do not all arrive
 * (the process is at its limit: MSG_CTRUNC) make the call fail with EMFILE.
 */
#include "proto.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
#define SHM_SEND real_send
#define SHM_RECV real_recv
#include "shm_ring.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_FDS 65536
#define WAIT_SLICE_MS 100
#define CTL_FD_FLOOR 700	/* the control connection's fd is at least this (when the limit allows) */	/* a missed doorbell costs at most this, never a hang */

static int (*real_socket)(int, int, int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_close)(int);
static int (*real_shutdown)(int, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_fcntl)(int, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_splice)(int, loff_t *, int, loff_t *, size_t, unsigned int);
static ssize_t (*real_copy_file_range)(int, loff_t *, int, loff_t *, size_t, unsigned int);

enum { FD_UNKNOWN = 0, FD_NOT_OURS, FD_OURS };

struct sfd {
	int state;
	uint32_t id;
	uint64_t ino;
	int data_path;
	bool listening, nonblock, rd_shut, wr_shut;
	struct shm_ring_pair *shm;
	int dead;		/* shm: its memory never arrived (EMFILE): every transfer fails with this */
};

static struct sfd *table[MAX_FDS];
static const char *stack_socket;	/* NULL: the shim is inert */
static int default_path = US_DATA_IPC;
static int ctl_fd = -1;
static pthread_mutex_t ctl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

#define RESOLVE(name) (real_##name = dlsym(RTLD_NEXT, #name))

static void after_fork_child(void)
{
	/* The parent's control connection is the parent's: a child opens its own. */
	if (ctl_fd >= 0)
		real_close(ctl_fd);
	ctl_fd = -1;
	pthread_mutex_init(&ctl_mu, NULL);
	pthread_mutex_init(&table_mu, NULL);
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *p;

	RESOLVE(send); RESOLVE(recv); RESOLVE(socket); RESOLVE(bind); RESOLVE(listen);
	RESOLVE(accept); RESOLVE(accept4); RESOLVE(connect); RESOLVE(close); RESOLVE(shutdown);
	RESOLVE(read); RESOLVE(write); RESOLVE(readv); RESOLVE(writev); RESOLVE(sendto);
	RESOLVE(recvfrom); RESOLVE(sendmsg); RESOLVE(recvmsg); RESOLVE(poll); RESOLVE(select);
	RESOLVE(fcntl); RESOLVE(ioctl); RESOLVE(setsockopt); RESOLVE(getsockopt);
	RESOLVE(getsockname); RESOLVE(getpeername); RESOLVE(dup2); RESOLVE(dup3);
	RESOLVE(sendfile); RESOLVE(splice); RESOLVE(copy_file_range);
	stack_socket = getenv(US_ENV_SOCKET);
	if (stack_socket && !*stack_socket)
		stack_socket = NULL;
	p = getenv(US_ENV_PATH);
	if (p && !strcmp(p, "shm"))
		default_path = US_DATA_SHM;
	pthread_atfork(NULL, NULL, after_fork_child);
}

/* --- the control connection ------------------------------------------------------ */

static int ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(stack_socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, stack_socket);
	fd = real_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (real_connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		real_close(fd);
		return r;
	}
	/*
	 * Out of the way of the numbers programs pick themselves (bash's
	 * `exec 3<>` saves and overwrites fd 3): a high number, and close/dup2
	 * onto it make the shim forget it rather than talk to the wrong fd.
	 */
	int high = real_fcntl(fd, F_DUPFD_CLOEXEC, CTL_FD_FLOOR);

	if (high >= 0) {
		real_close(fd);
		fd = high;
	}
	return fd;
}

/* Sends q, with fd pass_fd attached when it is not -1. */
static ssize_t ctl_send_req(const struct us_req *q, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)q, sizeof(*q) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return real_sendmsg(ctl_fd, &msg, MSG_NOSIGNAL);
}

/*
 * The descriptors that came with a reply or an accept record, up to max
 * of them (the rest closed).  -EMFILE when the kernel could not install
 * them all (MSG_CTRUNC: this process is at its descriptor limit); then
 * none is kept.
 */
static int take_fds(struct msghdr *msg, int *fds, int max)
{
	int n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n < max)
				fds[n++] = fd;
			else
				real_close(fd);
		}
	}
	if (msg->msg_flags & MSG_CTRUNC) {
		for (int i = 0; i < n; i++)
			real_close(fds[i]);
		return -EMFILE;
	}
	return n;
}

/*
 * One request, one reply (with up to two fds); pass_fd (or -1) goes with
 * the request.  -ECONNRESET when stackd is gone: to the program, its
 * connection is.  -EMFILE when the reply's fds could not all be received.
 */
static int ctl_call(const struct us_req *q, int pass_fd, struct us_rep *rep, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	int got[2], n;
	ssize_t r;

	if (nfds)
		*nfds = 0;
	pthread_mutex_lock(&ctl_mu);
	if (ctl_fd < 0 && (ctl_fd = ctl_connect()) < 0) {
		n = ctl_fd == -ENOENT || ctl_fd == -ECONNREFUSED ? -ECONNRESET : ctl_fd;
		ctl_fd = -1;
		goto out;
	}
	/* A refused connection is closed with its EACCES already queued: read it even when the send failed. */
	(void)ctl_send_req(q, pass_fd);
	do
		r = real_recvmsg(ctl_fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(*rep)) {
		n = -ECONNRESET;
		goto drop;
	}
	if ((n = take_fds(&msg, got, 2)) < 0)
		goto out;
	for (int i = 0; i < n; i++)
		if (fds && nfds)
			fds[(*nfds)++] = got[i];
		else
			real_close(got[i]);
	n = 0;
	goto out;
drop:
	real_close(ctl_fd);
	ctl_fd = -1;
out:
	pthread_mutex_unlock(&ctl_mu);
	return n;
}

static int attach(int fd);

/*
 * A request about socket fd (entry e).  EPERM: this control connection did
 * not make it (a forked child's, a new connection after stackd's reply was
 * not read): prove it holds the fd (US_LOOKUP), then ask once more.
 */
static int simple_call(uint32_t op, const struct sfd *e, int fd, struct us_req *q, struct us_rep *rep)
{
	struct us_req again = *q;
	int r;

	q->op = op;
	q->id = e->id;
	if ((r = ctl_call(q, -1, rep, NULL, NULL)) < 0)
		return r;
	if (rep->err != -EPERM || attach(fd) < 0)
		return rep->err;
	again.op = op;
	again.id = e->id;
	if ((r = ctl_call(&again, -1, rep, NULL, NULL)) < 0)
		return r;
	return rep->err;
}

/* --- the fd table ----------------------------------------------------------------- */

static void sfd_forget(int fd)
{
	struct sfd *e;

	if (fd < 0 || fd >= MAX_FDS)
		return;
	pthread_mutex_lock(&table_mu);
	e = table[fd];
	table[fd] = NULL;
	pthread_mutex_unlock(&table_mu);
	if (e && e->shm)
		munmap(e->shm, SHM_MAP_SIZE);
	free(e);
}

/* NULL with errno set when it cannot be: an shm socket without its memfd is never installed. */
static struct sfd *sfd_install(int fd, uint32_t id, uint64_t ino, int path, int memfd, bool listening)
{
	struct sfd *e;

	if (path == US_DATA_SHM && memfd < 0 && !listening) {
		errno = EPROTO;
		return NULL;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		if (memfd >= 0)
			real_close(memfd);
		errno = ENOMEM;
		return NULL;
	}
	e->state = FD_OURS;
	e->id = id;
	e->ino = ino;
	e->data_path = path;
	e->listening = listening;
	if (memfd >= 0) {
		void *m = mmap(NULL, SHM_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);

		int err = errno;

		real_close(memfd);
		if (m == MAP_FAILED) {
			free(e);
			errno = err;
			return NULL;
		}
		e->shm = m;
	}
	e->nonblock = (real_fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
	sfd_forget(fd);
	pthread_mutex_lock(&table_mu);
	table[fd] = e;
	pthread_mutex_unlock(&table_mu);
	return e;
}

/*
 * An shm socket of stackd's whose ring this process could not receive (at
 * its descriptor limit): private rings that say "reset", so poll reports an
 * error and every transfer fails with err, never touching missing memory.
 */
static struct sfd *sfd_install_dead(int fd, const struct us_rep *rep, int err)
{
	struct sfd *e = calloc(1, sizeof(*e));
	void *m = MAP_FAILED;

	if (e)
		m = mmap(NULL, SHM_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		free(e);
		return NULL;
	}
	e->state = FD_OURS;
	e->id = rep->id;
	e->data_path = US_DATA_SHM;
	e->shm = m;
	e->dead = err;
	atomic_store(&e->shm->rx.state, SHM_RESET);
	atomic_store(&e->shm->tx.state, SHM_RESET);
	sfd_forget(fd);
	pthread_mutex_lock(&table_mu);
	table[fd] = e;
	pthread_mutex_unlock(&table_mu);
	return e;
}

/* Makes this control connection a holder of socket fd (stackd's EPERM otherwise): the fd itself is the proof. */
static int attach(int fd)
{
	struct us_req q = { .op = US_LOOKUP };
	struct us_rep rep;
	int fds[2], n = 0, r;

	r = ctl_call(&q, fd, &rep, fds, &n);
	for (int i = 0; i < n; i++)
		real_close(fds[i]);	/* the ring is mapped already */
	return r < 0 ? r : rep.err;
}

/* Is fd a socket of stackd's?  Asked once per fd; the answer is kept until close. */
static struct sfd *sfd_get(int fd)
{
	struct sfd *e;
	struct stat st;
	int dom = 0, saved = errno;
	socklen_t dl = sizeof(dom);

	if (fd < 0 || fd >= MAX_FDS || !stack_socket)
		return NULL;
	e = table[fd];
	if (e)
		return e->state == FD_OURS ? e : NULL;
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == 0 && dom == AF_UNIX) {
		struct us_req q = { .op = US_LOOKUP, .ino = st.st_ino };
		struct us_rep rep;
		int fds[2], n = 0, r;

		r = ctl_call(&q, fd, &rep, fds, &n);
		if (r == -EMFILE || (r == 0 && rep.err == 0 && rep.data_path == US_DATA_SHM && !rep.val && !n)) {
			/* stackd's socket, but its ring could not be received here: known, and failing. */
			e = sfd_install_dead(fd, &rep, EMFILE);
			errno = saved;
			return e;
		}
		if (r == 0 && rep.err == 0) {
			e = sfd_install(fd, rep.id, st.st_ino, (int)rep.data_path, n ? fds[0] : -1, rep.val != 0);
			errno = saved;
			return e;
		}
		for (int i = 0; i < n; i++)
			real_close(fds[i]);
	}
	if ((e = calloc(1, sizeof(*e)))) {
		e->state = FD_NOT_OURS;
		pthread_mutex_lock(&table_mu);
		if (!table[fd])
			table[fd] = e;
		else
			free(e);
		pthread_mutex_unlock(&table_mu);
	}
	errno = saved;
	return NULL;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* --- sockets ------------------------------------------------------------------------ */

EXPORT int socket(int domain, int type, int protocol)
{
	struct us_req q = { .op = US_SOCKET };
	struct us_rep rep;
	int fds[2], n = 0, r;

	if (!stack_socket || domain != AF_INET || (type & 0xf) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return real_socket(domain, type, protocol);
	q.a = default_path;
	if ((r = ctl_call(&q, -1, &rep, fds, &n)) < 0 || rep.err < 0) {
		for (int i = 0; i < n; i++)
			real_close(fds[i]);
		/* Never the kernel's TCP instead: a program under the shim reaches only stackd's network. */
		if (r == -EMFILE || r == -ENFILE)
			return fail(-r);	/* at the descriptor limit, as the kernel's socket() says */
		return fail(r < 0 ? ENETDOWN : -rep.err);
	}
	if (n < 1 || (default_path == US_DATA_SHM && n < 2)) {
		for (int i = 0; i < n; i++)
			real_close(fds[i]);
		return fail(EPROTO);
	}
	if (!(type & SOCK_CLOEXEC))
		real_fcntl(fds[0], F_SETFD, 0);
	if (type & SOCK_NONBLOCK)
		real_fcntl(fds[0], F_SETFL, real_fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	if (!sfd_install(fds[0], rep.id, rep.ino, (int)rep.data_path, n > 1 ? fds[1] : -1, false)) {
		int err = errno;

		real_close(fds[0]);
		return fail(err);
	}
	return fds[0];
}

static int sin_of(const struct sockaddr *a, socklen_t len, uint32_t *addr, uint16_t *port)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)a;

	if (!a || len < sizeof(*s))
		return -EINVAL;
	if (s->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*addr = s->sin_addr.s_addr;
	*port = ntohs(s->sin_port);
	return 0;
}

static void sin_fill(struct sockaddr *a, socklen_t *len, uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	s.sin_addr.s_addr = addr;
	if (a && len) {
		memcpy(a, &s, *len < sizeof(s) ? *len : sizeof(s));
		*len = sizeof(s);
	}
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sfd *e = sfd_get(fd);
	struct us_req q = { 0 };
	struct us_rep rep;
	int r;

	if (!e)
		return real_bind(fd, addr, len);
	if ((r = sin_of(addr, len, &q.addr, &q.port)) < 0)
		return fail(-r);
	r = simple_call(US_BIND, e, fd, &q, &rep);
	return r < 0 ? fail(-r) : 0;
}

EXPORT int listen(int fd, int backlog)
{
	struct sfd *e = sfd_get(fd);
	struct us_req q = { .a = backlog };
	struct us_rep rep;
	int r;

	if (!e)
		return real_listen(fd, backlog);
	if ((r = simple_call(US_LISTEN, e, fd, &q, &rep)) < 0)
		return fail(-r);
	e->listening = true;
	return 0;
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sfd *e = sfd_get(fd);
	struct us_accept_rec rec;
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { &rec, sizeof(rec) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	int fds[2] = { -1, -1 }, n = 0;
	ssize_t got;

	if (!e)
		return real_accept4(fd, addr, len, flags);
	if (!e->listening)
		return fail(EINVAL);
	got = real_recvmsg(fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (got < 0)
		return -1;	/* EAGAIN on a nonblocking listener, EINTR, ... */
	/*
	 * At the descriptor limit the kernel drops what it cannot install: this
	 * connection is lost (closing what did arrive makes stackd reset it),
	 * and the program hears EMFILE, as from the kernel's accept.
	 */
	if ((n = take_fds(&msg, fds, 2)) < 0)
		return fail(EMFILE);
	if (got != (ssize_t)sizeof(rec) || n < 1 || (rec.data_path == US_DATA_SHM && n < 2)) {
		for (int i = 0; i < n; i++)
			real_close(fds[i]);
		return fail(got == 0 ? ECONNABORTED : EPROTO);	/* 0: stackd is gone */
	}
	if (!(flags & SOCK_CLOEXEC))
		real_fcntl(fds[0], F_SETFD, 0);
	if (flags & SOCK_NONBLOCK)
		real_fcntl(fds[0], F_SETFL, real_fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	if (!sfd_install(fds[0], rec.id, rec.ino, (int)rec.data_path, n > 1 ? fds[1] : -1, false)) {
		int err = errno;

		real_close(fds[0]);
		return fail(err);
	}
	sin_fill(addr, len, rec.raddr, rec.rport);
	return fds[0];
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sfd *e = sfd_get(fd);
	struct us_req q = { 0 };
	struct us_rep rep;
	int r;

	if (!e)
		return real_connect(fd, addr, len);
	if ((r = sin_of(addr, len, &q.addr, &q.port)) < 0)
		return fail(-r);
	r = simple_call(US_CONNECT, e, fd, &q, &rep);
	return r < 0 ? fail(-r) : 0;
}

/* The program is about to close or overwrite fd number fd: if it is the control connection, let go of it. */
static void ctl_yield(int fd)
{
	if (fd >= 0 && fd == ctl_fd) {
		pthread_mutex_lock(&ctl_mu);
		if (fd == ctl_fd)
			ctl_fd = -1;
		pthread_mutex_unlock(&ctl_mu);
	}
}

EXPORT int close(int fd)
{
	ctl_yield(fd);
	if (fd >= 0 && fd < MAX_FDS && table[fd])
		sfd_forget(fd);
	return real_close(fd);
}

EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd != newfd) {
		ctl_yield(newfd);
		sfd_forget(newfd);
	}
	return real_dup2(oldfd, newfd);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	ctl_yield(newfd);
	sfd_forget(newfd);
	return real_dup3(oldfd, newfd, flags);
}

EXPORT int shutdown(int fd, int how)
{
	struct sfd *e = sfd_get(fd);

	if (!e || e->data_path != US_DATA_SHM)
		return real_shutdown(fd, how);	/* ipc: stackd reads the EOF after the data */
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return fail(EINVAL);
	if (how != SHUT_WR)
		e->rd_shut = true;
	if (how != SHUT_RD && !e->wr_shut) {
		e->wr_shut = true;
		shm_ring_close(&e->shm->tx, fd);
	}
	return 0;
}

/* --- ipc path: an EOF from the pair is a FIN or a reset; stackd knows which -------------- */

static ssize_t ipc_eof(struct sfd *e, int fd)
{
	struct us_req q = { 0 };
	struct us_rep rep;
	int r = simple_call(US_STATUS, e, fd, &q, &rep);

	if (r < 0)
		return fail(r == -ECONNRESET || r == -EBADF ? ECONNRESET : -r);
	return 0;
}

/* --- shm path ---------------------------------------------------------------------------- */

/*
 * Sleeps until a doorbell (or WAIT_SLICE_MS), then reads the doorbells
 * away.  -1 when stackd closed its end: the socket is finished or stackd died.
 */
static int shm_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char junk[256];
	ssize_t n;

	if (real_poll(&p, 1, ms) <= 0)
		return 0;
	n = real_recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n == 0)
		return -1;
	while (n == (ssize_t)sizeof(junk))
		n = real_recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	return 0;
}

static ssize_t shm_recv(struct sfd *e, int fd, void *buf, size_t len, int flags)
{
	struct shm_ring *r = &e->shm->rx;
	bool nb = e->nonblock || (flags & MSG_DONTWAIT);
	size_t done = 0;

	if (e->dead)
		return fail(e->dead);
	if (e->rd_shut || !len)
		return 0;
	for (;;) {
		size_t got = shm_ring_get(r, (char *)buf + done, len - done, flags & MSG_PEEK);

		if (got) {
			if (!(flags & MSG_PEEK))
				shm_ring_wake(r, fd, SHM_WAITER_STACK);
			done += got;
			if (!(flags & MSG_WAITALL) || done == len || (flags & MSG_PEEK))
				return (ssize_t)done;
			continue;
		}
		if (atomic_load(&r->state) == SHM_RESET)
			return done ? (ssize_t)done : fail(ECONNRESET);
		if (atomic_load(&r->state) == SHM_CLOSED) {
			if (shm_ring_used(r))
				continue;
			return (ssize_t)done;
		}
		shm_ring_arm(r, SHM_WAITER_APP);
		if (shm_ring_used(r) || shm_ring_closed(r))
			continue;
		if (nb)
			return done ? (ssize_t)done : fail(EAGAIN);
		if (shm_wait(fd, WAIT_SLICE_MS) < 0 && !shm_ring_used(r) && !shm_ring_closed(r))
			return done ? (ssize_t)done : fail(ECONNRESET);	/* stackd died */
	}
}

static ssize_t shm_send(struct sfd *e, int fd, const void *buf, size_t len, int flags)
{
	struct shm_ring *t = &e->shm->tx;
	bool nb = e->nonblock || (flags & MSG_DONTWAIT);
	size_t done = 0;

	if (e->dead)
		return fail(e->dead);
	if (e->wr_shut) {
		if (!(flags & MSG_NOSIGNAL))
			raise(SIGPIPE);
		return fail(EPIPE);
	}
	while (done < len) {
		size_t put;

		if (atomic_load(&t->state) == SHM_RESET)
			return done ? (ssize_t)done : fail(ECONNRESET);
		if ((put = shm_ring_put(t, (const char *)buf + done, len - done))) {
			done += put;
			shm_ring_wake(t, fd, SHM_WAITER_STACK);
			continue;
		}
		if (nb)
			break;
		shm_ring_arm(t, SHM_WAITER_APP);
		if (shm_ring_room(t))
			continue;
		if (shm_wait(fd, WAIT_SLICE_MS) < 0 && !shm_ring_room(t)) {
			if (done)
				break;
			if (!(flags & MSG_NOSIGNAL))
				raise(SIGPIPE);
			return fail(EPIPE);	/* stackd died */
		}
	}
	if (!done && len)
		return fail(EAGAIN);
	return (ssize_t)done;
}

/* --- the read and write families ----------------------------------------------------------- */

static ssize_t do_recv(struct sfd *e, int fd, void *buf, size_t len, int flags)
{
	ssize_t n;

	if (e->data_path == US_DATA_SHM)
		return shm_recv(e, fd, buf, len, flags);
	n = real_recv(fd, buf, len, flags);
	if (n == 0 && len)
		return ipc_eof(e, fd);
	if (n < 0 && errno == ECONNRESET)
		return fail(ECONNRESET);
	return n;
}

static ssize_t do_send(struct sfd *e, int fd, const void *buf, size_t len, int flags)
{
	if (e->data_path == US_DATA_SHM)
		return shm_send(e, fd, buf, len, flags);
	return real_send(fd, buf, len, flags);
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct sfd *e = sfd_get(fd);

	return e ? do_recv(e, fd, buf, len, 0) : real_read(fd, buf, len);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct sfd *e = sfd_get(fd);

	return e ? do_recv(e, fd, buf, len, flags) : real_recv(fd, buf, len, flags);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

static void peer_name(struct sfd *e, int fd, struct sockaddr *addr, socklen_t *alen)
{
	struct us_req q = { 0 };
	struct us_rep rep;

	if (addr && alen && simple_call(US_NAME, e, fd, &q, &rep) == 0)
		sin_fill(addr, alen, rep.raddr, rep.rport);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen)
{
	struct sfd *e = sfd_get(fd);
	ssize_t n;

	if (!e)
		return real_recvfrom(fd, buf, len, flags, addr, alen);
	n = do_recv(e, fd, buf, len, flags);
	if (n >= 0)
		peer_name(e, fd, addr, alen);
	return n;
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *addr,
			      socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct sfd *e = sfd_get(fd);

	return e ? do_send(e, fd, buf, len, 0) : real_write(fd, buf, len);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct sfd *e = sfd_get(fd);

	return e ? do_send(e, fd, buf, len, flags) : real_send(fd, buf, len, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen)
{
	struct sfd *e = sfd_get(fd);

	/* A connected stream socket ignores the address, as the kernel's TCP does. */
	return e ? do_send(e, fd, buf, len, flags) : real_sendto(fd, buf, len, flags, addr, alen);
}

/* The vector calls on the shm path: element by element, stopping at a short one. */
static ssize_t shm_vec(struct sfd *e, int fd, const struct iovec *iov, int n, int flags, bool out)
{
	ssize_t total = 0;

	for (int i = 0; i < n; i++) {
		ssize_t r;

		if (!iov[i].iov_len)
			continue;
		r = out ? shm_send(e, fd, iov[i].iov_base, iov[i].iov_len, flags | (total ? MSG_DONTWAIT : 0))
			: shm_recv(e, fd, iov[i].iov_base, iov[i].iov_len, flags | (total ? MSG_DONTWAIT : 0));
		if (r < 0)
			return total ? total : -1;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	struct sfd *e = sfd_get(fd);
	ssize_t r;

	if (!e)
		return real_readv(fd, iov, n);
	if (e->data_path == US_DATA_SHM)
		return shm_vec(e, fd, iov, n, 0, false);
	r = real_readv(fd, iov, n);
	size_t want = 0;

	for (int i = 0; i < n; i++)
		want += iov[i].iov_len;
	return r == 0 && want ? ipc_eof(e, fd) : r;
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	struct sfd *e = sfd_get(fd);

	if (!e)
		return real_writev(fd, iov, n);
	if (e->data_path == US_DATA_SHM)
		return shm_vec(e, fd, iov, n, 0, true);
	return real_writev(fd, iov, n);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sfd *e = sfd_get(fd);
	struct msghdr m;

	if (!e)
		return real_sendmsg(fd, msg, flags);
	if (e->data_path == US_DATA_SHM)
		return shm_vec(e, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, true);
	m = *msg;
	m.msg_name = NULL;
	m.msg_namelen = 0;
	m.msg_control = NULL;	/* ancillary data has no meaning for a TCP stream here */
	m.msg_controllen = 0;
	return real_sendmsg(fd, &m, flags);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sfd *e = sfd_get(fd);
	ssize_t r;
	struct msghdr m;

	if (!e)
		return real_recvmsg(fd, msg, flags);
	if (msg->msg_name)
		peer_name(e, fd, msg->msg_name, &msg->msg_namelen);
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	if (e->data_path == US_DATA_SHM)
		return shm_vec(e, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, false);
	m = *msg;
	m.msg_name = NULL;
	m.msg_namelen = 0;
	r = real_recvmsg(fd, &m, flags);
	size_t want = 0;

	for (size_t i = 0; i < msg->msg_iovlen; i++)
		want += msg->msg_iov[i].iov_len;
	return r == 0 && want ? ipc_eof(e, fd) : r;
}

/*
 * The in-kernel movers.  On the ipc path the fd is a real socket and they
 * work as they are (the kernel moves the bytes into the pair).  On the shm
 * path the pair carries doorbells, not data: sendfile is done as read +
 * ring write here, and splice/copy_file_range say EINVAL, which callers
 * such as cat take as "fall back to read/write".
 */
static bool shm_fd(int fd)
{
	struct sfd *e = sfd_get(fd);

	return e && e->data_path == US_DATA_SHM;
}

EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	char buf[65536];
	ssize_t n, w;
	struct sfd *e;

	if (!shm_fd(out) && !shm_fd(in))
		return real_sendfile(out, in, off, count);
	if (!(e = sfd_get(out)) || e->data_path != US_DATA_SHM || shm_fd(in))
		return fail(EINVAL);
	if (count > sizeof(buf))
		count = sizeof(buf);
	n = off ? pread(in, buf, count, *off) : real_read(in, buf, count);
	if (n <= 0)
		return n;
	w = shm_send(e, out, buf, (size_t)n, 0);
	if (w > 0 && off)
		*off += w;
	else if (w > 0 && w < n)
		lseek(in, w - n, SEEK_CUR);
	return w;
}

EXPORT ssize_t splice(int in, loff_t *ioff, int out, loff_t *ooff, size_t len, unsigned int flags)
{
	if (shm_fd(in) || shm_fd(out))
		return fail(EINVAL);
	return real_splice(in, ioff, out, ooff, len, flags);
}

EXPORT ssize_t copy_file_range(int in, loff_t *ioff, int out, loff_t *ooff, size_t len, unsigned int flags)
{
	if (shm_fd(in) || shm_fd(out))
		return fail(EINVAL);
	return real_copy_file_range(in, ioff, out, ooff, len, flags);
}

/* --- readiness ---------------------------------------------------------------------------------- */

/* What the rings of an shm socket say; arms the waits for what is not ready yet. */
static short shm_ready(struct sfd *e, short want, bool arm)
{
	short got = 0;
	struct shm_ring *rx = &e->shm->rx, *tx = &e->shm->tx;

	if (e->listening)
		return 0;	/* a listener's readiness is its fd's */
	if (shm_ring_used(rx) || shm_ring_closed(rx) || e->rd_shut)
		got |= POLLIN;
	if (atomic_load(&rx->state) == SHM_RESET)
		got |= POLLERR | POLLHUP;
	if (shm_ring_room(tx) || shm_ring_closed(tx))
		got |= POLLOUT;
	if (arm) {
		if (want & POLLIN && !(got & POLLIN))
			shm_ring_arm(rx, SHM_WAITER_APP);
		if (want & POLLOUT && !(got & POLLOUT))
			shm_ring_arm(tx, SHM_WAITER_APP);
	}
	return got & (want | POLLERR | POLLHUP);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool any_shm(struct pollfd *p, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++) {
		struct sfd *e = sfd_get(p[i].fd);

		if (e && e->data_path == US_DATA_SHM && !e->listening)
			return true;
	}
	return false;
}

/* poll over a set with shm sockets: rings first, then the fds (doorbells, hang-ups, the rest). */
static int shm_poll(struct pollfd *p, nfds_t n, int timeout)
{
	struct pollfd stack_fds[64], *tmp = n <= 64 ? stack_fds : calloc(n, sizeof(*tmp));
	long end = timeout < 0 ? -1 : now_ms() + timeout;
	int count;

	if (!tmp)
		return fail(ENOMEM);
	for (;;) {
		bool ring_ready = false;
		int slice, r;

		count = 0;
		for (nfds_t i = 0; i < n; i++) {
			struct sfd *e = sfd_get(p[i].fd);

			tmp[i] = p[i];
			tmp[i].revents = 0;
			if (e && e->data_path == US_DATA_SHM && !e->listening) {
				if (shm_ready(e, p[i].events, true))
					ring_ready = true;
				tmp[i].events = POLLIN;
			}
		}
		slice = ring_ready ? 0 : WAIT_SLICE_MS;
		if (!ring_ready && end >= 0) {
			long left = end - now_ms();

			slice = left < 0 ? 0 : left < slice ? (int)left : slice;
		}
		r = real_poll(tmp, n, slice);
		if (r < 0) {
			if (tmp != stack_fds)
				free(tmp);
			return -1;
		}
		for (nfds_t i = 0; i < n; i++) {
			struct sfd *e = sfd_get(p[i].fd);

			if (e && e->data_path == US_DATA_SHM && !e->listening) {
				short hup = tmp[i].revents & (POLLHUP | POLLERR);

				if (tmp[i].revents & POLLIN)
					shm_ring_drain_doorbells(p[i].fd);
				p[i].revents = shm_ready(e, p[i].events, false);
				if (hup && !p[i].revents)
					p[i].revents = POLLHUP | (p[i].events & POLLIN);	/* stackd is gone */
			} else {
				p[i].revents = tmp[i].revents;
			}
			if (p[i].revents)
				count++;
		}
		if (count || (end >= 0 && now_ms() >= end))
			break;
	}
	if (tmp != stack_fds)
		free(tmp);
	return count;
}

EXPORT int poll(struct pollfd *p, nfds_t n, int timeout)
{
	if (!stack_socket || !any_shm(p, n))
		return real_poll(p, n, timeout);
	return shm_poll(p, n, timeout);
}

EXPORT int __poll_chk(struct pollfd *p, nfds_t n, int timeout, size_t len)
{
	if (n * sizeof(*p) > len)
		abort();
	return poll(p, n, timeout);
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	struct pollfd p[FD_SETSIZE];
	nfds_t n = 0;
	bool shm = false;
	int r, timeout;

	if (!stack_socket || nfds > FD_SETSIZE)
		return real_select(nfds, rd, wr, ex, tv);
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (rd && FD_ISSET(fd, rd) ? POLLIN : 0) | (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
			   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0);
		struct sfd *e;

		if (!ev)
			continue;
		e = sfd_get(fd);
		if (e && e->data_path == US_DATA_SHM && !e->listening)
			shm = true;
		p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	if (!shm)
		return real_select(nfds, rd, wr, ex, tv);
	timeout = tv ? (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000) : -1;
	r = shm_poll(p, n, timeout);
	if (r < 0)
		return -1;
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	r = 0;
	for (nfds_t i = 0; i < n; i++) {
		if (rd && p[i].revents & (POLLIN | POLLHUP | POLLERR) && p[i].events & POLLIN) {
			FD_SET(p[i].fd, rd);
			r++;
		}
		if (wr && p[i].revents & (POLLOUT | POLLERR) && p[i].events & POLLOUT) {
			FD_SET(p[i].fd, wr);
			r++;
		}
		if (ex && p[i].revents & POLLPRI) {
			FD_SET(p[i].fd, ex);
			r++;
		}
	}
	if (tv)
		tv->tv_sec = tv->tv_usec = 0;	/* (Linux leaves what remains; near enough) */
	return r;
}

/* --- fcntl, ioctl, options, names ------------------------------------------------------------------ */

static int fcntl_common(int fd, int cmd, long arg)
{
	int r = real_fcntl(fd, cmd, arg);
	struct sfd *e;

	if (r >= 0 && cmd == F_SETFL && (e = sfd_get(fd)))
		e->nonblock = (arg & O_NONBLOCK) != 0;
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		sfd_forget(r);	/* a new number: found again by its inode when used */
	return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	struct sfd *e;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if ((req == FIONBIO || req == FIONREAD) && (e = sfd_get(fd))) {
		if (req == FIONBIO && arg)
			e->nonblock = *(int *)arg != 0;
		if (req == FIONREAD && e->data_path == US_DATA_SHM && arg) {
			*(int *)arg = (int)shm_ring_used(&e->shm->rx);
			return 0;
		}
	}
	return real_ioctl(fd, req, arg);
}

static int opt_code(int level, int name)
{
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		return US_OPT_NODELAY;
	if (level == IPPROTO_TCP && name == TCP_MAXSEG)
		return US_OPT_MAXSEG;
	if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		return US_OPT_KEEPALIVE;
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		return US_OPT_REUSEADDR;
	return 0;
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct sfd *e = sfd_get(fd);
	struct us_req q = { 0 };
	struct us_rep rep;
	int code, r, v = 0;

	if (!e)
		return real_setsockopt(fd, level, name, val, len);
	if (val && len >= sizeof(int))
		memcpy(&v, val, sizeof(int));
	if ((code = opt_code(level, name)) && code != US_OPT_MAXSEG) {
		q.a = code;
		q.val = v;
		r = simple_call(US_SETOPT, e, fd, &q, &rep);
		return r < 0 ? fail(-r) : 0;
	}
	if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF || name == SO_RCVTIMEO ||
				    name == SO_SNDTIMEO))
		return real_setsockopt(fd, level, name, val, len);	/* the pair's own: they do apply */
	if ((level == SOL_SOCKET && (name == SO_LINGER || name == SO_REUSEPORT || name == SO_PRIORITY)) ||
	    (level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL || name == TCP_KEEPCNT ||
				      name == TCP_MAXSEG || name == TCP_QUICKACK)) ||
	    (level == IPPROTO_IP && name == IP_TOS))
		return 0;	/* accepted, without effect in lwIP here (docs/strategies/userstack.md) */
	return fail(ENOPROTOOPT);
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct sfd *e = sfd_get(fd);
	struct us_req q = { 0 };
	struct us_rep rep;
	int code, v, r;

	if (!e)
		return real_getsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF || name == SO_RCVTIMEO ||
				    name == SO_SNDTIMEO))
		return real_getsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_TYPE)
		v = SOCK_STREAM;
	else if (level == SOL_SOCKET && name == SO_DOMAIN)
		v = AF_INET;
	else if (level == SOL_SOCKET && name == SO_PROTOCOL)
		v = IPPROTO_TCP;
	else if (level == SOL_SOCKET && name == SO_ACCEPTCONN)
		v = e->listening;
	else if (level == SOL_SOCKET && name == SO_ERROR)
		v = 0;		/* connect() waited for its answer: no error is ever pending */
	else if ((code = opt_code(level, name))) {
		q.a = code;
		if ((r = simple_call(US_GETOPT, e, fd, &q, &rep)) < 0)
			return fail(-r);
		v = (int)rep.val;
	} else {
		return fail(ENOPROTOOPT);
	}
	if (!val || !len || *len < sizeof(int))
		return fail(EINVAL);
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

static int names(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sfd *e = sfd_get(fd);
	struct us_req q = { 0 };
	struct us_rep rep;
	int r;

	if (!e)
		return peer ? real_getpeername(fd, addr, len) : real_getsockname(fd, addr, len);
	if ((r = simple_call(US_NAME, e, fd, &q, &rep)) < 0)
		return fail(-r);
	if (peer && rep.val < 0)
		return fail(ENOTCONN);
	if (peer)
		sin_fill(addr, len, rep.raddr, rep.rport);
	else
		sin_fill(addr, len, rep.addr, rep.port);
	return 0;
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return names(fd, addr, len, false);
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return names(fd, addr, len, true);
}
