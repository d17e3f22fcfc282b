/*
 * test_wire_status.c - the store status header v1 (wire_status.c,
 * docs/hostsync.md "Store status"): round trips, unknown keys skipped,
 * every refusal (lengths, ranges, duplicates, version). Links wire and common only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire/wire.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <string.h>

#define RID "0123456789abcdef0123456789abcdef"

static void full(struct wire_status *s)
{
	memset(s, 0, sizeof(*s));
	s->unsent_sales = 12;
	s->unsent_events = 3;
	s->unsent_ledger = 20;
	s->has_ledger = true;
	s->has_rules = true;
	strcpy(s->rules_id, RID);
	s->rules_serial = 4;
	s->time_us = 1764547200000000;
	strcpy(s->version, "0.12.0");
}

static void test_status_roundtrip(void **state)
{
	(void)state;
	struct wire_status s, back;
	char buf[WIRE_STATUS_MAX + 1], err[200];
	full(&s);
	assert_int_equal(wire_status_encode(&s, buf, sizeof(buf)), PM_OK);
	assert_string_equal(buf, "v=1; unsent_sales=12; unsent_events=3; unsent_ledger=20; rules_id=" RID
			    "; rules_serial=4; time_us=1764547200000000; version=0.12.0");
	assert_int_equal(wire_status_decode(buf, strlen(buf), &back, err, sizeof(err)), PM_OK);
	assert_memory_equal(&s, &back, sizeof(s));
	/* the largest values still fit the header */
	s.unsent_sales = s.unsent_events = s.unsent_ledger = WIRE_STATUS_COUNT_MAX;
	s.rules_serial = INT64_MAX;
	s.time_us = WIRE_STATUS_TIME_MAX;
	memset(s.version, 'x', WIRE_STATUS_VERSION_MAX);
	assert_int_equal(wire_status_encode(&s, buf, sizeof(buf)), PM_OK);
	assert_int_equal(wire_status_decode(buf, strlen(buf), &back, err, sizeof(err)), PM_OK);
	assert_memory_equal(&s, &back, sizeof(s));
	/* no rule set installed, no ledger count: both optional */
	full(&s);
	s.has_rules = s.has_ledger = false;
	memset(s.rules_id, 0, sizeof(s.rules_id));
	s.rules_serial = s.unsent_ledger = 0;
	assert_int_equal(wire_status_encode(&s, buf, sizeof(buf)), PM_OK);
	assert_null(strstr(buf, "rules"));
	assert_int_equal(wire_status_decode(buf, strlen(buf), &back, err, sizeof(err)), PM_OK);
	assert_memory_equal(&s, &back, sizeof(s));
	/* the encoder refuses what the decoder would */
	s.unsent_sales = WIRE_STATUS_COUNT_MAX + 1;
	assert_int_equal(wire_status_encode(&s, buf, sizeof(buf)), PM_EINVAL);
	full(&s);
	strcpy(s.version, "1 2");
	assert_int_equal(wire_status_encode(&s, buf, sizeof(buf)), PM_EINVAL);
}

static void test_status_lenient(void **state)
{
	(void)state;
	struct wire_status s;
	char err[200];
	/* any order, spaces and tabs, a trailing ';', unknown keys (a newer terminal's) skipped */
	const char *t = "  version=1.0~rc1;time_us=1764547200000000 ;\tunsent_events=0; future_key=whatever;"
			"unsent_sales=7; v=1; ";
	assert_int_equal(wire_status_decode(t, strlen(t), &s, err, sizeof(err)), PM_OK);
	assert_int_equal(s.unsent_sales, 7);
	assert_false(s.has_ledger);
	assert_false(s.has_rules);
	assert_string_equal(s.version, "1.0~rc1");
	/* exact-size input without a NUL */
	char exact[96];
	const char *u = "v=1;unsent_sales=1;unsent_events=2;time_us=1764547200000000;version=9";
	size_t n = strlen(u);
	memcpy(exact, u, n);
	assert_int_equal(wire_status_decode(exact, n, &s, err, sizeof(err)), PM_OK);
	assert_int_equal(s.unsent_events, 2);
}

static void test_status_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		const char *why;
	} bad[] = {
		{ "", PM_EINVAL, "no v=" },
		{ "v=2; unsent_sales=1; unsent_events=2; time_us=1764547200000000; version=9", PM_EVERSION,
		  "version 2 is not supported" },
		{ "v=1; unsent_events=2; time_us=1764547200000000; version=9", PM_EINVAL, "unsent_sales missing" },
		{ "v=1; unsent_sales=1; unsent_events=2; version=9", PM_EINVAL, "time_us missing" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=1764547200000000", PM_EINVAL, "version missing" },
		{ "v=1; v=1; unsent_sales=1; unsent_events=2; time_us=1764547200000000; version=9", PM_EINVAL,
		  "v given twice" },
		{ "v=1; unsent_sales=1000000000001; unsent_events=2; time_us=1764547200000000; version=9", PM_EINVAL,
		  "unsent_sales=1000000000001 is out of range" },
		{ "v=1; unsent_sales=99999999999999999999999; unsent_events=2; time_us=1764547200000000; version=9",
		  PM_EINVAL, "out of range" },
		{ "v=1; unsent_sales=-1; unsent_events=2; time_us=1764547200000000; version=9", PM_EINVAL,
		  "unsent_sales=-1" },
		{ "v=1; unsent_sales=+1; unsent_events=2; time_us=1764547200000000; version=9", PM_EINVAL, "+1" },
		{ "v=1; unsent_sales=01; unsent_events=2; time_us=1764547200000000; version=9", PM_EINVAL, "=01" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=12; version=9", PM_EINVAL, "time_us=12" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=9999999999999999; version=9", PM_EINVAL, "time_us" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=1764547200000000; version=a/b", PM_EINVAL,
		  "version=a/b" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=1764547200000000; version=9; rules_id=" RID, PM_EINVAL,
		  "come together" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=1764547200000000; version=9; rules_id=XYZ;"
		  " rules_serial=1", PM_EINVAL, "rules_id=XYZ" },
		{ "v=1; unsent_sales=1; unsent_events=2; time_us=1764547200000000; version=9; rules_id=" RID
		  "; rules_serial=9223372036854775808", PM_EINVAL, "rules_serial" },
		{ "v=1; unsent_sales 1", PM_EINVAL, "not KEY=VALUE" },
		{ "v=1; Unsent=1", PM_EINVAL, "a key is not" },
		{ "v=1; x=", PM_EINVAL, "x is empty" },
		{ "v=1; x=a b", PM_EINVAL, "followed by something" },
		{ "v=1; x=\x01", PM_EINVAL, "visible ASCII" },
		{ "v=1;;", PM_EINVAL, "not KEY=VALUE" },
	};
	struct wire_status s;
	char err[300];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = wire_status_decode(bad[i].text, strlen(bad[i].text), &s, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].why))
			fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, bad[i].why);
	}
	/* bounded: a 10 KB value, a long key, a long value, too many items */
	static char big[10240];
	memset(big, 'a', sizeof(big));
	assert_int_equal(wire_status_decode(big, sizeof(big), &s, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "more than 512"));
	char t[WIRE_STATUS_MAX + 1];
	snprintf(t, sizeof(t), "v=1; %s=1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(wire_status_decode(t, strlen(t), &s, err, sizeof(err)), PM_EINVAL);
	snprintf(t, sizeof(t), "v=1; k=%0100d", 1);
	assert_int_equal(wire_status_decode(t, strlen(t), &s, err, sizeof(err)), PM_EINVAL);
	size_t n = 0;
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(t + n, sizeof(t) - n, "k%d=1;", i);
	assert_int_equal(wire_status_decode(t, n, &s, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "more than 32 items"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_roundtrip),
		cmocka_unit_test(test_status_lenient),
		cmocka_unit_test(test_status_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
