/* csv.h - RFC 4180 records (quoted fields, "" escapes), for catalog import. Provided by csv.c. */
#ifndef TERM_CSV_H
#define TERM_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 32
struct csv_record {
	size_t n;
	char *field[CSV_MAX_FIELDS];  /* point into buf */
	char buf[4096];
};

/*
 * Read the next record from f (a quoted field may span lines). Returns 1 for
 * a record, 0 at end of file, or a negative pm_err with *why set (unclosed
 * quote, too many fields, line too long, NUL byte). *lineno advances by the
 * physical lines consumed.
 */
int csv_read(FILE *f, struct csv_record *rec, unsigned long *lineno, const char **why);

#endif
