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
 *
 * The histogram (one cell per last day, visits and spend bucket: ~60,000 cells
 * at 1,000,000 members) is read once, in binary, and everything else is
 * computed here from it: the three marginals and their cuts, each cell's
 * scores and segment, and how far down the spend buckets each member list
 * reaches. Two passes of SQL over the cells (grouping sets, then scoring)
 * cost ~90 ms at that size; one read and the arithmetic here ~20 ms.
 */
enum { SEG_CHAMPIONS, SEG_LOYAL, SEG_NEW, SEG_PROMISING, SEG_AT_RISK, SEG_LAPSED, SEG_HIBERNATING, SEG_REGULAR, SEG_N };
static const char *const seg_names[SEG_N] = { "champions", "loyal", "new", "promising", "at_risk", "lapsed",
					      "hibernating", "regular" };

static int segment_of(int r, int f, int m)
{
	if (r >= 4 && f >= 4 && m >= 4)
		return SEG_CHAMPIONS;
	if (r >= 3 && f >= 4)
		return SEG_LOYAL;
	if (r >= 4 && f == 1)
		return SEG_NEW;
	if (r >= 4)
		return SEG_PROMISING;
	if (r <= 2 && (f >= 4 || m >= 4))
		return SEG_AT_RISK;
	return r == 1 ? SEG_LAPSED : r == 2 ? SEG_HIBERNATING : SEG_REGULAR;
}

/* One histogram cell: v[0] the last day, v[1] visits (capped), v[2] the spend bucket. */
struct cell {
	int32_t v[3];
	int64_t cards;
};

/* The smallest value of each score of each dimension (INT_MAX: no member has it or above). */
struct cuts {
	int64_t r[7], f[7], m[7];
};

static int32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

static int64_t be64(const char *p)
{
	return (int64_t)((uint64_t)(uint32_t)be32(p) << 32 | (uint32_t)be32(p + 4));
}

/* The histogram's cells with members (binary: no number formatting either side). */
static int hist_read(struct hqp_ctx *x, struct cell **out, size_t *n, int64_t *total)
{
	PGresult *r = PQexecParams(x->c, "SELECT last_day, fb, mb, cards FROM rollup_rfm WHERE cards > 0", 0, NULL,
				   NULL, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(x->err, x->errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return PM_EIO;
	}
	size_t rows = (size_t)PQntuples(r);
	struct cell *c = malloc((rows ? rows : 1) * sizeof(*c));
	if (!c) {
		PQclear(r);
		snprintf(x->err, x->errlen, "out of memory reading the RFM histogram");
		return PM_ENOMEM;
	}
	*total = 0;
	for (size_t i = 0; i < rows; i++) {
		for (int d = 0; d < 3; d++)
			c[i].v[d] = be32(PQgetvalue(r, (int)i, d));
		c[i].cards = be64(PQgetvalue(r, (int)i, 3));
		*total += c[i].cards;
	}
	PQclear(r);
	*out = c;
	*n = rows;
	return PM_OK;
}

struct vc {
	int32_t v;
	int64_t cards;
};

static int vc_cmp(const void *a, const void *b)
{
	int32_t x = ((const struct vc *)a)->v, y = ((const struct vc *)b)->v;
	return x < y ? -1 : x > y;
}

/* Dimension d's cuts: over its distinct values ascending, the score of a value is
 * 1 + floor(5 * members below it / members); cut[s] = the first value scoring s. */
static int dim_cuts(const struct cell *c, size_t n, int d, int64_t total, int64_t cut[7])
{
	for (int s = 0; s < 7; s++)
		cut[s] = INT_MAX;
	if (n == 0)
		return PM_OK;
	/* sorted (value, members), equal values merged below */
	struct vc *a = malloc(n * sizeof(*a));
	if (!a)
		return PM_ENOMEM;
	int32_t lo = c[0].v[d], hi = c[0].v[d];
	for (size_t i = 0; i < n; i++) {
		lo = c[i].v[d] < lo ? c[i].v[d] : lo;
		hi = c[i].v[d] > hi ? c[i].v[d] : hi;
	}
	size_t m = 0;
	if ((int64_t)hi - lo < (int64_t)n * 4) {
		/* a dense range (days of a few years, visits, spend buckets): count, no sort */
		size_t range = (size_t)((int64_t)hi - lo + 1);
		int64_t *cnt = calloc(range, sizeof(*cnt));
		if (!cnt) {
			free(a);
			return PM_ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			cnt[c[i].v[d] - lo] += c[i].cards;
		for (size_t k = 0; k < range; k++)
			if (cnt[k])
				a[m++] = (struct vc){ (int32_t)((int64_t)lo + (int64_t)k), cnt[k] };
		free(cnt);
	} else {
		for (size_t i = 0; i < n; i++)
			a[i] = (struct vc){ c[i].v[d], c[i].cards };
		qsort(a, n, sizeof(*a), vc_cmp);
		for (size_t i = 0; i < n; i++) {
			if (m && a[m - 1].v == a[i].v)
				a[m - 1].cards += a[i].cards;
			else
				a[m++] = a[i];
		}
	}
	int64_t below = 0;
	for (size_t i = 0; i < m; i++) {
		/* 1 + floor(5 * members with a smaller value / members) */
		int s = 1 + (int)(5 * below / (total ? total : 1));
		if (s >= 1 && s <= 5 && a[i].v < cut[s])
			cut[s] = a[i].v;
		below += a[i].cards;
	}
	free(a);
	/* a score absent: "below score s" ends where the next present score starts */
	for (int s = 5; s >= 1; s--)
		cut[s] = cut[s] < cut[s + 1] ? cut[s] : cut[s + 1];
	return PM_OK;
}

static void thresholds_table(json_t *doc, const struct cuts *k)
{
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
}

static int score(int64_t v, const int64_t cut[7])
{
	return v >= cut[5] ? 5 : v >= cut[4] ? 4 : v >= cut[3] ? 3 : v >= cut[2] ? 2 : 1;
}

/* Members by segment, most first (then by name), with their share. */
static void segments_table(json_t *doc, const struct cell *c, size_t n, int64_t total, const struct cuts *k)
{
	static const struct hqp_col cols[] = {
		{ "segment", "Segment", "text" }, { "members", "Members", "int" }, { "share", "Share", "ratio" },
	};
	int64_t seg[SEG_N] = { 0 };
	int order[SEG_N], m = 0;
	for (size_t i = 0; i < n; i++)
		seg[segment_of(score(c[i].v[0], k->r), score(c[i].v[1], k->f), score(c[i].v[2], k->m))] += c[i].cards;
	for (int g = 0; g < SEG_N; g++)
		if (seg[g] > 0)
			order[m++] = g;
	for (int i = 1; i < m; i++) /* insertion sort: 8 at most */
		for (int j = i; j > 0 && (seg[order[j]] > seg[order[j - 1]] ||
					  (seg[order[j]] == seg[order[j - 1]] &&
					   strcmp(seg_names[order[j]], seg_names[order[j - 1]]) < 0)); j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	json_t *rows = hqp_table(doc, "segments", "Members by segment", cols, 3);
	for (int i = 0; i < m; i++)
		json_array_append_new(rows, json_pack("[s, I, f]", seg_names[order[i]], (json_int_t)seg[order[i]],
						      (double)seg[order[i]] / (double)total));
}

/*
 * For each list, the lowest spend bucket its first `limit` members reach and its
 * length (at most limit), from the cells. Lapsed: last day < r2; at risk: last day
 * < r3 and (F >= f4 or M >= m4).
 */
static int lists_floor(const struct cell *c, size_t n, const struct cuts *k, int limit, int floor[2], int64_t want[2])
{
	int32_t hi = INT32_MIN, lo = INT32_MAX;
	for (size_t i = 0; i < n; i++) {
		hi = c[i].v[2] > hi ? c[i].v[2] : hi;
		lo = c[i].v[2] < lo ? c[i].v[2] : lo;
	}
	floor[0] = floor[1] = INT_MIN;
	want[0] = want[1] = 0;
	if (n == 0)
		return PM_OK;
	size_t range = (size_t)((int64_t)hi - lo + 1); /* spend buckets: 0..190 */
	int64_t *by = calloc(2 * range, sizeof(*by));
	if (!by)
		return PM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t b = (size_t)((int64_t)c[i].v[2] - lo);
		if (c[i].v[0] < k->r[2])
			by[b] += c[i].cards;
		if (c[i].v[0] < k->r[3] && (c[i].v[1] >= k->f[4] || c[i].v[2] >= k->m[4]))
			by[range + b] += c[i].cards;
	}
	for (int l = 0; l < 2; l++) {
		for (size_t b = range; b-- > 0 && want[l] < limit;) {
			want[l] += by[l * range + b];
			if (want[l] >= limit)
				floor[l] = (int)((int64_t)lo + (int64_t)b);
		}
		want[l] = want[l] < limit ? want[l] : limit;
	}
	free(by);
	return PM_OK;
}

/*
 * A list of members from rollup_card, most valuable first (spend bucket, spend, card).
 * floor_mb: the lowest spend bucket the first `limit` members can be in (lists_floor),
 * so the spend-bucket index reads only those buckets instead of walking down the cards;
 * want: how many rows the histogram says the list has. Ingest keeps the histogram and
 * rollup_card in one transaction, but the two reads are two statements: a list that comes
 * back shorter than want is read again without the floor, so a concurrent batch can never
 * cut a list short.
 */
static int member_list(struct hqp_ctx *x, json_t *doc, const char *name, const char *title, const char *where,
		       const char *const *pv, int n, int floor_mb, int64_t want)
{
	static const struct hqp_col cols[] = {
		{ "card", "Card", "card" }, { "last_visit_us", "Last sale", "date" }, { "visits", "Sales", "int" },
		{ "spend_cents", "Spend (all time)", "cents" }, { "tier", "Tier", "text" },
	};
	char sql[700];
	for (int pass = 0; pass < 2; pass++) {
		snprintf(sql, sizeof(sql), "SELECT c.card, c.last_us, c.visits, c.spend_cents, t.name FROM rollup_card c"
			 " LEFT JOIN rollup_tiers t ON t.tier = c.tier WHERE c.visits > 0 AND c.mb >= %d AND %s"
			 " ORDER BY c.mb DESC, c.spend_cents DESC, c.card LIMIT $1::int", pass ? INT_MIN : floor_mb, where);
		if (hqp_table_sql(x, doc, name, title, cols, 5, sql, n, pv))
			return PM_EIO;
		json_t *tables = json_object_get(doc, "tables");
		size_t last = json_array_size(tables) - 1;
		if (pass || (int64_t)json_array_size(json_object_get(json_array_get(tables, last), "rows")) >= want)
			break;
		json_array_remove(tables, last); /* short: the histogram moved under us; read it all */
	}
	return PM_OK;
}

json_t *hqp_segments(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "segments", "Segments (RFM)");
	struct cuts k;
	struct cell *cells = NULL;
	size_t n = 0;
	int64_t total = 0;
	int floor[2];
	int64_t want[2];
	int rc = hist_read(x, &cells, &n, &total);
	if (!rc && (dim_cuts(cells, n, 0, total, k.r) || dim_cuts(cells, n, 1, total, k.f) ||
		    dim_cuts(cells, n, 2, total, k.m) || lists_floor(cells, n, &k, x->p.limit, floor, want))) {
		snprintf(x->err, x->errlen, "out of memory scoring the RFM histogram");
		rc = PM_ENOMEM;
	}
	if (!rc) {
		thresholds_table(doc, &k);
		segments_table(doc, cells, n, total, &k);
	}
	free(cells);
	if (rc) {
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
	if (member_list(x, doc, "lapsed", "Lapsed: R = 1, most valuable first", "c.last_us < $2::bigint", lv, 2,
			floor[0], want[0]) ||
	    member_list(x, doc, "at_risk", "At risk: R <= 2 and F or M >= 4, most valuable first",
			"c.last_us < $2::bigint AND (least(c.visits, 100) >= $3::bigint OR rollup_mb(c.spend_cents) >= $4::int)",
			av, 4, floor[1], want[1])) {
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
