/*
 * hq_erasure_open.c - opening a store's sealed erasure (wire erasure
 * payload v2, docs/privacy.md "At the store") at ingest: the number was
 * sealed at the till to the X25519 key converted from HQ's rule-signing
 * Ed25519 key, so HQ opens it with the signing secret key (`posmark-hq
 * serve --key FILE`, or rules_key in hq.conf). Kept apart from hq_db.c: the
 * store side's format, one call at ingest.
 */
#include "hq/hq_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char g_sk[crypto_sign_SECRETKEYBYTES];
static bool g_have_key;

int hqi_erasure_key_load(const char *path, char *err, size_t errlen)
{
	char hex[crypto_sign_SECRETKEYBYTES * 2 + 8];
	size_t n, bin_len = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read the rule-signing key '%s'", path);
		return PM_EIO;
	}
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	hex[n] = '\0';
	int rc = sodium_init() < 0 || sodium_hex2bin(g_sk, sizeof(g_sk), hex, n, " \n", &bin_len, NULL) ||
		 bin_len != sizeof(g_sk);
	sodium_memzero(hex, sizeof(hex));
	if (rc) {
		snprintf(err, errlen, "'%s' is not a rule-signing key (64 bytes in hex, as 'rules keygen' writes)", path);
		return PM_EINVAL;
	}
	g_have_key = true;
	return PM_OK;
}

int hqi_erasure_open(struct wire_event_payload *d, const char *payload, size_t len, char *why, size_t whylen)
{
	struct wire_erasure_event e;
	if (d->type != WIRE_EV_ERASURE || !d->sealed)
		return PM_OK;
	if (!g_have_key) {
		snprintf(why, whylen, "a sealed erasure, and this posmark-hq has no rule-signing key to open it: "
			 "give 'serve --key FILE' (or rules_key in hq.conf), the key the stores' hq.rules_public_key "
			 "belongs to");
		return PM_EINVAL;
	}
	int rc = wire_erasure_open(payload, len, g_sk, &e, why, whylen);
	if (rc == PM_OK)
		memcpy(d->card, e.card, sizeof(d->card));
	sodium_memzero(&e, sizeof(e));
	return rc;
}
