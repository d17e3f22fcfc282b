/*
 * ofr_int.h - PRIVATE to offers/: the internals shared between its files.
 * Other modules use offers/offers.h only; offers' tests may include this.
 *  ofr_map.c:      growable arrays, u64 -> u32 open-addressing map, string interning
 *  rules_parse.c:  JSON rule file -> struct ofr_rule array (with diagnostics)
 *  rules_personal.c: a personal campaign's parameters (split from rules_parse.c)
 *  rules_pos.c:    line numbers of JSON paths (for semantic errors)
 *  rules_index.c:  catalog snapshot, trigger index, ofr_rules_load()
 *  match.c:        the basket summary, basket/card/history conditions, up-sell targets
 *  decide.c:       caps, ranking (one merge of rules, personal and explore), holdouts
 *  profile.c:      per-card history summary and RFM segment
 *  ledger.c:       issued coupons per campaign and per card
 *  coupon.c:       coupon codes
 */
#ifndef OFR_INT_H
#define OFR_INT_H

#include "offers/offers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- ofr_map.c ---- */
struct ofri_map {            /* u64 key -> u32 value; key 0 is reserved (empty) */
	size_t cap, n;           /* cap is a power of two */
	uint64_t *keys;
	uint32_t *vals;
};
/* Grow *v (*cap elements of elem bytes) to hold at least need elements,
 * doubling (from 64). PM_OK or PM_ENOMEM (*v and *cap as they were). ofr_map.c. */
int ofri_grow(void **v, size_t *cap, size_t need, size_t elem);
int ofri_map_init(struct ofri_map *m, size_t expect);
void ofri_map_release(struct ofri_map *m);
/* Insert or overwrite. */
int ofri_map_put(struct ofri_map *m, uint64_t key, uint32_t val);
/* Value of key, or false. */
bool ofri_map_get(const struct ofri_map *m, uint64_t key, uint32_t *val);
uint64_t ofri_hash_str(const char *s);
/* A 64-bit finaliser (murmur3 fmix64): spreads FNV's weak low bits. */
uint64_t ofri_mix64(uint64_t x);
/* GTIN-14 digit string as a number (+1 so it is never 0); 0 if not 14 digits. */
uint64_t ofri_gtin_key(const char *gtin);

/* Strings that never move once copied: chunks of 64 KiB, freed all at once. */
struct ofri_arena {
	char *chunk;               /* the current chunk; its first bytes link the previous one */
	size_t used, cap;
};
/* A copy of s (NULL on ENOMEM); ofri_arena_release frees every copy. ofr_map.c. */
const char *ofri_arena_strdup(struct ofri_arena *a, const char *s);
void ofri_arena_release(struct ofri_arena *a);

struct ofri_strtab {         /* interned strings: id 0 = "" */
	struct ofri_map map;
	size_t n, cap;
	char **s;
};
int ofri_strtab_init(struct ofri_strtab *t);
void ofri_strtab_release(struct ofri_strtab *t);
/* Intern s; *id its id. */
int ofri_strtab_add(struct ofri_strtab *t, const char *s, uint32_t *id);
/* Id of s or UINT32_MAX if absent. */
uint32_t ofri_strtab_find(const struct ofri_strtab *t, const char *s);

/* ---- conditions ---- */
enum ofri_atom {
	OFRI_ALL, OFRI_ANY, OFRI_NONE,   /* groups: children in kids */
	OFRI_ITEM, OFRI_CATEGORY, OFRI_BRAND,
	OFRI_BASKET_SPEND,               /* basket total >= min */
	OFRI_BASKET_QTY,                 /* basket units >= min */
};
struct ofri_cond {
	int type;                  /* enum ofri_atom */
	uint64_t key;              /* ITEM: gtin key */
	uint32_t id;               /* CATEGORY/BRAND: interned id */
	int64_t min;               /* quantity (atoms) or spend/units threshold */
	size_t n_kids;
	struct ofri_cond *kids;
};

/* A bought/not-bought history test. */
struct ofri_bought {
	bool negate;               /* not bought within days */
	bool is_category;
	uint64_t key;              /* item gtin key */
	uint32_t id;               /* category id */
	int days;
};

struct ofri_cardcond {
	bool any;                  /* the rule has card conditions (a personal offer) */
	int tier_min, tier_max;    /* -1 = unset */
	int64_t points_min, points_max;
	int64_t visits_min, visits_max;
	int64_t spend_min;
	int days_since_min, days_since_max;  /* -1 = unset */
	size_t n_bought;
	struct ofri_bought *bought;
	uint32_t segments;         /* bit per RFM segment; 0 = any */
};

struct ofri_rule {
	const char *id;            /* in the set's arena (unique per rule) */
	const char *campaign;      /* interned (r->strs): shared by the campaign's rules */
	const char *text;          /* receipt wording, interned; "" = from the product */
	int kind;                  /* enum ofr_kind */
	int priority;              /* per-mille */
	double confidence, support, lift;  /* stats; < 0 = absent */
	size_t json_index;         /* position in the file's "rules" array */
	struct ofri_cond basket;   /* OFRI_ALL root */
	struct ofri_cardcond card;
	/* offer */
	int benefit;               /* enum ofr_benefit */
	int32_t value;
	uint64_t target_key;       /* item offers: gtin key */
	char target_gtin[OFR_GTIN_LEN + 1];
	uint32_t target_category;  /* category offers/up-sell: id; 0 = none */
	int upsell;                /* 0 none, 1 by price, 2 by brand */
	uint32_t upsell_brand;     /* brand id, 0 = any better brand */
	/* limits */
	int64_t valid_from_us, valid_until_us;  /* 0 = open */
	int frequency_days;        /* 0 = no per-card cap */
	int64_t budget;            /* 0 = unlimited (per store) */
	int holdout_pct;           /* 0..100 */
	int coupon_days;
	bool other_store;          /* scope excludes this store */
	bool target_unknown;       /* offer names an item not in the catalog */
	bool lift_filtered;        /* stats.lift below the set's min_lift */
	bool indexed;              /* reachable through the trigger index */
	int half_life_days;        /* personal: weight of a sale halves every N days (default 90) */
	int min_sales;             /* personal: the item is in at least N of the card's sales (default 1) */
	int prior_weight;          /* personal: imagined sales at the store's repeat rate (default 4) */
};

struct ofri_product {
	char gtin[OFR_GTIN_LEN + 1];
	char name[64];
	uint32_t category, brand;  /* interned ids */
	int64_t price_cents;
	char base_name[64];        /* name without the brand prefix (up-sell lines) */
};

struct ofri_postings {        /* CSR: key -> rules[start .. start+count) */
	struct ofri_map map;       /* key -> slot */
	uint32_t *start, *count;
	uint32_t *rules;
	size_t n_slots;
};

struct ofri_fired {
	uint32_t rule;
	int signal;                         /* enum ofr_signal */
	double score;                       /* ranking key: higher first, then rank_pos */
	const struct ofri_cand *cand;       /* personal: the profile's candidate */
	const struct ofri_product *target;  /* item offers: the product (may be NULL for category/basket) */
	uint32_t target_category;           /* category offers */
};

struct ofr_rules {
	char name[128];
	int max_offers;            /* limits.offers_per_receipt (default 3) */
	size_t max_rules;          /* refuse sets with more rules (ofr_rules_load_max) */
	int max_repeats;           /* limits.max_repeats: offers for items the card bought before (default 2) */
	uint32_t personal;         /* index + 1 of the personal rule (the first), 0 = none */
	struct ofri_map prior_at;  /* personal repeat_rates: gtin key -> index into prior */
	float *prior;              /* the store's repeat rate of the item (the personal score's prior) */
	size_t n_prior;
	double min_lift;           /* limits.min_lift (default 0: no filter) */
	size_t n_rules;
	struct ofri_rule *rules;
	struct ofri_strtab strs;   /* categories, brands, campaigns, receipt texts */
	struct ofri_arena ids;     /* rule ids */
	/* catalog snapshot */
	size_t n_products;
	struct ofri_product *products;
	struct ofri_map product_by_gtin;   /* gtin key -> product index */
	bool have_catalog;
	/* trigger index */
	struct ofri_postings by_item, by_category, by_brand;
	size_t n_always;
	uint32_t *always;          /* rules with no basket trigger */
	/* scored explore (limits.explore_weight > 0): explore rules filed apart, their score scaled per card */
	double explore_weight;     /* limits.explore_weight; 0 = explore rules rank by priority like the rest */
	double explore_novelty;    /* limits.explore_novelty: the store's share of new items per visit (0 = none) */
	struct ofri_postings x_item, x_category, x_brand;
	size_t n_always_x;
	uint32_t *always_x;        /* explore rules with no basket trigger (back-fill) */
	struct ofri_postings products_by_cat;  /* category id + 1 -> product indices (up-sell) */
	/* decision scratch */
	void *scratch_basket;      /* decide.c's basket summary, allocated once */
	void *scratch_heap;        /* decide.c's candidate heap, allocated once */
	struct ofri_fired *fired;  /* rules whose conditions held, to rank */
	size_t fired_cap;
	uint32_t epoch;
	uint32_t *seen;            /* per rule: epoch it was last looked at */
	uint32_t *rank_pos;        /* per rule: its place in the ranking order (0 = best) */
	struct ofri_map campaign_tags;  /* coupon campaign tag -> rule index */
};

/* rules_parse.c; findings past this many get no line number (each costs a rescan) */
#define OFR_DIAG_LINES 200
int ofri_parse(struct ofr_rules *r, const char *text, size_t len, const char *store_id,
	       struct ofr_diags *d);
void ofri_rule_release(struct ofri_rule *rule);
void ofri_diag(struct ofr_diags *d, const char *text, size_t len, bool warning,
	       const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* rules_parse.c: the parse context and the helpers rules_personal.c shares */
struct json_t;
struct ofri_pctx {
	struct ofr_rules *r;
	const char *text;
	size_t len;
	const char *store;
	struct ofr_diags *d;
};
/* snprintf for paths: a truncated path only shortens a message. */
void ofri_pj(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Warn about keys a reader does not know (typos would otherwise go unseen). */
void ofri_known_keys(struct ofri_pctx *c, struct json_t *obj, const char *path, const char *const *keys);
/* Integer member in [lo, hi]; absent leaves *out. false on error (reported). */
bool ofri_get_int(struct ofri_pctx *c, struct json_t *obj, const char *key, const char *path, int64_t lo,
		  int64_t hi, int64_t *out);
/* GTIN-8/12/13/14 with a valid check digit, normalised to GTIN-14. */
bool ofri_gtin14(const char *s, char out[OFR_GTIN_LEN + 1]);
/* rules_personal.c: a personal rule's "personal" parameters (and refuses them on other kinds). */
bool ofri_parse_personal(struct ofri_pctx *c, struct json_t *jr, const char *path, struct ofri_rule *rule);
/* rules_personal.c: limits.explore_weight and limits.explore_novelty; false on error (reported). */
bool ofri_parse_explore_limits(struct ofri_pctx *c, struct json_t *lim);

/* rules_parse_offer.c: a rule's "offer" object into its benefit and target; false on error (reported). */
bool ofri_parse_offer(struct ofri_pctx *c, struct json_t *o, const char *path, struct ofri_rule *rule);

/* rules_pos.c: 1-based line of the value at path ("rules[3].offer.item"), 0 if not found. */
int ofri_line_of(const char *text, size_t len, const char *path);

/* rules_index.c; postings and the always list are sorted by rank_pos */
const struct ofri_product *ofri_product_find(const struct ofr_rules *r, uint64_t gtin_key);

/* profile.c: personal candidates, best first (score = time-decayed share of the card's sales) */
struct ofri_cand {
	uint64_t key;                       /* gtin key */
	const struct ofri_product *prod;    /* NULL if not in the catalog (never offered) */
	double score;
	uint32_t n_sales;                   /* sales holding it (explore: history items that led to it) */
	int64_t last_us;                    /* last bought (explore: unused) */
	uint32_t rule;                      /* explore: the rule A -> B adding most to the score */
	uint64_t from_key;                  /* explore: that rule's A (gtin key) */
	double from_share;                  /* explore: A's decayed share of the card's sales */
};
#define OFRI_CANDS 24
size_t ofri_profile_cands(const struct ofr_profile *p, const struct ofri_cand **v);
/* Explore candidates from the card's history (scored explore only): items new to the card that
 * buyers of its items went on to buy, best first; score = explore_weight x novelty x
 * sum over its items A of A's share x confidence(A -> B) (docs/rules.md, "Explore scores"). */
size_t ofri_profile_xcands(const struct ofr_profile *p, const struct ofri_cand **v);
/* A basket-triggered or back-fill explore rule's score multiplier for this card (scored explore):
 * explore_weight x novelty / (decayed weight of its sales + 1); explore_weight without a profile. */
double ofri_profile_explore_mult(const struct ofr_rules *r, const struct ofr_profile *p);
/* The card's novelty: its share of new items per visit over the store's (1 without two visits). */
double ofri_profile_novelty(const struct ofr_profile *p);
int ofri_profile_half_life(const struct ofr_profile *p);
/* The card bought this item before (any time in the history read). */
bool ofri_profile_has(const struct ofr_profile *p, uint64_t gtin_key);
/* rules_index.c: the store's repeat rate of an item (personal repeat_rates), 0 if not given. */
double ofri_prior(const struct ofr_rules *r, uint64_t gtin_key);
/* profile.c */
bool ofri_profile_bought(const struct ofr_profile *p, const struct ofri_bought *b, int64_t now_us);
int ofri_profile_segment_bit(const struct ofr_profile *p);
int ofri_segment_bit(const char *name);    /* -1 if unknown */

/* match.c: a sale's basket summary and the conditions of a rule against it */
#define BASKET_MAX 512
struct ofri_basket {
	size_t n_items, n_cats, n_brands;
	uint64_t item[BASKET_MAX];
	int64_t item_qty[BASKET_MAX];
	const struct ofri_product *prod[BASKET_MAX];
	uint32_t cat[BASKET_MAX], brand[BASKET_MAX];
	int64_t cat_qty[BASKET_MAX], brand_qty[BASKET_MAX];
	int64_t spend, units;
};
void ofri_basket_build(const struct ofr_rules *r, const struct ofr_request *req, struct ofri_basket *b);
bool ofri_in_basket(const struct ofri_basket *b, uint64_t key);
void ofri_gtin_of_key(uint64_t key, char out[OFR_GTIN_LEN + 1]);
/* A basket condition; on false, why (if given) says what failed. */
bool ofri_eval(const struct ofr_rules *r, const struct ofri_cond *c, const struct ofri_basket *b, char *why, size_t wl);
/* Card and history conditions. */
bool ofri_eval_card(const struct ofr_rules *r, const struct ofri_cardcond *cc, const struct ofr_card *card,
		    const struct ofr_profile *prof, int64_t now, char *why, size_t wl);
/* The better product for an up-sell, or NULL. */
const struct ofri_product *ofri_upsell_target(const struct ofr_rules *r, const struct ofri_rule *rule,
					      const struct ofri_basket *b);

/* ledger.c */
int64_t ofri_ledger_last(const struct ofr_ledger *l, const char *rule_id, const char *card);

/* rules_parse.c: parse helpers for times */
int ofri_parse_date(const char *s, bool end_of_day, int64_t *out_us);

#endif
