/* SPDX-License-Identifier: MIT */
/*
 * env.json's facts that can turn a verdict around: cpufreq, mitigations,
 * net sysctls and a link's steering (envfacts.h).  Parsers first, without
 * I/O; then the collectors, which only read files.
 */
#include "envfacts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parsers (no I/O) -------------------------------------------------------- */

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* An integer >= 0 at *s, moving *s past it. */
static bool take_integer(const char **s, long long *v)
{
	const char *p = skip_space(*s);
	char *end;

	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	*v = strtoll(p, &end, 10);
	if (errno)
		return false;
	*s = end;
	return true;
}

int envf_parse_triple(const char *text, long long v[3])
{
	const char *s = text;

	for (int i = 0; i < 3; i++)
		if (!s || !take_integer(&s, &v[i]))
			return -EINVAL;
	return *skip_space(s) ? -EINVAL : 0;
}

int envf_parse_integer(const char *text, long long *v)
{
	const char *s = text;

	if (!s || !take_integer(&s, v))
		return -EINVAL;
	return *skip_space(s) ? -EINVAL : 0;
}

int envf_parse_flag(const char *text)
{
	long long v;

	return envf_parse_integer(text, &v) == 0 && (v == 0 || v == 1) ? (int)v : -1;
}

bool envf_cmdline_mitigations(const char *cmdline, char *out, size_t len)
{
	static const char key[] = "mitigations=";
	const char *s = cmdline;
	bool found = false;

	while (s && *(s = skip_space(s))) {
		size_t n = strcspn(s, " \t\n");

		if (n == 2 && !strncmp(s, "--", 2))
			break;	/* the rest is init's */
		if (n >= sizeof(key) - 1 && !strncmp(s, key, sizeof(key) - 1)) {
			snprintf(out, len, "%.*s", (int)(n - (sizeof(key) - 1)), s + sizeof(key) - 1);
			found = true;
		}
		s += n;
	}
	return found;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends "a" or "a-b" to out; false when it does not fit. */
static bool add_range(char *out, size_t len, size_t *at, unsigned a, unsigned b)
{
	int n = a == b ? snprintf(out + *at, len - *at, "%s%u", *at ? "," : "", a)
		       : snprintf(out + *at, len - *at, "%s%u-%u", *at ? "," : "", a, b);

	if (n < 0 || (size_t)n >= len - *at)
		return false;
	*at += (size_t)n;
	return true;
}

int envf_mask_cpus(const char *mask, char *out, size_t len)
{
	const char *s = mask ? skip_space(mask) : "";
	size_t digits = 0, at = 0, end = strlen(s);
	unsigned cpu, start = 0;
	bool in = false;

	while (end && isspace((unsigned char)s[end - 1]))
		end--;
	for (size_t i = 0; i < end; i++)
		if (hex_value(s[i]) >= 0)
			digits++;
		else if (s[i] != ',' || i == 0 || i + 1 == end || s[i + 1] == ',')
			return -EINVAL;
	if (!digits || !len || digits > 4096)
		return -EINVAL;
	out[0] = '\0';
	/* CPU 0 is the lowest bit of the last hex digit: walk from the end. */
	cpu = 0;
	for (size_t i = end; i-- > 0;) {
		int d = hex_value(s[i]);

		if (d < 0)
			continue;
		for (int bit = 0; bit < 4; bit++, cpu++) {
			bool set = (d >> bit) & 1;

			if (set && !in)
				start = cpu, in = true;
			if (!set && in && !add_range(out, len, &at, start, cpu - 1))
				return -EINVAL;
			in = set;
		}
	}
	if (in && !add_range(out, len, &at, start, cpu - 1))
		return -EINVAL;
	if (at)
		return 0;
	if (len < sizeof("none"))
		return -EINVAL;	/* "non" would read as a list */
	snprintf(out, len, "none");
	return 0;
}

bool envf_irq_name(const char *name, unsigned *irq)
{
	long long v;

	if (!name || !isdigit((unsigned char)name[0]) || strspn(name, "0123456789") != strlen(name) ||
	    envf_parse_integer(name, &v) || v > UINT32_MAX)
		return false;
	*irq = (unsigned)v;
	return true;
}

const char *envf_vuln_state(const char *text)
{
	static const struct { const char *prefix, *state; } states[] = {
		{ "Not affected", "not affected" }, { "Mitigation", "mitigated" }, { "Vulnerable", "vulnerable" },
	};

	for (size_t i = 0; text && i < sizeof(states) / sizeof(states[0]); i++)
		if (!strncmp(text, states[i].prefix, strlen(states[i].prefix)))
			return states[i].state;
	return "unknown";
}

/* ---- reading ------------------------------------------------------------------- */

/* The first len - 1 bytes of PATH (under root), trimmed of the trailing newline; why says what failed. */
static bool read_text(const char *root, const char *path, char *buf, size_t len, char *why, size_t whylen)
{
	char full[512];
	FILE *f;
	size_t n;

	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "re");
	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return false;
	}
	n = fread(buf, 1, len - 1, f);
	if (ferror(f)) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		fclose(f);
		return false;
	}
	fclose(f);
	buf[n] = '\0';
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return true;
}

/* Sets KEY to V, or to null with KEY_note = why when V is NULL. */
static void set_or_note(json_t *o, const char *key, json_t *v, const char *why)
{
	char note[80];

	json_object_set_new(o, key, v ? v : json_null());
	if (v)
		return;
	snprintf(note, sizeof(note), "%s_note", key);
	json_object_set_new(o, note, json_string(why));
}

/* The names in DIR (under root) that start with PREFIX, sorted; NULL when DIR cannot be opened. */
static struct dirent **list_dir(const char *root, const char *dir, const char *prefix, int *n)
{
	char full[512];
	struct dirent **v = NULL, **keep;
	int all, k = 0;

	snprintf(full, sizeof(full), "%s%s", root, dir);
	all = scandir(full, &v, NULL, versionsort);
	if (all < 0)
		return NULL;
	keep = v;
	for (int i = 0; i < all; i++) {
		if (!strncmp(v[i]->d_name, prefix, strlen(prefix)) && v[i]->d_name[0] != '.')
			keep[k++] = v[i];
		else
			free(v[i]);
	}
	*n = k;
	return keep;
}

static void free_list(struct dirent **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- cpufreq ------------------------------------------------------------------- */

#define CPUFREQ "/sys/devices/system/cpu/cpufreq"

static json_t *governors(const char *root, char *why, size_t whylen)
{
	int n = 0;
	struct dirent **pol = list_dir(root, CPUFREQ, "policy", &n);
	json_t *g;

	if (!pol || !n) {
		snprintf(why, whylen, "no %s/policy*: no cpufreq driver is loaded, so no governor applies",
			 CPUFREQ);
		free_list(pol, n);
		return NULL;
	}
	g = json_object();
	for (int i = 0; i < n; i++) {
		char path[384], v[64], e[200];

		snprintf(path, sizeof(path), CPUFREQ "/%s/scaling_governor", pol[i]->d_name);
		json_object_set_new(g, pol[i]->d_name,
				    read_text(root, path, v, sizeof(v), e, sizeof(e)) ? json_string(v) : json_null());
	}
	free_list(pol, n);
	return g;
}

json_t *envf_cpufreq(const char *root)
{
	json_t *o = json_object();
	char v[32], why[480], e1[200] = "it reads neither 0 nor 1", e2[200] = "it reads neither 0 nor 1";
	int flag;

	set_or_note(o, "governor", governors(root, why, sizeof(why)), why);
	if (read_text(root, CPUFREQ "/boost", v, sizeof(v), e1, sizeof(e1)) && (flag = envf_parse_flag(v)) >= 0) {
		json_object_set_new(o, "boost", json_boolean(flag));
		json_object_set_new(o, "boost_source", json_string(CPUFREQ "/boost"));
	} else if (read_text(root, "/sys/devices/system/cpu/intel_pstate/no_turbo", v, sizeof(v), e2, sizeof(e2)) &&
		   (flag = envf_parse_flag(v)) >= 0) {
		json_object_set_new(o, "boost", json_boolean(!flag));
		json_object_set_new(o, "boost_source", json_string("/sys/devices/system/cpu/intel_pstate/no_turbo"));
	} else {
		snprintf(why, sizeof(why), "neither boost nor intel_pstate/no_turbo tells (%s; %s)", e1, e2);
		set_or_note(o, "boost", NULL, why);
	}
	return o;
}

/* ---- mitigations ------------------------------------------------------------- */

#define VULNS "/sys/devices/system/cpu/vulnerabilities"

static json_t *vulnerabilities(const char *root, char *why, size_t whylen)
{
	int n = 0;
	struct dirent **d = list_dir(root, VULNS, "", &n);
	json_t *o;

	if (!d || !n) {
		snprintf(why, whylen, "no %s: the kernel predates it or does not show it", VULNS);
		free_list(d, n);
		return NULL;
	}
	o = json_object();
	for (int i = 0; i < n; i++) {
		char path[300], v[512], e[200];

		snprintf(path, sizeof(path), VULNS "/%s", d[i]->d_name);
		if (read_text(root, path, v, sizeof(v), e, sizeof(e)))
			json_object_set_new(o, d[i]->d_name, json_string(v));
	}
	free_list(d, n);
	return o;
}

json_t *envf_mitigations(const char *root)
{
	json_t *o = json_object();
	static char cmdline[8192];
	char why[300], v[256];

	set_or_note(o, "vulnerabilities", vulnerabilities(root, why, sizeof(why)), why);
	if (!read_text(root, "/proc/cmdline", cmdline, sizeof(cmdline), why, sizeof(why)))
		set_or_note(o, "cmdline", NULL, why);
	else if (envf_cmdline_mitigations(cmdline, v, sizeof(v)))
		json_object_set_new(o, "cmdline", json_string(v));
	else
		set_or_note(o, "cmdline", NULL, "the kernel command line has no mitigations=: the built-in default applies");
	return o;
}

/* ---- net sysctls ----------------------------------------------------------------- */

json_t *envf_net_sysctl(const char *root)
{
	static const char *const triples[] = { "ipv4/tcp_rmem", "ipv4/tcp_wmem" };
	static const char *const ints[] = { "core/optmem_max", "core/rmem_max", "core/wmem_max" };
	json_t *o = json_object();
	char path[128], v[128], why[320];
	long long t[3], n;

	for (size_t i = 0; i < sizeof(triples) / sizeof(triples[0]); i++) {
		json_t *j = NULL;

		snprintf(path, sizeof(path), "/proc/sys/net/%s", triples[i]);
		if (read_text(root, path, v, sizeof(v), why, sizeof(why))) {
			if (envf_parse_triple(v, t) == 0)
				j = json_pack("{s:I, s:I, s:I}", "min", (json_int_t)t[0], "default", (json_int_t)t[1],
					      "max", (json_int_t)t[2]);
			else
				snprintf(why, sizeof(why), "%s reads \"%.60s\", not three integers", path, v);
		}
		set_or_note(o, strchr(triples[i], '/') + 1, j, why);
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		json_t *j = NULL;

		snprintf(path, sizeof(path), "/proc/sys/net/%s", ints[i]);
		if (read_text(root, path, v, sizeof(v), why, sizeof(why))) {
			if (envf_parse_integer(v, &n) == 0)
				j = json_integer((json_int_t)n);
			else
				snprintf(why, sizeof(why), "%s reads \"%.60s\", not an integer", path, v);
		}
		set_or_note(o, strchr(ints[i], '/') + 1, j, why);
	}
	return o;
}

/* ---- a link's steering ------------------------------------------------------------ */

/* Queue name -> CPU list of ATTR ("rps_cpus" of rx-*, "xps_cpus" of tx-*); NULL when no queue has it. */
static json_t *queue_masks(const char *root, const char *dev, const char *prefix, const char *attr,
			   char *why, size_t whylen)
{
	char dir[300];
	int n = 0;
	struct dirent **q;
	json_t *o = NULL;

	snprintf(dir, sizeof(dir), "/sys/class/net/%s/queues", dev);
	if (!(q = list_dir(root, dir, prefix, &n))) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		char path[600], v[1200], cpus[256], e[200];

		snprintf(path, sizeof(path), "%s/%s/%s", dir, q[i]->d_name, attr);
		if (!read_text(root, path, v, sizeof(v), e, sizeof(e)))
			continue;	/* the kernel hides a file that does not apply */
		if (!o)
			o = json_object();
		json_object_set_new(o, q[i]->d_name,
				    envf_mask_cpus(v, cpus, sizeof(cpus)) == 0 ? json_string(cpus) : json_null());
	}
	if (!o)
		snprintf(why, whylen, "no %s/%s*/%s: the kernel shows none for this device", dir, prefix, attr);
	free_list(q, n);
	return o;
}

/* IRQ -> smp_affinity_list of the IRQs in DEV's device/msi_irqs. */
static json_t *link_irqs(const char *root, const char *dev, char *why, size_t whylen)
{
	char path[300];
	int n = 0;
	struct dirent **d;
	json_t *o;
	unsigned irq;

	snprintf(path, sizeof(path), "%s/sys/class/net/%s/device", root, dev);
	if (access(path, F_OK)) {
		snprintf(why, whylen, "no IRQs: a virtual device (no /sys/class/net/%s/device)", dev);
		return NULL;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/msi_irqs", dev);
	if (!(d = list_dir(root, path, "", &n)) || !n) {
		snprintf(why, whylen, "%s lists no IRQs (the device uses no MSI, or its bus shows none there)", path);
		free_list(d, n);
		return NULL;
	}
	o = json_object();
	for (int i = 0; i < n; i++) {
		char p[64], v[256], e[200];

		if (!envf_irq_name(d[i]->d_name, &irq))
			continue;
		snprintf(p, sizeof(p), "/proc/irq/%u/smp_affinity_list", irq);
		json_object_set_new(o, d[i]->d_name, read_text(root, p, v, sizeof(v), e, sizeof(e))
				    ? json_string(v) : json_null());
	}
	free_list(d, n);
	return o;
}

json_t *envf_link_steering(const char *root, const char *dev)
{
	json_t *o = json_object();
	char why[400], path[300];

	snprintf(path, sizeof(path), "%s/sys/class/net/%s", root, dev);
	if (access(path, F_OK)) {
		/* Not in the namespace this sysfs was mounted for: nothing here is the link's. */
		snprintf(why, sizeof(why), "no /sys/class/net/%s in the sysfs read: %s", dev, strerror(errno));
		set_or_note(o, "rps", NULL, why);
		set_or_note(o, "xps", NULL, why);
		set_or_note(o, "irqs", NULL, why);
		return o;
	}
	set_or_note(o, "rps", queue_masks(root, dev, "rx-", "rps_cpus", why, sizeof(why)), why);
	set_or_note(o, "xps", queue_masks(root, dev, "tx-", "xps_cpus", why, sizeof(why)), why);
	set_or_note(o, "irqs", link_irqs(root, dev, why, sizeof(why)), why);
	return o;
}
