/*
 * test_offers_coupon.c - coupon codes: round trip, forged and altered codes,
 * expiry at the day boundary, card binding, prefixes, discounts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "offers/offers.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#define DAY (INT64_C(86400) * 1000000)
#define CARD "6036010000001000005"
#define OTHER "6036010000001000377"

static struct ofr_coupon_key key, key2;
static const int64_t now = INT64_C(20400) * DAY + 3600 * INT64_C(1000000);   /* day 20400, 01:00 UTC */

static int setup(void **state)
{
	(void)state;
	ofr_coupon_key_from_text("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &key);
	ofr_coupon_key_from_text("a passphrase for another store", &key2);
	return 0;
}

static struct ofr_coupon sample(void)
{
	struct ofr_coupon c = { .version = 1, .benefit = OFR_PERCENT_ITEM, .value = 15,
				.target_tag = ofr_target_tag_item("04006306000016"),
				.campaign_tag = ofr_campaign_tag("pasta-night"),
				.card_tag = ofr_card_tag(&key, CARD), .expiry_day = 20400, .serial = 42 };
	return c;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct ofr_coupon c = sample(), out;
	char code[64], reason[200];
	bool pending;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	assert_int_equal(strlen(code), 2 + 1 + 48);
	assert_int_equal(strncmp(code, "PMK", 3), 0);
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, CARD, now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_false(pending);
	assert_int_equal(out.benefit, c.benefit);
	assert_int_equal(out.value, 15);
	assert_int_equal(out.target_tag, c.target_tag);
	assert_int_equal(out.campaign_tag, c.campaign_tag);
	assert_int_equal(out.card_tag, c.card_tag);
	assert_int_equal(out.expiry_day, 20400);
	assert_int_equal(out.serial, 42);
	/* no card on the sale yet: accepted, the card is checked at tender */
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, "", now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_true(pending);
	/* another prefix configured */
	assert_int_equal(ofr_coupon_encode(&key, "XY", &c, code, sizeof(code)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, "XY", code, CARD, now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, CARD, now, &out, &pending, reason, sizeof(reason)), PM_EINVAL);
	/* too small a buffer */
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, 20), PM_EINVAL);
	c.value = 10000;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_EINVAL);
}

static void test_forged_and_altered(void **state)
{
	(void)state;
	struct ofr_coupon c = sample(), out;
	char code[64], bad[64], reason[200];
	bool pending;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	/* every single-digit change is refused */
	for (size_t i = 3; i < strlen(code); i++) {
		strcpy(bad, code);
		bad[i] = bad[i] == '9' ? '0' : (char)(bad[i] + 1);
		int rc = ofr_coupon_verify(&key, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason));
		assert_true(rc == PM_ECHECK || rc == PM_EINVAL);
		assert_true(strlen(reason) > 10);
	}
	/* value raised from 15% to 95%: MAC fails */
	strcpy(bad, code);
	bad[6] = '0', bad[7] = '0', bad[8] = '9', bad[9] = '5';
	assert_int_equal(ofr_coupon_verify(&key, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason)), PM_ECHECK);
	assert_non_null(strstr(reason, "forged"));
	/* made with another store's key */
	struct ofr_coupon c2 = sample();
	assert_int_equal(ofr_coupon_encode(&key2, "PM", &c2, bad, sizeof(bad)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason)), PM_ECHECK);
	/* layout damage */
	const char *junk[] = { "PM", "PMK", "PMK12", "PMX", "PMK1100150000000000000000000000000000000000000000a0", "" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(ofr_coupon_verify(&key, "PM", junk[i], CARD, now, &out, &pending, reason, sizeof(reason)),
				 PM_EINVAL);
	/* right length, version 2 */
	strcpy(bad, code);
	bad[3] = '2';
	assert_int_equal(ofr_coupon_verify(&key, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason)), PM_EINVAL);
}

static void test_expiry_boundary(void **state)
{
	(void)state;
	struct ofr_coupon c = sample(), out;
	char code[64], reason[200];
	bool pending;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	int64_t last_us = INT64_C(20401) * DAY - 1;   /* 23:59:59.999999 of the expiry day */
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, CARD, last_us, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, CARD, last_us + 1, &out, &pending, reason, sizeof(reason)),
			 PM_EEXPIRED);
	assert_non_null(strstr(reason, "expired"));
}

static void test_other_card(void **state)
{
	(void)state;
	struct ofr_coupon c = sample(), out;
	char code[64], reason[200];
	bool pending;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, OTHER, now, &out, &pending, reason, sizeof(reason)), PM_EREFUSED);
	assert_non_null(strstr(reason, "another loyalty card"));
	/* an anonymous coupon (card tag 0) works with any card */
	c.card_tag = 0;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, "PM", code, OTHER, now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_int_equal(ofr_card_tag(&key, ""), 0);
	assert_int_not_equal(ofr_card_tag(&key, CARD), ofr_card_tag(&key2, CARD));
}

static void test_discounts(void **state)
{
	(void)state;
	struct ofr_line l[2];
	int line;
	memset(l, 0, sizeof(l));
	strcpy(l[0].gtin, "05012340000010");
	l[0].qty = 1;
	l[0].line_cents = 69;
	strcpy(l[1].gtin, "04006306000016");
	l[1].qty = 2;
	l[1].line_cents = 438;
	struct ofr_coupon c = sample();
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 33);   /* 15% of one unit of 2.19, rounded */
	assert_int_equal(line, 1);
	c.benefit = OFR_AMOUNT_ITEM;
	c.value = 500;
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 219);   /* never more than the unit */
	c.value = 50;
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 50);
	c.target_tag = ofr_target_tag_item("04007649000015");
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 0);
	assert_int_equal(line, -1);   /* item not in the basket */
	c.benefit = OFR_AMOUNT_BASKET;
	c.value = 507;
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 0);     /* the basket must be over the amount */
	c.value = 400;
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 400);
	c.benefit = OFR_POINTS_BONUS_FLAT;
	assert_int_equal(ofr_coupon_discount(&c, l, 2, NULL, &line), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_forged_and_altered),
		cmocka_unit_test(test_expiry_boundary),
		cmocka_unit_test(test_other_card),
		cmocka_unit_test(test_discounts),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
