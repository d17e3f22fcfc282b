/*
 * bench_console.c - the console's page data (issue 18): each page's
 * hq_page_data() p50/p95 over REPS calls on one connection, beside the same
 * figures computed the naive way, by a plain query over sales (and the
 * ledger, events) per page, median of NAIVE runs; the ratio naive / page.
 * bench/console.sh builds the data (10,000,000 sales, 1,000,000 cards) and
 * runs this. Usage: bench_console CONNINFO FROM_US TO_US [REPS] [NAIVE] [PAGES]
 * (NAIVE 0: no naive query; PAGES: a comma-separated list, default all).
 */
#include "hq/hq_pages.h"
#include "common/pm_time.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The naive way: what each page shows, straight from the raw tables ($1 from_us, $2 to_us). */
static const struct {
	const char *page, *sql;
} naive[] = {
	{ "overview", "SELECT count(*) FILTER (WHERE type = 'sale'), sum(total_cents) FILTER (WHERE type = 'sale'),"
		      " count(*) FILTER (WHERE type = 'return'), sum(refund_cents), count(DISTINCT card),"
		      " (SELECT count(DISTINCT card) FROM sales WHERE card IS NOT NULL AND time_us < $2::bigint)"
		      " FROM sales WHERE time_us >= $1::bigint AND time_us < $2::bigint" },
	{ "liability", "SELECT kind, sum(points) FILTER (WHERE time_us >= $1::bigint), sum(points),"
		       " (SELECT count(*) FROM accounts WHERE points < 0) FROM ledger WHERE time_us < $2::bigint"
		       " GROUP BY kind" },
	{ "tiers", "SELECT t, count(*) FROM (SELECT card, CASE WHEN sum(total_cents) >= 200000 THEN 2"
		   " WHEN sum(total_cents) >= 50000 THEN 1 ELSE 0 END AS t FROM sales WHERE card IS NOT NULL"
		   " AND time_us >= $2::bigint - 31536000000000 AND time_us < $2::bigint AND $1::bigint IS NOT NULL"
		   " GROUP BY card) x GROUP BY t" },
	{ "campaigns", "WITH ev AS (SELECT campaign, type, card, time_us, gtin FROM events WHERE campaign IS NOT NULL"
		       "  AND time_us >= $1::bigint AND time_us < $2::bigint),"
		       " conv AS (SELECT e.campaign, e.type, EXISTS (SELECT 1 FROM sales s WHERE s.card = e.card"
		       "  AND s.time_us > e.time_us AND s.time_us <= e.time_us + 1209600000000"
		       "  AND s.items @> jsonb_build_array(jsonb_build_object('gtin', e.gtin))) AS bought"
		       "  FROM ev e WHERE e.type IN ('offer_issued', 'offer_held_back') AND e.card IS NOT NULL)"
		       " SELECT campaign, type, count(*), sum(bought::int) FROM conv GROUP BY 1, 2" },
	{ "segments", "SELECT r, f, m, count(*) FROM (SELECT ntile(5) OVER (ORDER BY l) AS r, ntile(5) OVER (ORDER BY n) AS f,"
		      " ntile(5) OVER (ORDER BY s) AS m FROM (SELECT card, max(time_us) AS l, count(*) AS n,"
		      " sum(total_cents) AS s FROM sales WHERE card IS NOT NULL AND time_us < $2::bigint"
		      " AND $1::bigint IS NOT NULL GROUP BY card) c) x GROUP BY 1, 2, 3" },
	{ "cohorts", "WITH f AS (SELECT card, date_trunc('month', to_timestamp(min(time_us) / 1e6)) AS c FROM sales"
		     "  WHERE card IS NOT NULL GROUP BY card),"
		     " a AS (SELECT DISTINCT card, date_trunc('month', to_timestamp(time_us / 1e6)) AS m FROM sales"
		     "  WHERE card IS NOT NULL AND time_us >= $1::bigint AND time_us < $2::bigint)"
		     " SELECT f.c, a.m, count(*) FROM a JOIN f USING (card) GROUP BY 1, 2" },
	{ "stores", "SELECT store_id, max(time_us), count(*) FILTER (WHERE time_us >= $1::bigint) FROM sales"
		    " WHERE time_us < $2::bigint GROUP BY store_id" },
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_console CONNINFO FROM_US TO_US [REPS] [NAIVE] [PAGES]\n");
		return 2;
	}
	int reps = argc > 4 ? atoi(argv[4]) : 30, nreps = argc > 5 ? atoi(argv[5]) : 3;
	PGconn *c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_console: %s", PQerrorMessage(c));
		return 1;
	}
	struct hq_page_params p = { 0 };
	p.from_us = strtoll(argv[2], NULL, 10);
	p.to_us = strtoll(argv[3], NULL, 10);
	const char *pv[2] = { argv[2], argv[3] };
	double *t = calloc((size_t)(reps > nreps ? reps : nreps) + 1, sizeof(double));
	printf("%-10s %10s %10s %12s %10s %10s\n", "page", "p50 ms", "p95 ms", "naive ms", "x p50", "x p95");
	int worst = 0;
	const char *only = argc > 6 ? argv[6] : NULL;
	for (size_t k = 0; k < sizeof(naive) / sizeof(naive[0]); k++) {
		char err[500], key[40];
		snprintf(key, sizeof(key), ",%s,", naive[k].page);
		if (only) {
			char list[400];
			snprintf(list, sizeof(list), ",%s,", only);
			if (!strstr(list, key))
				continue;
		}
		json_t *d = hq_page_data(c, naive[k].page, &p, err, sizeof(err)); /* warm-up */
		if (!d) {
			fprintf(stderr, "bench_console: page %s: %s\n", naive[k].page, err);
			return 1;
		}
		json_decref(d);
		for (int i = 0; i < reps; i++) {
			int64_t t0 = pm_mono_ns();
			json_decref(hq_page_data(c, naive[k].page, &p, err, sizeof(err)));
			t[i] = (double)(pm_mono_ns() - t0) / 1e6;
		}
		double p50 = pct(t, reps, 0.5), p95 = pct(t, reps, 0.95);
		for (int i = 0; i < nreps; i++) {
			int64_t t0 = pm_mono_ns();
			PGresult *r = PQexecParams(c, naive[k].sql, 2, NULL, pv, NULL, NULL, 0);
			t[i] = (double)(pm_mono_ns() - t0) / 1e6;
			if (PQresultStatus(r) != PGRES_TUPLES_OK) {
				fprintf(stderr, "bench_console: naive %s: %s", naive[k].page, PQresultErrorMessage(r));
				return 1;
			}
			PQclear(r);
		}
		double nv = nreps > 0 ? pct(t, nreps, 0.5) : 0;
		printf("%-10s %10.1f %10.1f %12.0f %9.0fx %9.0fx\n", naive[k].page, p50, p95, nv, nv / p50, nv / p95);
		worst = p95 > 300 ? 1 : worst;
	}
	printf("every page's p95 under 300 ms: %s\n", worst ? "NO" : "yes");
	free(t);
	PQfinish(c);
	return 0;
}
