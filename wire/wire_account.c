/*
 * wire_account.c - what HQ sends down to a store for the chain account
 * (docs/accounts.md): the account pages "posmark-accounts" v1 (gzip
 * NDJSON), a sale lookup "posmark-sale" v1 and a coupon's status
 * "posmark-coupon" v1 (plain JSON). Encoders write JSON by hand (HQ sends
 * 100,000 accounts in one pull); decoders run at the till on what the
 * network handed over, so they check every field with jansson, as the
 * batch header decoder does.
 */
#include "wire/wire_int.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ACCOUNTS_RAW_MAX (64u << 20) /* 5000 accounts are ~2 MB: generous */

static int addf(struct pm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int addf(struct pm_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return PM_EINVAL;
	return pm_buf_add(b, tmp, (size_t)n);
}

static bool digits(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n >= 1 && n <= max && strspn(s, "0123456789") == n;
}

/* gzip (level 4, as batches) of in into out. */
static int gzip_buf(const struct pm_buf *in, struct pm_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	memset(out, 0, sizeof(*out));
	if (deflateInit2(&z, 4, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return PM_ENOMEM;
	size_t cap = deflateBound(&z, (uLong)in->len) + 64;
	if (!(out->data = malloc(cap))) {
		deflateEnd(&z);
		return PM_ENOMEM;
	}
	out->cap = cap;
	z.next_in = (Bytef *)(in->data ? in->data : "");
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)cap;
	int zr = deflate(&z, Z_FINISH);
	out->len = cap - z.avail_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		pm_buf_free(out);
		return PM_EIO;
	}
	return PM_OK;
}

/* ---- posmark-accounts v1 --------------------------------------------------- */

static int account_line(struct pm_buf *b, const struct wire_account *a)
{
	const char *consent = wire_consent_name(a->consent);
	int rc;
	if (!digits(a->card, WIRE_CARD_MAX))
		return PM_EINVAL;
	if (a->erased)
		return addf(b, "{\"card\":\"%s\",\"erased\":true}\n", a->card);
	if (!consent || a->tier < 0 || a->tier > 15 || a->n_bought > WIRE_BOUGHT_MAX)
		return PM_EINVAL;
	rc = addf(b, "{\"card\":\"%s\",\"points\":%" PRId64 ",\"tier\":%d,\"consent\":\"%s\",\"consent_changed_us\":%"
		  PRId64 ",\"last_visit_us\":%" PRId64 ",\"window_spend_cents\":%" PRId64 ",\"bought\":[",
		  a->card, a->points, a->tier, consent, a->consent_changed_us, a->last_visit_us,
		  a->window_spend_cents);
	for (uint32_t i = 0; !rc && i < a->n_bought; i++) {
		if (!digits(a->bought[i], 14))
			return PM_EINVAL;
		rc = addf(b, "%s\"%s\"", i ? "," : "", a->bought[i]);
	}
	return rc ? rc : pm_buf_add(b, "]}\n", 3);
}

int wire_accounts_encode(const struct wire_accounts_header *h, const struct wire_account *a, size_t n,
			 struct pm_buf *out)
{
	struct pm_buf raw = { 0 };
	int rc;
	memset(out, 0, sizeof(*out));
	if (!h->terminal[0] || n != h->count || h->as_of_us < 0)
		return PM_EINVAL;
	rc = addf(&raw, "{\"format\":\"%s\",\"v\":%d,\"as_of_us\":%" PRId64 ",\"terminal\":", WIRE_ACCOUNTS_FORMAT,
		  WIRE_ACCOUNTS_VERSION, h->as_of_us);
	rc = rc ? rc : wire_add_json_str(&raw, h->terminal, strlen(h->terminal));
	rc = rc ? rc : addf(&raw, ",\"included_sale_seq\":%" PRIu64 ",\"next\":%" PRIu64 ",\"more\":%s,\"count\":%"
			    PRIu64 "}\n", h->included_sale_seq, h->next_cursor, h->more ? "true" : "false", h->count);
	for (size_t i = 0; !rc && i < n; i++)
		rc = account_line(&raw, &a[i]);
	rc = rc ? rc : gzip_buf(&raw, out);
	pm_buf_free(&raw);
	return rc;
}

#define FAIL(code, ...) do { snprintf(err, errlen, __VA_ARGS__); rc = (code); goto out; } while (0)

/* An integer member in [lo, hi]. */
static int int_of(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *v, char *err, size_t errlen)
{
	json_t *j = json_object_get(o, k);
	if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi) {
		snprintf(err, errlen, "field '%s' missing, not an integer or out of range", k);
		return PM_EINVAL;
	}
	*v = json_integer_value(j);
	return PM_OK;
}

/* A string member of 1..max bytes into dst; all digits when want_digits. */
static int str_of(json_t *o, const char *k, char *dst, size_t max, bool want_digits, char *err, size_t errlen)
{
	json_t *j = json_object_get(o, k);
	if (!json_is_string(j) || json_string_length(j) == 0 || json_string_length(j) > max ||
	    strlen(json_string_value(j)) != json_string_length(j) ||
	    (want_digits && !digits(json_string_value(j), max))) {
		snprintf(err, errlen, "field '%s' missing, not a string or not %s of up to %zu", k,
			 want_digits ? "digits" : "text", max);
		return PM_EINVAL;
	}
	memcpy(dst, json_string_value(j), json_string_length(j) + 1);
	return PM_OK;
}

static int consent_parse(const char *w)
{
	for (int c = WIRE_CONSENT_UNKNOWN; c <= WIRE_CONSENT_NO; c++)
		if (!strcmp(w, wire_consent_name(c)))
			return c;
	return -1;
}

static int decode_accounts_header(json_t *o, struct wire_accounts_header *h, char *err, size_t errlen)
{
	json_t *f = json_object_get(o, "format"), *more = json_object_get(o, "more");
	int64_t v;
	int rc;
	memset(h, 0, sizeof(*h));
	if (!json_is_string(f) || strcmp(json_string_value(f), WIRE_ACCOUNTS_FORMAT)) {
		snprintf(err, errlen, "header: format is not \"%s\"", WIRE_ACCOUNTS_FORMAT);
		return PM_EINVAL;
	}
	if ((rc = int_of(o, "v", 0, 1000000, &v, err, errlen)))
		return rc;
	if (v != WIRE_ACCOUNTS_VERSION) {
		snprintf(err, errlen, "header: accounts version %" PRId64 " is not supported (this build reads %d)", v,
			 WIRE_ACCOUNTS_VERSION);
		return PM_EVERSION;
	}
	h->version = (int)v;
	if ((rc = int_of(o, "as_of_us", 0, INT64_MAX, &h->as_of_us, err, errlen)) ||
	    (rc = str_of(o, "terminal", h->terminal, WIRE_ID_MAX, false, err, errlen)))
		return rc;
	if ((rc = int_of(o, "included_sale_seq", 0, INT64_MAX, &v, err, errlen)))
		return rc;
	h->included_sale_seq = (uint64_t)v;
	if ((rc = int_of(o, "next", 0, INT64_MAX, &v, err, errlen)))
		return rc;
	h->next_cursor = (uint64_t)v;
	if (!json_is_boolean(more)) {
		snprintf(err, errlen, "field 'more' missing or not true/false");
		return PM_EINVAL;
	}
	h->more = json_is_true(more);
	if ((rc = int_of(o, "count", 0, WIRE_ACCOUNTS_PAGE_MAX, &v, err, errlen)))
		return rc;
	h->count = (uint64_t)v;
	return PM_OK;
}

static int decode_account(json_t *o, struct wire_account *a, char *err, size_t errlen)
{
	json_t *erased = json_object_get(o, "erased"), *c = json_object_get(o, "consent"),
	       *bought = json_object_get(o, "bought");
	int64_t v;
	int rc;
	memset(a, 0, sizeof(*a));
	if ((rc = str_of(o, "card", a->card, WIRE_CARD_MAX, true, err, errlen)))
		return rc;
	if (erased) {
		if (!json_is_true(erased) || json_object_size(o) != 2) {
			snprintf(err, errlen, "an erased card is {\"card\":..,\"erased\":true} and nothing else");
			return PM_EINVAL;
		}
		a->erased = true;
		return PM_OK;
	}
	if ((rc = int_of(o, "points", -WIRE_POINTS_MAX, WIRE_POINTS_MAX, &a->points, err, errlen)) ||
	    (rc = int_of(o, "tier", 0, 15, &v, err, errlen)))
		return rc;
	a->tier = (int)v;
	if (!json_is_string(c) || (a->consent = consent_parse(json_string_value(c))) < 0) {
		snprintf(err, errlen, "field 'consent' missing or not yes, no or unknown");
		return PM_EINVAL;
	}
	if ((rc = int_of(o, "consent_changed_us", 0, INT64_MAX, &a->consent_changed_us, err, errlen)) ||
	    (rc = int_of(o, "last_visit_us", 0, INT64_MAX, &a->last_visit_us, err, errlen)) ||
	    (rc = int_of(o, "window_spend_cents", INT64_MIN, INT64_MAX, &a->window_spend_cents, err, errlen)))
		return rc;
	if (!json_is_array(bought) || json_array_size(bought) > WIRE_BOUGHT_MAX) {
		snprintf(err, errlen, "field 'bought' missing or not an array of up to %d GTINs", WIRE_BOUGHT_MAX);
		return PM_EINVAL;
	}
	for (size_t i = 0; i < json_array_size(bought); i++) {
		json_t *g = json_array_get(bought, i);
		if (!json_is_string(g) || json_string_length(g) != strlen(json_string_value(g)) ||
		    !digits(json_string_value(g), 14)) {
			snprintf(err, errlen, "bought[%zu] is not a GTIN (up to 14 digits)", i);
			return PM_EINVAL;
		}
		snprintf(a->bought[i], sizeof(a->bought[i]), "%s", json_string_value(g));
	}
	a->n_bought = (uint32_t)json_array_size(bought);
	return PM_OK;
}

int wire_accounts_decode(const void *body, size_t len, const struct wire_accounts_cb *cb, char *err,
			 size_t errlen)
{
	struct pm_buf raw = { 0 };
	struct wire_accounts_header h;
	uint64_t lines = 0;
	json_t *o = NULL;
	json_error_t je;
	int rc = wire_gunzip(body, len, ACCOUNTS_RAW_MAX, &raw);
	if (rc == PM_EFULL) {
		snprintf(err, errlen, "accounts page larger than %u bytes uncompressed", ACCOUNTS_RAW_MAX);
		return PM_EINVAL;
	}
	if (rc == PM_ECORRUPT) {
		snprintf(err, errlen, "body is not a complete gzip stream (truncated or corrupt)");
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "out of memory decompressing the accounts");
		return rc;
	}
	memset(&h, 0, sizeof(h));
	for (const char *p = raw.data, *end = raw.data + raw.len, *nl; p < end; p = nl + 1) {
		char why[200];
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			FAIL(PM_EINVAL, "line %" PRIu64 ": not terminated by a newline (truncated?)", lines + 1);
		lines++;
		if (lines > 1 && lines - 1 > h.count)
			FAIL(PM_EINVAL, "more accounts than the header's count %" PRIu64, h.count);
		o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(o))
			FAIL(PM_EINVAL, "line %" PRIu64 ": not a JSON object: %s", lines, o ? "" : je.text);
		if (lines == 1) {
			if ((rc = decode_accounts_header(o, &h, why, sizeof(why))))
				FAIL(rc, "%s", why);
			if (cb->header && (rc = cb->header(cb->ctx, &h)))
				FAIL(rc, "refused by the receiver");
		} else {
			struct wire_account a;
			if ((rc = decode_account(o, &a, why, sizeof(why))))
				FAIL(rc, "line %" PRIu64 ": %s", lines, why);
			if (cb->account && (rc = cb->account(cb->ctx, &a)))
				FAIL(rc, "line %" PRIu64 ": refused by the receiver", lines);
		}
		json_decref(o);
		o = NULL;
	}
	if (lines == 0)
		FAIL(PM_EINVAL, "empty accounts page: no header line");
	if (lines - 1 != h.count)
		FAIL(PM_EINVAL, "%" PRIu64 " accounts where the header says %" PRIu64, lines - 1, h.count);
	rc = PM_OK;
out:
	json_decref(o);
	pm_buf_free(&raw);
	return rc;
}

/* ---- posmark-sale v1 -------------------------------------------------------- */

int wire_sale_lookup_encode(const struct wire_sale_lookup *l, struct pm_buf *out)
{
	int rc;
	memset(out, 0, sizeof(*out));
	if (!l->sale.terminal[0])
		return PM_EINVAL;
	rc = addf(out, "{\"format\":\"%s\",\"v\":1,\"terminal\":", WIRE_SALE_LOOKUP_FORMAT);
	rc = rc ? rc : wire_add_json_str(out, l->sale.terminal, strlen(l->sale.terminal));
	rc = rc ? rc : pm_buf_add(out, ",\"sale\":", 8);
	rc = rc ? rc : wire_sale_json(out, &l->sale, 2);
	rc = rc ? rc : pm_buf_add(out, ",\"returned\":[", 13);
	for (uint32_t i = 0; !rc && i < l->n_returned; i++) {
		if (!digits(l->returned[i].gtin, 14))
			rc = PM_EINVAL;
		else
			rc = addf(out, "%s{\"gtin\":\"%s\",\"qty\":%d}", i ? "," : "", l->returned[i].gtin,
				  (int)l->returned[i].qty);
	}
	rc = rc ? rc : addf(out, "],\"refund_cents\":%" PRId64 ",\"points_clawed_back\":%" PRId64 "}\n",
			    l->refund_cents, l->points_clawed_back);
	if (rc)
		pm_buf_free(out);
	return rc;
}

void wire_sale_lookup_free(struct wire_sale_lookup *l)
{
	if (!l)
		return;
	free(l->sale.items);
	free(l->sale.redeemed);
	free(l->returned);
	memset(l, 0, sizeof(*l));
}

/* The sale object through the batch's own v2 line parser (one set of rules). */
static int lookup_sale(json_t *sale, struct wire_sale_lookup *out, char *err, size_t errlen)
{
	struct wire_sale_scratch sc = { 0 };
	char why[200];
	char *text = json_is_object(sale) ? json_dumps(sale, JSON_COMPACT) : NULL;
	int rc;
	if (!text) {
		snprintf(err, errlen, "field 'sale' missing or not an object");
		return json_is_object(sale) ? PM_ENOMEM : PM_EINVAL;
	}
	rc = wire_parse_sale_line(text, strlen(text), 2, &out->sale, &sc, why, sizeof(why));
	free(text);
	if (rc) {
		snprintf(err, errlen, "sale: %s", why);
		wire_sale_scratch_free(&sc);
		memset(&out->sale, 0, sizeof(out->sale));
		return rc;
	}
	/* the scratch arrays become the lookup's own (freed by wire_sale_lookup_free) */
	out->sale.items = out->sale.n_items ? sc.items : (free(sc.items), NULL);
	out->sale.redeemed = out->sale.n_redeemed ? sc.red : (free(sc.red), NULL);
	return PM_OK;
}

int wire_sale_lookup_decode(const void *body, size_t len, struct wire_sale_lookup *out, char *err,
			    size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *f, *ret;
	int64_t v;
	int rc;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		FAIL(PM_EINVAL, "not a JSON object: %s", o ? "" : je.text);
	f = json_object_get(o, "format");
	if (!json_is_string(f) || strcmp(json_string_value(f), WIRE_SALE_LOOKUP_FORMAT))
		FAIL(PM_EINVAL, "format is not \"%s\"", WIRE_SALE_LOOKUP_FORMAT);
	if ((rc = int_of(o, "v", 0, 1000000, &v, err, errlen)))
		goto out;
	if (v != 1)
		FAIL(PM_EVERSION, "sale lookup version %" PRId64 " is not supported (this build reads 1)", v);
	if ((rc = lookup_sale(json_object_get(o, "sale"), out, err, errlen)) ||
	    (rc = str_of(o, "terminal", out->sale.terminal, WIRE_ID_MAX, false, err, errlen)))
		goto out;
	ret = json_object_get(o, "returned");
	if (!json_is_array(ret) || json_array_size(ret) > 100000)
		FAIL(PM_EINVAL, "field 'returned' missing or not an array");
	if (json_array_size(ret) && !(out->returned = calloc(json_array_size(ret), sizeof(*out->returned))))
		FAIL(PM_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(ret); i++) {
		json_t *r = json_array_get(ret, i);
		struct wire_item *it = &out->returned[i];
		if (!json_is_object(r) || (rc = str_of(r, "gtin", it->gtin, 14, true, err, errlen)) ||
		    (rc = int_of(r, "qty", 1, 1000000, &v, err, errlen)))
			FAIL(PM_EINVAL, "returned[%zu] is not {\"gtin\":GTIN,\"qty\":1..1000000}", i);
		it->qty = (int32_t)v;
		out->n_returned++;
	}
	if ((rc = int_of(o, "refund_cents", 0, INT64_MAX, &out->refund_cents, err, errlen)) ||
	    (rc = int_of(o, "points_clawed_back", 0, WIRE_POINTS_MAX, &out->points_clawed_back, err, errlen)))
		goto out;
	rc = PM_OK;
out:
	json_decref(o);
	if (rc)
		wire_sale_lookup_free(out);
	return rc;
}

/* ---- posmark-coupon v1 ------------------------------------------------------ */

int wire_coupon_status_encode(const struct wire_coupon_status *c, struct pm_buf *out)
{
	int rc;
	memset(out, 0, sizeof(*out));
	if (!c->coupon[0] || (c->redeemed != (c->terminal[0] != '\0')) || (c->redeemed && c->seq < 1))
		return PM_EINVAL;
	rc = addf(out, "{\"format\":\"posmark-coupon\",\"v\":1,\"coupon\":");
	rc = rc ? rc : wire_add_json_str(out, c->coupon, strlen(c->coupon));
	rc = rc ? rc : addf(out, ",\"redeemed\":%s", c->redeemed ? "true" : "false");
	if (!rc && c->redeemed) {
		rc = addf(out, ",\"terminal\":");
		rc = rc ? rc : wire_add_json_str(out, c->terminal, strlen(c->terminal));
		rc = rc ? rc : addf(out, ",\"seq\":%" PRIu64, c->seq);
	}
	rc = rc ? rc : addf(out, "}\n");
	if (rc)
		pm_buf_free(out);
	return rc;
}

int wire_coupon_status_decode(const void *body, size_t len, struct wire_coupon_status *out, char *err,
			      size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *f, *red;
	int64_t v;
	int rc;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		FAIL(PM_EINVAL, "not a JSON object: %s", o ? "" : je.text);
	f = json_object_get(o, "format");
	if (!json_is_string(f) || strcmp(json_string_value(f), "posmark-coupon"))
		FAIL(PM_EINVAL, "format is not \"posmark-coupon\"");
	if ((rc = int_of(o, "v", 0, 1000000, &v, err, errlen)))
		goto out;
	if (v != 1)
		FAIL(PM_EVERSION, "coupon status version %" PRId64 " is not supported (this build reads 1)", v);
	if ((rc = str_of(o, "coupon", out->coupon, WIRE_COUPON_MAX, false, err, errlen)))
		goto out;
	red = json_object_get(o, "redeemed");
	if (!json_is_boolean(red))
		FAIL(PM_EINVAL, "field 'redeemed' missing or not true/false");
	out->redeemed = json_is_true(red);
	if (out->redeemed) {
		if ((rc = str_of(o, "terminal", out->terminal, WIRE_ID_MAX, false, err, errlen)) ||
		    (rc = int_of(o, "seq", 1, INT64_MAX, &v, err, errlen)))
			goto out;
		out->seq = (uint64_t)v;
	} else if (json_object_get(o, "terminal") || json_object_get(o, "seq")) {
		FAIL(PM_EINVAL, "a coupon not redeemed has no terminal or seq");
	}
	rc = PM_OK;
out:
	json_decref(o);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
