/*
 * test_offers_mix.c - offers that know the customer (issue 16): personal
 * candidates from the card's history (time-decayed), explore rules, the one
 * ranking with its repeat limit and back-fill, consent at decision time, and
 * the index against the naive evaluation with all of them mixed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "offers/offers.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <math.h>

#define DAY (INT64_C(86400) * 1000000)
#define NOW (INT64_C(1795000000) * 1000000)

static const struct ofr_product catalog[] = {
	{ "05012342000018", "Farmhouse Whole milk 1L", "Dairy", "Farmhouse", 109 },
	{ "04006017000015", "Alpenhof Organic Whole milk 1L", "Dairy", "Alpenhof Organic", 179 },
	{ "05012340000195", "Store Basics Ground coffee 250g", "Coffee", "Store Basics", 249 },
	{ "04006561000011", "Lavazza Ground coffee 250g", "Coffee", "Lavazza", 449 },
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

static struct ofr_rules *load_ok(const char *json)
{
	struct ofr_rules *r = NULL;
	struct ofr_diags d = { 0 };
	int rc = ofr_rules_load(json, strlen(json), &cat, "store1", &r, &d);
	for (size_t i = 0; rc && i < d.n; i++)
		fprintf(stderr, "%d: %s\n", d.v[i].line, d.v[i].msg);
	assert_int_equal(rc, PM_OK);
	ofr_diags_release(&d);
	return r;
}

/* A history: sales of one item each, `days` ago. */
struct hsale {
	const char *gtin;
	int days;
};
struct hist {
	const struct hsale *v;
	size_t n;
};

static int hist_each(void *ctx, const char *card, ofr_sale_cb cb, void *cb_ctx)
{
	const struct hist *h = ctx;
	(void)card;
	for (size_t i = 0; i < h->n; i++) {
		struct ofr_line l;
		memset(&l, 0, sizeof(l));
		strcpy(l.gtin, h->v[i].gtin);
		l.qty = 1;
		l.line_cents = 100;
		struct ofr_sale_view s = { NOW - h->v[i].days * DAY, 100, 1, &l };
		int rc = cb(cb_ctx, &s);
		if (rc)
			return rc;
	}
	return 0;
}

static struct ofr_card card_with(int consent)
{
	struct ofr_card c;
	memset(&c, 0, sizeof(c));
	strcpy(c.number, "6036010000001000005");
	c.known = true;
	c.consent = consent;
	return c;
}

static struct ofr_profile *profile_of(struct ofr_rules *r, const struct ofr_card *c, const struct hsale *v, size_t n)
{
	struct hist h = { v, n };
	struct ofr_history_source src = { &h, hist_each };
	struct ofr_profile *p = NULL;
	assert_int_equal(ofr_profile_build(r, c, &src, NOW, &p), PM_OK);
	return p;
}

static void decide(struct ofr_rules *r, const char *basket_item, const struct ofr_card *c,
		   const struct ofr_profile *p, bool naive, struct ofr_decision *d)
{
	struct ofr_line l;
	memset(&l, 0, sizeof(l));
	strcpy(l.gtin, basket_item);
	l.qty = 1;
	l.line_cents = 100;
	struct ofr_request req = { .items = &l, .n_items = 1, .card = c, .profile = p, .now_us = NOW,
				   .sale_seq = 3, .naive = naive };
	assert_int_equal(ofr_decide(r, &req, d, NULL), PM_OK);
}

#define SET(limits, rules) "{\"format\":\"posmark-rules\",\"version\":1,\"limits\":{" limits "},\"rules\":[" rules "]}"
#define PERSONAL "{\"id\":\"me\",\"campaign\":\"personal\",\"kind\":\"personal\",\"personal\":{\"half_life_days\":30},\"offer\":{\"percent_off\":5}}"
#define EXPLORE(id, from, to, conf) "{\"id\":\"" id "\",\"campaign\":\"explore\",\"kind\":\"explore\",\"when\":{\"basket\":{\"all\":[{\"item\":\"" from "\"}]}},\"offer\":{\"item\":\"" to "\",\"percent_off\":10},\"stats\":{\"confidence\":" conf ",\"lift\":3.0}}"
#define POPULAR(id, to, conf) "{\"id\":\"" id "\",\"campaign\":\"explore\",\"kind\":\"explore\",\"offer\":{\"item\":\"" to "\",\"percent_off\":10},\"stats\":{\"confidence\":" conf "}}"

/* milk: 3 recent sales; coffee: 2 older; lavazza: 1 very old; organic: 1 recent */
static const struct hsale HIST[] = {
	{ MILK, 2 }, { MILK, 9 }, { MILK, 16 }, { COFFEE, 40 }, { COFFEE, 70 }, { LAVAZZA, 300 }, { ORGANIC, 5 },
};
#define NHIST (sizeof(HIST) / sizeof(HIST[0]))

static double decayed(const char *gtin)
{
	double all = 0, mine = 0;
	for (size_t i = 0; i < NHIST; i++) {
		double w = exp2(-HIST[i].days / 30.0);
		all += w;
		if (!strcmp(HIST[i].gtin, gtin))
			mine += w;
	}
	return mine / (all + 4.0);   /* prior_weight 4, no repeat rate given: prior 0 */
}

static void test_personal_scores(void **state)
{
	(void)state;
	struct ofr_rules *r = load_ok(SET("\"max_repeats\":3", PERSONAL));
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct ofr_profile *p = profile_of(r, &c, HIST, NHIST);
	struct ofr_decision d;
	assert_int_equal(ofr_profile_personal_count(p), 4);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 3);
	/* by decayed share: milk (3 recent), organic (1 recent), coffee (2 older); lavazza is last */
	assert_string_equal(d.offers[0].gtin, MILK);
	assert_string_equal(d.offers[1].gtin, ORGANIC);
	assert_string_equal(d.offers[2].gtin, COFFEE);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(d.offers[i].signal, OFR_SIG_PERSONAL);
		assert_int_equal(d.offers[i].kind, OFR_PERSONAL);
		assert_true(d.offers[i].repeat);
		assert_int_equal(d.offers[i].benefit, OFR_PERCENT_ITEM);
		assert_int_equal(d.offers[i].value, 5);
		assert_true(fabs(d.offers[i].score - decayed(d.offers[i].gtin)) < 1e-9);
	}
	/* an item in the basket is not offered: the next one moves up */
	decide(r, MILK, &c, p, false, &d);
	assert_string_equal(d.offers[0].gtin, ORGANIC);
	assert_string_equal(d.offers[2].gtin, LAVAZZA);
	ofr_profile_free(p);
	ofr_rules_free(r);
	/* the store's repeat rate is the prior: an item customers always buy again moves up */
	r = load_ok(SET("\"max_repeats\":3", "{\"id\":\"me\",\"kind\":\"personal\",\"personal\":{\"half_life_days\":30,"
			"\"prior_weight\":4,\"repeat_rates\":{\"" LAVAZZA "\":1.0,\"" MILK "\":0.1}},\"offer\":{\"percent_off\":5}}"));
	p = profile_of(r, &c, HIST, NHIST);
	decide(r, PASTA, &c, p, false, &d);
	assert_string_equal(d.offers[0].gtin, LAVAZZA);
	double all = 0;
	for (size_t i = 0; i < NHIST; i++)
		all += exp2(-HIST[i].days / 30.0);
	assert_true(fabs(d.offers[0].score - (exp2(-300 / 30.0) + 4 * 1.0) / (all + 4)) < 1e-6);
	assert_string_equal(d.offers[1].gtin, MILK);
	ofr_profile_free(p);
	ofr_rules_free(r);
}

static void test_consent_gates_personal(void **state)
{
	(void)state;
	struct ofr_rules *r = load_ok(SET("", PERSONAL "," POPULAR("pop", SLEEVE, "0.05")));
	struct ofr_card yes = card_with(OFR_CONSENT_YES), unknown = card_with(OFR_CONSENT_UNKNOWN),
			no = card_with(OFR_CONSENT_NO);
	struct ofr_profile *p = profile_of(r, &yes, HIST, NHIST);
	struct ofr_decision d;
	decide(r, PASTA, &yes, p, false, &d);
	assert_int_equal(d.offers[0].signal, OFR_SIG_PERSONAL);
	/* the same profile, but the card says no (or was never asked) when deciding: no history at all */
	decide(r, PASTA, &unknown, p, false, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.offers[0].gtin, SLEEVE);
	assert_false(d.offers[0].repeat);
	decide(r, PASTA, &no, p, false, &d);
	assert_int_equal(d.n, 0);
	ofr_profile_free(p);
	ofr_rules_free(r);
}

static void test_repeat_limit_and_backfill(void **state)
{
	(void)state;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct ofr_decision d;
	/* default limit 2: two personal items, then the explore offer; the third personal waits */
	struct ofr_rules *r = load_ok(SET("", PERSONAL "," EXPLORE("x1", PASTA, LAPTOP, "0.02")));
	struct ofr_profile *p = profile_of(r, &c, HIST, NHIST);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.offers[0].gtin, MILK);
	assert_string_equal(d.offers[1].gtin, ORGANIC);
	assert_string_equal(d.offers[2].gtin, LAPTOP);
	assert_int_equal(d.offers[2].signal, OFR_SIG_EXPLORE);
	assert_false(d.offers[2].repeat);
	ofr_profile_free(p);
	ofr_rules_free(r);
	/* nothing but personal: the receipt is back-filled past the limit, never left short */
	r = load_ok(SET("\"max_repeats\":1", PERSONAL));
	p = profile_of(r, &c, HIST, NHIST);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.offers[0].signal, OFR_SIG_PERSONAL);
	assert_int_equal(d.offers[1].signal, OFR_SIG_BACKFILL);
	assert_int_equal(d.offers[2].signal, OFR_SIG_BACKFILL);
	assert_string_equal(d.offers[1].gtin, ORGANIC);
	ofr_profile_free(p);
	ofr_rules_free(r);
	/* a cross-sell rule for an item the card buys counts as a repeat too */
	r = load_ok(SET("\"max_repeats\":1", PERSONAL ",{\"id\":\"xs\",\"kind\":\"cross_sell\",\"priority\":990,"
			"\"when\":{\"basket\":{\"all\":[{\"item\":\"" PASTA "\"}]}},\"offer\":{\"item\":\"" COFFEE "\",\"percent_off\":10}},"
			POPULAR("pop", SLEEVE, "0.01")));
	p = profile_of(r, &c, HIST, NHIST);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.offers[0].gtin, COFFEE);
	assert_int_equal(d.offers[0].signal, OFR_SIG_RULE);
	assert_true(d.offers[0].repeat);
	assert_string_equal(d.offers[1].gtin, SLEEVE);   /* the popular back-fill, new to the card */
	assert_string_equal(d.offers[2].gtin, MILK);     /* then the best repeat, past the limit */
	assert_int_equal(d.offers[2].signal, OFR_SIG_BACKFILL);
	ofr_profile_free(p);
	ofr_rules_free(r);
}

static void test_explore_new_items_only(void **state)
{
	(void)state;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct ofr_decision d;
	struct ofr_rules *r = load_ok(SET("", EXPLORE("x1", PASTA, MILK, "0.5") "," EXPLORE("x2", PASTA, SAUCE, "0.1")));
	struct ofr_profile *p = profile_of(r, &c, HIST, NHIST);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.offers[0].gtin, SAUCE);   /* milk is not new to this card */
	/* anonymous: nothing is known, both are offered, best first */
	decide(r, PASTA, NULL, NULL, false, &d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.offers[0].gtin, MILK);
	ofr_profile_free(p);
	ofr_rules_free(r);
}

/* Scored explore: one ranking where a new item's estimate (weight x novelty x the history's and the
 * basket's steps to it) competes with the card's repeats for every slot. */
#define SCORED(w) SET("\"max_repeats\":3,\"explore_weight\":" w ",\"explore_novelty\":0.5", \
		      PERSONAL "," EXPLORE("x1", COFFEE, SAUCE, "0.5") "," EXPLORE("x2", PASTA, LAPTOP, "0.4") "," \
		      POPULAR("pop", SLEEVE, "0.05"))

static double hist_weight(const char *gtin)
{
	double w = 0;
	for (size_t i = 0; i < NHIST; i++)
		if (!gtin || !strcmp(HIST[i].gtin, gtin))
			w += exp2(-HIST[i].days / 30.0);
	return w;
}

struct notes {
	char why[8][300];
	char rule[8][64];
	int n;
};

static void keep_note(void *ctx, const char *rule_id, const char *campaign, int verdict, const char *why, int rank)
{
	struct notes *t = ctx;
	(void)campaign;
	(void)rank;
	if ((verdict == OFR_V_CHOSEN || verdict == OFR_V_HELD_BACK) && t->n < 8) {
		snprintf(t->why[t->n], sizeof(t->why[0]), "%s", why);
		snprintf(t->rule[t->n++], sizeof(t->rule[0]), "%s", rule_id);
	}
}

static void test_scored_explore_slots(void **state)
{
	(void)state;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct ofr_decision d;
	double all1 = hist_weight(NULL) + 1;   /* the card's decayed sales + the basket */
	/* seven one-item sales, four items: novelty (4 - 1) / (7 - 1) = 0.5, the store's 0.5: x1 */
	/* weight 1: milk and organic (repeats) beat every new item, the third slot goes to the laptop
	 * (basket pasta -> laptop 0.4 / all1 = 0.081) over coffee (0.075): the slot adapts */
	struct ofr_rules *r = load_ok(SCORED("1"));
	struct ofr_profile *p = profile_of(r, &c, HIST, NHIST);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.offers[0].gtin, MILK);
	assert_string_equal(d.offers[1].gtin, ORGANIC);
	assert_string_equal(d.offers[2].gtin, LAPTOP);
	assert_int_equal(d.offers[2].signal, OFR_SIG_EXPLORE);
	assert_true(fabs(d.offers[2].score - 0.4 / all1) < 1e-9);
	/* a basket of milk (no pasta, milk not offered): organic, coffee, then sauce from the history
	 * (coffee -> sauce: share(coffee) x 0.5 = 0.060) before lavazza (a repeat scoring 0.0001) */
	decide(r, MILK, &c, p, false, &d);
	assert_string_equal(d.offers[0].gtin, ORGANIC);
	assert_string_equal(d.offers[1].gtin, COFFEE);
	assert_string_equal(d.offers[2].gtin, SAUCE);
	assert_int_equal(d.offers[2].signal, OFR_SIG_EXPLORE);
	assert_true(fabs(d.offers[2].score - hist_weight(COFFEE) / all1 * 0.5) < 1e-9);
	ofr_profile_free(p);
	ofr_rules_free(r);
	/* weight 100: new items first; sauce comes from the history (coffee -> sauce), not the basket */
	r = load_ok(SCORED("100"));
	p = profile_of(r, &c, HIST, NHIST);
	struct notes t = { .n = 0 };
	struct ofr_trace tr = { &t, keep_note };
	struct ofr_line l = { .qty = 1, .line_cents = 100 };
	strcpy(l.gtin, PASTA);
	struct ofr_request req = { .items = &l, .n_items = 1, .card = &c, .profile = p, .now_us = NOW, .sale_seq = 3 };
	assert_int_equal(ofr_decide(r, &req, &d, &tr), PM_OK);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.offers[0].gtin, LAPTOP);   /* 100 x 0.4 / all1 */
	assert_string_equal(d.offers[1].gtin, SAUCE);    /* 100 x share(coffee) x 0.5 */
	assert_true(fabs(d.offers[1].score - 100 * hist_weight(COFFEE) / all1 * 0.5) < 1e-9);
	assert_string_equal(d.offers[2].gtin, SLEEVE);   /* the back-fill bestseller: 100 x 0.05 / all1 */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(d.offers[i].signal, OFR_SIG_EXPLORE);
		assert_false(d.offers[i].repeat);
	}
	assert_int_equal(t.n, 3);
	assert_non_null(strstr(t.why[1], "buyers of its item " COFFEE));
	assert_non_null(strstr(t.why[1], "weight 100.00 x novelty 1.00"));
	assert_non_null(strstr(t.why[2], "store bestseller new to the card"));
	/* the holder has not said yes: no history explore, no personal; the basket's rules still run */
	struct ofr_card u = card_with(OFR_CONSENT_UNKNOWN);
	decide(r, PASTA, &u, p, false, &d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.offers[0].gtin, LAPTOP);
	assert_string_equal(d.offers[1].gtin, SLEEVE);
	ofr_profile_free(p);
	ofr_rules_free(r);
}

static void test_scored_explore_novelty(void **state)
{
	(void)state;
	struct ofr_card c = card_with(OFR_CONSENT_YES);
	struct ofr_decision d;
	struct ofr_rules *r = load_ok(SCORED("100"));
	/* a card that only ever buys coffee: novelty 0, new items score 0, its repeats and then the
	 * zero-scored new items in rank order */
	static const struct hsale same[] = { { COFFEE, 3 }, { COFFEE, 10 }, { COFFEE, 17 } };
	struct ofr_profile *p = profile_of(r, &c, same, 3);
	decide(r, PASTA, &c, p, false, &d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.offers[0].gtin, COFFEE);
	assert_true(d.offers[1].score == 0 && d.offers[2].score == 0);
	ofr_profile_free(p);
	/* a card whose every item was new: novelty 1 over the store's 0.5 doubles the new items' scores */
	static const struct hsale fresh[] = { { COFFEE, 3 }, { MILK, 10 }, { ORGANIC, 17 } };
	p = profile_of(r, &c, fresh, 3);
	decide(r, PASTA, &c, p, false, &d);
	double all1 = exp2(-3 / 30.0) + exp2(-10 / 30.0) + exp2(-17 / 30.0) + 1;
	assert_string_equal(d.offers[0].gtin, SAUCE);    /* 100 x 2 x share(coffee) x 0.5 */
	assert_true(fabs(d.offers[0].score - 100 * 2 * exp2(-3 / 30.0) / all1 * 0.5) < 1e-9);
	assert_string_equal(d.offers[1].gtin, LAPTOP);   /* 100 x 2 x 0.4 / all1 */
	assert_true(fabs(d.offers[1].score - 100 * 2 * 0.4 / all1) < 1e-9);
	ofr_profile_free(p);
	ofr_rules_free(r);
}

static void test_format_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		SET("", "{\"id\":\"p\",\"kind\":\"personal\",\"offer\":{\"item\":\"" MILK "\",\"percent_off\":5}}"),
		SET("", "{\"id\":\"p\",\"kind\":\"personal\",\"personal\":{\"half_life_days\":0},\"offer\":{\"percent_off\":5}}"),
		SET("", "{\"id\":\"p\",\"kind\":\"cross_sell\",\"personal\":{},\"offer\":{\"item\":\"" MILK "\",\"percent_off\":5}}"),
		SET("", "{\"id\":\"x\",\"kind\":\"explore\",\"offer\":{\"category\":\"Dairy\",\"percent_off\":5}}"),
		SET("\"max_repeats\":9", PERSONAL),
		SET("\"explore_weight\":-1", PERSONAL),
		SET("\"explore_novelty\":1.5", PERSONAL),
		SET("\"explore_weight\":\"high\"", PERSONAL),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ofr_rules *r = NULL;
		struct ofr_diags d = { 0 };
		assert_int_equal(ofr_rules_load(bad[i], strlen(bad[i]), &cat, "", &r, &d), PM_EINVAL);
		assert_null(r);
		assert_true(d.errors > 0);
		ofr_diags_release(&d);
	}
}

static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % n;
}

/* The index (merged with the personal list) never changes a decision: random sets, histories, baskets. */
static void test_index_equals_naive_mixed(void **state)
{
	(void)state;
	static const char *const items[] = { MILK, ORGANIC, COFFEE, LAVAZZA, LAPTOP, SLEEVE, PASTA, SAUCE };
	unsigned seed = 777;
#define RND(n) rnd(&seed, n)
	for (int set = 0; set < 20; set++) {
		char *json = malloc(1 << 16);
		static const char *const weights[] = { "0", "0.5", "2", "50" };
		size_t o = (size_t)sprintf(json, "{\"format\":\"posmark-rules\",\"version\":1,\"limits\":{\"max_repeats\":%u,"
					   "\"explore_weight\":%s,\"explore_novelty\":0.5},\"rules\":[" PERSONAL, RND(4),
					   weights[RND(4)]);
		for (int i = 0; i < 60; i++) {
			const char *a = items[RND(8)], *t = items[RND(8)];
			int kind = (int)RND(3), prio = (int)RND(1000);
			if (kind == 2)
				o += (size_t)sprintf(json + o, ",{\"id\":\"p%d\",\"kind\":\"explore\",\"priority\":%d,"
						     "\"offer\":{\"item\":\"%s\",\"percent_off\":5}}", i, prio, t);
			else
				o += (size_t)sprintf(json + o, ",{\"id\":\"r%d\",\"kind\":\"%s\",\"priority\":%d,\"when\":{\"basket\":"
						     "{\"all\":[{\"item\":\"%s\"}]}},\"offer\":{\"item\":\"%s\",\"percent_off\":10}}",
						     i, kind ? "explore" : "cross_sell", prio, a, t);
		}
		sprintf(json + o, "]}");
		struct ofr_rules *r = load_ok(json);
		for (int k = 0; k < 40; k++) {
			struct hsale h[12];
			size_t nh = RND(12);
			for (size_t i = 0; i < nh; i++)
				h[i] = (struct hsale){ items[RND(8)], (int)RND(200) };
			struct ofr_card c = card_with(RND(4) ? OFR_CONSENT_YES : OFR_CONSENT_UNKNOWN);
			struct ofr_profile *p = profile_of(r, &c, h, nh);
			struct ofr_decision d1, d2;
			const char *b = items[RND(8)];
			decide(r, b, &c, p, false, &d1);
			decide(r, b, &c, p, true, &d2);
			assert_int_equal(d1.n, d2.n);
			for (size_t i = 0; i < d1.n; i++) {
				assert_string_equal(d1.offers[i].rule_id, d2.offers[i].rule_id);
				assert_string_equal(d1.offers[i].gtin, d2.offers[i].gtin);
				assert_int_equal(d1.offers[i].signal, d2.offers[i].signal);
			}
			/* back-fill: with any history or any unconditioned rule the receipt is not empty */
			if (c.consent == OFR_CONSENT_YES && ofr_profile_personal_count(p) > 1)
				assert_true(d1.n > 0);
			ofr_profile_free(p);
		}
		ofr_rules_free(r);
		free(json);
	}
#undef RND
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_personal_scores),
		cmocka_unit_test(test_consent_gates_personal),
		cmocka_unit_test(test_repeat_limit_and_backfill),
		cmocka_unit_test(test_explore_new_items_only),
		cmocka_unit_test(test_scored_explore_slots),
		cmocka_unit_test(test_scored_explore_novelty),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_index_equals_naive_mixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
