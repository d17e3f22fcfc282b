/*
 * pm_gs1_int.h - the GS1 Barcode Syntax Dictionary as data (pm_gs1_table.c),
 * read by the validator (pm_gs1_dict.c). Private to common/.
 */
#ifndef PM_GS1_INT_H
#define PM_GS1_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PM_GS1_L_CSUM = 1u << 0, PM_GS1_L_CSUMALPHA = 1u << 1, PM_GS1_L_YYMMDD = 1u << 2,
	PM_GS1_L_YYMMD0 = 1u << 3, PM_GS1_L_YYYYMMDD = 1u << 4, PM_GS1_L_HHMI = 1u << 5,
	PM_GS1_L_HH = 1u << 6, PM_GS1_L_MI = 1u << 7, PM_GS1_L_SS = 1u << 8,
	PM_GS1_L_NONZERO = 1u << 9, PM_GS1_L_ZERO = 1u << 10, PM_GS1_L_YESNO = 1u << 11,
	PM_GS1_L_PIECEOFTOTAL = 1u << 12, PM_GS1_L_HYPHEN = 1u << 13,
	PM_GS1_L_HASNONDIGIT = 1u << 14, PM_GS1_L_NOZEROPREFIX = 1u << 15,
	PM_GS1_L_PCENC = 1u << 16, PM_GS1_L_ISO5218 = 1u << 17, PM_GS1_L_WINDING = 1u << 18,
};

struct comp {
	char type;        /* N digits, X CSET 82, Y CSET 39, Z CSET 64 */
	uint8_t min, max; /* min == max: fixed length */
	bool opt;
	uint32_t lint;
};

struct ai_def {
	char ai[5];
	bool predef; /* "*": predefined length, no FNC1 after it */
	uint8_t ncomp;
	struct comp comp[5];
	const char *req[2]; /* each: groups split by ',', AIs in a group by '+', 'n' any digit */
	const char *ex;
	const char *title;
};

/* One row per AI in the dictionary's lexical order (lookup is a binary search). */
extern const struct ai_def pm_gs1_table[];
extern const size_t pm_gs1_table_n;

#endif
