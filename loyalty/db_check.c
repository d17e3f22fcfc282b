/*
 * db_check.c - is data.mdb whole? Checked against its own meta pages before
 * LMDB maps it (docs/storage.md, "Damaged logs").
 *
 * LMDB keeps no checksums, so this checks what can be checked: both meta
 * pages (page flag, magic, data version, page size, the page numbers they
 * name within the file), the file's size against every page the newest
 * snapshot can reach, and each tree's pages as far as they are read (their
 * page number stamped in the header, their kind, their bounds). It reads the
 * file with pread only: a page past the end is found here instead of by a
 * SIGBUS in the map later.
 *
 * The on-disk layout is LMDB 0.9's (liblmdb 0.9.x, MDB_DATA_VERSION 1, 64-bit
 * page numbers): mdb.c's MDB_page, MDB_meta, MDB_db and MDB_node, restated
 * here because lmdb.h does not export them.
 *
 * One meta page damaged, the other intact: LMDB 0.9 refuses the file
 * (mdb_env_read_header wants both; MDB_PREVSNAPSHOT only exists in 0.9.27+
 * and LMDB 1.0). The intact one is copied over the damaged one, only while
 * no other process has the log open (the write lock LMDB's processes hold
 * shared on lock.mdb's first byte), and the log opens from it.
 */
#include "loyalty/loy_int.h"
#include "loyalty/check_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>


struct db_rec {
	uint32_t pad;                   /* key size of LEAF2 pages (DUPFIXED) */
	uint16_t flags, depth;
	uint64_t entries, root;
};

struct meta {
	bool ok;
	char why[120];
	uint32_t psize;
	uint64_t last_pg, txnid, mapsize;
	struct db_rec free_db, main_db;
};

struct walk {
	int fd;
	uint32_t psize;
	uint64_t file_pages;
	bool leaves;                    /* read leaf pages too (overflow ranges, sub-databases) */
	/* One page buffer per level, counted through sub-trees (a named
	 * database under the main one, a card's duplicates under card_idx). */
	unsigned char *buf[3 * DEPTH_MAX + 3];
	struct loy_check_report *rep;
	char why[200];
};

#define rd16 loyi_rd16
#define rd32 loyi_rd32
#define rd64 loyi_rd64

static void db_rec_read(const unsigned char *p, struct db_rec *d)
{
	d->pad = rd32(p);
	d->flags = rd16(p + 4);
	d->depth = rd16(p + 6);
	d->entries = rd64(p + 32);
	d->root = rd64(p + 40);
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static bool root_sane(const struct db_rec *d, uint64_t last_pg)
{
	if (d->root == PGNO_NONE)
		return d->depth == 0;
	return d->depth >= 1 && d->depth <= DEPTH_MAX && d->root >= 2 && d->root <= last_pg;
}

/* Meta page `idx`, read at idx * psize. */
static void meta_read(int fd, int idx, uint32_t psize, struct meta *m)
{
	unsigned char p[PAGEHDR + 136];
	memset(m, 0, sizeof(*m));
	if (read_at(fd, p, sizeof(p), (uint64_t)idx * psize)) {
		snprintf(m->why, sizeof(m->why), "meta page %d cannot be read (the file is too short)", idx);
		return;
	}
	const unsigned char *mm = p + PAGEHDR;
	uint16_t flags = rd16(p + 10);
	m->psize = rd32(mm + 24);
	m->mapsize = rd64(mm + 16);
	db_rec_read(mm + 24, &m->free_db);
	db_rec_read(mm + 24 + DBREC, &m->main_db);
	m->last_pg = rd64(mm + 120);
	m->txnid = rd64(mm + 128);
	if (!(flags & P_META) || rd64(p) != (uint64_t)idx)
		snprintf(m->why, sizeof(m->why), "meta page %d is not a meta page", idx);
	else if (rd32(mm) != LMDB_MAGIC)
		snprintf(m->why, sizeof(m->why), "meta page %d has no LMDB magic", idx);
	else if (rd32(mm + 4) != LMDB_DATA_VERSION)
		snprintf(m->why, sizeof(m->why), "meta page %d has LMDB data version %u, not %u", idx,
			 rd32(mm + 4), LMDB_DATA_VERSION);
	else if (m->psize != psize)
		snprintf(m->why, sizeof(m->why), "meta page %d says page size %u", idx, m->psize);
	else if (m->last_pg < 1 || !root_sane(&m->free_db, m->last_pg) || !root_sane(&m->main_db, m->last_pg))
		snprintf(m->why, sizeof(m->why), "meta page %d names pages outside the log (last page %" PRIu64
			 ", roots %" PRIu64 " and %" PRIu64 ")", idx, m->last_pg, m->main_db.root,
			 m->free_db.root);
	else
		m->ok = true;
}

/* The page size: meta 0's, else the one at which meta 1 is found. */
static uint32_t find_psize(int fd, uint64_t size)
{
	unsigned char p[PAGEHDR + 32];
	if (read_at(fd, p, sizeof(p), 0) == 0 && (rd16(p + 10) & P_META) && rd32(p + PAGEHDR) == LMDB_MAGIC) {
		uint32_t ps = rd32(p + PAGEHDR + 24);
		if (ps >= 512 && ps <= 65536 && !(ps & (ps - 1)))
			return ps;
	}
	for (uint32_t ps = 512; ps <= 65536; ps *= 2) {
		if ((uint64_t)ps * 2 > size)
			break;
		if (read_at(fd, p, sizeof(p), ps) == 0 && (rd16(p + 10) & P_META) && rd64(p) == 1 &&
		    rd32(p + PAGEHDR) == LMDB_MAGIC && rd32(p + PAGEHDR + 24) == ps)
			return ps;
	}
	long sys = sysconf(_SC_PAGESIZE);
	return sys > 0 ? (uint32_t)sys : 4096;
}

static int walk_tree(struct walk *w, const struct db_rec *d, const char *name, bool force, unsigned base);

static int bad_node(struct walk *w, const char *name, uint64_t pgno)
{
	snprintf(w->why, sizeof(w->why), "%s: page %" PRIu64 " has an entry outside the page", name, pgno);
	return PM_ECORRUPT;
}

/* One entry of a leaf page (already read into w->buf[base + lvl]) at offset off:
 * its value within the page, its overflow pages, or its sub-tree. */
static int walk_leaf_node(struct walk *w, uint64_t pgno, uint16_t off, const char *name, unsigned lvl,
			  unsigned base)
{
	const unsigned char *nd = w->buf[base + lvl] + off;
	uint16_t nflags = rd16(nd + 4), ksize = rd16(nd + 6);
	uint32_t dsize = rd16(nd) | ((uint32_t)rd16(nd + 2) << 16);
	uint32_t stored = (nflags & F_BIGDATA) ? 8u : dsize;
	if ((uint64_t)off + NODEHDR + ksize + stored > w->psize)
		return bad_node(w, name, pgno);
	const unsigned char *data = nd + NODEHDR + ksize;
	if (w->rep)
		w->rep->entries++;
	if (nflags & F_BIGDATA) {
		uint64_t ov = rd64(data), npages = ((uint64_t)dsize + PAGEHDR + w->psize - 1) / w->psize;
		unsigned char h[PAGEHDR];
		if (ov < 2 || ov + npages > w->file_pages || read_at(w->fd, h, sizeof(h), ov * w->psize) ||
		    rd64(h) != ov || !(rd16(h + 10) & P_OVERFLOW) || rd32(h + 12) < npages) {
			snprintf(w->why, sizeof(w->why), "%s: the overflow pages at %" PRIu64 " (%" PRIu64
				 " page(s)) are damaged or past the end of the file", name, ov, npages);
			return PM_ECORRUPT;
		}
		if (w->rep)
			w->rep->pages += npages;
	} else if (nflags & F_SUBDATA) {
		if (dsize != DBREC)
			return bad_node(w, name, pgno);
		struct db_rec sub;
		db_rec_read(data, &sub);
		char subname[64];
		if (nflags & F_DUPDATA)
			snprintf(subname, sizeof(subname), "%s (duplicates)", name);
		else
			snprintf(subname, sizeof(subname), "'%.*s'", ksize > 40 ? 40 : (int)ksize, nd + NODEHDR);
		int rc = walk_tree(w, &sub, subname, false, base + lvl + 1);
		if (rc)
			return rc;
	} else if (nflags & F_DUPDATA) {
		/* An inline sub-page: its header must fit in the node. */
		if (dsize < PAGEHDR || rd16(data + 12) > dsize || rd16(data + 14) > dsize)
			return bad_node(w, name, pgno);
	}
	return PM_OK;
}

/*
 * One page of a tree at level `lvl` (0 = root) of `depth`; leaf2 for the
 * DUPFIXED sub-trees (P_LEAF2 leaves). Leaves are read when w->leaves or
 * force (the main database: its leaves hold the named databases), and the
 * root always; otherwise only their page numbers are checked.
 */
static int walk_page(struct walk *w, uint64_t pgno, unsigned lvl, unsigned depth, bool leaf2,
		     const char *name, bool force, unsigned base)
{
	if (pgno < 2 || pgno >= w->file_pages) {
		snprintf(w->why, sizeof(w->why), "%s: page %" PRIu64 " is %s", name, pgno,
			 pgno < 2 ? "a meta page" : "past the end of the file (truncated?)");
		return PM_ECORRUPT;
	}
	bool is_leaf_level = lvl + 1 == depth;
	if (is_leaf_level && lvl > 0 && !w->leaves && !force)
		return PM_OK;   /* in range: enough for a map that must not fault */
	if (base + lvl >= sizeof(w->buf) / sizeof(w->buf[0])) {
		snprintf(w->why, sizeof(w->why), "%s: page %" PRIu64 " nests too deep", name, pgno);
		return PM_ECORRUPT;
	}
	if (!w->buf[base + lvl] && !(w->buf[base + lvl] = malloc(w->psize)))
		return PM_ENOMEM;
	unsigned char *pg = w->buf[base + lvl];
	if (read_at(w->fd, pg, w->psize, pgno * w->psize)) {
		snprintf(w->why, sizeof(w->why), "%s: page %" PRIu64 " cannot be read", name, pgno);
		return PM_ECORRUPT;
	}
	uint16_t flags = rd16(pg + 10), lower = rd16(pg + 12), upper = rd16(pg + 14);
	uint16_t want = is_leaf_level ? (uint16_t)(leaf2 ? P_LEAF | P_LEAF2 : P_LEAF) : (uint16_t)P_BRANCH;
	if (rd64(pg) != pgno || (flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2)) != want ||
	    lower < PAGEHDR || lower > upper || upper > w->psize) {
		snprintf(w->why, sizeof(w->why), "%s: page %" PRIu64 " is damaged (header says page %" PRIu64
			 ", flags 0x%x)", name, pgno, rd64(pg), flags);
		return PM_ECORRUPT;
	}
	if (w->rep)
		w->rep->pages++;
	if (flags & P_LEAF2)
		return PM_OK;   /* fixed-size keys only, bounds checked above */
	unsigned n = (lower - PAGEHDR) / 2u;
	if (!is_leaf_level && n == 0)
		goto bad_node;
	for (unsigned i = 0; i < n; i++) {
		uint16_t off = rd16(pg + PAGEHDR + 2 * i);
		if (off < upper || (uint32_t)off + NODEHDR > w->psize)
			goto bad_node;
		const unsigned char *nd = pg + off;
		uint16_t nflags = rd16(nd + 4), ksize = rd16(nd + 6);
		if (!is_leaf_level) {
			if ((uint32_t)off + NODEHDR + ksize > w->psize)
				goto bad_node;
			uint64_t child = rd16(nd) | ((uint64_t)rd16(nd + 2) << 16) | ((uint64_t)nflags << 32);
			int rc = walk_page(w, child, lvl + 1, depth, leaf2, name, force, base);
			if (rc)
				return rc;
			/* The child clobbered nothing of ours: each level has its own buffer. */
			continue;
		}
		int rc = walk_leaf_node(w, pgno, off, name, lvl, base);
		if (rc)
			return rc;
	}
	return PM_OK;
bad_node:
	snprintf(w->why, sizeof(w->why), "%s: page %" PRIu64 " has an entry outside the page", name, pgno);
	return PM_ECORRUPT;
}

static int walk_tree(struct walk *w, const struct db_rec *d, const char *name, bool force, unsigned base)
{
	if (d->root == PGNO_NONE)
		return PM_OK;
	if (d->depth < 1 || d->depth > DEPTH_MAX) {
		snprintf(w->why, sizeof(w->why), "%s: tree depth %u is impossible", name, d->depth);
		return PM_ECORRUPT;
	}
	/* A DUPSORT sub-tree's record says DUPFIXED without DUPSORT: P_LEAF2 leaves. */
	bool leaf2 = (d->flags & MDB_DUPFIXED) && !(d->flags & MDB_DUPSORT);
	return walk_page(w, d->root, 0, d->depth, leaf2, name, force, base);
}

/* Both metas of an open file; the newest valid one in *use (NULL if none). */
static void metas_read(int fd, uint32_t psize, struct meta m[2], const struct meta **use)
{
	meta_read(fd, 0, psize, &m[0]);
	meta_read(fd, 1, psize, &m[1]);
	*use = NULL;
	if (m[0].ok && (!m[1].ok || m[0].txnid >= m[1].txnid))
		*use = &m[0];
	else if (m[1].ok)
		*use = &m[1];
}

/*
 * Rewrite meta page `bad` from page `good` while no process has the log open.
 * Returns PM_OK, PM_EBUSY (another process has it open) or PM_EIO.
 */
static int meta_repair(const char *dir, int fd, uint32_t psize, int bad, int good)
{
	char lpath[4200];
	snprintf(lpath, sizeof(lpath), "%s/lock.mdb", dir);
	int lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lfd < 0)
		return PM_EIO;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	if (fcntl(lfd, F_SETLK, &fl)) {
		close(lfd);
		return PM_EBUSY;
	}
	int rc = PM_OK;
	unsigned char *pg = malloc(psize);
	if (!pg || read_at(fd, pg, psize, (uint64_t)good * psize))
		rc = PM_EIO;
	if (rc == PM_OK) {
		uint64_t pgno = (uint64_t)bad;
		memcpy(pg, &pgno, 8);
		if (pwrite(fd, pg, psize, (off_t)bad * psize) != (ssize_t)psize || fdatasync(fd))
			rc = PM_EIO;
	}
	free(pg);
	close(lfd);   /* releases the lock: the repair is on disk */
	return rc;
}

static int check_once(const char *dir, int fd, bool full, struct loy_check_report *rep, uint64_t *txnid,
		      char *why, size_t whylen)
{
	struct stat st;
	struct meta m[2];
	const struct meta *use;
	if (fstat(fd, &st))
		return PM_EIO;
	uint64_t size = (uint64_t)st.st_size;
	uint32_t psize = find_psize(fd, size);
	if (size < 2ull * psize) {
		snprintf(why, whylen, "the file is %" PRIu64 " bytes, shorter than its two meta pages", size);
		return PM_ECORRUPT;
	}
	metas_read(fd, psize, m, &use);
	if (!use) {
		snprintf(why, whylen, "not a readable LMDB file, both meta pages are bad (%s; %s)", m[0].why,
			 m[1].why);
		return PM_ECORRUPT;
	}
	*txnid = use->txnid;
	if (!m[0].ok || !m[1].ok) {
		int bad = m[0].ok ? 1 : 0;
		int rc = meta_repair(dir, fd, psize, bad, !bad);
		if (rc == PM_EBUSY) {
			snprintf(why, whylen, "%s (meta page %d is intact); another process has the log open, so "
				 "it cannot be repaired now: stop posmark daemon and rerun", m[bad].why, !bad);
			return PM_ECORRUPT;
		}
		if (rc) {
			snprintf(why, whylen, "%s, and rewriting it from meta page %d failed: %s", m[bad].why, !bad,
				 strerror(errno));
			return PM_ECORRUPT;
		}
		pm_warn("purchase log '%s/data.mdb': %s; rewritten from meta page %d (transaction %" PRIu64
			") so the log opens; a transaction committed just before the damage may be lost: "
			"compare with HQ or run 'posmark log check'", dir, m[bad].why, !bad, use->txnid);
		if (rep)
			rep->meta_repaired = true;
		metas_read(fd, psize, m, &use);
		if (!use)
			return PM_ECORRUPT;
	}
	struct walk w = { .fd = fd, .psize = psize, .file_pages = size / psize, .rep = rep };
	/* A file shorter than the meta's last page: fine only if what lies past the
	 * end is free; every page the snapshot reaches is then read to be sure. */
	w.leaves = full || w.file_pages <= use->last_pg;
	*txnid = use->txnid;
	if (rep) {
		rep->txnid = use->txnid;
		rep->page_size = psize;
		rep->last_page = use->last_pg;
		rep->file_pages = w.file_pages;
	}
	int rc = walk_tree(&w, &use->main_db, "the main database", true, 0);
	if (rc == PM_OK)
		rc = walk_tree(&w, &use->free_db, "the free-page list", false, 0);
	if (rc)
		snprintf(why, whylen, "%s", w.why);
	for (size_t i = 0; i < sizeof(w.buf) / sizeof(w.buf[0]); i++)
		free(w.buf[i]);
	return rc;
}

int loyi_check_file(const char *dir, bool full, struct loy_check_report *rep, char *errbuf, size_t errlen)
{
	char path[4200], why[400] = "";
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (rep)
		memset(rep, 0, sizeof(*rep));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? PM_OK : PM_OK;   /* absent: a new log; unreadable: LMDB says why */
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size == 0) {
		close(fd);
		return PM_OK;   /* LMDB's own "new environment" (created, never written) */
	}
	int rc = PM_OK;
	uint64_t txnid = 0, again = 0;
	/* Another process may commit while we read (we hold no reader slot, and
	 * a meta page being written reads torn): a failure counts only if the
	 * newest snapshot did not move in the walk and 20 ms after it. */
	for (int attempt = 0; attempt < 5; attempt++) {
		txnid = 0;
		rc = check_once(dir, fd, full, rep, &txnid, why, sizeof(why));
		if (rc != PM_ECORRUPT)
			break;
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
		struct meta m[2];
		const struct meta *use;
		struct stat now;
		metas_read(fd, fstat(fd, &now) ? 4096 : find_psize(fd, (uint64_t)now.st_size), m, &use);
		again = use ? use->txnid : 0;
		if (again == txnid && (m[0].ok || m[1].ok) == (txnid != 0))
			break;
	}
	close(fd);
	if (rc == PM_ECORRUPT)
		snprintf(errbuf, errlen, "purchase log '%s' is damaged: %s", path, why);
	else if (rc)
		snprintf(errbuf, errlen, "cannot check purchase log '%s': %s", path, pm_strerror(rc));
	return rc;
}

/* ---- faults inside the map: a damaged page LMDB trusted (see loyalty.h) ---- */

#define MAPS_MAX 8
static struct {
	const void *volatile owner;
	const char *volatile addr;
	volatile size_t size;
	char msg[600];
	volatile size_t msg_len;
} g_maps[MAPS_MAX];
static loy_damage_fn g_damage_fn;

/*
 * Where DIR/data.mdb is mapped in this process: /proc/self/maps, matched by
 * device and inode (mdb_env_info's me_mapaddr is the meta's fixed-map
 * address, NULL here, not the map). false if not found.
 */
static bool map_range(const struct loy_db *db, const char **addr, size_t *size)
{
	char path[4200], line[4600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", db->dir);
	if (stat(path, &st))
		return false;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		unsigned maj, mnr;
		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &off, &maj, &mnr, &ino) == 6 &&
		    ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) && mnr == minor(st.st_dev) &&
		    off == 0) {
			*addr = (const char *)(uintptr_t)start;
			*size = (size_t)(end - start);
			found = true;
		}
	}
	fclose(f);
	return found;
}

void loyi_map_register(struct loy_db *db)
{
	const char *base;
	size_t size;
	if (!map_range(db, &base, &size))
		return;
	int slot = -1;
	for (int i = 0; i < MAPS_MAX && slot < 0; i++)
		if (g_maps[i].owner == db)
			slot = i;
	for (int i = 0; i < MAPS_MAX && slot < 0; i++)
		if (!g_maps[i].owner)
			slot = i;
	if (slot < 0)
		return;   /* more logs open than slots: a fault there stays a crash */
	g_maps[slot].owner = db;
	g_maps[slot].addr = NULL;   /* not matched while it changes */
	snprintf(g_maps[slot].msg, sizeof(g_maps[slot].msg), "posmark: purchase log '%.200s/data.mdb' is "
		 "damaged: a page read from it faulted (truncated, or a damaged page)\nhint: " LOY_DAMAGED_HINT "\n",
		 db->dir);
	g_maps[slot].msg_len = strlen(g_maps[slot].msg);
	g_maps[slot].size = size;
	g_maps[slot].addr = base;
}

void loyi_map_forget(struct loy_db *db)
{
	for (int i = 0; i < MAPS_MAX; i++)
		if (g_maps[i].owner == db) {
			g_maps[i].addr = NULL;
			g_maps[i].msg_len = 0;
			g_maps[i].owner = NULL;
		}
}

const char *loy_fault_in_log(const void *addr, size_t *len)
{
	const char *a = addr;
	for (int i = 0; i < MAPS_MAX; i++) {
		const char *base = g_maps[i].addr;
		if (base && g_maps[i].msg_len && a >= base && a < base + g_maps[i].size) {
			*len = g_maps[i].msg_len;
			return g_maps[i].msg;
		}
	}
	return NULL;
}

void loy_set_damage_handler(loy_damage_fn fn)
{
	g_damage_fn = fn;
}

/* LMDB's assert hook: a page LMDB found impossible. LMDB aborts after it. */
void loyi_assert_hook(MDB_env *env, const char *msg)
{
	const char *dir = "";
	mdb_env_get_path(env, &dir);
	if (g_damage_fn)
		g_damage_fn(dir, msg);
}

int loyi_snapshot(int fd, struct loyi_snap *out)
{
	struct stat st;
	struct meta m[2];
	const struct meta *use;
	if (fstat(fd, &st))
		return PM_EIO;
	uint32_t psize = find_psize(fd, (uint64_t)st.st_size);
	metas_read(fd, psize, m, &use);
	if (!use)
		return PM_ECORRUPT;
	out->psize = psize;
	out->file_pages = (uint64_t)st.st_size / psize;
	out->txnid = use->txnid;
	out->main_root = use->main_db.root;
	out->main_depth = use->main_db.depth;
	return PM_OK;
}

int loy_check_pages(const char *dir, struct loy_check_report *rep, char *errbuf, size_t errlen)
{
	return loyi_check_file(dir, true, rep, errbuf, errlen);
}

/* ---- posmark log check: every record through LMDB ---- */

static int scan_db(struct loy_db *db, MDB_txn *txn, MDB_dbi dbi, const char *name,
		   struct loy_check_report *rep, char *errbuf, size_t errlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc = mdb_cursor_open(txn, dbi, &cur), rc = PM_OK;
	if (mrc)
		goto lmdb;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char key[LOY_CARD_MAX + LOY_GTIN_LEN + 2];
		snprintf(key, sizeof(key), "%.*s", (int)(k.mv_size < sizeof(key) ? k.mv_size : sizeof(key) - 1),
			 (const char *)k.mv_data);
		if (dbi == db->sales) {
			struct loy_sale s;
			rc = loyi_sale_decode(db, v.mv_data, v.mv_size, &s);
		} else if (dbi == db->cards) {
			struct loyi_card c;
			rc = loyi_card_decode(v.mv_data, v.mv_size, key, &c);
		} else if (dbi == db->catalog) {
			struct loy_product p;
			rc = loyi_product_decode(v.mv_data, v.mv_size, key, &p);
		} else if (dbi == db->print_queue) {
			/* A waiting receipt: a readable entry of a record the log has. */
			struct loy_printq_entry e;
			uint64_t seq = 0;
			MDB_val sv;
			if (k.mv_size == sizeof(seq))
				memcpy(&seq, k.mv_data, sizeof(seq));
			rc = k.mv_size != sizeof(seq) ? PM_ECORRUPT : loyi_printq_decode(seq, v.mv_data, v.mv_size, &e);
			if (rc == PM_OK && mdb_get(txn, db->sales, &(MDB_val){ sizeof(seq), &seq }, &sv)) {
				snprintf(errbuf, errlen, "purchase log '%s/data.mdb' is damaged: a receipt waits in "
					 "'print_queue' for sale %llu, which the log does not have", db->dir,
					 (unsigned long long)seq);
				rc = PM_ECORRUPT;
				break;
			}
		}
		if (rc == PM_EVERSION)
			rc = PM_OK;   /* a newer record: loy_open has refused a newer format already */
		if (rc) {
			snprintf(errbuf, errlen, "purchase log '%s/data.mdb' is damaged: a record of '%s' "
				 "cannot be read (%s)", db->dir, name, pm_errname(rc));
			break;
		}
		rep->records++;
	}
	mdb_cursor_close(cur);
	if (rc || mrc == MDB_NOTFOUND)
		return rc;
lmdb:
	snprintf(errbuf, errlen, "purchase log '%s/data.mdb' is damaged: reading '%s' failed (%s)", db->dir,
		 name, mdb_strerror(mrc));
	return loyi_mdb_err(mrc) == PM_ECORRUPT ? PM_ECORRUPT : PM_EIO;
}

int loy_check(const char *dir, const struct loy_config *cfg, struct loy_check_report *rep,
	      char *errbuf, size_t errlen)
{
	char path[4200];
	struct stat st;
	struct loy_db *db;
	MDB_txn *txn;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st)) {
		snprintf(errbuf, errlen, "no purchase log in '%s': %s", dir, strerror(errno));
		return PM_ENOENT;
	}
	int rc = loyi_check_file(dir, true, rep, errbuf, errlen);
	if (rc)
		return rc;
	struct loy_check_report pages = *rep;
	if ((rc = loy_open(dir, cfg, &db, errbuf, errlen)))
		return rc;
	*rep = pages;
	if ((rc = loyi_read_begin(db, &txn))) {
		snprintf(errbuf, errlen, "cannot read purchase log '%s': %s", path, pm_strerror(rc));
		loy_close(db);
		return rc;
	}
	const struct { MDB_dbi dbi; const char *name; } dbs[] = {
		{ db->meta, "meta" }, { db->sales, "sales" }, { db->card_idx, "card_idx" },
		{ db->cards, "cards" }, { db->ext_ids, "ext_ids" }, { db->coupons, "coupons" },
		{ db->catalog, "catalog" }, { db->events, "events" }, { db->offer_caps, "offer_caps" },
		{ db->returned, "returned" }, { db->bought, "bought" }, { db->print_queue, "print_queue" },
	};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]) && rc == PM_OK; i++)
		rc = scan_db(db, txn, dbs[i].dbi, dbs[i].name, rep, errbuf, errlen);
	loyi_read_end(db, txn);
	loy_close(db);
	return rc;
}
