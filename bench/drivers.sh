#!/usr/bin/env bash
# drivers/ throughput: scan decoding and ESC/POS encoding beside their baselines (bench_drivers.c).
set -u
BUILD=${BUILD:-build/normal}
if [ -n "${BENCH_QUICK:-}" ]; then args=(200000 200 3); else args=(2000000 2000 5); fi
"$BUILD/bench/bench_drivers" "${args[@]}"
