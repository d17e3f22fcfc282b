#!/usr/bin/env bash
# erase_hq.sh - issue 15 item 10 at HQ (docs/privacy.md, "At HQ"): card numbers
# are never written in the clear into PostgreSQL. Two real tills (bin/posmark)
# sync into a real posmark-hq serve: sales with cards, offers issued, held back
# and redeemed, consent, ledger entries, a return, a consent and an erasure HQ
# puts in its review queue; HQ's own consent. posmark-hq finds every card by
# its number, the stores get numbers down (accounts, requests), then one card
# is erased, the keys are rotated while serve runs, ANALYZE and CHECKPOINT, and
# PostgreSQL is stopped cleanly (its statistics files written). Then the raw
# bytes of every file of the data directory (base/, global/, pg_wal/,
# pg_stat/, ...), PostgreSQL's server log and posmark-hq's log are searched for
# every card number's digits and for each number's SHA-256 (raw and hex, what
# erasures.card_sha256 held): none may be found.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off
hq_start
T=$HQ_TMP
P=$POSMARK
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
terminal_config "$T/c1" "$T/d1" S1 "$cred1" "[offers]" "coupon_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
terminal_config "$T/c2" "$T/d2" S2 "$cred2"
for c in c1 c2; do $P catalog import data/demo/catalog.csv --config "$T/$c" >/dev/null 2>&1; done
$P rules load data/demo/campaigns.json --config "$T/c1" >/dev/null 2>&1
A=6036010000001000377   # gets offers and redeems a coupon
B=6036010000001000005   # in the control group: offers held back
C=4000001234567899      # sales, a return, consent: erased at HQ below
D=6036010000001000021   # store 2's card; consent given at HQ
E=6036010000001000013   # first seen after the key rotation
scan() { printf '%s\n' "$@" >"$T/scan"; }
coupon=$(scan "$A" 4007598000012 "#tender cash"; $P checkout --config "$T/c1" --scans "$T/scan" --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d.get("event") == "sale_committed":
        print([o["coupon"] for o in d["offers"] if o["gtin"] == "04007649000015"][0])')
scan "$A" 4007649000015 "$coupon" "#tender cash"; $P checkout --config "$T/c1" --scans "$T/scan" >/dev/null 2>&1
scan "$B" 4007598000012 "#tender cash"; $P checkout --config "$T/c1" --scans "$T/scan" >/dev/null 2>&1
scan "$C" 5012340000010 5012340000010 5012340000010 "#tender card"; $P checkout --config "$T/c1" --scans "$T/scan" >/dev/null 2>&1
scan "#return T1:4" "$C" 5012340000010 "#tender cash"; $P checkout --config "$T/c1" --scans "$T/scan" >/dev/null 2>&1
$P card consent "$C" --targeted yes --config "$T/c1" >/dev/null 2>&1
$P sync --config "$T/c1" --once >/dev/null 2>"$T/sync1.err"; rc1=$?
scan "$D" 5012340000010 "#tender cash"; $P checkout --config "$T/c2" --scans "$T/scan" >/dev/null 2>&1
$P card consent "$A" --targeted no --config "$T/c2" >/dev/null 2>&1   # a card store 2 never saw: review
$P sync --config "$T/c2" --once >/dev/null 2>"$T/sync2.err"; rc2=$?
"$POSMARK_HQ" consent "$D" --targeted no --db "$HQ_DB" 2>/dev/null
check "two tills synced sales, offers issued, held back and redeemed, a return, consent, ledger entries" '[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ -n "$coupon" ] && [ "$(psql_q "SELECT count(*) FROM sales")" = 6 ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE type = '\''return'\''")" = 1 ] && [ "$(psql_q "SELECT string_agg(DISTINCT type, chr(32)) FROM events")" = "consent offer_held_back offer_issued offer_redeemed" ] && [ "$(psql_q "SELECT count(*) FROM ledger WHERE kind = '\''earn'\''")" -ge 4 ]'
check "the review queue holds store 2's consent for a card it never saw" '[ "$(psql_q "SELECT string_agg(type, chr(32) ORDER BY type) FROM review_requests")" = "consent" ]'
check "every card column holds refs, never digits" '[ "$(psql_q "SELECT count(*) FROM (SELECT card FROM sales UNION ALL SELECT card FROM events UNION ALL SELECT card FROM ledger UNION ALL SELECT card FROM accounts UNION ALL SELECT card FROM store_cards UNION ALL SELECT card FROM cards UNION ALL SELECT card FROM downlink UNION ALL SELECT card FROM review_requests) x WHERE card !~ '\''^k[a-z2-7]{26}$'\''")" = 0 ] && [ "$(psql_q "SELECT count(*) FROM card_vault")" = 4 ]'

# ---- HQ finds every card by its number; the stores get numbers down ----
"$POSMARK_HQ" card "$A" --db "$HQ_DB" --json >"$T/cardA" 2>"$T/cardA.err"
check "posmark-hq card NUMBER: the account, the number shown" 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"card\"] == sys.argv[2] and d[\"points\"] > 0 and d[\"ref\"].startswith(\"k\") and len(d[\"ledger\"]) >= 2 else 1)" "$T/cardA" "$A"'
check "posmark-hq history NUMBER: the card's sales" '[ "$("$POSMARK_HQ" history "$C" --db "$HQ_DB" --json | wc -l)" = 2 ]'
check "posmark-hq requests list names the card by number" '"$POSMARK_HQ" requests list --db "$HQ_DB" | grep -q "\"card\" *: *\"$A\""'
acc() { curl -s -H "X-Posmark-Store: $1" -H "Authorization: Bearer $2" -H "X-Posmark-Terminal: T1" "$HQ_URL$3" | gzip -dc; }
acc S1 "$cred1" /v1/accounts >"$T/page1"
check "GET /v1/accounts: the store's cards by number" 'grep -q "\"card\":\"$A\"" "$T/page1" && grep -q "\"card\":\"$B\"" "$T/page1" && grep -q "\"card\":\"$C\"" "$T/page1" && ! grep -q "\"card\":\"k" "$T/page1"'
check "GET /v1/accounts/NUMBER from a store that never saw it: found by its number" 'acc S2 "$cred2" "/v1/accounts/$A" | grep -q "\"card\":\"$A\",\"points\":"'
check "GET /v1/requests: HQ's consent goes down with the number" 'curl -s -H "X-Posmark-Store: S2" -H "Authorization: Bearer $cred2" "$HQ_URL/v1/requests" | grep -q "\"type\":\"consent\",\"card\":\"$D\""'

# ---- erasure at HQ ----
CR=$(hq_ref "$C")
"$POSMARK_HQ" erase "$C" --db "$HQ_DB" 2>/dev/null; rc=$?
check "posmark-hq erase: the vault row is gone, nothing left under the ref" '[ $rc -eq 0 ] && [ -n "$CR" ] && [ -z "$(hq_ref "$C")" ] && [ "$(psql_q "SELECT (SELECT count(*) FROM card_vault WHERE ref = '\''$CR'\'') + (SELECT count(*) FROM sales WHERE card = '\''$CR'\'') + (SELECT count(*) FROM ledger WHERE card = '\''$CR'\'') + (SELECT count(*) FROM cards WHERE card = '\''$CR'\'')")" = 0 ]'
check "the erasure record keeps a keyed lookup, not the number's SHA-256" '[ "$(psql_q "SELECT count(*) FROM erasures WHERE length(card_mac) = 32")" = 1 ] && [ -z "$(psql_q "SELECT 1 FROM information_schema.columns WHERE table_name = '\''erasures'\'' AND column_name = '\''card_sha256'\''")" ]'
"$POSMARK_HQ" card "$C" --db "$HQ_DB" >/dev/null 2>"$T/cardC.err"; rc=$?
check "posmark-hq card of the erased number: no such card" '[ $rc -eq 1 ] && grep -q "^hint:" "$T/cardC.err"'
check "the store that sold to it is told, by number, until it acknowledges" 'curl -s -H "X-Posmark-Store: S1" -H "Authorization: Bearer $cred1" "$HQ_URL/v1/requests" | grep -q "\"type\":\"erasure\",\"card\":\"$C\""'
$P sync --config "$T/c1" --once >/dev/null 2>&1
check "... the till applied it and HQ dropped the sealed copy" '[ -z "$($P history "$C" --config "$T/c1" --json 2>/dev/null)" ] && [ "$(psql_q "SELECT count(*) FROM downlink WHERE sealed IS NOT NULL")" = 0 ]'

# ---- key rotation while serve runs ----
cp "$POSMARK_HQ_CARD_KEY" "$T/old.key"
"$POSMARK_HQ" keys rotate --db "$HQ_DB" 2>"$T/rot.err"; rc=$?
check "keys rotate: every card re-keyed, the key file replaced, no copy left beside it" '[ $rc -eq 0 ] && grep -q "3 card(s) re-keyed" "$T/rot.err" && ! cmp -s "$T/old.key" "$POSMARK_HQ_CARD_KEY" && [ -z "$(ls "$POSMARK_HQ_CARD_KEY".* 2>/dev/null)" ] && [ "$(stat -c %a "$POSMARK_HQ_CARD_KEY")" = 600 ] && [ "$(psql_q "SELECT min(key_epoch) || chr(47) || max(key_epoch) FROM card_vault")" = 2/2 ]'
check "after the rotation the numbers are found and shown as before" '"$POSMARK_HQ" card "$A" --db "$HQ_DB" --json | grep -q "\"card\":\"$A\"" && acc S1 "$cred1" /v1/accounts | grep -q "\"card\":\"$B\""'
scan "$E" 5012340000010 "#tender cash"; $P checkout --config "$T/c1" --scans "$T/scan" >/dev/null 2>&1
$P sync --config "$T/c1" --once >/dev/null 2>"$T/sync3.err"; rc=$?
check "serve, started before the rotation, takes the new key: a new card is stored and found" '[ $rc -eq 0 ] && "$POSMARK_HQ" card "$E" --db "$HQ_DB" --json | grep -q "\"card\":\"$E\""'
cp "$T/old.key" "$T/wrong.key"
"$POSMARK_HQ" card "$A" --db "$HQ_DB" --card-key "$T/wrong.key" >/dev/null 2>"$T/wrong.err"; rc=$?
check "the old key file is refused: it does not belong to the database any more" '[ $rc -eq 1 ] && grep -q "does not belong" "$T/wrong.err"'
rm -f "$T/old.key" "$T/wrong.key"

# ---- the same new cards in batches of two terminals at once: one vault row per number ----
python3 - "$HQ_URL" "$cred2" <<'PY' >"$T/race"
import gzip, json, sys, threading, time, urllib.request
url, cred = sys.argv[1:3]
now = int(time.time()) * 1000000
res = []
def post(term, rnd):
    sales = [{"seq": i + 1, "time_us": now - 1000 + i, "card": "77%05d%010d" % (rnd, i), "currency": "EUR",
              "tender": "cash", "total_cents": 100, "discount_cents": 0, "tendered_cents": 100, "points_earned": 1,
              "items": [], "redeemed": [], "type": "sale", "points_spent": 0, "point_value_cents": 1,
              "ledger": [{"kind": "earn", "points": 1}]} for i in range(200)]
    head = {"format": "posmark-batch", "version": 2, "kind": "sales", "store": "S2", "terminal": term,
            "first_seq": 1, "last_seq": 200, "count": 200}
    body = gzip.compress("\n".join(json.dumps(x) for x in [head] + sales).encode() + b"\n")
    rq = urllib.request.Request(url + "/v1/batches", data=body, method="POST",
                                headers={"X-Posmark-Store": "S2", "Authorization": "Bearer " + cred})
    try:
        res.append(urllib.request.urlopen(rq).status)
    except Exception as e:
        res.append(str(e))
for rnd in range(5):
    ts = [threading.Thread(target=post, args=("R%dA" % rnd, rnd)), threading.Thread(target=post, args=("R%dB" % rnd, rnd))]
    for t in ts: t.start()
    for t in ts: t.join()
print(" ".join(map(str, res)))
PY
check "the same 200 new cards from two terminals at once, 5 times: every batch stored, one vault row per number" '[ "$(cat "$T/race")" = "$(echo 200 200 200 200 200 200 200 200 200 200)" ] && [ "$(psql_q "SELECT count(*) FROM card_vault")" = 1004 ] && [ "$(psql_q "SELECT count(DISTINCT card) FROM sales WHERE terminal LIKE '\''R%'\''")" = 1000 ]'

# a card the quick scan before COPY does not see (JSON escapes): found while decoding, the batch
# attempted again with its ref
python3 - "$HQ_URL" "$cred2" <<'PY' >"$T/esc"
import gzip, json, sys, time, urllib.request
url, cred = sys.argv[1:3]
sale = '{"seq":1,"time_us":%d,"card":"\\u0036036010000001000039","currency":"EUR","tender":"cash","total_cents":100,' \
       '"discount_cents":0,"tendered_cents":100,"points_earned":1,"items":[],"redeemed":[],"type":"sale",' \
       '"points_spent":0,"point_value_cents":1,"ledger":[{"kind":"earn","points":1}]}' % (int(time.time()) * 1000000)
head = json.dumps({"format": "posmark-batch", "version": 2, "kind": "sales", "store": "S2", "terminal": "U1",
                   "first_seq": 1, "last_seq": 1, "count": 1})
rq = urllib.request.Request(url + "/v1/batches", data=gzip.compress((head + "\n" + sale + "\n").encode()), method="POST",
                            headers={"X-Posmark-Store": "S2", "Authorization": "Bearer " + cred})
print(urllib.request.urlopen(rq).status)
PY
check "a card the scan before COPY missed (escaped in the JSON): stored under its ref all the same" '[ "$(cat "$T/esc")" = 200 ] && [ "$(psql_q "SELECT card FROM sales WHERE terminal = '\''U1'\''")" = "$(hq_ref 6036010000001000039)" ] && [ -n "$(hq_ref 6036010000001000039)" ]'

# ---- the raw bytes: PGDATA after ANALYZE, CHECKPOINT and a clean stop; the logs ----
psql_q "ANALYZE; CHECKPOINT" >/dev/null
check "pg_stats has statistics of the card columns (of refs)" '[ "$(psql_q "SELECT count(*) FROM pg_stats WHERE attname = '\''card'\'' AND tablename IN ('\''ledger'\'', '\''accounts'\'')")" -ge 2 ]'
hq_stop
as_pg "$PGBIN/pg_ctl" -D "$T/pg" -m fast -w stop >/dev/null
check "the data directory holds WAL, heap and statistics files to search" '[ -n "$(ls "$T/pg/pg_wal" | grep -E "^[0-9A-F]{24}$")" ] && [ -d "$T/pg/base" ] && [ -n "$(ls "$T/pg/pg_stat" 2>/dev/null)" ]'
python3 - "$T/pg" "$T/sock/pg.log" "$T/hq.log" "$A" "$B" "$C" "$D" "$E" 77000000000000000 77000040000000199 6036010000001000039 >"$T/found" <<'PY'
import hashlib, os, sys
roots, numbers = sys.argv[1:4], sys.argv[4:]
needles = {}
for n in numbers:
    needles[n.encode()] = "number " + n
    d = hashlib.sha256(n.encode()).digest()
    needles[d] = "raw SHA-256 of " + n
    needles[d.hex().encode()] = "hex SHA-256 of " + n
files = 0
for root in roots:
    paths = [root] if os.path.isfile(root) else [os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs]
    for p in paths:
        try:
            data = open(p, "rb").read()
        except OSError:
            continue
        files += 1
        for k, what in needles.items():
            if k in data:
                print("%s in %s" % (what, p))
print("# searched %d files" % files, file=sys.stderr)
PY
check "no card number and no number's SHA-256 in any byte of PGDATA (WAL included) or the logs" '[ ! -s "$T/found" ]'
head -5 "$T/found" | sed 's/^/# found: /'
