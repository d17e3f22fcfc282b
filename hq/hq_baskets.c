/*
 * hq_baskets.c - HQ's stored sales as baskets, for mining at HQ
 * (`posmark mine --hq-db`, wired in terminal/cmd_mine.c; docs/mining.md).
 *
 * One COPY (SELECT ...) TO STDOUT in a read-only snapshot streams one line
 * per selected sale with its items' GTINs (PostgreSQL takes them out of the
 * items jsonb with a JSON path: 40% faster than jsonb_array_elements and
 * string_agg); each line goes to the caller's callback as it arrives, so the
 * client holds one row at a time, never the result set. No ORDER BY: the
 * mining results do not depend on the order of the baskets (every output is
 * sorted), and a sort would cost PostgreSQL a fifth more time, memory or
 * disk for a large selection, and hold back the first row until it is done.
 * The filters (store, terminal, time range) are literals in the statement
 * (COPY takes no parameters): strings through PQescapeLiteral, times as
 * integers; the time range lets PostgreSQL skip whole month partitions.
 * With cards (hq_baskets_sales), each row also carries the sale's time and
 * card (COPY's text columns, tab-separated), so HQ mines explore rules too.
 */
#include "hq/hq.h"
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

/* libpq's messages span lines ("...failed: Connection refused\n\tIs the
 * server running...?\n"); the caller prints one line. */
static void one_line(char *s)
{
	char *w = s;
	bool blank = false;

	for (char *r = s; *r; r++) {
		if (*r == '\n' || *r == '\t' || *r == '\r' || *r == ' ') {
			blank = w > s;
			continue;
		}
		if (blank)
			*w++ = ' ';
		blank = false;
		*w++ = *r;
	}
	*w = '\0';
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

/* Who gets each row: the plain callback, or the one with card and time. */
struct sink {
	hq_basket_cb cb;
	hq_basket_sale_cb sale_cb;
	void *ctx;
};

/* One COPY line: the sale's GTINs as a JSON array of strings, ["0400...", "0400..."]
 * (digits only: the receiver stores nothing else, so there is nothing to unescape);
 * with cards, "TIME_US<tab>CARD<tab>" before it (an anonymous sale's card is empty). */
static int one_row(char *row, int len, const struct sink *k, struct hq_basket_stats *st,
		   const char **gtins, char *err, size_t errlen)
{
	uint32_t n = 0;
	char *p = row, *end = row + len, *card = NULL, *tab;
	int64_t time_us = 0;

	if (len > 0 && end[-1] == '\n')
		*--end = '\0';
	st->sales++;
	if (k->sale_cb) {
		char *num_end;
		time_us = strtoll(p, &num_end, 10);
		if (num_end == p || *num_end != '\t' || !(tab = memchr(num_end + 1, '\t', (size_t)(end - num_end - 1))))
			goto bad;
		card = num_end + 1;
		*tab = '\0';
		p = tab + 1;
	}
	if (end - p < 2 || p[0] != '[' || end[-1] != ']')
		goto bad;
	p++;
	end--;
	while (p < end) {
		char *q;
		if (*p == ',' || *p == ' ') {
			p++;
			continue;
		}
		if (*p != '"' || !(q = memchr(p + 1, '"', (size_t)(end - p - 1))) || q == p + 1 ||
		    q - p - 1 > 14 || strspn(p + 1, "0123456789") != (size_t)(q - p - 1) || n == MAX_ITEMS_PER_SALE)
			goto bad;
		*q = '\0';
		gtins[n++] = p + 1;
		p = q + 1;
	}
	if (!n) {
		st->empty++;
		return PM_OK;
	}
	return k->sale_cb ? k->sale_cb(k->ctx, card, time_us, gtins, n) : k->cb(k->ctx, gtins, n);
bad:
	snprintf(err, errlen, "sale %" PRIu64 " of the selection has an item that is not a GTIN "
		 "(or more than %d items)", st->sales, MAX_ITEMS_PER_SALE);
	return PM_ECORRUPT;
}

static int stream(const char *conninfo, const struct hq_basket_query *q, const struct sink *k,
		  struct hq_basket_stats *st, char *err, size_t errlen)
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
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(c));
		rc = PM_EOFFLINE;
		goto out;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
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
	sql_add(&s, k->sale_cb ? "COPY (SELECT s.time_us, coalesce(s.card, ''), "
				 "jsonb_path_query_array(s.items, '$[*].gtin') FROM sales s WHERE true"
			       : "COPY (SELECT jsonb_path_query_array(s.items, '$[*].gtin') FROM sales s WHERE true");
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
	sql_add(&s, ") TO STDOUT");
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
		rc = one_row(row, len, k, st, gtins, err, errlen);
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
	one_line(err);
	return rc;
}

int hq_baskets(const char *conninfo, const struct hq_basket_query *q, hq_basket_cb cb, void *ctx,
	       struct hq_basket_stats *st, char *err, size_t errlen)
{
	struct sink k = { cb, NULL, ctx };
	return stream(conninfo, q, &k, st, err, errlen);
}

int hq_baskets_sales(const char *conninfo, const struct hq_basket_query *q, hq_basket_sale_cb cb, void *ctx,
		     struct hq_basket_stats *st, char *err, size_t errlen)
{
	struct sink k = { NULL, cb, ctx };
	return stream(conninfo, q, &k, st, err, errlen);
}
