/* SPDX-License-Identifier: MIT */
/* ARP, ICMP echo and UDP echo answers, and a UDP frame builder (ethframe.h). */
#include "ethframe.h"

#include <arpa/inet.h>
#include <string.h>

#define ETH_P_IP_	0x0800
#define ETH_P_ARP_	0x0806
#define IPPROTO_ICMP_	1
#define IPPROTO_UDP_	17

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum_add(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t ethframe_csum(const void *data, size_t len, uint32_t sum)
{
	return sum_fold(sum_add(data, len, sum));
}

/* The UDP checksum of the datagram at udp (header and payload, ulen bytes). */
static uint16_t udp_csum(const uint8_t *ip, const uint8_t *udp, size_t ulen)
{
	uint32_t sum = sum_add(ip + 12, 8, 0);	/* source and destination addresses */
	uint16_t c;

	sum += IPPROTO_UDP_;
	sum += (uint32_t)ulen;
	c = sum_fold(sum_add(udp, ulen, sum));
	return c ? c : 0xffff;			/* 0 means "no checksum" in IPv4 */
}

/* Header length, or 0 when ip (len bytes) is not a whole, unfragmented IPv4 packet. */
static size_t ipv4_header(const uint8_t *ip, size_t len)
{
	size_t ihl;

	if (len < 20 || ip[0] >> 4 != 4)
		return 0;
	ihl = (size_t)(ip[0] & 15) * 4;
	if (ihl < 20 || ihl > len || get16(ip + 2) < ihl || get16(ip + 2) > len)
		return 0;
	if (get16(ip + 6) & 0x3fff)		/* MF or a fragment offset */
		return 0;
	return ihl;
}

bool ethframe_udp_valid(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *udp;
	size_t ihl, ulen;

	if (len < 14 || get16(f + 12) != ETH_P_IP_ || !(ihl = ipv4_header(ip, len - 14)) || ip[9] != IPPROTO_UDP_)
		return false;
	if (ethframe_csum(ip, ihl, 0) != 0)
		return false;
	udp = ip + ihl;
	ulen = get16(ip + 2) - ihl;
	if (ulen < 8 || get16(udp + 4) != ulen)
		return false;
	if (get16(udp + 6) == 0)
		return true;
	uint32_t sum = sum_add(ip + 12, 8, 0) + IPPROTO_UDP_ + (uint32_t)ulen;

	return sum_fold(sum_add(udp, ulen, sum)) == 0;
}

static size_t arp_answer(const struct ethframe_host *h, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	const uint8_t *a = in + 14;

	if (len < 14 + 28 || cap < 14 + 28)
		return 0;
	/* Ethernet/IPv4 request for our address. */
	if (get16(a) != 1 || get16(a + 2) != ETH_P_IP_ || a[4] != 6 || a[5] != 4 || get16(a + 6) != 1 ||
	    memcmp(a + 24, &h->ip, 4))
		return 0;
	memcpy(out, in + 6, 6);			/* to the asker */
	memcpy(out + 6, h->mac, 6);
	put16(out + 12, ETH_P_ARP_);
	uint8_t *r = out + 14;

	put16(r, 1);
	put16(r + 2, ETH_P_IP_);
	r[4] = 6;
	r[5] = 4;
	put16(r + 6, 2);			/* reply */
	memcpy(r + 8, h->mac, 6);
	memcpy(r + 14, &h->ip, 4);
	memcpy(r + 18, a + 8, 6);		/* the asker's hardware and protocol address */
	memcpy(r + 24, a + 14, 4);
	return 14 + 28;
}

/* The frame back to where it came from: MACs and IPv4 addresses swapped. */
static void ipv4_turn(const uint8_t *in, uint8_t *out, size_t len)
{
	memcpy(out, in, len);
	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	memcpy(out + 14 + 12, in + 14 + 16, 4);
	memcpy(out + 14 + 16, in + 14 + 12, 4);
	out[14 + 8] = 64;			/* a fresh TTL */
	put16(out + 14 + 10, 0);
}

size_t ethframe_answer(const struct ethframe_host *h, const uint8_t *in, size_t len, uint8_t *out,
		       size_t cap, struct ethframe_counts *c, const uint8_t **udp_payload, size_t *udp_len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t *ip = in + 14;
	size_t ihl, tot, n;

	if (udp_payload)
		*udp_payload = NULL;
	if (udp_len)
		*udp_len = 0;
	if (len < 14 || (memcmp(in, h->mac, 6) && memcmp(in, bcast, 6)))
		goto ignore;
	if (get16(in + 12) == ETH_P_ARP_) {
		if (!(n = arp_answer(h, in, len, out, cap)))
			goto ignore;
		c->arp_replies++;
		return n;
	}
	if (get16(in + 12) != ETH_P_IP_ || !(ihl = ipv4_header(ip, len - 14)) || memcmp(ip + 16, &h->ip, 4))
		goto ignore;
	tot = get16(ip + 2);
	n = 14 + tot;				/* without the Ethernet padding */
	if (n > cap)
		goto ignore;
	if (ip[9] == IPPROTO_ICMP_ && tot - ihl >= 8 && ip[ihl] == 8 && ip[ihl + 1] == 0) {
		ipv4_turn(in, out, n);
		uint8_t *icmp = out + 14 + ihl;

		icmp[0] = 0;			/* echo reply */
		put16(icmp + 2, 0);
		put16(icmp + 2, ethframe_csum(icmp, tot - ihl, 0));
		put16(out + 14 + 10, ethframe_csum(out + 14, ihl, 0));
		c->icmp_replies++;
		return n;
	}
	if (ip[9] == IPPROTO_UDP_ && tot - ihl >= 8 && get16(ip + ihl + 4) == tot - ihl) {
		const uint8_t *udp = ip + ihl;

		/* Partial (offloaded) checksums are counted, not trusted: recomputed below. */
		if (!ethframe_udp_valid(in, len))
			c->udp_bad_csum++;
		if (udp_payload)
			*udp_payload = udp + 8;
		if (udp_len)
			*udp_len = tot - ihl - 8;
		ipv4_turn(in, out, n);
		uint8_t *u = out + 14 + ihl;

		put16(u, get16(udp + 2));
		put16(u + 2, get16(udp));
		put16(u + 6, 0);
		put16(u + 6, udp_csum(out + 14, u, tot - ihl));
		put16(out + 14 + 10, ethframe_csum(out + 14, ihl, 0));
		c->udp_echoed++;
		return n;
	}
ignore:
	c->ignored++;
	return 0;
}

size_t ethframe_udp(uint8_t *out, size_t cap, const uint8_t smac[6], const uint8_t dmac[6], uint32_t sip,
		    uint32_t dip, uint16_t sport, uint16_t dport, const void *payload, size_t plen)
{
	size_t n = ETHFRAME_HDR_UDP + plen;
	uint8_t *ip = out + 14, *u = ip + 20;

	if (n > cap || 20 + 8 + plen > 65535)
		return 0;
	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	put16(out + 12, ETH_P_IP_);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + plen));
	put16(ip + 6, 0x4000);			/* don't fragment */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP_;
	memcpy(ip + 12, &sip, 4);
	memcpy(ip + 16, &dip, 4);
	put16(ip + 10, ethframe_csum(ip, 20, 0));
	memcpy(u, &sport, 2);
	memcpy(u + 2, &dport, 2);
	put16(u + 4, (uint16_t)(8 + plen));
	put16(u + 6, 0);
	memcpy(u + 8, payload, plen);
	put16(u + 6, udp_csum(ip, u, 8 + plen));
	return n;
}
