/*
 * receipt_queue.c - the till's receipts from commit to paper (docs/till.md,
 * "Receipt queue and reprint"): laid out inside the sale's commit and queued
 * in the log's print_queue by that same transaction (a loy_receipt_cb),
 * printed oldest first, and taken off the queue once printed in the
 * transaction that counts their coupons as issued (till_receipt_printed,
 * till_offers.c). #reprint copies wait in memory behind the log's queue.
 */
#include "terminal/till_int.h"
#include "terminal/receipt_rec.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <stdlib.h>
#include <string.h>

#define TILL_RECEIPT_RETRY_US 3000000  /* retry a waiting receipt at most every 3 s */
#define TILL_RECORD_RETRY_US 60000000  /* after the log could not record a print: once a minute */
#define TILL_RECORD_FAILED 1           /* print_log_queue: printed, not recorded (not the printer's fault) */

/* How many receipts wait (the log's print queue and the copies), and the oldest. */
void till_queue_count(struct till *t)
{
	uint64_t n = 0, first = 0;
	if (loy_printq_count(t->db, &n, &first))
		n = first = 0;
	t->queue_n = (size_t)n + t->copies_n;
	t->queue_first = first;
	t->receipt_pending = t->queue_n > 0;
}

/* The printer did not take a receipt: tell the cashier once per new reason, not on every retry. */
static void tell_waiting(struct till *t)
{
	int state = PRN_OFFLINE;
	prn_status(t->printer, &state);
	t->queue_next_try_us = pm_now_us() + TILL_RECEIPT_RETRY_US;
	till_queue_count(t);
	if (state == t->queue_told)
		return;
	t->queue_told = state;
	till_emit(t, &(struct till_event){ .kind = TILL_EV_RECEIPT_PENDING, .sale_id = t->queue_first,
					  .reason = prn_state_words(state), .count = t->queue_n });
	if (!t->sink)
		fprintf(stderr, "posmark checkout: %zu receipt%s waiting: %s%s\n", t->queue_n,
			t->queue_n == 1 ? "" : "s", prn_state_words(state),
			state == PRN_READY ? " (the printer did not take it; check it)" : "");
}

/*
 * Print the log's waiting receipts, oldest first. PM_OK when none is left
 * that can print, the printer's error (the rest wait), or
 * TILL_RECORD_FAILED when one printed but the log could not record it (then
 * no retry for a minute, so it is not printed again and again). A receipt
 * that printed leaves the queue with its coupons counted
 * (till_receipt_printed); one whose record cannot be read is skipped and
 * named (it stays).
 */
static int print_log_queue(struct till *t)
{
	uint64_t after = 0;
	for (;;) {
		struct loy_printq_entry e;
		struct receipt_rec *r;
		int rc = loy_printq_next(t->db, after, &e);
		if (rc == PM_ENOENT)
			return PM_OK;
		if (rc) {
			pm_err("cannot read the print queue: %s", pm_strerror(rc));
			return PM_OK;
		}
		after = e.seq;
		if (!(r = malloc(sizeof(*r)))) {
			free((void *)e.receipt);
			return PM_ENOMEM;
		}
		rc = receipt_rec_decode(e.receipt, e.receipt_len, r);
		free((void *)e.receipt);
		if (rc) {
			pm_err("the waiting receipt of sale %llu cannot be read (%s); reprint it with posmark receipt "
			       "--sale %llu", (unsigned long long)e.seq, pm_strerror(rc), (unsigned long long)e.seq);
			receipt_rec_release(r);
			free(r);
			continue;
		}
		if ((rc = prn_print(t->printer, &r->doc))) {
			receipt_rec_release(r);
			free(r);
			return rc;
		}
		bool removed = false;
		int drc = till_receipt_printed(t->db, t->offers_ready ? &t->offers : NULL, e.seq, r, till_now_us(t),
					       &removed);
		if (drc) {
			/* Stop here: going on would print it again at every retry. */
			pm_err("receipt of sale %llu printed, but the log could not record it (%s): it prints again "
			       "once the log can take it; free disk space (or see posmark log check)",
			       (unsigned long long)e.seq, pm_strerror(drc));
			receipt_rec_release(r);
			free(r);
			t->queue_next_try_us = pm_now_us() + TILL_RECORD_RETRY_US;
			return TILL_RECORD_FAILED;
		}
		/* A receipt printed later than its sale is news for the cashier; at once it is not. */
		if (removed && (t->queue_told >= 0 || e.seq != t->fresh_seq))
			till_emit(t, &(struct till_event){ .kind = TILL_EV_RECEIPT_PRINTED, .sale_id = e.seq });
		receipt_rec_release(r);
		free(r);
	}
}

size_t till_retry_receipt(struct till *t, bool force)
{
	if (!t->printer)
		return 0;
	/* Only this till's commits add to the queue (they force): nothing waits, nothing to read. */
	if (!force && (t->queue_n == 0 || pm_now_us() < t->queue_next_try_us))
		return t->queue_n;
	int rc = print_log_queue(t);
	if (rc == TILL_RECORD_FAILED) {
		till_queue_count(t);
		return t->queue_n;
	}
	while (rc == PM_OK && t->copies_n > 0) {
		if ((rc = prn_print(t->printer, &t->copies[0])))
			break;
		till_emit(t, &(struct till_event){ .kind = TILL_EV_RECEIPT_PRINTED, .sale_id = 0, .reprint = true });
		prn_doc_release(&t->copies[0]);
		memmove(t->copies, t->copies + 1, (t->copies_n - 1) * sizeof(*t->copies));
		t->copies_n--;
	}
	if (rc) {
		tell_waiting(t);
		return t->queue_n;
	}
	till_queue_count(t);
	if (t->queue_n == 0)
		t->queue_told = -1;
	return t->queue_n;
}

int till_reprint_receipt(struct till *t)
{
	if (t->last_receipt.n == 0)
		return PM_ENOENT;
	struct prn_doc *q = realloc(t->copies, (t->copies_n + 1) * sizeof(*q));
	if (!q)
		return PM_ENOMEM;
	t->copies = q;
	struct prn_doc *d = &t->copies[t->copies_n];
	prn_doc_init(d, t->last_receipt.columns);
	int rc = prn_doc_text(d, PRN_CENTER, PRN_BOLD, "%s", "*** COPY ***");
	if (rc == PM_OK)
		rc = prn_doc_append(d, &t->last_receipt);
	if (rc) {
		prn_doc_release(d);
		return rc;
	}
	t->copies_n++;
	till_retry_receipt(t, true);
	return PM_OK;
}

/*
 * loy_receipt_cb: inside the commit's transaction, once seq, points and the
 * offers are known, lay out the receipt and give its record to the log's
 * print queue. A layout that fails costs the receipt, never the sale.
 */
static int receipt_in_commit(void *ctx, const struct loy_sale *s, const struct loy_commit_result *res,
			     const void **rec, size_t *len)
{
	struct till_pending *p = ctx;
	struct till *t = p->till;
	struct ofr_offer red[TILL_MAX_COUPONS];
	*rec = NULL;
	*len = 0;
	prn_doc_release(&p->doc);
	prn_doc_init(&p->doc, t->cfg->receipt_columns);
	pm_buf_reset(&p->receipt);
	term_offers_lock(&t->offers);   /* campaign names read the rules a daemon shares */
	for (uint32_t i = 0; i < s->n_redeemed && i < TILL_MAX_COUPONS; i++)
		till_redeemed_offer(t, s->redeemed[i].coupon, &red[i]);
	term_offers_unlock(&t->offers);
	int rc = receipt_build_in_commit(&p->doc, t->cfg, t->db, s, res, t->lines, t->n_lines,
					 p->is_return ? NULL : &p->decision, s->n_redeemed <= TILL_MAX_COUPONS ? red : NULL);
	if (rc == PM_OK)
		rc = receipt_rec_encode(&p->doc, p->is_return, p->is_return ? NULL : &p->decision, &p->receipt);
	if (rc) {
		pm_err("cannot lay out the receipt of sale %llu (%s); print it with posmark receipt --sale %llu",
		       (unsigned long long)s->seq, pm_strerror(rc), (unsigned long long)s->seq);
		prn_doc_release(&p->doc);
		prn_doc_init(&p->doc, t->cfg->receipt_columns);
		return PM_OK;
	}
	*rec = p->receipt.data;
	*len = p->receipt.len;
	return PM_OK;
}

void till_print_committed(struct till *t, struct till_pending *p, const struct loy_sale *s)
{
	prn_doc_release(&t->last_receipt);
	prn_doc_init(&t->last_receipt, t->cfg->receipt_columns);
	/* A lane without a printer (a POS app prints its own receipt, with the
	 * coupon lines of the tender reply) has nothing to lay out or reprint. */
	if (!t->printer)
		return;
	t->last_receipt = p->doc;   /* moved */
	prn_doc_init(&p->doc, t->cfg->receipt_columns);
	t->fresh_seq = s->seq;
	/* Older waiting receipts first, so paper order is sale order. */
	till_retry_receipt(t, true);
}

void till_receipt_bind(struct till_pending *p)
{
	p->sale.receipt_cb = receipt_in_commit;
	p->sale.receipt_ctx = p;
}
