/* hq_cli.c - the helpers of bin/posmark-hq's commands (hq_cli_int.h). */
#include "hq/hq_cli_int.h"
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "wire/wire.h"
#include "common/pm_file.h"
#include "common/pm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hqc_fail(const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = pm_tell_failure("posmark-hq", hint, fmt, ap);
	va_end(ap);
	return rc;
}

/* A whole small file (keys, credentials, rule sets) or NULL; errno says why. */
char *hqc_read_file(const char *path, size_t *len)
{
	char *data = NULL;
	return pm_file_read(path, 64u << 20, &data, len) ? NULL : data;
}

/* Bring the schema to this build's (or be refused a newer one): 0, or 1 after saying why. */
int hqc_migrate_db(PGconn *c)
{
	char err[600];
	if (!hq_migrate(c, err, sizeof(err)))
		return 0;
	hqc_fail("check the database user's rights; docs/hq.md lists the migrations", "schema migration failed: %s", err);
	return 1;
}

PGconn *hqc_open_db(const struct opts *o, int migrate)
{
	char err[600];
	PGconn *c;
	if (!o->db) {
		hqc_fail("give --db 'host=... dbname=...' (a libpq connection string), set POSMARK_HQ_DB or db in hq.conf",
		     "no database named");
		return NULL;
	}
	if (!(c = hq_connect(o->db, err, sizeof(err)))) {
		hqc_fail("check --db and that PostgreSQL is running", "%s", err);
		return NULL;
	}
	if (migrate && hqc_migrate_db(c)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

bool hqc_is_card(const char *s)
{
	return (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= WIRE_CARD_MAX) || hqv_is_ref(s);
}

/*
 * The lookup is done and its connection closed: flush and leave without running the
 * libraries' exit handlers (OpenSSL's, GnuTLS's, Kerberos' clean-ups of state a lookup
 * never used), a measurable part of a `card` call (docs/benchmarks.md). Not under
 * AddressSanitizer, whose leak check runs at exit.
 */
int hqc_quick_exit_ok(void)
{
	if (fflush(stdout) || ferror(stdout))
		return hqc_fail("check where the output goes", "cannot write the output");
#if !defined(__SANITIZE_ADDRESS__)
	fflush(stderr);
	_exit(0);
#endif
	return 0;
}
