/*
 * loy_fixture.h - the purchase-log fixture of the chain-account unit tests
 * (test_accounts.c, test_returns.c): a fresh log in a temporary directory,
 * sales built line by line, and the reads those tests compare with. Real
 * LMDB files; everything static inline so each test takes what it uses.
 */
#ifndef LOY_FIXTURE_H
#define LOY_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

struct fx {
	char *dir;
	struct loy_db *db;
	struct loy_config cfg;
};

static inline int loyfx_setup(void **state, bool chain_linked)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_mkdtemp();
	loy_config_default(&f->cfg);
	f->cfg.points_expiry_days = 0;
	f->cfg.chain_linked = chain_linked;
	assert_int_equal(loy_open(f->dir, &f->cfg, &f->db, NULL, 0), PM_OK);
	*state = f;
	return 0;
}

static inline int loyfx_teardown(void **state)
{
	struct fx *f = *state;
	loy_close(f->db);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

struct sale_buf {
	struct loy_sale s;
	struct loy_item items[8];
	struct loy_redemption red[2];
};

/* A sale of n lines: line i is GTIN 0501234000000(i+1) x qty[i] at price[i]. */
static inline void sale_of(struct sale_buf *b, const char *card, int64_t t, int n, const int *qty, const int64_t *price,
		    int64_t discount)
{
	memset(b, 0, sizeof(*b));
	int64_t sum = 0;
	for (int i = 0; i < n; i++) {
		snprintf(b->items[i].gtin, sizeof(b->items[i].gtin), "0501234000000%u", (unsigned)(i + 1) % 10u);
		b->items[i].qty = qty[i];
		b->items[i].unit_price_cents = price[i];
		b->items[i].line_cents = price[i] * qty[i];
		sum += b->items[i].line_cents;
	}
	b->s.items = b->items;
	b->s.n_items = (uint32_t)n;
	b->s.time_us = t;
	b->s.discount_cents = discount;
	if (discount) {
		snprintf(b->red[0].coupon, sizeof(b->red[0].coupon), "PMK%lld", (long long)t);
		b->red[0].discount_cents = discount;
		b->s.redeemed = b->red;
		b->s.n_redeemed = 1;
	}
	b->s.total_cents = sum - discount;
	b->s.tendered_cents = b->s.total_cents;
	size_t cl = card ? strnlen(card, LOY_CARD_MAX) : 0;   /* the test's own numbers: never longer */
	if (cl)
		memcpy(b->s.card, card, cl);
	b->s.card[cl] = '\0';
}

static inline void simple_sale(struct sale_buf *b, const char *card, int64_t t, int64_t cents)
{
	int q = 1;
	sale_of(b, card, t, 1, &q, &cents, 0);
}

static inline int64_t points_of(struct loy_db *db, const char *card)
{
	struct loy_card c;
	assert_int_equal(loy_card_get(db, card, &c), PM_OK);
	return c.points;
}

static inline uint64_t last_seq(struct loy_db *db)
{
	struct loy_stats st;
	assert_int_equal(loy_stats(db, &st), PM_OK);
	return st.last_sale_seq;
}

#endif
