#!/usr/bin/env bash
# hq_hardening_tls.sh - issue 15, HQ item 4: posmark-hq serves HTTPS itself
# (--tls-cert/--tls-key, or tls_cert/tls_key in hq.conf; libmicrohttpd with
# GnuTLS); a terminal with hq.url https://127.0.0.1:PORT and hq.ca_file
# naming the test CA syncs, and without the CA fails with a clear message.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
command -v openssl >/dev/null || { echo "# openssl not installed"; exit 77; }
pg_start fsync=off synchronous_commit=off
T=$HQ_TMP
# a test CA and a certificate for 127.0.0.1 signed by it
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=posmark-test-ca -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/hq.key" -out "$T/hq.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san"
openssl x509 -req -in "$T/hq.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 -out "$T/hq.pem" \
	-extfile "$T/san" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=other -keyout "$T/other.key" -out /dev/null 2>/dev/null
cred=$("$POSMARK_HQ" store add S1 --db "$HQ_DB")

tls_start() {   # tls_start ARGS...: posmark-hq serve over TLS; sets HQ_PORT, HQ_PID, HQ_URL
	HQ_PORT=$(free_port)
	"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$HQ_PORT" "$@" 2>>"$T/hq.log" &
	HQ_PID=$!
	HQ_PIDS+=("$HQ_PID")
	HQ_URL="https://127.0.0.1:$HQ_PORT"
	for _ in $(seq 1 100); do
		curl -s --cacert "$T/ca.pem" -o /dev/null "$HQ_URL/v1/health" && return 0
		sleep 0.1
	done
	return 1
}
tls_start --tls-cert "$T/hq.pem" --tls-key "$T/hq.key"
check "posmark-hq serve --tls-cert --tls-key answers HTTPS" '[ "$(curl -s --cacert "$T/ca.pem" "$HQ_URL/v1/health")" = "{\"status\":\"ok\"}" ] && grep -q "(TLS)" "$T/hq.log"'
check "plain HTTP to the TLS port gets no answer" '! curl -s -m 5 -o /dev/null "http://127.0.0.1:$HQ_PORT/v1/health"'

"$GEN" gen "$T/d1" 300 T1 0 >/dev/null
terminal_config "$T/c1" "$T/d1" S1 "$cred" "ca_file = $T/ca.pem"
out=$("$POSMARK" sync --config "$T/c1" --once --json 2>"$T/sync.err"); rc=$?
check "a terminal with hq.ca_file naming the CA syncs over https" '[ $rc -eq 0 ] && echo "$out" | grep -q "\"sales_sent\":300" && [ "$(psql_q "SELECT count(*) FROM sales")" = 300 ]'
"$GEN" gen "$T/d2" 10 T2 0 >/dev/null
terminal_config "$T/c2" "$T/d2" S1 "$cred" "max_attempts = 1"
"$POSMARK" sync --config "$T/c2" --once >/dev/null 2>"$T/noca.err"; rc=$?
echo "# without the CA: $(head -c 300 "$T/noca.err" | tr '\n' '|')"
check "without the CA: the sync fails saying HQ's certificate does not verify and to set hq.ca_file" '[ $rc -ne 0 ] && grep -q "TLS certificate does not verify.*set hq.ca_file" "$T/noca.err" && grep -q "^hint:" "$T/noca.err" && [ "$(psql_q "SELECT count(*) FROM sales WHERE terminal = '\''T2'\''")" = 0 ]'
hq_stop

# from hq.conf
printf 'tls_cert = %s\ntls_key = %s\n' "$T/hq.pem" "$T/hq.key" >"$T/hq.conf"
tls_start --config "$T/hq.conf"; rc=$?
check "tls_cert and tls_key in hq.conf" '[ $rc -eq 0 ] && [ "$(curl -s --cacert "$T/ca.pem" "$HQ_URL/v1/health")" = "{\"status\":\"ok\"}" ]'
hq_stop

# refusals
"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$(free_port)" --tls-cert "$T/hq.pem" 2>"$T/half.err"; rc=$?
check "a certificate without its key: refused with a hint" '[ $rc -ne 0 ] && grep -q "TLS needs a certificate and its key" "$T/half.err" && grep -q "^hint:" "$T/half.err"'
"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$(free_port)" --tls-cert "$T/san" --tls-key "$T/hq.key" 2>"$T/notpem.err"; rc=$?
check "a certificate file that is not PEM: refused with a hint" '[ $rc -ne 0 ] && grep -q "is not PEM" "$T/notpem.err" && grep -q "^hint:" "$T/notpem.err"'
timeout 10 "$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$(free_port)" --tls-cert "$T/hq.pem" --tls-key "$T/other.key" 2>"$T/mismatch.err"; rc=$?
check "a key that does not belong to the certificate: exit 1 with a hint" '[ $rc -eq 1 ] && grep -q "with TLS" "$T/mismatch.err" && grep -q "^hint:" "$T/mismatch.err"'
