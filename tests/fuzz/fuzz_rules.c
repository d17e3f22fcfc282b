/*
 * fuzz_rules.c - libFuzzer target: any bytes as a rule-set file. Loading
 * must never crash or leak; every finding has a message; a set that loads
 * must decide on a basket (indexed and naive agreeing) without crashing.
 * Seeds: tests/fuzz/corpus/rules/.
 */
#include "offers/offers.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct ofr_product products[] = {
	{ "05012342000018", "Farmhouse Whole milk 1L", "Dairy", "Farmhouse", 109 },
	{ "04006017000015", "Alpenhof Organic Whole milk 1L", "Dairy", "Alpenhof Organic", 179 },
	{ "04007598000012", "Acer Laptop 15in", "Electronics", "Acer", 49900 },
	{ "04007649000015", "Targus Laptop sleeve", "Electronics", "Targus", 2999 },
};

static int each(void *ctx, ofr_product_cb cb, void *cb_ctx)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(products) / sizeof(products[0]); i++)
		if (cb(cb_ctx, &products[i]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ofr_catalog_source cat = { NULL, each };
	struct ofr_rules *r = NULL;
	struct ofr_diags d = { 0 };
	char *text = malloc(size ? size : 1);   /* exact size: ASan sees over-reads */
	if (!text)
		return 0;
	memcpy(text, data, size);
	int rc = ofr_rules_load(text, size, &cat, "store1", &r, &d);
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].msg[0])
			abort();
	if (rc == PM_OK) {
		struct ofr_line l[3] = { { "05012342000018", 2, 218 }, { "04007598000012", 1, 49900 },
					 { "04007649000015", 1, 2999 } };
		struct ofr_card c = { .number = "6036010000001000005", .known = true, .consent = OFR_CONSENT_YES,
				      .tier = 1, .visits = 3, .last_visit_us = 1 };
		struct ofr_coupon_key key = { { 1 } };
		struct ofr_decision a, b;
		struct ofr_request req = { .items = l, .n_items = 3, .card = &c, .key = &key,
					   .now_us = INT64_C(1795000000) * 1000000 };
		if (ofr_decide(r, &req, &a, NULL) == PM_OK) {
			req.naive = true;
			if (ofr_decide(r, &req, &b, NULL) == PM_OK) {
				if (a.n != b.n)
					abort();
				for (size_t i = 0; i < a.n; i++)
					if (strcmp(a.offers[i].rule_id, b.offers[i].rule_id))
						abort();
			}
		}
	}
	ofr_rules_free(r);
	ofr_diags_release(&d);
	free(text);
	return 0;
}
