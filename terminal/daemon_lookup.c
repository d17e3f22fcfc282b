/*
 * daemon_lookup.c - the daemon's HQ lookups off the event loop (docs/daemon.md,
 * "Lookups at HQ").
 *
 * A card the log has no chain state of, a coupon to check for single use, a
 * sale to return: the till asks HQ within hq.lookup_budget_ms. Asked on the
 * event loop, every lane of the store would wait for one lane's lookup. So
 * the daemon asks first, on this thread: the op that needs HQ parks its lane
 * and its client (their later requests wait in the client's buffer, in
 * order), the thread runs the lookup (an account it fetches is applied to
 * the log here, in its own LMDB write transaction, as `posmark sync` would),
 * and when it is done the event loop runs the op again with the answer in
 * hand: the lane's till_hq hooks (lane_hooks) answer from that job and never
 * touch the network. Anything the till asks that was not fetched first is
 * answered "offline" (the till's offline rules), never by blocking.
 *
 * One thread, lookups in order of arrival; a job that waited in the queue
 * longer than the budget is answered offline without asking (the lane has
 * already waited its budget).
 */
#include "terminal/daemon_int.h"
#include "terminal/wiring.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lookuper {
	struct till_hq hq;               /* this thread's own client (term_till_hq) */
	int64_t budget_ns;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lookup_job *queue, *queue_tail, *done;
	bool stop;
	int notify_r, notify_w;
};

static void run_job(struct lookuper *lk, struct lookup_job *j)
{
	if (pm_mono_ns() - j->queued_ns >= lk->budget_ns) {
		j->rc = PM_EOFFLINE;   /* the lane waited its budget in the queue: go on offline */
		return;
	}
	switch (j->kind) {
	case LOOKUP_ACCOUNT:
		j->rc = lk->hq.account_lookup(lk->hq.ctx, j->key);
		break;
	case LOOKUP_SALE:
		j->rc = lk->hq.sale_lookup(lk->hq.ctx, j->terminal, j->seq, &j->sale);
		break;
	case LOOKUP_COUPON:
		j->rc = lk->hq.coupon_lookup(lk->hq.ctx, j->key, &j->coupon);
		break;
	}
}

static void *lookup_thread(void *arg)
{
	struct lookuper *lk = arg;
	pthread_mutex_lock(&lk->mu);
	for (;;) {
		while (!lk->queue && !lk->stop)
			pthread_cond_wait(&lk->cv, &lk->mu);
		if (!lk->queue)
			break;   /* stopping, nothing left */
		struct lookup_job *j = lk->queue;
		lk->queue = j->next;
		if (!lk->queue)
			lk->queue_tail = NULL;
		pthread_mutex_unlock(&lk->mu);
		run_job(lk, j);
		pthread_mutex_lock(&lk->mu);
		j->next = lk->done;
		lk->done = j;
		char one = 1;
		if (write(lk->notify_w, &one, 1) < 0 && errno != EAGAIN)
			pm_warn("lookup thread: cannot wake the event loop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&lk->mu);
	return NULL;
}

int lookuper_start(const struct term_config *cfg, struct loy_db *db, struct lookuper **out, int *notify_fd)
{
	*out = NULL;
	*notify_fd = -1;
	struct lookuper *lk = calloc(1, sizeof(*lk));
	if (!lk)
		return PM_ENOMEM;
	term_till_hq(&lk->hq, cfg, db);
	if (!lk->hq.account_lookup) {
		free(lk);
		return PM_ENOENT;   /* no HQ to ask: the lanes work offline */
	}
	lk->budget_ns = (int64_t)cfg->hq.lookup_budget_ms * 1000000;
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		term_till_hq_release(&lk->hq);
		free(lk);
		return PM_EIO;
	}
	lk->notify_r = p[0];
	lk->notify_w = p[1];
	pthread_mutex_init(&lk->mu, NULL);
	pthread_cond_init(&lk->cv, NULL);
	if (pthread_create(&lk->thread, NULL, lookup_thread, lk)) {
		close(p[0]);
		close(p[1]);
		term_till_hq_release(&lk->hq);
		free(lk);
		return PM_EIO;
	}
	*out = lk;
	*notify_fd = lk->notify_r;
	return PM_OK;
}

void lookuper_submit(struct lookuper *lk, struct lookup_job *j)
{
	j->queued_ns = pm_mono_ns();
	j->next = NULL;
	pthread_mutex_lock(&lk->mu);
	if (lk->queue_tail)
		lk->queue_tail->next = j;
	else
		lk->queue = j;
	lk->queue_tail = j;
	pthread_cond_signal(&lk->cv);
	pthread_mutex_unlock(&lk->mu);
}

struct lookup_job *lookuper_take_done(struct lookuper *lk)
{
	char buf[64];
	while (read(lk->notify_r, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&lk->mu);
	struct lookup_job *j = lk->done, *oldest = NULL;
	lk->done = NULL;
	pthread_mutex_unlock(&lk->mu);
	while (j) {   /* the done list is newest first */
		struct lookup_job *next = j->next;
		j->next = oldest;
		oldest = j;
		j = next;
	}
	return oldest;
}

void lookuper_stop(struct lookuper *lk)
{
	if (!lk)
		return;
	pthread_mutex_lock(&lk->mu);
	lk->stop = true;
	pthread_cond_signal(&lk->cv);
	pthread_mutex_unlock(&lk->mu);
	pthread_join(lk->thread, NULL);
	for (struct lookup_job *j = lookuper_take_done(lk), *next; j; j = next) {
		next = j->next;
		lookup_job_free(j);
	}
	close(lk->notify_r);
	close(lk->notify_w);
	pthread_mutex_destroy(&lk->mu);
	pthread_cond_destroy(&lk->cv);
	term_till_hq_release(&lk->hq);
	free(lk);
}

void lookup_job_free(struct lookup_job *j)
{
	if (!j)
		return;
	wire_sale_lookup_free(&j->sale);
	json_decref(j->req);
	free(j);
}

/* ---- the lanes' hooks: answers from the job fetched first ------------------- */

static int lane_account(void *ctx, const char *card)
{
	const struct lookup_job *j = ((struct lane *)ctx)->prefetched;
	if (!j || j->kind != LOOKUP_ACCOUNT || strcmp(j->key, card))
		return PM_EOFFLINE;
	return j->rc;   /* applied to the log on the lookup thread */
}

static int lane_sale(void *ctx, const char *terminal, uint64_t seq, struct wire_sale_lookup *out)
{
	struct lookup_job *j = ((struct lane *)ctx)->prefetched;
	if (!j || j->kind != LOOKUP_SALE || strcmp(j->terminal, terminal) || j->seq != seq || j->sale_taken)
		return PM_EOFFLINE;
	if (j->rc)
		return j->rc;
	*out = j->sale;   /* handed over: the caller frees it */
	memset(&j->sale, 0, sizeof(j->sale));
	j->sale_taken = true;
	return PM_OK;
}

static int lane_coupon(void *ctx, const char *coupon, struct wire_coupon_status *out)
{
	const struct lookup_job *j = ((struct lane *)ctx)->prefetched;
	if (!j || j->kind != LOOKUP_COUPON || strcmp(j->key, coupon))
		return PM_EOFFLINE;
	if (j->rc == PM_OK)
		*out = j->coupon;
	return j->rc;
}

void daemon_lane_hooks(struct daemon *d, struct lane *l)
{
	memset(&l->till.hq, 0, sizeof(l->till.hq));
	if (!d->lookuper)
		return;
	l->till.hq.ctx = l;
	l->till.hq.account_lookup = lane_account;
	l->till.hq.sale_lookup = lane_sale;
	l->till.hq.coupon_lookup = lane_coupon;
}

/* ---- parking an op until HQ answered ------------------------------------------ */

bool daemon_lookup_first(struct daemon *d, int slot, json_t *req, struct lane *l, enum lookup_kind kind,
			 const char *key)
{
	if (!d->lookuper || l->prefetched)
		return false;   /* no HQ, the op's second run, or stopping: the till decides now */
	struct lookup_job *j = calloc(1, sizeof(*j));
	if (!j)
		return false;   /* offline rules, as with HQ down */
	j->kind = kind;
	if (kind == LOOKUP_SALE) {
		if (till_ref_parse(key, j->terminal, &j->seq)) {
			free(j);
			return false;   /* the till refuses it with its own message */
		}
	} else {
		snprintf(j->key, sizeof(j->key), "%s", key);
	}
	j->lane = l;
	j->req = json_incref(req);
	j->slot = slot;
	j->gen = d->clients[slot].gen;
	l->lookup = j;
	d->lookups++;
	lookuper_submit(d->lookuper, j);
	return true;
}

bool daemon_client_parked(const struct daemon *d, int slot)
{
	for (size_t i = 0; i < d->n_lanes; i++) {
		const struct lookup_job *j = d->lanes[i]->lookup;
		if (j && j->slot == slot && j->gen == d->clients[slot].gen)
			return true;
	}
	return false;
}

bool daemon_any_lookup(const struct daemon *d)
{
	for (size_t i = 0; i < d->n_lanes; i++)
		if (d->lanes[i]->lookup)
			return true;
	return false;
}

void daemon_lookups_done(struct daemon *d)
{
	for (struct lookup_job *j = lookuper_take_done(d->lookuper), *next; j; j = next) {
		next = j->next;
		struct lane *l = j->lane;
		l->lookup = NULL;
		int slot = j->slot;
		bool client_there = d->clients[slot].fd >= 0 && d->clients[slot].gen == j->gen;
		if (client_there) {
			l->prefetched = j;
			daemon_run_op(d, slot, j->req);
			l->prefetched = NULL;
		}
		lookup_job_free(j);
		if (client_there && d->clients[slot].fd >= 0)
			daemon_client_resume(d, slot);   /* the requests that waited behind this one */
	}
}
