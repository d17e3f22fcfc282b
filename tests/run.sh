#!/usr/bin/env bash
# Run every test of one build variant: the cmocka unit programs in
# $BUILD/tests/ and the integration scripts in tests/integration/.
# Prints "<variant>: N passed, N failed" last; exits non-zero on any failure.
# Environment: BUILD (build/normal), VARIANT (normal|asan), TEST_FILTER (substring).
# POSMARK_CONFIG=none and POSMARK_HQ_CONFIG=none are exported (unless set) so that a
# machine with /etc/posmark/posmark.conf or hq.conf installed gives the same results;
# a test that wants a config passes --config or sets the variable itself.
# NOTIFY_SOCKET and JOURNAL_STREAM are unset: tests set them where they test them.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
VARIANT=${VARIANT:-normal}
export POSMARK="$PWD/$BUILD/bin/posmark" POSMARK_HQ="$PWD/$BUILD/bin/posmark-hq"
export POSMARK_CONFIG="${POSMARK_CONFIG-none}" POSMARK_HQ_CONFIG="${POSMARK_HQ_CONFIG-none}"
unset NOTIFY_SOCKET JOURNAL_STREAM
export POSMARK_BUILD="$PWD/$BUILD" POSMARK_VARIANT="$VARIANT"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:verify_asan_link_order=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export CMOCKA_MESSAGE_OUTPUT=stdout
passed=0 failed=0 failed_names=()
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

run_unit() {
	local bin=$1 name log p f rc
	name=$(basename "$bin")
	log="$log_dir/$name.log"
	local wrap=()
	case "$name" in test_umock_*) wrap=(umockdev-wrapper) ;; esac
	timeout 600 "${wrap[@]}" "$bin" >"$log" 2>&1
	rc=$?
	p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
	f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name"); echo "FAIL $name ($p passed, $f failed; log $log)"; tail -n 30 "$log"
	else
		echo "ok   $name ($p passed)"
	fi
}

run_script() {
	local script=$1 name log p f rc
	name=$(basename "$script" .sh)
	log="$log_dir/$name.log"
	timeout 900 bash "$script" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$log")
	f=$(grep -cE '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$rc" -eq 77 ]; then echo "skip $name"; return; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name"); echo "FAIL $name ($p passed, $f failed; log $log)"; tail -n 30 "$log"
	else
		echo "ok   $name ($p passed)"
	fi
}

for bin in "$BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	case "$bin" in *"${TEST_FILTER:-}"*) run_unit "$bin" ;; esac
done
for script in tests/integration/*.sh; do
	[ -f "$script" ] || continue
	case "$script" in *"${TEST_FILTER:-}"*) run_script "$script" ;; esac
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed in $VARIANT: ${failed_names[*]}"
echo "$passed $failed" >"$BUILD/test-counts"
echo "$VARIANT: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
