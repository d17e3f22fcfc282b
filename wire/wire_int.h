/* wire_int.h - wire internals: wire_sale.c (the sale line parser) for wire_batch.c. */
#ifndef WIRE_INT_H
#define WIRE_INT_H

#include "wire/wire.h"

/* Reusable arrays for a decoded sale's items and redemptions. */
struct wire_sale_scratch {
	struct wire_item *items;
	uint32_t cap_items;
	struct wire_redemption *red;
	uint32_t cap_red;
};
void wire_sale_scratch_free(struct wire_sale_scratch *sc);

/*
 * Parse one sale line (without its newline) of batch format v1 into *s
 * (items/redeemed point into scratch). Checks every field's presence, type
 * and range; err names the field. Returns 0, PM_EINVAL or PM_ENOMEM.
 */
int wire_parse_sale_line(const char *line, size_t len, struct wire_sale *s, struct wire_sale_scratch *scratch,
		       char *err, size_t errlen);

#endif
