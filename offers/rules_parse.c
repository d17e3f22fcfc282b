/*
 * rules_parse.c - a rule-set file (JSON, docs/rules.md) into struct
 * ofri_rule records, reporting every error and warning with its line.
 * Read with jansson: it is small, C99, packaged everywhere and gives the
 * line of a syntax error; rules_pos.c finds lines for semantic errors.
 */
#include "offers/ofr_int.h"
#include "common/pm_gs1.h"
#include "common/pm_err.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* snprintf for paths: a truncated path only shortens a message. */
__attribute__((format(printf, 3, 4)))
void ofri_pj(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

#define ERR(c, path, ...) ofri_diag((c)->d, (c)->text, (c)->len, false, path, __VA_ARGS__)
#define WARN(c, path, ...) ofri_diag((c)->d, (c)->text, (c)->len, true, path, __VA_ARGS__)

/* GTIN-8/12/13/14 with a valid check digit, normalised to GTIN-14 (the miner's check). */
bool ofri_gtin14(const char *s, char out[OFR_GTIN_LEN + 1])
{
	return pm_gtin14(s, strlen(s), out);
}

/* Warn about keys a reader does not know (typos would otherwise go unseen). */
void ofri_known_keys(struct ofri_pctx *c, json_t *obj, const char *path, const char *const *keys)
{
	const char *k;
	json_t *v;
	char p[160];
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (const char *const *q = keys; *q; q++)
			ok |= !strcmp(*q, k);
		if (!ok) {
			ofri_pj(p, sizeof(p), "%s.%s", path, k);
			WARN(c, p, "unknown key '%s' ignored", k);
		}
	}
}

/* Integer member in [lo, hi]; absent leaves *out. Returns false on error (reported). */
bool ofri_get_int(struct ofri_pctx *c, json_t *obj, const char *key, const char *path, int64_t lo,
		    int64_t hi, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[160];
	if (!v)
		return true;
	ofri_pj(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		ERR(c, p, "'%s' must be a whole number from %lld to %lld", key, (long long)lo, (long long)hi);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

static bool get_date(struct ofri_pctx *c, json_t *obj, const char *key, const char *path, bool eod,
		     int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[160];
	if (!v)
		return true;
	ofri_pj(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_string(v) || ofri_parse_date(json_string_value(v), eod, out)) {
		ERR(c, p, "'%s' must be a UTC date \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"", key);
		return false;
	}
	return true;
}

static int intern(struct ofri_pctx *c, const char *s, uint32_t *id)
{
	return ofri_strtab_add(&c->r->strs, s, id);
}

static bool parse_group(struct ofri_pctx *c, json_t *obj, const char *path, struct ofri_cond *out);

static bool add_kid(struct ofri_cond *g, struct ofri_cond *kid)
{
	struct ofri_cond *v = realloc(g->kids, (g->n_kids + 1) * sizeof(*v));
	if (!v)
		return false;
	g->kids = v;
	g->kids[g->n_kids++] = *kid;
	return true;
}

static void cond_release(struct ofri_cond *c)
{
	for (size_t i = 0; i < c->n_kids; i++)
		cond_release(&c->kids[i]);
	free(c->kids);
	c->kids = NULL;
	c->n_kids = 0;
}

static const char *const atom_keys[] = { "item", "category", "brand", "min_qty", "all", "any", "none",
					 "min_spend_cents", NULL };

static bool parse_atom(struct ofri_pctx *c, json_t *a, const char *path, struct ofri_cond *out)
{
	json_t *v;
	int64_t q = 1;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(a)) {
		ERR(c, path, "a condition must be an object such as {\"item\":\"GTIN\"}");
		return false;
	}
	ofri_known_keys(c, a, path, atom_keys);
	if (!ofri_get_int(c, a, "min_qty", path, 1, 9999, &q))
		return false;
	out->min = q;
	if ((v = json_object_get(a, "item"))) {
		char g[OFR_GTIN_LEN + 1], p[160];
		ofri_pj(p, sizeof(p), "%s.item", path);
		if (!json_is_string(v) || !ofri_gtin14(json_string_value(v), g)) {
			ERR(c, p, "'item' must be a GTIN (8, 12, 13 or 14 digits with a valid check digit)");
			return false;
		}
		out->type = OFRI_ITEM;
		out->key = ofri_gtin_key(g);
		if (c->r->have_catalog && !ofri_product_find(c->r, out->key))
			WARN(c, p, "item %s is not in the catalog: this condition can never hold here", g);
		return true;
	}
	if ((v = json_object_get(a, "category")) || (v = json_object_get(a, "brand"))) {
		bool cat = json_object_get(a, "category") != NULL;
		char p[160];
		ofri_pj(p, sizeof(p), "%s.%s", path, cat ? "category" : "brand");
		if (!json_is_string(v) || !json_string_value(v)[0]) {
			ERR(c, p, "'%s' must be a non-empty string", cat ? "category" : "brand");
			return false;
		}
		out->type = cat ? OFRI_CATEGORY : OFRI_BRAND;
		if (c->r->have_catalog && ofri_strtab_find(&c->r->strs, json_string_value(v)) == UINT32_MAX)
			WARN(c, p, "%s '%s' is not in the catalog", cat ? "category" : "brand",
			     json_string_value(v));
		return intern(c, json_string_value(v), &out->id) == PM_OK;
	}
	if (json_object_get(a, "all") || json_object_get(a, "any") || json_object_get(a, "none") ||
	    json_object_get(a, "min_spend_cents"))
		return parse_group(c, a, path, out);
	ERR(c, path, "condition names nothing: use item, category, brand, or all/any/none");
	return false;
}

static bool parse_list(struct ofri_pctx *c, json_t *obj, const char *key, const char *path, int type,
		       struct ofri_cond *group)
{
	json_t *arr = json_object_get(obj, key), *a;
	char p[160];
	size_t i;
	bool ok = true;
	struct ofri_cond sub = { .type = type };
	if (!arr)
		return true;
	ofri_pj(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		ERR(c, p, "'%s' must be a non-empty array of conditions", key);
		return false;
	}
	json_array_foreach(arr, i, a) {
		struct ofri_cond atom;
		char ap[176];
		ofri_pj(ap, sizeof(ap), "%s[%zu]", p, i);
		if (!parse_atom(c, a, ap, &atom)) {
			ok = false;
			continue;
		}
		if (type == OFRI_ALL)
			add_kid(group, &atom);
		else
			add_kid(&sub, &atom);
	}
	if (type != OFRI_ALL) {
		if (ok)
			add_kid(group, &sub);
		else
			cond_release(&sub);
	}
	return ok;
}

static bool parse_group(struct ofri_pctx *c, json_t *obj, const char *path, struct ofri_cond *out)
{
	int64_t spend = 0, qty = 0;
	bool ok = true;
	memset(out, 0, sizeof(*out));
	out->type = OFRI_ALL;
	ok &= parse_list(c, obj, "all", path, OFRI_ALL, out);
	ok &= parse_list(c, obj, "any", path, OFRI_ANY, out);
	ok &= parse_list(c, obj, "none", path, OFRI_NONE, out);
	ok &= ofri_get_int(c, obj, "min_spend_cents", path, 0, INT64_C(1) << 40, &spend);
	if (spend > 0)
		add_kid(out, &(struct ofri_cond){ .type = OFRI_BASKET_SPEND, .min = spend });
	if (!json_object_get(obj, "item") && !json_object_get(obj, "category") && !json_object_get(obj, "brand"))
		ok &= ofri_get_int(c, obj, "min_qty", path, 0, 1000000, &qty);
	if (qty > 0)
		add_kid(out, &(struct ofri_cond){ .type = OFRI_BASKET_QTY, .min = qty });
	return ok;
}

static const char *const bought_keys[] = { "item", "category", "within_days", NULL };

static bool parse_bought(struct ofri_pctx *c, json_t *obj, const char *key, const char *path, bool negate,
			 struct ofri_cardcond *cc)
{
	json_t *arr = json_object_get(obj, key), *a;
	size_t i;
	char p[160];
	bool ok = true;
	if (!arr)
		return true;
	ofri_pj(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_array(arr)) {
		ERR(c, p, "'%s' must be an array of {\"item\"|\"category\", \"within_days\"}", key);
		return false;
	}
	json_array_foreach(arr, i, a) {
		char ap[176];
		struct ofri_bought b = { .negate = negate };
		int64_t days = 0;
		ofri_pj(ap, sizeof(ap), "%s[%zu]", p, i);
		if (!json_is_object(a)) {
			ERR(c, ap, "must be an object {\"item\"|\"category\", \"within_days\"}");
			ok = false;
			continue;
		}
		ofri_known_keys(c, a, ap, bought_keys);
		if (!ofri_get_int(c, a, "within_days", ap, 1, 3650, &days) || !days) {
			if (!days)
				ERR(c, ap, "'within_days' (1 to 3650) is required");
			ok = false;
			continue;
		}
		b.days = (int)days;
		json_t *it = json_object_get(a, "item"), *cat = json_object_get(a, "category");
		char g[OFR_GTIN_LEN + 1];
		if (it && json_is_string(it) && ofri_gtin14(json_string_value(it), g)) {
			b.key = ofri_gtin_key(g);
		} else if (!it && cat && json_is_string(cat) && json_string_value(cat)[0]) {
			b.is_category = true;
			intern(c, json_string_value(cat), &b.id);
		} else {
			ERR(c, ap, "needs a valid 'item' GTIN or a 'category' name");
			ok = false;
			continue;
		}
		struct ofri_bought *v = realloc(cc->bought, (cc->n_bought + 1) * sizeof(*v));
		if (!v)
			return false;
		cc->bought = v;
		cc->bought[cc->n_bought++] = b;
	}
	return ok;
}

static const char *const card_keys[] = { "tier_min", "tier_max", "points_min", "points_max",
					 "visits_min", "visits_max", "spend_min_cents",
					 "days_since_visit_min", "days_since_visit_max", "bought",
					 "not_bought", "segment", NULL };

static bool parse_card(struct ofri_pctx *c, json_t *obj, const char *path, struct ofri_cardcond *cc)
{
	int64_t v;
	bool ok = true;
	cc->tier_min = cc->tier_max = cc->days_since_min = cc->days_since_max = -1;
	cc->points_min = cc->visits_min = cc->spend_min = -1;
	cc->points_max = cc->visits_max = -1;
	if (!obj)
		return true;
	if (!json_is_object(obj)) {
		ERR(c, path, "'card' must be an object of card conditions");
		return false;
	}
	ofri_known_keys(c, obj, path, card_keys);
	cc->any = json_object_size(obj) > 0;
#define INTF(key, field, lo, hi) do { v = -1; ok &= ofri_get_int(c, obj, key, path, lo, hi, &v); \
	if (v >= 0) cc->field = (__typeof__(cc->field))v; } while (0)
	INTF("tier_min", tier_min, 0, 15);
	INTF("tier_max", tier_max, 0, 15);
	INTF("points_min", points_min, 0, INT64_C(1) << 50);
	INTF("points_max", points_max, 0, INT64_C(1) << 50);
	INTF("visits_min", visits_min, 0, INT64_C(1) << 40);
	INTF("visits_max", visits_max, 0, INT64_C(1) << 40);
	INTF("spend_min_cents", spend_min, 0, INT64_C(1) << 50);
	INTF("days_since_visit_min", days_since_min, 0, 36500);
	INTF("days_since_visit_max", days_since_max, 0, 36500);
#undef INTF
	ok &= parse_bought(c, obj, "bought", path, false, cc);
	ok &= parse_bought(c, obj, "not_bought", path, true, cc);
	json_t *seg = json_object_get(obj, "segment");
	if (seg) {
		char p[160];
		ofri_pj(p, sizeof(p), "%s.segment", path);
		json_t *one;
		size_t i;
		json_t *arr = json_is_string(seg) ? json_pack("[O]", seg) : json_incref(seg);
		if (!json_is_array(arr) || json_array_size(arr) == 0) {
			ERR(c, p, "'segment' must be a segment name or an array of them");
			ok = false;
		} else {
			json_array_foreach(arr, i, one) {
				int bit = json_is_string(one) ? ofri_segment_bit(json_string_value(one)) : -1;
				if (bit < 0) {
					ERR(c, p, "unknown segment; use champions, loyal, new, promising, "
					    "at_risk, lapsed or regular");
					ok = false;
				} else {
					cc->segments |= 1u << bit;
				}
			}
		}
		json_decref(arr);
	}
	return ok;
}

/* Campaign-level defaults (the "campaigns" object) and rule-level overrides. */
static bool parse_limits(struct ofri_pctx *c, json_t *o, const char *path, struct ofri_rule *rule)
{
	int64_t v;
	bool ok = true;
	json_t *stores = json_object_get(o, "stores");
	ok &= get_date(c, o, "valid_from", path, false, &rule->valid_from_us);
	ok &= get_date(c, o, "valid_until", path, true, &rule->valid_until_us);
	v = rule->frequency_days;
	ok &= ofri_get_int(c, o, "frequency_days", path, 0, 3650, &v);
	rule->frequency_days = (int)v;
	ok &= ofri_get_int(c, o, "budget", path, 0, INT64_C(1) << 40, &rule->budget);
	v = rule->holdout_pct;
	ok &= ofri_get_int(c, o, "holdout_pct", path, 0, 100, &v);
	rule->holdout_pct = (int)v;
	v = rule->coupon_days;
	ok &= ofri_get_int(c, o, "coupon_days", path, 1, 365, &v);
	rule->coupon_days = (int)v;
	if (stores) {
		char p[160];
		json_t *s;
		size_t i;
		bool here = false;
		ofri_pj(p, sizeof(p), "%s.stores", path);
		if (!json_is_array(stores)) {
			ERR(c, p, "'stores' must be an array of store ids (omit it for every store)");
			return false;
		}
		json_array_foreach(stores, i, s) {
			if (!json_is_string(s)) {
				ERR(c, p, "'stores' must hold store id strings");
				return false;
			}
			here |= !strcmp(json_string_value(s), c->store);
		}
		rule->other_store = c->store[0] && !here;
	}
	if (rule->valid_from_us && rule->valid_until_us && rule->valid_until_us < rule->valid_from_us) {
		ERR(c, path, "'valid_until' is before 'valid_from'");
		ok = false;
	}
	return ok;
}

static const char *const rule_keys[] = { "id", "campaign", "kind", "priority", "text", "when", "personal",
					 "offer", "stats", "valid_from", "valid_until", "stores",
					 "frequency_days", "budget", "holdout_pct", "coupon_days", NULL };

/* A rule's values before its JSON is read: -1 stats mean "not given" (priority then decides). */
static void rule_defaults(struct ofri_rule *rule, size_t idx)
{
	memset(rule, 0, sizeof(*rule));
	rule->id = rule->campaign = rule->text = "";
	rule->basket.type = OFRI_ALL;
	rule->confidence = rule->support = rule->lift = -1;
	rule->coupon_days = 14;
	rule->json_index = idx;
}

/*
 * id, campaign (defaults to the id) and kind. An unusable kind stops the
 * rule there: everything after depends on it. Returns false when the rule
 * must be given up now (kind, or out of memory); a bad id or campaign only
 * clears *ok so that the rest is still checked and reported.
 */
static bool parse_rule_names(struct ofri_pctx *c, json_t *jr, const char *path, struct ofri_rule *rule,
			     bool *ok)
{
	char p[160];
	json_t *v = json_object_get(jr, "id");
	ofri_pj(p, sizeof(p), "%s.id", path);
	if (!json_is_string(v) || !json_string_value(v)[0] || strlen(json_string_value(v)) > OFR_ID_MAX) {
		ERR(c, v ? p : path, "'id' is required: a string of 1 to %d characters", OFR_ID_MAX);
		*ok = false;
	} else {
		if (!(rule->id = ofri_arena_strdup(&c->r->ids, json_string_value(v))))
			return false;
	}
	v = json_object_get(jr, "campaign");
	ofri_pj(p, sizeof(p), "%s.campaign", path);
	if (v && (!json_is_string(v) || !json_string_value(v)[0] || strlen(json_string_value(v)) > OFR_ID_MAX)) {
		ERR(c, p, "'campaign' must be a string of 1 to %d characters", OFR_ID_MAX);
		*ok = false;
	}
	uint32_t sid;
	if (intern(c, json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : rule->id, &sid))
		return false;
	rule->campaign = c->r->strs.s[sid];
	v = json_object_get(jr, "kind");
	ofri_pj(p, sizeof(p), "%s.kind", path);
	const char *k = json_is_string(v) ? json_string_value(v) : "";
	rule->kind = -1;
	for (int i = 0; i <= OFR_EXPLORE; i++)
		if (!strcmp(k, ofr_kind_name(i)))
			rule->kind = i;
	if (rule->kind < 0) {
		ERR(c, v ? p : path, "'kind' must be cross_sell, up_sell, promotion, points_bonus, personal or explore");
		return false;
	}
	return true;
}

/* "stats" as the miner writes them; a number left out stays -1 (not known). */
static bool parse_rule_stats(struct ofri_pctx *c, json_t *jr, const char *path, struct ofri_rule *rule)
{
	char p[160];
	bool ok = true;
	json_t *st = json_object_get(jr, "stats");
	if (!st)
		return true;
	ofri_pj(p, sizeof(p), "%s.stats", path);
	if (!json_is_object(st)) {
		ERR(c, p, "'stats' must be an object {support, confidence, lift, count}");
		return false;
	}
	json_t *cf = json_object_get(st, "confidence"), *su = json_object_get(st, "support"),
	       *li = json_object_get(st, "lift");
	if (cf && (!json_is_number(cf) || json_number_value(cf) < 0 || json_number_value(cf) > 1)) {
		ofri_pj(p, sizeof(p), "%s.stats.confidence", path);
		ERR(c, p, "'confidence' must be a number from 0 to 1");
		ok = false;
	}
	if (li && (!json_is_number(li) || json_number_value(li) < 0)) {
		ofri_pj(p, sizeof(p), "%s.stats.lift", path);
		ERR(c, p, "'lift' must be a number >= 0");
		ok = false;
	}
	rule->confidence = json_is_number(cf) ? json_number_value(cf) : -1;
	rule->support = json_is_number(su) ? json_number_value(su) : -1;
	rule->lift = json_is_number(li) ? json_number_value(li) : -1;
	return ok;
}

/*
 * "priority" (0..1000); without it a mined rule ranks by its confidence and
 * a hand-written one sits at 500 (docs/rules.md). A rule without a
 * confidence gets priority/1000, the ranking's second key. A lift below
 * limits.min_lift only marks the rule: it stays loaded but is never offered
 * (decide.c then says why).
 */
static bool parse_rule_priority(struct ofri_pctx *c, json_t *jr, const char *path, struct ofri_rule *rule)
{
	int64_t prio = -1;
	bool ok = ofri_get_int(c, jr, "priority", path, 0, 1000, &prio);
	if (prio < 0)
		prio = rule->confidence >= 0 ? (int64_t)lround(rule->confidence * 1000) : 500;
	rule->priority = (int)prio;
	if (rule->confidence < 0)
		rule->confidence = rule->priority / 1000.0;
	if (rule->lift >= 0 && rule->lift < c->r->min_lift)
		rule->lift_filtered = true;
	return ok;
}

/*
 * "when": the basket conditions and the card conditions. The card's
 * defaults (-1: no bound) are set even without a "when", or a broken one.
 */
static bool parse_rule_when(struct ofri_pctx *c, json_t *jr, const char *path, struct ofri_rule *rule)
{
	char p[160], bp[176];
	bool ok = true;
	json_t *when = json_object_get(jr, "when");
	ofri_pj(p, sizeof(p), "%s.when", path);
	if (when && !json_is_object(when)) {
		ERR(c, p, "'when' must be an object with 'basket' and/or 'card'");
		ok = false;
		when = NULL;
	}
	if (!when) {
		parse_card(c, NULL, p, &rule->card);
		return ok;
	}
	static const char *const when_keys[] = { "basket", "card", NULL };
	ofri_known_keys(c, when, p, when_keys);
	json_t *b = json_object_get(when, "basket");
	ofri_pj(bp, sizeof(bp), "%s.basket", p);
	if (b && !json_is_object(b)) {
		ERR(c, bp, "'basket' must be an object with all/any/none lists");
		ok = false;
	} else if (b) {
		static const char *const basket_keys[] = { "all", "any", "none", "min_spend_cents",
							   "min_qty", NULL };
		ofri_known_keys(c, b, bp, basket_keys);
		ok &= parse_group(c, b, bp, &rule->basket);
	}
	ofri_pj(bp, sizeof(bp), "%s.card", p);
	ok &= parse_card(c, json_object_get(when, "card"), bp, &rule->card);
	return ok;
}

/*
 * One rule. After the names, every section is checked even when an earlier
 * one failed, so that one pass reports all of a rule's errors.
 */
static bool parse_rule(struct ofri_pctx *c, json_t *jr, size_t idx, json_t *campaigns, struct ofri_rule *rule)
{
	char path[64], p[160];
	json_t *v;
	bool ok = true;
	uint32_t sid;
	ofri_pj(path, sizeof(path), "rules[%zu]", idx);
	rule_defaults(rule, idx);
	if (!json_is_object(jr)) {
		ERR(c, path, "a rule must be an object with id, kind, when and offer");
		return false;
	}
	ofri_known_keys(c, jr, path, rule_keys);
	if (!parse_rule_names(c, jr, path, rule, &ok))
		return false;
	if (!ofri_parse_personal(c, jr, path, rule))
		ok = false;
	v = json_object_get(jr, "text");
	if (json_is_string(v) && !intern(c, json_string_value(v), &sid))
		rule->text = c->r->strs.s[sid];
	ok &= parse_rule_stats(c, jr, path, rule);
	ok &= parse_rule_priority(c, jr, path, rule);
	ok &= parse_rule_when(c, jr, path, rule);
	if (rule->kind == OFR_CROSS_SELL && rule->basket.n_kids == 0 && !rule->card.any)
		WARN(c, path, "cross_sell rule without conditions prints for every sale");
	ofri_pj(p, sizeof(p), "%s.offer", path);
	v = json_object_get(jr, "offer");
	ok &= ofri_parse_offer(c, v, v ? p : path, rule);
	/* limits: campaign defaults first, then the rule's own */
	json_t *camp = campaigns ? json_object_get(campaigns, rule->campaign) : NULL;
	if (camp && json_is_object(camp)) {
		char cp[160];
		ofri_pj(cp, sizeof(cp), "campaigns.%s", rule->campaign);
		ok &= parse_limits(c, camp, cp, rule);
	}
	ok &= parse_limits(c, jr, path, rule);
	return ok;
}

/*
 * "format" and "version": PM_EVERSION for a set newer than this build (the
 * caller checks nothing more: this build cannot tell what a newer set
 * means), PM_EINVAL for a missing or wrong one (the rest is still checked
 * and reported).
 */
static int parse_header(struct ofri_pctx *c, json_t *root)
{
	int rc = PM_OK;
	json_t *v = json_object_get(root, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), "posmark-rules")) {
		ERR(c, v ? "format" : "", "'format' must be \"posmark-rules\"");
		rc = PM_EINVAL;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		ERR(c, v ? "version" : "", "'version' must be a whole number (this build reads %d)",
		    OFR_FORMAT_VERSION);
		rc = PM_EINVAL;
	} else if (json_integer_value(v) > OFR_FORMAT_VERSION) {
		ERR(c, "version", "rule-set version %lld is newer than this build reads (%d)",
		    (long long)json_integer_value(v), OFR_FORMAT_VERSION);
		rc = PM_EVERSION;
	}
	return rc;
}

/* The set's "limits" (3 offers a receipt and 2 repeats unless given); false on error (reported). */
static bool parse_set_limits(struct ofri_pctx *c, json_t *root)
{
	struct ofr_rules *r = c->r;
	bool ok = true;
	r->max_offers = 3;
	r->max_repeats = 2;
	json_t *lim = json_object_get(root, "limits");
	if (!lim)
		return true;
	int64_t m = r->max_offers, mr = r->max_repeats;
	static const char *const lim_keys[] = { "offers_per_receipt", "min_lift", "max_repeats",
						"explore_weight", "explore_novelty", NULL };
	if (!json_is_object(lim)) {
		ERR(c, "limits", "'limits' must be an object");
		return false;
	}
	ofri_known_keys(c, lim, "limits", lim_keys);
	if (!ofri_get_int(c, lim, "offers_per_receipt", "limits", 0, OFR_MAX_OFFERS, &m))
		ok = false;
	r->max_offers = (int)m;
	if (!ofri_get_int(c, lim, "max_repeats", "limits", 0, OFR_MAX_OFFERS, &mr))
		ok = false;
	r->max_repeats = (int)mr;
	json_t *ml = json_object_get(lim, "min_lift");
	if (ml && !json_is_number(ml)) {
		ERR(c, "limits.min_lift", "'min_lift' must be a number (e.g. 1.0)");
		ok = false;
	}
	r->min_lift = json_is_number(ml) ? json_number_value(ml) : 0;
	if (!ofri_parse_explore_limits(c, lim))
		ok = false;
	return ok;
}

/*
 * Keep a parsed rule unless its id is already taken. Only the first
 * personal rule is used (r->personal names one); later ones are kept and
 * warned about. false: the rule was refused (reported).
 */
static bool keep_rule(struct ofri_pctx *c, struct ofri_map *ids, size_t idx)
{
	struct ofr_rules *r = c->r;
	struct ofri_rule *rule = &r->rules[r->n_rules];
	uint32_t prev;
	if (ofri_map_get(ids, ofri_hash_str(rule->id), &prev)) {
		char p[64];
		ofri_pj(p, sizeof(p), "rules[%zu].id", idx);
		char first[64];
		snprintf(first, sizeof(first), "rules[%zu]", r->rules[prev].json_index);
		ERR(c, p, "rule id '%s' is used twice (first on line %d)", rule->id,
		    ofri_line_of(c->text, c->len, first));
		return false;
	}
	ofri_map_put(ids, ofri_hash_str(rule->id), (uint32_t)r->n_rules);
	if (rule->kind == OFR_PERSONAL && !r->personal)
		r->personal = (uint32_t)r->n_rules + 1;
	else if (rule->kind == OFR_PERSONAL)
		WARN(c, "rules", "rule '%s': only the first personal rule ('%s') is used", rule->id,
		     r->rules[r->personal - 1].id);
	r->n_rules++;
	return true;
}

/*
 * The "rules" array into r->rules. A rule with an error is dropped and the
 * rest still parsed, so that one load reports every broken rule; the set
 * is refused then all the same (PM_EINVAL). PM_ENOMEM when out of memory.
 */
static int parse_rules(struct ofri_pctx *c, json_t *rules, json_t *campaigns)
{
	struct ofr_rules *r = c->r;
	int rc = PM_OK;
	if (!json_is_array(rules)) {
		ERR(c, rules ? "rules" : "", "'rules' must be an array of rules");
		return PM_EINVAL;
	}
	if (json_array_size(rules) > r->max_rules) {
		ERR(c, "rules", "the rule set has %zu rules, more than this terminal takes (%zu, config "
		    "offers.max_rules): mine with a higher --min-support or --min-confidence, or raise the limit "
		    "if the memory is there (about 500 bytes a rule)", json_array_size(rules), r->max_rules);
		return PM_EINVAL;
	}
	r->rules = calloc(json_array_size(rules) + 1, sizeof(*r->rules));
	if (!r->rules)
		return PM_ENOMEM;
	struct ofri_map ids;
	if (ofri_map_init(&ids, json_array_size(rules)))
		return PM_ENOMEM;
	size_t i;
	json_t *jr;
	json_array_foreach(rules, i, jr) {
		struct ofri_rule *rule = &r->rules[r->n_rules];
		if (!parse_rule(c, jr, i, campaigns, rule) || !keep_rule(c, &ids, i)) {
			rc = PM_EINVAL;
			ofri_rule_release(rule);
		}
	}
	ofri_map_release(&ids);
	return rc;
}

int ofri_parse(struct ofr_rules *r, const char *text, size_t len, const char *store_id,
	       struct ofr_diags *d)
{
	struct ofri_pctx c = { r, text, len, store_id ? store_id : "", d };
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;
	int rc;
	if (!root) {
		ofri_diag(d, NULL, 0, false, NULL, "%s", je.text);
		d->v[d->n - 1].line = je.line > 0 ? je.line : 1;
		snprintf(d->v[d->n - 1].msg, sizeof(d->v[0].msg), "not valid JSON: %s (column %d)", je.text,
			 je.column);
		return PM_EINVAL;
	}
	if (!json_is_object(root)) {
		ERR(&c, "", "a rule set is a JSON object with \"format\":\"posmark-rules\"");
		rc = PM_EINVAL;
		goto out;
	}
	static const char *const top_keys[] = { "format", "version", "name", "generated_by", "description",
						"limits", "campaigns", "rules", NULL };
	ofri_known_keys(&c, root, "", top_keys);
	rc = parse_header(&c, root);
	if (rc == PM_EVERSION)
		goto out;
	v = json_object_get(root, "name");
	snprintf(r->name, sizeof(r->name), "%s", json_is_string(v) ? json_string_value(v) : "unnamed");
	if (!parse_set_limits(&c, root))
		rc = PM_EINVAL;
	json_t *campaigns = json_object_get(root, "campaigns");
	if (campaigns && !json_is_object(campaigns)) {
		ERR(&c, "campaigns", "'campaigns' must be an object of campaign name -> limits");
		rc = PM_EINVAL;
		campaigns = NULL;
	}
	int rules_rc = parse_rules(&c, json_object_get(root, "rules"), campaigns);
	if (rules_rc != PM_OK)
		rc = rules_rc;
	else if (d->errors && !rc)
		rc = PM_EINVAL;
out:
	json_decref(root);
	return rc;
}

void ofri_rule_release(struct ofri_rule *rule)
{
	cond_release(&rule->basket);
	free(rule->card.bought);
	rule->card.bought = NULL;
	rule->card.n_bought = 0;
}
