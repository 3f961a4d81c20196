/* SPDX-License-Identifier: MIT */
/*
 * Loopback TCP and AF_UNIX stream pairs, and the veth link: two network
 * namespaces joined by a veth pair, made once per invocation with iproute2,
 * in which the parent opens each pair (setns in, socket, setns back).
 */
#include "transport.h"
#include "harness/measure/env.h"
#include "harness/model/base.h"
#include "netns.h"
#include "userstack_link.h"
#include "userstack/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const names[TR_COUNT] = {
	[TR_TCP] = "tcp", [TR_UNIX] = "unix", [TR_VETH] = "veth", [TR_NIC] = "nic", [TR_ROUTED] = "routed",
	[TR_LONS] = "lo-ns",
	[TR_USERSTACK] = "userstack",
};

const char *transport_name(enum transport t)
{
	return t < TR_COUNT ? names[t] : "?";
}

int transport_find(const char *name)
{
	for (int i = 0; i < TR_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *transport_names(char *buf, size_t len)
{
	snprintf(buf, len, "tcp, unix, veth, nic, routed, lo-ns, userstack");
	return buf;
}

static int fail(char *err, size_t errlen, const char *call, int fd1, int fd2)
{
	int e = errno;

	snprintf(err, errlen, "%s: %s", call, strerror(e));
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	return -e;
}

/* Buffer sizes go on before connect so TCP's window scale is chosen for them. */
static int apply_bufs(int fd, const struct sockopts *o, char *err, size_t errlen)
{
	if (o->sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf)))
		return fail(err, errlen, "setsockopt(SO_SNDBUF)", -1, -1);
	if (o->rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf)))
		return fail(err, errlen, "setsockopt(SO_RCVBUF)", -1, -1);
	return 0;
}

/* A stream socket made in the namespace of nsfd (-1: the caller's). */
static int stream_socket_in(int nsfd, char *err, size_t errlen, const char *where)
{
	int saved, fd, r;

	if (nsfd < 0) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		return fd < 0 ? fail(err, errlen, "socket", -1, -1) : fd;
	}
	if ((r = netns_enter(nsfd, &saved))) {
		snprintf(err, errlen, "setns into namespace %s: %s", where, strerror(-r));
		return r;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	if ((saved = netns_leave(saved))) {
		/* Staying in the wrong namespace would misplace every later socket. */
		snprintf(err, errlen, "setns back from namespace %s: %s", where, strerror(-saved));
		if (fd >= 0)
			close(fd);
		return saved;
	}
	if (r < 0)
		snprintf(err, errlen, "socket in namespace %s: %s", where, strerror(-r));
	return r;
}

/*
 * A TCP pair: the listener (whose accepted end is *down) bound to
 * listen_addr in namespace ns_down, the connecting end (*up) made in
 * ns_up.  Both -1 for loopback in the caller's namespace.
 */
struct via {
	in_addr_t front;	/* where the up end connects instead of the listener's address */
	int (*configure)(void *arg, struct kernel_path *k);
	void *arg;
	struct kernel_path *k;
};

static int inet_pair_via(const struct sockopts *o, in_addr_t listen_addr, int ns_up, int ns_down,
			 const char *names_updown[2], const struct via *via, int *up, int *down,
			 char *err, size_t errlen);

static int inet_pair(const struct sockopts *o, in_addr_t listen_addr, int ns_up, int ns_down,
		     const char *names_updown[2], int *up, int *down, char *err, size_t errlen)
{
	return inet_pair_via(o, listen_addr, ns_up, ns_down, names_updown, NULL, up, down, err, errlen);
}

/*
 * With via: the listener's address and port go to via->configure (which
 * makes the kernel carry via->front:port there), and the up end connects
 * to via->front.
 */
static int inet_pair_via(const struct sockopts *o, in_addr_t listen_addr, int ns_up, int ns_down,
			 const char *names_updown[2], const struct via *via, int *up, int *down,
			 char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = listen_addr };
	socklen_t alen = sizeof(a);
	char where[64], ip[INET_ADDRSTRLEN];
	int one = 1, lfd, cfd = -1, afd, r;

	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	lfd = stream_socket_in(ns_down, err, errlen, names_updown[1]);
	if (lfd < 0)
		return lfd;
	if ((r = apply_bufs(lfd, o, err, errlen)))
		goto out;
	snprintf(where, sizeof(where), "bind/listen on %s", ip);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen))
		return fail(err, errlen, where, lfd, -1);
	cfd = stream_socket_in(ns_up, err, errlen, names_updown[0]);
	if (cfd < 0) {
		close(lfd);
		return cfd;
	}
	if ((r = apply_bufs(cfd, o, err, errlen)))
		goto out;
	if (via) {
		via->k->front_addr = via->front;
		via->k->front_port = a.sin_port;
		via->k->back_addr = a.sin_addr.s_addr;
		via->k->back_port = a.sin_port;
		if ((r = via->configure(via->arg, via->k))) {
			snprintf(err, errlen, "%s", via->k->err);
			goto out;
		}
		a.sin_addr.s_addr = via->front;
		inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	}
	snprintf(where, sizeof(where), "connect to %s", ip);
	if (connect(cfd, (struct sockaddr *)&a, sizeof(a)))
		return fail(err, errlen, where, lfd, cfd);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		return fail(err, errlen, "accept4", lfd, cfd);
	close(lfd);
	if (o->nodelay) {
		setsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	*up = cfd;
	*down = afd;
	return 0;
out:
	close(lfd);
	if (cfd >= 0)
		close(cfd);
	return r;
}

static int tcp_pair(const struct sockopts *o, int *up, int *down, char *err, size_t errlen)
{
	const char *here[2] = { "(own)", "(own)" };

	return inet_pair(o, htonl(INADDR_LOOPBACK), -1, -1, here, up, down, err, errlen);
}

static int unix_pair(const struct sockopts *o, int *up, int *down, char *err, size_t errlen)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return fail(err, errlen, "socketpair(AF_UNIX)", -1, -1);
	if ((r = apply_bufs(sv[0], o, err, errlen)) || (r = apply_bufs(sv[1], o, err, errlen))) {
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	*up = sv[0];
	*down = sv[1];
	return 0;
}

/* ---- the veth link --------------------------------------------------------- */

/*
 * Namespaces by index: A (up), B (down), and for routed R between them.
 * Interfaces by index: A's and B's ends, then R's end toward A and R's
 * end toward B.  veth pairs: (0, 1) for veth; (0, 2) and (3, 1) routed.
 */
enum { NS_A, NS_B, NS_R, NS_MAX };
enum { IF_A, IF_B, IF_RA, IF_RB, IF_MAX };

struct link {
	bool active;
	pid_t owner;		/* forked children inherit the atexit handler: only the owner tears down */
	struct link_config cfg;
	int nns, nif;		/* 2 and 2, or 3 and 4 (routed) */
	char ns[NS_MAX][48];
	char ifname[IF_MAX][IFNAMSIZ];
	int nsfd[NS_MAX];
	unsigned subnet;	/* X of 10.213.X.0/24 (A's side; routed: B's side is X+1) */
	bool ns_made[NS_MAX];
	uint32_t id;
};

/*
 * One link of each kind per invocation (a bench uses veth and routed side
 * by side).  The functions below work on `lk`, the link chosen by the
 * entry point that called them (link_use).
 */
static struct link links[2] = { { .nsfd = { -1, -1, -1 } }, { .nsfd = { -1, -1, -1 } } };
static struct link *cur = &links[0];
#define lk (*cur)

static void link_use(bool routed)
{
	cur = &links[routed ? 1 : 0];
}

static const int if_ns[IF_MAX] = { NS_A, NS_B, NS_R, NS_R };

bool link_active(void)
{
	return links[0].active;
}

bool link_routed(void)
{
	return links[1].active;
}

const char *link_netns_name(int side)
{
	const struct link *l = &links[side == NS_R];

	return l->active && side >= 0 && side < l->nns ? l->ns[side] : NULL;
}

/*
 * veth: A 10.213.X.1, B 10.213.X.2.  routed: A .1 and R .2 on X; R .1
 * and B .2 on X+1.
 */
static void iface_address(int i, char *buf, size_t len, bool prefix)
{
	unsigned net = lk.subnet, host = 1;

	switch (i) {
	case IF_A: host = 1; break;
	case IF_B: host = 2; net += lk.cfg.routed; break;
	case IF_RA: host = 2; break;
	case IF_RB: host = 1; net += 1; break;
	}
	snprintf(buf, len, "10.213.%u.%u%s", net & 0xff, host, prefix ? "/24" : "");
}

static void link_destroy_one(void)
{
	char err[320];

	if (lk.owner != getpid())
		return;
	for (int i = 0; i < NS_MAX; i++) {
		if (lk.nsfd[i] >= 0)
			close(lk.nsfd[i]);
		lk.nsfd[i] = -1;
		/* The veth, its addresses, qdiscs and nft tables go with the namespace. */
		if (lk.ns_made[i] && netns_cmd(NULL, 0, err, sizeof(err), "ip", "netns", "del", lk.ns[i], NULL))
			fprintf(stderr, "copylab: veth teardown: %s (`copylab cleanup` removes it)\n", err);
		lk.ns_made[i] = false;
	}
	lk.active = false;
}

void link_destroy(void)
{
	struct link *was = cur;

	for (int k = 0; k < 2; k++) {
		cur = &links[k];
		link_destroy_one();
	}
	cur = was;
}

static void link_atexit(void)
{
	link_destroy();
}

/* tc's own words for a qdisc the kernel does not have. */
static bool qdisc_missing(const char *err)
{
	return strstr(err, "qdisc kind is unknown") || strstr(err, "Unknown qdisc") ||
	       strstr(err, "No such file or directory");
}

static int link_qdiscs(int ifi, char *err, size_t errlen)
{
	const char *ns = lk.ns[if_ns[ifi]], *dev = lk.ifname[ifi];
	char delay[32], rate[32], burst[32];
	bool netem = lk.cfg.delay_s > 0;

	if (netem) {
		snprintf(delay, sizeof(delay), "%.0fus", lk.cfg.delay_s * 1e6);
		if (netns_cmd(NULL, 0, err, errlen, "tc", "-n", ns, "qdisc", "add", "dev", dev, "root",
			      "handle", "1:", "netem", "delay", delay, "limit", "100000", NULL)) {
			if (qdisc_missing(err)) {
				snprintf(err, errlen, "--delay needs the netem qdisc (sch_netem), which is missing from this kernel (%s); --rate (tbf) works without it",
					 "tc: \"Specified qdisc kind is unknown\"");
				return -EOPNOTSUPP;
			}
			return -EIO;
		}
	}
	if (lk.cfg.rate_bps) {
		uint64_t bytes_per_s = lk.cfg.rate_bps / 8;
		/* 4 ms of tokens, but never less than a full GSO packet and a jumbo frame. */
		uint64_t b = bytes_per_s / 250;

		if (b < 65536 + 2 * lk.cfg.mtu)
			b = 65536 + 2 * lk.cfg.mtu;
		snprintf(rate, sizeof(rate), "%" PRIu64 "bit", lk.cfg.rate_bps);
		snprintf(burst, sizeof(burst), "%" PRIu64, b);
		if (netns_cmd(NULL, 0, err, errlen, "tc", "-n", ns, "qdisc", "add", "dev", dev,
			      netem ? "parent" : "root", netem ? "1:1" : "handle", netem ? "10:" : "1:",
			      "tbf", "rate", rate, "burst", burst, "latency", "50ms", NULL)) {
			if (qdisc_missing(err)) {
				snprintf(err, errlen, "--rate needs the tbf qdisc (sch_tbf), which is missing from this kernel");
				return -EOPNOTSUPP;
			}
			return -EIO;
		}
	}
	return 0;
}

/* One veth pair with each end already in its namespace: nothing lands in ours. */
static int link_veth(int i, int j, char *err, size_t errlen)
{
	return netns_cmd(NULL, 0, err, errlen, "ip", "link", "add", lk.ifname[i], "netns", lk.ns[if_ns[i]],
			 "type", "veth", "peer", "name", lk.ifname[j], "netns", lk.ns[if_ns[j]], NULL) ? -EIO : 0;
}

/* R forwards between its two links; A and B reach each other's subnet through it. */
static int link_routes(char *err, size_t errlen)
{
	char via[32], net[32];
	int fd, saved, r;

	iface_address(IF_RA, via, sizeof(via), false);
	snprintf(net, sizeof(net), "10.213.%u.0/24", (lk.subnet + 1) & 0xff);
	if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[NS_A], "route", "add", net, "via", via, NULL))
		return -EIO;
	iface_address(IF_RB, via, sizeof(via), false);
	snprintf(net, sizeof(net), "10.213.%u.0/24", lk.subnet & 0xff);
	if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[NS_B], "route", "add", net, "via", via, NULL))
		return -EIO;
	/* /proc/sys/net is the namespace of whoever opens it: open it from inside R. */
	if ((r = netns_enter(lk.nsfd[NS_R], &saved))) {
		snprintf(err, errlen, "setns into %s: %s", lk.ns[NS_R], strerror(-r));
		return r;
	}
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	r = fd < 0 || write(fd, "1", 1) != 1 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (netns_leave(saved) && !r)
		r = -EIO;
	if (r)
		snprintf(err, errlen, "net.ipv4.ip_forward=1 in %s: %s", lk.ns[NS_R], strerror(-r));
	return r;
}

int link_create(const struct link_config *cfg, char *err, size_t errlen)
{
	static const char ns_tag[NS_MAX] = { 'a', 'b', 'r' }, if_tag[IF_MAX] = { 'a', 'b', 'p', 'q' };
	char mtu[16], addr[32];
	uint32_t id;
	int r;

	link_use(cfg->routed);
	if (lk.active) {
		snprintf(err, errlen, "a %s link exists already (%s, %s)", cfg->routed ? "routed" : "veth",
			 lk.ns[0], lk.ns[1]);
		return -EEXIST;
	}
	memset(&lk, 0, sizeof(lk));
	for (int i = 0; i < NS_MAX; i++)
		lk.nsfd[i] = -1;
	lk.cfg = *cfg;
	if (!lk.cfg.mtu)
		lk.cfg.mtu = LINK_DEFAULT_MTU;
	if (lk.cfg.mtu < 68 || lk.cfg.mtu > 65535) {
		snprintf(err, errlen, "--mtu %u: a veth takes 68 to 65535", lk.cfg.mtu);
		return -EINVAL;
	}
	lk.owner = getpid();
	lk.nns = cfg->routed ? 3 : 2;
	lk.nif = cfg->routed ? 4 : 2;
	id = lk.id = netns_unique_id();
	lk.subnet = id & 0xff;
	for (int i = 0; i < lk.nns; i++)
		snprintf(lk.ns[i], sizeof(lk.ns[i]), NETNS_PREFIX "%d-%06x-%c", (int)getpid(), id, ns_tag[i]);
	for (int i = 0; i < lk.nif; i++)
		snprintf(lk.ifname[i], sizeof(lk.ifname[i]), NETNS_PREFIX "%06x%c", id, if_tag[i]);
	static bool registered;

	if (!registered && atexit(link_atexit) == 0)
		registered = true;
	for (int i = 0; i < lk.nns; i++) {
		if (netns_cmd(NULL, 0, err, errlen, "ip", "netns", "add", lk.ns[i], NULL)) {
			r = -EIO;
			goto fail;
		}
		lk.ns_made[i] = true;
		if ((lk.nsfd[i] = netns_open(lk.ns[i])) < 0) {
			r = lk.nsfd[i];
			snprintf(err, errlen, "open %s/%s: %s", NETNS_DIR, lk.ns[i], strerror(-r));
			goto fail;
		}
		/* In use while this lock is held: `copylab cleanup` leaves it alone. */
		flock(lk.nsfd[i], LOCK_SH);
		if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[i], "link", "set", "lo", "up", NULL)) {
			r = -EIO;
			goto fail;
		}
	}
	if (cfg->routed ? (r = link_veth(IF_A, IF_RA, err, errlen)) || (r = link_veth(IF_RB, IF_B, err, errlen))
			: (r = link_veth(IF_A, IF_B, err, errlen)))
		goto fail;
	snprintf(mtu, sizeof(mtu), "%u", lk.cfg.mtu);
	for (int i = 0; i < lk.nif; i++) {
		const char *ns = lk.ns[if_ns[i]];

		iface_address(i, addr, sizeof(addr), true);
		if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", ns, "link", "set", lk.ifname[i], "mtu", mtu, NULL) ||
		    netns_cmd(NULL, 0, err, errlen, "ip", "-n", ns, "addr", "add", addr, "dev", lk.ifname[i], NULL)) {
			r = -EIO;
			goto fail;
		}
		if (lk.cfg.offload >= 0 &&
		    (r = netns_set_offloads(lk.nsfd[if_ns[i]], lk.ifname[i], lk.cfg.offload, err, errlen)))
			goto fail;
		if ((r = link_qdiscs(i, err, errlen)))
			goto fail;
		if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", ns, "link", "set", lk.ifname[i], "up", NULL)) {
			r = -EIO;
			goto fail;
		}
	}
	if (cfg->routed && (r = link_routes(err, errlen)))
		goto fail;
	lk.active = true;
	return 0;
fail:
	link_destroy_one();
	return r;
}

int link_parse_rate(const char *s, uint64_t *bps, char *err, size_t errlen)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{ "gbit", 1e9 }, { "mbit", 1e6 }, { "kbit", 1e3 }, { "bit", 1 },
		{ "g", 1e9 }, { "m", 1e6 }, { "k", 1e3 }, { "", 1 },
	};
	char *end;
	double v = strtod(s, &end);

	for (size_t i = 0; end != s && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].suffix) && v * units[i].mult >= 8000 && v * units[i].mult <= 400e9) {
			*bps = (uint64_t)(v * units[i].mult);
			return 0;
		}
	snprintf(err, errlen, "--rate: '%s' is not a rate from 8kbit to 400gbit (e.g. 100mbit, 1gbit, 2.5gbit)", s);
	return -EINVAL;
}

int link_parse_delay(const char *s, double *seconds, char *err, size_t errlen)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{ "ms", 1e-3 }, { "us", 1e-6 }, { "s", 1 },
	};
	char *end;
	double v = strtod(s, &end);

	for (size_t i = 0; end != s && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].suffix) && v * units[i].mult > 0 && v * units[i].mult <= 10) {
			*seconds = v * units[i].mult;
			return 0;
		}
	snprintf(err, errlen, "--delay: '%s' is not a delay from 1us to 10s with a unit (e.g. 10ms, 250us)", s);
	return -EINVAL;
}

/* The link of that kind, made with the defaults when no option asked for one. */
static int link_ready(bool routed, char *err, size_t errlen)
{
	link_use(routed);
	if (!lk.active) {
		struct link_config def = { .mtu = LINK_DEFAULT_MTU, .offload = -1, .routed = routed };

		return link_create(&def, err, errlen);
	}
	return 0;
}

static int veth_pair(bool routed, enum leg leg, const struct via *via, const struct sockopts *o,
		     int *up, int *down, char *err, size_t errlen)
{
	const char *ns_names[2];
	int ns_up = NS_A, ns_down = NS_B, listen_if = IF_B;
	char addr[32];
	int r;

	if ((r = link_ready(routed, err, errlen)))
		return r;
	/* routed: a relay sits in R, listening on R's address toward A and connecting to B. */
	if (routed && leg == LEG_TO_MIDDLE) {
		ns_down = NS_R;
		listen_if = IF_RA;
	} else if (routed && leg == LEG_FROM_MIDDLE) {
		ns_up = NS_R;
	}
	ns_names[0] = lk.ns[ns_up];
	ns_names[1] = lk.ns[ns_down];
	iface_address(listen_if, addr, sizeof(addr), false);
	return inet_pair_via(o, inet_addr(addr), lk.nsfd[ns_up], lk.nsfd[ns_down], ns_names, via, up, down,
			     err, errlen);
}

/* ---- lo-ns ------------------------------------------------------------------ */

static struct lons {
	bool active;
	pid_t owner;		/* forked children inherit the atexit handler: only the owner tears down */
	char ns[48];
	int nsfd;
} ln = { .nsfd = -1 };

const char *lons_netns_name(void)
{
	return ln.active ? ln.ns : NULL;
}

/*
 * In a forked role: close the namespace descriptors it inherited.  Each
 * carries the shared flock that tells `copylab cleanup` a run still uses
 * the namespace, and a role killed with its harness can take a moment to
 * exit: holding them, it would keep a dead run's namespaces "in use".
 * Roles never enter a namespace (the parent made their sockets).
 */
void transport_close_inherited(void)
{
	for (size_t l = 0; l < sizeof(links) / sizeof(links[0]); l++)
		for (int i = 0; i < NS_MAX; i++)
			if (links[l].nsfd[i] >= 0) {
				close(links[l].nsfd[i]);
				links[l].nsfd[i] = -1;
			}
	if (ln.nsfd >= 0) {
		close(ln.nsfd);
		ln.nsfd = -1;
	}
}

void lons_destroy(void)
{
	char err[320];

	if (!ln.active || ln.owner != getpid())
		return;
	if (ln.nsfd >= 0)
		close(ln.nsfd);
	ln.nsfd = -1;
	if (netns_cmd(NULL, 0, err, sizeof(err), "ip", "netns", "del", ln.ns, NULL))
		fprintf(stderr, "copylab: lo-ns teardown: %s (`copylab cleanup` removes it)\n", err);
	ln.active = false;
}

static void lons_atexit(void)
{
	lons_destroy();
}

int lons_create(char *err, size_t errlen)
{
	static bool registered;
	char mtu[16];
	int r;

	if (ln.active)
		return 0;
	ln.owner = getpid();
	snprintf(ln.ns, sizeof(ln.ns), NETNS_PREFIX "%d-%06x-lo", (int)getpid(), netns_unique_id());
	if (!registered && atexit(lons_atexit) == 0)
		registered = true;
	if (netns_cmd(NULL, 0, err, errlen, "ip", "netns", "add", ln.ns, NULL))
		return -EIO;
	ln.active = true;
	if ((ln.nsfd = netns_open(ln.ns)) < 0) {
		r = ln.nsfd;
		snprintf(err, errlen, "open %s/%s: %s", NETNS_DIR, ln.ns, strerror(-r));
		lons_destroy();
		return r;
	}
	/* In use while this lock is held: `copylab cleanup` leaves it alone. */
	flock(ln.nsfd, LOCK_SH);
	snprintf(mtu, sizeof(mtu), "%u", LONS_MTU);
	/* The namespace's own lo: the host's keeps its MTU. */
	if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", ln.ns, "link", "set", "lo", "mtu", mtu, NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", ln.ns, "link", "set", "lo", "up", NULL)) {
		lons_destroy();
		return -EIO;
	}
	return 0;
}

static int lons_pair(const struct sockopts *o, int *up, int *down, char *err, size_t errlen)
{
	const char *ns_names[2];
	int r;

	if (!ln.active && (r = lons_create(err, errlen)))
		return r;
	ns_names[0] = ns_names[1] = ln.ns;
	return inet_pair(o, htonl(INADDR_LOOPBACK), ln.nsfd, ln.nsfd, ns_names, up, down, err, errlen);
}

int transport_pair_leg(enum transport t, enum leg leg, const struct sockopts *o, int *up, int *down,
		       char *err, size_t errlen)
{
	switch (t) {
	case TR_TCP:
		return tcp_pair(o, up, down, err, errlen);
	case TR_UNIX:
		return unix_pair(o, up, down, err, errlen);
	case TR_VETH:
	case TR_ROUTED:
		return veth_pair(t == TR_ROUTED, leg, NULL, o, up, down, err, errlen);
	case TR_LONS:
		return lons_pair(o, up, down, err, errlen);
	case TR_NIC:
		snprintf(err, errlen, "transport nic: the pair is made with the far host (remote_role_begin), and needs --peer");
		return -EINVAL;
	case TR_USERSTACK:
		return userstack_pair(o, true, up, down, err, errlen);
	default:
		snprintf(err, errlen, "unknown transport");
		return -EINVAL;
	}
}

int transport_pair(enum transport t, const struct sockopts *o, int *up, int *down,
		   char *err, size_t errlen)
{
	return transport_pair_leg(t, LEG_THROUGH, o, up, down, err, errlen);
}

int transport_pair_via_router(enum transport t, const struct sockopts *o,
			      int (*configure)(void *arg, struct kernel_path *k), void *arg,
			      struct kernel_path *k, int *up, int *down, char *err, size_t errlen)
{
	char front[32];
	struct via via = { .configure = configure, .arg = arg, .k = k };
	int r;

	if (t != TR_ROUTED) {
		snprintf(err, errlen, "transport %s has no router namespace: only routed does", transport_name(t));
		return -EOPNOTSUPP;
	}
	if ((r = link_ready(true, err, errlen)))
		return r;
	iface_address(IF_RA, front, sizeof(front), false);
	via.front = inet_addr(front);
	k->netns = lk.ns[NS_R];
	snprintf(k->table, sizeof(k->table), "%s-nat", lk.ns[NS_R]);
	k->exec_in_netns = transport_exec_in_netns;
	return veth_pair(true, LEG_THROUGH, &via, o, up, down, err, errlen);
}

int transport_exec_in_netns(struct kernel_path *k, char *const argv[])
{
	char *full[16] = { "ip", "netns", "exec", (char *)k->netns };
	const char *tool = system_tool(argv[0]);
	int n = 4;

	/* ip would look the command up in the caller's PATH: give it the system's tool by path. */
	if (!tool) {
		snprintf(k->err, sizeof(k->err), "%s is not installed in the system's directories", argv[0]);
		return -ENOENT;
	}
	full[n++] = (char *)tool;
	for (int i = 1; argv[i] && n < 15; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return netns_exec(full, NULL, 0, k->err, sizeof(k->err));
}

/* ---- facts for env.json ----------------------------------------------------- */

/* `ip -j` / `tc -j` output as JSON, the first element of its array; NULL on failure. */
static json_t *tool_json(char *const argv[])
{
	static char out[65536];
	char err[256];
	json_t *j, *first;

	if (netns_exec(argv, out, sizeof(out), err, sizeof(err)))
		return NULL;
	j = json_loads(out, 0, NULL);
	if (json_is_array(j) && json_array_size(j) == 1) {
		first = json_incref(json_array_get(j, 0));
		json_decref(j);
		return first;
	}
	return j;
}

static json_t *or_null(json_t *j)
{
	return j ? j : json_null();
}

/* MTU, operstate and qdiscs of one interface, in namespace ns ("" = ours). */
static void iface_facts(json_t *o, const char *ns, int nsfd, const char *dev)
{
	char *link_argv[] = { "ip", "-j", "-d", "link", "show", "dev", (char *)dev, NULL };
	char *link_ns_argv[] = { "ip", "-n", (char *)ns, "-j", "-d", "link", "show", "dev", (char *)dev, NULL };
	char *tc_argv[] = { "tc", "-j", "qdisc", "show", "dev", (char *)dev, NULL };
	char *tc_ns_argv[] = { "tc", "-n", (char *)ns, "-j", "qdisc", "show", "dev", (char *)dev, NULL };
	json_t *l = tool_json(ns[0] ? link_ns_argv : link_argv), *q;

	json_object_set_new(o, "interface", json_string(dev));
	if (ns[0])
		json_object_set_new(o, "namespace", json_string(ns));
	json_object_set_new(o, "mtu", json_is_object(l) ? json_incref(json_object_get(l, "mtu")) : json_null());
	json_object_set_new(o, "operstate", json_is_object(l) ? json_incref(json_object_get(l, "operstate")) : json_null());
	json_object_set_new(o, "gso_max_size", json_is_object(l) ? json_incref(json_object_get(l, "gso_max_size")) : json_null());
	json_object_set_new(o, "gro_max_size", json_is_object(l) ? json_incref(json_object_get(l, "gro_max_size")) : json_null());
	json_decref(l);
	/* tc -j prints one object per qdisc: keep the whole array. */
	{
		static char out[65536];
		char err[256];

		q = netns_exec(ns[0] ? tc_ns_argv : tc_argv, out, sizeof(out), err, sizeof(err)) ? NULL
			: json_loads(out, 0, NULL);
	}
	json_object_set_new(o, "qdisc", or_null(q));
	json_object_set_new(o, "offload", or_null(netns_features(nsfd, dev)));
	netns_link_facts(o, nsfd, dev);
}

static json_t *sys_int(const char *dev, const char *attr)
{
	char path[128], buf[64];
	FILE *f;
	long long v;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
	f = fopen(path, "re");
	if (!f)
		return json_null();
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%lld", &v) != 1) {
		fclose(f);
		return json_null();	/* virtual devices refuse "speed" with EINVAL */
	}
	fclose(f);
	return json_integer(v);
}

/* The local interface whose address routes to host. */
static int route_iface(const char *host, const char *port, char *dev, size_t devlen, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	struct sockaddr_storage me;
	socklen_t mlen = sizeof(me);
	struct ifaddrs *ifs, *i;
	int fd, r;

	if ((r = getaddrinfo(host, port, &hints, &ai))) {
		snprintf(why, whylen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* A datagram connect sends nothing: it only asks the routing table. */
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) ||
	    getsockname(fd, (struct sockaddr *)&me, &mlen)) {
		snprintf(why, whylen, "no route to %s: %s", host, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	close(fd);
	freeaddrinfo(ai);
	if (getifaddrs(&ifs)) {
		snprintf(why, whylen, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	r = -1;
	for (i = ifs; i && r; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != me.ss_family)
			continue;
		if ((me.ss_family == AF_INET &&
		     ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == ((struct sockaddr_in *)&me)->sin_addr.s_addr) ||
		    (me.ss_family == AF_INET6 &&
		     !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, &((struct sockaddr_in6 *)&me)->sin6_addr, 16))) {
			snprintf(dev, devlen, "%s", i->ifa_name);
			r = 0;
		}
	}
	freeifaddrs(ifs);
	if (r)
		snprintf(why, whylen, "no local interface holds the source address toward %s", host);
	return r;
}

/*
 * Whether the link toward the peer is virtual (env_link_virtual), into o;
 * when it is, the run says so on stderr as well: nic mode is meant for a
 * real NIC, and figures taken over a veth would otherwise pass for one's.
 * transport_facts(TR_NIC) is asked once, as the run starts: once said.
 */
static void nic_virtual(json_t *o, const char *peer, const char *dev, const char *drv)
{
	char path[IFNAMSIZ + 32], kind[64], why[160];
	bool virt;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", dev);
	virt = env_link_virtual(drv, access(path, F_OK) == 0, kind, sizeof(kind), why, sizeof(why));
	json_object_set_new(o, "virtual", json_boolean(virt));
	if (!virt)
		return;
	json_object_set_new(o, "virtual_reason", json_string(why));
	fprintf(stderr, "copylab: nic: the link to %s leaves by %s, %s (virtual): zero-copy sends complete as copied "
		"and the figures are those of a virtual link, not a NIC\n", peer, dev, kind);
}

static json_t *nic_facts(json_t *o, const char *peer)
{
	char host[256], dev[IFNAMSIZ], why[320], drv[64], ver[64], bus[64];
	const char *port;
	char *colon;

	json_object_set_new(o, "peer", json_string(peer ? peer : ""));
	snprintf(host, sizeof(host), "%s", peer ? peer : "");
	colon = strrchr(host, ':');
	if (!colon) {
		json_object_set_new(o, "error", json_string("no peer address"));
		return o;
	}
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	if (route_iface(host, port, dev, sizeof(dev), why, sizeof(why))) {
		json_object_set_new(o, "error", json_string(why));
		return o;
	}
	iface_facts(o, "", -1, dev);
	json_t *speed = sys_int(dev, "speed");

	/* Virtual NICs (virtio, veth) report -1 or refuse: unknown, not a figure. */
	if (json_is_integer(speed) && json_integer_value(speed) <= 0) {
		json_decref(speed);
		speed = json_null();
	}
	json_object_set_new(o, "speed_mbps", speed);
	if (json_is_null(speed))
		json_object_set_new(o, "speed_note", json_string("the driver reports no link speed"));
	if (netns_driver(dev, drv, sizeof(drv), ver, sizeof(ver), bus, sizeof(bus)) == 0) {
		json_object_set_new(o, "driver", json_pack("{s:s, s:s, s:s}", "name", drv, "version", ver, "bus_info", bus));
	} else {
		json_object_set_new(o, "driver", json_null());
		drv[0] = '\0';
	}
	json_object_set_new(o, "numa_node", sys_int(dev, "device/numa_node"));
	nic_virtual(o, peer, dev, drv);
	return o;
}

json_t *transport_facts(enum transport t, const char *peer)
{
	json_t *o = json_object();

	json_object_set_new(o, "transport", json_string(transport_name(t)));
	switch (t) {
	case TR_TCP:
		json_object_set_new(o, "address", json_string("127.0.0.1"));
		iface_facts(o, "", -1, "lo");
		break;
	case TR_UNIX:
		json_object_set_new(o, "note", json_string("AF_UNIX stream socketpair: no interface, no MTU, no qdisc"));
		break;
	case TR_VETH:
	case TR_ROUTED: {
		static const char *const side[IF_MAX] = {
			"A (up: sends)", "B (down: receives)", "R toward A (router)", "R toward B (router)",
		};
		json_t *ends = json_array();

		link_use(t == TR_ROUTED);
		if (!lk.active) {
			json_object_set_new(o, "error", json_string(t == TR_ROUTED
				? "no routed path was made in this invocation"
				: "no veth link was made in this invocation"));
			break;
		}
		json_object_set_new(o, "mtu", json_integer(lk.cfg.mtu));
		json_object_set_new(o, "offload_asked", lk.cfg.offload < 0 ? json_string("default")
				    : json_string(lk.cfg.offload ? "on" : "off"));
		json_object_set_new(o, "rate_bps", json_integer((json_int_t)lk.cfg.rate_bps));
		json_object_set_new(o, "delay_s", json_real(lk.cfg.delay_s));
		if (t == TR_ROUTED)
			json_object_set_new(o, "router", json_pack("{s:s, s:b}", "namespace", lk.ns[NS_R],
				"ip_forward", 1));
		for (int i = 0; i < lk.nif; i++) {
			json_t *e = json_object();
			char addr[32];

			iface_address(i, addr, sizeof(addr), true);
			json_object_set_new(e, "side", json_string(side[i]));
			json_object_set_new(e, "address", json_string(addr));
			iface_facts(e, lk.ns[if_ns[i]], lk.nsfd[if_ns[i]], lk.ifname[i]);
			json_array_append_new(ends, e);
		}
		json_object_set_new(o, "ends", ends);
		break;
	}
	case TR_NIC:
		nic_facts(o, peer);
		break;
	case TR_LONS:
		if (!ln.active) {
			json_object_set_new(o, "error", json_string("no lo-ns namespace was made in this invocation"));
			break;
		}
		json_object_set_new(o, "address", json_string("127.0.0.1"));
		json_object_set_new(o, "mtu_asked", json_integer(LONS_MTU));
		iface_facts(o, ln.ns, ln.nsfd, "lo");
		break;
	case TR_USERSTACK:
		json_object_set_new(o, "stack", json_string("lwIP (Debian liblwip) in copylab stackd, raw API under the tcpip core lock"));
		json_object_set_new(o, "netif", json_string("tap"));
		json_object_set_new(o, "data_path", json_string("ipc (payload inside the AF_UNIX pair to stackd)"));
		json_object_set_new(o, "lwip_address", json_string(US_STACK_ADDR));
		json_object_set_new(o, "kernel_address", json_string(US_KERNEL_ADDR));
		json_object_set_new(o, "mtu", json_integer(1500));
		if (userstack_netns())
			json_object_set_new(o, "netns", json_string(userstack_netns()));
		json_object_set_new(o, "peer", json_string("the kernel's TCP on the TAP's other side, in stackd's namespace"));
		break;
	default:
		break;
	}
	return o;
}
