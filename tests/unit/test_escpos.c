/*
 * test_escpos.c - the ESC/POS encoder, its reader, DLE EOT status replies,
 * the PNG preview, and the tcp: backend against a printer emulator on
 * 127.0.0.1 (a thread) that parses the stream back into text, barcodes, QR
 * codes and cuts and answers DLE EOT like an Epson TM printer: ready, paper
 * out, cover open, paper running out during a receipt, or never answering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_time.h"
#include "tests/unit/testutil.h"
#include "tests/unit/escpos_emu.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static void build_doc(struct prn_doc *d, int columns)
{
	prn_doc_init(d, columns);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "Café Größe");
	prn_doc_pair(d, 0, "Milk 1l", "€1.29");
	prn_doc_text(d, PRN_LEFT, PRN_UNDERLINE, "underlined");
	prn_doc_text(d, PRN_RIGHT, 0, "TOTAL 1.29");
	prn_doc_barcode(d, PRN_EAN13, "4006381333931");
	prn_doc_barcode(d, PRN_CODE128, "PM-ABC123-XY");
	prn_doc_qr(d, "https://example.org/c/PM-ABC123");
	prn_doc_feed(d, 2);
	prn_doc_drawer(d);
	prn_doc_cut(d);
}

static bool has(const unsigned char *p, size_t n, const void *needle, size_t k)
{
	return memmem(p, n, needle, k) != NULL;
}

static const struct prn_elem *find_kind(const struct prn_doc *d, int kind, size_t nth)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->elems[i].kind == kind && nth-- == 0)
			return &d->elems[i];
	return NULL;
}

static void test_encode_native(void **state)
{
	(void)state;
	struct prn_doc d, back;
	unsigned char *out;
	size_t n;
	build_doc(&d, 42);
	assert_int_equal(prn_escpos_encode(&d, "epson-tm-t88v", &out, &n), PM_OK);
	assert_true(has(out, n, "\x1b@\x1bt\x13", 5));          /* init, CP858 */
	assert_true(has(out, n, "\x1b" "E\x01", 3));            /* bold */
	assert_true(has(out, n, "\x1d!\x01", 3));               /* double height */
	assert_true(has(out, n, "\x1b" "a\x01", 3));            /* centred */
	assert_true(has(out, n, "Caf\x82 Gr\x94\xe1" "e", 9));  /* CP858 é ö ß */
	assert_true(has(out, n, "\xd5" "1.29", 5));             /* CP858 euro */
	assert_true(has(out, n, "\x1dk\x43\x0c" "400638133393", 16));
	assert_true(has(out, n, "\x1dk\x49\x0e{BPM-ABC123-XY", 18));
	assert_true(has(out, n, "\x1d(k\x22\x00" "1P0https://example.org/c/PM-ABC123", 39));
	assert_true(has(out, n, "\x1d(k\x03\x00" "1Q0", 8));
	assert_true(has(out, n, "\x1bp\x00\x19\xfa", 5));
	assert_true(has(out, n, "\x1dV\x42\x00", 4));
	assert_false(has(out, n, "\x1dv0", 3));                 /* no raster needed */

	prn_doc_init(&back, 42);
	assert_int_equal(prn_escpos_to_doc(out, n, &back), PM_OK);
	const struct prn_elem *t = find_kind(&back, PRN_TEXT, 0);
	assert_non_null(t);
	assert_string_equal(t->text, "Café Größe");
	assert_int_equal(t->style, PRN_BOLD | PRN_DOUBLE);
	assert_int_equal(t->align, PRN_CENTER);
	t = find_kind(&back, PRN_TEXT, 1);
	assert_non_null(strstr(t->text, "€1.29"));
	assert_int_equal(strlen(t->text), 42 + 2);               /* 42 columns, € is 3 bytes */
	assert_int_equal(find_kind(&back, PRN_TEXT, 2)->style, PRN_UNDERLINE);
	assert_int_equal(find_kind(&back, PRN_TEXT, 3)->align, PRN_RIGHT);
	assert_string_equal(find_kind(&back, PRN_BARCODE, 0)->text, "400638133393");
	assert_int_equal(find_kind(&back, PRN_BARCODE, 0)->barcode, PRN_EAN13);
	assert_string_equal(find_kind(&back, PRN_BARCODE, 1)->text, "PM-ABC123-XY");
	assert_int_equal(find_kind(&back, PRN_BARCODE, 1)->barcode, PRN_CODE128);
	assert_string_equal(find_kind(&back, PRN_QR, 0)->text, "https://example.org/c/PM-ABC123");
	assert_non_null(find_kind(&back, PRN_CUT, 0));
	assert_non_null(find_kind(&back, PRN_DRAWER, 0));
	assert_int_equal(find_kind(&back, PRN_FEED, 0)->lines, 2);
	/* Truncated stream: what came before is kept, the error says so. */
	prn_doc_release(&back);
	prn_doc_init(&back, 42);
	assert_int_equal(prn_escpos_to_doc(out, n - 3, &back), PM_EPROTO);
	assert_non_null(find_kind(&back, PRN_QR, 0));
	prn_doc_release(&back);
	free(out);
	prn_doc_release(&d);
}

static void test_encode_raster_fallback(void **state)
{
	(void)state;
	struct prn_doc d, back;
	unsigned char *out;
	size_t n;
	build_doc(&d, 48);
	assert_int_equal(prn_escpos_encode(&d, "raster", &out, &n), PM_OK);
	assert_false(has(out, n, "\x1dk", 2));
	assert_false(has(out, n, "\x1d(k", 3));
	prn_doc_init(&back, 48);
	assert_int_equal(prn_escpos_to_doc(out, n, &back), PM_OK);
	/* EAN-13, CODE128, QR: three images, each within 576 dots, QR square-ish. */
	for (int i = 0; i < 3; i++) {
		const struct prn_elem *img = find_kind(&back, PRN_IMAGE, (size_t)i);
		assert_non_null(img);
		assert_true(img->width <= 576 && img->height > 20);
	}
	assert_null(find_kind(&back, PRN_IMAGE, 3));
	/* The barcode digits print under the image. */
	bool digits = false;
	for (size_t i = 0; i < back.n; i++)
		if (back.elems[i].kind == PRN_TEXT && !strcmp(back.elems[i].text, "4006381333931"))
			digits = true;
	assert_true(digits);
	prn_doc_release(&back);
	free(out);
	/* 58 mm without cutter: a feed instead of GS V; font B for 42 columns. */
	prn_doc_release(&d);
	build_doc(&d, 42);
	assert_int_equal(prn_escpos_encode(&d, "pos-5890", &out, &n), PM_OK);
	assert_false(has(out, n, "\x1dV", 2));
	assert_true(has(out, n, "\x1bM\x01", 3));
	free(out);
	/* CP1252 printer: the euro is 0x80. */
	assert_int_equal(prn_escpos_encode(&d, "bixolon-srp-350iii", &out, &n), PM_OK);
	assert_true(has(out, n, "\x1bt\x10", 3));
	assert_true(has(out, n, "\x80" "1.29", 5));
	free(out);
	assert_int_equal(prn_escpos_encode(&d, "no-such-printer", &out, &n), PM_EINVAL);
	prn_doc_release(&d);
}

static void test_status_replies(void **state)
{
	(void)state;
	int st;
	assert_int_equal(prni_escpos_status_reply(1, 0x12, &st), PM_OK);
	assert_int_equal(st, PRN_READY);
	assert_int_equal(prni_escpos_status_reply(1, 0x1a, &st), PM_OK);
	assert_int_equal(st, PRN_OFFLINE);
	assert_int_equal(prni_escpos_status_reply(2, 0x16, &st), PM_OK);
	assert_int_equal(st, PRN_COVER_OPEN);
	assert_int_equal(prni_escpos_status_reply(2, 0x32, &st), PM_OK);
	assert_int_equal(st, PRN_PAPER_OUT);
	assert_int_equal(prni_escpos_status_reply(4, 0x12, &st), PM_OK);
	assert_int_equal(st, PRN_READY);
	assert_int_equal(prni_escpos_status_reply(4, 0x1e, &st), PM_OK);   /* near end: prints */
	assert_int_equal(st, PRN_READY);
	assert_int_equal(prni_escpos_status_reply(4, 0x72, &st), PM_OK);
	assert_int_equal(st, PRN_PAPER_OUT);
	assert_int_equal(prni_escpos_status_reply(1, 0x00, &st), PM_EPROTO);
	assert_int_equal(prni_escpos_status_reply(1, 0xff, &st), PM_EPROTO);
	assert_int_equal(prni_escpos_status_reply(9, 0x12, &st), PM_EINVAL);
	assert_int_equal(prni_usb_port_status(0x18), PRN_READY);
	assert_int_equal(prni_usb_port_status(0x38), PRN_PAPER_OUT);
	assert_int_equal(prni_usb_port_status(0x08), PRN_OFFLINE);
	assert_int_equal(prni_usb_port_status(0x10), PRN_OFFLINE);
}

static void test_png_preview(void **state)
{
	(void)state;
	struct prn_doc d;
	char *dir = tu_mkdtemp(), path[4200];
	unsigned char sig[8];
	build_doc(&d, 48);
	snprintf(path, sizeof(path), "%s/r.png", dir);
	assert_int_equal(prn_doc_render_png(&d, NULL, path), PM_OK);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(sig, 1, 8, f), 8);
	fseek(f, 0, SEEK_END);
	assert_true(ftell(f) > 2000);
	fclose(f);
	assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(prn_doc_render_png(&d, "nope", path), PM_EINVAL);
	prn_doc_release(&d);
	tu_rmdir(dir);
}

static size_t count(const unsigned char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), c = 0;
	for (const unsigned char *q = p; (q = memmem(q, n - (size_t)(q - p), needle, k)) != NULL; q += k)
		c++;
	return c;
}

/* Coupon v2 codes pack in code set C and fit every profile; a code too wide never goes out as GS k. */
static void test_code128_fit(void **state)
{
	(void)state;
	static const char *v2 = "P12345678901234567890";
	static const char *v1 = "PMK110015872099796993746978020795000010496306836922";
	static const char *profiles[] = { "generic", "generic-58", "raster", "epson-tm-t88v", "epson-tm-t20ii",
					  "bixolon-srp-350iii", "pos-5890" };
	struct prn_doc d;
	unsigned char *out;
	size_t n;
	struct prn_render_stats st;
	char *dir = tu_mkdtemp(), path[4200];
	snprintf(path, sizeof(path), "%s/r.png", dir);
	prn_doc_init(&d, 42);
	prn_doc_barcode(&d, PRN_CODE128, v2);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		assert_int_equal(prn_escpos_encode(&d, profiles[i], &out, &n), PM_OK);
		bool native = strcmp(profiles[i], "raster") != 0;
		/* Start B, P, Code C, 10 pairs: 15 data bytes; no printer HRI, module 2 */
		assert_int_equal(has(out, n, "\x1dk\x49\x0f{BP{C\x0c\x22\x38\x4e\x5a\x0c\x22\x38\x4e\x5a", 19), native);
		assert_int_equal(has(out, n, "\x1dH\x00\x1dh\x50\x1dw\x02", 9), native);
		assert_int_equal(has(out, n, "\x1dv0", 3), !native);
		assert_int_equal(count(out, n, v2), 1);         /* the text printed once, whole */
		/* the preview interpreter draws it from these bytes */
		assert_int_equal(prn_escpos_render_png(out, n, profiles[i], path, &st), PM_OK);
		assert_int_equal(st.barcodes, native);
		assert_int_equal(st.too_wide, 0);
		free(out);
	}
	prn_doc_release(&d);
	/* a 51-character v1 code: 1,000+ dots at a 2-dot module; QR where native, else text only */
	prn_doc_init(&d, 42);
	prn_doc_barcode(&d, PRN_CODE128, v1);
	assert_int_equal(prn_escpos_encode(&d, "epson-tm-t88v", &out, &n), PM_OK);
	assert_false(has(out, n, "\x1dk", 2));
	assert_true(has(out, n, "1P0PMK11001587", 14));       /* GS ( k store */
	assert_int_equal(count(out, n, v1), 2);               /* QR data and the text line */
	assert_int_equal(prn_escpos_render_png(out, n, "epson-tm-t88v", path, &st), PM_OK);
	assert_int_equal(st.qr_codes, 1);
	free(out);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(prn_escpos_encode(&d, k ? "raster" : "generic", &out, &n), PM_OK);
		assert_false(has(out, n, "\x1dk", 2));
		assert_false(has(out, n, "\x1d(k", 3));
		assert_false(has(out, n, "\x1dv0", 3));
		assert_int_equal(count(out, n, v1), 1);
		free(out);
	}
	prn_doc_release(&d);
	/* what a printer does with a too-wide symbol (the old encoder's bytes): prints nothing */
	unsigned char old[80] = "\x1dw\x02\x1dk\x49\x35{B";
	memcpy(old + 9, v1, 51);
	assert_int_equal(prn_escpos_render_png(old, 60, "generic", path, &st), PM_OK);
	assert_int_equal(st.too_wide, 1);
	assert_int_equal(st.barcodes, 0);
	assert_false(st.clipped);
	/* a stream taller than the preview's limit: read up to it, and it says so (a refused
	 * barcode after 4,000 lines is past the limit: not counted) */
	size_t tall_n = 4000 + 9;
	unsigned char *tall = malloc(tall_n);
	assert_non_null(tall);
	memset(tall, '\n', 4000);
	memcpy(tall + 4000, "\x1dk\x49\x03{Zx\n", 9);
	assert_int_equal(prni_escpos_render_png(tall, tall_n, prni_profile_find("generic"), NULL, &st), PM_OK);
	assert_true(st.clipped);
	assert_int_equal(st.refused, 0);
	assert_int_equal(prni_escpos_render_png(tall + 3990, tall_n - 3990, prni_profile_find("generic"), NULL, &st), PM_OK);
	assert_false(st.clipped);
	assert_int_equal(st.refused, 1);
	free(tall);
	/* the reader of GS k 73 data: code sets, pairs, what a printer refuses */
	int vals[64];
	char text[64];
	assert_int_equal(prni_c128_parse((const unsigned char *)"{BP{C\x0c\x22", 7, vals, 64, text, 64), 6);
	assert_string_equal(text, "P1234");
	assert_int_equal(vals[0], 104);                       /* Start B */
	assert_int_equal(vals[2], 99);                        /* Code C */
	assert_int_equal(vals[5], (104 + 1 * 48 + 2 * 99 + 3 * 12 + 4 * 34) % 103);   /* check symbol */
	assert_int_equal(prni_c128_parse((const unsigned char *)"PM", 2, vals, 64, text, 64), -1);       /* no set */
	assert_int_equal(prni_c128_parse((const unsigned char *)"{C\x64", 3, vals, 64, text, 64), -1);  /* 100 */
	assert_int_equal(prni_c128_parse((const unsigned char *)"{Aab", 4, vals, 64, text, 64), -1);     /* a in A */
	assert_int_equal(prni_c128_parse((const unsigned char *)"{B{{x", 5, vals, 64, text, 64), 4);
	assert_string_equal(text, "{x");
	unsigned char data[64];
	assert_int_equal(prni_c128_escpos("1234567", data, sizeof(data)), 2 + 3 + 2 + 1);   /* {C 3 pairs {B 7 */
	assert_memory_equal(data, "{C\x0c\x22\x38{B7", 8);
	assert_int_equal(prni_c128_escpos("A\x01", data, sizeof(data)), -1);
	tu_rmdir(dir);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Models from a capabilities file: added, replacing a built-in, and every error with its line. */
static void test_profiles_file(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), path[4200], err[600];
	const struct prn_profile *p;
	struct prn_dev *dev;
	snprintf(path, sizeof(path), "%s/printers.conf", dir);
	write_text(path, "# two models\n[profile narrow-48]\nmodel = a 48 mm printer\ndots = 288\n"
		   "columns_font_a = 24\ncolumns_font_b = 32\nnative_qr = yes\ncutter = no\n\n"
		   "[profile pos-5890]\nrealtime_status = yes\ncodepage = cp1252\n");
	assert_int_equal(prn_profiles_load(path, err, sizeof(err)), PM_OK);
	assert_non_null(p = prni_profile_find("narrow-48"));
	assert_int_equal(p->dots, 288);
	assert_int_equal(p->cols_font_a, 24);
	assert_true(p->native_qr && !p->cutter && p->native_barcode);   /* unset: generic's */
	assert_string_equal(p->model, "a 48 mm printer");
	assert_non_null(p = prni_profile_find("pos-5890"));             /* replaced built-in */
	assert_int_equal(p->dots, 576);
	assert_int_equal(p->codepage_select, 16);
	assert_non_null(prni_profile_find("epson-tm-t88v"));            /* the others stay */
	char names[600];
	prn_profile_list(names, sizeof(names));
	assert_non_null(strstr(names, "generic, generic-58"));
	assert_non_null(strstr(names, "narrow-48"));
	char spec[4300];
	snprintf(spec, sizeof(spec), "escpos:%s/cap.bin,profile=narrow-48", dir);
	assert_int_equal(prn_open(spec, &dev, err, sizeof(err)), PM_OK);
	prn_close(dev);
	snprintf(spec, sizeof(spec), "escpos:%s/cap.bin,profile=nope", dir);
	assert_int_equal(prn_open(spec, &dev, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "the known ones: generic"));
	assert_non_null(strstr(err, "narrow-48"));
	/* a coupon does not fit 288 dots: a native QR code instead of a barcode */
	struct prn_doc d;
	unsigned char *out;
	size_t n;
	prn_doc_init(&d, 24);
	prn_doc_barcode(&d, PRN_CODE128, "P12345678901234567890");
	assert_int_equal(prn_escpos_encode(&d, "narrow-48", &out, &n), PM_OK);
	assert_false(has(out, n, "\x1dk", 2));
	assert_true(has(out, n, "1P0P12345678901234567890", 24));
	free(out);
	prn_doc_release(&d);
	/* errors: the line and what is expected; nothing changes */
	static const struct { const char *text, *want; } bad[] = {
		{ "[profile x]\ndots = 300\n", "printers.conf:2: dots = '300': expected" },
		{ "[profile x]\ncolour = red\n", "printers.conf:2: unknown key 'colour'" },
		{ "[printer x]\ndots = 384\n", "printers.conf:2: section [printer x] is not a printer" },
		{ "[profile Bad_Name]\ndots = 384\n", "profile name 'Bad_Name'" },
		{ "[profile x]\ncutter = maybe\n", "cutter = 'maybe': expected yes or no" },
		{ "[profile x]\ncodepage = cp437\n", "expected cp858 or cp1252" },
		{ "[profile x]\ncolumns_font_a = 48\ncolumns_font_b = 32\n", "font B is the narrower" },
		{ "[profile x]\ndots = 384\n[profile y]\ndots = 384\n[profile x]\ncutter = no\n", "defined twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "%s/printers.conf", dir);
		write_text(path, bad[i].text);
		err[0] = '\0';
		assert_int_equal(prn_profiles_load(path, err, sizeof(err)), PM_EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("file %zu: '%s' lacks '%s'", i, err, bad[i].want);
		assert_non_null(prni_profile_find("narrow-48"));        /* the last good file still holds */
	}
	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	assert_int_not_equal(prn_profiles_load(path, err, sizeof(err)), PM_OK);
	assert_non_null(strstr(err, "absent.conf"));
	/* no file: the built-in table only */
	assert_int_equal(prn_profiles_load(NULL, err, sizeof(err)), PM_OK);
	assert_null(prni_profile_find("narrow-48"));
	assert_int_equal(prni_profile_find("pos-5890")->dots, 384);
	tu_rmdir(dir);
}

static struct prn_dev *open_tcp(int port, const char *profile)
{
	char spec[128], err[256];
	struct prn_dev *p;
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d,timeout=200%s%s", port, profile ? ",profile=" : "",
		 profile ? profile : "");
	assert_int_equal(prn_open(spec, &p, err, sizeof(err)), PM_OK);
	return p;
}

static void test_tcp_print_and_status(void **state)
{
	(void)state;
	struct emu e;
	struct prn_doc d;
	int st;
	emu_start(&e, EMU_READY);
	struct prn_dev *p = open_tcp(e.port, "epson-tm-t88v");
	build_doc(&d, 42);
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_READY);
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_int_equal(emu_wait_cuts(&e, 1), 1);
	pthread_mutex_lock(&e.mu);
	assert_string_equal(find_kind(&e.doc, PRN_TEXT, 0)->text, "Café Größe");
	assert_string_equal(find_kind(&e.doc, PRN_BARCODE, 1)->text, "PM-ABC123-XY");
	assert_string_equal(find_kind(&e.doc, PRN_QR, 0)->text, "https://example.org/c/PM-ABC123");
	assert_int_equal(e.ps.drawer_kicks, 1);
	pthread_mutex_unlock(&e.mu);

	/* Paper out: refused before a byte of the receipt is sent. */
	emu_set_mode(&e, EMU_PAPER_OUT);
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_PAPER_OUT);
	assert_int_equal(prn_print(p, &d), PM_EPAPER);
	emu_set_mode(&e, EMU_COVER_OPEN);
	assert_int_equal(prn_print(p, &d), PM_EPAPER);
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_COVER_OPEN);
	usleep(50000);
	assert_int_equal(emu_wait_cuts(&e, 1), 1);
	/* Paper back: it prints. */
	emu_set_mode(&e, EMU_READY);
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_int_equal(emu_wait_cuts(&e, 2), 2);
	/* Paper runs out during the receipt: reported, so it is printed again whole. */
	emu_set_mode(&e, EMU_PAPER_RUNS_OUT);
	assert_int_equal(prn_print(p, &d), PM_EPAPER);
	prn_close(p);
	prn_doc_release(&d);
	emu_stop(&e);
}

static void test_tcp_silent_and_absent(void **state)
{
	(void)state;
	struct emu e;
	struct prn_doc d;
	int st;
	emu_start(&e, EMU_SILENT);
	struct prn_dev *p = open_tcp(e.port, NULL);
	build_doc(&d, 48);
	int64_t t0 = pm_now_us();
	assert_int_equal(prn_print(p, &d), PM_ETIMEOUT);
	int64_t ms = (pm_now_us() - t0) / 1000;
	assert_true(ms >= 150 && ms < 2000);
	assert_int_equal(prn_status(p, &st), PM_ETIMEOUT);
	assert_int_equal(st, PRN_OFFLINE);
	/* The printer wakes up: the next print reconnects and works. */
	emu_set_mode(&e, EMU_READY);
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_int_equal(emu_wait_cuts(&e, 1), 1);
	prn_close(p);
	int port = e.port;
	emu_stop(&e);
	/* Nobody listening any more: offline at once. */
	p = open_tcp(port, NULL);
	assert_int_equal(prn_print(p, &d), PM_EOFFLINE);
	assert_int_equal(prn_status(p, &st), PM_EOFFLINE);
	assert_int_equal(st, PRN_OFFLINE);
	prn_close(p);
	prn_doc_release(&d);
}

static void test_open_strings(void **state)
{
	(void)state;
	struct prn_dev *p;
	char err[256];
	assert_int_equal(prn_open("tcp:", &p, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(prn_open("tcp:host:99999", &p, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(prn_open("tcp:host,profile=nope", &p, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "profile"));
	assert_int_equal(prn_open("tcp:host,timeout=x", &p, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(prn_open("tcp:host,color=red", &p, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(prn_open("usb:zz:1", &p, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(prn_open("usblp:", &p, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(prn_open("tcp:[::1]:9100,timeout=50", &p, err, sizeof(err)), PM_OK);
	prn_close(p);
	/* usblp: a node that does not exist is offline, not a crash. */
	assert_int_equal(prn_open("usblp:/nonexistent/lp0", &p, err, sizeof(err)), PM_OK);
	int st;
	assert_int_equal(prn_status(p, &st), PM_EOFFLINE);
	prn_close(p);
}

static void test_escpos_file_backend(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), spec[4200], err[256];
	struct prn_dev *p;
	struct prn_doc d, back;
	build_doc(&d, 42);
	snprintf(spec, sizeof(spec), "escpos:%s/cap.bin,profile=epson-tm-t88v", dir);
	assert_int_equal(prn_open(spec, &p, err, sizeof(err)), PM_OK);
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_int_equal(prn_print(p, &d), PM_OK);
	prn_close(p);
	snprintf(spec, sizeof(spec), "%s/cap.bin", dir);
	FILE *f = fopen(spec, "rb");
	unsigned char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	prn_doc_init(&back, 42);
	assert_int_equal(prn_escpos_to_doc(buf, n, &back), PM_OK);
	assert_non_null(find_kind(&back, PRN_CUT, 1));
	prn_doc_release(&back);
	prn_doc_release(&d);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_native),
		cmocka_unit_test(test_encode_raster_fallback),
		cmocka_unit_test(test_status_replies),
		cmocka_unit_test(test_png_preview),
		cmocka_unit_test(test_code128_fit),
		cmocka_unit_test(test_profiles_file),
		cmocka_unit_test(test_tcp_print_and_status),
		cmocka_unit_test(test_tcp_silent_and_absent),
		cmocka_unit_test(test_open_strings),
		cmocka_unit_test(test_escpos_file_backend),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
