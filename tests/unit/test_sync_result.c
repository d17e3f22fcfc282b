/*
 * test_sync_result.c - the versioned result line `posmark sync
 * --result-line` prints and the daemon reads: a round trip, and every
 * malformed line refused (never half-read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "terminal/cli.h"
#include "common/pm_err.h"

#include <string.h>

static void test_round_trip(void **state)
{
	(void)state;
	struct term_sync_result r = { PM_EOFFLINE, 12, 3, 1, 1 }, back;
	char line[200];
	assert_int_equal(term_sync_result_format(&r, line, sizeof(line)), PM_OK);
	assert_string_equal(line, "posmark-sync-result 1 rc=-16 sales=12 events=3 batches=1 rules=1\n");
	assert_int_equal(term_sync_result_parse(line, strlen(line), &back), PM_OK);
	assert_int_equal(back.rc, PM_EOFFLINE);
	assert_int_equal(back.sales, 12);
	assert_int_equal(back.events, 3);
	assert_int_equal(back.batches, 1);
	assert_int_equal(back.rules, 1);
	const char *ok = "posmark-sync-result 1 rc=0 sales=0 events=0 batches=0 rules=0";
	assert_int_equal(term_sync_result_parse(ok, strlen(ok), &back), PM_OK);
	assert_int_equal(back.rc, 0);
	char tiny[10];
	assert_int_equal(term_sync_result_format(&r, tiny, sizeof(tiny)), PM_EINVAL);
}

static void test_strict(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"posmark-sync-result",
		"posmark-sync-result 1",
		"posmark-sync-result 1 rc=0 sales=1 events=2 batches=3",            /* a field missing */
		"posmark-sync-result 1 rc=0 events=2 sales=1 batches=3 rules=0",    /* out of order */
		"posmark-sync-result 1 rc=0 sales=1 events=2 batches=3 rules=0 x",  /* trailing bytes */
		"posmark-sync-result 1 rc=0 sales=1 events=2 batches=3 rules=0 ",
		"posmark-sync-result 1 rc=5 sales=1 events=2 batches=3 rules=0",    /* rc is 0 or negative */
		"posmark-sync-result 1 rc=0 sales=-1 events=2 batches=3 rules=0",
		"posmark-sync-result 1 rc=0 sales=1x events=2 batches=3 rules=0",
		"posmark-sync-result 1 rc=0 sales= events=2 batches=3 rules=0",
		"posmark-sync-result 1 rc=0  sales=1 events=2 batches=3 rules=0",
		"posmark-sync-result 1 rc=0 sales=99999999999999999999 events=2 batches=3 rules=0",
		"{\"event\":\"sync\",\"ok\":true,\"sales_sent\":1}",                /* the old JSON line */
		"posmark-sync-resultX 1 rc=0 sales=1 events=2 batches=3 rules=0",
	};
	struct term_sync_result r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = term_sync_result_parse(bad[i], strlen(bad[i]), &r);
		if (rc != PM_EPROTO)
			fail_msg("line %zu '%s' gave %d, not PM_EPROTO", i, bad[i], rc);
	}
	const char *v2 = "posmark-sync-result 2 rc=0 sales=1 events=2 batches=3 rules=0 more=1";
	assert_int_equal(term_sync_result_parse(v2, strlen(v2), &r), PM_EVERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
