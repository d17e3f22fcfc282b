#!/usr/bin/env bash
# bench/hq_card_front.sh - issue 13's `posmark-hq card CARD --json` p99 (target < 10 ms) with
# CARDS accounts and ENTRIES ledger entries, answered by a running serve over its admin socket,
# each figure beside its baselines from the same runs (docs/benchmarks.md):
#  - the front: bin/posmark-hq (hq_front_main.c: libc + libsodium) answering by itself;
#  - the old path: the full program (posmark-hq-main, libpq, GnuTLS via libmicrohttpd and
#    libldap) asking the same socket: what `posmark-hq card` was before the front;
#  - the floors: bench_sock_floor (a libc-only process: connect, one request, the reply: serve
#    answers OTHER without the database) and /bin/true (exec to exit: the harness's own cost).
# A fresh process per call, exec to exit, as a user's shell runs it; in each round every card
# is asked by the four in a shuffled order, so all see the same load. ROUNDS rounds of LOOKUPS
# calls each; p50 and p99 per round, and the median of the rounds.
# Full size: 1,000,000 cards, 10,000,000 entries; BENCH_QUICK=1: 100,000 / 1,000,000 (says so).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq" POSMARK_BUILD="$PWD/$BUILD" POSMARK_HQ_CONFIG=none
. tests/integration/lib/hq_env.bash
. bench/hq_rows.bash
trap hq_cleanup EXIT
if [ -n "${BENCH_QUICK:-}" ]; then
	CARDS=${CARDS:-100000} ENTRIES=${ENTRIES:-1000000} LOOKUPS=${LOOKUPS:-300} ROUNDS=${ROUNDS:-3} SCALE="scaled down (BENCH_QUICK)"
else
	CARDS=${CARDS:-1000000} ENTRIES=${ENTRIES:-10000000} LOOKUPS=${LOOKUPS:-1000} ROUNDS=${ROUNDS:-3} SCALE="full size"
fi
T=$HQ_TMP
MAIN=$PWD/$BUILD/bin/posmark-hq-main
FLOORBIN=$PWD/$BUILD/bench/bench_sock_floor
[ -x "$FLOORBIN" ] || make -s "$BUILD/bench/bench_sock_floor" >/dev/null || { echo "not ok - bench_sock_floor"; exit 1; }
pg_start
NOWUS=$(($(date +%s) * 1000000))
t0=$(date +%s.%N)
hq_rows_cards_and_entries "$CARDS" "$ENTRIES" "$NOWUS" "$T"   # bench/hq_rows.bash
t1=$(date +%s.%N)
mkdir -m 0750 "$T/run"
S=$T/run/admin.sock
hq_start --admin-socket "$S"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$POSMARK_HQ" "$MAIN" "$FLOORBIN" "$HQ_DB" "$S" "$CARDS" "$LOOKUPS" "$ROUNDS" "$T/times" <<'PY'
import os, random, statistics, subprocess, sys, time
front, main, floor, db, sock, cards, n, rounds, out = sys.argv[1:6] + [int(x) for x in sys.argv[6:9]] + [sys.argv[9]]
random.seed(13)
def run(argv, check, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    t = (time.perf_counter() - t0) * 1000
    if r.returncode != 0 or check not in r.stdout:
        sys.exit("%s: exit %d: %s" % (" ".join(argv[:3]), r.returncode, r.stderr.decode()[:300]))
    return t
# each path must be the one named: the front answers by itself, the full program over the socket
dbg = dict(os.environ, POSMARK_DEBUG="3")
for prog in (front, main):
    p = subprocess.run([prog, "card", "8000000000000", "--db", db, "--json", "--admin-socket", sock],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dbg)
    if b"answered by serve" not in p.stderr:
        sys.exit("%s card was not answered by serve: %s" % (prog, p.stderr.decode()[:300]))
a = subprocess.run([front, "card", "8000000000000", "--db", db, "--json", "--admin-socket", sock], stdout=subprocess.PIPE)
b = subprocess.run([main, "card", "8000000000000", "--db", db, "--json", "--admin-socket", sock], stdout=subprocess.PIPE)
if a.stdout != b.stdout or b'"ledger"' not in a.stdout:
    sys.exit("the front and the full program differ")
p50 = lambda v: sorted(v)[len(v) // 2]
p99 = lambda v: sorted(v)[max(int(len(v) * 0.99) - 1, 0)]
names = ("front", "old", "sockfloor", "true")
per_round = {k: [] for k in names}
for _ in range(rounds):
    t = {k: [] for k in names}
    for i in range(n):
        card = str(8000000000000 + random.randrange(cards))
        jobs = [("front", [front, "card", card, "--db", db, "--json", "--admin-socket", sock], b'"ledger"'),
                ("old", [main, "card", card, "--db", db, "--json", "--admin-socket", sock], b'"ledger"'),
                ("sockfloor", [floor, sock], b"OTHER"), ("true", ["/bin/true"], b"")]
        random.shuffle(jobs)
        for k, argv, chk in jobs:
            t[k].append(run(argv, chk))
    for k in names:
        per_round[k].append((p50(t[k]), p99(t[k]), max(t[k])))
with open(out, "w") as f:
    for k in names:
        r = per_round[k]
        f.write("%s %.2f %.2f %.2f %s\n" % (k, statistics.median(x[0] for x in r), statistics.median(x[1] for x in r),
                max(x[2] for x in r), ",".join("%.2f/%.2f" % (x[0], x[1]) for x in r)))
PY
[ $? -eq 0 ] || { echo "not ok - the card runs failed"; exit 1; }
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A P50 P99 MAX ROUNDS_OF
while read -r k a b c r; do P50[$k]=$a P99[$k]=$b MAX[$k]=$c ROUNDS_OF[$k]=$r; done <"$T/times"
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
echo "posmark-hq card --json over serve's admin socket, $SCALE: $CARDS cards, $ENTRIES ledger entries (rows made in $(python3 -c "print('%.0f' % ($t1 - $t0))") s)"
echo "  $ROUNDS rounds x $LOOKUPS calls each, every call a fresh process; medians of the rounds' p50 / p99 (ms); each round p50/p99 in brackets"
printf '  the front (bin/posmark-hq, libc + libsodium)      p50 %6.2f  p99 %6.2f  max %6.2f  [%s]  target p99 < 10 ms: %s\n' \
	"${P50[front]}" "${P99[front]}" "${MAX[front]}" "${ROUNDS_OF[front]}" "$(python3 -c "print('met' if ${P99[front]} < 10 else 'NOT met')")"
printf '  the old path (posmark-hq-main over the socket)    p50 %6.2f  p99 %6.2f  max %6.2f  [%s]  front/old p50 %sx p99 %sx\n' \
	"${P50[old]}" "${P99[old]}" "${MAX[old]}" "${ROUNDS_OF[old]}" "$(ratio "${P50[front]}" "${P50[old]}")" "$(ratio "${P99[front]}" "${P99[old]}")"
printf '  floor: libc process, socket round trip (OTHER)    p50 %6.2f  p99 %6.2f  max %6.2f  [%s]  front/floor p50 %sx p99 %sx\n' \
	"${P50[sockfloor]}" "${P99[sockfloor]}" "${MAX[sockfloor]}" "${ROUNDS_OF[sockfloor]}" "$(ratio "${P50[front]}" "${P50[sockfloor]}")" "$(ratio "${P99[front]}" "${P99[sockfloor]}")"
printf '  floor: /bin/true, exec to exit (the harness)       p50 %6.2f  p99 %6.2f  max %6.2f  [%s]\n' \
	"${P50[true]}" "${P99[true]}" "${MAX[true]}" "${ROUNDS_OF[true]}"
echo "  load average before the runs: $LOAD0, after: $LOAD1 ($(nproc) cores, shared; figures scale with it)"
