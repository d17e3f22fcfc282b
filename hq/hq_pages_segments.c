/*
 * hq_pages_segments.c - the segments page (RFM over the chain's members with
 * quintile thresholds, lapsed and at-risk lists) and the cohorts page
 * (retention by the month of the first sale). Both read the histogram and
 * cohort rollups (hq_rollup.c); the lists read rollup_card through its
 * spend index, most valuable first. docs/console.md, "Page data".
 */
#include "hq/hq_pages_int.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_US INT64_C(86400000000)

/*
 * Scores 1..5 per dimension: 1 + floor(5 * (members with a smaller value) /
 * members), over the histogram rollup_rfm (recency by the day of the last
 * sale, frequency by visits capped at 100, monetary by tenths of a decade of
 * cents): members with equal values share a score, so a score may be empty.
 */
#define SEGMENT_OF(r, f, m) \
	"CASE WHEN " r " >= 4 AND " f " >= 4 AND " m " >= 4 THEN 'champions' WHEN " r " >= 3 AND " f " >= 4" \
	" THEN 'loyal' WHEN " r " >= 4 AND " f " = 1 THEN 'new' WHEN " r " >= 4 THEN 'promising'" \
	" WHEN " r " <= 2 AND (" f " >= 4 OR " m " >= 4) THEN 'at_risk' WHEN " r " = 1 THEN 'lapsed'" \
	" WHEN " r " = 2 THEN 'hibernating' ELSE 'regular' END"

/* The smallest value of each score of each dimension (INT_MAX: no member has it or above). */
struct cuts {
	int64_t r[7], f[7], m[7];
};

static int cuts_read(struct hqp_ctx *x, json_t *doc, struct cuts *k)
{
	/* the three marginals in one pass (grouping sets), ascending; the scores are summed here */
	PGresult *r = hqp_query(x, "SELECT CASE WHEN GROUPING(last_day) = 0 THEN 0 WHEN GROUPING(fb) = 0 THEN 1 ELSE 2 END,"
				" coalesce(last_day, fb, mb), sum(cards) FROM rollup_rfm WHERE cards > 0"
				" GROUP BY GROUPING SETS ((last_day), (fb), (mb)) ORDER BY 1, 2", 0, NULL);
	if (!r)
		return PM_EIO;
	for (int s = 0; s < 7; s++)
		k->r[s] = k->f[s] = k->m[s] = INT_MAX;
	int64_t total[3] = { 0 }, below[3] = { 0 };
	for (int i = 0; i < PQntuples(r); i++)
		total[atoi(PQgetvalue(r, i, 0)) % 3] += hqp_int(r, i, 2);
	for (int i = 0; i < PQntuples(r); i++) {
		int d = atoi(PQgetvalue(r, i, 0)) % 3;
		int64_t *dim = d == 0 ? k->r : d == 1 ? k->f : k->m, v = hqp_int(r, i, 1), c = hqp_int(r, i, 2);
		/* 1 + floor(5 * members with a smaller value / members) */
		int s = 1 + (int)(5 * below[d] / (total[d] ? total[d] : 1));
		if (s >= 1 && s <= 5 && v < dim[s])
			dim[s] = v;
		below[d] += c;
	}
	PQclear(r);
	/* a score absent: "below score s" ends where the next present score starts */
	for (int s = 5; s >= 1; s--) {
		k->r[s] = k->r[s] < k->r[s + 1] ? k->r[s] : k->r[s + 1];
		k->f[s] = k->f[s] < k->f[s + 1] ? k->f[s] : k->f[s + 1];
		k->m[s] = k->m[s] < k->m[s + 1] ? k->m[s] : k->m[s + 1];
	}
	static const struct hqp_col cols[] = {
		{ "score", "Score", "int" }, { "last_visit_from", "R: last sale on or after", "day" },
		{ "visits_from", "F: sales at least", "int" }, { "spend_from_cents", "M: spend at least", "cents" },
	};
	json_t *rows = hqp_table(doc, "thresholds", "Quintile thresholds (score s from)", cols, 4);
	for (int s = 1; s <= 5; s++) {
		char day[16] = "";
		if (k->r[s] != INT_MAX) {
			time_t t = (time_t)(k->r[s] * 86400);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		}
		/* bucket b >= 1 holds spend in [10^((b-1)/10), 10^(b/10)) cents */
		json_t *spend = k->m[s] == INT_MAX ? json_null()
				: k->m[s] == 0 ? json_integer(0)
				: json_integer((json_int_t)ceil(pow(10, (double)(k->m[s] - 1) / 10) - 1e-9));
		json_array_append_new(rows, json_pack("[i, o, o, o]", s, day[0] ? json_string(day) : json_null(),
						      k->f[s] == INT_MAX ? json_null() : json_integer(k->f[s]), spend));
	}
	return PM_OK;
}

/* A list of members from rollup_card, most valuable first. */
static int member_list(struct hqp_ctx *x, json_t *doc, const char *name, const char *title, const char *where,
		       const char *const *pv, int n)
{
	static const struct hqp_col cols[] = {
		{ "card", "Card", "card" }, { "last_visit_us", "Last sale", "date" }, { "visits", "Sales", "int" },
		{ "spend_cents", "Spend (all time)", "cents" }, { "tier", "Tier", "text" },
	};
	char sql[600];
	snprintf(sql, sizeof(sql), "SELECT c.card, c.last_us, c.visits, c.spend_cents, t.name FROM rollup_card c"
		 " LEFT JOIN rollup_tiers t ON t.tier = c.tier WHERE c.visits > 0 AND %s"
		 " ORDER BY c.mb DESC, c.spend_cents DESC, c.card LIMIT $1::int", where);
	return hqp_table_sql(x, doc, name, title, cols, 5, sql, n, pv);
}

json_t *hqp_segments(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "segments", "Segments (RFM)");
	struct cuts k;
	static const struct hqp_col seg_cols[] = {
		{ "segment", "Segment", "text" }, { "members", "Members", "int" }, { "share", "Share", "ratio" },
	};
	/* each cell's scores from the cuts (plain comparisons, one pass over the histogram) */
	char sc[3][200], sql[1400];
	const int64_t *dims[3] = { k.r, k.f, k.m };
	static const char *const cols3[3] = { "last_day", "fb", "mb" };
	if (cuts_read(x, doc, &k)) {
		json_decref(doc);
		return NULL;
	}
	for (int d = 0; d < 3; d++)
		snprintf(sc[d], sizeof(sc[d]), "CASE WHEN %s >= %" PRId64 " THEN 5 WHEN %s >= %" PRId64 " THEN 4"
			 " WHEN %s >= %" PRId64 " THEN 3 WHEN %s >= %" PRId64 " THEN 2 ELSE 1 END", cols3[d], dims[d][5],
			 cols3[d], dims[d][4], cols3[d], dims[d][3], cols3[d], dims[d][2]);
	snprintf(sql, sizeof(sql), "SELECT " SEGMENT_OF("rs", "fs", "ms") " AS segment, sum(cards),"
		 " sum(cards)::float8 / sum(sum(cards)) OVER () FROM (SELECT cards, %s AS rs, %s AS fs, %s AS ms"
		 " FROM rollup_rfm WHERE cards > 0) c GROUP BY 1 ORDER BY 2 DESC, 1", sc[0], sc[1], sc[2]);
	if (hqp_table_sql(x, doc, "segments", "Members by segment", seg_cols, 3, sql, 0, NULL)) {
		json_decref(doc);
		return NULL;
	}
	char lim[16], r2[24], r3[24], f4[24], m4[24];
	snprintf(lim, sizeof(lim), "%d", x->p.limit);
	/* R below 2 (lapsed) and below 3; F and M from 4 */
	snprintf(r2, sizeof(r2), "%" PRId64, k.r[2] == INT_MAX ? INT64_MAX : k.r[2] * DAY_US);
	snprintf(r3, sizeof(r3), "%" PRId64, k.r[3] == INT_MAX ? INT64_MAX : k.r[3] * DAY_US);
	snprintf(f4, sizeof(f4), "%" PRId64, k.f[4] == INT_MAX ? INT64_MAX : k.f[4]);
	snprintf(m4, sizeof(m4), "%" PRId64, k.m[4] == INT_MAX ? (int64_t)INT_MAX : k.m[4]);
	const char *lv[2] = { lim, r2 }, *av[4] = { lim, r3, f4, m4 };
	if (member_list(x, doc, "lapsed", "Lapsed: R = 1, most valuable first", "c.last_us < $2::bigint", lv, 2) ||
	    member_list(x, doc, "at_risk", "At risk: R <= 2 and F or M >= 4, most valuable first",
			"c.last_us < $2::bigint AND (least(c.visits, 100) >= $3::bigint OR rollup_mb(c.spend_cents) >= $4::int)",
			av, 4)) {
		json_decref(doc);
		return NULL;
	}
	json_int_t all = hqp_figures_per_row(doc, 1, "segment_", 1);
	hqp_figure(doc, "members", "Members scored", "int", json_integer(all));
	hqp_chart(doc, "bar", "Members by segment", "segments", "segment", "members");
	hqp_note(doc, "over the chain's members now (every card with a sale); the period, store and reference day"
		 " do not apply; recency is the day of the last sale");
	return doc;
}

/* ---- cohorts ---------------------------------------------------------------------- */

#define COHORT_MONTHS 12

json_t *hqp_cohorts(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "cohorts", "Cohort retention");
	const char *mv[2] = { x->s_from_month, x->s_to_month };
	PGresult *r = hqp_query(x, "SELECT cohort, " HQP_MONTH_TEXT("cohort") ", month - cohort, cards FROM rollup_cohort"
				" WHERE cohort BETWEEN $1::int AND $2::int AND month <= $2::int AND month >= cohort"
				" AND cards <> 0 ORDER BY cohort, month", 2, mv);
	if (!r) {
		json_decref(doc);
		return NULL;
	}
	struct hqp_col cols[2 + COHORT_MONTHS];
	char keys[COHORT_MONTHS][16], labels[COHORT_MONTHS][32];
	cols[0] = (struct hqp_col){ "cohort", "First sale in", "text" };
	cols[1] = (struct hqp_col){ "members", "Members", "int" };
	for (int m = 1; m <= COHORT_MONTHS; m++) {
		snprintf(keys[m - 1], sizeof(keys[0]), "m%d", m);
		snprintf(labels[m - 1], sizeof(labels[0]), "Month %d", m);
		cols[1 + m] = (struct hqp_col){ keys[m - 1], labels[m - 1], "ratio" };
	}
	json_t *rows = hqp_table(doc, "retention", "Share of each cohort with a sale N months after its first",
				 cols, 2 + COHORT_MONTHS);
	double sum[COHORT_MONTHS + 1] = { 0 }, base[COHORT_MONTHS + 1] = { 0 };
	for (int i = 0; i < PQntuples(r);) {
		int cohort = atoi(PQgetvalue(r, i, 0));
		int64_t size = 0;
		json_t *row = json_array();
		json_array_append_new(row, json_string(PQgetvalue(r, i, 1)));
		json_array_append_new(row, json_integer(0));
		for (int m = 1; m <= COHORT_MONTHS; m++)
			json_array_append_new(row, json_null());
		for (; i < PQntuples(r) && atoi(PQgetvalue(r, i, 0)) == cohort; i++) {
			int off = atoi(PQgetvalue(r, i, 2));
			int64_t n = hqp_int(r, i, 3);
			if (off == 0) {
				size = n;
				json_array_set_new(row, 1, json_integer(n));
			} else if (off <= COHORT_MONTHS && size > 0) {
				json_array_set_new(row, 1 + off, json_real((double)n / (double)size));
				sum[off] += (double)n;
			}
		}
		/* months that have passed for this cohort count in the average, with 0 when nobody came */
		for (int m = 1; m <= COHORT_MONTHS && cohort + m <= x->to_month && size > 0; m++) {
			base[m] += (double)size;
			if (json_is_null(json_array_get(row, 1 + m)))
				json_array_set_new(row, 1 + m, json_real(0));
		}
		json_array_append_new(rows, row);
	}
	PQclear(r);
	static const struct hqp_col avg_cols[] = {
		{ "months_since", "Months after the first sale", "int" }, { "retention", "Retention (weighted)", "ratio" },
	};
	json_t *avg = hqp_table(doc, "average", "Retention over the cohorts", avg_cols, 2);
	for (int m = 1; m <= COHORT_MONTHS; m++)
		if (base[m] > 0)
			json_array_append_new(avg, json_pack("[i, f]", m, sum[m] / base[m]));
	hqp_figure(doc, "cohorts", "Cohorts", "int", json_integer((json_int_t)json_array_size(rows)));
	hqp_figure(doc, "retention_m1", "Retention after 1 month (weighted)", "ratio",
		   base[1] > 0 ? json_real(sum[1] / base[1]) : json_null());
	hqp_chart(doc, "line", "Retention by months after the first sale", "average", "months_since", "retention");
	hqp_note(doc, "a member belongs to the month of its first sale anywhere in the chain; the store filter"
		 " does not apply");
	return doc;
}
