/*
 * committer.c - group commit: one thread takes every sale queued while the
 * previous group was syncing and commits them in ONE LMDB transaction
 * (loy_sale_commit_group_deferred), then wakes the event loop through a
 * pipe once they are durable. With one lane it is a plain commit; with
 * eight, groups overlap so that each costs one sync.
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct committer {
	struct loy_db *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct commit_job *queue, **queue_tail;
	struct commit_job *done, **done_tail;
	bool stop;
	_Atomic unsigned expect;         /* hot lanes (committer_expect) */
	int pipe_r, pipe_w;
	uint64_t groups, sales;
};

/*
 * Longest a group waits for hot lanes. A sync costs 100-450 us here, so
 * gathering for a fraction of one is what lets eight busy lanes share it;
 * a lone lane (no hot lanes) never waits.
 */
#define GATHER_MAX_NS 300000

static void wait_for_group(struct committer *c)
{
	while (!c->queue && !c->stop)
		pthread_cond_wait(&c->cv, &c->mu);
	if (!c->expect || c->stop)
		return;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += GATHER_MAX_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	/* The lanes that queued are no longer hot, so expect counts the rest. */
	while (c->expect && !c->stop)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &until))
			break;
}

/* Jobs a commit has finished with, handed to the event loop. */
static void hand_back(struct committer *c, struct commit_job *batch, size_t n)
{
	if (!batch)
		return;
	pthread_mutex_lock(&c->mu);
	c->groups++;
	c->sales += n;
	*c->done_tail = batch;
	while (*c->done_tail)
		c->done_tail = &(*c->done_tail)->next;
	pthread_mutex_unlock(&c->mu);
	char one = 1;
	if (write(c->pipe_w, &one, 1) < 0)
		pm_dbg("commit notification pipe full");
}

/* A sync failed: the held group's sales are not known to be durable. */
static void fail_all(struct commit_job *batch, int rc)
{
	for (struct commit_job *j = batch; j; j = j->next)
		if (j->rc == PM_OK)
			j->rc = rc;
}

static size_t commit_batch(struct committer *c, struct commit_job *batch, int *earlier_rc)
{
	size_t n = 0, i = 0;
	for (struct commit_job *j = batch; j; j = j->next)
		n++;
	const struct loy_sale **sales = calloc(n, sizeof(*sales));
	struct loy_commit_result *res = calloc(n, sizeof(*res));
	int *rcs = calloc(n, sizeof(*rcs));
	*earlier_rc = PM_OK;
	if (!sales || !res || !rcs) {
		for (struct commit_job *j = batch; j; j = j->next)
			j->rc = PM_ENOMEM;
		/* nothing was written, so the held group still needs its sync */
		*earlier_rc = loy_sync(c->db);
	} else {
		for (struct commit_job *j = batch; j; j = j->next)
			sales[i++] = &j->pending->sale;
		loy_sale_commit_group_deferred(c->db, sales, n, res, rcs, earlier_rc);
		i = 0;
		for (struct commit_job *j = batch; j; j = j->next, i++) {
			j->rc = rcs[i];
			j->res = res[i];
		}
	}
	free(sales);
	free(res);
	free(rcs);
	return n;
}

/*
 * The pipeline: group k is committed with its commit record unsynced; the
 * data sync of group k+1 makes group k durable, and only then is group k
 * acknowledged. When no group k+1 is waiting, one loy_sync() settles group
 * k. So busy lanes cost one sync per group and a lone lane two, as before.
 */
static void *run(void *arg)
{
	struct committer *c = arg;
	struct commit_job *held = NULL;
	size_t held_n = 0;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		/* Settle the held group now unless a group can go at once (none
		 * waiting for hot lanes), whose data sync will settle it. */
		if (held && (!c->queue || c->expect)) {
			pthread_mutex_unlock(&c->mu);
			int rc = loy_sync(c->db);
			if (rc)
				fail_all(held, rc);
			hand_back(c, held, held_n);
			held = NULL;
			continue;
		}
		wait_for_group(c);
		struct commit_job *batch = c->queue;
		c->queue = NULL;
		c->queue_tail = &c->queue;
		bool stop = c->stop;
		pthread_mutex_unlock(&c->mu);
		if (!batch) {
			if (stop)
				break;
			continue;
		}
		int earlier_rc;
		size_t n = commit_batch(c, batch, &earlier_rc);
		if (earlier_rc)
			fail_all(held, earlier_rc);
		hand_back(c, held, held_n);
		held = batch;
		held_n = n;
	}
	return NULL;
}

int committer_start(struct loy_db *db, struct committer **out, int *notify_fd)
{
	struct committer *c = calloc(1, sizeof(*c));
	int fds[2];
	*out = NULL;
	if (!c)
		return PM_ENOMEM;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
		free(c);
		return PM_EIO;
	}
	c->db = db;
	c->pipe_r = fds[0];
	c->pipe_w = fds[1];
	c->queue_tail = &c->queue;
	c->done_tail = &c->done;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, run, c)) {
		close(fds[0]);
		close(fds[1]);
		free(c);
		return PM_ENOMEM;
	}
	*notify_fd = c->pipe_r;
	*out = c;
	return PM_OK;
}

void committer_submit(struct committer *c, struct commit_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&c->mu);
	/* While a group gathers, only the last expected lane wakes the thread
	 * (committer_expect); waking it for each tender costs a switch apiece. */
	if (!c->queue || !c->expect)
		pthread_cond_signal(&c->cv);
	*c->queue_tail = job;
	c->queue_tail = &job->next;
	pthread_mutex_unlock(&c->mu);
}

struct commit_job *committer_take_done(struct committer *c)
{
	char buf[256];
	while (read(c->pipe_r, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&c->mu);
	struct commit_job *d = c->done;
	c->done = NULL;
	c->done_tail = &c->done;
	pthread_mutex_unlock(&c->mu);
	return d;
}

void committer_expect(struct committer *c, unsigned hot_lanes)
{
	/* Called on every turn of the event loop: no lock unless a gathering
	 * group can now go. */
	if (atomic_exchange(&c->expect, hot_lanes) == hot_lanes || hot_lanes)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->queue)
		pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void committer_counts(struct committer *c, uint64_t *groups, uint64_t *sales)
{
	pthread_mutex_lock(&c->mu);
	*groups = c->groups;
	*sales = c->sales;
	pthread_mutex_unlock(&c->mu);
}

void committer_stop(struct committer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	close(c->pipe_r);
	close(c->pipe_w);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
