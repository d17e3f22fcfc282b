/* catalog.c - the product catalog of a standalone till (GTIN-14 -> product). */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <string.h>

struct put_arg {
	const struct loy_product *p;
	size_t n;
};

static int put_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct put_arg *a = arg;
	unsigned char buf[16 + 64 + 48 + 48];
	for (size_t i = 0; i < a->n; i++) {
		const struct loy_product *p = &a->p[i];
		size_t n = loyi_product_encode(p, buf, sizeof(buf));
		MDB_val k = { LOY_GTIN_LEN, (void *)p->gtin }, v = { n, buf };
		int rc;
		if (n == 0 || strlen(p->gtin) != LOY_GTIN_LEN)
			return PM_EINVAL;
		if ((rc = mdb_put(txn, db->catalog, &k, &v, 0)))
			return loyi_mdb_err(rc);
	}
	return PM_OK;
}

int loy_catalog_put(struct loy_db *db, const struct loy_product *p, size_t n)
{
	struct put_arg a = { p, n };
	return loyi_write(db, put_body, &a);
}

int loy_catalog_get(struct loy_db *db, const char *gtin14, struct loy_product *out)
{
	MDB_txn *txn;
	MDB_val k = { strlen(gtin14), (void *)gtin14 }, v;
	int rc;
	memset(out, 0, sizeof(*out));
	if (strlen(gtin14) != LOY_GTIN_LEN)
		return PM_EINVAL;
	if ((rc = loyi_read_begin(db, &txn)))
		return rc;
	rc = mdb_get(txn, db->catalog, &k, &v);
	rc = rc ? loyi_mdb_err(rc) : loyi_product_decode(v.mv_data, v.mv_size, gtin14, out);
	loyi_read_end(db, txn);
	return rc;
}

int loy_catalog_each(struct loy_db *db, loy_product_cb cb, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->catalog, &cur))) {
		loyi_read_end(db, txn);
		return loyi_mdb_err(rc);
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		struct loy_product p;
		char gtin[LOY_GTIN_LEN + 1];
		if (k.mv_size != LOY_GTIN_LEN) {
			rc = PM_ECORRUPT;
			break;
		}
		memcpy(gtin, k.mv_data, LOY_GTIN_LEN);
		gtin[LOY_GTIN_LEN] = '\0';
		if ((rc = loyi_product_decode(v.mv_data, v.mv_size, gtin, &p)) || (rc = cb(ctx, &p)))
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = PM_OK;
	else if (rc > 0)
		rc = loyi_mdb_err(rc);
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}

int loy_catalog_count(struct loy_db *db, uint64_t *out)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc = loyi_read_begin(db, &txn);
	*out = 0;
	if (rc)
		return rc;
	if ((rc = mdb_stat(txn, db->catalog, &st)) == 0)
		*out = st.ms_entries;
	loyi_read_end(db, txn);
	return loyi_mdb_err(rc);
}
