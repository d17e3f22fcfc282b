/* csv.c - a small RFC 4180 reader: fields are kept byte for byte (no trimming). */
#include "terminal/csv.h"
#include "common/pm_err.h"

#include <string.h>

int csv_read(FILE *f, struct csv_record *rec, unsigned long *lineno, const char **why)
{
	size_t o = 0;
	int c, in_quotes = 0, field_start = 1, any = 0;

	rec->n = 0;
	*why = NULL;
	rec->field[rec->n++] = rec->buf;
	while ((c = fgetc(f)) != EOF) {
		any = 1;
		if (c == '\0') {
			*why = "contains a NUL byte: this is not a text CSV file";
			goto fail_skip_line;
		}
		if (o + 2 >= sizeof(rec->buf)) {
			*why = "record is longer than 4 KiB";
			goto fail_skip_line;
		}
		if (in_quotes) {
			if (c == '"') {
				int d = fgetc(f);
				if (d == '"') {
					rec->buf[o++] = '"';
					continue;
				}
				in_quotes = 0;
				if (d != EOF)
					ungetc(d, f);
				continue;
			}
			if (c == '\n')
				(*lineno)++;
			rec->buf[o++] = (char)c;
			continue;
		}
		if (c == '"' && field_start) {
			in_quotes = 1;
			field_start = 0;
			continue;
		}
		if (c == ',') {
			rec->buf[o++] = '\0';
			if (rec->n >= CSV_MAX_FIELDS) {
				*why = "has more than 32 fields";
				goto fail_skip_line;
			}
			rec->field[rec->n++] = rec->buf + o;
			field_start = 1;
			continue;
		}
		if (c == '\n') {
			(*lineno)++;
			if (o > 0 && rec->buf[o - 1] == '\r')
				o--;
			rec->buf[o] = '\0';
			return 1;
		}
		field_start = 0;
		rec->buf[o++] = (char)c;
	}
	if (in_quotes) {
		(*lineno)++;
		*why = "has a quote that is never closed";
		return PM_EINVAL;
	}
	if (!any)
		return 0;
	(*lineno)++;
	if (o > 0 && rec->buf[o - 1] == '\r')
		o--;
	rec->buf[o] = '\0';
	return 1;

fail_skip_line:
	while (c != EOF && c != '\n')
		c = fgetc(f);
	(*lineno)++;
	return PM_EINVAL;
}
