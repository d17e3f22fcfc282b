#!/usr/bin/env bash
# posmark mine against Weka 3.6 (Debian's weka package) on Weka's own
# supermarket.arff: the same rules with the same counts. Weka's Apriori
# tests confidence >= C like arules and posmark; Weka's FPGrowth tests
# confidence > C, so its rule list is ours minus the rules at exactly C
# (../shared/data/README.md). Skips when Java, Weka or python3 is missing.
set -u
cd "$(dirname "$0")/../.."
P=${POSMARK:-bin/posmark}
JAR=/usr/share/java/weka.jar
ARFF=/usr/share/doc/weka/examples/supermarket.arff
for need in java python3; do command -v $need >/dev/null || { echo "skip: no $need"; exit 77; }; done
[ -r $JAR ] && { [ -r $ARFF ] || [ -r $ARFF.gz ]; } || { echo "skip: Weka (package weka) not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
[ -r $ARFF ] && cp $ARFF "$T/sm_full.arff" || gzip -dc $ARFF.gz > "$T/sm_full.arff"
# the last attribute 'total' (basket value low/high) is not a department: drop it
java -cp $JAR weka.filters.unsupervised.attribute.Remove -R last -i "$T/sm_full.arff" -o "$T/sm.arff"
gzip -dc tests/data/supermarket.csv.gz > "$T/sm.csv"

# our text output -> "lhs => rhs<TAB>count<TAB>lhs_count" (counts back from the 6-decimal figures)
ours_keys() {
	awk -F'\t' -v N="$(wc -l < "$T/sm.csv")" '{ c = int($2 * N + 0.5); l = int(c / $3 + 0.5); print $1 "\t" c "\t" l }' "$1" |
		LC_ALL=C sort
}

# Weka 3.6's Apriori fails (NullPointerException) with -U below 1, so it runs
# all 18 cycles from 1.0 down: ~6 s, hence once; FPGrowth (-S) is quick.
for sc in "0.1 0.8" "0.15 0.75"; do
	set -- $sc
	s=$1 c=$2
	"$P" mine --input "$T/sm.csv" --min-support "$s" --min-confidence "$c" --quiet > "$T/ours.txt"
	ours_keys "$T/ours.txt" > "$T/ours.keys"
	if [ "$s" = 0.1 ]; then
		java -cp $JAR weka.associations.Apriori -t "$T/sm.arff" -N 10000000 -C "$c" -U 1.0 -M "$s" -D 0.05 > "$T/wa.txt" 2>&1
		python3 tests/tools/weka_rules.py "$T/wa.txt" > "$T/wa.keys"
		check "supermarket s=$s c=$c: $(wc -l < "$T/ours.keys") rules, the same as Weka Apriori's" \
			'[ -s "$T/wa.keys" ] && cmp -s "$T/wa.keys" "$T/ours.keys"'
	fi
	java -cp $JAR weka.associations.FPGrowth -t "$T/sm.arff" -P 1 -S -N 10000000 -C "$c" -M "$s" -I 10 > "$T/wf.txt" 2>&1
	python3 tests/tools/weka_rules.py "$T/wf.txt" > "$T/wf.keys"
	# ours without the rules at exactly C: count / lhs_count == C, tested exactly in integers
	awk -F'\t' -v C="$c" 'BEGIN { split(C, d, "."); den = 10 ^ length(d[2]); num = d[2] + 0 }
		$2 * den != num * $3' "$T/ours.keys" > "$T/ours_gt.keys"
	check "supermarket s=$s c=$c: Weka FPGrowth's $(wc -l < "$T/wf.keys") rules = ours minus the $(($(wc -l < "$T/ours.keys") - $(wc -l < "$T/ours_gt.keys"))) at exactly c" \
		'[ -s "$T/wf.keys" ] && cmp -s "$T/wf.keys" "$T/ours_gt.keys"'
done
exit 0
