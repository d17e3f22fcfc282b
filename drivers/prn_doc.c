/* prn_doc.c - the device-independent receipt document and its text rendering. */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prn_doc_init(struct prn_doc *doc, int columns)
{
	memset(doc, 0, sizeof(*doc));
	doc->columns = columns > 0 ? columns : 42;
	return PM_OK;
}

void prn_doc_release(struct prn_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n; i++) {
		free(doc->elems[i].text);
		free(doc->elems[i].bits);
	}
	free(doc->elems);
	memset(doc, 0, sizeof(*doc));
}

static int push(struct prn_doc *doc, int kind, int align, int style, const char *text)
{
	struct prn_elem *e;
	if (doc->n == doc->cap) {
		size_t cap = doc->cap ? doc->cap * 2 : 32;
		struct prn_elem *ne = realloc(doc->elems, cap * sizeof(*ne));
		if (!ne)
			return PM_ENOMEM;
		doc->elems = ne;
		doc->cap = cap;
	}
	e = &doc->elems[doc->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->align = align;
	e->style = style;
	if (text && !(e->text = strdup(text)))
		return PM_ENOMEM;
	doc->n++;
	return PM_OK;
}

int prn_doc_text(struct prn_doc *doc, int align, int style, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return push(doc, PRN_TEXT, align, style, buf);
}

size_t prni_utf8_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

int prn_doc_pair(struct prn_doc *doc, int style, const char *left, const char *right)
{
	char buf[512];
	size_t cols = (size_t)doc->columns;
	size_t lw = prni_utf8_width(left), rw = prni_utf8_width(right);
	size_t pad = lw + rw + 1 <= cols ? cols - lw - rw : 1;
	if (lw + rw + 1 > cols) {
		/* Too long for one line: left text alone, then the right-aligned figure. */
		int rc = push(doc, PRN_TEXT, PRN_LEFT, style, left);
		if (rc)
			return rc;
		return push(doc, PRN_TEXT, PRN_RIGHT, style, right);
	}
	snprintf(buf, sizeof(buf), "%s%*s%s", left, (int)pad, "", right);
	return push(doc, PRN_TEXT, PRN_LEFT, style, buf);
}

int prn_doc_rule(struct prn_doc *doc, char ch)
{
	char buf[128];
	int n = doc->columns < (int)sizeof(buf) ? doc->columns : (int)sizeof(buf) - 1;
	memset(buf, ch, (size_t)n);
	buf[n] = '\0';
	return push(doc, PRN_TEXT, PRN_LEFT, 0, buf);
}

int prn_doc_barcode(struct prn_doc *doc, int type, const char *data)
{
	int rc = push(doc, PRN_BARCODE, PRN_CENTER, 0, data);
	if (rc == PM_OK)
		doc->elems[doc->n - 1].barcode = type;
	return rc;
}

int prn_doc_qr(struct prn_doc *doc, const char *payload)
{
	return push(doc, PRN_QR, PRN_CENTER, 0, payload);
}

int prn_doc_feed(struct prn_doc *doc, int lines)
{
	int rc = push(doc, PRN_FEED, PRN_LEFT, 0, NULL);
	if (rc == PM_OK)
		doc->elems[doc->n - 1].lines = lines;
	return rc;
}

int prn_doc_cut(struct prn_doc *doc)
{
	return push(doc, PRN_CUT, PRN_LEFT, 0, NULL);
}

int prn_doc_drawer(struct prn_doc *doc)
{
	return push(doc, PRN_DRAWER, PRN_LEFT, 0, NULL);
}

int prn_doc_image(struct prn_doc *doc, int align, int width, int height, const unsigned char *bits)
{
	size_t sz;
	unsigned char *copy;
	if (width <= 0 || height <= 0 || width > 4096 || height > 65535)
		return PM_EINVAL;
	sz = (size_t)(width + 7) / 8 * (size_t)height;
	if (!(copy = malloc(sz)))
		return PM_ENOMEM;
	memcpy(copy, bits, sz);
	int rc = push(doc, PRN_IMAGE, align, 0, NULL);
	if (rc) {
		free(copy);
		return rc;
	}
	struct prn_elem *e = &doc->elems[doc->n - 1];
	e->width = width;
	e->height = height;
	e->bits = copy;
	return PM_OK;
}

int prn_doc_append(struct prn_doc *dst, const struct prn_doc *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct prn_elem *e = &src->elems[i];
		int rc;
		if (e->kind == PRN_IMAGE) {
			rc = prn_doc_image(dst, e->align, e->width, e->height, e->bits);
		} else {
			rc = push(dst, e->kind, e->align, e->style, e->text);
			if (rc == PM_OK) {
				dst->elems[dst->n - 1].barcode = e->barcode;
				dst->elems[dst->n - 1].lines = e->lines;
			}
		}
		if (rc)
			return rc;
	}
	return PM_OK;
}

static void sb_line(struct prni_buf *b, int columns, int align, const char *text)
{
	size_t w = prni_utf8_width(text);
	size_t pad = 0;
	if (w < (size_t)columns) {
		if (align == PRN_CENTER)
			pad = ((size_t)columns - w) / 2;
		else if (align == PRN_RIGHT)
			pad = (size_t)columns - w;
	}
	for (size_t i = 0; i < pad; i++)
		prni_buf_add(b, " ", 1);
	prni_buf_add(b, text, strlen(text));
	prni_buf_add(b, "\n", 1);
}

int prn_doc_to_text(const struct prn_doc *doc, char **out, size_t *len)
{
	struct prni_buf b = { 0 };
	char line[600];
	*out = NULL;
	for (size_t i = 0; i < doc->n; i++) {
		const struct prn_elem *e = &doc->elems[i];
		switch (e->kind) {
		case PRN_TEXT:
			sb_line(&b, doc->columns, e->align, e->text);
			break;
		case PRN_BARCODE:
			snprintf(line, sizeof(line), "||| %s %s |||",
				 e->barcode == PRN_EAN13 ? "EAN-13" : "CODE128", e->text);
			sb_line(&b, doc->columns, PRN_CENTER, line);
			break;
		case PRN_QR:
			snprintf(line, sizeof(line), "[QR %s]", e->text);
			sb_line(&b, doc->columns, PRN_CENTER, line);
			break;
		case PRN_FEED:
			for (int k = 0; k < e->lines; k++)
				prni_buf_add(&b, "\n", 1);
			break;
		case PRN_IMAGE:
			snprintf(line, sizeof(line), "[image %dx%d]", e->width, e->height);
			sb_line(&b, doc->columns, e->align, line);
			break;
		case PRN_CUT:
			sb_line(&b, doc->columns, PRN_LEFT, "- - - - - - - - - - - - - - - - - - - - -");
			break;
		default:
			break;
		}
	}
	if (!b.err && !pm_buf_cstr(&b.bytes))   /* an empty document is "" */
		b.err = PM_ENOMEM;
	if (b.err) {
		int rc = b.err;
		prni_buf_release(&b);
		if (len)
			*len = 0;
		return rc;
	}
	*out = pm_buf_take(&b.bytes, len);
	return PM_OK;
}
