#!/usr/bin/env bash
# lift_coverage.sh - "lift you can trust" (issue 18): customers with a known coupon effect
# (scripts/sim_coupon.py batches: per seed its own campaign, base conversion p0 and effect
# delta, 30% held back) go into a real PostgreSQL through posmark-hq's ingest as real
# batches; the campaigns page (the rollups ingest kept, then the estimator) gives each
# campaign's lift with its 95% interval. The interval must cover the simulated delta in at
# least 90% of the seeds (expected ~95%; with 40 seeds, fewer than 36 happens by chance with
# probability ~5% for a correct 95% interval and ~1% at the documented 95%: the seeds are
# fixed, so the result is the same on every run).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
SEEDS=${LIFT_SEEDS:-40}
cred=$("$POSMARK_HQ" store add SIM --db "$HQ_DB")
t0=$(date +%s)
python3 scripts/sim_coupon.py batches --url "$HQ_URL" --store SIM --credential "$cred" --seeds "$SEEDS" \
	--n 250 --seed 11 --day 2026-10-01 >"$T/truth" 2>"$T/sim.err"
check "the simulator's batches are stored ($SEEDS seeds)" '[ $? -eq 0 ] && [ "$(wc -l <"$T/truth")" -eq "$SEEDS" ]'
from=$(python3 -c 'import datetime; print(int(datetime.datetime(2026, 9, 30, tzinfo=datetime.timezone.utc).timestamp()) * 1000000)')
to=$(python3 -c 'import datetime; print(int(datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc).timestamp()) * 1000000)')
"$POSMARK_HQ" page campaigns --db "$HQ_DB" --since-us "$from" --until-us "$to" --window-days 14 >"$T/page"
check "campaigns page answers" '[ $? -eq 0 ] && [ -s "$T/page" ]'
python3 - "$T/page" "$T/truth" >"$T/cov" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = [x for x in doc["tables"] if x["name"] == "campaigns"][0]
keys = [c["key"] for c in t["columns"]]
rows = {r[0]: dict(zip(keys, r)) for r in t["rows"]}
n = cov = units_ok = 0
for line in open(sys.argv[2]):
    tr = json.loads(line)
    r = rows.get(tr["campaign"])
    n += 1
    if not r or not r["lift_ci"]:
        continue
    units_ok += r["treated"] == tr["treated"] and r["control"] == tr["control"]
    lo, hi = r["lift_ci"]
    cov += lo <= tr["delta"] <= hi
print(n, cov, units_ok)
PY
read -r n cov units_ok <"$T/cov"
echo "# 95% interval covers the simulated effect in $cov of $n seeds ($(( $(date +%s) - t0 )) s)"
check "every seed's treated and control units counted as simulated" '[ "$units_ok" = "$n" ]'
check "the 95% interval covers the true lift in at least 90% of seeds ($cov/$n)" '[ $((cov * 10)) -ge $((n * 9)) ]'
# the same data, rollups rebuilt from the raw rows: the page is unchanged
psql_q "SELECT rollup_rebuild()" >/dev/null
"$POSMARK_HQ" page campaigns --db "$HQ_DB" --since-us "$from" --until-us "$to" --window-days 14 >"$T/page2"
check "rollups kept by ingest equal a rebuild from the raw rows (campaigns page)" \
	'python3 -c "import json,sys; a,b=[json.load(open(f)) for f in sys.argv[1:]]; sys.exit(0 if a[\"tables\"]==b[\"tables\"] else 1)" "$T/page" "$T/page2"'
