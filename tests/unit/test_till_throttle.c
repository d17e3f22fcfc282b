/*
 * test_till_throttle.c - the per-lane coupon throttle (terminal/till_throttle.c,
 * docs/till.md "Coupon throttle") through the real till, log and rule set:
 * three bad coupons in 10 minutes lock the lane's coupon scans (a good
 * coupon too) for 1 minute, the next lock is 2 minutes, a clean hour starts
 * again at 1; expired coupons do not count; another lane is not affected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "terminal/till.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#define LAPTOP "04007598000012"
#define SLEEVE "04007649000015"
#define SEC INT64_C(1000000)
#define DAY (INT64_C(86400) * SEC)
#define T0 (INT64_C(20400) * DAY + 9 * 3600 * SEC)
#define KEYTEXT "a test passphrase, 16+ chars"

struct fx {
	char *dir;
	struct term_config cfg;
	struct loy_db *db;
	char last_reason[300];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[4200];
	f->dir = tu_mkdtemp();
	term_config_default(&f->cfg);
	snprintf(f->cfg.data_dir, sizeof(f->cfg.data_dir), "%s", f->dir);
	snprintf(f->cfg.offers_coupon_key, sizeof(f->cfg.offers_coupon_key), "%s", KEYTEXT);
	assert_int_equal(loy_open(f->dir, &f->cfg.loy, &f->db, NULL, 0), PM_OK);
	struct loy_product p[2] = { { LAPTOP, "Acer Laptop", "Electronics", "Acer", 49900 },
				    { SLEEVE, "Targus Laptop sleeve", "Electronics", "Targus", 2999 } };
	assert_int_equal(loy_catalog_put(f->db, p, 2), PM_OK);
	snprintf(path, sizeof(path), "%s/rules.json", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"format\":\"posmark-rules\",\"version\":1,\"rules\":["
	      "{\"id\":\"sleeve\",\"campaign\":\"laptop\",\"kind\":\"cross_sell\","
	      "\"when\":{\"basket\":{\"all\":[{\"item\":\"" LAPTOP "\"}]}},"
	      "\"offer\":{\"item\":\"" SLEEVE "\",\"percent_off\":20}}]}", fp);
	fclose(fp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	loy_close(f->db);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void sink(void *ctx, const struct till_event *ev)
{
	struct fx *f = ctx;
	if (ev->kind == TILL_EV_COUPON_REFUSED)
		snprintf(f->last_reason, sizeof(f->last_reason), "%s", ev->reason ? ev->reason : "");
}

/* A real coupon of the rule set's offer, expiring on day `expiry`, serial n (codes differ by it). */
static void good_code(int32_t expiry, uint32_t n, char *out)
{
	struct ofr_coupon_key key;
	ofr_coupon_key_from_text(KEYTEXT, &key);
	struct ofr_coupon c = { .version = 2, .benefit = OFR_PERCENT_ITEM, .value = 20,
				.target_tag = ofr_target_tag_item(SLEEVE), .campaign_tag = ofr_campaign_tag("laptop"),
				.expiry_day = expiry, .serial = n };
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, out, 64), PM_OK);
}

/* Scan code on lane t at time now; PM_OK if the coupon was taken. */
static int scan(struct fx *f, struct till *t, int64_t now, const char *code)
{
	struct scan_result r;
	t->clock_us = now;
	f->last_reason[0] = '\0';
	assert_int_equal(scan_decode(&f->cfg.scan, code, strlen(code), NULL, &r), PM_OK);
	int rc = till_coupon_scan(t, code, &r);
	if (rc == PM_OK)
		t->n_coupons = 0;   /* keep room for the next */
	return rc;
}

static void test_lock_and_backoff(void **state)
{
	struct fx *f = *state;
	struct till t, other;
	char good[64], good2[64], old[64];
	const char *forged[] = { "P12345678901234567890", "P00000000000000000001", "P99999999999999999999",
				 "P11111111111111111111", "P22222222222222222222", "P33333333333333333333" };
	till_init(&t, f->db, &f->cfg, NULL, NULL, "");
	till_init(&other, f->db, &f->cfg, NULL, NULL, "");
	t.sink = other.sink = sink;
	t.sink_ctx = other.sink_ctx = f;
	good_code((int32_t)(T0 / DAY) + 10, 1, good);
	good_code((int32_t)(T0 / DAY) + 10, 2, good2);
	good_code((int32_t)(T0 / DAY) - 3, 3, old);
	assert_int_equal(scan(f, &t, T0, good), PM_OK);
	/* two bad coupons: refused for what they are, the lane still takes a good one */
	assert_int_equal(scan(f, &t, T0 + 1 * SEC, forged[0]), PM_EREFUSED);
	assert_null(strstr(f->last_reason, "too many"));
	assert_int_equal(scan(f, &t, T0 + 2 * SEC, forged[1]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 3 * SEC, good), PM_OK);
	/* the third within 10 minutes locks the lane for 60 s: even a good coupon waits */
	assert_int_equal(scan(f, &t, T0 + 4 * SEC, forged[2]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 5 * SEC, good), PM_EREFUSED);
	assert_non_null(strstr(f->last_reason, "too many bad coupons on this lane"));
	assert_non_null(strstr(f->last_reason, "another 59 s"));
	/* another lane is not affected */
	assert_int_equal(scan(f, &other, T0 + 5 * SEC, good), PM_OK);
	/* after the minute, good coupons go through again */
	assert_int_equal(scan(f, &t, T0 + 64 * SEC, good), PM_OK);
	/* an expired coupon is not a guess: two bad + expired + good, no lock */
	assert_int_equal(scan(f, &t, T0 + 70 * SEC, forged[3]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 71 * SEC, old), PM_EREFUSED);
	assert_non_null(strstr(f->last_reason, "expired"));
	assert_int_equal(scan(f, &t, T0 + 72 * SEC, good2), PM_OK);
	/* the third bad one (within 10 minutes of the first two): the second lock is 2 minutes */
	assert_int_equal(scan(f, &t, T0 + 80 * SEC, forged[4]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 90 * SEC, forged[5]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 100 * SEC, good), PM_EREFUSED);
	assert_non_null(strstr(f->last_reason, "another 110 s"));
	assert_int_equal(scan(f, &t, T0 + 209 * SEC, good), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 211 * SEC, good), PM_OK);
	/* three bad ones spread over more than 10 minutes never lock */
	for (int i = 0; i < 4; i++)
		assert_int_equal(scan(f, &t, T0 + (300 + i * 400) * SEC, forged[i]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, T0 + 1901 * SEC, good), PM_OK);
	/* an hour later without a bad coupon: the next lock is 1 minute again */
	int64_t later = T0 + 4 * 3600 * SEC;
	for (int i = 0; i < 3; i++)
		assert_int_equal(scan(f, &t, later + i * SEC, forged[i]), PM_EREFUSED);
	assert_int_equal(scan(f, &t, later + 3 * SEC, good), PM_EREFUSED);
	assert_non_null(strstr(f->last_reason, "another 59 s"));
	till_release(&other);
	till_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_and_backoff, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
