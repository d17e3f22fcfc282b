/*
 * code128.c - CODE128 as posmark sends it to an ESC/POS printer (GS k 73)
 * and as a printer reads it back: the data with code set selections ({A {B
 * {C, {S shift, {1..{4 FNC, {{ a brace), the symbol values it stands for,
 * and the bars. One implementation for the encoder (which needs the width
 * before it sends a barcode), the raster fallback, the reader and the PNG
 * preview, so what the preview shows is what the printer prints.
 * Reference: ISO/IEC 15417 (patterns, check symbol), Epson ESC/POS GS k
 * function B, m = 73.
 */
#include "drivers/drv_backend.h"

#include <string.h>

/* Bar/space widths of values 0..105 (6 elements, 11 modules); 106 = stop (7 elements, 13). */
static const char pattern[107][8] = {
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232", "2331112",
};

enum { SET_A = 101, SET_B = 100, SET_C = 99, START_A = 103, START_B = 104, START_C = 105 };

static size_t digit_run(const char *s)
{
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

int prni_c128_escpos(const char *text, unsigned char *out, size_t cap)
{
	size_t len = strlen(text), o = 0, i = 0;
	bool in_c;
#define OUT(c) do { if (o >= cap) return -1; out[o++] = (unsigned char)(c); } while (0)
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)text[k] < 0x20 || (unsigned char)text[k] > 0x7e)
			return -1;
	size_t lead = digit_run(text);
	in_c = lead >= 4 || (lead == len && lead >= 2 && lead % 2 == 0);
	OUT('{');
	OUT(in_c ? 'C' : 'B');
	while (i < len) {
		size_t run = digit_run(text + i);
		if (in_c) {
			if (run >= 2) {
				OUT((text[i] - '0') * 10 + (text[i + 1] - '0'));
				i += 2;
				continue;
			}
			OUT('{');
			OUT('B');
			in_c = false;
			continue;
		}
		/* a run of 4 or more digits is shorter in code C (the switch costs one symbol, each pair
		 * saves one); an odd run gives its first digit to code B */
		if (run >= 4) {
			if (run % 2) {
				OUT(text[i]);
				i++;
			}
			OUT('{');
			OUT('C');
			in_c = true;
			continue;
		}
		if (text[i] == '{')
			OUT('{');
		OUT(text[i]);
		i++;
	}
	return (int)o;
#undef OUT
}

/* The value of data byte c in code set set (A or B); -1 if that set cannot encode it. */
static int value_in(int set, unsigned char c)
{
	if (c >= 0x20 && c <= 0x5f)
		return c - 0x20;
	if (set == SET_B)
		return c >= 0x60 && c <= 0x7f ? c - 0x20 : -1;
	return c < 0x20 ? c + 64 : -1;
}

int prni_c128_parse(const unsigned char *d, size_t n, int *vals, size_t cap, char *text, size_t tcap)
{
	size_t nv = 0, nt = 0;
	int set = 0;
	bool shift = false;
#define VAL(v) do { if (nv >= cap) return -1; vals[nv++] = (v); } while (0)
#define TXT(c) do { if (nt + 1 < tcap) text[nt++] = (char)(c); } while (0)
	if (tcap)
		text[0] = '\0';
	if (n < 2 || d[0] != '{' || (d[1] != 'A' && d[1] != 'B' && d[1] != 'C'))
		return -1;   /* the printer needs a code set first */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = d[i];
		if (c == '{' && i + 1 < n && d[i + 1] != '{') {
			unsigned char s = d[++i];
			int want = s == 'A' ? SET_A : s == 'B' ? SET_B : s == 'C' ? SET_C : 0;
			if (want) {
				if (set && want == set)
					return -1;
				VAL(set ? want : want == SET_A ? START_A : want == SET_B ? START_B : START_C);
				set = want;
			} else if (s == 'S' && set != SET_C && set) {
				VAL(98);
				shift = true;
			} else if (s >= '1' && s <= '4' && set) {
				static const int fnc[2][4] = { { 102, 97, 96, 101 }, { 102, 97, 96, 100 } };
				if (s != '1' && set == SET_C)
					return -1;
				VAL(fnc[set == SET_B][s - '1']);
			} else {
				return -1;
			}
			continue;
		}
		if (c == '{')
			i++;          /* "{{" is one brace */
		if (set == SET_C) {
			if (c > 99)
				return -1;
			VAL(c);
			TXT('0' + c / 10);
			TXT('0' + c % 10);
			continue;
		}
		int v = value_in(shift ? (set == SET_A ? SET_B : SET_A) : set, c);
		shift = false;
		if (v < 0)
			return -1;
		VAL(v);
		TXT(c >= 0x20 && c < 0x7f ? c : '?');
	}
	if (nv < 2 || shift)
		return -1;   /* a start and at least one symbol */
	long sum = vals[0];
	for (size_t k = 1; k < nv; k++)
		sum += (long)k * vals[k];
	VAL((int)(sum % 103));
	if (tcap)
		text[nt < tcap ? nt : tcap - 1] = '\0';
	return (int)nv;
#undef VAL
#undef TXT
}

int prni_c128_width(int nvals)
{
	return nvals * 11 + 13;
}

int prni_c128_modules(const int *vals, int nvals, unsigned char *mods, size_t cap)
{
	size_t m = 0;
	for (int k = 0; k <= nvals; k++) {
		const char *p = pattern[k < nvals ? vals[k] : 106];
		for (int e = 0; p[e]; e++)
			for (int w = 0; w < p[e] - '0'; w++) {
				if (m >= cap)
					return -1;
				mods[m++] = (unsigned char)(e % 2 == 0);   /* bar, space, bar, ... */
			}
	}
	return (int)m;
}
