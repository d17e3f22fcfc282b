#!/usr/bin/env bash
# hq_getretry.sh - GETs from HQ (/v1/requests, /v1/rules) follow the batch
# upload's retry rules (docs/hostsync.md): a reply whose body was cut (cut
# JSON, a rule set whose signature no longer verifies) is retried with the
# same backoff and max_attempts, nothing of it is applied; a well-formed
# refusal (4xx with a posmark body) is not retried. The cut is made by
# tests/integration/lib/faultproxy.py with FAULT_GET_TRUNCATE (Content-Length
# rewritten, so only the body shows it).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap 'kill $PROXY_PID 2>/dev/null; hq_cleanup' EXIT
PROXY_PID=
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
HQ_DIRECT=$HQ_URL
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
"$GEN" gen "$T/d1" 1000 T1 0 400 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/sync0.err"
cards=$(psql_q "SELECT DISTINCT card FROM sales WHERE store_id = 'S1' AND card IS NOT NULL ORDER BY card LIMIT 2")
c1=$(echo "$cards" | sed -n 1p); c2=$(echo "$cards" | sed -n 2p)   # refs (HQ's tables)
n1=$(hq_number "$c1"); n2=$(hq_number "$c2")                        # the numbers (the till's)
check "two cards uploaded" '[ -n "$c1" ] && [ -n "$c2" ] && [ "$c1" != "$c2" ]'
pub=$("$POSMARK_HQ" rules keygen --key "$T/sign.key")
rule() { printf '{"format":"posmark-rules","version":1,"rules":[{"id":"%s","kind":"cross_sell","when":{"basket":{"all":[{"item":"4006381333931"}]}},"offer":{"item":"4000000000006","percent_off":10}}]}\n' "$1"; }
has_history() { [ -n "$("$POSMARK" history "$1" --data "$T/d1" --json 2>/dev/null)" ]; }
queued() { psql_q "SELECT count(*) FROM downlink WHERE store_id = 'S1'"; }

proxy() { # proxy N|all|rules: a proxy cutting the first N (all, every rules) GET replies; sets HQ_URL
	PPORT=$(free_port)
	FAULT_GET_TRUNCATE=$1 python3 tests/integration/lib/faultproxy.py "$PPORT" "$HQ_PORT" 1 0 "$T/faults" & PROXY_PID=$!
	for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PPORT/v1/health" && break; sleep 0.1; done
	HQ_URL="http://127.0.0.1:$PPORT"
}
proxy_stop() { kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=; HQ_URL=$HQ_DIRECT; }

# --- 1: the first 2 replies of each GET cut: retried, applied once, installed
rule first >"$T/rules1.json"
"$POSMARK_HQ" rules publish "$T/rules1.json" --db "$HQ_DB" --key "$T/sign.key" 2>/dev/null
"$POSMARK_HQ" erase "$c1" --db "$HQ_DB" 2>/dev/null
"$POSMARK_HQ" erase "$c2" --db "$HQ_DB" 2>/dev/null
check "two erasures queued for the store" '[ "$(queued)" = 2 ]'
proxy 2
terminal_config "$T/c1" "$T/d1" S1 "$cred" "rules_public_key = $pub" "max_attempts = 5"
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>"$T/sync1.err"); rc=$?
proxy_stop
echo "# sync through cut GET replies: exit $rc; $out; proxy: $(tr '\n' ' ' <"$T/faults")"
check "sync with the first 2 GET replies of each kind cut succeeds" '[ $rc -eq 0 ]'
check "the proxy cut 4 replies" 'grep -q "^get_truncate 4$" "$T/faults"'
check "the cut replies were retried (retries >= 4)" 'echo "$out" | python3 -c "import json,sys; sys.exit(0 if json.loads(sys.stdin.read())[\"retries\"] >= 4 else 1)"'
check "requests applied exactly once" 'echo "$out" | grep -q "\"requests_applied\":2" && [ -n "$n1" ] && [ -n "$n2" ] && ! has_history "$n1" && ! has_history "$n2" && [ "$(queued)" = 0 ]'
check "rule set installed" 'cmp -s "$T/rules1.json" "$T/d1/rules.json" && echo "$out" | grep -q "\"rules\":1"'

# --- 2: every GET reply cut: fails after max_attempts, nothing touched ------
rule second >"$T/rules2.json"
"$POSMARK_HQ" rules publish "$T/rules2.json" --db "$HQ_DB" --key "$T/sign.key" 2>/dev/null
c3=$(psql_q "SELECT DISTINCT card FROM sales WHERE store_id = 'S1' AND card IS NOT NULL AND card NOT IN ('$c1', '$c2') ORDER BY card LIMIT 1")
n3=$(hq_number "$c3")
"$POSMARK_HQ" erase "$c3" --db "$HQ_DB" 2>/dev/null
cp "$T/d1/rules.json" "$T/rules.before"; cp "$T/d1/rules.json.sig" "$T/sig.before"; cp "$T/d1/rules.etag" "$T/etag.before" 2>/dev/null
proxy all
terminal_config "$T/c1" "$T/d1" S1 "$cred" "rules_public_key = $pub" "max_attempts = 4"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/sync2.err"; rc=$?
proxy_stop
echo "# every GET reply cut: exit $rc; proxy: $(tr '\n' ' ' <"$T/faults"); stderr: $(tr '\n' ' ' <"$T/sync2.err" | cut -c1-400)"
check "every /v1/requests reply cut: exit non-zero after max_attempts (4 tries)" '[ $rc -ne 0 ] && grep -q "^get_truncate 4$" "$T/faults"'
check "a clear error and a hint" 'grep -qi "requests" "$T/sync2.err" && grep -qi "4 attempts" "$T/sync2.err" && grep -q "^hint:" "$T/sync2.err"'
check "nothing applied from the cut replies: the card's sales are still in the log, request still queued" 'has_history "$n3" && [ "$(queued)" = 1 ]'
check "installed rule set untouched" 'cmp -s "$T/rules.before" "$T/d1/rules.json" && cmp -s "$T/sig.before" "$T/d1/rules.json.sig"'

# every /v1/rules reply cut (requests fine): fails, old rule set stays
terminal_config "$T/c1" "$T/d1" S1 "$cred" "rules_public_key = $pub"   # straight to HQ
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
check "the erasure applied once the replies are whole" '! has_history "$n3" && [ "$(queued)" = 0 ]'
rule third >"$T/rules3.json"
"$POSMARK_HQ" rules publish "$T/rules3.json" --db "$HQ_DB" --key "$T/sign.key" 2>/dev/null
cp "$T/d1/rules.json" "$T/rules.before"; cp "$T/d1/rules.json.sig" "$T/sig.before"
proxy rules
terminal_config "$T/c1" "$T/d1" S1 "$cred" "rules_public_key = $pub" "max_attempts = 3"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/sync3.err"; rc=$?
proxy_stop
echo "# every GET reply cut, rules: exit $rc; proxy: $(tr '\n' ' ' <"$T/faults"); stderr: $(tr '\n' ' ' <"$T/sync3.err" | cut -c1-400)"
check "every /v1/rules reply cut: 3 tries" 'grep -q "^get_truncate 3$" "$T/faults"'
check "every /v1/rules reply cut: exit non-zero, clear error and hint, old rule set kept" '[ $rc -ne 0 ] && grep -qi "rule set" "$T/sync3.err" && grep -q "^hint:" "$T/sync3.err" && cmp -s "$T/rules.before" "$T/d1/rules.json" && cmp -s "$T/sig.before" "$T/d1/rules.json.sig"'

# --- 3: a well-formed refusal (401 with a posmark body) is not retried --------
proxy 0
terminal_config "$T/c1" "$T/d1" S1 "not-the-credential" "rules_public_key = $pub" "max_attempts = 5"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>"$T/sync4.err"; rc=$?
proxy_stop
echo "# bad credential: exit $rc; proxy: $(tr '\n' ' ' <"$T/faults"); stderr: $(tr '\n' ' ' <"$T/sync4.err" | cut -c1-300)"
check "a 401 from HQ on GET: exit non-zero, HQ's reason, not retried" '[ $rc -ne 0 ] && grep -q "unknown store or bad" "$T/sync4.err" && grep -q "^pass 2$" "$T/faults"'
