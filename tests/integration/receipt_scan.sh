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
# the reprint from the log: store header and the coupons as printed, which decode the same
$P receipt --config "$T/conf" --data "$D" --sale 1 --text >"$T/re1.txt" 2>/dev/null
$P receipt --config "$T/conf" --data "$D" --sale 1 --png "$T/sale1.png" --profile generic-58 2>/dev/null
zbarimg --quiet --raw "$T/sale1.png" 2>/dev/null | grep -v ':' | sort >"$T/dec1"   # less the sale barcode
ok "posmark receipt --sale 1: store header and its 3 coupons" 'grep -q "Café Zürich" "$T/re1.txt" && [ "$(grep -c "YOUR NEXT VISIT" "$T/re1.txt")" -eq 3 ]'
ok "posmark receipt --sale 1 --png: the reprinted coupons decode to the codes first printed" \
	'[ "$(wc -l <"$T/dec1")" -eq 3 ] && [ -z "$(comm -23 "$T/dec1" "$T/printed.generic")" ]'
ok "the reprint says until when, as printed" 'grep -q "Valid until 2026-12-20, once" "$T/re1.txt"'
# coupons read from the preview are taken back at the till; the receipt says what each was for
{ printf '#clock 2026-12-07T09:00:00Z\n#card %s\n' "$CARD"; cat "$T/decoded.generic-58"
  printf '4007649000015\n4006306000016\n5012340000010\n#tender cash\n'; } >"$T/redeem"
$P checkout --config "$T/conf" --data "$D" --scans "$T/redeem" --json --printer "text:$T/r.txt" >"$T/r.json" 2>/dev/null
ok "coupons read from the preview are redeemed at the till" \
	'[ "$(grep -o "\"redeemed\":\[[^]]*\]" "$T/r.json" | grep -o "\"coupon\"" | wc -l)" -ge 3 ]'
ok "a redeemed coupon's line says what it was for (wrapped, the discount on its last line)" \
	'grep -qx "Coupon 15% off Dolmio Pasta" "$T/r.txt" && grep -qE "^  sauce tomato basil 400g +-0\.33$" "$T/r.txt" && grep -qE "^Coupon 3\.00 EUR off basket +-3\.00$" "$T/r.txt" && grep -qE "^Coupon 20% off Targus Laptop" "$T/r.txt"'
ok "a long product name wraps at a word boundary, indented" 'grep -qE "^  basil 400g$" "$T/r.txt"'
ok "no receipt line is wider than 42 columns" '! awk "length(\$0) > 42" "$T/r.txt" "$T/re1.txt" | grep -q .'
# a model from a printer capabilities file: 48 mm (288 dots) with native QR. A coupon needs 374
# dots as CODE128: it prints as a QR code (and says so in the log), which decodes to the same code.
cat >"$T/printers.conf" <<'EOF2'
[profile narrow-48]
model = a 48 mm printer with native QR
dots = 288
columns_font_a = 24
columns_font_b = 32
native_qr = yes
cutter = no
EOF2
export POSMARK_PRINTERS=$T/printers.conf
printf '#clock 2026-12-08T11:00:00Z\n4007598000012\n#tender cash\n' >"$T/s.narrow"
$P checkout --config "$T/conf" --data "$D" --scans "$T/s.narrow" --printer "escpos:$T/narrow.bin,profile=narrow-48" \
	>/dev/null 2>"$T/err.narrow"
$P receipt --escpos "$T/narrow.bin" --png "$T/narrow.png" --profile narrow-48 2>/dev/null
$P receipt --escpos "$T/narrow.bin" --text --profile narrow-48 2>/dev/null | grep -oE '^ *P[0-9]{20} *$' | tr -d ' ' | sort >"$T/printed.narrow"
zbarimg --quiet --raw "$T/narrow.png" 2>/dev/null | grep -v ':' | sort >"$T/decoded.narrow"   # less the sale barcode
ok "capabilities file: a 48 mm model prints the coupons that do not fit as QR codes (log says so)" \
	'grep -q "wider than the 288 of narrow-48: printed as a QR code" "$T/err.narrow"'
ok "capabilities file: the QR codes decode to the codes printed ($(wc -l <"$T/decoded.narrow") of $(wc -l <"$T/printed.narrow"))" \
	'[ -s "$T/printed.narrow" ] && cmp -s "$T/printed.narrow" "$T/decoded.narrow"'
$P receipt --escpos "$T/narrow.bin" --png "$T/x.png" --profile nosuch 2>"$T/err.nosuch"; rc=$?
ok "an unknown --profile is an error that lists the known ones, with a hint" \
	'[ $rc -ne 0 ] && grep -q "the known ones: generic.*narrow-48" "$T/err.nosuch" && grep -q "^hint:" "$T/err.nosuch"'
printf '[profile narrow-48]\ndots = 300\n' >"$T/bad.conf"
POSMARK_PRINTERS=$T/bad.conf $P receipt --escpos "$T/narrow.bin" --text --profile generic >/dev/null 2>"$T/err.bad"
ok "a broken capabilities file is a warning naming the line, the built-in profiles still work" \
	'grep -q "bad.conf:2: dots = .300.: expected" "$T/err.bad" && grep -q "hint:" "$T/err.bad"'
