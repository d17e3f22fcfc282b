/*
 * compact.c - rewriting the purchase log after an erasure, so that the
 * erased card's old bytes are nowhere in data.mdb (docs/privacy.md, "At the
 * store"). LMDB leaves a deleted or rewritten record's bytes in free pages
 * and in the unused middle of live pages (a node deleted from a page is
 * closed up, not wiped), and mdb_env_copy with MDB_CP_COMPACT copies live
 * pages whole, middle included. So the log is rebuilt record by record
 * into a fresh environment that never held the erased bytes, and that file
 * replaces data.mdb by rename.
 */
#include "loyalty/loy_int.h"
#include "loyalty/check_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMPACT_SUBDIR ".compact"

int loy_compact_pending(struct loy_db *db, bool *pending)
{
	MDB_txn *txn;
	uint64_t v = 0;
	int rc = loyi_read_begin(db, &txn);
	*pending = false;
	if (rc)
		return rc;
	rc = loyi_meta_get_u64(db, txn, LOYI_COMPACT_PENDING, &v);
	loyi_read_end(db, txn);
	*pending = v != 0;
	return rc;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

static int fsync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return PM_EIO;
	int rc = fsync(fd) ? PM_EIO : PM_OK;
	close(fd);
	return rc;
}

/* A leftover of an interrupted compaction: its files, then the directory. */
static void remove_tmp(const char *tmp)
{
	char p[4200];
	DIR *d = opendir(tmp);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", tmp, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(tmp);
}

struct copy_arg {
	MDB_txn *src;                 /* read transaction of the old log */
	uint64_t records;
	char failed[64];              /* the database that could not be copied */
};

/* One named database of the old log into the new, in key order (MDB_APPEND). */
static int copy_db(MDB_txn *src, MDB_txn *dst, const char *name, uint64_t *records)
{
	MDB_dbi sdbi, ddbi;
	unsigned flags;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	if ((rc = mdb_dbi_open(src, name, 0, &sdbi)) || (rc = mdb_dbi_flags(src, sdbi, &flags)))
		return loyi_mdb_err(rc);
	flags &= MDB_REVERSEKEY | MDB_DUPSORT | MDB_INTEGERKEY | MDB_DUPFIXED | MDB_INTEGERDUP | MDB_REVERSEDUP;
	if ((rc = mdb_dbi_open(dst, name, flags | MDB_CREATE, &ddbi)) || (rc = mdb_cursor_open(src, sdbi, &cur)))
		return loyi_mdb_err(rc);
	bool meta = !strcmp(name, "meta");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* The new log has nothing to compact: the mark stays behind. */
		if (meta && k.mv_size == strlen(LOYI_COMPACT_PENDING) &&
		    !memcmp(k.mv_data, LOYI_COMPACT_PENDING, k.mv_size))
			continue;
		/* meta already holds what loy_open stamped: plain puts there. */
		int prc = mdb_put(dst, ddbi, &k, &v, meta ? 0 : (flags & MDB_DUPSORT) ? MDB_APPENDDUP : MDB_APPEND);
		if (prc) {
			mdb_cursor_close(cur);
			return loyi_mdb_err(prc);
		}
		(*records)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? PM_OK : loyi_mdb_err(rc);
}

static int copy_body(struct loy_db *dst, MDB_txn *txn, void *arg)
{
	struct copy_arg *a = arg;
	MDB_dbi main_dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	char name[64];
	int rc = mdb_dbi_open(a->src, NULL, 0, &main_dbi);
	(void)dst;
	a->records = 0;
	if (rc || (rc = mdb_cursor_open(a->src, main_dbi, &cur)))
		return loyi_mdb_err(rc);
	/* The main database lists the named ones (and holds nothing else in a posmark log). */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 0 || k.mv_size >= sizeof(name)) {
			rc = PM_ECORRUPT;
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((rc = copy_db(a->src, txn, name, &a->records))) {
			snprintf(a->failed, sizeof(a->failed), "%s", name);
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? PM_OK : rc;
}

/*
 * Build DIR/.compact/data.mdb from the log in DIR (read without LMDB's lock
 * file: the caller holds it exclusively) and rename it over DIR/data.mdb.
 */
static int rebuild(struct loy_db *db, struct loy_compact_report *rep, char *errbuf, size_t errlen)
{
	char tmp[4200], tmp_data[4300], data[4300];
	MDB_env *src = NULL;
	MDB_txn *stxn = NULL;
	struct loy_db *dst = NULL;
	struct loy_config cfg = db->cfg;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s/" COMPACT_SUBDIR, db->dir);
	snprintf(tmp_data, sizeof(tmp_data), "%s/data.mdb", tmp);
	snprintf(data, sizeof(data), "%s/data.mdb", db->dir);
	remove_tmp(tmp);
	rep->bytes_before = file_size(data);
	if ((rc = mdb_env_create(&src)) || (rc = mdb_env_set_maxdbs(src, 16)) ||
	    (rc = mdb_env_set_mapsize(src, (size_t)db->map_size)) ||
	    (rc = mdb_env_open(src, db->dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0640)) ||
	    (rc = mdb_txn_begin(src, NULL, MDB_RDONLY, &stxn))) {
		snprintf(errbuf, errlen, "cannot read purchase log '%s' to compact it: %s", db->dir, mdb_strerror(rc));
		rc = loyi_mdb_err(rc);
		goto out_close_src;
	}
	/* The new environment: the same map size, synced once at its close. */
	cfg.map_size_initial = db->map_size;
	cfg.bulk_nosync = true;
	cfg.defer_meta_sync = false;
	if ((rc = loy_open(tmp, &cfg, &dst, errbuf, errlen)))
		goto out_close_src;
	struct copy_arg a = { stxn, 0, "" };
	rc = loyi_write(dst, copy_body, &a);
	rep->records = a.records;
	loy_close(dst);   /* syncs (bulk_nosync) */
	if (rc) {
		snprintf(errbuf, errlen, "cannot write the compacted copy of purchase log '%s' in '%s'%s%s: %s", db->dir,
			 tmp, a.failed[0] ? ", database " : "", a.failed, pm_strerror(rc));
		goto out_close_src;
	}
	if (fsync_path(tmp_data, false) || rename(tmp_data, data) || fsync_path(db->dir, true)) {
		snprintf(errbuf, errlen, "cannot put the compacted purchase log in place of '%s': %s", data,
			 strerror(errno));
		rc = PM_EIO;
		goto out_close_src;
	}
	rep->bytes_after = file_size(data);
	rc = PM_OK;
out_close_src:
	if (stxn)
		mdb_txn_abort(stxn);
	mdb_env_close(src);
	remove_tmp(tmp);
	return rc;
}

/* The environment of db->dir into db->env again, as loy_open does (db.c). */
static int reopen(struct loy_db *db, char *errbuf, size_t errlen)
{
	MDB_txn *txn;
	MDB_envinfo info;
	unsigned flags = MDB_NOTLS;
	int rc;
	if (db->cfg.bulk_nosync)
		flags |= MDB_NOSYNC;
	else if (db->cfg.defer_meta_sync)
		flags |= MDB_NOMETASYNC;
	if ((rc = mdb_env_create(&db->env)))
		goto out_fail;
	mdb_env_set_assert(db->env, loyi_assert_hook);
	mdb_env_set_maxdbs(db->env, 16);
	mdb_env_set_maxreaders(db->env, 126);
	mdb_env_set_mapsize(db->env, (size_t)db->map_size);
	if ((rc = mdb_env_open(db->env, db->dir, flags, 0640)))
		goto out_close;
	if (mdb_env_info(db->env, &info) == 0)
		db->map_size = info.me_mapsize;
	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)))
		goto out_close;
	int prc = loyi_open_dbis(db, txn, errbuf, errlen);
	if (prc) {
		mdb_txn_abort(txn);
		mdb_env_close(db->env);
		db->env = NULL;
		return prc;
	}
	if ((rc = mdb_txn_commit(txn)))
		goto out_close;
	loyi_map_register(db);
	return PM_OK;
out_close:
	mdb_env_close(db->env);
	db->env = NULL;
out_fail:
	snprintf(errbuf, errlen, "cannot reopen purchase log '%s' after compacting it: %s", db->dir, mdb_strerror(rc));
	return loyi_mdb_err(rc);
}

/* lock.mdb's first byte exclusively, without waiting: no other process has the log open. */
static int lock_exclusive(struct loy_db *db)
{
	char path[4200];
	if (!db->compact_lfd_plus1) {
		snprintf(path, sizeof(path), "%s/lock.mdb", db->dir);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0)
			return PM_EIO;
		db->compact_lfd_plus1 = fd + 1;
	}
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	return fcntl(db->compact_lfd_plus1 - 1, F_SETLK, &fl) ? PM_EBUSY : PM_OK;
}

int loy_compact(struct loy_db *db, struct loy_compact_report *rep, char *errbuf, size_t errlen)
{
	struct loy_compact_report dummy;
	char tmp[8];
	int rc, orc;
	if (!rep)
		rep = &dummy;
	if (!errbuf) {
		errbuf = tmp;
		errlen = sizeof(tmp);
	}
	memset(rep, 0, sizeof(*rep));
	errbuf[0] = '\0';
	if (!db->env)
		return PM_EBADSTATE;
	/* No transaction of this process from here on (the map-growth lock). */
	pthread_rwlock_wrlock(&db->resize_lock);
	if (mdb_env_sync(db->env, 1)) {
		pthread_rwlock_unlock(&db->resize_lock);
		snprintf(errbuf, errlen, "cannot sync purchase log '%s' before compacting it", db->dir);
		return PM_EIO;
	}
	db->deferred_unsynced = false;
	loyi_map_forget(db);
	/* Closing drops this process's shared lock on lock.mdb (fcntl locks are per
	 * process): if the exclusive one is then granted, nobody else has it open. */
	mdb_env_close(db->env);
	db->env = NULL;
	rc = lock_exclusive(db);
	if (rc == PM_EBUSY)
		snprintf(errbuf, errlen, "purchase log '%s' is open in another process (a posmark daemon, a sync or "
			 "a command still running); it is compacted when nothing else has it open", db->dir);
	else if (rc)
		snprintf(errbuf, errlen, "cannot open '%s/lock.mdb': %s", db->dir, strerror(errno));
	else
		rc = rebuild(db, rep, errbuf, errlen);
	/*
	 * Reopen while the exclusive lock is held: LMDB, finding itself first,
	 * rebuilds lock.mdb for the new file and turns the process's lock back
	 * to shared; only then can a process waiting in its open go on. The lock
	 * fd stays open until loy_close (closing it would drop the env's lock).
	 */
	orc = reopen(db, errbuf[0] ? tmp : errbuf, errbuf[0] ? sizeof(tmp) : errlen);
	pthread_rwlock_unlock(&db->resize_lock);
	if (orc) {
		pm_err("purchase log '%s' could not be reopened after a compaction: %s", db->dir, pm_strerror(orc));
		return PM_EBADSTATE;
	}
	if (rc == PM_OK)
		pm_info("purchase log compacted after an erasure: %llu records, %llu KiB -> %llu KiB",
			(unsigned long long)rep->records, (unsigned long long)(rep->bytes_before / 1024),
			(unsigned long long)(rep->bytes_after / 1024));
	return rc;
}
