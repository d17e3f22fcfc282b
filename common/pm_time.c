/* pm_time.c - clocks. */
#define _POSIX_C_SOURCE 200809L
#include "pm_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t pm_now_us(void)
{
	const char *fake = getenv("POSMARK_FAKE_NOW_US");
	struct timespec ts;

	if (fake && *fake)
		return strtoll(fake, NULL, 10);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pm_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *pm_fmt_utc(int64_t us, char *buf, unsigned len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}
