/* pm_conf.c - which configuration file to read (pm_conf.h). */
#include "common/pm_conf.h"
#include "common/pm_version.h"

#include "common/pm_err.h"

#include <ctype.h>
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

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int pm_conf_read(const char *path, pm_conf_cb cb, void *ctx, char *err, size_t errlen)
{
	char line[4096], section[32] = "", msg[400];
	unsigned lineno = 0;
	int rc = PM_OK;
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot read config file '%s': %s", path, strerror(e));
		return pm_from_errno(e);
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;
		lineno++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] || close - s - 1 >= (long)sizeof(section)) {
				snprintf(err, errlen, "%s:%u: malformed section header; write [name]", path, lineno);
				rc = PM_EINVAL;
				break;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		if (!(eq = strchr(s, '='))) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			rc = PM_EINVAL;
			break;
		}
		*eq = '\0';
		msg[0] = '\0';
		if ((rc = cb(ctx, section, trim(s), trim(eq + 1), msg, sizeof(msg))))
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
	}
	fclose(f);
	return rc;
}
