/* cli.c - option parsing and error reporting shared by the commands. */
#include "terminal/cli.h"
#include "common/pm_conf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int cli_fail(const char *cmd, const char *hint, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;
	snprintf(prefix, sizeof(prefix), "posmark %s", cmd);
	va_start(ap, fmt);
	int rc = pm_tell_failure(prefix, hint, fmt, ap);
	va_end(ap);
	return rc;
}

int cli_setup(int *argc, char **argv, struct cli_common *co, struct term_config *cfg)
{
	int out = 1;
	char err[600];
	const char *v;

	memset(co, 0, sizeof(*co));
	term_config_default(cfg);
	pm_log_init_from_env(PM_LOG_WARN);
	const char *given = NULL;
	for (int i = 1; i < *argc; i++) {
		if ((v = cli_opt_value(*argc, argv, &i, "--config")))
			given = v;
		else if ((v = cli_opt_value(*argc, argv, &i, "--data")))
			co->data = v;
		else if (!strcmp(argv[i], "--json"))
			co->json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			co->help = true;
		else if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "--data"))
			return cli_fail(argv[0], NULL, "option %s needs a value", argv[i]) + 1;
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	/* --config, else $POSMARK_CONFIG, else PM_SYSCONFDIR/posmark/posmark.conf if present */
	co->config = pm_conf_pick(given, "POSMARK_CONFIG", "posmark.conf", co->default_path,
				  sizeof(co->default_path));
	if (co->config && access(co->config, R_OK) && errno == ENOENT)
		return cli_fail(argv[0], given ? "check the path given to --config (create the file, see docs/config.md), "
				"or leave out --config for the default file" : "check the path in POSMARK_CONFIG (create the "
				"file, see docs/config.md), or set POSMARK_CONFIG=none for the built-in defaults",
				"cannot read config file '%s': it does not exist", co->config) + 1;
	if (co->config && term_config_load(co->config, cfg, err, sizeof(err)))
		return cli_fail(argv[0], given ? "fix the file or the line named, or leave out --config for the "
				"default file" : "fix the file or the line named, or set POSMARK_CONFIG=none for the "
				"built-in defaults", "%s", err) + 1;
	if (co->data)
		snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", co->data);
	return 0;
}

int cli_open_log(const char *cmd, const struct term_config *cfg, struct loy_db **db)
{
	char err[600];
	int rc = loy_open(cfg->data_dir, &cfg->loy, db, err, sizeof(err));
	if (rc == PM_OK)
		return 0;
	/* loy_open says "is damaged" for a damaged log, else (PM_ECORRUPT) a foreign LMDB */
	cli_fail(cmd, rc == PM_EFULL ? "free disk space or raise loyalty.map_size_max_mb, then retry"
		 : rc == PM_ECORRUPT && strstr(err, " is damaged") ? LOY_DAMAGED_HINT
		 : rc == PM_ECORRUPT ? "use --data with the terminal's own log directory"
		 : "check --data DIR (or store.data in the config) and its permissions",
		 "%s (%s)", err, pm_strerror(rc));
	return rc;
}

int cli_open_log_ro(const char *cmd, const struct term_config *cfg, struct loy_db **db)
{
	char path[4200];
	struct stat st;
	/* Read-only commands never create a log: a wrong --data is said, not filled with an empty one. */
	if (stat(cfg->data_dir, &st) || !S_ISDIR(st.st_mode)) {
		cli_fail(cmd, "check --data DIR (or store.data in the config): it must name the terminal's existing "
			 "log directory", "purchase log directory '%s' does not exist", cfg->data_dir);
		return PM_ENOENT;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", cfg->data_dir);
	if (stat(path, &st)) {
		cli_fail(cmd, "check --data DIR (or store.data in the config): a log is created by `posmark daemon` "
			 "or `posmark checkout`", "'%s' holds no purchase log (no data.mdb)", cfg->data_dir);
		return PM_ENOENT;
	}
	return cli_open_log(cmd, cfg, db);
}

const char *term_money(int64_t cents, char *buf, size_t len)
{
	uint64_t a = cents < 0 ? (uint64_t)(-(cents + 1)) + 1 : (uint64_t)cents;
	snprintf(buf, len, "%s%llu.%02llu", cents < 0 ? "-" : "", (unsigned long long)(a / 100),
		 (unsigned long long)(a % 100));
	return buf;
}
