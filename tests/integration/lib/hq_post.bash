# hq_post.bash - sourced by the vault's ingest tests (hq_vault_cache.sh, hq_vault_beside.sh)
# after hq_env.bash: HQ_URL must be set (hq_start).
# post STORE CRED TERMINAL FIRST_SEQ CARD...: one sales batch (v2, an earn entry each); prints the HTTP status
post() {
	python3 - "$HQ_URL" "$@" <<'PY'
import gzip, json, os, sys, time, urllib.request, urllib.error
url, store, cred, term, first = sys.argv[1:6]
cards, first, now = sys.argv[6:], int(first), int(time.time()) * 1000000
sales = [{"seq": first + i, "time_us": now - 1000 + i, "card": c, "currency": "EUR", "tender": "cash",
          "total_cents": 100, "discount_cents": 0, "tendered_cents": 100, "points_earned": 1, "items": [],
          "redeemed": [], "type": "sale", "points_spent": 0, "point_value_cents": 1,
          "ledger": [{"kind": "earn", "points": 1}]} for i, c in enumerate(cards)]
if os.environ.get("FUTURE_LAST"):  # refused while decoding, after the batch's cards were resolved
    sales[-1]["time_us"] = now + 60 * 86400 * 1000000
head = {"format": "posmark-batch", "version": 2, "kind": "sales", "store": store, "terminal": term,
        "first_seq": first, "last_seq": first + len(cards) - 1, "count": len(cards)}
body = gzip.compress("\n".join(json.dumps(x) for x in [head] + sales).encode() + b"\n")
rq = urllib.request.Request(url + "/v1/batches", data=body, method="POST",
                            headers={"X-Posmark-Store": store, "Authorization": "Bearer " + cred})
try:
    print(urllib.request.urlopen(rq).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
