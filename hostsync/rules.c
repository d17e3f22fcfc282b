/*
 * rules.c - signed rule sets: Ed25519 (libsodium) detached signature over
 * the exact bytes of the rule file. The terminal installs a set only when
 * the signature verifies against the public key in its config, and swaps
 * it in with one durable atomic replace per file, so a reader sees the old file or
 * the new one, never a mix (pm_file_replace: temp file, fsync, rename,
 * fsync of the directory).
 * Sets carry a publication serial under the signature (wire.h); the
 * terminal keeps the installed one in DATA/rules.serial and installs only
 * a higher one, so neither an old row put back at HQ nor a replayed reply
 * brings an older set back.
 */
#include "hostsync/hostsync.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_log.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- publication serials: rule sets only move forward (wire.h) ---------- */

int hs_rules_verify_serial(const char *pubkey_hex, uint64_t serial, const void *body, size_t len,
			   const unsigned char *sig, size_t sig_len)
{
	struct pm_buf b = { 0 };
	const void *msg;
	size_t msg_len;
	int rc = wire_rules_signed_message(serial, body, len, &b, &msg, &msg_len);
	if (!rc)
		rc = hs_rules_verify(pubkey_hex, msg, msg_len, sig, sig_len);
	pm_buf_free(&b);
	return rc;
}

int hs_rules_serial_read(const char *data_dir, uint64_t *serial)
{
	char path[4200], line[32];
	FILE *f;
	*serial = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/rules.serial", data_dir) >= sizeof(path))
		return PM_EINVAL;
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? PM_OK : PM_EIO;
	int ok = fgets(line, sizeof(line), f) && line[0] >= '0' && line[0] <= '9';
	fclose(f);
	if (!ok)
		return PM_ECORRUPT;
	*serial = strtoull(line, NULL, 10);
	return PM_OK;
}

int hs_rules_install_serial(const char *data_dir, const char *pubkey_hex, uint64_t serial, const void *body,
			    size_t len, const unsigned char *sig, size_t sig_len, const char *etag,
			    uint64_t *installed)
{
	char sig_hex[crypto_sign_BYTES * 2 + 2], serial_s[24];
	int rc;

	*installed = 0;
	/* the signature first: nothing unsigned is even compared */
	if ((rc = hs_rules_verify_serial(pubkey_hex, serial, body, len, sig, sig_len)))
		return rc;
	if ((rc = hs_rules_serial_read(data_dir, installed)))
		return rc;
	if (serial < *installed || (serial == 0 && *installed > 0))
		return PM_EREFUSED;
	if (serial == *installed && serial > 0) {
		/* the publication this terminal has: only remember its etag */
		if (etag && replace_in(data_dir, "rules.etag", etag, strlen(etag)))
			pm_warn("cannot record the rule set's etag in '%s': the next sync downloads it again", data_dir);
		return 0;
	}
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, crypto_sign_BYTES);
	strcat(sig_hex, "\n");
	snprintf(serial_s, sizeof(serial_s), "%" PRIu64 "\n", serial);
	/* signature, set, then its serial: a crash in between leaves an older
	 * serial on disk, and the set is simply installed again */
	if ((rc = replace_in(data_dir, "rules.json.sig", sig_hex, strlen(sig_hex))) ||
	    (rc = replace_in(data_dir, "rules.json", body, len)) ||
	    (rc = replace_in(data_dir, "rules.serial", serial_s, strlen(serial_s))))
		return rc;
	if (etag && replace_in(data_dir, "rules.etag", etag, strlen(etag)))
		pm_warn("cannot record the rule set's etag in '%s': the next sync downloads it again", data_dir);
	return 1;
}
