#!/usr/bin/env bash
# SIGTERM while the disk is full keeps the open sales (issue 15 item 9; docs/daemon.md,
# "Signals"). The real daemon on a real, tiny tmpfs: open sales on two lanes, the filesystem
# filled to the last byte, SIGTERM; the sales must be in open-sales.json and resume on the next
# start. Needs root for the mount (skips otherwise); the trap unmounts.
set -u
P=${POSMARK:-bin/posmark}
T=$(mktemp -d)
MNT="$T/mnt"
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	mountpoint -q "$MNT" && umount "$MNT"
	rm -rf "$T"
}
trap cleanup EXIT
export POSMARK_CONFIG=none
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && [ -s "$2" ] && sed 's/^/#   /' "$2" | tail -8; }
mkdir -p "$MNT"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=8m,mode=0755 tmpfs "$MNT" 2>/dev/null; then
	echo "# skip: needs root to mount a small tmpfs"; exit 77
fi
DATA="$MNT/data"

# api REQUEST...: one JSON request per argument over the daemon's socket, replies on stdout
api() {
	python3 - "$T/pm.sock" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rwb')
for req in sys.argv[2:]:
    f.write(req.encode() + b'\n'); f.flush(); print(f.readline().decode().strip())
PY
}
start() {
	"$P" daemon --data "$DATA" --socket "$T/pm.sock" 2>>"$T/daemon.err" & DPID=$!
	for _ in $(seq 1 100); do [ -S "$T/pm.sock" ] && api '{"op":"echo"}' >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop() { kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=; }

start && ok "daemon starts on a small tmpfs" || not_ok "daemon starts on a small tmpfs" "$T/daemon.err"
api '{"op":"sale_open","lane":"1","pos_sale_id":"APP-1"}' \
    '{"op":"line_add","lane":"1","gtin":"5012342000018","qty":2,"price_cents":109,"name":"Milk"}' \
    '{"op":"line_add","lane":"1","gtin":"4006381333931","qty":1,"price_cents":199,"name":"Pen"}' \
    '{"op":"sale_open","lane":"2","pos_sale_id":"APP-2"}' \
    '{"op":"line_add","lane":"2","gtin":"5012342000018","qty":5,"price_cents":109,"name":"Milk"}' >"$T/api.out"
[ "$(grep -c '"ok":true' "$T/api.out")" = 5 ] && ok "two open sales on two lanes" || not_ok "two open sales on two lanes" "$T/api.out"

# fill the filesystem to the last block
dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null
dd if=/dev/zero of="$MNT/fill2" bs=1k 2>/dev/null
dd if=/dev/zero of="$MNT/fill3" bs=1 count=8192 2>/dev/null
free=$(stat -f -c %f "$MNT")
[ "$free" = 0 ] && ok "the filesystem is full" || not_ok "the filesystem is full ($free blocks free)"

stop
[ "$rc" = 0 ] && ok "SIGTERM on a full disk: the daemon exits 0" || not_ok "SIGTERM on a full disk: the daemon exits 0 (exit $rc)" "$T/daemon.err"
grep -q "kept 2 open sale(s)" "$T/daemon.err" && ok "SIGTERM on a full disk: the log says both sales were kept" \
	|| not_ok "SIGTERM on a full disk: the log says both sales were kept" "$T/daemon.err"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); l={x['pos_sale_id']:len(x['lines']) for x in d['lanes']}; sys.exit(0 if l=={'APP-1':2,'APP-2':1} else 1)" "$DATA/open-sales.json" \
	&& ok "open-sales.json holds both sales and their lines" || not_ok "open-sales.json holds both sales and their lines" "$DATA/open-sales.json"
ls "$DATA"/.open-sales* >/dev/null 2>&1 && not_ok "no temp file is left behind" || ok "no temp file is left behind"

# restart, still full: the sales resume (the reserve is blanked in place, no new space needed)
start && ok "the daemon starts again on the full disk" || not_ok "the daemon starts again on the full disk" "$T/daemon.err"
api '{"op":"sale_open","lane":"1","pos_sale_id":"APP-1"}' '{"op":"sale_open","lane":"2","pos_sale_id":"APP-2"}' >"$T/api.out"
grep -q '"resumed":true' "$T/api.out" && [ "$(grep -c '"resumed":true' "$T/api.out")" = 2 ] \
	&& grep -q '"lines":2' "$T/api.out" && ok "both sales resume with their lines" || not_ok "both sales resume with their lines" "$T/api.out"
python3 -c "import sys; t=open(sys.argv[1]).read(); sys.exit(0 if t.strip()=='' and len(t)>0 else 1)" "$DATA/open-sales.json" \
	&& ok "after the restore the file is blank but keeps its space" || not_ok "after the restore the file is blank but keeps its space"

# a stop with a tender committed and nothing open leaves nothing to resume
rm -f "$MNT/fill"
api '{"op":"tender","lane":"1","kind":"cash"}' '{"op":"sale_cancel","lane":"2"}' >"$T/api.out"
grep -q '"sale_committed"' "$T/api.out" && ok "the resumed sale commits once there is space" || not_ok "the resumed sale commits once there is space" "$T/api.out"
stop
start; api '{"op":"sale_open","lane":"2","pos_sale_id":"APP-3"}' >"$T/api.out"
! grep -q '"resumed":true' "$T/api.out" && ok "nothing is resumed after a stop with no open sales" || not_ok "nothing is resumed after a stop with no open sales" "$T/api.out"
stop

# big open sales: the reserve grows while lanes fill (before the disk is full), so 600 lines
# on two lanes, more than the first 256 KiB can hold at their largest, are kept too
start
reqs=('{"op":"sale_open","lane":"A","pos_sale_id":"BIG-A"}' '{"op":"sale_open","lane":"B","pos_sale_id":"BIG-B"}')
for i in $(seq 1 300); do
	reqs+=("{\"op\":\"line_add\",\"lane\":\"A\",\"gtin\":\"5012342000018\",\"price_cents\":$i,\"name\":\"Milk \\\"whole\\\" $i\"}")
	reqs+=("{\"op\":\"line_add\",\"lane\":\"B\",\"gtin\":\"4006381333931\",\"price_cents\":$i,\"name\":\"Pen $i\"}")
done
api "${reqs[@]}" >"$T/api.out"
[ "$(grep -c '"ok":true' "$T/api.out")" = 602 ] && ok "600 lines on two lanes" || not_ok "600 lines on two lanes" "$T/api.out"
api '{"op":"echo"}' >/dev/null   # one more loop turn after the last line
sz=$(stat -c %s "$DATA/open-sales.json")
[ "$sz" -gt 262144 ] && ok "the reserve grew with the lanes ($sz bytes)" || not_ok "the reserve grew with the lanes ($sz bytes)"
dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null; dd if=/dev/zero of="$MNT/fill2" bs=1k 2>/dev/null
dd if=/dev/zero of="$MNT/fill3" bs=1 count=8192 2>/dev/null
stop
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); l={x['pos_sale_id']:len(x['lines']) for x in d['lanes']}; sys.exit(0 if l.get('BIG-A')==300 and l.get('BIG-B')==300 else 1)" "$DATA/open-sales.json" \
	&& ok "full disk: 600 open lines kept in the grown reserve" || not_ok "full disk: 600 open lines kept in the grown reserve" "$T/daemon.err"
