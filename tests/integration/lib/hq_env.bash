# hq_env.bash - sourced by tests/integration/hq_*.sh and bench/hostsync.sh:
# a throwaway PostgreSQL (Debian's package; initdb as an unprivileged user
# into a temp dir, a free loopback port, sockets in the temp dir) and a
# posmark-hq in front of it. Everything is stopped by hq_cleanup (trap it).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
HQ_TMP=$(mktemp -d /tmp/posmark-hq-XXXXXX)
# the card key file (docs/privacy.md): one per throwaway database, made at first use
export POSMARK_HQ_CARD_KEY="$HQ_TMP/hq-card.key"
chmod 755 "$HQ_TMP"
HQ_PIDS=()

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start [extra -c settings...]: sets PG_PORT, HQ_DB
pg_start() {
	[ -x "$PGBIN/initdb" ] || { echo "# PostgreSQL not installed (scripts/install-deps.sh)"; exit 77; }
	mkdir -p "$HQ_TMP/pg" "$HQ_TMP/sock"
	[ "$(id -u)" -eq 0 ] && chown postgres "$HQ_TMP/pg" "$HQ_TMP/sock"
	as_pg "$PGBIN/initdb" -D "$HQ_TMP/pg" -A trust -U postgres --no-sync -E UTF8 >"$HQ_TMP/initdb.log" 2>&1 ||
		{ cat "$HQ_TMP/initdb.log"; echo "not ok - initdb"; exit 1; }
	PG_PORT=$(free_port)
	local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $HQ_TMP/sock -c max_connections=60"
	for o in "$@"; do opts="$opts -c $o"; done
	as_pg "$PGBIN/pg_ctl" -D "$HQ_TMP/pg" -o "$opts" -l "$HQ_TMP/sock/pg.log" -w start >/dev/null ||
		{ cat "$HQ_TMP/sock/pg.log"; echo "not ok - PostgreSQL start"; exit 1; }
	HQ_DB="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
}

psql_q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$HQ_DB" -c "$1"; }
# HQ's tables name a card by its ref, never its number (docs/privacy.md):
# hq_ref NUMBER prints the ref (empty if HQ has no such card), hq_number REF
# the number (the card's account opened from the vault).
hq_ref() { "$POSMARK_HQ" card ref "$1" --db "$HQ_DB" 2>/dev/null; }
hq_number() { "$POSMARK_HQ" card "$1" --db "$HQ_DB" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["card"])'; }

# hq_start: sets HQ_PORT, HQ_PID, HQ_URL
hq_start() {
	HQ_PORT=${HQ_PORT:-$(free_port)}
	"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$HQ_PORT" "$@" 2>>"$HQ_TMP/hq.log" &
	HQ_PID=$!
	HQ_PIDS+=("$HQ_PID")
	HQ_URL="http://127.0.0.1:$HQ_PORT"
	for _ in $(seq 1 100); do
		curl -s -o /dev/null "$HQ_URL/v1/health" && return 0
		sleep 0.1
	done
	echo "not ok - posmark-hq did not start"; cat "$HQ_TMP/hq.log"; exit 1
}

hq_stop() {
	[ -n "${HQ_PID:-}" ] && kill "$HQ_PID" 2>/dev/null && wait "$HQ_PID" 2>/dev/null
	HQ_PID=
}

hq_cleanup() {
	for p in "${HQ_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${HQ_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -d "$HQ_TMP/pg" ] && as_pg "$PGBIN/pg_ctl" -D "$HQ_TMP/pg" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$HQ_TMP"
}

# terminal_config FILE DATA STORE CRED [extra lines]
terminal_config() {
	local f=$1 data=$2 store=$3 cred=$4; shift 4
	{
		echo "[store]"; echo "data = $data"; echo "id = $store"; echo "terminal = T1"; echo "currency = EUR"
		echo "[hq]"; echo "url = $HQ_URL"; echo "store_credential = $cred"
		echo "backoff_initial_ms = 20"; echo "backoff_max_ms = 200"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

# The log generator is a fixture, not the code under test: under ASan its
# LMDB bulk load runs ~100x slower, so the normal build's copy is used when
# it exists (the sync, the receiver and the decoder still run instrumented).
GEN="$POSMARK_BUILD/tests/test_hostsync"
[ -x "$POSMARK_BUILD/../normal/tests/test_hostsync" ] && GEN="$POSMARK_BUILD/../normal/tests/test_hostsync"
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
