/*
 * profile.c - one card's history summarised for the history conditions:
 * when each item and each category was last bought, and an RFM segment.
 * Built once when the card is attached (the cashier is still scanning),
 * so the decision after tender only does hash lookups.
 *
 * RFM uses fixed thresholds (a till has no population to take quantiles
 * from; docs/rules.md lists them): R = days since the last sale,
 * F = sales in the last 365 days, M is reported but not used to segment.
 *
 * Personal candidates (when the rule set has a personal campaign): each item's
 * time-decayed share of the card's sales, sum of 2^(-age/half_life) over the
 * sales holding it divided by (the same sum over all sales + 1): the + 1 is
 * one imagined sale without the item, so a card with a single sale does not
 * score its items as certain. The best OFRI_CANDS items are kept, so the
 * decision only walks that short list. Sales at or after now are not read
 * (explain --at a past sale sees the history that sale's decision saw).
 *
 * Explore candidates (scored explore, limits.explore_weight): items new to
 * the card that buyers of its items went on to buy, scored by the sum over
 * its items A of A's decayed share x confidence(A -> B), times the weight and
 * the card's novelty (its share of new items per visit over the store's).
 * Built here, with the card's history, so the decision only merges lists.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <math.h>
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
	double *wsum;                /* per item slot: decayed weight of its sales */
	uint32_t *nsales;            /* per item slot: sales holding it */
	uint64_t *slot_key;          /* per slot: its gtin key (0 for category slots) */
	uint64_t *stamp;             /* per slot: the sale (count) it was last counted in */
	size_t n_last, cap_last;
	double wtotal;               /* decayed weight of all sales */
	double half_life_us;         /* 0 = no personal campaign: no candidates */
	size_t n_cands;
	struct ofri_cand cands[OFRI_CANDS];
	size_t n_xcands;
	struct ofri_cand xcands[OFRI_CANDS];
	uint64_t occ;                /* item occurrences (distinct per sale) */
	uint32_t first_items;        /* distinct items of the earliest sale */
	double novelty;              /* card's novelty over the store's (scored explore), 1 if unknown */
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

static int grow_slots(struct ofr_profile *p)
{
	size_t cap = p->cap_last ? p->cap_last * 2 : 256;
	int64_t *v = realloc(p->last, cap * sizeof(*v));
	if (v)
		p->last = v;
	double *w = realloc(p->wsum, cap * sizeof(*w));
	if (w)
		p->wsum = w;
	uint32_t *n = realloc(p->nsales, cap * sizeof(*n));
	if (n)
		p->nsales = n;
	uint64_t *k = realloc(p->slot_key, cap * sizeof(*k));
	if (k)
		p->slot_key = k;
	uint64_t *st = realloc(p->stamp, cap * sizeof(*st));
	if (st)
		p->stamp = st;
	if (!v || !w || !n || !k || !st)
		return PM_ENOMEM;
	p->cap_last = cap;
	return PM_OK;
}

/* The slot of key (new or found) with its last time raised to t; *slot_out. */
static int touch(struct ofr_profile *p, struct ofri_map *m, uint64_t key, bool item, int64_t t, uint32_t *slot_out)
{
	uint32_t slot;
	if (ofri_map_get(m, key, &slot)) {
		if (t > p->last[slot])
			p->last[slot] = t;
		*slot_out = slot;
		return PM_OK;
	}
	if (p->n_last == p->cap_last && grow_slots(p))
		return PM_ENOMEM;
	p->last[p->n_last] = t;
	p->wsum[p->n_last] = 0;
	p->nsales[p->n_last] = 0;
	p->slot_key[p->n_last] = item ? key : 0;
	p->stamp[p->n_last] = 0;
	*slot_out = (uint32_t)p->n_last;
	return ofri_map_put(m, key, (uint32_t)p->n_last++);
}

static int on_sale(void *ctx, const struct ofr_sale_view *s)
{
	struct ofr_profile *p = ctx;
	uint32_t slot;
	if (s->time_us >= p->now_us)
		return 0;   /* not yet at the time of the decision */
	double w = p->half_life_us > 0 ? exp2(-(double)(p->now_us - s->time_us) / p->half_life_us) : 0;
	p->wtotal += w;
	if (!p->sales || s->time_us < p->first_us)
		p->first_us = s->time_us;
	if (s->time_us > p->last_us)
		p->last_us = s->time_us;
	p->sales++;
	if (s->time_us >= p->now_us - 365 * DAY_US) {
		p->sales_365++;
		p->spend_365 += s->total_cents;
	}
	uint32_t distinct = 0;
	bool earliest = p->sales == 1 || s->time_us <= p->first_us;
	for (size_t i = 0; i < s->n_items; i++) {
		uint64_t key = ofri_gtin_key(s->items[i].gtin);
		if (!key)
			continue;
		if ((p->rc = touch(p, &p->item_slot, key, true, s->time_us, &slot)))
			return p->rc;
		if (p->stamp[slot] != p->sales) {   /* once per sale (it may be on several lines) */
			p->stamp[slot] = p->sales;
			p->wsum[slot] += w;
			p->nsales[slot]++;
			distinct++;
		}
		const struct ofri_product *prod = p->rules ? ofri_product_find(p->rules, key) : NULL;
		if (prod && prod->category && (p->rc = touch(p, &p->cat_slot, (uint64_t)prod->category + 1, false,
							     s->time_us, &slot)))
			return p->rc;
	}
	p->occ += distinct;
	if (earliest)
		p->first_items = distinct;
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

/* Insert c into the best-first list v (n of at most OFRI_CANDS), by score then key. */
static void keep_best(struct ofri_cand *v, size_t *n, const struct ofri_cand *c)
{
	size_t j = *n;
	if (j == OFRI_CANDS) {
		const struct ofri_cand *w = &v[j - 1];
		if (c->score < w->score || (c->score == w->score && c->key > w->key))
			return;
		j--;
	}
	while (j > 0 && (v[j - 1].score < c->score || (v[j - 1].score == c->score && v[j - 1].key > c->key))) {
		v[j] = v[j - 1];
		j--;
	}
	v[j] = *c;
	if (*n < OFRI_CANDS)
		(*n)++;
}

/* Keep the OFRI_CANDS best items by score (then by key, for a total order). */
static void personal_cands(struct ofr_profile *p)
{
	const struct ofri_rule *rule = &p->rules->rules[p->rules->personal - 1];
	uint32_t min_sales = rule->min_sales > 0 ? (uint32_t)rule->min_sales : 1;
	p->n_cands = 0;
	for (size_t i = 0; i < p->n_last; i++) {
		if (!p->slot_key[i] || p->nsales[i] < min_sales)
			continue;
		double prior = ofri_prior(p->rules, p->slot_key[i]), a = rule->prior_weight;
		struct ofri_cand c = { .key = p->slot_key[i], .prod = ofri_product_find(p->rules, p->slot_key[i]),
				       .score = (p->wsum[i] + a * prior) / (p->wtotal + a), .n_sales = p->nsales[i],
				       .last_us = p->last[i] };
		if (c.prod)
			keep_best(p->cands, &p->n_cands, &c);
	}
}

/* The card's novelty over the store's: (items first bought after its first sale) / (items of its
 * later sales), over limits.explore_novelty; 1 / the store's when it has fewer than two sales. */
static double novelty_of(const struct ofr_profile *p)
{
	double store = p->rules->explore_novelty, own = 1;
	size_t distinct = 0;
	if (store <= 0)
		return 1;
	for (size_t i = 0; i < p->n_last; i++)
		distinct += p->slot_key[i] != 0;
	if (p->sales >= 2 && p->occ > p->first_items)
		own = (double)(distinct - p->first_items) / (double)(p->occ - p->first_items);
	return own / store;
}

/* A pure step rule A -> B (explore, one item condition, no card conditions) filed under A. */
static bool step_rule(const struct ofri_rule *rule, uint64_t a)
{
	return rule->kind == OFR_EXPLORE && rule->basket.n_kids == 1 && rule->basket.kids[0].type == OFRI_ITEM &&
	       rule->basket.kids[0].key == a && rule->basket.kids[0].min <= 1 && !rule->card.any &&
	       rule->target_key && !rule->target_unknown && !rule->other_store && !rule->lift_filtered;
}

/* Explore candidates from the history: sum over the card's items A of share(A) x confidence(A -> B). */
static int explore_cands(struct ofr_profile *p)
{
	const struct ofr_rules *r = p->rules;
	struct ofri_map at;
	struct xacc {
		struct ofri_cand c;
		double sum;
	} *acc = NULL;
	size_t n = 0, cap = 0;
	double mult = r->explore_weight * p->novelty;
	int rc = ofri_map_init(&at, 64);
	for (size_t i = 0; i < p->n_last && !rc; i++) {
		uint32_t slot, idx;
		if (!p->slot_key[i] || p->wsum[i] <= 0 || !ofri_map_get(&r->x_item.map, p->slot_key[i], &slot))
			continue;
		double share = p->wsum[i] / (p->wtotal + 1);
		const uint32_t *v = r->x_item.rules + r->x_item.start[slot];
		for (uint32_t j = 0; j < r->x_item.count[slot] && !rc; j++) {
			const struct ofri_rule *rule = &r->rules[v[j]];
			if (!step_rule(rule, p->slot_key[i]) || ofri_profile_has(p, rule->target_key))
				continue;
			double add = share * (rule->confidence >= 0 ? rule->confidence : rule->priority / 1000.0);
			if (!ofri_map_get(&at, rule->target_key, &idx)) {
				const struct ofri_product *prod = ofri_product_find(r, rule->target_key);
				if (!prod || (rc = ofri_grow((void **)&acc, &cap, n + 1, sizeof(*acc))) ||
				    (rc = ofri_map_put(&at, rule->target_key, (uint32_t)n)))
					continue;
				acc[n] = (struct xacc){ { .key = rule->target_key, .prod = prod, .score = -1 }, 0 };
				idx = (uint32_t)n++;
			}
			struct ofri_cand *c = &acc[idx].c;
			if (add > c->score) {   /* score holds the best single step until the sum below */
				c->score = add;
				c->rule = v[j];
				c->from_key = p->slot_key[i];
				c->from_share = share;
			}
			acc[idx].sum += add;
			c->n_sales++;
		}
	}
	p->n_xcands = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct ofri_cand c = acc[i].c;
		c.score = mult * acc[i].sum;
		keep_best(p->xcands, &p->n_xcands, &c);
	}
	free(acc);
	ofri_map_release(&at);
	return rc;
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
	if (r && (r->personal || r->explore_weight > 0)) {
		int hl = r->personal ? r->rules[r->personal - 1].half_life_days : 90;
		p->half_life_us = (double)(hl > 0 ? hl : 90) * (double)DAY_US;
	}
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
	if (r && r->personal)
		personal_cands(p);
	p->novelty = r ? novelty_of(p) : 1;
	if (r && r->explore_weight > 0 && (rc = explore_cands(p)))
		goto fail;
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
	free(p->wsum);
	free(p->nsales);
	free(p->slot_key);
	free(p->stamp);
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

size_t ofr_profile_personal_count(const struct ofr_profile *p)
{
	return p ? p->n_cands : 0;
}

size_t ofri_profile_cands(const struct ofr_profile *p, const struct ofri_cand **v)
{
	*v = p ? p->cands : NULL;
	return p ? p->n_cands : 0;
}

int ofri_profile_half_life(const struct ofr_profile *p)
{
	return p ? (int)(p->half_life_us / (double)DAY_US + 0.5) : 0;
}

bool ofri_profile_has(const struct ofr_profile *p, uint64_t gtin_key)
{
	uint32_t slot;
	return p && gtin_key && ofri_map_get(&p->item_slot, gtin_key, &slot);
}

size_t ofri_profile_xcands(const struct ofr_profile *p, const struct ofri_cand **v)
{
	*v = p ? p->xcands : NULL;
	return p ? p->n_xcands : 0;
}

double ofri_profile_novelty(const struct ofr_profile *p)
{
	return p ? p->novelty : 1;
}

double ofri_profile_explore_mult(const struct ofr_rules *r, const struct ofr_profile *p)
{
	if (!p)
		return r->explore_weight;
	return r->explore_weight * p->novelty / (p->wtotal + 1);
}
