/* hq_main.c - bin/posmark-hq: HQ receiver, queries, store keys, rule sets. */
#include "hq/hq.h"
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "hq/hq_console_int.h"
#include "hq/hq_pages.h"
#include "wire/wire.h"
#include "common/pm_file.h"
#include "offers/offers.h"
#include "common/pm_err.h"
#include "common/pm_help.h"
#include "common/pm_log.h"
#include "common/pm_conf.h"
#include "common/pm_buf.h"
#include "common/pm_version.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int usage(FILE *f)
{
	return pm_help_usage(&hq_help, f);
}

static int fail(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = pm_tell_failure("posmark-hq", hint, fmt, ap);
	va_end(ap);
	return rc;
}

/* A whole small file (keys, credentials, rule sets) or NULL; errno says why. */
static char *read_file(const char *path, size_t *len)
{
	char *data = NULL;
	return pm_file_read(path, 64u << 20, &data, len) ? NULL : data;
}

struct opts {
	const char *config;     /* --config FILE */
	const char *db, *listen, *key, *cred_file, *targeted;
	const char *store, *terminal, *since_us, *until_us, *reason;
	const char *tls_cert, *tls_key;   /* --tls-cert, --tls-key */
	const char *card_key;   /* --card-key, $POSMARK_HQ_CARD_KEY, card_key_file (hq_vault.h) */
	const char *role, *pw_file;       /* user: --role, --password-file */
	const char *campaign, *window_days, *limit; /* page: --campaign, --window-days, --limit */
	const char *admin_socket;         /* --admin-socket PATH (hq_admin_sock.c) */
	int workers;            /* 0 until given; then 4 unless hq.conf says */
	unsigned max_connections, per_ip_connections;   /* from hq.conf; 0: the default */
	int json, quiet, with_cards;   /* with_cards: baskets --with-cards */
	const struct hq_tiers *tiers; /* from hq.conf [loyalty], else the till's defaults */
	int npos;
	const char *pos[4];
};

static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->db = getenv("POSMARK_HQ_DB");
	if (o->db && !*o->db)
		o->db = NULL;
	if ((o->card_key = getenv("POSMARK_HQ_CARD_KEY")) && !*o->card_key)
		o->card_key = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--json") || !strcmp(a, "--quiet") || !strcmp(a, "--with-cards")) {
			*(a[2] == 'j' ? &o->json : a[2] == 'q' ? &o->quiet : &o->with_cards) = 1;
			continue;
		}
		/* the options that take a value, and where it goes */
		const struct { const char *name; const char **dst; } valued[] = {
			{ "--db", &o->db }, { "--listen", &o->listen }, { "--key", &o->key },
			{ "--credential-file", &o->cred_file }, { "--targeted", &o->targeted },
			{ "--store", &o->store }, { "--terminal", &o->terminal }, { "--since-us", &o->since_us },
			{ "--until-us", &o->until_us }, { "--workers", NULL }, { "--config", &o->config },
			{ "--tls-cert", &o->tls_cert }, { "--tls-key", &o->tls_key },
			{ "--reason", &o->reason }, { "--card-key", &o->card_key },
			{ "--role", &o->role }, { "--password-file", &o->pw_file },
			{ "--campaign", &o->campaign },
			{ "--window-days", &o->window_days }, { "--limit", &o->limit },
			{ "--admin-socket", &o->admin_socket },
		};
		size_t k = 0;
		while (k < sizeof(valued) / sizeof(valued[0]) && strcmp(a, valued[k].name))
			k++;
		if (k < sizeof(valued) / sizeof(valued[0])) {
			if (!v)
				return fail("see posmark-hq --help", "option %s needs a value", a);
			if (valued[k].dst)
				*valued[k].dst = v;
			else if ((o->workers = atoi(v)) < 1)
				o->workers = 1;
			i++;
			continue;
		}
		if (a[0] == '-' && a[1] == '-')
			return fail("see posmark-hq --help", "unknown option '%s'", a);
		if (o->npos == 4)
			return fail("see posmark-hq --help", "too many arguments");
		o->pos[o->npos++] = a;
	}
	return 0;
}

/*
 * hq.conf (docs/hq.md): the INI format of posmark.conf (pm_conf_read), with
 * an optional [hq] section header and no other section. Keys: db, listen,
 * workers, rules_key. A value fills in only what the command line (and, for
 * db, $POSMARK_HQ_DB) left unset.
 */
struct hq_conf {
	char db[1024], listen_addr[128], key[1024], tls_cert[1024], tls_key[1024], card_key[1024], admin_socket[108];
	int workers;
	unsigned max_connections, per_ip_connections;   /* 0: not set */
	struct hq_tiers tiers;        /* [loyalty] tiers, tier_window_days (the till's defaults) */
	const char *hint;             /* what to do about the setting refused */
};

/* [loyalty]: the till's tier table, so HQ's tier is the till's (docs/hq.md). */
static int conf_loyalty(struct hq_conf *hc, const char *k, const char *v, char *msg, size_t msglen)
{
	if (!strcmp(k, "tiers")) {
		hc->hint = "write tiers as in posmark.conf, e.g. member:0:100, silver:500.00:125, gold:2000.00:150";
		return hq_tiers_parse(v, &hc->tiers, msg, msglen);
	}
	if (!strcmp(k, "tier_window_days")) {
		char *end;
		long d = strtol(v, &end, 10);
		if (!*v || *end || d < 1 || d > 3650) {
			hc->hint = "give the rolling window in days, 1 to 3650 (the till's loyalty.tier_window_days)";
			snprintf(msg, msglen, "option 'tier_window_days' = '%s' is not valid", v);
			return PM_EINVAL;
		}
		hc->tiers.window_days = (int)d;
		return PM_OK;
	}
	hc->hint = "[loyalty] in hq.conf takes tiers and tier_window_days (docs/hq.md)";
	snprintf(msg, msglen, "unknown option '%s' in [loyalty]", k);
	return PM_EINVAL;
}

static int conf_set(void *ctx, const char *section, const char *k, const char *v, char *msg, size_t msglen)
{
	struct hq_conf *hc = ctx;
	if (!strcmp(section, "loyalty"))
		return conf_loyalty(hc, k, v, msg, msglen);
	if (*section && strcmp(section, "hq")) {
		hc->hint = "write 'key = value' lines (docs/hq.md)";
		snprintf(msg, msglen, "expected 'key = value', [hq] or [loyalty]");
		return PM_EINVAL;
	}
	if (!strcmp(k, "workers")) {
		char *end;
		long w = strtol(v, &end, 10);
		if (!*v || *end || w < 1 || w > 32) {
			hc->hint = "give a number of PostgreSQL connections from 1 to 32";
			snprintf(msg, msglen, "option 'workers' = '%s' is not valid: expected 1..32", v);
			return PM_EINVAL;
		}
		hc->workers = (int)w;
		return PM_OK;
	}
	if (!strcmp(k, "max_connections") || !strcmp(k, "per_ip_connections")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > 10000) {
			hc->hint = "give a number of connections from 1 to 10000 (docs/hq.md, Connections and limits)";
			snprintf(msg, msglen, "option '%s' = '%.40s' is not valid: expected 1..10000", k, v);
			return PM_EINVAL;
		}
		*(k[0] == 'm' ? &hc->max_connections : &hc->per_ip_connections) = (unsigned)n;
		return PM_OK;
	}
	char *dst = !strcmp(k, "db") ? hc->db : !strcmp(k, "listen") ? hc->listen_addr
		    : !strcmp(k, "rules_key") ? hc->key : !strcmp(k, "tls_cert") ? hc->tls_cert
		    : !strcmp(k, "tls_key") ? hc->tls_key : !strcmp(k, "card_key_file") ? hc->card_key
		    : !strcmp(k, "admin_socket") ? hc->admin_socket : NULL;
	size_t cap = dst == hc->listen_addr ? sizeof(hc->listen_addr)
		     : dst == hc->admin_socket ? sizeof(hc->admin_socket) : sizeof(hc->db);
	if (!dst) {
		hc->hint = "hq.conf takes db, listen, workers, rules_key, tls_cert, tls_key, card_key_file,"
			   " max_connections, per_ip_connections and admin_socket (docs/hq.md)";
		snprintf(msg, msglen, "unknown option '%s'", k);
		return PM_EINVAL;
	}
	if (strlen(v) >= cap) {   /* never echo the value: db may hold a password */
		hc->hint = "shorten the value";
		snprintf(msg, msglen, "option '%s' is too long (at most %zu characters)", k, cap - 1);
		return PM_EINVAL;
	}
	strcpy(dst, v);
	return PM_OK;
}

/* 0, or 2 after saying what is wrong. */
static int load_conf(struct opts *o)
{
	static struct hq_conf hc;     /* o's strings point into it */
	char pathbuf[1024], err[1500];
	hq_tiers_default(&hc.tiers);
	o->tiers = &hc.tiers;
	const char *path = pm_conf_pick(o->config, "POSMARK_HQ_CONFIG", "hq.conf", pathbuf, sizeof(pathbuf));

	if (path) {
		int rc = pm_conf_read(path, conf_set, &hc, err, sizeof(err));
		if (rc)
			return fail(hc.hint ? hc.hint
				    : rc == PM_EINVAL ? "write 'key = value' lines (docs/hq.md)"
						      : "fix the path or its permissions, or set POSMARK_HQ_CONFIG=none for no file",
				    "%s", err) + 1;
		if (!o->db && hc.db[0])
			o->db = hc.db;
		if (!o->listen && hc.listen_addr[0])
			o->listen = hc.listen_addr;
		if (!o->key && hc.key[0])
			o->key = hc.key;
		if (!o->tls_cert && hc.tls_cert[0])
			o->tls_cert = hc.tls_cert;
		if (!o->tls_key && hc.tls_key[0])
			o->tls_key = hc.tls_key;
		if (!o->card_key && hc.card_key[0])
			o->card_key = hc.card_key;
		if (!o->card_key) { /* the card key file's default: beside hq.conf */
			const char *slash = strrchr(path, '/');
			snprintf(hc.card_key, sizeof(hc.card_key), "%.*s" HQV_KEY_FILE_NAME,
				 slash ? (int)(slash - path + 1) : 0, path);
			o->card_key = hc.card_key;
		}
		if (!o->admin_socket && hc.admin_socket[0])
			o->admin_socket = hc.admin_socket;
		o->max_connections = hc.max_connections;
		o->per_ip_connections = hc.per_ip_connections;
		if (!o->workers)
			o->workers = hc.workers;
	}
	if (!o->workers)
		o->workers = 4;
	return 0;
}

/* Bring the schema to this build's (or be refused a newer one): 0, or 1 after saying why. */
static int migrate_db(PGconn *c)
{
	char err[600];
	if (!hq_migrate(c, err, sizeof(err)))
		return 0;
	fail("check the database user's rights; docs/hq.md lists the migrations", "schema migration failed: %s", err);
	return 1;
}

static PGconn *open_db(const struct opts *o, int migrate)
{
	char err[600];
	PGconn *c;
	if (!o->db) {
		fail("give --db 'host=... dbname=...' (a libpq connection string), set POSMARK_HQ_DB or db in hq.conf",
		     "no database named");
		return NULL;
	}
	if (!(c = hq_connect(o->db, err, sizeof(err)))) {
		fail("check --db and that PostgreSQL is running", "%s", err);
		return NULL;
	}
	if (migrate && migrate_db(c)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int cmd_rules(const struct opts *o)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
	char hex[crypto_sign_SECRETKEYBYTES * 2 + 2], err[600];
	if (!o->key)
		return fail("give --key FILE (the signing key made by 'rules keygen')", "no key file");
	if (o->npos == 2 && !strcmp(o->pos[1], "keygen")) {
		crypto_sign_keypair(pk, sk);
		sodium_bin2hex(hex, sizeof(hex), sk, sizeof(sk));
		int fd = open(o->key, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return fail("pick a new file name; an existing key is never overwritten", "cannot create '%s': %s",
				    o->key, strerror(errno));
		strcat(hex, "\n");
		if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || close(fd))
			return fail(NULL, "cannot write '%s'", o->key);
		sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
		printf("%s\n", hex);
		return 0;
	}
	if (o->npos != 3 || strcmp(o->pos[1], "publish"))
		return fail("see posmark-hq --help", "usage: rules keygen --key FILE | rules publish FILE --db C --key FILE");
	size_t klen = 0, blen = 0, sklen = 0;
	char *khex = read_file(o->key, &klen);
	if (!khex || sodium_hex2bin(sk, sizeof(sk), khex, klen, " \n", &sklen, NULL) || sklen != sizeof(sk)) {
		free(khex);
		return fail("make one with 'posmark-hq rules keygen --key FILE'", "'%s' is not a signing key", o->key);
	}
	free(khex);
	char *body = read_file(o->pos[2], &blen);
	if (!body)
		return fail("check the path", "cannot read rule set '%s': %s", o->pos[2], strerror(errno));
	if (blen > WIRE_RULES_MAX) {
		free(body);
		sodium_memzero(sk, sizeof(sk));
		return fail("split the set or drop rules; terminals download at most 8 MiB (docs/rules.md)",
			    "rule set '%s' is %zu bytes, more than the %u terminals download: nothing signed or published",
			    o->pos[2], blen, WIRE_RULES_MAX);
	}
	/* what the stores will run: the engine must load it before HQ signs it */
	struct ofr_diags d = { 0 };
	struct ofr_rules *rs = NULL;
	int lrc = ofr_rules_load(body, blen, NULL, "", &rs, &d);
	ofr_rules_free(rs);
	if (lrc) {
		size_t shown = 0;
		for (size_t i = 0; i < d.n && shown < 10; i++)
			if (!d.v[i].warning) {
				fprintf(stderr, "posmark-hq: %s:%d: %s%s%s\n", o->pos[2], d.v[i].line, d.v[i].path,
					d.v[i].path[0] ? ": " : "", d.v[i].msg);
				shown++;
			}
		size_t errors = d.errors;
		ofr_diags_release(&d);
		free(body);
		sodium_memzero(sk, sizeof(sk));
		return fail("fix the set (docs/rules.md; 'posmark rules check FILE' shows every error), then publish again",
			    "rule set '%s' does not load in the offers engine (%s, %zu error(s)): nothing signed "
			    "or published", o->pos[2], pm_strerror(lrc), errors);
	}
	ofr_diags_release(&d);
	/* the serial goes under the signature: terminals install only newer serials (wire.h) */
	uint64_t serial = 0;
	struct pm_buf signed_msg = { 0 };
	const void *msg = NULL;
	size_t msg_len = 0;
	PGconn *c = open_db(o, 1);
	int rc = c ? hq_rules_next_serial(c, &serial, err, sizeof(err)) : PM_EIO;
	if (!rc && (rc = wire_rules_signed_message(serial, body, blen, &signed_msg, &msg, &msg_len)))
		snprintf(err, sizeof(err), "%s", pm_strerror(rc));
	if (!rc)
		crypto_sign_detached(sig, NULL, msg, msg_len, sk);
	sodium_memzero(sk, sizeof(sk));
	pm_buf_free(&signed_msg);
	if (!rc)
		rc = hq_rules_store(c, body, blen, serial, sig, err, sizeof(err));
	free(body);
	if (c && rc)
		fail("check the database", "cannot store the rule set: %s", err);
	PQfinish(c);
	if (!rc)
		fprintf(stderr, "posmark-hq: rule set '%s' (%zu bytes, serial %" PRIu64 ") signed and published\n",
			o->pos[2], blen, serial);
	return rc ? 1 : 0;
}

/* A PEM file for TLS, or NULL after saying what is wrong with it. */
static char *read_pem(const char *path, const char *what)
{
	size_t n = 0;
	char *t = read_file(path, &n);
	if (!t) {
		fail("check the path and that posmark-hq may read it", "cannot read TLS %s '%s': %s", what, path,
		     strerror(errno));
		return NULL;
	}
	if (!memmem(t, n, "-----BEGIN ", 11)) {
		free(t);
		fail("give a PEM file (text starting with -----BEGIN); docs/security.md shows how to make one",
		     "TLS %s '%s' is not PEM", what, path);
		return NULL;
	}
	return t;
}

static int cmd_serve(const struct opts *o)
{
	struct hq_serve_config cfg = {
		.conninfo = o->db, .listen_addr = o->listen, .workers = o->workers,
		.max_connections = o->max_connections ? o->max_connections : 1000,
		.per_ip_connections = o->per_ip_connections ? o->per_ip_connections : 32,
		.header_deadline_s = 10, .request_deadline_s = 300,
	};
	char *cert = NULL, *key = NULL, err[700];
	PGconn *c;
	int rc;
	if (!o->listen)
		return fail("add --listen 127.0.0.1:8080 or set listen in hq.conf", "serve needs --listen HOST:PORT");
	if (!o->tls_cert != !o->tls_key)
		return fail("give both --tls-cert FILE and --tls-key FILE (or tls_cert and tls_key in hq.conf), or"
			    " neither for plain HTTP", "TLS needs a certificate and its key");
	if (o->tls_cert) {
		if (!(cert = read_pem(o->tls_cert, "certificate")) || !(key = read_pem(o->tls_key, "key"))) {
			free(cert);
			return 1;
		}
		cfg.tls_cert_pem = cert;
		cfg.tls_key_pem = key;
	}
	if (!(c = open_db(o, 1))) {
		free(cert);
		free(key);
		return 1;
	}
	/* the card key now, not at the first upload: a missing or foreign file stops serve */
	if ((rc = hqv_load(c, err, sizeof(err)))) {
		PQfinish(c);
		free(cert);
		free(key);
		return fail(rc == PM_ENOENT ? "restore the card key file from its backup (docs/privacy.md)"
			    : "give the database's card key file with --card-key or card_key_file in hq.conf",
			    "%s", err);
	}
	PQfinish(c);
	hq_accounts_config(o->tiers);
	char kerr[300];   /* stores seal erasures to this key (docs/privacy.md) */
	if (o->key && hqi_erasure_key_load(o->key, kerr, sizeof(kerr))) {
		free(cert);
		free(key);
		return fail("give the key 'rules keygen' made (--key or rules_key in hq.conf)", "%s", kerr);
	}
	hq_console_config(o->key, o->tiers);
	if (o->admin_socket && hqi_admin_sock_start(o->admin_socket, o->db, o->tiers, kerr, sizeof(kerr))) {
		free(cert);
		free(key);
		return fail("give admin_socket a path in a directory only HQ's user (and group) can write, or leave it"
			    " unset (docs/hq.md)", "%s", kerr);
	}
	rc = hq_serve(&cfg);
	hqi_admin_sock_stop();
	free(cert);
	if (key) {
		sodium_memzero(key, strlen(key));
		free(key);
	}
	if (rc == PM_EIO)
		return fail(cfg.tls_cert_pem ? "check that the key belongs to the certificate, and that no other"
			    " program listens there" : "pick a free port or another local address",
			    "cannot serve on %s", o->listen);
	return rc ? 1 : 0;
}

/* posmark-hq requests list|approve ID|reject ID: the review queue (hq_requests.c). */
static int cmd_requests(const struct opts *o)
{
	char err[600], what[300];
	PGconn *c;
	int rc;
	bool list = o->npos == 2 && !strcmp(o->pos[1], "list");
	bool decide = o->npos == 3 && (!strcmp(o->pos[1], "approve") || !strcmp(o->pos[1], "reject"));
	if ((!list && !decide) || (decide && (strspn(o->pos[2], "0123456789") != strlen(o->pos[2]) ||
					      !*o->pos[2] || strlen(o->pos[2]) > 18)))
		return fail("posmark-hq requests list, then requests approve ID or requests reject ID",
			    "usage: requests list|approve ID|reject ID");
	if (!(c = open_db(o, 1)))
		return 1;
	if (list) {
		rc = hq_review_list(c, stdout, err, sizeof(err));
		PQfinish(c);
		return rc ? fail("check the database", "cannot list the requests: %s", err) : 0;
	}
	rc = hq_review_decide(c, strtoll(o->pos[2], NULL, 10), !strcmp(o->pos[1], "approve"), what, sizeof(what),
			      err, sizeof(err));
	PQfinish(c);
	if (rc == PM_ENOENT)
		return fail("see the pending ones with 'posmark-hq requests list'", "no pending request %s", o->pos[2]);
	if (rc)
		return fail("check the database; nothing was changed", "cannot %s request %s: %s", o->pos[1],
			    o->pos[2], err);
	fprintf(stderr, "posmark-hq: request %s %s: %s\n", o->pos[2],
		!strcmp(o->pos[1], "approve") ? "approved" : "rejected", what);
	return 0;
}

/* ---- posmark-hq baskets: the stream posmark mine --hq-db reads (wire.h) ---- */
struct basket_out {
	FILE *f;
	int rc;
};

static int write_basket(void *ctx, const char *const *gtins, uint32_t n)
{
	struct basket_out *bo = ctx;
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			putc_unlocked(',', bo->f);
		fputs_unlocked(gtins[i], bo->f);
	}
	if (putc_unlocked('\n', bo->f) == EOF)
		return bo->rc = PM_EIO;   /* the reader went away: stop */
	return 0;
}

/* --with-cards (wire.h): TIME_US, tab, card ("" anonymous), tab, then the GTINs. */
static int write_sale(void *ctx, const char *card, int64_t time_us, const char *const *gtins, uint32_t n)
{
	fprintf(((struct basket_out *)ctx)->f, "%" PRId64 "\t%s\t", time_us, card);
	return write_basket(ctx, gtins, n);
}

static int parse_us(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !*s || *end)
		return -1;
	*out = v;
	return 0;
}

static int cmd_baskets(const struct opts *o)
{
	struct hq_basket_query q = { o->store, o->terminal, INT64_MIN, INT64_MAX };
	struct hq_basket_stats st;
	struct basket_out bo = { stdout, 0 };
	static char obuf[1 << 20];
	char err[600];

	if (o->npos != 1) {
		fail("see posmark-hq --help", "usage: baskets --db CONNINFO [--store S] [--terminal T] "
		     "[--since-us US] [--until-us US] [--with-cards]");
		return WIRE_BASKETS_USAGE;
	}
	if ((o->since_us && parse_us(o->since_us, &q.since_us)) || (o->until_us && parse_us(o->until_us, &q.until_us))) {
		fail("give UTC microseconds since 1970, e.g. 1764547200000000", "--since-us/--until-us is not a number");
		return WIRE_BASKETS_USAGE;
	}
	if (!o->db) {
		fail("give --db 'host=... dbname=...' (a libpq connection string)", "no database named");
		return WIRE_BASKETS_USAGE;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	int rc = o->with_cards ? hq_baskets_sales(o->db, &q, write_sale, &bo, &st, err, sizeof(err))
			       : hq_baskets(o->db, &q, write_basket, &bo, &st, err, sizeof(err));
	if (!rc && fflush(stdout))
		rc = bo.rc = PM_EIO;
	if (bo.rc) {
		fail("the reader of the baskets stopped; see its own message", "cannot write the baskets: %s",
		     strerror(errno));
		return WIRE_BASKETS_FAILED;
	}
	switch (rc) {
	case PM_OK:
		break;
	case PM_EOFFLINE:
		fail("check --db and that PostgreSQL is running", "%s", err);
		return WIRE_BASKETS_OFFLINE;
	case PM_EVERSION:
		fail("give the database posmark-hq serve stores into (its --db)", "%s", err);
		return WIRE_BASKETS_NOT_HQ;
	case PM_ECORRUPT:
		fail("find the sale with 'posmark-hq report sales-by-day' and correct or remove it", "%s", err);
		return WIRE_BASKETS_CORRUPT;
	default:
		fail("check the database", "cannot read the sales: %s", err[0] ? err : pm_strerror(rc));
		return WIRE_BASKETS_FAILED;
	}
	if (st.sales == 0) {
		fail("check --store, --terminal, --since-us and --until-us", "HQ has no sales in this selection");
		return WIRE_BASKETS_NONE;
	}
	if (st.empty && !o->quiet)
		fprintf(stderr, "posmark-hq: %" PRIu64 " sale(s) without items left out\n", st.empty);
	return WIRE_BASKETS_OK;
}

/* ---- the chain account: card, card adjust, cards import (docs/hq.md) ---- */
static bool is_card(const char *s)
{
	return (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= WIRE_CARD_MAX) || hqv_is_ref(s);
}

/*
 * The lookup is done and its connection closed: flush and leave without running the
 * libraries' exit handlers (OpenSSL's, GnuTLS's, Kerberos' clean-ups of state a lookup
 * never used), a measurable part of a `card` call (docs/benchmarks.md). Not under
 * AddressSanitizer, whose leak check runs at exit.
 */
static int quick_exit_ok(void)
{
	if (fflush(stdout) || ferror(stdout))
		return fail("check where the output goes", "cannot write the output");
#if !defined(__SANITIZE_ADDRESS__)
	fflush(stderr);
	_exit(0);
#endif
	return 0;
}

/* `page NAME`: a console page's data document (hq_pages.h) as one JSON object. */
static int cmd_page(const struct opts *o)
{
	struct hq_page_params p = { 0 };
	char err[600];
	if (o->npos != 2)
		return fail("posmark-hq page overview|liability|tiers|campaigns|segments|cohorts|stores --db CONNINFO",
			    "usage: page NAME");
	p.from_us = o->since_us ? strtoll(o->since_us, NULL, 10) : 0;
	p.to_us = o->until_us ? strtoll(o->until_us, NULL, 10) : 0;
	snprintf(p.store, sizeof(p.store), "%s", o->store ? o->store : "");
	snprintf(p.campaign, sizeof(p.campaign), "%s", o->campaign ? o->campaign : "");
	p.window_days = o->window_days ? atoi(o->window_days) : 0;
	p.limit = o->limit ? atoi(o->limit) : 0;
	PGconn *c = open_db(o, 1);
	if (!c)
		return 1;
	json_t *doc = hq_page_data(c, o->pos[1], &p, err, sizeof(err));
	PQfinish(c);
	if (!doc)
		return fail("see 'posmark-hq page --help' for the page names", "%s", err);
	json_dumpf(doc, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(doc);
	return 0;
}

static int cmd_card(const struct opts *o)
{
	char err[600];
	PGconn *c;
	int rc;
	if (o->npos == 2 && is_card(o->pos[1])) {
		/* a running serve answers over its admin socket (hq_admin_sock.c), else the database */
		rc = hqi_admin_card(o->admin_socket, o->db, o->tiers, o->pos[1], o->json, stdout, err, sizeof(err));
		if (rc != HQI_ADMIN_NOT_ANSWERED)
			goto answered;
		/* the lookup carries the schema check (one round trip, docs/benchmarks.md); only
		 * a schema that is not this build's costs the migration step and a second look */
		if (!(c = open_db(o, 0)))
			return 1;
		rc = hq_card_show(c, o->pos[1], o->tiers, o->json, stdout, err, sizeof(err));
		if (rc == PM_EVERSION) {
			if (migrate_db(c)) {
				PQfinish(c);
				return 1;
			}
			rc = hq_card_show(c, o->pos[1], o->tiers, o->json, stdout, err, sizeof(err));
		}
		PQfinish(c);
answered:
		if (rc == PM_ENOENT)
			return fail("check the number; a card gets an account with its first sale, import or adjustment",
				    "%s", err);
		if (rc)
			return fail("check the database", "card failed: %s", err);
		return quick_exit_ok();
	}
	if (o->npos == 3 && !strcmp(o->pos[1], "ref") && is_card(o->pos[2])) {
		/* the card's pseudonym, for SQL by hand (every table names cards by it) */
		char ref[HQV_REF_LEN + 1];
		if (!(c = open_db(o, 1)))
			return 1;
		rc = hqv_card_ref(c, o->pos[2], false, ref, err, sizeof(err));
		PQfinish(c);
		if (rc == PM_ENOENT)
			return fail("check the number; HQ gives a card its ref at its first sale, event or lookup",
				    "HQ has no card with that number");
		if (rc)
			return fail("check the database and the card key file", "card ref failed: %s", err);
		printf("%s\n", ref);
		return quick_exit_ok();
	}
	if (o->npos == 4 && !strcmp(o->pos[1], "adjust")) {
		char *end;
		errno = 0;
		long long pts = strtoll(o->pos[3], &end, 10);
		if (!is_card(o->pos[2]))
			return fail("give the full card number (digits)", "'%s' is not a card number", o->pos[2]);
		if (!*o->pos[3] || *end || errno || pts == 0 || pts > WIRE_POINTS_MAX || pts < -WIRE_POINTS_MAX)
			return fail("give a whole number of points, e.g. 250 or -250, not 0, at most 10^12",
				    "'%s' is not a number of points to adjust by", o->pos[3]);
		if (!o->reason || !*o->reason || strlen(o->reason) > 500)
			return fail("say why with --reason TEXT (up to 500 characters); it stays in the ledger",
				    "an adjustment needs a reason");
		if (!(c = open_db(o, 1)))
			return 1;
		rc = hq_card_adjust(c, o->pos[2], pts, o->reason, err, sizeof(err));
		PQfinish(c);
		if (rc)
			return fail("check the database", "adjust failed: %s", err);
		fprintf(stderr, "posmark-hq: card %s adjusted by %lld points; the stores that know it learn it at their "
			"next sync\n", o->pos[2], pts);
		return 0;
	}
	return fail("posmark-hq card CARD [--json] | card ref CARD | card adjust CARD POINTS --reason TEXT",
		    "usage: card CARD, card ref CARD, or card adjust CARD POINTS --reason TEXT");
}

/* posmark-hq keys rotate: a new card key (hq_vault.h; docs/privacy.md). */
static int cmd_keys(const struct opts *o)
{
	char err[700];
	uint64_t rows = 0;
	if (o->npos != 2 || strcmp(o->pos[1], "rotate"))
		return fail("posmark-hq keys rotate --db CONNINFO", "usage: keys rotate");
	PGconn *c = open_db(o, 1);
	if (!c)
		return 1;
	int rc = hqv_rotate(c, &rows, err, sizeof(err));
	PQfinish(c);
	if (rc)
		return fail("check the database and the card key file; nothing changed unless the message says so",
			    "key rotation failed: %s", err);
	fprintf(stderr, "posmark-hq: card key rotated: %" PRIu64 " card(s) re-keyed, %s replaced; the old key is gone,"
		" so the card numbers in old WAL and dead rows can no longer be read\n", rows, hqv_key_file());
	return 0;
}

static int cmd_cards(const struct opts *o)
{
	struct hq_import_result res;
	char err[600];
	size_t len = 0;
	if (o->npos != 3 || strcmp(o->pos[1], "import"))
		return fail("posmark-hq cards import FILE --db CONNINFO", "usage: cards import FILE");
	char *text = read_file(o->pos[2], &len);
	if (!text)
		return fail("check the path", "cannot read '%s': %s", o->pos[2], strerror(errno));
	PGconn *c = open_db(o, 1);
	if (!c) {
		free(text);
		return 1;
	}
	int rc = hq_cards_import(c, text, len, o->tiers, stderr, &res, err, sizeof(err));
	PQfinish(c);
	free(text);
	if (rc == PM_EINVAL)
		return fail("fix the lines above (CSV card,points[,tier]; docs/hq.md) and import again",
			    "'%s': %u bad line(s): nothing imported", o->pos[2], res.bad_lines);
	if (rc)
		return fail("check the database; nothing was imported", "import failed: %s", err);
	fprintf(stderr, "posmark-hq: %" PRIu64 " card(s) read, %" PRId64 " balance(s) imported%s\n", res.rows,
		res.added, res.added == 0 && res.rows ? " (this file was imported before)" : "");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	char err[600];
	PGconn *c;
	int rc;

	pm_log_init_from_env(PM_LOG_WARN);
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "help") && argc > 2 && pm_help_find(&hq_help, argv[2])) /* help COMMAND */
		return pm_help_command(&hq_help, argv[2], stdout);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("posmark-hq %s\n", PM_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--list-commands")) {
		pm_help_list(&hq_help, stdout);
		return 0;
	}
	const char *cmd = argv[1];
	if (!pm_help_find(&hq_help, cmd)) {
		fprintf(stderr, "posmark-hq: unknown command '%s'\nhint: run 'posmark-hq --help'\n", cmd);
		return 2;
	}
	/* COMMAND --help / --version answer before any config or database */
	for (int k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))
			return pm_help_command(&hq_help, cmd, stdout);
		if (!strcmp(argv[k], "--version")) {
			printf("posmark-hq %s\n", PM_VERSION);
			return 0;
		}
	}
	if (sodium_init() < 0)
		return fail(NULL, "libsodium failed to start");
	if (parse(argc - 1, argv + 1, &o))
		return 2;
	if ((rc = load_conf(&o)))
		return rc;
	if (o.card_key)
		hqv_set_key_file(o.card_key);
	memmove(o.pos + 1, o.pos, sizeof(o.pos) - sizeof(o.pos[0]));
	o.pos[0] = cmd;
	o.npos++;
	if (o.npos > 4)
		o.npos = 4;
	/* pos[0] is the command, pos[1..] its words */
	if (!strcmp(cmd, "serve"))
		return cmd_serve(&o);
	if (!strcmp(cmd, "requests"))
		return cmd_requests(&o);
	if (!strcmp(cmd, "migrate")) {
		if (!(c = open_db(&o, 1)))
			return 1;
		PQfinish(c);
		return 0;
	}
	if (!strcmp(cmd, "store")) {
		char cred[80];
		if (o.npos != 3 || strcmp(o.pos[1], "add") || strlen(o.pos[2]) > WIRE_ID_MAX)
			return fail("posmark-hq store add STORE --db CONNINFO", "usage: store add STORE (id up to %d chars)",
				    WIRE_ID_MAX);
		if (o.cred_file) {
			size_t n = 0;
			char *t = read_file(o.cred_file, &n);
			if (!t || n == 0 || n >= sizeof(cred))
				return fail("put the credential on one line", "cannot read credential file '%s'", o.cred_file);
			snprintf(cred, sizeof(cred), "%.*s", (int)strcspn(t, "\r\n"), t);
			free(t);
		} else {
			unsigned char r[24];
			randombytes_buf(r, sizeof(r));
			sodium_bin2hex(cred, sizeof(cred), r, sizeof(r));
		}
		if (!(c = open_db(&o, 1)))
			return 1;
		rc = hq_store_add(c, o.pos[2], cred, err, sizeof(err));
		PQfinish(c);
		if (rc)
			return fail("check the database", "cannot register store: %s", err);
		if (!o.cred_file)
			printf("%s\n", cred); /* once, for hq.store_credential of that store */
		return 0;
	}
	if (!strcmp(cmd, "consent") &&
	    (!o.targeted || (strcmp(o.targeted, "yes") && strcmp(o.targeted, "no"))))
		return fail("say the customer's answer: --targeted yes or --targeted no",
			    "usage: consent CARD --targeted yes|no --db CONNINFO");
	if (!strcmp(cmd, "history") || !strcmp(cmd, "erase") || !strcmp(cmd, "consent")) {
		if (o.npos != 2 || !is_card(o.pos[1]))
			return fail("give the full card number (digits) or its ref (posmark-hq card ref)",
				    "usage: %s CARD --db CONNINFO", cmd);
		if (!(c = open_db(&o, 1)))
			return 1;
		if (!strcmp(cmd, "history")) {
			rc = hq_history(c, o.pos[1], stdout, err, sizeof(err));
		} else {
			PGresult *b = PQexec(c, "BEGIN");
			rc = PQresultStatus(b) == PGRES_COMMAND_OK ? PM_OK : PM_EIO;
			PQclear(b);
			if (!rc)
				rc = !strcmp(cmd, "erase") ? hq_erase(c, o.pos[1], NULL, err, sizeof(err))
				     : hq_consent(c, o.pos[1], !strcmp(o.targeted, "yes"), err, sizeof(err));
			PQclear(PQexec(c, rc ? "ROLLBACK" : "COMMIT"));
			if (!rc)
				fprintf(stderr, "posmark-hq: %s at HQ; stores that know the card are told on their next sync\n",
					!strcmp(cmd, "erase") ? "card erased" : "consent recorded");
		}
		PQfinish(c);
		return rc ? fail("check the database", "%s failed: %s", cmd, err) : 0;
	}
	if (!strcmp(cmd, "report")) {
		static const char *const names[] = { "sales-by-day", "campaigns", "negative-balances",
						     "coupons-redeemed-twice", "points-liability" };
		int (*const fns[])(PGconn *, FILE *, char *, size_t) = { hq_report_sales_by_day, hq_report_campaigns,
			hq_report_negative_balances, hq_report_coupons_twice, hq_report_points_liability };
		size_t k = 0;
		while (o.npos == 2 && k < 5 && strcmp(o.pos[1], names[k]))
			k++;
		if (o.npos != 2 || k == 5)
			return fail("posmark-hq report sales-by-day|campaigns|negative-balances|coupons-redeemed-twice|"
				    "points-liability --db CONNINFO", "unknown report");
		if (!(c = open_db(&o, 1)))
			return 1;
		rc = fns[k](c, stdout, err, sizeof(err));
		PQfinish(c);
		return rc ? fail("check the database", "report failed: %s", err) : 0;
	}
	if (!strcmp(cmd, "page"))
		return cmd_page(&o);
	if (!strcmp(cmd, "card"))
		return cmd_card(&o);
	if (!strcmp(cmd, "keys"))
		return cmd_keys(&o);
	if (!strcmp(cmd, "cards"))
		return cmd_cards(&o);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(&o);
	if (!strcmp(cmd, "baskets"))
		return cmd_baskets(&o);
	if (!strcmp(cmd, "user")) { /* the console's users (hq_console_users.c) */
		if (!(c = open_db(&o, 1)))
			return 1;
		rc = hq_console_user_cmd(c, o.npos - 1, o.pos + 1, o.role, o.pw_file);
		PQfinish(c);
		return rc;
	}
	fprintf(stderr, "posmark-hq: unknown command '%s'\nhint: run 'posmark-hq --help'\n", cmd);
	return 2;
}
