/*
 * mining.h - market-basket mining (mine_*): mining/mine_*.c, docs/mining.md.
 * Depends on libc and common/ only: it reads baskets from memory or per
 * transaction and writes results to a FILE; where the baskets come from (a
 * file at the store, PostgreSQL at HQ) is the caller's business.
 *
 * Frequent itemsets and association rules with the definitions of arules
 * (R) and Weka: support = fraction of transactions; a transaction's repeated
 * items count once; rules X => y have one item on the right and a non-empty
 * left side; the rule's support is that of X u {y}; --max-len counts the
 * items of the whole rule. Supports are integer counts: an itemset is
 * frequent iff count >= min_count, min_count = ceil(S * N) computed exactly
 * from the decimal text of S (mine_min_count), never in floating point.
 *
 * Usual calling pattern:
 *     struct mine_db *db;
 *     mine_db_new(&db);
 *     mine_read(db, buf, len, MINE_BASKET, NULL, NULL, err, sizeof(err));
 *     (or per transaction: mine_txn_begin, mine_txn_item..., mine_txn_end)
 *     mine_min_count("0.001", mine_db_txns(db), &params.min_count);
 *     mine_run(db, &params, &res, &need);
 *     mine_write_text(res, stdout);
 *     mine_result_free(res); mine_db_free(db);
 * Item names are kept byte for byte (no trimming). Items are identified by
 * a dense id (0..mine_db_items()-1) in order of first appearance.
 *
 * Errors: functions return PM_OK or a negative pm_err (common/pm_err.h),
 * listed above each. PM_ENOMEM also means "over the memory limit"
 * (mine_db_set_limit, mine_params.mem_limit): mine_db_need() or *need then
 * says how many bytes the step wanted, so a caller can say what to raise.
 *
 * Threads: a db or result is used by one thread at a time; different ones
 * may be used on different threads at once (the writers included: their
 * sort state is per thread). mine_run and mine_read start worker threads of
 * their own for large inputs and join them before returning.
 *
 * Lifetimes: the caller frees what mine_db_new and mine_run gave it
 * (mine_db_free, mine_result_free; both accept NULL). A result refers to its
 * db: free the result first, and do not add to the db while it lives. A
 * name from mine_item_name is valid until an item is next added to the db
 * (the name arena may move) or the db is freed.
 *
 * Depends on common/ and libc only; this is mining/'s one public header
 * (mining/mine_int.h is private to mining/ and its tests).
 */
#ifndef MINING_H
#define MINING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct mine_db;       /* transactions with interned item names */
struct mine_result;   /* frequent itemsets and rules of one run */

enum mine_format { MINE_BASKET = 0, MINE_FIMI = 1 };

/* What a progress callback sees (phase: "reading", "mining", "rules"). */
struct mine_progress {
	const char *phase;
	uint64_t transactions;    /* read so far */
	uint64_t items;           /* distinct items so far */
	uint64_t itemsets;        /* frequent itemsets found so far */
	uint64_t rules;           /* rules found so far */
};
typedef void (*mine_progress_fn)(void *ctx, const struct mine_progress *p);

struct mine_params {
	uint32_t min_count;       /* minimum support count, >= 1 (mine_min_count) */
	double min_confidence;    /* rules: confidence >= this, in (0, 1] */
	double min_lift;          /* rules: lift >= this; 0 = no filter */
	unsigned max_len;         /* items per itemset / whole rule, 1..MINE_MAX_LEN */
	bool no_rules;            /* itemsets only */
	size_t mem_limit;         /* bytes the run may hold; 0 = no limit */
	mine_progress_fn progress;  /* may be NULL; called every so often */
	void *progress_ctx;
};
#define MINE_MAX_LEN 64

/* New empty store; *out NULL on failure. Returns PM_OK or PM_ENOMEM. */
int mine_db_new(struct mine_db **out);
void mine_db_free(struct mine_db *db);   /* NULL-safe */
/* Refuse to grow past limit bytes (0 = none): PM_ENOMEM, mine_db_need() says how much. */
void mine_db_set_limit(struct mine_db *db, size_t limit);
/* After PM_ENOMEM from the store or a run: bytes the failed step needed in all. */
size_t mine_db_need(const struct mine_db *db);
size_t mine_db_mem(const struct mine_db *db);   /* bytes held now */

/*
 * Build one transaction: begin, any number of items (repeats count once),
 * end. A transaction without items still counts in N. Names are copied.
 * Returns PM_OK, PM_ENOMEM (limit or malloc), PM_EBADSTATE (nesting),
 * PM_EINVAL (more than 2^32-2 items or transactions).
 */
int mine_txn_begin(struct mine_db *db);
int mine_txn_item(struct mine_db *db, const char *name, size_t len);
int mine_txn_end(struct mine_db *db);

uint32_t mine_db_txns(const struct mine_db *db);
uint32_t mine_db_items(const struct mine_db *db);
/* Name of item id (< mine_db_items; followed by a NUL, but names may hold
 * NULs: use *len), valid as said above. */
const char *mine_item_name(const struct mine_db *db, uint32_t id, size_t *len);

/*
 * Parse a whole input (buf, len) and add its transactions. basket: one
 * transaction per line, items separated by commas, a field may be quoted
 * ("a, b" and "" for a quote), a trailing CR is dropped, unquoted empty
 * fields are ignored. fimi: integer items separated by spaces or tabs.
 * An empty line, a NUL byte (not a text file), a bad quote or a non-integer
 * FIMI item is PM_EINVAL with "line N: ..." in err. PM_ENOMEM as above.
 */
int mine_read(struct mine_db *db, const char *buf, size_t len, enum mine_format fmt,
		  mine_progress_fn progress, void *progress_ctx, char *err, size_t errlen);

/*
 * Minimum support count for support text S ("0.001", "1e-3", "1") and n
 * transactions: ceil(S * n) in exact decimal arithmetic, at least 1.
 * Returns PM_OK or PM_EINVAL (not a number, or S outside (0, 1]).
 */
int mine_min_count(const char *support, uint64_t n, uint32_t *out);

/*
 * Mine frequent itemsets (FP-growth) and, unless p->no_rules, the rules.
 * db must not change while *out lives. *need (may be NULL) gets the bytes
 * the run would need when it returns PM_ENOMEM because of p->mem_limit.
 * Returns PM_OK, PM_EINVAL (bad params), PM_ENOMEM.
 */
int mine_run(const struct mine_db *db, const struct mine_params *p,
		 struct mine_result **out, size_t *need);
void mine_result_free(struct mine_result *res);   /* NULL-safe */

size_t mine_n_itemsets(const struct mine_result *res);
size_t mine_n_rules(const struct mine_result *res);
/* Itemset i: item ids into ids (room for MINE_MAX_LEN), *len, *count. */
void mine_itemset(const struct mine_result *res, size_t i, uint32_t *ids, unsigned *len,
		      uint32_t *count);
struct mine_rule {
	uint32_t lhs[MINE_MAX_LEN]; /* left item ids (lhs_len of them) */
	unsigned lhs_len;
	uint32_t rhs;             /* right item id */
	uint32_t count;           /* transactions with left and right side */
	uint32_t lhs_count;       /* transactions with the left side */
	uint32_t rhs_count;       /* transactions with the right item */
	double support, confidence, lift;
};
void mine_rule_get(const struct mine_result *res, size_t i, struct mine_rule *out);

/*
 * Writers (docs/mining.md): text = one rule per line
 * "lhs1,lhs2 => rhs\tsupport\tconfidence\tlift", 6 decimals, left items and
 * lines sorted bytewise; itemsets = "item1,item2\tsupport\tcount" sorted;
 * rules = the posmark-rules v1 JSON rule set for the offers engine (only
 * rules whose items are all GTINs; *skipped gets how many were left out).
 * Returns PM_OK, PM_EIO (write failed), PM_ENOMEM.
 */
int mine_write_text(const struct mine_result *res, FILE *f);
int mine_write_itemsets(const struct mine_result *res, FILE *f);
int mine_write_ruleset(const struct mine_result *res, FILE *f, size_t *written,
			   size_t *skipped);

/*
 * Sequential co-occurrence for explore offers (mine_seq.c, docs/mining.md
 * "Explore"): sales with a customer and a time; which items customers went
 * on to buy for the first time on the visit after one holding item A.
 * mine_seq_add ignores sales without a customer or items. Returns PM_OK,
 * PM_ENOMEM (limit or malloc), PM_EINVAL as mine_txn_*.
 */
struct mine_seq;
int mine_seq_new(struct mine_seq **out);
void mine_seq_free(struct mine_seq *s);                    /* NULL-safe */
void mine_seq_set_limit(struct mine_seq *s, size_t limit); /* bytes, 0 = none */
int mine_seq_add(struct mine_seq *s, const char *customer, int64_t time_us, const char *const *items,
		 size_t n);
uint32_t mine_seq_sales(const struct mine_seq *s);
uint32_t mine_seq_customers(const struct mine_seq *s);
/* An item's name (as mine_item_name). */
const char *mine_seq_item(const struct mine_seq *s, uint32_t id, size_t *len);

#define MINE_SEQ_NONE UINT32_MAX
struct mine_seq_params {
	uint32_t min_customers;   /* a step A -> B made by at least this many customers */
	double min_lift;          /* confidence / B's adoption rate, at least this */
	unsigned per_item;        /* the best N rules per A (0 = all) */
	unsigned popular;         /* back-fill: the N items adopted most often */
};
struct mine_seq_rule {
	uint32_t from;            /* A's item id; MINE_SEQ_NONE for a back-fill (popular) rule;
				     from == to: A's repeat rate (confidence), lift 0 */
	uint32_t to;              /* B's item id */
	uint32_t customers;       /* distinct customers who made the step */
	uint32_t count;           /* steps A -> B (back-fill: adoptions of B) */
	uint32_t from_count;      /* steps from a visit holding A (back-fill: all steps) */
	double confidence, lift;
};
/*
 * The explore rules, sorted by A then confidence (best first), then the
 * repeat rates (from == to), then the back-fill rules by adoptions; *out is malloc'd (caller frees), *steps the
 * number of steps counted, *novelty the share of the later visits' items new to their customer. Returns PM_OK or PM_ENOMEM (limit: mine_db_need
 * is not available here; the caller reports the limit).
 */
int mine_seq_run(const struct mine_seq *s, const struct mine_seq_params *p, struct mine_seq_rule **out,
		 size_t *n, uint64_t *steps, double *novelty);

/*
 * The rule set for a store's whole flow (docs/mining.md, "Rule sets for a
 * store"): the basket rules (res may be NULL), the explore rules and
 * back-fill (seq/v may be NULL), and a personal campaign with
 * half_life_days. *written counts every rule written.
 */
struct mine_store_params {
	int personal_half_life_days;  /* 0 = no personal campaign */
	int personal_percent, explore_percent, cross_sell_percent;
	int holdout_pct;
	int max_repeats;
	double explore_weight;        /* limits.explore_weight (0 = explore ranks by priority) */
	double explore_novelty;       /* limits.explore_novelty: the store's share of new items per visit */
	int cross_sell_weight_pct;    /* basket rules' priority = confidence x 1000 x this / 100 */
};
int mine_write_store_ruleset(const struct mine_result *res, const struct mine_seq *seq,
			     const struct mine_seq_rule *v, size_t n, const struct mine_store_params *sp,
			     FILE *f, size_t *written, size_t *skipped);

#endif
