/*
 * cmd_log.c - a damaged purchase log (docs/storage.md, "Damaged logs"):
 * `posmark log check`, the one message every command gives for a damaged
 * log (cli_log_failed), and the process-wide guard that turns LMDB's
 * assertion on a damaged page, or a fault inside the log's map, into that
 * message and exit status 1 instead of a crash (term_log_guard_install).
 */
#include "terminal/cli.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *g_cmd = "log";
/* The sync child's result line for a damaged log (term_log_guard_result_line). */
static char g_result_line[128];
static size_t g_result_len;

static void write_result_line(void)
{
	if (g_result_len) {
		ssize_t w = write(STDOUT_FILENO, g_result_line, g_result_len);
		(void)w;
	}
}

void term_log_guard_result_line(void)
{
	struct term_sync_result r = { PM_ECORRUPT, 0, 0, 0, 0 };
	fflush(stdout);
	if (term_sync_result_format(&r, g_result_line, sizeof(g_result_line)) == PM_OK)
		g_result_len = strlen(g_result_line);
}

/* LMDB asserted on a page: say the log is damaged and exit 1 (LMDB would abort). */
static void on_damage(const char *dir, const char *what)
{
	cli_fail(g_cmd, LOY_DAMAGED_HINT, "purchase log '%s/data.mdb' is damaged: LMDB found an impossible "
		 "page (%s)", dir, what);
	fflush(stdout);
	write_result_line();
	_exit(1);
}

/* SIGSEGV/SIGBUS: inside a log's map it is the log's damage, else a bug. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	size_t len;
	(void)sig;
	(void)uc;
	const char *msg = loy_fault_in_log(si->si_addr, &len);
	if (msg) {
		ssize_t w = write(STDERR_FILENO, msg, len);
		(void)w;
		write_result_line();
		_exit(1);
	}
	/* SA_RESETHAND put the default action back: returning faults again and dumps core. */
}

void term_log_guard_install(const char *cmd)
{
	g_cmd = cmd;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	loy_set_damage_handler(on_damage);
}

int cli_log_failed(const char *cmd, const struct term_config *cfg, int rc, const char *what,
		   const char *hint)
{
	if (rc == PM_ECORRUPT)
		return cli_fail(cmd, LOY_DAMAGED_HINT, "purchase log '%s/data.mdb' is damaged: %s failed (%s)",
				cfg->data_dir, what, pm_errname(rc));
	return cli_fail(cmd, hint, "%s failed: %s", what, pm_strerror(rc));
}

int cli_open_log_full(const char *cmd, const struct term_config *cfg, struct loy_db **db)
{
	char err[700];
	int rc = loy_check_pages(cfg->data_dir, NULL, err, sizeof(err));
	if (rc == PM_ECORRUPT) {
		cli_fail(cmd, LOY_DAMAGED_HINT, "%s", err);
		return rc;
	}
	if (rc) {
		cli_fail(cmd, "free memory and retry", "%s", err);
		return rc;
	}
	return cli_open_log(cmd, cfg, db);
}

static int log_check(const struct cli_common *co, const struct term_config *cfg)
{
	struct loy_check_report rep;
	char err[700];
	memset(&rep, 0, sizeof(rep));
	int rc = loy_check(cfg->data_dir, &cfg->loy, &rep, err, sizeof(err));
	if (rc == PM_ENOENT)
		return cli_fail("log", "give the terminal's log directory with --data DIR (or store.data)", "%s",
				err);
	if (rc == PM_ECORRUPT)
		return cli_fail("log", LOY_DAMAGED_HINT, "%s", err);
	if (rc)
		return cli_fail("log", "check --data DIR and its permissions, then rerun", "%s (%s)", err,
				pm_strerror(rc));
	if (co->json) {
		char path[1100];
		snprintf(path, sizeof(path), "%s/data.mdb", cfg->data_dir);
		json_t *o = json_pack("{s:b, s:s, s:I, s:i, s:I, s:I, s:I, s:I, s:b}", "ok", 1, "data", path,
				      "txnid", (json_int_t)rep.txnid, "page_size", (int)rep.page_size,
				      "file_pages", (json_int_t)rep.file_pages, "last_page", (json_int_t)rep.last_page,
				      "pages_read", (json_int_t)rep.pages, "records", (json_int_t)rep.records,
				      "meta_repaired", rep.meta_repaired);
		char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (txt)
			puts(txt);
		free(txt);
		json_decref(o);
	}
	else
		printf("purchase log '%s/data.mdb' is whole: transaction %" PRIu64 ", %" PRIu64 " tree pages and "
		       "%" PRIu64 " records read, %" PRIu64 " pages in the file%s\n", cfg->data_dir, rep.txnid,
		       rep.pages, rep.records, rep.file_pages,
		       rep.meta_repaired ? " (a damaged meta page was rewritten from the other)" : "");
	return 0;
}

int cmd_log(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	int rc = cli_setup(&argc, argv, &co, &cfg);
	if (rc)
		return rc;
	if (co.help || argc != 2 || strcmp(argv[1], "check")) {
		term_help_command("log", co.help ? stdout : stderr);
		return co.help ? 0 : 2;
	}
	return log_check(&co, &cfg);
}
