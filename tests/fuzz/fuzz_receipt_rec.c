/*
 * fuzz_receipt_rec.c - the receipt record decoder (terminal/receipt_rec.c)
 * on arbitrary bytes, as a damaged print_queue entry would hand them over:
 * a clean PM_ECORRUPT/PM_EVERSION, or a record that re-encodes to exactly
 * the same bytes (one encoding per record) and renders as text and as the
 * ESC/POS bytes the printer gets.
 */
#include "terminal/receipt_rec.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);   /* exact size: ASan sees any over-read */
	struct receipt_rec r;
	memcpy(copy, data, size);
	if (receipt_rec_decode(copy, size, &r) == PM_OK) {
		struct pm_buf again = { 0 };
		struct ofr_decision d = { .n = r.n_offers };
		memcpy(d.offers, r.offers, sizeof(r.offers));
		if (receipt_rec_encode(&r.doc, r.is_return, &d, &again) != PM_OK || again.len != size ||
		    memcmp(again.data, copy, size))
			abort();
		char *text;
		size_t len;
		if (prn_doc_to_text(&r.doc, &text, &len) == PM_OK)
			free(text);
		/* what the till sends the printer from a waiting receipt */
		unsigned char *esc;
		if (prn_escpos_encode(&r.doc, NULL, &esc, &len) == PM_OK)
			free(esc);
		pm_buf_free(&again);
	}
	receipt_rec_release(&r);
	free(copy);
	return 0;
}
