/* SPDX-License-Identifier: MIT */
/*
 * Loopback TCP and AF_UNIX stream pairs, and the veth link: two network
 * namespaces joined by a veth pair, made once per invocation with iproute2,
 * in which the parent opens each pair (setns in, socket, setns back).
 */
#include "transport.h"
#include "netns.h"

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
	[TR_TCP] = "tcp", [TR_UNIX] = "unix", [TR_VETH] = "veth", [TR_NIC] = "nic",
	[TR_LONS] = "lo-ns",
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
	snprintf(buf, len, "tcp, unix, veth, nic, lo-ns");
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
static int inet_pair(const struct sockopts *o, in_addr_t listen_addr, int ns_up, int ns_down,
		     const char *names_updown[2], int *up, int *down, char *err, size_t errlen)
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

static struct link {
	bool active;
	pid_t owner;		/* forked children inherit the atexit handler: only the owner tears down */
	struct link_config cfg;
	char ns[2][48];		/* A (up), B (down) */
	char ifname[2][IFNAMSIZ];
	int nsfd[2];
	unsigned subnet;	/* X of 10.213.X.0/24 */
	bool ns_made[2];
} lk = { .nsfd = { -1, -1 } };

bool link_active(void)
{
	return lk.active;
}

const char *link_netns_name(int side)
{
	return lk.active && (side == 0 || side == 1) ? lk.ns[side] : NULL;
}

static void link_address(int side, char *buf, size_t len, bool prefix)
{
	snprintf(buf, len, "10.213.%u.%d%s", lk.subnet, side + 1, prefix ? "/24" : "");
}

void link_destroy(void)
{
	char err[320];

	if (lk.owner != getpid())
		return;
	for (int i = 0; i < 2; i++) {
		if (lk.nsfd[i] >= 0)
			close(lk.nsfd[i]);
		lk.nsfd[i] = -1;
		/* The veth, its addresses and qdiscs go with the namespace. */
		if (lk.ns_made[i] && netns_cmd(NULL, 0, err, sizeof(err), "ip", "netns", "del", lk.ns[i], NULL))
			fprintf(stderr, "copylab: veth teardown: %s (`copylab cleanup` removes it)\n", err);
		lk.ns_made[i] = false;
	}
	lk.active = false;
}

static void link_atexit(void)
{
	link_destroy();
}

static uint32_t run_unique_id(void)
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

/* tc's own words for a qdisc the kernel does not have. */
static bool qdisc_missing(const char *err)
{
	return strstr(err, "qdisc kind is unknown") || strstr(err, "Unknown qdisc") ||
	       strstr(err, "No such file or directory");
}

static int link_qdiscs(int side, char *err, size_t errlen)
{
	const char *ns = lk.ns[side], *dev = lk.ifname[side];
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

int link_create(const struct link_config *cfg, char *err, size_t errlen)
{
	char mtu[16], addr[32];
	uint32_t id;
	int r;

	if (lk.active) {
		snprintf(err, errlen, "a veth link exists already (%s, %s)", lk.ns[0], lk.ns[1]);
		return -EEXIST;
	}
	memset(&lk, 0, sizeof(lk));
	lk.nsfd[0] = lk.nsfd[1] = -1;
	lk.cfg = *cfg;
	if (!lk.cfg.mtu)
		lk.cfg.mtu = LINK_DEFAULT_MTU;
	if (lk.cfg.mtu < 68 || lk.cfg.mtu > 65535) {
		snprintf(err, errlen, "--mtu %u: a veth takes 68 to 65535", lk.cfg.mtu);
		return -EINVAL;
	}
	lk.owner = getpid();
	id = run_unique_id();
	lk.subnet = id & 0xff;
	for (int i = 0; i < 2; i++) {
		snprintf(lk.ns[i], sizeof(lk.ns[i]), NETNS_PREFIX "%d-%06x-%c", (int)getpid(), id, 'a' + i);
		snprintf(lk.ifname[i], sizeof(lk.ifname[i]), NETNS_PREFIX "%06x%c", id, 'a' + i);
	}
	static bool registered;

	if (!registered && atexit(link_atexit) == 0)
		registered = true;
	for (int i = 0; i < 2; i++) {
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
	}
	/* Made with each end already in its namespace: nothing lands in ours. */
	if (netns_cmd(NULL, 0, err, errlen, "ip", "link", "add", lk.ifname[0], "netns", lk.ns[0],
		      "type", "veth", "peer", "name", lk.ifname[1], "netns", lk.ns[1], NULL)) {
		r = -EIO;
		goto fail;
	}
	snprintf(mtu, sizeof(mtu), "%u", lk.cfg.mtu);
	for (int i = 0; i < 2; i++) {
		link_address(i, addr, sizeof(addr), true);
		if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[i], "link", "set", "lo", "up", NULL) ||
		    netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[i], "link", "set", lk.ifname[i], "mtu", mtu, NULL) ||
		    netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[i], "addr", "add", addr, "dev", lk.ifname[i], NULL)) {
			r = -EIO;
			goto fail;
		}
		if (lk.cfg.offload >= 0 &&
		    (r = netns_set_offloads(lk.nsfd[i], lk.ifname[i], lk.cfg.offload, err, errlen)))
			goto fail;
		if ((r = link_qdiscs(i, err, errlen)))
			goto fail;
		if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", lk.ns[i], "link", "set", lk.ifname[i], "up", NULL)) {
			r = -EIO;
			goto fail;
		}
	}
	lk.active = true;
	return 0;
fail:
	link_destroy();
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

static int veth_pair(const struct sockopts *o, int *up, int *down, char *err, size_t errlen)
{
	const char *ns_names[2];
	char addr[32];
	int r;

	if (!lk.active) {
		/* No options were given: the link with the defaults. */
		struct link_config def = { .mtu = LINK_DEFAULT_MTU, .offload = -1 };

		if ((r = link_create(&def, err, errlen)))
			return r;
	}
	ns_names[0] = lk.ns[0];
	ns_names[1] = lk.ns[1];
	link_address(1, addr, sizeof(addr), false);
	return inet_pair(o, inet_addr(addr), lk.nsfd[0], lk.nsfd[1], ns_names, up, down, err, errlen);
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
	snprintf(ln.ns, sizeof(ln.ns), NETNS_PREFIX "%d-%06x-lo", (int)getpid(), run_unique_id());
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

int transport_pair(enum transport t, const struct sockopts *o, int *up, int *down,
		   char *err, size_t errlen)
{
	switch (t) {
	case TR_TCP:
		return tcp_pair(o, up, down, err, errlen);
	case TR_UNIX:
		return unix_pair(o, up, down, err, errlen);
	case TR_VETH:
		return veth_pair(o, up, down, err, errlen);
	case TR_LONS:
		return lons_pair(o, up, down, err, errlen);
	case TR_NIC:
		snprintf(err, errlen, "transport nic: the pair is made with the far host (remote_role_begin), and needs --peer");
		return -EINVAL;
	default:
		snprintf(err, errlen, "unknown transport");
		return -EINVAL;
	}
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
	if (netns_driver(dev, drv, sizeof(drv), ver, sizeof(ver), bus, sizeof(bus)) == 0)
		json_object_set_new(o, "driver", json_pack("{s:s, s:s, s:s}", "name", drv, "version", ver, "bus_info", bus));
	else
		json_object_set_new(o, "driver", json_null());
	json_object_set_new(o, "numa_node", sys_int(dev, "device/numa_node"));
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
	case TR_VETH: {
		json_t *ends = json_array();

		if (!lk.active) {
			json_object_set_new(o, "error", json_string("no veth link was made in this invocation"));
			break;
		}
		json_object_set_new(o, "mtu", json_integer(lk.cfg.mtu));
		json_object_set_new(o, "offload_asked", lk.cfg.offload < 0 ? json_string("default")
				    : json_string(lk.cfg.offload ? "on" : "off"));
		json_object_set_new(o, "rate_bps", json_integer((json_int_t)lk.cfg.rate_bps));
		json_object_set_new(o, "delay_s", json_real(lk.cfg.delay_s));
		for (int i = 0; i < 2; i++) {
			json_t *e = json_object();
			char addr[32];

			link_address(i, addr, sizeof(addr), true);
			json_object_set_new(e, "side", json_string(i ? "B (down: receives)" : "A (up: sends)"));
			json_object_set_new(e, "address", json_string(addr));
			iface_facts(e, lk.ns[i], lk.nsfd[i], lk.ifname[i]);
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
	default:
		break;
	}
	return o;
}
