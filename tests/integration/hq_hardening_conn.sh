#!/usr/bin/env bash
# hq_hardening_conn.sh - issue 15, HQ items 2 and 3, against a real
# posmark-hq on loopback: 300 slow clients from one address (one header byte
# a second) do not stop a good store's upload; a request whose headers
# trickle in is cut at the header deadline although every byte arrives in
# time for the idle timeout; eight 64 MiB POSTs without a credential, or
# with a wrong one, grow HQ's peak RSS (VmHWM in /proc) by less than 64 MiB
# together: the credential is checked on the headers, before the body.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
pg_start fsync=off synchronous_commit=off
hq_start
T=$HQ_TMP
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")
"$GEN" gen "$T/d1" 2000 T1 0 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred" "batch_max_sales = 500"

# ---- 2. slow clients ----------------------------------------------------------------------
# slow.py ADDR PORT N SECONDS: N connections from ADDR, each sending one header byte a
# second for SECONDS; prints how many HQ accepted and kept open after 3 s
cat >"$T/slow.py" <<'PY'
import socket, sys, time
addr, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
req = b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nX-Posmark-Store: S1\r\n" + b"X-Pad: " + b"a" * 200
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind((addr, 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        s.close()
start = time.time()
i = 0
reported = False
while time.time() - start < secs:
    alive = []
    for s in socks:
        try:
            s.send(req[i % len(req):i % len(req) + 1])
            alive.append(s)
        except OSError:
            s.close()
    socks = alive
    i += 1
    if not reported and time.time() - start >= 3:
        print(len(socks), flush=True)
        reported = True
    time.sleep(1)
PY
python3 "$T/slow.py" 127.0.0.2 "$HQ_PORT" 300 40 >"$T/slow.out" 2>&1 &
slowpid=$!
sleep 4
t0=$(date +%s)
timeout 30 "$POSMARK" sync --config "$T/c1" --once --json >"$T/sync.out" 2>"$T/sync.err"; rc=$?
took=$(( $(date +%s) - t0 ))
check "300 slow clients from one address: a good store still uploads ($took s)" '[ $rc -eq 0 ] && grep -q "\"sales_sent\":2000" "$T/sync.out"'
kept=$(head -n 1 "$T/slow.out")
check "one address holds at most 32 connections (kept: ${kept:-?})" '[ -n "$kept" ] && [ "$kept" -le 32 ]'

# a request whose headers trickle in, one byte a second, is cut at the header deadline (10 s)
python3 - "$HQ_PORT" >"$T/drip.out" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.3", 0))
s.settimeout(1)
start = time.time()
closed = None
while time.time() - start < 25:
    try:
        s.send(b"X")
        if s.recv(100) == b"":
            closed = time.time() - start
            break
    except socket.timeout:
        pass
    except OSError:
        closed = time.time() - start
        break
print("closed after %.1f s" % closed if closed is not None else "still open after 25 s")
PY
drippid=$!
wait "$drippid"
check "headers trickling in are cut at the deadline although each byte resets the idle timeout ($(cat "$T/drip.out"))" 'grep -qE "closed after (9|1[0-4])\." "$T/drip.out"'
kill "$slowpid" 2>/dev/null; wait "$slowpid" 2>/dev/null
check "the watchdog says so in the log" 'grep -q "over the header (10 s) or request (300 s) deadline" "$T/hq.log"'

# ---- 3. authenticate on the headers, before the body -----------------------------------------
head -c $((64 << 20)) /dev/zero >"$T/big"
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$HQ_PID/status"; }
sleep 1
before=$(hwm)
pids=()
for i in 1 2 3 4 5 6 7 8; do
	if [ $((i % 2)) = 0 ]; then auth=(-H "X-Posmark-Store: S1" -H "Authorization: Bearer wrong$i")
	else auth=(); fi
	curl -s -m 60 -o /dev/null -w '%{http_code}\n' -H "Expect:" "${auth[@]}" --data-binary @"$T/big" \
		"$HQ_URL/v1/batches" >"$T/big$i.code" 2>/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
after=$(hwm)
grow=$(( (after - before) / 1024 ))
check "eight 64 MiB POSTs without a (right) credential grow HQ's peak RSS by less than 64 MiB (${grow} MiB)" '[ "$grow" -lt 64 ]'
check "... and are answered 401 (or cut) without reading the body" '! grep -q 200 "$T"/big*.code && grep -q 401 "$T"/big*.code'
# the headers alone, no byte of the body: HQ must answer from them (curl writing the body
# meanwhile could meet the close before it reads the answer on a loaded machine)
code=$(python3 - "$HQ_PORT" "$cred" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(("POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Posmark-Store: S1\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/octet-stream\r\nContent-Length: 70000000\r\n\r\n" % sys.argv[2]).encode())
reply = b""
while b"\r\n" not in reply:
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
print(reply.split(b" ")[1].decode() if reply.startswith(b"HTTP/1.") else "none")
PY
)
check "an authenticated batch announcing more than 64 MiB: 413 before it is sent" '[ "$code" = 413 ]'
echo "# VmHWM before ${before} kB, after ${after} kB"
rm -f "$T/big"
