/*
 * wire_sale.c - a strict parser for one sale line of batch format v1 or v2
 * (v2 adds type, return_of, points_spent, point_value_cents, refund_cents
 * and the record's ledger entries; docs/hostsync.md, docs/accounts.md).
 * Sale lines are most of what HQ reads, and a general JSON library spent
 * most of the receiver's time building and freeing trees for them; this
 * reads the known shape in one pass into struct wire_sale, with the same
 * rules: every field present once with its type, integers only, strings
 * with JSON escapes, unknown keys skipped (validated), nothing after the
 * object. Header and event lines still go through jansson (they are few).
 */
#include "wire/wire_int.h"
#include "common/pm_err.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
	const char *p, *end;
	char *err;
	size_t errlen;
};

static int jfail(struct jp *j, const char *what)
{
	snprintf(j->err, j->errlen, "%s", what);
	return PM_EINVAL;
}

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int expect(struct jp *j, char c)
{
	ws(j);
	if (j->p >= j->end || *j->p != c) {
		char m[40];
		snprintf(m, sizeof(m), "expected '%c'", c);
		return jfail(j, m);
	}
	j->p++;
	return PM_OK;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A JSON string into dst (cap bytes incl. NUL; dst NULL = validate only). */
static int jstring(struct jp *j, char *dst, size_t cap, size_t *len_out)
{
	size_t n = 0;
	ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jfail(j, "expected a string");
	j->p++;
	for (;;) {
		unsigned char c;
		unsigned cp;
		char enc[4];
		size_t el = 1;
		if (j->p >= j->end)
			return jfail(j, "unterminated string");
		c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jfail(j, "control character in a string");
		enc[0] = (char)c;
		if (c == '\\') {
			if (j->p >= j->end)
				return jfail(j, "unterminated escape");
			c = (unsigned char)*j->p++;
			switch (c) {
			case '"': case '\\': case '/': enc[0] = (char)c; break;
			case 'b': enc[0] = '\b'; break;
			case 'f': enc[0] = '\f'; break;
			case 'n': enc[0] = '\n'; break;
			case 'r': enc[0] = '\r'; break;
			case 't': enc[0] = '\t'; break;
			case 'u':
				if (j->end - j->p < 4)
					return jfail(j, "short \\u escape");
				cp = 0;
				for (int i = 0; i < 4; i++) {
					int h = hexval(j->p[i]);
					if (h < 0)
						return jfail(j, "bad \\u escape");
					cp = cp * 16 + (unsigned)h;
				}
				j->p += 4;
				if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
					return jfail(j, "\\u0000 or a surrogate in a string"); /* ids never need them */
				if (cp < 0x80) {
					enc[0] = (char)cp;
				} else if (cp < 0x800) {
					enc[0] = (char)(0xC0 | (cp >> 6));
					enc[1] = (char)(0x80 | (cp & 0x3F));
					el = 2;
				} else {
					enc[0] = (char)(0xE0 | (cp >> 12));
					enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
					enc[2] = (char)(0x80 | (cp & 0x3F));
					el = 3;
				}
				break;
			default:
				return jfail(j, "unknown escape in a string");
			}
		}
		if (dst) {
			if (n + el >= cap)
				return jfail(j, "string too long");
			memcpy(dst + n, enc, el);
		}
		n += el;
	}
	if (dst)
		dst[n] = '\0';
	if (len_out)
		*len_out = n;
	return PM_OK;
}

/* A JSON integer (no fraction, no exponent) that fits int64. */
static int jint(struct jp *j, int64_t *v)
{
	const char *s;
	char *e;
	ws(j);
	s = j->p;
	if (s < j->end && *s == '-')
		s++;
	if (s >= j->end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < j->end && s[1] >= '0' && s[1] <= '9'))
		return jfail(j, "not an integer");
	while (s < j->end && *s >= '0' && *s <= '9')
		s++;
	if (s < j->end && (*s == '.' || *s == 'e' || *s == 'E'))
		return jfail(j, "not an integer");
	if (s - j->p > 20)
		return jfail(j, "integer out of range");
	char tmp[24];
	memcpy(tmp, j->p, (size_t)(s - j->p));
	tmp[s - j->p] = '\0';
	errno = 0;
	*v = strtoll(tmp, &e, 10);
	if (errno || *e)
		return jfail(j, "integer out of range");
	j->p = s;
	return PM_OK;
}

static int jlit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);
	ws(j);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return jfail(j, "bad literal");
	j->p += n;
	return PM_OK;
}

/* Skip (and validate) any value: for keys a later version may add. */
static int jskip(struct jp *j, int depth)
{
	if (depth > 32)
		return jfail(j, "nested too deeply");
	ws(j);
	if (j->p >= j->end)
		return jfail(j, "value expected");
	switch (*j->p) {
	case '"': return jstring(j, NULL, 0, NULL);
	case 't': return jlit(j, "true");
	case 'f': return jlit(j, "false");
	case 'n': return jlit(j, "null");
	case '[':
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return PM_OK;
		}
		for (;;) {
			if (jskip(j, depth + 1))
				return PM_EINVAL;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			return expect(j, ']');
		}
	case '{':
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return PM_OK;
		}
		for (;;) {
			if (jstring(j, NULL, 0, NULL) || expect(j, ':') || jskip(j, depth + 1))
				return PM_EINVAL;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			return expect(j, '}');
		}
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
			/* -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
			const char *q = j->p;
			if (*q == '-')
				q++;
			if (q >= j->end || *q < '0' || *q > '9')
				return jfail(j, "bad number");
			if (*q == '0')
				q++;
			else
				while (q < j->end && *q >= '0' && *q <= '9')
					q++;
			if (q < j->end && *q == '.') {
				q++;
				if (q >= j->end || *q < '0' || *q > '9')
					return jfail(j, "bad number");
				while (q < j->end && *q >= '0' && *q <= '9')
					q++;
			}
			if (q < j->end && (*q == 'e' || *q == 'E')) {
				q++;
				if (q < j->end && (*q == '+' || *q == '-'))
					q++;
				if (q >= j->end || *q < '0' || *q > '9')
					return jfail(j, "bad number");
				while (q < j->end && *q >= '0' && *q <= '9')
					q++;
			}
			j->p = q;
			return PM_OK;
		}
		return jfail(j, "unexpected character");
	}
}

/*
 * Iterate an object's keys: calls field(ctx, key) positioned at the value.
 * Duplicate known keys are refused by the callers' bit masks.
 */
typedef int (*field_fn)(struct jp *j, void *ctx, const char *key);

static int jobject(struct jp *j, field_fn fn, void *ctx)
{
	char key[32];
	if (expect(j, '{'))
		return PM_EINVAL;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return PM_OK;
	}
	for (;;) {
		size_t kl;
		int rc;
		ws(j);
		/* long keys are unknown keys: validate and skip them */
		const char *save = j->p;
		if (jstring(j, key, sizeof(key), &kl)) {
			j->p = save;
			if (jstring(j, NULL, 0, NULL))
				return PM_EINVAL;
			key[0] = '\0';
		}
		if (expect(j, ':'))
			return PM_EINVAL;
		rc = key[0] ? fn(j, ctx, key) : 1;
		if (rc < 0)
			return rc;
		if (rc > 0 && jskip(j, 1)) /* unknown key */
			return PM_EINVAL;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return expect(j, '}');
	}
}

/* ---- the sale's fields ---------------------------------------------------- */

struct sale_ctx {
	struct wire_sale *s;
	struct wire_sale_scratch *scratch;
	int version;                    /* the batch's: v2 keys are unknown (skipped) in v1 */
	uint32_t seen, seen2;
	bool has_return_of, has_refund;
	struct wire_item *it;           /* the item being read */
	struct wire_redemption *rd;
	uint32_t seen_sub;
	char *err;
	size_t errlen;
};

enum {
	F_SEQ = 1 << 0, F_TIME = 1 << 1, F_CARD = 1 << 2, F_CUR = 1 << 3, F_TENDER = 1 << 4,
	F_TOTAL = 1 << 5, F_DISC = 1 << 6, F_TEND = 1 << 7, F_POINTS = 1 << 8, F_ITEMS = 1 << 9,
	F_RED = 1 << 10, F_ALL = (1 << 11) - 1,
};
static const char *const field_names[] = { "seq", "time_us", "card", "currency", "tender", "total_cents",
					    "discount_cents", "tendered_cents", "points_earned", "items",
					    "redeemed" };

struct sale_ctx;
static int sale_field_v2(struct jp *j, struct sale_ctx *c, const char *key);

static int seen_once(struct jp *j, uint32_t *seen, uint32_t bit, const char *key)
{
	if (*seen & bit) {
		char m[64];
		snprintf(m, sizeof(m), "field '%s' given twice", key);
		return jfail(j, m);
	}
	*seen |= bit;
	return PM_OK;
}

static int item_field(struct jp *j, void *vctx, const char *key)
{
	struct sale_ctx *c = vctx;
	int64_t v;
	int rc;
	if (!strcmp(key, "gtin")) {
		if ((rc = seen_once(j, &c->seen_sub, 1, key)))
			return rc;
		return jstring(j, c->it->gtin, sizeof(c->it->gtin), NULL) ? jfail(j, "items[].gtin: not a string of up to 14 digits")
			: PM_OK;
	}
	if (!strcmp(key, "qty")) {
		if ((rc = seen_once(j, &c->seen_sub, 2, key)) || (rc = jint(j, &v)))
			return rc;
		if (v < -1000000 || v > 1000000)
			return jfail(j, "items[].qty out of range");
		c->it->qty = (int32_t)v;
		return PM_OK;
	}
	if (!strcmp(key, "price_cents"))
		return seen_once(j, &c->seen_sub, 4, key) ? PM_EINVAL : jint(j, &c->it->unit_price_cents);
	if (!strcmp(key, "line_cents"))
		return seen_once(j, &c->seen_sub, 8, key) ? PM_EINVAL : jint(j, &c->it->line_cents);
	return 1;
}

static int red_field(struct jp *j, void *vctx, const char *key)
{
	struct sale_ctx *c = vctx;
	if (!strcmp(key, "coupon"))
		return seen_once(j, &c->seen_sub, 1, key) ? PM_EINVAL
			: jstring(j, c->rd->coupon, sizeof(c->rd->coupon), NULL);
	if (!strcmp(key, "discount_cents"))
		return seen_once(j, &c->seen_sub, 2, key) ? PM_EINVAL : jint(j, &c->rd->discount_cents);
	return 1;
}

/* Room for n items and m redemptions in the reusable scratch arrays. */
static int reserve(struct sale_ctx *c, uint32_t items, uint32_t reds)
{
	struct wire_sale_scratch *sc = c->scratch;
	if (items > sc->cap_items) {
		uint32_t n = items < 16 ? 16 : items * 2;
		struct wire_item *d = realloc(sc->items, n * sizeof(*d));
		if (!d)
			return PM_ENOMEM;
		sc->items = d;
		sc->cap_items = n;
	}
	if (reds > sc->cap_red) {
		uint32_t n = reds < 4 ? 4 : reds * 2;
		struct wire_redemption *d = realloc(sc->red, n * sizeof(*d));
		if (!d)
			return PM_ENOMEM;
		sc->red = d;
		sc->cap_red = n;
	}
	c->s->items = sc->items;
	c->s->redeemed = sc->red;
	return PM_OK;
}

static int array_of(struct jp *j, struct sale_ctx *c, bool items)
{
	int rc;
	if (expect(j, '['))
		return PM_EINVAL;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return PM_OK;
	}
	for (;;) {
		uint32_t *n = items ? &c->s->n_items : &c->s->n_redeemed;
		if (*n >= (items ? 100000u : 1000u))
			return jfail(j, items ? "too many items" : "too many redemptions");
		if ((rc = items ? reserve(c, *n + 1, c->s->n_redeemed) : reserve(c, c->s->n_items, *n + 1)))
			return rc;
		c->seen_sub = 0;
		if (items) {
			c->it = &c->s->items[*n];
			memset(c->it, 0, sizeof(*c->it));
		} else {
			c->rd = &c->s->redeemed[*n];
			memset(c->rd, 0, sizeof(*c->rd));
		}
		if ((rc = jobject(j, items ? item_field : red_field, c)))
			return rc;
		if (c->seen_sub != (items ? 15u : 3u))
			return jfail(j, items ? "an item lacks gtin, qty, price_cents or line_cents"
				     : "a redemption lacks coupon or discount_cents");
		if (items && (strlen(c->it->gtin) == 0 || strspn(c->it->gtin, "0123456789") != strlen(c->it->gtin)))
			return jfail(j, "items[].gtin is not all digits");
		if (!items && !c->rd->coupon[0])
			return jfail(j, "redeemed[].coupon is empty");
		(*n)++;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return expect(j, ']');
	}
}

static int sale_field(struct jp *j, void *vctx, const char *key)
{
	struct sale_ctx *c = vctx;
	struct wire_sale *s = c->s;
	int64_t v;
	for (unsigned i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
		if (strcmp(key, field_names[i]))
			continue;
		if (seen_once(j, &c->seen, 1u << i, key))
			return PM_EINVAL;
		switch (1u << i) {
		case F_SEQ:
			if (jint(j, &v) || v < 1)
				return jfail(j, "field 'seq' is not a positive integer");
			s->seq = (uint64_t)v;
			return PM_OK;
		case F_TIME:
			if (jint(j, &s->time_us) || s->time_us < 0)
				return jfail(j, "field 'time_us' is not a non-negative integer");
			return PM_OK;
		case F_CARD:
			ws(j);
			if (j->p < j->end && *j->p == 'n')
				return jlit(j, "null") ? PM_EINVAL : (s->card[0] = '\0', PM_OK);
			if (jstring(j, s->card, sizeof(s->card), NULL) || !s->card[0] ||
			    strspn(s->card, "0123456789") != strlen(s->card))
				return jfail(j, "field 'card' is not null or up to 19 digits");
			return PM_OK;
		case F_CUR:
			if (jstring(j, s->currency, sizeof(s->currency), NULL) || strlen(s->currency) != 3 ||
			    strspn(s->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
				return jfail(j, "field 'currency' is not an ISO 4217 code");
			return PM_OK;
		case F_TENDER:
			if (jstring(j, s->tender, sizeof(s->tender), NULL) ||
			    (strcmp(s->tender, "cash") && strcmp(s->tender, "card") && strcmp(s->tender, "other")))
				return jfail(j, "field 'tender' must be cash, card or other");
			return PM_OK;
		case F_TOTAL: return jint(j, &s->total_cents);
		case F_DISC:
			if (jint(j, &s->discount_cents) || s->discount_cents < 0)
				return jfail(j, "field 'discount_cents' is not a non-negative integer");
			return PM_OK;
		case F_TEND: return jint(j, &s->tendered_cents);
		case F_POINTS: return jint(j, &s->points_earned);
		case F_ITEMS: return array_of(j, c, true);
		case F_RED: return array_of(j, c, false);
		}
	}
	return c->version >= 2 ? sale_field_v2(j, c, key) : 1;
}

/* ---- batch v2's fields ------------------------------------------------------ */

enum {
	G_TYPE = 1 << 0, G_RETURN_OF = 1 << 1, G_SPENT = 1 << 2, G_PVALUE = 1 << 3, G_REFUND = 1 << 4,
	G_LEDGER = 1 << 5,
	G_REQUIRED = G_TYPE | G_SPENT | G_PVALUE | G_LEDGER, /* return_of, refund_cents: returns only */
};
static const char *const field_names2[] = { "type", "return_of", "points_spent", "point_value_cents",
					     "refund_cents", "ledger" };

int wire_parse_sale_ref(const char *ref, char *terminal, size_t cap, uint64_t *seq)
{
	const char *colon = strrchr(ref, ':');
	size_t tl = colon ? (size_t)(colon - ref) : 0;
	char *end;
	if (!colon || tl == 0 || tl >= cap || tl > WIRE_ID_MAX || !colon[1] || colon[1] == '0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 18)
		return PM_EINVAL;
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)ref[i] < 0x21 || ref[i] == 0x7f)
			return PM_EINVAL; /* ids are printable without spaces */
	memcpy(terminal, ref, tl);
	terminal[tl] = '\0';
	*seq = strtoull(colon + 1, &end, 10);
	return PM_OK;
}

static int ledger_entry_field(struct jp *j, void *vctx, const char *key)
{
	struct sale_ctx *c = vctx;
	struct wire_ledger_entry *le = &c->s->ledger[c->s->n_ledger];
	char name[16];
	if (!strcmp(key, "kind")) {
		if (seen_once(j, &c->seen_sub, 1, key))
			return PM_EINVAL;
		if (jstring(j, name, sizeof(name), NULL) || (le->kind = wire_ledger_kind_parse(name)) < 0)
			return jfail(j, "ledger[].kind is not a known ledger kind");
		return PM_OK;
	}
	if (!strcmp(key, "points"))
		return seen_once(j, &c->seen_sub, 2, key) ? PM_EINVAL : jint(j, &le->points);
	return 1;
}

static int ledger_array(struct jp *j, struct sale_ctx *c)
{
	uint32_t kinds = 0;
	int rc;
	if (expect(j, '['))
		return PM_EINVAL;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return PM_OK;
	}
	for (;;) {
		struct wire_ledger_entry *le;
		if (c->s->n_ledger >= WIRE_LEDGER_PER_SALE)
			return jfail(j, "ledger: more entries than kinds a record may carry");
		le = &c->s->ledger[c->s->n_ledger];
		memset(le, 0, sizeof(*le));
		c->seen_sub = 0;
		if ((rc = jobject(j, ledger_entry_field, c)))
			return rc;
		if (c->seen_sub != 3u)
			return jfail(j, "a ledger entry lacks kind or points");
		if (kinds & (1u << le->kind))
			return jfail(j, "ledger: a kind given twice (one entry per kind per record)");
		kinds |= 1u << le->kind;
		c->s->n_ledger++;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return expect(j, ']');
	}
}

static int sale_field_v2(struct jp *j, struct sale_ctx *c, const char *key)
{
	struct wire_sale *s = c->s;
	char word[WIRE_ID_MAX + 24];
	for (unsigned i = 0; i < sizeof(field_names2) / sizeof(field_names2[0]); i++) {
		if (strcmp(key, field_names2[i]))
			continue;
		if (seen_once(j, &c->seen2, 1u << i, key))
			return PM_EINVAL;
		switch (1u << i) {
		case G_TYPE:
			if (jstring(j, word, sizeof(word), NULL) || (strcmp(word, "sale") && strcmp(word, "return")))
				return jfail(j, "field 'type' must be sale or return");
			s->type = word[0] == 'r' ? WIRE_SALE_RETURN : WIRE_SALE_SALE;
			return PM_OK;
		case G_RETURN_OF:
			if (jstring(j, word, sizeof(word), NULL) ||
			    wire_parse_sale_ref(word, s->return_of_terminal, sizeof(s->return_of_terminal),
						&s->return_of_seq))
				return jfail(j, "field 'return_of' is not TERMINAL:SEQ");
			return PM_OK;
		case G_SPENT:
			if (jint(j, &s->points_spent) || s->points_spent < 0 || s->points_spent > WIRE_POINTS_MAX)
				return jfail(j, "field 'points_spent' is not a non-negative integer in range");
			return PM_OK;
		case G_PVALUE:
			if (jint(j, &s->point_value_cents) || s->point_value_cents < 0 ||
			    s->point_value_cents > 1000000)
				return jfail(j, "field 'point_value_cents' is not 0..1000000");
			return PM_OK;
		case G_REFUND:
			if (jint(j, &s->refund_cents) || s->refund_cents < 0)
				return jfail(j, "field 'refund_cents' is not a non-negative integer");
			return PM_OK;
		case G_LEDGER:
			return ledger_array(j, c);
		}
	}
	return 1;
}

/* The rules docs/accounts.md fixes for a v2 record, once every field is read. */
static int check_v2(struct sale_ctx *c, char *err, size_t errlen)
{
	const struct wire_sale *s = c->s;
	bool ret = s->type == WIRE_SALE_RETURN;
	int64_t spend = 0;
	for (unsigned i = 0; i < sizeof(field_names2) / sizeof(field_names2[0]); i++)
		if ((G_REQUIRED & (1u << i)) && !(c->seen2 & (1u << i))) {
			snprintf(err, errlen, "field '%s' missing", field_names2[i]);
			return PM_EINVAL;
		}
	if (ret != !!(c->seen2 & G_RETURN_OF) || ret != !!(c->seen2 & G_REFUND)) {
		snprintf(err, errlen, "%s", ret ? "a return lacks return_of or refund_cents"
			 : "a sale carries return_of or refund_cents (returns only)");
		return PM_EINVAL;
	}
	if (s->n_ledger && !s->card[0]) {
		snprintf(err, errlen, "ledger entries on a record without a card");
		return PM_EINVAL;
	}
	for (uint32_t i = 0; i < s->n_ledger; i++) {
		const struct wire_ledger_entry *le = &s->ledger[i];
		const char *name = wire_ledger_kind_name(le->kind);
		bool plus = le->kind == WIRE_LEDGER_EARN || le->kind == WIRE_LEDGER_BONUS;
		if (le->kind == WIRE_LEDGER_ADJUST || le->kind == WIRE_LEDGER_IMPORT) {
			snprintf(err, errlen, "ledger: '%s' entries are written at HQ only, not by a till", name);
			return PM_EINVAL;
		}
		if ((le->kind == WIRE_LEDGER_CLAWBACK) != ret) {
			snprintf(err, errlen, "ledger: '%s' entry on a %s (clawback belongs to returns only, "
				 "every other kind to sales)", name, ret ? "return" : "sale");
			return PM_EINVAL;
		}
		if (le->points == 0 || (plus ? le->points < 0 : le->points > 0) ||
		    le->points > WIRE_POINTS_MAX || le->points < -WIRE_POINTS_MAX) {
			snprintf(err, errlen, "ledger: '%s' entry of %" PRId64 " points (%s, not zero, at most %lld)",
				 name, le->points, plus ? "positive" : "negative", (long long)WIRE_POINTS_MAX);
			return PM_EINVAL;
		}
		if (le->kind == WIRE_LEDGER_SPEND)
			spend = -le->points;
	}
	if (spend != s->points_spent) {
		snprintf(err, errlen, "points_spent %" PRId64 " does not match the spend entry (%" PRId64 ")",
			 s->points_spent, spend);
		return PM_EINVAL;
	}
	if (s->points_spent && s->point_value_cents < 1) {
		snprintf(err, errlen, "points spent with point_value_cents 0");
		return PM_EINVAL;
	}
	if (ret && (s->points_spent || s->n_redeemed)) {
		snprintf(err, errlen, "a return spends no points and redeems no coupons");
		return PM_EINVAL;
	}
	return PM_OK;
}

void wire_sale_scratch_free(struct wire_sale_scratch *sc)
{
	free(sc->items);
	free(sc->red);
	memset(sc, 0, sizeof(*sc));
}

int wire_parse_sale_line(const char *line, size_t len, int version, struct wire_sale *s,
			 struct wire_sale_scratch *scratch, char *err, size_t errlen)
{
	struct jp j = { line, line + len, err, errlen };
	struct sale_ctx c = { 0 };
	int rc;
	memset(s, 0, sizeof(*s));
	c.s = s;
	c.version = version;
	c.scratch = scratch;
	c.err = err;
	c.errlen = errlen;
	s->items = scratch->items;
	s->redeemed = scratch->red;
	if ((rc = jobject(&j, sale_field, &c)))
		return rc;
	ws(&j);
	if (j.p != j.end)
		return jfail(&j, "text after the sale object");
	if (c.seen != F_ALL) {
		for (unsigned i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
			if (!(c.seen & (1u << i))) {
				snprintf(err, errlen, "field '%s' missing", field_names[i]);
				return PM_EINVAL;
			}
	}
	return version >= 2 ? check_v2(&c, err, errlen) : PM_OK;
}
