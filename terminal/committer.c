/*
 * committer.c - group commit: one thread takes every sale queued while the
 * previous group was syncing and commits them in ONE LMDB transaction
 * (loy_sale_commit_group), then wakes the event loop through a pipe. With
 * one lane it is a plain commit; with eight, eight sales share two syncs.
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <fcntl.h>
#include <pthread.h>
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
	int pipe_r, pipe_w;
	size_t queued;                   /* jobs in queue */
	size_t last_group;               /* size of the previous group */
	uint64_t groups, sales;
};

/* How long a group waits for the lanes that were in the previous group. */
#define GATHER_NS 500000

/*
 * Wait for work. When the previous group had several sales (several busy
 * lanes), wait up to GATHER_NS for as many to queue again: their replies all
 * went out together, so their next tenders come back close together. A single
 * lane (last group of 1) never waits.
 */
static void wait_for_group(struct committer *c)
{
	while (!c->queue && !c->stop)
		pthread_cond_wait(&c->cv, &c->mu);
	if (c->last_group <= 1 || c->stop)
		return;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += GATHER_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (c->queued < c->last_group && !c->stop)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &until))
			break;
}

static void *run(void *arg)
{
	struct committer *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		wait_for_group(c);
		struct commit_job *batch = c->queue;
		c->last_group = c->queued;
		c->queued = 0;
		c->queue = NULL;
		c->queue_tail = &c->queue;
		bool stop = c->stop;
		pthread_mutex_unlock(&c->mu);
		if (!batch) {
			if (stop)
				break;
			continue;
		}
		size_t n = 0;
		for (struct commit_job *j = batch; j; j = j->next)
			n++;
		const struct loy_sale **sales = calloc(n, sizeof(*sales));
		struct loy_commit_result *res = calloc(n, sizeof(*res));
		int *rcs = calloc(n, sizeof(*rcs));
		size_t i = 0;
		if (!sales || !res || !rcs) {
			for (struct commit_job *j = batch; j; j = j->next)
				j->rc = PM_ENOMEM;
		} else {
			for (struct commit_job *j = batch; j; j = j->next)
				sales[i++] = &j->pending->sale;
			loy_sale_commit_group(c->db, sales, n, res, rcs);
			i = 0;
			for (struct commit_job *j = batch; j; j = j->next, i++) {
				j->rc = rcs[i];
				j->res = res[i];
			}
		}
		free(sales);
		free(res);
		free(rcs);
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
	*c->queue_tail = job;
	c->queue_tail = &job->next;
	c->queued++;
	pthread_cond_signal(&c->cv);
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
