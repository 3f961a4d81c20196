/* SPDX-License-Identifier: MIT */
/*
 * env.json: the facts of the machine and build that a figure depends on.
 * A fact that cannot be read is null; collecting never fails a run.
 */
#include "env.h"
#include "envfacts.h"
#include "memcpy_rate.h"

#include <ctype.h>
#include <gnu/libc-version.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#ifndef COPYLAB_GIT_REV
#define COPYLAB_GIT_REV "unknown"
#endif

#define ENV_SCHEMA "copylab.env/1"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* The value of the first "key<spaces>: value" line of a /proc file. */
static bool proc_field(const char *path, const char *key, char *out, size_t outlen)
{
	char line[512];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, key, klen) != 0 || !colon)
			continue;
		/* Only whitespace may separate the key from its colon. */
		*colon = '\0';
		if (strcmp(trim(line), key) != 0)
			continue;
		snprintf(out, outlen, "%s", trim(colon + 1));
		found = true;
	}
	fclose(f);
	return found;
}

static bool read_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(out, (int)outlen, f) != NULL;
	fclose(f);
	if (ok)
		memmove(out, trim(out), strlen(trim(out)) + 1);
	return ok;
}

/* Text read from the system; null also when it is not valid UTF-8. */
static json_t *string_or_null(bool ok, const char *s)
{
	json_t *j = ok ? json_string(s) : NULL;

	return j ? j : json_null();
}

static json_t *integer_or_null(bool ok, long long v)
{
	return ok ? json_integer((json_int_t)v) : json_null();
}

static json_t *kernel_json(void)
{
	struct utsname u;
	json_t *k;

	if (uname(&u) != 0)
		return json_null();
	k = json_pack("{s:s, s:s, s:s, s:s}",
		      "sysname", u.sysname, "release", u.release,
		      "version", u.version, "machine", u.machine);
	return k ? k : json_null();
}

static json_t *cpu_model_json(void)
{
	char v[256];

	/* x86 names it "model name"; other architectures may not: null. */
	return string_or_null(proc_field("/proc/cpuinfo", "model name", v, sizeof(v)), v);
}

static json_t *pipe_max_size_json(void)
{
	char v[64];

	/* Caps F_SETPIPE_SZ for callers without CAP_SYS_RESOURCE. */
	return read_line("/proc/sys/fs/pipe-max-size", v, sizeof(v))
		? integer_or_null(true, strtoll(v, NULL, 10)) : json_null();
}

/* "always [madvise] never" -> "madvise": the mode in force is bracketed. */
static json_t *thp_enabled_json(void)
{
	char v[128], *open, *close;

	if (!read_line("/sys/kernel/mm/transparent_hugepage/enabled", v, sizeof(v)))
		return json_null();
	open = strchr(v, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return json_null();
	return json_stringn(open + 1, (size_t)(close - open - 1));
}

static json_t *mem_total_kib_json(void)
{
	char v[64];

	/* "MemTotal:       16318412 kB" */
	if (!proc_field("/proc/meminfo", "MemTotal", v, sizeof(v)))
		return json_null();
	return integer_or_null(true, strtoll(v, NULL, 10));
}

static json_t *sysconf_json(int name)
{
	long v = sysconf(name);

	return integer_or_null(v > 0, v);
}

static json_t *compiler_json(void)
{
#if defined(__clang__)
	return json_string(__VERSION__);	/* already says "clang" */
#elif defined(__GNUC__)
	return json_string("gcc " __VERSION__);
#else
	return json_null();
#endif
}

static json_t *versions_json(void)
{
	unsigned x = XXH_versionNumber();	/* MAJOR*10000 + MINOR*100 + RELEASE */
	char xxh[32];

	snprintf(xxh, sizeof(xxh), "%u.%u.%u", x / 10000, x / 100 % 100, x % 100);
	/* Library versions at run time: what was loaded, not what was built against. */
	return json_pack("{s:s, s:s, s:s}", "xxhash", xxh,
			 "jansson", jansson_version_str(),
			 "glibc", gnu_get_libc_version());
}

static json_t *created_utc_json(void)
{
	char v[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(v, sizeof(v), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(v);
}

/* What a copy costs here, for the copy time predicted from the ledger's bytes. */
static json_t *memcpy_json(void)
{
	const struct memcpy_rate *r = memcpy_rate();
	json_t *j;

	if (!r->have)
		return json_null();
	j = json_pack("{s:f, s:f, s:I, s:I, s:s}", "resident_bytes_per_s", r->resident_bytes_per_s,
		      "dram_bytes_per_s", r->dram_bytes_per_s, "resident_buffer", (json_int_t)r->resident_bytes,
		      "dram_buffer", (json_int_t)r->dram_bytes,
		      "method", "libc memcpy, best of 3 passes of 10 ms each");
	return j ? j : json_null();
}

json_t *env_collect(void)
{
	/* "o" steals each reference; a NULL (allocation failure) fails the pack. */
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "schema", ENV_SCHEMA,
			 "kernel", kernel_json(),
			 "cpu_model", cpu_model_json(),
			 "cpus_online", sysconf_json(_SC_NPROCESSORS_ONLN),
			 "page_size", sysconf_json(_SC_PAGESIZE),
			 "pipe_max_size", pipe_max_size_json(),
			 "thp_enabled", thp_enabled_json(),
			 "mem_total_kib", mem_total_kib_json(),
			 "copylab_git_rev", COPYLAB_GIT_REV,
			 "compiler", compiler_json(),
			 "versions", versions_json(),
			 "created_utc", created_utc_json(),
			 "memcpy", memcpy_json(),
			 /* Read in copylab's own namespace; a link's namespace has its own (transport). */
			 "cpufreq", envf_cpufreq(""),
			 "mitigations", envf_mitigations(""),
			 "net_sysctl", envf_net_sysctl(""));
}

const char *env_fs_type(const char *path, char *buf, size_t len)
{
	/* The filesystems scratch files are likely on; others by number. */
	static const struct { unsigned long magic; const char *name; } known[] = {
		{ TMPFS_MAGIC, "tmpfs" }, { EXT4_SUPER_MAGIC, "ext2/3/4" }, { XFS_SUPER_MAGIC, "xfs" },
		{ BTRFS_SUPER_MAGIC, "btrfs" }, { OVERLAYFS_SUPER_MAGIC, "overlay" }, { NFS_SUPER_MAGIC, "nfs" },
		{ 0x65735546, "fuse" }, { 0x01021994, "tmpfs" }, { 0x2fc12fc1, "zfs" }, { 0xf2f52010, "f2fs" },
	};
	struct statfs st;

	if (statfs(path, &st) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((unsigned long)st.f_type == known[i].magic) {
			snprintf(buf, len, "%s", known[i].name);
			return buf;
		}
	snprintf(buf, len, "0x%lx", (unsigned long)st.f_type);
	return buf;
}

static json_t *argv_json(char **argv)
{
	json_t *a = json_array();

	for (size_t i = 0; a && argv && argv[i]; i++)
		if (json_array_append_new(a, string_or_null(true, argv[i])))
			return json_decref(a), NULL;
	return a;
}

/*
 * Drivers of devices that are software only (ethtool's names).  A VLAN or
 * a bond has no device of its own either, but may sit on a real NIC: they
 * are judged by the backing device they lack, as the safe side (a warning
 * too many, never one missing).
 */
static const char *const virtual_drivers[] = {
	"veth", "tun", "bridge", "macvlan", "ipvlan", "dummy", "loopback", "ifb", "vxlan", "geneve", "vrf",
	"wireguard", "netdevsim",
};

bool env_link_virtual(const char *driver, bool has_device, char *kind, size_t kindlen, char *why, size_t whylen)
{
	bool named = driver && driver[0];

	for (size_t i = 0; named && i < sizeof(virtual_drivers) / sizeof(virtual_drivers[0]); i++)
		if (!strcmp(driver, virtual_drivers[i])) {
			snprintf(kind, kindlen, "a %s", driver);
			snprintf(why, whylen, "its driver is %s, a software device with no NIC behind it", driver);
			return true;
		}
	if (has_device)
		return false;
	snprintf(kind, kindlen, "a device with no hardware behind it");
	snprintf(why, whylen, "it has no backing device under /sys/class/net (driver %s)",
		 named ? driver : "unknown");
	return true;
}

/* A size the kernel chooses when it is 0. */
static json_t *size_or_default(uint64_t v)
{
	return v ? json_integer((json_int_t)v) : json_null();
}

json_t *env_conditions_json(const struct env_conditions *c)
{
	const char *work = c->workdir ? c->workdir : "/var/tmp";
	char fs[32];

	return json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:b, s:s, s:f, s:I, s:I, s:I, s:I, s:o,"
			 " s:s, s:o, s:s, s:s, s:s, s:s, s:b}",
			 "argv", argv_json(c->argv),
			 "sndbuf", size_or_default((uint64_t)c->sndbuf),
			 "rcvbuf", size_or_default((uint64_t)c->rcvbuf),
			 "pipe_size_asked", size_or_default(c->pipe_size),
			 "pin", c->pin ? c->pin : "auto",
			 "cache", c->cache_cold ? "cold" : "warm",
			 "nonblock", c->nonblock,
			 "sink", c->sink_discard ? "discard" : "hash",
			 "timeout_s", c->timeout_s,
			 "reps", (json_int_t)c->reps,
			 "warmup", (json_int_t)c->warmup,
			 "conns", (json_int_t)(c->conns ? c->conns : 1),
			 "outstanding", (json_int_t)(c->outstanding ? c->outstanding : 1),
			 "sweep", c->sweep ? string_or_null(true, c->sweep) : json_null(),
			 "workdir", work,
			 "workdir_fs", string_or_null(env_fs_type(work, fs, sizeof(fs)) != NULL, fs),
			 "bpf", c->bpf ? c->bpf : "unknown",
			 "tracer", c->tracer ? c->tracer : "unknown",
			 "cputime", c->cputime ? c->cputime : "unknown",
			 "perf", c->no_perf ? "off (--no-perf)" : "on",
			 "profile", c->profile);
}
