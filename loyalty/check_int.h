/*
 * check_int.h - private to loyalty/: the damaged-log checks of db_check.c,
 * called by loy_open() (db.c). docs/storage.md, "Damaged logs".
 */
#ifndef LOY_CHECK_INT_H
#define LOY_CHECK_INT_H

#include "loyalty/loyalty.h"

#include <lmdb.h>
#include <stdbool.h>

/*
 * Check DIR/data.mdb against its meta pages before LMDB maps it: both metas
 * (page flag, magic, version, page size, roots within the log), the file's
 * size against every page the newest snapshot reaches (so a truncated file is
 * refused here, not met as a SIGBUS), and each tree's branch pages (all pages
 * with full, or when the file is shorter than its last page). One damaged
 * meta with the other intact is rewritten from the intact one when no other
 * process has the log open (a warning says so; rep->meta_repaired).
 * An absent or empty file is a new log: PM_OK.
 * Returns PM_OK, PM_ECORRUPT with "purchase log 'DIR/data.mdb' is damaged:
 * WHAT" in errbuf, PM_ENOMEM. rep (may be NULL) gets what was read.
 */
int loyi_check_file(const char *dir, bool full, struct loy_check_report *rep, char *errbuf,
		    size_t errlen);
/* Tell the fault check where db's map lies (after open and after every
 * remap); a fault there prints that DIR/data.mdb is damaged, with the hint. */
struct loy_db;
void loyi_map_register(struct loy_db *db);
void loyi_map_forget(struct loy_db *db);
/* LMDB's assert hook (mdb_env_set_assert): hands the damage to the handler. */
void loyi_assert_hook(MDB_env *env, const char *msg);

#endif
