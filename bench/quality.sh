#!/usr/bin/env bash
# make quality (and make bench): the next-visit evaluation of the offers through the real
# flow (bench/quality.py; protocol in bench/data/README.md). About 15-30 s on 2 cores.
# QUALITY_MINE overrides the miner's options (default below: the figures in docs/mining.md).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
# on tmpfs where there is one: the replays commit ~15,000 sales, each synced
base=/var/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
work=$(mktemp -d "$base/posmark-quality-XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086
python3 bench/quality.py "$PWD/$BUILD/bin/posmark" "$work" bench/data/online-retail-train.csv.gz \
	${QUALITY_MINE:---min-support 0.01 --min-confidence 0.5 --quiet}
