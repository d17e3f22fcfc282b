#!/usr/bin/env bash
# Every libFuzzer target (make fuzz) over its seed corpus plus a few seconds
# of fresh fuzzing. Runs once, in the normal variant (the targets carry
# ASan+UBSan themselves). FUZZ_SECONDS sets the fresh-fuzzing time.
set -u
cd "$(dirname "$0")/../.."
[ "${POSMARK_VARIANT:-normal}" = normal ] || exit 77
ls build/fuzz/fuzz_* >/dev/null 2>&1 || { echo "# no fuzz targets built (make fuzz)"; exit 77; }
secs=${FUZZ_SECONDS:-3}
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f"); target=${name#fuzz_}
	corpus=tests/fuzz/corpus/$target
	work=$(mktemp -d)
	if "$f" -max_total_time="$secs" -timeout=10 -artifact_prefix="$work/" "$work" ${corpus:+$([ -d "$corpus" ] && echo "$corpus")} >"$work/log" 2>&1; then
		echo "ok - $name: corpus and ${secs}s of fuzzing ($(grep -oE 'Done [0-9]+ runs' "$work/log" | head -1))"
	else
		echo "not ok - $name"; grep -E 'ERROR|SUMMARY|Base64' "$work/log" | head -5 | sed 's/^/#   /'
		# the input that failed, kept beside this log (a regression seed once fixed)
		keep=${POSMARK_TEST_LOGS:-build/normal/test-logs}/fuzz-$target
		mkdir -p "$keep" && cp "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$keep"/ 2>/dev/null
		echo "#   failing inputs kept in $keep"
	fi
	rm -rf "$work"
done
