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

struct refusal strategy_refusal(const struct strategy *s, const struct strategy_place *p)
{
	if (!strategy_supports(s, p->scenario))
		return (struct refusal){ REFUSE_SCENARIO,
					 s->support[p->scenario].why_not ? s->support[p->scenario].why_not
									 : "not supported" };
	if (p->transport && p->af_unix && s->af_unix_why_not)
		return (struct refusal){ REFUSE_TRANSPORT, s->af_unix_why_not };
	if (p->transport && s->only_transport && strcmp(p->transport, s->only_transport))
		return (struct refusal){ REFUSE_TRANSPORT, s->elsewhere_why_not };
	if (p->own_process && s->role_replaced_by)
		return (struct refusal){ REFUSE_PROCESS,
					 "this strategy runs no process (the kernel does the job, configured over "
					 "copylab's routed transport), so there is nothing for this tool to run: "
					 "measure it with copylab run --transport routed" };
	if (p->scenario == SC_ECHO && p->unequal_answer && s->unequal_answer_why_not)
		return (struct refusal){ REFUSE_ANSWER, s->unequal_answer_why_not };
	if (p->privileged == 0 && s->needs_privilege)
		return (struct refusal){ REFUSE_PRIVILEGE, s->needs_privilege };
	return (struct refusal){ REFUSE_NONE, NULL };
}
