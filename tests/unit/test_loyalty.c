/* test_loyalty.c - the purchase log against real LMDB files in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "loyalty/loy_int.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <lmdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define DAY (86400LL * 1000000LL)
#define T0 1790000000000000LL

struct fx {
	char *dir;
	struct loy_db *db;
	struct loy_config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_mkdtemp();
	loy_config_default(&f->cfg);
	assert_int_equal(loy_open(f->dir, &f->cfg, &f->db, NULL, 0), PM_OK);
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

static void make_sale(struct loy_sale *s, struct loy_item *items, int n, const char *card, int64_t t,
		      int64_t price)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < n; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		snprintf(items[i].gtin, sizeof(items[i].gtin), "0501234%07u", (unsigned)(i + 1) % 10000000u);
		items[i].qty = 1;
		items[i].unit_price_cents = price;
		items[i].line_cents = price;
	}
	s->items = items;
	s->n_items = (uint32_t)n;
	s->time_us = t;
	s->total_cents = price * n;
	s->tendered_cents = s->total_cents;
	snprintf(s->card, sizeof(s->card), "%s", card ? card : "");
}

struct collect {
	int n;
	uint64_t seqs[4096];
	int64_t totals[4096];
	char first_gtin[15];
	bool erased[4096];
};

static int collect_cb(void *ctx, const struct loy_sale *s)
{
	struct collect *c = ctx;
	if (c->n == 0 && s->n_items)
		memcpy(c->first_gtin, s->items[0].gtin, 15);
	c->erased[c->n] = s->card_erased;
	c->totals[c->n] = s->total_cents;
	c->seqs[c->n++] = s->seq;
	return 0;
}

static const char *CARD_A = "6036010000001000005";
static const char *CARD_B = "6036010000001000377";

static void test_commit_and_history(void **state)
{
	struct fx *f = *state;
	struct loy_item items[3];
	struct loy_sale s;
	struct loy_commit_result r;
	struct collect c = { 0 };

	for (int i = 0; i < 10; i++) {
		make_sale(&s, items, 3, (i % 2) ? CARD_A : (i % 3 ? CARD_B : NULL), T0 + i, 100 + i);
		assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
		assert_int_equal(r.seq, (uint64_t)i + 1);
	}
	assert_int_equal(loy_card_history(f->db, CARD_A, collect_cb, &c), PM_OK);
	assert_int_equal(c.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(c.seqs[i], (uint64_t)(2 * i + 2));  /* oldest first */
	assert_string_equal(c.first_gtin, "05012340000001");
	memset(&c, 0, sizeof(c));
	assert_int_equal(loy_sales_after(f->db, 7, 0, collect_cb, &c), PM_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[0], 8);
	struct loy_card card;
	assert_int_equal(loy_card_get(f->db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, 5);
	assert_int_equal(card.spend_cents, 3 * (101 + 103 + 105 + 107 + 109));
	assert_int_equal(loy_card_get(f->db, "6036010000009999999", &card), PM_ENOENT);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.last_sale_seq, 10);
	assert_int_equal(st.sales, 10);
	assert_int_equal(st.cards, 2);
}

static void test_ext_id_once(void **state)
{
	struct fx *f = *state;
	struct loy_item items[1];
	struct loy_sale s;
	struct loy_commit_result r;
	uint64_t seq;

	make_sale(&s, items, 1, CARD_A, T0, 500);
	strcpy(s.ext_id, "pos-app:lane3:000017");
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.seq, 1);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_EEXIST);
	assert_int_equal(r.seq, 1);
	assert_int_equal(loy_sale_find_ext(f->db, "pos-app:lane3:000017", &seq), PM_OK);
	assert_int_equal(seq, 1);
	struct loy_card card;
	assert_int_equal(loy_card_get(f->db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, 1);  /* the repeat changed nothing */
}

static void test_coupon_single_use(void **state)
{
	struct fx *f = *state;
	struct loy_item items[1];
	struct loy_redemption red = { "PMXAMPLE1234", 100 };
	struct loy_sale s;
	struct loy_commit_result r;
	struct loy_stats st;

	make_sale(&s, items, 1, CARD_A, T0, 500);
	s.redeemed = &red;
	s.n_redeemed = 1;
	s.discount_cents = 100;
	s.total_cents = 400;
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_EEXIST);
	assert_int_equal(r.seq, 0);
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.last_sale_seq, 1);  /* the refused sale left no trace */
	struct loy_card card;
	assert_int_equal(loy_card_get(f->db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, 1);
}

static void test_points_tiers_expiry(void **state)
{
	struct fx *f = *state;
	struct loy_item items[1];
	struct loy_sale s;
	struct loy_commit_result r;

	/* 499.99 in the window: still member; 1 point per unit at x1.00. */
	make_sale(&s, items, 1, CARD_A, T0, 49999);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.points_earned, 499);
	assert_int_equal(r.tier, 0);
	/* One more cent reaches exactly 500.00: silver. */
	make_sale(&s, items, 1, CARD_A, T0 + DAY, 1);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.tier, 1);
	/* Silver earns x1.25 from the next sale on. */
	make_sale(&s, items, 1, CARD_A, T0 + 2 * DAY, 10000);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.points_earned, 125);
	int64_t balance = r.points_balance;
	assert_int_equal(balance, 499 + 0 + 125);
	/* 366 days later the window is empty again: back to member. */
	make_sale(&s, items, 1, CARD_A, T0 + 368 * DAY, 100);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.tier, 0);
	assert_int_equal(r.points_expired, 0);
	/* Exactly 730 days without a visit: not yet expired; one more microsecond: expired. */
	make_sale(&s, items, 1, CARD_A, T0 + 368 * DAY + 730 * DAY, 100);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.points_expired, 0);
	make_sale(&s, items, 1, CARD_A, T0 + 368 * DAY + 1460 * DAY + 1, 100);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_true(r.points_expired > 0);
	assert_int_equal(r.points_balance, 1);
	/* A return takes points back. */
	make_sale(&s, items, 1, CARD_A, T0 + 2000 * DAY, -100);
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	assert_int_equal(r.points_earned, -1);
}

struct card_events {
	int n;
	char card[4][LOY_CARD_MAX + 1];
	int consent[4];
};

static int card_fields_cb(void *ctx, const struct loy_event *ev)
{
	struct card_events *ce = ctx;
	if (ce->n < 4 && loy_event_card_fields(ev, ce->card[ce->n], &ce->consent[ce->n]) == PM_OK)
		ce->n++;
	return 0;
}

static void test_consent_and_erase(void **state)
{
	struct fx *f = *state;
	struct loy_item items[2];
	struct loy_sale s;
	struct loy_commit_result r;
	struct loy_card card;
	struct collect c = { 0 };
	uint64_t n;

	assert_int_equal(loy_card_set_consent(f->db, CARD_B, LOY_CONSENT_YES, LOY_SRC_TILL, T0), PM_OK);
	assert_int_equal(loy_card_get(f->db, CARD_B, &card), PM_OK);
	assert_int_equal(card.consent, LOY_CONSENT_YES);
	for (int i = 0; i < 4; i++) {
		make_sale(&s, items, 2, CARD_B, T0 + i, 250);
		assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_OK);
	}
	assert_int_equal(loy_card_set_consent(f->db, CARD_B, LOY_CONSENT_NO, LOY_SRC_HQ, T0 + 10), PM_OK);
	assert_int_equal(loy_card_get(f->db, CARD_B, &card), PM_OK);
	assert_int_equal(card.consent, LOY_CONSENT_NO);
	assert_int_equal(card.consent_source, LOY_SRC_HQ);
	assert_int_equal(card.visits, 4);
	assert_int_equal(loy_card_erase(f->db, CARD_B, LOY_SRC_TILL, T0 + 20, &n), PM_OK);
	assert_int_equal(n, 4);
	assert_int_equal(loy_card_get(f->db, CARD_B, &card), PM_ENOENT);
	assert_int_equal(loy_card_history(f->db, CARD_B, collect_cb, &c), PM_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(loy_sales_after(f->db, 0, 0, collect_cb, &c), PM_OK);
	assert_int_equal(c.n, 4);                 /* sales stay */
	assert_true(c.erased[0] && c.erased[3]);  /* with the card unlinked */
	assert_int_equal(loy_card_erase(f->db, CARD_B, LOY_SRC_TILL, T0 + 30, &n), PM_ENOENT);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	/* consent from the till + erasure were queued; HQ's consent change was not echoed;
	 * the consent HQ had not acknowledged became an erasure too (docs/privacy.md) */
	assert_int_equal(st.last_event_seq, 2);
	struct card_events ce = { 0 };
	assert_int_equal(loy_events_after(f->db, 0, 0, card_fields_cb, &ce), PM_OK);
	assert_int_equal(ce.n, 2);
	assert_string_equal(ce.card[0], CARD_B);   /* erasures, with the number: no HQ key here */
	assert_string_equal(ce.card[1], CARD_B);
	/* damaged records are refused, not misread */
	struct loy_event bad = { 9, T0, LOY_EV_CONSENT, "123 maybe", 9 };
	char num[LOY_CARD_MAX + 1];
	int consent;
	assert_int_equal(loy_event_card_fields(&bad, num, &consent), PM_ECORRUPT);
	bad.payload = "12345678901234567890 yes";
	bad.payload_len = strlen(bad.payload);
	assert_int_equal(loy_event_card_fields(&bad, num, &consent), PM_ECORRUPT);
	bad.type = LOY_EV_ERASURE;
	bad.payload = "123 ";
	bad.payload_len = 4;
	assert_int_equal(loy_event_card_fields(&bad, num, &consent), PM_ECORRUPT);
	bad.type = LOY_EV_OFFER_ISSUED;
	assert_int_equal(loy_event_card_fields(&bad, num, &consent), PM_EINVAL);
}

static int count_events(void *ctx, const struct loy_event *ev)
{
	int *n = ctx;
	(*n)++;
	return ev->payload_len > 0 ? 0 : -1;
}

static void test_events_and_watermark(void **state)
{
	struct fx *f = *state;
	uint64_t seq;
	int n = 0;
	struct loy_stats st;
	for (int i = 0; i < 5; i++)
		assert_int_equal(loy_event_append(f->db, LOY_EV_OFFER_ISSUED, T0 + i, "x", 1, &seq), PM_OK);
	assert_int_equal(seq, 5);
	assert_int_equal(loy_events_after(f->db, 2, 0, count_events, &n), PM_OK);
	assert_int_equal(n, 3);
	assert_int_equal(loy_watermark_set(f->db, false, 7), PM_OK);
	assert_int_equal(loy_watermark_set(f->db, false, 3), PM_OK);  /* never backwards */
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.sales_acked, 7);
}

static void test_catalog(void **state)
{
	struct fx *f = *state;
	struct loy_product p[2] = { { "05012340000018", "Milk, 1L", "Dairy", "Farmhouse", 109 },
				    { "04006381333931", "Pen", "Stationery", "", 199 } }, out;
	uint64_t n;
	assert_int_equal(loy_catalog_put(f->db, p, 2), PM_OK);
	assert_int_equal(loy_catalog_get(f->db, "05012340000018", &out), PM_OK);
	assert_string_equal(out.name, "Milk, 1L");
	assert_int_equal(out.price_cents, 109);
	assert_int_equal(loy_catalog_get(f->db, "05012340000025", &out), PM_ENOENT);
	assert_int_equal(loy_catalog_count(f->db, &n), PM_OK);
	assert_int_equal(n, 2);
}

static void test_invalid_sales_refused(void **state)
{
	struct fx *f = *state;
	struct loy_item items[1];
	struct loy_sale s;
	struct loy_commit_result r;
	make_sale(&s, items, 1, NULL, T0, 100);
	strcpy(items[0].gtin, "123");
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_EINVAL);
	make_sale(&s, items, 1, NULL, T0, 100);
	memset(s.ext_id, 'x', sizeof(s.ext_id));  /* not terminated within the limit */
	assert_int_equal(loy_sale_commit(f->db, &s, &r), PM_EINVAL);
}

static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct loy_item items[4][2];
	struct loy_sale s[4];
	const struct loy_sale *ps[4];
	struct loy_commit_result r[4];
	struct loy_redemption red = { "PMGROUPTEST01", 50 };
	int rcs[4];
	for (int i = 0; i < 4; i++) {
		make_sale(&s[i], items[i], 2, i % 2 ? CARD_A : NULL, T0 + i, 100);
		ps[i] = &s[i];
	}
	/* Sales 1 and 2 redeem the same coupon: the second use is refused alone. */
	s[1].redeemed = s[2].redeemed = &red;
	s[1].n_redeemed = s[2].n_redeemed = 1;
	strcpy(items[3][0].gtin, "bad");
	assert_int_equal(loy_sale_commit_group(f->db, ps, 4, r, rcs), PM_OK);
	assert_int_equal(rcs[0], PM_OK);
	assert_int_equal(rcs[1], PM_OK);
	assert_int_equal(rcs[2], PM_EEXIST);
	assert_int_equal(rcs[3], PM_EINVAL);
	assert_int_equal(r[0].seq, 1);
	assert_int_equal(r[1].seq, 2);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.sales, 2);
	assert_int_equal(st.last_sale_seq, 2);
	struct loy_card card;
	assert_int_equal(loy_card_get(f->db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, 1);
}

/* The daemon's pipelined group commit: one sync per group, earlier groups settled. */
static void test_deferred_group_commit(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	struct loy_config cfg;
	struct loy_db *db;
	struct loy_item items[3][2];
	struct loy_sale s[3];
	const struct loy_sale *ps[3];
	struct loy_commit_result r[3];
	struct loy_stats st;
	int rcs[3], earlier = -1;
	loy_config_default(&cfg);
	for (int i = 0; i < 3; i++) {
		make_sale(&s[i], items[i], 2, i ? CARD_A : NULL, T0 + i, 100);
		ps[i] = &s[i];
	}
	/* Without defer_meta_sync the deferred call is refused (it would not be durable). */
	assert_int_equal(loy_open(dir, &cfg, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_sale_commit_group_deferred(db, ps, 3, r, rcs, &earlier), PM_EINVAL);
	loy_close(db);
	cfg.defer_meta_sync = true;
	assert_int_equal(loy_open(dir, &cfg, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_sale_commit_group_deferred(db, ps, 2, r, rcs, &earlier), PM_OK);
	assert_int_equal(earlier, PM_OK);
	assert_int_equal(rcs[0], PM_OK);
	assert_int_equal(rcs[1], PM_OK);
	assert_int_equal(r[1].seq, 2);
	/* The next group: visible at once, numbered on. */
	assert_int_equal(loy_sale_commit_group_deferred(db, ps + 2, 1, r + 2, rcs + 2, &earlier), PM_OK);
	assert_int_equal(earlier, PM_OK);
	assert_int_equal(r[2].seq, 3);
	/* A group with nothing valid writes nothing, so it syncs the earlier one itself. */
	strcpy(items[0][0].gtin, "bad");
	assert_int_equal(loy_sale_commit_group_deferred(db, ps, 1, r, rcs, &earlier), PM_OK);
	assert_int_equal(rcs[0], PM_EINVAL);
	assert_int_equal(earlier, PM_OK);
	/* Other writes stay durable on return, and loy_sync settles everything. */
	make_sale(&s[0], items[0], 2, CARD_B, T0 + 9, 100);
	assert_int_equal(loy_sale_commit(db, &s[0], &r[0]), PM_OK);
	assert_int_equal(r[0].seq, 4);
	assert_int_equal(loy_sync(db), PM_OK);
	loy_close(db);
	assert_int_equal(loy_open(dir, NULL, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_int_equal(st.sales, 4);
	struct loy_card card;
	assert_int_equal(loy_card_get(db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, 2);
	loy_close(db);
	tu_rmdir(dir);
}

/* The map starts tiny and must grow by itself through many commits. */
static void test_map_grows(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	struct loy_config cfg;
	struct loy_db *db;
	struct loy_item items[20];
	struct loy_sale s;
	struct loy_commit_result r;
	struct loy_stats st;
	loy_config_default(&cfg);
	cfg.map_size_initial = 64 * 1024;
	assert_int_equal(loy_open(dir, &cfg, &db, NULL, 0), PM_OK);
	for (int i = 0; i < 3000; i++) {
		make_sale(&s, items, 20, i % 7 ? CARD_A : CARD_B, T0 + i, 100);
		assert_int_equal(loy_sale_commit(db, &s, &r), PM_OK);
	}
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_int_equal(st.sales, 3000);
	assert_true(st.map_size > 64 * 1024);
	loy_close(db);
	tu_rmdir(dir);
}

/* A capped map fills: PM_EFULL, nothing half-written, everything earlier intact. */
static void test_map_cap_full(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	struct loy_config cfg;
	struct loy_db *db;
	struct loy_item items[50];
	struct loy_sale s;
	struct loy_commit_result r;
	struct loy_stats st;
	int i, rc = PM_OK;
	loy_config_default(&cfg);
	cfg.map_size_initial = 256 * 1024;
	cfg.map_size_max = 512 * 1024;
	assert_int_equal(loy_open(dir, &cfg, &db, NULL, 0), PM_OK);
	for (i = 0; i < 100000 && rc == PM_OK; i++) {
		make_sale(&s, items, 50, CARD_A, T0 + i, 100);
		rc = loy_sale_commit(db, &s, &r);
	}
	assert_int_equal(rc, PM_EFULL);
	int committed = i - 1;
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_int_equal(st.sales, (uint64_t)committed);
	assert_int_equal(st.last_sale_seq, (uint64_t)committed);
	struct loy_card card;
	assert_int_equal(loy_card_get(db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, (uint64_t)committed);
	loy_close(db);
	/* Raise the cap: the same log takes the sale. */
	cfg.map_size_max = 0;
	assert_int_equal(loy_open(dir, &cfg, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_sale_commit(db, &s, &r), PM_OK);
	assert_int_equal(r.seq, (uint64_t)committed + 1);
	loy_close(db);
	tu_rmdir(dir);
}

/* A real write failure from the OS (file size limit, as a full disk): PM_EFULL, log intact. */
static void test_disk_full(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loy_config cfg;
		struct loy_db *db;
		struct loy_item items[40];
		struct loy_sale s;
		struct loy_commit_result r;
		struct rlimit rl = { 2 * 1024 * 1024, 2 * 1024 * 1024 };
		int rc = PM_OK, i;
		signal(SIGXFSZ, SIG_IGN);
		loy_config_default(&cfg);
		if (loy_open(dir, &cfg, &db, NULL, 0))
			_exit(10);
		setrlimit(RLIMIT_FSIZE, &rl);
		for (i = 0; i < 100000 && rc == PM_OK; i++) {
			make_sale(&s, items, 40, CARD_A, T0 + i, 100);
			rc = loy_sale_commit(db, &s, &r);
		}
		_exit(rc == PM_EFULL ? 0 : 11);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Reopen without the limit: every committed sale is there, card aggregates agree. */
	struct loy_db *db;
	struct loy_stats st;
	struct loy_card card;
	struct collect *c = calloc(1, sizeof(*c));
	assert_int_equal(loy_open(dir, NULL, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_true(st.sales > 10);
	assert_int_equal(st.sales, st.last_sale_seq);
	assert_int_equal(loy_card_get(db, CARD_A, &card), PM_OK);
	assert_int_equal(card.visits, st.sales);
	assert_int_equal(loy_sales_after(db, 0, 0, collect_cb, c), PM_OK);
	assert_int_equal((uint64_t)c->n, st.sales);
	free(c);
	loy_close(db);
	tu_rmdir(dir);
}

static void test_foreign_and_corrupt(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char path[4200], err[600];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 3, "foo" }, v = { 3, "bar" };
	struct loy_db *db;

	/* Someone else's LMDB. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(loy_open(dir, NULL, &db, err, sizeof(err)), PM_ECORRUPT);
	assert_non_null(strstr(err, "not a posmark purchase log"));
	assert_null(db);
	tu_rmdir(dir);

	/* Not an LMDB file at all. */
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 20000; i++)
		fputc(i * 7 & 0xff, f);
	fclose(f);
	assert_int_equal(loy_open(dir, NULL, &db, err, sizeof(err)), PM_ECORRUPT);
	assert_non_null(strstr(err, "not a readable LMDB file"));
	tu_rmdir(dir);
}

/* A stored sale's GTINs are checked digit by digit when read back (codec.c tests eight bytes at
 * once): every digit at every position reads, every byte that is not a digit is damage. */
static void test_record_gtin_digits(void **state)
{
	(void)state;
	struct loy_item it = { "05901234123457", 2, 150, 300 };
	struct loy_sale s = { 0 }, back;
	struct loyi_scratch sc = { 0 };
	snprintf(s.terminal, sizeof(s.terminal), "T1");
	snprintf(s.card, sizeof(s.card), "6036010000000011");
	memcpy(s.currency, "EUR", 4);
	s.seq = 7;
	s.time_us = 1700000000000000;
	s.total_cents = s.tendered_cents = 300;
	s.n_items = 1;
	s.items = &it;
	size_t len = loyi_sale_size(&s);
	unsigned char *buf = malloc(len);
	assert_non_null(buf);
	loyi_sale_encode(&s, buf);
	assert_int_equal(loyi_sale_decode_sc(&sc, buf, len, &back), PM_OK);
	assert_string_equal(back.items[0].gtin, it.gtin);
	unsigned char *g = memmem(buf, len, it.gtin, 14);
	assert_non_null(g);
	static const unsigned char bad[] = { '/', ':', 'A', ' ', 0x00, 0x06, 0x2a, 0x3a, 0x3f, 0x40, 0x7f, 0x80, 0xb0, 0xf9,
					     0xfa, 0xff };
	for (int pos = 0; pos < 14; pos++) {
		unsigned char keep = g[pos];
		for (int d = '0'; d <= '9'; d++) {
			g[pos] = (unsigned char)d;
			assert_int_equal(loyi_sale_decode_sc(&sc, buf, len, &back), PM_OK);
			assert_int_equal(back.items[0].gtin[pos], d);
		}
		for (size_t b = 0; b < sizeof(bad); b++) {
			g[pos] = bad[b];
			assert_int_equal(loyi_sale_decode_sc(&sc, buf, len, &back), PM_ECORRUPT);
		}
		g[pos] = keep;
	}
	free(sc.items);
	free(sc.redeemed);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_and_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_id_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coupon_single_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_points_tiers_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consent_and_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_and_watermark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_sales_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test(test_deferred_group_commit),
		cmocka_unit_test(test_map_grows),
		cmocka_unit_test(test_map_cap_full),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_foreign_and_corrupt),
		cmocka_unit_test(test_record_gtin_digits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
