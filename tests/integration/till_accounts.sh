#!/usr/bin/env bash
# The chain account at the till, standalone (no HQ), with the real binary
# (docs/accounts.md, PRODUCT.md "One account per card, across the chain"):
# earning, #points N and its refusals, returns with #return TERMINAL:SEQ and
# the receipt's sale barcode, their refusals (nothing written), card show,
# history net of returns, receipts, a rerun after a crash, and the daemon's
# points_spend and return_open.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; [ -n "${3:-}" ] && sed 's/^/#   /' "$3" | head -20; fi; }
C1=6036010000001000005
C2=6036010000001000377
MILK=5012342000018 PEN=4006381333931
cat >"$T/cat.csv" <<'CSV'
gtin,name,category,price_cents
5012342000018,Milk,Dairy,1000
4006381333931,Pen deluxe,Stationery,50000
CSV
cat >"$T/conf" <<EOF2
[store]
id = s1
terminal = lane1
data = $T/d
[loyalty]
offline_spend_limit = 150
point_value_cents = 10
[hq]
# a till of a chain (the allowance applies) that never reaches HQ: no lookups
url = http://127.0.0.1:9/
lookup_budget_ms = 0
EOF2
X="--config $T/conf"
$P catalog import "$T/cat.csv" $X 2>/dev/null
ev() { # ev FILE EVENT: the events of that kind, one JSON per line
	grep "\"event\":\"$2\"" "$1"
}
jqf() { jq -r "$@" 2>/dev/null; }

# ---- earning, then spending: the refusals first, each with its way out
cat >"$T/s1" <<EOF2
$C1
#qty 2
$PEN
$MILK
#tender card
#points 5
$MILK
#points 5
#cancel
$C1
$MILK
#points abc
#points -5
#points 0
#points 99999999999
#points 2000
#points 101
#points 10
#tender cash 1000
$C1
$MILK
#points 141
#tender cash
EOF2
$P checkout $X --scans "$T/s1" --json >"$T/o1" 2>"$T/e1"
ok "checkout with #points runs" '[ $? -eq 0 ] && [ "$(ev "$T/o1" sale_committed | wc -l)" = 3 ]' "$T/e1"
ev "$T/o1" sale_committed | sed -n 1p >"$T/sale1"
ok "a sale with a card earns (points_spent 0, sale_ref)" \
	'[ "$(jqf "[.points_earned,.points_spent,.points_balance,.sale_ref]|@tsv" "$T/sale1")" = "1010	0	1010	lane1:1" ]' "$T/sale1"
ok "#points without a card: refused, with what to do" \
	'grep -q "\"input\":\"#points 5\",\"reason\":\"#points needs a card on the sale: scan the customer'"'"'s card first\"" "$T/o1"'
ok "#points abc, -5 and 0: a whole number 1 or more" \
	'[ "$(grep -c "\"reason\":\"#points needs a whole number of points, 1 or more" "$T/o1")" = 3 ]'
ok "#points absurd: refused" 'grep -q "#points 99999999999 is more points than any card holds" "$T/o1"'
ok "#points beyond the balance: refused with the balance" \
	'grep -q "\"input\":\"#points 2000\",\"reason\":\"the card has 1010 points; it cannot spend 2000" "$T/o1"'
ok "#points worth more than the sale: refused" \
	'grep -q "\"input\":\"#points 101\",\"reason\":\"101 points are worth 10.10, more than the sale'"'"'s 10.00" "$T/o1"'
ok "#points 10 applied" 'ev "$T/o1" points_applied | grep -q "\"points\":10,\"value_cents\":100,\"balance_after\":1000"'
ev "$T/o1" sale_committed | sed -n 2p >"$T/sale2"
ok "points pay part of the total, points are earned on the money paid, change on the money due" \
	'[ "$(jqf "[.points_spent,.points_earned,.points_balance,.change_cents,.total_cents]|@tsv" "$T/sale2")" = "10	11	1011	100	1000" ]' "$T/sale2"
ok "the offline allowance (no HQ state) refuses past loyalty.offline_spend_limit" \
	'grep -q "\"input\":\"#points 141\",\"reason\":\"the card'"'"'s balance from HQ is not known here yet: offline it may spend 140 more points here (of 150)" "$T/o1"'
$P card show $C1 $X --json >"$T/card1"
ok "card show --json: points, pending_points, tier, consent, chain_as_of null" \
	'[ "$(jqf "[.points,.pending_points,.tier,.consent,(.chain_as_of|tostring)]|@tsv" "$T/card1")" = "1023	1023	silver	unknown	null" ]' "$T/card1"
ok "the receipt says points spent and the balance" \
	'grep -q "^Points spent  *-10 (-1.00)$" "$T/d/receipts.txt" && grep -q "^Points balance  *1011$" "$T/d/receipts.txt"'
ok "the receipt prints the sale barcode and its reference" \
	'grep -q "CODE128 lane1:2 " "$T/d/receipts.txt" && grep -qE "^ +lane1:2$" "$T/d/receipts.txt"'

# ---- returns: refusals (nothing written), a partial return, the barcode, the rest
cat >"$T/s2" <<EOF2
#return lane1
#return lane1:99
#return other7:1
#return lane1:1
$C2
5012342000025
$MILK
$MILK
#qty 3
$PEN
#tender cash
lane1:1
$PEN
#tender card
#return lane1:1
$PEN
#tender cash
#return lane1:4
#return lane1:1
EOF2
before=$($P history $C1 $X --json | wc -l)
$P checkout $X --scans "$T/s2" --json >"$T/o2" 2>"$T/e2"
ok "checkout with returns runs" '[ $? -eq 0 ]' "$T/e2"
ok "a sale reference of another chain: refused, with what a reference is" \
	'grep -q "\"input\":\"#return lane1\",\"reason\":\"'"'"'lane1'"'"' is not a sale of this chain: a sale is TERMINAL:SEQ" "$T/o2"'
ok "a sale that does not exist: refused" 'grep -q "\"reason\":\"no sale lane1:99 in this terminal'"'"'s log" "$T/o2"'
ok "another terminal's sale without HQ: refused with the reason" \
	'grep -q "\"reason\":\"sale other7:1 is not from this terminal and HQ cannot be reached: return it at the terminal that sold it, or retry when HQ is back\"" "$T/o2"'
ok "return_opened lists what may come back" \
	'ev "$T/o2" return_opened | head -1 | grep -q "\"return_of\":\"lane1:1\",\"card\":\"'$C1'\",\"total_cents\":101000,\"refunded_cents\":0,\"items\":\[{\"gtin\":\"04006381333931\",\"sold\":2,\"returned\":0},{\"gtin\":\"05012342000018\",\"sold\":1,\"returned\":0}\]"'
ok "a card scan on a return: refused" 'grep -q "a return credits the card of its sale: no card scan needed" "$T/o2"'
ok "an item not in the sale: refused" 'grep -q "\"reason\":\"item 05012342000025 is not in sale lane1:1" "$T/o2"'
ok "more units than sold: refused with how many are left" \
	'grep -q "\"reason\":\"sale lane1:1 had 1 of item 05012342000018, 0 returned before and some on this return: at most 0 more" "$T/o2" &&
	 grep -q "\"reason\":\"sale lane1:1 had 2 of item 04006381333931, 0 returned before: at most 2 more" "$T/o2" &&
	 ! grep -q "\"gtin\":\"04006381333931\",\"name\":\"Pen deluxe\",\"qty\":3" "$T/o2"'
ev "$T/o2" return_committed | sed -n 1p >"$T/ret1"
ok "return_committed: return_of, refund, points taken back, balance" \
	'[ "$(jqf "[.return_of,.refund_cents,.points_clawed_back,.points_balance,.sale_ref]|@tsv" "$T/ret1")" = "lane1:1	1000	10	1013	lane1:4" ]' "$T/ret1"
ok "the receipt's sale barcode (its text) opens the same return" \
	'ev "$T/o2" return_opened | sed -n 2p | grep -q "\"return_of\":\"lane1:1\",.*\"refunded_cents\":1000,.*\"sold\":1,\"returned\":1"'
ok "a return of a return: refused" 'grep -q "\"reason\":\"lane1:4 is a return, not a sale: a return cannot be returned" "$T/o2"'
ok "the return that completes the sale takes the remainders" \
	'[ "$(ev "$T/o2" return_committed | jq -s "[(map(.refund_cents)|add),(map(.points_clawed_back)|add)]|@tsv" -r)" = "101000	1010" ]' "$T/o2"
ok "nothing left to return: refused" 'grep -q "\"reason\":\"every unit of sale lane1:1 was returned already\"" "$T/o2"'
ok "three returns committed, nothing for the refusals" '[ "$(ev "$T/o2" return_committed | wc -l)" = 3 ] && [ "$(ev "$T/o2" sale_committed | wc -l)" = 0 ]'
$P card show $C1 $X --json >"$T/card2"
ok "the balance lost exactly what sale 1 earned" '[ "$(jqf .points "$T/card2")" = "$((1023 - 1010))" ]' "$T/card2"
ok "history is net of returns (sale 1 returned whole is gone)" \
	'[ "$($P history $C1 $X --json | wc -l)" = $((before - 1)) ] && ! $P history $C1 $X --json | grep -q "\"seq\":1,"'
ok "the return's receipt" \
	'grep -q "RETURN OF SALE lane1:1" "$T/d/receipts.txt" && grep -q "^REFUND EUR  *10.00$" "$T/d/receipts.txt" && grep -q "^Points taken back  *-10$" "$T/d/receipts.txt"'
$P receipt --sale 4 $X --printer "text:$T/reprint.txt" >/dev/null 2>&1
ok "posmark receipt --sale N reprints a return as a return" 'grep -q "RETURN OF SALE lane1:1" "$T/reprint.txt"'

# ---- a rerun of the same script (after a crash): nothing twice, no return refused
$P checkout $X --scans "$T/s2" --json >"$T/o3" 2>/dev/null
ok "rerun: the returns are reported committed before, nothing new" \
	'[ "$(ev "$T/o3" sale_already_committed | wc -l)" = 3 ] && [ "$(ev "$T/o3" return_committed | wc -l)" = 0 ] && ! grep -q "more can be returned" "$T/o3"'

# ---- the daemon's API: points_spend and return_open
$P daemon $X --socket "$T/pm.sock" 2>"$T/daemon.err" & dpid=$!
for i in $(seq 1 100); do [ -S "$T/pm.sock" ] && break; sleep 0.05; done
python3 - "$T/pm.sock" $C2 $PEN $MILK >"$T/api" 2>&1 <<'PY'
import json, socket, sys
sock, card, pen, milk = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile("rwb")
def call(**req):
    f.write(json.dumps(req).encode() + b"\n"); f.flush()
    return json.loads(f.readline())
def show(tag, r):
    print(tag, json.dumps(r, sort_keys=True))
call(op="sale_open", lane="2", pos_sale_id="p1")
call(op="card", lane="2", card=card)
call(op="line_add", lane="2", gtin=pen)
r = call(op="tender", lane="2", kind="card"); show("sale1", r)
call(op="sale_open", lane="2", pos_sale_id="p2")
show("nocard", call(op="points_spend", lane="2", points=10))
call(op="card", lane="2", card=card)
call(op="line_add", lane="2", gtin=milk)
show("toomany", call(op="points_spend", lane="2", points=151))
show("bad", call(op="points_spend", lane="2", points="ten"))
show("spend", call(op="points_spend", lane="2", points=50))
show("sale2", call(op="tender", lane="2", kind="cash"))
show("ret_unknown", call(op="return_open", lane="3", sale="lane1:999"))
show("ret_open", call(op="return_open", lane="3", sale=r["sale_ref"], pos_sale_id="r1"))
show("ret_line_bad", call(op="line_add", lane="3", gtin=milk))
show("ret_line", call(op="line_add", lane="3", gtin=pen))
show("ret", call(op="tender", lane="3", kind="card"))
show("info", call(op="card_info", card=card))
PY
kill $dpid; wait $dpid 2>/dev/null; dpid=
api() { grep "^$1 " "$T/api" | cut -d' ' -f2-; }
ok "daemon: a sale earns" '[ "$(api sale1 | jq -r "[.ok,.points_earned,.sale_ref]|@tsv")" = "true	500	lane1:7" ]' "$T/api"
ok "daemon: points_spend without a card is refused" \
	'[ "$(api nocard | jq -r "[.ok,.error]|@tsv")" = "false	PM_EREFUSED" ] && api nocard | grep -q "needs a card"' "$T/api"
ok "daemon: points_spend beyond the allowance is refused with the reason" \
	'[ "$(api toomany | jq -r .error)" = PM_EREFUSED ] && api toomany | grep -q "offline it may spend"' "$T/api"
ok "daemon: points_spend needs a whole number" '[ "$(api bad | jq -r .error)" = PM_EINVAL ]' "$T/api"
ok "daemon: points_spend then tender: points_spent in the reply" \
	'[ "$(api spend | jq -r "[.ok,.points,.value_cents]|@tsv")" = "true	50	500" ] && [ "$(api sale2 | jq -r "[.points_spent,.points_earned,.points_balance]|@tsv")" = "50	6	456" ]' "$T/api"
ok "daemon: return_open of an unknown sale is refused" \
	'[ "$(api ret_unknown | jq -r "[.ok,.error]|@tsv")" = "false	PM_EREFUSED" ]' "$T/api"
ok "daemon: return_open gives what may come back" \
	'[ "$(api ret_open | jq -r "[.ok,.return_of,.items[0].sold]|@tsv")" = "true	lane1:7	1" ]' "$T/api"
ok "daemon: line_add of an item not in the sale is refused on a return" \
	'[ "$(api ret_line_bad | jq -r "[.ok,.error]|@tsv")" = "false	PM_EREFUSED" ]' "$T/api"
ok "daemon: tender commits the return" \
	'[ "$(api ret | jq -r "[.ok,.event,.return_of,.refund_cents,.points_clawed_back,.points_balance]|@tsv")" = "true	return_committed	lane1:7	50000	500	-44" ]' "$T/api"
ok "daemon: card_info has the chain fields" \
	'[ "$(api info | jq -r "[.points,.pending_points,(.chain_as_of|tostring)]|@tsv")" = "-44	-44	null" ]' "$T/api"

# ---- a standalone shop (no hq.url) keeps its cards' points itself: no offline allowance
mkdir -p "$T/sa"
sed -e '/^\[hq\]/,$d' -e "s|^data = .*|data = $T/sa|" "$T/conf" >"$T/conf.sa"
$P catalog import "$T/cat.csv" --config "$T/conf.sa" 2>/dev/null
printf '%s\n%s\n#tender cash\n%s\n%s\n#points 300\n#tender cash\n' "$C2" "$PEN" "$C2" "$PEN" >"$T/s.sa"
$P checkout --config "$T/conf.sa" --scans "$T/s.sa" --json >"$T/o.sa" 2>"$T/e.sa"
ok "standalone till: a card spends past loyalty.offline_spend_limit, up to its balance" \
	'ev "$T/o.sa" sale_committed | sed -n 2p | jq -e ".points_spent == 300" >/dev/null' "$T/o.sa"
