#!/usr/bin/env bash
# console_data.sh - the console's page data (issue 18; docs/console.md, "Page data"), on a real
# PostgreSQL and posmark-hq fed by real tills: a generated store log (store S1, two months) and
# the demo catalog and campaigns at a checkout lane (store S2: customers of the simulated coupon
# effect, a points payment, a return). Each page's figures equal independent SQL over the raw
# tables and `posmark-hq report`; the rollups ingest keeps equal a rebuild from the raw rows
# after the batches, after a duplicate and an overlapping batch (which change nothing), after a
# return, an adjustment and an erasure.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")

# ---- S1: a generated till log; S2: the demo lane with the simulated customers ----
"$GEN" gen "$T/d1" 2000 T1 30 1800 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred1"
"$POSMARK" sync --config "$T/c1" --once >/dev/null 2>&1
terminal_config "$T/c2" "$T/d2" S2 "$cred2" "[offers]" "coupon_key = $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pm2() { "$POSMARK" "$@" --config "$T/c2" --data "$T/d2"; }
pm2 catalog import data/demo/catalog.csv >/dev/null 2>&1
pm2 rules load data/demo/campaigns.json >/dev/null 2>&1
python3 scripts/sim_coupon.py exposure --seed 3 --n 150 --day 2026-11-25 >"$T/exp.scans"
pm2 checkout --scans "$T/exp.scans" --json >"$T/exp.jsonl" 2>/dev/null
python3 scripts/sim_coupon.py follow --seed 3 --checkout "$T/exp.jsonl" --day 2026-11-25 --p0 0.15 --delta 0.3 \
	--truth "$T/truth.json" >"$T/fol.scans"
pm2 checkout --scans "$T/fol.scans" --json >"$T/fol.jsonl" 2>/dev/null
# a points payment by one of them
pcard=$(python3 -c 'import json,sys; print([json.loads(l)["card"] for l in open(sys.argv[1]) if "sale_committed" in l][0])' "$T/exp.jsonl")
printf '#clock 2026-11-28T10:00:00Z\n%s\n4006374000017\n#points 2\n#tender card\n' "$pcard" >"$T/pts.scans"
pm2 checkout --scans "$T/pts.scans" --json >"$T/pts.jsonl" 2>/dev/null
out=$(pm2 sync --once --json 2>/dev/null)
check "both stores' batches stored" '[ "$(psql_q "SELECT count(DISTINCT store_id) FROM sales")" = 2 ] && echo "$out" | grep -q "\"ok\":true"'
check "the simulated campaign reached HQ (issued and held back)" \
	'[ "$(psql_q "SELECT count(DISTINCT type) FROM events WHERE campaign = '\''rice-and-oil'\'' AND type IN ('\''offer_issued'\'', '\''offer_held_back'\'')")" = 2 ]'

FROM=$(python3 -c 'import datetime; print(int(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc).timestamp()) * 1000000)')
TO=$(python3 -c 'import datetime; print(int(datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc).timestamp()) * 1000000)')
page() { "$POSMARK_HQ" page "$1" --db "$HQ_DB" --since-us "$FROM" --until-us "$TO" "${@:2}"; }
# fig PAGEFILE KEY: a figure's value
fig() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(f["value"] for f in d["figures"] if f["key"]==sys.argv[2]))' "$1" "$2"; }

# Every rollup as text, sorted, rows that count nothing left out (a decrement may leave a 0 row).
snapshot() {
	local t w
	for t in rollup_store_day:true rollup_card:true rollup_cohort:"cards<>0" \
		rollup_tier:"cards<>0" rollup_rfm:"cards<>0" rollup_campaign_day:true rollup_offer:true \
		rollup_conv:"units<>0~OR~conv_cents<>0" rollup_ledger_day:"entries<>0"; do
		w=${t#*:}
		echo "== ${t%%:*}"
		psql_q "SELECT x::text FROM ${t%%:*} x WHERE ${w//\~/ } ORDER BY 1"
	done
}
# same_as_rebuild NAME: the rollups equal rollup_rebuild()'s from the raw rows
same_as_rebuild() {
	snapshot >"$T/inc"
	psql_q "SELECT rollup_rebuild()" >/dev/null
	snapshot >"$T/reb"
	check "rollups kept by ingest equal a rebuild from the raw rows: $1" 'cmp -s "$T/inc" "$T/reb" || { diff "$T/inc" "$T/reb" | head -n 10 | sed "s/^/#   /"; false; }'
}
same_as_rebuild "after both stores' batches"

# ---- overview: against SQL over sales and posmark-hq report sales-by-day ----
page overview >"$T/ov"
check "page overview answers" '[ -s "$T/ov" ]'
sql=$(psql_q "SELECT count(*) FILTER (WHERE type='sale'), sum(total_cents) FILTER (WHERE type='sale'),
	count(*) FILTER (WHERE type='return'), coalesce(sum(refund_cents) FILTER (WHERE type='return'), 0),
	sum(discount_cents) FROM sales WHERE time_us >= $FROM AND time_us < $TO")
got="$(fig "$T/ov" sales)|$(fig "$T/ov" sales_cents)|$(fig "$T/ov" returns)|$(fig "$T/ov" refund_cents)|$(fig "$T/ov" discount_cents)"
check "overview sales, value, returns, refunds, discounts = SQL over sales ($got)" '[ "$got" = "$sql" ]'
rep=$("$POSMARK_HQ" report sales-by-day --db "$HQ_DB" | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(sum(x["sales"] for x in r))')
days=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=[x for x in d["tables"] if x["name"]=="by_day"][0]; print(sum(r[1]+r[5] for r in t["rows"]))' "$T/ov")
check "overview by day (sales + returns) = posmark-hq report sales-by-day ($days)" '[ "$days" = "$rep" ]'
members=$(psql_q "SELECT count(DISTINCT card) FROM sales WHERE type='sale' AND card IS NOT NULL AND time_us < $TO")
check "members = cards with a sale ($members)" '[ "$(fig "$T/ov" members)" = "$members" ]'
active=$(psql_q "SELECT count(DISTINCT card) FROM sales WHERE type='sale' AND card IS NOT NULL AND time_us >= $(python3 -c 'import datetime; print(int(datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc).timestamp()) * 1000000)') AND time_us < $TO")
check "active members = cards with a sale in the end month ($active)" '[ "$(fig "$T/ov" active_members)" = "$active" ]'
page overview --store S2 >"$T/ov2"
check "overview of one store = SQL for that store" '[ "$(fig "$T/ov2" sales)" = "$(psql_q "SELECT count(*) FROM sales WHERE store_id='\''S2'\'' AND type='\''sale'\''")" ]'

# ---- liability: against the ledger, accounts and posmark-hq report ----
page liability >"$T/li"
sql=$(psql_q "SELECT sum(points) FILTER (WHERE kind IN ('earn','bonus','import')), coalesce(-sum(points) FILTER (WHERE kind='spend'), 0), sum(points) FROM ledger")
got="$(fig "$T/li" issued)|$(fig "$T/li" spent)|$(fig "$T/li" outstanding)"
check "liability issued, spent, outstanding = SQL over the ledger ($got)" '[ "$got" = "$sql" ]'
rep=$("$POSMARK_HQ" report points-liability --db "$HQ_DB" | python3 -c 'import json,sys; print(sum(json.loads(l)["points"] for l in sys.stdin))')
check "outstanding = posmark-hq report points-liability ($rep) = sum of balances" '[ "$(fig "$T/li" outstanding)" = "$rep" ] && [ "$rep" = "$(psql_q "SELECT sum(points) FROM accounts")" ]'
neg=$("$POSMARK_HQ" report negative-balances --db "$HQ_DB" | wc -l)
check "negative balances = posmark-hq report negative-balances ($neg)" '[ "$(fig "$T/li" negative_balances)" = "$neg" ]'

# ---- tiers: the window spend recomputed from sales ----
page tiers >"$T/ti"
sql=$(psql_q "WITH c AS (SELECT card, max(time_us) FILTER (WHERE type='sale') AS l FROM sales WHERE card IS NOT NULL GROUP BY card
	HAVING count(*) FILTER (WHERE type='sale') > 0),
	w AS (SELECT c.card, sum(CASE WHEN s.type='return' THEN -s.refund_cents ELSE s.total_cents - s.points_spent * s.point_value_cents END) AS sp
	FROM c JOIN sales s ON s.card = c.card AND rollup_month(s.time_us) BETWEEN rollup_month(c.l) - 11 AND rollup_month(c.l) GROUP BY c.card)
	SELECT count(*) FILTER (WHERE sp < 50000) || '|' || count(*) FILTER (WHERE sp >= 50000 AND sp < 200000) || '|' || count(*) FILTER (WHERE sp >= 200000) FROM w")
got="$(fig "$T/ti" tier_member)|$(fig "$T/ti" tier_silver)|$(fig "$T/ti" tier_gold)"
check "members by tier = the 12-month spend recomputed from sales ($got)" '[ "$got" = "$sql" ]'

# ---- campaigns: counts against events and posmark-hq report; units and conversion against SQL ----
page campaigns --window-days 14 >"$T/ca"
python3 - "$T/ca" >"$T/ca.rows" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = [x for x in d["tables"] if x["name"] == "campaigns"][0]
k = [c["key"] for c in t["columns"]]
for r in t["rows"]:
    r = dict(zip(k, r))
    print("%s|%d|%d|%d|%d|%d|%d|%d|%d" % (r["campaign"], r["issued"], r["held_back"], r["redeemed"], r["discount_cents"],
          r["treated"], r["control"], r["treated_converted"], r["control_converted"]))
PY
psql_q "WITH u AS (SELECT campaign, card, (array_agg(type ORDER BY time_us, type))[1] AS first, min(time_us) AS t0,
	array_agg(DISTINCT lpad(gtin, 14, '0')) FILTER (WHERE gtin IS NOT NULL) AS g FROM events
	WHERE type IN ('offer_issued','offer_held_back') AND card IS NOT NULL GROUP BY 1, 2),
	conv AS (SELECT u.*, EXISTS (SELECT 1 FROM sales s WHERE s.card = u.card AND s.type = 'sale' AND s.time_us > u.t0
	 AND s.time_us < u.t0 + 14 * 86400000000::bigint AND (u.g IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(s.items) i
	 WHERE lpad(i->>'gtin', 14, '0') = ANY (u.g)))) AS bought FROM u),
	e AS (SELECT campaign, count(*) FILTER (WHERE type='offer_issued') AS i, count(*) FILTER (WHERE type='offer_held_back') AS h,
	 count(*) FILTER (WHERE type='offer_redeemed') AS r, coalesce(sum(discount_cents) FILTER (WHERE type='offer_redeemed'), 0) AS d
	 FROM events WHERE campaign IS NOT NULL AND type LIKE 'offer_%' GROUP BY 1)
	SELECT e.campaign || '|' || e.i || '|' || e.h || '|' || e.r || '|' || e.d || '|' ||
	 count(c.card) FILTER (WHERE c.first = 'offer_issued') || '|' || count(c.card) FILTER (WHERE c.first = 'offer_held_back') || '|' ||
	 count(c.card) FILTER (WHERE c.first = 'offer_issued' AND c.bought) || '|' || count(c.card) FILTER (WHERE c.first = 'offer_held_back' AND c.bought)
	FROM e LEFT JOIN conv c USING (campaign) GROUP BY e.campaign, e.i, e.h, e.r, e.d ORDER BY 1" >"$T/ca.sql"
check "campaigns: issued, held back, redeemed, cost, units and conversions = SQL over events and sales" \
	'cmp -s "$T/ca.rows" "$T/ca.sql" || { diff "$T/ca.rows" "$T/ca.sql" | head | sed "s/^/#   /"; false; }'
"$POSMARK_HQ" report campaigns --db "$HQ_DB" | python3 -c 'import json,sys; [print("%s|%d|%d|%d" % (r["campaign"], r["issued"], r["held_back"], r["redeemed"])) for r in map(json.loads, sys.stdin)]' >"$T/ca.rep"
cut -d'|' -f1-4 "$T/ca.rows" >"$T/ca.rows4"
check "campaigns: issued, held back, redeemed = posmark-hq report campaigns" 'cmp -s "$T/ca.rows4" "$T/ca.rep"'
# the report's difference and its interval, recomputed here (Newcombe 1998, method 10) from the
# report's own conversions and the offers it counts (issued/held back with a card and an item)
psql_q "SELECT campaign || '|' || count(*) FILTER (WHERE type = 'offer_issued') || '|' || count(*) FILTER (WHERE type = 'offer_held_back')
	FROM events WHERE campaign IS NOT NULL AND card IS NOT NULL AND gtin IS NOT NULL GROUP BY campaign ORDER BY 1" >"$T/ca.n"
"$POSMARK_HQ" report campaigns --db "$HQ_DB" >"$T/ca.json"
check "campaigns: the report's lift_difference and its 95% interval = Newcombe's hybrid score interval recomputed" \
	'python3 - "$T/ca.json" "$T/ca.n" <<'"'"'PY'"'"'
import json, math, sys
z = 1.959964
def wilson(x, n):
    p = x / n; d = 1 + z * z / n; c = p + z * z / (2 * n); h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (c - h) / d, (c + h) / d
ns = {l.split("|")[0]: (int(l.split("|")[1]), int(l.split("|")[2])) for l in open(sys.argv[2]) if l.strip()}
seen = 0
for r in map(json.loads, open(sys.argv[1])):
    tn, cn = ns.get(r["campaign"], (0, 0))
    if not tn or not cn:
        assert r["lift_difference"] is None, r; continue
    tx, cx = round(r["treated_conversion"] * tn), round(r["control_conversion"] * cn)
    p1, p2 = tx / tn, cx / cn; (l1, u1), (l2, u2) = wilson(tx, tn), wilson(cx, cn)
    d = p1 - p2; lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2); hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    got = r["lift_difference"], *r["lift_difference_ci95"]
    assert all(abs(a - b) < 2e-4 for a, b in zip(got, (d, lo, hi))), (r, d, lo, hi)
    seen += 1
sys.exit(0 if seen else 1)
PY'
covers=$(python3 - "$T/ca" "$T/truth.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); tr = json.load(open(sys.argv[2]))
t = [x for x in d["tables"] if x["name"] == "campaigns"][0]
k = [c["key"] for c in t["columns"]]
r = [dict(zip(k, x)) for x in t["rows"] if x[0] == tr["campaign"]][0]
lo, hi = r["lift_ci"]
print("yes" if lo <= tr["delta"] <= hi and r["treated"] == tr["treated"] and r["control"] == tr["control"] else
      "no: %s %s" % (r["lift_ci"], tr))
PY
)
check "the real till's simulated campaign: units as simulated, the interval covers the true lift ($covers)" '[ "$covers" = yes ]'

# ---- segments and cohorts ----
page segments --limit 5 >"$T/se"
check "segments score every member" '[ "$(fig "$T/se" members)" = "$members" ]'
check "the lapsed list: 5 members, most valuable first" 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=[t for t in d[\"tables\"] if t[\"name\"]==\"lapsed\"][0][\"rows\"]; sys.exit(0 if len(r)==5 and all(r[i][3]>=r[i+1][3] for i in range(4)) else 1)" "$T/se"'
page cohorts >"$T/co"
sql=$(psql_q "SELECT string_agg(m || ':' || n, ',' ORDER BY m) FROM (SELECT to_char(to_timestamp(f / 1e6) AT TIME ZONE 'UTC', 'YYYY-MM') AS m, count(*) AS n
	FROM (SELECT card, min(time_us) AS f FROM sales WHERE type='sale' AND card IS NOT NULL GROUP BY card) c GROUP BY 1) x")
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=[x for x in d["tables"] if x["name"]=="retention"][0]; print(",".join("%s:%d" % (r[0], r[1]) for r in t["rows"]))' "$T/co")
check "cohort sizes = cards by the month of their first sale ($got)" '[ "$got" = "$sql" ]'

# ---- stores ----
page stores >"$T/st"
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join("%s:%d:%d" % (r[0], r[1], r[5]) for r in d["tables"][0]["rows"]))' "$T/st")
sql=$(psql_q "SELECT string_agg(store_id || ':1:' || n, ',' ORDER BY store_id) FROM (SELECT store_id, count(*) FILTER (WHERE type='sale') AS n FROM sales GROUP BY 1) x")
check "stores: terminals and sales per store ($got)" '[ "$got" = "$sql" ]'

# ---- exactly once: a duplicate batch changes nothing; an overlapping one adds only its new part ----
cat >"$T/post.py" <<'PY'
import gzip, json, sys, urllib.request
url, cred, first, last, cents = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sales = [{"seq": q, "time_us": 1764000000000000 + q, "card": "4000000000000002", "currency": "EUR", "tender": "card",
          "total_cents": cents, "discount_cents": 0, "tendered_cents": cents, "points_earned": 5,
          "items": [{"gtin": "04006374000017", "qty": 1, "price_cents": cents, "line_cents": cents}], "redeemed": []}
         for q in range(first, last + 1)]
hdr = {"format": "posmark-batch", "version": 1, "kind": "sales", "store": "S2", "terminal": "T9", "first_seq": first,
       "last_seq": last, "count": len(sales)}
body = gzip.compress(("\n".join(json.dumps(l) for l in [hdr] + sales) + "\n").encode())
r = urllib.request.Request(url + "/v1/batches", data=body, method="POST",
                           headers={"X-Posmark-Store": "S2", "Authorization": "Bearer " + cred})
print(urllib.request.urlopen(r).read().decode())
PY
python3 "$T/post.py" "$HQ_URL" "$cred2" 1 2 500 >/dev/null
snapshot >"$T/before"
python3 "$T/post.py" "$HQ_URL" "$cred2" 1 2 999999 >"$T/dup.out"
snapshot >"$T/after"
check "a batch HQ holds already is acknowledged and changes no rollup" 'grep -q "acked_seq" "$T/dup.out" && cmp -s "$T/before" "$T/after"'
python3 "$T/post.py" "$HQ_URL" "$cred2" 2 3 700 >/dev/null
check "an overlapping batch stores only its new sale" '[ "$(psql_q "SELECT string_agg(total_cents::text, '\'','\'' ORDER BY seq) FROM sales WHERE terminal='\''T9'\''")" = "500,500,700" ]'
same_as_rebuild "after a duplicate and an overlapping batch"

# ---- a return, an adjustment and an erasure keep the rollups equal to a rebuild ----
ret=$(python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])]; s=[x for x in e if x.get("event")=="sale_committed"][-1]; print(s["terminal"] + ":" + str(s["seq"]))' "$T/fol.jsonl")
rgtin=$(python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])]; i=[x for x in e if x.get("event")=="item_added"][-1]; print(i["gtin"].lstrip("0").rjust(13, "0"))' "$T/fol.jsonl")
printf '#clock 2026-12-01T10:00:00Z\n#return %s\n%s\n#tender card\n' "$ret" "$rgtin" >"$T/ret.scans"
pm2 checkout --scans "$T/ret.scans" --json >"$T/ret.jsonl" 2>/dev/null
pm2 sync --once >/dev/null 2>&1
check "the return reached HQ" '[ "$(psql_q "SELECT count(*) FROM sales WHERE type='\''return'\''")" -ge 1 ]'
same_as_rebuild "after a return"
"$POSMARK_HQ" card adjust "$pcard" 250 --reason "console test" --db "$HQ_DB" >/dev/null 2>&1
page liability >"$T/li2"
check "an adjustment shows in the liability page at once" '[ "$(fig "$T/li2" adjusted)" = 250 ]'
same_as_rebuild "after an adjustment"
ecard=$(psql_q "SELECT card FROM rollup_offer WHERE converted_us IS NOT NULL ORDER BY card LIMIT 1")
"$POSMARK_HQ" erase "$ecard" --db "$HQ_DB" >/dev/null 2>&1
check "the erased card is gone from every rollup" '[ "$(psql_q "SELECT (SELECT count(*) FROM rollup_card WHERE card='\''$ecard'\'') + (SELECT count(*) FROM rollup_offer WHERE card='\''$ecard'\'')")" = 0 ]'
same_as_rebuild "after an erasure"
page overview >"$T/ov3"
check "members after the erasure = cards with a sale" '[ "$(fig "$T/ov3" members)" = "$(psql_q "SELECT count(DISTINCT card) FROM sales WHERE type='\''sale'\'' AND card IS NOT NULL")" ]'
check "an unknown page is refused with the page names" '! "$POSMARK_HQ" page nosuch --db "$HQ_DB" 2>"$T/err" >/dev/null && grep -q "overview, liability" "$T/err"'
