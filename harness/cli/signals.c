/* SPDX-License-Identifier: MIT */
/* The signals that stop a command which runs for a while (run, bench, copy, xdp). */
#include "cli.h"
#include "harness/model/base.h"

#include <signal.h>

static void on_stop_signal(int sig)
{
	run_interrupted = sig;
}

void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	/* No SA_RESTART: a wait (run: the parent's, for a rep) must see EINTR and stop. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
