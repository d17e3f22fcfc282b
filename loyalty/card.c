/*
 * card.c - card records: lookup, consent, erasure (each queues its event
 * for HQ through outbox.c).
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int loy_card_get(struct loy_db *db, const char *card, struct loy_card *out)
{
	MDB_txn *txn;
	MDB_val k = { strlen(card), (void *)card }, v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!card[0] || strlen(card) > LOY_CARD_MAX)
		return PM_EINVAL;
	if ((rc = loyi_read_begin(db, &txn)))
		return rc;
	rc = mdb_get(txn, db->cards, &k, &v);
	rc = rc ? loyi_mdb_err(rc) : loyi_card_decode(v.mv_data, v.mv_size, card, out);
	loyi_read_end(db, txn);
	return rc;
}

struct consent_arg {
	const char *card;
	int consent, source;
	int64_t now;
};

/* Consent record v1: "CARD yes|no|unknown"; erasure record v1: "CARD" (docs/storage.md). */
static const char *const consent_words[] = { "unknown", "yes", "no" };

static int consent_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct consent_arg *a = arg;
	MDB_val k = { strlen(a->card), (void *)a->card }, v;
	struct loy_card c;
	unsigned char rec[LOYI_CARD_LEN];
	char payload[64];
	int rc = mdb_get(txn, db->cards, &k, &v);

	if (rc == MDB_NOTFOUND) {
		memset(&c, 0, sizeof(c));
		c.created_us = a->now;
	} else if (rc) {
		return loyi_mdb_err(rc);
	} else if ((rc = loyi_card_decode(v.mv_data, v.mv_size, a->card, &c))) {
		return rc;
	}
	c.consent = a->consent;
	c.consent_source = a->source;
	c.consent_changed_us = a->now;
	loyi_card_encode(&c, rec);
	v.mv_size = sizeof(rec);
	v.mv_data = rec;
	if ((rc = mdb_put(txn, db->cards, &k, &v, 0)))
		return loyi_mdb_err(rc);
	/* HQ learns consent set at the till; a change that came from HQ is not echoed. */
	if (a->source == LOY_SRC_HQ)
		return PM_OK;
	int n = snprintf(payload, sizeof(payload), "%s %s", a->card, consent_words[a->consent]);
	struct loy_event_new ev = { .type = LOY_EV_CONSENT, .time_us = a->now, .payload = payload,
				     .payload_len = (size_t)n };
	return loyi_event_put(db, txn, &ev, NULL);
}

int loy_card_set_consent(struct loy_db *db, const char *card, int consent, int source, int64_t now_us)
{
	struct consent_arg a = { card, consent, source, now_us };
	if (!card[0] || strlen(card) > LOY_CARD_MAX || consent < 0 || consent > 2)
		return PM_EINVAL;
	return loyi_write(db, consent_body, &a);
}

struct erase_arg {
	const char *card;
	int source;
	int64_t now;
	uint64_t unlinked;
	unsigned char *buf;
	size_t cap;
};

static int erase_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct erase_arg *a = arg;
	MDB_val k = { strlen(a->card), (void *)a->card }, v;
	MDB_cursor *cur;
	int rc, had_card;

	a->unlinked = 0;
	rc = mdb_get(txn, db->cards, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	had_card = rc == 0;
	if ((rc = mdb_cursor_open(txn, db->card_idx, &cur)))
		return loyi_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		uint64_t seq;
		int64_t t, total;
		MDB_val sk = { 8, &seq }, sv;
		struct loy_sale s;
		loyi_idx_decode(v.mv_data, &seq, &t, &total);
		if ((rc = mdb_get(txn, db->sales, &sk, &sv)) ||
		    (rc = loyi_sale_decode(db, sv.mv_data, sv.mv_size, &s)))
			break;
		s.card[0] = '\0';
		s.card_erased = true;
		size_t need = loyi_sale_size(&s);
		if (need > a->cap) {
			unsigned char *nb = realloc(a->buf, need);
			if (!nb) {
				rc = PM_ENOMEM;
				break;
			}
			a->buf = nb;
			a->cap = need;
		}
		loyi_sale_encode(&s, a->buf);
		sv.mv_size = need;
		sv.mv_data = a->buf;
		if ((rc = mdb_put(txn, db->sales, &sk, &sv, 0)))
			break;
		a->unlinked++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return rc > 0 ? loyi_mdb_err(rc) : rc;
	if (!had_card && a->unlinked == 0)
		return PM_ENOENT;
	k.mv_size = strlen(a->card);
	k.mv_data = (void *)a->card;
	if ((rc = mdb_del(txn, db->card_idx, &k, NULL)) && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	if ((rc = mdb_del(txn, db->cards, &k, NULL)) && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	if ((rc = loyi_caps_forget_card(db, txn, a->card)))
		return rc;
	/* Erasure travels to HQ unless HQ sent it. */
	if (a->source == LOY_SRC_HQ)
		return PM_OK;
	struct loy_event_new ev = { .type = LOY_EV_ERASURE, .time_us = a->now, .payload = a->card,
				     .payload_len = strlen(a->card) };
	return loyi_event_put(db, txn, &ev, NULL);
}

int loy_card_erase(struct loy_db *db, const char *card, int source, int64_t now_us,
		   uint64_t *sales_unlinked)
{
	struct erase_arg a = { .card = card, .source = source, .now = now_us };
	int rc;
	if (!card[0] || strlen(card) > LOY_CARD_MAX)
		return PM_EINVAL;
	rc = loyi_write(db, erase_body, &a);
	free(a.buf);
	if (sales_unlinked)
		*sales_unlinked = rc ? 0 : a.unlinked;
	return rc;
}


int loy_event_card_fields(const struct loy_event *ev, char card[LOY_CARD_MAX + 1], int *consent)
{
	const char *p = ev->payload;
	size_t n = ev->payload_len, cl;
	if (ev->type != LOY_EV_CONSENT && ev->type != LOY_EV_ERASURE)
		return PM_EINVAL;
	for (cl = 0; cl < n && p[cl] >= '0' && p[cl] <= '9'; cl++)
		;
	if (cl == 0 || cl > LOY_CARD_MAX)
		return PM_ECORRUPT;
	memcpy(card, p, cl);
	card[cl] = '\0';
	if (ev->type == LOY_EV_ERASURE)
		return cl == n ? PM_OK : PM_ECORRUPT;
	if (cl == n || p[cl] != ' ')
		return PM_ECORRUPT;
	for (int c = LOY_CONSENT_UNKNOWN; c <= LOY_CONSENT_NO; c++)
		if (n - cl - 1 == strlen(consent_words[c]) && !memcmp(p + cl + 1, consent_words[c], n - cl - 1)) {
			if (consent)
				*consent = c;
			return PM_OK;
		}
	return PM_ECORRUPT;
}
