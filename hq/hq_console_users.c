/*
 * hq_console_users.c - `posmark-hq user add|list|remove|passwd`: the
 * console's accounts (docs/console.md, "Users and roles"). A password comes
 * from the first line of --password-file or of stdin (never the command
 * line, which other users of the machine can read); only its argon2id hash
 * is stored. Each change is in the audit log as the actor "cli".
 */
#include "hq/hq_console_int.h"
#include "hq/hq_int.h"
#include "common/pm_err.h"

#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int say(int rc, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(int rc, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "posmark-hq: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (hint)
		fprintf(stderr, "hint: %s\n", hint);
	return rc;
}

static bool good_name(const char *n)
{
	size_t len = strlen(n);
	return len >= 1 && len <= CONSOLE_NAME_MAX &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == len;
}

/* The password's first line from the file or stdin (echo off on a terminal). */
static int read_password(const char *file, char *pw, size_t n)
{
	FILE *f = file ? fopen(file, "r") : stdin;
	struct termios old, quiet;
	bool tty = !file && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);
	if (!f)
		return say(1, "check the path and its permissions", "cannot read password file '%s'", file);
	if (tty) {
		fprintf(stderr, "password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *got = fgets(pw, (int)n, f);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (file)
		fclose(f);
	if (!got)
		return say(1, "give the password on stdin or in --password-file FILE", "no password given%s", "");
	pw[strcspn(pw, "\r\n")] = '\0';
	if (strlen(pw) < CONSOLE_PW_MIN || strlen(pw) > 1024)
		return say(1, "use at least 10 characters, at most 1024", "password too short or too long%s", "");
	return 0;
}

static int user_set(PGconn *c, const char *name, const char *role, const char *pw_file, bool add)
{
	char pw[1100], hash[crypto_pwhash_STRBYTES], now[24], err[400];
	int rc = read_password(pw_file, pw, sizeof(pw));
	if (rc)
		return rc;
	rc = console_pw_hash(pw, hash, sizeof(hash));
	sodium_memzero(pw, sizeof(pw));
	if (rc)
		return say(1, "the machine is short of memory (argon2id takes 64 MiB)", "cannot hash the password%s", "");
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL) * 1000000);
	const char *pv[4] = { name, hash, now, role };
	PGresult *r = add ? PQexecParams(c, "INSERT INTO console_users (name, pw_hash, created_us, changed_us, role)"
					 " VALUES ($1, $2, $3::bigint, $3::bigint, $4) ON CONFLICT DO NOTHING RETURNING 1",
					 4, NULL, pv, NULL, NULL, 0)
			  /* a new password ends the user's sessions, in the same statement */
			  : PQexecParams(c, "WITH d AS (DELETE FROM console_sessions WHERE name = $1)"
					 " UPDATE console_users SET pw_hash = $2, changed_us = $3::bigint WHERE name = $1"
					 " RETURNING 1", 3, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, sizeof(err), "%s", PQresultErrorMessage(r));
		PQclear(r);
		return say(1, "check the database", "cannot store the user: %s", err);
	}
	int n = PQntuples(r);
	PQclear(r);
	if (n != 1)
		return add ? say(1, "pick another name, or change the password with 'posmark-hq user passwd NAME'",
				 "user '%s' exists", name)
			   : say(1, "'posmark-hq user list' shows the users", "no user '%s'", name);
	console_audit(c, "cli", add ? "user_add" : "user_passwd",
		      add ? json_pack("{s:s, s:s}", "user", name, "role", role) : json_pack("{s:s}", "user", name));
	fprintf(stderr, "posmark-hq: %s '%s'%s\n", add ? "added user" : "changed the password of", name,
		add ? "" : "; their sessions ended");
	return 0;
}

static int user_list(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT u.name, u.role, u.created_us, (SELECT count(*) FROM console_sessions s"
			     " WHERE s.name = u.name AND s.expires_us > (extract(epoch from now()) * 1e6)::bigint)"
			     " FROM console_users u ORDER BY u.name");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = say(1, "check the database", "cannot list users: %s", PQresultErrorMessage(r));
		PQclear(r);
		return rc;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "name", PQgetvalue(r, i, 0), "role", PQgetvalue(r, i, 1),
				      "created_us", (json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10), "sessions",
				      (json_int_t)strtoll(PQgetvalue(r, i, 3), NULL, 10));
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	PQclear(r);
	return 0;
}

static int user_remove(PGconn *c, const char *name)
{
	const char *pv[1] = { name };
	PGresult *r = PQexecParams(c, "DELETE FROM console_users WHERE name = $1 RETURNING 1", 1, NULL, pv, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK, n = ok ? PQntuples(r) : 0;
	if (!ok) {
		int rc = say(1, "check the database", "cannot remove the user: %s", PQresultErrorMessage(r));
		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (n != 1)
		return say(1, "'posmark-hq user list' shows the users", "no user '%s'", name);
	console_audit(c, "cli", "user_remove", json_pack("{s:s}", "user", name));
	fprintf(stderr, "posmark-hq: removed user '%s' and their sessions\n", name);
	return 0;
}

int hq_console_user_cmd(PGconn *c, int npos, const char *const *pos, const char *role, const char *password_file)
{
	const char *usage = "posmark-hq user add NAME --role analyst|operator [--password-file F] | list |"
			    " remove NAME | passwd NAME [--password-file F]";
	if (npos == 1 && !strcmp(pos[0], "list"))
		return user_list(c);
	if (npos != 2)
		return say(2, usage, "usage: user add|list|remove|passwd%s", "");
	if (!good_name(pos[1]))
		return say(2, "a name is 1 to 63 letters, digits, '.', '_', '@' or '-'", "bad user name '%s'", pos[1]);
	if (!strcmp(pos[0], "add")) {
		if (!role || (strcmp(role, "analyst") && strcmp(role, "operator")))
			return say(2, "give --role analyst or --role operator (docs/console.md)", "no role%s", "");
		return user_set(c, pos[1], role, password_file, true);
	}
	if (!strcmp(pos[0], "passwd"))
		return user_set(c, pos[1], NULL, password_file, false);
	if (!strcmp(pos[0], "remove"))
		return user_remove(c, pos[1]);
	return say(2, usage, "unknown user command '%s'", pos[0]);
}
