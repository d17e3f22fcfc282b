/*
 * hq_side_conn.c - a second database connection beside each pool connection,
 * for work that can run while the first one works (hq_int.h, hqi_side_conn).
 *
 * Ingest's per-card rollups read the batch's cards' old rows while the same
 * batch's ledger and accounts are written on the main connection
 * (hq_rollup_cards.c): two backends, two cores. The read is consistent
 * because the main connection holds HQI_SERIAL_LOCK before it is sent and
 * every writer of those rows takes that lock first. A batch's new card vault
 * rows are written on another (slot HQI_SIDE_VAULT, hq_vault_rows.c) while
 * the batch's COPY runs on the main one.
 *
 * One side connection per main connection and slot (by address and backend pid: a
 * replaced connection at the same address gets a new one), made at first use
 * with the main connection's own parameters, kept for the process's life;
 * at most MAX_SIDES (a connection past them goes without: the caller reads
 * on the main connection). Like the main connection, a side connection is
 * used by one thread at a time: the one holding its main connection.
 */
#include "hq/hq_int.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDES 128

struct side {
	PGconn *main;
	int slot;
	int pid;
	PGconn *conn;
	int64_t failed_ns;            /* when a connection could not be made (0: never) */
};

/* After a failed connect (PostgreSQL at max_connections, say) the work stays on the main
 * connection this long before the next try: one warning and one refused connect a minute,
 * not two per batch. */
#define RETRY_AFTER_NS (60 * 1000000000LL)

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct side g_side[MAX_SIDES];
static int g_n;

/* application_name says which it is in pg_stat_activity (an operator's view; the tests find
 * the vault's to cut it) */
static const char *const side_name[] = { "posmark-hq ingest rollups", "posmark-hq ingest vault" };

static PGconn *connect_like(PGconn *c, int slot)
{
	PQconninfoOption *opt = PQconninfo(c);
	if (!opt)
		return NULL;
	int n = 0;
	for (PQconninfoOption *o = opt; o->keyword; o++)
		n++;
	const char **kw = calloc((size_t)n + 2, sizeof(*kw)), **val = calloc((size_t)n + 2, sizeof(*val));
	PGconn *s = NULL;
	if (kw && val) {
		int k = 0;
		for (PQconninfoOption *o = opt; o->keyword; o++)
			if (o->val && o->val[0] && strcmp(o->keyword, "application_name")) {
				kw[k] = o->keyword;
				val[k++] = o->val;
			}
		kw[k] = "application_name";
		val[k] = side_name[slot == HQI_SIDE_VAULT];
		s = PQconnectdbParams(kw, val, 0);
		if (s && PQstatus(s) != CONNECTION_OK) {
			pm_warn("second database connection for ingest: %s(its work stays on the main connection)",
				PQerrorMessage(s));
			PQfinish(s);
			s = NULL;
		}
	}
	free(kw);
	free(val);
	PQconninfoFree(opt);
	return s;
}

PGconn *hqi_side_conn(PGconn *c)
{
	return hqi_side_conn_slot(c, HQI_SIDE_ROLLUPS);
}

PGconn *hqi_side_conn_slot(PGconn *c, int slot)
{
	/* POSMARK_HQ_SECOND_CONNECTION=off: none (the tests' way to the fallback; an A/B) */
	const char *off = getenv("POSMARK_HQ_SECOND_CONNECTION");
	if (off && !strcmp(off, "off"))
		return NULL;
	int pid = PQbackendPID(c), i;
	pthread_mutex_lock(&g_mu);
	for (i = 0; i < g_n && (g_side[i].main != c || g_side[i].slot != slot); i++)
		;
	struct side *s = i < g_n ? &g_side[i] : g_n < MAX_SIDES ? &g_side[g_n++] : NULL;
	if (s && s->main == c && s->pid == pid && s->conn && PQstatus(s->conn) == CONNECTION_OK) {
		PGconn *conn = s->conn;
		pthread_mutex_unlock(&g_mu);
		return conn;
	}
	if (s && s->main == c && s->slot == slot && s->pid == pid && !s->conn && s->failed_ns &&
	    pm_mono_ns() - s->failed_ns < RETRY_AFTER_NS) {
		pthread_mutex_unlock(&g_mu);
		return NULL;
	}
	if (s) { /* new, replaced or broken: (re)connect (once per pool connection, so under the lock) */
		if (s->conn)
			PQfinish(s->conn);
		s->main = c;
		s->slot = slot;
		s->pid = pid;
		s->conn = connect_like(c, slot);
		s->failed_ns = s->conn ? 0 : pm_mono_ns();
	}
	PGconn *conn = s ? s->conn : NULL;
	pthread_mutex_unlock(&g_mu);
	return conn;
}

void hqi_side_drop(PGconn *c)
{
	hqi_side_drop_slot(c, HQI_SIDE_ROLLUPS);
}

void hqi_side_drop_slot(PGconn *c, int slot)
{
	pthread_mutex_lock(&g_mu);
	for (int i = 0; i < g_n; i++)
		if (g_side[i].main == c && g_side[i].slot == slot && g_side[i].conn) {
			PQfinish(g_side[i].conn);
			g_side[i].conn = NULL;
		}
	pthread_mutex_unlock(&g_mu);
}
