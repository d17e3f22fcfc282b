#!/usr/bin/env bash
# hq_faults.sh - exactly once under faults: a sync of >= 100,000 sales
# (10,000 under ASan) through a fault-injecting proxy in front of two
# stateless receivers; then kill -9 of the terminal's sync and of
# posmark-hq in the middle of batches. Afterwards HQ holds every sale
# exactly once and the terminal's watermark equals HQ's position.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap 'kill $PROXY_PID 2>/dev/null; hq_cleanup' EXIT
PROXY_PID=
pg_start fsync=off synchronous_commit=off
T=$HQ_TMP
if [ "$POSMARK_VARIANT" = asan ]; then N=10000; NK=2000; B=200; else N=100000; NK=12000; B=2000; fi

exactly_once() { # store expected -> "count|distinct|acked"
	psql_q "SELECT count(*) || '|' || count(DISTINCT seq) || '|' ||
	        (SELECT coalesce(max(acked_seq), 0) FROM upload_progress WHERE store_id = '$1' AND kind = 'sales')
	        FROM sales WHERE store_id = '$1'"
}
terminal_acked() { # config -> sales sent by a fresh sync (0 = watermark right)
	"$POSMARK" sync --config "$1" --once --json 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["sales_sent"])'
}

# --- 1: fault proxy between terminal and two receivers --------------------
hq_start; HQ1=$HQ_PORT; HQ_PORT=
hq_start; HQ2=$HQ_PORT
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
"$GEN" gen "$T/d1" "$N" T1 400 >/dev/null
PPORT=$(free_port)
python3 tests/integration/lib/faultproxy.py "$PPORT" "$HQ1,$HQ2" 42 35 "$T/faults" & PROXY_PID=$!
sleep 0.3
HQ_URL="http://127.0.0.1:$PPORT"
terminal_config "$T/c1" "$T/d1" S1 "$cred" "batch_max_sales = $B" "max_attempts = 60"
start=$(date +%s.%N)
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>"$T/sync1.err"); rc=$?
end=$(date +%s.%N)
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=
echo "# $N sales through the fault proxy in $(python3 -c "print(round($end - $start, 1))") s; sync: $out"
echo "# faults injected: $(tr '\n' ' ' <"$T/faults")"
check "sync of $N sales through the fault proxy completes" '[ $rc -eq 0 ]'
check "proxy injected every kind of fault" '[ $(grep -vc "^pass" "$T/faults") -eq 6 ]'
check "HQ holds each of the $N sales exactly once" '[ "$(exactly_once S1)" = "$N|$N|$N" ]'
check "events uploaded exactly once" '[ "$(psql_q "SELECT count(*) = count(DISTINCT seq) AND count(*) > 300 FROM events WHERE store_id = '\''S1'\''")" = t ]'
HQ_URL="http://127.0.0.1:$HQ1"
terminal_config "$T/c1" "$T/d1" S1 "$cred"
check "terminal watermark right: nothing left to send" '[ "$(terminal_acked "$T/c1")" = 0 ]'

# --- 2: kill -9 of the terminal's sync mid-batch ----------------------------
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
"$GEN" gen "$T/d2" "$NK" T1 0 >/dev/null
terminal_config "$T/c2" "$T/d2" S2 "$cred2" "batch_max_sales = 300"
kills=0
for round in 1 2 3; do
	"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>&1 & spid=$!
	for _ in $(seq 1 200); do
		n=$(psql_q "SELECT count(*) FROM sales WHERE store_id = 'S2'")
		[ "$n" -ge $((round * NK / 5)) ] && break
		sleep 0.02
	done
	kill -9 "$spid" 2>/dev/null && kills=$((kills + 1)); wait "$spid" 2>/dev/null
done
mid=$(exactly_once S2)
echo "# after $kills kill -9 of the sync: count|distinct|acked = $mid"
check "after kill -9 of the sync nothing is duplicated" '[ "$(echo "$mid" | cut -d"|" -f1)" = "$(echo "$mid" | cut -d"|" -f2)" ]'
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>"$T/sync2.err"
check "resumed sync completes: each sale exactly once" '[ "$(exactly_once S2)" = "$NK|$NK|$NK" ]'
check "terminal watermark right after kills" '[ "$(terminal_acked "$T/c2")" = 0 ]'

# --- 3: kill -9 of posmark-hq mid-batch -------------------------------------
hq_stop; HQ_PORT=$HQ2; kill "$HQ_PID" 2>/dev/null
for p in "${HQ_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
HQ_PIDS=()
HQ_PORT=$(free_port); hq_start
cred3=$("$POSMARK_HQ" store add S3 --db "$HQ_DB")
"$GEN" gen "$T/d3" "$NK" T1 0 >/dev/null
terminal_config "$T/c3" "$T/d3" S3 "$cred3" "batch_max_sales = 300" "max_attempts = 200"
"$POSMARK" sync --config "$T/c3" --once >/dev/null 2>"$T/sync3.err" & spid=$!
hq_kills=0
for round in 1 2 3; do
	for _ in $(seq 1 300); do
		n=$(psql_q "SELECT count(*) FROM sales WHERE store_id = 'S3'")
		[ "$n" -ge $((round * NK / 5)) ] && break
		sleep 0.02
	done
	kill -9 "$HQ_PID" && hq_kills=$((hq_kills + 1)); wait "$HQ_PID" 2>/dev/null
	sleep 0.2
	hq_start
done
wait "$spid"; rc=$?
echo "# posmark-hq killed -9 $hq_kills times during the sync; sync exit $rc"
check "sync survives kill -9 of posmark-hq" '[ $rc -eq 0 ]'
check "after HQ kills each sale exactly once" '[ "$(exactly_once S3)" = "$NK|$NK|$NK" ]'
check "terminal watermark right after HQ kills" '[ "$(terminal_acked "$T/c3")" = 0 ]'
