/* SPDX-License-Identifier: MIT */
/*
 * nat: the relay with no relay process at all.  An nftables DNAT rule in
 * the router namespace of the `routed` transport rewrites the source's
 * connection to the router into one to the sink, and the kernel forwards
 * every packet between two veth links.  The strategy only writes and
 * removes the rule; the harness runs no process for the relay role.
 */
#include "strategy.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "ip daddr 10.213.7.2 tcp dport 40000 dnat to 10.213.8.2:40000" */
static void dnat_rule(const struct kernel_path *k, char *buf, size_t len)
{
	char front[INET_ADDRSTRLEN], back[INET_ADDRSTRLEN];
	struct in_addr f = { .s_addr = k->front_addr }, b = { .s_addr = k->back_addr };

	inet_ntop(AF_INET, &f, front, sizeof(front));
	inet_ntop(AF_INET, &b, back, sizeof(back));
	snprintf(buf, len, "ip daddr %s tcp dport %u dnat to %s:%u", front, ntohs(k->front_port), back,
		 ntohs(k->back_port));
}

/*
 * One nft invocation makes the table, its prerouting nat chain and the
 * rule, so either all of it exists or none does.  Replies of the
 * connection are un-NATed by conntrack: no rule for them.
 */
static int nat_configure(struct kernel_path *k)
{
	char rule[160], script[512];
	char *argv[] = { "nft", script, NULL };

	if (k->scenario != SC_RELAY || !k->exec_in_netns || !k->table[0] || !k->netns) {
		k->failed_call = "nat_configure";
		snprintf(k->err, sizeof(k->err), "nat configures a relay path only, in a named router namespace");
		return -EINVAL;
	}
	dnat_rule(k, rule, sizeof(rule));
	snprintf(script, sizeof(script),
		 "add table ip %s; "
		 "add chain ip %s prerouting { type nat hook prerouting priority dstnat; policy accept; }; "
		 "add rule ip %s prerouting %s",
		 k->table, k->table, k->table, rule);
	if (k->exec_in_netns(k, argv)) {
		k->failed_call = "nft add table";
		return -EIO;
	}
	k->configured = true;
	return 0;
}

static void nat_unconfigure(struct kernel_path *k)
{
	char *argv[] = { "nft", "delete", "table", "ip", k->table, NULL };

	if (!k->configured)
		return;
	/* The table also goes with the router namespace, should this fail. */
	if (k->exec_in_netns(k, argv))
		k->failed_call = "nft delete table";
	k->configured = false;
}

/* No process plays the relay: a harness that forks one anyway is refused. */
static int nat_setup(struct xfer *x)
{
	return (int)io_fail(x, "nat_has_no_process", EOPNOTSUPP);
}

static ssize_t nat_move(struct xfer *x)
{
	return io_fail(x, "nat_has_no_process", EOPNOTSUPP);
}

static void nat_teardown(struct xfer *x)
{
}

#define NAT_CONNECTIONS_ONLY "DNAT rewrites where a connection goes; it cannot read a file or memory, or write one"

const struct strategy strategy_nat = {
	.name = "nat",
	.summary = "nftables DNAT in a router namespace: the kernel forwards the connection, no relay process at all",
	.needs = "nftables DNAT with CAP_NET_ADMIN in a router namespace; the kernel forwards the connection: no process, so no inspection, logging or TLS termination in user space",
	.support = {
		[SC_SERVE] = { .why_not = NAT_CONNECTIONS_ONLY },
		[SC_SEND] = { .why_not = NAT_CONNECTIONS_ONLY },
		[SC_RELAY] = { .ok = true },
		[SC_FANOUT] = { .why_not = "DNAT forwards each packet to one place; no process is there to record the stream in a file" },
		[SC_STORE] = { .why_not = NAT_CONNECTIONS_ONLY },
		[SC_COPY] = { .why_not = NAT_CONNECTIONS_ONLY },
		[SC_ECHO] = { .why_not = "DNAT forwards a connection to another host; it cannot turn the bytes back to their sender" },
		[SC_PIPE] = { .why_not = NAT_CONNECTIONS_ONLY },
		[SC_RECV] = { .why_not = NAT_CONNECTIONS_ONLY },
	},
	.tunables = 0,
	.priv_size = 0,
	.setup = nat_setup,
	.move = nat_move,
	.teardown = nat_teardown,
	.af_unix_why_not = "AF_UNIX has no addresses to rewrite: DNAT works on IP packets",
	.needs_privilege = "nat writes nftables rules in a network namespace, which needs root (CAP_NET_ADMIN)",
	.only_transport = "routed",
	.elsewhere_why_not = "DNAT in PREROUTING acts on packets a router forwards: nat runs only over --transport routed "
			     "(a router namespace between two veth links); on loopback an OUTPUT DNAT is only a port rewrite, "
			     "and veth's two namespaces have no router between them",
	.role_replaced_by = "kernel NAT: an nftables DNAT rule in the router namespace; the kernel forwards every packet",
	.configure = nat_configure,
	.unconfigure = nat_unconfigure,
};
