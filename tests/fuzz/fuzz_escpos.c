/*
 * fuzz_escpos.c - libFuzzer target for what comes back from (or is sent to)
 * an ESC/POS printer: the DLE EOT status reply interpreter (first byte =
 * which query, second = the reply) and the ESC/POS stream reader used by
 * the emulators and `posmark receipt --escpos`, fed in two pieces to
 * exercise its incremental path. Exact-size copies, no state between runs.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prn_doc doc;
	struct prni_escpos_parser ps;
	int st;
	if (size < 2)
		return 0;
	if (prni_escpos_status_reply(data[0] % 6, data[1], &st) == PM_OK &&
	    (st < PRN_READY || st > PRN_OFFLINE))
		abort();
	st = prni_usb_port_status(data[1]);
	unsigned char *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	prn_doc_init(&doc, 42);
	prni_escpos_parser_init(&ps, &doc);
	size_t split = data[0] % size, done = 0;
	long used = prni_escpos_parser_feed(&ps, copy, split);
	if (used >= 0) {
		done = (size_t)used;
		used = prni_escpos_parser_feed(&ps, copy + done, size - done);
	}
	if (used >= 0)
		prni_escpos_parser_finish(&ps);
	for (size_t i = 0; i < doc.n; i++)
		if ((doc.elems[i].kind == PRN_TEXT || doc.elems[i].kind == PRN_QR) && !doc.elems[i].text)
			abort();
	prn_doc_release(&doc);
	free(copy);
	return 0;
}
