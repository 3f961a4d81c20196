/* SPDX-License-Identifier: MIT */
/* --time and --interval in the parent: readings while it waits, and the timed stream's count. */
#include "timed.h"
#include "harness/model/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A process's user + system CPU so far, from /proc/PID/stat (fields 14
 * and 15, in clock ticks; a zombie's are still there until it is reaped).
 * False when it cannot be read: that reading is a gap.
 */
static bool proc_cpu_s(pid_t pid, double *out)
{
	char path[64], buf[1024];
	const char *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || hz <= 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: the fields start after the last ')'. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return false;
	*out = (double)(ut + st) / hz;
	return true;
}

static void reading(const struct rep_sampler *s, int64_t now, struct series_point *p)
{
	memset(p, 0, sizeof(*p));
	p->t_ns = now - s->t0;
	if (s->bytes_role == -1) {
		p->have_bytes = true;
		p->bytes = s->watch->tested.moved;
	} else if (s->bytes_role >= 0) {
		p->have_bytes = true;
		p->bytes = s->watch->progress[s->bytes_role].bytes;
	}
	for (int i = 0; i < s->nroles; i++)
		p->have_cpu[i] = s->local[i] && proc_cpu_s(s->pid[i], &p->cpu_s[i]);
}

int sampler_start(struct rep_sampler *s, const struct run_config *c, const struct role_ctx *ctx, int nroles,
		  const pid_t *pid, const bool *local, const struct rep_watch *w, bool sampled, int64_t t0)
{
	double interval_s = c->interval_s;
	int bytes_role = timed_bytes_role(c->scenario, ctx, local, nroles, sampled);
	struct series_point p;

	memset(s, 0, sizeof(*s));
	if (interval_s <= 0)
		return 0;
	if (!(s->series = series_new(interval_s, nroles, scenario_def(c->scenario)->roles)))
		return -ENOMEM;
	s->t0 = t0;
	s->period_ns = (int64_t)(interval_s * 1e9);
	s->next_ns = t0 + s->period_ns;
	s->nroles = nroles < MAX_ROLES ? nroles : MAX_ROLES;
	s->watch = w;
	s->bytes_role = w ? bytes_role : -2;
	for (int i = 0; i < s->nroles; i++) {
		s->pid[i] = pid[i];
		s->local[i] = local[i];
	}
	reading(s, t0, &p);
	/* The bytes start at none: the baseline is known even when the count cannot be seen later. */
	p.have_bytes = s->bytes_role != -2;
	p.bytes = 0;
	return series_add(s->series, &p);
}

int sampler_wait_ms(const struct rep_sampler *s, int64_t now, int ms)
{
	int64_t due;

	if (!s->series)
		return ms;
	due = (s->next_ns - now + 999999) / 1000000;
	return due < 0 ? 0 : due < ms ? (int)due : ms;
}

void sampler_tick(struct rep_sampler *s, int64_t now)
{
	struct series_point p;

	if (!s->series || now < s->next_ns)
		return;
	reading(s, now, &p);
	if (series_add(s->series, &p))
		sampler_drop(s);	/* no memory: no series, rather than one with a hole unsaid */
	/* Late (a loaded machine): the interval is longer, and says so in dt_s; no burst to catch up. */
	s->next_ns += s->period_ns;
	if (s->next_ns <= now)
		s->next_ns = now + s->period_ns;
}

struct interval_series *sampler_finish(struct rep_sampler *s, int64_t now)
{
	struct interval_series *out;
	struct series_point p;

	if (!s->series)
		return NULL;
	reading(s, now, &p);
	if (series_add(s->series, &p))
		sampler_drop(s);
	out = s->series;
	s->series = NULL;
	return out;
}

void sampler_drop(struct rep_sampler *s)
{
	series_free(s->series);
	s->series = NULL;
}

int timed_bytes_role(enum scenario sc, const struct role_ctx *ctx, const bool *local, int nroles, bool sampled)
{
	enum endpoint_kind out = scenario_def(sc)->out;

	if (out == EP_MEMORY || out == EP_FILE)
		return sampled ? -1 : -2;
	for (int i = 1; i < nroles; i++)
		if ((ctx[i].kind == RK_SINK || ctx[i].kind == RK_ECHO_CLIENT) && local[i])
			return i;
	return -2;
}

int timed_count_check(const struct role_report *rep, const struct role_ctx *ctx, const char *const names[],
		      const bool *absent, int nroles, uint64_t *total, char *note, size_t len)
{
	int src = -1;

	for (int i = 1; i < nroles; i++)
		if (ctx[i].kind == RK_SOURCE)
			src = i;
	/* send, pipe: the role under test sends, from memory */
	if (src < 0 && nroles > 0 && scenario_def(ctx[0].c->scenario)->in == EP_MEMORY)
		src = 0;
	if (src < 0) {
		snprintf(note, len, "a run bounded by time has no source role to count what was sent");
		return -EIO;
	}
	*total = rep[src].res.bytes;
	for (int i = 0; i < nroles; i++) {
		if (absent[i] || i == src || rep[i].verify < 0 || rep[i].res.bytes == *total)
			continue;
		snprintf(note, len, "%s: the source sent %" PRIu64 " bytes and the %s counted %" PRIu64,
			 names[i], *total, names[i], rep[i].res.bytes);
		return -EIO;
	}
	return 0;
}
