/*
 * db.c - the LMDB environment of one terminal: open/verify, the write
 * transaction driver (map growth, retry), meta keys, stats, watermarks.
 */
#include "loyalty/loy_int.h"
#include "loyalty/check_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024ull * 1024ull)

void loy_config_default(struct loy_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->map_size_initial = 64 * MIB;
	cfg->map_size_max = 0;
	strcpy(cfg->terminal_id, "store1-lane1");
	strcpy(cfg->currency, "EUR");
	cfg->points_per_unit = 1;
	cfg->tier_window_days = 365;
	cfg->tier_count = 3;
	cfg->tier_threshold_cents[0] = 0;
	cfg->tier_threshold_cents[1] = 50000;   /* 500.00 in a year: silver */
	cfg->tier_threshold_cents[2] = 200000;  /* 2000.00 in a year: gold */
	cfg->tier_multiplier_pct[0] = 100;
	cfg->tier_multiplier_pct[1] = 125;
	cfg->tier_multiplier_pct[2] = 150;
	strcpy(cfg->tier_name[0], "member");
	strcpy(cfg->tier_name[1], "silver");
	strcpy(cfg->tier_name[2], "gold");
	cfg->points_expiry_days = 730;
	cfg->point_value_cents = 1;
	cfg->offline_window_s = 86400;
	cfg->offline_spend_limit = 1000;
}

const struct loy_config *loy_db_config(const struct loy_db *db)
{
	return &db->cfg;
}

const char *loy_tier_name(const struct loy_db *db, int tier)
{
	if (tier < 0 || tier >= db->cfg.tier_count)
		return "?";
	return db->cfg.tier_name[tier];
}

int loyi_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return PM_OK;
	case MDB_MAP_FULL: return LOYI_GROW;
	case MDB_NOTFOUND: return PM_ENOENT;
	case MDB_KEYEXIST: return PM_EEXIST;
	case MDB_CORRUPTED: case MDB_INVALID: case MDB_PAGE_NOTFOUND: return PM_ECORRUPT;
	case MDB_VERSION_MISMATCH: return PM_EVERSION;
	case MDB_PANIC: return PM_EBADSTATE;
	case MDB_READERS_FULL: case MDB_TXN_FULL: case MDB_DBS_FULL: return PM_EBUSY;
	case MDB_BAD_VALSIZE: return PM_EINVAL;
	default:
		return rc > 0 ? pm_from_errno(rc) : PM_EIO;
	}
}

/*
 * Double the map. Called with no transaction of this thread open; takes the
 * resize lock exclusively, so no other thread of the process has one either
 * (LMDB's rule for mdb_env_set_mapsize). Two threads that both hit MAP_FULL
 * grow once: the second sees the size the first set.
 */
static int grow_map(struct loy_db *db, uint64_t seen_size)
{
	pthread_rwlock_wrlock(&db->resize_lock);
	if (db->map_size > seen_size) {
		pthread_rwlock_unlock(&db->resize_lock);
		return PM_OK;   /* another thread grew it meanwhile: just retry */
	}
	uint64_t want = db->map_size * 2;
	if (db->cfg.map_size_max && want > db->cfg.map_size_max)
		want = db->cfg.map_size_max;
	if (want <= db->map_size) {
		pthread_rwlock_unlock(&db->resize_lock);
		return PM_EFULL;
	}
	int rc = mdb_env_set_mapsize(db->env, (size_t)want);
	if (rc == 0) {
		db->map_size = want;
		loyi_map_register(db);   /* the map may have moved */
	}
	pthread_rwlock_unlock(&db->resize_lock);
	if (rc) {
		pm_warn("cannot grow purchase log map to %llu KiB: %s",
			(unsigned long long)(want / 1024), mdb_strerror(rc));
		return PM_EFULL;
	}
	pm_info("purchase log map grown to %llu KiB", (unsigned long long)(want / 1024));
	return PM_OK;
}

/* Another process grew the map: adopt its size. */
static void adopt_map(struct loy_db *db)
{
	MDB_envinfo info;
	pthread_rwlock_wrlock(&db->resize_lock);
	mdb_env_set_mapsize(db->env, 0);
	if (mdb_env_info(db->env, &info) == 0)
		db->map_size = info.me_mapsize;
	loyi_map_register(db);
	pthread_rwlock_unlock(&db->resize_lock);
}

int loyi_read_begin(struct loy_db *db, MDB_txn **txn)
{
	pthread_rwlock_rdlock(&db->resize_lock);
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		pthread_rwlock_unlock(&db->resize_lock);
		adopt_map(db);
		pthread_rwlock_rdlock(&db->resize_lock);
		rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
	}
	if (rc)
		pthread_rwlock_unlock(&db->resize_lock);
	return rc ? loyi_mdb_err(rc) : PM_OK;
}

void loyi_read_end(struct loy_db *db, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&db->resize_lock);
}

int loyi_write(struct loy_db *db, int (*body)(struct loy_db *, MDB_txn *, void *), void *arg)
{
	return loyi_write_ex(db, body, arg, false, NULL);
}

int loyi_write_ex(struct loy_db *db, int (*body)(struct loy_db *, MDB_txn *, void *), void *arg,
		  bool defer, bool *committed)
{
	if (committed)
		*committed = false;
	for (int attempt = 0; attempt < 64; attempt++) {
		MDB_txn *txn;
		/* Shared for the whole transaction: growth (exclusive) waits for it. */
		pthread_rwlock_rdlock(&db->resize_lock);
		int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&db->resize_lock);
			adopt_map(db);
			continue;
		}
		if (rc) {
			pthread_rwlock_unlock(&db->resize_lock);
			return loyi_mdb_err(rc);
		}
		uint64_t seen_size = db->map_size;   /* stable while the lock is held shared */
		rc = body(db, txn, arg);
		if (rc != PM_OK) {
			mdb_txn_abort(txn);
			pthread_rwlock_unlock(&db->resize_lock);
			if (rc == LOYI_GROW) {
				if ((rc = grow_map(db, seen_size)) != PM_OK)
					return rc;
				continue;
			}
			return rc;
		}
		rc = mdb_txn_commit(txn);
		pthread_rwlock_unlock(&db->resize_lock);
		if (rc == MDB_MAP_FULL) {
			if ((rc = grow_map(db, seen_size)) != PM_OK)
				return rc;
			continue;
		}
		if (rc) {
			pm_warn("purchase log commit failed: %s", mdb_strerror(rc));
			return loyi_mdb_err(rc);
		}
		if (committed)
			*committed = true;
		/* With MDB_NOMETASYNC the commit record is written but not synced. */
		if (db->cfg.defer_meta_sync && !db->cfg.bulk_nosync && !defer &&
		    (rc = mdb_env_sync(db->env, 1))) {
			pm_warn("purchase log sync failed: %s", mdb_strerror(rc));
			return PM_EIO;
		}
		return PM_OK;
	}
	return PM_EFULL;
}

int loy_sync(struct loy_db *db)
{
	int rc = mdb_env_sync(db->env, 1);
	if (rc) {
		pm_warn("purchase log sync failed: %s", mdb_strerror(rc));
		return PM_EIO;
	}
	db->deferred_unsynced = false;
	return PM_OK;
}

int loyi_walk_after(struct loy_db *db, MDB_dbi dbi, uint64_t after_seq, size_t max,
		    int (*each)(struct loy_db *, uint64_t, const MDB_val *, void *), void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint64_t start = after_seq + 1, seq;
	MDB_val k = { sizeof(start), &start }, v;
	size_t n = 0;
	int rc = loyi_read_begin(db, &txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur))) {
		loyi_read_end(db, txn);
		return loyi_mdb_err(rc);
	}
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && (max == 0 || n < max)) {
		memcpy(&seq, k.mv_data, sizeof(seq));
		if ((rc = each(db, seq, &v, ctx)))
			break;
		n++;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = loyi_mdb_err(mrc);
	mdb_cursor_close(cur);
	loyi_read_end(db, txn);
	return rc;
}

int loyi_meta_get_u64(struct loy_db *db, MDB_txn *txn, const char *key, uint64_t *out)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(txn, db->meta, &k, &v);
	*out = 0;
	if (rc == MDB_NOTFOUND)
		return PM_OK;
	if (rc)
		return loyi_mdb_err(rc);
	if (v.mv_size != 8)
		return PM_ECORRUPT;
	memcpy(out, v.mv_data, 8);
	return PM_OK;
}

int loyi_last_sale_seq(struct loy_db *db, MDB_txn *txn, uint64_t *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, db->sales, &cur);
	*out = 0;
	if (rc)
		return loyi_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		memcpy(out, k.mv_data, 8);
	mdb_cursor_close(cur);
	return (rc == 0 || rc == MDB_NOTFOUND) ? PM_OK : loyi_mdb_err(rc);
}

int loyi_meta_put_u64(struct loy_db *db, MDB_txn *txn, const char *key, uint64_t val)
{
	MDB_val k = { strlen(key), (void *)key }, v = { 8, &val };
	return loyi_mdb_err(mdb_put(txn, db->meta, &k, &v, 0));
}

static int mkdir_p(const char *dir)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0750) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Open every named database; on a new log, stamp magic and format. */
int loyi_open_dbis(struct loy_db *db, MDB_txn *txn, char *errbuf, size_t errlen)
{
	MDB_val k = { sizeof(LOY_MAGIC) - 1, LOY_MAGIC }, v;
	MDB_dbi main_dbi;
	MDB_stat st;
	int rc = mdb_dbi_open(txn, "meta", 0, &db->meta);

	if (rc == MDB_NOTFOUND) {
		/* No meta: either a brand-new environment or someone else's LMDB. */
		if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) == 0 &&
		    (rc = mdb_stat(txn, main_dbi, &st)) == 0 && st.ms_entries > 0) {
			snprintf(errbuf, errlen, "'%s' holds an LMDB database that is not a posmark purchase "
				 "log; point --data at an empty or posmark directory", db->dir);
			return PM_ECORRUPT;
		}
		if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &db->meta)))
			return loyi_mdb_err(rc);
		uint64_t fmt = LOY_FORMAT_VERSION;
		MDB_val mk = { 5, "magic" }, fk = { 6, "format" }, fv = { 8, &fmt };
		MDB_val tk = { 8, "terminal" }, tv = { strlen(db->cfg.terminal_id), db->cfg.terminal_id };
		if ((rc = mdb_put(txn, db->meta, &mk, &k, 0)) || (rc = mdb_put(txn, db->meta, &fk, &fv, 0)) ||
		    (rc = mdb_put(txn, db->meta, &tk, &tv, 0)))
			return loyi_mdb_err(rc);
	} else if (rc) {
		return loyi_mdb_err(rc);
	} else {
		MDB_val mk = { 5, "magic" };
		uint64_t fmt;
		if (mdb_get(txn, db->meta, &mk, &v) || v.mv_size != k.mv_size ||
		    memcmp(v.mv_data, k.mv_data, k.mv_size)) {
			snprintf(errbuf, errlen, "'%s' is an LMDB database but not a posmark purchase log; "
				 "point --data at an empty or posmark directory", db->dir);
			return PM_ECORRUPT;
		}
		if ((rc = loyi_meta_get_u64(db, txn, "format", &fmt)))
			return rc;
		if (fmt > LOY_FORMAT_VERSION) {
			snprintf(errbuf, errlen, "purchase log '%s' has format v%llu, this posmark reads v%d; "
				 "upgrade posmark", db->dir, (unsigned long long)fmt, LOY_FORMAT_VERSION);
			return PM_EVERSION;
		}
		/* A v1 log is upgraded in place: its records stay v1 (they still read),
		 * new ones are v2, so an older posmark must not open it any more. */
		if (fmt < LOY_FORMAT_VERSION && (rc = loyi_meta_put_u64(db, txn, "format", LOY_FORMAT_VERSION)))
			return rc;
	}
	if ((rc = mdb_dbi_open(txn, "sales", MDB_CREATE | MDB_INTEGERKEY, &db->sales)) ||
	    (rc = mdb_dbi_open(txn, "card_idx", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &db->card_idx)) ||
	    (rc = mdb_dbi_open(txn, "cards", MDB_CREATE, &db->cards)) ||
	    (rc = mdb_dbi_open(txn, "ext_ids", MDB_CREATE, &db->ext_ids)) ||
	    (rc = mdb_dbi_open(txn, "coupons", MDB_CREATE, &db->coupons)) ||
	    (rc = mdb_dbi_open(txn, "catalog", MDB_CREATE, &db->catalog)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_CREATE | MDB_INTEGERKEY, &db->events)) ||
	    (rc = mdb_dbi_open(txn, "offer_caps", MDB_CREATE, &db->offer_caps)) ||
	    (rc = mdb_dbi_open(txn, "returned", MDB_CREATE, &db->returned)) ||
	    (rc = mdb_dbi_open(txn, "bought", MDB_CREATE, &db->bought)) ||
	    /* Added within format v2: created here on a log that lacks it (docs/storage.md). */
	    (rc = mdb_dbi_open(txn, "print_queue", MDB_CREATE | MDB_INTEGERKEY, &db->print_queue)))
		return loyi_mdb_err(rc);
	return PM_OK;
}

int loy_open(const char *dir, const struct loy_config *cfg, struct loy_db **out,
	     char *errbuf, size_t errlen)
{
	struct loy_db *db;
	MDB_txn *txn;
	MDB_envinfo info;
	char dummy[8];
	int rc;

	*out = NULL;
	if (!errbuf) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	if (!dir || !*dir)
		return PM_EINVAL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return PM_ENOMEM;
	snprintf(db->dir, sizeof(db->dir), "%s", dir);
	pthread_rwlock_init(&db->resize_lock, NULL);
	if (cfg)
		db->cfg = *cfg;
	else
		loy_config_default(&db->cfg);
	if ((rc = mkdir_p(dir)) < 0) {
		snprintf(errbuf, errlen, "cannot create purchase log directory '%s': %s", dir, strerror(-rc));
		free(db);
		return pm_from_errno(-rc);
	}
	/* Damaged logs (db_check.c): refused here, before LMDB maps the file. */
	if ((rc = loyi_check_file(dir, false, NULL, errbuf, errlen)) != PM_OK) {
		free(db);
		return rc;
	}
	if ((rc = mdb_env_create(&db->env)) != 0) {
		free(db);
		return loyi_mdb_err(rc);
	}
	mdb_env_set_assert(db->env, loyi_assert_hook);
	mdb_env_set_maxdbs(db->env, 16);
	mdb_env_set_maxreaders(db->env, 126);
	mdb_env_set_mapsize(db->env, (size_t)db->cfg.map_size_initial);
	unsigned env_flags = MDB_NOTLS;
	if (db->cfg.bulk_nosync)
		env_flags |= MDB_NOSYNC;
	else if (db->cfg.defer_meta_sync)
		env_flags |= MDB_NOMETASYNC;
	rc = mdb_env_open(db->env, dir, env_flags, 0640);
	if (rc) {
		int pm = loyi_mdb_err(rc);
		if (pm == PM_ECORRUPT || pm == PM_EVERSION)
			snprintf(errbuf, errlen, "'%s/data.mdb' is not a readable LMDB file (%s); restore it "
				 "from backup or point --data at another directory", dir, mdb_strerror(rc));
		else
			snprintf(errbuf, errlen, "cannot open purchase log '%s': %s", dir, mdb_strerror(rc));
		mdb_env_close(db->env);
		free(db);
		return pm;
	}
	/* A file bigger than our configured map: LMDB already adopted its size. */
	if (mdb_env_info(db->env, &info) == 0)
		db->map_size = info.me_mapsize;
	rc = mdb_txn_begin(db->env, NULL, 0, &txn);
	if (rc == 0) {
		rc = loyi_open_dbis(db, txn, errbuf, errlen);
		if (rc == PM_OK)
			rc = loyi_mdb_err(mdb_txn_commit(txn));
		else
			mdb_txn_abort(txn);
	} else {
		rc = loyi_mdb_err(rc);
	}
	if (rc != PM_OK) {
		if (!errbuf[0])
			snprintf(errbuf, errlen, "cannot open purchase log '%s': %s", dir, pm_strerror(rc));
		mdb_env_close(db->env);
		free(db);
		return rc == LOYI_GROW ? PM_EFULL : rc;
	}
	loyi_map_register(db);
	*out = db;
	return PM_OK;
}

void loy_close(struct loy_db *db)
{
	if (!db)
		return;
	if (db->cfg.bulk_nosync || db->cfg.defer_meta_sync)
		mdb_env_sync(db->env, 1);
	loyi_map_forget(db);
	mdb_env_close(db->env);
	if (db->compact_lfd_plus1)
		close(db->compact_lfd_plus1 - 1);   /* after the env: see compact.c */
	pthread_rwlock_destroy(&db->resize_lock);
	loyi_scratch_free(&db->scratch);
	free(db);
}

int loy_stats(struct loy_db *db, struct loy_stats *out)
{
	MDB_txn *txn;
	MDB_stat st;
	MDB_envinfo info;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = loyi_read_begin(db, &txn)))
		return rc;
	loyi_last_sale_seq(db, txn, &out->last_sale_seq);
	loyi_meta_get_u64(db, txn, "sales_acked", &out->sales_acked);
	loyi_meta_get_u64(db, txn, "last_event_seq", &out->last_event_seq);
	loyi_meta_get_u64(db, txn, "events_acked", &out->events_acked);
	if (mdb_stat(txn, db->sales, &st) == 0)
		out->sales = st.ms_entries;
	if (mdb_stat(txn, db->cards, &st) == 0)
		out->cards = st.ms_entries;
	if (mdb_env_info(db->env, &info) == 0 && mdb_env_stat(db->env, &st) == 0) {
		out->map_size = info.me_mapsize;
		out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	}
	loyi_read_end(db, txn);
	return PM_OK;
}

struct wm_arg {
	const char *key;
	uint64_t seq;
};

static int wm_body(struct loy_db *db, MDB_txn *txn, void *arg)
{
	struct wm_arg *a = arg;
	uint64_t cur;
	int rc = loyi_meta_get_u64(db, txn, a->key, &cur);
	if (rc)
		return rc;
	if (a->seq <= cur)
		return PM_OK;
	return loyi_meta_put_u64(db, txn, a->key, a->seq);
}

int loy_watermark_set(struct loy_db *db, bool events, uint64_t acked_seq)
{
	struct wm_arg a = { events ? "events_acked" : "sales_acked", acked_seq };
	return loyi_write(db, wm_body, &a);
}
