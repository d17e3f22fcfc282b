#!/usr/bin/env bash
# posmark mine end to end: known figures through the CLI, item names byte for
# byte, the purchase log as input (--data), the rule-set output, and the
# one-line errors with a hint for bad input.
set -u
cd "$(dirname "$0")/../.."
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

# known figures (arules: 410 rules, 13,492 itemsets; FIMI retail: 7,589)
"$P" mine --input tests/data/groceries.csv --min-support 0.001 --min-confidence 0.8 --output "$T/g.txt" 2>"$T/err"
check "groceries s=0.001 c=0.8 gives 410 rules" '[ "$(wc -l < "$T/g.txt")" -eq 410 ]'
check "rule lines are sorted bytewise" 'LC_ALL=C sort -c "$T/g.txt"'
check "a rule line has the documented shape" \
	'grep -qxF "$(printf "baking powder,tropical fruit,yogurt => whole milk\t0.001118\t0.846154\t3.311549")" "$T/g.txt"'
"$P" mine --input tests/data/groceries.csv --min-support 0.001 --output-format itemsets --quiet > "$T/gi.txt"
check "groceries s=0.001 gives 13,492 frequent itemsets" '[ "$(wc -l < "$T/gi.txt")" -eq 13492 ]'
check "item names ending in a space are kept" 'grep -q "^cream cheese ,\|,cream cheese ,\|,cream cheese 	\|^cream cheese 	" "$T/gi.txt"'
gzip -dc tests/data/retail.dat.gz > "$T/retail.dat"
"$P" mine --input "$T/retail.dat" --input-format fimi --min-support 0.001 --output-format itemsets --quiet > "$T/r.txt"
check "retail s=0.001 gives 7,589 frequent itemsets" '[ "$(wc -l < "$T/r.txt")" -eq 7589 ]'
"$P" mine --input tests/data/groceries.csv --min-support 0.001 --min-confidence 0.8 --max-len 3 --quiet > "$T/g3.txt"
check "--max-len 3 keeps rules of at most 3 items" \
	'[ -s "$T/g3.txt" ] && ! cut -f1 "$T/g3.txt" | grep -q ",.*,"'
"$P" mine --input tests/data/groceries.csv --min-support 0.001 --min-confidence 0.8 --min-lift 5 --quiet > "$T/gl.txt"
check "--min-lift drops rules below it" \
	'[ -s "$T/gl.txt" ] && awk -F"\t" "\$4 < 5 { bad = 1 } END { exit bad }" "$T/gl.txt" && [ "$(wc -l < "$T/gl.txt")" -lt 410 ]'

# quoted items with commas and quotes
printf '"cream, whipped",milk\n"the ""best"" tea",milk,"cream, whipped"\nmilk,"cream, whipped"\n' > "$T/q.csv"
"$P" mine --input "$T/q.csv" --min-support 0.5 --min-confidence 0.9 --quiet > "$T/q.txt"
check "an item with a comma is one item (quoted in the text output)" \
	'grep -qxF "$(printf "\"cream, whipped\" => milk\t1.000000\t1.000000\t1.000000")" "$T/q.txt"'

# the purchase log as input, and the rule set for the offers engine
cat > "$T/cat.csv" <<'CSV'
gtin,name,category,price_cents
4006381333931,Pencil,office,120
5901234123457,Chocolate,food,250
036000291452,Tissues,home,199
96385074,Gum,food,99
CSV
"$P" catalog import "$T/cat.csv" --data "$T/db" >/dev/null 2>&1
printf '4006381333931\n5901234123457\n#tender cash\n4006381333931\n5901234123457\n036000291452\n#tender cash\n4006381333931\n96385074\n4006381333931\n#tender cash\n5901234123457\n#tender cash\n' > "$T/scans"
"$P" checkout --data "$T/db" --scans "$T/scans" >/dev/null 2>&1
"$P" mine --data "$T/db" --min-support 0.5 --min-confidence 0.6 --quiet > "$T/log.txt" 2>"$T/err"
check "--data mines the purchase log (GTIN-14 items)" \
	'grep -qxF "$(printf "04006381333931 => 05901234123457\t0.500000\t0.666667\t0.888889")" "$T/log.txt"'
"$P" mine --data "$T/db" --min-support 0.5 --min-confidence 0.6 --output-format rules --output "$T/rules.json" --quiet
check "the rule set is JSON of the documented shape" \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=d[\"rules\"][0]; assert d[\"format\"]==\"posmark-rules\" and d[\"version\"]==1 and r[\"kind\"]==\"cross_sell\" and r[\"priority\"]==167 and r[\"stats\"][\"confidence\"]==0.666667 and r[\"offer\"][\"item\"]==\"05901234123457\" and r[\"when\"][\"basket\"][\"all\"]==[{\"item\":\"04006381333931\"}] and r[\"stats\"][\"count\"]==2" "$T/rules.json"'
check "the offers engine accepts the mined rule set" '"$P" rules check "$T/rules.json" >/dev/null 2>&1'
"$P" rules load "$T/rules.json" --data "$T/db" >/dev/null 2>&1
printf '4006381333931\n#tender cash\n' > "$T/s2"
check "a basket with the left item gets the mined cross-sell offer" \
	'"$P" checkout --data "$T/db" --scans "$T/s2" --json 2>/dev/null | grep sale_committed | python3 -c "import json,sys; o=json.loads(sys.stdin.read())[\"offers\"]; assert any(x[\"campaign\"]==\"mined-cross-sell\" and x[\"kind\"]==\"cross_sell\" and x[\"gtin\"]==\"05901234123457\" for x in o), o"'
"$P" mine --input tests/data/groceries.csv --min-support 0.001 --min-confidence 0.8 --output-format rules --output "$T/g.json" 2>"$T/err"
check "rules with non-GTIN items are left out, with a count on stderr" \
	'grep -q "410 of 410 rule(s) left out" "$T/err" && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"rules\"]==[]" "$T/g.json"'

# bad input: one line "posmark mine: ..." and a hint, non-zero exit
bad() { # name, expected text, args...
	local name=$1 want=$2; shift 2
	"$P" mine "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	check "$name" '[ $rc -ne 0 ] && grep -q "^posmark mine: .*$want" "$T/err" && grep -q "^hint: " "$T/err"'
}
printf 'a,b\n\nc\n' > "$T/empty.csv"
bad "an empty line is refused with its number" "line 2 is empty" --input "$T/empty.csv" --min-support 0.1 --min-confidence 0.5
printf 'a,b\n\0\1\2\n' > "$T/bin.csv"
bad "a binary file is refused" "not a text file" --input "$T/bin.csv" --min-support 0.1 --min-confidence 0.5
bad "a support of 0 is refused" "not a number in (0,1]" --input tests/data/groceries.csv --min-support 0 --min-confidence 0.5
bad "a support above 1 is refused" "not a number in (0,1]" --input tests/data/groceries.csv --min-support 1.5 --min-confidence 0.5
bad "a confidence of 0 is refused" "not a number in (0,1]" --input tests/data/groceries.csv --min-support 0.1 --min-confidence 0
bad "a missing support is refused" "required" --input tests/data/groceries.csv --min-confidence 0.5
bad "a FIMI line with a letter is refused" "line 1" --input tests/data/groceries.csv --input-format fimi --min-support 0.1 --min-confidence 0.5
bad "a missing file is refused" "cannot open" --input "$T/nope.csv" --min-support 0.1 --min-confidence 0.5
bad "too little memory is refused with what it needs" "needs about" --input "$T/retail.dat" --input-format fimi --min-support 0.001 --min-confidence 0.5 --max-memory 2
bad "no input at all is refused" "nothing to mine" --min-support 0.1 --min-confidence 0.5
exit 0
