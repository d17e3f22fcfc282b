#!/usr/bin/env bash
# console.sh - HQ's web console (docs/console.md) end to end: a real
# PostgreSQL, posmark-hq serve, a real till's day (data/demo/day.scans,
# checked out by bin/posmark and synced to HQ), users made with
# `posmark-hq user`, then
#  - HTTP with curl: no session (redirect / 401), bad and missing CSRF tokens
#    (403), an analyst's POST to an operator action (403), the login rate
#    limit (429), a cross-origin POST (403), cookie attributes;
#  - Debian's chromium driven by playwright-core (console_browser.js): both
#    roles log in, open every page of the menu, compare shown numbers with
#    `posmark-hq` and SQL, screenshot each page (kept in the output folder),
#    check no card number reaches the analyst (every page's HTML and every
#    table's CSV), an operator asks for an erasure and a second operator
#    approves it (four eyes), mined rules published as a campaign.
# Output (screenshots, pages): $POSMARK_BUILD/test-logs/console/ (CI keeps it).
# Needs chromium, node and npm (scripts/install-deps.sh); skips (77) without them.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/hq_env.bash
trap hq_cleanup EXIT
OUT=${CONSOLE_OUT:-$POSMARK_BUILD/test-logs/console}
rm -rf "$OUT" && mkdir -p "$OUT"
T=$HQ_TMP
TOOLS=tests/tools/browser

# ---- the browser tooling: Debian's chromium and playwright-core pinned by package-lock.json ----
[ -x /usr/bin/chromium ] && command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "# chromium, node or npm missing (scripts/install-deps.sh installs them)"; exit 77; }
if [ ! -f "$TOOLS/node_modules/playwright-core/package.json" ] ||
	[ "$(node -p "require('./$TOOLS/node_modules/playwright-core/package.json').version")" != \
	  "$(node -p "require('./$TOOLS/package.json').dependencies['playwright-core']")" ]; then
	(cd "$TOOLS" && npm ci --no-audit --no-fund --ignore-scripts >"$T/npm.log" 2>&1) ||
		{ cat "$T/npm.log"; echo "not ok - npm ci in $TOOLS (the npm registry must be reachable once)"; exit 1; }
fi

# ---- HQ with a signing key, a store, a till's day synced ----
pg_start fsync=off synchronous_commit=off
"$POSMARK_HQ" rules keygen --key "$T/hq.key" >"$T/pub"
hq_start --key "$T/hq.key"
cred=$("$POSMARK_HQ" store add store042 --db "$HQ_DB")
"$POSMARK_HQ" rules publish data/demo/campaigns.json --db "$HQ_DB" --key "$T/hq.key" 2>/dev/null
conf=$T/posmark.conf
{
	cat data/demo/posmark.conf
	printf '\n[hq]\nurl = %s\nstore_credential = %s\nrules_public_key = %s\n' "$HQ_URL" "$cred" "$(cat "$T/pub")"
	printf '\n[offers]\ncoupon_key = %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
} >"$conf"
pm() { "$POSMARK" "$@" --config "$conf" --data "$T/log"; }
pm catalog import data/demo/catalog.csv >/dev/null
mapfile -t cards <data/demo/cards.txt
for c in "${cards[@]:0:20}"; do pm card consent "$c" --targeted yes >/dev/null; done
pm sync --once >/dev/null 2>&1
pm checkout --scans data/demo/day.scans --json --printer "text:$T/receipts.txt" >"$T/day.jsonl"
pm sync --once >/dev/null 2>&1
sales=$(psql_q "SELECT count(*) FROM sales")
check "a till's day is at HQ ($sales sales)" '[ "$sales" -gt 100 ]'

# ---- users ----
pw() { printf '%s\n' "$2" >"$T/pw-$1"; }
pw ana 'analyst-pass-1234'; pw ops 'operator-pass-1234'; pw ops2 'operator2-pass-123'; pw lock 'lockout-pass-12345'
"$POSMARK_HQ" user add ana --role analyst --db "$HQ_DB" --password-file "$T/pw-ana" 2>/dev/null
"$POSMARK_HQ" user add ops --role operator --db "$HQ_DB" --password-file "$T/pw-ops" 2>/dev/null
printf 'operator2-pass-123\n' | "$POSMARK_HQ" user add ops2 --role operator --db "$HQ_DB" 2>/dev/null
"$POSMARK_HQ" user add lock --role analyst --db "$HQ_DB" --password-file "$T/pw-lock" 2>/dev/null
check "user list shows the four users with their roles" \
	'[ "$("$POSMARK_HQ" user list --db "$HQ_DB" | python3 -c "import json,sys; print(\" \".join(d[\"name\"]+\":\"+d[\"role\"] for d in map(json.loads, sys.stdin)))")" = "ana:analyst lock:analyst ops:operator ops2:operator" ]'
check "passwords are stored as argon2id hashes, never as given" \
	'[ "$(psql_q "SELECT count(*) FROM console_users WHERE pw_hash LIKE '\''\$argon2id\$%'\''")" = 4 ] && ! psql_q "SELECT pw_hash FROM console_users" | grep -q pass'
check "a short password is refused" '! printf "short\n" | "$POSMARK_HQ" user add x --role analyst --db "$HQ_DB" 2>/dev/null'
check "a user without a role is refused (usage)" '! "$POSMARK_HQ" user add y --db "$HQ_DB" --password-file "$T/pw-ana" 2>/dev/null'
check "a password on the command line is not an option" '! "$POSMARK_HQ" user add z --role analyst --password x --db "$HQ_DB" 2>/dev/null'

# ---- HTTP without a browser ----
C=$HQ_URL/console
code() { curl -s -o "$T/resp" -w '%{http_code}' "$@"; }
check "a page without a session redirects to the login form" \
	'[ "$(curl -s -o /dev/null -w "%{http_code} %{redirect_url}" "$C/page/card")" = "303 $C/login" ]'
check "CSV without a session: 401" '[ "$(code "$C/page/card?format=csv&table=ledger")" = 401 ]'
check "a POST without a session: 401" '[ "$(code -X POST -d id=1 -d decision=reject "$C/action/requests")" = 401 ]'
login() { # login NAME PASSWORD JAR: the status of the form's POST
	curl -s -o "$T/resp" -D "$T/hdr-$1" -c "$3" -w '%{http_code}' --data-urlencode "name=$1" \
		--data-urlencode "password=$2" "$C/login"
}
check "a wrong password: 401 and the generic message" \
	'[ "$(login ana wrong-password-1 "$T/jar-x")" = 401 ] && grep -q "Wrong name or password" "$T/resp"'
check "an unknown name: the same answer" \
	'[ "$(login nobody wrong-password-1 "$T/jar-x")" = 401 ] && grep -q "Wrong name or password" "$T/resp"'
check "the analyst logs in: 303 to the console" '[ "$(login ana analyst-pass-1234 "$T/jar-ana")" = 303 ]'
check "session cookie: HttpOnly, SameSite=Strict, Path=/console (no Secure on plain HTTP)" \
	'grep -i "^set-cookie: pm_console=" "$T/hdr-ana" | grep -q "Path=/console; HttpOnly; SameSite=Strict" && ! grep -i "^set-cookie" "$T/hdr-ana" | grep -qi secure'
check "the database keeps the session token's hash only" \
	'tok=$(awk "/pm_console/ {print \$7}" "$T/jar-ana"); [ ${#tok} = 64 ] && [ "$(psql_q "SELECT count(*) FROM console_sessions WHERE encode(token_sha256, '\''hex'\'') = '\''$tok'\''")" = 0 ] && [ "$(psql_q "SELECT count(*) FROM console_sessions WHERE token_sha256 = sha256('\''$tok'\''::bytea)")" = 1 ]'
csrf_of() { curl -s -b "$1" "$C/page/card" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1; }
csrf_ana=$(csrf_of "$T/jar-ana")
check "the analyst's page carries a CSRF token" '[ ${#csrf_ana} = 64 ]'
check "requests and audit are not in the analyst's menu" \
	'curl -s -b "$T/jar-ana" "$C/page/card" >"$T/p" && ! grep -q "/console/page/requests\|/console/page/audit" "$T/p" && grep -q "/console/page/mining" "$T/p"'
check "a card number that is not digits: 400" '[ "$(code -b "$T/jar-ana" "$C/page/card?card=12ab")" = 400 ]'
check "a forged card link: 400, nothing shown" '[ "$(code -b "$T/jar-ana" "$C/page/card?ref=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")" = 400 ]'
check "the analyst opening an operators' page: 403" '[ "$(code -b "$T/jar-ana" "$C/page/requests")" = 403 ]'
check "the analyst POSTing an operator action with a good CSRF token: 403" \
	'[ "$(code -b "$T/jar-ana" -d "csrf=$csrf_ana" -d id=1 -d decision=reject "$C/action/requests")" = 403 ]'
check "... publishing too: 403, nothing published" \
	'n=$(psql_q "SELECT count(*) FROM rule_sets"); [ "$(code -b "$T/jar-ana" -d "csrf=$csrf_ana" -d campaign=x "$C/action/publish_mined")" = 403 ] && [ "$(psql_q "SELECT count(*) FROM rule_sets")" = "$n" ]'
login ops operator-pass-1234 "$T/jar-ops" >/dev/null
csrf_ops=$(csrf_of "$T/jar-ops")
check "an operator's POST with a wrong CSRF token: 403" \
	'[ "$(code -b "$T/jar-ops" -d "csrf=${csrf_ana}" -d id=1 -d decision=reject "$C/action/requests")" = 403 ]'
check "... without one: 403" '[ "$(code -b "$T/jar-ops" -d id=1 -d decision=reject "$C/action/requests")" = 403 ]'
check "... with its token in X-CSRF-Token but from another origin: 403" \
	'[ "$(code -b "$T/jar-ops" -H "X-CSRF-Token: $csrf_ops" -H "Origin: http://evil.example" -d id=1 -d decision=reject "$C/action/requests")" = 403 ]'
check "... with its token in X-CSRF-Token: accepted (404: no request 999999)" \
	'[ "$(code -b "$T/jar-ops" -H "X-CSRF-Token: $csrf_ops" -d id=999999 -d decision=reject "$C/action/requests")" = 404 ]'
for i in 1 2 3 4 5; do login lock "wrong-password-$i" "$T/jar-l" >/dev/null; done
check "after 5 failures a minute, even the right password waits: 429" \
	'[ "$(login lock lockout-pass-12345 "$T/jar-l")" = 429 ] && grep -q "Too many attempts" "$T/resp"'
check "logout ends the session (the old cookie no longer works)" \
	'cp "$T/jar-ops" "$T/jar-old"; login ops operator-pass-1234 "$T/jar-tmp" >/dev/null; c=$(csrf_of "$T/jar-tmp"); [ "$(code -b "$T/jar-tmp" -d "csrf=$c" "$C/logout")" = 303 ] && [ "$(code -b "$T/jar-tmp" "$C/page/card?format=json")" = 401 ]'
check "assets are served from the binary" \
	'[ "$(code "$C/assets/console.css")" = 200 ] && [ "$(code "$C/assets/console.js")" = 200 ]'
check "the stores' API still answers as before" \
	'[ "$(code "$HQ_URL/v1/health")" = 200 ] && [ "$(code "$HQ_URL/v1/rules")" = 401 ]'

check "a notice in a URL made elsewhere is not shown (only the console's signed ones)" \
	'curl -s -b "$T/jar-ana" "$C/page/card?notice=Call+555+now&nsig=00000000000000000000000000000000" >"$T/p" && ! grep -q "Call 555" "$T/p"'
"$POSMARK_HQ" user passwd ana --db "$HQ_DB" --password-file "$T/pw-ana" 2>/dev/null
check "user passwd ends the user's sessions" '[ "$(code -b "$T/jar-ana" "$C/page/card?format=json")" = 401 ]'
printf 'temporary-pass-123\n' | "$POSMARK_HQ" user add tmp --role analyst --db "$HQ_DB" 2>/dev/null
login tmp temporary-pass-123 "$T/jar-tmp2" >/dev/null
check "user remove: the user and their sessions are gone" \
	'"$POSMARK_HQ" user remove tmp --db "$HQ_DB" 2>/dev/null && [ "$(code -b "$T/jar-tmp2" "$C/page/card?format=json")" = 401 ] && ! "$POSMARK_HQ" user list --db "$HQ_DB" | grep -q "\"tmp\"" && ! "$POSMARK_HQ" user remove tmp --db "$HQ_DB" 2>/dev/null'
check "the CLI's user changes are in the audit log as cli" \
	'[ "$(psql_q "SELECT string_agg(action, chr(32) ORDER BY id) FROM audit_log WHERE actor = '\''cli'\'' AND details->>'\''user'\'' = '\''tmp'\''")" = "user_add user_remove" ]'
login ops2 operator2-pass-123 "$T/jar-idle" >/dev/null
tok_idle=$(awk '/pm_console/ {print $7}' "$T/jar-idle")
idle_sql() { psql_q "UPDATE console_sessions SET $1 WHERE token_sha256 = sha256('$tok_idle'::bytea)" >/dev/null; }
check "a session used within 30 minutes goes on" '[ "$(code -b "$T/jar-idle" "$C/page/card?format=json")" = 200 ]'
idle_sql "last_us = last_us - 31 * 60 * 1000000::bigint"
check "a session idle for 31 minutes has ended" '[ "$(code -b "$T/jar-idle" "$C/page/card?format=json")" = 401 ]'
login ops2 operator2-pass-123 "$T/jar-idle" >/dev/null
tok_idle=$(awk '/pm_console/ {print $7}' "$T/jar-idle")
idle_sql "expires_us = (extract(epoch from now()) * 1000000)::bigint - 1"
check "a session past its 12 hours has ended, however busy" '[ "$(code -b "$T/jar-idle" "$C/page/card?format=json")" = 401 ]'
check "a name taken: user add refuses it" '! "$POSMARK_HQ" user add ana --role operator --db "$HQ_DB" --password-file "$T/pw-ana" 2>/dev/null && [ "$(psql_q "SELECT role FROM console_users WHERE name = '\''ana'\''")" = analyst ]'
check "a console body announced over 16 MiB: 413 before it is read" \
	'[ "$(code -H "Content-Length: 20000000" -X POST --max-time 5 "$C/login")" = 413 ]'
# ---- TLS: the same console on HTTPS, its cookie Secure ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.pem" 2>/dev/null
TLS_PORT=$(free_port)
"$POSMARK_HQ" serve --db "$HQ_DB" --listen "127.0.0.1:$TLS_PORT" --tls-cert "$T/tls.pem" --tls-key "$T/tls.key" 2>>"$T/hq-tls.log" &
HQ_PIDS+=("$!")
for _ in $(seq 1 100); do curl -s -o /dev/null --cacert "$T/tls.pem" "https://127.0.0.1:$TLS_PORT/v1/health" && break; sleep 0.1; done
check "over TLS the session cookie is also Secure" \
	'curl -s -o /dev/null -D "$T/hdr-tls" --cacert "$T/tls.pem" --data-urlencode name=ana --data-urlencode password=analyst-pass-1234 "https://127.0.0.1:$TLS_PORT/console/login" && grep -i "^set-cookie: pm_console=" "$T/hdr-tls" | grep -q "HttpOnly; SameSite=Strict; Max-Age=43200; Secure"'

# ---- the browser ----
# HQ stores cards by their vault ref (docs/privacy.md): the browser gets numbers, as people type them
card_ref=$(psql_q "SELECT card FROM accounts WHERE NOT erased ORDER BY points DESC, card LIMIT 1")
card=$(hq_number "$card_ref")
card_points=$("$POSMARK_HQ" card "$card" --db "$HQ_DB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])')
baskets=$("$POSMARK_HQ" baskets --db "$HQ_DB" --quiet | wc -l)
psql_q "SELECT DISTINCT card FROM sales WHERE card IS NOT NULL UNION SELECT card FROM accounts" |
	while read -r r; do hq_number "$r"; done >"$T/cards"
check "the card numbers the analyst must never see (from the vault)" '[ "$(grep -c "^[0-9]\{8,19\}$" "$T/cards")" -gt 10 ] && [ -n "$card" ]'
export CONSOLE_URL=$C CONSOLE_OUT=$OUT CARD=$card CARD_POINTS=$card_points BASKETS=$baskets CARDS_FILE=$T/cards \
	HQ_DB POSMARK_HQ_DB="$HQ_DB" PENDING_CMD="$POSMARK_HQ requests list"
export NODE_PATH=$PWD/$TOOLS/node_modules
[ -n "${CONSOLE_DEBUG:-}" ] && { echo "# debug: $C"; sleep 100000; }
timeout 120 node tests/integration/console_browser.js 2>"$T/node.err"
rc=$?
[ $rc -eq 0 ] || { echo "# the browser script failed ($rc):"; sed 's/^/# /' "$T/node.err" | tail -n 30; echo "not ok - browser run"; }

# ---- after the browser: the four-eyes erasure and the publication happened ----
check "the erasure asked for by ops and approved by ops2: the card is gone at HQ" \
	'! "$POSMARK_HQ" card "$card" --db "$HQ_DB" --json >/dev/null 2>&1 && [ "$(psql_q "SELECT count(*) FROM sales WHERE card = '\''$card_ref'\''")" = 0 ]'
check "audit log: the request, the refusal-free approval and the publication, with their actors" \
	'[ "$(psql_q "SELECT string_agg(actor || chr(58) || action, chr(32) ORDER BY id) FROM audit_log WHERE action IN ('\''erasure_request'\'', '\''request_approve'\'', '\''publish_mined'\'')")" = "ops:erasure_request ops2:request_approve ops:publish_mined" ]'
check "the mined campaign is the newest signed rule set and the engine loads it" \
	'psql_q "SELECT convert_from(body, '\''UTF8'\'') FROM rule_sets ORDER BY id DESC LIMIT 1" >"$T/pub.json" && grep -q "\"campaign\":\"console-test\"" "$T/pub.json" && "$POSMARK" rules check "$T/pub.json" >/dev/null 2>&1'
check "the stores fetch the published set (signed, newest serial)" \
	'[ "$(curl -s -o /dev/null -w "%{http_code}" -H "X-Posmark-Store: store042" -H "Authorization: Bearer $cred" "$HQ_URL/v1/rules")" = 200 ]'
ls "$OUT"/*.png >/dev/null 2>&1 && echo "# screenshots: $OUT"
n_sets=$(psql_q "SELECT count(*) FROM rule_sets")
check "an operator uploads a rule-set file: signed and published as sent, in the audit log" \
	'[ "$(code -b "$T/jar-ops" -F "csrf=$csrf_ops" -F "file=@data/demo/campaigns.json" "$C/action/publish_file")" = 303 ] && [ "$(psql_q "SELECT count(*) FROM rule_sets")" = $((n_sets + 1)) ] && [ "$(psql_q "SELECT encode(sha256(body), '\''hex'\'') FROM rule_sets ORDER BY id DESC LIMIT 1")" = "$(sha256sum <data/demo/campaigns.json | cut -d" " -f1)" ] && [ "$(psql_q "SELECT actor FROM audit_log WHERE action = '\''publish_file'\''")" = ops ]'
printf '{"format":"posmark-rules","version":1,"rules":[{"id":"x","kind":"nonsense"}]}' >"$T/bad-rules.json"
check "a rule set the engine refuses: 400 with the engine's reason, nothing published" \
	'[ "$(code -b "$T/jar-ops" -F "csrf=$csrf_ops" -F "file=@$T/bad-rules.json" "$C/action/publish_file")" = 400 ] && grep -q "does not load in the offers engine" "$T/resp" && [ "$(psql_q "SELECT count(*) FROM rule_sets")" = $((n_sets + 1)) ]'
hq_stop
check "posmark-hq stopped cleanly, no sanitizer report in its log" \
	'! grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$HQ_TMP/hq.log"'
cp "$HQ_TMP/hq.log" "$OUT/hq.log"
