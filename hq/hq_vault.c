/*
 * hq_vault.c - the card vault (hq_vault.h; docs/privacy.md, "At HQ"): the
 * process's loaded key, checked against the database, and the lookups
 * between numbers and refs. The crypto and the key file are in
 * hq_vault_crypto.c, rotation and migration 5 in hq_vault_admin.c.
 */
#include "hq/hq_vault.h"
#include "hq/hq_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- the process's key -------------------------------------------------------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_path[PATH_MAX] = PM_SYSCONFDIR "/posmark/" HQV_KEY_FILE_NAME;
static bool g_loaded;
static struct hqv_keys g_keys;

void hqv_set_key_file(const char *path)
{
	pthread_mutex_lock(&g_mu);
	snprintf(g_path, sizeof(g_path), "%s", path);
	g_loaded = false;
	pthread_mutex_unlock(&g_mu);
}

const char *hqv_key_file(void)
{
	return g_path;
}

void hqv_unload(void)
{
	pthread_mutex_lock(&g_mu);
	sodium_memzero(&g_keys, sizeof(g_keys));
	g_loaded = false;
	pthread_mutex_unlock(&g_mu);
}

/* The database's key epoch and check value; PM_ENOENT: none yet. */
static int meta_read(PGconn *c, int *epoch, unsigned char check[16], char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, "SELECT epoch, key_check FROM vault_meta", 0, NULL, NULL, NULL, NULL, 1);
	int rc = PM_EIO;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	else if (PQntuples(r) == 0)
		rc = PM_ENOENT;
	else if (PQgetlength(r, 0, 0) == 4 && PQgetlength(r, 0, 1) == 16) {
		const unsigned char *e = (const unsigned char *)PQgetvalue(r, 0, 0);
		*epoch = (int)((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3]);
		memcpy(check, PQgetvalue(r, 0, 1), 16);
		rc = PM_OK;
	} else {
		snprintf(err, errlen, "vault_meta holds no valid key check");
	}
	PQclear(r);
	return rc;
}

static int meta_insert(PGconn *c, const struct hqv_keys *k, char *err, size_t errlen)
{
	char e[16], chk[2 + 33];
	snprintf(e, sizeof(e), "%d", k->epoch);
	strcpy(chk, "\\x");
	sodium_bin2hex(chk + 2, sizeof(chk) - 2, k->check, sizeof(k->check));
	const char *pv[2] = { e, chk };
	return hqi_exec(c, "INSERT INTO vault_meta (epoch, key_check) VALUES ($1::int, $2::bytea) ON CONFLICT DO NOTHING",
			2, pv, NULL, NULL, err, errlen);
}

/* A file's key if it is the database's (epoch and check value). */
static int try_file(const char *path, int epoch, const unsigned char check[16], struct hqv_keys *k)
{
	unsigned char master[HQV_KEY_LEN];
	char e2[200];
	int fe = 0;
	int rc = hqv_key_file_read(path, master, &fe, e2, sizeof(e2));
	if (!rc) {
		hqv_keys_derive(master, fe, k);
		rc = fe == epoch && sodium_memcmp(k->check, check, 16) == 0 ? PM_OK : PM_EREFUSED;
	}
	sodium_memzero(master, sizeof(master));
	return rc;
}

static int load_locked(PGconn *c, char *err, size_t errlen)
{
	unsigned char master[HQV_KEY_LEN], check[16];
	int epoch = 0, rc = meta_read(c, &epoch, check, err, errlen);
	if (rc == PM_ENOENT) {
		/* the database has no key yet: the file's, or a new one */
		int fe = 0;
		rc = hqv_key_file_read(g_path, master, &fe, err, errlen);
		if (rc == PM_ENOENT) {
			crypto_kdf_keygen(master);
			fe = 1;
			rc = hqv_key_file_write(g_path, master, fe, true, err, errlen);
			if (rc == PM_EEXIST) /* another process made it meanwhile: its key */
				rc = hqv_key_file_read(g_path, master, &fe, err, errlen);
			else if (!rc)
				pm_info("created the card key file %s (keep a backup: without it HQ's card numbers are lost)",
					g_path);
		}
		if (!rc) {
			hqv_keys_derive(master, fe, &g_keys);
			rc = meta_insert(c, &g_keys, err, errlen);
		}
		sodium_memzero(master, sizeof(master));
		rc = rc ? rc : meta_read(c, &epoch, check, err, errlen);
		if (rc)
			return rc == PM_ENOENT ? PM_EIO : rc;
	} else if (rc) {
		return rc;
	}
	rc = try_file(g_path, epoch, check, &g_keys);
	if (rc) {
		/* a rotation committed and not yet renamed: the new file is the database's */
		char next[PATH_MAX + 8];
		snprintf(next, sizeof(next), "%s.new", g_path);
		if (!try_file(next, epoch, check, &g_keys)) {
			if (!rename(next, g_path))
				hqv_fsync_dir(g_path);
			rc = PM_OK;
		}
	}
	if (rc == PM_ENOENT) {
		snprintf(err, errlen, "the card key file '%s' is missing, and the database's card numbers are sealed under "
			 "its key (epoch %d): restore it from its backup (docs/privacy.md); without it no card number "
			 "can be read or looked up", g_path, epoch);
		return PM_ENOENT;
	}
	if (rc) {
		snprintf(err, errlen, "the card key file '%s' does not belong to this database (its key epoch is %d): "
			 "give the right one (--card-key, card_key_file in hq.conf)", g_path, epoch);
		sodium_memzero(&g_keys, sizeof(g_keys));
		return PM_EREFUSED;
	}
	g_loaded = true;
	return PM_OK;
}

int hqv_reload(PGconn *c, char *err, size_t errlen)
{
	pthread_mutex_lock(&g_mu);
	g_loaded = false;
	int rc = load_locked(c, err, errlen);
	pthread_mutex_unlock(&g_mu);
	return rc;
}

int hqv_load(PGconn *c, char *err, size_t errlen)
{
	pthread_mutex_lock(&g_mu);
	int rc = g_loaded ? PM_OK : load_locked(c, err, errlen);
	pthread_mutex_unlock(&g_mu);
	return rc;
}

/* A copy of the loaded keys (loading them first). */
static int keys(PGconn *c, struct hqv_keys *k, char *err, size_t errlen)
{
	pthread_mutex_lock(&g_mu);
	int rc = g_loaded ? PM_OK : load_locked(c, err, errlen);
	if (!rc)
		*k = g_keys;
	pthread_mutex_unlock(&g_mu);
	return rc;
}

/* The database moved to another epoch (a rotation while this process ran). */
static int reload(PGconn *c, struct hqv_keys *k, char *err, size_t errlen)
{
	pthread_mutex_lock(&g_mu);
	g_loaded = false;
	int rc = load_locked(c, err, errlen);
	if (!rc)
		*k = g_keys;
	pthread_mutex_unlock(&g_mu);
	return rc;
}

int hqv_lookup_of(const char *number, unsigned char lookup[HQV_LOOKUP_LEN])
{
	pthread_mutex_lock(&g_mu);
	bool ok = g_loaded;
	if (ok)
		hqv_lookup_with(&g_keys, number, lookup);
	pthread_mutex_unlock(&g_mu);
	return ok ? PM_OK : PM_EINVAL;
}

/* ---- hex for bytea parameters and text results ------------------------------------------ */

static void to_hex(char *out, const unsigned char *b, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* "\x..." (a bytea in text format) into b; the length or -1. */
static long from_bytea_text(const char *s, unsigned char *b, size_t cap)
{
	size_t n = 0;
	if (strncmp(s, "\\x", 2) || sodium_hex2bin(b, cap, s + 2, strlen(s + 2), NULL, &n, NULL))
		return -1;
	return (long)n;
}

int hqv_open_row(const char *ref, const char *wrapped_hex, const char *sealed_hex, char number[HQV_NUMBER_MAX + 1])
{
	unsigned char w[HQV_WRAPPED_LEN + 8], s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD + 8];
	struct hqv_keys k;
	long wl = from_bytea_text(wrapped_hex, w, sizeof(w)), sl = from_bytea_text(sealed_hex, s, sizeof(s));
	number[0] = '\0';
	pthread_mutex_lock(&g_mu);
	bool ok = g_loaded;
	k = g_keys;
	pthread_mutex_unlock(&g_mu);
	if (!ok || wl < 0 || sl < 0)
		return PM_ECORRUPT;
	int rc = hqv_open_with(&k, ref, w, (size_t)wl, s, (size_t)sl, number);
	sodium_memzero(&k, sizeof(k));
	return rc;
}

/* ---- numbers to refs ---------------------------------------------------------------------- */

static int by_lookup(const void *a, const void *b)
{
	return memcmp(((const struct hqv_card *)a)->lookup, ((const struct hqv_card *)b)->lookup, HQV_LOOKUP_LEN);
}

/* The lookups of the cards still without a ref as a bytea[] in PostgreSQL's binary array
 * format (no hex to write and decode, no text array to parse: a batch's 20,000 lookups in
 * 0.7 MB): ndim 1, no nulls, element type bytea, then each element's length and bytes. */
#define BYTEA_OID 17
#define BYTEA_ARRAY_OID 1001
static int lookup_array(struct pm_buf *b, const struct hqv_card *v, size_t n, size_t *asked)
{
	unsigned char h[20];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += !v[i].ref[0];
	*asked = k;
	hqi_put_be32(h, 1);
	hqi_put_be32(h + 4, 0);
	hqi_put_be32(h + 8, BYTEA_OID);
	hqi_put_be32(h + 12, (uint32_t)k);
	hqi_put_be32(h + 16, 1);
	int rc = pm_buf_add(b, h, 20);
	for (size_t i = 0; !rc && i < n; i++) {
		if (v[i].ref[0])
			continue;
		hqi_put_be32(h, HQV_LOOKUP_LEN);
		rc = pm_buf_add(b, h, 4);
		rc = rc ? rc : pm_buf_add(b, v[i].lookup, HQV_LOOKUP_LEN);
	}
	return rc;
}

/* One round trip: the refs of the lookups that have a row; the database's epoch. */
static int find_refs(PGconn *c, struct hqv_card *v, size_t n, int *db_epoch, int64_t *db_gen, char *err,
		     size_t errlen)
{
	struct pm_buf arr = { 0 };
	size_t asked = 0;
	if (lookup_array(&arr, v, n, &asked)) {
		pm_buf_free(&arr);
		snprintf(err, errlen, "out of memory");
		return PM_ENOMEM;
	}
	const char *pv[1] = { arr.data };
	const int lens[1] = { (int)arr.len }, fmts[1] = { 1 };
	const Oid types[1] = { BYTEA_ARRAY_OID };
	/* the generation (migration 9) only when asked: migration 5's step runs before it exists */
	PGresult *r = PQexecParams(c, db_gen ? "SELECT NULL::bytea, epoch || ' ' || generation FROM vault_meta UNION ALL"
				   " SELECT v.lookup, v.ref FROM card_vault v WHERE v.lookup IN (SELECT unnest($1::bytea[]))"
				   : "SELECT NULL::bytea, epoch::text FROM vault_meta UNION ALL"
				   " SELECT v.lookup, v.ref FROM card_vault v WHERE v.lookup IN (SELECT unnest($1::bytea[]))",
				   1, types, pv, lens, fmts, 1);
	pm_buf_free(&arr);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return PM_EIO;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		if (PQgetisnull(r, i, 0)) {
			char e[48];
			long long g = 0;
			snprintf(e, sizeof(e), "%.*s", PQgetlength(r, i, 1), PQgetvalue(r, i, 1));
			*db_epoch = atoi(e);
			if (db_gen && sscanf(e, "%*d %lld", &g) == 1)
				*db_gen = g;
			continue;
		}
		struct hqv_card key, *hit;
		if (PQgetlength(r, i, 0) != HQV_LOOKUP_LEN || PQgetlength(r, i, 1) != HQV_REF_LEN)
			continue;
		memcpy(key.lookup, PQgetvalue(r, i, 0), HQV_LOOKUP_LEN);
		if (n && (hit = bsearch(&key, v, n, sizeof(*v), by_lookup)))
			snprintf(hit->ref, sizeof(hit->ref), "%.*s", HQV_REF_LEN, PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return PM_OK;
}

/* New vault rows for the cards without a ref; those another transaction
 * inserted meanwhile stay without one (the caller asks again). */
static int insert_refs(PGconn *c, const struct hqv_keys *k, struct hqv_card *v, size_t n, char *err, size_t errlen)
{
	struct pm_buf a[4] = { { 0 } };
	unsigned char w[HQV_WRAPPED_LEN], s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD];
	char h[2 * HQV_WRAPPED_LEN + 1], ep[16]; /* the longest of lookup, wrapped and sealed */
	char (*fresh)[HQV_REF_LEN + 1] = calloc(n ? n : 1, sizeof(*fresh));
	size_t sl = 0;
	int rc = fresh ? PM_OK : PM_ENOMEM, first = 1;
	for (int j = 0; !rc && j < 4; j++)
		rc = pm_buf_add(&a[j], "{", 1);
	for (size_t i = 0; !rc && i < n; i++) {
		if (v[i].ref[0])
			continue;
		hqv_new_ref(fresh[i]);
		hqv_seal_with(k, fresh[i], v[i].number, w, s, &sl);
		const char *sep = first ? "" : ",";
		first = 0;
		to_hex(h, v[i].lookup, HQV_LOOKUP_LEN);
		rc = pm_buf_add(&a[0], sep, strlen(sep));
		rc = rc ? rc : pm_buf_add(&a[0], h, strlen(h));
		rc = rc ? rc : pm_buf_add(&a[1], sep, strlen(sep));
		rc = rc ? rc : pm_buf_add(&a[1], fresh[i], HQV_REF_LEN);
		to_hex(h, w, sizeof(w));
		rc = rc ? rc : pm_buf_add(&a[2], sep, strlen(sep));
		rc = rc ? rc : pm_buf_add(&a[2], h, strlen(h));
		to_hex(h, s, sl);
		rc = rc ? rc : pm_buf_add(&a[3], sep, strlen(sep));
		rc = rc ? rc : pm_buf_add(&a[3], h, strlen(h));
	}
	for (int j = 0; !rc && j < 4; j++)
		rc = pm_buf_add(&a[j], "}", 2);
	snprintf(ep, sizeof(ep), "%d", k->epoch);
	if (!rc) {
		const char *pv[5] = { a[0].data, a[1].data, a[2].data, a[3].data, ep };
		/* hex text arrays: decode() keeps the statement one round trip with text parameters */
		PGresult *r = PQexecParams(c, "INSERT INTO card_vault (ref, lookup, wrapped_key, sealed, key_epoch)"
					   " SELECT r, decode(l, 'hex'), decode(w, 'hex'), decode(s, 'hex'), $5::int"
					   " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(l, r, w, s)"
					   " WHERE (SELECT epoch FROM vault_meta) = $5::int" /* a rotation since: none */
					   " ON CONFLICT (lookup) DO NOTHING RETURNING lookup",
					   5, NULL, pv, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(r));
			rc = PM_EIO;
		}
		for (int i = 0; !rc && i < PQntuples(r); i++) {
			struct hqv_card key, *hit;
			memcpy(key.lookup, PQgetvalue(r, i, 0), HQV_LOOKUP_LEN);
			if (n && (hit = bsearch(&key, v, n, sizeof(*v), by_lookup))) {
				memcpy(hit->ref, fresh[hit - v], HQV_REF_LEN + 1);
				hit->made = true;
			}
		}
		PQclear(r);
	} else if (rc == PM_ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	for (int j = 0; j < 4; j++)
		pm_buf_free(&a[j]);
	free(fresh);
	sodium_memzero(s, sizeof(s));
	return rc;
}

static int refs_for_chunk(PGconn *c, struct hqv_card *v, size_t n, bool create, bool cached,
			  struct hqv_beside *beside, char *err, size_t errlen);

/* In chunks, so a big import's statements stay a few MB. */
#define REFS_CHUNK 20000
static int refs_for_all(PGconn *c, struct hqv_card *v, size_t n, bool create, bool cached, struct hqv_beside *beside,
			char *err, size_t errlen)
{
	int rc = PM_OK;
	for (size_t at = 0; !rc && (at < n || at == 0); at += REFS_CHUNK)
		rc = refs_for_chunk(c, v + at, n - at < REFS_CHUNK ? n - at : REFS_CHUNK, create, cached, beside, err,
				    errlen);
	return rc;
}

int hqv_refs_for(PGconn *c, struct hqv_card *v, size_t n, bool create, char *err, size_t errlen)
{
	return refs_for_all(c, v, n, create, false, NULL, err, errlen);
}

int hqv_refs_for_cached(PGconn *c, struct hqv_card *v, size_t n, char *err, size_t errlen)
{
	return refs_for_all(c, v, n, true, hqv_cache_on(), NULL, err, errlen);
}

int hqv_refs_for_beside(PGconn *c, PGconn *side, struct hqv_card *v, size_t n, struct hqv_beside **job, char *err,
			size_t errlen)
{
	*job = NULL;
	struct hqv_beside *j = hqv_beside_new(c, side, n);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return PM_ENOMEM;
	}
	int rc = refs_for_all(c, v, n, true, hqv_cache_on(), j, err, errlen);
	if (rc || !hqv_beside_rows(j)) {
		hqv_beside_end(j, false, NULL, 0);
		return rc;
	}
	hqv_beside_start(j);
	*job = j;
	return PM_OK;
}

/* The cards of v without a ref whose ref the last statement gave: what the cache may learn
 * once the caller's transaction commits. */
static void note_new(PGconn *c, const struct hqv_card *v, size_t n, const bool *had)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ref[0] && !had[i])
			hqv_cache_note(c, &v[i]);
}

static int refs_for_chunk(PGconn *c, struct hqv_card *v, size_t n, bool create, bool cached,
			  struct hqv_beside *beside, char *err, size_t errlen)
{
	struct hqv_keys k;
	bool *had = cached ? calloc(n ? n : 1, sizeof(*had)) : NULL;
	int rc = cached && !had ? PM_ENOMEM : keys(c, &k, err, errlen);
	if (rc == PM_ENOMEM)
		snprintf(err, errlen, "out of memory");
	for (int attempt = 0; !rc && attempt < 4; attempt++) {
		int db_epoch = 0;
		int64_t db_gen = -1;
		size_t missing = 0, hits = 0;
		for (size_t i = 0; i < n; i++) {
			v[i].ref[0] = '\0';
			v[i].made = false;
			hqv_lookup_with(&k, v[i].number, v[i].lookup);
		}
		if (n)
			qsort(v, n, sizeof(*v), by_lookup);
		/* known cards from this thread's cache, checked below against the vault's generation
		 * (read in the same statement as the refs of the others) */
		if (cached)
			for (size_t i = 0; i < n; i++)
				hits += (had[i] = hqv_cache_get(c, k.epoch, &v[i]));
		if ((rc = find_refs(c, v, n, &db_epoch, cached ? &db_gen : NULL, err, errlen)))
			break;
		if (db_epoch != k.epoch) { /* rotated while this process ran */
			rc = reload(c, &k, err, errlen);
			continue;
		}
		if (cached && !hqv_cache_current(c, db_epoch, db_gen)) {
			/* an erasure or a rotation since the cache learned: forget it all, ask again */
			hqv_cache_reset(c, db_epoch, db_gen);
			if (hits) {
				memset(had, 0, n * sizeof(*had));
				continue;
			}
		}
		if (cached) {
			note_new(c, v, n, had);
			pm_dbg("vault: %zu card(s), %zu from the cache", n, hits);
		}
		for (size_t i = 0; i < n; i++)
			missing += !v[i].ref[0];
		if (!missing || !create)
			break;
		if (cached)
			for (size_t i = 0; i < n; i++)
				had[i] = v[i].ref[0] != '\0';
		if (beside) { /* refs now, the rows on the second connection (hq_vault_rows.c) */
			if ((rc = hqv_beside_take(beside, &k, v, n)) == PM_ENOMEM)
				snprintf(err, errlen, "out of memory");
			if (!rc && cached)
				note_new(c, v, n, had);
			break;
		}
		if (PQtransactionStatus(c) == PQTRANS_INTRANS && missing > 1) {
			rc = hqv_copy_rows(c, &k, v, n, err, errlen);
			if (rc == PM_OK) {
				if (cached)
					note_new(c, v, n, had);
				break;
			}
			if (rc != PM_EBUSY)
				break;
			rc = PM_OK;
		}
		if ((rc = insert_refs(c, &k, v, n, err, errlen)))
			break;
		if (cached)
			note_new(c, v, n, had);
		missing = 0;
		for (size_t i = 0; i < n; i++)
			missing += !v[i].ref[0];
		if (!missing)
			break;
		/* some were inserted by another transaction meanwhile: the next round finds them */
	}
	free(had);
	sodium_memzero(&k, sizeof(k));
	if (!rc && create)
		for (size_t i = 0; i < n; i++)
			if (!v[i].ref[0]) {
				snprintf(err, errlen, "card vault: a card row could not be created; retry");
				return PM_EIO;
			}
	return rc;
}

int hqv_ref_for(PGconn *c, const char *number, bool create, char ref[HQV_REF_LEN + 1], char *err, size_t errlen)
{
	struct hqv_card one;
	if (!hqv_is_number(number)) {
		snprintf(err, errlen, "'%.24s' is not a card number (1 to 19 digits)", number);
		return PM_EINVAL;
	}
	memset(&one, 0, sizeof(one));
	snprintf(one.number, sizeof(one.number), "%s", number);
	int rc = hqv_refs_for(c, &one, 1, create, err, errlen);
	if (!rc && !one.ref[0]) {
		snprintf(err, errlen, "HQ has no card with that number");
		rc = PM_ENOENT;
	}
	if (!rc)
		memcpy(ref, one.ref, HQV_REF_LEN + 1);
	sodium_memzero(&one, sizeof(one));
	return rc;
}

int hqv_card_ref(PGconn *c, const char *card, bool create, char ref[HQV_REF_LEN + 1], char *err, size_t errlen)
{
	if (hqv_is_ref(card)) {
		memcpy(ref, card, HQV_REF_LEN + 1);
		return PM_OK;
	}
	return hqv_ref_for(c, card, create, ref, err, errlen);
}

/* ---- refs to numbers ------------------------------------------------------------------------ */

static int by_ref(const void *a, const void *b)
{
	return strcmp(((const struct hqv_card *)a)->ref, ((const struct hqv_card *)b)->ref);
}

int hqv_numbers_of(PGconn *c, struct hqv_card *v, size_t n, char *err, size_t errlen)
{
	struct hqv_keys k;
	struct pm_buf arr = { 0 };
	int rc = keys(c, &k, err, errlen);
	rc = rc ? rc : pm_buf_add(&arr, "{", 1);
	for (size_t i = 0; !rc && i < n; i++) {
		v[i].number[0] = '\0';
		if (!hqv_is_ref(v[i].ref))
			continue;
		rc = arr.len > 1 ? pm_buf_add(&arr, ",", 1) : PM_OK;
		rc = rc ? rc : pm_buf_add(&arr, v[i].ref, HQV_REF_LEN);
	}
	rc = rc ? rc : pm_buf_add(&arr, "}", 2);
	if (rc) {
		pm_buf_free(&arr);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_ref);
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *pv[1] = { arr.data };
		bool stale = false;
		PGresult *r = PQexecParams(c, "SELECT ref, wrapped_key, sealed FROM card_vault WHERE ref = ANY ($1::text[])",
					   1, NULL, pv, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "%s", PQresultErrorMessage(r));
			rc = PM_EIO;
		}
		for (int i = 0; !rc && i < PQntuples(r); i++) {
			struct hqv_card key, *hit;
			snprintf(key.ref, sizeof(key.ref), "%.*s", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
			if (!n || !(hit = bsearch(&key, v, n, sizeof(*v), by_ref)))
				continue;
			if (hqv_open_with(&k, hit->ref, (const unsigned char *)PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
					  (const unsigned char *)PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2),
					  hit->number))
				stale = true;
		}
		PQclear(r);
		if (rc || !stale || attempt)
			break;
		if ((rc = reload(c, &k, err, errlen)))
			break;
	}
	pm_buf_free(&arr);
	sodium_memzero(&k, sizeof(k));
	return rc;
}

int hqv_number_of(PGconn *c, const char *ref, char number[HQV_NUMBER_MAX + 1], char *err, size_t errlen)
{
	struct hqv_card one;
	memset(&one, 0, sizeof(one));
	number[0] = '\0';
	if (!hqv_is_ref(ref)) {
		snprintf(err, errlen, "'%.40s' is not a card reference", ref);
		return PM_EINVAL;
	}
	memcpy(one.ref, ref, HQV_REF_LEN + 1);
	int rc = hqv_numbers_of(c, &one, 1, err, errlen);
	if (!rc && !one.number[0]) {
		snprintf(err, errlen, "HQ has no card number for %s (erased)", ref);
		rc = PM_ENOENT;
	}
	if (!rc)
		memcpy(number, one.number, sizeof(one.number));
	sodium_memzero(&one, sizeof(one));
	return rc;
}

/* ---- erasure and the downlink ------------------------------------------------------------------- */

int hqv_erase(PGconn *c, const char *ref, unsigned char lookup[HQV_LOOKUP_LEN], bool *had_row, char *err,
	      size_t errlen)
{
	const char *pv[1] = { ref };
	PGresult *r = hqi_query(c, "DELETE FROM card_vault WHERE ref = $1 RETURNING lookup", 1, pv, true, err, errlen);
	if (!r)
		return PM_EIO;
	*had_row = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == HQV_LOOKUP_LEN;
	if (*had_row)
		memcpy(lookup, PQgetvalue(r, 0, 0), HQV_LOOKUP_LEN);
	PQclear(r);
	return PM_OK;
}

int hqv_seal_downlink(const char *number, char *out, size_t cap)
{
	unsigned char s[HQV_SEALED_LEN];
	size_t n = 0;
	struct hqv_keys k;
	if (!hqv_is_number(number) || cap < 2 * HQV_SEALED_LEN + 3)
		return PM_EINVAL;
	pthread_mutex_lock(&g_mu);
	bool ok = g_loaded;
	k = g_keys;
	pthread_mutex_unlock(&g_mu);
	if (ok)
		hqv_downlink_seal_with(&k, number, s, &n);
	sodium_memzero(&k, sizeof(k));
	if (!ok)
		return PM_EINVAL;
	strcpy(out, "\\x");
	to_hex(out + 2, s, n);
	return PM_OK;
}

int hqv_open_downlink(const char *sealed_hex, char number[HQV_NUMBER_MAX + 1])
{
	unsigned char s[HQV_SEALED_LEN + 8];
	long sl = from_bytea_text(sealed_hex, s, sizeof(s));
	struct hqv_keys k;
	number[0] = '\0';
	if (sl < 0)
		return PM_ECORRUPT;
	pthread_mutex_lock(&g_mu);
	bool ok = g_loaded;
	k = g_keys;
	pthread_mutex_unlock(&g_mu);
	int rc = ok ? hqv_downlink_open_with(&k, s, (size_t)sl, number) : PM_EINVAL;
	sodium_memzero(&k, sizeof(k));
	return rc;
}

int hqv_keys_loaded(PGconn *c, struct hqv_keys *k, char *err, size_t errlen)
{
	return keys(c, k, err, errlen);
}
