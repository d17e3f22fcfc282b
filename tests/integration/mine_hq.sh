#!/usr/bin/env bash
# mine_hq.sh - posmark mine --hq-db: mining the sales HQ stores in a real
# PostgreSQL (uploaded by posmark sync through the real receiver) gives the
# same itemsets and rules as mining the terminals' own logs (--data); the
# whole chain's counts are the stores' sums; --store/--terminal/--since/--until
# select; bad connection, foreign database and empty selection fail clearly.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
# S1: 3000 sales 20 minutes apart (about 42 days, two months); S2: 1000 sales
"$GEN" gen "$T/d1" 3000 T1 0 1200 >/dev/null
"$GEN" gen "$T/d2" 1000 T1 0 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred1"
terminal_config "$T/c2" "$T/d2" S2 "$cred2"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>&1
check "HQ holds the 4000 uploaded sales" '[ "$(psql_q "SELECT count(*) FROM sales")" = 4000 ]'

M=("$POSMARK" mine --quiet)
# every itemset of up to 2 items with its count (min count 1), and rules
sets=(--min-support 0.0001 --max-len 2 --output-format itemsets)
rules=(--min-support 0.0005 --min-confidence 0.05)
"${M[@]}" --data "$T/d1" "${sets[@]}" >"$T/s1_log"
"${M[@]}" --hq-db "$HQ_DB" --store S1 "${sets[@]}" >"$T/s1_hq"
check "store S1 at HQ: the same itemsets and counts as its own log" '[ -s "$T/s1_log" ] && cmp -s "$T/s1_log" "$T/s1_hq"'
"${M[@]}" --data "$T/d1" "${rules[@]}" >"$T/r1_log"
"${M[@]}" --hq-db "$HQ_DB" --store S1 "${rules[@]}" >"$T/r1_hq"
check "store S1 at HQ: the same rules as its own log" '[ "$(wc -l <"$T/r1_log")" -gt 20 ] && cmp -s "$T/r1_log" "$T/r1_hq"'
"${M[@]}" --data "$T/d2" "${sets[@]}" >"$T/s2_log"
"${M[@]}" --hq-db "$HQ_DB" --store S2 "${sets[@]}" >"$T/s2_hq"
check "store S2 at HQ: the same itemsets as its own log" '[ -s "$T/s2_log" ] && cmp -s "$T/s2_log" "$T/s2_hq"'
"${M[@]}" --hq-db "$HQ_DB" --store S1 --terminal T1 "${sets[@]}" >"$T/s1t_hq"
check "--store S1 --terminal T1 selects the same sales" 'cmp -s "$T/s1_hq" "$T/s1t_hq"'

# the whole chain: 4000 transactions, each count the sum of the stores'
"$POSMARK" mine --hq-db "$HQ_DB" "${sets[@]}" >"$T/all_hq" 2>"$T/all.err"
check "the chain: every sale is a transaction" 'grep -q "^posmark mine: 4000 transactions" "$T/all.err"'
check "the chain: says where it reads from" 'grep -q "reading the sales from HQ.s database" "$T/all.err"'
check "the chain: each itemset's count is the sum of the stores' counts" 'python3 - "$T/s1_log" "$T/s2_log" "$T/all_hq" <<PY
import sys
def load(p):
    return {l.split("\t")[0]: int(l.split("\t")[2]) for l in open(p)}
a, b, c = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
want = {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}
sys.exit(0 if c and c == want else 1)
PY'

# a range of days: single items counted by PostgreSQL itself
day() { psql_q "SELECT to_char(to_timestamp(min(time_us) / 1e6) AT TIME ZONE 'UTC' + interval '$1 days', 'YYYY-MM-DD') FROM sales"; }
since=$(day 10) until=$(day 20)
lo=$(date -u -d "$since" +%s)000000 hi=$(date -u -d "$until + 1 day" +%s)000000
"$POSMARK" mine --hq-db "$HQ_DB" --since $since --until $until --min-support 0.0001 --max-len 1 \
	--output-format itemsets >"$T/range_hq" 2>"$T/range.err"
psql_q "SELECT e->>'gtin', count(DISTINCT (store_id, terminal, seq)) FROM sales, jsonb_array_elements(items) e
	WHERE time_us >= $lo AND time_us < $hi GROUP BY 1 ORDER BY 1" | tr '|' ' ' >"$T/range_pg"
n_range=$(psql_q "SELECT count(*) FROM sales WHERE time_us >= $lo AND time_us < $hi")
check "--since/--until: the days' sales only (both days included)" '[ "$n_range" -gt 100 ] && [ "$n_range" -lt 4000 ] &&
	grep -q "^posmark mine: $n_range transactions" "$T/range.err"'
check "--since/--until: item counts as PostgreSQL counts them" 'cut -f1,3 "$T/range_hq" | tr "\t" " " | LC_ALL=C sort | cmp -s - "$T/range_pg"'

# a sale without items is left out and counted; an item that is not a GTIN stops with a reason
t=$(psql_q "SELECT min(time_us) FROM sales")
cols="store_id, terminal, seq, time_us, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed"
psql_q "INSERT INTO sales ($cols) VALUES ('S3', 'T1', 1, $t, 'EUR', 'cash', 0, 0, 0, 0, '[]', '[]'),
	('S3', 'T1', 2, $t, 'EUR', 'cash', 0, 0, 0, 0, '[{\"gtin\": \"04000000000006\"}]', '[]'),
	('S4', 'T1', 1, $t, 'EUR', 'cash', 0, 0, 0, 0, '[{\"gtin\": \"12\\\"34\"}]', '[]')" >/dev/null
"$POSMARK" mine --hq-db "$HQ_DB" --store S3 "${sets[@]}" >"$T/s3" 2>"$T/s3.err"; rc=$?
check "a sale without items: left out and counted" '[ $rc -eq 0 ] && grep -q "1 sale(s) without items left out" "$T/s3.err" &&
	grep -q "^posmark mine: 1 transactions" "$T/s3.err" && [ "$(cat "$T/s3")" = "$(printf "04000000000006\t1.000000\t1")" ]'
"$POSMARK" mine --hq-db "$HQ_DB" --store S4 "${sets[@]}" >/dev/null 2>"$T/s4.err"; rc=$?
check "an item that is not a GTIN: exit 1 with the reason" '[ $rc -eq 1 ] && grep -q "sale 1 of the selection has an item that is not a GTIN" "$T/s4.err"'

# failures: one line and a hint each
"$POSMARK" mine --hq-db "host=127.0.0.1 port=$(free_port) user=postgres dbname=postgres connect_timeout=3" \
	--min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e1"; rc=$?
check "no server: exit 1, says it cannot connect in one line, hint to check" '[ $rc -eq 1 ] && [ "$(wc -l <"$T/e1")" -eq 3 ] && grep -q "cannot connect to HQ.s database" "$T/e1" && grep -q "^hint: check --hq-db" "$T/e1"'
"$POSMARK" mine --hq-db "$HQ_DB" --store NOPE --min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e2"; rc=$?
check "empty selection: exit 1, names the selection" '[ $rc -eq 1 ] && grep -q "HQ has no sales of store .NOPE." "$T/e2" && grep -q "^hint:" "$T/e2"'
psql_q "CREATE DATABASE other" >/dev/null
"$POSMARK" mine --hq-db "host=127.0.0.1 port=$PG_PORT user=postgres dbname=other" --min-support 0.1 \
	--min-confidence 0.5 >/dev/null 2>"$T/e3"; rc=$?
check "a database that is not HQ's: exit 1, says so" '[ $rc -eq 1 ] && grep -q "no posmark-hq sales" "$T/e3" && grep -q "^hint:" "$T/e3"'
"$POSMARK" mine --hq-db "$HQ_DB" --since 2026-02-30 --min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e4"; rc=$?
check "a day that does not exist: usage error" '[ $rc -eq 2 ] && grep -q "is not a day" "$T/e4"'
"$POSMARK" mine --input "$T/s1_log" --store S1 --min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e5"; rc=$?
check "--store without --hq-db: usage error" '[ $rc -eq 2 ] && grep -q "without --hq-db" "$T/e5"'
"$POSMARK" mine --hq-db "$HQ_DB" --store "S1' OR 'x'='x" "${sets[@]}" >/dev/null 2>"$T/e6"; rc=$?
check "a quote in --store is a value, not SQL" '[ $rc -eq 1 ] && grep -q "HQ has no sales" "$T/e6"'

# explore at HQ: the cards and times reach HQ, so `mine --hq-db --output-format rules` writes the
# same explore rules, repeat rates and store novelty as mining the store's own log (--data)
cred5=$("$POSMARK_HQ" store add S5 --db "$HQ_DB")
terminal_config "$T/c4" "$T/d4" S5 "$cred5"
"$POSMARK" catalog import data/demo/catalog.csv --config "$T/c4" >/dev/null 2>&1
PASTA=5012340000010 SAUCE=4006306000016 MILK=5012342000018 BREAD=5012343000017 CHEESE=5012342000056
card() { local b="603601$(printf %012d "$1")" s=0 i n; for ((i=${#b}-1, k=0; i>=0; i--, k++)); do n=${b:i:1}; ((k%2==0)) && { n=$((n*2)); ((n>9)) && n=$((n-9)); }; s=$((s+n)); done; echo "$b$(( (10 - s%10) % 10 ))"; }
{
	for v in 1 2 3; do
		for c in $(seq 1 12); do
			printf '#clock 2026-10-%02dT10:%02d:00Z\n%s\n' $((v * 7)) "$c" "$(card "$c")"
			case $v in 1) echo $PASTA; echo $MILK;; 2) echo $SAUCE; echo $MILK; echo $CHEESE;; 3) echo $MILK; echo $BREAD;; esac
			echo "#tender cash"
		done
	done
	printf '#clock 2026-10-22T12:00:00Z\n%s\n#tender cash\n' $BREAD   # anonymous
} >"$T/h4"
"$POSMARK" checkout --config "$T/c4" --scans "$T/h4" >/dev/null 2>"$T/co4.err"
"$POSMARK" sync --config "$T/c4" --once >/dev/null 2>"$T/sync4.err"
check "HQ holds S5's 37 sales, 36 with a card" '[ "$(psql_q "SELECT count(*), count(card) FROM sales WHERE store_id = '"'"'S5'"'"'")" = "37|36" ]'
"$POSMARK_HQ" baskets --db "$HQ_DB" --store S5 --with-cards >"$T/b4c" 2>/dev/null
check "posmark-hq baskets --with-cards: TIME<tab>CARD<tab>GTINs, an anonymous sale's card empty" '[ "$(wc -l <"$T/b4c")" = 37 ] && grep -qP "^[0-9]{16}\t[^\t]+\t0$PASTA,0$MILK$" "$T/b4c" && grep -qP "^[0-9]{16}\t\t0$BREAD$" "$T/b4c"'
"$POSMARK" mine --quiet --config "$T/c4" --min-support 0.3 --min-confidence 0.9 --explore-min-customers 5 \
	--output-format rules --output "$T/r4_log.json" 2>"$T/r4_log.err"
"$POSMARK" mine --quiet --hq-db "$HQ_DB" --store S5 --min-support 0.3 --min-confidence 0.9 --explore-min-customers 5 \
	--output-format rules --output "$T/r4_hq.json" 2>"$T/r4_hq.err"
check "mine --hq-db: explore rules (pasta -> sauce), repeat rates and novelty as from the store's log" 'python3 - "$T/r4_log.json" "$T/r4_hq.json" <<PY
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def explore(d):
    return sorted((json.dumps(r.get("when")), r["offer"]["item"], r["stats"]["confidence"], r["stats"]["lift"])
                  for r in d["rules"] if r["kind"] == "explore")
def rates(d):
    return [r["personal"]["repeat_rates"] for r in d["rules"] if r["kind"] == "personal"]
ea, eb = explore(a), explore(b)
assert ea and ea == eb, (ea, eb)
assert any(w == json.dumps({"basket": {"all": [{"item": "0$PASTA"}]}}) and t == "0$SAUCE" for w, t, c, l in eb), eb
assert rates(a) == rates(b) and rates(b)[0], (rates(a), rates(b))
assert a["limits"] == b["limits"] and 0 < b["limits"]["explore_novelty"] <= 1, (a["limits"], b["limits"])
PY'

# the till binary does not link libpq: mining at HQ goes through posmark-hq baskets
check "bin/posmark does not link libpq (posmark-hq-main, beside the posmark-hq front, does)" '! ldd "$POSMARK" | grep -q libpq && ldd "$(dirname "$POSMARK_HQ")/posmark-hq-main" | grep -q libpq'
"$POSMARK_HQ" baskets --db "$HQ_DB" --store S3 >"$T/b3" 2>"$T/b3.err"; rc=$?
check "posmark-hq baskets: one basket line per sale with items, the empty one noted" '[ $rc -eq 0 ] && [ "$(cat "$T/b3")" = 04000000000006 ] && grep -q "^posmark-hq: 1 sale(s) without items left out" "$T/b3.err"'
"$POSMARK_HQ" baskets --db "$HQ_DB" --store NOPE >"$T/b4" 2>"$T/b4.err"; rc=$?
check "posmark-hq baskets: an empty selection is exit status 5 with a reason" '[ $rc -eq 5 ] && [ ! -s "$T/b4" ] && grep -q "^posmark-hq: HQ has no sales" "$T/b4.err" && grep -q "^hint:" "$T/b4.err"'
mkdir -p "$T/lonely"; cp "$POSMARK" "$T/lonely/posmark"
PATH=/usr/bin:/bin "$T/lonely/posmark" mine --hq-db "$HQ_DB" --min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e7"; rc=$?
check "no posmark-hq beside posmark nor on PATH: exit 1, says so" '[ $rc -eq 1 ] && grep -q "cannot run .posmark-hq" "$T/e7" && grep -q "^hint: install posmark-hq" "$T/e7"'
printf '#!/bin/sh\necho "posmark-hq: boom in the database" >&2\nexit 1\n' >"$T/lonely/posmark-hq"; chmod +x "$T/lonely/posmark-hq"
"$T/lonely/posmark" mine --hq-db "$HQ_DB" --min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e8"; rc=$?
check "posmark-hq failing: its reason reported in one line with a hint" '[ $rc -eq 1 ] && grep -q "^posmark mine: cannot read the sales from HQ.s database: boom in the database" "$T/e8" && grep -q "^hint:" "$T/e8"'
printf '#!/bin/sh\nprintf "0400000000000\\n" \nkill -9 $$\n' >"$T/lonely/posmark-hq"
"$T/lonely/posmark" mine --hq-db "$HQ_DB" --min-support 0.1 --min-confidence 0.5 >/dev/null 2>"$T/e9"; rc=$?
check "posmark-hq killed mid-stream: exit 1, nothing mined" '[ $rc -eq 1 ] && grep -q "killed by signal 9" "$T/e9"'
