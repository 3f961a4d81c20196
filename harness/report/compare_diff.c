/* SPDX-License-Identifier: MIT */
/*
 * copylab compare's decisions: env.json against env.json, records to
 * summary rows, and B/A with an interval and a verdict (compare_diff.h).
 */
#include "compare_diff.h"
#include "harness/results/stats.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- env.json against env.json --------------------------------------------- */

/* Keys that differ between any two runs, so naming them would hide what changed. */
static bool key_ignored(const char *key)
{
	/* The sampler's method counts the text symbols, which loading a BPF program changes. */
	static const char *const prefixes[] = { "run_id", "created_utc", "memcpy", "conditions.argv",
						"cpu_sampler.method" };
	const char *last = strrchr(key, '.');

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(key, prefixes[i], n) && (key[n] == '\0' || key[n] == '.' || key[n] == '['))
			return true;
	}
	last = last ? last + 1 : key;
	return !strcmp(last, "refcnt");
}

/* A leaf as text: strings bare, the rest as JSON; copylab's namespace names lose their pid. */
static void leaf_text(json_t *v, char *out, size_t len)
{
	char *s;

	if (json_is_string(v)) {
		const char *t = json_string_value(v);
		size_t k = 0;

		if (!strstr(t, "copylab-")) {
			snprintf(out, len, "%s", t);
			return;
		}
		/* "copylab-4242-1-a": the pid and id are the run's, not a condition. */
		for (; *t && k + 1 < len; t++)
			if (!isdigit((unsigned char)*t) || (k && out[k - 1] != '#'))
				out[k++] = isdigit((unsigned char)*t) ? '#' : *t;
		out[k] = '\0';
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(out, len, "%s", s ? s : "?");
	free(s);
}

/* Every leaf of V under PREFIX into FLAT (an object: path -> text), in order. */
static void flatten(json_t *v, const char *prefix, json_t *flat)
{
	char key[160], text[200];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v) && json_object_size(v)) {
		json_object_foreach(v, k, x) {
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			flatten(x, key, flat);
		}
		return;
	}
	if (json_is_array(v) && json_array_size(v)) {
		json_array_foreach(v, i, x) {
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			flatten(x, key, flat);
		}
		return;
	}
	leaf_text(v, text, sizeof(text));
	json_object_set_new(flat, prefix, json_string(text));
}

static bool has_prefix(json_t *flat, const char *key, size_t len);

/* Null of a size the command line left to the kernel reads as "default". */
static const char *shown(const char *key, json_t *flat)
{
	static const char *const sizes[] = { "conditions.sndbuf", "conditions.rcvbuf", "conditions.pipe_size_asked" };
	const char *t = json_string_value(json_object_get(flat, key));

	if (!t)
		return has_prefix(flat, key, strlen(key)) ? "(recorded)" : "(absent)";
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!strcmp(key, sizes[i]) && !strcmp(t, "null"))
			return "default";
	return t;
}

static void add_diff(struct env_diffs *d, const char *key, json_t *fa, json_t *fb)
{
	struct env_diff *e, *v = realloc(d->v, (d->n + 1) * sizeof(*v));

	if (!v)
		return;
	d->v = v;
	e = &v[d->n++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	snprintf(e->a, sizeof(e->a), "%s", shown(key, fa));
	snprintf(e->b, sizeof(e->b), "%s", shown(key, fb));
}

/* Whether FLAT has KEY (LEN bytes of it) itself or anything under it. */
static bool has_prefix(json_t *flat, const char *key, size_t len)
{
	const char *k;
	json_t *x;

	json_object_foreach(flat, k, x)
		if (!strncmp(k, key, len) && (k[len] == '\0' || k[len] == '.' || k[len] == '['))
			return true;
	return false;
}

/*
 * KEY lacks in OTHER: the shortest path above it that OTHER lacks whole,
 * into root, so that a run without a transport object shows one line,
 * not one per fact of it.
 */
static void absent_root(const char *key, json_t *other, char *root, size_t len)
{
	size_t n = strlen(key);

	for (size_t i = 1; i <= n; i++)
		if ((i == n || key[i] == '.' || key[i] == '[') && !has_prefix(other, key, i)) {
			snprintf(root, len, "%.*s", (int)i, key);
			return;
		}
	snprintf(root, len, "%s", key);
}

static bool listed(const struct env_diffs *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].key, key))
			return true;
	return false;
}

enum env_part { PART_CONDITIONS, PART_VERDICT, PART_OTHER };

/*
 * Which part a flattened key is in: the run's conditions, the facts that
 * can turn a verdict around (envfacts.h: wherever they sit, at the top or
 * in a link's facts), or the rest of the machine and build.
 */
static enum env_part part_of(const char *key)
{
	static const char *const verdict[] = { "cpufreq", "mitigations", "net_sysctl", "steering" };

	if (!strncmp(key, "conditions.", 11))
		return PART_CONDITIONS;
	/* Each name of the path: "transport.ends[0].steering.rps.rx-0" has "ends" and "steering". */
	for (const char *c = key; c; c = strchr(c, '.') ? strchr(c, '.') + 1 : NULL) {
		size_t n = strcspn(c, ".[");

		for (size_t i = 0; i < sizeof(verdict) / sizeof(verdict[0]); i++)
			if (n == strlen(verdict[i]) && !strncmp(c, verdict[i], n))
				return PART_VERDICT;
	}
	return PART_OTHER;
}

/* The differing keys of one part, A's order then B's own. */
static void diff_part(struct env_diffs *d, json_t *fa, json_t *fb, enum env_part part)
{
	json_t *both[2] = { fa, fb };
	char root[160];
	const char *key;
	json_t *x;

	for (int side = 0; side < 2; side++)
		json_object_foreach(both[side], key, x) {
			json_t *other = json_object_get(both[!side], key);

			if (part_of(key) != part || key_ignored(key) || (side == 1 && other))
				continue;
			if (other) {
				if (!json_equal(x, other))
					add_diff(d, key, fa, fb);
				continue;
			}
			absent_root(key, both[!side], root, sizeof(root));
			if (!listed(d, root))
				add_diff(d, root, fa, fb);
		}
}

struct env_diffs env_differences(json_t *a, json_t *b)
{
	struct env_diffs d = { 0 };
	json_t *fa = json_object(), *fb = json_object();

	d.a_conditions = json_is_object(json_object_get(a, "conditions"));
	d.b_conditions = json_is_object(json_object_get(b, "conditions"));
	if (fa && fb && a && b) {
		flatten(a, "", fa);
		flatten(b, "", fb);
		if (d.a_conditions && d.b_conditions)
			diff_part(&d, fa, fb, PART_CONDITIONS);
		d.nconditions = d.n;
		diff_part(&d, fa, fb, PART_VERDICT);
		diff_part(&d, fa, fb, PART_OTHER);
	}
	json_decref(fa);
	json_decref(fb);
	return d;
}

void env_diffs_free(struct env_diffs *d)
{
	free(d->v);
	d->v = NULL;
	d->n = d->nconditions = 0;
}

/* ---- records of a summary row ------------------------------------------------ */

/* ---- B/A ------------------------------------------------------------------------- */

static size_t usable(const double *v, size_t n, double *out)
{
	size_t k = 0;

	for (size_t i = 0; v && i < n; i++)
		if (isfinite(v[i]) && v[i] > 0)
			out[k++] = v[i];
	return k;
}

struct compare_ratio compare_ratio_of(const double *b, size_t nb, const double *a, size_t na)
{
	struct compare_ratio e = { NAN, NAN, NAN, NAN, 0, 0, CMP_NO_FIGURE };
	double *pa = malloc((na + 1) * sizeof(*pa)), *pb = malloc((nb + 1) * sizeof(*pb));
	struct stats_interval ci;

	if (!pa || !pb)
		goto out;
	e.na = usable(a, na, pa);
	e.nb = usable(b, nb, pb);
	if (!e.na || !e.nb)
		goto out;
	e.ratio = stats_median(pb, e.nb) / stats_median(pa, e.na);
	ci = stats_ratio_interval(pb, e.nb, pa, e.na, COMPARE_LEVEL);
	e.lo = ci.lo;
	e.hi = ci.hi;
	e.level = ci.level;
	if (e.na < COMPARE_MIN_REPS || e.nb < COMPARE_MIN_REPS)
		e.verdict = CMP_TOO_FEW;
	else if (!isfinite(e.lo) || !isfinite(e.hi))
		e.verdict = CMP_NO_FIGURE;
	else
		e.verdict = e.lo > 1 || e.hi < 1 ? CMP_BEYOND_NOISE : CMP_NO_DIFFERENCE;
out:
	free(pa);
	free(pb);
	return e;
}

const char *compare_verdict_text(enum compare_verdict v)
{
	switch (v) {
	case CMP_BEYOND_NOISE: return "beyond noise";
	case CMP_NO_DIFFERENCE: return "no difference measured";
	case CMP_TOO_FEW: return "too few reps";
	default: return "no figure";
	}
}
