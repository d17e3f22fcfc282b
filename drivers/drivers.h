/*
 * drivers.h - scanners, receipt printers, and the one scan decoder.
 *
 * Scanners: scan_open() takes a device string (docs/scanning.md):
 *   usb:VID:PID, evdev:/dev/input/eventN, serial:/dev/ttyACM0[,BAUD], script:FILE
 * and scan_read() returns raw scans (bytes + AIM symbology id when the device
 * sends one). scan_decode() turns raw text into a typed scan. A script
 * scanner also returns cashier keys (lines starting with '#') as raw scans
 * with is_key set; the terminal interprets those.
 *
 * Printers: a receipt is built as a device-independent document
 * (struct prn_doc: text lines with style, barcodes, QR codes, cut) and
 * printed by a backend: text:FILE, escpos:FILE, usb:VID:PID, usblp:PATH,
 * tcp:HOST[:PORT] (docs/printers.md). A printer that reports paper out / cover open / offline
 * makes prn_print() fail with PM_EPAPER / PM_EOFFLINE; the caller keeps the
 * document queued and prints it again when prn_status() says ready.
 *
 * Depends on common/ and libc, libusb-1.0 (USB scanners and printers), zint,
 * libpng and cairo (barcode rasters, PNG previews); on no other posmark
 * module. This is the module's one public header. drivers/drv_backend.h is
 * private to drivers/: the ops tables each backend fills in and the helpers
 * the backends share. Tests may include it; other modules may not.
 *
 * Errors: every function returns PM_OK or a negative pm_err
 * (common/pm_err.h); each one's codes are listed above it. Where an errbuf
 * is taken it is the caller's, written (NUL-terminated) only on failure,
 * with a message for a person: what failed, on what, what to do.
 *
 * Threads: scan_decode*, scan_luhn_valid and the prn_doc_* functions keep no
 * state (distinct documents may be built on different threads). A device
 * (struct scan_dev, struct prn_dev) is used by one thread at a time; devices
 * share nothing, so each may have its own thread.
 *
 * Lifetimes: the caller closes what it opened (scan_close, prn_close) and
 * releases what it initialised (prn_doc_release); all three accept NULL.
 * scan_dev_name/prn_dev_name stay valid until the device is closed;
 * scan_kind_name and prn_state_words return static text.
 */
#ifndef DRIVERS_H
#define DRIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- scan decoding ---------------------------------------------------- */

enum scan_kind {
	SCAN_UNKNOWN = 0,          /* rejected; error[] says why */
	SCAN_ITEM = 1,             /* gtin[] is a GTIN-14 */
	SCAN_CARD = 2,             /* card[] is the loyalty card number */
	SCAN_COUPON = 3,           /* coupon[] is the code as printed */
	SCAN_VARIABLE_MEASURE = 4, /* in-store code: gtin[] (price zeroed) + price_cents */
};
const char *scan_kind_name(int kind);

#define SCAN_MAX_PREFIXES 16
struct scan_config {
	int card_min_len;          /* default 16 */
	int card_max_len;          /* default 19 */
	int n_card_prefixes;       /* 0 = any issuer prefix */
	char card_prefixes[SCAN_MAX_PREFIXES][12];
	bool card_luhn;            /* default true */
	char coupon_prefix[8];     /* posmark coupon codes start with this (default "PM") */
};
void scan_config_default(struct scan_config *cfg);

struct scan_result {
	int kind;                  /* enum scan_kind */
	char symbology[16];        /* "ean13", "upca", "ean8", "gtin14", "gs1-128", "code128", "magstripe", "keyed", ... */
	char gtin[15];             /* GTIN-14, item and variable measure */
	char card[20];
	char coupon[128];
	int64_t price_cents;       /* embedded price; -1 if none */
	int32_t weight_g;          /* embedded weight; -1 if none */
	char batch[24];            /* GS1 AI 10 */
	char expiry[8];            /* GS1 AI 17, YYMMDD */
	char error[160];           /* why it was rejected (SCAN_UNKNOWN) */
};

/*
 * Decode one scan. aim is the AIM symbology identifier ("]E0", "]C1", ...)
 * or NULL when the device sent none (it may also be a prefix of data).
 * Always returns PM_OK and fills *out (kind SCAN_UNKNOWN with error[] for
 * garbage); PM_EINVAL only for NULL arguments.
 */
int scan_decode(const struct scan_config *cfg, const char *data, size_t len,
		const char *aim, struct scan_result *out);
/* Same for a number keyed at the till (#card): card rules only. */
int scan_decode_keyed_card(const struct scan_config *cfg, const char *digits,
			   struct scan_result *out);

/* The GS1 mod-10 check digit is common/pm_gs1.h's pm_gs1_check_digit. */
bool scan_luhn_valid(const char *digits, size_t n);

/* ---- scanners --------------------------------------------------------- */

struct scan_dev;
struct scan_raw {
	char data[512];
	size_t len;
	char aim[4];               /* "" when the device sent no symbology id */
	bool is_key;               /* script:/keypad: a cashier key line, "#..." */
};
/*
 * Open a scanner by device string. Returns PM_OK, PM_EINVAL (bad string),
 * PM_ENOENT/PM_ENODEV (device absent), PM_EBUSY, PM_EIO.
 */
int scan_open(const char *spec, const struct scan_config *cfg, struct scan_dev **out,
	      char *errbuf, size_t errlen);
/*
 * Wait up to timeout_ms (-1 = forever) for the next scan.
 * Returns PM_OK with *out filled, PM_ETIMEOUT, PM_ENOENT at the end of a
 * script, PM_ENODEV if the device vanished (it is reopened by a later call).
 */
int scan_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms);
/* A file descriptor to poll for readability, or -1 (then call scan_read with a timeout). */
int scan_fd(struct scan_dev *s);
const char *scan_dev_name(const struct scan_dev *s);
void scan_close(struct scan_dev *s);

/* ---- receipt documents ------------------------------------------------ */

enum prn_align { PRN_LEFT = 0, PRN_CENTER = 1, PRN_RIGHT = 2 };
/* PRN_DOUBLE is double height only: layouts keep their column count. */
enum prn_style { PRN_BOLD = 1 << 0, PRN_DOUBLE = 1 << 1, PRN_UNDERLINE = 1 << 2 };
/* PRN_IMAGE: a 1-bit raster (what a printer got as GS v 0), e.g. read back from ESC/POS. */
enum prn_elem_kind { PRN_TEXT, PRN_BARCODE, PRN_QR, PRN_FEED, PRN_CUT, PRN_DRAWER, PRN_IMAGE };
enum prn_barcode { PRN_EAN13 = 0, PRN_CODE128 = 1 };

struct prn_elem {
	int kind;                  /* enum prn_elem_kind */
	int align;
	int style;
	int barcode;               /* enum prn_barcode, PRN_BARCODE only */
	int lines;                 /* PRN_FEED */
	char *text;                /* owned; UTF-8 text, barcode data or QR payload */
	int width, height;         /* PRN_IMAGE: dots */
	unsigned char *bits;       /* PRN_IMAGE, owned: rows of (width+7)/8 bytes, MSB left, 1 = black */
};

struct prn_doc {
	int columns;               /* 42 or 48 */
	size_t n, cap;
	struct prn_elem *elems;
};

int prn_doc_init(struct prn_doc *doc, int columns);
void prn_doc_release(struct prn_doc *doc);
int prn_doc_text(struct prn_doc *doc, int align, int style, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A line with left text and right text, padded to the width. */
int prn_doc_pair(struct prn_doc *doc, int style, const char *left, const char *right);
int prn_doc_rule(struct prn_doc *doc, char ch);
int prn_doc_barcode(struct prn_doc *doc, int type, const char *data);
int prn_doc_qr(struct prn_doc *doc, const char *payload);
int prn_doc_feed(struct prn_doc *doc, int lines);
int prn_doc_cut(struct prn_doc *doc);
/* Open the cash drawer (ESC p pulse on pin 2). */
int prn_doc_drawer(struct prn_doc *doc);
/* A 1-bit raster image; bits (rows of (width+7)/8 bytes) are copied. */
int prn_doc_image(struct prn_doc *doc, int align, int width, int height, const unsigned char *bits);
/* Append copies of src's elements to dst (a reprint, a queued copy). PM_OK or PM_ENOMEM. */
int prn_doc_append(struct prn_doc *dst, const struct prn_doc *src);
/* Render as plain text (what the text: backend writes). Caller frees *out. */
int prn_doc_to_text(const struct prn_doc *doc, char **out, size_t *len);

/*
 * The receipt preview (docs/printers.md, "Receipt preview"): ESC/POS bytes
 * drawn as a printer prints them, to a PNG file, 1 dot = 1 pixel (576 dots
 * for 80 mm, 384 for 58 mm, from the profile). An interpreter of the
 * commands posmark sends: text, styles, alignment, feeds, cuts, CODE128 and
 * EAN-13 bars from the GS k data, QR from the GS ( k data, GS v 0 rasters.
 * st (may be NULL) gets what was drawn and what a printer would not print.
 * profile NULL or "" = the generic default. PM_OK, PM_EINVAL (unknown
 * profile), PM_ENOMEM, PM_EIO (cannot write path).
 */
struct prn_render_stats {
	int barcodes, qr_codes;    /* symbols drawn */
	int too_wide;              /* symbols wider than the paper: a printer prints nothing */
	int refused;               /* symbol data a printer refuses (bad code set, not digits) */
	int cuts, unknown;         /* cuts; commands this interpreter skipped */
	bool truncated;            /* the stream ends inside a command */
	bool clipped;              /* the stream draws taller than the preview's limit (32,000 dots):
	                            * the rest is not interpreted, so the counts above cover a prefix */
};
int prn_escpos_render_png(const unsigned char *b, size_t n, const char *profile, const char *path,
			  struct prn_render_stats *st);
/* A document: encoded for the profile (exactly the bytes a printer gets), then drawn as above. */
int prn_doc_render_png(const struct prn_doc *doc, const char *profile, const char *path);

/*
 * Printer profiles (docs/printers.md): the built-in table, plus the models
 * of a capabilities file ([profile NAME] sections: model, dots,
 * columns_font_a/b, codepage, codepage_select, native_barcode, native_qr,
 * cutter, drawer, realtime_status). The file is $POSMARK_PRINTERS (a path;
 * "" or "none" = no file), else PM_SYSCONFDIR/posmark/printers.conf if it
 * exists, read at the first profile lookup; a broken file is a warning in
 * the log and only the built-in profiles are known. prn_profiles_load()
 * replaces the file's models now: PM_OK, or PM_EINVAL / the read's error
 * with "PATH:LINE: reason" in err (nothing changed then). Any thread.
 */
int prn_profiles_load(const char *path, char *err, size_t errlen);
/* The known profile names (built-in first): how many written to names. */
size_t prn_profile_names(const char **names, size_t cap);
/* The same as "generic, generic-58, ..." for messages. */
void prn_profile_list(char *buf, size_t len);
/*
 * Read an ESC/POS byte stream back into a document (text with style and
 * alignment, barcodes, QR codes, raster images, cuts, drawer kicks): what a
 * printer would print from it. *doc must be initialised; elements are
 * appended. PM_OK, PM_EPROTO (a command cut short at the end: what came
 * before is kept), PM_ENOMEM.
 */
int prn_escpos_to_doc(const void *bytes, size_t len, struct prn_doc *doc);
/*
 * Encode a document as ESC/POS for a printer profile (NULL = generic).
 * *out is malloc'd (caller frees). PM_OK, PM_EINVAL (unknown profile), PM_ENOMEM.
 */
int prn_escpos_encode(const struct prn_doc *doc, const char *profile, unsigned char **out,
		      size_t *len);

/* ---- printers --------------------------------------------------------- */

struct prn_dev;
enum prn_state { PRN_READY = 0, PRN_PAPER_OUT = 1, PRN_COVER_OPEN = 2, PRN_OFFLINE = 3 };
const char *prn_state_words(int state);
/*
 * Open a printer by device string: text:FILE, escpos:FILE, tcp:HOST[:PORT],
 * usblp:/dev/usb/lpN, usb:VID:PID, each optionally followed by options
 * ",profile=NAME" (docs/printers.md) and ",timeout=MS" (per I/O step,
 * default 2000). A network or USB printer that is absent or offline still
 * opens (PM_OK): it is connected on the next print, so a till starts with
 * its printer switched off. Returns PM_EINVAL for a bad string or unknown
 * profile, PM_ENOENT/PM_EIO when a file cannot be opened.
 */
int prn_open(const char *spec, struct prn_dev **out, char *errbuf, size_t errlen);
/*
 * Print a document. PM_OK; PM_EPAPER / PM_EOFFLINE / PM_ETIMEOUT / PM_ENODEV:
 * not (completely) printed, keep it and print it again when prn_status()
 * says PRN_READY (a receipt cut off by paper out is printed whole again).
 */
int prn_print(struct prn_dev *p, const struct prn_doc *doc);
/*
 * Current state (enum prn_state) into *state, asked from the printer now
 * (DLE EOT, GET_PORT_STATUS, LPGETSTATUS). Backends without status say
 * READY. Returns PM_OK when *state is known; a printer that does not answer
 * gives PM_ETIMEOUT with *state = PRN_OFFLINE.
 */
int prn_status(struct prn_dev *p, int *state);
const char *prn_dev_name(const struct prn_dev *p);
/* Use a printer profile (docs/printers.md) from now on. PM_EINVAL if unknown. */
int prn_set_profile(struct prn_dev *p, const char *name);
void prn_close(struct prn_dev *p);

#endif
