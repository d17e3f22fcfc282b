/*
 * hs_int.h - private to hostsync/: the HTTP client that upload.c provides
 * (one exchange, GETs with retries, the client's lifetime) and that
 * pull.c (accounts pull, the till's lookups) uses.
 */
#ifndef HS_INT_H
#define HS_INT_H

#include "hostsync/hostsync.h"
#include "common/pm_buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

struct client {
	const struct hs_client_config *cfg;
	CURL *h;
	struct curl_slist *auth;      /* store, terminal and credential headers */
	char errbuf[CURL_ERROR_SIZE];
	struct pm_buf resp;
	char etag[80];
	char sig_hex[140];
	char rules_serial[24];        /* X-Posmark-Rules-Serial of the last answer, "" if none */
	struct hs_sync_stats *st;
	long budget_ms;               /* > 0: the whole exchange (connect included) within this */
	void *reply_ctx;              /* for a reply_ok function's result */
	CURLcode last_cc;             /* libcurl's result of the last exchange */
	const char *log_path;         /* the path as logs may show it (no full card number); NULL = path */
	bool status_on;               /* send status with every request (a sync's, not the till's lookups) */
	struct wire_status status;    /* status.c: what the Posmark-Status header reports */
	uint64_t ledger_floor;        /* the sales watermark when the sync began: entries after it counted */
};

/* Set up cl (curl handle, auth headers incl. X-Posmark-Terminal). PM_OK or PM_ENOMEM. */
int hsi_client_open(struct client *cl, const struct hs_client_config *cfg, const char *terminal,
		    struct hs_sync_stats *st);
/* Wipe the credential and free everything cl holds. */
void hsi_client_close(struct client *cl);
bool hsi_cancelled(const struct hs_client_config *cfg);
void hsi_backoff_sleep(const struct hs_client_config *cfg, int attempt);
/* One HTTP exchange: PM_OK with *status when HQ answered anything; PM_EOFFLINE otherwise. */
int hsi_http(struct client *cl, const char *method, const char *path, const void *body, size_t len,
	     struct curl_slist *extra, long *status);
/* Whether the reply's length matches its Content-Length (a cut reply does not). */
bool hsi_reply_whole(struct client *cl);
/* Whether cl->resp is a JSON object or array (*out gets it when out != NULL and true). */
bool hsi_body_is_json(const struct client *cl, json_t **out);
/* Whether a reply is the whole posmark answer expected; may keep a result in cl->reply_ctx. */
typedef bool (*hsi_reply_ok_fn)(struct client *cl, long status);
/* A GET with the batches' retry rules (docs/hostsync.md); PM_OK when reply_ok accepted a reply. */
int hsi_get_retry(struct client *cl, const char *what, const char *path, struct curl_slist *extra,
		  hsi_reply_ok_fn reply_ok, long *status, char *err, size_t errlen);

/* status.c (docs/hostsync.md, "Store status"): begin computes the outbox
 * counts and the installed rule set once per sync and sets status_on;
 * positions/acked_ledger follow acknowledged batches; header appends the
 * Posmark-Status line (clock read now) to hdrs when status_on. */
int hsi_status_begin(struct client *cl, const struct hs_source *src);
void hsi_status_positions(struct client *cl, const struct hs_positions *pos);
void hsi_status_acked_ledger(struct client *cl, uint64_t entries);
struct curl_slist *hsi_status_header(struct client *cl, struct curl_slist *hdrs);

/* pull.c: GET /v1/accounts pages until `more` is false, each applied with its cursor. */
int hsi_pull_accounts(struct client *cl, const struct hs_source *src, const char *terminal, char *err,
		      size_t errlen);

#endif
