/*
 * sync_thread.c - the daemon's background sync: the same work as
 * `posmark sync` every hq.interval_s, in a thread of the process that owns
 * the log (LMDB allows one environment per process, so it shares d->db).
 * Reads are LMDB read transactions and the watermark write is a tiny write
 * transaction: the till's group commits are not held up.
 */
#include "terminal/term.h"
#include "hostsync/hostsync.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct term_sync_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	volatile int stop;
	struct term_config cfg;          /* a copy: SIGHUP reloads do not race the thread */
	struct term_sync_ctx sc;
	struct hs_source src;
	struct hs_client_config hc;
};

void term_sync_client_config(const struct term_config *cfg, struct hs_client_config *hc)
{
	hs_client_config_default(hc);
	hc->url = cfg->hq.url;
	hc->store = cfg->store_id;
	hc->credential = cfg->hq.store_credential;
	hc->ca_file = cfg->hq.ca_file;
	hc->tls_verify = cfg->hq.tls_verify;
	hc->rules_public_key = cfg->hq.rules_public_key;
	hc->data_dir = cfg->data_dir;
	hc->batch_max_sales = (size_t)cfg->hq.batch_max_sales;
	hc->max_attempts = cfg->hq.max_attempts;
	hc->backoff_initial_ms = cfg->hq.backoff_initial_ms;
	hc->backoff_max_ms = cfg->hq.backoff_max_ms;
	hc->timeout_s = cfg->hq.timeout_s;
}

static void *run(void *arg)
{
	struct term_sync_thread *t = arg;
	char err[600];
	struct hs_sync_stats st;
	while (!t->stop) {
		int rc = hs_sync_once(&t->hc, &t->src, t->cfg.loy.terminal_id, &st, err, sizeof(err));
		if (rc && !t->stop)
			pm_warn("background sync: %s (%s); retrying in %d s", err, pm_strerror(rc), t->cfg.hq.interval_s);
		else if (st.sales_sent || st.events_sent)
			pm_info("background sync: %llu sales, %llu events acknowledged by HQ",
				(unsigned long long)st.sales_sent, (unsigned long long)st.events_sent);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += t->cfg.hq.interval_s;
		pthread_mutex_lock(&t->mu);
		while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0)
			;
		pthread_mutex_unlock(&t->mu);
	}
	return NULL;
}

int term_sync_thread_start(struct loy_db *db, const struct term_config *cfg, struct term_sync_thread **out)
{
	struct term_sync_thread *t;
	*out = NULL;
	if (!cfg->hq.url[0] || !cfg->hq.store_credential[0])
		return PM_OK; /* no HQ configured: a standalone store */
	if (!(t = calloc(1, sizeof(*t))))
		return PM_ENOMEM;
	t->cfg = *cfg;
	t->sc = (struct term_sync_ctx){ db, t->cfg.store_id, t->cfg.data_dir };
	term_sync_source(&t->src, &t->sc);
	term_sync_client_config(&t->cfg, &t->hc);
	t->hc.cancel = &t->stop;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (pthread_create(&t->th, NULL, run, t)) {
		free(t);
		return PM_ENOMEM;
	}
	*out = t;
	return PM_OK;
}

void term_sync_thread_stop(struct term_sync_thread *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	memset(t->cfg.hq.store_credential, 0, sizeof(t->cfg.hq.store_credential));
	free(t);
}
