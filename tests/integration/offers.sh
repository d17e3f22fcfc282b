#!/usr/bin/env bash
# Offers end to end with the real binary: rules check (lines), load, explain,
# checkout --json offers/held_back/redeemed, coupon refusals, consent, caps,
# and "issued only once printed". Catalog: data/demo/catalog.csv.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
D=$T/d
C1=6036010000001000005   # says yes to targeted offers
C2=6036010000001000377   # says no
C3=6036010000001000740   # never asked
LAPTOP=4007598000012 SLEEVE=4007649000015 MOUSE=4007666000012 PASTA=5012340000010 SAUCE=4006306000016
COFFEE=5012340000195 LAVAZZA=4006561000011 BEANS=4006595000018
$P catalog import data/demo/catalog.csv --data "$D" 2>/dev/null
cat >"$T/conf" <<EOF2
[store]
id = store042
terminal = lane1
currency = EUR
[offers]
coupon_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
EOF2
X="--config $T/conf --data $D"

# ---- the demo's campaign file is valid against the demo catalog
$P rules check data/demo/campaigns.json $X 2>"$T/err"; rc=$?
ok "demo campaigns check clean against the demo catalog" '[ $rc -eq 0 ] && grep -q "is valid: 11 rules, 0 warnings" "$T/err"'

# ---- a rule set from the miner loads as is and drives offers
for i in $(seq 1 30); do echo "$LAPTOP,$SLEEVE"; echo "$PASTA,$SAUCE,$COFFEE"; echo "$PASTA,$SAUCE"; echo "$COFFEE,$LAVAZZA"; done >"$T/baskets.csv"
$P mine --input "$T/baskets.csv" --min-support 0.1 --min-confidence 0.6 --output-format rules --output "$T/mined.json" --quiet 2>/dev/null
$P rules check "$T/mined.json" $X 2>"$T/err"; rc=$?
ok "the miner's rule set checks clean" '[ $rc -eq 0 ] && grep -q "(mined cross-sell) is valid" "$T/err"'
M=$T/mined-data; $P catalog import data/demo/catalog.csv --data "$M" 2>/dev/null
$P rules load "$T/mined.json" --data "$M" 2>/dev/null
$P explain --basket $LAPTOP --data "$M" >"$T/ex" 2>&1
ok "a mined rule is chosen for its antecedent" 'grep -qE "^1 +mined-[0-9]+ +mined-cross-sell +chosen" "$T/ex" && grep -q "1. Targus Laptop sleeve" "$T/ex"'

# ---- rules check: every error with its line
cat >"$T/bad.json" <<'EOF2'
{"format":"posmark-rules","version":1,
 "rules":[
  {"id":"a","kind":"cross_sell",
   "when":{"basket":{"all":[{"item":"4007598000013"}]}},
   "offer":{"item":"4007649000015","percent_off":120}},
  {"id":"b","kind":"up_sell","offer":{"upgrade":"colour","percent_off":5}}
 ]}
EOF2
$P rules check "$T/bad.json" 2>"$T/err"; rc=$?
ok "rules check refuses a bad file (exit non-zero)" '[ $rc -ne 0 ]'
ok "bad GTIN named with its line" 'grep -q "bad.json:4: error: .item. must be a GTIN" "$T/err"'
ok "bad percent named with its line" 'grep -q "bad.json:5: error: .percent_off. must be" "$T/err"'
ok "bad upgrade named with its line" 'grep -q "bad.json:6: error: .upgrade." "$T/err"'
ok "a hint says what to do" 'grep -q "^hint: " "$T/err"'
printf '{"format":"posmark-rules","version":1,\n"rules":[\n{"id":"x"\n' >"$T/syntax.json"
$P rules check "$T/syntax.json" 2>"$T/err"
ok "syntax error with its line" 'grep -qE "syntax.json:[34]: error: not valid JSON" "$T/err"'
cat >"$T/unknown.json" <<EOF2
{"format":"posmark-rules","version":1,"rules":[
 {"id":"u","kind":"cross_sell","when":{"basket":{"all":[{"item":"$LAPTOP"}]}},
  "offer":{"item":"4000000000006","percent_off":10}}]}
EOF2
$P rules check "$T/unknown.json" $X 2>"$T/err"; rc=$?
ok "unknown item against the catalog is a warning on its line" '[ $rc -eq 0 ] && grep -q "unknown.json:3: warning: offered item 04000000000006 is not in the catalog" "$T/err"'
$P rules load "$T/bad.json" $X 2>/dev/null
ok "a refused file is not installed" '[ ! -e "$D/rules.json" ]'

# ---- the campaigns for the rest
cat >"$T/rules.json" <<EOF2
{"format":"posmark-rules","version":1,"name":"test campaigns",
 "campaigns":{"laptop":{"budget":3},"coffee":{"frequency_days":30},"control":{"holdout_pct":100}},
 "rules":[
  {"id":"sleeve","campaign":"laptop","kind":"cross_sell","priority":900,
   "when":{"basket":{"all":[{"item":"$LAPTOP"}]}},"offer":{"item":"$SLEEVE","percent_off":20}},
  {"id":"sauce","campaign":"pasta","kind":"cross_sell","priority":500,
   "when":{"basket":{"all":[{"item":"$PASTA"}]}},"offer":{"item":"$SAUCE","percent_off":15}},
  {"id":"coffee-up","campaign":"coffee","kind":"up_sell","priority":400,
   "when":{"basket":{"all":[{"category":"Coffee & Tea"}]},"card":{"bought":[{"category":"Coffee & Tea","within_days":60}]}},
   "offer":{"upgrade":"price","category":"Coffee & Tea","percent_off":10}},
  {"id":"beans-control","campaign":"control","kind":"cross_sell","priority":300,
   "when":{"basket":{"all":[{"item":"$COFFEE"}]}},"offer":{"item":"$BEANS","percent_off":5}}
 ]}
EOF2
$P rules load "$T/rules.json" $X 2>"$T/err"
ok "rules load installs DATA/rules.json" '[ -s "$D/rules.json" ] && grep -q "installed" "$T/err"'
$P card consent $C1 --targeted yes $X >/dev/null 2>&1
$P card consent $C2 --targeted no $X >/dev/null 2>&1

# ---- explain
$P explain --basket $PASTA,$COFFEE $X >"$T/ex" 2>&1
ok "explain lists the chosen rule with its rank" 'grep -qE "^1 +sauce +pasta +chosen" "$T/ex"'
ok "explain shows the holdout" 'grep -q "beans-control.*held_back" "$T/ex"'
ok "explain says why a personal rule did not fire" 'grep -q "coffee-up.*no_card" "$T/ex"'
ok "explain has the final ranking" 'grep -q "final ranking:" "$T/ex" && grep -q "1. Dolmio" "$T/ex"'
$P explain --basket $PASTA --all --json $X >"$T/ex.json"
ok "explain --json --all lists every rule" '[ "$(grep -o "\"verdict\"" "$T/ex.json" | wc -l)" = 4 ]'
$P explain --basket $LAPTOP,$SLEEVE $X >"$T/ex" 2>&1
ok "explain: no offer for what is in the basket" 'grep -q "sleeve.*in_basket" "$T/ex"'

# ---- checkout: a sale with offers, a coupon redeemed, reuse and forgery refused
cat >"$T/s1" <<EOF2
#clock 2026-11-02T10:00:00Z
$C1
$PASTA
$LAPTOP
$COFFEE
#tender card
EOF2
$P checkout $X --scans "$T/s1" --json >"$T/o1" 2>"$T/e1"
ev() { grep '"sale_committed"' "$1" | sed -n "${2:-1}p"; }
S=$(ev "$T/o1")
ok "sale_committed carries printed offers" 'echo "$S" | grep -q "\"offers\":\[{\"campaign\":\"laptop\",\"rule\":\"sleeve\",\"kind\":\"cross_sell\",\"gtin\":\"0$SLEEVE\""'
ok "the second offer is the pasta sauce" 'echo "$S" | grep -q "\"rule\":\"sauce\""'
ok "holdout recorded as would-have-offered, no code" 'echo "$S" | grep -q "\"held_back\":\[{\"campaign\":\"control\".*\"coupon\":\"\""'
ok "no history yet: the history rule does not fire" '! echo "$S" | grep -q coffee-up'
CODE=$(echo "$S" | grep -o '"rule":"sauce"[^}]*' | grep -o 'P[0-9]\{20\}')
ok "coupon code v2: the prefix's letter and 20 digits" '[ ${#CODE} -eq 21 ]'
ok "receipt prints the coupon with a CODE128 barcode" 'grep -q "CODE128 $CODE" "$D/receipts.txt"'
ok "held-back coupon is not on the receipt" '! grep -q "Lavazza Super Crema" "$D/receipts.txt"'
FORGED=${CODE:0:15}$(( (${CODE:15:1} + 1) % 10 ))${CODE:16}
cat >"$T/s2" <<EOF2
#clock 2026-11-03T10:00:00Z
$C1
$FORGED
$CODE
$SAUCE
$COFFEE
#tender cash
#clock 2026-11-03T10:05:00Z
$C1
$CODE
$SAUCE
#tender cash
$C3
$CODE
$SAUCE
#tender cash
EOF2
$P checkout $X --scans "$T/s2" --json >"$T/o2" 2>"$T/e2"
ok "forged coupon refused with a reason, the sale goes on" 'grep -q "\"coupon_refused\",\"coupon\":\"$FORGED\",\"reason\":\"coupon does not verify" "$T/o2"'
S=$(ev "$T/o2" 1)
ok "redeemed coupon and its discount in sale_committed" 'echo "$S" | grep -q "\"redeemed\":\[{\"coupon\":\"$CODE\",\"discount_cents\":33"'
ok "total is after the discount" 'echo "$S" | grep -q "\"total_cents\":435,"'
ok "with history now, the history rule fires (up-sell from the catalog)" 'echo "$S" | grep -q "\"rule\":\"coffee-up\",\"kind\":\"up_sell\",\"gtin\":\"0$LAVAZZA\""'
ok "a used coupon is refused" '[ "$(grep -c "coupon was already used" "$T/o2")" = 1 ]'
S=$(ev "$T/o2" 2)
ok "and that sale still commits, without the discount" 'echo "$S" | grep -q "\"total_cents\":219,.*\"redeemed\":\[\]"'
ok "a coupon for another card is refused" 'grep -q "issued to another loyalty card" "$T/o2"'
ok "three sales committed" 'grep -q "\"committed\":3" "$T/o2"'

# ---- expired
cat >"$T/s3" <<EOF2
#clock 2027-02-01T10:00:00Z
$C1
$(echo "$S" | grep -o 'P[0-9]\{20\}' | head -1)
$LAVAZZA
#tender cash
EOF2
UP=$(ev "$T/o2" 1 | grep -o '"rule":"coffee-up"[^}]*' | grep -o 'P[0-9]\{20\}')
sed -i "3s/.*/$UP/" "$T/s3"
$P checkout $X --scans "$T/s3" --json >"$T/o3"
ok "an expired coupon is refused" 'grep -q "\"coupon_refused\",\"coupon\":\"$UP\",\"reason\":\"coupon expired" "$T/o3"'

# ---- consent: opted out gets no targeted offer; never asked gets only basket offers
cat >"$T/s4" <<EOF2
#clock 2026-11-04T10:00:00Z
$C2
$PASTA
#tender cash
$C3
$PASTA
$COFFEE
#tender cash
EOF2
$P checkout $X --scans "$T/s4" --json >"$T/o4"
ok "opted-out card: no targeted offer" 'ev "$T/o4" 1 | grep -q "\"offers\":\[\],\"held_back\":\[\]"'
ok "card never asked: the basket offer prints" 'ev "$T/o4" 2 | grep -q "\"rule\":\"sauce\""'
ok "card never asked: no history offer" '! ev "$T/o4" 2 | grep -q "coffee-up"'

# ---- caps: frequency (coffee-up once in 30 days), budget (laptop: 3), and paper out
cat >"$T/s5" <<EOF2
#clock 2026-11-05T10:00:00Z
$C1
$COFFEE
#tender cash
$LAPTOP
#tender card
EOF2
$P checkout $X --scans "$T/s5" --json >"$T/o5"
ok "frequency cap: the same offer not twice in 30 days" '! ev "$T/o5" 1 | grep -q coffee-up'
ok "laptop budget of 3: the 2nd coupon still prints" 'ev "$T/o5" 2 | grep -q "\"rule\":\"sleeve\""'
cat >"$T/s6" <<EOF2
#clock 2026-11-06T10:00:00Z
$LAPTOP
#tender card
EOF2
# The printer is off (its status says so before the sale commits): the coupon
# waits with the receipt and counts only once printed (docs/till.md).
$P checkout $X --scans "$T/s6" --printer "tcp:127.0.0.1:9,timeout=100" --json >"$T/o6"
ok "printer off: the receipt is pending" 'grep -q "receipt_pending" "$T/o6"'
$P explain --basket $LAPTOP $X >"$T/ex"
ok "a coupon that did not print did not spend the budget" 'grep -qE "sleeve +laptop +chosen" "$T/ex"'
cat >"$T/s8" <<EOF2
#clock 2026-11-07T10:00:00Z
$LAPTOP
#tender card
EOF2
$P checkout $X --scans "$T/s8" --json >"$T/o8"
$P explain --basket $LAPTOP $X >"$T/ex"
ok "after three printed coupons the budget is spent" 'grep -q "sleeve.*budget_spent" "$T/ex"'

# ---- through the daemon's API: the coupon lines come back for the POS app's own receipt
$P daemon --data "$M" --socket "$T/pm.sock" 2>"$T/daemon.err" & dpid=$!
for i in $(seq 1 100); do [ -S "$T/pm.sock" ] && break; sleep 0.05; done
python3 - "$T/pm.sock" "$LAPTOP" "$MOUSE" >"$T/api" 2>&1 <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def call(**req):
    f.write(json.dumps(req).encode() + b"\n"); f.flush()
    return json.loads(f.readline())
for n, gtin in enumerate(sys.argv[2:]):
    call(op="sale_open", lane="1", pos_sale_id="api-%d" % n)
    call(op="line_add", lane="1", gtin=gtin, price_cents=1000)
    r = call(op="tender", lane="1", kind="card")
    print(gtin, r["ok"], json.dumps(r["receipt_lines"]), len(r["offers"]))
    # The same block as structured elements: no text markup standing in for a barcode.
    el = r["receipt"]
    codes = [o["coupon"] for o in r["offers"] if o.get("coupon")]
    bars = [e for e in el if e["type"] in ("barcode", "qr")]
    print("elements", gtin, len(el), all(e["data"] in codes for e in bars) and
          all(any(e.get("data") == c or c in e.get("text", "") for e in el) for c in codes),
          any(e["type"] == "text" and e["bold"] for e in el) or not codes,
          not any("|||" in e.get("text", "") for e in el), [e.get("symbology", e["type"]) for e in bars])
PY
kill $dpid; wait $dpid 2>/dev/null
ok "daemon API: a sale with an offer gets its coupon block as receipt_lines" 'grep -q "^$LAPTOP True .*YOUR NEXT VISIT" "$T/api"'
ok "daemon API: a sale without a printed coupon gets none" 'grep -q "^$MOUSE True \[\] 0$" "$T/api"'
ok "daemon API: the coupon block also comes as structured elements (styled text, a barcode with symbology and the coupon as data, no markup)" \
	'grep -qE "^elements $LAPTOP [1-9][0-9]* True True True \[.(CODE128|EAN13|qr)" "$T/api" && grep -q "^elements $MOUSE 0 True True True \[\]" "$T/api"'

# ---- a broken installed rule set: the till keeps working without offers
echo '{"format":"posmark-rules",' >"$D/rules.json"
cat >"$T/s9" <<EOF2
$PASTA
#tender cash
EOF2
$P checkout $X --scans "$T/s9" --json >"$T/o9" 2>"$T/e9"; rc=$?
ok "broken installed rules: sale commits, no offers, a clear event" '[ $rc -eq 0 ] && grep -q "\"offers\":\[\]" "$T/o9" && grep -q "offers_disabled" "$T/o9"'
