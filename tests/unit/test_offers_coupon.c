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
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, CARD, now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_false(pending);
	assert_int_equal(out.benefit, c.benefit);
	assert_int_equal(out.value, 15);
	assert_int_equal(out.target_tag, c.target_tag);
	assert_int_equal(out.campaign_tag, c.campaign_tag);
	assert_int_equal(out.card_tag, c.card_tag);
	assert_int_equal(out.expiry_day, 20400);
	assert_int_equal(out.serial, 42);
	/* no card on the sale yet: accepted, the card is checked at tender */
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, "", now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_true(pending);
	/* another prefix configured */
	assert_int_equal(ofr_coupon_encode(&key, "XY", &c, code, sizeof(code)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, NULL, "XY", code, CARD, now, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, CARD, now, &out, &pending, reason, sizeof(reason)), PM_EINVAL);
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
		int rc = ofr_coupon_verify(&key, NULL, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason));
		assert_true(rc == PM_ECHECK || rc == PM_EINVAL);
		assert_true(strlen(reason) > 10);
	}
	/* value raised from 15% to 95%: MAC fails */
	strcpy(bad, code);
	bad[6] = '0', bad[7] = '0', bad[8] = '9', bad[9] = '5';
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason)), PM_ECHECK);
	assert_non_null(strstr(reason, "forged"));
	/* made with another store's key */
	struct ofr_coupon c2 = sample();
	assert_int_equal(ofr_coupon_encode(&key2, "PM", &c2, bad, sizeof(bad)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason)), PM_ECHECK);
	/* layout damage */
	const char *junk[] = { "PM", "PMK", "PMK12", "PMX", "PMK1100150000000000000000000000000000000000000000a0", "" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", junk[i], CARD, now, &out, &pending, reason, sizeof(reason)),
				 PM_EINVAL);
	/* right length, version 2 */
	strcpy(bad, code);
	bad[3] = '2';
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason)), PM_EINVAL);
}

/* ---- v2: issued by ofr_decide from a real rule set, verified against it ---- */
static const struct ofr_product catalog[] = {
	{ "05012340000195", "Store Basics Ground coffee 250g", "Coffee", "Store Basics", 249 },
	{ "04006561000011", "Lavazza Ground coffee 250g", "Coffee", "Lavazza", 449 },
	{ "05012340000010", "Store Basics Spaghetti", "Pantry", "Store Basics", 69 },
	{ "04006306000016", "Dolmio Pasta sauce", "Pantry", "Dolmio", 219 },
	{ "05012342000018", "Farmhouse Whole milk 1L", "Dairy", "Farmhouse", 109 },
};

static int cat_each(void *ctx, ofr_product_cb cb, void *cb_ctx)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++) {
		int rc = cb(cb_ctx, &catalog[i]);
		if (rc)
			return rc;
	}
	return 0;
}

#define RULES(extra) "{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"t\",\"rules\":[" \
	"{\"id\":\"x\",\"campaign\":\"pasta-night\",\"kind\":\"cross_sell\",\"coupon_days\":30," \
	"\"when\":{\"basket\":{\"all\":[{\"item\":\"05012340000010\"}]}},\"offer\":{\"item\":\"04006306000016\",\"percent_off\":15}}," \
	"{\"id\":\"up\",\"kind\":\"up_sell\",\"when\":{\"basket\":{\"all\":[{\"category\":\"Coffee\"}]}}," \
	"\"offer\":{\"upgrade\":\"price\",\"category\":\"Coffee\",\"percent_off\":20}}," \
	"{\"id\":\"d\",\"kind\":\"promotion\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}" extra "]}"

static struct ofr_rules *rules_of(const char *json)
{
	static const struct ofr_catalog_source cat = { NULL, cat_each };
	struct ofr_rules *r = NULL;
	struct ofr_diags d = { 0 };
	assert_int_equal(ofr_rules_load(json, strlen(json), &cat, "", &r, &d), PM_OK);
	ofr_diags_release(&d);
	return r;
}

/* Three coupons (item, up-sell, category) for CARD on sale seq. */
static void issue(struct ofr_rules *r, uint64_t seq, struct ofr_decision *d)
{
	struct ofr_line l[2] = { { "05012340000010", 1, 69 }, { "05012340000195", 1, 249 } };
	struct ofr_card card = { .known = true, .consent = OFR_CONSENT_YES };
	strcpy(card.number, CARD);
	struct ofr_request req = { .items = l, .n_items = 2, .card = &card, .key = &key, .now_us = now,
				   .sale_seq = seq, .max_offers = 3 };
	assert_int_equal(ofr_decide(r, &req, d, NULL), PM_OK);
	assert_int_equal(d->n, 3);
}

static void test_v2_issued_and_verified(void **state)
{
	(void)state;
	struct ofr_rules *r = rules_of(RULES(""));
	struct ofr_decision d;
	struct ofr_coupon out;
	char reason[200];
	bool pending;
	issue(r, 7, &d);
	for (size_t i = 0; i < d.n; i++) {
		const struct ofr_offer *o = &d.offers[i];
		/* "P" + 20 digits: Start B, P, Code C, 10 pairs = 12 CODE128 symbols */
		assert_int_equal(strlen(o->coupon), 21);
		assert_int_equal(o->coupon[0], 'P');
		assert_int_equal(strspn(o->coupon + 1, "0123456789"), 20);
		assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, CARD, now, &out, &pending, reason,
						   sizeof(reason)), PM_OK);
		assert_int_equal(out.version, 2);
		assert_int_equal(out.benefit, o->benefit);
		assert_int_equal(out.value, o->value);
		assert_int_equal(out.target_tag, o->gtin[0] ? ofr_target_tag_item(o->gtin)
				 : ofr_target_tag_category(o->category));
		assert_int_equal(out.campaign_tag, ofr_campaign_tag(o->campaign));
		assert_int_equal(out.expiry_day, o->expires_us / DAY);
		assert_int_equal(out.card_tag, ofr_card_tag(&key, CARD));
		/* the up-sell's target was chosen for this basket: found again among the catalog */
		if (!strcmp(o->rule_id, "up"))
			assert_string_equal(o->gtin, "04006561000011");
		/* re-encoding what verified gives the same code */
		char again[64];
		assert_int_equal(ofr_coupon_encode(&key, "PM", &out, again, sizeof(again)), PM_OK);
		assert_string_equal(again, o->coupon);
		/* another card, another key */
		assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, OTHER, now, &out, &pending, reason,
						   sizeof(reason)), PM_EREFUSED);
		assert_int_equal(ofr_coupon_verify(&key2, r, "PM", o->coupon, CARD, now, &out, &pending, reason,
						   sizeof(reason)), PM_ECHECK);
		/* every single-digit change is refused */
		for (int pos = 1; pos <= 20; pos++) {
			char bad[32];
			strcpy(bad, o->coupon);
			bad[pos] = (char)('0' + (bad[pos] - '0' + 1) % 10);
			int rc = ofr_coupon_verify(&key, r, "PM", bad, CARD, now, &out, &pending, reason, sizeof(reason));
			assert_true(rc == PM_ECHECK || rc == PM_EREFUSED);
			assert_true(reason[0] != '\0');
		}
	}
	/* without a rule set (or with one that dropped the offer) a v2 code cannot be read */
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", d.offers[0].coupon, CARD, now, &out, &pending, reason,
					   sizeof(reason)), PM_EREFUSED);
	assert_non_null(strstr(reason, "not in the rule set"));
	/* two sales in a row: different codes for the same offers */
	struct ofr_decision d2;
	issue(r, 8, &d2);
	for (size_t i = 0; i < d.n; i++)
		assert_string_not_equal(d.offers[i].coupon, d2.offers[i].coupon);
	ofr_rules_free(r);
}

static void test_v2_expiry_and_changed_offer(void **state)
{
	(void)state;
	struct ofr_rules *r = rules_of(RULES(""));
	struct ofr_decision d;
	struct ofr_coupon out;
	char reason[200];
	bool pending;
	issue(r, 1, &d);
	const struct ofr_offer *o = NULL;
	for (size_t i = 0; i < d.n; i++)
		if (!strcmp(d.offers[i].rule_id, "x"))
			o = &d.offers[i];
	assert_non_null(o);
	int64_t last = o->expires_us;   /* 23:59:59.999999 of day 20430 (30 coupon days) */
	assert_int_equal(last / DAY, 20430);
	/* a reprint reads the expiry from the code and the sale's time alone */
	assert_int_equal(ofr_coupon_expires_us("PM", o->coupon, now), last);
	assert_int_equal(ofr_coupon_expires_us("PM", "P123", now), 0);
	assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, "", last, &out, &pending, reason,
					   sizeof(reason)), PM_OK);
	assert_true(pending);   /* no card yet: checked at tender */
	assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, CARD, last + 1, &out, &pending, reason,
					   sizeof(reason)), PM_EEXPIRED);
	assert_non_null(strstr(reason, "expired"));
	/* 600 days later the 3-digit expiry still reads as expired, not as a future day */
	assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, CARD, last + 600 * DAY, &out, &pending, reason,
					   sizeof(reason)), PM_EEXPIRED);
	/* 1000 days later it would read as valid again: the MAC covers the full day, so it does not verify */
	assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, CARD, now + 1000 * DAY, &out, &pending, reason,
					   sizeof(reason)), PM_ECHECK);
	ofr_rules_free(r);
	/* the same offer in a re-mined set under another rule id: still the same content, still good */
	r = rules_of("{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"t2\",\"rules\":["
		     "{\"id\":\"mined-9\",\"campaign\":\"pasta-night\",\"kind\":\"cross_sell\","
		     "\"when\":{\"basket\":{\"all\":[{\"item\":\"05012342000018\"}]}},"
		     "\"offer\":{\"item\":\"04006306000016\",\"percent_off\":15}}]}");
	assert_int_equal(ofr_coupon_verify(&key, r, "PM", o->coupon, CARD, now, &out, &pending, reason,
					   sizeof(reason)), PM_OK);
	ofr_rules_free(r);
	/* the offer changed (20% now): the code no longer names an offer of the set */
	r = rules_of("{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"t3\",\"rules\":["
		     "{\"id\":\"x\",\"campaign\":\"pasta-night\",\"kind\":\"cross_sell\","
		     "\"when\":{\"basket\":{\"all\":[{\"item\":\"05012340000010\"}]}},"
		     "\"offer\":{\"item\":\"04006306000016\",\"percent_off\":20}}]}");
	int rc = ofr_coupon_verify(&key, r, "PM", o->coupon, CARD, now, &out, &pending, reason, sizeof(reason));
	assert_true(rc == PM_EREFUSED || rc == PM_ECHECK);
	ofr_rules_free(r);
}

static void test_expiry_boundary(void **state)
{
	(void)state;
	struct ofr_coupon c = sample(), out;
	char code[64], reason[200];
	bool pending;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	int64_t last_us = INT64_C(20401) * DAY - 1;   /* 23:59:59.999999 of the expiry day */
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, CARD, last_us, &out, &pending, reason, sizeof(reason)), PM_OK);
	assert_int_equal(ofr_coupon_expires_us("PM", code, now), last_us);   /* v1: the 5-digit day */
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, CARD, last_us + 1, &out, &pending, reason, sizeof(reason)),
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
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, OTHER, now, &out, &pending, reason, sizeof(reason)), PM_EREFUSED);
	assert_non_null(strstr(reason, "another loyalty card"));
	/* an anonymous coupon (card tag 0) works with any card */
	c.card_tag = 0;
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	assert_int_equal(ofr_coupon_verify(&key, NULL, "PM", code, OTHER, now, &out, &pending, reason, sizeof(reason)), PM_OK);
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
		cmocka_unit_test(test_v2_issued_and_verified),
		cmocka_unit_test(test_v2_expiry_and_changed_offer),
		cmocka_unit_test(test_expiry_boundary),
		cmocka_unit_test(test_other_card),
		cmocka_unit_test(test_discounts),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
