#!/usr/bin/env bash
# hq_sync.sh - a real PostgreSQL and posmark-hq: upload, exactly once on
# resend, history across stores in the terminal's shape, erasure down to the
# store, signed rule sets, and bad input (credentials, gzip, versions, gaps).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
check "store add prints a credential" '[ ${#cred1} -ge 32 ]'
check "schema migrated to version 7" '[ "$(psql_q "SELECT max(version) FROM schema_migrations")" = 7 ]'

"$GEN" gen "$T/d1" 3000 T1 40 1200 >/dev/null
"$GEN" gen "$T/d2" 1000 T1 0 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred1"
terminal_config "$T/c2" "$T/d2" S2 "$cred2" "batch_max_sales = 300"
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>"$T/sync1.err")
check "sync of 3000 sales succeeds" '[ $? -eq 0 ] && echo "$out" | grep -q "\"sales_sent\":3000"'
check "compression ratio >= 6:1" 'echo "$out" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if d[\"bytes_raw\"] >= 6 * d[\"bytes_sent\"] else 1)"'
check "credential never in the sync's output" '! grep -q "$cred1" "$T/sync1.err" && ! echo "$out" | grep -q "$cred1"'
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>&1
check "HQ holds 4000 sales once each" '[ "$(psql_q "SELECT count(*), count(DISTINCT (store_id, terminal, seq)) FROM sales")" = "4000|4000" ]'
parts=$(psql_q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'sales'::regclass")
check "sales are in month partitions" '[ "$parts" -ge 2 ]'
check "events uploaded" '[ "$(psql_q "SELECT count(*) FROM events")" -ge 30 ]'
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>/dev/null)
check "second sync sends nothing (watermark right)" 'echo "$out" | grep -q "\"sales_sent\":0,\"events_sent\":0"'


# history: the terminal's shape at HQ, across both stores
card=$(psql_q "SELECT card FROM sales WHERE store_id='S2' AND card IS NOT NULL LIMIT 1")
"$POSMARK" history "$card" --data "$T/d1" --json >"$T/h_term" 2>/dev/null
"$POSMARK_HQ" history "$card" --db "$HQ_DB" --json >"$T/h_hq"
check "HQ history has the card's sales of both stores" '[ $(wc -l <"$T/h_hq") -eq $(psql_q "SELECT count(*) FROM sales WHERE card='\''$card'\''") ] && grep -q "\"store\":\"S2\"" "$T/h_hq"'
check "HQ history has the same shape as posmark history --json" 'python3 - "$T/h_term" "$T/h_hq" <<PY
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
h = [json.loads(l) for l in open(sys.argv[2]) if json.loads(l)["store"] == "S1"]
for x in h: del x["store"]
sys.exit(0 if t and t == h else 1)
PY'
check "sales by store and day report" '"$POSMARK_HQ" report sales-by-day --db "$HQ_DB" | grep -q "\"store\" : \"S2\"\|\"store\": \"S2\"\|\"store\":\"S2\""'
check "campaign report with lift fields" '"$POSMARK_HQ" report campaigns --db "$HQ_DB" | grep -q "\"lift\""'

# erasure at HQ goes down to the stores that know the card
"$POSMARK_HQ" erase "$card" --db "$HQ_DB" 2>/dev/null
check "erasure removes the card at HQ" '[ "$(psql_q "SELECT count(*) FROM sales WHERE card='\''$card'\''")" = 0 ]'
check "erasure queued for both stores" '[ "$(psql_q "SELECT count(*) FROM downlink WHERE type='\''erasure'\''")" = 2 ]'
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
check "terminal applied HQ's erasure" '[ -z "$("$POSMARK" history "$card" --data "$T/d1" --json 2>/dev/null)" ]'
check "applied request acknowledged" '[ "$(psql_q "SELECT count(*) FROM downlink WHERE store_id='\''S1'\''")" = 0 ]'
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>/dev/null)
check "an erasure from HQ is not echoed back" 'echo "$out" | grep -q "\"events_sent\":0"'

# erasure at a store goes up, and down to the other stores that know the card
check "consent changes from the till reach HQ's cards" '[ "$(psql_q "SELECT count(*) FROM cards WHERE consent = '\''yes'\''")" -gt 0 ]'
card2=$(psql_q "SELECT card FROM sales WHERE card IS NOT NULL GROUP BY card HAVING count(DISTINCT store_id) = 2 LIMIT 1")
"$POSMARK" card erase "$card2" --data "$T/d2" >/dev/null 2>&1
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>&1
check "store erasure removes the card at HQ" '[ -n "$card2" ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$card2'\''")" = 0 ]'
down=$(psql_q "SELECT string_agg(store_id, ',') FROM downlink WHERE card = '$card2'")
check "store erasure goes down to the other store only" '[ "$down" = S1 ]'
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
check "the other store applied it" '[ -z "$("$POSMARK" history "$card2" --data "$T/d1" --json 2>/dev/null)" ]'

# consent given to HQ (call centre, web) goes down to the stores that know the card
# (a store of its own, S9, so the counts of the other checks stay as they are)
C=6036010000001000005
cred9=$("$POSMARK_HQ" store add S9 --db "$HQ_DB")
terminal_config "$T/c9" "$T/d9" S9 "$cred9"
"$POSMARK" catalog import data/demo/catalog.csv --config "$T/c9" >/dev/null 2>&1
till_sale() {   # till_sale N: one sale of N packs of spaghetti (69 cents) to card C
	{ echo "$C"; for i in $(seq 1 "$1"); do echo 5012340000010; done; echo "#tender cash"; } >"$T/s_c$1"
	"$POSMARK" checkout --config "$T/c9" --scans "$T/s_c$1" >/dev/null 2>&1
}
till_sale 1
"$POSMARK" sync --config "$T/c9" --once >/dev/null 2>&1
"$POSMARK_HQ" consent "$C" --targeted no --db "$HQ_DB" 2>/dev/null
check "HQ consent recorded and queued for the store that knows the card" '[ "$(psql_q "SELECT consent FROM cards WHERE card = '\''$C'\''")" = no ] && [ "$(psql_q "SELECT string_agg(store_id, '\'','\'') FROM downlink WHERE type = '\''consent'\'' AND card = '\''$C'\''")" = S9 ]'
"$POSMARK" sync --config "$T/c9" --once >/dev/null 2>&1
check "the store applied HQ's consent" '"$POSMARK" card show "$C" --config "$T/c9" --json 2>/dev/null | grep -q "\"consent_targeted\":\"no\""'
out=$("$POSMARK" sync --config "$T/c9" --once --json 2>/dev/null)
check "HQ's consent is acknowledged and not echoed back" '[ "$(psql_q "SELECT count(*) FROM downlink WHERE card = '\''$C'\''")" = 0 ] && echo "$out" | grep -q "\"events_sent\":0"'
check "posmark-hq consent wants yes or no" '! "$POSMARK_HQ" consent "$C" --db "$HQ_DB" 2>/dev/null'

# a sale to a card HQ erased, made before the store applied the erasure, arrives without the card;
# once the store has applied it, the number is a new sign-up and keeps its sales
"$POSMARK_HQ" erase "$C" --db "$HQ_DB" 2>/dev/null
till_sale 2
"$POSMARK" sync --config "$T/c9" --once >/dev/null 2>&1
check "a sale made before the store applied HQ's erasure is stored without the card" '[ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$C'\''")" = 0 ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE store_id = '\''S9'\'' AND card IS NULL AND total_cents = 138")" = 1 ]'
till_sale 3
"$POSMARK" sync --config "$T/c9" --once >/dev/null 2>&1
check "after the store applied it, a new sale with the number keeps it" '[ "$(psql_q "SELECT total_cents FROM sales WHERE card = '\''$C'\''")" = 207 ]'

# rule sets: signed, conditional GET, bad signature refused
pub=$("$POSMARK_HQ" rules keygen --key "$T/sign.key")
rule() { printf '{"format":"posmark-rules","version":1,"rules":[{"id":"%s","kind":"cross_sell","when":{"basket":{"all":[{"item":"4006381333931"}]}},"offer":{"item":"4000000000006","percent_off":10}}]}\n' "$1"; }
rule first >"$T/rules1.json"
"$POSMARK_HQ" rules publish "$T/rules1.json" --db "$HQ_DB" --key "$T/sign.key" 2>/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred1" "rules_public_key = $pub"
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>/dev/null)
check "signed rule set installed" 'cmp -s "$T/rules1.json" "$T/d1/rules.json" && echo "$out" | grep -q "\"rules\":1"'
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>/dev/null)
check "unchanged rule set: 304, nothing installed" 'echo "$out" | grep -q "\"rules\":0"'
other=$("$POSMARK_HQ" rules keygen --key "$T/other.key")
rule evil >"$T/rules2.json"
"$POSMARK_HQ" rules publish "$T/rules2.json" --db "$HQ_DB" --key "$T/other.key" 2>/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/bad.err"; rc=$?
check "rule set signed by another key refused, old kept" '[ $rc -ne 0 ] && grep -q "refused" "$T/bad.err" && cmp -s "$T/rules1.json" "$T/d1/rules.json" && [ -n "$other" ]'
printf '{"format":"posmark-rules","version":1,"rules":[{"id":"x"}]}\n' >"$T/rules3.json"
n_sets=$(psql_q "SELECT count(*) FROM rule_sets")
"$POSMARK_HQ" rules publish "$T/rules3.json" --db "$HQ_DB" --key "$T/sign.key" 2>"$T/pub3.err"; rc=$?
check "rules publish: a set the engine cannot load is refused, with its errors, nothing stored" '[ $rc -eq 1 ] && grep -q "rules3.json:1: rules\[0\]" "$T/pub3.err" && grep -q "does not load in the offers engine.*nothing signed or published" "$T/pub3.err" && grep -q "^hint:" "$T/pub3.err" && [ "$(psql_q "SELECT count(*) FROM rule_sets")" = "$n_sets" ]'
# a signed set that does not load can still reach a store (an HQ of an older build): the store refuses it
sig3=$(python3 - "$T/sign.key" "$T/rules3.json" <<'PY'
import sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
seed = bytes.fromhex(open(sys.argv[1]).read().strip())[:32]
print(Ed25519PrivateKey.from_private_bytes(seed).sign(open(sys.argv[2], "rb").read()).hex())
PY
)
psql_q "INSERT INTO rule_sets (body, signature, etag) VALUES (decode('$(xxd -p "$T/rules3.json" | tr -d '\n')', 'hex'), decode('$sig3', 'hex'), '\"bad3\"')" >/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/bad3.err"; rc=$?
check "signed rule set the engine cannot load refused, old kept" '[ $rc -ne 0 ] && grep -q "signed but not valid" "$T/bad3.err" && cmp -s "$T/rules1.json" "$T/d1/rules.json"'
rule second >"$T/rules4.json"
"$POSMARK_HQ" rules publish "$T/rules4.json" --db "$HQ_DB" --key "$T/sign.key" 2>"$T/pub4.err"; rc=$?
check "rules publish: a set that loads is signed and published" '[ $rc -eq 0 ] && grep -q "signed and published" "$T/pub4.err" && [ "$(psql_q "SELECT count(*) FROM rule_sets")" = "$((n_sets + 2))" ]'
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
check "a newer good rule set replaces it" 'cmp -s "$T/rules4.json" "$T/d1/rules.json" && [ ! -e "$T/d1/.rules.json.tmp" ]'

# the daemon uploads in the background (hq.interval_s)
cred5=$("$POSMARK_HQ" store add S5 --db "$HQ_DB")
"$GEN" gen "$T/d5" 500 T1 0 >/dev/null
terminal_config "$T/c5" "$T/d5" S5 "$cred5" "interval_s = 1"
"$POSMARK" daemon --config "$T/c5" --socket "$T/pm.sock" 2>"$T/daemon.err" & dpid=$!
HQ_PIDS+=("$dpid")
for _ in $(seq 1 100); do [ "$(psql_q "SELECT count(*) FROM sales WHERE store_id = 'S5'")" = 500 ] && break; sleep 0.1; done
check "the daemon uploads in the background" '[ "$(psql_q "SELECT count(*) FROM sales WHERE store_id = '\''S5'\''")" = 500 ]'
kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "the daemon stops cleanly with its sync thread" '[ $rc -eq 0 ]'

# bad input straight at the API
post() { curl -s -o "$T/resp" -w '%{http_code}' -H "X-Posmark-Store: $1" -H "Authorization: Bearer $2" --data-binary @"$3" "$HQ_URL/v1/batches"; }
hdr() { printf '{"format":"posmark-batch","version":%s,"kind":"sales","store":"%s","terminal":"T9","first_seq":%s,"last_seq":%s,"count":%s}\n' "$@"; }
sale() { printf '{"seq":%s,"time_us":1763596800000000,"card":null,"currency":"EUR","tender":"cash","total_cents":5,"discount_cents":0,"tendered_cents":5,"points_earned":0,"items":[],"redeemed":[]}\n' "$1"; }
{ hdr 1 S1 1 2 2; sale 1; sale 2; } | gzip >"$T/ok.gz"
check "unknown store refused (401)" '[ "$(post S9 "$cred1" "$T/ok.gz")" = 401 ]'
check "bad credential refused (401)" '[ "$(post S1 wrong "$T/ok.gz")" = 401 ]'
check "batch naming another store refused (403)" '[ "$(post S2 "$cred2" "$T/ok.gz")" = 403 ]'
head -c 30 "$T/ok.gz" >"$T/trunc.gz"
check "truncated gzip rejected with a reason" '[ "$(post S1 "$cred1" "$T/trunc.gz")" = 400 ] && grep -q "truncated" "$T/resp"'
{ hdr 3 S1 1 1 1; sale 1; } | gzip >"$T/v3.gz"
check "wrong version rejected" '[ "$(post S1 "$cred1" "$T/v3.gz")" = 400 ] && grep -q "version" "$T/resp"'
{ hdr 1 S1 1 1 1; echo '{"seq":1,"time_us":1}'; } | gzip >"$T/miss.gz"
check "missing fields rejected" '[ "$(post S1 "$cred1" "$T/miss.gz")" = 400 ] && grep -q "missing" "$T/resp"'
{ hdr 1 S1 5 6 2; sale 5; sale 6; } | gzip >"$T/gap.gz"
check "sequence gap answered 409 with HQ position" '[ "$(post S1 "$cred1" "$T/gap.gz")" = 409 ] && grep -q "\"acked_seq\":0" "$T/resp"'
check "nothing half-stored from bad batches" '[ "$(psql_q "SELECT count(*) FROM sales WHERE terminal='\''T9'\''")" = 0 ]'
check "good batch stored" '[ "$(post S1 "$cred1" "$T/ok.gz")" = 200 ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE terminal='\''T9'\''")" = 2 ]'
check "resent batch acknowledged, not stored twice" '[ "$(post S1 "$cred1" "$T/ok.gz")" = 200 ] && grep -q "\"duplicate\":true" "$T/resp" && [ "$(psql_q "SELECT count(*) FROM sales WHERE terminal='\''T9'\''")" = 2 ]'
{ hdr 1 S1 3 3 1; printf '{"seq":3,"time_us":1763596800000000,"card":"4000001234567899","currency":"EUR","tender":"card","total_cents":95,"discount_cents":5,"tendered_cents":95,"points_earned":0,"items":[{"gtin":"04006381333931","qty":1,"price_cents":100,"line_cents":100}],"redeemed":[{"coupon":"PM\\"q\\\\b\\tc\\u00e9","discount_cents":5}]}\n'; } | gzip >"$T/red.gz"
check "redeemed coupons with quotes, backslashes, tabs stored intact" '[ "$(post S1 "$cred1" "$T/red.gz")" = 200 ] && python3 -c "import sys; sys.exit(0 if sys.argv[1] == \"PM\\\"q\\\\b\\tc\u00e9|5\" else 1)" "$(psql_q "SELECT (redeemed->0->>'\''coupon'\'') || '\''|'\'' || (redeemed->0->>'\''discount_cents'\'') FROM sales WHERE terminal = '\''T9'\'' AND seq = 3")"'
echo "# stored coupon: $(psql_q "SELECT redeemed::text FROM sales WHERE terminal = 'T9' AND seq = 3")"


# events: every payload decoded by wire at ingest into columns; one that does not decode refuses the batch
check "offer events stored with their decoded fields" '[ "$(psql_q "SELECT count(*) FROM events WHERE type LIKE '\''offer%'\'' AND card IS NOT NULL AND campaign ~ '\''^C[0-2]$'\'' AND rule ~ '\''^R[0-2]$'\'' AND gtin = '\''00000000000017'\'' AND offer_kind = '\''cross_sell'\'' AND sale_seq > 0")" = "$(psql_q "SELECT count(*) FROM events WHERE type LIKE '\''offer%'\'' AND card IS NOT NULL")" ] && [ "$(psql_q "SELECT count(*) FROM events WHERE type LIKE '\''offer%'\''")" -gt 10 ]'
check "coupon and discount only where the payload has them" '[ "$(psql_q "SELECT count(*) FROM events WHERE (type = '\''offer_held_back'\'' AND coupon IS NOT NULL) OR (type = '\''offer_redeemed'\'' AND discount_cents IS DISTINCT FROM 25) OR (type <> '\''offer_redeemed'\'' AND discount_cents IS NOT NULL)")" = 0 ]'
check "consent events stored with the answer" '[ "$(psql_q "SELECT count(*) FROM events WHERE type = '\''consent'\'' AND consent = '\''yes'\''")" -gt 0 ] && [ "$(psql_q "SELECT count(*) FROM events WHERE type = '\''consent'\'' AND consent IS NULL")" = 0 ]'
evhdr() { printf '{"format":"posmark-batch","version":1,"kind":"events","store":"S1","terminal":"T8","first_seq":1,"last_seq":%s,"count":%s}\n' "$1" "$1"; }
ev() { python3 -c 'import json,sys; print(json.dumps({"seq": int(sys.argv[1]), "time_us": 1763596800000000, "type": sys.argv[2], "payload": sys.argv[3]}, separators=(",", ":")))' "$@"; }
good='{"v":1,"sale":7,"campaign":"CX","rule":"RX","card":"4000001234567899","kind":"cross_sell","gtin":"04006381333931","benefit":1,"value":10,"coupon":"PMX1"}'
{ evhdr 3; ev 1 consent "4000001234567899 no"; ev 2 offer_issued "$good"; ev 3 offer_issued '{"v":1,"sale":7,"campaign":"CX","card":"4000001234567899"}'; } | gzip >"$T/ev_bad.gz"
code=$(post S1 "$cred1" "$T/ev_bad.gz")
check "an event whose payload does not decode: batch refused (400) naming the event seq and field" '[ "$code" = 400 ] && grep -q "event seq 3 (offer_issued)" "$T/resp" && grep -q "rule" "$T/resp"'
check "and nothing of that batch stored" '[ "$(psql_q "SELECT count(*) FROM events WHERE terminal = '\''T8'\''")" = 0 ]'
{ evhdr 2; ev 1 consent "4000001234567899 maybe"; ev 2 erasure "12ab"; } | gzip >"$T/ev_bad2.gz"
check "a consent payload without yes/no/unknown refused with the seq" '[ "$(post S1 "$cred1" "$T/ev_bad2.gz")" = 400 ] && grep -q "event seq 1 (consent)" "$T/resp"'
{ evhdr 2; ev 1 consent "4000001234567899 no"; ev 2 offer_issued "$good"; } | gzip >"$T/ev_ok.gz"
check "good events stored with their columns" '[ "$(post S1 "$cred1" "$T/ev_ok.gz")" = 200 ] && [ "$(psql_q "SELECT string_agg(concat_ws(chr(47), type, card, consent, campaign, rule, gtin, coupon, sale_seq, benefit, value), '\'' '\'' ORDER BY seq) FROM events WHERE terminal = '\''T8'\''")" = "consent/4000001234567899/no offer_issued/4000001234567899/CX/RX/04006381333931/PMX1/7/1/10" ]'

# the events a real till writes (issued, held back, redeemed) decode at HQ into their columns
cred10=$("$POSMARK_HQ" store add S10 --db "$HQ_DB")
terminal_config "$T/c10" "$T/d10" S10 "$cred10" "[offers]" "coupon_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
"$POSMARK" catalog import data/demo/catalog.csv --config "$T/c10" >/dev/null 2>&1
"$POSMARK" rules load data/demo/campaigns.json --config "$T/c10" >/dev/null 2>&1
printf '6036010000001000005\n4007598000012\n#tender cash\n' >"$T/o1"   # this card is in the control group
printf '6036010000001000377\n4007598000012\n#tender cash\n' >"$T/o2"   # this one gets two coupons
"$POSMARK" checkout --config "$T/c10" --scans "$T/o1" >/dev/null 2>&1
coupon=$("$POSMARK" checkout --config "$T/c10" --scans "$T/o2" --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d.get("event") == "sale_committed":
        print([o["coupon"] for o in d["offers"] if o["gtin"] == "04007649000015"][0])')
printf '6036010000001000377\n4007649000015\n%s\n#tender cash\n' "$coupon" >"$T/o3"
"$POSMARK" checkout --config "$T/c10" --scans "$T/o3" >/dev/null 2>&1
"$POSMARK" sync --config "$T/c10" --once >/dev/null 2>"$T/sync10.err"; rc=$?
ev10() { psql_q "SELECT string_agg(concat_ws(chr(47), type, card, campaign, rule, offer_kind, gtin, sale_seq, benefit, value, CASE WHEN coupon IS NULL THEN 'nocoupon' WHEN coupon = '$coupon' THEN 'thecoupon' ELSE 'coupon' END, discount_cents), ' ' ORDER BY seq) FROM events WHERE store_id = 'S10' AND type = '$1'"; }
check "a till's held-back offers: campaign, rule, kind, item, sale, no coupon" '[ $rc -eq 0 ] && [ "$(ev10 offer_held_back)" = "offer_held_back/6036010000001000005/laptop-accessories/laptop-sleeve/cross_sell/04007649000015/1/1/20/nocoupon offer_held_back/6036010000001000005/laptop-accessories/laptop-mouse/cross_sell/04007666000012/1/2/500/nocoupon" ]'
check "a till's issued offers: with their printed coupons" '[ -n "$coupon" ] && [ "$(ev10 offer_issued)" = "offer_issued/6036010000001000377/laptop-accessories/laptop-sleeve/cross_sell/04007649000015/2/1/20/thecoupon offer_issued/6036010000001000377/laptop-accessories/laptop-mouse/cross_sell/04007666000012/2/2/500/coupon" ]'
check "a till's redemption: coupon and discount" '[ "$(ev10 offer_redeemed)" = "offer_redeemed/6036010000001000377/laptop-accessories/cross_sell/3/1/20/thecoupon/$(psql_q "SELECT discount_cents FROM sales WHERE store_id = '\''S10'\'' AND seq = 3")" ] && [ "$(psql_q "SELECT discount_cents FROM sales WHERE store_id = '\''S10'\'' AND seq = 3")" -gt 0 ]'
check "the campaign report counts them from the columns" '"$POSMARK_HQ" report campaigns --db "$HQ_DB" | grep "laptop-accessories" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if (d[\"issued\"], d[\"held_back\"], d[\"redeemed\"]) == (2, 2, 1) else 1)"'

# migration 2 on a database of version 1: the stored events are decoded in C, in one transaction
psql_q "CREATE DATABASE v1" >/dev/null
V1_DB="host=127.0.0.1 port=$PG_PORT user=postgres dbname=v1"
"$POSMARK_HQ" migrate --db "$V1_DB" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$V1_DB" -c "DELETE FROM schema_migrations WHERE version = 2;
	ALTER TABLE events DROP COLUMN sale_seq, DROP COLUMN rule, DROP COLUMN offer_kind, DROP COLUMN gtin, DROP COLUMN benefit,
	  DROP COLUMN value, DROP COLUMN coupon, DROP COLUMN discount_cents, DROP COLUMN consent;
	INSERT INTO events (store_id, terminal, seq, time_us, type, card, campaign, payload) VALUES
	 ('S1', 'T1', 1, 1, 'consent', '4000001234567899', NULL, '4000001234567899 yes'),
	 ('S1', 'T1', 2, 2, 'offer_redeemed', '4000001234567899', 'C1', '{\"v\":1,\"sale\":3,\"campaign\":\"C1\",\"rule\":\"\",\"card\":\"4000001234567899\",\"kind\":\"cross_sell\",\"gtin\":\"\",\"benefit\":2,\"value\":50,\"coupon\":\"PMA\",\"discount_cents\":50}'),
	 ('S1', 'T1', 3, 3, 'offer_issued', NULL, NULL, ''),
	 ('S1', 'T1', 4, 4, 'offer_issued', '4000001234567899', 'C9', '{\"campaign\":\"C9\",\"card\":\"4000001234567899\"}'),
	 ('S1', 'T1', 5, 5, 'erasure', '4000009999999999', NULL, '4000009999999999')" >/dev/null
q1() { psql -X -q -t -A "$V1_DB" -c "$1"; }
# a backfill that fails (here: a trigger refuses the UPDATE) leaves version 1 as it was
q1 "CREATE FUNCTION refuse() RETURNS trigger AS \$\$ BEGIN RAISE EXCEPTION 'disk on fire'; END \$\$ LANGUAGE plpgsql;
	CREATE TRIGGER refuse BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION refuse()" >/dev/null
"$POSMARK_HQ" migrate --db "$V1_DB" 2>"$T/mig0.err"; rc=$?
check "a migration step that fails: exit 1 with the reason and a hint, nothing of it left" '[ $rc -eq 1 ] && grep -q "schema migration failed: .*disk on fire" "$T/mig0.err" && grep -q "^hint:" "$T/mig0.err" && [ "$(q1 "SELECT count(*) FROM schema_migrations WHERE version = 2")" = 0 ] && [ "$(q1 "SELECT count(*) FROM information_schema.columns WHERE table_name = '\''events'\'' AND column_name = '\''sale_seq'\''")" = 0 ]'
q1 "DROP TRIGGER refuse ON events" >/dev/null
"$POSMARK_HQ" migrate --db "$V1_DB" 2>"$T/mig.err"; rc=$?
check "migration 2 runs on a version 1 database (3 and 4 kept)" '[ $rc -eq 0 ] && [ "$(q1 "SELECT count(*) FROM schema_migrations WHERE version <= 4")" = 4 ]'
check "stored events backfilled from their payloads" '[ "$(q1 "SELECT string_agg(concat_ws(chr(47), seq, card, consent, campaign, rule, gtin, coupon, sale_seq, benefit, value, discount_cents), '\'' '\'' ORDER BY seq) FROM events")" = "1/4000001234567899/yes 2/4000001234567899/C1/PMA/3/2/50/50 3 4/4000001234567899/C9 5/4000009999999999" ]'
check "a stored payload that does not decode is counted, keeps its card" 'grep -q "1 stored event(s) have a payload that does not decode" "$T/mig.err"'
check "HQ parses no payload text in SQL or with strstr" '! grep -nE "strstr|split_part|substring\(|position\(" hq/*.c'


# an HQ that answers garbage: the terminal fails clearly and keeps everything
"$GEN" gen "$T/d1" 10 T1 0 >/dev/null
gport=$(free_port)
python3 -c '
import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(8)
while True:
    c,_=s.accept(); c.recv(65536); c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!"); c.close()
' "$gport" & gpid=$!
HQ_PIDS+=("$gpid")
sleep 0.3
terminal_config "$T/c3" "$T/d1" S1 "$cred1" "max_attempts = 2"
"$POSMARK" sync --config "$T/c3" --hq "http://127.0.0.1:$gport" --once >/dev/null 2>"$T/garbage.err"; rc=$?
check "HQ answering garbage: sync fails with a hint" '[ $rc -ne 0 ] && grep -q "hint:" "$T/garbage.err"'
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>/dev/null)
check "and nothing was lost: the 10 sales go to the real HQ" 'echo "$out" | grep -q "\"sales_sent\":10"'
"$POSMARK" sync --config "$T/c3" --hq "http://127.0.0.1:1" --once >/dev/null 2>"$T/off.err"; rc=$?
check "HQ offline: clear error, exit non-zero" '[ $rc -ne 0 ] && grep -q "unreachable" "$T/off.err"'

terminal_config "$T/c7" "$T/d1" S1 "not-the-credential"
"$GEN" gen "$T/d1" 1 T1 0 >/dev/null
start=$SECONDS
"$POSMARK" sync --config "$T/c7" --once >/dev/null 2>"$T/cred.err"; rc=$?
check "terminal with a bad credential: refused at once with a hint, nothing retried" '[ $rc -ne 0 ] && [ $((SECONDS - start)) -lt 5 ] && grep -q "bad credential" "$T/cred.err" && grep -q "hint:" "$T/cred.err" && ! grep -q "not-the-credential" "$T/cred.err"'

# HQ lost sales (a restored backup): the terminal resends from HQ's position
psql_q "DELETE FROM sales WHERE store_id = 'S1' AND terminal = 'T1' AND seq > 2000;
        UPDATE upload_progress SET acked_seq = 2000 WHERE store_id = 'S1' AND terminal = 'T1' AND kind = 'sales'"
"$GEN" gen "$T/d1" 5 T1 0 >/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/gap.err"; rc=$?
got=$(psql_q "SELECT count(*) || '|' || count(DISTINCT seq) || '|' || max(seq) FROM sales WHERE store_id = 'S1' AND terminal = 'T1'")
check "HQ that lost sales gets them again from the terminal (409 gap, resend)" '[ $rc -eq 0 ] && [ "$got" = "3016|3016|3016" ] && grep -q "gap" "$T/gap.err"'

# TLS: verification is on by default; hq.ca_file trusts a private CA
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$T/tls.key" -out "$T/tls.pem" >/dev/null 2>&1
	tport=$(free_port)
	python3 -c '
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True); t.recv(65536)
        t.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"); t.close()
    except Exception:
        c.close()
' "$tport" "$T/tls.pem" "$T/tls.key" & tpid=$!
	HQ_PIDS+=("$tpid")
	sleep 0.5
	"$GEN" gen "$T/d6" 5 T1 0 >/dev/null
	terminal_config "$T/c6" "$T/d6" S1 "$cred1" "max_attempts = 1"
	"$POSMARK" sync --config "$T/c6" --hq "https://127.0.0.1:$tport" --once >/dev/null 2>"$T/tls1.err"; rc=$?
	check "TLS verified by default: a self-signed HQ is refused" '[ $rc -ne 0 ] && grep -qi "certificate" "$T/tls1.err"'
	terminal_config "$T/c6" "$T/d6" S1 "$cred1" "max_attempts = 1" "ca_file = $T/tls.pem"
	"$POSMARK" sync --config "$T/c6" --hq "https://127.0.0.1:$tport" --once >/dev/null 2>"$T/tls2.err"; rc=$?
	check "hq.ca_file trusts it (the request reaches HQ)" '[ $rc -ne 0 ] && grep -q "HQ answered 503" "$T/tls2.err" && ! grep -qi "certificate" "$T/tls2.err"'
fi
