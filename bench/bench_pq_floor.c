/*
 * bench_pq_floor.c - the floor of any HQ command that asks PostgreSQL one
 * thing: a process linked with libpq alone that opens a new connection,
 * runs SELECT 1, prints the answer and exits. bench/hq_accounts.sh times it
 * the way it times `posmark-hq card` (a fresh process each call, exec to
 * exit), so the command's figure stands beside what loading libpq (and
 * Debian's libpq pulls in OpenSSL, Kerberos, LDAP and through it GnuTLS)
 * plus PostgreSQL starting a backend costs on the same machine at the same
 * moment (docs/benchmarks.md). Nothing of posmark is linked.
 *   bench_pq_floor CONNINFO     exit 0 after printing "1", 1 on any failure
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_pq_floor CONNINFO\n");
		return 1;
	}
	PGconn *c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_pq_floor: %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	PGresult *r = PQexec(c, "SELECT 1");
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "1");
	if (ok)
		puts(PQgetvalue(r, 0, 0));
	else
		fprintf(stderr, "bench_pq_floor: SELECT 1: %s", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return ok && !fflush(stdout) ? 0 : 1;
}
