/*
 * wire_event.c - event payloads v1 and their type names (wire.h): one
 * encoder and one decoder per payload, used by the terminal (to write its
 * outbox and to replay its caps) and by HQ (to ingest).
 */
#include "wire/wire.h"
#include "common/pm_err.h"

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[WIRE_EV_TYPE_MAX + 1] = {
	[WIRE_EV_CONSENT] = "consent",
	[WIRE_EV_ERASURE] = "erasure",
	[WIRE_EV_OFFER_ISSUED] = "offer_issued",
	[WIRE_EV_OFFER_HELD_BACK] = "offer_held_back",
	[WIRE_EV_OFFER_REDEEMED] = "offer_redeemed",
};

const char *wire_event_type_name(int type)
{
	return type >= 1 && type <= WIRE_EV_TYPE_MAX ? type_names[type] : NULL;
}

int wire_event_type_parse(const char *name)
{
	for (int t = 1; t <= WIRE_EV_TYPE_MAX; t++)
		if (name && !strcmp(name, type_names[t]))
			return t;
	return PM_EINVAL;
}

static bool digits_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool card_ok(const char *card)
{
	size_t n = strlen(card);
	return n >= 1 && n <= WIRE_CARD_MAX && digits_only(card, n);
}

static const char *const consent_words[] = { "unknown", "yes", "no" };

const char *wire_consent_name(int consent)
{
	return consent >= WIRE_CONSENT_UNKNOWN && consent <= WIRE_CONSENT_NO ? consent_words[consent] : NULL;
}

int wire_consent_encode(const struct wire_consent_event *e, struct pm_buf *out)
{
	if (!card_ok(e->card) || e->consent < WIRE_CONSENT_UNKNOWN || e->consent > WIRE_CONSENT_NO)
		return PM_EINVAL;
	return pm_buf_printf(out, "%s %s", e->card, consent_words[e->consent]);
}

int wire_consent_decode(const char *p, size_t len, struct wire_consent_event *out, char *err,
			size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *sp = memchr(p, ' ', len);
	size_t cl = sp ? (size_t)(sp - p) : len;
	if (!sp || cl < 1 || cl > WIRE_CARD_MAX || !digits_only(p, cl)) {
		snprintf(err, errlen, "consent payload: expected 'CARD yes|no|unknown'");
		return PM_EINVAL;
	}
	const char *w = sp + 1;
	size_t wl = len - cl - 1;
	for (int c = 0; c < 3; c++)
		if (wl == strlen(consent_words[c]) && !memcmp(w, consent_words[c], wl)) {
			memcpy(out->card, p, cl);
			out->card[cl] = '\0';
			out->consent = c;
			return PM_OK;
		}
	snprintf(err, errlen, "consent payload: the answer must be yes, no or unknown");
	return PM_EINVAL;
}

int wire_erasure_encode(const struct wire_erasure_event *e, struct pm_buf *out)
{
	if (!card_ok(e->card))
		return PM_EINVAL;
	return pm_buf_adds(out, e->card);
}

#define SEAL_PLAIN WIRE_CARD_MAX          /* the number, space-padded */
#define SEAL_LEN (SEAL_PLAIN + crypto_box_SEALBYTES)

int wire_erasure_seal(const char *card, const unsigned char hq_sign_pk[32], struct pm_buf *out)
{
	unsigned char xpk[crypto_box_PUBLICKEYBYTES], plain[SEAL_PLAIN], sealed[SEAL_LEN];
	char b64[sodium_base64_ENCODED_LEN(SEAL_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	if (!card_ok(card) || sodium_init() < 0 || crypto_sign_ed25519_pk_to_curve25519(xpk, hq_sign_pk))
		return PM_EINVAL;
	memset(plain, ' ', sizeof(plain));
	memcpy(plain, card, strlen(card));
	if (crypto_box_seal(sealed, plain, sizeof(plain), xpk))
		return PM_EINVAL;
	sodium_memzero(plain, sizeof(plain));
	sodium_bin2base64(b64, sizeof(b64), sealed, sizeof(sealed), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	int rc = pm_buf_adds(out, WIRE_ERASURE_SEALED_PREFIX);
	return rc ? rc : pm_buf_adds(out, b64);
}

static bool sealed_bytes(const char *p, size_t len, unsigned char sealed[SEAL_LEN])
{
	size_t pl = strlen(WIRE_ERASURE_SEALED_PREFIX), bin_len = 0;
	const char *end = NULL;
	return len > pl && !memcmp(p, WIRE_ERASURE_SEALED_PREFIX, pl) &&
	       sodium_base642bin(sealed, SEAL_LEN, p + pl, len - pl, NULL, &bin_len, &end,
				 sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	       bin_len == SEAL_LEN && end == p + len;
}

int wire_erasure_decode(const char *p, size_t len, struct wire_erasure_event *out, char *err,
			size_t errlen)
{
	unsigned char sealed[SEAL_LEN];
	memset(out, 0, sizeof(*out));
	if (len > 0 && (p[0] < '0' || p[0] > '9')) {
		if (!sealed_bytes(p, len, sealed)) {
			snprintf(err, errlen, "erasure payload: expected a card number or '%s' and %d bytes in "
				 "URL-safe base64", WIRE_ERASURE_SEALED_PREFIX, SEAL_LEN);
			return PM_EINVAL;
		}
		out->sealed = true;
		return PM_OK;
	}
	if (len < 1 || len > WIRE_CARD_MAX || !digits_only(p, len)) {
		snprintf(err, errlen, "erasure payload: expected a card number (1-%d digits)",
			 WIRE_CARD_MAX);
		return PM_EINVAL;
	}
	memcpy(out->card, p, len);
	out->card[len] = '\0';
	return PM_OK;
}

int wire_erasure_open(const char *p, size_t len, const unsigned char hq_sign_sk[64],
		      struct wire_erasure_event *e, char *err, size_t errlen)
{
	unsigned char sealed[SEAL_LEN], plain[SEAL_PLAIN], xpk[crypto_box_PUBLICKEYBYTES],
		xsk[crypto_box_SECRETKEYBYTES];
	size_t n = 0;
	int rc = PM_EINVAL;
	e->card[0] = '\0';
	if (!sealed_bytes(p, len, sealed) || sodium_init() < 0) {
		snprintf(err, errlen, "erasure payload: not a sealed erasure");
		return PM_EINVAL;
	}
	/* The Ed25519 secret key holds its public key in its second half. */
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, hq_sign_sk) ||
	    crypto_sign_ed25519_pk_to_curve25519(xpk, hq_sign_sk + 32) ||
	    crypto_box_seal_open(plain, sealed, sizeof(sealed), xpk, xsk)) {
		snprintf(err, errlen, "erasure payload: sealed to another key than HQ's rule-signing key, or "
			 "damaged");
		goto out_wipe;
	}
	while (n < SEAL_PLAIN && plain[n] >= '0' && plain[n] <= '9')
		n++;
	for (size_t i = n; i < SEAL_PLAIN; i++)
		if (plain[i] != ' ')
			n = 0;
	if (n == 0) {
		snprintf(err, errlen, "erasure payload: the sealed number is not 1-%d digits", WIRE_CARD_MAX);
		goto out_wipe;
	}
	memcpy(e->card, plain, n);
	e->card[n] = '\0';
	e->sealed = true;
	rc = PM_OK;
out_wipe:
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(xsk, sizeof(xsk));
	return rc;
}

int wire_offer_encode(int type, const struct wire_offer_event *e, struct pm_buf *out)
{
	if (type < WIRE_EV_OFFER_ISSUED || type > WIRE_EV_OFFER_REDEEMED || (e->card[0] && !card_ok(e->card)) ||
	    e->sale > INT64_MAX || (e->has_offer && !digits_only(e->gtin, strlen(e->gtin))))
		return PM_EINVAL;
	/* json_pack fails on a string that is not UTF-8 (or on no memory) */
	json_t *p = json_pack("{s:i, s:I, s:s, s:s, s:s}", "v", 1, "sale", (json_int_t)e->sale,
			      "campaign", e->campaign, "rule", e->rule, "card", e->card);
	if (!p)
		return PM_EINVAL;
	int bad = 0;
	if (e->has_offer) {
		bad |= json_object_set_new(p, "kind", json_string(e->kind));
		bad |= json_object_set_new(p, "gtin", json_string(e->gtin));
		bad |= json_object_set_new(p, "benefit", json_integer(e->benefit));
		bad |= json_object_set_new(p, "value", json_integer(e->value));
	}
	if (e->coupon[0])
		bad |= json_object_set_new(p, "coupon", json_string(e->coupon));
	if (type == WIRE_EV_OFFER_REDEEMED)
		bad |= json_object_set_new(p, "discount_cents", json_integer(e->discount_cents));
	char *s = bad ? NULL : json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!s)
		return bad ? PM_EINVAL : PM_ENOMEM;
	int rc = pm_buf_adds(out, s);
	free(s);
	return rc;
}

/* Copy an optional string member (absent: "") of at most cap-1 bytes. */
static int get_str(json_t *o, const char *key, char *dst, size_t cap, bool required, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(o, key);
	dst[0] = '\0';
	if (!v) {
		if (!required)
			return PM_OK;
		snprintf(err, errlen, "offer payload: '%s' is missing", key);
		return PM_EINVAL;
	}
	if (!json_is_string(v) || json_string_length(v) >= cap ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "offer payload: '%s' must be a string of at most %zu bytes", key,
			 cap - 1);
		return PM_EINVAL;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return PM_OK;
}

static int get_int(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *dst, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "offer payload: '%s' must be an integer in [%lld, %lld]", key,
			 (long long)lo, (long long)hi);
		return PM_EINVAL;
	}
	*dst = json_integer_value(v);
	return PM_OK;
}

int wire_offer_decode(const char *p, size_t len, struct wire_offer_event *out, char *err,
		      size_t errlen)
{
	json_error_t jerr;
	int64_t v = 0, sale = 0, x = 0;
	memset(out, 0, sizeof(*out));
	json_t *o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "offer payload: not a JSON object (%s)", o ? "other JSON" : jerr.text);
		json_decref(o);
		return PM_EINVAL;
	}
	int rc = get_int(o, "v", 1, INT32_MAX, &v, err, errlen);
	if (!rc && v != 1) {
		snprintf(err, errlen, "offer payload: version %lld is newer than this build reads (1)",
			 (long long)v);
		rc = PM_EVERSION;
	}
	rc = rc ? rc : get_int(o, "sale", 0, INT64_MAX, &sale, err, errlen);
	rc = rc ? rc : get_str(o, "campaign", out->campaign, sizeof(out->campaign), true, err, errlen);
	rc = rc ? rc : get_str(o, "rule", out->rule, sizeof(out->rule), true, err, errlen);
	rc = rc ? rc : get_str(o, "card", out->card, sizeof(out->card), true, err, errlen);
	if (!rc && out->card[0] && !card_ok(out->card)) {
		snprintf(err, errlen, "offer payload: 'card' must be digits");
		rc = PM_EINVAL;
	}
	if (!rc && json_object_get(o, "kind")) {
		out->has_offer = true;
		rc = get_str(o, "kind", out->kind, sizeof(out->kind), true, err, errlen);
		rc = rc ? rc : get_str(o, "gtin", out->gtin, sizeof(out->gtin), true, err, errlen);
		if (!rc && !digits_only(out->gtin, strlen(out->gtin))) {
			snprintf(err, errlen, "offer payload: 'gtin' must be digits (or empty)");
			rc = PM_EINVAL;
		}
		rc = rc ? rc : get_int(o, "benefit", 0, INT32_MAX, &x, err, errlen);
		out->benefit = (int)x;
		rc = rc ? rc : get_int(o, "value", INT64_MIN, INT64_MAX, &out->value, err, errlen);
	}
	rc = rc ? rc : get_str(o, "coupon", out->coupon, sizeof(out->coupon), false, err, errlen);
	if (!rc && json_object_get(o, "discount_cents"))
		rc = get_int(o, "discount_cents", INT64_MIN, INT64_MAX, &out->discount_cents, err, errlen);
	out->sale = (uint64_t)sale;
	json_decref(o);
	return rc;
}

int wire_event_payload_decode(int type, const char *p, size_t len, struct wire_event_payload *out,
			      char *err, size_t errlen)
{
	int rc;
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->consent = -1;
	switch (type) {
	case WIRE_EV_CONSENT: {
		struct wire_consent_event c;
		if ((rc = wire_consent_decode(p, len, &c, err, errlen)))
			return rc;
		memcpy(out->card, c.card, sizeof(out->card));
		out->consent = c.consent;
		return PM_OK;
	}
	case WIRE_EV_ERASURE: {
		struct wire_erasure_event e;
		if ((rc = wire_erasure_decode(p, len, &e, err, errlen)))
			return rc;
		memcpy(out->card, e.card, sizeof(out->card));
		out->sealed = e.sealed;
		return PM_OK;
	}
	case WIRE_EV_OFFER_ISSUED:
	case WIRE_EV_OFFER_HELD_BACK:
	case WIRE_EV_OFFER_REDEEMED:
		if ((rc = wire_offer_decode(p, len, &out->offer, err, errlen)))
			return rc;
		memcpy(out->card, out->offer.card, sizeof(out->card));
		return PM_OK;
	default:
		snprintf(err, errlen, "event type %d is not one this build knows", type);
		return PM_EINVAL;
	}
}
