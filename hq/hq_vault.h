/*
 * hq_vault.h - the card vault: the one place at HQ where a card number is
 * kept, and the one way to get from a number to its pseudonym and back
 * (docs/privacy.md, "At HQ"). Private to hq/ (hq_*.c, the console).
 *
 * Every other table names a card by its ref: a random pseudonym given at
 * first sight ('k' + 26 base32 characters of 16 random bytes), never
 * derived from the number. The vault row card_vault(ref, lookup,
 * wrapped_key, sealed, key_epoch) holds
 *   lookup      keyed BLAKE2b-256 of the number under HQ's lookup key: how a
 *               number finds its ref (nobody without the key can test a guess);
 *   sealed      nonce || XChaCha20-Poly1305(number) under a random per-card key,
 *               the ref as associated data;
 *   wrapped_key nonce || XChaCha20-Poly1305(per-card key) under HQ's wrap key,
 *               the ref as associated data.
 * The lookup, wrap and check keys are derived (crypto_kdf) from one 32-byte
 * master key in a file outside PostgreSQL (hq.conf card_key_file; created
 * 0600 at first use). Deleting the vault row (erasure) leaves the ref's
 * other rows unlinkable to the number; `posmark-hq keys rotate` makes the
 * old WAL's copies of deleted rows useless too.
 *
 * Keys: loaded once per process, on the first call that needs them (or by
 * hqv_load), and checked against vault_meta (epoch, check value): a key
 * file that does not belong to the database is refused, never used. A
 * process whose key is older than the database's (a rotation happened while
 * it ran) reloads it when an insert is refused for the epoch or a row does
 * not open.
 *
 * Errors: 0 or a negative pm_err; err gets one line for a person.
 * Threads: every function may be called from several threads, each on its
 * own connection. No function logs a card number.
 */
#ifndef HQ_VAULT_H
#define HQ_VAULT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HQV_REF_LEN 27                /* 'k' + 26 base32 characters */
#define HQV_LOOKUP_LEN 32             /* keyed BLAKE2b-256 */
#define HQV_KEY_LEN 32                /* master and per-card keys */
#define HQV_NUMBER_MAX 19             /* WIRE_CARD_MAX: 1 to 19 digits */
#define HQV_SEAL_OVERHEAD 40          /* 24-byte nonce + 16-byte tag */
#define HQV_WRAPPED_LEN (HQV_KEY_LEN + HQV_SEAL_OVERHEAD)
#define HQV_SEALED_LEN (HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD) /* every number padded to 19 bytes */
#define HQV_KEY_FILE_NAME "hq-card.key"

/* ---- the key file ----------------------------------------------------------
 * The file used by this process: set before the first call (posmark-hq main:
 * --card-key, $POSMARK_HQ_CARD_KEY, hq.conf card_key_file, else beside
 * hq.conf, else PM_SYSCONFDIR/hq-card.key). The path is copied. */
void hqv_set_key_file(const char *path);
const char *hqv_key_file(void);
/* Load (creating the file if neither it nor the database has a key yet)
 * and check the key against the database. Idempotent. PM_OK; PM_ENOENT
 * (the database has cards sealed under a key and the file is missing);
 * PM_EREFUSED (the file's key is not the database's); PM_EIO. */
int hqv_load(PGconn *c, char *err, size_t errlen);
/* Forget the loaded key (tests; `keys rotate` after it replaced the file). */
void hqv_unload(void);
/* Load the key again: a row that does not open under the loaded one may be
 * of a rotation that happened while this process ran. As hqv_load. */
int hqv_reload(PGconn *c, char *err, size_t errlen);

/* ---- one card ------------------------------------------------------------- */
/* Whether s looks like a ref (so a command can take a number or a ref). */
bool hqv_is_ref(const char *s);
/* The ref of a card number. create: a new vault row if the number has none
 * (inside the caller's transaction if one is open). PM_OK; PM_ENOENT (no
 * row and !create); PM_EINVAL (not 1 to 19 digits); PM_EIO. */
int hqv_ref_for(PGconn *c, const char *number, bool create, char ref[HQV_REF_LEN + 1], char *err, size_t errlen);
/* The number of a ref, decrypted. PM_OK; PM_ENOENT (no vault row: erased, or
 * never a card); PM_ECORRUPT (the row does not open under HQ's key); PM_EIO. */
int hqv_number_of(PGconn *c, const char *ref, char number[HQV_NUMBER_MAX + 1], char *err, size_t errlen);
/* "number or ref" as commands take it: the ref (number: as hqv_ref_for). */
int hqv_card_ref(PGconn *c, const char *card, bool create, char ref[HQV_REF_LEN + 1], char *err, size_t errlen);

/* ---- many cards (ingest, downlink, reports) ----------------------------------- */
struct hqv_card {
	char number[HQV_NUMBER_MAX + 1];
	char ref[HQV_REF_LEN + 1];    /* "" = none (not found, or erased) */
	unsigned char lookup[HQV_LOOKUP_LEN];
	bool made;                    /* the ref was made by this call (in the caller's transaction):
				       * no other row anywhere names it yet */
};
/* Fill ref of v[0..n) from number, in one round trip when every card has a
 * row, two when some are new (create). Not found and !create: ref "". */
int hqv_refs_for(PGconn *c, struct hqv_card *v, size_t n, bool create, char *err, size_t errlen);
/* As hqv_refs_for with create, for ingest: the refs of cards this thread's
 * cache knows (hq_vault_cache.c) are not asked for, and the rest are in one
 * round trip that also reads the vault's generation (vault_meta, migration 9:
 * moved by every erasure and rotation); a generation other than the cache's
 * empties it and the call asks for every card, so an erased card's ref never
 * comes from the cache. What the call learned is kept aside until the caller
 * says its transaction committed (hqv_cache_commit) or failed
 * (hqv_cache_discard, also right before each new transaction). */
int hqv_refs_for_cached(PGconn *c, struct hqv_card *v, size_t n, char *err, size_t errlen);
void hqv_cache_commit(PGconn *c);
void hqv_cache_discard(PGconn *c);
/* As hqv_refs_for_cached (c inside the caller's transaction), but the new cards' refs are
 * made at once and their vault rows written on side (a second connection to the same
 * database, hq_int.h's hqi_side_conn_slot) by a thread, in a transaction of side's own,
 * while the caller goes on with the refs (hq_vault_rows.c). *job: NULL when no card was
 * new; else the caller must call hqv_beside_end exactly once: with commit just before it
 * commits its own transaction (the vault rows commit first; PM_OK, or PM_EBUSY: another
 * transaction made a row for one of the numbers, the key was rotated or a lock wait timed
 * out: roll back and resolve the cards again, in the caller's transaction this time;
 * PM_EIO: a database error, err), or without commit when its transaction fails (the rows
 * are rolled back). The job holds the new cards' numbers (wiped at the end). */
struct hqv_beside;
int hqv_refs_for_beside(PGconn *c, PGconn *side, struct hqv_card *v, size_t n, struct hqv_beside **job, char *err,
			size_t errlen);
int hqv_beside_end(struct hqv_beside *job, bool commit, char *err, size_t errlen);
/* Its parts (hq_vault.c uses them; hq_vault_rows.c): a job for up to cap cards, the cards of v
 * without a ref given new ones and queued, how many are queued, the thread started. */
struct hqv_beside *hqv_beside_new(PGconn *main, PGconn *side, size_t cap);
struct hqv_keys;
int hqv_beside_take(struct hqv_beside *j, const struct hqv_keys *k, struct hqv_card *v, size_t n);
size_t hqv_beside_rows(const struct hqv_beside *j);
void hqv_beside_start(struct hqv_beside *j);
/* The same rows written here, in c's transaction, under a savepoint: PM_OK (every card of v
 * without a ref has a new one), PM_EBUSY (refused: another transaction made one of the
 * rows, or a rotation; nothing written, the refs taken back: insert them another way),
 * PM_ENOMEM, PM_EIO. */
int hqv_copy_rows(PGconn *c, const struct hqv_keys *k, struct hqv_card *v, size_t n, char *err, size_t errlen);
/* The cache's parts (hq_vault.c uses them): whether it is on (POSMARK_HQ_VAULT_CACHE, entries;
 * 0 = off), a card's ref if the cache holds it for this connection and key epoch, whether the
 * cache is of this connection, epoch and generation, emptying it for them, and noting what a
 * statement learned. */
bool hqv_cache_on(void);
bool hqv_cache_get(PGconn *c, int epoch, struct hqv_card *k);
bool hqv_cache_current(PGconn *c, int epoch, int64_t gen);
void hqv_cache_reset(PGconn *c, int epoch, int64_t gen);
void hqv_cache_note(PGconn *c, const struct hqv_card *k);
/* Fill number of v[0..n) from ref (one round trip). Erased: number "". */
int hqv_numbers_of(PGconn *c, struct hqv_card *v, size_t n, char *err, size_t errlen);
/* A vault row as a query returned it (bytea columns in text format,
 * "\x..."), opened: the number, or PM_ECORRUPT. For queries that join
 * card_vault themselves to save a round trip. */
int hqv_open_row(const char *ref, const char *wrapped_hex, const char *sealed_hex, char number[HQV_NUMBER_MAX + 1]);
/* The lookup of a number under the loaded key (hqv_load first). */
int hqv_lookup_of(const char *number, unsigned char lookup[HQV_LOOKUP_LEN]);

/* ---- erasure and the downlink --------------------------------------------------- */
/* Delete the vault row of ref (the link and the key), in the caller's
 * transaction; lookup gets its lookup (for the erasure record), had_row
 * whether there was one. PM_OK or PM_EIO. */
int hqv_erase(PGconn *c, const char *ref, unsigned char lookup[HQV_LOOKUP_LEN], bool *had_row, char *err,
	      size_t errlen);
/* A number sealed for a pending downlink erasure (until the store
 * acknowledges it): out gets "\x" + hex, NUL-terminated (cap >= 2 + 2 *
 * (HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD) + 1), for a bytea parameter. */
int hqv_seal_downlink(const char *number, char *out, size_t cap);
int hqv_open_downlink(const char *sealed_hex, char number[HQV_NUMBER_MAX + 1]);

/* ---- rotation --------------------------------------------------------------------- */
/* `posmark-hq keys rotate`: a new master key; every live vault row's key
 * re-wrapped and lookup recomputed, pending downlink erasures re-sealed,
 * erasure records' lookups dropped, in one transaction; then the key file
 * replaced (written beside as FILE.new, fsync, committed, renamed; the old
 * file overwritten first). rows gets the vault rows re-keyed. */
int hqv_rotate(PGconn *c, uint64_t *rows, char *err, size_t errlen);

/* ---- migration 5 (hq_schema.c) ------------------------------------------------------ */
/* Every card number in the database's tables becomes a ref, the vault
 * filled, in the caller's transaction. */
int hqv_migrate_numbers(PGconn *c, char *err, size_t errlen);

/* ---- the crypto alone (unit tests) ------------------------------------------------- */
struct hqv_keys {
	int epoch;
	unsigned char lookup[32], wrap[32], check[16];
};
void hqv_keys_derive(const unsigned char master[HQV_KEY_LEN], int epoch, struct hqv_keys *k);
void hqv_lookup_with(const struct hqv_keys *k, const char *number, unsigned char lookup[HQV_LOOKUP_LEN]);
void hqv_new_ref(char ref[HQV_REF_LEN + 1]);
/* The same from HQV_REF_RANDOM random bytes the caller drew (a batch's new cards draw theirs
 * at once, hq_vault_rows.c). */
#define HQV_REF_RANDOM 12
void hqv_new_ref_from(char ref[HQV_REF_LEN + 1], const unsigned char r[HQV_REF_RANDOM]);
/* A new per-card key: wrapped (HQV_WRAPPED_LEN bytes) and the number sealed,
 * padded to 19 bytes so its length tells nothing (HQV_SEALED_LEN bytes into
 * sealed, *sealed_len). */
void hqv_seal_with(const struct hqv_keys *k, const char *ref, const char *number, unsigned char *wrapped,
		   unsigned char *sealed, size_t *sealed_len);
/* The same with the card key and both nonces from rnd (HQV_SEAL_RANDOM random bytes the caller
 * drew: key, then the number's nonce, then the key's nonce). */
#define HQV_SEAL_RANDOM (HQV_KEY_LEN + 48)
void hqv_seal_from(const struct hqv_keys *k, const char *ref, const char *number, const unsigned char *rnd,
		   unsigned char *wrapped, unsigned char *sealed, size_t *sealed_len);
/* Open a row: PM_OK with the number, PM_ECORRUPT (wrong key, ref, or bytes). */
int hqv_open_with(const struct hqv_keys *k, const char *ref, const unsigned char *wrapped, size_t wrapped_len,
		  const unsigned char *sealed, size_t sealed_len, char number[HQV_NUMBER_MAX + 1]);
/* The per-card key re-wrapped under another key set (rotation). */
int hqv_rewrap_with(const struct hqv_keys *from, const struct hqv_keys *to, const char *ref,
		    const unsigned char *wrapped, size_t wrapped_len, unsigned char *out);
/* A number sealed for the downlink (HQV_SEALED_LEN bytes, padded), and opened. */
void hqv_downlink_seal_with(const struct hqv_keys *k, const char *number, unsigned char *out, size_t *len);
int hqv_downlink_open_with(const struct hqv_keys *k, const unsigned char *in, size_t len,
			   char number[HQV_NUMBER_MAX + 1]);
/* The loaded keys (loading them first), for rotation. */
int hqv_keys_loaded(PGconn *c, struct hqv_keys *k, char *err, size_t errlen);
/* 1 to 19 digits. */
bool hqv_is_number(const char *s);
/* fsync the directory holding path (after a rename). PM_OK or PM_EIO. */
int hqv_fsync_dir(const char *path);
/* Key file text "posmark-hq-card-key 1 EPOCH HEX\n": write (0600, temp +
 * fsync + rename or link; excl: fail if path exists) and read. */
int hqv_key_file_write(const char *path, const unsigned char master[HQV_KEY_LEN], int epoch, bool excl,
		       char *err, size_t errlen);
int hqv_key_file_read(const char *path, unsigned char master[HQV_KEY_LEN], int *epoch, char *err, size_t errlen);

#endif
