/*
 * decode.c - the one scan decoder: raw scanner text to a typed scan.
 *
 * Order of rules (docs/scanning.md explains each):
 *   1. AIM symbology identifier (given, or a "]Xn" prefix of the data).
 *   2. Magstripe tracks (";PAN=...?" track 2, "%B PAN^...?" track 1): card.
 *   3. posmark coupon codes (configured prefix, default "PM"): coupon.
 *   4. GS1 element strings (AIM ]C1/]e0/]d2/]Q3, or containing GS): AIs 01,
 *      10, 17, 310n, 392n, 8110.
 *   5. All digits: 8/12/13/14 digits are GTINs (13 digits with prefix 20-29
 *      are in-store variable-measure codes); 16-19 digits are cards
 *      (Luhn), except a 16-digit "01"+GTIN-14 with a valid GTIN check digit
 *      scanned without a symbology id, which is the GS1 element string (01).
 */
#include "drivers/drivers.h"
#include "common/pm_err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GS 0x1d

const char *scan_kind_name(int kind)
{
	switch (kind) {
	case SCAN_ITEM: return "item";
	case SCAN_CARD: return "card";
	case SCAN_COUPON: return "coupon";
	case SCAN_VARIABLE_MEASURE: return "variable_measure";
	default: return "unknown";
	}
}

void scan_config_default(struct scan_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->card_min_len = 16;
	cfg->card_max_len = 19;
	cfg->card_luhn = true;
	strcpy(cfg->coupon_prefix, "PM");
}

int scan_gs1_check_digit(const char *digits, size_t n)
{
	int sum = 0;
	/* Weights 3,1,3,... from the rightmost data digit. */
	for (size_t i = 0; i < n; i++) {
		int d = digits[n - 1 - i] - '0';
		sum += (i % 2 == 0) ? 3 * d : d;
	}
	return (10 - sum % 10) % 10;
}

bool scan_luhn_valid(const char *digits, size_t n)
{
	int sum = 0;
	if (n < 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = digits[n - 1 - i] - '0';
		if (d < 0 || d > 9)
			return false;
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static void reject(struct scan_result *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reject(struct scan_result *out, const char *fmt, ...)
{
	va_list ap;
	out->kind = SCAN_UNKNOWN;
	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
}

/* Check digit of a GTIN of any length; fills error on mismatch. */
static bool gtin_check_ok(const char *d, size_t n, const char *what, struct scan_result *out)
{
	int want = scan_gs1_check_digit(d, n - 1);
	if (d[n - 1] - '0' == want)
		return true;
	out->kind = SCAN_UNKNOWN;
	snprintf(out->error, sizeof(out->error),
		 "bad check digit: %s ends in %c, expected %d; rescan or key the number", what,
		 d[n - 1], want);
	return false;
}

static void set_gtin14(struct scan_result *out, const char *d, size_t n)
{
	memset(out->gtin, '0', 14 - n);
	memcpy(out->gtin + 14 - n, d, n);
	out->gtin[14] = '\0';
}

static bool card_prefix_ok(const struct scan_config *cfg, const char *d)
{
	if (cfg->n_card_prefixes == 0)
		return true;
	for (int i = 0; i < cfg->n_card_prefixes; i++)
		if (strncmp(d, cfg->card_prefixes[i], strlen(cfg->card_prefixes[i])) == 0)
			return true;
	return false;
}

static void decode_card(const struct scan_config *cfg, const char *d, size_t n,
			struct scan_result *out)
{
	if (!all_digits(d, n)) {
		reject(out, "card number has non-digits: %s", "key digits only");
		return;
	}
	if ((int)n < cfg->card_min_len || (int)n > cfg->card_max_len) {
		out->kind = SCAN_UNKNOWN;
		snprintf(out->error, sizeof(out->error),
			 "card number has %zu digits, cards have %d to %d; check the number", n,
			 cfg->card_min_len, cfg->card_max_len);
		return;
	}
	if (cfg->card_luhn && !scan_luhn_valid(d, n)) {
		reject(out, "bad check digit: card number fails the Luhn check; %s",
		       "rescan the card or key it again");
		return;
	}
	if (!card_prefix_ok(cfg, d)) {
		reject(out, "card number is not from this program's issuer prefixes; %s",
		       "ask the customer for the store's card");
		return;
	}
	out->kind = SCAN_CARD;
	memcpy(out->card, d, n);
	out->card[n] = '\0';
}

/* In-store variable-measure EAN-13: 2P IIIII VVVVV C, VVVVV = price in cents. */
static void decode_variable_measure(const char *d, struct scan_result *out)
{
	char base[14];
	memcpy(base, d, 7);
	memset(base + 7, '0', 5);
	base[12] = (char)('0' + scan_gs1_check_digit(base, 12));
	base[13] = '\0';
	set_gtin14(out, base, 13);
	out->price_cents = strtol((char[6]){ d[7], d[8], d[9], d[10], d[11], 0 }, NULL, 10);
	out->kind = SCAN_VARIABLE_MEASURE;
}

static void decode_digits(const struct scan_config *cfg, const char *d, size_t n, bool had_aim,
			  struct scan_result *out)
{
	switch (n) {
	case 8:
		strcpy(out->symbology, "ean8");
		if (gtin_check_ok(d, n, "EAN-8", out)) {
			set_gtin14(out, d, n);
			out->kind = SCAN_ITEM;
		}
		return;
	case 12:
		strcpy(out->symbology, "upca");
		if (gtin_check_ok(d, n, "UPC-A", out)) {
			set_gtin14(out, d, n);
			out->kind = SCAN_ITEM;
		}
		return;
	case 13:
		strcpy(out->symbology, "ean13");
		if (!gtin_check_ok(d, n, "EAN-13", out))
			return;
		if (d[0] == '2')
			decode_variable_measure(d, out);
		else {
			set_gtin14(out, d, n);
			out->kind = SCAN_ITEM;
		}
		return;
	case 14:
		strcpy(out->symbology, "gtin14");
		if (gtin_check_ok(d, n, "GTIN-14", out)) {
			set_gtin14(out, d, n);
			out->kind = SCAN_ITEM;
		}
		return;
	default:
		break;
	}
	if (n == 16 && !had_aim && (d[0] == '0' && (d[1] == '1' || d[1] == '2')) &&
	    scan_gs1_check_digit(d + 2, 13) == d[15] - '0') {
		strcpy(out->symbology, "gs1");
		set_gtin14(out, d + 2, 14);
		out->kind = SCAN_ITEM;
		return;
	}
	if (n >= 16 && n <= 19) {
		strcpy(out->symbology, had_aim ? "code128" : "card");
		decode_card(cfg, d, n, out);
		return;
	}
	out->kind = SCAN_UNKNOWN;
	snprintf(out->error, sizeof(out->error),
		 "%zu digits is neither a product code (8, 12, 13, 14) nor a card (%d-%d); rescan",
		 n, cfg->card_min_len, cfg->card_max_len);
}

/* Fixed-length AIs used here; the rest are variable (GS-terminated). */
static int ai_fixed_len(const char *ai, size_t ai_len)
{
	if (ai_len == 2 && (!strncmp(ai, "01", 2) || !strncmp(ai, "02", 2)))
		return 14;
	if (ai_len == 2 && (!strncmp(ai, "11", 2) || !strncmp(ai, "13", 2) ||
			    !strncmp(ai, "15", 2) || !strncmp(ai, "17", 2)))
		return 6;
	if (ai_len == 4 && ai[0] == '3' && ai[1] == '1')
		return 6;
	return -1;
}

static size_t ai_length(const char *p, size_t n)
{
	static const char *const two[] = { "00", "01", "02", "10", "11", "13", "15", "17", "21", "37" };
	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
		if (n >= 2 && !strncmp(p, two[i], 2))
			return 2;
	if (n >= 4 && (p[0] == '3' || p[0] == '8'))
		return 4;
	return 0;
}

static void decode_gs1(const char *d, size_t n, struct scan_result *out)
{
	size_t i = 0;
	bool have_gtin = false, have_coupon = false;

	strcpy(out->symbology, "gs1-128");
	while (i < n) {
		if (d[i] == GS) {
			i++;
			continue;
		}
		size_t al = ai_length(d + i, n - i);
		if (al == 0) {
			reject(out, "GS1 element string has an unknown application identifier near '%.8s'",
			       d + i);
			return;
		}
		const char *ai = d + i;
		i += al;
		int fixed = ai_fixed_len(ai, al);
		size_t vstart = i, vlen;
		if (fixed > 0) {
			if (n - i < (size_t)fixed) {
				reject(out, "GS1 element string is cut short after AI %.4s; rescan", ai);
				return;
			}
			vlen = (size_t)fixed;
		} else {
			const char *gs = memchr(d + i, GS, n - i);
			vlen = gs ? (size_t)(gs - (d + i)) : n - i;
		}
		i += vlen;
		const char *v = d + vstart;
		if (al == 2 && (!strncmp(ai, "01", 2) || !strncmp(ai, "02", 2))) {
			if (!all_digits(v, 14) || !gtin_check_ok(v, 14, "GTIN-14 in AI 01", out))
				return;
			set_gtin14(out, v, 14);
			have_gtin = true;
		} else if (al == 2 && !strncmp(ai, "10", 2)) {
			snprintf(out->batch, sizeof(out->batch), "%.*s", (int)vlen, v);
		} else if (al == 2 && !strncmp(ai, "17", 2)) {
			snprintf(out->expiry, sizeof(out->expiry), "%.6s", v);
		} else if (al == 4 && !strncmp(ai, "310", 3) && all_digits(v, 6)) {
			/* Net weight in kg with ai[3] decimals: keep grams. */
			long long w = strtoll((char[7]){ v[0], v[1], v[2], v[3], v[4], v[5], 0 }, NULL, 10);
			int dec = ai[3] - '0';
			for (; dec > 3; dec--) w /= 10;
			for (; dec < 3; dec++) w *= 10;
			out->weight_g = (int32_t)w;
		} else if (al == 4 && !strncmp(ai, "392", 3) && vlen > 0 && vlen <= 15 &&
			   all_digits(v, vlen)) {
			/* Amount payable with ai[3] decimals: keep cents. */
			char buf[16];
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			long long c = strtoll(buf, NULL, 10);
			int dec = ai[3] - '0';
			for (; dec > 2; dec--) c /= 10;
			for (; dec < 2; dec++) c *= 10;
			out->price_cents = c;
		} else if (al == 4 && !strncmp(ai, "8110", 4)) {
			snprintf(out->coupon, sizeof(out->coupon), "%.*s", (int)vlen, v);
			have_coupon = true;
		}
	}
	if (have_coupon)
		out->kind = SCAN_COUPON;
	else if (have_gtin)
		out->kind = out->price_cents >= 0 ? SCAN_VARIABLE_MEASURE : SCAN_ITEM;
	else
		reject(out, "GS1 element string has no product (AI 01) or coupon (AI 8110)%s", "");
}

int scan_decode(const struct scan_config *cfg, const char *data, size_t len, const char *aim,
		struct scan_result *out)
{
	char sym[4] = "";
	if (!cfg || !data || !out)
		return PM_EINVAL;
	memset(out, 0, sizeof(*out));
	out->price_cents = -1;
	out->weight_g = -1;
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	if (aim && aim[0] == ']' && strlen(aim) == 3)
		memcpy(sym, aim, 4);
	else if (len >= 3 && data[0] == ']') {
		memcpy(sym, data, 3);
		data += 3;
		len -= 3;
	}
	if (len == 0) {
		reject(out, "empty scan%s; rescan", "");
		return PM_OK;
	}
	/* Magstripe track 2 ";PAN=...?" and track 1 "%BPAN^NAME^...?". */
	if (data[0] == ';' || (data[0] == '%' && len > 1 && data[1] == 'B')) {
		const char *p = data + (data[0] == ';' ? 1 : 2);
		const char *end = data + len;
		const char *stop = p;
		while (stop < end && isdigit((unsigned char)*stop))
			stop++;
		strcpy(out->symbology, "magstripe");
		if (stop == end || (*stop != '=' && *stop != '^')) {
			reject(out, "magstripe track is malformed (no field separator); %s",
			       "swipe the card again");
			return PM_OK;
		}
		decode_card(cfg, p, (size_t)(stop - p), out);
		return PM_OK;
	}
	size_t plen = strlen(cfg->coupon_prefix);
	if (plen > 0 && len > plen && !strncmp(data, cfg->coupon_prefix, plen) &&
	    !isdigit((unsigned char)data[plen])) {
		strcpy(out->symbology, "code128");
		if (len >= sizeof(out->coupon)) {
			reject(out, "coupon code is too long%s; it was not printed by posmark", "");
			return PM_OK;
		}
		memcpy(out->coupon, data, len);
		out->coupon[len] = '\0';
		out->kind = SCAN_COUPON;
		return PM_OK;
	}
	bool gs1_aim = !strcmp(sym, "]C1") || !strcmp(sym, "]e0") || !strcmp(sym, "]d2") ||
		       !strcmp(sym, "]Q3");
	if (gs1_aim || memchr(data, GS, len)) {
		decode_gs1(data, len, out);
		return PM_OK;
	}
	if (all_digits(data, len)) {
		decode_digits(cfg, data, len, sym[0] != '\0', out);
		if (sym[0] && out->kind != SCAN_UNKNOWN && sym[1] == 'C')
			strcpy(out->symbology, "code128");
		return PM_OK;
	}
	out->kind = SCAN_UNKNOWN;
	snprintf(out->error, sizeof(out->error),
		 "not a product, card or coupon code (%zu bytes, not all digits); rescan", len);
	return PM_OK;
}

int scan_decode_keyed_card(const struct scan_config *cfg, const char *digits,
			   struct scan_result *out)
{
	if (!cfg || !digits || !out)
		return PM_EINVAL;
	memset(out, 0, sizeof(*out));
	out->price_cents = -1;
	out->weight_g = -1;
	strcpy(out->symbology, "keyed");
	decode_card(cfg, digits, strlen(digits), out);
	return PM_OK;
}
