#!/usr/bin/env bash
# README command two: install what is missing, build the normal and the
# ASan+UBSan variants, run every test in both. Last line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" tests >/dev/null
make -j"$jobs" SANITIZER=address,undefined tests >/dev/null
make -j"$jobs" fuzz >/dev/null
exec bash tests/run-all.sh
