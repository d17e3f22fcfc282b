/*
 * test_wire_account.c - the chain account's downlink codecs (wire_account.c,
 * docs/accounts.md): account pages (posmark-accounts v1), the sale lookup
 * (posmark-sale v1) and the coupon status (posmark-coupon v1): round trips,
 * every refusal, truncations. Links wire and common only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CARD "4000001234567899"

static struct wire_item it2[2] = { { "04006381333931", 2, 250, 500 }, { "00000000000017", 1, 704, 704 } };

static void v2_sale(struct wire_sale *s, uint64_t seq)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->time_us = 1764547200000000 + (int64_t)seq;
	strcpy(s->card, CARD);
	strcpy(s->currency, "EUR");
	strcpy(s->tender, "card");
	s->total_cents = 1204;
	s->tendered_cents = 1104;
	s->points_earned = 11;
	s->n_items = 2;
	s->items = it2;
	s->points_spent = 100;
	s->point_value_cents = 1;
	s->n_ledger = 3;
	s->ledger[0] = (struct wire_ledger_entry){ WIRE_LEDGER_SPEND, -100 };
	s->ledger[1] = (struct wire_ledger_entry){ WIRE_LEDGER_EARN, 11 };
	s->ledger[2] = (struct wire_ledger_entry){ WIRE_LEDGER_BONUS, 50 };
}

static void gz_text(const char *text, struct pm_buf *out)
{
	uLongf cap = compressBound(strlen(text)) + 32;
	memset(out, 0, sizeof(*out));
	out->data = malloc(cap);
	assert_non_null(out->data);
	assert_int_equal(compress((Bytef *)out->data, &cap, (const Bytef *)text, strlen(text)), Z_OK);
	out->len = cap;
}

#define V2_BASE "{\"seq\":1,\"time_us\":1,\"card\":\"" CARD "\",\"currency\":\"EUR\",\"tender\":\"cash\"," \
	"\"total_cents\":5,\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":5,\"items\":[],\"redeemed\":[]"


struct acc_got {
	struct wire_accounts_header h;
	struct wire_account a[4];
	int n;
};
static int ag_header(void *ctx, const struct wire_accounts_header *h)
{
	((struct acc_got *)ctx)->h = *h;
	return 0;
}
static int ag_account(void *ctx, const struct wire_account *a)
{
	struct acc_got *g = ctx;
	if (g->n < 4)
		g->a[g->n] = *a;
	g->n++;
	return 0;
}

static int decode_accounts_text(const char *text, struct acc_got *g, char *err, size_t errlen)
{
	struct pm_buf gz;
	struct wire_accounts_cb cb = { g, ag_header, ag_account };
	memset(g, 0, sizeof(*g));
	gz_text(text, &gz);
	int rc = wire_accounts_decode(gz.data, gz.len, &cb, err, errlen);
	pm_buf_free(&gz);
	return rc;
}

static void test_accounts_roundtrip(void **state)
{
	(void)state;
	struct wire_accounts_header h = { 1, 1764547200000001, "store1-lane1", 42, 9001, true, 3 };
	struct wire_account a[3];
	struct wire_accounts_cb cb;
	struct acc_got g;
	struct pm_buf out;
	char err[300];
	memset(a, 0, sizeof(a));
	strcpy(a[0].card, CARD);
	a[0].points = -15;
	a[0].tier = 2;
	a[0].consent = WIRE_CONSENT_YES;
	a[0].consent_changed_us = 5;
	a[0].last_visit_us = 6;
	a[0].window_spend_cents = 250000;
	a[0].n_bought = 2;
	strcpy(a[0].bought[0], "04006381333931");
	strcpy(a[0].bought[1], "17");
	strcpy(a[1].card, "1");
	a[1].erased = true;
	strcpy(a[2].card, "22");
	assert_int_equal(wire_accounts_encode(&h, a, 3, &out), PM_OK);
	memset(&g, 0, sizeof(g));
	cb = (struct wire_accounts_cb){ &g, ag_header, ag_account };
	assert_int_equal(wire_accounts_decode(out.data, out.len, &cb, err, sizeof(err)), PM_OK);
	pm_buf_free(&out);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.h.as_of_us, 1764547200000001);
	assert_string_equal(g.h.terminal, "store1-lane1");
	assert_int_equal(g.h.included_sale_seq, 42);
	assert_int_equal(g.h.next_cursor, 9001);
	assert_true(g.h.more);
	assert_int_equal(g.h.count, 3);
	assert_string_equal(g.a[0].card, CARD);
	assert_int_equal(g.a[0].points, -15);
	assert_int_equal(g.a[0].tier, 2);
	assert_int_equal(g.a[0].consent, WIRE_CONSENT_YES);
	assert_int_equal(g.a[0].window_spend_cents, 250000);
	assert_int_equal(g.a[0].n_bought, 2);
	assert_string_equal(g.a[0].bought[1], "17");
	assert_true(g.a[1].erased);
	assert_false(g.a[2].erased);
	assert_int_equal(g.a[2].consent, WIRE_CONSENT_UNKNOWN);
	/* the encoder refuses what the decoder would */
	h.count = 2;
	assert_int_equal(wire_accounts_encode(&h, a, 3, &out), PM_EINVAL);
	h.count = 1;
	strcpy(a[0].card, "12a");
	assert_int_equal(wire_accounts_encode(&h, a, 1, &out), PM_EINVAL);
	strcpy(a[0].card, CARD);
	a[0].consent = 7;
	assert_int_equal(wire_accounts_encode(&h, a, 1, &out), PM_EINVAL);
	/* a callback's refusal stops and is returned */
	a[0].consent = WIRE_CONSENT_NO;
	assert_int_equal(wire_accounts_encode(&h, a, 1, &out), PM_OK);
	cb.header = NULL;
	cb.account = NULL;
	assert_int_equal(wire_accounts_decode(out.data, out.len, &cb, err, sizeof(err)), PM_OK);
	assert_int_equal(wire_accounts_decode(out.data, out.len / 2, &cb, err, sizeof(err)), PM_ECORRUPT);
	pm_buf_free(&out);
}

#define ACC_HDR(count, more) "{\"format\":\"posmark-accounts\",\"v\":1,\"as_of_us\":1,\"terminal\":\"T1\"," \
	"\"included_sale_seq\":0,\"next\":0,\"more\":" more ",\"count\":" #count "}\n"
#define ACC_OK "{\"card\":\"12\",\"points\":1,\"tier\":0,\"consent\":\"no\",\"consent_changed_us\":0," \
	"\"last_visit_us\":0,\"window_spend_cents\":0,\"bought\":[]}\n"

static void test_accounts_rejects(void **state)
{
	(void)state;
	struct acc_got g;
	char err[300];
	static const struct { const char *text, *why; int rc; } bad[] = {
		{ "", "no header", PM_EINVAL },
		{ ACC_HDR(1, "false"), "0 accounts where the header says 1", PM_EINVAL },
		{ ACC_HDR(0, "false") ACC_OK, "more accounts", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\"", "not terminated", PM_EINVAL },
		{ "{\"format\":\"posmark-accounts\",\"v\":2,\"as_of_us\":1,\"terminal\":\"T1\",\"included_sale_seq\":0,"
		  "\"next\":0,\"more\":false,\"count\":0}\n", "version 2", PM_EVERSION },
		{ "{\"format\":\"posmark-batch\",\"v\":1}\n", "format", PM_EINVAL },
		{ "{\"format\":\"posmark-accounts\",\"v\":1,\"as_of_us\":-1,\"terminal\":\"T1\",\"included_sale_seq\":0,"
		  "\"next\":0,\"more\":false,\"count\":0}\n", "as_of_us", PM_EINVAL },
		{ "{\"format\":\"posmark-accounts\",\"v\":1,\"as_of_us\":1,\"terminal\":\"T1\",\"included_sale_seq\":0,"
		  "\"next\":0,\"more\":1,\"count\":0}\n", "more", PM_EINVAL },
		{ ACC_HDR(5001, "false"), "count", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"1a\",\"erased\":true}\n", "card", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"erased\":false}\n", "erased card", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"erased\":true,\"points\":3}\n", "erased card", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"points\":1.5,\"tier\":0,\"consent\":\"no\",\"consent_changed_us\":0,"
		  "\"last_visit_us\":0,\"window_spend_cents\":0,\"bought\":[]}\n", "points", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"points\":1,\"tier\":16,\"consent\":\"no\",\"consent_changed_us\":0,"
		  "\"last_visit_us\":0,\"window_spend_cents\":0,\"bought\":[]}\n", "tier", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"points\":1,\"tier\":0,\"consent\":\"maybe\",\"consent_changed_us\":0,"
		  "\"last_visit_us\":0,\"window_spend_cents\":0,\"bought\":[]}\n", "consent", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"points\":1,\"tier\":0,\"consent\":\"no\",\"consent_changed_us\":0,"
		  "\"last_visit_us\":0,\"window_spend_cents\":0,\"bought\":[\"123456789012345\"]}\n", "bought[0]", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"points\":1,\"tier\":0,\"consent\":\"no\",\"consent_changed_us\":0,"
		  "\"last_visit_us\":0,\"window_spend_cents\":0}\n", "bought", PM_EINVAL },
		{ ACC_HDR(1, "false") "{\"card\":\"12\",\"card\":\"12\",\"erased\":true}\n", "not a JSON object", PM_EINVAL },
	};
	assert_int_equal(decode_accounts_text(ACC_HDR(1, "true") ACC_OK, &g, err, sizeof(err)), PM_OK);
	assert_int_equal(g.n, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = decode_accounts_text(bad[i].text, &g, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].why))
			fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, bad[i].why);
	}
}

static void test_sale_lookup(void **state)
{
	(void)state;
	struct wire_sale_lookup l, back;
	struct wire_item ret[1] = { { "04006381333931", 1, 0, 0 } };
	struct pm_buf out;
	char err[300];
	memset(&l, 0, sizeof(l));
	v2_sale(&l.sale, 7);
	strcpy(l.sale.terminal, "T-9");
	l.n_returned = 1;
	l.returned = ret;
	l.refund_cents = 250;
	l.points_clawed_back = 2;
	assert_int_equal(wire_sale_lookup_encode(&l, &out), PM_OK);
	assert_int_equal(wire_sale_lookup_decode(out.data, out.len, &back, err, sizeof(err)), PM_OK);
	assert_string_equal(back.sale.terminal, "T-9");
	assert_int_equal(back.sale.seq, 7);
	assert_int_equal(back.sale.n_items, 2);
	assert_string_equal(back.sale.items[1].gtin, "00000000000017");
	assert_int_equal(back.sale.n_ledger, 3);
	assert_int_equal(back.n_returned, 1);
	assert_int_equal(back.returned[0].qty, 1);
	assert_int_equal(back.refund_cents, 250);
	assert_int_equal(back.points_clawed_back, 2);
	wire_sale_lookup_free(&back);
	wire_sale_lookup_free(NULL);
	/* every byte cut short is refused, without leaks (ASan) */
	for (size_t n = 0; n < out.len - 1; n += 7) {
		assert_int_not_equal(wire_sale_lookup_decode(out.data, n, &back, err, sizeof(err)), PM_OK);
		assert_null(back.sale.items);
	}
	pm_buf_free(&out);
	static const struct { const char *text, *why; int rc; } bad[] = {
		{ "[]", "not a JSON object", PM_EINVAL },
		{ "{\"format\":\"posmark-sale\",\"v\":2}", "version 2", PM_EVERSION },
		{ "{\"format\":\"posmark-sale\",\"v\":1,\"terminal\":\"T\",\"sale\":{\"seq\":1}}", "sale: field", PM_EINVAL },
		{ "{\"format\":\"posmark-sale\",\"v\":1,\"terminal\":\"T\",\"sale\":" V2_BASE ",\"type\":\"sale\","
		  "\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]},\"returned\":[{\"gtin\":\"1\",\"qty\":0}],"
		  "\"refund_cents\":0,\"points_clawed_back\":0}", "returned[0]", PM_EINVAL },
		{ "{\"format\":\"posmark-sale\",\"v\":1,\"terminal\":\"T\",\"sale\":" V2_BASE ",\"type\":\"sale\","
		  "\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]},\"returned\":[],"
		  "\"refund_cents\":-1,\"points_clawed_back\":0}", "refund_cents", PM_EINVAL },
		{ "{\"format\":\"posmark-sale\",\"v\":1,\"sale\":" V2_BASE ",\"type\":\"sale\","
		  "\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]},\"returned\":[],"
		  "\"refund_cents\":0,\"points_clawed_back\":0}", "terminal", PM_EINVAL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = wire_sale_lookup_decode(bad[i].text, strlen(bad[i].text), &back, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].why))
			fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, bad[i].why);
		assert_null(back.sale.items);
	}
	memset(&l, 0, sizeof(l));
	assert_int_equal(wire_sale_lookup_encode(&l, &out), PM_EINVAL); /* no terminal */
}

static void test_coupon_status(void **state)
{
	(void)state;
	struct wire_coupon_status c = { "SAVE-10", true, "T1", 5 }, back;
	struct pm_buf out;
	char err[300];
	assert_int_equal(wire_coupon_status_encode(&c, &out), PM_OK);
	assert_int_equal(wire_coupon_status_decode(out.data, out.len, &back, err, sizeof(err)), PM_OK);
	pm_buf_free(&out);
	assert_string_equal(back.coupon, "SAVE-10");
	assert_true(back.redeemed);
	assert_string_equal(back.terminal, "T1");
	assert_int_equal(back.seq, 5);
	c = (struct wire_coupon_status){ "X\"1", false, "", 0 };
	assert_int_equal(wire_coupon_status_encode(&c, &out), PM_OK);
	assert_int_equal(wire_coupon_status_decode(out.data, out.len, &back, err, sizeof(err)), PM_OK);
	pm_buf_free(&out);
	assert_string_equal(back.coupon, "X\"1");
	assert_false(back.redeemed);
	c = (struct wire_coupon_status){ "X", true, "", 0 };
	assert_int_equal(wire_coupon_status_encode(&c, &out), PM_EINVAL);
	static const struct { const char *text, *why; int rc; } bad[] = {
		{ "{\"format\":\"posmark-coupon\",\"v\":3,\"coupon\":\"X\",\"redeemed\":false}", "version 3", PM_EVERSION },
		{ "{\"format\":\"posmark-coupon\",\"v\":1,\"coupon\":\"\",\"redeemed\":false}", "coupon", PM_EINVAL },
		{ "{\"format\":\"posmark-coupon\",\"v\":1,\"coupon\":\"X\",\"redeemed\":\"no\"}", "redeemed", PM_EINVAL },
		{ "{\"format\":\"posmark-coupon\",\"v\":1,\"coupon\":\"X\",\"redeemed\":true}", "terminal", PM_EINVAL },
		{ "{\"format\":\"posmark-coupon\",\"v\":1,\"coupon\":\"X\",\"redeemed\":true,\"terminal\":\"T\",\"seq\":0}",
		  "seq", PM_EINVAL },
		{ "{\"format\":\"posmark-coupon\",\"v\":1,\"coupon\":\"X\",\"redeemed\":false,\"seq\":4}", "not redeemed",
		  PM_EINVAL },
		{ "{\"format\":\"posmark-sale\",\"v\":1}", "format", PM_EINVAL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = wire_coupon_status_decode(bad[i].text, strlen(bad[i].text), &back, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].why))
			fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts_roundtrip),
		cmocka_unit_test(test_accounts_rejects),
		cmocka_unit_test(test_sale_lookup),
		cmocka_unit_test(test_coupon_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
