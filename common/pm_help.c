/* pm_help.c - help texts of a program with subcommands (pm_help.h). */
#include "common/pm_help.h"
#include "common/pm_version.h"

#include <string.h>

const struct pm_cmd_help *pm_help_find(const struct pm_help *h, const char *name)
{
	for (size_t i = 0; i < h->n_cmds; i++)
		if (!strcmp(h->cmds[i].name, name))
			return &h->cmds[i];
	return NULL;
}

int pm_help_usage(const struct pm_help *h, FILE *f)
{
	fprintf(f, "usage: %s %s\n       %s --version | --list-commands | --help\n\n%s %s: %s\n\ncommands:\n",
		h->prog, h->usage, h->prog, h->prog, PM_VERSION, h->tagline);
	for (size_t i = 0; i < h->n_cmds; i++)
		fprintf(f, "  %-*s %s\n", h->name_width, h->cmds[i].name, h->cmds[i].summary);
	fprintf(f, "\n%s\n'%s COMMAND --help' lists the command's options.\n%s", h->common_opts, h->prog,
		h->trailer);
	return f == stdout ? 0 : 2;
}

void pm_help_list(const struct pm_help *h, FILE *f)
{
	for (size_t i = 0; i < h->n_cmds; i++)
		fprintf(f, "%s\n", h->cmds[i].name);
}

int pm_help_command(const struct pm_help *h, const char *name, FILE *f)
{
	const struct pm_cmd_help *c = pm_help_find(h, name);
	if (!c)
		return pm_help_usage(h, f);
	const char *syn = c->synopsis, *lead = "usage: ";
	while (*syn) {
		size_t n = strcspn(syn, "\n");
		fprintf(f, "%s%s %.*s\n", lead, h->prog, (int)n, syn);
		lead = "       ";
		syn += n + (syn[n] == '\n');
	}
	fprintf(f, "\n%s\n\n", c->summary);
	if (c->options)
		fprintf(f, "options:\n%s\n", c->options);
	fputs(h->common_opts, f);
	return f == stdout ? 0 : 2;
}
