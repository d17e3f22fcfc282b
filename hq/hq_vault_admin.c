/*
 * hq_vault_admin.c - the card vault's whole-database steps (hq_vault.h):
 * `posmark-hq keys rotate` and migration 5 (card numbers to refs in every
 * table). Each runs in one transaction; docs/privacy.md, "At HQ".
 */
#include "hq/hq_vault.h"
#include "hq/hq_int.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 10000

/* "\\x" + hex: a bytea in a COPY text row (the backslash escaped for COPY) */
static int copy_bytea(struct pm_buf *b, const unsigned char *v, size_t n, char sep)
{
	char h[2 * 128 + 1];
	if (n > 128)
		return PM_EINVAL;
	sodium_bin2hex(h, sizeof(h), v, n);
	int rc = pm_buf_add(b, "\\\\x", 3);
	rc = rc ? rc : pm_buf_add(b, h, 2 * n);
	return rc ? rc : pm_buf_add(b, &sep, 1);
}

static int fail_res(PGresult *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return PM_EIO;
}

/* ---- rotation ------------------------------------------------------------------ */

/* Every live row: lookup under the new key, per-card key re-wrapped (the sealed number stays). */
static int rotate_vault(PGconn *c, const struct hqv_keys *old, const struct hqv_keys *nk, uint64_t *rows, char *err,
			size_t errlen)
{
	struct pm_buf b = { 0 };
	int rc = hqi_exec_ok(c, "CREATE TEMP TABLE vault_rekey (ref text, lookup bytea, wrapped bytea) ON COMMIT DROP;"
			     "DECLARE vault_rows NO SCROLL CURSOR FOR SELECT ref, wrapped_key, sealed FROM card_vault",
			     err, errlen);
	while (!rc) {
		PGresult *r = PQexecParams(c, "FETCH " "10000" " FROM vault_rows", 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			return fail_res(r, err, errlen);
		int n = PQntuples(r);
		b.len = 0;
		for (int i = 0; !rc && i < n; i++) {
			char ref[HQV_REF_LEN + 1], number[HQV_NUMBER_MAX + 1];
			unsigned char lookup[HQV_LOOKUP_LEN], w[HQV_WRAPPED_LEN];
			snprintf(ref, sizeof(ref), "%.*s", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
			const unsigned char *wv = (const unsigned char *)PQgetvalue(r, i, 1);
			size_t wl = (size_t)PQgetlength(r, i, 1);
			if (hqv_open_with(old, ref, wv, wl, (const unsigned char *)PQgetvalue(r, i, 2),
					  (size_t)PQgetlength(r, i, 2), number) ||
			    hqv_rewrap_with(old, nk, ref, wv, wl, w)) {
				snprintf(err, errlen, "card vault row %s does not open under the current key: nothing rotated", ref);
				rc = PM_ECORRUPT;
				break;
			}
			hqv_lookup_with(nk, number, lookup);
			sodium_memzero(number, sizeof(number));
			rc = pm_buf_add(&b, ref, strlen(ref));
			rc = rc ? rc : pm_buf_add(&b, "\t", 1);
			rc = rc ? rc : copy_bytea(&b, lookup, sizeof(lookup), '\t');
			rc = rc ? rc : copy_bytea(&b, w, sizeof(w), '\n');
			(*rows)++;
		}
		PQclear(r);
		if (rc || n == 0)
			break;
		rc = hqi_copy_in(c, "COPY vault_rekey FROM STDIN", b.data, b.len, err, errlen);
	}
	pm_buf_free(&b);
	if (rc)
		return rc;
	char e[16];
	snprintf(e, sizeof(e), "%d", nk->epoch);
	const char *pv[1] = { e };
	if (hqi_exec_ok(c, "CLOSE vault_rows", err, errlen))
		return PM_EIO;
	return hqi_exec(c, "UPDATE card_vault v SET lookup = n.lookup, wrapped_key = n.wrapped,"
			" key_epoch = $1::int FROM vault_rekey n WHERE v.ref = n.ref", 1, pv, NULL, NULL, err, errlen);
}

/* Pending downlink erasures: their number re-sealed and lookup recomputed. */
static int rotate_downlink(PGconn *c, const struct hqv_keys *old, const struct hqv_keys *nk, char *err, size_t errlen)
{
	struct pm_buf b = { 0 };
	PGresult *r = PQexecParams(c, "SELECT id::text, sealed FROM downlink WHERE sealed IS NOT NULL", 0, NULL, NULL, NULL,
				   NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail_res(r, err, errlen);
	int rc = PM_OK;
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		char number[HQV_NUMBER_MAX + 1];
		unsigned char lookup[HQV_LOOKUP_LEN], s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD];
		size_t sl = 0;
		if (hqv_downlink_open_with(old, (const unsigned char *)PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
					   number)) {
			snprintf(err, errlen, "a pending erasure (downlink %.*s) does not open under the current key: "
				 "nothing rotated", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
			rc = PM_ECORRUPT;
			break;
		}
		hqv_lookup_with(nk, number, lookup);
		hqv_downlink_seal_with(nk, number, s, &sl);
		sodium_memzero(number, sizeof(number));
		rc = pm_buf_add(&b, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
		rc = rc ? rc : pm_buf_add(&b, "\t", 1);
		rc = rc ? rc : copy_bytea(&b, lookup, sizeof(lookup), '\t');
		rc = rc ? rc : copy_bytea(&b, s, sl, '\n');
	}
	PQclear(r);
	if (!rc && b.len)
		rc = hqi_exec_ok(c, "CREATE TEMP TABLE downlink_rekey (id bigint, lookup bytea, sealed bytea) ON COMMIT DROP",
				 err, errlen) ||
		     hqi_copy_in(c, "COPY downlink_rekey FROM STDIN", b.data, b.len, err, errlen) ||
		     hqi_exec_ok(c, "UPDATE downlink d SET lookup = n.lookup, sealed = n.sealed FROM downlink_rekey n"
				 " WHERE d.id = n.id", err, errlen) ? PM_EIO : PM_OK;
	pm_buf_free(&b);
	return rc;
}

/* The old key file's bytes overwritten before the new one takes its name. */
static void scrub_file(const char *path)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return;
	char zeros[256] = { 0 };
	off_t end = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	for (off_t done = 0; done < end; done += (off_t)sizeof(zeros))
		if (write(fd, zeros, sizeof(zeros)) < 0)
			break;
	if (fsync(fd))
		pm_warn("cannot sync the overwritten old card key file");
	close(fd);
}

int hqv_rotate(PGconn *c, uint64_t *rows, char *err, size_t errlen)
{
	struct hqv_keys old, nk;
	unsigned char master[HQV_KEY_LEN];
	char next[PATH_MAX + 8], e[16], chk[2 + 33];
	const char *path = hqv_key_file();
	*rows = 0;
	int rc = hqv_keys_loaded(c, &old, err, errlen);
	if (rc)
		return rc;
	crypto_kdf_keygen(master);
	hqv_keys_derive(master, old.epoch + 1, &nk);
	snprintf(next, sizeof(next), "%s.new", path);
	/* the new key is on disk before the database depends on it */
	rc = hqv_key_file_write(next, master, nk.epoch, false, err, errlen);
	sodium_memzero(master, sizeof(master));
	snprintf(e, sizeof(e), "%d", nk.epoch);
	strcpy(chk, "\\x");
	sodium_bin2hex(chk + 2, sizeof(chk) - 2, nk.check, sizeof(nk.check));
	const char *pv[3] = { e, chk, NULL };
	char olde[16];
	snprintf(olde, sizeof(olde), "%d", old.epoch);
	pv[2] = olde;
	if (!rc && hqi_exec_ok(c, "BEGIN; LOCK TABLE card_vault, downlink, erasures IN EXCLUSIVE MODE", err, errlen))
		rc = PM_EIO;
	/* the epoch first: card_vault's trigger accepts rows of the database's epoch only */
	if (!rc) {
		PGresult *r = PQexecParams(c, "UPDATE vault_meta SET epoch = $1::int, key_check = $2::bytea WHERE epoch = $3::int",
					   3, NULL, pv, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = fail_res(r, err, errlen);
		else if (strcmp(PQcmdTuples(r), "1")) {
			snprintf(err, errlen, "another rotation ran meanwhile; run keys rotate again");
			rc = PM_EIO;
			PQclear(r);
		} else {
			PQclear(r);
		}
	}
	rc = rc ? rc : rotate_vault(c, &old, &nk, rows, err, errlen);
	rc = rc ? rc : rotate_downlink(c, &old, &nk, err, errlen);
	/* erasure records' lookups were under the old key: they cannot be recomputed (no number) */
	rc = rc ? rc : hqi_exec_ok(c, "UPDATE erasures SET card_mac = NULL WHERE card_mac IS NOT NULL", err, errlen);
	rc = rc ? rc : hqi_exec_ok(c, "COMMIT", err, errlen);
	if (rc) {
		hqi_exec_ok(c, "ROLLBACK", NULL, 0);
		unlink(next);
	} else {
		scrub_file(path);
		if (rename(next, path)) {
			snprintf(err, errlen, "the database is rotated but '%s' could not replace '%s': rename it by hand", next,
				 path);
			rc = PM_EIO;
		}
		hqv_unload();
	}
	sodium_memzero(&old, sizeof(old));
	sodium_memzero(&nk, sizeof(nk));
	return rc;
}

/* ---- migration 5 ---------------------------------------------------------------- */

/* Tables whose card column held numbers before migration 5. */
static const char *const card_tables[] = { "sales", "events", "ledger", "accounts", "store_cards", "cards",
					  "review_requests" };
#define NUMBER_RE "'^[0-9]{1,19}$'"

/* Every live number gets a vault row; card_map(number, ref) says which. */
static int map_numbers(PGconn *c, uint64_t *n_cards, char *err, size_t errlen)
{
	struct pm_buf sql = { 0 }, rows = { 0 };
	int rc = pm_buf_add(&sql, "SELECT DISTINCT card FROM (", 27);
	for (size_t t = 0; !rc && t < sizeof(card_tables) / sizeof(card_tables[0]); t++) {
		char part[120];
		int n = snprintf(part, sizeof(part), "%sSELECT card FROM %s", t ? " UNION " : "", card_tables[t]);
		rc = pm_buf_add(&sql, part, (size_t)n);
	}
	const char *tail = " UNION SELECT card FROM downlink WHERE type <> 'erasure') x WHERE card ~ " NUMBER_RE;
	rc = rc ? rc : pm_buf_add(&sql, tail, strlen(tail) + 1);
	PGresult *r = rc ? NULL : PQexec(c, sql.data);
	pm_buf_free(&sql);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
		return r ? fail_res(r, err, errlen) : PM_ENOMEM;
	int total = PQntuples(r);
	*n_cards = (uint64_t)total;
	struct hqv_card *v = calloc(CHUNK, sizeof(*v));
	rc = v ? hqi_exec_ok(c, "CREATE TEMP TABLE card_map (number text PRIMARY KEY, ref text) ON COMMIT DROP", err, errlen)
	       : PM_ENOMEM;
	for (int at = 0; !rc && at < total; at += CHUNK) {
		int n = total - at < CHUNK ? total - at : CHUNK;
		for (int i = 0; i < n; i++)
			snprintf(v[i].number, sizeof(v[i].number), "%s", PQgetvalue(r, at + i, 0));
		rc = hqv_refs_for(c, v, (size_t)n, true, err, errlen);
		rows.len = 0;
		for (int i = 0; !rc && i < n; i++) {
			rc = pm_buf_add(&rows, v[i].number, strlen(v[i].number));
			rc = rc ? rc : pm_buf_add(&rows, "\t", 1);
			rc = rc ? rc : pm_buf_add(&rows, v[i].ref, HQV_REF_LEN);
			rc = rc ? rc : pm_buf_add(&rows, "\n", 1);
		}
		rc = rc ? rc : hqi_copy_in(c, "COPY card_map FROM STDIN", rows.data, rows.len, err, errlen);
	}
	PQclear(r);
	if (v)
		sodium_memzero(v, CHUNK * sizeof(*v));
	free(v);
	pm_buf_free(&rows);
	return rc;
}

/* Pending downlink erasures: the number sealed, its lookup, a ref (the live one
 * if the number signed up again, else a fresh one that nothing else names). */
static int map_downlink(PGconn *c, char *err, size_t errlen)
{
	struct hqv_keys k;
	struct pm_buf b = { 0 };
	int rc = hqv_keys_loaded(c, &k, err, errlen);
	PGresult *r = rc ? NULL : PQexec(c, "SELECT d.id, d.card, coalesce(m.ref, '') FROM downlink d"
					 " LEFT JOIN card_map m ON m.number = d.card WHERE d.type = 'erasure' AND d.card ~ " NUMBER_RE);
	if (rc)
		return rc;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail_res(r, err, errlen);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		char ref[HQV_REF_LEN + 1];
		unsigned char lookup[HQV_LOOKUP_LEN], s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD];
		size_t sl = 0;
		if (PQgetlength(r, i, 2) == HQV_REF_LEN)
			snprintf(ref, sizeof(ref), "%s", PQgetvalue(r, i, 2));
		else
			hqv_new_ref(ref);
		hqv_lookup_with(&k, PQgetvalue(r, i, 1), lookup);
		hqv_downlink_seal_with(&k, PQgetvalue(r, i, 1), s, &sl);
		rc = pm_buf_add(&b, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
		rc = rc ? rc : pm_buf_add(&b, "\t", 1);
		rc = rc ? rc : pm_buf_add(&b, ref, HQV_REF_LEN);
		rc = rc ? rc : pm_buf_add(&b, "\t", 1);
		rc = rc ? rc : copy_bytea(&b, lookup, sizeof(lookup), '\t');
		rc = rc ? rc : copy_bytea(&b, s, sl, '\n');
	}
	PQclear(r);
	sodium_memzero(&k, sizeof(k));
	if (!rc && b.len)
		rc = hqi_exec_ok(c, "CREATE TEMP TABLE downlink_map (id bigint, ref text, lookup bytea, sealed bytea)"
				 " ON COMMIT DROP", err, errlen) ||
		     hqi_copy_in(c, "COPY downlink_map FROM STDIN", b.data, b.len, err, errlen) ||
		     hqi_exec_ok(c, "UPDATE downlink d SET card = m.ref, lookup = m.lookup, sealed = m.sealed"
				 " FROM downlink_map m WHERE d.id = m.id", err, errlen) ? PM_EIO : PM_OK;
	pm_buf_free(&b);
	return rc;
}

/* `cards import` entries were keyed by SHA-256 of "number,points,tier": the same
 * entries get the key of "ref,points,tier" (hqi_import_seq), the tier found by
 * recomputing the old key, so importing the same file again still adds nothing. */
static int rekey_imports(PGconn *c, char *err, size_t errlen)
{
	struct pm_buf b = { 0 };
	PGresult *r = PQexec(c, "SELECT l.seq, m.number, m.ref, l.points FROM ledger l JOIN card_map m ON m.ref = l.card"
			     " WHERE l.terminal_key = 'hq-import'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail_res(r, err, errlen);
	int rc = PM_OK;
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		int64_t seq = strtoll(PQgetvalue(r, i, 0), NULL, 10), pts = strtoll(PQgetvalue(r, i, 3), NULL, 10), nseq = 0;
		for (int64_t t = -1; t < HQ_TIERS_MAX && !nseq; t++) {
			unsigned char h[crypto_hash_sha256_BYTES];
			char canon[80];
			int cl = snprintf(canon, sizeof(canon), "%s,%" PRId64 ",%" PRId64, PQgetvalue(r, i, 1), pts, t);
			crypto_hash_sha256(h, (const unsigned char *)canon, (unsigned long long)cl);
			uint64_t h64 = 0;
			for (int j = 0; j < 8; j++)
				h64 = (h64 << 8) | h[j];
			if ((int64_t)(h64 & (uint64_t)INT64_MAX) == seq)
				nseq = hqi_import_seq(PQgetvalue(r, i, 2), pts, t);
		}
		if (!nseq) /* not made by this scheme: a key from the ref and the old one */
			nseq = hqi_import_seq(PQgetvalue(r, i, 2), pts, seq);
		char line[64];
		int n = snprintf(line, sizeof(line), "%" PRId64 "\t%" PRId64 "\n", seq, nseq);
		rc = pm_buf_add(&b, line, (size_t)n);
	}
	PQclear(r);
	if (!rc && b.len)
		rc = hqi_exec_ok(c, "CREATE TEMP TABLE import_rekey (old bigint, new bigint) ON COMMIT DROP", err, errlen) ||
		     hqi_copy_in(c, "COPY import_rekey FROM STDIN", b.data, b.len, err, errlen) ||
		     hqi_exec_ok(c, "UPDATE ledger l SET seq = k.new FROM import_rekey k WHERE l.terminal_key = 'hq-import'"
				 " AND l.seq = k.old", err, errlen) ? PM_EIO : PM_OK;
	pm_buf_free(&b);
	return rc;
}

int hqv_migrate_numbers(PGconn *c, char *err, size_t errlen)
{
	uint64_t n = 0;
	PGresult *r = PQexec(c, "SELECT (SELECT count(*) FROM downlink WHERE type = 'erasure')"
			     " + (SELECT count(*) FROM sales WHERE card IS NOT NULL) + (SELECT count(*) FROM events"
			     " WHERE card IS NOT NULL OR payload <> '') + (SELECT count(*) FROM accounts)"
			     " + (SELECT count(*) FROM cards) + (SELECT count(*) FROM review_requests)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail_res(r, err, errlen);
	bool empty = !strcmp(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	if (empty) /* a new database: nothing to convert, no key needed yet */
		return PM_OK;
	int rc = map_numbers(c, &n, err, errlen);
	rc = rc ? rc : map_downlink(c, err, errlen);
	for (size_t t = 0; !rc && t < sizeof(card_tables) / sizeof(card_tables[0]); t++) {
		char sql[200];
		snprintf(sql, sizeof(sql), "UPDATE %s t SET card = m.ref FROM card_map m WHERE t.card = m.number",
			 card_tables[t]);
		rc = hqi_exec_ok(c, sql, err, errlen);
	}
	/* the consent requests (the erasures are refs already, map_downlink) */
	rc = rc ? rc : hqi_exec_ok(c, "UPDATE downlink t SET card = m.ref FROM card_map m WHERE t.card = m.number"
				   " AND t.type <> 'erasure'", err, errlen);
	rc = rc ? rc : rekey_imports(c, err, errlen);
	/* payload text carried the number (consent "CARD yes", offers' "card"): the columns stay */
	rc = rc ? rc : hqi_exec_ok(c, "UPDATE events SET payload = '' WHERE payload <> ''", err, errlen);
	/* statistics were taken of the numbers: retaken of the refs */
	rc = rc ? rc : hqi_exec_ok(c, "ANALYZE sales; ANALYZE events; ANALYZE ledger; ANALYZE accounts;"
				   " ANALYZE store_cards; ANALYZE cards; ANALYZE review_requests; ANALYZE downlink;"
				   " ANALYZE erasures", err, errlen);
	if (!rc)
		pm_warn("schema migration 5: %" PRIu64 " card number(s) moved into the card vault (key file %s; back it up)."
			" Their old row versions and PostgreSQL's WAL still hold the numbers until VACUUM FULL and WAL"
			" recycling, or a dump and restore into a new cluster (docs/privacy.md)", n, hqv_key_file());
	return rc;
}
