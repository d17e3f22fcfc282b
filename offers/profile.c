/*
 * profile.c - one card's history summarised for the history conditions:
 * when each item and each category was last bought, and an RFM segment.
 * Built once when the card is attached (the cashier is still scanning),
 * so the decision after tender only does hash lookups.
 *
 * RFM uses fixed thresholds (a till has no population to take quantiles
 * from; docs/rules.md lists them): R = days since the last sale,
 * F = sales in the last 365 days, M is reported but not used to segment.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

#define DAY_US (INT64_C(86400) * 1000000)

enum seg { SEG_NONE, SEG_CHAMPIONS, SEG_LOYAL, SEG_NEW, SEG_PROMISING, SEG_AT_RISK, SEG_LAPSED,
	   SEG_REGULAR, SEG_COUNT };
static const char *const seg_names[SEG_COUNT] = { "none", "champions", "loyal", "new", "promising",
						  "at_risk", "lapsed", "regular" };

struct ofr_profile {
	const struct ofr_rules *rules;
	uint64_t sales, sales_365;
	int64_t spend_365;
	int64_t first_us, last_us;
	struct ofri_map item_slot;   /* gtin key -> index into last[] */
	struct ofri_map cat_slot;    /* category id + 1 -> index into last[] */
	int64_t *last;
	size_t n_last, cap_last;
	int segment;
	int64_t now_us;
	int rc;
};

int ofri_segment_bit(const char *name)
{
	for (int i = 1; i < SEG_COUNT; i++)
		if (!strcmp(name, seg_names[i]))
			return i;
	return -1;
}

static int touch(struct ofr_profile *p, struct ofri_map *m, uint64_t key, int64_t t)
{
	uint32_t slot;
	if (ofri_map_get(m, key, &slot)) {
		if (t > p->last[slot])
			p->last[slot] = t;
		return PM_OK;
	}
	if (p->n_last == p->cap_last) {
		size_t cap = p->cap_last ? p->cap_last * 2 : 256;
		int64_t *v = realloc(p->last, cap * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		p->last = v;
		p->cap_last = cap;
	}
	p->last[p->n_last] = t;
	return ofri_map_put(m, key, (uint32_t)p->n_last++);
}

static int on_sale(void *ctx, const struct ofr_sale_view *s)
{
	struct ofr_profile *p = ctx;
	if (!p->sales || s->time_us < p->first_us)
		p->first_us = s->time_us;
	if (s->time_us > p->last_us)
		p->last_us = s->time_us;
	p->sales++;
	if (s->time_us >= p->now_us - 365 * DAY_US) {
		p->sales_365++;
		p->spend_365 += s->total_cents;
	}
	for (size_t i = 0; i < s->n_items; i++) {
		uint64_t key = ofri_gtin_key(s->items[i].gtin);
		if (!key)
			continue;
		if ((p->rc = touch(p, &p->item_slot, key, s->time_us)))
			return p->rc;
		const struct ofri_product *prod = p->rules ? ofri_product_find(p->rules, key) : NULL;
		if (prod && prod->category && (p->rc = touch(p, &p->cat_slot, (uint64_t)prod->category + 1,
							     s->time_us)))
			return p->rc;
	}
	return 0;
}

static int segment_of(const struct ofr_profile *p)
{
	if (!p->sales)
		return SEG_NONE;
	int64_t r = (p->now_us - p->last_us) / DAY_US;
	uint64_t f = p->sales_365;
	if (p->sales <= 2 && p->now_us - p->first_us <= 30 * DAY_US)
		return SEG_NEW;
	if (r <= 14 && f >= 12)
		return SEG_CHAMPIONS;
	if (r <= 60 && f >= 12)
		return SEG_LOYAL;
	if (r > 45 && r <= 180 && f >= 4)
		return SEG_AT_RISK;
	if (r > 90)
		return SEG_LAPSED;
	if (r <= 30 && f >= 2)
		return SEG_PROMISING;
	return SEG_REGULAR;
}

int ofr_profile_build(const struct ofr_rules *r, const struct ofr_card *card,
		      const struct ofr_history_source *hist, int64_t now_us, struct ofr_profile **out)
{
	struct ofr_profile *p;
	int rc;
	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return PM_ENOMEM;
	p->rules = r;
	p->now_us = now_us;
	if ((rc = ofri_map_init(&p->item_slot, 256)) || (rc = ofri_map_init(&p->cat_slot, 32)))
		goto fail;
	if (card && card->number[0] && hist && hist->each_sale) {
		rc = hist->each_sale(hist->ctx, card->number, on_sale, p);
		if (p->rc || (rc && rc != PM_ENOENT)) {
			rc = p->rc ? p->rc : rc;
			goto fail;
		}
	}
	p->segment = segment_of(p);
	*out = p;
	return PM_OK;
fail:
	ofr_profile_free(p);
	return rc;
}

void ofr_profile_free(struct ofr_profile *p)
{
	if (!p)
		return;
	ofri_map_release(&p->item_slot);
	ofri_map_release(&p->cat_slot);
	free(p->last);
	free(p);
}

const char *ofr_profile_segment(const struct ofr_profile *p)
{
	return seg_names[p ? p->segment : SEG_NONE];
}

uint64_t ofr_profile_sales(const struct ofr_profile *p)
{
	return p ? p->sales : 0;
}

int ofri_profile_segment_bit(const struct ofr_profile *p)
{
	return p ? p->segment : SEG_NONE;
}

bool ofri_profile_bought(const struct ofr_profile *p, const struct ofri_bought *b, int64_t now_us)
{
	uint32_t slot;
	bool within = false;
	if (p) {
		const struct ofri_map *m = b->is_category ? &p->cat_slot : &p->item_slot;
		uint64_t key = b->is_category ? (uint64_t)b->id + 1 : b->key;
		if (ofri_map_get(m, key, &slot))
			within = p->last[slot] >= now_us - (int64_t)b->days * DAY_US;
	}
	return b->negate ? !within : within;
}
