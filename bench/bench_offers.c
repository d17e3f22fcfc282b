/*
 * bench_offers.c - offer decision time per sale, indexed vs naive, for
 * 1k, 10k and 100k active rules and a card with 1,000 past sales.
 *
 * Rule sets look like mined ones: cross-sell rules with 1-3 antecedent
 * items drawn by a Zipf law over 20,000 products (popular items appear in
 * many rules, as whole milk does in Groceries), plus 2% category/brand
 * rules and 40 card-only campaigns using the history (bought within N
 * days, segment, tier) in the always list; a fifth of the mined rules are
 * explore rules, 20 unconditioned explore rules are the back-fill, and a
 * personal campaign (with repeat rates for 2,000 items) ranks the card's own
 * items in with them (issue 16), with the limits `mine` writes (scored
 * explore: weight 1.6, so the profile also lists explore candidates from the
 * card's history and the decision merges four streams). Baskets: 5-30 lines, items by
 * the same Zipf law. The card's profile (1,000 sales) is built once, as the
 * till does when the card is scanned; its build time is reported apart.
 * The naive baseline evaluates every rule in the same run (req.naive).
 * bytes/rule is the heap the loaded rule set keeps per rule (mallinfo2),
 * without the catalog snapshot (measured on an empty rule set).
 * Each figure is the median over ROUNDS rounds. Usage:
 *   bench_offers [rounds] [decisions_per_round]
 */
#include "offers/offers.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCTS 20000
#define CATEGORIES 60
#define BRANDS 800
#define DAY (INT64_C(86400) * 1000000)

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static double uni(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

static char gtins[PRODUCTS][15], names[PRODUCTS][32], cats[CATEGORIES][16], brands[BRANDS][16];
static double zipf_cdf[PRODUCTS];
static int64_t now_us;

static int zipf(void)
{
	double u = uni();
	int lo = 0, hi = PRODUCTS - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void make_catalog(void)
{
	double sum = 0;
	for (int i = 0; i < PRODUCTS; i++) {
		char d[14];
		int s = 0;
		snprintf(d, sizeof(d), "0400%09d", i);
		for (int k = 0; k < 13; k++)
			s += (d[k] - '0') * (k % 2 == 0 ? 3 : 1);
		snprintf(gtins[i], sizeof(gtins[i]), "%s%d", d, (10 - s % 10) % 10);
		snprintf(names[i], sizeof(names[i]), "Product %d", i);
		sum += 1.0 / pow(i + 1, 0.9);
		zipf_cdf[i] = sum;
	}
	for (int i = 0; i < PRODUCTS; i++)
		zipf_cdf[i] /= sum;
	for (int i = 0; i < CATEGORIES; i++)
		snprintf(cats[i], sizeof(cats[i]), "Category %d", i);
	for (int i = 0; i < BRANDS; i++)
		snprintf(brands[i], sizeof(brands[i]), "Brand %d", i);
}

static int cat_each(void *ctx, ofr_product_cb cb, void *cb_ctx)
{
	(void)ctx;
	for (int i = 0; i < PRODUCTS; i++) {
		struct ofr_product p = { gtins[i], names[i], cats[i % CATEGORIES], brands[i % BRANDS], 100 + i % 5000 };
		int rc = cb(cb_ctx, &p);
		if (rc)
			return rc;
	}
	return 0;
}

/* A card with 1,000 past sales of 5-20 items, one every ~2 days, generated once. */
static struct ofr_line hist_lines[1000][20];
static int hist_n[1000];

static void make_history(void)
{
	for (int s = 0; s < 1000; s++) {
		hist_n[s] = 5 + (int)(next() % 16);
		for (int i = 0; i < hist_n[s]; i++) {
			memcpy(hist_lines[s][i].gtin, gtins[zipf()], 15);
			hist_lines[s][i].qty = 1;
			hist_lines[s][i].line_cents = 250;
		}
	}
}

static int hist_each(void *ctx, const char *card, ofr_sale_cb cb, void *cb_ctx)
{
	(void)ctx;
	(void)card;
	for (int s = 0; s < 1000; s++) {
		struct ofr_sale_view v = { now_us - (int64_t)(1000 - s) * 2 * DAY, hist_n[s] * 250, (size_t)hist_n[s],
					   hist_lines[s] };
		if (cb(cb_ctx, &v))
			break;
	}
	return 0;
}

static char *make_rules(int n)
{
	size_t cap = (size_t)n * 400 + 100000, o = 0;
	char *s = malloc(cap);
	o += (size_t)snprintf(s + o, cap - o, "{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"bench %d\","
			      "\"limits\":{\"max_repeats\":3,\"explore_weight\":1.6,\"explore_novelty\":0.6},\"rules\":[", n);
	o += (size_t)snprintf(s + o, cap - o, "{\"id\":\"personal\",\"kind\":\"personal\",\"offer\":{\"percent_off\":5},"
			      "\"personal\":{\"half_life_days\":90,\"repeat_rates\":{");
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s\"%s\":%.3f", i ? "," : "", gtins[i], uni() * 0.5);
	o += (size_t)snprintf(s + o, cap - o, "}}}");
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(s + o, cap - o, ",{\"id\":\"popular-%d\",\"kind\":\"explore\",\"offer\":{\"item\":\"%s\","
				      "\"percent_off\":10},\"stats\":{\"confidence\":%.3f}}", i, gtins[i], 0.02 + 0.001 * i);
	for (int i = 0; i < n; i++) {
		const char *sep = ",";
		int kind = (int)(next() % 100), target = zipf();
		if (i < 40) {   /* card-only campaigns over the history */
			o += (size_t)snprintf(s + o, cap - o, "%s{\"id\":\"card-%d\",\"kind\":\"promotion\",\"priority\":%d,"
					      "\"when\":{\"card\":{\"tier_min\":%d,\"bought\":[{\"category\":\"%s\",\"within_days\":%d}],"
					      "\"not_bought\":[{\"item\":\"%s\",\"within_days\":30}]%s}},"
					      "\"offer\":{\"item\":\"%s\",\"percent_off\":10}}", sep, i, (int)(next() % 1000), i % 3,
					      cats[i % CATEGORIES], 7 + i, gtins[zipf()], i % 4 == 0 ? ",\"segment\":[\"loyal\",\"champions\"]" : "",
					      gtins[target]);
		} else if (kind < 2) {
			o += (size_t)snprintf(s + o, cap - o, "%s{\"id\":\"c-%d\",\"kind\":\"cross_sell\",\"priority\":%d,"
					      "\"when\":{\"basket\":{\"all\":[{\"%s\":\"%s\",\"min_qty\":2}]}},"
					      "\"offer\":{\"item\":\"%s\",\"percent_off\":10}}", sep, i, (int)(next() % 1000),
					      kind ? "brand" : "category", kind ? brands[next() % BRANDS] : cats[next() % CATEGORIES],
					      gtins[target]);
		} else {
			int k = 1 + (int)(next() % 3);
			o += (size_t)snprintf(s + o, cap - o, "%s{\"id\":\"m-%d\",\"campaign\":\"mined\",\"kind\":\"%s\",\"priority\":%d,"
					      "\"when\":{\"basket\":{\"all\":[", sep, i, kind < 22 ? "explore" : "cross_sell",
					      (int)(next() % 1000));
			for (int j = 0; j < k; j++)
				o += (size_t)snprintf(s + o, cap - o, "%s{\"item\":\"%s\"}", j ? "," : "", gtins[zipf()]);
			o += (size_t)snprintf(s + o, cap - o, "]}},\"offer\":{\"item\":\"%s\",\"percent_off\":10},"
					      "\"stats\":{\"support\":0.01,\"confidence\":%.3f,\"lift\":2.0}}", gtins[target], uni());
		}
	}
	snprintf(s + o, cap - o, "]}");
	return s;
}

/* Bytes the heap holds: small chunks and mmapped ones (large arrays). */
static size_t heap_bytes(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct baskets {
	struct ofr_line l[30];
	size_t n;
};

static void measure(struct ofr_rules *r, const struct ofr_request *base, const struct baskets *b, int n,
		    bool naive, double *p50, double *p99, size_t *cands)
{
	int64_t *t = malloc(sizeof(*t) * (size_t)n);
	struct ofr_decision d;
	size_t c = 0;
	for (int i = 0; i < n; i++) {
		struct ofr_request req = *base;
		req.items = b[i].l;
		req.n_items = b[i].n;
		req.naive = naive;
		int64_t t0 = pm_mono_ns();
		ofr_decide(r, &req, &d, NULL);
		t[i] = pm_mono_ns() - t0;
		c += d.candidates;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_i64);
	*p50 = t[n / 2] / 1000.0;
	*p99 = t[(n * 99) / 100] / 1000.0;
	*cands = c / (size_t)n;
	free(t);
}

static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return v[n / 2];
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3, per = argc > 2 ? atoi(argv[2]) : 2000;
	static const int sizes[] = { 1000, 10000, 100000 };
	struct ofr_catalog_source cat = { NULL, cat_each };
	struct ofr_history_source hist = { NULL, hist_each };
	struct ofr_card card;
	struct ofr_coupon_key key;
	double idx_p50_by_size[3] = { 0 };
	if (rounds < 1 || per < 100) {
		fprintf(stderr, "usage: bench_offers [rounds>=1] [decisions_per_round>=100]\n");
		return 2;
	}
	now_us = INT64_C(1795000000) * 1000000;
	make_catalog();
	make_history();
	ofr_coupon_key_from_text("bench key, not for production use", &key);
	memset(&card, 0, sizeof(card));
	strcpy(card.number, "6036010000001000005");
	card.known = true;
	card.consent = OFR_CONSENT_YES;
	card.tier = 1;
	card.visits = 1000;
	card.last_visit_us = now_us - 2 * DAY;
	struct baskets *b = calloc((size_t)per, sizeof(*b));
	for (int i = 0; i < per; i++) {
		b[i].n = 5 + next() % 26;
		for (size_t j = 0; j < b[i].n; j++) {
			memcpy(b[i].l[j].gtin, gtins[zipf()], 15);
			b[i].l[j].qty = 1 + (int)(next() % 2);
			b[i].l[j].line_cents = 300;
		}
	}
	printf("offers: decision per sale, card with 1000 past sales, baskets of 5-30 lines, %d rounds x %d sales\n",
	       rounds, per);
	printf("%8s %9s %9s %9s %9s %9s %9s %8s %10s %10s\n", "rules", "idx_p50", "idx_p99", "naive_p50", "naive_p99",
	       "ratio_p50", "ratio_p99", "cands", "load_ms", "bytes/rule");
	/* the catalog snapshot alone, to take off the per-rule figure */
	size_t base_bytes;
	{
		const char *empty = "{\"format\":\"posmark-rules\",\"version\":1,\"rules\":[]}";
		struct ofr_rules *r = NULL;
		struct ofr_diags d = { 0 };
		size_t before = heap_bytes();
		ofr_rules_load(empty, strlen(empty), &cat, "", &r, &d);
		base_bytes = heap_bytes() - before;
		ofr_rules_free(r);
		ofr_diags_release(&d);
	}
	for (int s = 0; s < 3; s++) {
		double ip50[16], ip99[16], np50[16], np99[16], load[16], prof_us[16], per_rule = 0;
		size_t cands = 0, ncands = 0;
		char *json = make_rules(sizes[s]);
		for (int k = 0; k < rounds && k < 16; k++) {
			struct ofr_rules *r = NULL;
			struct ofr_diags d = { 0 };
			struct ofr_profile *p = NULL;
			size_t before = heap_bytes();
			int64_t t0 = pm_mono_ns();
			if (ofr_rules_load(json, strlen(json), &cat, "", &r, &d)) {
				fprintf(stderr, "bench: rule set did not load: %s\n", d.n ? d.v[0].msg : "?");
				return 1;
			}
			load[k] = (pm_mono_ns() - t0) / 1e6;
			per_rule = ((double)(heap_bytes() - before) - (double)base_bytes) / sizes[s];
			t0 = pm_mono_ns();
			ofr_profile_build(r, &card, &hist, now_us, &p);
			prof_us[k] = (pm_mono_ns() - t0) / 1e3;
			struct ofr_request req = { .card = &card, .profile = p, .key = &key, .now_us = now_us, .sale_seq = 1 };
			measure(r, &req, b, per, false, &ip50[k], &ip99[k], &cands);
			/* the naive baseline is slow at 100k rules: fewer sales, same baskets */
			int nper = sizes[s] >= 100000 ? per / 10 : per;
			measure(r, &req, b, nper < 100 ? 100 : nper, true, &np50[k], &np99[k], &ncands);
			ofr_profile_free(p);
			ofr_rules_free(r);
			ofr_diags_release(&d);
		}
		int n = rounds < 16 ? rounds : 16;
		double a = median(ip50, n), bb = median(ip99, n), c = median(np50, n), dd = median(np99, n);
		idx_p50_by_size[s] = a;
		printf("%8d %8.2fus %8.2fus %8.1fus %8.1fus %8.0fx %8.0fx %8zu %9.0fms %10.0f   (profile of 1000 sales: %.0f us)\n",
		       sizes[s], a, bb, c, dd, c / a, dd / bb, cands, median(load, n), per_rule, median(prof_us, n));
		free(json);
	}
	printf("offers: 100k rules vs 1k rules, indexed p50: %.2fx slower (target <= 3x); "
	       "targets at 10k: p99 < 50 us, >= 50x naive; < 500 bytes/rule\n", idx_p50_by_size[2] / idx_p50_by_size[0]);
	free(b);
	return 0;
}
