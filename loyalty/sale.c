/*
 * sale.c - committing a sale (or a return, return.c) in one write
 * transaction with its card's account, and reading records back (by card
 * through the card index, by seq for upload).
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

#define DAY_US (86400LL * 1000000LL)

const char *loy_tender_name(int tender)
{
	switch (tender) {
	case LOY_TENDER_CASH: return "cash";
	case LOY_TENDER_CARD: return "card";
	case LOY_TENDER_OTHER: return "other";
	default: return "?";
	}
}

int loy_tender_parse(const char *name)
{
	for (int i = LOY_TENDER_CASH; i <= LOY_TENDER_OTHER; i++)
		if (!strcmp(name, loy_tender_name(i)))
			return i;
	return -1;
}

struct commit_arg {
	struct loy_sale sale;          /* copy; seq/points filled in the body */
	struct loy_commit_result *res;
	unsigned char *buf;
	size_t cap;
	struct loyi_return_work *ret;  /* a return's basis and items (return.c) */
};

static int refuse(struct loy_commit_result *res, int why)
{
	res->refusal = why;
	return PM_EREFUSED;
}

/*
 * The card's side of a record: expiry, the spending checks, points earned
 * at the tier held before the sale, the pending part of the chain account,
 * aggregates, and the record's card_idx entry (a return's is its refund,
 * negative, so window spends are net of returns).
 */
static int update_card(struct loy_db *db, MDB_txn *txn, struct loy_sale *s,
		       struct loy_commit_result *res)
{
	MDB_val k = { strlen(s->card), s->card }, v;
	struct loyi_card c;
	unsigned char idx[LOYI_IDX_LEN];
	int64_t window, idx_total;
	int rc = loyi_card_read(db, txn, s->card, &c);

	if (rc == PM_ENOENT)
		c.pub.created_us = s->time_us;
	else if (rc)
		return rc;
	int64_t balance = c.hq_points + c.pub.pending_points;
	if ((rc = loyi_window_spend(db, txn, &c, s->time_us, &window)))
		return rc;
	if (s->type == LOY_RETURN) {
		/* Points the returned units earned go back, even below zero (docs/accounts.md). */
		c.pub.pending_points -= s->points_clawed_back;
		c.pub.spend_cents -= s->refund_cents;
		idx_total = -s->refund_cents;
	} else {
		int64_t last = c.pub.last_visit_us > c.hq_last_visit_us ? c.pub.last_visit_us : c.hq_last_visit_us;
		if (db->cfg.points_expiry_days > 0 && last > 0 &&
		    s->time_us - last > (int64_t)db->cfg.points_expiry_days * DAY_US && balance > 0) {
			/* The balance left unused too long is lost before this sale: an expiry entry. */
			s->points_expired = balance;
			c.pub.pending_points -= balance;
			balance = 0;
		}
		if (s->points_spent > 0) {
			struct loy_card pub;
			bool offline;
			loyi_card_public(&c, &pub);
			if (s->points_spent > balance)
				return refuse(res, LOY_REFUSE_POINTS_BALANCE);
			if (s->points_spent > loy_points_spendable(&db->cfg, &pub, s->time_us, &offline) && offline)
				return refuse(res, LOY_REFUSE_POINTS_OFFLINE);
		}
		/* Points are earned at the tier the customer holds when the sale starts,
		 * on the money paid (points tendered earn nothing). */
		int tier_before = loyi_tier_for(&db->cfg, window);
		if (c.pub.chain_as_of_us && c.hq_tier > tier_before)
			tier_before = c.hq_tier;
		s->points_earned = loyi_points_for(&db->cfg, tier_before,
						   s->total_cents - s->points_spent * s->point_value_cents);
		c.pub.pending_points += s->points_earned - s->points_spent + s->points_bonus;
		c.pub.pending_spent += s->points_spent;
		c.pub.visits++;
		c.pub.spend_cents += s->total_cents;
		if (s->time_us > c.pub.last_visit_us)
			c.pub.last_visit_us = s->time_us;
		idx_total = s->total_cents;
	}
	window += idx_total;
	c.pub.tier = loyi_tier_for(&db->cfg, window);
	if (c.pub.chain_as_of_us && c.hq_tier > c.pub.tier)
		c.pub.tier = c.hq_tier;
	if ((rc = loyi_card_write(db, txn, &c)))
		return rc;
	loyi_idx_encode(idx, s->seq, s->time_us, idx_total);
	v.mv_size = sizeof(idx);
	v.mv_data = idx;
	if ((rc = mdb_put(txn, db->card_idx, &k, &v, MDB_NODUPDATA)))
		return loyi_mdb_err(rc);
	res->points_balance = c.hq_points + c.pub.pending_points;
	res->tier = c.pub.tier;
	res->window_spend_cents = window;
	res->points_expired = s->points_expired;
	return PM_OK;
}

/* The events the sale carries (offers issued, held back, redeemed), in its transaction. */
static int put_sale_events(struct loy_db *db, MDB_txn *txn, const struct loy_sale *s,
			   struct loy_commit_result *res)
{
	const struct loy_event_new *evs = NULL;
	size_t n = 0;
	int rc;
	if (!s->events_cb)
		return PM_OK;
	if ((rc = s->events_cb(s->events_ctx, s, &evs, &n)))
		return rc;
	if (n && !evs)
		return PM_EINVAL;
	for (size_t i = 0; i < n; i++) {
		uint64_t seq;
		if ((rc = loyi_event_put(db, txn, &evs[i], &seq)))
			return rc;
		if (i == 0)
			res->first_event_seq = seq;
	}
	res->n_events = (uint32_t)n;
	return PM_OK;
}

/* The record's own checks before the card's: a return's basis, a sale's points. */
static int prepare_record(struct loy_db *db, MDB_txn *txn, struct commit_arg *a)
{
	struct loy_sale *s = &a->sale;
	s->points_earned = s->points_expired = s->points_clawed_back = 0;
	if (s->type == LOY_RETURN)   /* its card, prices, refund and clawback come from the sale returned */
		return loyi_return_prepare(db, txn, s, &a->ret, a->res);
	s->refund_cents = 0;
	s->return_of_terminal[0] = '\0';
	s->return_of_seq = 0;
	if (!s->card[0])
		s->points_bonus = 0;
	if (s->points_spent > 0 && !s->point_value_cents)
		s->point_value_cents = db->cfg.point_value_cents;
	if (s->points_spent > 0 && !s->card[0])
		return refuse(a->res, LOY_REFUSE_POINTS_NO_CARD);
	if (s->points_spent > 0 && s->points_spent * s->point_value_cents > s->total_cents)
		return refuse(a->res, LOY_REFUSE_POINTS_TOTAL);
	return PM_OK;
}

static int commit_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct commit_arg *a = arg;
	struct loy_sale *s = &a->sale;
	struct loy_commit_result *res = a->res;
	uint64_t last;
	MDB_val k, v;
	int rc;

	memset(res, 0, sizeof(*res));
	res->refused_coupon = -1;
	res->refused_item = -1;
	if (s->ext_id[0]) {
		k.mv_size = strlen(s->ext_id);
		k.mv_data = s->ext_id;
		rc = mdb_get(txn, db->ext_ids, &k, &v);
		if (rc == 0 && v.mv_size == 8) {
			memcpy(&res->seq, v.mv_data, 8);
			return PM_EEXIST;
		}
		if (rc != MDB_NOTFOUND)
			return loyi_mdb_err(rc);
	}
	if ((rc = loyi_last_sale_seq(db, txn, &last)))
		return rc;
	s->seq = last + 1;
	if ((rc = prepare_record(db, txn, a)))
		return rc;
	if (s->card[0] && (rc = update_card(db, txn, s, res)))
		return rc;
	for (uint32_t i = 0; i < s->n_redeemed; i++) {
		k.mv_size = strlen(s->redeemed[i].coupon);
		k.mv_data = s->redeemed[i].coupon;
		v.mv_size = 8;
		v.mv_data = &s->seq;
		rc = mdb_put(txn, db->coupons, &k, &v, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			res->seq = 0;
			res->refused_coupon = (int)i;
			return PM_EEXIST;
		}
		if (rc)
			return loyi_mdb_err(rc);
	}
	size_t need = loyi_sale_size(s);
	if (need > a->cap) {
		unsigned char *nb = realloc(a->buf, need);
		if (!nb)
			return PM_ENOMEM;
		a->buf = nb;
		a->cap = need;
	}
	loyi_sale_encode(s, a->buf);
	k.mv_size = sizeof(s->seq);
	k.mv_data = &s->seq;
	v.mv_size = need;
	v.mv_data = a->buf;
	if ((rc = mdb_put(txn, db->sales, &k, &v, MDB_APPEND)))
		return loyi_mdb_err(rc);
	if (s->ext_id[0]) {
		k.mv_size = strlen(s->ext_id);
		k.mv_data = s->ext_id;
		v.mv_size = 8;
		v.mv_data = &s->seq;
		if ((rc = mdb_put(txn, db->ext_ids, &k, &v, MDB_NOOVERWRITE)))
			return loyi_mdb_err(rc);
	}
	if (s->type == LOY_RETURN && (rc = loyi_return_record(db, txn, s, a->ret)))
		return rc;
	if ((rc = put_sale_events(db, txn, s, res)))
		return rc;
	res->seq = s->seq;
	res->points_earned = s->points_earned;
	res->points_spent = s->points_spent;
	res->points_bonus = s->points_bonus;
	res->refund_cents = s->refund_cents;
	res->points_clawed_back = s->points_clawed_back;
	/* Last: the receipt lays out the record's seq, points and balance (docs/storage.md, "print_queue"). */
	return s->receipt_cb ? loyi_printq_put(db, txn, s, res) : PM_OK;
}

static bool fits(const char *s, size_t max)
{
	return strnlen(s, max + 1) <= max;
}

/* Points beyond this are absurd (a mistyped number), refused before any arithmetic. */
#define POINTS_MAX 1000000000LL

static bool sale_valid(const struct loy_sale *sale)
{
	if ((sale->n_items && !sale->items) || (sale->n_redeemed && !sale->redeemed) ||
	    sale->n_items > 65535 || sale->n_redeemed > 65535 || !fits(sale->card, LOY_CARD_MAX) ||
	    !fits(sale->ext_id, LOY_EXTID_MAX) || !fits(sale->terminal, LOY_TERMINAL_MAX) ||
	    !fits(sale->return_of_terminal, LOY_TERMINAL_MAX))
		return false;
	if ((sale->type != LOY_SALE && sale->type != LOY_RETURN) || sale->points_spent < 0 ||
	    sale->points_spent > POINTS_MAX || sale->points_bonus < 0 || sale->points_bonus > POINTS_MAX ||
	    sale->point_value_cents < 0 || sale->point_value_cents > 1000000)
		return false;
	if (sale->type == LOY_RETURN) {
		if (!sale->return_of_terminal[0] || !sale->return_of_seq)
			return false;
		for (uint32_t i = 0; i < sale->n_items; i++)
			if (sale->items[i].qty <= 0)
				return false;
	}
	for (uint32_t i = 0; i < sale->n_items; i++)
		if (strlen(sale->items[i].gtin) != LOY_GTIN_LEN)
			return false;
	for (uint32_t i = 0; i < sale->n_redeemed; i++)
		if (!sale->redeemed[i].coupon[0] || !fits(sale->redeemed[i].coupon, LOY_COUPON_MAX))
			return false;
	return true;
}

int loy_sale_commit(struct loy_db *db, const struct loy_sale *sale, struct loy_commit_result *out)
{
	struct commit_arg a = { .sale = *sale, .res = out };
	int rc;

	memset(out, 0, sizeof(*out));
	out->refused_coupon = -1;
	out->refused_item = -1;
	if (!db || !sale_valid(sale))
		return PM_EINVAL;
	if (!a.sale.terminal[0])
		memcpy(a.sale.terminal, db->cfg.terminal_id, sizeof(a.sale.terminal));
	if (!a.sale.currency[0])
		memcpy(a.sale.currency, db->cfg.currency, sizeof(a.sale.currency));
	rc = loyi_write(db, commit_body, &a);
	free(a.buf);
	loyi_return_work_free(a.ret);
	return rc;
}

struct group_arg {
	struct commit_arg *each;
	size_t n;
	int *rcs;
};

/* Each sale in a nested transaction: one sale's refusal (a used coupon, a
 * repeated idempotency key) does not undo the others of the group. */
static int group_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct group_arg *g = arg;
	for (size_t i = 0; i < g->n; i++) {
		MDB_txn *child;
		int rc = mdb_txn_begin(db->env, txn, 0, &child);
		if (rc)
			return loyi_mdb_err(rc);
		rc = commit_body(db, child, &g->each[i]);
		if (rc == LOYI_GROW) {
			mdb_txn_abort(child);
			return LOYI_GROW;
		}
		if (rc == PM_OK) {
			int crc = mdb_txn_commit(child);
			if (crc)
				return loyi_mdb_err(crc);
		} else {
			mdb_txn_abort(child);
		}
		g->rcs[i] = rc;
	}
	return PM_OK;
}

static int commit_group(struct loy_db *db, const struct loy_sale *const *sales, size_t n,
			struct loy_commit_result *out, int *rcs, bool defer, bool *committed)
{
	struct group_arg g = { .n = n, .rcs = rcs };
	int rc = PM_OK;
	if (!db || !sales || !out || !rcs)
		return PM_EINVAL;
	if (!(g.each = calloc(n ? n : 1, sizeof(*g.each))))
		return PM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].refused_coupon = -1;
		out[i].refused_item = -1;
		g.each[i].sale = *sales[i];
		g.each[i].res = &out[i];
		if (!g.each[i].sale.terminal[0])
			memcpy(g.each[i].sale.terminal, db->cfg.terminal_id, sizeof(g.each[i].sale.terminal));
		if (!g.each[i].sale.currency[0])
			memcpy(g.each[i].sale.currency, db->cfg.currency, sizeof(g.each[i].sale.currency));
		rcs[i] = sale_valid(sales[i]) ? PM_OK : PM_EINVAL;
	}
	/* Invalid sales are answered without entering the transaction. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (rcs[i] == PM_OK) {
			struct commit_arg tmp = g.each[k];
			g.each[k] = g.each[i];
			g.each[i] = tmp;
			k++;
		}
	int *sub = calloc(k ? k : 1, sizeof(*sub));
	if (!sub) {
		free(g.each);
		return PM_ENOMEM;
	}
	struct group_arg inner = { g.each, k, sub };
	if (k)
		rc = loyi_write_ex(db, group_body, &inner, defer, committed);
	/* Map results back to the callers' order (res pointers travelled with each sale). */
	for (size_t i = 0, j = 0; i < n; i++)
		if (rcs[i] == PM_OK)
			rcs[i] = rc ? rc : sub[j++];
	for (size_t i = 0; i < n; i++) {
		free(g.each[i].buf);
		loyi_return_work_free(g.each[i].ret);
	}
	free(sub);
	free(g.each);
	return rc;
}

int loy_sale_commit_group(struct loy_db *db, const struct loy_sale *const *sales, size_t n,
			  struct loy_commit_result *out, int *rcs)
{
	return commit_group(db, sales, n, out, rcs, false, NULL);
}

int loy_sale_commit_group_deferred(struct loy_db *db, const struct loy_sale *const *sales, size_t n,
				   struct loy_commit_result *out, int *rcs, int *earlier_rc)
{
	bool committed = false;
	*earlier_rc = PM_OK;
	if (!db || !db->cfg.defer_meta_sync)
		return PM_EINVAL;
	int rc = commit_group(db, sales, n, out, rcs, true, &committed);
	/* A commit's data sync also wrote the earlier commit record to disk;
	 * without one (nothing valid, or an error) sync explicitly. */
	if (committed)
		db->deferred_unsynced = true;
	else if (db->deferred_unsynced)
		*earlier_rc = loy_sync(db);
	return rc;
}

static int emit_sale(struct loy_db *db, MDB_txn *txn, uint64_t seq, loy_sale_cb cb, void *ctx)
{
	MDB_val k = { sizeof(seq), &seq }, v;
	struct loy_sale s;
	int rc = mdb_get(txn, db->sales, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? PM_ECORRUPT : loyi_mdb_err(rc);
	if ((rc = loyi_sale_decode(db, v.mv_data, v.mv_size, &s)))
		return rc;
	return cb(ctx, &s);
}

int loy_card_history(struct loy_db *db, const char *card, loy_sale_cb cb, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { strlen(card), (void *)card }, v;
	int rc = loyi_read_begin(db, &txn);

	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->card_idx, &cur))) {
		loyi_read_end(db, txn);
		return loyi_mdb_err(rc);
	}
	/* The card's index entries are one key with sorted fixed-size values:
	 * fetch them a page at a time, then each sale by its integer key. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
	while (rc == 0) {
		const unsigned char *p = v.mv_data;
		for (size_t off = 0; off + LOYI_IDX_LEN <= v.mv_size; off += LOYI_IDX_LEN) {
			uint64_t seq;
			int64_t t, total;
			loyi_idx_decode(p + off, &seq, &t, &total);
			if ((rc = emit_sale(db, txn, seq, cb, ctx)) != 0)
				goto out_close_cursor;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	rc = (rc == MDB_NOTFOUND) ? PM_OK : loyi_mdb_err(rc);
out_close_cursor:
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}

struct walk_sales {
	loy_sale_cb cb;
	void *ctx;
};

static int each_sale(struct loy_db *db, uint64_t seq, const MDB_val *v, void *arg)
{
	struct walk_sales *w = arg;
	struct loy_sale s;
	(void)seq;
	int rc = loyi_sale_decode(db, v->mv_data, v->mv_size, &s);
	return rc ? rc : w->cb(w->ctx, &s);
}

int loy_sales_after(struct loy_db *db, uint64_t after_seq, size_t max, loy_sale_cb cb, void *ctx)
{
	struct walk_sales w = { cb, ctx };
	return loyi_walk_after(db, db->sales, after_seq, max, each_sale, &w);
}

int loy_sale_get(struct loy_db *db, uint64_t seq, loy_sale_cb cb, void *ctx)
{
	MDB_txn *txn;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	rc = emit_sale(db, txn, seq, cb, ctx);
	if (rc == PM_ECORRUPT) {
		MDB_val k = { sizeof(seq), &seq }, v;
		if (mdb_get(txn, db->sales, &k, &v) == MDB_NOTFOUND)
			rc = PM_ENOENT;
	}
	loyi_read_end(db, txn);
	return rc;
}

int loy_sale_find_ext(struct loy_db *db, const char *ext_id, uint64_t *seq_out)
{
	MDB_txn *txn;
	MDB_val k = { strlen(ext_id), (void *)ext_id }, v;
	int rc = loyi_read_begin(db, &txn);
	*seq_out = 0;
	if (rc)
		return rc;
	rc = mdb_get(txn, db->ext_ids, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		memcpy(seq_out, v.mv_data, 8);
	loyi_read_end(db, txn);
	return rc == 0 ? PM_OK : loyi_mdb_err(rc);
}
