/*
 * prn_profiles.c - what posmark needs to know about a receipt printer model
 * (the idea of escpos-printer-db, cut down to the fields the encoder uses).
 * docs/printers.md lists the table and how to add a model. Values are from
 * the vendors' programming manuals; the generic profile is the safe
 * default: 80 mm, CP858 (ESC t 19), native 1D barcodes, QR as a raster.
 */
#include "drivers/drv_backend.h"

#include <string.h>

static const struct prn_profile profiles[] = {
	{ .name = "generic", .model = "any 80 mm ESC/POS printer (safe defaults)",
	  .dots = 576, .cols_font_a = 48, .cols_font_b = 64, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = false, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "generic-58", .model = "any 58 mm ESC/POS printer (no cutter)",
	  .dots = 384, .cols_font_a = 32, .cols_font_b = 42, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = false, .cutter = false,
	  .drawer = false, .rt_status = true },
	{ .name = "raster", .model = "80 mm printer without native barcodes (all symbols as images)",
	  .dots = 576, .cols_font_a = 48, .cols_font_b = 64, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = false, .native_qr = false, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "epson-tm-t88v", .model = "Epson TM-T88V (80 mm, 42-column mode)",
	  .dots = 512, .cols_font_a = 42, .cols_font_b = 56, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = true, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "epson-tm-t20ii", .model = "Epson TM-T20II (80 mm)",
	  .dots = 576, .cols_font_a = 48, .cols_font_b = 64, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = true, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "bixolon-srp-350iii", .model = "Bixolon SRP-350III (80 mm)",
	  .dots = 512, .cols_font_a = 42, .cols_font_b = 56, .codepage = PRN_CP1252,
	  .codepage_select = 16, .native_barcode = true, .native_qr = true, .cutter = true,
	  .drawer = true, .rt_status = true },
	{ .name = "pos-5890", .model = "POS-5890 family (58 mm, no cutter, no native QR)",
	  .dots = 384, .cols_font_a = 32, .cols_font_b = 42, .codepage = PRN_CP858,
	  .codepage_select = 19, .native_barcode = true, .native_qr = false, .cutter = false,
	  .drawer = false, .rt_status = false },
};

const struct prn_profile *prni_profile_find(const char *name)
{
	if (!name || !*name)
		return &profiles[0];
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(name, profiles[i].name))
			return &profiles[i];
	return NULL;
}
