/* posmark_main.c - bin/posmark: dispatch to one command per file; the help
 * texts are help.c's. */
#include "terminal/cli.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "catalog", cmd_catalog },
	{ "checkout", cmd_checkout },
	{ "history", cmd_history },
	{ "card", cmd_card },
	{ "sync", cmd_sync },
	{ "decode", cmd_decode },
	{ "receipt", cmd_receipt },
	{ "daemon", cmd_daemon },
	{ "status", cmd_status },
	{ "mine", cmd_mine },
	{ "rules", cmd_rules },
	{ "explain", cmd_explain },
	{ "log", cmd_log },
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return term_help_usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return term_help_usage(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		term_help_version(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--list-commands")) {
		term_help_list(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			term_log_guard_install(commands[i].name);   /* a damaged log: a message, not a crash */
			/* COMMAND --help / --version answer before any config is read */
			for (int k = 2; k < argc; k++) {
				if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))
					return term_help_command(commands[i].name, stdout);
				if (!strcmp(argv[k], "--version")) {
					term_help_version(stdout);
					return 0;
				}
			}
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "posmark: unknown command '%s'\nhint: run 'posmark --help' for the commands\n",
		argv[1]);
	return 2;
}
