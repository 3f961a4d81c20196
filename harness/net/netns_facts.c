/* SPDX-License-Identifier: MIT */
/*
 * A link's steering (RPS, XPS, IRQ affinity) and its namespace's net
 * sysctls, read from inside the namespace the link lives in.  sysfs shows
 * the network devices of the namespace that mounted it, so a child enters
 * the namespace, mounts a sysfs of its own in a mount namespace of its
 * own (as `ip netns exec` does), reads, and sends the facts back as JSON.
 */
#include "netns.h"
#include "harness/measure/envfacts.h"
#include "harness/model/base.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define FACTS_WAIT_MS 5000	/* a few sysfs files: milliseconds, unless something is stuck */

/* The child's facts, or {"error": why}; the child never returns. */
static void __attribute__((noreturn)) facts_child(int nsfd, const char *dev, int out)
{
	json_t *o = NULL;
	char why[256] = "the facts could not be made into JSON", *text;
	size_t len, off = 0;

	if (setns(nsfd, CLONE_NEWNET))
		snprintf(why, sizeof(why), "setns into the link's namespace: %s", strerror(errno));
	else if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
		snprintf(why, sizeof(why), "a mount namespace to read the link's sysfs in: %s", strerror(errno));
	else if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		snprintf(why, sizeof(why), "mounting the link namespace's sysfs: %s", strerror(errno));
	else
		o = json_pack("{s:o, s:o}", "steering", envf_link_steering("", dev), "net_sysctl", envf_net_sysctl(""));
	if (!o)
		o = json_pack("{s:s}", "error", why);
	text = json_dumps(o, JSON_COMPACT);
	len = text ? strlen(text) : 0;
	while (off < len) {
		ssize_t n = write(out, text + off, len - off);

		if (n <= 0 && errno != EINTR)
			break;
		off += n > 0 ? (size_t)n : 0;
	}
	_exit(off == len ? 0 : 1);	/* no atexit handler: those are the run's, not this reader's */
}

/* What the child wrote, parsed; NULL with why on failure. */
static json_t *facts_from_child(int nsfd, const char *dev, char *why, size_t whylen)
{
	static char buf[1 << 16];
	size_t got = 0;
	int p[2], status = 0;
	pid_t pid;
	json_t *j = NULL;

	if (pipe2(p, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		close(p[0]);
		facts_child(nsfd, dev, p[1]);
	}
	close(p[1]);
	/* A reader stuck in sysfs must not hold the run: it gets FACTS_WAIT_MS in all. */
	int64_t deadline = now_ns() + (int64_t)FACTS_WAIT_MS * 1000000;
	bool late = false;

	for (ssize_t n; got < sizeof(buf) - 1; got += (size_t)n) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int64_t left_ms = (deadline - now_ns()) / 1000000;
		int ready = left_ms > 0 ? poll(&pf, 1, (int)left_ms) : 0;

		n = 0;
		if (ready < 0 && errno == EINTR)
			continue;	/* a signal: wait out what is left of the deadline */
		if (ready <= 0) {
			late = true;
			break;
		}
		if ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) <= 0) {
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			break;
		}
	}
	close(p[0]);
	buf[got] = '\0';
	if (late)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (late)
		snprintf(why, whylen, "the reader in the link's namespace sent nothing within %d ms: ended", FACTS_WAIT_MS);
	else if (!(j = json_loads(buf, 0, NULL)))
		snprintf(why, whylen, "the reader in the link's namespace sent no facts (status %d)", status);
	return late ? NULL : j;
}

void netns_link_facts(json_t *o, int nsfd, const char *dev)
{
	char why[256] = "the link namespace's reader sent no facts";
	json_t *f, *err;

	if (nsfd < 0) {
		json_object_set_new(o, "steering", envf_link_steering("", dev));
		json_object_set_new(o, "net_sysctl", envf_net_sysctl(""));
		return;
	}
	f = facts_from_child(nsfd, dev, why, sizeof(why));
	if (f && json_is_string(err = json_object_get(f, "error")))
		snprintf(why, sizeof(why), "%s", json_string_value(err));
	if (!f || !json_is_object(json_object_get(f, "steering"))) {
		json_object_set_new(o, "steering", json_null());
		json_object_set_new(o, "steering_note", json_string(why));
		json_object_set_new(o, "net_sysctl", json_null());
		json_object_set_new(o, "net_sysctl_note", json_string(why));
	} else {
		json_object_set_new(o, "steering", json_incref(json_object_get(f, "steering")));
		json_object_set_new(o, "net_sysctl", json_incref(json_object_get(f, "net_sysctl")));
	}
	json_decref(f);
}
