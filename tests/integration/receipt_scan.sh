#!/usr/bin/env bash
# Coupons that scan: receipts with coupons printed to an ESC/POS capture for every built-in printer
# profile, the preview drawn from those exact bytes (posmark receipt --escpos FILE --png), and every
# barcode in it decoded by a real reader (zbarimg, Debian's zbar-tools) and compared with the codes
# printed as text; also the till's own --sale preview. The decode counts per profile are printed.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT; [ -n "${KEEP:-}" ] && echo "# kept $T"
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
if ! command -v zbarimg >/dev/null; then
	echo "not ok - zbarimg is installed"
	echo "# hint: run scripts/install-deps.sh as root (it installs zbar-tools)"
	exit 0
fi
# every profile of the docs' table (docs/printers.md): a new profile is tested without editing this
PROFILES=$(sed -n '/^## Printer profiles/,/^## /p' docs/printers.md | grep -oE '^\| `[a-z0-9-]+`' | tr -d '|` ')
ok "the profile table lists the 7 built-in profiles" '[ "$(echo $PROFILES | wc -w)" -ge 7 ]'
D=$T/d
CARD=6036010000001000005
$P catalog import data/demo/catalog.csv --data "$D" 2>/dev/null
cat >"$T/conf" <<EOF2
[store]
id = store042
terminal = lane1
name = Café Zürich
currency = EUR
[offers]
coupon_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
EOF2
cat >"$T/rules.json" <<'EOF2'
{"format":"posmark-rules","version":1,"name":"scan test",
 "rules":[
  {"id":"sleeve","campaign":"laptop","kind":"cross_sell","priority":900,
   "when":{"basket":{"all":[{"item":"4007598000012"}]}},"offer":{"item":"4007649000015","percent_off":20}},
  {"id":"sauce","campaign":"pasta","kind":"cross_sell","priority":500,
   "when":{"basket":{"all":[{"item":"5012340000010"}]}},"offer":{"item":"4006306000016","percent_off":15}},
  {"id":"basket","campaign":"welcome","kind":"promotion","priority":100,"offer":{"basket":true,"amount_off_cents":300}}
 ]}
EOF2
$P rules load "$T/rules.json" --config "$T/conf" --data "$D" 2>/dev/null
total=0 summary=""
i=0
for prof in $PROFILES; do
	i=$((i + 1))
	# two sales per profile, with a card and anonymous: 3 coupons each
	printf '#clock 2026-12-06T10:%02d:00Z\n#card %s\n4007598000012\n5012340000010\n#tender cash\n4007598000012\n5012340000010\n#tender cash\n' \
		"$i" "$CARD" >"$T/s.$prof"
	$P checkout --config "$T/conf" --data "$D" --scans "$T/s.$prof" --printer "escpos:$T/$prof.bin,profile=$prof" \
		>/dev/null 2>"$T/err.$prof"
	$P receipt --escpos "$T/$prof.bin" --png "$T/$prof.png" --profile "$prof" >/dev/null 2>>"$T/err.$prof"
	$P receipt --escpos "$T/$prof.bin" --text --profile "$prof" 2>/dev/null | grep -oE '^ *P[0-9]{20} *$' | tr -d ' ' \
		| sort >"$T/printed.$prof"
	zbarimg --quiet --raw "$T/$prof.png" 2>/dev/null | sort >"$T/all.$prof"
	# the receipts' sale barcodes (lane1:SEQ, docs/till.md "Returns") apart from the coupons
	grep -v ':' "$T/all.$prof" >"$T/decoded.$prof"
	grep -cE '^lane1:[0-9]+$' "$T/all.$prof" >"$T/refs.$prof"
	np=$(wc -l <"$T/printed.$prof") nd=$(wc -l <"$T/decoded.$prof")
	ok "$prof: both receipts' sale barcodes decode to their TERMINAL:SEQ" '[ "$(cat "$T/refs.$prof")" = 2 ]'

	ok "$prof: 6 coupons printed as text" '[ "$np" -eq 6 ]'
	ok "$prof: every barcode decodes to the code printed under it ($nd of $np)" \
		'[ "$np" -gt 0 ] && cmp -s "$T/printed.$prof" "$T/decoded.$prof"'
	ok "$prof: no barcode too wide, nothing printed as text only" '! grep -q "printed as" "$T/err.$prof"'
	total=$((total + nd)) summary="$summary $prof=$nd/$np"
done
echo "# decoded per profile:$summary (total $total)"
# a decoded coupon is taken back at the till
C=$(head -1 "$T/decoded.generic-58")
printf '#clock 2026-12-07T09:00:00Z\n#card %s\n%s\n4007649000015\n5012340000010\n#tender cash\n' "$CARD" "$C" >"$T/redeem"
$P checkout --config "$T/conf" --data "$D" --scans "$T/redeem" --json >"$T/r.json" 2>/dev/null
ok "a coupon read from the preview is accepted at the till" 'grep -q "\"coupon_accepted\",\"coupon\":\"$C\"" "$T/r.json" || grep -q "\"redeemed\":\[{\"coupon\":\"$C\"" "$T/r.json"'
