/*
 * rules_parse_offer.c - a rule's "offer" object (docs/rules.md, "offer"):
 * its benefit (percent_off, amount_off_cents, points_multiplier, points)
 * and what it is for (item, category, basket, up_sell's upgrade/brand),
 * checked against the rule's kind. Split from rules_parse.c, whose parse
 * context and helpers it uses; the checks run in the order they always
 * did, so a broken offer gets the same first error.
 */
#include "offers/ofr_int.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define ERR(c, path, ...) ofri_diag((c)->d, (c)->text, (c)->len, false, path, __VA_ARGS__)
#define WARN(c, path, ...) ofri_diag((c)->d, (c)->text, (c)->len, true, path, __VA_ARGS__)

/* The integer benefits as given (0 = absent); points_multiplier goes straight into the rule. */
struct offer_amounts {
	int64_t pct, amt, pts;
};

static const char *const offer_keys[] = { "item", "category", "basket", "upgrade", "brand",
					  "percent_off", "amount_off_cents", "points_multiplier",
					  "points", NULL };

/*
 * The benefit: exactly one of the four. A points_multiplier is stored now
 * (benefit and value, x100) because the kind checks below look at it.
 */
static bool parse_offer_benefit(struct ofri_pctx *c, json_t *o, const char *path, struct ofri_rule *rule,
				struct offer_amounts *a)
{
	json_t *v;
	char p[160];
	int given;
	if (!ofri_get_int(c, o, "percent_off", path, 1, 99, &a->pct) ||
	    !ofri_get_int(c, o, "amount_off_cents", path, 1, 9999, &a->amt) ||
	    !ofri_get_int(c, o, "points", path, 1, 9999, &a->pts))
		return false;
	given = (a->pct > 0) + (a->amt > 0) + (a->pts > 0);
	if ((v = json_object_get(o, "points_multiplier"))) {
		ofri_pj(p, sizeof(p), "%s.points_multiplier", path);
		double m = json_number_value(v);
		if (!json_is_number(v) || m <= 1.0 || m > 99.0) {
			ERR(c, p, "'points_multiplier' must be a number above 1 and at most 99 (e.g. 2 for double points)");
			return false;
		}
		rule->benefit = OFR_POINTS_MULT;
		rule->value = (int32_t)lround(m * 100);
		given++;
	}
	if (given != 1) {
		ERR(c, path, "give exactly one of percent_off, amount_off_cents, points_multiplier, points");
		return false;
	}
	return true;
}

/* A personal offer names no target: the item comes from each card's history at decision time. */
static bool parse_personal_offer(struct ofri_pctx *c, json_t *o, const char *path, struct ofri_rule *rule,
				 const struct offer_amounts *a)
{
	if (json_object_get(o, "item") || json_object_get(o, "category") || a->pts ||
	    json_object_get(o, "basket")) {
		ERR(c, path, "a personal offer takes its item from the card's history: give only "
		    "percent_off, amount_off_cents or points_multiplier");
		return false;
	}
	rule->benefit = a->pct ? OFR_PERCENT_ITEM : a->amt ? OFR_AMOUNT_ITEM : OFR_POINTS_MULT;
	if (rule->benefit != OFR_POINTS_MULT)
		rule->value = (int32_t)(a->pct ? a->pct : a->amt);
	return true;
}

/*
 * The offered item and/or category. An item missing from this store's
 * catalog only disables the rule here (a warning): the same set is sent to
 * every store, and stores stock different items.
 */
static bool parse_offer_target(struct ofri_pctx *c, json_t *item, json_t *cat, const char *path,
			       struct ofri_rule *rule)
{
	char p[160];
	if (item) {
		ofri_pj(p, sizeof(p), "%s.item", path);
		if (!json_is_string(item) || !ofri_gtin14(json_string_value(item), rule->target_gtin)) {
			ERR(c, p, "'item' must be a GTIN (8, 12, 13 or 14 digits with a valid check digit)");
			return false;
		}
		rule->target_key = ofri_gtin_key(rule->target_gtin);
		if (c->r->have_catalog && !ofri_product_find(c->r, rule->target_key)) {
			WARN(c, p, "offered item %s is not in the catalog: this rule is disabled here",
			     rule->target_gtin);
			rule->target_unknown = true;
		}
	}
	if (cat) {
		ofri_pj(p, sizeof(p), "%s.category", path);
		if (!json_is_string(cat) || !json_string_value(cat)[0]) {
			ERR(c, p, "'category' must be a non-empty string");
			return false;
		}
		ofri_strtab_add(&c->r->strs, json_string_value(cat), &rule->target_category);
	}
	return true;
}

/*
 * up_sell: "upgrade" says how the better product is picked from the
 * catalog ("price", the default, or "brand", optionally a given "brand"),
 * so an item is refused, and only a discount makes sense.
 */
static bool parse_upsell_offer(struct ofri_pctx *c, json_t *o, bool has_item, const char *path,
			       struct ofri_rule *rule, const struct offer_amounts *a)
{
	char p[160];
	json_t *up = json_object_get(o, "upgrade"), *br = json_object_get(o, "brand");
	const char *u = json_is_string(up) ? json_string_value(up) : "price";
	if (up && !json_is_string(up))
		u = "";
	rule->upsell = !strcmp(u, "price") ? 1 : !strcmp(u, "brand") ? 2 : 0;
	if (!rule->upsell) {
		ofri_pj(p, sizeof(p), "%s.upgrade", path);
		ERR(c, p, "'upgrade' must be \"price\" or \"brand\"");
		return false;
	}
	if (br && json_is_string(br))
		ofri_strtab_add(&c->r->strs, json_string_value(br), &rule->upsell_brand);
	if (has_item) {
		ERR(c, path, "an up_sell offer picks its product from the catalog: drop 'item'");
		return false;
	}
	if (a->pts || rule->benefit == OFR_POINTS_MULT) {
		ERR(c, path, "an up_sell offer takes percent_off or amount_off_cents");
		return false;
	}
	rule->benefit = a->pct ? OFR_PERCENT_ITEM : OFR_AMOUNT_ITEM;
	rule->value = (int32_t)(a->pct ? a->pct : a->amt);
	return true;
}

/*
 * Every other kind: flat points need no target; a multiplier needs the
 * item it multiplies; a discount is on an item, a category (percent only)
 * or the basket (amount only); cross_sell and explore sell an item.
 */
static bool pick_offer_benefit(struct ofri_pctx *c, json_t *o, bool has_item, bool has_cat,
			       const char *path, struct ofri_rule *rule, const struct offer_amounts *a)
{
	if (a->pts) {
		rule->benefit = OFR_POINTS_BONUS_FLAT;
		rule->value = (int32_t)a->pts;
		return true;
	}
	if (rule->benefit == OFR_POINTS_MULT) {
		if (!has_item) {
			ERR(c, path, "'points_multiplier' needs the 'item' it applies to");
			return false;
		}
		return true;
	}
	if (has_item) {
		rule->benefit = a->pct ? OFR_PERCENT_ITEM : OFR_AMOUNT_ITEM;
		rule->value = (int32_t)(a->pct ? a->pct : a->amt);
	} else if (has_cat && a->pct) {
		rule->benefit = OFR_PERCENT_CATEGORY;
		rule->value = (int32_t)a->pct;
	} else if (!has_cat && json_is_true(json_object_get(o, "basket")) && a->amt) {
		rule->benefit = OFR_AMOUNT_BASKET;
		rule->value = (int32_t)a->amt;
	} else {
		ERR(c, path, "say what the offer is for: 'item' (with any benefit), 'category' with "
		    "percent_off, or \"basket\":true with amount_off_cents");
		return false;
	}
	if ((rule->kind == OFR_CROSS_SELL || rule->kind == OFR_EXPLORE) && !has_item) {
		ERR(c, path, "a %s offer needs the 'item' it sells", ofr_kind_name(rule->kind));
		return false;
	}
	return true;
}

bool ofri_parse_offer(struct ofri_pctx *c, json_t *o, const char *path, struct ofri_rule *rule)
{
	struct offer_amounts a = { 0, 0, 0 };
	if (!json_is_object(o)) {
		ERR(c, path, "'offer' is required: an object such as {\"item\":\"GTIN\",\"percent_off\":10}");
		return false;
	}
	ofri_known_keys(c, o, path, offer_keys);
	if (!parse_offer_benefit(c, o, path, rule, &a))
		return false;
	if (rule->kind == OFR_PERSONAL)
		return parse_personal_offer(c, o, path, rule, &a);
	json_t *item = json_object_get(o, "item"), *cat = json_object_get(o, "category");
	if (!parse_offer_target(c, item, cat, path, rule))
		return false;
	if (rule->kind == OFR_UP_SELL)
		return parse_upsell_offer(c, o, item != NULL, path, rule, &a);
	return pick_offer_benefit(c, o, item != NULL, cat != NULL, path, rule, &a);
}
