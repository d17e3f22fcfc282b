/*
 * till.c - the sale state machine of one lane: scans and cashier keys in,
 * a durable commit on tender, then the receipt. Nothing after the commit
 * (printing, events) can lose the sale; a refused scan never ends the sale.
 * A lane may instead ring a return (#return TERMINAL:SEQ) and spend points
 * on a sale (#points N): till_return.c has their rules (docs/accounts.md).
 */
#include "terminal/till_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int till_init(struct till *t, struct loy_db *db, const struct term_config *cfg,
	      struct prn_dev *printer, FILE *events, const char *ext_base)
{
	memset(t, 0, sizeof(*t));
	t->db = db;
	t->cfg = cfg;
	t->printer = printer;
	if (events) {
		t->sink = till_json_sink;
		t->sink_ctx = events;
	}
	t->pending_qty = 1;
	snprintf(t->ext_base, sizeof(t->ext_base), "%s", ext_base ? ext_base : "");
	prn_doc_init(&t->last_receipt, cfg->receipt_columns);
	t->queue_told = -1;
	till_offers_init(t);
	if (printer)
		till_queue_count(t);   /* receipts a previous run left waiting */
	return PM_OK;
}

void till_release(struct till *t)
{
	prn_doc_release(&t->last_receipt);
	for (size_t i = 0; i < t->copies_n; i++)
		prn_doc_release(&t->copies[i]);
	free(t->copies);
	t->copies = NULL;
	t->copies_n = t->queue_n = 0;
	loy_return_basis_free(&t->ret);
	till_offers_release(t);
}

void till_emit(struct till *t, const struct till_event *ev)
{
	if (t->sink)
		t->sink(t->sink_ctx, ev);
}

void till_refuse(struct till *t, const char *input, const char *reason)
{
	t->counts.refused_scans++;
	if (!t->sink)
		fprintf(stderr, "posmark checkout: scan refused: %s\n", reason);
	till_emit(t, &(struct till_event){ .kind = TILL_EV_SCAN_REFUSED, .input = input, .reason = reason });
}

int64_t till_now_us(const struct till *t)
{
	return t->clock_us ? t->clock_us : pm_now_us();
}

static void reset_sale(struct till *t)
{
	t->open = false;
	t->n_lines = 0;
	t->card[0] = '\0';
	t->pending_qty = 1;
	t->n_refused = 0;
	t->points_spend = 0;
	t->returning = false;
	t->return_replay = false;
	t->return_of[0] = '\0';
	loy_return_basis_free(&t->ret);
	till_offers_reset(t);
}

static int add_line(struct till *t, const char *input, const struct loy_product *p,
		    int64_t embedded_price)
{
	struct till_line *l;
	if (t->n_lines >= TILL_MAX_LINES) {
		till_refuse(t, input, "sale has too many lines; tender this sale and start another");
		return PM_EREFUSED;
	}
	if (t->returning) {
		/* A returned unit: at the price it was sold for (the refund is computed at commit). */
		int32_t qty = embedded_price >= 0 ? 1 : t->pending_qty;
		int64_t unit;
		t->pending_qty = 1;
		if (till_return_item_ok(t, input, p->gtin, qty, &unit))
			return PM_EREFUSED;
		l = &t->lines[t->n_lines++];
		memset(l, 0, sizeof(*l));
		memcpy(l->item.gtin, p->gtin, sizeof(l->item.gtin));
		snprintf(l->name, sizeof(l->name), "%s", p->name);
		l->item.qty = qty;
		l->item.unit_price_cents = unit;
		l->item.line_cents = unit * qty;
		till_emit(t, &(struct till_event){ .kind = TILL_EV_ITEM_ADDED, .line = l });
		return PM_OK;
	}
	l = &t->lines[t->n_lines++];
	memset(l, 0, sizeof(*l));
	memcpy(l->item.gtin, p->gtin, sizeof(l->item.gtin));
	snprintf(l->name, sizeof(l->name), "%s", p->name);
	if (embedded_price >= 0) {
		l->item.qty = 1;
		l->item.unit_price_cents = embedded_price;
		l->item.line_cents = embedded_price;
	} else {
		l->item.qty = t->pending_qty;
		l->item.unit_price_cents = p->price_cents;
		l->item.line_cents = p->price_cents * t->pending_qty;
	}
	t->pending_qty = 1;
	t->open = true;
	till_emit(t, &(struct till_event){ .kind = TILL_EV_ITEM_ADDED, .line = l });
	return PM_OK;
}

static void scan_item(struct till *t, const char *input, const struct scan_result *r)
{
	struct loy_product p;
	char msg[200];
	int rc = loy_catalog_get(t->db, r->gtin, &p);
	if (rc == PM_ENOENT && t->returning) {
		/* A product gone from the catalog can still come back: the sale names it. */
		memset(&p, 0, sizeof(p));
		memcpy(p.gtin, r->gtin, sizeof(p.gtin));
		snprintf(p.name, sizeof(p.name), "%s", r->gtin);
		rc = PM_OK;
	}
	if (rc == PM_ENOENT) {
		snprintf(msg, sizeof(msg), "unknown product %s: not in the catalog; set it aside "
			 "and call a supervisor", r->gtin);
		till_refuse(t, input, msg);
		return;
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "cannot read the catalog: %s", pm_strerror(rc));
		till_refuse(t, input, msg);
		return;
	}
	add_line(t, input, &p, r->kind == SCAN_VARIABLE_MEASURE ? r->price_cents : -1);
}

/*
 * A card this log has no HQ state of: ask HQ for its account within the
 * lookup budget (the hook applies it to the log); no answer: go on offline.
 */
bool till_card_wants_hq(struct loy_db *db, const char *card)
{
	struct loy_card c;
	int rc = loy_card_get(db, card, &c);
	return rc == PM_ENOENT || (rc == PM_OK && !c.chain_as_of_us);
}

static void account_lookup(struct till *t, const char *card)
{
	char tail[16];
	if (!t->hq.account_lookup || !till_card_wants_hq(t->db, card))
		return;
	int rc = t->hq.account_lookup(t->hq.ctx, card);
	pm_dbg("card %s: HQ account lookup: %s", pm_card_tail(card, tail, sizeof(tail)),
	       rc == PM_OK ? "applied" : pm_strerror(rc));
}

static void attach_card(struct till *t, const char *input, const struct scan_result *r)
{
	char tail[16];
	if (r->kind != SCAN_CARD) {
		till_refuse(t, input, r->error[0] ? r->error : "not a loyalty card number");
		return;
	}
	if (t->returning) {
		till_refuse(t, input, "a return credits the card of its sale: no card scan needed");
		return;
	}
	account_lookup(t, r->card);
	snprintf(t->card, sizeof(t->card), "%s", r->card);
	t->open = true;
	if (t->points_spend) {
		t->points_spend = 0;   /* they were the other card's */
		till_refuse(t, input, "points keyed for the card before were dropped: key #points again for this card");
	}
	till_offers_card(t);   /* reads the card's record into t->card_snap */
	pm_dbg("card %s attached", pm_card_tail(t->card, tail, sizeof(tail)));
	till_emit(t, &(struct till_event){ .kind = TILL_EV_CARD_ATTACHED, .card = &t->card_snap,
					  .tier = loy_tier_name(t->db, t->card_snap.tier) });
}

static int64_t sale_total(const struct till *t)
{
	int64_t total = 0;
	for (size_t i = 0; i < t->n_lines; i++)
		total += t->lines[i].item.line_cents;
	return total;
}

/* The return's record: its lines are the returned units; loyalty prices and checks it. */
static int return_prepare(struct till *t, int tender_kind, struct till_pending *p)
{
	struct loy_sale *s = &p->sale;
	if (t->n_lines == 0) {
		till_refuse(t, "#tender", "return without items: scan the returned items first, or #cancel");
		return PM_EINVAL;
	}
	for (size_t i = 0; i < t->n_lines; i++)
		p->items[i] = t->lines[i].item;
	s->type = LOY_RETURN;
	s->items = p->items;
	s->n_items = (uint32_t)t->n_lines;
	s->time_us = till_now_us(t);
	s->tender = tender_kind;
	snprintf(s->return_of_terminal, sizeof(s->return_of_terminal), "%s", t->ret.sale.terminal);
	s->return_of_seq = t->ret.sale.seq;
	s->return_basis = &t->ret;
	snprintf(s->card, sizeof(s->card), "%s", t->ret.sale.card);
	snprintf(s->terminal, sizeof(s->terminal), "%s", t->cfg->loy.terminal_id);
	snprintf(s->currency, sizeof(s->currency), "%s", t->cfg->loy.currency);
	p->is_return = true;
	return PM_OK;
}

int till_sale_prepare(struct till *t, int tender_kind, int64_t amount, struct till_pending *p)
{
	char msg[300];
	struct loy_sale *s = &p->sale;
	int rc;

	till_pending_release(p);
	memset(p, 0, sizeof(*p));
	if (t->returning) {
		if ((rc = return_prepare(t, tender_kind, p)))
			return rc;
		goto ids;
	}
	if (t->n_lines == 0) {
		till_refuse(t, "#tender", "tender without items: scan at least one item first, or #cancel");
		return PM_EINVAL;
	}
	int64_t discount = 0, bonus = 0;
	uint32_t n_red = till_coupons_apply(t, p->redeemed, &discount, &bonus);
	int64_t total = sale_total(t) - discount;
	int64_t pv = t->cfg->loy.point_value_cents;
	if (t->points_spend * pv > total) {
		char a[32], b[32];
		snprintf(msg, sizeof(msg), "%lld points are worth %s, more than the total %s after coupons: they "
			 "were taken off the sale; key #points %lld or fewer, then tender again",
			 (long long)t->points_spend, term_money(t->points_spend * pv, a, sizeof(a)),
			 term_money(total, b, sizeof(b)), (long long)(total / pv));
		t->points_spend = 0;
		till_refuse(t, "#tender", msg);
		return PM_EINVAL;
	}
	/* Points pay part of the total like a tender; the rest is paid in money. */
	int64_t due = total - t->points_spend * pv;
	p->amount_given = amount >= 0;
	if (amount < 0)
		amount = due;
	if (amount < due) {
		char a[32], b[32];
		snprintf(msg, sizeof(msg), "tendered %s is less than the %s %s; tender the full amount",
			 term_money(amount, a, sizeof(a)), t->points_spend ? "amount due after points" : "total",
			 term_money(due, b, sizeof(b)));
		till_refuse(t, "#tender", msg);
		return PM_EINVAL;
	}
	for (size_t i = 0; i < t->n_lines; i++)
		p->items[i] = t->lines[i].item;
	s->items = p->items;
	s->n_items = (uint32_t)t->n_lines;
	s->time_us = till_now_us(t);
	s->tender = tender_kind;
	s->total_cents = total;
	s->discount_cents = discount;
	s->redeemed = p->redeemed;
	s->n_redeemed = n_red;
	s->tendered_cents = amount;
	s->points_spent = t->points_spend;
	s->point_value_cents = t->points_spend ? pv : 0;
	s->points_bonus = t->card[0] ? bonus : 0;
	snprintf(s->card, sizeof(s->card), "%s", t->card);
	snprintf(s->terminal, sizeof(s->terminal), "%s", t->cfg->loy.terminal_id);
	snprintf(s->currency, sizeof(s->currency), "%s", t->cfg->loy.currency);
ids:
	till_next_ext_id(t, s->ext_id, sizeof(s->ext_id));
	p->till = t;
	if (!p->is_return)
		till_offers_bind(t, p);
	if (t->printer)
		till_receipt_bind(p);   /* the receipt waits in the log from the sale's own commit */
	return PM_OK;
}

/* The result of committed sale s (points from the commit, offers from the step inside it). */
static void fill_result(struct till *t, const struct till_pending *p, const struct loy_sale *s,
			const struct loy_commit_result *res, struct till_sale_result *out)
{
	memset(out, 0, sizeof(*out));
	out->committed = true;
	out->seq = res->seq;
	snprintf(out->terminal, sizeof(out->terminal), "%s", s->terminal);
	snprintf(out->ref, sizeof(out->ref), "%s:%llu", s->terminal, (unsigned long long)res->seq);
	snprintf(out->card, sizeof(out->card), "%s", s->card);
	snprintf(out->currency, sizeof(out->currency), "%s", s->currency);
	out->total_cents = s->total_cents;
	out->discount_cents = s->discount_cents;
	out->change_cents = s->tendered_cents - (s->total_cents - s->points_spent * s->point_value_cents);
	out->time_us = s->time_us;
	out->items = s->n_items;
	out->tender = s->tender;
	out->points_spent = res->points_spent;
	out->point_value_cents = s->point_value_cents;
	if (s->card[0]) {
		out->points_earned = res->points_earned;
		out->points_bonus = res->points_bonus;
		out->points_expired = res->points_expired;
		out->points_balance = res->points_balance;
		out->tier = res->tier;
		snprintf(out->tier_name, sizeof(out->tier_name), "%s", loy_tier_name(t->db, res->tier));
	}
	if (p->is_return) {
		out->is_return = true;
		out->change_cents = 0;
		snprintf(out->return_of, sizeof(out->return_of), "%s:%llu", s->return_of_terminal,
			 (unsigned long long)s->return_of_seq);
		out->refund_cents = res->refund_cents;
		out->points_clawed_back = res->points_clawed_back;
		return;
	}
	out->n_refused = t->n_refused;
	memcpy(out->refused, t->refused, t->n_refused * sizeof(t->refused[0]));
	till_offers_after_commit(t, p, s, out);
}

int till_sale_finish(struct till *t, struct till_pending *p, int rc, const struct loy_commit_result *res,
		     struct till_sale_result *out)
{
	struct loy_sale *s = &p->sale;
	struct till_sale_result *r = out ? out : malloc(sizeof(*r));
	if (rc == PM_EREFUSED) {
		till_commit_refused(t, p, res);
		rc = PM_EINVAL;
	} else if (rc == PM_EEXIST && !res->seq && s->n_redeemed) {
		/* A coupon was redeemed before (single use): refuse that one, keep the sale going. */
		till_coupon_used(t, s, res->refused_coupon);
		if (!p->amount_given)
			s->tendered_cents = s->total_cents - s->points_spent * s->point_value_cents;
		rc = TILL_COMMIT_AGAIN;
		if (s->tendered_cents < s->total_cents - s->points_spent * s->point_value_cents) {
			till_refuse(t, "#tender", "a coupon was refused and the tendered amount no longer covers the "
			       "total; tender again");
			rc = PM_EINVAL;
		}
	} else if (rc == PM_EEXIST && res->seq) {
		/* Committed before a restart (same script sale or POS sale id): never twice. */
		t->sale_ordinal++;
		t->counts.skipped++;
		if (r) {
			memset(r, 0, sizeof(*r));
			r->committed = r->already_committed = true;
			r->seq = res->seq;
		}
		till_emit(t, &(struct till_event){ .kind = TILL_EV_SALE_ALREADY_COMMITTED, .sale_id = res->seq });
		reset_sale(t);
		rc = PM_OK;
	} else if (rc) {
		/* The sale stays open in memory; the caller decides whether to retry. */
		pm_err("cannot commit sale: %s", pm_strerror(rc));
		till_emit(t, &(struct till_event){ .kind = TILL_EV_COMMIT_FAILED, .reason = pm_strerror(rc) });
	} else if (!r) {
		/* Out of memory for the result: the sale is committed; its receipt waits for a reprint. */
		pm_err("sale %llu committed; out of memory for its receipt: reprint it with "
		       "posmark receipt --sale %llu", (unsigned long long)res->seq, (unsigned long long)res->seq);
		t->sale_ordinal++;
		t->counts.committed++;
		reset_sale(t);
	} else {
		t->sale_ordinal++;
		t->counts.committed++;
		s->seq = res->seq;
		s->points_earned = res->points_earned;
		s->points_expired = res->points_expired;
		s->refund_cents = res->refund_cents;
		s->points_clawed_back = res->points_clawed_back;
		if (p->is_return) {
			/* The log priced it from the sale: its card, the refund as its total. */
			snprintf(s->card, sizeof(s->card), "%s", t->ret.sale.card);
			s->total_cents = s->tendered_cents = res->refund_cents;
		}
		fill_result(t, p, s, res, r);
		till_emit(t, &(struct till_event){ .kind = p->is_return ? TILL_EV_RETURN_COMMITTED
							 : TILL_EV_SALE_COMMITTED, .sale = r });
		till_print_committed(t, p, s);
		reset_sale(t);
	}
	if (r != out)
		free(r);
	return rc;
}

static int tender(struct till *t, const char *args)
{
	char kind[16] = "";
	long long amount = -1;
	struct till_pending *p;
	struct loy_commit_result res;
	int n = sscanf(args, "%15s %lld", kind, &amount);
	int tender_kind = loy_tender_parse(kind);

	if (n < 1 || tender_kind < 0) {
		till_refuse(t, "#tender", "tender must be '#tender cash|card|other [AMOUNT_CENTS]'");
		return PM_OK;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return PM_ENOMEM;
	int rc = till_sale_prepare(t, tender_kind, amount, p);
	if (rc == PM_OK) {
		do {
			rc = loy_sale_commit(t->db, &p->sale, &res);
			rc = till_sale_finish(t, p, rc, &res, NULL);
		} while (rc == TILL_COMMIT_AGAIN);
		if (rc == PM_EINVAL)
			rc = PM_OK; /* refused and reported; the sale stays open */
	} else {
		rc = PM_OK; /* refused and reported; the sale stays open */
	}
	till_pending_release(p);
	free(p);
	return rc;
}

/* "#points N": N a whole number 1..; anything else is refused with the way to key it. */
static void points_key(struct till *t, const char *line, const char *arg)
{
	char *end = NULL;
	long long n = arg && *arg >= '0' && *arg <= '9' ? strtoll(arg, &end, 10) : -1;
	while (end && *end == ' ')
		end++;
	if (n < 0 || !end || *end) {
		till_refuse(t, line, "#points needs a whole number of points, 1 or more (e.g. #points 500)");
		return;
	}
	till_points_spend(t, n, line);
}

static int cashier_key(struct till *t, const char *line)
{
	const char *arg = strchr(line, ' ');
	size_t klen = arg ? (size_t)(arg - line) : strlen(line);
	struct scan_result r;
	while (arg && *arg == ' ')
		arg++;
#define IS(k) (klen == strlen(k) && !strncmp(line, k, klen))
	if (IS("#qty")) {
		long q = arg ? strtol(arg, NULL, 10) : 0;
		if (q < 1 || q > 9999)
			till_refuse(t, line, "#qty needs a whole number 1..9999");
		else
			t->pending_qty = (int)q;
	} else if (IS("#void")) {
		if (t->n_lines == 0)
			till_refuse(t, line, "nothing to void: the sale has no lines");
		else {
			t->n_lines--;
			till_emit(t, &(struct till_event){ .kind = TILL_EV_LINE_VOIDED,
							  .line = &t->lines[t->n_lines] });
		}
	} else if (IS("#card")) {
		scan_decode_keyed_card(&t->cfg->scan, arg ? arg : "", &r);
		attach_card(t, line, &r);
	} else if (IS("#tender")) {
		return tender(t, arg ? arg : "");
	} else if (IS("#points")) {
		points_key(t, line, arg);
	} else if (IS("#return")) {
		till_return_open(t, arg ? arg : "", line);
	} else if (IS("#consent")) {
		/* The customer answers at the till: targeted offers yes or no, for the attached card. */
		bool yes = arg && !strcmp(arg, "yes");
		if (t->returning)
			till_refuse(t, line, "#consent is for a sale's card; #tender or #cancel the return first");
		else if (!t->card[0])
			till_refuse(t, line, "no card attached: scan the customer's card before #consent");
		else if (!arg || (!yes && strcmp(arg, "no")))
			till_refuse(t, line, "#consent needs yes or no");
		else if (till_set_consent(t, yes) == PM_OK)
			till_emit(t, &(struct till_event){ .kind = TILL_EV_CONSENT_RECORDED, .yes = yes });
	} else if (IS("#clock")) {
		/* Simulation only (demo, tests): stamp the following sales with this UTC time. */
		struct tm tm = { 0 };
		const char *end = arg ? strptime(arg, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
		if (!end || *end)
			till_refuse(t, line, "#clock needs a UTC time like 2026-11-24T08:00:00Z");
		else
			t->clock_us = (int64_t)timegm(&tm) * 1000000;
	} else if (IS("#reprint")) {
		if (till_reprint_receipt(t) == PM_ENOENT)
			till_refuse(t, line, "no receipt to reprint yet: this till has not printed one");
	} else if (IS("#cancel")) {
		till_cancel(t);
	} else {
		till_refuse(t, line, "unknown cashier key; use #qty, #void, #card, #points, #return, #tender or #cancel");
	}
#undef IS
	return PM_OK;
}

int till_feed(struct till *t, const struct scan_raw *raw)
{
	struct scan_result r;
	till_retry_receipt(t, false);   /* waiting receipts print when the printer is back */
	if (raw->is_key)
		return cashier_key(t, raw->data);
	scan_decode(&t->cfg->scan, raw->data, raw->len, raw->aim[0] ? raw->aim : NULL, &r);
	switch (r.kind) {
	case SCAN_ITEM:
	case SCAN_VARIABLE_MEASURE:
		scan_item(t, raw->data, &r);
		break;
	case SCAN_CARD:
		attach_card(t, raw->data, &r);
		break;
	case SCAN_COUPON:
		if (t->returning)
			till_refuse(t, raw->data, "coupons do not apply to a return: hand the coupon back");
		else
			till_coupon_scan(t, raw->data, &r);
		break;
	default: {
		/* The receipt's sale barcode is the sale's TERMINAL:SEQ: the same as #return it
		 * (a scanner may put the AIM id, "]C0" for Code 128, before the data). */
		char term[LOY_TERMINAL_MAX + 1];
		const char *ref = raw->data[0] == ']' && raw->len > 3 ? raw->data + 3 : raw->data;
		uint64_t seq;
		if (till_ref_parse(ref, term, &seq) == PM_OK)
			till_return_open(t, ref, raw->data);
		else
			till_refuse(t, raw->data, r.error);
		break;
	}
	}
	return PM_OK;
}

int till_add_priced(struct till *t, const char *gtin14, int32_t qty, int64_t unit_price_cents,
		    const char *name)
{
	struct loy_product p;
	if (strlen(gtin14) != LOY_GTIN_LEN || qty < 1 || qty > 9999 || unit_price_cents < 0)
		return PM_EINVAL;
	if (t->n_lines >= TILL_MAX_LINES)
		return PM_EFULL;
	memset(&p, 0, sizeof(p));
	memcpy(p.gtin, gtin14, sizeof(p.gtin));
	snprintf(p.name, sizeof(p.name), "%s", name && *name ? name : gtin14);
	p.price_cents = unit_price_cents;
	t->pending_qty = qty;
	return add_line(t, gtin14, &p, -1);
}

int till_void_line(struct till *t, size_t index)
{
	if (index >= t->n_lines)
		return PM_ENOENT;
	till_emit(t, &(struct till_event){ .kind = TILL_EV_LINE_VOIDED, .line = &t->lines[index],
					  .line_no = (int)index + 1 });
	memmove(&t->lines[index], &t->lines[index + 1], (t->n_lines - index - 1) * sizeof(t->lines[0]));
	t->n_lines--;
	return PM_OK;
}

int till_set_card(struct till *t, const struct scan_result *r)
{
	attach_card(t, r->card, r);
	return r->kind == SCAN_CARD ? PM_OK : PM_EINVAL;
}

void till_cancel(struct till *t)
{
	if (t->open) {
		t->counts.cancelled++;
		till_emit(t, &(struct till_event){ .kind = TILL_EV_SALE_CANCELLED, .count = t->n_lines });
	}
	reset_sale(t);
}

int64_t till_subtotal(const struct till *t)
{
	return sale_total(t);
}

int till_set_consent(struct till *t, bool yes)
{
	int rc = loy_card_set_consent(t->db, t->card, yes ? LOY_CONSENT_YES : LOY_CONSENT_NO, LOY_SRC_TILL,
				      t->clock_us ? t->clock_us : pm_now_us());
	if (rc)
		till_refuse(t, "#consent", pm_strerror(rc));
	return rc;
}
