// SPDX-License-Identifier: MIT
/*
 * The xdp backend: lwIP's frames through an AF_XDP socket (the frame port
 * of harness/net/xsk_port.c) on one end of a veth pair in stackd's
 * namespace.  The other end is named as the TAP would be (stackd gives it
 * the kernel's address and brings it up), so stackd does not know which
 * backend it has.  Each received frame is copied out of the UMEM into a
 * PBUF_RAM pbuf (why a copy: docs/transports.md, "AF_XDP on veth") and fed
 * to lwIP under the core lock on this backend's thread; lwIP's frames are
 * copied into a UMEM chunk (a chain of pbufs is flattened first).
 */
#include "netif_backend.h"

#include "harness/net/netns.h"
#include "harness/net/xsk_link.h"
#include "harness/net/xsk_port.h"

#include "lwip/opt.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define XDP_PORT_IF "copylab-xsk"	/* the port's end of the veth */

static struct xsk_port_request xdp_req = { XSK_ATTACH_AUTO, XSK_BIND_AUTO, 0 };
static struct xsk_port *xdp_port;
static struct xsk_port_facts xdp_facts;
static struct netif_counters xdp_counters;
static uint8_t xdp_mac[6];
static char xdp_kern_if[IFNAMSIZ];
static int xdp_stop[2] = { -1, -1 };
static pthread_t xdp_thread;
static bool xdp_thread_started;

int netif_xdp_select(const char *spec)
{
	if (*spec && *spec++ != ':')
		return -EINVAL;
	return xsk_mode_parse(spec, &xdp_req);
}

const struct xsk_port_facts *netif_xdp_facts(void)
{
	return xdp_port ? &xdp_facts : NULL;
}

/* The port end's MAC becomes lwIP's: the kernel's neighbour entry then names a real interface. */
static int port_mac(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", XDP_PORT_IF);
	r = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(fd);
	if (!r)
		memcpy(xdp_mac, ifr.ifr_hwaddr.sa_data, 6);
	return r;
}

/*
 * In the namespace: the veth (ifname is the kernel's end, as a TAP would
 * be), the kernel end's offloads off (full checksums, no frame above the
 * MTU), the port's end up, the port opened on it.
 */
static int xdp_open(int nsfd, const char *ifname, char *err, size_t errlen)
{
	char perr[1024];
	int saved, r;

	if ((r = netns_enter(nsfd, &saved))) {
		snprintf(err, errlen, "setns into the stack's namespace: %s", strerror(-r));
		return r;
	}
	snprintf(xdp_kern_if, sizeof(xdp_kern_if), "%s", ifname);
	/* ip runs as a child of this thread, so in this namespace. */
	if (netns_cmd(NULL, 0, err, errlen, "ip", "link", "add", ifname, "type", "veth", "peer", "name", XDP_PORT_IF,
		      NULL)) {
		r = -EIO;
		goto back;
	}
	if ((r = xsk_link_offloads_off(-1, ifname, err, errlen)))
		goto undo;
	if (netns_cmd(NULL, 0, err, errlen, "ip", "link", "set", XDP_PORT_IF, "up", NULL)) {
		r = -EIO;
		goto undo;
	}
	if ((r = port_mac())) {
		snprintf(err, errlen, "SIOCGIFHWADDR on %s: %s", XDP_PORT_IF, strerror(-r));
		goto undo;
	}
	if ((r = xsk_port_open(&xdp_port, NULL, XDP_PORT_IF, &xdp_req, &xdp_facts, perr, sizeof(perr)))) {
		snprintf(err, errlen, "%s", perr);
		goto undo;
	}
	if (pipe2(xdp_stop, O_CLOEXEC)) {
		r = -errno;
		snprintf(err, errlen, "pipe2: %s", strerror(errno));
		goto undo;
	}
	goto back;
undo:
	if (xdp_port)
		xsk_port_close(xdp_port);
	xdp_port = NULL;
	netns_cmd(NULL, 0, NULL, 0, "ip", "link", "del", ifname, NULL);
back:
	if (netns_leave(saved) && !r) {
		r = -EIO;
		snprintf(err, errlen, "setns back from the stack's namespace");
	}
	return r;
}

/*
 * lwIP's linkoutput: the frame into a UMEM chunk (xsk_port_send).  A frame
 * in one pbuf goes as it is (every one of 17,301 frames of a 16 MiB send
 * and receive, data and ACKs, when counted); a chain is flattened into one
 * buffer first, one copy more.
 */
static err_t xdp_linkoutput(struct netif *nif, struct pbuf *p)
{
	uint8_t frame[4096];
	const void *data = p->payload;
	u16_t n = p->tot_len;
	int r;

	if (p->tot_len > xdp_facts.max_frame || p->tot_len > sizeof(frame))
		return ERR_IF;
	if (p->next) {
		n = pbuf_copy_partial(p, frame, p->tot_len, 0);
		data = frame;
	}
	/* -EAGAIN: every TX chunk still in flight; copy mode completes inside sendto, so briefly. */
	for (int tries = 0; (r = xsk_port_send(xdp_port, data, n)) == -EAGAIN && tries < 100; tries++)
		sched_yield();
	if (r)
		return ERR_IF;
	return ERR_OK;
}

static err_t xdp_netif_init(struct netif *nif)
{
	nif->name[0] = 'x';
	nif->name[1] = 'p';
	nif->output = etharp_output;
	nif->linkoutput = xdp_linkoutput;
	nif->mtu = 1500;
	nif->hwaddr_len = 6;
	memcpy(nif->hwaddr, xdp_mac, 6);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* Counters for the record, from the port's own (a syscall is a poll or a sendto wake-up). */
static void counters_update(uint64_t polls)
{
	struct xsk_port_stats st;

	xsk_port_counts(xdp_port, &st);	/* no syscall of its own: it would count in the figures */
	__atomic_store_n(&xdp_counters.rx_frames, st.rx_frames, __ATOMIC_RELAXED);
	__atomic_store_n(&xdp_counters.rx_bytes, st.rx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&xdp_counters.tx_frames, st.tx_frames, __ATOMIC_RELAXED);
	__atomic_store_n(&xdp_counters.tx_bytes, st.tx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&xdp_counters.rx_syscalls, polls, __ATOMIC_RELAXED);
	__atomic_store_n(&xdp_counters.tx_syscalls, st.tx_kicks, __ATOMIC_RELAXED);
}

/* The receive thread: poll when the ring is empty, else copy frames out and feed lwIP. */
static void *xdp_rx_loop(void *arg)
{
	struct netif *nif = arg;
	struct pbuf *p = NULL;
	uint64_t polls = 0;

	for (;;) {
		struct pollfd pf[2] = { { .fd = xsk_port_fd(xdp_port), .events = POLLIN },
					{ .fd = xdp_stop[0], .events = POLLIN } };
		ssize_t n;

		if (!p && !(p = pbuf_alloc(PBUF_RAW, (u16_t)xdp_facts.max_frame, PBUF_RAM))) {
			usleep(1000);
			continue;
		}
		n = xsk_port_recv(xdp_port, p->payload, xdp_facts.max_frame);
		if (n == -EAGAIN) {
			counters_update(polls);
			polls++;
			if (poll(pf, 2, -1) < 0 && errno != EINTR)
				break;
			if (pf[1].revents)
				break;
			continue;
		}
		if (n < 0)
			break;
		pbuf_realloc(p, (u16_t)n);
		LOCK_TCPIP_CORE();
		if (nif->input(p, nif) != ERR_OK)
			pbuf_free(p);
		UNLOCK_TCPIP_CORE();
		p = NULL;
	}
	if (p)
		pbuf_free(p);
	return NULL;
}

static int xdp_start(struct netif *nif, char *err, size_t errlen)
{
	int r = pthread_create(&xdp_thread, NULL, xdp_rx_loop, nif);

	if (r) {
		snprintf(err, errlen, "the AF_XDP receive thread: %s", strerror(r));
		return -r;
	}
	xdp_thread_started = true;
	return 0;
}

/* Every exit path of stackd: the thread stopped first, then the port detached. */
static void xdp_close(void)
{
	if (xdp_thread_started) {
		if (write(xdp_stop[1], "x", 1) == 1)
			pthread_join(xdp_thread, NULL);
		xdp_thread_started = false;
	}
	if (xdp_port) {
		counters_update(xdp_counters.rx_syscalls);
		xsk_port_close(xdp_port);
	}
	xdp_port = NULL;
	for (int i = 0; i < 2; i++) {
		if (xdp_stop[i] >= 0)
			close(xdp_stop[i]);
		xdp_stop[i] = -1;
	}
}

const struct netif_backend netif_xdp = {
	.name = "xdp",
	.open = xdp_open,
	.netif_init = xdp_netif_init,
	.start = xdp_start,
	.close = xdp_close,
	.counters = &xdp_counters,
};
