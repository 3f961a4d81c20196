/* SPDX-License-Identifier: MIT */
/*
 * The frames copylab xdp's responder answers with (harness/net/ethframe.c):
 * the checksum against a published vector and an independent reference, ARP
 * replies, ICMP and UDP echoes with fresh checksums (also when the frame came
 * in with only an offloaded partial checksum), and every frame that is not
 * for the port left unanswered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "harness/net/ethframe.h"

static const uint8_t host_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 }, peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct ethframe_host host(void)
{
	struct ethframe_host h;

	memcpy(h.mac, host_mac, 6);
	inet_pton(AF_INET, "10.214.7.2", &h.ip);
	return h;
}

static uint32_t ip_of(const char *s)
{
	uint32_t a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* RFC 1071 written differently: 32-bit words summed, then folded. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint64_t sum)
{
	size_t i = 0;

	for (; i + 4 <= len; i += 4)
		sum += (uint64_t)p[i] << 24 | (uint64_t)p[i + 1] << 16 | (uint64_t)p[i + 2] << 8 | p[i + 3];
	for (; i < len; i++)		/* the last word, zero-padded */
		sum += (uint64_t)p[i] << (24 - 8 * (i % 4));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP checksum a receiver computes, by the reference: 0 when right. */
static uint16_t ref_udp_check(const uint8_t *frame)
{
	const uint8_t *ip = frame + 14;
	size_t ihl = (size_t)(ip[0] & 15) * 4, ulen = (size_t)(ip[2] << 8 | ip[3]) - ihl;
	uint8_t pseudo[12];

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = (uint8_t)(ulen >> 8);
	pseudo[11] = (uint8_t)ulen;
	uint16_t s = (uint16_t)~ref_csum(pseudo, 12, 0);

	return ref_csum(ip + ihl, ulen, s);
}

static void test_checksum_vector(void **state)
{
	/* The IPv4 header of the usual worked example; its checksum is 0xb861. */
	uint8_t h[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };

	assert_int_equal(ethframe_csum(h, 20, 0), 0xb861);
	assert_int_equal(ref_csum(h, 20, 0), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	assert_int_equal(ethframe_csum(h, 20, 0), 0);
}

static void test_arp_reply(void **state)
{
	struct ethframe_host h = host();
	struct ethframe_counts c = { 0 };
	uint8_t req[60] = { 0 }, out[128];
	uint32_t asker = ip_of("10.214.7.1");

	memcpy(req, bcast, 6);
	memcpy(req + 6, peer_mac, 6);
	req[12] = 0x08, req[13] = 0x06;
	uint8_t *a = req + 14;

	a[0] = 0, a[1] = 1, a[2] = 8, a[3] = 0, a[4] = 6, a[5] = 4, a[6] = 0, a[7] = 1;
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, &asker, 4);
	memcpy(a + 24, &h.ip, 4);
	assert_int_equal(ethframe_answer(&h, req, sizeof(req), out, sizeof(out), &c, NULL, NULL), 42);
	assert_int_equal(c.arp_replies, 1);
	assert_memory_equal(out, peer_mac, 6);
	assert_memory_equal(out + 6, host_mac, 6);
	assert_int_equal(out[14 + 7], 2);			/* a reply */
	assert_memory_equal(out + 14 + 8, host_mac, 6);		/* the answer: our MAC */
	assert_memory_equal(out + 14 + 14, &h.ip, 4);
	assert_memory_equal(out + 14 + 18, peer_mac, 6);
	assert_memory_equal(out + 14 + 24, &asker, 4);

	/* A request for someone else's address is not ours to answer. */
	uint32_t other = ip_of("10.214.7.9");

	memcpy(a + 24, &other, 4);
	assert_int_equal(ethframe_answer(&h, req, sizeof(req), out, sizeof(out), &c, NULL, NULL), 0);
	assert_int_equal(c.ignored, 1);
}

static void test_udp_echo(void **state)
{
	struct ethframe_host h = host();
	struct ethframe_counts c = { 0 };
	uint8_t in[2048], out[2048], payload[1472];
	const uint8_t *pl;
	size_t plen;

	for (size_t n = 0; n <= sizeof(payload); n += n < 8 ? 1 : 733) {
		for (size_t i = 0; i < n; i++)
			payload[i] = (uint8_t)(i * 7 + n);
		size_t len = ethframe_udp(in, sizeof(in), peer_mac, host_mac, ip_of("10.214.7.1"), h.ip, htons(40001),
					  htons(7), payload, n);

		assert_int_equal(len, ETHFRAME_HDR_UDP + n);
		assert_true(ethframe_udp_valid(in, len));
		assert_int_equal(ref_udp_check(in), 0);
		assert_int_equal(ref_csum(in + 14, 20, 0), 0);
		memset(&c, 0, sizeof(c));
		assert_int_equal(ethframe_answer(&h, in, len, out, sizeof(out), &c, &pl, &plen), len);
		assert_int_equal(c.udp_echoed, 1);
		assert_int_equal(c.udp_bad_csum, 0);
		assert_int_equal(plen, n);
		assert_ptr_equal(pl, in + ETHFRAME_HDR_UDP);
		/* Back where it came from, the same payload, checksums a receiver accepts. */
		assert_memory_equal(out, peer_mac, 6);
		assert_memory_equal(out + 6, host_mac, 6);
		assert_memory_equal(out + 14 + 12, &h.ip, 4);
		assert_memory_equal(out + 14 + 16, in + 14 + 12, 4);
		assert_memory_equal(out + 34, in + 36, 2);
		assert_memory_equal(out + 36, in + 34, 2);
		assert_memory_equal(out + ETHFRAME_HDR_UDP, payload, n);
		assert_int_equal(ref_csum(out + 14, 20, 0), 0);
		assert_int_equal(ref_udp_check(out), 0);
	}
}

static void test_partial_checksum_is_recomputed(void **state)
{
	struct ethframe_host h = host();
	struct ethframe_counts c = { 0 };
	uint8_t in[256], out[256], payload[] = "a datagram from an offloading peer";
	size_t len = ethframe_udp(in, sizeof(in), peer_mac, host_mac, ip_of("10.214.7.1"), h.ip, htons(5000), htons(7),
				  payload, sizeof(payload));

	/* CHECKSUM_PARTIAL leaves the folded pseudo-header sum, not the checksum. */
	in[40] = 0x12, in[41] = 0x34;
	assert_false(ethframe_udp_valid(in, len));
	assert_int_equal(ethframe_answer(&h, in, len, out, sizeof(out), &c, NULL, NULL), len);
	assert_int_equal(c.udp_bad_csum, 1);
	assert_int_equal(ref_udp_check(out), 0);
	assert_true(ethframe_udp_valid(out, len));
}

static void test_icmp_echo_reply(void **state)
{
	struct ethframe_host h = host();
	struct ethframe_counts c = { 0 };
	uint8_t in[98] = { 0 }, out[128];

	memcpy(in, host_mac, 6);
	memcpy(in + 6, peer_mac, 6);
	in[12] = 0x08;
	uint8_t *ip = in + 14, *icmp = ip + 20;

	ip[0] = 0x45, ip[3] = 84, ip[8] = 64, ip[9] = 1;
	uint32_t src = ip_of("10.214.7.1");

	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &h.ip, 4);
	uint16_t s = ref_csum(ip, 20, 0);

	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	icmp[0] = 8;
	icmp[4] = 0x12, icmp[5] = 0x34, icmp[7] = 1;		/* id, sequence */
	for (int i = 8; i < 64; i++)
		icmp[i] = (uint8_t)i;
	s = ref_csum(icmp, 64, 0);
	icmp[2] = (uint8_t)(s >> 8), icmp[3] = (uint8_t)s;
	assert_int_equal(ethframe_answer(&h, in, sizeof(in), out, sizeof(out), &c, NULL, NULL), 98);
	assert_int_equal(c.icmp_replies, 1);
	assert_int_equal(out[34], 0);				/* echo reply */
	assert_memory_equal(out + 34 + 4, icmp + 4, 60);		/* id, sequence and data kept */
	assert_int_equal(ref_csum(out + 34, 64, 0), 0);
	assert_int_equal(ref_csum(out + 14, 20, 0), 0);
	assert_memory_equal(out + 14 + 16, &src, 4);
}

static void test_not_for_the_port(void **state)
{
	struct ethframe_host h = host();
	struct ethframe_counts c = { 0 };
	uint8_t in[256], out[256], p[10] = "0123456789";
	size_t len = ethframe_udp(in, sizeof(in), peer_mac, host_mac, ip_of("10.214.7.1"), h.ip, htons(1), htons(2), p, 10);
	uint8_t f[256];

	memcpy(f, in, len);
	f[0] ^= 0x10;						/* another MAC */
	assert_int_equal(ethframe_answer(&h, f, len, out, sizeof(out), &c, NULL, NULL), 0);
	memcpy(f, in, len);
	f[14 + 19] ^= 1;					/* another IP */
	assert_int_equal(ethframe_answer(&h, f, len, out, sizeof(out), &c, NULL, NULL), 0);
	memcpy(f, in, len);
	f[14 + 6] |= 0x20;					/* more fragments */
	assert_int_equal(ethframe_answer(&h, f, len, out, sizeof(out), &c, NULL, NULL), 0);
	memcpy(f, in, len);
	f[12] = 0x86, f[13] = 0xdd;				/* IPv6 */
	assert_int_equal(ethframe_answer(&h, f, len, out, sizeof(out), &c, NULL, NULL), 0);
	/* Cut short: the IPv4 total length says more than arrived. */
	assert_int_equal(ethframe_answer(&h, in, len - 1, out, sizeof(out), &c, NULL, NULL), 0);
	assert_int_equal(ethframe_answer(&h, in, 10, out, sizeof(out), &c, NULL, NULL), 0);
	/* No room for the answer. */
	assert_int_equal(ethframe_answer(&h, in, len, out, len - 1, &c, NULL, NULL), 0);
	assert_int_equal(c.ignored, 7);
	assert_int_equal(c.udp_echoed, 0);
	assert_int_equal(ethframe_udp(out, ETHFRAME_HDR_UDP + 9, host_mac, peer_mac, 1, 2, 3, 4, p, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_vector),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_udp_echo),
		cmocka_unit_test(test_partial_checksum_is_recomputed),
		cmocka_unit_test(test_icmp_echo_reply),
		cmocka_unit_test(test_not_for_the_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
