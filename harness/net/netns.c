/* SPDX-License-Identifier: MIT */
/*
 * Namespace plumbing for the veth transport, nic facts and cleanup: the
 * iproute2 tools run as child processes with their messages kept, setns
 * in and out, and the ethtool ioctl.
 */
#include "netns.h"
#include "harness/model/base.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- running ip, tc, nft ------------------------------------------------- */

static void join_argv(char *const argv[], char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
}

/* The first line of s, without its newline, as the error's detail. */
static void first_line(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* In the forked child: the tool by its absolute path (system_tool), never the caller's PATH. */
static void exec_tool(const char *path, char *const argv[])
{
	if (path)
		execv(path, argv);
	_exit(127);
}

int netns_exec(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	char cmd[256], ebuf[1024] = "", obuf[8192] = "";
	size_t elen = 0, olen = 0;
	int po[2], pe[2], status = 0;
	pid_t pid;
	const char *path = system_tool(argv[0]);	/* found in the parent, once */

	join_argv(argv, cmd, sizeof(cmd));
	if (pipe2(po, O_CLOEXEC))
		goto sys;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		goto sys;
	}
	pid = fork();
	if (pid < 0) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		goto sys;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		/*
		 * A ^C reaches the whole process group: an `ip netns add` killed
		 * after it made the namespace but before copylab knew would leave
		 * it behind.  These tools finish in moments; copylab sees the
		 * signal itself and cleans up after them.
		 */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		exec_tool(path, argv);
	}
	close(po[1]);
	close(pe[1]);
	struct pollfd p[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
	int open_ends = 2;

	while (open_ends > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char tmp[4096];
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, tmp, sizeof(tmp));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_ends--;
				continue;
			}
			char *dst = i ? ebuf : obuf;
			size_t *dl = i ? &elen : &olen, cap = i ? sizeof(ebuf) : sizeof(obuf);
			size_t take = (size_t)n < cap - 1 - *dl ? (size_t)n : cap - 1 - *dl;

			memcpy(dst + *dl, tmp, take);
			*dl += take;
			dst[*dl] = '\0';
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out && outlen)
		snprintf(out, outlen, "%s", obuf);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (err && errlen) {
		char detail[256];

		if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !ebuf[0])
			snprintf(detail, sizeof(detail), "%s is not installed (package iproute2%s)", argv[0],
				 strcmp(argv[0], "nft") ? "" : " / nftables");
		else if (ebuf[0] || obuf[0])
			first_line(ebuf[0] ? ebuf : obuf, detail, sizeof(detail));
		else if (WIFSIGNALED(status))
			snprintf(detail, sizeof(detail), "killed by signal %d", WTERMSIG(status));
		else
			snprintf(detail, sizeof(detail), "exit status %d", WEXITSTATUS(status));
		snprintf(err, errlen, "`%s` failed: %s", cmd, detail);
	}
	return -1;
sys:
	if (err && errlen)
		snprintf(err, errlen, "cannot run `%s`: %s", cmd, strerror(errno));
	return -1;
}

int netns_cmd(char *out, size_t outlen, char *err, size_t errlen, const char *arg0, ...)
{
	char *argv[40];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < 39 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return netns_exec(argv, out, outlen, err, errlen);
}

/* ---- entering and leaving ------------------------------------------------- */

uint32_t netns_unique_id(void)
{
	struct timespec ts;
	uint32_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^ (uint32_t)getpid() * 40503u;
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return x & 0xffffff;
}

int netns_open(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int netns_enter(int nsfd, int *saved)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (self < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET)) {
		int e = errno;

		close(self);
		return -e;
	}
	*saved = self;
	return 0;
}

int netns_leave(int saved)
{
	int r = setns(saved, CLONE_NEWNET) ? -errno : 0;

	close(saved);
	return r;
}

pid_t netns_owner_pid(const char *name)
{
	const char *p = name + strlen(NETNS_PREFIX);
	char *end;
	long pid;

	if (strncmp(name, NETNS_PREFIX, strlen(NETNS_PREFIX)))
		return 0;
	/* "copylab-test-<pid>-..." (a test's own namespace) names its shell. */
	if (!strncmp(p, "test-", 5))
		p += 5;
	pid = strtol(p, &end, 10);
	if (end == p || (*end != '-' && *end != '\0') || pid <= 1)
		return 0;
	return (pid_t)pid;
}

bool netns_owner_alive(const char *name)
{
	pid_t pid = netns_owner_pid(name);
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	if (pid <= 0 || (kill(pid, 0) && errno != EPERM))
		return false;
	/* A killed run whose parent has not reaped it yet is a zombie: dead. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

bool netns_locked(const char *name)
{
	int fd = netns_open(name);
	bool held;

	if (fd < 0)
		return false;
	held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);	/* drops the lock if we took it */
	return held;
}

/* ---- ethtool -------------------------------------------------------------- */

static int ethtool_ioctl(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* A datagram socket in the namespace of nsfd (-1: here), for the ioctls. */
static int socket_in(int nsfd)
{
	int saved, fd, r;

	if (nsfd < 0)
		return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if ((r = netns_enter(nsfd, &saved)))
		return r;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	if (netns_leave(saved) && fd >= 0) {
		close(fd);
		return -EIO;
	}
	return r;
}

json_t *netns_features(int nsfd, const char *ifname)
{
	static const struct { const char *name; __u32 cmd; } legacy[] = {
		{ "tso", ETHTOOL_GTSO }, { "gso", ETHTOOL_GGSO }, { "gro", ETHTOOL_GGRO },
		{ "sg", ETHTOOL_GSG }, { "tx_csum", ETHTOOL_GTXCSUM }, { "rx_csum", ETHTOOL_GRXCSUM },
	};
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_gfeatures *feat = NULL;
	json_t *j = NULL, *all;
	int fd = socket_in(nsfd);
	__u32 n;

	if (fd < 0)
		return NULL;
	j = json_object();
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		struct ethtool_value v = { .cmd = legacy[i].cmd };

		if (ethtool_ioctl(fd, ifname, &v) == 0)
			json_object_set_new(j, legacy[i].name, json_boolean(v.data));
	}
	/* The full list, by the kernel's names, as `ethtool -k` prints them indented. */
	info = calloc(1, sizeof(*info) + sizeof(__u32));
	if (!info)
		goto out;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ull << ETH_SS_FEATURES;
	if (ethtool_ioctl(fd, ifname, info) || !(info->sset_mask & (1ull << ETH_SS_FEATURES)))
		goto out;
	n = info->data[0];
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	feat = calloc(1, sizeof(*feat) + (size_t)(n + 31) / 32 * sizeof(feat->features[0]));
	if (!names || !feat)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = n;
	feat->cmd = ETHTOOL_GFEATURES;
	feat->size = (n + 31) / 32;
	if (ethtool_ioctl(fd, ifname, names) || ethtool_ioctl(fd, ifname, feat))
		goto out;
	all = json_object();
	for (__u32 i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (!name[0])
			continue;
		json_object_set_new(all, name, json_boolean(feat->features[i / 32].active & (1u << (i % 32))));
	}
	json_object_set_new(j, "features", all);
out:
	free(info);
	free(names);
	free(feat);
	close(fd);
	return j;
}

int netns_set_offloads(int nsfd, const char *ifname, bool on, char *err, size_t errlen)
{
	static const struct { const char *name; __u32 cmd; } set[] = {
		{ "TSO", ETHTOOL_STSO }, { "GSO", ETHTOOL_SGSO }, { "GRO", ETHTOOL_SGRO },
	};
	int fd = socket_in(nsfd), r = 0;

	if (fd < 0) {
		snprintf(err, errlen, "socket for the ethtool ioctl on %s: %s", ifname, strerror(-fd));
		return fd;
	}
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]) && !r; i++) {
		struct ethtool_value v = { .cmd = set[i].cmd, .data = on };

		if ((r = ethtool_ioctl(fd, ifname, &v)))
			snprintf(err, errlen, "ethtool ioctl: setting %s %s on %s: %s", set[i].name,
				 on ? "on" : "off", ifname, strerror(-r));
	}
	close(fd);
	return r;
}

int netns_driver(const char *ifname, char *driver, size_t dlen, char *version, size_t vlen,
		 char *bus, size_t blen)
{
	struct ethtool_drvinfo d = { .cmd = ETHTOOL_GDRVINFO };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	r = ethtool_ioctl(fd, ifname, &d);
	close(fd);
	if (r)
		return r;
	snprintf(driver, dlen, "%.*s", (int)sizeof(d.driver), d.driver);
	snprintf(version, vlen, "%.*s", (int)sizeof(d.version), d.version);
	snprintf(bus, blen, "%.*s", (int)sizeof(d.bus_info), d.bus_info);
	return 0;
}
