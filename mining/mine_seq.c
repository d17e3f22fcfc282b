/*
 * mine_seq.c - sequential co-occurrence for explore offers (docs/mining.md,
 * "Explore"): from sales with a customer and a time, which items customers
 * went on to buy for the first time on the visit after one holding item A.
 *
 * A step is one customer's pair of consecutive visits (v, next). For each
 * step: every A in v counts a step from A; every B in next the customer
 * never bought before is an adoption of B; every such (A, B), A != B, counts
 * once for the pair, and the pair also counts the distinct customers it was
 * seen with. A rule A -> B keeps confidence = pair steps / steps from A and
 * lift = confidence / (adoptions of B / all steps), when at least
 * min_customers customers made it (never one customer's habit) and lift is
 * at least min_lift; the best per_item by confidence are kept per A. The
 * items adopted most often (adoptions / steps) are the back-fill list. Each
 * item's repeat rate (steps from a visit holding it whose next visit holds
 * it again / steps from it) is the personal campaign's prior.
 *
 * Memory: the sales as a mine_db (4 B per item occurrence) plus per sale a
 * customer id and a time (12 B), and per distinct pair 24 B. mine_db's limit
 * (mine_db_set_limit) applies to the pairs too.
 */
#include "mining/mine_int.h"
#include "common/pm_err.h"
#include "common/pm_hash.h"

#include <stdlib.h>
#include <string.h>

struct mine_seq {
	struct mine_db *db;          /* items and sales (one transaction per sale) */
	uint32_t *cust;              /* per sale: customer id */
	int64_t *time;               /* per sale: time */
	size_t cap_cust_of, cap_time;
	/* customers: names in an arena, open-addressing hash */
	char *cnames;
	size_t cnames_len, cnames_cap;
	size_t *coff;
	uint32_t n_cust;
	size_t cap_cust;
	uint32_t *chtab;             /* id + 1 */
	uint32_t chmask;
};

int mine_seq_new(struct mine_seq **out)
{
	struct mine_seq *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s || mine_db_new(&s->db)) {
		free(s);
		return PM_ENOMEM;
	}
	s->chmask = 1023;
	if (!(s->chtab = calloc(s->chmask + 1, sizeof(*s->chtab)))) {
		mine_seq_free(s);
		return PM_ENOMEM;
	}
	*out = s;
	return PM_OK;
}

void mine_seq_free(struct mine_seq *s)
{
	if (!s)
		return;
	mine_db_free(s->db);
	free(s->cust);
	free(s->time);
	free(s->cnames);
	free(s->coff);
	free(s->chtab);
	free(s);
}

void mine_seq_set_limit(struct mine_seq *s, size_t limit)
{
	mine_db_set_limit(s->db, limit);
}

uint32_t mine_seq_sales(const struct mine_seq *s)
{
	return mine_db_txns(s->db);
}

uint32_t mine_seq_customers(const struct mine_seq *s)
{
	return s->n_cust;
}

const char *mine_seq_item(const struct mine_seq *s, uint32_t id, size_t *len)
{
	return mine_item_name(s->db, id, len);
}

static int cust_rehash(struct mine_seq *s)
{
	uint32_t mask = s->chmask * 2 + 1;
	uint32_t *t = calloc((size_t)mask + 1, sizeof(*t));
	if (!t)
		return PM_ENOMEM;
	for (uint32_t i = 0; i < s->n_cust; i++) {
		const char *n = s->cnames + s->coff[i];
		uint32_t h = (uint32_t)pm_fnv1a64(n, strlen(n)) & mask;
		while (t[h])
			h = (h + 1) & mask;
		t[h] = i + 1;
	}
	free(s->chtab);
	s->chtab = t;
	s->chmask = mask;
	return PM_OK;
}

static int cust_id(struct mine_seq *s, const char *name, uint32_t *id)
{
	size_t len = strlen(name);
	uint32_t h = (uint32_t)pm_fnv1a64(name, len) & s->chmask;
	int rc;
	for (; s->chtab[h]; h = (h + 1) & s->chmask)
		if (!strcmp(s->cnames + s->coff[s->chtab[h] - 1], name)) {
			*id = s->chtab[h] - 1;
			return PM_OK;
		}
	if ((rc = minei_grow(s->db, (void **)&s->coff, &s->cap_cust, s->n_cust + 1, sizeof(*s->coff))) ||
	    (rc = minei_grow(s->db, (void **)&s->cnames, &s->cnames_cap, s->cnames_len + len + 1, 1)))
		return rc;
	memcpy(s->cnames + s->cnames_len, name, len + 1);
	s->coff[s->n_cust] = s->cnames_len;
	s->cnames_len += len + 1;
	s->chtab[h] = s->n_cust + 1;
	*id = s->n_cust++;
	if ((size_t)s->n_cust * 2 > s->chmask)
		return cust_rehash(s);
	return PM_OK;
}

int mine_seq_add(struct mine_seq *s, const char *customer, int64_t time_us, const char *const *items, size_t n)
{
	uint32_t c, t = mine_db_txns(s->db);
	int rc;
	if (!customer || !customer[0] || !n)
		return PM_OK;   /* anonymous or empty: no step to learn from */
	if ((rc = cust_id(s, customer, &c)) ||
	    (rc = minei_grow(s->db, (void **)&s->cust, &s->cap_cust_of, (size_t)t + 1, sizeof(*s->cust))) ||
	    (rc = minei_grow(s->db, (void **)&s->time, &s->cap_time, (size_t)t + 1, sizeof(*s->time))))
		return rc;
	s->cust[t] = c;
	s->time[t] = time_us;
	if ((rc = mine_txn_begin(s->db)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = mine_txn_item(s->db, items[i], strlen(items[i]))))
			return rc;
	return mine_txn_end(s->db);
}

/* ---- the run ---- */
struct pairs {                   /* (A, B) -> counts, open addressing on key = A << 32 | B, +1 */
	uint64_t *key;
	uint32_t *count, *customers, *last;
	size_t n, mask;
};

static _Thread_local const struct mine_seq *sort_seq;

static int cmp_sale(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct mine_seq *s = sort_seq;
	if (s->cust[x] != s->cust[y])
		return s->cust[x] < s->cust[y] ? -1 : 1;
	if (s->time[x] != s->time[y])
		return s->time[x] < s->time[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static int pairs_grow(struct mine_db *db, struct pairs *p)
{
	size_t mask = p->mask ? p->mask * 2 + 1 : 65535, cap = mask + 1;
	size_t bytes = cap * (sizeof(uint64_t) + 3 * sizeof(uint32_t));
	if (db->mem_limit && db->mem_used + bytes > db->mem_limit) {
		db->mem_need = db->mem_used + bytes;
		return PM_ENOMEM;
	}
	uint64_t *key = calloc(cap, sizeof(*key));
	uint32_t *count = calloc(cap, sizeof(*count)), *cust = calloc(cap, sizeof(*cust)),
		 *last = calloc(cap, sizeof(*last));
	if (!key || !count || !cust || !last) {
		free(key), free(count), free(cust), free(last);
		return PM_ENOMEM;
	}
	for (size_t i = 0; p->key && i <= p->mask; i++) {
		if (!p->key[i])
			continue;
		size_t h = mix(p->key[i]) & mask;
		while (key[h])
			h = (h + 1) & mask;
		key[h] = p->key[i];
		count[h] = p->count[i];
		cust[h] = p->customers[i];
		last[h] = p->last[i];
	}
	if (p->key)
		db->mem_used -= (p->mask + 1) * (sizeof(uint64_t) + 3 * sizeof(uint32_t));
	db->mem_used += bytes;
	free(p->key), free(p->count), free(p->customers), free(p->last);
	p->key = key, p->count = count, p->customers = cust, p->last = last;
	p->mask = mask;
	return PM_OK;
}

static int pair_add(struct mine_db *db, struct pairs *p, uint32_t a, uint32_t b, uint32_t cust)
{
	uint64_t k = ((uint64_t)a << 32 | b) + 1;
	if ((p->n + 1) * 2 > p->mask + 1) {
		int rc = pairs_grow(db, p);
		if (rc)
			return rc;
	}
	size_t h = mix(k) & p->mask;
	while (p->key[h] && p->key[h] != k)
		h = (h + 1) & p->mask;
	if (!p->key[h]) {
		p->key[h] = k;
		p->n++;
	}
	p->count[h]++;
	if (p->last[h] != cust + 1) {
		p->last[h] = cust + 1;
		p->customers[h]++;
	}
	return PM_OK;
}

static void pairs_release(struct mine_db *db, struct pairs *p)
{
	if (p->key)
		db->mem_used -= (p->mask + 1) * (sizeof(uint64_t) + 3 * sizeof(uint32_t));
	free(p->key), free(p->count), free(p->customers), free(p->last);
}

static int push_rule(struct mine_seq_rule **v, size_t *n, size_t *cap, struct mine_seq_rule r)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct mine_seq_rule *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return PM_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = r;
	return PM_OK;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct mine_seq_rule *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	if (x->customers != y->customers)
		return x->customers > y->customers ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/* Count the steps of every customer: from[], adopt[], the pairs; *steps. */
static int count_steps(const struct mine_seq *s, const uint32_t *order, uint32_t n, uint32_t *from,
		       uint32_t *adopt, uint32_t *seen, uint32_t *fresh, uint32_t *rep, struct pairs *p,
		       uint64_t *steps, uint64_t *adoptions, uint64_t *next_items)
{
	const struct mine_db *db = s->db;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = order[i], c = s->cust[t];
		const uint32_t *it = db->occ + db->txn_off[t], *end = db->occ + db->txn_off[t + 1];
		if (i > 0 && s->cust[order[i - 1]] == c) {
			uint32_t pt = order[i - 1], nf = 0;
			const uint32_t *pv = db->occ + db->txn_off[pt], *pe = db->occ + db->txn_off[pt + 1];
			(*steps)++;
			for (const uint32_t *q = pv; q < pe; q++)
				from[*q]++;
			for (const uint32_t *q = it; q < end; q++)
				if (seen[*q] != c + 1) {
					adopt[*q]++;
					fresh[nf++] = *q;
				}
			*adoptions += nf;
			*next_items += (uint64_t)(end - it);
			for (const uint32_t *q = pv; q < pe; q++)   /* bought again on the next visit */
				for (const uint32_t *x = it; x < end; x++)
					rep[*q] += *x == *q;
			for (const uint32_t *q = pv; q < pe; q++)
				for (uint32_t k = 0; k < nf; k++) {
					int rc;
					if (fresh[k] != *q && (rc = pair_add((struct mine_db *)db, p, *q, fresh[k], c)))
						return rc;
				}
		}
		for (const uint32_t *q = it; q < end; q++)
			seen[*q] = c + 1;
	}
	return PM_OK;
}

int mine_seq_run(const struct mine_seq *s, const struct mine_seq_params *prm, struct mine_seq_rule **out,
		 size_t *n_out, uint64_t *steps_out, double *novelty)
{
	uint32_t n = mine_db_txns(s->db), ni = mine_db_items(s->db);
	uint32_t *order = malloc(((size_t)n + 1) * sizeof(*order));
	uint32_t *from = calloc((size_t)ni + 1, sizeof(*from)), *adopt = calloc((size_t)ni + 1, sizeof(*adopt));
	uint32_t *seen = calloc((size_t)ni + 1, sizeof(*seen)), *fresh = malloc(((size_t)ni + 1) * sizeof(*fresh));
	uint32_t *rep = calloc((size_t)ni + 1, sizeof(*rep));
	struct pairs p = { 0 };
	struct mine_seq_rule *v = NULL;
	size_t nv = 0, cap = 0;
	uint64_t steps = 0, adoptions = 0, next_items = 0;
	int rc = PM_ENOMEM;
	*novelty = 0;
	*out = NULL;
	*n_out = 0;
	*steps_out = 0;
	if (!order || !from || !adopt || !seen || !fresh || !rep)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	sort_seq = s;
	qsort(order, n, sizeof(*order), cmp_sale);
	if ((rc = count_steps(s, order, n, from, adopt, seen, fresh, rep, &p, &steps, &adoptions, &next_items)))
		goto out;
	*novelty = next_items ? (double)adoptions / (double)next_items : 0;
	rc = PM_ENOMEM;
	for (size_t h = 0; steps && p.key && h <= p.mask; h++) {
		if (!p.key[h] || p.customers[h] < prm->min_customers)
			continue;
		uint32_t a = (uint32_t)((p.key[h] - 1) >> 32), b = (uint32_t)(p.key[h] - 1);
		double conf = (double)p.count[h] / from[a], base = (double)adopt[b] / (double)steps;
		double lift = base > 0 ? conf / base : 0;
		if (lift < prm->min_lift)
			continue;
		if (push_rule(&v, &nv, &cap, (struct mine_seq_rule){ a, b, p.customers[h], p.count[h], from[a],
								      conf, lift }))
			goto out;
	}
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_rule);
	/* the best per_item of each A */
	size_t k = 0;
	for (size_t i = 0, run = 0; i < nv; i++) {
		run = i && v[i].from == v[i - 1].from ? run + 1 : 0;
		if (!prm->per_item || run < prm->per_item)
			v[k++] = v[i];
	}
	nv = k;
	/* repeat rates (from == to): items seen in steps from at least min_customers visits */
	for (uint32_t i = 0; i < ni && steps; i++)
		if (from[i] >= prm->min_customers &&
		    push_rule(&v, &nv, &cap, (struct mine_seq_rule){ i, i, 0, rep[i], from[i],
								      (double)rep[i] / from[i], 0 }))
			goto out;
	/* the back-fill: items adopted most often, from = MINE_SEQ_NONE */
	for (unsigned j = 0; j < prm->popular && steps; j++) {
		uint32_t best = UINT32_MAX;
		for (uint32_t i = 0; i < ni; i++)
			if (adopt[i] && (best == UINT32_MAX || adopt[i] > adopt[best]))
				best = i;
		if (best == UINT32_MAX)
			break;
		if (push_rule(&v, &nv, &cap, (struct mine_seq_rule){ MINE_SEQ_NONE, best, 0, adopt[best],
								      (uint32_t)steps, (double)adopt[best] / (double)steps, 1.0 }))
			goto out;
		adopt[best] = 0;
	}
	*out = v;
	*n_out = nv;
	*steps_out = steps;
	v = NULL;
	rc = PM_OK;
out:
	pairs_release(s->db, &p);
	free(v);
	free(order);
	free(from);
	free(adopt);
	free(seen);
	free(fresh);
	free(rep);
	return rc;
}
