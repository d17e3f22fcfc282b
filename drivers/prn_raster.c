/*
 * prn_raster.c - barcodes and QR codes as 1-bit rasters, drawn by zint
 * (libzint: maintained, in Debian, encodes EAN-13/CODE128/QR correctly with
 * quiet zones and check digits). Used for printers without native symbols
 * (GS v 0 fallback) and by the PNG preview.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <stdlib.h>
#include <string.h>
#include <zint.h>

int prni_raster_symbol(int kind, int barcode, const char *data, int max_dots, int *w, int *h,
		       unsigned char **bits)
{
	struct zint_symbol *sym;
	float scale;
	int rc = PM_OK;

	*bits = NULL;
	*w = *h = 0;
	if (!data || !*data)
		return PM_EINVAL;
	/* zint's raster scale 1.0 is 2 pixels per module: 0.25 mm at 203 dpi. */
	scale = kind == PRN_QR ? 2.0f : 1.0f;
	for (; scale >= 0.5f; scale /= 2) {
		if (!(sym = ZBarcode_Create()))
			return PM_ENOMEM;
		sym->symbology = kind == PRN_QR ? BARCODE_QRCODE
			       : barcode == PRN_EAN13 ? BARCODE_EANX : BARCODE_CODE128;
		sym->scale = scale;
		sym->height = kind == PRN_QR ? 0 : 40;
		sym->show_hrt = 0;       /* the encoder prints the digits as text */
		sym->output_options = OUT_BUFFER_INTERMEDIATE;
		if (kind == PRN_QR) {
			sym->option_1 = 2;   /* error correction M */
			sym->input_mode = UNICODE_MODE;
		}
		int zr = ZBarcode_Encode_and_Buffer(sym, (const unsigned char *)data, (int)strlen(data), 0);
		if (zr >= ZINT_ERROR) {
			pm_dbg("zint: %s", sym->errtxt);
			ZBarcode_Delete(sym);
			return PM_EINVAL;
		}
		if (sym->bitmap_width <= max_dots || scale <= 0.5f) {
			int bw = sym->bitmap_width < max_dots ? sym->bitmap_width : max_dots;
			int bh = sym->bitmap_height;
			int row = (bw + 7) / 8;
			unsigned char *out = calloc((size_t)row * (size_t)bh, 1);
			if (!out) {
				rc = PM_ENOMEM;
			} else {
				for (int y = 0; y < bh; y++)
					for (int x = 0; x < bw; x++)
						if (sym->bitmap[(size_t)y * (size_t)sym->bitmap_width + (size_t)x] == '1')
							out[(size_t)y * (size_t)row + (size_t)x / 8] |=
								(unsigned char)(0x80 >> (x % 8));
				*bits = out;
				*w = bw;
				*h = bh;
			}
			ZBarcode_Delete(sym);
			return rc;
		}
		ZBarcode_Delete(sym);
	}
	return PM_EINVAL;
}
