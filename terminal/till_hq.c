/*
 * till_hq.c - what the till takes from HQ's answers (docs/accounts.md):
 * a sale HQ knows (GET /v1/sales/TERMINAL/SEQ, wire's struct
 * wire_sale_lookup) as the loyalty basis of a return.
 *
 * The lookups themselves (struct till_hq) are hostsync's, filled by
 * sync_wiring.c's term_till_hq; with no HQ configured its hooks are NULL
 * and the till applies the offline rules only.
 */
#include "terminal/till.h"
#include "common/pm_err.h"
#include "wire/wire.h"

#include <stdlib.h>
#include <string.h>

int till_basis_from_wire(const struct wire_sale_lookup *l, struct loy_return_basis *out)
{
	const struct wire_sale *w = &l->sale;
	struct loy_sale *s = &out->sale;
	memset(out, 0, sizeof(*out));
	s->seq = w->seq;
	s->time_us = w->time_us;
	snprintf(s->terminal, sizeof(s->terminal), "%s", w->terminal);
	snprintf(s->card, sizeof(s->card), "%s", w->card);
	snprintf(s->currency, sizeof(s->currency), "%s", w->currency);
	s->tender = loy_tender_parse(w->tender) < 0 ? LOY_TENDER_OTHER : loy_tender_parse(w->tender);
	s->total_cents = w->total_cents;
	s->discount_cents = w->discount_cents;
	s->tendered_cents = w->tendered_cents;
	s->points_earned = w->points_earned;
	s->type = w->type == WIRE_SALE_RETURN ? LOY_RETURN : LOY_SALE;
	snprintf(s->return_of_terminal, sizeof(s->return_of_terminal), "%s", w->return_of_terminal);
	s->return_of_seq = w->return_of_seq;
	s->points_spent = w->points_spent;
	s->point_value_cents = w->point_value_cents;
	s->refund_cents = w->refund_cents;
	for (uint32_t i = 0; i < w->n_ledger; i++)
		if (w->ledger[i].kind == WIRE_LEDGER_BONUS)
			s->points_bonus = w->ledger[i].points;
		else if (w->ledger[i].kind == WIRE_LEDGER_EXPIRY)
			s->points_expired = -w->ledger[i].points;
		else if (w->ledger[i].kind == WIRE_LEDGER_CLAWBACK)
			s->points_clawed_back = -w->ledger[i].points;
	if (w->n_items && !(s->items = calloc(w->n_items, sizeof(*s->items))))
		goto nomem;
	for (uint32_t i = 0; i < w->n_items; i++) {
		snprintf(s->items[i].gtin, sizeof(s->items[i].gtin), "%s", w->items[i].gtin);
		s->items[i].qty = w->items[i].qty;
		s->items[i].unit_price_cents = w->items[i].unit_price_cents;
		s->items[i].line_cents = w->items[i].line_cents;
	}
	s->n_items = w->n_items;
	if (w->n_redeemed && !(s->redeemed = calloc(w->n_redeemed, sizeof(*s->redeemed))))
		goto nomem;
	for (uint32_t i = 0; i < w->n_redeemed; i++) {
		snprintf(s->redeemed[i].coupon, sizeof(s->redeemed[i].coupon), "%s", w->redeemed[i].coupon);
		s->redeemed[i].discount_cents = w->redeemed[i].discount_cents;
	}
	s->n_redeemed = w->n_redeemed;
	for (uint32_t i = 0; i < l->n_returned; i++) {
		struct loy_item r;
		memset(&r, 0, sizeof(r));
		snprintf(r.gtin, sizeof(r.gtin), "%s", l->returned[i].gtin);
		r.qty = l->returned[i].qty;
		if (loy_return_basis_merge(out, &r, 1, 0, 0))
			goto nomem;
	}
	out->refund_cents = l->refund_cents;
	out->points_clawed_back = l->points_clawed_back;
	return PM_OK;
nomem:
	loy_return_basis_free(out);
	return PM_ENOMEM;
}
