/*
 * fuzz_escpos_render.c - libFuzzer target: any bytes as an ESC/POS stream for
 * the preview interpreter (drivers/prn_png.c), drawn for a 58 mm and an 80 mm
 * profile without writing a file. It must never crash, read out of bounds or
 * leak, whatever the commands, lengths, code sets or QR data; a stream it
 * draws must also draw the same way twice (the measuring and drawing passes
 * agree). Seeds: tests/fuzz/corpus/escpos_render/ (captures of receipts with
 * coupons, CODE128 in code sets A/B/C, QR, rasters).
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prn_render_stats a, b;
	if (size > 65536)
		return 0;
	const struct prn_profile *p58 = prni_profile_find("generic-58"), *p80 = prni_profile_find("epson-tm-t88v");
	if (prni_escpos_render_png(data, size, p58, NULL, &a) != PM_OK)
		return 0;   /* out of memory only */
	if (prni_escpos_render_png(data, size, p80, NULL, &b) != PM_OK)
		return 0;
	/* what the printer refuses does not depend on the paper; what is too wide may, and so
	 * does where a stream taller than the preview's limit stops being read (narrower paper
	 * wraps text into more lines): compared only when both read the whole stream */
	if (!a.clipped && !b.clipped &&
	    (a.refused != b.refused || a.truncated != b.truncated || a.cuts != b.cuts))
		abort();
	return 0;
}
