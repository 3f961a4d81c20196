/* SPDX-License-Identifier: MIT */
/*
 * A role's figures as every reader states them: the ledger with the same
 * fields from BPF and from the tracer, io_uring's completions and zero-copy
 * sends accounted; copy time and its prediction; busy (steal added back) and the limiting role.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "harness/results/role_figures.h"

#define MIB (1ull << 20)

static void bpf_ledger_counts_io_uring_through_user_memory(void **state)
{
	struct role_result ro = { 0 };
	struct role_ledger l;

	/* uring_rw serving 64 MiB: no read or write syscall, a READ and a SEND per chunk */
	ro.have_ledger = true;
	ro.ledger.uring.have = true;
	ro.ledger.uring.cqe_bytes[LU_READ] = 64 * MIB;
	ro.ledger.uring.cqe_bytes[LU_SEND] = 64 * MIB;
	ro.ledger.uring.cqe_bytes[LU_SPLICE] = 3;
	ro.ledger.by_family[LF_URING] = 1000;
	l = role_ledger_of(&ro);
	assert_true(l.have);
	assert_string_equal(l.source, "bpf");
	assert_true(l.io_uring_seen);
	assert_int_equal(l.to_user, 64 * MIB);
	assert_int_equal(l.from_user, 64 * MIB);
	assert_int_equal(l.in_kernel, 3);
	assert_int_equal(l.calls_read + l.calls_write + l.calls_splice, 0);
}

static void zero_copy_sends_not_copied_leave_the_ledger(void **state)
{
	struct role_result ro = { 0 };
	struct role_ledger l;

	/* msg_zerocopy: 8 MiB sent by sendmsg, 3 MiB of it copied after all */
	ro.have_ledger = true;
	ro.ledger.bytes_to_user = 8 * MIB;
	ro.ledger.bytes_from_user = 8 * MIB;
	ro.zc.reported = true;
	ro.zc.bytes = 8 * MIB;
	ro.zc.bytes_copied = 3 * MIB;
	l = role_ledger_of(&ro);
	assert_int_equal(l.zerocopy_not_copied, 5 * MIB);
	assert_int_equal(l.from_user, 3 * MIB);
	assert_int_equal(l.to_user, 8 * MIB);

	/* every send copied (loopback): all of it crossed */
	ro.zc.bytes_copied = 8 * MIB;
	l = role_ledger_of(&ro);
	assert_int_equal(l.zerocopy_not_copied, 0);
	assert_int_equal(l.from_user, 8 * MIB);
}

static void the_tracer_gives_the_same_fields(void **state)
{
	struct role_result ro = { 0 };
	struct role_ledger l;

	ro.have_tracer = true;
	ro.tracer.calls[CT_READ] = 16;
	ro.tracer.calls[CT_WRITE] = 16;
	ro.tracer.bytes[CT_READ] = MIB;
	ro.tracer.bytes[CT_WRITE] = MIB;
	l = role_ledger_of(&ro);
	assert_true(l.have);
	assert_string_equal(l.source, "tracer");
	assert_false(l.io_uring_seen);
	assert_int_equal(l.calls_read, 16);
	assert_int_equal(l.to_user, MIB);
	assert_int_equal(l.from_user, MIB);
	assert_int_equal(l.in_kernel, 0);

	/* vmsplice, kept apart by the tracer, is in the splice family as BPF counts it */
	ro.tracer.vmsplice_calls = 4;
	ro.tracer.vmsplice_bytes = 4 * MIB;
	l = role_ledger_of(&ro);
	assert_int_equal(l.calls_splice, 4);
	assert_int_equal(l.in_kernel, 4 * MIB);

	/* BPF wins when both counted (--tracer beside BPF) */
	ro.have_ledger = true;
	ro.ledger.bytes_to_user = 2 * MIB;
	assert_string_equal(role_ledger_of(&ro).source, "bpf");
	assert_int_equal(role_ledger_of(&ro).to_user, 2 * MIB);

	memset(&ro, 0, sizeof(ro));
	assert_false(role_ledger_of(&ro).have);
}

static void copy_time_is_sampled_and_predicted(void **state)
{
	struct role_result ro = { 0 };
	struct memcpy_rate rate = { .have = true, .resident_bytes_per_s = 4.0 * MIB,
				    .dram_bytes_per_s = 1.0 * MIB };
	struct role_cputime t;

	ro.cpu_user_s = 0.5;
	ro.cpu_sys_s = 1.5;
	ro.have_ledger = true;
	ro.ledger.bytes_to_user = 2 * MIB;
	ro.ledger.bytes_from_user = 2 * MIB;
	ro.have_cputime = true;
	ro.cputime.period_s = 0.01;
	ro.cputime.samples[CG_COPY_KERNEL] = 30;
	ro.cputime.samples[CG_COPY_USER] = 10;
	ro.cputime.samples[CG_NET] = 160;
	ro.cputime.total = 200;
	t = role_cputime_of(&ro, &rate);
	assert_true(t.have);
	assert_true(fabs(t.sampled_s - 2.0) < 1e-9);
	assert_true(fabs(t.copy_s - 0.4) < 1e-9);
	assert_true(fabs(t.copy_share - 0.2) < 1e-9);
	assert_true(fabs(t.group_s[CG_NET] - 1.6) < 1e-9);
	/* 4 MiB through user memory: 1 s at 4 MiB/s in cache, 4 s from memory */
	assert_true(fabs(t.predicted_resident_s - 1.0) < 1e-9);
	assert_true(fabs(t.predicted_dram_s - 4.0) < 1e-9);

	/* no sampler: nothing, not zeros */
	ro.have_cputime = false;
	t = role_cputime_of(&ro, &rate);
	assert_false(t.have);
	assert_true(isnan(t.copy_share));
}

static void the_busiest_role_over_nine_tenths_limits(void **state)
{
	struct rep_result rep = { 0 };

	rep.wall_s = 2.0;
	rep.nroles = 3;
	rep.roles[0].cpu_sys_s = 1.0;	/* 0.5 */
	rep.roles[1].cpu_user_s = 1.0;
	rep.roles[1].cpu_sys_s = 0.9;	/* 0.95 */
	rep.roles[2].cpu_sys_s = 1.99;	/* 0.995 */
	assert_true(fabs(role_busy(&rep, &rep.roles[0]) - 0.5) < 1e-9);
	assert_int_equal(limiting_role(&rep), 2);
	rep.roles[2].cpu_sys_s = 1.0;
	assert_int_equal(limiting_role(&rep), 1);
	rep.roles[1].cpu_sys_s = 0.7;	/* 0.85: under the line */
	assert_int_equal(limiting_role(&rep), -1);
	rep.wall_s = 0;
	assert_true(isnan(role_busy(&rep, &rep.roles[0])));
	assert_int_equal(limiting_role(&rep), -1);
}

/*
 * The kernel leaves steal out of a task's CPU time: a role that ran flat
 * out while the host stopped its vCPU a fifth of the time reads 0.8 of the
 * wall from its CPU time alone.  busy adds back the steal of its stretches.
 */
static void steal_in_the_roles_stretches_counts_as_busy(void **state)
{
	struct rep_result rep = { 0 };

	rep.wall_s = 1.0;
	rep.nroles = 2;
	rep.roles[0].cpu_user_s = 0.3;
	rep.roles[0].cpu_sys_s = 0.5;
	rep.roles[1].cpu_user_s = 0.2;
	assert_int_equal(limiting_role(&rep), -1);
	rep.roles[0].have_ledger = true;
	rep.roles[0].ledger.steal_ns = 200000000;
	assert_true(fabs(role_busy(&rep, &rep.roles[0]) - 1.0) < 1e-9);
	assert_int_equal(limiting_role(&rep), 0);
	/* without the ledger its steal is unknown: CPU time alone */
	rep.roles[0].have_ledger = false;
	assert_true(fabs(role_busy(&rep, &rep.roles[0]) - 0.8) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bpf_ledger_counts_io_uring_through_user_memory),
		cmocka_unit_test(zero_copy_sends_not_copied_leave_the_ledger),
		cmocka_unit_test(the_tracer_gives_the_same_fields),
		cmocka_unit_test(copy_time_is_sampled_and_predicted),
		cmocka_unit_test(the_busiest_role_over_nine_tenths_limits),
		cmocka_unit_test(steal_in_the_roles_stretches_counts_as_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
