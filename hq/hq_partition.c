/*
 * hq_partition.c - the month partitions of sales (docs/hq.md, Ingest): a
 * time's UTC month, and each month's partition created once per process
 * (moved out of hq_db.c, which ingests).
 */
#include "hq/hq_int.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int hqi_month_start(int64_t us, int64_t *start, int64_t *next)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return PM_EINVAL;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	*start = (int64_t)timegm(&tm) * 1000000;
	tm.tm_mon++;
	*next = (int64_t)timegm(&tm) * 1000000;
	return PM_OK;
}

/* Months this process has seen created: only a shortcut (a receiver that
 * restarts asks again, and CREATE ... IF NOT EXISTS is idempotent), so the
 * receiver stays stateless. */
static pthread_mutex_t g_months_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t g_months[512];
static int g_n_months;

static bool month_known(int64_t start)
{
	bool known = false;
	pthread_mutex_lock(&g_months_mu);
	for (int i = 0; i < g_n_months && !known; i++)
		known = g_months[i] == start;
	pthread_mutex_unlock(&g_months_mu);
	return known;
}

static void month_remember(int64_t start)
{
	pthread_mutex_lock(&g_months_mu);
	if (g_n_months < (int)(sizeof(g_months) / sizeof(g_months[0])))
		g_months[g_n_months++] = start;
	pthread_mutex_unlock(&g_months_mu);
}

/* Month partitions, each created once; concurrent receivers are serialised
 * by an advisory lock and IF NOT EXISTS. */
int hqi_ensure_partitions(PGconn *c, const int64_t *months, int n_months, char *err, size_t errlen)
{
	for (int i = 0; i < n_months; i++) {
		if (month_known(months[i]))
			continue;
		int64_t start, next;
		time_t t = (time_t)(months[i] / 1000000);
		struct tm tm;
		char sql[400];
		hqi_month_start(months[i], &start, &next);
		gmtime_r(&t, &tm);
		snprintf(sql, sizeof(sql),
			 "BEGIN; SELECT pg_advisory_xact_lock(7007002);"
			 "CREATE TABLE IF NOT EXISTS sales_y%04dm%02d PARTITION OF sales"
			 " FOR VALUES FROM (%" PRId64 ") TO (%" PRId64 "); COMMIT",
			 tm.tm_year + 1900, tm.tm_mon + 1, start, next);
		if (hqi_exec_ok(c, sql, err, errlen)) {
			hqi_exec_ok(c, "ROLLBACK", NULL, 0);
			return PM_EIO;
		}
		month_remember(months[i]);
	}
	return PM_OK;
}

