#!/usr/bin/env python3
"""faultproxy.py LISTEN_PORT UPSTREAM_PORT[,PORT...] SEED FAULT_PCT STATSFILE

A fault-injecting HTTP proxy on loopback for the hostsync tests. For each
request it picks (seeded) one of: pass, drop before forwarding, drop the
reply after forwarding (HQ stored it, the terminal never hears), answer 500,
truncate HQ's reply, answer garbage, delay. Counts go to STATSFILE on exit.

FAULT_GET_TRUNCATE=N (environment) replaces the random faults: the first N
replies to GET /v1/requests and the first N to GET /v1/rules (N = "all":
every one; "rules": every /v1/rules reply only) reach the terminal with the body cut in half and Content-Length
rewritten to match, so the cut is only visible in the body (cut JSON, a
signature that no longer verifies); everything else passes."""
import os
import random, signal, socket, sys, threading, time

listen_port, seed, pct = int(sys.argv[1]), int(sys.argv[3]), int(sys.argv[4])
up_ports = [int(p) for p in sys.argv[2].split(",")]
turn = [0]
stats_file = sys.argv[5]
rng = random.Random(seed)
lock = threading.Lock()
counts = {}
GET_TRUNC = os.environ.get("FAULT_GET_TRUNCATE", "")
get_cut = {}
FAULTS = ["drop_request", "drop_reply", "http500", "truncate", "garbage", "delay"]

def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    while len(body) < n:
        chunk = c.recv(65536)
        if not chunk:
            return None
        body += chunk
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n" + body

def forward(req):
    with lock:
        port = up_ports[turn[0] % len(up_ports)]
        turn[0] += 1
    u = socket.create_connection(("127.0.0.1", port))
    u.sendall(req)
    resp = b""
    while True:
        chunk = u.recv(65536)
        if not chunk:
            break
        resp += chunk
    u.close()
    return resp

def handle(c):
    try:
        req = read_request(c)
        if req is None:
            return
        if GET_TRUNC:
            line = req.split(b"\r\n", 1)[0].split(b" ")
            path = line[1].split(b"?")[0] if len(line) > 1 else b""
            cut = False
            if line[0] == b"GET" and path in (b"/v1/requests", b"/v1/rules"):
                with lock:
                    k = path.decode()
                    get_cut[k] = get_cut.get(k, 0) + 1
                    if GET_TRUNC in ("all", "rules"):
                        cut = GET_TRUNC == "all" or k == "/v1/rules"
                    else:
                        cut = get_cut[k] <= int(GET_TRUNC)
                    counts["get_truncate" if cut else "pass"] = counts.get("get_truncate" if cut else "pass", 0) + 1
            else:
                with lock:
                    counts["pass"] = counts.get("pass", 0) + 1
            resp = forward(req)
            if cut:
                head, _, body = resp.partition(b"\r\n\r\n")
                body = body[: len(body) // 2]
                lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"content-length:")]
                resp = b"\r\n".join(lines + [b"Content-Length: %d" % len(body)]) + b"\r\n\r\n" + body
            c.sendall(resp)
            return
        with lock:
            # Every kind once, early and in turn (each faulted request is followed by a
            # clean one), so a short run still meets each fault; then at random.
            n = sum(counts.values())
            if n < 2 * len(FAULTS):
                fault = FAULTS[n // 2] if n % 2 == 1 else "pass"
            else:
                fault = rng.choice(FAULTS) if rng.randrange(100) < pct else "pass"
            counts[fault] = counts.get(fault, 0) + 1
        if fault == "drop_request":
            return
        if fault == "http500":
            c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops\n")
            return
        if fault == "garbage":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\n<html>hi</h")
            return
        if fault == "delay":
            time.sleep(0.3)
        resp = forward(req)
        if fault == "drop_reply":
            return
        if fault == "truncate":
            resp = resp[: max(1, len(resp) // 2)]
        c.sendall(resp)
    except OSError:
        pass
    finally:
        c.close()

def finish(*_):
    with open(stats_file, "w") as f:
        for k in sorted(counts):
            f.write("%s %d\n" % (k, counts[k]))
    sys.exit(0)

signal.signal(signal.SIGTERM, finish)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen_port))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
