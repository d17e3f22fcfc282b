/* pm_log.c - the log sink: one line per event on stderr, level-filtered. */
#include "pm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pm_log_level = PM_LOG_WARN;

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

	n = snprintf(line, sizeof(line), "posmark %s: ", names[level & 3]);
	if (level >= PM_LOG_DBG)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", func);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

int pm_tell_failure(const char *prefix, const char *hint, const char *fmt, va_list ap)
{
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
