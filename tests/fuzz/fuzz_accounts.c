/* fuzz_accounts.c - libFuzzer target: the till's decoder of HQ's account
 * pages (posmark-accounts v1, docs/accounts.md) on arbitrary bytes; it runs
 * on what the network hands over. Seeds in tests/fuzz/corpus/accounts/. */
#include "wire/wire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_header(void *ctx, const struct wire_accounts_header *h)
{
	size_t *n = ctx;
	*n += strlen(h->terminal) + (size_t)h->count;
	return 0;
}

static int on_account(void *ctx, const struct wire_account *a)
{
	size_t *n = ctx;
	*n += strlen(a->card);
	for (uint32_t i = 0; i < a->n_bought; i++)
		*n += strlen(a->bought[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	char err[300];
	struct wire_accounts_cb cb = { &n, on_header, on_account };
	/* 'R' first: the raw body (gzip layer fuzzed); else NDJSON compressed here */
	if (size > 0 && data[0] == 'R') {
		wire_accounts_decode(data + 1, size - 1, &cb, err, sizeof(err));
		return 0;
	}
	uLongf cap = compressBound(size) + 16;
	unsigned char *z = malloc(cap);
	if (z && compress(z, &cap, data, size) == Z_OK)
		wire_accounts_decode(z, cap, &cb, err, sizeof(err));
	free(z);
	return 0;
}
