/*
 * fuzz_records.c - the purchase log's record decoders (loyalty/codec.c) on
 * arbitrary bytes, as a damaged data.mdb would hand them over: a clean
 * PM_ECORRUPT/PM_EVERSION or a record that re-encodes to the same size (a
 * v1 sale re-encodes as v2: 64 bytes of chain-account fields more).
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct loy_db db;  /* only its decode scratch is used */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct loy_sale s;
	if (loyi_sale_decode(&db, copy, size, &s) == PM_OK) {
		size_t n = loyi_sale_size(&s);
		unsigned char *again = malloc(n);
		loyi_sale_encode(&s, again);
		if (n != (copy[0] == 1 ? size + 64 : size))
			abort();
		free(again);
	}
	struct loyi_card c;
	loyi_card_decode(copy, size, "6036010000001000005", &c);
	struct loy_product p;
	loyi_product_decode(copy, size, "05012342000018", &p);
	free(copy);
	return 0;
}
