/* SPDX-License-Identifier: MIT */
/*
 * The copy ledger's user side (ledger.h): loads and attaches probes.bpf.c,
 * marks role windows in its tgid map and sums its per-CPU counters.
 */
#include "ledger.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *ledger_family_name(enum ledger_family f)
{
	static const char *const names[LF_COUNT] = {
		[LF_READ] = "read",	[LF_WRITE] = "write", [LF_SPLICE] = "splice",
		[LF_WAIT] = "wait",	[LF_URING] = "uring", [LF_OTHER] = "other",
	};

	return (unsigned)f < LF_COUNT ? names[f] : "?";
}

const char *ledger_uring_class_name(enum ledger_uring_class c)
{
	static const char *const names[LU_COUNT] = {
		[LU_READ] = "read",	[LU_WRITE] = "write", [LU_SEND] = "send",
		[LU_RECV] = "recv",	[LU_SPLICE] = "splice", [LU_OTHER] = "other",
	};

	return (unsigned)c < LU_COUNT ? names[c] : "?";
}

#ifdef HAVE_BPF

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes.h"
#include "probes.skel.h"

_Static_assert(PROBES_MAX_SLOTS == LEDGER_MAX_SLOTS, "probes.h and ledger.h slots differ");
_Static_assert((int)PF_COUNT == (int)LF_COUNT, "probes.h and ledger.h families differ");
_Static_assert((int)PF_READ == (int)LF_READ && (int)PF_WRITE == (int)LF_WRITE &&
	       (int)PF_SPLICE == (int)LF_SPLICE && (int)PF_WAIT == (int)LF_WAIT &&
	       (int)PF_URING == (int)LF_URING && (int)PF_OTHER == (int)LF_OTHER,
	       "probes.h and ledger.h number the families differently");
_Static_assert((int)PU_COUNT == (int)LU_COUNT && (int)PU_READ == (int)LU_READ &&
	       (int)PU_WRITE == (int)LU_WRITE && (int)PU_SEND == (int)LU_SEND &&
	       (int)PU_RECV == (int)LU_RECV && (int)PU_SPLICE == (int)LU_SPLICE &&
	       (int)PU_OTHER == (int)LU_OTHER,
	       "probes.h and ledger.h number the io_uring classes differently");

struct ledger {
	struct probes_bpf *skel;
	int role_slot_fd;	/* tgid -> slot */
	int counters_fd;	/* slot -> per-CPU struct role_counters */
	int ncpus;		/* possible CPUs: the per-CPU value's length */
	struct role_counters *percpu;
	bool uring_attached;	/* both io_uring tracepoints */
	bool idle_known;	/* sched_switch attached and every CPU switched once since */
	struct idle_state *idle_percpu;
	char describe[448];	/* "raw_tp:" + ok + "; failed:" + failed */
};

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "unknown errno";
}

/* libbpf's own messages are noise in a record; COPYLAB_BPF_DEBUG shows them. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int unavailable(char *why, size_t whylen, const char *what, int err)
{
	if (err == EPERM)
		snprintf(why, whylen, "unavailable: EPERM (BPF needs root or CAP_BPF)");
	else
		snprintf(why, whylen, "unavailable: %s (%s)", what, errname(err));
	return -err;
}

/*
 * Attaches every probe on its own so that one missing tracepoint costs only
 * its figure; sys_enter and sys_exit carry the ledger, so they must attach.
 */
static int attach_all(struct ledger *l, char *why, size_t whylen)
{
	struct probes_bpf *s = l->skel;
	const struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		bool required;
	} probes[] = {
		{ s->progs.on_sys_enter, &s->links.on_sys_enter, true },
		{ s->progs.on_sys_exit, &s->links.on_sys_exit, true },
		{ s->progs.on_skb_copy, &s->links.on_skb_copy, false },
		{ s->progs.on_sched_switch, &s->links.on_sched_switch, false },
		{ s->progs.on_page_fault, &s->links.on_page_fault, false },
		{ s->progs.on_uring_submit, &s->links.on_uring_submit, false },
		{ s->progs.on_uring_complete, &s->links.on_uring_complete, false },
	};
	char ok[224] = "", failed[160] = "";
	size_t nok = 0, nfailed = 0;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		/* "raw_tp/sched_switch": the tracepoint is what follows the '/'. */
		const char *sec = bpf_program__section_name(probes[i].prog);
		const char *tp = strchr(sec, '/') ? strchr(sec, '/') + 1 : sec;
		int err;

		*probes[i].link = bpf_program__attach(probes[i].prog);
		if (*probes[i].link) {
			nok += snprintf(ok + nok, sizeof(ok) - nok, " %s", tp);
			if (nok >= sizeof(ok))
				nok = sizeof(ok) - 1;
			continue;
		}
		err = errno ? errno : EINVAL;
		if (probes[i].required) {
			char what[64];

			snprintf(what, sizeof(what), "attach raw_tp/%s", tp);
			return unavailable(why, whylen, what, err);
		}
		nfailed += snprintf(failed + nfailed, sizeof(failed) - nfailed, " %s (%s)",
				    tp, errname(err));
		if (nfailed >= sizeof(failed))
			nfailed = sizeof(failed) - 1;
	}
	snprintf(l->describe, sizeof(l->describe), "raw_tp:%s%s%s", ok,
		 nfailed ? "; failed:" : "", failed);
	/* Half of the pair would give SQEs without bytes: both or none. */
	l->uring_attached = s->links.on_uring_submit && s->links.on_uring_complete;
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

/*
 * A CPU that has idled since before the probes attached has no idle
 * stretch on record until its next switch: a thread run once on each CPU
 * makes that switch, so every CPU's state is known from here on.
 */
static int switch_on_every_cpu(void)
{
	int n = (int)sysconf(_SC_NPROCESSORS_CONF);

	for (int cpu = 0; cpu < n && cpu < CPU_SETSIZE; cpu++) {
		pthread_attr_t attr;
		pthread_t t;
		cpu_set_t set;
		int err;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		err = pthread_create(&t, &attr, nothing, NULL);
		pthread_attr_destroy(&attr);
		if (err == EINVAL)	/* an offline CPU */
			continue;
		if (err)
			return -err;
		pthread_join(t, NULL);
	}
	return 0;
}

int ledger_open(struct ledger **out, char *why, size_t whylen)
{
	struct ledger *l;
	int err;

	*out = NULL;
#ifndef __x86_64__
	/* probes.h sorts by the x86_64 syscall table. */
	snprintf(why, whylen, "unavailable: syscall numbers are x86_64's (ENOTSUP)");
	return -ENOTSUP;
#endif
	libbpf_set_print(getenv("COPYLAB_BPF_DEBUG") ? libbpf_print : NULL);
	/* CO-RE relocates against the running kernel's BTF: no BTF, no probes. */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		err = errno;
		snprintf(why, whylen, "unavailable: no /sys/kernel/btf/vmlinux (%s)", errname(err));
		return -err;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(why, whylen, "unavailable: out of memory (ENOMEM)");
		return -ENOMEM;
	}

	l->skel = probes_bpf__open();
	if (!l->skel) {
		err = unavailable(why, whylen, "open BPF object", errno ? errno : EINVAL);
		goto fail;
	}
	err = probes_bpf__load(l->skel);
	if (err) {
		err = unavailable(why, whylen, "load BPF programs", -err);
		goto fail;
	}
	err = attach_all(l, why, whylen);
	if (err)
		goto fail;

	l->role_slot_fd = bpf_map__fd(l->skel->maps.role_slot);
	l->counters_fd = bpf_map__fd(l->skel->maps.counters);
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		err = unavailable(why, whylen, "count possible CPUs", l->ncpus ? -l->ncpus : EINVAL);
		goto fail;
	}
	l->percpu = calloc(l->ncpus, sizeof(*l->percpu));
	l->idle_percpu = calloc(l->ncpus, sizeof(*l->idle_percpu));
	if (!l->percpu || !l->idle_percpu) {
		err = unavailable(why, whylen, "out of memory", ENOMEM);
		goto fail;
	}
	l->idle_known = l->skel->links.on_sched_switch && switch_on_every_cpu() == 0;
	*out = l;
	return 0;

fail:
	ledger_close(l);
	return err;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	/* Destroys links, programs and maps in that order. */
	probes_bpf__destroy(l->skel);
	free(l->percpu);
	free(l->idle_percpu);
	free(l);
}

const char *ledger_describe(const struct ledger *l)
{
	return l ? l->describe : "none";
}

static bool slot_ok(int slot)
{
	return slot >= 0 && slot < LEDGER_MAX_SLOTS;
}

int ledger_reset(struct ledger *l, int slot)
{
	__u32 key = slot;

	if (!l || !slot_ok(slot))
		return -EINVAL;
	memset(l->percpu, 0, l->ncpus * sizeof(*l->percpu));
	return bpf_map_update_elem(l->counters_fd, &key, l->percpu, BPF_ANY) ? -errno : 0;
}

/*
 * Keyed by tgid so every thread of the role counts; the map fd came across
 * fork() with the rest of *l, so the role process writes its own entry.
 */
int ledger_window_begin(struct ledger *l, int slot)
{
	__u32 tgid = getpid(), val = slot;

	if (!l || !slot_ok(slot))
		return -EINVAL;
	return bpf_map_update_elem(l->role_slot_fd, &tgid, &val, BPF_ANY) ? -errno : 0;
}

int ledger_watch_pid(struct ledger *l, int slot, int pid)
{
	__u32 tgid = pid, val = slot;

	if (!l || !slot_ok(slot) || pid <= 0)
		return -EINVAL;
	return bpf_map_update_elem(l->role_slot_fd, &tgid, &val, BPF_ANY) ? -errno : 0;
}

int ledger_window_end(struct ledger *l)
{
	__u32 tgid = getpid();

	if (!l)
		return -EINVAL;
	return bpf_map_delete_elem(l->role_slot_fd, &tgid) ? -errno : 0;
}

int ledger_forget(struct ledger *l, int pid)
{
	__u32 tgid = pid;

	if (!l)
		return -EINVAL;
	return bpf_map_delete_elem(l->role_slot_fd, &tgid) ? -errno : 0;
}

int ledger_read(struct ledger *l, int slot, struct ledger_counts *out)
{
	__u32 key = slot;

	if (!l || !slot_ok(slot) || !out)
		return -EINVAL;
	if (bpf_map_lookup_elem(l->counters_fd, &key, l->percpu))
		return -errno;
	memset(out, 0, sizeof(*out));
	for (int cpu = 0; cpu < l->ncpus; cpu++) {
		const struct role_counters *c = &l->percpu[cpu];

		out->syscalls += c->syscalls;
		for (int f = 0; f < LF_COUNT; f++)
			out->by_family[f] += c->by_family[f];
		out->bytes_to_user += c->bytes_to_user;
		out->bytes_from_user += c->bytes_from_user;
		out->bytes_in_kernel += c->bytes_in_kernel;
		out->skb_copy_bytes += c->skb_copy_bytes;
		out->sched_switches += c->sched_switches;
		out->page_faults += c->page_faults;
		out->steal_ns += c->steal_ns;
		for (int k = 0; k < LU_COUNT; k++) {
			out->uring.sqes[k] += c->uring_sqes[k];
			out->uring.cqes[k] += c->uring_cqes[k];
			out->uring.cqe_bytes[k] += c->uring_cqe_bytes[k];
		}
	}
	out->uring.have = l->uring_attached;
	return 0;
}

int ledger_role_map_fd(const struct ledger *l)
{
	return l ? l->role_slot_fd : -1;
}

int ledger_idle(struct ledger *l, struct ledger_idle *out)
{
	__u32 zero = 0;
	struct timespec ts;
	uint64_t now;
	int fd;

	memset(out, 0, sizeof(*out));
	if (!l || !l->idle_known)
		return -ENOTSUP;
	fd = bpf_map__fd(l->skel->maps.idle);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (bpf_map_lookup_elem(fd, &zero, l->idle_percpu))
		return -errno;
	for (int cpu = 0; cpu < l->ncpus; cpu++) {
		const struct idle_state *st = &l->idle_percpu[cpu];

		out->idle_ns += st->total + (st->since && st->since < now ? now - st->since : 0);
		out->steal_busy_ns += st->steal_busy;
		out->steal_clock_ns += st->steal_last;
	}
	out->have_steal_clock = l->skel->bss->steal_clock_fields != 0;
	out->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return 0;
}

#else /* !HAVE_BPF */

#ifndef BPF_UNAVAILABLE
#define BPF_UNAVAILABLE "no reason given at build time"
#endif

int ledger_open(struct ledger **out, char *why, size_t whylen)
{
	*out = NULL;
	snprintf(why, whylen, "built without BPF: %s", BPF_UNAVAILABLE);
	return -ENOTSUP;
}

void ledger_close(struct ledger *l)
{
}

const char *ledger_describe(const struct ledger *l)
{
	return "none";
}

int ledger_reset(struct ledger *l, int slot)
{
	return -ENOTSUP;
}

int ledger_window_begin(struct ledger *l, int slot)
{
	return -ENOTSUP;
}

int ledger_watch_pid(struct ledger *l, int slot, int pid)
{
	return -ENOTSUP;
}

int ledger_window_end(struct ledger *l)
{
	return -ENOTSUP;
}

int ledger_forget(struct ledger *l, int pid)
{
	return -ENOTSUP;
}

int ledger_read(struct ledger *l, int slot, struct ledger_counts *out)
{
	return -ENOTSUP;
}

int ledger_role_map_fd(const struct ledger *l)
{
	return -1;
}

int ledger_idle(struct ledger *l, struct ledger_idle *out)
{
	memset(out, 0, sizeof(*out));
	return -ENOTSUP;
}

#endif /* HAVE_BPF */
