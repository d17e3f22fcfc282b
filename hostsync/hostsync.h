/*
 * hostsync.h - the terminal's side of the link to HQ: upload of the
 * purchase log (store-and-forward) and the pull of what HQ sends down
 * (rule sets, erasure and consent requests). Reads sales through an
 * interface the terminal fills in (struct hs_source); never includes
 * loyalty's header. The formats on the wire are wire/'s (wire/wire.h);
 * HQ's receiver is hq/.
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

#include "wire/wire.h"

typedef int (*hs_sale_cb)(void *ctx, const struct wire_sale *s);
typedef int (*hs_event_cb)(void *ctx, const struct wire_event *e);

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
	/* accounts pull (docs/accounts.md); both NULL = no pull. accounts_cursor:
	 * the cursor stored with the last applied page (0 = none). apply_accounts:
	 * one page and h->next_cursor in ONE transaction (lookup: cursor untouched
	 * when called from hs_account_lookup, which passes next_cursor 0). */
	int (*accounts_cursor)(void *ctx, uint64_t *cursor);
	int (*apply_accounts)(void *ctx, const struct wire_accounts_header *h, const struct wire_account *a,
			      size_t n);
};

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
	int lookup_budget_ms;         /* hs_*_lookup: whole answer within this (default 300) */
};
void hs_client_config_default(struct hs_client_config *c);

struct hs_sync_stats {
	uint64_t sales_sent, events_sent, batches, retries;
	uint64_t bytes_raw, bytes_sent;
	uint64_t requests_applied;
	int rules;                    /* 0 unchanged, 1 installed, <0 refused (pm_err) */
	uint64_t accounts_applied;    /* account states pulled and applied */
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
 * Lookups the till makes while a customer waits, each answered within
 * cfg->lookup_budget_ms or given up (one attempt, no retry): PM_OK,
 * PM_ENOENT (HQ does not know it), PM_EOFFLINE (no answer in time, HQ
 * down), PM_EREFUSED (credential), PM_EPROTO (not a posmark answer).
 * hs_account_lookup applies what it got through src->apply_accounts.
 */
int hs_account_lookup(const struct hs_client_config *cfg, const struct hs_source *src,
		      const char *terminal, const char *card, char *err, size_t errlen);
/* out is filled on PM_OK: free with wire_sale_lookup_free. */
int hs_sale_lookup(const struct hs_client_config *cfg, const char *terminal, const char *sale_terminal,
		   uint64_t sale_seq, struct wire_sale_lookup *out, char *err, size_t errlen);
int hs_coupon_lookup(const struct hs_client_config *cfg, const char *terminal, const char *coupon,
		     struct wire_coupon_status *out, char *err, size_t errlen);

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
/* The same over wire_rules_signed_message(serial, body) (serial 0: body alone). */
int hs_rules_verify_serial(const char *pubkey_hex, uint64_t serial, const void *body, size_t len,
			   const unsigned char *sig, size_t sig_len);
/* The serial of the installed set (DIR/rules.serial; 0 when there is none).
 * PM_OK, PM_EIO, PM_ECORRUPT (the file is not a number). */
int hs_rules_serial_read(const char *data_dir, uint64_t *serial);
/*
 * Verify (signature over serial and body), then install only a set newer
 * than the installed one: returns 1 installed (DIR/rules.json.sig,
 * rules.json, rules.serial, rules.etag), 0 the same serial is installed
 * (only the etag is recorded), PM_EREFUSED older than the installed
 * (*installed says which), PM_ECHECK bad signature, PM_EINVAL bad key,
 * or the file error. Nothing is written before the checks pass.
 */
int hs_rules_install_serial(const char *data_dir, const char *pubkey_hex, uint64_t serial, const void *body,
			    size_t len, const unsigned char *sig, size_t sig_len, const char *etag,
			    uint64_t *installed);

#endif
