/*
 * escpos.c - the ESC/POS encoder (document to printer bytes), the meaning
 * of DLE EOT real-time status replies, and the I/O helpers the socket and
 * tty printer backends share. Command reference: Epson's "ESC/POS Command
 * Reference"; docs/printers.md lists the commands posmark sends.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ESC 0x1b
#define GS 0x1d
#define DLE 0x10
#define EOT 0x04

void prni_buf_add(struct prni_buf *b, const void *data, size_t n)
{
	if (!b->err)
		b->err = pm_buf_add(&b->bytes, data, n);
}

void prni_buf_release(struct prni_buf *b)
{
	pm_buf_free(&b->bytes);
	b->err = PM_OK;
}

static void put(struct prni_buf *b, int n, ...)
{
	unsigned char tmp[16];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n && i < (int)sizeof(tmp); i++)
		tmp[i] = (unsigned char)va_arg(ap, int);
	va_end(ap);
	prni_buf_add(b, tmp, (size_t)n);
}

static void put_text(struct prni_buf *b, const struct prn_profile *prof, const char *utf8)
{
	char enc[1024];
	size_t n = prni_cp_from_utf8(prof->codepage, utf8, enc, sizeof(enc));
	/* Control bytes in data would be read as commands: print them as '?'. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)enc[i] < 0x20 || enc[i] == 0x7f)
			enc[i] = '?';
	prni_buf_add(b, enc, n);
}

static void put_raster(struct prni_buf *b, int align, int dots, int w, int h,
		       const unsigned char *bits)
{
	int row = (w + 7) / 8;
	int pad = 0;
	if (w < dots)
		pad = align == PRN_CENTER ? (dots - w) / 2 / 8 : align == PRN_RIGHT ? (dots - w) / 8 : 0;
	int xbytes = row + pad;
	put(b, 3, ESC, 'a', 0);
	put(b, 8, GS, 'v', '0', 0, xbytes & 0xff, xbytes >> 8, h & 0xff, h >> 8);
	for (int y = 0; y < h; y++) {
		static const unsigned char zero[128];
		prni_buf_add(b, zero, (size_t)pad);
		prni_buf_add(b, bits + (size_t)y * (size_t)row, (size_t)row);
	}
}

static bool ean13_data(const char *s)
{
	size_t n = strlen(s);
	return (n == 12 || n == 13) && strspn(s, "0123456789") == n;
}

/* The human-readable text of a symbol: once, whole, centred, below it (the printer's own HRI is off). */
static void put_hri(struct prni_buf *b, const struct prn_profile *prof, const char *text)
{
	put(b, 3, ESC, 'a', PRN_CENTER);
	put_text(b, prof, text);
	put(b, 1, '\n');
}

static void put_symbol_raster(struct prni_buf *b, const struct prn_profile *prof,
			      const struct prn_elem *e)
{
	int w, h;
	unsigned char *bits;
	int rc = prni_raster_symbol(e->kind, e->barcode, e->text, prof->dots, &w, &h, &bits);
	if (rc) {
		/* Unprintable symbol: the data as text keeps the receipt usable. */
		pm_warn("cannot draw %s '%s' as an image: %s", e->kind == PRN_QR ? "QR code" : "barcode",
			e->text, pm_strerror(rc));
		put_hri(b, prof, e->text);
		return;
	}
	put_raster(b, PRN_CENTER, prof->dots, w, h, bits);
	free(bits);
	if (e->kind == PRN_BARCODE)
		put_hri(b, prof, e->text);
}

/* GS ( k: model 2, module 6 dots, error correction M, store, print. */
static void put_qr_native(struct prni_buf *b, const char *text)
{
	size_t n = strlen(text);
	put(b, 3, ESC, 'a', PRN_CENTER);
	put(b, 9, GS, '(', 'k', 4, 0, '1', 'A', '2', 0);      /* model 2 */
	put(b, 8, GS, '(', 'k', 3, 0, '1', 'C', 6);           /* module 6 dots */
	put(b, 8, GS, '(', 'k', 3, 0, '1', 'E', '1');         /* error correction M */
	put(b, 8, GS, '(', 'k', (int)((n + 3) & 0xff), (int)((n + 3) >> 8), '1', 'P', '0');
	prni_buf_add(b, text, n);
	put(b, 8, GS, '(', 'k', 3, 0, '1', 'Q', '0');         /* print */
	put(b, 1, '\n');
}

/* CODE128 bars as a GS v 0 raster at the module width and quiet zones a native one gets. */
static int put_c128_raster(struct prni_buf *b, const struct prn_profile *prof, const int *vals, int nv)
{
	unsigned char mods[PRN_C128_MAX_MODULES];
	int nm = prni_c128_modules(vals, nv, mods, sizeof(mods));
	if (nm < 0)
		return PM_EINVAL;
	int w = (nm + 2 * PRN_C128_QUIET) * PRN_C128_MODULE, h = 80, row = (w + 7) / 8;
	unsigned char *bits = calloc((size_t)row * (size_t)h, 1);
	if (!bits)
		return PM_ENOMEM;
	for (int m = 0; m < nm; m++)
		for (int k = 0; mods[m] && k < PRN_C128_MODULE; k++) {
			int x = (PRN_C128_QUIET + m) * PRN_C128_MODULE + k;
			bits[x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
	for (int y = 1; y < h; y++)
		memcpy(bits + (size_t)y * (size_t)row, bits, (size_t)row);
	put_raster(b, PRN_CENTER, prof->dots, w, h, bits);
	free(bits);
	return PM_OK;
}

/*
 * A CODE128 barcode that fits: the width at a 2-dot module with 10-module quiet zones must be
 * within the profile's printable dots, else a printer prints nothing (Epson: a bar code wider than
 * the print area only feeds paper). Where it cannot fit: a QR code where the printer has native QR,
 * else the text alone, and a warning in the log. The text is printed once, below.
 */
static void put_code128(struct prni_buf *b, const struct prn_profile *prof, const struct prn_elem *e)
{
	unsigned char data[256];
	int vals[PRN_C128_MAX_MODULES / 11];
	char hri[300];
	int dn = prni_c128_escpos(e->text, data, sizeof(data));
	int nv = dn > 0 && dn <= 255 ? prni_c128_parse(data, (size_t)dn, vals, sizeof(vals) / sizeof(vals[0]), hri,
						      sizeof(hri)) : -1;
	int dots = nv > 0 ? (prni_c128_width(nv) + 2 * PRN_C128_QUIET) * PRN_C128_MODULE : 0;
	if (nv < 0 || dots > prof->dots) {
		bool qr = prof->native_qr && strlen(e->text) <= 700;
		if (nv < 0)
			pm_warn("barcode '%s' cannot be CODE128 (a character outside ASCII 32..126): printed as %s",
				e->text, qr ? "a QR code" : "text only");
		else
			pm_warn("barcode '%s' needs %d dots at a %d-dot module with quiet zones, wider than the %d "
				"of %s: printed as %s", e->text, dots, PRN_C128_MODULE, prof->dots, prof->name,
				qr ? "a QR code" : "text only");
		if (qr)
			put_qr_native(b, e->text);
		put_hri(b, prof, e->text);
		return;
	}
	if (!prof->native_barcode) {
		if (put_c128_raster(b, prof, vals, nv) == PM_OK)
			put_hri(b, prof, e->text);
		else
			put_symbol_raster(b, prof, e);
		return;
	}
	put(b, 3, ESC, 'a', PRN_CENTER);
	put(b, 3, GS, 'H', 0);          /* no printer HRI: posmark prints the text once, below */
	put(b, 3, GS, 'h', 80);         /* 10 mm tall */
	put(b, 3, GS, 'w', PRN_C128_MODULE);
	put(b, 4, GS, 'k', 73, dn);
	prni_buf_add(b, data, (size_t)dn);
	put(b, 1, '\n');
	put_hri(b, prof, e->text);
}

static void put_barcode(struct prni_buf *b, const struct prn_profile *prof, const struct prn_elem *e)
{
	if (e->barcode != PRN_EAN13) {
		put_code128(b, prof, e);
		return;
	}
	if (!ean13_data(e->text) || !prof->native_barcode) {
		put_symbol_raster(b, prof, e);
		return;
	}
	put(b, 3, ESC, 'a', PRN_CENTER);
	put(b, 3, GS, 'H', 0);          /* the digits as text below, like CODE128 */
	put(b, 3, GS, 'h', 80);
	put(b, 3, GS, 'w', 2);          /* 113 modules with guards and quiet zones: 226 dots */
	put(b, 4, GS, 'k', 67, 12);
	prni_buf_add(b, e->text, 12);   /* the printer adds the check digit */
	put(b, 1, '\n');
	put_hri(b, prof, e->text);
}

static void put_qr(struct prni_buf *b, const struct prn_profile *prof, const struct prn_elem *e)
{
	size_t n = strlen(e->text);
	if (!prof->native_qr || n == 0 || n > 700) {
		put_symbol_raster(b, prof, e);
		return;
	}
	put_qr_native(b, e->text);
}

int prni_escpos_encode(const struct prn_doc *doc, const struct prn_profile *prof, struct prni_buf *b)
{
	put(b, 2, ESC, '@');
	put(b, 3, ESC, 't', prof->codepage_select);
	if (doc->columns > prof->cols_font_a) {
		put(b, 3, ESC, 'M', 1);
		if (doc->columns > prof->cols_font_b)
			pm_warn("a %d-column receipt is wider than the %s (%d columns): lines wrap",
				doc->columns, prof->model, prof->cols_font_b);
	}
	for (size_t i = 0; i < doc->n; i++) {
		const struct prn_elem *e = &doc->elems[i];
		switch (e->kind) {
		case PRN_TEXT:
			put(b, 3, ESC, 'a', e->align);
			if (e->style & PRN_BOLD)
				put(b, 3, ESC, 'E', 1);
			if (e->style & PRN_UNDERLINE)
				put(b, 3, ESC, '-', 1);
			if (e->style & PRN_DOUBLE)
				put(b, 3, GS, '!', 0x01);   /* double height, same width */
			put_text(b, prof, e->text ? e->text : "");
			put(b, 1, '\n');
			if (e->style & PRN_DOUBLE)
				put(b, 3, GS, '!', 0);
			if (e->style & PRN_UNDERLINE)
				put(b, 3, ESC, '-', 0);
			if (e->style & PRN_BOLD)
				put(b, 3, ESC, 'E', 0);
			break;
		case PRN_BARCODE:
			put_barcode(b, prof, e);
			break;
		case PRN_QR:
			put_qr(b, prof, e);
			break;
		case PRN_IMAGE:
			put_raster(b, e->align, prof->dots, e->width, e->height, e->bits);
			break;
		case PRN_FEED:
			put(b, 3, ESC, 'd', e->lines < 0 ? 0 : e->lines > 255 ? 255 : e->lines);
			break;
		case PRN_CUT:
			if (prof->cutter)
				put(b, 4, GS, 'V', 66, 0);  /* feed to the cutter, partial cut */
			else
				put(b, 3, ESC, 'd', 4);     /* feed past the tear bar */
			break;
		case PRN_DRAWER:
			if (prof->drawer)
				put(b, 5, ESC, 'p', 0, 25, 250);
			break;
		default:
			break;
		}
	}
	return b->err;
}

int prn_escpos_encode(const struct prn_doc *doc, const char *profile, unsigned char **out, size_t *len)
{
	struct prni_buf b = { 0 };
	const struct prn_profile *prof = prni_profile_find(profile);
	*out = NULL;
	*len = 0;
	if (!prof || !doc)
		return PM_EINVAL;
	int rc = prni_escpos_encode(doc, prof, &b);
	if (rc) {
		prni_buf_release(&b);
		return rc;
	}
	*out = (unsigned char *)pm_buf_take(&b.bytes, len);
	return PM_OK;
}

int prni_escpos_status_reply(int n, unsigned char r, int *state)
{
	*state = PRN_OFFLINE;
	if ((r & 0x93) != 0x12)
		return PM_EPROTO;
	switch (n) {
	case 1:   /* printer status: bit 3 offline */
		*state = (r & 0x08) ? PRN_OFFLINE : PRN_READY;
		return PM_OK;
	case 2:   /* offline cause: bit 2 cover open, bit 5 paper end stop, bit 6 error */
		*state = (r & 0x04) ? PRN_COVER_OPEN : (r & 0x20) ? PRN_PAPER_OUT
			 : (r & 0x40) ? PRN_OFFLINE : PRN_READY;
		return PM_OK;
	case 3:   /* error cause: cutter, unrecoverable, auto-recoverable */
		*state = (r & 0x6c) ? PRN_OFFLINE : PRN_READY;
		return PM_OK;
	case 4:   /* paper roll sensor: bits 5-6 paper end (bits 2-3 near end: still prints) */
		*state = (r & 0x60) ? PRN_PAPER_OUT : PRN_READY;
		return PM_OK;
	default:
		return PM_EINVAL;
	}
}

/* Wait for events on fd (EINTR restarts the wait): PM_OK with *revents,
 * PM_ETIMEOUT, or poll's error. */
static int wait_fd(int fd, short events, int timeout_ms, short *revents)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	for (;;) {
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pm_from_errno(errno);
		if (r == 0)
			return PM_ETIMEOUT;
		*revents = pfd.revents;
		return PM_OK;
	}
}

static int read_byte(int fd, int timeout_ms, unsigned char *out)
{
	for (;;) {
		short rev;
		int rc = wait_fd(fd, POLLIN, timeout_ms, &rev);
		if (rc)
			return rc;
		ssize_t k = read(fd, out, 1);
		if (k == 1)
			return PM_OK;
		if (k == 0)
			return PM_EOFFLINE;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		return errno == ECONNRESET ? PM_EOFFLINE : pm_from_errno(errno);
	}
}

int prni_escpos_query_fd(int fd, int timeout_ms, int *state)
{
	static const int queries[] = { 1, 2, 4 };
	int st[5] = { 0 };
	unsigned char junk[64];
	*state = PRN_OFFLINE;
	/* Drop stale bytes (a late answer to an earlier query that timed out). */
	while (read(fd, junk, sizeof(junk)) > 0)
		;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		int n = queries[i];
		unsigned char q[3] = { DLE, EOT, (unsigned char)n }, r;
		int rc = prni_write_all(fd, q, sizeof(q), timeout_ms);
		if (rc)
			return rc;
		if ((rc = read_byte(fd, timeout_ms, &r)))
			return rc;
		if ((rc = prni_escpos_status_reply(n, r, &st[n])))
			return rc;
	}
	/* A printer out of paper also says "offline" to n=1: name the cause. */
	if (st[2] == PRN_COVER_OPEN)
		*state = PRN_COVER_OPEN;
	else if (st[2] == PRN_PAPER_OUT || st[4] == PRN_PAPER_OUT)
		*state = PRN_PAPER_OUT;
	else if (st[1] != PRN_READY || st[2] != PRN_READY)
		*state = PRN_OFFLINE;
	else
		*state = PRN_READY;
	return PM_OK;
}

int prni_write_all(int fd, const void *buf, size_t n, int timeout_ms)
{
	const unsigned char *p = buf;
	while (n > 0) {
		short rev;
		int rc = wait_fd(fd, POLLOUT, timeout_ms, &rev);
		if (rc)
			return rc;
		if (rev & (POLLERR | POLLHUP | POLLNVAL))
			return PM_EOFFLINE;
		/* send() with MSG_NOSIGNAL: a printer that hangs up must not SIGPIPE the till. */
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == ENOTSOCK)
			k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (errno == EPIPE || errno == ECONNRESET) ? PM_EOFFLINE : pm_from_errno(errno);
		}
		p += k;
		n -= (size_t)k;
	}
	return PM_OK;
}

void prni_fd_disconnect(struct prni_fd *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

int prni_fd_op_write(struct prn_dev *p, const unsigned char *buf, size_t n)
{
	struct prni_fd *t = p->priv;
	int rc = prni_write_all(t->fd, buf, n, p->timeout_ms);
	if (rc)
		prni_fd_disconnect(t);
	return rc;
}

void prni_fd_op_close(struct prn_dev *p)
{
	prni_fd_disconnect(p->priv);
}
