/*
 * test_loyalty_commit.c - what commits with a sale, on real LMDB files: the
 * coupon a commit refuses (by index), the sale's events in its transaction,
 * the offer caps state beside the outbox, and map growth while eight
 * threads write and one reads (loyalty's rule: one reading thread, since
 * decoded sales share the handle's scratch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define T0 1790000000000000LL
#define CARD "6036010000001000005"

struct fx {
	char *dir;
	struct loy_db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_mkdtemp();
	assert_int_equal(loy_open(f->dir, NULL, &f->db, NULL, 0), PM_OK);
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

struct one_sale {
	struct loy_sale s;
	struct loy_item item;
	struct loy_redemption red[4];
};

static void sale_with_coupons(struct one_sale *o, const char *const *codes, int n)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->item.gtin, sizeof(o->item.gtin), "04007649000015");
	o->item.qty = 1;
	o->item.unit_price_cents = o->item.line_cents = 1000;
	o->s.items = &o->item;
	o->s.n_items = 1;
	o->s.time_us = T0;
	snprintf(o->s.card, sizeof(o->s.card), CARD);
	for (int i = 0; i < n; i++) {
		snprintf(o->red[i].coupon, sizeof(o->red[i].coupon), "%s", codes[i]);
		o->red[i].discount_cents = 100;
	}
	o->s.redeemed = o->red;
	o->s.n_redeemed = (uint32_t)n;
	o->s.discount_cents = 100 * n;
	o->s.total_cents = 1000 - 100 * n;
	o->s.tendered_cents = o->s.total_cents;
}

struct got_sale {
	uint32_t n_redeemed;
	char coupons[4][64];
};

static int get_cb(void *ctx, const struct loy_sale *s)
{
	struct got_sale *g = ctx;
	g->n_redeemed = s->n_redeemed;
	for (uint32_t i = 0; i < s->n_redeemed && i < 4; i++)
		snprintf(g->coupons[i], sizeof(g->coupons[i]), "%s", s->redeemed[i].coupon);
	return 0;
}

/* Coupon A used before, then B valid: the commit names A (index 0), not the last one. */
static void test_two_coupons_one_used(void **state)
{
	struct fx *f = *state;
	struct one_sale o;
	struct loy_commit_result res;
	const char *first[] = { "PMKAAAA" }, *both[] = { "PMKAAAA", "PMKBBBB" }, *rev[] = { "PMKCCCC", "PMKAAAA" };
	sale_with_coupons(&o, first, 1);
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_OK);
	assert_int_equal(res.refused_coupon, -1);
	sale_with_coupons(&o, both, 2);
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_EEXIST);
	assert_int_equal(res.seq, 0);
	assert_int_equal(res.refused_coupon, 0);
	/* The used one second: index 1; nothing of the refused sale was written (C is free). */
	sale_with_coupons(&o, rev, 2);
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_EEXIST);
	assert_int_equal(res.refused_coupon, 1);
	const char *c_only[] = { "PMKCCCC" };
	sale_with_coupons(&o, c_only, 1);
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_OK);
	assert_int_equal(res.seq, 2);
	/* The group variant says the same per sale. */
	struct one_sale g1, g2;
	const char *g1c[] = { "PMKDDDD", "PMKBBBB" }, *g2c[] = { "PMKEEEE", "PMKAAAA" };
	sale_with_coupons(&g1, g1c, 2);
	sale_with_coupons(&g2, g2c, 2);
	const struct loy_sale *sales[2] = { &g1.s, &g2.s };
	struct loy_commit_result out[2];
	int rcs[2];
	assert_int_equal(loy_sale_commit_group(f->db, sales, 2, out, rcs), PM_OK);
	assert_int_equal(rcs[0], PM_OK);
	assert_int_equal(out[0].refused_coupon, -1);
	assert_int_equal(rcs[1], PM_EEXIST);
	assert_int_equal(out[1].refused_coupon, 1);
}

/* Two valid coupons on one sale: both redeemed, both recorded once. */
static void test_two_valid_coupons(void **state)
{
	struct fx *f = *state;
	struct one_sale o;
	struct loy_commit_result res;
	struct got_sale g;
	const char *two[] = { "PMKFFFF", "PMKGGGG" };
	sale_with_coupons(&o, two, 2);
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_OK);
	memset(&g, 0, sizeof(g));
	assert_int_equal(loy_sale_get(f->db, res.seq, get_cb, &g), PM_OK);
	assert_int_equal(g.n_redeemed, 2);
	assert_string_equal(g.coupons[0], "PMKFFFF");
	assert_string_equal(g.coupons[1], "PMKGGGG");
	const char *again[] = { "PMKGGGG" };
	sale_with_coupons(&o, again, 1);
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_EEXIST);
	assert_int_equal(res.refused_coupon, 0);
}

/* ---- events that commit with the sale ---- */
struct events_ctx {
	int calls;
	int fail_with;               /* the callback refuses the sale */
	char payload[2][64];
	struct loy_event_new evs[2];
};

static int sale_events(void *ctx, const struct loy_sale *s, const struct loy_event_new **evs, size_t *n)
{
	struct events_ctx *e = ctx;
	e->calls++;
	if (e->fail_with)
		return e->fail_with;
	snprintf(e->payload[0], sizeof(e->payload[0]), "held sale=%llu", (unsigned long long)s->seq);
	snprintf(e->payload[1], sizeof(e->payload[1]), "issued sale=%llu", (unsigned long long)s->seq);
	e->evs[0] = (struct loy_event_new){ .type = LOY_EV_OFFER_HELD_BACK, .time_us = s->time_us,
					    .payload = e->payload[0], .payload_len = strlen(e->payload[0]) };
	e->evs[1] = (struct loy_event_new){ .type = LOY_EV_OFFER_ISSUED, .time_us = s->time_us,
					    .payload = e->payload[1], .payload_len = strlen(e->payload[1]),
					    .cap_campaign = "laptop", .cap_rule = "sleeve", .cap_card = s->card };
	*evs = e->evs;
	*n = 2;
	return 0;
}

struct seen_events {
	int n;
	uint64_t seqs[16];
	int types[16];
	char payloads[16][64];
};

static int seen_cb(void *ctx, const struct loy_event *ev)
{
	struct seen_events *s = ctx;
	if (s->n < 16) {
		s->seqs[s->n] = ev->seq;
		s->types[s->n] = ev->type;
		snprintf(s->payloads[s->n], sizeof(s->payloads[0]), "%.*s", (int)ev->payload_len,
			 (const char *)ev->payload);
	}
	s->n++;
	return 0;
}

struct caps_seen {
	int n_pairs, n_counts;
	uint64_t count;
	int64_t last;
	bool counts_after_pairs;
};

static int caps_cb(void *ctx, const struct loy_cap *c)
{
	struct caps_seen *s = ctx;
	if (c->rule) {
		assert_int_equal(s->n_counts, 0);   /* all pairs before any count */
		s->n_pairs++;
		s->last = c->last_us;
		assert_int_equal(strlen(c->card), 19);
	} else {
		s->n_counts++;
		s->count = c->issued;
		assert_string_equal(c->campaign, "laptop");
	}
	return 0;
}

static void test_events_commit_with_sale(void **state)
{
	struct fx *f = *state;
	struct one_sale o;
	struct loy_commit_result res;
	struct events_ctx ec = { 0 };
	struct seen_events seen = { 0 };
	sale_with_coupons(&o, NULL, 0);
	o.s.events_cb = sale_events;
	o.s.events_ctx = &ec;
	/* The callback refuses: neither the sale nor any event is written. */
	ec.fail_with = PM_ENOMEM;
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_ENOMEM);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.sales, 0);
	assert_int_equal(st.last_event_seq, 0);
	ec.fail_with = 0;
	assert_int_equal(loy_sale_commit(f->db, &o.s, &res), PM_OK);
	assert_int_equal(res.seq, 1);
	assert_int_equal(res.first_event_seq, 1);
	assert_int_equal(res.n_events, 2);
	assert_int_equal(loy_events_after(f->db, 0, 0, seen_cb, &seen), PM_OK);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.types[0], LOY_EV_OFFER_HELD_BACK);
	assert_string_equal(seen.payloads[1], "issued sale=1");   /* the payload named the assigned seq */
	/* The issue is in the caps state, which covers every event so far. */
	struct caps_seen cs = { 0 };
	uint64_t caps_seq = 0;
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(caps_seq, 2);
	assert_int_equal(cs.n_pairs, 1);
	assert_int_equal(cs.count, 1);
	assert_int_equal(cs.last, T0);
	/* In a group, a refused sale's events go with it. */
	struct one_sale g1, g2;
	struct events_ctx e1 = { 0 }, e2 = { 0 };
	const char *used[] = { "PMKAAAA" };
	sale_with_coupons(&g1, used, 1);
	assert_int_equal(loy_sale_commit(f->db, &g1.s, &res), PM_OK);   /* A used now (no events) */
	sale_with_coupons(&g1, used, 1);
	sale_with_coupons(&g2, NULL, 0);
	g1.s.events_cb = g2.s.events_cb = sale_events;
	g1.s.events_ctx = &e1;
	g2.s.events_ctx = &e2;
	const struct loy_sale *sales[2] = { &g1.s, &g2.s };
	struct loy_commit_result out[2];
	int rcs[2];
	assert_int_equal(loy_sale_commit_group(f->db, sales, 2, out, rcs), PM_OK);
	assert_int_equal(rcs[0], PM_EEXIST);
	assert_int_equal(rcs[1], PM_OK);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(loy_events_after(f->db, 2, 0, seen_cb, &seen), PM_OK);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.payloads[0], "held sale=3");
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(cs.count, 2);
	assert_int_equal(caps_seq, 4);
}

/* An issue appended without its caps entry leaves the state behind until a catch-up. */
static void test_caps_behind_and_catch_up(void **state)
{
	struct fx *f = *state;
	uint64_t seq, caps_seq;
	struct caps_seen cs = { 0 };
	assert_int_equal(loy_event_append(f->db, LOY_EV_CONSENT, T0, CARD " yes", 23, &seq), PM_OK);
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(caps_seq, 1);                     /* nothing for the caps: still current */
	assert_int_equal(loy_event_append(f->db, LOY_EV_OFFER_ISSUED, T0, "x", 1, &seq), PM_OK);
	struct loy_event_new ev = { .type = LOY_EV_OFFER_ISSUED, .time_us = T0 + 5, .payload = "y",
				    .payload_len = 1, .cap_campaign = "laptop", .cap_rule = "sleeve", .cap_card = CARD };
	assert_int_equal(loy_events_append(f->db, &ev, 1, &seq), PM_OK);
	assert_int_equal(seq, 3);
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(caps_seq, 1);                     /* behind: event 2 had no entry */
	assert_int_equal(cs.n_counts, 0);                  /* and event 3 was not applied twice later */
	/* Catch up (what a start-up does after reading events 2..3). */
	struct loy_cap issues[2] = { { "laptop", "sleeve", CARD, 1, T0 }, { "laptop", "sleeve", CARD, 1, T0 + 5 } };
	bool applied = false;
	assert_int_equal(loy_caps_catch_up(f->db, 0, 3, issues, 2, &applied), PM_OK);
	assert_false(applied);                             /* a stale start position is refused */
	assert_int_equal(loy_caps_catch_up(f->db, 1, 3, issues, 2, &applied), PM_OK);
	assert_true(applied);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(caps_seq, 3);
	assert_int_equal(cs.count, 2);
	assert_int_equal(cs.last, T0 + 5);
	/* Current again: the next issue with an entry moves it along. */
	assert_int_equal(loy_events_append(f->db, &ev, 1, &seq), PM_OK);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(caps_seq, 4);
	assert_int_equal(cs.count, 3);
	/* An erasure takes the card's entries with it (personal data); the campaign count stays. */
	uint64_t unlinked;
	struct loy_event_new ev2 = ev, ev3 = ev;
	ev2.cap_rule = "other";
	ev3.cap_card = "6036010000002000004";
	assert_int_equal(loy_events_append(f->db, &ev2, 1, &seq), PM_OK);
	assert_int_equal(loy_events_append(f->db, &ev3, 1, &seq), PM_OK);
	assert_int_equal(loy_card_set_consent(f->db, CARD, LOY_CONSENT_YES, LOY_SRC_TILL, T0), PM_OK);
	assert_int_equal(loy_card_erase(f->db, CARD, LOY_SRC_TILL, T0 + 10, &unlinked), PM_OK);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(loy_caps_load(f->db, caps_cb, &cs, &caps_seq), PM_OK);
	assert_int_equal(cs.n_pairs, 1);   /* the other card's entry only (both of CARD's gone) */
	assert_int_equal(cs.count, 5);
	assert_int_equal(caps_seq, 8);   /* the consent and erasure events moved it along */
}

/* ---- growth while eight threads write and one reads ---- */
#define GROW_THREADS 8
#define GROW_SALES 150

struct grow_arg {
	struct loy_db *db;
	int lane;
	int ok;
	atomic_bool *stop;
};

static void *grow_writer(void *p)
{
	struct grow_arg *a = p;
	struct loy_item items[40];
	struct loy_sale s;
	for (int k = 0; k < GROW_SALES; k++) {
		memset(&s, 0, sizeof(s));
		for (int i = 0; i < 40; i++) {
			memset(&items[i], 0, sizeof(items[i]));
			snprintf(items[i].gtin, sizeof(items[i].gtin), "0501234%07u", (unsigned)(i + 1) % 10000000u);
			items[i].qty = 1;
			items[i].unit_price_cents = items[i].line_cents = 100;
		}
		s.items = items;
		s.n_items = 40;
		s.time_us = T0 + k;
		s.total_cents = s.tendered_cents = 4000;
		snprintf(s.ext_id, sizeof(s.ext_id), "lane%d:%d", a->lane, k);
		snprintf(s.card, sizeof(s.card), "60360100000%02u00005", (unsigned)a->lane % 100u);
		struct loy_commit_result res;
		if (k % 3 == 0) {
			const struct loy_sale *one = &s;
			int rc1;
			if (loy_sale_commit_group(a->db, &one, 1, &res, &rc1) == PM_OK && rc1 == PM_OK)
				a->ok++;
		} else if (loy_sale_commit(a->db, &s, &res) == PM_OK) {
			a->ok++;
		}
	}
	return NULL;
}

static int count_cb(void *ctx, const struct loy_sale *s)
{
	(void)s;
	(*(uint64_t *)ctx)++;
	return 0;
}

static void *grow_reader(void *p)
{
	struct grow_arg *a = p;
	/* Like the daemon's event loop: short reads between writes. */
	while (!atomic_load(a->stop)) {
		uint64_t n = 0;
		struct loy_stats st;
		assert_int_equal(loy_stats(a->db, &st), PM_OK);
		assert_int_equal(loy_sales_after(a->db, st.last_sale_seq > 5 ? st.last_sale_seq - 5 : 0, 0,
						 count_cb, &n), PM_OK);
		a->ok++;
		usleep(200);
	}
	return NULL;
}

static void test_growth_under_eight_writers(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	struct loy_config cfg;
	struct loy_db *db;
	loy_config_default(&cfg);
	cfg.map_size_initial = 64 * 1024;    /* tiny: the writers must grow it many times */
	assert_int_equal(loy_open(dir, &cfg, &db, NULL, 0), PM_OK);
	pthread_t w[GROW_THREADS], r[1];
	struct grow_arg wa[GROW_THREADS], ra[1];
	atomic_bool stop = false;
	for (int i = 0; i < 1; i++) {
		ra[i] = (struct grow_arg){ db, i, 0, &stop };
		pthread_create(&r[i], NULL, grow_reader, &ra[i]);
	}
	for (int i = 0; i < GROW_THREADS; i++) {
		wa[i] = (struct grow_arg){ db, i, 0, &stop };
		pthread_create(&w[i], NULL, grow_writer, &wa[i]);
	}
	for (int i = 0; i < GROW_THREADS; i++) {
		pthread_join(w[i], NULL);
		assert_int_equal(wa[i].ok, GROW_SALES);
	}
	atomic_store(&stop, true);
	pthread_join(r[0], NULL);
	assert_true(ra[0].ok > 0);
	struct loy_stats st;
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_int_equal(st.sales, GROW_THREADS * GROW_SALES);
	assert_int_equal(st.last_sale_seq, st.sales);      /* dense: nothing torn or lost */
	assert_true(st.map_size >= 64 * 1024 * 32);         /* grown five times or more */
	for (int i = 0; i < GROW_THREADS; i++)
		for (int k = 0; k < GROW_SALES; k++) {
			char ext[32];
			uint64_t seq = 0;
			snprintf(ext, sizeof(ext), "lane%d:%d", i, k);
			assert_int_equal(loy_sale_find_ext(db, ext, &seq), PM_OK);
			assert_true(seq > 0);
		}
	print_message("8 writers, 1 reader: %d sales, map grew to %llu KiB\n", GROW_THREADS * GROW_SALES,
		      (unsigned long long)(st.map_size / 1024));
	loy_close(db);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_coupons_one_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_valid_coupons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_commit_with_sale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps_behind_and_catch_up, setup, teardown),
		cmocka_unit_test(test_growth_under_eight_writers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
