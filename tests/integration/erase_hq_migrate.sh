#!/usr/bin/env bash
# erase_hq_migrate.sh - schema migration 5 (docs/privacy.md, "At HQ"; docs/hq.md):
# a database of version 4 with card numbers in every table (sales, events with
# their payloads, ledger incl. an imported balance, accounts, store_cards,
# cards, a pending erasure and a consent in downlink, the review queue, an
# erasure record with the number's SHA-256) is converted in one step: refs
# everywhere, the vault filled under a key file made 0600, payloads dropped,
# the SHA-256 column gone, statistics retaken, the import still recognised.
# The old WAL still holds the numbers (as documented); the documented full
# clean, pg_dump into a new cluster, leaves none.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap '[ -d "$HQ_TMP/pg2" ] && as_pg "$PGBIN/pg_ctl" -D "$HQ_TMP/pg2" -m immediate -w stop >/dev/null 2>&1; hq_cleanup' EXIT
pg_start fsync=off
T=$HQ_TMP
N1=6036010000001000377 N2=5550001 N3=4000001234567899 N4=6036010000001000013
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
check "a new database migrates without a card key (nothing to seal yet)" '[ ! -e "$POSMARK_HQ_CARD_KEY" ]'
# back to version 4 (migration 5 undone), then version 4's rows with numbers
psql -X -q -v ON_ERROR_STOP=1 "$HQ_DB" >/dev/null <<SQL
DELETE FROM schema_migrations WHERE version >= 5;   -- the later ones (6: console, IF NOT EXISTS) run again
-- 7 (the console's rollups) undone too: its tables, functions (and their triggers) and index
-- 12 (rollup_card a view of the accounts' rollup columns) undone first
DROP VIEW IF EXISTS rollup_card;
ALTER TABLE accounts DROP COLUMN IF EXISTS rolled, DROP COLUMN IF EXISTS roll_first_us, DROP COLUMN IF EXISTS roll_last_us,
  DROP COLUMN IF EXISTS roll_visits, DROP COLUMN IF EXISTS roll_spend_cents, DROP COLUMN IF EXISTS roll_window_cents,
  DROP COLUMN IF EXISTS roll_tier, DROP COLUMN IF EXISTS roll_mb, DROP COLUMN IF EXISTS roll_fm, DROP COLUMN IF EXISTS roll_lm,
  DROP COLUMN IF EXISTS roll_active, DROP COLUMN IF EXISTS roll_recent_m, DROP COLUMN IF EXISTS roll_recent_s;
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'rollup\_%' LOOP
    EXECUTE format('DROP TABLE %I CASCADE', r.tablename); END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.proname LIKE 'rollup\_%' LOOP
    EXECUTE format('DROP FUNCTION %s CASCADE', r.f); END LOOP;
END \$\$;
DROP INDEX IF EXISTS accounts_negative;
DROP TABLE card_vault, vault_meta; DROP FUNCTION card_vault_epoch();
ALTER TABLE downlink DROP COLUMN lookup, DROP COLUMN sealed;
ALTER TABLE erasures DROP COLUMN card_mac, ADD COLUMN card_sha256 bytea NOT NULL;
ALTER TABLE events ALTER COLUMN payload DROP DEFAULT;
CREATE TABLE sales_y2025m11 PARTITION OF sales FOR VALUES FROM (1761955200000000) TO (1764547200000000);
INSERT INTO sales (store_id, terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents,
  points_earned, items, redeemed) VALUES ('S1', 'T1', 1, 1763596800000000, '$N1', 'EUR', 'cash', 1000, 0, 1000, 10,
  '[{"gtin":"04006381333931","qty":1,"price_cents":1000,"line_cents":1000}]', '[]');
INSERT INTO events (store_id, terminal, seq, time_us, type, card, payload, consent) VALUES
  ('S1', 'T1', 1, 1763596800000000, 'consent', '$N1', '$N1 yes', 'yes');
INSERT INTO events (store_id, terminal, seq, time_us, type, card, campaign, rule, payload) VALUES
  ('S1', 'T1', 2, 1763596800000001, 'offer_issued', '$N1', 'C1', 'R1', '{"v":1,"sale":1,"campaign":"C1","rule":"R1","card":"$N1"}');
INSERT INTO ledger VALUES ('S1/T1', 1, 'earn', 'S1', 'T1', '$N1', 1763596800000000, 10, NULL),
  ('hq-import', 8021353555872877164, 'import', NULL, 'hq-import', '$N2', 1763596800000000, 500, NULL);
INSERT INTO accounts (card, points, change_serial, tier_floor, tier_floor_until_us) VALUES ('$N1', 10, 1, 0, 0),
  ('$N2', 500, 2, 2, 4102444800000000);
INSERT INTO store_cards VALUES ('S1', '$N1', 1);
INSERT INTO cards VALUES ('$N1', 'yes', 1763596800000000, 'S1');
INSERT INTO downlink (store_id, type, card, consent, created_us) VALUES ('S1', 'erasure', '$N3', NULL, 1),
  ('S1', 'consent', '$N1', 'no', 2);
INSERT INTO review_requests (store_id, terminal, seq, type, card, consent, event_us, received_us, reason)
  VALUES ('S1', 'T1', 3, 'consent', '$N4', 'no', 1, 1, 'the store never sold to or made an offer to this card');
INSERT INTO erasures (card_sha256, requested_us) VALUES (sha256('$N3'), 1);
ANALYZE;
SQL
check "a version 4 database with numbers in every table" '[ "$(psql_q "SELECT max(version) FROM schema_migrations")" = 4 ] && [ "$(psql_q "SELECT count(*) FROM pg_stats WHERE attname = '\''card'\'' AND most_common_vals::text ~ '\''[0-9]{7}'\''")" -gt 0 ]'

"$POSMARK_HQ" migrate --db "$HQ_DB" 2>"$T/mig.err"; rc=$?
schema_v=$(sed -n 's/^#define HQ_SCHEMA_VERSION \([0-9]*\).*/\1/p' hq/hq.h)
check "migrate: version $schema_v (through 5), the key file made 0600, a warning about the old WAL" '[ $rc -eq 0 ] && [ "$(psql_q "SELECT max(version) FROM schema_migrations")" = "$schema_v" ] && [ "$(stat -c %a "$POSMARK_HQ_CARD_KEY")" = 600 ] && grep -q "3 card number(s) moved into the card vault" "$T/mig.err" && grep -q "WAL" "$T/mig.err"'
check "every card column holds refs; the vault the 3 live numbers (not the erased one)" '[ "$(psql_q "SELECT count(*) FROM (SELECT card FROM sales UNION ALL SELECT card FROM events UNION ALL SELECT card FROM ledger UNION ALL SELECT card FROM accounts UNION ALL SELECT card FROM store_cards UNION ALL SELECT card FROM cards UNION ALL SELECT card FROM downlink UNION ALL SELECT card FROM review_requests) x WHERE card !~ '\''^k[a-z2-7]{26}$'\''")" = 0 ] && [ "$(psql_q "SELECT count(*) FROM card_vault")" = 3 ]'
check "payloads gone, the SHA-256 column gone, statistics of refs only" '[ "$(psql_q "SELECT count(*) FROM events WHERE payload <> '\'''\''")" = 0 ] && [ -z "$(psql_q "SELECT 1 FROM information_schema.columns WHERE table_name = '\''erasures'\'' AND column_name = '\''card_sha256'\''")" ] && [ "$(psql_q "SELECT count(*) FROM pg_stats WHERE attname = '\''card'\'' AND most_common_vals::text ~ '\''[0-9]{7}'\''")" = 0 ]'
check "the pending erasure keeps the number sealed, with its lookup" '[ "$(psql_q "SELECT count(*) FROM downlink WHERE type = '\''erasure'\'' AND length(lookup) = 32 AND sealed IS NOT NULL")" = 1 ]'
check "posmark-hq card finds the migrated numbers" '"$POSMARK_HQ" card "$N1" --db "$HQ_DB" --json | grep -q "\"card\":\"$N1\",\"ref\":\"k[a-z2-7]*\",\"points\":10" && "$POSMARK_HQ" card "$N2" --db "$HQ_DB" --json | grep -q "\"points\":500,\"tier\":2"'
printf 'card,points,tier\n%s,500,2\n' "$N2" >"$T/legacy.csv"
"$POSMARK_HQ" cards import "$T/legacy.csv" --db "$HQ_DB" 2>"$T/imp.err"; rc=$?
check "the import made before the migration is recognised: importing the file again adds nothing" '[ $rc -eq 0 ] && grep -q "imported before" "$T/imp.err" && [ "$("$POSMARK_HQ" card "$N2" --db "$HQ_DB" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"points\"])")" = 500 ]'
hq_start
curl -s -H "X-Posmark-Store: S1" -H "Authorization: Bearer $cred" "$HQ_URL/v1/requests" >"$T/req"
check "the store still gets its requests by number: the erasure and the consent" 'grep -q "\"type\":\"erasure\",\"card\":\"$N3\"" "$T/req" && grep -q "\"type\":\"consent\",\"card\":\"$N1\"" "$T/req"'
check "the review queue shows the number" '"$POSMARK_HQ" requests list --db "$HQ_DB" | grep -q "\"card\" *: *\"$N4\""'
hq_stop

# the rows before the upgrade are in the WAL: as docs/privacy.md says, a new cluster cleans it
psql_q "CHECKPOINT" >/dev/null
grep -rqa "$N1" "$T/pg/pg_wal"; check "as documented: the old WAL still holds the numbers from before the upgrade" '[ $? -eq 0 ]'
mkdir -p "$T/pg2"; [ "$(id -u)" -eq 0 ] && chown postgres "$T/pg2"
as_pg "$PGBIN/initdb" -D "$T/pg2" -A trust -U postgres --no-sync -E UTF8 >/dev/null 2>&1
PORT2=$(free_port)
as_pg "$PGBIN/pg_ctl" -D "$T/pg2" -o "-c listen_addresses=127.0.0.1 -p $PORT2 -k $T/sock -c fsync=off" -l "$T/sock/pg2.log" -w start >/dev/null
DB2="host=127.0.0.1 port=$PORT2 user=postgres dbname=postgres"
"$PGBIN/pg_dump" "$HQ_DB" | psql -X -q "$DB2" >/dev/null 2>"$T/restore.err"
psql -X -q -t -A "$DB2" -c "ANALYZE; CHECKPOINT" >/dev/null
check "the dump restored into a new cluster answers by number" '"$POSMARK_HQ" card "$N1" --db "$DB2" --json | grep -q "\"points\":10"'
as_pg "$PGBIN/pg_ctl" -D "$T/pg2" -m fast -w stop >/dev/null
check "... and no byte of the new cluster holds a number" '[ -d "$T/pg2/base" ] && ! grep -rqa -e "$N1" -e "$N2" -e "$N3" -e "$N4" "$T/pg2"'
