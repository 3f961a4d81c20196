/* SPDX-License-Identifier: MIT */
/*
 * --time's count check (harness/engine/timed.c): bytes a 64 MiB lap apart
 * are equal, so a lap lost or repeated whole passes the hashes; only the
 * count shows it.  Every role that verified must have counted exactly what
 * the source sent; a role that does not verify is not asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "harness/engine/rep.h"
#include "harness/engine/timed.h"

#define LAP (64ull << 20)

static const char *const relay_roles[] = { "relay", "source", "sink" };

struct fixture {
	struct run_config c;
	struct role_ctx ctx[3];
	struct role_report rep[3];
	bool absent[3];
};

/* A relay: the tested role forwards, the source sends SENT, every role verifies as VERIFY. */
static void relay(struct fixture *f, uint64_t sent, uint64_t relayed, uint64_t sunk)
{
	memset(f, 0, sizeof(*f));
	f->c.scenario = SC_RELAY;
	f->c.time_s = 1;
	for (int i = 0; i < 3; i++)
		f->ctx[i].c = &f->c;
	f->ctx[0].kind = RK_TESTED;
	f->ctx[1].kind = RK_SOURCE;
	f->ctx[2].kind = RK_SINK;
	f->rep[0].verify = -1;	/* the relay forwards; it hashes nothing */
	f->rep[1].verify = -1;
	f->rep[2].verify = VERIFY_OK;
	f->rep[0].res.bytes = relayed;
	f->rep[1].res.bytes = sent;
	f->rep[2].res.bytes = sunk;
}

static int check(struct fixture *f, uint64_t *total, char *note, size_t len)
{
	return timed_count_check(f->rep, f->ctx, relay_roles, f->absent, 3, total, note, len);
}

static void test_equal_counts_pass(void **state)
{
	struct fixture f;
	uint64_t total = 0;
	char note[256] = "";

	(void)state;
	relay(&f, 10 * LAP + 4096, 10 * LAP + 4096, 10 * LAP + 4096);
	assert_int_equal(check(&f, &total, note, sizeof(note)), 0);
	assert_int_equal(total, 10 * LAP + 4096);
}

static void test_a_lap_short_fails_naming_the_receiver(void **state)
{
	struct fixture f;
	uint64_t total = 0;
	char note[256] = "";

	(void)state;
	relay(&f, 10 * LAP, 10 * LAP, 9 * LAP);
	assert_int_equal(check(&f, &total, note, sizeof(note)), -EIO);
	assert_non_null(strstr(note, "sink: the source sent 671088640 bytes and the sink counted 603979776"));
}

static void test_a_lap_repeated_fails(void **state)
{
	struct fixture f;
	uint64_t total = 0;
	char note[256] = "";

	(void)state;
	relay(&f, 10 * LAP, 10 * LAP, 11 * LAP);
	assert_int_equal(check(&f, &total, note, sizeof(note)), -EIO);
}

static void test_a_role_that_does_not_verify_is_not_asked(void **state)
{
	struct fixture f;
	uint64_t total = 0;
	char note[256] = "";

	(void)state;
	/* the relay's own count may differ (it moved what it read); only verifiers must agree */
	relay(&f, 10 * LAP, 3 * LAP, 10 * LAP);
	assert_int_equal(check(&f, &total, note, sizeof(note)), 0);
	/* an absent role (no process) has no count to judge */
	relay(&f, 10 * LAP, 10 * LAP, 0);
	f.absent[2] = true;
	assert_int_equal(check(&f, &total, note, sizeof(note)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_counts_pass),
		cmocka_unit_test(test_a_lap_short_fails_naming_the_receiver),
		cmocka_unit_test(test_a_lap_repeated_fails),
		cmocka_unit_test(test_a_role_that_does_not_verify_is_not_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
