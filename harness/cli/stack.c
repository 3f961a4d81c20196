// SPDX-License-Identifier: MIT
/*
 * `copylab stackd --netns NAME`: the user-space TCP stack (lwIP) over a TAP
 * in a namespace of its own; and `copylab stack -- COMMAND ARGS...`: runs
 * any dynamically linked program with libcopylab-stack.so preloaded, so its
 * IPv4 TCP sockets go through stackd.  docs/strategies/userstack.md.
 */
#include "cli.h"
#include "harness/model/options.h"
#include "harness/net/netns.h"
#include "harness/net/xsk_port.h"
#include "userstack/proto.h"
#include "userstack/stackd.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SHIM_NAME "libcopylab-stack.so"

bool stackd_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 24)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-' || name[i] == '_'))
			return false;
	return true;
}

#ifndef HAVE_LWIP
int stackd_run(const struct stackd_config *cfg)
{
	fprintf(stderr, "copylab: stackd: this copylab was built without lwIP (Debian liblwip-dev): "
			"run scripts/deps.sh, then make\n");
	return EXIT_RUN_FAILED;
}
#endif

static const char stackd_help[] =
"usage: copylab stackd --netns NAME [--netif tap|xdp[:MODE]] [--socket PATH] [--group GROUP]\n"
"                      [--quiet]\n"
"\n"
"Runs lwIP (Debian's liblwip) as a user-space TCP/IP stack.  It creates the\n"
"network namespace copylab-<pid>-NAME with a TAP device " US_TAP_NAME " in it:\n"
"the kernel's side is " US_KERNEL_ADDR "/24, lwIP is " US_STACK_ADDR ".  Programs run under\n"
"`copylab stack` reach lwIP over the control socket\n"
US_SOCKET_DIR "/copylab-<pid>-NAME.sock; a kernel-stack peer runs inside the\n"
"namespace (ip netns exec copylab-<pid>-NAME ...).  Runs until SIGINT,\n"
"SIGTERM or SIGHUP, then removes the namespace, the TAP and the socket.\n"
"Needs root (a namespace, and /dev/net/tun or AF_XDP).\n"
"\n"
"  --netns NAME   1 to 24 of a-z 0-9 - _ (the namespace is copylab-<pid>-NAME)\n"
"  --netif KIND   where frames go: tap (default), or xdp: an AF_XDP socket on\n"
"                 a veth pair instead of the TAP (" US_TAP_NAME " is then the veth's\n"
"                 kernel end); xdp:native, xdp:generic, xdp:copy, xdp:zerocopy\n"
"                 or one of each (xdp:generic:copy) force a mode (a refused one\n"
"                 fails with the kernel's errno); the ready line is followed by\n"
"                 \"stackd xdp: {...}\": the mode used and every refusal\n"
"  --socket PATH  the control socket (default above)\n"
"  --group GROUP  members of GROUP (a name or number) may use this stack too;\n"
"                 without it only the user who started stackd may (the socket\n"
"                 is mode 0600, or 0660 with GROUP; the peer's credentials are\n"
"                 checked as well: docs/threat-model-stackd.md)\n"
"  --quiet        no ready line on stdout\n"
"\n"
"Exit status: 0 stopped by a signal, 1 it could not start or failed, 2 bad usage.\n";

/* "xdp", or "xdp:" and a mode xsk_mode_parse takes ("xdp:generic:copy"). */
static bool netif_spec_ok(const char *s)
{
	struct xsk_port_request req;

	if (strncmp(s, "xdp", 3))
		return false;
	if (!s[3])
		return true;
	return s[3] == ':' && !xsk_mode_parse(s + 4, &req);
}

/* --group's GROUP: a name in the group database, or a number. */
static bool group_parse(const char *s, gid_t *gid)
{
	struct group *g = getgrnam(s);
	char *end;
	unsigned long n;

	if (g) {
		*gid = g->gr_gid;
		return true;
	}
	errno = 0;
	n = strtoul(s, &end, 10);
	if (!*s || *end || errno || n >= (gid_t)-1 || s[0] == '-')
		return false;
	*gid = (gid_t)n;
	return true;
}

int cmd_stackd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "netif", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct stackd_config cfg = { .netif = "tap" };
	const char *group = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n': cfg.name = optarg; break;
		case 'i': cfg.netif = optarg; break;
		case 's': cfg.socket = optarg; break;
		case 'g': group = optarg; break;
		case 'q': cfg.quiet = true; break;
		case 'h': fputs(stackd_help, stdout); return 0;
		default: fputs(stackd_help, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("stackd: unexpected argument '%s' (see copylab stackd --help)", argv[optind]);
	if (!cfg.name)
		return usage_error("stackd: --netns NAME is required (see copylab stackd --help)");
	if (!stackd_name_ok(cfg.name))
		return usage_error("stackd: --netns %s: a NAME is 1 to 24 of a-z 0-9 - _", cfg.name);
	if (strcmp(cfg.netif, "tap") && !netif_spec_ok(cfg.netif))
		return usage_error("stackd: --netif %s: unknown; valid: tap, xdp[:native|generic][:zerocopy|copy]",
				   cfg.netif);
	if (group && !(cfg.group_set = group_parse(group, &cfg.group)))
		return usage_error("stackd: --group %s: no such group (a group name from /etc/group, or a number)",
				   group);
	if (geteuid() != 0) {
		fprintf(stderr, "copylab: stackd needs root: it creates a network namespace and a TAP device\n");
		return EXIT_RUN_FAILED;
	}
	return stackd_run(&cfg);
}

static const char stack_help[] =
"usage: copylab stack [--netns NAME | --socket PATH] [--path ipc|shm] [--no-isolate]\n"
"                     [--wait SEC] -- COMMAND [ARGS...]\n"
"\n"
"Runs COMMAND with " SHIM_NAME " preloaded: its IPv4 TCP sockets go through a\n"
"running `copylab stackd` (lwIP), everything else to libc untouched.  The\n"
"peers it can reach are in stackd's namespace (" US_KERNEL_ADDR ").\n"
"\n"
"  --netns NAME   the stackd started with --netns NAME (default: the only one running)\n"
"  --socket PATH  stackd's control socket, instead of --netns\n"
"  --path P       how bytes travel between the program and stackd: ipc (inside\n"
"                 the Unix socket, the default) or shm (a shared ring per socket;\n"
"                 needs poll/select, not epoll, for readiness)\n"
"  --no-isolate   keep COMMAND in this network namespace; by default (as root) it\n"
"                 gets an empty one, so a call the shim does not take reaches no network\n""  --wait SEC     wait up to SEC seconds (default 5) for a stackd that is still\n"
"                 starting (`copylab stackd ... &` just before)\n"
"\n"
"The shim is looked for in $COPYLAB_STACK_SHIM, else next to the copylab\n"
"executable.  Exit status: COMMAND's, or 1 when it could not be run, 2 bad usage.\n";

/* The live stackd's socket for NAME (or the only live one when NAME is NULL). */
static int find_socket(const char *name, char *path, size_t len)
{
	DIR *d = opendir(US_SOCKET_DIR);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		const char *rest;

		if (strncmp(e->d_name, NETNS_PREFIX, strlen(NETNS_PREFIX)) || n < 5 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		if (!netns_owner_alive(e->d_name))
			continue;
		rest = strchr(e->d_name + strlen(NETNS_PREFIX), '-');
		if (!rest)
			continue;
		if (name && (strlen(rest + 1) != strlen(name) + 5 || strncmp(rest + 1, name, strlen(name))))
			continue;
		snprintf(path, len, US_SOCKET_DIR "/%s", e->d_name);
		found++;
	}
	closedir(d);
	return found;
}

/* Whether a stackd listens on path; a refusal other than "not yet" is the caller's to say. */
static bool socket_listening(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return true;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0 || (errno != ECONNREFUSED && errno != ENOENT);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * stackd's socket (sock, or found for NAME), waiting up to wait_s for a
 * stackd that is starting: `stackd &` then `stack` at once looked before
 * the socket existed (issue 22), and a socket is there from bind but
 * answers only after listen.  0, or EXIT_RUN_FAILED after saying why.
 */
static int await_stackd(const char *name, const char *sock, double wait_s, char *found, size_t len)
{
	const struct timespec nap = { 0, 50 * 1000 * 1000 };
	struct timespec t0;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = sock ? access(sock, F_OK) == 0 : find_socket(name, found, len);
		if (n > 1) {
			fprintf(stderr, "copylab: stack: %d stackd are running: say which with --netns NAME\n", n);
			return EXIT_RUN_FAILED;
		}
		if (n == 1 && socket_listening(sock ? sock : found))
			return 0;
		if (seconds_since(&t0) >= wait_s)
			break;
		nanosleep(&nap, NULL);
	}
	if (n == 0 && sock)
		fprintf(stderr, "copylab: stack: --socket %s: no such socket (waited %g s for it)\n", sock, wait_s);
	else if (n == 0)
		fprintf(stderr, "copylab: stack: no running stackd%s%s (waited %g s; start one: copylab stackd --netns NAME)\n",
			name ? " for --netns " : "", name ? name : "", wait_s);
	else
		fprintf(stderr, "copylab: stack: %s accepts no connection (waited %g s): a stackd still starting "
				"needs a longer --wait\n", sock ? sock : found, wait_s);
	return EXIT_RUN_FAILED;
}

static int shim_find(char *path, size_t len)
{
	const char *env = getenv("COPYLAB_STACK_SHIM");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (!realpath(env, path) || access(path, R_OK)) {
			fprintf(stderr, "copylab: stack: COPYLAB_STACK_SHIM=%s: %s\n", env, strerror(errno));
			return -1;
		}
		return 0;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		return -1;
	exe[n] = '\0';
	snprintf(path, len, "%s/%s", dirname(exe), SHIM_NAME);
	if (access(path, R_OK)) {
		fprintf(stderr, "copylab: stack: %s not found: `make` builds it, or set COPYLAB_STACK_SHIM\n", path);
		return -1;
	}
	return 0;
}

int cmd_stack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "path", required_argument, NULL, 'p' },
		{ "no-isolate", no_argument, NULL, 'I' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *name = NULL, *sock = NULL, *dpath = "ipc";
	bool isolate = true;
	char found[PATH_MAX], shim[PATH_MAX], preload[2 * PATH_MAX], err[160];
	double wait_s = 5;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 's': sock = optarg; break;
		case 'p': dpath = optarg; break;
		case 'I': isolate = false; break;
		case 'w':
			if (parse_seconds("--wait", optarg, &wait_s, err, sizeof(err)))
				return usage_error("stack: %s", err);
			break;
		case 'h': fputs(stack_help, stdout); return 0;
		default: fputs(stack_help, stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("stack: no COMMAND (copylab stack [OPTIONS] -- COMMAND ARGS...)");
	if (strcmp(dpath, "ipc") && strcmp(dpath, "shm"))
		return usage_error("stack: --path %s: valid: ipc, shm", dpath);
	if (name && sock)
		return usage_error("stack: --netns and --socket name the same thing; give one");
	if (name && !stackd_name_ok(name))
		return usage_error("stack: --netns %s: a NAME is 1 to 24 of a-z 0-9 - _", name);
	if (await_stackd(name, sock, wait_s, found, sizeof(found)))
		return EXIT_RUN_FAILED;
	if (!sock)
		sock = found;
	if (access(sock, W_OK)) {
		if (errno == EACCES)
			fprintf(stderr, "copylab: stack: %s: %s: only the user who started that stackd, and the group "
					"its --group names, may use it\n", sock, strerror(errno));
		else
			fprintf(stderr, "copylab: stack: %s: %s\n", sock, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	if (shim_find(shim, sizeof(shim)) < 0)
		return EXIT_RUN_FAILED;
	const char *old = getenv("LD_PRELOAD");

	snprintf(preload, sizeof(preload), "%s%s%s", shim, old && *old ? " " : "", old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	setenv(US_ENV_SOCKET, sock, 1);
	setenv(US_ENV_PATH, dpath, 1);
	if (isolate && geteuid() == 0 && unshare(CLONE_NEWNET)) {
		fprintf(stderr, "copylab: stack: unshare(CLONE_NEWNET): %s (--no-isolate runs without)\n",
			strerror(errno));
		return EXIT_RUN_FAILED;
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "copylab: stack: %s: %s\n", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : EXIT_RUN_FAILED;
}
