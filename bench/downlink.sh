#!/usr/bin/env bash
# bench/downlink.sh - the accounts downlink end to end, into the till's log
# (docs/accounts.md, issue 13): N changed accounts (each with sales in the
# tier window, so a spend and a bought list) pulled by one store's
# `posmark sync` into a fresh log (GET /v1/accounts pages -> wire decode ->
# loy_accounts_apply, page and cursor in one LMDB transaction), beside the
# floor: psql \copy of the same rows with the same content to a file.
# HQ's side alone (pages over curl) is bench/hq_accounts.sh's.
# Medians of REPS runs; PostgreSQL with its default durability settings.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK="$PWD/$BUILD/bin/posmark" POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD"
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
if [ -n "${BENCH_QUICK:-}" ]; then N=10000; REPS=1; else N=100000; REPS=3; fi
T=$HQ_TMP
now() { date +%s.%N; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

pg_start
hq_start
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
# N cards known to store S1, two sales each yesterday (3 of 500 items), in a
# default partition of sales (HQ makes monthly ones at ingest; none is needed here)
day=$(( ($(date +%s) - 86400) * 1000000 ))
psql_q "CREATE TABLE sales_bench PARTITION OF sales DEFAULT;
	INSERT INTO sales (store_id, terminal, seq, time_us, card, currency, tender, total_cents, discount_cents,
	                   tendered_cents, points_earned, items, redeemed)
	SELECT 'S0', 'T0', g, $day + g, '6036' || lpad((g % $N)::text, 12, '0'), 'EUR', 'cash', 900, 0, 900, 9,
	       jsonb_build_array(
	         jsonb_build_object('gtin', lpad((g % 500)::text, 14, '0'), 'qty', 1, 'price_cents', 300, 'line_cents', 300),
	         jsonb_build_object('gtin', lpad((g * 7 % 500)::text, 14, '0'), 'qty', 2, 'price_cents', 150, 'line_cents', 300),
	         jsonb_build_object('gtin', lpad((g * 13 % 500)::text, 14, '0'), 'qty', 1, 'price_cents', 300, 'line_cents', 300)),
	       '[]'::jsonb
	FROM generate_series(0, 2 * $N - 1) g;
	INSERT INTO accounts (card, points, change_serial, last_visit_us)
	SELECT '6036' || lpad(g::text, 12, '0'), 18, nextval('account_serial'), $day FROM generate_series(0, $N - 1) g;
	INSERT INTO store_cards (store_id, card, change_serial) SELECT 'S1', card, change_serial FROM accounts;
	ANALYZE;" >/dev/null
since=$(( ($(date +%s) - 365 * 86400) * 1000000 ))
# the page query of hq/hq_accounts.c over every card, without paging
floor_sql="WITH page AS (SELECT a.card, a.points, k.change_serial, a.erased, a.last_visit_us, a.tier_floor AS floor
	FROM store_cards k JOIN accounts a ON a.card = k.card WHERE k.store_id = 'S1'),
 sp AS (SELECT s.card, sum(total_cents) AS spend FROM sales s JOIN page p ON p.card = s.card WHERE s.time_us >= $since GROUP BY s.card),
 it AS (SELECT s.card, i.gtin, sum(i.qty) AS q FROM sales s JOIN page p ON p.card = s.card
	CROSS JOIN jsonb_to_recordset(s.items) AS i(gtin text, qty int) WHERE s.time_us >= $since GROUP BY s.card, i.gtin),
 bo AS (SELECT card, string_agg(gtin, ',' ORDER BY q DESC, gtin) AS bought FROM (SELECT card, gtin, q,
	row_number() OVER (PARTITION BY card ORDER BY q DESC, gtin) AS rn FROM it WHERE q > 0) x WHERE rn <= 32 GROUP BY card)
 SELECT p.card, p.points, p.change_serial, p.erased, p.last_visit_us, p.floor, coalesce(sp.spend, 0),
	coalesce(c.consent, 'unknown'), coalesce(c.consent_changed_us, 0), coalesce(bo.bought, '')
 FROM page p LEFT JOIN sp ON sp.card = p.card LEFT JOIN bo ON bo.card = p.card LEFT JOIN cards c ON c.card = p.card
 ORDER BY p.change_serial"

pull=() copy=() copy_bytes=0
for r in $(seq 1 "$REPS"); do
	# the store: a fresh log, one sync that pulls every account
	rm -rf "$T/d"
	terminal_config "$T/c" "$T/d" S1 "$cred"
	t0=$(now); out=$("$POSMARK" sync --config "$T/c" --once --json 2>"$T/sync.err"); t1=$(now)
	got=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["accounts_pulled"])' 2>/dev/null)
	[ "$got" = "$N" ] || { echo "warning: the sync pulled ${got:-nothing} of $N accounts"; tail -3 "$T/sync.err"; }
	pull+=("$(python3 -c "print($t1 - $t0)")")
	# the floor: psql \copy of the same rows to a file
	t0=$(now); psql_q "\\copy ($(echo "$floor_sql" | tr '\n\t' '  ')) TO '$T/rows.tsv'"; t1=$(now)
	copy+=("$(python3 -c "print($t1 - $t0)")")
	copy_bytes=$(stat -c %s "$T/rows.tsv")
done
P=$(median "${pull[@]}"); C=$(median "${copy[@]}")
echo "accounts downlink, $N changed accounts to one store (2 sales each in the window), median of $REPS:"
printf '  posmark sync: pull + apply to the log   %7.2f s   %8.0f accounts/s\n' "$P" "$(python3 -c "print($N / $P)")"
printf '  floor: psql \\copy of the same rows      %7.2f s   sync is %.2fx of the floor (target <= 2)\n' "$C" \
	"$(python3 -c "print($P / $C)")"
printf '  bytes per account: psql text %.1f (the wire'"'"'s gzip pages: bench/hq_accounts.sh)\n' \
	"$(python3 -c "print($copy_bytes / $N)")"
echo "  runs: sync ${pull[*]} | copy ${copy[*]}"
