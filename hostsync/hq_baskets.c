/*
 * hq_baskets.c - HQ's stored sales as baskets, for mining at HQ
 * (`posmark mine --hq-db`, wired in terminal/cmd_mine.c; docs/mining.md).
 *
 * One COPY (SELECT ...) TO STDOUT in a read-only snapshot streams one line
 * per selected sale with its items' GTINs (PostgreSQL takes them out of the
 * items jsonb), oldest first; each line goes to the caller's callback as it
 * arrives, so the client holds one row at a time, never the result set.
 * The filters (store, terminal, time range) are literals in the statement
 * (COPY takes no parameters): strings through PQescapeLiteral, times as
 * integers; the time range lets PostgreSQL skip whole month partitions.
 */
#include "hostsync/hq_int.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS_PER_SALE 4096

struct sql {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sql_add(struct sql *q, const char *t)
{
	size_t n = strlen(t);
	if (q->oom)
		return;
	if (q->len + n + 1 > q->cap) {
		size_t cap = (q->len + n + 1) * 2;
		char *ns = realloc(q->s, cap);
		if (!ns) {
			q->oom = true;
			return;
		}
		q->s = ns;
		q->cap = cap;
	}
	memcpy(q->s + q->len, t, n + 1);
	q->len += n;
}

/* " AND col = 'value'" with the value escaped by libpq. */
static void sql_eq(struct sql *q, PGconn *c, const char *col, const char *value)
{
	char *lit = PQescapeLiteral(c, value, strlen(value));
	if (!lit) {
		q->oom = true;
		return;
	}
	sql_add(q, " AND ");
	sql_add(q, col);
	sql_add(q, " = ");
	sql_add(q, lit);
	PQfreemem(lit);
}

/* The schema must be posmark-hq's, at a version this build knows. */
static int check_schema(PGconn *c, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT max(version) FROM schema_migrations");
	int v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v < 1) {
		snprintf(err, errlen, "this database has no posmark-hq sales (no schema_migrations table)");
		return PM_EVERSION;
	}
	if (v > HQ_SCHEMA_VERSION) {
		snprintf(err, errlen, "the database schema is version %d, this build knows up to %d", v,
			 HQ_SCHEMA_VERSION);
		return PM_EVERSION;
	}
	return PM_OK;
}

/* One COPY line: GTINs separated by spaces, or \N for a sale without items. */
static int one_row(char *row, int len, hs_basket_cb cb, void *ctx, struct hs_basket_stats *st,
		   const char **gtins, char *err, size_t errlen)
{
	uint32_t n = 0;
	char *p = row, *end = row + len;

	if (len > 0 && end[-1] == '\n')
		*--end = '\0';
	st->sales++;
	if (end - p == 2 && p[0] == '\\' && p[1] == 'N') {
		st->empty++;
		return PM_OK;
	}
	while (p < end) {
		char *sp = memchr(p, ' ', (size_t)(end - p));
		char *e = sp ? sp : end;
		if (e == p || (size_t)(e - p) > 14 || strspn(p, "0123456789") < (size_t)(e - p) ||
		    n == MAX_ITEMS_PER_SALE) {
			snprintf(err, errlen, "sale %" PRIu64 " of the selection has an item that is not a GTIN "
				 "(or more than %d items)", st->sales, MAX_ITEMS_PER_SALE);
			return PM_ECORRUPT;
		}
		*e = '\0';
		gtins[n++] = p;
		p = e + 1;
	}
	return cb(ctx, gtins, n);
}

int hs_hq_baskets(const char *conninfo, const struct hs_basket_query *q, hs_basket_cb cb, void *ctx,
		  struct hs_basket_stats *st, char *err, size_t errlen)
{
	struct sql s = { 0 };
	char num[64];
	const char **gtins = NULL;
	PGconn *c;
	PGresult *r;
	int rc = PM_EIO, len;
	char *row;

	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	if (!(c = hq_connect(conninfo, err, errlen)))
		return PM_EOFFLINE;
	if ((rc = check_schema(c, err, errlen)))
		goto out;
	rc = PM_EIO;
	r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		goto out;
	}
	PQclear(r);
	sql_add(&s, "COPY (SELECT (SELECT string_agg(e->>'gtin', ' ') FROM jsonb_array_elements(s.items) e)"
		    " FROM sales s WHERE true");
	if (q->store && *q->store)
		sql_eq(&s, c, "s.store_id", q->store);
	if (q->terminal && *q->terminal)
		sql_eq(&s, c, "s.terminal", q->terminal);
	if (q->since_us != INT64_MIN) {
		snprintf(num, sizeof(num), " AND s.time_us >= %" PRId64, q->since_us);
		sql_add(&s, num);
	}
	if (q->until_us != INT64_MAX) {
		snprintf(num, sizeof(num), " AND s.time_us < %" PRId64, q->until_us);
		sql_add(&s, num);
	}
	sql_add(&s, " ORDER BY s.time_us, s.store_id, s.terminal, s.seq) TO STDOUT");
	gtins = malloc(MAX_ITEMS_PER_SALE * sizeof(*gtins));
	if (s.oom || !gtins) {
		rc = PM_ENOMEM;
		goto out;
	}
	r = PQexec(c, s.s);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		goto out;
	}
	PQclear(r);
	rc = PM_OK;
	while ((len = PQgetCopyData(c, &row, 0)) > 0) {
		rc = one_row(row, len, cb, ctx, st, gtins, err, errlen);
		PQfreemem(row);
		if (rc)
			goto out;    /* closing the connection ends the COPY */
	}
	if (len == -2) {
		snprintf(err, errlen, "%s", PQerrorMessage(c));
		rc = PM_EIO;
		goto out;
	}
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		rc = PM_EIO;
	}
	PQclear(r);
out:
	free(gtins);
	free(s.s);
	PQfinish(c);
	/* libpq's messages end in a newline; the caller prints one line */
	len = (int)strlen(err);
	while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
		err[--len] = '\0';
	return rc;
}
