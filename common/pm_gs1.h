/*
 * pm_gs1.h - GS1 check digits and GTIN normalisation (GS1 General
 * Specifications, 7.9: the mod-10 check digit, weights 3,1,3,... from the
 * rightmost data digit). Pure functions: no state, any thread.
 */
#ifndef PM_GS1_H
#define PM_GS1_H

#include <stdbool.h>
#include <stddef.h>

#define PM_GTIN14_LEN 14

/* The check digit (0..9) of n data digits (the caller checks they are digits). */
int pm_gs1_check_digit(const char *digits, size_t n);

/*
 * A GTIN-8, -12, -13 or -14 (exactly len digits) with a valid check digit,
 * written as GTIN-14 (left zero-padded, NUL-terminated) into out.
 * false (out untouched) for anything else.
 */
bool pm_gtin14(const char *s, size_t len, char out[PM_GTIN14_LEN + 1]);

/* ---- GS1 element strings, validated against the GS1 Syntax Dictionary ---- */
/* (common/pm_gs1_table.c holds the table, with its source and version; common/pm_gs1_dict.c the validator.) */

#define PM_GS1_MAX_ELEMS 32

/* One element of an element string: the AI (2-4 digits) and its value (in the caller's buffer). */
struct pm_gs1_elem {
	char ai[5];
	const char *v;
	size_t vlen;
};

/*
 * Split a GS1 element string (AIs and values, GS 0x1D = FNC1 between
 * variable-length values, no symbology id) into elements and validate it
 * as the GS1 Syntax Dictionary says: every AI known to GS1, each value's
 * format (N digits, X = CSET 82, Y = CSET 39, Z = CSET 64; fixed or
 * variable length, optional components), the dictionary's checks (check
 * digits and check character pairs, dates, times, flags, percent escapes,
 * ...), a repeated AI only with the same value, mandatory (req) and invalid
 * (ex) AI pairs. true with el[0..*count) filled; false with why in err
 * (a sentence naming the AI; el/count hold what was split so far).
 */
bool pm_gs1_parse(const char *d, size_t n, struct pm_gs1_elem el[PM_GS1_MAX_ELEMS],
		  size_t *count, char *err, size_t errlen);

/* The GS1 check character pair of AI 8013 and the like (csumalpha): data then 2 check characters. */
bool pm_gs1_csumalpha_ok(const char *s, size_t n);

#endif
