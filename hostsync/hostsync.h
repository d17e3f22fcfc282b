/*
 * hostsync.h - upload of the purchase log to HQ (store-and-forward),
 * rule-set download, and HQ's receiver. Reads sales through an interface
 * the terminal fills in (struct hs_source); never includes loyalty's header.
 *
 * Wire format (docs/hostsync.md, batch format v1): a gzip-compressed NDJSON
 * body, a header line then one sale (or event) per line. The receiver
 * (hq_*.c) decodes with hs_batch_decode() and writes PostgreSQL.
 *
 * Guarantees:
 *  - hs_sync_once() advances a watermark only after HQ acknowledged the
 *    batch that covers it; a lost reply means the same batch (same
 *    idempotency key) is sent again and HQ acknowledges it without storing
 *    it twice.
 *  - Credentials never reach a log line.
 */
#ifndef HOSTSYNC_H
#define HOSTSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_BATCH_FORMAT "posmark-batch"
#define HS_BATCH_VERSION 1
#define HS_ID_MAX 31          /* store and terminal ids */
#define HS_CARD_MAX 19
#define HS_COUPON_MAX 63
#define HS_BATCH_MAX_RAW (256u << 20) /* largest decompressed body accepted */

/* ---- one sale as hostsync sees it (plain data, filled by terminal/) ---- */
struct hs_item {
	char gtin[15];
	int32_t qty;
	int64_t unit_price_cents;
	int64_t line_cents;
};
struct hs_redemption {
	char coupon[HS_COUPON_MAX + 1];
	int64_t discount_cents;
};
struct hs_sale {
	uint64_t seq;
	int64_t time_us;
	char terminal[HS_ID_MAX + 1];
	char card[HS_CARD_MAX + 1];   /* "" = no card or unlinked */
	char currency[4];
	char tender[8];               /* "cash", "card", "other" */
	int64_t total_cents;
	int64_t discount_cents;
	int64_t tendered_cents;
	int64_t points_earned;
	uint32_t n_items;
	struct hs_item *items;
	uint32_t n_redeemed;
	struct hs_redemption *redeemed;
};

/* Non-sale events: type names "consent", "erasure", "offer_issued",
 * "offer_held_back", "offer_redeemed". payload: the producer's bytes. */
struct hs_event {
	uint64_t seq;
	int64_t time_us;
	const char *type;
	const void *payload;
	size_t payload_len;
};

typedef int (*hs_sale_cb)(void *ctx, const struct hs_sale *s);
typedef int (*hs_event_cb)(void *ctx, const struct hs_event *e);

struct hs_positions {
	uint64_t last_sale_seq, sales_acked;
	uint64_t last_event_seq, events_acked;
};

/*
 * What hostsync needs from the terminal's log. Every function returns 0 or
 * a negative pm_err. Views passed to callbacks are valid only during the call.
 */
struct hs_source {
	void *ctx;
	int (*sales_after)(void *ctx, uint64_t after_seq, size_t max, hs_sale_cb cb, void *cb_ctx);
	int (*events_after)(void *ctx, uint64_t after_seq, size_t max, hs_event_cb cb, void *cb_ctx);
	int (*positions)(void *ctx, struct hs_positions *out);
	/* never backwards; events=true for the event watermark */
	int (*watermark_set)(void *ctx, bool events, uint64_t acked_seq);
	/* requests from HQ; must not be queued back to HQ (no echo) */
	int (*apply_erasure)(void *ctx, const char *card);
	int (*apply_consent)(void *ctx, const char *card, bool targeted);
	/* optional: check a downloaded rule set's content before it is installed
	 * (0 = fine; otherwise a reason in err); NULL = signature check only */
	int (*rules_check)(void *ctx, const char *text, size_t len, char *err, size_t errlen);
};

/* ---- batches ------------------------------------------------------------ */
enum hs_batch_kind { HS_BATCH_SALES = 0, HS_BATCH_EVENTS = 1 };

struct hs_batch_header {
	int version;
	int kind;                     /* enum hs_batch_kind */
	char store[HS_ID_MAX + 1];
	char terminal[HS_ID_MAX + 1];
	uint64_t first_seq, last_seq, count;
};

/* A growable byte buffer (the caller frees data). */
struct hs_buf {
	char *data;
	size_t len, cap;
};
int hs_buf_add(struct hs_buf *b, const void *p, size_t n);
void hs_buf_free(struct hs_buf *b);

/*
 * Encoder: hs_enc_begin(), then hs_enc_sale()/hs_enc_event() in seq order,
 * then hs_enc_finish() writes the header line in front and gzips everything
 * into *out (raw_len: uncompressed size, for the ratio).
 */
struct hs_encoder {
	struct hs_batch_header h;
	struct hs_buf body;
};
void hs_enc_begin(struct hs_encoder *e, int kind, const char *store, const char *terminal);
int hs_enc_sale(struct hs_encoder *e, const struct hs_sale *s);
int hs_enc_event(struct hs_encoder *e, const struct hs_event *ev);
int hs_enc_finish(struct hs_encoder *e, struct hs_buf *out, size_t *raw_len);
void hs_enc_release(struct hs_encoder *e);

/*
 * Decoder with strict validation: gzip (or zlib) -> header -> each line.
 * Rejects: bad compression or truncation, a body over HS_BATCH_MAX_RAW,
 * wrong format or version, a missing or mistyped field, seqs that are not
 * first_seq..last_seq in order without gaps, a count that does not match.
 * Callbacks get each decoded record; a non-zero return stops (returned).
 * On failure err gets a reason for the sender. Returns 0, PM_EINVAL,
 * PM_EVERSION, PM_ECORRUPT (compression), PM_ENOMEM.
 */
struct hs_decoded_event {
	uint64_t seq;
	int64_t time_us;
	char type[20];
	const char *payload;          /* NUL-terminated text */
	size_t payload_len;
};
struct hs_decode_cb {
	void *ctx;
	int (*header)(void *ctx, const struct hs_batch_header *h);
	int (*sale)(void *ctx, const struct hs_sale *s);
	int (*event)(void *ctx, const struct hs_decoded_event *e);
};
int hs_gunzip(const void *in, size_t in_len, size_t max_out, struct hs_buf *out);
int hs_batch_decode(const void *body, size_t len, const struct hs_decode_cb *cb, char *err,
		    size_t errlen);
/* The two halves of hs_batch_decode: decompress (limit HS_BATCH_MAX_RAW),
 * then decode NDJSON text (no NUL needed). */
int hs_batch_decompress(const void *body, size_t len, struct hs_buf *raw, char *err, size_t errlen);
int hs_batch_decode_raw(const char *text, size_t len, const struct hs_decode_cb *cb, char *err,
			size_t errlen);

/* ---- upload client ------------------------------------------------------ */
struct hs_client_config {
	const char *url;              /* HQ base URL, e.g. https://hq.example/ */
	const char *store;
	const char *credential;       /* per-store secret; never logged */
	const char *ca_file;          /* "" = system CAs */
	bool tls_verify;              /* default true */
	const char *rules_public_key; /* hex Ed25519 public key; "" = no rule download */
	const char *data_dir;         /* where rules.json goes */
	size_t batch_max_sales;       /* default 20000 */
	int max_attempts;             /* per request, default 8 */
	int backoff_initial_ms;       /* default 200 */
	int backoff_max_ms;           /* default 30000 */
	long timeout_s;               /* per request, default 60 */
	const volatile int *cancel;   /* optional: non-zero stops waits and transfers soon */
};
void hs_client_config_default(struct hs_client_config *c);

struct hs_sync_stats {
	uint64_t sales_sent, events_sent, batches, retries;
	uint64_t bytes_raw, bytes_sent;
	uint64_t requests_applied;
	int rules;                    /* 0 unchanged, 1 installed, <0 refused (pm_err) */
};

/*
 * Upload everything not yet acknowledged (sales, then events), apply HQ's
 * requests (erasures, consent), fetch the rule set. terminal names the
 * sending terminal. Returns 0 when everything is acknowledged, or the last
 * error after max_attempts (PM_EOFFLINE, PM_EREFUSED, PM_EPROTO ...);
 * err says what and a hint. Nothing is lost on failure: the watermark only
 * moves on an ack.
 */
int hs_sync_once(const struct hs_client_config *cfg, const struct hs_source *src,
		 const char *terminal, struct hs_sync_stats *st, char *err, size_t errlen);

/*
 * Verify a rule set (body + detached Ed25519 signature against the hex
 * public key) and install it atomically as DIR/rules.json (+ .sig).
 * PM_ECHECK for a bad signature: nothing is touched.
 */
int hs_rules_install(const char *data_dir, const char *pubkey_hex, const void *body, size_t len,
		     const unsigned char *sig, size_t sig_len, const char *etag);
/* The signature check alone (PM_OK, PM_ECHECK, PM_EINVAL for a bad key). */
int hs_rules_verify(const char *pubkey_hex, const void *body, size_t len, const unsigned char *sig,
		    size_t sig_len);

/* ---- HQ's sales as baskets, for mining at HQ (hq_baskets.c) ------------ */
struct hs_basket_query {
	const char *store;            /* NULL or "": every store */
	const char *terminal;         /* NULL or "": every terminal (of the store, if given) */
	int64_t since_us;             /* sales at or after (UTC us); INT64_MIN: no bound */
	int64_t until_us;             /* sales before; INT64_MAX: no bound */
};
struct hs_basket_stats {
	uint64_t sales;               /* sales selected */
	uint64_t empty;               /* of them without items (not passed on) */
};
/* One sale's items: n GTINs (digits, NUL-terminated, as stored; an item on
 * two lines appears twice). Valid during the call; non-zero stops the read. */
typedef int (*hs_basket_cb)(void *ctx, const char *const *gtins, uint32_t n);
/*
 * Stream the selected sales of HQ's PostgreSQL (conninfo: a libpq connection
 * string) into cb, in storage order (not sorted): one COPY (SELECT ...) TO
 * STDOUT in a read-only snapshot, one row in memory at a time. Returns 0; PM_EOFFLINE
 * (cannot connect; err has libpq's reason), PM_EVERSION (not a posmark-hq
 * database, or a newer schema), PM_EIO (the query failed; err says why),
 * PM_ECORRUPT (a stored item is not a GTIN), PM_ENOMEM, or cb's non-zero return.
 */
int hs_hq_baskets(const char *conninfo, const struct hs_basket_query *q, hs_basket_cb cb, void *ctx,
		  struct hs_basket_stats *st, char *err, size_t errlen);

#endif
