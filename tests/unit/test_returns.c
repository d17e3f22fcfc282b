/*
 * test_returns.c - returns in the purchase log (docs/accounts.md, "Sale and
 * return records"), on real LMDB files: partial returns with the coupon
 * discount spread and the completing return taking the remainders, the
 * return record, refusals (a return of a return, an unknown sale, too many
 * units, an item not in the sale: nothing written), another terminal's sale
 * with HQ's basis, the reads net of returns, and erasure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"


#define DAY (86400LL * 1000000LL)
#define T0 1790000000000000LL
#define TERM "store1-lane1"

static const char *CARD = "6036010000001000005";
static const char *CARD2 = "6036010000001000377";

#include "tests/unit/loy_fixture.h"

static int setup(void **state) { return loyfx_setup(state, false); }
static int teardown(void **state) { return loyfx_teardown(state); }

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

/* ---- returns --------------------------------------------------------------- */

static void return_of(struct sale_buf *b, const char *terminal, uint64_t seq, int n, const char *const *gtins,
		      const int *qty, int64_t t)
{
	memset(b, 0, sizeof(*b));
	b->s.type = LOY_RETURN;
	snprintf(b->s.return_of_terminal, sizeof(b->s.return_of_terminal), "%s", terminal);
	b->s.return_of_seq = seq;
	for (int i = 0; i < n; i++) {
		snprintf(b->items[i].gtin, sizeof(b->items[i].gtin), "%s", gtins[i]);
		b->items[i].qty = qty[i];
	}
	b->s.items = b->items;
	b->s.n_items = (uint32_t)n;
	b->s.time_us = t;
}

static const char *G1 = "05012340000001", *G2 = "05012340000002", *G3 = "05012340000003";

/* Partial returns: refunds with the discount spread, clawbacks, the last part takes the remainders. */
static void test_return_parts(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r, sale_r;
	int qty[3] = { 3, 1, 2 };
	int64_t price[3] = { 333, 1001, 257 };   /* 999 + 1001 + 514 = 2514, less 101 */
	sale_of(&b, CARD, T0, 3, qty, price, 101);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &sale_r), PM_OK);
	int64_t total = b.s.total_cents, earned = sale_r.points_earned;
	assert_int_equal(total, 2413);
	assert_int_equal(earned, 24);
	int64_t refunded = 0, clawed = 0;
	/* 1 of G1 */
	const char *g[3] = { G1, G3, G2 };
	int q[3] = { 1, 1, 1 };
	return_of(&b, TERM, sale_r.seq, 1, g, q, T0 + 1);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	/* G1's paid share: 999 - floor(101 * 999 / 2514) = 999 - 40 = 959; one of 3 units. */
	assert_int_equal(r.refund_cents, 959 / 3);
	assert_int_equal(r.points_clawed_back, earned * r.refund_cents / total);
	refunded += r.refund_cents;
	clawed += r.points_clawed_back;
	/* Balance: the clawback is an entry of the return. */
	assert_int_equal(r.points_balance, earned - clawed);
	/* 1 of G1 and 1 of G3 (two GTINs in one return). */
	const char *g2[2] = { G1, G3 };
	int q2[2] = { 1, 1 };
	return_of(&b, TERM, sale_r.seq, 2, g2, q2, T0 + 2);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	refunded += r.refund_cents;
	clawed += r.points_clawed_back;
	/* Too many: G1 has one unit left. */
	const char *g3[1] = { G1 };
	int q3[1] = { 2 };
	uint64_t before = last_seq(f->db);
	return_of(&b, TERM, sale_r.seq, 1, g3, q3, T0 + 3);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_TOO_MANY);
	assert_int_equal(r.refused_item, 0);
	/* The rest: 1 G1, 1 G2, 1 G3 completes it and takes the remainders. */
	int q4[3] = { 1, 1, 1 };
	return_of(&b, TERM, sale_r.seq, 3, g, q4, T0 + 4);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.seq, before + 1);
	refunded += r.refund_cents;
	clawed += r.points_clawed_back;
	assert_int_equal(refunded, total);               /* exactly its total, no drift */
	assert_int_equal(clawed, earned);                /* exactly what it earned */
	assert_int_equal(points_of(f->db, CARD), 0);
	assert_int_equal(entries_after(f->db, CARD, 0), 0);
	/* Nothing left: any further return is refused. */
	return_of(&b, TERM, sale_r.seq, 1, g3, q, T0 + 5);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_TOO_MANY);
	/* The basis says so too. */
	struct loy_return_basis basis;
	assert_int_equal(loy_return_basis_get(f->db, sale_r.seq, &basis), PM_OK);
	int32_t sold, ret;
	loy_return_units(&basis, G1, &sold, &ret);
	assert_int_equal(sold, 3);
	assert_int_equal(ret, 3);
	assert_int_equal(basis.refund_cents, total);
	assert_int_equal(basis.points_clawed_back, earned);
	loy_return_basis_free(&basis);
}

/* A whole sale returned at once gives back exactly its total and points; the return's record. */
static void test_return_whole(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r, sr;
	int qty[2] = { 7, 3 };
	int64_t price[2] = { 199, 333 };
	sale_of(&b, CARD, T0, 2, qty, price, 77);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &sr), PM_OK);
	const char *g[2] = { G1, G2 };
	return_of(&b, TERM, sr.seq, 2, g, qty, T0 + 1);
	strcpy(b.s.card, CARD2);                         /* the caller's card is not used */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.refund_cents, 199 * 7 + 333 * 3 - 77);
	assert_int_equal(r.points_clawed_back, sr.points_earned);
	struct got gt = { 0 };
	assert_int_equal(loy_sale_get(f->db, r.seq, got_cb, &gt), PM_OK);
	const struct loy_sale *rs = &gt.s[0];
	assert_int_equal(rs->type, LOY_RETURN);
	assert_string_equal(rs->card, CARD);
	assert_string_equal(rs->return_of_terminal, TERM);
	assert_int_equal(rs->return_of_seq, sr.seq);
	assert_int_equal(rs->refund_cents, r.refund_cents);
	assert_int_equal(rs->total_cents, r.refund_cents);
	assert_int_equal(rs->points_clawed_back, sr.points_earned);
	assert_int_equal(rs->items[0].unit_price_cents, 199);
	assert_int_equal(rs->items[1].line_cents, 999);
	assert_int_equal(loy_card_get(f->db, CARD2, &(struct loy_card){ 0 }), PM_ENOENT);
	/* A return of that return is refused. */
	const char *g1[1] = { G1 };
	int one = 1;
	return_of(&b, TERM, r.seq, 1, g1, &one, T0 + 2);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_OF_RETURN);
}

static void test_return_refusals(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r, sr;
	int q = 2;
	int64_t p = 500;
	sale_of(&b, CARD, T0, 1, &q, &p, 0);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &sr), PM_OK);
	uint64_t seq0 = last_seq(f->db);
	int64_t pts0 = points_of(f->db, CARD);
	const char *g[1] = { G2 };
	int one = 1;
	return_of(&b, TERM, 99, 1, g, &one, T0 + 1);             /* no such sale */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_UNKNOWN);
	return_of(&b, TERM, sr.seq, 1, g, &one, T0 + 1);         /* not in the sale */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_NOT_IN_SALE);
	return_of(&b, TERM, sr.seq, 0, g, &one, T0 + 1);         /* no items */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_EMPTY);
	const char *g1[2] = { G1, G1 };
	int two[2] = { 1, 2 };
	return_of(&b, TERM, sr.seq, 2, g1, two, T0 + 1);         /* 1 + 2 of a GTIN sold twice */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_TOO_MANY);
	assert_int_equal(r.refused_item, 1);
	return_of(&b, "store9-lane1", 1, 1, g1, &one, T0 + 1);   /* another terminal's, no basis */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_UNKNOWN);
	int zero = 0;
	return_of(&b, TERM, sr.seq, 1, g1, &zero, T0 + 1);       /* qty 0 */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EINVAL);
	/* Nothing written by any of them. */
	assert_int_equal(last_seq(f->db), seq0);
	assert_int_equal(points_of(f->db, CARD), pts0);
	struct loy_return_basis basis;
	assert_int_equal(loy_return_basis_get(f->db, sr.seq, &basis), PM_OK);
	assert_int_equal(basis.n_returned, 0);
	assert_int_equal(basis.refund_cents, 0);
	loy_return_basis_free(&basis);
	assert_int_equal(loy_return_basis_get(f->db, 42, &basis), PM_ENOENT);
	/* The checks the till makes as items are scanned say the same. */
	assert_int_equal(loy_return_basis_get(f->db, sr.seq, &basis), PM_OK);
	size_t bad;
	struct loy_item it[2] = { { .qty = 2 }, { .qty = 1 } };
	strcpy(it[0].gtin, G1);
	strcpy(it[1].gtin, G1);
	assert_int_equal(loy_return_check(&basis, it, 1, &bad), LOY_REFUSE_NONE);
	assert_int_equal(loy_return_check(&basis, it, 2, &bad), LOY_REFUSE_RETURN_TOO_MANY);
	assert_int_equal(bad, 1);
	int64_t refund, claw;
	loy_return_amounts(&basis, it, 1, &refund, &claw);
	assert_int_equal(refund, 1000);
	assert_int_equal(claw, 10);
	loy_return_basis_free(&basis);
}

/* Another terminal's sale, with HQ's basis: refunded here, its card clawed back, bookkept here. */
static void test_return_remote(void **state)
{
	struct fx *f = *state;
	struct loy_return_basis hq;
	memset(&hq, 0, sizeof(hq));
	struct loy_item items[2] = { { .qty = 4, .unit_price_cents = 250, .line_cents = 1000 },
				     { .qty = 1, .unit_price_cents = 2000, .line_cents = 2000 } };
	strcpy(items[0].gtin, G1);
	strcpy(items[1].gtin, G2);
	struct sale_buf sb;
	simple_sale(&sb, CARD, T0, 1);
	hq.sale = sb.s;
	hq.sale.items = items;
	hq.sale.n_items = 2;
	hq.sale.seq = 17;
	strcpy(hq.sale.terminal, "store2-lane1");
	hq.sale.total_cents = 3000;
	hq.sale.points_earned = 30;
	struct loy_item already = { .qty = 1 };
	strcpy(already.gtin, G1);
	struct loy_return_basis copy;
	assert_int_equal(loy_return_basis_copy(&hq, &copy), PM_OK);
	assert_int_equal(loy_return_basis_merge(&copy, &already, 1, 250, 2), PM_OK);   /* returned at store 2 */
	struct sale_buf b;
	const char *g[1] = { G1 };
	int q = 4;
	return_of(&b, "store2-lane1", 17, 1, g, &q, T0 + 1);
	b.s.return_basis = &copy;
	struct loy_commit_result r;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_EREFUSED);   /* 1 of 4 returned already */
	assert_int_equal(r.refusal, LOY_REFUSE_RETURN_TOO_MANY);
	q = 3;
	return_of(&b, "store2-lane1", 17, 1, g, &q, T0 + 1);
	b.s.return_basis = &copy;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.refund_cents, 750);
	assert_int_equal(r.points_clawed_back, 7);
	assert_int_equal(points_of(f->db, CARD), -7);    /* a clawback may go below zero */
	/* This log now knows 4 of G1 returned, even if HQ's answer does not say so yet. */
	struct loy_return_basis fresh;
	assert_int_equal(loy_return_basis_copy(&hq, &fresh), PM_OK);
	assert_int_equal(loy_return_basis_local(f->db, &fresh), PM_OK);
	int32_t sold, ret;
	loy_return_units(&fresh, G1, &sold, &ret);
	assert_int_equal(sold, 4);
	assert_int_equal(ret, 4);
	/* The rest (G2) completes it: the remainders from what both know. */
	const char *g2[1] = { G2 };
	int one = 1;
	return_of(&b, "store2-lane1", 17, 1, g2, &one, T0 + 2);
	b.s.return_basis = &fresh;
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.refund_cents, 3000 - 1000);
	assert_int_equal(r.points_clawed_back, 30 - 9);
	loy_return_basis_free(&copy);
	loy_return_basis_free(&fresh);
}

static int net_cb(void *ctx, const struct loy_sale *s)
{
	return got_cb(ctx, s);
}

static void test_reads_net_of_returns(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r, s1, s2;
	int qty[2] = { 3, 1 };
	int64_t price[2] = { 100, 500 };
	sale_of(&b, CARD, T0, 2, qty, price, 0);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &s1), PM_OK);
	int q1 = 1;
	int64_t p1 = 700;
	sale_of(&b, CARD, T0 + 1, 1, &q1, &p1, 0);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &s2), PM_OK);
	const char *g[2] = { G1, G2 };
	int rq[2] = { 2, 1 };
	return_of(&b, TERM, s1.seq, 2, g, rq, T0 + 2);       /* 2 of 3 G1, all G2 */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	const char *g1[1] = { G1 };
	return_of(&b, TERM, s2.seq, 1, g1, &q1, T0 + 3);     /* sale 2 whole */
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	struct got gt = { 0 };
	assert_int_equal(loy_card_history(f->db, CARD, got_cb, &gt), PM_OK);
	assert_int_equal(gt.n, 4);                          /* every record */
	gt.n = 0;
	assert_int_equal(loy_card_history_net(f->db, CARD, net_cb, &gt), PM_OK);
	assert_int_equal(gt.n, 1);                          /* sale 1, what is left of it */
	assert_int_equal(gt.s[0].seq, s1.seq);
	assert_int_equal(gt.s[0].n_items, 1);
	assert_string_equal(gt.s[0].items[0].gtin, G1);
	assert_int_equal(gt.s[0].items[0].qty, 1);
	assert_int_equal(gt.s[0].items[0].line_cents, 100);
	assert_int_equal(gt.s[0].total_cents, 100);
	gt.n = 0;
	assert_int_equal(loy_sales_after_net(f->db, 0, 0, net_cb, &gt), PM_OK);
	assert_int_equal(gt.n, 1);
	/* The window spend (tier) is net too: 800 + 700 - 700 - 700 = 100. */
	simple_sale(&b, CARD, T0 + 4, 0);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	assert_int_equal(r.window_spend_cents, 100);
}

/* Erasure unlinks returns too; the log's returned bookkeeping stays (it names no card). */
static void test_erase_with_returns(void **state)
{
	struct fx *f = *state;
	struct sale_buf b;
	struct loy_commit_result r, sr;
	simple_sale(&b, CARD, T0, 1000);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &sr), PM_OK);
	const char *g[1] = { G1 };
	int one = 1;
	return_of(&b, TERM, sr.seq, 1, g, &one, T0 + 1);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &r), PM_OK);
	uint64_t n;
	assert_int_equal(loy_card_erase(f->db, CARD, LOY_SRC_TILL, T0 + 2, &n), PM_OK);
	assert_int_equal(n, 2);
	struct got gt = { 0 };
	assert_int_equal(loy_sale_get(f->db, r.seq, got_cb, &gt), PM_OK);
	assert_string_equal(gt.s[0].card, "");
	assert_true(gt.s[0].card_erased);
	assert_int_equal(gt.s[0].type, LOY_RETURN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_return_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_return_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_return_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_return_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_net_of_returns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_with_returns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
