/* SPDX-License-Identifier: MIT */
/*
 * Where stackd's frames come from and go to: a small table of backends
 * (tap, and xdp in netif_xdp.c).  A
 * backend opens its device inside the stack's namespace, reads frames on a
 * thread of its own and hands each to lwIP as one PBUF_RAM pbuf, and sends
 * lwIP's frames out.  Only netif_*.c and stackd_lwip.c include lwIP.
 */
#ifndef COPYLAB_USERSTACK_NETIF_BACKEND_H
#define COPYLAB_USERSTACK_NETIF_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct netif;

/* Frames and syscalls the backend made, for the record (read without locks). */
struct netif_counters {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t rx_syscalls, tx_syscalls;
};

struct netif_backend {
	const char *name;
	/*
	 * Creates the device in the namespace of nsfd (the calling thread is
	 * moved there and back), named ifname.  0 or -errno with err.
	 */
	int (*open)(int nsfd, const char *ifname, char *err, size_t errlen);
	/* The lwIP netif init function (netif_add's init argument). */
	int8_t (*netif_init)(struct netif *nif);
	/* Starts the receive thread, which feeds nif under the core lock. */
	int (*start)(struct netif *nif, char *err, size_t errlen);
	void (*close)(void);
	const struct netif_counters *counters;
};

extern const struct netif_backend netif_tap;
/* AF_XDP on a veth pair (netif_xdp.c, over harness/net/xsk_port.c). */
extern const struct netif_backend netif_xdp;

/*
 * The xdp backend's mode from what follows "xdp" in --netif: "" (auto),
 * ":native", ":generic", ":zerocopy", ":copy", or one of each
 * (":generic:copy").  0, or -EINVAL.
 */
int netif_xdp_select(const char *spec);
struct xsk_port_facts;
/* What the xdp backend's port uses and what the kernel refused; NULL before it opens. */
const struct xsk_port_facts *netif_xdp_facts(void);

/* By name ("tap", "xdp", "xdp:native:copy"...), or NULL. */
const struct netif_backend *netif_backend_find(const char *name);

#endif
