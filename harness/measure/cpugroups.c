/* SPDX-License-Identifier: MIT */
/* The CPU groups' symbol rules and the kallsyms ranges built from them (cpugroups.h). */
#include "cpugroups.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_names[CG_COUNT] = {
	[CG_COPY_KERNEL] = "copy_kernel", [CG_COPY_USER] = "copy_user",
	[CG_NET] = "net",		  [CG_SCHED] = "sched",
	[CG_SYSCALL] = "syscall",	  [CG_MM] = "mm",
	[CG_PROBES] = "probes",		  [CG_KERNEL_OTHER] = "kernel_other",
	[CG_USER_OTHER] = "user_other",
};

static const char *const group_titles[CG_COUNT] = {
	[CG_COPY_KERNEL] = "copying (kernel)",
	[CG_COPY_USER] = "copying (user, libc)",
	[CG_NET] = "TCP/IP stack, sockets, softirq",
	[CG_SCHED] = "scheduling, wake-ups, waiting",
	[CG_SYSCALL] = "syscall entry and exit",
	[CG_MM] = "page faults, memory management",
	[CG_PROBES] = "copylab's probes (BPF)",
	[CG_KERNEL_OTHER] = "other kernel",
	[CG_USER_OTHER] = "user code",
};

const char *cpu_group_name(enum cpu_group g)
{
	return (unsigned)g < CG_COUNT ? group_names[g] : "?";
}

const char *cpu_group_title(enum cpu_group g)
{
	return (unsigned)g < CG_COUNT ? group_titles[g] : "?";
}

/*
 * The copy routines come first: with FSRM, copy_to_user's `rep movsb` is
 * inlined into the iterator functions, so they are copy time too.  Then
 * the more specific groups before the broad prefixes (skb_copy_* before
 * skb_*).  docs/metrics.md prints this table; keep the two together.
 */
const struct cpu_group_rule cpu_group_rules[] = {
	{ CG_COPY_KERNEL, "rep_movs_alternative" },
	{ CG_COPY_KERNEL, "copy_user_*" },
	{ CG_COPY_KERNEL, "__copy_user_*" },
	{ CG_COPY_KERNEL, "_copy_to_iter" },
	{ CG_COPY_KERNEL, "_copy_from_iter*" },
	{ CG_COPY_KERNEL, "_copy_mc_to_iter" },
	{ CG_COPY_KERNEL, "copy_page_to_iter*" },
	{ CG_COPY_KERNEL, "copy_page_from_iter*" },
	{ CG_COPY_KERNEL, "copy_to_user_iter*" },
	{ CG_COPY_KERNEL, "copy_from_user_iter*" },
	{ CG_COPY_KERNEL, "_copy_to_user" },
	{ CG_COPY_KERNEL, "_copy_from_user" },
	{ CG_COPY_KERNEL, "skb_copy_datagram_iter" },
	{ CG_COPY_KERNEL, "__skb_datagram_iter" },
	{ CG_COPY_KERNEL, "simple_copy_to_iter" },
	{ CG_COPY_KERNEL, "skb_copy_bits" },
	{ CG_COPY_KERNEL, "csum_partial_copy*" },
	{ CG_COPY_KERNEL, "memcpy" },
	{ CG_COPY_KERNEL, "__memcpy" },
	{ CG_COPY_KERNEL, "memcpy_orig" },
	{ CG_COPY_KERNEL, "memmove" },
	{ CG_COPY_KERNEL, "__memmove" },
	{ CG_COPY_KERNEL, "copy_page" },
	{ CG_COPY_KERNEL, "copy_mc_*" },

	{ CG_PROBES, "bpf_prog_*" },
	{ CG_PROBES, "bpf_trace_run*" },
	{ CG_PROBES, "__bpf_trace_*" },
	{ CG_PROBES, "bpf_overflow_handler" },
	{ CG_PROBES, "htab_map_*" },
	{ CG_PROBES, "__htab_map_*" },
	{ CG_PROBES, "percpu_array_map_*" },
	{ CG_PROBES, "array_map_*" },
	{ CG_PROBES, "bpf_get_current_*" },
	{ CG_PROBES, "bpf_probe_read*" },

	{ CG_SYSCALL, "entry_SYSCALL_64*" },
	{ CG_SYSCALL, "do_syscall_64" },
	{ CG_SYSCALL, "x64_sys_call" },
	{ CG_SYSCALL, "syscall_exit_to_user_mode*" },
	{ CG_SYSCALL, "syscall_enter_from_user_mode*" },
	{ CG_SYSCALL, "exit_to_user_mode*" },
	{ CG_SYSCALL, "syscall_trace_enter" },
	{ CG_SYSCALL, "syscall_exit_work" },
	{ CG_SYSCALL, "__x64_sys_*" },
	{ CG_SYSCALL, "fdget*" },
	{ CG_SYSCALL, "__fdget*" },
	{ CG_SYSCALL, "fput*" },
	{ CG_SYSCALL, "__fget*" },
	{ CG_SYSCALL, "fget*" },
	{ CG_SYSCALL, "rw_verify_area" },
	{ CG_SYSCALL, "security_file_permission" },
	{ CG_SYSCALL, "__cond_resched" },

	{ CG_NET, "tcp_*" },
	{ CG_NET, "__tcp_*" },
	{ CG_NET, "tcp4_*" },
	{ CG_NET, "tcp_v4_*" },
	{ CG_NET, "inet_*" },
	{ CG_NET, "__inet_*" },
	{ CG_NET, "ip_*" },
	{ CG_NET, "__ip_*" },
	{ CG_NET, "ipv4_*" },
	{ CG_NET, "raw_local_deliver" },
	{ CG_NET, "dev_*" },
	{ CG_NET, "__dev_*" },
	{ CG_NET, "netif_*" },
	{ CG_NET, "__netif_*" },
	{ CG_NET, "net_*" },
	{ CG_NET, "__net_*" },
	{ CG_NET, "napi_*" },
	{ CG_NET, "__napi_*" },
	{ CG_NET, "process_backlog" },
	{ CG_NET, "skb_*" },
	{ CG_NET, "__skb_*" },
	{ CG_NET, "kfree_skb*" },
	{ CG_NET, "__kfree_skb*" },
	{ CG_NET, "consume_skb" },
	{ CG_NET, "alloc_skb*" },
	{ CG_NET, "__alloc_skb" },
	{ CG_NET, "build_skb*" },
	{ CG_NET, "sk_*" },
	{ CG_NET, "__sk_*" },
	{ CG_NET, "sock_*" },
	{ CG_NET, "__sock_*" },
	{ CG_NET, "sockfd_lookup*" },
	{ CG_NET, "lock_sock*" },
	{ CG_NET, "release_sock" },
	{ CG_NET, "__release_sock" },
	{ CG_NET, "__sys_*" },
	{ CG_NET, "loopback_*" },
	{ CG_NET, "veth_*" },
	{ CG_NET, "unix_*" },
	{ CG_NET, "nf_*" },
	{ CG_NET, "__nf_*" },
	{ CG_NET, "nft_*" },
	{ CG_NET, "eth_*" },
	{ CG_NET, "qdisc_*" },
	{ CG_NET, "__qdisc_*" },
	{ CG_NET, "sch_*" },
	{ CG_NET, "pfifo_*" },
	{ CG_NET, "dst_*" },
	{ CG_NET, "fib_*" },
	{ CG_NET, "neigh_*" },
	{ CG_NET, "__neigh_*" },
	{ CG_NET, "sk_psock*" },
	{ CG_NET, "sk_msg_*" },
	{ CG_NET, "__sk_msg_*" },
	{ CG_NET, "tcp_bpf_*" },
	{ CG_NET, "handle_softirqs" },
	{ CG_NET, "__do_softirq" },
	{ CG_NET, "do_softirq*" },
	{ CG_NET, "__local_bh_enable_ip" },
	{ CG_NET, "irq_exit_rcu" },
	{ CG_NET, "validate_xmit_*" },
	{ CG_NET, "xmit_one" },
	{ CG_NET, "csum_*" },

	{ CG_SCHED, "schedule*" },
	{ CG_SCHED, "__schedule" },
	{ CG_SCHED, "try_to_wake_up" },
	{ CG_SCHED, "wake_up_*" },
	{ CG_SCHED, "__wake_up*" },
	{ CG_SCHED, "ttwu_*" },
	{ CG_SCHED, "enqueue_*" },
	{ CG_SCHED, "dequeue_*" },
	{ CG_SCHED, "pick_next_*" },
	{ CG_SCHED, "put_prev_*" },
	{ CG_SCHED, "set_next_*" },
	{ CG_SCHED, "update_curr*" },
	{ CG_SCHED, "update_load_avg" },
	{ CG_SCHED, "__update_load_avg*" },
	{ CG_SCHED, "update_cfs_*" },
	{ CG_SCHED, "finish_task_switch*" },
	{ CG_SCHED, "__switch_to*" },
	{ CG_SCHED, "switch_mm*" },
	{ CG_SCHED, "switch_fpu*" },
	{ CG_SCHED, "psi_*" },
	{ CG_SCHED, "select_task_rq*" },
	{ CG_SCHED, "check_preempt*" },
	{ CG_SCHED, "resched_*" },
	{ CG_SCHED, "sched_*" },
	{ CG_SCHED, "__sched_*" },
	{ CG_SCHED, "reweight_*" },
	{ CG_SCHED, "raw_spin_rq_*" },
	{ CG_SCHED, "autoremove_wake_function" },
	{ CG_SCHED, "default_wake_function" },
	{ CG_SCHED, "prepare_to_wait*" },
	{ CG_SCHED, "finish_wait" },
	{ CG_SCHED, "__pollwait" },
	{ CG_SCHED, "pollwake" },
	{ CG_SCHED, "ep_*" },
	{ CG_SCHED, "do_epoll_*" },
	{ CG_SCHED, "do_sys_poll" },
	{ CG_SCHED, "do_poll*" },
	{ CG_SCHED, "poll_*" },
	{ CG_SCHED, "pipe_wait*" },

	{ CG_MM, "asm_exc_page_fault" },
	{ CG_MM, "exc_page_fault" },
	{ CG_MM, "do_user_addr_fault" },
	{ CG_MM, "handle_mm_fault" },
	{ CG_MM, "__handle_mm_fault" },
	{ CG_MM, "handle_pte_fault" },
	{ CG_MM, "do_anonymous_page" },
	{ CG_MM, "do_fault*" },
	{ CG_MM, "do_read_fault" },
	{ CG_MM, "do_wp_page" },
	{ CG_MM, "wp_page_*" },
	{ CG_MM, "filemap_*" },
	{ CG_MM, "__filemap_*" },
	{ CG_MM, "clear_page*" },
	{ CG_MM, "folio_*" },
	{ CG_MM, "__folio_*" },
	{ CG_MM, "alloc_pages*" },
	{ CG_MM, "__alloc_pages*" },
	{ CG_MM, "__alloc_frozen_pages*" },
	{ CG_MM, "get_page_from_freelist" },
	{ CG_MM, "free_unref_*" },
	{ CG_MM, "free_pages*" },
	{ CG_MM, "__free_pages*" },
	{ CG_MM, "page_*" },
	{ CG_MM, "__page_*" },
	{ CG_MM, "zap_*" },
	{ CG_MM, "unmap_*" },
	{ CG_MM, "do_mmap" },
	{ CG_MM, "mmap_region" },
	{ CG_MM, "__mmap_*" },
	{ CG_MM, "vma_*" },
	{ CG_MM, "__vma_*" },
	{ CG_MM, "vm_*" },
	{ CG_MM, "lru_*" },
	{ CG_MM, "release_pages" },
	{ CG_MM, "rmqueue*" },
	{ CG_MM, "__rmqueue*" },
	{ CG_MM, "mem_cgroup_*" },
	{ CG_MM, "__mem_cgroup_*" },
	{ CG_MM, "memcg*" },
	{ CG_MM, "__memcg*" },
	{ CG_MM, "obj_cgroup_*" },
	{ CG_MM, "try_charge*" },
	{ CG_MM, "uncharge_*" },
	{ CG_MM, "free_frozen_page*" },
	{ CG_MM, "__free_frozen_page*" },
	{ CG_MM, "get_pfnblock*" },
	{ CG_MM, "__get_pfnblock*" },
	{ CG_MM, "__mod_*" },
	{ CG_MM, "mod_*_state" },
	{ CG_MM, "kmem_cache_*" },
	{ CG_MM, "__kmem_cache_*" },
	{ CG_MM, "kmalloc*" },
	{ CG_MM, "__kmalloc*" },
	{ CG_MM, "kfree" },
	{ CG_MM, "slab_*" },
	{ CG_MM, "__slab_*" },
	{ CG_MM, "___slab_*" },
	{ CG_MM, "pte_*" },
	{ CG_MM, "pmd_*" },
	{ CG_MM, "set_pte*" },
	{ CG_MM, "flush_tlb*" },
	{ CG_MM, "native_flush_tlb*" },
	{ CG_MM, "tlb_*" },
	{ CG_MM, "shmem_*" },
	{ CG_MM, "memset" },
	{ CG_MM, "__memset" },
	{ CG_MM, "rep_stos_alternative" },
};

const size_t cpu_group_nrules = sizeof(cpu_group_rules) / sizeof(cpu_group_rules[0]);

/*
 * The rules by the first byte of their pattern, in table order, so a
 * symbol is held against the handful that can match it: /proc/kallsyms has
 * over 120,000 text symbols, and all 250 rules each took a third of a
 * second at every run.
 */
struct rule_index {
	bool built;
	size_t len[512];		/* pattern length without a trailing '*' */
	bool prefix[512];
	unsigned short first[256][64];	/* rule numbers by first byte */
	unsigned char nfirst[256];
};

static struct rule_index index_of_rules;

static const struct rule_index *rules_indexed(void)
{
	struct rule_index *x = &index_of_rules;

	if (x->built)
		return x;
	for (size_t i = 0; i < cpu_group_nrules && i < 512; i++) {
		const char *p = cpu_group_rules[i].pattern;
		size_t n = strlen(p);
		unsigned char c = (unsigned char)p[0];

		x->prefix[i] = n && p[n - 1] == '*';
		x->len[i] = x->prefix[i] ? n - 1 : n;
		if (x->nfirst[c] < 64)
			x->first[c][x->nfirst[c]++] = (unsigned short)i;
	}
	x->built = true;
	return x;
}

enum cpu_group cpu_group_of_symbol(const char *name)
{
	const struct rule_index *x = rules_indexed();
	unsigned char c = (unsigned char)name[0];

	for (unsigned k = 0; k < x->nfirst[c]; k++) {
		unsigned i = x->first[c][k];
		const char *p = cpu_group_rules[i].pattern;

		if (x->prefix[i] ? strncmp(p, name, x->len[i]) == 0 : strcmp(p, name) == 0)
			return cpu_group_rules[i].group;
	}
	return CG_KERNEL_OTHER;
}

static int cmp_range(const void *a, const void *b)
{
	const struct sym_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* A kallsyms text symbol: "ADDR TYPE NAME[\t[MODULE]]"; false for data and malformed lines. */
static bool parse_line(const char *line, const char *end, uint64_t *addr, char *name, size_t namelen)
{
	char *after;
	const char *p;
	size_t n = 0;

	*addr = strtoull(line, &after, 16);
	if (after == line || after + 3 > end || after[0] != ' ' || after[2] != ' ')
		return false;
	if (!strchr("tTwW", after[1]))
		return false;
	for (p = after + 3; p < end && *p != '\t' && *p != ' ' && *p != '\n'; p++)
		if (n + 1 < namelen)
			name[n++] = *p;
	name[n] = '\0';
	return n > 0;
}

static void note_copy_routine(struct symgroups_info *info, const char *name)
{
	size_t used = strlen(info->copy_routines), n = strlen(name);

	if (used + n + 2 >= sizeof(info->copy_routines) || strstr(info->copy_routines, name))
		return;
	if (used)
		info->copy_routines[used++] = ' ';
	memcpy(info->copy_routines + used, name, n + 1);
}

long symgroups_build(const char *text, size_t len, struct sym_range *out, size_t cap,
		     struct symgroups_info *info)
{
	const char *p = text, *end = text + len;
	struct sym_range *all = NULL;
	size_t n = 0, alloc = 0, merged = 0, nonzero = 0;

	memset(info, 0, sizeof(*info));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char name[128];
		uint64_t addr;

		if (parse_line(p, le, &addr, name, sizeof(name))) {
			if (n == alloc) {
				struct sym_range *grown = realloc(all, (alloc = alloc ? 2 * alloc : 4096) * sizeof(*all));

				if (!grown) {
					free(all);
					return -ENOMEM;
				}
				all = grown;
			}
			all[n].start = addr;
			all[n].group = cpu_group_of_symbol(name);
			all[n].pad = 0;
			if (all[n].group == CG_COPY_KERNEL)
				note_copy_routine(info, name);
			nonzero += addr != 0;
			n++;
		}
		p = le + 1;
	}
	info->symbols = n;
	if (n == 0 || nonzero == 0) {
		info->addresses_hidden = n > 0;
		free(all);
		return -EINVAL;
	}
	qsort(all, n, sizeof(*all), cmp_range);
	for (size_t i = 0; i < n; i++) {
		if (all[i].start == 0)
			continue;
		if (merged && out[merged - 1].group == all[i].group)
			continue;
		/* Aliases at one address: the first rule's group stands (copy before the rest). */
		if (merged && out[merged - 1].start == all[i].start) {
			if (all[i].group < out[merged - 1].group)
				out[merged - 1].group = all[i].group;
			continue;
		}
		if (merged == cap) {
			free(all);
			return -ENOSPC;
		}
		out[merged++] = all[i];
	}
	free(all);
	info->ranges = merged;
	return (long)merged;
}

enum cpu_group symgroups_find(const struct sym_range *r, size_t n, uint64_t ip)
{
	size_t lo = 0, hi = n;

	if (n == 0 || ip < r[0].start)
		return CG_KERNEL_OTHER;
	/* The last range whose start is <= ip. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].start <= ip)
			lo = mid;
		else
			hi = mid;
	}
	return (enum cpu_group)r[lo].group;
}
