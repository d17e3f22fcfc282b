/*
 * mine_out.c - the writers of mining results (docs/mining.md):
 *  text      one rule per line, left items and lines sorted bytewise
 *  itemsets  one frequent itemset per line, sorted bytewise
 *  ruleset   posmark-rules v1 JSON cross-sell rules for the offers engine
 * (GTINs are recognised by common/pm_gs1).
 */
#include "mining/mine_int.h"
#include "common/pm_buf.h"
#include "common/pm_gs1.h"
#include "common/pm_err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lines of text in one buffer, to be written sorted. */
struct lines {
	struct pm_buf text;      /* the lines' bytes, no separators */
	size_t *start;           /* per line: offset; line i ends at start[i+1] */
	size_t n, cap_n;
	bool oom;                /* an append failed: the writer returns PM_ENOMEM */
};

static inline void put(struct lines *l, const char *s, size_t n)
{
	if (!l->oom && pm_buf_add(&l->text, s, n))
		l->oom = true;
}

static void line_start(struct lines *l)
{
	if (l->oom)
		return;
	if (l->n + 2 > l->cap_n) {
		size_t ncap = l->cap_n ? l->cap_n * 2 : 1024;
		size_t *ns = realloc(l->start, ncap * sizeof(size_t));
		if (!ns) {
			l->oom = true;
			return;
		}
		l->start = ns;
		l->cap_n = ncap;
	}
	l->start[l->n++] = l->text.len;
	l->start[l->n] = l->text.len;
}

static void line_end(struct lines *l)
{
	if (!l->oom)
		l->start[l->n] = l->text.len;
}

/* An item name, CSV-quoted when it holds a comma, quote, tab or newline. */
static void put_name(struct lines *l, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\t' || s[i] == '\n';
	if (!quote) {
		put(l, s, n);
		return;
	}
	put(l, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			put(l, "\"", 1);
		put(l, s + i, 1);
	}
	put(l, "\"", 1);
}

/* Item names, comma-separated, each as put_name writes it. */
static void put_names(struct lines *l, const struct mine_db *db, const uint32_t *ids, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		size_t len;
		const char *s = mine_item_name(db, ids[k], &len);
		if (k)
			put(l, ",", 1);
		put_name(l, s, len);
	}
}

/*
 * minei_fmt6: "%.6f" of v. The usual case formats v * 1e6 rounded as an integer: its
 * error (an ulp or two) only matters within 1e-6 of a rounding tie, and
 * there (and for huge or odd values) printf decides, so the text is always
 * printf's.
 */
size_t minei_fmt6(double v, char out[64])
{
	if (v >= 0 && v < 1e9) {
		double x = v * 1e6, f = floor(x), frac = x - f;
		if (fabs(frac - 0.5) > 1e-6) {
			uint64_t u = (uint64_t)f + (frac > 0.5), ip = u / 1000000;
			char tmp[32], *e = tmp + sizeof(tmp), *q = e;
			for (int k = 0; k < 6; k++, u /= 10)
				*--q = (char)('0' + u % 10);
			*--q = '.';
			do
				*--q = (char)('0' + ip % 10);
			while (ip /= 10);
			memcpy(out, q, (size_t)(e - q));
			out[e - q] = '\0';
			return (size_t)(e - q);
		}
	}
	return (size_t)snprintf(out, 64, "%.6f", v);
}

static void putf(struct lines *l, double v)
{
	char num[64];
	put(l, num, minei_fmt6(v, num));
}

/* qsort has no context: the writers keep theirs per thread (writers on two threads do not race) */
static _Thread_local const struct mine_db *sort_db;

static int cmp_names(const void *a, const void *b)
{
	size_t la, lb;
	const char *x = mine_item_name(sort_db, *(const uint32_t *)a, &la);
	const char *y = mine_item_name(sort_db, *(const uint32_t *)b, &lb);
	int c = memcmp(x, y, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

static _Thread_local const struct lines *sort_lines;

static int cmp_lines(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const char *x = sort_lines->text.data + sort_lines->start[i];
	const char *y = sort_lines->text.data + sort_lines->start[j];
	size_t la = sort_lines->start[i + 1] - sort_lines->start[i];
	size_t lb = sort_lines->start[j + 1] - sort_lines->start[j];
	int c = memcmp(x, y, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

/* Byte d of line i, 0 past its end (so a prefix sorts first). */
static inline int line_key(const struct lines *l, size_t i, size_t d)
{
	size_t len = l->start[i + 1] - l->start[i];
	return d < len ? (unsigned char)l->text.data[l->start[i] + d] + 1 : 0;
}

static int cmp_lines_from(const struct lines *l, size_t i, size_t j, size_t d)
{
	size_t la = l->start[i + 1] - l->start[i], lb = l->start[j + 1] - l->start[j];
	size_t m = la < lb ? la : lb;
	int c = d < m ? memcmp(l->text.data + l->start[i] + d, l->text.data + l->start[j] + d, m - d) : 0;
	return c ? c : (la > lb) - (la < lb);
}

/* Multikey quicksort (Bentley-Sedgewick) of line indices: shared prefixes,
 * long in rule text, are compared once per level instead of per comparison. */
static void sort_line_idx(const struct lines *l, size_t *a, size_t n, size_t d)
{
	while (n > 1) {
		if (n < 12) {
			for (size_t i = 1; i < n; i++)
				for (size_t j = i; j > 0 && cmp_lines_from(l, a[j - 1], a[j], d) > 0; j--) {
					size_t t = a[j - 1];
					a[j - 1] = a[j];
					a[j] = t;
				}
			return;
		}
		int v = line_key(l, a[n / 2], d);
		size_t lt = 0, i = 0, gt = n;
		while (i < gt) {
			int k = line_key(l, a[i], d);
			size_t t;
			if (k < v) {
				t = a[lt]; a[lt++] = a[i]; a[i++] = t;
			} else if (k > v) {
				t = a[--gt]; a[gt] = a[i]; a[i] = t;
			} else {
				i++;
			}
		}
		sort_line_idx(l, a, lt, d);
		if (v != 0)
			sort_line_idx(l, a + lt, gt - lt, d + 1);
		a += gt;
		n -= gt;
	}
}

static void lines_release(struct lines *l)
{
	pm_buf_free(&l->text);
	free(l->start);
}

/* Write the lines sorted bytewise, each followed by a newline, flush f,
 * release the lines. PM_ENOMEM (an append failed, or sorting), PM_EIO. */
static int write_sorted(struct lines *l, FILE *f)
{
	size_t *order = NULL;
	int rc = PM_OK;

	if (l->oom || !(order = malloc((l->n + 1) * sizeof(size_t)))) {
		rc = PM_ENOMEM;
		goto out_release;
	}
	for (size_t i = 0; i < l->n; i++)
		order[i] = i;
	sort_line_idx(l, order, l->n, 0);
	for (size_t i = 0; i < l->n && rc == PM_OK; i++) {
		size_t k = order[i];
		if (fwrite(l->text.data + l->start[k], 1, l->start[k + 1] - l->start[k], f) !=
			    l->start[k + 1] - l->start[k] || putc('\n', f) == EOF)
			rc = PM_EIO;
	}
	free(order);
	if (rc == PM_OK && fflush(f))
		rc = PM_EIO;
out_release:
	lines_release(l);
	return rc;
}

/* Bytewise order of the frequent items' names: name_pos[item id]. */
static _Thread_local uint32_t *name_pos;

static int name_order_init(const struct mine_result *res)
{
	uint32_t *ids = malloc(((size_t)res->n_ranks + 1) * sizeof(uint32_t));
	name_pos = calloc((size_t)res->db->n_items + 1, sizeof(uint32_t));
	if (!ids || !name_pos) {
		free(ids);
		free(name_pos);
		name_pos = NULL;
		return PM_ENOMEM;
	}
	memcpy(ids, res->rank_item, res->n_ranks * sizeof(uint32_t));
	sort_db = res->db;
	qsort(ids, res->n_ranks, sizeof(uint32_t), cmp_names);
	for (uint32_t k = 0; k < res->n_ranks; k++)
		name_pos[ids[k]] = k;
	free(ids);
	return PM_OK;
}

static void name_order_release(void)
{
	free(name_pos);
	name_pos = NULL;
}

/* Item ids in bytewise order of their names (short arrays). */
static void sort_by_name(uint32_t *ids, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint32_t v = ids[i];
		unsigned j = i;
		for (; j > 0 && name_pos[ids[j - 1]] > name_pos[v]; j--)
			ids[j] = ids[j - 1];
		ids[j] = v;
	}
}

/* Rule i's text line without the newline (name_order_init first). */
static void rule_line(struct lines *l, const struct mine_result *res, size_t i)
{
	struct mine_rule r;
	size_t n;
	const char *s;

	mine_rule_get(res, i, &r);
	sort_by_name(r.lhs, r.lhs_len);
	line_start(l);
	put_names(l, res->db, r.lhs, r.lhs_len);
	put(l, " => ", 4);
	s = mine_item_name(res->db, r.rhs, &n);
	put_name(l, s, n);
	put(l, "\t", 1);
	putf(l, r.support);
	put(l, "\t", 1);
	putf(l, r.confidence);
	put(l, "\t", 1);
	putf(l, r.lift);
	line_end(l);
}

int mine_write_text(const struct mine_result *res, FILE *f)
{
	struct lines l = { 0 };

	if (name_order_init(res))
		return PM_ENOMEM;
	for (size_t i = 0; i < res->n_rules; i++)
		rule_line(&l, res, i);
	name_order_release();
	return write_sorted(&l, f);
}

int mine_write_itemsets(const struct mine_result *res, FILE *f)
{
	struct lines l = { 0 };
	uint32_t ids[MINE_MAX_LEN], count;
	unsigned len;
	char num[32];

	if (name_order_init(res))
		return PM_ENOMEM;
	for (size_t i = 0; i < res->sets.n; i++) {
		mine_itemset(res, i, ids, &len, &count);
		sort_by_name(ids, len);
		line_start(&l);
		put_names(&l, res->db, ids, len);
		put(&l, "\t", 1);
		putf(&l, (double)count / (double)res->n_txns);
		put(&l, num, (size_t)snprintf(num, sizeof(num), "\t%u", count));
		line_end(&l);
	}
	name_order_release();
	return write_sorted(&l, f);
}

/* ---- the JSON rule set -------------------------------------------------- */

struct ranked {
	size_t rule;
	uint32_t count, lhs_count;
	size_t line;             /* text line, the last tie-break */
};

static _Thread_local const struct lines *rank_lines;

/* Confidence descending (exact: cross-multiplied counts), count descending, text. */
static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	uint64_t l = (uint64_t)x->count * y->lhs_count, r = (uint64_t)y->count * x->lhs_count;
	if (l != r)
		return l > r ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	sort_lines = rank_lines;
	return cmp_lines(&x->line, &y->line);
}

static int cmp_gtin(const void *a, const void *b)
{
	return memcmp(a, b, 15);
}

/* The basket rules as rule-set entries (each after a ",\n" once one was written); *n_ok counts them. */
static int write_basket_rules(const struct mine_result *res, FILE *f, int percent, int weight_pct,
			      size_t *n_ok, size_t *skipped)
{
	struct lines l = { 0 };
	struct ranked *rk;
	char (*lhs)[15];
	char rhs[15];
	size_t n_start = *n_ok;
	int rc = PM_OK;

	rk = malloc((res->n_rules + 1) * sizeof(*rk));
	lhs = malloc(MINE_MAX_LEN * sizeof(*lhs));
	if (!rk || !lhs || name_order_init(res)) {
		free(rk);
		free(lhs);
		return PM_ENOMEM;
	}
	for (size_t i = 0; i < res->n_rules; i++) {
		const struct minei_rule *r = &res->rules[i];
		rk[i] = (struct ranked){ i, res->sets.data[res->sets.off[r->set] + 1], r->lhs_count, i };
		rule_line(&l, res, i);
	}
	name_order_release();
	if (l.oom) {
		rc = PM_ENOMEM;
		goto out;
	}
	rank_lines = &l;
	qsort(rk, res->n_rules, sizeof(*rk), cmp_ranked);
	for (size_t i = 0; i < res->n_rules; i++) {
		struct mine_rule r;
		const char *s;
		size_t n;
		unsigned nl = 0;
		bool ok;

		mine_rule_get(res, rk[i].rule, &r);
		s = mine_item_name(res->db, r.rhs, &n);
		ok = pm_gtin14(s, n, rhs);
		for (unsigned k = 0; ok && k < r.lhs_len; k++) {
			s = mine_item_name(res->db, r.lhs[k], &n);
			ok = pm_gtin14(s, n, lhs[nl]);
			if (ok && strcmp(lhs[nl], rhs))
				nl++;        /* two spellings of the right item: drop it from the left */
		}
		if (!ok || nl == 0) {
			(*skipped)++;
			continue;
		}
		qsort(lhs, nl, sizeof(*lhs), cmp_gtin);
		fprintf(f, "%s\n {\"id\":\"mined-%zu\",\"campaign\":\"mined-cross-sell\","
			   "\"kind\":\"cross_sell\",\"priority\":%llu,\"when\":{\"basket\":{\"all\":[",
			*n_ok ? "," : "", *n_ok - n_start + 1,
			(unsigned long long)(((uint64_t)r.count * 10 * weight_pct + r.lhs_count / 2) / r.lhs_count));
		for (unsigned k = 0; k < nl; k++)
			if (k == 0 || strcmp(lhs[k], lhs[k - 1]))
				fprintf(f, "%s{\"item\":\"%s\"}", k ? "," : "", lhs[k]);
		fprintf(f, "]}},\"offer\":{\"item\":\"%s\",\"percent_off\":%d},"
			   "\"stats\":{\"support\":%.6f,\"confidence\":%.6f,\"lift\":%.6f,\"count\":%u}}",
			rhs, percent, r.support, r.confidence, r.lift, r.count);
		(*n_ok)++;
	}
out:
	lines_release(&l);
	free(rk);
	free(lhs);
	return rc;
}

int mine_write_ruleset(const struct mine_result *res, FILE *f, size_t *written,
			   size_t *skipped)
{
	size_t n_ok = 0;
	int rc;

	*written = 0;
	*skipped = 0;
	fprintf(f, "{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"mined cross-sell\","
		   "\"generated_by\":\"posmark mine\",\"rules\":[");
	if ((rc = write_basket_rules(res, f, 10, 100, &n_ok, skipped)))
		return rc;
	fprintf(f, "%s]}\n", n_ok ? "\n" : "");
	*written = n_ok;
	if (fflush(f) || ferror(f))
		return PM_EIO;
	return PM_OK;
}

/* The explore rules (A -> B) and back-fill rules of a sequential run, as rule-set entries. */
static void write_explore_rules(const struct mine_seq *seq, const struct mine_seq_rule *v, size_t n, int percent,
				FILE *f, size_t *n_ok, size_t *skipped)
{
	char a[15], b[15];
	size_t id = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (v[i].from == v[i].to)
			continue;   /* a repeat rate: the personal campaign's */
		const char *s = mine_seq_item(seq, v[i].to, &len);
		bool ok = pm_gtin14(s, len, b);
		if (ok && v[i].from != MINE_SEQ_NONE) {
			s = mine_seq_item(seq, v[i].from, &len);
			ok = pm_gtin14(s, len, a);
		}
		if (!ok) {
			(*skipped)++;
			continue;
		}
		unsigned prio = (unsigned)lround(v[i].confidence * 1000);
		if (v[i].from != MINE_SEQ_NONE)
			fprintf(f, "%s\n {\"id\":\"explore-%zu\",\"campaign\":\"explore\",\"kind\":\"explore\","
				   "\"priority\":%u,\"when\":{\"basket\":{\"all\":[{\"item\":\"%s\"}]}},",
				*n_ok ? "," : "", ++id, prio, a);
		else
			fprintf(f, "%s\n {\"id\":\"popular-%zu\",\"campaign\":\"explore\",\"kind\":\"explore\","
				   "\"priority\":%u,", *n_ok ? "," : "", ++id, prio);
		fprintf(f, "\"offer\":{\"item\":\"%s\",\"percent_off\":%d},\"stats\":{\"support\":%.6f,"
			   "\"confidence\":%.6f,\"lift\":%.6f,\"count\":%u}}", b, percent,
			(double)v[i].count / (v[i].from_count ? v[i].from_count : 1), v[i].confidence, v[i].lift,
			v[i].from != MINE_SEQ_NONE ? v[i].customers : v[i].count);
		(*n_ok)++;
	}
}

/* The items' repeat rates (from == to) as "GTIN":rate pairs, for the personal campaign's prior. */
static void write_repeat_rates(const struct mine_seq *seq, const struct mine_seq_rule *v, size_t n, FILE *f)
{
	char g[15];
	size_t k = 0;
	for (size_t i = 0; seq && v && i < n; i++) {
		size_t len;
		const char *s;
		if (v[i].from != v[i].to)
			continue;
		s = mine_seq_item(seq, v[i].to, &len);
		if (pm_gtin14(s, len, g))
			fprintf(f, "%s\"%s\":%.4f", k++ ? (k % 6 ? "," : ",\n   ") : "", g, v[i].confidence);
	}
}

int mine_write_store_ruleset(const struct mine_result *res, const struct mine_seq *seq,
			     const struct mine_seq_rule *v, size_t n, const struct mine_store_params *sp,
			     FILE *f, size_t *written, size_t *skipped)
{
	size_t n_ok = 0;
	int rc;

	*written = 0;
	*skipped = 0;
	fprintf(f, "{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"mined store offers\","
		   "\"generated_by\":\"posmark mine\",\"limits\":{\"offers_per_receipt\":3,\"max_repeats\":%d",
		sp->max_repeats);
	if (sp->explore_weight > 0 && seq && v)
		fprintf(f, ",\"explore_weight\":%.3f,\"explore_novelty\":%.4f", sp->explore_weight, sp->explore_novelty);
	fprintf(f, "},\n \"campaigns\":{\"mined-cross-sell\":{\"holdout_pct\":%d},\"explore\":{\"holdout_pct\":%d},"
		   "\"personal\":{\"holdout_pct\":%d}},\"rules\":[", sp->holdout_pct, sp->holdout_pct, sp->holdout_pct);
	if (res && (rc = write_basket_rules(res, f, sp->cross_sell_percent, sp->cross_sell_weight_pct, &n_ok, skipped)))
		return rc;
	if (seq && v)
		write_explore_rules(seq, v, n, sp->explore_percent, f, &n_ok, skipped);
	if (sp->personal_half_life_days > 0) {
		fprintf(f, "%s\n {\"id\":\"personal\",\"campaign\":\"personal\",\"kind\":\"personal\","
			   "\"offer\":{\"percent_off\":%d},\n  \"personal\":{\"half_life_days\":%d,\"repeat_rates\":{",
			n_ok ? "," : "", sp->personal_percent, sp->personal_half_life_days);
		write_repeat_rates(seq, v, n, f);
		fprintf(f, "}}}");
		n_ok++;
	}
	fprintf(f, "%s]}\n", n_ok ? "\n" : "");
	*written = n_ok;
	if (fflush(f) || ferror(f))
		return PM_EIO;
	return PM_OK;
}
