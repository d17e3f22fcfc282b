/*
 * test_offers.c - the rules engine: format and diagnostics, every basket and
 * card condition, consent, caps, holdout, ranking, up-sell, index vs naive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "offers/offers.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <pthread.h>

#define DAY (INT64_C(86400) * 1000000)
#define NOW (INT64_C(1795000000) * 1000000)

/* A small catalog: two milks (same line, two brands), coffee at three prices, a laptop, a sleeve. */
static const struct ofr_product catalog[] = {
	{ "05012342000018", "Farmhouse Whole milk 1L", "Dairy", "Farmhouse", 109 },
	{ "04006017000015", "Alpenhof Organic Whole milk 1L", "Dairy", "Alpenhof Organic", 179 },
	{ "05012340000195", "Store Basics Ground coffee 250g", "Coffee", "Store Basics", 249 },
	{ "04006561000011", "Lavazza Ground coffee 250g", "Coffee", "Lavazza", 449 },
	{ "04006612000014", "Illy Coffee beans 1kg", "Coffee", "Illy", 2299 },
	{ "04007598000012", "Acer Laptop 15in", "Electronics", "Acer", 49900 },
	{ "04007649000015", "Targus Laptop sleeve", "Electronics", "Targus", 2999 },
	{ "05012340000010", "Store Basics Spaghetti", "Pantry", "Store Basics", 69 },
	{ "04006306000016", "Dolmio Pasta sauce", "Pantry", "Dolmio", 219 },
};
#define MILK "05012342000018"
#define ORGANIC "04006017000015"
#define COFFEE "05012340000195"
#define LAVAZZA "04006561000011"
#define LAPTOP "04007598000012"
#define SLEEVE "04007649000015"
#define PASTA "05012340000010"
#define SAUCE "04006306000016"

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
static const struct ofr_catalog_source cat = { NULL, cat_each };

static struct ofr_rules *load(const char *json, struct ofr_diags *d)
{
	struct ofr_rules *r = NULL;
	int rc = ofr_rules_load(json, strlen(json), &cat, "store1", &r, d);
	if (rc) {
		for (size_t i = 0; i < d->n; i++)
			fprintf(stderr, "%d: %s\n", d->v[i].line, d->v[i].msg);
	}
	assert_int_equal(rc, PM_OK);
	return r;
}

static struct ofr_rules *load_ok(const char *json)
{
	struct ofr_diags d = { 0 };
	struct ofr_rules *r = load(json, &d);
	ofr_diags_release(&d);
	return r;
}

/* Wrap rules into a rule set. */
static char *set_of(const char *rules)
{
	char *s = malloc(strlen(rules) + 200);
	sprintf(s, "{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"t\",\"rules\":[%s]}", rules);
	return s;
}

struct basket {
	struct ofr_line l[16];
	size_t n;
};

static void add(struct basket *b, const char *gtin, int qty, int64_t cents)
{
	memset(&b->l[b->n], 0, sizeof(b->l[0]));
	strcpy(b->l[b->n].gtin, gtin);
	b->l[b->n].qty = qty;
	b->l[b->n].line_cents = cents;
	b->n++;
}

static struct ofr_card card_with(int consent)
{
	struct ofr_card c;
	memset(&c, 0, sizeof(c));
	strcpy(c.number, "6036010000001000005");
	c.known = true;
	c.consent = consent;
	c.tier = 1;
	c.points = 500;
	c.visits = 10;
	c.spend_cents = 50000;
	c.last_visit_us = NOW - 10 * DAY;
	return c;
}

static size_t decide(struct ofr_rules *r, struct basket *b, const struct ofr_card *c,
		     const struct ofr_profile *p, const struct ofr_ledger *l, struct ofr_decision *out)
{
	struct ofr_request req = { .items = b->l, .n_items = b->n, .card = c, .profile = p, .ledger = l,
				   .now_us = NOW, .sale_seq = 7 };
	assert_int_equal(ofr_decide(r, &req, out, NULL), PM_OK);
	return out->n;
}

/* Does rule_set fire (one offer printed) for basket + card? */
static bool fires(const char *rule, struct basket *b, const struct ofr_card *c, const struct ofr_profile *p)
{
	char *s = set_of(rule);
	struct ofr_rules *r = load_ok(s);
	struct ofr_decision d;
	size_t n = decide(r, b, c, p, NULL, &d);
	ofr_rules_free(r);
	free(s);
	return n == 1;
}

#define XSELL(when) "{\"id\":\"r\",\"kind\":\"cross_sell\",\"when\":" when ",\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}}"

static void test_mined_shape(void **state)
{
	(void)state;
	const char *mined =
		"{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"mined cross-sell\",\"generated_by\":\"posmark mine\",\"rules\":[\n"
		" {\"id\":\"mined-1\",\"campaign\":\"mined-cross-sell\",\"kind\":\"cross_sell\",\"priority\":810,\n"
		"  \"when\":{\"basket\":{\"all\":[{\"item\":\"" LAPTOP "\"}]}},\n"
		"  \"offer\":{\"item\":\"" SLEEVE "\",\"percent_off\":10},\n"
		"  \"stats\":{\"support\":0.0123,\"confidence\":0.81,\"lift\":3.2,\"count\":121}}]}";
	struct ofr_diags d = { 0 };
	struct ofr_rules *r = load(mined, &d);
	assert_int_equal(d.errors + d.warnings, 0);
	assert_int_equal(ofr_rules_count(r), 1);
	struct basket b = { .n = 0 };
	struct ofr_decision dec;
	add(&b, LAPTOP, 1, 49900);
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &dec), 1);
	assert_string_equal(dec.offers[0].gtin, SLEEVE);
	assert_string_equal(dec.offers[0].campaign, "mined-cross-sell");
	assert_int_equal(dec.offers[0].priority, 810);
	assert_int_equal(dec.offers[0].kind, OFR_CROSS_SELL);
	ofr_rules_free(r);
	ofr_diags_release(&d);
}

static int find_line(const struct ofr_diags *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle))
			return d->v[i].line;
	return -1;
}

static void test_diagnostics_lines(void **state)
{
	(void)state;
	struct ofr_rules *r = NULL;
	struct ofr_diags d = { 0 };
	const char *syntax = "{\"format\":\"posmark-rules\",\n\"version\":1,\n\"rules\":[\n{\"id\":\"a\",,}]}";
	assert_int_equal(ofr_rules_load(syntax, strlen(syntax), &cat, "", &r, &d), PM_EINVAL);
	assert_null(r);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 4);
	ofr_diags_release(&d);

	const char *bad =
		"{\"format\":\"posmark-rules\",\"version\":1,\n"       /* 1 */
		" \"rules\":[\n"                                      /* 2 */
		"  {\"id\":\"a\",\"kind\":\"cross_sell\",\n"          /* 3 */
		"   \"when\":{\"basket\":{\"all\":[{\"item\":\"12345\"}]}},\n" /* 4 */
		"   \"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":150}},\n" /* 5 */
		"  {\"id\":\"a\",\"kind\":\"teleport\",\"offer\":{}},\n"  /* 6 */
		"  {\"id\":\"c\",\"kind\":\"cross_sell\",\"colour\":\"red\",\n" /* 7 */
		"   \"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":5}},\n" /* 8 */
		"  {\"id\":\"c\",\"kind\":\"promotion\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5},\n" /* 9 */
		"   \"valid_from\":\"2026-13-01\"}\n"                   /* 10 */
		" ]}\n";
	assert_int_equal(ofr_rules_load(bad, strlen(bad), &cat, "", &r, &d), PM_EINVAL);
	assert_int_equal(find_line(&d, "'item' must be a GTIN"), 4);
	assert_int_equal(find_line(&d, "'percent_off' must be"), 5);
	assert_int_equal(find_line(&d, "'kind' must be"), 6);
	assert_int_equal(find_line(&d, "unknown key 'colour'"), 7);
	assert_int_equal(find_line(&d, "'valid_from' must be"), 10);
	assert_true(d.errors >= 4);
	assert_true(d.warnings >= 1);
	ofr_diags_release(&d);

	const char *dup = "{\"format\":\"posmark-rules\",\"version\":1,\"rules\":[\n"
			  XSELL("{}") ",\n" XSELL("{}") "]}";
	assert_int_equal(ofr_rules_load(dup, strlen(dup), &cat, "", &r, &d), PM_EINVAL);
	assert_int_equal(find_line(&d, "used twice"), 3);
	ofr_diags_release(&d);

	const char *newer = "{\"format\":\"posmark-rules\",\"version\":2,\"rules\":[]}";
	assert_int_equal(ofr_rules_load(newer, strlen(newer), &cat, "", &r, &d), PM_EVERSION);
	ofr_diags_release(&d);
	const char *notset = "[1,2]";
	assert_int_equal(ofr_rules_load(notset, strlen(notset), &cat, "", &r, &d), PM_EINVAL);
	ofr_diags_release(&d);
	const char *wrongfmt = "{\"format\":\"other\",\"version\":1,\"rules\":[]}";
	assert_int_equal(ofr_rules_load(wrongfmt, strlen(wrongfmt), &cat, "", &r, &d), PM_EINVAL);
	ofr_diags_release(&d);
}

static void test_unknown_items(void **state)
{
	(void)state;
	/* 4000000000006 is a valid GTIN that the catalog does not have */
	char *s = set_of("{\"id\":\"u\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" MILK "\"}]}},"
			 "\"offer\":{\"item\":\"4000000000006\",\"percent_off\":10}}");
	struct ofr_diags d = { 0 };
	struct ofr_rules *r = load(s, &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_non_null(strstr(d.v[0].msg, "not in the catalog"));
	struct basket b = { .n = 0 };
	struct ofr_decision dec;
	add(&b, MILK, 1, 109);
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &dec), 0);  /* never prints what it cannot name */
	ofr_rules_free(r);
	ofr_diags_release(&d);
	free(s);
}

static void test_basket_conditions(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	add(&b, MILK, 2, 218);
	add(&b, COFFEE, 1, 249);
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\"}]}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"5012342000018\"}]}}"), &b, NULL, NULL)); /* EAN-13 */
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\",\"min_qty\":2}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\",\"min_qty\":3}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\"},{\"item\":\"" LAPTOP "\"}]}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"category\":\"Coffee\"}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"all\":[{\"category\":\"Electronics\"}]}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"brand\":\"Farmhouse\"}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"all\":[{\"brand\":\"Lavazza\"}]}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"any\":[{\"item\":\"" LAPTOP "\"},{\"brand\":\"Farmhouse\"}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"any\":[{\"item\":\"" LAPTOP "\"},{\"brand\":\"Lavazza\"}]}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\"}],\"none\":[{\"item\":\"" LAPTOP "\"}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\"}],\"none\":[{\"category\":\"Coffee\"}]}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"min_spend_cents\":467}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"min_spend_cents\":468}}"), &b, NULL, NULL));
	assert_true(fires(XSELL("{\"basket\":{\"min_qty\":3}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"min_qty\":4}}"), &b, NULL, NULL));
	/* nested: milk and (laptop or coffee) */
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\"},{\"any\":[{\"item\":\"" LAPTOP "\"},{\"category\":\"Coffee\"}]}]}}"), &b, NULL, NULL));
	assert_false(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" MILK "\"},{\"any\":[{\"item\":\"" LAPTOP "\"},{\"category\":\"Pantry\"}]}]}}"), &b, NULL, NULL));
}

static int hist_each(void *ctx, const char *card, ofr_sale_cb cb, void *cb_ctx)
{
	(void)card;
	int n = *(int *)ctx;
	struct ofr_line l[2];
	memset(l, 0, sizeof(l));
	for (int i = 0; i < n; i++) {
		strcpy(l[0].gtin, i % 2 ? COFFEE : MILK);
		l[0].qty = 1;
		l[0].line_cents = 200;
		/* sales every 3 days, the newest 5 days ago */
		struct ofr_sale_view v = { NOW - (5 + 3 * (int64_t)(n - 1 - i)) * DAY, 200, 1, l };
		int rc = cb(cb_ctx, &v);
		if (rc)
			return rc;
	}
	return 0;
}

static struct ofr_profile *profile_of(struct ofr_rules *r, const struct ofr_card *c, int sales)
{
	struct ofr_history_source h = { &sales, hist_each };
	struct ofr_profile *p = NULL;
	assert_int_equal(ofr_profile_build(r, c, &h, NOW, &p), PM_OK);
	return p;
}

#define CARDRULE(card) "{\"id\":\"r\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]},\"card\":" card "},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}}"

static void test_card_conditions(void **state)
{
	(void)state;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct basket b = { .n = 0 };
	add(&b, PASTA, 1, 69);
	char *s = set_of(CARDRULE("{}"));
	struct ofr_rules *r = load_ok(s);
	struct ofr_profile *p = profile_of(r, &c, 20);   /* 20 sales, last 5 days ago */
	assert_string_equal(ofr_profile_segment(p), "champions");
	assert_true(fires(CARDRULE("{\"tier_min\":1}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"tier_min\":2}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"tier_max\":0}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"points_min\":500}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"points_min\":501}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"points_max\":499}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"visits_min\":10}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"visits_max\":9}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"spend_min_cents\":50000}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"spend_min_cents\":50001}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"days_since_visit_min\":10}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"days_since_visit_min\":11}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"days_since_visit_max\":9}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"bought\":[{\"item\":\"" MILK "\",\"within_days\":10}]}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"bought\":[{\"item\":\"" LAPTOP "\",\"within_days\":365}]}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"bought\":[{\"category\":\"Coffee\",\"within_days\":10}]}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"bought\":[{\"category\":\"Coffee\",\"within_days\":4}]}"), &b, &c, p)); /* coffee last 5 days ago */
	assert_true(fires(CARDRULE("{\"not_bought\":[{\"item\":\"" LAPTOP "\",\"within_days\":30}]}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"not_bought\":[{\"category\":\"Dairy\",\"within_days\":30}]}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"segment\":[\"champions\",\"loyal\"]}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"segment\":\"lapsed\"}"), &b, &c, p));
	ofr_profile_free(p);
	/* lapsed: 5 sales, the newest 5 days ago, but ask 100 days later */
	ofr_rules_free(r);
	free(s);
}

static void test_empty_history(void **state)
{
	(void)state;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct basket b = { .n = 0 };
	add(&b, PASTA, 1, 69);
	char *s = set_of(CARDRULE("{}"));
	struct ofr_rules *r = load_ok(s);
	struct ofr_profile *p = profile_of(r, &c, 0);
	assert_string_equal(ofr_profile_segment(p), "none");
	assert_int_equal(ofr_profile_sales(p), 0);
	assert_false(fires(CARDRULE("{\"bought\":[{\"item\":\"" MILK "\",\"within_days\":10}]}"), &b, &c, p));
	assert_true(fires(CARDRULE("{\"not_bought\":[{\"item\":\"" MILK "\",\"within_days\":10}]}"), &b, &c, p));
	assert_false(fires(CARDRULE("{\"segment\":\"loyal\"}"), &b, &c, p));
	/* a basket-only rule still fires */
	assert_true(fires(XSELL("{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}}"), &b, &c, p));
	c.last_visit_us = 0;   /* a card never seen before */
	assert_false(fires(CARDRULE("{\"days_since_visit_min\":1}"), &b, &c, p));
	ofr_profile_free(p);
	ofr_rules_free(r);
	free(s);
}

static void test_consent(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	add(&b, PASTA, 1, 69);
	const char *personal = CARDRULE("{\"tier_min\":0}");
	const char *basket_only = XSELL("{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}}");
	const char *promo = "{\"id\":\"p\",\"kind\":\"promotion\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}";
	struct ofr_card yes = card_with(OFR_CONSENT_YES), unknown = card_with(OFR_CONSENT_UNKNOWN),
			no = card_with(OFR_CONSENT_NO);
	assert_true(fires(personal, &b, &yes, NULL));
	assert_false(fires(personal, &b, &unknown, NULL));   /* no yes: nothing using their data */
	assert_false(fires(personal, &b, &no, NULL));
	assert_false(fires(personal, &b, NULL, NULL));       /* no card */
	assert_true(fires(basket_only, &b, &unknown, NULL)); /* not personal */
	assert_true(fires(basket_only, &b, NULL, NULL));
	assert_false(fires(basket_only, &b, &no, NULL));     /* opted out: no targeted offer at all */
	assert_true(fires(promo, &b, &no, NULL));            /* a generic promotion is not targeted */
	/* points offers need a card */
	const char *pts = "{\"id\":\"x\",\"kind\":\"points_bonus\",\"offer\":{\"points\":50}}";
	assert_false(fires(pts, &b, NULL, NULL));
	assert_true(fires(pts, &b, &unknown, NULL));
}

static void test_caps(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	struct ofr_decision d;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	add(&b, PASTA, 1, 69);
	/* five rules fire: three print by default, limits can lower it */
	char *s = set_of(
		"{\"id\":\"a\",\"kind\":\"cross_sell\",\"priority\":900,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}},"
		"{\"id\":\"b\",\"kind\":\"cross_sell\",\"priority\":800,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" MILK "\",\"percent_off\":10}},"
		"{\"id\":\"c\",\"kind\":\"cross_sell\",\"priority\":700,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" COFFEE "\",\"percent_off\":10}},"
		"{\"id\":\"d\",\"kind\":\"cross_sell\",\"priority\":600,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" LAPTOP "\",\"percent_off\":10}},"
		"{\"id\":\"e\",\"kind\":\"cross_sell\",\"priority\":950,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" PASTA "\",\"percent_off\":10}}");
	struct ofr_rules *r = load_ok(s);
	assert_int_equal(decide(r, &b, &c, NULL, NULL, &d), 3);
	/* e offers what is in the basket: never */
	assert_string_equal(d.offers[0].rule_id, "a");
	assert_string_equal(d.offers[1].rule_id, "b");
	assert_string_equal(d.offers[2].rule_id, "c");
	struct ofr_request req = { .items = b.l, .n_items = b.n, .card = &c, .now_us = NOW, .max_offers = 1 };
	assert_int_equal(ofr_decide(r, &req, &d, NULL), PM_OK);
	assert_int_equal(d.n, 1);
	ofr_rules_free(r);
	free(s);

	/* frequency: once in 14 days per card; budget: 2 coupons per store */
	s = set_of("{\"id\":\"f\",\"campaign\":\"freq\",\"kind\":\"cross_sell\",\"frequency_days\":14,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}},"
		   "{\"id\":\"g\",\"campaign\":\"budget\",\"kind\":\"cross_sell\",\"budget\":2,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" MILK "\",\"percent_off\":10}}");
	r = load_ok(s);
	struct ofr_ledger *l;
	assert_int_equal(ofr_ledger_new(&l), PM_OK);
	assert_int_equal(decide(r, &b, &c, NULL, l, &d), 2);
	ofr_ledger_record(l, "freq", "f", c.number, NOW - 13 * DAY);
	ofr_ledger_record(l, "budget", "g", "", NOW);
	assert_int_equal(decide(r, &b, &c, NULL, l, &d), 1);
	assert_string_equal(d.offers[0].rule_id, "g");
	ofr_ledger_record(l, "budget", "g", "", NOW);
	assert_int_equal(ofr_ledger_issued(l, "budget"), 2);
	assert_int_equal(decide(r, &b, &c, NULL, l, &d), 0);
	struct ofr_card other = card_with(OFR_CONSENT_YES);
	strcpy(other.number, "6036010000001000377");
	assert_int_equal(decide(r, &b, &other, NULL, l, &d), 1);   /* the frequency cap is per card */
	ofr_ledger_free(l);
	assert_int_equal(ofr_ledger_new(&l), PM_OK);
	ofr_ledger_record(l, "freq", "f", c.number, NOW - 15 * DAY);   /* 15 days ago: allowed again */
	assert_int_equal(decide(r, &b, &c, NULL, l, &d), 2);
	ofr_ledger_free(l);
	ofr_rules_free(r);
	free(s);
}

static void test_holdout(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	struct ofr_decision d;
	struct ofr_coupon_key key;
	ofr_coupon_key_from_text("test key for the holdout test", &key);
	add(&b, PASTA, 1, 69);
	char *all = set_of("{\"id\":\"h\",\"kind\":\"cross_sell\",\"holdout_pct\":100,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}}");
	char *half = set_of("{\"id\":\"h\",\"kind\":\"cross_sell\",\"holdout_pct\":50,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}}");
	struct ofr_rules *r = load_ok(all);
	struct ofr_card c = card_with(OFR_CONSENT_UNKNOWN);
	struct ofr_request req = { .items = b.l, .n_items = b.n, .card = &c, .key = &key, .now_us = NOW };
	assert_int_equal(ofr_decide(r, &req, &d, NULL), PM_OK);
	assert_int_equal(d.n, 1);
	assert_true(d.offers[0].held_back);
	assert_string_equal(d.offers[0].coupon, "");   /* nothing to print or redeem */
	ofr_rules_free(r);
	r = load_ok(half);
	int held = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(c.number, sizeof(c.number), "60360100%011d", i);
		assert_int_equal(ofr_decide(r, &req, &d, NULL), PM_OK);
		bool h1 = d.offers[0].held_back;
		assert_int_equal(ofr_decide(r, &req, &d, NULL), PM_OK);
		assert_int_equal(h1, d.offers[0].held_back);   /* deterministic by card and campaign */
		held += h1;
		if (!h1)
			assert_int_equal(strlen(d.offers[0].coupon), 21);   /* coupon v2: "P" + 20 digits */
	}
	assert_in_range(held, 70, 130);
	ofr_rules_free(r);
	free(all);
	free(half);
}

static void test_ranking_and_lift(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	struct ofr_decision d;
	add(&b, PASTA, 1, 69);
	/* ranked by priority/confidence, never by lift; lift below min_lift filters */
	const char *json = "{\"format\":\"posmark-rules\",\"version\":1,\"limits\":{\"min_lift\":1.0},\"rules\":["
		"{\"id\":\"rare\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" LAPTOP "\",\"percent_off\":10},\"stats\":{\"support\":0.001,\"confidence\":0.2,\"lift\":30}},"
		"{\"id\":\"common\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10},\"stats\":{\"support\":0.05,\"confidence\":0.6,\"lift\":1.5}},"
		"{\"id\":\"negative\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" MILK "\",\"percent_off\":10},\"stats\":{\"support\":0.05,\"confidence\":0.9,\"lift\":0.8}},"
		"{\"id\":\"tie\",\"kind\":\"cross_sell\",\"priority\":600,\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" COFFEE "\",\"percent_off\":10},\"stats\":{\"support\":0.01,\"confidence\":0.6,\"lift\":2}}]}";
	struct ofr_rules *r = load_ok(json);
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &d), 3);
	assert_string_equal(d.offers[0].rule_id, "common");   /* 600, support 0.05 beats the tie's 0.01 */
	assert_string_equal(d.offers[1].rule_id, "tie");
	assert_string_equal(d.offers[2].rule_id, "rare");
	ofr_rules_free(r);
}

/* Two lanes, each with its own rule set, loading and deciding at the same
 * time: each gets the decision it gets alone (the ranking sorts keep their
 * context per thread; a shared one mixed the two sets' ranks). */
struct lane {
	char *json;
	int runs, bad, load_failed;
	char want[OFR_MAX_OFFERS][OFR_ID_MAX + 1];
	size_t want_n;
};

static int lane_decide(struct ofr_rules *r, struct ofr_decision *d)
{
	struct basket b = { .n = 0 };
	add(&b, PASTA, 1, 69);
	add(&b, MILK, 1, 109);
	struct ofr_request req = { .items = b.l, .n_items = b.n, .now_us = NOW, .sale_seq = 7 };
	return ofr_decide(r, &req, d, NULL);
}

/* rounds x (load the set, 50 decisions, free it) */
static void *lane_loop(void *arg)
{
	struct lane *l = arg;
	for (int round = 0; round < l->runs / 50; round++) {
		struct ofr_rules *r = NULL;
		struct ofr_diags diags = { 0 };
		int rc = ofr_rules_load(l->json, strlen(l->json), &cat, "store1", &r, &diags);
		ofr_diags_release(&diags);
		if (rc) {
			l->load_failed++;
			return NULL;
		}
		for (int k = 0; k < 50; k++) {
			struct ofr_decision d;
			if (lane_decide(r, &d) || d.n != l->want_n) {
				l->bad++;
				continue;
			}
			for (size_t j = 0; j < d.n; j++)
				if (strcmp(d.offers[j].rule_id, l->want[j]))
					l->bad++;
		}
		ofr_rules_free(r);
	}
	return NULL;
}

static void test_lanes_in_parallel(void **state)
{
	(void)state;
	static const char *const items[] = { SAUCE, COFFEE, LAVAZZA, LAPTOP, SLEEVE, ORGANIC };
	struct lane lanes[2] = { { .runs = 40000 }, { .runs = 40000 } };
	/* lane 0: a few rules; lane 1: 300, ranked in an order of their own */
	for (int k = 0; k < 2; k++) {
		int n = k ? 300 : 4;
		char *rules = malloc((size_t)n * 300 + 1);
		size_t o = 0;
		rules[0] = '\0';
		for (int i = 0; i < n; i++)
			o += (size_t)sprintf(rules + o,
					     "%s{\"id\":\"r%d\",\"kind\":\"cross_sell\",\"priority\":%d,"
					     "\"when\":{\"basket\":{\"all\":[{\"item\":\"%s\"}]}},"
					     "\"offer\":{\"item\":\"%s\",\"percent_off\":10}}",
					     i ? "," : "", i, k ? (i * 397) % 1000 : 100 + 200 * i,
					     i % 2 ? PASTA : MILK, items[(i * 7 + k) % 6]);
		lanes[k].json = set_of(rules);
		free(rules);
		struct ofr_rules *r = load_ok(lanes[k].json);
		struct ofr_decision d;
		assert_int_equal(lane_decide(r, &d), PM_OK);
		assert_true(d.n >= 2);
		lanes[k].want_n = d.n;
		for (size_t j = 0; j < d.n; j++)
			strcpy(lanes[k].want[j], d.offers[j].rule_id);
		ofr_rules_free(r);
	}
	pthread_t t[2];
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, lane_loop, &lanes[k]), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pthread_join(t[k], NULL), 0);
		assert_int_equal(lanes[k].load_failed, 0);
		assert_int_equal(lanes[k].bad, 0);
		free(lanes[k].json);
	}
}

static void test_upsell(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	struct ofr_decision d;
	add(&b, MILK, 1, 109);
	add(&b, COFFEE, 1, 249);
	char *empty = set_of("");   /* an empty rule set is valid and never fires */
	struct ofr_rules *r = load_ok(empty);
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &d), 0);
	ofr_rules_free(r);
	free(empty);
	char *s = set_of("{\"id\":\"up\",\"kind\":\"up_sell\",\"when\":{\"basket\":{\"all\":[{\"category\":\"Coffee\"}]}},\"offer\":{\"upgrade\":\"price\",\"category\":\"Coffee\",\"percent_off\":15}},"
			 "{\"id\":\"br\",\"kind\":\"up_sell\",\"offer\":{\"upgrade\":\"brand\",\"brand\":\"Alpenhof Organic\",\"category\":\"Dairy\",\"percent_off\":20}}");
	r = load_ok(s);
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &d), 2);
	for (size_t i = 0; i < d.n; i++) {
		if (!strcmp(d.offers[i].rule_id, "up"))
			assert_string_equal(d.offers[i].gtin, LAVAZZA);   /* the next price step, not the 1kg Illy */
		else
			assert_string_equal(d.offers[i].gtin, ORGANIC);
		assert_int_equal(d.offers[i].kind, OFR_UP_SELL);
	}
	/* the better product already in the basket: no up-sell to it */
	add(&b, LAVAZZA, 1, 449);
	add(&b, ORGANIC, 1, 179);
	/* and the 1kg Illy is more than 3x the price: not the same shelf step */
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &d), 0);
	ofr_rules_free(r);
	free(s);
}

static void test_window_and_store(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	add(&b, PASTA, 1, 69);
	/* NOW is 2026-11-18 */
	assert_true(fires("{\"id\":\"w\",\"kind\":\"promotion\",\"valid_from\":\"2026-11-01\",\"valid_until\":\"2026-11-30\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}", &b, NULL, NULL));
	assert_false(fires("{\"id\":\"w\",\"kind\":\"promotion\",\"valid_from\":\"2026-12-01\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}", &b, NULL, NULL));
	assert_false(fires("{\"id\":\"w\",\"kind\":\"promotion\",\"valid_until\":\"2026-11-17\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}", &b, NULL, NULL));
	assert_true(fires("{\"id\":\"s\",\"kind\":\"promotion\",\"stores\":[\"store1\",\"store9\"],\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}", &b, NULL, NULL));
	assert_false(fires("{\"id\":\"s\",\"kind\":\"promotion\",\"stores\":[\"store9\"],\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}", &b, NULL, NULL));
	/* campaign-level limits apply to their rules */
	const char *json = "{\"format\":\"posmark-rules\",\"version\":1,\"campaigns\":{\"x\":{\"stores\":[\"store9\"]}},\"rules\":["
			   "{\"id\":\"s\",\"campaign\":\"x\",\"kind\":\"promotion\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}]}";
	struct ofr_rules *r = load_ok(json);
	struct ofr_decision d;
	assert_int_equal(decide(r, &b, NULL, NULL, NULL, &d), 0);
	ofr_rules_free(r);
}

struct trace_rec {
	int verdicts[32];
	char why[32][200];
	int n;
};

static void on_note(void *ctx, const char *rule, const char *campaign, int verdict, const char *why, int rank)
{
	struct trace_rec *t = ctx;
	(void)campaign;
	(void)rank;
	if (t->n < 32) {
		t->verdicts[t->n] = verdict;
		snprintf(t->why[t->n], sizeof(t->why[0]), "%s: %s", rule, why);
		t->n++;
	}
}

static void test_trace(void **state)
{
	(void)state;
	struct basket b = { .n = 0 };
	struct ofr_decision d;
	struct ofr_card c = card_with(OFR_CONSENT_UNKNOWN);
	add(&b, PASTA, 1, 69);
	char *s = set_of(XSELL("{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}}") ","
			 "{\"id\":\"nomatch\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" MILK "\"}]}},\"offer\":{\"item\":\"" SAUCE "\",\"percent_off\":10}},"
			 "{\"id\":\"personal\",\"kind\":\"cross_sell\",\"when\":{\"card\":{\"tier_min\":0}},\"offer\":{\"item\":\"" MILK "\",\"percent_off\":10}},"
			 "{\"id\":\"inbasket\",\"kind\":\"cross_sell\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" PASTA "\",\"percent_off\":10}}");
	struct ofr_rules *r = load_ok(s);
	struct trace_rec t = { .n = 0 };
	struct ofr_trace tr = { &t, on_note };
	struct ofr_request req = { .items = b.l, .n_items = b.n, .card = &c, .now_us = NOW, .naive = true };
	assert_int_equal(ofr_decide(r, &req, &d, &tr), PM_OK);
	assert_int_equal(t.n, 4);   /* every rule, with its verdict */
	int seen[OFR_V_DUPLICATE + 1] = { 0 };
	for (int i = 0; i < t.n; i++)
		seen[t.verdicts[i]]++;
	assert_int_equal(seen[OFR_V_CHOSEN], 1);
	assert_int_equal(seen[OFR_V_NOT_MATCHED], 1);
	assert_int_equal(seen[OFR_V_NO_CONSENT], 1);
	assert_int_equal(seen[OFR_V_IN_BASKET], 1);
	for (int i = 0; i < t.n; i++)
		if (t.verdicts[i] == OFR_V_NOT_MATCHED)
			assert_non_null(strstr(t.why[i], "basket has 0 of item " MILK));
	/* the indexed decision looks only at rules the basket can trigger */
	struct trace_rec t2 = { .n = 0 };
	tr.ctx = &t2;
	req.naive = false;
	assert_int_equal(ofr_decide(r, &req, &d, &tr), PM_OK);
	assert_int_equal(t2.n, 3);
	assert_int_equal(d.candidates, 3);
	ofr_rules_free(r);
	free(s);
}

static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

/* The index must never change a decision: random rule sets, random baskets. */
static void test_index_equals_naive(void **state)
{
	(void)state;
	static const char *const items[] = { MILK, ORGANIC, COFFEE, LAVAZZA, LAPTOP, SLEEVE, PASTA, SAUCE };
	static const char *const cats[] = { "Dairy", "Coffee", "Electronics", "Pantry" };
	size_t cap = 1 << 20, o = 0;
	char *json = malloc(cap);
	unsigned seed = 12345;
#define RND(n) rnd(&seed, n)
	o += (size_t)sprintf(json + o, "{\"format\":\"posmark-rules\",\"version\":1,\"rules\":[");
	for (int i = 0; i < 300; i++) {
		const char *a = items[RND(8)], *t = items[RND(8)], *a2 = items[RND(8)], *c = cats[RND(4)];
		int shape = (int)RND(4), prio = (int)RND(1000);
		o += (size_t)sprintf(json + o, "%s{\"id\":\"r%d\",\"kind\":\"cross_sell\",\"priority\":%d,\"when\":{\"basket\":", i ? "," : "", i, prio);
		if (shape == 0)
			o += (size_t)sprintf(json + o, "{\"all\":[{\"item\":\"%s\"},{\"item\":\"%s\"}]}", a, a2);
		else if (shape == 1)
			o += (size_t)sprintf(json + o, "{\"any\":[{\"item\":\"%s\"},{\"category\":\"%s\"}]}", a, c);
		else if (shape == 2)
			o += (size_t)sprintf(json + o, "{\"all\":[{\"category\":\"%s\"}],\"none\":[{\"item\":\"%s\"}]}", c, a);
		else
			o += (size_t)sprintf(json + o, "{\"min_spend_cents\":%d}", (int)RND(3000));
		o += (size_t)sprintf(json + o, "},\"offer\":{\"item\":\"%s\",\"percent_off\":10}}", t);
	}
	o += (size_t)sprintf(json + o, "]}");
	struct ofr_rules *r = load_ok(json);
	for (int k = 0; k < 300; k++) {
		struct basket b = { .n = 0 };
		int n = 1 + (int)RND(4);
		for (int i = 0; i < n; i++) {
			const char *g = items[RND(8)];
			int q = 1 + (int)RND(2), cents = 100 + (int)RND(1000);
			add(&b, g, q, cents);
		}
		struct ofr_decision d1, d2;
		struct ofr_request req = { .items = b.l, .n_items = b.n, .now_us = NOW };
		assert_int_equal(ofr_decide(r, &req, &d1, NULL), PM_OK);
		req.naive = true;
		assert_int_equal(ofr_decide(r, &req, &d2, NULL), PM_OK);
		assert_int_equal(d1.n, d2.n);
		assert_true(d1.fired <= d2.fired);
		assert_true(d1.candidates <= d2.candidates);
		for (size_t i = 0; i < d1.n; i++)
			assert_string_equal(d1.offers[i].rule_id, d2.offers[i].rule_id);
	}
	ofr_rules_free(r);
	free(json);
#undef RND
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mined_shape),
		cmocka_unit_test(test_diagnostics_lines),
		cmocka_unit_test(test_unknown_items),
		cmocka_unit_test(test_basket_conditions),
		cmocka_unit_test(test_card_conditions),
		cmocka_unit_test(test_empty_history),
		cmocka_unit_test(test_consent),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_holdout),
		cmocka_unit_test(test_ranking_and_lift),
		cmocka_unit_test(test_lanes_in_parallel),
		cmocka_unit_test(test_upsell),
		cmocka_unit_test(test_window_and_store),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_index_equals_naive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
