#!/usr/bin/env bash
# bench/compact.sh - the compaction after an erasure (docs/privacy.md, "At the
# store"; loyalty/compact.c): `posmark log compact` (the log rebuilt record by
# record into a new file, fsync'd, renamed over data.mdb) on a generated log,
# beside LMDB's own compacting copy of the same log (`mdb_copy -c`, which the
# design cannot use: it copies live pages whole, erased bytes in their unused
# middle included) and a plain `cp` + `sync` of data.mdb. This is the time the
# daemon's lanes wait when an erasure is compacted. Medians of REPS runs.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
if [ -n "${BENCH_QUICK:-}" ]; then N=20000; REPS=3; else N=300000; REPS=5; fi
T=$(mktemp -d /var/tmp/posmark-compact-XXXXXX)
trap 'rm -rf "$T"' EXIT
median() { python3 -c 'import statistics,sys; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
"$BUILD/tests/test_hostsync" gen "$T/d" "$N" T1 $((N / 10)) >/dev/null
"$BUILD/bin/posmark" log compact --data "$T/d" >/dev/null   # from here every run starts from a compact log
size=$(stat -c %s "$T/d/data.mdb")
ours=() lmdb=() copy=()
for _ in $(seq 1 "$REPS"); do
	ours+=("$(secs "$BUILD/bin/posmark" log compact --data "$T/d")")
	rm -rf "$T/c"; mkdir "$T/c"
	lmdb+=("$(secs sh -c "mdb_copy -c '$T/d' '$T/c' && sync '$T/c/data.mdb'")")
	rm -f "$T/cp.mdb"
	copy+=("$(secs sh -c "cp '$T/d/data.mdb' '$T/cp.mdb' && sync '$T/cp.mdb'")")
done
o=$(median "${ours[@]}"); l=$(median "${lmdb[@]}"); c=$(median "${copy[@]}")
echo "compaction after an erasure, log of $N sales ($((size / 1024)) KiB), median of $REPS:"
echo "  posmark log compact        $o s"
echo "  mdb_copy -c + sync         $l s   (posmark $(python3 -c "print('%.2fx' % ($o / $l))"))"
echo "  cp + sync of data.mdb      $c s   (posmark $(python3 -c "print('%.2fx' % ($o / $c))"))"
