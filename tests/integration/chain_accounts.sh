#!/usr/bin/env bash
# chain_accounts.sh - one account per card across the chain, end to end
# (docs/accounts.md, PRODUCT.md "One account per card, across the chain"):
# two stores, each a terminal with its own log, config and credential,
# against a real posmark-hq and PostgreSQL. Earn at A, sync, spend at B
# (B never saw the card: the lookup brings it), return at A, return at B of
# A's sale (HQ up: works; HQ down: refused with the reason), both stores
# offline selling and spending, then syncs in every order through the
# fault proxy with kill -9 of the sync and of posmark-hq. At the end HQ's
# balance = the sum of its ledger = what each till shows, the ledger has
# each entry the tills wrote exactly once.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
PROXY_PID=
# CHAIN_KEEP=DIR keeps the tills' events, scans and logs there (for a failure's post-mortem)
trap 'kill $PROXY_PID 2>/dev/null; [ -n "${CHAIN_KEEP:-}" ] && cp -r "$HQ_TMP"/run-* "$HQ_TMP"/*.err "$HQ_TMP"/hq.log "$CHAIN_KEEP"/ 2>/dev/null; hq_cleanup' EXIT
pg_start fsync=off synchronous_commit=off
# stores seal their erasures to the rule-signing key; HQ opens them with it (docs/privacy.md)
PUB=$("$POSMARK_HQ" rules keygen --key "$HQ_TMP/rules.key")
hq_start --key "$HQ_TMP/rules.key"
T=$HQ_TMP
HQ_DIRECT=$HQ_URL
if [ "$POSMARK_VARIANT" = asan ]; then BULK=600; BUDGET=3000; else BULK=3000; BUDGET=1000; fi
C1=6036010000002000     # the card that travels (Luhn-valid)
C2=6036010000003008     # a card only store B knows, for the offline phase
BIG=4000000000013; MID=4000000000020; SMALL=4000000000037
printf 'gtin,name,category,price_cents,brand\n%s,Coffee machine,Kitchen,2500,\n%s,Coffee beans,Pantry,900,\n%s,Milk,Dairy,109,\n' \
	"$BIG" "$MID" "$SMALL" >"$T/cat.csv"

# a points coupon: buying coffee beans earns a coupon worth 50 bonus points, signed at HQ;
# both stores share the chain's coupon key, so one issued at A is redeemed at B
printf '{"format":"posmark-rules","version":1,"rules":[{"id":"beans-bonus","kind":"points_bonus",%s}]}\n' \
	"\"when\":{\"basket\":{\"all\":[{\"item\":\"$MID\"}]}},\"offer\":{\"points\":50}" >"$T/rules.json"
"$POSMARK_HQ" rules publish "$T/rules.json" --db "$HQ_DB" --key "$T/rules.key" 2>"$T/publish.err" ||
	{ echo "not ok - rule set published"; cat "$T/publish.err"; }
COUPON_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# store_config STORE TERMINAL URL CRED SUFFIX: the store's own config (and data dir)
store_config() {
	{
		printf '[store]\ndata = %s\nid = %s\nterminal = %s\ncurrency = EUR\n' "$T/d$1" "$1" "$2"
		printf '[loyalty]\npoints_per_unit = 1\npoint_value_cents = 1\n'
		printf '[offers]\ncoupon_key = %s\n' "$COUPON_KEY"
		printf '[hq]\nurl = %s\nstore_credential = %s\nbackoff_initial_ms = 20\nbackoff_max_ms = 200\n' "$3" "$4"
		printf 'max_attempts = 60\nbatch_max_sales = 200\nlookup_budget_ms = %s\nrules_public_key = %s\n' "$BUDGET" "$PUB"
	} >"$T/c$1$5"
}
credA=$("$POSMARK_HQ" store add SA --db "$HQ_DB")
credB=$("$POSMARK_HQ" store add SB --db "$HQ_DB")
store_config SA TA "$HQ_DIRECT" "$credA" ""
store_config SB TB "$HQ_DIRECT" "$credB" ""
"$POSMARK" catalog import "$T/cat.csv" --config "$T/cSA" 2>/dev/null
"$POSMARK" catalog import "$T/cat.csv" --config "$T/cSB" 2>/dev/null

n_run=0
# till STORE "scan lines" -> the events of that run in $T/run-N.jsonl (path in $RUN)
till() {
	n_run=$((n_run + 1)); RUN=$T/run-$n_run.jsonl
	# a comment line makes each script unique: checkout keys a script's sales by its content
	printf '// run %d\n%b\n' "$n_run" "$2" >"$T/run-$n_run.scans"
	"$POSMARK" checkout --config "$T/c$1" --scans "$T/run-$n_run.scans" --json >"$RUN" 2>"$T/run-$n_run.err"
}
ev() { # ev FILE EVENT FIELD -> FIELD of the last EVENT in FILE (empty if none)
	python3 - "$@" <<'PY'
import json, sys
v = ""
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == sys.argv[2]:
        v = e.get(sys.argv[3], "")
print("" if v is None else v)
PY
}
sync() { "$POSMARK" sync --config "$T/c$1" --once --json 2>>"$T/sync-$1.err"; }
till_points() { # STORE CARD -> the till's points
	"$POSMARK" card show "$2" --config "$T/c$1" --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])'
}
hq_card() { "$POSMARK_HQ" card "$1" --db "$HQ_DB" --json 2>>"$T/hqcard.err"; }
hq_points() { hq_card "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])'; }

# --- 1: earn at A, sync; spend at B, which never saw the card; A's coupon at B -------
sync SA >/dev/null; sync SB >/dev/null    # the signed rule set
till SA "#card $C1\n#qty 3\n$BIG\n$MID\n$SMALL\n#tender cash"
sale1=$(ev "$RUN" sale_committed sale_id); earned1=$(ev "$RUN" sale_committed points_earned)
coupon=$(python3 -c 'import json,sys; print(([o["coupon"] for l in open(sys.argv[1]) for o in json.loads(l).get("offers", []) if o.get("coupon")] or [""])[0])' "$RUN")
check "store A: a sale with card earns points (sale $sale1, $earned1 points) and prints a points coupon" \
	'[ "${earned1:-0}" -gt 0 ] && [ -n "$coupon" ]'
sync SA >/dev/null
check "HQ has A's earning: its balance is A's" '[ "$(hq_points $C1)" = "$earned1" ]'
check "store B never saw the card" '! "$POSMARK" card show $C1 --config "$T/cSB" >/dev/null 2>&1'
spend=$((earned1 / 2))
till SB "#card $C1\n$SMALL\n$coupon\n#points $spend\n#tender cash"
check "store B: the lookup brings the account, #points $spend is accepted" \
	'[ "$(ev "$RUN" sale_committed points_spent)" = "$spend" ] && ! grep -q scan_refused "$RUN"'
bonusB=$(ev "$RUN" sale_committed points_bonus)
check "store B: A's points coupon is redeemed, its bonus credited (${bonusB:-none})" '[ "${bonusB:-0}" = 50 ]'
earnedB=$(ev "$RUN" sale_committed points_earned)
expectB=$((earned1 - spend + earnedB + ${bonusB:-0}))
check "store B shows A's points minus the spend plus its own ($expectB)" '[ "$(till_points SB $C1)" = "$expectB" ]'
till SB "#card $C1\n$SMALL\n#points $((expectB + 5))\n#tender cash"
check "store B: more points than the card has is refused with the reason" \
	'grep -q "\"scan_refused\".*points" "$RUN"'
till SB "#card $C1\n$SMALL\n$coupon\n#tender cash"
check "the same coupon again at B: refused, used before" 'grep -q "\"coupon_refused\".*already used" "$RUN"'
sync SB >/dev/null; outA=$(sync SA)
check "A's sync pulls the card's changed account down" \
	'[ "$(echo "$outA" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"accounts_pulled\"])")" -ge 1 ]'
check "after both synced A shows B's spend: $(till_points SA $C1) = HQ's $(hq_points $C1)" \
	'[ "$(till_points SA $C1)" = "$(hq_points $C1)" ]'

# --- 2: returns: at A of its own sale; at B of A's sale (HQ up, then down) --------
till SA "#return TA:$sale1\n$BIG\n#tender cash"
claw1=$(ev "$RUN" return_committed points_clawed_back)
check "return at A of its own sale: refund and clawback ($claw1 points)" \
	'[ "$(ev "$RUN" return_committed refund_cents)" -gt 0 ] && [ "${claw1:-0}" -gt 0 ]'
sync SA >/dev/null     # HQ learns of the return: another store's return counts it
till SB "#return TA:$sale1\n$BIG\n#tender cash"
check "return at B of A's sale while HQ is up: works" '[ "$(ev "$RUN" return_committed points_clawed_back)" -gt 0 ]'
till SB "#return TA:$sale1\n$BIG\n$BIG\n#tender cash"
check "return at B of more units than are left is refused" 'grep -q "\"scan_refused\"" "$RUN"'
hq_stop
till SB "#return TA:$sale1\n$MID\n#tender cash"
check "return at B of A's sale with HQ down: refused with the reason" \
	'grep -q "HQ cannot be reached" "$RUN" && [ -z "$(ev "$RUN" return_committed return_of)" ]'

# --- 3: both offline, selling and spending -------------------------------------------
spent_off=""
for i in 1 2 3; do
	till SA "#card $C1\n$BIG\n#tender card"
	till SA "#card $C1\n$MID\n#points 3\n#tender card"; spent_off="$spent_off A$(ev "$RUN" sale_committed points_spent)"
	till SB "#card $C1\n$BIG\n#tender cash"
	till SB "#card $C1\n$MID\n#points 4\n#tender cash"; spent_off="$spent_off B$(ev "$RUN" sale_committed points_spent)"
	till SB "#card $C2\n$MID\n#tender cash"
done
check "offline: both stores sold and spent points ($spent_off )" '[ "$spent_off" = " A3 B4 A3 B4 A3 B4" ]'
# bulk sales so the syncs below take batches (other cards; the fixture generator)
"$GEN" gen "$T/dSA" "$BULK" TA >/dev/null
"$GEN" gen "$T/dSB" "$BULK" TB >/dev/null

# --- 4: syncs in every order through the fault proxy, kill -9 of sync and HQ ---------
HQ_PORT=$(free_port); hq_start --key "$T/rules.key"
PPORT=$(free_port)
python3 tests/integration/lib/faultproxy.py "$PPORT" "$HQ_PORT" 13 30 "$T/faults" & PROXY_PID=$!
sleep 0.3
store_config SA TA "http://127.0.0.1:$PPORT" "$credA" .proxy
store_config SB TB "http://127.0.0.1:$PPORT" "$credB" .proxy
kills=0
for order in "SA SB" "SB SA"; do
	for s in $order; do
		"$POSMARK" sync --config "$T/c$s.proxy" --once >/dev/null 2>>"$T/sync-$s.err" & spid=$!
		sleep 0.$((RANDOM % 5 + 2))
		kill -9 "$spid" 2>/dev/null && kills=$((kills + 1)); wait "$spid" 2>/dev/null
	done
done
hq_kills=0
"$POSMARK" sync --config "$T/cSA.proxy" --once >/dev/null 2>>"$T/sync-SA.err" & spid=$!
sleep 0.4
kill -9 "$HQ_PID" && hq_kills=$((hq_kills + 1)); wait "$HQ_PID" 2>/dev/null
sleep 0.2; hq_start --key "$T/rules.key"
wait "$spid"; rcA=$?
"$POSMARK" sync --config "$T/cSB.proxy" --once >/dev/null 2>>"$T/sync-SB.err" & spid=$!
sleep 0.4
kill -9 "$HQ_PID" && hq_kills=$((hq_kills + 1)); wait "$HQ_PID" 2>/dev/null
sleep 0.2; hq_start --key "$T/rules.key"
wait "$spid"; rcB=$?
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=
echo "# $kills kill -9 of a sync, $hq_kills of posmark-hq; syncs after HQ kills exit $rcA, $rcB"
echo "# faults injected: $(tr '\n' ' ' <"$T/faults")"
check "syncs through the fault proxy survive kill -9 of posmark-hq" '[ $rcA -eq 0 ] && [ $rcB -eq 0 ]'
# final syncs, direct: A, B, then A again so each holds HQ's latest state
store_config SA TA "$HQ_URL" "$credA" ""; store_config SB TB "$HQ_URL" "$credB" ""
for s in SA SB SA; do
	out=$(sync $s); echo "# sync $s: $out"
done

# --- erasure: a card erased at the till before its sales went up; the sync goes on ----
C3=6036010000004006
till SA "#card $C3\n$MID\n#tender cash"
"$POSMARK" card erase $C3 --config "$T/cSA" >/dev/null 2>&1
out=$(sync SA)
check "a sale whose card was erased before the sync uploads (no ledger without a card)" \
	'echo "$out" | grep -q "\"ok\":true,\"sales_sent\":1,"'

# --- 5: one account, exactly once ---------------------------------------------------
hq_card $C1 >"$T/hq-c1.json"
python3 - "$T/hq-c1.json" "$T"/run-*.jsonl >"$T/verdict" <<'PY'
import json, sys
hq = json.load(open(sys.argv[1]))
ledger = hq.get("ledger", [])
keys = [(e["terminal"], e["seq"], e["kind"]) for e in ledger]
# what the tills wrote for the card: one entry per non-zero amount of each record
wrote = 0
for f in sys.argv[2:]:
    for line in open(f):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("card") != "6036010000002000" and e.get("event") != "return_committed":
            continue
        if e.get("event") == "sale_committed":
            wrote += sum(1 for k in ("points_earned", "points_spent", "points_bonus", "points_expired") if e.get(k))
        elif e.get("event") == "return_committed" and e.get("points_clawed_back"):
            wrote += 1
print(hq["points"], sum(e["points"] for e in ledger), len(keys), len(set(keys)), wrote)
PY
read -r hqp sum n uniq wrote <"$T/verdict"
pa=$(till_points SA $C1); pb=$(till_points SB $C1)
echo "# card $C1: HQ $hqp, ledger sum $sum, A $pa, B $pb; ledger rows $n (distinct $uniq), written by the tills $wrote"
check "HQ's balance is the sum of its ledger" '[ "$hqp" = "$sum" ]'
check "store A shows HQ's balance after a final sync" '[ "$pa" = "$hqp" ]'
check "store B shows HQ's balance after a final sync" '[ "$pb" = "$hqp" ]'
check "no ledger entry counted twice" '[ "$n" = "$uniq" ]'
check "HQ has every entry the tills wrote, once ($wrote)" '[ "$n" = "$wrote" ]'
check "nothing pending at either till" \
	'[ "$("$POSMARK" card show $C1 --config "$T/cSA" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"pending_points\"])")" = 0 ]'
check "a card only B knows: B and HQ agree on it" \
	'[ "$(till_points SB $C2)" = "$(hq_points $C2)" ]'
echo "# done in ${SECONDS}s"
