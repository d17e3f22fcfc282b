#!/usr/bin/env bash
# service.sh - what running posmark and posmark-hq as Debian services needs
# (issue 17): the default config file (through its override variable), --help
# and --version of every command of both programs (the man pages are made from
# them), sd_notify readiness from a real daemon on a real datagram socket,
# syslog priority prefixes when stderr is the journal, the bounded receipt file.
set -u
cd "$(dirname "$0")/../.."
P=${POSMARK:-$PWD/bin/posmark}
PHQ=${POSMARK_HQ:-$PWD/bin/posmark-hq}
T=$(mktemp -d /tmp/posmark-service-XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if type hq_cleanup >/dev/null 2>&1; then
		hq_cleanup
		sleep 0.2; rm -rf "$HQ_TMP"   # PostgreSQL may still have been removing its files
	fi
	rm -rf "$T"
}
trap cleanup EXIT
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
VERSION=$(sed -n 's/^#define PM_VERSION "\(.*\)"/\1/p' common/pm_version.h)

# ---- a notify socket: every datagram on its own line in $2 (newlines as |) ----
# listen_notify ADDR FILE [SOCKET_TO_CHECK]: with a socket path, each READY=1
# line records whether that socket existed when READY=1 arrived.
listen_notify() {
	python3 - "$@" <<'PY' &
import os, socket, sys
addr, out = sys.argv[1], sys.argv[2]
check = sys.argv[3] if len(sys.argv) > 3 else None
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".bound", "w").close()
s.settimeout(60)
with open(out, "a") as f:
    while True:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            break
        extra = ""
        if check and "READY=1" in m:
            extra = " socket_exists=%d" % os.path.exists(check)
        f.write(m.replace("\n", "|") + extra + "\n")
        f.flush()
        if "STOPPING=1" in m:
            break
PY
	PIDS+=($!)
	for _ in $(seq 1 100); do [ -e "$2.bound" ] && return 0; sleep 0.05; done
	echo "# notify listener did not start"
}
wait_for() { # wait_for FILE PATTERN [tenths]
	for _ in $(seq 1 "${3:-100}"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# ---- 1. --help, --version, --list-commands of both programs ----------------
for prog in "$P" "$PHQ"; do
	name=$(basename "$prog")
	cmds=$("$prog" --list-commands)
	check "$name --list-commands lists commands, one per line" '[ "$(echo "$cmds" | wc -l)" -ge 8 ] && ! echo "$cmds" | grep -q " "'
	"$prog" --help >"$T/top" 2>&1; rc=$?
	check "$name --help: exit 0, names every command" '[ $rc -eq 0 ] && for c in $cmds; do grep -q "^  $c " "$T/top" || exit 1; done'
	out=$("$prog" --version); rc=$?
	check "$name --version prints '$name $VERSION'" '[ $rc -eq 0 ] && [ "$out" = "$name $VERSION" ]'
	bad=
	for c in $cmds; do
		"$prog" "$c" --help >"$T/h" 2>"$T/h.err"; rc=$?
		# synopsis first, a blank line, the one-line summary, a blank line, options
		if [ $rc -ne 0 ] || [ -s "$T/h.err" ] || ! head -1 "$T/h" | grep -q "^usage: $name $c" ||
			! grep -q "^common options:" "$T/h" || ! grep -qE '^  --[a-z]' "$T/h"; then
			bad="$bad $c"; continue
		fi
		summary=$(awk 'NR>1 && !/^       / {getline; print; exit}' "$T/h")
		[ -n "$summary" ] && grep -qF "$summary" "$T/top" || bad="$bad $c(summary)"
		if grep -q "^options:" "$T/h"; then
			grep -A100 '^options:' "$T/h" | grep -B100 -m1 '^$' | grep -qE '^  --' || bad="$bad $c(options)"
		fi
		out=$("$prog" "$c" --version); [ "$out" = "$name $VERSION" ] || bad="$bad $c(version)"
	done
	check "$name: every COMMAND --help has synopsis, summary, options; exit 0 (bad:$bad)" '[ -z "$bad" ]'
done
check "one version: debian/changelog's is PM_VERSION" '[ "$(sed -n "1s/^posmark (\([^)]*\)).*/\1/p" debian/changelog)" = "$VERSION" ]'
check "posmark daemon --help names its defaults" '"$P" daemon --help | grep -q "default: daemon.socket, /run/posmark/posmark.sock"'
check "posmark-hq serve --help names its defaults" '"$PHQ" serve --help | grep -q "else 4)"'
"$PHQ" nonsense --help >/dev/null 2>"$T/e"; rc=$?
check "posmark-hq: an unknown command is a usage error even with --help" '[ $rc -eq 2 ] && grep -q "unknown command" "$T/e"'

# ---- 2. the default config file, through POSMARK_CONFIG ---------------------
printf 'gtin,name,category,price_cents\n5012342000018,Milk,Dairy,109\n' >"$T/cat.csv"
mkdir -p "$T/etc"
cat >"$T/etc/posmark.conf" <<EOF2
[store]
data = $T/data
name = Service Test Store
[daemon]
socket = $T/pm.sock
EOF2
POSMARK_CONFIG="$T/etc/posmark.conf" "$P" catalog import "$T/cat.csv" 2>/dev/null
check "POSMARK_CONFIG names the file read when --config is not given" '[ -e "$T/data/data.mdb" ]'
printf '5012342000018\n#tender cash\n' >"$T/one.scans"
POSMARK_CONFIG="$T/etc/posmark.conf" "$P" checkout --scans "$T/one.scans" >/dev/null 2>&1
check "... and its options apply (store name on the default receipt file)" 'grep -q "Service Test Store" "$T/data/receipts.txt"'
printf '[store]\nbogus = 1\n' >"$T/bad.conf"
POSMARK_CONFIG="$T/bad.conf" "$P" history 6036010000001000005 >/dev/null 2>"$T/e1"; rc1=$?
"$P" history 6036010000001000005 --config "$T/bad.conf" >/dev/null 2>"$T/e2"; rc2=$?
check "an invalid default config: the same error as --config (exit 2, line named, hint)" \
	'[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ "$(head -1 "$T/e1")" = "$(head -1 "$T/e2")" ] && grep -q "bad.conf:2: unknown option" "$T/e1" && grep -q "^hint: .*POSMARK_CONFIG=none" "$T/e1" && grep -q "^hint: .*leave out --config" "$T/e2"'
POSMARK_CONFIG="$T/absent.conf" "$P" history 6036010000001000005 >/dev/null 2>"$T/e3"; rc=$?
check "a named config that is absent is an error" '[ $rc -eq 2 ] && grep -q "cannot read config file" "$T/e3"'
POSMARK_CONFIG=none "$P" decode 5012342000018 >"$T/o" 2>&1; rc=$?
check "POSMARK_CONFIG=none: built-in defaults" '[ $rc -eq 0 ] && grep -q "\"kind\":\"item\"" "$T/o"'
check "--config wins over POSMARK_CONFIG" 'POSMARK_CONFIG="$T/bad.conf" "$P" decode 5012342000018 --config "$T/etc/posmark.conf" >/dev/null 2>&1'

# ---- 3. sd_notify from a real daemon: READY=1 once listening, reload, stop --
listen_notify "$T/notify" "$T/n1" "$T/pm.sock"
NOTIFY_SOCKET="$T/notify" POSMARK_CONFIG="$T/etc/posmark.conf" "$P" daemon 2>"$T/daemon.err" & dpid=$!
PIDS+=($dpid)
wait_for "$T/n1" "READY=1"
check "daemon sends READY=1 to NOTIFY_SOCKET (config from POSMARK_CONFIG)" 'grep -q "^READY=1|STATUS=serving the POS API on $T/pm.sock|MAINPID=$dpid socket_exists=1$" "$T/n1"'
check "... with its socket listening when READY=1 arrives" 'grep -q "socket_exists=1" "$T/n1"'
reply=$(python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"op\":\"echo\"}\n"); print(s.makefile().readline().strip())' "$T/pm.sock" 2>&1)
check "... and it answers right after" 'echo "$reply" | grep -q "\"ok\":true"'
reply=$(python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"op\":\"status\"}\n"); print(s.makefile().readline().strip())' "$T/pm.sock" 2>&1)
check "... its status names the version --version prints" 'echo "$reply" | grep -q "\"version\": *\"$VERSION\""'
kill -HUP $dpid
wait_for "$T/n1" "RELOADING=1"
wait_for "$T/n1" "^READY=1|STATUS=serving the POS API socket_exists"
check "SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1" 'grep -q "^RELOADING=1|MONOTONIC_USEC=[0-9]*|" "$T/n1" && [ "$(grep -c READY=1 "$T/n1")" -eq 2 ] && [ "$(grep -n RELOADING "$T/n1" | cut -d: -f1)" -eq 2 ]'
kill -TERM $dpid; wait $dpid; rc=$?
wait_for "$T/n1" "STOPPING=1"
check "SIGTERM: STOPPING=1, exit 0" '[ $rc -eq 0 ] && tail -1 "$T/n1" | grep -q "^STOPPING=1"'
abstract="@posmark-service-test-$$"
listen_notify "$abstract" "$T/n2"
NOTIFY_SOCKET="$abstract" "$P" daemon --data "$T/data" --socket "$T/pm2.sock" 2>/dev/null & dpid=$!
PIDS+=($dpid)
wait_for "$T/n2" "READY=1"
check "an abstract NOTIFY_SOCKET (@name) gets READY=1 too" 'grep -q "^READY=1" "$T/n2"'
kill -TERM $dpid; wait $dpid
"$P" daemon --data "$T/data" --socket "$T/pm3.sock" 2>"$T/d3.err" & dpid=$!
PIDS+=($dpid)
for _ in $(seq 1 100); do [ -S "$T/pm3.sock" ] && break; sleep 0.05; done
kill -TERM $dpid; wait $dpid; rc=$?
check "without NOTIFY_SOCKET the daemon runs as before" '[ $rc -eq 0 ] && ! grep -qv "^posmark info: " "$T/d3.err"'

# ---- 4. journal mode: priority prefixes, the hint on the error's line --------
jrun() { # jrun FILE cmd...: stderr to FILE, which JOURNAL_STREAM names
	: >"$1"
	local f=$1; shift
	JOURNAL_STREAM=$(stat -c '%d:%i' "$f") "$@" 2>>"$f"
}
jrun "$T/j1" "$P" history 123 --data "$T/data" >/dev/null
check "journal: a CLI error is one line '<3>... (hint: ...)'" '[ "$(wc -l <"$T/j1")" -eq 1 ] && grep -q "^<3>posmark history: card .123. refused: .* (hint: give the full card number as printed)$" "$T/j1"'
"$P" history 123 --data "$T/data" >/dev/null 2>"$T/j2"
check "not the journal: the same error as today (two lines, hint: second)" '[ "$(wc -l <"$T/j2")" -eq 2 ] && grep -q "^posmark history: card" "$T/j2" && grep -q "^hint: give the full card number" "$T/j2"'
JOURNAL_STREAM=1:1 "$P" history 123 --data "$T/data" >/dev/null 2>"$T/j3"
check "JOURNAL_STREAM naming another stream: output unchanged" 'cmp -s "$T/j2" "$T/j3"'
: >"$T/j4"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/j4") POSMARK_DEBUG=2 "$P" daemon --data "$T/data" --socket "$T/pm4.sock" 2>>"$T/j4" & dpid=$!
PIDS+=($dpid)
for _ in $(seq 1 100); do [ -S "$T/pm4.sock" ] && break; sleep 0.05; done
kill -TERM $dpid; wait $dpid
check "journal: daemon info lines carry <6>" 'grep -q "^<6>posmark info: posmark daemon ready" "$T/j4" && grep -q "^<6>posmark info: posmark daemon: shutting down" "$T/j4"'
check "journal: no daemon line without a priority" '! grep -qv "^<[3467]>" "$T/j4"'
"$P" daemon --data "$T/data" --socket /nonexistent-dir/x.sock 2>/dev/null; rc=$?
jrun "$T/j5" "$P" daemon --data "$T/data" --socket /nonexistent-dir/x.sock
check "journal: a daemon start failure is <3> with its hint on the line" '[ $rc -eq 1 ] && grep -q "^<3>posmark daemon: .*(hint: set daemon.socket" "$T/j5" && [ "$(wc -l <"$T/j5")" -eq 1 ]'
jrun "$T/j6" env -u POSMARK_HQ_DB POSMARK_HQ_CONFIG=none "$PHQ" migrate
check "journal: posmark-hq errors too" 'grep -q "^<3>posmark-hq: no database named (hint: " "$T/j6"'

# ---- 5. the bounded receipt file --------------------------------------------
for i in $(seq 1 40); do printf '5012342000018\n#tender cash\n'; done >"$T/many.scans"
"$P" checkout --data "$T/data" --scans "$T/many.scans" --printer "text:$T/r.txt,max_kb=1,keep=2" >/dev/null 2>&1
check "text receipts rotate past max_kb: r.txt, r.txt.1, r.txt.2, no r.txt.3" \
	'[ -s "$T/r.txt" ] && [ -s "$T/r.txt.1" ] && [ -s "$T/r.txt.2" ] && [ ! -e "$T/r.txt.3" ]'
check "... no file past 1 KiB" '[ $(stat -c %s "$T/r.txt") -le 1024 ] && [ $(stat -c %s "$T/r.txt.1") -le 1024 ]'
check "... each receipt whole in one file" '[ "$(cat "$T/r.txt" "$T/r.txt.1" "$T/r.txt.2" | grep -c "Milk")" -eq "$(cat "$T/r.txt" "$T/r.txt.1" "$T/r.txt.2" | grep -c "TOTAL")" ]'
"$P" checkout --data "$T/data" --scans "$T/one.scans" --printer "text:$T/r.txt,keep=x" >/dev/null 2>"$T/e"; rc=$?
check "a bad keep= is refused with the reason" '[ $rc -ne 0 ] && grep -q "keep is 0..99" "$T/e"'

# ---- 6. posmark-hq: hq.conf and READY=1 (with PostgreSQL) -------------------
: "${POSMARK_BUILD:=$PWD/build/normal}"
. tests/integration/lib/hq_env.bash
if [ -x "${PGBIN:-}/initdb" ]; then
	pg_start fsync=off
	port=$(free_port)
	printf '# hq.conf\n[hq]\ndb = %s\nlisten = 127.0.0.1:%s\nworkers = 2\n' "$HQ_DB" "$port" >"$T/hq.conf"
	listen_notify "$T/hqnotify" "$T/n5"
	NOTIFY_SOCKET="$T/hqnotify" POSMARK_HQ_CONFIG="$T/hq.conf" "$PHQ" serve 2>"$T/hq.err" & hpid=$!
	PIDS+=($hpid)
	wait_for "$T/n5" "READY=1" 300
	check "posmark-hq serve from hq.conf alone sends READY=1 once listening" 'grep -q "^READY=1|STATUS=listening on 127.0.0.1:$port, 2 database connection(s)" "$T/n5" && curl -s "http://127.0.0.1:$port/v1/health" | grep -q ok'
	kill -TERM $hpid; wait $hpid
	check "... and STOPPING=1 on SIGTERM" 'wait_for "$T/n5" STOPPING=1'
	check "POSMARK_HQ_DB gives --db (EnvironmentFile)" 'POSMARK_HQ_CONFIG=none POSMARK_HQ_DB="$HQ_DB" "$PHQ" migrate'
	printf 'db = %s\n' "$HQ_DB" >"$T/hq2.conf"
	check "db from hq.conf (--config) is used by every command" 'POSMARK_HQ_CONFIG=none "$PHQ" report sales-by-day --config "$T/hq2.conf" >/dev/null'
	check "--db on the command line wins over hq.conf" '! POSMARK_HQ_CONFIG="$T/hq2.conf" "$PHQ" migrate --db "host=127.0.0.1 port=1 dbname=x connect_timeout=2" 2>/dev/null'
else
	echo "# PostgreSQL not installed: posmark-hq serve readiness not tested"
fi
printf 'workers = 99\n' >"$T/hq3.conf"
"$PHQ" migrate --config "$T/hq3.conf" 2>"$T/e"; rc=$?
check "hq.conf: a bad value names file, line and the valid range" '[ $rc -eq 2 ] && grep -q "hq3.conf:1: option .workers. = .99. is not valid: expected 1..32" "$T/e" && grep -q "^hint:" "$T/e"'
# --workers and hq.conf's workers: 1..32 (docs/hq.md), refused otherwise with the range and a hint
bad=
for w in 0 -1 33 300 abc 4x ""; do
	env -u POSMARK_HQ_DB POSMARK_HQ_CONFIG=none "$PHQ" migrate --workers "$w" 2>"$T/e"; rc=$?
	{ [ $rc -eq 2 ] && grep -q "^posmark-hq: option --workers '$w' is not valid: expected 1..32" "$T/e" &&
		grep -q "^hint: give a number of PostgreSQL connections from 1 to 32" "$T/e"; } || bad="$bad '$w'"
done
check "--workers 0, -1, 33, 300, abc, 4x and '' are refused: exit 2, the range, a hint (bad:$bad)" '[ -z "$bad" ]'
env -u POSMARK_HQ_DB POSMARK_HQ_CONFIG=none "$PHQ" migrate --workers 32 2>"$T/e"; rc=$?
check "--workers 1..32 is taken (then: no database named)" '[ $rc -eq 1 ] && grep -q "no database named" "$T/e"'
printf 'workers = 0\n' >"$T/hq3b.conf"
"$PHQ" migrate --config "$T/hq3b.conf" 2>"$T/e"; rc=$?
check "hq.conf: workers = 0 is refused too" '[ $rc -eq 2 ] && grep -q "option .workers. = .0. is not valid: expected 1..32" "$T/e"'
# the card key file's default (docs/privacy.md, "At HQ"): a named hq.conf's directory, else the state directory
keyfile() { env -u POSMARK_HQ_CARD_KEY -u POSMARK_HQ_DB POSMARK_DEBUG=3 "$PHQ" migrate "$@" 2>&1 | sed -n 's/.*card key file: //p'; }
check "card key file, no hq.conf: \$STATE_DIRECTORY/hq-card.key (systemd's StateDirectory)" \
	'[ "$(POSMARK_HQ_CONFIG=none STATE_DIRECTORY="$T/state:$T/other" keyfile)" = "$T/state/hq-card.key" ]'
if [ ! -e /etc/posmark/hq-card.key ]; then
	check "card key file, no hq.conf and no \$STATE_DIRECTORY: /var/lib/posmark-hq/hq-card.key" \
		'[ "$(unset STATE_DIRECTORY; POSMARK_HQ_CONFIG=none keyfile)" = /var/lib/posmark-hq/hq-card.key ]'
fi
printf '# empty\n' >"$T/hq5.conf"
check "card key file, hq.conf named with --config: beside it (as before)" '[ "$(STATE_DIRECTORY=$T/state keyfile --config "$T/hq5.conf")" = "$T/hq-card.key" ]'
printf 'card_key_file = %s\n' "$T/k1" >"$T/hq6.conf"
check "card_key_file, \$POSMARK_HQ_CARD_KEY and --card-key win, in that order upwards" \
	'[ "$(STATE_DIRECTORY=$T/state keyfile --config "$T/hq6.conf")" = "$T/k1" ] &&
	 [ "$(STATE_DIRECTORY=$T/state POSMARK_DEBUG=3 POSMARK_HQ_CARD_KEY=$T/k2 "$PHQ" migrate --config "$T/hq6.conf" 2>&1 | sed -n "s/.*card key file: //p")" = "$T/k2" ] &&
	 [ "$(STATE_DIRECTORY=$T/state POSMARK_DEBUG=3 POSMARK_HQ_CARD_KEY=$T/k2 "$PHQ" migrate --config "$T/hq6.conf" --card-key "$T/k3" 2>&1 | sed -n "s/.*card key file: //p")" = "$T/k3" ]'
printf 'dbb = x\n' >"$T/hq4.conf"
POSMARK_HQ_CONFIG="$T/hq4.conf" "$PHQ" migrate 2>"$T/e"; rc=$?
check "hq.conf: an unknown key is refused (via POSMARK_HQ_CONFIG)" '[ $rc -eq 2 ] && grep -q "hq4.conf:1: unknown option .dbb." "$T/e"'
