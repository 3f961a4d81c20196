/* SPDX-License-Identifier: MIT */
/*
 * The strategy registry, generated from strategies/list.h so that the
 * table, its count and the lookup can never disagree with the list.
 */
#include "strategy.h"

#include <string.h>

#define STRATEGY(name) extern const struct strategy strategy_##name;
#include "list.h"
#undef STRATEGY

const struct strategy *const strategy_table[] = {
#define STRATEGY(name) &strategy_##name,
#include "list.h"
#undef STRATEGY
};

const size_t strategy_count = sizeof(strategy_table) / sizeof(strategy_table[0]);

const struct strategy *strategy_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < strategy_count; i++)
		if (strcmp(strategy_table[i]->name, name) == 0)
			return strategy_table[i];
	return NULL;
}
