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

/*
 * Each section has its own setter: it applies one "key = value" of its section and returns
 * PM_OK, PM_EINVAL (with *want set to the hint for the person who wrote the file, when the key
 * has a more helpful one than "a valid value") or PM_ENOENT for a key it does not know.
 * A refused value may have changed its field already (the card prefixes, the tiers, the
 * offers limits); that is harmless because a refusal stops the command.
 */

static int set_store(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	if (!strcmp(key, "data"))
		return copy_str(cfg->data_dir, sizeof(cfg->data_dir), v);
	if (!strcmp(key, "id"))
		return copy_str(cfg->store_id, sizeof(cfg->store_id), v);
	if (!strcmp(key, "name"))
		return copy_str(cfg->store_name, sizeof(cfg->store_name), v);
	if (!strcmp(key, "address"))
		return copy_str(cfg->store_address, sizeof(cfg->store_address), v);
	if (!strcmp(key, "receipt_footer"))
		return copy_str(cfg->footer, sizeof(cfg->footer), v);
	if (!strcmp(key, "terminal"))
		return copy_str(cfg->loy.terminal_id, sizeof(cfg->loy.terminal_id), v);
	if (!strcmp(key, "currency")) {
		*want = "a three-letter ISO 4217 code such as EUR";
		return (strlen(v) == 3 && isupper((unsigned char)v[0]) && isupper((unsigned char)v[1]) &&
			isupper((unsigned char)v[2])) ? copy_str(cfg->loy.currency, 4, v) : PM_EINVAL;
	}
	return PM_ENOENT;
}

static int set_devices(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	int64_t x;
	int rc;

	if (!strcmp(key, "scanner"))
		return copy_str(cfg->scanner, sizeof(cfg->scanner), v);
	if (!strcmp(key, "printer"))
		return copy_str(cfg->printer, sizeof(cfg->printer), v);
	if (!strcmp(key, "printer_profile")) {
		*want = "a profile name from docs/printers.md, e.g. generic or epson-tm-t88v";
		return strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(v)
			? copy_str(cfg->printer_profile, sizeof(cfg->printer_profile), v) : PM_EINVAL;
	}
	if (!strcmp(key, "receipt_columns")) {
		/* the two paper widths of receipt printers; nothing in between */
		*want = "42 or 48";
		rc = parse_i64(v, 42, 48, &x);
		if (!rc && x != 42 && x != 48)
			rc = PM_EINVAL;
		if (!rc)
			cfg->receipt_columns = (int)x;
		return rc;
	}
	return PM_ENOENT;
}

static int set_loyalty(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	struct loy_config *loy = &cfg->loy;
	int64_t x;
	int rc;

	if (!strcmp(key, "map_size_mb")) {
		*want = "megabytes, 1 or more";
		if (!(rc = parse_i64(v, 1, 1 << 24, &x)))
			loy->map_size_initial = (uint64_t)x << 20;
	} else if (!strcmp(key, "map_size_kb")) {
		/* The same in KiB: tests that must make the map grow many times. */
		*want = "kibibytes, 32 or more";
		if (!(rc = parse_i64(v, 32, 1LL << 34, &x)))
			loy->map_size_initial = (uint64_t)x << 10;
	} else if (!strcmp(key, "map_size_max_mb")) {
		*want = "megabytes, 0 for no limit";
		if (!(rc = parse_i64(v, 0, 1 << 24, &x)))
			loy->map_size_max = (uint64_t)x << 20;
	} else if (!strcmp(key, "points_per_unit")) {
		*want = "a whole number 0..1000";
		if (!(rc = parse_i64(v, 0, 1000, &x)))
			loy->points_per_unit = x;
	} else if (!strcmp(key, "tier_window_days")) {
		*want = "days, 1..3660";
		if (!(rc = parse_i64(v, 1, 3660, &x)))
			loy->tier_window_days = (int)x;
	} else if (!strcmp(key, "points_expiry_days")) {
		*want = "days, 0 for never";
		if (!(rc = parse_i64(v, 0, 36600, &x)))
			loy->points_expiry_days = (int)x;
	} else if (!strcmp(key, "point_value_cents")) {
		*want = "cents, 1..100000";
		if (!(rc = parse_i64(v, 1, 100000, &x)))
			loy->point_value_cents = x;
	} else if (!strcmp(key, "offline_window_s")) {
		*want = "seconds, 60..31536000";
		if (!(rc = parse_i64(v, 60, 31536000, &x)))
			loy->offline_window_s = x;
	} else if (!strcmp(key, "offline_spend_limit")) {
		*want = "points, 0..1000000000";
		if (!(rc = parse_i64(v, 0, 1000000000, &x)))
			loy->offline_spend_limit = x;
	} else if (!strcmp(key, "tiers")) {
		*want = "name:threshold:multiplier_pct, ... with the first threshold 0 and rising";
		rc = parse_tiers(loy, v);
	} else {
		rc = PM_ENOENT;
	}
	return rc;
}

/* cards.prefixes = 4000, 5, 6011 (commas or spaces). The list is replaced, never appended to. */
static int parse_card_prefixes(struct scan_config *scan, const char *v)
{
	char buf[256], *save = NULL;
	int rc = copy_str(buf, sizeof(buf), v);
	scan->n_card_prefixes = 0;
	for (char *tok = strtok_r(buf, ", ", &save); !rc && tok; tok = strtok_r(NULL, ", ", &save)) {
		if (scan->n_card_prefixes >= SCAN_MAX_PREFIXES || strlen(tok) >= 12 ||
		    strspn(tok, "0123456789") != strlen(tok))
			rc = PM_EINVAL;
		else
			strcpy(scan->card_prefixes[scan->n_card_prefixes++], tok);
	}
	return rc;
}

static int set_cards(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	int64_t x;
	bool b;
	int rc;

	if (!strcmp(key, "min_length") || !strcmp(key, "max_length")) {
		/* min <= max is checked once the whole file is read (term_config_load) */
		*want = "digits, 8..19";
		if (!(rc = parse_i64(v, 8, 19, &x))) {
			if (!strcmp(key, "min_length"))
				cfg->scan.card_min_len = (int)x;
			else
				cfg->scan.card_max_len = (int)x;
		}
		return rc;
	}
	if (!strcmp(key, "luhn")) {
		*want = "yes or no";
		return parse_bool(v, &b) ? (cfg->scan.card_luhn = b, PM_OK) : PM_EINVAL;
	}
	if (!strcmp(key, "prefixes")) {
		*want = "comma-separated digit prefixes";
		return parse_card_prefixes(&cfg->scan, v);
	}
	if (!strcmp(key, "coupon_prefix"))
		return copy_str(cfg->scan.coupon_prefix, sizeof(cfg->scan.coupon_prefix), v);
	return PM_ENOENT;
}

static int set_daemon(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	int64_t x;
	int rc;

	if (!strcmp(key, "socket")) {
		*want = "a path shorter than 108 bytes";
		return copy_str(cfg->socket_path, sizeof(cfg->socket_path), v);
	}
	if (!strcmp(key, "idle_timeout_s")) {
		*want = "seconds 1..86400";
		if (!(rc = parse_i64(v, 1, 86400, &x)))
			cfg->idle_timeout_s = (int)x;
		return rc;
	}
	if (!strcmp(key, "socket_group"))
		return copy_str(cfg->socket_group, sizeof(cfg->socket_group), v);
	return PM_ENOENT;
}

static int set_hq(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	int64_t x;
	bool b;
	int rc;

	if (!strcmp(key, "url")) {
		*want = "an http:// or https:// URL";
		rc = (!strncmp(v, "https://", 8) || !strncmp(v, "http://", 7))
			? copy_str(cfg->hq.url, sizeof(cfg->hq.url), v) : PM_EINVAL;
	} else if (!strcmp(key, "rules_public_key")) {
		*want = "64 hex digits (printed by 'posmark-hq rules keygen')";
		rc = strlen(v) == 64 && strspn(v, "0123456789abcdefABCDEF") == 64
			? copy_str(cfg->hq.rules_public_key, sizeof(cfg->hq.rules_public_key), v) : PM_EINVAL;
	} else if (!strcmp(key, "ca_file")) {
		rc = copy_str(cfg->hq.ca_file, sizeof(cfg->hq.ca_file), v);
	} else if (!strcmp(key, "tls_verify")) {
		*want = "yes or no";
		rc = parse_bool(v, &b) ? (cfg->hq.tls_verify = b, PM_OK) : PM_EINVAL;
	} else if (!strcmp(key, "batch_max_sales")) {
		*want = "a number 1..100000";
		if (!(rc = parse_i64(v, 1, 100000, &x)))
			cfg->hq.batch_max_sales = (int)x;
	} else if (!strcmp(key, "max_attempts")) {
		*want = "a number 1..1000";
		if (!(rc = parse_i64(v, 1, 1000, &x)))
			cfg->hq.max_attempts = (int)x;
	} else if (!strcmp(key, "backoff_initial_ms")) {
		*want = "milliseconds 1..60000";
		if (!(rc = parse_i64(v, 1, 60000, &x)))
			cfg->hq.backoff_initial_ms = (int)x;
	} else if (!strcmp(key, "backoff_max_ms")) {
		*want = "milliseconds 1..3600000";
		if (!(rc = parse_i64(v, 1, 3600000, &x)))
			cfg->hq.backoff_max_ms = (int)x;
	} else if (!strcmp(key, "interval_s")) {
		*want = "seconds 1..86400";
		if (!(rc = parse_i64(v, 1, 86400, &x)))
			cfg->hq.interval_s = (int)x;
	} else if (!strcmp(key, "lookup_budget_ms")) {
		*want = "milliseconds, 0..10000";
		if (!(rc = parse_i64(v, 0, 10000, &x)))
			cfg->hq.lookup_budget_ms = (int)x;
	} else if (!strcmp(key, "timeout_s")) {
		*want = "seconds 1..3600";
		if (!(rc = parse_i64(v, 1, 3600, &x)))
			cfg->hq.timeout_s = (int)x;
	} else {
		/* hq.store_credential is set by set_hq_credential: its refusal must not echo it */
		rc = PM_ENOENT;
	}
	return rc;
}

/* Never echo a credential back in the error message: a log or a screen may keep it. */
static int set_hq_credential(struct term_config *cfg, const char *v, char *err, size_t errlen)
{
	int rc = copy_str(cfg->hq.store_credential, sizeof(cfg->hq.store_credential), v);
	if (rc)
		snprintf(err, errlen, "option 'hq.store_credential' is too long (at most %zu characters)",
			 sizeof(cfg->hq.store_credential) - 1);
	return rc;
}

static int set_offers(struct term_config *cfg, const char *key, const char *v, const char **want)
{
	int64_t most = 0;
	int rc;

	if (!strcmp(key, "enabled")) {
		*want = "yes or no";
		return parse_bool(v, &cfg->offers_enabled) ? PM_OK : PM_EINVAL;
	}
	/* The two limits are stored even when refused (0): the command stops on the refusal anyway. */
	if (!strcmp(key, "max_per_receipt")) {
		*want = "a whole number 0..8 (0 = the rule set's limit)";
		rc = parse_i64(v, 0, OFR_MAX_OFFERS, &most);
		cfg->offers_max = (int)most;
		return rc;
	}
	if (!strcmp(key, "max_rules")) {
		*want = "a whole number 1..100000000 (rules a rule set may hold here)";
		rc = parse_i64(v, 1, 100000000, &most);
		cfg->offers_max_rules = (long)most;
		return rc;
	}
	if (!strcmp(key, "coupon_key")) {
		*want = "64 hex digits (or a passphrase of 16+ characters)";
		return strlen(v) < 16 ? PM_EINVAL
				      : copy_str(cfg->offers_coupon_key, sizeof(cfg->offers_coupon_key), v);
	}
	return PM_ENOENT;
}

/* One setter per [section]; a section not listed here is unknown (docs/config.md lists them). */
typedef int (*section_setter)(struct term_config *cfg, const char *key, const char *v,
			      const char **want);

static const struct {
	const char *name;
	section_setter set;
} config_sections[] = {
	{ "store", set_store },   { "devices", set_devices }, { "loyalty", set_loyalty },
	{ "cards", set_cards },   { "daemon", set_daemon },   { "hq", set_hq },
	{ "offers", set_offers },
};

/* Applies one option of posmark.conf; on a refusal err says what was wrong and what to write. */
int term_config_set(struct term_config *cfg, const char *sec, const char *key, const char *v,
		    char *err, size_t errlen)
{
	const char *want = "a valid value";
	int rc = PM_ENOENT;

	if (!strcmp(sec, "hq") && !strcmp(key, "store_credential"))
		return set_hq_credential(cfg, v, err, errlen);
	for (size_t i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]); i++) {
		if (!strcmp(sec, config_sections[i].name)) {
			rc = config_sections[i].set(cfg, key, v, &want);
			break;
		}
	}
	/* PM_ENOENT only ever means "no such key": no parser returns it for a bad value. */
	if (rc == PM_ENOENT) {
		/* Sections owned by later modules are accepted here when they register. */
		snprintf(err, errlen, "unknown option '%s.%s'; see docs/config.md for the options", sec, key);
		return PM_ENOENT;
	}
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
