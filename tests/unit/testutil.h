/*
 * testutil.h - helpers for cmocka tests: temporary directories that are
 * removed at the end, and a few fixtures. Include after cmocka's headers.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory under $TMPDIR; caller frees with tu_rmdir(). */
static inline char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(4096);
	snprintf(p, 4096, "%s/posmark-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static inline void tu_rmdir(char *dir)
{
	char cmd[4200];
	if (!dir)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(dir);
}

/* Append the Luhn check digit to digits (buf must have room for one more). */
static inline void tu_luhn_complete(char *buf)
{
	size_t n = strlen(buf);
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int d = buf[n - 1 - i] - '0';
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	buf[n] = (char)('0' + (10 - sum % 10) % 10);
	buf[n + 1] = '\0';
}

#endif
