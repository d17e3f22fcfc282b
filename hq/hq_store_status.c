/*
 * hq_store_status.c - the latest status each terminal reports with its
 * requests (wire's Posmark-Status header; docs/hostsync.md "Store status"):
 * decoded with wire's strict decoder after the request authenticated, kept
 * by one upsert of its own (never inside a batch's transaction), read by the
 * console's stores page (hq_pages.c). The store is the credential's, never
 * anything the terminal says about itself.
 */
#include "hq/hq_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool terminal_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n > WIRE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	return true;
}

int hqi_store_status_record(PGconn *c, const char *store, const char *terminal, const char *value)
{
	struct wire_status s;
	char why[300], err[300];
	if (!value)
		return PM_OK; /* an older terminal: nothing reported */
	if (!terminal_ok(terminal)) {
		pm_warn("store '%s' sent a status without a usable X-Posmark-Terminal; ignored", store);
		return PM_EINVAL;
	}
	int rc = wire_status_decode(value, strlen(value), &s, why, sizeof(why));
	if (rc) {
		pm_warn("store '%s' terminal '%s' sent a status HQ cannot read (%s); ignored, the request goes on",
			store, terminal, why);
		return PM_EINVAL;
	}
	char recv[24], tus[24], sales[24], events[24], ledger[24], serial[24];
	snprintf(recv, sizeof(recv), "%" PRId64, pm_now_us());
	snprintf(tus, sizeof(tus), "%" PRId64, s.time_us);
	snprintf(sales, sizeof(sales), "%" PRIu64, s.unsent_sales);
	snprintf(events, sizeof(events), "%" PRIu64, s.unsent_events);
	snprintf(ledger, sizeof(ledger), "%" PRIu64, s.unsent_ledger);
	snprintf(serial, sizeof(serial), "%" PRIu64, s.rules_serial);
	const char *pv[10] = { store, terminal, recv, tus, sales, events, s.has_ledger ? ledger : NULL,
			       s.has_rules ? s.rules_id : NULL, s.has_rules ? serial : NULL, s.version };
	rc = hqi_exec(c, "INSERT INTO store_status (store_id, terminal, received_us, terminal_us, unsent_sales,"
		      " unsent_events, unsent_ledger, rules_id, rules_serial, version)"
		      " VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8, $9::bigint, $10)"
		      " ON CONFLICT (store_id, terminal) DO UPDATE SET received_us = EXCLUDED.received_us,"
		      " terminal_us = EXCLUDED.terminal_us, unsent_sales = EXCLUDED.unsent_sales,"
		      " unsent_events = EXCLUDED.unsent_events, unsent_ledger = EXCLUDED.unsent_ledger,"
		      " rules_id = EXCLUDED.rules_id, rules_serial = EXCLUDED.rules_serial, version = EXCLUDED.version",
		      10, pv, NULL, NULL, err, sizeof(err));
	if (rc)
		pm_warn("cannot record the status of store '%s' terminal '%s' (%s); the request goes on", store,
			terminal, err);
	return rc;
}
