/*
 * account.c - the chain account at the till (docs/accounts.md): the ledger
 * entries a record carries, HQ's account states and the card's pending
 * part (this terminal's entries HQ had not included), the window spend
 * behind the tier, and the spending policy.
 *
 * The card record keeps HQ's balance and, beside it, the running sum of
 * this terminal's entries with seq > included_sale_seq (pending_points):
 * a commit adds its record's entries (every new seq is above what HQ can
 * have included), and applying a state recomputes the sum from the card's
 * own index (card_idx, newest backwards to included_sale_seq), so the
 * balance a till shows is one read of one record (loy_card_get) whatever
 * order states and sales come in.
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <string.h>

#define DAY_US (86400LL * 1000000LL)

size_t loy_sale_ledger(const struct loy_sale *s, struct loy_ledger_entry out[LOY_LEDGER_PER_SALE])
{
	/* Kind order (enum loy_ledger_kind); signs fixed by docs/accounts.md. */
	const struct loy_ledger_entry all[LOY_LEDGER_PER_SALE] = {
		{ LOY_LEDGER_EARN, s->points_earned },
		{ LOY_LEDGER_SPEND, -s->points_spent },
		{ LOY_LEDGER_CLAWBACK, -s->points_clawed_back },
		{ LOY_LEDGER_BONUS, s->points_bonus },
		{ LOY_LEDGER_EXPIRY, -s->points_expired },
	};
	size_t n = 0;
	for (size_t i = 0; i < LOY_LEDGER_PER_SALE; i++)
		if (all[i].points != 0)
			out[n++] = all[i];
	return n;
}

const char *loy_ledger_kind_name(int kind)
{
	static const char *const names[] = { "?", "earn", "spend", "clawback", "bonus", "expiry", "adjust",
					     "import" };
	return kind >= LOY_LEDGER_EARN && kind <= LOY_LEDGER_IMPORT ? names[kind] : "?";
}

int64_t loyi_ledger_sum(const struct loy_sale *s)
{
	struct loy_ledger_entry e[LOY_LEDGER_PER_SALE];
	int64_t sum = 0;
	size_t n = loy_sale_ledger(s, e);
	for (size_t i = 0; i < n; i++)
		sum += e[i].points;
	return sum;
}

int loyi_window_spend(struct loy_db *db, MDB_txn *txn, const struct loyi_card *c, int64_t now, int64_t *out)
{
	MDB_cursor *cur;
	MDB_val k = { strlen(c->pub.number), (void *)c->pub.number }, v;
	int64_t cutoff = now - (int64_t)db->cfg.tier_window_days * DAY_US;
	bool state = c->pub.chain_as_of_us != 0;
	int rc = mdb_cursor_open(txn, db->card_idx, &cur);

	*out = state ? c->hq_window_spend_cents : 0;
	if (rc)
		return loyi_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	while (rc == 0) {
		uint64_t seq;
		int64_t t, total;
		loyi_idx_decode(v.mv_data, &seq, &t, &total);
		/* HQ's window spend has what it included; a return's entry is its refund, negative. */
		if (t < cutoff || (state && seq <= c->included_sale_seq))
			break;
		*out += total;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV_DUP);
	}
	mdb_cursor_close(cur);
	return (rc == 0 || rc == MDB_NOTFOUND) ? PM_OK : loyi_mdb_err(rc);
}

int loyi_pending_since(struct loy_db *db, MDB_txn *txn, struct loyi_scratch *sc, const char *card,
		       uint64_t after, int64_t *points, int64_t *spent)
{
	MDB_cursor *cur;
	MDB_val k = { strlen(card), (void *)card }, v;
	int rc = mdb_cursor_open(txn, db->card_idx, &cur);

	*points = *spent = 0;
	if (rc)
		return loyi_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
	while (rc == 0) {
		uint64_t seq;
		int64_t t, total;
		struct loy_sale s;
		loyi_idx_decode(v.mv_data, &seq, &t, &total);
		if (seq <= after)
			break;
		MDB_val sk = { 8, &seq }, sv;
		if ((rc = mdb_get(txn, db->sales, &sk, &sv))) {
			rc = rc == MDB_NOTFOUND ? PM_ECORRUPT : loyi_mdb_err(rc);
			break;
		}
		if ((rc = loyi_sale_decode_sc(sc, sv.mv_data, sv.mv_size, &s)))
			break;
		*points += loyi_ledger_sum(&s);
		*spent += s.points_spent;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV_DUP);
	}
	mdb_cursor_close(cur);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return PM_OK;
	return rc > 0 ? loyi_mdb_err(rc) : rc;
}

int64_t loy_points_spendable(const struct loy_config *cfg, const struct loy_card *c, int64_t now_us,
			     bool *offline)
{
	int64_t max = c->points;
	bool off = !c->chain_as_of_us || now_us - c->chain_as_of_us > cfg->offline_window_s * 1000000LL;
	/* a standalone till is the only keeper of its cards' points: no allowance to bound */
	if (off && cfg->chain_linked) {
		int64_t allowance = cfg->offline_spend_limit - c->pending_spent;
		if (allowance < max)
			max = allowance;
	}
	if (offline)
		*offline = off;
	return max > 0 ? max : 0;
}

/* ---- account states from HQ ---------------------------------------------- */

struct apply_arg {
	const struct loy_account_state *a;
	size_t n;
	int64_t as_of;
	uint64_t included, cursor;
	struct loyi_scratch sc;
};

static bool state_valid(const struct loy_account_state *a)
{
	size_t cl = strnlen(a->card, LOY_CARD_MAX + 1);
	if (cl == 0 || cl > LOY_CARD_MAX || strspn(a->card, "0123456789") != cl)
		return false;
	if (a->erased)
		return true;
	if (a->consent < LOY_CONSENT_UNKNOWN || a->consent > LOY_CONSENT_NO || a->tier < 0 || a->n_bought > 32)
		return false;
	for (uint32_t i = 0; i < a->n_bought; i++)
		if (strnlen(a->bought[i], LOY_GTIN_LEN + 1) != LOY_GTIN_LEN ||
		    strspn(a->bought[i], "0123456789") != LOY_GTIN_LEN)
			return false;
	return true;
}

static int put_bought(struct loy_db *db, MDB_txn *txn, const struct loy_account_state *a)
{
	MDB_val k = { strlen(a->card), (void *)a->card }, v;
	char buf[32 * LOY_GTIN_LEN];
	int rc;
	if (a->n_bought == 0) {
		rc = mdb_del(txn, db->bought, &k, NULL);
		return rc == MDB_NOTFOUND ? PM_OK : loyi_mdb_err(rc);
	}
	for (uint32_t i = 0; i < a->n_bought; i++)
		memcpy(buf + i * LOY_GTIN_LEN, a->bought[i], LOY_GTIN_LEN);
	v.mv_size = (size_t)a->n_bought * LOY_GTIN_LEN;
	v.mv_data = buf;
	return loyi_mdb_err(mdb_put(txn, db->bought, &k, &v, 0));
}

static int apply_one(struct loy_db *db, MDB_txn *txn, struct apply_arg *g, const struct loy_account_state *a)
{
	struct loyi_card c;
	int64_t window;
	int rc = loyi_card_read(db, txn, a->card, &c);
	bool known = rc == PM_OK;

	if (rc && rc != PM_ENOENT)
		return rc;
	/* chain_as_of never goes backwards: an older state is ignored. */
	if (known && g->as_of < c.pub.chain_as_of_us)
		return PM_OK;
	if (a->erased) {
		uint64_t unlinked;
		/* Erased at HQ: erase here without queueing an erasure back. */
		struct loyi_erasure how = { NULL, 0, true };
		rc = loyi_card_erase_txn(db, txn, a->card, &how, g->as_of, &unlinked);
		return rc == PM_ENOENT ? PM_OK : rc;
	}
	if (!known)
		c.pub.created_us = g->as_of;
	c.hq_points = a->points;
	c.hq_tier = a->tier < LOY_TIER_MAX ? a->tier : LOY_TIER_MAX - 1;
	c.included_sale_seq = g->included;
	c.pub.chain_as_of_us = g->as_of;
	c.hq_window_spend_cents = a->window_spend_cents;
	c.hq_last_visit_us = a->last_visit_us;
	/* Consent: the newer of the till's and HQ's answers wins. */
	if (a->consent_changed_us > c.pub.consent_changed_us) {
		c.pub.consent = a->consent;
		c.pub.consent_source = LOY_SRC_HQ;
		c.pub.consent_changed_us = a->consent_changed_us;
	}
	/* This terminal's entries HQ had not included when it computed the state. */
	if ((rc = loyi_pending_since(db, txn, &g->sc, a->card, g->included, &c.pub.pending_points,
				     &c.pub.pending_spent)))
		return rc;
	if ((rc = loyi_window_spend(db, txn, &c, g->as_of, &window)))
		return rc;
	int tier = loyi_tier_for(&db->cfg, window);
	c.pub.tier = tier > c.hq_tier ? tier : c.hq_tier;
	if ((rc = loyi_card_write(db, txn, &c)))
		return rc;
	return put_bought(db, txn, a);
}

static int apply_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct apply_arg *g = arg;
	int rc;
	for (size_t i = 0; i < g->n; i++)
		if ((rc = apply_one(db, txn, g, &g->a[i])))
			return rc;
	if (g->cursor) {
		uint64_t cur;
		if ((rc = loyi_meta_get_u64(db, txn, "accounts_cursor", &cur)))
			return rc;
		if (g->cursor > cur && (rc = loyi_meta_put_u64(db, txn, "accounts_cursor", g->cursor)))
			return rc;
	}
	return PM_OK;
}

int loy_accounts_apply(struct loy_db *db, const struct loy_account_state *a, size_t n, int64_t as_of_us,
		       uint64_t included_sale_seq, uint64_t cursor)
{
	if (!db || (n && !a) || as_of_us <= 0)
		return PM_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!state_valid(&a[i]))
			return PM_EINVAL;
	struct apply_arg g = { .a = a, .n = n, .as_of = as_of_us, .included = included_sale_seq, .cursor = cursor };
	int rc = loyi_write(db, apply_body, &g);
	loyi_scratch_free(&g.sc);
	return rc;
}

int loy_accounts_cursor(struct loy_db *db, uint64_t *cursor)
{
	MDB_txn *txn;
	int rc = loyi_read_begin(db, &txn);
	*cursor = 0;
	if (rc)
		return rc;
	rc = loyi_meta_get_u64(db, txn, "accounts_cursor", cursor);
	loyi_read_end(db, txn);
	return rc;
}

int loy_card_bought(struct loy_db *db, const char *card, char out[32][LOY_GTIN_LEN + 1], uint32_t *n)
{
	MDB_txn *txn;
	MDB_val k = { strlen(card), (void *)card }, v;
	int rc;
	*n = 0;
	if (!card[0] || strlen(card) > LOY_CARD_MAX)
		return PM_EINVAL;
	if ((rc = loyi_read_begin(db, &txn)))
		return rc;
	rc = mdb_get(txn, db->bought, &k, &v);
	if (rc == 0) {
		if (v.mv_size % LOY_GTIN_LEN || v.mv_size > 32 * LOY_GTIN_LEN) {
			rc = PM_ECORRUPT;
		} else {
			*n = (uint32_t)(v.mv_size / LOY_GTIN_LEN);
			for (uint32_t i = 0; i < *n; i++) {
				memcpy(out[i], (const char *)v.mv_data + i * LOY_GTIN_LEN, LOY_GTIN_LEN);
				out[i][LOY_GTIN_LEN] = '\0';
			}
		}
	} else {
		rc = rc == MDB_NOTFOUND ? PM_OK : loyi_mdb_err(rc);
	}
	loyi_read_end(db, txn);
	return rc;
}
