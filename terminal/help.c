/*
 * help.c - every help text of bin/posmark, in one table: the top-level
 * usage, `posmark --list-commands` and `posmark COMMAND --help`. The man
 * page posmark(1) is generated from these texts (help2man), so each command
 * has the same shape:
 *   usage: posmark COMMAND ...          (one or more synopsis lines)
 *   <blank>
 *   one-line description
 *   <blank>
 *   options:
 *     --opt ARG   meaning (default: ...)
 *   <blank>
 *   common options: ...                  (the options every command takes)
 */
#include "terminal/cli.h"
#include "common/pm_help.h"
#include "common/pm_version.h"

#include <stdio.h>

#define CONF_DEFAULT PM_SYSCONFDIR "/posmark/posmark.conf"

static const struct pm_cmd_help helps[] = {
	{ "catalog", "catalog import FILE [--data DIR] [--skip-bad]",
	  "load products from CSV (header gtin,name,category,price_cents[,brand]) into the purchase log",
	  "  --skip-bad        skip rows that do not parse instead of stopping (default: stop)\n" },
	{ "checkout", "checkout [--data DIR] (--scans FILE | --scanner DEV) [--printer DEV] [--json]",
	  "run a till from a scan script or a scanner, printing receipts",
	  "  --scans FILE      a scan script (docs/scanning.md); same as --scanner script:FILE\n"
	  "  --scanner DEV     usb:VID:PID, evdev:/dev/input/eventN, serial:/dev/ttyACM0[,BAUD]\n"
	  "                    (default: devices.scanner)\n"
	  "  --printer DEV     text:FILE, escpos:FILE, usb:VID:PID, usblp:/dev/usb/lp0,\n"
	  "                    tcp:HOST[:PORT]; append ,profile=NAME (docs/printers.md),\n"
	  "                    ,timeout=MS and, for text:, ,max_kb=N,keep=N as needed\n"
	  "                    (default: devices.printer, else text:DATA/receipts.txt)\n"
	  "  --json            one JSON event per line on stdout; sale_committed only once\n"
	  "                    durable (default: text)\n" },
	{ "history", "history CARD [--data DIR] [--json]",
	  "a card's sales from the purchase log",
	  "  --json            one JSON object per sale (default: text)\n" },
	{ "card", "card show CARD [--data DIR] [--json]\n"
		  "card consent CARD --targeted yes|no [--data DIR]\n"
		  "card erase CARD [--data DIR]",
	  "a card's points, tier and consent; record consent; erase a card",
	  "  --targeted yes|no the customer's answer to targeted offers (consent; no default)\n"
	  "  --json            JSON instead of text (show; default: text)\n" },
	{ "sync", "sync [--data DIR] [--hq URL] [--once] [--json] [--result-line]",
	  "upload sales and events to HQ, apply HQ's requests, fetch the signed rule set",
	  "  --hq URL          HQ base URL (default: hq.url)\n"
	  "  --once            one round, then exit (default: repeat every hq.interval_s)\n"
	  "  --result-line     after each round, one line 'posmark-sync-result 1 rc=...' on\n"
	  "                    stdout (docs/daemon.md; what the daemon reads; default: off)\n"
	  "  --json            progress as JSON lines (default: text)\n" },
	{ "decode", "decode BARCODE...",
	  "how each scan is understood: one JSON object per scan (item, card, coupon, ...)",
	  NULL },
	{ "receipt", "receipt (--sale SEQ [--data DIR] | --escpos FILE) [--png FILE] [--text]\n"
		     "        [--profile NAME] [--printer DEV]\n"
		     "receipt --pending [--data DIR] [--printer DEV] [--profile NAME] [--list] [--json]",
	  "show (or print again) a sale's receipt or an ESC/POS capture; print receipts left waiting",
	  "  --pending         print every receipt waiting in the log (paper out, printer off),\n"
	  "                    oldest first, each leaving the queue once printed (its coupons\n"
	  "                    count as issued then); on --printer, else devices.printer, else\n"
	  "                    text:DATA/receipts.txt. Exit 0 also with nothing waiting; a\n"
	  "                    printer still failing: exit 1, nothing lost\n"
	  "  --list            with --pending: list them, print nothing (--json: as JSON)\n"
	  "  --sale SEQ        a committed sale of the purchase log (seq as in sale_committed)\n"
	  "  --escpos FILE     an ESC/POS capture (what the escpos: printer wrote) instead\n"
	  "  --png FILE        draw the receipt as the printer would (one pixel per dot)\n"
	  "  --text            print it as text on stdout (default without --png)\n"
	  "  --profile NAME    printer profile for width and fonts (docs/printers.md;\n"
	  "                    default: devices.printer_profile, else generic)\n"
	  "  --printer DEV     also print it there, marked COPY (default: not printed)\n" },
	{ "daemon", "daemon [--config FILE] [--data DIR] [--socket PATH] [--scanner DEV] [--printer DEV]",
	  "the terminal service: the local POS API on a Unix socket (docs/daemon.md)",
	  "  --socket PATH     the API socket (default: daemon.socket, /run/posmark/posmark.sock)\n"
	  "  --scanner DEV     also run a standalone till from this scanner\n"
	  "                    (default: devices.scanner, none)\n"
	  "  --printer DEV     the standalone till's printer (default: devices.printer, else\n"
	  "                    text:DATA/receipts.txt)\n"
	  "  Runs in the foreground; SIGTERM stops it keeping open sales, SIGHUP reloads the\n"
	  "  config. Under systemd (Type=notify) it sends READY=1 to $NOTIFY_SOCKET.\n" },
	{ "status", "status [--socket PATH] [--data DIR] [--json]",
	  "ask the daemon for its devices, log and unsent sales (exit 3: no daemon answers)",
	  "  --socket PATH     the daemon's socket (default: daemon.socket, /run/posmark/posmark.sock)\n"
	  "  --json            the daemon's reply as JSON (default: text)\n" },
	{ "mine", "mine (--input FILE [--input-format basket|fimi] | --data DIR |\n"
		  "      --hq-db CONNINFO [--store S] [--terminal T] [--since DAY] [--until DAY])\n"
		  "     --min-support S --min-confidence C [--max-len N] [--min-lift L]\n"
		  "     [--output FILE] [--output-format text|rules|itemsets] [--max-memory MB] [--quiet]",
	  "cross-sell association rules from baskets (docs/mining.md)",
	  "  --input FILE      baskets, one per line (default: the purchase log of --data)\n"
	  "  --input-format F  basket or fimi (default: basket)\n"
	  "  --hq-db CONNINFO  mine HQ's sales through posmark-hq baskets (default: none)\n"
	  "  --store S, --terminal T   restrict --hq-db to a store or terminal (default: all)\n"
	  "  --since DAY, --until DAY  YYYY-MM-DD, UTC, both days included (default: all)\n"
	  "  --min-support S   in (0,1] (required)\n"
	  "  --min-confidence C  in (0,1] (required)\n"
	  "  --max-len N       items per whole rule (default: 10)\n"
	  "  --min-lift L      drop rules below this lift (default: none)\n"
	  "  --output FILE     write there (default: stdout)\n"
	  "  --output-format F text, rules or itemsets (default: text)\n"
	  "  --max-memory MB   memory limit (default: 90% of available memory)\n"
	  "  --quiet           no progress lines (default: progress after 1 s on stderr)\n"
	  "rules from --data or --hq-db are the store's whole rule set (docs/mining.md):\n"
	  "  --personal-half-life DAYS  the personal campaign's decay, 0 = none (default: 90)\n"
	  "  --explore-min-customers N  customers behind an explore rule (default: 10)\n"
	  "  --explore-min-lift L       lift of an explore rule (default: 2)\n"
	  "  --explore-per-item N       explore rules per basket item (default: 10)\n"
	  "  --backfill N               store bestsellers for back-fill (default: 20)\n"
	  "  --explore-weight W         a new item's estimate against a repeat's (default: 1.6; 0: by confidence)\n"
	  "  --max-repeats N            offers per receipt for items bought before (default: 3)\n"
	  "  --cross-sell-weight PCT    basket rules' priority, % of confidence (default: 25)\n"
	  "  --holdout PCT              each campaign's control group (default: 10)\n" },
	{ "rules", "rules check FILE [--data DIR]\n"
		   "rules load FILE [--data DIR]",
	  "validate a rule set (every error with its line), or validate and install it (docs/rules.md)",
	  NULL },
	{ "explain", "explain [--card CARD] --basket GTIN[,GTIN...] [--data DIR] [--rules FILE] [--at TIME] [--all] [--json]",
	  "every candidate offer rule for a basket, whether it fired or why not, and the ranking",
	  "  --card CARD       the customer's card (default: none, an anonymous basket)\n"
	  "  --basket GTINS    the basket, comma-separated (required)\n"
	  "  --rules FILE      a rule set to try (default: the installed DATA/rules.json)\n"
	  "  --at TIME         decide as at this UTC time, e.g. a past sale's 2026-11-24T08:00:00Z (default: now)\n"
	  "  --all             also list rules the basket does not trigger (default: off)\n"
	  "  --json            JSON instead of text (default: text)\n" },
	{ "log", "log check [--data DIR] [--json]\nlog salvage [--data DIR] --output NEWDIR\nlog compact [--data DIR]",
	  "check the purchase log for damage, copy every readable record into a new log (docs/storage.md), "
	  "or rewrite it without its free pages, as an erasure does (docs/privacy.md)",
	  "  --json            check: one JSON object with the figures (default: text)\n"
	  "  --output NEWDIR   salvage: the new log's directory (new or empty); the data\n"
	  "                    directory's other files (coupon.key, rules.json) are copied\n" },
};

#define N_HELPS (sizeof(helps) / sizeof(helps[0]))

static const char common_opts[] =
	"common options:\n"
	"  --config FILE     config file (default: $POSMARK_CONFIG, else " CONF_DEFAULT "\n"
	"                    if it exists, else built-in defaults; docs/config.md)\n"
	"  --data DIR        purchase log directory (default: store.data, /var/lib/posmark)\n"
	"  -h, --help        this text\n";

static const struct pm_help help = {
	.prog = "posmark",
	.usage = "COMMAND [--config FILE] [--data DIR] [options]",
	.tagline = "loyalty and targeted offers at the till (docs/)",
	.name_width = 9,
	.cmds = helps,
	.n_cmds = N_HELPS,
	.common_opts = common_opts,
	.trailer = "environment: POSMARK_CONFIG (config file; 'none' = built-in defaults),\n"
		   "POSMARK_DEBUG=0..3 (log level), NOTIFY_SOCKET, JOURNAL_STREAM (set by systemd)\n"
		   "exit status: 0 done, 1 failed, 2 usage error, 3 (status) no daemon\n",
};

int term_help_usage(FILE *f)
{
	return pm_help_usage(&help, f);
}

void term_help_list(FILE *f)
{
	pm_help_list(&help, f);
}

int term_help_command(const char *name, FILE *f)
{
	return pm_help_command(&help, name, f);
}

void term_help_version(FILE *f)
{
	fprintf(f, "posmark %s\n", PM_VERSION);
}
