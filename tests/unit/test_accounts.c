/*
 * test_accounts.c - the chain account in the purchase log (docs/accounts.md),
 * on real LMDB files: the ledger entries a record carries, v1 records read
 * back after the format went to v2, account states from HQ applied in any
 * order with sales in between (the balance is HQ's plus exactly the entries
 * HQ had not included), spending points and its refusals (nothing written),
 * expiry as an entry. Returns: test_returns.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <lmdb.h>

#define DAY (86400LL * 1000000LL)
#define T0 1790000000000000LL
#define TERM "store1-lane1"

static const char *CARD = "6036010000001000005";
static const char *CARD2 = "6036010000001000377";

#include "tests/unit/loy_fixture.h"

/* these tills answer to HQ: the offline allowance applies */
static int setup(void **state) { return loyfx_setup(state, true); }
static int teardown(void **state) { return loyfx_teardown(state); }

/* ---- ledger -------------------------------------------------------------- */

static void test_ledger_entries(void **state)
{
	(void)state;
	struct loy_sale s = { 0 };
	struct loy_ledger_entry e[LOY_LEDGER_PER_SALE];
	assert_int_equal(loy_sale_ledger(&s, e), 0);           /* zero-point entries are not written */
	s.points_earned = 12;
	s.points_spent = 500;
	s.points_bonus = 50;
	s.points_expired = 7;
	assert_int_equal(loy_sale_ledger(&s, e), 4);
	assert_int_equal(e[0].kind, LOY_LEDGER_EARN);
	assert_int_equal(e[0].points, 12);
	assert_int_equal(e[1].kind, LOY_LEDGER_SPEND);
	assert_int_equal(e[1].points, -500);
	assert_int_equal(e[2].kind, LOY_LEDGER_BONUS);
	assert_int_equal(e[2].points, 50);
	assert_int_equal(e[3].kind, LOY_LEDGER_EXPIRY);
	assert_int_equal(e[3].points, -7);
	memset(&s, 0, sizeof(s));
	s.type = LOY_RETURN;
	s.points_clawed_back = 9;
	assert_int_equal(loy_sale_ledger(&s, e), 1);
	assert_int_equal(e[0].kind, LOY_LEDGER_CLAWBACK);
	assert_int_equal(e[0].points, -9);
	assert_string_equal(loy_ledger_kind_name(LOY_LEDGER_CLAWBACK), "clawback");
	assert_string_equal(loy_ledger_kind_name(LOY_LEDGER_IMPORT), "import");
	assert_string_equal(loy_ledger_kind_name(42), "?");
}

struct got {
	int n;
	struct loy_sale s[16];
	struct loy_item items[16][8];
};

static int got_cb(void *ctx, const struct loy_sale *s)
{
	struct got *g = ctx;
	if (g->n >= 16)
		return 1;
	g->s[g->n] = *s;
	for (uint32_t i = 0; i < s->n_items && i < 8; i++)
		g->items[g->n][i] = s->items[i];
	g->s[g->n].items = g->items[g->n];
	g->n++;
	return 0;
}

/* The record read back carries what was committed, and its entries are the card's balance. */
static void test_record_v2_round_trip(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r;
	simple_sale(&b, CARD, T0, 100000);     /* 1000.00: 1000 points at tier member */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.points_earned, 1000);
	simple_sale(&b, CARD, T0 + 1, 30000);
	b.s.points_spent = 400;                 /* 4.00 of 300.00 paid with points */
	b.s.points_bonus = 25;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	/* Earned on the money paid, at the tier held before the sale (silver from 500.00). */
	assert_int_equal(r.points_earned, (30000 - 400) * 125 / 10000);
	assert_int_equal(r.points_spent, 400);
	assert_int_equal(r.points_bonus, 25);
	assert_int_equal(r.points_balance, 1000 + r.points_earned - 400 + 25);
	struct got g = { 0 };
	assert_int_equal(loy_sale_get(f->db, r.seq, got_cb, &g), PM_OK);
	assert_int_equal(g.s[0].type, LOY_SALE);
	assert_int_equal(g.s[0].points_spent, 400);
	assert_int_equal(g.s[0].point_value_cents, 1);     /* the config's, stamped */
	assert_int_equal(g.s[0].points_bonus, 25);
	assert_int_equal(g.s[0].points_earned, r.points_earned);
	struct loy_card c;
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.points, r.points_balance);
	assert_int_equal(c.pending_points, c.points);       /* no HQ state: all of it is this terminal's */
	assert_int_equal(c.pending_spent, 400);
	assert_int_equal(c.chain_as_of_us, 0);
}

/* A log as format v1 wrote it: one v1 sale of CARD (2.50, 2 points) and its v1 card record. */
static void write_v1_log(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, sales, cards, idx;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "sales", MDB_INTEGERKEY, &sales), 0);
	assert_int_equal(mdb_dbi_open(txn, "cards", 0, &cards), 0);
	assert_int_equal(mdb_dbi_open(txn, "card_idx", MDB_DUPSORT | MDB_DUPFIXED, &idx), 0);
	uint64_t one = 1;
	MDB_val k = { 6, "format" }, v = { 8, &one };
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	/* Sale v1 (docs/storage.md): 64-byte header, card, terminal, one item. */
	unsigned char rec[64 + 19 + 12 + 34];
	memset(rec, 0, sizeof(rec));
	rec[0] = 1;
	rec[3] = 19;
	rec[4] = 12;
	rec[6] = 1;
	memcpy(rec + 10, "EUR", 3);
	uint64_t seq = 1;
	int64_t t = T0, total = 250, earned = 2;
	memcpy(rec + 16, &seq, 8);
	memcpy(rec + 24, &t, 8);
	memcpy(rec + 32, &total, 8);
	memcpy(rec + 48, &total, 8);
	memcpy(rec + 56, &earned, 8);
	memcpy(rec + 64, CARD, 19);
	memcpy(rec + 83, TERM, 12);
	unsigned char *it = rec + 95;
	memcpy(it, "05012340000001", 14);
	int32_t q = 1;
	memcpy(it + 14, &q, 4);
	memcpy(it + 18, &total, 8);
	memcpy(it + 26, &total, 8);
	k.mv_size = 8;
	k.mv_data = &seq;
	v.mv_size = sizeof(rec);
	v.mv_data = rec;
	assert_int_equal(mdb_put(txn, sales, &k, &v, 0), 0);
	/* Card v1 (56 bytes): points 2, one visit. */
	unsigned char crec[56];
	memset(crec, 0, sizeof(crec));
	crec[0] = 1;
	uint64_t visits = 1;
	memcpy(crec + 8, &t, 8);
	memcpy(crec + 16, &t, 8);
	memcpy(crec + 24, &visits, 8);
	memcpy(crec + 32, &total, 8);
	memcpy(crec + 40, &earned, 8);
	k.mv_size = 19;
	k.mv_data = (void *)CARD;
	v.mv_size = 56;
	v.mv_data = crec;
	assert_int_equal(mdb_put(txn, cards, &k, &v, 0), 0);
	unsigned char ie[24];
	for (int i = 0; i < 8; i++) {
		ie[i] = (unsigned char)(seq >> (56 - 8 * i));
		ie[8 + i] = (unsigned char)((uint64_t)t >> (56 - 8 * i));
		ie[16 + i] = (unsigned char)((uint64_t)total >> (56 - 8 * i));
	}
	v.mv_size = 24;
	v.mv_data = ie;
	assert_int_equal(mdb_put(txn, idx, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

}

/* A log written by format v1: its records read with zeros, it is upgraded, and goes on. */
static void test_v1_records_read(void **state)
{
	struct fx *f = *state;
	loy_close(f->db);
	f->db = NULL;
	write_v1_log(f->dir);

	assert_int_equal(loy_open(f->dir, &f->cfg, &f->db, NULL, 0), PM_OK);
	struct got g = { 0 };
	assert_int_equal(loy_sale_get(f->db, 1, got_cb, &g), PM_OK);
	assert_int_equal(g.s[0].type, LOY_SALE);
	assert_int_equal(g.s[0].total_cents, 250);
	assert_int_equal(g.s[0].points_earned, 2);
	assert_int_equal(g.s[0].points_spent, 0);
	assert_int_equal(g.s[0].return_of_seq, 0);
	assert_string_equal(g.s[0].return_of_terminal, "");
	struct loy_ledger_entry e[LOY_LEDGER_PER_SALE];
	assert_int_equal(loy_sale_ledger(&g.s[0], e), 1);
	struct loy_card c;
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.points, 2);
	assert_int_equal(c.pending_points, 2);
	assert_int_equal(c.chain_as_of_us, 0);
	/* The v1 sale can be returned; new records go on after it. */
	struct sale_buf b;
	struct loy_commit_result r;
	simple_sale(&b, CARD, T0 + DAY, 1000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.points_balance, 12);
	memset(&b, 0, sizeof(b));
	b.s.type = LOY_RETURN;
	snprintf(b.s.return_of_terminal, sizeof(b.s.return_of_terminal), TERM);
	b.s.return_of_seq = 1;
	snprintf(b.items[0].gtin, sizeof(b.items[0].gtin), "05012340000001");
	b.items[0].qty = 1;
	b.s.items = b.items;
	b.s.n_items = 1;
	b.s.time_us = T0 + 2 * DAY;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.refund_cents, 250);
	assert_int_equal(r.points_clawed_back, 2);
	assert_int_equal(points_of(f->db, CARD), 10);
	/* Closed and opened again: still format 2, still readable. */
	loy_close(f->db);
	assert_int_equal(loy_open(f->dir, &f->cfg, &f->db, NULL, 0), PM_OK);
	g.n = 0;
	assert_int_equal(loy_sales_after(f->db, 0, 0, got_cb, &g), PM_OK);
	assert_int_equal(g.n, 3);
}

/* ---- account states from HQ ---------------------------------------------- */

static struct loy_account_state state_of(const char *card, int64_t points)
{
	struct loy_account_state a;
	memset(&a, 0, sizeof(a));
	snprintf(a.card, sizeof(a.card), "%s", card);
	a.points = points;
	return a;
}

/* Entries of this terminal's records of card with seq > after. */
static int64_t entries_after(struct loy_db *db, const char *card, uint64_t after)
{
	struct got g;
	int64_t sum = 0;
	uint64_t s = after;
	for (;;) {
		g.n = 0;
		assert_int_equal(loy_sales_after(db, s, 16, got_cb, &g), PM_OK);
		if (!g.n)
			break;
		for (int i = 0; i < g.n; i++) {
			struct loy_ledger_entry e[LOY_LEDGER_PER_SALE];
			size_t n = loy_sale_ledger(&g.s[i], e);
			if (!strcmp(g.s[i].card, card))
				for (size_t k = 0; k < n; k++)
					sum += e[k].points;
			s = g.s[i].seq;
		}
	}
	return sum;
}

static void test_apply_basic(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r;
	simple_sale(&b, CARD, T0, 10000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);    /* +100 */
	simple_sale(&b, CARD, T0 + 1, 5000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);    /* +50 */
	/* HQ had sale 1 and 700 points from other stores. */
	struct loy_account_state a = state_of(CARD, 800);
	a.tier = 1;
	a.window_spend_cents = 60000;
	a.last_visit_us = T0 + 5;
	a.consent = LOY_CONSENT_YES;
	a.consent_changed_us = T0 + 3;
	a.n_bought = 2;
	snprintf(a.bought[0], sizeof(a.bought[0]), "05012340000009");
	snprintf(a.bought[1], sizeof(a.bought[1]), "05012340000016");
	assert_int_equal(loy_accounts_apply(f->db, &a, 1, T0 + 10, 1, 77), PM_OK);
	struct loy_card c;
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.points, 850);
	assert_int_equal(c.pending_points, 50);
	assert_int_equal(c.chain_as_of_us, T0 + 10);
	assert_int_equal(c.tier, 1);                   /* HQ's tier (and 600 + 50 of spend) */
	assert_int_equal(c.consent, LOY_CONSENT_YES);  /* HQ's answer is newer than none */
	assert_int_equal(c.consent_source, LOY_SRC_HQ);
	assert_int_equal(c.last_visit_us, T0 + 5);
	uint64_t cur;
	assert_int_equal(loy_accounts_cursor(f->db, &cur), PM_OK);
	assert_int_equal(cur, 77);
	char bought[32][LOY_GTIN_LEN + 1];
	uint32_t nb;
	assert_int_equal(loy_card_bought(f->db, CARD, bought, &nb), PM_OK);
	assert_int_equal(nb, 2);
	assert_string_equal(bought[1], "05012340000016");
	/* An older state is ignored (points, cursor kept); a lookup (cursor 0) keeps the cursor. */
	a.points = 99999;
	assert_int_equal(loy_accounts_apply(f->db, &a, 1, T0 + 9, 2, 70), PM_OK);
	assert_int_equal(points_of(f->db, CARD), 850);
	assert_int_equal(loy_accounts_cursor(f->db, &cur), PM_OK);
	assert_int_equal(cur, 77);
	/* Consent: the till's later answer wins over HQ's older one. */
	assert_int_equal(loy_card_set_consent(f->db, CARD, LOY_CONSENT_NO, LOY_SRC_TILL, T0 + 20), PM_OK);
	a = state_of(CARD, 850);
	a.consent = LOY_CONSENT_YES;
	a.consent_changed_us = T0 + 3;
	assert_int_equal(loy_accounts_apply(f->db, &a, 1, T0 + 30, 2, 0), PM_OK);
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_int_equal(c.consent, LOY_CONSENT_NO);
	assert_int_equal(c.points, 850);
	assert_int_equal(c.pending_points, 0);
	assert_int_equal(loy_card_bought(f->db, CARD, bought, &nb), PM_OK);
	assert_int_equal(nb, 0);
	assert_int_equal(loy_accounts_cursor(f->db, &cur), PM_OK);
	assert_int_equal(cur, 77);
	/* A card never seen here becomes known with HQ's state. */
	struct loy_account_state b2 = state_of(CARD2, 1234);
	assert_int_equal(loy_accounts_apply(f->db, &b2, 1, T0 + 40, 2, 0), PM_OK);
	assert_int_equal(loy_card_get(f->db, CARD2, &c), PM_OK);
	assert_int_equal(c.points, 1234);
	assert_int_equal(c.visits, 0);
	/* Erased at HQ: erased here, nothing queued back to HQ. */
	struct loy_stats st0, st1;
	assert_int_equal(loy_stats(f->db, &st0), PM_OK);
	struct loy_account_state er = { .erased = true };
	snprintf(er.card, sizeof(er.card), "%s", CARD);
	assert_int_equal(loy_accounts_apply(f->db, &er, 1, T0 + 50, 2, 0), PM_OK);
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_ENOENT);
	assert_int_equal(loy_stats(f->db, &st1), PM_OK);
	assert_int_equal(st1.last_event_seq, st0.last_event_seq);
	/* Bad states: the whole page refused, nothing applied. */
	struct loy_account_state bad[2] = { state_of(CARD2, 1), state_of("12x4", 1) };
	assert_int_equal(loy_accounts_apply(f->db, bad, 2, T0 + 60, 2, 0), PM_EINVAL);
	assert_int_equal(points_of(f->db, CARD2), 1234);
}

/*
 * The model: HQ ingests this terminal's records in order; a state computed
 * at HQ time T includes the records up to included(T). The till commits
 * sales and applies states in a random order; at every step its balance is
 * the newest applied state's balance plus exactly its entries after that
 * state's included_sale_seq.
 */
static void test_apply_any_order(void **state)
{
	struct fx *f = *state;
	unsigned seed = 1234;
	for (int round = 0; round < 20; round++) {
		char card[21];
		snprintf(card, sizeof(card), "603601000000%06d", round % 1000000);
		tu_luhn_complete(card);
		/* 30 sales, some spending; HQ also holds 1000 points from elsewhere. */
		int64_t hq_base = 1000, entries[64] = { 0 };
		uint64_t seqs[64];
		int n_sales = 0;
		int64_t now = T0 + round * DAY;
		uint64_t first = last_seq(f->db) + 1;
		/* States prepared against what HQ ingested; the till sees them later, shuffled. */
		int order[128], n_order = 0;
		for (int i = 0; i < 30; i++)
			order[n_order++] = i;                 /* sale i */
		for (int i = 0; i < 12; i++)
			order[n_order++] = 100 + i;           /* state i */
		for (int i = n_order - 1; i > 0; i--) {
			int j = (int)(rand_r(&seed) % (unsigned)(i + 1)), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		int64_t newest_as_of = 0;
		uint64_t newest_included = 0;
		int64_t newest_points = 0;
		for (int k = 0; k < n_order; k++) {
			if (order[k] < 100) {
				struct sale_buf b;
				struct loy_commit_result r;
				simple_sale(&b, card, now + k, 1000 + (rand_r(&seed) % 5000));
				struct loy_card c;
				if (loy_card_get(f->db, card, &c) == PM_OK && c.points > 40 && rand_r(&seed) % 3 == 0)
					b.s.points_spent = 1 + rand_r(&seed) % 10;
				int rc = loy_sale_commit(f->db, &b.s, &r);
				assert_true(rc == PM_OK || rc == PM_EREFUSED);
				if (rc == PM_OK) {
					seqs[n_sales] = r.seq;
					entries[n_sales++] = r.points_earned - r.points_spent;
				}
			} else {
				/* HQ ingested a prefix of what was committed so far (at most), state at a random time. */
				uint64_t inc = n_sales ? seqs[rand_r(&seed) % (unsigned)n_sales] : 0;
				int64_t pts = hq_base;
				for (int i = 0; i < n_sales; i++)
					if (seqs[i] <= inc)
						pts += entries[i];
				/* Later HQ time includes at least as much: keep states consistent in time. */
				int64_t as_of = now + 1000 + (int64_t)inc * 10 + (rand_r(&seed) % 5);
				struct loy_account_state a = state_of(card, pts);
				assert_int_equal(loy_accounts_apply(f->db, &a, 1, as_of, inc, 0), PM_OK);
				if (as_of >= newest_as_of) {
					newest_as_of = as_of;
					newest_included = inc;
					newest_points = pts;
				}
			}
			struct loy_card c;
			if (loy_card_get(f->db, card, &c) != PM_OK)
				continue;
			if (newest_as_of) {
				assert_int_equal(c.chain_as_of_us, newest_as_of);
				assert_int_equal(c.points, newest_points + entries_after(f->db, card, newest_included));
				assert_int_equal(c.pending_points, entries_after(f->db, card, newest_included));
			} else {
				assert_int_equal(c.points, entries_after(f->db, card, first - 1));
			}
		}
		/* Finally HQ has everything: the till shows HQ's balance, nothing pending. */
		int64_t all = hq_base;
		for (int i = 0; i < n_sales; i++)
			all += entries[i];
		struct loy_account_state a = state_of(card, all);
		assert_int_equal(loy_accounts_apply(f->db, &a, 1, now + DAY - 1, last_seq(f->db), 0), PM_OK);
		struct loy_card c;
		assert_int_equal(loy_card_get(f->db, card, &c), PM_OK);
		assert_int_equal(c.points, all);
		assert_int_equal(c.pending_points, 0);
		assert_int_equal(c.pending_spent, 0);
	}
}

/* Tier: HQ's window spend plus the spend here HQ has not included. */
static void test_tier_from_chain(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r;
	simple_sale(&b, CARD, T0, 10000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.tier, 0);
	/* HQ: 450.00 spent across the chain (including sale 1), tier 0. */
	struct loy_account_state a = state_of(CARD, 100);
	a.window_spend_cents = 45000;
	assert_int_equal(loy_accounts_apply(f->db, &a, 1, T0 + 10, 1, 0), PM_OK);
	simple_sale(&b, CARD, T0 + 20, 6000);           /* 450 + 60 = 510: silver */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.tier, 1);
	assert_int_equal(r.window_spend_cents, 51000);
	assert_int_equal(r.points_earned, 60);          /* earned at the tier held before the sale */
	simple_sale(&b, CARD, T0 + 30, 1000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.points_earned, 1000 * 125 / 10000);
}

/* ---- spending -------------------------------------------------------------- */

static void test_spend_refusals(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r;
	simple_sale(&b, CARD, T0, 300000);              /* 3000 points */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.points_balance, 3000);
	uint64_t seq0 = last_seq(f->db);

	simple_sale(&b, NULL, T0 + 1, 1000);
	b.s.points_spent = 10;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_POINTS_NO_CARD);
	simple_sale(&b, CARD, T0 + 1, 1000);
	b.s.points_spent = 1001;                        /* worth 10.01 of a 10.00 sale */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_POINTS_TOTAL);
	simple_sale(&b, CARD, T0 + 1, 500000);
	b.s.points_spent = 3001;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_POINTS_BALANCE);
	b.s.points_spent = 1001;                        /* no HQ state: the offline allowance (1000) */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_POINTS_OFFLINE);
	b.s.points_spent = -1;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EINVAL);
	b.s.points_spent = 2000000000LL;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EINVAL);
	/* Nothing of the refused sales was written. */
	assert_int_equal(last_seq(f->db), seq0);
	assert_int_equal(points_of(f->db, CARD), 3000);

	/* Within the allowance: 600, then 400 more, then 1 more is refused offline. */
	b.s.points_spent = 600;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.points_earned, (500000 - 600) * 150 / 10000);   /* gold: 3000.00 spent before */
	simple_sale(&b, CARD, T0 + 2, 1000);
	b.s.points_spent = 400;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	simple_sale(&b, CARD, T0 + 3, 1000);
	b.s.points_spent = 1;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_POINTS_OFFLINE);
	/* A fresh state from HQ that includes them: the whole balance may be spent. */
	struct loy_card c;
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	struct loy_account_state a = state_of(CARD, c.points);
	assert_int_equal(loy_accounts_apply(f->db, &a, 1, T0 + 4, last_seq(f->db), 0), PM_OK);
	assert_int_equal(loy_points_spendable(&f->cfg, &c, T0 + 5, NULL), 0);   /* the old snapshot */
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	bool offline = true;
	assert_int_equal(loy_points_spendable(&f->cfg, &c, T0 + 5, &offline), c.points);
	assert_false(offline);
	simple_sale(&b, CARD, T0 + 5, 500000);
	b.s.points_spent = c.points;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	/* A day later the state is stale: the allowance again. */
	assert_int_equal(loy_card_get(f->db, CARD, &c), PM_OK);
	assert_true(c.points > 0);
	/* Spent here since HQ's state counts against it: nothing more until HQ includes it. */
	assert_true(c.pending_spent > 1000);
	assert_int_equal(loy_points_spendable(&f->cfg, &c, T0 + 4 + DAY + 1000000, &offline), 0);
	assert_true(offline);
	assert_int_equal(loy_points_spendable(&f->cfg, &c, T0 + 6, &offline), c.points);
	assert_false(offline);
}

/* Two lanes (a group commit) spending from one card: the second one the balance cannot cover is refused. */
static void test_spend_two_lanes(void **state)
{
	struct fx *f = *state;
	struct sale_buf b, l1, l2;
	struct loy_commit_result r, out[2];
	int rcs[2];
	simple_sale(&b, CARD, T0, 90000);               /* 900 points */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	simple_sale(&l1, CARD, T0 + 1, 1000);
	l1.s.points_spent = 600;
	simple_sale(&l2, CARD, T0 + 1, 1000);
	l2.s.points_spent = 600;
	const struct loy_sale *sales[2] = { &l1.s, &l2.s };
	assert_int_equal(loy_sale_commit_group(f->db, sales, 2, out, rcs), PM_OK);
	assert_int_equal(rcs[0], PM_OK);
	assert_int_equal(rcs[1], PM_EREFUSED);
	assert_int_equal(out[1].refusal, LOY_REFUSE_POINTS_BALANCE);
	assert_int_equal(points_of(f->db, CARD), 900 - 600 + out[0].points_earned);
}

/* Expiry stays a till entry in the sale's record (and is part of the balance's sum). */
static void test_expiry_entry(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r;
	f->cfg.points_expiry_days = 30;
	loy_close(f->db);
	assert_int_equal(loy_open(f->dir, &f->cfg, &f->db, NULL, 0), PM_OK);
	simple_sale(&b, CARD, T0, 10000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	simple_sale(&b, CARD, T0 + 31 * DAY, 1000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.points_expired, 100);
	assert_int_equal(r.points_balance, 10);
	assert_int_equal(entries_after(f->db, CARD, 0), 10);
	/* HQ's later visit elsewhere keeps the balance alive. */
	struct loy_account_state a = state_of(CARD, 500);
	a.last_visit_us = T0 + 50 * DAY;
	assert_int_equal(loy_accounts_apply(f->db, &a, 1, T0 + 50 * DAY, r.seq, 0), PM_OK);
	simple_sale(&b, CARD, T0 + 70 * DAY, 1000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.points_expired, 0);
	assert_int_equal(r.points_balance, 510);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_entries),
		cmocka_unit_test_setup_teardown(test_record_v2_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_records_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tier_from_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spend_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spend_two_lanes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_entry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
