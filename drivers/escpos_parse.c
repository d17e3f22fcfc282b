/*
 * escpos_parse.c - reads an ESC/POS byte stream back into a document: what
 * a printer would print. Used by the printer emulators of the tests, by
 * `posmark receipt --escpos FILE` and by the fuzz target. It knows the
 * commands escpos.c sends plus the common ones other software sends;
 * unknown ESC/GS commands are counted and skipped by their two bytes.
 * Incremental: feed() stops before a command that is not complete yet.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <string.h>

#define ESC 0x1b
#define GS 0x1d
#define DLE 0x10
#define FS 0x1c

void prni_escpos_parser_init(struct prni_escpos_parser *ps, struct prn_doc *doc)
{
	memset(ps, 0, sizeof(*ps));
	ps->doc = doc;
	ps->cp = PRN_CP858;
	ps->bar_height = 162;
}

static int flush_line(struct prni_escpos_parser *ps)
{
	ps->line[ps->line_n] = '\0';
	ps->line_n = 0;
	return prn_doc_text(ps->doc, ps->align, ps->style, "%s", ps->line);
}

static void add_char(struct prni_escpos_parser *ps, unsigned char c)
{
	char u[4];
	size_t k = prni_cp_to_utf8(ps->cp, c, u);
	if (ps->line_n + k < sizeof(ps->line) - 1) {
		memcpy(ps->line + ps->line_n, u, k);
		ps->line_n += k;
	}
}

static void set_flag(int *style, int flag, bool on)
{
	if (on)
		*style |= flag;
	else
		*style &= ~flag;
}

/*
 * Each command reader below gets the bytes from the command's first one on (b, n available)
 * and returns how many the command takes, or 0 when it is not complete yet (feed() then stops
 * before it and waits for more). A failure to write the document goes to *rc; the command's
 * bytes still count as read.
 */
#define NEED(k) do { if (n < (size_t)(k)) return 0; } while (0)

/* The line so far goes to the document before something that is not text (a feed, a cut, a
 * barcode, an image). */
static int flush_pending(struct prni_escpos_parser *ps)
{
	return ps->line_n ? flush_line(ps) : PM_OK;
}

/* DLE EOT n (real-time status, answered through on_status) and DLE DC4 (real-time request). */
static size_t dle_command(struct prni_escpos_parser *ps, const unsigned char *b, size_t n)
{
	NEED(3);
	if (b[1] == 0x04) {
		if (ps->on_status)
			ps->on_status(ps->ctx, b[2]);
		return 3;
	}
	if (b[1] == 0x14) {
		NEED(5);
		return 5;
	}
	ps->unknown_cmds++;
	return 2;
}

/* ESC @ resets what it resets on a printer: alignment, style, code page, font. */
static void esc_initialize(struct prni_escpos_parser *ps, int *rc)
{
	*rc = flush_pending(ps);
	ps->align = PRN_LEFT;
	ps->style = 0;
	ps->cp = PRN_CP858;
	ps->font_b = false;
}

static size_t esc_command(struct prni_escpos_parser *ps, const unsigned char *b, size_t n, int *rc)
{
	NEED(2);
	switch (b[1]) {
	case '@': esc_initialize(ps, rc); return 2;
	case 'a': NEED(3); ps->align = b[2] % 48 % 3; return 3;
	case 'E': NEED(3); set_flag(&ps->style, PRN_BOLD, b[2] & 1); return 3;
	case 'G': NEED(3); set_flag(&ps->style, PRN_BOLD, b[2] & 1); return 3;
	case '-': NEED(3); set_flag(&ps->style, PRN_UNDERLINE, (b[2] % 48) != 0); return 3;
	case '!':
		NEED(3);
		set_flag(&ps->style, PRN_BOLD, b[2] & 0x08);
		set_flag(&ps->style, PRN_DOUBLE, b[2] & 0x10);
		set_flag(&ps->style, PRN_UNDERLINE, b[2] & 0x80);
		return 3;
	case 't': NEED(3); ps->cp = b[2] == 16 ? PRN_CP1252 : PRN_CP858; return 3;
	case 'M': NEED(3); ps->font_b = b[2] & 1; return 3;
	case 'd':
		NEED(3);
		*rc = flush_pending(ps);
		if (*rc == PM_OK && b[2])
			*rc = prn_doc_feed(ps->doc, b[2]);
		return 3;
	case '2': case 'S': case 'L':
		return 2;
	case 'J': case '3': case 'R': case 'r': case 'U': case 'V': case '{': case 'T': case ' ':
		NEED(3);
		return 3;
	case 'c':
		NEED(4);
		return 4;
	case 'p':
		NEED(5);
		ps->drawer_kicks++;
		*rc = prn_doc_drawer(ps->doc);
		return 5;
	default:
		ps->unknown_cmds++;
		return 2;
	}
}

/* GS V m [n]: a cut (the forms with a feed amount take one byte more). */
static size_t gs_cut(struct prni_escpos_parser *ps, const unsigned char *b, size_t n, int *rc)
{
	NEED(3);
	unsigned char m = b[2];
	size_t len = (m == 65 || m == 66 || m == 97 || m == 98 || m == 103 || m == 104) ? 4 : 3;
	NEED(len);
	*rc = flush_pending(ps);
	ps->cuts++;
	if (*rc == PM_OK)
		*rc = prn_doc_cut(ps->doc);
	return len;
}

/* GS k m ...: a 1D barcode, its data as a scanner would read it (printable ASCII; '?' else). */
static size_t gs_barcode(struct prni_escpos_parser *ps, const unsigned char *b, size_t n, int *rc)
{
	NEED(3);
	unsigned char m = b[2];
	const unsigned char *d;
	size_t dn, used;
	char data[300];
	if (m <= 6) {            /* function A: NUL-terminated */
		const unsigned char *z = memchr(b + 3, 0, n - 3);
		if (!z)
			return 0;
		d = b + 3;
		dn = (size_t)(z - d);
		used = (size_t)(z - b) + 1;
	} else {                 /* function B: length byte */
		NEED(4);
		dn = b[3];
		NEED(4 + dn);
		d = b + 4;
		used = 4 + dn;
	}
	int vals[300];
	if (m == 73 && prni_c128_parse(d, dn, vals, 300, data, sizeof(data)) > 0) {
		dn = strlen(data);  /* CODE128 as the printer reads it: {A {B {C, pairs */
	} else {
		if (m == 73 && dn >= 2 && d[0] == '{') {   /* not valid: keep the bytes */
			d += 2;
			dn -= 2;
		}
		if (dn >= sizeof(data))
			dn = sizeof(data) - 1;
		memcpy(data, d, dn);
		data[dn] = '\0';
	}
	for (size_t k = 0; k < dn; k++)
		if (data[k] < 0x20 || data[k] > 0x7e)
			data[k] = '?';
	*rc = flush_pending(ps);
	if (*rc == PM_OK)
		*rc = prn_doc_barcode(ps->doc, (m == 67 || m == 2) ? PRN_EAN13 : PRN_CODE128, data);
	return used;
}

/* GS ( k: the QR code's data is stored (1P), then printed (1Q); other functions skipped. */
static size_t gs_2d(struct prni_escpos_parser *ps, const unsigned char *b, size_t n, int *rc)
{
	NEED(5);
	unsigned char fn = b[2];
	size_t len = (size_t)b[3] | (size_t)b[4] << 8;
	NEED(5 + len);
	const unsigned char *p = b + 5;
	if (fn == 'k' && len >= 3 && p[0] == '1' && p[1] == 'P') {
		size_t dn = len - 3;
		if (dn >= sizeof(ps->qr))
			dn = sizeof(ps->qr) - 1;
		memcpy(ps->qr, p + 3, dn);
		ps->qr[dn] = '\0';
		ps->qr_n = dn;
	} else if (fn == 'k' && len >= 3 && p[0] == '1' && p[1] == 'Q') {
		*rc = flush_pending(ps);
		for (size_t k = 0; k < ps->qr_n; k++)
			if (ps->qr[k] == '\0')
				ps->qr[k] = '?';
		if (*rc == PM_OK)
			*rc = prn_doc_qr(ps->doc, ps->qr);
	}
	return 5 + len;
}

/* GS v 0 m xL xH yL yH d...: a raster image (up to 4096 dots wide is drawn). */
static size_t gs_raster(struct prni_escpos_parser *ps, const unsigned char *b, size_t n, int *rc)
{
	NEED(8);
	if (b[2] != '0') {
		ps->unknown_cmds++;
		return 3;
	}
	size_t xb = (size_t)b[4] | (size_t)b[5] << 8;
	size_t h = (size_t)b[6] | (size_t)b[7] << 8;
	size_t sz = xb * h;
	NEED(8 + sz);
	*rc = flush_pending(ps);
	if (*rc == PM_OK && xb > 0 && h > 0 && xb * 8 <= 4096)
		*rc = prn_doc_image(ps->doc, PRN_LEFT, (int)(xb * 8), (int)h, b + 8);
	return 8 + sz;
}

static size_t gs_command(struct prni_escpos_parser *ps, const unsigned char *b, size_t n, int *rc)
{
	NEED(2);
	switch (b[1]) {
	case '!':
		NEED(3);
		set_flag(&ps->style, PRN_DOUBLE, (b[2] & 0x0f) != 0);
		return 3;
	case 'H': case 'h': case 'w': case 'f': case 'B': case 'b': case 'I':
		NEED(3);
		if (b[1] == 'h')
			ps->bar_height = b[2];
		return 3;
	case 'V': return gs_cut(ps, b, n, rc);
	case 'k': return gs_barcode(ps, b, n, rc);
	case '(': return gs_2d(ps, b, n, rc);
	case 'L': case 'W':
		NEED(4);
		return 4;
	case 'v': return gs_raster(ps, b, n, rc);
	default:
		ps->unknown_cmds++;
		return 2;
	}
}

/* FS . / FS & (Kanji mode off/on) and FS p (NV logo, m n): nothing to print. */
static size_t fs_command(const unsigned char *b, size_t n)
{
	NEED(2);
	if (b[1] == 'p')
		NEED(4);
	return b[1] == 'p' ? 4 : 2;
}

long prni_escpos_parser_feed(struct prni_escpos_parser *ps, const unsigned char *b, size_t n)
{
	size_t i = 0;
	int rc = PM_OK;
	while (i < n && rc == PM_OK) {
		unsigned char c = b[i];
		size_t used;
		if (c == '\n') {
			rc = flush_line(ps);
			used = 1;
		} else if (c == DLE) {
			used = dle_command(ps, b + i, n - i);
		} else if (c == ESC) {
			used = esc_command(ps, b + i, n - i, &rc);
		} else if (c == GS) {
			used = gs_command(ps, b + i, n - i, &rc);
		} else if (c == FS) {
			used = fs_command(b + i, n - i);
		} else {
			if (c >= 0x20)   /* '\r' and other control bytes print nothing */
				add_char(ps, c);
			used = 1;
		}
		if (!used)
			return (long)i;  /* incomplete: wait for the rest */
		i += used;
	}
	return rc == PM_OK ? (long)i : rc;
}

int prni_escpos_parser_finish(struct prni_escpos_parser *ps)
{
	return ps->line_n ? flush_line(ps) : PM_OK;
}

int prn_escpos_to_doc(const void *bytes, size_t len, struct prn_doc *doc)
{
	struct prni_escpos_parser ps;
	prni_escpos_parser_init(&ps, doc);
	long used = prni_escpos_parser_feed(&ps, bytes, len);
	if (used < 0)
		return (int)used;
	int rc = prni_escpos_parser_finish(&ps);
	if (rc)
		return rc;
	return (size_t)used < len ? PM_EPROTO : PM_OK;
}
