/* pm_log.c - the log sink: one line per event on stderr, level-filtered;
 * syslog priority prefixes when stderr is the journal (pm_log.h). */
#include "pm_log.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pm_log_level = PM_LOG_WARN;

static int journal_mode = -1;   /* -1: not decided yet */

void pm_log_detect_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	journal_mode = e && sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) == 2 && !fstat(2, &st) &&
		(unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool pm_log_journal(void)
{
	if (journal_mode < 0)
		pm_log_detect_journal();
	return journal_mode;
}

void pm_log_init_from_env(int default_level)
{
	const char *e = getenv("POSMARK_DEBUG");
	pm_log_level = default_level;
	if (e && *e >= '0' && *e <= '3')
		pm_log_level = *e - '0';
}

void pm_log_msg(int level, const char *func, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	static const char *const prio[] = { "<3>", "<4>", "<6>", "<7>" };
	n = snprintf(line, sizeof(line), "%sposmark %s: ", pm_log_journal() ? prio[level & 3] : "",
		     names[level & 3]);
	if (level >= PM_LOG_DBG)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", func);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

int pm_tell_failure(const char *prefix, const char *hint, const char *fmt, va_list ap)
{
	if (pm_log_journal()) {
		/* one write, one line: error and hint in one journal entry */
		char line[2048];
		int n = snprintf(line, sizeof(line), "<3>%s: ", prefix);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		for (char *c = line; *c; c++)
			if (*c == '\n')
				*c = ' ';
		if (hint)
			fprintf(stderr, "%s (hint: %s)\n", line, hint);
		else
			fprintf(stderr, "%s\n", line);
		return 1;
	}
	fprintf(stderr, "%s: ", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (hint)
		fprintf(stderr, "hint: %s\n", hint);
	return 1;
}

const char *pm_card_tail(const char *card, char *buf, size_t len)
{
	size_t n = card ? strlen(card) : 0;
	snprintf(buf, len, "...%s", n > 4 ? card + n - 4 : (card ? card : ""));
	return buf;
}
