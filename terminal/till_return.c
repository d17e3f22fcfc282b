/*
 * till_return.c - the chain account's steps at the till (docs/accounts.md,
 * docs/till.md): spending points on a sale (#points N, points_spend), and a
 * return of a sale (#return TERMINAL:SEQ or the receipt's sale barcode,
 * return_open): its basis from this log or from HQ, each returned unit
 * checked as it is scanned, and the words for what the log refused at the
 * commit. till.c calls these; loyalty checks it all again in the commit.
 */
#include "terminal/till_int.h"
#include "common/pm_err.h"
#include "wire/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The idempotency key the open sale will commit with ("" = none). */
void till_next_ext_id(const struct till *t, char *out, size_t len)
{
	if (t->pos_sale_id[0])
		snprintf(out, len, "pos:%.58s", t->pos_sale_id);
	else if (t->ext_base[0])
		snprintf(out, len, "%s:%lu", t->ext_base, t->sale_ordinal + 1);
	else
		out[0] = '\0';
}

/*
 * The open sale was committed before (a scan script rerun after a crash, a
 * POS app's retry): its scans are not checked against the log again, which
 * already holds its effect; the tender reports it as already committed.
 */
bool till_replaying(const struct till *t)
{
	char ext[LOY_EXTID_MAX + 1];
	uint64_t seq = 0;
	till_next_ext_id(t, ext, sizeof(ext));
	return ext[0] && loy_sale_find_ext(t->db, ext, &seq) == PM_OK && seq;
}

/* Units of gtin on the open return's lines. */
static int64_t return_units(const struct till *t, const char *gtin)
{
	int64_t u = 0;
	for (size_t i = 0; i < t->n_lines; i++)
		if (!strcmp(t->lines[i].item.gtin, gtin))
			u += t->lines[i].item.qty;
	return u;
}

/* An item scanned on a return: it must be in the sale, with units left. PM_OK or PM_EREFUSED (told). */
int till_return_item_ok(struct till *t, const char *input, const char *gtin, int32_t qty, int64_t *unit)
{
	char msg[300];
	int32_t sold, returned;
	loy_return_units(&t->ret, gtin, &sold, &returned);
	if (t->return_replay) {
		*unit = loy_return_unit_price(&t->ret, gtin);
		return PM_OK;
	}
	if (sold <= 0) {
		snprintf(msg, sizeof(msg), "item %s is not in sale %s: set it aside; only items of that sale "
			 "can be returned", gtin, t->return_of);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	int64_t here = return_units(t, gtin), left = (int64_t)sold - returned - here;
	if (qty > left) {
		snprintf(msg, sizeof(msg), "sale %s had %d of item %s, %d returned before%s: at most %lld more can "
			 "be returned", t->return_of, (int)sold, gtin, (int)returned,
			 here ? " and some on this return" : "", (long long)(left > 0 ? left : 0));
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	*unit = loy_return_unit_price(&t->ret, gtin);
	return PM_OK;
}

/* The log refused the commit (loy_commit_result.refusal): say why and what to do; the sale stays open. */
void till_commit_refused(struct till *t, struct till_pending *p, const struct loy_commit_result *res)
{
	char msg[300];
	const struct loy_sale *s = &p->sale;
	struct loy_card c;
	switch (res->refusal) {
	case LOY_REFUSE_POINTS_BALANCE:
	case LOY_REFUSE_POINTS_OFFLINE:
	case LOY_REFUSE_POINTS_NO_CARD:
	case LOY_REFUSE_POINTS_TOTAL: {
		/* Another lane spent from this card meanwhile (or a balance expired): drop them. */
		int64_t left = 0;
		if (s->card[0] && loy_card_get(t->db, s->card, &c) == PM_OK)
			left = loy_points_spendable(&t->cfg->loy, &c, s->time_us, NULL);
		snprintf(msg, sizeof(msg), "the card cannot spend %lld points now (%s): they were taken off the "
			 "sale; key #points %lld or fewer, or tender without points", (long long)s->points_spent,
			 res->refusal == LOY_REFUSE_POINTS_OFFLINE ? "past its offline allowance"
			 : res->refusal == LOY_REFUSE_POINTS_TOTAL ? "worth more than the total"
			 : "its balance changed", (long long)left);
		t->points_spend = 0;
		break;
	}
	case LOY_REFUSE_RETURN_NOT_IN_SALE:
	case LOY_REFUSE_RETURN_TOO_MANY:
		snprintf(msg, sizeof(msg), "item %s: more units than sale %s has left to return (returned "
			 "meanwhile?); #void it, or #cancel the return",
			 res->refused_item >= 0 && (uint32_t)res->refused_item < s->n_items
				 ? s->items[res->refused_item].gtin : "?", t->return_of);
		break;
	case LOY_REFUSE_RETURN_OF_RETURN:
		snprintf(msg, sizeof(msg), "%s is a return, not a sale: a return cannot be returned; #cancel",
			 t->return_of);
		break;
	case LOY_REFUSE_RETURN_EMPTY:
		snprintf(msg, sizeof(msg), "return without items: scan the returned items first, or #cancel");
		break;
	default:
		snprintf(msg, sizeof(msg), "sale %s is not known to this terminal's log any more; #cancel the "
			 "return", t->return_of);
		break;
	}
	till_refuse(t, "#tender", msg);
}

#define POINTS_ABSURD 1000000000LL   /* more than any card holds: a mistyped number */

int till_points_spend(struct till *t, int64_t points, const char *input)
{
	char msg[300], a[32], b[32];
	struct loy_card c;
	bool offline;
	int64_t pv = t->cfg->loy.point_value_cents;
	if (t->returning) {
		till_refuse(t, input, "#points is for sales: a return gives the points back by itself");
		return PM_EREFUSED;
	}
	if (!t->card[0]) {
		till_refuse(t, input, "#points needs a card on the sale: scan the customer's card first");
		return PM_EREFUSED;
	}
	if (points < 1) {
		till_refuse(t, input, "#points needs a whole number of points, 1 or more (e.g. #points 500)");
		return PM_EREFUSED;
	}
	if (points > POINTS_ABSURD) {
		snprintf(msg, sizeof(msg), "#points %lld is more points than any card holds; key the number "
			 "again", (long long)points);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	if (till_replaying(t)) {
		t->points_spend = points;   /* committed before: the log has them already */
		return PM_OK;
	}
	/* The card as the log knows it now (another lane may have spent since it was scanned). */
	int rc = loy_card_get(t->db, t->card, &c);
	if (rc && rc != PM_ENOENT) {
		snprintf(msg, sizeof(msg), "cannot read the card's balance: %s; tender without points",
			 pm_strerror(rc));
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	int64_t spendable = loy_points_spendable(&t->cfg->loy, &c, till_now_us(t), &offline);
	if (points > c.points) {
		snprintf(msg, sizeof(msg), "the card has %lld points; it cannot spend %lld: key #points %lld or "
			 "fewer", (long long)c.points, (long long)points, (long long)(c.points > 0 ? spendable : 0));
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	if (points > spendable) {
		snprintf(msg, sizeof(msg), "the card's balance from HQ is %s: offline it may spend %lld more "
			 "points here (of %lld); key #points %lld or fewer, or sync with HQ and try again",
			 c.chain_as_of_us ? "older than loyalty.offline_window_s" : "not known here yet",
			 (long long)spendable, (long long)t->cfg->loy.offline_spend_limit, (long long)spendable);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	int64_t subtotal = till_subtotal(t);
	if (points * pv > subtotal) {
		snprintf(msg, sizeof(msg), "%lld points are worth %s, more than the sale's %s: key #points %lld or "
			 "fewer%s", (long long)points, term_money(points * pv, a, sizeof(a)),
			 term_money(subtotal, b, sizeof(b)), (long long)(subtotal / pv),
			 subtotal ? "" : " (scan the items first)");
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	t->points_spend = points;
	till_emit(t, &(struct till_event){ .kind = TILL_EV_POINTS_APPLIED, .points = points,
					  .amount_cents = points * pv, .balance = c.points - points });
	return PM_OK;
}

int till_ref_parse(const char *ref, char terminal[LOY_TERMINAL_MAX + 1], uint64_t *seq)
{
	const char *colon = strrchr(ref, ':');
	size_t tl = colon ? (size_t)(colon - ref) : 0;
	if (!colon || tl == 0 || tl > LOY_TERMINAL_MAX)
		return PM_EINVAL;
	for (size_t i = 0; i < tl; i++)
		if (ref[i] <= ' ' || ref[i] > '~')
			return PM_EINVAL;
	const char *d = colon + 1;
	if (*d < '1' || *d > '9' || strspn(d, "0123456789") != strlen(d) || strlen(d) > 19)
		return PM_EINVAL;
	errno = 0;
	unsigned long long v = strtoull(d, NULL, 10);
	if (errno || v > (unsigned long long)INT64_MAX)
		return PM_EINVAL;
	memcpy(terminal, ref, tl);
	terminal[tl] = '\0';
	*seq = v;
	return PM_OK;
}

/* Another terminal's sale, as HQ knows it: PM_OK with t->ret filled, or PM_EREFUSED (told). */
static int remote_basis(struct till *t, const char *input, const char *terminal, uint64_t seq)
{
	char msg[300];
	struct wire_sale_lookup l;
	memset(&l, 0, sizeof(l));
	int rc = t->hq.sale_lookup ? t->hq.sale_lookup(t->hq.ctx, terminal, seq, &l) : PM_EOFFLINE;
	if (rc == PM_ENOENT) {
		snprintf(msg, sizeof(msg), "HQ does not know sale %s:%llu: it is not a sale of this chain (or its "
			 "terminal has not synced it yet); check the receipt", terminal, (unsigned long long)seq);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "sale %s:%llu is not from this terminal and HQ cannot be reached: "
			 "return it at the terminal that sold it, or retry when HQ is back", terminal,
			 (unsigned long long)seq);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	rc = till_basis_from_wire(&l, &t->ret);
	wire_sale_lookup_free(&l);
	if (rc == PM_OK)
		rc = loy_return_basis_local(t->db, &t->ret);   /* and what was returned of it here */
	if (rc) {
		snprintf(msg, sizeof(msg), "cannot read sale %s:%llu: %s", terminal, (unsigned long long)seq,
			 pm_strerror(rc));
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	return PM_OK;
}

/* This log's sale; HQ, when it answers, may know returns of it made at other terminals. */
static int local_basis(struct till *t, const char *input, const char *terminal, uint64_t seq)
{
	char msg[300];
	int rc = loy_return_basis_get(t->db, seq, &t->ret);
	if (rc == PM_OK && strcmp(t->ret.sale.terminal, terminal))
		rc = PM_ENOENT;
	if (rc) {
		loy_return_basis_free(&t->ret);
		if (rc == PM_ENOENT)
			snprintf(msg, sizeof(msg), "no sale %s:%llu in this terminal's log: check the number "
				 "under the receipt's sale barcode", terminal, (unsigned long long)seq);
		else
			snprintf(msg, sizeof(msg), "cannot read sale %s:%llu: %s", terminal,
				 (unsigned long long)seq, pm_strerror(rc));
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	if (t->hq.sale_lookup && t->ret.sale.type == LOY_SALE) {
		struct wire_sale_lookup l;
		struct loy_return_basis hq;
		memset(&l, 0, sizeof(l));
		if (t->hq.sale_lookup(t->hq.ctx, terminal, seq, &l) == PM_OK &&
		    till_basis_from_wire(&l, &hq) == PM_OK) {
			loy_return_basis_merge(&t->ret, hq.returned, hq.n_returned, hq.refund_cents,
					       hq.points_clawed_back);
			loy_return_basis_free(&hq);
		}
		wire_sale_lookup_free(&l);
	}
	return PM_OK;
}

int till_return_open(struct till *t, const char *ref, const char *input)
{
	char msg[300], terminal[LOY_TERMINAL_MAX + 1];
	uint64_t seq;
	if (till_ref_parse(ref, terminal, &seq)) {
		snprintf(msg, sizeof(msg), "'%.60s' is not a sale of this chain: a sale is TERMINAL:SEQ as printed "
			 "under the receipt's sale barcode (e.g. store1-lane1:42); ask for the receipt", ref);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	if (t->returning) {
		till_refuse(t, input, "a return is open: #tender or #cancel it before the next #return");
		return PM_EREFUSED;
	}
	if (t->open && (t->n_lines || t->card[0] || t->n_coupons)) {
		till_refuse(t, input, "a sale is open: tender or #cancel it before #return");
		return PM_EREFUSED;
	}
	int rc = strcmp(terminal, t->cfg->loy.terminal_id) ? remote_basis(t, input, terminal, seq)
							    : local_basis(t, input, terminal, seq);
	if (rc)
		return rc;
	if (t->ret.sale.type == LOY_RETURN) {
		snprintf(msg, sizeof(msg), "%s:%llu is a return, not a sale: a return cannot be returned; "
			 "return the items from their sale (%s:%llu)", terminal, (unsigned long long)seq,
			 t->ret.sale.return_of_terminal, (unsigned long long)t->ret.sale.return_of_seq);
		loy_return_basis_free(&t->ret);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	bool left = false;
	t->return_replay = till_replaying(t);
	for (uint32_t i = 0; i < t->ret.sale.n_items && !left && !t->return_replay; i++) {
		int32_t sold, returned;
		loy_return_units(&t->ret, t->ret.sale.items[i].gtin, &sold, &returned);
		left = returned < sold;
	}
	if (!left && !t->return_replay) {
		snprintf(msg, sizeof(msg), "every unit of sale %s:%llu was returned already", terminal,
			 (unsigned long long)seq);
		loy_return_basis_free(&t->ret);
		till_refuse(t, input, msg);
		return PM_EREFUSED;
	}
	t->returning = true;
	t->open = true;
	t->n_lines = 0;
	t->points_spend = 0;
	snprintf(t->return_of, sizeof(t->return_of), "%s:%llu", terminal, (unsigned long long)seq);
	till_emit(t, &(struct till_event){ .kind = TILL_EV_RETURN_OPENED, .ref = t->return_of, .basis = &t->ret });
	return PM_OK;
}
