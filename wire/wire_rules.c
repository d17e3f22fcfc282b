/*
 * wire_rules.c - what a rule set's signature covers (wire.h, "signed rule
 * sets"): the publication serial and the body, so neither can be swapped
 * without the signing key. HQ signs it, the terminal verifies it.
 */
#include "wire/wire.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdio.h>

int wire_rules_signed_message(uint64_t serial, const void *body, size_t len, struct pm_buf *out,
			      const void **msg, size_t *msg_len)
{
	char prefix[64];
	int n;
	*msg = body;
	*msg_len = len;
	if (serial == 0)
		return PM_OK;
	n = snprintf(prefix, sizeof(prefix), "posmark-rules serial %" PRIu64 "\n", serial);
	out->len = 0;
	if (pm_buf_add(out, prefix, (size_t)n) || (len && pm_buf_add(out, body, len)))
		return PM_ENOMEM;
	*msg = out->data;
	*msg_len = out->len;
	return PM_OK;
}
