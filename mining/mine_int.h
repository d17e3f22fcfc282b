/*
 * mine_int.h - PRIVATE to mining/: the internals shared by mining/mine_*.c.
 * Other modules use mining/mining.h only; tests/unit/test_mine.c (and
 * mining's fuzz targets) may include this header. Provided by:
 *  mine_db.c     the transaction store: item dictionary, baskets (CSR), counts
 *  mine_read.c   basket CSV and FIMI readers
 *  mine_fpg.c    FP-growth over a compact prefix tree -> frequent itemsets
 *  mine_mask.c   128-bit transaction masks for the first tree (few items)
 *  mine_rules.c  itemset store with lookup, rule generation, min count
 *  mine_out.c    text / itemsets / JSON rule-set writers (GTINs by common/pm_gs1)
 */
#ifndef MINE_INT_H
#define MINE_INT_H

#include "mining/mining.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINE_NONE UINT32_MAX

struct mine_db {
	/* item dictionary: names in one arena, open-addressing hash of ids */
	uint32_t n_items;
	size_t cap_items;
	size_t *name_off;        /* per item: offset of its name in names */
	uint32_t *name_len;      /* per item: bytes of its name */
	uint64_t *name_hash;     /* per item: hash of its name (for rehash) */
	uint32_t *item_count;    /* per item: transactions containing it */
	uint32_t *item_mark;     /* per item: 1 + last transaction that had it (dedupe) */
	char *names;
	size_t names_len, names_cap;
	uint32_t *htab;          /* id + 1, 0 = empty */
	uint32_t hmask;          /* table size - 1 (power of two) */
	uint32_t *int_map;       /* FIMI fast path: integer item -> id + 1 */
	uint32_t int_map_cap;
	/* transactions: occ[txn_off[t] .. txn_off[t+1]) are item ids, no repeats */
	uint32_t *occ;
	size_t n_occ, cap_occ;
	size_t *txn_off;         /* n_txns + 1 entries while building */
	uint32_t n_txns;
	size_t cap_txns;
	bool in_txn;
	size_t mem_used;         /* bytes held by the arrays above */
	size_t mem_limit;        /* 0 = none */
	size_t mem_need;         /* on PM_ENOMEM: bytes the failed step wanted in all */
};

/* Grow *p (holding *cap elements of size elem) to at least need elements,
 * accounting in db->mem_used against db->mem_limit. */
int minei_grow(struct mine_db *db, void **p, size_t *cap, size_t need, size_t elem);
/* Intern an item by name without opening a transaction; *id out. */
int minei_intern(struct mine_db *db, const char *name, size_t len, uint32_t *id);
/* Back to an empty store (the memory limit kept). */
void minei_db_clear(struct mine_db *db);
/* Inputs of at least this many bytes are parsed by two threads (mine_read.c;
 * tests lower it). */
extern size_t minei_par_min_bytes;
/* Add an already interned item to the open transaction (duplicates ignored). */
int minei_add_id(struct mine_db *db, uint32_t id);

/* An itemset store: itemsets as sorted rank arrays, with exact-match lookup. */
struct minei_sets {
	uint32_t *data;          /* per set: len, count, ranks ascending */
	size_t data_len, data_cap;
	size_t *off;             /* per set: offset in data */
	size_t n, cap;
	uint32_t *htab;          /* set index + 1, 0 = empty */
	size_t hmask;
};

struct minei_rule {
	uint32_t set;            /* index of the whole rule's itemset */
	uint32_t rhs_pos;        /* position of the right item in that set */
	uint32_t lhs_count;      /* transactions containing the left side */
};

struct mine_result {
	const struct mine_db *db;
	uint32_t n_txns;
	uint32_t min_count;
	uint32_t n_ranks;        /* frequent single items */
	uint32_t *rank_item;     /* rank -> db item id (rank 0 = most frequent) */
	uint32_t *rank_count;    /* rank -> transactions containing it */
	struct minei_sets sets;
	struct minei_rule *rules;
	size_t n_rules, cap_rules;
	size_t mem_used;
};

int minei_sets_add(struct minei_sets *s, const uint32_t *ranks, uint32_t len, uint32_t count,
		   size_t *mem_used);
/* Index of the set equal to ranks[0..len), or -1. */
long minei_sets_find(const struct minei_sets *s, const uint32_t *ranks, uint32_t len);
int minei_sets_index(struct minei_sets *s, size_t *mem_used);
void minei_sets_release(struct minei_sets *s);

/* Path sets at least this large get a counting-sort pass on their first
 * item before the quicksort (tests lower it to cover both ways). */
extern size_t minei_radix_min;
/* The first tree takes its paths from 128-bit masks when there are at most
 * this many frequent items (and at most 128; tests set 0 for the list way). */
extern size_t minei_mask_items;
/* Masks of at least this many transactions are made by two threads. */
extern size_t minei_par_min_txns;

/* A transaction's frequent ranks (< 128): rank r at bit 127 - r of (hi, lo). */
struct minei_mask {
	uint64_t hi, lo;
};

/* The non-empty masks of every transaction, sorted as 128-bit numbers
 * (mine_mask.c); *out (malloc'ed, n_txns + 1 entries) holds *n of them. */
int minei_masks_sorted(const struct mine_db *db, const uint32_t *rank_of, struct minei_mask **out,
		       size_t *n);
/* FP-growth: fill res->sets with every frequent itemset of <= max_len items. */
int minei_fpgrowth(struct mine_result *res, const struct mine_params *p, size_t *need);

/* "%.6f" of v into out (NUL-terminated), its length; printf's text, faster. */
size_t minei_fmt6(double v, char out[64]);


#endif
