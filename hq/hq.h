/*
 * hq_int.h - HQ receiver internals (hq_db.c: schema, ingest, queries;
 * hq_server.c: HTTP; hq_main.c: the posmark-hq CLI).
 */
#ifndef HQ_H
#define HQ_H

#include "wire/wire.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>

#define HQ_SCHEMA_VERSION 2

/* Connect and check; err gets the server's message. NULL on failure. */
PGconn *hq_connect(const char *conninfo, char *err, size_t errlen);
/* Create or migrate the schema (versioned, each step in one transaction). */
int hq_migrate(PGconn *c, char *err, size_t errlen);

/* The outcome of one upload, for the HTTP answer. */
struct hq_ack {
	int http_status;              /* 200, 400, 401, 409, 503 */
	uint64_t acked_seq;           /* HQ's position for (store, terminal, kind) */
	uint64_t stored;              /* records newly stored */
	int duplicate;                /* the whole batch was stored before */
	char reason[300];
};
/* Validate, decode and store one batch from an authenticated store. */
void hq_ingest(PGconn *c, const char *store, const void *body, size_t len, struct hq_ack *ack);

/* Store authentication: the credential's SHA-256 is compared in constant time. */
int hq_store_auth(PGconn *c, const char *store, const char *credential);
/* Register (or re-key) a store; prints nothing. */
int hq_store_add(PGconn *c, const char *store, const char *credential, char *err, size_t errlen);

/* A card's sales across stores, oldest first, one JSON object per line. */
int hq_history(PGconn *c, const char *card, FILE *out, char *err, size_t errlen);
/* Remove the card's personal data at HQ; queue the erasure for stores that know it. */
int hq_erase(PGconn *c, const char *card, const char *origin_store, char *err, size_t errlen);
/* The customer's consent given to HQ (call centre, web): recorded and sent to every store
 * that knows the card (a downlink request each). Run inside a transaction. */
int hq_consent(PGconn *c, const char *card, bool targeted, char *err, size_t errlen);
/* Reports (JSON lines): sales by store and day; campaigns with lift. */
int hq_report_sales_by_day(PGconn *c, FILE *out, char *err, size_t errlen);
int hq_report_campaigns(PGconn *c, FILE *out, char *err, size_t errlen);

/* Pending requests for a store as a JSON document (caller frees). */
char *hq_requests_json(PGconn *c, const char *store);
int hq_requests_ack(PGconn *c, const char *store, int64_t up_to);

/* Rule sets: the newest one (caller frees fields with PQfreemem/free). */
struct hq_rules {
	char *body;
	size_t len;
	char sig_hex[129];
	char etag[72];
};
int hq_rules_latest(PGconn *c, struct hq_rules *out);
int hq_rules_store(PGconn *c, const void *body, size_t len, const unsigned char sig[64],
		   char *err, size_t errlen);

/* The HTTP server; runs until SIGINT/SIGTERM. */
int hq_serve(const char *conninfo, const char *listen_addr, int workers);

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
 */
int hq_baskets(const char *conninfo, const struct hq_basket_query *q, hq_basket_cb cb, void *ctx,
		  struct hq_basket_stats *st, char *err, size_t errlen);

#endif
