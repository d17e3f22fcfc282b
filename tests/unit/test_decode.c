/*
 * test_decode.c - scan_decode() on real barcodes (published check digits),
 * AIM symbology ids, GS1 element strings, magstripe tracks and garbage.
 * Every input is copied into an exact-size heap buffer so ASan sees any
 * read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drivers.h"
#include "common/pm_gs1.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

static struct scan_result decode_aim(const char *data, size_t len, const char *aim)
{
	struct scan_config cfg;
	struct scan_result r;
	char *copy = malloc(len ? len : 1);
	scan_config_default(&cfg);
	memcpy(copy, data, len);
	assert_int_equal(scan_decode(&cfg, copy, len, aim, &r), PM_OK);
	free(copy);
	return r;
}

static struct scan_result decode(const char *s)
{
	return decode_aim(s, strlen(s), NULL);
}

static void test_check_digits(void **state)
{
	(void)state;
	assert_int_equal(pm_gs1_check_digit("400638133393", 12), 1);
	assert_int_equal(pm_gs1_check_digit("03600029145", 11), 2);
	assert_int_equal(pm_gs1_check_digit("9638507", 7), 4);
	assert_int_equal(pm_gs1_check_digit("0950110153000", 13), 3);
	assert_true(scan_luhn_valid("6036000000000013", 16));
	assert_true(scan_luhn_valid("79927398713", 11));
	assert_false(scan_luhn_valid("79927398710", 11));
	assert_false(scan_luhn_valid("6036x00000000013", 16));
	assert_false(scan_luhn_valid("0", 1));
}

static void test_ean13(void **state)
{
	(void)state;
	struct scan_result r = decode("4006381333931");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "04006381333931");
	assert_string_equal(r.symbology, "ean13");
	r = decode("5901234123457");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "05901234123457");
	/* One digit off: refused with the expected digit named. */
	r = decode("4006381333932");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "bad check digit"));
	assert_non_null(strstr(r.error, "expected 1"));
	/* Two digits swapped: also caught (weights 3/1 differ). */
	r = decode("4006381339331");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
}

static void test_upca_ean8_gtin14(void **state)
{
	(void)state;
	struct scan_result r = decode("036000291452");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "00036000291452");
	assert_string_equal(r.symbology, "upca");
	r = decode("96385074");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "00000096385074");
	assert_string_equal(r.symbology, "ean8");
	r = decode("96385075");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("10012345678902");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "10012345678902");
	r = decode("10012345678903");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* UPC-A sent as 13 digits under ]E0 is the same GTIN. */
	r = decode("]E00036000291452");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "00036000291452");
	assert_string_equal(r.symbology, "ean13");
}

static void test_variable_measure(void **state)
{
	(void)state;
	/* 2 0 12345 01299 8: item 2012345, price 12.99. */
	struct scan_result r = decode("2012345012998");
	assert_int_equal(r.kind, SCAN_VARIABLE_MEASURE);
	assert_int_equal(r.price_cents, 1299);
	char base[14] = "201234500000";
	base[12] = (char)('0' + pm_gs1_check_digit(base, 12));
	base[13] = 0;
	assert_string_equal(r.gtin + 1, base);
	r = decode("2012345012997");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* Prefix 2 in EAN-8 is not variable measure. */
	r = decode("21123450");
	assert_int_equal(r.kind, SCAN_ITEM);
}

static void test_aim_identifiers(void **state)
{
	(void)state;
	struct scan_result r = decode_aim("4006381333931", 13, "]E0");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.symbology, "ean13");
	r = decode("]E496385074");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "00000096385074");
	/* A card number in CODE128 with its id. */
	r = decode("]C06036000000000013");
	assert_int_equal(r.kind, SCAN_CARD);
	assert_string_equal(r.card, "6036000000000013");
	assert_string_equal(r.symbology, "code128");
	/* Unknown symbology id: the data still decides. */
	r = decode("]Z94006381333931");
	assert_int_equal(r.kind, SCAN_ITEM);
	/* A lone "]" is data, not an id. */
	r = decode("]");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("]E0");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "empty"));
}

static void test_gs1_element_strings(void **state)
{
	(void)state;
	/* GS1 General Specifications example: (01)09501101530003(17)140704(10)AB-123 */
	struct scan_result r = decode("]C10109501101530003171407041" "0AB-123");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "09501101530003");
	assert_string_equal(r.expiry, "140704");
	assert_string_equal(r.batch, "AB-123");
	assert_string_equal(r.symbology, "gs1-128");
	/* Variable AI first, GS-terminated, then a fixed one. */
	r = decode("]C110LOT7\x1d" "0109501101530003");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.batch, "LOT7");
	/* Without an id but with a GS inside. */
	r = decode("0109501101530003\x1d" "10X1");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.batch, "X1");
	/* Leading FNC1 transmitted as GS. */
	r = decode("]C1\x1d" "0109501101530003");
	assert_int_equal(r.kind, SCAN_ITEM);
	/* DataBar id. */
	r = decode("]e00109501101530003");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.symbology, "gs1-databar");
	/* Bad GTIN check digit inside AI 01. */
	r = decode("]C10109501101530004");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "check digit"));
	/* No product, no coupon. */
	r = decode("]C110ABC");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* Cut short inside a fixed-length AI. */
	r = decode("]C1010950110153");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "cut short"));
	/* Unknown AI. */
	r = decode("]C1990109501101530003");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("]C1X");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* Non-digits in a numeric AI. */
	r = decode("]C101095011015300A3");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* Human-readable form. */
	r = decode("(01)09501101530003(17)140704(10)AB-123");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.batch, "AB-123");
	assert_string_equal(r.expiry, "140704");
}

static void test_gs1_weight_price_coupon(void **state)
{
	(void)state;
	/* (01)...(3103)001250: 1.250 kg. */
	struct scan_result r = decode("]C101095011015300033103001250");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_int_equal(r.weight_g, 1250);
	/*
	 * (3922)1234: 12.34 payable -> variable measure. The Syntax Dictionary
	 * wants a measure (30, 31nn, 32nn, 35nn, 36nn) beside 392n: (3103) here.
	 */
	r = decode("]C101095011015300033103001250" "39221234");
	assert_int_equal(r.kind, SCAN_VARIABLE_MEASURE);
	assert_int_equal(r.price_cents, 1234);
	assert_int_equal(r.weight_g, 1250);
	r = decode("]C101095011015300033103001250" "39205");
	assert_int_equal(r.kind, SCAN_VARIABLE_MEASURE);
	assert_int_equal(r.price_cents, 500);
	r = decode("]C101095011015300033103001250" "3923123456");
	assert_int_equal(r.kind, SCAN_VARIABLE_MEASURE);
	assert_int_equal(r.price_cents, 12345);
	/* Price too long (N..15). */
	r = decode("]C101095011015300033103001250" "392212345678901234567");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "too long"));
	/* A price without a measure is refused, saying what is missing. */
	r = decode("]C1010950110153000339221234");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "needs AI"));
	/* (8110) North American coupon. */
	r = decode("]C18110106141416543213500110000310123196000");
	assert_int_equal(r.kind, SCAN_COUPON);
	assert_string_equal(r.coupon, "106141416543213500110000310123196000");
	/* Empty variable AI. */
	r = decode("]C18110");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
}

/* pm_gs1_parse: one valid and one invalid case per Syntax Dictionary rule kind. */
static bool gs1_ok(const char *s, const char *why)
{
	struct pm_gs1_elem el[PM_GS1_MAX_ELEMS];
	size_t n = 0;
	char err[160] = "";
	bool ok = pm_gs1_parse(s, strlen(s), el, &n, err, sizeof(err));
	if (!ok && why && !strstr(err, why)) {
		fprintf(stderr, "'%s': error '%s' does not say '%s'\n", s, err, why);
		return true; /* reported as a failure by the caller's assert_false */
	}
	if (ok && why)
		fprintf(stderr, "'%s' accepted, expected refused (%s)\n", s, why);
	if (!ok && !why)
		fprintf(stderr, "'%s' refused: %s\n", s, err);
	return ok;
}

static void test_gs1_syntax_dictionary(void **state)
{
	(void)state;
	/* AIs known to GS1: (21) yes, (26) is not assigned. */
	assert_true(gs1_ok("0109501101530003" "21ABC123", NULL));
	assert_false(gs1_ok("0109501101530003" "2612345", "unknown to GS1"));
	/* Fixed length: (20) N2 cut short; variable: (10) X..20, 20 fits, 21 is too long. */
	assert_true(gs1_ok("0109501101530003" "2001", NULL));
	assert_false(gs1_ok("0109501101530003" "201", "cut short"));
	assert_true(gs1_ok("0109501101530003" "1012345678901234567890", NULL));
	assert_false(gs1_ok("0109501101530003" "10123456789012345678901", "too long"));
	/* A fixed-length AI that still needs FNC1 (7006 N6): too short, too long. */
	assert_true(gs1_ok("0109501101530003" "7006140704", NULL));
	assert_false(gs1_ok("0109501101530003" "700614070", "too short"));
	assert_false(gs1_ok("0109501101530003" "70061407041", "too long"));
	/* Optional components: (7007) N6 [N6], both dates checked. */
	assert_true(gs1_ok("0109501101530003" "7007140701140704", NULL));
	assert_false(gs1_ok("0109501101530003" "7007140701141304", "not a date"));
	/* Numeric AIs take digits only. */
	assert_false(gs1_ok("0109501101530003" "30" "12A", "digits only"));
	/* Character sets: CSET 82 (10), CSET 39 (8010). */
	assert_true(gs1_ok("0109501101530003" "10AB-1/2%x", NULL));
	assert_false(gs1_ok("0109501101530003" "10AB 12", "character set 82"));
	assert_false(gs1_ok("0109501101530003" "10AB#12", "character set 82"));
	assert_true(gs1_ok("8010" "950110153#A-1/", NULL));
	assert_false(gs1_ok("8010" "950110153a", "character set 39"));
	/* Check digits: GTIN (01), SSCC (00), GLN (414), GMN check character pair (8013). */
	assert_false(gs1_ok("0109501101530004", "expected 3"));
	assert_true(gs1_ok("00106141411234567897", NULL));
	assert_false(gs1_ok("00106141411234567898", "check digit"));
	assert_true(gs1_ok("4149501101530003" "2541", NULL));
	assert_false(gs1_ok("4149501101530004", "check digit"));
	assert_true(pm_gs1_csumalpha_ok("1987654Ad4X4bL5ttr2310c2K", 25));
	assert_true(gs1_ok("8013" "1987654Ad4X4bL5ttr2310c2K", NULL));
	assert_false(gs1_ok("8013" "1987654Ad4X4bL5ttr2310c2L", "check character pair"));
	assert_false(gs1_ok("8013" "1987654Ad4X4bL5ttr2311c2K", "check character pair"));
	/* Dates: (17) YYMMDD with day 00 allowed; (7006) YYMMDD without; leap years. */
	assert_true(gs1_ok("0109501101530003" "17140700", NULL));
	assert_false(gs1_ok("0109501101530003" "7006140700", "no such day"));
	assert_false(gs1_ok("0109501101530003" "17141304", "month"));
	assert_true(gs1_ok("0109501101530003" "17160229", NULL));
	assert_false(gs1_ok("0109501101530003" "17150229", "no such day"));
	assert_false(gs1_ok("0109501101530003" "17140431", "no such day"));
	/* Times: (7003) YYMMDD HHMM. */
	assert_true(gs1_ok("0109501101530003" "70031407042359", NULL));
	assert_false(gs1_ok("0109501101530003" "70031407042460", "time"));
	/* Other checks: (8006) piece of total, (4321) yes/no, (8011) no leading zero. */
	assert_true(gs1_ok("8006" "09501101530003" "0102", NULL));
	assert_false(gs1_ok("8006" "09501101530003" "0302", "piece"));
	assert_true(gs1_ok("00106141411234567897" "43211", NULL));
	assert_false(gs1_ok("00106141411234567897" "43212", "0 or 1"));
	assert_false(gs1_ok("8010" "ABC\x1d" "8011" "012", "start with 0"));
	/* Mandatory pairs (req): (10) needs a GTIN; (250) needs (01) and (21). */
	assert_false(gs1_ok("10ABC", "needs AI 01 or 02"));
	assert_true(gs1_ok("0109501101530003" "21S1\x1d" "250X", NULL));
	assert_false(gs1_ok("0109501101530003" "250X", "needs AI 21"));
	/* Invalid pairs (ex): (01) with (02); two net weights (3103, 3102). */
	assert_false(gs1_ok("0109501101530003" "0209501101530003" "371", "cannot be used with"));
	assert_false(gs1_ok("0109501101530003" "3103001250" "3102000125", "cannot be used with"));
	/* (02) content needs (37) count, and (37) needs the SSCC (00) beside it. */
	assert_true(gs1_ok("00106141411234567897" "0209501101530003" "371", NULL));
	/* Repeated AIs: the same value is fine, another value is not. */
	assert_true(gs1_ok("0109501101530003" "0109501101530003", NULL));
	assert_false(gs1_ok("0109501101530003" "10A\x1d" "10B", "twice"));
	/* Empty values and empty strings. */
	assert_false(gs1_ok("0109501101530003" "10\x1d" "17140704", "empty"));
	assert_false(gs1_ok("\x1d", "no data"));

	/* Through scan_decode: every form, refused with the reason. */
	struct scan_result r = decode("(01)09501101530003(17)141304");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "(17)"));
	r = decode("]C10109501101530003" "10A\x1d" "10B");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "twice"));
	r = decode("]d2" "0109501101530003" "2612345");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "unknown to GS1"));
	r = decode("]C1" "00106141411234567897" "0209501101530003" "3712");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "09501101530003");
	r = decode("]C1" "0209501101530003");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "needs AI 37"));
}

static void test_cards(void **state)
{
	(void)state;
	struct scan_result r = decode("6036000000000013");
	assert_int_equal(r.kind, SCAN_CARD);
	assert_string_equal(r.card, "6036000000000013");
	r = decode("6036000000000014");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "Luhn"));
	r = decode("603612345678901232");
	assert_int_equal(r.kind, SCAN_CARD);
	/* 20 digits: neither a card nor a product. */
	r = decode("60361234567890123200");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("123456789");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "9 digits"));
}

static void test_card_or_gs1(void **state)
{
	(void)state;
	/*
	 * "0131106683520016" is both Luhn-valid and "01" + a valid GTIN-14:
	 * without a symbology id it is the GS1 element string.
	 */
	assert_true(scan_luhn_valid("0131106683520016", 16));
	struct scan_result r = decode("0131106683520016");
	assert_int_equal(r.kind, SCAN_ITEM);
	assert_string_equal(r.gtin, "31106683520016");
	/* The same digits from CODE128 (]C0) are a card. */
	r = decode("]C00131106683520016");
	assert_int_equal(r.kind, SCAN_CARD);
	/* ... and from GS1-128 (]C1) the GTIN. */
	r = decode("]C10131106683520016");
	assert_int_equal(r.kind, SCAN_ITEM);
	/* 01 + an invalid GTIN: a card if Luhn holds. */
	r = decode("0112345678901236");
	assert_int_equal(r.kind, SCAN_CARD);
	/* Prefix restriction. */
	struct scan_config cfg;
	scan_config_default(&cfg);
	cfg.n_card_prefixes = 1;
	strcpy(cfg.card_prefixes[0], "6036");
	assert_int_equal(scan_decode(&cfg, "]C00112345678901236", 19, NULL, &r), PM_OK);
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "issuer"));
	assert_int_equal(scan_decode(&cfg, "6036000000000013", 16, NULL, &r), PM_OK);
	assert_int_equal(r.kind, SCAN_CARD);
}

static void test_magstripe(void **state)
{
	(void)state;
	struct scan_result r = decode(";6036000000000013=25121010000000000000?");
	assert_int_equal(r.kind, SCAN_CARD);
	assert_string_equal(r.card, "6036000000000013");
	assert_string_equal(r.symbology, "magstripe");
	r = decode("%B6036000000000013^DOE/JANE^2512101000000000?");
	assert_int_equal(r.kind, SCAN_CARD);
	assert_string_equal(r.card, "6036000000000013");
	/* Track 1 and track 2 in one swipe (readers often send both lines). */
	r = decode("%B6036000000000013^DOE/JANE^2512?\n");
	assert_int_equal(r.kind, SCAN_CARD);
	r = decode(";6036000000000014=2512?");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode(";6036000000000013");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "malformed"));
	r = decode(";=2512?");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode(";6036000000000013^x");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("%B");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* Card too long for the buffer even with a permissive config. */
	struct scan_config cfg;
	scan_config_default(&cfg);
	cfg.card_max_len = 40;
	cfg.card_luhn = false;
	const char *t = ";12345678901234567890123=1?";
	assert_int_equal(scan_decode(&cfg, t, strlen(t), NULL, &r), PM_OK);
	assert_int_equal(r.kind, SCAN_UNKNOWN);
}

static void test_coupons_and_keyed(void **state)
{
	(void)state;
	struct scan_result r = decode("PM-ABC123-XY");
	assert_int_equal(r.kind, SCAN_COUPON);
	assert_string_equal(r.coupon, "PM-ABC123-XY");
	r = decode("PM-AB\x01" "C");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* "PM" followed by a digit is not a posmark coupon. */
	r = decode("PM1234");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* coupon v2: the prefix's first letter and exactly 20 digits (CODE128, also with an AIM id) */
	r = decode("P85448077734684395835");
	assert_int_equal(r.kind, SCAN_COUPON);
	assert_string_equal(r.coupon, "P85448077734684395835");
	assert_string_equal(r.symbology, "code128");
	r = decode("]C0P85448077734684395835");
	assert_int_equal(r.kind, SCAN_COUPON);
	assert_string_equal(r.coupon, "P85448077734684395835");
	r = decode("P8544807773468439583");      /* 19 digits: not a coupon */
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("Q85448077734684395835");     /* another letter */
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	char big[200];
	memset(big, 'Q', sizeof(big));
	memcpy(big, "PM-", 3);
	r = decode_aim(big, sizeof(big), NULL);
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	struct scan_config cfg;
	scan_config_default(&cfg);
	assert_int_equal(scan_decode_keyed_card(&cfg, "6036000000000013", &r), PM_OK);
	assert_int_equal(r.kind, SCAN_CARD);
	assert_string_equal(r.symbology, "keyed");
	assert_int_equal(scan_decode_keyed_card(&cfg, "6036 0000", &r), PM_OK);
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_int_equal(scan_decode_keyed_card(&cfg, "", &r), PM_OK);
	assert_int_equal(r.kind, SCAN_UNKNOWN);
}

static void test_garbage(void **state)
{
	(void)state;
	struct scan_config cfg;
	struct scan_result r;
	scan_config_default(&cfg);
	assert_int_equal(scan_decode(NULL, "1", 1, NULL, &r), PM_EINVAL);
	assert_int_equal(scan_decode(&cfg, NULL, 1, NULL, &r), PM_EINVAL);
	r = decode("");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("\r\n");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("  4006381333931\r\n");
	assert_int_equal(r.kind, SCAN_ITEM);
	r = decode("hello world");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	assert_non_null(strstr(r.error, "not all digits"));
	r = decode_aim("4006\0381333931", 13, NULL);
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("\x1d\x1d\x1d");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("(01)");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	r = decode("(0109501101530003");
	assert_int_equal(r.kind, SCAN_UNKNOWN);
	/* Random bytes: never a crash, always a verdict with a reason. */
	unsigned seed = 12345;
	for (int i = 0; i < 20000; i++) {
		char buf[64];
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		const char *alpha = "0123456789]C1E0(;)%B^=?\x1dPM-";
		for (size_t k = 0; k < n; k++)
			buf[k] = (i & 1) ? (char)rand_r(&seed) : alpha[rand_r(&seed) % 27];
		r = decode_aim(buf, n, NULL);
		if (r.kind == SCAN_UNKNOWN)
			assert_true(r.error[0] != '\0');
		assert_true(strlen(r.error) < sizeof(r.error));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_digits),
		cmocka_unit_test(test_ean13),
		cmocka_unit_test(test_upca_ean8_gtin14),
		cmocka_unit_test(test_variable_measure),
		cmocka_unit_test(test_aim_identifiers),
		cmocka_unit_test(test_gs1_element_strings),
		cmocka_unit_test(test_gs1_weight_price_coupon),
		cmocka_unit_test(test_gs1_syntax_dictionary),
		cmocka_unit_test(test_cards),
		cmocka_unit_test(test_card_or_gs1),
		cmocka_unit_test(test_magstripe),
		cmocka_unit_test(test_coupons_and_keyed),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
