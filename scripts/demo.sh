#!/usr/bin/env bash
# README command one: a store day at one till with simulated devices.
# Installs what is missing (unless --no-install), builds, then runs the day
# into demo-out/ and prints what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--no-install" ] || bash scripts/install-deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
out=demo-out
rm -rf "$out"
mkdir -p "$out"
conf=data/demo/posmark.conf
pm() { ./bin/posmark "$@" --config "$conf" --data "$out/log"; }

echo "== posmark demo: Corner Market, lane 1 =="
pm catalog import data/demo/catalog.csv
# Two regulars said yes to targeted offers at the till, one said no.
mapfile -t cards <data/demo/cards.txt
pm card consent "${cards[0]}" --targeted yes >/dev/null
pm card consent "${cards[1]}" --targeted yes >/dev/null
pm card consent "${cards[2]}" --targeted no >/dev/null

echo "-- the day's scans go through the till (data/demo/day.scans) --"
pm checkout --scans data/demo/day.scans --json --printer "text:$out/receipts.txt" >"$out/events.jsonl"
summary=$(tail -n 1 "$out/events.jsonl")
echo "till: $summary"
echo "-- a few of the scans the till refused, in the cashier's words --"
grep '"scan_refused"' "$out/events.jsonl" | head -n 4 | sed 's/^/  /'
echo "-- the last receipt of the day --"
awk 'BEGIN{RS="- - - - - - - - - - - - - - - - - - - - -\n"} {last=prev; prev=$0} END{print prev}' "$out/receipts.txt" | tail -n 32
echo "-- the most regular customer --"
pm card show "${cards[0]}"
echo "   purchase history (oldest first, first 3 sales):"
pm history "${cards[0]}" | head -n 12 | sed 's/^/   /'
echo
echo "demo output in $out/: events.jsonl (checkout --json), receipts.txt, log/ (the LMDB purchase log)"
