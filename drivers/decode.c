/*
 * decode.c - the one scan decoder: raw scanner text to a typed scan.
 *
 * Order of rules (docs/scanning.md explains each):
 *   1. AIM symbology identifier (given, or a "]Xn" prefix of the data).
 *   2. Magstripe tracks (";PAN=...?" track 2, "%B PAN^...?" track 1): card.
 *   3. posmark coupon codes (configured prefix, default "PM"): coupon.
 *   4. GS1 element strings (AIM ]C1/]e0/]d2/]Q3, or containing GS, or the
 *      bracketed form): validated against the GS1 Syntax Dictionary
 *      (common/pm_gs1_dict.c, table in pm_gs1_table.c), then AIs 01/02, 10, 17, 310n, 392n, 8110 used.
 *   5. All digits: 8/12/13/14 digits are GTINs (13 digits with prefix 20-29
 *      are in-store variable-measure codes); 16-19 digits are cards
 *      (Luhn), except a 16-digit "01"+GTIN-14 with a valid GTIN check digit
 *      scanned without a symbology id, which is the GS1 element string (01).
 */
#include "drivers/drivers.h"
#include "common/pm_err.h"
#include "common/pm_gs1.h"

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
	int want = pm_gs1_check_digit(d, n - 1);
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
	if (n >= sizeof(out->card) || (int)n < cfg->card_min_len || (int)n > cfg->card_max_len) {
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
	base[12] = (char)('0' + pm_gs1_check_digit(base, 12));
	base[13] = '\0';
	set_gtin14(out, base, 13);
	out->price_cents = strtol((char[6]){ d[7], d[8], d[9], d[10], d[11], 0 }, NULL, 10);
	out->kind = SCAN_VARIABLE_MEASURE;
}

static void decode_digits(const struct scan_config *cfg, const char *d, size_t n, bool had_aim,
			  struct scan_result *out)
{
	/* GTIN-8, -12, -13, -14 by length (an EAN-13 starting with 2 is in-store) */
	static const struct { size_t n; const char *symbology, *name; } gtins[] = {
		{ 8, "ean8", "EAN-8" }, { 12, "upca", "UPC-A" },
		{ 13, "ean13", "EAN-13" }, { 14, "gtin14", "GTIN-14" },
	};
	for (size_t i = 0; i < sizeof(gtins) / sizeof(gtins[0]); i++) {
		if (gtins[i].n != n)
			continue;
		strcpy(out->symbology, gtins[i].symbology);
		if (!gtin_check_ok(d, n, gtins[i].name, out))
			return;
		if (n == 13 && d[0] == '2') {
			decode_variable_measure(d, out);
		} else {
			set_gtin14(out, d, n);
			out->kind = SCAN_ITEM;
		}
		return;
	}
	if (n == 16 && !had_aim && (d[0] == '0' && (d[1] == '1' || d[1] == '2')) &&
	    pm_gs1_check_digit(d + 2, 13) == d[15] - '0') {
		strcpy(out->symbology, "gs1");
		set_gtin14(out, d + 2, 14);
		out->kind = SCAN_ITEM;
		return;
	}
	if (n >= 16 && n <= 19) {
		strcpy(out->symbology, "card");
		decode_card(cfg, d, n, out);
		return;
	}
	out->kind = SCAN_UNKNOWN;
	snprintf(out->error, sizeof(out->error),
		 "%zu digits is neither a product code (8, 12, 13, 14) nor a card (%d-%d); rescan",
		 n, cfg->card_min_len, cfg->card_max_len);
}

/* 10^k for k in 0..18, or -1: the decimal point position of AIs 310n/392n. */
static long long pow10_ll(int k)
{
	long long p = 1;
	if (k < 0 || k > 18)
		return -1;
	while (k--)
		p *= 10;
	return p;
}

static void decode_gs1(const char *d, size_t n, struct scan_result *out)
{
	struct pm_gs1_elem el[PM_GS1_MAX_ELEMS];
	size_t count = 0;
	bool have_gtin = false, have_coupon = false;

	strcpy(out->symbology, "gs1-128");
	/* Every AI known to GS1, its format, check digits, dates, pairs: the Syntax Dictionary. */
	if (!pm_gs1_parse(d, n, el, &count, out->error, sizeof(out->error))) {
		out->kind = SCAN_UNKNOWN;
		return;
	}
	for (size_t e = 0; e < count; e++) {
		const char *ai = el[e].ai, *v = el[e].v;
		size_t vlen = el[e].vlen;
		if (!strcmp(ai, "01") || !strcmp(ai, "02")) {
			set_gtin14(out, v, 14);
			have_gtin = true;
		} else if (!strcmp(ai, "10")) {
			snprintf(out->batch, sizeof(out->batch), "%.*s", (int)vlen, v);
		} else if (!strcmp(ai, "17")) {
			memcpy(out->expiry, v, 6);
			out->expiry[6] = '\0';
		} else if (!strncmp(ai, "310", 3)) {
			/* Net weight in kg with ai[3] decimals: keep grams. */
			long long w = strtoll((char[7]){ v[0], v[1], v[2], v[3], v[4], v[5], 0 }, NULL, 10);
			int dec = ai[3] - '0';
			w = dec >= 3 ? w / pow10_ll(dec - 3) : w * pow10_ll(3 - dec);
			if (w > INT32_MAX) {
				reject(out, "GS1 net weight (AI %.4s) is out of range; rescan", ai);
				return;
			}
			out->weight_g = (int32_t)w;
		} else if (!strncmp(ai, "392", 3)) {
			/* Amount payable with ai[3] decimals (the dictionary: N..15): keep cents. */
			char buf[16];
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			long long c = strtoll(buf, NULL, 10);
			int dec = ai[3] - '0';
			if (dec >= 2) {
				c /= pow10_ll(dec - 2);
			} else if (c > 999999999999LL) {
				reject(out, "GS1 amount (AI %.4s) is out of range; rescan", ai);
				return;
			} else {
				c *= pow10_ll(2 - dec);
			}
			out->price_cents = c;
		} else if (!strcmp(ai, "8110")) {
			if (vlen >= sizeof(out->coupon)) {
				reject(out, "GS1 coupon (AI 8110) is too long%s; rescan", "");
				return;
			}
			memcpy(out->coupon, v, vlen);
			out->coupon[vlen] = '\0';
			have_coupon = true;
		}
	}
	if (have_coupon)
		out->kind = SCAN_COUPON;
	else if (have_gtin)
		out->kind = out->price_cents >= 0 ? SCAN_VARIABLE_MEASURE : SCAN_ITEM;
	else
		reject(out, "GS1 element string has no product (AI 01/02) or coupon (AI 8110)%s", "");
}

/*
 * Human-readable GS1 "(01)09501101530003(17)140704" (what is printed under
 * the bars; people type it into posmark decode): to the element string with
 * GS between elements. Returns the length, or 0 if it is not that form.
 */
static size_t gs1_from_hri(const char *d, size_t n, char *buf, size_t cap)
{
	size_t o = 0, i = 0;
	if (n < 4 || d[0] != '(')
		return 0;
	while (i < n) {
		if (d[i] != '(')
			return 0;
		const char *close = memchr(d + i, ')', n - i);
		size_t al = close ? (size_t)(close - (d + i + 1)) : 0;
		if (al < 2 || al > 4 || !all_digits(d + i + 1, al))
			return 0;
		if (o > 0 && o < cap)
			buf[o++] = GS;
		if (o + al >= cap)
			return 0;
		memcpy(buf + o, d + i + 1, al);
		o += al;
		i += al + 2;
		while (i < n && d[i] != '(') {
			if (o + 1 >= cap)
				return 0;
			buf[o++] = d[i++];
		}
	}
	return o;
}

/* The symbology name an AIM identifier stands for ("" when unknown). */
static const char *aim_symbology(const char *sym)
{
	static const struct { const char *aim; const char *name; } t[] = {
		{ "]E0", "ean13" }, { "]E3", "ean13" }, { "]E4", "ean8" }, { "]C0", "code128" },
		{ "]C1", "gs1-128" }, { "]e0", "gs1-databar" }, { "]d1", "datamatrix" },
		{ "]d2", "gs1-datamatrix" }, { "]Q1", "qr" }, { "]Q3", "gs1-qr" }, { "]A0", "code39" },
		{ "]I0", "itf" }, { "]I1", "itf" }, { "]X0", "other" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(sym, t[i].aim))
			return t[i].name;
	return "";
}

static bool is_aim(const char *p)
{
	return p[0] == ']' && isalpha((unsigned char)p[1]) && isalnum((unsigned char)p[2]);
}

static void decode_magstripe(const struct scan_config *cfg, const char *data, size_t len,
			     struct scan_result *out)
{
	/* Track 2 ";PAN=YYMM...?" and track 1 "%BPAN^NAME^YYMM...?". */
	const char *p = data + (data[0] == ';' ? 1 : 2);
	const char *end = data + len;
	const char *stop = p;
	while (stop < end && isdigit((unsigned char)*stop))
		stop++;
	strcpy(out->symbology, "magstripe");
	if (stop == end || (*stop != '=' && *stop != '^') ||
	    (data[0] == ';' && *stop != '=') || (data[0] == '%' && *stop != '^')) {
		reject(out, "magstripe track is malformed (no field separator after the card number); %s",
		       "swipe the card again");
		return;
	}
	if (stop == p) {
		reject(out, "magstripe track has no card number%s; swipe the card again", "");
		return;
	}
	decode_card(cfg, p, (size_t)(stop - p), out);
}

int scan_decode(const struct scan_config *cfg, const char *data, size_t len, const char *aim,
		struct scan_result *out)
{
	char sym[4] = "";
	char hri[256];
	if (!cfg || !data || !out)
		return PM_EINVAL;
	memset(out, 0, sizeof(*out));
	out->price_cents = -1;
	out->weight_g = -1;
	/* Terminators and padding some scanners add (CR, LF, TAB, spaces). */
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n' || data[len - 1] == '\t' ||
			   data[len - 1] == ' '))
		len--;
	while (len > 0 && data[0] == ' ') {
		data++;
		len--;
	}
	if (aim && strlen(aim) == 3 && is_aim(aim))
		memcpy(sym, aim, 4);
	else if (len >= 3 && is_aim(data)) {
		memcpy(sym, data, 3);
		data += 3;
		len -= 3;
	}
	if (len == 0) {
		reject(out, "empty scan%s; rescan", "");
		return PM_OK;
	}
	if (data[0] == ';' || (data[0] == '%' && len > 1 && data[1] == 'B')) {
		decode_magstripe(cfg, data, len, out);
		return PM_OK;
	}
	size_t plen = strnlen(cfg->coupon_prefix, sizeof(cfg->coupon_prefix));
	/* v1: the prefix then a letter; v2: the prefix's first (capital) letter then 20 digits. */
	bool v2 = plen > 0 && isupper((unsigned char)cfg->coupon_prefix[0]) && len == 21 &&
		  data[0] == cfg->coupon_prefix[0] && all_digits(data + 1, 20);
	if (v2 || (plen > 0 && len > plen && !strncmp(data, cfg->coupon_prefix, plen) &&
		   !isdigit((unsigned char)data[plen]))) {
		strcpy(out->symbology, sym[0] ? aim_symbology(sym) : "code128");
		if (len >= sizeof(out->coupon)) {
			reject(out, "coupon code is too long%s; it was not printed by posmark", "");
			return PM_OK;
		}
		for (size_t i = 0; i < len; i++)
			if (!isgraph((unsigned char)data[i])) {
				reject(out, "coupon code has a control or blank character at %zu; rescan", i);
				return PM_OK;
			}
		memcpy(out->coupon, data, len);
		out->coupon[len] = '\0';
		out->kind = SCAN_COUPON;
		return PM_OK;
	}
	bool gs1_aim = !strcmp(sym, "]C1") || !strcmp(sym, "]e0") || !strcmp(sym, "]d2") ||
		       !strcmp(sym, "]Q3");
	size_t hlen = gs1_from_hri(data, len, hri, sizeof(hri));
	if (hlen > 0) {
		decode_gs1(hri, hlen, out);
		return PM_OK;
	}
	if (gs1_aim || memchr(data, GS, len)) {
		decode_gs1(data, len, out);
		if (gs1_aim && out->kind != SCAN_UNKNOWN)
			strcpy(out->symbology, aim_symbology(sym));
		return PM_OK;
	}
	if (all_digits(data, len)) {
		decode_digits(cfg, data, len, sym[0] != '\0', out);
		if (sym[0] && out->kind != SCAN_UNKNOWN && aim_symbology(sym)[0] &&
		    (out->kind == SCAN_CARD || sym[1] != 'E'))
			strcpy(out->symbology, aim_symbology(sym));
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
