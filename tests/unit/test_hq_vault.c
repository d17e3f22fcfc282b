/*
 * test_hq_vault.c - the card vault's crypto (hq/hq_vault.h; docs/privacy.md,
 * "At HQ"), without a database: keyed lookups that depend on the key, refs
 * that are random and well formed, a sealed number that opens only under its
 * key and ref and holds no digit of the number, rotation's re-wrap (the old
 * key no longer opens the row, the new one does), the downlink's sealed
 * number, and the key file (0600, never overwritten by a creation, refused
 * when damaged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hq/hq_vault.h"
#include "common/pm_err.h"
#include "testutil.h"

#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

static const char NUMBER[] = "6036010000001000377";

static void keys(struct hqv_keys *k, unsigned char fill, int epoch)
{
	unsigned char master[HQV_KEY_LEN];
	memset(master, fill, sizeof(master));
	hqv_keys_derive(master, epoch, k);
}

static void test_lookup(void **state)
{
	(void)state;
	struct hqv_keys k1, k1b, k2;
	unsigned char a[HQV_LOOKUP_LEN], b[HQV_LOOKUP_LEN], c[HQV_LOOKUP_LEN], d[HQV_LOOKUP_LEN], plain[32];
	keys(&k1, 1, 1);
	keys(&k1b, 1, 1);
	keys(&k2, 2, 2);
	hqv_lookup_with(&k1, NUMBER, a);
	hqv_lookup_with(&k1b, NUMBER, b);
	hqv_lookup_with(&k2, NUMBER, c);
	hqv_lookup_with(&k1, "6036010000001000385", d);
	assert_memory_equal(a, b, sizeof(a));     /* the same number, the same key: the same lookup */
	assert_memory_not_equal(a, c, sizeof(a)); /* another key: another lookup (rotation) */
	assert_memory_not_equal(a, d, sizeof(a));
	/* not the plain SHA-256 a brute force would try */
	crypto_hash_sha256(plain, (const unsigned char *)NUMBER, strlen(NUMBER));
	assert_memory_not_equal(a, plain, sizeof(a));
	assert_memory_not_equal(k1.check, k2.check, sizeof(k1.check));
}

static void test_ref(void **state)
{
	(void)state;
	char r1[HQV_REF_LEN + 1], r2[HQV_REF_LEN + 1];
	hqv_new_ref(r1);
	hqv_new_ref(r2);
	assert_int_equal(strlen(r1), HQV_REF_LEN);
	assert_true(hqv_is_ref(r1));
	assert_string_not_equal(r1, r2);
	assert_int_equal(r1[0], 'k'); /* never taken for a number */
	assert_int_equal(strspn(r1 + 1, "abcdefghijklmnopqrstuvwxyz234567"), HQV_REF_LEN - 1);
	assert_false(hqv_is_ref(NUMBER));
	assert_false(hqv_is_ref("k"));
	r1[5] = 'A';
	assert_false(hqv_is_ref(r1));
}

/* Refs made at once share their time prefix (a batch's new cards cluster in the card indexes)
 * and a later second sorts after an earlier one; the rest stays random. */
static void test_ref_order(void **state)
{
	(void)state;
	char a[HQV_REF_LEN + 1], b[HQV_REF_LEN + 1];
	int same = 0;
	for (int i = 0; i < 50; i++) {
		hqv_new_ref(a);
		hqv_new_ref(b);
		assert_true(hqv_is_ref(a) && hqv_is_ref(b));
		assert_true(strncmp(a, b, 8) <= 0); /* b was made no earlier than a */
		same += !strncmp(a, b, 8);
		assert_string_not_equal(a + 8, b + 8);
	}
	assert_true(same >= 49); /* at most one second boundary within the loop */
	/* the prefix's alphabet is in ASCII order: '2' < '7' < 'a' < 'z' */
	assert_true(strcmp("k2", "k7") < 0 && strcmp("k7", "ka") < 0 && strcmp("ka", "kz") < 0);
}

static void test_seal_open(void **state)
{
	(void)state;
	struct hqv_keys k, other;
	char ref[HQV_REF_LEN + 1], ref2[HQV_REF_LEN + 1], out[HQV_NUMBER_MAX + 1];
	unsigned char w[HQV_WRAPPED_LEN], s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD], w2[HQV_WRAPPED_LEN],
		s2[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD];
	size_t sl = 0, sl2 = 0;
	keys(&k, 7, 1);
	keys(&other, 8, 1);
	hqv_new_ref(ref);
	hqv_new_ref(ref2);
	hqv_seal_with(&k, ref, NUMBER, w, s, &sl);
	assert_int_equal(sl, HQV_SEALED_LEN);
	{ /* a short number seals to the same length: the length tells nothing */
		unsigned char ws[HQV_WRAPPED_LEN], ss[HQV_SEALED_LEN];
		size_t sl3 = 0;
		hqv_seal_with(&k, ref, "5550001", ws, ss, &sl3);
		assert_int_equal(sl3, HQV_SEALED_LEN);
		assert_int_equal(hqv_open_with(&k, ref, ws, sizeof(ws), ss, sl3, out), PM_OK);
		assert_string_equal(out, "5550001");
	}
	assert_int_equal(hqv_open_with(&k, ref, w, sizeof(w), s, sl, out), PM_OK);
	assert_string_equal(out, NUMBER);
	/* no run of the number's digits in what is stored */
	assert_null(memmem(s, sl, NUMBER + 4, 8));
	assert_null(memmem(w, sizeof(w), NUMBER + 4, 8));
	/* another key, another ref, a flipped byte: nothing opens, nothing is returned */
	assert_int_equal(hqv_open_with(&other, ref, w, sizeof(w), s, sl, out), PM_ECORRUPT);
	assert_string_equal(out, "");
	assert_int_equal(hqv_open_with(&k, ref2, w, sizeof(w), s, sl, out), PM_ECORRUPT);
	s[30] ^= 1;
	assert_int_equal(hqv_open_with(&k, ref, w, sizeof(w), s, sl, out), PM_ECORRUPT);
	s[30] ^= 1;
	assert_int_equal(hqv_open_with(&k, ref, w, sizeof(w), s, 10, out), PM_ECORRUPT);
	/* the same number sealed twice: different bytes (per-card key and nonce are random) */
	hqv_seal_with(&k, ref, NUMBER, w2, s2, &sl2);
	assert_memory_not_equal(s, s2, sl);
	assert_memory_not_equal(w, w2, sizeof(w));
	/* a row's wrapped key with another row's sealed number does not open */
	assert_int_equal(hqv_open_with(&k, ref, w2, sizeof(w2), s, sl, out), PM_ECORRUPT);
}

static void test_rewrap(void **state)
{
	(void)state;
	struct hqv_keys old, nk;
	char ref[HQV_REF_LEN + 1], out[HQV_NUMBER_MAX + 1];
	unsigned char w[HQV_WRAPPED_LEN], s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD], w2[HQV_WRAPPED_LEN];
	size_t sl = 0;
	keys(&old, 3, 1);
	keys(&nk, 4, 2);
	hqv_new_ref(ref);
	hqv_seal_with(&old, ref, NUMBER, w, s, &sl);
	assert_int_equal(hqv_rewrap_with(&old, &nk, ref, w, sizeof(w), w2), PM_OK);
	/* the sealed number stays; only the new key opens the re-wrapped row */
	assert_int_equal(hqv_open_with(&nk, ref, w2, sizeof(w2), s, sl, out), PM_OK);
	assert_string_equal(out, NUMBER);
	assert_int_equal(hqv_open_with(&old, ref, w2, sizeof(w2), s, sl, out), PM_ECORRUPT);
	/* a deleted row's old wrapped key (what old WAL keeps) does not open under the new key */
	assert_int_equal(hqv_open_with(&nk, ref, w, sizeof(w), s, sl, out), PM_ECORRUPT);
	assert_int_equal(hqv_rewrap_with(&nk, &old, ref, w, sizeof(w), w2), PM_ECORRUPT);
}

static void test_downlink(void **state)
{
	(void)state;
	struct hqv_keys k, other;
	unsigned char s[HQV_NUMBER_MAX + HQV_SEAL_OVERHEAD];
	char out[HQV_NUMBER_MAX + 1];
	size_t sl = 0;
	keys(&k, 5, 1);
	keys(&other, 6, 2);
	hqv_downlink_seal_with(&k, NUMBER, s, &sl);
	assert_null(memmem(s, sl, NUMBER + 4, 8));
	assert_int_equal(hqv_downlink_open_with(&k, s, sl, out), PM_OK);
	assert_string_equal(out, NUMBER);
	assert_int_equal(hqv_downlink_open_with(&other, s, sl, out), PM_ECORRUPT);
}

static void test_key_file(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), path[4200], err[300];
	unsigned char m[HQV_KEY_LEN], back[HQV_KEY_LEN];
	struct stat st;
	int epoch = 0;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/hq-card.key", dir);
	randombytes_buf(m, sizeof(m));
	assert_int_equal(hqv_key_file_read(path, back, &epoch, err, sizeof(err)), PM_ENOENT);
	assert_int_equal(hqv_key_file_write(path, m, 3, true, err, sizeof(err)), PM_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(hqv_key_file_read(path, back, &epoch, err, sizeof(err)), PM_OK);
	assert_memory_equal(m, back, sizeof(m));
	assert_int_equal(epoch, 3);
	/* a creation never replaces a key (another process made it first) */
	unsigned char m2[HQV_KEY_LEN];
	randombytes_buf(m2, sizeof(m2));
	assert_int_equal(hqv_key_file_write(path, m2, 1, true, err, sizeof(err)), PM_EEXIST);
	assert_int_equal(hqv_key_file_read(path, back, &epoch, err, sizeof(err)), PM_OK);
	assert_memory_equal(m, back, sizeof(m));
	/* a replacement (rotation) does */
	assert_int_equal(hqv_key_file_write(path, m2, 4, false, err, sizeof(err)), PM_OK);
	assert_int_equal(hqv_key_file_read(path, back, &epoch, err, sizeof(err)), PM_OK);
	assert_memory_equal(m2, back, sizeof(m2));
	assert_int_equal(epoch, 4);
	/* no temporary file left beside it */
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "test \"$(ls '%s' | wc -l)\" = 1", dir);
	assert_int_equal(system(cmd), 0);
	/* a damaged file is refused, with its name */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("posmark-hq-card-key 1 4 abcd\n", f);
	fclose(f);
	assert_int_equal(hqv_key_file_read(path, back, &epoch, err, sizeof(err)), PM_ECORRUPT);
	assert_non_null(strstr(err, "hq-card.key"));
	tu_rmdir(dir);
}

/* A batch's new rows take their randomness from one stream (hq_vault_rows.c): the ref's
 * random part and the key and nonces are the bytes given, each row opens under its own ref
 * only, and rows from different bytes share nothing (no reused key or nonce). */
static void test_seal_from(void **state)
{
	(void)state;
	struct hqv_keys k;
	unsigned char rnd[2][HQV_REF_RANDOM + HQV_SEAL_RANDOM], w[2][HQV_WRAPPED_LEN], s[2][HQV_SEALED_LEN];
	char ref[2][HQV_REF_LEN + 1], again[HQV_REF_LEN + 1], out[HQV_NUMBER_MAX + 1];
	size_t sl = 0;
	keys(&k, 7, 1);
	randombytes_buf(rnd, sizeof(rnd));
	for (int i = 0; i < 2; i++) {
		hqv_new_ref_from(ref[i], rnd[i]);
		assert_true(hqv_is_ref(ref[i]));
		hqv_seal_from(&k, ref[i], NUMBER, rnd[i] + HQV_REF_RANDOM, w[i], s[i], &sl);
		assert_int_equal(sl, HQV_SEALED_LEN);
		assert_int_equal(hqv_open_with(&k, ref[i], w[i], sizeof(w[i]), s[i], sl, out), PM_OK);
		assert_string_equal(out, NUMBER);
	}
	hqv_new_ref_from(again, rnd[0]);
	assert_memory_equal(again + 8, ref[0] + 8, HQV_REF_LEN - 8); /* the random part is the bytes given */
	assert_string_not_equal(ref[0], ref[1]);
	/* the nonces are the stream's bytes (number's, then key's), and differ between rows */
	assert_memory_equal(s[0], rnd[0] + HQV_REF_RANDOM + HQV_KEY_LEN, 24);
	assert_memory_equal(w[0], rnd[0] + HQV_REF_RANDOM + HQV_KEY_LEN + 24, 24);
	assert_memory_not_equal(s[0], s[1], sizeof(s[0]));
	assert_memory_not_equal(w[0], w[1], sizeof(w[0]));
	/* row 0 under row 1's ref does not open */
	assert_int_equal(hqv_open_with(&k, ref[1], w[0], sizeof(w[0]), s[0], sl, out), PM_ECORRUPT);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_ref_order),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_seal_from),
		cmocka_unit_test(test_rewrap),
		cmocka_unit_test(test_downlink),
		cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
