/*
 * card.c - card records: lookup, consent, erasure (each queues its event
 * for HQ through outbox.c). A card's record holds HQ's account state and
 * this terminal's part HQ has not included (account.c keeps them).
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int loyi_card_read(struct loy_db *db, MDB_txn *txn, const char *card, struct loyi_card *c)
{
	MDB_val k = { strlen(card), (void *)card }, v;
	int rc = mdb_get(txn, db->cards, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(c, 0, sizeof(*c));
		snprintf(c->pub.number, sizeof(c->pub.number), "%s", card);
		return PM_ENOENT;
	}
	if (rc)
		return loyi_mdb_err(rc);
	return loyi_card_decode(v.mv_data, v.mv_size, card, c);
}

int loyi_card_write(struct loy_db *db, MDB_txn *txn, const struct loyi_card *c)
{
	unsigned char rec[LOYI_CARD_LEN];
	MDB_val k = { strlen(c->pub.number), (void *)c->pub.number }, v = { sizeof(rec), rec };
	loyi_card_encode(c, rec);
	return loyi_mdb_err(mdb_put(txn, db->cards, &k, &v, 0));
}

/* One read of one record: the lookup a till does per card scan (bench/bench_accounts.c). */
int loy_card_get(struct loy_db *db, const char *card, struct loy_card *out)
{
	MDB_txn *txn;
	MDB_val k = { strlen(card), (void *)card }, v;
	struct loyi_card c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!card[0] || strlen(card) > LOY_CARD_MAX)
		return PM_EINVAL;
	if ((rc = loyi_read_begin(db, &txn)))
		return rc;
	rc = mdb_get(txn, db->cards, &k, &v);
	rc = rc ? loyi_mdb_err(rc) : loyi_card_decode(v.mv_data, v.mv_size, card, &c);
	loyi_read_end(db, txn);
	if (rc == PM_OK)
		loyi_card_public(&c, out);
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
	struct loyi_card c;
	char payload[64];
	int rc = loyi_card_read(db, txn, a->card, &c);

	if (rc == PM_ENOENT)
		c.pub.created_us = a->now;
	else if (rc)
		return rc;
	c.pub.consent = a->consent;
	c.pub.consent_source = a->source;
	c.pub.consent_changed_us = a->now;
	if ((rc = loyi_card_write(db, txn, &c)))
		return rc;
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
	struct loyi_erasure how;
	int64_t now;
	uint64_t unlinked;
};

/* Unlink the card from each of its records (sales and returns stay, flagged erased). */
static int unlink_sales(struct loy_db *db, MDB_txn *txn, const char *card, uint64_t *unlinked)
{
	MDB_val k = { strlen(card), (void *)card }, v;
	MDB_cursor *cur;
	struct loyi_scratch sc = { 0 };
	unsigned char *buf = NULL;
	size_t cap = 0;
	int rc;

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
		    (rc = loyi_sale_decode_sc(&sc, sv.mv_data, sv.mv_size, &s)))
			break;
		s.card[0] = '\0';
		s.card_erased = true;
		size_t need = loyi_sale_size(&s);
		if (need > cap) {
			unsigned char *nb = realloc(buf, need);
			if (!nb) {
				rc = PM_ENOMEM;
				break;
			}
			buf = nb;
			cap = need;
		}
		/* Zeroed first: the record is shorter now, and no byte of the old one may stay. */
		memset(buf, 0, need);
		loyi_sale_encode(&s, buf);
		sv.mv_size = need;
		sv.mv_data = buf;
		if ((rc = mdb_put(txn, db->sales, &sk, &sv, 0)))
			break;
		(*unlinked)++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(cur);
	free(buf);
	loyi_scratch_free(&sc);
	if (rc != MDB_NOTFOUND)
		return rc > 0 ? loyi_mdb_err(rc) : rc;
	return PM_OK;
}

/* The newest event that keeps the number until HQ's acknowledgement (never backwards). */
static int wait_for_ack(struct loy_db *db, MDB_txn *txn, uint64_t seq)
{
	uint64_t cur;
	int rc = loyi_meta_get_u64(db, txn, LOYI_CLEAR_ERASURE_SEQ, &cur);
	return rc ? rc : seq > cur ? loyi_meta_put_u64(db, txn, LOYI_CLEAR_ERASURE_SEQ, seq) : PM_OK;
}

int loyi_card_erase_txn(struct loy_db *db, MDB_txn *txn, const char *card, const struct loyi_erasure *how,
			int64_t now, uint64_t *unlinked)
{
	MDB_val k = { strlen(card), (void *)card }, v;
	uint64_t scrubbed = 0, wait_seq = 0;
	int rc, had_card;

	*unlinked = 0;
	rc = mdb_get(txn, db->cards, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	had_card = rc == 0;
	if ((rc = unlink_sales(db, txn, card, unlinked)))
		return rc;
	/* The outbox: the card's consent events go, its offer events lose the card. */
	if ((rc = loyi_events_scrub_card(db, txn, card, how, &scrubbed, &wait_seq)))
		return rc;
	if (!had_card && *unlinked == 0 && scrubbed == 0)
		return PM_ENOENT;   /* nothing written: the transaction is aborted */
	if ((rc = mdb_del(txn, db->card_idx, &k, NULL)) && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	if ((rc = mdb_del(txn, db->cards, &k, NULL)) && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	if ((rc = mdb_del(txn, db->bought, &k, NULL)) && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	if ((rc = loyi_caps_forget_card(db, txn, card)) || (wait_seq && (rc = wait_for_ack(db, txn, wait_seq))))
		return rc;
	/* Its old bytes now sit in free pages: the log is to be compacted (compact.c). */
	if ((rc = loyi_meta_put_u64(db, txn, LOYI_COMPACT_PENDING, 1)))
		return rc;
	/* The erasure travels to HQ only as the caller's payload (sealed to HQ), never as given. */
	if (!how->payload || how->from_hq)
		return PM_OK;
	struct loy_event_new ev = { .type = LOY_EV_ERASURE, .time_us = now, .payload = how->payload,
				     .payload_len = how->len };
	uint64_t seq;
	if ((rc = loyi_event_put(db, txn, &ev, &seq)))
		return rc;
	/* A clear number (no HQ key): kept only until HQ acknowledged it. */
	if (how->len == strlen(card) && !memcmp(how->payload, card, how->len))
		return wait_for_ack(db, txn, seq);
	return PM_OK;
}

static int erase_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct erase_arg *a = arg;
	return loyi_card_erase_txn(db, txn, a->card, &a->how, a->now, &a->unlinked);
}

static int erase(struct loy_db *db, const char *card, int64_t now_us, const struct loyi_erasure *how,
		 uint64_t *sales_unlinked)
{
	struct erase_arg a = { .card = card, .how = *how, .now = now_us };
	const void *hq_payload = how->payload;
	size_t hq_len = how->len;
	int rc;
	if (sales_unlinked)
		*sales_unlinked = 0;
	if (!card[0] || strlen(card) > LOY_CARD_MAX || strspn(card, "0123456789") != strlen(card) ||
	    (hq_payload && !hq_len))
		return PM_EINVAL;
	rc = loyi_write(db, erase_body, &a);
	if (sales_unlinked)
		*sales_unlinked = rc ? 0 : a.unlinked;
	return rc;
}

int loy_card_erase_queue(struct loy_db *db, const char *card, int64_t now_us, const void *hq_payload,
			 size_t hq_len, uint64_t *sales_unlinked)
{
	struct loyi_erasure how = { hq_payload, hq_len, false };
	return erase(db, card, now_us, &how, sales_unlinked);
}

int loy_card_erase(struct loy_db *db, const char *card, int source, int64_t now_us,
		   uint64_t *sales_unlinked)
{
	/* Erasure record v1 (the clear number): only where no HQ key is known; the
	 * sync wiring deletes it once HQ acknowledged it (loy_events_forget_clear_erasures). */
	struct loyi_erasure how = { card, strlen(card), source == LOY_SRC_HQ };
	return erase(db, card, now_us, &how, sales_unlinked);
}


int loy_event_card_fields(const struct loy_event *ev, char card[LOY_CARD_MAX + 1], int *consent)
{
	const char *p = ev->payload;
	size_t n = ev->payload_len, cl;
	if (ev->type != LOY_EV_CONSENT && ev->type != LOY_EV_ERASURE)
		return PM_EINVAL;
	for (cl = 0; cl < n && p[cl] >= '0' && p[cl] <= '9'; cl++)
		;
	if (ev->type == LOY_EV_ERASURE && cl == 0 && n > 0)
		return PM_ENOENT;   /* not a number: the sealed payload of loy_card_erase_queue */
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
