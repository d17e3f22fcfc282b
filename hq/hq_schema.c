/*
 * hq_schema.c - HQ's connection and schema: connect, the statement
 * helpers, versioned migrations (each in one transaction, serialised by an
 * advisory lock) and migration 2's backfill of the decoded event columns.
 * docs/hq.md has the schema and why it looks like this.
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "hq/hq_rollup_int.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every host of the connection is this machine: a Unix socket (no host, or a path) or loopback. */
static bool local_only(const char *hosts)
{
	if (!hosts || !*hosts)
		return true; /* libpq's default: the Unix socket */
	for (const char *p = hosts; *p;) {
		size_t n = strcspn(p, ",");
		if (!(p[0] == '/' || p[0] == '@' || (n == 9 && !strncmp(p, "localhost", 9)) ||
		      (n >= 4 && !strncmp(p, "127.", 4)) || (n == 3 && !strncmp(p, "::1", 3))))
			return false;
		p += n + (p[n] == ',');
	}
	return true;
}

/*
 * Connect with what each command needs before its first statement and no more (a
 * `posmark-hq card` is mostly connection set-up, docs/benchmarks.md):
 * - client_min_messages=warning goes in the startup packet (options) instead of a SET
 *   round trip, unless the connection string or PGOPTIONS sets options itself;
 * - to a server on this machine (Unix socket or loopback, every host and hostaddr),
 *   sslmode and gssencmode default to disable: libpq's "prefer" would first ask for TLS
 *   (a round trip, and a whole TLS handshake if the server has ssl on) and look for
 *   Kerberos credentials, to protect traffic that never leaves the machine. A connection
 *   string or PGSSLMODE/PGGSSENCMODE that says otherwise wins; remote servers keep
 *   libpq's defaults.
 */
PGconn *hq_connect(const char *conninfo, char *err, size_t errlen)
{
	const char *keys[5], *vals[5]; /* three defaults, dbname, NULL */
	int n = 0;
	bool set_msgs = true;
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	PQfreemem(perr);
	if (opts) {
		const char *host = NULL, *hostaddr = NULL, *options = NULL, *ssl = NULL, *gss = NULL;
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			const char **dst = !strcmp(o->keyword, "host")	       ? &host
					   : !strcmp(o->keyword, "hostaddr")   ? &hostaddr
					   : !strcmp(o->keyword, "options")    ? &options
					   : !strcmp(o->keyword, "sslmode")    ? &ssl
					   : !strcmp(o->keyword, "gssencmode") ? &gss
									       : NULL;
			if (dst && o->val && *o->val)
				*dst = o->val;
		}
		host = host ? host : getenv("PGHOST");
		hostaddr = hostaddr ? hostaddr : getenv("PGHOSTADDR");
		bool local = local_only(hostaddr ? hostaddr : host) && (!hostaddr || local_only(host));
		if (local && !ssl && !getenv("PGSSLMODE")) {
			keys[n] = "sslmode";
			vals[n++] = "disable";
		}
		if (local && !gss && !getenv("PGGSSENCMODE")) {
			keys[n] = "gssencmode";
			vals[n++] = "disable";
		}
		if (!options && !getenv("PGOPTIONS")) {
			keys[n] = "options";
			vals[n++] = "-c client_min_messages=warning";
			set_msgs = false;
		}
	}
	keys[n] = "dbname"; /* last, expanded: what the connection string says wins */
	vals[n++] = conninfo;
	keys[n] = NULL;
	vals[n] = NULL;
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	PQconninfoFree(opts);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	if (set_msgs)
		PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

/* Run a command; on failure copy the message into err (may be NULL). */
int hqi_exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok && err)
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? PM_OK : PM_EIO;
}

int hqi_exec(PGconn *c, const char *sql, int n, const char *const *pv, const int *lens, const int *fmts,
	     char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, pv, lens, fmts, 0);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK; /* rows ignored */
	if (!ok && err)
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? PM_OK : PM_EIO;
}

PGresult *hqi_query(PGconn *c, const char *sql, int n, const char *const *pv, bool binary, char *err,
		    size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, pv, NULL, NULL, binary ? 1 : 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

static int backfill_event_columns(PGconn *c, char *err, size_t errlen);

/* Migration 6's step: the console's secret key (card references in links), made here
 * so that every posmark-hq serve of the chain shares it. */
static int console_secret_step(PGconn *c, char *err, size_t errlen)
{
	unsigned char k[32];
	char hex[65];
	randombytes_buf(k, sizeof(k));
	sodium_bin2hex(hex, sizeof(hex), k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	const char *pv[1] = { hex };
	int rc = hqi_exec(c, "INSERT INTO console_secret (id, key) VALUES (1, decode($1, 'hex')) ON CONFLICT DO NOTHING",
			  1, pv, NULL, NULL, err, errlen);
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

/*
 * Migration n brings the schema from version n-1 to n: its SQL, then (if
 * any) a step in C, in the same transaction. Append, never edit.
 */
struct migration {
	const char *sql;
	int (*step)(PGconn *c, char *err, size_t errlen);
};
static const struct migration migrations[] = {
	/* 1: the first schema */
	{ 
	"CREATE TABLE stores (store_id text PRIMARY KEY, credential_sha256 bytea NOT NULL,"
	"  created_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE upload_progress (store_id text NOT NULL, terminal text NOT NULL,"
	"  kind text NOT NULL, acked_seq bigint NOT NULL DEFAULT 0,"
	"  updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (store_id, terminal, kind));"
	"CREATE TABLE sales (store_id text NOT NULL, terminal text NOT NULL, seq bigint NOT NULL,"
	"  time_us bigint NOT NULL, card text, currency char(3) NOT NULL, tender text NOT NULL,"
	"  total_cents bigint NOT NULL, discount_cents bigint NOT NULL, tendered_cents bigint NOT NULL,"
	"  points_earned bigint NOT NULL, items jsonb NOT NULL, redeemed jsonb NOT NULL,"
	"  PRIMARY KEY (store_id, terminal, seq, time_us)) PARTITION BY RANGE (time_us);"
	"CREATE INDEX sales_card ON sales (card, time_us) WHERE card IS NOT NULL;"
	"CREATE TABLE events (store_id text NOT NULL, terminal text NOT NULL, seq bigint NOT NULL,"
	"  time_us bigint NOT NULL, type text NOT NULL, card text, campaign text, payload text NOT NULL,"
	"  PRIMARY KEY (store_id, terminal, seq));"
	"CREATE INDEX events_card ON events (card) WHERE card IS NOT NULL;"
	"CREATE INDEX events_campaign ON events (campaign, type) WHERE campaign IS NOT NULL;"
	"CREATE TABLE cards (card text PRIMARY KEY, consent text NOT NULL,"
	"  consent_changed_us bigint NOT NULL, source_store text);"
	"CREATE TABLE erasures (id bigserial PRIMARY KEY, card_sha256 bytea NOT NULL,"
	"  requested_us bigint NOT NULL, origin_store text);"
	"CREATE TABLE downlink (id bigserial PRIMARY KEY, store_id text NOT NULL, type text NOT NULL,"
	"  card text NOT NULL, consent text, created_us bigint NOT NULL);"
	"CREATE INDEX downlink_store ON downlink (store_id, id);"
	"CREATE TABLE rule_sets (id bigserial PRIMARY KEY, body bytea NOT NULL, signature bytea NOT NULL,"
	"  etag text NOT NULL, published_at timestamptz NOT NULL DEFAULT now());", NULL },
	/* 2: each event's payload decoded into columns (wire's decoders, at ingest and, for the
	 * rows already stored, by backfill_event_columns); queries never parse payloads */
	{ "ALTER TABLE events ADD COLUMN sale_seq bigint, ADD COLUMN rule text, ADD COLUMN offer_kind text,"
	  "  ADD COLUMN gtin text, ADD COLUMN benefit integer, ADD COLUMN value bigint, ADD COLUMN coupon text,"
	  "  ADD COLUMN discount_cents bigint, ADD COLUMN consent text;", backfill_event_columns },
	/* 3: one account per card across the chain (docs/accounts.md): sales v2 columns, the
	 * ledger (an entry's id is its primary key, so it counts once), accounts with a change
	 * serial for the stores' cursor, which store knows which card, coupon redemptions; the
	 * v1 sales already stored get their earn entries. A till's entries are keyed
	 * STORE/TERMINAL (two stores may name a terminal alike); HQ's 'hq' and 'hq-import'. */
	{ "ALTER TABLE sales ADD COLUMN type text NOT NULL DEFAULT 'sale', ADD COLUMN return_of_terminal text,"
	  "  ADD COLUMN return_of_seq bigint, ADD COLUMN points_spent bigint NOT NULL DEFAULT 0,"
	  "  ADD COLUMN point_value_cents bigint NOT NULL DEFAULT 0, ADD COLUMN refund_cents bigint NOT NULL DEFAULT 0;"
	  "CREATE INDEX sales_return_of ON sales (return_of_terminal, return_of_seq) WHERE type = 'return';"
	  "CREATE INDEX sales_terminal_seq ON sales (terminal, seq);"
	  "CREATE TABLE ledger (terminal_key text NOT NULL, seq bigint NOT NULL, kind text NOT NULL,"
	  "  store_id text, terminal text NOT NULL, card text NOT NULL, time_us bigint NOT NULL,"
	  "  points bigint NOT NULL, reason text, PRIMARY KEY (terminal_key, seq, kind));"
	  "CREATE INDEX ledger_card ON ledger (card, time_us);"
	  "CREATE SEQUENCE account_serial; CREATE SEQUENCE ledger_hq_serial;"
	  "CREATE TABLE accounts (card text PRIMARY KEY, points bigint NOT NULL DEFAULT 0,"
	  "  change_serial bigint NOT NULL, last_visit_us bigint NOT NULL DEFAULT 0,"
	  "  tier_floor integer NOT NULL DEFAULT 0, tier_floor_until_us bigint NOT NULL DEFAULT 0,"
	  "  erased boolean NOT NULL DEFAULT false);"
	  "CREATE INDEX accounts_serial ON accounts (change_serial);"
	  "CREATE TABLE store_cards (store_id text NOT NULL, card text NOT NULL, change_serial bigint NOT NULL DEFAULT 0,"
	  "  PRIMARY KEY (store_id, card));"
	  "CREATE INDEX store_cards_serial ON store_cards (store_id, change_serial);"
	  "CREATE INDEX store_cards_card ON store_cards (card);"
	  "CREATE TABLE coupon_redemptions (coupon text NOT NULL, store_id text NOT NULL, terminal text NOT NULL,"
	  "  seq bigint NOT NULL, time_us bigint NOT NULL, PRIMARY KEY (terminal, seq, coupon));"
	  "CREATE INDEX coupon_redemptions_coupon ON coupon_redemptions (coupon, time_us);"
	  "INSERT INTO ledger (terminal_key, seq, kind, store_id, terminal, card, time_us, points)"
	  "  SELECT store_id || '/' || terminal, seq, 'earn', store_id, terminal, card, time_us, points_earned FROM sales"
	  "  WHERE card IS NOT NULL AND points_earned > 0 ON CONFLICT DO NOTHING;"
	  "INSERT INTO accounts (card, points, change_serial, last_visit_us)"
	  "  SELECT card, sum(p), nextval('account_serial'), max(t) FROM (SELECT card, points AS p, 0::bigint AS t"
	  "  FROM ledger UNION ALL SELECT card, 0, time_us FROM sales WHERE card IS NOT NULL) x GROUP BY card;"
	  "INSERT INTO store_cards SELECT DISTINCT store_id, card FROM sales WHERE card IS NOT NULL"
	  "  UNION SELECT DISTINCT store_id, card FROM events WHERE card IS NOT NULL;"
	  "INSERT INTO coupon_redemptions SELECT r->>'coupon', store_id, terminal, seq, time_us"
	  "  FROM sales, jsonb_array_elements(redeemed) r ON CONFLICT DO NOTHING;"
	  "UPDATE store_cards k SET change_serial = a.change_serial FROM accounts a WHERE a.card = k.card;"
	  /* a store's page is an index range of store_cards: each account change is copied to
	   * the rows of the stores that know the card, once per statement */
	  "CREATE FUNCTION account_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	  "  UPDATE store_cards k SET change_serial = n.change_serial FROM changed n"
	  "  WHERE k.card = n.card AND k.change_serial < n.change_serial; RETURN NULL; END $$;"
	  "CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts REFERENCING NEW TABLE AS changed"
	  "  FOR EACH STATEMENT EXECUTE FUNCTION account_changed();"
	  "CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts REFERENCING NEW TABLE AS changed"
	  "  FOR EACH STATEMENT EXECUTE FUNCTION account_changed();", NULL },
	/* 4: hardening (issue 15): the review queue for erasure and consent events a store may not
	 * apply by itself (cards it never saw, consent times in the future), and rule-set serials */
	{ "CREATE TABLE review_requests (id bigserial PRIMARY KEY, store_id text NOT NULL,"
	  "  terminal text NOT NULL, seq bigint NOT NULL, type text NOT NULL, card text NOT NULL,"
	  "  consent text, event_us bigint NOT NULL, received_us bigint NOT NULL, reason text NOT NULL,"
	  "  status text NOT NULL DEFAULT 'pending', decided_us bigint);"
	  "CREATE INDEX review_requests_card ON review_requests (card);"
	  "ALTER TABLE rule_sets ADD COLUMN serial bigint;"
	  "CREATE UNIQUE INDEX rule_sets_serial ON rule_sets (serial);", NULL },
	/* 5: the card vault (issue 15 item 10; docs/privacy.md, "At HQ"): every card column
	 * holds a random ref, the number only sealed in card_vault; vault rows are accepted
	 * under the database's key epoch only; pending downlink erasures keep the number
	 * sealed and its lookup until the store acknowledges; erasure records keep a keyed
	 * lookup instead of the number's SHA-256 (which brute force reverses). The step
	 * converts the numbers already stored (hqv_migrate_numbers). */
	{ "CREATE TABLE vault_meta (one boolean PRIMARY KEY DEFAULT true CHECK (one), epoch int NOT NULL,"
	  "  key_check bytea NOT NULL);"
	  "CREATE TABLE card_vault (ref text PRIMARY KEY, lookup bytea NOT NULL UNIQUE, wrapped_key bytea NOT NULL,"
	  "  sealed bytea NOT NULL, key_epoch int NOT NULL);"
	  /* once per statement (a batch's new cards are one INSERT): rows of another epoch refused */
	  "CREATE FUNCTION card_vault_epoch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	  "  IF EXISTS (SELECT 1 FROM written w WHERE w.key_epoch IS DISTINCT FROM (SELECT epoch FROM vault_meta)) THEN"
	  "  RAISE EXCEPTION 'card vault rows under another key epoch than the database''s'"
	  "  USING ERRCODE = 'PMK01', HINT = 'this posmark-hq holds an old card key: it reloads it; retry';"
	  "  END IF; RETURN NULL; END $$;"
	  "CREATE TRIGGER card_vault_epoch_insert AFTER INSERT ON card_vault REFERENCING NEW TABLE AS written"
	  "  FOR EACH STATEMENT EXECUTE FUNCTION card_vault_epoch();"
	  "CREATE TRIGGER card_vault_epoch_update AFTER UPDATE ON card_vault REFERENCING NEW TABLE AS written"
	  "  FOR EACH STATEMENT EXECUTE FUNCTION card_vault_epoch();"
	  "ALTER TABLE downlink ADD COLUMN lookup bytea, ADD COLUMN sealed bytea;"
	  "CREATE INDEX downlink_lookup ON downlink (store_id, lookup) WHERE lookup IS NOT NULL;"
	  "ALTER TABLE erasures ADD COLUMN card_mac bytea;"
	  "ALTER TABLE erasures DROP COLUMN card_sha256;"
	  "ALTER TABLE events ALTER COLUMN payload SET DEFAULT '';", hqv_migrate_numbers },
	/* 6: the web console's users, sessions, login failures, audit log and secret (issue 18,
	 * docs/console.md). Every statement is IF NOT EXISTS and
	 * the step inserts only a missing secret. */
	{ "CREATE TABLE IF NOT EXISTS console_users (name text PRIMARY KEY,"
	  "  role text NOT NULL CHECK (role IN ('analyst', 'operator')), pw_hash text NOT NULL,"
	  "  created_us bigint NOT NULL, changed_us bigint NOT NULL);"
	  "CREATE TABLE IF NOT EXISTS console_sessions (token_sha256 bytea PRIMARY KEY,"
	  "  name text NOT NULL REFERENCES console_users (name) ON DELETE CASCADE, created_us bigint NOT NULL,"
	  "  last_us bigint NOT NULL, expires_us bigint NOT NULL, ip text);"
	  "CREATE INDEX IF NOT EXISTS console_sessions_name ON console_sessions (name);"
	  "CREATE TABLE IF NOT EXISTS console_login_failures (key text NOT NULL, at_us bigint NOT NULL);"
	  "CREATE INDEX IF NOT EXISTS console_login_failures_key ON console_login_failures (key, at_us);"
	  "CREATE TABLE IF NOT EXISTS audit_log (id bigserial PRIMARY KEY, at_us bigint NOT NULL, actor text NOT NULL,"
	  "  action text NOT NULL, details jsonb NOT NULL DEFAULT '{}');"
	  "CREATE TABLE IF NOT EXISTS console_secret (id int PRIMARY KEY CHECK (id = 1), key bytea NOT NULL);",
	  console_secret_step },
	/* 7: the console's rollup tables (issue 18), maintained by ingest in each batch's own
	 * transaction, back-filled from the rows already stored (hq_rollup_schema.c; docs/console.md) */
	{ hqr_migration_sql, hqr_backfill },
	/* 8: the latest status each store's terminal reported (wire's Posmark-Status header,
	 * docs/hostsync.md "Store status"; hq_store_status.c writes it, the stores page reads it) */
	{ "CREATE TABLE IF NOT EXISTS store_status (store_id text NOT NULL, terminal text NOT NULL,"
	  "  received_us bigint NOT NULL, terminal_us bigint NOT NULL, unsent_sales bigint NOT NULL,"
	  "  unsent_events bigint NOT NULL, unsent_ledger bigint, rules_id text, rules_serial bigint,"
	  "  version text NOT NULL, PRIMARY KEY (store_id, terminal));", NULL },
	/* 9: the vault's generation (ingest's cache of refs, hq_vault_cache.c): moved by every
	 * statement that deletes, updates or truncates vault rows (erasure, key rotation), so a
	 * receiver's cached refs are dropped when one might be stale. Idempotent. */
	{ "ALTER TABLE vault_meta ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0;"
	  "CREATE OR REPLACE FUNCTION card_vault_generation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	  "  UPDATE vault_meta SET generation = generation + 1; RETURN NULL; END $$;"
	  "DROP TRIGGER IF EXISTS card_vault_changed ON card_vault;"
	  "CREATE TRIGGER card_vault_changed AFTER DELETE OR UPDATE OR TRUNCATE ON card_vault"
	  "  FOR EACH STATEMENT EXECUTE FUNCTION card_vault_generation();", NULL },
	/* 10: a card's months in its rollup_card row, rollup_card_month dropped, the rollups
	 * recomputed (hq_rollup_schema.c; docs/console.md "Page data") */
	{ hqr_migration10_sql, NULL },
	/* 11: fewer index entries per card written by ingest (docs/hq.md, "Where a batch's time
	 * goes"): accounts_serial had no reader (a store's page is a range of store_cards); the
	 * primary key of store_cards leads with the card, so it also serves the look-ups by card
	 * (account_changed, erasure) that store_cards_card served; account_changed's statement
	 * probes store_cards by card for each changed account (a nested loop) instead of reading
	 * the whole of store_cards in card order, which grew with the chain. Idempotent. */
	{ "DROP INDEX IF EXISTS accounts_serial;"
	  "ALTER TABLE store_cards DROP CONSTRAINT IF EXISTS store_cards_pkey;"
	  "ALTER TABLE store_cards ADD CONSTRAINT store_cards_pkey PRIMARY KEY (card, store_id);"
	  "DROP INDEX IF EXISTS store_cards_card;"
	  /* the same function, two things new: the plan settings, and nothing to do for a statement
	   * whose accounts' store_cards rows the writer made current itself (ingest's new cards,
	   * hq_ledger.c; a setting local to the transaction, set and cleared around that statement) */
	  "CREATE OR REPLACE FUNCTION account_changed() RETURNS trigger LANGUAGE plpgsql"
	  "  SET enable_mergejoin = off SET enable_hashjoin = off AS $$ BEGIN"
	  "  IF current_setting('posmark.store_cards_current', true) = 'on' THEN RETURN NULL; END IF;"
	  "  UPDATE store_cards k SET change_serial = n.change_serial FROM changed n"
	  "  WHERE k.card = n.card AND k.change_serial < n.change_serial; RETURN NULL; END $$;", NULL },
	/* 12: one row per card: the per-card rollups live in the card's accounts row and
	 * rollup_card is a view of them (hq_rollup_schema.c says why). Idempotent. */
	{ hqr_migration12_sql, NULL },
};

/* HQ_SCHEMA_VERSION (read by the miner's check) is the number of migrations. */
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == HQ_SCHEMA_VERSION,
	       "append a migration and raise HQ_SCHEMA_VERSION together");

int hq_migrate(PGconn *c, char *err, size_t errlen)
{
	int n = HQ_SCHEMA_VERSION;
	/* Every command migrates first: when every step is there (the usual case), one
	 * query says so, instead of a transaction per step (`card` answers in ~10 ms). */
	PGresult *q = PQexec(c, "SELECT count(*), max(version) FROM schema_migrations");
	bool current = PQresultStatus(q) == PGRES_TUPLES_OK && atoi(PQgetvalue(q, 0, 0)) == n &&
		       atoi(PQgetvalue(q, 0, 1)) == n;
	PQclear(q);
	if (current)
		return PM_OK;
	/* two receivers starting at once: the advisory lock lets one create it */
	if (hqi_exec_ok(c, "BEGIN; SELECT pg_advisory_xact_lock(7007001);"
		    " CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY,"
		    " applied_at timestamptz NOT NULL DEFAULT now()); COMMIT", err, errlen)) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		return PM_EIO;
	}
	for (int v = 1; v <= n; v++) {
		char sql[200];
		PGresult *r;
		int have;
		/* One transaction per step; the advisory lock serialises receivers. */
		if (hqi_exec_ok(c, "BEGIN; SELECT pg_advisory_xact_lock(7007001)", err, errlen))
			return PM_EIO;
		snprintf(sql, sizeof(sql), "SELECT 1 FROM schema_migrations WHERE version = %d", v);
		r = PQexec(c, sql);
		have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		PQclear(r);
		if (!have) {
			pm_info("applying schema migration %d", v);
			snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations (version) VALUES (%d)", v);
			const struct migration *m = &migrations[v - 1];
			if (hqi_exec_ok(c, m->sql, err, errlen) || (m->step && m->step(c, err, errlen)) ||
			    hqi_exec_ok(c, sql, err, errlen)) {
				hqi_exec_ok(c, "ROLLBACK", NULL, 0);
				return PM_EIO;
			}
		}
		if (hqi_exec_ok(c, "COMMIT", err, errlen))
			return PM_EIO;
	}
	/* A database migrated by a newer build is refused rather than misread. */
	PGresult *r = PQexec(c, "SELECT max(version) FROM schema_migrations");
	int top = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	if (top > n) {
		snprintf(err, errlen, "database schema is version %d, this posmark-hq knows up to %d", top, n);
		return PM_EVERSION;
	}
	return PM_OK;
}

/*
 * Migration 2's step: the events stored before it get their columns from
 * wire's decoders too (never SQL string functions). A cursor feeds
 * BACKFILL_CHUNK rows at a time into a temporary table by COPY; one UPDATE
 * joins it back. An erased row (empty payload) keeps its NULLs; a row whose
 * payload does not decode (written before payloads were checked) keeps the
 * card and campaign it had and is counted in the log.
 */
#define BACKFILL_CHUNK "20000"
static int backfill_event_columns(PGconn *c, char *err, size_t errlen)
{
	struct pm_buf b = { 0 };
	uint64_t done = 0, bad = 0;
	int rc = hqi_exec_ok(c, "CREATE TEMP TABLE events_v2 ON COMMIT DROP AS SELECT store_id, terminal, seq, type, "
			 HQI_EVENT_COLS " FROM events WITH NO DATA;"
			 "DECLARE events_v1 NO SCROLL CURSOR FOR SELECT store_id, terminal, seq, type, payload"
			 " FROM events WHERE payload <> ''", err, errlen);
	while (!rc) {
		PGresult *r = PQexec(c, "FETCH " BACKFILL_CHUNK " FROM events_v1");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(r));
			PQclear(r);
			rc = PM_EIO;
			break;
		}
		int n = PQntuples(r);
		b.len = 0;
		for (int i = 0; !rc && i < n; i++) {
			struct wire_event_payload d;
			char why[200];
			if (wire_event_payload_decode(wire_event_type_parse(PQgetvalue(r, i, 3)), PQgetvalue(r, i, 4),
						      (size_t)PQgetlength(r, i, 4), &d, why, sizeof(why))) {
				bad++;
				continue;
			}
			for (int k = 0; !rc && k < 4; k++) {
				rc = hqi_copy_str(&b, PQgetvalue(r, i, k), (size_t)PQgetlength(r, i, k));
				rc = rc ? rc : pm_buf_add(&b, "\t", 1);
			}
			rc = rc ? rc : hqi_copy_event_fields(&b, &d, d.card);
			if (!rc)
				b.data[b.len - 1] = '\n';
			done++;
		}
		PQclear(r);
		if (rc || n == 0)
			break;
		if (b.len)
			rc = hqi_copy_in(c, "COPY events_v2 FROM STDIN", b.data, b.len, err, errlen);
	}
	rc = rc ? rc : hqi_exec_ok(c, "CLOSE events_v1;"
			       "UPDATE events e SET card = v.card, campaign = v.campaign, sale_seq = v.sale_seq,"
			       " rule = v.rule, offer_kind = v.offer_kind, gtin = v.gtin, benefit = v.benefit,"
			       " value = v.value, coupon = v.coupon, discount_cents = v.discount_cents,"
			       " consent = v.consent FROM events_v2 v WHERE e.store_id = v.store_id"
			       " AND e.terminal = v.terminal AND e.seq = v.seq", err, errlen);
	pm_buf_free(&b);
	if (!rc)
		pm_info("schema migration 2: %" PRIu64 " stored event(s) decoded into columns", done);
	if (!rc && bad)
		pm_warn("schema migration 2: %" PRIu64 " stored event(s) have a payload that does not decode; "
			"they keep only their card and campaign", bad);
	return rc;
}
