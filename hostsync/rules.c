/*
 * rules.c - signed rule sets: Ed25519 (libsodium) detached signature over
 * the exact bytes of the rule file. The terminal installs a set only when
 * the signature verifies against the public key in its config, and swaps
 * it in with write-temp + fsync + rename, so a reader sees the old file or
 * the new one, never a mix.
 */
#include "hostsync/hostsync.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_file_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[4200], dst[4200];
	int fd, rc = PM_OK;
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return pm_from_errno(errno);
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = pm_from_errno(errno);
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (!rc && fsync(fd))
		rc = pm_from_errno(errno);
	close(fd);
	if (!rc && rename(tmp, dst))
		rc = pm_from_errno(errno);
	if (rc)
		unlink(tmp);
	return rc;
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
	int rc, dfd;

	if ((rc = hs_rules_verify(pubkey_hex, body, len, sig, sig_len)))
		return rc;
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, crypto_sign_BYTES);
	strcat(sig_hex, "\n");
	/* signature first: rules.json is what readers look at, and it goes last */
	if ((rc = write_file_atomic(data_dir, "rules.json.sig", sig_hex, strlen(sig_hex))) ||
	    (rc = write_file_atomic(data_dir, "rules.json", body, len)))
		return rc;
	if (etag)
		write_file_atomic(data_dir, "rules.etag", etag, strlen(etag));
	if ((dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd); /* the renames themselves are durable */
		close(dfd);
	}
	return PM_OK;
}
