/*
 * hq_requests.c - the review queue (`posmark-hq requests`): erasure and
 * consent events that a store sent but may not apply by itself. A store's
 * event acts only on a card that store has seen (a sale, or an offer event,
 * of the card from that store); a consent change dated more than
 * HQ_CONSENT_SKEW_S into the future is not trusted either (newest change
 * wins, so a future date would pin it). hq_db.c's ingest queues such events
 * here in the batch's own transaction; an operator approves or rejects
 * each. docs/hq.md, "Consent and erasure".
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int hq_review_list(PGconn *c, FILE *out, char *err, size_t errlen)
{
	/* the operator decides on the number (the customer's request names it): opened from the vault */
	PGresult *r = hqi_query(c, "SELECT json_build_object('id', id, 'store', store_id, 'terminal', terminal,"
				" 'seq', seq, 'type', type, 'card', '', 'ref', card, 'consent', consent, 'event_us', event_us,"
				" 'received_us', received_us, 'reason', reason)::text, q.card, v.wrapped_key, v.sealed"
				" FROM review_requests q LEFT JOIN card_vault v ON v.ref = q.card"
				" WHERE status = 'pending' ORDER BY id", 0, NULL, false, err, errlen);
	if (!r)
		return PM_EIO;
	int rc = PQntuples(r) ? hqv_load(c, err, errlen) : PM_OK;
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		char number[HQV_NUMBER_MAX + 1] = "";
		json_t *o = json_loads(PQgetvalue(r, i, 0), JSON_PRESERVE_ORDER, NULL);
		if (!PQgetisnull(r, i, 2))
			hqv_open_row(PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), number);
		json_object_set_new(o, "card", json_string(number));
		json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(o);
	}
	PQclear(r);
	return rc;
}

/* The approved request's effect, in the caller's transaction. */
static int apply_request(PGconn *c, PGresult *req, char *what, size_t whatlen, char *err, size_t errlen)
{
	const char *store = PQgetvalue(req, 0, 0), *type = PQgetvalue(req, 0, 1), *card = PQgetvalue(req, 0, 2);
	if (!strcmp(type, "erasure")) {
		snprintf(what, whatlen, "card erased at HQ; the stores that know it are told on their next sync");
		return hq_erase(c, card, store, err, errlen);
	}
	/* consent: as a till's consent change, dated no later than now */
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL) * 1000000);
	const char *pv[5] = { card, PQgetvalue(req, 0, 3), PQgetvalue(req, 0, 4), store, now };
	snprintf(what, whatlen, "consent '%s' recorded for the card", pv[1]);
	return hqi_exec(c, "INSERT INTO cards (card, consent, consent_changed_us, source_store)"
			" VALUES ($1, $2, least($3::bigint, $5::bigint), $4) ON CONFLICT (card) DO UPDATE"
			" SET consent = EXCLUDED.consent, consent_changed_us = EXCLUDED.consent_changed_us,"
			" source_store = EXCLUDED.source_store"
			" WHERE cards.consent_changed_us <= EXCLUDED.consent_changed_us", 5, pv, NULL, NULL, err, errlen);
}

int hq_review_decide(PGconn *c, int64_t id, bool approve, char *what, size_t whatlen, char *err, size_t errlen)
{
	char id_s[24], now[24];
	int rc;
	snprintf(id_s, sizeof(id_s), "%" PRId64, id);
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL) * 1000000);
	snprintf(what, whatlen, "nothing changed");
	if (hqi_exec_ok(c, "BEGIN", err, errlen))
		return PM_EIO;
	const char *pv[3] = { id_s, approve ? "approved" : "rejected", now };
	PGresult *r = PQexecParams(c, "SELECT store_id, type, card, coalesce(consent, ''), event_us FROM review_requests"
				   " WHERE id = $1::bigint AND status = 'pending' FOR UPDATE", 1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		rc = PM_EIO;
	} else if (PQntuples(r) != 1) {
		rc = PM_ENOENT;
	} else {
		/* an approved erasure deletes the request with every other row of the card */
		rc = hqi_exec(c, "UPDATE review_requests SET status = $2, decided_us = $3::bigint WHERE id = $1::bigint",
			      3, pv, NULL, NULL, err, errlen);
		if (!rc && approve)
			rc = apply_request(c, r, what, whatlen, err, errlen);
	}
	PQclear(r);
	if (hqi_exec_ok(c, rc ? "ROLLBACK" : "COMMIT", rc ? NULL : err, errlen) && !rc)
		rc = PM_EIO;
	return rc;
}
