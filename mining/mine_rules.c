/*
 * mine_rules.c - the itemset store (flat array plus an exact-match hash
 * index), rule generation from it, mine_run() and the exact minimum
 * support count. A rule X => y comes from each frequent itemset Z = X u {y}
 * with |Z| >= 2: confidence = count(Z) / count(X), lift = confidence /
 * (count(y) / N). count(X) is always in the store: X is frequent because Z is.
 */
#include "mining/mine_int.h"
#include "common/pm_err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- itemset store ---------------------------------------------------- */

static size_t grow_to(size_t cap, size_t need)
{
	size_t n = cap ? cap : 256;
	while (n < need)
		n += n / 2;
	return n;
}

int minei_sets_add(struct minei_sets *s, const uint32_t *ranks, uint32_t len, uint32_t count,
		   size_t *mem_used)
{
	if (s->data_len + len + 2 > s->data_cap) {
		size_t ncap = grow_to(s->data_cap, s->data_len + len + 2);
		uint32_t *nd = realloc(s->data, ncap * sizeof(uint32_t));
		if (!nd)
			return PM_ENOMEM;
		*mem_used += (ncap - s->data_cap) * sizeof(uint32_t);
		s->data = nd;
		s->data_cap = ncap;
	}
	if (s->n == s->cap) {
		size_t ncap = grow_to(s->cap, s->n + 1);
		size_t *no = realloc(s->off, ncap * sizeof(size_t));
		if (!no)
			return PM_ENOMEM;
		*mem_used += (ncap - s->cap) * sizeof(size_t);
		s->off = no;
		s->cap = ncap;
	}
	s->off[s->n++] = s->data_len;
	s->data[s->data_len++] = len;
	s->data[s->data_len++] = count;
	memcpy(s->data + s->data_len, ranks, len * sizeof(uint32_t));
	s->data_len += len;
	return PM_OK;
}

static uint64_t set_hash(const uint32_t *r, uint32_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	for (uint32_t i = 0; i < len; i++) {
		h ^= r[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 31;
	}
	return h;
}

int minei_sets_index(struct minei_sets *s, size_t *mem_used)
{
	size_t size = 1024;
	while (size < s->n * 2)
		size *= 2;
	free(s->htab);
	s->htab = calloc(size, sizeof(uint32_t));
	if (!s->htab)
		return PM_ENOMEM;
	*mem_used += size * sizeof(uint32_t);
	s->hmask = size - 1;
	for (size_t i = 0; i < s->n; i++) {
		const uint32_t *d = s->data + s->off[i];
		size_t h = set_hash(d + 2, d[0]) & s->hmask;
		while (s->htab[h])
			h = (h + 1) & s->hmask;
		s->htab[h] = (uint32_t)i + 1;
	}
	return PM_OK;
}

long minei_sets_find(const struct minei_sets *s, const uint32_t *ranks, uint32_t len)
{
	size_t h = set_hash(ranks, len) & s->hmask;
	for (; s->htab[h]; h = (h + 1) & s->hmask) {
		const uint32_t *d = s->data + s->off[s->htab[h] - 1];
		if (d[0] == len && !memcmp(d + 2, ranks, len * sizeof(uint32_t)))
			return (long)s->htab[h] - 1;
	}
	return -1;
}

void minei_sets_release(struct minei_sets *s)
{
	free(s->data);
	free(s->off);
	free(s->htab);
	memset(s, 0, sizeof(*s));
}

/* ---- rules ------------------------------------------------------------ */

static int add_rule(struct mine_result *res, uint32_t set, uint32_t pos, uint32_t lhs_count)
{
	if (res->n_rules == res->cap_rules) {
		size_t ncap = grow_to(res->cap_rules, res->n_rules + 1);
		struct minei_rule *nr = realloc(res->rules, ncap * sizeof(*nr));
		if (!nr)
			return PM_ENOMEM;
		res->mem_used += (ncap - res->cap_rules) * sizeof(*nr);
		res->rules = nr;
		res->cap_rules = ncap;
	}
	res->rules[res->n_rules++] = (struct minei_rule){ set, pos, lhs_count };
	return PM_OK;
}

static int gen_rules(struct mine_result *res, const struct mine_params *p)
{
	const struct minei_sets *s = &res->sets;
	uint32_t lhs[MINE_MAX_LEN];
	double n = (double)res->n_txns;
	int rc;

	for (size_t i = 0; i < s->n; i++) {
		const uint32_t *d = s->data + s->off[i];
		uint32_t len = d[0], count = d[1];
		if (len < 2)
			continue;
		for (uint32_t j = 0; j < len; j++) {
			uint32_t k = 0;
			long x;
			for (uint32_t m = 0; m < len; m++)
				if (m != j)
					lhs[k++] = d[2 + m];
			x = minei_sets_find(s, lhs, k);
			if (x < 0)
				return PM_EBADSTATE;   /* cannot happen: subsets of frequent sets are frequent */
			uint32_t lc = s->data[s->off[x] + 1];
			/* the same double division as arules: count(Z) / count(X) >= C */
			double conf = (double)count / (double)lc;
			if (conf < p->min_confidence)
				continue;
			if (p->min_lift > 0 &&
			    conf / ((double)res->rank_count[d[2 + j]] / n) < p->min_lift)
				continue;
			if ((rc = add_rule(res, (uint32_t)i, j, lc)))
				return rc;
		}
		if (p->progress && (i & 0xffff) == 0xffff) {
			struct mine_progress pr = { .phase = "rules", .transactions = res->n_txns,
							.items = res->n_ranks, .itemsets = s->n,
							.rules = res->n_rules };
			p->progress(p->progress_ctx, &pr);
		}
	}
	return PM_OK;
}

int mine_run(const struct mine_db *db, const struct mine_params *p,
		 struct mine_result **out, size_t *need)
{
	struct mine_result *res;
	size_t dummy;
	int rc;

	*out = NULL;
	if (!need)
		need = &dummy;
	*need = 0;
	if (p->min_count < 1 || p->max_len < 1 || p->max_len > MINE_MAX_LEN ||
	    (!p->no_rules && !(p->min_confidence > 0 && p->min_confidence <= 1)) || p->min_lift < 0 ||
	    db->in_txn)
		return PM_EINVAL;
	res = calloc(1, sizeof(*res));
	if (!res)
		return PM_ENOMEM;
	res->db = db;
	res->n_txns = db->n_txns;
	res->min_count = p->min_count;
	if ((rc = minei_fpgrowth(res, p, need)))
		goto fail;
	if (!p->no_rules) {
		if ((rc = minei_sets_index(&res->sets, &res->mem_used)) || (rc = gen_rules(res, p)))
			goto fail;
	}
	*out = res;
	return PM_OK;
fail:
	mine_result_free(res);
	return rc;
}

void mine_result_free(struct mine_result *res)
{
	if (!res)
		return;
	minei_sets_release(&res->sets);
	free(res->rank_item);
	free(res->rank_count);
	free(res->rules);
	free(res);
}

size_t mine_n_itemsets(const struct mine_result *res)
{
	return res->sets.n;
}

size_t mine_n_rules(const struct mine_result *res)
{
	return res->n_rules;
}

void mine_itemset(const struct mine_result *res, size_t i, uint32_t *ids, unsigned *len,
		      uint32_t *count)
{
	const uint32_t *d = res->sets.data + res->sets.off[i];
	*len = d[0];
	*count = d[1];
	for (uint32_t k = 0; k < d[0]; k++)
		ids[k] = res->rank_item[d[2 + k]];
}

void mine_rule_get(const struct mine_result *res, size_t i, struct mine_rule *out)
{
	const struct minei_rule *r = &res->rules[i];
	const uint32_t *d = res->sets.data + res->sets.off[r->set];
	double n = (double)res->n_txns;
	uint32_t rhs_rank = d[2 + r->rhs_pos];

	out->lhs_len = 0;
	for (uint32_t k = 0; k < d[0]; k++)
		if (k != r->rhs_pos)
			out->lhs[out->lhs_len++] = res->rank_item[d[2 + k]];
	out->rhs = res->rank_item[rhs_rank];
	out->count = d[1];
	out->lhs_count = r->lhs_count;
	out->rhs_count = res->rank_count[rhs_rank];
	out->support = (double)out->count / n;
	out->confidence = (double)out->count / (double)out->lhs_count;
	out->lift = out->confidence / ((double)out->rhs_count / n);
}

/* ---- exact minimum count ---------------------------------------------- */

/*
 * S is parsed as an exact decimal m * 10^e (m up to 18 significant digits);
 * ceil(S * n) = ceil(m * n / 10^-e) in 128-bit integers, so 0.1 * 30 is 3,
 * not the 4 a double product (3.0000000000000004) would round up to.
 */
int mine_min_count(const char *support, uint64_t n, uint32_t *out)
{
	const char *s = support;
	unsigned __int128 m = 0, num, den = 1;
	int digits = 0, exp10 = 0;
	bool seen = false, dot = false;

	*out = 0;
	if (!s)
		return PM_EINVAL;
	while (*s == ' ')
		s++;
	if (*s == '+')
		s++;
	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
		} else if (isdigit((unsigned char)*s)) {
			seen = true;
			if (m == 0 && *s == '0') {
				if (dot)
					exp10--;
				continue;
			}
			if (digits < 18) {
				m = m * 10 + (unsigned)(*s - '0');
				digits++;
				if (dot)
					exp10--;
			} else if (!dot) {
				exp10++;        /* digits beyond precision before the point */
			} else if (*s != '0') {
				return PM_EINVAL;   /* more precision than we keep: refuse, never round */
			}
		} else {
			break;
		}
	}
	if (!seen)
		return PM_EINVAL;
	if (*s == 'e' || *s == 'E') {
		char *end;
		long e = strtol(s + 1, &end, 10);
		if (end == s + 1 || *end || e < -40 || e > 40)
			return PM_EINVAL;
		exp10 += (int)e;
		s = end;
	}
	while (*s == ' ')
		s++;
	if (*s)
		return PM_EINVAL;
	if (m == 0)
		return PM_EINVAL;            /* support 0 is outside (0, 1] */
	/* S = m * 10^exp10 must be <= 1 */
	if (exp10 >= 0)
		return (m == 1 && exp10 == 0) ? (*out = n ? (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n) : 1, PM_OK)
					      : PM_EINVAL;
	if (-exp10 > 36)
		return (*out = 1, PM_OK);    /* S * n < 1 for any n below 2^32 */
	for (int i = 0; i < -exp10; i++)
		den *= 10;
	if (m > den)
		return PM_EINVAL;
	num = m * (unsigned __int128)n;
	num = (num + den - 1) / den;
	if (num < 1)
		num = 1;
	*out = num > UINT32_MAX ? UINT32_MAX : (uint32_t)num;
	return PM_OK;
}
