/*
 * status.c - the store status every request of a sync carries to HQ
 * (wire's Posmark-Status header, docs/hostsync.md "Store status"): what
 * waits in the outbox (sales, events, the sales' ledger entries), the rule
 * set installed (its content id and serial), the terminal's clock and
 * version. Computed once when the sync starts, the counts then follow each
 * acknowledged batch; the clock is read at each request.
 */
#include "hostsync/hs_int.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_log.h"
#include "common/pm_time.h"
#include "common/pm_version.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ledger_count {
	uint64_t n;
};

static int count_ledger(void *ctx, const struct wire_sale *s)
{
	((struct ledger_count *)ctx)->n += s->n_ledger;
	return 0;
}

/* The installed rule set: SHA-256(rules.json)'s first 16 bytes in hex (what
 * HQ's rule_sets.etag holds for a published set) and rules.serial. */
static void rules_installed(struct client *cl)
{
	char path[4200], *body = NULL;
	size_t len = 0;
	unsigned char h[crypto_hash_sha256_BYTES];
	uint64_t serial = 0;
	cl->status.has_rules = false;
	if (!cl->cfg->data_dir || !*cl->cfg->data_dir ||
	    (size_t)snprintf(path, sizeof(path), "%s/rules.json", cl->cfg->data_dir) >= sizeof(path))
		return;
	if (pm_file_read(path, WIRE_RULES_MAX, &body, &len))
		return; /* none installed (or unreadable: the till says so) */
	crypto_hash_sha256(h, (const unsigned char *)body, len);
	free(body);
	sodium_bin2hex(cl->status.rules_id, sizeof(cl->status.rules_id), h, WIRE_STATUS_RULES_ID_LEN / 2);
	if (hs_rules_serial_read(cl->cfg->data_dir, &serial))
		serial = 0;
	cl->status.rules_serial = serial > (uint64_t)INT64_MAX ? 0 : serial;
	cl->status.has_rules = true;
}

static uint64_t clamp(uint64_t n)
{
	return n > WIRE_STATUS_COUNT_MAX ? WIRE_STATUS_COUNT_MAX : n;
}

int hsi_status_begin(struct client *cl, const struct hs_source *src)
{
	struct hs_positions pos;
	struct ledger_count lc = { 0 };
	memset(&cl->status, 0, sizeof(cl->status));
	snprintf(cl->status.version, sizeof(cl->status.version), "%s", PM_VERSION);
	rules_installed(cl);
	if (src->positions(src->ctx, &pos)) {
		cl->status_on = false; /* the upload reports the error */
		return PM_OK;
	}
	cl->ledger_floor = pos.sales_acked;
	/* the unsent sales' ledger entries: one read of what the upload reads next anyway */
	if (pos.last_sale_seq > pos.sales_acked &&
	    !src->sales_after(src->ctx, pos.sales_acked, (size_t)(pos.last_sale_seq - pos.sales_acked), count_ledger,
			      &lc)) {
		cl->status.has_ledger = true;
	} else if (pos.last_sale_seq <= pos.sales_acked) {
		cl->status.has_ledger = true;
	}
	cl->status.unsent_ledger = clamp(lc.n);
	hsi_status_positions(cl, &pos);
	cl->status_on = true;
	return PM_OK;
}

void hsi_status_positions(struct client *cl, const struct hs_positions *pos)
{
	cl->status.unsent_sales = clamp(pos->last_sale_seq > pos->sales_acked ? pos->last_sale_seq - pos->sales_acked : 0);
	cl->status.unsent_events =
		clamp(pos->last_event_seq > pos->events_acked ? pos->last_event_seq - pos->events_acked : 0);
}

void hsi_status_acked_ledger(struct client *cl, uint64_t entries)
{
	cl->status.unsent_ledger = cl->status.unsent_ledger > entries ? cl->status.unsent_ledger - entries : 0;
}

struct curl_slist *hsi_status_header(struct client *cl, struct curl_slist *hdrs)
{
	char value[WIRE_STATUS_MAX + 1], line[WIRE_STATUS_MAX + sizeof(WIRE_STATUS_HEADER) + 4];
	if (!cl->status_on)
		return hdrs;
	cl->status.time_us = pm_now_us();
	if (wire_status_encode(&cl->status, value, sizeof(value))) {
		pm_info("store status not sent: a field is out of the format's range (clock %lld us)",
			(long long)cl->status.time_us);
		return hdrs;
	}
	snprintf(line, sizeof(line), WIRE_STATUS_HEADER ": %s", value);
	return curl_slist_append(hdrs, line);
}
