/*
 * receipt_rec.c - the receipt record v1 (receipt_rec.h; docs/till.md, "The
 * receipt record"), little-endian:
 *   u8 version=1, u8 flags (bit0: a return), u8 n_offers (<= 8), u8 0,
 *   u16 columns, u16 0, u32 n_elems;
 *   n_elems elements: u8 kind (enum prn_elem_kind), u8 align (0..2), u8
 *     style, u8 barcode (0..1), u16 lines (0..255), u16 text_len (0xffff: no
 *     text: every kind but text, barcode and QR, which must have one), text
 *     (UTF-8, no NUL); an image
 *     (kind 6) then u16 width, u16 height, (width+7)/8*height bytes of bits;
 *   n_offers coupons: u8 kind, u8 benefit, u16 0, i32 value, i64 expires_us,
 *     then campaign, rule, gtin, coupon each as u8 len + bytes (no NUL).
 * The decoder checks every length against what is left and the end.
 */
#include "terminal/receipt_rec.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

#define REC_HDR 12
#define ELEM_HDR 8
#define IMG_MAX 4096               /* dots either way */
#define NO_TEXT 0xffff             /* text_len of an element without text */

static void le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int add_str(struct pm_buf *out, const char *s, size_t max)
{
	size_t n = strlen(s);
	unsigned char l = (unsigned char)n;
	if (n > max || n > 255)
		return PM_EINVAL;
	int rc = pm_buf_add(out, &l, 1);
	return rc ? rc : pm_buf_add(out, s, n);
}

/* Text, barcode data and QR payload are the elements that carry text; the others never do. */
static bool has_text(int kind)
{
	return kind == PRN_TEXT || kind == PRN_BARCODE || kind == PRN_QR;
}

static int add_elem(struct pm_buf *out, const struct prn_elem *e)
{
	unsigned char h[ELEM_HDR + 4];
	size_t tl = e->text ? strlen(e->text) : 0;
	if (e->kind < PRN_TEXT || e->kind > PRN_IMAGE || e->align < PRN_LEFT || e->align > PRN_RIGHT ||
	    e->style < 0 || e->style > 255 || e->barcode < 0 || e->barcode > PRN_CODE128 || e->lines < 0 ||
	    e->lines > 255 || tl >= NO_TEXT || has_text(e->kind) != (e->text != NULL))
		return PM_EINVAL;
	h[0] = (unsigned char)e->kind;
	h[1] = (unsigned char)e->align;
	h[2] = (unsigned char)e->style;
	h[3] = (unsigned char)e->barcode;
	le(h + 4, (uint64_t)e->lines, 2);
	le(h + 6, e->text ? tl : NO_TEXT, 2);
	int rc = pm_buf_add(out, h, ELEM_HDR);
	if (rc == PM_OK && tl)
		rc = pm_buf_add(out, e->text, tl);
	if (rc || e->kind != PRN_IMAGE)
		return rc;
	if (e->width < 1 || e->width > IMG_MAX || e->height < 1 || e->height > IMG_MAX || !e->bits)
		return PM_EINVAL;
	le(h, (uint64_t)e->width, 2);
	le(h + 2, (uint64_t)e->height, 2);
	if ((rc = pm_buf_add(out, h, 4)))
		return rc;
	return pm_buf_add(out, e->bits, (size_t)(e->width + 7) / 8 * (size_t)e->height);
}

static int add_offer(struct pm_buf *out, const struct ofr_offer *o)
{
	unsigned char h[16];
	if (o->kind < 0 || o->kind > 255 || o->benefit < 0 || o->benefit > 255)
		return PM_EINVAL;
	memset(h, 0, sizeof(h));
	h[0] = (unsigned char)o->kind;
	h[1] = (unsigned char)o->benefit;
	le(h + 4, (uint32_t)o->value, 4);
	le(h + 8, (uint64_t)o->expires_us, 8);
	int rc = pm_buf_add(out, h, sizeof(h));
	if (rc == PM_OK)
		rc = add_str(out, o->campaign, OFR_ID_MAX);
	if (rc == PM_OK)
		rc = add_str(out, o->rule_id, OFR_ID_MAX);
	if (rc == PM_OK)
		rc = add_str(out, o->gtin, OFR_GTIN_LEN);
	if (rc == PM_OK)
		rc = add_str(out, o->coupon, OFR_CODE_MAX);
	return rc;
}

int receipt_rec_encode(const struct prn_doc *doc, bool is_return, const struct ofr_decision *offers,
		       struct pm_buf *out)
{
	unsigned char h[REC_HDR];
	size_t n_off = 0, start = out->len;
	int rc = PM_OK;
	for (size_t i = 0; offers && i < offers->n; i++)
		n_off += !offers->offers[i].held_back && offers->offers[i].coupon[0];
	if (doc->columns < 0 || doc->columns > 65535 || doc->n > UINT32_MAX || n_off > OFR_MAX_OFFERS)
		return PM_EINVAL;
	memset(h, 0, sizeof(h));
	h[0] = RECEIPT_REC_V1;
	h[1] = is_return ? 1 : 0;
	h[2] = (unsigned char)n_off;
	le(h + 4, (uint64_t)doc->columns, 2);
	le(h + 8, doc->n, 4);
	rc = pm_buf_add(out, h, sizeof(h));
	for (size_t i = 0; i < doc->n && rc == PM_OK; i++)
		rc = add_elem(out, &doc->elems[i]);
	for (size_t i = 0; offers && i < offers->n && rc == PM_OK; i++)
		if (!offers->offers[i].held_back && offers->offers[i].coupon[0])
			rc = add_offer(out, &offers->offers[i]);
	if (rc)
		out->len = start;   /* nothing half-written */
	return rc;
}

/* ---- decoding: a cursor over the bytes that refuses to read past them ---- */
struct rd {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static const unsigned char *take(struct rd *r, size_t n)
{
	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	const unsigned char *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t get(struct rd *r, int n)
{
	const unsigned char *p = take(r, (size_t)n);
	uint64_t v = 0;
	for (int i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A u8-length string into dst[cap]; longer than cap-1 is damage. */
static void get_str(struct rd *r, char *dst, size_t cap)
{
	size_t n = (size_t)get(r, 1);
	const unsigned char *p = take(r, n);
	if (!p || n >= cap || memchr(p, 0, n)) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static int get_elem(struct rd *r, struct prn_doc *doc)
{
	int kind = (int)get(r, 1), align = (int)get(r, 1), style = (int)get(r, 1), barcode = (int)get(r, 1);
	int lines = (int)get(r, 2);
	size_t tl = (size_t)get(r, 2);
	bool with_text = tl != NO_TEXT;
	if (!with_text)
		tl = 0;
	const unsigned char *text = take(r, tl);
	if (r->bad || kind > PRN_IMAGE || align > PRN_RIGHT || barcode > PRN_CODE128 || lines > 255 ||
	    with_text != has_text(kind) || (tl && memchr(text, 0, tl)))
		return PM_ECORRUPT;
	if (doc->n == doc->cap) {
		size_t cap = doc->cap ? doc->cap * 2 : 32;
		struct prn_elem *e = realloc(doc->elems, cap * sizeof(*e));
		if (!e)
			return PM_ENOMEM;
		doc->elems = e;
		doc->cap = cap;
	}
	struct prn_elem *e = &doc->elems[doc->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->align = align;
	e->style = style;
	e->barcode = barcode;
	e->lines = lines;
	if (kind == PRN_IMAGE) {
		int w = (int)get(r, 2), h = (int)get(r, 2);
		size_t nb = (size_t)(w + 7) / 8 * (size_t)h;
		const unsigned char *bits = take(r, nb);
		if (r->bad || w < 1 || w > IMG_MAX || h < 1 || h > IMG_MAX)
			return PM_ECORRUPT;
		if (!(e->bits = malloc(nb)))
			return PM_ENOMEM;
		memcpy(e->bits, bits, nb);
		e->width = w;
		e->height = h;
	}
	if (with_text && !(e->text = malloc(tl + 1))) {
		free(e->bits);
		return PM_ENOMEM;
	}
	if (with_text) {
		if (tl)
			memcpy(e->text, text, tl);
		e->text[tl] = '\0';
	}
	doc->n++;
	return PM_OK;
}

int receipt_rec_decode(const void *buf, size_t len, struct receipt_rec *out)
{
	struct rd r = { buf, len, false };
	memset(out, 0, sizeof(*out));
	prn_doc_init(&out->doc, 42);
	if (len < REC_HDR)
		return PM_ECORRUPT;
	int version = (int)get(&r, 1), flags = (int)get(&r, 1), n_off = (int)get(&r, 1);
	uint64_t reserved = get(&r, 1);
	int columns = (int)get(&r, 2);
	reserved |= get(&r, 2);
	uint64_t n_elems = get(&r, 4);
	if (version > RECEIPT_REC_V1)
		return PM_EVERSION;
	/* Reserved bytes are zero: a record has one encoding (the fuzzer checks it re-encodes the same). */
	if (version != RECEIPT_REC_V1 || flags > 1 || reserved || n_off > OFR_MAX_OFFERS || columns < 1 ||
	    n_elems > len / ELEM_HDR)
		return PM_ECORRUPT;
	out->is_return = flags & 1;
	out->doc.columns = columns;
	for (uint64_t i = 0; i < n_elems; i++) {
		int rc = get_elem(&r, &out->doc);
		if (rc)
			return rc;
	}
	for (int i = 0; i < n_off; i++) {
		struct ofr_offer *o = &out->offers[i];
		o->kind = (int)get(&r, 1);
		o->benefit = (int)get(&r, 1);
		if (get(&r, 2))
			r.bad = true;
		o->value = (int32_t)(uint32_t)get(&r, 4);
		o->expires_us = (int64_t)get(&r, 8);
		get_str(&r, o->campaign, sizeof(o->campaign));
		get_str(&r, o->rule_id, sizeof(o->rule_id));
		get_str(&r, o->gtin, sizeof(o->gtin));
		get_str(&r, o->coupon, sizeof(o->coupon));
		if (r.bad || !o->coupon[0])
			return PM_ECORRUPT;
	}
	out->n_offers = (size_t)n_off;
	return r.bad || r.left ? PM_ECORRUPT : PM_OK;
}

void receipt_rec_release(struct receipt_rec *r)
{
	if (r)
		prn_doc_release(&r->doc);
}
