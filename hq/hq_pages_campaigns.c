/*
 * hq_pages_campaigns.c - the campaigns page: issued, redeemed, held back,
 * conversion of the treated and the control group within the window, lift
 * with a 95% interval, discount cost and an incremental revenue estimate;
 * and the interval arithmetic (docs/console.md, "Page data", says why these
 * estimators).
 *
 * The experiment's unit is (campaign, card): the till puts a card in a
 * campaign's control group by a hash of both, so a card's offers of one
 * campaign all fall in one arm, and the units of the two arms are
 * independent samples. Lift is the difference of the two conversion
 * proportions, with Newcombe's hybrid score interval (his method 10): it
 * keeps its coverage near 95% with small groups and proportions near 0 or 1,
 * where the Wald interval is too narrow or collapses to a point.
 */
#include "hq/hq_pages_int.h"
#include "hq/hq_rollup_int.h"
#include "common/pm_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054

void hqr_wilson(int64_t x, int64_t n, double z, double *lo, double *hi)
{
	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	double p = (double)x / (double)n, nn = (double)n, z2 = z * z;
	double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
	double half = z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	*lo = centre - half < 0 ? 0 : centre - half;
	*hi = centre + half > 1 ? 1 : centre + half;
	/* the exact ends at x = 0 and x = n (rounding would leave 1e-17) */
	if (x == 0)
		*lo = 0;
	if (x == n)
		*hi = 1;
}

int hqr_lift(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double z, struct hqr_lift *out)
{
	if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
		return PM_EINVAL;
	double l1, u1, l2, u2;
	out->p1 = (double)x1 / (double)n1;
	out->p2 = (double)x2 / (double)n2;
	hqr_wilson(x1, n1, z, &l1, &u1);
	hqr_wilson(x2, n2, z, &l2, &u2);
	out->diff = out->p1 - out->p2;
	out->diff_lo = out->diff - sqrt((out->p1 - l1) * (out->p1 - l1) + (u2 - out->p2) * (u2 - out->p2));
	out->diff_hi = out->diff + sqrt((u1 - out->p1) * (u1 - out->p1) + (out->p2 - l2) * (out->p2 - l2));
	/* relative lift p1 / p2: the log interval (Katz), defined when both groups converted */
	out->ratio = out->ratio_lo = out->ratio_hi = NAN;
	if (x2 > 0)
		out->ratio = out->p1 / out->p2;
	if (x1 > 0 && x2 > 0) {
		double se = sqrt(1.0 / (double)x1 - 1.0 / (double)n1 + 1.0 / (double)x2 - 1.0 / (double)n2);
		out->ratio_lo = out->ratio * exp(-z * se);
		out->ratio_hi = out->ratio * exp(z * se);
	}
	return PM_OK;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *interval(double lo, double hi)
{
	return isfinite(lo) && isfinite(hi) ? json_pack("[f, f]", lo, hi) : json_null();
}

static json_t *cents_or_null(double v)
{
	return isfinite(v) ? json_integer((json_int_t)llround(v)) : json_null();
}

static const struct hqp_col cols[] = {
	{ "campaign", "Campaign", "text" },
	{ "issued", "Offers issued", "int" },
	{ "held_back", "Held back (control)", "int" },
	{ "redeemed", "Redeemed", "int" },
	{ "redemption_rate", "Redeemed / issued", "ratio" },
	{ "discount_cents", "Discount cost", "cents" },
	{ "treated", "Treated cards", "int" },
	{ "control", "Control cards", "int" },
	{ "treated_converted", "Treated that bought", "int" },
	{ "control_converted", "Control that bought", "int" },
	{ "treated_conversion", "Treated conversion", "ratio" },
	{ "control_conversion", "Control conversion", "ratio" },
	{ "lift", "Lift (treated - control)", "ratio" },
	{ "lift_ci", "Lift, 95% interval", "interval" },
	{ "relative_lift", "Treated / control", "ratio" },
	{ "relative_lift_ci", "Treated / control, 95% interval", "interval" },
	{ "converted_basket_cents", "Average converting basket", "cents" },
	{ "incremental_conversions", "Incremental conversions", "int" },
	{ "incremental_revenue_cents", "Incremental revenue (estimate)", "cents" },
	{ "incremental_revenue_low_cents", "Incremental revenue, 95% low", "cents" },
	{ "incremental_revenue_high_cents", "Incremental revenue, 95% high", "cents" },
	{ "net_cents", "Incremental revenue - discount cost", "cents" },
};
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

/* One campaign's row from the counts query (columns as selected in hqp_campaigns). */
static json_t *campaign_row(PGresult *r, int i)
{
	int64_t issued = hqp_int(r, i, 1), redeemed = hqp_int(r, i, 3), discount = hqp_int(r, i, 4);
	int64_t nt = hqp_int(r, i, 5), xt = hqp_int(r, i, 6), ct = hqp_int(r, i, 7);
	int64_t nc = hqp_int(r, i, 8), xc = hqp_int(r, i, 9), cc = hqp_int(r, i, 10);
	struct hqr_lift l;
	bool have = hqr_lift(xt, nt, xc, nc, Z95, &l) == PM_OK;
	/* what a converting sale is worth: the treated group's converting baskets (the control's
	 * when no treated card converted) */
	double basket = xt ? (double)ct / (double)xt : xc ? (double)cc / (double)xc : NAN;
	double inc = have ? l.diff * (double)nt : NAN;
	json_t *row = json_array();
	json_array_append_new(row, json_string(PQgetvalue(r, i, 0)));
	json_array_append_new(row, json_integer(issued));
	json_array_append_new(row, json_integer(hqp_int(r, i, 2)));
	json_array_append_new(row, json_integer(redeemed));
	json_array_append_new(row, issued ? json_real((double)redeemed / (double)issued) : json_null());
	json_array_append_new(row, json_integer(discount));
	json_array_append_new(row, json_integer(nt));
	json_array_append_new(row, json_integer(nc));
	json_array_append_new(row, json_integer(xt));
	json_array_append_new(row, json_integer(xc));
	json_array_append_new(row, nt ? json_real((double)xt / (double)nt) : json_null());
	json_array_append_new(row, nc ? json_real((double)xc / (double)nc) : json_null());
	json_array_append_new(row, have ? json_real(l.diff) : json_null());
	json_array_append_new(row, have ? interval(l.diff_lo, l.diff_hi) : json_null());
	json_array_append_new(row, have ? num_or_null(l.ratio) : json_null());
	json_array_append_new(row, have ? interval(l.ratio_lo, l.ratio_hi) : json_null());
	json_array_append_new(row, cents_or_null(basket));
	json_array_append_new(row, have ? json_integer((json_int_t)llround(inc)) : json_null());
	json_array_append_new(row, cents_or_null(inc * basket));
	json_array_append_new(row, have ? cents_or_null(l.diff_lo * (double)nt * basket) : json_null());
	json_array_append_new(row, have ? cents_or_null(l.diff_hi * (double)nt * basket) : json_null());
	json_array_append_new(row, cents_or_null(inc * basket - (double)discount));
	return row;
}

json_t *hqp_campaigns(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "campaigns", "Campaigns");
	char win[16];
	snprintf(win, sizeof(win), "%d", x->p.window_days);
	const char *pv[5] = { x->s_from_day, x->s_to_day, x->p.store, x->p.campaign, win };
	/* events counted by the day they happened; units by the day of their first offer */
	PGresult *r = hqp_query(x,
		"WITH c AS (SELECT campaign, sum(issued) AS i, sum(held_back) AS h, sum(redeemed) AS r,"
		"  sum(discount_cents) AS d FROM rollup_campaign_day WHERE day BETWEEN $1::int AND $2::int"
		"  AND ($3 = '' OR store_id = $3) AND ($4 = '' OR campaign = $4) GROUP BY campaign),"
		" u AS (SELECT campaign,"
		"  sum(units) FILTER (WHERE arm = 't') AS nt,"
		"  sum(units) FILTER (WHERE arm = 't' AND lag >= 0 AND lag < $5::int) AS xt,"
		"  sum(conv_cents) FILTER (WHERE arm = 't' AND lag >= 0 AND lag < $5::int) AS ct,"
		"  sum(units) FILTER (WHERE arm = 'c') AS nc,"
		"  sum(units) FILTER (WHERE arm = 'c' AND lag >= 0 AND lag < $5::int) AS xc,"
		"  sum(conv_cents) FILTER (WHERE arm = 'c' AND lag >= 0 AND lag < $5::int) AS cc"
		"  FROM rollup_conv WHERE day BETWEEN $1::int AND $2::int AND ($3 = '' OR store_id = $3)"
		"  AND ($4 = '' OR campaign = $4) GROUP BY campaign)"
		" SELECT campaign, c.i, c.h, c.r, c.d, u.nt, u.xt, u.ct, u.nc, u.xc, u.cc FROM c FULL JOIN u USING (campaign)"
		" ORDER BY campaign", 5, pv);
	if (!r) {
		json_decref(doc);
		return NULL;
	}
	json_t *rows = hqp_table(doc, "campaigns", "Campaigns", cols, NCOLS);
	int64_t tot[4] = { 0 };
	for (int i = 0; i < PQntuples(r); i++) {
		json_array_append_new(rows, campaign_row(r, i));
		for (int k = 0; k < 4; k++)
			tot[k] += hqp_int(r, i, 1 + k); /* issued, held back, redeemed, discount */
	}
	PQclear(r);
	hqp_figure(doc, "issued", "Offers issued", "int", json_integer(tot[0]));
	hqp_figure(doc, "held_back", "Held back (control)", "int", json_integer(tot[1]));
	hqp_figure(doc, "redeemed", "Redeemed", "int", json_integer(tot[2]));
	hqp_figure(doc, "discount_cents", "Discount cost", "cents", json_integer(tot[3]));
	hqp_figure(doc, "window_days", "Conversion window (days after the first offer)", "int",
		   json_integer(x->p.window_days));
	static const struct hqp_col day_cols[] = {
		{ "day", "Day", "day" }, { "issued", "Issued", "int" }, { "held_back", "Held back", "int" },
		{ "redeemed", "Redeemed", "int" }, { "discount_cents", "Discount cost", "cents" },
	};
	if (hqp_table_sql(x, doc, "by_day", "Offers by day", day_cols, 5,
			  "SELECT " HQP_DAY_TEXT("day") ", sum(issued), sum(held_back), sum(redeemed), sum(discount_cents)"
			  " FROM rollup_campaign_day WHERE day BETWEEN $1::int AND $2::int AND ($3 = '' OR store_id = $3)"
			  " AND ($4 = '' OR campaign = $4) GROUP BY day ORDER BY day", 4, pv)) {
		json_decref(doc);
		return NULL;
	}
	hqp_chart(doc, "bar", "Conversion, treated and control", "campaigns", "campaign",
		  "treated_conversion,control_conversion");
	hqp_chart(doc, "stacked_bar", "Offers by day", "by_day", "day", "issued,held_back,redeemed");
	hqp_note(doc, "a unit is a card offered the campaign; it converts when it buys an item it was offered"
		 " (any sale, for offers without an item) within window_days of its first offer; cards offered"
		 " less than window_days ago have had less time, equally in both groups");
	return doc;
}
