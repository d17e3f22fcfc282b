/*
 * loy_int.h - internals of loyalty/, shared by its files.
 * db.c: environment, write-transaction driver with map growth, meta keys.
 * codec.c: the byte layouts of sale (v2), card (v2), product and event (v1)
 *   records and of the `returned` bookkeeping.
 * sale.c, card.c, catalog.c: the public operations.
 * account.c: the chain account: ledger entries of a record, HQ's account
 *   states (loy_accounts_apply), the card's pending part, the spending policy.
 * return.c: returns (the basis of a return, its refund and clawback, the
 *   per-original-sale bookkeeping) and the reads net of returns.
 * outbox.c: events for HQ and the offer caps state beside them.
 * printq.c: the print queue (receipts waiting for the printer).
 */
#ifndef LOY_INT_H
#define LOY_INT_H

#include "loyalty/loyalty.h"

#include <lmdb.h>
#include <pthread.h>

/* The log's format (meta "format"): 2 since the chain account (sale and card
 * records v2, tables `returned` and `bought`). A v1 log is upgraded in place
 * at open: its v1 records stay and read with zeros in the new fields. */
#define LOY_FORMAT_VERSION 2
/* Record versions (first byte of each record). */
#define LOYI_REC_V1 1              /* product, event, returned, and sale/card v1 */
#define LOYI_SALE_V2 2
#define LOYI_CARD_V2 2
#define LOY_MAGIC "posmark-purchase-log"
/* Returned by a transaction body when LMDB said MDB_MAP_FULL: grow and redo. */
#define LOYI_GROW 1000

struct loy_db {
	MDB_env *env;
	char dir[4096];
	struct loy_config cfg;
	uint64_t map_size;
	/* Held shared by every read AND write transaction of this process, and
	 * exclusively to resize the map: LMDB forbids mdb_env_set_mapsize while
	 * the process has any transaction, and the daemon writes from two threads
	 * (its event loop and its commit thread). */
	pthread_rwlock_t resize_lock;
	MDB_dbi meta, sales, card_idx, cards, ext_ids, coupons, catalog, events, offer_caps;
	MDB_dbi returned, bought;
	MDB_dbi print_queue;          /* receipts waiting to print (printq.c) */
	/* Scratch for decoded sales handed to readers' callbacks (one reading
	 * thread at a time). Write transactions decode into scratch of their own. */
	struct loyi_scratch {
		struct loy_item *items;
		size_t items_cap;
		struct loy_redemption *redeemed;
		size_t redeemed_cap;
	} scratch;
	/* A deferred group's commit record is not synced yet (committer thread only). */
	bool deferred_unsynced;
	/* lock.mdb opened by a compaction (compact.c); its fcntl lock is the
	 * process's, so it stays open until loy_close. 0 = none (fd + 1). */
	int compact_lfd_plus1;
};

/* Translate an LMDB/errno code to pm_err (MDB_MAP_FULL -> LOYI_GROW). */
int loyi_mdb_err(int rc);
/* Run body in a write transaction, growing the map and retrying on MAP_FULL. */
int loyi_write(struct loy_db *db, int (*body)(struct loy_db *, MDB_txn *, void *), void *arg);
/* The same; with defer, the commit record is left unsynced (cfg.defer_meta_sync).
 * *committed (may be NULL) says whether a transaction reached the disk. */
int loyi_write_ex(struct loy_db *db, int (*body)(struct loy_db *, MDB_txn *, void *), void *arg,
		  bool defer, bool *committed);
int loyi_read_begin(struct loy_db *db, MDB_txn **txn);
/*
 * Walk a seq-keyed table (sales, events) from after_seq + 1, at most max
 * records (0 = all): each(db, seq, value, ctx); a non-zero return stops the
 * walk and is returned as is.
 */
int loyi_walk_after(struct loy_db *db, MDB_dbi dbi, uint64_t after_seq, size_t max,
		    int (*each)(struct loy_db *, uint64_t, const MDB_val *, void *), void *ctx);
void loyi_read_end(struct loy_db *db, MDB_txn *txn);
int loyi_meta_get_u64(struct loy_db *db, MDB_txn *txn, const char *key, uint64_t *out);
/* The newest sale's seq: the last key of `sales` (sales are never deleted). */
int loyi_last_sale_seq(struct loy_db *db, MDB_txn *txn, uint64_t *out);
int loyi_meta_put_u64(struct loy_db *db, MDB_txn *txn, const char *key, uint64_t v);

/* Per-card index entry (DUPFIXED value): big-endian so memcmp orders by seq. */
#define LOYI_IDX_LEN 24
void loyi_idx_encode(unsigned char out[LOYI_IDX_LEN], uint64_t seq, int64_t time_us, int64_t total);
void loyi_idx_decode(const unsigned char in[LOYI_IDX_LEN], uint64_t *seq, int64_t *time_us, int64_t *total);

/* Sale record (writes v2; reads v1 and v2). Encoded size; encode into buf of that size. */
size_t loyi_sale_size(const struct loy_sale *s);
void loyi_sale_encode(const struct loy_sale *s, unsigned char *buf);
/* Decode into *s, items/redeemed in sc (valid until its next decode). */
int loyi_sale_decode_sc(struct loyi_scratch *sc, const void *buf, size_t len, struct loy_sale *s);
/* The same in the handle's reader scratch. */
int loyi_sale_decode(struct loy_db *db, const void *buf, size_t len, struct loy_sale *s);
void loyi_scratch_free(struct loyi_scratch *sc);

/*
 * The card record as the log keeps it (v2; v1 reads with no HQ state and its
 * points as pending). pub.points is derived: hq_points + pub.pending_points.
 */
struct loyi_card {
	struct loy_card pub;          /* pub.last_visit_us: visits at this terminal only */
	int64_t hq_points;            /* HQ's balance in the state held (0 without one) */
	int hq_tier;
	uint64_t included_sale_seq;   /* this terminal's entries HQ's state includes */
	int64_t hq_window_spend_cents;
	int64_t hq_last_visit_us;
};
#define LOYI_CARD_V1_LEN 56
#define LOYI_CARD_LEN 112
void loyi_card_encode(const struct loyi_card *c, unsigned char out[LOYI_CARD_LEN]);
int loyi_card_decode(const void *buf, size_t len, const char *number, struct loyi_card *c);
/* Read a card in txn: PM_OK, PM_ENOENT (c zeroed, number set), or an error. */
int loyi_card_read(struct loy_db *db, MDB_txn *txn, const char *card, struct loyi_card *c);
int loyi_card_write(struct loy_db *db, MDB_txn *txn, const struct loyi_card *c);
/* The public view of a stored card (points, last visit, spending fields). */
void loyi_card_public(const struct loyi_card *c, struct loy_card *out);

size_t loyi_product_encode(const struct loy_product *p, unsigned char *buf, size_t cap);
int loyi_product_decode(const void *buf, size_t len, const char *gtin, struct loy_product *p);

/*
 * Window spend of a card at now: HQ's window spend (with a state) plus the
 * card's records here that HQ's state does not include (all of them without
 * a state), newest backwards until the window's start. Returns net of returns.
 */
int loyi_window_spend(struct loy_db *db, MDB_txn *txn, const struct loyi_card *c, int64_t now,
		      int64_t *out);
/* Sum of the ledger entries and of the points spent of the card's records with seq > after. */
int loyi_pending_since(struct loy_db *db, MDB_txn *txn, struct loyi_scratch *sc, const char *card,
		       uint64_t after, int64_t *points, int64_t *spent);
/* Sum of a record's ledger entries. */
int64_t loyi_ledger_sum(const struct loy_sale *s);
/* A return inside the commit's transaction (return.c): checks, amounts, bookkeeping.
 * Called by sale.c's commit with s->seq assigned; fills s (card, amounts, items). */
struct loyi_return_work;
int loyi_return_prepare(struct loy_db *db, MDB_txn *txn, struct loy_sale *s, struct loyi_return_work **w,
			struct loy_commit_result *res);
int loyi_return_record(struct loy_db *db, MDB_txn *txn, const struct loy_sale *s, struct loyi_return_work *w);
void loyi_return_work_free(struct loyi_return_work *w);
/* What an erasure queues for HQ, and what becomes of the card's consent events HQ has not
 * acknowledged (an upload is a contiguous run of seqs, so those cannot just go). */
struct loyi_erasure {
	const void *payload;          /* the erasure event for HQ (NULL = none) */
	size_t len;
	bool from_hq;                 /* HQ's own: nothing queued; unacknowledged consent events wait
	                               * for HQ's ack (clear_erasure_seq). Else with a payload they
	                               * become erasure events with it; without (no HQ) they go. */
};
/*
 * Erase a card in txn (card.c, docs/privacy.md "At the store"): every live
 * record that holds the number is deleted or rewritten without it (or waits
 * for HQ's acknowledgement, above), and the log is marked for compaction.
 * PM_ENOENT when nothing was known.
 */
int loyi_card_erase_txn(struct loy_db *db, MDB_txn *txn, const char *card, const struct loyi_erasure *how,
			int64_t now, uint64_t *unlinked);
/* Meta key (u64 1): an erasure left the card's old bytes in free pages; compact.c clears it
 * by rewriting the log. Never copied into the rewritten log. */
#define LOYI_COMPACT_PENDING "compact_pending"
/* Meta key (u64): the newest event that keeps an erased card's number in the clear until HQ
 * acknowledges it (an erasure queued without a key, a consent event of a card HQ erased); then
 * loy_events_forget_clear_erasures deletes them all. 0 = none. */
#define LOYI_CLEAR_ERASURE_SEQ "clear_erasure_seq"
/* Scrub the outbox of a card (outbox.c): its consent events HQ acknowledged are deleted, the
 * others treated as `how` says (*wait_seq: the newest left to wait for HQ's ack, 0 = none);
 * every JSON string equal to the number in an offer payload becomes "". *scrubbed counts the
 * events changed. */
int loyi_events_scrub_card(struct loy_db *db, MDB_txn *txn, const char *card, const struct loyi_erasure *how,
			   uint64_t *scrubbed, uint64_t *wait_seq);
/* compact.c needs to reopen the environment in the same handle (db.c). */
int loyi_open_dbis(struct loy_db *db, MDB_txn *txn, char *errbuf, size_t errlen);

/* Tier for a window spend. */
int loyi_tier_for(const struct loy_config *cfg, int64_t window_spend);
int64_t loyi_points_for(const struct loy_config *cfg, int tier, int64_t total_cents);
/* Append one event (outbox.c); keeps the offer caps state current (docs/storage.md). */
int loyi_event_put(struct loy_db *db, MDB_txn *txn, const struct loy_event_new *ev, uint64_t *seq_out);
/* Queue the receipt of s (its receipt_cb) in txn (printq.c): the commit's last step. */
int loyi_printq_put(struct loy_db *db, MDB_txn *txn, const struct loy_sale *s, const struct loy_commit_result *res);
/* A print_queue entry record v1 of key seq as a view into buf. PM_OK or PM_ECORRUPT. */
int loyi_printq_decode(uint64_t seq, const void *buf, size_t len, struct loy_printq_entry *e);
/* Drop the card's (campaign, rule, card) caps entries (an erasure); counts stay. */
int loyi_caps_forget_card(struct loy_db *db, MDB_txn *txn, const char *card);

/* Little-endian n-byte integers of the record formats (codec.c; docs/storage.md). */
void loyi_put_le(unsigned char *p, uint64_t v, int n);
uint64_t loyi_get_le(const unsigned char *p, int n);

#endif
