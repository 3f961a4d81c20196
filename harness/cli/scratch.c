/* SPDX-License-Identifier: MIT */
/* Scratch directories made with a marker, and swept only by proof (scratch.h). */
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER ".copylab-scratch"
#define MARKER_MAX 512
#define SWEEP_DEPTH 16		/* a scratch directory is flat; deeper is not ours */

/* What a marker says of the run that made the directory. */
struct run_id {
	char boot[64];		/* /proc/sys/kernel/random/boot_id */
	unsigned long long pidns;	/* inode of /proc/self/ns/pid */
	long pid;
	unsigned long long start;	/* field 22 of /proc/PID/stat: start time in ticks since boot */
};

static bool read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* The start time of pid, or 0 when it has none (gone, or not visible here). */
static unsigned long long start_of(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!read_small(path, buf, sizeof(buf)) || !(p = strrchr(buf, ')')))
		return 0;
	/* after "pid (comm)": state is field 3, starttime field 22 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

static bool this_run(struct run_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (!read_small("/proc/sys/kernel/random/boot_id", id->boot, sizeof(id->boot)) ||
	    stat("/proc/self/ns/pid", &st) < 0)
		return false;
	id->pidns = (unsigned long long)st.st_ino;
	id->pid = (long)getpid();
	id->start = start_of(id->pid);
	return id->start != 0;
}

static bool parse_marker(const char *text, struct run_id *id)
{
	memset(id, 0, sizeof(*id));
	return sscanf(text, "copylab-scratch 1\nboot %63s\npidns %llu\npid %ld\nstart %llu\n", id->boot,
		      &id->pidns, &id->pid, &id->start) == 4 && id->pid > 0;
}

int scratch_create(const char *base, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct run_id id;
	char marker[MARKER_MAX], mpath[4200];
	int fd, n;

	/* The pid in the name lets a reader see whose it is; the marker proves it. */
	snprintf(path, pathlen, "%s/copylab-%d-XXXXXX", base, (int)getpid());
	if (!mkdtemp(path)) {
		n = errno;
		snprintf(err, errlen, "cannot create a scratch directory in %s: %s", base, strerror(n));
		path[0] = '\0';
		return -n;
	}
	if (!this_run(&id)) {
		snprintf(err, errlen, "cannot tell this run apart (/proc/sys/kernel/random/boot_id, /proc/self/ns/pid)");
		rmdir(path);
		path[0] = '\0';
		return -ENOENT;
	}
	n = snprintf(marker, sizeof(marker), "copylab-scratch 1\nboot %s\npidns %llu\npid %ld\nstart %llu\n",
		     id.boot, id.pidns, id.pid, id.start);
	snprintf(mpath, sizeof(mpath), "%s/" MARKER, path);
	fd = open(mpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, marker, (size_t)n) != n) {
		n = errno;
		if (fd >= 0)
			close(fd);
		unlink(mpath);
		rmdir(path);
		snprintf(err, errlen, "cannot mark the scratch directory in %s: %s", base, strerror(n));
		path[0] = '\0';
		return -n;
	}
	close(fd);
	return 0;
}

void scratch_remove(const char *path)
{
	char mpath[4200];

	if (!path[0])
		return;
	snprintf(mpath, sizeof(mpath), "%s/" MARKER, path);
	unlink(mpath);
	rmdir(path);
}

/* The marker of dir (open, not followed), owned by us and regular: parsed into id. */
static bool read_marker(int dirfd, struct run_id *id)
{
	char text[MARKER_MAX];
	struct stat st;
	ssize_t n;
	int fd = openat(dirfd, MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size >= MARKER_MAX) {
		close(fd);
		return false;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	return parse_marker(text, id);
}

int scratch_is_dead_run(int basefd, const char *name, const char **why)
{
	struct run_id us, them;
	struct stat st;
	char tail[16];
	int pid, fd, dead;

	*why = "not copylab's name form (copylab-PID-XXXXXX)";
	if (sscanf(name, "copylab-%d-%15s", &pid, tail) != 2 || pid <= 0 || strlen(tail) != 6)
		return 0;
	*why = "not a directory of this user's";
	if (fstatat(basefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return 0;
	fd = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	*why = "no marker of copylab's, or one not ours";
	if (fd < 0 || !read_marker(fd, &them) || them.pid != pid) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	*why = "this process cannot tell who it is";
	if (!this_run(&us))
		return 0;
	if (strcmp(us.boot, them.boot) != 0) {
		*why = "made before this boot: its run is gone";
		return 1;
	}
	*why = "made in another pid namespace: its run may be alive there";
	if (us.pidns != them.pidns)
		return 0;
	dead = start_of(them.pid) != them.start;
	*why = dead ? "its run is gone" : "its run is alive";
	return dead;
}

/* Removes every entry under dirfd, then nothing more: symlinks are unlinked, never followed. */
static void remove_tree(int dirfd, int depth)
{
	DIR *d;
	struct dirent *e;
	int fd = dup(dirfd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < SWEEP_DEPTH &&
		    (sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			remove_tree(sub, depth + 1);
			close(sub);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		} else if (!S_ISDIR(st.st_mode)) {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

int scratch_sweep(const char *base, bool dry, FILE *report)
{
	int basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), removed = 0;
	struct dirent *e;
	DIR *d;

	if (basefd < 0)
		return 0;
	d = fdopendir(dup(basefd));
	while (d && (e = readdir(d))) {
		const char *why;
		int fd;

		if (scratch_is_dead_run(basefd, e->d_name, &why) != 1) {
			/* Only our name form is worth a line: the rest of base is not ours to mention. */
			if (report && !strncmp(e->d_name, "copylab-", 8) && strcmp(why, "not copylab's name form (copylab-PID-XXXXXX)"))
				fprintf(report, "kept scratch %s/%s: %s\n", base, e->d_name, why);
			continue;
		}
		if (dry) {
			if (report)
				fprintf(report, "would remove scratch %s/%s (%s)\n", base, e->d_name, why);
			removed++;
			continue;
		}
		fd = openat(basefd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		remove_tree(fd, 0);
		close(fd);
		if (unlinkat(basefd, e->d_name, AT_REMOVEDIR) == 0) {
			removed++;
			if (report)
				fprintf(report, "removed scratch %s/%s (%s)\n", base, e->d_name, why);
		}
	}
	if (d)
		closedir(d);
	close(basefd);
	return removed;
}

/* ---- where scratch was made: the bases `copylab cleanup` visits ------------- */

/*
 * The registry of bases: root's in /var/lib/copylab (it outlives a reboot,
 * as a --workdir on disk does), another user's under their state
 * directory.  Only this euid's file is read, and only a bounded one.
 */
#define BASES_MAX_BYTES (64 * 1024)

static bool bases_path(char *dir, size_t dlen, char *file, size_t flen)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		snprintf(dir, dlen, "/var/lib/copylab");
	else if (state && state[0] == '/')
		snprintf(dir, dlen, "%s/copylab", state);
	else if (home && home[0] == '/')
		snprintf(dir, dlen, "%s/.local/state/copylab", home);
	else
		return false;
	snprintf(file, flen, "%s/scratch-bases", dir);
	return true;
}

/* The registry's text, into a buffer of BASES_MAX_BYTES + 1; its length, or -1. */
static ssize_t bases_read(const char *file, char *text)
{
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size > BASES_MAX_BYTES) {
		close(fd);
		return -1;
	}
	n = read(fd, text, BASES_MAX_BYTES);
	close(fd);
	if (n < 0)
		return -1;
	text[n] = '\0';
	return n;
}

static bool bases_has(const char *text, const char *base)
{
	size_t len = strlen(base);

	for (const char *p = text; (p = strstr(p, base)); p += len)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return true;
	return false;
}

/* mkdir -p of the registry's directory, private to its user. */
static bool bases_dir(const char *dir)
{
	char part[PATH_MAX];

	for (const char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
		snprintf(part, sizeof(part), "%.*s", p ? (int)(p - dir) : (int)strlen(dir), dir);
		if (mkdir(part, 0755) < 0 && errno != EEXIST)
			return false;
		if (!p)
			return true;
	}
}

void scratch_note_base(const char *base)
{
	char dir[PATH_MAX], file[PATH_MAX + 32], real[PATH_MAX], *text;
	int fd;

	if (!realpath(base, real) || strchr(real, '\n') || !bases_path(dir, sizeof(dir), file, sizeof(file)) ||
	    !bases_dir(dir))
		return;
	fd = open(file, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	text = malloc(BASES_MAX_BYTES + 1);
	/* Runs started together add their bases one at a time. */
	if (text && flock(fd, LOCK_EX) == 0) {
		ssize_t n = bases_read(file, text);

		if (n >= 0 && !bases_has(text, real) && (size_t)n + strlen(real) + 1 <= BASES_MAX_BYTES)
			dprintf(fd, "%s\n", real);
	}
	free(text);
	close(fd);	/* and the lock with it */
}

/*
 * The registry without the bases that are gone (a test's temporary
 * directory): rewritten in place under the lock the runs take to add one.
 */
static void bases_prune(const char *file, char *text)
{
	int fd = open(file, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	char *save = NULL, *keep;
	size_t used = 0;

	if (fd < 0)
		return;
	keep = malloc(BASES_MAX_BYTES + 1);
	if (keep && flock(fd, LOCK_EX) == 0 && bases_read(file, text) >= 0) {
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			struct stat st;

			if (line[0] == '/' && stat(line, &st) == 0 && S_ISDIR(st.st_mode))
				used += (size_t)snprintf(keep + used, BASES_MAX_BYTES + 1 - used, "%s\n", line);
		}
		if (ftruncate(fd, 0) == 0 && used)
			(void)!pwrite(fd, keep, used, 0);
	}
	free(keep);
	close(fd);
}

int scratch_sweep_known(bool dry, FILE *report)
{
	char dir[PATH_MAX], file[PATH_MAX + 32], *text, *save = NULL;
	int removed = scratch_sweep("/var/tmp", dry, report);

	if (!bases_path(dir, sizeof(dir), file, sizeof(file)) || !(text = malloc(BASES_MAX_BYTES + 1)))
		return removed;
	if (bases_read(file, text) > 0)
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (line[0] == '/' && strcmp(line, "/var/tmp"))
				removed += scratch_sweep(line, dry, report);
	if (!dry)
		bases_prune(file, text);
	free(text);
	return removed;
}
