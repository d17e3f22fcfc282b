/*
 * hq_rollup.c - the console's rollups of one batch, in the batch's own
 * transaction (issue 18; docs/console.md, "Page data"). Ingest calls
 * hq_rollup_batch once per stored batch, after the rows are in: the batch's
 * rows are read back by their key (store, terminal, seq range; for sales,
 * also the batch's months, so only those partitions are read) into small
 * temporary tables, and every rollup moves by exactly what they add. A
 * duplicate batch is never stored, so never rolled up: exactly once with the
 * batch. rollup_rebuild() (hq_rollup_schema.c) computes the same tables from
 * scratch; tests/integration/console_data.sh checks the two agree.
 *
 * Per card, a batch changes first/last visit, visits and spend; the card's
 * old row is kept (rb_old) so the derived counts (cohort months, tier,
 * RFM cell) move from the old value to the new one: -1 there, +1 here.
 */
#include "hq/hq_rollup_int.h"
#include "hq/hq_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_buf.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MONEY HQI_MONEY_SQL
#define WINDOW_US "7776000000000" /* HQR_MAX_WINDOW_DAYS */
#define ITEM_MATCHES(o, s) "(" o ".gtins = '{}' OR EXISTS (SELECT 1 FROM jsonb_array_elements(" s ".items) i" \
	" WHERE lpad(i->>'gtin', 14, '0') = ANY (" o ".gtins)))"

/* The batch's temporary tables. Their keys are declared (unique indexes) rather than
 * ANALYZEd each batch: the planner then knows each join side's rows are unique per card and
 * joins a large batch by hash and a small one by index, without the cost of sampling. */
static const char *const temp_tables =
	"CREATE TEMP TABLE IF NOT EXISTS rb_sales (store_id text, time_us bigint, day int, month int, card text,"
	" currency char(3), type text, total_cents bigint, discount_cents bigint, refund_cents bigint,"
	" points_earned bigint, money bigint, items jsonb) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_cm (card text, month int, visits bigint, spend bigint,"
	" first_us bigint, last_us bigint, PRIMARY KEY (card, month)) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_cmr (card text, month int, visits bigint, PRIMARY KEY (card, month))"
	" ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_card (card text PRIMARY KEY, first_us bigint, last_us bigint, visits bigint,"
	" spend bigint, min_month int, max_month int, lm int, fm int) ON COMMIT DELETE ROWS;"
	/* its key only: rollup_card's spend-bucket index would be one more index write per row */
	"CREATE TEMP TABLE IF NOT EXISTS rb_old (LIKE rollup_card, PRIMARY KEY (card)) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_next (LIKE rollup_card, is_new boolean, oc int, nc int, PRIMARY KEY (card))"
	" ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_events (store_id text, time_us bigint, type text, card text,"
	" campaign text, gtin text, discount_cents bigint) ON COMMIT DELETE ROWS";

/*
 * The statements of a sales batch, in order; $1 store, $2 terminal, $3 after, $4 last,
 * $5..$6 the batch's months [first start, last end). Two pieces are made per batch
 * (sales_sql): %M the month of time_us as a CASE over the batch's month starts (no date
 * arithmetic per row), %T the tier of a window value (the CASE over rollup_tiers, applied to
 * the expression given after it in the template, see tier_case).
 */
/* the window moves by the batch's spend when the batch lies inside the card's current window
 * and does not move its last visit to a later month; otherwise it is recomputed */
#define WINDOW_MOVES "o.last_us IS NOT NULL AND b.min_month >= o.lm - 11 AND b.max_month <= o.lm" \
	" AND (b.lm IS NULL OR b.lm <= o.lm)"
/* a card new to the rollups whose batch rows all lie in the 12 months ending with its last visit
 * (the usual case: a batch spans days): its window is the batch's spend, no look-up */
#define WINDOW_NEW "o.card IS NULL AND b.lm IS NOT NULL AND b.min_month >= b.lm - 11 AND b.max_month <= b.lm"
/* the window when it is known without a look-up, else NULL (then the UPDATE after computes it) */
#define WINDOW_KNOWN "CASE WHEN " WINDOW_MOVES " THEN o.window_cents + b.spend WHEN " WINDOW_NEW " THEN b.spend END"
static const char *const sales_steps[] = {
	"INSERT INTO rb_sales SELECT store_id, time_us, (time_us / 86400000000)::int, %M, card, currency, type,"
	" total_cents, discount_cents, refund_cents, points_earned, " MONEY ", items FROM sales WHERE store_id = $1"
	" AND terminal = $2 AND seq > $3::bigint AND seq <= $4::bigint AND time_us >= $5::bigint AND time_us < $6::bigint",
	"INSERT INTO rollup_store_day AS r SELECT store_id, day, currency,"
	" count(*) FILTER (WHERE type = 'sale'), count(*) FILTER (WHERE type = 'sale' AND card IS NOT NULL),"
	" coalesce(sum(total_cents) FILTER (WHERE type = 'sale'), 0), count(*) FILTER (WHERE type = 'return'),"
	" coalesce(sum(refund_cents) FILTER (WHERE type = 'return'), 0), sum(discount_cents), sum(points_earned),"
	" max(time_us) FROM rb_sales GROUP BY 1, 2, 3 ON CONFLICT (store_id, day, currency) DO UPDATE SET"
	" sales = r.sales + EXCLUDED.sales, member_sales = r.member_sales + EXCLUDED.member_sales,"
	" sales_cents = r.sales_cents + EXCLUDED.sales_cents, returns = r.returns + EXCLUDED.returns,"
	" refund_cents = r.refund_cents + EXCLUDED.refund_cents,"
	" discount_cents = r.discount_cents + EXCLUDED.discount_cents,"
	" points_earned = r.points_earned + EXCLUDED.points_earned, last_us = greatest(r.last_us, EXCLUDED.last_us)",
	"INSERT INTO rb_cm SELECT card, month, count(*) FILTER (WHERE type = 'sale'), sum(money),"
	" min(time_us) FILTER (WHERE type = 'sale'), max(time_us) FILTER (WHERE type = 'sale') FROM rb_sales"
	" WHERE card IS NOT NULL GROUP BY 1, 2",
	/* per card: lm, fm = the months of its last and first visit in the batch */
	"INSERT INTO rb_card SELECT card, min(first_us), max(last_us), sum(visits), sum(spend), min(month), max(month),"
	" max(month) FILTER (WHERE visits > 0), min(month) FILTER (WHERE visits > 0) FROM rb_cm GROUP BY card",
	"INSERT INTO rb_old SELECT c.* FROM rb_card b JOIN rollup_card c ON c.card = b.card",
	"WITH u AS (INSERT INTO rollup_card_month AS m SELECT card, month, visits, spend FROM rb_cm"
	" ON CONFLICT (card, month) DO UPDATE SET visits = m.visits + EXCLUDED.visits,"
	" spend_cents = m.spend_cents + EXCLUDED.spend_cents RETURNING card, month, visits)"
	" INSERT INTO rb_cmr SELECT u.* FROM u JOIN rb_old o USING (card)", /* cards new to the rollups: rb_cm is the same */
	/* each card's new state, computed once from its old row (rb_old) and the batch (rb_card);
	 * oc, nc: its cohort before and after */
	"INSERT INTO rb_next SELECT b.card, least(o.first_us, b.first_us), greatest(o.last_us, b.last_us),"
	" coalesce(o.visits, 0) + b.visits, coalesce(o.spend_cents, 0) + b.spend,"
	" " WINDOW_KNOWN ","
	" coalesce(%T" WINDOW_KNOWN ", 0),"
	" rollup_mb(coalesce(o.spend_cents, 0) + b.spend),"
	" CASE WHEN o.first_us IS NULL OR b.first_us < o.first_us THEN b.fm ELSE o.fm END,"
	" CASE WHEN o.last_us IS NULL OR b.last_us > o.last_us THEN b.lm ELSE o.lm END, o.card IS NULL, o.fm,"
	" CASE WHEN o.first_us IS NULL OR b.first_us < o.first_us THEN b.fm ELSE o.fm END"
	" FROM rb_card b LEFT JOIN rb_old o ON o.card = b.card",
	/* the tier window when it cannot move by the batch: the 12 UTC months ending with the month
	 * of the last visit, from rollup_card_month (already holding the batch) */
	"UPDATE rb_next n SET tier = %Tx.s, window_cents = x.s FROM (SELECT n2.card, coalesce((SELECT"
	" sum(m.spend_cents) FROM rollup_card_month m WHERE m.card = n2.card AND m.month BETWEEN n2.lm - 11 AND n2.lm),"
	" 0)::bigint AS s FROM rb_next n2 WHERE n2.window_cents IS NULL) x WHERE n.card = x.card",
	"UPDATE rollup_card c SET first_us = n.first_us, last_us = n.last_us, visits = n.visits,"
	" spend_cents = n.spend_cents, window_cents = n.window_cents, tier = n.tier, mb = n.mb, fm = n.fm, lm = n.lm"
	" FROM rb_next n"
	" WHERE c.card = n.card AND NOT n.is_new",
	"INSERT INTO rollup_card SELECT card, first_us, last_us, visits, spend_cents, window_cents, tier, mb, fm, lm"
	" FROM rb_next"
	" WHERE is_new",
	/* cohort x month: months newly active in an unchanged cohort (visits after = the batch's);
	 * a new card's active months; a card whose first month moved earlier (a sale dated before
	 * its first) leaves its old cohort whole and joins the new one whole */
	"INSERT INTO rollup_cohort AS k SELECT cohort, month, sum(d) FROM ("
	" SELECT n.nc AS cohort, r.month, 1 AS d FROM rb_next n JOIN rb_cmr r USING (card) JOIN rb_cm b USING (card, month)"
	"  WHERE n.oc = n.nc AND r.visits > 0 AND r.visits = b.visits"
	" UNION ALL SELECT n.nc, r.month, 1 FROM rb_next n JOIN rb_cmr r USING (card)"
	"  WHERE NOT n.is_new AND n.oc IS NULL AND n.nc IS NOT NULL AND r.visits > 0"
	" UNION ALL SELECT n.nc, r.month, 1 FROM rb_next n JOIN rb_cm r USING (card)"
	"  WHERE n.is_new AND n.nc IS NOT NULL AND r.visits > 0"
	" UNION ALL SELECT n.oc, m.month, -1 FROM rb_next n JOIN rollup_card_month m ON m.card = n.card"
	"  LEFT JOIN rb_cm b ON b.card = m.card AND b.month = m.month WHERE n.nc < n.oc"
	"  AND m.visits - coalesce(b.visits, 0) > 0"
	" UNION ALL SELECT n.nc, m.month, 1 FROM rb_next n JOIN rollup_card_month m ON m.card = n.card"
	"  WHERE n.nc < n.oc AND m.visits > 0) x GROUP BY 1, 2 HAVING sum(d) <> 0"
	" ON CONFLICT (cohort, month) DO UPDATE SET cards = k.cards + EXCLUDED.cards",
	"INSERT INTO rollup_tier AS t SELECT tier, sum(d) FROM (SELECT tier, -1 AS d FROM rb_old WHERE visits > 0"
	" UNION ALL SELECT tier, 1 FROM rb_next WHERE visits > 0) x"
	" GROUP BY 1 HAVING sum(d) <> 0 ON CONFLICT (tier) DO UPDATE SET cards = t.cards + EXCLUDED.cards",
	/* movement as it happens: from the tier at the previous visit (-1: a new member) */
	"INSERT INTO rollup_tier_move AS t SELECT n.lm, coalesce(o.tier, -1), n.tier, count(*)"
	" FROM rb_next n LEFT JOIN rb_old o ON o.card = n.card AND o.visits > 0"
	" WHERE n.visits > 0 AND (o.card IS NULL OR o.tier <> n.tier) GROUP BY 1, 2, 3"
	" ON CONFLICT (month, from_tier, to_tier) DO UPDATE SET cards = t.cards + EXCLUDED.cards",
	"INSERT INTO rollup_rfm AS r SELECT d, f, m, sum(k) FROM ("
	" SELECT (last_us / 86400000000)::int AS d, rollup_fb(visits) AS f, rollup_mb(spend_cents) AS m, -1 AS k"
	"  FROM rb_old WHERE visits > 0"
	" UNION ALL SELECT (last_us / 86400000000)::int, rollup_fb(visits), rollup_mb(spend_cents), 1"
	"  FROM rb_next WHERE visits > 0) x GROUP BY 1, 2, 3"
	" HAVING sum(k) <> 0 ON CONFLICT (last_day, fb, mb) DO UPDATE SET cards = r.cards + EXCLUDED.cards",
	/* a sale of the offered item after an offer: the unit converts (its earliest such sale) */
	"UPDATE rollup_offer o SET converted_us = x.time_us, converted_cents = x.total_cents FROM"
	" (SELECT DISTINCT ON (o2.campaign, o2.card) o2.campaign, o2.card, s.time_us, s.total_cents"
	"  FROM rb_sales s JOIN rollup_offer o2 ON o2.card = s.card WHERE s.type = 'sale'"
	"  AND s.time_us > o2.offered_us AND s.time_us <= o2.offered_us + " WINDOW_US " AND " ITEM_MATCHES("o2", "s")
	"  ORDER BY o2.campaign, o2.card, s.time_us, s.total_cents) x"
	" WHERE o.campaign = x.campaign AND o.card = x.card AND (o.converted_us IS NULL OR x.time_us < o.converted_us"
	" OR (x.time_us = o.converted_us AND x.total_cents < o.converted_cents))",
};

/* An events batch: $1 store, $2 terminal, $3 after, $4 last. */
static const char *const event_steps[] = {
	"INSERT INTO rb_events SELECT store_id, time_us, type, card, campaign, gtin, discount_cents FROM events"
	" WHERE store_id = $1 AND terminal = $2 AND seq > $3::bigint AND seq <= $4::bigint AND campaign IS NOT NULL"
	" AND type IN ('offer_issued', 'offer_held_back', 'offer_redeemed')",
	"INSERT INTO rollup_campaign_day AS r SELECT campaign, (time_us / 86400000000)::int, store_id,"
	" count(*) FILTER (WHERE type = 'offer_issued'), count(*) FILTER (WHERE type = 'offer_held_back'),"
	" count(*) FILTER (WHERE type = 'offer_redeemed'),"
	" coalesce(sum(discount_cents) FILTER (WHERE type = 'offer_redeemed'), 0) FROM rb_events GROUP BY 1, 2, 3"
	" ON CONFLICT (campaign, day, store_id) DO UPDATE SET issued = r.issued + EXCLUDED.issued,"
	" held_back = r.held_back + EXCLUDED.held_back, redeemed = r.redeemed + EXCLUDED.redeemed,"
	" discount_cents = r.discount_cents + EXCLUDED.discount_cents",
	/* the unit of the experiment is (campaign, card): its first offer decides the arm (the
	 * till's holdout hashes campaign and card, so a card stays in one arm); its target is
	 * every item it was offered in the campaign. A unit the batch touches is re-converted. */
	"INSERT INTO rollup_offer AS o (campaign, card, arm, offered_us, gtins, store_id) SELECT campaign, card,"
	" (array_agg(CASE type WHEN 'offer_issued' THEN 't' ELSE 'c' END ORDER BY time_us, type))[1], min(time_us),"
	" coalesce(array_agg(DISTINCT lpad(gtin, 14, '0')) FILTER (WHERE gtin IS NOT NULL), '{}'),"
	" (array_agg(store_id ORDER BY time_us, type))[1] FROM rb_events WHERE card IS NOT NULL"
	" AND type IN ('offer_issued', 'offer_held_back') GROUP BY 1, 2 ON CONFLICT (campaign, card) DO UPDATE SET"
	" arm = CASE WHEN EXCLUDED.offered_us < o.offered_us OR (EXCLUDED.offered_us = o.offered_us"
	"  AND EXCLUDED.arm = 'c') THEN EXCLUDED.arm ELSE o.arm END,"
	" store_id = CASE WHEN EXCLUDED.offered_us < o.offered_us THEN EXCLUDED.store_id ELSE o.store_id END,"
	" offered_us = least(o.offered_us, EXCLUDED.offered_us),"
	" gtins = (SELECT coalesce(array_agg(DISTINCT g), '{}') FROM unnest(o.gtins || EXCLUDED.gtins) g),"
	" converted_us = NULL, converted_cents = NULL",
	"UPDATE rollup_offer o SET converted_us = x.time_us, converted_cents = x.total_cents FROM"
	" (SELECT DISTINCT ON (o2.campaign, o2.card) o2.campaign, o2.card, s.time_us, s.total_cents"
	"  FROM (SELECT DISTINCT campaign, card FROM rb_events WHERE card IS NOT NULL"
	"   AND type IN ('offer_issued', 'offer_held_back')) u"
	"  JOIN rollup_offer o2 ON o2.campaign = u.campaign AND o2.card = u.card"
	"  JOIN sales s ON s.card = o2.card AND s.type = 'sale' AND s.time_us > o2.offered_us"
	"  AND s.time_us <= o2.offered_us + " WINDOW_US " AND " ITEM_MATCHES("o2", "s")
	"  ORDER BY o2.campaign, o2.card, s.time_us, s.total_cents) x"
	" WHERE o.campaign = x.campaign AND o.card = x.card",
};

/* Statement i with %M (the month CASE) and %T (the tier CASE opening, closed after the
 * expression that follows it up to the next ',' at depth 0 or the end of a clause) expanded. */
static int expand(struct pm_buf *out, const char *tpl, const char *month_case, const struct pm_buf *tiers)
{
	int rc = PM_OK;
	out->len = 0;
	for (const char *p = tpl; !rc && *p;) {
		if (p[0] == '%' && p[1] == 'M') {
			rc = pm_buf_add(out, month_case, strlen(month_case));
			p += 2;
			continue;
		}
		if (p[0] == '%' && p[1] == 'T') {
			/* the expression: up to the ',' or ')' that closes it at depth 0 */
			const char *e = p + 2;
			int depth = 0;
			for (; *e && !(depth == 0 && (*e == ',' || *e == ')')); e++)
				depth += *e == '(' ? 1 : *e == ')' ? -1 : 0;
			for (const char *t = tiers->data, *end = tiers->data + tiers->len; !rc && t < end;) {
				const char *x = memchr(t, '\x01', (size_t)(end - t)); /* where the expression goes */
				size_t n = x ? (size_t)(x - t) : (size_t)(end - t);
				rc = pm_buf_add(out, t, n);
				if (!rc && x)
					rc = pm_buf_add(out, p + 2, (size_t)(e - (p + 2)));
				t += n + (x != NULL);
			}
			p = e;
			continue;
		}
		rc = pm_buf_add(out, p, 1);
		p++;
	}
	return rc ? rc : pm_buf_add(out, "", 1);
}

/* POSMARK_HQ_INGEST_TIMES=1: each statement on its own, its time logged (where a batch's rollup
 * time goes; the statements are those of one round trip otherwise). */
static bool timed(void)
{
	const char *e = getenv("POSMARK_HQ_INGEST_TIMES");
	return e && !strcmp(e, "1");
}

static int run_timed(PGconn *c, char *all, char *err, size_t errlen)
{
	int rc = PM_OK, i = 0;
	for (char *p = all, *e; !rc && p && *p; p = e ? e + 2 : NULL, i++) {
		for (e = p; *e && !(e[0] == ';' && e[1] == '\n'); e++) /* the statements' separator (run) */
			;
		if (*e)
			*e = '\0';
		else
			e = NULL;
		int64_t t0 = pm_mono_ns();
		rc = hqi_exec_ok(c, p, err, errlen);
		pm_info("rollup statement %d: %.1f ms: %.70s", i, (double)(pm_mono_ns() - t0) / 1e6, p);
	}
	return rc;
}

/*
 * All the statements of a batch in one round trip: each expanded (%M, %T), its parameters
 * written in as literals ($1, $2 the store and terminal, quoted by libpq; the others are
 * numbers this file formats), joined by ';' and sent with the temporary tables' DDL as one
 * PQexec, in the ingest transaction (the first error stops the rest and fails the batch).
 * A till's small batches then cost one round trip, not one per statement.
 */
static int run(PGconn *c, const char *const *steps, size_t n, int np, const char *const *pv, const char *month_case,
	       const struct pm_buf *tiers, char *err, size_t errlen)
{
	struct pm_buf sql = { 0 }, all = { 0 };
	char *lit[2] = { PQescapeLiteral(c, pv[0], strlen(pv[0])), PQescapeLiteral(c, pv[1], strlen(pv[1])) };
	int rc = lit[0] && lit[1] ? pm_buf_add(&all, temp_tables, strlen(temp_tables)) : PM_ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = expand(&sql, steps[i], month_case, tiers);
		rc = rc ? rc : pm_buf_add(&all, ";\n", 2);
		for (const char *p = sql.data; !rc && *p; p++) {
			int k = p[0] == '$' && p[1] >= '1' && p[1] <= '9' ? p[1] - '0' : 0;
			if (k && k <= np) {
				const char *v = k <= 2 ? lit[k - 1] : pv[k - 1];
				rc = k > 2 ? pm_buf_add(&all, "(", 1) : PM_OK; /* a negative number, then a cast */
				rc = rc ? rc : pm_buf_add(&all, v, strlen(v));
				rc = rc || k <= 2 ? rc : pm_buf_add(&all, ")", 1);
				p++;
			} else {
				rc = pm_buf_add(&all, p, 1);
			}
		}
	}
	rc = rc ? rc : pm_buf_add(&all, "", 1);
	if (rc)
		snprintf(err, errlen, "out of memory");
	else if (timed())
		rc = run_timed(c, all.data, err, errlen);
	else
		rc = hqi_exec_ok(c, all.data, err, errlen);
	PQfreemem(lit[0]);
	PQfreemem(lit[1]);
	pm_buf_free(&sql);
	pm_buf_free(&all);
	return rc ? PM_EIO : PM_OK;
}

/* The tier of a window value: "CASE WHEN (\1) >= t THEN k ... ELSE 0 END" over rollup_tiers,
 * highest first, \1 where the expression goes. */
static int tier_case(PGconn *c, struct pm_buf *out, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT tier, threshold_cents FROM rollup_tiers ORDER BY threshold_cents DESC, tier DESC");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return PM_EIO;
	}
	static const char head[] = "CASE WHEN (\x01) IS NULL THEN NULL";
	int rc = pm_buf_add(out, head, sizeof(head) - 1);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		char t[96];
		int n = snprintf(t, sizeof(t), " WHEN (\x01) >= %s THEN %s", PQgetvalue(r, i, 1), PQgetvalue(r, i, 0));
		rc = pm_buf_add(out, t, (size_t)n);
	}
	rc = rc ? rc : pm_buf_add(out, " ELSE 0 END", 11);
	PQclear(r);
	return rc;
}

int hq_rollup_batch(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		    uint64_t last, const int64_t *months, int n_months, char *err, size_t errlen)
{
	/* POSMARK_HQ_ROLLUPS=off: ingest without them (a bulk back-load, or the benchmark's
	 * baseline); the pages then lag until SELECT rollup_rebuild() (docs/console.md) */
	const char *off = getenv("POSMARK_HQ_ROLLUPS");
	if (off && !strcmp(off, "off"))
		return PM_OK;
	char as[24], ls[24], t0[24], t1[24];
	snprintf(as, sizeof(as), "%" PRIu64, after);
	snprintf(ls, sizeof(ls), "%" PRIu64, last);
	const char *pv[6] = { store, terminal, as, ls, t0, t1 };
	if (batch_kind != WIRE_BATCH_SALES)
		return run(c, event_steps, sizeof(event_steps) / sizeof(event_steps[0]), 4, pv, "", &(struct pm_buf){ 0 },
			   err, errlen);
	/* the months' span: [earliest start, one month past the latest start] (a month is at
	 * most 31 days; the bound only prunes partitions, the seq range selects the rows) */
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (int i = 0; i < n_months; i++) {
		lo = months[i] < lo ? months[i] : lo;
		hi = months[i] > hi ? months[i] : hi;
	}
	if (n_months <= 0) {
		lo = INT64_MIN;
		hi = INT64_MAX - 1;
	} else {
		hi += INT64_C(32) * 86400 * 1000000;
	}
	snprintf(t0, sizeof(t0), "%" PRId64, lo);
	snprintf(t1, sizeof(t1), "%" PRId64, hi);
	/* the month of each row from the batch's month starts (sorted), plain comparisons */
	int64_t ms[64];
	int n = 0;
	for (int i = 0; i < n_months && n < 64; i++)
		ms[n++] = months[i];
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && ms[j - 1] > ms[j]; j--) {
			int64_t x = ms[j];
			ms[j] = ms[j - 1];
			ms[j - 1] = x;
		}
	struct pm_buf mc = { 0 }, tiers = { 0 };
	int rc = PM_OK;
	char t[128];
	for (int i = 0; !rc && i < n; i++) {
		time_t s = (time_t)(ms[i] / 1000000);
		struct tm tm;
		gmtime_r(&s, &tm);
		int m = (tm.tm_year + 1900) * 12 + tm.tm_mon, len;
		if (n == 1)
			len = snprintf(t, sizeof(t), "%d", m);
		else if (i + 1 < n)
			len = snprintf(t, sizeof(t), "%s WHEN time_us < %" PRId64 " THEN %d", i ? "" : "CASE", ms[i + 1], m);
		else
			len = snprintf(t, sizeof(t), " ELSE %d END", m);
		rc = pm_buf_add(&mc, t, (size_t)len);
	}
	if (!rc && n == 0)
		rc = pm_buf_add(&mc, "rollup_month(time_us)", 21);
	rc = rc ? rc : pm_buf_add(&mc, "", 1);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		pm_buf_free(&mc);
		return PM_EIO;
	}
	rc = tier_case(c, &tiers, err, errlen);
	if (!rc)
		rc = run(c, sales_steps, sizeof(sales_steps) / sizeof(sales_steps[0]), 6, pv, mc.data, &tiers, err, errlen);
	pm_buf_free(&mc);
	pm_buf_free(&tiers);
	return rc;
}
