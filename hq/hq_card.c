/*
 * hq_card.c - reading the chain account at HQ (docs/accounts.md; the tier table
 * is hq_tiers.c's): `posmark-hq card CARD`
 * (balance, tier over the chain's spend in the window, consent, the ledger
 * oldest first) and the account reports (negative balances, coupons
 * redeemed twice).
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "wire/wire.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t window_start_us(const struct hq_tiers *t)
{
	return (int64_t)time(NULL) * 1000000 - (int64_t)t->window_days * 86400 * 1000000;
}

static int q_fail(PGresult *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return PM_EIO;
}

/* The card's ref and number, whichever of the two the command was given: a number finds its ref
 * through the vault, a ref (from SQL) shows its number. */
static int card_ref_and_number(PGconn *c, const char *card, char ref[HQV_REF_LEN + 1],
			       char number[HQV_NUMBER_MAX + 1], char *err, size_t errlen)
{
	int rc = hqv_card_ref(c, card, false, ref, err, errlen);
	if (!rc && hqv_is_ref(card))
		rc = hqv_number_of(c, ref, number, err, errlen);
	else
		snprintf(number, HQV_NUMBER_MAX + 1, "%s", card);
	if (rc == PM_ENOENT)
		snprintf(err, errlen, "HQ has no account of card %s", card);
	if (rc) {
		/* the vault may not exist yet (an empty or older database) or be a newer build's:
		 * say so, so the caller migrates (or refuses) and asks again, as for the lookup
		 * in card_account; costs a round trip only when the vault did not answer with a ref */
		bool cur = true;
		PQclear(hqi_exec_if_current(c, "SELECT 1", 0, NULL, &cur));
		if (!cur) {
			snprintf(err, errlen, "the database's schema is not this build's (migrate, then ask again)");
			return PM_EVERSION;
		}
	}
	return rc;
}

/* Column numbers of card_account's rows: the account's (repeated on every row), then the entry's. */
enum {
	CARD_POINTS, CARD_ERASED, CARD_TIER_FLOOR, CARD_CONSENT, CARD_CONSENT_CHANGED, CARD_LAST_VISIT, CARD_SPEND,
	ENTRY_TIME, ENTRY_STORE, ENTRY_TERMINAL, ENTRY_SEQ, ENTRY_KIND, ENTRY_POINTS, ENTRY_REASON
};

/* The account of ref (card: its number, for the message) and its ledger, oldest first.
 * One statement, so one snapshot (the balance and the entries it sums agree), sent with
 * the schema check in one round trip: a row per entry, the account's columns repeated;
 * no entry: one row of NULLs. *res: the rows (the caller clears them). */
static int card_account(PGconn *c, const char *ref, const char *card, const struct hq_tiers *tiers, PGresult **res,
			char *err, size_t errlen)
{
	char since[24];
	snprintf(since, sizeof(since), "%" PRId64, window_start_us(tiers));
	const char *pv[2] = { ref, since };
	bool current;
	PGresult *a = hqi_exec_if_current(c,
		"SELECT a.points, a.erased, CASE WHEN a.tier_floor_until_us > $2::bigint THEN a.tier_floor ELSE 0 END,"
		" coalesce(k.consent, 'unknown'), coalesce(k.consent_changed_us, 0), a.last_visit_us,"
		" (SELECT coalesce(sum(" HQI_MONEY_SQL "), 0) FROM sales s WHERE s.card = $1 AND s.time_us >= $2::bigint),"
		" l.time_us, coalesce(l.store_id, ''), l.terminal, l.seq, l.kind, l.points, coalesce(l.reason, '')"
		" FROM accounts a LEFT JOIN cards k ON k.card = a.card LEFT JOIN ledger l ON l.card = a.card"
		" WHERE a.card = $1 ORDER BY l.time_us, l.terminal_key, l.seq,"
		" CASE l.kind WHEN 'expiry' THEN 0 WHEN 'spend' THEN 1 WHEN 'earn' THEN 2 WHEN 'bonus' THEN 3"
		" WHEN 'clawback' THEN 4 WHEN 'adjust' THEN 5 ELSE 6 END", 2, pv, &current);
	if (!current) {
		PQclear(a);
		snprintf(err, errlen, "the database's schema is not this build's (migrate, then ask again)");
		return PM_EVERSION;
	}
	if (PQresultStatus(a) != PGRES_TUPLES_OK)
		return q_fail(a, err, errlen);
	if (PQntuples(a) == 0 || !strcmp(PQgetvalue(a, 0, CARD_ERASED), "t")) {
		PQclear(a);
		snprintf(err, errlen, "HQ has no account of card %s", card);
		return PM_ENOENT;
	}
	*res = a;
	return PM_OK;
}

static void card_print_json(PGresult *a, int n_entries, const char *card, const char *ref,
			    const struct hq_tiers *tiers, int tier, int64_t spend, FILE *out)
{
	json_t *o = json_object(), *arr = json_array();
	json_object_set_new(o, "card", json_string(card));
	json_object_set_new(o, "ref", json_string(ref));
	json_object_set_new(o, "points", json_integer(strtoll(PQgetvalue(a, 0, CARD_POINTS), NULL, 10)));
	json_object_set_new(o, "tier", json_integer(tier));
	json_object_set_new(o, "tier_name", json_string(tiers->name[tier]));
	json_object_set_new(o, "window_spend_cents", json_integer(spend));
	json_object_set_new(o, "consent", json_string(PQgetvalue(a, 0, CARD_CONSENT)));
	json_object_set_new(o, "consent_changed_us",
			    json_integer(strtoll(PQgetvalue(a, 0, CARD_CONSENT_CHANGED), NULL, 10)));
	json_object_set_new(o, "last_visit_us", json_integer(strtoll(PQgetvalue(a, 0, CARD_LAST_VISIT), NULL, 10)));
	for (int i = 0; i < n_entries; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "time_us", json_integer(strtoll(PQgetvalue(a, i, ENTRY_TIME), NULL, 10)));
		/* HQ's own entries have no store: null (the text shows "HQ") */
		json_object_set_new(e, "store", PQgetlength(a, i, ENTRY_STORE) ? json_string(PQgetvalue(a, i, ENTRY_STORE))
									 : json_null());
		json_object_set_new(e, "terminal", json_string(PQgetvalue(a, i, ENTRY_TERMINAL)));
		json_object_set_new(e, "seq", json_integer(strtoll(PQgetvalue(a, i, ENTRY_SEQ), NULL, 10)));
		json_object_set_new(e, "kind", json_string(PQgetvalue(a, i, ENTRY_KIND)));
		json_object_set_new(e, "points", json_integer(strtoll(PQgetvalue(a, i, ENTRY_POINTS), NULL, 10)));
		if (PQgetlength(a, i, ENTRY_REASON))
			json_object_set_new(e, "reason", json_string(PQgetvalue(a, i, ENTRY_REASON)));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "ledger", arr);
	json_dumpf(o, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(o);
}

static void card_print_text(PGresult *a, int n_entries, const char *card, const struct hq_tiers *tiers, int tier,
			    int64_t spend, FILE *out)
{
	fprintf(out, "card %s: %s points, tier %s (%.2f spent in %d days), consent %s\n", card,
		PQgetvalue(a, 0, CARD_POINTS), tiers->name[tier], (double)spend / 100, tiers->window_days,
		PQgetvalue(a, 0, CARD_CONSENT));
	for (int i = 0; i < n_entries; i++) {
		time_t t = (time_t)(strtoll(PQgetvalue(a, i, ENTRY_TIME), NULL, 10) / 1000000);
		struct tm tm;
		char when[32] = "?";
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		fprintf(out, "  %s  %-8s %8s  %s %s:%s%s%s\n", when, PQgetvalue(a, i, ENTRY_KIND),
			PQgetvalue(a, i, ENTRY_POINTS),
			PQgetlength(a, i, ENTRY_STORE) ? PQgetvalue(a, i, ENTRY_STORE) : "HQ",
			PQgetvalue(a, i, ENTRY_TERMINAL), PQgetvalue(a, i, ENTRY_SEQ),
			PQgetlength(a, i, ENTRY_REASON) ? "  " : "", PQgetvalue(a, i, ENTRY_REASON));
	}
}

int hq_card_show(PGconn *c, const char *card, const struct hq_tiers *tiers, bool json, FILE *out, char *err,
		 size_t errlen)
{
	char ref[HQV_REF_LEN + 1], number[HQV_NUMBER_MAX + 1];
	PGresult *a = NULL;
	int rc = card_ref_and_number(c, card, ref, number, err, errlen);
	if (rc)
		return rc;
	/* from here on the card is its number (it is shown, and named in messages), never the ref */
	card = number;
	if ((rc = card_account(c, ref, card, tiers, &a, err, errlen)))
		return rc;
	int n_entries = PQgetisnull(a, 0, ENTRY_TIME) ? 0 : PQntuples(a);
	int64_t spend = strtoll(PQgetvalue(a, 0, CARD_SPEND), NULL, 10);
	int tier = hqi_tier_of(tiers, spend, atoi(PQgetvalue(a, 0, CARD_TIER_FLOOR)));
	if (json)
		card_print_json(a, n_entries, card, ref, tiers, tier, spend, out);
	else
		card_print_text(a, n_entries, card, tiers, tier, spend, out);
	PQclear(a);
	sodium_memzero(number, sizeof(number));
	return ferror(out) ? PM_EIO : PM_OK;
}

/* Rows of a query, each already one JSON text in column 0, one per line. */
static int json_lines(PGconn *c, const char *sql, FILE *out, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return q_fail(r, err, errlen);
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(out, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	return PM_OK;
}

int hq_report_negative_balances(PGconn *c, FILE *out, char *err, size_t errlen)
{
	/* the offline allowance spent at two stores, or a clawback after spending (docs/accounts.md);
	 * the numbers opened from the vault */
	PGresult *r = PQexec(c, "SELECT a.card, a.points, a.last_visit_us, v.wrapped_key, v.sealed FROM accounts a"
			     " LEFT JOIN card_vault v ON v.ref = a.card WHERE a.points < 0 AND NOT a.erased"
			     " ORDER BY a.points, a.card");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return q_fail(r, err, errlen);
	int rc = PQntuples(r) ? hqv_load(c, err, errlen) : PM_OK;
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		char number[HQV_NUMBER_MAX + 1] = "";
		if (!PQgetisnull(r, i, 3))
			hqv_open_row(PQgetvalue(r, i, 0), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), number);
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "report", "negative_balances", "card", number, "points",
				      (json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10), "last_visit_us",
				      (json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10), "ref", PQgetvalue(r, i, 0));
		json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(o);
	}
	PQclear(r);
	return rc;
}

int hq_report_coupons_twice(PGconn *c, FILE *out, char *err, size_t errlen)
{
	return json_lines(c, "SELECT json_build_object('report', 'coupons_redeemed_twice', 'coupon', coupon,"
			  " 'redemptions', json_agg(json_build_object('store', store_id, 'terminal', terminal, 'seq', seq,"
			  " 'time_us', time_us) ORDER BY time_us, terminal, seq))"
			  " FROM coupon_redemptions GROUP BY coupon HAVING count(*) > 1 ORDER BY coupon", out, err, errlen);
}

int hq_report_points_liability(PGconn *c, FILE *out, char *err, size_t errlen)
{
	/* what each store's entries owe the customers (HQ's own: store null); the chain's total is their sum */
	return json_lines(c, "SELECT json_build_object('report', 'points_liability', 'store', store_id, 'points',"
			  " sum(points), 'entries', count(*)) FROM ledger GROUP BY store_id ORDER BY store_id NULLS LAST",
			  out, err, errlen);
}

int hq_report_returns_over_sold(PGconn *c, FILE *out, char *err, size_t errlen)
{
	/*
	 * Units returned of a sale beyond what it sold: two stores each returning part of one sale
	 * while HQ lagged (docs/accounts.md, "Which returns are known"). Only sales HQ has: a
	 * return whose sale has not arrived yet is judged when it does.
	 */
	return json_lines(c,
		"WITH r AS (SELECT s.return_of_terminal AS t, s.return_of_seq AS q, i->>'gtin' AS gtin,"
		"   sum((i->>'qty')::bigint) AS returned, sum((i->>'line_cents')::bigint) AS refunded,"
		"   json_agg(json_build_object('store', s.store_id, 'terminal', s.terminal, 'seq', s.seq,"
		"     'qty', (i->>'qty')::bigint, 'time_us', s.time_us) ORDER BY s.time_us, s.terminal, s.seq) AS returns"
		"   FROM sales s CROSS JOIN jsonb_array_elements(s.items) i WHERE s.type = 'return' GROUP BY 1, 2, 3),"
		" o AS (SELECT s.store_id, s.terminal, s.seq, i->>'gtin' AS gtin, sum((i->>'qty')::bigint) AS sold"
		"   FROM sales s CROSS JOIN jsonb_array_elements(s.items) i"
		"   WHERE s.type = 'sale' AND (s.terminal, s.seq) IN (SELECT t, q FROM r) GROUP BY 1, 2, 3, 4)"
		" SELECT json_build_object('report', 'returns_over_sold', 'sale', r.t || ':' || r.q, 'store', k.store_id,"
		"   'gtin', r.gtin, 'sold', o.sold, 'returned', r.returned, 'refunded_cents', r.refunded, 'returns', r.returns)"
		" FROM r JOIN (SELECT DISTINCT store_id, terminal, seq FROM o) k ON k.terminal = r.t AND k.seq = r.q"
		" LEFT JOIN o ON o.terminal = r.t AND o.seq = r.q AND o.gtin = r.gtin"
		" WHERE r.returned > coalesce(o.sold, 0) ORDER BY r.t, r.q, r.gtin", out, err, errlen);
}
