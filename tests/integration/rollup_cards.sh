#!/usr/bin/env bash
# rollup_cards.sh - the per-card rollups ingest computes in C (hq/hq_rollup_cards.c): after
# every batch, rollup_card (with each card's active and recent months), the cohorts, tiers
# and RFM cells equal rollup_rebuild()'s from the raw sales, and the tier movement adds up
# to the tier counts. The batches are made to reach every branch: sales spread over 24
# months and posted out of order by two terminals, a sale dated before a card's first (its
# cohort moves), a card that only ever returned (no visit: no window) and then buys, a card
# whose last visit moves more than a year (its old months leave the window), a return in a
# month already out of the window, spend crossing the silver and gold thresholds and
# falling back, many cards in one batch, a batch whose cards are all known, and pairs of
# batches of the same cards posted at once by two terminals.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
cred=$("$POSMARK_HQ" store add B1 --db "$HQ_DB")

python3 - "$T" <<'PY'
import datetime, gzip, json, random, sys
d = sys.argv[1]
rnd = random.Random(7)
now = datetime.datetime.now(datetime.timezone.utc).replace(day=10, hour=12, minute=0, second=0, microsecond=0)
def at(months_ago, day=10):
    y, m = now.year, now.month - months_ago
    while m < 1:
        y, m = y - 1, m + 12
    return int(datetime.datetime(y, m, day, 12, tzinfo=datetime.timezone.utc).timestamp()) * 1000000
def sale(card, t, cents, spent=0):
    return {"time_us": t, "card": card, "currency": "EUR", "tender": "card", "total_cents": cents,
            "discount_cents": 0, "tendered_cents": cents - spent, "points_earned": 0,
            "items": [{"gtin": "04006381333931", "qty": 1, "price_cents": cents, "line_cents": cents}],
            "redeemed": [], "type": "sale", "points_spent": spent, "point_value_cents": 1 if spent else 0,
            "ledger": [{"kind": "spend", "points": -spent}] if spent else []}
def ret(card, t, refund):
    r = sale(card, t, 0)
    r.update({"type": "return", "return_of": "T9:1", "refund_cents": refund, "items": []})
    return r
A, B, C, G = "7000000000011", "7000000000028", "7000000000035", "7000000000042"
crowd = ["71%011d" % i for i in range(300)]
batches = [
    ("T1", [sale(A, at(20), 1200), sale(A, at(19), 900), ret(B, at(18), 500), sale(C, at(22), 60000),
            sale(G, at(6), 150000)] + [sale(rnd.choice(crowd), at(rnd.randrange(0, 22), rnd.randrange(1, 28)),
                                            rnd.randrange(100, 90000)) for _ in range(400)]),
    ("T2", [sale(A, at(22), 700), sale(B, at(17), 3000), sale(C, at(8), 2500), sale(G, at(5), 60000, 500)]),
    ("T1", [ret(C, at(24), 40000), ret(G, at(5), 70000), sale(A, at(21), 100)] +
           [sale(c, at(rnd.randrange(0, 3)), rnd.randrange(100, 5000)) for c in crowd[:150]]),
    ("T2", [ret(rnd.choice(crowd), at(rnd.randrange(0, 22)), rnd.randrange(100, 3000)) for _ in range(60)] +
           [sale(C, at(0), 250000), sale(B, at(30 - 30), 100)]),
    ("T1", [sale(c, at(1, 3), 1000) for c in crowd]),   # every card known
]
# then pairs posted at once by two terminals, the same cards in both: the serial lock orders them
for k in range(3):
    batches.append(("T3", [sale(c, at(rnd.randrange(0, 4)), rnd.randrange(100, 60000)) for c in crowd[:200]]))
    batches.append(("T4", [sale(c, at(rnd.randrange(0, 4)), rnd.randrange(100, 60000)) for c in crowd[100:]]))
seqs = {}
for i, (term, recs) in enumerate(batches):
    first = seqs.get(term, 0) + 1
    for k, r in enumerate(recs):
        r["seq"] = first + k
    seqs[term] = first + len(recs) - 1
    head = {"format": "posmark-batch", "version": 2, "kind": "sales", "store": "B1", "terminal": term,
            "first_seq": first, "last_seq": seqs[term], "count": len(recs)}
    body = json.dumps(head) + "\n" + "\n".join(json.dumps(r, separators=(",", ":")) for r in recs) + "\n"
    open("%s/b%d.gz" % (d, i), "wb").write(gzip.compress(body.encode()))
PY

snapshot() {
	local t w
	for t in rollup_card:true rollup_cohort:"cards<>0" rollup_tier:"cards<>0" rollup_rfm:"cards<>0" \
		rollup_store_day:true; do
		w=${t#*:}
		echo "== ${t%%:*}"
		psql_q "SELECT x::text FROM ${t%%:*} x WHERE $w ORDER BY 1"
	done
}
post() { # N: batch N, its answer in $T/resp$N, its status printed
	curl -s -o "$T/resp$1" -w '%{http_code}' -X POST -H "X-Posmark-Store: B1" -H "Authorization: Bearer $cred" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$T/b$1.gz" "$HQ_URL/v1/batches"
}
for i in 0 1 2 3 4 5+6 7+8 9+10; do
	if [ "${i#*+}" != "$i" ]; then
		post "${i%+*}" >"$T/code1" & p=$!; post "${i#*+}" >"$T/code2"; wait "$p"
		code=$(cat "$T/code1")$(cat "$T/code2")
		check "batches $i, posted at once with the same cards, stored" '[ "$code" = 200200 ]'
	else
		code=$(post "$i")
		check "batch $i stored" '[ "$code" = 200 ] || { echo "#   $code: $(head -c 300 "$T/resp$i")"; false; }'
	fi
	# movement into a tier minus out of it (from -1: a new member) is the tier's count
	moves=$(psql_q "SELECT count(*) FROM (SELECT t, sum(d) AS n FROM (SELECT to_tier AS t, cards AS d FROM rollup_tier_move
		UNION ALL SELECT from_tier, -cards FROM rollup_tier_move WHERE from_tier >= 0) x GROUP BY t) m
		FULL JOIN rollup_tier r ON r.tier = m.t WHERE coalesce(m.n, 0) <> coalesce(r.cards, 0)")
	check "batch $i: tier movement adds up to the tier counts" '[ "$moves" = 0 ]'
	snapshot >"$T/inc$i"
	psql_q "SELECT rollup_rebuild()" >/dev/null
	snapshot >"$T/reb$i"
	check "batch $i: per-card rollups equal a rebuild from sales" \
		'cmp -s "$T/inc$i" "$T/reb$i" || { diff "$T/inc$i" "$T/reb$i" | head -n 8 | sed "s/^/#   /"; false; }'
done
# the same once more through a receiver without the second connection (the old rows then read
# on the main one, after the accounts)
hq_stop
POSMARK_HQ_SECOND_CONNECTION=off hq_start
python3 - "$T" <<'PY'
import gzip, json, sys
d = sys.argv[1]
recs = [{"seq": k + 1, "time_us": json.loads(gzip.decompress(open(d + "/b4.gz", "rb").read()).decode().split("\n")[1])["time_us"],
         "card": "71%011d" % k, "currency": "EUR", "tender": "card", "total_cents": 777, "discount_cents": 0,
         "tendered_cents": 777, "points_earned": 0, "items": [], "redeemed": [], "type": "sale", "points_spent": 0,
         "point_value_cents": 0, "ledger": []} for k in range(250)]
head = {"format": "posmark-batch", "version": 2, "kind": "sales", "store": "B1", "terminal": "T5", "first_seq": 1,
        "last_seq": 250, "count": 250}
open(d + "/b11.gz", "wb").write(gzip.compress((json.dumps(head) + "\n" + "\n".join(json.dumps(r) for r in recs) + "\n").encode()))
PY
code=$(post 11)
check "a batch through a receiver without the second connection stored" '[ "$code" = 200 ]'
snapshot >"$T/inc11"
psql_q "SELECT rollup_rebuild()" >/dev/null
snapshot >"$T/reb11"
check "without the second connection: per-card rollups equal a rebuild from sales" 'cmp -s "$T/inc11" "$T/reb11"'
ref() { hq_ref "$1"; }
row() { psql_q "SELECT $2 FROM rollup_card WHERE card = '$(ref "$1")'"; }
check "a sale dated before the first moved the card's first month (cohort) back" \
	'[ "$(row 7000000000011 "fm = rollup_month(first_us) AND array_length(active, 1) = 4")" = t ]'
check "a card's old months left its recent months when its last visit moved a year on" \
	'[ "$(row 7000000000035 "recent_m[1] >= lm - 11 AND array_length(active, 1) = 3")" = t ]'
check "the card that only returned, then bought, has a window" '[ "$(row 7000000000028 "visits = 2 AND lm IS NOT NULL")" = t ]'
check "spend over the gold threshold then returned: silver" '[ "$(row 7000000000042 "tier")" = 1 ]'
check "tier movement recorded for a card going up and down" \
	'[ "$(psql_q "SELECT count(DISTINCT (from_tier, to_tier)) FROM rollup_tier_move WHERE from_tier >= 0")" -ge 2 ]'

# ---- migration 12: rollup_card is a view of the accounts' rollup columns ----
hq_stop
n_acc=$(psql_q "SELECT count(*) FROM accounts")
out=$(psql -X -q "$HQ_DB" -c "DELETE FROM rollup_card" 2>&1)
check "rollup_card refuses writes, saying it is a view of accounts; no account went" \
	'echo "$out" | grep -q "view of accounts" && [ "$(psql_q "SELECT count(*) FROM accounts")" = "$n_acc" ]'
snapshot >"$T/before12"
lone=$(psql_q "SELECT card FROM rollup_card ORDER BY card LIMIT 1")
# back to version 11: rollup_card a table of its own, the accounts without the rollup columns,
# and one card with rollups but no account (as before migration 3's ledger)
psql -X -q -v ON_ERROR_STOP=1 "$HQ_DB" >/dev/null <<SQL
CREATE TABLE rollup_card_v11 AS SELECT * FROM rollup_card;
DROP VIEW rollup_card;
ALTER TABLE rollup_card_v11 RENAME TO rollup_card;
ALTER TABLE rollup_card ADD PRIMARY KEY (card);
CREATE INDEX rollup_card_mb ON rollup_card (mb);
ALTER TABLE accounts DROP COLUMN rolled, DROP COLUMN roll_first_us, DROP COLUMN roll_last_us, DROP COLUMN roll_visits,
  DROP COLUMN roll_spend_cents, DROP COLUMN roll_window_cents, DROP COLUMN roll_tier, DROP COLUMN roll_mb, DROP COLUMN roll_fm, DROP COLUMN roll_lm,
  DROP COLUMN roll_active, DROP COLUMN roll_recent_m, DROP COLUMN roll_recent_s;
DELETE FROM accounts WHERE card = '$lone';
DELETE FROM schema_migrations WHERE version = 12;
SQL
check "a version 11 database made (rollup_card a table, $(psql_q "SELECT count(*) FROM rollup_card") rows)" \
	'[ "$(psql_q "SELECT relkind FROM pg_class WHERE relname = '\''rollup_card'\''")" = r ]'
serial_before=$(psql_q "SELECT max(change_serial) FROM accounts")
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>"$T/mig12.err"; rc=$?
snapshot >"$T/after12"
check "migration 12: the same rollup rows, now read through the view" \
	'[ $rc -eq 0 ] && [ "$(psql_q "SELECT relkind FROM pg_class WHERE relname = '\''rollup_card'\''")" = v ] && cmp -s "$T/before12" "$T/after12"'
check "migration 12: the card without an account got one no store's cursor sees (serial 0, no points)" \
	'[ "$(psql_q "SELECT change_serial = 0 AND points = 0 AND rolled FROM accounts WHERE card = '\''$lone'\''")" = t ] &&
	 [ "$(psql_q "SELECT max(change_serial) FROM accounts")" = "$serial_before" ]'
psql_q "DELETE FROM schema_migrations WHERE version = 12" >/dev/null
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>>"$T/mig12.err"; rc=$?
snapshot >"$T/again12"
check "migration 12 applied again over itself changes nothing" '[ $rc -eq 0 ] && cmp -s "$T/before12" "$T/again12"'
psql_q "SELECT rollup_rebuild()" >/dev/null
snapshot >"$T/reb12"
check "after migration 12, a rebuild from sales gives the same rows" 'cmp -s "$T/before12" "$T/reb12"'
