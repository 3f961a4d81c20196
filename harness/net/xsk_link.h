/* SPDX-License-Identifier: MIT */
/*
 * The link an AF_XDP port binds to: one network namespace of its own,
 * copylab-<pid>-<id>-x, holding a veth pair.  The kernel's end ("kern0")
 * carries 10.214.X.1/24; the port's end ("xsk0") has no address, because
 * whatever sits on the port (copylab xdp's responder, or lwIP in stackd)
 * answers for 10.214.X.2 itself.  Nothing outside the namespace is touched,
 * and removing the namespace removes the veth with any XDP program on it.
 */
#ifndef COPYLAB_XSK_LINK_H
#define COPYLAB_XSK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XSK_LINK_PORT_IF "xsk0"
#define XSK_LINK_KERN_IF "kern0"

struct xsk_link_config {
	unsigned int queues;	/* rx and tx queues of the port's end (0: 1) */
	unsigned int kern_queues;	/* of the kernel's end (0: as queues) */
	unsigned int mtu;	/* 0: 1500 */
	/*
	 * The rx queue of the port's end that every frame from the kernel's
	 * end lands in (XPS on the kernel's end: its tx queue N is the port's
	 * rx queue N).  Only when the ends have more than one queue.
	 */
	unsigned int steer_queue;
	/*
	 * Leave the kernel's end with veth's offloads.  Off by default: with
	 * TX checksum offload the port receives UDP/TCP with only the
	 * pseudo-header's checksum, and with TSO/GSO frames larger than a
	 * UMEM chunk, neither of which a user-space stack can take.
	 */
	bool kern_offloads;
};

struct xsk_link {
	char netns[48];
	int nsfd;		/* holds a shared flock: in use, for copylab cleanup */
	pid_t owner;
	uint32_t kern_ip, port_ip;	/* network byte order */
	char kern_addr[16], port_addr[16];
	uint8_t kern_mac[6];
	unsigned int mtu;
	bool made;
};

/*
 * The kernel's end of a port's link made fit for a user-space stack: TX
 * checksum offload, TSO, GSO and GRO off (full checksums, frames no larger
 * than the MTU).  ifname in the namespace of nsfd, -1 for the caller's.
 */
int xsk_link_offloads_off(int nsfd, const char *ifname, char *err, size_t errlen);

/* 0, or -errno with err naming the command that failed.  Undone on failure. */
int xsk_link_create(struct xsk_link *l, const struct xsk_link_config *c, char *err, size_t errlen);
/* Removes the namespace (and the veth with it); only in the process that made it. */
void xsk_link_destroy(struct xsk_link *l);
/* A socket of type (SOCK_DGRAM ...) made inside the namespace, or -errno. */
int xsk_link_socket(const struct xsk_link *l, int type);
/* The XDP program on ifname inside the namespace per `ip -o link`: its id, 0 if none, -errno. */
long xsk_link_xdp_prog(const struct xsk_link *l, const char *ifname, char *mode, size_t mlen);

#endif
