/*
 * receipt.c - the receipt of a committed sale as a printer document:
 * header, one line per item (with quantity line), totals, tender, card and
 * points, footer, cut. 42 or 48 columns; local time only here.
 */
#include "terminal/till.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <string.h>
#include <time.h>

static void local_time(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* Fit a name into width columns (UTF-8 aware, cut on a code point). */
static void fit(char *dst, size_t cap, const char *src, size_t width)
{
	size_t w = 0, i = 0;
	while (src[i] && i + 4 < cap) {
		if (((unsigned char)src[i] & 0xC0) != 0x80) {
			if (w == width)
				break;
			w++;
		}
		dst[i] = src[i];
		i++;
	}
	dst[i] = '\0';
}

/* What a coupon gives, in words for the customer. */
static void benefit_words(const struct ofr_offer *o, const char *currency, char *buf, size_t len)
{
	char m[32];
	switch (o->benefit) {
	case OFR_PERCENT_ITEM:
	case OFR_PERCENT_CATEGORY:
		snprintf(buf, len, "%d%% off", (int)o->value);
		break;
	case OFR_AMOUNT_ITEM:
	case OFR_AMOUNT_BASKET:
		snprintf(buf, len, "%s %s off", term_money(o->value, m, sizeof(m)), currency);
		break;
	case OFR_POINTS_MULT:
		snprintf(buf, len, "%d.%02dx points", (int)o->value / 100, (int)o->value % 100);
		break;
	default:
		snprintf(buf, len, "%d bonus points", (int)o->value);
		break;
	}
}

/* One block per printed coupon: what, for what, until when, the barcode (with its text). */
void receipt_coupons(struct prn_doc *d, const struct ofr_decision *offers, const char *currency)
{
	char what[64], until[32];
	for (size_t i = 0; i < offers->n; i++) {
		const struct ofr_offer *o = &offers->offers[i];
		if (o->held_back || !o->coupon[0])
			continue;
		prn_doc_rule(d, '=');
		benefit_words(o, currency, what, sizeof(what));
		prn_doc_text(d, PRN_CENTER, PRN_BOLD, "YOUR NEXT VISIT: %s", what);
		prn_doc_text(d, PRN_CENTER, 0, "%s%s", o->benefit == OFR_PERCENT_CATEGORY ? "any " : "",
			     o->name);
		pm_fmt_utc(o->expires_us, until, sizeof(until));
		until[10] = '\0';
		prn_doc_text(d, PRN_CENTER, 0, "Valid until %s, once%s", until,
			     o->kind == OFR_POINTS_BONUS || o->benefit == OFR_POINTS_MULT ? ", with your card" : "");
		prn_doc_barcode(d, PRN_CODE128, o->coupon);   /* the printer driver prints its text once, below */
	}
}

int receipt_build(struct prn_doc *d, const struct term_config *cfg, struct loy_db *db,
		  const struct loy_sale *s, const struct loy_commit_result *res,
		  const struct till_line *lines, size_t n_lines, const struct ofr_decision *offers)
{
	char a[64], b[64], when[32], name[128];
	int64_t subtotal = 0;
	size_t cols = (size_t)d->columns;

	if (s->type == LOY_RETURN)
		return receipt_return_build(d, cfg, db, s, res, lines, n_lines);

	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "%s", cfg->store_name);
	if (cfg->store_address[0])
		prn_doc_text(d, PRN_CENTER, 0, "%s", cfg->store_address);
	local_time(s->time_us, when, sizeof(when));
	prn_doc_pair(d, 0, when, s->terminal);
	snprintf(a, sizeof(a), "Sale %llu", (unsigned long long)s->seq);
	prn_doc_pair(d, 0, a, s->currency);
	prn_doc_rule(d, '-');
	for (size_t i = 0; i < s->n_items; i++) {
		const struct loy_item *it = &s->items[i];
		const char *nm = (lines && i < n_lines) ? lines[i].name : it->gtin;
		subtotal += it->line_cents;
		fit(name, sizeof(name), nm, cols - 12);
		if (it->qty == 1) {
			prn_doc_pair(d, 0, name, term_money(it->line_cents, a, sizeof(a)));
		} else {
			char q[64];
			prn_doc_text(d, PRN_LEFT, 0, "%s", name);
			snprintf(q, sizeof(q), "  %d x %s", (int)it->qty,
				 term_money(it->unit_price_cents, b, sizeof(b)));
			prn_doc_pair(d, 0, q, term_money(it->line_cents, a, sizeof(a)));
		}
	}
	prn_doc_rule(d, '-');
	prn_doc_pair(d, 0, "Subtotal", term_money(subtotal, a, sizeof(a)));
	for (uint32_t i = 0; i < s->n_redeemed; i++) {
		snprintf(b, sizeof(b), "Coupon %.20s", s->redeemed[i].coupon);
		prn_doc_pair(d, 0, b, term_money(-s->redeemed[i].discount_cents, a, sizeof(a)));
	}
	snprintf(b, sizeof(b), "TOTAL %s", s->currency);
	prn_doc_pair(d, PRN_BOLD | PRN_DOUBLE, b, term_money(s->total_cents, a, sizeof(a)));
	snprintf(b, sizeof(b), "Paid %s", loy_tender_name(s->tender));
	prn_doc_pair(d, 0, b, term_money(s->tendered_cents, a, sizeof(a)));
	if (s->tendered_cents > s->total_cents - s->points_spent * s->point_value_cents)
		prn_doc_pair(d, 0, "Change", term_money(s->tendered_cents - (s->total_cents - s->points_spent *
									    s->point_value_cents), a, sizeof(a)));
	if (s->card[0]) {
		size_t n = strlen(s->card);
		prn_doc_rule(d, '-');
		snprintf(b, sizeof(b), "Card ************%s", s->card + (n > 4 ? n - 4 : 0));
		snprintf(a, sizeof(a), "Tier %s", loy_tier_name(db, res->tier));
		prn_doc_pair(d, 0, b, a);
		if (s->points_spent) {
			/* Points paid part of the total (docs/accounts.md). */
			snprintf(b, sizeof(b), "%lld (%s)", (long long)-s->points_spent,
				 term_money(-s->points_spent * s->point_value_cents, a, sizeof(a)));
			prn_doc_pair(d, 0, "Points spent", b);
		}
		snprintf(b, sizeof(b), "%lld", (long long)res->points_earned);
		prn_doc_pair(d, 0, "Points earned", b);
		if (s->points_bonus) {
			snprintf(b, sizeof(b), "%lld", (long long)s->points_bonus);
			prn_doc_pair(d, 0, "Bonus points", b);
		}
		if (res->points_expired) {
			snprintf(b, sizeof(b), "%lld", (long long)-res->points_expired);
			prn_doc_pair(d, 0, "Points expired", b);
		}
		snprintf(b, sizeof(b), "%lld", (long long)res->points_balance);
		prn_doc_pair(d, PRN_BOLD, "Points balance", b);
	}
	if (offers)
		receipt_coupons(d, offers, s->currency);
	prn_doc_rule(d, '-');
	prn_doc_text(d, PRN_CENTER, 0, "%s", cfg->footer);
	/* The sale's reference: scanned (or keyed as #return TERMINAL:SEQ) to return items of it. */
	snprintf(b, sizeof(b), "%s:%llu", s->terminal, (unsigned long long)s->seq);
	prn_doc_barcode(d, PRN_CODE128, b);
	prn_doc_text(d, PRN_CENTER, 0, "%s", b);
	prn_doc_feed(d, 1);
	prn_doc_cut(d);
	return PM_OK;
}
