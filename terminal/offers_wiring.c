/*
 * offers_wiring.c - connects offers/ to loyalty/: the catalog and history
 * sources, the card snapshot, the coupon key, the installed rule set
 * (DATA/rules.json, written by 'posmark rules load' or hostsync), the issue
 * ledger replayed from the event outbox, and the event payloads (v1 JSON,
 * docs/rules.md "Events").
 */
#include "terminal/term.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int hist_each(void *ctx, const char *card, ofr_sale_cb cb, void *cb_ctx)
{
	struct hist_ctx h = { cb, cb_ctx, NULL, 0 };
	int rc = loy_card_history(ctx, card, hist_one, &h);
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

/* ---- the coupon key: config, or DATA/coupon.key created on first use ---- */
static int load_key(const struct term_config *cfg, struct ofr_coupon_key *key, char *err, size_t errlen)
{
	char path[1100], hex[65];
	if (cfg->offers_coupon_key[0]) {
		ofr_coupon_key_from_text(cfg->offers_coupon_key, key);
		return PM_OK;
	}
	snprintf(path, sizeof(path), "%s/coupon.key", cfg->data_dir);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(hex, 1, 64, f);
		fclose(f);
		hex[n] = '\0';
		if (n != 64) {
			snprintf(err, errlen, "coupon key file '%s' is damaged (needs 64 hex digits)", path);
			return PM_ECORRUPT;
		}
		ofr_coupon_key_from_text(hex, key);
		return PM_OK;
	}
	if (sodium_init() < 0)
		return PM_EIO;
	randombytes_buf(key->k, sizeof(key->k));
	sodium_bin2hex(hex, sizeof(hex), key->k, sizeof(key->k));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, hex, 64) != 64 || fsync(fd)) {
		snprintf(err, errlen, "cannot create coupon key '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return PM_EIO;
	}
	close(fd);
	return PM_OK;
}

/* ---- the ledger, replayed from OFFER_ISSUED events ---- */
static int replay_one(void *ctx, const struct loy_event *ev)
{
	struct ofr_ledger *l = ctx;
	json_t *o;
	if (ev->type != LOY_EV_OFFER_ISSUED)
		return 0;
	o = json_loadb(ev->payload, ev->payload_len, 0, NULL);
	if (o) {
		const char *camp = json_string_value(json_object_get(o, "campaign"));
		const char *rule = json_string_value(json_object_get(o, "rule"));
		const char *card = json_string_value(json_object_get(o, "card"));
		if (camp && rule)
			ofr_ledger_record(l, camp, rule, card ? card : "", ev->time_us);
		json_decref(o);
	}
	return 0;
}

int term_offers_open(const struct term_config *cfg, struct loy_db *db, struct term_offers *to,
		     char *err, size_t errlen)
{
	char path[1100];
	int rc;
	memset(to, 0, sizeof(*to));
	err[0] = '\0';
	snprintf(to->prefix, sizeof(to->prefix), "%s", cfg->scan.coupon_prefix);
	if ((rc = load_key(cfg, &to->key, err, errlen)))
		return rc;
	if ((rc = ofr_ledger_new(&to->ledger)))
		return rc;
	if ((rc = loy_events_after(db, 0, 0, replay_one, to->ledger)))
		pm_warn("cannot replay issued offers: %s (caps start from zero)", pm_strerror(rc));
	if (!cfg->offers_enabled)
		return PM_OK;
	snprintf(path, sizeof(path), "%s/rules.json", cfg->data_dir);
	return term_rules_read(path, db, cfg->store_id, &to->rules, err, errlen);
}

int term_rules_read(const char *path, struct loy_db *db, const char *store_id, struct ofr_rules **out,
		    char *err, size_t errlen)
{
	struct ofr_catalog_source cat;
	struct ofr_diags d = { 0 };
	char *text = NULL;
	size_t len = 0;
	int rc;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? PM_OK : PM_EIO;   /* no rule set installed: no offers */
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);
		if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)))
			len = fread(text, 1, (size_t)n, f);
	}
	fclose(f);
	if (!text)
		return PM_ENOMEM;
	if (db)
		term_offers_catalog(db, &cat);
	rc = ofr_rules_load(text, len, db ? &cat : NULL, store_id, out, &d);
	if (rc) {
		snprintf(err, errlen, "installed rule set '%s' is not valid (%zu errors%s%s): no offers "
			 "are printed", path, d.errors, d.n ? "; first: " : "", d.n ? d.v[0].msg : "");
	}
	ofr_diags_release(&d);
	free(text);
	return rc;
}

void term_offers_close(struct term_offers *to)
{
	ofr_rules_free(to->rules);
	ofr_ledger_free(to->ledger);
	memset(to, 0, sizeof(*to));
}

/* ---- events (payload v1, JSON) ---- */
int term_offers_event(struct loy_db *db, int type, int64_t time_us, uint64_t sale_seq,
		      const struct ofr_offer *o, const char *card, const char *coupon, int64_t discount)
{
	json_t *p = json_pack("{s:i, s:I, s:s, s:s, s:s}", "v", 1, "sale", (json_int_t)sale_seq,
			      "campaign", o ? o->campaign : "", "rule", o ? o->rule_id : "",
			      "card", card ? card : "");
	if (!p)
		return PM_ENOMEM;
	if (o) {
		json_object_set_new(p, "kind", json_string(ofr_kind_name(o->kind)));
		json_object_set_new(p, "gtin", json_string(o->gtin));
		json_object_set_new(p, "benefit", json_integer(o->benefit));
		json_object_set_new(p, "value", json_integer(o->value));
	}
	if (coupon)
		json_object_set_new(p, "coupon", json_string(coupon));
	if (type == LOY_EV_OFFER_REDEEMED)
		json_object_set_new(p, "discount_cents", json_integer(discount));
	char *s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!s)
		return PM_ENOMEM;
	int rc = loy_event_append(db, type, time_us, s, strlen(s), NULL);
	free(s);
	return rc;
}

/* Install a rule file atomically: temp file in the same directory, fsync, rename, fsync dir. */
int term_rules_install(const char *data_dir, const char *text, size_t len, char *err, size_t errlen)
{
	char path[1100], tmp[1120];
	snprintf(path, sizeof(path), "%s/rules.json", data_dir);
	snprintf(tmp, sizeof(tmp), "%s/.rules.json.%ld.tmp", data_dir, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		return PM_EIO;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0) {
			snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return PM_EIO;
		}
		off += (size_t)w;
	}
	if (fsync(fd) || close(fd) || rename(tmp, path)) {
		snprintf(err, errlen, "cannot install '%s': %s", path, strerror(errno));
		unlink(tmp);
		return PM_EIO;
	}
	int dfd = open(data_dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return PM_OK;
}
