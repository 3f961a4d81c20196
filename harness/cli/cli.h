/* SPDX-License-Identifier: MIT */
/* The subcommands.  Each returns the exit status: 0, 1 (a run failed), 2 (usage). */
#ifndef COPYLAB_CLI_H
#define COPYLAB_CLI_H

#include "harness/net/transport.h"
#include "strategies/strategy.h"

#define EXIT_RUN_FAILED 1
#define EXIT_USAGE 2

int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_claims(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_source(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_stackd(int argc, char **argv);
int cmd_stack(int argc, char **argv);
int cmd_xdp(int argc, char **argv);

/* The whole command line, for a re-execution under the tracer. */
extern char **copylab_argv;

/* Prints "copylab: MESSAGE" on stderr and returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Forks and execs argv (with env, or this environment when NULL), ^C going
 * to the command as with system(); waits.  0 with *status from waitpid, or
 * -1 after saying on stderr, as "copylab: WHO: ...", why it could not run.
 */
int cli_run_command(const char *who, char **argv, char **env, int *status);

/*
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 set
 * run_interrupted and interrupt the wait in progress (EINTR), so the
 * command stops between two steps and cleans up; SIGPIPE is ignored, so a
 * closed peer is an EPIPE to report.  Installed first thing, before
 * anything is made that a signal's default action would leave behind.
 */
void catch_stop_signals(void);
/*
 * After a step that makes something (a link, a namespace): true, having
 * said "interrupted by SIG... WHAT", when a stop signal came meanwhile.
 */
bool interrupted_during(const char *what);

/*
 * Where copylab run (and bench, claims) puts a strategy: scenario sc over
 * transport tr, as this user; a role that kernel configuration plays is
 * allowed.  For strategy_refusal.
 */
struct strategy_place run_place(enum scenario sc, enum transport tr);

#endif
