/*
 * erase_wiring.c - a card erasure at this terminal: what goes to HQ (wire's
 * sealed erasure, docs/privacy.md "At the store") and the compaction that
 * follows, shared by `posmark card erase`, the daemon's card_erase op and
 * the sync (an erasure from HQ).
 */
#include "terminal/wiring.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* A sale kept over a daemon's stop (DATA/open-sales.json, open_sales.c) with this card: the
 * daemon would restore and commit it, writing the number again. */
static bool kept_sale_has(const struct term_config *cfg, const char *card)
{
	char path[1100], quoted[LOY_CARD_MAX + 3], buf[65536];
	size_t n, ql = (size_t)snprintf(quoted, sizeof(quoted), "\"%s\"", card), keep = 0;
	bool hit = false;
	snprintf(path, sizeof(path), "%s/open-sales.json", cfg->data_dir);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	/* Read in pieces; the last ql-1 bytes of a piece start the next, so no match is split. */
	while (!hit && (n = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
		n += keep;
		hit = memmem(buf, n, quoted, ql) != NULL;
		keep = n >= ql ? ql - 1 : n;
		memmove(buf, buf + n - keep, keep);
	}
	fclose(f);
	return hit;
}

int term_card_erase(const struct term_config *cfg, struct loy_db *db, const char *card, uint64_t *unlinked,
		    const char **queued)
{
	*queued = "";
	if (kept_sale_has(cfg, card)) {
		*queued = "a sale kept over the daemon's stop holds this card (open-sales.json)";
		*unlinked = 0;
		return PM_EBUSY;
	}
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	size_t pk_len = 0;
	struct pm_buf sealed = { 0 };
	int rc;
	*unlinked = 0;
	if (!cfg->hq.url[0]) {
		*queued = "nothing queued: no HQ configured";
		return loy_card_erase_queue(db, card, pm_now_us(), NULL, 0, unlinked);
	}
	const char *hex = cfg->hq.rules_public_key;
	if (!hex[0] || sodium_hex2bin(pk, sizeof(pk), hex, strlen(hex), NULL, &pk_len, NULL) || pk_len != sizeof(pk)) {
		/* HQ must learn the number and no key can hide it: kept until HQ acknowledged it. */
		*queued = "erasure queued for HQ with the number in the clear until HQ acknowledges it "
			  "(set hq.rules_public_key to seal it)";
		return loy_card_erase(db, card, LOY_SRC_TILL, pm_now_us(), unlinked);
	}
	if ((rc = wire_erasure_seal(card, pk, &sealed)) == PM_OK) {
		*queued = "erasure queued for HQ, sealed to HQ's key";
		rc = loy_card_erase_queue(db, card, pm_now_us(), sealed.data, sealed.len, unlinked);
	}
	pm_buf_free(&sealed);
	return rc;
}

int term_compact_if_pending(struct loy_db *db, bool *compacted, char *err, size_t errlen)
{
	bool pending = false;
	struct loy_compact_report rep;
	int rc = loy_compact_pending(db, &pending);
	*compacted = false;
	err[0] = '\0';
	if (rc || !pending)
		return rc;
	rc = loy_compact(db, &rep, err, errlen);
	*compacted = rc == PM_OK;
	return rc;
}
