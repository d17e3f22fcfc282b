#!/usr/bin/env bash
# pos_contract.sh - the POS application's side of posmark (issue 14), with the
# real program (TAP-style "ok" / "not ok" lines):
#  - read-only commands (history, card show, receipt, status, explain) never
#    create a log: a missing --data directory, or one without a log, is an
#    error naming the path (exit 1, with a hint), and nothing is created;
#  - a missing config file is said as missing, with a hint about the path;
#  - the example clients (docs/examples/pos_client.py and pos_client.sh) run
#    against a fresh daemon, send receipt_printed after printing, and the
#    app's product name shows on the receipt reprinted from the log.
# Environment: POSMARK (set by tests/run.sh).
set -u
cd "$(dirname "$0")/../.."
P=${POSMARK:-$PWD/bin/posmark}
export POSMARK_CONFIG=none
status=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; status=1; }
T=$(mktemp -d)
DPID=
cleanup() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
CARD=6036010000001000005

# check NAME EXPECT_TEXT CMD...: exit 1, EXPECT_TEXT and a hint on stderr.
check_fail() {
	local name=$1 want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$T/err" && grep -q '^hint: ' "$T/err"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, stderr: $(tr '\n' ' ' <"$T/err"))"
	fi
}

for dir in "$T/missing" "$T/empty"; do
	[ "$dir" = "$T/empty" ] && mkdir "$T/empty"
	what=$([ "$dir" = "$T/missing" ] && echo "does not exist" || echo "holds no purchase log")
	check_fail "history on $(basename "$dir") --data: error naming it" "'$dir' $what" "$P" history "$CARD" --data "$dir"
	check_fail "card show on $(basename "$dir") --data: error naming it" "'$dir' $what" "$P" card show "$CARD" --data "$dir"
	check_fail "receipt --sale on $(basename "$dir") --data: error naming it" "'$dir' $what" "$P" receipt --sale 1 --data "$dir"
	check_fail "status (no daemon) on $(basename "$dir") --data: error naming it" "'$dir' $what" \
		"$P" status --data "$dir" --socket "$T/none.sock"
	check_fail "explain on $(basename "$dir") --data: error naming it" "'$dir' $what" "$P" explain --basket 4006381333931 --data "$dir"
done
[ ! -e "$T/missing" ] && ok "no read-only command created the missing directory" || not_ok "the missing directory was created"
[ -z "$(ls -A "$T/empty")" ] && ok "no read-only command created a log in the empty directory" \
	|| not_ok "files were created in the empty directory: $(ls -A "$T/empty" | tr '\n' ' ')"

"$P" history "$CARD" --config "$T/nope.conf" --data "$T/missing" >/dev/null 2>"$T/err"
if grep -qF "cannot read config file '$T/nope.conf': it does not exist" "$T/err" && grep -q '^hint: .*--config' "$T/err"; then
	ok "a missing --config file is said as missing, the hint about --config"
else
	not_ok "missing --config: $(tr '\n' ' ' <"$T/err")"
fi
POSMARK_CONFIG="$T/nope2.conf" "$P" history "$CARD" --data "$T/missing" >/dev/null 2>"$T/err"
if grep -qF "cannot read config file '$T/nope2.conf': it does not exist" "$T/err" && grep -q '^hint: .*POSMARK_CONFIG' "$T/err"; then
	ok "a missing POSMARK_CONFIG file is said as missing, the hint about POSMARK_CONFIG"
else
	not_ok "missing POSMARK_CONFIG file: $(tr '\n' ' ' <"$T/err")"
fi

# The example clients against a fresh daemon.
DATA=$T/log SOCK=$T/pm.sock
"$P" daemon --data "$DATA" --socket "$SOCK" 2>"$T/daemon.err" &
DPID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
requests() { python3 -c 'import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"op\":\"status\"}\n")
print(json.loads(s.makefile().readline())["api"]["requests"])' "$SOCK"; }

before=$(requests)
if python3 docs/examples/pos_client.py "$SOCK" >"$T/py.out" 2>&1 && grep -q '^sale [0-9]* committed' "$T/py.out"; then
	ok "pos_client.py runs against a fresh daemon"
else
	not_ok "pos_client.py: $(tr '\n' ' ' <"$T/py.out")"
fi
after=$(requests)
# sale_open, 2 line_add, card, tender, receipt_printed; and the status call itself
[ $((after - before)) -eq 7 ] && ok "pos_client.py sends receipt_printed after the receipt (6 requests)" \
	|| not_ok "pos_client.py sent $((after - before - 1)) requests, not 6 (receipt_printed missing?)"

before=$(requests)
if bash docs/examples/pos_client.sh "$SOCK" >"$T/sh.out" 2>&1 && grep -q '"event":"sale_committed"' "$T/sh.out"; then
	ok "pos_client.sh runs against a fresh daemon"
else
	not_ok "pos_client.sh: $(tr '\n' ' ' <"$T/sh.out")"
fi
after=$(requests)
[ $((after - before)) -eq 6 ] && grep -q '"id":5' "$T/sh.out" \
	&& ok "pos_client.sh sends receipt_printed after the receipt and reads its reply" \
	|| not_ok "pos_client.sh sent $((after - before - 1)) requests, not 5"

kill "$DPID"; wait "$DPID"; DPID=
"$P" receipt --sale 1 --data "$DATA" >"$T/r1" 2>&1
grep -q 'Whole milk 1L' "$T/r1" && ok "the app's product name shows on the receipt reprinted from the log" \
	|| not_ok "receipt --sale 1 has no 'Whole milk 1L': $(head -8 "$T/r1" | tr '\n' '|')"
exit $status
