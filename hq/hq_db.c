/*
 * hq_db.c - HQ's PostgreSQL side: batch ingest with COPY in one
 * transaction per batch, exactly-once by a per-terminal position row,
 * every card number turned into its ref before a row is written (hq_ingest_cards.c),
 * and stores. Erasure and consent live in hq_erase.c, schema and migrations
 * in hq_schema.c, COPY rows in hq_copy.c, month partitions in hq_partition.c,
 * queries in hq_query.c.
 * docs/hq.md has the schema and why it looks like this.
 */
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "hq/hq_rollup_int.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- ingest ----------------------------------------------------------- */

/* A batch may touch (and so create the partitions of) at most this many
 * months; times must lie in [TIME_MIN_US, now + TIME_AHEAD_S]. Beyond
 * either: 400, nothing created or stored (docs/hq.md, Ingest). */
#define MAX_MONTHS 24
#define TIME_MIN_US INT64_C(946684800000000)   /* 2000-01-01T00:00:00Z */
#define TIME_AHEAD_S (31 * 86400)
#define COPY_CHUNK (512u << 10)
struct ingest {
	const char *store;
	PGconn *c;
	struct wire_batch_header h;
	uint64_t acked;               /* HQ's position: records <= this are skipped */
	bool copying;                 /* COPY is open: rows stream as they are decoded */
	struct pm_buf rows;           /* COPY text not yet sent */
	uint64_t n_rows;              /* records sent to COPY */
	struct hqi_batch_acct acct;   /* the batch's ledger entries, cards, coupons (hq_ledger.c) */
	struct hqr_cards roll;        /* the batch's card months, for the per-card rollups (hq_rollup_cards.c) */
	int64_t months[MAX_MONTHS];   /* month starts (us) the batch touches */
	int n_months;
	int64_t cur_ms, cur_next;     /* the month of the previous sale: [cur_ms, cur_next) */
	int64_t time_max;             /* latest time accepted: now + TIME_AHEAD_S */
	struct hqi_batch_cards cards; /* the batch's card numbers and their refs (hq_ingest_cards.c) */
	int64_t t_step[6];            /* POSMARK_HQ_INGEST_TIMES: ns per step (STEP_*) of the last attempt */
	char reason[400];
};

/* The steps an attempt's time is split into when POSMARK_HQ_INGEST_TIMES=1 (one log line per batch). */
enum { STEP_CARDS, STEP_COPY, STEP_EVENTS, STEP_ROLLUPS, STEP_ACCOUNTS, STEP_COMMIT, N_STEPS };
static const char *const step_name[N_STEPS] = { "cards", "copy", "events", "rollups", "accounts", "commit" };

/* A record's time inside [TIME_MIN_US, time_max], or PM_EINVAL with the reason. */
static int time_ok(struct ingest *in, const char *what, uint64_t seq, int64_t time_us)
{
	if (time_us >= TIME_MIN_US && time_us <= in->time_max)
		return PM_OK;
	snprintf(in->reason, sizeof(in->reason), "%s seq %" PRIu64 " of terminal '%.31s': time_us %" PRId64
		 " is not between 2000-01-01 and 31 days after HQ's clock; the batch is refused, nothing stored"
		 " (check the till's clock, then fix or remove that record)", what, seq, in->h.terminal, time_us);
	return PM_EINVAL;
}

/* One more row is complete: send the buffer to COPY when it is big enough,
 * so PostgreSQL parses while this thread decodes the next lines. */
static int note_row(struct ingest *in)
{
	in->n_rows++;
	if (!in->copying || in->rows.len < COPY_CHUNK)
		return PM_OK;
	if (PQputCopyData(in->c, in->rows.data, (int)in->rows.len) != 1) {
		snprintf(in->reason, sizeof(in->reason), "HQ database unavailable; retry later");
		return PM_EIO;
	}
	in->rows.len = 0;
	return PM_OK;
}

/* A row's first columns, sales' and events' alike: store, terminal, seq, time_us. */
static int copy_row_key(struct ingest *in, uint64_t seq, int64_t time_us)
{
	struct pm_buf *b = &in->rows;
	int rc = hqi_copy_str(b, in->store, strlen(in->store));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_str(b, in->h.terminal, strlen(in->h.terminal));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_i64(b, (int64_t)seq, '\t');
	return rc ? rc : hqi_copy_i64(b, time_us, '\t');
}

static int on_header(void *ctx, const struct wire_batch_header *h)
{
	struct ingest *in = ctx;
	if (strcmp(h->store, in->store)) {
		snprintf(in->reason, sizeof(in->reason), "batch names store '%s' but the credential is for '%s'",
			 h->store, in->store);
		return PM_EREFUSED;
	}
	in->h = *h;
	return PM_OK;
}

static int on_sale(void *ctx, const struct wire_sale *s)
{
	struct ingest *in = ctx;
	struct pm_buf *b = &in->rows;
	int i, rc;
	if ((rc = time_ok(in, "sale", s->seq, s->time_us)))
		return rc;
	/* A till's batch nearly always sits in one month: look it up only when it changes. */
	if (!(s->time_us >= in->cur_ms && s->time_us < in->cur_next)) {
		if ((rc = hqi_month_start(s->time_us, &in->cur_ms, &in->cur_next)))
			return rc;
		for (i = 0; i < in->n_months && in->months[i] != in->cur_ms; i++)
			;
		if (i == in->n_months) {
			if (in->n_months == MAX_MONTHS) {
				snprintf(in->reason, sizeof(in->reason), "batch spans more than %d months; lower"
					 " hq.batch_max_sales so that each batch covers fewer", MAX_MONTHS);
				return PM_EINVAL;
			}
			in->months[in->n_months++] = in->cur_ms;
		}
	}
	if (s->seq <= in->acked)
		return PM_OK; /* stored by an earlier, overlapping batch */
	const char *ref;
	if ((rc = hqi_cards_ref(&in->cards, s->card, &ref)))
		return rc;
	rc = copy_row_key(in, s->seq, s->time_us);
	rc = rc ? rc : (ref ? pm_buf_add(b, ref, strlen(ref)) : pm_buf_add(b, "\\N", 2));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : pm_buf_add(b, s->currency, strlen(s->currency));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : pm_buf_add(b, s->tender, strlen(s->tender));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_i64(b, s->total_cents, '\t');
	rc = rc ? rc : hqi_copy_i64(b, s->discount_cents, '\t');
	rc = rc ? rc : hqi_copy_i64(b, s->tendered_cents, '\t');
	rc = rc ? rc : hqi_copy_i64(b, s->points_earned, '\t');
	rc = rc ? rc : pm_buf_add(b, "[", 1);
	for (uint32_t k = 0; !rc && k < s->n_items; k++) {
		char t[160];
		int n = snprintf(t, sizeof(t), "%s{\"gtin\":\"%s\",\"qty\":%d,\"price_cents\":%" PRId64
				 ",\"line_cents\":%" PRId64 "}", k ? "," : "", s->items[k].gtin,
				 (int)s->items[k].qty, s->items[k].unit_price_cents, s->items[k].line_cents);
		rc = pm_buf_add(b, t, (size_t)n);
	}
	rc = rc ? rc : pm_buf_add(b, "]\t[", 3);
	for (uint32_t k = 0; !rc && k < s->n_redeemed; k++) {
		const char *open = k ? ",{\"coupon\":" : "{\"coupon\":";
		rc = pm_buf_add(b, open, strlen(open));
		rc = rc ? rc : hqi_copy_json_str(b, s->redeemed[k].coupon);
		if (!rc) {
			char t[64];
			int n = snprintf(t, sizeof(t), ",\"discount_cents\":%" PRId64 "}",
					 s->redeemed[k].discount_cents);
			rc = pm_buf_add(b, t, (size_t)n);
		}
	}
	rc = rc ? rc : pm_buf_add(b, "]\t", 2);
	/* batch v2's columns (a v1 line: a sale, zeros) */
	rc = rc ? rc : pm_buf_add(b, s->type == WIRE_SALE_RETURN ? "return\t" : "sale\t", s->type ? 7 : 5);
	if (!rc && s->type == WIRE_SALE_RETURN) {
		rc = hqi_copy_str(b, s->return_of_terminal, strlen(s->return_of_terminal));
		rc = rc ? rc : pm_buf_add(b, "\t", 1);
		rc = rc ? rc : hqi_copy_i64(b, (int64_t)s->return_of_seq, '\t');
	} else if (!rc) {
		rc = pm_buf_add(b, "\\N\t\\N\t", 6);
	}
	rc = rc ? rc : hqi_copy_i64(b, s->points_spent, '\t');
	rc = rc ? rc : hqi_copy_i64(b, s->point_value_cents, '\t');
	rc = rc ? rc : hqi_copy_i64(b, s->refund_cents, '\n');
	rc = rc ? rc : hqi_acct_sale(&in->acct, in->store, in->h.terminal, in->h.version, s, ref, in->cards.ref_fresh);
	rc = rc || !ref || !ref[0] ? rc : hqr_cards_sale(&in->roll, ref, in->cards.ref_fresh, s);
	return rc ? rc : note_row(in);
}

/* Every payload is decoded with wire's decoder of its type before anything
 * is stored: one that does not decode refuses the batch (docs/hq.md). */
static int on_event(void *ctx, const struct wire_decoded_event *e)
{
	struct ingest *in = ctx;
	struct pm_buf *b = &in->rows;
	struct wire_event_payload d;
	char why[200];
	int rc;
	if (e->seq <= in->acked)
		return PM_OK;
	if ((rc = time_ok(in, "event", e->seq, e->time_us)))
		return rc;
	if ((rc = wire_event_payload_decode(wire_event_type_parse(e->type), e->payload, e->payload_len, &d, why,
					    sizeof(why))) || (rc = hqi_erasure_open(&d, e->payload, e->payload_len, why, sizeof(why)))) {
		snprintf(in->reason, sizeof(in->reason), "event seq %" PRIu64 " (%.19s) of terminal '%.31s': %.150s; "
			 "the batch is refused, nothing stored (the terminal keeps it; bring that terminal's posmark "
			 "and posmark-hq to one release: docs/hostsync.md, Event payloads)", e->seq, e->type,
			 in->h.terminal, why);
		return rc == PM_EVERSION ? PM_EVERSION : PM_EINVAL;
	}
	const char *ref;
	if ((rc = hqi_cards_ref(&in->cards, d.card, &ref)))
		return rc;
	if (d.card[0] && !ref)
		d.offer.coupon[0] = '\0'; /* erased at HQ: no card, no coupon code */
	rc = copy_row_key(in, e->seq, e->time_us);
	rc = rc ? rc : pm_buf_add(b, e->type, strlen(e->type));
	rc = rc ? rc : pm_buf_add(b, "\t", 1);
	rc = rc ? rc : hqi_copy_event_fields(b, &d, ref);
	/* the payload text names the card by its number: HQ keeps the decoded columns only */
	if (!rc)
		b->data[b->len - 1] = '\n'; /* the last column's tab */
	return rc ? rc : note_row(in);
}

/*
 * A store's erasure or consent event acts only on a card that store has
 * seen: a sale of the card from that store, or an offer event of it (its
 * own erasure and consent events do not count). Anything else, and a
 * consent change dated more than HQ_CONSENT_SKEW_S ahead of HQ's clock,
 * goes to the review queue (hq_requests.c) and is not applied; the batch
 * is stored all the same. docs/hq.md, "Consent and erasure".
 */
#define SEEN_BY_STORE "(EXISTS (SELECT 1 FROM sales s WHERE s.card = e.card AND s.store_id = e.store_id)" \
	" OR EXISTS (SELECT 1 FROM events o WHERE o.card = e.card AND o.store_id = e.store_id" \
	"  AND o.type IN ('offer_issued', 'offer_held_back', 'offer_redeemed')))"
#define BATCH_EVENTS "FROM events e WHERE e.store_id = $1 AND e.terminal = $2 AND e.seq > $3::bigint" \
	" AND e.card IS NOT NULL"

static int apply_events(PGconn *c, struct ingest *in, char *err, size_t errlen)
{
	/* Consent and erasure take effect at HQ inside the batch's transaction. */
	char acked[24], latest[24], now[24];
	int64_t t = (int64_t)time(NULL);
	snprintf(acked, sizeof(acked), "%" PRIu64, in->acked);
	snprintf(latest, sizeof(latest), "%" PRId64, (t + HQ_CONSENT_SKEW_S) * 1000000);
	snprintf(now, sizeof(now), "%" PRId64, t * 1000000);
	const char *pv[5] = { in->store, in->h.terminal, acked, latest, now };
	if (hqi_exec(c, "INSERT INTO review_requests (store_id, terminal, seq, type, card, consent, event_us,"
		     " received_us, reason) SELECT e.store_id, e.terminal, e.seq, e.type, e.card, e.consent, e.time_us,"
		     " $5::bigint, CASE WHEN NOT " SEEN_BY_STORE " THEN 'the store never sold to or made an offer to"
		     " this card' ELSE 'consent change dated in the future' END " BATCH_EVENTS
		     " AND e.type IN ('consent', 'erasure') AND (NOT " SEEN_BY_STORE
		     " OR (e.type = 'consent' AND e.time_us > $4::bigint))", 5, pv, NULL, NULL, err, errlen))
		return PM_EIO;
	if (hqi_exec(c, "INSERT INTO cards (card, consent, consent_changed_us, source_store)"
		     " SELECT DISTINCT ON (e.card) e.card, e.consent, e.time_us, e.store_id " BATCH_EVENTS
		     " AND e.type = 'consent' AND e.consent IN ('yes', 'no', 'unknown') AND e.time_us <= $4::bigint"
		     " AND " SEEN_BY_STORE " ORDER BY e.card, e.time_us DESC ON CONFLICT (card) DO UPDATE"
		     " SET consent = EXCLUDED.consent, consent_changed_us = EXCLUDED.consent_changed_us,"
		     " source_store = EXCLUDED.source_store WHERE cards.consent_changed_us <= EXCLUDED.consent_changed_us",
		     4, pv, NULL, NULL, err, errlen))
		return PM_EIO;
	PGresult *r = hqi_query(c, "SELECT DISTINCT e.card " BATCH_EVENTS " AND e.type = 'erasure' AND "
				SEEN_BY_STORE, 3, pv, false, err, errlen);
	if (!r)
		return PM_EIO;
	int rc = PM_OK;
	for (int i = 0; !rc && i < PQntuples(r); i++)
		rc = hq_erase(c, PQgetvalue(r, i, 0), in->store, err, errlen);
	PQclear(r);
	return rc;
}

/* An events batch's cards: every payload decoded once before the attempt. */
static int collect_event_card(void *ctx, const struct wire_decoded_event *e)
{
	struct ingest *in = ctx;
	struct wire_event_payload d;
	char why[200];
	if (wire_event_payload_decode(wire_event_type_parse(e->type), e->payload, e->payload_len, &d, why, sizeof(why)) ||
	    !d.card[0])
		return PM_OK; /* the attempt's decode refuses it with the reason */
	return hqi_cards_add(&in->cards, d.card, strlen(d.card));
}

/* Months of a batch's sales from a quick scan of the text, so partitions
 * exist before COPY starts (the decoder checks every line afterwards).
 * Times outside the accepted range are left to the decoder's refusal; more
 * than MAX_MONTHS months: PM_EINVAL with the reason, nothing created. */
static int prescan_months(struct ingest *in, const char *raw, size_t len)
{
	const char *end = raw + len, *p = memchr(raw, '\n', len), *nl;
	in->n_months = 0;
	for (p = p ? p + 1 : end; p < end; p = nl + 1) {
		int64_t us, ms, next;
		int i;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		const char *k = memmem(p, (size_t)(nl - p), "\"time_us\":", 10);
		if (!k || (us = strtoll(k + 10, NULL, 10)) < TIME_MIN_US || us > in->time_max ||
		    hqi_month_start(us, &ms, &next))
			continue;
		for (i = 0; i < in->n_months && in->months[i] != ms; i++)
			;
		if (i < in->n_months)
			continue;
		if (in->n_months == MAX_MONTHS) {
			snprintf(in->reason, sizeof(in->reason), "batch spans more than %d months; lower"
				 " hq.batch_max_sales so that each batch covers fewer (nothing stored)", MAX_MONTHS);
			return PM_EINVAL;
		}
		in->months[in->n_months++] = ms;
	}
	return PM_OK;
}

static int on_header_only(void *ctx, const struct wire_batch_header *h)
{
	int rc = on_header(ctx, h);
	return rc ? rc : 1; /* stop after the header: 1 = header fine */
}

static int64_t step_done(struct ingest *in, int step, int64_t since)
{
	int64_t now = pm_mono_ns();
	in->t_step[step] += now - since;
	return now;
}

static void log_steps(const struct ingest *in)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("POSMARK_HQ_INGEST_TIMES");
		on = e && !strcmp(e, "1");
	}
	if (!on)
		return;
	char line[256];
	int n = 0;
	for (int i = 0; i < N_STEPS && n < (int)sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %.1f", step_name[i], (double)in->t_step[i] / 1e6);
	pm_info("batch %s/%s steps (ms):%s", in->store, in->h.terminal, line);
}

/* hqi_acct_apply's stage hook: the per-card rollups' rows go with the accounts' statements */
static int stage_rollups(PGconn *c, void *roll, char *err, size_t errlen)
{
	return hqr_cards_stage(c, roll, err, errlen);
}

enum { ATTEMPT_DONE = 0, ATTEMPT_NEED_PARTITIONS = 1, ATTEMPT_NEED_REFS = 2 };
/* what a step of an attempt leaves to the attempt: go on, or roll back and log a database error
 * (the rest are the ATTEMPT_* above, the ack filled) */
enum { STEP_GO_ON = -1, STEP_DB_ERROR = -2 };

/* The whole attempt failed on the database: the till is told to retry later. */
static int db_error(PGconn *c, bool rollback, const struct ingest *in, const char *err, struct hq_ack *ack)
{
	if (rollback)
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
	pm_err("database error storing a batch of store '%s': %s", in->store, err);
	ack->http_status = 503;
	snprintf(ack->reason, sizeof(ack->reason), "HQ database unavailable; retry later");
	return ATTEMPT_DONE;
}

/* BEGIN and the terminal's position row, locked for the transaction: the position row is the
 * unique key on (terminal, seq), so two receivers given the same batch store it once. A batch
 * already stored is answered (and the transaction ended) here, and so is one past a gap. */
static int lock_terminal_row(PGconn *c, struct ingest *in, const char *kind, struct hq_ack *ack, char *err,
			 size_t errlen)
{
	const char *pv[3] = { in->store, in->h.terminal, kind };
	if (hqi_exec_ok(c, "BEGIN", err, errlen))
		return db_error(c, false, in, err, ack);
	PGresult *r = PQexecParams(c, "INSERT INTO upload_progress (store_id, terminal, kind) VALUES ($1, $2, $3)"
				   " ON CONFLICT DO NOTHING", 3, NULL, pv, NULL, NULL, 0);
	PQclear(r);
	r = PQexecParams(c, "SELECT acked_seq FROM upload_progress WHERE store_id = $1 AND terminal = $2"
			 " AND kind = $3 FOR UPDATE", 3, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return db_error(c, true, in, err, ack);
	}
	in->acked = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	ack->acked_seq = in->acked;
	if (in->h.last_seq <= in->acked) {
		hqi_exec_ok(c, "COMMIT", NULL, 0);
		ack->duplicate = 1;
		ack->http_status = 200;
		snprintf(ack->reason, sizeof(ack->reason), "already stored");
		return ATTEMPT_DONE;
	}
	if (in->h.first_seq > in->acked + 1) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		ack->http_status = 409;
		snprintf(ack->reason, sizeof(ack->reason),
			 "sequence gap: HQ holds %s up to seq %" PRIu64 " of terminal '%s', this batch starts at %"
			 PRIu64, kind, in->acked, in->h.terminal, in->h.first_seq);
		return ATTEMPT_DONE;
	}
	return STEP_GO_ON;
}

/* The batch's records streamed into COPY while they are decoded (note_row sends each chunk),
 * with the ledger entries, coupons and card months gathered on the way. A bad record refuses
 * the whole batch (400/403); a card the lookups missed or a month without its partition sends
 * the attempt round again; a refusal by the database is 400. */
static int copy_records(PGconn *c, struct ingest *in, const struct pm_buf *raw, struct hq_ack *ack, char *err,
			size_t errlen)
{
	struct wire_decode_cb cb = { in, on_header, on_sale, on_event };
	char sqlstate[8] = "";
	PGresult *r = PQexec(c, in->h.kind == WIRE_BATCH_SALES
			     ? "COPY sales (store_id, terminal, seq, time_us, card, currency, tender, total_cents,"
			       " discount_cents, tendered_cents, points_earned, items, redeemed, type, return_of_terminal,"
			       " return_of_seq, points_spent, point_value_cents, refund_cents) FROM STDIN"
			     : "COPY events (store_id, terminal, seq, time_us, type, " HQI_EVENT_COLS ") FROM STDIN");
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return STEP_DB_ERROR;
	}
	PQclear(r);
	in->copying = true;
	in->rows.len = 0;
	in->n_rows = 0;
	hqi_acct_reset(&in->acct);
	hqr_cards_reset(&in->roll);
	in->n_months = 0;
	in->cur_ms = in->cur_next = 0;
	in->reason[0] = '\0';
	int rc = wire_batch_decode_raw(raw->data, raw->len, &cb, err, errlen);
	if (!rc && in->rows.len && PQputCopyData(c, in->rows.data, (int)in->rows.len) != 1)
		rc = PM_EIO;
	in->copying = false;
	/* A bad line anywhere aborts the COPY: nothing of the batch is stored. */
	PQputCopyEnd(c, rc ? "batch rejected" : NULL);
	r = PQgetResult(c);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok && !rc) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		snprintf(sqlstate, sizeof(sqlstate), "%s", PQresultErrorField(r, PG_DIAG_SQLSTATE) ?
			 PQresultErrorField(r, PG_DIAG_SQLSTATE) : "");
	}
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	if (in->cards.missed && (!rc || rc == PM_EIO || rc == PM_ENOMEM || ok)) {
		/* the rows were written without those cards: never committed, attempted again */
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		if (hqi_cards_unique(&in->cards))
			return db_error(c, false, in, err, ack);
		return ATTEMPT_NEED_REFS;
	}
	if (rc && rc != PM_EIO) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		ack->http_status = rc == PM_EREFUSED ? 403 : 400;
		snprintf(ack->reason, sizeof(ack->reason), "%s", in->reason[0] ? in->reason : err);
		return ATTEMPT_DONE;
	}
	if (rc || !ok) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		if (!strcmp(sqlstate, "23514") && in->h.kind == WIRE_BATCH_SALES)
			return ATTEMPT_NEED_PARTITIONS; /* a month the prescan missed */
		if (!strncmp(sqlstate, "22", 2) || !strncmp(sqlstate, "23", 2)) {
			ack->http_status = 400;
			snprintf(ack->reason, sizeof(ack->reason), "batch refused by the database: %.240s", err);
			return ATTEMPT_DONE;
		}
		return db_error(c, false, in, err, ack);
	}
	if (in->cards.n_unlinked)
		pm_info("store %s: %" PRIu64 " record(s) with a card HQ erased stored without the card (erasure not yet "
			"applied at the till)", in->store, in->cards.n_unlinked);
	return STEP_GO_ON;
}

/* What the stored records change, in the same transaction: the events' effects, the console's
 * rollups, the chain account (while the per-card rollups' old rows are read on a second
 * connection), and the terminal's new position. Returns 0 or PM_EIO (err). */
static int apply_records(PGconn *c, struct ingest *in, const char *kind, int64_t *ts, char *err, size_t errlen)
{
	if (in->h.kind == WIRE_BATCH_EVENTS && apply_events(c, in, err, errlen))
		return PM_EIO;
	*ts = step_done(in, STEP_EVENTS, *ts);
	if (hq_rollup_batch(c, in->store, in->h.terminal, in->h.kind, in->acked, in->h.last_seq, in->months,
			    in->n_months, in->h.kind == WIRE_BATCH_SALES ? &in->roll : NULL, err,
			    errlen)) /* the console's rollups (hq_rollup.c) */
		return PM_EIO;
	*ts = step_done(in, STEP_ROLLUPS, *ts);
	const struct hqi_acct_stage stage = { stage_rollups, &in->roll };
	if (hqi_acct_apply(c, in->store, in->h.terminal, in->h.kind, in->acked, in->h.last_seq, &in->acct,
			   in->h.kind == WIRE_BATCH_SALES ? &stage : NULL, err, errlen))
		return PM_EIO;
	*ts = step_done(in, STEP_ACCOUNTS, *ts);
	if (hqr_cards_finish(c, &in->roll, err, errlen))
		return PM_EIO;
	*ts = step_done(in, STEP_ROLLUPS, *ts);
	char last[24];
	snprintf(last, sizeof(last), "%" PRIu64, in->h.last_seq);
	const char *uv[4] = { in->store, in->h.terminal, kind, last };
	return hqi_exec(c, "UPDATE upload_progress SET acked_seq = $4::bigint, updated_at = now()"
			" WHERE store_id = $1 AND terminal = $2 AND kind = $3", 4, uv, NULL, NULL, err, errlen)
		       ? PM_EIO
		       : PM_OK;
}

/*
 * One transaction: lock the terminal's position row, skip what is stored,
 * stream the rest into COPY while decoding, apply it, record the new position.
 */
static int ingest_attempt_tx(PGconn *c, struct ingest *in, const struct pm_buf *raw, struct hq_ack *ack)
{
	const char *kind = in->h.kind == WIRE_BATCH_SALES ? "sales" : "events";
	char err[300] = "";
	int at;

	hqv_cache_discard(c); /* what an earlier, failed transaction learned */
	if ((at = lock_terminal_row(c, in, kind, ack, err, sizeof(err))) != STEP_GO_ON)
		return at;
	int64_t ts = pm_mono_ns();
	memset(in->t_step, 0, sizeof(in->t_step));
	if (hqi_cards_resolve(c, &in->cards, in->store, in->h.kind == WIRE_BATCH_SALES, err, sizeof(err)))
		return db_error(c, true, in, err, ack);
	ts = step_done(in, STEP_CARDS, ts);
	in->cards.missed = false;
	in->cards.n_unlinked = 0;
	if ((at = copy_records(c, in, raw, ack, err, sizeof(err))) != STEP_GO_ON)
		return at == STEP_DB_ERROR ? db_error(c, true, in, err, ack) : at;
	ts = step_done(in, STEP_COPY, ts);
	if (apply_records(c, in, kind, &ts, err, sizeof(err)))
		return db_error(c, true, in, err, ack);
	/* the new vault rows beside the batch commit first: no committed row names a ref without one */
	int vault = hqi_cards_commit(&in->cards, err, sizeof(err));
	if (vault == PM_EBUSY) {
		pm_dbg("store %s: %s; the batch again, its vault rows in its own transaction", in->store, err);
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		return ATTEMPT_NEED_REFS;
	}
	if (vault)
		return db_error(c, true, in, err, ack);
	if (hqi_exec_ok(c, "COMMIT", err, sizeof(err)))
		return db_error(c, false, in, err, ack);
	hqv_cache_commit(c); /* the refs this batch found or made exist now: cached */
	step_done(in, STEP_COMMIT, ts);
	ack->http_status = 200;
	ack->acked_seq = in->h.last_seq;
	ack->stored = in->n_rows;
	snprintf(ack->reason, sizeof(ack->reason), "stored");
	return ATTEMPT_DONE;
}

/* An attempt; whatever way it ended, its vault rows on the second connection are rolled back
 * unless it committed them. */
static int ingest_attempt(PGconn *c, struct ingest *in, const struct pm_buf *raw, struct hq_ack *ack)
{
	int at = ingest_attempt_tx(c, in, raw, ack);
	hqi_cards_abort(&in->cards);
	return at;
}

void hq_ingest(PGconn *c, const char *store, const void *body, size_t len, struct hq_ack *ack)
{
	struct ingest in;
	struct wire_decode_cb hdr_cb = { &in, on_header_only, NULL, NULL };
	struct pm_buf raw = { 0 };
	char err[300];
	int rc;

	memset(ack, 0, sizeof(*ack));
	memset(&in, 0, sizeof(in));
	in.store = store;
	in.c = c;
	in.time_max = ((int64_t)time(NULL) + TIME_AHEAD_S) * 1000000;
	int64_t t0 = pm_mono_ns();
	if ((rc = wire_batch_decompress(body, len, &raw, err, sizeof(err)))) {
		ack->http_status = 400;
		snprintf(ack->reason, sizeof(ack->reason), "%s", err);
		return;
	}
	rc = wire_batch_decode_raw(raw.data, raw.len, &hdr_cb, err, sizeof(err));
	if (rc != 1) {
		ack->http_status = rc == PM_EREFUSED ? 403 : 400;
		snprintf(ack->reason, sizeof(ack->reason), "%s", in.reason[0] ? in.reason : err);
		goto out;
	}
	if (in.h.kind == WIRE_BATCH_SALES) {
		if (prescan_months(&in, raw.data, raw.len)) {
			ack->http_status = 400;
			snprintf(ack->reason, sizeof(ack->reason), "%s", in.reason);
			goto out;
		}
		if ((rc = hqi_cards_prescan(&in.cards, raw.data, raw.len))) {
			ack->http_status = 503;
			snprintf(ack->reason, sizeof(ack->reason), "HQ is out of memory; retry later");
			goto out;
		}
		if (hqi_ensure_partitions(c, in.months, in.n_months, err, sizeof(err))) {
			pm_err("cannot create partitions: %s", err);
			ack->http_status = 503;
			snprintf(ack->reason, sizeof(ack->reason), "HQ database unavailable; retry later");
			goto out;
		}
	}
	if (in.h.kind == WIRE_BATCH_EVENTS) {
		struct wire_decode_cb ev_cb = { &in, on_header, NULL, collect_event_card };
		if (wire_batch_decode_raw(raw.data, raw.len, &ev_cb, err, sizeof(err)) == PM_ENOMEM) {
			ack->http_status = 503;
			snprintf(ack->reason, sizeof(ack->reason), "HQ is out of memory; retry later");
			goto out;
		}
		if (hqi_cards_unique(&in.cards)) {
			ack->http_status = 503;
			snprintf(ack->reason, sizeof(ack->reason), "HQ is out of memory; retry later");
			goto out;
		}
	}
	int64_t t1 = pm_mono_ns();
	int at = ingest_attempt(c, &in, &raw, ack);
	for (int k = 0; k < 3 && at != ATTEMPT_DONE; k++) {
		if (at == ATTEMPT_NEED_PARTITIONS && hqi_ensure_partitions(c, in.months, in.n_months, err, sizeof(err)))
			break;
		at = ingest_attempt(c, &in, &raw, ack);
	}
	if (at == ATTEMPT_NEED_PARTITIONS) {
		ack->http_status = 503;
		snprintf(ack->reason, sizeof(ack->reason), "HQ cannot create the month partitions; retry later");
	} else if (at == ATTEMPT_NEED_REFS) {
		ack->http_status = 503;
		snprintf(ack->reason, sizeof(ack->reason), "HQ could not resolve the batch's cards; retry later");
	}
	pm_info("batch %s/%s %" PRIu64 "..%" PRIu64 ": %d, decompress+partitions %.0f ms, store %.0f ms",
		store, in.h.terminal, in.h.first_seq, in.h.last_seq, ack->http_status, (double)(t1 - t0) / 1e6,
		(double)(pm_mono_ns() - t1) / 1e6);
	log_steps(&in);
out:
	pm_buf_free(&raw);
	pm_buf_free(&in.rows);
	hqi_acct_free(&in.acct);
	hqr_cards_free(&in.roll);
	hqi_cards_free(&in.cards);
}

/* ---- stores --------------------------------------------------------------- */

int hq_store_add(PGconn *c, const char *store, const char *credential, char *err, size_t errlen)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)credential, strlen(credential));
	const char *pv[2] = { store, (const char *)h };
	int lens[2] = { (int)strlen(store), (int)sizeof(h) }, fmts[2] = { 0, 1 };
	return hqi_exec(c, "INSERT INTO stores (store_id, credential_sha256) VALUES ($1, $2)"
			" ON CONFLICT (store_id) DO UPDATE SET credential_sha256 = EXCLUDED.credential_sha256",
			2, pv, lens, fmts, err, errlen);
}

int hq_store_auth(PGconn *c, const char *store, const char *credential)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	const char *pv[1] = { store };
	int rc = PM_EREFUSED;
	PGresult *r = PQexecParams(c, "SELECT credential_sha256 FROM stores WHERE store_id = $1", 1, NULL, pv,
				   NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = PM_EIO;
	else if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == (int)sizeof(h)) {
		crypto_hash_sha256(h, (const unsigned char *)credential, strlen(credential));
		if (sodium_memcmp(h, PQgetvalue(r, 0, 0), sizeof(h)) == 0)
			rc = PM_OK;
	}
	PQclear(r);
	return rc;
}
