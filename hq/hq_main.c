/* hq_main.c - posmark-hq-main, HQ's full program (bin/posmark-hq, the front, runs it for all but
 * a card answered over the admin socket: hq_front_main.c): the command line, hq.conf, serve, rules,
 * store, history, erase, consent, report, user; the account commands are hq_cmd_accounts.c's. */
#include "hq/hq.h"
#include "hq/hq_int.h"
#include "hq/hq_cli_int.h"
#include "hq/hq_lite_int.h"
#include "hq/hq_vault.h"
#include "hq/hq_console_int.h"
#include "hq/hq_pages.h"
#include "wire/wire.h"
#include "common/pm_file.h"
#include "offers/offers.h"
#include "common/pm_err.h"
#include "common/pm_help.h"
#include "common/pm_log.h"
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
				return hqc_fail("see posmark-hq --help", "option %s needs a value", a);
			if (valued[k].dst)
				*valued[k].dst = v;
			else if (hqi_workers_parse(v, &o->workers))
				return hqc_fail("give a number of PostgreSQL connections from 1 to 32 (docs/hq.md, workers)",
						"option --workers '%.40s' is not valid: expected 1..%d", v, HQI_WORKERS_MAX);
			i++;
			continue;
		}
		if (a[0] == '-' && a[1] == '-')
			return hqc_fail("see posmark-hq --help", "unknown option '%s'", a);
		if (o->npos == 4)
			return hqc_fail("see posmark-hq --help", "too many arguments");
		o->pos[o->npos++] = a;
	}
	return 0;
}

/*
 * The card key file when none is named (--card-key, $POSMARK_HQ_CARD_KEY, card_key_file; docs/privacy.md,
 * "At HQ"): beside a hq.conf named with --config or $POSMARK_HQ_CONFIG; with the system's hq.conf (or
 * none) in the state directory ($STATE_DIRECTORY, which systemd sets, else /var/lib/posmark-hq): the
 * packaged service cannot write /etc. A key already at the old default, beside the system's hq.conf,
 * stays in use (never a silent switch to a new key); serve says so once at its start.
 */
static const char *default_card_key(const char *path, bool serve, char *buf, size_t len)
{
	static const char sys_conf[] = PM_SYSCONFDIR "/posmark/hq.conf";
	static const char old_key[] = PM_SYSCONFDIR "/posmark/" HQV_KEY_FILE_NAME;
	if (path && strcmp(path, sys_conf)) {
		const char *slash = strrchr(path, '/');
		snprintf(buf, len, "%.*s" HQV_KEY_FILE_NAME, slash ? (int)(slash - path + 1) : 0, path);
		return buf;
	}
	const char *state = getenv("STATE_DIRECTORY");   /* "a:b" when a unit names several */
	if (!state || !*state || *state == ':')
		state = HQ_STATE_DIR;
	snprintf(buf, len, "%.*s/" HQV_KEY_FILE_NAME, (int)strcspn(state, ":"), state);
	if (access(old_key, F_OK))
		return buf;
	if (serve)
		pm_warn("card key: using %s, the old default place (the default is now %s); move it there with "
			"the service stopped, or name it with card_key_file in hq.conf (docs/privacy.md)", old_key, buf);
	return old_key;
}

/* 0, or 2 after saying what is wrong. */
static int load_conf(struct opts *o, bool serve)
{
	static struct hqi_conf hc;     /* o's strings point into it */
	static char key_path[1100];
	char pathbuf[1024], err[1500];
	const char *path, *hint;
	int rc = hqi_conf_load(o->config, &hc, pathbuf, sizeof(pathbuf), &path, err, sizeof(err), &hint);
	o->tiers = &hc.tiers;
	if (rc)
		return hqc_fail(hint, "%s", err) + 1;
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
	if (!o->card_key)
		o->card_key = default_card_key(path, serve, key_path, sizeof(key_path));
	pm_dbg("card key file: %s", o->card_key);
	if (!o->admin_socket && hc.admin_socket[0])
		o->admin_socket = hc.admin_socket;
	o->max_connections = hc.max_connections;
	o->per_ip_connections = hc.per_ip_connections;
	if (!o->workers)
		o->workers = hc.workers;
	if (!o->workers)
		o->workers = 4;
	return 0;
}

static int cmd_rules(const struct opts *o)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char hex[crypto_sign_SECRETKEYBYTES * 2 + 2], err[600];
	if (!o->key)
		return hqc_fail("give --key FILE (the signing key made by 'rules keygen')", "no key file");
	if (o->npos == 2 && !strcmp(o->pos[1], "keygen")) {
		crypto_sign_keypair(pk, sk);
		sodium_bin2hex(hex, sizeof(hex), sk, sizeof(sk));
		int fd = open(o->key, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return hqc_fail("pick a new file name; an existing key is never overwritten", "cannot create '%s': %s",
				    o->key, strerror(errno));
		strcat(hex, "\n");
		if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || close(fd))
			return hqc_fail(NULL, "cannot write '%s'", o->key);
		sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
		printf("%s\n", hex);
		return 0;
	}
	if (o->npos != 3 || strcmp(o->pos[1], "publish"))
		return hqc_fail("see posmark-hq --help", "usage: rules keygen --key FILE | rules publish FILE --db C --key FILE");
	size_t klen = 0, blen = 0, sklen = 0;
	char *khex = hqc_read_file(o->key, &klen);
	if (!khex || sodium_hex2bin(sk, sizeof(sk), khex, klen, " \n", &sklen, NULL) || sklen != sizeof(sk)) {
		free(khex);
		return hqc_fail("make one with 'posmark-hq rules keygen --key FILE'", "'%s' is not a signing key", o->key);
	}
	free(khex);
	char *body = hqc_read_file(o->pos[2], &blen);
	if (!body)
		return hqc_fail("check the path", "cannot read rule set '%s': %s", o->pos[2], strerror(errno));
	if (blen > WIRE_RULES_MAX) {
		free(body);
		sodium_memzero(sk, sizeof(sk));
		return hqc_fail("split the set or drop rules; terminals download at most 8 MiB (docs/rules.md)",
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
		return hqc_fail("fix the set (docs/rules.md; 'posmark rules check FILE' shows every error), then publish again",
			    "rule set '%s' does not load in the offers engine (%s, %zu error(s)): nothing signed "
			    "or published", o->pos[2], pm_strerror(lrc), errors);
	}
	ofr_diags_release(&d);
	/* the serial goes under the signature: terminals install only newer serials (wire.h) */
	uint64_t serial = 0;
	PGconn *c = hqc_open_db(o, 1);
	int rc = c ? hq_rules_publish(c, body, blen, sk, &serial, err, sizeof(err)) : PM_EIO;
	sodium_memzero(sk, sizeof(sk));
	free(body);
	if (c && rc)
		hqc_fail("check the database", "cannot store the rule set: %s", err);
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
	char *t = hqc_read_file(path, &n);
	if (!t) {
		hqc_fail("check the path and that posmark-hq may read it", "cannot read TLS %s '%s': %s", what, path,
		     strerror(errno));
		return NULL;
	}
	if (!memmem(t, n, "-----BEGIN ", 11)) {
		free(t);
		hqc_fail("give a PEM file (text starting with -----BEGIN); docs/security.md shows how to make one",
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
		return hqc_fail("add --listen 127.0.0.1:8080 or set listen in hq.conf", "serve needs --listen HOST:PORT");
	if (!o->tls_cert != !o->tls_key)
		return hqc_fail("give both --tls-cert FILE and --tls-key FILE (or tls_cert and tls_key in hq.conf), or"
			    " neither for plain HTTP", "TLS needs a certificate and its key");
	if (o->tls_cert) {
		if (!(cert = read_pem(o->tls_cert, "certificate")) || !(key = read_pem(o->tls_key, "key"))) {
			free(cert);
			return 1;
		}
		cfg.tls_cert_pem = cert;
		cfg.tls_key_pem = key;
	}
	if (!(c = hqc_open_db(o, 1))) {
		free(cert);
		free(key);
		return 1;
	}
	/* the card key now, not at the first upload: a missing or foreign file stops serve */
	if ((rc = hqv_load(c, err, sizeof(err)))) {
		PQfinish(c);
		free(cert);
		free(key);
		return hqc_fail(rc == PM_ENOENT ? "restore the card key file from its backup (docs/privacy.md)"
			    : "give the database's card key file with --card-key or card_key_file in hq.conf",
			    "%s", err);
	}
	PQfinish(c);
	hq_accounts_config(o->tiers);
	char kerr[300];   /* stores seal erasures to this key (docs/privacy.md) */
	if (o->key && hqi_erasure_key_load(o->key, kerr, sizeof(kerr))) {
		free(cert);
		free(key);
		return hqc_fail("give the key 'rules keygen' made (--key or rules_key in hq.conf)", "%s", kerr);
	}
	hq_console_config(o->key, o->tiers);
	if (o->admin_socket && hqi_admin_sock_start(o->admin_socket, o->db, o->tiers, kerr, sizeof(kerr))) {
		free(cert);
		free(key);
		return hqc_fail("give admin_socket a path in a directory only HQ's user (and group) can write, or leave it"
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
		return hqc_fail(cfg.tls_cert_pem ? "check that the key belongs to the certificate, and that no other"
			    " program listens there" : "pick a free port or another local address",
			    "cannot serve on %s", o->listen);
	return rc ? 1 : 0;
}

/* store add STORE [--credential-file F]: prints the new credential unless the file gives it. */
static int cmd_store(const struct opts *o)
{
	char err[600], cred[80];
	PGconn *c;
	int rc;
	if (o->npos != 3 || strcmp(o->pos[1], "add") || strlen(o->pos[2]) > WIRE_ID_MAX)
		return hqc_fail("posmark-hq store add STORE --db CONNINFO", "usage: store add STORE (id up to %d chars)",
			    WIRE_ID_MAX);
	if (o->cred_file) {
		size_t n = 0;
		char *t = hqc_read_file(o->cred_file, &n);
		if (!t || n == 0 || n >= sizeof(cred))
			return hqc_fail("put the credential on one line", "cannot read credential file '%s'", o->cred_file);
		snprintf(cred, sizeof(cred), "%.*s", (int)strcspn(t, "\r\n"), t);
		free(t);
	} else {
		unsigned char r[24];
		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(cred, sizeof(cred), r, sizeof(r));
	}
	if (!(c = hqc_open_db(o, 1)))
		return 1;
	rc = hq_store_add(c, o->pos[2], cred, err, sizeof(err));
	PQfinish(c);
	if (rc)
		return hqc_fail("check the database", "cannot register store: %s", err);
	if (!o->cred_file)
		printf("%s\n", cred); /* once, for hq.store_credential of that store */
	return 0;
}

/* history CARD, erase CARD, consent CARD --targeted yes|no: one card's sales, or a change told to the stores. */
static int cmd_card_event(const struct opts *o, const char *cmd)
{
	char err[600];
	PGconn *c;
	int rc;
	if (!strcmp(cmd, "consent") &&
	    (!o->targeted || (strcmp(o->targeted, "yes") && strcmp(o->targeted, "no"))))
		return hqc_fail("say the customer's answer: --targeted yes or --targeted no",
				"usage: consent CARD --targeted yes|no --db CONNINFO");
	if (o->npos != 2 || !hqc_is_card(o->pos[1]))
		return hqc_fail("give the full card number (digits) or its ref (posmark-hq card ref)",
			    "usage: %s CARD --db CONNINFO", cmd);
	if (!(c = hqc_open_db(o, 1)))
		return 1;
	if (!strcmp(cmd, "history")) {
		rc = hq_history(c, o->pos[1], stdout, err, sizeof(err));
	} else {
		PGresult *b = PQexec(c, "BEGIN");
		rc = PQresultStatus(b) == PGRES_COMMAND_OK ? PM_OK : PM_EIO;
		PQclear(b);
		if (!rc)
			rc = !strcmp(cmd, "erase") ? hq_erase(c, o->pos[1], NULL, err, sizeof(err))
			     : hq_consent(c, o->pos[1], !strcmp(o->targeted, "yes"), err, sizeof(err));
		PQclear(PQexec(c, rc ? "ROLLBACK" : "COMMIT"));
		if (!rc)
			fprintf(stderr, "posmark-hq: %s at HQ; stores that know the card are told on their next sync\n",
				!strcmp(cmd, "erase") ? "card erased" : "consent recorded");
	}
	PQfinish(c);
	return rc ? hqc_fail("check the database", "%s failed: %s", cmd, err) : 0;
}

/* report NAME: JSON lines of one of the reports. */
static int cmd_report(const struct opts *o)
{
	char err[600];
	PGconn *c;
	int rc;
	static const char *const names[] = { "sales-by-day", "campaigns", "negative-balances",
					     "coupons-redeemed-twice", "returns-over-sold", "points-liability" };
	int (*const fns[])(PGconn *, FILE *, char *, size_t) = { hq_report_sales_by_day, hq_report_campaigns,
		hq_report_negative_balances, hq_report_coupons_twice, hq_report_returns_over_sold,
		hq_report_points_liability };
	const size_t n = sizeof(names) / sizeof(names[0]);
	size_t k = 0;
	while (o->npos == 2 && k < n && strcmp(o->pos[1], names[k]))
		k++;
	if (o->npos != 2 || k == n)
		return hqc_fail("posmark-hq report sales-by-day|campaigns|negative-balances|coupons-redeemed-twice|"
			    "returns-over-sold|points-liability --db CONNINFO", "unknown report");
	if (!(c = hqc_open_db(o, 1)))
		return 1;
	rc = fns[k](c, stdout, err, sizeof(err));
	PQfinish(c);
	return rc ? hqc_fail("check the database", "report failed: %s", err) : 0;
}

/* --help, --version, --list-commands, help COMMAND, COMMAND --help: answered before any config or
 * database. The exit code, or -1: none of them, go on. */
static int answer_early(int argc, char **argv)
{
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
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	PGconn *c;
	int rc;

	pm_log_init_from_env(PM_LOG_WARN);
	if ((rc = answer_early(argc, argv)) >= 0)
		return rc;
	const char *cmd = argv[1];
	if (sodium_init() < 0)
		return hqc_fail(NULL, "libsodium failed to start");
	if (parse(argc - 1, argv + 1, &o))
		return 2;
	if ((rc = load_conf(&o, !strcmp(cmd, "serve"))))
		return rc;
	/* the front program (hq_front_main.c) asked serve's admin socket for this card in vain */
	o.admin_asked = getenv(HQI_ADMIN_ASKED_ENV) != NULL;
	unsetenv(HQI_ADMIN_ASKED_ENV);
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
		return hqc_cmd_requests(&o);
	if (!strcmp(cmd, "migrate")) {
		if (!(c = hqc_open_db(&o, 1)))
			return 1;
		PQfinish(c);
		return 0;
	}
	if (!strcmp(cmd, "store"))
		return cmd_store(&o);
	if (!strcmp(cmd, "history") || !strcmp(cmd, "erase") || !strcmp(cmd, "consent"))
		return cmd_card_event(&o, cmd);
	if (!strcmp(cmd, "report"))
		return cmd_report(&o);
	if (!strcmp(cmd, "page"))
		return hqc_cmd_page(&o);
	if (!strcmp(cmd, "card"))
		return hqc_cmd_card(&o);
	if (!strcmp(cmd, "keys"))
		return hqc_cmd_keys(&o);
	if (!strcmp(cmd, "cards"))
		return hqc_cmd_cards(&o);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(&o);
	if (!strcmp(cmd, "baskets"))
		return hqc_cmd_baskets(&o);
	if (!strcmp(cmd, "user")) { /* the console's users (hq_console_users.c) */
		if (!(c = hqc_open_db(&o, 1)))
			return 1;
		rc = hq_console_user_cmd(c, o.npos - 1, o.pos + 1, o.role, o.pw_file);
		PQfinish(c);
		return rc;
	}
	fprintf(stderr, "posmark-hq: unknown command '%s'\nhint: run 'posmark-hq --help'\n", cmd);
	return 2;
}
