/* SPDX-License-Identifier: MIT */
/*
 * A frame port over an AF_XDP socket: what a TAP descriptor is to the TAP
 * backend, this is to the xdp backend of the user-space stack.  It binds
 * one queue of one interface inside a network namespace, attaches
 * libxdp's default XSK program (which redirects that queue's frames into
 * the socket), and moves whole Ethernet frames in and out through a UMEM.
 * It records the facts: the XDP attach mode used (native or generic), copy
 * or zero-copy bind, and every mode it tried that the kernel refused, with
 * the errno and the kernel's own message.  Closing it (or any failure
 * half-way through opening it) detaches the program it attached.
 */
#ifndef COPYLAB_XSK_PORT_H
#define COPYLAB_XSK_PORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the XDP program runs: in the driver (veth's NAPI) or on the skb. */
enum xsk_attach {
	XSK_ATTACH_AUTO,	/* native, then generic */
	XSK_ATTACH_NATIVE,	/* XDP_FLAGS_DRV_MODE: ip link shows "xdp" */
	XSK_ATTACH_GENERIC,	/* XDP_FLAGS_SKB_MODE: ip link shows "xdpgeneric" */
};

/* How the socket is bound: frames copied into the UMEM, or DMA'd there. */
enum xsk_bind {
	XSK_BIND_AUTO,		/* zero-copy, then copy */
	XSK_BIND_ZEROCOPY,	/* XDP_ZEROCOPY */
	XSK_BIND_COPY,		/* XDP_COPY */
};

struct xsk_port_request {
	enum xsk_attach attach;
	enum xsk_bind bind;
	unsigned int queue;	/* the rx queue to bind (0 on a one-queue veth) */
};

/* One mode the port tried and the kernel refused. */
struct xsk_refusal {
	enum xsk_attach attach;
	enum xsk_bind bind;
	const char *step;	/* "attach" (netlink) or "bind" */
	int err;		/* positive errno */
	char message[160];	/* the kernel's extack message, or "" */
};

#define XSK_MAX_REFUSALS 4

struct xsk_port_facts {
	char ifname[32];
	char netns[64];
	unsigned int queue;
	unsigned int rx_queues;		/* the interface's rx queue count */
	enum xsk_attach attach;		/* the mode in use (never AUTO) */
	enum xsk_bind bind;		/* the bind in use (never AUTO) */
	uint32_t prog_id;		/* the attached program (bpftool prog show id N) */
	uint32_t frame_size;		/* one UMEM chunk */
	uint32_t max_frame;		/* the longest frame send/recv carry */
	int n_refused;
	struct xsk_refusal refused[XSK_MAX_REFUSALS];
};

struct xsk_port_stats {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t tx_kicks;		/* sendto() wake-ups: copy mode's TX is a syscall */
	uint64_t rx_dropped;		/* XDP_STATISTICS rx_dropped + rx_ring_full */
	uint64_t rx_truncated;		/* frames longer than the caller's buffer */
};

struct xsk_port;

/* "auto", "native", "generic" / "auto", "zerocopy", "copy": 0, or -EINVAL. */
int xsk_attach_parse(const char *s, enum xsk_attach *out);
int xsk_bind_parse(const char *s, enum xsk_bind *out);
/*
 * A mode as words joined by ':' ("native", "generic:copy", "zerocopy",
 * "" for auto): at most one attach word and one bind word, any order.
 * 0 with *req set (queue untouched), or -EINVAL.
 */
int xsk_mode_parse(const char *spec, struct xsk_port_request *req);
const char *xsk_attach_name(enum xsk_attach a);
const char *xsk_bind_name(enum xsk_bind b);

/*
 * Opens the port on ifname inside the named network namespace (NULL or ""
 * for the calling thread's, which the port keeps, so closing it from
 * another thread or namespace still detaches in the right one).  Tries the modes the request allows, in order
 * native/zero-copy, native/copy, generic/zero-copy, generic/copy, and keeps
 * the first that works.  0 and *out, or -errno with err saying what failed
 * and, when every allowed mode was refused, each refusal (facts, if not
 * NULL, gets them too).  Nothing stays attached when it fails.
 */
int xsk_port_open(struct xsk_port **out, const char *netns, const char *ifname,
		  const struct xsk_port_request *req, struct xsk_port_facts *facts,
		  char *err, size_t errlen);

/*
 * Receiving and sending touch separate rings: one thread may receive while
 * another sends, each of them serialised on its own (the xdp backend of
 * stackd receives on its thread and sends under lwIP's core lock).
 */

/* Readable (POLLIN) when a received frame is waiting. */
int xsk_port_fd(const struct xsk_port *p);

/*
 * Copies the next received frame into buf.  Its length, or -EAGAIN when
 * none is waiting.  A frame longer than len is truncated to len and
 * counted in rx_truncated (the caller sizes buf from facts.max_frame).
 */
ssize_t xsk_port_recv(struct xsk_port *p, void *buf, size_t len);

/*
 * Queues one frame for transmission (copied into a UMEM chunk) and wakes
 * the kernel.  0, -EAGAIN when every TX chunk is still in flight,
 * -EMSGSIZE when len exceeds facts.max_frame.
 */
int xsk_port_send(struct xsk_port *p, const void *frame, size_t len);

const struct xsk_port_facts *xsk_port_facts(const struct xsk_port *p);
/* The counters, with the kernel's drop counts (one XDP_STATISTICS getsockopt). */
void xsk_port_stats(const struct xsk_port *p, struct xsk_port_stats *st);
/* The counters alone, no syscall (rx_dropped left 0): for a hot loop. */
void xsk_port_counts(const struct xsk_port *p, struct xsk_port_stats *st);

/* The facts as JSON: {"ifname", "attach", "bind", "refused": [...], ...}. */
json_t *xsk_facts_json(const struct xsk_port_facts *f);

/*
 * Detaches the program (only if it is still ours), closes the socket and
 * frees the UMEM.  0, or -errno of the detach (the rest is done anyway).
 */
int xsk_port_close(struct xsk_port *p);

/* Why this build has no AF_XDP port, or NULL when it has one. */
const char *xsk_port_unavailable(void);

#endif
