#!/usr/bin/env bash
# bench/hq_ingest_ab.sh - issue 15: HQ's batch ingest with the card vault (B: this build) beside the
# same ingest before the vault (A: the parent of the commit that added hq/hq_vault.c, built in a
# scratch worktree), paired: the same batches through both binaries, each run into a fresh database
# (its own key file), alternating A/B/A/B, median of RUNS (>= 3) each; load printed.
#  - worst case: every sale a card new to HQ (a vault row each);
#  - typical case: 90% of the sales' cards already known to HQ (loaded by an untimed first pass
#    from another terminal), 10% new.
# B runs with POSMARK_HQ_ROLLUPS=off (the console's rollups came after the vault and are measured
#   against their own baseline in bench/console.sh), so the difference is the vault's.
# POSMARK_HQ_BASE=path/to/posmark-hq: use that binary as A instead of building it.
# Sizes: N sales in batches of 20,000 (v2, ledger entries); BENCH_QUICK=1: 40,000, else 200,000.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD" POSMARK_HQ_CONFIG=none
. tests/integration/lib/hq_env.bash
if [ -n "${BENCH_QUICK:-}" ]; then N=${N:-40000} SCALE="scaled down (BENCH_QUICK)"; else N=${N:-200000} SCALE="full size"; fi
RUNS=${RUNS:-3}
T=$HQ_TMP
BASE_WT=
cleanup() {
	hq_cleanup
	[ -n "$BASE_WT" ] && git worktree remove --force "$BASE_WT" >/dev/null 2>&1
}
trap cleanup EXIT
B_BIN=$POSMARK_HQ
A_BIN=${POSMARK_HQ_BASE:-}
if [ -z "$A_BIN" ]; then
	first=$(git log --format=%H --diff-filter=A -- hq/hq_vault.c | tail -n 1)
	[ -n "$first" ] || { echo "# hq_ingest_ab: no git history of hq/hq_vault.c (not a git checkout?); skipped"; exit 0; }
	BASE_WT=$(mktemp -d /tmp/posmark-prevault-XXXXXX)
	rmdir "$BASE_WT"
	git worktree add --detach "$BASE_WT" "$first^" >/dev/null 2>&1 || { echo "not ok - worktree of $first^"; exit 1; }
	make -s -C "$BASE_WT" -j2 >"$T/base-build.log" 2>&1 || { echo "not ok - building $first^"; tail "$T/base-build.log"; exit 1; }
	A_BIN=$BASE_WT/build/normal/bin/posmark-hq
	A_NAME="$(git log -1 --format='%h' "$first^") (parent of $(git log -1 --format=%h "$first"), the vault's first commit)"
else
	A_NAME=$A_BIN
fi
pg_start
NOWUS=$(($(date +%s) * 1000000))
python3 - "$T" "$N" "$NOWUS" <<'PY'
import gzip, json, sys
d, n, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = 20000
def sale(seq, card, t):
    spent = 100 if seq % 5 == 0 else 0
    ledger = ([{"kind": "spend", "points": -spent}] if spent else []) + [{"kind": "earn", "points": 12}]
    return json.dumps({"seq": seq, "time_us": t, "card": card, "currency": "EUR", "tender": "card",
        "total_cents": 1204, "discount_cents": 0, "tendered_cents": 1204 - spent, "points_earned": 12,
        "items": [{"gtin": "0400638133393%d" % (seq % 10), "qty": 1, "price_cents": 400, "line_cents": 400},
                  {"gtin": "00000000000017", "qty": 2, "price_cents": 402, "line_cents": 804}],
        "redeemed": [], "type": "sale", "points_spent": spent, "point_value_cents": 1, "ledger": ledger},
        separators=(",", ":"))
def write(name, term, first, recs):
    head = json.dumps({"format": "posmark-batch", "version": 2, "kind": "sales", "store": "B1", "terminal": term,
                       "first_seq": first, "last_seq": first + len(recs) - 1, "count": len(recs)})
    open("%s/%s%07d.gz" % (d, name, first), "wb").write(gzip.compress((head + "\n" + "\n".join(recs) + "\n").encode(), 4))
for b in range(0, n, per):
    seqs = range(b + 1, min(n, b + per) + 1)
    # worst: every card new
    write("new", "T1", b + 1, [sale(s, "7%012d" % s, now - (n - s) * 1000000) for s in seqs])
    # typical: the known cards first, from another terminal (untimed), then 9 in 10 of them again
    write("pre", "P1", b + 1, [sale(s, "5%012d" % s, now - (n - s) * 1000000) for s in seqs])
    write("typ", "T1", b + 1, [sale(s, ("5%012d" % ((s * 7919) % n + 1)) if s % 10 else "6%012d" % s,
                                    now - (n - s) * 1000000 + 1) for s in seqs])
PY
# run BIN CASE: seconds for the case's timed batches into a fresh database
run() {
	local bin=$1 case=$2 t0 t1 f code k
	k=$(($(cat "$T/runs" 2>/dev/null || echo 0) + 1)) # run is called in $(...): the count lives in a file
	echo "$k" >"$T/runs"
	psql_q "CREATE DATABASE ab$k" >/dev/null
	local db="host=127.0.0.1 port=$PG_PORT user=postgres dbname=ab$k" port
	port=$(free_port)
	export POSMARK_HQ_CARD_KEY="$T/key$k"
	"$bin" migrate --db "$db" >/dev/null 2>&1
	local cred; cred=$("$bin" store add B1 --db "$db")
	POSMARK_HQ_ROLLUPS=off "$bin" serve --db "$db" --listen "127.0.0.1:$port" 2>>"$T/hq$k.log" &
	local pid=$!
	for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v1/health" && break; sleep 0.1; done
	post() {
		code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "X-Posmark-Store: B1" -H "Authorization: Bearer $cred" \
			-H 'Content-Type: application/octet-stream' --data-binary @"$1" "http://127.0.0.1:$port/v1/batches")
		[ "$code" = 200 ] || echo "warning: $1 answered $code: $(cat "$T/resp")" >&2
	}
	if [ "$case" = typ ]; then for f in "$T"/pre*.gz; do post "$f"; done; fi
	t0=$(date +%s.%N)
	for f in "$T/$case"*.gz; do post "$f"; done
	t1=$(date +%s.%N)
	kill "$pid"; wait "$pid" 2>/dev/null
	[ -n "${AB_LOGS:-}" ] && cp "$T/hq$k.log" "$AB_LOGS/" 2>/dev/null
	psql_q "DROP DATABASE ab$k" >/dev/null
	python3 -c "print($t1 - $t0)"
}
declare -A res
for case in new typ; do
	for ((r = 0; r < RUNS; r++)); do
		res[$case,A]+="$(run "$A_BIN" $case) "
		res[$case,B]+="$(run "$B_BIN" $case) "
	done
done
echo "== HQ ingest before/after the card vault, $N sales in batches of 20,000 (v2, ledger entries), $SCALE"
echo "   A = $A_NAME; B = this build (POSMARK_HQ_ROLLUPS=off); fresh database per run, A/B alternating"
for case in new typ; do
	python3 - "$N" "$case" "${res[$case,A]}" "${res[$case,B]}" <<'PY'
import sys, statistics
n, case = int(sys.argv[1]), sys.argv[2]
a = [float(x) for x in sys.argv[3].split()]
b = [float(x) for x in sys.argv[4].split()]
ma, mb = statistics.median(a), statistics.median(b)
name = {"new": "worst case, every card new", "typ": "typical, 90% of cards known"}[case]
print("  %-30s A %8.0f sales/s  B %8.0f sales/s  B/A %.2fx  (runs A %s, B %s s)" % (name, n / ma, n / mb, ma / mb,
      " ".join("%.2f" % x for x in a), " ".join("%.2f" % x for x in b)))
PY
done
echo "  load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared)"
