/*
 * hq_accounts.c - the chain account down to the stores (docs/accounts.md):
 *   GET /v1/accounts?after=CURSOR&limit=N   accounts of the cards this store
 *        knows that changed after CURSOR (posmark-accounts v1, gzip NDJSON)
 *   GET /v1/accounts/CARD                   one card; it becomes known here
 *   GET /v1/sales/TERMINAL/SEQ              a sale and what was returned of it
 *   GET /v1/coupons/CODE                    whether a coupon was redeemed
 * hq_server.c authenticates the store exactly as for uploads and routes
 * these here; wire/ encodes every body.
 *
 * An account page and the terminal's included_sale_seq are read in one
 * REPEATABLE READ snapshot: ingest commits a batch's entries and the
 * terminal's position together, so every entry of the terminal up to
 * included_sale_seq is in the balances sent and none after it is.
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct hq_tiers g_tiers;
static bool g_tiers_set;

void hq_accounts_config(const struct hq_tiers *t)
{
	g_tiers = *t;
	g_tiers_set = true;
}

static const struct hq_tiers *tiers(void)
{
	if (!g_tiers_set) {
		hq_tiers_default(&g_tiers);
		g_tiers_set = true;
	}
	return &g_tiers;
}

bool hq_accounts_route(const char *url)
{
	return !strcmp(url, "/v1/accounts") || !strncmp(url, "/v1/accounts/", 13) || !strncmp(url, "/v1/sales/", 10) ||
	       !strncmp(url, "/v1/coupons/", 12);
}

static void answer_json(struct hq_answer *out, int status, const char *state, const char *reason)
{
	struct pm_buf *b = out->body;
	json_t *o = json_pack("{s:s, s:s}", "status", state, "reason", reason);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	out->status = status;
	out->type = "application/json";
	b->len = 0;
	if (!text || pm_buf_add(b, text, strlen(text)))
		out->status = 500;
	free(text);
	json_decref(o);
}

static void db_unavailable(struct hq_answer *out, PGconn *c, const char *what)
{
	pm_err("%s: %s", what, PQerrorMessage(c));
	hqi_exec_ok(c, "ROLLBACK", NULL, 0);
	answer_json(out, 503, "error", "HQ database unavailable; retry later");
}

static bool all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n >= 1 && n <= max && strspn(s, "0123456789") == n;
}

/* ---- account pages ----------------------------------------------------------- */

/* The page: an index range of store_cards (store, change_serial) joined to the accounts.
 * $1 store, $2 the cursor or the card, $3 rows wanted, $4 now (an imported tier's end). */
#define PAGE_SQL(where) \
	"SELECT k.card, a.points, k.change_serial, a.erased, a.last_visit_us," \
	" CASE WHEN a.tier_floor_until_us > $4::bigint THEN a.tier_floor ELSE 0 END," \
	" coalesce(c.consent, 'unknown'), coalesce(c.consent_changed_us, 0), v.wrapped_key, v.sealed" \
	" FROM store_cards k JOIN accounts a ON a.card = k.card LEFT JOIN cards c ON c.card = k.card" \
	" LEFT JOIN card_vault v ON v.ref = k.card" \
	" WHERE k.store_id = $1 AND " where " LIMIT $3::int"
/* The page's cards' sales in the tier window, read once (MATERIALIZED, by the card index):
 * spend (money, net of returns) and the 32 GTINs bought most. $1 cards, $2 window start. */
#define HISTORY_SQL \
	"WITH s AS MATERIALIZED (SELECT card, type, refund_cents, total_cents, points_spent, point_value_cents," \
	"  items FROM sales WHERE card = ANY ($1::text[]) AND time_us >= $2::bigint)," \
	" sp AS (SELECT card, sum(" HQI_MONEY_SQL ") AS spend FROM s GROUP BY card)," \
	" it AS (SELECT s.card, i.gtin, sum(CASE WHEN s.type = 'return' THEN -i.qty ELSE i.qty END) AS q" \
	"  FROM s CROSS JOIN jsonb_to_recordset(s.items) AS i(gtin text, qty int) GROUP BY s.card, i.gtin)," \
	" bo AS (SELECT card, string_agg(gtin, ',' ORDER BY q DESC, gtin) AS bought FROM (SELECT card, gtin, q," \
	"  row_number() OVER (PARTITION BY card ORDER BY q DESC, gtin) AS rn FROM it WHERE q > 0) x" \
	"  WHERE rn <= 32 GROUP BY card)" \
	" SELECT sp.card, sp.spend, coalesce(bo.bought, '') FROM sp LEFT JOIN bo ON bo.card = sp.card"
_Static_assert(WIRE_BOUGHT_MAX == 32, "HISTORY_SQL's bought limit");

static int consent_of(const char *w)
{
	return !strcmp(w, "yes") ? WIRE_CONSENT_YES : !strcmp(w, "no") ? WIRE_CONSENT_NO : WIRE_CONSENT_UNKNOWN;
}

/* A page row as an account line: the number opened from the vault (the row's
 * card is its ref). PM_ENOENT: no vault row (erased: the stores learn that from
 * their erasure request, which carries the number) or one that does not open. */
static int row_to_account(PGresult *r, int i, struct wire_account *a, int *floor)
{
	memset(a, 0, sizeof(*a));
	if (PQgetisnull(r, i, 8) ||
	    hqv_open_row(PQgetvalue(r, i, 0), PQgetvalue(r, i, 8), PQgetvalue(r, i, 9), a->card))
		return PM_ENOENT;
	if (!strcmp(PQgetvalue(r, i, 3), "t")) {
		a->erased = true;
		return PM_OK;
	}
	a->points = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	a->last_visit_us = strtoll(PQgetvalue(r, i, 4), NULL, 10);
	*floor = atoi(PQgetvalue(r, i, 5));
	a->tier = hqi_tier_of(tiers(), 0, *floor);
	a->consent = consent_of(PQgetvalue(r, i, 6));
	a->consent_changed_us = strtoll(PQgetvalue(r, i, 7), NULL, 10);
	return PM_OK;
}

struct ref_idx {
	char ref[HQV_REF_LEN + 1];
	int i;
};

static int by_ref(const void *x, const void *y)
{
	return strcmp(((const struct ref_idx *)x)->ref, ((const struct ref_idx *)y)->ref);
}

/* Spend, tier and bought of the page's accounts (refs[i] is acc[i]'s ref). */
static int page_history(PGconn *c, struct wire_account *acc, struct ref_idx *refs, const int *floors, int n,
			const char *since)
{
	struct pm_buf arr = { 0 };
	int64_t from = strtoll(since, NULL, 10);
	int rc = pm_buf_add(&arr, "{", 1), asked = 0;
	for (int i = 0; !rc && i < n; i++) {
		if (acc[i].erased || acc[i].last_visit_us < from)
			continue; /* no sale or return in the window: spend 0, nothing bought */
		rc = asked++ ? pm_buf_add(&arr, ",", 1) : PM_OK;
		rc = rc ? rc : pm_buf_add(&arr, refs[i].ref, strlen(refs[i].ref)); /* base32: no quoting */
	}
	rc = rc ? rc : pm_buf_add(&arr, "}", 2); /* with the NUL */
	if (rc || !asked) {
		pm_buf_free(&arr);
		return rc;
	}
	const char *pv[2] = { arr.data, since };
	PGresult *r = PQexecParams(c, HISTORY_SQL, 2, NULL, pv, NULL, NULL, 0);
	pm_buf_free(&arr);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return PM_EIO;
	}
	qsort(refs, (size_t)n, sizeof(*refs), by_ref);
	for (int i = 0; i < PQntuples(r); i++) {
		struct ref_idx key, *hit;
		snprintf(key.ref, sizeof(key.ref), "%s", PQgetvalue(r, i, 0));
		if (!(hit = bsearch(&key, refs, (size_t)n, sizeof(*refs), by_ref)) || acc[hit->i].erased)
			continue;
		struct wire_account *a = &acc[hit->i];
		a->window_spend_cents = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		a->tier = hqi_tier_of(tiers(), a->window_spend_cents, floors[hit->i]);
		/* "g1,g2,...": GTINs (digits) joined by the query */
		for (const char *p = PQgetvalue(r, i, 2); *p && a->n_bought < WIRE_BOUGHT_MAX;) {
			size_t len = strcspn(p, ",");
			if (len >= 1 && len <= 14)
				snprintf(a->bought[a->n_bought++], sizeof(a->bought[0]), "%.*s", (int)len, p);
			p += len + (p[len] == ',');
		}
	}
	PQclear(r);
	return PM_OK;
}

/*
 * One snapshot: included_sale_seq of the terminal, then the page. card set:
 * the one-card lookup (marks the card known to the store first).
 */
#define PM_EAGAIN_STALE 1 /* a row did not open: reload the key and answer again */
static int accounts_page_once(PGconn *c, const char *store, const char *terminal, const char *card, uint64_t after,
			      int limit, struct hq_answer *out);

/* The page; once more with the key reloaded if a row did not open (a rotation since it was loaded). */
static void accounts_page(PGconn *c, const char *store, const char *terminal, const char *card, uint64_t after,
			  int limit, struct hq_answer *out)
{
	char err[300];
	if (accounts_page_once(c, store, terminal, card, after, limit, out) == PM_EAGAIN_STALE) {
		if (hqv_reload(c, err, sizeof(err)))
			pm_err("accounts: %s", err);
		out->body->len = 0;
		accounts_page_once(c, store, terminal, card, after, limit, out);
	}
}

/* Before the snapshot: the one-card lookup's ref, or for a page the vault key (its rows open
 * under it). The ref comes first, in its own statement: a new card gets its vault row even if
 * the page's snapshot below must not see other transactions' rows. On an error the answer is
 * made (503). */
static int page_card_key(PGconn *c, const char *card, char ref[HQV_REF_LEN + 1], struct hq_answer *out)
{
	char err[300];
	if (card && hqv_ref_for(c, card, true, ref, err, sizeof(err))) {
		pm_err("accounts: card lookup: %s", err);
		answer_json(out, 503, "error", "HQ database unavailable; retry later");
		return PM_EIO;
	}
	if (!card && hqv_load(c, err, sizeof(err))) {
		pm_err("accounts: %s", err);
		answer_json(out, 503, "error", "HQ cannot read its card key; retry later (HQ's log says why)");
		return PM_EIO;
	}
	return PM_OK;
}

/* BEGIN the snapshot and read the terminal's included_sale_seq and the snapshot's time into
 * the header. The one-card lookup writes (the card becomes known to the store, $1/$2 of pv),
 * so only a page's snapshot is READ ONLY. On an error the answer is made (503). */
static int page_snapshot_begin(PGconn *c, bool one_card, const char *const *pv, const char *store,
			       const char *terminal, struct wire_accounts_header *h, struct hq_answer *out)
{
	const char *tv[2] = { store, terminal };
	PGresult *r;

	if (hqi_exec_ok(c, one_card ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
				    : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, 0))
		return db_unavailable(out, c, "accounts"), PM_EIO;
	if (one_card && hqi_exec(c, "INSERT INTO store_cards SELECT $1, $2, coalesce((SELECT change_serial FROM accounts"
				 " WHERE card = $2), 0) ON CONFLICT DO NOTHING", 2, pv, NULL, NULL, NULL, 0))
		return db_unavailable(out, c, "accounts"), PM_EIO;
	r = PQexecParams(c, "SELECT coalesce((SELECT acked_seq FROM upload_progress WHERE store_id = $1"
			 " AND terminal = $2 AND kind = 'sales'), 0),"
			 " (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint", 2, NULL, tv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return db_unavailable(out, c, "accounts"), PM_EIO;
	}
	h->included_sale_seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	h->as_of_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return PM_OK;
}

/* The page's account lines, what page_history needs beside them: acc[i]'s imported tier floor
 * and its ref (refs[i].i == i until page_history sorts refs). */
struct page_lines {
	struct wire_account *acc;
	int *floors;
	struct ref_idx *refs;
	int n;
};

/* The first n rows of the page query as lines, in cursor order; a card without a vault row
 * (erased) has no number to send and is left out. PM_ENOMEM; PM_EAGAIN_STALE: a vault row did
 * not open (the key rotated since it was loaded). The caller frees p's arrays either way. */
static int page_rows_to_lines(PGresult *r, int n, struct page_lines *p)
{
	int kept = 0, stale = 0;
	if (n && (!(p->acc = calloc((size_t)n, sizeof(*p->acc))) || !(p->floors = calloc((size_t)n, sizeof(*p->floors))) ||
		  !(p->refs = calloc((size_t)n, sizeof(*p->refs)))))
		return PM_ENOMEM;
	for (int i = 0; i < n; i++) {
		if (row_to_account(r, i, &p->acc[kept], &p->floors[kept])) {
			stale += !PQgetisnull(r, i, 8); /* a vault row that does not open */
			continue;
		}
		snprintf(p->refs[kept].ref, sizeof(p->refs[kept].ref), "%s", PQgetvalue(r, i, 0));
		p->refs[kept].i = kept;
		kept++;
	}
	p->n = kept;
	return stale ? PM_EAGAIN_STALE : PM_OK;
}

/* In the snapshot: the page query (pv as PAGE_SQL's $1..$4), the header's page fields and the
 * lines. On PM_EIO the answer is made and the snapshot rolled back; on PM_EAGAIN_STALE it is
 * rolled back; on PM_OK it is still open. The caller frees p's arrays either way. */
static int page_read(PGconn *c, const char *card, const char *const *pv, uint64_t after, int limit,
		     const char *terminal, struct wire_accounts_header *h, struct page_lines *p, struct hq_answer *out)
{
	PGresult *r = PQexecParams(c, card ? PAGE_SQL("k.card = $2")
					   : PAGE_SQL("k.change_serial > $2::bigint ORDER BY k.change_serial"),
				   4, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return db_unavailable(out, c, "accounts page"), PM_EIO;
	}
	/* one row more than the limit was asked for: whether there is more after this page */
	int n = PQntuples(r);
	h->version = WIRE_ACCOUNTS_VERSION;
	snprintf(h->terminal, sizeof(h->terminal), "%s", terminal);
	h->more = !card && n > limit;
	if (h->more)
		n = limit;
	h->next_cursor = card ? 0 : n ? strtoull(PQgetvalue(r, n - 1, 2), NULL, 10) : after;
	int rc = page_rows_to_lines(r, n, p);
	PQclear(r);
	if (rc == PM_ENOMEM) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		answer_json(out, 503, "error", "HQ is out of memory; retry later");
		return PM_EIO;
	}
	if (rc)
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
	h->count = (uint64_t)p->n;
	return rc;
}

static int accounts_page_once(PGconn *c, const char *store, const char *terminal, const char *card, uint64_t after,
			      int limit, struct hq_answer *out)
{
	struct wire_accounts_header h;
	struct page_lines p = { 0 };
	char a_s[24], l_s[16], since[24], now_s[24], ref[HQV_REF_LEN + 1];
	int64_t now = (int64_t)time(NULL) * 1000000;
	int rc;

	memset(&h, 0, sizeof(h));
	snprintf(a_s, sizeof(a_s), "%" PRIu64, after);
	snprintf(l_s, sizeof(l_s), "%d", card ? 1 : limit + 1);
	snprintf(since, sizeof(since), "%" PRId64, now - (int64_t)tiers()->window_days * 86400 * 1000000);
	snprintf(now_s, sizeof(now_s), "%" PRId64, now);
	if (page_card_key(c, card, ref, out))
		return PM_EIO;
	const char *pv[4] = { store, card ? ref : a_s, l_s, now_s };
	if (page_snapshot_begin(c, card != NULL, pv, store, terminal, &h, out))
		return PM_EIO;
	if ((rc = page_read(c, card, pv, after, limit, terminal, &h, &p, out))) {
		free(p.acc);
		free(p.floors);
		free(p.refs);
		return rc;
	}
	/* the history in the same snapshot: spend and tier agree with the balances sent */
	rc = p.n ? page_history(c, p.acc, p.refs, p.floors, p.n, since) : PM_OK;
	free(p.refs);
	free(p.floors);
	if (rc || hqi_exec_ok(c, "COMMIT", NULL, 0)) {
		free(p.acc);
		return db_unavailable(out, c, "accounts history"), PM_EIO;
	}
	rc = wire_accounts_encode(&h, p.acc, (size_t)p.n, out->body);
	if (p.acc)
		sodium_memzero(p.acc, (size_t)p.n * sizeof(*p.acc));
	free(p.acc);
	if (rc) {
		pm_err("cannot encode an accounts page for store '%s': %s", store, pm_strerror(rc));
		answer_json(out, 500, "error", "HQ could not encode the accounts; see HQ's log");
		return PM_EIO;
	}
	out->status = 200;
	out->type = "application/gzip";
	return PM_OK;
}

/* ---- one sale and its returns -------------------------------------------------- */

/* items/redeemed jsonb as stored at ingest, into the sale (malloc'd arrays). */
static int sale_arrays(const char *items, const char *redeemed, struct wire_sale *s)
{
	json_t *it = json_loads(items, 0, NULL), *rd = json_loads(redeemed, 0, NULL);
	int rc = json_is_array(it) && json_is_array(rd) ? PM_OK : PM_ECORRUPT;
	if (!rc && json_array_size(it) && !(s->items = calloc(json_array_size(it), sizeof(*s->items))))
		rc = PM_ENOMEM;
	if (!rc && json_array_size(rd) && !(s->redeemed = calloc(json_array_size(rd), sizeof(*s->redeemed))))
		rc = PM_ENOMEM;
	for (size_t i = 0; !rc && i < json_array_size(it); i++) {
		json_t *o = json_array_get(it, i);
		struct wire_item *w = &s->items[s->n_items++];
		snprintf(w->gtin, sizeof(w->gtin), "%s", json_string_value(json_object_get(o, "gtin")) ?
			 json_string_value(json_object_get(o, "gtin")) : "");
		w->qty = (int32_t)json_integer_value(json_object_get(o, "qty"));
		w->unit_price_cents = json_integer_value(json_object_get(o, "price_cents"));
		w->line_cents = json_integer_value(json_object_get(o, "line_cents"));
	}
	for (size_t i = 0; !rc && i < json_array_size(rd); i++) {
		json_t *o = json_array_get(rd, i);
		struct wire_redemption *w = &s->redeemed[s->n_redeemed++];
		snprintf(w->coupon, sizeof(w->coupon), "%s", json_string_value(json_object_get(o, "coupon")) ?
			 json_string_value(json_object_get(o, "coupon")) : "");
		w->discount_cents = json_integer_value(json_object_get(o, "discount_cents"));
	}
	json_decref(it);
	json_decref(rd);
	return rc;
}

/* The stored row (columns of sale_lookup's query) as a v2 sale; items/redeemed malloc'd. */
static int sale_from_row(PGresult *r, const char *terminal, const char *seq, struct wire_sale *s)
{
	s->seq = strtoull(seq, NULL, 10);
	snprintf(s->terminal, sizeof(s->terminal), "%s", terminal);
	s->time_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	snprintf(s->currency, sizeof(s->currency), "%s", PQgetvalue(r, 0, 3));
	snprintf(s->tender, sizeof(s->tender), "%s", PQgetvalue(r, 0, 4));
	s->total_cents = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
	s->discount_cents = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
	s->tendered_cents = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
	s->points_earned = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
	s->type = !strcmp(PQgetvalue(r, 0, 11), "return") ? WIRE_SALE_RETURN : WIRE_SALE_SALE;
	snprintf(s->return_of_terminal, sizeof(s->return_of_terminal), "%s", PQgetvalue(r, 0, 12));
	s->return_of_seq = strtoull(PQgetvalue(r, 0, 13), NULL, 10);
	s->points_spent = strtoll(PQgetvalue(r, 0, 14), NULL, 10);
	s->point_value_cents = strtoll(PQgetvalue(r, 0, 15), NULL, 10);
	s->refund_cents = strtoll(PQgetvalue(r, 0, 16), NULL, 10);
	return sale_arrays(PQgetvalue(r, 0, 9), PQgetvalue(r, 0, 10), s);
}

/* The sale's ledger entries (key STORE/TERMINAL). */
static int sale_entries(PGconn *c, const char *key, const char *seq, struct wire_sale *s)
{
	const char *kv[2] = { key, seq };
	PGresult *r = PQexecParams(c, "SELECT kind, points FROM ledger WHERE terminal_key = $1 AND seq = $2::bigint"
				   " ORDER BY kind", 2, NULL, kv, NULL, NULL, 0);
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? PM_OK : PM_EIO;
	for (int i = 0; !rc && i < PQntuples(r) && i < WIRE_LEDGER_PER_SALE; i++) {
		s->ledger[s->n_ledger].kind = wire_ledger_kind_parse(PQgetvalue(r, i, 0));
		s->ledger[s->n_ledger++].points = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	}
	PQclear(r);
	return rc;
}

/* What returns of terminal:seq HQ has seen: units per GTIN, money, points. */
static int returns_of(PGconn *c, const char *terminal, const char *seq, struct wire_sale_lookup *l)
{
	const char *rv[2] = { terminal, seq };
	PGresult *r = PQexecParams(c, "SELECT i.gtin, sum(i.qty) FROM sales s CROSS JOIN jsonb_to_recordset(s.items)"
				   " AS i(gtin text, qty int) WHERE s.type = 'return' AND s.return_of_terminal = $1"
				   " AND s.return_of_seq = $2::bigint GROUP BY i.gtin ORDER BY i.gtin", 2, NULL, rv, NULL, NULL, 0);
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? PM_OK : PM_EIO;
	if (!rc && PQntuples(r) && !(l->returned = calloc((size_t)PQntuples(r), sizeof(*l->returned))))
		rc = PM_ENOMEM;
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		snprintf(l->returned[i].gtin, sizeof(l->returned[i].gtin), "%s", PQgetvalue(r, i, 0));
		l->returned[i].qty = (int32_t)strtol(PQgetvalue(r, i, 1), NULL, 10);
		l->n_returned++;
	}
	PQclear(r);
	if (rc)
		return rc;
	r = PQexecParams(c, "SELECT coalesce(sum(s.refund_cents), 0), coalesce(-sum(l.points), 0) FROM sales s"
			 " LEFT JOIN ledger l ON l.terminal_key = s.store_id || '/' || s.terminal AND l.seq = s.seq"
			 " AND l.kind = 'clawback' WHERE s.type = 'return' AND s.return_of_terminal = $1"
			 " AND s.return_of_seq = $2::bigint", 2, NULL, rv, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		l->refund_cents = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		l->points_clawed_back = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	} else {
		rc = PM_EIO;
	}
	PQclear(r);
	return rc;
}

static void sale_lookup(PGconn *c, const char *store, const char *terminal, const char *seq, struct hq_answer *out)
{
	struct wire_sale_lookup l;
	const char *pv[3] = { terminal, seq, store };
	char key[2 * WIRE_ID_MAX + 2];
	PGresult *r;
	int rc;
	memset(&l, 0, sizeof(l));
	if (hqi_exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, 0))
		return db_unavailable(out, c, "sale lookup");
	/* terminal ids should be unique in the chain; where two stores share one, the asking store's wins */
	r = PQexecParams(c, "SELECT store_id, time_us, coalesce(card, ''), currency, tender, total_cents, discount_cents,"
			 " tendered_cents, points_earned, items::text, redeemed::text, type, coalesce(return_of_terminal, ''),"
			 " coalesce(return_of_seq, 0), points_spent, point_value_cents, refund_cents FROM sales"
			 " WHERE terminal = $1 AND seq = $2::bigint ORDER BY (store_id = $3) DESC, store_id LIMIT 1",
			 3, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return db_unavailable(out, c, "sale lookup");
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		answer_json(out, 404, "not_found", "HQ has no such sale (not uploaded yet, or another chain's)");
		return;
	}
	snprintf(key, sizeof(key), "%s/%s", PQgetvalue(r, 0, 0), terminal);
	char ref[HQV_REF_LEN + 1], err[300];
	snprintf(ref, sizeof(ref), "%s", PQgetvalue(r, 0, 2));
	rc = sale_from_row(r, terminal, seq, &l.sale);
	PQclear(r);
	/* the card's number from the vault; an erased card's sale goes without one */
	if (!rc && ref[0] && (rc = hqv_number_of(c, ref, l.sale.card, err, sizeof(err))) == PM_ENOENT)
		rc = PM_OK;
	if (rc && rc != PM_ENOMEM && rc != PM_ECORRUPT)
		rc = PM_EIO;
	rc = rc ? rc : sale_entries(c, key, seq, &l.sale);
	rc = rc ? rc : returns_of(c, terminal, seq, &l);
	hqi_exec_ok(c, "COMMIT", NULL, 0);
	rc = rc ? rc : wire_sale_lookup_encode(&l, out->body);
	free(l.returned);
	free(l.sale.items);
	free(l.sale.redeemed);
	if (rc == PM_EIO)
		return db_unavailable(out, c, "sale lookup");
	if (rc) {
		pm_err("cannot encode sale %s:%s for store '%s': %s", terminal, seq, store, pm_strerror(rc));
		answer_json(out, 500, "error", "HQ could not encode the sale; see HQ's log");
		return;
	}
	out->status = 200;
	out->type = "application/json";
}

static void coupon_status(PGconn *c, const char *code, struct hq_answer *out)
{
	struct wire_coupon_status st;
	const char *pv[1] = { code };
	memset(&st, 0, sizeof(st));
	PGresult *r = PQexecParams(c, "SELECT terminal, seq FROM coupon_redemptions WHERE coupon = $1"
				   " ORDER BY time_us, terminal, seq LIMIT 1", 1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return db_unavailable(out, c, "coupon status");
	}
	snprintf(st.coupon, sizeof(st.coupon), "%s", code);
	if (PQntuples(r)) {
		st.redeemed = true;
		snprintf(st.terminal, sizeof(st.terminal), "%s", PQgetvalue(r, 0, 0));
		st.seq = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	if (wire_coupon_status_encode(&st, out->body)) {
		answer_json(out, 500, "error", "HQ could not encode the coupon status");
		return;
	}
	out->status = 200;
	out->type = "application/json";
}

/* ---- routing ----------------------------------------------------------------------- */

void hq_accounts_handle(PGconn *db, const char *store, const char *terminal, const char *url, const char *method,
			const char *after, const char *limit, struct hq_answer *out)
{
	out->status = 500;
	out->type = "application/json";
	if (strcmp(method, "GET"))
		return answer_json(out, 405, "rejected", "only GET is served here; see docs/accounts.md");
	if (!strncmp(url, "/v1/sales/", 10)) {
		char t[WIRE_ID_MAX + 1];
		const char *rest = url + 10, *slash = strrchr(rest, '/');
		size_t tl = slash ? (size_t)(slash - rest) : 0;
		if (!slash || tl == 0 || tl > WIRE_ID_MAX || !all_digits(slash + 1, 18) || slash[1] == '0')
			return answer_json(out, 400, "rejected", "want /v1/sales/TERMINAL/SEQ (seq a positive number)");
		snprintf(t, sizeof(t), "%.*s", (int)tl, rest);
		return sale_lookup(db, store, t, slash + 1, out);
	}
	if (!strncmp(url, "/v1/coupons/", 12)) {
		const char *code = url + 12;
		if (!*code || strlen(code) > WIRE_COUPON_MAX)
			return answer_json(out, 400, "rejected", "want /v1/coupons/CODE (1 to 63 bytes)");
		return coupon_status(db, code, out);
	}
	if (!terminal || !*terminal || strlen(terminal) > WIRE_ID_MAX)
		return answer_json(out, 400, "rejected", "X-Posmark-Terminal missing: the account state is computed "
				   "for one terminal (its included_sale_seq); send the till's terminal id");
	if (!strncmp(url, "/v1/accounts/", 13)) {
		if (!all_digits(url + 13, WIRE_CARD_MAX))
			return answer_json(out, 400, "rejected", "want /v1/accounts/CARD (1 to 19 digits)");
		return accounts_page(db, store, terminal, url + 13, 0, 1, out);
	}
	uint64_t a = 0;
	long n = WIRE_ACCOUNTS_PAGE_MAX;
	if (after && *after) {
		if (!all_digits(after, 18))
			return answer_json(out, 400, "rejected", "after= must be the cursor HQ sent (a number)");
		a = strtoull(after, NULL, 10);
	}
	if (limit && *limit) {
		if (!all_digits(limit, 5) || (n = strtol(limit, NULL, 10)) < 1 || n > WIRE_ACCOUNTS_PAGE_MAX)
			return answer_json(out, 400, "rejected", "limit= must be 1 to 5000");
	}
	accounts_page(db, store, terminal, NULL, a, (int)n, out);
}
