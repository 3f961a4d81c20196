/* SPDX-License-Identifier: MIT */
/*
 * One line for each verdict-changing fact of env.json (envtext.h): enough
 * to see at a glance what differs from another machine, with the detail
 * left in env.json.
 */
#include "envtext.h"
#include "harness/measure/envfacts.h"

#include <stdio.h>
#include <string.h>

/* "KEY not known (why)" for a null fact with a note. */
static void unknown(json_t *obj, const char *key, const char *label, struct sbuf *s)
{
	char note[80];
	const char *why;

	snprintf(note, sizeof(note), "%s_note", key);
	why = json_string_value(json_object_get(obj, note));
	sb_printf(s, "%s not known (%s)", label, why ? why : "not recorded");
}

/* An object's values: "v (N of them)" when all equal, else "k v, k v". */
static void values(json_t *o, const char *unit, const char *units, struct sbuf *s)
{
	const char *k, *first = NULL;
	json_t *v;
	bool same = true;

	json_object_foreach(o, k, v) {
		const char *t = json_is_string(v) ? json_string_value(v) : "unreadable";

		if (!first)
			first = t;
		same &= !strcmp(first, t);
	}
	if (same && first) {
		sb_printf(s, " %s (%zu %s)", first, json_object_size(o), json_object_size(o) == 1 ? unit : units);
		return;
	}
	size_t i = 0;

	json_object_foreach(o, k, v)
		sb_printf(s, "%s %s %s", i++ ? "," : "", k, json_is_string(v) ? json_string_value(v) : "unreadable");
}

static void cpufreq_text(json_t *o, struct sbuf *s)
{
	json_t *g = json_object_get(o, "governor"), *b = json_object_get(o, "boost");

	if (json_is_object(g)) {
		sb_add(s, "governor");
		values(g, "policy", "policies", s);
	} else {
		unknown(o, "governor", "governor", s);
	}
	sb_add(s, "; ");
	if (json_is_boolean(b))
		sb_printf(s, "boost %s", json_is_true(b) ? "on" : "off");
	else
		unknown(o, "boost", "boost", s);
}

/* The vulnerabilities whose text reads as STATE: "a, b" (count only when MANY). */
static void vuln_group(json_t *v, const char *state, bool many, struct sbuf *s)
{
	const char *k;
	json_t *x;
	size_t n = 0;

	json_object_foreach(v, k, x)
		n += !strcmp(envf_vuln_state(json_string_value(x)), state);
	if (many) {
		sb_printf(s, "; %zu %s", n, state);
		return;
	}
	sb_printf(s, "; %s:", state);
	json_object_foreach(v, k, x)
		if (!strcmp(envf_vuln_state(json_string_value(x)), state))
			sb_printf(s, " %s", k);
	if (!n)
		sb_add(s, " none");
}

static void mitigations_text(json_t *o, struct sbuf *s)
{
	json_t *c = json_object_get(o, "cmdline"), *v = json_object_get(o, "vulnerabilities");

	if (json_is_string(c))
		sb_printf(s, "mitigations=%s on the kernel command line", json_string_value(c));
	else
		sb_add(s, "no mitigations= on the kernel command line (the kernel's default)");
	if (!json_is_object(v)) {
		sb_add(s, "; ");
		unknown(o, "vulnerabilities", "vulnerabilities", s);
		return;
	}
	vuln_group(v, "vulnerable", false, s);
	vuln_group(v, "mitigated", false, s);
	vuln_group(v, "unknown", false, s);
	vuln_group(v, "not affected", true, s);
}

static void sysctl_text(json_t *o, struct sbuf *s)
{
	static const char *const keys[] = { "tcp_rmem", "tcp_wmem", "optmem_max", "rmem_max", "wmem_max" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(o, keys[i]);

		sb_add(s, i ? "; " : "");
		if (json_is_object(v))
			sb_printf(s, "%s %lld %lld %lld", keys[i],
				  (long long)json_integer_value(json_object_get(v, "min")),
				  (long long)json_integer_value(json_object_get(v, "default")),
				  (long long)json_integer_value(json_object_get(v, "max")));
		else if (json_is_integer(v))
			sb_printf(s, "%s %lld", keys[i], (long long)json_integer_value(v));
		else
			unknown(o, keys[i], keys[i], s);
	}
}

static void steering_text(json_t *o, struct sbuf *s)
{
	static const struct { const char *key, *label, *unit, *units; } parts[] = {
		{ "rps", "RPS", "queue", "queues" }, { "xps", "XPS", "queue", "queues" }, { "irqs", "IRQs", "IRQ", "IRQs" },
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_t *v = json_object_get(o, parts[i].key);
		char note[32];
		const char *why;

		sb_add(s, i ? "; " : "");
		if (json_is_object(v) && json_object_size(v)) {
			sb_add(s, parts[i].label);
			values(v, parts[i].unit, parts[i].units, s);
			continue;
		}
		snprintf(note, sizeof(note), "%s_note", parts[i].key);
		why = json_string_value(json_object_get(o, note));
		/* A virtual device's IRQ note is the whole fact: say it, without the path in brackets. */
		if (why && strstr(why, "the kernel shows none")) {
			sb_printf(s, "%s not offered by the kernel for this device", parts[i].label);
		} else if (why && !strncmp(why, "no IRQs:", 8)) {
			size_t n = strcspn(why + 8, "(");

			while (n && why[8 + n - 1] == ' ')
				n--;
			sb_printf(s, "IRQs none:%.*s", (int)n, why + 8);
		} else {
			unknown(o, parts[i].key, parts[i].label, s);
		}
	}
}

bool envtext_fact(json_t *obj, const char *key, struct sbuf *s)
{
	static const struct { const char *key; void (*text)(json_t *, struct sbuf *); } facts[] = {
		{ "cpufreq", cpufreq_text }, { "mitigations", mitigations_text },
		{ "net_sysctl", sysctl_text }, { "steering", steering_text },
	};
	json_t *v = json_object_get(obj, key);

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		if (strcmp(key, facts[i].key))
			continue;
		if (json_is_object(v))
			facts[i].text(v, s);
		else
			unknown(obj, key, key, s);
		return true;
	}
	return false;
}
