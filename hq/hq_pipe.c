/*
 * hq_pipe.c - a read command's statement and the schema check in one round
 * trip (libpq pipeline mode). Every command checks the schema before it
 * reads (hq_migrate's first query); as two round trips that is one more
 * wait on PostgreSQL per call, which a `posmark-hq card` on a loaded machine
 * pays in milliseconds (docs/benchmarks.md). Here both go out in one flush
 * and come back together; the caller uses the statement's answer only if
 * the schema is this build's, and otherwise migrates (or is refused a newer
 * schema) as before and asks again.
 */
#include "hq/hq_int.h"

#include <stdlib.h>
#include <string.h>

/* hq_migrate's own test of "every step is there" (hq_schema.c). */
#define SCHEMA_CHECK_SQL "SELECT count(*), max(version) FROM schema_migrations"

/* The next result of the pipeline, never NULL: a lost connection becomes a
 * failed result carrying libpq's message. */
static PGresult *next_result(PGconn *c)
{
	PGresult *r = PQgetResult(c);
	return r ? r : PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
}

/* Read up to the NULL that ends one query's results; keep the first. */
static PGresult *query_result(PGconn *c)
{
	PGresult *r = next_result(c), *extra;
	while ((extra = PQgetResult(c)))
		PQclear(extra);
	return r;
}

PGresult *hqi_exec_if_current(PGconn *c, const char *sql, int nparams, const char *const *params, bool *current)
{
	*current = false;
	if (!PQenterPipelineMode(c))
		return PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
	if (!PQsendQueryParams(c, SCHEMA_CHECK_SQL, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0) || !PQpipelineSync(c)) {
		PGresult *r = PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
		PQexitPipelineMode(c);   /* fails while queries are queued: the connection is then unusable anyway */
		return r;
	}
	PGresult *chk = query_result(c);
	PGresult *res = query_result(c);   /* PGRES_PIPELINE_ABORTED if the check failed (no schema yet) */
	PGresult *sync = next_result(c);
	*current = PQresultStatus(chk) == PGRES_TUPLES_OK && PQntuples(chk) == 1 &&
		   atoi(PQgetvalue(chk, 0, 0)) == HQ_SCHEMA_VERSION && atoi(PQgetvalue(chk, 0, 1)) == HQ_SCHEMA_VERSION;
	if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
		*current = false;
	PQclear(chk);
	PQclear(sync);
	PQexitPipelineMode(c);
	return res;
}
