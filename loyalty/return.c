/*
 * return.c - returns (docs/accounts.md, "Sale and return records"): the
 * basis of a return (the sale and what was returned of it), its refund and
 * clawback, the bookkeeping per original sale in `returned`, and the reads
 * net of returns (history, offers' history, the miner).
 *
 * Refund: the sale's coupon discount is spread over its lines in proportion
 * to line_cents (the last line with a price takes the rounding remainder),
 * a GTIN's paid amount is the sum of its lines' (line_cents - share), and u
 * returned units of a GTIN sold q times give floor(paid * u / q). Clawback:
 * floor(earned * refund / total). The return that completes the sale (every
 * unit returned) takes the remainders instead: total - refunded so far,
 * earned - clawed back so far. So a sale returned whole, at once or in
 * parts, refunds exactly its total and claws back exactly what it earned.
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

#define ROW_HDR 24
#define ROW_ITEM 18
#define KEY_SEP '\x1f'

struct loyi_return_work {
	struct loy_return_basis b;     /* what was returned BEFORE this return */
	struct loy_item *items;        /* the return's items, priced from the sale */
};

/* `returned` key: terminal 0x1F seq (u64 big-endian). */
static size_t row_key(unsigned char out[LOY_TERMINAL_MAX + 9], const char *terminal, uint64_t seq)
{
	size_t tl = strlen(terminal);
	memcpy(out, terminal, tl);
	out[tl] = KEY_SEP;
	for (int i = 0; i < 8; i++)
		out[tl + 1 + i] = (unsigned char)(seq >> (56 - 8 * i));
	return tl + 9;
}

static int64_t get_i64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

static void put_i64(unsigned char *p, int64_t x)
{
	uint64_t v = (uint64_t)x;
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static struct loy_item *returned_find(const struct loy_return_basis *b, const char *gtin)
{
	for (uint32_t i = 0; i < b->n_returned; i++)
		if (!strcmp(b->returned[i].gtin, gtin))
			return &b->returned[i];
	return NULL;
}

/* Raise gtin's returned units in b to at least qty (add: by qty). */
static int returned_fold(struct loy_return_basis *b, const char *gtin, int32_t qty, bool add)
{
	struct loy_item *r = returned_find(b, gtin);
	if (!r) {
		struct loy_item *v = realloc(b->returned, (b->n_returned + 1) * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		b->returned = v;
		r = &v[b->n_returned++];
		memset(r, 0, sizeof(*r));
		memcpy(r->gtin, gtin, LOY_GTIN_LEN);
	}
	if (add)
		r->qty += qty;
	else if (qty > r->qty)
		r->qty = qty;
	return PM_OK;
}

int loy_return_basis_merge(struct loy_return_basis *b, const struct loy_item *returned, uint32_t n,
			   int64_t refund_cents, int64_t points_clawed_back)
{
	for (uint32_t i = 0; i < n; i++) {
		if (strlen(returned[i].gtin) != LOY_GTIN_LEN)
			continue;
		int rc = returned_fold(b, returned[i].gtin, returned[i].qty, false);
		if (rc)
			return rc;
	}
	if (refund_cents > b->refund_cents)
		b->refund_cents = refund_cents;
	if (points_clawed_back > b->points_clawed_back)
		b->points_clawed_back = points_clawed_back;
	return PM_OK;
}

/* Fold the `returned` row of (terminal, seq), if any, into b. */
static int row_fold(struct loy_db *db, MDB_txn *txn, const char *terminal, uint64_t seq,
		    struct loy_return_basis *b)
{
	unsigned char key[LOY_TERMINAL_MAX + 9];
	MDB_val k = { row_key(key, terminal, seq), key }, v;
	int rc = mdb_get(txn, db->returned, &k, &v);
	if (rc == MDB_NOTFOUND)
		return PM_OK;
	if (rc)
		return loyi_mdb_err(rc);
	const unsigned char *p = v.mv_data;
	if (v.mv_size < ROW_HDR || p[0] != LOYI_REC_V1)
		return PM_ECORRUPT;
	uint32_t n = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	if (v.mv_size != ROW_HDR + (size_t)n * ROW_ITEM)
		return PM_ECORRUPT;
	if (get_i64(p + 8) > b->refund_cents)
		b->refund_cents = get_i64(p + 8);
	if (get_i64(p + 16) > b->points_clawed_back)
		b->points_clawed_back = get_i64(p + 16);
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *it = p + ROW_HDR + (size_t)i * ROW_ITEM;
		char gtin[LOY_GTIN_LEN + 1];
		memcpy(gtin, it, LOY_GTIN_LEN);
		gtin[LOY_GTIN_LEN] = '\0';
		int32_t qty = (int32_t)((uint32_t)it[14] | (uint32_t)it[15] << 8 | (uint32_t)it[16] << 16 |
					(uint32_t)it[17] << 24);
		if ((rc = returned_fold(b, gtin, qty, false)))
			return rc;
	}
	return PM_OK;
}

static int row_put(struct loy_db *db, MDB_txn *txn, const char *terminal, uint64_t seq,
		   const struct loy_return_basis *b)
{
	unsigned char key[LOY_TERMINAL_MAX + 9];
	size_t len = ROW_HDR + (size_t)b->n_returned * ROW_ITEM;
	unsigned char *buf = calloc(1, len);
	if (!buf)
		return PM_ENOMEM;
	buf[0] = LOYI_REC_V1;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (unsigned char)(b->n_returned >> (8 * i));
	put_i64(buf + 8, b->refund_cents);
	put_i64(buf + 16, b->points_clawed_back);
	for (uint32_t i = 0; i < b->n_returned; i++) {
		unsigned char *it = buf + ROW_HDR + (size_t)i * ROW_ITEM;
		memcpy(it, b->returned[i].gtin, LOY_GTIN_LEN);
		for (int k = 0; k < 4; k++)
			it[14 + k] = (unsigned char)((uint32_t)b->returned[i].qty >> (8 * k));
	}
	MDB_val k = { row_key(key, terminal, seq), key }, v = { len, buf };
	int rc = loyi_mdb_err(mdb_put(txn, db->returned, &k, &v, 0));
	free(buf);
	return rc;
}

void loy_return_basis_free(struct loy_return_basis *b)
{
	if (!b)
		return;
	free(b->sale.items);
	free(b->sale.redeemed);
	free(b->returned);
	memset(b, 0, sizeof(*b));
}

/* A deep copy of sale s as b's sale (nothing returned yet). */
static int basis_from_sale(struct loy_return_basis *b, const struct loy_sale *s)
{
	memset(b, 0, sizeof(*b));
	b->sale = *s;
	b->sale.items = NULL;
	b->sale.redeemed = NULL;
	b->sale.events_cb = NULL;
	b->sale.events_ctx = NULL;
	b->sale.return_basis = NULL;
	if (s->n_items && !(b->sale.items = malloc(s->n_items * sizeof(*s->items))))
		return PM_ENOMEM;
	if (s->n_items)
		memcpy(b->sale.items, s->items, s->n_items * sizeof(*s->items));
	if (s->n_redeemed && !(b->sale.redeemed = malloc(s->n_redeemed * sizeof(*s->redeemed)))) {
		loy_return_basis_free(b);
		return PM_ENOMEM;
	}
	if (s->n_redeemed)
		memcpy(b->sale.redeemed, s->redeemed, s->n_redeemed * sizeof(*s->redeemed));
	return PM_OK;
}

int loy_return_basis_copy(const struct loy_return_basis *src, struct loy_return_basis *dst)
{
	int rc = basis_from_sale(dst, &src->sale);
	if (rc == PM_OK)
		rc = loy_return_basis_merge(dst, src->returned, src->n_returned, src->refund_cents,
					    src->points_clawed_back);
	if (rc)
		loy_return_basis_free(dst);
	return rc;
}

/* Record seq of this log, decoded into sc: PM_OK, PM_ENOENT, or an error. */
static int read_record(struct loy_db *db, MDB_txn *txn, struct loyi_scratch *sc, uint64_t seq,
		       struct loy_sale *s)
{
	MDB_val k = { sizeof(seq), &seq }, v;
	int rc = mdb_get(txn, db->sales, &k, &v);
	if (rc)
		return loyi_mdb_err(rc);
	return loyi_sale_decode_sc(sc, v.mv_data, v.mv_size, s);
}

int loy_return_basis_get(struct loy_db *db, uint64_t seq, struct loy_return_basis *out)
{
	MDB_txn *txn;
	struct loyi_scratch sc = { 0 };
	struct loy_sale s;
	memset(out, 0, sizeof(*out));
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	rc = read_record(db, txn, &sc, seq, &s);
	if (rc == PM_OK)
		rc = basis_from_sale(out, &s);
	if (rc == PM_OK && (rc = row_fold(db, txn, s.terminal, s.seq, out)))
		loy_return_basis_free(out);
	loyi_read_end(db, txn);
	loyi_scratch_free(&sc);
	return rc;
}

int loy_return_basis_local(struct loy_db *db, struct loy_return_basis *b)
{
	MDB_txn *txn;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	rc = row_fold(db, txn, b->sale.terminal, b->sale.seq, b);
	loyi_read_end(db, txn);
	return rc;
}

void loy_return_units(const struct loy_return_basis *b, const char *gtin, int32_t *sold, int32_t *returned)
{
	const struct loy_item *r = returned_find(b, gtin);
	*sold = 0;
	for (uint32_t i = 0; i < b->sale.n_items; i++)
		if (!strcmp(b->sale.items[i].gtin, gtin))
			*sold += b->sale.items[i].qty;
	*returned = r ? r->qty : 0;
}

int64_t loy_return_unit_price(const struct loy_return_basis *b, const char *gtin)
{
	for (uint32_t i = 0; i < b->sale.n_items; i++)
		if (!strcmp(b->sale.items[i].gtin, gtin))
			return b->sale.items[i].qty > 0 ? b->sale.items[i].line_cents / b->sale.items[i].qty
							: b->sale.items[i].unit_price_cents;
	return -1;
}

/* Units of gtin in items[0..n). */
static int64_t units_in(const struct loy_item *items, size_t n, const char *gtin)
{
	int64_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(items[i].gtin, gtin))
			u += items[i].qty;
	return u;
}

int loy_return_check(const struct loy_return_basis *b, const struct loy_item *items, size_t n, size_t *bad)
{
	if (bad)
		*bad = 0;
	if (b->sale.type == LOY_RETURN)
		return LOY_REFUSE_RETURN_OF_RETURN;
	if (n == 0)
		return LOY_REFUSE_RETURN_EMPTY;
	for (size_t i = 0; i < n; i++) {
		int32_t sold, returned;
		if (bad)
			*bad = i;
		loy_return_units(b, items[i].gtin, &sold, &returned);
		if (sold <= 0)
			return LOY_REFUSE_RETURN_NOT_IN_SALE;
		/* This item with the ones before it of the same GTIN. */
		if (items[i].qty <= 0 || returned + units_in(items, i + 1, items[i].gtin) > sold)
			return LOY_REFUSE_RETURN_TOO_MANY;
	}
	if (bad)
		*bad = 0;
	return LOY_REFUSE_NONE;
}

/* What the customer paid for line i of s: line_cents less its share of the discount. */
static int64_t line_paid(const struct loy_sale *s, uint32_t i)
{
	int64_t sum = 0, shares = 0;
	uint32_t last = UINT32_MAX;
	for (uint32_t k = 0; k < s->n_items; k++)
		if (s->items[k].line_cents > 0) {
			sum += s->items[k].line_cents;
			last = k;
		}
	if (s->items[i].line_cents <= 0 || sum <= 0 || s->discount_cents <= 0)
		return s->items[i].line_cents > 0 ? s->items[i].line_cents : 0;
	if (i != last)
		return s->items[i].line_cents -
		       (int64_t)((__int128)s->discount_cents * s->items[i].line_cents / sum);
	for (uint32_t k = 0; k < s->n_items; k++)
		if (k != last && s->items[k].line_cents > 0)
			shares += (int64_t)((__int128)s->discount_cents * s->items[k].line_cents / sum);
	return s->items[i].line_cents - (s->discount_cents - shares);
}

void loy_return_amounts(const struct loy_return_basis *b, const struct loy_item *items, size_t n,
			int64_t *refund_cents, int64_t *points_clawed_back)
{
	const struct loy_sale *s = &b->sale;
	int64_t refund = 0, claw;
	bool completes = true;
	/* Each GTIN once: the first item naming it carries all its units. */
	for (size_t i = 0; i < n; i++) {
		if (units_in(items, i, items[i].gtin))
			continue;
		int64_t u = units_in(items, n, items[i].gtin), paid = 0, sold = 0;
		for (uint32_t k = 0; k < s->n_items; k++)
			if (!strcmp(s->items[k].gtin, items[i].gtin)) {
				paid += line_paid(s, k);
				sold += s->items[k].qty;
			}
		if (sold > 0)
			refund += (int64_t)((__int128)paid * u / sold);
	}
	for (uint32_t k = 0; k < s->n_items && completes; k++) {
		int32_t sold, returned;
		loy_return_units(b, s->items[k].gtin, &sold, &returned);
		completes = returned + units_in(items, n, s->items[k].gtin) >= sold;
	}
	int64_t refund_left = s->total_cents - b->refund_cents;
	int64_t claw_left = s->points_earned - b->points_clawed_back;
	if (completes || refund > refund_left)
		refund = refund_left;
	if (refund < 0)
		refund = 0;
	claw = s->total_cents > 0 ? (int64_t)((__int128)s->points_earned * refund / s->total_cents) : 0;
	if (completes || claw > claw_left)
		claw = claw_left;
	if (claw < 0)
		claw = 0;
	*refund_cents = refund;
	*points_clawed_back = claw;
}

void loyi_return_work_free(struct loyi_return_work *w)
{
	if (!w)
		return;
	loy_return_basis_free(&w->b);
	free(w->items);
	free(w);
}

int loyi_return_prepare(struct loy_db *db, MDB_txn *txn, struct loy_sale *s, struct loyi_return_work **wp,
			struct loy_commit_result *res)
{
	struct loyi_return_work *w;
	struct loyi_scratch sc = { 0 };
	size_t bad;
	int rc, why;

	/* The body may run again (map growth): start over each time. */
	loyi_return_work_free(*wp);
	if (!(w = *wp = calloc(1, sizeof(*w))))
		return PM_ENOMEM;
	if (!strcmp(s->return_of_terminal, db->cfg.terminal_id)) {
		struct loy_sale orig;
		rc = read_record(db, txn, &sc, s->return_of_seq, &orig);
		if (rc == PM_OK && orig.terminal[0] && strcmp(orig.terminal, s->return_of_terminal))
			rc = PM_ENOENT;   /* a log that changed terminal id: not that sale */
		if (rc == PM_OK)
			rc = basis_from_sale(&w->b, &orig);
		loyi_scratch_free(&sc);
		if (rc == PM_ENOENT) {
			res->refusal = LOY_REFUSE_RETURN_UNKNOWN;
			return PM_EREFUSED;
		}
		if (rc)
			return rc;
		/* What HQ told of it, e.g. units returned at another terminal. */
		if (s->return_basis &&
		    (rc = loy_return_basis_merge(&w->b, s->return_basis->returned, s->return_basis->n_returned,
						 s->return_basis->refund_cents, s->return_basis->points_clawed_back)))
			return rc;
	} else {
		const struct loy_return_basis *hq = s->return_basis;
		if (!hq) {
			res->refusal = LOY_REFUSE_RETURN_UNKNOWN;
			return PM_EREFUSED;
		}
		if (strcmp(hq->sale.terminal, s->return_of_terminal) || hq->sale.seq != s->return_of_seq)
			return PM_EINVAL;
		if ((rc = loy_return_basis_copy(hq, &w->b)))
			return rc;
	}
	/* And what this log returned of it, whichever knows more. */
	if ((rc = row_fold(db, txn, s->return_of_terminal, s->return_of_seq, &w->b)))
		return rc;
	if ((why = loy_return_check(&w->b, s->items, s->n_items, &bad)) != LOY_REFUSE_NONE) {
		res->refusal = why;
		res->refused_item = why == LOY_REFUSE_RETURN_NOT_IN_SALE || why == LOY_REFUSE_RETURN_TOO_MANY
			? (int)bad : -1;
		return PM_EREFUSED;
	}
	/* The return's lines at the sale's prices (qty as returned). */
	if (!(w->items = calloc(s->n_items, sizeof(*w->items))))
		return PM_ENOMEM;
	int64_t gross = 0;
	for (uint32_t i = 0; i < s->n_items; i++) {
		w->items[i] = s->items[i];
		w->items[i].unit_price_cents = loy_return_unit_price(&w->b, s->items[i].gtin);
		w->items[i].line_cents = w->items[i].unit_price_cents * s->items[i].qty;
		gross += w->items[i].line_cents;
	}
	s->items = w->items;
	loy_return_amounts(&w->b, s->items, s->n_items, &s->refund_cents, &s->points_clawed_back);
	/* The sale's card gets the clawback (none if it was erased). */
	memcpy(s->card, w->b.sale.card, sizeof(s->card));
	s->card_erased = false;
	s->total_cents = s->refund_cents;
	s->tendered_cents = s->refund_cents;
	s->discount_cents = gross > s->refund_cents ? gross - s->refund_cents : 0;
	s->n_redeemed = 0;
	s->points_spent = s->points_bonus = s->point_value_cents = 0;
	return PM_OK;
}

int loyi_return_record(struct loy_db *db, MDB_txn *txn, const struct loy_sale *s, struct loyi_return_work *w)
{
	/* What is known returned before, plus this return: kept per original sale. */
	for (uint32_t i = 0; i < s->n_items; i++) {
		int rc = returned_fold(&w->b, s->items[i].gtin, s->items[i].qty, true);
		if (rc)
			return rc;
	}
	w->b.refund_cents += s->refund_cents;
	w->b.points_clawed_back += s->points_clawed_back;
	int rc = row_put(db, txn, s->return_of_terminal, s->return_of_seq, &w->b);
	/* A second commit attempt of the body starts from the sale again (loyi_return_prepare). */
	return rc;
}

/* ---- reads net of returns ---------------------------------------------- */

/*
 * Take what was returned of sale s off it, in place (its items are the
 * reader's scratch). Returns false when nothing is left of it.
 */
static int net_adjust(struct loy_db *db, MDB_txn *txn, struct loy_sale *s, bool *keep)
{
	struct loy_return_basis b = { 0 };
	*keep = s->type == LOY_SALE;
	if (!*keep)
		return PM_OK;
	int rc = row_fold(db, txn, s->terminal, s->seq, &b);
	if (rc || b.n_returned == 0) {
		free(b.returned);
		return rc;
	}
	uint32_t out = 0;
	for (uint32_t i = 0; i < s->n_items; i++) {
		struct loy_item it = s->items[i];
		struct loy_item *r = returned_find(&b, it.gtin);
		if (r && r->qty > 0 && it.qty > 0) {
			int32_t take = r->qty < it.qty ? r->qty : it.qty;
			r->qty -= take;
			it.line_cents = (int64_t)((__int128)it.line_cents * (it.qty - take) / it.qty);
			it.qty -= take;
		}
		if (it.qty > 0)
			s->items[out++] = it;
	}
	s->n_items = out;
	s->total_cents -= b.refund_cents;
	s->points_earned -= b.points_clawed_back;
	*keep = out > 0;
	free(b.returned);
	return PM_OK;
}

struct net_walk {
	loy_sale_cb cb;
	void *ctx;
	MDB_txn *txn;
};

static int net_each(struct loy_db *db, uint64_t seq, const MDB_val *v, void *arg)
{
	struct net_walk *w = arg;
	struct loy_sale s;
	bool keep;
	(void)seq;
	int rc = loyi_sale_decode(db, v->mv_data, v->mv_size, &s);
	if (rc == PM_OK)
		rc = net_adjust(db, w->txn, &s, &keep);
	if (rc)
		return rc;
	return keep ? w->cb(w->ctx, &s) : 0;
}

int loy_sales_after_net(struct loy_db *db, uint64_t after_seq, size_t max, loy_sale_cb cb, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint64_t start = after_seq + 1;
	MDB_val k = { sizeof(start), &start }, v;
	struct net_walk w = { cb, ctx, NULL };
	size_t n = 0;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	w.txn = txn;
	if ((rc = mdb_cursor_open(txn, db->sales, &cur))) {
		loyi_read_end(db, txn);
		return loyi_mdb_err(rc);
	}
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && (max == 0 || n < max)) {
		if ((rc = net_each(db, 0, &v, &w)))
			break;
		n++;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = loyi_mdb_err(mrc);
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}

int loy_card_history_net(struct loy_db *db, const char *card, loy_sale_cb cb, void *ctx)
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
	struct net_walk w = { cb, ctx, txn };
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	while (mrc == 0) {
		uint64_t seq;
		int64_t t, total;
		loyi_idx_decode(v.mv_data, &seq, &t, &total);
		MDB_val sk = { 8, &seq }, sv;
		if ((mrc = mdb_get(txn, db->sales, &sk, &sv))) {
			rc = mrc == MDB_NOTFOUND ? PM_ECORRUPT : loyi_mdb_err(mrc);
			break;
		}
		if ((rc = net_each(db, seq, &sv, &w)))
			break;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = loyi_mdb_err(mrc);
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}
