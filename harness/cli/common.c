/* SPDX-License-Identifier: MIT */
/*
 * What the subcommands share: the form of a usage error, running a command,
 * where copylab run places a strategy.
 */
#include "cli.h"
#include "harness/model/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char **copylab_argv;

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("copylab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/*
 * Forks and execs argv with env; waits.  Returns 0 with *status from
 * waitpid, or -1 after saying why the command could not run at all.
 */
int cli_run_command(const char *who, char **argv, char **env, int *status)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int errpipe[2], child_errno = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(errpipe, O_CLOEXEC) != 0) {
		fprintf(stderr, "copylab: %s: pipe: %s\n", who, strerror(errno));
		return -1;
	}
	/* Like system(): ^C goes to the command; we stay to report and clean up. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		close(errpipe[0]);
		if (env)
			execvpe(argv[0], argv, env);
		else
			execvp(argv[0], argv);
		child_errno = errno;
		n = write(errpipe[1], &child_errno, sizeof(child_errno));
		(void)n;
		_exit(127);
	}
	close(errpipe[1]);
	if (pid < 0) {
		fprintf(stderr, "copylab: %s: fork: %s\n", who, strerror(errno));
		close(errpipe[0]);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		return -1;
	}
	do
		n = read(errpipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "copylab: %s: waitpid: %s\n", who, strerror(errno));
			*status = W_EXITCODE(1, 0);
			break;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (n == (ssize_t)sizeof(child_errno)) {
		fprintf(stderr, "copylab: %s: cannot run '%s': %s%s\n", who, argv[0], strerror(child_errno),
			child_errno == ENOENT ? " (command not found)" : "");
		return -1;
	}
	return 0;
}

struct strategy_place run_place(enum scenario sc, enum transport tr)
{
	bool sockets = scenario_def(sc)->uses_transport;

	return (struct strategy_place){
		.scenario = sc,
		.transport = sockets ? transport_name(tr) : NULL,
		/* userstack: the role's end is the shim's kind of socket, an AF_UNIX fd to stackd */
		.af_unix = sockets && (tr == TR_UNIX || tr == TR_USERSTACK),
		.own_process = false,
		.privileged = geteuid() == 0,
	};
}
