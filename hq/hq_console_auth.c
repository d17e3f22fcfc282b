/*
 * hq_console_auth.c - the console's users, sessions, CSRF tokens, login
 * rate limit and audit log (docs/console.md, "Security"). Everything lives
 * in PostgreSQL (migration 6: console_users, console_sessions,
 * console_login_failures, audit_log, console_secret), so several
 * posmark-hq serve behind one load balancer share sessions and limits.
 */
#include "hq/hq_console_int.h"
#include "hq/hq_int.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool is_token(const char *t)
{
	return t && strlen(t) == CONSOLE_TOKEN_HEX && strspn(t, "0123456789abcdef") == CONSOLE_TOKEN_HEX;
}

void console_token_new(char out[CONSOLE_TOKEN_HEX + 1])
{
	unsigned char r[CONSOLE_TOKEN_HEX / 2];
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(out, CONSOLE_TOKEN_HEX + 1, r, sizeof(r));
	sodium_memzero(r, sizeof(r));
}

int console_token_hash(const char *token, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	if (!is_token(token))
		return PM_EINVAL;
	crypto_hash_sha256(h, (const unsigned char *)token, CONSOLE_TOKEN_HEX);
	sodium_bin2hex(out, 65, h, sizeof(h));
	return PM_OK;
}

/* Derived, not stored: a page's forms carry it, an attacker's page cannot read it
 * (SameSite=Strict and the same-origin policy), and a stolen CSRF token alone is
 * no session. */
int console_csrf_of(const char *token, char out[CONSOLE_CSRF_HEX + 1])
{
	static const char label[] = "posmark console csrf v1";
	unsigned char h[CONSOLE_CSRF_HEX / 2];
	if (!is_token(token))
		return PM_EINVAL;
	crypto_generichash(h, sizeof(h), (const unsigned char *)label, sizeof(label) - 1, (const unsigned char *)token,
			   CONSOLE_TOKEN_HEX);
	sodium_bin2hex(out, CONSOLE_CSRF_HEX + 1, h, sizeof(h));
	return PM_OK;
}

bool console_csrf_ok(const char *token, const char *given)
{
	char want[CONSOLE_CSRF_HEX + 1];
	if (!given || strlen(given) != CONSOLE_CSRF_HEX || console_csrf_of(token, want))
		return false;
	return sodium_memcmp(want, given, CONSOLE_CSRF_HEX) == 0;
}

int console_pw_hash(const char *password, char *out, size_t outlen)
{
	size_t n = strlen(password);
	if (n < CONSOLE_PW_MIN || n > 1024 || outlen < crypto_pwhash_STRBYTES)
		return PM_EINVAL;
	if (crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE))
		return PM_ENOMEM;
	return PM_OK;
}

bool console_pw_verify(const char *stored, const char *password)
{
	return stored && password && crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}

/* ---- sessions ------------------------------------------------------------ */

int console_session(PGconn *c, const char *token, struct console_user *u)
{
	char h[65], now[24], idle[24];
	if (console_token_hash(token, h))
		return PM_ENOENT;
	int64_t t = now_us();
	snprintf(now, sizeof(now), "%" PRId64, t);
	snprintf(idle, sizeof(idle), "%" PRId64, t - (int64_t)CONSOLE_IDLE_MIN * 60 * 1000000);
	const char *pv[3] = { h, now, idle };
	PGresult *r = PQexecParams(c, "UPDATE console_sessions s SET last_us = $2::bigint FROM console_users u"
				   " WHERE s.token_sha256 = decode($1, 'hex') AND u.name = s.name"
				   " AND s.expires_us > $2::bigint AND s.last_us > $3::bigint RETURNING u.name, u.role",
				   3, NULL, pv, NULL, NULL, 0);
	int rc = PQresultStatus(r) != PGRES_TUPLES_OK ? PM_EIO : PQntuples(r) != 1 ? PM_ENOENT : PM_OK;
	if (!rc) {
		snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(r, 0, 0));
		u->operator = !strcmp(PQgetvalue(r, 0, 1), "operator");
		snprintf(u->token, sizeof(u->token), "%s", token);
		console_csrf_of(token, u->csrf);
	}
	PQclear(r);
	return rc;
}

/* Failed logins in the last minute for the name and for the address. */
static int recent_failures(PGconn *c, const char *name, const char *ip, int64_t t, int *by_name, int *by_ip)
{
	char since[24], kn[CONSOLE_NAME_MAX + 8], ki[80];
	snprintf(since, sizeof(since), "%" PRId64, t - (int64_t)60 * 1000000);
	snprintf(kn, sizeof(kn), "name:%s", name);
	snprintf(ki, sizeof(ki), "ip:%s", ip);
	const char *pv[3] = { kn, ki, since };
	PGresult *r = PQexecParams(c, "SELECT count(*) FILTER (WHERE key = $1), count(*) FILTER (WHERE key = $2)"
				   " FROM console_login_failures WHERE key IN ($1, $2) AND at_us > $3::bigint",
				   3, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return PM_EIO;
	}
	*by_name = atoi(PQgetvalue(r, 0, 0));
	*by_ip = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	return PM_OK;
}

static void record_failure(PGconn *c, const char *name, const char *ip, int64_t t)
{
	char now[24], old[24], kn[CONSOLE_NAME_MAX + 8], ki[80];
	snprintf(now, sizeof(now), "%" PRId64, t);
	snprintf(old, sizeof(old), "%" PRId64, t - (int64_t)3600 * 1000000);
	snprintf(kn, sizeof(kn), "name:%s", name);
	snprintf(ki, sizeof(ki), "ip:%s", ip);
	const char *pv[4] = { kn, ki, now, old };
	/* the table only ever holds the last hour */
	PQclear(PQexecParams(c, "WITH d AS (DELETE FROM console_login_failures WHERE at_us < $4::bigint)"
			     " INSERT INTO console_login_failures VALUES ($1, $3::bigint), ($2, $3::bigint)",
			     4, NULL, pv, NULL, NULL, 0));
}

/* A hash to verify against when the name is unknown, so both answers take as long. */
static pthread_once_t g_dummy_once = PTHREAD_ONCE_INIT;
static char g_dummy[crypto_pwhash_STRBYTES];
static void make_dummy(void)
{
	console_pw_hash("posmark console: no such user", g_dummy, sizeof(g_dummy));
}

int console_login(PGconn *c, const char *name, const char *password, const char *ip,
		  char token[CONSOLE_TOKEN_HEX + 1])
{
	int64_t t = now_us();
	int by_name = 0, by_ip = 0;
	if (strlen(name) > CONSOLE_NAME_MAX || strlen(password) > 1024)
		return PM_EREFUSED;
	if (recent_failures(c, name, ip, t, &by_name, &by_ip))
		return PM_EIO;
	if (by_name >= CONSOLE_FAILS_PER_NAME || by_ip >= CONSOLE_FAILS_PER_IP)
		return PM_EBUSY;
	const char *pv1[1] = { name };
	PGresult *r = PQexecParams(c, "SELECT pw_hash FROM console_users WHERE name = $1", 1, NULL, pv1, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return PM_EIO;
	}
	bool ok;
	if (PQntuples(r) == 1) {
		ok = console_pw_verify(PQgetvalue(r, 0, 0), password);
	} else {
		pthread_once(&g_dummy_once, make_dummy);
		console_pw_verify(g_dummy, password);
		ok = false;
	}
	PQclear(r);
	if (!ok) {
		record_failure(c, name, ip, t);
		return PM_EREFUSED;
	}
	char h[65], now[24], exp[24];
	console_token_new(token);
	console_token_hash(token, h);
	snprintf(now, sizeof(now), "%" PRId64, t);
	snprintf(exp, sizeof(exp), "%" PRId64, t + (int64_t)CONSOLE_SESSION_HOURS * 3600 * 1000000);
	const char *pv[5] = { h, name, now, exp, ip };
	/* expired sessions go as new ones come */
	if (hqi_exec(c, "WITH d AS (DELETE FROM console_sessions WHERE expires_us < $3::bigint)"
		     " INSERT INTO console_sessions (token_sha256, name, created_us, last_us, expires_us, ip)"
		     " VALUES (decode($1, 'hex'), $2, $3::bigint, $3::bigint, $4::bigint, $5)", 5, pv, NULL, NULL, NULL, 0))
		return PM_EIO;
	return PM_OK;
}

void console_logout(PGconn *c, const char *token)
{
	char h[65];
	if (console_token_hash(token, h))
		return;
	const char *pv[1] = { h };
	hqi_exec(c, "DELETE FROM console_sessions WHERE token_sha256 = decode($1, 'hex')", 1, pv, NULL, NULL, NULL, 0);
}

int console_audit(PGconn *c, const char *actor, const char *action, json_t *details)
{
	char now[24];
	char *d = json_dumps(details ? details : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(details);
	if (!d)
		return PM_ENOMEM;
	snprintf(now, sizeof(now), "%" PRId64, now_us());
	const char *pv[4] = { now, actor, action, d };
	int rc = hqi_exec(c, "INSERT INTO audit_log (at_us, actor, action, details) VALUES ($1::bigint, $2, $3, $4::jsonb)",
			  4, pv, NULL, NULL, NULL, 0);
	free(d);
	return rc;
}

static pthread_mutex_t g_key_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char g_key[32];
static bool g_key_set;

int console_secret(PGconn *c, unsigned char key[32])
{
	int rc = PM_OK;
	pthread_mutex_lock(&g_key_mu);
	if (!g_key_set) {
		PGresult *r = PQexec(c, "SELECT encode(key, 'hex') FROM console_secret WHERE id = 1");
		size_t n = 0;
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		    !sodium_hex2bin(g_key, sizeof(g_key), PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), NULL, &n,
				    NULL) && n == sizeof(g_key))
			g_key_set = true;
		else
			rc = PM_EIO;
		PQclear(r);
	}
	if (!rc)
		memcpy(key, g_key, 32);
	pthread_mutex_unlock(&g_key_mu);
	return rc;
}
