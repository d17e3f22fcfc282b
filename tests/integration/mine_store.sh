#!/usr/bin/env bash
# One flow for a store (issue 16): sales with cards through posmark checkout,
# `posmark mine --data DIR --output-format rules` (basket rules, explore rules
# from the cards' visit-to-visit steps, the personal campaign with its repeat
# rates), `rules load`, then selling: personal and explore offers on the
# receipt, mixed by the repeat limit, and explain naming each offer's signal,
# also --at a past sale's time. Real binary, real log.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
D=$T/d
cat >"$T/conf" <<EOF2
[store]
id = s1
terminal = lane1
[offers]
coupon_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
EOF2
X="--config $T/conf --data $D"
$P catalog import data/demo/catalog.csv $X 2>/dev/null
PASTA=5012340000010 SAUCE=4006306000016 COFFEE=5012340000195 MILK=5012342000018 BREAD=5012343000017
CHEESE=5012342000056 EGGS=5012342000087
card() { local b="603601$(printf %012d "$1")" s=0 i n; for ((i=${#b}-1, k=0; i>=0; i--, k++)); do n=${b:i:1}; ((k%2==0)) && { n=$((n*2)); ((n>9)) && n=$((n-9)); }; s=$((s+n)); done; echo "$b$(( (10 - s%10) % 10 ))"; }
# 30 customers: a first visit with pasta and milk, a second visit a week later where they
# discover sauce (new to them) and buy milk again; a third with milk and bread.
{
	for c in $(seq 1 30); do
		printf '#clock 2026-10-01T10:%02d:00Z\n%s\n#consent yes\n%s\n%s\n#tender cash\n' "$c" "$(card "$c")" $PASTA $MILK
	done
	for c in $(seq 1 30); do
		printf '#clock 2026-10-08T10:%02d:00Z\n%s\n%s\n%s\n%s\n#tender cash\n' "$c" "$(card "$c")" $SAUCE $MILK $CHEESE
	done
	for c in $(seq 1 30); do
		printf '#clock 2026-10-15T10:%02d:00Z\n%s\n%s\n%s\n#tender cash\n' "$c" "$(card "$c")" $MILK $BREAD
	done
} >"$T/history"
$P checkout $X --scans "$T/history" --json >"$T/oh" 2>/dev/null
ok "history: 90 sales committed" '[ "$(grep -c sale_committed "$T/oh")" = 90 ]'
$P mine $X --min-support 0.3 --min-confidence 0.9 --output-format rules --output "$T/rules.json" 2>"$T/err"
ok "mine --data writes the store's rule set" 'grep -q "store rule set:.*explore rule(s).*personal campaign on" "$T/err"'
ok "it holds basket, explore, back-fill and personal rules" 'python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); k=[r[\"kind\"] for r in d[\"rules\"]]
assert \"cross_sell\" in k and \"explore\" in k and k.count(\"personal\")==1, k
ex=[r for r in d[\"rules\"] if r[\"id\"].startswith(\"explore-\")]
assert any(r[\"when\"][\"basket\"][\"all\"]==[{\"item\":\"0$PASTA\"}] and r[\"offer\"][\"item\"]==\"0$SAUCE\" for r in ex), ex
pe=[r for r in d[\"rules\"] if r[\"kind\"]==\"personal\"][0]
assert pe[\"personal\"][\"repeat_rates\"][\"0$MILK\"]==1.0, pe
assert d[\"limits\"][\"max_repeats\"]==3 and d[\"limits\"][\"explore_weight\"]==1.6, d[\"limits\"]
assert 0 < d[\"limits\"][\"explore_novelty\"] <= 1, d[\"limits\"]
assert any(r[\"id\"].startswith(\"popular-\") and \"when\" not in r for r in d[\"rules\"])
" "$T/rules.json"'
$P rules load "$T/rules.json" $X 2>"$T/err"
ok "rules load installs it" 'grep -q installed "$T/err"'

# a new customer: first visit pasta: next visit they get sauce (explore, new to them)
N=$(card 99)
cat >"$T/s1" <<EOF2
#clock 2026-10-20T09:00:00Z
$N
#consent yes
$PASTA
$MILK
#tender cash
#clock 2026-10-21T09:00:00Z
$N
$PASTA
$EGGS
#tender cash
EOF2
$P checkout $X --scans "$T/s1" --json >"$T/o1" 2>/dev/null
S=$(grep sale_committed "$T/o1" | sed -n 2p)
ok "the second sale offers milk (personal: bought before)" 'echo "$S" | grep -q "\"gtin\":\"0$MILK\""'
ok "and sauce (explore: new to the card, buyers of pasta went on to buy it)" 'echo "$S" | grep -q "\"gtin\":\"0$SAUCE\""'
ok "the receipt is full: three offers" '[ "$(echo "$S" | grep -o "\"gtin\":" | wc -l)" -ge 3 ]'

# explain names each offer's signal with the numbers, at the time of that past sale
$P explain --card $N --basket $PASTA,$EGGS --at 2026-10-21T09:00:00Z $X >"$T/ex" 2>&1
ok "explain --at: the personal offer with its numbers" 'grep -qE "personal +personal +(chosen|held_back) +personal: 0$MILK bought in 1 sale\(s\), last 1 days ago; decayed share" "$T/ex"'
ok "explain --at: the explore offer with confidence and lift" 'grep -qE "explore-[0-9]+ +explore +(chosen|held_back) +explore: new to the card.*confidence 1.000" "$T/ex"'
ok "explain's final ranking names each signal and score" 'grep -qE "^  [123]\. .*\[personal, score 1.000, bought before\]" "$T/ex" && grep -qE "^  [123]\. .*\[explore, score" "$T/ex"'
# explore from the card's history: pasta bought a visit ago, today only eggs: buyers of pasta
# went on to buy sauce, so sauce is offered though the basket has no pasta (signal explore)
M=$(card 98)
printf '#clock 2026-10-20T10:00:00Z\n%s\n#consent yes\n%s\n#tender cash\n#clock 2026-10-22T10:00:00Z\n%s\n%s\n#tender cash\n' \
	"$M" $PASTA "$M" $EGGS >"$T/s2"
$P checkout $X --scans "$T/s2" --json >"$T/o2" 2>/dev/null
S=$(grep sale_committed "$T/o2" | sed -n 2p)
ok "explore from the history: sauce offered on a basket without pasta" 'echo "$S" | grep -q "\"gtin\":\"0$SAUCE\""'
$P explain --card $M --basket $EGGS --at 2026-10-22T10:00:00Z $X >"$T/ex2" 2>&1
ok "explain names the history item that led to it, with the weight and novelty" 'grep -qE "explore: new to the card; buyers of its item 0$PASTA \(decayed share [0-9.]+\) went on to buy it: confidence 1.000.*weight 1.60 x novelty" "$T/ex2"'
# the same without the holder's yes: no history is read, no history explore
printf '#clock 2026-10-22T11:00:00Z\n%s\n#consent no\n%s\n#tender cash\n' "$M" $EGGS >"$T/s3"
$P checkout $X --scans "$T/s3" --json >"$T/o3" 2>/dev/null
ok "consent no keyed after the card: no history explore on that receipt" '! grep sale_committed "$T/o3" | grep -q "\"gtin\":\"0$SAUCE\""'
$P explain --card $N --basket $PASTA --at 2026-10-20T08:00:00Z $X >"$T/ex0" 2>&1
ok "explain --at before the card's first sale: no history, no personal offer" 'grep -q "0 past sales" "$T/ex0" && ! grep -qE "\[personal" "$T/ex0"'
$P explain --card $N --basket $PASTA --at yesterday $X >"$T/exb" 2>&1; rc=$?
ok "explain --at refuses a time it cannot read, with a hint" '[ $rc -ne 0 ] && grep -q "^hint: " "$T/exb"'

# rule sets beyond the configured size are refused with a message, nothing installed
printf '[store]\nid = s1\n[offers]\nmax_rules = 5\n' >"$T/small.conf"
cp "$D/rules.json" "$T/installed.json"
$P rules load "$T/rules.json" --config "$T/small.conf" --data "$D" 2>"$T/err"; rc=$?
ok "a set over offers.max_rules is refused, saying why and what to do" '[ $rc -ne 0 ] && grep -q "more than this terminal takes (5, config offers.max_rules)" "$T/err" && grep -q "^hint: " "$T/err"'
ok "and nothing is installed" 'cmp -s "$D/rules.json" "$T/installed.json"'
