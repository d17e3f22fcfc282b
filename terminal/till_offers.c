/*
 * till_offers.c - the till's offer and coupon steps (till.c calls them):
 *  - at card attach: snapshot the card and build its history profile;
 *  - coupon scan: verify layout, MAC, expiry (and card if known) at once;
 *  - tender: apply the coupons; loyalty's commit refuses a used one;
 *  - inside the commit's transaction (till_offers_bind): choose the offers
 *    for the sale's seq and give loyalty the redeemed and held-back events,
 *    so they commit with the sale (the receipt with its coupons is queued
 *    in the same transaction, till.c);
 *  - a receipt that printed: its coupons are recorded as issued then, in the
 *    transaction that takes it off the print queue (till_receipt_printed),
 *    or when a POS app says it printed them (till_offers_printed).
 * Any failure here degrades to "no offers"; it never stops a sale.
 */
#include "terminal/till_int.h"
#include "terminal/receipt_rec.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"
#include "wire/wire.h"

#include <stdlib.h>
#include <string.h>

/* The till's notion of now: the scan script's #clock if set (demo, tests). */
static int64_t till_now(const struct till *t)
{
	return t->clock_us ? t->clock_us : pm_now_us();
}

static const struct term_offers *shared_offers;

void till_offers_share(const struct term_offers *shared)
{
	shared_offers = shared;
}

void till_offers_init(struct till *t)
{
	if (shared_offers) {
		t->offers = *shared_offers;
		t->offers_shared = true;
		t->offers_ready = t->offers.ledger != NULL;
		return;
	}
	char err[600];
	int rc = term_offers_open(t->cfg, t->db, &t->offers, err, sizeof(err));
	t->offers_ready = t->offers.ledger != NULL;
	if (rc) {
		pm_warn("offers disabled: %s", err[0] ? err : pm_strerror(rc));
		till_emit(t, &(struct till_event){ .kind = TILL_EV_OFFERS_DISABLED,
						  .reason = err[0] ? err : pm_strerror(rc) });
	}
}

void till_offers_release(struct till *t)
{
	ofr_profile_free(t->profile);
	t->profile = NULL;
	if (!t->offers_shared)
		term_offers_close(&t->offers);
}

void till_offers_reset(struct till *t)
{
	ofr_profile_free(t->profile);
	t->profile = NULL;
	t->n_coupons = 0;
	memset(&t->card_snap, 0, sizeof(t->card_snap));
}

void till_offers_card(struct till *t)
{
	struct ofr_history_source hist;
	ofr_profile_free(t->profile);
	t->profile = NULL;
	term_offers_card(t->db, t->card, &t->card_snap);
	/* History is read only for a holder who said yes: without consent it is not used at all. */
	if (!t->offers.rules || t->card_snap.consent != OFR_CONSENT_YES)
		return;
	term_offers_history(t->db, &hist);
	int rc = ofr_profile_build(t->offers.rules, &t->card_snap, &hist, till_now(t), &t->profile);
	if (rc)
		pm_warn("cannot read the card's history for offers: %s", pm_strerror(rc));
}

static int coupon_refused(struct till *t, const char *code, const char *reason)
{
	t->counts.refused_scans++;
	if (!t->sink)
		fprintf(stderr, "posmark checkout: coupon refused: %s\n", reason);
	if (t->n_refused < TILL_MAX_COUPONS) {
		struct till_refusal *r = &t->refused[t->n_refused++];
		snprintf(r->coupon, sizeof(r->coupon), "%s", code);
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	}
	till_emit(t, &(struct till_event){ .kind = TILL_EV_COUPON_REFUSED, .coupon = code, .reason = reason });
	return PM_EREFUSED;
}

bool till_coupon_valid_here(struct till *t, const struct scan_result *r)
{
	char reason[200];
	bool card_pending;
	struct ofr_coupon c;
	if (r->kind != SCAN_COUPON || !t->offers_ready || !t->hq.coupon_lookup)
		return false;
	return ofr_coupon_verify(&t->offers.key, t->offers.rules, t->offers.prefix, r->coupon, t->card, till_now(t), &c,
				 &card_pending, reason, sizeof(reason)) == PM_OK;
}

int till_coupon_scan(struct till *t, const char *input, const struct scan_result *r)
{
	char reason[200];
	bool card_pending;
	struct ofr_coupon c;
	if (till_throttle_coupon(t, r, reason, sizeof(reason)))
		return coupon_refused(t, r->kind == SCAN_COUPON ? r->coupon : input, reason);
	if (r->kind != SCAN_COUPON)
		return coupon_refused(t, input, r->error[0] ? r->error : "not a coupon code");
	if (!t->offers_ready)
		return coupon_refused(t, r->coupon, "coupons cannot be checked at this till now (no coupon key); "
				      "take the coupon back");
	for (size_t i = 0; i < t->n_coupons; i++)
		if (!strcmp(t->coupons[i].code, r->coupon))
			return coupon_refused(t, r->coupon, "coupon already scanned in this sale");
	if (t->n_coupons >= TILL_MAX_COUPONS)
		return coupon_refused(t, r->coupon, "too many coupons on one sale");
	int rc = ofr_coupon_verify(&t->offers.key, t->offers.rules, t->offers.prefix, r->coupon, t->card, till_now(t), &c,
				   &card_pending, reason, sizeof(reason));
	if (rc)
		return coupon_refused(t, r->coupon, reason);
	/*
	 * Single use across the chain: a till cannot tell which terminal printed a
	 * coupon (the key may be the chain's), so with HQ configured it asks HQ
	 * within the lookup budget; no answer: accepted on this log's check alone.
	 */
	if (t->hq.coupon_lookup) {
		struct wire_coupon_status st;
		memset(&st, 0, sizeof(st));
		if (t->hq.coupon_lookup(t->hq.ctx, r->coupon, &st) == PM_OK && st.redeemed) {
			snprintf(reason, sizeof(reason), "coupon was already redeemed (at %s, sale %llu); it can be "
				 "redeemed only once", st.terminal[0] ? st.terminal : "another terminal",
				 (unsigned long long)st.seq);
			return coupon_refused(t, r->coupon, reason);
		}
	}
	struct till_coupon *tc = &t->coupons[t->n_coupons++];
	size_t cl = strnlen(r->coupon, OFR_CODE_MAX);   /* verified: the layout's length */
	memcpy(tc->code, r->coupon, cl);
	tc->code[cl] = '\0';
	tc->c = c;
	t->open = true;
	const char *camp = ofr_rules_campaign_by_tag(t->offers.rules, c.campaign_tag);
	till_emit(t, &(struct till_event){ .kind = TILL_EV_COUPON_ACCEPTED, .coupon = tc->code,
					  .campaign = camp ? camp : "", .needs_card = card_pending });
	return PM_OK;
}

static void drop_coupon(struct till *t, size_t i)
{
	memmove(&t->coupons[i], &t->coupons[i + 1], (t->n_coupons - i - 1) * sizeof(t->coupons[0]));
	t->n_coupons--;
}

/*
 * The bonus points a points coupon credits with the sale (a bonus entry,
 * docs/accounts.md): a flat bonus its value; a multiplier (value x100) on
 * one unit of its item, the extra points that unit earns at the base rate.
 */
static int64_t coupon_bonus(const struct till *t, const struct till_coupon *tc, int line)
{
	if (tc->c.benefit == OFR_POINTS_BONUS_FLAT)
		return tc->c.value > 0 ? tc->c.value : 0;
	if (tc->c.benefit != OFR_POINTS_MULT || line < 0 || tc->c.value <= 100)
		return 0;
	const struct loy_item *it = &t->lines[line].item;
	int64_t unit = it->qty > 0 ? it->line_cents / it->qty : it->line_cents;
	return unit * t->cfg->loy.points_per_unit * (tc->c.value - 100) / 10000;
}

uint32_t till_coupons_apply(struct till *t, struct loy_redemption *red, int64_t *discount, int64_t *bonus)
{
	struct ofr_line lines[TILL_MAX_LINES];
	uint32_t n = 0;
	int64_t total = 0;
	*discount = 0;
	*bonus = 0;
	for (size_t i = 0; i < t->n_lines; i++) {
		memcpy(lines[i].gtin, t->lines[i].item.gtin, sizeof(lines[i].gtin));
		lines[i].qty = t->lines[i].item.qty;
		lines[i].line_cents = t->lines[i].item.line_cents;
		total += lines[i].line_cents;
	}
	for (size_t i = 0; i < t->n_coupons;) {
		struct till_coupon *tc = &t->coupons[i];
		int line;
		if (tc->c.card_tag && !t->card[0]) {
			coupon_refused(t, tc->code, "coupon was issued to a loyalty card: scan that card first");
			drop_coupon(t, i);
			continue;
		}
		bool points = tc->c.benefit == OFR_POINTS_BONUS_FLAT || tc->c.benefit == OFR_POINTS_MULT;
		if (points && !t->card[0]) {
			coupon_refused(t, tc->code, "a points coupon credits a loyalty card: scan the customer's card "
				       "first, or keep the coupon for later");
			drop_coupon(t, i);
			continue;
		}
		if (tc->c.card_tag && ofr_card_tag(&t->offers.key, t->card) != tc->c.card_tag) {
			coupon_refused(t, tc->code, "coupon was issued to another loyalty card; it works only "
				       "with the card it was printed for");
			drop_coupon(t, i);
			continue;
		}
		int64_t d = ofr_coupon_discount(&tc->c, lines, t->n_lines, t->offers.rules, &line);
		bool needs_line = tc->c.benefit != OFR_AMOUNT_BASKET && tc->c.benefit != OFR_POINTS_BONUS_FLAT;
		if ((needs_line && line < 0) || (tc->c.benefit == OFR_AMOUNT_BASKET && d == 0)) {
			coupon_refused(t, tc->code, needs_line ? "the coupon's item is not in this sale; "
				       "scan the item or keep the coupon for later"
				       : "the sale total is too small for this coupon");
			drop_coupon(t, i);
			continue;
		}
		if (*discount + d > total)
			d = total - *discount;
		*bonus += coupon_bonus(t, tc, line);
		snprintf(red[n].coupon, sizeof(red[n].coupon), "%s", tc->code);
		red[n].discount_cents = d;
		*discount += d;
		n++;
		i++;
	}
	return n;
}

/*
 * loyalty refused the commit because coupon `index` was used before: drop
 * that one, then apply the coupons left again, so the sale's redeemed list,
 * discount and bonus points are exactly theirs (a points coupon's bonus, a
 * discount another coupon's had clamped). The lane's lines and card do not
 * change while its sale commits, so the others apply as they did at tender.
 */
void till_coupon_used(struct till *t, struct loy_sale *s, int index)
{
	int64_t discount, bonus;
	if (index < 0 || (uint32_t)index >= s->n_redeemed)
		index = (int)s->n_redeemed - 1;   /* an older log that does not say which */
	const char *code = s->redeemed[index].coupon;
	coupon_refused(t, code, "coupon was already used; it can be redeemed only once");
	for (size_t i = 0; i < t->n_coupons; i++)
		if (!strcmp(t->coupons[i].code, code)) {
			drop_coupon(t, i);
			break;
		}
	s->n_redeemed = till_coupons_apply(t, s->redeemed, &discount, &bonus);
	s->total_cents += s->discount_cents - discount;
	s->discount_cents = discount;
	s->points_bonus = s->card[0] ? bonus : 0;
}

void till_redeemed_offer(const struct till *t, const char *code, struct ofr_offer *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t j = 0; j < t->n_coupons; j++)
		if (!strcmp(t->coupons[j].code, code)) {
			const char *camp = ofr_rules_campaign_by_tag(t->offers.rules, t->coupons[j].c.campaign_tag);
			snprintf(o->campaign, sizeof(o->campaign), "%s", camp ? camp : "");
			o->benefit = t->coupons[j].c.benefit;
			o->value = t->coupons[j].c.value;
		}
}

/* Append one offer event's payload (wire's codec) and describe it in *ev. */
static int add_event(struct pm_buf *payloads, size_t *offset, struct loy_event_new *ev, int type,
		     int64_t time_us, uint64_t sale, const struct ofr_offer *o, const char *card,
		     const char *coupon, int64_t discount)
{
	struct wire_offer_event e;
	memset(&e, 0, sizeof(e));
	e.sale = sale;
	snprintf(e.campaign, sizeof(e.campaign), "%s", o->campaign);
	snprintf(e.rule, sizeof(e.rule), "%s", o->rule_id);
	snprintf(e.card, sizeof(e.card), "%s", card);
	e.has_offer = true;
	snprintf(e.kind, sizeof(e.kind), "%s", ofr_kind_name(o->kind));
	snprintf(e.gtin, sizeof(e.gtin), "%s", o->gtin);
	e.benefit = o->benefit;
	e.value = o->value;
	snprintf(e.coupon, sizeof(e.coupon), "%s", coupon ? coupon : "");
	e.discount_cents = discount;
	*offset = payloads->len;
	int rc = wire_offer_encode(type, &e, payloads);
	if (rc)
		return rc;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->time_us = time_us;
	ev->payload_len = payloads->len - *offset;
	if (type == LOY_EV_OFFER_ISSUED) {
		ev->cap_campaign = o->campaign;
		ev->cap_rule = o->rule_id;
		ev->cap_card = card;
	}
	return PM_OK;
}

/* The payload pointers, once the buffer stopped moving. */
static void point_payloads(struct pm_buf *payloads, const size_t *offset, struct loy_event_new *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		evs[i].payload = payloads->data + offset[i];
}

static void decide(struct till *t, struct till_pending *p, const struct loy_sale *s)
{
	struct ofr_line lines[TILL_MAX_LINES];
	memset(&p->decision, 0, sizeof(p->decision));
	if (!t->offers.rules)
		return;
	for (uint32_t i = 0; i < s->n_items; i++) {
		memcpy(lines[i].gtin, s->items[i].gtin, sizeof(lines[i].gtin));
		lines[i].qty = s->items[i].qty;
		lines[i].line_cents = s->items[i].line_cents;
	}
	struct ofr_request req = { .items = lines, .n_items = s->n_items, .card = &t->card_snap,
				   .profile = t->profile, .ledger = t->offers.ledger, .key = &t->offers.key,
				   .coupon_prefix = t->offers.prefix, .now_us = s->time_us,
				   .sale_seq = s->seq, .max_offers = p->max_offers };
	int64_t t0 = pm_mono_ns();
	int rc = ofr_decide(t->offers.rules, &req, &p->decision, NULL);
	pm_dbg("offer decision in %lld us", (long long)((pm_mono_ns() - t0) / 1000));
	if (rc) {
		pm_warn("no offers for sale %llu: %s", (unsigned long long)s->seq, pm_strerror(rc));
		memset(&p->decision, 0, sizeof(p->decision));
	}
}

/*
 * loy_sale_events_cb: runs inside the commit's write transaction (on the
 * daemon's commit thread), once seq is known. The engine's shared state
 * (rules, caps ledger) is read under its lock; the lane's own state (card
 * snapshot, profile, coupons) does not change while its sale commits.
 */
static int sale_events(void *ctx, const struct loy_sale *s, const struct loy_event_new **evs, size_t *n)
{
	struct till_pending *p = ctx;
	struct till *t = p->till;
	size_t offset[TILL_MAX_EVENTS], k = 0;
	int rc = PM_OK;
	pm_buf_reset(&p->payloads);
	/* The whole step under the engine lock: campaign names and the decision read the shared rules. */
	term_offers_lock(&t->offers);
	for (uint32_t i = 0; i < s->n_redeemed && rc == PM_OK; i++) {
		struct ofr_offer o;
		till_redeemed_offer(t, s->redeemed[i].coupon, &o);
		rc = add_event(&p->payloads, &offset[k], &p->events[k], LOY_EV_OFFER_REDEEMED, s->time_us, s->seq,
			       &o, s->card, s->redeemed[i].coupon, s->redeemed[i].discount_cents);
		k += rc == PM_OK;
	}
	decide(t, p, s);
	term_offers_unlock(&t->offers);
	for (size_t i = 0; i < p->decision.n && rc == PM_OK; i++) {
		const struct ofr_offer *o = &p->decision.offers[i];
		/* Held back: recorded at the decision. Printed: issued once the receipt prints. */
		if (!o->held_back)
			continue;
		rc = add_event(&p->payloads, &offset[k], &p->events[k], LOY_EV_OFFER_HELD_BACK, s->time_us,
			       s->seq, o, s->card, NULL, 0);
		k += rc == PM_OK;
	}
	if (rc) {
		/* Degrade, don't block the till: the sale commits without its offer events. */
		pm_warn("cannot encode the offer events of sale %llu: %s", (unsigned long long)s->seq,
			pm_strerror(rc));
		memset(&p->decision, 0, sizeof(p->decision));
		k = 0;
	}
	point_payloads(&p->payloads, offset, p->events, k);
	*evs = p->events;
	*n = k;
	return PM_OK;
}

/*
 * Consent is read when deciding, not when the card was scanned: '#consent'
 * keyed (or HQ's answer synced) after the card counts for this very receipt.
 * Runs just before the commit (its transaction may call no loyalty function).
 */
static void consent_at_decision(struct till *t)
{
	if (!t->card[0])
		return;
	int now = term_offers_consent(t->db, t->card);
	if (now == t->card_snap.consent)
		return;
	t->card_snap.consent = now;
	if (now != OFR_CONSENT_YES) {
		ofr_profile_free(t->profile);   /* the history is not used at all */
		t->profile = NULL;
	} else if (!t->profile && t->offers.rules) {
		struct ofr_history_source hist;
		term_offers_history(t->db, &hist);
		if (ofr_profile_build(t->offers.rules, &t->card_snap, &hist, till_now(t), &t->profile))
			pm_warn("cannot read the card's history for offers");
	}
}

void till_offers_bind(struct till *t, struct till_pending *p)
{
	consent_at_decision(t);
	p->till = t;
	p->max_offers = t->cfg->offers_max;
	p->sale.events_cb = sale_events;
	p->sale.events_ctx = p;
}

void till_pending_release(struct till_pending *p)
{
	pm_buf_free(&p->payloads);
	pm_buf_free(&p->receipt);
	prn_doc_release(&p->doc);
}

/* Count printed coupons in the caps ledger (memory; the log has them already). */
static void ledger_record(const struct term_offers *to, const struct ofr_offer *offers, size_t n, const char *card,
			  int64_t time_us)
{
	if (!to || !to->ledger)
		return;
	term_offers_lock((struct term_offers *)to);
	for (size_t i = 0; i < n; i++) {
		const struct ofr_offer *o = &offers[i];
		if (!o->held_back && o->coupon[0])
			ofr_ledger_record(to->ledger, o->campaign, o->rule_id, card, time_us);
	}
	term_offers_unlock((struct term_offers *)to);
}

void till_offers_after_commit(struct till *t, const struct till_pending *p, const struct loy_sale *s,
			      struct till_sale_result *out)
{
	t->decision = p->decision;
	t->decision_sale = s->seq;
	/* With a printer its coupons are counted when the queued receipt prints (till_receipt_printed). */
	t->decision_issued = t->printer != NULL;
	snprintf(t->decision_card, sizeof(t->decision_card), "%s", s->card);
	out->offers = p->decision;
	out->n_redeemed = s->n_redeemed;
	for (uint32_t i = 0; i < s->n_redeemed && i < TILL_MAX_COUPONS; i++) {
		struct ofr_offer o;
		struct till_redeemed *r = &out->redeemed[i];
		till_redeemed_offer(t, s->redeemed[i].coupon, &o);
		snprintf(r->coupon, sizeof(r->coupon), "%s", s->redeemed[i].coupon);
		r->discount_cents = s->redeemed[i].discount_cents;
		snprintf(r->campaign, sizeof(r->campaign), "%s", o.campaign);
	}
}

/* The coupons of one printed receipt as OFFER_ISSUED events (payloads in *payloads): how many. */
static int issue_events(struct pm_buf *payloads, struct loy_event_new *evs, const struct ofr_offer *offers, size_t n_off,
			uint64_t sale, const char *card, int64_t now, size_t *n)
{
	size_t offset[OFR_MAX_OFFERS];
	int rc = PM_OK;
	*n = 0;
	pm_buf_reset(payloads);
	for (size_t i = 0; i < n_off && *n < OFR_MAX_OFFERS && rc == PM_OK; i++) {
		const struct ofr_offer *o = &offers[i];
		if (o->held_back || !o->coupon[0])
			continue;
		rc = add_event(payloads, &offset[*n], &evs[*n], LOY_EV_OFFER_ISSUED, now, sale, o, card, o->coupon, 0);
		*n += rc == PM_OK;
	}
	if (rc == PM_OK)
		point_payloads(payloads, offset, evs, *n);
	return rc;
}

struct printed_ctx {
	const struct receipt_rec *r;
	int64_t now;
	struct pm_buf payloads;
	struct loy_event_new evs[OFR_MAX_OFFERS];
	char card[LOY_CARD_MAX + 1];  /* the sale's card as the log had it (memory only) */
};

/* loy_printed_cb: inside loy_printq_done's transaction, with the sale as the log has it now. */
static int printed_events(void *ctx, const struct loy_printq_entry *e, const struct loy_sale *sale,
			  const struct loy_event_new **evs, size_t *n)
{
	struct printed_ctx *x = ctx;
	/* The card now: one erased since the sale reads "" and is not named again. */
	snprintf(x->card, sizeof(x->card), "%s", sale ? sale->card : "");
	int rc = issue_events(&x->payloads, x->evs, x->r->offers, x->r->n_offers, e->seq, x->card, x->now, n);
	*evs = x->evs;
	return rc;
}

int till_receipt_printed(struct loy_db *db, const struct term_offers *offers, uint64_t seq,
			 const struct receipt_rec *r, int64_t now_us, bool *removed)
{
	struct printed_ctx *x = calloc(1, sizeof(*x));
	bool done = false;
	if (removed)
		*removed = false;
	if (!x)
		return PM_ENOMEM;
	x->r = r;
	x->now = now_us;
	int rc = loy_printq_done(db, seq, printed_events, x, &done);
	if (rc == PM_OK && done)
		ledger_record(offers, r->offers, r->n_offers, x->card, now_us);
	if (removed)
		*removed = done;
	pm_buf_free(&x->payloads);
	free(x);
	return rc;
}

void till_offers_printed(struct till *t)
{
	struct pm_buf payloads = { 0 };
	struct loy_event_new evs[OFR_MAX_OFFERS];
	size_t n = 0;
	int64_t now = till_now(t);
	if (!t->decision_sale || t->decision_issued)
		return;
	int rc = issue_events(&payloads, evs, t->decision.offers, t->decision.n, t->decision_sale, t->decision_card,
			      now, &n);
	/* The receipt's coupons as one transaction: all recorded or none. */
	if (rc == PM_OK && n)
		rc = loy_events_append(t->db, evs, n, NULL);
	if (rc)
		pm_warn("cannot record the issued coupons of sale %llu: %s", (unsigned long long)t->decision_sale,
			pm_strerror(rc));
	else if (n)
		ledger_record(t->offers_ready ? &t->offers : NULL, t->decision.offers, t->decision.n, t->decision_card,
			      now);
	pm_buf_free(&payloads);
	t->decision_issued = true;   /* recorded once: a second confirmation records nothing */
}
