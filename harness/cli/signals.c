/* SPDX-License-Identifier: MIT */
/* The signals that stop a command which runs for a while (run, bench, copy, xdp). */
#include "cli.h"
#include "harness/model/base.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/*
 * Every signal whose default action would end copylab before its atexit
 * handlers ran: the terminal's (INT, QUIT, HUP), kill's (TERM) and the
 * user signals, which a stray `kill -USR1` sends as easily.  SIGKILL and
 * SIGSTOP cannot be caught: `copylab cleanup` is for those.
 */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void on_stop_signal(int sig)
{
	/* The first one says what interrupted the run; a second changes nothing. */
	if (!run_interrupted)
		run_interrupted = sig;
}

void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	/* No SA_RESTART: a wait (run: the parent's, for a rep) must see EINTR and stop. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool interrupted_during(const char *what)
{
	if (!run_interrupted)
		return false;
	fprintf(stderr, "copylab: interrupted by SIG%s (%s) %s\n", sigabbrev_np(run_interrupted),
		strsignal(run_interrupted), what);
	return true;
}
