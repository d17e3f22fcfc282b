/*
 * fuzz_decode.c - libFuzzer target for scan_decode(): any bytes a scanner,
 * a magstripe reader or a person can send. The input is copied into an
 * exact-size buffer so ASan catches a read past its end; no state is kept
 * between runs. The first byte picks the AIM id passed beside the data.
 */
#include "drivers/drivers.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const aims[] = { NULL, "]E0", "]C0", "]C1", "]e0", "]Q3", "]Z9", "", "]" };
	struct scan_config cfg;
	struct scan_result r;
	if (size < 1)
		return 0;
	scan_config_default(&cfg);
	if (data[0] & 0x80) {
		cfg.n_card_prefixes = 1;
		strcpy(cfg.card_prefixes[0], "60");
		cfg.card_luhn = false;
	}
	char *copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	scan_decode(&cfg, copy, size - 1, aims[(data[0] & 0x7f) % 9], &r);
	if (r.kind == SCAN_UNKNOWN && r.error[0] == '\0')
		abort();
	if (memchr(r.error, 0, sizeof(r.error)) == NULL || memchr(r.gtin, 0, sizeof(r.gtin)) == NULL ||
	    memchr(r.card, 0, sizeof(r.card)) == NULL)
		abort();
	free(copy);
	return 0;
}
