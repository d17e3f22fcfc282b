/*
 * db_salvage.c - copy every readable record of a damaged log into a fresh
 * one (posmark log salvage; docs/storage.md, "Damaged logs").
 *
 * The damaged file is never mapped: its pages are read with pread and
 * parsed with bounds checks (the layout in check_int.h), so a truncated file
 * or a scribbled page costs the records on it, not the process. A page that
 * is not what its parent says is skipped with everything under it. Each
 * entry found is put into the same named database of the new log, with the
 * same flags, through LMDB. Then the per-card index loses the entries whose
 * sale was lost, so `posmark history` reads the new log cleanly.
 */
#include "loyalty/loy_int.h"
#include "loyalty/check_int.h"
#include "common/pm_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct sv {
	int fd;
	uint32_t psize;
	uint64_t file_pages;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char *buf[3 * DEPTH_MAX + 3];
	unsigned char *big;             /* an overflow value */
	size_t big_cap;
	size_t puts;                    /* in the open transaction */
	struct loy_salvage_report *rep;
	int err;                        /* an LMDB error writing the new log: stop */
};

static int sv_put(struct sv *s, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	int rc = mdb_put(s->txn, s->dbi, &key, &val, 0);
	if (rc == MDB_BAD_VALSIZE || rc == MDB_KEYEXIST) {
		s->rep->entries_skipped++;
		return 0;
	}
	if (rc)
		return s->err = rc;
	s->rep->entries++;
	if (++s->puts >= 20000) {   /* bounded transactions */
		if ((rc = mdb_txn_commit(s->txn)) || (rc = mdb_txn_begin(s->env, NULL, 0, &s->txn))) {
			s->txn = NULL;
			return s->err = rc;
		}
		s->puts = 0;
	}
	return 0;
}

static unsigned char *sv_page_buf(struct sv *s, unsigned idx)
{
	if (idx >= sizeof(s->buf) / sizeof(s->buf[0]))
		return NULL;
	if (!s->buf[idx])
		s->buf[idx] = malloc(s->psize);
	return s->buf[idx];
}

static bool sv_read(struct sv *s, unsigned char *dst, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(s->fd, dst + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void sv_tree(struct sv *s, uint64_t root, unsigned depth, bool dups, const unsigned char *pkey,
		    size_t pklen, unsigned base);

/* The duplicates of one key: an inline sub-page of len bytes. */
static void sv_subpage(struct sv *s, const unsigned char *sp, size_t len, const unsigned char *key, size_t kl)
{
	uint16_t flags = loyi_rd16(sp + 10), lower = loyi_rd16(sp + 12), upper = loyi_rd16(sp + 14);
	if (len < PAGEHDR || lower < PAGEHDR || lower > len || upper > len) {
		s->rep->entries_skipped++;
		return;
	}
	unsigned n = (lower - PAGEHDR) / 2u;
	if (flags & P_LEAF2) {
		size_t ks = loyi_rd16(sp + 8);
		for (unsigned i = 0; i < n && !s->err; i++)
			if (ks && PAGEHDR + (size_t)(i + 1) * ks <= len)
				sv_put(s, key, kl, sp + PAGEHDR + (size_t)i * ks, ks);
		return;
	}
	for (unsigned i = 0; i < n && !s->err; i++) {
		uint16_t off = loyi_rd16(sp + PAGEHDR + 2 * i);
		if ((size_t)off + NODEHDR > len || (size_t)off + NODEHDR + loyi_rd16(sp + off + 6) > len) {
			s->rep->entries_skipped++;
			continue;
		}
		sv_put(s, key, kl, sp + off + NODEHDR, loyi_rd16(sp + off + 6));
	}
}

/* One leaf entry of a normal tree: its value inline, on overflow pages, or duplicates. */
static void sv_entry(struct sv *s, const unsigned char *nd, size_t room, unsigned lvl, unsigned base)
{
	uint16_t nflags = loyi_rd16(nd + 4), ks = loyi_rd16(nd + 6);
	uint32_t dsize = loyi_rd16(nd) | ((uint32_t)loyi_rd16(nd + 2) << 16);
	const unsigned char *key = nd + NODEHDR, *data = key + ks;
	if ((nflags & F_BIGDATA) ? NODEHDR + ks + 8u > room : NODEHDR + (size_t)ks + dsize > room) {
		s->rep->entries_skipped++;
		return;
	}
	if (nflags & F_BIGDATA) {
		uint64_t ov = loyi_rd64(data), np = ((uint64_t)dsize + PAGEHDR + s->psize - 1) / s->psize;
		if (dsize > s->big_cap) {
			unsigned char *nb = realloc(s->big, dsize);
			if (!nb) {
				s->err = ENOMEM;
				return;
			}
			s->big = nb;
			s->big_cap = dsize;
		}
		unsigned char h[PAGEHDR];
		if (ov < 2 || ov + np > s->file_pages || !sv_read(s, h, sizeof(h), ov * s->psize) ||
		    loyi_rd64(h) != ov || !(loyi_rd16(h + 10) & P_OVERFLOW) ||
		    !sv_read(s, s->big, dsize, ov * s->psize + PAGEHDR)) {
			s->rep->entries_skipped++;
			return;
		}
		sv_put(s, key, ks, s->big, dsize);
	} else if ((nflags & F_DUPDATA) && (nflags & F_SUBDATA) && dsize == DBREC) {
		sv_tree(s, loyi_rd64(data + 40), loyi_rd16(data + 6), true, key, ks, base + lvl + 1);
	} else if (nflags & F_DUPDATA) {
		sv_subpage(s, data, dsize, key, ks);
	} else {
		sv_put(s, key, ks, data, dsize);
	}
}

/* A page at level lvl of a tree of `depth`; in a dup tree the keys are the values of pkey. */
static void sv_page(struct sv *s, uint64_t pgno, unsigned lvl, unsigned depth, bool dups,
		    const unsigned char *pkey, size_t pklen, unsigned base)
{
	unsigned char *pg = sv_page_buf(s, base + lvl);
	bool leaf = lvl + 1 == depth;
	if (!pg || pgno < 2 || pgno >= s->file_pages || !sv_read(s, pg, s->psize, pgno * s->psize)) {
		s->rep->pages_skipped++;
		return;
	}
	uint16_t flags = loyi_rd16(pg + 10), lower = loyi_rd16(pg + 12), upper = loyi_rd16(pg + 14);
	if (loyi_rd64(pg) != pgno || !(flags & (leaf ? P_LEAF : P_BRANCH)) || lower < PAGEHDR ||
	    lower > s->psize || upper > s->psize) {
		s->rep->pages_skipped++;
		return;
	}
	unsigned n = (lower - PAGEHDR) / 2u;
	if (leaf && (flags & P_LEAF2)) {
		size_t ks = loyi_rd16(pg + 8);
		for (unsigned i = 0; i < n && !s->err; i++)
			if (ks && PAGEHDR + (size_t)(i + 1) * ks <= s->psize)
				sv_put(s, pkey, pklen, pg + PAGEHDR + (size_t)i * ks, ks);
		return;
	}
	for (unsigned i = 0; i < n && !s->err; i++) {
		uint16_t off = loyi_rd16(pg + PAGEHDR + 2 * i);
		if ((uint32_t)off + NODEHDR > s->psize) {
			s->rep->entries_skipped++;
			continue;
		}
		const unsigned char *nd = pg + off;
		if (!leaf) {
			uint64_t child = loyi_rd16(nd) | ((uint64_t)loyi_rd16(nd + 2) << 16) |
					 ((uint64_t)loyi_rd16(nd + 4) << 32);
			sv_page(s, child, lvl + 1, depth, dups, pkey, pklen, base);
			pg = s->buf[base + lvl];   /* unchanged: children use deeper buffers */
		} else if (dups) {
			if ((size_t)off + NODEHDR + loyi_rd16(nd + 6) <= s->psize)
				sv_put(s, pkey, pklen, nd + NODEHDR, loyi_rd16(nd + 6));
		} else {
			sv_entry(s, nd, s->psize - off, lvl, base);
		}
	}
}

static void sv_tree(struct sv *s, uint64_t root, unsigned depth, bool dups, const unsigned char *pkey,
		    size_t pklen, unsigned base)
{
	if (root == PGNO_NONE)
		return;
	if (depth < 1 || depth > DEPTH_MAX) {
		s->rep->pages_skipped++;
		return;
	}
	sv_page(s, root, 0, depth, dups, pkey, pklen, base);
}

/* Drop card_idx entries whose sale did not survive. */
static int sv_prune_index(MDB_txn *txn, MDB_dbi idx, MDB_dbi sales, uint64_t *pruned)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, idx, &cur);
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t seq;
		int64_t t, tot;
		if (v.mv_size != LOYI_IDX_LEN)
			continue;
		loyi_idx_decode(v.mv_data, &seq, &t, &tot);
		MDB_val sk = { sizeof(seq), &seq }, sv;
		if (mdb_get(txn, sales, &sk, &sv) == MDB_NOTFOUND) {
			if ((rc = mdb_cursor_del(cur, 0)))
				break;
			(*pruned)++;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Drop print_queue entries whose sale did not survive (a waiting receipt needs its record). */
static int sv_prune_queue(MDB_txn *txn, MDB_dbi queue, MDB_dbi sales, uint64_t *pruned)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, queue, &cur);
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		MDB_val sv;
		if (k.mv_size == sizeof(uint64_t) && mdb_get(txn, sales, &k, &sv) != MDB_NOTFOUND)
			continue;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		(*pruned)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The new log's newest sale and HQ watermark (a salvage that lost the newest sales). */
static void sv_positions(struct sv *s)
{
	MDB_dbi sales, meta;
	MDB_cursor *cur;
	MDB_val k, v, mk = { 11, "sales_acked" };
	if (mdb_dbi_open(s->txn, "sales", 0, &sales) || mdb_cursor_open(s->txn, sales, &cur))
		return;
	if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
		memcpy(&s->rep->last_sale_seq, k.mv_data, 8);
	mdb_cursor_close(cur);
	if (mdb_dbi_open(s->txn, "meta", 0, &meta) == 0 && mdb_get(s->txn, meta, &mk, &v) == 0 && v.mv_size == 8)
		memcpy(&s->rep->sales_acked, v.mv_data, 8);
}

/* Every named database listed in the main database's root leaf: copy it. */
static int sv_all(struct sv *s, const struct loyi_snap *snap, char *errbuf, size_t errlen)
{
	unsigned char *main = malloc(s->psize);
	int rc = PM_OK;
	if (!main)
		return PM_ENOMEM;
	if (snap->main_depth != 1 || !sv_read(s, main, s->psize, snap->main_root * s->psize) ||
	    loyi_rd64(main) != snap->main_root || !(loyi_rd16(main + 10) & P_LEAF)) {
		snprintf(errbuf, errlen, "the list of databases (page %llu) is damaged: nothing can be salvaged",
			 (unsigned long long)snap->main_root);
		free(main);
		return PM_ECORRUPT;
	}
	unsigned n = (loyi_rd16(main + 12) - PAGEHDR) / 2u;
	MDB_dbi sales = 0, idx = 0, queue = 0;
	for (unsigned i = 0; i < n && rc == PM_OK; i++) {
		uint16_t off = loyi_rd16(main + PAGEHDR + 2 * i);
		const unsigned char *nd = main + off;
		if ((uint32_t)off + NODEHDR + DBREC > s->psize || !(loyi_rd16(nd + 4) & F_SUBDATA))
			continue;
		uint16_t ks = loyi_rd16(nd + 6);
		char name[64];
		if (ks >= sizeof(name) || (uint32_t)off + NODEHDR + ks + DBREC > s->psize)
			continue;
		memcpy(name, nd + NODEHDR, ks);
		name[ks] = '\0';
		const unsigned char *rec = nd + NODEHDR + ks;
		unsigned flags = loyi_rd16(rec + 4) & (MDB_REVERSEKEY | MDB_DUPSORT | MDB_INTEGERKEY | MDB_DUPFIXED |
						       MDB_INTEGERDUP | MDB_REVERSEDUP);
		int mrc = mdb_dbi_open(s->txn, name, flags | MDB_CREATE, &s->dbi);
		if (mrc) {
			snprintf(errbuf, errlen, "cannot create '%s' in the new log: %s", name, mdb_strerror(mrc));
			rc = PM_EIO;
			break;
		}
		if (!strcmp(name, "sales"))
			sales = s->dbi;
		if (!strcmp(name, "card_idx"))
			idx = s->dbi;
		if (!strcmp(name, "print_queue"))
			queue = s->dbi;
		sv_tree(s, loyi_rd64(rec + 40), loyi_rd16(rec + 6), false, NULL, 0, 1);
		if (s->err) {
			snprintf(errbuf, errlen, "writing the new log failed: %s", mdb_strerror(s->err));
			rc = s->err == MDB_MAP_FULL || s->err == ENOSPC ? PM_EFULL : PM_EIO;
		}
	}
	if (rc == PM_OK && sales && idx && (s->err = sv_prune_index(s->txn, idx, sales, &s->rep->index_pruned))) {
		snprintf(errbuf, errlen, "writing the new log failed: %s", mdb_strerror(s->err));
		rc = PM_EIO;
	}
	if (rc == PM_OK && sales && queue && (s->err = sv_prune_queue(s->txn, queue, sales, &s->rep->index_pruned))) {
		snprintf(errbuf, errlen, "writing the new log failed: %s", mdb_strerror(s->err));
		rc = PM_EIO;
	}
	if (rc == PM_OK && sales)
		sv_positions(s);
	free(main);
	return rc;
}

int loy_salvage(const char *dir, const char *out_dir, struct loy_salvage_report *rep, char *errbuf,
		size_t errlen)
{
	char path[4200];
	struct loyi_snap snap;
	struct stat st;
	struct sv s = { .rep = rep };
	int rc;
	memset(rep, 0, sizeof(*rep));
	snprintf(path, sizeof(path), "%s/data.mdb", out_dir);
	if (stat(path, &st) == 0) {
		snprintf(errbuf, errlen, "'%s' already holds a log; give an empty or new directory", out_dir);
		return PM_EEXIST;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if ((s.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(errbuf, errlen, "cannot read '%s': %s", path, strerror(errno));
		return pm_from_errno(errno);
	}
	if ((rc = loyi_snapshot(s.fd, &snap))) {
		snprintf(errbuf, errlen, "'%s' has no readable meta page: nothing can be salvaged", path);
		close(s.fd);
		return rc;
	}
	s.psize = snap.psize;
	s.file_pages = snap.file_pages;
	rep->txnid = snap.txnid;
	if (mkdir(out_dir, 0750) && errno != EEXIST) {
		snprintf(errbuf, errlen, "cannot create '%s': %s", out_dir, strerror(errno));
		close(s.fd);
		return pm_from_errno(errno);
	}
	int mrc = mdb_env_create(&s.env);
	if (!mrc) {
		mdb_env_set_maxdbs(s.env, 16);
		mdb_env_set_mapsize(s.env, (size_t)(snap.file_pages * snap.psize * 2 + (64u << 20)));
		mrc = mdb_env_open(s.env, out_dir, 0, 0640);
	}
	if (!mrc)
		mrc = mdb_txn_begin(s.env, NULL, 0, &s.txn);
	if (mrc) {
		snprintf(errbuf, errlen, "cannot create a log in '%s': %s", out_dir, mdb_strerror(mrc));
		rc = PM_EIO;
	} else {
		rc = sv_all(&s, &snap, errbuf, errlen);
		if (rc == PM_OK && (mrc = mdb_txn_commit(s.txn))) {
			snprintf(errbuf, errlen, "writing the new log failed: %s", mdb_strerror(mrc));
			rc = PM_EIO;
		} else if (rc != PM_OK && s.txn) {
			mdb_txn_abort(s.txn);
		}
	}
	if (s.env)
		mdb_env_close(s.env);
	for (size_t i = 0; i < sizeof(s.buf) / sizeof(s.buf[0]); i++)
		free(s.buf[i]);
	free(s.big);
	close(s.fd);
	return rc;
}
