/*
 * printq.c - the print queue: receipts committed with their sale or return
 * that have not printed yet (paper out, printer off). An entry is written
 * in the record's own commit (loyi_printq_put, the commit's last step) and
 * removed by loy_printq_done in the transaction that also appends the
 * receipt's OFFER_ISSUED events, so a coupon counts as issued exactly when
 * its receipt printed (docs/storage.md, "print_queue"; docs/till.md).
 *
 * Entry record v1 (value of key seq, u64 native, MDB_INTEGERKEY):
 *   u8 version=1, u8 reserved[3], u32 receipt_len, i64 time_us,
 *   receipt_len bytes: the producer's receipt (the terminal's receipt
 *   record, itself versioned; loyalty never reads it).
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

#define PQ_HDR 16

int loyi_printq_decode(uint64_t seq, const void *buf, size_t len, struct loy_printq_entry *e)
{
	const unsigned char *b = buf;
	memset(e, 0, sizeof(*e));
	if (len < PQ_HDR || b[0] != LOYI_REC_V1)
		return PM_ECORRUPT;
	uint64_t n = loyi_get_le(b + 4, 4);
	if (PQ_HDR + n != len)
		return PM_ECORRUPT;
	e->seq = seq;
	e->time_us = (int64_t)loyi_get_le(b + 8, 8);
	e->receipt = b + PQ_HDR;
	e->receipt_len = (size_t)n;
	return PM_OK;
}

int loyi_printq_put(struct loy_db *db, MDB_txn *txn, const struct loy_sale *s, const struct loy_commit_result *res)
{
	const void *rec = NULL;
	size_t len = 0;
	int rc = s->receipt_cb(s->receipt_ctx, s, res, &rec, &len);
	if (rc || len == 0)
		return rc;
	if (!rec || len > UINT32_MAX)
		return PM_EINVAL;
	MDB_val k = { sizeof(s->seq), (void *)&s->seq }, v = { PQ_HDR + len, NULL };
	/* MDB_RESERVE: the record is written straight into the page, no copy. */
	if ((rc = mdb_put(txn, db->print_queue, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE)))
		return loyi_mdb_err(rc);
	unsigned char *b = v.mv_data;
	memset(b, 0, PQ_HDR);
	b[0] = LOYI_REC_V1;
	loyi_put_le(b + 4, len, 4);
	loyi_put_le(b + 8, (uint64_t)s->time_us, 8);
	memcpy(b + PQ_HDR, rec, len);
	return PM_OK;
}

int loy_printq_each(struct loy_db *db, loy_printq_cb cb, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->print_queue, &cur))) {
		loyi_read_end(db, txn);
		return loyi_mdb_err(rc);
	}
	int mrc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct loy_printq_entry e;
		uint64_t seq;
		if (k.mv_size != sizeof(seq)) {
			rc = PM_ECORRUPT;
			break;
		}
		memcpy(&seq, k.mv_data, sizeof(seq));
		if ((rc = loyi_printq_decode(seq, v.mv_data, v.mv_size, &e)) || (rc = cb(ctx, &e)))
			break;
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = loyi_mdb_err(mrc);
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}

int loy_printq_next(struct loy_db *db, uint64_t after_seq, struct loy_printq_entry *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint64_t start = after_seq + 1, seq;
	MDB_val k = { sizeof(start), &start }, v;
	memset(out, 0, sizeof(*out));
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->print_queue, &cur))) {
		loyi_read_end(db, txn);
		return loyi_mdb_err(rc);
	}
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (mrc) {
		rc = loyi_mdb_err(mrc);   /* MDB_NOTFOUND: PM_ENOENT, none waiting */
	} else if (k.mv_size != sizeof(seq)) {
		rc = PM_ECORRUPT;
	} else {
		struct loy_printq_entry e;
		memcpy(&seq, k.mv_data, sizeof(seq));
		if ((rc = loyi_printq_decode(seq, v.mv_data, v.mv_size, &e)) == PM_OK) {
			void *copy = malloc(e.receipt_len ? e.receipt_len : 1);
			if (!copy) {
				rc = PM_ENOMEM;
			} else {
				memcpy(copy, e.receipt, e.receipt_len);
				*out = e;
				out->receipt = copy;
			}
		}
	}
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}

int loy_printq_count(struct loy_db *db, uint64_t *n, uint64_t *oldest)
{
	MDB_txn *txn;
	MDB_stat st;
	*n = 0;
	if (oldest)
		*oldest = 0;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_stat(txn, db->print_queue, &st)) == 0)
		*n = st.ms_entries;
	if (rc == 0 && oldest && st.ms_entries) {
		MDB_cursor *cur;
		MDB_val k, v;
		if ((rc = mdb_cursor_open(txn, db->print_queue, &cur)) == 0) {
			if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 && k.mv_size == sizeof(*oldest))
				memcpy(oldest, k.mv_data, sizeof(*oldest));
			mdb_cursor_close(cur);
		}
	}
	loyi_read_end(db, txn);
	return loyi_mdb_err(rc);
}

struct done_arg {
	uint64_t seq;
	loy_printed_cb cb;
	void *ctx;
	bool removed;
};

static int done_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct done_arg *a = arg;
	MDB_val k = { sizeof(a->seq), &a->seq }, v;
	struct loy_printq_entry e;
	struct loy_sale sale, *sp = NULL;
	struct loyi_scratch sc = { 0 };
	const struct loy_event_new *evs = NULL;
	size_t n = 0;
	a->removed = false;
	int rc = mdb_get(txn, db->print_queue, &k, &v);
	if (rc == MDB_NOTFOUND)
		return PM_OK;   /* printed and recorded by someone else: count nothing twice */
	if (rc)
		return loyi_mdb_err(rc);
	if ((rc = loyi_printq_decode(a->seq, v.mv_data, v.mv_size, &e)))
		return rc;
	MDB_val sk = { sizeof(a->seq), &a->seq }, sv;
	rc = mdb_get(txn, db->sales, &sk, &sv);
	if (rc == 0) {
		if ((rc = loyi_sale_decode_sc(&sc, sv.mv_data, sv.mv_size, &sale)))
			goto out_free_scratch;
		sp = &sale;
	} else if (rc != MDB_NOTFOUND) {
		rc = loyi_mdb_err(rc);
		goto out_free_scratch;
	}
	if (a->cb && (rc = a->cb(a->ctx, &e, sp, &evs, &n)))
		goto out_free_scratch;
	if (n && !evs) {
		rc = PM_EINVAL;
		goto out_free_scratch;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = loyi_event_put(db, txn, &evs[i], NULL)))
			goto out_free_scratch;
	/* e points into the page: deleted last. */
	if ((rc = loyi_mdb_err(mdb_del(txn, db->print_queue, &k, NULL))) == PM_OK)
		a->removed = true;
out_free_scratch:
	loyi_scratch_free(&sc);
	return rc;
}

int loy_printq_done(struct loy_db *db, uint64_t seq, loy_printed_cb cb, void *ctx, bool *removed)
{
	struct done_arg a = { .seq = seq, .cb = cb, .ctx = ctx };
	int rc = db ? loyi_write(db, done_body, &a) : PM_EINVAL;
	if (removed)
		*removed = rc == PM_OK && a.removed;
	return rc;
}
