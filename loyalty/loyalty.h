/*
 * loyalty.h - the durable purchase log of one terminal, in LMDB.
 *
 * What it is: the sale and return records (each carrying its ledger entries,
 * docs/accounts.md), each card's record (HQ's account state, this terminal's
 * entries HQ has not included, tier, consent, aggregates), a per-card index
 * of its records, the units returned of each sale, redeemed coupons, the
 * product catalog, an outbox of non-sale events for HQ, and the HQ upload
 * watermark, all in one LMDB environment (docs/storage.md has the byte
 * layouts, format v2).
 *
 * What it is not: it does not decode scans (it trusts card numbers and GTINs
 * the terminal got from drivers' decoder), choose offers, or talk to HQ.
 *
 * Guarantees:
 *  - loy_sale_commit() is ONE write transaction: the sale, its index entry,
 *    the card aggregates and points, the redeemed coupons, the events the
 *    sale carries (offers issued, held back, redeemed: loy_sale.events_cb),
 *    the offer caps state and the sequence counters commit together or not
 *    at all. The record's ledger entries (loy_sale_ledger) are part of the
 *    record, so they commit with it too; a return (type LOY_RETURN) commits
 *    with its clawback, refund and the returned-units bookkeeping the same
 *    way. When it returns PM_OK the sale is on stable storage (LMDB's
 *    default fsync discipline is kept).
 *  - A sale carrying an ext_id (the till's or POS app's idempotency key) is
 *    committed at most once; a repeat returns PM_EEXIST with the first seq.
 *  - The map grows by itself (doubling up to map_size_max). A full disk or a
 *    reached map_size_max returns PM_EFULL and nothing is written: the caller
 *    keeps the sale open and may retry. Growth is safe with several threads
 *    of one process reading and writing: every transaction holds a lock
 *    shared that growth takes exclusively (LMDB forbids resizing while the
 *    process has a transaction open).
 *
 * Traps:
 *  - Views passed to callbacks (struct loy_sale *) point into LMDB pages or
 *    a scratch buffer: valid only during the callback. Copy what you keep.
 *  - One struct loy_db per process and directory (LMDB's rule). Other
 *    processes may read concurrently (posmark history while the till runs).
 *  - Threads: any number may write (LMDB serialises writers; map growth
 *    waits for every transaction of the process), but one thread at a time
 *    may read sales back: decoded sales share the handle's scratch.
 */
#ifndef LOYALTY_H
#define LOYALTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOY_CARD_MAX 19       /* digits of the longest card number */
#define LOY_GTIN_LEN 14       /* items are stored as GTIN-14 */
#define LOY_TERMINAL_MAX 31
#define LOY_EXTID_MAX 63
#define LOY_COUPON_MAX 63
#define LOY_TIER_MAX 4        /* tiers 0..LOY_TIER_MAX-1 */

struct loy_db;

struct loy_config {
	uint64_t map_size_initial;   /* bytes; first mapping (default 64 MiB) */
	uint64_t map_size_max;       /* bytes; 0 = grow until the disk is full */
	char terminal_id[LOY_TERMINAL_MAX + 1]; /* stamped on every sale */
	char currency[4];            /* ISO 4217 code of this till, e.g. "EUR" */
	/* Points: points = total_cents * points_per_unit * multiplier_pct / 10000 */
	int64_t points_per_unit;     /* points per whole currency unit (default 1) */
	int tier_window_days;        /* rolling window for tier spend (default 365) */
	int tier_count;              /* tiers in use, 1..LOY_TIER_MAX (default 3) */
	int64_t tier_threshold_cents[LOY_TIER_MAX]; /* window spend to reach tier i; [0] = 0 */
	int tier_multiplier_pct[LOY_TIER_MAX];      /* points multiplier per tier, 100 = x1 */
	char tier_name[LOY_TIER_MAX][16];
	int points_expiry_days;      /* balance expires after this many days without a visit; 0 = never */
	/* Spending points (docs/accounts.md, "Spending offline") */
	int64_t point_value_cents;   /* value of one point spent (default 1) */
	int64_t offline_window_s;    /* an HQ state older than this counts as offline (default 86400) */
	int64_t offline_spend_limit; /* points a card may spend here beyond HQ's state while offline (default 1000) */
	bool chain_linked;           /* the terminal answers to HQ (hq.url set): the offline allowance
				      * applies; false (standalone shop): a card spends its whole balance */
	/*
	 * Bulk loading only (imports, benchmarks' set-up): commits skip fsync and
	 * loy_close() syncs once. A crash may lose the last commits (never
	 * corrupts). A till never sets this.
	 */
	bool bulk_nosync;
	/*
	 * For one group-commit thread (the daemon's): the env is opened with
	 * MDB_NOMETASYNC, so loy_sale_commit_group_deferred() costs one sync
	 * instead of two. Every other write still returns durable (it syncs its
	 * commit record itself). Default false.
	 */
	bool defer_meta_sync;
};

/* Fill cfg with the documented defaults (docs/config.md). */
void loy_config_default(struct loy_config *cfg);

/*
 * Open (creating if absent) the purchase log in directory dir.
 * Returns PM_OK, PM_ECORRUPT (not an LMDB file, or an LMDB that is not a
 * posmark log), PM_EVERSION (written by a newer format), PM_EFULL, PM_EIO,
 * PM_EBUSY. *out is NULL on failure. errbuf (may be NULL) gets a detail.
 */
int loy_open(const char *dir, const struct loy_config *cfg, struct loy_db **out,
	     char *errbuf, size_t errlen);
void loy_close(struct loy_db *db);   /* NULL-safe */

enum loy_tender { LOY_TENDER_CASH = 0, LOY_TENDER_CARD = 1, LOY_TENDER_OTHER = 2 };
const char *loy_tender_name(int tender);
/* "cash"/"card"/"other" to enum loy_tender, or -1. */
int loy_tender_parse(const char *name);

struct loy_item {
	char gtin[LOY_GTIN_LEN + 1];  /* GTIN-14, digits */
	int32_t qty;                  /* units (1 for a weighed/priced variable-measure item) */
	int64_t unit_price_cents;
	int64_t line_cents;           /* qty * unit price, or the embedded price */
};

struct loy_redemption {
	char coupon[LOY_COUPON_MAX + 1];
	int64_t discount_cents;
};

/*
 * An event to append to the outbox together with something else (a sale's
 * commit, or the coupons of a receipt that printed late). The payload is the
 * producer's versioned bytes (loyalty never reads them); not retained.
 */
struct loy_event_new {
	int type;                     /* enum loy_event_type */
	int64_t time_us;
	const void *payload;
	size_t payload_len;
	/*
	 * LOY_EV_OFFER_ISSUED only: the caps entry the issue counts in (campaign,
	 * rule, card; card "" = none). cap_campaign NULL = no entry: the caps
	 * state then falls behind the outbox and the next start-up replays from
	 * there (loy_caps_load).
	 */
	const char *cap_campaign, *cap_rule, *cap_card;
};

struct loy_sale;
struct loy_return_basis;
struct loy_commit_result;
/*
 * Gives the events that commit with a sale. Called inside the commit's write
 * transaction once sale->seq is assigned (payloads may name it), on the
 * committing thread, with the log's writer lock held: do nothing slow and
 * call no loyalty function. It may run more than once for one sale (the
 * transaction is redone after the map grew, or a group is retried): each call
 * returns the complete list in *events and *n, valid until the next call or the
 * end of the commit. A non-zero return refuses the sale with that code.
 */
typedef int (*loy_sale_events_cb)(void *ctx, const struct loy_sale *sale,
				  const struct loy_event_new **events, size_t *n);

/*
 * Gives the receipt of a record, to be queued in the record's own commit
 * (the print_queue table) until loy_printq_done says it printed. Called
 * inside the commit's write transaction after the record, its card and its
 * events are written (res carries seq, points, balance, tier), under the
 * same rules as loy_sale_events_cb: nothing slow, no loyalty call, may run
 * more than once. *receipt / *len: the producer's versioned bytes (loyalty
 * never reads them; the terminal's receipt record, docs/till.md), valid
 * until the next call or the end of the commit; *len 0 = queue nothing. A
 * non-zero return refuses the record with that code.
 */
typedef int (*loy_receipt_cb)(void *ctx, const struct loy_sale *sale, const struct loy_commit_result *res,
			      const void **receipt, size_t *len);

struct loy_sale {
	uint64_t seq;                 /* per-terminal sequence number; set by commit */
	int64_t time_us;              /* UTC microseconds */
	char terminal[LOY_TERMINAL_MAX + 1];
	char card[LOY_CARD_MAX + 1];  /* "" = no card, or card erased */
	char currency[4];
	char ext_id[LOY_EXTID_MAX + 1]; /* idempotency key; "" = none */
	int tender;                   /* enum loy_tender */
	int64_t total_cents;          /* what the customer pays, after discounts */
	int64_t discount_cents;       /* sum of coupon discounts */
	int64_t tendered_cents;
	int64_t points_earned;        /* set by commit */
	bool card_erased;             /* the card was unlinked by an erasure */
	uint32_t n_items;
	struct loy_item *items;
	uint32_t n_redeemed;
	struct loy_redemption *redeemed;
	/*
	 * The chain account (docs/accounts.md). A record is a sale or a return;
	 * both share the seq space. Ledger entries are derived from these fields
	 * (loy_sale_ledger): earn = points_earned, spend = -points_spent,
	 * bonus = points_bonus, expiry = -points_expired, clawback =
	 * -points_clawed_back. Records written before v2 read with zeros.
	 */
	int type;                     /* enum loy_sale_type */
	char return_of_terminal[LOY_TERMINAL_MAX + 1]; /* returns: the original sale */
	uint64_t return_of_seq;
	int64_t points_spent;         /* points tendered (#points N) */
	int64_t point_value_cents;    /* the value of one point when spent */
	int64_t points_bonus;         /* bonus credited with this sale (set by the caller) */
	int64_t points_expired;       /* set by commit */
	int64_t refund_cents;         /* returns: money given back; set by commit */
	int64_t points_clawed_back;   /* returns: set by commit (positive) */
	/* Commit only (NULL in sales read back): the sale's events, see above. */
	loy_sale_events_cb events_cb;
	void *events_ctx;
	/*
	 * Commit of a return of ANOTHER terminal's sale only: that sale and what
	 * was returned of it, as HQ told (loy_return_basis below). A return of
	 * this log's own sale reads its basis from the log inside the commit and
	 * folds this in when given (HQ may know returns made elsewhere).
	 */
	const struct loy_return_basis *return_basis;
	/*
	 * Commit only (NULL in sales read back): the receipt to keep in the print
	 * queue with the record (docs/storage.md, "print_queue"); see
	 * loy_receipt_cb below. NULL = no receipt waits (a lane whose POS app
	 * prints its own).
	 */
	loy_receipt_cb receipt_cb;
	void *receipt_ctx;
};

enum loy_sale_type { LOY_SALE = 0, LOY_RETURN = 1 };

/* Ledger entries of one record (docs/accounts.md); numbers = wire's WIRE_LEDGER_*. */
enum loy_ledger_kind {
	LOY_LEDGER_EARN = 1, LOY_LEDGER_SPEND = 2, LOY_LEDGER_CLAWBACK = 3, LOY_LEDGER_BONUS = 4,
	LOY_LEDGER_EXPIRY = 5, LOY_LEDGER_ADJUST = 6, LOY_LEDGER_IMPORT = 7,
};
#define LOY_LEDGER_PER_SALE 5
struct loy_ledger_entry {
	int kind;                     /* enum loy_ledger_kind */
	int64_t points;               /* signed: spend, clawback, expiry < 0 */
};
/* The non-zero entries a sale or return record carries, in kind order; returns how many. */
size_t loy_sale_ledger(const struct loy_sale *s, struct loy_ledger_entry out[LOY_LEDGER_PER_SALE]);
/* "earn", "spend", "clawback", "bonus", "expiry", "adjust", "import"; "?" if unknown. */
const char *loy_ledger_kind_name(int kind);

/* Why a commit said PM_EREFUSED (loy_commit_result.refusal); nothing was written. */
enum loy_refusal {
	LOY_REFUSE_NONE = 0,
	LOY_REFUSE_POINTS_NO_CARD = 1,    /* points spent on a sale without a card */
	LOY_REFUSE_POINTS_BALANCE = 2,    /* more than the balance the log knows */
	LOY_REFUSE_POINTS_OFFLINE = 3,    /* more than the offline allowance (docs/accounts.md) */
	LOY_REFUSE_POINTS_TOTAL = 4,      /* their value is more than the sale's total */
	LOY_REFUSE_RETURN_UNKNOWN = 5,    /* no such sale (or another terminal's without a basis) */
	LOY_REFUSE_RETURN_OF_RETURN = 6,  /* the record named is itself a return */
	LOY_REFUSE_RETURN_NOT_IN_SALE = 7,/* an item the sale does not have (refused_item) */
	LOY_REFUSE_RETURN_TOO_MANY = 8,   /* more units than sold minus returned (refused_item) */
	LOY_REFUSE_RETURN_EMPTY = 9,      /* a return without items */
};

struct loy_commit_result {
	uint64_t seq;
	/* PM_EEXIST with seq 0: the index in sale->redeemed of the coupon that was
	 * used before (the first such one); -1 in every other case. */
	int refused_coupon;
	uint64_t first_event_seq;     /* the sale's first event, 0 = it had none */
	uint32_t n_events;
	int64_t points_earned;
	int64_t points_balance;
	int64_t points_expired;       /* balance lost to expiry before this sale */
	int tier;
	int64_t window_spend_cents;
	/* The chain account (docs/accounts.md) */
	int64_t points_spent;         /* as committed */
	int64_t points_bonus;         /* as committed (0 without a card) */
	int64_t refund_cents;         /* returns: money given back */
	int64_t points_clawed_back;   /* returns */
	int refusal;                  /* PM_EREFUSED: enum loy_refusal */
	int refused_item;             /* the item of a return refused (index in sale->items), else -1 */
};

/*
 * Commit a closed sale durably in one write transaction, with the events
 * sale->events_cb gives (see above). sale->seq, sale->points_earned and
 * sale->terminal/currency (if empty) are filled by the log. The time is
 * sale->time_us (caller stamps it).
 * Returns PM_OK; PM_EEXIST if sale->ext_id was committed before (out->seq is
 * that sale's seq), or a redeemed coupon was already used (out->seq = 0,
 * out->refused_coupon its index: drop that one and commit again); PM_EREFUSED
 * (out->refusal says why: points the card cannot cover, a return the sale
 * does not allow); PM_EFULL (disk/map full: nothing written, retry later);
 * PM_EINVAL; PM_EIO; or what events_cb returned. On any error nothing of the
 * sale is written.
 *
 * The chain account, inside the transaction (docs/accounts.md): expiry of
 * a balance left unused (points_expired), the spending checks (points_spent
 * at most the balance, the offline allowance, the total), points earned on
 * the money paid (total - points_spent * point_value_cents, point_value_cents
 * 0 = the config's), points_bonus credited (a card needed; else ignored).
 * A return (type LOY_RETURN, return_of_*, items = the returned units with
 * positive qty) is checked against its sale and what was returned of it;
 * the commit sets its card (the sale's), prices, refund_cents and
 * points_clawed_back, and records the units returned (docs/accounts.md,
 * "Sale and return records"). card, coupons and points on a return are ignored.
 * Threads: any thread; writes are serialised by LMDB.
 */
int loy_sale_commit(struct loy_db *db, const struct loy_sale *sale,
		    struct loy_commit_result *out);

/*
 * Group commit: n sales in ONE durable write transaction (one pair of syncs
 * for all). Each sale gets its own result: rcs[i] is what loy_sale_commit
 * would have returned for it (a refused sale does not affect the others);
 * out[i] its result. Returns PM_OK if the transaction committed, or the
 * error that kept every sale of the group out (PM_EFULL, PM_EIO): then all
 * rcs[] carry that error.
 * Threads: writes may come from one thread while another reads; callbacks
 * of reads run in the reading thread.
 */
int loy_sale_commit_group(struct loy_db *db, const struct loy_sale *const *sales, size_t n,
			  struct loy_commit_result *out, int *rcs);

/*
 * Pipelined group commit (needs cfg.defer_meta_sync; call from ONE thread).
 * Like loy_sale_commit_group, but returns after the group's data is synced
 * and before its commit record is: the sales are visible, not yet durable.
 * They become durable when the next call of this function or loy_sync()
 * returns (that call's data sync covers the earlier commit record, which
 * is how one sync per group suffices). On return *earlier_rc says whether
 * the groups of earlier calls are now durable: PM_OK, or PM_EIO if the
 * sync that should have made them so failed.
 */
int loy_sale_commit_group_deferred(struct loy_db *db, const struct loy_sale *const *sales, size_t n,
				   struct loy_commit_result *out, int *rcs, int *earlier_rc);
/* Make every committed transaction durable (fdatasync). PM_OK or PM_EIO. */
int loy_sync(struct loy_db *db);

/* Callback for reads: return 0 to go on, non-zero to stop (returned as is). */
typedef int (*loy_sale_cb)(void *ctx, const struct loy_sale *sale);

/* Every record (sales and returns) of a card, oldest first: one key range of the card index. */
int loy_card_history(struct loy_db *db, const char *card, loy_sale_cb cb, void *ctx);
/* Records with seq > after_seq in order, at most max (0 = all). For upload. */
int loy_sales_after(struct loy_db *db, uint64_t after_seq, size_t max,
		    loy_sale_cb cb, void *ctx);
/*
 * The same, net of returns (history, tiers, offers' history, the miner): a
 * return record is not given; a sale comes with the units returned of it
 * taken off (its lines' qty and line_cents reduced, lines returned whole
 * left out, total_cents less the refunds, points_earned less the clawbacks);
 * a sale returned whole is not given.
 */
int loy_card_history_net(struct loy_db *db, const char *card, loy_sale_cb cb, void *ctx);
int loy_sales_after_net(struct loy_db *db, uint64_t after_seq, size_t max, loy_sale_cb cb, void *ctx);
int loy_sale_get(struct loy_db *db, uint64_t seq, loy_sale_cb cb, void *ctx);
/* Whether sale ext_id is committed; *seq_out = its seq (0 if not). */
int loy_sale_find_ext(struct loy_db *db, const char *ext_id, uint64_t *seq_out);

enum loy_consent { LOY_CONSENT_UNKNOWN = 0, LOY_CONSENT_YES = 1, LOY_CONSENT_NO = 2 };
enum loy_source { LOY_SRC_TILL = 0, LOY_SRC_HQ = 1 };

struct loy_card {
	char number[LOY_CARD_MAX + 1];
	int64_t created_us;
	int64_t last_visit_us;        /* 0 = never */
	uint64_t visits;
	int64_t spend_cents;          /* lifetime */
	int64_t points;
	int tier;
	int consent;                  /* enum loy_consent */
	int consent_source;           /* enum loy_source */
	int64_t consent_changed_us;
	/* The chain account (docs/accounts.md): points above is HQ's balance
	 * plus pending_points; last_visit_us the later of here and HQ's. */
	int64_t pending_points;       /* this terminal's entries HQ had not included */
	int64_t chain_as_of_us;       /* HQ's time of the state held, 0 = never had one */
	int64_t pending_spent;        /* points spent here that HQ had not included (allowance) */
};

/* PM_OK with *out filled, or PM_ENOENT for a card never seen (or erased). */
int loy_card_get(struct loy_db *db, const char *card, struct loy_card *out);
/* Set targeted-offer consent (creates the card record if new); queued for HQ. */
int loy_card_set_consent(struct loy_db *db, const char *card, int consent, int source,
			 int64_t now_us);
/*
 * Erase a card (docs/privacy.md, "At the store"), in ONE transaction: its
 * record, index entries, `bought` list and caps entries go; its sales and
 * returns stay with the card unlinked (card_erased); its consent events
 * HQ acknowledged are deleted, the others become erasure events with
 * hq_payload (an upload is a contiguous run of seqs; without a payload they
 * are deleted: no HQ), and every
 * offer event's JSON string equal to the number becomes ""; the log is
 * marked for compaction (loy_compact: until then the old bytes sit in free
 * pages). hq_payload (NULL = none: a standalone shop, or HQ's own erasure)
 * is queued as the erasure event for HQ: the terminal gives wire's sealed
 * erasure, never the number. *sales_unlinked counts the records unlinked.
 * PM_OK; PM_ENOENT (nothing known of the card); PM_EINVAL; PM_EFULL; PM_EIO.
 */
int loy_card_erase_queue(struct loy_db *db, const char *card, int64_t now_us, const void *hq_payload,
			 size_t hq_len, uint64_t *sales_unlinked);
/*
 * The same; source LOY_SRC_HQ queues nothing (the card's consent events HQ
 * has not received wait for its acknowledgement, then
 * loy_events_forget_clear_erasures deletes them), LOY_SRC_TILL queues the clear
 * number (erasure record v1) for a terminal that knows no HQ key: HQ must
 * get the number, so it is kept until HQ acknowledged it, then deleted by
 * loy_events_forget_clear_erasures (and compacted away).
 */
int loy_card_erase(struct loy_db *db, const char *card, int source, int64_t now_us,
		   uint64_t *sales_unlinked);
/*
 * Once HQ acknowledged the newest event that keeps an erased card's number
 * in the clear (events_acked >= meta clear_erasure_seq): delete them, the
 * erasure events with a clear number and the consent events of cards that
 * have no record any more (HQ's erasure leaves those it has not received
 * until then), and mark the log for compaction. Cheap when there are none
 * (one meta read). *forgotten may be NULL.
 */
int loy_events_forget_clear_erasures(struct loy_db *db, uint64_t *forgotten);

/*
 * Compaction after an erasure (loyalty/compact.c, docs/privacy.md): LMDB
 * keeps a deleted record's bytes in free pages and in the unused middle of
 * live pages, so the log is rewritten record by record into a new file
 * (DIR/.compact/data.mdb) that never held the erased bytes, which is then
 * renamed over data.mdb (fsync'd file and directory): a crash before the
 * rename leaves the old log (still marked), after it the new one.
 *
 * Only with exclusive access: no other process may have the log open (its
 * commits would go to the old file). The call closes this handle's
 * environment (it waits for every transaction of the process: the caller
 * must not hold one, and no thread may be inside loy_sync), takes lock.mdb's
 * first byte exclusively without waiting (LMDB's processes hold it shared),
 * rewrites, and reopens the same handle. Another process's loy_open waits
 * meanwhile. PM_OK (rep filled); PM_EBUSY (another process has the log
 * open: nothing changed, still marked); PM_EFULL, PM_EIO (the old log
 * stays); errbuf says what. If the reopen itself fails the handle is dead
 * (PM_EBADSTATE from then on): close it.
 */
struct loy_compact_report {
	uint64_t bytes_before, bytes_after;   /* data.mdb's size */
	uint64_t records;                     /* records copied, every database */
};
/* Whether an erasure (or forgotten clear erasures) left the log to compact. */
int loy_compact_pending(struct loy_db *db, bool *pending);
int loy_compact(struct loy_db *db, struct loy_compact_report *rep, char *errbuf, size_t errlen);
/*
 * Account states from HQ (docs/accounts.md, "What the till shows"). Apply n
 * states computed at HQ time as_of_us, which include this terminal's
 * entries up to included_sale_seq, in ONE transaction together with the
 * pull cursor (cursor 0: a single lookup, the stored cursor is kept). A
 * state older than the one held (as_of_us < its chain_as_of) is skipped; an
 * erased state erases the card here without queueing an erasure back to HQ.
 * PM_OK, PM_EINVAL, PM_EFULL, PM_EIO.
 */
struct loy_account_state {
	char card[LOY_CARD_MAX + 1];
	bool erased;
	int64_t points;               /* HQ's balance */
	int tier;
	int consent;                  /* enum loy_consent */
	int64_t consent_changed_us;
	int64_t last_visit_us;
	int64_t window_spend_cents;
	uint32_t n_bought;
	char bought[32][LOY_GTIN_LEN + 1];
};
int loy_accounts_apply(struct loy_db *db, const struct loy_account_state *a, size_t n, int64_t as_of_us,
		       uint64_t included_sale_seq, uint64_t cursor);
/* The cursor stored with the last applied page (0 = none yet). */
int loy_accounts_cursor(struct loy_db *db, uint64_t *cursor);
/*
 * The GTINs HQ says the card buys most across the chain (its last state),
 * most first: PM_OK with *n (0..32) set; PM_OK with *n 0 when none.
 */
int loy_card_bought(struct loy_db *db, const char *card, char out[32][LOY_GTIN_LEN + 1], uint32_t *n);
/*
 * How many points card c may spend here at now_us (docs/accounts.md,
 * "Spending offline"): its balance, and while its HQ state is absent or
 * older than offline_window_s at most offline_spend_limit - pending_spent.
 * *offline (may be NULL) says whether the allowance applied. Never < 0.
 */
int64_t loy_points_spendable(const struct loy_config *cfg, const struct loy_card *c, int64_t now_us,
			     bool *offline);

/*
 * Returns (docs/accounts.md, "Sale and return records"). The basis of a
 * return is the sale returned and what was returned of it so far.
 */
struct loy_return_basis {
	struct loy_sale sale;         /* items and redeemed owned by the basis */
	uint32_t n_returned;
	struct loy_item *returned;    /* per GTIN: gtin and qty (units returned so far) */
	int64_t refund_cents;         /* refunded so far */
	int64_t points_clawed_back;   /* clawed back so far */
};
/* Sale seq of this log as a basis, with what was returned of it as this log
 * knows. PM_OK, PM_ENOENT (no such record), or a read error. A return record
 * is given too (sale.type says so; loy_return_check refuses it). */
int loy_return_basis_get(struct loy_db *db, uint64_t seq, struct loy_return_basis *out);
/* Fold into b what this log knows was returned of b's sale (per GTIN the larger). */
int loy_return_basis_local(struct loy_db *db, struct loy_return_basis *b);
/* Fold other's returned units and amounts into b (per GTIN the larger). PM_OK or PM_ENOMEM. */
int loy_return_basis_merge(struct loy_return_basis *b, const struct loy_item *returned, uint32_t n,
			   int64_t refund_cents, int64_t points_clawed_back);
/* A deep copy (for a basis kept across calls). PM_OK or PM_ENOMEM. */
int loy_return_basis_copy(const struct loy_return_basis *src, struct loy_return_basis *dst);
void loy_return_basis_free(struct loy_return_basis *b);   /* NULL-safe; zeroes */
/* Units of gtin sold in b's sale, and returned of it so far. */
void loy_return_units(const struct loy_return_basis *b, const char *gtin, int32_t *sold, int32_t *returned);
/* The unit price of gtin in b's sale (its first line), -1 if the sale has none. */
int64_t loy_return_unit_price(const struct loy_return_basis *b, const char *gtin);
/*
 * Whether n returned items (several may name one GTIN) are allowed by b:
 * LOY_REFUSE_NONE, or the refusal with *bad (may be NULL) the item's index.
 */
int loy_return_check(const struct loy_return_basis *b, const struct loy_item *items, size_t n, size_t *bad);
/* What returning them gives back: refund (money) and points clawed back, as the commit computes. */
void loy_return_amounts(const struct loy_return_basis *b, const struct loy_item *items, size_t n,
			int64_t *refund_cents, int64_t *points_clawed_back);
/* The current tier name for a tier number. */
const char *loy_tier_name(const struct loy_db *db, int tier);
const struct loy_config *loy_db_config(const struct loy_db *db);

/* Catalog (standalone till and demo; a POS app sends prices instead). */
struct loy_product {
	char gtin[LOY_GTIN_LEN + 1];
	char name[64];
	char category[48];
	char brand[48];
	int64_t price_cents;
};
/* Replace or add products in one transaction. */
int loy_catalog_put(struct loy_db *db, const struct loy_product *p, size_t n);
int loy_catalog_get(struct loy_db *db, const char *gtin14, struct loy_product *out);
typedef int (*loy_product_cb)(void *ctx, const struct loy_product *p);
int loy_catalog_each(struct loy_db *db, loy_product_cb cb, void *ctx);
int loy_catalog_count(struct loy_db *db, uint64_t *out);

/*
 * Outbox of non-sale events for HQ (consent changes, erasures, offers issued,
 * held back, redeemed). Each event has a seq of its own. Offer payloads are
 * opaque bytes (the producer's versioned encoding, wire's at the terminal);
 * consent and erasure records are the log's own (written by
 * loy_card_set_consent / loy_card_erase, docs/storage.md) and are read with
 * loy_event_card_fields: what HQ receives is encoded from those fields by
 * the terminal's sync wiring, never sent as the stored bytes.
 */
enum loy_event_type {
	LOY_EV_CONSENT = 1, LOY_EV_ERASURE = 2, LOY_EV_OFFER_ISSUED = 3,
	LOY_EV_OFFER_HELD_BACK = 4, LOY_EV_OFFER_REDEEMED = 5,
};
struct loy_event {
	uint64_t seq;
	int64_t time_us;
	int type;
	const void *payload;
	size_t payload_len;
};
/* Append one event (its own transaction). *seq_out (may be NULL) its seq. */
int loy_event_append(struct loy_db *db, int type, int64_t time_us,
		     const void *payload, size_t len, uint64_t *seq_out);
/*
 * Append n events in ONE transaction (all or none), e.g. the coupons of a
 * receipt that printed after its sale was committed. *first_seq (may be
 * NULL) gets the first one's seq; they are consecutive.
 */
int loy_events_append(struct loy_db *db, const struct loy_event_new *evs, size_t n,
		      uint64_t *first_seq);
typedef int (*loy_event_cb)(void *ctx, const struct loy_event *ev);
/*
 * The card (and, for LOY_EV_CONSENT, the enum loy_consent) of a consent or
 * erasure event of this log. PM_OK; PM_EINVAL for another event type;
 * PM_ENOENT for an erasure whose payload is the producer's (sealed to HQ:
 * pass it on as stored); PM_ECORRUPT for a damaged record. consent may be
 * NULL. Any thread.
 */
int loy_event_card_fields(const struct loy_event *ev, char card[LOY_CARD_MAX + 1], int *consent);
int loy_events_after(struct loy_db *db, uint64_t after_seq, size_t max,
		     loy_event_cb cb, void *ctx);

/*
 * Offer caps state (docs/storage.md, "offer_caps"): for each campaign the
 * coupons issued, and for each (campaign, rule, card) the last issue time.
 * Updated with the OFFER_ISSUED events that carry a caps entry, in their
 * transaction, while the state is current (caps_seq = the last event's seq).
 */
struct loy_cap {
	const char *campaign;
	const char *rule;             /* NULL on a campaign count */
	const char *card;             /* NULL on a campaign count */
	uint64_t issued;              /* campaign count: coupons issued */
	int64_t last_us;              /* (campaign, rule, card): last issue */
};
typedef int (*loy_cap_cb)(void *ctx, const struct loy_cap *cap);
/*
 * Every caps entry, in one read transaction: all (campaign, rule, card)
 * entries first, then the campaign counts. *caps_seq: the last event the
 * state covers; events after it (loy_events_after) are not in it yet. Views
 * are valid only during the callback. PM_OK, PM_ECORRUPT, or cb's return.
 */
int loy_caps_load(struct loy_db *db, loy_cap_cb cb, void *ctx, uint64_t *caps_seq);
/*
 * Bring the caps state from from_seq up to to_seq: issues[] are the
 * OFFER_ISSUED events in (from_seq, to_seq] as caps entries (issued unused,
 * last_us the issue time). Applied only if the state is still at from_seq
 * (*applied says so); another writer's catch-up wins. One transaction.
 */
int loy_caps_catch_up(struct loy_db *db, uint64_t from_seq, uint64_t to_seq,
		      const struct loy_cap *issues, size_t n, bool *applied);

/* Upload positions: the last seq HQ acknowledged, for sales and events. */
struct loy_stats {
	uint64_t last_sale_seq;
	uint64_t sales_acked;         /* HQ watermark: sales <= this are acknowledged */
	uint64_t last_event_seq;
	uint64_t events_acked;
	uint64_t sales;
	uint64_t cards;
	uint64_t map_size;
	uint64_t used_bytes;
};
int loy_stats(struct loy_db *db, struct loy_stats *out);
/* Advance a watermark (never backwards: a lower value is ignored). */
int loy_watermark_set(struct loy_db *db, bool events, uint64_t acked_seq);

/*
 * The print queue (docs/storage.md, "print_queue"; loyalty/printq.c):
 * receipts committed with their record (loy_sale.receipt_cb) that have not
 * printed yet, keyed by the record's seq, so oldest first. An entry leaves
 * only through loy_printq_done, which in the same transaction appends the
 * events that count the receipt's coupons as issued.
 */
struct loy_printq_entry {
	uint64_t seq;                 /* the sale or return the receipt is of */
	int64_t time_us;              /* the record's time */
	const void *receipt;          /* the producer's bytes, as given to receipt_cb */
	size_t receipt_len;
};
typedef int (*loy_printq_cb)(void *ctx, const struct loy_printq_entry *e);
/*
 * Every waiting receipt, oldest first, in one read transaction; views valid
 * only during the callback (print nothing from inside it: copy, or use
 * loy_printq_next). PM_OK, PM_ECORRUPT (a damaged entry), or cb's return.
 */
int loy_printq_each(struct loy_db *db, loy_printq_cb cb, void *ctx);
/*
 * The oldest waiting receipt with seq > after_seq, copied: *out's receipt is
 * malloc'd (free it with free()). PM_OK, PM_ENOENT (none), PM_ECORRUPT, PM_ENOMEM.
 */
int loy_printq_next(struct loy_db *db, uint64_t after_seq, struct loy_printq_entry *out);
/* How many receipts wait (*n) and the oldest's seq (*oldest, 0 = none; may be NULL). */
int loy_printq_count(struct loy_db *db, uint64_t *n, uint64_t *oldest);
/*
 * Gives the events of a receipt that printed (its coupons, as
 * LOY_EV_OFFER_ISSUED with their caps entries). Called inside
 * loy_printq_done's write transaction with the entry and its record as the
 * log has it now (sale NULL if the record is gone; an erased card reads "");
 * rules as loy_sale_events_cb. A non-zero return aborts: nothing written.
 */
typedef int (*loy_printed_cb)(void *ctx, const struct loy_printq_entry *e, const struct loy_sale *sale,
			      const struct loy_event_new **events, size_t *n);
/*
 * Receipt seq printed: in ONE durable write transaction, remove its queue
 * entry and append the events cb gives (cb may be NULL: none). If the entry
 * is gone already (another process printed it), nothing is written and
 * *removed (may be NULL) is false, so coupons are counted once. PM_OK,
 * PM_EFULL, PM_EIO, PM_ECORRUPT, or cb's return.
 */
int loy_printq_done(struct loy_db *db, uint64_t seq, loy_printed_cb cb, void *ctx, bool *removed);

/*
 * Damaged logs (docs/storage.md, "Damaged logs"; loyalty/db_check.c).
 * loy_open() checks data.mdb against its meta pages before LMDB maps it and
 * refuses a damaged file with PM_ECORRUPT and "purchase log 'DIR/data.mdb' is
 * damaged: WHAT" (a truncated file, both meta pages bad, a tree page past
 * the end or not what its parent says). One damaged meta page with the other
 * intact is rewritten from the intact one (a warning says so) when no other
 * process has the log open. Damage met later (MDB_CORRUPTED,
 * MDB_PAGE_NOTFOUND) returns PM_ECORRUPT from whatever read it.
 */
/* The way out, for the "hint:" line of any message about a damaged log. */
#define LOY_DAMAGED_HINT "stop posmark, keep a copy of the data directory, and restore it from a " \
	"backup, or run 'posmark log salvage --output NEWDIR' to keep every readable record; " \
	"'posmark log check' says what is damaged (docs/storage.md, \"Damaged logs\")"
struct loy_check_report {
	uint64_t txnid;            /* the snapshot checked */
	uint32_t page_size;
	uint64_t last_page;        /* the newest meta's last used page */
	uint64_t file_pages;       /* whole pages in data.mdb */
	uint64_t pages;            /* tree pages read (including overflow pages) */
	uint64_t entries;          /* leaf entries seen in the page walk */
	uint64_t records;          /* records read back through LMDB and decoded */
	bool meta_repaired;        /* a damaged meta page was rewritten */
};
/*
 * Check a whole log: every page every tree reaches (read with pread, bounds
 * checked, before LMDB maps it), then every record of every database read
 * through LMDB, and the sale and card records decoded. rep gets the figures.
 * Opens and closes the log itself (cfg as for loy_open; NULL = defaults).
 * Returns PM_OK, PM_ENOENT (no log in dir), PM_ECORRUPT with what is damaged
 * in errbuf, or loy_open's errors.
 */
int loy_check(const char *dir, const struct loy_config *cfg, struct loy_check_report *rep,
	      char *errbuf, size_t errlen);
/*
 * The first half of loy_check, without opening the log: every page every
 * tree reaches, read and bounds-checked (loy_open reads only branch pages).
 * For programs that then write for hours (the daemon, the till) so that they
 * refuse a damaged log at start. PM_OK (also for no log yet), PM_ECORRUPT
 * with what is damaged in errbuf, PM_ENOMEM. rep may be NULL.
 */
int loy_check_pages(const char *dir, struct loy_check_report *rep, char *errbuf, size_t errlen);
/*
 * Copy every readable record of the log in dir into a new log in out_dir
 * (created; must not hold a log). The damaged file is read with pread, never
 * mapped: a page that is not what its parent says is skipped with all under
 * it; each record found goes into the same database of the new log, and the
 * per-card index loses the entries whose sale was lost. Other files of dir
 * (coupon.key, rules.json) are not copied here. rep gets the counts.
 * Returns PM_OK, PM_EEXIST (out_dir holds a log), PM_ECORRUPT (no meta page,
 * or the list of databases, is readable: nothing to salvage), PM_EFULL,
 * PM_EIO, PM_ENOMEM; errbuf says what.
 */
struct loy_salvage_report {
	uint64_t txnid;            /* the snapshot read */
	uint64_t entries;          /* records copied, every database */
	uint64_t entries_skipped;  /* records on readable pages that could not be copied */
	uint64_t pages_skipped;    /* damaged pages left out, with everything under them */
	uint64_t index_pruned;     /* card_idx and print_queue entries dropped: their sale was lost */
	uint64_t last_sale_seq;    /* the newest sale in the new log */
	uint64_t sales_acked;      /* its HQ watermark: if above last_sale_seq, the next sales
	                            * would reuse acknowledged numbers and never be uploaded */
};
int loy_salvage(const char *dir, const char *out_dir, struct loy_salvage_report *rep, char *errbuf,
		size_t errlen);
/*
 * What to do when liblmdb meets a page so damaged it asserts (liblmdb then
 * aborts the process when fn returns): fn(dir, LMDB's text) may print a
 * message and _exit. Process-wide; NULL (default) = LMDB's own abort.
 */
typedef void (*loy_damage_fn)(const char *dir, const char *what);
void loy_set_damage_handler(loy_damage_fn fn);
/*
 * For a SIGSEGV/SIGBUS handler (async-signal-safe): if addr lies in the map
 * of an open log (LMDB followed a damaged page there, or a file truncated
 * after it was opened), the line to print ("posmark: purchase log ... is
 * damaged ...\nhint: ...\n") and its length; else NULL (a real bug: let it
 * crash).
 */
const char *loy_fault_in_log(const void *addr, size_t *len);

#endif
