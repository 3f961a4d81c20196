/* SPDX-License-Identifier: MIT */
/*
 * Transports: how two socket endpoints are connected.  The parent makes
 * each connected pair before it forks the roles, so no role races another
 * to listen or connect, and a pair made in other network namespaces (veth)
 * is still just two descriptors: a socket keeps working from any namespace.
 *
 *   tcp   127.0.0.1 in the caller's namespace (loopback)
 *   unix  AF_UNIX stream socketpair
 *   veth  two namespaces joined by a veth pair (the "link", made once per
 *         copylab invocation): up in namespace A, down in namespace B
 *   nic   a real interface to a second host running `copylab sink` /
 *         `copylab source` (harness/engine/remote.h makes those pairs)
 *   routed three namespaces A | R | B: two veth links with a router
 *         namespace (ip_forward=1) between them; a relay runs in R, and
 *         nat's DNAT rules go there
 *   lo-ns 127.0.0.1 inside a namespace of copylab's own whose lo has MTU
 *         LONS_MTU, so a TCP segment carries a whole number of pages (what
 *         TCP_ZEROCOPY_RECEIVE needs to map them); the host's lo is never
 *         touched
 *   userstack  the role under test's end in lwIP (copylab stackd, over a
 *         TAP), the other in the kernel's stack (harness/net/userstack_link.h)
 */
#ifndef COPYLAB_TRANSPORT_H
#define COPYLAB_TRANSPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strategies/strategy.h"

enum transport { TR_TCP, TR_UNIX, TR_VETH, TR_NIC, TR_ROUTED, TR_LONS, TR_USERSTACK, TR_COUNT };

/*
 * Which stretch of the path a pair covers.  Only `routed` tells them
 * apart: a relay there sits in the router namespace, so its inbound pair
 * runs from A to the router and its outbound one from the router to B;
 * a pair THROUGH runs from A to B, forwarded by the router.
 */
enum leg { LEG_THROUGH, LEG_TO_MIDDLE, LEG_FROM_MIDDLE };

struct sockopts {
	int sndbuf;		/* SO_SNDBUF, 0 = kernel default */
	int rcvbuf;		/* SO_RCVBUF, 0 = kernel default */
	bool nodelay;		/* TCP_NODELAY (request/response traffic) */
};

const char *transport_name(enum transport t);
int transport_find(const char *name);	/* -1 when unknown */
const char *transport_names(char *buf, size_t len);

/*
 * A connected stream pair: *up is the end that sends toward *down.
 * 0, or -errno with err naming the call that failed.  TR_VETH uses the
 * link of link_create(), creating one with the defaults if there is none;
 * TR_NIC pairs come from remote_role_begin(), not from here.
 */
int transport_pair(enum transport t, const struct sockopts *o, int *up, int *down,
		   char *err, size_t errlen);
/* The same for one stretch of the path (enum leg). */
int transport_pair_leg(enum transport t, enum leg leg, const struct sockopts *o, int *up, int *down,
		       char *err, size_t errlen);

/*
 * routed only: a pair whose *up end (in A) connects to an address of the
 * router, and whose *down end (in B) is the sink's listener.  Between
 * listen and connect, configure(arg, k) gets the front (router) and back
 * (sink) addresses in k and must make the kernel carry one to the other
 * (nat's DNAT); without it the connect would reach nothing.
 */
int transport_pair_via_router(enum transport t, const struct sockopts *o,
			      int (*configure)(void *arg, struct kernel_path *k), void *arg,
			      struct kernel_path *k, int *up, int *down, char *err, size_t errlen);
/* Runs argv inside the namespace k->netns (the kernel_path's exec_in_netns). */
int transport_exec_in_netns(struct kernel_path *k, char *const argv[]);

/* ---- the veth link: made once per invocation, torn down on every exit ---- */

#define LINK_DEFAULT_MTU 1500

struct link_config {
	unsigned mtu;		/* 0 = LINK_DEFAULT_MTU; 68..65535 */
	int offload;		/* -1 leave the veth defaults, 0 off, 1 on (TSO, GSO, GRO) */
	uint64_t rate_bps;	/* tbf on both veth ends, bits per second; 0 = none */
	double delay_s;		/* netem delay on both ends (one way); 0 = none */
	bool routed;		/* three namespaces A | R | B (transport routed), not two */
};

/*
 * Creates the two namespaces and the veth pair (names "copylab-<pid>-<id>-a"
 * and "-b", links "copylab-<id>a"/"b", addresses 10.213.X.1 and .2/24,
 * reachable only inside those namespaces) and applies cfg.  With
 * cfg->routed, three: "-a", "-r" and "-b", links copylab-<id>a/p (A to R,
 * 10.213.X.1 and .2) and copylab-<id>q/b (R to B, 10.213.X+1.1 and .2),
 * a route in A and B through R, and ip_forward=1 in R only.  Registers an
 * atexit teardown.  0, or a negative errno with err saying what failed:
 * -EOPNOTSUPP when this kernel lacks a qdisc cfg asks for (netem for
 * delay): a usage error, exit 2; -EEXIST when a link exists already.
 */
int link_create(const struct link_config *cfg, char *err, size_t errlen);
/* --rate: "100mbit", "1gbit", "500kbit", "2.5gbit" (powers of 1000; "bit" may be
 * left out).  --delay: "10ms", "250us", "0.5s".  0 or -EINVAL with err. */
int link_parse_rate(const char *s, uint64_t *bps, char *err, size_t errlen);
int link_parse_delay(const char *s, double *seconds, char *err, size_t errlen);
/* Removes namespaces, link and qdiscs.  Safe to call twice, and without a link. */
void link_destroy(void);
bool link_active(void);
/* In a forked role: close the namespace descriptors (and their locks) it inherited. */
void transport_close_inherited(void);
/* "copylab-123-ab12cd-a" etc.; NULL without a link. */
const char *link_netns_name(int side);	/* side 0 = A (up), 1 = B (down), 2 = R (routed) */
bool link_routed(void);

/* ---- lo-ns: one namespace whose loopback carries page-multiple segments ---- */

/*
 * 61492 = 15 * 4096 payload + 20 (IPv4) + 20 (TCP) + 12 (timestamps): the
 * MSS is 61440, fifteen pages, so every full segment can be mapped.
 */
#define LONS_MTU 61492

/*
 * Creates namespace "copylab-<pid>-<id>-lo" with its lo up at LONS_MTU (a
 * shared flock on it while it lives, an atexit teardown).  0, or a
 * negative errno with err saying what failed.  Safe to call when it exists.
 */
int lons_create(char *err, size_t errlen);
/* Removes it.  Safe to call twice, and when there is none. */
void lons_destroy(void);
/* Its name; NULL when there is none. */
const char *lons_netns_name(void);

/*
 * The transport's facts for env.json: MTU, offloads (ethtool -k of the
 * interface), qdisc; for nic the interface toward the peer, its driver and
 * speed.  peer (NULL unless nic) is the far address as "HOST:PORT".
 * Never NULL (an object with "error" when something cannot be read).
 */
json_t *transport_facts(enum transport t, const char *peer);

#endif
