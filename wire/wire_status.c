/*
 * wire_status.c - the store status header, version 1 (wire.h, docs/hostsync.md
 * "Store status"): the terminal encodes it on every request of a sync, HQ
 * decodes it after authenticating the request. The decoder is strict about
 * what it knows and skips what it does not, so a newer terminal can add keys.
 */
#include "wire/wire.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX 32
#define VALUE_MAX 64

static bool version_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr(".+~_-", c);
}

static bool version_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > WIRE_STATUS_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!version_char(v[i]))
			return false;
	return true;
}

static bool rules_id_ok(const char *v)
{
	if (strlen(v) != WIRE_STATUS_RULES_ID_LEN)
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int wire_status_encode(const struct wire_status *s, char *out, size_t cap)
{
	char ledger[48] = "", rules[96] = "";
	if (s->unsent_sales > WIRE_STATUS_COUNT_MAX || s->unsent_events > WIRE_STATUS_COUNT_MAX ||
	    (s->has_ledger && s->unsent_ledger > WIRE_STATUS_COUNT_MAX) || s->time_us < WIRE_STATUS_TIME_MIN ||
	    s->time_us > WIRE_STATUS_TIME_MAX || !version_ok(s->version) || s->rules_serial > (uint64_t)INT64_MAX ||
	    (s->has_rules && !rules_id_ok(s->rules_id)))
		return PM_EINVAL;
	if (s->has_ledger)
		snprintf(ledger, sizeof(ledger), " unsent_ledger=%" PRIu64 ";", s->unsent_ledger);
	if (s->has_rules)
		snprintf(rules, sizeof(rules), " rules_id=%s; rules_serial=%" PRIu64 ";", s->rules_id, s->rules_serial);
	int n = snprintf(out, cap, "v=%d; unsent_sales=%" PRIu64 "; unsent_events=%" PRIu64 ";%s%s time_us=%" PRId64
			 "; version=%s", WIRE_STATUS_VERSION, s->unsent_sales, s->unsent_events, ledger, rules,
			 s->time_us, s->version);
	return n < 0 || (size_t)n >= cap ? PM_EINVAL : PM_OK;
}

/* A decimal without sign or leading zero, at most max. */
static bool parse_uint(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t n = strlen(v);
	if (n == 0 || n > 19 || (n > 1 && v[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0'); /* 19 digits fit in 64 bits */
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}

enum { K_V, K_SALES, K_EVENTS, K_LEDGER, K_RULES_ID, K_RULES_SERIAL, K_TIME, K_VERSION, K_N };
static const char *const keys[K_N] = { "v", "unsent_sales", "unsent_events", "unsent_ledger",
				       "rules_id", "rules_serial", "time_us", "version" };

/* One known item's value into s; false when it is out of range. */
static bool take(int k, const char *v, struct wire_status *s, uint64_t *ver)
{
	uint64_t x = 0;
	switch (k) {
	case K_V: return parse_uint(v, 1000000, ver);
	case K_SALES: return parse_uint(v, WIRE_STATUS_COUNT_MAX, &s->unsent_sales);
	case K_EVENTS: return parse_uint(v, WIRE_STATUS_COUNT_MAX, &s->unsent_events);
	case K_LEDGER: return (s->has_ledger = parse_uint(v, WIRE_STATUS_COUNT_MAX, &s->unsent_ledger));
	case K_RULES_ID:
		if (!rules_id_ok(v))
			return false;
		memcpy(s->rules_id, v, WIRE_STATUS_RULES_ID_LEN + 1);
		return true;
	case K_RULES_SERIAL: return parse_uint(v, (uint64_t)INT64_MAX, &s->rules_serial);
	case K_TIME:
		if (!parse_uint(v, (uint64_t)WIRE_STATUS_TIME_MAX, &x) || x < (uint64_t)WIRE_STATUS_TIME_MIN)
			return false;
		s->time_us = (int64_t)x;
		return true;
	default:
		if (!version_ok(v)) /* also: at most WIRE_STATUS_VERSION_MAX bytes */
			return false;
		memcpy(s->version, v, strlen(v) + 1);
		return true;
	}
}

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next item of in[*i..len) into key and value; false with err on bad syntax. */
static bool next_item(const char *in, size_t len, size_t *i, char *key, char *val, char *err, size_t errlen)
{
	size_t p = *i, k = 0, v = 0;
	while (p < len && space(in[p]))
		p++;
	while (p < len && in[p] != '=' && in[p] != ';' && !space(in[p])) {
		char c = in[p++];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') || k == KEY_MAX) {
			snprintf(err, errlen, "status: a key is not [a-z0-9_]{1,%d}", KEY_MAX);
			return false;
		}
		key[k++] = c;
	}
	key[k] = '\0';
	if (k == 0 || p >= len || in[p] != '=') {
		snprintf(err, errlen, "status: item %.32s%s is not KEY=VALUE", key, k ? "" : "(empty)");
		return false;
	}
	p++;
	while (p < len && in[p] != ';' && !space(in[p])) {
		unsigned char c = (unsigned char)in[p++];
		if (c <= 0x20 || c >= 0x7f || v == VALUE_MAX) {
			snprintf(err, errlen, "status: the value of %s is not 1..%d visible ASCII bytes", key, VALUE_MAX);
			return false;
		}
		val[v++] = (char)c;
	}
	val[v] = '\0';
	while (p < len && space(in[p]))
		p++;
	if (v == 0 || (p < len && in[p] != ';')) {
		snprintf(err, errlen, "status: the value of %s is empty or followed by something else than ';'", key);
		return false;
	}
	*i = p < len ? p + 1 : p;
	return true;
}

int wire_status_decode(const char *in, size_t len, struct wire_status *s, char *err, size_t errlen)
{
	char key[KEY_MAX + 1], val[VALUE_MAX + 1];
	bool seen[K_N] = { false };
	uint64_t ver = 0;
	int items = 0;
	size_t i = 0;
	memset(s, 0, sizeof(*s));
	if (len > WIRE_STATUS_MAX) {
		snprintf(err, errlen, "status: %zu bytes, more than %d", len, WIRE_STATUS_MAX);
		return PM_EINVAL;
	}
	for (;;) {
		while (i < len && space(in[i]))
			i++;
		if (i == len)
			break; /* the end, after an optional last ';' */
		if (++items > WIRE_STATUS_ITEMS_MAX) {
			snprintf(err, errlen, "status: more than %d items", WIRE_STATUS_ITEMS_MAX);
			return PM_EINVAL;
		}
		if (!next_item(in, len, &i, key, val, err, errlen))
			return PM_EINVAL;
		int k = 0;
		while (k < K_N && strcmp(keys[k], key))
			k++;
		if (k == K_N)
			continue; /* a newer terminal's key */
		if (seen[k]) {
			snprintf(err, errlen, "status: %s given twice", key);
			return PM_EINVAL;
		}
		seen[k] = true;
		if (!take(k, val, s, &ver)) {
			snprintf(err, errlen, "status: %s=%s is out of range or malformed", key, val);
			return PM_EINVAL;
		}
	}
	if (!seen[K_V]) {
		snprintf(err, errlen, "status: no v= (format version)");
		return PM_EINVAL;
	}
	if (ver != WIRE_STATUS_VERSION) {
		snprintf(err, errlen, "status: version %" PRIu64 " is not supported (this HQ reads %d)", ver,
			 WIRE_STATUS_VERSION);
		return PM_EVERSION;
	}
	for (int k = 0; k < K_N; k++)
		if (!seen[k] && k != K_LEDGER && k != K_RULES_ID && k != K_RULES_SERIAL) {
			snprintf(err, errlen, "status: %s missing", keys[k]);
			return PM_EINVAL;
		}
	if (seen[K_RULES_ID] != seen[K_RULES_SERIAL]) {
		snprintf(err, errlen, "status: rules_id and rules_serial come together");
		return PM_EINVAL;
	}
	s->has_rules = seen[K_RULES_ID];
	return PM_OK;
}
