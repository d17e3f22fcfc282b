/*
 * fuzz_status.c - libFuzzer target: wire's store status decoder (HQ runs it
 * on the Posmark-Status header of every authenticated store request). The
 * input is the header's value in an exact-size buffer without a NUL. A value
 * that decodes must encode again and decode to the same fields.
 * Seeds in tests/fuzz/corpus/status/.
 */
#include "wire/wire.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_status s, again;
	char out[WIRE_STATUS_MAX + 1], err[300];
	char *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	if (wire_status_decode(p, size, &s, err, sizeof(err)) == 0) {
		if (wire_status_encode(&s, out, sizeof(out)) != 0)
			abort();   /* what the decoder accepts, the encoder must write */
		if (wire_status_decode(out, strlen(out), &again, err, sizeof(err)) != 0)
			abort();
		if (memcmp(&s, &again, sizeof(s)))
			abort();
	}
	free(p);
	return 0;
}
