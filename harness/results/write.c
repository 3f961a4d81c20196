/* SPDX-License-Identifier: MIT */
/*
 * The run directory (results.jsonl, summary.csv, env.json; see
 * docs/results.md): the results handle, and every file written atomically.
 */
#include "write.h"
#include "harness/model/sbuf.h"
#include "summary.h"
#include "harness/model/base.h"
#include "harness/measure/env.h"
#include "bounded.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JSONL_NAME	"results.jsonl"
#define SUMMARY_NAME	"summary.csv"
#define ENV_NAME	"env.json"
#define LOCK_NAME	".copylab.lock"	/* who writes the directory: see lock_dir */

/*
 * 15 significant digits: more than any clock or counter here resolves, and
 * 0.1 stays "0.1" instead of "0.10000000000000001".
 */
#define REAL_PRECISION	JSON_REAL_PRECISION(15)

struct results {
	char *dir, *run_id;
	struct rep_result *reps;	/* counted repetitions, in the order added */
	size_t n, cap;
	struct sbuf jsonl;		/* results.jsonl exactly as last written */
	int lock_fd;			/* holds DIR's lock until results_close, or -1 */
	size_t records_cap;		/* the most results.jsonl may hold (results_set_records_cap) */
};

static int dir_path(const struct results *r, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", r->dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/*
 * The new content in an unnamed file (O_TMPFILE) of the target's directory,
 * written and synced, then named and renamed over the target: a process
 * killed while writing leaves nothing behind, and one killed between the
 * link and the rename (microseconds) leaves one hidden temporary at most.
 * Where O_TMPFILE is not supported, a named temporary is written instead.
 */
int write_file_atomic(const char *path, const char *text, size_t len)
{
	const char *slash = strrchr(path, '/');
	char tmp[PATH_MAX], dir[PATH_MAX], proc[64];
	int fd, n, err = 0;
	bool unnamed;

	/* Same directory as path: rename(2) is atomic only within one filesystem. */
	if (slash)
		n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.tmp.XXXXXX",
			     (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, sizeof(tmp), ".%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	/* O_CLOEXEC: role processes forked later must not inherit it. */
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	unnamed = fd >= 0;
	if (!unnamed)
		fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, len, NULL);
	/* mkstemp makes 0600; results are meant to be read by whoever studies them. */
	if (!err && fchmod(fd, 0644) != 0)
		err = -errno;
	/* Data on disk before the name points at it, or a crash could leave an empty file. */
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (!err && unnamed) {
		/* A name for the unnamed file: mktemp's is free, linkat fails if not. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		for (int tries = 0; tries < 8; tries++) {
			char try[PATH_MAX];

			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			memcpy(try, tmp, sizeof(try));
			/* The XXXXXX of the template: pid, attempt and clock, in hex. */
			snprintf(strstr(try, "XXXXXX"), 7, "%06x",
				 (unsigned)(getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^ (unsigned)tries) & 0xffffff);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, try, AT_SYMLINK_FOLLOW) == 0) {
				memcpy(tmp, try, sizeof(tmp));
				err = 0;
				break;
			}
			err = -errno;
			if (errno != EEXIST)
				break;
		}
	}
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err && !strstr(tmp, "XXXXXX"))
		unlink(tmp);
	return err;
}

/* mkdir -p: every missing component, 0755. */
int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return len ? -ENAMETOOLONG : -ENOENT;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	/* EEXIST is also what a plain file of that name gives. */
	if (stat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* ---- the run directory -------------------------------------------------- */

static json_t *env_extra;

void results_env_extra(const char *key, json_t *value)
{
	if (!env_extra)
		env_extra = json_object();
	json_object_set_new(env_extra, key, value ? value : json_null());
}

static int write_env(const struct results *r)
{
	char path[PATH_MAX];
	json_t *env = env_collect();
	char *text = NULL;
	int err = dir_path(r, ENV_NAME, path, sizeof(path));

	/* The run id ties env.json to the records of the same run. */
	if (!err && (!env || json_object_set_new(env, "run_id", json_string(r->run_id)) != 0))
		err = -ENOMEM;
	if (!err && env_extra && json_object_update(env, env_extra))
		err = -ENOMEM;
	if (!err) {
		text = json_dumps(env, JSON_INDENT(2) | REAL_PRECISION);
		err = text ? 0 : -ENOMEM;
	}
	if (!err) {
		struct sbuf sb = { 0 };

		sb_printf(&sb, "%s\n", text);
		err = sb_error(&sb);
		if (!err)
			err = write_file_atomic(path, sb.p, sb.len);
		free(sb.p);
	}
	free(text);
	json_decref(env);
	return err;
}

/* ---- one writer per directory ------------------------------------------- */

/* "pid N\ncommand ARGS\n": who holds the lock, for the message of a run refused. */
static void lock_note(int fd)
{
	char cmd[1024] = "", text[1200];
	int cfd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = cfd >= 0 ? read(cfd, cmd, sizeof(cmd) - 1) : -1;
	int len;

	if (cfd >= 0)
		close(cfd);
	for (ssize_t i = 0; i < n - 1; i++)
		if (cmd[i] == '\0' || cmd[i] == '\n')
			cmd[i] = ' ';
	cmd[n > 0 ? n : 0] = '\0';
	len = snprintf(text, sizeof(text), "pid %d\ncommand %s\n", (int)getpid(), cmd);
	if (len < 0 || (size_t)len >= sizeof(text))
		len = (int)strlen(text);
	/* Only informative (the kernel's lock decides), so a failed write is no failure. */
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, text, (size_t)len, 0);
}

/* The refusal: who holds it, from the kernel (pid) and the lock file (command). */
static int lock_refused(const struct results *r, int fd, pid_t holder, char *err, size_t errlen)
{
	char text[1200] = "", *cmd;
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	cmd = strstr(text, "command ");
	if (cmd) {
		cmd += 8;
		cmd[strcspn(cmd, "\n")] = '\0';
	}
	snprintf(err, errlen, "results: %s is in use by another run: pid %d (%.300s); wait for it to end "
		 "or give another --out", r->dir, (int)holder, cmd && *cmd ? cmd : "command unknown");
	return -EBUSY;
}

/*
 * DIR's lock: a POSIX record lock (fcntl F_SETLK) on DIR/.copylab.lock,
 * held until results_close.  A record lock belongs to the process: role
 * processes forked later do not hold it (a flock would be shared with
 * them and outlive this run in a straggling child), and the kernel drops
 * it when the run dies, so a lock file left by a killed run is stale text
 * only.  The file is removed before the lock is released; a run that
 * locked the removed file notices (another inode has the name now) and
 * tries again.  -EBUSY with err naming the holder when another run has it.
 */
static int lock_dir(struct results *r, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc = dir_path(r, LOCK_NAME, path, sizeof(path));

	for (int tries = 0; !rc && tries < 8; tries++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		struct stat held, named;
		/* O_NOFOLLOW: a symlink planted there must not make us truncate its target. */
		int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0) {
			rc = -errno;
			snprintf(err, errlen, "results: cannot open the lock file %s: %s", path, strerror(errno));
			return rc;
		}
		if (fcntl(fd, F_SETLK, &fl) != 0) {
			rc = -errno;
			if (rc == -EAGAIN || rc == -EACCES) {
				fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
				rc = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK
					? lock_refused(r, fd, fl.l_pid, err, errlen) : 0;	/* gone: again */
			} else {
				snprintf(err, errlen, "results: cannot lock %s: %s", path, strerror(-rc));
			}
			close(fd);
			continue;
		}
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
		    held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
			lock_note(fd);
			r->lock_fd = fd;
			return 0;
		}
		close(fd);	/* the file was removed by the run that held it: lock the new one */
	}
	if (!rc)
		snprintf(err, errlen, "results: cannot lock %s: it keeps being replaced", path);
	return rc ? rc : -EBUSY;
}

/* The lock file goes first, then the lock: see lock_dir. */
static void unlock_dir(struct results *r)
{
	char path[PATH_MAX];

	if (r->lock_fd < 0)
		return;
	if (dir_path(r, LOCK_NAME, path, sizeof(path)) == 0)
		unlink(path);
	close(r->lock_fd);
	r->lock_fd = -1;
}

void results_close(struct results *r)
{
	if (!r)
		return;
	unlock_dir(r);
	free(r->dir);
	free(r->run_id);
	free(r->reps);
	free(r->jsonl.p);
	free(r);
}

int results_create(const char *dir, const char *run_id, struct results **out, char *err, size_t errlen)
{
	struct results *r = calloc(1, sizeof(*r));
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if (r) {
		r->lock_fd = -1;
		r->records_cap = BOUNDED_CAP_RECORDS;
	}
	if (!r || !(r->dir = strdup(dir)) || !(r->run_id = strdup(run_id ? run_id : ""))) {
		snprintf(err, errlen, "results: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = mkdir_p(dir);
	if (rc) {
		snprintf(err, errlen, "results: cannot create directory %s: %s", dir, strerror(-rc));
		goto fail;
	}
	if ((rc = lock_dir(r, err, errlen)))
		goto fail;
	/*
	 * A directory holding another run's records would end up with this
	 * run's env.json beside them, then lose them at the first add.  Under
	 * the lock, so that no other run can write them in between.
	 */
	rc = dir_path(r, JSONL_NAME, path, sizeof(path));
	if (!rc && access(path, F_OK) == 0) {
		snprintf(err, errlen, "results: %s already holds the results of a run; "
			 "choose a new directory", dir);
		rc = -EEXIST;
		goto fail;
	}
	if (!rc)
		rc = write_env(r);
	if (rc) {
		snprintf(err, errlen, "results: cannot write %s/%s: %s", dir, ENV_NAME, strerror(-rc));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	results_close(r);
	return rc;
}

struct results *results_open(const char *dir, const char *run_id, char *err, size_t errlen)
{
	struct results *r;

	results_create(dir, run_id, &r, err, errlen);
	return r;
}

const char *results_dir(const struct results *r)
{
	return r->dir;
}

/* Terminates every string field, so the record and the summary agree. */
static void terminate_strings(struct rep_result *rep)
{
#define TERMINATE(a) ((a)[sizeof(a) - 1] = '\0')
	TERMINATE(rep->cell.strategy);
	TERMINATE(rep->cell.base);
	TERMINATE(rep->cell.transport);
	TERMINATE(rep->cell.cache);
	TERMINATE(rep->verify_note);
	TERMINATE(rep->error);
	TERMINATE(rep->role_absent);
	for (int i = 0; i < MAX_ROLES; i++)
		TERMINATE(rep->roles[i].name);
#undef TERMINATE
}

/* REP's record as one line of results.jsonl (malloc'd), or NULL without memory. */
static char *record_line(const struct rep_result *rep, const char *run_id, const char *omitted)
{
	json_t *rec = rep_to_json(rep, run_id);
	char *line = NULL;

	if (rec && (!omitted || !json_object_set_new(rec, "intervals_omitted", json_string(omitted))))
		line = json_dumps(rec, JSON_COMPACT | REAL_PRECISION);
	json_decref(rec);
	return line;
}

/*
 * The line of REP that keeps results.jsonl within what its readers take
 * (records_cap): whole, or, where its intervals would pass that,
 * without them (the record says so, and keeps the intervals' throughput).
 * NULL with *err: -ENOMEM, or -EFBIG when even that does not fit.
 */
static char *line_within_cap(const struct results *r, const struct rep_result *rep, int *err)
{
	char *line = record_line(rep, r->run_id, NULL), why[200];
	struct rep_result lean = *rep;

	*err = line ? 0 : -ENOMEM;
	if (!line || r->jsonl.len + strlen(line) + 1 <= r->records_cap || !rep->series)
		goto check;
	snprintf(why, sizeof(why), "%zu intervals left out: with them results.jsonl would pass %zu MiB, the most "
		 "copylab plot, report and compare read", rep->series->n, r->records_cap >> 20);
	fprintf(stderr, "copylab: repetition %d of %s: %s; the record keeps their throughput (interval_bps)\n",
		rep->rep, rep->cell.strategy, why);
	free(line);
	lean.series = NULL;
	line = record_line(&lean, r->run_id, why);
	*err = line ? 0 : -ENOMEM;
check:
	if (line && r->jsonl.len + strlen(line) + 1 > r->records_cap) {
		free(line);
		line = NULL;
		*err = -EFBIG;
	}
	return line;
}

void results_set_records_cap(struct results *r, size_t cap)
{
	r->records_cap = cap < BOUNDED_CAP_RECORDS ? cap : BOUNDED_CAP_RECORDS;
}

int results_add(struct results *r, const struct rep_result *rep)
{
	char path[PATH_MAX];
	struct rep_result copy = *rep;
	size_t old_len = r->jsonl.len;
	char *line;
	int err;

	if (rep->rep < 1)
		return -EINVAL;		/* warm-ups are not results */
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct rep_result *p = realloc(r->reps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->reps = p;
		r->cap = cap;
	}
	terminate_strings(&copy);
	line = line_within_cap(r, &copy, &err);
	if (line)
		sb_printf(&r->jsonl, "%s\n", line);
	if (line)
		err = sb_error(&r->jsonl);
	free(line);
	if (!err)
		err = dir_path(r, JSONL_NAME, path, sizeof(path));
	/*
	 * Rewriting the whole file through a rename means a reader (or a run
	 * killed mid-write) only ever sees whole lines.
	 */
	if (!err)
		err = write_file_atomic(path, r->jsonl.p, r->jsonl.len);
	if (err) {
		/* Keep memory equal to disk: the summary must agree with the records. */
		r->jsonl.len = old_len;
		r->jsonl.oom = false;
		return err;
	}
	r->reps[r->n++] = copy;
	return 0;
}

static struct rep_set rep_set_of(const struct results *r)
{
	return (struct rep_set){ r->reps, r->n };
}

int results_write_summary(struct results *r)
{
	struct rep_set set = rep_set_of(r);
	struct sbuf sb = { 0 };
	char path[PATH_MAX];
	int err = summary_csv(&set, &sb);

	if (!err)
		err = dir_path(r, SUMMARY_NAME, path, sizeof(path));
	if (!err)
		err = write_file_atomic(path, sb.p, sb.len);
	free(sb.p);
	return err;
}

void results_print_table(const struct results *r, FILE *out)
{
	struct rep_set set = rep_set_of(r);

	summary_print_table(&set, out);
}
