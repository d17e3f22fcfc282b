/*
 * decide.c - one offer decision: candidates from the trigger index, the
 * personal and explore lists of the card's profile, consent, caps, one
 * ranking (docs/rules.md, "A decision"), holdout, and coupon codes. The
 * conditions themselves are match.c's.
 *
 * Ranking (PRODUCT.md, "What we know about offer quality"): by priority,
 * the per-mille expected acceptance (the miner writes confidence x 1000),
 * then confidence, then support. Lift never orders offers: ranking by lift
 * favours rare items and measured 0.4-0.7x of plain popularity; it is only
 * a filter (limits.min_lift).
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_US (INT64_C(86400) * 1000000)

static const char *const verdict_names[] = {
	[OFR_V_CHOSEN] = "chosen", [OFR_V_HELD_BACK] = "held_back", [OFR_V_RANKED_OUT] = "ranked_out",
	[OFR_V_NOT_MATCHED] = "not_matched", [OFR_V_NO_CONSENT] = "no_consent", [OFR_V_NO_CARD] = "no_card",
	[OFR_V_OUT_OF_WINDOW] = "out_of_window", [OFR_V_OTHER_STORE] = "other_store",
	[OFR_V_IN_BASKET] = "ofri_in_basket", [OFR_V_FREQUENCY] = "frequency_cap", [OFR_V_BUDGET] = "budget_spent",
	[OFR_V_NO_TARGET] = "no_target", [OFR_V_LIFT] = "lift_filter", [OFR_V_DUPLICATE] = "duplicate",
	[OFR_V_REPEAT_LIMIT] = "repeat_limit", [OFR_V_BOUGHT_BEFORE] = "bought_before",
};

const char *ofr_verdict_name(int v)
{
	return v >= 0 && v <= OFR_V_BOUGHT_BEFORE ? verdict_names[v] : "unknown";
}

const char *ofr_kind_name(int kind)
{
	static const char *const k[] = { "cross_sell", "up_sell", "promotion", "points_bonus", "personal", "explore" };
	return kind >= 0 && kind <= OFR_EXPLORE ? k[kind] : "unknown";
}

const char *ofr_signal_name(int signal)
{
	static const char *const k[] = { "basket_rule", "personal", "explore", "backfill" };
	return signal >= 0 && signal <= OFR_SIG_BACKFILL ? k[signal] : "unknown";
}


/*
 * Candidates in ranking order: every posting list the basket touches (its
 * items, categories, brands) plus the always list is sorted by rank, so a
 * heap over their heads yields the candidates best first, without
 * duplicates (the epoch marks). The walk stops as soon as the receipt is
 * full: a lower-ranked rule can never displace a chosen one, so the result
 * is the naive one while only the best candidates are looked at.
 */
struct cursor {
	const uint32_t *p, *end;
};

struct heap {
	size_t n;
	struct cursor c[3 * BASKET_MAX + 1];
	const uint32_t *rank;
};

static bool before(const struct heap *h, size_t a, size_t b)
{
	return h->rank[*h->c[a].p] < h->rank[*h->c[b].p];
}

static void sift_down(struct heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < h->n && before(h, l, m))
			m = l;
		if (l + 1 < h->n && before(h, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		struct cursor t = h->c[i];
		h->c[i] = h->c[m];
		h->c[m] = t;
		i = m;
	}
}

static void heap_add(struct heap *h, const uint32_t *p, size_t count)
{
	if (count)
		h->c[h->n++] = (struct cursor){ p, p + count };
}

static void heap_add_postings(struct heap *h, const struct ofri_postings *pl, uint64_t key)
{
	uint32_t slot;
	if (ofri_map_get(&pl->map, key, &slot))
		heap_add(h, pl->rules + pl->start[slot], pl->count[slot]);
}

/* Next candidate rule (best rank first), or false when all lists are spent. */
static bool heap_next(struct heap *h, uint32_t *rule)
{
	if (!h->n)
		return false;
	*rule = *h->c[0].p++;
	if (h->c[0].p == h->c[0].end)
		h->c[0] = h->c[--h->n];
	sift_down(h, 0);
	return true;
}

/* The lists one set of postings has for the basket, plus an always list, as a heap. */
static void heap_build(struct ofr_rules *r, const struct ofri_basket *b, struct heap *h, const struct ofri_postings *items,
		       const struct ofri_postings *cats, const struct ofri_postings *brands, const uint32_t *always,
		       size_t n_always)
{
	h->n = 0;
	h->rank = r->rank_pos;
	for (size_t i = 0; i < b->n_items; i++)
		heap_add_postings(h, items, b->item[i]);
	for (size_t i = 0; i < b->n_cats; i++)
		heap_add_postings(h, cats, (uint64_t)b->cat[i] + 1);
	for (size_t i = 0; i < b->n_brands; i++)
		heap_add_postings(h, brands, (uint64_t)b->brand[i] + 1);
	heap_add(h, always, n_always);
	for (size_t i = h->n / 2 + 1; i-- > 0;)
		sift_down(h, i);
}

static bool in_holdout(const struct ofri_rule *rule, const struct ofr_request *req)
{
	char buf[OFR_ID_MAX + 40];
	if (rule->holdout_pct <= 0)
		return false;
	if (req->card && req->card->number[0])
		snprintf(buf, sizeof(buf), "%s\x1f%s", rule->campaign, req->card->number);
	else
		snprintf(buf, sizeof(buf), "%s\x1fsale:%llu", rule->campaign, (unsigned long long)req->sale_seq);
	return (int)(ofri_mix64(ofri_hash_str(buf)) % 100) < rule->holdout_pct;
}

static void note(const struct ofr_trace *t, const struct ofri_rule *rule, int verdict, const char *why, int rank)
{
	if (t && t->note)
		t->note(t->ctx, rule->id, rule->campaign, verdict, why ? why : "", rank);
}

/* The gate every candidate of a rule passes: scope, catalog, lift, window, card, consent, conditions. */
static int check_gate(const struct ofr_rules *r, const struct ofri_rule *rule, const struct ofr_request *req,
		      const struct ofri_basket *b, const struct ofr_profile *prof, bool from_history, char *why, size_t wl)
{
	const struct ofr_card *card = req->card && req->card->number[0] ? req->card : NULL;
	bool personal = rule->card.any || from_history;   /* reads the card's history: the holder's yes */
	bool needs_card = personal || rule->benefit == OFR_POINTS_MULT || rule->benefit == OFR_POINTS_BONUS_FLAT;
	if (rule->other_store)
		return OFR_V_OTHER_STORE;
	if (rule->target_unknown) {
		if (why)
			snprintf(why, wl, "offered item %s is not in the catalog", rule->target_gtin);
		return OFR_V_NO_TARGET;
	}
	if (rule->lift_filtered) {
		if (why)
			snprintf(why, wl, "lift %.2f is below the set's min_lift %.2f", rule->lift, r->min_lift);
		return OFR_V_LIFT;
	}
	if ((rule->valid_from_us && req->now_us < rule->valid_from_us) ||
	    (rule->valid_until_us && req->now_us > rule->valid_until_us))
		return OFR_V_OUT_OF_WINDOW;
	if (needs_card && !card) {
		if (why)
			snprintf(why, wl, "needs a loyalty card on the sale");
		return OFR_V_NO_CARD;
	}
	if (card && card->consent == OFR_CONSENT_NO && rule->kind != OFR_PROMOTION) {
		if (why)
			snprintf(why, wl, "card holder said no to targeted offers");
		return OFR_V_NO_CONSENT;
	}
	if (card && personal && card->consent != OFR_CONSENT_YES) {
		if (why)
			snprintf(why, wl, "uses the card's data and the holder has not said yes");
		return OFR_V_NO_CONSENT;
	}
	if (!from_history && !ofri_eval(r, &rule->basket, b, why, wl))
		return OFR_V_NOT_MATCHED;
	if (rule->card.any && !ofri_eval_card(r, &rule->card, card, prof, req->now_us, why, wl))
		return OFR_V_NOT_MATCHED;
	return OFR_V_CHOSEN;
}

/* Frequency cap and budget (per rule and card, per campaign). */
static int check_caps(const struct ofri_rule *rule, const struct ofr_request *req, char *why, size_t wl)
{
	const struct ofr_card *card = req->card && req->card->number[0] ? req->card : NULL;
	if (rule->frequency_days && card) {
		int64_t last = ofri_ledger_last(req->ledger, rule->id, card->number);
		if (last && req->now_us - last < (int64_t)rule->frequency_days * DAY_US) {
			if (why)
				snprintf(why, wl, "card got this offer %lld days ago (cap: once in %d days)",
					 (long long)((req->now_us - last) / DAY_US), rule->frequency_days);
			return OFR_V_FREQUENCY;
		}
	}
	if (rule->budget && ofr_ledger_issued(req->ledger, rule->campaign) >= (uint64_t)rule->budget) {
		if (why)
			snprintf(why, wl, "campaign budget of %lld coupons is spent", (long long)rule->budget);
		return OFR_V_BUDGET;
	}
	return OFR_V_CHOSEN;
}

/* Everything but ranking: does the rule fire on this sale? */
static int check_rule(const struct ofr_rules *r, const struct ofri_rule *rule, const struct ofr_request *req,
		      const struct ofri_basket *b, const struct ofr_profile *prof, struct ofri_fired *f,
		      char *why, size_t wl)
{
	int v = check_gate(r, rule, req, b, prof, false, why, wl);
	if (v != OFR_V_CHOSEN)
		return v;
	f->target = NULL;
	f->target_category = 0;
	f->signal = rule->kind == OFR_EXPLORE ? OFR_SIG_EXPLORE : OFR_SIG_RULE;
	f->score = rule->priority / 1000.0;
	f->cand = NULL;
	if (rule->kind == OFR_UP_SELL) {
		f->target = ofri_upsell_target(r, rule, b);
		if (!f->target) {
			if (why)
				snprintf(why, wl, "no better product in the catalog for this basket");
			return OFR_V_NO_TARGET;
		}
	} else if (rule->target_key) {
		if (ofri_in_basket(b, rule->target_key)) {
			if (why)
				snprintf(why, wl, "offered item %s is already in the basket", rule->target_gtin);
			return OFR_V_IN_BASKET;
		}
		if (rule->kind == OFR_EXPLORE && ofri_profile_has(prof, rule->target_key)) {
			if (why)
				snprintf(why, wl, "explore offers items new to the card; it bought %s before",
					 rule->target_gtin);
			return OFR_V_BOUGHT_BEFORE;
		}
		f->target = ofri_product_find(r, rule->target_key);
	} else {
		f->target_category = rule->target_category;
	}
	return check_caps(rule, req, why, wl);
}

/* strlcpy: snprintf("%s") costs more than the rest of a decision's bookkeeping */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void fill_offer(const struct ofr_rules *r, const struct ofri_rule *rule, const struct ofri_fired *f,
		       const struct ofr_request *req, size_t idx, uint32_t *card_tag, struct ofr_offer *o)
{
	memset(o, 0, sizeof(*o));
	copy(o->rule_id, sizeof(o->rule_id), rule->id);
	copy(o->campaign, sizeof(o->campaign), rule->campaign);
	o->kind = rule->kind;
	o->benefit = rule->benefit;
	o->value = rule->value;
	o->priority = rule->priority;
	o->confidence = rule->confidence;
	o->signal = f->signal;
	o->score = f->score;
	if (f->target) {
		memcpy(o->gtin, f->target->gtin, OFR_GTIN_LEN + 1);
		copy(o->name, sizeof(o->name), rule->text[0] ? rule->text : f->target->name);
		if (f->target->category)
			copy(o->category, sizeof(o->category), r->strs.s[f->target->category]);
	} else {
		if (rule->target_key)
			memcpy(o->gtin, rule->target_gtin, OFR_GTIN_LEN + 1);
		if (f->target_category)
			copy(o->category, sizeof(o->category), r->strs.s[f->target_category]);
		copy(o->name, sizeof(o->name), rule->text[0] ? rule->text : o->category[0] ? o->category
		     : o->gtin[0] ? o->gtin : "your next visit");
	}
	int64_t day = req->now_us / DAY_US + rule->coupon_days;
	o->expires_us = (day + 1) * DAY_US - 1;
	o->held_back = in_holdout(rule, req);
	if (!req->key || o->held_back)
		return;   /* the control group gets no code: nothing can be printed or redeemed */
	if (*card_tag == UINT32_MAX)   /* one keyed hash per decision, not per offer */
		*card_tag = req->card ? ofr_card_tag(req->key, req->card->number) : 0;
	struct ofr_coupon c = {
		.version = 2, .benefit = rule->benefit, .value = rule->value,
		.target_tag = o->gtin[0] ? ofr_target_tag_item(o->gtin)
			      : o->category[0] ? ofr_target_tag_category(o->category) : 0,
		.campaign_tag = ofr_campaign_tag(rule->campaign),
		.card_tag = *card_tag,
		.expiry_day = (int32_t)day,
		.serial = (uint32_t)((req->sale_seq * OFR_MAX_OFFERS + idx) % 1000000),
	};
	ofr_coupon_encode(req->key, req->coupon_prefix ? req->coupon_prefix : "PM", &c, o->coupon, sizeof(o->coupon));
}

/* One decision's ranking state: the repeat policy and what it put off for back-fill. */
#define DEFER_MAX 32
struct pick {
	const struct ofr_profile *prof;   /* NULL unless the holder said yes */
	const struct ofr_trace *trace;
	int max, max_repeats, repeats;
	double xmult;                     /* scored explore: a basket explore rule's score multiplier */
	uint32_t card_tag;
	size_t n_deferred;
	struct ofri_fired deferred[DEFER_MAX];
};

/* The explain line of a chosen candidate: the signal and the numbers behind it. */
static void why_chosen(const struct ofr_rules *r, const struct ofri_rule *rule, const struct ofri_fired *f,
		       const struct pick *pk, int64_t now_us, char *why, size_t wl)
{
	const struct ofri_cand *c = f->cand;
	if (f->signal == OFR_SIG_PERSONAL && c)
		snprintf(why, wl, "personal: %s bought in %u sale(s), last %lld days ago; decayed share %.3f "
			 "(half-life %d days)", c->prod->gtin, c->n_sales, (long long)((now_us - c->last_us) / DAY_US),
			 f->score, ofri_profile_half_life(pk->prof));
	else if (f->signal == OFR_SIG_EXPLORE && c) {
		char a[OFR_GTIN_LEN + 1];
		ofri_gtin_of_key(c->from_key, a);
		snprintf(why, wl, "explore: new to the card; buyers of its item %s (decayed share %.3f) went on "
			 "to buy it: confidence %.3f, lift %.2f; %u of its items lead to it; score %.4f (weight %.2f x "
			 "novelty %.2f)", a, c->from_share, rule->confidence, rule->lift, c->n_sales, f->score,
			 r->explore_weight, ofri_profile_novelty(pk->prof));
	} else if (f->signal == OFR_SIG_EXPLORE && !rule->basket.n_kids)
		snprintf(why, wl, "explore: a store bestseller new to the card: first bought on %.3f of visits; "
			 "score %.4f", rule->confidence, f->score);
	else if (f->signal == OFR_SIG_EXPLORE && r->explore_weight > 0)
		snprintf(why, wl, "explore: new to the card; buyers of the basket went on to buy it: "
			 "confidence %.3f, lift %.2f; score %.4f (priority x %.4f for this card)", rule->confidence,
			 rule->lift, f->score, pk->xmult);
	else if (f->signal == OFR_SIG_EXPLORE)
		snprintf(why, wl, "explore: new to the card; buyers of the basket went on to buy it: "
			 "confidence %.3f, lift %.2f", rule->confidence, rule->lift);
	else
		snprintf(why, wl, "basket rule: priority %d, confidence %.3f", rule->priority, rule->confidence);
}

/* Take fired candidate f for the receipt unless it duplicates a chosen offer or
 * breaks the repeat limit (then it waits for back-fill); true if taken. */
static bool take(const struct ofr_rules *r, const struct ofri_fired *f, const struct ofr_request *req,
		 struct ofr_decision *out, struct pick *pk, int rank, bool backfill)
{
	const struct ofri_rule *rule = &r->rules[f->rule];
	const struct ofr_trace *trace = pk->trace;
	char why[200];
	for (size_t j = 0; j < out->n; j++) {
		const struct ofr_offer *o = &out->offers[j];
		if ((f->target && !strcmp(o->gtin, f->target->gtin)) ||
		    (f->target_category && !o->gtin[0] && !strcmp(o->category, r->strs.s[f->target_category])) ||
		    (!f->target && rule->target_key && !strcmp(o->gtin, rule->target_gtin))) {
			note(trace, rule, OFR_V_DUPLICATE, "same item as a better-ranked offer", rank);
			return false;
		}
	}
	if ((int)out->n >= pk->max) {
		if (trace) {
			snprintf(why, sizeof(why), "receipt already has %d offers", pk->max);
			note(trace, rule, OFR_V_RANKED_OUT, why, rank);
		}
		return false;
	}
	uint64_t key = f->target ? ofri_gtin_key(f->target->gtin) : rule->target_key;
	bool repeat = ofri_profile_has(pk->prof, key);
	if (repeat && !backfill && pk->repeats >= pk->max_repeats) {
		if (pk->n_deferred < DEFER_MAX)
			pk->deferred[pk->n_deferred++] = *f;
		if (trace) {
			snprintf(why, sizeof(why), "%s: the receipt has %d offer(s) for items the card bought before "
				 "(limit %d); kept for back-fill", f->target ? f->target->gtin : rule->target_gtin,
				 pk->repeats, pk->max_repeats);
			note(trace, rule, OFR_V_REPEAT_LIMIT, why, rank);
		}
		return false;
	}
	struct ofr_offer *o = &out->offers[out->n];
	fill_offer(r, rule, f, req, out->n, &pk->card_tag, o);
	o->repeat = repeat;
	if (backfill)
		o->signal = OFR_SIG_BACKFILL;
	pk->repeats += repeat;
	if (trace) {
		size_t n;
		why_chosen(r, rule, f, pk, req->now_us, why, sizeof(why));
		n = strlen(why);
		snprintf(why + n, sizeof(why) - n, "%s%s%s", repeat ? "; bought before" : "",
			 backfill ? "; back-fill past the repeat limit" : "",
			 o->held_back ? "; control group: recorded, not printed" : "");
		note(trace, rule, o->held_back ? OFR_V_HELD_BACK : OFR_V_CHOSEN, why, rank);
	}
	out->n++;
	return true;
}

/* Slots still open after the walk: the candidates the repeat limit put off, best first. */
static void backfill(const struct ofr_rules *r, const struct ofr_request *req, struct ofr_decision *out,
		     struct pick *pk)
{
	for (size_t i = 0; i < pk->n_deferred && (int)out->n < pk->max; i++)
		take(r, &pk->deferred[i], req, out, pk, (int)(out->fired + i + 1), true);
}

/*
 * The personal campaign's gate (once per decision: the same rule for every
 * item); true if its candidates may be offered. Traced when it fails.
 */
static bool personal_open(const struct ofr_rules *r, const struct ofr_request *req, const struct ofri_basket *b,
			  const struct pick *pk, char *why, size_t wl)
{
	if (!r->personal)
		return false;
	const struct ofri_rule *rule = &r->rules[r->personal - 1];
	int v = check_gate(r, rule, req, b, pk->prof, false, why, wl);
	if (v == OFR_V_CHOSEN && !pk->prof) {
		if (why)
			snprintf(why, wl, "no history of this card was read");
		v = OFR_V_NOT_MATCHED;
	}
	if (v == OFR_V_CHOSEN)
		v = check_caps(rule, req, why, wl);
	if (v != OFR_V_CHOSEN)
		note(pk->trace, rule, v, why, 0);
	return v == OFR_V_CHOSEN;
}

/* Personal candidate c as a fired candidate; false (traced) if its item is in the basket. */
static bool personal_fired(const struct ofr_rules *r, const struct ofri_cand *c, const struct ofri_basket *b,
			   const struct pick *pk, struct ofri_fired *f)
{
	if (ofri_in_basket(b, c->key)) {
		if (pk->trace) {
			char why[120];
			snprintf(why, sizeof(why), "personal: %s is already in the basket", c->prod->gtin);
			note(pk->trace, &r->rules[r->personal - 1], OFR_V_IN_BASKET, why, 0);
		}
		return false;
	}
	*f = (struct ofri_fired){ .rule = r->personal - 1, .signal = OFR_SIG_PERSONAL, .score = c->score,
				  .cand = c, .target = c->prod };
	return true;
}

/*
 * A history explore candidate (scored explore) as a fired candidate: the gate of
 * its rule without the basket condition (it comes from the card's history, so
 * it needs the holder's yes), its caps, and its item not in the basket.
 */
static bool xcand_fired(const struct ofr_rules *r, const struct ofri_cand *c, const struct ofr_request *req,
			const struct ofri_basket *b, const struct pick *pk, struct ofri_fired *f, char *why, size_t wl)
{
	const struct ofri_rule *rule = &r->rules[c->rule];
	int v = check_gate(r, rule, req, b, pk->prof, true, why, wl);
	if (v == OFR_V_CHOSEN && ofri_in_basket(b, c->key)) {
		if (why)
			snprintf(why, wl, "explore: %s is already in the basket", c->prod->gtin);
		v = OFR_V_IN_BASKET;
	}
	if (v == OFR_V_CHOSEN)
		v = check_caps(rule, req, why, wl);
	if (v != OFR_V_CHOSEN) {
		note(pk->trace, rule, v, why, 0);
		return false;
	}
	*f = (struct ofri_fired){ .rule = c->rule, .signal = OFR_SIG_EXPLORE, .score = c->score, .cand = c,
				  .target = c->prod };
	return true;
}

/* Scored explore: an explore rule's score is its priority scaled for this card. */
static void rescore(const struct ofr_rules *r, struct ofri_fired *f, const struct pick *pk)
{
	if (r->explore_weight > 0 && r->rules[f->rule].kind == OFR_EXPLORE)
		f->score *= pk->xmult;
}

/* The ranking's total order: score (higher first), the rule's rank, the item. */
static bool ranks_before(const struct ofr_rules *r, const struct ofri_fired *a, const struct ofri_fired *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	if (r->rank_pos[a->rule] != r->rank_pos[b->rule])
		return r->rank_pos[a->rule] < r->rank_pos[b->rule];
	uint64_t ka = a->target ? ofri_gtin_key(a->target->gtin) : 0, kb = b->target ? ofri_gtin_key(b->target->gtin) : 0;
	return ka < kb;
}

/* qsort has no context argument in C11: per thread, so lanes deciding at once do not race */
static _Thread_local const struct ofr_rules *sort_rules;

static int cmp_fired(const void *a, const void *b)
{
	const struct ofri_fired *x = a, *y = b;
	return ranks_before(sort_rules, x, y) ? -1 : ranks_before(sort_rules, y, x) ? 1 : 0;
}

/* The best unseen rule of heap h as a candidate head (its score unscaled unless xmult), or false. */
static bool rule_head(struct ofr_rules *r, struct heap *h, double mult, struct ofri_fired *head)
{
	while (h->n) {
		uint32_t ri = *h->c[0].p;
		if (r->seen[ri] != r->epoch) {
			*head = (struct ofri_fired){ .rule = ri, .score = r->rules[ri].priority / 1000.0 * mult };
			return true;
		}
		heap_next(h, &ri);
	}
	return false;
}

/* Take the next rule of heap h: checked, rescored, offered if it passes. */
static void walk_rule(struct ofr_rules *r, const struct ofr_request *req, const struct ofri_basket *b, struct heap *h,
		      struct ofr_decision *out, struct pick *pk, char *w, size_t wl)
{
	uint32_t ri = 0;
	heap_next(h, &ri);
	r->seen[ri] = r->epoch;
	out->candidates++;
	const struct ofri_rule *rule = &r->rules[ri];
	struct ofri_fired f = { .rule = ri };
	if (w)
		w[0] = '\0';
	int v = check_rule(r, rule, req, b, pk->prof, &f, w, wl);
	if (v != OFR_V_CHOSEN) {
		note(pk->trace, rule, v, w, 0);
		return;
	}
	rescore(r, &f, pk);
	out->fired++;
	take(r, &f, req, out, pk, (int)out->fired, false);
}

/*
 * Indexed: candidates best first, merged from four streams each in ranking
 * order: the basket rules' heap, the explore rules' heap (scored explore: all
 * their scores scaled by one factor per card, so the order holds), the
 * personal list and the history explore list. Stop when the receipt is full.
 */
enum { S_RULE, S_XRULE, S_PERS, S_XHIST, S_N };
static void decide_indexed(struct ofr_rules *r, const struct ofr_request *req, const struct ofri_basket *b,
			   struct heap *h, struct heap *hx, struct ofr_decision *out, struct pick *pk, char *w,
			   size_t wl)
{
	const struct ofri_cand *cands = NULL, *xc = NULL;
	size_t n_cands = ofri_profile_cands(pk->prof, &cands), pi = 0;
	size_t n_xc = r->explore_weight > 0 ? ofri_profile_xcands(pk->prof, &xc) : 0, xi = 0;
	if (!personal_open(r, req, b, pk, w, wl))
		n_cands = 0;
	if (++r->epoch == 0) {
		memset(r->seen, 0, r->n_rules * sizeof(*r->seen));
		r->epoch = 1;
	}
	heap_build(r, b, h, &r->by_item, &r->by_category, &r->by_brand, r->always, r->n_always);
	heap_build(r, b, hx, &r->x_item, &r->x_category, &r->x_brand, r->always_x, r->n_always_x);
	while ((int)out->n < pk->max) {
		struct ofri_fired head[S_N];
		bool have[S_N];
		int best = -1;
		have[S_RULE] = rule_head(r, h, 1, &head[S_RULE]);
		have[S_XRULE] = rule_head(r, hx, pk->xmult, &head[S_XRULE]);
		while (pi < n_cands && !personal_fired(r, &cands[pi], b, pk, &head[S_PERS]))
			pi++;
		have[S_PERS] = pi < n_cands;
		while (xi < n_xc && !xcand_fired(r, &xc[xi], req, b, pk, &head[S_XHIST], w, wl))
			xi++;
		have[S_XHIST] = xi < n_xc;
		for (int i = 0; i < S_N; i++)
			if (have[i] && (best < 0 || ranks_before(r, &head[i], &head[best])))
				best = i;
		if (best < 0)
			break;
		if (best == S_RULE || best == S_XRULE) {
			walk_rule(r, req, b, best == S_RULE ? h : hx, out, pk, w, wl);
			continue;
		}
		best == S_PERS ? pi++ : xi++;
		out->fired++;
		take(r, &head[best], req, out, pk, (int)out->fired, false);
	}
}

int ofr_decide(struct ofr_rules *r, const struct ofr_request *req, struct ofr_decision *out,
	       const struct ofr_trace *trace)
{
	struct ofri_basket *b;
	struct heap *h;
	size_t n_fired = 0;
	char why[200], *w = trace ? why : NULL;
	int rc = PM_OK;
	const struct ofr_card *card = req->card && req->card->number[0] ? req->card : NULL;
	struct pick *pk;
	memset(out, 0, sizeof(*out));
	if (!r->scratch_basket && !(r->scratch_basket = malloc(sizeof(*b))))
		return PM_ENOMEM;
	if (!r->scratch_heap && !(r->scratch_heap = malloc(2 * sizeof(*h) + sizeof(*pk))))
		return PM_ENOMEM;
	b = r->scratch_basket;
	h = r->scratch_heap;
	pk = (struct pick *)((char *)r->scratch_heap + 2 * sizeof(*h));
	pk->max = req->max_offers > 0 ? req->max_offers : r->max_offers;
	if (pk->max > OFR_MAX_OFFERS)
		pk->max = OFR_MAX_OFFERS;
	/* The card's history counts only with the holder's yes, as it stands when deciding. */
	pk->prof = card && card->consent == OFR_CONSENT_YES ? req->profile : NULL;
	pk->trace = trace;
	pk->max_repeats = r->max_repeats;
	pk->repeats = 0;
	pk->card_tag = UINT32_MAX;
	pk->n_deferred = 0;
	pk->xmult = r->explore_weight > 0 ? ofri_profile_explore_mult(r, pk->prof) : 1;
	ofri_basket_build(r, req, b);
	if (!req->naive) {
		decide_indexed(r, req, b, h, h + 1, out, pk, w, sizeof(why));
		backfill(r, req, out, pk);
		return PM_OK;
	}
	/* Naive (the baseline, and explain): every rule and personal item, then rank what fired. */
	if ((rc = ofri_grow((void **)&r->fired, &r->fired_cap, r->n_rules + 2 * OFRI_CANDS + 1, sizeof(*r->fired))))
		return rc;
	out->candidates = r->n_rules;
	for (size_t i = 0; i < r->n_rules; i++) {
		const struct ofri_rule *rule = &r->rules[i];
		struct ofri_fired f = { .rule = (uint32_t)i };
		if (rule->kind == OFR_PERSONAL)
			continue;   /* its candidates are the card's items, below */
		why[0] = '\0';
		int v = check_rule(r, rule, req, b, pk->prof, &f, w, sizeof(why));
		if (v == OFR_V_CHOSEN) {
			rescore(r, &f, pk);
			r->fired[n_fired++] = f;
		} else
			note(trace, rule, v, w, 0);
	}
	const struct ofri_cand *cands = NULL;
	size_t n_cands = ofri_profile_cands(pk->prof, &cands);
	if (personal_open(r, req, b, pk, w, sizeof(why)))
		for (size_t i = 0; i < n_cands; i++)
			n_fired += personal_fired(r, &cands[i], b, pk, &r->fired[n_fired]);
	const struct ofri_cand *xc = NULL;
	size_t n_xc = r->explore_weight > 0 ? ofri_profile_xcands(pk->prof, &xc) : 0;
	for (size_t i = 0; i < n_xc; i++)
		n_fired += xcand_fired(r, &xc[i], req, b, pk, &r->fired[n_fired], w, sizeof(why));
	out->fired = n_fired;
	sort_rules = r;
	if (n_fired)
		qsort(r->fired, n_fired, sizeof(*r->fired), cmp_fired);
	for (size_t i = 0; i < n_fired; i++)
		take(r, &r->fired[i], req, out, pk, (int)i + 1, false);
	backfill(r, req, out, pk);
	return rc;
}
