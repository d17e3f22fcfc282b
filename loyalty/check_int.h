/*
 * check_int.h - private to loyalty/: the damaged-log checks of db_check.c,
 * called by loy_open() (db.c). docs/storage.md, "Damaged logs".
 */
#ifndef LOY_CHECK_INT_H
#define LOY_CHECK_INT_H

#include "loyalty/loyalty.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* liblmdb 0.9's on-disk layout (mdb.c; lmdb.h does not export it): 64-bit
 * page numbers, little-endian, MDB_DATA_VERSION 1. */
#define LMDB_MAGIC 0xBEEFC0DEu
#define LMDB_DATA_VERSION 1u
#define PAGEHDR 16u                 /* pgno u64, pad u16, flags u16, lower u16, upper u16 */
#define P_BRANCH 0x01u
#define P_LEAF 0x02u
#define P_OVERFLOW 0x04u
#define P_META 0x08u
#define P_LEAF2 0x20u               /* DUPFIXED: keys only, mp_pad bytes each */
#define F_BIGDATA 0x01u             /* node flags: value on overflow pages */
#define F_SUBDATA 0x02u             /* value is an MDB_db (a named database, or a dup tree) */
#define F_DUPDATA 0x04u             /* value holds duplicates (an inline sub-page, or a tree) */
#define NODEHDR 8u                  /* lo u16, hi u16, flags u16, ksize u16 */
#define DBREC 48u                   /* MDB_db */
#define PGNO_NONE UINT64_MAX
#define DEPTH_MAX 32u               /* LMDB's CURSOR_STACK */

static inline uint16_t loyi_rd16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t loyi_rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t loyi_rd64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The newest valid meta of an open data.mdb. PM_OK, PM_ECORRUPT (none), PM_EIO. */
struct loyi_snap {
	uint32_t psize;
	uint64_t file_pages, txnid;
	uint64_t main_root;             /* PGNO_NONE = empty */
	uint16_t main_depth;
};
int loyi_snapshot(int fd, struct loyi_snap *out);

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
