/* fuzz_admin_reply.c - libFuzzer target: card's reader of serve's admin-socket reply
 * (hqi_admin_reply_parse, hq_admin_ask.c: what the front program and the full one take from
 * the socket) on arbitrary bytes. An answer must lie inside the reply, its err text (no NUL in it) must be
 * NUL-terminated within the buffer, and the parts must add up to the reply's length; the input
 * is copied to a buffer of its exact size, so a read past it is ASan's. Seeds in
 * tests/fuzz/corpus/admin_reply/. */
#include "hq/hq_lite_int.h"
#include "common/pm_err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *rep = malloc(size ? size : 1), err[64];
	const char *out = NULL;
	size_t outlen = 0;
	if (!rep)
		return 0;
	memcpy(rep, data, size);
	memset(err, 'x', sizeof(err));
	int rc = hqi_admin_reply_parse(rep, size, &out, &outlen, err, sizeof(err));
	if (rc != HQI_ADMIN_NOT_ANSWERED) {
		size_t el = strnlen(err, sizeof(err));
		if ((rc != PM_OK && rc != PM_ENOENT) || el == sizeof(err) || out < rep || out + outlen + el != rep + size ||
		    memcmp(out + outlen, err, el) || memcmp(rep, "OK ", 3))
			abort();
	}
	free(rep);
	return 0;
}
