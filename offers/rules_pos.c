/*
 * rules_pos.c - line numbers for semantic errors. jansson reports the line
 * of a syntax error but keeps no positions on the values it builds, so when
 * the checker finds a bad value it walks the (already valid) JSON text again
 * along the value's path ("rules[3].offer.item") and counts newlines. Only
 * runs when there is an error to report, so it costs nothing on a good file.
 * Also the list of findings itself (ofri_diag), each with its line.
 */
#include "offers/ofr_int.h"
#include "common/pm_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct walker {
	const char *s;
	size_t len, i;
	int line;
};

static void skip_ws(struct walker *w)
{
	while (w->i < w->len) {
		char c = w->s[w->i];
		if (c == '\n')
			w->line++;
		else if (c != ' ' && c != '\t' && c != '\r')
			return;
		w->i++;
	}
}

/* Skip a string starting at '"'; copy up to cap-1 bytes of it (raw) into buf. */
static void skip_string(struct walker *w, char *buf, size_t cap)
{
	size_t o = 0;
	w->i++;
	while (w->i < w->len && w->s[w->i] != '"') {
		if (w->s[w->i] == '\\')
			w->i++;
		else if (buf && o + 1 < cap)
			buf[o++] = w->s[w->i];
		w->i++;
	}
	w->i++;
	if (buf)
		buf[o] = '\0';
}

static void skip_value(struct walker *w)
{
	int depth = 0;
	skip_ws(w);
	do {
		if (w->i >= w->len)
			return;
		char c = w->s[w->i];
		if (c == '"') {
			skip_string(w, NULL, 0);
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		else if (c == '\n')
			w->line++;
		else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r'))
			return;
		w->i++;
		if (depth == 0 && (c == '}' || c == ']'))
			return;
	} while (depth > 0 || w->i < w->len);
}

/* Past the value at hand and its ',' to the next member; false at the end. */
static bool skip_to_next(struct walker *w)
{
	skip_value(w);
	skip_ws(w);
	if (w->i >= w->len || w->s[w->i] != ',')
		return false;
	w->i++;
	return true;
}

/* Positioned at a value; descend into key / index. Returns false if absent. */
static bool enter_key(struct walker *w, const char *key)
{
	char k[128];
	skip_ws(w);
	if (w->i >= w->len || w->s[w->i] != '{')
		return false;
	w->i++;
	for (;;) {
		skip_ws(w);
		if (w->i >= w->len || w->s[w->i] != '"')
			return false;
		skip_string(w, k, sizeof(k));
		skip_ws(w);
		w->i++; /* ':' */
		skip_ws(w);
		if (!strcmp(k, key))
			return true;
		if (!skip_to_next(w))
			return false;
	}
}

static bool enter_index(struct walker *w, long idx)
{
	skip_ws(w);
	if (w->i >= w->len || w->s[w->i] != '[')
		return false;
	w->i++;
	for (long n = 0;; n++) {
		skip_ws(w);
		if (w->i >= w->len || w->s[w->i] == ']')
			return false;
		if (n == idx)
			return true;
		if (!skip_to_next(w))
			return false;
	}
}

int ofri_line_of(const char *text, size_t len, const char *path)
{
	struct walker w = { text, len, 0, 1 };
	const char *p = path;
	char key[128];
	int last_good = 0;
	while (*p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			long idx = strtol(p + 1, (char **)&p, 10);
			if (*p == ']')
				p++;
			if (!enter_index(&w, idx))
				return last_good;
		} else {
			size_t n = strcspn(p, ".[");
			if (n >= sizeof(key))
				return last_good;
			memcpy(key, p, n);
			key[n] = '\0';
			p += n;
			if (!enter_key(&w, key))
				return last_good;
		}
		skip_ws(&w);
		last_good = w.line;
	}
	return last_good ? last_good : 1;
}

void ofri_diag(struct ofr_diags *d, const char *text, size_t len, bool warning, const char *path,
	       const char *fmt, ...)
{
	va_list ap;
	if (warning)
		d->warnings++;
	else
		d->errors++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct ofr_diag *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	struct ofr_diag *x = &d->v[d->n++];
	memset(x, 0, sizeof(*x));
	x->warning = warning;
	snprintf(x->path, sizeof(x->path), "%s", path ? path : "");
	/* Finding a line rescans the text: only for the findings a person will read. */
	x->line = d->n > OFR_DIAG_LINES ? 0 : (text && path && *path) ? ofri_line_of(text, len, path) : (text ? 1 : 0);
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}

void ofr_diags_release(struct ofr_diags *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* A rule-set date or time (docs/rules.md, limits) in UTC microseconds. */
int ofri_parse_date(const char *s, bool end_of_day, int64_t *out_us)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return PM_EINVAL;
	if (s[10]) {
		int m = 0;
		if (sscanf(s + 10, "T%2d:%2d:%2dZ%n", &h, &mi, &sec, &m) != 3 || s[10 + m])
			return PM_EINVAL;
	} else if (end_of_day) {
		h = 23, mi = 59, sec = 59;
	}
	if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return PM_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out_us = (int64_t)timegm(&tm) * 1000000 + (end_of_day && !s[10] ? 999999 : 0);
	return PM_OK;
}
