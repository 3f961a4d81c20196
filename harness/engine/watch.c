/* SPDX-License-Identifier: MIT */
/*
 * Each role's progress during a repetition, and the role a timeout names:
 * the parent must blame the role that stopped, not the first one in the
 * scenario's order.
 */
#include "watch.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Closer than this, two roles stopped together as far as sampling can tell. */
#define WATCH_STILL_NS (200 * 1000000LL)

struct rep_watch *watch_map(void)
{
	struct rep_watch *w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return w == MAP_FAILED ? NULL : w;
}

void watch_unmap(struct rep_watch *w)
{
	if (w)
		munmap(w, sizeof(*w));
}

void watch_sample(const struct rep_watch *w, struct watch_view *v, int64_t now)
{
	uint64_t moved;

	if (!w || !v->sampled)
		return;
	moved = w->tested.moved;
	if (moved != v->moved) {
		v->moved = moved;
		v->seen_ns = now;
	}
}

char process_state(pid_t pid)
{
	char path[64], buf[512];
	const char *close_paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: the state follows the last ')'. */
	close_paren = strrchr(buf, ')');
	return close_paren && close_paren[1] == ' ' && close_paren[2] ? close_paren[2] : '?';
}

static void role_bytes(const struct rep_watch *w, const struct watch_view *v, const struct watch_roles *r,
		       int i, uint64_t *bytes, int64_t *last, bool *known)
{
	*known = true;
	if (i == r->tested) {
		*known = v->sampled;
		*bytes = v->moved;
		*last = v->seen_ns;
	} else {
		*bytes = w->progress[i].bytes;
		*last = w->progress[i].last_ns;
	}
}

/* "source 16777216, relay 131072, sink 65536 bytes" over the active roles. */
static void progress_list(const struct rep_watch *w, const struct watch_view *v, const struct watch_roles *r,
			  char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < r->n && used < len; i++) {
		uint64_t bytes;
		int64_t last;
		bool known;

		if (!r->active[i])
			continue;
		role_bytes(w, v, r, i, &bytes, &last, &known);
		if (known)
			used += snprintf(buf + used, len - used, "%s%s %llu", used ? ", " : "", r->names[i],
					 (unsigned long long)bytes);
	}
	if (used && used < len)
		snprintf(buf + used, len - used, " bytes");
}

int watch_blame(const struct rep_watch *w, const struct watch_view *v, const struct watch_roles *r,
		int64_t t_release, int64_t now, char *why, size_t len)
{
	int first = -1;
	int64_t first_last = 0;
	char list[160];

	why[0] = '\0';
	if (!w)
		return -1;
	progress_list(w, v, r, list, sizeof(list));
	for (int i = 0; i < r->n; i++) {
		char s = r->active[i] && r->pid[i] > 0 ? process_state(r->pid[i]) : '?';

		if (s == 'T' || s == 't') {
			snprintf(why, len, "role %s was stopped (process state %c: SIGSTOP or a debugger) and the others waited on it (moved: %s)",
				 r->names[i], s, list);
			return i;
		}
	}
	for (int i = 0; i < r->n; i++) {
		uint64_t bytes;
		int64_t last;
		bool known;

		if (!r->active[i])
			continue;
		role_bytes(w, v, r, i, &bytes, &last, &known);
		if (!known)
			continue;
		if (last < t_release)
			last = t_release;	/* nothing moved yet: stopped since the release */
		if (first < 0 || last < first_last) {
			first = i;
			first_last = last;
		}
	}
	if (first < 0)
		return -1;
	if (now - first_last < WATCH_STILL_NS) {
		snprintf(why, len, "every role was still moving bytes: too slow rather than stuck (moved: %s)", list);
		return -1;
	}
	snprintf(why, len, "role %s stopped making progress first: nothing for the last %.3g s (moved: %s)",
		 r->names[first], (now - first_last) / 1e9, list);
	return first;
}
