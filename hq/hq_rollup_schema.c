/*
 * hq_rollup_schema.c - migration 7: the console's rollup tables, the SQL
 * functions ingest and erasure call, the ledger's trigger, and
 * rollup_rebuild(), which recomputes every rollup from the raw tables (the
 * migration's back-fill, and the reference the tests compare against).
 * docs/console.md, "Page data", says what each column means.
 *
 * Time buckets are UTC: day = time_us / 86400e6 (days since 1970-01-01),
 * month = year * 12 + month - 1.
 */
#include "hq/hq_rollup_int.h"
#include "hq/hq_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <stdio.h>

/* Money a card paid on a sales row (HQI_MONEY_SQL, for the tier and RFM). */
#define MONEY HQI_MONEY_SQL

/* rollup_conv moves by the units a statement on rollup_offer removed (old rows: minus) and
 * added (new rows: plus); one trigger function per statement kind, over the tables it has. */
#define CONV_CELLS(tbl, sign) "SELECT campaign, (offered_us / 86400000000)::int AS d, store_id, arm," \
	" coalesce(((converted_us - offered_us) / 86400000000)::int, -1) AS lag, " sign "1 AS u," \
	" " sign "coalesce(converted_cents, 0) AS cc FROM " tbl
#define CONV_TRIGGER(name, sides, refs, event) \
	"CREATE FUNCTION rollup_offer_" name "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
	"  INSERT INTO rollup_conv AS r SELECT campaign, d, store_id, arm, lag, sum(u), sum(cc) FROM (" sides \
	"  ) x GROUP BY 1, 2, 3, 4, 5 HAVING sum(u) <> 0 OR sum(cc) <> 0 ON CONFLICT (campaign, day, store_id, arm, lag)" \
	"  DO UPDATE SET units = r.units + EXCLUDED.units, conv_cents = r.conv_cents + EXCLUDED.conv_cents;" \
	"  RETURN NULL; END $$;" \
	"CREATE TRIGGER rollup_offer_" name " AFTER " event " ON rollup_offer REFERENCING " refs \
	"  FOR EACH STATEMENT EXECUTE FUNCTION rollup_offer_" name "();"

/* The parts of rollup_rebuild() that migrations 7 and 10 share (the same text in both). */
#define REBUILD_STORE_DAY \
	"  INSERT INTO rollup_store_day SELECT store_id, (time_us / 86400000000)::int, currency," \
	"   count(*) FILTER (WHERE type = 'sale'), count(*) FILTER (WHERE type = 'sale' AND card IS NOT NULL)," \
	"   coalesce(sum(total_cents) FILTER (WHERE type = 'sale'), 0), count(*) FILTER (WHERE type = 'return')," \
	"   coalesce(sum(refund_cents) FILTER (WHERE type = 'return'), 0), sum(discount_cents), sum(points_earned)," \
	"   max(time_us) FROM sales GROUP BY 1, 2, 3;"
#define REBUILD_CAMPAIGNS_LEDGER \
	"  INSERT INTO rollup_campaign_day SELECT campaign, (time_us / 86400000000)::int, store_id," \
	"   count(*) FILTER (WHERE type = 'offer_issued'), count(*) FILTER (WHERE type = 'offer_held_back')," \
	"   count(*) FILTER (WHERE type = 'offer_redeemed')," \
	"   coalesce(sum(discount_cents) FILTER (WHERE type = 'offer_redeemed'), 0) FROM events" \
	"   WHERE campaign IS NOT NULL AND type IN ('offer_issued', 'offer_held_back', 'offer_redeemed') GROUP BY 1, 2, 3;" \
	"  INSERT INTO rollup_offer (campaign, card, arm, offered_us, gtins, store_id) SELECT campaign, card," \
	"   (array_agg(CASE type WHEN 'offer_issued' THEN 't' ELSE 'c' END ORDER BY time_us, type))[1], min(time_us)," \
	"   coalesce(array_agg(DISTINCT lpad(gtin, 14, '0')) FILTER (WHERE gtin IS NOT NULL), '{}')," \
	"   (array_agg(store_id ORDER BY time_us, type))[1] FROM events WHERE campaign IS NOT NULL AND card IS NOT NULL" \
	"   AND type IN ('offer_issued', 'offer_held_back') GROUP BY 1, 2;" \
	"  UPDATE rollup_offer o SET converted_us = x.time_us, converted_cents = x.total_cents FROM" \
	"   (SELECT DISTINCT ON (o2.campaign, o2.card) o2.campaign, o2.card, s.time_us, s.total_cents" \
	"    FROM rollup_offer o2 JOIN sales s ON s.card = o2.card AND s.type = 'sale' AND s.time_us > o2.offered_us" \
	"    AND s.time_us <= o2.offered_us + 7776000000000 AND (o2.gtins = '{}' OR EXISTS (SELECT 1 FROM" \
	"    jsonb_array_elements(s.items) i WHERE lpad(i->>'gtin', 14, '0') = ANY (o2.gtins)))" \
	"    ORDER BY o2.campaign, o2.card, s.time_us, s.total_cents) x" \
	"   WHERE o.campaign = x.campaign AND o.card = x.card;" \
	"  INSERT INTO rollup_ledger_day SELECT coalesce(store_id, ''), (time_us / 86400000000)::int, kind," \
	"   sum(points), count(*) FROM ledger GROUP BY 1, 2, 3;"

/* The rebuild's per-card rows from sales (migrations 10 and 12): cm, each card's months;
 * k, the card; r, its recent months (the tier window). */
#define REBUILD_CARDS_FROM \
	"  WITH cm AS (SELECT card, rollup_month(time_us) AS month, count(*) FILTER (WHERE type = 'sale') AS v," \
	"    sum(" MONEY ")::bigint AS s, min(time_us) FILTER (WHERE type = 'sale') AS f," \
	"    max(time_us) FILTER (WHERE type = 'sale') AS l FROM sales WHERE card IS NOT NULL GROUP BY 1, 2)," \
	"   k AS (SELECT card, min(f) AS f, max(l) AS l, sum(v)::bigint AS v, sum(s)::bigint AS s," \
	"    rollup_month(max(l)) AS lm, array_agg(month ORDER BY month) FILTER (WHERE v > 0) AS act FROM cm GROUP BY card)," \
	"   r AS (SELECT cm.card, array_agg(cm.month ORDER BY cm.month) AS rm, array_agg(cm.s ORDER BY cm.month) AS rs," \
	"    sum(cm.s) FILTER (WHERE cm.month <= k.lm)::bigint AS w FROM cm JOIN k USING (card)" \
	"    WHERE k.lm IS NULL OR cm.month >= k.lm - 11 GROUP BY cm.card)"
#define REBUILD_CARDS_SELECT \
	"k.f, k.l, k.v, k.s, coalesce(r.w, 0), rollup_tier_of(coalesce(r.w, 0))," \
	"   rollup_mb(k.s), rollup_month(k.f), k.lm, coalesce(k.act, '{}'), coalesce(r.rm, '{}'), coalesce(r.rs, '{}')" \
	"   FROM k LEFT JOIN r USING (card)"
#define REBUILD_CARD_COUNTS \
	"  INSERT INTO rollup_cohort SELECT c.fm, m.month, count(*) FROM rollup_card c, unnest(c.active) AS m(month)" \
	"   WHERE c.visits > 0 GROUP BY 1, 2;" \
	"  INSERT INTO rollup_tier SELECT tier, count(*) FROM rollup_card WHERE visits > 0 GROUP BY 1;" \
	"  INSERT INTO rollup_rfm SELECT (last_us / 86400000000)::int, rollup_fb(visits), rollup_mb(spend_cents)," \
	"   count(*) FROM rollup_card WHERE visits > 0 GROUP BY 1, 2, 3;"

/* rollup_erase()'s parts that migrations 7 and 10 share: the card's member sales out of the
 * store-days, its row read, and (inside IF it had a sale) its tier and RFM cell counted out. */
#define ERASE_HEAD \
	" DECLARE r rollup_card; BEGIN" \
	"  UPDATE rollup_store_day d SET member_sales = d.member_sales - s.n FROM (SELECT store_id," \
	"   (time_us / 86400000000)::int AS day, currency, count(*) AS n FROM sales WHERE card = c AND type = 'sale'" \
	"   GROUP BY 1, 2, 3) s WHERE d.store_id = s.store_id AND d.day = s.day AND d.currency = s.currency;" \
	"  SELECT * INTO r FROM rollup_card WHERE card = c;" \
	"  IF FOUND AND r.visits > 0 THEN"
#define ERASE_TIER_RFM \
	"   UPDATE rollup_tier SET cards = cards - 1 WHERE tier = r.tier;" \
	"   UPDATE rollup_rfm SET cards = cards - 1 WHERE last_day = (r.last_us / 86400000000)::int" \
	"    AND fb = rollup_fb(r.visits) AND mb = rollup_mb(r.spend_cents);" \
	"  END IF;"

const char hqr_migration_sql[] =
	"CREATE FUNCTION rollup_month(us bigint) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
	" $$ SELECT (extract(year FROM t) * 12 + extract(month FROM t) - 1)::int"
	"    FROM (SELECT to_timestamp(us / 1000000.0) AT TIME ZONE 'UTC' AS t) x $$;"
	"CREATE FUNCTION rollup_fb(visits bigint) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
	" $$ SELECT least(visits, 100)::int $$;"
	"CREATE FUNCTION rollup_mb(cents bigint) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
	" $$ SELECT CASE WHEN cents <= 0 THEN 0 ELSE 1 + floor(10 * log(cents::float8))::int END $$;"
	/* the tier table the rollups apply (seeded with the till's defaults; docs/console.md) */
	"CREATE TABLE rollup_tiers (tier int PRIMARY KEY, name text NOT NULL, threshold_cents bigint NOT NULL);"
	"INSERT INTO rollup_tiers VALUES (0, 'member', 0), (1, 'silver', 50000), (2, 'gold', 200000);"
	"CREATE FUNCTION rollup_tier_of(cents bigint) RETURNS int LANGUAGE sql STABLE AS"
	" $$ SELECT coalesce(max(tier), 0) FROM rollup_tiers WHERE threshold_cents <= cents $$;"
	"CREATE TABLE rollup_store_day (store_id text NOT NULL, day int NOT NULL, currency char(3) NOT NULL,"
	"  sales bigint NOT NULL DEFAULT 0, member_sales bigint NOT NULL DEFAULT 0,"
	"  sales_cents bigint NOT NULL DEFAULT 0, returns bigint NOT NULL DEFAULT 0,"
	"  refund_cents bigint NOT NULL DEFAULT 0, discount_cents bigint NOT NULL DEFAULT 0,"
	"  points_earned bigint NOT NULL DEFAULT 0, last_us bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (store_id, day, currency));"
	"CREATE INDEX rollup_store_day_day ON rollup_store_day (day);"
	/* per card: updated by every batch that sells to it, so its one secondary index is on a
	 * column that rarely changes (the spend bucket, for the lists) and pages keep room: most
	 * updates are then HOT (no index writes) */
	"CREATE TABLE rollup_card (card text PRIMARY KEY, first_us bigint, last_us bigint,"
	"  visits bigint NOT NULL DEFAULT 0, spend_cents bigint NOT NULL DEFAULT 0,"
	"  window_cents bigint DEFAULT 0, tier int NOT NULL DEFAULT 0, mb int NOT NULL DEFAULT 0, fm int, lm int)"
	"  WITH (fillfactor = 70);"
	"CREATE INDEX rollup_card_mb ON rollup_card (mb);"
	"CREATE TABLE rollup_card_month (card text NOT NULL, month int NOT NULL, visits bigint NOT NULL,"
	"  spend_cents bigint NOT NULL, PRIMARY KEY (card, month)) WITH (fillfactor = 80);"
	"CREATE TABLE rollup_cohort (cohort int NOT NULL, month int NOT NULL, cards bigint NOT NULL,"
	"  PRIMARY KEY (cohort, month));"
	"CREATE TABLE rollup_tier (tier int PRIMARY KEY, cards bigint NOT NULL);"
	"CREATE TABLE rollup_tier_move (month int NOT NULL, from_tier int NOT NULL, to_tier int NOT NULL,"
	"  cards bigint NOT NULL, PRIMARY KEY (month, from_tier, to_tier));"
	"CREATE TABLE rollup_rfm (last_day int NOT NULL, fb int NOT NULL, mb int NOT NULL, cards bigint NOT NULL,"
	"  PRIMARY KEY (last_day, fb, mb));"
	"CREATE TABLE rollup_campaign_day (campaign text NOT NULL, day int NOT NULL, store_id text NOT NULL,"
	"  issued bigint NOT NULL DEFAULT 0, held_back bigint NOT NULL DEFAULT 0, redeemed bigint NOT NULL DEFAULT 0,"
	"  discount_cents bigint NOT NULL DEFAULT 0, PRIMARY KEY (campaign, day, store_id));"
	"CREATE TABLE rollup_offer (campaign text NOT NULL, card text NOT NULL, arm char(1) NOT NULL,"
	"  offered_us bigint NOT NULL, gtins text[] NOT NULL, store_id text NOT NULL,"
	"  converted_us bigint, converted_cents bigint, PRIMARY KEY (campaign, card));"
	"CREATE INDEX rollup_offer_card ON rollup_offer (card);"
	"CREATE INDEX rollup_campaign_day_day ON rollup_campaign_day (day);"
	/* units by offer day, arm and days to conversion (-1: none yet), so the campaigns page sums a
	 * small table for any window: kept equal to rollup_offer by its statement triggers */
	"CREATE TABLE rollup_conv (campaign text NOT NULL, day int NOT NULL, store_id text NOT NULL, arm char(1) NOT NULL,"
	"  lag int NOT NULL, units bigint NOT NULL, conv_cents bigint NOT NULL,"
	"  PRIMARY KEY (campaign, day, store_id, arm, lag));"
	"CREATE INDEX rollup_conv_day ON rollup_conv (day);"
	CONV_TRIGGER("ins", CONV_CELLS("n", ""), "NEW TABLE AS n", "INSERT")
	CONV_TRIGGER("upd", CONV_CELLS("o", "-") " UNION ALL " CONV_CELLS("n", ""), "OLD TABLE AS o NEW TABLE AS n",
		     "UPDATE")
	CONV_TRIGGER("del", CONV_CELLS("o", "-"), "OLD TABLE AS o", "DELETE")
	"CREATE TABLE rollup_ledger_day (store_id text NOT NULL, day int NOT NULL, kind text NOT NULL,"
	"  points bigint NOT NULL, entries bigint NOT NULL, PRIMARY KEY (store_id, day, kind));"
	"CREATE INDEX rollup_ledger_day_day ON rollup_ledger_day (day);"
	"CREATE INDEX accounts_negative ON accounts (card) WHERE points < 0;"
	/* the ledger has three writers (ingest, card adjust, cards import) and erasure deletes from
	 * it: a statement trigger keeps rollup_ledger_day equal to it whoever writes */
	"CREATE FUNCTION rollup_ledger_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  INSERT INTO rollup_ledger_day AS r SELECT coalesce(store_id, ''), (time_us / 86400000000)::int, kind,"
	"   sum(points), count(*) FROM n GROUP BY 1, 2, 3 ON CONFLICT (store_id, day, kind) DO UPDATE"
	"   SET points = r.points + EXCLUDED.points, entries = r.entries + EXCLUDED.entries; RETURN NULL; END $$;"
	"CREATE FUNCTION rollup_ledger_del() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  UPDATE rollup_ledger_day r SET points = r.points - o.p, entries = r.entries - o.k FROM"
	"   (SELECT coalesce(store_id, '') AS s, (time_us / 86400000000)::int AS d, kind, sum(points) AS p,"
	"    count(*) AS k FROM o GROUP BY 1, 2, 3) o WHERE r.store_id = o.s AND r.day = o.d AND r.kind = o.kind;"
	"  RETURN NULL; END $$;"
	"CREATE TRIGGER ledger_rollup_ins AFTER INSERT ON ledger REFERENCING NEW TABLE AS n"
	"  FOR EACH STATEMENT EXECUTE FUNCTION rollup_ledger_ins();"
	"CREATE TRIGGER ledger_rollup_del AFTER DELETE ON ledger REFERENCING OLD TABLE AS o"
	"  FOR EACH STATEMENT EXECUTE FUNCTION rollup_ledger_del();"
	/* erasure: the card's share of every rollup goes, before its rows lose the card */
	"CREATE FUNCTION rollup_erase(c text) RETURNS void LANGUAGE plpgsql AS $$"
	ERASE_HEAD
	"   UPDATE rollup_cohort k SET cards = k.cards - 1 FROM rollup_card_month m WHERE m.card = c"
	"    AND m.visits > 0 AND k.cohort = rollup_month(r.first_us) AND k.month = m.month;"
	ERASE_TIER_RFM
	"  DELETE FROM rollup_card WHERE card = c; DELETE FROM rollup_card_month WHERE card = c;"
	"  DELETE FROM rollup_offer WHERE card = c; END $$;"
	/* everything from the raw tables: the back-fill, and what the tests compare with */
	"CREATE FUNCTION rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
	"  TRUNCATE rollup_store_day, rollup_card, rollup_card_month, rollup_cohort, rollup_tier, rollup_rfm,"
	"   rollup_campaign_day, rollup_offer, rollup_conv, rollup_ledger_day;"
	REBUILD_STORE_DAY
	"  INSERT INTO rollup_card_month SELECT card, rollup_month(time_us), count(*) FILTER (WHERE type = 'sale'),"
	"   sum(" MONEY ") FROM sales WHERE card IS NOT NULL GROUP BY 1, 2;"
	"  INSERT INTO rollup_card (card, first_us, last_us, visits, spend_cents, mb, fm, lm) SELECT card,"
	"   min(time_us) FILTER (WHERE type = 'sale'), max(time_us) FILTER (WHERE type = 'sale'),"
	"   count(*) FILTER (WHERE type = 'sale'), sum(" MONEY "), rollup_mb(sum(" MONEY ")::bigint),"
	"   rollup_month(min(time_us) FILTER (WHERE type = 'sale')), rollup_month(max(time_us) FILTER (WHERE type = 'sale'))"
	"   FROM sales WHERE card IS NOT NULL GROUP BY card;"
	"  UPDATE rollup_card c SET window_cents = w.s, tier = rollup_tier_of(w.s) FROM (SELECT k.card,"
	"   sum(m.spend_cents)::bigint AS s FROM rollup_card k JOIN rollup_card_month m ON m.card = k.card"
	"   AND m.month BETWEEN rollup_month(k.last_us) - 11 AND rollup_month(k.last_us) GROUP BY k.card) w"
	"   WHERE w.card = c.card;"
	"  INSERT INTO rollup_cohort SELECT rollup_month(c.first_us), m.month, count(*) FROM rollup_card c"
	"   JOIN rollup_card_month m ON m.card = c.card WHERE m.visits > 0 GROUP BY 1, 2;"
	"  INSERT INTO rollup_tier SELECT tier, count(*) FROM rollup_card WHERE visits > 0 GROUP BY 1;"
	"  INSERT INTO rollup_rfm SELECT (last_us / 86400000000)::int, rollup_fb(visits), rollup_mb(spend_cents),"
	"   count(*) FROM rollup_card WHERE visits > 0 GROUP BY 1, 2, 3;"
	REBUILD_CAMPAIGNS_LEDGER
	"  END $$;";

_Static_assert(HQR_MAX_WINDOW_DAYS * 86400LL * 1000000 == 7776000000000LL, "the rebuild's window constant");

int hqr_backfill(PGconn *c, char *err, size_t errlen)
{
	if (hqi_exec_ok(c, "SELECT rollup_rebuild()", err, errlen))
		return PM_EIO;
	pm_info("schema migration 7: the console's rollups computed from the rows already stored");
	return PM_OK;
}

/*
 * Migration 10: a card's months live in its rollup_card row (hq_rollup_cards.c says why):
 * active (months with a sale, for the cohorts) and recent_m / recent_s (spend per month
 * from 11 months before the last visit's month on, every month while the card has no
 * visit: the tier window). rollup_card_month goes; erasure and the rebuild read the row.
 * Every card's window_cents and tier are those of its recent months (0 without a visit).
 * Idempotent (applied again over itself, it recomputes the same rows).
 */
const char hqr_migration10_sql[] =
	"ALTER TABLE rollup_card ADD COLUMN IF NOT EXISTS active int[] NOT NULL DEFAULT '{}',"
	"  ADD COLUMN IF NOT EXISTS recent_m int[] NOT NULL DEFAULT '{}',"
	"  ADD COLUMN IF NOT EXISTS recent_s bigint[] NOT NULL DEFAULT '{}';"
	"DROP TABLE IF EXISTS rollup_card_month;"
	"CREATE OR REPLACE FUNCTION rollup_erase(c text) RETURNS void LANGUAGE plpgsql AS $$"
	ERASE_HEAD
	"   UPDATE rollup_cohort k SET cards = k.cards - 1 FROM unnest(r.active) AS m(month)"
	"    WHERE k.cohort = r.fm AND k.month = m.month;"
	ERASE_TIER_RFM
	"  DELETE FROM rollup_card WHERE card = c; DELETE FROM rollup_offer WHERE card = c; END $$;"
	"CREATE OR REPLACE FUNCTION rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
	"  TRUNCATE rollup_store_day, rollup_card, rollup_cohort, rollup_tier, rollup_rfm,"
	"   rollup_campaign_day, rollup_offer, rollup_conv, rollup_ledger_day;"
	REBUILD_STORE_DAY
	REBUILD_CARDS_FROM
	"  INSERT INTO rollup_card (card, first_us, last_us, visits, spend_cents, window_cents, tier, mb, fm, lm, active,"
	"   recent_m, recent_s) SELECT k.card, " REBUILD_CARDS_SELECT ";"
	REBUILD_CARD_COUNTS
	REBUILD_CAMPAIGNS_LEDGER
	"  END $$;"
	"SELECT rollup_rebuild();";

/*
 * Migration 12: one row per card. A card's rollup columns move into its accounts row
 * (rolled says it has them: the card has a sale or a return at HQ), and rollup_card
 * becomes a view of those rows, so every reader (pages, erasure, the tests) is unchanged.
 * Why: ingest writes a card's account and its rollups in the same batch; as two tables,
 * each batch dirtied (and, after every checkpoint, logged whole) a page of each for
 * every card: the largest part of what the rollups cost at 1,000,000 cards
 * (docs/benchmarks.md). The columns are named roll_* in accounts (roll_tier is the console's
 * tier over calendar months, not the tier the stores get). Now the rollups' update finds its page already in the batch's
 * hands. The view refuses writes (its trigger), so nothing deletes an account through it.
 * A card with rollups but no account (only before migration 3's ledger) gets an account
 * with change_serial 0: no store's cursor sees it. Idempotent.
 */
#define ACCOUNT_ROLLUP_COLS "roll_first_us, roll_last_us, roll_visits, roll_spend_cents, roll_window_cents," \
	" roll_tier, roll_mb, roll_fm, roll_lm, roll_active, roll_recent_m, roll_recent_s"
#define ACCOUNT_ROLLUP_SET "rolled = true, roll_first_us = EXCLUDED.roll_first_us, roll_last_us = EXCLUDED.roll_last_us," \
	" roll_visits = EXCLUDED.roll_visits, roll_spend_cents = EXCLUDED.roll_spend_cents," \
	" roll_window_cents = EXCLUDED.roll_window_cents, roll_tier = EXCLUDED.roll_tier, roll_mb = EXCLUDED.roll_mb," \
	" roll_fm = EXCLUDED.roll_fm, roll_lm = EXCLUDED.roll_lm, roll_active = EXCLUDED.roll_active," \
	" roll_recent_m = EXCLUDED.roll_recent_m, roll_recent_s = EXCLUDED.roll_recent_s"
#define ACCOUNT_ROLLUP_CLEAR "rolled = false, roll_first_us = NULL, roll_last_us = NULL, roll_visits = 0," \
	" roll_spend_cents = 0, roll_window_cents = 0, roll_tier = 0, roll_mb = 0, roll_fm = NULL, roll_lm = NULL," \
	" roll_active = '{}', roll_recent_m = '{}', roll_recent_s = '{}'"
/* rollup_card's columns, as the view names them (the names of the table it was) */
#define ROLLUP_CARD_VIEW_COLS "roll_first_us AS first_us, roll_last_us AS last_us, roll_visits AS visits," \
	" roll_spend_cents AS spend_cents, roll_window_cents AS window_cents, roll_tier AS tier, roll_mb AS mb," \
	" roll_fm AS fm, roll_lm AS lm, roll_active AS active, roll_recent_m AS recent_m, roll_recent_s AS recent_s"
const char hqr_migration12_sql[] =
	"ALTER TABLE accounts ADD COLUMN IF NOT EXISTS rolled boolean NOT NULL DEFAULT false,"
	"  ADD COLUMN IF NOT EXISTS roll_first_us bigint, ADD COLUMN IF NOT EXISTS roll_last_us bigint,"
	"  ADD COLUMN IF NOT EXISTS roll_visits bigint NOT NULL DEFAULT 0,"
	"  ADD COLUMN IF NOT EXISTS roll_spend_cents bigint NOT NULL DEFAULT 0,"
	"  ADD COLUMN IF NOT EXISTS roll_window_cents bigint DEFAULT 0, ADD COLUMN IF NOT EXISTS roll_tier int NOT NULL DEFAULT 0,"
	"  ADD COLUMN IF NOT EXISTS roll_mb int NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS roll_fm int,"
	"  ADD COLUMN IF NOT EXISTS roll_lm int, ADD COLUMN IF NOT EXISTS roll_active int[] NOT NULL DEFAULT '{}',"
	"  ADD COLUMN IF NOT EXISTS roll_recent_m int[] NOT NULL DEFAULT '{}',"
	"  ADD COLUMN IF NOT EXISTS roll_recent_s bigint[] NOT NULL DEFAULT '{}';"
	/* room on each page for the batch's second version of a row (a HOT update when the
	 * spend bucket stays) */
	"ALTER TABLE accounts SET (fillfactor = 70);"
	"DO $$ BEGIN"
	"  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('rollup_card')) = 'r' THEN"
	"   PERFORM set_config('posmark.store_cards_current', 'on', true);"
	"   INSERT INTO accounts (card, change_serial, rolled, " ACCOUNT_ROLLUP_COLS ")"
	"    SELECT card, 0, true, first_us, last_us, visits, spend_cents, window_cents, tier, mb, fm, lm, active,"
	"    recent_m, recent_s FROM rollup_card ON CONFLICT (card) DO UPDATE SET " ACCOUNT_ROLLUP_SET ";"
	"   PERFORM set_config('posmark.store_cards_current', '', true);"
	"   DROP TABLE rollup_card;"
	"  END IF; END $$;"
	"CREATE OR REPLACE VIEW rollup_card AS SELECT card, " ROLLUP_CARD_VIEW_COLS " FROM accounts WHERE rolled;"
	"CREATE OR REPLACE FUNCTION rollup_card_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'rollup_card is a view of accounts (migration 12): write the rollup columns of accounts';"
	"  END $$;"
	"DROP TRIGGER IF EXISTS rollup_card_refuse ON rollup_card;"
	"CREATE TRIGGER rollup_card_refuse INSTEAD OF INSERT OR UPDATE OR DELETE ON rollup_card"
	"  FOR EACH ROW EXECUTE FUNCTION rollup_card_refuse();"
	/* the member lists' index (rollup_card_mb went with its table) */
	"CREATE INDEX IF NOT EXISTS accounts_mb ON accounts (roll_mb) WHERE rolled;"
	"CREATE OR REPLACE FUNCTION rollup_erase(c text) RETURNS void LANGUAGE plpgsql AS $$"
	ERASE_HEAD
	"   UPDATE rollup_cohort k SET cards = k.cards - 1 FROM unnest(r.active) AS m(month)"
	"    WHERE k.cohort = r.fm AND k.month = m.month;"
	ERASE_TIER_RFM
	"  UPDATE accounts SET " ACCOUNT_ROLLUP_CLEAR " WHERE card = c AND rolled;"
	"  DELETE FROM rollup_offer WHERE card = c; END $$;"
	/* the accounts' trigger has nothing to do for these statements: no change_serial moves */
	"CREATE OR REPLACE FUNCTION rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
	"  TRUNCATE rollup_store_day, rollup_cohort, rollup_tier, rollup_rfm,"
	"   rollup_campaign_day, rollup_offer, rollup_conv, rollup_ledger_day;"
	"  PERFORM set_config('posmark.store_cards_current', 'on', true);"
	"  UPDATE accounts SET " ACCOUNT_ROLLUP_CLEAR " WHERE rolled;"
	REBUILD_STORE_DAY
	REBUILD_CARDS_FROM
	"  INSERT INTO accounts (card, change_serial, rolled, " ACCOUNT_ROLLUP_COLS ") SELECT k.card, 0, true, "
	REBUILD_CARDS_SELECT " ON CONFLICT (card) DO UPDATE SET " ACCOUNT_ROLLUP_SET ";"
	"  PERFORM set_config('posmark.store_cards_current', '', true);"
	REBUILD_CARD_COUNTS
	REBUILD_CAMPAIGNS_LEDGER
	"  END $$;";
