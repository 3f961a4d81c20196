/* SPDX-License-Identifier: MIT */
/*
 * The notes beside advise's ranking: see advise_notes.h.  Every sentence
 * about a strategy comes from its table (strategies/NAME.c), so advise,
 * `copylab explain` and `copylab run`'s refusals say the same thing.
 */
#include "advise_notes.h"

#include "harness/model/scenario.h"
#include "harness/results/stats.h"
#include "harness/results/summary.h"

#include <math.h>
#include <string.h>

const char *size_words(long bytes, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

static bool ranked(const char *name, const char *const *labels, int n)
{
	size_t len = strlen(name);

	for (int i = 0; i < n; i++)
		if (!strncmp(labels[i], name, len) && (labels[i][len] == '\0' || labels[i][len] == ':'))
			return true;
	return false;
}

static const char *refusal_words(enum refusal_kind k)
{
	switch (k) {
	case REFUSE_SCENARIO: return "not this scenario";
	case REFUSE_TRANSPORT: return "not over this transport";
	case REFUSE_PROCESS: return "no process";
	case REFUSE_PRIVILEGE: return "needs a privilege";
	case REFUSE_ANSWER: return "answers only what it receives";
	default: return "";
	}
}

int print_not_tested(FILE *out, const struct advise_workload *w, const char *const *labels, int n)
{
	struct strategy_place where = {
		.scenario = (enum scenario)w->sc,
		.transport = w->transport,
		.af_unix = w->transport && !strcmp(w->transport, "unix"),
		.privileged = w->privileged ? 1 : 0,
	};
	int lines = 0;

	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];
		struct refusal r;

		if (ranked(s->name, labels, n))
			continue;
		r = strategy_refusal(s, &where);
		if (r.kind != REFUSE_NONE)
			fprintf(out, "  - %s (%s): %s\n", s->name, refusal_words(r.kind), r.why);
		else if (w->conns > 1 && s->role_replaced_by)
			fprintf(out, "  - %s (no process): --conns needs a process per connection; %s\n", s->name,
				s->role_replaced_by);
		else
			fprintf(out, "  - %s: no usable record in these results (its run failed, or it was not asked "
				"for: see the run's log)\n", s->name);
		lines++;
	}
	return lines;
}

/* The usable records of LABEL: how many, and how many have PATH at V (within 0.5). */
static int count_at(struct crcell *c, const char *label, long bytes, const char *path, double v, int *usable)
{
	json_t *rec;
	size_t i;
	int hits = 0;

	*usable = 0;
	json_array_foreach(c->records, i, rec) {
		json_t *x;

		if (!cr_usable(rec, label, bytes))
			continue;
		++*usable;
		x = rr_get(rec, path);
		if (json_is_number(x) && fabs(json_number_value(x) - v) < 0.5)
			hits++;
	}
	return hits;
}

/* Records of LABEL that completed but failed verification (status ok is usable; a mismatch is not). */
static int failed_of(struct crcell *c, const char *label, long bytes, int *all)
{
	json_t *rec;
	size_t i;
	int failed = 0;

	*all = 0;
	json_array_foreach(c->records, i, rec) {
		const char *st = json_string_value(json_object_get(rec, "strategy"));
		long b = (long)json_integer_value(json_object_get(rec, "bytes"));

		if (!st || strcmp(st, label) || (bytes >= 0 && b != bytes))
			continue;
		++*all;
		if (!cr_usable(rec, label, bytes))
			failed++;
	}
	return failed;
}

/* Usable records of LABEL whose bytes were not verified (MSG_TRUNC, --sink discard); *note one's reason. */
static int unverified_of(struct crcell *c, const char *label, long bytes, int *usable, const char **note)
{
	json_t *rec;
	size_t i;
	int n = 0;

	*usable = 0;
	json_array_foreach(c->records, i, rec) {
		if (!cr_usable(rec, label, bytes))
			continue;
		++*usable;
		if (!json_is_true(json_object_get(rec, "verified"))) {
			n++;
			if (!*note)
				*note = json_string_value(json_object_get(rec, "verify_note"));
		}
	}
	return n;
}

int print_degenerate(FILE *out, struct crcell *c, const struct advise_workload *w, const char *const *labels,
		     int n)
{
	int lines = 0;

	for (int i = 0; i < n; i++) {
		int usable, all, hits, failed = failed_of(c, labels[i], w->bytes, &all);
		const char *note = NULL;

		if (failed) {
			fprintf(out, "  - %s: %d of %d repetitions failed (not verified, or an error): ranked on the "
				"others only\n", labels[i], failed, all);
			lines++;
		}
		if (unverified_of(c, labels[i], w->bytes, &usable, &note) == usable && usable) {
			fprintf(out, "  - %s: no byte of it was verified (%s): its figures are a floor, not a strategy an "
				"application could use as it is\n", labels[i], note ? note : "verify: skipped");
			lines++;
		}
		hits = count_at(c, labels[i], w->bytes, "zerocopy_recv.bytes_mapped", 0, &usable);
		if (usable && hits == usable && (w->bytes > 0 || w->time_s > 0)) {
			fprintf(out, "  - %s mapped nothing (zerocopy_recv.bytes_mapped is 0 in every repetition): its "
				"figures are of its copying fallback, not of zero-copy receive; the sender's segments "
				"carried no whole pages (--transport lo-ns is made for it)\n", labels[i]);
			lines++;
		}
		hits = count_at(c, labels[i], w->bytes, "zerocopy.share_not_copied", 0, &usable);
		if (usable && hits == usable && (w->bytes > 0 || w->time_s > 0)) {
			fprintf(out, "  - %s: the kernel copied every zero-copy send (zerocopy.share_not_copied is 0: "
				"the data was delivered to a local socket): its figures are of a copying send with "
				"zero-copy's bookkeeping on top\n", labels[i]);
			lines++;
		}
	}
	return lines;
}

/* The caveats the records imply: what the measurement did not cover. */
static void measurement_caveats(FILE *out, const struct advise_workload *w)
{
	const struct scenario_def *d = scenario_def((enum scenario)w->sc);
	char sz[32];

	if (w->transport && (!strcmp(w->transport, "tcp") || !strcmp(w->transport, "unix") ||
			     !strcmp(w->transport, "veth") || !strcmp(w->transport, "lo-ns")))
		fprintf(out, "  - over %s the bytes never leave this machine: no NIC, no DMA, and zero-copy sends "
			"are copied on delivery to a local socket; a real NIC can rank the strategies differently "
			"(--transport nic --peer HOST:PORT with copylab sink on the far host)\n", w->transport);
	if (w->bytes >= 0 && w->bytes < 1048576)
		fprintf(out, "  - small transfers (%s): per-transfer setup (pipes, mappings, rings) weighs more "
			"than the per-byte cost; measure at your real message size\n",
			size_words(w->bytes, sz, sizeof(sz)));
	if (w->reps < 6)
		fprintf(out, "  - %d repetitions: a paired interval of %d covers its median with %.1f%% only, so "
			"differences are at most \"suggestive\"; --reps 6 or more reaches 95%%\n",
			w->reps, w->reps, 100.0 * stats_minmax_level((size_t)w->reps));
	if (w->conns > 1)
		fprintf(out, "  - %u connections shared the size, each role driving them from one loop: the "
			"ranking holds at that concurrency\n", w->conns);
	else if (d->many_conns)
		fprintf(out, "  - one connection at a time: a server with many clients can rank differently "
			"(--conns N)\n");
	if (d->in == EP_FILE)
		fprintf(out, "  - the input file was in the page cache (%s cache): reading from the disk "
			"can change the order (--cache cold)\n", w->cache ? w->cache : "warm");
	if (d->out == EP_FILE)
		fprintf(out, "  - the output stays in the page cache: no fsync is timed, and write-back to the "
			"disk, which every strategy pays alike, is not in these figures\n");
	if (d->uses_transport && w->sc != SC_ECHO && !w->rps)
		fprintf(out, "  - throughput and CPU only: the latency of a request is not measured here "
			"(the echo scenario, and relay with --rps, measure round trips)\n");
	if (w->rps)
		fprintf(out, "  - one offered load (%u requests/s): a strategy's latency can rank otherwise at "
			"another (--sweep rps=A..B in copylab run, then advise --from DIR --rps R per load)\n", w->rps);
	fprintf(out, "  - system-wide CPU counts the fixed roles (the sink's hashing) and everything else "
		"this machine did meanwhile\n");
	if (steal_notable(w->steal_cpus, w->ncpus))
		fprintf(out, "  - the hypervisor held back %.2f of the %g CPUs (steal) in the median repetition: "
			"throughput and latency rankings carry the host's share, and where it fell unevenly "
			"between strategies they can order them by it (CPU figures leave steal out)\n",
			w->steal_cpus, w->ncpus);
}

void print_caveats(FILE *out, const struct advise_workload *w, const char *const *labels, int n)
{
	fprintf(out, "\nCaveats:\n");
	measurement_caveats(out, w);
	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];

		if (!ranked(s->name, labels, n))
			continue;
		if (s->needs)
			fprintf(out, "  - %s needs: %s\n", s->name, s->needs);
		if (w->sc >= 0 && w->sc < SC_COUNT && s->caveat[w->sc])
			fprintf(out, "  - %s in %s: %s\n", s->name, w->scenario, s->caveat[w->sc]);
	}
}
