/* SPDX-License-Identifier: MIT */
/*
 * Ethernet frames by hand, for checking a frame port without a TCP/IP
 * stack: answering ARP for one address, ICMP echo, and UDP echo, and
 * building one UDP/IPv4 datagram.  Checksums are always computed afresh:
 * a veth peer with checksum offload hands over frames whose UDP checksum
 * is only the pseudo-header's (CHECKSUM_PARTIAL), and a frame sent from a
 * port reaches the kernel as CHECKSUM_NONE, so an echoed partial checksum
 * would be dropped.
 */
#ifndef COPYLAB_ETHFRAME_H
#define COPYLAB_ETHFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHFRAME_HDR_UDP (14 + 20 + 8)	/* Ethernet + IPv4 (no options) + UDP */

/* The address a port answers for (ip in network byte order). */
struct ethframe_host {
	uint8_t mac[6];
	uint32_t ip;
};

/* What the responder saw, by kind. */
struct ethframe_counts {
	uint64_t arp_replies, icmp_replies, udp_echoed, udp_bad_csum, ignored;
};

/* The Internet checksum of data, continuing from a partial sum. */
uint16_t ethframe_csum(const void *data, size_t len, uint32_t sum);

/*
 * The answer to in (len bytes) from host h, written to out (cap bytes):
 * an ARP reply to a request for h->ip, an echo reply to an ICMP echo
 * request to h->ip, the same UDP datagram back with addresses and ports
 * swapped.  Its length, or 0 when the frame needs no answer.  When the
 * frame is UDP to h, udp_payload and udp_len (may be NULL) point at its
 * payload inside in.
 */
size_t ethframe_answer(const struct ethframe_host *h, const uint8_t *in, size_t len, uint8_t *out,
		       size_t cap, struct ethframe_counts *c, const uint8_t **udp_payload, size_t *udp_len);

/*
 * One UDP/IPv4 frame from (smac, sip, sport) to (dmac, dip, dport), with
 * payload; addresses and ports in network byte order.  Its length, or 0
 * when it does not fit cap.
 */
size_t ethframe_udp(uint8_t *out, size_t cap, const uint8_t smac[6], const uint8_t dmac[6], uint32_t sip,
		    uint32_t dip, uint16_t sport, uint16_t dport, const void *payload, size_t plen);

/* A UDP/IPv4 frame's checksums are right (UDP checksum 0 counts as right). */
bool ethframe_udp_valid(const uint8_t *frame, size_t len);

#endif
