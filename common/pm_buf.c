/* pm_buf.c - growable byte buffer (pm_buf.h). */
#include "common/pm_buf.h"
#include "common/pm_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pm_buf_reserve(struct pm_buf *b, size_t extra)
{
	if (extra >= (size_t)-1 / 2 - b->len)
		return PM_ENOMEM;  /* also keeps extra + 1 and the doubling below from wrapping */
	extra++; /* room for the NUL kept after the bytes */
	if (extra <= b->cap - b->len)
		return PM_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return PM_ENOMEM;
	b->data = p;
	b->cap = cap;
	return PM_OK;
}

int pm_buf_add(struct pm_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return PM_OK;
	if (pm_buf_reserve(b, n))
		return PM_ENOMEM;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PM_OK;
}

int pm_buf_adds(struct pm_buf *b, const char *s)
{
	return pm_buf_add(b, s, strlen(s));
}

int pm_buf_addc(struct pm_buf *b, char c)
{
	return pm_buf_add(b, &c, 1);
}

int pm_buf_printf(struct pm_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return PM_EINVAL;
	if ((size_t)n < sizeof(small))
		return pm_buf_add(b, small, (size_t)n);
	/* Long text: format straight into the buffer (reserve keeps room for the NUL). */
	if (pm_buf_reserve(b, (size_t)n))
		return PM_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PM_OK;
}

char *pm_buf_cstr(struct pm_buf *b)
{
	if (pm_buf_reserve(b, 0))
		return NULL;
	b->data[b->len] = '\0';
	return b->data;
}

char *pm_buf_take(struct pm_buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void pm_buf_free(struct pm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
