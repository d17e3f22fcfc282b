/*
 * hq_query.c - HQ's read side: a card's history across stores (the same
 * JSON shape as `posmark history --json`), sales by store and day, campaign
 * counts with lift against the control group, requests for stores, and the
 * published rule sets.
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "hq/hq_rollup_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Print each row's first column (a JSON text) as one line. */
static int print_json_rows(PGresult *r, FILE *out, char *err, size_t errlen)
{
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return PM_EIO;
	}
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(out, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	return PM_OK;
}

int hq_history(PGconn *c, const char *card, FILE *out, char *err, size_t errlen)
{
	char ref[HQV_REF_LEN + 1];
	int rc = hqv_card_ref(c, card, false, ref, err, errlen);
	if (rc == PM_ENOENT)
		return PM_OK; /* no card of that number: no sales */
	if (rc)
		return rc;
	const char *pv[1] = { ref };
	PGresult *r = hqi_query(c, "SELECT store_id, terminal, seq, time_us, total_cents, currency, tender,"
				" points_earned, items FROM sales WHERE card = $1"
				" ORDER BY time_us, store_id, terminal, seq", 1, pv, false, err, errlen);
	if (!r)
		return PM_EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *items_in = json_loads(PQgetvalue(r, i, 8), 0, NULL), *items = json_array(), *it;
		size_t k;
		/* jsonb reorders keys: rebuild each item in the terminal's key order */
		json_array_foreach(items_in, k, it)
			json_array_append_new(items, json_pack("{s:O, s:O, s:O, s:O}", "gtin",
					json_object_get(it, "gtin"), "qty", json_object_get(it, "qty"), "price_cents",
					json_object_get(it, "price_cents"), "line_cents", json_object_get(it, "line_cents")));
		json_decref(items_in);
		json_int_t seq = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:o, s:s}", "sale_id", seq,
				      "terminal", PQgetvalue(r, i, 1), "seq", seq, "time_us",
				      (json_int_t)strtoll(PQgetvalue(r, i, 3), NULL, 10), "total_cents",
				      (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10), "currency", PQgetvalue(r, i, 5),
				      "tender", PQgetvalue(r, i, 6), "points_earned",
				      (json_int_t)strtoll(PQgetvalue(r, i, 7), NULL, 10), "items", items, "store",
				      PQgetvalue(r, i, 0));
		char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (txt)
			fprintf(out, "%s\n", txt);
		free(txt);
		json_decref(o);
	}
	PQclear(r);
	return PM_OK;
}

int hq_report_sales_by_day(PGconn *c, FILE *out, char *err, size_t errlen)
{
	return print_json_rows(PQexec(c,
		"SELECT json_build_object('store', store_id, 'day', day, 'sales', n, 'total_cents', total,"
		" 'currency', currency)::text FROM (SELECT store_id, currency,"
		" to_char(to_timestamp(time_us / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,"
		" count(*) AS n, sum(total_cents) AS total FROM sales GROUP BY 1, 2, 3) d"
		" ORDER BY store_id, day, currency"), out, err, errlen);
}

/*
 * Per campaign: offers issued, held back (control group), redeemed; and the
 * share of offers whose card bought the offered item within 30 days after
 * (treated: issued; control: held back). Two readings of the effect:
 * `lift` = treated / control (the ratio, kept as first published), and
 * `lift_difference` = treated - control with Newcombe's hybrid score 95%
 * interval `lift_difference_ci95` [lo, hi]: the estimator the console's
 * campaigns page shows (hq_pages_campaigns.c, docs/console.md).
 */
static json_t *campaign_row(PGresult *r, int i)
{
	json_t *o = json_loads(PQgetvalue(r, i, 0), 0, NULL);
	if (!o)
		return NULL;
	int64_t tx = strtoll(PQgetvalue(r, i, 1), NULL, 10), tn = strtoll(PQgetvalue(r, i, 2), NULL, 10);
	int64_t cx = strtoll(PQgetvalue(r, i, 3), NULL, 10), cn = strtoll(PQgetvalue(r, i, 4), NULL, 10);
	struct hqr_lift l;
	if (hqr_lift(tx, tn, cx, cn, 1.959964, &l) == PM_OK) {
		json_object_set_new(o, "lift_difference", json_real(round(l.diff * 10000) / 10000));
		json_object_set_new(o, "lift_difference_ci95",
				    json_pack("[f, f]", round(l.diff_lo * 10000) / 10000, round(l.diff_hi * 10000) / 10000));
	} else {
		json_object_set_new(o, "lift_difference", json_null());
		json_object_set_new(o, "lift_difference_ci95", json_null());
	}
	return o;
}

int hq_report_campaigns(PGconn *c, FILE *out, char *err, size_t errlen)
{
	PGresult *r = hqi_query(c,
		"WITH ev AS (SELECT campaign, type, card, time_us, gtin FROM events"
		"   WHERE campaign IS NOT NULL),"
		" conv AS (SELECT e.campaign, e.type, EXISTS (SELECT 1 FROM sales s WHERE s.card = e.card"
		"   AND s.time_us > e.time_us AND s.time_us <= e.time_us + 2592000000000"
		"   AND s.items @> jsonb_build_array(jsonb_build_object('gtin', e.gtin))) AS bought"
		"   FROM ev e WHERE e.type IN ('offer_issued', 'offer_held_back') AND e.card IS NOT NULL"
		"   AND e.gtin IS NOT NULL),"
		" counts AS (SELECT campaign, count(*) FILTER (WHERE type = 'offer_issued') AS issued,"
		"   count(*) FILTER (WHERE type = 'offer_held_back') AS held_back,"
		"   count(*) FILTER (WHERE type = 'offer_redeemed') AS redeemed FROM ev GROUP BY campaign),"
		" rates AS (SELECT campaign,"
		"   count(*) FILTER (WHERE type = 'offer_issued' AND bought) AS tx,"
		"   count(*) FILTER (WHERE type = 'offer_issued') AS tn,"
		"   count(*) FILTER (WHERE type = 'offer_held_back' AND bought) AS cx,"
		"   count(*) FILTER (WHERE type = 'offer_held_back') AS cn FROM conv GROUP BY campaign)"
		" SELECT json_build_object('campaign', k.campaign, 'issued', k.issued, 'held_back', k.held_back,"
		"   'redeemed', k.redeemed, 'redemption_rate',"
		"   CASE WHEN k.issued > 0 THEN round(k.redeemed::numeric / k.issued, 4) END,"
		"   'treated_conversion', CASE WHEN r.tn > 0 THEN round(r.tx::numeric / r.tn, 4) END,"
		"   'control_conversion', CASE WHEN r.cn > 0 THEN round(r.cx::numeric / r.cn, 4) END,"
		"   'lift', CASE WHEN r.cx > 0 THEN round((r.tx::numeric / r.tn) / (r.cx::numeric / r.cn), 4) END)::text,"
		"   coalesce(r.tx, 0), coalesce(r.tn, 0), coalesce(r.cx, 0), coalesce(r.cn, 0)"
		" FROM counts k LEFT JOIN rates r USING (campaign) ORDER BY k.campaign", 0, NULL, false, err, errlen);
	if (!r)
		return PM_EIO;
	int rc = PM_OK;
	for (int i = 0; i < PQntuples(r) && rc == PM_OK; i++) {
		json_t *o = campaign_row(r, i);
		char *txt = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
		if (txt)
			fprintf(out, "%s\n", txt);
		else {
			snprintf(err, errlen, "out of memory building the campaign report");
			rc = PM_ENOMEM;
		}
		free(txt);
		json_decref(o);
	}
	PQclear(r);
	return rc;
}

/* The stores need the number to act on: a pending erasure keeps it sealed
 * in its row (the vault row is gone), a consent change takes it from the vault. */
static char *requests_json_once(PGconn *c, const char *store, bool *stale)
{
	const char *pv[1] = { store };
	char err[300];
	PGresult *r = PQexecParams(c, "SELECT d.id, d.type, d.card, d.consent, d.sealed, v.wrapped_key, v.sealed"
				   " FROM downlink d LEFT JOIN card_vault v ON v.ref = d.card AND d.sealed IS NULL"
				   " WHERE d.store_id = $1 ORDER BY d.id LIMIT 1000", 1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || hqv_load(c, err, sizeof(err))) {
		PQclear(r);
		return NULL;
	}
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		char number[HQV_NUMBER_MAX + 1] = "";
		bool sealed = !PQgetisnull(r, i, 4), vault = !PQgetisnull(r, i, 5);
		int rc = sealed ? hqv_open_downlink(PQgetvalue(r, i, 4), number)
			 : vault ? hqv_open_row(PQgetvalue(r, i, 2), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), number)
				 : PM_ENOENT;
		if (rc && (sealed || vault))
			*stale = true; /* sealed under a key this process does not hold: a rotation since */
		if (rc) /* erased since: nothing for the store to apply (its ack removes the row) */
			continue;
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10),
						     "type", PQgetvalue(r, i, 1), "card", number, "consent",
						     PQgetisnull(r, i, 3) ? json_null() : json_string(PQgetvalue(r, i, 3))));
		sodium_memzero(number, sizeof(number));
	}
	PQclear(r);
	json_t *o = json_pack("{s:i, s:o}", "version", 1, "requests", arr);
	char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return out;
}

/* The stores need the number to act on: a pending erasure keeps it sealed
 * in its row (the vault row is gone), a consent change takes it from the vault. */
char *hq_requests_json(PGconn *c, const char *store)
{
	bool stale = false;
	char err[300], *out = requests_json_once(c, store, &stale);
	if (out && stale && !hqv_reload(c, err, sizeof(err))) {
		free(out);
		stale = false;
		out = requests_json_once(c, store, &stale);
	}
	return out;
}

int hq_requests_ack(PGconn *c, const char *store, int64_t up_to)
{
	char n[24];
	snprintf(n, sizeof(n), "%" PRId64, up_to);
	const char *pv[2] = { store, n };
	return hqi_exec(c, "DELETE FROM downlink WHERE store_id = $1 AND id <= $2::bigint", 2, pv, NULL, NULL,
			NULL, 0);
}

int hq_rules_next_serial(PGconn *c, uint64_t *serial, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT greatest(coalesce(max(serial), 0) + 1,"
			     " extract(epoch FROM now())::bigint) FROM rule_sets");
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	*serial = ok ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	if (!ok)
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? PM_OK : PM_EIO;
}

int hq_rules_store(PGconn *c, const void *body, size_t len, uint64_t serial, const unsigned char sig[64],
		   char *err, size_t errlen)
{
	char serial_s[24];
	unsigned char h[crypto_hash_sha256_BYTES];
	char etag[72];
	crypto_hash_sha256(h, body, len);
	etag[0] = '"';
	sodium_bin2hex(etag + 1, sizeof(etag) - 2, h, 16);
	strcat(etag, "\"");
	snprintf(serial_s, sizeof(serial_s), "%" PRIu64, serial);
	const char *pv[4] = { body, (const char *)sig, etag, serial_s };
	int lens[4] = { (int)len, 64, (int)strlen(etag), (int)strlen(serial_s) }, fmts[4] = { 1, 1, 0, 0 };
	return hqi_exec(c, "INSERT INTO rule_sets (body, signature, etag, serial) VALUES ($1, $2, $3, $4::bigint)",
			4, pv, lens, fmts, err, errlen);
}

int hq_rules_publish(PGconn *c, const void *body, size_t len, const unsigned char sk[64], uint64_t *serial,
		     char *err, size_t errlen)
{
	unsigned char sig[crypto_sign_BYTES];
	struct pm_buf signed_msg = { 0 };
	const void *m = NULL;
	size_t mlen = 0;
	int rc = hq_rules_next_serial(c, serial, err, errlen);
	if (!rc && (rc = wire_rules_signed_message(*serial, body, len, &signed_msg, &m, &mlen)))
		snprintf(err, errlen, "%s", pm_strerror(rc));
	if (!rc)
		crypto_sign_detached(sig, NULL, m, mlen, sk);
	pm_buf_free(&signed_msg);
	if (!rc)
		rc = hq_rules_store(c, body, len, *serial, sig, err, errlen);
	return rc;
}

int hq_rules_latest(PGconn *c, struct hq_rules *out)
{
	PGresult *r;
	int rc = PM_ENOENT;
	memset(out, 0, sizeof(*out));
	/* binary results: body and signature as raw bytes */
	r = PQexecParams(c, "SELECT body, signature, etag, coalesce(serial, 0)::text FROM rule_sets"
			 " ORDER BY id DESC LIMIT 1", 0, NULL,
			 NULL, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = PM_EIO;
	else if (PQntuples(r) == 1 && PQgetlength(r, 0, 1) == 64) {
		out->len = (size_t)PQgetlength(r, 0, 0);
		out->body = malloc(out->len + 1);
		if (!out->body) {
			rc = PM_ENOMEM;
		} else {
			memcpy(out->body, PQgetvalue(r, 0, 0), out->len);
			out->body[out->len] = '\0';
			sodium_bin2hex(out->sig_hex, sizeof(out->sig_hex), (const unsigned char *)PQgetvalue(r, 0, 1),
				       64);
			snprintf(out->etag, sizeof(out->etag), "%.*s", PQgetlength(r, 0, 2), PQgetvalue(r, 0, 2));
			/* binary format: the ::text column comes as its characters */
			char serial_s[24];
			snprintf(serial_s, sizeof(serial_s), "%.*s", PQgetlength(r, 0, 3), PQgetvalue(r, 0, 3));
			out->serial = strtoull(serial_s, NULL, 10);
			rc = PM_OK;
		}
	}
	PQclear(r);
	return rc;
}
