/*
 * daemon_erase.c - the daemon's card_erase op and its compaction at a quiet
 * moment (docs/daemon.md, docs/privacy.md "At the store"). The daemon keeps
 * the log open, so an erasure's compaction (loy_compact: the log rewritten
 * without the erased bytes, closed and reopened in the same handle) runs
 * here between requests: no lane at the committer (so the commit thread is
 * idle), no sync child (its own handle would keep the log open). An erasure
 * made by another process (`posmark card erase`, the sync child applying
 * HQ's) marks the log; this tick finds the mark within a second.
 */
#include "terminal/daemon_int.h"
#include "terminal/wiring.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <string.h>
#include <unistd.h>

#define CHECK_EVERY_US 1000000        /* the mark is one meta read */
#define BUSY_RETRY_US 10000000        /* another process had the log open */

static int64_t next_check_us;

static bool quiet(const struct daemon *d)
{
	if (d->sync_pid > 0)
		return false;
	for (size_t i = 0; i < d->n_lanes; i++)
		if (d->lanes[i]->committing)
			return false;
	return true;
}

void daemon_compact_tick(struct daemon *d)
{
	char err[600];
	bool done;
	int64_t now = pm_now_us();
	if (now < next_check_us || !quiet(d))
		return;
	next_check_us = now + CHECK_EVERY_US;
	int rc = term_compact_if_pending(d->db, &done, err, sizeof(err));
	if (rc == PM_EBUSY) {
		next_check_us = now + BUSY_RETRY_US;
		pm_info("erasure: %s; retrying in %d s", err, BUSY_RETRY_US / 1000000);
	} else if (rc == PM_EBADSTATE) {
		/* The handle could not be reopened: nothing can commit any more. */
		pm_err("purchase log '%s' is closed after a failed compaction: %s; hint: restart posmark (systemd "
		       "does); the log on disk is whole", d->cfg.data_dir, err);
		_exit(1);
	} else if (rc) {
		next_check_us = now + BUSY_RETRY_US;
		pm_warn("erasure: the purchase log is not compacted yet: %s", err[0] ? err : pm_strerror(rc));
	}
}

static void reply_error(struct daemon *d, int slot, json_t *req, int code, const char *msg, const char *hint)
{
	json_t *r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", pm_errname(code), "message", msg, "hint", hint);
	json_t *id = json_object_get(req, "id");
	if (id)
		json_object_set(r, "id", id);
	d->errors++;
	daemon_reply(d, slot, r);
}

/* A lane that still holds the card: its sale would write the number again. */
static const struct lane *lane_with_card(const struct daemon *d, const char *card)
{
	for (size_t i = 0; i < d->n_lanes; i++) {
		const struct till *t = &d->lanes[i]->till;
		if ((t->open && !strcmp(t->card, card)) || d->lanes[i]->committing ||
		    (!t->decision_issued && !strcmp(t->decision_card, card)))
			return d->lanes[i];
	}
	return NULL;
}

void daemon_op_card_erase(struct daemon *d, int slot, json_t *req)
{
	const char *number = json_string_value(json_object_get(req, "card"));
	struct scan_result r;
	const struct lane *l;
	const char *queued = "";
	uint64_t n = 0;
	char msg[300];
	if (!number) {
		reply_error(d, slot, req, PM_EINVAL, "card_erase needs \"card\" (the full number)",
			    "send {\"op\":\"card_erase\",\"card\":\"6036...\"}");
		return;
	}
	scan_decode_keyed_card(&d->cfg.scan, number, &r);
	if (r.kind != SCAN_CARD) {
		reply_error(d, slot, req, PM_EINVAL, r.error, "give the full card number as printed");
		return;
	}
	if ((l = lane_with_card(d, r.card))) {
		snprintf(msg, sizeof(msg), "lane '%s' has this card on a sale that is open, committing or waiting "
			 "for its receipt", l->name);
		reply_error(d, slot, req, PM_EBUSY, msg, "finish or cancel that sale (print its receipt), then erase");
		return;
	}
	int rc = term_card_erase(&d->cfg, d->db, r.card, &n, &queued);
	if (rc) {
		snprintf(msg, sizeof(msg), "%s", rc == PM_ENOENT ? "this card has no data at this terminal"
			 : rc == PM_EBUSY ? queued : "the card could not be erased");
		reply_error(d, slot, req, rc, msg, rc == PM_ENOENT ? "nothing to erase"
			    : "free disk space or check the data directory, then send card_erase again");
		return;
	}
	pm_info("card erased (sales unlinked: %llu); %s", (unsigned long long)n, queued);
	next_check_us = 0;
	daemon_compact_tick(d);   /* now if quiet; else within a second of it */
	bool pending = true;
	loy_compact_pending(d->db, &pending);
	json_t *ok = json_pack("{s:b, s:I, s:s, s:b}", "ok", 1, "sales_unlinked", (json_int_t)n, "queued", queued,
			       "compacted", !pending);
	json_t *id = json_object_get(req, "id");
	if (id)
		json_object_set(ok, "id", id);
	daemon_reply(d, slot, ok);
}
