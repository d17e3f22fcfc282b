#!/usr/bin/env bash
# hq_vault_cache.sh - ingest's cache of the vault's refs (hq/hq_vault_cache.c; docs/hq.md,
# "Ingest"): known cards are taken from the receiver's cache (one pool connection: every batch
# goes through it), an erasure at HQ (another process) empties it, so the erased number sold
# again becomes a new card, never its old ref; a key rotation while serve runs empties it too and
# the known cards keep their refs; a batch that is refused leaves nothing in the cache; migration
# 9 (the vault's generation and its trigger) is idempotent.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off
POSMARK_DEBUG=3 hq_start --workers 1
T=$HQ_TMP
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
X=6036010000009000011 Y=6036010000009000029 Z=6036010000009000037
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
ref_of() { psql_q "SELECT card FROM sales WHERE store_id = '$1' AND terminal = '$2' AND seq = $3"; }
hits() { grep -c "vault: $1 card(s), $2 from the cache" "$T/hq.log"; }

r1=$(post S1 "$cred1" T1 1 "$X" "$Y")
RX=$(hq_ref "$X") RY=$(hq_ref "$Y")
r2=$(post S1 "$cred1" T1 3 "$X" "$Y")
check "known cards come from the cache: the same refs, no vault row added" '[ "$r1 $r2" = "200 200" ] && [ -n "$RX" ] && [ -n "$RY" ] && [ "$(ref_of S1 T1 3)" = "$RX" ] && [ "$(ref_of S1 T1 4)" = "$RY" ] && [ "$(psql_q "SELECT count(*) FROM card_vault")" = 2 ] && [ "$(hits 2 2)" -ge 1 ]'

# a batch refused after its new card's vault row was made (a time far in the future, found while
# decoding): rolled back, so the card stays out of the vault and out of the cache (checked below:
# Z sold again gets a ref that has its vault row)
r3=$(FUTURE_LAST=1 post S1 "$cred1" T1 5 "$Z" "$Y")
check "a batch refused after its cards were resolved leaves no vault row" '[ "$r3" = 400 ] && [ -z "$(hq_ref "$Z")" ] && [ "$(psql_q "SELECT count(*) FROM card_vault")" = 2 ]'

# erasure at HQ by another process: the vault's generation moves, the cache is emptied; the number
# sold again at a store that never saw it (no erasure pending there) is a new card with a new ref
g0=$(psql_q "SELECT generation FROM vault_meta")
"$POSMARK_HQ" erase "$X" --db "$HQ_DB" 2>/dev/null; rc=$?
g1=$(psql_q "SELECT generation FROM vault_meta")
r4=$(post S2 "$cred2" U1 1 "$X" "$Y")
NX=$(hq_ref "$X")
check "erasure moves the vault's generation" '[ $rc -eq 0 ] && [ "$g1" -gt "$g0" ]'
check "an erased card is never resurrected from the cache: a new ref, nothing under the old one" '[ "$r4" = 200 ] && [ -n "$NX" ] && [ "$NX" != "$RX" ] && [ "$(ref_of S2 U1 1)" = "$NX" ] && [ "$(psql_q "SELECT (SELECT count(*) FROM sales WHERE card = '\''$RX'\'') + (SELECT count(*) FROM card_vault WHERE ref = '\''$RX'\'')")" = 0 ] && [ "$(ref_of S2 U1 2)" = "$RY" ]'

# key rotation while serve runs: every lookup changes; the cache must not answer under the old key
"$POSMARK_HQ" keys rotate --db "$HQ_DB" 2>/dev/null; rc=$?
r5=$(post S1 "$cred1" T1 5 "$Y" "$Z")
check "rotation while serving: known cards keep their refs, a new card gets one, one vault row each" '[ $rc -eq 0 ] && [ "$r5" = 200 ] && [ "$(ref_of S1 T1 5)" = "$RY" ] && [ -n "$(hq_ref "$Z")" ] && [ "$(ref_of S1 T1 6)" = "$(hq_ref "$Z")" ] && [ "$(psql_q "SELECT count(*) FROM card_vault")" = 3 ]'
r6=$(post S1 "$cred1" T1 7 "$Y" "$Z")
check "... and after it the cache answers again" '[ "$r6" = 200 ] && [ "$(ref_of S1 T1 7)" = "$RY" ] && [ "$(ref_of S1 T1 8)" = "$(hq_ref "$Z")" ] && [ "$(hits 2 2)" -ge 2 ]'

# POSMARK_HQ_VAULT_CACHE=0: no cache, the same refs
hq_stop
POSMARK_HQ_VAULT_CACHE=0 POSMARK_DEBUG=3 hq_start --workers 1
: >"$T/hq.log"
r7=$(post S1 "$cred1" T1 9 "$Y" "$Z")
check "POSMARK_HQ_VAULT_CACHE=0: no cache, the same refs" '[ "$r7" = 200 ] && [ "$(ref_of S1 T1 9)" = "$RY" ] && ! grep -q "from the cache" "$T/hq.log"'

# migration 9 is idempotent: applied again over itself, nothing changes
schema_v=$(sed -n 's/^#define HQ_SCHEMA_VERSION \([0-9]*\).*/\1/p' hq/hq.h)
psql_q "DELETE FROM schema_migrations WHERE version = 9" >/dev/null
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>/dev/null; rc=$?
check "migration 9 applies again over itself (idempotent), one trigger" '[ $rc -eq 0 ] && [ "$(psql_q "SELECT count(*) FROM pg_trigger WHERE tgname = '\''card_vault_changed'\''")" = 1 ] && [ "$(psql_q "SELECT max(version) FROM schema_migrations")" = "$schema_v" ]'
