/* SPDX-License-Identifier: MIT */
/*
 * The ledger of `copylab claims`, each claim with its cells, figures and
 * verdict: as printed, as claims.md and as claims.json (copylab.claims/2).
 */
#include "claims.h"

#include <stdlib.h>
#include <string.h>

const char *verdict_text(enum verdict v)
{
	switch (v) {
	case V_HOLDS: return "holds here";
	case V_NOT: return "does not hold here";
	case V_NODIFF: return "no difference measured";
	case V_UNRESOLVED: return "unresolved";
	default: return "cannot be measured here";
	}
}

/* The verdict as the ledger reads it: "no difference measured at 9 repetitions"; malloc'd. */
static char *verdict_line(const struct judgement *j)
{
	char *s = cr_strdup(verdict_text(j->verdict));

	if (j->verdict == V_NODIFF && j->reps > 0)
		cr_append(&s, " at %d repetitions", j->reps);
	return s;
}

void ledger_print(FILE *out, const struct ledger_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = e[i].claim;
		const struct judgement *j = &e[i].judgement;
		char *v = verdict_line(j);

		fprintf(out, "%2zu. %s\n    %s\n    source: %s\n    cells:\n", i + 1, c->id, c->statement, c->source);
		for (const char *p = e[i].cells; *p; ) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);

			fprintf(out, "      %.*s\n", len, p);
			p += len + (nl ? 1 : 0);
		}
		fprintf(out, "    figure: %s\n    expected: %s\n", c->figure, c->expectation);
		if (*j->construction)
			fprintf(out, "    not measured: %s\n", j->construction);
		/* A reason why it cannot be measured goes in brackets, any other after a dash. */
		fprintf(out, "    measured: %s\n    VERDICT: %s%s%s%s\n\n", j->measurement, v,
			*j->why ? (j->verdict == V_CANNOT ? " (" : " — ") : "", j->why,
			*j->why && j->verdict == V_CANNOT ? ")" : "");
		free(v);
	}
}

char *ledger_markdown(const struct ledger_run *r, const struct ledger_entry *e, size_t n)
{
	char *md = NULL;

	cr_append(&md, "# Claims, measured here\n\n`%s` on %s, kernel %s.\n\n", r->cmdline, r->date, r->kernel);
	cr_append(&md, "| # | claim | verdict | because | by construction |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		char *v = verdict_line(&e[i].judgement);

		cr_append(&md, "| %zu | %s | **%s** | %s | %s |\n", i + 1, e[i].claim->id, v,
			  e[i].judgement.why, *e[i].judgement.construction ? "yes, see below" : "");
		free(v);
	}
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = e[i].claim;
		const struct judgement *j = &e[i].judgement;
		char *v = verdict_line(j);

		cr_append(&md, "\n## %zu. %s\n\n%s\n\n- source: %s\n- cells:\n\n```sh\n%s\n```\n\n- figure: %s\n"
			"- expected: %s\n", i + 1, c->id, c->statement, c->source, e[i].cells, c->figure, c->expectation);
		if (*j->construction)
			cr_append(&md, "- not measured: %s\n", j->construction);
		cr_append(&md, "- measured: %s\n- **verdict: %s**%s%s\n", j->measurement, v, *j->why ? " — " : "", j->why);
		free(v);
	}
	return md;
}

json_t *ledger_json(const struct ledger_run *r, const struct ledger_entry *e, size_t n)
{
	json_t *root = json_object(), *arr = json_array();

	json_object_set_new(root, "schema", json_string("copylab.claims/2"));
	json_object_set_new(root, "command", json_string(r->cmdline));
	json_object_set_new(root, "date", json_string(r->date));
	json_object_set_new(root, "kernel", json_string(r->kernel));
	json_object_set_new(root, "quick", json_boolean(r->quick));
	json_object_set_new(root, "size", json_string(r->size));
	json_object_set_new(root, "reps", json_integer(r->reps));
	json_object_set_new(root, "reps_cap", json_integer(r->reps_cap));
	json_object_set_new(root, "transport", json_string(r->transport));
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = e[i].claim;
		const struct judgement *j = &e[i].judgement;

		/* verdict: one of five fixed strings, for scripts; repetitions: the deciding pairs (0: none). */
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:i}",
			"id", c->id, "claim", c->statement, "source", c->source, "cells", e[i].cells,
			"figure", c->figure, "expectation", c->expectation, "measurement", j->measurement,
			"verdict", verdict_text(j->verdict), "why", j->why,
			"by_construction", *j->construction ? json_string(j->construction) : json_null(),
			"repetitions", j->reps));
	}
	json_object_set_new(root, "claims", arr);
	return root;
}
