/* SPDX-License-Identifier: MIT */
/*
 * The CPU sampler's user side (cpusample.h): builds the kernel's address
 * ranges by group from /proc/kallsyms and libc's copy ranges, loads
 * cputime.bpf.c sharing the ledger's role map, and attaches it to a
 * cpu-clock event on every CPU.
 */
#include "cpusample.h"
#include "ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * 1067236 ns: 937 Hz, a prime rate, off every scheduler tick's multiples so
 * the two do not beat.  Each sample is a timer interrupt on every CPU, and
 * in this VM an interrupt costs a VM exit: at 4999 Hz the sampling alone
 * (perf record -a -e cpu-clock, no BPF) took a quarter of a loopback
 * relay's throughput and added a third to its CPU per GiB; at about 1 kHz
 * the difference was inside the run-to-run noise.  A 256 MiB cell then
 * gets a few hundred samples per role.
 */
#define CPUSAMPLE_PERIOD_NS 1067236ull

double cpusample_rate_hz(void)
{
	return 1e9 / (double)CPUSAMPLE_PERIOD_NS;
}

#ifdef HAVE_BPF

#include "cputime.h"
#include "cputime.skel.h"
#include "harness/measure/libc_copies.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(CT_GROUPS == CG_COUNT && CT_GROUP_COPY_USER == CG_COPY_USER &&
	       CT_GROUP_KERNEL_OTHER == CG_KERNEL_OTHER && CT_GROUP_USER_OTHER == CG_USER_OTHER,
	       "cputime.h and cpugroups.h number the groups differently");
_Static_assert(sizeof(struct ct_range) == sizeof(struct sym_range), "range layouts differ");
_Static_assert(LIBC_COPY_MAX <= CT_USER_COPY_RANGES, "too many libc ranges for the program");

#define MAX_CPUS 256

struct cpusample {
	struct cputime_bpf *skel;
	int counts_fd;
	int ncpus;			/* possible CPUs: the per-CPU value's length */
	struct ct_counters *percpu;
	struct bpf_link *links[MAX_CPUS];
	int events[MAX_CPUS];
	int nevents;
	struct symgroups_info syms;
	char describe[640];
};

static int fail(char *why, size_t whylen, const char *what, int err)
{
	const char *n = strerrorname_np(err);

	snprintf(why, whylen, "%s: %s (%s)", what, strerror(err), n ? n : "?");
	return -err;
}

/* /proc/kallsyms, whole. */
static char *read_kallsyms(size_t *len)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	size_t cap = 8 << 20, n = 0;
	char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	for (;;) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (n < cap)
			break;
		char *grown = realloc(buf, cap *= 2);

		if (!grown) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = grown;
	}
	fclose(f);
	*len = n;
	return buf;
}

/*
 * The kernel's text ranges by group, read once: before load, since their
 * count goes into the program's read-only data, and written into its map
 * after.  The ledger's programs, loaded before, are in them.  The count,
 * or -errno with why.
 */
static long build_ranges(struct cpusample *s, struct sym_range **out, char *why, size_t whylen)
{
	struct sym_range *r = calloc(CT_MAX_RANGES, sizeof(*r));
	size_t len = 0;
	char *text = read_kallsyms(&len);
	long n;

	*out = NULL;
	if (!r || !text) {
		free(r);
		free(text);
		return fail(why, whylen, "reading /proc/kallsyms", errno ? errno : ENOMEM);
	}
	n = symgroups_build(text, len, r, CT_MAX_RANGES, &s->syms);
	free(text);
	if (n < 0) {
		free(r);
		if (s->syms.addresses_hidden)
			snprintf(why, whylen, "/proc/kallsyms shows no addresses (kptr_restrict; root sees them)");
		else
			snprintf(why, whylen, "/proc/kallsyms: %s",
				 n == -ENOSPC ? "more ranges than the program holds" : "no text symbols");
		return n;
	}
	*out = r;
	return n;
}

static int fill_ranges(struct cpusample *s, const struct sym_range *r, long n, char *why, size_t whylen)
{
	int fd = bpf_map__fd(s->skel->maps.ct_ranges);

	for (long i = 0; i < n; i++) {
		__u32 key = (__u32)i;

		if (bpf_map_update_elem(fd, &key, &r[i], BPF_ANY))
			return fail(why, whylen, "filling the address ranges", errno);
	}
	return 0;
}

/* The user copy ranges and the range count go in before load (read-only data). */
static void set_rodata(struct cpusample *s, long nranges, char *note, size_t notelen)
{
	struct libc_copy_range lc[LIBC_COPY_MAX];
	char why[160];
	int n = libc_copy_ranges(lc, why, sizeof(why));
	size_t used = 0;

	s->skel->rodata->nranges = (__u32)nranges;
	if (n < 0) {
		snprintf(note, notelen, "user copies not told apart: %s", why);
		return;
	}
	used += snprintf(note, notelen, "user copies:");
	for (int i = 0; i < n; i++) {
		s->skel->rodata->user_copy_lo[i] = lc[i].lo;
		s->skel->rodata->user_copy_hi[i] = lc[i].hi;
		if (used < notelen)
			used += snprintf(note + used, notelen - used, " %s (%llu B)", lc[i].name,
					 (unsigned long long)(lc[i].hi - lc[i].lo));
	}
}

static int attach_cpus(struct cpusample *s, char *why, size_t whylen)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = CPUSAMPLE_PERIOD_NS,
	};
	int ncpus = libbpf_num_possible_cpus();

	for (int cpu = 0; cpu < ncpus && cpu < MAX_CPUS; cpu++) {
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			if (errno == ENODEV)	/* an offline CPU */
				continue;
			return fail(why, whylen, "perf_event_open(cpu-clock, every CPU)", errno);
		}
		s->events[s->nevents] = fd;
		s->links[s->nevents] = bpf_program__attach_perf_event(s->skel->progs.on_cpu_sample, fd);
		if (!s->links[s->nevents]) {
			close(fd);
			return fail(why, whylen, "attaching to the cpu-clock event", errno ? errno : EINVAL);
		}
		s->nevents++;
	}
	return s->nevents ? 0 : fail(why, whylen, "no CPU to sample", ENODEV);
}

int cpusample_open(struct ledger *l, struct cpusample **out, char *why, size_t whylen)
{
	struct cpusample *s;
	struct sym_range *ranges = NULL;
	char user_note[320] = "";
	long nranges;
	int err;

	*out = NULL;
	if (ledger_role_map_fd(l) < 0) {
		snprintf(why, whylen, "needs the BPF ledger, which is off or unavailable");
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(why, whylen, "out of memory", ENOMEM);
	s->skel = cputime_bpf__open();
	if (!s->skel) {
		err = fail(why, whylen, "open BPF object", errno ? errno : EINVAL);
		goto out;
	}
	nranges = build_ranges(s, &ranges, why, whylen);
	if (nranges < 0) {
		err = (int)nranges;
		goto out;
	}
	set_rodata(s, nranges, user_note, sizeof(user_note));
	if (bpf_map__reuse_fd(s->skel->maps.role_slot, ledger_role_map_fd(l))) {
		err = fail(why, whylen, "sharing the ledger's role map", errno ? errno : EINVAL);
		goto out;
	}
	err = cputime_bpf__load(s->skel);
	if (err) {
		err = fail(why, whylen, "load BPF program", -err);
		goto out;
	}
	if ((err = fill_ranges(s, ranges, nranges, why, whylen)) || (err = attach_cpus(s, why, whylen)))
		goto out;
	s->counts_fd = bpf_map__fd(s->skel->maps.ct_counts);
	s->ncpus = libbpf_num_possible_cpus();
	s->percpu = calloc(s->ncpus > 0 ? s->ncpus : 1, sizeof(*s->percpu));
	if (!s->percpu) {
		err = fail(why, whylen, "out of memory", ENOMEM);
		goto out;
	}
	snprintf(s->describe, sizeof(s->describe),
		 "BPF on a cpu-clock perf event of each of %d CPUs, %.0f Hz; kernel addresses in %zu ranges "
		 "of %zu text symbols (/proc/kallsyms); %s",
		 s->nevents, cpusample_rate_hz(), s->syms.ranges, s->syms.symbols, user_note);
	free(ranges);
	*out = s;
	return 0;
out:
	free(ranges);
	cpusample_close(s);
	return err;
}

void cpusample_close(struct cpusample *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nevents; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->events[i]);
	}
	/* The shared role map stays the ledger's: destroy only drops our reference. */
	cputime_bpf__destroy(s->skel);
	free(s->percpu);
	free(s);
}

const char *cpusample_describe(const struct cpusample *s)
{
	return s ? s->describe : "none";
}

const char *cpusample_copy_routines(const struct cpusample *s)
{
	return s ? s->syms.copy_routines : "";
}

int cpusample_reset(struct cpusample *s, int slot)
{
	__u32 key = slot;

	if (!s || slot < 0 || slot >= 8)
		return -EINVAL;
	memset(s->percpu, 0, s->ncpus * sizeof(*s->percpu));
	return bpf_map_update_elem(s->counts_fd, &key, s->percpu, BPF_ANY) ? -errno : 0;
}

int cpusample_read(struct cpusample *s, int slot, struct cpusample_counts *out)
{
	__u32 key = slot;

	if (!s || slot < 0 || slot >= 8 || !out)
		return -EINVAL;
	if (bpf_map_lookup_elem(s->counts_fd, &key, s->percpu))
		return -errno;
	memset(out, 0, sizeof(*out));
	for (int cpu = 0; cpu < s->ncpus; cpu++)
		for (int g = 0; g < CG_COUNT; g++)
			out->samples[g] += s->percpu[cpu].samples[g];
	for (int g = 0; g < CG_COUNT; g++)
		out->total += out->samples[g];
	out->period_s = CPUSAMPLE_PERIOD_NS / 1e9;
	return 0;
}

#else /* !HAVE_BPF */

#ifndef BPF_UNAVAILABLE
#define BPF_UNAVAILABLE "no reason given at build time"
#endif

int cpusample_open(struct ledger *l, struct cpusample **out, char *why, size_t whylen)
{
	*out = NULL;
	snprintf(why, whylen, "built without BPF: %s", BPF_UNAVAILABLE);
	return -ENOTSUP;
}

void cpusample_close(struct cpusample *s)
{
}

const char *cpusample_describe(const struct cpusample *s)
{
	return "none";
}

const char *cpusample_copy_routines(const struct cpusample *s)
{
	return "";
}

int cpusample_reset(struct cpusample *s, int slot)
{
	return -ENOTSUP;
}

int cpusample_read(struct cpusample *s, int slot, struct cpusample_counts *out)
{
	return -ENOTSUP;
}

#endif /* HAVE_BPF */
