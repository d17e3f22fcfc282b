/*
 * cli.h - what the commands of bin/posmark share: the config file
 * (config.c, docs/config.md), option parsing and error messages (cli.c),
 * and the commands themselves (cmd_*.c, one file each; posmark_main.c
 * dispatches). Readers: every cmd_*.c, the daemon (config, cli_fail).
 *
 * Errors a command prints follow STYLE.md: one line saying what was wrong
 * ("posmark CMD: ..."), then a "hint:" line saying what to do; the exit
 * status is 0, 1 (failed) or 2 (usage).
 * Threads: none of this is called from more than one thread.
 */
#ifndef TERM_CLI_H
#define TERM_CLI_H

#include "drivers/drivers.h"
#include "loyalty/loyalty.h"

#include <stdbool.h>
#include <stdio.h>

struct term_config {
	char path[1024];           /* config file read, "" = built-in defaults */
	char data_dir[1024];       /* [store] data */
	char store_id[32];         /* [store] id */
	char store_name[64];       /* [store] name */
	char store_address[128];   /* [store] address */
	char footer[128];          /* [store] receipt_footer */
	char scanner[256];         /* [devices] scanner */
	char printer[256];         /* [devices] printer; "" = text:<data>/receipts.txt */
	int receipt_columns;       /* [devices] receipt_columns: 42 or 48 */
	char printer_profile[48];  /* [devices] printer_profile: docs/printers.md; "" = generic */
	char socket_path[108];     /* [daemon] socket */
	char socket_group[32];     /* [daemon] socket_group: the POS user's group ("" = leave) */
	int idle_timeout_s;        /* [daemon] idle_timeout_s: close a client idle this long (default 300) */
	struct loy_config loy;     /* [store] terminal/currency, [loyalty] ... */
	struct scan_config scan;   /* [cards] ... */
	struct {                   /* [hq]: upload to HQ (docs/config.md, docs/hostsync.md) */
		char url[512];             /* hq.url; "" = no sync */
		char store_credential[160];/* hq.store_credential; never logged */
		char rules_public_key[80]; /* hq.rules_public_key (hex Ed25519) */
		char ca_file[512];         /* hq.ca_file; "" = system CAs */
		bool tls_verify;           /* hq.tls_verify (default yes) */
		int batch_max_sales;       /* hq.batch_max_sales (default 20000) */
		int max_attempts;          /* hq.max_attempts (default 8) */
		int backoff_initial_ms;    /* hq.backoff_initial_ms (default 200) */
		int backoff_max_ms;        /* hq.backoff_max_ms (default 30000) */
		int interval_s;            /* hq.interval_s (default 60) */
		int timeout_s;             /* hq.timeout_s (default 60) */
		int lookup_budget_ms;      /* hq.lookup_budget_ms (default 300; 0 = never ask HQ at the till) */
	} hq;
	bool offers_enabled;       /* [offers] enabled (default yes) */
	int offers_max;            /* [offers] max_per_receipt, 0 = the rule set's limit */
	long offers_max_rules;     /* [offers] max_rules, 0 = the engine's default */
	char offers_coupon_key[160]; /* [offers] coupon_key; "" = DATA/coupon.key (created) */
};

/* Fill cfg with the documented defaults (docs/config.md). */
void term_config_default(struct term_config *cfg);
/* Read an INI file over the defaults. PM_OK; PM_ENOENT, PM_EINVAL with a
 * one-line error naming the file, line and key in err. */
int term_config_load(const char *path, struct term_config *cfg, char *err, size_t errlen);
/* Apply one "section.key=value" setting (also used by tests). */
int term_config_set(struct term_config *cfg, const char *section, const char *key,
		    const char *value, char *err, size_t errlen);

/* Common CLI options: --config, --data, --json, --help. */
struct cli_common {
	const char *config;        /* the file read (docs/config.md says which); NULL = defaults */
	char default_path[1024];   /* holds PM_SYSCONFDIR/posmark/posmark.conf when that is read */
	const char *data;
	bool json;
	bool help;
};
/*
 * Parse argv: common options are consumed, others are left for the command
 * (compacted into argv, *argc updated). Loads the config. Returns 0, or 2
 * after printing an error (the exit status to use).
 */
int cli_setup(int *argc, char **argv, struct cli_common *co, struct term_config *cfg);
/* Print "posmark CMD: WHAT" and an optional hint line; returns exit status 1. */
int cli_fail(const char *cmd, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Open the purchase log named by cfg->data_dir with a person-readable error.
 * Returns 0, or the pm_err code (negative) after printing it. */
int cli_open_log(const char *cmd, const struct term_config *cfg, struct loy_db **db);
/* The same for read-only commands: a missing directory or log is an error (exit 1), never created. */
int cli_open_log_ro(const char *cmd, const struct term_config *cfg, struct loy_db **db);
/* The same after reading every page of the log (loy_check_pages): for the
 * programs that write for hours (daemon, checkout). cmd_log.c. */
int cli_open_log_full(const char *cmd, const struct term_config *cfg, struct loy_db **db);
/* Value of an option "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name);
/* "12.34" (negative "-12.34") into buf. */
const char *term_money(int64_t cents, char *buf, size_t len);

/*
 * The result line of `posmark sync --result-line` (cmd_sync.c owns the
 * format; the daemon reads it from its sync child; docs/daemon.md):
 *   posmark-sync-result 1 rc=R sales=N events=N batches=N rules=N
 * one line, fields in this order, single spaces; R is 0 or a negative
 * pm_err; rules is how many rule sets were installed (0 or 1).
 */
#define TERM_SYNC_RESULT_TAG "posmark-sync-result"
#define TERM_SYNC_RESULT_VERSION 1
struct term_sync_result {
	int rc;
	unsigned long long sales, events, batches;
	int rules;
};
/* The line, with its newline, into buf. PM_OK or PM_EINVAL (too small). */
int term_sync_result_format(const struct term_sync_result *r, char *buf, size_t len);
/*
 * Parse one line (without or with its newline), strictly: PM_OK with *out
 * filled; PM_EVERSION (another version: upgrade the daemon with posmark);
 * PM_EPROTO (not a result line, a field missing, out of order or malformed).
 */
int term_sync_result_parse(const char *line, size_t len, struct term_sync_result *out);

/*
 * Help texts, all in help.c (the man page is generated from them):
 * term_help_usage: the top-level usage with every command (0 on stdout, 2
 * elsewhere); term_help_list: one command name per line; term_help_command:
 * "usage: posmark ..." lines, the one-line summary, the options with their
 * defaults, the common options (0 on stdout, 2 elsewhere); term_help_version:
 * "posmark VERSION".
 */
int term_help_usage(FILE *f);
void term_help_list(FILE *f);
int term_help_command(const char *name, FILE *f);
void term_help_version(FILE *f);

/* Commands: argv[0] is the command name. Return the exit status. */
int cmd_catalog(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_card(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_mine(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_log(int argc, char **argv);

/* Damaged logs (cmd_log.c, docs/storage.md): print a failed log read of
 * `what` (PM_ECORRUPT: "purchase log DIR/data.mdb is damaged" with its hint;
 * else pm_strerror and `hint`); returns 1. term_log_guard_install, once at
 * start: an LMDB assertion or a fault inside the log's map prints that
 * the log is damaged and exits 1 instead of crashing. */
int cli_log_failed(const char *cmd, const struct term_config *cfg, int rc, const char *what,
		   const char *hint);
void term_log_guard_install(const char *cmd);
/* posmark sync --result-line: a damaged log met by the guard also prints
 * the result line with rc PM_ECORRUPT, so the daemon never reads it as HQ's
 * fault. */
void term_log_guard_result_line(void);

#endif
