/* SPDX-License-Identifier: MIT */
/*
 * The CPU groups' rules and the kallsyms ranges built from them: which
 * group a symbol falls in, how /proc/kallsyms text becomes sorted, merged
 * ranges, and which range an address lands in.  No kernel needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness/measure/cpugroups.h"

static void symbols_fall_in_their_groups(void **state)
{
	assert_int_equal(cpu_group_of_symbol("rep_movs_alternative"), CG_COPY_KERNEL);
	assert_int_equal(cpu_group_of_symbol("_copy_to_iter"), CG_COPY_KERNEL);
	/* skb_copy_* is a copy before skb_* is the network stack */
	assert_int_equal(cpu_group_of_symbol("skb_copy_datagram_iter"), CG_COPY_KERNEL);
	assert_int_equal(cpu_group_of_symbol("skb_release_data"), CG_NET);
	assert_int_equal(cpu_group_of_symbol("tcp_sendmsg_locked"), CG_NET);
	assert_int_equal(cpu_group_of_symbol("__schedule"), CG_SCHED);
	assert_int_equal(cpu_group_of_symbol("try_to_wake_up"), CG_SCHED);
	assert_int_equal(cpu_group_of_symbol("entry_SYSCALL_64_after_hwframe"), CG_SYSCALL);
	assert_int_equal(cpu_group_of_symbol("do_user_addr_fault"), CG_MM);
	assert_int_equal(cpu_group_of_symbol("bpf_prog_6deef7357e7b4530_on_sys_exit"), CG_PROBES);
	assert_int_equal(cpu_group_of_symbol("ext4_file_write_iter"), CG_KERNEL_OTHER);
	/* a prefix rule does not match a name that only contains it */
	assert_int_equal(cpu_group_of_symbol("xtcp_thing"), CG_KERNEL_OTHER);
	/* an exact rule does not match a longer name */
	assert_int_equal(cpu_group_of_symbol("memcpy_extra"), CG_KERNEL_OTHER);
}

/* The table read straight through, first match first: what the index must agree with. */
static enum cpu_group by_table(const char *name)
{
	for (size_t i = 0; i < cpu_group_nrules; i++) {
		const char *p = cpu_group_rules[i].pattern;
		size_t n = strlen(p);

		if (n && p[n - 1] == '*' ? strncmp(p, name, n - 1) == 0 : strcmp(p, name) == 0)
			return cpu_group_rules[i].group;
	}
	return CG_KERNEL_OTHER;
}

/* Every rule's own name, and a longer one, give the group the table gives in order. */
static void the_index_agrees_with_the_table(void **state)
{
	for (size_t i = 0; i < cpu_group_nrules; i++) {
		char name[160];
		size_t n = strlen(cpu_group_rules[i].pattern);

		snprintf(name, sizeof(name), "%.*s", (int)(n && cpu_group_rules[i].pattern[n - 1] == '*' ? n - 1 : n),
			 cpu_group_rules[i].pattern);
		assert_int_equal(cpu_group_of_symbol(name), by_table(name));
		strncat(name, "_x", sizeof(name) - strlen(name) - 1);
		assert_int_equal(cpu_group_of_symbol(name), by_table(name));
	}
}

static void every_group_has_a_name_and_a_rule_or_a_source(void **state)
{
	bool ruled[CG_COUNT] = { false };

	for (size_t i = 0; i < cpu_group_nrules; i++)
		ruled[cpu_group_rules[i].group] = true;
	for (int g = 0; g < CG_COUNT; g++) {
		assert_string_not_equal(cpu_group_name(g), "?");
		assert_string_not_equal(cpu_group_title(g), "?");
		/* user groups come from user addresses, the rest of the kernel from no rule */
		if (g != CG_COPY_USER && g != CG_USER_OTHER && g != CG_KERNEL_OTHER)
			assert_true(ruled[g]);
	}
}

/* Unsorted, with data symbols, a module's and aliases at one address. */
static const char kallsyms[] =
	"ffffffff81000300 T tcp_sendmsg\n"
	"ffffffff81000000 T _text\n"
	"ffffffff81000100 T tcp_recvmsg\n"
	"ffffffff81000200 D some_data\n"
	"ffffffff81000400 T memcpy\n"
	"ffffffff81000400 T __memcpy\n"
	"ffffffff81000400 t a_local_alias\n"
	"ffffffff81000500 t memcpy_orig\n"
	"ffffffff81000600 T schedule\n"
	"ffffffffc0001000 t veth_xmit\t[veth]\n"
	"ffffffffc0002000 t bpf_prog_0123456789abcdef_on_cpu_sample\t[bpf]\n"
	"not a line\n"
	"ffffffff81000700 b a_bss_symbol\n";

static void kallsyms_become_sorted_merged_ranges(void **state)
{
	struct sym_range r[16];
	struct symgroups_info info;
	long n = symgroups_build(kallsyms, sizeof(kallsyms) - 1, r, 16, &info);

	assert_int_equal(info.symbols, 10);
	/* _text other; tcp_recvmsg+tcp_sendmsg net; memcpy.. copy; schedule; veth net; bpf probes */
	assert_int_equal(n, 6);
	assert_int_equal(r[0].start, 0xffffffff81000000ull);
	assert_int_equal(r[0].group, CG_KERNEL_OTHER);
	assert_int_equal(r[1].start, 0xffffffff81000100ull);
	assert_int_equal(r[1].group, CG_NET);
	/* the alias at memcpy's address takes the copy group; memcpy_orig merges into it */
	assert_int_equal(r[2].start, 0xffffffff81000400ull);
	assert_int_equal(r[2].group, CG_COPY_KERNEL);
	assert_int_equal(r[3].group, CG_SCHED);
	assert_int_equal(r[4].group, CG_NET);
	assert_int_equal(r[5].group, CG_PROBES);
	assert_non_null(strstr(info.copy_routines, "memcpy_orig"));
	assert_non_null(strstr(info.copy_routines, "__memcpy"));

	assert_int_equal(symgroups_find(r, n, 0x1000), CG_KERNEL_OTHER);
	assert_int_equal(symgroups_find(r, n, 0xffffffff81000350ull), CG_NET);
	assert_int_equal(symgroups_find(r, n, 0xffffffff810004ffull), CG_COPY_KERNEL);
	assert_int_equal(symgroups_find(r, n, 0xffffffff81000500ull), CG_COPY_KERNEL);
	assert_int_equal(symgroups_find(r, n, 0xffffffff81000600ull), CG_SCHED);
	assert_int_equal(symgroups_find(r, n, 0xffffffffc0001800ull), CG_NET);
	assert_int_equal(symgroups_find(r, n, 0xffffffffc0009000ull), CG_PROBES);
}

static void hidden_addresses_and_overflow_are_refused(void **state)
{
	static const char hidden[] = "0000000000000000 T tcp_sendmsg\n0000000000000000 T schedule\n";
	struct sym_range r[2];
	struct symgroups_info info;

	assert_int_equal(symgroups_build(hidden, sizeof(hidden) - 1, r, 2, &info), -EINVAL);
	assert_true(info.addresses_hidden);
	assert_int_equal(symgroups_build("", 0, r, 2, &info), -EINVAL);
	assert_false(info.addresses_hidden);
	assert_int_equal(symgroups_build(kallsyms, sizeof(kallsyms) - 1, r, 2, &info), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(symbols_fall_in_their_groups),
		cmocka_unit_test(the_index_agrees_with_the_table),
		cmocka_unit_test(every_group_has_a_name_and_a_rule_or_a_source),
		cmocka_unit_test(kallsyms_become_sorted_merged_ranges),
		cmocka_unit_test(hidden_addresses_and_overflow_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
