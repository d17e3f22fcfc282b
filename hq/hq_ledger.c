/*
 * hq_ledger.c - the chain account's writes at HQ (docs/accounts.md): a
 * batch's ledger entries and what they change (accounts, which store knows
 * which card, coupon redemptions), inside the batch's own transaction; HQ's
 * own entries: `card adjust` and `cards import`.
 *
 * An entry's id is its primary key (terminal_key, seq, kind): a till's
 * entries are keyed STORE/TERMINAL and the record's seq, so with the
 * per-terminal position row a batch sent twice adds nothing, and even a
 * replay past that row would fail on the key rather than count twice.
 * accounts.points is kept equal to the sum of the card's entries by adding
 * exactly the entries each transaction inserts.
 */
#include "hq/hq_int.h"
#include "hq/hq_rollup_int.h"
#include "common/pm_time.h"
#include "hq/hq_vault.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEDGER_COLS "terminal_key, seq, kind, store_id, terminal, card, time_us, points"

static int ledger_row(struct pm_buf *b, const char *store, const char *terminal, const struct wire_sale *s,
		      const char *ref, int kind, int64_t points)
{
	const char *name = wire_ledger_kind_name(kind);
	int rc = hqi_copy_str(b, store, strlen(store));
	rc = rc ? rc : pm_buf_add(b, "/", 1);
	rc = rc ? rc : hqi_copy_str(b, terminal, strlen(terminal));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_i64(b, (int64_t)s->seq, '\t');
	rc = rc ? rc : pm_buf_add(b, name, strlen(name));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_str(b, store, strlen(store));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_str(b, terminal, strlen(terminal));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : pm_buf_add(b, ref, strlen(ref));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_i64(b, s->time_us, '\t');
	return rc ? rc : hqi_copy_i64(b, points, '\n');
}

void hqi_acct_reset(struct hqi_batch_acct *a)
{
	a->ledger.len = a->coupons.len = a->cards.len = 0;
	a->n = 0;
	a->n_ledger = 0;
}

void hqi_acct_free(struct hqi_batch_acct *a)
{
	pm_buf_free(&a->ledger);
	pm_buf_free(&a->coupons);
	pm_buf_free(&a->cards);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int coupon_rows(struct hqi_batch_acct *a, const char *store, const char *terminal, const struct wire_sale *s)
{
	int rc = PM_OK;
	for (uint32_t i = 0; !rc && i < s->n_redeemed; i++) {
		bool again = false; /* the same coupon twice on one sale is one redemption */
		for (uint32_t j = 0; j < i && !again; j++)
			again = !strcmp(s->redeemed[j].coupon, s->redeemed[i].coupon);
		if (again)
			continue;
		struct pm_buf *b = &a->coupons;
		rc = hqi_copy_str(b, s->redeemed[i].coupon, strlen(s->redeemed[i].coupon));
		rc = rc ? rc : pm_buf_add(b, "\t", 1);
		rc = rc ? rc : hqi_copy_str(b, store, strlen(store));
		rc = rc ? rc : pm_buf_add(b, "\t", 1);
		rc = rc ? rc : hqi_copy_str(b, terminal, strlen(terminal));
		rc = rc ? rc : pm_buf_add(b, "\t", 1);
		rc = rc ? rc : hqi_copy_i64(b, (int64_t)s->seq, '\t');
		rc = rc ? rc : hqi_copy_i64(b, s->time_us, '\n');
	}
	return rc;
}

int hqi_acct_sale(struct hqi_batch_acct *a, const char *store, const char *terminal, int version,
		  const struct wire_sale *s, const char *ref, bool fresh)
{
	int64_t sum = 0;
	int rc = coupon_rows(a, store, terminal, s);
	if (rc || !ref || !ref[0])
		return rc;
	if (version < 2) {
		/* a v1 till knew no ledger: its points_earned is the earn entry */
		if (s->points_earned > 0 && s->points_earned <= WIRE_POINTS_MAX) {
			a->n_ledger++;
			sum = s->points_earned;
			rc = ledger_row(&a->ledger, store, terminal, s, ref, WIRE_LEDGER_EARN, s->points_earned);
		}
	}
	for (uint32_t i = 0; !rc && version >= 2 && i < s->n_ledger; i++) {
		a->n_ledger++;
		sum += s->ledger[i].points;
		rc = ledger_row(&a->ledger, store, terminal, s, ref, s->ledger[i].kind, s->ledger[i].points);
	}
	if (rc)
		return rc;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		struct hqi_card_delta *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	struct hqi_card_delta *d = &a->v[a->n++];
	snprintf(d->card, sizeof(d->card), "%s", ref);
	d->points = sum;
	d->last_us = s->time_us;
	d->fresh = fresh;
	return PM_OK;
}

static int delta_cmp(const void *x, const void *y)
{
	return strcmp(((const struct hqi_card_delta *)x)->card, ((const struct hqi_card_delta *)y)->card);
}

/* One COPY row per card: its entries summed, its newest record's time. */
static int card_rows(struct hqi_batch_acct *a, int64_t *n_cards, size_t *n_fresh)
{
	int rc = PM_OK;
	*n_cards = 0;
	*n_fresh = 0;
	qsort(a->v, a->n, sizeof(*a->v), delta_cmp);
	for (size_t i = 0; !rc && i < a->n;) {
		size_t j = i;
		int64_t pts = 0, last = 0;
		for (; j < a->n && !strcmp(a->v[j].card, a->v[i].card); j++) {
			pts += a->v[j].points;
			last = a->v[j].last_us > last ? a->v[j].last_us : last;
		}
		rc = pm_buf_add(&a->cards, a->v[i].card, strlen(a->v[i].card));
		rc = rc ? rc : pm_buf_add(&a->cards, "\t", 1);
		rc = rc ? rc : hqi_copy_i64(&a->cards, pts, '\t');
		rc = rc ? rc : hqi_copy_i64(&a->cards, last, '\t');
		rc = rc ? rc : hqi_copy_i64(&a->cards, (*n_cards)++, '\t'); /* its offset in the serial block */
		rc = rc ? rc : pm_buf_add(&a->cards, a->v[i].fresh ? "t\n" : "f\n", 2);
		*n_fresh += a->v[i].fresh;
		i = j;
	}
	return rc;
}

/* Run a statement with the batch's parameters: $1 store, $2 terminal, $3 after, $4 last. */
static int batch_exec(PGconn *c, const char *sql, const char *const pv[4], char *err, size_t errlen)
{
	return hqi_exec(c, sql, 4, pv, NULL, NULL, err, errlen);
}

/* A statement built here did not fit its buffer (a programming error, never input). */
static int sql_too_long(char *err, size_t errlen)
{
	snprintf(err, errlen, "internal error: an accounts statement is longer than its buffer");
	return PM_EIO;
}

/* The accounts of the batch's cards (batch_cards: any_fresh, cards whose ref it made; any_known,
 * the others), serials from base + idx, with the per-card rollups when stage staged them.
 * *t_acc: when the staging ended (the ingest timers). */
static int write_accounts(PGconn *c, bool exact, bool any_known, bool any_fresh, const char *base,
			  const struct hqi_acct_stage *stage, int64_t *t_acc, char *err, size_t errlen)
{
	const char *bv[1] = { base };
	const char *pts = exact ? "b.points" : "coalesce(n.points, 0)";
	const char *join = exact ? "" : " LEFT JOIN batch_added n ON n.card = b.card";
	/* the per-card rollups (hq_rollup_int.h, hqr_cards_stage): written with the balances,
	 * one new version of each card's row */
	int staged = stage ? stage->fn(c, stage->arg, err, errlen) : 0;
	if (staged < 0)
		return PM_EIO;
	*t_acc = pm_mono_ns();
	const char *r_cols = staged ? HQR_ACCOUNT_COLS : "", *r_vals = staged ? HQR_ACCOUNT_VALUES : "";
	const char *r_join = staged ? HQR_ACCOUNT_JOIN : "", *r_set = staged ? HQR_ACCOUNT_SET : "";
	char sql[3000];
	/* The new cards' accounts: every store_cards row of such a card is the one just written,
	 * with this serial, so account_changed has nothing to do for them and is told so
	 * (posmark.store_cards_current, migration 11) for this one statement: set and cleared in
	 * the same query string, which stops at the INSERT if it fails (and the transaction
	 * with it). */
	if (any_fresh) {
		if (snprintf(sql, sizeof(sql), "SELECT set_config('posmark.store_cards_current', 'on', true);"
			 " INSERT INTO accounts (card, points, change_serial, last_visit_us%s)"
			 " SELECT b.card, %s, %s::bigint + b.idx, b.last_us%s FROM batch_cards b%s%s WHERE b.fresh;"
			 " SELECT set_config('posmark.store_cards_current', '', true)", r_cols, pts, base, r_vals, join,
			 r_join) >= (int)sizeof(sql))
			return sql_too_long(err, errlen);
		if (hqi_exec_ok(c, sql, err, errlen))
			return PM_EIO;
	}
	if (any_known) {
		if (snprintf(sql, sizeof(sql), "INSERT INTO accounts (card, points, change_serial, last_visit_us%s)"
			 " SELECT b.card, %s, $1::bigint + b.idx, b.last_us%s FROM batch_cards b%s%s WHERE NOT b.fresh"
			 " ON CONFLICT (card) DO UPDATE SET points = accounts.points + EXCLUDED.points,"
			 " change_serial = EXCLUDED.change_serial, erased = false,"
			 " last_visit_us = greatest(accounts.last_visit_us, EXCLUDED.last_visit_us)%s", r_cols, pts, r_vals,
			 join, r_join, r_set) >= (int)sizeof(sql))
			return sql_too_long(err, errlen);
		if (hqi_exec(c, sql, 1, bv, NULL, NULL, err, errlen))
			return PM_EIO;
	}
	return PM_OK;
}

/* The batch's cards (a->v, summed per card): this store's store_cards rows, then each
 * card's account (balance += what it really gained, exact: every entry was inserted, else
 * batch_added has the sums; a new serial; the last visit), with its per-card rollups when
 * stage puts them in HQR_STAGED. */
static int write_cards(PGconn *c, const char *store, struct hqi_batch_acct *a, bool exact,
		       const struct hqi_acct_stage *stage, char *err, size_t errlen)
{
	int64_t k = 0, t_cards = pm_mono_ns();
	size_t n_fresh = 0;
	a->cards.len = 0;
	if (card_rows(a, &k, &n_fresh)) {
		snprintf(err, errlen, "out of memory");
		return PM_EIO;
	}
	/* each card: the entries it really gained added, a new serial (the accounts' trigger copies it to the
	 * other stores that knew the card), its last visit; this store knows the card, with that
	 * serial. Only these statements and the commit run under the serial lock. */
	if (hqi_exec_ok(c, "CREATE TEMP TABLE IF NOT EXISTS batch_cards (card text, points bigint, last_us bigint,"
			" idx bigint, fresh boolean) ON COMMIT DELETE ROWS", err, errlen) ||
	    hqi_copy_in(c, "COPY batch_cards FROM STDIN", a->cards.data, a->cards.len, err, errlen) ||
	    hqi_exec_ok(c, HQI_SERIAL_LOCK, err, errlen))
		return PM_EIO;
	/* the batch's serials as one block of the sequence (one call, not one per card) */
	char ks[24], base[24];
	snprintf(ks, sizeof(ks), "%" PRId64, k);
	const char *kv[1] = { ks };
	PGresult *r = hqi_query(c, "SELECT setval('account_serial', nextval('account_serial') + $1::bigint - 1)"
				" - $1::bigint + 1", 1, kv, false, err, errlen);
	if (!r)
		return PM_EIO;
	snprintf(base, sizeof(base), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	/* This store knows every card of the batch, at the serial its account is about to get
	 * ($2 + idx): written before the accounts, so that their trigger (account_changed) finds
	 * this store's rows current and updates only the rows of the other stores that know the
	 * card; each row is written once. Cards whose ref this batch made (the usual case for a
	 * new card) have no account and no store_cards row anywhere yet: a plain INSERT, without
	 * ON CONFLICT's speculative insertion and its second look at the unique index; the
	 * others are upserted, the serial only ever moving forward as in account_changed. */
	const char *sv[2] = { store, base };
	if (n_fresh && hqi_exec(c, "INSERT INTO store_cards SELECT $1, b.card, $2::bigint + b.idx FROM batch_cards b"
				" WHERE b.fresh", 2, sv, NULL, NULL, err, errlen))
		return PM_EIO;
	if (n_fresh < (size_t)k && hqi_exec(c, "INSERT INTO store_cards SELECT $1, b.card, $2::bigint + b.idx"
					   " FROM batch_cards b WHERE NOT b.fresh ON CONFLICT (card, store_id) DO UPDATE"
					   " SET change_serial = EXCLUDED.change_serial"
					   " WHERE store_cards.change_serial < EXCLUDED.change_serial", 2, sv, NULL, NULL,
					   err, errlen))
		return PM_EIO;
	int64_t t_stage = pm_mono_ns(), t_acc;
	if (write_accounts(c, exact, n_fresh < (size_t)k, n_fresh > 0, base, stage, &t_acc, err, errlen))
		return PM_EIO;
	if (hqr_timed())
		pm_info("accounts: %" PRId64 " cards (%zu new): cards and store_cards %.1f ms, rollups staged %.1f ms,"
			" accounts written %.1f ms", k, n_fresh, (double)(t_stage - t_cards) / 1e6,
			(double)(t_acc - t_stage) / 1e6, (double)(pm_mono_ns() - t_acc) / 1e6);
	return PM_OK;
}

int hqi_acct_apply(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		   uint64_t last, struct hqi_batch_acct *a, const struct hqi_acct_stage *stage, char *err,
		   size_t errlen)
{
	char as[24], ls[24];
	snprintf(as, sizeof(as), "%" PRIu64, after);
	snprintf(ls, sizeof(ls), "%" PRIu64, last);
	const char *pv[4] = { store, terminal, as, ls };
	if (batch_kind == WIRE_BATCH_EVENTS) {
		if (hqi_exec_ok(c, HQI_SERIAL_LOCK, err, errlen))
			return PM_EIO;
		/* a consent or offer event of the card at the store: the store knows it, and the
		 * account's consent may have changed (the stores' cursor must see it) */
		return batch_exec(c, "WITH e AS (SELECT DISTINCT card FROM events WHERE store_id = $1 AND terminal = $2"
				  " AND seq > $3::bigint AND seq <= $4::bigint AND card IS NOT NULL AND type <> 'erasure'),"
				  " k AS (INSERT INTO store_cards SELECT $1, card FROM e ON CONFLICT DO NOTHING)"
				  " INSERT INTO accounts (card, change_serial) SELECT card, nextval('account_serial') FROM e"
				  " ON CONFLICT (card) DO UPDATE SET change_serial = EXCLUDED.change_serial",
				  pv, err, errlen);
	}
	/* Entries: straight into ledger by COPY under a savepoint (the usual case: nothing of the
	 * batch is stored yet, and the batch's own sums per card are what it adds). If any entry
	 * is already there (HQ restored from a backup older than its ledger, the till resending)
	 * the COPY fails on the key as a whole and is rolled back; then the entries go through a
	 * temporary table and ON CONFLICT DO NOTHING, and only what was really added moves the
	 * balances (batch_added). Either way an entry counts once. */
	bool exact = true; /* every entry of the batch was inserted: the card sums are exact */
	if (hqi_exec_ok(c, "CREATE TEMP TABLE IF NOT EXISTS batch_added (card text, points bigint) ON COMMIT DELETE ROWS;"
			"CREATE TEMP TABLE IF NOT EXISTS batch_coupons (LIKE coupon_redemptions) ON COMMIT DELETE ROWS",
			err, errlen))
		return PM_EIO;
	if (a->ledger.len) {
		if (hqi_exec_ok(c, "SAVEPOINT batch_ledger_direct", err, errlen))
			return PM_EIO;
		if (!hqi_copy_in(c, "COPY ledger (" LEDGER_COLS ") FROM STDIN", a->ledger.data, a->ledger.len, err,
				 errlen)) {
			if (hqi_exec_ok(c, "RELEASE SAVEPOINT batch_ledger_direct", err, errlen))
				return PM_EIO;
		} else {
			exact = false;
			if (hqi_exec_ok(c, "ROLLBACK TO SAVEPOINT batch_ledger_direct;"
					"RELEASE SAVEPOINT batch_ledger_direct;"
					"CREATE TEMP TABLE IF NOT EXISTS batch_ledger (LIKE ledger) ON COMMIT DELETE ROWS",
					err, errlen) ||
			    hqi_copy_in(c, "COPY batch_ledger (" LEDGER_COLS ") FROM STDIN", a->ledger.data, a->ledger.len,
					err, errlen) ||
			    hqi_exec_ok(c, "WITH n AS (INSERT INTO ledger SELECT * FROM batch_ledger ON CONFLICT DO NOTHING"
					" RETURNING card, points) INSERT INTO batch_added SELECT card, sum(points) FROM n"
					" GROUP BY card", err, errlen))
				return PM_EIO;
		}
	}
	if (a->coupons.len &&
	    (hqi_copy_in(c, "COPY batch_coupons (coupon, store_id, terminal, seq, time_us) FROM STDIN", a->coupons.data,
			 a->coupons.len, err, errlen) ||
	     hqi_exec_ok(c, "INSERT INTO coupon_redemptions SELECT * FROM batch_coupons ON CONFLICT DO NOTHING", err,
			 errlen)))
		return PM_EIO;
	if (!a->n)
		return PM_OK;
	return write_cards(c, store, a, exact, stage, err, errlen);
}

/* ---- HQ's own entries ----------------------------------------------------- */

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Entries in the running transaction: insert what is new, add exactly that to the
 * balances. rows: COPY text of LEDGER_COLS + reason. Returns the entries added. */
static int insert_entries(PGconn *c, const struct pm_buf *rows, int64_t *added, char *err, size_t errlen)
{
	PGresult *r;
	int rc = hqi_exec_ok(c, "CREATE TEMP TABLE IF NOT EXISTS ledger_in (LIKE ledger) ON COMMIT DROP;"
			     "TRUNCATE ledger_in", err, errlen);
	rc = rc ? rc : hqi_copy_in(c, "COPY ledger_in (" LEDGER_COLS ", reason) FROM STDIN", rows->data, rows->len,
				   err, errlen);
	rc = rc ? rc : hqi_exec_ok(c, HQI_SERIAL_LOCK, err, errlen);
	if (rc)
		return rc;
	r = hqi_query(c, "WITH n AS (INSERT INTO ledger SELECT * FROM ledger_in ON CONFLICT DO NOTHING"
			 "  RETURNING card, points),"
			 " g AS (SELECT card, sum(points) AS p, count(*) AS k FROM n GROUP BY card),"
			 " u AS (INSERT INTO accounts (card, points, change_serial)"
			 "  SELECT card, p, nextval('account_serial') FROM g ON CONFLICT (card) DO UPDATE"
			 "  SET points = accounts.points + EXCLUDED.points, change_serial = EXCLUDED.change_serial,"
			 "  erased = false)"
			 " SELECT coalesce(sum(k), 0) FROM g", 0, NULL, false, err, errlen);
	if (!r)
		return PM_EIO;
	*added = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return PM_OK;
}

static int hq_row(struct pm_buf *b, const char *key, int64_t seq, const char *kind, const char *card,
		  int64_t time_us, int64_t points, const char *reason)
{
	int rc = pm_buf_add(b, key, strlen(key));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_i64(b, seq, '\t');
	rc = rc ? rc : pm_buf_add(b, kind, strlen(kind));
	rc = rc ? rc : pm_buf_add(b, "\t\\N\t", 4);
	rc = rc ? rc : pm_buf_add(b, key, strlen(key));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : pm_buf_add(b, card, strlen(card));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_i64(b, time_us, '\t');
	rc = rc ? rc : hqi_copy_i64(b, points, '\t');
	rc = rc ? rc : (reason ? hqi_copy_str(b, reason, strlen(reason)) : pm_buf_add(b, "\\N", 2));
	return rc ? rc : pm_buf_add(b, "\n", 1);
}

int hq_card_adjust(PGconn *c, const char *card, int64_t points, const char *reason, char *err, size_t errlen)
{
	struct pm_buf rows = { 0 };
	char ref[HQV_REF_LEN + 1];
	int64_t added = 0;
	PGresult *r;
	int rc = hqi_exec_ok(c, "BEGIN", err, errlen);
	if (rc)
		return rc;
	if ((rc = hqv_card_ref(c, card, true, ref, err, errlen))) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		return rc;
	}
	card = ref;
	r = PQexec(c, "SELECT nextval('ledger_hq_serial')");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		rc = PM_EIO;
	} else {
		rc = hq_row(&rows, "hq", strtoll(PQgetvalue(r, 0, 0), NULL, 10), "adjust", card, now_us(), points, reason);
	}
	PQclear(r);
	rc = rc ? rc : insert_entries(c, &rows, &added, err, errlen);
	rc = rc ? rc : hqi_exec_ok(c, "COMMIT", err, errlen);
	if (rc)
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
	pm_buf_free(&rows);
	return rc;
}

/* ---- cards import ----------------------------------------------------------- */

/* One CSV field (no quoting: cards and numbers never need it), spaces trimmed. */
static const char *field(const char *p, const char *end, char *dst, size_t cap)
{
	const char *q = p;
	while (q < end && *q != ',')
		q++;
	while (p < q && (*p == ' ' || *p == '\t'))
		p++;
	const char *e = q;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	snprintf(dst, cap, "%.*s", (int)(e - p < (long)cap ? e - p : (long)cap - 1), p);
	if ((size_t)(e - p) >= cap)
		dst[0] = '\x01'; /* too long: refused by the caller's check */
	return q < end ? q + 1 : NULL;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (!*s || *end || errno || x < lo || x > hi || (s[0] == '+'))
		return PM_EINVAL;
	*v = x;
	return PM_OK;
}

/*
 * Parse the whole file first: any bad line refuses the import (nothing is
 * written), each named with its number. A header line "card,points[,tier]"
 * is skipped; blank lines and lines starting with '#' too.
 */
struct import_row {
	int64_t points, tier;
};

int64_t hqi_import_seq(const char *ref, int64_t points, int64_t tier)
{
	unsigned char h[32];
	char canon[80];
	int cl = snprintf(canon, sizeof(canon), "%s,%" PRId64 ",%" PRId64, ref, points, tier);
	crypto_generichash(h, sizeof(h), (const unsigned char *)canon, (size_t)cl, NULL, 0);
	uint64_t h64 = 0;
	for (int i = 0; i < 8; i++)
		h64 = (h64 << 8) | h[i];
	return (int64_t)(h64 & (uint64_t)INT64_MAX) | 1; /* never 0 */
}

static int by_number(const void *a, const void *b)
{
	return strcmp(((const struct hqv_card *)a)->number, ((const struct hqv_card *)b)->number);
}

/* The parsed rows as ledger and tier COPY rows, each card by its ref (new cards get one). */
static int import_rows(PGconn *c, const struct hqv_card *cards, const struct import_row *v, size_t n, int64_t now,
		       struct pm_buf *rows, struct pm_buf *tiers, char *err, size_t errlen)
{
	struct hqv_card *u = n ? malloc(n * sizeof(*u)) : NULL;
	size_t d = 0;
	if (n && !u)
		return PM_ENOMEM;
	if (n)
		memcpy(u, cards, n * sizeof(*u));
	/* distinct numbers resolved in one go (refs_for reorders them), then sorted to be found */
	if (n)
		qsort(u, n, sizeof(*u), by_number);
	for (size_t i = 0; i < n; i++)
		if (!d || strcmp(u[d - 1].number, u[i].number))
			u[d++] = u[i];
	int rc = hqv_refs_for(c, u, d, true, err, errlen);
	if (!rc && d)
		qsort(u, d, sizeof(*u), by_number);
	for (size_t i = 0; !rc && i < n; i++) {
		const struct hqv_card *hit = d ? bsearch(&cards[i], u, d, sizeof(*u), by_number) : NULL;
		const char *ref = hit ? hit->ref : "";
		if (v[i].points > 0 &&
		    hq_row(rows, "hq-import", hqi_import_seq(ref, v[i].points, v[i].tier), "import", ref, now, v[i].points, NULL))
			rc = PM_ENOMEM;
		if (!rc && v[i].tier > 0) { /* the legacy tier, held for one tier window (docs/hq.md) */
			char tl[64];
			int k = snprintf(tl, sizeof(tl), "%s\t%" PRId64 "\n", ref, v[i].tier);
			rc = pm_buf_add(tiers, tl, (size_t)k);
		}
	}
	if (n)
		sodium_memzero(u, n * sizeof(*u));
	free(u);
	return rc;
}

static int import_parse(const char *text, size_t len, int n_tiers, struct hqv_card **cards, struct import_row **rowv,
			size_t *n_rows, FILE *diag, struct hq_import_result *res)
{
	size_t cap = 0;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int bad = 0;
	for (const char *nl; p < end; p = nl + 1) {
		char card[32], pts[32], tier[32], extra[8], why[160] = "";
		int64_t points = 0, t = -1;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		line++;
		const char *q = p;
		while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == nl || *q == '#')
			continue;
		const char *f = field(p, nl, card, sizeof(card));
		f = f ? field(f, nl, pts, sizeof(pts)) : (pts[0] = '\0', NULL);
		tier[0] = extra[0] = '\0';
		if (f)
			f = field(f, nl, tier, sizeof(tier));
		if (f)
			snprintf(why, sizeof(why), "more than 3 fields (card,points[,tier])");
		if (line == 1 && !strcmp(card, "card") && !strcmp(pts, "points"))
			continue;
		if (!why[0] && (!card[0] || strspn(card, "0123456789") != strlen(card) || strlen(card) > WIRE_CARD_MAX))
			snprintf(why, sizeof(why), "card '%.24s' is not 1 to %d digits", card, WIRE_CARD_MAX);
		else if (!why[0] && parse_int(pts, 0, WIRE_POINTS_MAX, &points))
			snprintf(why, sizeof(why), "points '%.24s' is not a whole number from 0 to 10^12", pts);
		else if (!why[0] && tier[0] && parse_int(tier, 0, n_tiers - 1, &t))
			snprintf(why, sizeof(why), "tier '%.24s' is not 0 to %d (the [loyalty] tiers of hq.conf)", tier,
				 n_tiers - 1);
		if (why[0]) {
			if (bad++ < 20)
				fprintf(diag, "posmark-hq: line %u: %s\n", line, why);
			continue;
		}
		res->rows++;
		if (*n_rows == cap) {
			cap = cap ? 2 * cap : 256;
			struct hqv_card *nc = realloc(*cards, cap * sizeof(**cards));
			if (nc)
				*cards = nc;
			struct import_row *nr = nc ? realloc(*rowv, cap * sizeof(**rowv)) : NULL;
			if (!nr)
				return PM_ENOMEM;
			*rowv = nr;
		}
		memset(&(*cards)[*n_rows], 0, sizeof(**cards));
		snprintf((*cards)[*n_rows].number, sizeof((*cards)[0].number), "%.19s", card);
		(*rowv)[*n_rows].points = points;
		(*rowv)[(*n_rows)++].tier = t;
	}
	if (bad) {
		res->bad_lines = (unsigned)bad;
		return PM_EINVAL;
	}
	return PM_OK;
}

int hq_cards_import(PGconn *c, const char *text, size_t len, const struct hq_tiers *tiers, FILE *diag,
		    struct hq_import_result *res, char *err, size_t errlen)
{
	struct pm_buf rows = { 0 }, tier_rows = { 0 };
	struct hqv_card *cards = NULL;
	struct import_row *rowv = NULL;
	size_t n_rows = 0;
	int64_t now = now_us();
	char until[24];
	memset(res, 0, sizeof(*res));
	int rc = import_parse(text, len, tiers->n, &cards, &rowv, &n_rows, diag, res);
	if (rc) {
		snprintf(err, errlen, rc == PM_EINVAL ? "%u bad line(s)" : "out of memory", res->bad_lines);
		goto out;
	}
	snprintf(until, sizeof(until), "%" PRId64, now + (int64_t)tiers->window_days * 86400 * 1000000);
	const char *pv[1] = { until };
	rc = hqi_exec_ok(c, "BEGIN", err, errlen);
	rc = rc ? rc : import_rows(c, cards, rowv, n_rows, now, &rows, &tier_rows, err, errlen);
	if (!rc && rows.len)
		rc = insert_entries(c, &rows, &res->added, err, errlen);
	if (!rc && tier_rows.len) {
		rc = hqi_exec_ok(c, "CREATE TEMP TABLE tier_in (card text, tier int) ON COMMIT DROP; " HQI_SERIAL_LOCK,
				 err, errlen);
		rc = rc ? rc : hqi_copy_in(c, "COPY tier_in FROM STDIN", tier_rows.data, tier_rows.len, err, errlen);
		rc = rc ? rc : hqi_exec(c, "INSERT INTO accounts (card, change_serial, tier_floor, tier_floor_until_us)"
					" SELECT card, nextval('account_serial'), tier, $1::bigint FROM tier_in"
					" ON CONFLICT (card) DO UPDATE SET tier_floor = EXCLUDED.tier_floor,"
					" tier_floor_until_us = EXCLUDED.tier_floor_until_us,"
					" change_serial = EXCLUDED.change_serial"
					" WHERE accounts.tier_floor <> EXCLUDED.tier_floor", 1, pv, NULL, NULL, err, errlen);
	}
	rc = rc ? rc : hqi_exec_ok(c, "COMMIT", err, errlen);
	if (rc)
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
out:
	if (cards)
		sodium_memzero(cards, n_rows * sizeof(*cards));
	free(cards);
	free(rowv);
	pm_buf_free(&rows);
	pm_buf_free(&tier_rows);
	return rc;
}
