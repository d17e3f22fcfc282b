/*
 * pm_conf.h - which configuration file a program reads (docs/config.md,
 * docs/hq.md). One rule for both programs:
 *   1. the file given on the command line (--config FILE); "" = none;
 *   2. else the environment variable (POSMARK_CONFIG, POSMARK_HQ_CONFIG):
 *      a path, or "" or "none" for no file (built-in defaults; the test
 *      runner exports POSMARK_CONFIG=none so /etc never changes a result);
 *   3. else PM_SYSCONFDIR "/posmark/" NAME, if that file exists. An absent
 *      default file means the built-in defaults; one that exists but cannot
 *      be read or is invalid is the same error as an explicit --config.
 * libc only.
 */
#ifndef PM_CONF_H
#define PM_CONF_H

#include <stddef.h>

/*
 * Pick the file. cli: the --config value or NULL; env_var: the variable's
 * name; name: the default file's name under PM_SYSCONFDIR/posmark.
 * Returns the path to read (cli, the variable's value, or buf), or NULL
 * for the built-in defaults. buf (len bytes) holds the default path.
 */
const char *pm_conf_pick(const char *cli, const char *env_var, const char *name, char *buf,
			 size_t len);

/*
 * Read an INI file: "[section]" headers, "key = value" lines (spaces
 * around both trimmed), "#" and ";" comment lines, blank lines. cb gets
 * each setting with the section it is in ("" before any header); it returns
 * 0, or a negative pm_err with a reason in msg. The first failure stops the
 * read and err gets "PATH:LINE: reason" (or "cannot read config file
 * 'PATH': ..."). Returns PM_OK, the open's pm_err, PM_EINVAL for a
 * malformed line or section header, or cb's code.
 */
typedef int (*pm_conf_cb)(void *ctx, const char *section, const char *key, const char *value,
			  char *msg, size_t msglen);
int pm_conf_read(const char *path, pm_conf_cb cb, void *ctx, char *err, size_t errlen);

#endif
