/*
 * hq_tiers.c - the tier table (hq.conf [loyalty], else the till's defaults; docs/hq.md) and
 * a spend's tier. libc only: bin/posmark-hq's front program (hq_front_main.c) reads hq.conf
 * with it and links no libpq (docs/hq.md, "The front program").
 */
#include "hq/hq_int.h"
#include "common/pm_err.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void hq_tiers_default(struct hq_tiers *t)
{
	/* the till's (loyalty/db.c loy_config_default): one table for the whole chain */
	memset(t, 0, sizeof(*t));
	t->n = 3;
	t->threshold_cents[1] = 50000;
	t->threshold_cents[2] = 200000;
	strcpy(t->name[0], "member");
	strcpy(t->name[1], "silver");
	strcpy(t->name[2], "gold");
	t->window_days = 365;
}

/* "500.00" or "500" -> 50000 cents */
static int money(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0, dec = 0;
	bool dot = false;
	if (n == 0)
		return PM_EINVAL;
	for (; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || (dot && ++dec > 2) || v > INT64_MAX / 100)
			return PM_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	while (dec++ < 2)
		v *= 10;
	*out = v;
	return PM_OK;
}

int hq_tiers_parse(const char *value, struct hq_tiers *t, char *err, size_t errlen)
{
	struct hq_tiers n = *t;
	const char *p = value;
	n.n = 0;
	while (*p) {
		const char *end = p + strcspn(p, ",");
		while (*p == ' ')
			p++;
		const char *c1 = memchr(p, ':', (size_t)(end - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		const char *tail = c2 ? c2 + 1 : NULL;
		if (n.n == HQ_TIERS_MAX || !c1 || !c2 || c1 == p || (size_t)(c1 - p) >= sizeof(n.name[0]) ||
		    money(c1 + 1, (size_t)(c2 - c1 - 1), &n.threshold_cents[n.n]) || !tail ||
		    strspn(tail, "0123456789 ") != (size_t)(end - tail)) {
			snprintf(err, errlen, "tiers: '%.*s' is not name:threshold:multiplier%% (at most %d tiers)",
				 (int)(end - p), p, HQ_TIERS_MAX);
			return PM_EINVAL;
		}
		snprintf(n.name[n.n], sizeof(n.name[0]), "%.*s", (int)(c1 - p), p);
		if ((n.n == 0 && n.threshold_cents[0] != 0) ||
		    (n.n > 0 && n.threshold_cents[n.n] <= n.threshold_cents[n.n - 1])) {
			snprintf(err, errlen, "tiers: the first threshold must be 0 and each next one higher");
			return PM_EINVAL;
		}
		n.n++;
		p = *end ? end + 1 : end;
	}
	if (n.n == 0) {
		snprintf(err, errlen, "tiers: no tier given");
		return PM_EINVAL;
	}
	*t = n;
	return PM_OK;
}

int hqi_tier_of(const struct hq_tiers *t, int64_t spend_cents, int floor)
{
	int tier = 0;
	for (int i = 1; i < t->n; i++)
		if (spend_cents >= t->threshold_cents[i])
			tier = i;
	if (floor >= t->n)
		floor = t->n - 1;
	return tier > floor ? tier : floor;
}
