/*
 * rules_personal.c - the parameters of a personal campaign in a rule set
 * (docs/rules.md, "Personal offers"): half_life_days, min_sales,
 * prior_weight and the store's repeat_rates (the personal score's prior),
 * and the set's explore scoring (limits.explore_weight, explore_novelty).
 * Split from rules_parse.c, whose parse context and helpers it uses.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ERR(c, path, ...) ofri_diag((c)->d, (c)->text, (c)->len, false, path, __VA_ARGS__)

/* repeat_rates {"GTIN": rate 0..1}: the store's repeat rate per item, the personal score's prior. */
static bool parse_rates(struct ofri_pctx *c, json_t *o, const char *path)
{
	struct ofr_rules *r = c->r;
	char p[200], g[OFR_GTIN_LEN + 1];
	const char *k;
	json_t *v;
	ofri_pj(p, sizeof(p), "%s.repeat_rates", path);
	if (!json_is_object(o)) {
		ERR(c, p, "'repeat_rates' must be an object {\"GTIN\": rate from 0 to 1}");
		return false;
	}
	if (!(r->prior = calloc(json_object_size(o) + 1, sizeof(*r->prior))) ||
	    ofri_map_init(&r->prior_at, json_object_size(o) + 1))
		return false;
	json_object_foreach(o, k, v) {
		if (!ofri_gtin14(k, g) || !json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1) {
			ERR(c, p, "'repeat_rates' entry '%s' must be a GTIN with a rate from 0 to 1", k);
			return false;
		}
		if (ofri_map_put(&r->prior_at, ofri_gtin_key(g), (uint32_t)r->n_prior))
			return false;
		r->prior[r->n_prior++] = (float)json_number_value(v);
	}
	return true;
}

/* A personal campaign's parameters ("personal": {...}); it is personal: it needs the holder's yes. */
bool ofri_parse_personal(struct ofri_pctx *c, json_t *jr, const char *path, struct ofri_rule *rule)
{
	static const char *const keys[] = { "half_life_days", "min_sales", "prior_weight", "repeat_rates", NULL };
	json_t *o = json_object_get(jr, "personal");
	char p[160];
	int64_t hl = 90, ms = 1, pw = 4;
	bool ok = true;
	ofri_pj(p, sizeof(p), "%s.personal", path);
	if (o && rule->kind != OFR_PERSONAL) {
		ERR(c, p, "'personal' parameters belong to a rule of kind personal");
		return false;
	}
	if (rule->kind != OFR_PERSONAL)
		return true;
	if (o && !json_is_object(o)) {
		ERR(c, p, "'personal' must be an object {half_life_days, min_sales}");
		return false;
	}
	if (o) {
		ofri_known_keys(c, o, p, keys);
		ok &= ofri_get_int(c, o, "half_life_days", p, 1, 3650, &hl);
		ok &= ofri_get_int(c, o, "min_sales", p, 1, 1000, &ms);
		ok &= ofri_get_int(c, o, "prior_weight", p, 1, 100, &pw);
	}
	rule->prior_weight = (int)pw;
	rule->half_life_days = (int)hl;
	rule->min_sales = (int)ms;
	if (o && json_object_get(o, "repeat_rates") && !c->r->n_prior)
		ok &= parse_rates(c, json_object_get(o, "repeat_rates"), p);
	rule->card.any = true;   /* it reads the card's history */
	return ok;
}

/* A number member of limits in [lo, hi]; absent leaves *out. */
static bool limit_number(struct ofri_pctx *c, json_t *lim, const char *key, double lo, double hi, const char *eg,
			 double *out)
{
	json_t *v = json_object_get(lim, key);
	char p[64];
	if (!v)
		return true;
	ofri_pj(p, sizeof(p), "limits.%s", key);
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
		ERR(c, p, "'%s' must be a number from %g to %g (e.g. %s)", key, lo, hi, eg);
		return false;
	}
	*out = json_number_value(v);
	return true;
}

/* Scored explore (docs/rules.md, "Explore scores"): the weight of a new item's estimated
 * chance against a repeat's, and the store's share of new items per visit. */
bool ofri_parse_explore_limits(struct ofri_pctx *c, json_t *lim)
{
	bool ok = limit_number(c, lim, "explore_weight", 0, 100, "1.0", &c->r->explore_weight);
	ok &= limit_number(c, lim, "explore_novelty", 0, 1, "0.6", &c->r->explore_novelty);
	return ok;
}
