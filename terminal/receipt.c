/*
 * receipt.c - the receipt of a committed sale as a printer document:
 * header, one line per item (with quantity line), totals, tender, card and
 * points, footer, cut. 42 or 48 columns; local time only here.
 */
#include "terminal/till.h"
#include "common/pm_err.h"
#include "common/pm_time.h"
#include "wire/wire.h"

#include <stdlib.h>
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

/*
 * The next line of text at most width columns wide, broken after a word (a word longer than the
 * line is cut on a code point): its byte length; *next = where the line after it starts.
 */
static size_t wrap_next(const char *s, size_t width, const char **next)
{
	size_t w = 0, i = 0, brk = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (w == width)
				break;
			if (s[i] == ' ')
				brk = i;
			w++;
		}
		i++;
	}
	if (s[i] && brk > 0 && s[i] != ' ')
		i = brk;           /* the line would end inside a word: end it at the last space */
	size_t len = i;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	while (s[i] == ' ')
		i++;
	*next = s + i;
	return len;
}

/* text in lines of at most width columns, broken between words; the first line indented by ind1
 * columns, the others by ind2 (continued item names). */
static void wrap_text(struct prn_doc *d, int align, int style, const char *text, size_t width, size_t ind1,
		      size_t ind2)
{
	const char *p = text, *next;
	bool first = true;
	do {
		size_t ind = first ? ind1 : ind2;
		size_t len = wrap_next(p, width > ind ? width - ind : 1, &next);
		prn_doc_text(d, align, style, "%*s%.*s", (int)ind, "", (int)len, p);
		p = next;
		first = false;
	} while (*p);
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

/* ---- the offer events of one sale, read back from the log (reprints, redeemed lines) ---- */
struct offer_scan {
	struct loy_db *db;
	uint64_t sale, last;
	int64_t sale_us;
	const char *prefix;
	struct ofr_decision *issued;               /* NULL = not wanted */
	struct wire_offer_event red[TILL_MAX_COUPONS];
	size_t n_red;
	size_t visited;
};

static int kind_of(const char *name)
{
	for (int k = OFR_CROSS_SELL; k <= OFR_POINTS_BONUS; k++)
		if (!strcmp(ofr_kind_name(k), name))
			return k;
	return OFR_PROMOTION;
}

static int scan_event(void *vctx, const struct loy_event *ev)
{
	struct offer_scan *x = vctx;
	struct wire_offer_event e;
	char err[160];
	x->last = ev->seq;
	x->visited++;
	if ((ev->type != LOY_EV_OFFER_ISSUED && ev->type != LOY_EV_OFFER_REDEEMED) ||
	    wire_offer_decode(ev->payload, ev->payload_len, &e, err, sizeof(err)) || e.sale != x->sale || !e.coupon[0])
		return 0;
	if (ev->type == LOY_EV_OFFER_REDEEMED) {
		if (x->n_red < TILL_MAX_COUPONS)
			x->red[x->n_red++] = e;
		return 0;
	}
	if (!x->issued || x->issued->n >= OFR_MAX_OFFERS)
		return 0;
	struct ofr_offer *o = &x->issued->offers[x->issued->n++];
	struct loy_product p;
	memset(o, 0, sizeof(*o));
	snprintf(o->rule_id, sizeof(o->rule_id), "%s", e.rule);
	snprintf(o->campaign, sizeof(o->campaign), "%s", e.campaign);
	o->kind = kind_of(e.kind);
	o->benefit = e.benefit;
	o->value = (int32_t)e.value;
	snprintf(o->gtin, sizeof(o->gtin), "%s", e.gtin);
	snprintf(o->coupon, sizeof(o->coupon), "%s", e.coupon);
	o->expires_us = ofr_coupon_expires_us(x->prefix, e.coupon, x->sale_us);
	if (e.gtin[0] && loy_catalog_get(x->db, e.gtin, &p) == PM_OK)
		snprintf(o->name, sizeof(o->name), "%s", p.name);
	else
		snprintf(o->name, sizeof(o->name), "%s", e.gtin[0] ? e.gtin : "your next visit");
	return 0;
}

/* Walk the log's events after `after` for sale s's offer events. */
static void scan_offers(struct offer_scan *x, uint64_t after)
{
	x->last = after;
	do {
		x->visited = 0;
		if (loy_events_after(x->db, x->last, 4096, scan_event, x) < 0)
			return;
	} while (x->visited == 4096);
}

int receipt_sale_offers(struct loy_db *db, const struct term_config *cfg, const struct loy_sale *s,
			struct ofr_decision *issued)
{
	struct offer_scan *x = calloc(1, sizeof(*x));
	if (!x)
		return PM_ENOMEM;
	memset(issued, 0, sizeof(*issued));
	*x = (struct offer_scan){ .db = db, .sale = s->seq, .sale_us = s->time_us, .prefix = cfg->scan.coupon_prefix,
				  .issued = issued };
	scan_offers(x, 0);
	free(x);
	return PM_OK;
}

/* What redeemed coupon i was for: its benefit and the item it went to, from redeemed[i] (inside a
 * commit) or its OFFER_REDEEMED event (the latest sale: the last events; an older one: the whole log). */
static void redeemed_words(struct loy_db *db, const struct loy_sale *s, const struct till_line *lines, size_t n_lines,
			   uint32_t i_red, const struct ofr_offer *redeemed, char *out, size_t len)
{
	const char *code = s->redeemed[i_red].coupon;
	int64_t discount = s->redeemed[i_red].discount_cents;
	struct offer_scan x = { .db = db, .sale = s->seq };
	if (redeemed) {
		x.n_red = 1;
		snprintf(x.red[0].coupon, sizeof(x.red[0].coupon), "%s", code);
		x.red[0].benefit = redeemed[i_red].benefit;
		x.red[0].value = redeemed[i_red].value;
	} else {
		struct loy_stats st;
		bool latest = loy_stats(db, &st) == PM_OK && st.last_sale_seq == s->seq;
		scan_offers(&x, latest && st.last_event_seq > 4096 ? st.last_event_seq - 4096 : 0);
	}
	snprintf(out, len, "Coupon");
	for (size_t i = 0; i < x.n_red; i++) {
		const struct wire_offer_event *e = &x.red[i];
		if (strcmp(e->coupon, code))
			continue;
		struct ofr_offer o = { .benefit = e->benefit, .value = (int32_t)e->value };
		char what[64];
		const char *item = "";
		benefit_words(&o, s->currency, what, sizeof(what));
		/* the line it went to: the first whose one-unit discount is this one */
		for (uint32_t k = 0; k < s->n_items && e->benefit != OFR_AMOUNT_BASKET; k++) {
			const struct loy_item *it = &s->items[k];
			int64_t unit = it->qty > 0 ? it->line_cents / it->qty : 0;
			int64_t d = e->benefit == OFR_AMOUNT_ITEM ? (e->value < unit ? e->value : unit)
				    : (unit * e->value + 50) / 100;
			if (d == discount && unit > 0) {
				item = lines && k < n_lines ? lines[k].name : it->gtin;
				break;
			}
		}
		snprintf(out, len, "Coupon %s%s%s", what, item[0] || e->benefit == OFR_AMOUNT_BASKET ? " " : "",
			 e->benefit == OFR_AMOUNT_BASKET ? "basket" : item);
		return;
	}
}

/* One block per printed coupon: what, for what, until when, the barcode (with its text). */
void receipt_coupons(struct prn_doc *d, const struct ofr_decision *offers, const char *currency)
{
	char what[64], until[32];
	for (size_t i = 0; offers && i < offers->n; i++) {
		const struct ofr_offer *o = &offers->offers[i];
		if (o->held_back || !o->coupon[0])
			continue;
		char line[160];
		size_t cols = (size_t)d->columns;
		prn_doc_rule(d, '=');
		benefit_words(o, currency, what, sizeof(what));
		snprintf(line, sizeof(line), "YOUR NEXT VISIT: %s", what);
		wrap_text(d, PRN_CENTER, PRN_BOLD, line, cols, 0, 0);
		snprintf(line, sizeof(line), "%s%s", o->benefit == OFR_PERCENT_CATEGORY ? "any " : "", o->name);
		wrap_text(d, PRN_CENTER, 0, line, cols, 0, 0);
		pm_fmt_utc(o->expires_us, until, sizeof(until));
		until[10] = '\0';
		snprintf(line, sizeof(line), "Valid until %s, once%s", until,
			 o->kind == OFR_POINTS_BONUS || o->benefit == OFR_POINTS_MULT ? ", with your card" : "");
		wrap_text(d, PRN_CENTER, 0, line, cols, 0, 0);
		prn_doc_barcode(d, PRN_CODE128, o->coupon);   /* the printer driver prints its text once, below */
	}
}

int receipt_build(struct prn_doc *d, const struct term_config *cfg, struct loy_db *db,
		  const struct loy_sale *s, const struct loy_commit_result *res,
		  const struct till_line *lines, size_t n_lines, const struct ofr_decision *offers)
{
	return receipt_build_in_commit(d, cfg, db, s, res, lines, n_lines, offers, NULL);
}

/* Store, time and terminal, the sale's number and currency. */
static void sale_header(struct prn_doc *d, const struct term_config *cfg, const struct loy_sale *s)
{
	char a[64], when[32];
	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "%s", cfg->store_name);
	if (cfg->store_address[0])
		prn_doc_text(d, PRN_CENTER, 0, "%s", cfg->store_address);
	local_time(s->time_us, when, sizeof(when));
	prn_doc_pair(d, 0, when, s->terminal);
	snprintf(a, sizeof(a), "Sale %llu", (unsigned long long)s->seq);
	prn_doc_pair(d, 0, a, s->currency);
}

/* One block per item: its name (the till's, else the GTIN), its quantity line if more than one,
 * its price. Returns the subtotal, the sum of the line prices. */
static int64_t sale_items(struct prn_doc *d, const struct loy_sale *s, const struct till_line *lines,
			  size_t n_lines)
{
	char a[64], b[64], name[128];
	int64_t subtotal = 0;
	size_t cols = (size_t)d->columns;
	for (size_t i = 0; i < s->n_items; i++) {
		const struct loy_item *it = &s->items[i];
		const char *nm = (lines && i < n_lines) ? lines[i].name : it->gtin;
		subtotal += it->line_cents;
		if (it->qty == 1) {
			/* the first line of the name with the price; the rest below it, indented */
			const char *rest;
			size_t len = wrap_next(nm, cols - 12, &rest);
			snprintf(name, sizeof(name), "%.*s", (int)len, nm);
			prn_doc_pair(d, 0, name, term_money(it->line_cents, a, sizeof(a)));
			if (*rest)
				wrap_text(d, PRN_LEFT, 0, rest, cols, 2, 2);
		} else {
			char q[64];
			wrap_text(d, PRN_LEFT, 0, nm, cols, 0, 2);
			snprintf(q, sizeof(q), "  %d x %s", (int)it->qty,
				 term_money(it->unit_price_cents, b, sizeof(b)));
			prn_doc_pair(d, 0, q, term_money(it->line_cents, a, sizeof(a)));
		}
	}
	return subtotal;
}

/* One block per coupon redeemed: what it was for, on as many lines as it takes; the discount on
 * the last. redeemed as for receipt_build_in_commit. */
static void sale_redeemed(struct prn_doc *d, struct loy_db *db, const struct loy_sale *s,
			  const struct till_line *lines, size_t n_lines, const struct ofr_offer *redeemed)
{
	char a[64], name[128];
	size_t cols = (size_t)d->columns;
	for (uint32_t i = 0; i < s->n_redeemed; i++) {
		char words[160];
		const char *p = words, *next;
		redeemed_words(db, s, lines, n_lines, i, redeemed, words, sizeof(words));
		size_t ind = 0;
		for (size_t len; (len = wrap_next(p, cols - 12 - ind, &next)), *next; p = next, ind = 2)
			prn_doc_text(d, PRN_LEFT, 0, "%*s%.*s", (int)ind, "", (int)len, p);
		char last[176];
		snprintf(last, sizeof(last), "%*s%s", (int)ind, "", p);
		fit(name, sizeof(name), last, cols - 12);
		prn_doc_pair(d, 0, name, term_money(-s->redeemed[i].discount_cents, a, sizeof(a)));
	}
}

/* The total, the tender, and the change: what was tendered over the part of the total that
 * points did not pay. */
static void sale_total(struct prn_doc *d, const struct loy_sale *s)
{
	char a[64], b[64];
	snprintf(b, sizeof(b), "TOTAL %s", s->currency);
	prn_doc_pair(d, PRN_BOLD | PRN_DOUBLE, b, term_money(s->total_cents, a, sizeof(a)));
	snprintf(b, sizeof(b), "Paid %s", loy_tender_name(s->tender));
	prn_doc_pair(d, 0, b, term_money(s->tendered_cents, a, sizeof(a)));
	if (s->tendered_cents > s->total_cents - s->points_spent * s->point_value_cents)
		prn_doc_pair(d, 0, "Change", term_money(s->tendered_cents - (s->total_cents - s->points_spent *
									    s->point_value_cents), a, sizeof(a)));
}

/* The loyalty card (its last 4 digits only), its tier and the points of this sale. */
static void sale_card(struct prn_doc *d, struct loy_db *db, const struct loy_sale *s,
		      const struct loy_commit_result *res)
{
	char a[64], b[64];
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

/* The footer and the sale's reference, then feed and cut. */
static void sale_footer(struct prn_doc *d, const struct term_config *cfg, const struct loy_sale *s)
{
	char b[64];
	prn_doc_rule(d, '-');
	prn_doc_text(d, PRN_CENTER, 0, "%s", cfg->footer);
	/* The sale's reference: scanned (or keyed as #return TERMINAL:SEQ) to return items of it. */
	snprintf(b, sizeof(b), "%s:%llu", s->terminal, (unsigned long long)s->seq);
	prn_doc_barcode(d, PRN_CODE128, b);
	prn_doc_text(d, PRN_CENTER, 0, "%s", b);
	prn_doc_feed(d, 1);
	prn_doc_cut(d);
}

int receipt_build_in_commit(struct prn_doc *d, const struct term_config *cfg, struct loy_db *db,
			    const struct loy_sale *s, const struct loy_commit_result *res,
			    const struct till_line *lines, size_t n_lines, const struct ofr_decision *offers,
			    const struct ofr_offer *redeemed)
{
	char a[64];

	if (s->type == LOY_RETURN)
		return receipt_return_build(d, cfg, db, s, res, lines, n_lines);

	sale_header(d, cfg, s);
	prn_doc_rule(d, '-');
	int64_t subtotal = sale_items(d, s, lines, n_lines);
	prn_doc_rule(d, '-');
	prn_doc_pair(d, 0, "Subtotal", term_money(subtotal, a, sizeof(a)));
	sale_redeemed(d, db, s, lines, n_lines, redeemed);
	sale_total(d, s);
	if (s->card[0])
		sale_card(d, db, s, res);
	if (offers)
		receipt_coupons(d, offers, s->currency);
	sale_footer(d, cfg, s);
	return PM_OK;
}
