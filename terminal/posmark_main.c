/* posmark_main.c - bin/posmark: dispatch to one command per file. */
#include "terminal/cli.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "catalog", cmd_catalog, "catalog import FILE --data DIR   load products (CSV)" },
	{ "checkout", cmd_checkout, "checkout --data DIR --scans FILE [--json]   run a till" },
	{ "history", cmd_history, "history CARD --data DIR [--json]   a card's sales" },
	{ "card", cmd_card, "card show|consent|erase CARD --data DIR   card data and consent" },
	{ "sync", cmd_sync, "sync --data DIR [--hq URL] [--once]   upload to HQ, fetch rules" },
	{ "decode", cmd_decode, "decode BARCODE...   how each scan is understood" },
	{ "receipt", cmd_receipt, "receipt --sale SEQ --data DIR [--png FILE] [--text]   show a receipt" },
	{ "daemon", cmd_daemon, "daemon [--socket PATH] [--scanner DEV]   the terminal service (POS API)" },
	{ "status", cmd_status, "status [--socket PATH] [--json]   devices, log, unsent sales" },
	{ "mine", cmd_mine, "mine --input FILE --min-support S --min-confidence C   cross-sell rules from baskets" },
	{ "rules", cmd_rules, "rules check|load FILE [--data DIR]   validate / install a rule set" },
	{ "explain", cmd_explain, "explain --card CARD --basket GTIN,... --data DIR   why these offers" },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: posmark COMMAND [--config FILE] [--data DIR] [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\n'posmark COMMAND --help' tells more; docs/ has the contracts.\n");
	return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("posmark 0.1.0 (purchase log format v1)\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "posmark: unknown command '%s'\nhint: run 'posmark --help' for the commands\n",
		argv[1]);
	return 2;
}
