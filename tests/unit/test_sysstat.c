/* SPDX-License-Identifier: MIT */
/*
 * System-wide busy CPU over a window (harness/measure/sysstat.c), on
 * synthetic readings.  Under a hypervisor a vCPU that is not running looks,
 * from inside, like its task running on: the idle-ns figure (wall x CPUs -
 * idle) counts that steal as work unless it is taken out.  The nanosecond
 * figure takes out the steal the runqueues' clocks saw in tasks' stretches;
 * where no steal clock moved and /proc/stat saw steal, the ticks (which
 * leave steal out) give the figure instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "harness/measure/sysstat.h"

#define NS 1000000000ull

/* Two CPUs; /proc/stat at 10 ms ticks; the ns source at mono 1 s. */
static struct system_cpu reading(void)
{
	struct system_cpu s;

	memset(&s, 0, sizeof(s));
	s.have = true;
	s.tick_s = 0.01;
	s.have_ns = true;
	s.ncpus = 2;
	s.mono_ns = 1 * NS;
	s.have_steal_clock = true;
	return s;
}

/*
 * A window of 1 s on 2 CPUs: the ns source saw 0.8 s of idle; the ticks
 * 0.9 s of work (user+system+softirq), 0.4 s of steal.  Of the steal,
 * steal_busy in tasks' stretches, clock_moved: whether the steal clocks
 * moved at all.
 */
static void window(struct system_cpu *a, struct system_cpu *b, double steal_busy, bool clock_moved)
{
	*a = reading();
	*b = reading();
	b->mono_ns = a->mono_ns + 1 * NS;
	b->idle_ns = a->idle_ns + 8 * NS / 10;
	b->user_s = 0.5;
	b->system_s = 0.3;
	b->softirq_s = 0.1;
	b->idle_s = 0.6;
	b->steal_s = 0.4;
	b->steal_busy_ns = (uint64_t)(steal_busy * NS);
	b->steal_clock_ns = clock_moved ? (uint64_t)(0.4 * NS) : 0;
}

static void test_steal_in_tasks_stretches_is_not_busy(void **state)
{
	struct system_cpu a, b, d;

	(void)state;
	window(&a, &b, 0.3, true);
	d = system_cpu_delta(&a, &b);
	assert_true(d.have_ns);
	/* 2 s of CPU - 0.8 idle - 0.3 stolen from tasks */
	assert_float_equal(system_cpu_busy(&d), 0.9, 1e-9);
	assert_float_equal(d.steal_busy_s, 0.3, 1e-9);
	assert_string_equal(system_cpu_method(&d), "bpf idle ns");
}

static void test_no_steal_changes_nothing(void **state)
{
	struct system_cpu a, b, d;

	(void)state;
	window(&a, &b, 0, false);
	b.steal_s = 0;
	b.idle_ns = a.idle_ns + 11 * NS / 10;
	d = system_cpu_delta(&a, &b);
	assert_true(d.have_ns);
	assert_float_equal(system_cpu_busy(&d), 0.9, 1e-9);
	assert_float_equal(d.steal_busy_s, 0, 1e-12);
}

/* /proc/stat saw 0.4 s of steal, no steal clock moved: the ticks decide. */
static void test_steal_not_separable_falls_back_to_ticks(void **state)
{
	struct system_cpu a, b, d;

	(void)state;
	window(&a, &b, 0, false);
	d = system_cpu_delta(&a, &b);
	assert_false(d.have_ns);
	assert_float_equal(system_cpu_busy(&d), 0.9, 1e-9);
	assert_string_equal(system_cpu_method(&d), "/proc/stat ticks");
	/* 90 ticks: enough to decide on */
	assert_true(system_cpu_resolved(&d));
}

/* A kernel with no steal clock (no field to read): the same fallback. */
static void test_no_steal_clock_falls_back_to_ticks(void **state)
{
	struct system_cpu a, b, d;

	(void)state;
	window(&a, &b, 0, true);
	a.have_steal_clock = b.have_steal_clock = false;
	d = system_cpu_delta(&a, &b);
	assert_false(d.have_ns);
	assert_float_equal(system_cpu_busy(&d), 0.9, 1e-9);
}

/* Under two ticks of steal the ns figure stays: at most 20 ms of it can be in busy. */
static void test_steal_under_two_ticks_keeps_ns(void **state)
{
	struct system_cpu a, b, d;

	(void)state;
	window(&a, &b, 0, false);
	b.steal_s = 0.01;
	a.have_steal_clock = b.have_steal_clock = false;
	d = system_cpu_delta(&a, &b);
	assert_true(d.have_ns);
	assert_float_equal(system_cpu_busy(&d), 1.2, 1e-9);
}

/* More steal than wall x CPUs - idle: busy is 0, not negative. */
static void test_busy_never_negative(void **state)
{
	struct system_cpu a, b, d;

	(void)state;
	window(&a, &b, 1.5, true);
	d = system_cpu_delta(&a, &b);
	assert_true(d.have_ns);
	assert_float_equal(system_cpu_busy(&d), 0, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steal_in_tasks_stretches_is_not_busy),
		cmocka_unit_test(test_no_steal_changes_nothing),
		cmocka_unit_test(test_steal_not_separable_falls_back_to_ticks),
		cmocka_unit_test(test_no_steal_clock_falls_back_to_ticks),
		cmocka_unit_test(test_steal_under_two_ticks_keeps_ns),
		cmocka_unit_test(test_busy_never_negative),
	};

	return cmocka_run_group_tests_name("sysstat", tests, NULL, NULL);
}
