/*
 * till.h - the till: the sale state machine of one lane (till.c), its offer
 * and coupon steps (till_offers.c), receipts (receipt.c, laid out; their
 * queue in the log until printed, receipt_queue.c) and the JSON its
 * events render to (till_json.c). Readers: `posmark checkout` (a scanner
 * and a printer), the daemon's lanes (the POS app's API), tests.
 *
 * Guarantees: a sale is told committed (TILL_EV_SALE_COMMITTED, a result
 * with committed set) only once it is durable, and its offer events
 * (redeemed, held back, issued when the printer is ready) are durable with
 * it (docs/till.md, "One transaction per sale"). A refused scan never ends
 * the sale; an error in offers never stops it.
 * Errors: functions return PM_OK or a negative pm_err; refusals are events.
 * Threads: one till, one thread, except that loyalty runs the offer step
 * of a commit on the committing thread (the daemon's commit thread) while
 * the lane waits; it touches the lane's state only for reading.
 * Lifetimes: the till borrows db, cfg and printer; they outlive it.
 */
#ifndef TERM_TILL_H
#define TERM_TILL_H

#include "terminal/wiring.h"
#include "common/pm_buf.h"

struct till_issue;

#include <jansson.h>

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

/* ---- what the till tells its caller: events and the sale's result ------- */

enum till_event_kind {
	TILL_EV_ITEM_ADDED,            /* line */
	TILL_EV_LINE_VOIDED,           /* line; line_no (1-based; 0 = the cashier's #void of the last) */
	TILL_EV_CARD_ATTACHED,         /* card (the record before this sale), tier */
	TILL_EV_CONSENT_RECORDED,      /* yes */
	TILL_EV_SCAN_REFUSED,          /* input, reason */
	TILL_EV_COUPON_ACCEPTED,       /* coupon, campaign ("" = unknown), needs_card */
	TILL_EV_COUPON_REFUSED,        /* coupon, reason */
	TILL_EV_OFFERS_DISABLED,       /* reason */
	TILL_EV_SALE_CANCELLED,        /* count (lines) */
	TILL_EV_SALE_COMMITTED,        /* sale (durable when this is told) */
	TILL_EV_SALE_ALREADY_COMMITTED,/* sale_id */
	TILL_EV_COMMIT_FAILED,         /* reason (the sale stays open) */
	TILL_EV_RECEIPT_PENDING,       /* sale_id (first waiting), reason, count (waiting) */
	TILL_EV_RECEIPT_PRINTED,       /* sale_id (0 = a reprint), reprint */
	TILL_EV_SALE_LEFT_OPEN,        /* count (lines): the scan script ended mid-sale */
	TILL_EV_CHECKOUT_DONE,         /* counts */
	TILL_EV_POINTS_APPLIED,        /* points, amount_cents (their value), balance (what is left) */
	TILL_EV_RETURN_OPENED,         /* ref ("TERMINAL:SEQ"), basis (the sale and what was returned) */
	TILL_EV_RETURN_COMMITTED,      /* sale (a result with is_return; durable when told) */
};

struct till_redeemed {
	char coupon[LOY_COUPON_MAX + 1];
	int64_t discount_cents;
	char campaign[OFR_ID_MAX + 1];    /* "" = not in the installed rule set */
};

struct till_refusal {
	char coupon[OFR_CODE_MAX + 1];    /* the coupon refused */
	char reason[200];                 /* in words for the cashier */
};

/* "TERMINAL:SEQ", the reference of a sale (the receipt's sale barcode, #return). */
#define TILL_REF_MAX (LOY_TERMINAL_MAX + 22)
/*
 * What finishing a sale did. committed: the sale is durable (seq); with
 * already_committed it was committed before (a rerun script, a POS app's
 * retry) and only seq is set. Points fields are set when the sale has a card.
 * is_return: a return was committed (return_of, refund, clawback).
 */
struct till_sale_result {
	bool committed;
	bool already_committed;
	uint64_t seq;
	char terminal[LOY_TERMINAL_MAX + 1];
	char card[LOY_CARD_MAX + 1];      /* "" = no card */
	char currency[4];
	int64_t total_cents, discount_cents, change_cents, time_us;
	uint32_t items;
	int tender;                       /* enum loy_tender */
	int64_t points_earned, points_balance;
	int64_t points_spent, point_value_cents, points_bonus, points_expired;
	int tier;
	char tier_name[16];
	char ref[TILL_REF_MAX];           /* this record's TERMINAL:SEQ */
	bool is_return;
	char return_of[TILL_REF_MAX];     /* returns: the sale returned */
	int64_t refund_cents, points_clawed_back;
	struct ofr_decision offers;       /* printed (coupon set) and held back (held_back) */
	uint32_t n_redeemed;
	struct till_redeemed redeemed[TILL_MAX_COUPONS];
	uint32_t n_refused;               /* coupons refused on this sale, with why */
	struct till_refusal refused[TILL_MAX_COUPONS];
};

struct till_counts {
	unsigned long committed, skipped, refused_scans, cancelled;
};

/*
 * One event. Only the fields named for its kind are set; pointers borrow the
 * till's memory and are valid only during the sink call: copy what you keep.
 */
struct till_event {
	int kind;                         /* enum till_event_kind */
	const char *input;
	const char *reason;
	const char *coupon;
	const char *campaign;
	bool needs_card;
	const struct till_line *line;
	int line_no;
	const struct ofr_card *card;
	const char *tier;
	bool yes;
	uint64_t sale_id;
	size_t count;
	bool reprint;
	const struct till_sale_result *sale;
	const struct till_counts *counts;
	int64_t points, amount_cents, balance;
	const char *ref;
	const struct loy_return_basis *basis;
};

/* Where the till's events go (the daemon's lanes, checkout --json). Called
 * on the till's thread, in order, before the call that caused them returns. */
typedef void (*till_sink_fn)(void *ctx, const struct till_event *ev);

/* till_json.c: the JSON of an event (docs/till.md, PRODUCT.md); a new object. */
json_t *till_event_json(const struct till_event *ev);
/* The "sale_committed" (or "sale_already_committed") object of a result. */
json_t *till_sale_result_json(const struct till_sale_result *r);
/* A sink writing one JSON line per event to ctx, a FILE * (flushed each line). */
void till_json_sink(void *ctx, const struct till_event *ev);

/*
 * The till's questions to HQ while a customer waits (docs/accounts.md), each
 * answered within hq.lookup_budget_ms or given up: PM_OK, PM_ENOENT (HQ does
 * not know it), PM_EOFFLINE (no answer in time; go on offline). Filled by
 * sync_wiring.c (term_till_hq); all NULL = no HQ configured.
 */
struct wire_sale_lookup;
struct wire_coupon_status;
struct till_hq {
	void *ctx;
	/* fetch a card's account and apply it to the log (loy_accounts_apply) */
	int (*account_lookup)(void *ctx, const char *card);
	/* another terminal's sale and what was returned of it (free with wire_sale_lookup_free) */
	int (*sale_lookup)(void *ctx, const char *terminal, uint64_t seq, struct wire_sale_lookup *out);
	/* whether HQ saw a coupon redeemed */
	int (*coupon_lookup)(void *ctx, const char *coupon, struct wire_coupon_status *out);
};

struct till {
	struct loy_db *db;
	struct till_hq hq;         /* zero = no HQ: offline rules only (set after till_init) */
	const struct term_config *cfg;
	struct prn_dev *printer;   /* may be NULL: no receipt */
	/* Events go to sink (NULL: none; refusals are then told on stderr). */
	till_sink_fn sink;
	void *sink_ctx;
	char ext_base[40];         /* idempotency key prefix of this run's sales */
	unsigned long sale_ordinal;/* sales closed so far (committed, skipped) */
	/* the open sale */
	char pos_sale_id[64];      /* the POS app's sale id (daemon lanes): the idempotency key */
	int64_t clock_us;          /* #clock (simulation): the sale time to stamp; 0 = real time */
	bool open;
	int pending_qty;
	char card[LOY_CARD_MAX + 1];
	int64_t points_spend;      /* #points N on the open sale (0 = none) */
	/* a return instead of a sale (#return): the sale returned and what was returned of it */
	bool returning;
	bool return_replay;        /* committed before (a rerun): its scans are not checked again */
	char return_of[TILL_REF_MAX];
	struct loy_return_basis ret;
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
	/* coupons refused on the open sale, for its result */
	uint32_t n_refused;
	struct till_refusal refused[TILL_MAX_COUPONS];
	/* counters for the summary */
	struct till_counts counts;
	/* the last receipt laid out, kept for #reprint */
	struct prn_doc last_receipt;
	/*
	 * Receipts not printed yet (printer not ready), oldest first (docs/till.md,
	 * "Receipt queue and reprint"): a sale's receipt waits in the log's print
	 * queue (durable, committed with the sale); a #reprint copy in memory.
	 */
	bool receipt_pending;      /* receipts wait */
	size_t queue_n;            /* how many: the log's print queue, then the copies */
	uint64_t queue_first;      /* the sale of the oldest (0 = a copy) */
	struct prn_doc *copies;    /* #reprint copies waiting, printed after the log's queue */
	size_t copies_n;
	uint64_t fresh_seq;        /* the sale committed last: its receipt printing at once is no news */
	int64_t queue_next_try_us; /* no retry before this (a dead printer must not slow the lane) */
	int queue_told;            /* printer state last told to the cashier, -1 = none */
};

/*
 * Set up a till on an open log. events (may be NULL): JSON event lines go
 * there (till_json_sink); set t->sink yourself for another renderer.
 * ext_base (may be NULL): the idempotency prefix of this run's sales.
 * Always PM_OK (offers that cannot load are told as offers_disabled).
 */
int till_init(struct till *t, struct loy_db *db, const struct term_config *cfg,
	      struct prn_dev *printer, FILE *events, const char *ext_base);
void till_release(struct till *t);
/*
 * Print the waiting receipts, oldest first (the log's print queue, then
 * #reprint copies), now (force) or once the retry interval has passed. A
 * receipt leaves the queue only once printed, in the transaction that
 * counts its coupons as issued (till_receipt_printed); the cashier is told
 * in words why they wait. Returns how many still wait (also t->queue_n).
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
	int max_offers;
	struct ofr_decision decision;  /* chosen for the assigned seq */
	struct pm_buf payloads;    /* the events' payload bytes */
	struct loy_event_new events[TILL_MAX_EVENTS];
	bool is_return;            /* sale is a return (its basis: the till's ret) */
	/* The receipt, laid out inside the commit (till.c, a loy_receipt_cb): */
	struct prn_doc doc;        /* as it prints */
	struct pm_buf receipt;     /* its receipt record (receipt_rec.h), queued with the sale */
};
/* Free what a pending sale holds (its payload buffer); it may be prepared again. */
void till_pending_release(struct till_pending *p);
/* till_sale_finish: a used coupon was dropped from the sale; commit it again. */
#define TILL_COMMIT_AGAIN 1
/* PM_OK, or PM_EINVAL after a scan_refused event saying why (the sale stays open). */
int till_sale_prepare(struct till *t, int tender_kind, int64_t amount, struct till_pending *p);
/*
 * rc, res: what the commit returned. Returns PM_OK (committed, or committed
 * before), TILL_COMMIT_AGAIN (a used coupon was dropped: commit p again),
 * PM_EINVAL (refused and told; the sale stays open) or the commit's error
 * (the sale stays open). out (may be NULL) gets the result on PM_OK.
 */
int till_sale_finish(struct till *t, struct till_pending *p, int rc, const struct loy_commit_result *res,
		     struct till_sale_result *out);
/* The POS API's way in (daemon lanes): a priced line, a void, a card, a cancel. */
int till_add_priced(struct till *t, const char *gtin14, int32_t qty, int64_t unit_price_cents,
		    const char *name);
int till_void_line(struct till *t, size_t index);
int till_set_card(struct till *t, const struct scan_result *r);
void till_cancel(struct till *t);
/* Record the attached card's answer to targeted offers (set at the till). */
int till_set_consent(struct till *t, bool yes);
/*
 * Spend points on the open sale (#points N, the API's points_spend): PM_OK
 * (points_applied told), or PM_EREFUSED after a scan_refused saying why and
 * what to do (no card, not a whole number 1.., more than the card has here or
 * may spend offline, worth more than the sale). input names it in the event.
 */
int till_points_spend(struct till *t, int64_t points, const char *input);
/*
 * Open a return of sale ref ("TERMINAL:SEQ", #return, the API's return_open):
 * this log's sale, or another terminal's through t->hq.sale_lookup. PM_OK
 * (return_opened told; item scans are then returned units), or PM_EREFUSED
 * after a scan_refused (docs/accounts.md has the reasons). Nothing is written
 * until the tender commits the return.
 */
int till_return_open(struct till *t, const char *ref, const char *input);
/* Parse "TERMINAL:SEQ" (terminal printable, no space, 1..31 bytes; seq 1..). PM_OK or PM_EINVAL. */
int till_ref_parse(const char *ref, char terminal[LOY_TERMINAL_MAX + 1], uint64_t *seq);
/* till_hq.c: HQ's answer about a sale as a return basis (a deep copy). PM_OK or PM_ENOMEM. */
int till_basis_from_wire(const struct wire_sale_lookup *l, struct loy_return_basis *out);
int64_t till_subtotal(const struct till *t);
/* Give ev to the till's sink (nothing without one). */
void till_emit(struct till *t, const struct till_event *ev);

/*
 * When coupons count as issued (OFFER_ISSUED events and the caps ledger):
 * when the receipt carrying them printed, never at the commit. A lane with a
 * printer queues the receipt in the sale's transaction (the log's
 * print_queue) and, once the printer took it, removes it in one transaction
 * with the coupons' events (till_receipt_printed). A lane without a printer
 * (its POS app prints the receipt) records them when the app says so:
 * till_offers_printed records the last sale's coupons; idempotent per sale,
 * nothing when they were recorded already. A paper-out must not spend a
 * budget or a frequency cap; a receipt that never prints never counts.
 */
void till_offers_printed(struct till *t);
/*
 * The daemon's lanes share one engine (rules, ledger, key) so that budgets and
 * frequency caps count across lanes: after this call, till_init gives every
 * new till a view of *shared instead of opening its own. NULL stops sharing.
 */
void till_offers_share(const struct term_offers *shared);
/* Read the attached card's record (and its history profile, with consent) again, e.g. after new rules. */
void till_offers_card(struct till *t);
/* A scanned coupon: PM_OK accepted (coupon_accepted told), PM_EREFUSED (coupon_refused told). */
/* A card the log has no chain state of (never seen, or never synced): the till asks HQ
 * for its account when it is scanned (the daemon asks first, off its loop). */
bool till_card_wants_hq(struct loy_db *db, const char *card);
int till_coupon_scan(struct till *t, const char *input, const struct scan_result *r);
/* Whether r is a coupon this till would take on its own checks (signature, card,
 * dates), so that asking HQ about its single use is worth it. No side effects. */
bool till_coupon_valid_here(struct till *t, const struct scan_result *r);

/*
 * A receipt of the log's print queue printed (r: its decoded record; seq its
 * sale): remove it and count r's coupons as issued (OFFER_ISSUED with the
 * sale's card as the log has it now, at now_us) in ONE transaction
 * (loy_printq_done); then in offers' ledger (may be NULL). *removed (may be
 * NULL) is false when the entry was gone already (printed elsewhere: nothing
 * counted twice). PM_OK or loy_printq_done's error (the entry stays).
 */
struct receipt_rec;
int till_receipt_printed(struct loy_db *db, const struct term_offers *offers, uint64_t seq,
			 const struct receipt_rec *r, int64_t now_us, bool *removed);

/* The coupon blocks of a receipt (what a POS app prints in its own receipt). */
void receipt_coupons(struct prn_doc *d, const struct ofr_decision *offers, const char *currency);
/* The coupons printed with sale s, as they were printed, from its OFFER_ISSUED events (reprints). */
int receipt_sale_offers(struct loy_db *db, const struct term_config *cfg, const struct loy_sale *s,
			struct ofr_decision *issued);
/* Lay out a committed sale's receipt; offers (may be NULL) adds its coupons. A
 * return record gets the return's receipt (receipt_return_build). */
int receipt_build(struct prn_doc *doc, const struct term_config *cfg, struct loy_db *db,
		  const struct loy_sale *sale, const struct loy_commit_result *res,
		  const struct till_line *lines, size_t n_lines, const struct ofr_decision *offers);
/*
 * The same without reading the log, for a commit's own transaction:
 * redeemed[i] gives what sale->redeemed[i] was for (benefit, value), as its
 * OFFER_REDEEMED event says; db is used only for tier names (no transaction).
 */
int receipt_build_in_commit(struct prn_doc *doc, const struct term_config *cfg, struct loy_db *db,
			    const struct loy_sale *sale, const struct loy_commit_result *res,
			    const struct till_line *lines, size_t n_lines, const struct ofr_decision *offers,
			    const struct ofr_offer *redeemed);
/* receipt_return.c: a committed return's receipt (refund, points taken back, balance). */
int receipt_return_build(struct prn_doc *doc, const struct term_config *cfg, struct loy_db *db,
			 const struct loy_sale *ret, const struct loy_commit_result *res,
			 const struct till_line *lines, size_t n_lines);

#endif
