/*
 * term.h - terminal/ internals: config, commands, the till, receipts.
 * config.c: the config file; cli.c: shared option parsing and messages;
 * till.c: the sale state machine; receipt.c: receipt layout;
 * cmd_*.c: one file per command.
 */
#ifndef TERM_H
#define TERM_H

#include "drivers/drivers.h"
#include "loyalty/loyalty.h"
#include "offers/offers.h"
#include "common/pm_buf.h"

#include <stdbool.h>
#include <stdio.h>

struct term_config {
	char path[1024];           /* config file read, "" = built-in defaults */
	char data_dir[1024];       /* [store] data */
	char store_id[32];         /* [store] id */
	char store_name[64];       /* [store] name */
	char store_address[128];   /* [store] address */
	char footer[128];          /* [store] receipt_footer */
	char scanner[256];         /* [devices] scanner */
	char printer[256];         /* [devices] printer; "" = text:<data>/receipts.txt */
	int receipt_columns;       /* [devices] receipt_columns: 42 or 48 */
	char printer_profile[48];  /* [devices] printer_profile: docs/printers.md; "" = generic */
	char socket_path[108];     /* [daemon] socket */
	char socket_group[32];     /* [daemon] socket_group: the POS user's group ("" = leave) */
	struct loy_config loy;     /* [store] terminal/currency, [loyalty] ... */
	struct scan_config scan;   /* [cards] ... */
	struct {                   /* [hq]: upload to HQ (docs/config.md, docs/hostsync.md) */
		char url[512];             /* hq.url; "" = no sync */
		char store_credential[160];/* hq.store_credential; never logged */
		char rules_public_key[80]; /* hq.rules_public_key (hex Ed25519) */
		char ca_file[512];         /* hq.ca_file; "" = system CAs */
		bool tls_verify;           /* hq.tls_verify (default yes) */
		int batch_max_sales;       /* hq.batch_max_sales (default 20000) */
		int max_attempts;          /* hq.max_attempts (default 8) */
		int backoff_initial_ms;    /* hq.backoff_initial_ms (default 200) */
		int backoff_max_ms;        /* hq.backoff_max_ms (default 30000) */
		int interval_s;            /* hq.interval_s (default 60) */
		int timeout_s;             /* hq.timeout_s (default 60) */
	} hq;
	bool offers_enabled;       /* [offers] enabled (default yes) */
	int offers_max;            /* [offers] max_per_receipt, 0 = the rule set's limit */
	char offers_coupon_key[160]; /* [offers] coupon_key; "" = DATA/coupon.key (created) */
};

void term_config_default(struct term_config *cfg);
/* Read an INI file over the defaults; one-line error in err on failure. */
int term_config_load(const char *path, struct term_config *cfg, char *err, size_t errlen);
/* Apply one "section.key=value" setting (also used by tests). */
int term_config_set(struct term_config *cfg, const char *section, const char *key,
		    const char *value, char *err, size_t errlen);

/* Common CLI options: --config, --data, --json, --help. */
struct cli_common {
	const char *config;
	const char *data;
	bool json;
	bool help;
};
/*
 * Parse argv: common options are consumed, others are left for the command
 * (compacted into argv, *argc updated). Loads the config. Returns 0, or 2
 * after printing an error (the exit status to use).
 */
int cli_setup(int *argc, char **argv, struct cli_common *co, struct term_config *cfg);
/* Print "posmark CMD: WHAT" and an optional hint line; returns exit status 1. */
int cli_fail(const char *cmd, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Open the purchase log named by cfg->data_dir with a person-readable error. */
int cli_open_log(const char *cmd, const struct term_config *cfg, struct loy_db **db);
/* Value of an option "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name);
/* "12.34" (negative "-12.34") into buf. */
const char *term_money(int64_t cents, char *buf, size_t len);

/* ---- offers wiring (offers_wiring.c) ---------------------------------- */
struct term_offers {
	struct ofr_rules *rules;      /* NULL = no rule set installed (or invalid): no offers */
	struct ofr_ledger *ledger;    /* issued coupons: the log's caps state + later events */
	struct ofr_coupon_key key;
	char prefix[8];               /* coupon prefix (cards.coupon_prefix) */
	/* Guards rules and ledger, which the daemon's lanes share between its
	 * event loop and its commit thread (decisions run inside the commit).
	 * Copies of this struct share it; NULL before term_offers_open. */
	void *lock;
	uint64_t replayed;            /* events read at open to catch the caps up (0 normally) */
};
/*
 * Key, caps ledger and DATA/rules.json. PM_OK with rules NULL when none is
 * installed. The ledger starts from the log's caps state (loy_caps_load) and
 * replays only the events after it, then stores the caught-up state.
 */
int term_offers_open(const struct term_config *cfg, struct loy_db *db, struct term_offers *to,
		     char *err, size_t errlen);
void term_offers_close(struct term_offers *to);
/* Read and compile a rule file against db's catalog (db may be NULL). Absent file: PM_OK, *out NULL. */
int term_rules_read(const char *path, struct loy_db *db, const char *store_id, struct ofr_rules **out,
		    char *err, size_t errlen);
int term_rules_install(const char *data_dir, const char *text, size_t len, char *err, size_t errlen);
void term_offers_catalog(struct loy_db *db, struct ofr_catalog_source *out);
void term_offers_history(struct loy_db *db, struct ofr_history_source *out);
/* Snapshot of a card for a decision (before this sale is committed). */
void term_offers_card(struct loy_db *db, const char *number, struct ofr_card *out);
/* Take and drop the engine lock (NULL-safe, not recursive). */
void term_offers_lock(struct term_offers *to);
void term_offers_unlock(struct term_offers *to);

/* ---- the till --------------------------------------------------------- */

#define TILL_MAX_LINES 500
struct till_line {
	struct loy_item item;
	char name[64];
};

#define TILL_MAX_COUPONS 8
struct till_coupon {
	char code[OFR_CODE_MAX + 1];
	struct ofr_coupon c;          /* verified layout, MAC and expiry at scan */
};

struct till {
	struct loy_db *db;
	const struct term_config *cfg;
	struct prn_dev *printer;   /* may be NULL: no receipt */
	FILE *events;              /* JSON event lines, or NULL */
	/* Instead of events: each event (a json_t *, ownership passed) goes here. */
	void (*sink)(void *ctx, void *event);
	void *sink_ctx;
	char ext_base[40];         /* idempotency key prefix of this run's sales */
	unsigned long sale_ordinal;/* sales closed so far (committed, skipped) */
	/* the open sale */
	char pos_sale_id[64];      /* the POS app's sale id (daemon lanes): the idempotency key */
	int64_t clock_us;          /* #clock (simulation): the sale time to stamp; 0 = real time */
	bool open;
	int pending_qty;
	char card[LOY_CARD_MAX + 1];
	size_t n_lines;
	struct till_line lines[TILL_MAX_LINES];
	/* offers: the engine, the card as it was before this sale, coupons scanned */
	struct term_offers offers;
	bool offers_ready;         /* key and ledger loaded (rules may still be NULL) */
	bool offers_shared;        /* offers belong to the daemon, shared by its lanes */
	struct ofr_card card_snap;
	struct ofr_profile *profile;
	size_t n_coupons;
	struct till_coupon coupons[TILL_MAX_COUPONS];
	struct ofr_decision decision; /* offers of the last committed sale */
	uint64_t decision_sale;
	bool decision_issued;      /* its coupons are recorded as issued (with the sale, or printed) */
	char decision_card[LOY_CARD_MAX + 1]; /* its card, for recording the coupons once printed */
	/* counters for the summary */
	unsigned long committed, skipped, refused_scans, cancelled;
	/* the last receipt, kept for reprint and for a printer that was not ready */
	struct prn_doc last_receipt;
	bool receipt_pending;      /* receipts wait in the queue below */
	/* receipts not printed yet (printer not ready), oldest first (docs/till.md) */
	struct prn_doc *queue;
	uint64_t *queue_seq;       /* the sale of each queued receipt (0 = a reprint) */
	struct till_issue *queue_issue; /* its coupons, recorded as issued once it prints */
	size_t queue_n;
	int64_t queue_next_try_us; /* no retry before this (a dead printer must not slow the lane) */
	int queue_told;            /* printer state last told to the cashier, -1 = none */
};

int till_init(struct till *t, struct loy_db *db, const struct term_config *cfg,
	      struct prn_dev *printer, FILE *events, const char *ext_base);
void till_release(struct till *t);
/*
 * Print the queued receipts, oldest first, if the printer is ready now
 * (force) or the retry interval has passed. A receipt leaves the queue only
 * once printed; the cashier is told in words why they wait. Returns how many
 * remain queued.
 */
size_t till_retry_receipt(struct till *t, bool force);
/* Queue a copy of the last receipt marked COPY and print it (cashier key #reprint). */
int till_reprint_receipt(struct till *t);
/*
 * Feed one raw scan or cashier key. Returns PM_OK when handled (a refused scan
 * is handled: it is reported), or a negative code when the till cannot go on
 * (log unusable, disk full): the open sale is kept in *t.
 */
int till_feed(struct till *t, const struct scan_raw *raw);
/*
 * Closing a sale is three steps so the daemon can group-commit several
 * lanes' sales in one transaction: prepare (validate, build the record;
 * a refusal is reported and the sale stays open), commit (loy_sale_commit
 * or a group), finish (events, offers, receipt; or keep the sale open when
 * the commit failed).
 */
#define TILL_MAX_EVENTS (TILL_MAX_COUPONS + OFR_MAX_OFFERS)
struct till_pending {
	struct loy_sale sale;
	struct loy_item items[TILL_MAX_LINES];
	struct loy_redemption redeemed[TILL_MAX_COUPONS];
	bool amount_given;         /* the cashier named the tendered amount */
	/* The offer step inside the commit (till_offers_bind): */
	struct till *till;
	bool issue_at_commit;      /* the receipt prints now: coupons issued with the sale */
	int max_offers;
	struct ofr_decision decision;  /* chosen for the assigned seq */
	struct pm_buf payloads;    /* the events' payload bytes */
	struct loy_event_new events[TILL_MAX_EVENTS];
};
/* Free what a pending sale holds (its payload buffer); it may be prepared again. */
void till_pending_release(struct till_pending *p);
/* till_sale_finish: a used coupon was dropped from the sale; commit it again. */
#define TILL_COMMIT_AGAIN 1
int till_sale_prepare(struct till *t, int tender_kind, int64_t amount, struct till_pending *p);
int till_sale_finish(struct till *t, struct till_pending *p, int rc, const struct loy_commit_result *res);
/* The POS API's way in (daemon lanes): a priced line, a void, a card, a cancel. */
int till_add_priced(struct till *t, const char *gtin14, int32_t qty, int64_t unit_price_cents,
		    const char *name);
int till_void_line(struct till *t, size_t index);
int till_set_card(struct till *t, const struct scan_result *r);
void till_cancel(struct till *t);
/* Record the attached card's answer to targeted offers (set at the till). */
int till_set_consent(struct till *t, bool yes);
int64_t till_subtotal(const struct till *t);
/* Emit a JSON event line (takes ownership of obj, a json_t *). */
void till_emit(struct till *t, void *obj);

/*
 * When coupons count as issued (OFFER_ISSUED events and the caps ledger):
 *  - the till's printer is ready when the sale is tendered (its queue is
 *    empty and prn_status says ready): with the sale, in its transaction;
 *  - otherwise (paper out, printer off; a lane without a printer, whose POS
 *    app prints the receipt): when the receipt prints, all its coupons in
 *    one transaction. A paper-out must not spend a budget or a frequency cap.
 * till_offers_printed records the last sale's coupons (the POS app said it
 * printed them); idempotent per sale, nothing when they were issued already.
 */
void till_offers_printed(struct till *t);
/* The coupons of one printed receipt (kept with a receipt that had to wait). */
struct till_issue {
	struct ofr_decision decision;
	char card[LOY_CARD_MAX + 1];
	uint64_t sale;             /* 0 = nothing to record */
};
void till_offers_issue(struct till *t, struct till_issue *issue);
/* till_offers.c: the offer and coupon steps of the sale (called by till.c). */
void till_offers_init(struct till *t);
/*
 * The daemon's lanes share one engine (rules, ledger, key) so that budgets and
 * frequency caps count across lanes: after this call, till_init gives every
 * new till a view of *shared instead of opening its own. NULL stops sharing.
 */
void till_offers_share(const struct term_offers *shared);
void till_offers_release(struct till *t);
void till_offers_reset(struct till *t);
void till_offers_card(struct till *t);
void till_coupon_scan(struct till *t, const char *input, const struct scan_result *r);
/* Apply the scanned coupons to the open sale; refused ones are reported and dropped. */
uint32_t till_coupons_apply(struct till *t, struct loy_redemption *red, int64_t *discount);
/* The commit said coupon `index` of s was used before: refuse it and drop it from s. */
void till_coupon_used(struct till *t, struct loy_sale *s, int index);
/*
 * Hook the offer step into p's commit: loyalty calls it inside the write
 * transaction with the assigned seq; it decides the offers and gives the
 * redeemed, held-back and (printer ready) issued events (docs/till.md).
 */
void till_offers_bind(struct till *t, struct till_pending *p);
/* After p committed as s: keep its decision for the receipt; fill ev's "offers", "held_back", "redeemed". */
void till_offers_after_commit(struct till *t, const struct till_pending *p, const struct loy_sale *s,
			      void *json_ev);

/* The coupon blocks of a receipt (what a POS app prints in its own receipt). */
void receipt_coupons(struct prn_doc *d, const struct ofr_decision *offers, const char *currency);
/* Lay out a committed sale's receipt; offers (may be NULL) adds its coupons. */
int receipt_build(struct prn_doc *doc, const struct term_config *cfg, struct loy_db *db,
		  const struct loy_sale *sale, const struct loy_commit_result *res,
		  const struct till_line *lines, size_t n_lines, const struct ofr_decision *offers);

/* Commands: argv[0] is the command name. Return the exit status. */
int cmd_catalog(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_card(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);
struct daemon;
int daemon_run(struct daemon *d, const char *socket_path, const char *scanner_spec,
	       const char *printer_spec);
int cmd_mine(int argc, char **argv);
int cmd_sync(int argc, char **argv);

/* sync_wiring.c: hostsync's view of the purchase log (struct hs_source). */
struct hs_source;
struct term_sync_ctx {
	struct loy_db *db;
	const char *store_id;
	const char *data_dir;
};
void term_sync_source(struct hs_source *src, struct term_sync_ctx *sc);
/* sync_wiring.c: [hq] options as hostsync's client config (strings point into cfg). */
struct hs_client_config;
void term_sync_client_config(const struct term_config *cfg, struct hs_client_config *hc);
int cmd_rules(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
