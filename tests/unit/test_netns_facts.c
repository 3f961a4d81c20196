/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/net/netns_facts.c: a link's steering and net
 * sysctls are read inside the link's namespace, not the caller's.  A child
 * makes a namespace of its own and sets its tcp_rmem to a value the
 * caller's namespace does not have; the facts must show that value, and a
 * device of the caller's namespace must be absent there.  Needs root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/measure/envfacts.h"
#include "harness/net/netns.h"

#define UNUSED __attribute__((unused))
#define CHILD_RMEM_MAX 1234567

static pid_t child;
static int nsfd = -1;

/* A child in a new network namespace whose tcp_rmem max is CHILD_RMEM_MAX, waiting to be killed. */
static int make_namespace(void **state UNUSED)
{
	int p[2];
	char ok = 0, path[64];

	if (geteuid() != 0)
		return 0;	/* the test skips, saying why */
	if (pipe(p))
		return -1;
	if ((child = fork()) == 0) {
		FILE *f;

		close(p[0]);
		if (unshare(CLONE_NEWNET) || !(f = fopen("/proc/sys/net/ipv4/tcp_rmem", "w")))
			_exit(1);
		fprintf(f, "4096 87380 %d\n", CHILD_RMEM_MAX);
		if (fclose(f) == 0 && write(p[1], "y", 1) == 1)
			pause();
		_exit(1);
	}
	close(p[1]);
	if (child < 0 || read(p[0], &ok, 1) != 1 || ok != 'y')
		return -1;
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	return nsfd < 0 ? -1 : 0;
}

static int end_namespace(void **state UNUSED)
{
	if (nsfd >= 0)
		close(nsfd);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return 0;
}

static long long rmem_max(json_t *o)
{
	return json_integer_value(json_object_get(json_object_get(json_object_get(o, "net_sysctl"), "tcp_rmem"), "max"));
}

static void test_read_inside(void **state UNUSED)
{
	json_t *here = json_object(), *there = json_object();
	struct if_nameindex *ifs = if_nameindex();
	const char *host_dev = NULL;

	if (nsfd < 0) {
		print_message("# skip: not root (a network namespace needs CAP_SYS_ADMIN)\n");
		skip();
	}
	netns_link_facts(here, -1, "lo");
	netns_link_facts(there, nsfd, "lo");
	/* The caller's own value, then the namespace's. */
	assert_true(rmem_max(here) > 0);
	assert_true(rmem_max(here) != CHILD_RMEM_MAX);
	assert_int_equal(rmem_max(there), CHILD_RMEM_MAX);
	/* Its lo has a receive queue of its own, with RPS off as a new namespace's is; lo has no IRQs. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(there, "steering"), "rps"),
							      "rx-0")), "none");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(there, "steering"), "irqs_note")),
			       "virtual"));
	/* A device of the caller's namespace is not in the link's sysfs. */
	for (struct if_nameindex *i = ifs; i && i->if_name; i++)
		if (strcmp(i->if_name, "lo")) {
			host_dev = i->if_name;
			break;
		}
	if (host_dev) {
		json_t *o = json_object();

		netns_link_facts(o, nsfd, host_dev);
		assert_true(json_is_null(json_object_get(json_object_get(o, "steering"), "rps")));
		json_decref(o);
	}
	if (ifs)
		if_freenameindex(ifs);
	json_decref(here);
	json_decref(there);
}

/* A descriptor that is no namespace: null facts, each with the reason. */
static void test_not_a_namespace(void **state UNUSED)
{
	json_t *o = json_object();
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	netns_link_facts(o, fd, "lo");
	assert_true(json_is_null(json_object_get(o, "steering")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "steering_note")), "setns"));
	assert_true(json_is_null(json_object_get(o, "net_sysctl")));
	close(fd);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_inside, make_namespace, end_namespace),
		cmocka_unit_test(test_not_a_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
