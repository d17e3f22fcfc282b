/* pm_time.h - time is UTC microseconds since the epoch, everywhere. */
#ifndef PM_TIME_H
#define PM_TIME_H

#include <stdint.h>

/* Current UTC time in microseconds. POSMARK_FAKE_NOW_US pins it (tests, demo replay). */
int64_t pm_now_us(void);
/* Monotonic clock in nanoseconds, for latency measurement only. */
int64_t pm_mono_ns(void);
/* "YYYY-MM-DD HH:MM:SS" in UTC into buf (>= 20 bytes). */
const char *pm_fmt_utc(int64_t us, char *buf, unsigned len);

#endif
