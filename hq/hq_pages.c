/*
 * hq_pages.c - the console's page data (hq_pages.h; issue 18): the page
 * list, parameters and their defaults, the document helpers, and the
 * overview, liability and tiers pages (stores: hq_pages_stores.c). Every page reads the rollup
 * tables ingest maintains (hq_rollup.c), never a scan of sales or events:
 * docs/console.md, "Page data", defines each figure.
 */
#include "hq/hq_pages_int.h"
#include "hq/hq_rollup_int.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_US INT64_C(86400000000)

static const char *const page_names[] = { "overview", "liability", "tiers", "campaigns", "segments", "cohorts",
					  "stores", NULL };

const char *const *hq_page_names(void)
{
	return page_names;
}

/* ---- document helpers ------------------------------------------------------ */

json_t *hqp_doc(const struct hqp_ctx *x, const char *page, const char *title)
{
	const struct hq_page_params *p = &x->p;
	json_t *params = json_pack("{s:I, s:I, s:s, s:s, s:i, s:i}", "from_us", (json_int_t)p->from_us, "to_us",
				   (json_int_t)p->to_us, "store", p->store, "campaign", p->campaign, "window_days",
				   p->window_days, "limit", p->limit);
	return json_pack("{s:s, s:s, s:I, s:o, s:s, s:[], s:[], s:[], s:[]}", "page", page, "title", title, "as_of_us",
			 (json_int_t)x->now_us, "params", params, "currency", x->currency, "tables", "charts",
			 "figures", "notes");
}

PGresult *hqp_query(struct hqp_ctx *x, const char *sql, int n, const char *const *pv)
{
	PGresult *r = PQexecParams(x->c, sql, n, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	snprintf(x->err, x->errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

int64_t hqp_int(PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? 0 : strtoll(PQgetvalue(r, i, j), NULL, 10);
}

json_t *hqp_value(const char *type, PGresult *r, int i, int j)
{
	if (PQgetisnull(r, i, j))
		return json_null();
	const char *v = PQgetvalue(r, i, j);
	if (!strcmp(type, "int") || !strcmp(type, "cents") || !strcmp(type, "points") || !strcmp(type, "date"))
		return json_integer(strtoll(v, NULL, 10));
	if (!strcmp(type, "ratio"))
		return json_real(strtod(v, NULL));
	return json_string(v);
}

json_t *hqp_table(json_t *doc, const char *name, const char *title, const struct hqp_col *cols, int ncols)
{
	json_t *jc = json_array(), *rows = json_array();
	for (int k = 0; k < ncols; k++)
		json_array_append_new(jc, json_pack("{s:s, s:s, s:s}", "key", cols[k].key, "label", cols[k].label,
						    "type", cols[k].type));
	json_array_append_new(json_object_get(doc, "tables"),
			      json_pack("{s:s, s:s, s:o, s:o}", "name", name, "title", title, "columns", jc, "rows", rows));
	return rows;
}

int hqp_table_sql(struct hqp_ctx *x, json_t *doc, const char *name, const char *title, const struct hqp_col *cols,
		  int ncols, const char *sql, int n, const char *const *pv)
{
	PGresult *r = hqp_query(x, sql, n, pv);
	if (!r)
		return PM_EIO;
	json_t *rows = hqp_table(doc, name, title, cols, ncols);
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *row = json_array();
		for (int k = 0; k < ncols; k++)
			json_array_append_new(row, hqp_value(cols[k].type, r, i, k));
		json_array_append_new(rows, row);
	}
	PQclear(r);
	return PM_OK;
}

void hqp_figure(json_t *doc, const char *key, const char *label, const char *type, json_t *value)
{
	json_array_append_new(json_object_get(doc, "figures"),
			      json_pack("{s:s, s:s, s:s, s:o}", "key", key, "label", label, "type", type, "value",
					value ? value : json_null()));
}

json_int_t hqp_figures_per_row(json_t *doc, size_t table, const char *prefix, size_t count_col)
{
	json_t *rows = json_object_get(json_array_get(json_object_get(doc, "tables"), table), "rows"), *row;
	size_t i;
	json_int_t all = 0;
	json_array_foreach(rows, i, row) {
		const char *name = json_string_value(json_array_get(row, 0));
		json_int_t n = json_integer_value(json_array_get(row, count_col));
		char key[64];
		snprintf(key, sizeof(key), "%s%s", prefix, name ? name : "");
		hqp_figure(doc, key, name ? name : "", "int", json_integer(n));
		all += n;
	}
	return all;
}

void hqp_chart(json_t *doc, const char *type, const char *title, const char *table, const char *x, const char *ys)
{
	json_t *y = json_array();
	for (const char *p = ys; *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(y, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	json_array_append_new(json_object_get(doc, "charts"), json_pack("{s:s, s:s, s:s, s:s, s:o}", "type", type,
									  "title", title, "table", table, "x", x, "y", y));
}

void hqp_note(json_t *doc, const char *text)
{
	json_array_append_new(json_object_get(doc, "notes"), json_string(text));
}

/* ---- parameters ---------------------------------------------------------------- */

static int month_of(int64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

static int resolve(struct hqp_ctx *x, const char *page)
{
	struct hq_page_params *p = &x->p;
	x->now_us = pm_now_us();
	if (!p->to_us)
		p->to_us = x->now_us;
	/* cohorts look back a year by default; every other page 90 days */
	if (!p->from_us)
		p->from_us = p->to_us - (strcmp(page, "cohorts") ? 90 : 365) * DAY_US;
	if (p->from_us >= p->to_us) {
		snprintf(x->err, x->errlen, "the period is empty (from %" PRId64 " is not before to %" PRId64 "):"
			 " give from_us < to_us, or 0 for the defaults", p->from_us, p->to_us);
		return PM_EINVAL;
	}
	if (p->window_days <= 0)
		p->window_days = 14;
	if (p->window_days > HQR_MAX_WINDOW_DAYS)
		p->window_days = HQR_MAX_WINDOW_DAYS;
	if (p->limit <= 0)
		p->limit = 100;
	if (p->limit > 10000)
		p->limit = 10000;
	x->from_day = (int)(p->from_us / DAY_US);
	x->to_day = (int)((p->to_us - 1) / DAY_US);
	x->from_month = month_of(p->from_us);
	x->to_month = month_of(p->to_us - 1);
	snprintf(x->s_from_day, sizeof(x->s_from_day), "%d", x->from_day);
	snprintf(x->s_to_day, sizeof(x->s_to_day), "%d", x->to_day);
	snprintf(x->s_from_month, sizeof(x->s_from_month), "%d", x->from_month);
	snprintf(x->s_to_month, sizeof(x->s_to_month), "%d", x->to_month);
	snprintf(x->s_from_us, sizeof(x->s_from_us), "%" PRId64, p->from_us);
	snprintf(x->s_to_us, sizeof(x->s_to_us), "%" PRId64, p->to_us);
	/* money figures are in the currency of most of the period's sales */
	const char *pv[3] = { x->s_from_day, x->s_to_day, p->store };
	PGresult *r = hqp_query(x, "SELECT currency FROM rollup_store_day WHERE day BETWEEN $1::int AND $2::int"
				" AND ($3 = '' OR store_id = $3) GROUP BY 1 ORDER BY sum(sales) DESC, 1 LIMIT 1", 3, pv);
	if (!r)
		return PM_EIO;
	snprintf(x->currency, sizeof(x->currency), "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return PM_OK;
}

json_t *hq_page_data(PGconn *c, const char *page, const struct hq_page_params *p, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		json_t *(*fn)(struct hqp_ctx *x);
	} pages[] = { { "overview", hqp_overview }, { "liability", hqp_liability }, { "tiers", hqp_tiers },
		      { "campaigns", hqp_campaigns }, { "segments", hqp_segments }, { "cohorts", hqp_cohorts },
		      { "stores", hqp_stores } };
	struct hqp_ctx x = { .c = c, .err = err, .errlen = errlen };
	if (p)
		x.p = *p;
	x.p.store[sizeof(x.p.store) - 1] = x.p.campaign[sizeof(x.p.campaign) - 1] = '\0';
	err[0] = '\0';
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		if (strcmp(page, pages[i].name))
			continue;
		if (resolve(&x, page))
			return NULL;
		json_t *doc = pages[i].fn(&x);
		if (!doc && !err[0])
			snprintf(err, errlen, "out of memory building page '%s'", page);
		return doc;
	}
	snprintf(err, errlen, "no such page '%s' (PM_ENOENT): the pages are overview, liability, tiers, campaigns,"
		 " segments, cohorts, stores", page);
	return NULL;
}

/* ---- overview ------------------------------------------------------------------ */

#define STORE_DAYS "FROM rollup_store_day WHERE day BETWEEN $1::int AND $2::int AND ($3 = '' OR store_id = $3)" \
	" AND currency = $4"

json_t *hqp_overview(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "overview", "Program overview");
	const char *pv[4] = { x->s_from_day, x->s_to_day, x->p.store, x->currency };
	const char *mv[2] = { x->s_from_month, x->s_to_month };
	PGresult *r = hqp_query(x, "SELECT sum(sales), sum(sales_cents), sum(returns), sum(refund_cents),"
				" sum(member_sales), sum(discount_cents) " STORE_DAYS, 4, pv);
	PGresult *m = r ? hqp_query(x, "SELECT (SELECT sum(cards) FROM rollup_cohort WHERE cohort = month"
				    " AND month <= $2::int), (SELECT sum(cards) FROM rollup_cohort WHERE month = $2::int),"
				    " (SELECT sum(cards) FROM rollup_cohort WHERE cohort = month AND month BETWEEN $1::int"
				    " AND $2::int)", 2, mv) : NULL;
	if (!m) {
		PQclear(r);
		json_decref(doc);
		return NULL;
	}
	int64_t sales = hqp_int(r, 0, 0), cents = hqp_int(r, 0, 1);
	hqp_figure(doc, "members", "Members (cards with a sale, up to the period's end month)", "int",
		   json_integer(hqp_int(m, 0, 0)));
	hqp_figure(doc, "active_members", "Active members (cards with a sale in the period's end month)", "int",
		   json_integer(hqp_int(m, 0, 1)));
	hqp_figure(doc, "new_members", "New members (first sale in the period's months)", "int",
		   json_integer(hqp_int(m, 0, 2)));
	hqp_figure(doc, "sales", "Sales", "int", json_integer(sales));
	hqp_figure(doc, "sales_cents", "Sales value", "cents", json_integer(cents));
	hqp_figure(doc, "average_basket_cents", "Average basket", "cents",
		   sales ? json_integer((cents + sales / 2) / sales) : json_null());
	hqp_figure(doc, "member_sales_share", "Sales with a card", "ratio",
		   sales ? json_real((double)hqp_int(r, 0, 4) / (double)sales) : json_null());
	hqp_figure(doc, "returns", "Returns", "int", json_integer(hqp_int(r, 0, 2)));
	hqp_figure(doc, "refund_cents", "Refunded", "cents", json_integer(hqp_int(r, 0, 3)));
	hqp_figure(doc, "discount_cents", "Discounts given", "cents", json_integer(hqp_int(r, 0, 5)));
	PQclear(r);
	PQclear(m);
	static const struct hqp_col day_cols[] = {
		{ "day", "Day", "day" }, { "sales", "Sales", "int" }, { "sales_cents", "Sales value", "cents" },
		{ "average_basket_cents", "Average basket", "cents" }, { "member_sales", "Sales with a card", "int" },
		{ "returns", "Returns", "int" }, { "refund_cents", "Refunded", "cents" },
	};
	static const struct hqp_col month_cols[] = {
		{ "month", "Month", "text" }, { "new_members", "New members", "int" },
		{ "active_members", "Active members", "int" },
	};
	if (hqp_table_sql(x, doc, "by_day", "Sales by day", day_cols, 7,
			  "SELECT " HQP_DAY_TEXT("day") ", sum(sales), sum(sales_cents),"
			  " round(sum(sales_cents)::numeric / nullif(sum(sales), 0)), sum(member_sales), sum(returns),"
			  " sum(refund_cents) " STORE_DAYS " GROUP BY day ORDER BY day", 4, pv) ||
	    hqp_table_sql(x, doc, "by_month", "Members by month", month_cols, 3,
			  "SELECT " HQP_MONTH_TEXT("month") ", sum(cards) FILTER (WHERE cohort = month), sum(cards)"
			  " FROM rollup_cohort WHERE month BETWEEN $1::int AND $2::int GROUP BY month ORDER BY month", 2,
			  mv)) {
		json_decref(doc);
		return NULL;
	}
	hqp_chart(doc, "line", "Sales value by day", "by_day", "day", "sales_cents");
	hqp_chart(doc, "bar", "Returns by day", "by_day", "day", "returns");
	hqp_chart(doc, "bar", "Members by month", "by_month", "month", "new_members,active_members");
	if (x->p.store[0])
		hqp_note(doc, "members, active and new members are the chain's (a card belongs to the chain)");
	return doc;
}

/* ---- points liability ------------------------------------------------------------- */

/* Each kind's sum, signed as the ledger holds it (spend, expiry, clawback are negative). */
#define KIND_SUMS_W(w) "coalesce(sum(points) FILTER (WHERE kind IN ('earn', 'bonus', 'import')" w "), 0),"      \
	" coalesce(-sum(points) FILTER (WHERE kind = 'spend'" w "), 0),"                                          \
	" coalesce(-sum(points) FILTER (WHERE kind = 'expiry'" w "), 0),"                                         \
	" coalesce(-sum(points) FILTER (WHERE kind = 'clawback'" w "), 0),"                                       \
	" coalesce(sum(points) FILTER (WHERE kind = 'adjust'" w "), 0), coalesce(sum(points) FILTER (WHERE true" w "), 0)"
#define KIND_SUMS KIND_SUMS_W("")

json_t *hqp_liability(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "liability", "Points liability");
	const char *pv[3] = { x->s_from_day, x->s_to_day, x->p.store };
	PGresult *r = hqp_query(x, "SELECT " KIND_SUMS ", (SELECT sum(points) FROM rollup_ledger_day"
				" WHERE day <= $2::int AND ($3 = '' OR store_id = $3)) FROM rollup_ledger_day"
				" WHERE day BETWEEN $1::int AND $2::int AND ($3 = '' OR store_id = $3)", 3, pv);
	PGresult *n = r ? hqp_query(x, "SELECT count(*), sum(points) FROM accounts WHERE points < 0", 0, NULL) : NULL;
	if (!n) {
		PQclear(r);
		json_decref(doc);
		return NULL;
	}
	static const char *const keys[] = { "issued", "spent", "expired", "clawed_back", "adjusted", "net" };
	static const char *const labels[] = { "Points issued (earn, bonus, import)", "Points spent", "Points expired",
					      "Points clawed back (returns)", "Adjustments (net)", "Net change in the period" };
	for (int k = 0; k < 6; k++)
		hqp_figure(doc, keys[k], labels[k], "points", json_integer(hqp_int(r, 0, k)));
	hqp_figure(doc, "outstanding", "Outstanding at the period's end", "points", json_integer(hqp_int(r, 0, 6)));
	hqp_figure(doc, "negative_balances", "Cards with a negative balance (now)", "int", json_integer(hqp_int(n, 0, 0)));
	hqp_figure(doc, "negative_points", "Their balances together (now)", "points", json_integer(hqp_int(n, 0, 1)));
	PQclear(r);
	PQclear(n);
	static const struct hqp_col store_cols[] = {
		{ "store", "Store", "store" }, { "issued", "Issued", "points" }, { "spent", "Spent", "points" },
		{ "expired", "Expired", "points" }, { "clawed_back", "Clawed back", "points" },
		{ "adjusted", "Adjusted", "points" }, { "net", "Net in the period", "points" },
		{ "outstanding", "Outstanding at the end", "points" },
	};
	static const struct hqp_col day_cols[] = {
		{ "day", "Day", "day" }, { "issued", "Issued", "points" }, { "spent", "Spent", "points" },
		{ "expired", "Expired", "points" }, { "clawed_back", "Clawed back", "points" },
		{ "adjusted", "Adjusted", "points" }, { "net", "Net", "points" },
	};
	if (hqp_table_sql(x, doc, "by_store", "By store (HQ's own entries: store \"\")", store_cols, 8,
			  "SELECT store_id, " KIND_SUMS_W(" AND day >= $1::int") ","
			  " sum(points) FROM rollup_ledger_day WHERE day <= $2::int AND ($3 = '' OR store_id = $3)"
			  " GROUP BY store_id ORDER BY store_id", 3, pv) ||
	    hqp_table_sql(x, doc, "by_day", "By day", day_cols, 7,
			  "SELECT " HQP_DAY_TEXT("day") ", " KIND_SUMS " FROM rollup_ledger_day WHERE day BETWEEN"
			  " $1::int AND $2::int AND ($3 = '' OR store_id = $3) GROUP BY day ORDER BY day", 3, pv)) {
		json_decref(doc);
		return NULL;
	}
	hqp_chart(doc, "stacked_bar", "Points by day", "by_day", "day", "issued,spent,expired");
	hqp_chart(doc, "bar", "Outstanding by store", "by_store", "store", "outstanding");
	return doc;
}

/* ---- tiers ------------------------------------------------------------------------ */

json_t *hqp_tiers(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "tiers", "Members by tier");
	const char *mv[2] = { x->s_from_month, x->s_to_month };
	static const struct hqp_col tier_cols[] = {
		{ "tier", "Tier", "text" }, { "threshold_cents", "Spend from (12 months)", "cents" },
		{ "members", "Members", "int" }, { "share", "Share", "ratio" },
	};
	static const struct hqp_col move_cols[] = {
		{ "from_tier", "From", "text" }, { "to_tier", "To", "text" }, { "members", "Members", "int" },
	};
	static const struct hqp_col month_cols[] = {
		{ "month", "Month", "text" }, { "joined", "Joined", "int" }, { "up", "Moved up", "int" },
		{ "down", "Moved down", "int" },
	};
	if (hqp_table_sql(x, doc, "by_tier", "Members by tier (as of each member's last visit)", tier_cols, 4,
			  "SELECT t.name, t.threshold_cents, coalesce(k.cards, 0),"
			  " coalesce(k.cards, 0)::float8 / nullif(sum(coalesce(k.cards, 0)) OVER (), 0)"
			  " FROM rollup_tiers t LEFT JOIN rollup_tier k ON k.tier = t.tier ORDER BY t.tier", 0, NULL) ||
	    hqp_table_sql(x, doc, "movement", "Tier movement in the period's months", move_cols, 3,
			  "SELECT coalesce(f.name, CASE WHEN m.from_tier < 0 THEN 'new member' END), t.name, sum(m.cards)"
			  " FROM rollup_tier_move m LEFT JOIN rollup_tiers f ON f.tier = m.from_tier"
			  " LEFT JOIN rollup_tiers t ON t.tier = m.to_tier WHERE m.month BETWEEN $1::int AND $2::int"
			  " GROUP BY m.from_tier, m.to_tier, f.name, t.name HAVING sum(m.cards) <> 0"
			  " ORDER BY m.from_tier, m.to_tier", 2, mv) ||
	    hqp_table_sql(x, doc, "by_month", "Movement by month", month_cols, 4,
			  "SELECT " HQP_MONTH_TEXT("month") ", sum(cards) FILTER (WHERE from_tier < 0),"
			  " sum(cards) FILTER (WHERE from_tier >= 0 AND to_tier > from_tier),"
			  " sum(cards) FILTER (WHERE from_tier >= 0 AND to_tier < from_tier) FROM rollup_tier_move"
			  " WHERE month BETWEEN $1::int AND $2::int GROUP BY month ORDER BY month", 2, mv)) {
		json_decref(doc);
		return NULL;
	}
	/* the figures: each tier's count from the table just built */
	json_int_t all = hqp_figures_per_row(doc, 0, "tier_", 2);
	hqp_figure(doc, "members", "Members", "int", json_integer(all));
	hqp_chart(doc, "bar", "Members by tier", "by_tier", "tier", "members");
	hqp_chart(doc, "stacked_bar", "Tier movement by month", "by_month", "month", "joined,up,down");
	if (x->p.store[0])
		hqp_note(doc, "tiers are the chain's: the store filter does not apply");
	return doc;
}
