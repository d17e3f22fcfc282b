#!/usr/bin/env bash
# A damaged purchase log gives a message, not a crash (issue 15 item 7; docs/storage.md,
# "Damaged logs"). A real log written by the real till, damaged on purpose: truncated, a meta
# page zeroed, both zeroed, a branch page and a leaf page scribbled. Every command exits 1 with
# one line naming data.mdb and saying it is damaged, then a "hint:" line; none dies of a signal;
# sync never calls it an HQ fault; one damaged meta page with the other intact opens and works.
set -u
P=${POSMARK:-bin/posmark}
HERE=$(cd "$(dirname "$0")" && pwd)
PAGES="python3 $HERE/../tools/lmdb_pages.py"
T=$(mktemp -d)
DPID=
cleanup() { [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export POSMARK_CONFIG=none
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ -s "$T/err" ] && sed 's/^/#   /' "$T/err" | head -6; }

# --- the fixture: 800 sales of 40 cards through the real till ---
printf 'gtin,name,category,price_cents,brand\n5012342000018,Milk,Dairy,109,F\n4006381333931,Pen,Stationery,199,\n' >"$T/cat.csv"
luhn() { # luhn DIGITS: DIGITS with its check digit
	python3 -c "import sys
n=sys.argv[1]; s=0
for i,c in enumerate(reversed(n)):
    d=int(c)*(2 if i%2==0 else 1); s+=d-9 if d>9 else d
print(n+str((10-s%10)%10))" "$1"
}
CARDS=(); for i in $(seq 10 49); do CARDS+=("$(luhn "603601000000000$i")"); done
CARD=${CARDS[0]}
for i in $(seq 0 799); do
	echo "#card ${CARDS[$((i % 40))]}"
	for _ in 1 2 3; do echo 5012342000018; echo 4006381333931; done
	echo "#tender cash"
done >"$T/day.scans"
"$P" catalog import "$T/cat.csv" --data "$T/pristine" 2>/dev/null
"$P" checkout --data "$T/pristine" --scans "$T/day.scans" --json >"$T/out" 2>"$T/err"
[ "$(grep -c '"event":"sale_committed"' "$T/out")" = 800 ] && ok "fixture: 800 sales committed" || not_ok "fixture: 800 sales committed"
"$P" log check --data "$T/pristine" >"$T/out" 2>"$T/err" && grep -q "is whole" "$T/out" \
	&& ok "log check: an undamaged log is whole" || not_ok "log check: an undamaged log is whole"
printf '#card %s\n5012342000018\n#tender cash\n' "$CARD" >"$T/one.scans"
{ echo "[store]"; echo "data = $T/log"; echo "id = S1"; echo "[hq]"; echo "url = http://127.0.0.1:9"
  echo "store_credential = S1:0123456789abcdef0123456789abcdef"; echo "max_attempts = 1"; } >"$T/posmark.conf"

fresh() { rm -rf "$T/log"; cp -a "$T/pristine" "$T/log"; }
scribble() { # scribble PAGE BYTE: fill one page of data.mdb with BYTE
	local ps; ps=$($PAGES "$T/log/data.mdb" meta | cut -d' ' -f1)
	python3 -c "import sys
f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])*int(sys.argv[3])); f.write(bytes([int(sys.argv[4],16)])*int(sys.argv[3]))" \
		"$T/log/data.mdb" "$1" "$ps" "$2"
}
run() { # run CMD...: the command against the damaged log, stdout/stderr kept, $rc set
	timeout 60 "$P" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?
}
# refused WHAT CMD...: exit 1 (no signal), exactly one line naming data.mdb and "damaged", then a hint
refused() {
	local what=$1; shift
	run "$@"
	local lines; lines=$(grep -cv '^posmark warning:' "$T/err")
	if [ "$rc" = 1 ] && [ "$lines" = 2 ] && head -1 "$T/err" | grep -q "data.mdb' is damaged" \
		&& sed -n 2p "$T/err" | grep -q '^hint: .*restore' && ! grep -qi "unreachable" "$T/err"; then
		ok "$what"
	else
		echo "#   exit $rc"; not_ok "$what"
	fi
}
every_command() { # every_command CASE: card show, history, checkout, sync, daemon start all refuse
	refused "$1: card show refuses" card show "$CARD" --data "$T/log"
	refused "$1: history refuses" history "$CARD" --data "$T/log"
	refused "$1: checkout refuses" checkout --data "$T/log" --scans "$T/one.scans"
	refused "$1: sync refuses, not as an HQ fault" sync --once --config "$T/posmark.conf"
	refused "$1: daemon start refuses" daemon --data "$T/log" --socket "$T/pm.sock"
	refused "$1: log check says damaged" log check --data "$T/log"
}

# --- truncated: the size check at open, no SIGBUS ---
fresh; truncate -s $(( $(stat -c %s "$T/log/data.mdb") / 2 )) "$T/log/data.mdb"
every_command "truncated data.mdb"
grep -q "past the end of the file" "$T/err" && ok "truncated: says a page lies past the end" || not_ok "truncated: says a page lies past the end"
fresh; truncate -s 5000 "$T/log/data.mdb"
refused "truncated to 5000 bytes: history refuses" history "$CARD" --data "$T/log"

# --- meta page 0 zeroed, page 1 intact: opens from page 1 and works ---
fresh; ps=$($PAGES "$T/log/data.mdb" meta | cut -d' ' -f1); scribble 0 00
run card show "$CARD" --data "$T/log"
[ "$rc" = 0 ] && grep -q "points" "$T/out" && ok "meta 0 zeroed: card show opens from meta page 1" || not_ok "meta 0 zeroed: card show opens from meta page 1"
grep -q "meta page 0 .*rewritten from meta page 1" "$T/err" && ok "meta 0 zeroed: a warning says it was rewritten" || not_ok "meta 0 zeroed: a warning says it was rewritten"
run checkout --data "$T/log" --scans "$T/one.scans" --json
[ "$rc" = 0 ] && grep -q '"event":"sale_committed"' "$T/out" && ok "meta 0 zeroed: checkout commits afterwards" || not_ok "meta 0 zeroed: checkout commits afterwards"
run log check --data "$T/log"
[ "$rc" = 0 ] && grep -q "is whole" "$T/out" && ok "meta 0 zeroed: log check finds the log whole afterwards" || not_ok "meta 0 zeroed: log check finds the log whole afterwards"
run history "$CARD" --data "$T/log"
[ "$rc" = 0 ] && [ "$(grep -c '^[0-9].* sale ' "$T/out")" -ge 20 ] && ok "meta 0 zeroed: history reads the card's sales" || not_ok "meta 0 zeroed: history reads the card's sales"

# --- meta page 1 zeroed, page 0 intact: the same the other way round ---
fresh; scribble 1 00
run card show "$CARD" --data "$T/log"
[ "$rc" = 0 ] && grep -q "points" "$T/out" && ok "meta 1 zeroed: card show opens from meta page 0" || not_ok "meta 1 zeroed: card show opens from meta page 0"
# while another process has the log open, the meta page is not rewritten under it
fresh; scribble 1 00
python3 -c "import fcntl,sys,time
f=open(sys.argv[1],'r+b'); fcntl.lockf(f, fcntl.LOCK_SH, 1, 0); print('locked', flush=True); time.sleep(30)" "$T/log/lock.mdb" >"$T/lockout" & LPID=$!
for _ in $(seq 1 50); do grep -q locked "$T/lockout" && break; sleep 0.1; done
refused "meta 1 zeroed while another process has the log open: refused, not rewritten" card show "$CARD" --data "$T/log"
grep -q "stop posmark daemon and rerun" "$T/err" && ok "meta 1 zeroed, log in use: says to stop the daemon" || not_ok "meta 1 zeroed, log in use: says to stop the daemon"
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null

# --- both meta pages zeroed ---
fresh; scribble 0 00; scribble 1 00
every_command "both meta pages zeroed"

# --- a branch page of sales scribbled: found at open by every command ---
fresh; br=$($PAGES "$T/log/data.mdb" branch sales) && ok "fixture: sales has a branch page ($br)" || not_ok "fixture: sales has a branch page"
scribble "$br" 5a
every_command "a branch page scribbled"

# --- a leaf page scribbled: met later, still a message ---
for pat in ff 00 5a; do
	fresh; leaf=$($PAGES "$T/log/data.mdb" leaf sales 1); scribble "$leaf" "$pat"
	refused "a sales leaf filled with 0x$pat: history says damaged" history "$CARD" --data "$T/log"
	refused "a sales leaf filled with 0x$pat: log check says damaged" log check --data "$T/log"
	refused "a sales leaf filled with 0x$pat: checkout refuses at start" checkout --data "$T/log" --scans "$T/one.scans"
	run sync --once --result-line --config "$T/posmark.conf"
	if [ "$rc" = 1 ] && grep -q "^posmark-sync-result 1 rc=-8 " "$T/out" && grep -q "data.mdb' is damaged" "$T/err" \
		&& ! grep -qi unreachable "$T/err"; then ok "a sales leaf filled with 0x$pat: sync reports the damage (rc=-8), not HQ"
	else echo "#   exit $rc: $(cat "$T/out")"; not_ok "a sales leaf filled with 0x$pat: sync reports the damage (rc=-8), not HQ"; fi
done

# --- the daemon's background sync meets a leaf damaged after the daemon started ---
fresh
{ echo "[store]"; echo "data = $T/log"; echo "id = S1"; echo "[hq]"; echo "url = http://127.0.0.1:9"
  echo "store_credential = S1:0123456789abcdef0123456789abcdef"; echo "interval_s = 1"; echo "max_attempts = 1"; } >"$T/d.conf"
"$P" daemon --config "$T/d.conf" --socket "$T/pm.sock" 2>"$T/daemon.err" & DPID=$!
for _ in $(seq 1 100); do [ -S "$T/pm.sock" ] && break; sleep 0.1; done
leaf=$($PAGES "$T/log/data.mdb" leaf sales 1); scribble "$leaf" ff
state=
for _ in $(seq 1 80); do
	state=$("$P" status --socket "$T/pm.sock" --json 2>/dev/null | python3 -c "import json,sys
print(json.load(sys.stdin).get('hq',{}).get('state',''))" 2>/dev/null)
	case "$state" in *damaged*) break ;; esac
	sleep 0.1
done
case "$state" in
*damaged*) ! grep -qi "unreachable" <<<"$state" && ok "daemon: the sync child's damage shows as a damaged log, not HQ unreachable" \
	|| not_ok "daemon: the sync child's damage shows as a damaged log, not HQ unreachable" ;;
*) echo "#   hq.state: $state"; not_ok "daemon: the sync child's damage shows as a damaged log, not HQ unreachable" ;;
esac
grep -q "hint: stop posmark" "$T/daemon.err" && ok "daemon: its log line carries the hint" || { cp "$T/daemon.err" "$T/err"; not_ok "daemon: its log line carries the hint"; }
kill -TERM "$DPID"; wait "$DPID"; DPID=

# --- truncated under a running daemon: the read faults inside the map; a message, exit 1 ---
fresh; rm -f "$T/pm.sock"
"$P" daemon --data "$T/log" --socket "$T/pm.sock" 2>"$T/err" & DPID=$!
for _ in $(seq 1 100); do [ -S "$T/pm.sock" ] && break; sleep 0.1; done
truncate -s 12288 "$T/log/data.mdb"
python3 - "$T/pm.sock" "$CARD" <<'PY' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rwb')
f.write(('{"op":"card_info","card":"%s"}\n' % sys.argv[2]).encode()); f.flush(); f.readline()
PY
wait "$DPID"; rc=$?; DPID=
if [ "$rc" = 1 ] && grep -q "data.mdb' is damaged: a page read from it faulted" "$T/err" && grep -q "^hint: stop posmark" "$T/err"; then
	ok "truncated under the running daemon: damaged-log message and exit 1, no SIGBUS"
else
	echo "#   exit $rc"; not_ok "truncated under the running daemon: damaged-log message and exit 1, no SIGBUS"
fi

# --- posmark log salvage: every readable record into a new log ---
recs() { "$P" log check --data "$1" --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['records'])"; }
rm -rf "$T/s0"; run log salvage --data "$T/pristine" --output "$T/s0"
[ "$rc" = 0 ] && [ "$(recs "$T/s0")" = "$(recs "$T/pristine")" ] && [ -f "$T/s0/coupon.key" ] \
	&& ok "salvage of a whole log copies every record (and coupon.key)" || not_ok "salvage of a whole log copies every record (and coupon.key)"
fresh; leaf=$($PAGES "$T/log/data.mdb" leaf sales 1); scribble "$leaf" ff; rm -rf "$T/s1"
run log salvage --data "$T/log" --output "$T/s1"
[ "$rc" = 0 ] && grep -q "1 damaged page(s)" "$T/out" && ok "salvage of a log with a scribbled leaf: one page left out" || not_ok "salvage of a log with a scribbled leaf: one page left out"
run log check --data "$T/s1"
[ "$rc" = 0 ] && ok "the salvaged log is whole" || not_ok "the salvaged log is whole"
run history "$CARD" --data "$T/s1"; n1=$(grep -c ' sale ' "$T/out")
"$P" history "$CARD" --data "$T/pristine" 2>/dev/null | grep -c ' sale ' >"$T/n0"
[ "$rc" = 0 ] && [ "$n1" -gt 0 ] && [ "$n1" -lt "$(cat "$T/n0")" ] && ok "history reads the salvaged log: the lost sale is gone, the rest are there ($n1 of $(cat "$T/n0"))" \
	|| not_ok "history reads the salvaged log: the lost sale is gone, the rest are there"
run checkout --data "$T/s1" --scans "$T/one.scans" --json
[ "$rc" = 0 ] && grep -q '"event":"sale_committed"' "$T/out" && ok "checkout commits onto the salvaged log" || not_ok "checkout commits onto the salvaged log"
# Half the file, but at least up to the page listing the databases (without it nothing is salvageable).
half=$(( $(stat -c %s "$T/log/data.mdb") / 2 )); mr=$($PAGES "$T/pristine/data.mdb" mainroot)
ps=$($PAGES "$T/pristine/data.mdb" meta | cut -d' ' -f1); [ $(( (mr + 1) * ps )) -gt "$half" ] && half=$(( (mr + 1) * ps ))
fresh; truncate -s "$half" "$T/log/data.mdb"; rm -rf "$T/s2"
run log salvage --data "$T/log" --output "$T/s2"
[ "$rc" = 0 ] && "$P" log check --data "$T/s2" >/dev/null 2>&1 && [ "$(recs "$T/s2")" -gt 0 ] \
	&& ok "salvage of a truncated log: a whole log of what was readable ($(recs "$T/s2") records)" || not_ok "salvage of a truncated log: a whole log of what was readable"
run log salvage --data "$T/log" --output "$T/s2"
[ "$rc" = 1 ] && grep -q "already holds a log" "$T/err" && grep -q "^hint:" "$T/err" && ok "salvage never writes over a log" || not_ok "salvage never writes over a log"
fresh; scribble 0 00; scribble 1 00; rm -rf "$T/s3"
run log salvage --data "$T/log" --output "$T/s3"
[ "$rc" = 1 ] && grep -q "no readable meta page" "$T/err" && grep -q "^hint: restore" "$T/err" && ok "salvage without a meta page says so, exit 1" || not_ok "salvage without a meta page says so, exit 1"
