/*
 * rules_index.c - ofr_rules_load(): the catalog snapshot, parsing, and the
 * trigger index that lets a decision touch only rules that can fire.
 *
 * Every rule is filed under ONE trigger key where one suffices: a rule whose
 * basket must contain item X (an "all" atom) can only fire when X is in the
 * basket, so it is listed under X alone (items before brands before
 * categories; among several items the one the fewest rules require, so
 * {whole milk, yoghurt} => y is filed under yoghurt, not under the milk
 * that half the rule set mentions). A rule whose basket needs one
 * of several atoms ("any") is listed under each. Rules with no basket
 * trigger (card-only campaigns, spend thresholds) go to the short "always"
 * list. A decision looks up each basket line's item, brand and category,
 * so its cost grows with the basket and the rules that share its items,
 * not with the size of the rule set.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ofri_product *ofri_product_find(const struct ofr_rules *r, uint64_t gtin_key)
{
	uint32_t i;
	return ofri_map_get(&r->product_by_gtin, gtin_key, &i) ? &r->products[i] : NULL;
}

struct cat_load {
	struct ofr_rules *r;
	size_t cap;
	int rc;
};

static int add_product(void *ctx, const struct ofr_product *p)
{
	struct cat_load *cl = ctx;
	struct ofr_rules *r = cl->r;
	uint64_t key = ofri_gtin_key(p->gtin);
	if (!key)
		return 0;   /* not a GTIN-14: cannot be offered */
	if (r->n_products == cl->cap) {
		size_t cap = cl->cap ? cl->cap * 2 : 256;
		struct ofri_product *v = realloc(r->products, cap * sizeof(*v));
		if (!v)
			return cl->rc = PM_ENOMEM;
		r->products = v;
		cl->cap = cap;
	}
	struct ofri_product *x = &r->products[r->n_products];
	memset(x, 0, sizeof(*x));
	memcpy(x->gtin, p->gtin, OFR_GTIN_LEN);
	snprintf(x->name, sizeof(x->name), "%s", p->name ? p->name : "");
	x->price_cents = p->price_cents;
	if ((cl->rc = ofri_strtab_add(&r->strs, p->category ? p->category : "", &x->category)) ||
	    (cl->rc = ofri_strtab_add(&r->strs, p->brand ? p->brand : "", &x->brand)))
		return cl->rc;
	/* "Alpenhof Organic Whole milk 1L" -> "Whole milk 1L": the same product line of another brand */
	size_t bl = p->brand ? strlen(p->brand) : 0;
	const char *base = x->name;
	if (bl && !strncmp(x->name, p->brand, bl) && x->name[bl] == ' ')
		base = x->name + bl + 1;
	snprintf(x->base_name, sizeof(x->base_name), "%s", base);
	if ((cl->rc = ofri_map_put(&r->product_by_gtin, key, (uint32_t)r->n_products)))
		return cl->rc;
	r->n_products++;
	return 0;
}

struct pair {
	uint64_t key;
	uint32_t rule;
	uint32_t rank;             /* sort key within a key: rank_pos of the rule */
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/*
 * The ranking order (decide.c walks candidates in it): priority, then
 * confidence, then support, then file order. Never lift (PRODUCT.md).
 */
/* qsort has no context argument in C11: per thread, so loads on two threads do not race */
static _Thread_local const struct ofr_rules *rank_rules;
static int cmp_rank(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct ofri_rule *x = &rank_rules->rules[i], *y = &rank_rules->rules[j];
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	if (x->support != y->support)
		return x->support > y->support ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int rank_all(struct ofr_rules *r)
{
	uint32_t *order = calloc(r->n_rules + 1, sizeof(*order));
	r->rank_pos = calloc(r->n_rules + 1, sizeof(*r->rank_pos));
	if (!order || !r->rank_pos) {
		free(order);
		return PM_ENOMEM;
	}
	for (size_t i = 0; i < r->n_rules; i++)
		order[i] = (uint32_t)i;
	rank_rules = r;
	if (r->n_rules)
		qsort(order, r->n_rules, sizeof(*order), cmp_rank);
	for (size_t i = 0; i < r->n_rules; i++)
		r->rank_pos[order[i]] = (uint32_t)i;
	free(order);
	return PM_OK;
}

static int cmp_by_rank_pos(const void *a, const void *b)
{
	uint32_t x = rank_rules->rank_pos[*(const uint32_t *)a], y = rank_rules->rank_pos[*(const uint32_t *)b];
	return x < y ? -1 : x > y;
}

static int postings_build(struct ofri_postings *pl, struct pair *v, size_t n)
{
	size_t slots = 0;
	memset(pl, 0, sizeof(*pl));
	if (n)
		qsort(v, n, sizeof(*v), cmp_pair);
	for (size_t i = 0; i < n; i++)
		slots += i == 0 || v[i].key != v[i - 1].key;
	int rc = ofri_map_init(&pl->map, slots);
	if (rc)
		return rc;
	pl->start = calloc(slots + 1, sizeof(*pl->start));
	pl->count = calloc(slots + 1, sizeof(*pl->count));
	pl->rules = calloc(n + 1, sizeof(*pl->rules));
	if (!pl->start || !pl->count || !pl->rules)
		return PM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || v[i].key != v[i - 1].key) {
			pl->start[pl->n_slots] = (uint32_t)i;
			if ((rc = ofri_map_put(&pl->map, v[i].key, (uint32_t)pl->n_slots)))
				return rc;
			pl->n_slots++;
		}
		pl->count[pl->n_slots - 1]++;
		pl->rules[i] = v[i].rule;
	}
	return PM_OK;
}

static void postings_release(struct ofri_postings *pl)
{
	ofri_map_release(&pl->map);
	free(pl->start);
	free(pl->count);
	free(pl->rules);
	memset(pl, 0, sizeof(*pl));
}

struct pairs {
	struct pair *v;
	size_t n, cap;
};

static _Thread_local const uint32_t *push_rank;   /* rank_pos of the rule set being indexed (per thread) */
static int push(struct pairs *p, uint64_t key, uint32_t rule)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		struct pair *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct pair){ key, rule, push_rank ? push_rank[rule] : rule };
	return PM_OK;
}

static bool is_trigger(const struct ofri_cond *c)
{
	return c->type == OFRI_ITEM || c->type == OFRI_CATEGORY || c->type == OFRI_BRAND;
}

static int file_under(struct pairs p[3], const struct ofri_cond *c, uint32_t rule)
{
	if (c->type == OFRI_ITEM)
		return push(&p[0], c->key, rule);
	return push(&p[c->type == OFRI_CATEGORY ? 1 : 2], (uint64_t)c->id + 1, rule);
}

static uint64_t trig_key(const struct ofri_cond *c)
{
	return c->type == OFRI_ITEM ? c->key : ((uint64_t)c->type << 40) + c->id + 1;
}

/* How many rules require each trigger atom ("all"): the rarer, the better a trigger. */
static int count_triggers(const struct ofr_rules *r, struct ofri_map *uses)
{
	int rc = ofri_map_init(uses, r->n_rules);
	for (size_t i = 0; i < r->n_rules && !rc; i++)
		for (size_t j = 0; j < r->rules[i].basket.n_kids && !rc; j++) {
			const struct ofri_cond *k = &r->rules[i].basket.kids[j];
			uint32_t n = 0;
			if (!is_trigger(k))
				continue;
			ofri_map_get(uses, trig_key(k), &n);
			rc = ofri_map_put(uses, trig_key(k), n + 1);
		}
	return rc;
}

/* Choose the rule's trigger keys; *indexed false = no basket trigger (always list). */
static int index_rule(struct pairs p[3], const struct ofri_rule *rule, uint32_t idx,
		      const struct ofri_map *uses, bool *indexed)
{
	const struct ofri_cond *best = NULL;
	uint32_t best_uses = 0;
	static const int rank[] = { [OFRI_ITEM] = 3, [OFRI_BRAND] = 2, [OFRI_CATEGORY] = 1 };
	*indexed = false;
	/* items before brands before categories; among equals the atom fewest rules share */
	for (size_t i = 0; i < rule->basket.n_kids; i++) {
		const struct ofri_cond *k = &rule->basket.kids[i];
		uint32_t u = 0;
		if (!is_trigger(k))
			continue;
		ofri_map_get(uses, trig_key(k), &u);
		if (!best || rank[k->type] > rank[best->type] ||
		    (rank[k->type] == rank[best->type] && u < best_uses)) {
			best = k;
			best_uses = u;
		}
	}
	if (best) {
		*indexed = true;
		return file_under(p, best, idx);
	}
	for (size_t i = 0; i < rule->basket.n_kids; i++) {
		const struct ofri_cond *k = &rule->basket.kids[i];
		bool all_atoms = k->type == OFRI_ANY && k->n_kids > 0;
		for (size_t j = 0; all_atoms && j < k->n_kids; j++)
			all_atoms = is_trigger(&k->kids[j]);
		if (all_atoms) {
			for (size_t j = 0; j < k->n_kids; j++) {
				int rc = file_under(p, &k->kids[j], idx);
				if (rc)
					return rc;
			}
			*indexed = true;
			return PM_OK;
		}
	}
	/* An up-sell of a category needs an item of that category to upgrade from. */
	if (rule->kind == OFR_UP_SELL && rule->target_category) {
		*indexed = true;
		return push(&p[1], (uint64_t)rule->target_category + 1, idx);
	}
	return PM_OK;
}

static int build_index(struct ofr_rules *r)
{
	struct pairs p[3], px[3];   /* px: explore rules, filed apart when their score is scaled per card */
	struct ofri_map uses;
	int rc = PM_OK;
	memset(p, 0, sizeof(p));
	memset(px, 0, sizeof(px));
	memset(&uses, 0, sizeof(uses));
	r->always = calloc(r->n_rules + 1, sizeof(*r->always));
	r->seen = calloc(r->n_rules + 1, sizeof(*r->seen));
	if (!r->always || !r->seen)
		return PM_ENOMEM;
	if (r->explore_weight > 0 && !(r->always_x = calloc(r->n_rules + 1, sizeof(*r->always_x))))
		return PM_ENOMEM;
	if ((rc = ofri_map_init(&r->campaign_tags, 64)) || (rc = count_triggers(r, &uses)) ||
	    (rc = rank_all(r)))
		goto out;
	push_rank = r->rank_pos;
	for (size_t i = 0; i < r->n_rules; i++) {
		struct ofri_rule *rule = &r->rules[i];
		uint32_t tag = ofr_campaign_tag(rule->campaign), prev;
		if (!ofri_map_get(&r->campaign_tags, tag + 1, &prev) &&
		    (rc = ofri_map_put(&r->campaign_tags, tag + 1, (uint32_t)i)))
			goto out;
		/* Rules that can never fire here are not indexed (explain --all shows why). */
		if (rule->other_store || rule->target_unknown || rule->lift_filtered)
			continue;
		if (rule->kind == OFR_PERSONAL)
			continue;   /* its candidates come from the card's profile (decide.c) */
		bool apart = r->explore_weight > 0 && rule->kind == OFR_EXPLORE;
		if ((rc = index_rule(apart ? px : p, rule, (uint32_t)i, &uses, &rule->indexed)))
			goto out;
		if (!rule->indexed && apart)
			r->always_x[r->n_always_x++] = (uint32_t)i;
		else if (!rule->indexed)
			r->always[r->n_always++] = (uint32_t)i;
	}
	rank_rules = r;
	if (r->n_always)
		qsort(r->always, r->n_always, sizeof(*r->always), cmp_by_rank_pos);
	if (r->n_always_x)
		qsort(r->always_x, r->n_always_x, sizeof(*r->always_x), cmp_by_rank_pos);
	if ((rc = postings_build(&r->by_item, p[0].v, p[0].n)) ||
	    (rc = postings_build(&r->by_category, p[1].v, p[1].n)) ||
	    (rc = postings_build(&r->by_brand, p[2].v, p[2].n)) ||
	    (rc = postings_build(&r->x_item, px[0].v, px[0].n)) ||
	    (rc = postings_build(&r->x_category, px[1].v, px[1].n)) ||
	    (rc = postings_build(&r->x_brand, px[2].v, px[2].n)))
		goto out;
out:
	push_rank = NULL;
	for (int i = 0; i < 3; i++) {
		free(p[i].v);
		free(px[i].v);
	}
	ofri_map_release(&uses);
	return rc;
}

static int index_products(struct ofr_rules *r)
{
	struct pairs p = { 0 };
	push_rank = NULL;
	int rc = PM_OK;
	for (size_t i = 0; i < r->n_products && !rc; i++)
		if (r->products[i].category)
			rc = push(&p, (uint64_t)r->products[i].category + 1, (uint32_t)i);
	if (!rc)
		rc = postings_build(&r->products_by_cat, p.v, p.n);
	free(p.v);
	return rc;
}

int ofr_rules_load(const char *text, size_t len, const struct ofr_catalog_source *catalog,
		   const char *store_id, struct ofr_rules **out, struct ofr_diags *diags)
{
	return ofr_rules_load_max(text, len, catalog, store_id, 0, out, diags);
}

int ofr_rules_load_max(const char *text, size_t len, const struct ofr_catalog_source *catalog,
		       const char *store_id, size_t max_rules, struct ofr_rules **out, struct ofr_diags *diags)
{
	struct ofr_rules *r;
	int rc;
	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return PM_ENOMEM;
	r->max_rules = max_rules ? max_rules : OFR_MAX_RULES_DEFAULT;
	if ((rc = ofri_strtab_init(&r->strs)) || (rc = ofri_map_init(&r->product_by_gtin, 1024)))
		goto fail;
	if (catalog && catalog->each) {
		struct cat_load cl = { r, 0, 0 };
		rc = catalog->each(catalog->ctx, add_product, &cl);
		if (cl.rc || rc) {
			rc = cl.rc ? cl.rc : rc;
			goto fail;
		}
		r->have_catalog = true;
	}
	if ((rc = index_products(r)) || (rc = ofri_parse(r, text, len, store_id, diags)))
		goto fail;
	if ((rc = build_index(r)))
		goto fail;
	*out = r;
	return PM_OK;
fail:
	ofr_rules_free(r);
	return rc;
}

void ofr_rules_free(struct ofr_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_rules; i++)
		ofri_rule_release(&r->rules[i]);
	free(r->rules);
	ofri_strtab_release(&r->strs);
	ofri_arena_release(&r->ids);
	free(r->products);
	ofri_map_release(&r->product_by_gtin);
	postings_release(&r->by_item);
	postings_release(&r->by_category);
	postings_release(&r->by_brand);
	postings_release(&r->products_by_cat);
	postings_release(&r->x_item);
	postings_release(&r->x_category);
	postings_release(&r->x_brand);
	free(r->always_x);
	free(r->always);
	free(r->seen);
	free(r->rank_pos);
	free(r->scratch_basket);
	free(r->scratch_heap);
	free(r->fired);
	ofri_map_release(&r->campaign_tags);
	ofri_map_release(&r->prior_at);
	free(r->prior);
	free(r);
}

double ofri_prior(const struct ofr_rules *r, uint64_t gtin_key)
{
	uint32_t i;
	return r->n_prior && ofri_map_get(&r->prior_at, gtin_key, &i) ? r->prior[i] : 0;
}

size_t ofr_rules_count(const struct ofr_rules *r)
{
	return r ? r->n_rules : 0;
}

const char *ofr_rules_name(const struct ofr_rules *r)
{
	return r->name;
}

const char *ofr_rules_campaign_by_tag(const struct ofr_rules *r, uint32_t tag)
{
	uint32_t i;
	return r && ofri_map_get(&r->campaign_tags, (uint64_t)tag + 1, &i) ? r->rules[i].campaign : NULL;
}
