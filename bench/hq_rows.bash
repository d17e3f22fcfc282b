# bench/hq_rows.bash - sourced by bench/hq_accounts.sh and bench/hq_card_front.sh: the chain
# accounts both measure `posmark-hq card` over.
# hq_rows_cards_and_entries CARDS ENTRIES NOWUS DIR: CARDS cards by one `cards import` (a vault
# row, an account and an import entry each: every number gets its ref, docs/privacy.md), then
# ENTRIES earn entries generated in the server on those refs (INSERT ... SELECT generate_series:
# COPY's speed without a file), the balances brought to their sums. Needs hq_env.bash's psql_q,
# $POSMARK_HQ and $HQ_DB; exits with "not ok" when a step fails.
hq_rows_cards_and_entries() {
	local cards=$1 entries=$2 nowus=$3 dir=$4
	python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range($cards): f.write('%d,1\\n' % (8000000000000 + i))" "$dir/cards.csv"
	"$POSMARK_HQ" cards import "$dir/cards.csv" --db "$HQ_DB" 2>/dev/null || { echo "not ok - could not import the cards"; exit 1; }
	psql_q "CREATE TABLE bench_refs AS SELECT row_number() OVER (ORDER BY card) - 1 AS i, card FROM ledger
		WHERE terminal_key = 'hq-import'; CREATE INDEX ON bench_refs (i); ANALYZE bench_refs"
	psql_q "INSERT INTO ledger (terminal_key, seq, kind, store_id, terminal, card, time_us, points)
		SELECT 'G/T', g, 'earn', 'G', 'T', r.card, $nowus - g * 1000, 1 + g % 7
		FROM generate_series(1::bigint, $entries) g JOIN bench_refs r ON r.i = g % $cards" ||
		{ echo "not ok - could not generate the ledger rows"; exit 1; }
	psql_q "UPDATE accounts a SET points = a.points + s.p FROM (SELECT card, sum(points) AS p FROM ledger
		WHERE terminal_key = 'G/T' GROUP BY card) s WHERE a.card = s.card; ANALYZE ledger; ANALYZE accounts"
}
