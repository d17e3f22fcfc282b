/*
 * fuzz_csv.c - the catalog CSV reader (terminal/csv.c) on arbitrary bytes:
 * no crash, no over-read, every record's fields inside its buffer.
 */
#include "terminal/csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy so ASan sees any over-read. */
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	FILE *f = fmemopen(copy, size, "r");
	if (f) {
		struct csv_record *rec = malloc(sizeof(*rec));
		unsigned long line = 0;
		const char *why;
		int rc, guard = 0;
		while ((rc = csv_read(f, rec, &line, &why)) != 0 && guard++ < 100000) {
			if (rc == 1)
				for (size_t i = 0; i < rec->n; i++)
					if (rec->field[i] < rec->buf || rec->field[i] >= rec->buf + sizeof(rec->buf))
						abort();
		}
		free(rec);
		fclose(f);
	}
	free(copy);
	return 0;
}
