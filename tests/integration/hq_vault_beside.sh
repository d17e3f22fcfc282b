#!/usr/bin/env bash
# hq_vault_beside.sh - a sales batch's new card vault rows written on a second connection while
# the batch's COPY runs (hq/hq_vault_rows.c; docs/privacy.md, "Ingest"): the rows are there and
# open to the numbers sold; a refused batch leaves none; a side transaction that waits too long
# or loses its connection makes the batch run again with the rows in its own transaction, stored
# once; two terminals bringing the same new cards at once get one row per number;
# POSMARK_HQ_VAULT_BESIDE=off writes them in the batch's transaction as before; with no room for a
# second connection the work stays on the main one and the connect is retried once a minute.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
. tests/integration/lib/hq_post.bash
trap hq_cleanup EXIT
pg_start fsync=off
POSMARK_DEBUG=3 hq_start --workers 2
T=$HQ_TMP
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
vault() { psql_q "SELECT count(*) FROM card_vault"; }
# cards NAME FROM COUNT: that many numbers
cards() { seq -f "60360100000$1%06g" "$2" $(($2 + $3 - 1)); }
# every sale of terminal TERM names a ref that has its vault row
all_in_vault() { [ "$(psql_q "SELECT count(*) FROM sales s WHERE terminal = '$1' AND NOT EXISTS (SELECT 1 FROM card_vault v WHERE v.ref = s.card)")" = 0 ]; }
# the ref of sale TERM:SEQ opens to NUMBER (the vault row is the card's, sealed under HQ's key)
opens_to() { [ "$(hq_number "$(psql_q "SELECT card FROM sales WHERE terminal = '$1' AND seq = $2")")" = "$3" ]; }

v0=$(vault)
mapfile -t A < <(cards 11 1 50)
r1=$(post S1 "$cred" T1 1 "${A[@]}")
check "50 new cards: their rows written on the second connection, every sale's ref in the vault" '[ "$r1" = 200 ] && grep -q "vault: 50 new card row(s) on the second connection" "$T/hq.log" && [ "$(vault)" = $((v0 + 50)) ] && all_in_vault T1 && [ "$(psql_q "SELECT count(DISTINCT card) FROM sales WHERE terminal = '\''T1'\''")" = 50 ]'
check "... and each opens to the number sold (first, middle, last)" 'opens_to T1 1 "${A[0]}" && opens_to T1 25 "${A[24]}" && opens_to T1 50 "${A[49]}"'
check "the side connection is named in pg_stat_activity" '[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\''posmark-hq ingest vault'\''")" -ge 1 ]'

# refused while decoding, after its rows went to the second connection: rolled back there too
mapfile -t B < <(cards 12 1 20)
: >"$T/hq.log"
r2=$(FUTURE_LAST=1 post S1 "$cred" T1 51 "${B[@]}")
check "a refused batch of 20 new cards leaves no vault row" '[ "$r2" = 400 ] && grep -q "vault: 20 new card row(s) on the second connection" "$T/hq.log" && [ "$(vault)" = $((v0 + 50)) ] && [ -z "$(hq_ref "${B[0]}")" ]'

# the side transaction waits on a lock past its lock_timeout (3 s): the batch runs again with the
# rows in its own transaction (which waits for the lock as ingest always did), stored once
psql -X -q "$HQ_DB" -c "BEGIN; LOCK TABLE card_vault IN SHARE MODE; SELECT pg_sleep(5); COMMIT" >/dev/null 2>&1 &
lockpid=$!
sleep 0.5
mapfile -t C < <(cards 13 1 10)
: >"$T/hq.log"
r3=$(post S1 "$cred" T2 1 "${C[@]}")
wait "$lockpid"
check "a side transaction that waited too long: the batch again in its own transaction, stored once" '[ "$r3" = 200 ] && grep -q "the batch again, its vault rows in its own transaction" "$T/hq.log" && [ "$(vault)" = $((v0 + 60)) ] && all_in_vault T2 && [ "$(psql_q "SELECT count(*) FROM sales WHERE terminal = '\''T2'\''")" = 10 ] && opens_to T2 10 "${C[9]}"'

# the side connection cut between batches (its backend terminated): the next batch is stored
psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'posmark-hq ingest vault'" >/dev/null
mapfile -t D < <(cards 14 1 10)
: >"$T/hq.log"
r4=$(post S1 "$cred" T2 11 "${D[@]}")
r5=$(post S1 "$cred" T2 21 $(cards 15 1 10))
check "the vault's side connection cut: the batch again without it, the next on a new one; stored once, their rows in the vault" '[ "$r4 $r5" = "200 200" ] && [ "$(grep -c "the batch again, its vault rows in its own transaction" "$T/hq.log")" = 1 ] && [ "$(grep -c "new card row(s) on the second connection" "$T/hq.log")" = 2 ] && [ "$(vault)" = $((v0 + 80)) ] && all_in_vault T2 && [ "$(psql_q "SELECT count(*) FROM sales WHERE terminal = '\''T2'\''")" = 30 ] && opens_to T2 11 "${D[0]}"'

# two terminals bring the same 100 new cards at once, three times: one vault row per number
for round in 1 2 3; do
	mapfile -t E < <(cards 2$round 1 100)
	post S1 "$cred" R$round 1 "${E[@]}" >"$T/race.a" &
	pa=$!
	post S1 "$cred" Q$round 1 "${E[@]}" >"$T/race.b"
	wait "$pa"
	echo "$(cat "$T/race.a") $(cat "$T/race.b")" >>"$T/race"
done
check "the same 100 new cards from two terminals at once, 3 times: every batch stored, one vault row per number" '[ "$(cat "$T/race" | tr "\n" " ")" = "200 200 200 200 200 200 " ] && [ "$(vault)" = $((v0 + 380)) ] && all_in_vault R1 && all_in_vault Q3 && [ "$(psql_q "SELECT count(*) FROM (SELECT s.seq FROM sales s JOIN sales t ON t.seq = s.seq AND t.terminal = '\''Q2'\'' WHERE s.terminal = '\''R2'\'' AND s.card <> t.card) x")" = 0 ]'

# POSMARK_HQ_VAULT_BESIDE=off: the rows in the batch's own transaction, the same result
hq_stop
POSMARK_HQ_VAULT_BESIDE=off POSMARK_DEBUG=3 hq_start --workers 1
: >"$T/hq.log"
mapfile -t F < <(cards 16 1 30)
r6=$(post S1 "$cred" T3 1 "${F[@]}")
check "POSMARK_HQ_VAULT_BESIDE=off: no second connection for the rows, the same result" '[ "$r6" = 200 ] && ! grep -q "on the second connection" "$T/hq.log" && [ "$(vault)" = $((v0 + 410)) ] && all_in_vault T3 && opens_to T3 30 "${F[29]}"'

# no room for a second connection (HQ's role may hold one): the work stays on the main one,
# every batch stored, and the refused connect is tried (and warned about) once a minute per
# slot, not per batch
hq_stop
psql_q "CREATE ROLE hq_one LOGIN CONNECTION LIMIT 1; GRANT ALL ON ALL TABLES IN SCHEMA public TO hq_one;
	GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO hq_one; GRANT ALL ON SCHEMA public TO hq_one" >/dev/null
HQ_DB="host=127.0.0.1 port=$PG_PORT user=hq_one dbname=postgres" POSMARK_DEBUG=3 hq_start --workers 1
: >"$T/hq.log"
rs=""
for k in 1 2 3 4; do rs="$rs $(post S1 "$cred" T4 $((k * 10 - 9)) $(cards 3$k 1 10))"; done
check "no room for a second connection: every batch stored on the main one, one warning per slot" '[ "$rs" = " 200 200 200 200" ] && [ "$(psql_q "SELECT count(*) FROM sales WHERE terminal = '\''T4'\''")" = 40 ] && all_in_vault T4 && [ "$(grep -c "second database connection for ingest" "$T/hq.log")" = 2 ] && ! grep -q "on the second connection" "$T/hq.log"'
