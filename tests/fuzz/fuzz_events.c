/*
 * fuzz_events.c - libFuzzer target: wire's event payload decoders (HQ runs
 * them on every uploaded event). The first byte picks the type (its value
 * mod 6, so 0 = an unknown type), the rest is the payload in an exact-size
 * buffer without a NUL. A payload that decodes must encode again and decode
 * to the same fields (consent and erasure to the same bytes too); a sealed
 * erasure (v2) only has to decode.
 * Seeds in tests/fuzz/corpus/events/.
 */
#include "wire/wire.h"
#include "common/pm_buf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int encode(const struct wire_event_payload *d, struct pm_buf *b)
{
	if (d->type == WIRE_EV_CONSENT) {
		struct wire_consent_event c;
		memcpy(c.card, d->card, sizeof(c.card));
		c.consent = d->consent;
		return wire_consent_encode(&c, b);
	}
	if (d->type == WIRE_EV_ERASURE) {
		struct wire_erasure_event e;
		memcpy(e.card, d->card, sizeof(e.card));
		return wire_erasure_encode(&e, b);
	}
	return wire_offer_encode(d->type, &d->offer, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_event_payload d, again;
	struct pm_buf b = { 0 };
	char err[300];
	if (size < 1)
		return 0;
	int type = data[0] % (WIRE_EV_TYPE_MAX + 1);
	size_t len = size - 1;
	char *p = malloc(len ? len : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, len);
	/* A sealed erasure (v2) is opaque without HQ's key: nothing to encode again. */
	if (wire_event_payload_decode(type, p, len, &d, err, sizeof(err)) == 0 && !d.sealed) {
		if (encode(&d, &b) != 0)
			abort();   /* what the decoder accepts, the encoder must write */
		if (wire_event_payload_decode(type, b.data, b.len, &again, err, sizeof(err)) != 0)
			abort();
		/* discount_cents is only written for offer_redeemed */
		if (type != WIRE_EV_OFFER_REDEEMED)
			d.offer.discount_cents = 0;
		if (memcmp(&d, &again, sizeof(d)))
			abort();
		if (type <= WIRE_EV_ERASURE && (b.len != len || memcmp(b.data, p, len)))
			abort();
	}
	pm_buf_free(&b);
	free(p);
	return 0;
}
