/*
 * term.h - terminal/ internals: config, commands, the till, receipts.
 * config.c: the config file; cli.c: shared option parsing and messages;
 * till.c: the sale state machine; receipt.c: receipt layout;
 * cmd_*.c: one file per command.
 */
#ifndef TERM_H
#define TERM_H

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
	struct loy_config loy;     /* [store] terminal/currency, [loyalty] ... */
	struct scan_config scan;   /* [cards] ... */
};

void term_config_default(struct term_config *cfg);
/* Read an INI file over the defaults; one-line error in err on failure. */
int term_config_load(const char *path, struct term_config *cfg, char *err, size_t errlen);
/* Apply one "section.key=value" setting (also used by tests). */
int term_config_set(struct term_config *cfg, const char *section, const char *key,
		    const char *value, char *err, size_t errlen);

/* Common CLI options: --config, --data, --json, --help. */
struct cli_common {
	const char *config;
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
/* Open the purchase log named by cfg->data_dir with a person-readable error. */
int cli_open_log(const char *cmd, const struct term_config *cfg, struct loy_db **db);
/* Value of an option "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name);
/* "12.34" (negative "-12.34") into buf. */
const char *term_money(int64_t cents, char *buf, size_t len);

/* ---- the till --------------------------------------------------------- */

#define TILL_MAX_LINES 500
struct till_line {
	struct loy_item item;
	char name[64];
};

struct till {
	struct loy_db *db;
	const struct term_config *cfg;
	struct prn_dev *printer;   /* may be NULL: no receipt */
	FILE *events;              /* JSON event lines, or NULL */
	char ext_base[40];         /* idempotency key prefix of this run's sales */
	unsigned long sale_ordinal;/* sales closed so far (committed, skipped) */
	/* the open sale */
	char pos_sale_id[64];      /* the POS app's sale id (daemon lanes): the idempotency key */
	int64_t clock_us;          /* #clock (simulation): the sale time to stamp; 0 = real time */
	bool open;
	int pending_qty;
	char card[LOY_CARD_MAX + 1];
	size_t n_lines;
	struct till_line lines[TILL_MAX_LINES];
	/* counters for the summary */
	unsigned long committed, skipped, refused_scans, cancelled;
	/* the last receipt, kept for reprint and for a printer that was not ready */
	struct prn_doc last_receipt;
	bool receipt_pending;      /* receipts wait in the queue below */
	/* receipts not printed yet (printer not ready), oldest first (docs/till.md) */
	struct prn_doc *queue;
	uint64_t *queue_seq;       /* the sale of each queued receipt (0 = a reprint) */
	size_t queue_n;
	int64_t queue_next_try_us; /* no retry before this (a dead printer must not slow the lane) */
	int queue_told;            /* printer state last told to the cashier, -1 = none */
};

int till_init(struct till *t, struct loy_db *db, const struct term_config *cfg,
	      struct prn_dev *printer, FILE *events, const char *ext_base);
void till_release(struct till *t);
/*
 * Print the queued receipts, oldest first, if the printer is ready now
 * (force) or the retry interval has passed. A receipt leaves the queue only
 * once printed; the cashier is told in words why they wait. Returns how many
 * remain queued.
 */
size_t till_retry_receipt(struct till *t, bool force);
/* Queue a copy of the last receipt marked COPY and print it (cashier key #reprint). */
int till_reprint_receipt(struct till *t);
/*
 * Feed one raw scan or cashier key. Returns PM_OK when handled (a refused scan
 * is handled: it is reported), or a negative code when the till cannot go on
 * (log unusable, disk full): the open sale is kept in *t.
 */
int till_feed(struct till *t, const struct scan_raw *raw);
/*
 * Closing a sale is three steps so the daemon can group-commit several
 * lanes' sales in one transaction: prepare (validate, build the record;
 * a refusal is reported and the sale stays open), commit (loy_sale_commit
 * or a group), finish (events, offers, receipt; or keep the sale open when
 * the commit failed).
 */
#define TILL_MAX_REDEEMED 8
struct till_pending {
	struct loy_sale sale;
	struct loy_item items[TILL_MAX_LINES];
	struct loy_redemption redeemed[TILL_MAX_REDEEMED];
};
int till_sale_prepare(struct till *t, int tender_kind, int64_t amount, struct till_pending *p);
int till_sale_finish(struct till *t, struct till_pending *p, int rc, const struct loy_commit_result *res);
/* Emit a JSON event line (takes ownership of obj, a json_t *). */
void till_emit(struct till *t, void *obj);

/* Lay out a committed sale's receipt. */
int receipt_build(struct prn_doc *doc, const struct term_config *cfg, struct loy_db *db,
		  const struct loy_sale *sale, const struct loy_commit_result *res,
		  const struct till_line *lines, size_t n_lines);

/* Commands: argv[0] is the command name. Return the exit status. */
int cmd_catalog(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_card(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_receipt(int argc, char **argv);

#endif
