/* SPDX-License-Identifier: MIT */
/*
 * The drive loops with busy (strategy.h's tun.busy): a step that says
 * EAGAIN is stepped again at once instead of waited on in poll().  A stub
 * strategy says EAGAIN a number of times while naming a descriptor that
 * never becomes ready (the read end of an empty pipe): with busy the loops
 * finish, still looking at the stop flag between steps; without busy the
 * same descriptor would block them, so a bounded child shows it waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strategies/drive.h"

#define STUB_EAGAINS 1000

struct stub_state {
	int eagains_left;
	volatile sig_atomic_t *stop;	/* set after stop_after steps, when given */
	int stop_after, steps;
	int never_ready_fd;
};

static struct stub_state stub;

static ssize_t stub_move(struct xfer *x)
{
	if (stub.stop && ++stub.steps == stub.stop_after)
		*stub.stop = 1;
	if (stub.eagains_left > 0) {
		stub.eagains_left--;
		x->io.eagain++;
		x->wait[0] = (struct wait_on){ stub.never_ready_fd, POLLIN };
		x->wait[1].fd = -1;
		return -EAGAIN;
	}
	if (x->moved < x->total) {
		x->moved = x->total;
		return 1;
	}
	return 0;
}

static const struct strategy stub_strategy = {
	.name = "stub",
	.move = stub_move,
};

static int pipe_fds[2];

static void stub_reset(int eagains)
{
	stub = (struct stub_state){ .eagains_left = eagains, .never_ready_fd = pipe_fds[0] };
}

static void busy_xfer(struct xfer *x, bool busy)
{
	struct tunables t = { .busy = busy, .nonblock = true };

	xfer_init(x, SC_PIPE, EP_MEMORY, EP_PIPE, 4096, &t);
	x->total = 4096;
}

/* busy: every EAGAIN stepped again at once; the transfer ends without a wait. */
static void test_busy_spins_to_the_end(void **state)
{
	struct xfer x;

	(void)state;
	stub_reset(STUB_EAGAINS);
	busy_xfer(&x, true);
	assert_int_equal(xfer_drive(&stub_strategy, &x, NULL), 0);
	assert_int_equal(x.moved, 4096);
	assert_int_equal(x.io.eagain, STUB_EAGAINS);
}

/* The spin still looks at the stop flag between steps. */
static void test_busy_spin_stops(void **state)
{
	volatile sig_atomic_t stop = 0;
	struct xfer x;

	(void)state;
	stub_reset(1 << 30);
	stub.stop = &stop;
	stub.stop_after = 50;
	busy_xfer(&x, true);
	assert_int_equal(xfer_drive(&stub_strategy, &x, &stop), -EINTR);
	assert_int_equal(stub.steps, 50);
}

/* --conns' loop spins too: n transfers, each saying EAGAIN, all end. */
static void test_busy_many_spin(void **state)
{
	struct xfer xs[3];
	int failed = -1;

	(void)state;
	stub_reset(STUB_EAGAINS);
	for (int i = 0; i < 3; i++)
		busy_xfer(&xs[i], true);
	assert_int_equal(xfers_drive(&stub_strategy, xs, 3, NULL, NULL, &failed), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(xs[i].moved, 4096);
}

/*
 * Without busy the loop sleeps in poll() on the named descriptor, which
 * never becomes ready: a child that runs it is still there after the
 * bounded wait that a busy child finishes well inside.
 */
static void test_without_busy_it_waits(void **state)
{
	int status = 0;

	(void)state;
	for (int busy = 1; busy >= 0; busy--) {
		pid_t pid = fork();
		bool ended = false;

		assert_true(pid >= 0);
		if (pid == 0) {
			struct xfer x;

			stub_reset(1);
			busy_xfer(&x, busy);
			_exit(xfer_drive(&stub_strategy, &x, NULL) == 0 ? 0 : 1);
		}
		/* Up to 10 s for the busy child to end; the sleeping one is looked at for 200 ms. */
		for (int i = 0; i < (busy ? 1000 : 20) && !ended; i++) {
			ended = waitpid(pid, &status, WNOHANG) == pid;
			if (!ended)
				usleep(10000);
		}
		if (busy) {
			assert_true(ended);
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		} else {
			assert_false(ended);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
}

/* A loop that sleeps where it should spin never returns: say so and fail, rather than hang. */
static void on_alarm(int sig)
{
	static const char msg[] = "test_drive_busy: a drive loop slept in poll() where busy should have spun\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static int make_pipe(void **state)
{
	(void)state;
	return pipe(pipe_fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_spins_to_the_end),
		cmocka_unit_test(test_busy_spin_stops),
		cmocka_unit_test(test_busy_many_spin),
		cmocka_unit_test(test_without_busy_it_waits),
	};

	signal(SIGALRM, on_alarm);
	alarm(30);
	return cmocka_run_group_tests(tests, make_pipe, NULL);
}
