#!/usr/bin/env bash
# Run the suite under the normal build and the ASan+UBSan build; the last
# line is the total, "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
status=0
VARIANT=normal BUILD=build/normal bash tests/run.sh || status=1
VARIANT=asan BUILD=build/asan bash tests/run.sh || status=1
read -r p1 f1 <build/normal/test-counts
read -r p2 f2 <build/asan/test-counts
echo "$((p1 + p2)) passed, $((f1 + f2)) failed"
exit $status
