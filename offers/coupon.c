/*
 * coupon.c - printed coupon codes (docs/rules.md "Coupons").
 *
 * v2 (printed now): LETTER offer(4) expiry(3) card(4) seq(1) mac(8)
 *   = 21 characters; LETTER is the first letter of the configured prefix
 *   ("P" for the default "PM"). CODE128 prints it as Start B, the letter,
 *   Code C and ten digit pairs: 12 symbols, 2 x (35 + 11 x 12 + 20 quiet)
 *   = 374 dots at a 2-dot module, which fits even a 58 mm (384-dot) head.
 *   What the coupon gives is not on paper: offer is a 4-digit tag of its
 *   content (campaign, benefit, value, target), found again in the rule set
 *   at the till, and the MAC covers that content and the full expiry day,
 *   so a rule that changed or a code from another era does not verify.
 * v1 (still accepted until the last expire):
 *   PREFIX "K" v(1) benefit(1) value(4) target(7) campaign(6) card(6)
 *              expiry(5) serial(6) mac(12)          -> prefix + 49 chars
 * MACs are keyed BLAKE2b (libsodium crypto_generichash) truncated to
 * decimal digits. Tags are short hashes, not the data: the card number never
 * appears on paper.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_DIGITS 36      /* v..serial */
#define MAC_DIGITS 12
#define V2_DIGITS 20        /* offer(4) expiry(3) card(4) seq(1) mac(8) */
#define V2_MAC 8
#define V2_PAST_DAYS 634    /* a 3-digit expiry is read in [today-634, today+365] */
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

/* v1 printed a 6-digit card tag; the 4-digit one (v2, and what the till compares) is derived from it. */
static uint32_t card_tag6(const struct ofr_coupon_key *key, const char *card)
{
	unsigned char h[16];
	uint64_t v = 0;
	crypto_generichash(h, sizeof(h), (const unsigned char *)card, strlen(card), key->k, sizeof(key->k));
	memcpy(&v, h, sizeof(v));
	return tag_mod(v, 1000000);
}

static uint32_t card_tag4_of6(uint32_t t6)
{
	return t6 ? tag_mod(t6, 10000) : 0;
}

uint32_t ofr_card_tag(const struct ofr_coupon_key *key, const char *card)
{
	if (!card || !card[0])
		return 0;
	return card_tag4_of6(card_tag6(key, card));
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

static int encode_v1(const struct ofr_coupon_key *key, const char *prefix, const struct ofr_coupon *c,
		     char *out, size_t outlen)
{
	char body[BODY_DIGITS + 2], mac[MAC_DIGITS + 1];
	uint32_t card = c->v1_card_tag ? c->v1_card_tag : c->card_tag;
	if (card > 999999)
		return PM_EINVAL;
	char *p = body;
	*p++ = 'K';
	p = put_digits(p, 1, 1);
	p = put_digits(p, (uint32_t)c->benefit, 1);
	p = put_digits(p, (uint32_t)c->value, 4);
	p = put_digits(p, c->target_tag, 7);
	p = put_digits(p, c->campaign_tag, 6);
	p = put_digits(p, card, 6);
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

static int verify_v1(const struct ofr_coupon_key *key, const char *prefix, const char *code,
		     struct ofr_coupon *out, char *reason, size_t reason_len)
{
	size_t plen = strlen(prefix);
	char mac[MAC_DIGITS + 1];
	const char *b = code + plen;
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
	out->v1_card_tag = digits(b + 20, 6);
	out->card_tag = card_tag4_of6(out->v1_card_tag);
	out->expiry_day = (int32_t)digits(b + 26, 5);
	out->serial = digits(b + 31, 6);
	if (out->benefit < OFR_PERCENT_ITEM || out->benefit > OFR_POINTS_BONUS_FLAT) {
		snprintf(reason, reason_len, "coupon names an unknown benefit %d", out->benefit);
		return PM_EINVAL;
	}
	return PM_OK;
}

/* ---- v2 ---------------------------------------------------------------- */

/* The 4-digit offer tag: a hash of what the coupon gives, plus the target tag (so the till can find
 * up-sell targets, chosen per basket, by looking for one product tag per rule). */
static uint32_t offer_base(uint32_t campaign_tag, int benefit, int32_t value)
{
	/* integer mixing (splitmix64's finaliser): a verify walks every rule, so no strings here */
	uint64_t h = (uint64_t)campaign_tag * 1000003u ^ (uint64_t)(uint32_t)benefit;
	h = h * 1000003u ^ (uint64_t)(uint32_t)value;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (uint32_t)(h % 10000);
}

static uint32_t offer_tag(const struct ofr_coupon *c)
{
	return (offer_base(c->campaign_tag, c->benefit, c->value) + c->target_tag) % 10000;
}

/* The v2 MAC: over the printed digits and the content they stand for (not on paper). */
static uint32_t mac_v2(const struct ofr_coupon_key *key, char letter, const char *printed12,
		       const struct ofr_coupon *c)
{
	char buf[96];
	unsigned char h[16];
	uint64_t v = 0;
	int n = snprintf(buf, sizeof(buf), "posmark coupon v2|%c|%.12s|%d|%d|%u|%u|%d", letter, printed12,
			 c->benefit, (int)c->value, (unsigned)c->target_tag, (unsigned)c->campaign_tag,
			 (int)c->expiry_day);
	crypto_generichash(h, sizeof(h), (const unsigned char *)buf, (size_t)n, key->k, sizeof(key->k));
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (uint32_t)(v % 100000000u);
}

static int encode_v2(const struct ofr_coupon_key *key, char letter, const struct ofr_coupon *c, char *out,
		     size_t outlen)
{
	char printed[V2_DIGITS + 2];
	if (outlen < 2 + V2_DIGITS)
		return PM_EINVAL;
	char *p = printed;
	p = put_digits(p, offer_tag(c), 4);
	p = put_digits(p, (uint32_t)c->expiry_day % 1000, 3);
	p = put_digits(p, c->card_tag, 4);
	p = put_digits(p, c->serial / OFR_MAX_OFFERS % 10, 1);   /* the sale's number mod 10 */
	p = put_digits(p, mac_v2(key, letter, printed, c), V2_MAC);
	*p = '\0';
	out[0] = letter;
	memcpy(out + 1, printed, V2_DIGITS + 1);
	return PM_OK;
}

/* Try one content for the printed code: true (and *out filled) if its MAC verifies. */
static bool try_v2(const struct ofr_coupon_key *key, const char *code, uint32_t offer, struct ofr_coupon *cand,
		   struct ofr_coupon *out)
{
	if (offer_tag(cand) != offer)
		return false;
	char mac[V2_MAC + 1];
	put_digits(mac, mac_v2(key, code[0], code + 1, cand), V2_MAC);
	if (sodium_memcmp(mac, code + 1 + 12, V2_MAC) != 0)
		return false;
	*out = *cand;
	return true;
}

/* The rule's offer as a coupon content; the target is the static one (item or category). */
static struct ofr_coupon rule_content(const struct ofr_rules *r, const struct ofri_rule *rule)
{
	struct ofr_coupon c = { .version = 2, .benefit = rule->benefit, .value = rule->value,
				.campaign_tag = ofr_campaign_tag(rule->campaign) };
	if (rule->target_key)
		c.target_tag = ofr_target_tag_item(rule->target_gtin);
	else if (rule->target_category)
		c.target_tag = ofr_target_tag_category(r->strs.s[rule->target_category]);
	return c;
}

/* Find the content among the rule set's offers: each rule's static target, and for up-sell rules every
 * catalog product (the decision picks one per basket). *tried counts contents whose tag matched. */
static bool find_v2(const struct ofr_coupon_key *key, const struct ofr_rules *r, const char *code,
		    uint32_t offer, struct ofr_coupon *cand, struct ofr_coupon *out, int *tried)
{
	uint32_t *ptag = NULL;     /* the catalog's item tags, computed once when an up-sell rule needs them */
	bool found = false;
	for (size_t i = 0; r && i < r->n_rules && !found; i++) {
		const struct ofri_rule *rule = &r->rules[i];
		struct ofr_coupon c = rule_content(r, rule);
		c.card_tag = cand->card_tag;
		c.expiry_day = cand->expiry_day;
		c.serial = cand->serial;
		*tried += offer_tag(&c) == offer;
		if ((found = try_v2(key, code, offer, &c, out)) || !rule->upsell || !r->n_products)
			continue;
		if (!ptag && (ptag = malloc(r->n_products * sizeof(*ptag))) != NULL)
			for (size_t j = 0; j < r->n_products; j++)
				ptag[j] = ofr_target_tag_item(r->products[j].gtin);
		uint32_t base = offer_base(c.campaign_tag, c.benefit, c.value);
		for (size_t j = 0; j < r->n_products && !found; j++) {
			c.target_tag = ptag ? ptag[j] : ofr_target_tag_item(r->products[j].gtin);
			if ((base + c.target_tag) % 10000 != offer)
				continue;
			(*tried)++;
			found = try_v2(key, code, offer, &c, out);
		}
	}
	free(ptag);
	return found;
}

static int verify_v2(const struct ofr_coupon_key *key, const struct ofr_rules *rules, const char *code,
		     int64_t now_us, struct ofr_coupon *out, char *reason, size_t reason_len)
{
	for (size_t i = 1; i <= V2_DIGITS; i++)
		if (!isdigit((unsigned char)code[i])) {
			snprintf(reason, reason_len, "coupon code is damaged (a non-digit inside); rescan it");
			return PM_EINVAL;
		}
	uint32_t offer = digits(code + 1, 4), exp3 = digits(code + 5, 3);
	int64_t base = now_us / DAY_US - V2_PAST_DAYS;
	struct ofr_coupon cand = { .version = 2, .card_tag = digits(code + 8, 4),
				   .serial = digits(code + 12, 1) * OFR_MAX_OFFERS };
	cand.expiry_day = (int32_t)(base + ((int64_t)exp3 - base % 1000 + 1000) % 1000);
	int tried = 0;
	if (find_v2(key, rules, code, offer, &cand, out, &tried))
		return PM_OK;
	if (!tried) {
		snprintf(reason, reason_len, "the offer of this coupon is not in the rule set now (withdrawn or "
			 "changed, or a forgery); it cannot be applied: take it back");
		return PM_EREFUSED;
	}
	snprintf(reason, reason_len, "coupon does not verify (forged, altered, from another store, or "
		 "its offer changed); take it back and do not apply it");
	return PM_ECHECK;
}

int ofr_coupon_encode(const struct ofr_coupon_key *key, const char *prefix, const struct ofr_coupon *c,
		      char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (c->benefit < OFR_PERCENT_ITEM || c->benefit > OFR_POINTS_BONUS_FLAT || c->value < 0 ||
	    c->value > 9999 || c->target_tag > 9999999 || c->campaign_tag > 999999 || c->card_tag > 9999 ||
	    c->expiry_day < 0 || c->expiry_day > 99999 || strlen(prefix) > 8)
		return PM_EINVAL;
	if (c->version == 1 || !isupper((unsigned char)prefix[0]))
		return encode_v1(key, prefix, c, out, outlen);
	return encode_v2(key, prefix[0], c, out, outlen);
}

int ofr_coupon_verify(const struct ofr_coupon_key *key, const struct ofr_rules *rules, const char *prefix,
		      const char *code, const char *card, int64_t now_us, struct ofr_coupon *out,
		      bool *card_pending, char *reason, size_t reason_len)
{
	size_t plen = strlen(prefix), n = strlen(code);
	int rc;
	memset(out, 0, sizeof(*out));
	*card_pending = false;
	snprintf(reason, reason_len, "%s", "");
	if (n == 1 + V2_DIGITS && isupper((unsigned char)prefix[0]) && code[0] == prefix[0] &&
	    isdigit((unsigned char)code[1]))
		rc = verify_v2(key, rules, code, now_us, out, reason, reason_len);
	else if (n == plen + 1 + BODY_DIGITS + MAC_DIGITS && !strncmp(code, prefix, plen) && code[plen] == 'K')
		rc = verify_v1(key, prefix, code, out, reason, reason_len);
	else {
		snprintf(reason, reason_len, "not a posmark coupon of this layout (damaged or from another "
			 "system); rescan or take it back");
		return PM_EINVAL;
	}
	if (rc)
		return rc;
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

int64_t ofr_coupon_expires_us(const char *prefix, const char *code, int64_t issued_us)
{
	size_t plen = strlen(prefix), n = strlen(code);
	int64_t day;
	bool v2 = n == 1 + V2_DIGITS && code[0] == prefix[0];
	for (size_t i = v2 ? 1 : plen + 1; i < n; i++)
		if (!isdigit((unsigned char)code[i]))
			return 0;
	if (v2) {
		int64_t issued = issued_us / DAY_US;   /* the expiry is within 365 days after the issue */
		day = issued + (((int64_t)digits(code + 5, 3) - issued % 1000) % 1000 + 1000) % 1000;
	} else if (n == plen + 1 + BODY_DIGITS + MAC_DIGITS && !strncmp(code, prefix, plen) && code[plen] == 'K') {
		day = digits(code + plen + 26, 5);
	} else {
		return 0;
	}
	return (day + 1) * DAY_US - 1;
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
