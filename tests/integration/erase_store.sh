#!/usr/bin/env bash
# erase_store.sh - issue 15 item 10, the store side (docs/privacy.md, "At the
# store"): after an erasure, the raw bytes of the terminal's whole data
# directory (data.mdb, lock.mdb, every other file) hold the card number in
# none of the forms the code writes it (ASCII digits; packed BCD and the
# number as a binary integer checked too), while the other cards stay
# intact and the erased card's sales still count (without the card).
# Real bin/posmark, real LMDB: a generated day of 1500 sales and 400 offer
# and consent events, then till flows (coupons issued and redeemed, consent
# changes, a return, points) on top. Erasure by the CLI, by the daemon's
# socket (and the CLI while the daemon runs: the daemon compacts), by HQ
# (a real posmark-hq and PostgreSQL; the till's erasure goes up sealed and
# HQ opens it), and kill -9 during the compaction (no sale lost).
set -u
cd "$(dirname "$0")/../.."
P=${POSMARK:-bin/posmark}
POSMARK_HQ=${POSMARK_HQ:-bin/posmark-hq}
POSMARK_BUILD=${POSMARK_BUILD:-build/normal}
. tests/integration/lib/hq_env.bash
DPID=
trap "[ -n \"\$DPID\" ] && kill \$DPID 2>/dev/null; [ -n \"${ERASE_KEEP:-}\" ] && cp -r \"\$HQ_TMP\"/. \"\$ERASE_KEEP\"/ 2>/dev/null; hq_cleanup" EXIT
T=$HQ_TMP
PASTA=5012340000010 SAUCE=4006306000016 COFFEE=5012340000195

# luhn PREFIX: PREFIX with its check digit
luhn() { python3 -c 'import sys
d=[int(c) for c in sys.argv[1]][::-1]; s=0
for i,x in enumerate(d):
    if i%2==0: x*=2; x-=9 if x>9 else 0
    s+=x
print(sys.argv[1]+str((10-s%10)%10))' "$1"; }

# found DIR CARD: every file of DIR (recursively) whose raw bytes hold CARD
# as ASCII, as packed BCD (two digits a byte, either nibble order, padded
# either end) or as a little/big-endian 64-bit integer; prints "FILE:FORM"
found() {
	python3 - "$1" "$2" <<'PY'
import os, sys, struct
root, card = sys.argv[1], sys.argv[2]
forms = {"ascii": card.encode()}
for pad in ("", "0", "f"):
    for side in ("left", "right"):
        d = (pad + card) if side == "left" else (card + pad)
        if len(d) % 2:
            continue
        hexs = d.replace("f", "f")
        try:
            forms["bcd-%s%s" % (side, pad)] = bytes.fromhex(hexs)
            forms["bcd-swapped-%s%s" % (side, pad)] = bytes.fromhex("".join(hexs[i+1] + hexs[i] for i in range(0, len(hexs), 2)))
        except ValueError:
            pass
if int(card) < 2**64:
    forms["u64le"] = struct.pack("<Q", int(card))
    forms["u64be"] = struct.pack(">Q", int(card))
for dp, _, fs in os.walk(root):
    for f in fs:
        b = open(os.path.join(dp, f), "rb").read()
        for name, pat in forms.items():
            if pat in b:
                print("%s:%s" % (os.path.relpath(os.path.join(dp, f), root), name))
PY
}
nsales() { "$P" status --data "$1" --socket "$T/none.sock" 2>/dev/null | sed -n 's/^log .*: \([0-9]*\) sales.*/\1/p'; }
show() { "$P" card show "$1" --data "$2" 2>/dev/null | grep -E "^(points|visits|lifetime spend)"; }
hist() { "$P" history "$1" --data "$2" --json 2>/dev/null | python3 -c 'import json,sys
print(sorted((r["seq"], r["total_cents"]) for r in map(json.loads, sys.stdin)))'; }

COUPON_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
cat >"$T/rules.json" <<EOF
{"format":"posmark-rules","version":1,"name":"erase test",
 "rules":[{"id":"sauce","kind":"cross_sell","priority":500,
   "when":{"basket":{"all":[{"item":"$PASTA"}]}},"offer":{"item":"$SAUCE","percent_off":15}}]}
EOF

# day DIR CONF CARD KEEP1 KEEP2: a realistic day on a generated log: sales, coupons issued
# and redeemed, consent yes then no, a return, for CARD and two kept cards
day() {
	local d=$1 conf=$2 e=$3 k1=$4 k2=$5
	"$GEN" gen "$d" 1500 T1 400 >/dev/null   # the fixture generator (hq_env.bash: the normal build's)
	"$P" catalog import data/demo/catalog.csv --config "$conf" >/dev/null 2>&1
	"$P" rules load "$T/rules.json" --config "$conf" >/dev/null 2>&1
	"$P" card consent "$e" --targeted yes --config "$conf" >/dev/null 2>&1
	printf '#clock 2026-11-20T10:00:00Z\n%s\n%s\n#tender cash\n%s\n%s\n#tender card\n%s\n%s\n%s\n#tender cash\n' \
		"$e" "$PASTA" "$k1" "$PASTA" "$k2" "$COFFEE" "$PASTA" >"$d.s1"
	"$P" checkout --config "$conf" --scans "$d.s1" --json >"$d.o1" 2>/dev/null
	local code
	code=$(grep '"sale_committed"' "$d.o1" | head -1 | python3 -c 'import json,sys
e=json.loads(sys.stdin.readline()); print(next((o.get("coupon","") for o in e["offers"] if o.get("coupon")), ""))')
	local seq
	seq=$(grep '"sale_committed"' "$d.o1" | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])')
	printf '#clock 2026-11-21T10:00:00Z\n%s\n%s\n%s\n%s\n#tender cash\n#return T1:%s\n%s\n#tender cash\n' \
		"$e" "$code" "$SAUCE" "$COFFEE" "$seq" "$PASTA" >"$d.s2"
	"$P" checkout --config "$conf" --scans "$d.s2" --json >"$d.o2" 2>/dev/null
	"$P" card consent "$e" --targeted no --config "$conf" >/dev/null 2>&1
	echo "$code" >"$d.coupon"
}

# the erased card and the kept ones: cards of the generated day (400000 + 9 digits + check)
E=$(luhn 400000000000011) K1=$(luhn 400000000000012) K2=$(luhn 400000000000013)

# ---- 1: erase by the CLI (no daemon, no HQ) ----------------------------------------------
D=$T/d1
printf '[store]\nid = s1\nterminal = T1\ndata = %s\n[offers]\ncoupon_key = %s\n' "$D" "$COUPON_KEY" >"$T/c1"
day "$D" "$T/c1" "$E" "$K1" "$K2"
check "the day issued a coupon to the card and redeemed it" \
	'[ -s "$D.coupon" ] && grep -q "\"redeemed\":\[{\"coupon\":\"$(cat "$D.coupon")\"" "$D.o2"'
check "the day committed a return of the card's sale" 'grep -q "\"return_committed\"" "$D.o2"'
check "before the erasure the number is in the data directory" '[ -n "$(found "$D" "$E")" ]'
n_before=$(nsales "$D"); k1_before=$(show "$K1" "$D"); k2_before=$(show "$K2" "$D")
h1_before=$(hist "$K1" "$D"); h2_before=$(hist "$K2" "$D")
e_seqs=$("$P" history "$E" --data "$D" --json 2>/dev/null | python3 -c 'import json,sys
print(" ".join("%d:%d" % (r["seq"], r["total_cents"]) for r in map(json.loads, sys.stdin)))')
"$P" card erase "$E" --config "$T/c1" >"$T/e1.out" 2>&1; rc=$?
check "card erase: exit 0, compacted" '[ $rc -eq 0 ] && grep -q "purchase log compacted" "$T/e1.out"'
left=$(found "$D" "$E")
check "CLI erase: the number is nowhere in the data directory's bytes${left:+ (found: $left)}" '[ -z "$left" ]'
check "the other cards are intact (balance, visits, spend)" \
	'[ -n "$k1_before" ] && [ "$(show "$K1" "$D")" = "$k1_before" ] && [ "$(show "$K2" "$D")" = "$k2_before" ]'
check "the other cards' histories are intact" '[ "$(hist "$K1" "$D")" = "$h1_before" ] && [ "$(hist "$K2" "$D")" = "$h2_before" ]'
ok_sales=1
for st in $e_seqs; do
	"$P" receipt --sale "${st%%:*}" --data "$D" --text >"$T/r.txt" 2>/dev/null || ok_sales=0
	grep -q "Card" "$T/r.txt" && ok_sales=0
done
check "the erased card's sales still count: every record kept, none with a card" \
	'[ "$(nsales "$D")" = "$n_before" ] && [ -n "$e_seqs" ] && [ $ok_sales = 1 ]'
check "the compacted log is whole" '"$P" log check --data "$D" >/dev/null 2>&1'
check "the other cards still in the raw bytes (the check can find a number)" '[ -n "$(found "$D" "$K1")" ]'
"$P" card erase "$E" --config "$T/c1" >/dev/null 2>&1; rc=$?
check "erasing it again: nothing to erase (exit 1)" '[ $rc -eq 1 ]'

# ---- 2: erase through the daemon's socket, and by the CLI while the daemon runs -------------
D=$T/d2
printf '[store]\nid = s1\nterminal = T1\ndata = %s\n[offers]\ncoupon_key = %s\n' "$D" "$COUPON_KEY" >"$T/c2"
day "$D" "$T/c2" "$E" "$K1" "$K2"
k1_before=$(show "$K1" "$D"); n_before=$(nsales "$D")
"$P" daemon --config "$T/c2" --socket "$T/pm.sock" 2>"$T/daemon.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$T/pm.sock" ] && break; sleep 0.1; done
req() { python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode())
b=b""
while not b.endswith(b"\n"): b+=s.recv(65536)
print(b.decode().strip())' "$T/pm.sock" "$1"; }
# a sale on a lane holds another card: its erasure waits for the sale
req '{"op":"sale_open","lane":"1"}' >/dev/null
req "{\"op\":\"card\",\"lane\":\"1\",\"card\":\"$K2\"}" >/dev/null
out=$(req "{\"op\":\"card_erase\",\"card\":\"$K2\"}")
check "daemon: a card on an open sale is not erased (PM_EBUSY, hint)" 'echo "$out" | grep -q "\"ok\": *false" && echo "$out" | grep -q "PM_EBUSY"'
req '{"op":"sale_cancel","lane":"1"}' >/dev/null
out=$(req "{\"op\":\"card_erase\",\"card\":\"$E\",\"id\":7}")
check "daemon: card_erase answers ok, compacted" 'echo "$out" | grep -q "\"ok\": *true" && echo "$out" | grep -q "\"compacted\": *true"'
left=$(found "$D" "$E")
check "daemon erase: the number is nowhere in the data directory's bytes${left:+ (found: $left)}" '[ -z "$left" ]'
out=$(req '{"op":"sale_open","lane":"2"}'); req "{\"op\":\"card\",\"lane\":\"2\",\"card\":\"$K1\"}" >/dev/null
req "{\"op\":\"line_add\",\"lane\":\"2\",\"gtin\":\"$COFFEE\",\"price_cents\":450}" >/dev/null
out=$(req '{"op":"tender","lane":"2","kind":"cash"}')
check "daemon: sales go on after the compaction (reopened log)" 'echo "$out" | grep -q "\"ok\": *true"'
check "daemon: the other card is intact and kept its new sale" \
	'[ "$(nsales "$D")" = $((n_before + 1)) ] && [ "$(show "$K1" "$D" | sed -n "s/^visits *//p")" = $(( $(echo "$k1_before" | sed -n "s/^visits *//p") + 1 )) ]'
# the CLI while the daemon holds the log: erased at once, compacted by the daemon within seconds
"$P" card erase "$K2" --config "$T/c2" >"$T/e2.out" 2>&1; rc=$?
check "CLI erase beside the daemon: exit 0, compaction left to the daemon" '[ $rc -eq 0 ] && grep -q "not compacted yet" "$T/e2.out"'
for _ in $(seq 1 50); do [ -z "$(found "$D" "$K2")" ] && break; sleep 0.2; done
left=$(found "$D" "$K2")
check "... and the daemon compacted it: the number is gone${left:+ (found: $left)}" '[ -z "$left" ]'
kill $DPID; wait $DPID; DPID=
check "the daemon stopped cleanly, the log is whole" '"$P" log check --data "$D" >/dev/null 2>&1'

# ---- 3: erasures with HQ: the till's sealed, HQ's pulled ---------------------------------
pg_start fsync=off synchronous_commit=off
PUB=$("$POSMARK_HQ" rules keygen --key "$T/rules.key")
hq_start --key "$T/rules.key"
cred=$("$POSMARK_HQ" store add S3 --db "$HQ_DB")
D=$T/d3
terminal_config "$T/c3" "$D" S3 "$cred" "rules_public_key = $PUB" "[offers]" "coupon_key = $COUPON_KEY"
H=$(luhn 400000000000014)
day "$D" "$T/c3" "$E" "$K1" "$K2"
"$P" sync --once --config "$T/c3" >/dev/null 2>"$T/s0.err"
sum_hq() { psql_q "SELECT coalesce(sum(total_cents),0) || ' ' || count(*) FROM sales WHERE store_id = 'S3'"; }
# HQ names cards by their vault ref (docs/privacy.md, "At HQ"): take the refs while HQ knows them
ER=$(hq_ref "$E"); K2R=$(hq_ref "$K2")
check "the day is at HQ" '[ -n "$ER" ] && [ -n "$K2R" ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE store_id = '\''S3'\'' AND card = '\''$ER'\''")" -gt 0 ]'
before_hq=$(sum_hq)
# a consent change HQ has not received yet: it travels as a second (sealed) erasure
"$P" card consent "$E" --targeted yes --config "$T/c3" >/dev/null 2>&1
"$P" card erase "$E" --config "$T/c3" >"$T/e3.out" 2>&1; rc=$?
check "till erase with HQ: sealed to HQ's key, compacted" '[ $rc -eq 0 ] && grep -q "sealed" "$T/e3.out" && grep -q "compacted" "$T/e3.out"'
left=$(found "$D" "$E")
check "till erase, before the sync: the number is nowhere in the data directory${left:+ (found: $left)}" '[ -z "$left" ]'
"$P" sync --once --config "$T/c3" >/dev/null 2>"$T/s1.err"; rc=$?
check "the sealed erasure goes up and HQ opens it: the card is erased at HQ" \
	'[ $rc -eq 0 ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$ER'\''")" = 0 ] && [ -z "$(hq_ref "$E")" ]'
check "... and HQ acknowledged every event (none left to send)" \
	'"$P" status --config "$T/c3" --socket "$T/none.sock" 2>/dev/null | grep -q "unsent to HQ *0 sales, 0 events"'
check "the erased card's sales still count at HQ (same total, same count)" '[ "$(sum_hq)" = "$before_hq" ]'
"$POSMARK_HQ" erase "$H" --db "$HQ_DB" >/dev/null 2>&1
check "before HQ's erasure reaches the store, its number is in the log" '[ -n "$(found "$D" "$H")" ]'
"$P" sync --once --config "$T/c3" >/dev/null 2>"$T/s2.err"; rc=$?
left=$(found "$D" "$H")
check "an erasure pulled from HQ: scrubbed and compacted by the sync${left:+ (found: $left)}" '[ $rc -eq 0 ] && [ -z "$left" ]'
check "... the other cards are still there" '"$P" card show "$K1" --config "$T/c3" >/dev/null 2>&1 && [ -n "$(found "$D" "$K1")" ]'
# no key: the clear number is kept only until HQ acknowledged it
grep -v rules_public_key "$T/c3" >"$T/c3n"
"$P" card consent "$K2" --targeted yes --config "$T/c3n" >/dev/null 2>&1
"$P" card erase "$K2" --config "$T/c3n" >"$T/e4.out" 2>&1
check "with hq.url but no key: the clear number waits for HQ (said so)" \
	'grep -q "in the clear until HQ acknowledges" "$T/e4.out" && [ -n "$(found "$D" "$K2")" ]'
"$P" sync --once --config "$T/c3n" >/dev/null 2>"$T/s3.err"
left=$(found "$D" "$K2")
check "... once HQ acknowledged it, it is deleted and compacted away${left:+ (found: $left)}" '[ -z "$left" ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$K2R'\''")" = 0 ] && [ -z "$(hq_ref "$K2")" ]'

# ---- 4: kill -9 during the compaction: a working log, no sale lost ------------------------
D=$T/d4
"$GEN" gen "$D" 20000 T1 2000 >/dev/null
n4=$(nsales "$D"); s4=$(show "$K1" "$D")
"$P" card erase "$E" --data "$D" >"$T/e5.out" 2>&1
check "a big log: erased and compacted" 'grep -q "purchase log compacted" "$T/e5.out"'
kills=0 whole=1
for delay in 0.005 0.01 0.02 0.03 0.05 0.08 0.12 0.2; do
	"$P" log compact --data "$D" >/dev/null 2>&1 &
	pid=$!; sleep $delay; kill -9 $pid 2>/dev/null && kills=$((kills + 1)); wait $pid 2>/dev/null
	"$P" log check --data "$D" >/dev/null 2>&1 || whole=0
	[ "$(nsales "$D")" = "$n4" ] && [ "$(show "$K1" "$D")" = "$s4" ] || whole=0
done
echo "# $kills compactions killed with SIGKILL"
check "kill -9 during compaction: the log stays whole, every sale and card kept" '[ $whole = 1 ] && [ $kills -gt 0 ]'
"$P" log compact --data "$D" >/dev/null 2>&1
left=$(found "$D" "$E")
check "a compaction run to its end afterwards: the number is gone${left:+ (found: $left)}" '[ -z "$left" ] && [ ! -e "$D/.compact" ]'
