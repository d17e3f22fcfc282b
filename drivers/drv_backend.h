/*
 * drv_backend.h - PRIVATE to drivers/: the ops tables the scanner and
 * printer backends fill in, and the helpers they share. Other modules use
 * drivers/drivers.h only; tests (tests/unit, tests/fuzz) may include this.
 *
 * The cores, scan_core.c and prn_core.c, parse the device string, allocate
 * the device and its priv_size bytes of backend state (zeroed), and
 * dispatch; each backend file (scan_*.c, prn_*.c) exports one const ops
 * table, listed at the end of this header. Each section below names the
 * file that provides it.
 */
#ifndef DRV_BACKEND_H
#define DRV_BACKEND_H

#include "drivers/drivers.h"
#include "common/pm_buf.h"

#include <libusb.h>

struct scan_ops {
	const char *name;          /* shown in logs: "script", "usb-hid", ... */
	const char *scheme;        /* device-string prefix before ':' */
	size_t priv_size;          /* the core allocates this much backend state */
	/* Open the device named by arg (the part after "scheme:"). Required. */
	int (*open)(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen);
	/* Next raw scan within timeout_ms (-1 forever). Required. */
	int (*read)(struct scan_dev *s, struct scan_raw *out, int timeout_ms);
	/* Pollable fd or -1. Optional: NULL means -1. */
	int (*fd)(struct scan_dev *s);
	void (*close)(struct scan_dev *s);   /* Required; frees nothing the core owns */
};

struct scan_dev {
	const struct scan_ops *ops;
	struct scan_config cfg;
	char name[128];
	void *priv;                /* priv_size bytes, zeroed, owned by the core */
};

struct prn_ops {
	const char *name;
	const char *scheme;
	size_t priv_size;
	int (*open)(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen);
	/* Print the document; PM_EPAPER/PM_EOFFLINE/PM_ETIMEOUT leave it unprinted. */
	int (*print)(struct prn_dev *p, const struct prn_doc *doc);
	/*
	 * ESC/POS devices give write instead of print: the core checks the
	 * status, encodes for the profile, writes the bytes, and checks the status
	 * again (paper that ran out during the receipt: print it again, whole).
	 */
	int (*write)(struct prn_dev *p, const unsigned char *buf, size_t n);
	/* Optional: NULL means always ready. */
	int (*status)(struct prn_dev *p, int *state);
	void (*close)(struct prn_dev *p);
};

/* Display width of UTF-8 text: code points, not bytes (prn_doc.c). */
size_t prni_utf8_width(const char *s);

/* ---- printer profiles (prn_profiles.c) ---- */
enum prn_codepage { PRN_CP858 = 0, PRN_CP1252 = 1 };
struct prn_profile {
	const char *name;          /* "generic", "epson-tm-t88v", ... (docs/printers.md) */
	const char *model;         /* for people */
	int dots;                  /* printable dots per line (203 dpi) */
	int cols_font_a;           /* characters per line, font A (12x24) */
	int cols_font_b;           /* font B (9x17) */
	int codepage;              /* enum prn_codepage */
	int codepage_select;       /* n of ESC t n selecting it */
	bool native_barcode;       /* GS k EAN-13 and CODE128 */
	bool native_qr;            /* GS ( k QR; else a GS v 0 raster */
	bool cutter;               /* GS V; else feed for tear-off */
	bool drawer;               /* ESC p */
	bool rt_status;            /* answers DLE EOT n */
};
/* The profile named, or NULL. NULL/"" gives the generic default. */
const struct prn_profile *prni_profile_find(const char *name);

/* code128.c: CODE128 as GS k 73 data (docs/printers.md, "Barcodes that fit").
 * The GS k 73 data for text: {B / {C selections, code C pairs where it saves width; -1 if text has a
 * byte outside 0x20..0x7e or out is too small. */
int prni_c128_escpos(const char *text, unsigned char *out, size_t cap);
/* Read GS k 73 data as a printer does: the symbol values (start, data, check; the stop is implied)
 * and the human-readable text. Number of values, or -1 where a printer would refuse the data. */
int prni_c128_parse(const unsigned char *d, size_t n, int *vals, size_t cap, char *text, size_t tcap);
/* Modules of a symbol of nvals values (with the stop, without quiet zones). */
int prni_c128_width(int nvals);
/* Its modules, 1 = bar, without quiet zones: the count, or -1 if cap is too small. */
int prni_c128_modules(const int *vals, int nvals, unsigned char *mods, size_t cap);
/* CODE128 module width (dots) and quiet zone (modules each side) posmark prints with. */
#define PRN_C128_MODULE 2
#define PRN_C128_QUIET 10
#define PRN_C128_MAX_MODULES 3200   /* 255 data bytes: at most ~290 symbols */

struct prn_dev {
	const struct prn_ops *ops;
	char name[128];
	void *priv;
	const struct prn_profile *profile; /* never NULL */
	int timeout_ms;            /* per I/O step: connect, write, status reply */
	long long file_max_bytes;  /* text: rotate before a receipt would pass it; 0 = never */
	int file_keep;             /* text: rotated files kept, FILE.1 (newest) .. FILE.N */
	char status_file[512];     /* text:/escpos: simulated state (",status=FILE"); "" = always ready */
};

/* text: printers' bounds unless ,max_kb=N,keep=N say otherwise (docs/printers.md). */
#define PRNI_TEXT_MAX_KB_DEFAULT 8192
#define PRNI_TEXT_KEEP_DEFAULT 3

/* ---- encoder output (escpos.c): a pm_buf whose first failure sticks ---- */
struct prni_buf {
	struct pm_buf bytes;       /* the encoded bytes (bytes.data, bytes.len) */
	int err;                   /* sticky PM_ENOMEM: later adds do nothing */
};
/* Append n bytes unless an earlier append failed (then b->err says so). */
void prni_buf_add(struct prni_buf *b, const void *data, size_t n);
void prni_buf_release(struct prni_buf *b);

/* ---- code pages (prn_codepage.c) ---- */
/* UTF-8 to the code page, NUL-terminated in out[cap]; '?' for what it lacks. Returns bytes. */
size_t prni_cp_from_utf8(int cp, const char *in, char *out, size_t cap);
/* One code page byte as UTF-8 (1-3 bytes) into out; returns the length. */
size_t prni_cp_to_utf8(int cp, unsigned char byte, char out[4]);

/* ---- ESC/POS (escpos.c, escpos_parse.c) ---- */
int prni_escpos_encode(const struct prn_doc *doc, const struct prn_profile *prof, struct prni_buf *out);
/* prn_png.c: the preview interpreter (drivers.h, prn_escpos_render_png); path NULL = draw only. */
int prni_escpos_render_png(const unsigned char *b, size_t n, const struct prn_profile *prof, const char *path,
			   struct prn_render_stats *st);
/*
 * Meaning of the reply byte to DLE EOT n (n = 1 printer, 2 offline cause,
 * 4 paper sensor): *state gets PRN_READY or what is wrong. PM_EPROTO when
 * the byte is not a status byte (fixed bits 0x12 under mask 0x93).
 */
int prni_escpos_status_reply(int n, unsigned char reply, int *state);
/* Ask DLE EOT 1, 2, 4 over fd (a socket or tty) and combine the answers. */
int prni_escpos_query_fd(int fd, int timeout_ms, int *state);

/* Incremental ESC/POS reader (the emulators and prn_escpos_to_doc). */
struct prni_escpos_parser {
	struct prn_doc *doc;       /* elements are appended here */
	int cp, align, style;      /* current code page and text style */
	bool font_b;
	char line[2048];           /* the text line being built (UTF-8) */
	size_t line_n;
	char qr[1024];             /* GS ( k stored QR data */
	size_t qr_n;
	int bar_height;            /* GS h */
	/* Called for DLE EOT n (a real-time status query); may be NULL. */
	void (*on_status)(void *ctx, int n);
	void *ctx;
	unsigned long cuts, drawer_kicks, unknown_cmds;
};
void prni_escpos_parser_init(struct prni_escpos_parser *ps, struct prn_doc *doc);
/*
 * Read bytes: returns how many were consumed (fewer than n when the last
 * command is incomplete: feed those again with more bytes), or PM_ENOMEM.
 */
long prni_escpos_parser_feed(struct prni_escpos_parser *ps, const unsigned char *b, size_t n);
/* Flush a text line not ended by LF. */
int prni_escpos_parser_finish(struct prni_escpos_parser *ps);

/* ---- rasters (prn_raster.c, with zint) ---- */
/*
 * Render a barcode (enum prn_barcode) or QR payload as a 1-bit raster no
 * wider than max_dots. *bits malloc'd (caller frees), rows of (w+7)/8 bytes.
 */
int prni_raster_symbol(int kind, int barcode, const char *data, int max_dots, int *w, int *h,
		       unsigned char **bits);

/* ---- shared by the device backends ---- */
/*
 * USB printer class port status byte (GET_PORT_STATUS, LPGETSTATUS):
 * bit 5 paper empty, bit 4 selected, bit 3 not error. Returns enum prn_state.
 * Provided by prn_usb.c.
 */
int prni_usb_port_status(unsigned char st);
/* libusb devices (drv_usb.c): one interface of one class, claimed. */
struct drv_usb {
	libusb_context *ctx;
	uint16_t vid, pid;
	libusb_device_handle *h;   /* NULL while closed or absent */
	int iface;
	unsigned char ep;          /* the endpoint found by drv_usb_open */
	int max_packet;
	unsigned char subclass, protocol;
	bool claimed, detached;
};
/* A libusb error code as pm_err. */
int drv_usb_err(int libusb_rc);
/* "04b8:0202" (hex) into vid, pid. PM_EINVAL if malformed. */
int drv_usb_parse_ids(const char *arg, uint16_t *vid, uint16_t *pid);
/*
 * Find u->vid:u->pid, its first interface of class cls with an endpoint of
 * xfer_type (LIBUSB_TRANSFER_TYPE_*) and direction, open it, detach the
 * kernel driver, claim. PM_OK (also when already open), PM_ENODEV (not
 * plugged in), PM_ENOTSUP (no such interface), other codes as drv_usb_err.
 * name prefixes the log lines.
 */
int drv_usb_open(struct drv_usb *u, uint8_t cls, int xfer_type, bool in, const char *name);
/* Release, give the kernel its driver back, close. NULL-handle safe. */
void drv_usb_release(struct drv_usb *u);
/* Write all of buf to fd within timeout_ms per poll; PM_ETIMEOUT, PM_EOFFLINE (peer gone), PM_EIO. */
int prni_write_all(int fd, const void *buf, size_t n, int timeout_ms);
/*
 * Printers reached through one file descriptor (tcp:, usblp:): their priv
 * struct starts with a struct prni_fd, so these two serve as their write
 * and close ops (escpos.c).
 */
struct prni_fd {
	int fd;                    /* -1 while not connected / not open */
};
/* Close the fd if open; the next print opens it again. */
void prni_fd_disconnect(struct prni_fd *t);
/* ops->write: prni_write_all with the device timeout; any error drops the fd. */
int prni_fd_op_write(struct prn_dev *p, const unsigned char *buf, size_t n);
/* ops->close. */
void prni_fd_op_close(struct prn_dev *p);

/* ---- blocking reads of fd-based scanners (scan_core.c) ---- */
int64_t scani_now_ms(void);   /* monotonic milliseconds */
/*
 * One turn of an fd-based scanner's read loop (evdev, serial): gives up at
 * deadline_ms (-1 = never; a timeout of 0 still looks once, *first says
 * whether this is that look), waits and retries while reopen() fails (the
 * device is unplugged), polls at most 1 s at a time. Returns 1 when *fd is
 * readable, 0 to go round again, PM_ETIMEOUT, or an error from poll.
 */
int scani_fd_wait(struct scan_dev *s, const int *fd, int (*reopen)(struct scan_dev *),
		  int64_t deadline_ms, bool *first);
/*
 * scani_fd_wait, then one read of at most cap bytes into buf. Returns 1
 * with *got > 0 bytes, 0 to go round again (nothing yet, EINTR, EAGAIN),
 * PM_ETIMEOUT, an error from poll, or PM_ENODEV when the read failed or hit
 * end of file (logged as what, "device gone" or "port hung up"): the
 * caller closes *fd, and reopen() opens it again on a later read.
 */
int scani_fd_read(struct scan_dev *s, const int *fd, int (*reopen)(struct scan_dev *),
		  int64_t deadline_ms, bool *first, void *buf, size_t cap, size_t *got,
		  const char *what);

/* ---- keyboard-style scanners (scan_keys.c) ---- */
/* A scan assembled character by character until its terminator (CR/LF/Enter). */
struct scani_line {
	char buf[512];
	size_t n;
	bool overflow;             /* longer than buf: dropped at the terminator */
};
/*
 * Add one character. Returns 1 when c ended a non-empty scan (copied to
 * *out, the line reset), 0 otherwise. A scan longer than 511 bytes is
 * dropped (logged) at its terminator.
 */
int scani_line_push(struct scani_line *l, char c, struct scan_raw *out);
/* The character of a HID keyboard usage (page 7) with modifiers, or -1. Enter = '\n'. */
int scani_hid_usage_char(unsigned usage, bool shift, bool ctrl);
/* The HID usage of a Linux evdev key code (KEY_*), or 0. */
unsigned scani_evdev_to_usage(unsigned code);

/* State of a HID boot keyboard (8-byte reports: modifiers, reserved, 6 key usages). */
struct scani_kbd {
	unsigned char prev[6];     /* keys down in the previous report */
	struct scani_line line;
};
/*
 * Decode one boot report: each key newly down becomes a character (shift
 * and ctrl from the modifier byte; ctrl+] is GS, 0x1D). Returns 1 when a
 * scan completed into *out, 0 when not yet, PM_EPROTO for a report shorter
 * than 8 bytes or a rollover error report (ignored by the caller).
 */
int scani_kbd_report(struct scani_kbd *k, const unsigned char *rep, size_t len, struct scan_raw *out);

/*
 * HID POS barcode scanner (usage page 0x8C) input report 2, the layout
 * modelled (docs/scanning.md): [0] report id 2, [1] data length 0..56,
 * [2..57] data, [58] vendor symbology code, [59..60] AIM letter and
 * modifier, [63] bit 0 = more reports follow for this scan.
 */
#define SCANI_POS_REPORT_ID 2
#define SCANI_POS_REPORT_LEN 64
struct scani_pos {
	struct scan_raw acc;       /* a scan spread over several reports */
};
/* Returns 1 when a scan completed into *out, 0 when continued, PM_EPROTO for a bad report. */
int scani_pos_report(struct scani_pos *ps, const unsigned char *rep, size_t len, struct scan_raw *out);
/* Whether a HID report descriptor declares usage page 0x8C (bar code scanner). */
bool scani_report_desc_is_pos(const unsigned char *desc, size_t len);

extern const struct scan_ops scan_script_ops;
extern const struct scan_ops scan_usb_ops;
extern const struct scan_ops scan_evdev_ops;
extern const struct scan_ops scan_serial_ops;
extern const struct prn_ops prn_text_ops;
extern const struct prn_ops prn_escpos_file_ops;
extern const struct prn_ops prn_tcp_ops;
extern const struct prn_ops prn_usblp_ops;
extern const struct prn_ops prn_usb_ops;

#endif
