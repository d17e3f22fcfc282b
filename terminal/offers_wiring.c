/*
 * offers_wiring.c - connects offers/ to loyalty/: the catalog and history
 * sources, the card snapshot, the coupon key, the installed rule set
 * (DATA/rules.json, written by 'posmark rules load' or hostsync), and the
 * caps ledger: loaded from the log's caps state, then the events after it
 * (wire's offer payload codec, docs/rules.md "Events").
 */
#include "terminal/wiring.h"
#include "common/pm_err.h"
#include "common/pm_buf.h"
#include "common/pm_file.h"
#include "common/pm_log.h"
#include "wire/wire.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sources ---- */
struct cat_ctx {
	ofr_product_cb cb;
	void *cb_ctx;
};

static int cat_one(void *ctx, const struct loy_product *p)
{
	struct cat_ctx *c = ctx;
	struct ofr_product op = { p->gtin, p->name, p->category, p->brand, p->price_cents };
	return c->cb(c->cb_ctx, &op);
}

static int cat_each(void *ctx, ofr_product_cb cb, void *cb_ctx)
{
	struct cat_ctx c = { cb, cb_ctx };
	return loy_catalog_each(ctx, cat_one, &c);
}

void term_offers_catalog(struct loy_db *db, struct ofr_catalog_source *out)
{
	out->ctx = db;
	out->each = cat_each;
}

struct hist_ctx {
	ofr_sale_cb cb;
	void *cb_ctx;
	struct ofr_line *lines;
	size_t cap;
};

static int hist_one(void *ctx, const struct loy_sale *s)
{
	struct hist_ctx *h = ctx;
	if (s->n_items > h->cap) {
		struct ofr_line *v = realloc(h->lines, s->n_items * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		h->lines = v;
		h->cap = s->n_items;
	}
	for (uint32_t i = 0; i < s->n_items; i++) {
		memcpy(h->lines[i].gtin, s->items[i].gtin, sizeof(h->lines[i].gtin));
		h->lines[i].qty = s->items[i].qty;
		h->lines[i].line_cents = s->items[i].line_cents;
	}
	struct ofr_sale_view v = { s->time_us, s->total_cents, s->n_items, h->lines };
	return h->cb(h->cb_ctx, &v);
}

/*
 * The card's sales here, net of returns, and first what HQ says it buys most
 * across the chain (its account's `bought`), as one sale at HQ's last visit:
 * bought/not_bought conditions see the chain's purchases (docs/accounts.md).
 */
static int hist_each(void *ctx, const char *card, ofr_sale_cb cb, void *cb_ctx)
{
	struct hist_ctx h = { cb, cb_ctx, NULL, 0 };
	char bought[32][LOY_GTIN_LEN + 1];
	uint32_t nb = 0;
	struct loy_card c;
	int rc = PM_OK;
	if (loy_card_bought(ctx, card, bought, &nb) == PM_OK && nb && loy_card_get(ctx, card, &c) == PM_OK) {
		struct ofr_line lines[32];
		for (uint32_t i = 0; i < nb; i++) {
			memcpy(lines[i].gtin, bought[i], sizeof(lines[i].gtin));
			lines[i].qty = 1;
			lines[i].line_cents = 0;
		}
		struct ofr_sale_view v = { c.last_visit_us ? c.last_visit_us : c.chain_as_of_us, 0, nb, lines };
		rc = cb(cb_ctx, &v);
	}
	if (rc == PM_OK)
		rc = loy_card_history_net(ctx, card, hist_one, &h);
	free(h.lines);
	return rc;
}

void term_offers_history(struct loy_db *db, struct ofr_history_source *out)
{
	out->ctx = db;
	out->each_sale = hist_each;
}

void term_offers_card(struct loy_db *db, const char *number, struct ofr_card *out)
{
	struct loy_card c;
	memset(out, 0, sizeof(*out));
	if (!number || !number[0])
		return;
	snprintf(out->number, sizeof(out->number), "%s", number);
	if (loy_card_get(db, number, &c) != PM_OK)
		return;
	out->known = true;
	out->consent = c.consent == LOY_CONSENT_YES ? OFR_CONSENT_YES
		     : c.consent == LOY_CONSENT_NO ? OFR_CONSENT_NO : OFR_CONSENT_UNKNOWN;
	out->tier = c.tier;
	out->points = c.points;
	out->visits = c.visits;
	out->spend_cents = c.spend_cents;
	out->last_visit_us = c.last_visit_us;
}

int term_offers_consent(struct loy_db *db, const char *number)
{
	struct loy_card c;
	if (!number || !number[0] || loy_card_get(db, number, &c) != PM_OK)
		return OFR_CONSENT_UNKNOWN;
	return c.consent == LOY_CONSENT_YES ? OFR_CONSENT_YES
	     : c.consent == LOY_CONSENT_NO ? OFR_CONSENT_NO : OFR_CONSENT_UNKNOWN;
}

/* ---- the coupon key: config, or DATA/coupon.key created on first use ---- */
static int load_key(const struct term_config *cfg, struct ofr_coupon_key *key, char *err, size_t errlen)
{
	char path[1100], hex[65];
	char *text = NULL;
	size_t len = 0;
	if (cfg->offers_coupon_key[0]) {
		ofr_coupon_key_from_text(cfg->offers_coupon_key, key);
		return PM_OK;
	}
	snprintf(path, sizeof(path), "%s/coupon.key", cfg->data_dir);
	int rc = pm_file_read(path, 4096, &text, &len);
	if (rc == PM_ENOENT) {
		if (sodium_init() < 0)
			return PM_EIO;
		randombytes_buf(key->k, sizeof(key->k));
		sodium_bin2hex(hex, sizeof(hex), key->k, sizeof(key->k));
		if ((rc = pm_file_replace(path, hex, 64, 0600))) {
			snprintf(err, errlen, "cannot create coupon key '%s': %s; check that the data "
				 "directory is writable", path, strerror(errno));
			return rc;
		}
		/* Read back what is on disk: two first starts at once agree on one key. */
		rc = pm_file_read(path, 4096, &text, &len);
	}
	if (rc) {
		snprintf(err, errlen, "cannot read coupon key '%s': %s", path, pm_strerror(rc));
		return rc;
	}
	if (len < 64) {
		snprintf(err, errlen, "coupon key file '%s' is damaged (needs 64 hex digits); restore it "
			 "from backup (coupons printed with the old key stop scanning without it)", path);
		free(text);
		return PM_ECORRUPT;
	}
	memcpy(hex, text, 64);
	hex[64] = '\0';
	free(text);
	ofr_coupon_key_from_text(hex, key);
	return PM_OK;
}

/* ---- the caps ledger: the log's caps state, then the events after it ---- */
static int load_cap(void *ctx, const struct loy_cap *cap)
{
	struct ofr_ledger *l = ctx;
	if (cap->rule)   /* (campaign, rule, card): its last issue, counting one */
		return ofr_ledger_record(l, cap->campaign, cap->rule, cap->card, cap->last_us);
	/* The campaign count, after its (campaign, rule, card) entries (the order
	 * loy_caps_load promises): the issues those did not count yet. */
	for (uint64_t n = ofr_ledger_issued(l, cap->campaign); n < cap->issued; n++) {
		int rc = ofr_ledger_record(l, cap->campaign, "", "", 0);
		if (rc)
			return rc;
	}
	return PM_OK;
}

struct replayed_issue {
	struct wire_offer_event e;
	int64_t time_us;
};

struct replay {
	struct ofr_ledger *ledger;
	struct pm_buf issues;              /* decoded OFFER_ISSUED events (struct replayed_issue) */
	uint64_t last_seq, read;
};

static int replay_one(void *ctx, const struct loy_event *ev)
{
	struct replay *r = ctx;
	struct wire_offer_event e;
	char err[160];
	r->read++;
	r->last_seq = ev->seq;
	if (ev->type != LOY_EV_OFFER_ISSUED)
		return 0;
	if (wire_offer_decode(ev->payload, ev->payload_len, &e, err, sizeof(err))) {
		pm_warn("offer event %llu is not readable (%s): not counted in the caps",
			(unsigned long long)ev->seq, err);
		return 0;
	}
	struct replayed_issue issue = { e, ev->time_us };
	if (pm_buf_add(&r->issues, &issue, sizeof(issue)))
		return PM_ENOMEM;
	return ofr_ledger_record(r->ledger, e.campaign, e.rule, e.card, ev->time_us);
}

/* Store what the replay read, so the next start-up starts after it. */
static int catch_up(struct loy_db *db, uint64_t from, const struct replay *r)
{
	const struct replayed_issue *issues = (const void *)r->issues.data;
	size_t n = r->issues.len / sizeof(*issues);
	struct loy_cap *caps = calloc(n ? n : 1, sizeof(*caps));
	if (!caps)
		return PM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		caps[i].campaign = issues[i].e.campaign;
		caps[i].rule = issues[i].e.rule;
		caps[i].card = issues[i].e.card;
		caps[i].last_us = issues[i].time_us;
	}
	int rc = loy_caps_catch_up(db, from, r->last_seq, caps, n, NULL);
	free(caps);
	return rc;
}

static int load_ledger(struct loy_db *db, struct term_offers *to)
{
	uint64_t caps_seq = 0;
	struct replay r = { .ledger = to->ledger };
	int rc = loy_caps_load(db, load_cap, to->ledger, &caps_seq);
	if (rc == PM_OK) {
		r.last_seq = caps_seq;
		rc = loy_events_after(db, caps_seq, 0, replay_one, &r);
	}
	to->replayed = r.read;
	if (rc == PM_OK && r.last_seq > caps_seq && (rc = catch_up(db, caps_seq, &r)))
		pm_warn("cannot store the offer caps state: %s (the next start replays again)", pm_strerror(rc));
	pm_buf_free(&r.issues);
	return rc;
}

void term_offers_lock(struct term_offers *to)
{
	if (to->lock)
		pthread_mutex_lock(to->lock);
}

void term_offers_unlock(struct term_offers *to)
{
	if (to->lock)
		pthread_mutex_unlock(to->lock);
}

int term_offers_open(const struct term_config *cfg, struct loy_db *db, struct term_offers *to,
		     char *err, size_t errlen)
{
	char path[1100];
	int rc;
	memset(to, 0, sizeof(*to));
	err[0] = '\0';
	term_rules_set_max((size_t)cfg->offers_max_rules);
	snprintf(to->prefix, sizeof(to->prefix), "%s", cfg->scan.coupon_prefix);
	pthread_mutex_t *lock = malloc(sizeof(*lock));
	if (!lock)
		return PM_ENOMEM;
	pthread_mutex_init(lock, NULL);
	to->lock = lock;
	if ((rc = load_key(cfg, &to->key, err, errlen)))
		return rc;
	if ((rc = ofr_ledger_new(&to->ledger)))
		return rc;
	if ((rc = load_ledger(db, to)))
		pm_warn("cannot load the offer caps: %s (caps start from zero)", pm_strerror(rc));
	if (!cfg->offers_enabled)
		return PM_OK;
	snprintf(path, sizeof(path), "%s/rules.json", cfg->data_dir);
	return term_rules_read(path, db, cfg->store_id, &to->rules, err, errlen);
}

int term_rules_read(const char *path, struct loy_db *db, const char *store_id, struct ofr_rules **out,
		    char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = pm_file_read(path, 0, &text, &len);
	if (rc == PM_ENOENT)
		return PM_OK;   /* no rule set installed: no offers */
	if (rc) {
		snprintf(err, errlen, "cannot read installed rule set '%s': %s; no offers are printed", path,
			 pm_strerror(rc));
		return rc;
	}
	rc = term_rules_compile(text, len, path, db, store_id, out, err, errlen);
	free(text);
	return rc;
}

static size_t max_rules;   /* config offers.max_rules (term_rules_set_max); 0 = the engine's default */

void term_rules_set_max(size_t n)
{
	max_rules = n;
}

size_t term_rules_max(void)
{
	return max_rules;
}

int term_rules_compile(const char *text, size_t len, const char *what, struct loy_db *db,
		       const char *store_id, struct ofr_rules **out, char *err, size_t errlen)
{
	struct ofr_catalog_source cat;
	struct ofr_diags d = { 0 };
	*out = NULL;
	if (db)
		term_offers_catalog(db, &cat);
	int rc = ofr_rules_load_max(text, len, db ? &cat : NULL, store_id, max_rules, out, &d);
	if (rc) {
		snprintf(err, errlen, "rule set '%s' is not valid (%zu errors%s%s): no offers "
			 "are printed", what, d.errors, d.n ? "; first: " : "", d.n ? d.v[0].msg : "");
	}
	ofr_diags_release(&d);
	return rc;
}

void term_offers_close(struct term_offers *to)
{
	ofr_rules_free(to->rules);
	ofr_ledger_free(to->ledger);
	if (to->lock) {
		pthread_mutex_destroy(to->lock);
		free(to->lock);
	}
	memset(to, 0, sizeof(*to));
}

/* Install a rule file atomically and durably (pm_file_replace). */
int term_rules_install(const char *data_dir, const char *text, size_t len, char *err, size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/rules.json", data_dir);
	int rc = pm_file_replace(path, text, len, 0644);
	if (rc)
		snprintf(err, errlen, "cannot install '%s': %s (%s); check free space and permissions of "
			 "the data directory", path, strerror(errno), pm_errname(rc));
	return rc;
}
