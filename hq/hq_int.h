/*
 * hq_int.h - hq internals: what hq_server.c (HTTP) needs from hq_db.c
 * (ingest, store authentication), hq_query.c (requests for stores, the
 * newest rule set) and hq_guard.c (connection deadlines), and hq_db.c's
 * statement helper for hq_query.c.
 * Private to hq/.
 */
#ifndef HQ_INT_H
#define HQ_INT_H

#include "hq/hq.h"
#include "common/pm_buf.h"

/* The outcome of one upload, for the HTTP answer. */
struct hq_ack {
	int http_status;              /* 200, 400, 401, 403, 409, 503 */
	uint64_t acked_seq;           /* HQ's position for (store, terminal, kind) */
	uint64_t stored;              /* records newly stored */
	int duplicate;                /* the whole batch was stored before */
	char reason[400];             /* for the store's log: what was wrong, or "stored" */
};
/* Validate, decode (batch and every event payload, with wire's decoders)
 * and store one batch from an authenticated store, in one transaction. (hq_db.c) */
void hq_ingest(PGconn *c, const char *store, const void *body, size_t len, struct hq_ack *ack);

/* How far a store's consent change may be dated ahead of HQ's clock before
 * it goes to the review queue instead (hq_db.c, hq_requests.c). */
#define HQ_CONSENT_SKEW_S 300

/* Store authentication: the credential's SHA-256 compared in constant time.
 * PM_OK, PM_EREFUSED (unknown store or wrong credential), PM_EIO. (hq_db.c) */
int hq_store_auth(PGconn *c, const char *store, const char *credential);

/* Pending requests for a store as a JSON document (caller frees), NULL on a
 * database error; and their acknowledgement up to an id. (hq_query.c) */
char *hq_requests_json(PGconn *c, const char *store);
int hq_requests_ack(PGconn *c, const char *store, int64_t up_to);

/* The newest rule set: body (malloc'd, NUL-terminated, caller frees),
 * signature in hex, ETag. PM_OK, PM_ENOENT (none published), PM_EIO,
 * PM_ENOMEM. (hq_query.c) */
struct hq_rules {
	char *body;
	size_t len;
	char sig_hex[129];
	char etag[72];
	uint64_t serial;              /* publication serial; 0 for a set published before serials */
};
int hq_rules_latest(PGconn *c, struct hq_rules *out);

/* Run a statement that returns no rows, with n parameters (lens and fmts
 * NULL for text ones, as PQexecParams takes them). PM_OK or PM_EIO; err
 * (may be NULL) gets the server's message. (hq_db.c) */
int hqi_exec(PGconn *c, const char *sql, int n, const char *const *pv, const int *lens, const int *fmts,
	     char *err, size_t errlen);
/* Run a query with n text parameters; its rows in text (binary false) or binary format.
 * The result (the caller PQclears it), or NULL with the server's message in err. (hq_schema.c) */
PGresult *hqi_query(PGconn *c, const char *sql, int n, const char *const *pv, bool binary, char *err,
		    size_t errlen);

/* Run a command (no parameters); on failure err (may be NULL) gets the
 * server's message. PM_OK or PM_EIO. (hq_schema.c) */
int hqi_exec_ok(PGconn *c, const char *sql, char *err, size_t errlen);

/* A read statement (with text parameters) and hq_migrate's schema check in one
 * round trip (libpq pipeline mode). Returns the statement's result, never NULL
 * (caller PQclears); *current says whether the schema is this build's: if not,
 * ignore the result, hq_migrate and ask again. (hq_pipe.c) */
PGresult *hqi_exec_if_current(PGconn *c, const char *sql, int nparams, const char *const *params, bool *current);

/* ---- the chain account's writes in the ingest transaction (hq_ledger.c) ---- */
struct pm_buf;
struct wire_sale;
/* What a sales batch changes in the accounts, gathered while it is decoded, so
 * nothing is read back from the rows just stored. */
struct hqi_card_delta {
	char card[28];                /* the card's ref (hq_vault.h, HQV_REF_LEN) */
	int64_t points, last_us;
	bool fresh;                   /* the ref was made by this batch: no account, no store_cards row */
};
struct hqi_batch_acct {
	struct pm_buf ledger;         /* COPY rows of ledger */
	struct pm_buf coupons;        /* COPY rows of coupon_redemptions */
	struct pm_buf cards;          /* COPY rows "card\tpoints\tlast_us", made by hqi_acct_apply */
	struct hqi_card_delta *v;     /* one per carded record, summed by card at apply */
	size_t n, cap;
	uint64_t n_ledger;
};
/* A record's entries (v1: an earn entry from points_earned), its card (ref:
 * the card's ref, NULL: no card, or one erased at HQ) and coupons. */
int hqi_acct_sale(struct hqi_batch_acct *a, const char *store, const char *terminal, int version,
		  const struct wire_sale *s, const char *ref, bool fresh);
/* The seq of a `cards import` entry: the first 63 bits of BLAKE2b of "ref,points,tier"
 * (the same row imported twice is one entry). (hq_ledger.c) */
int64_t hqi_import_seq(const char *ref, int64_t points, int64_t tier);
/* Empty for a new attempt (buffers kept). */
void hqi_acct_reset(struct hqi_batch_acct *a);
void hqi_acct_free(struct hqi_batch_acct *a);
/* stage (may be NULL): called under the serial lock just before the accounts are written;
 * it returns 1 when it put the batch's per-card rollup rows in HQR_STAGED
 * (hq_rollup_int.h), which the accounts' statements then write with the balances, 0
 * when it has none, PM_EIO (err) to fail the batch. */
struct hqi_acct_stage {
	int (*fn)(PGconn *c, void *arg, char *err, size_t errlen);
	void *arg;
};
/* After the batch's COPY, same transaction: ledger rows, accounts (balance +=
 * new entries, change serial, last visit), store_cards, coupon redemptions;
 * an event batch (after < seq <= last of store/terminal): its cards known,
 * their serial moved. PM_OK or PM_EIO (err). */
int hqi_acct_apply(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		   uint64_t last, struct hqi_batch_acct *a, const struct hqi_acct_stage *stage, char *err,
		   size_t errlen);

/* The UTC month of us: [start, next) in us. PM_OK or PM_EINVAL. (hq_partition.c) */
int hqi_month_start(int64_t us, int64_t *start, int64_t *next);
/* The sales partitions of these month starts, each created once (IF NOT EXISTS under an
 * advisory lock); PM_OK or PM_EIO (err). */
int hqi_ensure_partitions(PGconn *c, const int64_t *months, int n_months, char *err, size_t errlen);

/* Taken (transaction-scoped) by every transaction that gives accounts new change
 * serials, just before it takes them: such transactions then commit in serial order,
 * so a store's snapshot always sees a prefix of the serials and its cursor never
 * steps over a change committed later with a smaller serial (docs/hq.md). */
#define HQI_SERIAL_LOCK "SELECT pg_advisory_xact_lock(7007013)"
/* A batch's card numbers and their refs (hq_ingest_cards.c), for ingest (hq_db.c): numbers
 * added (hqi_cards_add, or the prescan of a sales batch's text), sorted without repeats
 * (hqi_cards_unique), turned into refs in the batch's transaction before its COPY
 * (hqi_cards_resolve: the store's pending erasures, then the vault; a sales batch's new vault
 * rows go beside it unless that failed once), then each record's card column
 * (hqi_cards_ref: its ref, or NULL for no card or one erased at HQ whose erasure the till has
 * not applied; a number missed is noted in extra and the attempt is made again).
 * hqi_cards_commit just before the batch commits (PM_OK; PM_EBUSY: roll back and attempt again,
 * the rows in the batch's own transaction; PM_EIO), hqi_cards_abort after an attempt that did
 * not, hqi_cards_free at the end (numbers wiped). */
struct hqv_card;
struct hqv_beside;
struct hqi_batch_cards {
	struct hqv_card *v;           /* the batch's card numbers, sorted, and their refs ("-": erased) */
	size_t n, cap;
	bool missed;                  /* cards the prescan missed (in extra): attempt again */
	struct hqv_card *extra;       /* those cards, unsorted */
	size_t n_extra, cap_extra;
	uint64_t n_unlinked;          /* rows stored without the card (erased at HQ, pending at the till) */
	bool ref_fresh;               /* hqi_cards_ref's last ref was made by this batch (hqv_card.made) */
	struct hqv_beside *beside;    /* the attempt's new vault rows on the second connection, or NULL */
	bool beside_off;              /* that failed once: the next attempts write them in their own transaction */
};
int hqi_cards_add(struct hqi_batch_cards *b, const char *number, size_t len);
int hqi_cards_unique(struct hqi_batch_cards *b);
int hqi_cards_prescan(struct hqi_batch_cards *b, const char *raw, size_t len);
int hqi_cards_resolve(PGconn *c, struct hqi_batch_cards *b, const char *store, bool sales, char *err, size_t errlen);
int hqi_cards_ref(struct hqi_batch_cards *b, const char *number, const char **ref);
int hqi_cards_commit(struct hqi_batch_cards *b, char *err, size_t errlen);
void hqi_cards_abort(struct hqi_batch_cards *b);
void hqi_cards_free(struct hqi_batch_cards *b);

/* A second connection to the same database beside c, for work sent while c works
 * (hq_side_conn.c); NULL when none can be made (the caller works on c then). Kept per c
 * and slot; used by the thread holding c. hqi_side_drop: close it (it failed; the next
 * call makes a new one). hqi_side_conn is slot HQI_SIDE_ROLLUPS (the per-card rollups'
 * read); HQI_SIDE_VAULT holds a batch's new vault rows (hq_vault_rows.c). */
enum { HQI_SIDE_ROLLUPS = 0, HQI_SIDE_VAULT = 1 };
/* v as 4 big-endian bytes (PostgreSQL's binary formats: COPY, array parameters) */
static inline void hqi_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}
PGconn *hqi_side_conn(PGconn *c);
PGconn *hqi_side_conn_slot(PGconn *c, int slot);
void hqi_side_drop(PGconn *c);
void hqi_side_drop_slot(PGconn *c, int slot);

/* Money a sales row paid (net of returns: a return counts minus its refund;
 * points tendered are not money), the tier's measure. */
#define HQI_MONEY_SQL "(CASE WHEN type = 'return' THEN -refund_cents ELSE total_cents - points_spent * point_value_cents END)"
/* The tier for a window's spend, at least floor (an imported tier). (hq_card.c) */
int hqi_tier_of(const struct hq_tiers *t, int64_t spend_cents, int floor);

/* ---- the stores' account endpoints (hq_accounts.c) ----------------------
 * GET /v1/accounts, /v1/accounts/CARD, /v1/sales/TERMINAL/SEQ,
 * /v1/coupons/CODE for an authenticated store. The answer for hq_server.c
 * to send: status, content type, body (caller frees with pm_buf_free). */
struct hq_answer {
	int status;
	const char *type;             /* "application/gzip" or "application/json" */
	struct pm_buf *body;
};
/* Whether url is one of these endpoints (then hq_accounts_handle answers it). */
bool hq_accounts_route(const char *url);
/* terminal: X-Posmark-Terminal (may be NULL); after, limit: the query
 * arguments (may be NULL). out->body must point at an empty pm_buf. */
void hq_accounts_handle(PGconn *db, const char *store, const char *terminal, const char *url, const char *method,
			const char *after, const char *limit, struct hq_answer *out);

/* ---- COPY text rows (hq_copy.c) ---------------------------------------- */
struct pm_buf;
struct wire_event_payload;
/* The columns of events after the key, in the order hqi_copy_event_fields writes. */
#define HQI_EVENT_COLS "card, campaign, sale_seq, rule, offer_kind, gtin, benefit, value, coupon, discount_cents, consent"
/* n bytes escaped for COPY text (backslash, tab, newline, carriage return). */
int hqi_copy_str(struct pm_buf *b, const char *s, size_t n);
/* An integer followed by sep. */
int hqi_copy_i64(struct pm_buf *b, int64_t v, char sep);
/* s as a JSON string, then COPY-escaped. */
int hqi_copy_json_str(struct pm_buf *b, const char *s);
/* An event's decoded fields as the HQI_EVENT_COLS of a row, each followed by a tab;
 * card: what goes in the card column (the ref at ingest; NULL or "": \N). */
int hqi_copy_event_fields(struct pm_buf *b, const struct wire_event_payload *d, const char *card);
/* COPY ... FROM STDIN of len bytes of rows; err gets the server's message. PM_OK or PM_EIO. */
int hqi_copy_in(PGconn *c, const char *sql, const char *rows, size_t len, char *err, size_t errlen);

/* ---- connection deadlines (hq_guard.c) ---------------------------------- */
/* What a connection is doing; each phase but BUSY has a hard deadline that
 * bytes arriving do not extend. */
enum hqi_guard_phase {
	HQI_GUARD_HEADERS = 0,        /* waiting for a request's headers: header_s */
	HQI_GUARD_BODY = 1,           /* headers read, receiving the body: request_s */
	HQI_GUARD_BUSY = 2,           /* request whole, HQ is answering: no deadline */
};
struct hqi_guard;
/* Start / stop the watchdog thread. PM_OK or PM_ENOMEM. */
int hqi_guard_start(unsigned header_s, unsigned request_s);
void hqi_guard_stop(void);
/* Guard a new connection's socket (dup'ed; NULL if that fails: unguarded);
 * each phase change restarts its clock; close when the connection closed. */
struct hqi_guard *hqi_guard_open(int fd);
void hqi_guard_phase(struct hqi_guard *g, enum hqi_guard_phase phase);
void hqi_guard_close(struct hqi_guard *g);

/* hq_store_status.c (docs/hostsync.md, "Store status"): the Posmark-Status header of an
 * authenticated request (value NULL: none sent) as the latest status of (store, terminal), the
 * store being the credential's. One upsert outside any batch's transaction. PM_OK (also when
 * nothing was sent), PM_EINVAL (a malformed status: logged, nothing stored), PM_EIO. Callers
 * never fail the request on it. */
int hqi_store_status_record(PGconn *c, const char *store, const char *terminal, const char *value);

/* hq_help.c: every help text of posmark-hq (usage, --list-commands, COMMAND --help). */
struct pm_help;
extern const struct pm_help hq_help;

/* Sealed erasures (hq_erasure_open.c, docs/privacy.md): load the rule-signing secret key once at
 * serve's start; at ingest fill d->card of a sealed erasure (others untouched). PM_OK, PM_EINVAL
 * (no key loaded, or not sealed to it: why says), PM_EIO. */
struct wire_event_payload;
int hqi_erasure_key_load(const char *path, char *err, size_t errlen);
int hqi_erasure_open(struct wire_event_payload *d, const char *payload, size_t len, char *why, size_t whylen);

/* The admin socket (hq_admin_sock.c, docs/hq.md): serve answers `card CARD` over a local Unix
 * socket. start: listen at path (0660, a directory others cannot write; a dead serve's socket is
 * replaced) with a connection of its own; PM_OK, or PM_EIO/PM_ENOMEM with why in err. stop: close,
 * remove the file, wait for lookups in progress. */
int hqi_admin_sock_start(const char *path, const char *conninfo, const struct hq_tiers *tiers, char *err,
			 size_t errlen);
void hqi_admin_sock_stop(void);
/* card's side of the socket: hq_lite_int.h (hq_admin_ask.c). */

#endif
