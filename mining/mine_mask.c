/*
 * mine_mask.c - the first FP-tree's paths when few items are frequent.
 *
 * With at most 128 frequent items (as at high supports), a transaction's
 * frequent items are a 128-bit mask, rank r at bit 127 - r counted from the
 * top of (hi, lo). No per-transaction sort, and repeats vanish. The masks
 * are sorted as numbers by an MSD radix sort on inline keys (no pointer
 * chasing). Numeric order is not the lexicographic order of the rank
 * lists, but it is what the tree build needs: the masks sharing a prefix of
 * ranks p1 < ... < pk agree on every bit down to pk's, so they are
 * contiguous, and each path shares exactly its longest common prefix with
 * the one before.
 *
 * Many transactions: two threads each make and sort the masks of one half,
 * then the halves are merged (the second core is otherwise idle, and wall
 * time is what an analyst waits for).
 */
#include "mining/mine_int.h"
#include "common/pm_err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

size_t minei_mask_items = 128;
size_t minei_par_min_txns = 65536;

static inline unsigned mask_byte(const struct minei_mask *m, unsigned b)
{
	return b < 8 ? (unsigned)(m->hi >> (56 - 8 * b)) & 255 : (unsigned)(m->lo >> (56 - 8 * (b - 8))) & 255;
}

static inline bool mask_less(const struct minei_mask *a, const struct minei_mask *b)
{
	return a->hi != b->hi ? a->hi < b->hi : a->lo < b->lo;
}

/* MSD radix sort on byte b onwards; tmp has room for n. */
static void sort_masks(struct minei_mask *a, struct minei_mask *tmp, size_t n, unsigned b)
{
	size_t cnt[256], pos[256];

	while (n > 1 && b < 16) {
		if (n < 32) {
			for (size_t i = 1; i < n; i++) {
				struct minei_mask v = a[i];
				size_t j = i;
				for (; j > 0 && mask_less(&v, &a[j - 1]); j--)
					a[j] = a[j - 1];
				a[j] = v;
			}
			return;
		}
		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[mask_byte(&a[i], b)]++;
		if (cnt[mask_byte(&a[0], b)] == n) {   /* one bucket: next byte */
			b++;
			continue;
		}
		pos[0] = 0;
		for (unsigned k = 1; k < 256; k++)
			pos[k] = pos[k - 1] + cnt[k - 1];
		for (size_t i = 0; i < n; i++)
			tmp[pos[mask_byte(&a[i], b)]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
		for (size_t k = 0, start = 0; k < 256; start += cnt[k], k++)
			if (cnt[k] > 1)
				sort_masks(a + start, tmp, cnt[k], b + 1);
		return;
	}
}

struct mask_job {
	const struct mine_db *db;
	const uint32_t *rank_of;
	uint32_t from, to;       /* transactions */
	struct minei_mask *m, *tmp;
	size_t n;                /* non-empty masks made */
};

static void *mask_job_run(void *arg)
{
	struct mask_job *j = arg;
	const struct mine_db *db = j->db;
	size_t n = 0;

	for (uint32_t tx = j->from; tx < j->to; tx++) {
		struct minei_mask k = { 0, 0 };
		for (size_t o = db->txn_off[tx]; o < db->txn_off[tx + 1]; o++) {
			uint32_t r = j->rank_of[db->occ[o]];
			if (r < 64)
				k.hi |= 1ULL << (63 - r);
			else if (r != MINE_NONE)
				k.lo |= 1ULL << (127 - r);
		}
		if (k.hi | k.lo)
			j->m[n++] = k;
	}
	sort_masks(j->m, j->tmp, n, 0);
	j->n = n;
	return NULL;
}

int minei_masks_sorted(const struct mine_db *db, const uint32_t *rank_of, struct minei_mask **out,
		       size_t *n_out)
{
	struct minei_mask *m = malloc(((size_t)db->n_txns + 1) * sizeof(*m));
	struct minei_mask *tmp = malloc(((size_t)db->n_txns + 1) * sizeof(*tmp));
	uint32_t half = db->n_txns >= minei_par_min_txns ? db->n_txns / 2 : db->n_txns;
	struct mask_job a = { db, rank_of, 0, half, m, tmp, 0 };
	struct mask_job b = { db, rank_of, half, db->n_txns, m + half, tmp + half, 0 };
	pthread_t th;
	bool threaded = false;
	size_t i = 0, j = 0, k = 0;

	*out = NULL;
	*n_out = 0;
	if (!m || !tmp) {
		free(m);
		free(tmp);
		return PM_ENOMEM;
	}
	if (half < db->n_txns)
		threaded = pthread_create(&th, NULL, mask_job_run, &b) == 0;
	mask_job_run(&a);
	if (threaded)
		pthread_join(th, NULL);
	else if (half < db->n_txns)
		mask_job_run(&b);
	/* merge the two sorted halves into tmp */
	while (i < a.n && j < b.n)
		tmp[k++] = mask_less(&b.m[j], &a.m[i]) ? b.m[j++] : a.m[i++];
	while (i < a.n)
		tmp[k++] = a.m[i++];
	while (j < b.n)
		tmp[k++] = b.m[j++];
	free(m);
	*out = tmp;
	*n_out = k;
	return PM_OK;
}
