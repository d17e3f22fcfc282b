/*
 * till_json.c - the JSON of the till's events and of a sale's result: what
 * `checkout --json` prints one line each and what the daemon's tender reply
 * carries (PRODUCT.md, docs/till.md). The one renderer of both, so the two
 * cannot drift; keys and their order are a contract scripts rely on.
 */
#include "terminal/till.h"
#include "common/pm_time.h"

#include <stdlib.h>
#include <string.h>

static json_t *offer_json(const struct ofr_offer *o)
{
	char until[32];
	pm_fmt_utc(o->expires_us, until, sizeof(until));
	until[10] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "campaign", o->campaign, "rule", o->rule_id,
			 "kind", ofr_kind_name(o->kind), "gtin", o->gtin, "name", o->name, "coupon", o->coupon,
			 "benefit", o->benefit, "value", (int)o->value, "valid_until", until);
}

/* A return's event (docs/till.md): the refund and the points taken back. */
static json_t *return_result_json(const struct till_sale_result *r)
{
	json_t *ev = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:o, s:I, s:s, s:i, s:s, s:I}",
			       "event", "return_committed", "sale_id", (json_int_t)r->seq, "terminal", r->terminal,
			       "seq", (json_int_t)r->seq, "sale_ref", r->ref, "return_of", r->return_of,
			       "card", r->card[0] ? json_string(r->card) : json_null(),
			       "refund_cents", (json_int_t)r->refund_cents, "currency", r->currency,
			       "items", (int)r->items, "tender", loy_tender_name(r->tender),
			       "time_us", (json_int_t)r->time_us);
	if (ev && r->card[0]) {
		json_object_set_new(ev, "points_clawed_back", json_integer(r->points_clawed_back));
		json_object_set_new(ev, "points_balance", json_integer(r->points_balance));
		json_object_set_new(ev, "tier", json_string(r->tier_name));
	} else if (ev) {
		json_object_set_new(ev, "points_clawed_back", json_integer(0));
	}
	return ev;
}

json_t *till_sale_result_json(const struct till_sale_result *r)
{
	if (r->already_committed)
		return json_pack("{s:s, s:I}", "event", "sale_already_committed", "sale_id", (json_int_t)r->seq);
	if (r->is_return)
		return return_result_json(r);
	json_t *ev = json_pack("{s:s, s:I, s:s, s:I, s:o, s:I, s:s, s:i, s:s, s:I, s:I}",
			       "event", "sale_committed", "sale_id", (json_int_t)r->seq,
			       "terminal", r->terminal, "seq", (json_int_t)r->seq,
			       "card", r->card[0] ? json_string(r->card) : json_null(),
			       "total_cents", (json_int_t)r->total_cents, "currency", r->currency,
			       "items", (int)r->items, "tender", loy_tender_name(r->tender),
			       "change_cents", (json_int_t)r->change_cents, "time_us", (json_int_t)r->time_us);
	if (!ev)
		return NULL;
	if (r->card[0]) {
		json_object_set_new(ev, "points_spent", json_integer(r->points_spent));
		json_object_set_new(ev, "points_earned", json_integer(r->points_earned));
		if (r->points_bonus)
			json_object_set_new(ev, "points_bonus", json_integer(r->points_bonus));
		if (r->points_expired)
			json_object_set_new(ev, "points_expired", json_integer(r->points_expired));
		json_object_set_new(ev, "points_balance", json_integer(r->points_balance));
		json_object_set_new(ev, "tier", json_string(r->tier_name));
	}
	if (r->points_spent)
		json_object_set_new(ev, "points_value_cents", json_integer(r->points_spent * r->point_value_cents));
	json_object_set_new(ev, "sale_ref", json_string(r->ref));
	json_object_set_new(ev, "discount_cents", json_integer(r->discount_cents));
	json_t *offers = json_array(), *held = json_array(), *redeemed = json_array();
	for (size_t i = 0; i < r->offers.n; i++)
		json_array_append_new(r->offers.offers[i].held_back ? held : offers, offer_json(&r->offers.offers[i]));
	for (uint32_t i = 0; i < r->n_redeemed && i < TILL_MAX_COUPONS; i++)
		json_array_append_new(redeemed, json_pack("{s:s, s:I, s:s}", "coupon", r->redeemed[i].coupon,
							  "discount_cents", (json_int_t)r->redeemed[i].discount_cents,
							  "campaign", r->redeemed[i].campaign));
	json_object_set_new(ev, "offers", offers);
	json_object_set_new(ev, "held_back", held);
	json_object_set_new(ev, "redeemed", redeemed);
	return ev;
}

/* What a return may take back: per GTIN of the sale, units sold and returned so far. */
static json_t *return_opened_json(const struct till_event *ev)
{
	const struct loy_sale *s = &ev->basis->sale;
	json_t *items = json_array();
	for (uint32_t i = 0; i < s->n_items; i++) {
		bool seen = false;
		for (uint32_t k = 0; k < i && !seen; k++)
			seen = !strcmp(s->items[k].gtin, s->items[i].gtin);
		if (seen)
			continue;
		int32_t sold, returned;
		loy_return_units(ev->basis, s->items[i].gtin, &sold, &returned);
		json_array_append_new(items, json_pack("{s:s, s:i, s:i}", "gtin", s->items[i].gtin, "sold", (int)sold,
						       "returned", (int)returned));
	}
	return json_pack("{s:s, s:s, s:o, s:I, s:I, s:o}", "event", "return_opened", "return_of", ev->ref,
			 "card", s->card[0] ? json_string(s->card) : json_null(), "total_cents",
			 (json_int_t)s->total_cents, "refunded_cents", (json_int_t)ev->basis->refund_cents,
			 "items", items);
}

static json_t *line_voided_json(const struct till_event *ev)
{
	if (ev->line_no > 0)   /* the API names the line; the cashier's #void takes the last */
		return json_pack("{s:s, s:s, s:i}", "event", "line_voided", "gtin", ev->line->item.gtin, "line",
				 ev->line_no);
	return json_pack("{s:s, s:s}", "event", "line_voided", "gtin", ev->line->item.gtin);
}

json_t *till_event_json(const struct till_event *ev)
{
	switch (ev->kind) {
	case TILL_EV_ITEM_ADDED:
		return json_pack("{s:s, s:s, s:s, s:i, s:I}", "event", "item_added", "gtin", ev->line->item.gtin,
				 "name", ev->line->name, "qty", (int)ev->line->item.qty, "line_cents",
				 (json_int_t)ev->line->item.line_cents);
	case TILL_EV_LINE_VOIDED:
		return line_voided_json(ev);
	case TILL_EV_CARD_ATTACHED:
		return json_pack("{s:s, s:s, s:b, s:I, s:s}", "event", "card_attached", "card", ev->card->number,
				 "known", ev->card->known, "points", (json_int_t)ev->card->points, "tier", ev->tier);
	case TILL_EV_CONSENT_RECORDED:
		return json_pack("{s:s, s:s}", "event", "consent_recorded", "targeted", ev->yes ? "yes" : "no");
	case TILL_EV_SCAN_REFUSED:
		return json_pack("{s:s, s:s, s:s}", "event", "scan_refused", "input", ev->input, "reason", ev->reason);
	case TILL_EV_COUPON_ACCEPTED:
		return json_pack("{s:s, s:s, s:s, s:b}", "event", "coupon_accepted", "coupon", ev->coupon,
				 "campaign", ev->campaign, "needs_card", ev->needs_card);
	case TILL_EV_COUPON_REFUSED:
		return json_pack("{s:s, s:s, s:s}", "event", "coupon_refused", "coupon", ev->coupon, "reason",
				 ev->reason);
	case TILL_EV_OFFERS_DISABLED:
		return json_pack("{s:s, s:s}", "event", "offers_disabled", "reason", ev->reason);
	case TILL_EV_SALE_CANCELLED:
		return json_pack("{s:s, s:i}", "event", "sale_cancelled", "lines", (int)ev->count);
	case TILL_EV_SALE_COMMITTED:
	case TILL_EV_RETURN_COMMITTED:
		return till_sale_result_json(ev->sale);
	case TILL_EV_POINTS_APPLIED:
		return json_pack("{s:s, s:I, s:I, s:I}", "event", "points_applied", "points", (json_int_t)ev->points,
				 "value_cents", (json_int_t)ev->amount_cents, "balance_after", (json_int_t)ev->balance);
	case TILL_EV_RETURN_OPENED:
		return return_opened_json(ev);
	case TILL_EV_SALE_ALREADY_COMMITTED:
		return json_pack("{s:s, s:I}", "event", "sale_already_committed", "sale_id", (json_int_t)ev->sale_id);
	case TILL_EV_COMMIT_FAILED:
		return json_pack("{s:s, s:s}", "event", "commit_failed", "reason", ev->reason);
	case TILL_EV_RECEIPT_PENDING:
		return json_pack("{s:s, s:I, s:s, s:I}", "event", "receipt_pending", "sale_id", (json_int_t)ev->sale_id,
				 "reason", ev->reason, "queued", (json_int_t)ev->count);
	case TILL_EV_RECEIPT_PRINTED:
		return json_pack("{s:s, s:I, s:b}", "event", "receipt_printed", "sale_id", (json_int_t)ev->sale_id,
				 "reprint", ev->reprint);
	case TILL_EV_SALE_LEFT_OPEN:
		return json_pack("{s:s, s:i}", "event", "sale_left_open", "lines", (int)ev->count);
	case TILL_EV_CHECKOUT_DONE:
		return json_pack("{s:s, s:I, s:I, s:I, s:I}", "event", "checkout_done", "committed",
				 (json_int_t)ev->counts->committed, "already_committed", (json_int_t)ev->counts->skipped,
				 "refused_scans", (json_int_t)ev->counts->refused_scans, "cancelled",
				 (json_int_t)ev->counts->cancelled);
	default:
		return NULL;
	}
}

void till_json_sink(void *ctx, const struct till_event *ev)
{
	FILE *out = ctx;
	json_t *o = till_event_json(ev);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s) {
		fputs(s, out);
		fputc('\n', out);
		fflush(out);
	}
	free(s);
	json_decref(o);
}
