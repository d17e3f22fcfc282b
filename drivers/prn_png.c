/*
 * prn_png.c - a receipt as a PNG, drawn as the printer would print it:
 * one pixel per printer dot, the profile's line width, text in a fixed
 * character grid (columns from the document), barcodes and QR codes from
 * zint's raster, a dashed line where the cutter cuts. Drawn with cairo (its
 * PNG writer uses libpng); fonts through fontconfig (DejaVu Sans Mono).
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <cairo.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN 16

/*
 * fontconfig (under cairo) keeps its font cache for the life of the process
 * by design; LeakSanitizer would report it at exit in the ASan build. This
 * hook is read by LSan only; elsewhere it is an unused function.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

struct layout {
	const struct prn_profile *prof;
	const struct prn_doc *doc;
	double cell_w, line_h;
	cairo_t *cr;               /* NULL while measuring */
	double y;
};

static void draw_bits(struct layout *L, int align, int w, int h, const unsigned char *bits)
{
	int dots = L->prof->dots;
	double x0 = MARGIN + (align == PRN_CENTER ? (dots - w) / 2 : align == PRN_RIGHT ? dots - w : 0);
	int row = (w + 7) / 8;
	if (L->cr) {
		cairo_set_source_rgb(L->cr, 0, 0, 0);
		for (int y = 0; y < h; y++) {
			int run = -1;
			for (int x = 0; x <= w; x++) {
				bool black = x < w && (bits[(size_t)y * (size_t)row + (size_t)x / 8] & (0x80 >> (x % 8)));
				if (black && run < 0)
					run = x;
				if (!black && run >= 0) {
					cairo_rectangle(L->cr, x0 + run, L->y + y, x - run, 1);
					run = -1;
				}
			}
		}
		cairo_fill(L->cr);
	}
	L->y += h;
}

static void draw_text(struct layout *L, int align, int style, const char *text)
{
	double scale_y = (style & PRN_DOUBLE) ? 2.0 : 1.0;
	double h = L->line_h * scale_y;
	if (L->cr) {
		double w = (double)prni_utf8_width(text) * L->cell_w;
		double x = MARGIN + (align == PRN_CENTER ? (L->prof->dots - w) / 2
				     : align == PRN_RIGHT ? L->prof->dots - w : 0);
		if (x < MARGIN)
			x = MARGIN;
		cairo_select_font_face(L->cr, "DejaVu Sans Mono", CAIRO_FONT_SLANT_NORMAL,
				       (style & PRN_BOLD) ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
		cairo_font_extents_t fe;
		cairo_text_extents_t te;
		cairo_set_font_size(L->cr, 20);
		cairo_text_extents(L->cr, "M", &te);
		double size = 20 * L->cell_w / (te.x_advance > 0 ? te.x_advance : 12);
		cairo_save(L->cr);
		cairo_translate(L->cr, x, L->y);
		cairo_scale(L->cr, 1, scale_y);
		cairo_set_font_size(L->cr, size);
		cairo_font_extents(L->cr, &fe);
		cairo_set_source_rgb(L->cr, 0, 0, 0);
		cairo_move_to(L->cr, 0, (L->line_h + fe.ascent - fe.descent) / 2);
		cairo_show_text(L->cr, text);
		if (style & PRN_UNDERLINE) {
			cairo_rectangle(L->cr, 0, L->line_h - 2, w, 1.5);
			cairo_fill(L->cr);
		}
		cairo_restore(L->cr);
	}
	L->y += h;
}

static int draw_symbol(struct layout *L, const struct prn_elem *e)
{
	int w, h;
	unsigned char *bits;
	int rc = prni_raster_symbol(e->kind, e->barcode, e->text, L->prof->dots, &w, &h, &bits);
	if (rc) {
		draw_text(L, PRN_CENTER, 0, e->text);
		return PM_OK;
	}
	L->y += 4;
	draw_bits(L, PRN_CENTER, w, h, bits);
	free(bits);
	if (e->kind == PRN_BARCODE)
		draw_text(L, PRN_CENTER, 0, e->text);
	L->y += 4;
	return PM_OK;
}

static void draw_cut(struct layout *L)
{
	L->y += L->line_h / 2;
	if (L->cr) {
		static const double dash[] = { 6, 4 };
		cairo_set_source_rgb(L->cr, 0.5, 0.5, 0.5);
		cairo_set_line_width(L->cr, 1);
		cairo_set_dash(L->cr, dash, 2, 0);
		cairo_move_to(L->cr, 0, L->y + 0.5);
		cairo_line_to(L->cr, L->prof->dots + 2 * MARGIN, L->y + 0.5);
		cairo_stroke(L->cr);
		cairo_set_dash(L->cr, NULL, 0, 0);
	}
	L->y += L->line_h / 2;
}

static int draw_doc(struct layout *L)
{
	L->y = MARGIN;
	for (size_t i = 0; i < L->doc->n; i++) {
		const struct prn_elem *e = &L->doc->elems[i];
		switch (e->kind) {
		case PRN_TEXT:
			draw_text(L, e->align, e->style, e->text ? e->text : "");
			break;
		case PRN_BARCODE:
		case PRN_QR:
			draw_symbol(L, e);
			break;
		case PRN_IMAGE:
			draw_bits(L, e->align, e->width, e->height, e->bits);
			break;
		case PRN_FEED:
			L->y += L->line_h * (e->lines > 0 && e->lines < 256 ? e->lines : 0);
			break;
		case PRN_CUT:
			draw_cut(L);
			break;
		default:
			break;
		}
	}
	L->y += MARGIN;
	return PM_OK;
}

int prn_doc_render_png(const struct prn_doc *doc, const char *profile, const char *path)
{
	struct layout L = { 0 };
	int rc = PM_OK;
	if (!doc || !path || !(L.prof = prni_profile_find(profile)))
		return PM_EINVAL;
	L.doc = doc;
	L.cell_w = (double)L.prof->dots / (doc->columns > 0 ? doc->columns : 42);
	L.line_h = L.cell_w * 2 > 17 ? L.cell_w * 2 : 17;
	draw_doc(&L);                                    /* measure */
	int width = L.prof->dots + 2 * MARGIN, height = (int)L.y + 1;
	if (height > 32000)
		height = 32000;
	cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		return PM_ENOMEM;
	}
	L.cr = cairo_create(surf);
	cairo_set_source_rgb(L.cr, 1, 1, 1);
	cairo_paint(L.cr);
	cairo_set_antialias(L.cr, CAIRO_ANTIALIAS_NONE);
	draw_doc(&L);
	cairo_destroy(L.cr);
	cairo_surface_flush(surf);
	if (cairo_surface_write_to_png(surf, path) != CAIRO_STATUS_SUCCESS)
		rc = PM_EIO;
	cairo_surface_destroy(surf);
	return rc;
}
