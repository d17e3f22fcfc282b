/*
 * prn_png.c - the receipt preview: an interpreter of the ESC/POS commands
 * posmark sends, drawing what a printer prints from those exact bytes, one
 * pixel per dot, as a PNG (cairo; its PNG writer uses libpng). A document is
 * first encoded for the profile (escpos.c) and the bytes are drawn, so the
 * preview cannot show a barcode the printer would not print:
 *  - text in the profile's code page, font A/B grid (ESC M), alignment
 *    (ESC a), bold (ESC E), underline (ESC -), double height/width (GS !),
 *    line feeds (LF, ESC d), lines longer than the paper wrap;
 *  - GS k CODE128 (m = 73, code sets {A {B {C) and EAN-13 (m = 2, 67): the
 *    bars from the symbol values (code128.c), module width GS w, height
 *    GS h, HRI per GS H; a symbol wider than the paper is not printed at all
 *    (Epson: the printer only feeds), and the preview counts it;
 *  - GS ( k QR (model 2): the stored data bytes encoded by zint into the
 *    module matrix, drawn at the GS ( k C module size and E error level;
 *  - GS v 0 rasters; GS V cut (a dashed line); ESC p, DLE EOT ignored.
 * Fonts through fontconfig (DejaVu Sans Mono).
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <cairo.h>
#include <stdlib.h>
#include <string.h>
#include <zint.h>

#define MARGIN 16
#define MAX_HEIGHT 32000

#define ESC 0x1b
#define GS 0x1d
#define DLE 0x10

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

struct rstate {
	const struct prn_profile *prof;
	cairo_t *cr;               /* NULL while measuring */
	double y;
	int cp, align, size;       /* size: GS ! n */
	bool bold, underline, font_b;
	int hri, bar_h, bar_w;     /* GS H, GS h, GS w */
	char line[2048];           /* UTF-8 of the line being filled */
	size_t line_n;
	int line_chars;
	unsigned char qr[7090];
	size_t qr_n;
	int qr_module, qr_ec;
	struct prn_render_stats *st;
};

static void reset(struct rstate *R)
{
	R->cp = R->prof->codepage;
	R->align = 0;
	R->size = 0;
	R->bold = R->underline = R->font_b = false;
	R->hri = 0;
	R->bar_h = 162;
	R->bar_w = 3;
	R->qr_module = 3;
	R->qr_ec = '0';
}

static int cols(const struct rstate *R)
{
	int c = R->font_b ? R->prof->cols_font_b : R->prof->cols_font_a;
	return c > 0 ? c : 42;
}

static double cell_w(const struct rstate *R)
{
	return (double)R->prof->dots / cols(R);
}

static double char_h(const struct rstate *R)
{
	return R->font_b ? 17 : 24;
}

/* One run of text at the current y, in the grid, with the current style; advances y. */
static void draw_text_run(struct rstate *R, const char *text, int nchars)
{
	int wmul = ((R->size >> 4) & 7) + 1, hmul = (R->size & 7) + 1;
	double cw = cell_w(R) * wmul, lh = (char_h(R) + 6) * hmul;
	if (R->cr && nchars > 0) {
		double w = nchars * cw;
		double x = MARGIN + (R->align == 1 ? (R->prof->dots - w) / 2 : R->align == 2 ? R->prof->dots - w : 0);
		if (x < MARGIN)
			x = MARGIN;
		cairo_select_font_face(R->cr, "DejaVu Sans Mono", CAIRO_FONT_SLANT_NORMAL,
				       R->bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
		cairo_text_extents_t te;
		cairo_font_extents_t fe;
		cairo_set_font_size(R->cr, 20);
		cairo_text_extents(R->cr, "M", &te);
		double size = 20 * cell_w(R) / (te.x_advance > 0 ? te.x_advance : 12);
		cairo_save(R->cr);
		cairo_translate(R->cr, x, R->y);
		cairo_scale(R->cr, wmul, hmul);
		cairo_set_font_size(R->cr, size);
		cairo_font_extents(R->cr, &fe);
		cairo_set_source_rgb(R->cr, 0, 0, 0);
		cairo_move_to(R->cr, 0, (char_h(R) + 6 + fe.ascent - fe.descent) / 2);
		cairo_show_text(R->cr, text);
		if (R->underline) {
			cairo_rectangle(R->cr, 0, char_h(R) + 3, w / wmul, 1.5);
			cairo_fill(R->cr);
		}
		cairo_restore(R->cr);
	}
	R->y += lh;
}

/* Print the line buffer (LF, ESC d, a symbol): wrapped at the columns, as a printer does. */
static void print_line(struct rstate *R, bool feed_if_empty)
{
	int wmul = ((R->size >> 4) & 7) + 1, per = cols(R) / wmul;
	if (per < 1)
		per = 1;
	R->line[R->line_n] = '\0';
	if (R->line_n == 0) {
		if (feed_if_empty)
			draw_text_run(R, "", 0);
		return;
	}
	const char *p = R->line;
	while (*p) {
		const char *q = p;
		int n = 0;
		while (*q && n < per) {
			q++;
			while ((*q & 0xc0) == 0x80)
				q++;
			n++;
		}
		char chunk[2048];
		memcpy(chunk, p, (size_t)(q - p));
		chunk[q - p] = '\0';
		draw_text_run(R, chunk, n);
		p = q;
	}
	R->line_n = 0;
	R->line_chars = 0;
}

static void add_char(struct rstate *R, unsigned char c)
{
	char u[4];
	size_t k = c < 0x20 ? 0 : prni_cp_to_utf8(R->cp, c, u);
	if (k && R->line_n + k < sizeof(R->line) - 1) {
		memcpy(R->line + R->line_n, u, k);
		R->line_n += k;
		R->line_chars++;
	}
}

static double x_aligned(const struct rstate *R, int w)
{
	return MARGIN + (R->align == 1 ? (R->prof->dots - w) / 2 : R->align == 2 ? R->prof->dots - w : 0);
}

/* Modules (1 = bar) at module width mw and height h, aligned; then the HRI as GS H says. */
static void draw_modules(struct rstate *R, const unsigned char *mods, int nm, const char *hri)
{
	int w = nm * R->bar_w;
	if (R->hri & 1)
		draw_text_run(R, hri, (int)prni_utf8_width(hri));
	if (R->cr) {
		double x0 = x_aligned(R, w);
		cairo_set_source_rgb(R->cr, 0, 0, 0);
		for (int m = 0; m < nm; m++)
			if (mods[m])
				cairo_rectangle(R->cr, x0 + m * R->bar_w, R->y, R->bar_w, R->bar_h);
		cairo_fill(R->cr);
	}
	R->y += R->bar_h;
	if (R->hri & 2)
		draw_text_run(R, hri, (int)prni_utf8_width(hri));
}

/* EAN-13 from 12 or 13 digits (the check digit computed, as the printer does): 95 modules. */
static int ean13_modules(const unsigned char *d, size_t n, unsigned char *mods, char *hri)
{
	static const char *L[10] = { "0001101", "0011001", "0010011", "0111101", "0100011",
				     "0110001", "0101111", "0111011", "0110111", "0001011" };
	static const char *parity[10] = { "AAAAAA", "AABABB", "AABBAB", "AABBBA", "ABAABB",
					  "ABBAAB", "ABBBAA", "ABABAB", "ABABBA", "ABBABA" };
	int dg[13], sum = 0, m = 0;
	if (n != 12 && n != 13)
		return -1;
	for (int i = 0; i < 12; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -1;
		dg[i] = d[i] - '0';
		sum += dg[i] * (i % 2 ? 3 : 1);
	}
	dg[12] = (10 - sum % 10) % 10;
	for (int i = 0; i < 13; i++)
		hri[i] = (char)('0' + dg[i]);
	hri[13] = '\0';
#define BITS(s, inv) do { for (int k = 0; k < 7; k++) mods[m++] = (unsigned char)(((s)[k] == '1') ^ (inv)); } while (0)
	mods[m++] = 1, mods[m++] = 0, mods[m++] = 1;
	for (int i = 1; i <= 6; i++) {
		if (parity[dg[0]][i - 1] == 'A') {
			BITS(L[dg[i]], 0);
		} else {   /* G: the R pattern reversed */
			for (int k = 6; k >= 0; k--)
				mods[m++] = (unsigned char)(L[dg[i]][k] == '0');
		}
	}
	mods[m++] = 0, mods[m++] = 1, mods[m++] = 0, mods[m++] = 1, mods[m++] = 0;
	for (int i = 7; i <= 12; i++)
		BITS(L[dg[i]], 1);
	mods[m++] = 1, mods[m++] = 0, mods[m++] = 1;
#undef BITS
	return m;
}

static void barcode(struct rstate *R, int type, const unsigned char *d, size_t n)
{
	unsigned char mods[PRN_C128_MAX_MODULES];
	int vals[PRN_C128_MAX_MODULES / 11];
	char hri[300];
	int nm = -1;
	print_line(R, false);
	if (type == 73) {
		int nv = prni_c128_parse(d, n, vals, sizeof(vals) / sizeof(vals[0]), hri, sizeof(hri));
		nm = nv > 0 ? prni_c128_modules(vals, nv, mods, sizeof(mods)) : -1;
	} else if (type == 67 || type == 2) {
		nm = ean13_modules(d, n, mods, hri);
	}
	if (nm < 0) {
		R->st->refused++;       /* data the printer refuses: nothing printed */
		return;
	}
	if (nm * R->bar_w > R->prof->dots) {
		R->st->too_wide++;      /* wider than the paper: the printer prints nothing */
		return;
	}
	R->st->barcodes++;
	draw_modules(R, mods, nm, hri);
}

/* Draw the stored QR data as the printer would (zint encodes the module matrix from the same bytes). */
static void qr_print(struct rstate *R)
{
	print_line(R, false);
	if (R->qr_n == 0)
		return;
	struct zint_symbol *sym = ZBarcode_Create();
	if (!sym)
		return;
	sym->symbology = BARCODE_QRCODE;
	sym->option_1 = R->qr_ec - '0' + 1;       /* ESC/POS 48..51 = L M Q H; zint 1..4 */
	sym->input_mode = DATA_MODE;
	sym->scale = 0.5f;                        /* one pixel per module */
	sym->output_options = OUT_BUFFER_INTERMEDIATE;
	if (ZBarcode_Encode_and_Buffer(sym, R->qr, (int)R->qr_n, 0) >= ZINT_ERROR) {
		R->st->refused++;
		ZBarcode_Delete(sym);
		return;
	}
	int n = sym->bitmap_width, mw = R->qr_module, w = n * mw;
	if (w > R->prof->dots) {
		R->st->too_wide++;
		ZBarcode_Delete(sym);
		return;
	}
	R->st->qr_codes++;
	if (R->cr) {
		double x0 = x_aligned(R, w);
		cairo_set_source_rgb(R->cr, 0, 0, 0);
		for (int y = 0; y < sym->bitmap_height; y++)
			for (int x = 0; x < n; x++)
				if (sym->bitmap[(size_t)y * (size_t)n + (size_t)x] == '1')
					cairo_rectangle(R->cr, x0 + x * mw, R->y + y * mw, mw, mw);
		cairo_fill(R->cr);
	}
	R->y += sym->bitmap_height * mw;
	ZBarcode_Delete(sym);
}

static void raster(struct rstate *R, const unsigned char *bits, size_t xb, size_t h, int mode)
{
	int sx = (mode & 1) + 1, sy = (mode & 2) / 2 + 1;   /* m: double width / height */
	print_line(R, false);
	if (R->cr) {
		cairo_set_source_rgb(R->cr, 0, 0, 0);
		for (size_t y = 0; y < h; y++)
			for (size_t x = 0; x < xb * 8 && (int)(x * (size_t)sx) < R->prof->dots; x++)
				if (bits[y * xb + x / 8] & (0x80 >> (x % 8)))
					cairo_rectangle(R->cr, MARGIN + (double)x * sx, R->y + (double)y * sy, sx, sy);
		cairo_fill(R->cr);
	}
	R->y += (double)h * sy;
}

static void cut(struct rstate *R)
{
	print_line(R, false);
	R->y += 12;
	if (R->cr) {
		static const double dash[] = { 6, 4 };
		cairo_set_source_rgb(R->cr, 0.5, 0.5, 0.5);
		cairo_set_line_width(R->cr, 1);
		cairo_set_dash(R->cr, dash, 2, 0);
		cairo_move_to(R->cr, 0, R->y + 0.5);
		cairo_line_to(R->cr, R->prof->dots + 2 * MARGIN, R->y + 0.5);
		cairo_stroke(R->cr);
		cairo_set_dash(R->cr, NULL, 0, 0);
	}
	R->y += 12;
	R->st->cuts++;
}

/* GS ( k: QR functions (cn = 49). */
static void gs_paren_k(struct rstate *R, const unsigned char *p, size_t len)
{
	if (len < 3 || p[0] != '1')
		return;
	switch (p[1]) {
	case 'C': if (p[2] >= 1 && p[2] <= 16) R->qr_module = p[2]; break;
	case 'E': if (p[2] >= '0' && p[2] <= '3') R->qr_ec = p[2]; break;
	case 'P':
		R->qr_n = len - 3 < sizeof(R->qr) ? len - 3 : sizeof(R->qr);
		memcpy(R->qr, p + 3, R->qr_n);
		break;
	case 'Q': qr_print(R); break;
	default: break;
	}
}

/* One ESC command at b[i]: its length, 0 if the stream ends inside it. */
static size_t esc_cmd(struct rstate *R, const unsigned char *b, size_t n, size_t i)
{
	if (n - i < 2)
		return 0;
	unsigned char f = b[i + 1], a = n - i >= 3 ? b[i + 2] : 0;
	bool three = n - i >= 3;
	switch (f) {
	case '@': print_line(R, false); reset(R); return 2;
	case 't': if (!three) return 0; R->cp = a == 16 ? PRN_CP1252 : PRN_CP858; return 3;
	case 'M': if (!three) return 0; R->font_b = a & 1; return 3;
	case 'a': if (!three) return 0; R->align = a % 48 <= 2 ? a % 48 : 0; return 3;
	case 'E': if (!three) return 0; R->bold = a & 1; return 3;
	case '-': if (!three) return 0; R->underline = a % 48 != 0; return 3;
	case '!': if (!three) return 0; R->bold = a & 8; R->size = ((a & 0x20) ? 0x10 : 0) | ((a & 0x10) ? 1 : 0);
		R->font_b = a & 1; R->underline = a & 0x80; return 3;
	case 'd':
		if (!three)
			return 0;
		print_line(R, true);
		for (int k = 1; k < a; k++)
			draw_text_run(R, "", 0);
		return 3;
	case 'p': return n - i >= 5 ? 5 : 0;
	default: R->st->unknown++; return 2;
	}
}

/* GS k at b[i]: a barcode (function A: NUL-terminated data; B: a length byte). Its length or 0. */
static size_t gs_k(struct rstate *R, const unsigned char *b, size_t n, size_t i)
{
	if (n - i < 3)
		return 0;
	unsigned char m = b[i + 2];
	if (m <= 6) {
		const unsigned char *z = memchr(b + i + 3, 0, n - i - 3);
		if (!z)
			return 0;
		barcode(R, m, b + i + 3, (size_t)(z - (b + i + 3)));
		return (size_t)(z - (b + i)) + 1;
	}
	if (n - i < 4 || n - i < 4 + (size_t)b[i + 3])
		return 0;
	barcode(R, m, b + i + 4, b[i + 3]);
	return 4 + (size_t)b[i + 3];
}

/* GS v 0 and GS V at b[i]: their length, 0 if the stream ends inside. */
static size_t gs_raster_cut(struct rstate *R, const unsigned char *b, size_t left)
{
	if (left < 3)
		return 0;
	if (b[1] == 'V') {
		size_t k = (b[2] == 65 || b[2] == 66) ? 4 : 3;
		if (left < k)
			return 0;
		if (k == 4)
			R->y += b[3];   /* n dots of feed before the cut */
		cut(R);
		return k;
	}
	if (b[2] != '0') {
		R->st->unknown++;
		return 3;
	}
	if (left < 8)
		return 0;
	size_t xb = (size_t)b[4] | (size_t)b[5] << 8, h = (size_t)b[6] | (size_t)b[7] << 8;
	if (left - 8 < xb * h)
		return 0;
	raster(R, b + 8, xb, h, b[3]);
	return 8 + xb * h;
}

/* One GS command at b[i]: its length, 0 if the stream ends inside it. */
static size_t gs_cmd(struct rstate *R, const unsigned char *b, size_t n, size_t i)
{
	size_t left = n - i;
	if (left < 2)
		return 0;
	unsigned char f = b[i + 1];
	switch (f) {
	case '!': case 'H': case 'h': case 'w': case 'f': {
		if (left < 3)
			return 0;
		unsigned char a = b[i + 2];
		if (f == '!')
			R->size = a & 0x77;
		else if (f == 'H')
			R->hri = a % 48 & 3;
		else if (f == 'h')
			R->bar_h = a ? a : 1;
		else if (f == 'w')
			R->bar_w = a >= 1 && a <= 6 ? a : R->bar_w;
		return 3;
	}
	case 'k':
		return gs_k(R, b, n, i);
	case '(': {
		if (left < 5)
			return 0;
		size_t len = (size_t)b[i + 3] | (size_t)b[i + 4] << 8;
		if (left < 5 + len)
			return 0;
		if (b[i + 2] == 'k')
			gs_paren_k(R, b + i + 5, len);
		return 5 + len;
	}
	case 'v': case 'V':
		return gs_raster_cut(R, b + i, left);
	default:
		R->st->unknown++;
		return 2;
	}
}

static void interpret(struct rstate *R, const unsigned char *b, size_t n)
{
	size_t i = 0;
	reset(R);
	R->y = MARGIN;
	while (i < n && R->y <= MAX_HEIGHT) {
		unsigned char c = b[i];
		size_t k = 1;
		if (c == '\n')
			print_line(R, true);
		else if (c == ESC)
			k = esc_cmd(R, b, n, i);
		else if (c == DLE)
			k = n - i >= 3 ? 3 : 0;   /* DLE EOT n: a status question, nothing printed */
		else if (c == GS)
			k = gs_cmd(R, b, n, i);
		else
			add_char(R, c);
		if (!k) {
			R->st->truncated = true;
			break;
		}
		i += k;
	}
	R->st->clipped = i < n;
	print_line(R, false);
	R->y += MARGIN;
}

int prni_escpos_render_png(const unsigned char *b, size_t n, const struct prn_profile *prof, const char *path,
			   struct prn_render_stats *st)
{
	struct rstate *R = calloc(1, sizeof(*R));
	struct prn_render_stats dummy;
	int rc = PM_OK;
	if (!R)
		return PM_ENOMEM;
	R->prof = prof;
	R->st = st ? st : &dummy;
	interpret(R, b, n);                               /* measure */
	memset(R->st, 0, sizeof(*R->st));
	int width = prof->dots + 2 * MARGIN, height = (int)R->y + 1;
	if (height > MAX_HEIGHT)
		height = MAX_HEIGHT;
	if (!path && height > 2048)
		height = 2048;      /* draw only (fuzzing): cairo clips what falls below */
	cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		free(R);
		return PM_ENOMEM;
	}
	R->cr = cairo_create(surf);
	cairo_set_source_rgb(R->cr, 1, 1, 1);
	cairo_paint(R->cr);
	cairo_set_antialias(R->cr, CAIRO_ANTIALIAS_NONE);
	interpret(R, b, n);
	cairo_destroy(R->cr);
	cairo_surface_flush(surf);
	if (path && cairo_surface_write_to_png(surf, path) != CAIRO_STATUS_SUCCESS)
		rc = PM_EIO;
	cairo_surface_destroy(surf);
	free(R);
	return rc;
}

int prn_escpos_render_png(const unsigned char *b, size_t n, const char *profile, const char *path,
			  struct prn_render_stats *st)
{
	const struct prn_profile *prof = prni_profile_find(profile);
	if (!b || !path || !prof)
		return PM_EINVAL;
	return prni_escpos_render_png(b, n, prof, path, st);
}

int prn_doc_render_png(const struct prn_doc *doc, const char *profile, const char *path)
{
	const struct prn_profile *prof;
	struct prni_buf buf = { 0 };
	if (!doc || !path || !(prof = prni_profile_find(profile)))
		return PM_EINVAL;
	int rc = prni_escpos_encode(doc, prof, &buf);
	if (rc == PM_OK)
		rc = prni_escpos_render_png((const unsigned char *)buf.bytes.data, buf.bytes.len, prof, path, NULL);
	prni_buf_release(&buf);
	return rc;
}
