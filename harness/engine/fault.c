/* SPDX-License-Identifier: MIT */
/*
 * The table of fault kinds: name, value, the scenarios each applies to and
 * why, and a line of help.  Parsing, the check against a scenario and the
 * help text all come from this one table.
 */
#include "fault.h"
#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/results/record.h"

#include "harness/model/base.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

enum fault_value { FV_BYTES, FV_USEC, FV_HZ, FV_ROLE_AT };

#define SC(x) (1u << (x))
#define ALL_SCENARIOS ((1u << SC_COUNT) - 1)

static const struct fault_def {
	const char *name;
	enum fault_kind kind;
	enum fault_value value;
	uint32_t scenarios;		/* SC() bits */
	const char *needs;		/* what a scenario must have, for the refusal */
	const char *help;
} fault_table[] = {
	{ "sink-close", FAULT_SINK_CLOSE, FV_BYTES,
	  SC(SC_SERVE) | SC(SC_SEND) | SC(SC_RELAY) | SC(SC_FANOUT) | SC(SC_PIPE),
	  "fixed sink", "the sink closes after N bytes (a client that gives up)" },
	{ "sink-reset", FAULT_SINK_RESET, FV_BYTES,
	  SC(SC_SERVE) | SC(SC_SEND) | SC(SC_RELAY) | SC(SC_FANOUT) | SC(SC_ECHO),
	  "fixed peer receiving from a socket",
	  "the receiver resets the connection (RST) after N bytes" },
	{ "sink-halfclose", FAULT_SINK_HALFCLOSE, FV_BYTES,
	  SC(SC_SERVE) | SC(SC_SEND) | SC(SC_RELAY) | SC(SC_FANOUT),
	  "fixed sink on a socket",
	  "the sink sends its FIN (SHUT_WR) at N bytes, reads on" },
	{ "sink-stall", FAULT_SINK_STALL, FV_BYTES,
	  SC(SC_SERVE) | SC(SC_SEND) | SC(SC_RELAY) | SC(SC_FANOUT) | SC(SC_PIPE) | SC(SC_ECHO),
	  "fixed peer that receives",
	  "the receiver stops reading at N bytes (--timeout ends it)" },
	{ "sink-slow", FAULT_SINK_SLOW, FV_USEC,
	  SC(SC_SERVE) | SC(SC_SEND) | SC(SC_RELAY) | SC(SC_FANOUT) | SC(SC_PIPE) | SC(SC_ECHO),
	  "fixed peer that receives",
	  "the receiver: 4 KiB SO_RCVBUF and reads, USEC asleep after each" },
	{ "source-reset", FAULT_SOURCE_RESET, FV_BYTES,
	  SC(SC_RELAY) | SC(SC_FANOUT) | SC(SC_STORE) | SC(SC_ECHO) | SC(SC_RECV),
	  "fixed source on a socket", "the source resets the connection (RST) after N bytes" },
	{ "source-halfclose", FAULT_SOURCE_HALFCLOSE, FV_BYTES,
	  SC(SC_RELAY) | SC(SC_FANOUT) | SC(SC_STORE) | SC(SC_ECHO) | SC(SC_RECV),
	  "fixed source on a socket",
	  "the source ends early: SHUT_WR after N bytes (short stream)" },
	{ "signals", FAULT_SIGNALS, FV_HZ, ALL_SCENARIOS, "",
	  "SIGUSR1/SIGCHLD, HZ a second, to the role under test (EINTR)" },
	{ "truncate", FAULT_TRUNCATE, FV_BYTES, SC(SC_SERVE) | SC(SC_COPY),
	  "source file", "the source file is cut to N bytes once the role has opened it" },
	{ "kill", FAULT_KILL, FV_ROLE_AT, ALL_SCENARIOS, "",
	  "that role is SIGKILLed once it has moved N bytes" },
};

#define NKINDS (sizeof(fault_table) / sizeof(fault_table[0]))

static const struct fault_def *def_of(enum fault_kind k)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (fault_table[i].kind == k)
			return &fault_table[i];
	return NULL;
}

const char *fault_name(enum fault_kind k)
{
	const struct fault_def *d = def_of(k);

	return d ? d->name : "none";
}

int fault_parse(const char *arg, struct fault *f, char *err, size_t errlen)
{
	for (size_t i = 0; i < NKINDS; i++) {
		const struct fault_def *d = &fault_table[i];
		size_t n = strlen(d->name);
		const char *v = arg + n + 1;
		char opt[48];
		long count;

		if (strncmp(arg, d->name, n) || arg[n] != '=')
			continue;
		memset(f, 0, sizeof(*f));
		f->kind = d->kind;
		f->role_index = -1;
		snprintf(opt, sizeof(opt), "--fault %s=", d->name);
		switch (d->value) {
		case FV_BYTES:
			return parse_size(opt, v, 1ull << 40, &f->n, err, errlen) ? -EINVAL : 0;
		case FV_USEC:
			if (parse_count(opt, v, 1, 1000000, &count, err, errlen))
				return -EINVAL;
			f->n = (uint64_t)count;
			return 0;
		case FV_HZ:
			if (parse_count(opt, v, 1, 100000, &count, err, errlen))
				return -EINVAL;
			f->n = (uint64_t)count;
			return 0;
		case FV_ROLE_AT: {
			const char *at = strchr(v, '@');

			if (!at || at == v || (size_t)(at - v) >= sizeof(f->role)) {
				snprintf(err, errlen, "--fault kill=%s: use kill=ROLE@N, a role of the scenario and a byte count, e.g. kill=sink@64K",
					 v);
				return -EINVAL;
			}
			snprintf(f->role, sizeof(f->role), "%.*s", (int)(at - v), v);
			return parse_size("--fault kill=ROLE@", at + 1, 1ull << 40, &f->n, err, errlen) ? -EINVAL : 0;
		}
		}
	}
	return 1;
}

static void scenarios_of(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int sc = 0; sc < SC_COUNT && used < len; sc++)
		if (mask & SC(sc))
			used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "", scenario_name(sc));
}

int fault_check(struct fault *f, enum scenario sc, bool remote, char *err, size_t errlen)
{
	const struct fault_def *d = def_of(f->kind);
	const struct scenario_def *s = scenario_def(sc);
	char list[128];

	if (!d)
		return 0;
	if (!(d->scenarios & SC(sc))) {
		scenarios_of(d->scenarios, list, sizeof(list));
		snprintf(err, errlen, "--fault %s: scenario %s has no %s; it applies to %s",
			 d->name, s->name, d->needs, list);
		return -EINVAL;
	}
	if (remote && f->kind != FAULT_SINK_CLOSE) {
		snprintf(err, errlen, "--fault %s: over --transport nic the fixed roles are the far host's daemons; it applies to the local transports (tcp, unix, veth)",
			 d->name);
		return -EINVAL;
	}
	if (f->kind == FAULT_KILL) {
		size_t used = 0;

		for (int i = 0; i < s->nroles; i++)
			if (!strcmp(s->roles[i], f->role)) {
				f->role_index = i;
				return 0;
			}
		list[0] = '\0';
		for (int i = 0; i < s->nroles; i++)
			used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", s->roles[i]);
		snprintf(err, errlen, "--fault kill=%s@...: scenario %s has no role '%s'; its roles: %s",
			 f->role, s->name, f->role, list);
		return -EINVAL;
	}
	return 0;
}

bool fault_at_offset(enum fault_kind k)
{
	const struct fault_def *d = def_of(k);

	return d && (d->value == FV_BYTES || d->value == FV_ROLE_AT);
}

const char *corruption_name(enum corruption c)
{
	static const char *const names[] = { "none", "flip", "drop", "dup", "swap" };

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

/* A byte count as --fault takes it, with the largest suffix that is exact. */
static void size_text(uint64_t n, char *buf, size_t len)
{
	static const char suffix[] = "GMK";

	for (int i = 0; i < 3; i++) {
		uint64_t unit = 1ull << (10 * (3 - i));

		if (n && n % unit == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(n / unit), suffix[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)n);
}

void fault_text(const struct fault *f, enum corruption c, uint64_t corrupt_at, char *buf, size_t len)
{
	const struct fault_def *d = def_of(f->kind);
	char n[32];

	buf[0] = '\0';
	if (c != CORRUPT_NONE) {
		size_text(corrupt_at, n, sizeof(n));
		snprintf(buf, len, "%s@%s", corruption_name(c), n);
		return;
	}
	if (!d)
		return;
	if (d->value == FV_BYTES || d->value == FV_ROLE_AT)
		size_text(f->n, n, sizeof(n));
	else
		snprintf(n, sizeof(n), "%llu", (unsigned long long)f->n);
	if (d->value == FV_ROLE_AT)
		snprintf(buf, len, "kill=%s@%s", f->role, n);
	else
		snprintf(buf, len, "%s=%s", d->name, n);
}

int fault_check_reach(const struct fault *f, enum corruption c, uint64_t corrupt_at, uint64_t size,
		      char *err, size_t errlen)
{
	char text[64];

	if (c != CORRUPT_NONE) {
		fault_text(f, c, corrupt_at, text, sizeof(text));
		if (corrupt_at >= size) {
			snprintf(err, errlen, "--fault %s: byte %llu is past the payload of %llu bytes (--size), so no byte would be damaged; give an offset below %llu",
				 text, (unsigned long long)corrupt_at, (unsigned long long)size,
				 (unsigned long long)size);
			return -EINVAL;
		}
		/* Two whole blocks, or the swap would exchange less than it says. */
		if (c == CORRUPT_SWAP && size - corrupt_at < 2 * CORRUPT_BLOCK) {
			snprintf(err, errlen, "--fault %s: swap exchanges the %d bytes at N with the %d after them, so it needs N + %d <= --size (%llu); give N of at most %llu",
				 text, CORRUPT_BLOCK, CORRUPT_BLOCK, 2 * CORRUPT_BLOCK, (unsigned long long)size,
				 size >= 2 * CORRUPT_BLOCK ? (unsigned long long)(size - 2 * CORRUPT_BLOCK) : 0ull);
			return -EINVAL;
		}
		return 0;
	}
	if (!fault_at_offset(f->kind) || f->n < size)
		return 0;
	fault_text(f, c, corrupt_at, text, sizeof(text));
	if (f->kind == FAULT_TRUNCATE)
		snprintf(err, errlen, "--fault %s: the source file is %llu bytes (--size), so cutting it to %llu cuts nothing; give N below %llu",
			 text, (unsigned long long)size, (unsigned long long)f->n, (unsigned long long)size);
	else
		snprintf(err, errlen, "--fault %s: the payload is %llu bytes (--size), so a fault at byte %llu would never fire; give N below %llu",
			 text, (unsigned long long)size, (unsigned long long)f->n, (unsigned long long)size);
	return -EINVAL;
}

void fault_outcome_begin(struct fault_outcome *o, const struct fault *f, enum corruption c,
			 uint64_t corrupt_at, const char *role)
{
	memset(o, 0, sizeof(*o));
	fault_text(f, c, corrupt_at, o->asked, sizeof(o->asked));
	if (!o->asked[0])
		return;
	snprintf(o->kind, sizeof(o->kind), "%s", c != CORRUPT_NONE ? corruption_name(c) : fault_name(f->kind));
	snprintf(o->role, sizeof(o->role), "%s", role ? role : "");
	o->at_offset = c != CORRUPT_NONE || fault_at_offset(f->kind);
	o->at = c != CORRUPT_NONE ? corrupt_at : o->at_offset ? f->n : 0;
}

int fault_outcome_check(const struct fault_outcome *o, char *err, size_t errlen)
{
	if (!o->asked[0] || o->fired)
		return 0;
	if (!strcmp(o->kind, "signals"))
		snprintf(err, errlen, "--fault %s did not fire: no signal was sent before the %s ended",
			 o->asked, o->role[0] ? o->role : "role");
	else if (o->role[0] && o->at_offset)
		snprintf(err, errlen, "--fault %s did not fire: the %s moved %llu bytes, fewer than %llu",
			 o->asked, o->role, (unsigned long long)o->role_bytes, (unsigned long long)o->at);
	else if (o->at_offset)
		snprintf(err, errlen, "--fault %s did not fire: byte %llu is past the %llu bytes of the payload",
			 o->asked, (unsigned long long)o->at, (unsigned long long)o->role_bytes);
	else
		snprintf(err, errlen, "--fault %s did not fire: the %s never acted it out",
			 o->asked, o->role[0] ? o->role : "role");
	return -1;
}

const char *fault_help(void)
{
	static char buf[2048];
	size_t used = 0;

	if (buf[0])
		return buf;
	for (size_t i = 0; i < NKINDS && used < sizeof(buf); i++) {
		const struct fault_def *d = &fault_table[i];
		static const char *const value[] = { "N", "USEC", "HZ", "ROLE@N" };
		char head[40], list[128];

		snprintf(head, sizeof(head), "%s=%s", d->name, value[d->value]);
		if (d->value == FV_ROLE_AT)
			snprintf(head, sizeof(head), "kill=ROLE@N");
		scenarios_of(d->scenarios, list, sizeof(list));
		used += snprintf(buf + used, sizeof(buf) - used, "    %-20s %s\n    %-20s (%s)\n", head, d->help, "",
				 d->scenarios == ALL_SCENARIOS ? "every scenario" : list);
	}
	return buf;
}

/*
 * --fault signals=HZ: SIGUSR1 and SIGCHLD in turn to the role under test (pid),
 * HZ a second, while the parent waits for the reports.  Returns how long
 * (ms) the wait may block before the next signal is due.
 */
int fault_signal_storm(pid_t pid, uint64_t hz, uint64_t *sent_total, int64_t *next_ns, int ms)
{
	int64_t period = 1000000000 / (int64_t)hz, now = now_ns();
	int sent = 0;

	if (*next_ns == 0)
		*next_ns = now;
	while (*next_ns <= now && sent++ < 1000) {
		if (pid > 0)
			kill(pid, (*sent_total)++ % 2 ? SIGCHLD : SIGUSR1);
		*next_ns += period;
	}
	if (*next_ns < now)
		*next_ns = now + period;	/* fell behind (a loaded machine): skip, do not burst */
	int due = (int)((*next_ns - now + 999999) / 1000000);

	return due < ms ? due : ms;
}
