/*
 * hq_cli_int.h - bin/posmark-hq's command line, shared by hq_main.c (parsing, hq.conf, serve,
 * rules, the small commands) and the command files (hq_cmd_accounts.c: card, keys, cards, page,
 * requests, baskets); the helpers are hq_cli.c's. Private to hq/.
 */
#ifndef HQ_CLI_INT_H
#define HQ_CLI_INT_H

#include "hq/hq.h"

#include <stdbool.h>
#include <stddef.h>

/* The service's state directory when systemd does not say ($STATE_DIRECTORY; dist/posmark-hq.service). */
#define HQ_STATE_DIR "/var/lib/posmark-hq"

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
	bool admin_asked;   /* the front program asked the admin socket in vain (hq_lite_int.h) */
	int npos;
	const char *pos[4];
};

/* Say "posmark-hq: WHAT" and "hint: HINT" (pm_tell_failure); returns 1. */
int hqc_fail(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A whole small file (keys, credentials, rule sets) or NULL; errno says why. */
char *hqc_read_file(const char *path, size_t *len);
/* Bring the schema to this build's (or be refused a newer one): 0, or 1 after saying why. */
int hqc_migrate_db(PGconn *c);
/* A connection to o->db (migrated if migrate), or NULL after saying why. */
PGconn *hqc_open_db(const struct opts *o, int migrate);
/* A full card number (digits) or a vault ref. */
bool hqc_is_card(const char *s);
/* After a lookup: flush stdout and leave at once (see hq_cli.c); 1 after saying it could not write. */
int hqc_quick_exit_ok(void);

/* The commands of hq_cmd_accounts.c (docs/hq.md): each returns the exit code. */
int hqc_cmd_card(const struct opts *o);
int hqc_cmd_keys(const struct opts *o);
int hqc_cmd_cards(const struct opts *o);
int hqc_cmd_page(const struct opts *o);
int hqc_cmd_requests(const struct opts *o);
int hqc_cmd_baskets(const struct opts *o);

#endif
