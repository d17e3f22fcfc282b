#!/usr/bin/env bash
# make bench: every benchmark, each figure beside its baseline from the same run.
# BENCH_QUICK=1 shrinks the sizes (a smoke run); BENCH_DIR picks the scratch disk.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
export BUILD
scratch=${BENCH_DIR:-$(mktemp -d /var/tmp/posmark-bench-XXXXXX)}
trap 'rm -rf "$scratch"' EXIT
echo "posmark benchmarks on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); scratch $scratch"
if [ -n "${BENCH_QUICK:-}" ]; then log_args=(20000 200 1); else log_args=(200000 1000 3); fi
mkdir -p "$scratch/log"
"$BUILD/bench/bench_log" "$scratch/log" "${log_args[@]}"
if [ -n "${BENCH_QUICK:-}" ]; then d_args=(20000 50); else d_args=(1000000 300); fi
mkdir -p "$scratch/daemon"
"$BUILD/bench/bench_daemon" "$PWD/$BUILD/bin/posmark" "$scratch/daemon" "${d_args[@]}"
# offer decisions: indexed vs naive at 1k/10k/100k rules (bench/bench_offers.c)
if [ -n "${BENCH_QUICK:-}" ]; then "$BUILD/bench/bench_offers" 1 500; else "$BUILD/bench/bench_offers" 3 2000; fi
# card lookup at the till with the chain's accounts known (bench/bench_accounts.c)
if [ -n "${BENCH_QUICK:-}" ]; then a_args=(100000 20000 3); else a_args=(1000000 200000 5); fi
mkdir -p "$scratch/accounts"
"$BUILD/bench/bench_accounts" "$scratch/accounts" "${a_args[@]}"
rm -rf "$scratch/accounts"
# the durable print queue's cost per sale (bench/bench_printq.c)
mkdir -p "$scratch/printq"
if [ -n "${BENCH_QUICK:-}" ]; then "$BUILD/bench/bench_printq" "$scratch/printq" 50 1; else "$BUILD/bench/bench_printq" "$scratch/printq" 300 3; fi
rm -rf "$scratch/printq"
for b in bench/*.sh; do
	[ -f "$b" ] || continue
	[ "$(basename "$b")" = run.sh ] && continue   # not itself
	bash "$b"
done
