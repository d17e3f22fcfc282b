#!/usr/bin/env bash
# Consent is read when the offers are decided, not when the card is scanned
# (issue 16): '#consent no' keyed after the card must keep the card's
# history (and every targeted offer) off that very receipt, and '#consent yes'
# keyed after the card lets a history offer print on it. Real binary, real log.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
D=$T/d
C1=6036010000001000005   # said yes before
C3=6036010000001000740   # never asked
PASTA=5012340000010 SAUCE=4006306000016 COFFEE=5012340000195 BEANS=4006595000018
$P catalog import data/demo/catalog.csv --data "$D" 2>/dev/null
cat >"$T/conf" <<EOF2
[store]
id = store042
terminal = lane1
[offers]
coupon_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
EOF2
X="--config $T/conf --data $D"
cat >"$T/rules.json" <<EOF2
{"format":"posmark-rules","version":1,"name":"consent test",
 "rules":[
  {"id":"beans-hist","kind":"cross_sell","priority":900,
   "when":{"basket":{"all":[{"item":"$COFFEE"}]},"card":{"bought":[{"item":"$COFFEE","within_days":60}]}},
   "offer":{"item":"$BEANS","percent_off":10}},
  {"id":"sauce","kind":"cross_sell","priority":500,
   "when":{"basket":{"all":[{"item":"$PASTA"}]}},"offer":{"item":"$SAUCE","percent_off":15}}
 ]}
EOF2
$P rules load "$T/rules.json" $X 2>/dev/null
$P card consent $C1 --targeted yes $X >/dev/null 2>&1
ev() { grep '"sale_committed"' "$1" | sed -n "${2:-1}p"; }

# history for both cards
cat >"$T/s1" <<EOF2
#clock 2026-11-02T10:00:00Z
$C1
$COFFEE
#tender cash
$C3
$COFFEE
#tender cash
EOF2
$P checkout $X --scans "$T/s1" --json >"$T/o1" 2>/dev/null
ok "history recorded: two sales" 'grep -q "\"committed\":2" "$T/o1"'

# the control: with the yes still standing, the history offer prints
cat >"$T/s2" <<EOF2
#clock 2026-11-03T10:00:00Z
$C1
$COFFEE
$PASTA
#tender cash
EOF2
$P checkout $X --scans "$T/s2" --json >"$T/o2" 2>/dev/null
ok "consent yes: the history offer prints" 'ev "$T/o2" | grep -q "\"rule\":\"beans-hist\""'

# the bug: '#consent no' after the card, on the same sale
cat >"$T/s3" <<EOF2
#clock 2026-11-04T10:00:00Z
$C1
#consent no
$COFFEE
$PASTA
#tender cash
EOF2
n_codes=$(grep "CODE128" "$D/receipts.txt" | grep -vc ":")   # coupons; a sale barcode has TERMINAL:SEQ
$P checkout $X --scans "$T/s3" --json >"$T/o3" 2>/dev/null
ok "the consent change is recorded" 'grep -q "consent_recorded" "$T/o3"'
ok "#consent no after the card: no history offer on that receipt" '! ev "$T/o3" | grep -q "beans-hist"'
ok "#consent no after the card: no targeted offer at all on that receipt" \
	'ev "$T/o3" | grep -q "\"offers\":\[\],\"held_back\":\[\]"'
ok "and no coupon on the printed receipt" '[ "$(grep "CODE128" "$D/receipts.txt" | grep -vc ":")" = "$n_codes" ] && [ "$n_codes" -gt 0 ]'

# the card's consent no, then yes keyed on a sale: the history offer may print on it
cat >"$T/s4" <<EOF2
#clock 2026-11-05T10:00:00Z
$C3
#consent yes
$COFFEE
#tender cash
EOF2
$P checkout $X --scans "$T/s4" --json >"$T/o4" 2>/dev/null
ok "#consent yes after the card: the history offer prints on that receipt" 'ev "$T/o4" | grep -q "\"rule\":\"beans-hist\""'

# the engine itself: a profile built under yes is not used once the card says no
$P card consent $C1 --targeted no $X >/dev/null 2>&1
$P explain --card $C1 --basket $COFFEE,$PASTA $X >"$T/ex" 2>&1
ok "explain with consent no: the history rule is refused for consent" 'grep -q "beans-hist.*no_consent" "$T/ex"'
