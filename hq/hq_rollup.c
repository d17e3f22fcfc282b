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

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MONEY HQI_MONEY_SQL
#define WINDOW_US "7776000000000" /* HQR_MAX_WINDOW_DAYS */
#define ITEM_MATCHES(o, s) "(" o ".gtins = '{}' OR EXISTS (SELECT 1 FROM jsonb_array_elements(" s ".items) i" \
	" WHERE lpad(i->>'gtin', 14, '0') = ANY (" o ".gtins)))"

static const char *const temp_tables =
	"CREATE TEMP TABLE IF NOT EXISTS rb_sales (store_id text, time_us bigint, card text, currency char(3),"
	" type text, total_cents bigint, discount_cents bigint, refund_cents bigint, points_earned bigint,"
	" money bigint, items jsonb) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_cm (card text, month int, visits bigint, spend bigint,"
	" first_us bigint, last_us bigint) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_card (card text PRIMARY KEY) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_old (LIKE rollup_card) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS rb_events (store_id text, time_us bigint, type text, card text,"
	" campaign text, gtin text, discount_cents bigint) ON COMMIT DELETE ROWS";

/* The statements of a sales batch, in order; $1 store, $2 terminal, $3 after, $4 last,
 * $5..$6 the batch's months [first start, last end). */
static const char *const sales_steps[] = {
	"INSERT INTO rb_sales SELECT store_id, time_us, card, currency, type, total_cents, discount_cents,"
	" refund_cents, points_earned, " MONEY ", items FROM sales WHERE store_id = $1 AND terminal = $2"
	" AND seq > $3::bigint AND seq <= $4::bigint AND time_us >= $5::bigint AND time_us < $6::bigint",
	"INSERT INTO rollup_store_day AS r SELECT store_id, (time_us / 86400000000)::int, currency,"
	" count(*) FILTER (WHERE type = 'sale'), count(*) FILTER (WHERE type = 'sale' AND card IS NOT NULL),"
	" coalesce(sum(total_cents) FILTER (WHERE type = 'sale'), 0), count(*) FILTER (WHERE type = 'return'),"
	" coalesce(sum(refund_cents) FILTER (WHERE type = 'return'), 0), sum(discount_cents), sum(points_earned),"
	" max(time_us) FROM rb_sales GROUP BY 1, 2, 3 ON CONFLICT (store_id, day, currency) DO UPDATE SET"
	" sales = r.sales + EXCLUDED.sales, member_sales = r.member_sales + EXCLUDED.member_sales,"
	" sales_cents = r.sales_cents + EXCLUDED.sales_cents, returns = r.returns + EXCLUDED.returns,"
	" refund_cents = r.refund_cents + EXCLUDED.refund_cents,"
	" discount_cents = r.discount_cents + EXCLUDED.discount_cents,"
	" points_earned = r.points_earned + EXCLUDED.points_earned, last_us = greatest(r.last_us, EXCLUDED.last_us)",
	"INSERT INTO rb_cm SELECT card, rollup_month(time_us), count(*) FILTER (WHERE type = 'sale'), sum(money),"
	" min(time_us) FILTER (WHERE type = 'sale'), max(time_us) FILTER (WHERE type = 'sale') FROM rb_sales"
	" WHERE card IS NOT NULL GROUP BY 1, 2",
	"INSERT INTO rb_card SELECT DISTINCT card FROM rb_cm",
	"ANALYZE rb_sales, rb_cm, rb_card",
	"INSERT INTO rb_old SELECT c.* FROM rb_card b JOIN rollup_card c ON c.card = b.card",
	"INSERT INTO rollup_card_month AS m SELECT card, month, visits, spend FROM rb_cm"
	" ON CONFLICT (card, month) DO UPDATE SET visits = m.visits + EXCLUDED.visits,"
	" spend_cents = m.spend_cents + EXCLUDED.spend_cents",
	"INSERT INTO rollup_card AS c (card, first_us, last_us, visits, spend_cents) SELECT card, min(first_us),"
	" max(last_us), sum(visits), sum(spend) FROM rb_cm GROUP BY card ON CONFLICT (card) DO UPDATE SET"
	" first_us = least(c.first_us, EXCLUDED.first_us), last_us = greatest(c.last_us, EXCLUDED.last_us),"
	" visits = c.visits + EXCLUDED.visits, spend_cents = c.spend_cents + EXCLUDED.spend_cents",
	/* the tier window: the 12 UTC months ending with the month of the last visit */
	"UPDATE rollup_card c SET window_cents = w.s, tier = rollup_tier_of(w.s) FROM (SELECT k.card,"
	" sum(m.spend_cents)::bigint AS s FROM rb_card b JOIN rollup_card k ON k.card = b.card JOIN rollup_card_month m"
	" ON m.card = k.card AND m.month BETWEEN rollup_month(k.last_us) - 11 AND rollup_month(k.last_us)"
	" GROUP BY k.card) w WHERE c.card = w.card",
	/* cohort x month: months newly active in an unchanged cohort; a card whose first month
	 * moved (a new card, a sale dated before its first) leaves its old cohort whole and joins
	 * the new one whole */
	"INSERT INTO rollup_cohort AS k SELECT cohort, month, sum(d) FROM ("
	" SELECT rollup_month(n.first_us) AS cohort, b.month, 1 AS d FROM rb_cm b JOIN rollup_card n ON n.card = b.card"
	"  JOIN rb_old o ON o.card = b.card JOIN rollup_card_month m ON m.card = b.card AND m.month = b.month"
	"  WHERE rollup_month(n.first_us) = rollup_month(o.first_us) AND b.visits > 0 AND m.visits = b.visits"
	" UNION ALL SELECT rollup_month(o.first_us), m.month, -1 FROM rb_old o JOIN rollup_card n ON n.card = o.card"
	"  JOIN rollup_card_month m ON m.card = o.card LEFT JOIN rb_cm b ON b.card = m.card AND b.month = m.month"
	"  WHERE rollup_month(o.first_us) <> rollup_month(n.first_us) AND m.visits - coalesce(b.visits, 0) > 0"
	" UNION ALL SELECT rollup_month(n.first_us), m.month, 1 FROM rb_card b JOIN rollup_card n ON n.card = b.card"
	"  LEFT JOIN rb_old o ON o.card = b.card JOIN rollup_card_month m ON m.card = b.card"
	"  WHERE n.first_us IS NOT NULL AND rollup_month(n.first_us) IS DISTINCT FROM rollup_month(o.first_us)"
	"  AND m.visits > 0) x GROUP BY 1, 2 HAVING sum(d) <> 0"
	" ON CONFLICT (cohort, month) DO UPDATE SET cards = k.cards + EXCLUDED.cards",
	"INSERT INTO rollup_tier AS t SELECT tier, sum(d) FROM (SELECT o.tier, -1 AS d FROM rb_old o WHERE o.visits > 0"
	" UNION ALL SELECT n.tier, 1 FROM rb_card b JOIN rollup_card n ON n.card = b.card WHERE n.visits > 0) x"
	" GROUP BY 1 HAVING sum(d) <> 0 ON CONFLICT (tier) DO UPDATE SET cards = t.cards + EXCLUDED.cards",
	/* movement as it happens: from the tier at the previous visit (-1: a new member) */
	"INSERT INTO rollup_tier_move AS t SELECT rollup_month(n.last_us), coalesce(o.tier, -1), n.tier, count(*)"
	" FROM rb_card b JOIN rollup_card n ON n.card = b.card LEFT JOIN rb_old o ON o.card = b.card AND o.visits > 0"
	" WHERE n.visits > 0 AND (o.card IS NULL OR o.tier <> n.tier) GROUP BY 1, 2, 3"
	" ON CONFLICT (month, from_tier, to_tier) DO UPDATE SET cards = t.cards + EXCLUDED.cards",
	"INSERT INTO rollup_rfm AS r SELECT d, f, m, sum(k) FROM ("
	" SELECT (o.last_us / 86400000000)::int AS d, rollup_fb(o.visits) AS f, rollup_mb(o.spend_cents) AS m, -1 AS k"
	"  FROM rb_old o WHERE o.visits > 0"
	" UNION ALL SELECT (n.last_us / 86400000000)::int, rollup_fb(n.visits), rollup_mb(n.spend_cents), 1"
	"  FROM rb_card b JOIN rollup_card n ON n.card = b.card WHERE n.visits > 0) x GROUP BY 1, 2, 3"
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

static int run(PGconn *c, const char *const *steps, size_t n, int np, const char *const *pv, char *err,
	       size_t errlen)
{
	if (hqi_exec_ok(c, temp_tables, err, errlen))
		return PM_EIO;
	for (size_t i = 0; i < n; i++) {
		/* each statement gets the parameters it names ($1..$k; PostgreSQL refuses others) */
		int k = 0;
		for (const char *d = strchr(steps[i], '$'); d; d = strchr(d + 1, '$'))
			if (d[1] >= '1' && d[1] <= '9' && d[1] - '0' > k)
				k = d[1] - '0';
		if (hqi_exec(c, steps[i], k < np ? k : np, pv, NULL, NULL, err, errlen))
			return PM_EIO;
	}
	return PM_OK;
}

int hq_rollup_batch(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		    uint64_t last, const int64_t *months, int n_months, char *err, size_t errlen)
{
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
	return run(c, sales_steps, sizeof(sales_steps) / sizeof(sales_steps[0]), 6, pv, err, errlen);
}
