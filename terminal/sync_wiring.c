/*
 * sync_wiring.c - hostsync's view of the purchase log: struct hs_source
 * filled with functions over loyalty's API, so hostsync never includes
 * loyalty's header (docs/hostsync.md).
 */
#include "terminal/wiring.h"
#include "hostsync/hostsync.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"
#include "offers/offers.h"
#include "terminal/till.h"

#include <stdio.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>

struct sale_pass {
	hs_sale_cb cb;
	void *cb_ctx;
	struct wire_item *items;
	uint32_t cap_items;
	struct wire_redemption *red;
	uint32_t cap_red;
};

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return PM_OK;
	void *n = realloc(*p, (size_t)need * elem);
	if (!n)
		return PM_ENOMEM;
	*p = n;
	*cap = need;
	return PM_OK;
}

/* The log's ledger kinds and record types are wire's numbers (docs/accounts.md). */
_Static_assert((int)LOY_LEDGER_EARN == (int)WIRE_LEDGER_EARN && (int)LOY_LEDGER_SPEND == (int)WIRE_LEDGER_SPEND &&
	       (int)LOY_LEDGER_CLAWBACK == (int)WIRE_LEDGER_CLAWBACK && (int)LOY_LEDGER_BONUS == (int)WIRE_LEDGER_BONUS &&
	       (int)LOY_LEDGER_EXPIRY == (int)WIRE_LEDGER_EXPIRY && (int)LOY_LEDGER_ADJUST == (int)WIRE_LEDGER_ADJUST &&
	       (int)LOY_LEDGER_IMPORT == (int)WIRE_LEDGER_IMPORT && LOY_LEDGER_PER_SALE == WIRE_LEDGER_PER_SALE,
	       "loyalty's ledger kinds are wire's numbers");
_Static_assert((int)LOY_SALE == (int)WIRE_SALE_SALE && (int)LOY_RETURN == (int)WIRE_SALE_RETURN,
	       "loyalty's record types are wire's");

/* Batch v2 fields: record type, the original sale of a return, points
 * tendered, refund, and the record's ledger entries (loy_sale_ledger). */
static void pass_account_fields(const struct loy_sale *s, struct wire_sale *h)
{
	struct loy_ledger_entry le[LOY_LEDGER_PER_SALE];
	h->type = s->type;
	snprintf(h->return_of_terminal, sizeof(h->return_of_terminal), "%s", s->return_of_terminal);
	h->return_of_seq = s->return_of_seq;
	h->points_spent = s->points_spent;
	h->point_value_cents = s->point_value_cents;
	h->refund_cents = s->refund_cents;
	h->n_ledger = 0;
	if (!s->card[0]) {
		/* The card was erased after this record (its sales are unlinked): its
		 * account went with it at HQ too, so the record carries no entries (a
		 * batch with entries but no card is refused, and would be forever). */
		h->points_spent = 0;
		return;
	}
	size_t n = loy_sale_ledger(s, le);
	for (size_t i = 0; i < n && i < WIRE_LEDGER_PER_SALE; i++) {
		h->ledger[h->n_ledger].kind = le[i].kind;
		h->ledger[h->n_ledger].points = le[i].points;
		h->n_ledger++;
	}
}

static int pass_sale(void *ctx, const struct loy_sale *s)
{
	struct sale_pass *sp = ctx;
	struct wire_sale h;
	memset(&h, 0, sizeof(h));
	if (grow((void **)&sp->items, &sp->cap_items, s->n_items, sizeof(*sp->items)) ||
	    grow((void **)&sp->red, &sp->cap_red, s->n_redeemed, sizeof(*sp->red)))
		return PM_ENOMEM;
	h.seq = s->seq;
	h.time_us = s->time_us;
	snprintf(h.terminal, sizeof(h.terminal), "%s", s->terminal);
	snprintf(h.card, sizeof(h.card), "%s", s->card);
	snprintf(h.currency, sizeof(h.currency), "%s", s->currency);
	snprintf(h.tender, sizeof(h.tender), "%s", loy_tender_name(s->tender));
	h.total_cents = s->total_cents;
	h.discount_cents = s->discount_cents;
	h.tendered_cents = s->tendered_cents;
	h.points_earned = s->points_earned;
	h.n_items = s->n_items;
	h.items = sp->items;
	for (uint32_t i = 0; i < s->n_items; i++) {
		snprintf(h.items[i].gtin, sizeof(h.items[i].gtin), "%s", s->items[i].gtin);
		h.items[i].qty = s->items[i].qty;
		h.items[i].unit_price_cents = s->items[i].unit_price_cents;
		h.items[i].line_cents = s->items[i].line_cents;
	}
	h.n_redeemed = s->n_redeemed;
	h.redeemed = sp->red;
	for (uint32_t i = 0; i < s->n_redeemed; i++) {
		snprintf(h.redeemed[i].coupon, sizeof(h.redeemed[i].coupon), "%s", s->redeemed[i].coupon);
		h.redeemed[i].discount_cents = s->redeemed[i].discount_cents;
	}
	pass_account_fields(s, &h);
	return sp->cb(sp->cb_ctx, &h);
}

static int w_sales_after(void *ctx, uint64_t after, size_t max, hs_sale_cb cb, void *cb_ctx)
{
	struct sale_pass sp = { cb, cb_ctx, NULL, 0, NULL, 0 };
	int rc = loy_sales_after(((struct term_sync_ctx *)ctx)->db, after, max, pass_sale, &sp);
	free(sp.items);
	free(sp.red);
	return rc;
}

struct event_pass {
	hs_event_cb cb;
	void *cb_ctx;
	struct pm_buf payload;        /* a consent or erasure encoded for the wire */
};

/* The log's event numbers are wire's (wire.h: never renumbered); its names come from wire. */
_Static_assert((int)LOY_EV_CONSENT == (int)WIRE_EV_CONSENT && (int)LOY_EV_ERASURE == (int)WIRE_EV_ERASURE &&
	       (int)LOY_EV_OFFER_ISSUED == (int)WIRE_EV_OFFER_ISSUED &&
	       (int)LOY_EV_OFFER_HELD_BACK == (int)WIRE_EV_OFFER_HELD_BACK &&
	       (int)LOY_EV_OFFER_REDEEMED == (int)WIRE_EV_OFFER_REDEEMED, "loyalty's event types are wire's numbers");

_Static_assert((int)LOY_CONSENT_UNKNOWN == (int)WIRE_CONSENT_UNKNOWN && (int)LOY_CONSENT_YES == (int)WIRE_CONSENT_YES &&
	       (int)LOY_CONSENT_NO == (int)WIRE_CONSENT_NO, "loyalty's consent values are wire's");

/*
 * Consent and erasure records are the log's own: their wire payload is
 * encoded here from the record's fields, so the bytes HQ decodes come from
 * wire's one encoder. Offer payloads were written with wire's encoder at
 * the till and pass as they are.
 */
static int wire_payload(const struct loy_event *e, struct pm_buf *out)
{
	struct wire_consent_event c = { 0 };
	struct wire_erasure_event er = { 0 };
	int rc;
	if (e->type == LOY_EV_CONSENT) {
		if ((rc = loy_event_card_fields(e, c.card, &c.consent)))
			return rc;
		return wire_consent_encode(&c, out);
	}
	if ((rc = loy_event_card_fields(e, er.card, NULL)))
		return rc;
	return wire_erasure_encode(&er, out);
}

static int pass_event(void *ctx, const struct loy_event *e)
{
	struct event_pass *ep = ctx;
	struct wire_event h = { e->seq, e->time_us, wire_event_type_name(e->type), e->payload, e->payload_len };
	if (!h.type)
		return PM_ECORRUPT; /* a type this build does not know: stop, do not skip it */
	if (e->type != LOY_EV_CONSENT && e->type != LOY_EV_ERASURE)
		return ep->cb(ep->cb_ctx, &h);
	char card[LOY_CARD_MAX + 1];
	if (e->type == LOY_EV_ERASURE && loy_event_card_fields(e, card, NULL) == PM_ENOENT)
		return ep->cb(ep->cb_ctx, &h);   /* sealed with wire's encoder at the erasure: as stored */
	pm_buf_reset(&ep->payload);
	int rc = wire_payload(e, &ep->payload);
	if (rc) {
		pm_err("event %llu (%s) in the log is damaged: %s", (unsigned long long)e->seq, h.type,
		       pm_strerror(rc));
		return PM_ECORRUPT; /* stop: skipping it would lose it for HQ */
	}
	h.payload = ep->payload.data;
	h.payload_len = ep->payload.len;
	return ep->cb(ep->cb_ctx, &h);
}

static int w_events_after(void *ctx, uint64_t after, size_t max, hs_event_cb cb, void *cb_ctx)
{
	struct event_pass ep = { cb, cb_ctx, { 0 } };
	int rc = loy_events_after(((struct term_sync_ctx *)ctx)->db, after, max, pass_event, &ep);
	pm_buf_free(&ep.payload);
	return rc;
}

static int w_positions(void *ctx, struct hs_positions *out)
{
	struct loy_stats st;
	int rc = loy_stats(((struct term_sync_ctx *)ctx)->db, &st);
	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	out->last_sale_seq = st.last_sale_seq;
	out->sales_acked = st.sales_acked;
	out->last_event_seq = st.last_event_seq;
	out->events_acked = st.events_acked;
	return PM_OK;
}

static int w_watermark_set(void *ctx, bool events, uint64_t acked)
{
	struct loy_db *db = ((struct term_sync_ctx *)ctx)->db;
	int rc = loy_watermark_set(db, events, acked);
	if (rc || !events)
		return rc;
	/* HQ has the erasures queued with the clear number (no key): they go now. */
	if ((rc = loy_events_forget_clear_erasures(db, NULL)))
		pm_warn("erasure events HQ acknowledged not deleted yet (%s); the next sync retries",
			pm_strerror(rc));
	return PM_OK;
}

static int w_apply_erasure(void *ctx, const char *card)
{
	uint64_t n = 0;
	return loy_card_erase(((struct term_sync_ctx *)ctx)->db, card, LOY_SRC_HQ, pm_now_us(), &n);
}

static int w_apply_consent(void *ctx, const char *card, bool targeted)
{
	return loy_card_set_consent(((struct term_sync_ctx *)ctx)->db, card, targeted ? LOY_CONSENT_YES : LOY_CONSENT_NO, LOY_SRC_HQ,
				    pm_now_us());
}

/* A downloaded rule set must load in the offers engine, as 'posmark rules load' requires. */
static int w_rules_check(void *ctx, const char *text, size_t len, char *err, size_t errlen)
{
	struct term_sync_ctx *sc = ctx;
	struct ofr_rules *rules = NULL;
	int rc = term_rules_compile(text, len, "downloaded from HQ", sc->db, sc->store_id, &rules, err, errlen);
	ofr_rules_free(rules);
	return rc;
}

static int w_accounts_cursor(void *ctx, uint64_t *cursor)
{
	return loy_accounts_cursor(((struct term_sync_ctx *)ctx)->db, cursor);
}

_Static_assert(WIRE_BOUGHT_MAX <= 32 && WIRE_CARD_MAX == LOY_CARD_MAX, "an account from HQ fits the log's");

/* One page of account states from HQ, with its cursor, in one transaction of the log. */
static int w_apply_accounts(void *ctx, const struct wire_accounts_header *h, const struct wire_account *a, size_t n)
{
	struct loy_account_state *st = calloc(n ? n : 1, sizeof(*st));
	if (!st)
		return PM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(st[i].card, sizeof(st[i].card), "%s", a[i].card);
		st[i].erased = a[i].erased;
		st[i].points = a[i].points;
		st[i].tier = a[i].tier;
		st[i].consent = a[i].consent;
		st[i].consent_changed_us = a[i].consent_changed_us;
		st[i].last_visit_us = a[i].last_visit_us;
		st[i].window_spend_cents = a[i].window_spend_cents;
		st[i].n_bought = a[i].n_bought > WIRE_BOUGHT_MAX ? WIRE_BOUGHT_MAX : a[i].n_bought;
		for (uint32_t k = 0; k < st[i].n_bought; k++)
			snprintf(st[i].bought[k], sizeof(st[i].bought[k]), "%s", a[i].bought[k]);
	}
	int rc = loy_accounts_apply(((struct term_sync_ctx *)ctx)->db, st, n, h->as_of_us, h->included_sale_seq,
				    h->next_cursor);
	free(st);
	return rc;
}

void term_sync_source(struct hs_source *src, struct term_sync_ctx *sc)
{
	src->accounts_cursor = w_accounts_cursor;
	src->apply_accounts = w_apply_accounts;
	src->ctx = sc;
	src->rules_check = w_rules_check;
	src->sales_after = w_sales_after;
	src->events_after = w_events_after;
	src->positions = w_positions;
	src->watermark_set = w_watermark_set;
	src->apply_erasure = w_apply_erasure;
	src->apply_consent = w_apply_consent;
}

/* [hq] options as hostsync's client config (strings point into cfg). */
void term_sync_client_config(const struct term_config *cfg, struct hs_client_config *hc)
{
	hs_client_config_default(hc);
	hc->url = cfg->hq.url;
	hc->store = cfg->store_id;
	hc->credential = cfg->hq.store_credential;
	hc->ca_file = cfg->hq.ca_file;
	hc->tls_verify = cfg->hq.tls_verify;
	hc->rules_public_key = cfg->hq.rules_public_key;
	hc->data_dir = cfg->data_dir;
	hc->batch_max_sales = (size_t)cfg->hq.batch_max_sales;
	hc->max_attempts = cfg->hq.max_attempts;
	hc->backoff_initial_ms = cfg->hq.backoff_initial_ms;
	hc->backoff_max_ms = cfg->hq.backoff_max_ms;
	hc->timeout_s = cfg->hq.timeout_s;
	hc->lookup_budget_ms = cfg->hq.lookup_budget_ms;
}

/* ---- the till's lookups at HQ (struct till_hq) ------------------------------ */

struct till_hq_ctx {
	struct hs_client_config hc;
	struct term_sync_ctx sc;
	struct hs_source src;
	char terminal[LOY_TERMINAL_MAX + 1];
};

static int hq_account_lookup(void *ctx, const char *card)
{
	struct till_hq_ctx *c = ctx;
	char err[400];
	int rc = hs_account_lookup(&c->hc, &c->src, c->terminal, card, err, sizeof(err));
	if (rc && rc != PM_ENOENT)
		pm_info("card account from HQ: %s; the till goes on with what it knows", err);
	return rc;
}

static int hq_sale_lookup(void *ctx, const char *terminal, uint64_t seq, struct wire_sale_lookup *out)
{
	struct till_hq_ctx *c = ctx;
	char err[400];
	int rc = hs_sale_lookup(&c->hc, c->terminal, terminal, seq, out, err, sizeof(err));
	if (rc)
		pm_info("sale %s:%llu from HQ: %s", terminal, (unsigned long long)seq, err);
	return rc;
}

static int hq_coupon_lookup(void *ctx, const char *coupon, struct wire_coupon_status *out)
{
	struct till_hq_ctx *c = ctx;
	char err[400];
	int rc = hs_coupon_lookup(&c->hc, c->terminal, coupon, out, err, sizeof(err));
	if (rc && rc != PM_ENOENT)
		pm_info("coupon status from HQ: %s; the till decides on what it knows", err);
	return rc;
}

void term_till_hq(struct till_hq *out, const struct term_config *cfg, struct loy_db *db)
{
	memset(out, 0, sizeof(*out));
	if (!cfg->hq.url[0] || !cfg->hq.store_credential[0] || cfg->hq.lookup_budget_ms <= 0)
		return; /* no HQ to ask, or asked never to wait for it: offline rules only */
	struct till_hq_ctx *c = calloc(1, sizeof(*c));
	if (!c) {
		pm_warn("no memory for HQ lookups at the till; it works offline");
		return;
	}
	term_sync_client_config(cfg, &c->hc);
	c->sc.db = db;
	c->sc.store_id = cfg->store_id;
	c->sc.data_dir = cfg->data_dir;
	term_sync_source(&c->src, &c->sc);
	snprintf(c->terminal, sizeof(c->terminal), "%s", cfg->loy.terminal_id);
	out->ctx = c;
	out->account_lookup = hq_account_lookup;
	out->sale_lookup = hq_sale_lookup;
	out->coupon_lookup = hq_coupon_lookup;
}

void term_till_hq_release(struct till_hq *hq)
{
	if (!hq)
		return;
	free(hq->ctx);
	memset(hq, 0, sizeof(*hq));
}
