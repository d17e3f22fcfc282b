/*
 * test_mine.c - market-basket mining (mining/mine_*.c): FP-growth itemsets
 * and rules against a brute-force counter on random data sets over many
 * seeds, the exact minimum count, and the known figures of the real data
 * sets in tests/data/ (tests/data/README.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mining/mining.h"
#include "mining/mine_int.h"
#include "common/pm_err.h"
#include "common/pm_gs1.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- brute force --------------------------------------------------------- */

#define BF_MAX_ITEMS 12

static uint64_t rng_state;
static uint32_t bf_basket_max = 9;
static size_t bf_total_sets, bf_total_rules;  /* coverage: the seeds must find plenty */    /* basket sizes 0..max-1 before repeats */
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)((rng_state >> 33) % n);
}

/* Mask of a result's item ids, through the names "iK". */
static uint32_t mask_of(const struct mine_db *db, const uint32_t *ids, unsigned n)
{
	uint32_t m = 0;
	for (unsigned k = 0; k < n; k++) {
		size_t len;
		const char *s = mine_item_name(db, ids[k], &len);
		m |= 1u << atoi(s + 1);
	}
	return m;
}

static void one_seed(uint64_t seed)
{
	uint32_t n_items = 1 + seed % BF_MAX_ITEMS, n_txns, minc;
	static uint32_t count[1u << BF_MAX_ITEMS];
	static uint32_t seen_set[1u << BF_MAX_ITEMS];
	static uint32_t seen_rule[1u << BF_MAX_ITEMS][BF_MAX_ITEMS];
	struct mine_params p = { 0 };
	struct mine_db *db;
	struct mine_result *res;
	const double confs[] = { 0.01, 0.25, 0.5, 2.0 / 3.0, 0.8, 1.0 };
	size_t n_sets = 0, n_rules = 0;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 7;
	n_txns = 1 + rnd(80);
	memset(count, 0, sizeof(count));
	memset(seen_set, 0, sizeof(seen_set));
	memset(seen_rule, 0, sizeof(seen_rule));
	assert_int_equal(mine_db_new(&db), PM_OK);
	/* skewed popularity: item k kept with probability falling in k */
	for (uint32_t t = 0; t < n_txns; t++) {
		uint32_t m = 0, size = rnd(bf_basket_max);
		assert_int_equal(mine_txn_begin(db), PM_OK);
		for (uint32_t k = 0; k < size; k++) {
			uint32_t it = rnd(1 + rnd(n_items));
			char name[8];
			snprintf(name, sizeof(name), "i%u", it);
			assert_int_equal(mine_txn_item(db, name, strlen(name)), PM_OK);
			if (rnd(4) == 0)   /* a repeated item counts once */
				assert_int_equal(mine_txn_item(db, name, strlen(name)), PM_OK);
			m |= 1u << it;
		}
		assert_int_equal(mine_txn_end(db), PM_OK);
		for (uint32_t s = m;; s = (s - 1) & m) {   /* every subset of the basket */
			count[s]++;
			if (!s)
				break;
		}
	}
	minc = 1 + rnd(n_txns < 6 ? n_txns : n_txns / 3);
	p.min_count = minc;
	p.max_len = 1 + rnd(6);
	p.min_confidence = confs[rnd(6)];
	p.min_lift = rnd(3) == 0 ? 1.0 + rnd(3) * 0.5 : 0;
	assert_int_equal(mine_run(db, &p, &res, NULL), PM_OK);

	for (size_t i = 0; i < mine_n_itemsets(res); i++) {
		uint32_t ids[MINE_MAX_LEN], c;
		unsigned len;
		mine_itemset(res, i, ids, &len, &c);
		uint32_t m = mask_of(db, ids, len);
		assert_int_equal((unsigned)__builtin_popcount(m), len);   /* no repeats */
		assert_int_equal(seen_set[m], 0);                          /* each once */
		seen_set[m] = 1;
		assert_int_equal(c, count[m]);                             /* exact count */
	}
	for (size_t i = 0; i < mine_n_rules(res); i++) {
		struct mine_rule r;
		mine_rule_get(res, i, &r);
		uint32_t lhs = mask_of(db, r.lhs, r.lhs_len), rhs = mask_of(db, &r.rhs, 1);
		int y = __builtin_ctz(rhs);
		assert_true(r.lhs_len >= 1);
		assert_int_equal(lhs & rhs, 0);
		assert_int_equal(seen_rule[lhs][y], 0);
		seen_rule[lhs][y] = 1;
		assert_int_equal(r.count, count[lhs | rhs]);
		assert_int_equal(r.lhs_count, count[lhs]);
		assert_int_equal(r.rhs_count, count[rhs]);
	}
	/* everything the brute force finds is there */
	for (uint32_t m = 1; m < (1u << n_items); m++) {
		unsigned len = (unsigned)__builtin_popcount(m);
		if (len > p.max_len || count[m] < minc)
			continue;
		n_sets++;
		assert_int_equal(seen_set[m], 1);
		if (len < 2)
			continue;
		for (int y = 0; y < (int)n_items; y++) {
			if (!(m & (1u << y)))
				continue;
			uint32_t lhs = m & ~(1u << y);
			double conf = (double)count[m] / (double)count[lhs];
			double lift = conf / ((double)count[1u << y] / (double)n_txns);
			if (conf < p.min_confidence || (p.min_lift > 0 && lift < p.min_lift))
				continue;
			n_rules++;
			assert_int_equal(seen_rule[lhs][y], 1);
		}
	}
	assert_int_equal(n_sets, mine_n_itemsets(res));
	assert_int_equal(n_rules, mine_n_rules(res));
	bf_total_sets += n_sets;
	bf_total_rules += n_rules;
	mine_result_free(res);
	mine_db_free(db);
}

static void test_bruteforce_many_seeds(void **state)
{
	(void)state;
	minei_par_min_txns = 2;   /* the first tree's masks by two threads */
	for (uint64_t seed = 1; seed <= 1500; seed++)
		one_seed(seed);
	minei_par_min_txns = 65536;
	printf("brute force: %zu itemsets, %zu rules compared\n", bf_total_sets, bf_total_rules);
	assert_true(bf_total_sets > 20000 && bf_total_rules > 10000);
}

/* The same seeds with the counting-sort pass taken for every path set
 * (first tree from rank lists too). */
static void test_bruteforce_radix_sort(void **state)
{
	(void)state;
	minei_radix_min = 1;
	minei_mask_items = 0;
	for (uint64_t seed = 1; seed <= 600; seed++)
		one_seed(seed);
	minei_mask_items = 128;
	minei_radix_min = 4096;
}

/* The same seeds with the first tree built from sorted rank lists instead
 * of 128-bit masks (the way for more than 128 frequent items). */
static void test_bruteforce_list_paths(void **state)
{
	(void)state;
	minei_mask_items = 0;
	for (uint64_t seed = 1; seed <= 600; seed++)
		one_seed(seed);
	minei_mask_items = 128;
}

/* Whole sorted output of one run, itemsets then rules. */
static char *mined_text(const struct mine_db *db, const struct mine_params *p)
{
	struct mine_result *res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(mine_run(db, p, &res, NULL), PM_OK);
	assert_int_equal(mine_write_itemsets(res, f), PM_OK);
	assert_int_equal(mine_write_text(res, f), PM_OK);
	mine_result_free(res);
	fclose(f);
	return buf;
}

/* Masks against rank lists with 60..200 frequent items, so both words of
 * a mask (ranks 64..127) and the switch-over at 128 are used. */
static void test_mask_paths_match_lists(void **state)
{
	(void)state;
	for (uint32_t n_items = 60; n_items <= 200; n_items += 20) {
		struct mine_db *db;
		struct mine_params p = { .max_len = 4, .min_confidence = 0.3 };
		char *a, *b;

		rng_state = n_items;
		assert_int_equal(mine_db_new(&db), PM_OK);
		for (uint32_t t = 0; t < 3000; t++) {
			uint32_t size = 1 + rnd(12);
			assert_int_equal(mine_txn_begin(db), PM_OK);
			for (uint32_t k = 0; k < size; k++) {
				char name[16];
				/* every item fairly frequent, a few much more */
				snprintf(name, sizeof(name), "i%u", rnd(4) ? rnd(n_items) : rnd(8));
				assert_int_equal(mine_txn_item(db, name, strlen(name)), PM_OK);
			}
			assert_int_equal(mine_txn_end(db), PM_OK);
		}
		p.min_count = 15;
		a = mined_text(db, &p);
		minei_mask_items = 0;
		b = mined_text(db, &p);
		minei_mask_items = 128;
		assert_true(strlen(a) > 1000);
		assert_string_equal(a, b);
		free(b);
		minei_par_min_txns = 1;
		b = mined_text(db, &p);
		minei_par_min_txns = 65536;
		assert_string_equal(a, b);
		free(a);
		free(b);
		mine_db_free(db);
	}
}

/* Dense data: long shared prefixes, chains, max_len cuts. */
static void test_bruteforce_dense(void **state)
{
	(void)state;
	bf_basket_max = 16;
	for (uint64_t seed = 5001; seed <= 5300; seed++)
		one_seed(seed * 12 + 11);   /* n_items = 12 */
	bf_basket_max = 9;
}

/* ---- exact minimum count -------------------------------------------------- */

static void test_min_count(void **state)
{
	uint32_t c;
	(void)state;
	assert_int_equal(mine_min_count("0.1", 30, &c), PM_OK);
	assert_int_equal(c, 3);        /* a double product would give 4 */
	assert_int_equal(mine_min_count("0.001", 9835, &c), PM_OK);
	assert_int_equal(c, 10);
	assert_int_equal(mine_min_count("0.001", 88162, &c), PM_OK);
	assert_int_equal(c, 89);
	assert_int_equal(mine_min_count("0.0005", 88162, &c), PM_OK);
	assert_int_equal(c, 45);
	assert_int_equal(mine_min_count("1", 500, &c), PM_OK);
	assert_int_equal(c, 500);
	assert_int_equal(mine_min_count("1.0", 7, &c), PM_OK);
	assert_int_equal(c, 7);
	assert_int_equal(mine_min_count("0.5", 3, &c), PM_OK);
	assert_int_equal(c, 2);
	assert_int_equal(mine_min_count("1e-3", 1000, &c), PM_OK);
	assert_int_equal(c, 1);
	assert_int_equal(mine_min_count("1E-3", 1001, &c), PM_OK);
	assert_int_equal(c, 2);
	assert_int_equal(mine_min_count(".25", 8, &c), PM_OK);
	assert_int_equal(c, 2);
	assert_int_equal(mine_min_count("0.000000001", 100, &c), PM_OK);
	assert_int_equal(c, 1);
	assert_int_equal(mine_min_count("0", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("0.0", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("1.01", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("2", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("-0.1", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("abc", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("0.1x", 100, &c), PM_EINVAL);
	assert_int_equal(mine_min_count("", 100, &c), PM_EINVAL);
}

/* ---- readers -------------------------------------------------------------- */

static struct mine_db *read_text(const char *text, enum mine_format fmt, int want_rc,
				     char *err, size_t errlen)
{
	struct mine_db *db;
	assert_int_equal(mine_db_new(&db), PM_OK);
	assert_int_equal(mine_read(db, text, strlen(text), fmt, NULL, NULL, err, errlen), want_rc);
	return db;
}

static int has_item(const struct mine_db *db, const char *name, size_t len)
{
	for (uint32_t i = 0; i < mine_db_items(db); i++) {
		size_t l;
		const char *s = mine_item_name(db, i, &l);
		if (l == len && !memcmp(s, name, len))
			return 1;
	}
	return 0;
}

static void test_read_basket_quotes(void **state)
{
	char err[200];
	struct mine_db *db;
	(void)state;
	db = read_text("milk,\"cream, whipped\",\"the \"\"best\"\" tea\"\r\n"
		       "cream cheese ,milk,milk\n"
		       "a,,b\n", MINE_BASKET, PM_OK, err, sizeof(err));
	assert_int_equal(mine_db_txns(db), 3);
	assert_int_equal(mine_db_items(db), 6);
	assert_true(has_item(db, "cream, whipped", 14));
	assert_true(has_item(db, "the \"best\" tea", 14));
	assert_true(has_item(db, "cream cheese ", 13));    /* kept byte for byte */
	assert_false(has_item(db, "cream cheese", 12));
	mine_db_free(db);
}

static void test_read_bad_input(void **state)
{
	char err[200];
	struct mine_db *db;
	(void)state;
	db = read_text("a,b\n\nc\n", MINE_BASKET, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 2 is empty"));
	mine_db_free(db);
	db = read_text("a,\"b\n", MINE_BASKET, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "no closing quote"));
	mine_db_free(db);
	db = read_text("a,b\"c\n", MINE_BASKET, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 1"));
	mine_db_free(db);
	db = read_text("1 2 3\n4 x 5\n", MINE_FIMI, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 2"));
	mine_db_free(db);
	db = read_text("1 2 3\n \n", MINE_FIMI, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 2 is empty"));
	mine_db_free(db);

	static const char bin[] = { 'a', ',', 'b', '\n', 'c', '\0', 'd', '\n' };
	assert_int_equal(mine_db_new(&db), PM_OK);
	assert_int_equal(mine_read(db, bin, sizeof(bin), MINE_BASKET, NULL, NULL, err, sizeof(err)),
			 PM_EINVAL);
	assert_non_null(strstr(err, "not a text file"));
	mine_db_free(db);
}

static void test_read_fimi(void **state)
{
	char err[200];
	struct mine_db *db;
	(void)state;
	db = read_text("1 2 3 \n3 3 007\n", MINE_FIMI, PM_OK, err, sizeof(err));
	assert_int_equal(mine_db_txns(db), 2);
	assert_int_equal(mine_db_items(db), 4);
	assert_true(has_item(db, "7", 1));
	mine_db_free(db);
}

static void test_memory_limit(void **state)
{
	struct mine_db *db;
	char text[64 * 1024], err[200];
	size_t n = 0;
	(void)state;
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%d %d %d\n", i, i + 1, i * 7);
	assert_int_equal(mine_db_new(&db), PM_OK);
	mine_db_set_limit(db, 32 * 1024);
	assert_int_equal(mine_read(db, text, n, MINE_FIMI, NULL, NULL, err, sizeof(err)), PM_ENOMEM);
	assert_true(mine_db_need(db) > 32 * 1024);
	assert_non_null(strstr(err, "needs"));
	mine_db_free(db);

	/* mining with a limit below what the first tree needs */
	struct mine_result *res;
	struct mine_params p = { .min_count = 1, .max_len = 3, .min_confidence = 0.5 };
	size_t need;
	assert_int_equal(mine_db_new(&db), PM_OK);
	assert_int_equal(mine_read(db, text, n, MINE_FIMI, NULL, NULL, err, sizeof(err)), PM_OK);
	p.mem_limit = mine_db_mem(db) + 1000;
	assert_int_equal(mine_run(db, &p, &res, &need), PM_ENOMEM);
	assert_null(res);
	assert_true(need > p.mem_limit);
	p.mem_limit = 0;
	assert_int_equal(mine_run(db, &p, &res, &need), PM_OK);
	mine_result_free(res);
	mine_db_free(db);
}

/* ---- outputs -------------------------------------------------------------- */

static char *run_writer(struct mine_result *res, int which, size_t *skipped)
{
	char *buf = NULL;
	size_t len = 0, written;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	if (which == 0)
		assert_int_equal(mine_write_text(res, f), PM_OK);
	else if (which == 1)
		assert_int_equal(mine_write_itemsets(res, f), PM_OK);
	else
		assert_int_equal(mine_write_ruleset(res, f, &written, skipped), PM_OK);
	fclose(f);
	return buf;
}

static void test_text_and_ruleset(void **state)
{
	char err[200];
	/* 4006381333931 is a valid EAN-13; 96385074 a valid EAN-8; 12345 not a GTIN */
	const char *data = "4006381333931,96385074\n4006381333931,96385074,12345\n"
			   "96385074,12345,4006381333931\n96385074\n";
	struct mine_db *db = read_text(data, MINE_BASKET, PM_OK, err, sizeof(err));
	struct mine_params p = { .min_count = 2, .max_len = 10, .min_confidence = 0.6 };
	struct mine_result *res;
	size_t skipped = 0;
	char *text;
	(void)state;

	assert_int_equal(mine_run(db, &p, &res, NULL), PM_OK);
	text = run_writer(res, 0, NULL);
	/* lines sorted bytewise, left items sorted bytewise */
	assert_string_equal(text,
		"12345 => 4006381333931\t0.500000\t1.000000\t1.333333\n"
		"12345 => 96385074\t0.500000\t1.000000\t1.000000\n"
		"12345,4006381333931 => 96385074\t0.500000\t1.000000\t1.000000\n"
		"12345,96385074 => 4006381333931\t0.500000\t1.000000\t1.333333\n"
		"4006381333931 => 12345\t0.500000\t0.666667\t1.333333\n"
		"4006381333931 => 96385074\t0.750000\t1.000000\t1.000000\n"
		"4006381333931,96385074 => 12345\t0.500000\t0.666667\t1.333333\n"
		"96385074 => 4006381333931\t0.750000\t0.750000\t1.000000\n");
	free(text);
	text = run_writer(res, 2, &skipped);
	assert_int_equal(skipped, 6);
	assert_string_equal(text,
		"{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"mined cross-sell\","
		"\"generated_by\":\"posmark mine\",\"rules\":[\n"
		" {\"id\":\"mined-1\",\"campaign\":\"mined-cross-sell\",\"kind\":\"cross_sell\",\"priority\":1000,"
		"\"when\":{\"basket\":{\"all\":[{\"item\":\"04006381333931\"}]}},"
		"\"offer\":{\"item\":\"00000096385074\",\"percent_off\":10},"
		"\"stats\":{\"support\":0.750000,\"confidence\":1.000000,\"lift\":1.000000,\"count\":3}},\n"
		" {\"id\":\"mined-2\",\"campaign\":\"mined-cross-sell\",\"kind\":\"cross_sell\",\"priority\":750,"
		"\"when\":{\"basket\":{\"all\":[{\"item\":\"00000096385074\"}]}},"
		"\"offer\":{\"item\":\"04006381333931\",\"percent_off\":10},"
		"\"stats\":{\"support\":0.750000,\"confidence\":0.750000,\"lift\":1.000000,\"count\":3}}\n"
		"]}\n");
	free(text);
	text = run_writer(res, 1, NULL);
	assert_string_equal(text,
		"12345\t0.500000\t2\n"
		"12345,4006381333931\t0.500000\t2\n"
		"12345,4006381333931,96385074\t0.500000\t2\n"
		"12345,96385074\t0.500000\t2\n"
		"4006381333931\t0.750000\t3\n"
		"4006381333931,96385074\t0.750000\t3\n"
		"96385074\t1.000000\t4\n");
	free(text);
	mine_result_free(res);
	mine_db_free(db);
}

static void test_gtin(void **state)
{
	char out[15];
	(void)state;
	assert_true(pm_gtin14("4006381333931", 13, out));
	assert_string_equal(out, "04006381333931");
	assert_true(pm_gtin14("036000291452", 12, out));
	assert_string_equal(out, "00036000291452");
	assert_true(pm_gtin14("96385074", 8, out));
	assert_true(pm_gtin14("10012345678902", 14, out));
	assert_string_equal(out, "10012345678902");
	assert_false(pm_gtin14("4006381333932", 13, out));  /* bad check digit */
	assert_false(pm_gtin14("400638133393", 12, out));
	assert_false(pm_gtin14("whole milk", 10, out));
	assert_false(pm_gtin14("12345", 5, out));
}

/* The fast "%.6f" agrees with printf on ratios of counts and on any double. */
static void test_fmt6_matches_printf(void **state)
{
	char a[64], b[64];
	(void)state;
	rng_state = 42;
	for (int i = 0; i < 300000; i++) {
		uint32_t n = 1 + rnd(1u << (1 + rnd(30))), c = rnd(n + 1), d = 1 + rnd(n);
		double vals[4] = { (double)c / n, (double)c / d, (double)c * n / ((double)d * (d + 1)),
				   (double)rnd(1u << 30) / 1024.0 };
		for (int k = 0; k < 4; k++) {
			minei_fmt6(vals[k], a);
			snprintf(b, sizeof(b), "%.6f", vals[k]);
			assert_string_equal(a, b);
		}
	}
	/* ties and edges go to printf */
	const double edge[] = { 0.0000005, 0.0078125, 1.0 / 128, 0.5, 1.0, 0, 999999999.9999995, 2e9, 0.1234565 };
	for (size_t k = 0; k < sizeof(edge) / sizeof(edge[0]); k++) {
		minei_fmt6(edge[k], a);
		snprintf(b, sizeof(b), "%.6f", edge[k]);
		assert_string_equal(a, b);
	}
}

/* ---- known figures of real data ------------------------------------------ */

static char *load_gz(const char *path, size_t *len)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	int r;
	assert_non_null(g);
	while ((r = gzread(g, buf + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	gzclose(g);
	*len = n;
	return buf;
}

static void mine_file(const char *path, enum mine_format fmt, const char *support, double conf,
		      size_t want_sets, size_t want_rules)
{
	struct mine_db *db;
	struct mine_result *res;
	struct mine_params p = { .max_len = 10, .min_confidence = conf, .no_rules = conf == 0 };
	char err[200];
	size_t len;
	char *buf = load_gz(path, &len);

	assert_int_equal(mine_db_new(&db), PM_OK);
	assert_int_equal(mine_read(db, buf, len, fmt, NULL, NULL, err, sizeof(err)), PM_OK);
	assert_int_equal(mine_min_count(support, mine_db_txns(db), &p.min_count), PM_OK);
	assert_int_equal(mine_run(db, &p, &res, NULL), PM_OK);
	assert_int_equal(mine_n_itemsets(res), want_sets);
	if (conf > 0)
		assert_int_equal(mine_n_rules(res), want_rules);
	mine_result_free(res);
	mine_db_free(db);
	free(buf);
}

static void test_groceries_known(void **state)
{
	(void)state;
	/* arules: 410 rules at s=0.001 c=0.8; 13,492 frequent itemsets at 0.001 */
	mine_file("tests/data/groceries.csv", MINE_BASKET, "0.001", 0.8, 13492, 410);
}

/* Writers on two threads at once, each with its own result: the same text
 * as one at a time (their sort state is per thread, not shared). */
struct writer_job {
	struct mine_result *res;
	int which;                 /* 0 text, 1 itemsets */
	const char *want;
	int runs, bad;
};

static void *writer_loop(void *arg)
{
	struct writer_job *j = arg;
	for (int i = 0; i < j->runs; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int rc = !f ? PM_ENOMEM : j->which ? mine_write_itemsets(j->res, f) : mine_write_text(j->res, f);
		if (f)
			fclose(f);
		if (rc || !buf || strcmp(buf, j->want))
			j->bad++;
		free(buf);
	}
	return NULL;
}

static void test_writers_two_threads(void **state)
{
	(void)state;
	struct mine_db *db;
	struct mine_result *res[2];
	struct mine_params p = { .max_len = 10, .min_confidence = 0.3 };
	char err[200];
	size_t len;
	char *buf = load_gz("tests/data/groceries.csv", &len);

	assert_int_equal(mine_db_new(&db), PM_OK);
	assert_int_equal(mine_read(db, buf, len, MINE_BASKET, NULL, NULL, err, sizeof(err)), PM_OK);
	free(buf);
	const char *supports[2] = { "0.005", "0.01" };
	struct writer_job job[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(mine_min_count(supports[k], mine_db_txns(db), &p.min_count), PM_OK);
		assert_int_equal(mine_run(db, &p, &res[k], NULL), PM_OK);
		job[k] = (struct writer_job){ res[k], k, run_writer(res[k], k, NULL), 20, 0 };
		assert_true(strlen(job[k].want) > 1000);
	}
	pthread_t t[2];
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, writer_loop, &job[k]), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pthread_join(t[k], NULL), 0);
		assert_int_equal(job[k].bad, 0);
		free((char *)job[k].want);
		mine_result_free(res[k]);
	}
	mine_db_free(db);
}

static void test_retail_known(void **state)
{
	(void)state;
	mine_file("tests/data/retail.dat.gz", MINE_FIMI, "0.001", 0, 7589, 0);
	mine_file("tests/data/retail.dat.gz", MINE_FIMI, "0.0005", 0, 19242, 0);
}

/* Inputs read by two threads (each half into its own store, then merged):
 * the same items in the same order, the same errors with the same line
 * numbers, the same known figures. */
static void test_read_two_threads(void **state)
{
	struct mine_db *one, *two;
	char err[200];
	size_t len;
	char *buf = load_gz("tests/data/groceries.csv", &len);

	minei_par_min_bytes = 1;
	test_read_basket_quotes(state);
	test_read_bad_input(state);
	test_read_fimi(state);
	test_memory_limit(state);
	/* an error in the second half only: numbered from the start */
	two = read_text("a,b\nc,d\ne,f\ng,h\ni\n\nk\n", MINE_BASKET, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 6 is empty"));
	mine_db_free(two);
	two = read_text("1 2\n3 4\n5 6\n7 8\n9 x\n", MINE_FIMI, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 5"));
	mine_db_free(two);
	/* errors in both halves: the first one */
	two = read_text("a,b\n\nc\nd\ne\nf\n\ng\n", MINE_BASKET, PM_EINVAL, err, sizeof(err));
	assert_non_null(strstr(err, "line 2 is empty"));
	mine_db_free(two);
	assert_int_equal(mine_db_new(&two), PM_OK);
	assert_int_equal(mine_read(two, buf, len, MINE_BASKET, NULL, NULL, err, sizeof(err)), PM_OK);
	minei_par_min_bytes = SIZE_MAX;
	assert_int_equal(mine_db_new(&one), PM_OK);
	assert_int_equal(mine_read(one, buf, len, MINE_BASKET, NULL, NULL, err, sizeof(err)), PM_OK);
	assert_int_equal(mine_db_txns(one), mine_db_txns(two));
	assert_int_equal(mine_db_items(one), mine_db_items(two));
	for (uint32_t i = 0; i < mine_db_items(one); i++) {
		size_t l1, l2;
		const char *s1 = mine_item_name(one, i, &l1), *s2 = mine_item_name(two, i, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(s1, s2, l1);
	}
	assert_int_equal(one->n_occ, two->n_occ);
	assert_memory_equal(one->occ, two->occ, one->n_occ * sizeof(uint32_t));
	assert_memory_equal(one->txn_off, two->txn_off, ((size_t)one->n_txns + 1) * sizeof(size_t));
	assert_memory_equal(one->item_count, two->item_count, one->n_items * sizeof(uint32_t));
	mine_db_free(one);
	mine_db_free(two);
	free(buf);
	minei_par_min_bytes = 1;
	test_groceries_known(state);
	test_retail_known(state);
	minei_par_min_bytes = 4u << 20;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bruteforce_many_seeds),
		cmocka_unit_test(test_bruteforce_dense),
		cmocka_unit_test(test_bruteforce_radix_sort),
		cmocka_unit_test(test_bruteforce_list_paths),
		cmocka_unit_test(test_mask_paths_match_lists),
		cmocka_unit_test(test_min_count),
		cmocka_unit_test(test_read_basket_quotes),
		cmocka_unit_test(test_read_bad_input),
		cmocka_unit_test(test_read_fimi),
		cmocka_unit_test(test_memory_limit),
		cmocka_unit_test(test_text_and_ruleset),
		cmocka_unit_test(test_writers_two_threads),
		cmocka_unit_test(test_gtin),
		cmocka_unit_test(test_fmt6_matches_printf),
		cmocka_unit_test(test_groceries_known),
		cmocka_unit_test(test_read_two_threads),
		cmocka_unit_test(test_retail_known),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
