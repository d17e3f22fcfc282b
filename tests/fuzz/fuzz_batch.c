/* fuzz_batch.c - libFuzzer target: the HQ batch decoder on arbitrary bytes
 * (it runs on untrusted uploads). Seeds in tests/fuzz/corpus/batch/. */
#include "wire/wire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_header(void *ctx, const struct wire_batch_header *h)
{
	(void)ctx;
	return h->count > 1000000 ? -1 : 0;
}

static int on_sale(void *ctx, const struct wire_sale *s)
{
	size_t *n = ctx;
	for (uint32_t i = 0; i < s->n_items; i++)
		*n += strlen(s->items[i].gtin);
	for (uint32_t i = 0; i < s->n_redeemed; i++)
		*n += strlen(s->redeemed[i].coupon);
	return 0;
}

static int on_event(void *ctx, const struct wire_decoded_event *e)
{
	size_t *n = ctx;
	*n += e->payload_len + strlen(e->type);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	char err[300];
	struct wire_decode_cb cb = { &n, on_header, on_sale, on_event };
	/* First byte 'R': the rest is the raw body (compression layer fuzzed);
	 * otherwise the bytes are NDJSON that we compress first, so the fuzzer
	 * reaches the line parser instead of dying in inflate. */
	if (size > 0 && data[0] == 'R') {
		wire_batch_decode(data + 1, size - 1, &cb, err, sizeof(err));
		return 0;
	}
	uLongf cap = compressBound(size) + 16;
	unsigned char *z = malloc(cap);
	if (z && compress(z, &cap, data, size) == Z_OK)
		wire_batch_decode(z, cap, &cb, err, sizeof(err));
	free(z);
	return 0;
}
