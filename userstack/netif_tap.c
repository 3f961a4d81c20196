// SPDX-License-Identifier: MIT
/*
 * The TAP backend: a TAP device in stackd's namespace; the kernel's stack
 * is its other side.  Each received frame is read straight into a PBUF_RAM
 * pbuf of the frame's size (one read, no copy in between): Debian's stock
 * tapif allocates from the pbuf pool sized by a TCP_MSS its callers do not
 * agree on, and overflows on the first full-size frame (issue 12).
 */
#include "netif_backend.h"

#include "lwip/opt.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define TAP_FRAME_MAX 1518	/* MTU 1500 + Ethernet header + VLAN tag */

static int tap_fd = -1;
static struct netif_counters tap_counters;
static pthread_t tap_thread;

static int tap_open(int nsfd, const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), r = 0;

	if (saved < 0) {
		snprintf(err, errlen, "open /proc/self/ns/net: %s", strerror(errno));
		return -errno;
	}
	/* A TAP is made in the namespace of the thread that opens it. */
	if (setns(nsfd, CLONE_NEWNET)) {
		r = -errno;
		snprintf(err, errlen, "setns into the stack's namespace: %s", strerror(errno));
		close(saved);
		return r;
	}
	tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "open /dev/net/tun: %s", strerror(errno));
		goto back;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* No IFF_VNET_HDR and no offloads: the kernel sends whole, checksummed MTU frames. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(tap_fd, TUNSETIFF, &ifr)) {
		r = -errno;
		snprintf(err, errlen, "TUNSETIFF %s: %s", ifname, strerror(errno));
		close(tap_fd);
		tap_fd = -1;
	}
back:
	if (setns(saved, CLONE_NEWNET) && !r) {
		r = -errno;
		snprintf(err, errlen, "setns back: %s", strerror(errno));
	}
	close(saved);
	return r;
}

/* lwIP's linkoutput: one writev per frame, over the pbuf chain (no flattening copy). */
static err_t tap_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct iovec iov[16];
	int n = 0;
	ssize_t w;

	for (struct pbuf *q = p; q && n < 16; q = q->next)
		iov[n++] = (struct iovec){ q->payload, q->len };
	do
		w = writev(tap_fd, iov, n);
	while (w < 0 && errno == EINTR);
	__atomic_add_fetch(&tap_counters.tx_syscalls, 1, __ATOMIC_RELAXED);
	if (w < 0)
		return ERR_IF;
	__atomic_add_fetch(&tap_counters.tx_frames, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tap_counters.tx_bytes, (uint64_t)w, __ATOMIC_RELAXED);
	return ERR_OK;
}

static err_t tap_netif_init(struct netif *nif)
{
	/* A locally administered MAC, distinct from the kernel side's. */
	static const uint8_t mac[6] = { 0x02, 0xc0, 0x91, 0xab, 0x00, 0x02 };

	nif->name[0] = 't';
	nif->name[1] = 'p';
	nif->output = etharp_output;
	nif->linkoutput = tap_linkoutput;
	nif->mtu = 1500;
	nif->hwaddr_len = 6;
	memcpy(nif->hwaddr, mac, 6);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* The receive thread: one read per frame into its own pbuf, fed to lwIP under the core lock. */
static void *tap_rx_loop(void *arg)
{
	struct netif *nif = arg;

	for (;;) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, TAP_FRAME_MAX, PBUF_RAM);
		ssize_t n;

		if (!p) {
			usleep(1000);
			continue;
		}
		do
			n = read(tap_fd, p->payload, TAP_FRAME_MAX);
		while (n < 0 && errno == EINTR);
		__atomic_add_fetch(&tap_counters.rx_syscalls, 1, __ATOMIC_RELAXED);
		if (n <= 0) {
			pbuf_free(p);
			if (n < 0 && errno == EBADFD)
				return NULL;
			if (n < 0 && (errno == EBADF || errno == EFAULT))
				return NULL;
			continue;
		}
		__atomic_add_fetch(&tap_counters.rx_frames, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&tap_counters.rx_bytes, (uint64_t)n, __ATOMIC_RELAXED);
		pbuf_realloc(p, (u16_t)n);
		/* Straight into ethernet_input: no hand-off to the tcpip thread per frame. */
		LOCK_TCPIP_CORE();
		if (nif->input(p, nif) != ERR_OK)
			pbuf_free(p);
		UNLOCK_TCPIP_CORE();
	}
	return NULL;
}

static int tap_start(struct netif *nif, char *err, size_t errlen)
{
	int r = pthread_create(&tap_thread, NULL, tap_rx_loop, nif);

	if (r) {
		snprintf(err, errlen, "the TAP receive thread: %s", strerror(r));
		return -r;
	}
	return 0;
}

static void tap_close(void)
{
	if (tap_fd >= 0)
		close(tap_fd);
	tap_fd = -1;
}

const struct netif_backend netif_tap = {
	.name = "tap",
	.open = tap_open,
	.netif_init = tap_netif_init,
	.start = tap_start,
	.close = tap_close,
	.counters = &tap_counters,
};

const struct netif_backend *netif_backend_find(const char *name)
{
	static const struct netif_backend *const all[] = { &netif_tap, &netif_xdp };

	/* "xdp" may carry its mode: "xdp:generic:copy". */
	if (!strncmp(name, "xdp", 3) && (name[3] == '\0' || name[3] == ':'))
		return netif_xdp_select(name + 3) ? NULL : &netif_xdp;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
