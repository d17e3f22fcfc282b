#!/usr/bin/env bash
# bench/run.sh - run every benchmark script bench/*.sh in turn (make bench).
# Environment: BUILD (build/normal). Each script prints its figures beside
# the baselines measured in the same run, with ratios.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build/normal}
status=0
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "=== $b"
	bash "$b" || status=1
done
exit $status
