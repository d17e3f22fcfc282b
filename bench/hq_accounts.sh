#!/usr/bin/env bash
# bench/hq_accounts.sh - the chain account at HQ (docs/accounts.md), each
# figure beside its floor from the same run (docs/benchmarks.md):
#  1. ingest of v2 batches with ledger entries (HTTP -> posmark-hq -> COPY of
#     sales and ledger + the accounts update, one transaction per batch)
#     beside psql \copy of the same sales and ledger rows (target >= 0.7x);
#  2. `posmark-hq card CARD --json` p99 with CARDS accounts and ENTRIES ledger
#     entries (target < 10 ms; the whole command: start, connect, query, print)
#     beside its floor (bench_pq_floor: libpq alone, a new connection, SELECT 1)
#     and the statement on an open connection; through pgbouncer if installed;
#     and answered by a running serve over its admin socket (hq_admin_sock.c),
#     the command as an operator runs it at HQ, where serve runs;
#  3. the downlink: the N changed accounts (each with a sale: spend and
#     bought are computed) of one store through GET /v1/accounts (pages of
#     5000), seconds and bytes per account, beside psql \copy of the same
#     rows with the same content (target within 2x).
# Full size: 1,000,000 cards, 10,000,000 entries, 100,000 accounts down;
# BENCH_QUICK=1 scales to 100,000 / 1,000,000 / 20,000 and says so.
# PostgreSQL runs with its default durability settings (fsync on).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD" POSMARK_HQ_CONFIG=none
. tests/integration/lib/hq_env.bash
. bench/hq_rows.bash
trap hq_cleanup EXIT
if [ -n "${BENCH_QUICK:-}" ]; then
	N=20000 CARDS=100000 ENTRIES=1000000 LOOKUPS=200 SCALE="scaled down (BENCH_QUICK)"
else
	N=100000 CARDS=1000000 ENTRIES=10000000 LOOKUPS=1000 SCALE="full size"
fi
T=$HQ_TMP
now() { date +%s.%N; }
pg_start
hq_start --workers 4
cred=$("$POSMARK_HQ" store add B1 --db "$HQ_DB")
NOWUS=$(($(date +%s) * 1000000))

# ---- 1. ingest with ledger entries ----
python3 - "$T" "$N" "$NOWUS" <<'PY'
import gzip, json, sys
d, n, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = 20000
for b in range(0, n, per):
    recs = []
    for seq in range(b + 1, min(n, b + per) + 1):
        card = "7%012d" % seq
        spent = 100 if seq % 5 == 0 else 0
        ledger = ([{"kind": "spend", "points": -spent}] if spent else []) + [{"kind": "earn", "points": 12}]
        recs.append(json.dumps({"seq": seq, "time_us": now - (n - seq) * 1000000, "card": card, "currency": "EUR",
            "tender": "card", "total_cents": 1204, "discount_cents": 0, "tendered_cents": 1204 - spent,
            "points_earned": 12, "items": [{"gtin": "0400638133393%d" % (seq % 10), "qty": 1, "price_cents": 400,
            "line_cents": 400}, {"gtin": "00000000000017", "qty": 2, "price_cents": 402, "line_cents": 804}],
            "redeemed": [], "type": "sale", "points_spent": spent, "point_value_cents": 1, "ledger": ledger},
            separators=(",", ":")))
    first, last = b + 1, b + len(recs)
    for term, name in (("T1", "batch"), ("T2", "known")):  # T2: the same cards again, known to HQ by then
        head = json.dumps({"format": "posmark-batch", "version": 2, "kind": "sales", "store": "B1", "terminal": term,
                           "first_seq": first, "last_seq": last, "count": len(recs)})
        open("%s/%s%06d.gz" % (d, name, first), "wb").write(gzip.compress((head + "\n" + "\n".join(recs) + "\n").encode(), 4))
PY
t0=$(now)
for f in "$T"/batch*.gz; do
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "X-Posmark-Store: B1" -H "Authorization: Bearer $cred" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$f" "$HQ_URL/v1/batches")
	[ "$code" = 200 ] || { echo "warning: batch $f answered $code: $(cat "$T/resp")"; }
done
t1=$(now)
# the same sales from a second terminal: every card known (one vault probe each, no new row)
for f in "$T"/known*.gz; do
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "X-Posmark-Store: B1" -H "Authorization: Bearer $cred" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$f" "$HQ_URL/v1/batches")
	[ "$code" = 200 ] || { echo "warning: batch $f answered $code: $(cat "$T/resp")"; }
done
t1k=$(now)
psql_q "DELETE FROM ledger WHERE store_id = 'B1' AND terminal = 'T2'; DELETE FROM sales WHERE store_id = 'B1' AND terminal = 'T2';
	UPDATE accounts a SET points = (SELECT coalesce(sum(points), 0) FROM ledger l WHERE l.card = a.card)" >/dev/null
entries=$(psql_q "SELECT count(*) FROM ledger WHERE store_id = 'B1'")
psql_q "\\copy (SELECT 'C1', terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed, type, return_of_terminal, return_of_seq, points_spent, point_value_cents, refund_cents FROM sales WHERE store_id = 'B1') TO '$T/sales.tsv'"
psql_q "\\copy (SELECT 'C1/T1', seq, kind, 'C1', terminal, card, time_us, points, reason FROM ledger WHERE store_id = 'B1') TO '$T/ledger.tsv'"
t2=$(now)
psql_q "\\copy sales (store_id, terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed, type, return_of_terminal, return_of_seq, points_spent, point_value_cents, refund_cents) FROM '$T/sales.tsv'"
psql_q "\\copy ledger (terminal_key, seq, kind, store_id, terminal, card, time_us, points, reason) FROM '$T/ledger.tsv'"
t3=$(now)
ING=$(python3 -c "print(round($N / ($t1 - $t0)))")
INGK=$(python3 -c "print(round($N / ($t1k - $t1)))")
FLOOR=$(python3 -c "print(round($N / ($t3 - $t2)))")
consistent=$(psql_q "SELECT count(*) FROM accounts a WHERE points <> (SELECT coalesce(sum(points), 0) FROM ledger l WHERE l.card = a.card AND l.store_id = 'B1')")

# ---- 2. posmark-hq card p99 over CARDS accounts and ENTRIES entries ----
t4=$(now)
hq_rows_cards_and_entries "$CARDS" "$ENTRIES" "$NOWUS" "$T"   # bench/hq_rows.bash
t5=$(now)
# The floor: a process with libpq alone (bench/bench_pq_floor.c) opening a new connection,
# as posmark-hq does to a server on this machine (no TLS or GSS request), and running SELECT 1.
FLOORBIN="$POSMARK_BUILD/bench/bench_pq_floor"
[ -x "$FLOORBIN" ] || make -s "$BUILD/bench/bench_pq_floor" >/dev/null ||
	{ echo "not ok - bench_pq_floor (make bench builds it)"; exit 1; }
# Where pgbouncer is installed (optional; docs/benchmarks.md), `card` also runs through one in
# transaction mode in front of the same PostgreSQL: no backend start per call, warm catalogs.
POOL_DB=
PGB=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null)
if [ -n "$PGB" ]; then
	PGB_PORT=$(free_port)
	mkdir -p "$T/pgb"
	printf '[databases]\npostgres = host=127.0.0.1 port=%s dbname=postgres user=postgres\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %s\nunix_socket_dir =\nauth_type = trust\nauth_file = %s\npool_mode = transaction\ndefault_pool_size = 4\nignore_startup_parameters = options\nlogfile = %s\npidfile = %s\n' \
		"$PG_PORT" "$PGB_PORT" "$T/pgb/users" "$T/pgb/log" "$T/pgb/pid" >"$T/pgb/pgbouncer.ini"
	echo '"postgres" ""' >"$T/pgb/users"
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$T/pgb"
	trap '[ -s "$T/pgb/pid" ] && kill "$(cat "$T/pgb/pid")" 2>/dev/null; hq_cleanup' EXIT
	as_pg "$PGB" -d "$T/pgb/pgbouncer.ini" >/dev/null 2>&1 && sleep 0.5 &&
		POOL_DB="host=127.0.0.1 port=$PGB_PORT user=postgres dbname=postgres"
fi
# The resident path: a serve with the admin socket (a second one, so section 3's stays as it is);
# `card --admin-socket` asks it first. Its runs are interleaved with the pairs below.
mkdir -m 0750 "$T/run"
ADMIN_SOCK=$T/run/admin.sock
"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$(free_port)" --admin-socket "$ADMIN_SOCK" 2>>"$T/hq2.log" &
HQ_PIDS+=("$!")
for _ in $(seq 1 100); do [ -S "$ADMIN_SOCK" ] && break; sleep 0.1; done
# A fresh process per call, exec to exit, as a user's shell runs it. Each `card` call is paired
# with a floor call right after or before it (the order alternates), so both see the same load;
# /bin/true is the harness's own cost, in every figure.
python3 - "$POSMARK_HQ" "$HQ_DB" "$CARDS" "$LOOKUPS" "$T/card_times" "$FLOORBIN" "$POOL_DB" "$ADMIN_SOCK" <<'PY'
import os, random, subprocess, sys, time
hq, db, cards, n, out, floor = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
pool, sock = sys.argv[7], sys.argv[8]
random.seed(7)
# the resident path must really be taken (else it would measure the fallback)
probe = subprocess.run([hq, "card", "8000000000000", "--db", db, "--json", "--admin-socket", sock],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, POSMARK_DEBUG="3"))
if b"answered by serve" not in probe.stderr:
    sys.exit("card --admin-socket was not answered by serve: " + probe.stderr.decode()[:300])
def run(argv, check):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t = (time.perf_counter() - t0) * 1000
    if r.returncode != 0 or check not in r.stdout:
        sys.exit("%s: exit %d: %s" % (" ".join(argv[:2]), r.returncode, r.stderr.decode()[:200]))
    return t
card_t, floor_t, pool_t, sock_t = [], [], [], []
for i in range(n):
    card = [hq, "card", str(8000000000000 + random.randrange(cards)), "--db", db, "--json"]
    fl = [floor, db + " sslmode=disable gssencmode=disable"]
    if i % 2:
        floor_t.append(run(fl, b"1")); card_t.append(run(card, b'"ledger"'))
    else:
        card_t.append(run(card, b'"ledger"')); floor_t.append(run(fl, b"1"))
    if pool:
        pool_t.append(run(card[:4] + [pool, "--json"], b'"ledger"'))
    sock_t.append(run(card + ["--admin-socket", sock], b'"ledger"'))
start_t = [run([hq, "--version"], b"posmark-hq") for _ in range(100)]
true_t = [run(["/bin/true"], b"") for _ in range(100)]
p50 = lambda v: sorted(v)[len(v) // 2]
p99 = lambda v: sorted(v)[int(len(v) * 0.99) - 1]
c50, c99, f50, f99 = p50(card_t), p99(card_t), p50(floor_t), p99(floor_t)
open(out, "w").write("%.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f" % (c50, c99, max(card_t), f50, f99,
    c50 / f50, c99 / f99, p50(start_t), p50(true_t)))
open(out + ".pool", "w").write("%.2f %.2f %.2f %.2f" % (p50(pool_t), p99(pool_t), p50(pool_t) / c50, p99(pool_t) / c99)
                               if pool_t else "")
open(out + ".sock", "w").write("%.2f %.2f %.2f %.2f %.2f %.2f %.2f" % (p50(sock_t), p99(sock_t), max(sock_t),
    p50(sock_t) / f50, p99(sock_t) / f99, p50(sock_t) / c50, p99(sock_t) / c99))
PY
read -r C50 C99 CMAX F50 F99 R50 R99 START TRUE50 <"$T/card_times"
read -r P50 P99 PR50 PR99 <"$T/card_times.pool"
read -r K50 K99 KMAX KF50 KF99 KC50 KC99 <"$T/card_times.sock"
LOAD_CARD=$(cut -d' ' -f1-3 /proc/loadavg)
# the same lookup's statements alone (what the command sends on an open connection: the
# vault lookup by a keyed hash, then the account), to tell the database's share from the
# process start and connection
cat >"$T/card.sql" <<SQL
\set c random(0, $((CARDS - 1)))
SELECT ref FROM card_vault WHERE lookup = (SELECT lookup FROM card_vault v JOIN bench_refs r ON r.card = v.ref WHERE r.i = :c);
SELECT a.points, l.time_us, l.store_id, l.terminal, l.seq, l.kind, l.points,
  (SELECT coalesce(sum(total_cents), 0) FROM sales s WHERE s.card = (SELECT card FROM bench_refs WHERE i = :c))
  FROM accounts a LEFT JOIN ledger l ON l.card = a.card WHERE a.card = (SELECT card FROM bench_refs WHERE i = :c)
  ORDER BY l.time_us, l.terminal_key, l.seq;
SQL
(cd "$T" && "$PGBIN/pgbench" -n -f card.sql -t "$LOOKUPS" -c 1 --log --log-prefix=card "$HQ_DB" >/dev/null 2>&1)
S99=$(cat "$T"/card.* 2>/dev/null | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {if (NR) printf "%.2f", v[int(NR*0.99)]/1000; else print "n/a"}')
S50=$(cat "$T"/card.* 2>/dev/null | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {if (NR) printf "%.2f", v[int(NR*0.5)]/1000; else print "n/a"}')

# ---- 3. the downlink: the N accounts store B1 knows (one sale each in the window, so
# every line carries spend and bought), all changed since cursor 0 ----
DOWN=$N
psql_q "ANALYZE store_cards; ANALYZE accounts; ANALYZE sales" >/dev/null
cur=0
t6=$(now)
pages=0 bytes=0 got=0 more=true
while [ "$more" = true ]; do
	curl -s -o "$T/page.gz" -H "X-Posmark-Store: B1" -H "Authorization: Bearer $cred" -H "X-Posmark-Terminal: T1" \
		"$HQ_URL/v1/accounts?after=$cur&limit=5000"
	# the header's cursor, more and count (bash's own regex: no interpreter start per page)
	hdr=$(gzip -dc "$T/page.gz" | head -1)
	[[ $hdr =~ \"next\":([0-9]+),\"more\":(true|false),\"count\":([0-9]+) ]] || { echo "not ok - page header: $hdr"; exit 1; }
	cur=${BASH_REMATCH[1]} more=${BASH_REMATCH[2]} n=${BASH_REMATCH[3]}
	bytes=$((bytes + $(stat -c %s "$T/page.gz"))); got=$((got + n)); pages=$((pages + 1))
done
t7=$(now)
# the same rows with the same content (spend and bought of the tier window) in one \copy
W=$((NOWUS - 365 * 86400 * 1000000))
psql_q "\\copy (WITH p AS (SELECT k.card, a.points, k.change_serial, a.erased, a.last_visit_us, a.tier_floor, coalesce(c.consent, 'unknown') AS consent, coalesce(c.consent_changed_us, 0) AS cc, v.wrapped_key, v.sealed FROM store_cards k JOIN accounts a ON a.card = k.card LEFT JOIN cards c ON c.card = k.card LEFT JOIN card_vault v ON v.ref = k.card WHERE k.store_id = 'B1'), s AS MATERIALIZED (SELECT card, type, refund_cents, total_cents, points_spent, point_value_cents, items FROM sales WHERE card IN (SELECT card FROM p) AND time_us >= $W), sp AS (SELECT card, sum(CASE WHEN type = 'return' THEN -refund_cents ELSE total_cents - points_spent * point_value_cents END) AS spend FROM s GROUP BY card), it AS (SELECT s.card, i.gtin, sum(i.qty) AS q FROM s CROSS JOIN jsonb_to_recordset(s.items) AS i(gtin text, qty int) GROUP BY 1, 2), bo AS (SELECT card, string_agg(gtin, ',' ORDER BY q DESC) AS bought FROM it GROUP BY card) SELECT p.*, coalesce(sp.spend, 0), coalesce(bo.bought, '') FROM p LEFT JOIN sp ON sp.card = p.card LEFT JOIN bo ON bo.card = p.card ORDER BY p.change_serial) TO '$T/down.tsv'"
t8=$(now)
copybytes=$(stat -c %s "$T/down.tsv")
[ "$got" = "$DOWN" ] || echo "warning: the pull gave $got of $DOWN accounts"

echo "chain account at HQ, $SCALE (PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), loopback, fsync on):"
printf '  ingest v2, %d sales + %d ledger entries  %9d sales/s\n' "$N" "$entries" "$ING"
printf '  floor: psql \\copy of the same sales + ledger rows  %9d sales/s   ratio %.2fx (target >= 0.7)\n' "$FLOOR" "$(python3 -c "print($ING/$FLOOR)")"
printf '    (every card new to HQ: a vault row each, docs/privacy.md); the same sales from a second terminal,\n'
printf '    every card known: %d sales/s   ratio %.2fx of the floor\n' "$INGK" "$(python3 -c "print($INGK/$FLOOR)")"
printf '  balances = sum of entries after ingest: %s\n' "$([ "$consistent" = 0 ] && echo yes || echo "NO ($consistent differ)")"
printf '  posmark-hq card --json, %d accounts, %d entries: p50 %.2f ms  p99 %.2f ms  max %.2f ms (%d runs; target p99 < 10 ms; rows made in %.0f s)\n' \
	"$CARDS" "$ENTRIES" "$C50" "$C99" "$CMAX" "$LOOKUPS" "$(python3 -c "print($t5-$t4)")"
printf '  floor: a libpq-only process, new connection + SELECT 1 (bench_pq_floor, paired runs)  p50 %.2f ms  p99 %.2f ms   ratio p50 %.2fx  p99 %.2fx\n' \
	"$F50" "$F99" "$R50" "$R99"
printf '  the statement alone on an open connection (pgbench)  p50 %s ms  p99 %s ms   ratio p50 %sx  p99 %sx\n' \
	"$S50" "$S99" "$(python3 -c "print('%.1f' % ($C50/$S50))" 2>/dev/null || echo n/a)" \
	"$(python3 -c "print('%.1f' % ($C99/$S99))" 2>/dev/null || echo n/a)"
printf '  posmark-hq card --json answered by the running serve (admin socket, same runs)  p50 %.2f ms  p99 %.2f ms  max %.2f ms   ratio to floor p50 %.2fx  p99 %.2fx; to direct p50 %.2fx  p99 %.2fx (the target is judged on this line)\n' \
	"$K50" "$K99" "$KMAX" "$KF50" "$KF99" "$KC50" "$KC99"
if [ -n "${P50:-}" ]; then
	printf '  posmark-hq card --json through pgbouncer (transaction mode, same runs)  p50 %.2f ms  p99 %.2f ms   ratio to direct p50 %.2fx  p99 %.2fx\n' \
		"$P50" "$P99" "$PR50" "$PR99"
else
	echo "  posmark-hq card --json through pgbouncer: not measured (pgbouncer not installed, or it did not start; optional)"
fi
printf '    process start alone (posmark-hq --version) p50 %s ms; the harness itself (/bin/true) p50 %s ms, in every figure\n' \
	"$START" "$TRUE50"
printf '    load average after the card runs: %s, at the end: %s (the machine is shared; figures scale with it)\n' "$LOAD_CARD" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  downlink, %d changed accounts to one store: %.2f s, %.1f bytes/account gzip, %d pages\n' "$got" \
	"$(python3 -c "print($t7-$t6)")" "$(python3 -c "print($bytes/max($got,1))")" "$pages"
printf '  floor: psql \\copy of the same rows  %.2f s, %.1f bytes/account (text)   ratio %.2fx of floor time (target <= 2)\n' \
	"$(python3 -c "print($t8-$t7)")" "$(python3 -c "print($copybytes/max($got,1))")" "$(python3 -c "print(($t7-$t6)/($t8-$t7))")"
