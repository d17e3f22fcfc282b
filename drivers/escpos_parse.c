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

/* Needs n bytes from b[i]; else the command is incomplete. */
#define NEED(k) do { if (n - i < (size_t)(k)) return (long)i; } while (0)

long prni_escpos_parser_feed(struct prni_escpos_parser *ps, const unsigned char *b, size_t n)
{
	size_t i = 0;
	int rc = PM_OK;
	while (i < n && rc == PM_OK) {
		unsigned char c = b[i];
		if (c == '\n') {
			rc = flush_line(ps);
			i++;
		} else if (c == '\r') {
			i++;
		} else if (c == DLE) {
			NEED(3);
			if (b[i + 1] == 0x04) {          /* DLE EOT n: real-time status */
				if (ps->on_status)
					ps->on_status(ps->ctx, b[i + 2]);
				i += 3;
			} else if (b[i + 1] == 0x14) {   /* DLE DC4 fn ...: real-time request */
				NEED(5);
				i += 5;
			} else {
				ps->unknown_cmds++;
				i += 2;
			}
		} else if (c == ESC) {
			NEED(2);
			unsigned char cmd = b[i + 1];
			switch (cmd) {
			case '@':
				if (ps->line_n)
					rc = flush_line(ps);
				ps->align = PRN_LEFT;
				ps->style = 0;
				ps->cp = PRN_CP858;
				ps->font_b = false;
				i += 2;
				break;
			case 'a': NEED(3); ps->align = b[i + 2] % 48 % 3; i += 3; break;
			case 'E': NEED(3); set_flag(&ps->style, PRN_BOLD, b[i + 2] & 1); i += 3; break;
			case 'G': NEED(3); set_flag(&ps->style, PRN_BOLD, b[i + 2] & 1); i += 3; break;
			case '-': NEED(3); set_flag(&ps->style, PRN_UNDERLINE, (b[i + 2] % 48) != 0); i += 3; break;
			case '!':
				NEED(3);
				set_flag(&ps->style, PRN_BOLD, b[i + 2] & 0x08);
				set_flag(&ps->style, PRN_DOUBLE, b[i + 2] & 0x10);
				set_flag(&ps->style, PRN_UNDERLINE, b[i + 2] & 0x80);
				i += 3;
				break;
			case 't':
				NEED(3);
				ps->cp = b[i + 2] == 16 ? PRN_CP1252 : PRN_CP858;
				i += 3;
				break;
			case 'M': NEED(3); ps->font_b = b[i + 2] & 1; i += 3; break;
			case 'd':
				NEED(3);
				if (ps->line_n)
					rc = flush_line(ps);
				if (rc == PM_OK && b[i + 2])
					rc = prn_doc_feed(ps->doc, b[i + 2]);
				i += 3;
				break;
			case '2': case 'S': case 'L':
				i += 2;
				break;
			case 'J': case '3': case 'R': case 'r': case 'U': case 'V': case '{': case 'T': case ' ':
				NEED(3);
				i += 3;
				break;
			case 'c':
				NEED(4);
				i += 4;
				break;
			case 'p':
				NEED(5);
				ps->drawer_kicks++;
				rc = prn_doc_drawer(ps->doc);
				i += 5;
				break;
			default:
				ps->unknown_cmds++;
				i += 2;
				break;
			}
		} else if (c == GS) {
			NEED(2);
			unsigned char cmd = b[i + 1];
			switch (cmd) {
			case '!':
				NEED(3);
				set_flag(&ps->style, PRN_DOUBLE, (b[i + 2] & 0x0f) != 0);
				i += 3;
				break;
			case 'H': case 'h': case 'w': case 'f': case 'B': case 'b': case 'I':
				NEED(3);
				if (cmd == 'h')
					ps->bar_height = b[i + 2];
				i += 3;
				break;
			case 'V': {
				NEED(3);
				unsigned char m = b[i + 2];
				size_t len = (m == 65 || m == 66 || m == 97 || m == 98 || m == 103 || m == 104) ? 4 : 3;
				NEED(len);
				if (ps->line_n)
					rc = flush_line(ps);
				ps->cuts++;
				if (rc == PM_OK)
					rc = prn_doc_cut(ps->doc);
				i += len;
				break;
			}
			case 'k': {
				NEED(3);
				unsigned char m = b[i + 2];
				const unsigned char *d;
				size_t dn;
				char data[300];
				if (m <= 6) {            /* function A: NUL-terminated */
					const unsigned char *z = memchr(b + i + 3, 0, n - i - 3);
					if (!z)
						return (long)i;
					d = b + i + 3;
					dn = (size_t)(z - d);
					i = (size_t)(z - b) + 1;
				} else {                 /* function B: length byte */
					NEED(4);
					dn = b[i + 3];
					NEED(4 + dn);
					d = b + i + 4;
					i += 4 + dn;
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
				if (ps->line_n)
					rc = flush_line(ps);
				if (rc == PM_OK)
					rc = prn_doc_barcode(ps->doc, (m == 67 || m == 2) ? PRN_EAN13 : PRN_CODE128, data);
				break;
			}
			case '(': {
				NEED(5);
				unsigned char fn = b[i + 2];
				size_t len = (size_t)b[i + 3] | (size_t)b[i + 4] << 8;
				NEED(5 + len);
				const unsigned char *p = b + i + 5;
				if (fn == 'k' && len >= 3 && p[0] == '1' && p[1] == 'P') {
					size_t dn = len - 3;
					if (dn >= sizeof(ps->qr))
						dn = sizeof(ps->qr) - 1;
					memcpy(ps->qr, p + 3, dn);
					ps->qr[dn] = '\0';
					ps->qr_n = dn;
				} else if (fn == 'k' && len >= 3 && p[0] == '1' && p[1] == 'Q') {
					if (ps->line_n)
						rc = flush_line(ps);
					for (size_t k = 0; k < ps->qr_n; k++)
						if (ps->qr[k] == '\0')
							ps->qr[k] = '?';
					if (rc == PM_OK)
						rc = prn_doc_qr(ps->doc, ps->qr);
				}
				i += 5 + len;
				break;
			}
			case 'L': case 'W':
				NEED(4);
				i += 4;
				break;
			case 'v': {
				NEED(8);
				if (b[i + 2] != '0') {
					ps->unknown_cmds++;
					i += 3;
					break;
				}
				size_t xb = (size_t)b[i + 4] | (size_t)b[i + 5] << 8;
				size_t h = (size_t)b[i + 6] | (size_t)b[i + 7] << 8;
				size_t sz = xb * h;
				NEED(8 + sz);
				if (ps->line_n)
					rc = flush_line(ps);
				if (rc == PM_OK && xb > 0 && h > 0 && xb * 8 <= 4096)
					rc = prn_doc_image(ps->doc, PRN_LEFT, (int)(xb * 8), (int)h, b + i + 8);
				i += 8 + sz;
				break;
			}
			default:
				ps->unknown_cmds++;
				i += 2;
				break;
			}
		} else if (c == FS) {
			NEED(2);
			/* FS . / FS & (Kanji mode off/on) and FS p (NV logo, m n) */
			if (b[i + 1] == 'p')
				NEED(4);
			i += b[i + 1] == 'p' ? 4 : 2;
		} else if (c < 0x20) {
			i++;   /* other control bytes print nothing */
		} else {
			add_char(ps, c);
			i++;
		}
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
