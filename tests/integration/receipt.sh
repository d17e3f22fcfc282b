#!/usr/bin/env bash
# posmark receipt (preview as text and PNG, ESC/POS captures read back, reprint to a printer),
# the escpos: backend from checkout, printer selection by config, and bad input.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { # check "what" command...
	local what=$1; shift
	if "$@" >"$T/out" 2>"$T/err"; then echo "ok - $what"; else echo "not ok - $what"; sed 's/^/#   /' "$T/err" | head -5; fi
}
fails() { # fails "what" pattern command...: non-zero exit and stderr matching pattern
	local what=$1 pat=$2; shift 2
	if "$@" >"$T/out" 2>"$T/err"; then echo "not ok - $what (exit 0)"; return; fi
	if grep -qE "$pat" "$T/err"; then echo "ok - $what"; else echo "not ok - $what"; sed 's/^/#   /' "$T/err" | head -5; fi
}
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
cat >"$T/cat.csv" <<'CSV'
gtin,name,category,price_cents
5012342000018,"Milk, whole 1L",Dairy,109
4006381333931,Crème brûlée,Desserts,199
CSV
$P catalog import "$T/cat.csv" --data "$T/log" 2>/dev/null
printf '5012342000018\n#qty 2\n4006381333931\n#card 6036000000000013\n#tender cash 1000\n' >"$T/s.scans"
cat >"$T/posmark.conf" <<EOF2
[store]
data = $T/log
name = Café Zürich
[devices]
printer = escpos:$T/cap.bin
printer_profile = epson-tm-t88v
EOF2
check "checkout prints to the escpos: printer named in the config" $P checkout --config "$T/posmark.conf" --scans "$T/s.scans"
[ -s "$T/cap.bin" ] && grep -q $'\x1bt\x13' "$T/cap.bin" && echo "ok - capture holds ESC/POS with the CP858 code page" || echo "not ok - capture holds ESC/POS with the CP858 code page"
grep -q $'\x1dV\x42\x00' "$T/cap.bin" && echo "ok - capture ends the receipt with a cut" || echo "not ok - capture ends the receipt with a cut"
check "receipt of sale 1 as text" $P receipt --config "$T/posmark.conf" --sale 1 --text
grep -q 'TOTAL EUR *5.07' "$T/out" && grep -q 'Crème brûlée' "$T/out" && grep -q '2 x 1.99' "$T/out" \
	&& echo "ok - text has the items, UTF-8 names and total" || echo "not ok - text has the items, UTF-8 names and total"
grep -q '\*\*\*\*0013' "$T/out" && ! grep -q 6036000000000013 "$T/out" && echo "ok - card masked on the receipt" || echo "not ok - card masked on the receipt"
check "receipt of sale 1 as PNG" $P receipt --config "$T/posmark.conf" --sale 1 --png "$T/r.png"
is_png "$T/r.png" && [ "$(stat -c %s "$T/r.png")" -gt 3000 ] && echo "ok - PNG written" || echo "not ok - PNG written"
check "ESC/POS capture read back" $P receipt --escpos "$T/cap.bin" --text --png "$T/c.png" --profile epson-tm-t88v
grep -q 'Café Zürich' "$T/out" && grep -q 'Crème brûlée' "$T/out" && echo "ok - capture text decoded from CP858" || echo "not ok - capture text decoded from CP858"
is_png "$T/c.png" && echo "ok - capture drawn as PNG" || echo "not ok - capture drawn as PNG"
check "reprint to another printer, marked COPY" $P receipt --config "$T/posmark.conf" --sale 1 --printer "text:$T/copy.txt"
grep -q '\*\*\* COPY \*\*\*' "$T/copy.txt" && echo "ok - copy marked" || echo "not ok - copy marked"
{ head -c 300 "$T/cap.bin"; printf '\x1dk\x49\x10{BPM'; } >"$T/cut.bin"
check "a capture cut short still shows what came before" $P receipt --escpos "$T/cut.bin" --text
grep -q 'ends inside a command' "$T/err" && echo "ok - cut-short capture is reported" || echo "not ok - cut-short capture is reported"
fails "unknown sale" 'no sale 99' $P receipt --config "$T/posmark.conf" --sale 99
fails "sale and capture together" 'exclude' $P receipt --config "$T/posmark.conf" --sale 1 --escpos "$T/cap.bin"
fails "nothing to show" 'nothing to show' $P receipt --config "$T/posmark.conf"
fails "bad sale number" 'not a sale number' $P receipt --config "$T/posmark.conf" --sale x
fails "unknown profile" 'profile' $P receipt --config "$T/posmark.conf" --sale 1 --png "$T/x.png" --profile nope
fails "unwritable PNG" 'cannot draw' $P receipt --config "$T/posmark.conf" --sale 1 --png /nonexistent/x.png
fails "printer offline on reprint" 'not printed' $P receipt --config "$T/posmark.conf" --sale 1 --printer "tcp:127.0.0.1:9,timeout=200"
printf '[devices]\nprinter_profile = Bad Name\n' >"$T/bad.conf"
fails "bad printer_profile in the config" 'printer_profile' $P receipt --config "$T/bad.conf" --escpos "$T/cap.bin"
printf '[devices]\nprinter_profile = nosuch\n' >"$T/bad2.conf"
fails "unknown printer_profile in checkout" 'not a known printer profile' $P checkout --config "$T/bad2.conf" --data "$T/log" --scans "$T/s.scans" --printer "escpos:$T/x.bin"
$P catalog import "$T/cat.csv" --data "$T/log3" 2>/dev/null
check "printer that is off: the checkout completes" \
	$P checkout --data "$T/log3" --scans "$T/s.scans" --printer "tcp:127.0.0.1:9,timeout=100"
grep -q 'receipt waiting: printer is offline' "$T/err" && grep -q '1 receipt not printed yet (first: sale 1); it waits in the log' "$T/err" \
	&& grep -q 'hint: .*posmark receipt --pending --data' "$T/err" \
	&& echo "ok - the cashier is told in words, with what to do" || { echo "not ok - the cashier is told in words, with what to do"; sed 's/^/#   /' "$T/err"; }
[ "$($P history 6036000000000013 --data "$T/log3" --json 2>/dev/null | wc -l)" = 1 ] && echo "ok - the sale is in the log anyway" || echo "not ok - the sale is in the log anyway"
fails "unknown scanner device" 'usb:|not VID:PID' $P checkout --data "$T/log" --scanner usb:zz --printer "text:$T/t.txt"
fails "absent USB scanner" 'plugged in' $P checkout --data "$T/log" --scanner usb:dead:beef --printer "text:$T/t.txt"
fails "absent serial scanner" 'cannot open scanner port' $P checkout --data "$T/log" --scanner serial:/dev/ttyNONE --printer "text:$T/t.txt"
exit 0
