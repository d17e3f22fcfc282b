#!/usr/bin/env bash
# daemon_hq_lookup.sh - the daemon asks HQ off its event loop (docs/daemon.md,
# "Lookups at HQ"): while one lane waits for HQ's answer about a card, a sale
# to return or a coupon, the other lanes are served at once; the waiting
# client's later requests are answered after it, in order; an answer that
# comes after the budget is not waited for; HQ down costs a lane at most the
# budget. Real posmark-hq and PostgreSQL; between the daemon and HQ a proxy
# that holds every request DELAY ms (the slow WAN link of a store).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
PROXY_PID=; DPID=
trap 'kill $PROXY_PID $DPID 2>/dev/null; hq_cleanup' EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
C1=6036010000002000; C2=6036010000003008
BIG=4000000000013; SMALL=4000000000037
printf 'gtin,name,category,price_cents,brand\n%s,Coffee machine,Kitchen,2500,\n%s,Milk,Dairy,109,\n' "$BIG" "$SMALL" >"$T/cat.csv"
DELAY=900
if [ "$POSMARK_VARIANT" = asan ]; then QUICK=600; else QUICK=400; fi

# a proxy that holds each request DELAY ms before passing it on
PPORT=$(free_port)
python3 - "$PPORT" "$HQ_PORT" "$DELAY" >"$T/proxy.log" 2>&1 <<'PY' &
import socket, sys, threading, time
lport, uport, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
def serve(c):
    time.sleep(delay)
    u = socket.create_connection(("127.0.0.1", uport))
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
    pump(c, u)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", lport)); s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PROXY_PID=$!

# store_config STORE TERMINAL URL BUDGET_MS
store_config() {
	{
		printf '[store]\ndata = %s\nid = %s\nterminal = %s\ncurrency = EUR\n' "$T/d$1" "$1" "$2"
		printf '[loyalty]\npoints_per_unit = 1\npoint_value_cents = 1\n'
		printf '[hq]\nurl = %s\nstore_credential = %s\nlookup_budget_ms = %s\n' "$3" "$(cat "$T/cred$1")" "$4"
		printf 'backoff_initial_ms = 20\nbackoff_max_ms = 200\nmax_attempts = 5\ninterval_s = 3600\n'
	} >"$T/c$1"
}
"$POSMARK_HQ" store add SA --db "$HQ_DB" >"$T/credSA"
"$POSMARK_HQ" store add SB --db "$HQ_DB" >"$T/credSB"
store_config SA TA "$HQ_URL" 1000
store_config SB TB "http://127.0.0.1:$PPORT" 3000
for s in SA SB; do "$POSMARK" catalog import "$T/cat.csv" --config "$T/c$s" 2>/dev/null; done

# store A sells to both cards and syncs: HQ knows them and A's sale; B never saw either
printf '// a\n#card %s\n%s\n#tender cash\n#card %s\n%s\n#tender cash\n' "$C1" "$BIG" "$C2" "$BIG" >"$T/a.scans"
"$POSMARK" checkout --config "$T/cSA" --scans "$T/a.scans" --json >"$T/a.json" 2>"$T/a.err"
"$POSMARK" sync --config "$T/cSA" --once --json >/dev/null 2>>"$T/sync.err"
sale1=$(python3 -c 'import json,sys; print([json.loads(l)["sale_id"] for l in open(sys.argv[1]) if "sale_committed" in l][0])' "$T/a.json")
check "store A's sales reached HQ (card $C1 has points there)" \
	'"$POSMARK_HQ" card $C1 --db "$HQ_DB" --json 2>/dev/null | grep -q "\"points\":25,"'

start_daemon() { # CONFIG
	rm -f "$T/pm.sock"
	"$POSMARK" daemon --config "$T/c$1" --socket "$T/pm.sock" 2>>"$T/daemon.err" & DPID=$!
	for _ in $(seq 1 200); do [ -S "$T/pm.sock" ] && break; sleep 0.05; done
}
stop_daemon() { kill $DPID 2>/dev/null; wait $DPID 2>/dev/null; DPID=; }

# two POS clients at once: lane 1 scans a card B never saw (HQ answers after DELAY ms), lane 2
# sells meanwhile; then lane 1 pipelines a line_add behind a return_open of A's sale, and a
# coupon-free card C2 with the proxy past the budget
lanes() { # OUT BUDGET_NOTE
	python3 - "$T/pm.sock" "$C1" "$SMALL" "TA:$sale1" "$BIG" >"$1" 2>&1 <<'PY'
import json, socket, sys, threading, time
sock, card, milk, ref, big = sys.argv[1:6]
def client():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); return s, s.makefile("rwb")
def call(f, **req):
    f.write(json.dumps(req).encode() + b"\n"); f.flush()
    return json.loads(f.readline())
out = {}
_, f1 = client(); _, f2 = client()
call(f1, op="sale_open", lane="1", pos_sale_id="l1-a")
call(f2, op="sale_open", lane="2", pos_sale_id="l2-a")
def lane1():
    t0 = time.monotonic(); r = call(f1, op="card", lane="1", card=card)
    out["card_ms"] = (time.monotonic() - t0) * 1000; out["card"] = r
t = threading.Thread(target=lane1); t.start()
time.sleep(0.1)   # lane 1's lookup is under way
t0 = time.monotonic()
out["l2_line"] = call(f2, op="line_add", lane="2", gtin=milk)
out["l2_tender"] = call(f2, op="tender", lane="2", kind="cash")
out["l2_ms"] = (time.monotonic() - t0) * 1000
out["busy"] = call(f2, op="line_add", lane="1", gtin=milk) if t.is_alive() else {"error": "lane 1 already answered"}
t.join()
call(f1, op="sale_cancel", lane="1")
# pipelined: return_open (asks HQ about A's sale) then line_add, written together
f1.write((json.dumps({"op": "return_open", "lane": "1", "sale": ref, "pos_sale_id": "l1-r"}) + "\n" +
          json.dumps({"op": "line_add", "lane": "1", "gtin": big}) + "\n").encode()); f1.flush()
out["ret_open"] = json.loads(f1.readline()); out["ret_line"] = json.loads(f1.readline())
out["ret_tender"] = call(f1, op="tender", lane="1", kind="cash")
print(json.dumps(out))
PY
}
start_daemon SB
lanes "$T/o1"
# a return is sent to HQ at once (interval_s is an hour here): other stores learn of it from HQ
for _ in $(seq 1 300); do
	[ "$(psql_q "SELECT count(*) FROM sales WHERE terminal = 'TB' AND type = 'return'")" = 1 ] && break; sleep 0.1
done
check "the return reached HQ within seconds, not at the next sync interval (an hour)" \
	'[ "$(psql_q "SELECT count(*) FROM sales WHERE terminal = '"'TB'"' AND type = '"'return'"'")" = 1 ]'
stop_daemon
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(" ".join(map(str, r)) if isinstance(r, tuple) else r)' "$T/o1" "$1" 2>/dev/null; }
check "lane 1: the card B never saw comes back known with HQ's balance ($(j 'd["card"].get("points")') points, $(j 'int(d["card_ms"])') ms)" \
	'[ "$(j "d[\"card\"][\"ok\"], d[\"card\"][\"known\"], d[\"card\"][\"points\"]")" = "True True 25" ]'
check "lane 1 waited for HQ (>= ${DELAY} ms through the slow link)" '[ "$(j "int(d[\"card_ms\"] >= $DELAY - 50)")" = 1 ]'
check "lane 2 sold meanwhile without waiting for lane 1's lookup ($(j 'int(d["l2_ms"])') ms < $QUICK ms)" \
	'[ "$(j "d[\"l2_tender\"][\"ok\"] and d[\"l2_ms\"] < $QUICK")" = True ]'
check "another client's request for the waiting lane is refused as busy, with the reason" \
	'[ "$(j "d[\"busy\"][\"error\"]")" = PM_EBUSY ] && j "d[\"busy\"][\"message\"]" | grep -q "waiting for HQ"'
check "pipelined behind a lookup: return_open answered first, then the line_add, in order" \
	'[ "$(j "d[\"ret_open\"][\"ok\"], d[\"ret_open\"][\"return_of\"], d[\"ret_line\"][\"ok\"]")" = "True TA:$sale1 True" ]'
check "the return of store A's sale at B commits its refund" '[ "$(j "d[\"ret_tender\"][\"ok\"], d[\"ret_tender\"].get(\"refund_cents\")")" = "True 2500" ]'

# past the budget: the proxy holds DELAY ms, the budget is 300 ms: the lane is answered at the
# budget (the card is new to B, offline), not at HQ's answer
store_config SB TB "http://127.0.0.1:$PPORT" 300
start_daemon SB
python3 - "$T/pm.sock" "$C2" >"$T/o2" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def call(**req):
    f.write(json.dumps(req).encode() + b"\n"); f.flush(); return json.loads(f.readline())
call(op="sale_open", lane="1", pos_sale_id="b1")
t0 = time.monotonic(); r = call(op="card", lane="1", card=sys.argv[2])
print(json.dumps({"card": r, "ms": (time.monotonic() - t0) * 1000}))
PY
stop_daemon
k() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(" ".join(map(str, r)) if isinstance(r, tuple) else r)' "$T/o2" "$1" 2>/dev/null; }
check "budget 300 ms, HQ slower: the card is taken offline at the budget ($(k 'int(d["ms"])') ms), not at HQ's answer" \
	'[ "$(k "d[\"card\"][\"ok\"], d[\"card\"][\"known\"], d[\"ms\"] < $DELAY - 100")" = "True False True" ]'

# HQ down: a closed port; the lane is answered offline at once
store_config SB TB "http://127.0.0.1:$(free_port)" 3000
start_daemon SB
python3 - "$T/pm.sock" 6036010000004006 >"$T/o3" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def call(**req):
    f.write(json.dumps(req).encode() + b"\n"); f.flush(); return json.loads(f.readline())
call(op="sale_open", lane="1", pos_sale_id="c1")
r = call(op="card", lane="1", card=sys.argv[2]); call(op="line_add", lane="1", gtin="4000000000037")
print(json.dumps({"card": r, "tender": call(op="tender", lane="1", kind="cash")}))
PY
stop_daemon
check "HQ down: the card goes on offline and the sale commits" \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"card\"][\"ok\"] and d[\"tender\"][\"ok\"] else 1)" "$T/o3"'
check "the daemon stopped cleanly each time (no sanitizer or LMDB complaint)" \
	'! grep -Ei "sanitizer|runtime error|mdb_|assert" "$T/daemon.err"'
