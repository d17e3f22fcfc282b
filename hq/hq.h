/*
 * hq.h - HQ: bin/posmark-hq's library (hq/hq_*.c). It receives the stores'
 * batches over HTTP (hq_serve), stores each exactly once in PostgreSQL,
 * answers analysts (a card's history, reports), carries erasure and consent
 * requests down to the stores, publishes signed rule sets, and streams its
 * sales as baskets for the miner. docs/hq.md has the schema, the HTTP API
 * and the migrations.
 *
 * What it is not: the terminal's client (hostsync/), nor the formats on the
 * wire (wire/: hq decodes batches and event payloads with wire's decoders
 * only; it never parses payload text itself). The till binary never links
 * hq (it runs `posmark-hq baskets` to mine at HQ; wire.h has that contract).
 *
 * Guarantees:
 *  - A batch is stored whole or not at all, once: a resent batch is
 *    acknowledged without storing it again (a per-terminal position row).
 *  - Every event is decoded into columns at ingest; a payload that does not
 *    decode refuses its batch, with a reason naming the event's seq.
 *  - The schema is versioned (HQ_SCHEMA_VERSION = number of migrations);
 *    hq_migrate applies each missing step in one transaction and refuses a
 *    database a newer build migrated.
 *
 * Errors: 0 or a negative pm_err; where a function takes err/errlen, err
 * gets one line for a person (usually PostgreSQL's own message).
 * Threads: a PGconn is used by one thread at a time (libpq's rule); every
 * function here is safe to call from several threads on different
 * connections. hq_serve runs its own worker threads with a connection pool.
 * Lifetimes: what a function returns the caller frees as said beside it;
 * nothing is retained after a call returns.
 */
#ifndef HQ_H
#define HQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Schema version this build writes and reads (docs/hq.md, "Migrations"). */
#define HQ_SCHEMA_VERSION 12

/* Connect (conninfo: a libpq connection string). NULL on failure, err then
 * has libpq's reason. Free with PQfinish. */
PGconn *hq_connect(const char *conninfo, char *err, size_t errlen);
/* Create or migrate the schema: PM_OK, PM_EIO (err: the failing step's
 * error; nothing of that step stays), PM_EVERSION (the database is newer). */
int hq_migrate(PGconn *c, char *err, size_t errlen);

/* Register (or re-key) a store: the credential's SHA-256 is stored, never
 * the credential. Prints nothing. PM_OK or PM_EIO. */
int hq_store_add(PGconn *c, const char *store, const char *credential, char *err, size_t errlen);

/* A card's sales across stores, oldest first, one JSON object per line on
 * out, in the shape of `posmark history --json` plus "store". PM_OK, PM_EIO. */
int hq_history(PGconn *c, const char *card, FILE *out, char *err, size_t errlen);
/* Remove the card's personal data at HQ (sales keep no card, events lose
 * card, payload and coupon) and queue the erasure for the stores that know
 * it, except origin_store (may be NULL). Run inside the caller's
 * transaction. PM_OK, PM_EIO. */
int hq_erase(PGconn *c, const char *card, const char *origin_store, char *err, size_t errlen);
/* The customer's consent given to HQ (call centre, web): recorded and sent
 * to every store that knows the card. Run inside a transaction. */
int hq_consent(PGconn *c, const char *card, bool targeted, char *err, size_t errlen);
/* The review queue (hq_requests.c; docs/hq.md, "Consent and erasure"): a
 * store's erasure or consent event for a card that store never sold to or
 * made an offer to, or a consent change dated in the future, is kept here
 * instead of being applied. List the pending ones as JSON lines on out;
 * approve (apply it as the store's own) or reject one, in one transaction:
 * PM_OK with what (one line for a person) saying what happened, PM_ENOENT
 * (no pending request with that id), PM_EIO. */
int hq_review_list(PGconn *c, FILE *out, char *err, size_t errlen);
int hq_review_decide(PGconn *c, int64_t id, bool approve, char *what, size_t whatlen, char *err, size_t errlen);
/* Reports as JSON lines on out: sales by store and day; campaigns with lift
 * (from the events' decoded columns). PM_OK, PM_EIO. */
int hq_report_sales_by_day(PGconn *c, FILE *out, char *err, size_t errlen);
int hq_report_campaigns(PGconn *c, FILE *out, char *err, size_t errlen);

/* The serial the next published rule set gets: above every serial HQ has
 * published and at least the current Unix time in seconds, so a database
 * restored from an old backup still publishes forward. PM_OK, PM_EIO. */
int hq_rules_next_serial(PGconn *c, uint64_t *serial, char *err, size_t errlen);
/* Store a signed rule set (body as given, sig the Ed25519 signature over
 * wire_rules_signed_message(serial, body)). The caller has checked that the
 * engine loads it (posmark-hq rules publish does). PM_OK, PM_EIO. */
int hq_rules_store(PGconn *c, const void *body, size_t len, uint64_t serial, const unsigned char sig[64],
		   char *err, size_t errlen);

/* Sign a rule set that loads (the caller checked) under the next serial with the
 * Ed25519 secret key sk and store it: hq_rules_next_serial, wire's signed message,
 * hq_rules_store. *serial is the serial it got. The caller wipes sk. PM_OK, PM_EIO. */
int hq_rules_publish(PGconn *c, const void *body, size_t len, const unsigned char sk[64], uint64_t *serial,
		     char *err, size_t errlen);

/* The HTTP server's settings (docs/hq.md, "HTTP API" and "Connections and limits"). */
#define HQ_IDLE_TIMEOUT_S 60          /* a connection with no traffic for this long is closed */
struct hq_serve_config {
	const char *conninfo;         /* libpq connection string */
	const char *listen_addr;      /* "HOST:PORT", IPv4 */
	int workers;                  /* PostgreSQL connections in the pool, 1..32 */
	unsigned max_connections;     /* all clients together (default 1000) */
	unsigned per_ip_connections;  /* one client address (default 32) */
	unsigned header_deadline_s;   /* a request's headers, however they trickle in (default 10) */
	unsigned request_deadline_s;  /* headers and body of one request (default 300) */
	const char *tls_cert_pem;     /* PEM certificate chain; NULL: plain HTTP */
	const char *tls_key_pem;      /* PEM private key (with tls_cert_pem) */
};
/* Serve until SIGINT/SIGTERM. PM_OK after a clean stop, PM_EIO if it
 * cannot listen (or the TLS certificate and key do not load), PM_EINVAL
 * (listen_addr), PM_ENOTSUP (TLS asked, libmicrohttpd without it). */
int hq_serve(const struct hq_serve_config *cfg);

/* ---- the chain account (docs/accounts.md; hq_ledger.c, hq_card.c, hq_accounts.c) ---- */

/* The till's tier table (hq.conf [loyalty], the till's defaults: member 0,
 * silver 500.00, gold 2000.00 over 365 days). Tier = the highest i whose
 * threshold the card's chain spend in the window reaches. */
#define HQ_TIERS_MAX 8
struct hq_tiers {
	int n;
	int64_t threshold_cents[HQ_TIERS_MAX];
	char name[HQ_TIERS_MAX][24];
	int window_days;
};
void hq_tiers_default(struct hq_tiers *t);
/* Parse a `tiers` value "name:threshold:multiplier%, ..." (thresholds in
 * units with up to 2 decimals, rising, the first 0) into t. PM_OK or
 * PM_EINVAL with the reason in err. */
int hq_tiers_parse(const char *value, struct hq_tiers *t, char *err, size_t errlen);
/* The tier table hq_serve's account pages use (call before hq_serve). */
void hq_accounts_config(const struct hq_tiers *t);

/* One `adjust` entry (HQ's serial, terminal "hq") with a reason, in its own
 * transaction. PM_OK or PM_EIO. */
int hq_card_adjust(PGconn *c, const char *card, int64_t points, const char *reason, char *err, size_t errlen);

/* `cards import`: CSV card,points[,tier]. Every line is checked first; a bad
 * one refuses the import (each named on diag as "line N: why"), nothing
 * written: PM_EINVAL. Then one transaction: an `import` entry per card with
 * points > 0, id from the row's SHA-256 (the same file twice adds nothing),
 * a legacy tier held as a floor for one tier window. */
struct hq_import_result {
	uint64_t rows;                /* good data lines */
	int64_t added;                /* entries newly added (0 for a file imported before) */
	unsigned bad_lines;
};
int hq_cards_import(PGconn *c, const char *text, size_t len, const struct hq_tiers *tiers, FILE *diag,
		    struct hq_import_result *res, char *err, size_t errlen);

/* `posmark-hq card CARD`: the account and its ledger, oldest first, as one
 * JSON object (json) or text for people. PM_OK, PM_ENOENT (HQ has no
 * account or entry of the card), PM_EIO, PM_EVERSION (the schema is not this
 * build's: nothing read; hq_migrate, then call again). One round trip: it
 * makes the schema check itself (the caller need not migrate first). */
int hq_card_show(PGconn *c, const char *card, const struct hq_tiers *tiers, bool json, FILE *out, char *err,
		 size_t errlen);
/* Reports as JSON lines: cards with a negative balance; coupons redeemed at
 * more than one sale (two terminals offline). PM_OK, PM_EIO. */
int hq_report_negative_balances(PGconn *c, FILE *out, char *err, size_t errlen);
int hq_report_coupons_twice(PGconn *c, FILE *out, char *err, size_t errlen);
/* Units returned beyond what their sale sold (returns at two stores while HQ lagged), one line
 * per sale and GTIN: {"report":"returns_over_sold","sale","store","gtin","sold","returned",
 * "refunded_cents","returns":[{store,terminal,seq,qty,time_us}]}. */
int hq_report_returns_over_sold(PGconn *c, FILE *out, char *err, size_t errlen);
/* Points liability per store: the sum of the entries each store wrote (HQ's: store null). */
int hq_report_points_liability(PGconn *c, FILE *out, char *err, size_t errlen);

/* ---- HQ's sales as baskets, for mining at HQ (hq_baskets.c) ------------ */
struct hq_basket_query {
	const char *store;            /* NULL or "": every store */
	const char *terminal;         /* NULL or "": every terminal (of the store, if given) */
	int64_t since_us;             /* sales at or after (UTC us); INT64_MIN: no bound */
	int64_t until_us;             /* sales before; INT64_MAX: no bound */
};
struct hq_basket_stats {
	uint64_t sales;               /* sales selected */
	uint64_t empty;               /* of them without items (not passed on) */
};
/* One sale's items: n GTINs (digits, NUL-terminated, as stored; an item on
 * two lines appears twice). Valid during the call; non-zero stops the read. */
typedef int (*hq_basket_cb)(void *ctx, const char *const *gtins, uint32_t n);
/*
 * Stream the selected sales of HQ's PostgreSQL (conninfo: a libpq connection
 * string) into cb, in storage order (not sorted): one COPY (SELECT ...) TO
 * STDOUT in a read-only snapshot, one row in memory at a time. Returns 0; PM_EOFFLINE
 * (cannot connect; err has libpq's reason), PM_EVERSION (not a posmark-hq
 * database, or a newer schema), PM_EIO (the query failed; err says why),
 * PM_ECORRUPT (a stored item is not a GTIN), PM_ENOMEM, or cb's non-zero return.
 * `posmark-hq baskets` writes these as the miner's basket format.
 */
int hq_baskets(const char *conninfo, const struct hq_basket_query *q, hq_basket_cb cb, void *ctx,
	       struct hq_basket_stats *st, char *err, size_t errlen);
/* The same with each sale's card ("" for an anonymous sale; an opaque id: only which sales share
 * it matters) and time, for the explore rules' visit-to-visit steps (`baskets --with-cards`). */
typedef int (*hq_basket_sale_cb)(void *ctx, const char *card, int64_t time_us, const char *const *gtins,
				 uint32_t n);
int hq_baskets_sales(const char *conninfo, const struct hq_basket_query *q, hq_basket_sale_cb cb, void *ctx,
		     struct hq_basket_stats *st, char *err, size_t errlen);

#endif
