/*
 * hq_vault_crypto.c - the card vault's crypto and key file (hq_vault.h):
 * key derivation, keyed lookups, refs, sealing a number under a per-card
 * key and wrapping that key, re-wrapping (rotation), the downlink's sealed
 * number, and the key file. No database here (tests/unit/test_hq_vault.c).
 */
#include "hq/hq_vault.h"
#include "common/pm_err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KDF_CONTEXT "pmcard01"
enum { SUBKEY_LOOKUP = 1, SUBKEY_WRAP = 2, SUBKEY_CHECK = 3 };
#define CHECK_TEXT "posmark-hq card key check"
#define DOWNLINK_AD "posmark-hq downlink erasure"
#define KEY_FILE_TAG "posmark-hq-card-key 1"

/* ---- the crypto ------------------------------------------------------------- */

void hqv_keys_derive(const unsigned char master[HQV_KEY_LEN], int epoch, struct hqv_keys *k)
{
	unsigned char check_key[32];
	k->epoch = epoch;
	crypto_kdf_derive_from_key(k->lookup, sizeof(k->lookup), SUBKEY_LOOKUP, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->wrap, sizeof(k->wrap), SUBKEY_WRAP, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(check_key, sizeof(check_key), SUBKEY_CHECK, KDF_CONTEXT, master);
	crypto_generichash(k->check, sizeof(k->check), (const unsigned char *)CHECK_TEXT, strlen(CHECK_TEXT), check_key,
			   sizeof(check_key));
	sodium_memzero(check_key, sizeof(check_key));
}

void hqv_lookup_with(const struct hqv_keys *k, const char *number, unsigned char lookup[HQV_LOOKUP_LEN])
{
	crypto_generichash(lookup, HQV_LOOKUP_LEN, (const unsigned char *)number, strlen(number), k->lookup,
			   sizeof(k->lookup));
}

/*
 * 'k', then 7 characters of the second it was made (35 bits, in an alphabet whose ASCII order
 * is its value order), then 19 characters of 95 random bits. Refs made together sort together:
 * a batch's new cards go to the right-hand end of every index on a card column (sales, ledger,
 * accounts, store_cards, the vault) instead of one random page each (docs/privacy.md; the
 * second tells no more than the card's first sale, stored beside it). Older refs (16 random
 * bytes) have the same form; nothing reads the time back.
 */
void hqv_new_ref_from(char ref[HQV_REF_LEN + 1], const unsigned char r[HQV_REF_RANDOM])
{
	static const char b32[] = "234567abcdefghijklmnopqrstuvwxyz"; /* ASCII order = value order */
	uint64_t t = (uint64_t)time(NULL) & ((UINT64_C(1) << 35) - 1);
	ref[0] = 'k';
	for (int i = 0; i < 7; i++)
		ref[1 + i] = b32[(t >> (5 * (6 - i))) & 31];
	for (int i = 0; i < HQV_REF_LEN - 8; i++) {
		int bit = i * 5, v = 0;
		for (int b = 0; b < 5; b++, bit++)
			v = (v << 1) | ((r[bit / 8] >> (7 - bit % 8)) & 1);
		ref[8 + i] = b32[v];
	}
	ref[HQV_REF_LEN] = '\0';
}

void hqv_new_ref(char ref[HQV_REF_LEN + 1])
{
	unsigned char r[HQV_REF_RANDOM];
	randombytes_buf(r, sizeof(r));
	hqv_new_ref_from(ref, r);
	sodium_memzero(r, sizeof(r));
}

bool hqv_is_ref(const char *s)
{
	return s[0] == 'k' && strlen(s) == HQV_REF_LEN && strspn(s + 1, "abcdefghijklmnopqrstuvwxyz234567") == HQV_REF_LEN - 1;
}

bool hqv_is_number(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= HQV_NUMBER_MAX && strspn(s, "0123456789") == n;
}

/* nonce || AEAD(m) under key, ad as associated data; the nonce given (random) */
static void seal_n(const unsigned char *key, const char *ad, const unsigned char *m, size_t mlen,
		   const unsigned char *nonce, unsigned char *out)
{
	memcpy(out, nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, m, mlen,
						   (const unsigned char *)ad, strlen(ad), NULL, out, key);
}

static void seal(const unsigned char *key, const char *ad, const unsigned char *m, size_t mlen, unsigned char *out)
{
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	randombytes_buf(nonce, sizeof(nonce));
	seal_n(key, ad, m, mlen, nonce, out);
}

static int unseal(const unsigned char *key, const char *ad, const unsigned char *in, size_t len, unsigned char *m,
		  size_t cap, size_t *mlen)
{
	unsigned long long n = 0;
	if (len < HQV_SEAL_OVERHEAD || len - HQV_SEAL_OVERHEAD > cap)
		return PM_ECORRUPT;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &n, NULL, in + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
						       len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
						       (const unsigned char *)ad, strlen(ad), in, key))
		return PM_ECORRUPT;
	*mlen = (size_t)n;
	return PM_OK;
}

/* A number padded with NULs to HQV_NUMBER_MAX bytes before it is sealed: every
 * sealed number is as long as any other, so its length tells nothing. */
static void seal_number(const unsigned char *key, const char *ad, const char *number, const unsigned char *nonce,
			unsigned char *out)
{
	unsigned char pad[HQV_NUMBER_MAX] = { 0 };
	memcpy(pad, number, strnlen(number, HQV_NUMBER_MAX));
	seal_n(key, ad, pad, sizeof(pad), nonce, out);
	sodium_memzero(pad, sizeof(pad));
}

/* rnd: the card key, then the two nonces (HQV_SEAL_RANDOM bytes) */
void hqv_seal_from(const struct hqv_keys *k, const char *ref, const char *number, const unsigned char *rnd,
		   unsigned char *wrapped, unsigned char *sealed, size_t *sealed_len)
{
	enum { NB = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES };
	_Static_assert(HQV_SEAL_RANDOM == HQV_KEY_LEN + 2 * NB, "a card key and two nonces");
	seal_number(rnd, ref, number, rnd + HQV_KEY_LEN, sealed);
	*sealed_len = HQV_SEALED_LEN;
	seal_n(k->wrap, ref, rnd, HQV_KEY_LEN, rnd + HQV_KEY_LEN + NB, wrapped);
}

void hqv_seal_with(const struct hqv_keys *k, const char *ref, const char *number, unsigned char *wrapped,
		   unsigned char *sealed, size_t *sealed_len)
{
	unsigned char rnd[HQV_SEAL_RANDOM];
	randombytes_buf(rnd, sizeof(rnd));
	hqv_seal_from(k, ref, number, rnd, wrapped, sealed, sealed_len);
	sodium_memzero(rnd, sizeof(rnd));
}

int hqv_open_with(const struct hqv_keys *k, const char *ref, const unsigned char *wrapped, size_t wrapped_len,
		  const unsigned char *sealed, size_t sealed_len, char number[HQV_NUMBER_MAX + 1])
{
	unsigned char card_key[HQV_KEY_LEN];
	size_t n = 0, klen = 0;
	int rc = unseal(k->wrap, ref, wrapped, wrapped_len, card_key, sizeof(card_key), &klen);
	if (!rc && klen != sizeof(card_key))
		rc = PM_ECORRUPT;
	if (!rc)
		rc = unseal(card_key, ref, sealed, sealed_len, (unsigned char *)number, HQV_NUMBER_MAX, &n);
	sodium_memzero(card_key, sizeof(card_key));
	number[rc ? 0 : n] = '\0'; /* the padding ends the string */
	if (!rc && !hqv_is_number(number)) {
		number[0] = '\0';
		rc = PM_ECORRUPT;
	}
	return rc;
}

int hqv_rewrap_with(const struct hqv_keys *from, const struct hqv_keys *to, const char *ref,
		    const unsigned char *wrapped, size_t wrapped_len, unsigned char *out)
{
	unsigned char card_key[HQV_KEY_LEN];
	size_t klen = 0;
	int rc = unseal(from->wrap, ref, wrapped, wrapped_len, card_key, sizeof(card_key), &klen);
	if (!rc && klen == sizeof(card_key))
		seal(to->wrap, ref, card_key, sizeof(card_key), out);
	sodium_memzero(card_key, sizeof(card_key));
	return rc ? rc : klen == sizeof(card_key) ? PM_OK : PM_ECORRUPT;
}

/* ---- the key file -------------------------------------------------------------- */

int hqv_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return PM_EIO;
	int rc = fsync(fd) ? PM_EIO : PM_OK;
	close(fd);
	return rc;
}

int hqv_key_file_write(const char *path, const unsigned char master[HQV_KEY_LEN], int epoch, bool excl,
		       char *err, size_t errlen)
{
	char tmp[PATH_MAX], text[160], hex[2 * HQV_KEY_LEN + 1];
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "card key file path '%s' is too long", path);
		return PM_EINVAL;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the card key file beside '%s': %s", path, strerror(errno));
		return PM_EIO;
	}
	sodium_bin2hex(hex, sizeof(hex), master, HQV_KEY_LEN);
	int n = snprintf(text, sizeof(text), KEY_FILE_TAG " %d %s\n", epoch, hex);
	int rc = fchmod(fd, 0600) || write(fd, text, (size_t)n) != n || fsync(fd) ? PM_EIO : PM_OK;
	sodium_memzero(text, sizeof(text));
	sodium_memzero(hex, sizeof(hex));
	if (close(fd))
		rc = PM_EIO;
	if (!rc && excl) {
		/* link fails if the name exists: two processes creating it at once agree on one key */
		if (link(tmp, path))
			rc = errno == EEXIST ? PM_EEXIST : PM_EIO;
		unlink(tmp);
	} else if (!rc && rename(tmp, path)) {
		rc = PM_EIO;
	}
	if (rc)
		unlink(tmp);
	if (rc == PM_EIO)
		snprintf(err, errlen, "cannot write the card key file '%s': %s", path, strerror(errno));
	return rc ? rc : hqv_fsync_dir(path);
}

int hqv_key_file_read(const char *path, unsigned char master[HQV_KEY_LEN], int *epoch, char *err, size_t errlen)
{
	char text[200], hex[2 * HQV_KEY_LEN + 2];
	size_t bin = 0;
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read the card key file '%s': %s", path, strerror(errno));
		return errno == ENOENT ? PM_ENOENT : PM_EIO;
	}
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	int rc = sscanf(text, KEY_FILE_TAG " %d %65s", epoch, hex) == 2 && *epoch > 0 &&
			 !sodium_hex2bin(master, HQV_KEY_LEN, hex, strlen(hex), NULL, &bin, NULL) && bin == HQV_KEY_LEN
		 ? PM_OK : PM_ECORRUPT;
	sodium_memzero(text, sizeof(text));
	sodium_memzero(hex, sizeof(hex));
	if (rc)
		snprintf(err, errlen, "'%s' is not a posmark-hq card key file", path);
	return rc;
}

void hqv_downlink_seal_with(const struct hqv_keys *k, const char *number, unsigned char *out, size_t *len)
{
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	randombytes_buf(nonce, sizeof(nonce));
	seal_number(k->wrap, DOWNLINK_AD, number, nonce, out);
	*len = HQV_SEALED_LEN;
}

int hqv_downlink_open_with(const struct hqv_keys *k, const unsigned char *in, size_t len,
			   char number[HQV_NUMBER_MAX + 1])
{
	size_t n = 0;
	int rc = unseal(k->wrap, DOWNLINK_AD, in, len, (unsigned char *)number, HQV_NUMBER_MAX, &n);
	number[rc ? 0 : n] = '\0';
	return rc;
}

