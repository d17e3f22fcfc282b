#!/usr/bin/env bash
# bench/hostsync.sh - end-to-end ingest, terminal log -> PostgreSQL rows on
# loopback (posmark sync -> posmark-hq -> COPY), against the floor (psql
# \copy of the same rows into the same table) and the naive receiver (one
# INSERT per sale, each its own transaction). Also the batches' compression
# ratio and 4 stores uploading at once. Medians of REPS runs.
# PostgreSQL runs with its default durability settings (fsync on).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK="$PWD/$BUILD/bin/posmark" POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD"
[ -x "$POSMARK_BUILD/tests/test_hostsync" ] || make -s tests >/dev/null
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
if [ -n "${BENCH_QUICK:-}" ]; then N=20000; NAIVE=1000; REPS=1; else N=100000; NAIVE=5000; REPS=3; fi
T=$HQ_TMP
now() { date +%s.%N; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
rate() { python3 -c "print(round($1 / ($3 - $2)))"; }

pg_start
hq_start --workers 4
cols="store_id, terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed"
"$POSMARK_BUILD/tests/test_hostsync" gen "$T/pristine" "$N" T1 0 >/dev/null
for q in 1 2 3 4; do "$POSMARK_BUILD/tests/test_hostsync" gen "$T/quarter$q" $((N / 4)) T1 0 >/dev/null; done

e2e=() ratio=() copy=() naive=() conc=()
for r in $(seq 1 "$REPS"); do
	# end to end: a fresh store with the whole log unacknowledged
	cred=$("$POSMARK_HQ" store add "E$r" --db "$HQ_DB")
	rm -rf "$T/d"; cp -r "$T/pristine" "$T/d"
	terminal_config "$T/c" "$T/d" "E$r" "$cred"
	t0=$(now); out=$("$POSMARK" sync --config "$T/c" --once --json); t1=$(now)
	got=$(psql_q "SELECT count(*) FROM sales WHERE store_id = 'E$r'")
	[ "$got" = "$N" ] || echo "warning: HQ holds $got of $N sales"
	e2e+=("$(rate "$N" "$t0" "$t1")")
	ratio+=("$(echo "$out" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(round(d["bytes_raw"]/d["bytes_sent"],2))')")
	# the floor: the same rows through psql \copy into the same table
	psql_q "\\copy (SELECT 'C$r', terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed FROM sales WHERE store_id = 'E$r') TO '$T/rows.tsv'"
	t0=$(now); psql_q "\\copy sales ($cols) FROM '$T/rows.tsv'"; t1=$(now)
	copy+=("$(rate "$N" "$t0" "$t1")")
	# naive: one INSERT per sale, autocommit (first NAIVE rows)
	psql_q "SELECT format('INSERT INTO sales ($cols) VALUES (%L,%L,%s,%s,%L,%L,%L,%s,%s,%s,%s,%L,%L);', 'N$r', terminal, seq, time_us, card, currency, tender, total_cents, discount_cents, tendered_cents, points_earned, items, redeemed) FROM sales WHERE store_id = 'E$r' ORDER BY seq LIMIT $NAIVE" >"$T/naive.sql"
	t0=$(now); psql -X -q -v ON_ERROR_STOP=1 "$HQ_DB" -f "$T/naive.sql" >/dev/null; t1=$(now)
	naive+=("$(rate "$NAIVE" "$t0" "$t1")")
	# 4 stores uploading at once (N/4 sales each)
	pids=()
	for q in 1 2 3 4; do
		cq=$("$POSMARK_HQ" store add "Q$r$q" --db "$HQ_DB")
		rm -rf "$T/q$q"; cp -r "$T/quarter$q" "$T/q$q"
		terminal_config "$T/cq$q" "$T/q$q" "Q$r$q" "$cq"
	done
	t0=$(now)
	for q in 1 2 3 4; do "$POSMARK" sync --config "$T/cq$q" --once >/dev/null & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p"; done
	t1=$(now)
	got=$(psql_q "SELECT count(*) FROM sales WHERE store_id LIKE 'Q$r%'")
	[ "$got" = "$((N / 4 * 4))" ] || echo "warning: HQ holds $got of $((N / 4 * 4)) concurrent sales"
	conc+=("$(rate "$((N / 4 * 4))" "$t0" "$t1")")
done
E=$(median "${e2e[@]}"); C=$(median "${copy[@]}"); I=$(median "${naive[@]}"); R=$(median "${ratio[@]}"); Q=$(median "${conc[@]}")
echo "hostsync ingest, $N sales per run, median of $REPS (PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), loopback, fsync on):"
printf '  end-to-end sync -> HQ -> PostgreSQL  %10.0f sales/s\n' "$E"
printf '  floor: psql \\copy of the same rows   %10.0f sales/s   ratio %.2fx of floor (target >= 0.5)\n' "$C" "$(python3 -c "print($E/$C)")"
printf '  naive: one INSERT per sale (%d)     %10.0f sales/s   posmark is %.1fx (target >= 20)\n' "$NAIVE" "$I" "$(python3 -c "print($E/$I)")"
printf '  compression of the batches           %10.2f : 1     (target >= 6)\n' "$R"
printf '  4 stores uploading at once            %10.0f sales/s   %.2fx of one store\n' "$Q" "$(python3 -c "print($Q/$E)")"
echo "  runs: e2e ${e2e[*]} | copy ${copy[*]} | naive ${naive[*]} | 4 stores ${conc[*]}"
