#!/usr/bin/env bash
# store_status.sh - what stores report to HQ with every request (wire's Posmark-Status header,
# docs/hostsync.md "Store status") and the console's stores page built on it (docs/console.md),
# on a real PostgreSQL, posmark-hq and real terminals (bin/posmark sync):
#  - sales queued while HQ is down; a sync whose batch replies are lost (a proxy drops them: HQ
#    stored the batch, the terminal never heard) shows the queued counts at HQ; the next sync
#    brings them to 0;
#  - the rule set each terminal runs: none, then the published serial after a sync, the next
#    serial after `rules publish` and a sync; a store still on the old set is flagged behind;
#  - hostile statuses (huge numbers, garbage, 10 KB) on real batches: ignored, the batch stored;
#    the store is always the credential's.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
PROXY_PID=
trap 'kill $PROXY_PID 2>/dev/null; hq_cleanup' EXIT
pg_start fsync=off synchronous_commit=off
T=$HQ_TMP
PUB=$("$POSMARK_HQ" rules keygen --key "$T/rules.key")
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>/dev/null
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
rules() { # FILE ID: a small rule set that the engine loads
	printf '{"format":"posmark-rules","version":1,"rules":[{"id":"%s","kind":"points_bonus","when":{"basket":{"all":[{"item":"04006381333931"}]}},"offer":{"points":%d}}]}\n' \
		"$2" "${#2}" >"$1"
}
rules "$T/r1.json" first
"$POSMARK_HQ" rules publish "$T/r1.json" --db "$HQ_DB" --key "$T/rules.key" 2>"$T/pub.err" || { cat "$T/pub.err"; echo "not ok - publish"; }
HQ_PORT=$(free_port); HQ_URL="http://127.0.0.1:$HQ_PORT"   # HQ is down for now
"$GEN" gen "$T/d1" 300 T1 10 600 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred1" "max_attempts = 2" "rules_public_key = $PUB"
"$GEN" gen "$T/d2" 40 T1 10 600 >/dev/null
terminal_config "$T/c2" "$T/d2" S2 "$cred2" "max_attempts = 2" "rules_public_key = $PUB"
sync1() { "$POSMARK" sync --config "$T/c1" --once "$@" >>"$T/sync.log" 2>&1; }
# st STORE TERMINAL COLUMNS: that terminal's row of store_status
st() { psql_q "SELECT $3 FROM store_status WHERE store_id = '$1' AND terminal = '$2'"; }
page() { "$POSMARK_HQ" page stores --db "$HQ_DB" >"$T/page.json"; }
# row TABLE STORE[/TERMINAL] KEY: a value of the stores page (the row named by its first columns)
row() {
	python3 - "$T/page.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = [x for x in d["tables"] if x["name"] == sys.argv[2]][0]
keys = [c["key"] for c in t["columns"]]; want = sys.argv[3].split("/")
r = [r for r in t["rows"] if [str(v) for v in r[:len(want)]] == want][0]
v = r[keys.index(sys.argv[4])]
print("null" if v is None else v)
PY
}
fig() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(f["value"] for f in d["figures"] if f["key"]==sys.argv[2]))' "$T/page.json" "$1"; }

# ---- HQ down: the sync fails, nothing is reported ----
check "a sync while HQ is down fails and keeps the sales" '! sync1'
page
check "the stores page: S1 not reported yet" '[ "$(row stores S1 rules)" = "not reported" ] && [ "$(row stores S1 unsent_sales)" = null ]'

# ---- HQ up behind a proxy that loses every batch reply: HQ hears the queued counts ----
hq_start
PROXY_PORT=$(free_port)
python3 - "$PROXY_PORT" "$HQ_PORT" <<'PY' &
import socket, sys, threading
lp, up = int(sys.argv[1]), int(sys.argv[2])
def read_msg(c):
    data = b""
    while b"\r\n\r\n" not in data:
        ch = c.recv(65536)
        if not ch: return data
        data += ch
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": n = int(v.strip())
    while len(body) < n:
        ch = c.recv(65536)
        if not ch: break
        body += ch
    return head + b"\r\n\r\n" + body
def serve(c):
    req = read_msg(c)
    u = socket.create_connection(("127.0.0.1", up))
    u.sendall(req.replace(b"\r\n", b"\r\nConnection: close\r\n", 1))
    resp = b""
    while True:
        ch = u.recv(65536)
        if not ch: break
        resp += ch
    u.close()
    if not req.startswith(b"POST /v1/batches"):   # HQ stored the batch; its answer is lost
        c.sendall(resp)
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", lp)); s.listen(16)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PROXY_PID=$!
sleep 0.3
sed "s|^url = .*|url = http://127.0.0.1:$PROXY_PORT|" "$T/c1" >"$T/c1p"
check "a sync whose batch replies are lost fails (HQ stored the batch)" \
	'! "$POSMARK" sync --config "$T/c1p" --once >>"$T/sync.log" 2>&1 && [ "$(psql_q "SELECT count(*) FROM sales WHERE store_id = '\''S1'\''")" = 300 ]'
ledger=$(st S1 T1 unsent_ledger)
check "HQ recorded what the terminal said was queued: 300 sales, their ledger entries ($ledger)" \
	'[ "$(st S1 T1 unsent_sales)" = 300 ] && [ "${ledger:-0}" -gt 0 ] && [ "$(st S1 T1 version)" = "$("$POSMARK" --version | cut -d" " -f2)" ]'
page
check "the stores page shows S1's 300 unsent sales, as of its report" \
	'[ "$(row stores S1 unsent_sales)" = 300 ] && [ "$(row terminals S1/T1 unsent_sales)" = 300 ] && [ "$(row stores S1 reported_us)" != null ] && [ "$(fig unsent_sales)" = 300 ]'
check "clock skew of a terminal on this machine's clock: within 5 s" \
	'sk=$(row terminals S1/T1 clock_skew_s); [ "$sk" -ge -5 ] && [ "$sk" -le 5 ]'

# ---- straight to HQ: everything acknowledged, the counts go to 0; the rule set follows ----
check "a sync straight to HQ succeeds" 'sync1'
page
check "after the sync: S1 reports 0 unsent sales, events and ledger entries" \
	'[ "$(row terminals S1/T1 unsent_sales)/$(row terminals S1/T1 unsent_events)/$(row terminals S1/T1 unsent_ledger)" = 0/0/0 ]'
check "S1 fetched the rule set in that sync (reported before it installed it: behind)" \
	'[ "$(row terminals S1/T1 rules)" = "behind: none installed" ] && [ -f "$T/d1/rules.json" ]'
sync1
page
r1=$(sha256sum <"$T/r1.json" | cut -c1-32)
serial1=$(psql_q "SELECT serial FROM rule_sets ORDER BY id LIMIT 1")
check "the next sync reports the published serial ($serial1) and the set's id: current" \
	'[ "$(row terminals S1/T1 rules_serial)" = "$serial1" ] && [ "$(row terminals S1/T1 rules_id)" = "$r1" ] && [ "$(row terminals S1/T1 rules)" = current ] && [ "$(row stores S1 rules)" = current ]'
"$POSMARK" sync --config "$T/c2" --once >>"$T/sync.log" 2>&1
"$POSMARK" sync --config "$T/c2" --once >>"$T/sync.log" 2>&1

# ---- a new publication: S1 follows, S2 (rule download off) stays on the old set ----
rules "$T/r2.json" second
"$POSMARK_HQ" rules publish "$T/r2.json" --db "$HQ_DB" --key "$T/rules.key" 2>>"$T/pub.err"
serial2=$(psql_q "SELECT serial FROM rule_sets ORDER BY id DESC LIMIT 1")
sync1; sync1
grep -v '^rules_public_key' "$T/c2" >"$T/c2n"
"$POSMARK" sync --config "$T/c2n" --once >>"$T/sync.log" 2>&1
page
check "after rules publish and a sync, S1 runs the new serial ($serial2 > $serial1): current" \
	'[ "$serial2" -gt "$serial1" ] && [ "$(row terminals S1/T1 rules_serial)" = "$serial2" ] && [ "$(row stores S1 rules)" = current ] && [ "$(row terminals S1/T1 newest_serial)" = "$serial2" ] && [ "$(fig rules_serial_published)" = "$serial2" ]'
check "S2 still on the old serial is flagged behind (store and terminal), counted in the figure" \
	'[ "$(row terminals S2/T1 rules_serial)" = "$serial1" ] && [ "$(row terminals S2/T1 rules)" = behind ] && [ "$(row stores S2 rules)" = behind ] && [ "$(row stores S2 terminals_behind)" = 1 ] && [ "$(fig stores_behind)" = 1 ]'

# ---- hostile statuses on real batches: ignored, the batch stored; the store is the credential's ----
post() { # CRED STORE STATUS-FILE SEQ: a one-sale batch of terminal H1 with that status header; prints the HTTP code
	python3 - "$4" <<'PY' | gzip >"$T/b.gz"
import json, sys
q = int(sys.argv[1])
print(json.dumps({"format": "posmark-batch", "version": 1, "kind": "sales", "store": "S1", "terminal": "H1",
                  "first_seq": q, "last_seq": q, "count": 1}))
print(json.dumps({"seq": q, "time_us": 1764000000000000 + q, "card": None, "currency": "EUR", "tender": "cash",
                  "total_cents": 100, "discount_cents": 0, "tendered_cents": 100, "points_earned": 0,
                  "items": [{"gtin": "04006381333931", "qty": 1, "price_cents": 100, "line_cents": 100}], "redeemed": []}))
PY
	curl -s -o "$T/resp" -w '%{http_code}' -H "X-Posmark-Store: $2" -H "Authorization: Bearer $1" -H "X-Posmark-Terminal: H1" \
		-H "Posmark-Status: $(cat "$3")" -H "Content-Type: application/x-ndjson" -H "Content-Encoding: gzip" \
		--data-binary @"$T/b.gz" "$HQ_URL/v1/batches"
}
now=$(( $(date +%s) * 1000000 ))
printf 'v=1; unsent_sales=99999999999999999999; unsent_events=1; time_us=%s; version=9' "$now" >"$T/s_huge"
printf 'v=1; unsent_sales=-5; unsent_events=1; time_us=%s; version=9' "$now" >"$T/s_neg"
printf '\x27; DROP TABLE store_status; --' >"$T/s_garbage"
python3 -c 'import sys; sys.stdout.write("v=1; unsent_sales=1; unsent_events=1; time_us=%s; version=9; pad=" % sys.argv[1] + "x" * 10240)' "$now" >"$T/s_big"
n=0
for s in huge neg garbage big; do
	n=$((n + 1))
	check "hostile status ($s): the batch is stored (200), the status ignored" \
		'[ "$(post "$cred1" S1 "$T/s_$s" $n)" = 200 ] && [ -z "$(st S1 H1 unsent_sales)" ]'
done
check "the hostile batches are all at HQ" '[ "$(psql_q "SELECT count(*) FROM sales WHERE store_id = '\''S1'\'' AND terminal = '\''H1'\''")" = 4 ]'
printf 'v=1; unsent_sales=7; unsent_events=1; time_us=%s; version=9; future_key=1' "$now" >"$T/s_ok"
check "a well-formed status (an unknown key skipped) on the same path is recorded" \
	'[ "$(post "$cred1" S1 "$T/s_ok" 5)" = 200 ] && [ "$(st S1 H1 unsent_sales)" = 7 ]'
printf 'v=1; unsent_sales=666; unsent_events=1; time_us=%s; version=9' "$now" >"$T/s_other"
check "a bad credential records nothing" \
	'[ "$(post "not-the-credential" S1 "$T/s_other" 6)" = 401 ] && [ "$(st S1 H1 unsent_sales)" = 7 ]'
check "S2's credential with a header naming S1 in the batch: recorded under S2 only" \
	'post "$cred2" S2 "$T/s_other" 6 >/dev/null; [ "$(st S2 H1 unsent_sales)" = 666 ] && [ "$(st S1 H1 unsent_sales)" = 7 ]'
check "HQ logged why it ignored the statuses" '[ "$(grep -c "sent a status HQ cannot read" "$HQ_TMP/hq.log")" -ge 4 ]'
page
check "the page's JSON lists every reporting terminal" \
	'[ "$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len([t for t in d[\"tables\"] if t[\"name\"]==\"terminals\"][0][\"rows\"]))" "$T/page.json")" = 4 ]'

# ---- migration 8 on a database without it (the upgrade every existing HQ made); only 8 is
# undone: the later ones are not all idempotent over the state of those after them (10 over
# 12's view), and erase_hq_migrate.sh takes a real version-4 database through all of them ----
psql_q "DROP TABLE store_status; DELETE FROM schema_migrations WHERE version = 8" >/dev/null
check "a database without migration 8 gets it: store_status made, the stores page answers" \
	'"$POSMARK_HQ" migrate --db "$HQ_DB" 2>/dev/null && [ "$(psql_q "SELECT count(*) FILTER (WHERE version = 8) || chr(47) || max(version) FROM schema_migrations")" = "1/$(grep "^#define HQ_SCHEMA_VERSION" hq/hq.h | grep -o "[0-9]*$")" ] && page && [ "$(row terminals S1/T1 rules)" = "not reported" ]'
