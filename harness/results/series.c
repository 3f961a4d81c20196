/* SPDX-License-Identifier: MIT */
/* --interval: readings into intervals, gaps kept as gaps. */
#include "series.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct interval_series *series_new(double interval_s, int nroles, const char *const names[])
{
	struct interval_series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->interval_s = interval_s;
	s->nroles = nroles < MAX_ROLES ? nroles : MAX_ROLES;
	for (int i = 0; i < s->nroles; i++)
		snprintf(s->role[i], sizeof(s->role[i]), "%s", names[i] ? names[i] : "?");
	return s;
}

void series_free(struct interval_series *s)
{
	if (!s)
		return;
	free(s->iv);
	free(s);
}

/*
 * What moved from a to p, added to iv (zeroed for a new interval).  A
 * counter that went backwards was not the same counter: a gap too.
 */
static void interval_add(struct series_interval *iv, int nroles, const struct series_point *a,
			 const struct series_point *p, bool fresh)
{
	bool bytes = a->have_bytes && p->have_bytes && p->bytes >= a->bytes;

	iv->t_s = p->t_ns / 1e9;
	iv->dt_s += (p->t_ns - a->t_ns) / 1e9;
	iv->have_bytes = (fresh || iv->have_bytes) && bytes;
	iv->bytes = iv->have_bytes ? iv->bytes + (p->bytes - a->bytes) : 0;
	for (int r = 0; r < nroles; r++) {
		bool cpu = a->have_cpu[r] && p->have_cpu[r] && p->cpu_s[r] >= a->cpu_s[r];

		iv->have_cpu[r] = (fresh || iv->have_cpu[r]) && cpu;
		iv->cpu_s[r] = iv->have_cpu[r] ? iv->cpu_s[r] + (p->cpu_s[r] - a->cpu_s[r]) : 0;
	}
}

int series_add(struct interval_series *s, const struct series_point *p)
{
	if (!s->have_last) {
		s->last = *p;
		s->have_last = true;
		return 0;
	}
	/* At the cap, the last interval grows, as one read late does: the sums still add up. */
	if (s->n == SERIES_MAX) {
		interval_add(&s->iv[s->n - 1], s->nroles, &s->last, p, false);
		s->merged++;
		s->last = *p;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct series_interval *n = realloc(s->iv, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->iv = n;
		s->cap = cap;
	}
	memset(&s->iv[s->n], 0, sizeof(s->iv[0]));
	interval_add(&s->iv[s->n++], s->nroles, &s->last, p, true);
	s->last = *p;
	return 0;
}

struct series_stats series_throughput(const struct interval_series *s)
{
	struct series_stats st = { .min = NAN, .median = NAN, .max = NAN };
	double *bps = s && s->n ? malloc(s->n * sizeof(*bps)) : NULL;

	if (!bps)
		return st;
	for (size_t i = 0; i < s->n; i++) {
		const struct series_interval *iv = &s->iv[i];

		if (!iv->have_bytes || iv->dt_s <= 0 || (i == s->n - 1 && iv->dt_s < s->interval_s / 2))
			continue;
		bps[st.n++] = iv->bytes / iv->dt_s;
	}
	if (st.n) {
		st.min = stats_min(bps, st.n);
		st.median = stats_median(bps, st.n);
		st.max = stats_max(bps, st.n);
	}
	free(bps);
	return st;
}

static json_t *real_or_null(bool have, double x)
{
	return have && isfinite(x) ? json_real(x) : json_null();
}

json_t *series_json(const struct interval_series *s)
{
	json_t *arr;

	if (!s)
		return json_null();
	if (!(arr = json_array()))
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct series_interval *iv = &s->iv[i];
		json_t *cpu = json_object();

		for (int r = 0; cpu && r < s->nroles; r++)
			if (json_object_set_new(cpu, s->role[r], real_or_null(iv->have_cpu[r], iv->cpu_s[r])))
				cpu = (json_decref(cpu), NULL);
		if (!cpu || json_array_append_new(arr, json_pack("{s:f, s:f, s:o, s:o}", "t_s", iv->t_s, "dt_s", iv->dt_s,
				"bytes", iv->have_bytes ? json_integer((json_int_t)iv->bytes) : json_null(),
				"cpu", cpu))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *series_stats_json(const struct series_stats *st)
{
	if (!st || st->n == 0)
		return json_null();
	return json_pack("{s:I, s:f, s:f, s:f}", "n", (json_int_t)st->n, "min", st->min,
			 "median", st->median, "max", st->max);
}
