/*
 * hq_help.c - posmark-hq's help texts (struct pm_help, common/pm_help.h),
 * kept apart from hq_main.c's command dispatch as terminal/help.c is for
 * posmark.
 */
#include "hq/hq_int.h"
#include "common/pm_help.h"

#include <stddef.h>

/*
 * Every help text of posmark-hq, in one table (the man page posmark-hq(8) is
 * generated from it with help2man): `posmark-hq --help` lists the commands,
 * `posmark-hq --list-commands` prints one name per line, and
 * `posmark-hq COMMAND --help` prints "usage: posmark-hq ..." lines, a blank
 * line, the one-line summary, a blank line, "options:" with each option and
 * its default, then the common options.
 */

#define HQ_CONF_DEFAULT PM_SYSCONFDIR "/posmark/hq.conf"
#define DB_OPT "  --db CONNINFO        libpq connection string (default: $POSMARK_HQ_DB, else db in\n" \
	       "                       hq.conf; required)\n"

static const struct pm_cmd_help helps[] = {
	{ "serve", "serve [--db CONNINFO] [--listen HOST:PORT] [--workers N] [--tls-cert FILE --tls-key FILE] [--key FILE]",
	  "receive uploads, serve the stores' HTTP API and the web console at /console/ (docs/hq.md)",
	  DB_OPT
	  "  --listen HOST:PORT   IPv4 address and port to listen on (default: listen in\n"
	  "                       hq.conf; required)\n"
	  "  --workers N          PostgreSQL connections in the pool, 1..32 (default: workers in\n"
	  "                       hq.conf, else 4)\n"
	  "  --tls-cert FILE      serve HTTPS with this PEM certificate (chain) (default: tls_cert\n"
	  "                       in hq.conf, else plain HTTP; docs/security.md)\n"
	  "  --tls-key FILE       the certificate's PEM private key (default: tls_key in hq.conf)\n"
	  "  --key FILE           the rule-signing key the web console publishes with (default:\n"
	  "                       rules_key in hq.conf, else the console cannot publish)\n"
	  "  --admin-socket PATH  also answer `card CARD` on this local Unix socket, mode 0660\n"
	  "                       (default: admin_socket in hq.conf, else none; docs/hq.md)\n"
	  "  hq.conf also takes max_connections (default 1000) and per_ip_connections (32).\n"
	  "  Runs in the foreground until SIGTERM; under systemd (Type=notify) it sends\n"
	  "  READY=1 to $NOTIFY_SOCKET once listening.\n" },
	{ "migrate", "migrate [--db CONNINFO]", "create or upgrade the schema (every command does it first)",
	  DB_OPT },
	{ "store", "store add STORE [--db CONNINFO] [--credential-file F]",
	  "register a store; prints its credential (for hq.store_credential) unless --credential-file gives it",
	  DB_OPT
	  "  --credential-file F  take the credential from the first line of F (default: a new\n"
	  "                       random one, printed once)\n" },
	{ "history", "history CARD [--db CONNINFO] --json", "a card's sales across all stores, as JSON lines",
	  DB_OPT
	  "  --json               JSON lines, the shape of 'posmark history --json' (the only format)\n" },
	{ "report", "report sales-by-day|campaigns|negative-balances|coupons-redeemed-twice|returns-over-sold|points-liability [--db CONNINFO]",
	  "sales per store and day, campaigns, negative balances, coupons redeemed twice or points liability, as JSON lines",
	  DB_OPT },
	{ "page", "page overview|liability|tiers|campaigns|segments|cohorts|stores [--db CONNINFO] [--since-us US]\n"
		  "     [--until-us US] [--store S] [--campaign C] [--window-days N] [--limit N]",
	  "a console page's data as one JSON object, from the rollup tables (docs/console.md, Page data)",
	  DB_OPT
	  "  --since-us, --until-us  the period, UTC microseconds (default: the last 90 days;\n"
	  "                       cohorts: 365)\n"
	  "  --store S            one store (default: the chain)\n"
	  "  --campaign C         campaigns: one campaign\n"
	  "  --window-days N      campaigns: conversion window after the first offer (default 14, max 90)\n"
	  "  --limit N            segments: rows of the lapsed and at-risk lists (default 100)\n" },
	{ "card", "card CARD [--db CONNINFO] [--json]\n"
		  "card ref CARD [--db CONNINFO]\n"
		  "card adjust CARD POINTS --reason TEXT [--db CONNINFO]",
	  "a card's chain account (points, tier, consent, ledger), its ref (the pseudonym the tables use), or an"
	  " adjustment with a reason; CARD is the number or the ref",
	  DB_OPT
	  "  --json               one JSON object (default: text for people)\n"
	  "  --admin-socket PATH  ask the running serve there first (default: admin_socket in\n"
	  "                       hq.conf, else none), else the database directly\n"
	  "  --reason TEXT        why the points change (required for adjust; kept in the ledger)\n" },
	{ "cards", "cards import FILE [--db CONNINFO]",
	  "import legacy balances from CSV card,points[,tier]; the same file twice imports once",
	  DB_OPT },
	{ "erase", "erase CARD [--db CONNINFO]", "erase a card at HQ; the stores that know it erase it at their next sync",
	  DB_OPT },
	{ "consent", "consent CARD --targeted yes|no [--db CONNINFO]",
	  "record a customer's consent given to HQ; the stores learn it at their next sync",
	  DB_OPT
	  "  --targeted yes|no    the customer's answer (required)\n" },
	{ "keys", "keys rotate [--db CONNINFO] [--card-key FILE]",
	  "a new card key: every card re-keyed in one transaction, the key file replaced; old WAL and dead rows"
	  " can no longer be read (docs/privacy.md)",
	  DB_OPT },
	{ "requests", "requests list|approve ID|reject ID [--db CONNINFO]",
	  "the review queue: stores' erasure and consent events HQ did not apply by itself",
	  DB_OPT
	  "  list                 pending requests, one JSON object per line\n"
	  "  approve ID           apply it as if the store had known the card\n"
	  "  reject ID            drop it; nothing changes\n" },
	{ "rules", "rules keygen --key FILE\n"
		   "rules publish FILE [--db CONNINFO] --key FILE",
	  "make the rule-signing key (prints the public key), or check, sign and serve a rule set",
	  DB_OPT
	  "  --key FILE           the Ed25519 signing key; keygen creates it, mode 0600, never\n"
	  "                       overwriting (default: rules_key in hq.conf; required)\n" },
	{ "user", "user add NAME --role analyst|operator [--password-file F] [--db CONNINFO]\n"
		  "user list [--db CONNINFO]\n"
		  "user remove NAME [--db CONNINFO]\n"
		  "user passwd NAME [--password-file F] [--db CONNINFO]",
	  "the web console's users: add, list, remove, change a password (docs/console.md)",
	  DB_OPT
	  "  --role ROLE          analyst (reads every page, card numbers masked) or operator\n"
	  "                       (numbers whole; approves requests, publishes rule sets,\n"
	  "                       reads the audit log); required for add\n"
	  "  --password-file F    the password is F's first line (default: one line from\n"
	  "                       stdin; never on the command line); at least 10 characters\n"
	  "  The console is at /console/ on the serve's address; passwd and remove end the\n"
	  "  user's sessions.\n" },
	{ "baskets", "baskets [--db CONNINFO] [--store S] [--terminal T] [--since-us US] [--until-us US] [--with-cards] [--quiet]",
	  "HQ's sales as the miner's baskets on stdout (what 'posmark mine --hq-db' reads)",
	  DB_OPT
	  "  --store S            only this store's sales (default: all)\n"
	  "  --terminal T         only this terminal's sales (default: all)\n"
	  "  --since-us US        from this time, UTC microseconds since 1970 (default: the first)\n"
	  "  --until-us US        until this time (default: the last)\n"
	  "  --quiet              no note about sales without items (default: noted on stderr)\n" },
};
#define N_HELPS (sizeof(helps) / sizeof(helps[0]))

static const char common_opts[] =
	"common options:\n"
	"  --config FILE        hq.conf to read (default: $POSMARK_HQ_CONFIG, else\n"
	"                       " HQ_CONF_DEFAULT " if it exists; docs/hq.md)\n"
	"  --card-key FILE      the card key file (default: $POSMARK_HQ_CARD_KEY, else\n"
	"                       card_key_file in hq.conf, else hq-card.key beside an hq.conf\n"
	"                       named by --config or $POSMARK_HQ_CONFIG, else in the state\n"
	"                       directory: $STATE_DIRECTORY, else /var/lib/posmark-hq (a key\n"
	"                       at " PM_SYSCONFDIR "/posmark/hq-card.key stays in use); made 0600\n"
	"                       at first use)\n"
	"  -h, --help           this text\n"
	"  --version            print the version\n";

const struct pm_help hq_help = {
	.prog = "posmark-hq",
	.usage = "COMMAND [--config FILE] [--db CONNINFO] [options]",
	.tagline = "HQ's receiver, reports, erasure and rule sets (docs/hq.md)",
	.name_width = 8,
	.cmds = helps,
	.n_cmds = N_HELPS,
	.common_opts = common_opts,
	.trailer = "environment: POSMARK_HQ_DB (the --db default), POSMARK_HQ_CONFIG (hq.conf;\n"
		   "'none' = no file), POSMARK_HQ_CARD_KEY (--card-key), POSMARK_DEBUG=0..3 (log level),\n"
		   "NOTIFY_SOCKET\n"
		   "exit status: 0 done, 1 failed, 2 usage error (baskets: docs/mining.md)\n",
};
