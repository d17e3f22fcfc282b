/*
 * hq_rollup_cards.c - the per-card rollups of one sales batch (rollup_card
 * and the counts derived from it: cohorts, tiers, tier movement, RFM),
 * computed here from the batch's decoded sales and each card's old row, and
 * written back in a few statements (docs/console.md, "Page data").
 *
 * Why in C: the batch's rows are already decoded in memory, so a card's new
 * state is one pass over them and one read of its old row. Doing the same
 * in SQL took five temporary tables and a per-card-month table
 * (rollup_card_month, one more row upsert per card and batch); it was the
 * largest cost of ingest at 10,000,000 sales (docs/benchmarks.md). The
 * months a card needs are kept in its own row instead: `active` (months
 * with a sale: the cohort counts) and `recent_m`/`recent_s` (spend per
 * month from 11 months before the last visit's month on: the tier window;
 * every month while the card has no visit). The last visit only moves
 * later, so a month pruned from `recent` can never come back into a window.
 * Since migration 12 the row is the card's accounts row (rollup_card is a view
 * of it): the new rows are staged (hqr_cards_stage) and written by the accounts'
 * own statements, one new version of a card's row per batch.
 *
 * Every batch of a card runs under HQI_SERIAL_LOCK (taken here), so two
 * receivers never compute from the same old row. rollup_rebuild()
 * (hq_rollup_schema.c) computes the same rows from sales; the tests compare.
 */
#include "hq/hq_rollup_int.h"
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(HQR_CARD_MAX >= HQV_REF_LEN + 1, "a card ref fits hqr_card_month.card");

#define WINDOW_MONTHS 12 /* the tier window: the last visit's month and the 11 before (docs/accounts.md) */

/* rollup_month(): UTC year * 12 + month - 1 */
static int month_of(int64_t us)
{
	time_t t = (time_t)(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return 0;
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

/* rollup_fb(), rollup_mb(): the RFM buckets (the same float operations as the SQL) */
static int freq_bucket(int64_t visits)
{
	return visits < 100 ? (int)visits : 100;
}

static int money_bucket(int64_t cents)
{
	return cents <= 0 ? 0 : 1 + (int)floor(10 * log10((double)cents));
}

static void drain(struct hqr_cards *b);

void hqr_cards_reset(struct hqr_cards *b)
{
	drain(b);
	b->n = 0;
}

void hqr_cards_free(struct hqr_cards *b)
{
	drain(b);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

int hqr_cards_sale(struct hqr_cards *b, const char *ref, bool fresh, const struct wire_sale *s)
{
	size_t len = strlen(ref);
	if (len >= HQR_CARD_MAX)
		return PM_EINVAL;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		struct hqr_card_month *v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	struct hqr_card_month *m = &b->v[b->n++];
	bool sale = s->type != WIRE_SALE_RETURN;
	memcpy(m->card, ref, len + 1);
	m->month = month_of(s->time_us);
	m->fresh = fresh;
	m->visits = sale;
	/* HQI_MONEY_SQL */
	m->spend = sale ? s->total_cents - s->points_spent * s->point_value_cents : -s->refund_cents;
	m->first_us = sale ? s->time_us : INT64_MAX;
	m->last_us = sale ? s->time_us : INT64_MIN;
	return PM_OK;
}

static int by_card_month(const void *x, const void *y)
{
	const struct hqr_card_month *a = x, *b = y;
	int c = strcmp(a->card, b->card);
	return c ? c : (a->month > b->month) - (a->month < b->month);
}

/* ---- a card's row ----------------------------------------------------------- */

struct months { int *m; int64_t *s; size_t n, cap; };

static int months_put(struct months *v, int month, int64_t spend)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		int *m = realloc(v->m, cap * sizeof(*m));
		if (!m)
			return PM_ENOMEM;
		v->m = m;
		int64_t *s = realloc(v->s, cap * sizeof(*s));
		if (!s)
			return PM_ENOMEM;
		v->s = s;
		v->cap = cap;
	}
	v->m[v->n] = month;
	v->s[v->n++] = spend;
	return PM_OK;
}

struct card_row {
	bool exists;
	int64_t first_us, last_us;    /* valid when visits > 0 */
	int64_t visits, spend, window;
	int tier, fm, lm;             /* fm, lm valid when visits > 0 */
	struct months active;         /* s unused */
	struct months recent;
};

/* "{1,2,3}" (an int or bigint array's text) into v's months (spend = 0) or spends */
static int parse_array(const char *t, struct months *v, bool spends)
{
	size_t i = 0;
	if (*t++ != '{')
		return PM_EINVAL;
	while (*t && *t != '}') {
		char *e;
		long long x = strtoll(t, &e, 10);
		if (e == t)
			return PM_EINVAL;
		if (spends) {
			if (i >= v->n)
				return PM_EINVAL;
			v->s[i++] = x;
		} else if (months_put(v, (int)x, 0)) {
			return PM_ENOMEM;
		}
		t = *e == ',' ? e + 1 : e;
	}
	return spends && i != v->n ? PM_EINVAL : PM_OK;
}

static int array_text(struct pm_buf *b, const struct months *v, bool spends)
{
	int rc = pm_buf_add(b, "{", 1);
	for (size_t i = 0; !rc && i < v->n; i++) {
		char t[24];
		int n = snprintf(t, sizeof(t), "%s%" PRId64, i ? "," : "", spends ? v->s[i] : (int64_t)v->m[i]);
		rc = pm_buf_add(b, t, (size_t)n);
	}
	return rc ? rc : pm_buf_add(b, "}", 1);
}

/* ---- the counts a batch moves ---------------------------------------------- */

/* one cell of rollup_cohort (k1 cohort, k2 month), rollup_tier (k1), rollup_tier_move
 * (month, from, to) or rollup_rfm (last_day, fb, mb), and what it moves by */
struct cell { int k1, k2, k3; int64_t d; };
struct cells { struct cell *v; size_t n, cap; };

static int cell_add(struct cells *c, int k1, int k2, int k3, int64_t d)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct cell *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct cell){ k1, k2, k3, d };
	return PM_OK;
}

static int by_cell(const void *x, const void *y)
{
	const struct cell *a = x, *b = y;
	if (a->k1 != b->k1)
		return (a->k1 > b->k1) - (a->k1 < b->k1);
	if (a->k2 != b->k2)
		return (a->k2 > b->k2) - (a->k2 < b->k2);
	return (a->k3 > b->k3) - (a->k3 < b->k3);
}

/* "INSERT INTO <table> AS x VALUES (..), .. ON CONFLICT (<keys>) DO UPDATE SET <col> = x.<col> +
 * EXCLUDED.<col>;" with each cell once (summed), cells that sum to 0 left out; nothing when none. */
static int cells_sql(struct pm_buf *sql, struct cells *c, int nkeys, const char *table, const char *keys,
		     const char *col)
{
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), by_cell);
	int rc = PM_OK, rows = 0;
	size_t mark = sql->len;
	for (size_t i = 0; !rc && i < c->n;) {
		size_t j = i;
		int64_t d = 0;
		for (; j < c->n && !by_cell(&c->v[i], &c->v[j]); j++)
			d += c->v[j].d;
		if (d) {
			char t[120];
			int n = nkeys == 1 ? snprintf(t, sizeof(t), "%s(%d,%" PRId64 ")", rows ? "," : "", c->v[i].k1, d)
			      : nkeys == 2 ? snprintf(t, sizeof(t), "%s(%d,%d,%" PRId64 ")", rows ? "," : "", c->v[i].k1,
						      c->v[i].k2, d)
			      : snprintf(t, sizeof(t), "%s(%d,%d,%d,%" PRId64 ")", rows ? "," : "", c->v[i].k1, c->v[i].k2,
					 c->v[i].k3, d);
			if (!rows) {
				char h[96];
				int hn = snprintf(h, sizeof(h), "INSERT INTO %s AS x VALUES ", table);
				rc = pm_buf_add(sql, h, (size_t)hn);
			}
			rc = rc ? rc : pm_buf_add(sql, t, (size_t)n);
			rows++;
		}
		i = j;
	}
	if (!rc && rows) {
		char t[200];
		int n = snprintf(t, sizeof(t), " ON CONFLICT (%s) DO UPDATE SET %s = x.%s + EXCLUDED.%s;\n", keys, col, col,
				 col);
		rc = pm_buf_add(sql, t, (size_t)n);
	}
	if (rc)
		sql->len = mark;
	return rc;
}

/* ---- one card: old row + the batch's months -> new row and the counts' moves ---- */


/* rollup_tier_of(): the highest tier whose threshold the spend reaches, else 0 */
static int tier_of(const struct hqr_tiers *t, int64_t cents)
{
	int best = 0;
	bool any = false;
	for (int i = 0; i < t->n; i++)
		if (t->threshold[i] <= cents && (!any || t->tier[i] > best)) {
			best = t->tier[i];
			any = true;
		}
	return any ? best : 0;
}

struct moves { struct cells cohort, tier, tier_move, rfm; };

static bool in_months(const struct months *v, int m)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->m[i] == m)
			return true;
	return false;
}

/* The counts a card's change moves: the old row's share out, the new row's in. */
static int card_moves(const struct card_row *o, const struct card_row *x, struct moves *mv)
{
	int rc = PM_OK;
	size_t i;
	bool was = o->exists && o->visits > 0, is = x->visits > 0;
	if (!was && is) {
		for (i = 0; !rc && i < x->active.n; i++)
			rc = cell_add(&mv->cohort, x->fm, x->active.m[i], 0, 1);
	} else if (was && x->fm == o->fm) {
		for (i = 0; !rc && i < x->active.n; i++)
			if (!in_months(&o->active, x->active.m[i]))
				rc = cell_add(&mv->cohort, x->fm, x->active.m[i], 0, 1);
	} else if (was) { /* a sale dated before its first: the card leaves its cohort whole */
		for (i = 0; !rc && i < o->active.n; i++)
			rc = cell_add(&mv->cohort, o->fm, o->active.m[i], 0, -1);
		for (i = 0; !rc && i < x->active.n; i++)
			rc = cell_add(&mv->cohort, x->fm, x->active.m[i], 0, 1);
	}
	if (!rc && was)
		rc = cell_add(&mv->tier, o->tier, 0, 0, -1);
	if (!rc && is)
		rc = cell_add(&mv->tier, x->tier, 0, 0, 1);
	if (!rc && is && (!was || o->tier != x->tier))
		rc = cell_add(&mv->tier_move, x->lm, was ? o->tier : -1, x->tier, 1);
	if (!rc && was)
		rc = cell_add(&mv->rfm, (int)(o->last_us / 86400000000LL), freq_bucket(o->visits),
			      money_bucket(o->spend), -1);
	if (!rc && is)
		rc = cell_add(&mv->rfm, (int)(x->last_us / 86400000000LL), freq_bucket(x->visits),
			      money_bucket(x->spend), 1);
	return rc;
}

/* Merge the batch's months of one card (b[0..n), sorted by month) into its row. */
static int card_next(const struct card_row *o, const struct hqr_card_month *b, size_t n, const struct hqr_tiers *tiers,
		     struct card_row *x, struct moves *mv)
{
	int rc = PM_OK;
	x->exists = o->exists;
	x->first_us = o->first_us;
	x->last_us = o->last_us;
	x->visits = o->visits;
	x->spend = o->spend;
	x->active.n = x->recent.n = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i].visits && (x->visits == 0 || b[i].first_us < x->first_us))
			x->first_us = b[i].first_us;
		if (b[i].visits && (x->visits == 0 || b[i].last_us > x->last_us))
			x->last_us = b[i].last_us;
		x->visits += b[i].visits;
		x->spend += b[i].spend;
	}
	x->fm = x->visits ? month_of(x->first_us) : 0;
	x->lm = x->visits ? month_of(x->last_us) : 0;
	/* active: old months and the batch's months with a sale, sorted */
	size_t i = 0, j = 0;
	while (!rc && (i < o->active.n || j < n)) {
		int m;
		if (j == n || (i < o->active.n && o->active.m[i] <= b[j].month)) {
			m = o->active.m[i++];
		} else if (!b[j].visits) {
			j++;
			continue;
		} else {
			m = b[j++].month;
		}
		if (!x->active.n || x->active.m[x->active.n - 1] != m)
			rc = months_put(&x->active, m, 0);
	}
	/* recent: old and batch spend per month, from lm - 11 on (every month without a visit) */
	int from = x->visits ? x->lm - (WINDOW_MONTHS - 1) : INT32_MIN;
	for (i = 0, j = 0; !rc && (i < o->recent.n || j < n);) {
		int m;
		int64_t s;
		if (j == n || (i < o->recent.n && o->recent.m[i] <= b[j].month)) {
			m = o->recent.m[i];
			s = o->recent.s[i++];
		} else {
			m = b[j].month;
			s = b[j++].spend;
		}
		if (m < from)
			continue;
		if (x->recent.n && x->recent.m[x->recent.n - 1] == m)
			x->recent.s[x->recent.n - 1] += s;
		else
			rc = months_put(&x->recent, m, s);
	}
	x->window = 0;
	for (i = 0; x->visits && i < x->recent.n; i++)
		if (x->recent.m[i] <= x->lm)
			x->window += x->recent.s[i];
	x->tier = tier_of(tiers, x->window);
	return rc ? rc : card_moves(o, x, mv);
}

/* The new row as COPY text of ROW_COLS. */
#define ROW_COLS "card, first_us, last_us, visits, spend_cents, window_cents, tier, mb, fm, lm, active, recent_m," \
	" recent_s"
static int row_text(struct pm_buf *b, const char *card, const struct card_row *x)
{
	char t[256];
	int n = x->visits
		? snprintf(t, sizeof(t), "%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%d\t%d\t%d\t%d\t",
			   card, x->first_us, x->last_us, x->visits, x->spend, x->window, x->tier,
			   money_bucket(x->spend), x->fm, x->lm)
		: snprintf(t, sizeof(t), "%s\t\\N\t\\N\t0\t%" PRId64 "\t%" PRId64 "\t%d\t%d\t\\N\t\\N\t", card, x->spend,
			   x->window, x->tier, money_bucket(x->spend));
	int rc = pm_buf_add(b, t, (size_t)n);
	rc = rc ? rc : array_text(b, &x->active, false);
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : array_text(b, &x->recent, false);
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : array_text(b, &x->recent, true);
	return rc ? rc : pm_buf_add(b, "\n", 1);
}

/* ---- the batch ------------------------------------------------------------------ */

static int load_tiers(PGconn *c, struct hqr_tiers *t, char *err, size_t errlen)
{
	PGresult *r = hqi_query(c, "SELECT tier, threshold_cents FROM rollup_tiers ORDER BY tier LIMIT 16", 0, NULL, false,
				err, errlen);
	if (!r)
		return PM_EIO;
	t->n = PQntuples(r);
	for (int i = 0; i < t->n; i++) {
		t->tier[i] = atoi(PQgetvalue(r, i, 0));
		t->threshold[i] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	}
	PQclear(r);
	return PM_OK;
}

#define OLD_ROWS "SELECT card, first_us, last_us, visits, spend_cents, tier, fm, active, recent_m, recent_s" \
	" FROM rollup_card WHERE card = ANY ($1::text[]) ORDER BY card COLLATE \"C\""

/* The batch's cards that may have a row (not made by this batch), distinct, as an array. */
static int old_rows_param(const struct hqr_cards *b, struct pm_buf *arr)
{
	int rc = pm_buf_add(arr, "{", 1);
	for (size_t i = 0; !rc && i < b->n; i++)
		if (!b->v[i].fresh && (!i || strcmp(b->v[i - 1].card, b->v[i].card))) {
			rc = pm_buf_add(arr, arr->len > 1 ? ",\"" : "\"", arr->len > 1 ? 2 : 1);
			for (const char *p = b->v[i].card; !rc && *p; p++) /* an array element, quoted */
				rc = (*p == '"' || *p == '\\' ? pm_buf_add(arr, "\\", 1) : PM_OK) ||
				     pm_buf_add(arr, p, 1) ? PM_ENOMEM : PM_OK;
			rc = rc ? rc : pm_buf_add(arr, "\"", 1);
		}
	return rc ? rc : pm_buf_add(arr, "}", 2);
}

/* The old rows: sent on the side connection (begin), or asked on c now (side NULL). */
static int old_rows_send(PGconn *conn, const struct hqr_cards *b, PGresult **now, char *err, size_t errlen)
{
	struct pm_buf arr = { 0 };
	if (old_rows_param(b, &arr)) {
		pm_buf_free(&arr);
		snprintf(err, errlen, "out of memory");
		return PM_ENOMEM;
	}
	const char *pv[1] = { arr.data };
	int rc = PM_OK;
	if (!now) {
		rc = PQsendQueryParams(conn, OLD_ROWS, 1, NULL, pv, NULL, NULL, 0) == 1 ? PM_OK : PM_EIO;
	} else {
		*now = PQexecParams(conn, OLD_ROWS, 1, NULL, pv, NULL, NULL, 0);
		if (PQresultStatus(*now) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(*now));
			PQclear(*now);
			*now = NULL;
			rc = PM_EIO;
		}
	}
	pm_buf_free(&arr);
	return rc;
}

/* The side read's result (every result consumed: the connection is free again); NULL when
 * it failed (the caller reads on the main connection; the side one is dropped). */
static PGresult *old_rows_collect(PGconn *main, PGconn *side)
{
	PGresult *r, *got = NULL;
	while ((r = PQgetResult(side))) {
		if (!got && PQresultStatus(r) == PGRES_TUPLES_OK)
			got = r;
		else
			PQclear(r);
	}
	if (!got) {
		pm_warn("the second connection's read of rollup rows failed: %s(read again on the main connection)",
			PQerrorMessage(side));
		hqi_side_drop(main);
	}
	return got;
}

static int old_row(PGresult *r, int i, struct card_row *o)
{
	o->exists = true;
	o->visits = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	o->first_us = o->visits ? strtoll(PQgetvalue(r, i, 1), NULL, 10) : 0;
	o->last_us = o->visits ? strtoll(PQgetvalue(r, i, 2), NULL, 10) : 0;
	o->spend = strtoll(PQgetvalue(r, i, 4), NULL, 10);
	o->tier = atoi(PQgetvalue(r, i, 5));
	o->fm = o->visits ? atoi(PQgetvalue(r, i, 6)) : 0;
	o->lm = o->visits ? month_of(o->last_us) : 0;
	o->active.n = o->recent.n = 0;
	int rc = parse_array(PQgetvalue(r, i, 7), &o->active, false);
	rc = rc ? rc : parse_array(PQgetvalue(r, i, 8), &o->recent, false);
	return rc ? rc : parse_array(PQgetvalue(r, i, 9), &o->recent, true);
}

/* Sort the batch's card months and sum repeats: one entry per (card, month). */
static void merge_months(struct hqr_cards *b)
{
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), by_card_month);
	size_t d = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct hqr_card_month *p = d ? &b->v[d - 1] : NULL, *q = &b->v[i];
		if (p && p->month == q->month && !strcmp(p->card, q->card)) {
			p->visits += q->visits;
			p->spend += q->spend;
			p->first_us = q->first_us < p->first_us ? q->first_us : p->first_us;
			p->last_us = q->last_us > p->last_us ? q->last_us : p->last_us;
		} else {
			b->v[d++] = *q;
		}
	}
	b->n = d;
}

/* Every card of the batch: its new row (COPY text in rows) and the moves. */
static int cards_next(PGresult *old, struct hqr_cards *b, const struct hqr_tiers *tiers, struct pm_buf *rows,
		      struct moves *mv, size_t *n_new, char *err, size_t errlen)
{
	struct card_row o = { 0 }, x = { 0 };
	int rc = PM_OK, k = 0, n_old = PQntuples(old);
	for (size_t i = 0; !rc && i < b->n;) {
		size_t j = i;
		while (j < b->n && !strcmp(b->v[j].card, b->v[i].card))
			j++;
		/* both lists by card in byte order: the old row is the next one, or none */
		while (k < n_old && strcmp(PQgetvalue(old, k, 0), b->v[i].card) < 0)
			k++;
		if (k < n_old && !strcmp(PQgetvalue(old, k, 0), b->v[i].card)) {
			if ((rc = old_row(old, k, &o))) {
				snprintf(err, errlen, "rollup_card row of %s does not parse", b->v[i].card);
				break;
			}
		} else {
			o.exists = false;
			o.visits = o.spend = 0;
			o.active.n = o.recent.n = 0;
			o.tier = 0;
			(*n_new)++;
		}
		rc = card_next(&o, &b->v[i], j - i, tiers, &x, mv);
		rc = rc ? rc : row_text(rows, b->v[i].card, &x);
		i = j;
	}
	free(o.active.m), free(o.active.s), free(o.recent.m), free(o.recent.s);
	free(x.active.m), free(x.active.s), free(x.recent.m), free(x.recent.s);
	if (rc && !err[0])
		snprintf(err, errlen, "out of memory");
	return rc;
}

/* The batch's new rows (COPY text of ROW_COLS) into the temporary table HQR_STAGED. */
static int copy_rows(PGconn *c, const struct pm_buf *rows, char *err, size_t errlen)
{
	if (!rows->len)
		return PM_OK;
	return hqi_exec_ok(c, "CREATE TEMP TABLE IF NOT EXISTS " HQR_STAGED " (card text, first_us bigint,"
			   " last_us bigint, visits bigint, spend_cents bigint, window_cents bigint, tier int, mb int,"
			   " fm int, lm int, active int[], recent_m int[], recent_s bigint[]) ON COMMIT DELETE ROWS",
			   err, errlen) ||
			       hqi_copy_in(c, "COPY " HQR_STAGED " FROM STDIN", rows->data, rows->len, err, errlen)
		       ? PM_EIO
		       : PM_OK;
}

/* The counts the batch's cards moved: one statement per table, one round trip. */
static int write_counts(PGconn *c, struct moves *mv, char *err, size_t errlen)
{
	struct pm_buf sql = { 0 };
	int rc = cells_sql(&sql, &mv->cohort, 2, "rollup_cohort", "cohort, month", "cards");
	rc = rc ? rc : cells_sql(&sql, &mv->tier, 1, "rollup_tier", "tier", "cards");
	rc = rc ? rc : cells_sql(&sql, &mv->tier_move, 3, "rollup_tier_move", "month, from_tier, to_tier", "cards");
	rc = rc ? rc : cells_sql(&sql, &mv->rfm, 3, "rollup_rfm", "last_day, fb, mb", "cards");
	rc = rc ? rc : pm_buf_add(&sql, "", 1);
	if (rc)
		snprintf(err, errlen, "out of memory");
	else if (sql.len > 1)
		rc = hqi_exec_ok(c, sql.data, err, errlen) ? PM_EIO : PM_OK;
	pm_buf_free(&sql);
	return rc;
}

/*
 * The read and the computation of a batch's new rows, begun under the lock: on a thread of
 * its own that waits for the second connection's rows and computes the new rows and counts
 * while the main connection writes the accounts (the two cores: this thread and the side
 * backend, the main backend), or here at finish when there is no second connection or its
 * read failed. Only this job touches the batch's card months between begin and finish.
 */
struct hqr_job {
	PGconn *main, *side;
	struct hqr_cards *b;
	pthread_t th;
	bool threaded;                /* th runs job_thread */
	bool have_rows;               /* the side read answered: the fields below are computed */
	int rc;
	struct pm_buf rows;           /* every card's new row */
	struct moves mv;
	size_t n_new, n_all;
	int64_t t_read, t_done;
	char err[256];
};

static void job_compute(struct hqr_job *j, PGresult *old)
{
	j->t_read = pm_mono_ns();
	j->have_rows = true;
	j->err[0] = '\0';
	j->rc = cards_next(old, j->b, &j->b->tiers, &j->rows, &j->mv, &j->n_new, j->err, sizeof(j->err));
	j->n_all = (size_t)PQntuples(old) + j->n_new;
	PQclear(old);
	j->t_done = pm_mono_ns();
}

static void *job_thread(void *arg)
{
	struct hqr_job *j = arg;
	PGresult *old = old_rows_collect(j->main, j->side);
	if (old)
		job_compute(j, old);
	return NULL;
}

static void job_free(struct hqr_job *j)
{
	if (!j)
		return;
	pm_buf_free(&j->rows);
	free(j->mv.cohort.v), free(j->mv.tier.v), free(j->mv.tier_move.v), free(j->mv.rfm.v);
	free(j);
}

/* Wait for the job's thread (its read always ends: the query answers or the connection
 * fails); the job stays for the caller. */
static void job_join(struct hqr_job *j)
{
	if (j && j->threaded) {
		pthread_join(j->th, NULL);
		j->threaded = false;
	}
}

static void drain(struct hqr_cards *b)
{
	job_join(b->job);
	job_free(b->job);
	b->job = NULL;
	b->begun = b->staged = false;
}

int hqr_cards_begin(PGconn *c, struct hqr_cards *b, char *err, size_t errlen)
{
	drain(b);
	if (!b->n)
		return PM_OK;
	b->t_begin = pm_mono_ns();
	merge_months(b);
	if (hqi_exec_ok(c, HQI_SERIAL_LOCK, err, errlen) || load_tiers(c, &b->tiers, err, errlen))
		return PM_EIO;
	b->begun = true;
	/* the lock is held: every other writer of these rows waits for this transaction's end,
	 * so another backend's read now sees them as this transaction will */
	PGconn *side = hqi_side_conn(c);
	struct hqr_job *j = side ? calloc(1, sizeof(*j)) : NULL;
	if (!j)
		return PM_OK; /* read at finish */
	j->main = c;
	j->side = side;
	j->b = b;
	if (old_rows_send(side, b, NULL, err, errlen)) {
		free(j);
		hqi_side_drop(c);
		return PM_OK;
	}
	b->job = j;
	/* without a thread the rows wait on the side connection until finish */
	j->threaded = pthread_create(&j->th, NULL, job_thread, j) == 0;
	return PM_OK;
}

/* The job with its rows computed: joined (its thread), or read and computed on c now when
 * there was no second connection or its read failed. NULL: out of memory or the read
 * failed (err). *aside: the rows came from the second connection. */
static struct hqr_job *job_ready(PGconn *c, struct hqr_cards *b, bool *aside, char *err, size_t errlen)
{
	struct hqr_job *j = b->job;
	b->job = NULL;
	if (j && j->threaded)
		job_join(j);
	else if (j)
		job_thread(j);
	*aside = j && j->have_rows;
	if (*aside)
		return j;
	PGresult *old;
	if (!j && !(j = calloc(1, sizeof(*j)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j->b = b;
	if (old_rows_send(c, b, &old, err, errlen)) {
		job_free(j);
		return NULL;
	}
	job_compute(j, old);
	return j;
}

int hqr_cards_stage(PGconn *c, struct hqr_cards *b, char *err, size_t errlen)
{
	if (!b->begun || b->staged)
		return 0;
	int64_t t0 = pm_mono_ns();
	bool aside;
	struct hqr_job *j = job_ready(c, b, &aside, err, errlen);
	if (!j)
		return PM_EIO;
	b->job = j; /* kept for finish (its counts); no thread runs any more */
	b->t_stage = pm_mono_ns() - t0;
	b->staged_aside = aside;
	if (j->rc) {
		snprintf(err, errlen, "%s", j->err[0] ? j->err : "out of memory");
		return PM_EIO;
	}
	if (copy_rows(c, &j->rows, err, errlen))
		return PM_EIO;
	b->staged = true;
	return j->rows.len ? 1 : 0;
}

int hqr_cards_finish(PGconn *c, struct hqr_cards *b, char *err, size_t errlen)
{
	if (!b->begun)
		return PM_OK;
	int64_t t0 = pm_mono_ns();
	struct hqr_job *j = b->job;
	bool staged = b->staged;
	b->job = NULL;
	b->begun = b->staged = false;
	if (!staged) { /* the accounts' statements never carried the rows: they would be lost */
		job_join(j);
		job_free(j);
		snprintf(err, errlen, "internal error: the batch's per-card rollups were never staged");
		return PM_EIO;
	}
	int rc = write_counts(c, &j->mv, err, errlen);
	if (hqr_timed())
		pm_info("rollup cards: %zu cards (%zu new): begun %.1f ms before; read and computed %s; %.1f ms waited"
			" for before the accounts (the rows went with their statements); counts written %.1f ms",
			j->n_all, j->n_new, (double)(t0 - b->t_begin) / 1e6,
			b->staged_aside ? "beside (second connection, own thread)" : "on the main connection",
			(double)b->t_stage / 1e6, (double)(pm_mono_ns() - t0) / 1e6);
	job_free(j);
	return rc;
}
