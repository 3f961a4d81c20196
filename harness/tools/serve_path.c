/* SPDX-License-Identifier: MIT */
/* Resolving a request's path beneath `copylab serve`'s root (see serve_path.h). */
#include "serve_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_openat2(int dirfd, const char *path, struct open_how *how)
{
#ifdef SYS_openat2
	return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int status_of(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG ? 404 : 403;
}

/* pathfd's object is st's: the name was not swapped between a look and an open. */
static bool same_file(int fd, const struct stat *st)
{
	struct stat now;

	return fstat(fd, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/*
 * What a resolved O_PATH descriptor becomes.  A directory stays O_PATH
 * (it is only a dirfd for its index.html); a regular file is opened for
 * reading by reopen(), and must be the same file; anything else (a FIFO,
 * a device, a socket) is refused without ever being opened for reading,
 * since such an open has effects of its own (a FIFO waits for a writer, a
 * tape rewinds).  Consumes pathfd.  fd or -status.
 */
static int finish_open(int pathfd, int (*reopen)(const void *arg), const void *arg)
{
	struct stat st;
	int fd;

	if (fstat(pathfd, &st) < 0) {
		close(pathfd);
		return -403;
	}
	if (S_ISDIR(st.st_mode))
		return pathfd;
	close(pathfd);
	if (!S_ISREG(st.st_mode))
		return -403;
	fd = reopen(arg);
	if (fd < 0)
		return -status_of(errno);
	if (!same_file(fd, &st)) {
		close(fd);
		return -403;
	}
	return fd;
}

/* O_NONBLOCK: were a regular file swapped for a FIFO under us, open() must not hang the loop. */
#define SERVE_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

struct beneath_name { int dirfd; const char *rel; };

static int reopen_openat2(const void *arg)
{
	const struct beneath_name *b = arg;
	struct open_how how = { .flags = SERVE_OPEN_FLAGS,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };

	return (int)sys_openat2(b->dirfd, b->rel, &how);
}

static int reopen_nofollow(const void *arg)
{
	const struct beneath_name *b = arg;

	return openat(b->dirfd, b->rel, SERVE_OPEN_FLAGS | O_NOFOLLOW);
}

#define WALK_MAX_LINKS	40	/* the kernel's own limit on links in one lookup */
#define WALK_MAX_DEPTH	64	/* directories held open at once */

/* The walk's state: the directories from dirfd down, and what is left to resolve. */
struct walk {
	int dirs[WALK_MAX_DEPTH];	/* dirs[0] is the caller's, never closed here */
	int depth;
	char todo[PATH_MAX];
	const char *p;
	int links;
};

/* Takes the next component of w->p into name (empty at the end).  false when too long. */
static bool walk_component(struct walk *w, char *name, size_t len)
{
	const char *end;

	while (*w->p == '/')
		w->p++;
	end = strchrnul(w->p, '/');
	if ((size_t)(end - w->p) >= len)
		return false;
	memcpy(name, w->p, (size_t)(end - w->p));
	name[end - w->p] = '\0';
	w->p = end;
	return true;
}

/* A symlink met on the way (linkfd, O_PATH): its target walked in its place.  0 or -status. */
static int walk_link(struct walk *w, int linkfd)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n = readlinkat(linkfd, "", target, sizeof(target) - 1);

	close(linkfd);
	if (++w->links > WALK_MAX_LINKS || n <= 0 || (size_t)n >= sizeof(target) - 1)
		return -403;	/* a loop, or a link too long to follow */
	target[n] = '\0';
	/* An absolute target leaves the root whatever it names (RESOLVE_BENEATH's EXDEV). */
	if (target[0] == '/')
		return -403;
	snprintf(rest, sizeof(rest), "%s", w->p);
	if (snprintf(w->todo, sizeof(w->todo), "%s%s%s", target, *rest ? "/" : "", rest) >=
	    (int)sizeof(w->todo))
		return -403;
	w->p = w->todo;
	return 0;
}

/*
 * Without openat2: rel resolved one component at a time beneath dirfd, as
 * RESOLVE_BENEATH does, so that what is checked is what is opened.  Each
 * component is opened O_PATH | O_NOFOLLOW beneath the directory before
 * it; a symlink's target is read (readlinkat) and walked in its place,
 * never an absolute one; ".." never goes above dirfd; more than
 * WALK_MAX_LINKS links is a loop.  fd (see finish_open), or -status.
 */
static int walk_beneath(int dirfd, const char *rel)
{
	struct walk w = { .dirs = { dirfd }, .depth = 0, .p = rel };
	char name[NAME_MAX + 1];
	int fd, ret;

	for (;;) {
		struct stat st;

		if (!walk_component(&w, name, sizeof(name))) {
			ret = -404;
			break;
		}
		if (!name[0] || !strcmp(name, ".")) {
			if (*w.p)
				continue;
			/* The end, on a directory: it is the answer (stays O_PATH). */
			ret = w.depth ? w.dirs[w.depth--] : openat(dirfd, ".", O_PATH | O_CLOEXEC);
			break;
		}
		if (!strcmp(name, "..")) {
			if (w.depth == 0) {
				ret = -403;	/* above the root */
				break;
			}
			close(w.dirs[w.depth--]);
			continue;
		}
		fd = openat(w.dirs[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			ret = -status_of(errno);
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			if ((ret = walk_link(&w, fd)) < 0)
				break;
			continue;
		}
		if (S_ISDIR(st.st_mode) && w.depth + 1 < WALK_MAX_DEPTH) {
			w.dirs[++w.depth] = fd;
			continue;
		}
		close(fd);
		while (*w.p == '/')
			w.p++;
		if (*w.p || S_ISDIR(st.st_mode)) {
			ret = S_ISDIR(st.st_mode) ? -403 : -404;	/* too deep; a file used as a directory */
			break;
		}
		/* The last component, not a link: reopened beneath its own directory, checked. */
		fd = openat(w.dirs[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		ret = fd < 0 ? -status_of(errno)
			     : finish_open(fd, reopen_nofollow,
					   &(struct beneath_name){ w.dirs[w.depth], name });
		break;
	}
	while (w.depth > 0)
		close(w.dirs[w.depth--]);
	return ret < 0 && ret != -404 && ret != -403 ? -403 : ret;
}

/*
 * Opens rel (no leading '/'; "." for the root) beneath dirfd, never
 * outside the root: symlinks may be followed only while they stay beneath
 * it.  openat2 (RESOLVE_BENEATH) where the kernel has it, else the walk.
 * fd (a regular file for reading, or a directory O_PATH), or -status (403, 404).
 */
static int open_beneath(struct serve_root *r, int dirfd, const char *rel)
{
	if (r->have_openat2) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC,
					.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
		int fd = (int)sys_openat2(dirfd, rel, &how);

		if (fd >= 0)
			return finish_open(fd, reopen_openat2, &(struct beneath_name){ dirfd, rel });
		if (errno != ENOSYS)
			return -status_of(errno);
		r->have_openat2 = false;
		ev_log(r->srv, "copylab serve: openat2: %s: resolving paths without openat2, "
				 "by a walk of openat(O_NOFOLLOW)", strerror(ENOSYS));
	}
	return walk_beneath(dirfd, rel);
}

/*
 * The file a path names: a regular file, or a directory's index.html.
 * fd with *st filled, or -status.
 */
int serve_open_target(struct serve_root *r, const char *path, struct stat *st)
{
	const char *rel = path;
	int fd, idx;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	fd = open_beneath(r, r->fd, rel);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0) {
		close(fd);
		return -403;
	}
	if (S_ISDIR(st->st_mode)) {
		idx = open_beneath(r, fd, "index.html");
		close(fd);
		if (idx < 0)
			return idx == -404 ? -403 : idx;	/* no listing of directories */
		fd = idx;
		if (fstat(fd, st) < 0) {
			close(fd);
			return -403;
		}
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -403;
	}
	/* O_NONBLOCK was for the open only; a regular file's reads ignore it, but be plain. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

