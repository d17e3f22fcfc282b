/*
 * loy_int.h - internals of loyalty/, shared by its files.
 * db.c: environment, write-transaction driver with map growth, meta keys.
 * codec.c: the v1 byte layouts of sale, card, product and event records.
 * sale.c, card.c, catalog.c: the public operations.
 * outbox.c: events for HQ and the offer caps state beside them.
 */
#ifndef LOY_INT_H
#define LOY_INT_H

#include "loyalty/loyalty.h"

#include <lmdb.h>
#include <pthread.h>

#define LOY_FORMAT_VERSION 1
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
	/* Scratch for decoded sales handed to callbacks. */
	struct loy_item *items;
	size_t items_cap;
	struct loy_redemption *redeemed;
	size_t redeemed_cap;
	/* A deferred group's commit record is not synced yet (committer thread only). */
	bool deferred_unsynced;
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

/* Sale record v1. Encoded size for a sale; encode into buf of that size. */
size_t loyi_sale_size(const struct loy_sale *s);
void loyi_sale_encode(const struct loy_sale *s, unsigned char *buf);
/* Decode into *s, items/redeemed in db scratch (valid until the next decode). */
int loyi_sale_decode(struct loy_db *db, const void *buf, size_t len, struct loy_sale *s);

#define LOYI_CARD_LEN 56
void loyi_card_encode(const struct loy_card *c, unsigned char out[LOYI_CARD_LEN]);
int loyi_card_decode(const void *buf, size_t len, const char *number, struct loy_card *c);

size_t loyi_product_encode(const struct loy_product *p, unsigned char *buf, size_t cap);
int loyi_product_decode(const void *buf, size_t len, const char *gtin, struct loy_product *p);

/* Tier for a window spend. */
int loyi_tier_for(const struct loy_config *cfg, int64_t window_spend);
int64_t loyi_points_for(const struct loy_config *cfg, int tier, int64_t total_cents);
/* Append one event (outbox.c); keeps the offer caps state current (docs/storage.md). */
int loyi_event_put(struct loy_db *db, MDB_txn *txn, const struct loy_event_new *ev, uint64_t *seq_out);
/* Drop the card's (campaign, rule, card) caps entries (an erasure); counts stay. */
int loyi_caps_forget_card(struct loy_db *db, MDB_txn *txn, const char *card);

#endif
