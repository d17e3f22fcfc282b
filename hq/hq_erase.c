/*
 * hq_erase.c - erasure and consent given to HQ (`posmark-hq erase`,
 * `consent`, approved requests, a store's erasure event): in the caller's
 * transaction, by the card's ref; the erasure deletes the card's vault row
 * (hq_vault.h), so nothing links the ref to the number any more. docs/hq.md,
 * "Consent and erasure"; docs/privacy.md, "At HQ".
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* What an erasure leaves of an event: no card, no payload, no coupon code. */
#define EVENT_FORGET "card = NULL, payload = '', coupon = NULL"

/* ---- erasure and consent given to HQ -------------------------------------- */

struct step {
	const char *sql;
	int n_params;
};

/* Statements of one request, in the caller's transaction; the first error stops them. */
static int run_steps(PGconn *c, const struct step *steps, size_t n, const char *const *pv, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (hqi_exec(c, steps[i].sql, steps[i].n_params, pv, NULL, NULL, err, errlen))
			return PM_EIO;
	return PM_OK;
}

/* The number and ref of a card given as either; number "" when HQ no longer has it. */
static int card_both(PGconn *c, const char *card, bool create, char ref[HQV_REF_LEN + 1],
		     char number[HQV_NUMBER_MAX + 1], char *err, size_t errlen)
{
	number[0] = '\0';
	if (!hqv_is_ref(card)) {
		snprintf(number, HQV_NUMBER_MAX + 1, "%s", card);
		return hqv_ref_for(c, card, create, ref, err, errlen);
	}
	memcpy(ref, card, HQV_REF_LEN + 1);
	int rc = hqv_number_of(c, ref, number, err, errlen);
	return rc == PM_ENOENT ? PM_OK : rc;
}

int hq_erase(PGconn *c, const char *card, const char *origin_store, char *err, size_t errlen)
{
	char now[24], ref[HQV_REF_LEN + 1] = "", number[HQV_NUMBER_MAX + 1] = "";
	char mac[2 + 2 * HQV_LOOKUP_LEN + 1] = "", sealed[2 + 2 * (HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD) + 3] = "";
	unsigned char lookup[HQV_LOOKUP_LEN];
	bool had = false;
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL) * 1000000);
	int rc = hqv_load(c, err, errlen);
	rc = rc ? rc : card_both(c, card, false, ref, number, err, errlen);
	if (rc == PM_ENOENT) /* HQ never had the number: only the record of the request */
		rc = hqv_lookup_of(number, lookup);
	else if (!rc && (rc = hqv_erase(c, ref, lookup, &had, err, errlen)) == PM_OK && !had && number[0])
		rc = hqv_lookup_of(number, lookup);
	if (rc)
		return rc;
	if (had || number[0]) {
		strcpy(mac, "\\x");
		sodium_bin2hex(mac + 2, sizeof(mac) - 2, lookup, sizeof(lookup));
	}
	/* the stores are told the number: kept sealed in their request until they acknowledge it */
	if (number[0] && hqv_seal_downlink(number, sealed, sizeof(sealed)))
		sealed[0] = '\0';
	sodium_memzero(number, sizeof(number));
	const char *pv[5] = { ref, origin_store ? origin_store : "", now, mac[0] ? mac : NULL, sealed[0] ? sealed : NULL };
	if (ref[0] && sealed[0] &&
	    hqi_exec(c, "INSERT INTO downlink (store_id, type, card, created_us, lookup, sealed)"
		     " SELECT s, 'erasure', $1, $3::bigint, $4::bytea, $5::bytea FROM (SELECT store_id AS s FROM sales"
		     "  WHERE card = $1 UNION SELECT store_id FROM events WHERE card = $1) k WHERE s <> $2", 5, pv, NULL, NULL,
		     err, errlen))
		return PM_EIO;
	static const struct step steps[] = {
		{ "DELETE FROM downlink WHERE card = $1 AND type <> 'erasure'", 1 },
		/* before the rollups: ingest computes a card's rollups from its row under this lock */
		{ HQI_SERIAL_LOCK, 0 },
		{ "SELECT rollup_erase($1)", 1 }, /* the console's rollups, while the rows still name the card */
		{ "UPDATE sales SET card = NULL WHERE card = $1", 1 },
		{ "UPDATE events SET " EVENT_FORGET " WHERE card = $1", 1 },
		/* the chain account: its entries go, the stores that know it get an erased line */
		{ "DELETE FROM ledger WHERE card = $1", 1 },
		{ "UPDATE accounts SET erased = true, points = 0, tier_floor = 0, last_visit_us = 0,"
		  " change_serial = nextval('account_serial') WHERE card = $1", 1 },
		{ "DELETE FROM cards WHERE card = $1", 1 },
		{ "DELETE FROM review_requests WHERE card = $1", 1 },
	};
	if (ref[0] && run_steps(c, steps, sizeof(steps) / sizeof(steps[0]), pv, err, errlen))
		return PM_EIO;
	/* the record: when and from where; the number's keyed lookup (no use after a key rotation) */
	const char *ev[3] = { pv[1], now, pv[3] };
	return hqi_exec(c, "INSERT INTO erasures (card_mac, requested_us, origin_store)"
			" VALUES ($3::bytea, $2::bigint, NULLIF($1, ''))", 3, ev, NULL, NULL, err, errlen);
}

int hq_consent(PGconn *c, const char *card, bool targeted, char *err, size_t errlen)
{
	char now[24], ref[HQV_REF_LEN + 1];
	int rc = hqv_card_ref(c, card, true, ref, err, errlen);
	if (rc)
		return rc;
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL) * 1000000);
	const char *pv[3] = { ref, targeted ? "yes" : "no", now };
	static const struct step steps[] = {
		/* newest change wins, as for the tills' own consent events */
		{ "INSERT INTO cards (card, consent, consent_changed_us, source_store) VALUES ($1, $2, $3::bigint, NULL)"
		  " ON CONFLICT (card) DO UPDATE SET consent = EXCLUDED.consent,"
		  " consent_changed_us = EXCLUDED.consent_changed_us, source_store = NULL", 3 },
		/* the account pages carry consent too: the stores' cursor must see the change */
		{ HQI_SERIAL_LOCK, 0 },
		{ "INSERT INTO accounts (card, change_serial) VALUES ($1, nextval('account_serial'))"
		  " ON CONFLICT (card) DO UPDATE SET change_serial = EXCLUDED.change_serial", 1 },
		/* an earlier request not yet applied is superseded */
		{ "DELETE FROM downlink WHERE card = $1 AND type = 'consent'", 1 },
		{ "INSERT INTO downlink (store_id, type, card, consent, created_us)"
		  " SELECT s, 'consent', $1, $2, $3::bigint FROM (SELECT store_id AS s FROM sales WHERE card = $1"
		  "  UNION SELECT store_id FROM events WHERE card = $1) k", 3 },
	};
	return run_steps(c, steps, sizeof(steps) / sizeof(steps[0]), pv, err, errlen);
}
