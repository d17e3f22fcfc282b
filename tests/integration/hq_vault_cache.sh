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
. tests/integration/lib/hq_post.bash
trap hq_cleanup EXIT
pg_start fsync=off
POSMARK_DEBUG=3 hq_start --workers 1
T=$HQ_TMP
cred1=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
cred2=$("$POSMARK_HQ" store add S2 --db "$HQ_DB")
X=6036010000009000011 Y=6036010000009000029 Z=6036010000009000037
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
psql_q "DELETE FROM schema_migrations WHERE version = 9" >/dev/null
"$POSMARK_HQ" migrate --db "$HQ_DB" 2>/dev/null; rc=$?
check "migration 9 applies again over itself (idempotent), one trigger" '[ $rc -eq 0 ] && [ "$(psql_q "SELECT count(*) FROM pg_trigger WHERE tgname = '\''card_vault_changed'\''")" = 1 ] && [ "$(psql_q "SELECT count(*) FROM schema_migrations WHERE version = 9")" = 1 ]'
