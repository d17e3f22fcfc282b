/*
 * hq_vault_rows.c - new card vault rows, sealed and written by COPY (binary
 * format), in the caller's transaction or beside it on a second connection
 * (hq_vault.h; docs/privacy.md and docs/hq.md, "Ingest").
 *
 * Both ways share one path: the new cards' refs are made at once and their
 * rows queued (hqv_beside_take), then sealed a chunk at a time while the
 * server stores the chunk before (copy_rows). The randomness of all of them
 * (each ref's random bits, each card key, both nonces) comes from one ChaCha20
 * stream seeded by 32 bytes of the system's generator, instead of four system
 * calls a card.
 *
 * In the caller's transaction (hqv_copy_rows, refs_for_chunk's way): under a
 * savepoint; if another transaction inserted one of the numbers meanwhile, or
 * a rotation moved the epoch (card_vault's statement trigger), the savepoint
 * is rolled back, the refs are taken back and the caller inserts the rows one
 * statement instead.
 *
 * Beside it (hqv_refs_for_beside, a sales batch's way): in a batch of cards
 * new to HQ the vault rows (a sealed number, two unique indexes) took a
 * quarter of the batch's time on the main connection, in series with
 * everything else. Here a thread COPYs them on the side connection
 * (hq_side_conn.c, HQI_SIDE_VAULT): two backends, two cores. The side
 * transaction stays open until the batch's transaction is about to commit:
 * hqv_beside_end(commit) commits it just before, or rolls it back with a
 * failed or refused batch, so a refused batch leaves no vault row and no
 * committed row ever names a ref without its vault row. Until then the rows
 * are as invisible to other transactions as they were in the batch's own. If
 * the batch's COMMIT fails after the side's, the vault keeps rows of numbers
 * with no sale: cards like those a lookup makes; the batch's retry finds them.
 *
 * A side transaction that fails (another batch made a row for one of the
 * numbers meanwhile: unique violation; a key rotation: PMK01; a lock it
 * waited on too long; a lost connection) makes the batch's attempt roll back
 * and run again with its vault rows in its own transaction (hq_db.c). The side
 * sets lock_timeout: the batch's transaction may hold the serial lock another
 * batch waits for while that batch holds a row the side waits for, a cycle
 * PostgreSQL cannot see (one leg of it is this process waiting for its
 * thread).
 */
#include "hq/hq_vault.h"
#include "hq/hq_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ROW_RANDOM (HQV_REF_RANDOM + HQV_SEAL_RANDOM)
#define COPY_CHUNK 1024
/* long enough for a busy database, short enough that an unseen wait cycle costs one retry */
#define SIDE_LOCK_TIMEOUT "SET LOCAL lock_timeout = '3s'"

struct beside_row {
	char number[HQV_NUMBER_MAX + 1];
	char ref[HQV_REF_LEN + 1];
	unsigned char lookup[HQV_LOOKUP_LEN];
	unsigned char rnd[ROW_RANDOM];
};

struct hqv_beside {
	PGconn *main, *side;
	struct hqv_keys k;
	bool mixed_epochs;            /* rows taken under two key epochs (a rotation between chunks) */
	struct beside_row *rows;      /* sodium_allocarray: numbers and key material, wiped at the end */
	size_t n, cap;
	pthread_t th;
	bool threaded;
	int rc;                       /* the thread's outcome: PM_OK, PM_EBUSY (try again), PM_EIO */
	char err[300];
};

struct hqv_beside *hqv_beside_new(PGconn *main, PGconn *side, size_t cap)
{
	struct hqv_beside *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->rows = sodium_allocarray(cap ? cap : 1, sizeof(*j->rows));
	if (!j->rows) {
		free(j);
		return NULL;
	}
	j->main = main;
	j->side = side;
	j->cap = cap ? cap : 1;
	return j;
}

/* refs_for_chunk's step (hq_vault.c): every card of v still without a ref gets a new one now
 * (made), and its row is queued for the side connection. */
int hqv_beside_take(struct hqv_beside *j, const struct hqv_keys *k, struct hqv_card *v, size_t n)
{
	size_t missing = 0;
	for (size_t i = 0; i < n; i++)
		missing += !v[i].ref[0];
	if (!missing)
		return PM_OK;
	if (j->n + missing > j->cap)
		return PM_ENOMEM; /* more cards than the caller said: not expected */
	if (j->n && j->k.epoch != k->epoch)
		j->mixed_epochs = true;
	j->k = *k;
	/* the randomness of all of them (ref, card key, two nonces) from one seeded stream */
	unsigned char *rnd = sodium_malloc(missing * ROW_RANDOM), seed[randombytes_SEEDBYTES];
	if (!rnd)
		return PM_ENOMEM;
	randombytes_buf(seed, sizeof(seed));
	randombytes_buf_deterministic(rnd, missing * ROW_RANDOM, seed);
	sodium_memzero(seed, sizeof(seed));
	for (size_t i = 0, r = 0; i < n; i++) {
		if (v[i].ref[0])
			continue;
		struct beside_row *row = &j->rows[j->n++];
		memcpy(row->rnd, rnd + ROW_RANDOM * r++, ROW_RANDOM);
		hqv_new_ref_from(row->ref, row->rnd);
		memcpy(row->number, v[i].number, sizeof(row->number));
		memcpy(row->lookup, v[i].lookup, HQV_LOOKUP_LEN);
		memcpy(v[i].ref, row->ref, sizeof(v[i].ref));
		v[i].made = true;
	}
	sodium_free(rnd);
	return PM_OK;
}

/* One row in COPY's binary format: five fields, each its length and bytes (no hex to write,
 * none for the server to decode). */
static int binary_row(struct pm_buf *b, const struct hqv_keys *k, const struct beside_row *row)
{
	unsigned char w[HQV_WRAPPED_LEN], s[HQV_SEALED_LEN], f[4];
	size_t sl = 0;
	hqv_seal_from(k, row->ref, row->number, row->rnd + HQV_REF_RANDOM, w, s, &sl);
	const void *data[4] = { row->ref, row->lookup, w, s };
	const size_t len[4] = { HQV_REF_LEN, HQV_LOOKUP_LEN, sizeof(w), sl };
	f[0] = 0;
	f[1] = 5;
	int rc = pm_buf_add(b, f, 2);
	for (int i = 0; !rc && i < 4; i++) {
		hqi_put_be32(f, (uint32_t)len[i]);
		rc = pm_buf_add(b, f, 4);
		rc = rc ? rc : pm_buf_add(b, data[i], len[i]);
	}
	hqi_put_be32(f, 4);
	rc = rc ? rc : pm_buf_add(b, f, 4);
	hqi_put_be32(f, (uint32_t)k->epoch);
	rc = rc ? rc : pm_buf_add(b, f, 4);
	sodium_memzero(s, sizeof(s));
	return rc;
}

/* Errors another attempt may not meet: a row another transaction made, a rotation, a wait
 * given up, a deadlock or serialization failure. */
static bool try_again(const char *sqlstate)
{
	return !strcmp(sqlstate, "23505") || !strcmp(sqlstate, "PMK01") || !strcmp(sqlstate, "55P03") ||
	       !strcmp(sqlstate, "40P01") || !strcmp(sqlstate, "40001");
}

static void fail(struct hqv_beside *j, PGconn *conn, PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	/* a lost side connection is no reason to fail the batch: the next attempt goes without it */
	j->rc = (st && try_again(st)) || PQstatus(conn) != CONNECTION_OK ? PM_EBUSY : PM_EIO;
	snprintf(j->err, sizeof(j->err), "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
}

/* The queued rows by one COPY on conn: sealed a chunk at a time while the server stores the
 * chunk before. j->rc: PM_OK, or how it failed (j->err). */
static void copy_rows(struct hqv_beside *j, PGconn *conn)
{
	struct pm_buf b = { 0 };
	PGresult *r = PQexec(conn, "COPY card_vault (ref, lookup, wrapped_key, sealed, key_epoch) FROM STDIN (FORMAT binary)");
	bool ok = PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok)
		fail(j, conn, r);
	PQclear(r);
	if (!ok)
		return;
	/* signature, flags, header extension length */
	int rc = pm_buf_add(&b, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
	for (size_t i = 0; ok && !rc && i < j->n; i++) {
		rc = binary_row(&b, &j->k, &j->rows[i]);
		if (!rc && i + 1 == j->n)
			rc = pm_buf_add(&b, "\377\377", 2); /* trailer: field count -1 */
		if (!rc && ((i + 1) % COPY_CHUNK == 0 || i + 1 == j->n)) {
			ok = PQputCopyData(conn, b.data, (int)b.len) == 1;
			sodium_memzero(b.data, b.len);
			b.len = 0;
		}
	}
	if (b.data)
		sodium_memzero(b.data, b.len);
	pm_buf_free(&b);
	/* ended whatever happened (a failed send leaves the connection in COPY state otherwise) */
	if (PQputCopyEnd(conn, ok && !rc ? NULL : "vault rows not sent whole") != 1)
		ok = false;
	r = PQgetResult(conn);
	if (!ok || rc || PQresultStatus(r) != PGRES_COMMAND_OK) {
		fail(j, conn, r);
		if (rc == PM_ENOMEM) {
			j->rc = PM_ENOMEM;
			snprintf(j->err, sizeof(j->err), "out of memory");
		}
	}
	PQclear(r);
	while ((r = PQgetResult(conn))) {
		bool copy_state = PQresultStatus(r) == PGRES_COPY_IN;
		PQclear(r);
		if (copy_state) /* still in COPY (the end could not be sent): the connection is dropped */
			break;
	}
}

/* The thread: open the side transaction and COPY the rows; the transaction stays open for
 * hqv_beside_end. */
static void *write_beside(void *arg)
{
	struct hqv_beside *j = arg;
	PGresult *r = PQexec(j->side, "BEGIN; " SIDE_LOCK_TIMEOUT);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail(j, j->side, r);
	PQclear(r);
	if (!j->rc)
		copy_rows(j, j->side);
	return NULL;
}

static void rows_free(struct hqv_beside *j)
{
	sodium_free(j->rows);
	sodium_memzero(&j->k, sizeof(j->k));
	free(j);
}

int hqv_copy_rows(PGconn *c, const struct hqv_keys *k, struct hqv_card *v, size_t n, char *err, size_t errlen)
{
	struct hqv_beside *j = hqv_beside_new(c, NULL, n);
	int rc = j ? hqv_beside_take(j, k, v, n) : PM_ENOMEM;
	if (!rc && !j->n) {
		rows_free(j);
		return PM_OK;
	}
	if (!rc)
		rc = hqi_exec_ok(c, "SAVEPOINT vault_copy", err, errlen) ? PM_EIO : PM_OK;
	if (!rc) {
		copy_rows(j, c);
		if (!j->rc) {
			rc = hqi_exec_ok(c, "RELEASE SAVEPOINT vault_copy", err, errlen) ? PM_EIO : PM_OK;
		} else {
			pm_dbg("vault: COPY of new rows refused (%s): one statement instead", j->err);
			rc = hqi_exec_ok(c, "ROLLBACK TO SAVEPOINT vault_copy; RELEASE SAVEPOINT vault_copy", err, errlen)
				     ? PM_EIO : j->rc == PM_ENOMEM ? PM_ENOMEM : PM_EBUSY;
		}
	}
	if (rc == PM_ENOMEM)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; rc && i < n; i++)
		if (v[i].made) { /* not written: the caller makes them another way */
			v[i].ref[0] = '\0';
			v[i].made = false;
		}
	if (j)
		rows_free(j);
	return rc;
}

void hqv_beside_start(struct hqv_beside *j)
{
	if (j->mixed_epochs) { /* the trigger would refuse some rows: the attempt runs again */
		j->rc = PM_EBUSY;
		snprintf(j->err, sizeof(j->err), "the card key changed while the batch's cards were resolved");
		return;
	}
	pm_dbg("vault: %zu new card row(s) on the second connection", j->n);
	j->threaded = pthread_create(&j->th, NULL, write_beside, j) == 0;
	if (!j->threaded)
		write_beside(j); /* no thread: the same work, in series */
}

int hqv_beside_end(struct hqv_beside *j, bool commit, char *err, size_t errlen)
{
	if (!j)
		return PM_OK;
	if (j->threaded)
		pthread_join(j->th, NULL);
	int rc = j->rc;
	if (!rc && commit) {
		PGresult *r = PQexec(j->side, "COMMIT");
		const char *tag = PQcmdStatus(r);
		if (PQresultStatus(r) != PGRES_COMMAND_OK || !tag || strcmp(tag, "COMMIT"))
			fail(j, j->side, r), rc = j->rc;
		PQclear(r);
	} else if (PQtransactionStatus(j->side) != PQTRANS_IDLE) {
		PQclear(PQexec(j->side, "ROLLBACK"));
	}
	if (rc && err)
		snprintf(err, errlen, "card vault (second connection): %s", j->err);
	if (PQstatus(j->side) != CONNECTION_OK || PQtransactionStatus(j->side) != PQTRANS_IDLE)
		hqi_side_drop_slot(j->main, HQI_SIDE_VAULT);
	rows_free(j);
	return rc;
}

size_t hqv_beside_rows(const struct hqv_beside *j)
{
	return j->n;
}
