/*
 * codec.c - byte layouts of the purchase log's records, format v2 (sale and
 * card records v2; v1 records still read).
 * docs/storage.md is the reference; integers are little-endian unless
 * said otherwise, and every record starts with its version byte.
 */
#include "loyalty/loy_int.h"
#include "common/pm_err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void loyi_put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t loyi_get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_be(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get_be(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void loyi_idx_encode(unsigned char out[LOYI_IDX_LEN], uint64_t seq, int64_t time_us, int64_t total)
{
	put_be(out, seq);
	put_be(out + 8, (uint64_t)time_us);
	put_be(out + 16, (uint64_t)total);
}

void loyi_idx_decode(const unsigned char in[LOYI_IDX_LEN], uint64_t *seq, int64_t *time_us, int64_t *total)
{
	*seq = get_be(in);
	*time_us = (int64_t)get_be(in + 8);
	*total = (int64_t)get_be(in + 16);
}

/* Sale record: the v1 header (64 bytes), in v2 followed by the chain account's
 * fields (64 bytes), then the variable parts (docs/storage.md). */
#define SALE_HDR 64
#define SALE_HDR_V2 128
#define SALE_ITEM 34

size_t loyi_sale_size(const struct loy_sale *s)
{
	size_t n = SALE_HDR_V2 + strlen(s->card) + strlen(s->terminal) + strlen(s->return_of_terminal) +
		   strlen(s->ext_id) + (size_t)s->n_items * SALE_ITEM;
	for (uint32_t i = 0; i < s->n_redeemed; i++)
		n += 1 + strlen(s->redeemed[i].coupon) + 8;
	return n;
}

void loyi_sale_encode(const struct loy_sale *s, unsigned char *b)
{
	size_t cl = strlen(s->card), tl = strlen(s->terminal), el = strlen(s->ext_id);
	size_t rl = strlen(s->return_of_terminal);
	unsigned char *p;

	memset(b, 0, SALE_HDR_V2);
	b[0] = LOYI_SALE_V2;
	b[1] = (unsigned char)s->tender;
	b[2] = s->card_erased ? 1 : 0;
	b[3] = (unsigned char)cl;
	b[4] = (unsigned char)tl;
	b[5] = (unsigned char)el;
	loyi_put_le(b + 6, s->n_items, 2);
	loyi_put_le(b + 8, s->n_redeemed, 2);
	memcpy(b + 10, s->currency, 3);
	loyi_put_le(b + 16, s->seq, 8);
	loyi_put_le(b + 24, (uint64_t)s->time_us, 8);
	loyi_put_le(b + 32, (uint64_t)s->total_cents, 8);
	loyi_put_le(b + 40, (uint64_t)s->discount_cents, 8);
	loyi_put_le(b + 48, (uint64_t)s->tendered_cents, 8);
	loyi_put_le(b + 56, (uint64_t)s->points_earned, 8);
	b[64] = (unsigned char)s->type;
	b[65] = (unsigned char)rl;
	loyi_put_le(b + 72, s->return_of_seq, 8);
	loyi_put_le(b + 80, (uint64_t)s->points_spent, 8);
	loyi_put_le(b + 88, (uint64_t)s->point_value_cents, 8);
	loyi_put_le(b + 96, (uint64_t)s->points_bonus, 8);
	loyi_put_le(b + 104, (uint64_t)s->points_expired, 8);
	loyi_put_le(b + 112, (uint64_t)s->refund_cents, 8);
	loyi_put_le(b + 120, (uint64_t)s->points_clawed_back, 8);
	p = b + SALE_HDR_V2;
	memcpy(p, s->card, cl);
	p += cl;
	memcpy(p, s->terminal, tl);
	p += tl;
	memcpy(p, s->return_of_terminal, rl);
	p += rl;
	memcpy(p, s->ext_id, el);
	p += el;
	for (uint32_t i = 0; i < s->n_items; i++) {
		const struct loy_item *it = &s->items[i];
		memcpy(p, it->gtin, 14);
		loyi_put_le(p + 14, (uint32_t)it->qty, 4);
		loyi_put_le(p + 18, (uint64_t)it->unit_price_cents, 8);
		loyi_put_le(p + 26, (uint64_t)it->line_cents, 8);
		p += SALE_ITEM;
	}
	for (uint32_t i = 0; i < s->n_redeemed; i++) {
		size_t l = strlen(s->redeemed[i].coupon);
		*p++ = (unsigned char)l;
		memcpy(p, s->redeemed[i].coupon, l);
		p += l;
		loyi_put_le(p, (uint64_t)s->redeemed[i].discount_cents, 8);
		p += 8;
	}
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return PM_OK;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return PM_ENOMEM;
	*arr = p;
	*cap = n;
	return PM_OK;
}

void loyi_scratch_free(struct loyi_scratch *sc)
{
	free(sc->items);
	free(sc->redeemed);
	memset(sc, 0, sizeof(*sc));
}

/* Stored text fields hold printable ASCII (ids, codes) or digits only. */
static bool printable(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static bool digits(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

int loyi_sale_decode(struct loy_db *db, const void *buf, size_t len, struct loy_sale *s)
{
	return loyi_sale_decode_sc(&db->scratch, buf, len, s);
}

/* The v2 header's second half (bytes 64..127); *rl the return_of_terminal length. */
static int decode_chain_fields(const unsigned char *b, struct loy_sale *s, size_t *rl)
{
	s->type = b[64];
	*rl = b[65];
	if ((s->type != LOY_SALE && s->type != LOY_RETURN) || *rl > LOY_TERMINAL_MAX)
		return PM_ECORRUPT;
	s->return_of_seq = loyi_get_le(b + 72, 8);
	s->points_spent = (int64_t)loyi_get_le(b + 80, 8);
	s->point_value_cents = (int64_t)loyi_get_le(b + 88, 8);
	s->points_bonus = (int64_t)loyi_get_le(b + 96, 8);
	s->points_expired = (int64_t)loyi_get_le(b + 104, 8);
	s->refund_cents = (int64_t)loyi_get_le(b + 112, 8);
	s->points_clawed_back = (int64_t)loyi_get_le(b + 120, 8);
	return PM_OK;
}

int loyi_sale_decode_sc(struct loyi_scratch *sc, const void *buf, size_t len, struct loy_sale *s)
{
	const unsigned char *b = buf, *p, *end = b + len;
	size_t cl, tl, el, rl = 0, hdr = SALE_HDR;

	memset(s, 0, sizeof(*s));
	if (len < SALE_HDR)
		return PM_ECORRUPT;
	/* A newer log is refused at open (meta "format"), so an unknown version byte is damage. */
	if (b[0] != LOYI_REC_V1 && b[0] != LOYI_SALE_V2)
		return PM_ECORRUPT;
	cl = b[3];
	tl = b[4];
	el = b[5];
	if (cl > LOY_CARD_MAX || tl > LOY_TERMINAL_MAX || el > LOY_EXTID_MAX)
		return PM_ECORRUPT;
	s->tender = b[1];
	s->card_erased = b[2] & 1;
	s->n_items = (uint32_t)loyi_get_le(b + 6, 2);
	s->n_redeemed = (uint32_t)loyi_get_le(b + 8, 2);
	memcpy(s->currency, b + 10, 3);
	s->seq = loyi_get_le(b + 16, 8);
	s->time_us = (int64_t)loyi_get_le(b + 24, 8);
	s->total_cents = (int64_t)loyi_get_le(b + 32, 8);
	s->discount_cents = (int64_t)loyi_get_le(b + 40, 8);
	s->tendered_cents = (int64_t)loyi_get_le(b + 48, 8);
	s->points_earned = (int64_t)loyi_get_le(b + 56, 8);
	/* v1 records read with the chain account's fields zero: a sale, nothing spent. */
	if (b[0] == LOYI_SALE_V2) {
		if (len < SALE_HDR_V2 || decode_chain_fields(b, s, &rl))
			return PM_ECORRUPT;
		hdr = SALE_HDR_V2;
	}
	p = b + hdr;
	if ((size_t)(end - p) < cl + tl + rl + el + (size_t)s->n_items * SALE_ITEM)
		return PM_ECORRUPT;
	if (!digits(p, cl) || !printable(p + cl, tl + rl + el))
		return PM_ECORRUPT;
	memcpy(s->card, p, cl);
	p += cl;
	memcpy(s->terminal, p, tl);
	p += tl;
	memcpy(s->return_of_terminal, p, rl);
	p += rl;
	memcpy(s->ext_id, p, el);
	p += el;
	if (grow((void **)&sc->items, &sc->items_cap, s->n_items, sizeof(*sc->items)) ||
	    grow((void **)&sc->redeemed, &sc->redeemed_cap, s->n_redeemed, sizeof(*sc->redeemed)))
		return PM_ENOMEM;
	s->items = sc->items;
	for (uint32_t i = 0; i < s->n_items; i++) {
		struct loy_item *it = &s->items[i];
		if (!digits(p, 14))
			return PM_ECORRUPT;
		memcpy(it->gtin, p, 14);
		it->gtin[14] = '\0';
		it->qty = (int32_t)(uint32_t)loyi_get_le(p + 14, 4);
		it->unit_price_cents = (int64_t)loyi_get_le(p + 18, 8);
		it->line_cents = (int64_t)loyi_get_le(p + 26, 8);
		p += SALE_ITEM;
	}
	s->redeemed = sc->redeemed;
	for (uint32_t i = 0; i < s->n_redeemed; i++) {
		size_t l;
		if (p >= end || (l = *p++) > LOY_COUPON_MAX || l == 0 || (size_t)(end - p) < l + 8 ||
		    !printable(p, l))
			return PM_ECORRUPT;
		memcpy(s->redeemed[i].coupon, p, l);
		s->redeemed[i].coupon[l] = '\0';
		p += l;
		s->redeemed[i].discount_cents = (int64_t)loyi_get_le(p, 8);
		p += 8;
	}
	return p == end ? PM_OK : PM_ECORRUPT;
}

/* Card v2 (112 bytes): v1's 56 bytes (points at 40 now = the pending part), then the HQ state. */
void loyi_card_encode(const struct loyi_card *ic, unsigned char b[LOYI_CARD_LEN])
{
	const struct loy_card *c = &ic->pub;
	memset(b, 0, LOYI_CARD_LEN);
	b[0] = LOYI_CARD_V2;
	b[1] = (unsigned char)c->consent;
	b[2] = (unsigned char)c->consent_source;
	b[3] = (unsigned char)c->tier;
	b[4] = (unsigned char)ic->hq_tier;
	loyi_put_le(b + 8, (uint64_t)c->created_us, 8);
	loyi_put_le(b + 16, (uint64_t)c->last_visit_us, 8);
	loyi_put_le(b + 24, c->visits, 8);
	loyi_put_le(b + 32, (uint64_t)c->spend_cents, 8);
	loyi_put_le(b + 40, (uint64_t)c->pending_points, 8);
	loyi_put_le(b + 48, (uint64_t)c->consent_changed_us, 8);
	loyi_put_le(b + 56, (uint64_t)ic->hq_points, 8);
	loyi_put_le(b + 64, ic->included_sale_seq, 8);
	loyi_put_le(b + 72, (uint64_t)c->chain_as_of_us, 8);
	loyi_put_le(b + 80, (uint64_t)ic->hq_window_spend_cents, 8);
	loyi_put_le(b + 88, (uint64_t)ic->hq_last_visit_us, 8);
	loyi_put_le(b + 96, (uint64_t)c->pending_spent, 8);
}

int loyi_card_decode(const void *buf, size_t len, const char *number, struct loyi_card *ic)
{
	const unsigned char *b = buf;
	struct loy_card *c = &ic->pub;
	memset(ic, 0, sizeof(*ic));
	if (len < 1)
		return PM_ECORRUPT;
	if (!((b[0] == LOYI_REC_V1 && len == LOYI_CARD_V1_LEN) || (b[0] == LOYI_CARD_V2 && len == LOYI_CARD_LEN)))
		return PM_ECORRUPT;   /* an unknown version is damage: a newer log is refused at open */
	snprintf(c->number, sizeof(c->number), "%s", number);
	c->consent = b[1];
	c->consent_source = b[2];
	c->tier = b[3];
	c->created_us = (int64_t)loyi_get_le(b + 8, 8);
	c->last_visit_us = (int64_t)loyi_get_le(b + 16, 8);
	c->visits = loyi_get_le(b + 24, 8);
	c->spend_cents = (int64_t)loyi_get_le(b + 32, 8);
	/* v1: the whole local balance, which is the pending part of a card without HQ state. */
	c->pending_points = (int64_t)loyi_get_le(b + 40, 8);
	c->consent_changed_us = (int64_t)loyi_get_le(b + 48, 8);
	if (b[0] == LOYI_CARD_V2) {
		ic->hq_tier = b[4];
		ic->hq_points = (int64_t)loyi_get_le(b + 56, 8);
		ic->included_sale_seq = loyi_get_le(b + 64, 8);
		c->chain_as_of_us = (int64_t)loyi_get_le(b + 72, 8);
		ic->hq_window_spend_cents = (int64_t)loyi_get_le(b + 80, 8);
		ic->hq_last_visit_us = (int64_t)loyi_get_le(b + 88, 8);
		c->pending_spent = (int64_t)loyi_get_le(b + 96, 8);
	}
	if (c->consent > LOY_CONSENT_NO || c->tier >= LOY_TIER_MAX || ic->hq_tier >= LOY_TIER_MAX)
		return PM_ECORRUPT;
	/* Wrapping sum: a damaged record must not be undefined behaviour. */
	c->points = (int64_t)((uint64_t)ic->hq_points + (uint64_t)c->pending_points);
	return PM_OK;
}

void loyi_card_public(const struct loyi_card *ic, struct loy_card *out)
{
	*out = ic->pub;
	out->points = (int64_t)((uint64_t)ic->hq_points + (uint64_t)ic->pub.pending_points);
	if (ic->hq_last_visit_us > out->last_visit_us)
		out->last_visit_us = ic->hq_last_visit_us;
}

size_t loyi_product_encode(const struct loy_product *p, unsigned char *b, size_t cap)
{
	size_t nl = strlen(p->name), cl = strlen(p->category), bl = strlen(p->brand);
	size_t n = 16 + nl + cl + bl;
	if (n > cap)
		return 0;
	memset(b, 0, 16);
	b[0] = LOYI_REC_V1;
	b[1] = (unsigned char)nl;
	b[2] = (unsigned char)cl;
	b[3] = (unsigned char)bl;
	loyi_put_le(b + 8, (uint64_t)p->price_cents, 8);
	memcpy(b + 16, p->name, nl);
	memcpy(b + 16 + nl, p->category, cl);
	memcpy(b + 16 + nl + cl, p->brand, bl);
	return n;
}

int loyi_product_decode(const void *buf, size_t len, const char *gtin, struct loy_product *p)
{
	const unsigned char *b = buf;
	memset(p, 0, sizeof(*p));
	if (len < 16 || b[0] != LOYI_REC_V1)
		return PM_ECORRUPT;
	size_t nl = b[1], cl = b[2], bl = b[3];
	if (16 + nl + cl + bl != len || nl >= sizeof(p->name) || cl >= sizeof(p->category) ||
	    bl >= sizeof(p->brand))
		return PM_ECORRUPT;
	snprintf(p->gtin, sizeof(p->gtin), "%s", gtin);
	p->price_cents = (int64_t)loyi_get_le(b + 8, 8);
	memcpy(p->name, b + 16, nl);
	memcpy(p->category, b + 16 + nl, cl);
	memcpy(p->brand, b + 16 + nl + cl, bl);
	return PM_OK;
}
