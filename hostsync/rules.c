/*
 * rules.c - signed rule sets: Ed25519 (libsodium) detached signature over
 * the exact bytes of the rule file. The terminal installs a set only when
 * the signature verifies against the public key in its config, and swaps
 * it in with one durable atomic replace per file, so a reader sees the old file or
 * the new one, never a mix (pm_file_replace: temp file, fsync, rename,
 * fsync of the directory).
 */
#include "hostsync/hostsync.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_log.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* DIR/NAME replaced durably and atomically (common/pm_file.h, the project's one way). */
static int replace_in(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4200];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return PM_EINVAL;
	return pm_file_replace(path, data, len, 0644);
}

int hs_rules_verify(const char *pubkey_hex, const void *body, size_t len, const unsigned char *sig,
		    size_t sig_len)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	size_t pk_len = 0;
	if (sodium_init() < 0)
		return PM_ENOMEM;
	if (!pubkey_hex || sodium_hex2bin(pk, sizeof(pk), pubkey_hex, strlen(pubkey_hex), NULL, &pk_len,
					  NULL) || pk_len != sizeof(pk))
		return PM_EINVAL;
	if (!sig || sig_len != crypto_sign_BYTES ||
	    crypto_sign_verify_detached(sig, body, len, pk) != 0)
		return PM_ECHECK;
	return PM_OK;
}

int hs_rules_install(const char *data_dir, const char *pubkey_hex, const void *body, size_t len,
		     const unsigned char *sig, size_t sig_len, const char *etag)
{
	char sig_hex[crypto_sign_BYTES * 2 + 2];
	int rc;

	if ((rc = hs_rules_verify(pubkey_hex, body, len, sig, sig_len)))
		return rc;
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, crypto_sign_BYTES);
	strcat(sig_hex, "\n");
	/* signature first: rules.json is what readers look at, and it goes last */
	if ((rc = replace_in(data_dir, "rules.json.sig", sig_hex, strlen(sig_hex))) ||
	    (rc = replace_in(data_dir, "rules.json", body, len)))
		return rc;
	if (etag && replace_in(data_dir, "rules.etag", etag, strlen(etag)))
		pm_warn("cannot record the rule set's etag in '%s': the next sync downloads it again", data_dir);
	return PM_OK;
}
