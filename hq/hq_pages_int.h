/*
 * hq_pages_int.h - what the page builders (hq_pages*.c) share: the resolved
 * parameters of one request and the helpers that build a page document
 * (hq_pages.h has its shape). Private to hq/.
 */
#ifndef HQ_PAGES_INT_H
#define HQ_PAGES_INT_H

#include "hq/hq_pages.h"

#include <stdbool.h>

/* One request: the caller's parameters after defaults, and the same as the
 * text parameters the SQL takes. */
struct hqp_ctx {
	PGconn *c;
	struct hq_page_params p;      /* after defaults (period, window, limit) */
	int64_t now_us;
	int from_day, to_day;         /* UTC days, inclusive: the period's whole days */
	int from_month, to_month;     /* UTC months (year * 12 + month - 1), inclusive */
	char s_from_day[16], s_to_day[16], s_from_month[16], s_to_month[16];
	char s_from_us[24], s_to_us[24];
	char currency[4];             /* the period's main currency ("" when there are no sales) */
	char *err;
	size_t errlen;
};

struct hqp_col {
	const char *key, *label, *type;
};

/* A new document for page, with the params of x. */
json_t *hqp_doc(const struct hqp_ctx *x, const char *page, const char *title);
/* Run a query (n text parameters); NULL on error with x->err set. */
PGresult *hqp_query(struct hqp_ctx *x, const char *sql, int n, const char *const *pv);
/* Row i, column j as a JSON value of the column type (NULL in SQL: null). */
json_t *hqp_value(const char *type, PGresult *r, int i, int j);
/* Append a table (no rows yet) to doc; returns its "rows" array (borrowed). */
json_t *hqp_table(json_t *doc, const char *name, const char *title, const struct hqp_col *cols, int ncols);
/* A table filled from a query whose columns are cols, in order. PM_OK or PM_EIO. */
int hqp_table_sql(struct hqp_ctx *x, json_t *doc, const char *name, const char *title, const struct hqp_col *cols,
		  int ncols, const char *sql, int n, const char *const *pv);
/* A figure (value: a new reference, taken). */
void hqp_figure(json_t *doc, const char *key, const char *label, const char *type, json_t *value);
/* A figure per row of the doc's table number `table`: key prefix + the row's first
 * column (also the label), value its integer column count_col; returns their sum. */
json_int_t hqp_figures_per_row(json_t *doc, size_t table, const char *prefix, size_t count_col);
/* A chart over a table: ys is a comma-separated list of column keys. */
void hqp_chart(json_t *doc, const char *type, const char *title, const char *table, const char *x, const char *ys);
/* A note for people (what a figure leaves out): appended to the document's "notes". */
void hqp_note(json_t *doc, const char *text);
/* Column 0 of row 0 as an integer (0 when NULL). */
int64_t hqp_int(PGresult *r, int i, int j);

/* The pages (hq_pages.c, hq_pages_campaigns.c, hq_pages_segments.c). */
json_t *hqp_overview(struct hqp_ctx *x);
json_t *hqp_liability(struct hqp_ctx *x);
json_t *hqp_tiers(struct hqp_ctx *x);
json_t *hqp_stores(struct hqp_ctx *x);
json_t *hqp_campaigns(struct hqp_ctx *x);
json_t *hqp_segments(struct hqp_ctx *x);
json_t *hqp_cohorts(struct hqp_ctx *x);

/* The day and month expressions of the pages' SQL. */
#define HQP_DAY_TEXT(d) "to_char(DATE '1970-01-01' + (" d "), 'YYYY-MM-DD')"
#define HQP_MONTH_TEXT(m) "to_char(make_date((" m ") / 12, (" m ") % 12 + 1, 1), 'YYYY-MM')"

#endif
