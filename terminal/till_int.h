/*
 * till_int.h - between till.c (the sale state machine), receipt_queue.c (the
 * receipt queue), till_offers.c (the offer and coupon steps it calls) and
 * till_return.c (points and returns). Nobody else includes it.
 */
#ifndef TERM_TILL_INT_H
#define TERM_TILL_INT_H

#include "terminal/till.h"

/* till.c: a refused scan, key or tender, told (scan_refused) and counted. */
void till_refuse(struct till *t, const char *input, const char *reason);
/* The till's notion of now: the scan script's #clock if set (demo, tests). */
int64_t till_now_us(const struct till *t);

/* till_return.c: points and returns (docs/accounts.md). */
/* The idempotency key the open sale will commit with ("" = none). */
void till_next_ext_id(const struct till *t, char *out, size_t len);
/* The open sale's record is in the log already (a rerun, a POS app's retry). */
bool till_replaying(const struct till *t);
/* An item scanned on the open return: PM_OK with *unit its sale price, or PM_EREFUSED (told). */
int till_return_item_ok(struct till *t, const char *input, const char *gtin, int32_t qty, int64_t *unit);
/* The log refused p's commit (res->refusal): tell why and what to do; points refused are dropped. */
void till_commit_refused(struct till *t, struct till_pending *p, const struct loy_commit_result *res);

/* receipt_queue.c: the receipt queue (docs/till.md, "Receipt queue and reprint"). */
/* Count what waits (the log's print queue and the copies) into t->queue_n, queue_first, receipt_pending. */
void till_queue_count(struct till *t);
/* Lay the receipt out inside p's commit and queue it in the log with the sale (p->till set). */
void till_receipt_bind(struct till_pending *p);
/* p committed as s: keep its receipt for #reprint and print what waits, oldest first. */
void till_print_committed(struct till *t, struct till_pending *p, const struct loy_sale *s);

/* What a redeemed coupon's code says (campaign, benefit, value), as an offer (the coupons scanned). */
void till_redeemed_offer(const struct till *t, const char *code, struct ofr_offer *o);
/* The engine of a new till: the shared one (daemon), or its own (offers_disabled told on failure). */
void till_offers_init(struct till *t);
void till_offers_release(struct till *t);
/* Forget the open sale's card snapshot, profile and coupons. */
void till_offers_reset(struct till *t);
/*
 * Coupon throttle (till_throttle.c; docs/till.md): called first for every
 * coupon scan. PM_EREFUSED with reason while the lane is locked after bad
 * coupons; otherwise PM_OK, and a bad coupon (a guess) counts against the lane.
 */
int till_throttle_coupon(struct till *t, const struct scan_result *r, char *reason, size_t reason_len);
/* Apply the scanned coupons to the open sale; refused ones are reported and dropped.
 * *bonus: the points coupons' bonus points, credited with the sale (points_bonus). */
uint32_t till_coupons_apply(struct till *t, struct loy_redemption *red, int64_t *discount, int64_t *bonus);
/* The commit said coupon `index` of s was used before: refuse it and drop it from s. */
void till_coupon_used(struct till *t, struct loy_sale *s, int index);
/*
 * Hook the offer step into p's commit: loyalty calls it inside the write
 * transaction with the assigned seq; it decides the offers and gives the
 * redeemed, held-back and (printer ready) issued events (docs/till.md).
 */
void till_offers_bind(struct till *t, struct till_pending *p);
/* After p committed as s: keep its decision for the receipt; fill out's offers and redeemed. */
void till_offers_after_commit(struct till *t, const struct till_pending *p, const struct loy_sale *s,
			      struct till_sale_result *out);

#endif
