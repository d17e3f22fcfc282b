/* cmd_sync.c - posmark sync: upload what HQ has not acknowledged, apply
 * HQ's requests, fetch the signed rule set (docs/hostsync.md). */
#include "terminal/wiring.h"
#include "hostsync/hostsync.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

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
	default: return "see the log lines above; nothing was lost";
	}
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
	bool once = false;
	char err[600];
	int rc = cli_setup(&argc, argv, &co, &cfg);

	if (rc)
		return rc;
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--hq")))
			hq = v;
		else if (!strcmp(argv[i], "--once"))
			once = true;
		else {
			fprintf(stderr, "posmark sync: unknown argument '%s'\n", argv[i]);
			co.help = true;
			rc = 2;
		}
	}
	if (co.help) {
		fprintf(rc ? stderr : stdout, "usage: posmark sync --data DIR [--hq URL] [--once] [--json]\n"
			"  uploads sales and events HQ has not acknowledged, applies HQ's requests,\n"
			"  fetches the signed rule set; without --once it repeats every hq.interval_s.\n");
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
	if (cli_open_log("sync", &cfg, &db))
		return 1;
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
			       "\"rules\":%d}\n", rc ? "false" : "true", (unsigned long long)st.sales_sent,
			       (unsigned long long)st.events_sent, (unsigned long long)st.batches,
			       (unsigned long long)st.retries, (unsigned long long)st.bytes_raw,
			       (unsigned long long)st.bytes_sent, (unsigned long long)st.requests_applied, st.rules);
		fflush(stdout);
		if (rc)
			pm_warn("sync failed: %s", err);
		if (once || g_stop)
			break;
		for (int s = 0; s < cfg.hq.interval_s && !g_stop; s++)
			sleep(1);
		if (g_stop)
			break;
	}
	loy_close(db);
	if (rc)
		return cli_fail("sync", hint_for(rc), "%s (%s)", err, pm_strerror(rc));
	return 0;
}
