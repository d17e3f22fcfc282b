/*
 * match.c - a rule's conditions against one sale: the basket summary (items,
 * categories, brands with their quantities), basket conditions, card and
 * history conditions, and the up-sell target. Split from decide.c, which
 * ranks what matches.
 */
#include "offers/ofr_int.h"

#include <stdio.h>
#include <string.h>

#define DAY_US (INT64_C(86400) * 1000000)

static void add_qty(uint32_t *keys, int64_t *qty, size_t *n, uint32_t key, int64_t q)
{
	for (size_t i = 0; i < *n; i++)
		if (keys[i] == key) {
			qty[i] += q;
			return;
		}
	keys[*n] = key;
	qty[(*n)++] = q;
}

void ofri_basket_build(const struct ofr_rules *r, const struct ofr_request *req, struct ofri_basket *b)
{
	b->n_items = b->n_cats = b->n_brands = 0;
	b->spend = b->units = 0;
	for (size_t i = 0; i < req->n_items; i++) {
		const struct ofr_line *l = &req->items[i];
		uint64_t key = ofri_gtin_key(l->gtin);
		size_t j;
		b->spend += l->line_cents;
		b->units += l->qty;
		if (!key)
			continue;
		for (j = 0; j < b->n_items && b->item[j] != key; j++)
			;
		if (j < b->n_items) {
			b->item_qty[j] += l->qty;
		} else if (b->n_items < BASKET_MAX) {
			b->item[j] = key;
			b->item_qty[j] = l->qty;
			b->prod[j] = ofri_product_find(r, key);
			b->n_items++;
		} else {
			continue;
		}
		if (b->prod[j] && b->prod[j]->category)
			add_qty(b->cat, b->cat_qty, &b->n_cats, b->prod[j]->category, l->qty);
		if (b->prod[j] && b->prod[j]->brand)
			add_qty(b->brand, b->brand_qty, &b->n_brands, b->prod[j]->brand, l->qty);
	}
}

static int64_t qty_of(const uint64_t *keys, const int64_t *qty, size_t n, uint64_t key)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] == key)
			return qty[i];
	return 0;
}

static int64_t qty_of32(const uint32_t *keys, const int64_t *qty, size_t n, uint32_t key)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] == key)
			return qty[i];
	return 0;
}

bool ofri_in_basket(const struct ofri_basket *b, uint64_t key)
{
	return qty_of(b->item, b->item_qty, b->n_items, key) > 0;
}

void ofri_gtin_of_key(uint64_t key, char out[OFR_GTIN_LEN + 1])
{
	snprintf(out, OFR_GTIN_LEN + 1, "%014llu", (unsigned long long)(key - 1));
}

/* Evaluate a basket condition; on false, why (if given) says what failed. */
bool ofri_eval(const struct ofr_rules *r, const struct ofri_cond *c, const struct ofri_basket *b,
		 char *why, size_t wl)
{
	int64_t have;
	char g[OFR_GTIN_LEN + 1];
	switch (c->type) {
	case OFRI_ALL:
		for (size_t i = 0; i < c->n_kids; i++)
			if (!ofri_eval(r, &c->kids[i], b, why, wl))
				return false;
		return true;
	case OFRI_ANY:
		for (size_t i = 0; i < c->n_kids; i++)
			if (ofri_eval(r, &c->kids[i], b, NULL, 0))
				return true;
		if (why)
			snprintf(why, wl, "basket has none of the %zu 'any' conditions", c->n_kids);
		return false;
	case OFRI_NONE:
		for (size_t i = 0; i < c->n_kids; i++)
			if (ofri_eval(r, &c->kids[i], b, NULL, 0)) {
				if (why)
					snprintf(why, wl, "basket holds an excluded ('none') condition #%zu", i + 1);
				return false;
			}
		return true;
	case OFRI_ITEM:
		have = qty_of(b->item, b->item_qty, b->n_items, c->key);
		if (have >= c->min)
			return true;
		if (why) {
			ofri_gtin_of_key(c->key, g);
			snprintf(why, wl, "basket has %lld of item %s, needs %lld", (long long)have, g,
				 (long long)c->min);
		}
		return false;
	case OFRI_CATEGORY:
	case OFRI_BRAND:
		have = c->type == OFRI_CATEGORY ? qty_of32(b->cat, b->cat_qty, b->n_cats, c->id)
						: qty_of32(b->brand, b->brand_qty, b->n_brands, c->id);
		if (have >= c->min)
			return true;
		if (why)
			snprintf(why, wl, "basket has %lld of %s '%s', needs %lld", (long long)have,
				 c->type == OFRI_CATEGORY ? "category" : "brand", r->strs.s[c->id], (long long)c->min);
		return false;
	case OFRI_BASKET_SPEND:
		if (b->spend >= c->min)
			return true;
		if (why)
			snprintf(why, wl, "basket spend %lld cents is under %lld", (long long)b->spend, (long long)c->min);
		return false;
	case OFRI_BASKET_QTY:
		if (b->units >= c->min)
			return true;
		if (why)
			snprintf(why, wl, "basket has %lld units, needs %lld", (long long)b->units, (long long)c->min);
		return false;
	}
	return false;
}

bool ofri_eval_card(const struct ofr_rules *r, const struct ofri_cardcond *cc, const struct ofr_card *card,
		      const struct ofr_profile *prof, int64_t now, char *why, size_t wl)
{
#define FAIL(...) do { if (why) snprintf(why, wl, __VA_ARGS__); return false; } while (0)
	if (cc->tier_min >= 0 && card->tier < cc->tier_min)
		FAIL("tier %d is below %d", card->tier, cc->tier_min);
	if (cc->tier_max >= 0 && card->tier > cc->tier_max)
		FAIL("tier %d is above %d", card->tier, cc->tier_max);
	if (cc->points_min >= 0 && card->points < cc->points_min)
		FAIL("points %lld below %lld", (long long)card->points, (long long)cc->points_min);
	if (cc->points_max >= 0 && card->points > cc->points_max)
		FAIL("points %lld above %lld", (long long)card->points, (long long)cc->points_max);
	if (cc->visits_min >= 0 && (int64_t)card->visits < cc->visits_min)
		FAIL("visits %llu below %lld", (unsigned long long)card->visits, (long long)cc->visits_min);
	if (cc->visits_max >= 0 && (int64_t)card->visits > cc->visits_max)
		FAIL("visits %llu above %lld", (unsigned long long)card->visits, (long long)cc->visits_max);
	if (cc->spend_min >= 0 && card->spend_cents < cc->spend_min)
		FAIL("lifetime spend %lld cents below %lld", (long long)card->spend_cents, (long long)cc->spend_min);
	if (cc->days_since_min >= 0 || cc->days_since_max >= 0) {
		if (!card->last_visit_us)
			FAIL("card has no earlier visit");
		int64_t days = (now - card->last_visit_us) / DAY_US;
		if (cc->days_since_min >= 0 && days < cc->days_since_min)
			FAIL("last visit %lld days ago, needs at least %d", (long long)days, cc->days_since_min);
		if (cc->days_since_max >= 0 && days > cc->days_since_max)
			FAIL("last visit %lld days ago, needs at most %d", (long long)days, cc->days_since_max);
	}
	for (size_t i = 0; i < cc->n_bought; i++) {
		const struct ofri_bought *b = &cc->bought[i];
		if (!ofri_profile_bought(prof, b, now)) {
			char what[80], g[OFR_GTIN_LEN + 1];
			if (why) {
				if (b->is_category)
					snprintf(what, sizeof(what), "category '%s'", r->strs.s[b->id]);
				else {
					ofri_gtin_of_key(b->key, g);
					snprintf(what, sizeof(what), "item %s", g);
				}
			}
			FAIL("%s %s within %d days", b->negate ? "bought" : "did not buy", what, b->days);
		}
	}
	if (cc->segments && !(cc->segments & (1u << ofri_profile_segment_bit(prof))))
		FAIL("RFM segment '%s' is not targeted", ofr_profile_segment(prof));
	return true;
#undef FAIL
}

/* The better product for an up-sell, or NULL. */
const struct ofri_product *ofri_upsell_target(const struct ofr_rules *r, const struct ofri_rule *rule,
						const struct ofri_basket *b)
{
	const struct ofri_product *best = NULL;
	bool best_same_line = false;
	for (size_t i = 0; i < b->n_items; i++) {
		const struct ofri_product *p = b->prod[i];
		uint32_t slot;
		if (!p || !p->category || (rule->target_category && p->category != rule->target_category))
			continue;
		if (!ofri_map_get(&r->products_by_cat.map, (uint64_t)p->category + 1, &slot))
			continue;
		const uint32_t *v = r->products_by_cat.rules + r->products_by_cat.start[slot];
		for (uint32_t j = 0; j < r->products_by_cat.count[slot]; j++) {
			const struct ofri_product *q = &r->products[v[j]];
			if (q == p || ofri_in_basket(b, ofri_gtin_key(q->gtin)))
				continue;
			if (rule->upsell == 1 && (q->price_cents <= p->price_cents || q->price_cents > 3 * p->price_cents))
				continue;
			if (rule->upsell == 2 && (q->brand == p->brand || q->price_cents < p->price_cents ||
						  (rule->upsell_brand && q->brand != rule->upsell_brand)))
				continue;
			bool same_line = !strcmp(q->base_name, p->base_name);
			/* the same product line of a better brand first, then the nearest price step */
			if (!best || (same_line && !best_same_line) ||
			    (same_line == best_same_line && q->price_cents < best->price_cents)) {
				best = q;
				best_same_line = same_line;
			}
		}
		if (best)
			return best;
	}
	return NULL;
}
