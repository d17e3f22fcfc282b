/*
 * receipt_rec.h - the receipt record (receipt_rec.c): what the print queue
 * keeps of a receipt that has not printed yet (loyalty's print_queue entry
 * carries these bytes; docs/till.md, "The receipt record"). Readers: the
 * till (queues and prints), posmark receipt --pending, tests, the fuzzer.
 *
 * It holds the receipt as it prints (the laid-out document, with the card
 * masked as on paper, never the full number) and the coupons printed on it,
 * which count as issued only once it printed. Versioned (first byte).
 * Threads: no state. Errors: PM_OK, PM_ENOMEM, PM_EINVAL (encode: a field
 * out of the format's range), PM_ECORRUPT (decode: not a record), PM_EVERSION
 * (decode: a newer version).
 */
#ifndef TERM_RECEIPT_REC_H
#define TERM_RECEIPT_REC_H

#include "drivers/drivers.h"
#include "offers/offers.h"
#include "common/pm_buf.h"

#include <stdbool.h>

#define RECEIPT_REC_V1 1

struct receipt_rec {
	bool is_return;               /* the receipt of a return */
	struct prn_doc doc;           /* the receipt as it prints */
	size_t n_offers;              /* coupons printed on it (held back ones are not) */
	struct ofr_offer offers[OFR_MAX_OFFERS]; /* campaign, rule_id, kind, gtin, benefit, value,
						  * expires_us and coupon set; the rest zero */
};

/*
 * Append the record of doc (and of offers' printed coupons; offers may be
 * NULL) to out. PM_OK, PM_ENOMEM, PM_EINVAL (an element or string longer
 * than the format allows). out keeps what was there before.
 */
int receipt_rec_encode(const struct prn_doc *doc, bool is_return, const struct ofr_decision *offers,
		       struct pm_buf *out);
/*
 * Decode len bytes into *r (r->doc initialised here; release with
 * receipt_rec_release even on failure). PM_OK, PM_ECORRUPT, PM_EVERSION, PM_ENOMEM.
 */
int receipt_rec_decode(const void *buf, size_t len, struct receipt_rec *r);
void receipt_rec_release(struct receipt_rec *r);

#endif
