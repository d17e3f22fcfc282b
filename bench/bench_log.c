/*
 * bench_log.c - the purchase log against the stores a user would pick instead.
 *
 * 1. Durable sale commits of the same records: posmark (LMDB, default sync),
 *    SQLite (WAL, synchronous=FULL, normalised tables with the same indexes
 *    and the card aggregate upsert in the same transaction), and a bare
 *    write+fdatasync append of the encoded record (the floor of one durable
 *    write on this disk). Median and p99 latency, commits per second.
 * 2. Full card-history reads per second, cards drawn by how often they shop:
 *    posmark vs SQLite as shipped vs SQLite with mmap and a 64 MiB cache.
 * Each figure is the median over ROUNDS rounds. Usage:
 *   bench_log DIR [population_sales] [commits_per_round] [rounds]
 */
#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CARDS 50000
#define PRODUCTS 5000
#define MAX_ITEMS 40

static unsigned long long rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static double rng01(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

static char card_no[CARDS][24];
static double card_cdf[CARDS];

static void make_cards(void)
{
	double sum = 0;
	for (int i = 0; i < CARDS; i++) {
		char d[24];
		snprintf(d, sizeof(d), "603601%012d", 100000 + i);
		int s = 0;
		for (int k = 0; k < 18; k++) {
			int x = d[17 - k] - '0';
			if (k % 2 == 0) { x *= 2; if (x > 9) x -= 9; }
			s += x;
		}
		snprintf(card_no[i], sizeof(card_no[i]), "%.18s%d", d, (10 - s % 10) % 10);
		sum += pow(i + 1, -0.6);
		card_cdf[i] = sum;
	}
	for (int i = 0; i < CARDS; i++)
		card_cdf[i] /= sum;
}

static int draw_card(void)
{
	double u = rng01();
	int lo = 0, hi = CARDS - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (card_cdf[mid] < u) lo = mid + 1; else hi = mid;
	}
	return lo;
}

/* A sale like a grocery basket: 1..40 items, 60% with a card. */
static void gen_sale(struct loy_sale *s, struct loy_item *items, int64_t t)
{
	int n = (int)fmin(MAX_ITEMS, fmax(1, exp(1.8 + 0.7 * (rng01() + rng01() + rng01() - 1.5))));
	memset(s, 0, sizeof(*s));
	s->total_cents = 0;
	for (int i = 0; i < n; i++) {
		int p = (int)(rng() % PRODUCTS);
		memset(&items[i], 0, sizeof(items[i]));
		snprintf(items[i].gtin, sizeof(items[i].gtin), "0501234%07u", (unsigned)p % 10000000u);
		items[i].qty = (rng() % 8 == 0) ? 2 : 1;
		items[i].unit_price_cents = 49 + (p * 37) % 1500;
		items[i].line_cents = items[i].qty * items[i].unit_price_cents;
		s->total_cents += items[i].line_cents;
	}
	s->items = items;
	s->n_items = (uint32_t)n;
	s->time_us = t;
	s->tender = LOY_TENDER_CARD;
	s->tendered_cents = s->total_cents;
	if (rng() % 10 < 6)
		strcpy(s->card, card_no[draw_card()]);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}
static double pct(int64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return (double)v[(int)fmin(n - 1, floor(p * n))] / 1000.0;
}
static double median3(double *v, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (v[j] < v[i]) { double t = v[i]; v[i] = v[j]; v[j] = t; }
	return v[n / 2];
}

/* ---- SQLite, the store a user would pick instead ---------------------- */

static const char *SCHEMA =
	"CREATE TABLE IF NOT EXISTS sales(seq INTEGER PRIMARY KEY, terminal TEXT NOT NULL, time_us INTEGER NOT NULL,"
	" card TEXT, currency TEXT NOT NULL, ext_id TEXT UNIQUE, tender INTEGER, total_cents INTEGER,"
	" discount_cents INTEGER, tendered_cents INTEGER, points_earned INTEGER);"
	"CREATE INDEX IF NOT EXISTS sales_card ON sales(card, seq);"
	"CREATE TABLE IF NOT EXISTS sale_items(seq INTEGER NOT NULL, line INTEGER NOT NULL, gtin TEXT NOT NULL,"
	" qty INTEGER, unit_price_cents INTEGER, line_cents INTEGER, PRIMARY KEY(seq, line)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS cards(card TEXT PRIMARY KEY, visits INTEGER, spend_cents INTEGER,"
	" points INTEGER, last_visit_us INTEGER) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;";

struct sq {
	sqlite3 *db;
	sqlite3_stmt *ins_sale, *ins_item, *upsert_card, *set_meta, *begin, *commit, *hist;
	int64_t seq;
};

static void sq_check(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench: sqlite %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static void sq_open(struct sq *q, const char *path, const char *pragmas)
{
	memset(q, 0, sizeof(*q));
	sq_check(sqlite3_open(path, &q->db), q->db, "open");
	sq_check(sqlite3_exec(q->db, pragmas, NULL, NULL, NULL), q->db, "pragmas");
	sq_check(sqlite3_exec(q->db, SCHEMA, NULL, NULL, NULL), q->db, "schema");
	sq_check(sqlite3_prepare_v2(q->db, "INSERT INTO sales VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &q->ins_sale, NULL), q->db, "prep");
	sq_check(sqlite3_prepare_v2(q->db, "INSERT INTO sale_items VALUES(?,?,?,?,?,?)", -1, &q->ins_item, NULL), q->db, "prep");
	sq_check(sqlite3_prepare_v2(q->db, "INSERT INTO cards VALUES(?,1,?,?,?) ON CONFLICT(card) DO UPDATE SET "
				    "visits=visits+1, spend_cents=spend_cents+excluded.spend_cents, points=points+excluded.points,"
				    " last_visit_us=excluded.last_visit_us", -1, &q->upsert_card, NULL), q->db, "prep");
	sq_check(sqlite3_prepare_v2(q->db, "INSERT OR REPLACE INTO meta VALUES('last_sale_seq', ?)", -1, &q->set_meta, NULL), q->db, "prep");
	sq_check(sqlite3_prepare_v2(q->db, "BEGIN IMMEDIATE", -1, &q->begin, NULL), q->db, "prep");
	sq_check(sqlite3_prepare_v2(q->db, "COMMIT", -1, &q->commit, NULL), q->db, "prep");
	sq_check(sqlite3_prepare_v2(q->db, "SELECT s.seq, s.time_us, s.total_cents, s.terminal, i.gtin, i.qty, i.unit_price_cents,"
				    " i.line_cents FROM sales s JOIN sale_items i ON i.seq = s.seq WHERE s.card = ?"
				    " ORDER BY s.seq, i.line", -1, &q->hist, NULL), q->db, "prep");
	sqlite3_stmt *st;
	sqlite3_prepare_v2(q->db, "SELECT coalesce(max(seq),0) FROM sales", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		q->seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
}

static void sq_close(struct sq *q)
{
	sqlite3_stmt *all[] = { q->ins_sale, q->ins_item, q->upsert_card, q->set_meta, q->begin, q->commit, q->hist };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(q->db);
}

static void step_reset(struct sq *q, sqlite3_stmt *st, const char *what)
{
	sq_check(sqlite3_step(st), q->db, what);
	sqlite3_reset(st);
}

static void sq_insert(struct sq *q, const struct loy_sale *s)
{
	int64_t seq = ++q->seq;
	sqlite3_stmt *a = q->ins_sale;
	sqlite3_bind_int64(a, 1, seq);
	sqlite3_bind_text(a, 2, "store1-lane1", -1, SQLITE_STATIC);
	sqlite3_bind_int64(a, 3, s->time_us);
	if (s->card[0]) sqlite3_bind_text(a, 4, s->card, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(a, 4);
	sqlite3_bind_text(a, 5, "EUR", -1, SQLITE_STATIC);
	sqlite3_bind_null(a, 6);
	sqlite3_bind_int(a, 7, s->tender);
	sqlite3_bind_int64(a, 8, s->total_cents);
	sqlite3_bind_int64(a, 9, 0);
	sqlite3_bind_int64(a, 10, s->tendered_cents);
	sqlite3_bind_int64(a, 11, s->total_cents / 100);
	step_reset(q, a, "insert sale");
	for (uint32_t i = 0; i < s->n_items; i++) {
		sqlite3_stmt *b = q->ins_item;
		sqlite3_bind_int64(b, 1, seq);
		sqlite3_bind_int(b, 2, (int)i);
		sqlite3_bind_text(b, 3, s->items[i].gtin, 14, SQLITE_TRANSIENT);
		sqlite3_bind_int(b, 4, s->items[i].qty);
		sqlite3_bind_int64(b, 5, s->items[i].unit_price_cents);
		sqlite3_bind_int64(b, 6, s->items[i].line_cents);
		step_reset(q, b, "insert item");
	}
	if (s->card[0]) {
		sqlite3_stmt *c = q->upsert_card;
		sqlite3_bind_text(c, 1, s->card, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(c, 2, s->total_cents);
		sqlite3_bind_int64(c, 3, s->total_cents / 100);
		sqlite3_bind_int64(c, 4, s->time_us);
		step_reset(q, c, "upsert card");
	}
	sqlite3_bind_int64(q->set_meta, 1, seq);
	step_reset(q, q->set_meta, "meta");
}

static int sq_history(struct sq *q, const char *card)
{
	int rows = 0;
	int64_t sum = 0;
	sqlite3_bind_text(q->hist, 1, card, -1, SQLITE_STATIC);
	while (sqlite3_step(q->hist) == SQLITE_ROW) {
		sum += sqlite3_column_int64(q->hist, 5) + sqlite3_column_int64(q->hist, 6);
		(void)sqlite3_column_text(q->hist, 4);
		rows++;
	}
	sqlite3_reset(q->hist);
	return rows + (int)(sum & 0);
}

static int hist_cb(void *ctx, const struct loy_sale *s)
{
	int64_t *sum = ctx;
	for (uint32_t i = 0; i < s->n_items; i++)
		*sum += s->items[i].qty + s->items[i].unit_price_cents;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_log DIR [population_sales] [commits_per_round] [rounds]\n");
		return 2;
	}
	const char *dir = argv[1];
	int pop = argc > 2 ? atoi(argv[2]) : 200000;
	int commits = argc > 3 ? atoi(argv[3]) : 1000;
	int rounds = argc > 4 ? atoi(argv[4]) : 3;
	char path[4096], sqpath[4096], flpath[4096];
	struct loy_item items[MAX_ITEMS];
	struct loy_sale s;
	struct loy_commit_result r;
	struct loy_config cfg;
	struct loy_db *db;
	int64_t t = 1790000000000000LL;

	make_cards();
	snprintf(path, sizeof(path), "%s/posmark", dir);
	snprintf(sqpath, sizeof(sqpath), "%s/sqlite.db", dir);
	snprintf(flpath, sizeof(flpath), "%s/append.bin", dir);

	/* Population: the same sales into both stores, bulk-loaded. */
	fprintf(stderr, "bench: loading %d sales into posmark and SQLite...\n", pop);
	loy_config_default(&cfg);
	cfg.bulk_nosync = true;
	if (loy_open(path, &cfg, &db, NULL, 0)) return 1;
	struct sq q;
	sq_open(&q, sqpath, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
	unsigned long long saved = rng_state;
	for (int i = 0; i < pop; i++) {
		gen_sale(&s, items, t += 30000000);
		if (loy_sale_commit(db, &s, &r)) { fprintf(stderr, "bench: load failed\n"); return 1; }
		if (i % 5000 == 0) { if (i) step_reset(&q, q.commit, "commit"); step_reset(&q, q.begin, "begin"); }
		sq_insert(&q, &s);
		if (i % 50000 == 0 && i)
			fprintf(stderr, "bench: %d sales loaded\n", i);
	}
	step_reset(&q, q.commit, "commit");
	sq_close(&q);
	loy_close(db);
	(void)saved;

	/* 1. Durable commits. */
	cfg.bulk_nosync = false;
	double p50[3][9], p99[3][9], cps[3][9];
	int64_t *lat = malloc(sizeof(int64_t) * (size_t)commits);
	for (int round = 0; round < rounds; round++) {
		/* floor: write + fdatasync of a record of the same size */
		int fd = open(flpath, O_WRONLY | O_CREAT | O_APPEND, 0640);
		int64_t start = pm_mono_ns();
		for (int i = 0; i < commits; i++) {
			unsigned char buf[64 + 20 + 12 + 34 * MAX_ITEMS];
			gen_sale(&s, items, t += 1000000);
			size_t len = 64 + strlen(s.card) + 12 + 34 * s.n_items;
			memset(buf, (int)i, len);
			int64_t a = pm_mono_ns();
			if (write(fd, buf, len) != (ssize_t)len || fdatasync(fd)) { perror("write"); return 1; }
			lat[i] = pm_mono_ns() - a;
		}
		cps[0][round] = commits / ((pm_mono_ns() - start) / 1e9);
		p50[0][round] = pct(lat, commits, 0.5);
		p99[0][round] = pct(lat, commits, 0.99);
		close(fd);

		if (loy_open(path, &cfg, &db, NULL, 0)) return 1;
		start = pm_mono_ns();
		for (int i = 0; i < commits; i++) {
			gen_sale(&s, items, t += 1000000);
			int64_t a = pm_mono_ns();
			if (loy_sale_commit(db, &s, &r)) { fprintf(stderr, "bench: commit failed\n"); return 1; }
			lat[i] = pm_mono_ns() - a;
		}
		cps[1][round] = commits / ((pm_mono_ns() - start) / 1e9);
		p50[1][round] = pct(lat, commits, 0.5);
		p99[1][round] = pct(lat, commits, 0.99);
		loy_close(db);

		sq_open(&q, sqpath, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
		start = pm_mono_ns();
		for (int i = 0; i < commits; i++) {
			gen_sale(&s, items, t += 1000000);
			int64_t a = pm_mono_ns();
			step_reset(&q, q.begin, "begin");
			sq_insert(&q, &s);
			step_reset(&q, q.commit, "commit");
			lat[i] = pm_mono_ns() - a;
		}
		cps[2][round] = commits / ((pm_mono_ns() - start) / 1e9);
		p50[2][round] = pct(lat, commits, 0.5);
		p99[2][round] = pct(lat, commits, 0.99);
		sq_close(&q);
	}
	const char *names[] = { "write+fdatasync (floor)", "posmark (LMDB)", "SQLite WAL FULL" };
	double m50[3], m99[3], mcps[3];
	printf("\n== durable sale commits: %d per round, median of %d rounds, log of %d sales ==\n", commits, rounds, pop);
	printf("%-26s %10s %10s %12s\n", "store", "p50 us", "p99 us", "commits/s");
	for (int k = 0; k < 3; k++) {
		m50[k] = median3(p50[k], rounds);
		m99[k] = median3(p99[k], rounds);
		mcps[k] = median3(cps[k], rounds);
		printf("%-26s %10.1f %10.1f %12.0f\n", names[k], m50[k], m99[k], mcps[k]);
	}
	printf("posmark p99 / floor p99      = %.2fx   (target <= 3x)\n", m99[1] / m99[0]);
	printf("posmark p50 / floor p50      = %.2fx\n", m50[1] / m50[0]);
	printf("posmark commits/s / SQLite   = %.2fx\n", mcps[1] / mcps[2]);

	/* 2. History reads, cards drawn by visit frequency. */
	double hps[3][9];
	for (int round = 0; round < rounds; round++) {
		for (int k = 0; k < 3; k++) {
			int n = 0;
			int64_t sum = 0;
			unsigned long long keep = rng_state;
			if (k == 0) {
				if (loy_open(path, &cfg, &db, NULL, 0)) return 1;
			} else {
				sq_open(&q, sqpath, k == 1 ? "PRAGMA journal_mode=WAL;"
					: "PRAGMA journal_mode=WAL; PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;");
			}
			/* warm-up: one pass over the hot cards, as a running till has */
			for (int w = 0; w < 200; w++) {
				const char *c = card_no[draw_card()];
				if (k == 0) loy_card_history(db, c, hist_cb, &sum); else sq_history(&q, c);
			}
			rng_state = keep;
			int64_t start = pm_mono_ns(), el;
			do {
				for (int b = 0; b < 50; b++, n++) {
					const char *c = card_no[draw_card()];
					if (k == 0) loy_card_history(db, c, hist_cb, &sum); else sq_history(&q, c);
				}
				el = pm_mono_ns() - start;
			} while (el < 1500000000LL);
			hps[k][round] = n / (el / 1e9);
			if (k == 0) loy_close(db); else sq_close(&q);
		}
	}
	double mh[3];
	for (int k = 0; k < 3; k++)
		mh[k] = median3(hps[k], rounds);
	printf("\n== full card-history reads per second (cards drawn by visit frequency; median of %d) ==\n", rounds);
	printf("%-34s %12.0f\n", "posmark (LMDB)", mh[0]);
	printf("%-34s %12.0f   posmark is %.1fx (target >= 5x)\n", "SQLite as shipped", mh[1], mh[0] / mh[1]);
	printf("%-34s %12.0f   posmark is %.1fx (target >= 2x)\n", "SQLite mmap + 64 MiB cache", mh[2], mh[0] / mh[2]);
	free(lat);
	return 0;
}
