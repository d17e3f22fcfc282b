/*
 * test_wire.c - wire's event payload codecs (wire_event.c): every type's
 * round trip, the exact bytes terminals in the field write (consent and
 * erasure from loyalty/card.c, offers from terminal/offers_wiring.c before
 * wire existed), and the decoders' refusals of malformed payloads; batch
 * v2 (ledger entries, returns) beside v1, and the sale reference parser:
 * round trips and every refusal. The chain account's downlink codecs are in
 * test_wire_account.c. Links wire and common only.
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

/* Decode from an exact-size heap copy without a NUL, so ASan sees any over-read. */
static int decode_exact(int type, const char *text, size_t len, struct wire_event_payload *out, char *err,
			size_t errlen)
{
	char *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, text, len);
	int rc = wire_event_payload_decode(type, p, len, out, err, errlen);
	free(p);
	return rc;
}

static int decode_str(int type, const char *text, struct wire_event_payload *out, char *err, size_t errlen)
{
	return decode_exact(type, text, strlen(text), out, err, errlen);
}

static void test_type_names(void **state)
{
	(void)state;
	static const char *const want[] = { NULL, "consent", "erasure", "offer_issued", "offer_held_back",
					    "offer_redeemed" };
	for (int t = 1; t <= WIRE_EV_TYPE_MAX; t++) {
		assert_string_equal(wire_event_type_name(t), want[t]);
		assert_int_equal(wire_event_type_parse(want[t]), t);
	}
	assert_null(wire_event_type_name(0));
	assert_null(wire_event_type_name(WIRE_EV_TYPE_MAX + 1));
	assert_null(wire_event_type_name(-1));
	assert_int_equal(wire_event_type_parse("sale"), PM_EINVAL);
	assert_int_equal(wire_event_type_parse("Consent"), PM_EINVAL);
	assert_int_equal(wire_event_type_parse(""), PM_EINVAL);
	assert_int_equal(wire_event_type_parse(NULL), PM_EINVAL);
	/* the numbers are the terminal log's: never renumbered */
	assert_int_equal(WIRE_EV_CONSENT, 1);
	assert_int_equal(WIRE_EV_OFFER_REDEEMED, 5);
}

static void test_consent(void **state)
{
	(void)state;
	static const char *const words[] = { "unknown", "yes", "no" };
	char err[200];
	for (int c = WIRE_CONSENT_UNKNOWN; c <= WIRE_CONSENT_NO; c++) {
		struct wire_consent_event e = { CARD, c }, back;
		struct pm_buf b = { 0 };
		char want[64];
		assert_int_equal(wire_consent_encode(&e, &b), PM_OK);
		/* byte for byte what loyalty/card.c writes: "CARD word" */
		snprintf(want, sizeof(want), "%s %s", CARD, words[c]);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data, want, b.len);
		assert_int_equal(wire_consent_decode(b.data, b.len, &back, err, sizeof(err)), PM_OK);
		assert_string_equal(back.card, CARD);
		assert_int_equal(back.consent, c);
		assert_string_equal(wire_consent_name(c), words[c]);
		pm_buf_free(&b);
	}
	assert_null(wire_consent_name(3));
	assert_null(wire_consent_name(-1));
	struct wire_consent_event bad = { "40000012345a", WIRE_CONSENT_YES };
	struct pm_buf b = { 0 };
	assert_int_equal(wire_consent_encode(&bad, &b), PM_EINVAL);
	struct wire_consent_event bad2 = { CARD, 7 };
	assert_int_equal(wire_consent_encode(&bad2, &b), PM_EINVAL);
	assert_int_equal(b.len, 0);
	pm_buf_free(&b);
}

static void test_consent_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", " yes", CARD, CARD "yes", CARD " ", CARD " maybe", CARD " Yes", CARD " yes ", CARD "  yes",
		CARD " yes\n", "40000012345678991234 yes", "4000x01234567899 no", "-1 no", CARD " no\x00",
	};
	char err[200];
	struct wire_event_payload d;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		size_t len = strlen(bad[i]) + (i == sizeof(bad) / sizeof(bad[0]) - 1); /* the last has a NUL inside */
		assert_int_equal(decode_exact(WIRE_EV_CONSENT, bad[i], len, &d, err, sizeof(err)), PM_EINVAL);
		assert_non_null(strstr(err, "consent payload"));
	}
	/* 19 digits is the longest card */
	assert_int_equal(decode_str(WIRE_EV_CONSENT, "4000001234567899123 no", &d, err, sizeof(err)), PM_OK);
	assert_string_equal(d.card, "4000001234567899123");
	assert_int_equal(d.consent, WIRE_CONSENT_NO);
}

static void test_erasure(void **state)
{
	(void)state;
	char err[200];
	struct wire_erasure_event e = { .card = CARD };
	struct pm_buf b = { 0 };
	struct wire_event_payload d;
	assert_int_equal(wire_erasure_encode(&e, &b), PM_OK);
	assert_int_equal(b.len, strlen(CARD));
	assert_memory_equal(b.data, CARD, b.len);   /* loyalty/card.c writes the bare number */
	assert_int_equal(decode_exact(WIRE_EV_ERASURE, b.data, b.len, &d, err, sizeof(err)), PM_OK);
	assert_string_equal(d.card, CARD);
	assert_int_equal(d.consent, -1);
	pm_buf_free(&b);
	static const char *const bad[] = { "", " " CARD, CARD " ", CARD "\n", "12345678901234567890", "4000a" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode_str(WIRE_EV_ERASURE, bad[i], &d, err, sizeof(err)), PM_EINVAL);
	struct wire_erasure_event empty = { .card = "" };
	assert_int_equal(wire_erasure_encode(&empty, &b), PM_EINVAL);
	pm_buf_free(&b);
}

static void fill_offer(struct wire_offer_event *o)
{
	memset(o, 0, sizeof(*o));
	o->sale = 42;
	strcpy(o->campaign, "C1");
	strcpy(o->rule, "R1");
	strcpy(o->card, CARD);
	o->has_offer = true;
	strcpy(o->kind, "cross_sell");
	strcpy(o->gtin, "04006381333931");
	o->benefit = 1;
	o->value = 10;
}

static void expect_bytes(int type, const struct wire_offer_event *o, const char *want)
{
	struct pm_buf b = { 0 };
	struct wire_event_payload d;
	char err[200];
	assert_int_equal(wire_offer_encode(type, o, &b), PM_OK);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	/* and back */
	assert_int_equal(decode_exact(type, b.data, b.len, &d, err, sizeof(err)), PM_OK);
	assert_int_equal(d.type, type);
	assert_memory_equal(&d.offer, o, sizeof(*o));
	assert_string_equal(d.card, o->card);
	pm_buf_free(&b);
}

/* The payloads terminal/offers_wiring.c's term_offers_event wrote, byte for byte. */
static void test_offer_bytes(void **state)
{
	(void)state;
	struct wire_offer_event o;
	fill_offer(&o);
	strcpy(o.coupon, "PMC1");
	expect_bytes(WIRE_EV_OFFER_ISSUED, &o,
		     "{\"v\":1,\"sale\":42,\"campaign\":\"C1\",\"rule\":\"R1\",\"card\":\"" CARD "\","
		     "\"kind\":\"cross_sell\",\"gtin\":\"04006381333931\",\"benefit\":1,\"value\":10,\"coupon\":\"PMC1\"}");
	memset(o.coupon, 0, sizeof(o.coupon));
	expect_bytes(WIRE_EV_OFFER_HELD_BACK, &o,
		     "{\"v\":1,\"sale\":42,\"campaign\":\"C1\",\"rule\":\"R1\",\"card\":\"" CARD "\","
		     "\"kind\":\"cross_sell\",\"gtin\":\"04006381333931\",\"benefit\":1,\"value\":10}");
	/* a redemption: the till knows the campaign, benefit and value, not the rule or item */
	fill_offer(&o);
	memset(o.rule, 0, sizeof(o.rule));
	memset(o.gtin, 0, sizeof(o.gtin));
	o.benefit = 2;
	o.value = 50;
	strcpy(o.coupon, "PMC9");
	o.discount_cents = 50;
	expect_bytes(WIRE_EV_OFFER_REDEEMED, &o,
		     "{\"v\":1,\"sale\":42,\"campaign\":\"C1\",\"rule\":\"\",\"card\":\"" CARD "\","
		     "\"kind\":\"cross_sell\",\"gtin\":\"\",\"benefit\":2,\"value\":50,\"coupon\":\"PMC9\","
		     "\"discount_cents\":50}");
	/* no offer attached, no card: the bare form */
	memset(&o, 0, sizeof(o));
	o.sale = 7;
	expect_bytes(WIRE_EV_OFFER_HELD_BACK, &o, "{\"v\":1,\"sale\":7,\"campaign\":\"\",\"rule\":\"\",\"card\":\"\"}");
	/* non-ASCII survives */
	fill_offer(&o);
	strcpy(o.campaign, "caf\xc3\xa9 \"q\" \\");
	expect_bytes(WIRE_EV_OFFER_ISSUED, &o,
		     "{\"v\":1,\"sale\":42,\"campaign\":\"caf\xc3\xa9 \\\"q\\\" \\\\\",\"rule\":\"R1\",\"card\":\"" CARD "\","
		     "\"kind\":\"cross_sell\",\"gtin\":\"04006381333931\",\"benefit\":1,\"value\":10}");
}

static void test_offer_encode_rejects(void **state)
{
	(void)state;
	struct wire_offer_event o;
	struct pm_buf b = { 0 };
	fill_offer(&o);
	assert_int_equal(wire_offer_encode(WIRE_EV_CONSENT, &o, &b), PM_EINVAL);
	assert_int_equal(wire_offer_encode(WIRE_EV_OFFER_REDEEMED + 1, &o, &b), PM_EINVAL);
	strcpy(o.card, "4000 0012");
	assert_int_equal(wire_offer_encode(WIRE_EV_OFFER_ISSUED, &o, &b), PM_EINVAL);
	fill_offer(&o);
	strcpy(o.gtin, "0400638133393X");
	assert_int_equal(wire_offer_encode(WIRE_EV_OFFER_ISSUED, &o, &b), PM_EINVAL);
	fill_offer(&o);
	strcpy(o.campaign, "bad \xff utf-8");
	assert_int_equal(wire_offer_encode(WIRE_EV_OFFER_ISSUED, &o, &b), PM_EINVAL);
	fill_offer(&o);
	o.sale = (uint64_t)INT64_MAX + 1;
	assert_int_equal(wire_offer_encode(WIRE_EV_OFFER_ISSUED, &o, &b), PM_EINVAL);
	assert_int_equal(b.len, 0);
	pm_buf_free(&b);
}

static void test_offer_decode_lenient_where_v1_allows(void **state)
{
	(void)state;
	struct wire_event_payload d;
	char err[200];
	/* spaces, another key order, an unknown member, "coupon":"" */
	assert_int_equal(decode_str(WIRE_EV_OFFER_ISSUED,
				    " { \"card\" : \"" CARD "\", \"rule\":\"R\", \"campaign\":\"C\", \"sale\":3, \"v\":1,"
				    " \"note\":[1,2], \"coupon\":\"\" } ", &d, err, sizeof(err)), PM_OK);
	assert_int_equal(d.offer.sale, 3);
	assert_string_equal(d.offer.campaign, "C");
	assert_false(d.offer.has_offer);
	assert_string_equal(d.offer.coupon, "");
	assert_string_equal(d.card, CARD);
	/* the longest fields that fit */
	char big[400];
	snprintf(big, sizeof(big), "{\"v\":1,\"sale\":9223372036854775807,\"campaign\":\"%063d\",\"rule\":\"r\","
		 "\"card\":\"\",\"value\":-9223372036854775807}", 0);
	assert_int_equal(decode_str(WIRE_EV_OFFER_HELD_BACK, big, &d, err, sizeof(err)), PM_OK);
	assert_int_equal(d.offer.sale, (uint64_t)INT64_MAX);
	assert_int_equal(strlen(d.offer.campaign), 63);
	assert_string_equal(d.card, "");
}

static void test_offer_decode_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *payload;
		int rc;
		const char *in_err;
	} bad[] = {
		{ "", PM_EINVAL, "not a JSON object" },
		{ "[1]", PM_EINVAL, "not a JSON object" },
		{ "\"x\"", PM_EINVAL, "not a JSON object" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"} x", PM_EINVAL, "not a JSON object" },
		{ "{\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'v'" },
		{ "{\"v\":0,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'v'" },
		{ "{\"v\":\"1\",\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'v'" },
		{ "{\"v\":2,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EVERSION, "version 2" },
		{ "{\"v\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'sale'" },
		{ "{\"v\":1,\"sale\":-1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'sale'" },
		{ "{\"v\":1,\"sale\":1.5,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'sale'" },
		{ "{\"v\":1,\"sale\":1,\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'campaign' is missing" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"card\":\"\"}", PM_EINVAL, "'rule' is missing" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\"}", PM_EINVAL, "'card' is missing" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":null,\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "'campaign'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"40a0\"}", PM_EINVAL, "'card'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"12345678901234567890\"}", PM_EINVAL, "'card'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\\u0000x\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "not a JSON object" },
		{ "{\"v\":1,\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\"}", PM_EINVAL, "not a JSON object" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"kind\":\"x\"}", PM_EINVAL, "'gtin' is missing" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"kind\":\"x\",\"gtin\":\"12a\",\"benefit\":1,\"value\":1}", PM_EINVAL, "'gtin' must be digits" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"kind\":\"x\",\"gtin\":\"123456789012345\",\"benefit\":1,\"value\":1}", PM_EINVAL, "'gtin'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"kind\":\"x\",\"gtin\":\"1\",\"benefit\":-1,\"value\":1}", PM_EINVAL, "'benefit'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"kind\":\"x\",\"gtin\":\"1\",\"benefit\":1}", PM_EINVAL, "'value'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"coupon\":5}", PM_EINVAL, "'coupon'" },
		{ "{\"v\":1,\"sale\":1,\"campaign\":\"C\",\"rule\":\"R\",\"card\":\"\",\"discount_cents\":\"5\"}", PM_EINVAL, "'discount_cents'" },
		{ "{\"campaign\":\"C0\",\"card\":\"" CARD "\",\"gtin\":\"00000000000017\"}", PM_EINVAL, "'v'" },
	};
	struct wire_event_payload d;
	char err[300];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = decode_str(WIRE_EV_OFFER_ISSUED, bad[i].payload, &d, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].in_err))
			fail_msg("payload %zu (%s): rc %d, err '%s'; wanted %d and '%s'", i, bad[i].payload, rc, err,
				 bad[i].rc, bad[i].in_err);
	}
	/* a campaign of 64 bytes does not fit */
	char big[300];
	snprintf(big, sizeof(big), "{\"v\":1,\"sale\":1,\"campaign\":\"%064d\",\"rule\":\"R\",\"card\":\"\"}", 0);
	assert_int_equal(decode_str(WIRE_EV_OFFER_ISSUED, big, &d, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "at most 63 bytes"));
}

static void test_payload_decode_dispatch(void **state)
{
	(void)state;
	struct wire_event_payload d;
	char err[200];
	assert_int_equal(decode_str(0, CARD, &d, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "not one this build knows"));
	assert_int_equal(decode_str(WIRE_EV_TYPE_MAX + 1, CARD, &d, err, sizeof(err)), PM_EINVAL);
	/* a consent payload is not an erasure, nor an offer */
	assert_int_equal(decode_str(WIRE_EV_ERASURE, CARD " yes", &d, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(decode_str(WIRE_EV_OFFER_REDEEMED, CARD " yes", &d, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(decode_str(WIRE_EV_CONSENT, CARD " yes", &d, err, sizeof(err)), PM_OK);
	assert_int_equal(d.type, WIRE_EV_CONSENT);
	assert_int_equal(d.consent, WIRE_CONSENT_YES);
	assert_string_equal(d.card, CARD);
	assert_false(d.offer.has_offer);
}

/* ---- batch v2 and the account downlink (docs/accounts.md) ------------------- */

static void test_ledger_kind_names(void **state)
{
	(void)state;
	static const char *const want[] = { NULL, "earn", "spend", "clawback", "bonus", "expiry", "adjust", "import" };
	for (int k = 1; k <= WIRE_LEDGER_KIND_MAX; k++) {
		assert_string_equal(wire_ledger_kind_name(k), want[k]);
		assert_int_equal(wire_ledger_kind_parse(want[k]), k);
	}
	assert_null(wire_ledger_kind_name(0));
	assert_null(wire_ledger_kind_name(WIRE_LEDGER_KIND_MAX + 1));
	assert_int_equal(wire_ledger_kind_parse("Earn"), PM_EINVAL);
	assert_int_equal(wire_ledger_kind_parse(NULL), PM_EINVAL);
	assert_int_equal(WIRE_LEDGER_EARN, 1); /* the log's numbers: never renumbered */
	assert_int_equal(WIRE_LEDGER_IMPORT, 7);
}

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

static void v2_return(struct wire_sale *s, uint64_t seq)
{
	v2_sale(s, seq);
	s->type = WIRE_SALE_RETURN;
	strcpy(s->return_of_terminal, "T-9");
	s->return_of_seq = 7;
	s->refund_cents = 500;
	s->points_spent = 0;
	s->n_items = 1;
	s->n_ledger = 1;
	s->ledger[0] = (struct wire_ledger_entry){ WIRE_LEDGER_CLAWBACK, -4 };
}

struct batch_got {
	struct wire_batch_header h;
	struct wire_sale s[4];
	int n;
};
static int bg_header(void *ctx, const struct wire_batch_header *h)
{
	((struct batch_got *)ctx)->h = *h;
	return 0;
}
static int bg_sale(void *ctx, const struct wire_sale *s)
{
	struct batch_got *g = ctx;
	if (g->n < 4)
		g->s[g->n] = *s; /* items point into the decoder's scratch: not read after */
	g->n++;
	return 0;
}

static int decode_batch(const struct pm_buf *gz, struct batch_got *g, char *err, size_t errlen)
{
	struct wire_decode_cb cb = { g, bg_header, bg_sale, NULL };
	memset(g, 0, sizeof(*g));
	return wire_batch_decode(gz->data, gz->len, &cb, err, errlen);
}

static void test_batch_v2_roundtrip(void **state)
{
	(void)state;
	struct wire_encoder e;
	struct wire_sale s;
	struct pm_buf gz;
	struct batch_got g;
	size_t raw;
	char err[300];
	wire_enc_begin(&e, WIRE_BATCH_SALES, "S1", "T1");
	assert_int_equal(e.h.version, 2);
	v2_sale(&s, 5);
	assert_int_equal(wire_enc_sale(&e, &s), 0);
	v2_return(&s, 6);
	assert_int_equal(wire_enc_sale(&e, &s), 0);
	assert_int_equal(wire_enc_finish(&e, &gz, &raw), 0);
	wire_enc_release(&e);
	assert_int_equal(decode_batch(&gz, &g, err, sizeof(err)), 0);
	pm_buf_free(&gz);
	assert_int_equal(g.h.version, 2);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.s[0].type, WIRE_SALE_SALE);
	assert_int_equal(g.s[0].points_spent, 100);
	assert_int_equal(g.s[0].point_value_cents, 1);
	assert_int_equal(g.s[0].n_ledger, 3);
	assert_int_equal(g.s[0].ledger[0].kind, WIRE_LEDGER_SPEND);
	assert_int_equal(g.s[0].ledger[0].points, -100);
	assert_int_equal(g.s[0].ledger[2].kind, WIRE_LEDGER_BONUS);
	assert_int_equal(g.s[0].ledger[2].points, 50);
	assert_int_equal(g.s[1].type, WIRE_SALE_RETURN);
	assert_string_equal(g.s[1].return_of_terminal, "T-9");
	assert_int_equal(g.s[1].return_of_seq, 7);
	assert_int_equal(g.s[1].refund_cents, 500);
	assert_int_equal(g.s[1].n_ledger, 1);
	assert_int_equal(g.s[1].ledger[0].points, -4);

	/* an encoder told to write v1 writes what old tills send: v2 members absent, read as a plain sale */
	wire_enc_begin(&e, WIRE_BATCH_SALES, "S1", "T1");
	e.h.version = 1;
	v2_sale(&s, 5);
	assert_int_equal(wire_enc_sale(&e, &s), 0);
	assert_null(memmem(e.body.data, e.body.len, "ledger", 6));
	assert_int_equal(wire_enc_finish(&e, &gz, &raw), 0);
	wire_enc_release(&e);
	assert_int_equal(decode_batch(&gz, &g, err, sizeof(err)), 0);
	pm_buf_free(&gz);
	assert_int_equal(g.h.version, 1);
	assert_int_equal(g.s[0].type, WIRE_SALE_SALE);
	assert_int_equal(g.s[0].n_ledger, 0);
	assert_int_equal(g.s[0].points_spent, 0);
	assert_int_equal(g.s[0].points_earned, 11);
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

#define V2_HDR "{\"format\":\"posmark-batch\",\"version\":2,\"kind\":\"sales\",\"store\":\"S1\",\"terminal\":\"T1\"," \
	"\"first_seq\":1,\"last_seq\":1,\"count\":1}\n"
#define V2_BASE "{\"seq\":1,\"time_us\":1,\"card\":\"" CARD "\",\"currency\":\"EUR\",\"tender\":\"cash\"," \
	"\"total_cents\":5,\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":5,\"items\":[],\"redeemed\":[]"

/* A v2 batch of one line "V2_BASE + tail": its decode status and reason. */
static int v2_line(const char *tail, char *err, size_t errlen)
{
	char text[2048];
	struct pm_buf gz;
	struct batch_got g;
	snprintf(text, sizeof(text), "%s%s%s\n", V2_HDR, V2_BASE, tail);
	gz_text(text, &gz);
	int rc = decode_batch(&gz, &g, err, errlen);
	pm_buf_free(&gz);
	return rc;
}

static void test_batch_v2_rejects(void **state)
{
	(void)state;
	char err[300];
	static const struct { const char *tail, *why; } bad[] = {
		{ "}", "field 'type' missing" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1}", "field 'ledger' missing" },
		{ ",\"type\":\"gift\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]}", "sale or return" },
		{ ",\"type\":\"sale\",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]}", "twice" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"gift\",\"points\":1}]}",
		  "known ledger kind" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"earn\"}]}",
		  "lacks kind or points" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"earn\",\"points\":1},"
		  "{\"kind\":\"earn\",\"points\":2}]}", "kind given twice" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"earn\",\"points\":-1}]}",
		  "positive" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"bonus\",\"points\":0}]}",
		  "not zero" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"expiry\",\"points\":3}]}",
		  "negative" },
		{ ",\"type\":\"sale\",\"points_spent\":5,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"spend\",\"points\":5}]}",
		  "negative" },
		{ ",\"type\":\"sale\",\"points_spent\":5,\"point_value_cents\":1,\"ledger\":[]}", "does not match the spend" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"spend\",\"points\":-5}]}",
		  "does not match the spend" },
		{ ",\"type\":\"sale\",\"points_spent\":5,\"point_value_cents\":0,\"ledger\":[{\"kind\":\"spend\",\"points\":-5}]}",
		  "point_value_cents 0" },
		{ ",\"type\":\"sale\",\"points_spent\":-1,\"point_value_cents\":1,\"ledger\":[]}", "points_spent" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"adjust\",\"points\":5}]}",
		  "HQ only" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"import\",\"points\":5}]}",
		  "HQ only" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"clawback\",\"points\":-5}]}",
		  "returns only" },
		{ ",\"type\":\"sale\",\"return_of\":\"T:1\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]}",
		  "returns only" },
		{ ",\"type\":\"return\",\"points_spent\":0,\"point_value_cents\":1,\"refund_cents\":5,\"ledger\":[]}",
		  "lacks return_of" },
		{ ",\"type\":\"return\",\"return_of\":\"T:1\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]}",
		  "lacks return_of or refund_cents" },
		{ ",\"type\":\"return\",\"return_of\":\"T1\",\"refund_cents\":5,\"points_spent\":0,\"point_value_cents\":1,"
		  "\"ledger\":[]}", "TERMINAL:SEQ" },
		{ ",\"type\":\"return\",\"return_of\":\"T:0\",\"refund_cents\":5,\"points_spent\":0,\"point_value_cents\":1,"
		  "\"ledger\":[]}", "TERMINAL:SEQ" },
		{ ",\"type\":\"return\",\"return_of\":\":4\",\"refund_cents\":5,\"points_spent\":0,\"point_value_cents\":1,"
		  "\"ledger\":[]}", "TERMINAL:SEQ" },
		{ ",\"type\":\"return\",\"return_of\":\"T:1\",\"refund_cents\":-5,\"points_spent\":0,\"point_value_cents\":1,"
		  "\"ledger\":[]}", "refund_cents" },
		{ ",\"type\":\"return\",\"return_of\":\"T:1\",\"refund_cents\":5,\"points_spent\":0,\"point_value_cents\":1,"
		  "\"ledger\":[{\"kind\":\"earn\",\"points\":5}]}", "returns only" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"earn\",\"points\":"
		  "1000000000001}]}", "at most" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":{}}", "expected '['" },
		{ ",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[{\"kind\":\"earn\",\"points\":1},"
		  "{\"kind\":\"bonus\",\"points\":1},{\"kind\":\"spend\",\"points\":-1},{\"kind\":\"expiry\",\"points\":-1},"
		  "{\"kind\":\"clawback\",\"points\":-1},{\"kind\":\"earn\",\"points\":1}]}", "more entries" },
	};
	assert_int_equal(v2_line(",\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,\"ledger\":[]}", err,
				 sizeof(err)), PM_OK);
	assert_int_equal(v2_line(",\"type\":\"return\",\"return_of\":\"T:1\",\"refund_cents\":5,\"points_spent\":0,"
				 "\"point_value_cents\":1,\"ledger\":[{\"kind\":\"clawback\",\"points\":-5}],\"later\":[1]}",
				 err, sizeof(err)), PM_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = v2_line(bad[i].tail, err, sizeof(err));
		if (rc != PM_EINVAL || !strstr(err, bad[i].why))
			fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, bad[i].why);
	}
	/* ledger entries need the record's card */
	char text[1024];
	struct pm_buf gz;
	struct batch_got g;
	snprintf(text, sizeof(text), "%s{\"seq\":1,\"time_us\":1,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\","
		 "\"total_cents\":5,\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":5,\"items\":[],"
		 "\"redeemed\":[],\"type\":\"sale\",\"points_spent\":0,\"point_value_cents\":1,"
		 "\"ledger\":[{\"kind\":\"earn\",\"points\":5}]}\n", V2_HDR);
	gz_text(text, &gz);
	assert_int_equal(decode_batch(&gz, &g, err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "without a card"));
	pm_buf_free(&gz);
	/* in a v1 batch the v2 members are unknown keys: skipped, never trusted */
	snprintf(text, sizeof(text), "{\"format\":\"posmark-batch\",\"version\":1,\"kind\":\"sales\",\"store\":\"S1\","
		 "\"terminal\":\"T1\",\"first_seq\":1,\"last_seq\":1,\"count\":1}\n%s,\"ledger\":[{\"kind\":\"adjust\","
		 "\"points\":99}],\"type\":\"return\"}\n", V2_BASE);
	gz_text(text, &gz);
	assert_int_equal(decode_batch(&gz, &g, err, sizeof(err)), PM_OK);
	assert_int_equal(g.s[0].n_ledger, 0);
	assert_int_equal(g.s[0].type, WIRE_SALE_SALE);
	pm_buf_free(&gz);
}

static void test_sale_ref(void **state)
{
	(void)state;
	char t[WIRE_ID_MAX + 1];
	uint64_t seq;
	assert_int_equal(wire_parse_sale_ref("store1-lane1:42", t, sizeof(t), &seq), PM_OK);
	assert_string_equal(t, "store1-lane1");
	assert_int_equal(seq, 42);
	assert_int_equal(wire_parse_sale_ref("a:b:7", t, sizeof(t), &seq), PM_OK); /* the last colon splits */
	assert_string_equal(t, "a:b");
	static const char *const bad[] = { "", "T", "T:", ":1", "T:0", "T:01", "T:1x", "T:-1", "a b:1",
					   "0123456789012345678901234567890123:1", "T:1234567890123456789" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wire_parse_sale_ref(bad[i], t, sizeof(t), &seq), PM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_consent),
		cmocka_unit_test(test_consent_rejects),
		cmocka_unit_test(test_erasure),
		cmocka_unit_test(test_offer_bytes),
		cmocka_unit_test(test_offer_encode_rejects),
		cmocka_unit_test(test_offer_decode_lenient_where_v1_allows),
		cmocka_unit_test(test_offer_decode_rejects),
		cmocka_unit_test(test_payload_decode_dispatch),
		cmocka_unit_test(test_ledger_kind_names),
		cmocka_unit_test(test_batch_v2_roundtrip),
		cmocka_unit_test(test_batch_v2_rejects),
		cmocka_unit_test(test_sale_ref),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
