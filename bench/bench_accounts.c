/*
 * bench_accounts.c - card lookup at the till with the chain's accounts known
 * (docs/accounts.md, issue 13): loy_card_get (the balance HQ sent plus this
 * terminal's pending entries, tier, consent: one read of one record) beside
 * a plain LMDB read of the same key in the same environment (a read
 * transaction, mdb_get, abort), in the same run, same keys, same order.
 *
 * Set-up: N accounts applied as HQ's downlink pages (loy_accounts_apply,
 * 5000 per page, with a bought list each) and a sale on every 50th card, so
 * records carry pending entries. Then ROUNDS rounds, each measuring both
 * ways over the same LOOKUPS random cards (the order of the two alternates
 * between rounds); figures are the medians over rounds.
 *   bench_accounts DIR [accounts] [lookups] [rounds]
 */
#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 5000

static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void card_number(uint64_t i, char out[LOY_CARD_MAX + 1])
{
	char d[24];
	snprintf(d, sizeof(d), "603601%012llu", (unsigned long long)(100000000ULL + i));
	int s = 0;
	for (int k = 0; k < 18; k++) {
		int x = d[17 - k] - '0';
		if (k % 2 == 0) {
			x *= 2;
			if (x > 9)
				x -= 9;
		}
		s += x;
	}
	snprintf(out, LOY_CARD_MAX + 1, "%.18s%d", d, (10 - s % 10) % 10);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct(int64_t *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	size_t i = (size_t)(p * (double)(n - 1));
	return (double)v[i];
}

static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
			double t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	return v[n / 2];
}

static int load(const char *dir, uint64_t n)
{
	struct loy_config cfg;
	struct loy_db *db;
	char err[300];
	loy_config_default(&cfg);
	cfg.bulk_nosync = true;
	cfg.map_size_initial = 256ull << 20;
	if (loy_open(dir, &cfg, &db, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	struct loy_account_state *page = calloc(PAGE, sizeof(*page));
	int64_t now = pm_now_us(), t0 = pm_mono_ns();
	for (uint64_t base = 0; base < n; base += PAGE) {
		size_t k = 0;
		for (uint64_t i = base; i < n && k < PAGE; i++, k++) {
			struct loy_account_state *a = &page[k];
			memset(a, 0, sizeof(*a));
			card_number(i, a->card);
			a->points = (int64_t)(rng() % 5000);
			a->tier = (int)(rng() % 3);
			a->consent = (int)(rng() % 3);
			a->consent_changed_us = now - 1000;
			a->last_visit_us = now - (int64_t)(rng() % 86400000000ULL);
			a->window_spend_cents = (int64_t)(rng() % 300000);
			a->n_bought = 4;
			for (int b = 0; b < 4; b++)
				snprintf(a->bought[b], sizeof(a->bought[b]), "0501234%07u", (unsigned)(rng() % 5000));
		}
		if (loy_accounts_apply(db, page, k, now, 0, base / PAGE + 1)) {
			fprintf(stderr, "bench: applying accounts failed\n");
			return 1;
		}
	}
	double apply_s = (double)(pm_mono_ns() - t0) / 1e9;
	/* A sale on every 50th card: their records carry pending entries. */
	for (uint64_t i = 0; i < n; i += 50) {
		struct loy_item it = { .qty = 1, .unit_price_cents = 1234, .line_cents = 1234 };
		struct loy_sale s = { .items = &it, .n_items = 1, .time_us = now + 1, .total_cents = 1234,
				      .tendered_cents = 1234 };
		struct loy_commit_result r;
		snprintf(it.gtin, sizeof(it.gtin), "05012340000017");
		card_number(i, s.card);
		if (loy_sale_commit(db, &s, &r)) {
			fprintf(stderr, "bench: sale failed\n");
			return 1;
		}
	}
	loy_close(db);
	free(page);
	printf("set-up: %llu accounts applied as HQ pages of %d in %.1f s (%.0f accounts/s, bulk load)\n",
	       (unsigned long long)n, PAGE, apply_s, (double)n / apply_s);
	return 0;
}

/* The plain LMDB read of the same key: read transaction, mdb_get, abort. */
static int run_plain(const char *dir, char (*keys)[LOY_CARD_MAX + 1], size_t m, int64_t *ns)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0640)) ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) || (rc = mdb_dbi_open(txn, "cards", 0, &dbi))) {
		fprintf(stderr, "bench: plain LMDB: %s\n", mdb_strerror(rc));
		return 1;
	}
	mdb_txn_commit(txn);   /* keeps the handle (an abort would close it) */
	volatile uint64_t sink = 0;
	for (size_t i = 0; i < m; i++) {
		MDB_val k = { strlen(keys[i]), keys[i] }, v;
		int64_t t0 = pm_mono_ns();
		if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_get(txn, dbi, &k, &v))
			return 1;
		sink += ((const unsigned char *)v.mv_data)[40];
		mdb_txn_abort(txn);
		ns[i] = pm_mono_ns() - t0;
	}
	(void)sink;
	mdb_env_close(env);
	return 0;
}

static int run_loyalty(const char *dir, char (*keys)[LOY_CARD_MAX + 1], size_t m, int64_t *ns)
{
	struct loy_db *db;
	struct loy_config cfg;
	char err[300];
	loy_config_default(&cfg);
	if (loy_open(dir, &cfg, &db, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	volatile int64_t sink = 0;
	for (size_t i = 0; i < m; i++) {
		struct loy_card c;
		int64_t t0 = pm_mono_ns();
		int rc = loy_card_get(db, keys[i], &c);
		if (rc) {
			fprintf(stderr, "bench: card %s: %s\n", keys[i], pm_strerror(rc));
			return 1;
		}
		sink += c.points;
		ns[i] = pm_mono_ns() - t0;
	}
	(void)sink;
	loy_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_accounts DIR [accounts] [lookups] [rounds]\n");
		return 2;
	}
	const char *dir = argv[1];
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	size_t m = argc > 3 ? strtoull(argv[3], NULL, 10) : 200000;
	int rounds = argc > 4 ? atoi(argv[4]) : 5;
	if (n < 1 || m < 100 || rounds < 1 || rounds > 21)
		return 2;
	printf("\n== card lookup at the till, %llu accounts known (HQ state + pending entries) ==\n",
	       (unsigned long long)n);
	if (load(dir, n))
		return 1;
	char (*keys)[LOY_CARD_MAX + 1] = malloc(m * sizeof(*keys));
	int64_t *ns = malloc(m * sizeof(*ns));
	double p50[2][21], p99[2][21];
	for (size_t i = 0; i < m; i++)
		card_number(rng() % n, keys[i]);
	for (int r = 0; r < rounds; r++) {
		for (int w = 0; w < 2; w++) {
			int which = (r + w) % 2;      /* alternate who goes first */
			int rc = which ? run_loyalty(dir, keys, m, ns) : run_plain(dir, keys, m, ns);
			if (rc) {
				fprintf(stderr, "bench: lookup failed\n");
				return 1;
			}
			p50[which][r] = pct(ns, m, 0.50);
			p99[which][r] = pct(ns, m, 0.99);
		}
	}
	double lp50 = median(p50[1], rounds), lp99 = median(p99[1], rounds);
	double pp50 = median(p50[0], rounds), pp99 = median(p99[0], rounds);
	printf("%d lookups of random known cards per round, median of %d rounds\n", (int)m, rounds);
	printf("%-40s %10s %10s\n", "lookup", "p50 ns", "p99 ns");
	printf("%-40s %10.0f %10.0f\n", "plain LMDB (txn + mdb_get, same key)", pp50, pp99);
	printf("%-40s %10.0f %10.0f\n", "loy_card_get (chain account)", lp50, lp99);
	printf("loy_card_get p99 / plain LMDB p99 = %.2fx   (target <= 2x)\n", lp99 / pp99);
	printf("loy_card_get p50 / plain LMDB p50 = %.2fx\n", lp50 / pp50);
	free(keys);
	free(ns);
	return 0;
}
