// SPDX-License-Identifier: MIT
/*
 * Transport userstack's plumbing: stackd started and stopped with the
 * invocation, pairs made through its control socket, and its own CPU and
 * syscalls read from /proc for the record's "stack" role.
 */
#include "userstack_link.h"
#include "netns.h"
#include "transport.h"
#include "userstack/proto.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
	pid_t pid, owner;
	char ns[64], sock[128];
	int ctl;
} us = { .ctl = -1 };

bool userstack_active(void)
{
	return us.pid > 0;
}

const char *userstack_netns(void)
{
	return us.pid > 0 ? us.ns : NULL;
}

void userstack_stop(void)
{
	if (us.pid <= 0 || us.owner != getpid())
		return;
	if (us.ctl >= 0)
		close(us.ctl);
	us.ctl = -1;
	kill(us.pid, SIGTERM);
	/* stackd removes its namespace and socket on SIGTERM; a few seconds at most. */
	for (int i = 0; i < 100; i++) {
		if (waitpid(us.pid, NULL, WNOHANG) == us.pid) {
			us.pid = 0;
			return;
		}
		usleep(50000);
	}
	kill(us.pid, SIGKILL);
	waitpid(us.pid, NULL, 0);
	us.pid = 0;
}

static void userstack_atexit(void)
{
	userstack_stop();
}

int userstack_start(char *err, size_t errlen)
{
	char exe[PATH_MAX], name[32];
	ssize_t n;
	pid_t pid;

	if (us.pid > 0)
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen, "transport userstack needs root (stackd makes a namespace and a TAP)");
		return -EPERM;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
		snprintf(err, errlen, "readlink /proc/self/exe: %s", strerror(errno));
		return -errno;
	}
	exe[n] = '\0';
	snprintf(name, sizeof(name), "r%d", (int)getpid());
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		execl(exe, exe, "stackd", "--netns", name, "--quiet", (char *)NULL);
		_exit(127);
	}
	us.pid = pid;
	us.owner = getpid();
	atexit(userstack_atexit);
	snprintf(us.ns, sizeof(us.ns), NETNS_PREFIX "%d-%s", (int)pid, name);
	snprintf(us.sock, sizeof(us.sock), US_SOCKET_DIR "/" NETNS_PREFIX "%d-%s.sock", (int)pid, name);
	for (int i = 0; i < 200; i++) {
		struct stat st;
		int status;

		if (stat(us.sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			us.pid = 0;
			snprintf(err, errlen, "copylab stackd exited (status %d) before it was ready; see its message above",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return -EIO;
		}
		usleep(50000);
	}
	snprintf(err, errlen, "copylab stackd made no socket %s within 10 s", us.sock);
	userstack_stop();
	return -ETIMEDOUT;
}

/* One control request and its reply; *fd gets a descriptor passed with it (or -1). */
static int ctl(struct us_req *q, struct us_rep *rep, int *fd, char *err, size_t errlen)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };

	if (fd)
		*fd = -1;
	if (us.ctl < 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		memcpy(sa.sun_path, us.sock, strlen(us.sock) < sizeof(sa.sun_path) ? strlen(us.sock) + 1 : 0);
		us.ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (us.ctl < 0 || connect(us.ctl, (struct sockaddr *)&sa, sizeof(sa))) {
			snprintf(err, errlen, "connect to stackd (%s): %s", us.sock, strerror(errno));
			if (us.ctl >= 0)
				close(us.ctl);
			us.ctl = -1;
			return -ECONNREFUSED;
		}
	}
	if (send(us.ctl, q, sizeof(*q), MSG_NOSIGNAL) != (ssize_t)sizeof(*q) ||
	    recvmsg(us.ctl, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(*rep)) {
		snprintf(err, errlen, "stackd's control socket: %s", errno ? strerror(errno) : "closed");
		close(us.ctl);
		us.ctl = -1;
		return -ECONNRESET;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (int i = 0; i < k; i++) {
				int got;

				memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (fd && *fd < 0)
					*fd = got;
				else
					close(got);
			}
		}
	return 0;
}

static int ctl_simple(uint32_t op, uint32_t id, struct us_req *q, struct us_rep *rep, const char *what,
		      char *err, size_t errlen)
{
	int r;

	q->op = op;
	q->id = id;
	if ((r = ctl(q, rep, NULL, err, errlen)))
		return r;
	if (rep->err) {
		snprintf(err, errlen, "stackd: %s: %s", what, strerror(-rep->err));
		return rep->err;
	}
	return 0;
}

/* A kernel TCP socket in stackd's namespace. */
static int kernel_socket(char *err, size_t errlen)
{
	int nsfd = netns_open(us.ns), saved, fd, r;

	if (nsfd < 0) {
		snprintf(err, errlen, "open namespace %s: %s", us.ns, strerror(-nsfd));
		return nsfd;
	}
	if ((r = netns_enter(nsfd, &saved))) {
		close(nsfd);
		snprintf(err, errlen, "setns into %s: %s", us.ns, strerror(-r));
		return r;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	netns_leave(saved);
	close(nsfd);
	if (r < 0)
		snprintf(err, errlen, "socket in %s: %s", us.ns, strerror(-r));
	return r;
}

int userstack_pair(const struct sockopts *o, bool lwip_up, int *up, int *down, char *err, size_t errlen)
{
	struct us_req q = { .op = US_SOCKET, .a = US_DATA_IPC };
	struct us_rep rep;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd, kfd = -1, sfd = -1, one = 1, r;
	uint32_t id;

	if ((r = userstack_start(err, errlen)))
		return r;
	if ((r = ctl(&q, &rep, &sfd, err, errlen)))
		return r;
	if (rep.err || sfd < 0) {
		snprintf(err, errlen, "stackd: socket: %s", strerror(rep.err ? -rep.err : EPROTO));
		return rep.err ? rep.err : -EPROTO;
	}
	id = rep.id;
	if ((kfd = kernel_socket(err, errlen)) < 0) {
		close(sfd);
		return kfd;
	}
	if (o->sndbuf)
		setsockopt(kfd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf));
	if (o->rcvbuf)
		setsockopt(kfd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf));
	if (lwip_up) {
		/* The kernel listens on its side of the TAP; lwIP connects. */
		inet_pton(AF_INET, US_KERNEL_ADDR, &a.sin_addr);
		if (bind(kfd, (struct sockaddr *)&a, sizeof(a)) || listen(kfd, 1) ||
		    getsockname(kfd, (struct sockaddr *)&a, &alen)) {
			snprintf(err, errlen, "bind/listen on %s in %s: %s", US_KERNEL_ADDR, us.ns, strerror(errno));
			r = -errno;
			goto fail;
		}
		q = (struct us_req){ .addr = a.sin_addr.s_addr, .port = ntohs(a.sin_port) };
		if ((r = ctl_simple(US_CONNECT, id, &q, &rep, "connect", err, errlen)))
			goto fail;
		lfd = kfd;
		kfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		close(lfd);
		if (kfd < 0) {
			snprintf(err, errlen, "accept4 in %s: %s", us.ns, strerror(errno));
			r = -errno;
			goto fail;
		}
		*up = sfd;
		*down = kfd;
	} else {
		/* lwIP listens; the kernel connects from its side of the TAP. */
		struct us_accept_rec rec;
		char cbuf[CMSG_SPACE(2 * sizeof(int))];
		struct iovec iov = { &rec, sizeof(rec) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int conn = -1;

		q = (struct us_req){ 0 };
		if ((r = ctl_simple(US_BIND, id, &q, &rep, "bind", err, errlen)))
			goto fail;
		q = (struct us_req){ .a = 1 };
		if ((r = ctl_simple(US_LISTEN, id, &q, &rep, "listen", err, errlen)))
			goto fail;
		q = (struct us_req){ 0 };
		if ((r = ctl_simple(US_NAME, id, &q, &rep, "getsockname", err, errlen)))
			goto fail;
		inet_pton(AF_INET, US_STACK_ADDR, &a.sin_addr);
		a.sin_port = htons(rep.port);
		if (connect(kfd, (struct sockaddr *)&a, sizeof(a))) {
			snprintf(err, errlen, "connect to lwIP %s:%u from %s: %s", US_STACK_ADDR, rep.port, us.ns,
				 strerror(errno));
			r = -errno;
			goto fail;
		}
		if (recvmsg(sfd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(rec)) {
			snprintf(err, errlen, "accept from stackd: %s", strerror(errno));
			r = -EPROTO;
			goto fail;
		}
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&conn, CMSG_DATA(c), sizeof(int));
		close(sfd);	/* the listener: done with */
		sfd = conn;
		if (sfd < 0) {
			snprintf(err, errlen, "accept from stackd: no descriptor came with the record");
			r = -EPROTO;
			goto fail;
		}
		id = rec.id;
		*up = kfd;
		*down = sfd;
	}
	if (o->nodelay) {
		setsockopt(kfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		q = (struct us_req){ .a = US_OPT_NODELAY, .val = 1 };
		ctl_simple(US_SETOPT, id, &q, &rep, "TCP_NODELAY", err, errlen);
	}
	return 0;
fail:
	if (sfd >= 0)
		close(sfd);
	if (kfd >= 0)
		close(kfd);
	return r;
}

int userstack_sample(struct userstack_sample *s)
{
	char path[64], buf[2048], *p;
	FILE *f;
	long tck = sysconf(_SC_CLK_TCK);
	unsigned long ut = 0, st = 0, minflt = 0;

	memset(s, 0, sizeof(*s));
	if (us.pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)us.pid);
	if (!(f = fopen(path, "r")))
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* Fields after the command name (which may hold spaces): state is field 3. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %*u %*u %lu %lu", &minflt, &ut, &st) != 3)
		return -EIO;
	s->user_s = (double)ut / tck;
	s->sys_s = (double)st / tck;
	s->minflt = (long)minflt;
	snprintf(path, sizeof(path), "/proc/%d/io", (int)us.pid);
	if ((f = fopen(path, "r"))) {
		char key[32];
		unsigned long long v;

		while (fscanf(f, "%31[^:]: %llu\n", key, &v) == 2) {
			if (!strcmp(key, "syscr")) s->syscr = v;
			else if (!strcmp(key, "syscw")) s->syscw = v;
			else if (!strcmp(key, "rchar")) s->rchar = v;
			else if (!strcmp(key, "wchar")) s->wchar = v;
		}
		fclose(f);
	}
	/* Context switches are per thread: stackd's are the sum over its threads (lwIP's, the TAP's, main). */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)us.pid);
	DIR *d = opendir(path);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		long v;

		if (e->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%s/status", (int)us.pid, e->d_name);
		if (!(f = fopen(buf, "r")))
			continue;
		while (fgets(buf, sizeof(buf), f)) {
			if (sscanf(buf, "voluntary_ctxt_switches: %ld", &v) == 1)
				s->vcsw += v;
			if (sscanf(buf, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
				s->ivcsw += v;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return 0;
}

void userstack_role(const struct userstack_sample *a, const struct userstack_sample *b, struct role_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "stack");
	r->under_test = false;
	r->cpu_user_s = b->user_s - a->user_s;
	r->cpu_sys_s = b->sys_s - a->sys_s;
	r->ctx_voluntary = b->vcsw - a->vcsw;
	r->ctx_involuntary = b->ivcsw - a->ivcsw;
	r->faults_minor = b->minflt - a->minflt;
	/* Its read- and write-family calls (TAP frames, the Unix pairs), from /proc/PID/io. */
	r->io.calls = (b->syscr - a->syscr) + (b->syscw - a->syscw);
	r->bytes = b->wchar - a->wchar;
	r->cpu_pinned = -1;
	r->cpu_last = -1;
}
