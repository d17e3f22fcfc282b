/*
 * pm_gs1_dict.c - GS1 element strings validated against the GS1 Barcode
 * Syntax Dictionary (pm_gs1.h, pm_gs1_parse), whose rows are the data in
 * pm_gs1_table.c (with their source and version).
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
#include "common/pm_gs1_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GS 0x1d

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
	size_t lo = 0, hi = pm_gs1_table_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(pm_gs1_table[mid].ai, ai, al);
		if (c == 0 && pm_gs1_table[mid].ai[al] != '\0')
			c = 1; /* a longer AI with this prefix sorts after */
		if (c == 0)
			return &pm_gs1_table[mid];
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
