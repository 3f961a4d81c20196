/* SPDX-License-Identifier: MIT */
/*
 * Chart style (style.h): the colour of each strategy and of each group of
 * sampled CPU, and the legend lists that every chart of `copylab plot`
 * draws with.
 */
#include "style.h"

#include <stdio.h>
#include <string.h>

/* A fixed colour per strategy, so one strategy looks the same in every chart. */
uint32_t strategy_color(const char *label)
{
	/*
	 * Every strategy of the registry by name, none alike (test_style holds
	 * it): a hash into a few spare colours gave msg_zerocopy and uring_rw
	 * one colour, and uring_send_zc, sockmap and zerocopy_recv another.
	 */
	static const struct { const char *name; uint32_t rgb; } known[] = {
		{ "readwrite", 0x3a78b5 }, { "mmap_write", 0xe07b39 }, { "sendfile", 0x3fa34d },
		{ "splice", 0xc0392b }, { "tee", 0x8e6bbf }, { "vmsplice", 0x8c564b },
		{ "copy_file_range", 0xd45fa8 }, { "vmsplice:gift", 0xc49c94 },
		{ "msg_zerocopy", 0x17becf }, { "uring_rw", 0xbcbd22 }, { "uring_send_zc", 0x1f3f7f },
		{ "uring_splice", 0xf2b134 }, { "sockmap", 0x7b4173 }, { "nat", 0x98df8a },
		{ "zerocopy_recv", 0x00a087 },
	};
	/* peers in greys and browns, apart from every strategy's colour */
	static const struct { const char *name; uint32_t rgb; } peers[] = {
		{ "peer:nginx-sendfile-on", 0x3b3b3b }, { "peer:nginx-sendfile-off", 0x9a9a9a },
		{ "peer:haproxy-splice", 0x6b4423 }, { "peer:haproxy-nosplice", 0xb8936a },
		{ "peer:socat", 0x556b2f }, { "peer:iperf3", 0x2f4f4f }, { "peer:iperf3-zerocopy", 0x7a8b8b },
		{ "peer:cp", 0x5a5a5a },
	};
	static const uint32_t extra[] = { 0x17becf, 0xbcbd22, 0x7f7f7f, 0x1f3f7f, 0x9467bd, 0xff9896 };
	uint32_t h = 5381;
	const char *dash;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(label, known[i].name))
			return known[i].rgb;
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		if (!strcmp(label, peers[i].name))
			return peers[i].rgb;
	/*
	 * copylab:serve-sendfile, copylab:relay-splice (the tools, measured by
	 * peers.sh): the strategy's colour, lightened halfway to white.
	 */
	if (!strncmp(label, "copylab:", 8) && (dash = strchr(label, '-'))) {
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(dash + 1, known[i].name)) {
				uint32_t c = known[i].rgb, r = (c >> 16) & 0xff, g = (c >> 8) & 0xff, bl = c & 0xff;

				return ((r + 255) / 2) << 16 | ((g + 255) / 2) << 8 | (bl + 255) / 2;
			}
	}
	for (const char *s = label; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return extra[h % (sizeof(extra) / sizeof(extra[0]))];
}

uint32_t cpu_group_color(enum cpu_group g)
{
	static const uint32_t rgb[CG_COUNT] = {
		[CG_COPY_KERNEL] = 0xc0392b, [CG_COPY_USER] = 0xf39c12, [CG_NET] = 0x2b6cb0,
		[CG_SCHED] = 0x8e6bbf,	     [CG_SYSCALL] = 0x7f8c8d,	[CG_MM] = 0x3fa34d,
		[CG_PROBES] = 0xd9d9d9,	     [CG_KERNEL_OTHER] = 0xb8936a, [CG_USER_OTHER] = 0x9ecae1,
	};

	return (unsigned)g < CG_COUNT ? rgb[g] : 0x7f7f7f;
}

void legend_colors(const struct list *st, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < st->n; i++) {
		char c[16];

		snprintf(c, sizeof(c), "#%06x ", strategy_color(st->v[i]));
		strncat(buf, c, len - strlen(buf) - 1);
	}
}

void legend_names(const struct list *st, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < st->n; i++) {
		strncat(buf, st->v[i], len - strlen(buf) - 2);
		strncat(buf, " ", len - strlen(buf) - 1);
	}
}
