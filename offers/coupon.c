/*
 * coupon.c - printed coupon codes (layout v1, docs/rules.md "Coupons"):
 *
 *   PREFIX "K" v(1) benefit(1) value(4) target(7) campaign(6) card(6)
 *              expiry(5) serial(6) mac(12)          -> prefix + 49 chars
 *
 * Digits after one letter: CODE128 packs digit pairs into one symbol (code
 * set C), so the barcode stays short enough for a 58/80 mm receipt, and the
 * letter after the prefix is what drivers/decode.c needs to tell a coupon
 * from a GTIN. The MAC is keyed BLAKE2b (libsodium crypto_generichash) over
 * everything after the prefix, truncated to 12 decimal digits (~40 bits): a
 * forger gets one guess per scan at a till. Tags are short hashes, not the
 * data: the card number never appears on paper.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define BODY_DIGITS 36      /* v..serial */
#define MAC_DIGITS 12
#define DAY_US (INT64_C(86400) * 1000000)

void ofr_coupon_key_from_text(const char *text, struct ofr_coupon_key *out)
{
	size_t n = strlen(text), bin_len = 0;
	if (n == 64 && sodium_hex2bin(out->k, sizeof(out->k), text, n, NULL, &bin_len, NULL) == 0 &&
	    bin_len == sizeof(out->k))
		return;
	crypto_generichash(out->k, sizeof(out->k), (const unsigned char *)text, n,
			   (const unsigned char *)"posmark coupon key v1", 21);
}

static uint32_t tag_mod(uint64_t h, uint32_t mod)
{
	uint32_t t = (uint32_t)(h % mod);
	return t ? t : 1;
}

uint32_t ofr_target_tag_item(const char *gtin14)
{
	return tag_mod(ofri_hash_str(gtin14), 10000000);
}

uint32_t ofr_target_tag_category(const char *category)
{
	char buf[80];
	snprintf(buf, sizeof(buf), "category:%s", category);
	return tag_mod(ofri_hash_str(buf), 10000000);
}

uint32_t ofr_campaign_tag(const char *campaign)
{
	return tag_mod(ofri_hash_str(campaign), 1000000);
}

uint32_t ofr_card_tag(const struct ofr_coupon_key *key, const char *card)
{
	unsigned char h[16];
	uint64_t v = 0;
	if (!card || !card[0])
		return 0;
	crypto_generichash(h, sizeof(h), (const unsigned char *)card, strlen(card), key->k, sizeof(key->k));
	memcpy(&v, h, sizeof(v));
	return tag_mod(v, 1000000);
}

static void mac_digits(const struct ofr_coupon_key *key, const char *body, size_t len, char out[MAC_DIGITS + 1])
{
	unsigned char h[16];
	uint64_t v = 0;
	crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, key->k, sizeof(key->k));
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	v %= 1000000000000ULL;
	for (int i = MAC_DIGITS - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[MAC_DIGITS] = '\0';
}

/* n decimal digits of v, zero-padded (v < 10^n checked by the caller). */
static char *put_digits(char *p, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

int ofr_coupon_encode(const struct ofr_coupon_key *key, const char *prefix, const struct ofr_coupon *c,
		      char *out, size_t outlen)
{
	char body[BODY_DIGITS + 2], mac[MAC_DIGITS + 1];
	if (outlen)
		out[0] = '\0';
	if (c->benefit < OFR_PERCENT_ITEM || c->benefit > OFR_POINTS_BONUS_FLAT || c->value < 0 ||
	    c->value > 9999 || c->target_tag > 9999999 || c->campaign_tag > 999999 || c->card_tag > 999999 ||
	    c->expiry_day < 0 || c->expiry_day > 99999 || strlen(prefix) > 8)
		return PM_EINVAL;
	char *p = body;
	*p++ = 'K';
	p = put_digits(p, 1, 1);
	p = put_digits(p, (uint32_t)c->benefit, 1);
	p = put_digits(p, (uint32_t)c->value, 4);
	p = put_digits(p, c->target_tag, 7);
	p = put_digits(p, c->campaign_tag, 6);
	p = put_digits(p, c->card_tag, 6);
	p = put_digits(p, (uint32_t)c->expiry_day, 5);
	p = put_digits(p, c->serial % 1000000, 6);
	*p = '\0';
	mac_digits(key, body, (size_t)(p - body), mac);
	size_t plen = strlen(prefix), blen = (size_t)(p - body);
	if (plen + blen + MAC_DIGITS + 1 > outlen) {
		if (outlen)
			out[0] = '\0';
		return PM_EINVAL;
	}
	memcpy(out, prefix, plen);
	memcpy(out + plen, body, blen);
	memcpy(out + plen + blen, mac, MAC_DIGITS + 1);
	return PM_OK;
}

static uint32_t digits(const char *s, int n)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (uint32_t)(s[i] - '0');
	return v;
}

int ofr_coupon_verify(const struct ofr_coupon_key *key, const char *prefix, const char *code,
		      const char *card, int64_t now_us, struct ofr_coupon *out, bool *card_pending,
		      char *reason, size_t reason_len)
{
	size_t plen = strlen(prefix), n = strlen(code);
	char mac[MAC_DIGITS + 1];
	const char *b = code + plen;
	memset(out, 0, sizeof(*out));
	*card_pending = false;
	snprintf(reason, reason_len, "%s", "");
	if (n != plen + 1 + BODY_DIGITS + MAC_DIGITS || strncmp(code, prefix, plen) || b[0] != 'K') {
		snprintf(reason, reason_len, "not a posmark coupon of this layout (damaged or from another "
			 "system); rescan or take it back");
		return PM_EINVAL;
	}
	for (size_t i = 1; i < 1 + BODY_DIGITS + MAC_DIGITS; i++)
		if (b[i] < '0' || b[i] > '9') {
			snprintf(reason, reason_len, "coupon code is damaged (a non-digit inside); rescan it");
			return PM_EINVAL;
		}
	if (b[1] != '1') {
		snprintf(reason, reason_len, "coupon layout version %c is not known to this till", b[1]);
		return PM_EINVAL;
	}
	mac_digits(key, b, 1 + BODY_DIGITS, mac);
	if (sodium_memcmp(mac, b + 1 + BODY_DIGITS, MAC_DIGITS) != 0) {
		snprintf(reason, reason_len, "coupon does not verify (forged, altered, or from another store); "
			 "take it back and do not apply it");
		return PM_ECHECK;
	}
	out->version = 1;
	out->benefit = b[2] - '0';
	out->value = (int32_t)digits(b + 3, 4);
	out->target_tag = digits(b + 7, 7);
	out->campaign_tag = digits(b + 14, 6);
	out->card_tag = digits(b + 20, 6);
	out->expiry_day = (int32_t)digits(b + 26, 5);
	out->serial = digits(b + 31, 6);
	if (out->benefit < OFR_PERCENT_ITEM || out->benefit > OFR_POINTS_BONUS_FLAT) {
		snprintf(reason, reason_len, "coupon names an unknown benefit %d", out->benefit);
		return PM_EINVAL;
	}
	if (now_us / DAY_US > out->expiry_day) {
		snprintf(reason, reason_len, "coupon expired on day %d (%d days ago); it cannot be applied",
			 (int)out->expiry_day, (int)(now_us / DAY_US - out->expiry_day));
		return PM_EEXPIRED;
	}
	if (out->card_tag) {
		if (!card || !card[0]) {
			*card_pending = true;
		} else if (ofr_card_tag(key, card) != out->card_tag) {
			snprintf(reason, reason_len, "coupon was issued to another loyalty card; it works only "
				 "with the card it was printed for");
			return PM_EREFUSED;
		}
	}
	return PM_OK;
}

int64_t ofr_coupon_discount(const struct ofr_coupon *c, const struct ofr_line *items, size_t n,
			    const struct ofr_rules *r, int *line_out)
{
	int64_t total = 0;
	*line_out = -1;
	for (size_t i = 0; i < n; i++)
		total += items[i].line_cents;
	if (c->benefit == OFR_AMOUNT_BASKET)
		return total > c->value ? c->value : 0;
	if (c->benefit == OFR_POINTS_BONUS_FLAT)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t tag;
		if (items[i].qty <= 0 || items[i].line_cents <= 0)
			continue;
		if (c->benefit == OFR_PERCENT_CATEGORY) {
			const struct ofri_product *p = r ? ofri_product_find(r, ofri_gtin_key(items[i].gtin)) : NULL;
			if (!p || !p->category)
				continue;
			tag = ofr_target_tag_category(r->strs.s[p->category]);
		} else {
			tag = ofr_target_tag_item(items[i].gtin);
		}
		if (tag != c->target_tag)
			continue;
		*line_out = (int)i;
		int64_t unit = items[i].line_cents / items[i].qty;
		switch (c->benefit) {
		case OFR_PERCENT_ITEM:
		case OFR_PERCENT_CATEGORY:
			return (unit * c->value + 50) / 100;
		case OFR_AMOUNT_ITEM:
			return c->value < unit ? c->value : unit;
		default:
			return 0;  /* points multiplier: awarded from the redemption event */
		}
	}
	return 0;
}
