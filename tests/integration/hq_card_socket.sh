#!/usr/bin/env bash
# hq_card_socket.sh - `posmark-hq card` answered by the running serve over its admin
# socket (hq_admin_sock.c, docs/hq.md): the same bytes and exit codes as the direct path
# (text and JSON; a known, an unknown and an erased card), another database's serve not
# asked, a dead serve's socket (stale file) falling back, garbage / oversized / silent
# clients refused while serve keeps answering, the file's mode 0660, and an unsafe
# directory refused.
# The front program (bin/posmark-hq, hq_front_main.c, docs/hq.md "The front program"): the
# same bytes and exit codes as the full program (posmark-hq-main) for found, unknown, erased,
# --json, bad input and every other shape of card; answered without the full program when serve
# answers; falls back to it when serve is down, the socket absent, or hq.conf not one it takes.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
T=$HQ_TMP
mkdir -m 0750 "$T/run"
S=$T/run/admin.sock
printf 'card,points,tier\n7770001,300,1\n7770002,100\n7770003,5\n' >"$T/legacy.csv"
"$POSMARK_HQ" cards import "$T/legacy.csv" --db "$HQ_DB" 2>/dev/null
"$POSMARK_HQ" card adjust 7770001 25 --reason "goodwill: parcel lost, ä" --db "$HQ_DB" 2>/dev/null
"$POSMARK_HQ" erase 7770002 --db "$HQ_DB" 2>/dev/null
# a long ledger (~200 KB of output): a reply in many reads (HQ's tables name the card by its
# vault ref, docs/privacy.md)
ref3=$(hq_ref 7770003)
psql_q "INSERT INTO ledger (terminal_key, seq, kind, store_id, terminal, card, time_us, points)
	SELECT 'G/T', g, 'earn', 'G', 'T', '$ref3', 1700000000000000 + g, 1 FROM generate_series(1, 3000) g"

# card_run NAME CARD [ARGS]: exit code in $T/NAME.rc, stdout/stderr in $T/NAME.out/.err
card_run() {
	local n=$1 card=$2; shift 2
	"$POSMARK_HQ" card "$card" --db "$HQ_DB" "$@" >"$T/$n.out" 2>"$T/$n.err"; echo $? >"$T/$n.rc"
}
same() { cmp -s "$T/$1.out" "$T/$2.out" && cmp -s "$T/$1.err" "$T/$2.err" && cmp -s "$T/$1.rc" "$T/$2.rc"; }
via() { POSMARK_DEBUG=3 "$POSMARK_HQ" card "$1" --db "$HQ_DB" --admin-socket "$S" 2>&1 >/dev/null | grep -c "$2"; }

# the direct path's answers, before any serve runs
for c in 7770001 7770002 7770003 7779999; do
	card_run "d$c" $c
	card_run "dj$c" $c --json
done
check "direct: the long ledger is long" '[ "$(wc -c <$T/dj7770003.out)" -gt 150000 ]'
check "direct: the known card, the unknown and the erased answer as before" \
	'[ "$(cat $T/d7770001.rc)" = 0 ] && grep -q "325 points" $T/d7770001.out && [ "$(cat $T/d7779999.rc)" = 1 ] && [ "$(cat $T/d7770002.rc)" = 1 ]'

hq_start --admin-socket "$S"
check "serve: the admin socket is there, mode 0660" '[ -S "$S" ] && [ "$(stat -c %a "$S")" = 660 ]'
for c in 7770001 7770002 7770003 7779999; do
	card_run "s$c" $c --admin-socket "$S"
	card_run "sj$c" $c --admin-socket "$S" --json
	check "card $c over the socket: same bytes, message and exit code as direct (text)" "same d$c s$c"
	check "card $c over the socket: same bytes, message and exit code as direct (json)" "same dj$c sj$c"
done
check "the lookup was answered by serve (not the database directly)" '[ "$(via 7770001 "answered by serve")" = 1 ] && [ "$(via 7779999 "answered by serve")" = 1 ]'
check "a card from hq.conf's admin_socket asks serve too" \
	'printf "db = %s\nadmin_socket = %s\n" "$HQ_DB" "$S" >"$T/hq.conf"; [ "$(POSMARK_HQ_CONFIG=$T/hq.conf POSMARK_DEBUG=3 "$POSMARK_HQ" card 7770001 2>&1 >/dev/null | grep -c "answered by serve")" = 1 ]'
check "another database string: serve is not asked, the database is" \
	'[ "$(POSMARK_DEBUG=3 "$POSMARK_HQ" card 7770001 --db "$HQ_DB connect_timeout=5" --admin-socket "$S" 2>&1 >/dev/null | grep -c "asked directly")" = 1 ]'

# ---- the front program: bin/posmark-hq answers card itself or runs the full program ----
MAIN=$(dirname "$POSMARK_HQ")/posmark-hq-main
# main_run NAME ARGS: the full program itself; front_run NAME ARGS: the front (bin/posmark-hq)
main_run() { local n=$1; shift; "$MAIN" "$@" >"$T/$n.out" 2>"$T/$n.err"; echo $? >"$T/$n.rc"; }
front_run() { local n=$1; shift; "$POSMARK_HQ" "$@" >"$T/$n.out" 2>"$T/$n.err"; echo $? >"$T/$n.rc"; }
n=0
for args in "card 7770001" "card 7770001 --json" "card 7779999" "card 7779999 --json" "card 7770002" \
	"card 77x" "card" "card 7770001 extra" "card ref 7770001" "card 7770001 --help" "card --json 7770003" \
	"card 7770001 --db" "card 7770001 --quiet" "card 7770001 --card-key $T/other.key" "--version" "help card"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	main_run "m$n" $args --db "$HQ_DB" --admin-socket "$S"
	# shellcheck disable=SC2086
	front_run "f$n" $args --db "$HQ_DB" --admin-socket "$S"
	check "front and full program: '$args': same bytes, message and exit code" "same m$n f$n"
done
# the front alone (no full program beside it) still answers: it did not run the full program
mkdir -p "$T/alone"; cp "$POSMARK_HQ" "$T/alone/posmark-hq"
"$T/alone/posmark-hq" card 7770001 --db "$HQ_DB" --admin-socket "$S" --json >"$T/alone.out" 2>"$T/alone.err"; echo $? >"$T/alone.rc"
check "the front answers card by itself when serve answers (no full program beside it)" "same sj7770001 alone"
"$T/alone/posmark-hq" card 7779999 --db "$HQ_DB" --admin-socket "$S" >"$T/alone2.out" 2>"$T/alone2.err"; echo $? >"$T/alone2.rc"
check "... and an unknown card, with the same message and exit code" "same s7779999 alone2"
"$T/alone/posmark-hq" card 7770001 --db "$HQ_DB" >"$T/alone3.out" 2>"$T/alone3.err"; rc=$?
check "without an admin socket it runs the full program; none there: exit 127, says where it looked, with a hint" \
	'[ $rc = 127 ] && grep -q "cannot run .*libexec/posmark-hq/posmark-hq-main or .*/posmark-hq-main" $T/alone3.err && grep -q "^hint: reinstall" $T/alone3.err'
"$T/alone/posmark-hq" --version >/dev/null 2>&1; rc=$?
check "every other command too (--version)" '[ $rc = 127 ]'
# hq.conf: the front reads it as the full program does
printf 'db = %s\nadmin_socket = %s\n' "$HQ_DB" "$S" >"$T/ok.conf"
check "the front from hq.conf alone: answered by serve, same bytes" \
	'"$T/alone/posmark-hq" card 7770001 --config "$T/ok.conf" >"$T/conf.out" 2>/dev/null && cmp -s "$T/conf.out" "$T/d7770001.out"'
printf 'db = %s\nadmin_socket = %s\nworkers = 99\n' "$HQ_DB" "$S" >"$T/bad.conf"
main_run mbad card 7770001 --config "$T/bad.conf"; front_run fbad card 7770001 --config "$T/bad.conf"
check "an hq.conf the full program refuses: the front does not answer; the same error, exit 2" \
	'same mbad fbad && [ "$(cat $T/fbad.rc)" = 2 ] && grep -q "workers" $T/fbad.err'
printf 'db = %s\nadmin_socket = %s\n[loyalty]\ntiers = member:0:100, gold:100.00:200\n' "$HQ_DB" "$S" >"$T/tiers.conf"
front_run ftiers card 7770001 --config "$T/tiers.conf"; main_run mtiers card 7770001 --config "$T/tiers.conf"
check "another tier table than serve's: serve is not asked (OTHER), the full program answers the same as itself" \
	'same mtiers ftiers && [ "$(cat $T/ftiers.rc)" = 0 ] && [ "$(POSMARK_DEBUG=3 "$POSMARK_HQ" card 7770001 --config "$T/tiers.conf" 2>&1 >/dev/null | grep -c "asked directly")" = 1 ]'
front_run absent card 7770001 --db "$HQ_DB" --admin-socket "$T/run/none.sock"
check "a socket path where nothing is: the database answers, same bytes as direct" "same d7770001 absent"

# hostile clients: garbage, oversized, silent; serve refuses each and keeps answering
cat >"$T/poke.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
what = sys.argv[2]
try:
    if what == "garbage": s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    elif what == "big": s.sendall(b"card1 0 " + b"a" * 100000)
    elif what == "badkey": s.sendall(b"card1 0 " + b"0" * 64 + b" 7770001\n")
    elif what == "nocard": s.sendall(b"card1 1 " + b"0" * 64 + b" 77x\n")
except OSError: pass
data = b""
try:
    while True:
        b = s.recv(4096)
        if not b: break
        data += b
except OSError: pass
print(data.decode(errors="replace").strip())
PY
check "garbage is refused" '[ "$(python3 $T/poke.py $S garbage)" = "ERR malformed request" ]'
check "an oversized request is refused" 'python3 $T/poke.py $S big | grep -q "^ERR request too long"'
check "a malformed card is refused" '[ "$(python3 $T/poke.py $S nocard)" = "ERR malformed request" ]'
check "another database's key gets OTHER, no account" '[ "$(python3 $T/poke.py $S badkey)" = OTHER ]'
check "a silent client is cut off" 'python3 $T/poke.py $S silent | grep -q "^ERR request too long, too slow"'
check "serve keeps running and answering after them" 'kill -0 $HQ_PID && [ "$(via 7770001 "answered by serve")" = 1 ]'
card_run after 7770001 --admin-socket "$S"
check "and still the same bytes" "same d7770001 after"

# a dead serve leaves its socket file: card falls back, a new serve replaces the file
kill -9 "$HQ_PID"; wait "$HQ_PID" 2>/dev/null; HQ_PID=
check "stale: the dead serve's socket file is still there" '[ -S "$S" ]'
for c in 7770001 7779999; do
	card_run "st$c" $c --admin-socket "$S"
	card_run "stj$c" $c --admin-socket "$S" --json
	check "stale socket, card $c: falls back to the database, same output and exit code" "same d$c st$c && same dj$c stj$c"
done
check "stale socket: asked directly" '[ "$(via 7770001 "asked directly")" = 1 ]'
HQ_PORT= hq_start --admin-socket "$S"
check "a new serve replaces the stale socket and answers" '[ "$(stat -c %a "$S")" = 660 ] && [ "$(via 7770001 "answered by serve")" = 1 ]'
"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$(free_port)" --admin-socket "$S" 2>"$T/second.err"; rc=$?
check "a second serve on a live socket is refused" '[ $rc = 1 ] && grep -q "another posmark-hq serve answers" $T/second.err'
hq_stop
check "a stopped serve removes its socket" '[ ! -e "$S" ]'

mkdir -m 0777 "$T/open"; chmod 0777 "$T/open"
"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$(free_port)" --admin-socket "$T/open/a.sock" 2>"$T/open.err"; rc=$?
check "a directory others can write is refused, with a hint" '[ $rc = 1 ] && grep -q "writable by others" $T/open.err && grep -q "^hint:" $T/open.err'
check "serve's log: no sanitizer report (leaks, races at stop)" '! grep -q "Sanitizer\|runtime error" $T/hq.log'
