/* SPDX-License-Identifier: MIT */
/*
 * `copylab list`: the support matrix, from the strategies' own tables, so
 * the list and the refusal of an unsupported pair come from one place.
 */
#include "cli.h"
#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/net/transport.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Why the strategy cannot use transport t at all (NULL: it can). */
static const char *transport_why_not(const struct strategy *s, int t)
{
	if (t == TR_UNIX && s->af_unix_why_not)
		return s->af_unix_why_not;
	if (s->only_transport && strcmp(transport_name(t), s->only_transport))
		return s->elsewhere_why_not;
	return NULL;
}

/* "echo, pipe": the scenarios of a label option's mask (enum scenario bits). */
static const char *scenario_mask_names(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int sc = 0; sc < SC_COUNT && used < len; sc++)
		if (mask & (1u << sc))
			used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "", scenario_name(sc));
	return buf;
}

/* The scenarios of a mask as a JSON array (null for 0: any scenario). */
static json_t *scenario_mask_json(uint32_t mask)
{
	json_t *a;

	if (!mask)
		return json_null();
	a = json_array();
	for (int sc = 0; sc < SC_COUNT; sc++)
		if (mask & (1u << sc))
			json_array_append_new(a, json_string(scenario_name(sc)));
	return a;
}

static int list_json(void)
{
	json_t *root = json_object(), *strategies = json_array(), *scenarios = json_array();
	json_t *transports = json_array();

	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];
		json_t *m = json_object();

		for (int sc = 0; sc < SC_COUNT; sc++)
			json_object_set_new(m, scenario_name(sc), s->support[sc].ok
				? json_pack("{s:b}", "ok", 1)
				: json_pack("{s:b,s:s}", "ok", 0, "why_not",
					    s->support[sc].why_not ? s->support[sc].why_not : "not supported"));
		json_t *trs = json_object();

		for (int t = 0; t < TR_COUNT; t++) {
			const char *why = transport_why_not(s, t);

			json_object_set_new(trs, transport_name(t), why
				? json_pack("{s:b,s:s}", "ok", 0, "why_not", why) : json_pack("{s:b}", "ok", 1));
		}
		json_t *limits = json_array();
		struct label_limit l;

		for (size_t k = 0; label_option_limit(k, &l); k++) {
			char names[96];

			/* only_scenario: kept for an option of one scenario; only_scenarios lists them all. */
			if (s->tunables & l.bit)
				json_array_append_new(limits, json_pack("{s:s,s:s?,s:o,s:s?,s:s?}", "option", l.name,
					"only_scenario", l.only_in && !(l.only_in & (l.only_in - 1))
						? scenario_mask_names(l.only_in, names, sizeof(names)) : NULL,
					"only_scenarios", scenario_mask_json(l.only_in),
					"why_elsewhere", l.elsewhere_why, "af_unix_why_not", l.not_unix));
		}
		json_array_append_new(strategies, json_pack("{s:s,s:s,s:o,s:s?,s:o,s:s?,s:o}", "name", s->name,
			"summary", s->summary, "scenarios", m, "needs_privilege", s->needs_privilege,
			"transports", trs, "role_replaced_by", s->role_replaced_by, "option_limits", limits));
	}
	for (int sc = 0; sc < SC_COUNT; sc++) {
		const struct scenario_def *d = scenario_def(sc);
		json_t *roles = json_array();

		for (int r = 0; r < d->nroles; r++)
			json_array_append_new(roles, json_string(d->roles[r]));
		json_array_append_new(scenarios, json_pack("{s:s,s:s,s:s,s:s,s:b,s:o}", "name", d->name,
			"path", d->path, "summary", d->summary, "tested_role", d->roles[0],
			"uses_transport", d->uses_transport, "roles", roles));
	}
	for (int t = 0; t < TR_COUNT; t++)
		json_array_append_new(transports, json_string(transport_name(t)));
	json_object_set_new(root, "strategies", strategies);
	json_object_set_new(root, "scenarios", scenarios);
	json_object_set_new(root, "transports", transports);
	json_dumpf(root, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(root);
	return 0;
}

static int list_text(void)
{
	printf("Scenarios (data path, role under test):\n");
	for (int sc = 0; sc < SC_COUNT; sc++) {
		const struct scenario_def *d = scenario_def(sc);

		printf("  %-7s %-24s %s (%s)\n", d->name, d->path, d->roles[0], d->summary);
	}
	printf("\nStrategies:\n");
	for (size_t i = 0; i < strategy_count; i++)
		printf("  %-16s %s\n", strategy_table[i]->name, strategy_table[i]->summary);
	printf("\nTransports: ");
	for (int t = 0; t < TR_COUNT; t++)
		printf("%s%s", t ? ", " : "", transport_name(t));
	printf(" (copy and pipe use none)\n\nSupport matrix (+ runs, - cannot):\n  %-16s", "");
	for (int sc = 0; sc < SC_COUNT; sc++)
		printf(" %-7s", scenario_name(sc));
	putchar('\n');
	for (size_t i = 0; i < strategy_count; i++) {
		printf("  %-16s", strategy_table[i]->name);
		for (int sc = 0; sc < SC_COUNT; sc++)
			printf(" %-7s", strategy_table[i]->support[sc].ok ? "+" : "-");
		putchar('\n');
	}
	printf("\nWhy not:\n");
	for (size_t i = 0; i < strategy_count; i++)
		if (strategy_table[i]->af_unix_why_not)
			printf("  %s over unix: %s\n", strategy_table[i]->name, strategy_table[i]->af_unix_why_not);
	for (size_t i = 0; i < strategy_count; i++)
		if (strategy_supports(strategy_table[i], SC_ECHO) && strategy_table[i]->unequal_answer_why_not)
			printf("  %s in echo with --response: %s\n", strategy_table[i]->name,
			       strategy_table[i]->unequal_answer_why_not);
	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];
		char others[128] = "";
		size_t n = 0;

		if (!s->only_transport)
			continue;
		for (int t = 0; t < TR_COUNT; t++)
			if (transport_why_not(s, t) == s->elsewhere_why_not)
				n += snprintf(others + n, sizeof(others) - n, "%s%s", n ? ", " : "", transport_name(t));
		printf("  %s over %s (it runs over %s only): %s\n", s->name, others, s->only_transport,
		       s->elsewhere_why_not);
	}
	for (size_t i = 0; i < strategy_count; i++)
		if (strategy_table[i]->role_replaced_by)
			printf("  %s runs no process for the role under test: %s\n", strategy_table[i]->name,
			       strategy_table[i]->role_replaced_by);
	for (size_t i = 0; i < strategy_count; i++) {
		struct label_limit l;
		char names[96];

		for (size_t k = 0; label_option_limit(k, &l); k++) {
			if (!(strategy_table[i]->tunables & l.bit))
				continue;
			if (l.only_in)
				printf("  %s:%s outside %s: %s\n", strategy_table[i]->name, l.name,
				       scenario_mask_names(l.only_in, names, sizeof(names)), l.elsewhere_why);
			if (l.not_unix)
				printf("  %s:%s over unix: %s\n", strategy_table[i]->name, l.name, l.not_unix);
		}
	}
	for (size_t i = 0; i < strategy_count; i++)
		if (strategy_table[i]->needs_privilege)
			printf("  %s without privilege: %s\n", strategy_table[i]->name,
			       strategy_table[i]->needs_privilege);
	for (size_t i = 0; i < strategy_count; i++)
		for (int sc = 0; sc < SC_COUNT; sc++)
			if (!strategy_table[i]->support[sc].ok)
				printf("  %s %s: %s\n", strategy_table[i]->name, scenario_name(sc),
				       strategy_table[i]->support[sc].why_not);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: copylab list [--json]\n\n"
			       "Prints the strategies, the scenarios (data paths) and transports, and the\n"
			       "support matrix with the reason each unsupported pair cannot work.\n"
			       "  --json   the same as one JSON object\n");
			return 0;
		default:
			return usage_error("list: unknown option '%s'; valid: --json, --help", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("list: unexpected argument '%s'", argv[optind]);
	return json ? list_json() : list_text();
}
