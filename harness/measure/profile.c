/* SPDX-License-Identifier: MIT */
/* perf record / perf report around one repetition's role under test. */
#include "profile.h"
#include "harness/model/base.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* perf with argv, never a shell: the data path holds --workdir, which may hold anything. */
static pid_t spawn(char *const argv[], int out_fd)
{
	const char *perf = system_tool(argv[0]);
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (perf)
			execv(perf, argv);
		_exit(127);
	}
	return pid;
}

/* Runs perf with argv, its output into a buffer (NUL-ended, malloc'd; NULL when none). */
static char *perf_output(char *const argv[])
{
	char tmpl[] = "/tmp/copylab-report-XXXXXX", *text = NULL;
	size_t cap = 0, len = 0;
	int status, fd = mkstemp(tmpl);

	if (fd < 0)
		return NULL;
	unlink(tmpl);
	pid_t pid = spawn(argv, fd);

	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *n = realloc(text, cap = cap ? cap * 2 : 16384);

			if (!n)
				break;
			text = n;
		}
		ssize_t r = read(fd, text + len, cap - len - 1);

		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	if (text)
		text[len] = '\0';
	return text;
}

/*
 * perf record starts with its events disabled (-D -1) and takes "enable"
 * on a control FIFO, answering "ack" once they are on.  Waiting for the
 * data file to appear is not enough: perf writes its header before it has
 * attached, and while it synthesises the BPF programs already loaded (the
 * ledger's) a short repetition could end before the first sample.
 */
static int control_fifo(char *path, size_t len, const char *dir, pid_t target,
			const char *what)
{
	int n = snprintf(path, len, "%s/profile-%d.%s", dir, (int)target, what);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	unlink(path);
	if (mkfifo(path, 0600) < 0)
		return -errno;
	/* O_RDWR: opening a FIFO so never waits for the other end. */
	n = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	return n < 0 ? -errno : n;
}

/* Writes "enable" and waits up to 10 s for perf's "ack".  0, or -1 with why. */
static int enable_and_wait(struct profile_run *p, char *why, size_t whylen)
{
	char buf[16];

	if (write(p->ctl_fd, "enable\n", 7) != 7) {
		snprintf(why, whylen, "writing to perf's control FIFO: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 1000; i++) {
		int status;
		ssize_t r = read(p->ack_fd, buf, sizeof(buf) - 1);

		if (r > 0)
			return 0;
		if (waitpid(p->perf_pid, &status, WNOHANG) == p->perf_pid) {
			p->perf_pid = 0;
			snprintf(why, whylen, WIFEXITED(status) && WEXITSTATUS(status) == 127
				 ? "perf is not installed (Debian package linux-perf)"
				 : "perf record exited at once (perf_event_paranoid, or no permission to attach)");
			return -1;
		}
		sleep_ms(10);
	}
	snprintf(why, whylen, "perf record did not start within 10 s");
	return -1;
}

int profile_start(struct profile_run *p, pid_t target, const char *dir, char *why, size_t whylen)
{
	char pidbuf[16], ctl[2 * 4096 + 8];
	int r;

	p->ctl_fd = p->ack_fd = -1;
	snprintf(p->data_path, sizeof(p->data_path), "%s/profile-%d.data", dir, (int)target);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	if ((r = control_fifo(p->ctl_path, sizeof(p->ctl_path), dir, target, "ctl")) < 0 ||
	    (p->ctl_fd = r, r = control_fifo(p->ack_path, sizeof(p->ack_path), dir, target, "ack")) < 0) {
		snprintf(why, whylen, "perf's control FIFO in %s: %s", dir, strerror(-r));
		profile_finish(p, NULL);
		return -1;
	}
	p->ack_fd = r;
	snprintf(ctl, sizeof(ctl), "fifo:%s,%s", p->ctl_path, p->ack_path);
	char *argv[] = { "perf", "record", "-q", "-D", "-1", "--control", ctl, "-e", "cpu-clock", "-g",
			 "-o", p->data_path, "-p", pidbuf, NULL };

	p->perf_pid = spawn(argv, -1);
	if (p->perf_pid < 0) {
		p->perf_pid = 0;
		snprintf(why, whylen, "fork: %s", strerror(errno));
		profile_finish(p, NULL);
		return -1;
	}
	if (enable_and_wait(p, why, whylen)) {
		profile_finish(p, NULL);
		return -1;
	}
	return 0;
}

int profile_parse(const char *text, struct profile_result *out)
{
	const char *line = text;

	out->n = 0;
	while (line && *line && out->n < PROFILE_TOP) {
		const char *nl = strchr(line, '\n');
		double pct;
		char mode, sym[sizeof(out->top[0].symbol)];

		if (sscanf(line, " %lf%% [%c] %63s", &pct, &mode, sym) == 3 && (mode == 'k' || mode == '.')) {
			struct profile_entry *e = &out->top[out->n++];

			snprintf(e->symbol, sizeof(e->symbol), "%s", sym);
			e->kernel = mode == 'k';
			e->share = pct / 100.0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return out->n;
}

/* perf report --stats counts the SAMPLE events recorded. */
static uint64_t count_samples(const char *path)
{
	char *argv[] = { "perf", "report", "-i", (char *)path, "--stats", NULL };
	char *text = perf_output(argv), *at;
	unsigned long n = 0;

	if (text && (at = strstr(text, "SAMPLE events:")))
		sscanf(at, "SAMPLE events: %lu", &n);
	free(text);
	return n;
}

/* Nothing to do for a run that profile_start never touched (zeroed). */
static void close_control(struct profile_run *p)
{
	if (!p->ctl_path[0] && !p->ack_path[0])
		return;
	if (p->ctl_fd >= 0)
		close(p->ctl_fd);
	if (p->ack_fd >= 0)
		close(p->ack_fd);
	p->ctl_fd = p->ack_fd = -1;
	if (p->ctl_path[0])
		unlink(p->ctl_path);
	if (p->ack_path[0])
		unlink(p->ack_path);
	p->ctl_path[0] = p->ack_path[0] = '\0';
}

void profile_finish(struct profile_run *p, struct profile_result *out)
{
	int status;
	char *text;

	/* perf never started: out keeps the note profile_start wrote, saying why. */
	if (out && p->perf_pid > 0)
		memset(out, 0, sizeof(*out));
	if (p->perf_pid > 0) {
		kill(p->perf_pid, SIGINT);
		while (waitpid(p->perf_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close_control(p);
	if (p->perf_pid <= 0 || !out) {
		p->perf_pid = 0;
		unlink(p->data_path);
		return;
	}
	p->perf_pid = 0;
	char *argv[] = { "perf", "report", "-i", p->data_path, "--stdio", "--no-children",
			 "--sort", "sym", "-g", "none", "-q", "--percent-limit", "0.5", NULL };

	text = perf_output(argv);
	if (text)
		profile_parse(text, out);
	out->samples = count_samples(p->data_path);
	out->taken = out->n > 0;
	if (!out->taken)
		snprintf(out->note, sizeof(out->note), "%s", text ? "perf report gave no samples"
								 : "perf report: no output (mkstemp in /tmp failed)");
	free(text);
	unlink(p->data_path);
}
