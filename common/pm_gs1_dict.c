/*
 * pm_gs1_dict.c - GS1 element strings validated against the GS1 Barcode
 * Syntax Dictionary (pm_gs1.h, pm_gs1_parse).
 *
 * The table below is the GS1 Barcode Syntax Dictionary, public data of GS1
 * AISBL (Apache License 2.0; (c) 2020-2021 BWIPP and Zint projects,
 * 2021-2025 GS1 AISBL): https://github.com/gs1/gs1-syntax-dictionary, file
 * gs1-syntax-dictionary.txt, release tag 2026-01-27 (commit
 * 8ad003f83a4ba6c2179ce15d578fae27d6580909). It was converted mechanically,
 * one row per AI (ranges such as 3100-3105 expanded): the "*" flag
 * (predefined length, no FNC1 needed), each component (type N/X/Y/Z, min and
 * max length, optional "[...]", linters), every "req=" and the "ex=" lists
 * (several ex= keys joined by commas), and the title. To update it, convert a
 * newer release the same way and keep the rows in the dictionary's lexical
 * order (lookup is a binary search).
 *
 * The validator is ours (not the GS1 Syntax Engine). Linters checked:
 * csum, csumalpha, yymmdd, yymmd0, yyyymmdd, hhmi, hh, mi, ss, nonzero,
 * zero, yesno, pieceoftotal, hyphen, hasnondigit, nozeroprefix, pcenc,
 * iso5218, winding. Not checked (they need external code lists or company
 * prefix tables, or are coupon-internal): couponcode, couponposoffer,
 * gcppos1, gcppos2, iban, importeridx, iso3166, iso3166999, iso3166alpha2,
 * iso4217, latitude, longitude, mediatype, packagetype, posinseqslash.
 */
#include "common/pm_gs1.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GS 0x1d

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

static const struct ai_def dict[] = {
/* GENERATED TABLE: see the header comment. 541 AIs. */
	{ "00", true, 1, { { 'N', 18, 18, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "SSCC" },
	{ "01", true, 1, { { 'N', 14, 14, false, PM_GS1_L_CSUM } }, { NULL }, "255,37", "GTIN" },
	{ "02", true, 1, { { 'N', 14, 14, false, PM_GS1_L_CSUM } }, { "37" }, "01,03", "CONTENT" },
	{ "03", true, 1, { { 'N', 14, 14, false, PM_GS1_L_CSUM } }, { NULL }, "01,02,37", "MTO GTIN" },
	{ "10", false, 1, { { 'X', 1, 20, false, 0 } }, { "01,02,03,8006,8026" }, NULL, "BATCH/LOT" },
	{ "11", true, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 } }, { "01,02,03,8006,8026" }, NULL, "PROD DATE" },
	{ "12", true, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 } }, { "8020" }, NULL, "DUE DATE" },
	{ "13", true, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 } }, { "01,02,03,8006,8026" }, NULL, "PACK DATE" },
	{ "15", true, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 } }, { "01,02,03,8006,8026" }, NULL, "BEST BEFORE or BEST BY" },
	{ "16", true, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 } }, { "01,02,03,8006,8026" }, NULL, "SELL BY" },
	{ "17", true, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 } }, { "01,02,03,255,8006,8026" }, NULL, "USE BY or EXPIRY" },
	{ "20", true, 1, { { 'N', 2, 2, false, 0 } }, { "01,02,8006,8026" }, NULL, "VARIANT" },
	{ "21", false, 1, { { 'X', 1, 20, false, 0 } }, { "01,03,8006" }, "235", "SERIAL" },
	{ "22", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "CPV" },
	{ "235", false, 1, { { 'X', 1, 28, false, 0 } }, { "01" }, NULL, "TPX" },
	{ "240", false, 1, { { 'X', 1, 30, false, 0 } }, { "01,02,8006,8026" }, NULL, "ADDITIONAL ID" },
	{ "241", false, 1, { { 'X', 1, 30, false, 0 } }, { "01,02,8006,8026" }, NULL, "CUST. PART No." },
	{ "242", false, 1, { { 'N', 1, 6, false, 0 } }, { "01,02,8006,8026" }, NULL, "MTO VARIANT" },
	{ "243", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "PCN" },
	{ "250", false, 1, { { 'X', 1, 30, false, 0 } }, { "01,8006", "21" }, NULL, "SECONDARY SERIAL" },
	{ "251", false, 1, { { 'X', 1, 30, false, 0 } }, { "01,8006" }, NULL, "REF. TO SOURCE" },
	{ "253", false, 2, { { 'N', 13, 13, false, PM_GS1_L_CSUM }, { 'X', 1, 17, true, 0 } }, { NULL }, NULL, "GDTI" },
	{ "254", false, 1, { { 'X', 1, 20, false, 0 } }, { "414" }, NULL, "GLN EXTENSION COMPONENT" },
	{ "255", false, 2, { { 'N', 13, 13, false, PM_GS1_L_CSUM }, { 'N', 1, 12, true, 0 } }, { NULL }, "01,02,415,8006,8020,8026", "GCN" },
	{ "30", false, 1, { { 'N', 1, 8, false, 0 } }, { "01,02" }, NULL, "VAR. COUNT" },
	{ "3100", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "310n", "NET WEIGHT (kg)" },
	{ "3101", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "310n", "NET WEIGHT (kg)" },
	{ "3102", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "310n", "NET WEIGHT (kg)" },
	{ "3103", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "310n", "NET WEIGHT (kg)" },
	{ "3104", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "310n", "NET WEIGHT (kg)" },
	{ "3105", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "310n", "NET WEIGHT (kg)" },
	{ "3110", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "311n", "LENGTH (m)" },
	{ "3111", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "311n", "LENGTH (m)" },
	{ "3112", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "311n", "LENGTH (m)" },
	{ "3113", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "311n", "LENGTH (m)" },
	{ "3114", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "311n", "LENGTH (m)" },
	{ "3115", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "311n", "LENGTH (m)" },
	{ "3120", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "312n", "WIDTH (m)" },
	{ "3121", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "312n", "WIDTH (m)" },
	{ "3122", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "312n", "WIDTH (m)" },
	{ "3123", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "312n", "WIDTH (m)" },
	{ "3124", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "312n", "WIDTH (m)" },
	{ "3125", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "312n", "WIDTH (m)" },
	{ "3130", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "313n", "HEIGHT (m)" },
	{ "3131", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "313n", "HEIGHT (m)" },
	{ "3132", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "313n", "HEIGHT (m)" },
	{ "3133", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "313n", "HEIGHT (m)" },
	{ "3134", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "313n", "HEIGHT (m)" },
	{ "3135", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "313n", "HEIGHT (m)" },
	{ "3140", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "314n", "AREA (m?)" },
	{ "3141", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "314n", "AREA (m?)" },
	{ "3142", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "314n", "AREA (m?)" },
	{ "3143", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "314n", "AREA (m?)" },
	{ "3144", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "314n", "AREA (m?)" },
	{ "3145", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "314n", "AREA (m?)" },
	{ "3150", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "315n", "NET VOLUME (l)" },
	{ "3151", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "315n", "NET VOLUME (l)" },
	{ "3152", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "315n", "NET VOLUME (l)" },
	{ "3153", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "315n", "NET VOLUME (l)" },
	{ "3154", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "315n", "NET VOLUME (l)" },
	{ "3155", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "315n", "NET VOLUME (l)" },
	{ "3160", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "316n", "NET VOLUME (m?)" },
	{ "3161", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "316n", "NET VOLUME (m?)" },
	{ "3162", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "316n", "NET VOLUME (m?)" },
	{ "3163", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "316n", "NET VOLUME (m?)" },
	{ "3164", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "316n", "NET VOLUME (m?)" },
	{ "3165", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "316n", "NET VOLUME (m?)" },
	{ "3200", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "320n", "NET WEIGHT (lb)" },
	{ "3201", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "320n", "NET WEIGHT (lb)" },
	{ "3202", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "320n", "NET WEIGHT (lb)" },
	{ "3203", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "320n", "NET WEIGHT (lb)" },
	{ "3204", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "320n", "NET WEIGHT (lb)" },
	{ "3205", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "320n", "NET WEIGHT (lb)" },
	{ "3210", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "321n", "LENGTH (in)" },
	{ "3211", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "321n", "LENGTH (in)" },
	{ "3212", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "321n", "LENGTH (in)" },
	{ "3213", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "321n", "LENGTH (in)" },
	{ "3214", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "321n", "LENGTH (in)" },
	{ "3215", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "321n", "LENGTH (in)" },
	{ "3220", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "322n", "LENGTH (ft)" },
	{ "3221", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "322n", "LENGTH (ft)" },
	{ "3222", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "322n", "LENGTH (ft)" },
	{ "3223", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "322n", "LENGTH (ft)" },
	{ "3224", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "322n", "LENGTH (ft)" },
	{ "3225", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "322n", "LENGTH (ft)" },
	{ "3230", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "323n", "LENGTH (yd)" },
	{ "3231", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "323n", "LENGTH (yd)" },
	{ "3232", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "323n", "LENGTH (yd)" },
	{ "3233", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "323n", "LENGTH (yd)" },
	{ "3234", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "323n", "LENGTH (yd)" },
	{ "3235", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "323n", "LENGTH (yd)" },
	{ "3240", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "324n", "WIDTH (in)" },
	{ "3241", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "324n", "WIDTH (in)" },
	{ "3242", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "324n", "WIDTH (in)" },
	{ "3243", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "324n", "WIDTH (in)" },
	{ "3244", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "324n", "WIDTH (in)" },
	{ "3245", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "324n", "WIDTH (in)" },
	{ "3250", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "325n", "WIDTH (ft)" },
	{ "3251", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "325n", "WIDTH (ft)" },
	{ "3252", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "325n", "WIDTH (ft)" },
	{ "3253", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "325n", "WIDTH (ft)" },
	{ "3254", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "325n", "WIDTH (ft)" },
	{ "3255", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "325n", "WIDTH (ft)" },
	{ "3260", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "326n", "WIDTH (yd)" },
	{ "3261", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "326n", "WIDTH (yd)" },
	{ "3262", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "326n", "WIDTH (yd)" },
	{ "3263", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "326n", "WIDTH (yd)" },
	{ "3264", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "326n", "WIDTH (yd)" },
	{ "3265", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "326n", "WIDTH (yd)" },
	{ "3270", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "327n", "HEIGHT (in)" },
	{ "3271", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "327n", "HEIGHT (in)" },
	{ "3272", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "327n", "HEIGHT (in)" },
	{ "3273", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "327n", "HEIGHT (in)" },
	{ "3274", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "327n", "HEIGHT (in)" },
	{ "3275", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "327n", "HEIGHT (in)" },
	{ "3280", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "328n", "HEIGHT (ft)" },
	{ "3281", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "328n", "HEIGHT (ft)" },
	{ "3282", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "328n", "HEIGHT (ft)" },
	{ "3283", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "328n", "HEIGHT (ft)" },
	{ "3284", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "328n", "HEIGHT (ft)" },
	{ "3285", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "328n", "HEIGHT (ft)" },
	{ "3290", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "329n", "HEIGHT (yd)" },
	{ "3291", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "329n", "HEIGHT (yd)" },
	{ "3292", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "329n", "HEIGHT (yd)" },
	{ "3293", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "329n", "HEIGHT (yd)" },
	{ "3294", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "329n", "HEIGHT (yd)" },
	{ "3295", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "329n", "HEIGHT (yd)" },
	{ "3300", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "330n", "GROSS WEIGHT (kg)" },
	{ "3301", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "330n", "GROSS WEIGHT (kg)" },
	{ "3302", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "330n", "GROSS WEIGHT (kg)" },
	{ "3303", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "330n", "GROSS WEIGHT (kg)" },
	{ "3304", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "330n", "GROSS WEIGHT (kg)" },
	{ "3305", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "330n", "GROSS WEIGHT (kg)" },
	{ "3310", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "331n", "LENGTH (m), log" },
	{ "3311", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "331n", "LENGTH (m), log" },
	{ "3312", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "331n", "LENGTH (m), log" },
	{ "3313", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "331n", "LENGTH (m), log" },
	{ "3314", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "331n", "LENGTH (m), log" },
	{ "3315", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "331n", "LENGTH (m), log" },
	{ "3320", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "332n", "WIDTH (m), log" },
	{ "3321", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "332n", "WIDTH (m), log" },
	{ "3322", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "332n", "WIDTH (m), log" },
	{ "3323", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "332n", "WIDTH (m), log" },
	{ "3324", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "332n", "WIDTH (m), log" },
	{ "3325", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "332n", "WIDTH (m), log" },
	{ "3330", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "333n", "HEIGHT (m), log" },
	{ "3331", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "333n", "HEIGHT (m), log" },
	{ "3332", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "333n", "HEIGHT (m), log" },
	{ "3333", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "333n", "HEIGHT (m), log" },
	{ "3334", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "333n", "HEIGHT (m), log" },
	{ "3335", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "333n", "HEIGHT (m), log" },
	{ "3340", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "334n", "AREA (m?), log" },
	{ "3341", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "334n", "AREA (m?), log" },
	{ "3342", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "334n", "AREA (m?), log" },
	{ "3343", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "334n", "AREA (m?), log" },
	{ "3344", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "334n", "AREA (m?), log" },
	{ "3345", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "334n", "AREA (m?), log" },
	{ "3350", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "335n", "VOLUME (l), log" },
	{ "3351", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "335n", "VOLUME (l), log" },
	{ "3352", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "335n", "VOLUME (l), log" },
	{ "3353", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "335n", "VOLUME (l), log" },
	{ "3354", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "335n", "VOLUME (l), log" },
	{ "3355", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "335n", "VOLUME (l), log" },
	{ "3360", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "336n", "VOLUME (m?), log" },
	{ "3361", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "336n", "VOLUME (m?), log" },
	{ "3362", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "336n", "VOLUME (m?), log" },
	{ "3363", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "336n", "VOLUME (m?), log" },
	{ "3364", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "336n", "VOLUME (m?), log" },
	{ "3365", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "336n", "VOLUME (m?), log" },
	{ "3370", true, 1, { { 'N', 6, 6, false, 0 } }, { "01" }, "337n", "KG PER m?" },
	{ "3371", true, 1, { { 'N', 6, 6, false, 0 } }, { "01" }, "337n", "KG PER m?" },
	{ "3372", true, 1, { { 'N', 6, 6, false, 0 } }, { "01" }, "337n", "KG PER m?" },
	{ "3373", true, 1, { { 'N', 6, 6, false, 0 } }, { "01" }, "337n", "KG PER m?" },
	{ "3374", true, 1, { { 'N', 6, 6, false, 0 } }, { "01" }, "337n", "KG PER m?" },
	{ "3375", true, 1, { { 'N', 6, 6, false, 0 } }, { "01" }, "337n", "KG PER m?" },
	{ "3400", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "340n", "GROSS WEIGHT (lb)" },
	{ "3401", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "340n", "GROSS WEIGHT (lb)" },
	{ "3402", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "340n", "GROSS WEIGHT (lb)" },
	{ "3403", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "340n", "GROSS WEIGHT (lb)" },
	{ "3404", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "340n", "GROSS WEIGHT (lb)" },
	{ "3405", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "340n", "GROSS WEIGHT (lb)" },
	{ "3410", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "341n", "LENGTH (in), log" },
	{ "3411", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "341n", "LENGTH (in), log" },
	{ "3412", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "341n", "LENGTH (in), log" },
	{ "3413", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "341n", "LENGTH (in), log" },
	{ "3414", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "341n", "LENGTH (in), log" },
	{ "3415", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "341n", "LENGTH (in), log" },
	{ "3420", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "342n", "LENGTH (ft), log" },
	{ "3421", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "342n", "LENGTH (ft), log" },
	{ "3422", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "342n", "LENGTH (ft), log" },
	{ "3423", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "342n", "LENGTH (ft), log" },
	{ "3424", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "342n", "LENGTH (ft), log" },
	{ "3425", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "342n", "LENGTH (ft), log" },
	{ "3430", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "343n", "LENGTH (yd), log" },
	{ "3431", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "343n", "LENGTH (yd), log" },
	{ "3432", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "343n", "LENGTH (yd), log" },
	{ "3433", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "343n", "LENGTH (yd), log" },
	{ "3434", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "343n", "LENGTH (yd), log" },
	{ "3435", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "343n", "LENGTH (yd), log" },
	{ "3440", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "344n", "WIDTH (in), log" },
	{ "3441", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "344n", "WIDTH (in), log" },
	{ "3442", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "344n", "WIDTH (in), log" },
	{ "3443", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "344n", "WIDTH (in), log" },
	{ "3444", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "344n", "WIDTH (in), log" },
	{ "3445", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "344n", "WIDTH (in), log" },
	{ "3450", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "345n", "WIDTH (ft), log" },
	{ "3451", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "345n", "WIDTH (ft), log" },
	{ "3452", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "345n", "WIDTH (ft), log" },
	{ "3453", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "345n", "WIDTH (ft), log" },
	{ "3454", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "345n", "WIDTH (ft), log" },
	{ "3455", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "345n", "WIDTH (ft), log" },
	{ "3460", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "346n", "WIDTH (yd), log" },
	{ "3461", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "346n", "WIDTH (yd), log" },
	{ "3462", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "346n", "WIDTH (yd), log" },
	{ "3463", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "346n", "WIDTH (yd), log" },
	{ "3464", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "346n", "WIDTH (yd), log" },
	{ "3465", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "346n", "WIDTH (yd), log" },
	{ "3470", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "347n", "HEIGHT (in), log" },
	{ "3471", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "347n", "HEIGHT (in), log" },
	{ "3472", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "347n", "HEIGHT (in), log" },
	{ "3473", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "347n", "HEIGHT (in), log" },
	{ "3474", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "347n", "HEIGHT (in), log" },
	{ "3475", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "347n", "HEIGHT (in), log" },
	{ "3480", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "348n", "HEIGHT (ft), log" },
	{ "3481", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "348n", "HEIGHT (ft), log" },
	{ "3482", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "348n", "HEIGHT (ft), log" },
	{ "3483", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "348n", "HEIGHT (ft), log" },
	{ "3484", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "348n", "HEIGHT (ft), log" },
	{ "3485", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "348n", "HEIGHT (ft), log" },
	{ "3490", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "349n", "HEIGHT (yd), log" },
	{ "3491", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "349n", "HEIGHT (yd), log" },
	{ "3492", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "349n", "HEIGHT (yd), log" },
	{ "3493", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "349n", "HEIGHT (yd), log" },
	{ "3494", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "349n", "HEIGHT (yd), log" },
	{ "3495", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "349n", "HEIGHT (yd), log" },
	{ "3500", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "350n", "AREA (in?)" },
	{ "3501", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "350n", "AREA (in?)" },
	{ "3502", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "350n", "AREA (in?)" },
	{ "3503", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "350n", "AREA (in?)" },
	{ "3504", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "350n", "AREA (in?)" },
	{ "3505", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "350n", "AREA (in?)" },
	{ "3510", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "351n", "AREA (ft?)" },
	{ "3511", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "351n", "AREA (ft?)" },
	{ "3512", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "351n", "AREA (ft?)" },
	{ "3513", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "351n", "AREA (ft?)" },
	{ "3514", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "351n", "AREA (ft?)" },
	{ "3515", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "351n", "AREA (ft?)" },
	{ "3520", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "352n", "AREA (yd?)" },
	{ "3521", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "352n", "AREA (yd?)" },
	{ "3522", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "352n", "AREA (yd?)" },
	{ "3523", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "352n", "AREA (yd?)" },
	{ "3524", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "352n", "AREA (yd?)" },
	{ "3525", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "352n", "AREA (yd?)" },
	{ "3530", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "353n", "AREA (in?), log" },
	{ "3531", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "353n", "AREA (in?), log" },
	{ "3532", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "353n", "AREA (in?), log" },
	{ "3533", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "353n", "AREA (in?), log" },
	{ "3534", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "353n", "AREA (in?), log" },
	{ "3535", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "353n", "AREA (in?), log" },
	{ "3540", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "354n", "AREA (ft?), log" },
	{ "3541", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "354n", "AREA (ft?), log" },
	{ "3542", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "354n", "AREA (ft?), log" },
	{ "3543", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "354n", "AREA (ft?), log" },
	{ "3544", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "354n", "AREA (ft?), log" },
	{ "3545", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "354n", "AREA (ft?), log" },
	{ "3550", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "355n", "AREA (yd?), log" },
	{ "3551", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "355n", "AREA (yd?), log" },
	{ "3552", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "355n", "AREA (yd?), log" },
	{ "3553", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "355n", "AREA (yd?), log" },
	{ "3554", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "355n", "AREA (yd?), log" },
	{ "3555", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "355n", "AREA (yd?), log" },
	{ "3560", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "356n", "NET WEIGHT (tr oz)" },
	{ "3561", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "356n", "NET WEIGHT (tr oz)" },
	{ "3562", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "356n", "NET WEIGHT (tr oz)" },
	{ "3563", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "356n", "NET WEIGHT (tr oz)" },
	{ "3564", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "356n", "NET WEIGHT (tr oz)" },
	{ "3565", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "356n", "NET WEIGHT (tr oz)" },
	{ "3570", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "357n", "NET VOLUME (oz)" },
	{ "3571", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "357n", "NET VOLUME (oz)" },
	{ "3572", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "357n", "NET VOLUME (oz)" },
	{ "3573", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "357n", "NET VOLUME (oz)" },
	{ "3574", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "357n", "NET VOLUME (oz)" },
	{ "3575", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "357n", "NET VOLUME (oz)" },
	{ "3600", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "360n", "NET VOLUME (qt (US))" },
	{ "3601", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "360n", "NET VOLUME (qt (US))" },
	{ "3602", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "360n", "NET VOLUME (qt (US))" },
	{ "3603", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "360n", "NET VOLUME (qt (US))" },
	{ "3604", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "360n", "NET VOLUME (qt (US))" },
	{ "3605", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "360n", "NET VOLUME (qt (US))" },
	{ "3610", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "361n", "NET VOLUME (gal.)" },
	{ "3611", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "361n", "NET VOLUME (gal.)" },
	{ "3612", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "361n", "NET VOLUME (gal.)" },
	{ "3613", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "361n", "NET VOLUME (gal.)" },
	{ "3614", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "361n", "NET VOLUME (gal.)" },
	{ "3615", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "361n", "NET VOLUME (gal.)" },
	{ "3620", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "362n", "VOLUME (qt (US)), log" },
	{ "3621", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "362n", "VOLUME (qt (US)), log" },
	{ "3622", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "362n", "VOLUME (qt (US)), log" },
	{ "3623", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "362n", "VOLUME (qt (US)), log" },
	{ "3624", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "362n", "VOLUME (qt (US)), log" },
	{ "3625", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "362n", "VOLUME (qt (US)), log" },
	{ "3630", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "363n", "VOLUME (gal (US)), log" },
	{ "3631", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "363n", "VOLUME (gal (US)), log" },
	{ "3632", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "363n", "VOLUME (gal (US)), log" },
	{ "3633", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "363n", "VOLUME (gal (US)), log" },
	{ "3634", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "363n", "VOLUME (gal (US)), log" },
	{ "3635", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "363n", "VOLUME (gal (US)), log" },
	{ "3640", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "364n", "NET VOLUME (in?)" },
	{ "3641", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "364n", "NET VOLUME (in?)" },
	{ "3642", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "364n", "NET VOLUME (in?)" },
	{ "3643", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "364n", "NET VOLUME (in?)" },
	{ "3644", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "364n", "NET VOLUME (in?)" },
	{ "3645", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "364n", "NET VOLUME (in?)" },
	{ "3650", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "365n", "NET VOLUME (ft?)" },
	{ "3651", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "365n", "NET VOLUME (ft?)" },
	{ "3652", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "365n", "NET VOLUME (ft?)" },
	{ "3653", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "365n", "NET VOLUME (ft?)" },
	{ "3654", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "365n", "NET VOLUME (ft?)" },
	{ "3655", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "365n", "NET VOLUME (ft?)" },
	{ "3660", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "366n", "NET VOLUME (yd?)" },
	{ "3661", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "366n", "NET VOLUME (yd?)" },
	{ "3662", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "366n", "NET VOLUME (yd?)" },
	{ "3663", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "366n", "NET VOLUME (yd?)" },
	{ "3664", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "366n", "NET VOLUME (yd?)" },
	{ "3665", true, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, "366n", "NET VOLUME (yd?)" },
	{ "3670", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "367n", "VOLUME (in?), log" },
	{ "3671", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "367n", "VOLUME (in?), log" },
	{ "3672", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "367n", "VOLUME (in?), log" },
	{ "3673", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "367n", "VOLUME (in?), log" },
	{ "3674", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "367n", "VOLUME (in?), log" },
	{ "3675", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "367n", "VOLUME (in?), log" },
	{ "3680", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "368n", "VOLUME (ft?), log" },
	{ "3681", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "368n", "VOLUME (ft?), log" },
	{ "3682", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "368n", "VOLUME (ft?), log" },
	{ "3683", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "368n", "VOLUME (ft?), log" },
	{ "3684", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "368n", "VOLUME (ft?), log" },
	{ "3685", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "368n", "VOLUME (ft?), log" },
	{ "3690", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "369n", "VOLUME (yd?), log" },
	{ "3691", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "369n", "VOLUME (yd?), log" },
	{ "3692", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "369n", "VOLUME (yd?), log" },
	{ "3693", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "369n", "VOLUME (yd?), log" },
	{ "3694", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "369n", "VOLUME (yd?), log" },
	{ "3695", true, 1, { { 'N', 6, 6, false, 0 } }, { "00,01" }, "369n", "VOLUME (yd?), log" },
	{ "37", false, 1, { { 'N', 1, 8, false, 0 } }, { "00", "02,8026" }, NULL, "COUNT" },
	{ "3900", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3901", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3902", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3903", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3904", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3905", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3906", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3907", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3908", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3909", false, 1, { { 'N', 1, 15, false, 0 } }, { "255,8020" }, "390n,391n,394n,8111", "AMOUNT" },
	{ "3910", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3911", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3912", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3913", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3914", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3915", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3916", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3917", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3918", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3919", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "8020" }, "391n", "AMOUNT" },
	{ "3920", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3921", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3922", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3923", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3924", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3925", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3926", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3927", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3928", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3929", false, 1, { { 'N', 1, 15, false, 0 } }, { "01", "30,31nn,32nn,35nn,36nn" }, "392n,393n", "PRICE" },
	{ "3930", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3931", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3932", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3933", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3934", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3935", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3936", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3937", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3938", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3939", false, 2, { { 'N', 3, 3, false, 0 }, { 'N', 1, 15, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "393n", "PRICE" },
	{ "3940", false, 1, { { 'N', 4, 4, false, 0 } }, { "255" }, "394n,8111", "PRCNT OFF" },
	{ "3941", false, 1, { { 'N', 4, 4, false, 0 } }, { "255" }, "394n,8111", "PRCNT OFF" },
	{ "3942", false, 1, { { 'N', 4, 4, false, 0 } }, { "255" }, "394n,8111", "PRCNT OFF" },
	{ "3943", false, 1, { { 'N', 4, 4, false, 0 } }, { "255" }, "394n,8111", "PRCNT OFF" },
	{ "3950", false, 1, { { 'N', 6, 6, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "392n,393n,395n,8005", "PRICE/UoM" },
	{ "3951", false, 1, { { 'N', 6, 6, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "392n,393n,395n,8005", "PRICE/UoM" },
	{ "3952", false, 1, { { 'N', 6, 6, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "392n,393n,395n,8005", "PRICE/UoM" },
	{ "3953", false, 1, { { 'N', 6, 6, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "392n,393n,395n,8005", "PRICE/UoM" },
	{ "3954", false, 1, { { 'N', 6, 6, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "392n,393n,395n,8005", "PRICE/UoM" },
	{ "3955", false, 1, { { 'N', 6, 6, false, 0 } }, { "30,31nn,32nn,35nn,36nn" }, "392n,393n,395n,8005", "PRICE/UoM" },
	{ "400", false, 1, { { 'X', 1, 30, false, 0 } }, { NULL }, NULL, "ORDER NUMBER" },
	{ "401", false, 1, { { 'X', 1, 30, false, 0 } }, { NULL }, NULL, "GINC" },
	{ "402", false, 1, { { 'N', 17, 17, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "GSIN" },
	{ "403", false, 1, { { 'X', 1, 30, false, 0 } }, { "00" }, NULL, "ROUTE" },
	{ "410", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "SHIP TO LOC" },
	{ "411", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "BILL TO" },
	{ "412", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "PURCHASE FROM" },
	{ "413", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "SHIP FOR LOC" },
	{ "414", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "LOC No." },
	{ "415", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { "8020" }, NULL, "PAY TO" },
	{ "416", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "PROD/SERV LOC" },
	{ "417", true, 1, { { 'N', 13, 13, false, PM_GS1_L_CSUM } }, { NULL }, NULL, "PARTY" },
	{ "420", false, 1, { { 'X', 1, 20, false, 0 } }, { NULL }, "421", "SHIP TO POST" },
	{ "421", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 9, false, 0 } }, { NULL }, "4307", "SHIP TO POST" },
	{ "422", false, 1, { { 'N', 3, 3, false, 0 } }, { "01,02,8006,8026" }, "426", "ORIGIN" },
	{ "423", false, 5, { { 'N', 3, 3, false, 0 }, { 'N', 3, 3, true, 0 }, { 'N', 3, 3, true, 0 }, { 'N', 3, 3, true, 0 }, { 'N', 3, 3, true, 0 } }, { "01,02" }, "426", "COUNTRY - INITIAL PROCESS" },
	{ "424", false, 1, { { 'N', 3, 3, false, 0 } }, { "01,02" }, "426", "COUNTRY - PROCESS" },
	{ "425", false, 5, { { 'N', 3, 3, false, 0 }, { 'N', 3, 3, true, 0 }, { 'N', 3, 3, true, 0 }, { 'N', 3, 3, true, 0 }, { 'N', 3, 3, true, 0 } }, { "01,02" }, "426", "COUNTRY - DISASSEMBLY" },
	{ "426", false, 1, { { 'N', 3, 3, false, 0 } }, { "01,02" }, NULL, "COUNTRY - FULL PROCESS" },
	{ "427", false, 1, { { 'X', 1, 3, false, 0 } }, { "01,02", "422" }, NULL, "ORIGIN SUBDIVISION" },
	{ "4300", false, 1, { { 'X', 1, 35, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SHIP TO COMP" },
	{ "4301", false, 1, { { 'X', 1, 35, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SHIP TO NAME" },
	{ "4302", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SHIP TO ADD1" },
	{ "4303", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "4302" }, NULL, "SHIP TO ADD2" },
	{ "4304", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SHIP TO SUB" },
	{ "4305", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SHIP TO LOC" },
	{ "4306", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SHIP TO REG" },
	{ "4307", false, 1, { { 'X', 2, 2, false, 0 } }, { "00" }, NULL, "SHIP TO COUNTRY" },
	{ "4308", false, 1, { { 'X', 1, 30, false, 0 } }, { "00" }, NULL, "SHIP TO PHONE" },
	{ "4309", false, 2, { { 'N', 10, 10, false, 0 }, { 'N', 10, 10, false, 0 } }, { "00" }, NULL, "SHIP TO GEO" },
	{ "4310", false, 1, { { 'X', 1, 35, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "RTN TO COMP" },
	{ "4311", false, 1, { { 'X', 1, 35, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "RTN TO NAME" },
	{ "4312", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "RTN TO ADD1" },
	{ "4313", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "4312" }, NULL, "RTN TO ADD2" },
	{ "4314", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "RTN TO SUB" },
	{ "4315", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "RTN TO LOC" },
	{ "4316", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "RTN TO REG" },
	{ "4317", false, 1, { { 'X', 2, 2, false, 0 } }, { "00" }, NULL, "RTN TO COUNTRY" },
	{ "4318", false, 1, { { 'X', 1, 20, false, 0 } }, { "00" }, NULL, "RTN TO POST" },
	{ "4319", false, 1, { { 'X', 1, 30, false, 0 } }, { "00" }, NULL, "RTN TO PHONE" },
	{ "4320", false, 1, { { 'X', 1, 35, false, PM_GS1_L_PCENC } }, { "00" }, NULL, "SRV DESCRIPTION" },
	{ "4321", false, 1, { { 'N', 1, 1, false, PM_GS1_L_YESNO } }, { "00" }, NULL, "DANGEROUS GOODS" },
	{ "4322", false, 1, { { 'N', 1, 1, false, PM_GS1_L_YESNO } }, { "00" }, NULL, "AUTH TO LEAVE" },
	{ "4323", false, 1, { { 'N', 1, 1, false, PM_GS1_L_YESNO } }, { "00" }, NULL, "SIG REQUIRED" },
	{ "4324", false, 2, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 }, { 'N', 4, 4, false, PM_GS1_L_HHMI } }, { "00" }, NULL, "NOT BEF DEL DT" },
	{ "4325", false, 2, { { 'N', 6, 6, false, PM_GS1_L_YYMMD0 }, { 'N', 4, 4, false, PM_GS1_L_HHMI } }, { "00" }, NULL, "NOT AFT DEL DT" },
	{ "4326", false, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMDD } }, { "00" }, NULL, "REL DATE" },
	{ "4330", false, 2, { { 'N', 6, 6, false, 0 }, { 'X', 1, 1, true, PM_GS1_L_HYPHEN } }, { "00" }, "4331", "MAX TEMP F." },
	{ "4331", false, 2, { { 'N', 6, 6, false, 0 }, { 'X', 1, 1, true, PM_GS1_L_HYPHEN } }, { "00" }, "4330", "MAX TEMP C." },
	{ "4332", false, 2, { { 'N', 6, 6, false, 0 }, { 'X', 1, 1, true, PM_GS1_L_HYPHEN } }, { "00" }, "4333", "MIN TEMP F." },
	{ "4333", false, 2, { { 'N', 6, 6, false, 0 }, { 'X', 1, 1, true, PM_GS1_L_HYPHEN } }, { "00" }, "4332", "MIN TEMP C." },
	{ "7001", false, 1, { { 'N', 13, 13, false, 0 } }, { "01,02,8006,8026" }, NULL, "NSN" },
	{ "7002", false, 1, { { 'X', 1, 30, false, 0 } }, { "01,02" }, NULL, "MEAT CUT" },
	{ "7003", false, 2, { { 'N', 6, 6, false, PM_GS1_L_YYMMDD }, { 'N', 4, 4, false, PM_GS1_L_HHMI } }, { "01,02" }, NULL, "EXPIRY TIME" },
	{ "7004", false, 1, { { 'N', 1, 4, false, 0 } }, { "01+10" }, NULL, "ACTIVE POTENCY" },
	{ "7005", false, 1, { { 'X', 1, 12, false, 0 } }, { "01,02" }, NULL, "CATCH AREA" },
	{ "7006", false, 1, { { 'N', 6, 6, false, PM_GS1_L_YYMMDD } }, { "01,02" }, NULL, "FIRST FREEZE DATE" },
	{ "7007", false, 2, { { 'N', 6, 6, false, PM_GS1_L_YYMMDD }, { 'N', 6, 6, true, PM_GS1_L_YYMMDD } }, { "01,02" }, NULL, "HARVEST DATE" },
	{ "7008", false, 1, { { 'X', 1, 3, false, 0 } }, { "01,02" }, NULL, "AQUATIC SPECIES" },
	{ "7009", false, 1, { { 'X', 1, 10, false, 0 } }, { "01,02" }, NULL, "FISHING GEAR TYPE" },
	{ "7010", false, 1, { { 'X', 1, 2, false, 0 } }, { "01,02" }, NULL, "PROD METHOD" },
	{ "7011", false, 2, { { 'N', 6, 6, false, PM_GS1_L_YYMMDD }, { 'N', 4, 4, true, PM_GS1_L_HHMI } }, { "01,02" }, NULL, "TEST BY DATE" },
	{ "7020", false, 1, { { 'X', 1, 20, false, 0 } }, { "01,8006", "416" }, NULL, "REFURB LOT" },
	{ "7021", false, 1, { { 'X', 1, 20, false, 0 } }, { "01,8006" }, NULL, "FUNC STAT" },
	{ "7022", false, 1, { { 'X', 1, 20, false, 0 } }, { "7021" }, NULL, "REV STAT" },
	{ "7023", false, 1, { { 'X', 1, 30, false, 0 } }, { NULL }, NULL, "GIAI - ASSEMBLY" },
	{ "7030", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 0" },
	{ "7031", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 1" },
	{ "7032", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 2" },
	{ "7033", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 3" },
	{ "7034", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 4" },
	{ "7035", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 5" },
	{ "7036", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 6" },
	{ "7037", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 7" },
	{ "7038", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 8" },
	{ "7039", false, 2, { { 'N', 3, 3, false, 0 }, { 'X', 1, 27, false, 0 } }, { "01,02" }, NULL, "PROCESSOR # 9" },
	{ "7040", false, 4, { { 'N', 1, 1, false, 0 }, { 'X', 1, 1, false, 0 }, { 'X', 1, 1, false, 0 }, { 'X', 1, 1, false, 0 } }, { NULL }, NULL, "UIC+EXT" },
	{ "7041", false, 1, { { 'X', 1, 4, false, 0 } }, { "00" }, NULL, "UFRGT UNIT TYPE" },
	{ "710", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN PZN" },
	{ "711", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN CIP" },
	{ "712", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN CN" },
	{ "713", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN DRN" },
	{ "714", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN AIM" },
	{ "715", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN NDC" },
	{ "716", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN AIC" },
	{ "717", false, 1, { { 'X', 1, 20, false, 0 } }, { "01" }, NULL, "NHRN SRN" },
	{ "7230", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 1" },
	{ "7231", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 2" },
	{ "7232", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 3" },
	{ "7233", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 4" },
	{ "7234", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 5" },
	{ "7235", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 6" },
	{ "7236", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 7" },
	{ "7237", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 8" },
	{ "7238", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 9" },
	{ "7239", false, 2, { { 'X', 2, 2, false, 0 }, { 'X', 1, 28, false, 0 } }, { "01,8004" }, NULL, "CERT # 10" },
	{ "7240", false, 1, { { 'X', 1, 20, false, 0 } }, { "01,8006" }, NULL, "PROTOCOL" },
	{ "7241", false, 1, { { 'N', 2, 2, false, 0 } }, { "8017,8018" }, NULL, "AIDC MEDIA TYPE" },
	{ "7242", false, 1, { { 'X', 1, 25, false, 0 } }, { "8017,8018" }, NULL, "VCN" },
	{ "7250", false, 1, { { 'N', 8, 8, false, PM_GS1_L_YYYYMMDD } }, { "8018" }, "7251", "DOB" },
	{ "7251", false, 2, { { 'N', 8, 8, false, PM_GS1_L_YYYYMMDD }, { 'N', 4, 4, false, PM_GS1_L_HHMI } }, { "8018" }, "7250", "DOB TIME" },
	{ "7252", false, 1, { { 'N', 1, 1, false, PM_GS1_L_ISO5218 } }, { "8018" }, NULL, "BIO SEX" },
	{ "7253", false, 1, { { 'X', 1, 40, false, PM_GS1_L_PCENC } }, { "8017,8018" }, "7256,7259", "FAMILY NAME" },
	{ "7254", false, 1, { { 'X', 1, 40, false, PM_GS1_L_PCENC } }, { "8017,8018" }, "7256,7259", "GIVEN NAME" },
	{ "7255", false, 1, { { 'X', 1, 10, false, 0 } }, { "8017,8018" }, "7256,7259", "SUFFIX" },
	{ "7256", false, 1, { { 'X', 1, 90, false, PM_GS1_L_PCENC } }, { "8017,8018" }, NULL, "FULL NAME" },
	{ "7257", false, 1, { { 'X', 1, 70, false, PM_GS1_L_PCENC } }, { "8018" }, NULL, "PERSON ADDR" },
	{ "7258", false, 1, { { 'X', 3, 3, false, 0 } }, { "8018+7259" }, NULL, "BIRTH SEQUENCE" },
	{ "7259", false, 1, { { 'X', 1, 40, false, PM_GS1_L_PCENC } }, { "8018" }, "7256", "BABY" },
	{ "8001", false, 5, { { 'N', 4, 4, false, PM_GS1_L_NONZERO }, { 'N', 5, 5, false, PM_GS1_L_NONZERO }, { 'N', 3, 3, false, PM_GS1_L_NONZERO }, { 'N', 1, 1, false, PM_GS1_L_WINDING }, { 'N', 1, 1, false, 0 } }, { "01" }, NULL, "DIMENSIONS" },
	{ "8002", false, 1, { { 'X', 1, 20, false, 0 } }, { NULL }, NULL, "CMT No." },
	{ "8003", false, 3, { { 'N', 1, 1, false, PM_GS1_L_ZERO }, { 'N', 13, 13, false, PM_GS1_L_CSUM }, { 'X', 1, 16, true, 0 } }, { NULL }, NULL, "GRAI" },
	{ "8004", false, 1, { { 'X', 1, 30, false, 0 } }, { NULL }, NULL, "GIAI" },
	{ "8005", false, 1, { { 'N', 6, 6, false, 0 } }, { "01,02" }, NULL, "PRICE PER UNIT" },
	{ "8006", false, 2, { { 'N', 14, 14, false, PM_GS1_L_CSUM }, { 'N', 4, 4, false, PM_GS1_L_PIECEOFTOTAL } }, { NULL }, "01,37", "ITIP" },
	{ "8007", false, 1, { { 'X', 1, 34, false, 0 } }, { "415" }, NULL, "IBAN" },
	{ "8008", false, 4, { { 'N', 6, 6, false, PM_GS1_L_YYMMDD }, { 'N', 2, 2, false, PM_GS1_L_HH }, { 'N', 2, 2, true, PM_GS1_L_MI }, { 'N', 2, 2, true, PM_GS1_L_SS } }, { "01,02" }, NULL, "PROD TIME" },
	{ "8009", false, 1, { { 'X', 1, 50, false, 0 } }, { "00,01" }, NULL, "OPTSEN" },
	{ "8010", false, 1, { { 'Y', 1, 30, false, 0 } }, { NULL }, NULL, "CPID" },
	{ "8011", false, 1, { { 'N', 1, 12, false, PM_GS1_L_NOZEROPREFIX } }, { "8010" }, NULL, "CPID SERIAL" },
	{ "8012", false, 1, { { 'X', 1, 20, false, 0 } }, { "01,8006" }, NULL, "VERSION" },
	{ "8013", false, 1, { { 'X', 1, 25, false, PM_GS1_L_CSUMALPHA } }, { NULL }, NULL, "GMN" },
	{ "8014", false, 1, { { 'X', 1, 25, false, PM_GS1_L_CSUMALPHA | PM_GS1_L_HASNONDIGIT } }, { "01" }, NULL, "MUDI" },
	{ "8017", false, 1, { { 'N', 18, 18, false, PM_GS1_L_CSUM } }, { NULL }, "8018", "GSRN - PROVIDER" },
	{ "8018", false, 1, { { 'N', 18, 18, false, PM_GS1_L_CSUM } }, { NULL }, "8017", "GSRN - RECIPIENT" },
	{ "8019", false, 1, { { 'N', 1, 10, false, 0 } }, { "8017,8018" }, NULL, "SRIN" },
	{ "8020", false, 1, { { 'X', 1, 25, false, 0 } }, { "415" }, NULL, "REF No." },
	{ "8026", false, 2, { { 'N', 14, 14, false, PM_GS1_L_CSUM }, { 'N', 4, 4, false, PM_GS1_L_PIECEOFTOTAL } }, { "37" }, "02,8006", "ITIP CONTENT" },
	{ "8030", false, 1, { { 'Z', 1, 90, false, 0 } }, { "00,01+21,253,255,8003,8004,8006+21,8010+8011,8017,8018" }, NULL, "DIGSIG" },
	{ "8040", false, 1, { { 'N', 15, 15, false, 0 } }, { "01+21" }, NULL, "IMEI" },
	{ "8041", false, 1, { { 'N', 15, 15, false, 0 } }, { "01+21+8040" }, NULL, "IMEI2" },
	{ "8042", false, 1, { { 'N', 32, 32, false, 0 } }, { "01+21+8040" }, NULL, "ESIM" },
	{ "8043", false, 2, { { 'N', 18, 18, false, 0 }, { 'N', 1, 2, true, 0 } }, { "01+21+8040" }, NULL, "PSIM" },
	{ "8110", false, 1, { { 'X', 1, 70, false, 0 } }, { NULL }, NULL, "" },
	{ "8111", false, 1, { { 'N', 4, 4, false, 0 } }, { "255" }, NULL, "POINTS" },
	{ "8112", false, 1, { { 'X', 1, 70, false, 0 } }, { NULL }, NULL, "" },
	{ "8200", false, 1, { { 'X', 1, 70, false, 0 } }, { "01" }, NULL, "PRODUCT URL" },
	{ "90", false, 1, { { 'X', 1, 30, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "91", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "92", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "93", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "94", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "95", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "96", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "97", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "98", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
	{ "99", false, 1, { { 'X', 1, 90, false, 0 } }, { NULL }, NULL, "INTERNAL" },
};

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct ai_def *lookup(const char *ai, size_t al)
{
	size_t lo = 0, hi = sizeof(dict) / sizeof(dict[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(dict[mid].ai, ai, al);
		if (c == 0 && dict[mid].ai[al] != '\0')
			c = 1; /* a longer AI with this prefix sorts after */
		if (c == 0)
			return &dict[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The dictionary's title, or "value" for the few AIs without one (8110, ...). */
static const char *title(const struct ai_def *a)
{
	return a->title[0] ? a->title : "value";
}

static bool isdig(char c) { return c >= '0' && c <= '9'; }

static bool in_cset(char type, char c)
{
	static const char cset82[] = "!\"%&'()*+,-./:;<=>?_";
	if (isdig(c) && type != 0)
		return true;
	bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
	switch (type) {
	case 'N': return false;
	case 'X': return upper || lower || (c != '\0' && strchr(cset82, c));
	case 'Y': return upper || c == '#' || c == '-' || c == '/';
	case 'Z': return upper || lower || c == '-' || c == '_' || c == '=';
	default: return false;
	}
}

static const char *cset_name(char type)
{
	switch (type) {
	case 'N': return "digits only";
	case 'X': return "GS1 character set 82";
	case 'Y': return "GS1 character set 39";
	default: return "GS1 character set 64";
	}
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int days_in(int year, int month)
{
	static const int d[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month == 2 && year >= 0)
		return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
	return d[month - 1];
}

bool pm_gs1_csumalpha_ok(const char *s, size_t n)
{
	static const char cset82[] = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
				     "abcdefghijklmnopqrstuvwxyz";
	static const char cset32[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
	static const unsigned primes[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41,
					   43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89 };
	if (n < 2 || n - 2 > sizeof(primes) / sizeof(primes[0]))
		return false;
	unsigned sum = 0;
	for (size_t i = 0; i < n - 2; i++) {
		const char *p = s[i] ? strchr(cset82, s[i]) : NULL;
		if (!p)
			return false;
		sum += (unsigned)(p - cset82) * primes[n - 3 - i];
	}
	sum %= 1021;
	return s[n - 2] == cset32[sum >> 5] && s[n - 1] == cset32[sum & 31];
}

/* A component's checks (its characters are already in its set). NULL when fine, else why. */
static const char *lint(uint32_t l, const char *s, size_t n, char *why, size_t wl)
{
	if ((l & PM_GS1_L_CSUM) && pm_gs1_check_digit(s, n - 1) != s[n - 1] - '0') {
		snprintf(why, wl, "bad check digit (expected %d)", pm_gs1_check_digit(s, n - 1));
		return why;
	}
	if ((l & PM_GS1_L_CSUMALPHA) && !pm_gs1_csumalpha_ok(s, n))
		return "bad check character pair";
	if (l & (PM_GS1_L_YYMMDD | PM_GS1_L_YYMMD0 | PM_GS1_L_YYYYMMDD)) {
		size_t y = (l & PM_GS1_L_YYYYMMDD) ? 4 : 2;
		if (n != y + 4)
			return "is not a date";
		/* YY: the year is not known without the century; any 29 February of a yy%4==0 year */
		int year = y == 4 ? num(s, 4) : (num(s, 2) % 4 == 0 ? 2000 : 2001);
		int mo = num(s + y, 2), day = num(s + y + 2, 2);
		if (mo < 1 || mo > 12)
			return "is not a date (month 01-12)";
		if (day == 0 && (l & PM_GS1_L_YYMMD0))
			return NULL; /* day 00: the end of the month, as GS1 allows here */
		if (day < 1 || day > days_in(year, mo))
			return "is not a date (no such day)";
	}
	if ((l & PM_GS1_L_HHMI) && (n != 4 || num(s, 2) > 23 || num(s + 2, 2) > 59))
		return "is not a time HHMM";
	if ((l & PM_GS1_L_HH) && num(s, n) > 23)
		return "is not an hour 00-23";
	if ((l & (PM_GS1_L_MI | PM_GS1_L_SS)) && num(s, n) > 59)
		return "is not minutes/seconds 00-59";
	if (l & PM_GS1_L_NONZERO) {
		size_t i = 0;
		while (i < n && s[i] == '0')
			i++;
		if (i == n)
			return "must not be zero";
	}
	if ((l & PM_GS1_L_ZERO) && !(n == 1 && s[0] == '0'))
		return "must be 0";
	if ((l & PM_GS1_L_YESNO) && !(n == 1 && (s[0] == '0' || s[0] == '1')))
		return "must be 0 or 1";
	if ((l & PM_GS1_L_ISO5218) && !(n == 1 && strchr("0129", s[0])))
		return "is not an ISO 5218 sex code (0, 1, 2, 9)";
	if ((l & PM_GS1_L_WINDING) && !(n == 1 && strchr("019", s[0])))
		return "is not a winding direction (0, 1, 9)";
	if ((l & PM_GS1_L_PIECEOFTOTAL) && n % 2 == 0) {
		int piece = num(s, n / 2), total = num(s + n / 2, n / 2);
		if (piece == 0 || total == 0 || piece > total)
			return "is not piece N of total T (1 <= N <= T)";
	}
	if (l & PM_GS1_L_HYPHEN)
		for (size_t i = 0; i < n; i++)
			if (s[i] != '-')
				return "must be '-'";
	if (l & PM_GS1_L_HASNONDIGIT) {
		size_t i = 0;
		while (i < n && isdig(s[i]))
			i++;
		if (i == n)
			return "must not be all digits";
	}
	if ((l & PM_GS1_L_NOZEROPREFIX) && n > 1 && s[0] == '0')
		return "must not start with 0";
	if (l & PM_GS1_L_PCENC)
		for (size_t i = 0; i < n; i++) {
			if (s[i] != '%')
				continue;
			if (i + 2 >= n || !strchr("0123456789ABCDEFabcdef", s[i + 1]) ||
			    !strchr("0123456789ABCDEFabcdef", s[i + 2]))
				return "has a bad percent escape";
			i += 2;
		}
	return NULL;
}

/* One value against its AI's components: true when valid, else false with why in err. */
static bool check_value(const struct ai_def *a, const char *v, size_t vlen, char *err, size_t errlen)
{
	size_t pos = 0;
	char why[48];
	for (unsigned c = 0; c < a->ncomp; c++) {
		const struct comp *k = &a->comp[c];
		if (k->opt && pos == vlen)
			break;
		size_t left = vlen - pos, take;
		if (k->min == k->max) {
			if (left < k->max) {
				say(err, errlen, "GS1 AI (%s) %s is too short (%zu characters, needs %u%s); rescan",
				    a->ai, title(a), vlen, (unsigned)(pos + k->max), a->ncomp > 1 ? " or more" : "");
				return false;
			}
			take = k->max;
		} else {
			take = left < k->max ? left : k->max; /* the last component: pos != vlen below */
			if (take < k->min) {
				say(err, errlen, "GS1 AI (%s) %s is empty; rescan", a->ai, title(a));
				return false;
			}
		}
		for (size_t i = 0; i < take; i++)
			if (!in_cset(k->type, v[pos + i])) {
				say(err, errlen, "GS1 AI (%s) %s has a character outside %s at %zu; rescan",
				    a->ai, title(a), cset_name(k->type), pos + i + 1);
				return false;
			}
		const char *bad = lint(k->lint, v + pos, take, why, sizeof(why));
		if (bad) {
			say(err, errlen, "GS1 AI (%s) %s: '%.*s' %s; rescan", a->ai, title(a),
			    (int)(take > 20 ? 20 : take), v + pos, bad);
			return false;
		}
		pos += take;
	}
	if (pos != vlen) {
		size_t maxl = 0;
		for (unsigned c = 0; c < a->ncomp; c++)
			maxl += a->comp[c].max;
		say(err, errlen, "GS1 AI (%s) %s is too long (%zu characters, at most %zu); rescan",
		    a->ai, title(a), vlen, maxl);
		return false;
	}
	return true;
}

/* Does the AI match a dictionary pattern such as "01", "310n", "35nn"? */
static bool ai_matches(const char *ai, const char *pat, size_t pl)
{
	if (strlen(ai) != pl)
		return false;
	for (size_t i = 0; i < pl; i++)
		if (pat[i] != ai[i] && !(pat[i] == 'n' && isdig(ai[i])))
			return false;
	return true;
}

static bool present(const struct pm_gs1_elem *el, size_t n, const char *pat, size_t pl)
{
	for (size_t i = 0; i < n; i++)
		if (ai_matches(el[i].ai, pat, pl))
			return true;
	return false;
}

/* "01+21,02,35nn": true when one group has all its AIs present. */
static bool req_met(const struct pm_gs1_elem *el, size_t n, const char *req)
{
	const char *g = req;
	while (*g) {
		size_t glen = strcspn(g, ",");
		bool all = true;
		const char *p = g;
		while (p < g + glen) {
			size_t pl = strcspn(p, "+,");
			if (!present(el, n, p, pl))
				all = false;
			p += pl + (p[pl] == '+');
		}
		if (all)
			return true;
		g += glen + (g[glen] == ',');
	}
	return false;
}

static const char *readable_list(const char *s, char *buf, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 5 < cap; s++) {
		if (*s == ',') {
			memcpy(buf + o, " or ", 4);
			o += 4;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

bool pm_gs1_parse(const char *d, size_t n, struct pm_gs1_elem el[PM_GS1_MAX_ELEMS],
		  size_t *count, char *err, size_t errlen)
{
	const struct ai_def *defs[PM_GS1_MAX_ELEMS];
	size_t i = 0, k = 0;
	*count = 0;
	while (i < n) {
		if (d[i] == GS) {
			i++;
			continue;
		}
		const struct ai_def *a = NULL;
		size_t al;
		for (al = 2; al <= 4 && !a; al++) {
			if (i + al > n || !isdig(d[i + al - 1]) || !isdig(d[i]))
				break;
			a = lookup(d + i, al);
		}
		if (!a) {
			size_t show = n - i < 8 ? n - i : 8;
			for (size_t j = 0; j < show; j++)
				if (d[i + j] == GS)
					show = j;
			say(err, errlen, "GS1 element string has an application identifier unknown to GS1 "
			    "near '%.*s'; rescan or key the product number", (int)show, d + i);
			return false;
		}
		al = strlen(a->ai);
		if (k == PM_GS1_MAX_ELEMS) {
			say(err, errlen, "GS1 element string has more than %d elements; rescan",
			    PM_GS1_MAX_ELEMS);
			return false;
		}
		i += al;
		size_t vlen;
		if (a->predef) {
			size_t fixed = 0;
			for (unsigned c = 0; c < a->ncomp; c++)
				fixed += a->comp[c].max;
			if (n - i < fixed) {
				say(err, errlen, "GS1 element string is cut short after AI (%s) %s "
				    "(%zu of %zu characters); rescan", a->ai, title(a), n - i, fixed);
				return false;
			}
			vlen = fixed;
		} else {
			const char *gs = memchr(d + i, GS, n - i);
			vlen = gs ? (size_t)(gs - (d + i)) : n - i;
		}
		if (vlen == 0) {
			say(err, errlen, "GS1 element string has an empty AI (%s) %s; rescan", a->ai, title(a));
			return false;
		}
		memcpy(el[k].ai, a->ai, al + 1);
		el[k].v = d + i;
		el[k].vlen = vlen;
		defs[k] = a;
		*count = ++k;
		i += vlen;
		if (!check_value(a, el[k - 1].v, vlen, err, errlen))
			return false;
	}
	if (k == 0) {
		say(err, errlen, "GS1 element string has no data%s; rescan", "");
		return false;
	}
	char list[64];
	for (size_t x = 0; x < k; x++) {
		for (size_t y = 0; y < x; y++)
			if (!strcmp(el[x].ai, el[y].ai) &&
			    (el[x].vlen != el[y].vlen || memcmp(el[x].v, el[y].v, el[x].vlen))) {
				say(err, errlen, "GS1 AI (%s) %s appears twice with different values; rescan",
				    el[x].ai, title(defs[x]));
				return false;
			}
		const char *ex = defs[x]->ex;
		while (ex && *ex) {
			size_t pl = strcspn(ex, ",");
			for (size_t y = 0; y < k; y++)
				if (strcmp(el[y].ai, el[x].ai) && ai_matches(el[y].ai, ex, pl)) {
					say(err, errlen, "GS1 AI (%s) %s cannot be used with AI (%s) %s; rescan",
					    el[x].ai, title(defs[x]), el[y].ai, title(defs[y]));
					return false;
				}
			ex += pl + (ex[pl] == ',');
		}
		for (size_t r = 0; r < 2; r++)
			if (defs[x]->req[r] && !req_met(el, k, defs[x]->req[r])) {
				say(err, errlen, "GS1 AI (%s) %s needs AI %s in the same scan; rescan",
				    el[x].ai, title(defs[x]), readable_list(defs[x]->req[r], list, sizeof(list)));
				return false;
			}
	}
	return true;
}
