/*
 * hq_guard.c - hard deadlines for HQ's HTTP connections (docs/hq.md,
 * "Connections and limits"). libmicrohttpd's own timeout is an idle timeout:
 * every byte resets it, so a client that sends one header byte a second
 * holds its connection (and its thread) for ever. Here a watchdog thread
 * cuts a connection whose headers take longer than header_s (counted from
 * the connection's start, or from the end of its previous request) or whose
 * whole request takes longer than request_s, by shutdown() of the socket:
 * the connection's thread then sees end-of-file and libmicrohttpd closes
 * it as usual.
 *
 * Each guarded connection holds a dup() of its socket until libmicrohttpd
 * reports it closed, so the watchdog never shuts down a descriptor number
 * that has since been reused for another connection.
 */
#include "hq/hq_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct hqi_guard {
	struct hqi_guard *next, *prev;
	int fd;                       /* our dup() of the connection's socket */
	int phase;                    /* enum hqi_guard_phase */
	int64_t since_ms;             /* start of the phase, CLOCK_MONOTONIC */
	int cut;                      /* already shut down */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static struct hqi_guard g_head = { &g_head, &g_head, -1, 0, 0, 0 };
static unsigned g_header_s, g_request_s;
static int g_running;
static pthread_t g_thread;
static unsigned long g_cut_total;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *watchdog(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	while (g_running) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&g_cv, &g_mu, &until);
		int64_t t = now_ms();
		unsigned cut = 0;
		for (struct hqi_guard *g = g_head.next; g != &g_head; g = g->next) {
			int64_t limit = g->phase == HQI_GUARD_BODY ? (int64_t)g_request_s * 1000 : (int64_t)g_header_s * 1000;
			if (!g->cut && g->phase != HQI_GUARD_BUSY && t - g->since_ms > limit) {
				shutdown(g->fd, SHUT_RDWR);
				g->cut = 1;
				cut++;
			}
		}
		if (cut) {
			g_cut_total += cut;
			pm_warn("closed %u connection(s) over the header (%u s) or request (%u s) deadline; %lu so far",
				cut, g_header_s, g_request_s, g_cut_total);
		}
	}
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

int hqi_guard_start(unsigned header_s, unsigned request_s)
{
	g_header_s = header_s;
	g_request_s = request_s;
	g_running = 1;
	if (pthread_create(&g_thread, NULL, watchdog, NULL)) {
		g_running = 0;
		return PM_ENOMEM;
	}
	return PM_OK;
}

void hqi_guard_stop(void)
{
	if (!g_running)
		return;
	pthread_mutex_lock(&g_mu);
	g_running = 0;
	pthread_cond_signal(&g_cv);
	pthread_mutex_unlock(&g_mu);
	pthread_join(g_thread, NULL);
}

struct hqi_guard *hqi_guard_open(int fd)
{
	struct hqi_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	if ((g->fd = dup(fd)) < 0) {
		free(g);
		return NULL;
	}
	g->phase = HQI_GUARD_HEADERS;
	g->since_ms = now_ms();
	pthread_mutex_lock(&g_mu);
	g->next = g_head.next;
	g->prev = &g_head;
	g_head.next->prev = g;
	g_head.next = g;
	pthread_mutex_unlock(&g_mu);
	return g;
}

void hqi_guard_phase(struct hqi_guard *g, enum hqi_guard_phase phase)
{
	if (!g)
		return;
	pthread_mutex_lock(&g_mu);
	g->phase = phase;
	g->since_ms = now_ms();
	pthread_mutex_unlock(&g_mu);
}

void hqi_guard_close(struct hqi_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g_mu);
	g->prev->next = g->next;
	g->next->prev = g->prev;
	pthread_mutex_unlock(&g_mu);
	close(g->fd);
	free(g);
}
