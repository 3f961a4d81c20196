/* SPDX-License-Identifier: MIT */
/*
 * One colour per strategy in every chart: no two strategies of the
 * registry alike, and none like a peer's (nginx, HAProxy, ...), which
 * charts draw beside them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/report/style.h"
#include "strategies/strategy.h"

static const char *const peers[] = {
	"peer:nginx-sendfile-on", "peer:nginx-sendfile-off", "peer:haproxy-splice", "peer:haproxy-nosplice",
	"peer:socat", "peer:iperf3", "peer:iperf3-zerocopy", "peer:cp",
};

static void test_every_strategy_has_its_own_colour(void **state)
{
	(void)state;
	for (size_t i = 0; i < strategy_count; i++)
		for (size_t j = i + 1; j < strategy_count; j++)
			if (strategy_color(strategy_table[i]->name) == strategy_color(strategy_table[j]->name))
				fail_msg("%s and %s share colour #%06x", strategy_table[i]->name, strategy_table[j]->name,
					 strategy_color(strategy_table[i]->name));
}

static void test_no_strategy_looks_like_a_peer(void **state)
{
	(void)state;
	for (size_t i = 0; i < strategy_count; i++)
		for (size_t k = 0; k < sizeof(peers) / sizeof(peers[0]); k++)
			if (strategy_color(strategy_table[i]->name) == strategy_color(peers[k]))
				fail_msg("%s looks like %s (#%06x)", strategy_table[i]->name, peers[k],
					 strategy_color(peers[k]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_strategy_has_its_own_colour),
		cmocka_unit_test(test_no_strategy_looks_like_a_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
