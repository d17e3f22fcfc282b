/*
 * config.c - posmark.conf: INI sections with "key = value" lines, '#' or ';'
 * comments. docs/config.md lists every option with its default.
 */
#include "terminal/cli.h"
#include "offers/offers.h"
#include "common/pm_conf.h"
#include "common/pm_err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void term_config_default(struct term_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->data_dir, "/var/lib/posmark");
	strcpy(cfg->store_id, "store1");
	strcpy(cfg->store_name, "posmark store");
	strcpy(cfg->footer, "Thank you for shopping with us!");
	cfg->receipt_columns = 42;
	strcpy(cfg->socket_path, "/run/posmark/posmark.sock");
	cfg->idle_timeout_s = 300;
	cfg->offers_enabled = true;
	loy_config_default(&cfg->loy);
	scan_config_default(&cfg->scan);
	cfg->hq.tls_verify = true;
	cfg->hq.batch_max_sales = 20000;
	cfg->hq.max_attempts = 8;
	cfg->hq.backoff_initial_ms = 200;
	cfg->hq.backoff_max_ms = 30000;
	cfg->hq.interval_s = 60;
	cfg->hq.timeout_s = 60;
	cfg->hq.lookup_budget_ms = 300;
}

static int parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return PM_EINVAL;
	*out = x;
	return PM_OK;
}

/* "12.34" or "12" (currency units) to cents. */
static int parse_money(const char *v, int64_t *out)
{
	char *end;
	errno = 0;
	long long units = strtoll(v, &end, 10);
	long long cents = 0;
	if (errno || end == v || units < 0)
		return PM_EINVAL;
	if (*end == '.') {
		const char *f = end + 1;
		if (!isdigit((unsigned char)f[0]) || (f[1] && (!isdigit((unsigned char)f[1]) || f[2])))
			return PM_EINVAL;
		cents = (f[0] - '0') * 10 + (f[1] ? f[1] - '0' : 0);
	} else if (*end) {
		return PM_EINVAL;
	}
	*out = units * 100 + cents;
	return PM_OK;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return PM_EINVAL;
	strcpy(dst, v);
	return PM_OK;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	return false;
}

/* tiers = name:threshold:multiplier_pct, ... (thresholds as money, ascending). */
static int parse_tiers(struct loy_config *c, const char *v)
{
	char buf[256], *save = NULL;
	int n = 0;
	if (copy_str(buf, sizeof(buf), v))
		return PM_EINVAL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char name[16];
		char thr[32];
		int mult;
		while (*tok == ' ')
			tok++;
		if (n >= LOY_TIER_MAX || sscanf(tok, "%15[^:]:%31[^:]:%d", name, thr, &mult) != 3 ||
		    mult < 0 || mult > 1000)
			return PM_EINVAL;
		if (parse_money(thr, &c->tier_threshold_cents[n]))
			return PM_EINVAL;
		if (n > 0 && c->tier_threshold_cents[n] <= c->tier_threshold_cents[n - 1])
			return PM_EINVAL;
		strcpy(c->tier_name[n], name);
		c->tier_multiplier_pct[n] = mult;
		n++;
	}
	if (n == 0 || c->tier_threshold_cents[0] != 0)
		return PM_EINVAL;
	c->tier_count = n;
	return PM_OK;
}

int term_config_set(struct term_config *cfg, const char *sec, const char *key, const char *v,
		    char *err, size_t errlen)
{
	int64_t x;
	bool b;
	int rc = PM_EINVAL;
	const char *want = "a valid value";

#define KEY(s, k) (!strcmp(sec, s) && !strcmp(key, k))
	if (KEY("store", "data"))
		rc = copy_str(cfg->data_dir, sizeof(cfg->data_dir), v);
	else if (KEY("store", "id"))
		rc = copy_str(cfg->store_id, sizeof(cfg->store_id), v);
	else if (KEY("store", "name"))
		rc = copy_str(cfg->store_name, sizeof(cfg->store_name), v);
	else if (KEY("store", "address"))
		rc = copy_str(cfg->store_address, sizeof(cfg->store_address), v);
	else if (KEY("store", "receipt_footer"))
		rc = copy_str(cfg->footer, sizeof(cfg->footer), v);
	else if (KEY("store", "terminal"))
		rc = copy_str(cfg->loy.terminal_id, sizeof(cfg->loy.terminal_id), v);
	else if (KEY("store", "currency")) {
		want = "a three-letter ISO 4217 code such as EUR";
		rc = (strlen(v) == 3 && isupper((unsigned char)v[0]) && isupper((unsigned char)v[1]) &&
		      isupper((unsigned char)v[2])) ? copy_str(cfg->loy.currency, 4, v) : PM_EINVAL;
	} else if (KEY("devices", "scanner"))
		rc = copy_str(cfg->scanner, sizeof(cfg->scanner), v);
	else if (KEY("devices", "printer"))
		rc = copy_str(cfg->printer, sizeof(cfg->printer), v);
	else if (KEY("devices", "printer_profile")) {
		want = "a profile name from docs/printers.md, e.g. generic or epson-tm-t88v";
		rc = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(v)
			? copy_str(cfg->printer_profile, sizeof(cfg->printer_profile), v) : PM_EINVAL;
	}
	else if (KEY("devices", "receipt_columns")) {
		want = "42 or 48";
		rc = parse_i64(v, 42, 48, &x);
		if (!rc && x != 42 && x != 48)
			rc = PM_EINVAL;
		if (!rc)
			cfg->receipt_columns = (int)x;
	} else if (KEY("loyalty", "map_size_mb")) {
		want = "megabytes, 1 or more";
		if (!(rc = parse_i64(v, 1, 1 << 24, &x)))
			cfg->loy.map_size_initial = (uint64_t)x << 20;
	} else if (KEY("loyalty", "map_size_kb")) {
		/* The same in KiB: tests that must make the map grow many times. */
		want = "kibibytes, 32 or more";
		if (!(rc = parse_i64(v, 32, 1LL << 34, &x)))
			cfg->loy.map_size_initial = (uint64_t)x << 10;
	} else if (KEY("loyalty", "map_size_max_mb")) {
		want = "megabytes, 0 for no limit";
		if (!(rc = parse_i64(v, 0, 1 << 24, &x)))
			cfg->loy.map_size_max = (uint64_t)x << 20;
	} else if (KEY("loyalty", "points_per_unit")) {
		want = "a whole number 0..1000";
		if (!(rc = parse_i64(v, 0, 1000, &x)))
			cfg->loy.points_per_unit = x;
	} else if (KEY("loyalty", "tier_window_days")) {
		want = "days, 1..3660";
		if (!(rc = parse_i64(v, 1, 3660, &x)))
			cfg->loy.tier_window_days = (int)x;
	} else if (KEY("loyalty", "points_expiry_days")) {
		want = "days, 0 for never";
		if (!(rc = parse_i64(v, 0, 36600, &x)))
			cfg->loy.points_expiry_days = (int)x;
	} else if (KEY("loyalty", "point_value_cents")) {
		want = "cents, 1..100000";
		if (!(rc = parse_i64(v, 1, 100000, &x)))
			cfg->loy.point_value_cents = x;
	} else if (KEY("loyalty", "offline_window_s")) {
		want = "seconds, 60..31536000";
		if (!(rc = parse_i64(v, 60, 31536000, &x)))
			cfg->loy.offline_window_s = x;
	} else if (KEY("loyalty", "offline_spend_limit")) {
		want = "points, 0..1000000000";
		if (!(rc = parse_i64(v, 0, 1000000000, &x)))
			cfg->loy.offline_spend_limit = x;
	} else if (KEY("loyalty", "tiers")) {
		want = "name:threshold:multiplier_pct, ... with the first threshold 0 and rising";
		rc = parse_tiers(&cfg->loy, v);
	} else if (KEY("cards", "min_length") || KEY("cards", "max_length")) {
		want = "digits, 8..19";
		if (!(rc = parse_i64(v, 8, 19, &x))) {
			if (!strcmp(key, "min_length"))
				cfg->scan.card_min_len = (int)x;
			else
				cfg->scan.card_max_len = (int)x;
		}
	} else if (KEY("cards", "luhn")) {
		want = "yes or no";
		rc = parse_bool(v, &b) ? (cfg->scan.card_luhn = b, PM_OK) : PM_EINVAL;
	} else if (KEY("cards", "prefixes")) {
		char buf[256], *save = NULL;
		want = "comma-separated digit prefixes";
		rc = copy_str(buf, sizeof(buf), v);
		cfg->scan.n_card_prefixes = 0;
		for (char *tok = strtok_r(buf, ", ", &save); !rc && tok; tok = strtok_r(NULL, ", ", &save)) {
			if (cfg->scan.n_card_prefixes >= SCAN_MAX_PREFIXES || strlen(tok) >= 12 ||
			    strspn(tok, "0123456789") != strlen(tok))
				rc = PM_EINVAL;
			else
				strcpy(cfg->scan.card_prefixes[cfg->scan.n_card_prefixes++], tok);
		}
	} else if (KEY("daemon", "socket")) {
		want = "a path shorter than 108 bytes";
		rc = copy_str(cfg->socket_path, sizeof(cfg->socket_path), v);
	} else if (KEY("daemon", "idle_timeout_s")) {
		want = "seconds 1..86400";
		if (!(rc = parse_i64(v, 1, 86400, &x)))
			cfg->idle_timeout_s = (int)x;
	} else if (KEY("daemon", "socket_group")) {
		rc = copy_str(cfg->socket_group, sizeof(cfg->socket_group), v);
	} else if (KEY("cards", "coupon_prefix")) {
		rc = copy_str(cfg->scan.coupon_prefix, sizeof(cfg->scan.coupon_prefix), v);
	} else if (KEY("hq", "url")) {
		want = "an http:// or https:// URL";
		rc = (!strncmp(v, "https://", 8) || !strncmp(v, "http://", 7))
			? copy_str(cfg->hq.url, sizeof(cfg->hq.url), v) : PM_EINVAL;
	} else if (KEY("hq", "store_credential")) {
		/* never echo a credential back in the error message */
		if ((rc = copy_str(cfg->hq.store_credential, sizeof(cfg->hq.store_credential), v))) {
			snprintf(err, errlen, "option 'hq.store_credential' is too long (at most %zu characters)",
				 sizeof(cfg->hq.store_credential) - 1);
			return rc;
		}
	} else if (KEY("hq", "rules_public_key")) {
		want = "64 hex digits (printed by 'posmark-hq rules keygen')";
		rc = strlen(v) == 64 && strspn(v, "0123456789abcdefABCDEF") == 64
			? copy_str(cfg->hq.rules_public_key, sizeof(cfg->hq.rules_public_key), v) : PM_EINVAL;
	} else if (KEY("hq", "ca_file")) {
		rc = copy_str(cfg->hq.ca_file, sizeof(cfg->hq.ca_file), v);
	} else if (KEY("hq", "tls_verify")) {
		want = "yes or no";
		rc = parse_bool(v, &b) ? (cfg->hq.tls_verify = b, PM_OK) : PM_EINVAL;
	} else if (KEY("hq", "batch_max_sales")) {
		want = "a number 1..100000";
		if (!(rc = parse_i64(v, 1, 100000, &x)))
			cfg->hq.batch_max_sales = (int)x;
	} else if (KEY("hq", "max_attempts")) {
		want = "a number 1..1000";
		if (!(rc = parse_i64(v, 1, 1000, &x)))
			cfg->hq.max_attempts = (int)x;
	} else if (KEY("hq", "backoff_initial_ms")) {
		want = "milliseconds 1..60000";
		if (!(rc = parse_i64(v, 1, 60000, &x)))
			cfg->hq.backoff_initial_ms = (int)x;
	} else if (KEY("hq", "backoff_max_ms")) {
		want = "milliseconds 1..3600000";
		if (!(rc = parse_i64(v, 1, 3600000, &x)))
			cfg->hq.backoff_max_ms = (int)x;
	} else if (KEY("hq", "interval_s")) {
		want = "seconds 1..86400";
		if (!(rc = parse_i64(v, 1, 86400, &x)))
			cfg->hq.interval_s = (int)x;
	} else if (KEY("hq", "lookup_budget_ms")) {
		want = "milliseconds, 0..10000";
		if (!(rc = parse_i64(v, 0, 10000, &x)))
			cfg->hq.lookup_budget_ms = (int)x;
	} else if (KEY("hq", "timeout_s")) {
		want = "seconds 1..3600";
		if (!(rc = parse_i64(v, 1, 3600, &x)))
			cfg->hq.timeout_s = (int)x;
	} else if (KEY("offers", "enabled")) {
		want = "yes or no";
		rc = parse_bool(v, &cfg->offers_enabled) ? PM_OK : PM_EINVAL;
	} else if (KEY("offers", "max_per_receipt")) {
		int64_t most = 0;
		want = "a whole number 0..8 (0 = the rule set's limit)";
		rc = parse_i64(v, 0, OFR_MAX_OFFERS, &most);
		cfg->offers_max = (int)most;
	} else if (KEY("offers", "max_rules")) {
		int64_t most = 0;
		want = "a whole number 1..100000000 (rules a rule set may hold here)";
		rc = parse_i64(v, 1, 100000000, &most);
		cfg->offers_max_rules = (long)most;
	} else if (KEY("offers", "coupon_key")) {
		want = "64 hex digits (or a passphrase of 16+ characters)";
		rc = strlen(v) < 16 ? PM_EINVAL : copy_str(cfg->offers_coupon_key, sizeof(cfg->offers_coupon_key), v);
	} else {
		/* Sections owned by later modules are accepted here when they register. */
		snprintf(err, errlen, "unknown option '%s.%s'; see docs/config.md for the options", sec, key);
		return PM_ENOENT;
	}
#undef KEY
	if (rc)
		snprintf(err, errlen, "option '%s.%s' = '%s' is not valid: expected %s", sec, key, v, want);
	return rc;
}

static int set_one(void *ctx, const char *section, const char *key, const char *value, char *msg,
		   size_t msglen)
{
	return term_config_set(ctx, section, key, value, msg, msglen);
}

int term_config_load(const char *path, struct term_config *cfg, char *err, size_t errlen)
{
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	int rc = pm_conf_read(path, set_one, cfg, err, errlen);
	if (rc)
		return rc;
	if (cfg->scan.card_min_len > cfg->scan.card_max_len) {
		snprintf(err, errlen, "%s: cards.min_length is above cards.max_length", path);
		return PM_EINVAL;
	}
	/* the offline allowance bounds spending only where HQ keeps the balance (docs/accounts.md) */
	cfg->loy.chain_linked = cfg->hq.url[0] != '\0';
	return PM_OK;
}
