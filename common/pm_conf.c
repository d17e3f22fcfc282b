/* pm_conf.c - which configuration file to read (pm_conf.h). */
#include "common/pm_conf.h"
#include "common/pm_version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *pm_conf_pick(const char *cli, const char *env_var, const char *name, char *buf,
			 size_t len)
{
	const char *e;
	struct stat st;

	if (cli)
		return *cli ? cli : NULL;
	if ((e = getenv(env_var)))
		return (*e && strcmp(e, "none")) ? e : NULL;
	if ((size_t)snprintf(buf, len, "%s/posmark/%s", PM_SYSCONFDIR, name) >= len)
		return NULL;
	/* Absent: the built-in defaults. Anything else (even EACCES) is read,
	 * so that the reader reports it like an explicit --config. */
	if (stat(buf, &st) && (errno == ENOENT || errno == ENOTDIR))
		return NULL;
	return buf;
}
