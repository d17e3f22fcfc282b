/* cmd_sync.c - posmark sync: upload what HQ has not acknowledged, apply
 * HQ's requests, pull the card accounts, fetch the signed rule set
 * (docs/hostsync.md, docs/accounts.md). */
#include "terminal/wiring.h"
#include "hostsync/hostsync.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static const char *hint_for(int rc)
{
	switch (rc) {
	case PM_EOFFLINE: return "HQ is unreachable; nothing is lost, the next sync sends it (check hq.url)";
	case PM_EREFUSED: return "HQ refused: check store.id and hq.store_credential, or the reason above";
	case PM_EPROTO: return "HQ answered garbage; check hq.url points at posmark-hq";
	case PM_ECHECK: return "the rule set's signature does not match hq.rules_public_key; ask HQ to republish";
	case PM_EINVAL: return "set hq.url, store.id and hq.store_credential in the config file";
	case PM_ECORRUPT: return LOY_DAMAGED_HINT;
	default: return "see the log lines above; nothing was lost";
	}
}

int term_sync_result_format(const struct term_sync_result *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %d rc=%d sales=%llu events=%llu batches=%llu rules=%d\n",
			 TERM_SYNC_RESULT_TAG, TERM_SYNC_RESULT_VERSION, r->rc, r->sales, r->events, r->batches,
			 r->rules);
	return n > 0 && (size_t)n < len ? PM_OK : PM_EINVAL;
}

/* "NAME=" then a decimal number (a sign only where min < 0), up to a space or the end. */
static int field(const char **p, const char *end, const char *name, long long min, long long max,
		 long long *out)
{
	size_t nl = strlen(name);
	char num[24];
	size_t k = 0;
	if ((size_t)(end - *p) <= nl || strncmp(*p, name, nl) || (*p)[nl] != '=')
		return PM_EPROTO;
	*p += nl + 1;
	if (*p < end && **p == '-' && min < 0)
		num[k++] = *(*p)++;
	while (*p < end && **p >= '0' && **p <= '9' && k < sizeof(num) - 1)
		num[k++] = *(*p)++;
	num[k] = '\0';
	if (k == 0 || (num[0] == '-' && k == 1) || (*p < end && **p != ' '))
		return PM_EPROTO;
	errno = 0;
	long long v = strtoll(num, NULL, 10);
	if (errno || v < min || v > max)
		return PM_EPROTO;
	*out = v;
	return PM_OK;
}

int term_sync_result_parse(const char *line, size_t len, struct term_sync_result *out)
{
	const char *p = line, *end = line + len;
	size_t tl = strlen(TERM_SYNC_RESULT_TAG);
	long long v[6];
	static const char *const names[6] = { "", "rc", "sales", "events", "batches", "rules" };
	memset(out, 0, sizeof(*out));
	if (end > p && end[-1] == '\n')
		end--;
	if ((size_t)(end - p) <= tl || strncmp(p, TERM_SYNC_RESULT_TAG, tl) || p[tl] != ' ')
		return PM_EPROTO;
	p += tl + 1;
	/* The version first: a line of another version is not parsed further. */
	char *vend;
	errno = 0;
	long ver = strtol(p, &vend, 10);
	if (vend == p || vend >= end || *vend != ' ' || errno)
		return PM_EPROTO;
	if (ver != TERM_SYNC_RESULT_VERSION)
		return PM_EVERSION;
	p = vend + 1;
	for (int i = 1; i < 6; i++) {
		long long min = i == 1 ? INT_MIN : 0, max = i == 1 ? 0 : i == 5 ? INT_MAX : LLONG_MAX;
		if (field(&p, end, names[i], min, max, &v[i]))
			return PM_EPROTO;
		if (i < 5 && (p >= end || *p++ != ' '))
			return PM_EPROTO;   /* one space between fields */
	}
	if (p != end)
		return PM_EPROTO;   /* trailing bytes: not a line this version wrote */
	out->rc = (int)v[1];
	out->sales = (unsigned long long)v[2];
	out->events = (unsigned long long)v[3];
	out->batches = (unsigned long long)v[4];
	out->rules = (int)v[5];
	return PM_OK;
}

/*
 * An erasure from HQ (or HQ's acknowledgement of a clear one) marked the log
 * for compaction: do it now unless another process has the log open (the
 * daemon that started this sync compacts when this child has ended).
 */
static void compact_after_erasures(struct loy_db *db)
{
	char err[600];
	bool done;
	int rc = term_compact_if_pending(db, &done, err, sizeof(err));
	if (rc == PM_EBUSY)
		pm_info("erasure: %s", err);
	else if (rc)
		pm_warn("erasure: the purchase log is not compacted yet: %s; hint: stop posmark and run "
			"'posmark log compact'", err[0] ? err : pm_strerror(rc));
}

int cmd_sync(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct hs_client_config hc;
	struct hs_source src;
	struct hs_sync_stats st;
	struct loy_db *db;
	const char *hq = NULL, *v;
	bool once = false, result_line = false;
	char err[600];
	int rc = cli_setup(&argc, argv, &co, &cfg);

	if (rc)
		return rc;
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--hq")))
			hq = v;
		else if (!strcmp(argv[i], "--once"))
			once = true;
		else if (!strcmp(argv[i], "--result-line"))
			result_line = true;
		else {
			fprintf(stderr, "posmark sync: unknown argument '%s'\n", argv[i]);
			co.help = true;
			rc = 2;
		}
	}
	if (co.help) {
		term_help_command("sync", rc ? stderr : stdout);
		return rc;
	}
	if (hq)
		snprintf(cfg.hq.url, sizeof(cfg.hq.url), "%s", hq);
	term_sync_client_config(&cfg, &hc);
	if (!hc.url[0])
		return cli_fail("sync", "set hq.url in the config file or give --hq URL", "no HQ address");
	if (!hc.credential[0])
		return cli_fail("sync", "set hq.store_credential in the config file (from 'posmark-hq store add')",
				"no store credential");
	if (result_line)   /* a damaged log ends this child with a result line too */
		term_log_guard_result_line();
	if ((rc = cli_open_log("sync", &cfg, &db))) {
		if (result_line) {
			struct term_sync_result r = { rc, 0, 0, 0, 0 };
			char line[200];
			if (term_sync_result_format(&r, line, sizeof(line)) == PM_OK)
				fputs(line, stdout);
		}
		return 1;
	}
	struct term_sync_ctx sc = { db, cfg.store_id, cfg.data_dir };
	memset(&src, 0, sizeof(src));
	term_sync_source(&src, &sc);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (;;) {
		rc = hs_sync_once(&hc, &src, cfg.loy.terminal_id, &st, err, sizeof(err));
		if (co.json)
			printf("{\"event\":\"sync\",\"ok\":%s,\"sales_sent\":%llu,\"events_sent\":%llu,\"batches\":%llu,"
			       "\"retries\":%llu,\"bytes_raw\":%llu,\"bytes_sent\":%llu,\"requests_applied\":%llu,"
			       "\"accounts_pulled\":%llu,\"rules\":%d}\n", rc ? "false" : "true",
			       (unsigned long long)st.sales_sent, (unsigned long long)st.events_sent,
			       (unsigned long long)st.batches, (unsigned long long)st.retries,
			       (unsigned long long)st.bytes_raw, (unsigned long long)st.bytes_sent,
			       (unsigned long long)st.requests_applied, (unsigned long long)st.accounts_applied, st.rules);
		if (result_line) {
			struct term_sync_result r = { rc, st.sales_sent, st.events_sent, st.batches, st.rules };
			char line[200];
			if (term_sync_result_format(&r, line, sizeof(line)) == PM_OK)
				fputs(line, stdout);
		}
		fflush(stdout);
		if (rc)
			pm_warn("sync failed: %s", err);
		compact_after_erasures(db);
		if (once || g_stop)
			break;
		for (int s = 0; s < cfg.hq.interval_s && !g_stop; s++)
			sleep(1);
		if (g_stop)
			break;
	}
	loy_close(db);
	if (rc == PM_ECORRUPT)   /* the log's damage, never a network fault */
		return cli_fail("sync", hint_for(rc), "purchase log '%s/data.mdb' is damaged: %s", cfg.data_dir, err);
	if (rc)
		return cli_fail("sync", hint_for(rc), "%s (%s)", err, pm_strerror(rc));
	return 0;
}
