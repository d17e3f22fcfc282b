/*
 * hq_copy.c - rows in PostgreSQL's COPY text format (escaping, optional
 * values, an event's decoded columns) and one COPY ... FROM STDIN: what
 * ingest and the schema backfill both write.
 */
#include "hq/hq_int.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* COPY text format: escape backslash, tab, newline, carriage return. */
int hqi_copy_str(struct pm_buf *b, const char *s, size_t n)
{
	int rc = PM_OK;
	size_t run = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		char c = s[i], e = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : 0;
		if (!e)
			continue;
		rc = pm_buf_add(b, s + run, i - run);
		char esc[2] = { '\\', e };
		rc = rc ? rc : pm_buf_add(b, esc, 2);
		run = i + 1;
	}
	return rc ? rc : pm_buf_add(b, s + run, n - run);
}

int hqi_copy_i64(struct pm_buf *b, int64_t v, char sep)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%" PRId64 "%c", v, sep);
	return pm_buf_add(b, t, (size_t)n);
}

/* JSON string with the characters JSON must escape, then COPY-escaped. */
int hqi_copy_json_str(struct pm_buf *b, const char *s)
{
	struct pm_buf j = { 0 };
	int rc = pm_buf_add(&j, "\"", 1);
	for (const char *p = s; !rc && *p; p++) {
		char t[8];
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			rc = pm_buf_add(&j, (char[]){ '\\', (char)ch }, 2);
		else if (ch < 0x20)
			rc = pm_buf_add(&j, t, (size_t)snprintf(t, sizeof(t), "\\u%04x", ch));
		else
			rc = pm_buf_add(&j, p, 1);
	}
	rc = rc ? rc : pm_buf_add(&j, "\"", 1);
	rc = rc ? rc : hqi_copy_str(b, j.data, j.len);
	pm_buf_free(&j);
	return rc;
}

/* The columns of events after the key, in this order (COPY lists). */


static int copy_opt_str(struct pm_buf *b, const char *s, char sep)
{
	int rc = s && s[0] ? hqi_copy_str(b, s, strlen(s)) : pm_buf_add(b, "\\N", 2);
	return rc ? rc : pm_buf_add(b, &sep, 1);
}

static int copy_opt_i64(struct pm_buf *b, bool set, int64_t v, char sep)
{
	if (set)
		return hqi_copy_i64(b, v, sep);
	int rc = pm_buf_add(b, "\\N", 2);
	return rc ? rc : pm_buf_add(b, &sep, 1);
}

/* An event's decoded fields as the HQI_EVENT_COLS of a COPY row, each followed by a tab. */
int hqi_copy_event_fields(struct pm_buf *b, const struct wire_event_payload *d, const char *card)
{
	const struct wire_offer_event *o = &d->offer;
	bool offer = d->type >= WIRE_EV_OFFER_ISSUED;
	int rc = copy_opt_str(b, card, '\t');
	rc = rc ? rc : copy_opt_str(b, offer ? o->campaign : NULL, '\t');
	rc = rc ? rc : copy_opt_i64(b, offer, (int64_t)o->sale, '\t');
	rc = rc ? rc : copy_opt_str(b, offer ? o->rule : NULL, '\t');
	rc = rc ? rc : copy_opt_str(b, o->has_offer ? o->kind : NULL, '\t');
	rc = rc ? rc : copy_opt_str(b, o->has_offer ? o->gtin : NULL, '\t');
	rc = rc ? rc : copy_opt_i64(b, o->has_offer, o->benefit, '\t');
	rc = rc ? rc : copy_opt_i64(b, o->has_offer, o->value, '\t');
	rc = rc ? rc : copy_opt_str(b, offer ? o->coupon : NULL, '\t');
	rc = rc ? rc : copy_opt_i64(b, d->type == WIRE_EV_OFFER_REDEEMED, o->discount_cents, '\t');
	return rc ? rc : copy_opt_str(b, wire_consent_name(d->consent), '\t');
}

/* COPY ... FROM STDIN of (rows, len), COPY text format. */
int hqi_copy_in(PGconn *c, const char *sql, const char *rows, size_t len, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	if (ok)
		ok = PQputCopyData(c, rows, (int)len) == 1 && PQputCopyEnd(c, NULL) == 1;
	r = PQgetResult(c);
	ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	return ok ? PM_OK : PM_EIO;
}
