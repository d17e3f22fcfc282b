/*
 * wire.h - every format that crosses between a store and HQ, with one
 * codec per format that both ends use (docs/hostsync.md):
 *  - batch format v1: a gzip-compressed NDJSON body, a header line then one
 *    sale (or event) per line; the terminal encodes (hostsync), HQ decodes
 *    (hq) with the same code.
 *  - event payloads v1 (consent, erasure, offer issued / held back /
 *    redeemed) and their type names: struct in, bytes out, and back
 *    (wire_event.c); HQ decodes every uploaded event with these.
 *  - the contract of `posmark-hq baskets`, the stream `posmark mine
 *    --hq-db` reads (exit statuses below; docs/hq.md).
 *
 * Depends on common/, zlib and jansson only. Plain data in, plain data out:
 * no I/O, no globals, so any thread may use its own encoder or decoder.
 *
 * Errors: 0 or a negative pm_err; a decoder's err names the offending line
 * and field for the sender's log.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pm_buf.h"

#define WIRE_BATCH_FORMAT "posmark-batch"
#define WIRE_BATCH_VERSION 2     /* what the encoder writes; the decoder reads 1 and 2 */
#define WIRE_ID_MAX 31          /* store and terminal ids */
#define WIRE_CARD_MAX 19
#define WIRE_COUPON_MAX 63
#define WIRE_BATCH_MAX_RAW (256u << 20) /* largest decompressed body accepted */

/* ---- one sale as hostsync sees it (plain data, filled by terminal/) ---- */
struct wire_item {
	char gtin[15];
	int32_t qty;
	int64_t unit_price_cents;
	int64_t line_cents;
};
struct wire_redemption {
	char coupon[WIRE_COUPON_MAX + 1];
	int64_t discount_cents;
};
/* Ledger entries (docs/accounts.md): numbers shared with loyalty's LOY_LEDGER_*. */
enum wire_ledger_kind {
	WIRE_LEDGER_EARN = 1, WIRE_LEDGER_SPEND = 2, WIRE_LEDGER_CLAWBACK = 3, WIRE_LEDGER_BONUS = 4,
	WIRE_LEDGER_EXPIRY = 5, WIRE_LEDGER_ADJUST = 6, WIRE_LEDGER_IMPORT = 7,
};
#define WIRE_LEDGER_KIND_MAX 7
/* "earn", "spend", "clawback", "bonus", "expiry", "adjust", "import"; NULL if unknown. */
const char *wire_ledger_kind_name(int kind);
/* The number for a kind name, or PM_EINVAL. */
int wire_ledger_kind_parse(const char *name);
struct wire_ledger_entry {
	int kind;                     /* enum wire_ledger_kind */
	int64_t points;               /* signed as docs/accounts.md fixes (spend < 0 ...) */
};
#define WIRE_LEDGER_PER_SALE 5        /* at most one entry per kind per record */
#define WIRE_POINTS_MAX 1000000000000LL /* |points| of one entry, points_spent: at most 10^12 */
/* "TERMINAL:SEQ" (a return's return_of, a receipt's sale reference) into
 * terminal (cap bytes) and seq >= 1. PM_OK or PM_EINVAL. */
int wire_parse_sale_ref(const char *ref, char *terminal, size_t cap, uint64_t *seq);
enum wire_sale_type { WIRE_SALE_SALE = 0, WIRE_SALE_RETURN = 1 };

struct wire_sale {
	uint64_t seq;
	int64_t time_us;
	char terminal[WIRE_ID_MAX + 1];
	char card[WIRE_CARD_MAX + 1];   /* "" = no card or unlinked */
	char currency[4];
	char tender[8];               /* "cash", "card", "other" */
	int64_t total_cents;
	int64_t discount_cents;
	int64_t tendered_cents;
	int64_t points_earned;
	uint32_t n_items;
	struct wire_item *items;
	uint32_t n_redeemed;
	struct wire_redemption *redeemed;
	/* batch v2 (a v1 line decodes with type sale, zeros, n_ledger 0) */
	int type;                     /* enum wire_sale_type */
	char return_of_terminal[WIRE_ID_MAX + 1]; /* returns: the original sale */
	uint64_t return_of_seq;
	int64_t points_spent;         /* points tendered on this sale */
	int64_t point_value_cents;    /* value of one point when spent */
	int64_t refund_cents;         /* returns: money given back */
	uint32_t n_ledger;
	struct wire_ledger_entry ledger[WIRE_LEDGER_PER_SALE];
};

/* Non-sale events: type a name of wire_event_type_name(); payload the
 * bytes of that type's encoder below (not NUL-terminated, not retained). */
struct wire_event {
	uint64_t seq;
	int64_t time_us;
	const char *type;
	const void *payload;
	size_t payload_len;
};

/* ---- batches ------------------------------------------------------------ */
enum wire_batch_kind { WIRE_BATCH_SALES = 0, WIRE_BATCH_EVENTS = 1 };

struct wire_batch_header {
	int version;
	int kind;                     /* enum wire_batch_kind */
	char store[WIRE_ID_MAX + 1];
	char terminal[WIRE_ID_MAX + 1];
	uint64_t first_seq, last_seq, count;
};

/*
 * Encoder: wire_enc_begin(), then wire_enc_sale()/wire_enc_event() in seq order,
 * then wire_enc_finish() writes the header line in front and gzips everything
 * into *out (raw_len: uncompressed size, for the ratio).
 */
struct wire_encoder {
	struct wire_batch_header h;   /* h.version: WIRE_BATCH_VERSION; set 1 after begin to write v1 */
	struct pm_buf body;
};
void wire_enc_begin(struct wire_encoder *e, int kind, const char *store, const char *terminal);
int wire_enc_sale(struct wire_encoder *e, const struct wire_sale *s);
int wire_enc_event(struct wire_encoder *e, const struct wire_event *ev);
int wire_enc_finish(struct wire_encoder *e, struct pm_buf *out, size_t *raw_len);
void wire_enc_release(struct wire_encoder *e);

/*
 * Decoder with strict validation: gzip (or zlib) -> header -> each line.
 * Rejects: bad compression or truncation, a body over WIRE_BATCH_MAX_RAW,
 * wrong format or version, a missing or mistyped field, seqs that are not
 * first_seq..last_seq in order without gaps, a count that does not match.
 * Callbacks get each decoded record; a non-zero return stops (returned).
 * On failure err gets a reason for the sender. Returns 0, PM_EINVAL,
 * PM_EVERSION, PM_ECORRUPT (compression), PM_ENOMEM.
 */
struct wire_decoded_event {
	uint64_t seq;
	int64_t time_us;
	char type[20];
	const char *payload;          /* NUL-terminated text */
	size_t payload_len;
};
struct wire_decode_cb {
	void *ctx;
	int (*header)(void *ctx, const struct wire_batch_header *h);
	int (*sale)(void *ctx, const struct wire_sale *s);
	int (*event)(void *ctx, const struct wire_decoded_event *e);
};
int wire_gunzip(const void *in, size_t in_len, size_t max_out, struct pm_buf *out);
int wire_batch_decode(const void *body, size_t len, const struct wire_decode_cb *cb, char *err,
		    size_t errlen);
/* The two halves of wire_batch_decode: decompress (limit WIRE_BATCH_MAX_RAW),
 * then decode NDJSON text (no NUL needed). */
int wire_batch_decompress(const void *body, size_t len, struct pm_buf *raw, char *err, size_t errlen);
int wire_batch_decode_raw(const char *text, size_t len, const struct wire_decode_cb *cb, char *err,
			size_t errlen);

/* ---- event payloads (docs/hostsync.md, "Events") -------------------------
 * The type numbers are also the terminal log's (loyalty's LOY_EV_*): never
 * renumber. The payload bytes of each type are written by exactly one
 * encoder below and read by exactly one decoder, at the store (caps replay)
 * and at HQ (ingest). Payload v1 formats, kept byte-compatible with what
 * terminals already in the field send:
 *   consent   "CARD yes|no|unknown"          (text)
 *   erasure   "CARD"                         (text, v1)
 *             "sealed1:BASE64"               (v2: the number sealed to HQ, below)
 *   offer_*   {"v":1,"sale":N,"campaign":..,"rule":..,"card":..,
 *              "kind":..,"gtin":..,"benefit":N,"value":N,
 *              "coupon":..,"discount_cents":N}   (compact JSON; kind, gtin,
 *              benefit, value absent when no offer is attached; coupon
 *              absent when none; discount_cents only on offer_redeemed)
 */
enum wire_event_type {
	WIRE_EV_CONSENT = 1, WIRE_EV_ERASURE = 2, WIRE_EV_OFFER_ISSUED = 3,
	WIRE_EV_OFFER_HELD_BACK = 4, WIRE_EV_OFFER_REDEEMED = 5,
};
#define WIRE_EV_TYPE_MAX 5
/* "consent", "erasure", "offer_issued", "offer_held_back", "offer_redeemed"; NULL if unknown. */
const char *wire_event_type_name(int type);
/* The number for a type name, or PM_EINVAL. */
int wire_event_type_parse(const char *name);

enum wire_consent { WIRE_CONSENT_UNKNOWN = 0, WIRE_CONSENT_YES = 1, WIRE_CONSENT_NO = 2 };
struct wire_consent_event {
	char card[WIRE_CARD_MAX + 1];
	int consent;                  /* enum wire_consent */
};
struct wire_erasure_event {
	char card[WIRE_CARD_MAX + 1]; /* "" when sealed (until wire_erasure_open) */
	bool sealed;                  /* payload v2: the number sealed to HQ */
};
/*
 * Erasure payload v2, sealed (docs/hostsync.md, "Events"; docs/privacy.md):
 * "sealed1:" then URL-safe base64 without padding of libsodium's
 * crypto_box_seal of the number right-padded with spaces to 19 bytes (so
 * every payload has one length), to the X25519 key converted from HQ's
 * rule-signing Ed25519 key (hq.rules_public_key). Only HQ, holding the
 * signing secret key, can open it; the terminal that wrote it cannot.
 */
#define WIRE_ERASURE_SEALED_PREFIX "sealed1:"
/* Seal card to hq_sign_pk (the Ed25519 public key, 32 bytes). PM_OK, PM_EINVAL (a card that is
 * not 1-19 digits, or a key that is not a valid Ed25519 point), PM_ENOMEM. */
int wire_erasure_seal(const char *card, const unsigned char hq_sign_pk[32], struct pm_buf *out);
/* Open a sealed erasure (e from wire_erasure_decode, the payload p, len) with HQ's Ed25519
 * secret key (64 bytes, as `posmark-hq rules keygen` writes it): e->card filled. PM_OK;
 * PM_EINVAL (not sealed to that key, or damaged: err says). */
int wire_erasure_open(const char *p, size_t len, const unsigned char hq_sign_sk[64],
		      struct wire_erasure_event *e, char *err, size_t errlen);
#define WIRE_OFFER_ID_MAX 63
struct wire_offer_event {
	uint64_t sale;                /* the sale it belongs to (seq on its terminal) */
	char campaign[WIRE_OFFER_ID_MAX + 1];
	char rule[WIRE_OFFER_ID_MAX + 1];
	char card[WIRE_CARD_MAX + 1]; /* "" = no card */
	bool has_offer;               /* kind, gtin, benefit, value are set */
	char kind[24];                /* the engine's kind name, e.g. "cross_sell" */
	char gtin[15];                /* GTIN-14 offered, "" = none */
	int benefit;                  /* the engine's enum ofr_benefit */
	int64_t value;
	char coupon[WIRE_COUPON_MAX + 1]; /* "" = none */
	int64_t discount_cents;       /* offer_redeemed only */
};

/*
 * Encoders append the payload (no NUL counted) to out: PM_OK, PM_EINVAL (a
 * field that does not fit the format: a card or GTIN with non-digits, a
 * string that is not UTF-8, a sale seq over INT64_MAX), PM_ENOMEM. type
 * selects the offer variant (WIRE_EV_OFFER_*). The bytes are those the
 * terminal wrote before wire existed (terminal/offers_wiring.c,
 * loyalty/card.c): same keys, same order, compact.
 */
int wire_consent_encode(const struct wire_consent_event *e, struct pm_buf *out);
int wire_erasure_encode(const struct wire_erasure_event *e, struct pm_buf *out);
int wire_offer_encode(int type, const struct wire_offer_event *e, struct pm_buf *out);
/*
 * Decoders check every field (presence, type, range, length) and fill *out
 * completely: PM_OK, PM_EINVAL (err names the field), PM_EVERSION (an offer
 * payload of a newer "v"). The input need not be NUL-terminated. Offer
 * payloads: members this build does not know are ignored (a v1 producer
 * may add one); duplicate members, a gtin with non-digits, a card with
 * non-digits are refused. "coupon":"" reads as no coupon.
 */
int wire_consent_decode(const char *p, size_t len, struct wire_consent_event *out, char *err,
			size_t errlen);
int wire_erasure_decode(const char *p, size_t len, struct wire_erasure_event *out, char *err,
			size_t errlen);
int wire_offer_decode(const char *p, size_t len, struct wire_offer_event *out, char *err,
		      size_t errlen);

/* "unknown", "yes", "no" for enum wire_consent; NULL for another value. */
const char *wire_consent_name(int consent);

/* Any event's payload decoded by its type: what HQ stores in columns. */
struct wire_event_payload {
	int type;                     /* enum wire_event_type */
	char card[WIRE_CARD_MAX + 1]; /* the card it is about, "" = none (or sealed) */
	bool sealed;                  /* an erasure v2: card is "" until wire_erasure_open */
	int consent;                  /* consent events: enum wire_consent; -1 otherwise */
	struct wire_offer_event offer; /* offer_* events; zeroed otherwise */
};
/*
 * Decode the payload (p, len) of an event of type (WIRE_EV_*) with the one
 * decoder of that type. PM_OK; PM_EINVAL (unknown type, or a payload its
 * decoder refuses: err says which field); PM_EVERSION (offer payload newer
 * than v1). *out is zeroed first.
 */
int wire_event_payload_decode(int type, const char *p, size_t len, struct wire_event_payload *out,
			      char *err, size_t errlen);

/* ---- down to the store: account states (docs/accounts.md) ---------------
 * GET /v1/accounts and GET /v1/accounts/CARD answer a gzip NDJSON body,
 * format "posmark-accounts" v1: a header line, then one account per line.
 */
#define WIRE_ACCOUNTS_FORMAT "posmark-accounts"
#define WIRE_ACCOUNTS_VERSION 1
#define WIRE_ACCOUNTS_PAGE_MAX 5000
#define WIRE_BOUGHT_MAX 32
struct wire_accounts_header {
	int version;
	int64_t as_of_us;             /* HQ's time of the state (chain_as_of) */
	char terminal[WIRE_ID_MAX + 1]; /* the terminal the state was computed for */
	uint64_t included_sale_seq;   /* that terminal's highest seq HQ had ingested */
	uint64_t next_cursor;         /* ask again with after=next_cursor */
	bool more;                    /* another page is waiting */
	uint64_t count;               /* account lines that follow */
};
struct wire_account {
	char card[WIRE_CARD_MAX + 1];
	bool erased;                  /* only card is set: the card was erased at HQ */
	int64_t points;               /* HQ's balance: the sum of the card's ledger */
	int tier;
	int consent;                  /* enum wire_consent */
	int64_t consent_changed_us;
	int64_t last_visit_us;        /* chain-wide, 0 = never */
	int64_t window_spend_cents;   /* chain spend in the tier window, net of returns */
	uint32_t n_bought;
	char bought[WIRE_BOUGHT_MAX][15]; /* GTIN-14s the card buys most, most first */
};
/* Encode a header and n accounts, gzip-compressed, into out. PM_OK, PM_EINVAL, PM_ENOMEM. */
int wire_accounts_encode(const struct wire_accounts_header *h, const struct wire_account *a, size_t n,
			 struct pm_buf *out);
struct wire_accounts_cb {
	void *ctx;
	int (*header)(void *ctx, const struct wire_accounts_header *h);
	int (*account)(void *ctx, const struct wire_account *a);
};
/* Strict decoder (gzip, header, each line, count matches). Same return codes
 * as wire_batch_decode; a callback's non-zero return stops and is returned. */
int wire_accounts_decode(const void *body, size_t len, const struct wire_accounts_cb *cb, char *err,
			 size_t errlen);

/* GET /v1/sales/TERMINAL/SEQ: a sale HQ knows and what was returned of it
 * (plain JSON, format "posmark-sale" v1). */
#define WIRE_SALE_LOOKUP_FORMAT "posmark-sale"
struct wire_sale_lookup {
	struct wire_sale sale;        /* items/redeemed owned by this struct */
	uint32_t n_returned;
	struct wire_item *returned;   /* gtin and qty: units already returned */
	int64_t refund_cents;         /* refunded so far */
	int64_t points_clawed_back;   /* clawed back so far (positive) */
};
int wire_sale_lookup_encode(const struct wire_sale_lookup *l, struct pm_buf *out);
/* PM_OK (free with wire_sale_lookup_free), PM_EINVAL, PM_EVERSION, PM_ENOMEM. */
int wire_sale_lookup_decode(const void *body, size_t len, struct wire_sale_lookup *out, char *err,
			    size_t errlen);
void wire_sale_lookup_free(struct wire_sale_lookup *l);   /* NULL-safe; zeroes */

/* GET /v1/coupons/CODE: whether HQ saw the coupon redeemed (format "posmark-coupon" v1). */
struct wire_coupon_status {
	char coupon[WIRE_COUPON_MAX + 1];
	bool redeemed;
	char terminal[WIRE_ID_MAX + 1]; /* where it was first redeemed, "" = not */
	uint64_t seq;
};
int wire_coupon_status_encode(const struct wire_coupon_status *c, struct pm_buf *out);
int wire_coupon_status_decode(const void *body, size_t len, struct wire_coupon_status *out, char *err,
			      size_t errlen);

/* ---- posmark-hq baskets: HQ's sales for the miner at the store's CLI ------
 * `posmark mine --hq-db CONNINFO` runs `posmark-hq baskets --db CONNINFO
 * [--store S] [--terminal T] [--since-us US] [--until-us US] [--quiet]`
 * (bin/posmark does not link libpq) and reads, format version 1:
 *   stdout  the miner's basket format (docs/mining.md): one line per
 *           selected sale that has items, its GTINs (digits only, so never
 *           quoted) separated by commas, in storage order; nothing else.
 *           With --with-cards each line starts "TIME_US<tab>CARD<tab>"
 *           (decimal UTC us; the stored card, an opaque id, "" when
 *           anonymous): the explore rules' visit-to-visit steps.
 *   stderr  lines for people: on failure first "posmark-hq: REASON", then
 *           "hint: ..."; on success (unless --quiet) at most a note that
 *           sales without items were left out.
 *   status  one of enum wire_baskets_exit; stdout is complete only on 0.
 * since/until: UTC microseconds, since included, until excluded.
 */
#define WIRE_BASKETS_VERSION 1
enum wire_baskets_exit {
	WIRE_BASKETS_OK = 0,
	WIRE_BASKETS_FAILED = 1,      /* the query or the output failed (REASON says) */
	WIRE_BASKETS_USAGE = 2,       /* bad options */
	WIRE_BASKETS_OFFLINE = 3,     /* cannot connect to PostgreSQL */
	WIRE_BASKETS_NOT_HQ = 4,      /* not a posmark-hq database, or a newer schema */
	WIRE_BASKETS_NONE = 5,        /* the selection has no sales */
	WIRE_BASKETS_CORRUPT = 6,     /* a stored item is not a GTIN */
};

/* ---- signed rule sets: the publication serial (wire_rules.c) ----------
 * HQ answers GET /v1/rules with the set's bytes, X-Posmark-Signature (hex
 * Ed25519) and, for a set published with a serial, X-Posmark-Rules-Serial:
 * N (decimal, > 0). The signature is over wire_rules_signed_message(N,
 * body) = "posmark-rules serial N\n" followed by the body, so the serial
 * cannot be changed without the key; a set published before serials has
 * no header and a signature over the body alone (serial 0). Terminals
 * install only a serial above the one they have (docs/hostsync.md).
 * WIRE_RULES_MAX: the largest body a terminal downloads (posmark-hq rules
 * publish refuses a larger set). */
#define WIRE_RULES_SERIAL_HEADER "X-Posmark-Rules-Serial"
#define WIRE_RULES_MAX (8u << 20)
/* The bytes the signature covers: for serial 0, body itself (*msg = body,
 * nothing allocated); else the prefix and body in out (appended; caller
 * frees out). PM_OK or PM_ENOMEM. */
int wire_rules_signed_message(uint64_t serial, const void *body, size_t len, struct pm_buf *out,
			      const void **msg, size_t *msg_len);

/*
 * Store status, version 1 (docs/hostsync.md, "Store status"): what a
 * terminal reports to HQ on every request of a sync, as one HTTP header
 *   Posmark-Status: v=1; unsent_sales=12; unsent_events=3; unsent_ledger=20;
 *     rules_id=<32 hex>; rules_serial=4; time_us=1764547200000000; version=0.12.0
 * Items are KEY=VALUE separated by ';' (spaces around them allowed). HQ
 * decodes it strictly: the whole value at most WIRE_STATUS_MAX bytes, at
 * most WIRE_STATUS_ITEMS_MAX items, keys [a-z0-9_]{1,32}, values 1..64
 * visible bytes; a known key twice, a number with a sign, leading zero or
 * out of range, a bad rules_id or version is refused (the whole header);
 * unknown keys are skipped (a newer terminal may add keys to v=1; only an
 * incompatible change raises v, refused with PM_EVERSION). v, time_us,
 * unsent_sales, unsent_events and version are required; unsent_ledger and
 * the rules pair are optional (has_* say; rules_id and rules_serial come
 * together: no rule set installed = neither).
 */
#define WIRE_STATUS_HEADER "Posmark-Status"
#define WIRE_STATUS_VERSION 1
#define WIRE_STATUS_MAX 512
#define WIRE_STATUS_ITEMS_MAX 32
#define WIRE_STATUS_COUNT_MAX 1000000000000ULL   /* unsent counts: at most 10^12 */
#define WIRE_STATUS_TIME_MIN 946684800000000LL   /* time_us: 2000-01-01 .. */
#define WIRE_STATUS_TIME_MAX 7258118400000000LL  /* .. 2200-01-01 */
#define WIRE_STATUS_RULES_ID_LEN 32              /* hex of SHA-256(rules.json)'s first 16 bytes */
#define WIRE_STATUS_VERSION_MAX 32
struct wire_status {
	uint64_t unsent_sales, unsent_events, unsent_ledger;
	bool has_ledger;
	bool has_rules;
	char rules_id[WIRE_STATUS_RULES_ID_LEN + 1]; /* lowercase hex: HQ's rule_sets.etag without quotes */
	uint64_t rules_serial;                       /* 0 = a set without serial (loaded by hand) */
	int64_t time_us;                             /* the terminal's clock when it sent the request */
	char version[WIRE_STATUS_VERSION_MAX + 1];   /* [0-9A-Za-z.+~_-] */
};
/* The header's value (no name, no CRLF) into out (cap >= WIRE_STATUS_MAX + 1).
 * PM_OK, or PM_EINVAL when a field is out of the decoder's ranges. */
int wire_status_encode(const struct wire_status *s, char *out, size_t cap);
/* Decode len bytes (need not be NUL-terminated). PM_OK, PM_EINVAL (err
 * names the item), PM_EVERSION (v is not 1). *s is zeroed first. */
int wire_status_decode(const char *in, size_t len, struct wire_status *s, char *err, size_t errlen);

#endif
