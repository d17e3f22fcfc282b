/*
 * mine_fpg.c - FP-growth (Han, Pei, Yin 2000) over a compact prefix tree.
 *
 * Items are recoded by frequency (rank 0 = most frequent); each
 * transaction becomes its frequent ranks in ascending order. The tree is
 * built without child lookups: the paths (transactions, or the prefix paths
 * of a conditional pattern base) are sorted lexicographically with a
 * multikey quicksort (Bentley-Sedgewick), so a path shares its nodes exactly
 * with the longest common prefix of the path before it. A node is 16 bytes:
 * parent, item, count and the next node of the same item. Conditional trees
 * keep only the conditionally frequent items; a tree that is one chain
 * emits all combinations of its nodes directly. Counts are integers
 * throughout, so the threshold test is exact.
 */
#include "mining/mine_int.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

struct fp_node {
	uint32_t parent;         /* node index; 0 = the root */
	uint32_t item;           /* local item index of the tree */
	uint32_t count;          /* transactions through this node */
	uint32_t next;           /* next node of the same item, MINE_NONE at the end */
};

struct fp_tree {
	uint32_t n_items;        /* local items 0..n_items-1, ascending = more frequent first */
	uint32_t *gitem;         /* local item -> global rank */
	uint32_t *supp;          /* local item -> support in this tree */
	uint32_t *head;          /* local item -> first node, MINE_NONE if none */
	struct fp_node *nodes;   /* nodes[0] is the root */
	uint32_t n_nodes;
	size_t cap_nodes;
	size_t mem;              /* bytes held (for the limit) */
};

struct fp_path {
	const uint32_t *p;       /* local items, ascending */
	uint32_t len;
	uint32_t count;
};

struct fp_ctx {
	struct mine_result *res;
	const struct mine_params *prm;
	uint32_t minc;
	unsigned max_len;
	uint32_t prefix[MINE_MAX_LEN];   /* global ranks, descending */
	size_t mem_trees;        /* bytes of the trees alive now */
	size_t mem_base;         /* bytes of db and result before mining */
	size_t need;             /* on PM_ENOMEM */
};

/* ---- sorting paths: multikey quicksort ------------------------------- */

static inline uint32_t key_at(const struct fp_path *x, uint32_t d)
{
	return d < x->len ? x->p[d] + 1 : 0;
}

static inline void swap_paths(struct fp_path *a, struct fp_path *b)
{
	struct fp_path t = *a;
	*a = *b;
	*b = t;
}

static int cmp_from(const struct fp_path *a, const struct fp_path *b, uint32_t d)
{
	uint32_t n = a->len < b->len ? a->len : b->len;
	for (; d < n; d++)
		if (a->p[d] != b->p[d])
			return a->p[d] < b->p[d] ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

static void sort_paths(struct fp_path *a, size_t n, uint32_t d)
{
	while (n > 1) {
		if (n < 10) {
			for (size_t i = 1; i < n; i++)
				for (size_t j = i; j > 0 && cmp_from(&a[j - 1], &a[j], d) > 0; j--)
					swap_paths(&a[j - 1], &a[j]);
			return;
		}
		/* median of three as pivot */
		uint32_t k0 = key_at(&a[0], d), k1 = key_at(&a[n / 2], d), k2 = key_at(&a[n - 1], d);
		uint32_t v = k0 < k1 ? (k1 < k2 ? k1 : (k0 < k2 ? k2 : k0))
				     : (k0 < k2 ? k0 : (k1 < k2 ? k2 : k1));
		size_t lt = 0, i = 0, gt = n;
		while (i < gt) {
			uint32_t k = key_at(&a[i], d);
			if (k < v)
				swap_paths(&a[lt++], &a[i++]);
			else if (k > v)
				swap_paths(&a[i], &a[--gt]);
			else
				i++;
		}
		sort_paths(a, lt, d);
		if (v != 0)
			sort_paths(a + lt, gt - lt, d + 1);
		a += gt;
		n -= gt;
	}
}

/*
 * Large path sets: one counting-sort pass on the first item (all paths are
 * non-empty), then the multikey quicksort per bucket from depth 1. It
 * replaces the top levels of quicksort recursion, whose scattered reads of
 * x->p[0] dominate for a million paths. Falls back when memory is short.
 */
size_t minei_radix_min = 4096;

static void sort_paths_big(struct fp_path *a, size_t n, uint32_t n_items)
{
	size_t *start;
	struct fp_path *tmp;

	if (n < minei_radix_min || !(start = calloc((size_t)n_items + 1, sizeof(size_t)))) {
		sort_paths(a, n, 0);
		return;
	}
	if (!(tmp = malloc(n * sizeof(*tmp)))) {
		free(start);
		sort_paths(a, n, 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		start[a[i].p[0] + 1]++;
	for (uint32_t j = 1; j <= n_items; j++)
		start[j] += start[j - 1];
	for (size_t i = 0; i < n; i++)
		tmp[start[a[i].p[0]]++] = a[i];
	/* start[j] is now the end of bucket j */
	memcpy(a, tmp, n * sizeof(*tmp));
	size_t b = 0;
	for (uint32_t j = 0; j < n_items; j++) {
		sort_paths(a + b, start[j] - b, 1);
		b = start[j];
	}
	free(tmp);
	free(start);
}

/* ---- trees ------------------------------------------------------------ */

static void tree_free(struct fp_ctx *c, struct fp_tree *t)
{
	c->mem_trees -= t->mem;
	free(t->gitem);
	free(t->supp);
	free(t->head);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static int over_limit(struct fp_ctx *c, size_t add)
{
	size_t limit = c->prm->mem_limit;
	if (limit && c->mem_base + c->res->mem_used + c->mem_trees + add > limit) {
		c->need = c->mem_base + c->res->mem_used + c->mem_trees + add;
		return 1;
	}
	return 0;
}

static int tree_init(struct fp_ctx *c, struct fp_tree *t, uint32_t n_items, size_t nodes_hint)
{
	size_t add = (size_t)n_items * 3 * sizeof(uint32_t) + (nodes_hint + 1) * sizeof(struct fp_node);

	memset(t, 0, sizeof(*t));
	if (over_limit(c, add))
		return PM_ENOMEM;
	t->n_items = n_items;
	t->gitem = malloc((size_t)n_items * sizeof(uint32_t));
	t->supp = malloc((size_t)n_items * sizeof(uint32_t));
	t->head = malloc((size_t)n_items * sizeof(uint32_t));
	t->cap_nodes = nodes_hint + 1;
	t->nodes = malloc(t->cap_nodes * sizeof(struct fp_node));
	t->mem = add;
	c->mem_trees += add;
	if (!t->gitem || !t->supp || !t->head || !t->nodes) {
		tree_free(c, t);
		return PM_ENOMEM;
	}
	memset(t->head, 0xff, (size_t)n_items * sizeof(uint32_t));
	t->nodes[0] = (struct fp_node){ 0, MINE_NONE, 0, MINE_NONE };
	t->n_nodes = 1;
	return PM_OK;
}

/* Insert sorted paths; stack has room for the longest path. */
static int tree_build(struct fp_ctx *c, struct fp_tree *t, const struct fp_path *paths, size_t n,
		      uint32_t *stack)
{
	const struct fp_path *prev = NULL;

	for (size_t k = 0; k < n; k++) {
		const struct fp_path *x = &paths[k];
		uint32_t l = 0;
		if (prev) {
			uint32_t m = prev->len < x->len ? prev->len : x->len;
			while (l < m && prev->p[l] == x->p[l])
				l++;
		}
		for (uint32_t j = 0; j < l; j++)
			t->nodes[stack[j]].count += x->count;
		if (t->n_nodes + (size_t)(x->len - l) > t->cap_nodes) {
			size_t ncap = t->cap_nodes + t->cap_nodes / 2 + x->len;
			size_t add = (ncap - t->cap_nodes) * sizeof(struct fp_node);
			struct fp_node *nn;
			if (over_limit(c, add))
				return PM_ENOMEM;
			nn = realloc(t->nodes, ncap * sizeof(struct fp_node));
			if (!nn)
				return PM_ENOMEM;
			t->nodes = nn;
			t->cap_nodes = ncap;
			t->mem += add;
			c->mem_trees += add;
		}
		for (uint32_t j = l; j < x->len; j++) {
			uint32_t id = t->n_nodes++, it = x->p[j];
			t->nodes[id] = (struct fp_node){ j ? stack[j - 1] : 0, it, x->count, t->head[it] };
			t->head[it] = id;
			stack[j] = id;
		}
		prev = x;
	}
	return PM_OK;
}

static bool tree_is_chain(const struct fp_tree *t)
{
	if (t->n_nodes - 1 != t->n_items)
		return false;
	for (uint32_t i = 1; i < t->n_nodes; i++)
		if (t->nodes[i].parent != i - 1)
			return false;
	return true;
}

/* ---- emitting itemsets ------------------------------------------------ */

/* The callback decides whether to print (it rate-limits by time). */
static void note_progress(struct fp_ctx *c)
{
	struct mine_progress p = { .phase = "mining", .transactions = c->res->n_txns,
				       .items = c->res->n_ranks, .itemsets = c->res->sets.n };
	c->prm->progress(c->prm->progress_ctx, &p);
}

static int emit(struct fp_ctx *c, const uint32_t *asc, uint32_t n_asc, unsigned plen, uint32_t count)
{
	uint32_t set[MINE_MAX_LEN];
	uint32_t len = 0;
	int rc;

	for (uint32_t i = 0; i < n_asc; i++)
		set[len++] = asc[i];
	for (unsigned i = plen; i-- > 0;)
		set[len++] = c->prefix[i];
	if (c->prm->mem_limit && over_limit(c, (len + 2) * sizeof(uint32_t) + 2 * sizeof(size_t)))
		return PM_ENOMEM;
	if ((rc = minei_sets_add(&c->res->sets, set, len, count, &c->res->mem_used)))
		return rc;
	if (c->prm->progress && (c->res->sets.n & 255) == 0)
		note_progress(c);
	return PM_OK;
}

/* All non-empty combinations of a chain's nodes 1..n (ascending items). */
static int emit_chain(struct fp_ctx *c, const struct fp_tree *t, unsigned plen, uint32_t from,
		      uint32_t *combo, uint32_t clen)
{
	int rc;
	for (uint32_t i = from; i < t->n_nodes; i++) {
		combo[clen] = t->gitem[t->nodes[i].item];
		/* counts fall along a chain: the deepest chosen node's count is the set's */
		if ((rc = emit(c, combo, clen + 1, plen, t->nodes[i].count)))
			return rc;
		if (plen + clen + 2 <= c->max_len &&
		    (rc = emit_chain(c, t, plen, i + 1, combo, clen + 1)))
			return rc;
	}
	return PM_OK;
}

static int mine_tree(struct fp_ctx *c, const struct fp_tree *t, unsigned plen);

/*
 * Mine the conditional tree of local item r of t from its prefix paths:
 * buf[0..raw_len) holds npaths records (length, count, items leaf to root).
 * The frequent items are compacted in place (the output never overtakes the
 * input: each record shrinks by its two header words at least). If own,
 * buf is freed (before the recursion); else it stays the caller's.
 */
static int mine_base(struct fp_ctx *c, const struct fp_tree *t, uint32_t r, unsigned plen,
		     uint32_t *buf, size_t raw_len, size_t npaths, bool own)
{
	uint32_t *cnt = NULL, *map = NULL, *tmp = NULL;
	struct fp_path *paths = NULL;
	struct fp_tree ct = { 0 };
	size_t pos = 0, np = 0;
	uint32_t k = 0;
	int rc = PM_ENOMEM;

	cnt = calloc(r, sizeof(uint32_t));
	map = malloc(r * sizeof(uint32_t));
	if (!cnt || !map)
		goto out;
	for (size_t q = 0; q < raw_len; q += 2 + (size_t)buf[q]) {
		uint32_t w = buf[q + 1];
		for (uint32_t i = 0; i < buf[q]; i++)
			cnt[buf[q + 2 + i]] += w;
	}
	for (uint32_t j = 0; j < r; j++)
		map[j] = cnt[j] >= c->minc ? k++ : MINE_NONE;
	if (k == 0) {
		rc = PM_OK;
		goto out;
	}
	if (over_limit(c, npaths * sizeof(struct fp_path)))
		goto out;
	tmp = malloc((size_t)(r + 1) * sizeof(uint32_t));
	paths = malloc((npaths ? npaths : 1) * sizeof(struct fp_path));
	if (!tmp || !paths)
		goto out;
	for (size_t q = 0; q < raw_len;) {
		uint32_t len = buf[q], w = buf[q + 1], n = 0;
		const uint32_t *items = buf + q + 2;
		for (uint32_t i = len; i-- > 0;) {   /* root first: ascending */
			uint32_t m = map[items[i]];
			if (m != MINE_NONE)
				tmp[n++] = m;
		}
		q += 2 + (size_t)len;
		if (!n)
			continue;
		memmove(buf + pos, tmp, n * sizeof(uint32_t));
		paths[np++] = (struct fp_path){ buf + pos, n, w };
		pos += n;
	}
	if ((rc = tree_init(c, &ct, k, pos < 64 ? pos : 64 + (pos - 64) / 4)))
		goto out;
	for (uint32_t j = 0; j < r; j++)
		if (map[j] != MINE_NONE) {
			ct.gitem[map[j]] = t->gitem[j];
			ct.supp[map[j]] = cnt[j];
		}
	sort_paths_big(paths, np, k);
	if ((rc = tree_build(c, &ct, paths, np, tmp)))
		goto out;
	free(paths);
	paths = NULL;
	if (own) {
		free(buf);
		own = false;
	}
	rc = mine_tree(c, &ct, plen);
out:
	if (ct.nodes)
		tree_free(c, &ct);
	if (own)
		free(buf);
	free(cnt);
	free(map);
	free(tmp);
	free(paths);
	return rc;
}

/* Build the conditional tree of local item r of t (a small tree: walking up
 * from each node of r stays in the cache) and mine it. */
static int mine_conditional(struct fp_ctx *c, const struct fp_tree *t, uint32_t r, unsigned plen)
{
	uint32_t *buf = NULL;
	size_t npaths = 0, raw_len = 0, raw_cap = 0;

	for (uint32_t v = t->head[r]; v != MINE_NONE; v = t->nodes[v].next) {
		uint32_t u = t->nodes[v].parent;
		size_t rec;
		if (!u)
			continue;
		if (raw_len + 2 + r > raw_cap) {   /* a path has at most r items */
			size_t ncap = raw_cap * 2 > raw_len + 2 + r ? raw_cap * 2 : raw_len + 2 + r + 256;
			uint32_t *nb;
			if (over_limit(c, ncap * sizeof(uint32_t)) ||
			    !(nb = realloc(buf, ncap * sizeof(uint32_t)))) {
				free(buf);
				return PM_ENOMEM;
			}
			buf = nb;
			raw_cap = ncap;
		}
		rec = raw_len;
		raw_len += 2;
		buf[rec + 1] = t->nodes[v].count;
		for (; u; u = t->nodes[u].parent)
			buf[raw_len++] = t->nodes[u].item;
		buf[rec] = (uint32_t)(raw_len - rec - 2);
		npaths++;
	}
	if (!buf)
		return PM_OK;
	return mine_base(c, t, r, plen, buf, raw_len, npaths, true);
}

/*
 * The first tree: large, and the nodes of one item lie all over it, so
 * walking up from each costs cache misses. Its nodes are in preorder
 * (tree_build creates them so: a parent comes before its children), so a
 * sequential pass keeping the root path on a stack yields every node's
 * prefix path. A first pass sizes each item's paths; then batches of items
 * (descending, the order of mine_tree) whose paths fit in about the tree's
 * own size get a fill pass each into one buffer and are mined.
 */
static int mine_top(struct fp_ctx *c, const struct fp_tree *t)
{
	const uint32_t n = t->n_items;
	size_t *words = calloc((size_t)n + 1, sizeof(size_t)), *fill = malloc(((size_t)n + 1) * sizeof(size_t));
	size_t *npaths = calloc((size_t)n + 1, sizeof(size_t));
	uint32_t *stack = malloc(((size_t)n + 1) * sizeof(uint32_t)), *buf = NULL, sp;
	size_t budget = (size_t)t->n_nodes * 2 + 1024, batch_bytes = 0;
	int rc = PM_ENOMEM;

	if (!words || !fill || !npaths || !stack)
		goto out;
	sp = 0;
	for (uint32_t v = 1; v < t->n_nodes; v++) {
		uint32_t p = t->nodes[v].parent;
		while (sp && stack[sp - 1] != p)
			sp--;
		if (sp) {
			words[t->nodes[v].item] += 2 + (size_t)sp;
			npaths[t->nodes[v].item]++;
		}
		stack[sp++] = v;
	}
	for (uint32_t hi = n; hi-- > 0;) {
		uint32_t lo = hi;
		size_t total = words[hi];
		while (lo > 0 && total + words[lo - 1] <= budget)
			total += words[--lo];
		if (c->max_len > 1 && total) {
			if (over_limit(c, total * sizeof(uint32_t)) || !(buf = malloc(total * sizeof(uint32_t))))
				goto out;
			batch_bytes = total * sizeof(uint32_t);
			c->mem_trees += batch_bytes;
			fill[lo] = 0;
			for (uint32_t j = lo + 1; j <= hi; j++)
				fill[j] = fill[j - 1] + words[j - 1];
			sp = 0;
			for (uint32_t v = 1; v < t->n_nodes; v++) {
				uint32_t p = t->nodes[v].parent, it = t->nodes[v].item;
				while (sp && stack[sp - 1] != p)
					sp--;
				if (sp && it >= lo && it <= hi) {
					uint32_t *rec = buf + fill[it];
					rec[0] = sp;
					rec[1] = t->nodes[v].count;
					for (uint32_t i = 0; i < sp; i++)
						rec[2 + i] = t->nodes[stack[sp - 1 - i]].item;
					fill[it] += 2 + (size_t)sp;
				}
				stack[sp++] = v;
			}
		}
		for (uint32_t r = hi + 1; r-- > lo;) {
			if (c->prm->progress)
				note_progress(c);
			c->prefix[0] = t->gitem[r];
			if ((rc = emit(c, NULL, 0, 1, t->supp[r])))
				goto out;
			if (c->max_len > 1 && r > 0 && words[r] &&
			    (rc = mine_base(c, t, r, 1, buf + fill[r] - words[r], words[r], npaths[r], false)))
				goto out;
		}
		if (buf) {
			c->mem_trees -= batch_bytes;
			free(buf);
			buf = NULL;
		}
		hi = lo;
	}
	rc = PM_OK;
out:
	if (buf) {
		c->mem_trees -= batch_bytes;
		free(buf);
	}
	free(words);
	free(fill);
	free(npaths);
	free(stack);
	return rc;
}

/* Every frequent itemset of t extended by prefix[0..plen). */
static int mine_tree(struct fp_ctx *c, const struct fp_tree *t, unsigned plen)
{
	int rc;

	if (plen > 0 && tree_is_chain(t)) {
		uint32_t combo[MINE_MAX_LEN];
		return emit_chain(c, t, plen, 1, combo, 0);
	}
	if (plen == 0)
		return mine_top(c, t);
	for (uint32_t r = t->n_items; r-- > 0;) {
		if (plen == 0 && c->prm->progress)
			note_progress(c);
		c->prefix[plen] = t->gitem[r];
		if ((rc = emit(c, NULL, 0, plen + 1, t->supp[r])))
			return rc;
		if (plen + 1 < c->max_len && r > 0 && (rc = mine_conditional(c, t, r, plen + 1)))
			return rc;
	}
	return PM_OK;
}

/* ---- the first tree: recode by frequency ------------------------------ */

static int cmp_rank(const void *a, const void *b, void *ctx)
{
	const uint32_t *cnt = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (cnt[x] != cnt[y])
		return cnt[x] > cnt[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void sort_small(uint32_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Each transaction's frequent ranks as sorted masks (mine_mask.c), decoded
 * into ascending rank lists (ranks) with their path records (paths). */
static int masks_to_paths(struct fp_ctx *c, const struct mine_db *db, const uint32_t *rank_of,
			  uint32_t *ranks, struct fp_path *paths, size_t *n_paths)
{
	size_t n, pos = 0;
	struct minei_mask *m;
	int rc;

	if (over_limit(c, 2 * ((size_t)db->n_txns + 1) * sizeof(struct minei_mask)))
		return PM_ENOMEM;
	if ((rc = minei_masks_sorted(db, rank_of, &m, &n)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		size_t start = pos;
		for (uint64_t w = m[i].hi; w;) {   /* top bit first = ascending ranks */
			uint32_t r = (uint32_t)__builtin_clzll(w);
			ranks[pos++] = r;
			w ^= 1ULL << (63 - r);
		}
		for (uint64_t w = m[i].lo; w;) {
			uint32_t r = (uint32_t)__builtin_clzll(w);
			ranks[pos++] = 64 + r;
			w ^= 1ULL << (63 - r);
		}
		paths[i] = (struct fp_path){ ranks + start, (uint32_t)(pos - start), 1 };
	}
	free(m);
	*n_paths = n;
	return PM_OK;
}

int minei_fpgrowth(struct mine_result *res, const struct mine_params *p, size_t *need)
{
	const struct mine_db *db = res->db;
	struct fp_ctx c = { .res = res, .prm = p, .minc = p->min_count, .max_len = p->max_len,
			    .mem_base = db->mem_used };
	struct fp_tree t = { 0 };
	uint32_t *rank_of = NULL, *ranks = NULL, *stack = NULL;
	struct fp_path *paths = NULL;
	size_t n_freq_occ = 0, pos = 0, np = 0;
	int rc = PM_ENOMEM;

	*need = 0;
	rank_of = malloc(((size_t)db->n_items + 1) * sizeof(uint32_t));
	res->rank_item = malloc(((size_t)db->n_items + 1) * sizeof(uint32_t));
	if (!rank_of || !res->rank_item)
		goto out;
	for (uint32_t i = 0; i < db->n_items; i++)
		if (db->item_count[i] >= c.minc) {
			res->rank_item[res->n_ranks++] = i;
			n_freq_occ += db->item_count[i];
		}
	qsort_r(res->rank_item, res->n_ranks, sizeof(uint32_t), cmp_rank, db->item_count);
	res->rank_count = malloc(((size_t)res->n_ranks + 1) * sizeof(uint32_t));
	if (!res->rank_count)
		goto out;
	memset(rank_of, 0xff, ((size_t)db->n_items + 1) * sizeof(uint32_t));
	for (uint32_t r = 0; r < res->n_ranks; r++) {
		rank_of[res->rank_item[r]] = r;
		res->rank_count[r] = db->item_count[res->rank_item[r]];
	}
	res->mem_used += ((size_t)db->n_items + 2 * res->n_ranks) * sizeof(uint32_t);
	if (res->n_ranks == 0) {
		rc = PM_OK;
		goto out;
	}
	/* what the first tree needs at most: ranks, paths, one node per occurrence */
	if (over_limit(&c, n_freq_occ * (sizeof(uint32_t) + sizeof(struct fp_node)) +
				   (size_t)db->n_txns * sizeof(struct fp_path) +
				   (size_t)res->n_ranks * 4 * sizeof(uint32_t))) {
		rc = PM_ENOMEM;
		goto out;
	}
	ranks = malloc((n_freq_occ ? n_freq_occ : 1) * sizeof(uint32_t));
	paths = malloc(((size_t)db->n_txns + 1) * sizeof(struct fp_path));
	stack = malloc(((size_t)res->n_ranks + 1) * sizeof(uint32_t));
	if (!ranks || !paths || !stack)
		goto out;
	c.mem_trees += n_freq_occ * sizeof(uint32_t) + (size_t)db->n_txns * sizeof(struct fp_path);
	if (res->n_ranks <= minei_mask_items && res->n_ranks <= 128) {
		if ((rc = masks_to_paths(&c, db, rank_of, ranks, paths, &np)))
			goto out;
	} else {
		for (uint32_t tx = 0; tx < db->n_txns; tx++) {
			size_t start = pos;
			for (size_t o = db->txn_off[tx]; o < db->txn_off[tx + 1]; o++) {
				uint32_t r = rank_of[db->occ[o]];
				if (r != MINE_NONE)
					ranks[pos++] = r;
			}
			if (pos == start)
				continue;
			if (pos - start <= 24)
				sort_small(ranks + start, pos - start);
			else
				qsort(ranks + start, pos - start, sizeof(uint32_t), cmp_u32);
			paths[np++] = (struct fp_path){ ranks + start, (uint32_t)(pos - start), 1 };
		}
		sort_paths_big(paths, np, res->n_ranks);
	}
	if ((rc = tree_init(&c, &t, res->n_ranks, n_freq_occ / 2 + 16)))
		goto out;
	for (uint32_t r = 0; r < res->n_ranks; r++) {
		t.gitem[r] = r;
		t.supp[r] = res->rank_count[r];
	}
	if ((rc = tree_build(&c, &t, paths, np, stack)))
		goto out;
	c.mem_trees -= n_freq_occ * sizeof(uint32_t) + (size_t)db->n_txns * sizeof(struct fp_path);
	free(paths);
	paths = NULL;
	free(ranks);
	ranks = NULL;
	rc = mine_tree(&c, &t, 0);
out:
	if (rc == PM_ENOMEM)
		*need = c.need;
	if (t.nodes)
		tree_free(&c, &t);
	free(rank_of);
	free(ranks);
	free(paths);
	free(stack);
	return rc;
}
