/*
 * pm_buf.h - a growable byte buffer, the one every module uses.
 *
 * A zeroed struct pm_buf is an empty buffer (data NULL). After any
 * successful append, data[len] is a NUL that len does not count, so text
 * in a buffer is a C string as it is. Growth doubles, so n appends cost
 * O(n) amortised.
 *
 * Errors: PM_ENOMEM (the buffer is left as it was, and also for a size
 * that would overflow), PM_EINVAL from pm_buf_printf on a format error. Threads: none shared; one buffer, one
 * user. Lifetime: the caller frees data with pm_buf_free (or takes it
 * with pm_buf_take and frees it with free()).
 */
#ifndef PM_BUF_H
#define PM_BUF_H

#include <stddef.h>

struct pm_buf {
	char *data;                /* NULL until the first append; then len bytes and a NUL */
	size_t len;                /* bytes held, the NUL not counted */
	size_t cap;                /* bytes allocated (len + 1 <= cap once data is set) */
};

/* Make room for at least extra more bytes beyond len. */
int pm_buf_reserve(struct pm_buf *b, size_t extra);
/* Append n bytes (p may be NULL when n is 0). */
int pm_buf_add(struct pm_buf *b, const void *p, size_t n);
/* Append a NUL-terminated string (without its NUL). */
int pm_buf_adds(struct pm_buf *b, const char *s);
int pm_buf_addc(struct pm_buf *b, char c);
/* Append printf-formatted text (without a NUL). */
int pm_buf_printf(struct pm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The bytes as a C string even when nothing was appended yet; NULL on ENOMEM. */
char *pm_buf_cstr(struct pm_buf *b);
/*
 * Hand the bytes to the caller (free() them); the buffer is empty after.
 * NULL (and *len 0) when nothing was ever appended: call pm_buf_cstr first
 * when the caller needs a string even then.
 */
char *pm_buf_take(struct pm_buf *b, size_t *len);
/* Keep the allocation, forget the contents. */
static inline void pm_buf_reset(struct pm_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}
void pm_buf_free(struct pm_buf *b);

#endif
