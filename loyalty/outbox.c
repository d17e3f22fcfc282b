/*
 * outbox.c - the outbox of non-sale events for HQ (consent changes,
 * erasures, offers issued / held back / redeemed) and the offer caps state
 * kept beside it: how many coupons each campaign issued and when each rule
 * last issued one to each card, updated in the same transaction as the
 * OFFER_ISSUED events that change it, so a start-up reads the caps instead
 * of replaying every event (docs/storage.md, "offer_caps").
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

#define CAPS_SEP '\x1f'
#define CAPS_KEY_MAX 480          /* under LMDB's 511-byte key limit */

/* A caps key: 'n' SEP campaign (the count), or 'l' SEP campaign SEP rule SEP card (the last issue). */
static size_t caps_key(char *out, char tag, const char *campaign, const char *rule, const char *card)
{
	size_t n = 0;
	const char *parts[3] = { campaign, rule, card };
	out[n++] = tag;
	for (int i = 0; i < (tag == 'n' ? 1 : 3); i++) {
		size_t len = strlen(parts[i]);
		if (n + 1 + len > CAPS_KEY_MAX || memchr(parts[i], CAPS_SEP, len))
			return 0;
		out[n++] = CAPS_SEP;
		memcpy(out + n, parts[i], len);
		n += len;
	}
	return n;
}

static bool cap_valid(const char *campaign, const char *rule, const char *card)
{
	char key[CAPS_KEY_MAX];
	return campaign && rule && card && campaign[0] &&
	       caps_key(key, 'l', campaign, rule, card) != 0;
}

/* Count one issue of campaign (to card, by rule) in the caps state. */
static int caps_apply(struct loy_db *db, MDB_txn *txn, const char *campaign, const char *rule,
		      const char *card, int64_t time_us)
{
	char key[CAPS_KEY_MAX];
	MDB_val k = { caps_key(key, 'n', campaign, "", ""), key }, v;
	uint64_t count = 0;
	int rc = mdb_get(txn, db->offer_caps, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		memcpy(&count, v.mv_data, 8);
	else if (rc && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	count++;
	v.mv_size = 8;
	v.mv_data = &count;
	if ((rc = mdb_put(txn, db->offer_caps, &k, &v, 0)))
		return loyi_mdb_err(rc);
	if (!card[0])
		return PM_OK;
	k.mv_size = caps_key(key, 'l', campaign, rule, card);
	int64_t last = 0;
	rc = mdb_get(txn, db->offer_caps, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		memcpy(&last, v.mv_data, 8);
	else if (rc && rc != MDB_NOTFOUND)
		return loyi_mdb_err(rc);
	if (rc == 0 && last >= time_us)
		return PM_OK;
	v.mv_size = 8;
	v.mv_data = &time_us;
	return loyi_mdb_err(mdb_put(txn, db->offer_caps, &k, &v, 0));
}

int loyi_event_put(struct loy_db *db, MDB_txn *txn, const struct loy_event_new *ev, uint64_t *seq_out)
{
	uint64_t seq, caps_seq;
	unsigned char *buf;
	MDB_val k = { sizeof(seq), &seq }, v;
	size_t len = ev->payload_len;
	int rc = loyi_meta_get_u64(db, txn, "last_event_seq", &seq);

	if (rc || (rc = loyi_meta_get_u64(db, txn, "caps_seq", &caps_seq)))
		return rc;
	/* The caps state is current when it covers every event so far. */
	bool caps_current = caps_seq == seq;
	seq++;
	if (len > UINT32_MAX || !(buf = malloc(16 + len)))
		return PM_ENOMEM;
	/* Event record v1: version, type, 2 reserved, u32 length, i64 time, payload. */
	memset(buf, 0, 16);
	buf[0] = LOYI_REC_V1;
	buf[1] = (unsigned char)ev->type;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (unsigned char)(len >> (8 * i));
	for (int i = 0; i < 8; i++)
		buf[8 + i] = (unsigned char)((uint64_t)ev->time_us >> (8 * i));
	if (len)
		memcpy(buf + 16, ev->payload, len);
	v.mv_size = 16 + len;
	v.mv_data = buf;
	rc = mdb_put(txn, db->events, &k, &v, MDB_APPEND);
	free(buf);
	if (rc)
		return loyi_mdb_err(rc);
	if (seq_out)
		*seq_out = seq;
	if ((rc = loyi_meta_put_u64(db, txn, "last_event_seq", seq)))
		return rc;
	if (!caps_current)
		return PM_OK;   /* a start-up catches the caps up (loy_caps_catch_up) */
	if (ev->type == LOY_EV_OFFER_ISSUED) {
		/* An issue without its caps entry leaves the caps behind from here on:
		 * the next start-up replays the events after caps_seq, this one included. */
		if (!cap_valid(ev->cap_campaign, ev->cap_rule, ev->cap_card))
			return PM_OK;
		if ((rc = caps_apply(db, txn, ev->cap_campaign, ev->cap_rule, ev->cap_card, ev->time_us)))
			return rc;
	}
	return loyi_meta_put_u64(db, txn, "caps_seq", seq);
}

int loyi_caps_forget_card(struct loy_db *db, MDB_txn *txn, const char *card)
{
	MDB_cursor *cur;
	MDB_val k = { 1, "l" }, v;
	size_t cl = strlen(card);
	int rc = mdb_cursor_open(txn, db->offer_caps, &cur);
	if (rc)
		return loyi_mdb_err(rc);
	/* The card is the last part of an 'l' key: SEP card at its end. */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *key = k.mv_data;
		if (key[0] != 'l')
			break;
		if (k.mv_size > cl + 1 && key[k.mv_size - cl - 1] == CAPS_SEP &&
		    !memcmp(key + k.mv_size - cl, card, cl) && (rc = mdb_cursor_del(cur, 0)))
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? PM_OK : loyi_mdb_err(rc);
}

struct events_arg {
	const struct loy_event_new *evs;
	size_t n;
	uint64_t first_seq;
};

static int events_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct events_arg *a = arg;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t seq;
		int rc = loyi_event_put(db, txn, &a->evs[i], &seq);
		if (rc)
			return rc;
		if (i == 0)
			a->first_seq = seq;
	}
	return PM_OK;
}

int loy_events_append(struct loy_db *db, const struct loy_event_new *evs, size_t n, uint64_t *first_seq)
{
	struct events_arg a = { evs, n, 0 };
	int rc = (!db || (n && !evs)) ? PM_EINVAL : n ? loyi_write(db, events_body, &a) : PM_OK;
	if (first_seq)
		*first_seq = rc ? 0 : a.first_seq;
	return rc;
}

int loy_event_append(struct loy_db *db, int type, int64_t time_us, const void *payload,
		     size_t len, uint64_t *seq_out)
{
	struct loy_event_new ev = { .type = type, .time_us = time_us, .payload = payload, .payload_len = len };
	return loy_events_append(db, &ev, 1, seq_out);
}

struct walk_events {
	loy_event_cb cb;
	void *ctx;
};

static int each_event(struct loy_db *db, uint64_t seq, const MDB_val *v, void *arg)
{
	struct walk_events *w = arg;
	const unsigned char *b = v->mv_data;
	struct loy_event ev = { 0 };
	uint32_t len = 0;
	uint64_t t = 0;
	(void)db;
	if (v->mv_size < 16 || b[0] != LOYI_REC_V1)
		return PM_ECORRUPT;
	for (int i = 0; i < 4; i++)
		len |= (uint32_t)b[4 + i] << (8 * i);
	for (int i = 0; i < 8; i++)
		t |= (uint64_t)b[8 + i] << (8 * i);
	if (16 + (size_t)len != v->mv_size)
		return PM_ECORRUPT;
	ev.seq = seq;
	ev.type = b[1];
	ev.time_us = (int64_t)t;
	ev.payload = b + 16;
	ev.payload_len = len;
	return w->cb(w->ctx, &ev);
}

int loy_events_after(struct loy_db *db, uint64_t after_seq, size_t max, loy_event_cb cb, void *ctx)
{
	struct walk_events w = { cb, ctx };
	return loyi_walk_after(db, db->events, after_seq, max, each_event, &w);
}

/* Split a caps key into its parts (in place in a copy); false if malformed. */
static bool caps_parse(const MDB_val *k, const MDB_val *v, char *copy, struct loy_cap *out)
{
	char *parts[4] = { NULL, NULL, NULL, NULL };
	size_t np = 0;
	if (k->mv_size < 3 || k->mv_size >= CAPS_KEY_MAX + 1 || v->mv_size != 8)
		return false;
	memcpy(copy, k->mv_data, k->mv_size);
	copy[k->mv_size] = '\0';
	for (char *p = copy + 1; p && np < 4; np++) {
		if (*p != CAPS_SEP)
			return false;
		*p++ = '\0';
		parts[np] = p;
		p = strchr(p, CAPS_SEP);
	}
	memset(out, 0, sizeof(*out));
	out->campaign = parts[0];
	if (copy[0] == 'n' && np == 1) {
		memcpy(&out->issued, v->mv_data, 8);
		return true;
	}
	if (copy[0] != 'l' || np != 3)
		return false;
	out->rule = parts[1];
	out->card = parts[2];
	memcpy(&out->last_us, v->mv_data, 8);
	return true;
}

int loy_caps_load(struct loy_db *db, loy_cap_cb cb, void *ctx, uint64_t *caps_seq)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	char copy[CAPS_KEY_MAX + 1];
	struct loy_cap cap;
	int rc = loyi_read_begin(db, &txn);
	*caps_seq = 0;
	if (rc)
		return rc;
	if ((rc = loyi_meta_get_u64(db, txn, "caps_seq", caps_seq)))
		goto out_end_read;
	if ((rc = loyi_mdb_err(mdb_cursor_open(txn, db->offer_caps, &cur))))
		goto out_end_read;
	/* Keys sort 'l' (last issues) before 'n' (counts): the order the contract promises. */
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!caps_parse(&k, &v, copy, &cap)) {
			rc = PM_ECORRUPT;
			break;
		}
		if ((rc = cb(ctx, &cap)))
			break;
	}
	if (!rc && mrc != MDB_NOTFOUND)
		rc = loyi_mdb_err(mrc);
	mdb_cursor_close(cur);
out_end_read:
	loyi_read_end(db, txn);
	return rc;
}

struct catch_up_arg {
	uint64_t from, to;
	const struct loy_cap *issues;
	size_t n;
	bool applied;
};

static int catch_up_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct catch_up_arg *a = arg;
	uint64_t caps_seq, last;
	int rc;
	a->applied = false;
	if ((rc = loyi_meta_get_u64(db, txn, "caps_seq", &caps_seq)) ||
	    (rc = loyi_meta_get_u64(db, txn, "last_event_seq", &last)))
		return rc;
	if (caps_seq != a->from || a->to < a->from || a->to > last)
		return PM_OK;   /* someone else caught up, or a stale view: leave it */
	for (size_t i = 0; i < a->n; i++) {
		const struct loy_cap *c = &a->issues[i];
		const char *card = c->card ? c->card : "";
		if (!cap_valid(c->campaign, c->rule ? c->rule : "", card))
			continue;
		if ((rc = caps_apply(db, txn, c->campaign, c->rule ? c->rule : "", card, c->last_us)))
			return rc;
	}
	a->applied = true;
	return loyi_meta_put_u64(db, txn, "caps_seq", a->to);
}

int loy_caps_catch_up(struct loy_db *db, uint64_t from_seq, uint64_t to_seq,
		      const struct loy_cap *issues, size_t n, bool *applied)
{
	struct catch_up_arg a = { from_seq, to_seq, issues, n, false };
	int rc = (!db || (n && !issues)) ? PM_EINVAL : loyi_write(db, catch_up_body, &a);
	if (applied)
		*applied = rc == PM_OK && a.applied;
	return rc;
}

/* ---- erasure: the outbox without the card (docs/privacy.md, "At the store") ---- */

static bool all_digits(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return n > 0;
}

/* Payload p of n bytes with every "CARD" (a JSON string equal to the number) made "". */
static size_t drop_quoted(const unsigned char *p, size_t n, const char *card, unsigned char *out)
{
	size_t cl = strlen(card), o = 0;
	for (size_t i = 0; i < n;) {
		if (p[i] == '"' && i + cl + 2 <= n && p[i + cl + 1] == '"' && !memcmp(p + i + 1, card, cl)) {
			out[o++] = '"';
			out[o++] = '"';
			i += cl + 2;
		} else {
			out[o++] = p[i++];
		}
	}
	return o;
}

/*
 * A consent event of the erased card. HQ no longer needs it (the erasure
 * supersedes it), but an upload batch is a contiguous run of seqs after
 * events_acked (docs/hostsync.md), so only an acknowledged one may go. One
 * HQ has not seen keeps its seq: as an erasure event with the erasure's HQ
 * payload; for HQ's own erasure, as it is until HQ acknowledged it (*wait).
 * Without HQ at all (no payload, not from HQ) nothing is uploaded: it goes.
 */
static int scrub_consent(MDB_cursor *cur, MDB_val *k, const unsigned char *b, uint64_t acked,
			 const struct loyi_erasure *how, unsigned char **buf, size_t *cap, uint64_t *wait)
{
	uint64_t seq;
	memcpy(&seq, k->mv_data, sizeof(seq));
	if (seq <= acked || (!how->payload && !how->from_hq))
		return mdb_cursor_del(cur, 0);
	if (how->from_hq) {
		*wait = seq;
		return PM_OK;
	}
	if (16 + how->len > *cap) {
		unsigned char *nb = realloc(*buf, 16 + how->len);
		if (!nb)
			return PM_ENOMEM;
		*buf = nb;
		*cap = 16 + how->len;
	}
	memcpy(*buf, b, 16);
	(*buf)[1] = LOY_EV_ERASURE;
	for (int i = 0; i < 4; i++)
		(*buf)[4 + i] = (unsigned char)(how->len >> (8 * i));
	memcpy(*buf + 16, how->payload, how->len);
	MDB_val nk = { sizeof(seq), &seq }, nv = { 16 + how->len, *buf };
	return mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT);
}

int loyi_events_scrub_card(struct loy_db *db, MDB_txn *txn, const char *card, const struct loyi_erasure *how,
			   uint64_t *scrubbed, uint64_t *wait_seq)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t cl = strlen(card);
	unsigned char *buf = NULL;
	size_t cap = 0;
	uint64_t acked;
	int rc = loyi_meta_get_u64(db, txn, "events_acked", &acked);
	*scrubbed = 0;
	*wait_seq = 0;
	if (rc || (rc = loyi_mdb_err(mdb_cursor_open(txn, db->events, &cur))))
		return rc;
	/* Every event: an erasure is rare, the outbox is read once per erasure. (An
	 * earlier clear erasure of the card stays until HQ acknowledged it:
	 * loy_events_forget_clear_erasures.) */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const unsigned char *b = v.mv_data;
		if (v.mv_size < 16 || b[0] != LOYI_REC_V1)
			continue;   /* not ours to judge here; loy_events_after reports it */
		const unsigned char *p = b + 16;
		size_t n = v.mv_size - 16;
		if (b[1] == LOY_EV_CONSENT && n > cl && p[cl] == ' ' && !memcmp(p, card, cl)) {
			if ((rc = scrub_consent(cur, &k, b, acked, how, &buf, &cap, wait_seq)))
				break;
			(*scrubbed)++;
			continue;
		}
		if (b[1] < LOY_EV_OFFER_ISSUED || b[1] > LOY_EV_OFFER_REDEEMED || !memmem(p, n, card, cl))
			continue;
		if (v.mv_size > cap) {
			unsigned char *nb = realloc(buf, v.mv_size);
			if (!nb) {
				rc = PM_ENOMEM;
				break;
			}
			buf = nb;
			cap = v.mv_size;
		}
		memcpy(buf, b, 16);
		size_t nn = drop_quoted(p, n, card, buf + 16);
		if (nn == n)
			continue;   /* the digits inside another value (a longer number): not the card */
		for (int i = 0; i < 4; i++)
			buf[4 + i] = (unsigned char)(nn >> (8 * i));
		MDB_val nv = { 16 + nn, buf };
		/* A copy of the key: a shorter value moves the node, and k points into its page. */
		uint64_t seq;
		memcpy(&seq, k.mv_data, sizeof(seq));
		MDB_val nk = { sizeof(seq), &seq };
		if ((rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT)))
			break;
		(*scrubbed)++;
	}
	free(buf);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? PM_OK : rc > 0 ? loyi_mdb_err(rc) : rc;
}

/* A consent event whose card has no record: erased (consent always writes the record). */
static bool consent_of_erased(struct loy_db *db, MDB_txn *txn, const unsigned char *p, size_t n)
{
	size_t cl = 0;
	MDB_val v;
	while (cl < n && p[cl] >= '0' && p[cl] <= '9')
		cl++;
	MDB_val k = { cl, (void *)p };
	return cl > 0 && cl < n && p[cl] == ' ' && mdb_get(txn, db->cards, &k, &v) == MDB_NOTFOUND;
}

struct forget_arg {
	uint64_t forgotten;
};

static int forget_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct forget_arg *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t acked, seq, newest;
	int rc = loyi_meta_get_u64(db, txn, "events_acked", &acked);
	a->forgotten = 0;
	if (rc || (rc = loyi_meta_get_u64(db, txn, LOYI_CLEAR_ERASURE_SEQ, &newest)))
		return rc;
	if (newest == 0 || newest > acked)
		return PM_OK;   /* none, or HQ has not acknowledged the newest yet */
	if ((rc = loyi_mdb_err(mdb_cursor_open(txn, db->events, &cur))))
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const unsigned char *b = v.mv_data;
		memcpy(&seq, k.mv_data, 8);
		if (seq > acked)
			break;
		if (v.mv_size > 16 && b[0] == LOYI_REC_V1 &&
		    ((b[1] == LOY_EV_ERASURE && all_digits(b + 16, v.mv_size - 16)) ||
		     (b[1] == LOY_EV_CONSENT && consent_of_erased(db, txn, b + 16, v.mv_size - 16)))) {
			if ((rc = mdb_cursor_del(cur, 0)))
				break;
			a->forgotten++;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND && rc != 0)
		return loyi_mdb_err(rc);
	if ((rc = loyi_meta_put_u64(db, txn, LOYI_CLEAR_ERASURE_SEQ, 0)))
		return rc;
	return a->forgotten ? loyi_meta_put_u64(db, txn, LOYI_COMPACT_PENDING, 1) : PM_OK;
}

int loy_events_forget_clear_erasures(struct loy_db *db, uint64_t *forgotten)
{
	struct forget_arg a = { 0 };
	int rc = loyi_write(db, forget_body, &a);
	if (forgotten)
		*forgotten = rc ? 0 : a.forgotten;
	return rc;
}
