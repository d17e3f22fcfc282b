#!/usr/bin/env bash
# bench/mine.sh - posmark mine against Weka 3.6 (FPGrowth, Apriori) and, when
# $BORGELT_FPGROWTH names a binary of Christian Borgelt's fpgrowth, against
# that too; on supermarket, Groceries, retail and a synthetic 1,000,000-basket
# set, at several supports. Wall time and peak memory (/usr/bin/time) are the
# medians of repeats; each row says whether the rules are identical.
#
# Environment: BUILD (build/normal), MINE_REPEAT (5: posmark and Borgelt),
# MINE_WEKA_REPEAT (3; a Weka run over 60 s is not repeated),
# MINE_WEKA_TIMEOUT (300 s; a Weka run cut there shows as ">300"),
# MINE_SYNTH_N (1000000), BORGELT_FPGROWTH (path; that column is skipped if unset),
# BENCH_QUICK=1 (one run each, 50,000 synthetic baskets, Weka cut at 30 s),
# MINE_ONLY (regex on the set names, e.g. MINE_ONLY=synthetic).
#
# Thresholds are the same for all: posmark computes the minimum count
# ceil(S*N) and every peer is given that count. Weka's FPGrowth turns an
# absolute -M back into a fraction and recomputes the count in floating
# point, which drifts up by one at some counts (45 of 88,162 became 46), so
# it gets count-0.5; Weka's Apriori rounds S*N to nearest, so it gets
# count/N; Borgelt's fpgrowth takes -s-count (absolute). Weka's FPGrowth keeps rules with
# confidence > C (posmark, arules, Weka's Apriori: >= C), so its rules are
# compared with ours minus those at exactly C. Weka's Apriori needs dense
# data with missing values for absent items: it runs on supermarket only.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/normal}
P=$PWD/$BUILD/bin/posmark
GEN=$PWD/$BUILD/bench/bench_mine_gen
if [ -n "${BENCH_QUICK:-}" ]; then   # make bench BENCH_QUICK=1: a smoke run
	: "${MINE_REPEAT:=1}" "${MINE_WEKA_REPEAT:=1}" "${MINE_WEKA_TIMEOUT:=30}" "${MINE_SYNTH_N:=50000}"
fi
REPEAT=${MINE_REPEAT:-5}
WREPEAT=${MINE_WEKA_REPEAT:-3}
WTIMEOUT=${MINE_WEKA_TIMEOUT:-300}
SYNTH_N=${MINE_SYNTH_N:-1000000}
JAR=/usr/share/java/weka.jar
SM_ARFF=/usr/share/doc/weka/examples/supermarket.arff
BORGELT=${BORGELT_FPGROWTH:-}
[ -x "$P" ] && [ -x "$GEN" ] || { echo "mine: build first (make bench)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
have_weka=1
{ command -v java >/dev/null && [ -r $JAR ] && [ -r $SM_ARFF ] && command -v python3 >/dev/null; } || have_weka=0
[ -n "$BORGELT" ] && [ ! -x "$BORGELT" ] && { echo "mine: BORGELT_FPGROWTH=$BORGELT is not executable: row skipped"; BORGELT=; }

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# measure TAG TIMEOUT OUTFILE cmd... : one run; appends "wall cpu rss_mb" to $T/m.TAG.
# Returns 124 on timeout, 1 on failure.
measure() {
	local tag=$1 to=$2 out=$3 rc
	shift 3
	/usr/bin/time -f "%e %U %S %M" -o "$T/tv" timeout "$to" "$@" > "$out" 2> "$T/run.err" < /dev/null
	rc=$?
	[ $rc -eq 124 ] && return 124
	[ $rc -ne 0 ] && return 1
	tail -1 "$T/tv" | awk '{ printf "%s %.2f %.0f\n", $1, $2 + $3, $4 / 1024 }' >> "$T/m.$tag"
	return 0
}
# summary TAG -> "median_wall median_cpu median_rss" ("- - -" if no run)
summary() {
	[ -s "$T/m.$1" ] || { echo "- - -"; return; }
	echo "$(cut -d' ' -f1 "$T/m.$1" | median) $(cut -d' ' -f2 "$T/m.$1" | median) $(cut -d' ' -f3 "$T/m.$1" | median)"
}
# weka TAG OUT cmd... : up to $WREPEAT runs, one only if it took over 60 s; "timeout" on a cut
weka() {
	local tag=$1 out=$2 i
	shift 2
	for ((i = 0; i < WREPEAT; i++)); do
		measure "$tag" "$WTIMEOUT" "$out" "$@"
		case $? in 124) echo timeout; return ;; 1) echo fail; return ;; esac
		awk '{ exit !($1 > 60) }' <<< "$(tail -1 "$T/m.$tag")" && break
	done
	echo ok
}

# our text output -> "lhs => rhs<TAB>count<TAB>lhs_count", minus rules at exactly C if $3 = gt
keys() {
	awk -F'\t' -v N="$2" -v C="$4" -v GT="$3" '
		BEGIN { split(C, d, "."); den = 10 ^ length(d[2]); num = d[2] + 0; if (C == 1) { den = 1; num = 1 } }
		{ c = int($2 * N + 0.5); l = int(c / $3 + 0.5); if (GT == "gt" && c * den == num * l) next
		  print $1 "\t" c "\t" l }' "$1" | LC_ALL=C sort
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.1f", a / b; else if (a ~ /^>/) printf ">%.0f", substr(a, 2) / b; else print "-" }'; }

echo "== mine: preparing data in $T"
gzip -dc tests/data/supermarket.csv.gz > "$T/supermarket.csv"
cp tests/data/groceries.csv "$T/groceries.csv"
gzip -dc tests/data/retail.dat.gz > "$T/retail.dat"
"$GEN" synth "$SYNTH_N" 1 "$T/synth.dat"
if [ $have_weka = 1 ]; then
	java -cp $JAR weka.filters.unsupervised.attribute.Remove -R last -i $SM_ARFF -o "$T/supermarket.arff"
	"$GEN" arff "$T/groceries.csv" basket "$T/groceries.arff"
	"$GEN" arff "$T/retail.dat" fimi "$T/retail.arff"
	"$GEN" arff "$T/synth.dat" fimi "$T/synth.arff"
else
	echo "mine: Weka (package weka, default-jre-headless) or python3 missing: Weka columns skipped"
fi

printf '\n%-11s %9s %7s %4s %6s | %7s %6s %5s | %8s %6s %6s | %8s %6s | %7s %6s %5s %5s | %s\n' \
	set baskets support conf rules "posmark" cpu MB "Weka FPG" MB "x" "Weka Apr" "x" Borgelt cpu MB "pm/B" "rules"
# set  file  format  weka-positive-index  support  confidence
cases="supermarket supermarket.csv basket 1 0.1 0.8
supermarket supermarket.csv basket 1 0.05 0.8
groceries groceries.csv basket 2 0.01 0.5
groceries groceries.csv basket 2 0.005 0.5
groceries groceries.csv basket 2 0.001 0.8
retail retail.dat fimi 2 0.01 0.8
retail retail.dat fimi 2 0.001 0.8
retail retail.dat fimi 2 0.0005 0.8
synthetic synth.dat fimi 2 0.01 0.8
synthetic synth.dat fimi 2 0.001 0.8"
while read -r name file fmt pidx s c; do
	[[ $name =~ ${MINE_ONLY:-.} ]] || continue
	in=$T/$file
	n=$(wc -l < "$in")
	minc=$("$P" mine --input "$in" --input-format "$fmt" --min-support "$s" --output-format itemsets 2>&1 >/dev/null |
		sed -n 's/.*min count \([0-9]*\).*/\1/p')
	wminc=$((minc - 1))
	rm -f "$T"/m.*
	# posmark and Borgelt interleaved, so a burst of load hits both alike
	# -tr rules, -o rule support = whole rule's (arules), -m2 no empty left side, -n10 max items
	bopts=(-tr -s-"$minc" -c"$(awk -v c="$c" 'BEGIN { print c * 100 }')" -o -m2 -n10)
	[ "$fmt" = basket ] && bopts+=(-f,)
	for ((i = 0; i < REPEAT; i++)); do
		measure ours 600 "$T/ours.txt" "$P" mine --input "$in" --input-format "$fmt" \
			--min-support "$s" --min-confidence "$c" --quiet
		[ -n "$BORGELT" ] && measure borgelt 600 /dev/null "$BORGELT" "${bopts[@]}" "$in" "$T/b.txt"
	done
	read -r ow oc om <<< "$(summary ours)"
	rules=$(wc -l < "$T/ours.txt")
	same=""
	ww=- wm=- aw=- bw=- bc=- bm=-
	if [ $have_weka = 1 ]; then
		st=$(weka wf "$T/wf.txt" java -cp $JAR weka.associations.FPGrowth \
			-t "$T/${file%.*}.arff" -P "$pidx" -S -N 1000000000 -C "$c" -M "$wminc.5" -I 10)
		read -r ww _ wm <<< "$(summary wf)"
		if [ "$st" = ok ]; then
			python3 tests/tools/weka_rules.py "$T/wf.txt" > "$T/wf.keys"
			keys "$T/ours.txt" "$n" gt "$c" > "$T/ours_gt.keys"
			if cmp -s "$T/wf.keys" "$T/ours_gt.keys"; then same+="=WekaFPG "; else same+="DIFF-WekaFPG "; fi
		else
			ww=">$WTIMEOUT"
		fi
		if [ "$name" = supermarket ]; then
			st=$(weka wa "$T/wa.txt" java -cp $JAR weka.associations.Apriori \
				-t "$T/supermarket.arff" -N 1000000000 -C "$c" -U 1.0 \
				-M "$(awk -v m="$minc" -v n="$n" 'BEGIN { printf "%.12f", m / n }')" -D 0.05)
			read -r aw _ _ <<< "$(summary wa)"
			if [ "$st" = ok ]; then
				python3 tests/tools/weka_rules.py "$T/wa.txt" > "$T/wa.keys"
				keys "$T/ours.txt" "$n" ge "$c" > "$T/ours_ge.keys"
				if cmp -s "$T/wa.keys" "$T/ours_ge.keys"; then same+="=WekaApriori "; else same+="DIFF-WekaApriori "; fi
			else
				aw=">$WTIMEOUT"
			fi
		fi
	fi
	if [ -n "$BORGELT" ]; then
		read -r bw bc bm <<< "$(summary borgelt)"
		if [ "$(wc -l < "$T/b.txt")" -eq "$rules" ]; then same+="=Borgelt(count)"; else same+="DIFF-Borgelt($(wc -l < "$T/b.txt"))"; fi
	fi
	printf '%-11s %9s %7s %4s %6s | %7s %6s %5s | %8s %6s %6s | %8s %6s | %7s %6s %5s %5s | %s\n' \
		"$name" "$n" "$s" "$c" "$rules" "$ow" "$oc" "$om" "$ww" "$wm" "$(ratio "$ww" "$ow")" \
		"$aw" "$(ratio "$aw" "$ow")" "$bw" "$bc" "$bm" "$(ratio "$ow" "$bw")" "${same:--}"
done <<< "$cases"
echo
echo "times: seconds, wall unless 'cpu' (user+sys); medians of $REPEAT interleaved runs (posmark, Borgelt),"
echo "of up to $WREPEAT (Weka; one if it took over 60 s; '>T' = cut at the timeout); MB: peak RSS"
echo "x = Weka wall / posmark wall; pm/B = posmark wall / Borgelt wall (Borgelt: \$BORGELT_FPGROWTH)"
echo "rules: =X identical rule lists (Weka: with counts; Borgelt: number of rules)"
