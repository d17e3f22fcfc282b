/*
 * mine_read.c - the two text inputs of mining, parsed from one buffer:
 *  basket  arules' format="basket": items separated by commas, one
 *          transaction per line; RFC 4180 quotes within a line
 *  fimi    the FIMI repository's format: integer items separated by blanks
 * Both refuse what would silently change N or item names: empty lines, NUL
 * bytes (not a text file), unterminated quotes, non-integer FIMI items.
 */
#include "mining/mine_int.h"
#include "common/pm_err.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_EVERY 65536

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return PM_EINVAL;
}

static void progress_note(struct mine_db *db, mine_progress_fn progress, void *ctx)
{
	struct mine_progress p = { .phase = "reading", .transactions = db->n_txns,
				       .items = db->n_items };
	if (progress && db->n_txns % PROGRESS_EVERY == 0)
		progress(ctx, &p);
}

static int nomem(struct mine_db *db, char *err, size_t errlen, unsigned long line)
{
	if (err && errlen)
		snprintf(err, errlen, "line %lu: out of memory after %u transactions (needs %zu MB)",
			 line, db->n_txns, (db->mem_need + (1u << 20) - 1) >> 20);
	return PM_ENOMEM;
}

/* One basket line [s, e) (no newline); quoted fields are unescaped into tmp. */
static int basket_line(struct mine_db *db, const char *s, const char *e, unsigned long line,
		       char **tmp, size_t *tmp_cap, char *err, size_t errlen)
{
	int rc;

	while (s <= e) {
		const char *f = s;
		if (s < e && *s == '"') {
			size_t n = 0;
			if (*tmp_cap < (size_t)(e - s)) {
				char *t = realloc(*tmp, (size_t)(e - s));
				if (!t)
					return nomem(db, err, errlen, line);
				*tmp = t;
				*tmp_cap = (size_t)(e - s);
			}
			s++;
			for (;;) {
				if (s >= e)
					return fail(err, errlen, "line %lu: quoted item '%.*s' has no closing quote",
						    line, (int)(e - f < 20 ? e - f : 20), f);
				if (*s == '"') {
					if (s + 1 < e && s[1] == '"') {
						(*tmp)[n++] = '"';
						s += 2;
						continue;
					}
					s++;
					break;
				}
				(*tmp)[n++] = *s++;
			}
			if (s < e && *s != ',')
				return fail(err, errlen, "line %lu: text after a closing quote (write \"\" for a quote inside quotes)",
					    line);
			if ((rc = mine_txn_item(db, *tmp, n)))
				return rc == PM_ENOMEM ? nomem(db, err, errlen, line) : rc;
		} else {
			const char *c = memchr(s, ',', (size_t)(e - s));
			if (!c)
				c = e;
			if (c > s) {
				if (memchr(s, '"', (size_t)(c - s)))
					return fail(err, errlen, "line %lu: a quote inside an unquoted item (quote the whole item and double the quote)",
						    line);
				if ((rc = mine_txn_item(db, s, (size_t)(c - s))))
					return rc == PM_ENOMEM ? nomem(db, err, errlen, line) : rc;
			}
			s = c;
		}
		s++;             /* past the comma (or one past e: loop ends) */
	}
	return PM_OK;
}

/* Lines of a buffer: calls per line with the line's bounds, CR dropped. */
static int read_basket(struct mine_db *db, const char *buf, size_t len, unsigned long line,
		       mine_progress_fn progress, void *ctx, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	char *tmp = NULL;
	size_t tmp_cap = 0;
	int rc = PM_OK;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		if (e > p && e[-1] == '\r')
			e--;
		if (memchr(p, '\0', (size_t)(e - p))) {
			rc = fail(err, errlen, "line %lu: NUL byte: this is not a text file", line);
			break;
		}
		if (e == p) {
			rc = fail(err, errlen, "line %lu is empty: every line must be one transaction", line);
			break;
		}
		if ((rc = mine_txn_begin(db)))
			break;
		if ((rc = basket_line(db, p, e, line, &tmp, &tmp_cap, err, errlen)))
			break;
		if (db->txn_off[db->n_txns] == db->n_occ) {
			rc = fail(err, errlen, "line %lu has no item (only commas)", line);
			break;
		}
		if ((rc = mine_txn_end(db))) {
			rc = rc == PM_ENOMEM ? nomem(db, err, errlen, line) : rc;
			break;
		}
		progress_note(db, progress, ctx);
		p = nl ? nl + 1 : end;
	}
	free(tmp);
	db->in_txn = false;
	return rc;
}

static int fimi_id(struct mine_db *db, uint64_t v, uint32_t *id)
{
	char num[24];
	int n, rc;

	if (v < (1u << 24)) {
		if (v >= db->int_map_cap) {
			size_t cap = db->int_map_cap, old = cap;
			if ((rc = minei_grow(db, (void **)&db->int_map, &cap, v + 1, sizeof(uint32_t))))
				return rc;
			memset(db->int_map + old, 0, (cap - old) * sizeof(uint32_t));
			db->int_map_cap = (uint32_t)cap;
		}
		if (db->int_map[v]) {
			*id = db->int_map[v] - 1;
			return PM_OK;
		}
	}
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	if ((rc = minei_intern(db, num, (size_t)n, id)))
		return rc;
	if (v < (1u << 24))
		db->int_map[v] = *id + 1;
	return PM_OK;
}

static int read_fimi(struct mine_db *db, const char *buf, size_t len, unsigned long line,
		     mine_progress_fn progress, void *ctx, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	int rc;

	while (p < end) {
		size_t items = 0;
		line++;
		if ((rc = mine_txn_begin(db)))
			return rc;
		for (;;) {
			uint64_t v = 0;
			const unsigned char *t;
			while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p >= end || *p == '\n')
				break;
			t = p;
			while (p < end && *p >= '0' && *p <= '9') {
				v = v * 10 + (uint64_t)(*p - '0');
				if (v > UINT32_MAX) {
					db->in_txn = false;
					return fail(err, errlen, "line %lu: item number too large (FIMI items are integers below 2^32)",
						    line);
				}
				p++;
			}
			if (p == t || (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')) {
				db->in_txn = false;
				if (memchr(t, '\0', (size_t)(end - t) < 4096 ? (size_t)(end - t) : 4096))
					return fail(err, errlen, "line %lu: NUL byte: this is not a text file", line);
				return fail(err, errlen, "line %lu: '%c' in an item: FIMI items are integers separated by spaces",
					    line, (*p >= 32 && *p < 127) ? *p : '?');
			}
			uint32_t id;
			if ((rc = fimi_id(db, v, &id)) || (rc = minei_add_id(db, id))) {
				db->in_txn = false;
				return rc == PM_ENOMEM ? nomem(db, err, errlen, line) : rc;
			}
			items++;
		}
		if (!items) {
			db->in_txn = false;
			return fail(err, errlen, "line %lu is empty: every line must be one transaction", line);
		}
		if ((rc = mine_txn_end(db))) {
			db->in_txn = false;
			return rc == PM_ENOMEM ? nomem(db, err, errlen, line) : rc;
		}
		progress_note(db, progress, ctx);
		if (p < end)
			p++;         /* the newline */
	}
	return PM_OK;
}

/* One reader over [buf, buf + len); line = lines before buf. */
static int read_part(struct mine_db *db, const char *buf, size_t len, enum mine_format fmt,
		     unsigned long line, mine_progress_fn progress, void *ctx, char *err, size_t errlen)
{
	if (fmt == MINE_FIMI)
		return read_fimi(db, buf, len, line, progress, ctx, err, errlen);
	return read_basket(db, buf, len, line, progress, ctx, err, errlen);
}

/*
 * Large inputs are parsed by two threads, each over one half (split after a
 * newline) into its own store; the second store's items are then interned
 * into the first (in their order, so ids stay in order of first
 * appearance), its counts added and its transactions appended with ids
 * mapped. Parsing is most of the time of a run at high support, and an
 * analyst waits for wall time. Errors stay exactly those of one pass: the
 * first half's first, else the second half's, its message made again with
 * the right line numbers. If a half runs out of its share of the memory
 * limit, the whole input is read again by one thread.
 */
size_t minei_par_min_bytes = 4u << 20;

struct read_job {
	struct mine_db *db;
	const char *buf;
	size_t len;
	enum mine_format fmt;
	int rc;
	char err[256];
};

static void *read_job_run(void *arg)
{
	struct read_job *j = arg;
	j->rc = read_part(j->db, j->buf, j->len, j->fmt, 0, NULL, NULL, j->err, sizeof(j->err));
	return NULL;
}

static unsigned long count_lines(const char *buf, size_t len)
{
	unsigned long n = 0;
	for (const char *p = buf, *e = buf + len; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		n++;
	return n;
}

/* Append b's transactions to db (both complete). */
static int merge_db(struct mine_db *db, const struct mine_db *b)
{
	uint32_t *map = malloc(((size_t)b->n_items + 1) * sizeof(uint32_t));
	size_t cap;
	int rc = PM_ENOMEM;

	if (!map)
		return PM_ENOMEM;
	for (uint32_t i = 0; i < b->n_items; i++) {
		if ((rc = minei_intern(db, b->names + b->name_off[i], b->name_len[i], &map[i])))
			goto out;
		db->item_count[map[i]] += b->item_count[i];
	}
	if ((rc = minei_grow(db, (void **)&db->occ, &db->cap_occ, db->n_occ + b->n_occ, sizeof(uint32_t))))
		goto out;
	cap = db->cap_txns;
	if ((rc = minei_grow(db, (void **)&db->txn_off, &cap, (size_t)db->n_txns + b->n_txns + 1, sizeof(size_t))))
		goto out;
	db->cap_txns = cap;
	for (size_t o = 0; o < b->n_occ; o++)
		db->occ[db->n_occ + o] = map[b->occ[o]];
	for (uint32_t t = 1; t <= b->n_txns; t++)
		db->txn_off[db->n_txns + t] = db->n_occ + b->txn_off[t];
	db->n_occ += b->n_occ;
	db->n_txns += b->n_txns;
	rc = PM_OK;
out:
	free(map);
	return rc;
}

/* 1 if the input was read in two halves (rc then says how), 0 to read it in one pass. */
static int read_parallel(struct mine_db *db, const char *buf, size_t len, enum mine_format fmt,
			 mine_progress_fn progress, void *ctx, char *err, size_t errlen, int *rc)
{
	const char *mid;
	struct read_job job = { .buf = NULL, .fmt = fmt };
	size_t limit = db->mem_limit;
	pthread_t th;

	if (len < minei_par_min_bytes || db->n_txns || db->n_items ||
	    !(mid = memchr(buf + len / 2, '\n', len - len / 2)) || mid + 1 >= buf + len)
		return 0;
	if (mine_db_new(&job.db))
		return 0;
	job.buf = mid + 1;
	job.len = (size_t)(buf + len - job.buf);
	mine_db_set_limit(job.db, limit / 2);
	if (pthread_create(&th, NULL, read_job_run, &job)) {
		mine_db_free(job.db);
		return 0;
	}
	db->mem_limit = limit ? limit / 2 : 0;
	*rc = read_part(db, buf, (size_t)(job.buf - buf), fmt, 0, progress, ctx, err, errlen);
	pthread_join(th, NULL);
	db->mem_limit = limit;
	if (*rc == PM_ENOMEM || (*rc == PM_OK && job.rc == PM_ENOMEM)) {
		mine_db_free(job.db);
		minei_db_clear(db);
		return 0;            /* a half outgrew its share: one pass with the whole limit */
	}
	if (*rc == PM_OK && job.rc != PM_OK) {
		/* the second half's error, numbered from the start of the input */
		struct mine_db *again;
		*rc = job.rc;
		if (mine_db_new(&again) == PM_OK) {
			*rc = read_part(again, job.buf, job.len, fmt, count_lines(buf, (size_t)(job.buf - buf)),
					NULL, NULL, err, errlen);
			mine_db_free(again);
		} else if (err && errlen) {
			snprintf(err, errlen, "%s", job.err);
		}
	}
	if (*rc == PM_OK) {
		*rc = merge_db(db, job.db);
		if (*rc == PM_ENOMEM)
			*rc = nomem(db, err, errlen, count_lines(buf, len));
	}
	if (*rc == PM_OK && progress) {
		/* The first half's lines counted only its own baskets: say the whole. */
		struct mine_progress p = { .phase = "reading", .transactions = db->n_txns, .items = db->n_items };
		progress(ctx, &p);
	}
	mine_db_free(job.db);
	return 1;
}

int mine_read(struct mine_db *db, const char *buf, size_t len, enum mine_format fmt,
		  mine_progress_fn progress, void *progress_ctx, char *err, size_t errlen)
{
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (db->in_txn)
		return PM_EBADSTATE;
	if (read_parallel(db, buf, len, fmt, progress, progress_ctx, err, errlen, &rc))
		return rc;
	return read_part(db, buf, len, fmt, 0, progress, progress_ctx, err, errlen);
}
