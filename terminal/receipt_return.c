/*
 * receipt_return.c - the receipt of a committed return: the sale it
 * returns, the returned units at their sale price, the refund (coupon
 * discounts taken off, docs/accounts.md), and with a card the points taken
 * back and the balance left. Same header and footer as a sale's receipt.
 */
#include "terminal/till.h"
#include "common/pm_err.h"

#include <string.h>
#include <time.h>

int receipt_return_build(struct prn_doc *d, const struct term_config *cfg, struct loy_db *db,
			 const struct loy_sale *s, const struct loy_commit_result *res,
			 const struct till_line *lines, size_t n_lines)
{
	char a[64], b[96], when[32];
	int64_t gross = 0;
	time_t t = (time_t)(s->time_us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "%s", cfg->store_name);
	if (cfg->store_address[0])
		prn_doc_text(d, PRN_CENTER, 0, "%s", cfg->store_address);
	prn_doc_pair(d, 0, when, s->terminal);
	snprintf(a, sizeof(a), "Return %llu", (unsigned long long)s->seq);
	prn_doc_pair(d, 0, a, s->currency);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD, "RETURN OF SALE %s:%llu", s->return_of_terminal,
		     (unsigned long long)s->return_of_seq);
	prn_doc_rule(d, '-');
	for (uint32_t i = 0; i < s->n_items; i++) {
		const struct loy_item *it = &s->items[i];
		const char *nm = (lines && i < n_lines) ? lines[i].name : it->gtin;
		gross += it->line_cents;
		snprintf(b, sizeof(b), "%.*s", d->columns > 14 ? d->columns - 14 : 8, nm);
		if (it->qty == 1) {
			prn_doc_pair(d, 0, b, term_money(-it->line_cents, a, sizeof(a)));
		} else {
			char q[64], u[32];
			prn_doc_text(d, PRN_LEFT, 0, "%s", b);
			snprintf(q, sizeof(q), "  %d x %s", (int)it->qty, term_money(it->unit_price_cents, u, sizeof(u)));
			prn_doc_pair(d, 0, q, term_money(-it->line_cents, a, sizeof(a)));
		}
	}
	prn_doc_rule(d, '-');
	if (gross > s->refund_cents)
		prn_doc_pair(d, 0, "Coupon discounts", term_money(gross - s->refund_cents, a, sizeof(a)));
	snprintf(b, sizeof(b), "REFUND %s", s->currency);
	prn_doc_pair(d, PRN_BOLD | PRN_DOUBLE, b, term_money(s->refund_cents, a, sizeof(a)));
	snprintf(b, sizeof(b), "Refunded %s", loy_tender_name(s->tender));
	prn_doc_pair(d, 0, b, term_money(s->refund_cents, a, sizeof(a)));
	if (s->card[0]) {
		size_t n = strlen(s->card);
		prn_doc_rule(d, '-');
		snprintf(b, sizeof(b), "Card ************%s", s->card + (n > 4 ? n - 4 : 0));
		snprintf(a, sizeof(a), "Tier %s", loy_tier_name(db, res->tier));
		prn_doc_pair(d, 0, b, a);
		snprintf(b, sizeof(b), "%lld", (long long)-s->points_clawed_back);
		prn_doc_pair(d, 0, "Points taken back", b);
		snprintf(b, sizeof(b), "%lld", (long long)res->points_balance);
		prn_doc_pair(d, PRN_BOLD, "Points balance", b);
	}
	prn_doc_rule(d, '-');
	prn_doc_text(d, PRN_CENTER, 0, "%s", cfg->footer);
	prn_doc_feed(d, 1);
	prn_doc_cut(d);
	return PM_OK;
}
