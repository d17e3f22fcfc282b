/*
 * hq_int.h - HQ receiver internals (hq_db.c: schema, ingest, queries;
 * hq_server.c: HTTP; hq_main.c: the posmark-hq CLI).
 */
#ifndef HQ_INT_H
#define HQ_INT_H

#include "hostsync/hostsync.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>

#define HQ_SCHEMA_VERSION 1

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

#endif
