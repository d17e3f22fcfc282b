/*
 * fuzz_coupon.c - libFuzzer target: any bytes as a scanned coupon code.
 * Verification must never crash; a code that verifies must re-encode to
 * exactly itself (nothing outside the MAC can change what it grants), and
 * the discount on a basket must stay within the basket.
 * Seeds: tests/fuzz/corpus/coupon/.
 */
#include "offers/offers.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ofr_coupon_key key;
	static struct ofr_rules *rules;
	static int ready;
	char code[128], again[128], reason[200];
	struct ofr_coupon c;
	bool pending;
	if (!ready) {
		/* v2 codes name their offer in a rule set: this one (seed v2_item.txt is issued from it) */
		static const char set[] =
			"{\"format\":\"posmark-rules\",\"version\":1,\"name\":\"fuzz\",\"rules\":["
			"{\"id\":\"x\",\"campaign\":\"pasta-night\",\"kind\":\"cross_sell\","
			"\"when\":{\"basket\":{\"all\":[{\"item\":\"05012340000010\"}]}},"
			"\"offer\":{\"item\":\"04007649000015\",\"percent_off\":15}},"
			"{\"id\":\"b\",\"kind\":\"promotion\",\"offer\":{\"basket\":true,\"amount_off_cents\":300}}]}";
		struct ofr_diags d = { 0 };
		ofr_coupon_key_from_text("fuzzing key, the seeds are made with it", &key);
		if (ofr_rules_load(set, sizeof(set) - 1, NULL, "", &rules, &d) != PM_OK)
			abort();
		ofr_diags_release(&d);
		ready = 1;
	}
	if (size >= sizeof(code))
		return 0;
	memcpy(code, data, size);
	code[size] = '\0';
	(void)ofr_coupon_expires_us("PM", code, INT64_C(20000) * 86400 * 1000000);   /* reprints read any code */
	int rc = ofr_coupon_verify(&key, rules, "PM", code, "6036010000001000005", INT64_C(20000) * 86400 * 1000000, &c,
				   &pending, reason, sizeof(reason));
	if (rc != PM_OK)
		return reason[0] ? 0 : (abort(), 0);
	if (ofr_coupon_encode(&key, "PM", &c, again, sizeof(again)) != PM_OK || strcmp(again, code))
		abort();
	struct ofr_line l[2] = { { "05012342000018", 2, 218 }, { "04007649000015", 1, 2999 } };
	int line;
	int64_t d = ofr_coupon_discount(&c, l, 2, NULL, &line);
	if (d < 0 || d > 218 + 2999)
		abort();
	return 0;
}
