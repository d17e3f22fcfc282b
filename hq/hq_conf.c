/*
 * hq_conf.c - hq.conf (docs/hq.md): the INI format of posmark.conf (pm_conf_read), with an
 * optional [hq] section header and a [loyalty] section, and no other section. Keys: db, listen,
 * workers, rules_key, tls_cert, tls_key, card_key_file, max_connections, per_ip_connections,
 * admin_socket; [loyalty] tiers, tier_window_days. A value fills in only what the command line
 * (and, for db, $POSMARK_HQ_DB) left unset: hq_main.c merges. libc only: the front program
 * (hq_front_main.c) reads hq.conf with the same code, so both refuse the same files.
 */
#include "hq/hq_lite_int.h"
#include "common/pm_conf.h"
#include "common/pm_err.h"

#include <stdlib.h>
#include <string.h>

int hqi_workers_parse(const char *s, int *out)
{
	char *end;
	long w = strtol(s, &end, 10);
	if (!*s || *end || w < 1 || w > HQI_WORKERS_MAX)
		return -1;
	*out = (int)w;
	return 0;
}

/* [loyalty]: the till's tier table, so HQ's tier is the till's (docs/hq.md). */
static int conf_loyalty(struct hqi_conf *hc, const char *k, const char *v, char *msg, size_t msglen)
{
	if (!strcmp(k, "tiers")) {
		hc->hint = "write tiers as in posmark.conf, e.g. member:0:100, silver:500.00:125, gold:2000.00:150";
		return hq_tiers_parse(v, &hc->tiers, msg, msglen);
	}
	if (!strcmp(k, "tier_window_days")) {
		char *end;
		long d = strtol(v, &end, 10);
		if (!*v || *end || d < 1 || d > 3650) {
			hc->hint = "give the rolling window in days, 1 to 3650 (the till's loyalty.tier_window_days)";
			snprintf(msg, msglen, "option 'tier_window_days' = '%s' is not valid", v);
			return PM_EINVAL;
		}
		hc->tiers.window_days = (int)d;
		return PM_OK;
	}
	hc->hint = "[loyalty] in hq.conf takes tiers and tier_window_days (docs/hq.md)";
	snprintf(msg, msglen, "unknown option '%s' in [loyalty]", k);
	return PM_EINVAL;
}

static int conf_set(void *ctx, const char *section, const char *k, const char *v, char *msg, size_t msglen)
{
	struct hqi_conf *hc = ctx;
	if (!strcmp(section, "loyalty"))
		return conf_loyalty(hc, k, v, msg, msglen);
	if (*section && strcmp(section, "hq")) {
		hc->hint = "write 'key = value' lines (docs/hq.md)";
		snprintf(msg, msglen, "expected 'key = value', [hq] or [loyalty]");
		return PM_EINVAL;
	}
	if (!strcmp(k, "workers")) {
		if (hqi_workers_parse(v, &hc->workers)) {
			hc->hint = "give a number of PostgreSQL connections from 1 to 32 (docs/hq.md, workers)";
			snprintf(msg, msglen, "option 'workers' = '%.40s' is not valid: expected 1..%d", v,
				 HQI_WORKERS_MAX);
			return PM_EINVAL;
		}
		return PM_OK;
	}
	if (!strcmp(k, "max_connections") || !strcmp(k, "per_ip_connections")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > 10000) {
			hc->hint = "give a number of connections from 1 to 10000 (docs/hq.md, Connections and limits)";
			snprintf(msg, msglen, "option '%s' = '%.40s' is not valid: expected 1..10000", k, v);
			return PM_EINVAL;
		}
		*(k[0] == 'm' ? &hc->max_connections : &hc->per_ip_connections) = (unsigned)n;
		return PM_OK;
	}
	char *dst = !strcmp(k, "db") ? hc->db : !strcmp(k, "listen") ? hc->listen_addr
		    : !strcmp(k, "rules_key") ? hc->key : !strcmp(k, "tls_cert") ? hc->tls_cert
		    : !strcmp(k, "tls_key") ? hc->tls_key : !strcmp(k, "card_key_file") ? hc->card_key
		    : !strcmp(k, "admin_socket") ? hc->admin_socket : NULL;
	size_t cap = dst == hc->listen_addr ? sizeof(hc->listen_addr)
		     : dst == hc->admin_socket ? sizeof(hc->admin_socket) : sizeof(hc->db);
	if (!dst) {
		hc->hint = "hq.conf takes db, listen, workers, rules_key, tls_cert, tls_key, card_key_file,"
			   " max_connections, per_ip_connections and admin_socket (docs/hq.md)";
		snprintf(msg, msglen, "unknown option '%s'", k);
		return PM_EINVAL;
	}
	if (strlen(v) >= cap) {   /* never echo the value: db may hold a password */
		hc->hint = "shorten the value";
		snprintf(msg, msglen, "option '%s' is too long (at most %zu characters)", k, cap - 1);
		return PM_EINVAL;
	}
	strcpy(dst, v);
	return PM_OK;
}

int hqi_conf_load(const char *cli, struct hqi_conf *hc, char *pathbuf, size_t pathlen, const char **path,
		  char *err, size_t errlen, const char **hint)
{
	memset(hc, 0, sizeof(*hc));
	hq_tiers_default(&hc->tiers);
	*hint = NULL;
	*path = pm_conf_pick(cli, "POSMARK_HQ_CONFIG", "hq.conf", pathbuf, pathlen);
	if (!*path)
		return 0;
	int rc = pm_conf_read(*path, conf_set, hc, err, errlen);
	if (rc)
		*hint = hc->hint ? hc->hint
			: rc == PM_EINVAL ? "write 'key = value' lines (docs/hq.md)"
					  : "fix the path or its permissions, or set POSMARK_HQ_CONFIG=none for no file";
	return rc;
}
