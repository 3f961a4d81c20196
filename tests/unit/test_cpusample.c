/* SPDX-License-Identifier: MIT */
/*
 * The CPU sampler against known work: a child in its window copies
 * through a pipe (kernel copies), memcpy's (user copies) or only
 * computes, and the samples land in the groups that work belongs to, in
 * proportion to the CPU time the child used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/measure/bpf/cpusample.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/model/base.h"

#define MIB (1u << 20)
#define WORK_NS 400000000LL	/* each child works 0.4 s of CPU */

static struct ledger *g_ledger;
static struct cpusample *g_sampler;
static char g_why[256];
static unsigned char g_src[4 * MIB], g_dst[4 * MIB];

static int group_setup(void **state)
{
	if (geteuid() != 0)
		snprintf(g_why, sizeof(g_why), "not root (BPF and CPU-wide perf events need root)");
	else if (ledger_open(&g_ledger, g_why, sizeof(g_why)) == 0 &&
		 cpusample_open(g_ledger, &g_sampler, g_why, sizeof(g_why)) == 0)
		print_message("# sampler: %s\n", cpusample_describe(g_sampler));
	if (!g_sampler)
		print_message("# sampler: %s\n", g_why);
	memset(g_src, 'x', sizeof(g_src));
	memset(g_dst, 'y', sizeof(g_dst));
	return 0;
}

static int group_teardown(void **state)
{
	cpusample_close(g_sampler);
	ledger_close(g_ledger);
	return 0;
}

/* Skip where the sampler truly cannot run; fail where the machine kind has it. */
static void need_sampler(void)
{
	const char *req = getenv("COPYLAB_REQUIRE_CPUSAMPLE");

	if (g_sampler)
		return;
	if (req && strcmp(req, "1") == 0)
		fail_msg("COPYLAB_REQUIRE_CPUSAMPLE=1 but the sampler is unavailable: %s", g_why);
	print_message("# skip: %s\n", g_why);
	skip();
}

static double cpu_s(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

enum work { W_PIPE, W_MEMCPY, W_COMPUTE };

/* Writes and reads back 1 MiB through a pipe: pipe_write and pipe_read copy. */
static void pipe_round(int p[2])
{
	for (size_t done = 0; done < MIB; done += 65536) {
		if (write(p[1], g_src + done, 65536) != 65536 || read(p[0], g_dst + done, 65536) != 65536)
			_exit(3);
	}
}

static volatile uint64_t g_sink;

static void compute_round(void)
{
	uint64_t x = g_sink + 1;

	for (int i = 0; i < 1000000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	g_sink = x;
}

/* The child: window open, work for WORK_NS of wall time, window closed; its CPU seconds to the parent. */
static void child(enum work w, int slot, int report)
{
	int p[2];
	double c0, c1;
	int64_t end;

	if (pipe(p))
		_exit(2);
	if (ledger_window_begin(g_ledger, slot))
		_exit(4);
	c0 = cpu_s();
	end = now_ns() + WORK_NS;
	while (now_ns() < end) {
		if (w == W_PIPE)
			pipe_round(p);
		else if (w == W_MEMCPY)
			memcpy(g_dst, g_src, sizeof(g_src));
		else
			compute_round();
	}
	c1 = cpu_s();
	ledger_window_end(g_ledger);
	if (write(report, &(double){ c1 - c0 }, sizeof(double)) != sizeof(double))
		_exit(5);
	_exit(0);
}

static void run_child(enum work w, int slot, struct cpusample_counts *c, double *cpu)
{
	int rp[2], st;
	pid_t pid;

	assert_int_equal(cpusample_reset(g_sampler, slot), 0);
	assert_int_equal(pipe(rp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(rp[0]);
		child(w, slot, rp[1]);
	}
	close(rp[1]);
	assert_int_equal(read(rp[0], cpu, sizeof(*cpu)), sizeof(*cpu));
	close(rp[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(cpusample_read(g_sampler, slot, c), 0);
	print_message("# work %d: %.3f s CPU, %llu samples (copy k/u %llu/%llu, user %llu, other kernel %llu)\n", w,
		      *cpu, (unsigned long long)c->total, (unsigned long long)c->samples[CG_COPY_KERNEL],
		      (unsigned long long)c->samples[CG_COPY_USER], (unsigned long long)c->samples[CG_USER_OTHER],
		      (unsigned long long)c->samples[CG_KERNEL_OTHER]);
}

/*
 * Samples times the period agree with the CPU time getrusage counted for
 * the same process and window; the two clocks differ in how they charge
 * interrupts and ticks, so within a third.
 */
static void assert_samples_match_cpu(const struct cpusample_counts *c, double cpu)
{
	double sampled = c->total * c->period_s;

	assert_true(cpu > 0.05);
	assert_true(sampled > cpu * 0.67 && sampled < cpu * 1.5);
}

static void pipe_copies_are_kernel_copy_time(void **state)
{
	struct cpusample_counts c;
	double cpu;

	need_sampler();
	run_child(W_PIPE, 0, &c, &cpu);
	assert_samples_match_cpu(&c, cpu);
	/*
	 * A pipe round trip's two copies are about a quarter of it on a 6.x
	 * kernel (page allocation and memcg charging are most of the rest).
	 */
	assert_true(c.samples[CG_COPY_KERNEL] > c.total / 8);
	assert_true(c.samples[CG_COPY_USER] < c.total / 20);
}

static void memcpy_is_user_copy_time(void **state)
{
	struct cpusample_counts c;
	double cpu;

	need_sampler();
	run_child(W_MEMCPY, 1, &c, &cpu);
	assert_samples_match_cpu(&c, cpu);
	if (c.samples[CG_COPY_USER] == 0 && !strstr(cpusample_describe(g_sampler), "user copies:")) {
		/* without libc's debug symbols the sampler says so and counts user code as one */
		assert_true(c.samples[CG_USER_OTHER] > c.total / 2);
		return;
	}
	assert_true(c.samples[CG_COPY_USER] > c.total / 2);
	assert_true(c.samples[CG_COPY_KERNEL] < c.total / 20);
}

static void computing_is_user_code(void **state)
{
	struct cpusample_counts c;
	double cpu;

	need_sampler();
	run_child(W_COMPUTE, 2, &c, &cpu);
	assert_samples_match_cpu(&c, cpu);
	assert_true(c.samples[CG_USER_OTHER] > c.total * 9 / 10);
	assert_int_equal(c.samples[CG_COPY_KERNEL] + c.samples[CG_COPY_USER], 0);
}

static void nothing_is_counted_outside_a_window(void **state)
{
	struct cpusample_counts c;
	int64_t end = now_ns() + 100000000LL;

	need_sampler();
	assert_int_equal(cpusample_reset(g_sampler, 3), 0);
	while (now_ns() < end)
		compute_round();
	assert_int_equal(cpusample_read(g_sampler, 3, &c), 0);
	assert_int_equal(c.total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipe_copies_are_kernel_copy_time),
		cmocka_unit_test(memcpy_is_user_copy_time),
		cmocka_unit_test(computing_is_user_code),
		cmocka_unit_test(nothing_is_counted_outside_a_window),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
