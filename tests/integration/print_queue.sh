#!/usr/bin/env bash
# Receipts that survive paper-out, durably (docs/till.md, "Receipt queue and reprint"):
# a sale whose printer is down keeps its receipt in the log (print_queue) with its coupons
# not counted; the daemon, killed with SIGKILL and started again, prints it by itself once a
# real TCP 9100 printer (a listener here that answers DLE EOT and captures the bytes) is up,
# oldest first, byte for byte what the printer would have got at the sale; the coupons count
# once; `posmark receipt --pending` prints (or lists) what waits and fails clearly while the
# printer still fails; checkout prints what a previous run left; log check and salvage know
# the table.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
dpid= epid=
cleanup() {
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	[ -n "$epid" ] && kill "$epid" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; [ -n "${3:-}" ] && sed 's/^/#   /' "$3" | head -8; fi; }
LAPTOP=4007598000012 SLEEVE=4007649000015 MOUSE=4007666000012
C1=6036010000001000005
KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

# A receipt printer on 127.0.0.1: answers DLE EOT n (ready 0x12, or paper out when the mode
# file says "paper") and appends every other byte it gets to the capture file.
cat >"$T/prn.py" <<'PY'
import socket, sys, os
port, cap, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(4)
open(cap + ".up", "w").close()
while True:
    c, _ = ls.accept()
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        out = bytearray()
        i = 0
        while i < len(buf):
            if buf[i] == 0x10 and i + 1 < len(buf) and buf[i + 1] == 0x04:
                if i + 2 >= len(buf):
                    break                      # the query's last byte has not come yet
                n = buf[i + 2]
                paper = open(mode).read().strip() == "paper" if os.path.exists(mode) else False
                r = {1: 0x1a, 2: 0x32, 4: 0x72}.get(n, 0x12) if paper else 0x12
                c.sendall(bytes([r])); i += 3
            elif buf[i] == 0x10 and i + 1 == len(buf):
                break
            else:
                out.append(buf[i]); i += 1
        buf = buf[i:]
        with open(cap, "ab") as f:
            f.write(out)
    c.close()
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PRN="tcp:127.0.0.1:$PORT,timeout=300"
start_printer() { rm -f "$T/cap.bin.up"; python3 "$T/prn.py" "$PORT" "$T/cap.bin" "$T/mode" & epid=$!
	for _ in $(seq 1 100); do [ -e "$T/cap.bin.up" ] && break; sleep 0.05; done; }

# Two logs with the same catalog, rules, key and terminal: D (the printer fails) and the control
# C (the printer works), so C's receipts are what D's printer should get, byte for byte.
cat >"$T/rules.json" <<EOF2
{"format":"posmark-rules","version":1,"name":"print queue",
 "campaigns":{"laptop":{"budget":1},"acc":{"budget":2}},
 "rules":[
  {"id":"sleeve","campaign":"laptop","kind":"cross_sell","priority":900,
   "when":{"basket":{"all":[{"item":"$LAPTOP"}]}},"offer":{"item":"$SLEEVE","percent_off":20}},
  {"id":"mouse","campaign":"acc","kind":"cross_sell","priority":800,
   "when":{"basket":{"all":[{"item":"$LAPTOP"}]}},"offer":{"item":"$MOUSE","percent_off":10}}
 ]}
EOF2
for L in D C; do
	cat >"$T/$L.conf" <<EOF2
[store]
id = store042
terminal = lane1
currency = EUR
data = $T/$L
[offers]
coupon_key = $KEY
EOF2
	$P catalog import data/demo/catalog.csv --config "$T/$L.conf" 2>/dev/null
	$P rules load "$T/rules.json" --config "$T/$L.conf" 2>/dev/null
done
X="--config $T/D.conf"
printf '#clock 2026-11-06T10:00:00Z\n%s\n#card %s\n#tender card\n' $LAPTOP $C1 >"$T/s1"
printf '#clock 2026-11-06T10:05:00Z\n%s\n#tender cash\n' $MOUSE >"$T/s2"
: >"$T/empty"

# ---- a sale while the printer is down (nobody listens on its port)
$P checkout $X --scans "$T/s1" --printer "$PRN" --json >"$T/o1" 2>"$T/e1"; rc=$?
ok "printer down: the sale commits (exit 0) with two coupons" \
	'[ $rc -eq 0 ] && grep -q "\"sale_committed\".*\"rule\":\"sleeve\".*\"rule\":\"mouse\"" "$T/o1"' "$T/o1"
ok "printer down: receipt_pending told, with the reason" 'grep -q "\"receipt_pending\",\"sale_id\":1,\"reason\":\"printer is offline" "$T/o1"' "$T/o1"
ok "checkout names what waits and how to print it" 'grep -q "1 receipt not printed yet (first: sale 1)" "$T/e1" && grep -q "hint: .*posmark receipt --pending" "$T/e1"' "$T/e1"
$P receipt --pending --list --json $X >"$T/l1"
ok "receipt --pending --list --json: sale 1 waits with its two coupons" \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); p=d[\"pending\"]; sys.exit(not (d[\"count\"]==1 and p[0][\"sale\"]==1 and len(p[0][\"coupons\"])==2 and p[0][\"readable\"]))" "$T/l1"' "$T/l1"
$P receipt --pending --list $X >"$T/l1t"
ok "receipt --pending --list: one line per waiting receipt" 'grep -qE "^1 +2026-11-06 10:00:00 +sale +2 coupons" "$T/l1t"' "$T/l1t"
$P explain --basket $LAPTOP $X >"$T/ex1" 2>&1
ok "a coupon that did not print is not counted (budget 1 not spent)" 'grep -qE "sleeve +laptop +chosen" "$T/ex1"' "$T/ex1"
if command -v mdb_dump >/dev/null; then
	mdb_dump -p -s print_queue "$T/D" >"$T/pq.dump"
	ok "the waiting receipt holds the masked card, never the full number" \
		'grep -q "\*\*\*\*0005" "$T/pq.dump" && ! grep -q "$C1" "$T/pq.dump" && grep -q "$C1" <(mdb_dump -p -s sales "$T/D")'
fi
$P receipt --pending $X --printer "$PRN" >"$T/p0" 2>"$T/e0"; rc=$?
ok "receipt --pending with the printer still down: exit 1, why and what to do" \
	'[ $rc -eq 1 ] && grep -q "receipt of sale 1 not printed" "$T/e0" && grep -q "1 receipt still waits" "$T/e0" && grep -q "^hint: printer is offline" "$T/e0"' "$T/e0"
ok "... and nothing is lost" '[ "$($P receipt --pending --list --json $X | grep -o "\"count\":[0-9]*")" = "\"count\":1" ]'

# ---- the daemon's till lane: a second sale while the printer is down, then SIGKILL
$P daemon $X --socket "$T/d.sock" --scanner "script:$T/s2" --printer "$PRN" 2>"$T/d1.err" & dpid=$!
for _ in $(seq 1 100); do [ "$($P receipt --pending --list --json $X 2>/dev/null | grep -o '"count":[0-9]*')" = '"count":2' ] && break; sleep 0.1; done
kill -9 $dpid; wait $dpid 2>/dev/null; dpid=
ok "daemon, printer down: its sale's receipt waits behind the first (killed with SIGKILL)" \
	'$P receipt --pending --list --json $X | grep -q "\"count\":2,\"pending\":\[{\"sale\":1,.*{\"sale\":2,"'

# ---- the printer is up (paper in): the restarted daemon prints both by itself, oldest first
start_printer
$P daemon $X --socket "$T/d.sock" --scanner "script:$T/empty" --printer "$PRN" 2>"$T/d2.err" & dpid=$!
for _ in $(seq 1 100); do [ "$($P receipt --pending --list --json $X 2>/dev/null | grep -o '"count":[0-9]*')" = '"count":0' ] && break; sleep 0.1; done
kill $dpid; wait $dpid 2>/dev/null; dpid=
ok "restarted daemon printed the waiting receipts by itself" '[ "$($P receipt --pending --list --json $X | grep -o "\"count\":[0-9]*")" = "\"count\":0" ]' "$T/d2.err"
$P receipt --escpos "$T/cap.bin" --text >"$T/cap.txt" 2>/dev/null
ok "oldest first: sale 1, then sale 2" '[ "$(grep -oE "^Sale [0-9]+" "$T/cap.txt" | tr "\n" " ")" = "Sale 1 Sale 2 " ]' "$T/cap.txt"
# The control log: the same two sales with a printer that works.
$P checkout --config "$T/C.conf" --scans "$T/s1" --printer "escpos:$T/ctl.bin" >/dev/null 2>&1
$P checkout --config "$T/C.conf" --scans "$T/s2" --printer "escpos:$T/ctl.bin" >/dev/null 2>&1
ok "the printer got byte for byte what it would have got at the sales" 'cmp -s "$T/cap.bin" "$T/ctl.bin"'
# A reprint of sale 1 (marked COPY) to a capture file, read back like the printer's bytes.
first_receipt() { $P receipt --escpos "$1" --text 2>/dev/null | awk '/^- - - -/{exit} {print}'; }
first_receipt "$T/cap.bin" >"$T/first.txt"
$P receipt --sale 1 $X --printer "escpos:$T/copy.bin" >/dev/null 2>&1
first_receipt "$T/copy.bin" | tail -n +2 >"$T/re1.txt"
ok "the late receipt prints as a reprint of sale 1 does (coupons included)" \
	'diff -q "$T/first.txt" "$T/re1.txt" >/dev/null && grep -q "YOUR NEXT VISIT" "$T/first.txt" && grep -q "\*\*\*\*0005" "$T/first.txt" && [ "$(first_receipt "$T/copy.bin" | head -1 | tr -d " ")" = "***COPY***" ]' "$T/re1.txt"
$P explain --basket $LAPTOP $X >"$T/ex2" 2>&1
ok "printed: its coupon counts now (budget 1 spent)" 'grep -qE "sleeve +laptop +budget_spent" "$T/ex2"' "$T/ex2"
ok "... once, not twice (budget 2: the other coupon's campaign still offers)" 'grep -qE "mouse +acc +chosen" "$T/ex2"' "$T/ex2"
$P receipt --pending $X --printer "$PRN" >"$T/p1" 2>&1; rc=$?
ok "receipt --pending with nothing waiting says so, exit 0" '[ $rc -eq 0 ] && grep -q "no receipts waiting" "$T/p1"' "$T/p1"

# ---- receipt --pending prints them: paper out on a simulated printer, then paper in
printf '#clock 2026-11-07T09:00:00Z\n%s\n#tender cash\n%s\n#tender cash\n' $MOUSE $MOUSE >"$T/s3"
echo paper_out >"$T/st"
$P checkout $X --scans "$T/s3" --printer "escpos:$T/pend.bin,status=$T/st" --json >"$T/o3" 2>/dev/null
ok "paper out (status file): two more receipts wait" '[ "$($P receipt --pending --list --json $X | grep -o "\"count\":[0-9]*")" = "\"count\":2" ]'
$P receipt --pending $X --printer "escpos:$T/pend.bin,status=$T/st" >"$T/p2" 2>"$T/e2"; rc=$?
ok "receipt --pending, still out of paper: exit 1, told, both still wait" \
	'[ $rc -eq 1 ] && grep -q "^hint: printer is out of paper" "$T/e2" && [ "$($P receipt --pending --list --json $X | grep -o "\"count\":[0-9]*")" = "\"count\":2" ]' "$T/e2"
echo ready >"$T/st"
$P receipt --pending $X --printer "escpos:$T/pend.bin,status=$T/st" >"$T/p3" 2>"$T/e3"; rc=$?
ok "receipt --pending: both printed, oldest first, exit 0" \
	'[ $rc -eq 0 ] && [ "$(grep -oE "sale [0-9]+" "$T/p3" | tr "\n" " ")" = "sale 3 sale 4 " ]' "$T/e3"
$P receipt --escpos "$T/pend.bin" --text >"$T/pend.txt" 2>/dev/null
ok "... on paper in that order" '[ "$(grep -oE "^Sale [0-9]+" "$T/pend.txt" | tr "\n" " ")" = "Sale 3 Sale 4 " ]'

# ---- checkout prints what an earlier run left, first
echo paper_out >"$T/st"
printf '#clock 2026-11-08T09:00:00Z\n%s\n#tender cash\n' $MOUSE >"$T/s4"
$P checkout $X --scans "$T/s4" --printer "escpos:$T/co.bin,status=$T/st" >/dev/null 2>&1
echo ready >"$T/st"
printf '#clock 2026-11-08T09:10:00Z\n%s\n#tender cash\n' $MOUSE >"$T/s5"
$P checkout $X --scans "$T/s5" --printer "escpos:$T/co.bin,status=$T/st" --json >"$T/o5" 2>/dev/null
ok "checkout started again prints the waiting receipt first (receipt_printed), then the new one" \
	'grep -q "\"receipt_printed\",\"sale_id\":5" "$T/o5" && [ "$($P receipt --escpos "$T/co.bin" --text 2>/dev/null | grep -oE "^Sale [0-9]+" | tr "\n" " ")" = "Sale 5 Sale 6 " ]' "$T/o5"

# ---- log check and salvage know the table
echo paper_out >"$T/st"
$P checkout $X --scans "$T/s4" --printer "escpos:$T/co.bin,status=$T/st" >/dev/null 2>&1   # a rerun: committed before
printf '#clock 2026-11-09T09:00:00Z\n%s\n#tender cash\n' $MOUSE >"$T/s6"
$P checkout $X --scans "$T/s6" --printer "escpos:$T/co.bin,status=$T/st" >/dev/null 2>&1
$P log check $X >"$T/chk" 2>&1; rc=$?
ok "log check reads the print queue" '[ $rc -eq 0 ] && grep -q "is whole" "$T/chk"' "$T/chk"
$P log salvage $X --output "$T/salv" >"$T/sv" 2>&1; rc=$?
ok "log salvage keeps the waiting receipt" '[ $rc -eq 0 ] && $P receipt --pending --list --json --data "$T/salv" | grep -q "\"count\":1,\"pending\":\[{\"sale\":7,"' "$T/sv"
