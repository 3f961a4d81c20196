/* SPDX-License-Identifier: MIT */
/* A namespace with a veth pair for an AF_XDP port (xsk_link.h). */
#include "xsk_link.h"

#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int xsk_link_socket(const struct xsk_link *l, int type)
{
	int saved, fd, r;

	if ((r = netns_enter(l->nsfd, &saved)))
		return r;
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	if (netns_leave(saved) && fd >= 0) {
		close(fd);
		return -EIO;
	}
	return r;
}

static int kern_mac(struct xsk_link *l)
{
	struct ifreq ifr;
	int fd = xsk_link_socket(l, SOCK_DGRAM), r;

	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", XSK_LINK_KERN_IF);
	r = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(fd);
	if (!r)
		memcpy(l->kern_mac, ifr.ifr_hwaddr.sa_data, 6);
	return r;
}

int xsk_link_offloads_off(int nsfd, const char *ifname, char *err, size_t errlen)
{
	struct ethtool_value v = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr;
	int fd, r, saved = -1;

	if (nsfd >= 0 && (r = netns_enter(nsfd, &saved))) {
		snprintf(err, errlen, "entering the link's namespace: %s", strerror(-r));
		return r;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : 0;
	if (saved >= 0 && netns_leave(saved) && !r)
		r = -EIO;
	if (r) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "a socket for the ethtool ioctl on %s: %s", ifname, strerror(-r));
		return r;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&v;
	r = ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
	close(fd);
	if (r) {
		snprintf(err, errlen, "ethtool ioctl: TX checksum offload off on %s: %s", ifname, strerror(-r));
		return r;
	}
	return netns_set_offloads(nsfd, ifname, false, err, errlen);
}

/*
 * XPS on the kernel's end: every CPU sends through tx queue q, none through
 * the others, so every frame (ARP included, which has no socket to hash)
 * reaches the port's rx queue q.  sysfs of a namespace's device is only
 * seen from inside it: `ip netns exec` mounts it there.
 */
static int kern_steer(struct xsk_link *l, unsigned int q, unsigned int nq, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char all[256] = "", script[1024];
	size_t n = 0;

	if (ncpu < 1 || ncpu > 1024)
		ncpu = 1;
	/* A cpumask in 32-bit groups, most significant first: "ffffffff,ffffffff". */
	for (long g = (ncpu + 31) / 32 - 1; g >= 0 && n < sizeof(all); g--) {
		long bits = ncpu - g * 32 > 32 ? 32 : ncpu - g * 32;
		uint32_t m = bits == 32 ? 0xffffffffu : (1u << bits) - 1;

		n += snprintf(all + n, sizeof(all) - n, "%s%x", n ? "," : "", m);
	}
	n = 0;
	for (unsigned int i = 0; i < nq && n < sizeof(script); i++)
		n += snprintf(script + n, sizeof(script) - n, "echo %s > /sys/class/net/%s/queues/tx-%u/xps_cpus; ",
			      i == q ? all : "0", XSK_LINK_KERN_IF, i);
	return netns_cmd(NULL, 0, err, errlen, "ip", "netns", "exec", l->netns, "sh", "-ec", script, NULL) ? -EIO : 0;
}

int xsk_link_create(struct xsk_link *l, const struct xsk_link_config *c, char *err, size_t errlen)
{
	char q[16], kq[16], mtu[16], addr[32];
	unsigned int queues = c->queues ? c->queues : 1, kqueues = c->kern_queues ? c->kern_queues : queues, subnet;
	uint32_t id = netns_unique_id();
	int r = -EIO;

	memset(l, 0, sizeof(*l));
	l->nsfd = -1;
	l->owner = getpid();
	subnet = id & 0xff;
	snprintf(l->netns, sizeof(l->netns), NETNS_PREFIX "%d-%06x-x", (int)getpid(), id);
	snprintf(l->kern_addr, sizeof(l->kern_addr), "10.214.%u.1", subnet);
	snprintf(l->port_addr, sizeof(l->port_addr), "10.214.%u.2", subnet);
	inet_pton(AF_INET, l->kern_addr, &l->kern_ip);
	inet_pton(AF_INET, l->port_addr, &l->port_ip);
	snprintf(q, sizeof(q), "%u", queues);
	snprintf(kq, sizeof(kq), "%u", kqueues);
	l->mtu = c->mtu ? c->mtu : 1500;
	snprintf(mtu, sizeof(mtu), "%u", c->mtu ? c->mtu : 1500);
	snprintf(addr, sizeof(addr), "%s/24", l->kern_addr);
	if (netns_cmd(NULL, 0, err, errlen, "ip", "netns", "add", l->netns, NULL))
		return -EIO;
	l->made = true;
	if ((l->nsfd = netns_open(l->netns)) < 0) {
		r = l->nsfd;
		snprintf(err, errlen, "open %s/%s: %s", NETNS_DIR, l->netns, strerror(-r));
		goto fail;
	}
	flock(l->nsfd, LOCK_SH);
	/* Native XDP on veth wants the port end's rx queues >= the peer's tx queues. */
	if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", l->netns, "link", "add", XSK_LINK_PORT_IF,
		      "numtxqueues", q, "numrxqueues", q, "type", "veth", "peer", "name", XSK_LINK_KERN_IF,
		      "numtxqueues", kq, "numrxqueues", kq, NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", l->netns, "link", "set", "lo", "up", NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", l->netns, "link", "set", XSK_LINK_PORT_IF, "mtu", mtu, "up", NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", l->netns, "link", "set", XSK_LINK_KERN_IF, "mtu", mtu, NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", l->netns, "addr", "add", addr, "dev", XSK_LINK_KERN_IF, NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", l->netns, "link", "set", XSK_LINK_KERN_IF, "up", NULL))
		goto fail;
	if (!c->kern_offloads && (r = xsk_link_offloads_off(l->nsfd, XSK_LINK_KERN_IF, err, errlen)))
		goto fail;
	if (kqueues > 1 && (r = kern_steer(l, c->steer_queue, kqueues, err, errlen)))
		goto fail;
	if ((r = kern_mac(l))) {
		snprintf(err, errlen, "SIOCGIFHWADDR on %s: %s", XSK_LINK_KERN_IF, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	xsk_link_destroy(l);
	return r;
}

void xsk_link_destroy(struct xsk_link *l)
{
	char err[320];

	if (l->owner != getpid())
		return;
	if (l->nsfd >= 0)
		close(l->nsfd);
	l->nsfd = -1;
	if (l->made && netns_cmd(NULL, 0, err, sizeof(err), "ip", "netns", "del", l->netns, NULL))
		fprintf(stderr, "copylab: xdp link teardown: %s (`copylab cleanup` removes it)\n", err);
	l->made = false;
}

long xsk_link_xdp_prog(const struct xsk_link *l, const char *ifname, char *mode, size_t mlen)
{
	char out[4096], err[320], *p;
	long id = 0;

	if (mode && mlen)
		mode[0] = '\0';
	if (netns_cmd(out, sizeof(out), err, sizeof(err), "ip", "-n", l->netns, "-o", "link", "show", "dev", ifname, NULL))
		return -ENODEV;
	/* "... mtu 1500 xdpgeneric qdisc ... prog/xdp id 1554 name xsk_def_prog ..." */
	if ((p = strstr(out, "prog/xdp id ")))
		id = strtol(p + strlen("prog/xdp id "), NULL, 10);
	if (mode && mlen)
		snprintf(mode, mlen, "%s", strstr(out, " xdpgeneric ") ? "generic" : strstr(out, " xdpoffload ") ? "offload"
			 : strstr(out, " xdp ") ? "native" : "");
	return id;
}
