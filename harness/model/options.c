/* SPDX-License-Identifier: MIT */
/* Value parsers of the command line, with errors that teach. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE_HELP "use a whole number of bytes with an optional K, M or G suffix (powers of 1024), e.g. 4096, 64K, 1M, 1G"

int parse_size(const char *opt, const char *s, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!s || !*s || !isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "%s: '%s' is not a size; %s", opt, s ? s : "", SIZE_HELP);
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		goto too_big;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ull << 10; break;
		case 'M': mult = 1ull << 20; break;
		case 'G': mult = 1ull << 30; break;
		default: mult = 0; break;
		}
		/* Accept "64K", "64KiB" and "64KB" alike, nothing else. */
		if (mult && end[1] && strcasecmp(end + 1, "iB") && strcasecmp(end + 1, "B"))
			mult = 0;
		if (!mult) {
			snprintf(err, errlen, "%s: '%s' has an unknown suffix '%s'; %s", opt, s, end, SIZE_HELP);
			return -EINVAL;
		}
	}
	if (v > max / mult)
		goto too_big;
	*out = v * mult;
	return 0;
too_big:
	snprintf(err, errlen, "%s: '%s' is too large; the most it takes is %" PRIu64 " bytes", opt, s, max);
	return -ERANGE;
}

int parse_count(const char *opt, const char *s, long min, long max, long *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s ? s : "", &end, 10);
	if (!s || !*s || *end || errno || v < min || v > max) {
		snprintf(err, errlen, "%s: '%s' is not a whole number from %ld to %ld", opt, s ? s : "", min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int parse_seconds(const char *opt, const char *s, double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s ? s : "", &end);
	if (!s || !*s || *end || errno || !isfinite(v) || v <= 0 || v > 86400) {
		snprintf(err, errlen, "%s: '%s' is not a number of seconds above 0 and at most 86400 (e.g. 30, 0.5)",
			 opt, s ? s : "");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* 0.001 -> "1ms", 3600 -> "1h": a bound as the user would write it. */
static void duration_words(double s, char *buf, size_t len)
{
	if (s >= 3600 && fmod(s, 3600) == 0)
		snprintf(buf, len, "%gh", s / 3600);
	else if (s >= 60 && fmod(s, 60) == 0)
		snprintf(buf, len, "%gm", s / 60);
	else if (s >= 1)
		snprintf(buf, len, "%gs", s);
	else
		snprintf(buf, len, "%gms", s * 1000);
}

int parse_duration(const char *opt, const char *s, double min_s, double max_s, double *out,
		   char *err, size_t errlen)
{
	/* ms divides, so 100ms is the double nearest 0.1, as "0.1" would be. */
	static const struct { const char *unit; double mul, div; } units[] = {
		{ "", 1, 1 }, { "ms", 1, 1000 }, { "s", 1, 1 }, { "m", 60, 1 },
	};
	char lo[24], hi[24];
	const char *p = s ? s : "";
	size_t digits = strspn(p, "0123456789."), i;
	double v;

	duration_words(min_s, lo, sizeof(lo));
	duration_words(max_s, hi, sizeof(hi));
	/* Digits and one point only: strtod would take "nan", "inf", "1e3" and a sign. */
	if (digits == 0 || strchr(p, '.') != strrchr(p, '.') || !isdigit((unsigned char)p[digits - 1]) ||
	    !isdigit((unsigned char)p[0]))
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(p + digits, units[i].unit))
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		goto bad;
	v = strtod(p, NULL) * units[i].mul / units[i].div;
	/* A hair of slack: 0.001 * 1 ms is not quite 1e-3 in binary. */
	if (!isfinite(v) || v < min_s * (1 - 1e-9) || v > max_s * (1 + 1e-9)) {
		snprintf(err, errlen, "%s: '%s' is out of range; give a duration from %s to %s", opt, p, lo, hi);
		return -ERANGE;
	}
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%s' is not a duration; give a number with ms, s or m, from %s to %s (e.g. 500ms, 10s, 2m)",
		 opt, p, lo, hi);
	return -EINVAL;
}

const char *strategy_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < strategy_count && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", strategy_table[i]->name);
	return buf;
}

#define TRUNC_RECV_ONLY "MSG_TRUNC throws the received bytes away, and only recv's receiver (whose output is its own memory) can do without them; elsewhere they must go on to a file or a socket"
#define BUSY_WHERE "busy spins where a call would wait for the other side: the echo server for its client, the pipe writer for its reader; copylab run's other scenarios, copy, serve and relay do not spin (their loops sleep in poll or epoll)"
#define SC_BIT(sc) (1u << (sc))
#define TRUNC_NOT_UNIX "AF_UNIX stream sockets cannot discard with MSG_TRUNC: recv(NULL, MSG_TRUNC) copies there and fails with EFAULT"

/*
 * The options a label may carry, and the tunable each one sets.  An
 * option meant for some scenarios names them (only_in, a mask of
 * SC_BIT, with why elsewhere); one that AF_UNIX cannot honour says why
 * in not_unix.
 */
static const struct {
	const char *name;
	uint32_t bit;
	bool takes_size;
	uint32_t only_in;	/* SC_BIT of the scenarios it runs in; 0: any scenario */
	const char *elsewhere_why;
	const char *not_unix;
} label_options[] = {
	{ .name = "pipe", .bit = TUN_PIPE_SIZE, .takes_size = true },
	{ .name = "more", .bit = TUN_MORE, .takes_size = false },
	{ .name = "move", .bit = TUN_MOVE, .takes_size = false },
	{ .name = "gift", .bit = TUN_GIFT, .takes_size = false },
	{ .name = "hugepages", .bit = TUN_HUGEPAGES, .takes_size = false },
	{ .name = "populate", .bit = TUN_POPULATE, .takes_size = false },
	{ .name = "ring", .bit = TUN_RING, .takes_size = true },
	{ .name = "batch", .bit = TUN_BATCH, .takes_size = true },
	{ .name = "sqpoll", .bit = TUN_SQPOLL, .takes_size = false },
	{ .name = "trunc", .bit = TUN_TRUNC, .only_in = SC_BIT(SC_RECV), .elsewhere_why = TRUNC_RECV_ONLY,
	  .not_unix = TRUNC_NOT_UNIX },
	{ .name = "busy", .bit = TUN_BUSY, .only_in = SC_BIT(SC_ECHO) | SC_BIT(SC_PIPE), .elsewhere_why = BUSY_WHERE },
};

bool label_option_limit(size_t i, struct label_limit *out)
{
	for (size_t k = 0; k < sizeof(label_options) / sizeof(label_options[0]); k++) {
		if (!label_options[k].only_in && !label_options[k].not_unix)
			continue;
		if (i--)
			continue;
		*out = (struct label_limit){ .name = label_options[k].name, .bit = label_options[k].bit,
			.only_in = label_options[k].only_in, .elsewhere_why = label_options[k].elsewhere_why,
			.not_unix = label_options[k].not_unix };
		return true;
	}
	return false;
}

const char *spec_option_refusal(const struct strategy_spec *spec, enum scenario sc, bool af_unix)
{
	for (size_t i = 0; i < sizeof(label_options) / sizeof(label_options[0]); i++) {
		if (!(spec->tun.set & label_options[i].bit))
			continue;
		if (label_options[i].only_in && !(label_options[i].only_in & SC_BIT(sc)))
			return label_options[i].elsewhere_why;
		if (af_unix && label_options[i].not_unix)
			return label_options[i].not_unix;
	}
	return NULL;
}

static const char *accepted_options(const struct strategy *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(label_options) / sizeof(label_options[0]); i++)
		if (s->tunables & label_options[i].bit)
			used += snprintf(buf + used, len - used, "%s%s%s", used ? ", " : "",
					 label_options[i].name, label_options[i].takes_size ? "=SIZE" : "");
	if (!used)
		snprintf(buf, len, "none");
	return buf;
}

static int apply_label_option(struct strategy_spec *spec, char *opt, char *err, size_t errlen)
{
	char *val = strchr(opt, '=');
	char names[128];

	if (val)
		*val++ = '\0';
	for (size_t i = 0; i < sizeof(label_options) / sizeof(label_options[0]); i++) {
		if (strcmp(opt, label_options[i].name))
			continue;
		if (!(spec->s->tunables & label_options[i].bit))
			break;
		if (label_options[i].takes_size != (val != NULL)) {
			snprintf(err, errlen, "strategy option '%s' %s", opt,
				 val ? "takes no value" : "needs a value, e.g. pipe=1M");
			return -EINVAL;
		}
		spec->tun.set |= label_options[i].bit;
		switch (label_options[i].bit) {
		case TUN_PIPE_SIZE: {
			uint64_t v;

			if (parse_size("pipe=", val, 1ull << 31, &v, err, errlen))
				return -EINVAL;
			spec->tun.pipe_size = v;
			break;
		}
		case TUN_MORE: spec->tun.more = true; break;
		case TUN_MOVE: spec->tun.move = true; break;
		case TUN_GIFT: spec->tun.gift = true; break;
		case TUN_HUGEPAGES: spec->tun.hugepages = true; break;
		case TUN_POPULATE: spec->tun.populate = true; break;
		case TUN_RING:
		case TUN_BATCH: {
			long v;

			if (parse_count(label_options[i].bit == TUN_RING ? "ring=" : "batch=", val,
					1, 4096, &v, err, errlen))
				return -EINVAL;
			if (label_options[i].bit == TUN_RING)
				spec->tun.ring_entries = (unsigned)v;
			else
				spec->tun.batch = (unsigned)v;
			break;
		}
		case TUN_SQPOLL: spec->tun.sqpoll = true; break;
		case TUN_TRUNC: spec->tun.trunc = true; break;
		case TUN_BUSY: spec->tun.busy = true; break;
		}
		return 0;
	}
	snprintf(err, errlen, "strategy %s has no option '%s'; its options: %s",
		 spec->s->name, opt, accepted_options(spec->s, names, sizeof(names)));
	return -EINVAL;
}

/*
 * The options after the name, each once: an empty one (a doubled or a
 * trailing ':') is a typo that would otherwise pass unseen, and a repeated
 * one would leave the label saying two values where one is used.
 */
static int apply_label_options(struct strategy_spec *spec, char *opts, char *err, size_t errlen)
{
	uint32_t seen = 0;
	char *opt;

	while ((opt = strsep(&opts, ":"))) {
		size_t n = strcspn(opt, "=");

		if (!*opt) {
			snprintf(err, errlen, "strategy '%s' has an empty option (a doubled or trailing ':'); write name:option:option, e.g. splice:more:pipe=1M",
				 spec->label);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(label_options) / sizeof(label_options[0]); i++) {
			if (strlen(label_options[i].name) != n || strncmp(opt, label_options[i].name, n))
				continue;
			if (seen & label_options[i].bit) {
				snprintf(err, errlen, "strategy '%s' gives option '%s' twice; give each option once",
					 spec->label, label_options[i].name);
				return -EINVAL;
			}
			seen |= label_options[i].bit;
		}
		if (apply_label_option(spec, opt, err, errlen))
			return -EINVAL;
	}
	return 0;
}

int parse_strategy_spec(const char *label, struct strategy_spec *spec, char *err, size_t errlen)
{
	char buf[sizeof(spec->label)], names[256], why[320], *opts;

	memset(spec, 0, sizeof(*spec));
	if (strlen(label) >= sizeof(spec->label)) {
		snprintf(err, errlen, "strategy '%.40s...' is %zu characters long; a label takes at most %zu",
			 label, strlen(label), sizeof(spec->label) - 1);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", label);
	snprintf(spec->label, sizeof(spec->label), "%s", label);
	opts = buf;
	strsep(&opts, ":");
	spec->s = strategy_find(buf);
	if (!spec->s) {
		snprintf(err, errlen, "unknown strategy '%s'; valid: %s", buf, strategy_names(names, sizeof(names)));
		return -EINVAL;
	}
	if (opts && apply_label_options(spec, opts, err, errlen))
		return -EINVAL;
	if (spec->s->check_tunables && spec->s->check_tunables(&spec->tun, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", spec->label, why);
		return -EINVAL;
	}
	return 0;
}

/* "   24317480 kB" after a meminfo key: the bytes, or -EINVAL. */
static int meminfo_kb(const char *q, uint64_t *bytes)
{
	unsigned long long kb;
	char *end;

	while (*q == ' ' || *q == '\t')
		q++;
	if (!isdigit((unsigned char)*q))
		return -EINVAL;
	errno = 0;
	kb = strtoull(q, &end, 10);
	if (errno || kb > UINT64_MAX / 1024)
		return -EINVAL;
	while (*end == ' ' || *end == '\t')
		end++;
	if (strncmp(end, "kB", 2) || (end[2] && end[2] != '\n'))
		return -EINVAL;
	*bytes = (uint64_t)kb * 1024;
	return 0;
}

int parse_meminfo_available(const char *text, uint64_t *bytes)
{
	static const char key[] = "MemAvailable:";
	const char *line = text;

	while (line && *line) {
		if (!strncmp(line, key, sizeof(key) - 1))
			return meminfo_kb(line + sizeof(key) - 1, bytes);
		if ((line = strchr(line, '\n')))
			line++;
	}
	return -ENOENT;
}

const char *human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	double v = n;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	/* A size that is not a whole unit is clearer in bytes. */
	if (u > 0 && n % (1ull << (10 * u)) && n < (1ull << 30))
		snprintf(buf, len, "%" PRIu64 " B", n);
	return buf;
}
