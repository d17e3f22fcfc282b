/*
 * test_till_accounts.c - the till's side of the chain account with fake HQ
 * hooks (struct till_hq): a card the log has no HQ state of is looked up
 * (and applied) before its snapshot; HQ offline, the till goes on; a sale
 * of another terminal is returned on HQ's answer (what HQ says was returned
 * counts), refused with the documented reason when HQ cannot be reached or
 * does not know it; a coupon HQ saw redeemed is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "terminal/till.h"
#include "common/pm_err.h"
#include "wire/wire.h"
#include "tests/unit/testutil.h"

#include <jansson.h>

#define CARD "6036010000001000005"
#define PEN "04006381333931"
#define MILK "05012342000018"

struct fake_hq {
	int account_rc, sale_rc, coupon_rc;
	int accounts_asked, sales_asked, coupons_asked;
	struct loy_db *db;
	bool coupon_redeemed;
};

static int fake_account(void *ctx, const char *card)
{
	struct fake_hq *h = ctx;
	h->accounts_asked++;
	if (h->account_rc)
		return h->account_rc;
	struct loy_account_state a;
	memset(&a, 0, sizeof(a));
	snprintf(a.card, sizeof(a.card), "%s", card);
	a.points = 4321;
	a.tier = 2;
	return loy_accounts_apply(h->db, &a, 1, 1790000000000000LL, 0, 0);
}

/* store2-lane1:7: 3 pens and a milk, 2 pens returned at store 2 already. */
static int fake_sale(void *ctx, const char *terminal, uint64_t seq, struct wire_sale_lookup *out)
{
	struct fake_hq *h = ctx;
	h->sales_asked++;
	if (h->sale_rc)
		return h->sale_rc;
	if (strcmp(terminal, "store2-lane1") || seq != 7)
		return PM_ENOENT;
	memset(out, 0, sizeof(*out));
	struct wire_sale *s = &out->sale;
	s->seq = 7;
	snprintf(s->terminal, sizeof(s->terminal), "store2-lane1");
	snprintf(s->card, sizeof(s->card), CARD);
	snprintf(s->currency, sizeof(s->currency), "EUR");
	snprintf(s->tender, sizeof(s->tender), "card");
	s->items = calloc(2, sizeof(*s->items));
	s->n_items = 2;
	snprintf(s->items[0].gtin, sizeof(s->items[0].gtin), PEN);
	s->items[0].qty = 3;
	s->items[0].unit_price_cents = 1000;
	s->items[0].line_cents = 3000;
	snprintf(s->items[1].gtin, sizeof(s->items[1].gtin), MILK);
	s->items[1].qty = 1;
	s->items[1].unit_price_cents = 1000;
	s->items[1].line_cents = 1000;
	s->total_cents = 4000;
	s->tendered_cents = 4000;
	s->points_earned = 40;
	s->n_ledger = 1;
	s->ledger[0].kind = WIRE_LEDGER_EARN;
	s->ledger[0].points = 40;
	out->returned = calloc(1, sizeof(*out->returned));
	out->n_returned = 1;
	snprintf(out->returned[0].gtin, sizeof(out->returned[0].gtin), PEN);
	out->returned[0].qty = 2;
	out->refund_cents = 2000;
	out->points_clawed_back = 20;
	return PM_OK;
}

static int fake_coupon(void *ctx, const char *coupon, struct wire_coupon_status *out)
{
	struct fake_hq *h = ctx;
	h->coupons_asked++;
	if (h->coupon_rc)
		return h->coupon_rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->coupon, sizeof(out->coupon), "%s", coupon);
	out->redeemed = h->coupon_redeemed;
	snprintf(out->terminal, sizeof(out->terminal), "store9-lane2");
	out->seq = 12;
	return PM_OK;
}

struct fx {
	char *dir;
	struct term_config cfg;
	struct loy_db *db;
	struct fake_hq hq;
	struct till *t;
	FILE *events;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_mkdtemp();
	term_config_default(&f->cfg);
	snprintf(f->cfg.data_dir, sizeof(f->cfg.data_dir), "%s", f->dir);
	snprintf(f->cfg.offers_coupon_key, sizeof(f->cfg.offers_coupon_key), "%s", "a test passphrase, 16+ chars");
	assert_int_equal(loy_open(f->dir, &f->cfg.loy, &f->db, NULL, 0), PM_OK);
	struct loy_product p[2] = { { PEN, "Pen", "Stationery", "", 1000 }, { MILK, "Milk", "Dairy", "", 1000 } };
	assert_int_equal(loy_catalog_put(f->db, p, 2), PM_OK);
	f->hq.db = f->db;
	f->events = tmpfile();
	f->t = calloc(1, sizeof(*f->t));
	till_init(f->t, f->db, &f->cfg, NULL, f->events, "");
	f->t->hq = (struct till_hq){ &f->hq, fake_account, fake_sale, fake_coupon };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	till_release(f->t);
	free(f->t);
	fclose(f->events);
	loy_close(f->db);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void feed(struct fx *f, const char *line)
{
	struct scan_raw raw;
	memset(&raw, 0, sizeof(raw));
	snprintf(raw.data, sizeof(raw.data), "%s", line);
	raw.len = strlen(raw.data);
	raw.is_key = line[0] == '#';
	assert_int_equal(till_feed(f->t, &raw), PM_OK);
}

/* The last event of that kind, as JSON (NULL if none). */
static json_t *last_event(struct fx *f, const char *kind)
{
	char line[8192];
	json_t *found = NULL;
	fflush(f->events);
	rewind(f->events);
	while (fgets(line, sizeof(line), f->events)) {
		json_t *o = json_loads(line, 0, NULL);
		if (o && !strcmp(json_string_value(json_object_get(o, "event")) ?: "", kind)) {
			json_decref(found);
			found = o;
		} else {
			json_decref(o);
		}
	}
	fseek(f->events, 0, SEEK_END);
	return found;
}

static void test_unknown_card_asks_hq(void **state)
{
	struct fx *f = *state;
	feed(f, CARD);
	assert_int_equal(f->hq.accounts_asked, 1);
	json_t *ev = last_event(f, "card_attached");
	assert_int_equal(json_integer_value(json_object_get(ev, "points")), 4321);   /* HQ's, before the snapshot */
	assert_string_equal(json_string_value(json_object_get(ev, "tier")), "gold");
	json_decref(ev);
	feed(f, "#cancel");
	feed(f, CARD);                       /* the log has HQ's state now: not asked again */
	assert_int_equal(f->hq.accounts_asked, 1);
	feed(f, "#cancel");
	/* HQ offline: the till goes on with what it has. */
	const char *other = "6036010000001000377";
	f->hq.account_rc = PM_EOFFLINE;
	feed(f, other);
	assert_int_equal(f->hq.accounts_asked, 2);
	ev = last_event(f, "card_attached");
	assert_false(json_is_true(json_object_get(ev, "known")));
	json_decref(ev);
}

static void test_return_of_another_terminal(void **state)
{
	struct fx *f = *state;
	/* Offline: the documented reason. */
	f->hq.sale_rc = PM_EOFFLINE;
	feed(f, "#return store2-lane1:7");
	json_t *ev = last_event(f, "scan_refused");
	assert_string_equal(json_string_value(json_object_get(ev, "reason")),
			    "sale store2-lane1:7 is not from this terminal and HQ cannot be reached: return it at the "
			    "terminal that sold it, or retry when HQ is back");
	json_decref(ev);
	f->hq.sale_rc = 0;
	feed(f, "#return store2-lane1:8");
	ev = last_event(f, "scan_refused");
	assert_non_null(strstr(json_string_value(json_object_get(ev, "reason")), "HQ does not know sale store2-lane1:8"));
	json_decref(ev);
	/* Known: 1 pen is left (2 returned at store 2), the milk. */
	feed(f, "#return store2-lane1:7");
	ev = last_event(f, "return_opened");
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "refunded_cents")), 2000);
	json_decref(ev);
	feed(f, "#qty 2");
	feed(f, "4006381333931");            /* 2 pens: one too many */
	ev = last_event(f, "scan_refused");
	assert_non_null(strstr(json_string_value(json_object_get(ev, "reason")), "2 returned before"));
	json_decref(ev);
	feed(f, "4006381333931");
	feed(f, "5012342000018");
	feed(f, "#tender card");
	ev = last_event(f, "return_committed");
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "return_of")), "store2-lane1:7");
	/* It completes the sale: the remainders of what HQ says was refunded and clawed back. */
	assert_int_equal(json_integer_value(json_object_get(ev, "refund_cents")), 2000);
	assert_int_equal(json_integer_value(json_object_get(ev, "points_clawed_back")), 20);
	assert_string_equal(json_string_value(json_object_get(ev, "card")), CARD);
	json_decref(ev);
	/* This log now knows it whole: a second return is refused even if HQ still says 2. */
	feed(f, "#return store2-lane1:7");
	ev = last_event(f, "scan_refused");
	assert_string_equal(json_string_value(json_object_get(ev, "reason")),
			    "every unit of sale store2-lane1:7 was returned already");
	json_decref(ev);
}

static void test_coupon_redeemed_elsewhere(void **state)
{
	struct fx *f = *state;
	struct ofr_coupon_key key;
	char code[64];
	ofr_coupon_key_from_text(f->cfg.offers_coupon_key, &key);
	struct ofr_coupon c = { .version = 1, .benefit = OFR_AMOUNT_BASKET, .value = 100,
				.campaign_tag = ofr_campaign_tag("promo"), .expiry_day = 40000, .serial = 5 };
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, code, sizeof(code)), PM_OK);
	f->hq.coupon_redeemed = true;
	feed(f, code);
	assert_int_equal(f->hq.coupons_asked, 1);
	json_t *ev = last_event(f, "coupon_refused");
	assert_non_null(ev);
	assert_non_null(strstr(json_string_value(json_object_get(ev, "reason")), "already redeemed (at store9-lane2"));
	json_decref(ev);
	/* HQ offline: accepted on this log's check alone. */
	f->hq.coupon_rc = PM_EOFFLINE;
	feed(f, code);
	ev = last_event(f, "coupon_accepted");
	assert_non_null(ev);
	json_decref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_card_asks_hq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_return_of_another_terminal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coupon_redeemed_elsewhere, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
