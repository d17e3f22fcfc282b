#!/usr/bin/env bash
# bench/mine_hq.sh - posmark mine --hq-db (HQ's PostgreSQL, one COPY stream
# read by a posmark-hq baskets child and piped into the miner's basket
# reader) against the same baskets mined from a FIMI file (the same miner
# from its fastest input): the cost of mining in place at HQ instead of exporting.
# The synthetic set of bench/mine.sh (bench_mine_gen, MINE_HQ_N baskets,
# default 1,000,000) is loaded straight into a throwaway PostgreSQL's sales
# table (psql \copy; one sale per basket, 2 s apart in January 2026, items
# in the receiver's jsonb shape, item numbers as GTINs), so both runs see
# identical baskets and must print identical rules. Medians of MINE_HQ_REPEAT (3).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK="$PWD/$BUILD/bin/posmark" POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD"
MGEN=$PWD/$BUILD/bench/bench_mine_gen
[ -x "$POSMARK" ] && [ -x "$MGEN" ] || { echo "mine_hq: build first (make bench)"; exit 1; }
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
if [ -n "${BENCH_QUICK:-}" ]; then N=50000 REPS=1; else N=${MINE_HQ_N:-1000000} REPS=${MINE_HQ_REPEAT:-3}; fi
T=$HQ_TMP
now() { date +%s.%N; }
median() { python3 -c 'import statistics,sys; print("%.2f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
median_mb() { python3 -c 'import statistics,sys; print("%.0f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

echo "== mine_hq: $N baskets, posmark mine --hq-db against --input (FIMI) of the same baskets"
pg_start
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>/dev/null
"$MGEN" synth "$N" 1 "$T/synth.dat"
jan=1767225600000000   # 2026-01-01T00:00Z
psql_q "CREATE TABLE sales_y2026m01 PARTITION OF sales FOR VALUES FROM ($jan) TO ($((jan + 31 * 86400 * 1000000)))" >/dev/null
awk -v t0s=$((jan / 1000000)) 'BEGIN { OFS = "\t" } {
	items = ""
	for (i = 1; i <= NF; i++)
		items = items (i > 1 ? "," : "") "{\"gtin\":\"" $i "\",\"qty\":1,\"price_cents\":199,\"line_cents\":199}"
	print "B1", "T1", NR, (t0s + (NR - 1) * 2) "000000", "\\N", "EUR", "cash", 199 * NF, 0, 199 * NF, 0, "[" items "]", "[]"
}' "$T/synth.dat" >"$T/rows.tsv"
t0=$(now)
psql_q "\\copy sales (store_id, terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed) FROM '$T/rows.tsv'"
t1=$(now)
[ "$(psql_q "SELECT count(*) FROM sales")" = "$N" ] || { echo "mine_hq: loading the sales failed"; exit 1; }
psql_q "ANALYZE sales" >/dev/null
printf 'loaded %s sales into PostgreSQL in %.1f s (psql \\copy); table %s\n' "$(psql_q "SELECT count(*) FROM sales")" \
	"$(python3 -c "print($t1 - $t0)")" "$(psql_q "SELECT pg_size_pretty(pg_total_relation_size('sales_y2026m01'))")"

args=(--min-support 0.01 --min-confidence 0.8 --quiet)
hq=() file=() hq_mb=() file_mb=()
for ((r = 0; r < REPS; r++)); do
	/usr/bin/time -f "%e %M" -o "$T/tv" "$POSMARK" mine --hq-db "$HQ_DB" "${args[@]}" >"$T/hq.txt"
	read -r w m < <(tail -1 "$T/tv"); hq+=("$w"); hq_mb+=("$((m / 1024))")
	/usr/bin/time -f "%e %M" -o "$T/tv" "$POSMARK" mine --input "$T/synth.dat" --input-format fimi "${args[@]}" >"$T/file.txt"
	read -r w m < <(tail -1 "$T/tv"); file+=("$w"); file_mb+=("$((m / 1024))")
done
same=DIFFERENT; cmp -s "$T/hq.txt" "$T/file.txt" && same=identical
printf '%-34s %8s %6s\n' "support 0.01, $(wc -l <"$T/hq.txt") rules" "wall s" "MB"
printf '%-34s %8s %6s\n' "posmark mine --hq-db (PostgreSQL)" "$(median "${hq[@]}")" "$(median_mb "${hq_mb[@]}")"
printf '%-34s %8s %6s\n' "posmark mine --input (FIMI file)" "$(median "${file[@]}")" "$(median_mb "${file_mb[@]}")"
printf 'hq/file = %s; rules %s; MB is posmark or its posmark-hq child, the larger (PostgreSQL runs beside them)\n' \
	"$(python3 -c "print('%.1f' % ($(median "${hq[@]}") / $(median "${file[@]}")))")" "$same"
