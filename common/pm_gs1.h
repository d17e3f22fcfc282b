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

#endif
