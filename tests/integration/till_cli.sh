#!/usr/bin/env bash
# The till's command-line contracts (docs/till.md, PRODUCT.md) with the real binary.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
check() { # check "what" command...
	local what=$1; shift
	if "$@" >"$T/out" 2>"$T/err"; then echo "ok - $what"; else echo "not ok - $what"; sed 's/^/#   /' "$T/err" | head -5; fi
}
fails() { # fails "what" pattern command...: non-zero exit and stderr matching pattern
	local what=$1 pat=$2; shift 2
	if "$@" >"$T/out" 2>"$T/err"; then echo "not ok - $what (exit 0)"; return; fi
	if grep -qE "$pat" "$T/err"; then echo "ok - $what"; else echo "not ok - $what"; sed 's/^/#   /' "$T/err" | head -5; fi
}
CARD=6036010000001000005
cat >"$T/cat.csv" <<'CSV'
gtin,name,category,price_cents,brand
5012342000018,"Milk, whole 1L",Dairy,109,Farmhouse
4006381333931,"Pen ""Stabilo""",Stationery,199,
2101001000001,Cheese by weight,Deli,0,
CSV
check "catalog import of a quoted CSV" $P catalog import "$T/cat.csv" --data "$T/log"
cp "$T/cat.csv" "$T/bad.csv"
printf '5012342000019,Bad check,Dairy,100\n5012342000025,No price,Dairy,abc\n"unterminated,x,y,1\n' >>"$T/bad.csv"
fails "broken catalog lines are named and nothing is imported" 'bad.csv:5: gtin .* bad check digit' \
	$P catalog import "$T/bad.csv" --data "$T/log2"
grep -q 'bad.csv:6: price_cents' "$T/err" && echo "ok - each broken line has its own message" || echo "not ok - each broken line has its own message"
[ ! -e "$T/log2/data.mdb" ] || [ "$($P checkout --data "$T/log2" --scans /dev/null --json | tail -1 | grep -c '"committed":0')" = 1 ] \
	&& echo "ok - all-or-nothing import" || echo "not ok - all-or-nothing import"
check "--skip-bad imports the good lines" $P catalog import "$T/bad.csv" --data "$T/log2" --skip-bad
grep -q 'imported 3 products' "$T/err" && echo "ok - skip-bad count" || echo "not ok - skip-bad count"

cat >"$T/day.scans" <<EOF2
#tender cash
5012342000018
5012342000019
9999
4006381333930
]E05012342000018
#qty 3
4006381333931
#card 6036010000001000006
#card $CARD
2101001012349
#void
#tender cash 100
#tender cash 2000
4006381333931
#cancel
4006381333931
#tender other
EOF2
check "checkout runs the script" $P checkout --data "$T/log" --scans "$T/day.scans" --json
grep -c '"event":"sale_committed"' "$T/out" | grep -qx 2 && echo "ok - two sales committed" || echo "not ok - two sales committed"
grep -q '"reason":"tender without items' "$T/out" && echo "ok - tender without items refused" || echo "not ok - tender without items refused"
grep -q '"input":"5012342000019","reason":"bad check digit' "$T/out" && echo "ok - bad check digit refused" || echo "not ok - bad check digit refused"
grep -q '"input":"#card 6036010000001000006","reason":"bad check digit: card number fails the Luhn' "$T/out" && echo "ok - bad card refused" || echo "not ok - bad card refused"
grep -q 'tendered 1.00 is less than the total' "$T/out" && echo "ok - short tender refused" || echo "not ok - short tender refused"
grep -q '"event":"line_voided","gtin":"02101001000001"' "$T/out" && echo "ok - void of the variable-measure line" || echo "not ok - void"
first=$(grep '"event":"sale_committed"' "$T/out" | head -1)
echo "$first" | grep -q "\"card\":\"$CARD\",\"total_cents\":815," && echo "ok - sale total 1.09 + 1.09 + 3 x 1.99" || { echo "not ok - sale total"; echo "# $first"; }
echo "$first" | grep -q '"change_cents":1185' && echo "ok - change" || echo "not ok - change"
check "rerun reports sales already committed" $P checkout --data "$T/log" --scans "$T/day.scans" --json
grep -c '"event":"sale_already_committed"' "$T/out" | grep -qx 2 && echo "ok - no sale twice" || echo "not ok - no sale twice"
check "history --json" $P history "$CARD" --data "$T/log" --json
[ "$(wc -l <"$T/out")" = 1 ] && grep -q '"items":\[{"gtin":"05012342000018","qty":1,"price_cents":109' "$T/out" \
	&& echo "ok - history shape" || { echo "not ok - history shape"; cat "$T/out"; }
check "card show --json" $P card show "$CARD" --data "$T/log" --json
grep -q '"points":8,"tier":"member","visits":1' "$T/out" && echo "ok - card aggregates" || { echo "not ok - card aggregates"; cat "$T/out"; }
check "consent yes" $P card consent "$CARD" --targeted yes --data "$T/log"
$P card show "$CARD" --data "$T/log" --json | grep -q '"consent_targeted":"yes"' && echo "ok - consent recorded" || echo "not ok - consent recorded"
fails "consent needs yes or no" 'targeted yes or --targeted no' $P card consent "$CARD" --targeted maybe --data "$T/log"
check "erase" $P card erase "$CARD" --data "$T/log"
fails "erased card has no data" 'no data for this card' $P card show "$CARD" --data "$T/log"
$P history "$CARD" --data "$T/log" --json | wc -l | grep -qx 0 && echo "ok - history gone after erase" || echo "not ok - history gone"
fails "bad card number on the command line" 'Luhn' $P history 6036010000001000006 --data "$T/log"
mkdir -p "$T/junk" && head -c 50000 /dev/urandom >"$T/junk/data.mdb"
fails "a corrupt log is refused with a way out" 'not a readable LMDB file.*hint|hint' $P history "$CARD" --data "$T/junk"
fails "unknown command" 'unknown command' $P frobnicate
printf '[loyalty]\npoints_per_unit = lots\n' >"$T/bad.conf"
fails "bad config value names file and line" 'bad.conf:2: option .loyalty.points_per_unit. = .lots. is not valid' \
	$P history "$CARD" --data "$T/log" --config "$T/bad.conf"
check "help" $P checkout --help
