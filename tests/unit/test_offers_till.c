/*
 * test_offers_till.c - the till's offer step on a real purchase log: a
 * coupon is recorded as issued only once its receipt printed (with the sale
 * when the printer is ready, else when it prints), control-group decisions
 * and redemptions are recorded in the event outbox, the caps state kept
 * in the log enforces the caps after a restart without replaying events, and
 * points coupons credit their bonus with the sale (a bonus ledger entry).
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
#define LAPTOP "04007598000012"
#define SLEEVE "04007649000015"

struct fx {
	char *dir;
	struct term_config cfg;
	struct loy_db *db;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[4200];
	f->dir = tu_mkdtemp();
	term_config_default(&f->cfg);
	snprintf(f->cfg.data_dir, sizeof(f->cfg.data_dir), "%s", f->dir);
	snprintf(f->cfg.offers_coupon_key, sizeof(f->cfg.offers_coupon_key), "%s", "a test passphrase, 16+ chars");
	assert_int_equal(loy_open(f->dir, &f->cfg.loy, &f->db, NULL, 0), PM_OK);
	struct loy_product p[2] = { { LAPTOP, "Acer Laptop", "Electronics", "Acer", 49900 },
				    { SLEEVE, "Targus Laptop sleeve", "Electronics", "Targus", 2999 } };
	assert_int_equal(loy_catalog_put(f->db, p, 2), PM_OK);
	snprintf(path, sizeof(path), "%s/rules.json", f->dir);
	write_file(path, "{\"format\":\"posmark-rules\",\"version\":1,\"rules\":["
		   "{\"id\":\"sleeve\",\"campaign\":\"laptop\",\"kind\":\"cross_sell\",\"budget\":1,"
		   "\"when\":{\"basket\":{\"all\":[{\"item\":\"" LAPTOP "\"}]}},"
		   "\"offer\":{\"item\":\"" SLEEVE "\",\"percent_off\":20}},"
		   "{\"id\":\"control\",\"campaign\":\"control\",\"kind\":\"promotion\",\"holdout_pct\":100,"
		   "\"offer\":{\"category\":\"Electronics\",\"percent_off\":5}}]}");
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

static void feed(struct till *t, const char *line)
{
	struct scan_raw raw;
	memset(&raw, 0, sizeof(raw));
	snprintf(raw.data, sizeof(raw.data), "%s", line);
	raw.len = strlen(raw.data);
	raw.is_key = line[0] == '#';
	assert_int_equal(till_feed(t, &raw), PM_OK);
}

struct counts {
	int issued, held, redeemed;
	char coupon[64];
};

static int count_ev(void *ctx, const struct loy_event *ev)
{
	struct counts *c = ctx;
	c->issued += ev->type == LOY_EV_OFFER_ISSUED;
	c->held += ev->type == LOY_EV_OFFER_HELD_BACK;
	c->redeemed += ev->type == LOY_EV_OFFER_REDEEMED;
	if (ev->type == LOY_EV_OFFER_ISSUED) {
		json_t *o = json_loadb(ev->payload, ev->payload_len, 0, NULL);
		assert_non_null(o);
		assert_int_equal(json_integer_value(json_object_get(o, "v")), 1);
		assert_string_equal(json_string_value(json_object_get(o, "campaign")), "laptop");
		snprintf(c->coupon, sizeof(c->coupon), "%s", json_string_value(json_object_get(o, "coupon")));
		json_decref(o);
	}
	return 0;
}

static struct counts events(struct loy_db *db)
{
	struct counts c = { 0, 0, 0, "" };
	assert_int_equal(loy_events_after(db, 0, 0, count_ev, &c), PM_OK);
	return c;
}

static void sale(struct fx *f, const char *printer, bool with_coupon, const char *coupon)
{
	struct prn_dev *p = NULL;
	char err[300];
	struct till *t = malloc(sizeof(*t));
	assert_int_equal(prn_open(printer, &p, err, sizeof(err)), PM_OK);
	till_init(t, f->db, &f->cfg, p, NULL, "");
	assert_non_null(t->offers.rules);
	feed(t, CARD);
	if (with_coupon) {
		feed(t, coupon);
		feed(t, "4007649000015");
	} else {
		feed(t, "4007598000012");
	}
	feed(t, "#tender card");
	/* The log's caps state was current: start-up read no old event. */
	assert_int_equal(t->offers.replayed, 0);
	till_release(t);
	free(t);
	prn_close(p);
}

static void test_issued_only_when_printed(void **state)
{
	struct fx *f = *state;
	char printer[4200];
	/* printer off (its status says so at tender): decided, held back recorded, nothing issued */
	sale(f, "tcp:127.0.0.1:9,timeout=100", false, NULL);
	struct counts c = events(f->db);
	assert_int_equal(c.issued, 0);
	assert_int_equal(c.held, 1);
	/* printed: issued */
	snprintf(printer, sizeof(printer), "text:%s/receipts.txt", f->dir);
	sale(f, printer, false, NULL);
	c = events(f->db);
	assert_int_equal(c.issued, 1);
	assert_int_equal(c.held, 2);
	assert_int_equal(strlen(c.coupon), 21);   /* coupon v2: "P" + 20 digits */
	/* budget 1, replayed from the outbox by a fresh till: no second coupon */
	sale(f, printer, false, NULL);
	c = events(f->db);
	assert_int_equal(c.issued, 1);
	/* the printed coupon redeemed: one REDEEMED event */
	char code[64];
	snprintf(code, sizeof(code), "%s", c.coupon);
	sale(f, printer, true, code);
	c = events(f->db);
	assert_int_equal(c.redeemed, 1);
}

/* A coupon for 20% off the sleeve, for CARD, as the engine prints them. */
static void mint(struct fx *f, uint32_t serial, char *out, size_t len)
{
	struct ofr_coupon_key key;
	ofr_coupon_key_from_text(f->cfg.offers_coupon_key, &key);
	struct ofr_coupon c = { .version = 1, .benefit = OFR_PERCENT_ITEM, .value = 20,
				.target_tag = ofr_target_tag_item(SLEEVE), .campaign_tag = ofr_campaign_tag("laptop"),
				.card_tag = ofr_card_tag(&key, CARD), .expiry_day = 40000, .serial = serial };
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, out, len), PM_OK);
}

struct sale_coupons {
	uint64_t seq;
	uint32_t n;
	char codes[4][64];
};

static int last_sale_cb(void *ctx, const struct loy_sale *s)
{
	struct sale_coupons *c = ctx;
	c->seq = s->seq;
	c->n = s->n_redeemed;
	for (uint32_t i = 0; i < s->n_redeemed && i < 4; i++)
		snprintf(c->codes[i], sizeof(c->codes[i]), "%s", s->redeemed[i].coupon);
	return 0;
}

struct redeemed_of {
	uint64_t sale;
	int n;
};

static int redeemed_of_cb(void *ctx, const struct loy_event *ev)
{
	struct redeemed_of *r = ctx;
	struct wire_offer_event e;
	char err[100];
	if (ev->type != LOY_EV_OFFER_REDEEMED)
		return 0;
	assert_int_equal(wire_offer_decode(ev->payload, ev->payload_len, &e, err, sizeof(err)), PM_OK);
	r->n += e.sale == r->sale;
	return 0;
}

static void till_sale_with(struct fx *f, const char *const *lines, int n, struct sale_coupons *out, int *redeemed_events)
{
	struct till *t = calloc(1, sizeof(*t));
	struct loy_stats st;
	till_init(t, f->db, &f->cfg, NULL, NULL, "");
	for (int i = 0; i < n; i++)
		feed(t, lines[i]);
	till_release(t);
	free(t);
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	memset(out, 0, sizeof(*out));
	assert_int_equal(loy_sale_get(f->db, st.last_sale_seq, last_sale_cb, out), PM_OK);
	struct redeemed_of r = { st.last_sale_seq, 0 };
	assert_int_equal(loy_events_after(f->db, 0, 0, redeemed_of_cb, &r), PM_OK);
	*redeemed_events = r.n;
}

/*
 * Coupon A used before, then coupon B (valid) on one sale: A is refused and B
 * kept (the commit names the used one); two valid coupons on one sale are
 * both redeemed, each recorded once.
 */
static void test_two_coupons_one_used(void **state)
{
	struct fx *f = *state;
	char a[64], b[64], c[64], d[64];
	struct sale_coupons got;
	int events;
	mint(f, 101, a, sizeof(a));
	mint(f, 102, b, sizeof(b));
	mint(f, 103, c, sizeof(c));
	mint(f, 104, d, sizeof(d));
	const char *first[] = { CARD, a, "4007649000015", "#tender card" };
	till_sale_with(f, first, 4, &got, &events);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.codes[0], a);
	assert_int_equal(events, 1);
	const char *second[] = { CARD, a, b, "#qty 2", "4007649000015", "#tender card" };
	till_sale_with(f, second, 6, &got, &events);
	assert_int_equal(got.seq, 2);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.codes[0], b);   /* A refused, B kept */
	assert_int_equal(events, 1);
	const char *third[] = { CARD, c, d, "#qty 2", "4007649000015", "#tender card" };
	till_sale_with(f, third, 6, &got, &events);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.codes[0], c);
	assert_string_equal(got.codes[1], d);
	assert_int_equal(events, 2);
}

/*
 * A log written by a posmark before the caps state (OFFER_ISSUED events
 * only): the first start replays them once and stores the state; the next
 * start reads no event and has the same counts.
 */
static void test_caps_from_an_older_log(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 3; i++) {
		struct wire_offer_event e = { .sale = (uint64_t)i + 1, .campaign = "laptop", .rule = "sleeve",
					      .card = CARD, .has_offer = true, .kind = "cross_sell", .gtin = SLEEVE,
					      .benefit = OFR_PERCENT_ITEM, .value = 20, .coupon = "PMK1" };
		struct pm_buf b = { 0 };
		assert_int_equal(wire_offer_encode(WIRE_EV_OFFER_ISSUED, &e, &b), PM_OK);
		assert_int_equal(loy_event_append(f->db, LOY_EV_OFFER_ISSUED, 1790000000000000LL + i, b.data, b.len,
						  NULL), PM_OK);
		pm_buf_free(&b);
	}
	struct till *t = calloc(1, sizeof(*t));
	till_init(t, f->db, &f->cfg, NULL, NULL, "");
	assert_int_equal(t->offers.replayed, 3);
	assert_int_equal(ofr_ledger_issued(t->offers.ledger, "laptop"), 3);
	till_release(t);
	memset(t, 0, sizeof(*t));
	till_init(t, f->db, &f->cfg, NULL, NULL, "");
	assert_int_equal(t->offers.replayed, 0);                         /* no old event read */
	assert_int_equal(ofr_ledger_issued(t->offers.ledger, "laptop"), 3);   /* the caps still hold */
	till_release(t);
	free(t);
}

/* A points coupon (any card): a flat bonus, or a multiplier x100 on one unit of the sleeve. */
static void mint_points(struct fx *f, int benefit, int value, uint32_t serial, char *out, size_t len)
{
	struct ofr_coupon_key key;
	ofr_coupon_key_from_text(f->cfg.offers_coupon_key, &key);
	struct ofr_coupon c = { .version = 1, .benefit = benefit, .value = value,
				.target_tag = benefit == OFR_POINTS_MULT ? ofr_target_tag_item(SLEEVE) : 0,
				.campaign_tag = ofr_campaign_tag("laptop"), .expiry_day = 40000, .serial = serial };
	assert_int_equal(ofr_coupon_encode(&key, "PM", &c, out, len), PM_OK);
}

struct bonus_of {
	int64_t bonus, earned;
	int entries;
};

static int bonus_cb(void *ctx, const struct loy_sale *s)
{
	struct bonus_of *b = ctx;
	struct loy_ledger_entry e[LOY_LEDGER_PER_SALE];
	size_t n = loy_sale_ledger(s, e);
	b->bonus = s->points_bonus;
	b->earned = s->points_earned;
	b->entries = (int)n;
	for (size_t i = 0; i < n; i++)
		if (e[i].kind == LOY_LEDGER_BONUS)
			assert_int_equal(e[i].points, s->points_bonus);
	return 0;
}

/*
 * Points coupons: the bonus reaches the balance with the sale, as the sale's
 * bonus entry (flat: its value; 3x points on the sleeve: the 2 extra points
 * per euro of one unit). Without a card the coupon is refused at tender.
 */
static void test_points_coupons_credit_the_balance(void **state)
{
	struct fx *f = *state;
	char flat[64], mult[64], nocard[64];
	struct sale_coupons got;
	struct bonus_of b;
	struct loy_card c;
	int events;
	mint_points(f, OFR_POINTS_BONUS_FLAT, 250, 301, flat, sizeof(flat));
	mint_points(f, OFR_POINTS_MULT, 300, 302, mult, sizeof(mult));
	mint_points(f, OFR_POINTS_BONUS_FLAT, 100, 303, nocard, sizeof(nocard));
	const char *one[] = { CARD, flat, "4007649000015", "#tender card" };
	till_sale_with(f, one, 4, &got, &events);
	assert_int_equal(got.n, 1);
	memset(&b, 0, sizeof(b));
	assert_int_equal(loy_sale_get(f->db, got.seq, bonus_cb, &b), PM_OK);
	assert_int_equal(b.bonus, 250);
	assert_int_equal(b.entries, 2);                     /* earn and bonus */
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.points, b.earned + 250);
	int64_t before = c.points;
	const char *two[] = { CARD, mult, "#qty 2", "4007649000015", "#tender card" };
	till_sale_with(f, two, 5, &got, &events);
	memset(&b, 0, sizeof(b));
	assert_int_equal(loy_sale_get(f->db, got.seq, bonus_cb, &b), PM_OK);
	assert_int_equal(b.bonus, 2999 * (300 - 100) / 10000);
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.points, before + b.earned + b.bonus);
	const char *three[] = { nocard, "4007649000015", "#tender card" };
	till_sale_with(f, three, 3, &got, &events);
	assert_int_equal(got.n, 0);                         /* refused: no card to credit */
	memset(&b, 0, sizeof(b));
	assert_int_equal(loy_sale_get(f->db, got.seq, bonus_cb, &b), PM_OK);
	assert_int_equal(b.bonus, 0);
}

/*
 * A points coupon redeemed once, then scanned again on a later sale (with a
 * valid discount coupon): the commit refuses it as already used, and the
 * sale that goes again carries neither its bonus nor its discount; the
 * card gains only what that sale earned.
 */
static void test_used_points_coupon_credits_no_bonus(void **state)
{
	struct fx *f = *state;
	char flat[64], disc[64], line[4096];
	struct sale_coupons got;
	struct bonus_of b;
	struct loy_card c;
	int events;
	mint_points(f, OFR_POINTS_BONUS_FLAT, 50, 311, flat, sizeof(flat));
	mint(f, 312, disc, sizeof(disc));
	const char *one[] = { CARD, flat, "4007649000015", "#tender card" };
	till_sale_with(f, one, 4, &got, &events);
	memset(&b, 0, sizeof(b));
	assert_int_equal(loy_sale_get(f->db, got.seq, bonus_cb, &b), PM_OK);
	assert_int_equal(b.bonus, 50);
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	int64_t before = c.points;

	FILE *ev = tmpfile();
	assert_non_null(ev);
	struct till *t = calloc(1, sizeof(*t));
	till_init(t, f->db, &f->cfg, NULL, ev, "");
	const char *two[] = { CARD, flat, disc, "4007649000015", "#tender card" };
	for (int i = 0; i < 5; i++)
		feed(t, two[i]);
	till_release(t);
	free(t);
	rewind(ev);
	int refused = 0, committed = 0;
	while (fgets(line, sizeof(line), ev)) {
		json_t *o = json_loads(line, 0, NULL);
		assert_non_null(o);
		const char *kind = json_string_value(json_object_get(o, "event"));
		if (!strcmp(kind, "coupon_refused")) {
			assert_string_equal(json_string_value(json_object_get(o, "coupon")), flat);
			assert_non_null(strstr(json_string_value(json_object_get(o, "reason")), "already used"));
			refused++;
		} else if (!strcmp(kind, "sale_committed")) {
			assert_null(json_object_get(o, "points_bonus"));   /* only when not 0 */
			json_t *red = json_object_get(o, "redeemed");
			assert_int_equal(json_array_size(red), 1);
			assert_string_equal(json_string_value(json_object_get(json_array_get(red, 0), "coupon")), disc);
			assert_int_equal(json_integer_value(json_object_get(o, "discount_cents")),
					 json_integer_value(json_object_get(json_array_get(red, 0), "discount_cents")));
			assert_int_equal(json_integer_value(json_object_get(o, "total_cents")),
					 2999 - json_integer_value(json_object_get(o, "discount_cents")));
			committed++;
		}
		json_decref(o);
	}
	fclose(ev);
	assert_int_equal(refused, 1);
	assert_int_equal(committed, 1);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	memset(&b, 0, sizeof(b));
	assert_int_equal(loy_sale_get(f->db, st.last_sale_seq, bonus_cb, &b), PM_OK);
	assert_int_equal(b.bonus, 0);
	assert_int_equal(b.entries, 1);                     /* earn only, no bonus entry */
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.points, before + b.earned);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issued_only_when_printed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_coupons_one_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps_from_an_older_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_points_coupons_credit_the_balance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_used_points_coupon_credits_no_bonus, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
