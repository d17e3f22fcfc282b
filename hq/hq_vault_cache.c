/*
 * hq_vault_cache.c - each database connection's cache of the vault's refs (hq_vault.h,
 * hqv_refs_for_cached; docs/hq.md, "Ingest"): keyed lookup -> ref of cards
 * already in the vault, so a batch of known cards asks the database only for
 * the cards it has not seen.
 *
 * It is right only while the vault is as it was when the cache learned:
 * every entry belongs to one connection, one key epoch and one generation of
 * the vault (vault_meta.generation, moved by migration 9's trigger by every
 * statement that deletes or updates vault rows: erasure, rotation). The
 * generation is read in the same statement as the refs of the cards not in
 * the cache; a different one empties the cache and the batch asks again, so
 * an erased card's ref never comes back from it. What a transaction learned
 * enters the cache only after it committed (hqv_cache_commit): a ref made by
 * a batch that was then rolled back has no vault row.
 *
 * One cache per connection of serve's pool (MHD runs a thread per HTTP
 * connection; a pool connection is held by one thread at a time, and so is
 * its cache: the pool's mutex orders the hand-over). Bounded: a
 * direct-mapped table of POSMARK_HQ_VAULT_CACHE entries (default 65536,
 * about 4 MB a connection; 0 turns it off), indexed by the lookup's first
 * bytes (a keyed hash: uniform); a new entry replaces the one in its slot.
 * At most MAX_CONNS caches (a connection past them goes without); a cache
 * whose connection was replaced at the same address (another backend) is
 * emptied and reused. Caches hold no card number.
 */
#include "hq/hq_vault.h"
#include "common/pm_err.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	unsigned char lookup[HQV_LOOKUP_LEN];
	char ref[HQV_REF_LEN + 1];
};

struct vcache {
	PGconn *conn;                 /* the connection it belongs to (NULL: empty) */
	int pid;                      /* and its backend (a new connection may reuse the address) */
	int epoch;
	int64_t gen;
	size_t mask;                  /* slots - 1 */
	struct slot *slot;
	struct slot *pend;            /* learned by the open transaction */
	size_t n_pend, cap_pend;
};

#define MAX_CONNS 64
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vcache *g_all[MAX_CONNS];
static int g_n;
static size_t g_slots = (size_t)-1;

static size_t slots_wanted(void)
{
	pthread_mutex_lock(&g_mu);
	if (g_slots == (size_t)-1) {
		const char *e = getenv("POSMARK_HQ_VAULT_CACHE");
		long v = e && *e ? strtol(e, NULL, 10) : 65536;
		size_t p = 0;
		if (v > 0)
			for (p = 1024; p < (size_t)v && p < ((size_t)1 << 24); p <<= 1)
				;
		g_slots = p;
	}
	size_t s = g_slots;
	pthread_mutex_unlock(&g_mu);
	return s;
}

bool hqv_cache_on(void)
{
	return slots_wanted() > 0;
}

/* The cache of connection c, made at its first use; NULL when off, full or out of memory
 * (then no cache). */
static struct vcache *of(PGconn *c)
{
	struct vcache *vc = NULL;
	size_t n = slots_wanted();
	if (!n)
		return NULL;
	pthread_mutex_lock(&g_mu);
	for (int i = 0; i < g_n && !vc; i++)
		if (g_all[i]->conn == c)
			vc = g_all[i];
	if (!vc && g_n < MAX_CONNS && (vc = calloc(1, sizeof(*vc)))) {
		if ((vc->slot = calloc(n, sizeof(*vc->slot)))) {
			vc->mask = n - 1;
			vc->conn = c;
			vc->pid = -1; /* empty: reset before the first entry */
			g_all[g_n++] = vc;
		} else {
			free(vc);
			vc = NULL;
		}
	}
	pthread_mutex_unlock(&g_mu);
	return vc;
}

static bool same_conn(const struct vcache *vc, PGconn *c)
{
	return vc->conn == c && vc->pid == PQbackendPID(c);
}

static struct slot *slot_of(struct vcache *vc, const unsigned char *lookup)
{
	uint64_t h = 0;
	memcpy(&h, lookup, sizeof(h));
	return &vc->slot[h & vc->mask];
}

bool hqv_cache_get(PGconn *c, int epoch, struct hqv_card *k)
{
	struct vcache *vc = of(c);
	if (!vc || !same_conn(vc, c) || vc->epoch != epoch)
		return false;
	struct slot *s = slot_of(vc, k->lookup);
	if (!s->ref[0] || memcmp(s->lookup, k->lookup, HQV_LOOKUP_LEN))
		return false;
	memcpy(k->ref, s->ref, sizeof(k->ref));
	return true;
}

bool hqv_cache_current(PGconn *c, int epoch, int64_t gen)
{
	struct vcache *vc = of(c);
	return vc && same_conn(vc, c) && vc->epoch == epoch && vc->gen == gen;
}

void hqv_cache_reset(PGconn *c, int epoch, int64_t gen)
{
	struct vcache *vc = of(c);
	if (!vc)
		return;
	sodium_memzero(vc->slot, (vc->mask + 1) * sizeof(*vc->slot));
	vc->n_pend = 0;
	vc->conn = c;
	vc->pid = PQbackendPID(c);
	vc->epoch = epoch;
	vc->gen = gen;
}

void hqv_cache_note(PGconn *c, const struct hqv_card *k)
{
	struct vcache *vc = of(c);
	if (!vc || !same_conn(vc, c))
		return;
	if (vc->n_pend == vc->cap_pend) {
		size_t cap = vc->cap_pend ? 2 * vc->cap_pend : 1024;
		struct slot *p = realloc(vc->pend, cap * sizeof(*p));
		if (!p)
			return; /* not cached: asked for again next time */
		vc->pend = p;
		vc->cap_pend = cap;
	}
	struct slot *s = &vc->pend[vc->n_pend++];
	memcpy(s->lookup, k->lookup, HQV_LOOKUP_LEN);
	memcpy(s->ref, k->ref, sizeof(s->ref));
}

void hqv_cache_commit(PGconn *c)
{
	struct vcache *vc = of(c);
	if (!vc)
		return;
	if (same_conn(vc, c))
		for (size_t i = 0; i < vc->n_pend; i++)
			*slot_of(vc, vc->pend[i].lookup) = vc->pend[i];
	vc->n_pend = 0;
}

void hqv_cache_discard(PGconn *c)
{
	struct vcache *vc = of(c);
	if (vc)
		vc->n_pend = 0;
}
