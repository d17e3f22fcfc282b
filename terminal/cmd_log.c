/*
 * cmd_log.c - a damaged purchase log (docs/storage.md, "Damaged logs"):
 * `posmark log check`, the one message every command gives for a damaged
 * log (cli_log_failed), and the process-wide guard that turns LMDB's
 * assertion on a damaged page, or a fault inside the log's map, into that
 * message and exit status 1 instead of a crash (term_log_guard_install).
 */
#include "terminal/cli.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_log.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* The data directory's other files (coupon.key, rules.json, ...) go with the log. */
static int copy_others(const char *from, const char *to)
{
	DIR *dir = opendir(from);
	struct dirent *e;
	int copied = 0;
	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		char src[2200], dst[2200];
		struct stat st;
		char *buf;
		size_t len;
		if (!strcmp(e->d_name, "data.mdb") || !strcmp(e->d_name, "lock.mdb") || e->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		if (stat(src, &st) || !S_ISREG(st.st_mode) || access(dst, F_OK) == 0)
			continue;
		if (pm_file_read(src, 256u << 20, &buf, &len) == PM_OK) {
			if (pm_file_replace(dst, buf, len, st.st_mode & 0777) == PM_OK)
				copied++;
			else
				pm_warn("could not copy %s to %s: %s", src, dst, strerror(errno));
			free(buf);
		}
	}
	closedir(dir);
	return copied;
}

static int log_salvage(const struct term_config *cfg, const char *out)
{
	struct loy_salvage_report rep;
	char err[700];
	int rc = loy_salvage(cfg->data_dir, out, &rep, err, sizeof(err));
	if (rc == PM_EEXIST)
		return cli_fail("log", "give --output a new or empty directory", "%s", err);
	if (rc)
		return cli_fail("log", rc == PM_EFULL ? "free disk space where --output points, then rerun"
				: rc == PM_ECORRUPT ? "restore the data directory from a backup" : "check --output and "
				"its permissions, then rerun", "salvage of '%s/data.mdb' failed: %s", cfg->data_dir, err);
	int others = copy_others(cfg->data_dir, out);
	printf("salvaged %llu records of '%s/data.mdb' (transaction %llu) into '%s/data.mdb'; %llu damaged "
	       "page(s) and %llu record(s) left out, %llu index entries of lost sales dropped; %d other "
	       "file(s) copied\n", (unsigned long long)rep.entries, cfg->data_dir, (unsigned long long)rep.txnid,
	       out, (unsigned long long)rep.pages_skipped, (unsigned long long)rep.entries_skipped,
	       (unsigned long long)rep.index_pruned, others);
	if (rep.sales_acked > rep.last_sale_seq)
		printf("warning: the newest sales were lost: the new log ends at sale %llu but HQ acknowledged up "
		       "to %llu, so the next sales would reuse acknowledged numbers and never be uploaded; do not "
		       "sell on it until HQ has been told (docs/storage.md, \"Damaged logs\")\n",
		       (unsigned long long)rep.last_sale_seq, (unsigned long long)rep.sales_acked);
	printf("next: 'posmark log check --data %s', then point store.data at it (or move it in place of "
	       "'%s') and start posmark; sales not yet at HQ that were on damaged pages are lost\n", out,
	       cfg->data_dir);
	return 0;
}

/* posmark log compact: the log rewritten without its free pages (docs/privacy.md, "At the store"). */
static int log_compact(const struct term_config *cfg)
{
	struct loy_db *db;
	struct loy_compact_report rep;
	char err[600];
	if (cli_open_log("log", cfg, &db))
		return 1;
	int rc = loy_compact(db, &rep, err, sizeof(err));
	loy_close(db);
	if (rc)
		return cli_fail("log", rc == PM_EBUSY ? "stop the posmark daemon (and any posmark command on this "
				"log), then rerun" : "free disk space in the data directory, then rerun",
				"purchase log '%s' not compacted: %s", cfg->data_dir, err[0] ? err : pm_strerror(rc));
	printf("purchase log '%s/data.mdb' compacted: %llu records rewritten into a new file, %llu KiB -> %llu KiB; "
	       "no erased card's bytes are left in it\n", cfg->data_dir, (unsigned long long)rep.records,
	       (unsigned long long)(rep.bytes_before / 1024), (unsigned long long)(rep.bytes_after / 1024));
	return 0;
}

int cmd_log(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	const char *out = NULL;
	int rc = cli_setup(&argc, argv, &co, &cfg);
	if (rc)
		return rc;
	bool bad = argc < 2;
	for (int i = 2; i < argc; i++) {
		const char *v = cli_opt_value(argc, argv, &i, "--output");
		if (v)
			out = v;
		else
			bad = true;
	}
	if (co.help || bad || (strcmp(argv[1], "check") && strcmp(argv[1], "salvage") && strcmp(argv[1], "compact")) ||
	    (!strcmp(argv[1], "salvage")) != (out != NULL)) {
		term_help_command("log", co.help ? stdout : stderr);
		return co.help ? 0 : 2;
	}
	if (!strcmp(argv[1], "compact"))
		return log_compact(&cfg);
	return out ? log_salvage(&cfg, out) : log_check(&co, &cfg);
}
