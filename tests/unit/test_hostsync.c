/*
 * test_hostsync.c - batch format v1: encode/decode round trip and the
 * strict decoder's refusals; rule-set signature check and atomic install.
 * Also a generator for integration tests and the benchmark:
 *   test_hostsync gen DIR N TERMINAL [EVENTS [SPACING_S]]
 * commits N sales (one every SPACING_S seconds, default 120) (group commits, bulk mode) into the log in DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostsync/hostsync.h"
#include "wire/wire.h"
#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <sodium.h>
#include <sys/stat.h>
#include <zlib.h>

static struct wire_item items3[3] = { { "00000000000017", 2, 150, 300 }, { "04006381333931", 1, 999, 999 },
				    { "00012345678905", 1, 5, 5 } };
static struct wire_redemption red1[1] = { { "PMC-\"odd\\coupon\t", 100 } };

static void make_sale(struct wire_sale *s, uint64_t seq)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->time_us = 1764000000000000LL + (int64_t)seq * 1000000;
	strcpy(s->terminal, "T1");
	strcpy(s->card, seq % 2 ? "4000001234567899" : "");
	strcpy(s->currency, "EUR");
	strcpy(s->tender, "cash");
	s->total_cents = 1204;
	s->discount_cents = 100;
	s->tendered_cents = 2000;
	s->points_earned = 12;
	s->n_items = 3;
	s->items = items3;
	s->n_redeemed = seq % 3 == 0;
	s->redeemed = red1;
}

struct got {
	struct wire_batch_header h;
	uint64_t n;
	int ok_fields;
};

static int got_header(void *ctx, const struct wire_batch_header *h)
{
	((struct got *)ctx)->h = *h;
	return 0;
}

static int got_sale(void *ctx, const struct wire_sale *s)
{
	struct got *g = ctx;
	struct wire_sale want;
	make_sale(&want, s->seq);
	g->n++;
	if (s->time_us == want.time_us && !strcmp(s->card, want.card) && s->total_cents == 1204 &&
	    s->n_items == 3 && !strcmp(s->items[1].gtin, "04006381333931") && s->items[0].qty == 2 &&
	    s->n_redeemed == want.n_redeemed &&
	    (!s->n_redeemed || !strcmp(s->redeemed[0].coupon, red1[0].coupon)))
		g->ok_fields++;
	return 0;
}

static void encode_sales(uint64_t first, uint64_t n, struct pm_buf *gz, size_t *raw)
{
	struct wire_encoder e;
	wire_enc_begin(&e, WIRE_BATCH_SALES, "S1", "T1");
	for (uint64_t i = 0; i < n; i++) {
		struct wire_sale s;
		make_sale(&s, first + i);
		assert_int_equal(wire_enc_sale(&e, &s), 0);
	}
	assert_int_equal(wire_enc_finish(&e, gz, raw), 0);
	wire_enc_release(&e);
}

static void test_roundtrip(void **state)
{
	struct pm_buf gz;
	size_t raw;
	struct got g = { 0 };
	struct wire_decode_cb cb = { &g, got_header, got_sale, NULL };
	char err[300];
	(void)state;
	encode_sales(10, 500, &gz, &raw);
	assert_int_equal(wire_batch_decode(gz.data, gz.len, &cb, err, sizeof(err)), 0);
	assert_int_equal(g.n, 500);
	assert_int_equal(g.ok_fields, 500);
	assert_int_equal(g.h.first_seq, 10);
	assert_int_equal(g.h.last_seq, 509);
	assert_string_equal(g.h.store, "S1");
	assert_true(raw / gz.len >= 6); /* repetitive NDJSON compresses well */
	pm_buf_free(&gz);
}

/* gzip an NDJSON text as is */
static void gz_text(const char *text, struct pm_buf *out)
{
	uLongf cap = compressBound(strlen(text)) + 32;
	z_stream z;
	memset(out, 0, sizeof(*out));
	out->data = malloc(cap);
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	out->len = cap - z.avail_out;
	deflateEnd(&z);
}

static int decode_text(const char *text, char *err, size_t errlen)
{
	struct pm_buf gz;
	struct got g = { 0 };
	struct wire_decode_cb cb = { &g, got_header, got_sale, NULL };
	gz_text(text, &gz);
	int rc = wire_batch_decode(gz.data, gz.len, &cb, err, errlen);
	pm_buf_free(&gz);
	return rc;
}

#define HDR(v, first, last, count) \
	"{\"format\":\"posmark-batch\",\"version\":" #v ",\"kind\":\"sales\",\"store\":\"S1\",\"terminal\":\"T1\"," \
	"\"first_seq\":" #first ",\"last_seq\":" #last ",\"count\":" #count "}\n"
#define SALE(seq) \
	"{\"seq\":" #seq ",\"time_us\":1,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\",\"total_cents\":5," \
	"\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":0,\"items\":[{\"gtin\":\"00000000000017\"," \
	"\"qty\":1,\"price_cents\":5,\"line_cents\":5}],\"redeemed\":[]}\n"

static void test_rejects(void **state)
{
	char err[300];
	struct pm_buf gz;
	size_t raw;
	(void)state;
	assert_int_equal(decode_text(HDR(1, 1, 2, 2) SALE(1) SALE(2), err, sizeof(err)), 0);
	assert_int_equal(decode_text(HDR(2, 1, 1, 1) SALE(1), err, sizeof(err)), PM_EVERSION);
	assert_non_null(strstr(err, "version 2"));
	assert_int_equal(decode_text(HDR(1, 1, 2, 2) SALE(1) SALE(3), err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "gap"));
	assert_int_equal(decode_text(HDR(1, 1, 2, 2) SALE(1), err, sizeof(err)), PM_EINVAL);
	assert_int_equal(decode_text(HDR(1, 1, 3, 2) SALE(1) SALE(2), err, sizeof(err)), PM_EINVAL);
	assert_int_equal(decode_text(HDR(1, 1, 1, 1)
		"{\"seq\":1,\"time_us\":1,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\"}\n", err, sizeof(err)),
		PM_EINVAL);
	assert_non_null(strstr(err, "total_cents"));
	assert_int_equal(decode_text(HDR(1, 1, 1, 1) "{\"seq\":1", err, sizeof(err)), PM_EINVAL);
	/* the sale line parser: duplicates, floats, trailing text, bad card; unknown keys skipped */
	assert_int_equal(decode_text(HDR(1, 1, 1, 1) "{\"seq\":1,\"seq\":1}\n", err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(decode_text(HDR(1, 1, 1, 1)
		"{\"seq\":1,\"time_us\":1.5,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\"}\n", err,
		sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "time_us"));
	assert_int_equal(decode_text(HDR(1, 1, 1, 1) "{\"seq\":1,\"time_us\":1,\"card\":\"12a\",\"currency\":\"EUR\"}\n",
				     err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "card"));
	assert_int_equal(decode_text(HDR(1, 1, 1, 1)
		"{\"seq\":1,\"time_us\":1,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\",\"total_cents\":5,"
		"\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":0,\"future\":{\"a\":[1,2.5e3,\"x\\u00e9\",true,null]},"
		"\"items\":[],\"redeemed\":[{\"coupon\":\"A\\\"B\",\"discount_cents\":1}]}\n", err, sizeof(err)), 0);
	assert_int_equal(decode_text(HDR(1, 1, 1, 1)
		"{\"seq\":1,\"time_us\":1,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\",\"total_cents\":5,"
		"\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":0,\"items\":[],\"redeemed\":[]} x\n", err,
		sizeof(err)), PM_EINVAL);
	assert_int_equal(decode_text(HDR(1, 1, 1, 1)
		"{\"seq\":1,\"time_us\":1,\"card\":null,\"currency\":\"EUR\",\"tender\":\"cash\",\"total_cents\":5,"
		"\"discount_cents\":0,\"tendered_cents\":5,\"points_earned\":0,\"items\":[{\"gtin\":\"1\"}],\"redeemed\":[]}\n",
		err, sizeof(err)), PM_EINVAL);
	assert_non_null(strstr(err, "lacks"));
	assert_int_equal(decode_text("", err, sizeof(err)), PM_EINVAL);
	assert_int_equal(decode_text("{\"format\":\"other\"}\n", err, sizeof(err)), PM_EINVAL);
	/* truncated and corrupt compression */
	encode_sales(1, 200, &gz, &raw);
	assert_int_equal(wire_batch_decode(gz.data, gz.len / 2, &(struct wire_decode_cb){ 0 }, err, sizeof(err)),
			 PM_ECORRUPT);
	gz.data[gz.len / 2] ^= 0x55;
	assert_int_not_equal(wire_batch_decode(gz.data, gz.len, &(struct wire_decode_cb){ 0 }, err, sizeof(err)), 0);
	assert_int_equal(wire_batch_decode("garbage", 7, &(struct wire_decode_cb){ 0 }, err, sizeof(err)), PM_ECORRUPT);
	pm_buf_free(&gz);
}

static void test_rules_install(void **state)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
	char pkhex[65], path[4200];
	const char *body = "{\"version\":1,\"rules\":[]}\n", *body2 = "{\"version\":1,\"rules\":[1]}\n";
	char *dir = tu_mkdtemp();
	struct stat stt;
	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
	crypto_sign_detached(sig, NULL, (const unsigned char *)body, strlen(body), sk);
	assert_int_equal(hs_rules_install(dir, pkhex, body, strlen(body), sig, sizeof(sig), "\"e1\""), 0);
	snprintf(path, sizeof(path), "%s/rules.json", dir);
	assert_int_equal(stat(path, &stt), 0);
	assert_int_equal((size_t)stt.st_size, strlen(body));
	/* a signature over other bytes, none at all, a bad key: refused, old kept */
	assert_int_equal(hs_rules_install(dir, pkhex, body2, strlen(body2), sig, sizeof(sig), NULL), PM_ECHECK);
	assert_int_equal(hs_rules_install(dir, pkhex, body2, strlen(body2), NULL, 0, NULL), PM_ECHECK);
	assert_int_equal(hs_rules_install(dir, "zz", body, strlen(body), sig, sizeof(sig), NULL), PM_EINVAL);
	assert_int_equal(stat(path, &stt), 0);
	assert_int_equal((size_t)stt.st_size, strlen(body));
	tu_rmdir(dir);
}

/* Sign body under serial as HQ publishes it (wire_rules_signed_message). */
static void sign_serial(unsigned char sig[crypto_sign_BYTES], const unsigned char *sk, uint64_t serial,
			const char *body)
{
	struct pm_buf b = { 0 };
	const void *msg;
	size_t len;
	assert_int_equal(wire_rules_signed_message(serial, body, strlen(body), &b, &msg, &len), 0);
	crypto_sign_detached(sig, NULL, msg, len, sk);
	pm_buf_free(&b);
}

/* Rule sets only move forward: the serial is under the signature, and
 * only a higher one than DIR/rules.serial installs (issue 15). */
static void test_rules_serial(void **state)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char s0[crypto_sign_BYTES], s5[crypto_sign_BYTES], s7[crypto_sign_BYTES];
	char pkhex[65];
	const char *a = "{\"rules\":[\"a\"]}\n", *b = "{\"rules\":[\"b\"]}\n";
	char *dir = tu_mkdtemp();
	uint64_t have = 99;
	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
	sign_serial(s0, sk, 0, a);
	sign_serial(s5, sk, 5, a);
	sign_serial(s7, sk, 7, b);
	assert_int_equal(hs_rules_serial_read(dir, &have), 0);
	assert_int_equal(have, 0);
	/* a set without a serial installs where none was ever installed (older HQs) */
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 0, a, strlen(a), s0, sizeof(s0), NULL, &have), 1);
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 5, a, strlen(a), s5, sizeof(s5), NULL, &have), 1);
	assert_int_equal(hs_rules_serial_read(dir, &have), 0);
	assert_int_equal(have, 5);
	/* the serial is signed: another serial on the same bytes does not verify */
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 6, a, strlen(a), s5, sizeof(s5), NULL, &have), PM_ECHECK);
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 5, a, strlen(a), s5, sizeof(s5), "\"e\"", &have), 0);
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 7, b, strlen(b), s7, sizeof(s7), NULL, &have), 1);
	/* older ones, and the serial-less one, are refused once 7 is installed */
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 5, a, strlen(a), s5, sizeof(s5), NULL, &have),
			 PM_EREFUSED);
	assert_int_equal(have, 7);
	assert_int_equal(hs_rules_install_serial(dir, pkhex, 0, a, strlen(a), s0, sizeof(s0), NULL, &have),
			 PM_EREFUSED);
	assert_int_equal(hs_rules_serial_read(dir, &have), 0);
	assert_int_equal(have, 7);
	tu_rmdir(dir);
}

/* ---- generator ------------------------------------------------------------ */

static int gen(const char *dir, long n, const char *terminal, long n_events, int64_t spacing_s)
{
	struct loy_config cfg;
	struct loy_db *db;
	char err[300];
	loy_config_default(&cfg);
	cfg.bulk_nosync = true;
	cfg.map_size_initial = 256u << 20;
	snprintf(cfg.terminal_id, sizeof(cfg.terminal_id), "%s", terminal);
	strcpy(cfg.currency, "EUR");
	if (loy_open(dir, &cfg, &db, err, sizeof(err))) {
		fprintf(stderr, "gen: %s\n", err);
		return 1;
	}
	enum { GROUP = 1000 };
	static struct loy_sale sales[GROUP];
	static struct loy_item items[GROUP][8];
	static const struct loy_sale *ptrs[GROUP];
	static struct loy_commit_result res[GROUP];
	static int rcs[GROUP];
	unsigned seed = 7;
	struct loy_stats st;
	loy_stats(db, &st);
	uint64_t base = st.last_sale_seq;
	/* spread over two months before 2026-11-20, so two partitions at least */
	int64_t t0 = 1763596800000000LL - 40LL * 86400 * 1000000;
	for (long done = 0; done < n;) {
		size_t k = (size_t)(n - done > GROUP ? GROUP : n - done);
		for (size_t i = 0; i < k; i++) {
			struct loy_sale *s = &sales[i];
			uint64_t g = base + (uint64_t)done + i;
			memset(s, 0, sizeof(*s));
			s->time_us = t0 + (int64_t)g * spacing_s * 1000000;
			if (rand_r(&seed) % 10 < 7) {
				char card[24];
				snprintf(card, sizeof(card), "400000%09u", rand_r(&seed) % 2000);
				tu_luhn_complete(card);
				memcpy(s->card, card, 17); /* 16 digits + NUL */
			}
			s->n_items = 1 + (uint32_t)(rand_r(&seed) % 8);
			s->items = items[i];
			s->total_cents = 0;
			for (uint32_t j = 0; j < s->n_items; j++) {
				struct loy_item *it = &items[i][j];
				char g13[16];
				snprintf(g13, sizeof(g13), "0000000%06u", rand_r(&seed) % 500);
				tu_luhn_complete(g13); /* not GS1's weights, but 14 digits is all the log needs */
				memcpy(it->gtin, g13, 15); /* 14 digits + NUL */
				it->qty = 1 + rand_r(&seed) % 3;
				it->unit_price_cents = 50 + rand_r(&seed) % 2000;
				it->line_cents = it->qty * it->unit_price_cents;
				s->total_cents += it->line_cents;
			}
			s->tender = (int)(rand_r(&seed) % 3);
			s->tendered_cents = s->total_cents;
			ptrs[i] = s;
		}
		if (loy_sale_commit_group(db, ptrs, k, res, rcs)) {
			fprintf(stderr, "gen: commit failed\n");
			loy_close(db);
			return 1;
		}
		done += (long)k;
	}
	for (long i = 0; i < n_events; i++) {
		char card[24];
		snprintf(card, sizeof(card), "400000%09ld", i % 2000);
		tu_luhn_complete(card);
		if (i % 4 == 0) {
			loy_card_set_consent(db, card, LOY_CONSENT_YES, LOY_SRC_TILL, t0 + i);
			continue;
		}
		int type = i % 4 == 1 ? LOY_EV_OFFER_ISSUED : i % 4 == 2 ? LOY_EV_OFFER_HELD_BACK : LOY_EV_OFFER_REDEEMED;
		/* payload v1 from wire's encoder, as the till writes it */
		struct wire_offer_event o = { .sale = (uint64_t)i + 1, .has_offer = true, .benefit = 1, .value = 10 };
		struct pm_buf payload = { 0 };
		snprintf(o.campaign, sizeof(o.campaign), "C%ld", i % 3);
		snprintf(o.rule, sizeof(o.rule), "R%ld", i % 3);
		memcpy(o.card, card, 17); /* 16 digits + NUL */
		strcpy(o.kind, "cross_sell");
		strcpy(o.gtin, "00000000000017");
		if (type != LOY_EV_OFFER_HELD_BACK)
			snprintf(o.coupon, sizeof(o.coupon), "PMC%06ld", i);
		o.discount_cents = type == LOY_EV_OFFER_REDEEMED ? 25 : 0;
		if (wire_offer_encode(type, &o, &payload)) {
			fprintf(stderr, "gen: cannot encode an offer event\n");
			loy_close(db);
			return 1;
		}
		loy_event_append(db, type, t0 + i, payload.data, payload.len, NULL);
		pm_buf_free(&payload);
	}
	loy_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "gen"))
		return gen(argv[2], atol(argv[3]), argv[4], argc > 5 ? atol(argv[5]) : 0, argc > 6 ? atol(argv[6]) : 120);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_rules_install),
		cmocka_unit_test(test_rules_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
