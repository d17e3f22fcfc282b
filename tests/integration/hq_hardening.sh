#!/usr/bin/env bash
# hq_hardening.sh - issue 15, HQ items 1 and 5, against a real PostgreSQL,
# posmark-hq and terminals: a store's erasure or consent acts only on cards
# it has seen (else the review queue, `posmark-hq requests`); rule sets only
# move forward (a serial under the signature); a set too big for the
# terminals is refused at publish; absurd times get 400; a batch may not
# create many month partitions; header values are escaped in the log;
# /v1/health answers while the database pool is busy.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
terminal_config "$T/c1" "$T/d1" S1 "$cred1"
terminal_config "$T/c2" "$T/d2" S2 "$cred2"
for c in c1 c2; do "$POSMARK" catalog import data/demo/catalog.csv --config "$T/$c" >/dev/null 2>&1; done
C=6036010000001000005      # a card only S2 ever sold to
C1=6036010000001000013     # a card S1 sold to
till_sale() {   # till_sale CONFIG CARD: one sale of two packs of spaghetti to CARD
	{ echo "$2"; echo 5012340000010; echo 5012340000010; echo "#tender cash"; } >"$T/scan"
	"$POSMARK" checkout --config "$1" --scans "$T/scan" >/dev/null 2>&1
}
till_sale "$T/c2" "$C"
till_sale "$T/c1" "$C1"
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>&1
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
CR=$(hq_ref "$C") C1R=$(hq_ref "$C1")   # HQ's tables name the cards by these refs
points() { "$POSMARK" card show "$1" --config "$2" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])'; }
p_before=$(points "$C" "$T/c2")
check "setup: S2's card has points and its sale is at HQ" '[ "${p_before:-0}" -gt 0 ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$CR'\''")" = 1 ]'

# ---- 1. store-scoped erasure and consent -------------------------------------------------
post() { curl -s -o "$T/resp" -w '%{http_code}' -H "X-Posmark-Store: $1" -H "Authorization: Bearer $2" --data-binary @"$3" "$HQ_URL/v1/batches"; }
now_us=$(($(date +%s) * 1000000))
evbatch() {   # evbatch STORE TERMINAL FIRST_SEQ then "TYPE|PAYLOAD|TIME_US" per event
	local store=$1 term=$2 first=$3; shift 3
	python3 - "$store" "$term" "$first" "$@" <<'PY'
import json, sys
store, term, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
evs = [a.split("|") for a in sys.argv[4:]]
print(json.dumps({"format": "posmark-batch", "version": 1, "kind": "events", "store": store, "terminal": term,
                  "first_seq": first, "last_seq": first + len(evs) - 1, "count": len(evs)}, separators=(",", ":")))
for i, (t, p, us) in enumerate(evs):
    print(json.dumps({"seq": first + i, "time_us": int(us), "type": t, "payload": p}, separators=(",", ":")))
PY
}
evbatch S1 X1 1 "erasure|$C|$now_us" | gzip >"$T/erase_foreign.gz"
code=$(post S1 "$cred1" "$T/erase_foreign.gz")
check "a store's erasure of a card it never saw: its batch is stored (200)" '[ "$code" = 200 ]'
check "... but the card is not erased at HQ" '[ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$CR'\''")" = 1 ]'
check "... and no request goes down to the store that knows the card" '[ "$(psql_q "SELECT count(*) FROM downlink WHERE card = '\''$CR'\''")" = 0 ]'
check "... it waits in the review queue" '[ "$(psql_q "SELECT count(*) FROM review_requests WHERE card = '\''$CR'\'' AND type = '\''erasure'\'' AND store_id = '\''S1'\'' AND status = '\''pending'\''")" = 1 ]'
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>&1; rc=$?
check "the other store's sync succeeds and its card keeps its points" '[ $rc -eq 0 ] && [ "$(points "$C" "$T/c2")" = "$p_before" ]'
evbatch S1 X1 2 "consent|$C no|$now_us" | gzip >"$T/consent_foreign.gz"
post S1 "$cred1" "$T/consent_foreign.gz" >/dev/null
check "a store's consent for a card it never saw does not change HQ's cards" '[ -z "$(psql_q "SELECT consent FROM cards WHERE card = '\''$CR'\'' AND consent = '\''no'\''")" ] && [ "$(psql_q "SELECT count(*) FROM review_requests WHERE card = '\''$CR'\'' AND type = '\''consent'\''")" = 1 ]'
future=$(( now_us + 3600 * 1000000 ))
evbatch S2 X2 1 "consent|$C yes|$future" | gzip >"$T/consent_future.gz"
post S2 "$cred2" "$T/consent_future.gz" >/dev/null
check "a consent change dated an hour ahead goes to review, not to cards" '[ -z "$(psql_q "SELECT 1 FROM cards WHERE card = '\''$CR'\'' AND consent_changed_us = $future")" ] && [ "$(psql_q "SELECT reason FROM review_requests WHERE store_id = '\''S2'\'' AND card = '\''$CR'\''")" = "consent change dated in the future" ]'
evbatch S2 X2 2 "consent|$C yes|$now_us" | gzip >"$T/consent_own.gz"
post S2 "$cred2" "$T/consent_own.gz" >/dev/null
check "a store's consent for its own card is applied" '[ "$(psql_q "SELECT consent || source_store FROM cards WHERE card = '\''$CR'\''")" = yesS2 ]'
"$POSMARK_HQ" requests list --db "$HQ_DB" >"$T/list" 2>"$T/list.err"; rc=$?
check "posmark-hq requests list shows the pending ones as JSON lines" '[ $rc -eq 0 ] && [ "$(wc -l <"$T/list")" = 3 ] && python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/list" && grep -q "\"store\" *: *\"S1\"" "$T/list"'
id_erase=$(psql_q "SELECT id FROM review_requests WHERE type = 'erasure' AND card = '$CR'")
id_consent=$(psql_q "SELECT id FROM review_requests WHERE type = 'consent' AND store_id = 'S1'")
"$POSMARK_HQ" requests reject "$id_erase" --db "$HQ_DB" 2>"$T/rej.err"; rc=$?
check "requests reject: nothing changes, the request leaves the queue" '[ $rc -eq 0 ] && grep -q "rejected" "$T/rej.err" && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$CR'\''")" = 1 ] && [ "$(psql_q "SELECT status FROM review_requests WHERE id = $id_erase")" = rejected ]'
"$POSMARK_HQ" requests reject "$id_erase" --db "$HQ_DB" 2>"$T/rej2.err"; rc=$?
check "deciding a request twice: exit 1 with a hint" '[ $rc -eq 1 ] && grep -q "no pending request $id_erase" "$T/rej2.err" && grep -q "^hint:" "$T/rej2.err"'
"$POSMARK_HQ" requests approve "$id_consent" --db "$HQ_DB" 2>"$T/appr.err"; rc=$?
check "requests approve of a consent: applied" '[ $rc -eq 0 ] && [ "$(psql_q "SELECT consent FROM cards WHERE card = '\''$CR'\''")" = no ]'
"$POSMARK" card erase "$C1" --config "$T/c1" >/dev/null 2>&1
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
check "a store's erasure of its own card still erases it at HQ" '[ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$C1R'\''")" = 0 ] && [ "$(psql_q "SELECT count(*) FROM erasures")" = 1 ]'
evbatch S1 X1 3 "erasure|$C|$now_us" | gzip >"$T/erase_foreign2.gz"
post S1 "$cred1" "$T/erase_foreign2.gz" >/dev/null
id2=$(psql_q "SELECT id FROM review_requests WHERE type = 'erasure' AND status = 'pending'")
"$POSMARK_HQ" requests approve "$id2" --db "$HQ_DB" 2>"$T/appr2.err"; rc=$?
check "requests approve of an erasure: erased at HQ, queued for the store that knows it, no number left in the queue" '[ $rc -eq 0 ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$CR'\''")" = 0 ] && [ "$(psql_q "SELECT string_agg(store_id, '\'','\'') FROM downlink WHERE card = '\''$CR'\''")" = S2 ] && [ "$(psql_q "SELECT count(*) FROM review_requests WHERE card = '\''$CR'\''")" = 0 ]'
"$POSMARK_HQ" requests frob --db "$HQ_DB" 2>"$T/usage.err"; rc=$?
check "requests with a bad word: usage error with a hint" '[ $rc -ne 0 ] && grep -q "^hint:" "$T/usage.err"'

# ---- 5. rule sets only move forward ------------------------------------------------------
pub=$("$POSMARK_HQ" rules keygen --key "$T/sign.key")
rule() { printf '{"format":"posmark-rules","version":1,"rules":[{"id":"%s","kind":"cross_sell","when":{"basket":{"all":[{"item":"4006381333931"}]}},"offer":{"item":"4000000000006","percent_off":10}}]}\n' "$1"; }
terminal_config "$T/c1" "$T/d1" S1 "$cred1" "rules_public_key = $pub"
rule first >"$T/r1.json"; rule second >"$T/r2.json"
"$POSMARK_HQ" rules publish "$T/r1.json" --db "$HQ_DB" --key "$T/sign.key" 2>/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
"$POSMARK_HQ" rules publish "$T/r2.json" --db "$HQ_DB" --key "$T/sign.key" 2>"$T/pub2.err"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
s2=$(psql_q "SELECT serial FROM rule_sets ORDER BY id DESC LIMIT 1")
check "publish gives each set a serial; the terminal keeps it next to rules.json" 'cmp -s "$T/r2.json" "$T/d1/rules.json" && [ "$(cat "$T/d1/rules.serial")" = "$s2" ] && grep -q "serial $s2" "$T/pub2.err"'
# the first row put back as the newest (same body, signature and serial as when it was published)
psql_q "DELETE FROM rule_sets WHERE etag = '\"old\"'" >/dev/null
psql_q "CREATE TABLE r_old AS SELECT * FROM rule_sets ORDER BY id LIMIT 1; DELETE FROM rule_sets WHERE id = (SELECT id FROM r_old); UPDATE r_old SET id = nextval('rule_sets_id_seq'), etag = '\"old\"'; INSERT INTO rule_sets SELECT * FROM r_old" >/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/old.err"; rc=$?
check "an old set put back at HQ is refused: the newer one stays" '[ $rc -ne 0 ] && grep -q "older than the installed" "$T/old.err" && cmp -s "$T/r2.json" "$T/d1/rules.json" && [ "$(cat "$T/d1/rules.serial")" = "$s2" ]'
psql_q "UPDATE rule_sets SET serial = $s2 + 100, etag = '\"bumped\"' WHERE etag = '\"old\"'" >/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/bump.err"; rc=$?
check "an old signed set replayed with a newer serial: the signature fails, nothing installed" '[ $rc -ne 0 ] && grep -q "bad signature" "$T/bump.err" && cmp -s "$T/r2.json" "$T/d1/rules.json"'
rule third >"$T/r3.json"
"$POSMARK_HQ" rules publish "$T/r3.json" --db "$HQ_DB" --key "$T/sign.key" 2>/dev/null
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1; rc=$?
check "a newer publication installs" '[ $rc -eq 0 ] && cmp -s "$T/r3.json" "$T/d1/rules.json"'
rm -f "$T/d1/rules.etag"
"$POSMARK" sync --config "$T/c1" --once --json >"$T/same.out" 2>/dev/null; rc=$?
check "the same publication again (etag lost): nothing installed, no error" '[ $rc -eq 0 ] && grep -q "\"rules\":0" "$T/same.out" && [ -s "$T/d1/rules.etag" ]'
{ rule big | tr -d '\n'; head -c $((9 << 20)) /dev/zero | tr '\0' ' '; echo; } >"$T/big.json"
n_sets=$(psql_q "SELECT count(*) FROM rule_sets")
"$POSMARK_HQ" rules publish "$T/big.json" --db "$HQ_DB" --key "$T/sign.key" 2>"$T/big.err"; rc=$?
check "a set larger than terminals download is refused at publish" '[ $rc -eq 1 ] && grep -q "more than the 8388608" "$T/big.err" && grep -q "^hint:" "$T/big.err" && [ "$(psql_q "SELECT count(*) FROM rule_sets")" = "$n_sets" ]'

# ---- 5. absurd times, month partitions -----------------------------------------------------
hdr() { printf '{"format":"posmark-batch","version":1,"kind":"sales","store":"S1","terminal":"%s","first_seq":1,"last_seq":%s,"count":%s}\n' "$1" "$2" "$2"; }
sale_at() { printf '{"seq":%s,"time_us":%s,"card":null,"currency":"EUR","tender":"cash","total_cents":5,"discount_cents":0,"tendered_cents":5,"points_earned":0,"items":[],"redeemed":[]}\n' "$1" "$2"; }
parts() { psql_q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'sales'::regclass"; }
p0=$(parts)
{ hdr TA 1; sale_at 1 9223372036854775807; } | gzip >"$T/tmax.gz"
code=$(post S1 "$cred1" "$T/tmax.gz")
check "a sale at INT64_MAX: 400 with the reason, not 503" '[ "$code" = 400 ] && grep -q "time_us 9223372036854775807 is not between 2000-01-01" "$T/resp"'
{ hdr TB 1; sale_at 1 86400000000; } | gzip >"$T/t1970.gz"
code=$(post S1 "$cred1" "$T/t1970.gz")
check "a sale in 1970: 400, no partition made for it" '[ "$code" = 400 ] && [ "$(parts)" = "$p0" ]'
python3 - >"$T/months.ndjson" <<'PY'
import calendar, json
print(json.dumps({"format": "posmark-batch", "version": 1, "kind": "sales", "store": "S1", "terminal": "TC",
                  "first_seq": 1, "last_seq": 30, "count": 30}, separators=(",", ":")))
for i in range(30):
    y, m = 2020 + i // 12, i % 12 + 1
    us = calendar.timegm((y, m, 15, 12, 0, 0)) * 1000000
    print(json.dumps({"seq": i + 1, "time_us": us, "card": None, "currency": "EUR", "tender": "cash", "total_cents": 5,
                      "discount_cents": 0, "tendered_cents": 5, "points_earned": 0, "items": [], "redeemed": []},
                     separators=(",", ":")))
PY
gzip <"$T/months.ndjson" >"$T/months.gz"
code=$(post S1 "$cred1" "$T/months.gz")
check "a batch over 30 months: 400, no partition created" '[ "$code" = 400 ] && grep -q "more than 24 months" "$T/resp" && [ "$(parts)" = "$p0" ]'

# ---- 5. header values escaped in the log ----------------------------------------------------
evil=$'\e[2J\e[31mFAKE\x07'"$(head -c 400 /dev/zero | tr '\0' A)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Posmark-Store: $evil" -H "Authorization: Bearer x" "$HQ_URL/v1/requests")
check "a store header with escape sequences: 401, logged escaped and cut" '[ "$code" = 401 ] && grep -q "x1b\[2J" "$T/hq.log" && ! grep -q $'"'"'\e'"'"' "$T/hq.log" && ! grep -q $'"'"'\a'"'"' "$T/hq.log" && [ "$(grep "refused a request" "$T/hq.log" | awk "{ if (length(\$0) > m) m = length(\$0) } END { print m }")" -lt 300 ]'

# ---- 5. /v1/health without the database pool -------------------------------------------------
HQ_PORT= hq_start --workers 1
psql -X -q "$HQ_DB" -c "BEGIN; LOCK TABLE stores; SELECT pg_sleep(8); COMMIT" >/dev/null 2>&1 &
lockpid=$!
sleep 0.5
curl -s -m 15 -o /dev/null -H "X-Posmark-Store: S1" -H "Authorization: Bearer $cred1" "$HQ_URL/v1/requests" &
busy=$!
sleep 0.5
t0=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$HQ_URL/v1/health")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "/v1/health answers in under a second while the only pool connection waits on the database ($ms ms)" '[ "$code" = 200 ] && [ "$ms" -lt 1000 ]'
wait "$busy" "$lockpid" 2>/dev/null
