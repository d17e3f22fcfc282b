/*
 * mine_db.c - the transaction store of market-basket mining: an item
 * dictionary (names byte for byte in one arena, open-addressing hash) and
 * the transactions as one array of item ids (CSR). Repeated items of a
 * transaction are dropped on entry with a per-item mark, so the per-item
 * transaction counts FP-growth's first pass needs are ready when reading ends.
 */
#include "mining/mine_int.h"
#include "common/pm_err.h"
#include "common/pm_hash.h"

#include <stdlib.h>
#include <string.h>

int minei_grow(struct mine_db *db, void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap, add;
	void *np;

	if (need <= *cap)
		return PM_OK;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap += ncap / 2 + 16;
	if (ncap > SIZE_MAX / elem)
		return PM_ENOMEM;
	add = (ncap - *cap) * elem;
	if (db->mem_limit && db->mem_used + add > db->mem_limit) {
		db->mem_need = db->mem_used + add;
		return PM_ENOMEM;
	}
	np = realloc(*p, ncap * elem);
	if (!np) {
		db->mem_need = db->mem_used + add;
		return PM_ENOMEM;
	}
	*p = np;
	*cap = ncap;
	db->mem_used += add;
	return PM_OK;
}

int mine_db_new(struct mine_db **out)
{
	struct mine_db *db;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return PM_ENOMEM;
	db->hmask = 1023;
	db->htab = calloc(db->hmask + 1, sizeof(*db->htab));
	db->txn_off = calloc(1, sizeof(*db->txn_off));
	if (!db->htab || !db->txn_off) {
		mine_db_free(db);
		return PM_ENOMEM;
	}
	db->cap_txns = 1;
	db->mem_used = (db->hmask + 1) * sizeof(*db->htab) + sizeof(*db->txn_off);
	*out = db;
	return PM_OK;
}

/* Free what the store holds but its hash table and transaction offsets. */
static void free_arrays(struct mine_db *db)
{
	free(db->name_off);
	free(db->name_len);
	free(db->name_hash);
	free(db->item_count);
	free(db->item_mark);
	free(db->names);
	free(db->int_map);
	free(db->occ);
}

void mine_db_free(struct mine_db *db)
{
	if (!db)
		return;
	free_arrays(db);
	free(db->htab);
	free(db->txn_off);
	free(db);
}

void minei_db_clear(struct mine_db *db)
{
	size_t limit = db->mem_limit;
	uint32_t *htab = db->htab;
	size_t *txn_off = db->txn_off;

	free_arrays(db);
	memset(db, 0, sizeof(*db));
	db->mem_limit = limit;
	db->hmask = 1023;
	db->htab = realloc(htab, (db->hmask + 1) * sizeof(*db->htab));   /* never grows */
	if (!db->htab)
		db->htab = htab;
	memset(db->htab, 0, (db->hmask + 1) * sizeof(*db->htab));
	db->txn_off = txn_off;
	db->txn_off[0] = 0;
	db->cap_txns = 1;
	db->mem_used = (db->hmask + 1) * sizeof(*db->htab) + sizeof(*db->txn_off);
}

void mine_db_set_limit(struct mine_db *db, size_t limit)
{
	db->mem_limit = limit;
}

size_t mine_db_need(const struct mine_db *db)
{
	return db->mem_need;
}

size_t mine_db_mem(const struct mine_db *db)
{
	return db->mem_used;
}

uint32_t mine_db_txns(const struct mine_db *db)
{
	return db->n_txns;
}

uint32_t mine_db_items(const struct mine_db *db)
{
	return db->n_items;
}

const char *mine_item_name(const struct mine_db *db, uint32_t id, size_t *len)
{
	*len = db->name_len[id];
	return db->names + db->name_off[id];
}

/* FNV-1a over the bytes, then a final mix so the low bits spread (the
 * table's slot is h & hmask). */
static inline uint64_t name_hash(const char *s, size_t len)
{
	return pm_mix64(pm_fnv1a64(s, len));
}

static int rehash(struct mine_db *db)
{
	uint32_t nmask = db->hmask * 2 + 1;
	size_t add = (size_t)(nmask + 1) * sizeof(uint32_t);
	uint32_t *nt;

	if (db->mem_limit && db->mem_used + add > db->mem_limit) {
		db->mem_need = db->mem_used + add;
		return PM_ENOMEM;
	}
	nt = calloc((size_t)nmask + 1, sizeof(*nt));
	if (!nt)
		return PM_ENOMEM;
	for (uint32_t id = 0; id < db->n_items; id++) {
		size_t h = db->name_hash[id] & nmask;
		while (nt[h])
			h = (h + 1) & nmask;
		nt[h] = id + 1;
	}
	db->mem_used = db->mem_used + add - (size_t)(db->hmask + 1) * sizeof(uint32_t);
	free(db->htab);
	db->htab = nt;
	db->hmask = nmask;
	return PM_OK;
}

static int new_item(struct mine_db *db, const char *name, size_t len, uint64_t h, uint32_t *id)
{
	int rc;
	size_t cap = db->cap_items;

	if (db->n_items >= UINT32_MAX - 2 || len > UINT32_MAX)
		return PM_EINVAL;
	if (db->n_items == db->cap_items) {
		/* the per-item arrays, grown alike to the same capacity */
		struct { void **p; size_t elem; } const arr[] = {
			{ (void **)&db->name_off, sizeof(*db->name_off) },
			{ (void **)&db->name_len, sizeof(*db->name_len) },
			{ (void **)&db->name_hash, sizeof(*db->name_hash) },
			{ (void **)&db->item_count, sizeof(*db->item_count) },
			{ (void **)&db->item_mark, sizeof(*db->item_mark) },
		};
		size_t c = cap;
		for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) {
			c = cap;
			if ((rc = minei_grow(db, arr[i].p, &c, cap + 1, arr[i].elem)))
				return rc;
		}
		db->cap_items = c;
	}
	if ((rc = minei_grow(db, (void **)&db->names, &db->names_cap, db->names_len + len + 1, 1)))
		return rc;
	memcpy(db->names + db->names_len, name, len);
	db->names[db->names_len + len] = '\0';
	*id = db->n_items++;
	db->name_off[*id] = db->names_len;
	db->name_len[*id] = (uint32_t)len;
	db->name_hash[*id] = h;
	db->item_count[*id] = 0;
	db->item_mark[*id] = 0;
	db->names_len += len + 1;
	return PM_OK;
}

int minei_intern(struct mine_db *db, const char *name, size_t len, uint32_t *id)
{
	uint64_t h = name_hash(name, len);
	size_t slot = h & db->hmask;
	int rc;

	for (;;) {
		uint32_t v = db->htab[slot];
		if (!v)
			break;
		if (db->name_hash[v - 1] == h && db->name_len[v - 1] == len &&
		    !memcmp(db->names + db->name_off[v - 1], name, len)) {
			*id = v - 1;
			return PM_OK;
		}
		slot = (slot + 1) & db->hmask;
	}
	if ((rc = new_item(db, name, len, h, id)))
		return rc;
	db->htab[slot] = *id + 1;
	if ((size_t)db->n_items * 2 > db->hmask)
		return rehash(db);
	return PM_OK;
}

int mine_txn_begin(struct mine_db *db)
{
	if (db->in_txn)
		return PM_EBADSTATE;
	if (db->n_txns >= UINT32_MAX - 2)
		return PM_EINVAL;
	db->in_txn = true;
	return PM_OK;
}

int minei_add_id(struct mine_db *db, uint32_t id)
{
	int rc;

	if (db->item_mark[id] == db->n_txns + 1)
		return PM_OK;            /* repeated item: counts once */
	if (db->n_occ == db->cap_occ &&
	    (rc = minei_grow(db, (void **)&db->occ, &db->cap_occ, db->n_occ + 1, sizeof(uint32_t))))
		return rc;
	db->item_mark[id] = db->n_txns + 1;
	db->item_count[id]++;
	db->occ[db->n_occ++] = id;
	return PM_OK;
}

int mine_txn_item(struct mine_db *db, const char *name, size_t len)
{
	uint32_t id;
	int rc;

	if (!db->in_txn)
		return PM_EBADSTATE;
	if ((rc = minei_intern(db, name, len, &id)))
		return rc;
	return minei_add_id(db, id);
}

int mine_txn_end(struct mine_db *db)
{
	size_t cap = db->cap_txns;
	int rc;

	if (!db->in_txn)
		return PM_EBADSTATE;
	if ((rc = minei_grow(db, (void **)&db->txn_off, &cap, (size_t)db->n_txns + 2, sizeof(size_t))))
		return rc;
	db->cap_txns = cap;
	db->txn_off[++db->n_txns] = db->n_occ;
	db->in_txn = false;
	return PM_OK;
}
