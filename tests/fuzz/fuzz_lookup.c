/* fuzz_lookup.c - libFuzzer target: the till's decoders of HQ's answers to
 * a sale lookup (posmark-sale v1) and a coupon check (posmark-coupon v1) on
 * arbitrary bytes; a decoded lookup is encoded again and must decode the
 * same. Seeds in tests/fuzz/corpus/lookup/. */
#include "wire/wire.h"
#include "common/pm_buf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_sale_lookup l, again;
	struct wire_coupon_status c;
	struct pm_buf out;
	char err[300];
	if (wire_sale_lookup_decode(data, size, &l, err, sizeof(err)) == 0) {
		if (wire_sale_lookup_encode(&l, &out) == 0) {
			if (wire_sale_lookup_decode(out.data, out.len, &again, err, sizeof(err)) != 0 ||
			    again.sale.seq != l.sale.seq || again.n_returned != l.n_returned ||
			    again.sale.n_ledger != l.sale.n_ledger)
				abort(); /* what the encoder writes, the decoder reads back */
			wire_sale_lookup_free(&again);
			pm_buf_free(&out);
		}
		wire_sale_lookup_free(&l);
	}
	if (wire_coupon_status_decode(data, size, &c, err, sizeof(err)) == 0 &&
	    wire_coupon_status_encode(&c, &out) == 0)
		pm_buf_free(&out);
	return 0;
}
