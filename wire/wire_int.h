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
 * Parse one sale line (without its newline) of batch format version (1 or
 * 2) into *s (items/redeemed point into scratch). Checks every field's
 * presence, type and range, and for v2 the ledger rules of docs/accounts.md;
 * err names the field. Returns 0, PM_EINVAL or PM_ENOMEM.
 */
int wire_parse_sale_line(const char *line, size_t len, int version, struct wire_sale *s,
			 struct wire_sale_scratch *scratch, char *err, size_t errlen);
/* The JSON value of a sale: the v1 fields, then (version >= 2) the v2 ones,
 * without a newline. (wire_batch.c) */
int wire_sale_json(struct pm_buf *b, const struct wire_sale *s, int version);
int wire_add_json_str(struct pm_buf *b, const char *s, size_t n);

#endif
