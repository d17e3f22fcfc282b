#!/usr/bin/env bash
# bench/console.sh - the console's page data at scale (issue 18; docs/console.md, docs/benchmarks.md),
# each figure beside its baseline from the same run:
#  1. page data latency p50/p95 of every page (hq_page_data on one connection, 30 calls after a
#     warm-up) at 10,000,000 sales, 1,000,000 cards, 500,000 offers, 7,000,000 ledger entries over
#     three years and 20 stores, beside the same figures by a plain query over sales (the naive
#     way: median of 3); the target is every page's p95 under 300 ms;
#  2. migration 7's back-fill (rollup_rebuild) of that database;
#  3. ingest rate of till batches (v2, 20,000 sales with ledger entries each, over HTTP) with the
#     rollups beside the same batches with POSMARK_HQ_ROLLUPS=off, into that database (median of 3
#     each, alternating; target >= 0.8x).
# BENCH_QUICK=1: 1,000,000 sales, 100,000 cards (and says so). The data goes straight into the
# tables by SQL (generate_series), then rollup_rebuild() computes the rollups as migration 7 would.
# BENCH_PG_EXTRA="name=value ...": more PostgreSQL settings for both sides (e.g. wal_compression=lz4).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD" POSMARK_HQ_CONFIG=none
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
if [ -n "${BENCH_QUICK:-}" ]; then
	N=1000000 CARDS=100000 BATCHES=2 SCALE="scaled down (BENCH_QUICK)"
else
	N=10000000 CARDS=1000000 BATCHES=5 SCALE="full size"
fi
STORES=20 T=$HQ_TMP
echo "== console page data: $N sales, $CARDS cards, $STORES stores, 3 years ($SCALE)"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared with other work)"
pg_start shared_buffers=512MB work_mem=64MB maintenance_work_mem=256MB max_wal_size=4GB ${BENCH_PG_EXTRA:-}
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>/dev/null
now() { date +%s.%N; }
T0=$(( ($(date +%s) / 86400 - 3 * 365) * 86400 * 1000000 ))
SPAN=$(( 3 * 365 * 86400 * 1000000 ))
s=$(now)
psql -X -q -v ON_ERROR_STOP=1 "$HQ_DB" >/dev/null <<SQL
DO \$\$ DECLARE m timestamptz; BEGIN
 FOR m IN SELECT generate_series(date_trunc('month', to_timestamp($T0 / 1e6)), now() + interval '1 month', interval '1 month') LOOP
  EXECUTE format('CREATE TABLE IF NOT EXISTS sales_y%sm%s PARTITION OF sales FOR VALUES FROM (%s) TO (%s)',
   to_char(m AT TIME ZONE 'UTC', 'YYYY'), to_char(m AT TIME ZONE 'UTC', 'MM'), (extract(epoch FROM m) * 1000000)::bigint,
   (extract(epoch FROM m + interval '1 month') * 1000000)::bigint);
 END LOOP; END \$\$;
INSERT INTO stores SELECT 'B' || lpad(i::text, 3, '0'), '\\x00' FROM generate_series(1, $STORES) i;
ALTER TABLE ledger DISABLE TRIGGER ledger_rollup_ins;
INSERT INTO sales (store_id, terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents,
  points_earned, items, redeemed, type, return_of_terminal, return_of_seq, refund_cents)
 SELECT 'B' || lpad((1 + i % $STORES)::text, 3, '0'), 'T1', i, $T0 + (i::numeric * $SPAN / $N)::bigint,
  CASE WHEN h % 10 < 7 THEN (6000000000000000 + (h / 10) % $CARDS)::text END, 'EUR', 'card', v, 0, v, v / 100,
  jsonb_build_array(jsonb_build_object('gtin', lpad((h % 5000)::text, 14, '0'), 'qty', 1, 'price_cents', v, 'line_cents', v)),
  '[]', CASE WHEN h % 50 = 0 THEN 'return' ELSE 'sale' END, CASE WHEN h % 50 = 0 THEN 'T1' END,
  CASE WHEN h % 50 = 0 THEN greatest(i - 1000, 1) END, CASE WHEN h % 50 = 0 THEN v / 3 ELSE 0 END
 FROM (SELECT i, abs(hashint8(i)) AS h, 100 + abs(hashint8(-i)) % 8000 AS v FROM generate_series(1, $N) i) g;
INSERT INTO ledger (terminal_key, seq, kind, store_id, terminal, card, time_us, points)
 SELECT store_id || '/T1', seq, 'earn', store_id, 'T1', card, time_us, points_earned + 1 FROM sales
 WHERE card IS NOT NULL AND type = 'sale';
INSERT INTO accounts (card, points, change_serial, last_visit_us) SELECT card,
  CASE WHEN hashtext(card) % 100 = 0 THEN -sum(points) ELSE sum(points) END, nextval('account_serial'), max(time_us)
  FROM ledger GROUP BY card;
ALTER TABLE ledger ENABLE TRIGGER ledger_rollup_ins;
INSERT INTO events (store_id, terminal, seq, time_us, type, card, campaign, gtin, coupon, discount_cents, payload)
 SELECT 'B' || lpad((1 + j % $STORES)::text, 3, '0'), 'T1', j, $T0 + (j::numeric * $SPAN / ($N / 20))::bigint,
  CASE WHEN h % 10 = 0 THEN 'offer_held_back' WHEN h % 10 < 4 THEN 'offer_redeemed' ELSE 'offer_issued' END,
  (6000000000000000 + (h / 10) % $CARDS)::text, 'camp' || (j % 12), lpad((h % 5000)::text, 14, '0'), NULL,
  CASE WHEN h % 10 BETWEEN 1 AND 3 THEN 100 END, ''
 FROM (SELECT j, abs(hashint8(j * 7)) AS h FROM generate_series(1, $N / 20) j) g;
INSERT INTO upload_progress (store_id, terminal, kind, acked_seq) SELECT store_id, 'T1', 'sales', max(seq) FROM sales GROUP BY 1;
ANALYZE;
SQL
[ $? -eq 0 ] || { echo "not ok - generating the data"; exit 1; }
gen_s=$(echo "$(now) - $s" | bc)
s=$(now)
psql_q "SELECT rollup_rebuild()" >/dev/null || { echo "not ok - rollup_rebuild"; exit 1; }
psql_q "VACUUM ANALYZE" >/dev/null
reb_s=$(echo "$(now) - $s" | bc)
printf 'data generated in %.0f s; migration 7 back-fill (rollup_rebuild) %.0f s; %s\n' "$gen_s" "$reb_s" \
	"$(psql_q "SELECT 'rollup rows: ' || (SELECT count(*) FROM rollup_card) || ' cards, ' || (SELECT count(*) FROM rollup_rfm) || ' RFM cells, ' || (SELECT count(*) FROM rollup_conv) || ' conversion cells, ' || (SELECT count(*) FROM rollup_store_day) || ' store-days'")"

# ---- 1. page latency beside the naive query (the last 90 days of the data) ----
TO=$(( T0 + SPAN )); FROM=$(( TO - 90 * 86400 * 1000000 ))
"$BUILD/bench/bench_console" "$HQ_DB" "$FROM" "$TO" 30 3

# ---- 3. ingest with and without the rollups ----
HQ_PORT=$(free_port) POSMARK_HQ_ROLLUPS=on hq_start --workers 2; URL_ON=$HQ_URL
HQ_PORT=$(free_port); POSMARK_HQ_ROLLUPS=off hq_start --workers 2; URL_OFF=$HQ_URL
python3 - "$T" "$BATCHES" "$CARDS" "$(( $(date +%s) * 1000000 ))" <<'PY'
import gzip, json, sys
d, nb, cards, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per = 20000
for run in range(6):
    for b in range(nb):
        recs = []
        for k in range(per):
            seq = b * per + k + 1
            card = str(6000000000000000 + (seq * 7919 + run) % cards)
            spent = 100 if seq % 5 == 0 else 0
            ledger = ([{"kind": "spend", "points": -spent}] if spent else []) + [{"kind": "earn", "points": 12}]
            recs.append(json.dumps({"seq": seq, "time_us": now - (nb * per - seq) * 10000000, "card": card,
                "currency": "EUR", "tender": "card", "total_cents": 1204, "discount_cents": 0,
                "tendered_cents": 1204 - spent, "points_earned": 12, "items": [{"gtin": "0400638133393%d" % (seq % 10),
                "qty": 1, "price_cents": 400, "line_cents": 400}, {"gtin": "00000000000017", "qty": 2,
                "price_cents": 402, "line_cents": 804}], "redeemed": [], "type": "sale", "points_spent": spent,
                "point_value_cents": 1, "ledger": ledger}, separators=(",", ":")))
        hdr = json.dumps({"format": "posmark-batch", "version": 2, "kind": "sales", "store": "B001",
                          "terminal": "I%d" % run, "first_seq": b * per + 1, "last_seq": (b + 1) * per, "count": per})
        open("%s/in%d_%d.gz" % (d, run, b), "wb").write(gzip.compress((hdr + "\n" + "\n".join(recs) + "\n").encode()))
PY
cred=$("$POSMARK_HQ" store add B001 --db "$HQ_DB")
ingest() { # URL RUN: seconds for the run's batches
	local s0 b; s0=$(now)
	for ((b = 0; b < BATCHES; b++)); do
		curl -sf -o /dev/null -H "X-Posmark-Store: B001" -H "Authorization: Bearer $cred" \
			-H "Content-Type: application/gzip" --data-binary @"$T/in$2_$b.gz" "$1/v1/batches" || echo "not ok - batch refused"
	done
	echo "$(now) - $s0" | bc
}
on=() off=()
for r in 0 1 2; do
	off+=("$(ingest "$URL_OFF" $((2 * r)))")
	on+=("$(ingest "$URL_ON" $((2 * r + 1)))")
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
python3 - "$(med "${on[@]}")" "$(med "${off[@]}")" "$BATCHES" <<'PY'
import sys
on, off, nb = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
n = nb * 20000
print("ingest, %d sales in batches of 20,000 (v2, ledger entries), median of 3:" % n)
print("  with rollups    %8.0f sales/s" % (n / on))
print("  without         %8.0f sales/s (POSMARK_HQ_ROLLUPS=off)" % (n / off))
print("  ratio           %8.2fx (target >= 0.8x)" % (off / on))
PY
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
# POSMARK_HQ_INGEST_TIMES=1 POSMARK_DEBUG=2: where each batch's time went (hq_db.c's step timers)
if [ "${POSMARK_HQ_INGEST_TIMES:-}" = 1 ]; then
	grep -h "steps (ms)" "$HQ_TMP/hq.log" | sed 's/^.*batch /  batch /'
	grep -h "rollup statement" "$HQ_TMP/hq.log" | python3 -c '
import re, statistics, sys
d = {}
for l in sys.stdin:
    m = re.search(r"rollup statement (\d+): ([0-9.]+) ms: (.*)", l)
    if m: d.setdefault(int(m.group(1)), (m.group(3)[:60], []))[1].append(float(m.group(2)))
for k in sorted(d): print("  rollup statement %2d  median %7.1f ms  max %7.1f ms  %s" % (k, statistics.median(d[k][1]), max(d[k][1]), d[k][0]))'
	# the per-card part (hq_rollup_cards.c): old rows read, new ones computed, written
	grep -h "rollup cards:" "$HQ_TMP/hq.log" | sed 's/^.*rollup cards/  rollup cards/'
	grep -h "accounts: .* cards (" "$HQ_TMP/hq.log" | sed 's/^.*accounts: /  accounts: /'
fi
