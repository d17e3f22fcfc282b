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
 * Per card, a batch changes first/last visit, visits and spend, and the
 * counts derived from them (cohort months, tier, RFM cell) move from the old
 * value to the new one: -1 there, +1 here. That part is computed in C from
 * the decoded batch and each card's old row (hq_rollup_cards.c).
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

#define WINDOW_US "7776000000000" /* HQR_MAX_WINDOW_DAYS */
#define ITEM_MATCHES(o, s) "(" o ".gtins = '{}' OR EXISTS (SELECT 1 FROM jsonb_array_elements(" s ".items) i" \
	" WHERE lpad(i->>'gtin', 14, '0') = ANY (" o ".gtins)))"

/* The batch's temporary tables: its rows read back once for the statements below. */
static const char *const temp_tables =
	"CREATE TEMP TABLE IF NOT EXISTS rb_sales (store_id text, time_us bigint, day int, card text,"
	" currency char(3), type text, total_cents bigint, discount_cents bigint, refund_cents bigint,"
	" points_earned bigint, items jsonb) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_events (store_id text, time_us bigint, type text, card text,"
	" campaign text, gtin text, discount_cents bigint) ON COMMIT DELETE ROWS";

/*
 * The statements of a sales batch, in order; $1 store, $2 terminal, $3 after, $4 last,
 * $5..$6 the batch's months [first start, last end).
 */
static const char *const sales_steps[] = {
	"INSERT INTO rb_sales SELECT store_id, time_us, (time_us / 86400000000)::int, card, currency, type,"
	" total_cents, discount_cents, refund_cents, points_earned, items FROM sales WHERE store_id = $1"
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

/* POSMARK_HQ_INGEST_TIMES=1: each statement on its own, its time logged (where a batch's rollup
 * time goes; the statements are those of one round trip otherwise). */
int hqr_timed(void)
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
 * All the statements of a batch in one round trip: their parameters
 * written in as literals ($1, $2 the store and terminal, quoted by libpq; the others are
 * numbers this file formats), joined by ';' and sent with the temporary tables' DDL as one
 * PQexec, in the ingest transaction (the first error stops the rest and fails the batch).
 * A till's small batches then cost one round trip, not one per statement.
 */
static int run(PGconn *c, const char *const *steps, size_t n, int np, const char *const *pv, char *err,
	       size_t errlen)
{
	struct pm_buf all = { 0 };
	char *lit[2] = { PQescapeLiteral(c, pv[0], strlen(pv[0])), PQescapeLiteral(c, pv[1], strlen(pv[1])) };
	int rc = lit[0] && lit[1] ? pm_buf_add(&all, temp_tables, strlen(temp_tables)) : PM_ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = pm_buf_add(&all, ";\n", 2);
		for (const char *p = steps[i]; !rc && *p; p++) {
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
	else if (hqr_timed())
		rc = run_timed(c, all.data, err, errlen);
	else
		rc = hqi_exec_ok(c, all.data, err, errlen);
	PQfreemem(lit[0]);
	PQfreemem(lit[1]);
	pm_buf_free(&all);
	return rc ? PM_EIO : PM_OK;
}

int hq_rollup_batch(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		    uint64_t last, const int64_t *months, int n_months, struct hqr_cards *cards, char *err,
		    size_t errlen)
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
		return run(c, event_steps, sizeof(event_steps) / sizeof(event_steps[0]), 4, pv, err, errlen);
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
	int rc = run(c, sales_steps, sizeof(sales_steps) / sizeof(sales_steps[0]), 6, pv, err, errlen);
	/* then the per-card rollups, under the serial lock (after the statements above, which
	 * lock rollup_offer rows as an events batch does before it takes the same lock); the
	 * caller finishes them */
	if (!rc && cards)
		rc = hqr_cards_begin(c, cards, err, errlen);
	return rc;
}
