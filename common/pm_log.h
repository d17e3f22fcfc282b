/*
 * pm_log.h - logging for every module. Modules never pick the sink:
 * terminal/ sets it (stderr for the CLI, stderr/journal for the daemon).
 * A disabled level costs one comparison. POSMARK_DEBUG=0..3 overrides.
 * Never log a full card number: use pm_card_tail().
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum pm_log_level { PM_LOG_ERR = 0, PM_LOG_WARN = 1, PM_LOG_INFO = 2, PM_LOG_DBG = 3 };

extern int pm_log_level;

void pm_log_init_from_env(int default_level);

/*
 * Journal mode. When stderr is the systemd journal ($JOURNAL_STREAM is
 * "DEV:INO" and matches stderr's device and inode, as sd-daemon(3) says),
 * every line starts with its syslog priority, "<3>" error, "<4>" warning,
 * "<6>" info, "<7>" debug, so `journalctl -p err` finds the errors, and
 * pm_tell_failure puts the hint on the error's own line ("... (hint: ...)")
 * so both stay in one journal entry. Elsewhere the output is unchanged.
 * pm_log_journal() says whether the mode is on; it is decided on first use
 * and again after pm_log_detect_journal() (tests change the variable).
 */
bool pm_log_journal(void);
void pm_log_detect_journal(void);
void pm_log_msg(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pm_log_at(lvl, ...) do { if ((lvl) <= pm_log_level) pm_log_msg((lvl), __func__, __VA_ARGS__); } while (0)
#define pm_err(...)  pm_log_at(PM_LOG_ERR, __VA_ARGS__)
#define pm_warn(...) pm_log_at(PM_LOG_WARN, __VA_ARGS__)
#define pm_info(...) pm_log_at(PM_LOG_INFO, __VA_ARGS__)
#define pm_dbg(...)  pm_log_at(PM_LOG_DBG, __VA_ARGS__)

/*
 * An error for a person, on stderr, whatever the log level: "PREFIX: what
 * was wrong" and, when hint is not NULL, "hint: what to do" on the next
 * line (in journal mode: "<3>PREFIX: what was wrong (hint: what to do)",
 * one line). The CLIs of both programs report through it. Returns 1 (the exit
 * status of a failed command).
 */
int pm_tell_failure(const char *prefix, const char *hint, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* "…1234" form of a card number for logs: writes into buf (>= 8 bytes). */
const char *pm_card_tail(const char *card, char *buf, size_t len);

#endif
