/*
 * pm_help.h - the help texts of a command-line program with subcommands,
 * printed in one shape for both programs (the man pages are generated from
 * this output with help2man, docs/packaging.md):
 *   PROG --help            usage lines, "PROG VERSION: tagline", the
 *                          commands with their summaries, the common
 *                          options, then the program's trailer
 *   PROG --list-commands   one command name per line
 *   PROG COMMAND --help    "usage: PROG ..." lines, a blank line, the
 *                          summary, a blank line, "options:" (if any), the
 *                          common options
 * Pure output to a FILE; the tables are the caller's static data. Any thread.
 */
#ifndef PM_HELP_H
#define PM_HELP_H

#include <stddef.h>
#include <stdio.h>

struct pm_cmd_help {
	const char *name;
	const char *synopsis;    /* after "usage: PROG "; lines joined by "\n" */
	const char *summary;     /* one line, for the list and the man page */
	const char *options;     /* "  --opt ARG   text (default: ...)\n" lines; NULL = none */
};

struct pm_help {
	const char *prog;        /* "posmark" */
	const char *usage;       /* after "usage: PROG " on the first line */
	const char *tagline;     /* after "PROG VERSION: " */
	int name_width;          /* column of the summaries in the command list */
	const struct pm_cmd_help *cmds;
	size_t n_cmds;
	const char *common_opts; /* "common options:\n..." */
	const char *trailer;     /* environment, exit status: printed last by --help */
};

/* The command named name, or NULL. */
const struct pm_cmd_help *pm_help_find(const struct pm_help *h, const char *name);
/* PROG --help. Returns 0 when f is stdout, else 2 (a usage error's status). */
int pm_help_usage(const struct pm_help *h, FILE *f);
/* PROG --list-commands. */
void pm_help_list(const struct pm_help *h, FILE *f);
/* PROG COMMAND --help; an unknown name prints pm_help_usage. 0 on stdout, else 2. */
int pm_help_command(const struct pm_help *h, const char *name, FILE *f);

#endif
