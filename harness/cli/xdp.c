/* SPDX-License-Identifier: MIT */
/*
 * `copylab xdp`: what AF_XDP can do here, shown on a veth pair in a
 * namespace of its own.  For each mode asked (or all four with --all) it
 * opens an AF_XDP port (harness/net/xsk_port.c), sends UDP datagrams from
 * a kernel socket to the address the port answers for, checks each arrives
 * at the port byte-exact, echoes it, checks the echo arrives at the kernel
 * socket byte-exact, sends datagrams the port builds itself, closes the port
 * and checks nothing stays attached.  Refused modes are reported with the
 * errno and the kernel's message.  --hold keeps a port answering (ARP, ICMP
 * echo, UDP echo) until SIGINT/SIGTERM, for tests and for trying it by hand.
 */
#include "cli.h"
#include "harness/model/base.h"
#include "harness/net/netns.h"
#include "harness/engine/pattern.h"
#include "harness/net/ethframe.h"
#include "harness/net/xsk_link.h"
#include "harness/net/xsk_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char xdp_help[] =
"usage: copylab xdp [--attach auto|native|generic] [--bind auto|zerocopy|copy]\n"
"                   [--all] [--queue N] [--queues N] [--kern-queues N] [--mtu N]\n"
"                   [--kern-offload] [--hold] [--json]\n"
"\n"
"Makes a network namespace copylab-PID-ID-x with a veth pair (kern0, the\n"
"kernel's end, 10.214.X.1/24; xsk0, the port's end, no address), opens an\n"
"AF_XDP socket on xsk0 with libxdp's default XSK program, and checks it:\n"
"UDP datagrams from a kernel socket reach the port byte-exact and come back\n"
"byte-exact, datagrams the port builds reach the kernel socket byte-exact,\n"
"and closing the port leaves no XDP program attached.  The namespace goes\n"
"when it ends (or `copylab cleanup` removes it after a kill).\n"
"\n"
"  --attach MODE  native (XDP in the driver), generic (on the skb), auto:\n"
"                 native, then generic (default auto)\n"
"  --bind MODE    zerocopy, copy, auto: zerocopy, then copy (default auto)\n"
"  --all          try each of native/zerocopy, native/copy, generic/zerocopy,\n"
"                 generic/copy forced, then auto, and report each\n"
"  --queue N      the rx queue to bind (default 0)\n"
"  --queues N     rx/tx queues of each veth end (default: queue + 1); the\n"
"                 kernel's end sends every frame to the bound queue (XPS)\n"
"  --kern-queues N  queues of the kernel's end alone (native XDP on veth\n"
"                 wants the port's rx queues >= the peer's tx queues)\n"
"  --mtu N        the veth's MTU (default 1500; native XDP on veth refuses a\n"
"                 peer MTU above one page less headroom)\n"
"  --kern-offload leave TX checksum, TSO, GSO and GRO on at the kernel's end\n"
"                 (frames then reach the port with partial UDP checksums)\n"
"  --hold         after the check, keep answering ARP, ping and UDP (echo) for\n"
"                 10.214.X.2 until SIGINT/SIGTERM; prints a \"ready\" line first\n"
"  --netns NAME --dev IF  a link of your own instead: open and close the\n"
"                 port on IF in namespace NAME (no exchange, nothing removed)\n"
"  --ip ADDR      with --netns/--dev --hold: the address to answer for\n"
"  --json         the results as one JSON object on stdout\n"
"\n"
"Exit status: 0 every mode asked worked (with --all: each worked or was\n"
"refused, and auto worked), 1 a mode was refused or a check failed, 2 usage.\n";

/* The port's interface: xsk0 of the link made here, or --dev on a link given with --netns. */
static const char *port_if = XSK_LINK_PORT_IF;
static bool external;

struct check {
	struct ethframe_host host;
	struct ethframe_counts counts;
	uint64_t rx_ok, rx_bad, rx_bytes, echo_ok, echo_bad, tx_ok, tx_bad, tx_bytes;
	char first_bad[200];
};

/* Answers every frame waiting on the port; notes a UDP payload equal to want. */
static int port_serve(struct xsk_port *p, struct check *c, const uint8_t *want, size_t wlen, bool *seen)
{
	uint8_t in[4096], out[4096];
	ssize_t n;

	while ((n = xsk_port_recv(p, in, sizeof(in))) >= 0) {
		const uint8_t *pl;
		size_t plen, alen = ethframe_answer(&c->host, in, (size_t)n, out, sizeof(out), &c->counts, &pl, &plen);
		int r;

		if (pl && want && seen && !*seen) {
			if (plen == wlen && !memcmp(pl, want, wlen)) {
				c->rx_ok++;
				c->rx_bytes += wlen;
				*seen = true;
			} else {
				c->rx_bad++;
				if (!c->first_bad[0])
					snprintf(c->first_bad, sizeof(c->first_bad),
						 "a datagram of %zu bytes arrived at the port as %zu bytes, or changed", wlen, plen);
			}
		}
		for (int tries = 0; alen && (r = xsk_port_send(p, out, alen)) == -EAGAIN && tries < 1000; tries++)
			usleep(100);
		if (alen && r)
			return r;
	}
	return n == -EAGAIN ? 0 : (int)n;
}

/* Waits for one datagram on the kernel socket, serving the port meanwhile. */
static int kernel_wait(struct xsk_port *p, int us, struct check *c, const uint8_t *want, size_t wlen, bool *seen,
		       uint8_t *got, size_t cap, ssize_t *glen)
{
	int64_t end = now_ns() + 3000000000LL;
	int r;

	while (now_ns() < end && !run_interrupted) {
		struct pollfd pf[2] = { { .fd = xsk_port_fd(p), .events = POLLIN }, { .fd = us, .events = POLLIN } };

		if (poll(pf, 2, 100) < 0 && errno != EINTR)
			return -errno;
		if ((r = port_serve(p, c, want, wlen, seen)))
			return r;
		if (pf[1].revents & POLLIN) {
			*glen = recv(us, got, cap, MSG_DONTWAIT);
			if (*glen >= 0)
				return 0;
			if (errno != EAGAIN)
				return -errno;
		}
	}
	return run_interrupted ? -EINTR : -ETIMEDOUT;
}

/* The exchange: kernel -> port -> kernel (echo), then port -> kernel. */
static int exchange(struct xsk_port *p, const struct xsk_link *lk, struct check *c, char *err, size_t errlen)
{
	const struct xsk_port_facts *f = xsk_port_facts(p);
	size_t most = (lk->mtu < 1500 ? lk->mtu : 1500) - 28;	/* one MTU of UDP/IPv4 payload */
	const size_t sizes[] = { 1, 18, 1000, most };
	uint8_t want[2048], got[2048];
	struct sockaddr_in k = { .sin_family = AF_INET, .sin_addr.s_addr = lk->kern_ip };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = lk->port_ip, .sin_port = htons(7) };
	socklen_t kl = sizeof(k);
	uint64_t off = 0;
	int us, r = 0;

	if (most > f->max_frame - ETHFRAME_HDR_UDP)
		most = f->max_frame - ETHFRAME_HDR_UDP;
	if ((us = xsk_link_socket(lk, SOCK_DGRAM)) < 0) {
		snprintf(err, errlen, "a UDP socket in %s: %s", lk->netns, strerror(-us));
		return us;
	}
	if (bind(us, (struct sockaddr *)&k, sizeof(k)) || getsockname(us, (struct sockaddr *)&k, &kl) ||
	    connect(us, (struct sockaddr *)&to, sizeof(to))) {
		r = -errno;
		snprintf(err, errlen, "UDP socket on %s: %s", lk->kern_addr, strerror(errno));
		goto out;
	}
	/* Kernel -> port -> kernel: the first also makes the kernel ask ARP for the port's address. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !r; i++) {
		size_t n = sizes[i] < most ? sizes[i] : most;
		ssize_t glen = -1;
		bool seen = false;

		pattern_fill(want, off, n);
		off += n;
		if (send(us, want, n, 0) != (ssize_t)n) {
			r = -errno;
			snprintf(err, errlen, "send of %zu bytes to %s: %s", n, lk->port_addr, strerror(errno));
			break;
		}
		if ((r = kernel_wait(p, us, c, want, n, &seen, got, sizeof(got), &glen))) {
			snprintf(err, errlen, "the echo of a %zu-byte datagram did not come back: %s%s%s", n, strerror(-r),
				 seen ? " (it did arrive at the port)" : " (it never arrived at the port)",
				 c->counts.arp_replies ? "" : "; no ARP request reached the port");
			break;
		}
		if (glen == (ssize_t)n && !memcmp(got, want, n)) {
			c->echo_ok++;
		} else {
			c->echo_bad++;
			if (!c->first_bad[0])
				snprintf(c->first_bad, sizeof(c->first_bad), "an echo of %zu bytes came back as %zd bytes, or changed", n, glen);
		}
	}
	/* Port -> kernel: frames the port builds itself, to the kernel socket's port. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !r; i++) {
		size_t n = sizes[i] < most ? sizes[i] : most, flen;
		uint8_t frame[2048];
		ssize_t glen = -1;

		pattern_fill(want, off, n);
		off += n;
		flen = ethframe_udp(frame, sizeof(frame), c->host.mac, lk->kern_mac, lk->port_ip, lk->kern_ip,
				    htons(7), k.sin_port, want, n);
		for (int tries = 0; (r = xsk_port_send(p, frame, flen)) == -EAGAIN && tries < 1000; tries++)
			usleep(100);
		if (r) {
			snprintf(err, errlen, "sending a %zu-byte frame from the port: %s", flen, strerror(-r));
			break;
		}
		if ((r = kernel_wait(p, us, c, NULL, 0, NULL, got, sizeof(got), &glen))) {
			snprintf(err, errlen, "a %zu-byte datagram sent from the port never reached the kernel socket: %s",
				 n, strerror(-r));
			break;
		}
		if (glen == (ssize_t)n && !memcmp(got, want, n)) {
			c->tx_ok++;
			c->tx_bytes += n;
		} else {
			c->tx_bad++;
			if (!c->first_bad[0])
				snprintf(c->first_bad, sizeof(c->first_bad), "a %zu-byte datagram from the port arrived as %zd bytes, or changed", n, glen);
		}
	}
out:
	close(us);
	return r;
}

/* The port's own MAC: xsk0's address, read inside the namespace. */
static int port_mac(const struct xsk_link *lk, uint8_t mac[6])
{
	char out[4096], err[320], *p;
	unsigned int m[6];

	if (netns_cmd(out, sizeof(out), err, sizeof(err), "ip", "-n", lk->netns, "-o", "link", "show", "dev",
		      port_if, NULL) || !(p = strstr(out, "link/ether ")) ||
	    sscanf(p + 11, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -EIO;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

/* One mode: open, check, close, check nothing is left attached.  Its JSON. */
static json_t *mode_check(const struct xsk_link *lk, const struct xsk_port_request *req, bool *ok, bool *refused)
{
	struct xsk_port_facts facts;
	struct xsk_port_stats st;
	struct xsk_port *p;
	struct check c;
	char err[1024] = "", mode[16];
	json_t *j = json_object(), *rq = json_object();
	long left;
	int r;

	*ok = *refused = false;
	memset(&c, 0, sizeof(c));
	json_object_set_new(rq, "attach", json_string(xsk_attach_name(req->attach)));
	json_object_set_new(rq, "bind", json_string(xsk_bind_name(req->bind)));
	json_object_set_new(j, "request", rq);
	c.host.ip = lk->port_ip;
	if (!external && port_mac(lk, c.host.mac)) {
		json_object_set_new(j, "status", json_string("failed"));
		json_object_set_new(j, "error", json_string("cannot read the port interface's MAC address (no such interface?)"));
		return j;
	}
	memset(&facts, 0, sizeof(facts));
	r = xsk_port_open(&p, lk->netns, port_if, req, &facts, err, sizeof(err));
	json_object_set_new(j, "facts", xsk_facts_json(&facts));
	if (r) {
		/* Every allowed mode refused by the kernel: a fact of this machine, not a defect. */
		*refused = facts.n_refused > 0;
		json_object_set_new(j, "status", json_string(*refused ? "refused" : "failed"));
		json_object_set_new(j, "error", json_string(err));
		left = xsk_link_xdp_prog(lk, port_if, mode, sizeof(mode));
		json_object_set_new(j, "attached_after", json_integer(left));
		if (left)	/* a failed open must leave nothing attached */
			*refused = false;
		return j;
	}
	json_object_set_new(j, "attached_while_open", json_integer(xsk_link_xdp_prog(lk, port_if, mode, sizeof(mode))));
	json_object_set_new(j, "ip_link_mode", json_string(mode));
	/* A link copylab did not make has no addresses it knows: open and close only. */
	r = external ? 0 : exchange(p, lk, &c, err, sizeof(err));
	xsk_port_stats(p, &st);
	int cr = xsk_port_close(p);

	left = xsk_link_xdp_prog(lk, port_if, NULL, 0);
	json_t *x = external ? json_null() : json_object();

	json_object_set_new(x, "to_port_datagrams", json_integer((json_int_t)c.rx_ok));
	json_object_set_new(x, "to_port_bytes", json_integer((json_int_t)c.rx_bytes));
	json_object_set_new(x, "to_port_bad", json_integer((json_int_t)c.rx_bad));
	json_object_set_new(x, "echoes_back", json_integer((json_int_t)c.echo_ok));
	json_object_set_new(x, "echoes_bad", json_integer((json_int_t)c.echo_bad));
	json_object_set_new(x, "from_port_datagrams", json_integer((json_int_t)c.tx_ok));
	json_object_set_new(x, "from_port_bytes", json_integer((json_int_t)c.tx_bytes));
	json_object_set_new(x, "from_port_bad", json_integer((json_int_t)c.tx_bad));
	json_object_set_new(x, "arp_replies", json_integer((json_int_t)c.counts.arp_replies));
	json_object_set_new(x, "udp_in_with_partial_checksum", json_integer((json_int_t)c.counts.udp_bad_csum));
	json_object_set_new(x, "frames_ignored", json_integer((json_int_t)c.counts.ignored));
	json_object_set_new(x, "port_rx_frames", json_integer((json_int_t)st.rx_frames));
	json_object_set_new(x, "port_tx_frames", json_integer((json_int_t)st.tx_frames));
	json_object_set_new(x, "port_tx_kicks", json_integer((json_int_t)st.tx_kicks));
	json_object_set_new(x, "port_rx_dropped", json_integer((json_int_t)st.rx_dropped));
	if (external)
		json_object_set_new(j, "exchange_skipped", json_string("--netns/--dev: a link copylab did not make, with no addresses it knows"));
	json_object_set_new(j, "exchange", x);
	json_object_set_new(j, "attached_after", json_integer(left));
	if (!r && c.first_bad[0])
		snprintf(err, sizeof(err), "%s", c.first_bad);
	if (!r && !err[0] && cr)
		snprintf(err, sizeof(err), "detaching the XDP program on close: %s", strerror(-cr));
	if (!r && !err[0] && left)
		snprintf(err, sizeof(err), "an XDP program (id %ld) is still attached to %s after close", left, port_if);
	*ok = !err[0];
	json_object_set_new(j, "status", json_string(*ok ? "ok" : "failed"));
	if (!*ok)
		json_object_set_new(j, "error", json_string(err));
	return j;
}

static void print_mode(json_t *m)
{
	json_t *f = json_object_get(m, "facts"), *x = json_object_get(m, "exchange");

	if (!json_is_object(x))
		x = NULL;
	const char *st = json_string_value(json_object_get(m, "status"));
	json_t *rq = json_object_get(m, "request");
	char label[40];

	snprintf(label, sizeof(label), "%s/%s", json_string_value(json_object_get(rq, "attach")),
		 json_string_value(json_object_get(rq, "bind")));
	if (!strcmp(st, "ok") && !x)
		printf("%-17s ok: %s attach, %s bind, program id %lld (ip link: %s); opened and closed only (no exchange "
		       "on a link copylab did not make); nothing attached after close\n", label,
		       json_string_value(json_object_get(f, "attach")), json_string_value(json_object_get(f, "bind")),
		       (long long)json_integer_value(json_object_get(f, "prog_id")),
		       json_string_value(json_object_get(m, "ip_link_mode")));
	else if (!strcmp(st, "ok"))
		printf("%-17s ok: %s attach, %s bind, program id %lld (ip link: %s); %lld datagrams in and %lld echoed back "
		       "byte-exact, %lld sent from the port byte-exact; nothing attached after close\n",
		       label, json_string_value(json_object_get(f, "attach")), json_string_value(json_object_get(f, "bind")),
		       (long long)json_integer_value(json_object_get(f, "prog_id")),
		       json_string_value(json_object_get(m, "ip_link_mode")),
		       (long long)json_integer_value(json_object_get(x, "to_port_datagrams")),
		       (long long)json_integer_value(json_object_get(x, "echoes_back")),
		       (long long)json_integer_value(json_object_get(x, "from_port_datagrams")));
	else
		printf("%-17s %s: %s\n", label, st, json_string_value(json_object_get(m, "error")));
	/* Auto reports what it passed over on the way. */
	if (!strcmp(st, "ok")) {
		json_t *ref = json_object_get(f, "refused"), *r;
		size_t i;

		json_array_foreach(ref, i, r)
			printf("%-17s   (refused on the way: %s/%s %s %s%s%s%s)\n", "",
			       json_string_value(json_object_get(r, "attach")), json_string_value(json_object_get(r, "bind")),
			       json_string_value(json_object_get(r, "step")), json_string_value(json_object_get(r, "errname")),
			       *json_string_value(json_object_get(r, "kernel_message")) ? ": \"" : "",
			       json_string_value(json_object_get(r, "kernel_message")),
			       *json_string_value(json_object_get(r, "kernel_message")) ? "\"" : "");
	}
}

/* --hold: answer for the port's address until a signal. */
static int hold(const struct xsk_link *lk, const struct xsk_port_request *req, bool json)
{
	struct xsk_port *p;
	struct xsk_port_facts facts;
	struct check c;
	char err[1024];
	int r;

	memset(&c, 0, sizeof(c));
	c.host.ip = lk->port_ip;
	if (port_mac(lk, c.host.mac)) {
		fprintf(stderr, "copylab: xdp: cannot read the MAC address of %s in %s (no such interface?)\n", port_if, lk->netns);
		return EXIT_RUN_FAILED;
	}
	if ((r = xsk_port_open(&p, lk->netns, port_if, req, &facts, err, sizeof(err)))) {
		fprintf(stderr, "copylab: xdp: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	printf("ready netns=%s port_if=%s kern_if=%s port_ip=%s kern_ip=%s attach=%s bind=%s prog_id=%u\n", lk->netns,
	       port_if, external ? "-" : XSK_LINK_KERN_IF, lk->port_addr[0] ? lk->port_addr : "-",
	       lk->kern_addr[0] ? lk->kern_addr : "-", xsk_attach_name(facts.attach),
	       xsk_bind_name(facts.bind), facts.prog_id);
	fflush(stdout);
	while (!run_interrupted) {
		struct pollfd pf = { .fd = xsk_port_fd(p), .events = POLLIN };

		if (poll(&pf, 1, 200) < 0 && errno != EINTR)
			break;
		if ((r = port_serve(p, &c, NULL, 0, NULL)))
			break;
	}
	r = xsk_port_close(p);
	printf("stopped: %llu ARP replies, %llu ping replies, %llu UDP echoes%s\n",
	       (unsigned long long)c.counts.arp_replies, (unsigned long long)c.counts.icmp_replies,
	       (unsigned long long)c.counts.udp_echoed, r ? " (detach failed)" : "");
	(void)json;
	return r ? EXIT_RUN_FAILED : 0;
}

/* What the command line asks of copylab xdp. */
struct xdp_options {
	struct xsk_port_request req;
	struct xsk_link_config lc;
	bool all, hold, json, help;
	const char *ext_ns, *ext_dev, *ext_ip_s;	/* --netns, --dev, --ip: a link of the user's */
	uint32_t ext_ip;
};

/* The options, checked against each other.  0 (help set when asked for), or EXIT_USAGE after saying why. */
static int xdp_parse(int argc, char **argv, struct xdp_options *o)
{
	static const struct option opts[] = {
		{ "attach", required_argument, NULL, 'a' },
		{ "bind", required_argument, NULL, 'b' },
		{ "all", no_argument, NULL, 'A' },
		{ "queue", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "kern-queues", required_argument, NULL, 'K' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "kern-offload", no_argument, NULL, 'O' },
		{ "netns", required_argument, NULL, 'n' },
		{ "dev", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "hold", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->req = (struct xsk_port_request){ XSK_ATTACH_AUTO, XSK_BIND_AUTO, 0 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (xsk_attach_parse(optarg, &o->req.attach))
				return usage_error("xdp: --attach '%s': use auto, native or generic", optarg);
			break;
		case 'b':
			if (xsk_bind_parse(optarg, &o->req.bind))
				return usage_error("xdp: --bind '%s': use auto, zerocopy or copy", optarg);
			break;
		case 'q':
		case 'Q': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 64 || (c == 'Q' && v == 0))
				return usage_error("xdp: --%s '%s': a number from %d to 64", c == 'q' ? "queue" : "queues",
						   optarg, c == 'q' ? 0 : 1);
			if (c == 'q')
				o->req.queue = (unsigned int)v;
			else
				o->lc.queues = (unsigned int)v;
			break;
		}
		case 'K':
		case 'M': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (c == 'K' && (!*optarg || *end || v < 1 || v > 64))
				return usage_error("xdp: --kern-queues '%s': a number from 1 to 64", optarg);
			if (c == 'M' && (!*optarg || *end || v < 576 || v > 65535))
				return usage_error("xdp: --mtu '%s': a number from 576 to 65535", optarg);
			if (c == 'K')
				o->lc.kern_queues = (unsigned int)v;
			else
				o->lc.mtu = (unsigned int)v;
			break;
		}
		case 'O': o->lc.kern_offloads = true; break;
		case 'n': o->ext_ns = optarg; break;
		case 'd': o->ext_dev = optarg; break;
		case 'i':
			if (inet_pton(AF_INET, optarg, &o->ext_ip) != 1)
				return usage_error("xdp: --ip '%s': an IPv4 address", optarg);
			o->ext_ip_s = optarg;
			break;
		case 'A': o->all = true; break;
		case 'H': o->hold = true; break;
		case 'j': o->json = true; break;
		case 'h': o->help = true; return 0;
		default:
			return usage_error("xdp: unknown option '%s' (see copylab xdp --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("xdp: unexpected argument '%s' (see copylab xdp --help)", argv[optind]);
	if (o->all && o->hold)
		return usage_error("xdp: --all and --hold do not go together: --hold keeps one mode open");
	if (o->all && (o->req.attach != XSK_ATTACH_AUTO || o->req.bind != XSK_BIND_AUTO))
		return usage_error("xdp: --all tries every mode itself: leave out --attach and --bind");
	if (!o->ext_ns != !o->ext_dev)
		return usage_error("xdp: --netns and --dev go together (a link in a namespace of your own)");
	if (o->ext_ip_s && !o->ext_ns)
		return usage_error("xdp: --ip is for --netns/--dev (the link made here answers for 10.214.X.2)");
	if (o->ext_ns && (o->lc.queues || o->lc.kern_queues || o->lc.mtu || o->lc.kern_offloads))
		return usage_error("xdp: --queues, --kern-queues, --mtu and --kern-offload shape the link made here, "
				   "not one given with --netns/--dev");
	if (!o->lc.queues)
		o->lc.queues = o->req.queue + 1;
	o->lc.steer_queue = o->req.queue;
	return 0;
}

/* The link the port opens on: a veth pair made here, or the user's (--netns/--dev).  0 or EXIT_RUN_FAILED. */
static int xdp_link(const struct xdp_options *o, struct xsk_link *lk)
{
	char err[512];

	if (o->ext_ns) {
		/* Someone else's link: opened, checked and closed, never removed. */
		memset(lk, 0, sizeof(*lk));
		snprintf(lk->netns, sizeof(lk->netns), "%s", o->ext_ns);
		lk->nsfd = -1;
		lk->owner = getpid();
		lk->port_ip = o->ext_ip;
		if (o->ext_ip_s)
			snprintf(lk->port_addr, sizeof(lk->port_addr), "%s", o->ext_ip_s);
		port_if = o->ext_dev;
		external = true;
	} else if (xsk_link_create(lk, &o->lc, err, sizeof(err))) {
		fprintf(stderr, "copylab: xdp: making the veth pair: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	return 0;
}

/* --json's object before its modes: the link and how it was asked for. */
static json_t *link_json(const struct xdp_options *o, const struct xsk_link *lk)
{
	json_t *top = json_object();

	json_object_set_new(top, "netns", json_string(lk->netns));
	json_object_set_new(top, "port_if", json_string(XSK_LINK_PORT_IF));
	json_object_set_new(top, "kern_if", json_string(XSK_LINK_KERN_IF));
	json_object_set_new(top, "port_ip", json_string(lk->port_addr));
	json_object_set_new(top, "kern_ip", json_string(lk->kern_addr));
	json_object_set_new(top, "queue", json_integer(o->req.queue));
	json_object_set_new(top, "queues", json_integer(o->lc.queues));
	json_object_set_new(top, "kern_queues", json_integer(o->lc.kern_queues ? o->lc.kern_queues : o->lc.queues));
	json_object_set_new(top, "mtu", json_integer(lk->mtu));
	json_object_set_new(top, "kern_offloads", json_boolean(o->lc.kern_offloads));
	return top;
}

/*
 * The mode asked, or with --all each forced mode and then auto, checked in
 * turn and printed as each ends (--json: one object at the end).  0 or
 * EXIT_RUN_FAILED.
 */
static int check_modes(const struct xdp_options *o, const struct xsk_link *lk)
{
	const struct xsk_port_request forced[] = {
		{ XSK_ATTACH_NATIVE, XSK_BIND_ZEROCOPY, o->req.queue }, { XSK_ATTACH_NATIVE, XSK_BIND_COPY, o->req.queue },
		{ XSK_ATTACH_GENERIC, XSK_BIND_ZEROCOPY, o->req.queue }, { XSK_ATTACH_GENERIC, XSK_BIND_COPY, o->req.queue },
		{ XSK_ATTACH_AUTO, XSK_BIND_AUTO, o->req.queue },
	};
	const struct xsk_port_request *list = o->all ? forced : &o->req;
	size_t n = o->all ? sizeof(forced) / sizeof(forced[0]) : 1;
	json_t *top = link_json(o, lk), *modes = json_array();
	int rc = 0;

	for (size_t i = 0; i < n && !run_interrupted; i++) {
		bool ok, refused;
		json_t *m = mode_check(lk, &list[i], &ok, &refused);

		/* Refused is a fact under --all; anything asked alone must work. */
		if (!ok && (!o->all || !refused || list[i].attach == XSK_ATTACH_AUTO))
			rc = EXIT_RUN_FAILED;
		if (!o->json)
			print_mode(m);
		fflush(stdout);
		json_array_append_new(modes, m);
	}
	if (run_interrupted) {
		fprintf(stderr, "copylab: xdp: stopped by signal %d\n", (int)run_interrupted);
		rc = EXIT_RUN_FAILED;
	}
	json_object_set_new(top, "modes", modes);
	if (o->json) {
		char *s = json_dumps(top, JSON_COMPACT);

		if (s)
			puts(s);
		free(s);
	}
	json_decref(top);
	return rc;
}

int cmd_xdp(int argc, char **argv)
{
	struct xdp_options o;
	struct xsk_link lk;
	int rc;

	if ((rc = xdp_parse(argc, argv, &o)))
		return rc;
	if (o.help) {
		fputs(xdp_help, stdout);
		return 0;
	}
	if (xsk_port_unavailable()) {
		fprintf(stderr, "copylab: xdp: %s\n", xsk_port_unavailable());
		return EXIT_RUN_FAILED;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "copylab: xdp: needs root (network namespaces, XDP programs and AF_XDP sockets)\n");
		return EXIT_RUN_FAILED;
	}
	catch_stop_signals();
	if ((rc = xdp_link(&o, &lk)))
		return rc;
	if (o.hold) {
		rc = hold(&lk, &o.req, o.json);
		xsk_link_destroy(&lk);
		return rc;
	}
	rc = check_modes(&o, &lk);
	xsk_link_destroy(&lk);
	if (rc && !o.json && !run_interrupted)
		fprintf(stderr, "copylab: xdp: %s\n", o.all ? "a mode that works here failed its check" :
			"the mode asked for did not work (see above)");
	return rc;
}
