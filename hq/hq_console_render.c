/*
 * hq_console_render.c - any page document (hq_pages.h) as HTML or CSV
 * (charts: hq_console_chart.c), and the one place card values are masked (docs/console.md,
 * "The page document" and "Card numbers"). Rendering is on the server:
 * the pages work without scripts (the one script only sorts tables), the
 * browser fetches nothing beyond HQ, and what an analyst receives can be
 * checked by reading the bytes HQ sent.
 */
#include "hq/hq_console_int.h"
#include "hq/hq_int.h"
#include "hq/hq_vault.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- card numbers -------------------------------------------------------- */

const char *console_card_label(PGconn *c, const char *stored, bool unmasked, char *out, size_t outlen)
{
	/* HQ stores a card as its vault ref (docs/privacy.md, "At HQ"): the number comes from
	 * the vault, and a card erased since (no vault row) shows as erased, to everyone */
	char number[HQV_NUMBER_MAX + 1] = "", err[200];
	if (stored && *stored) {
		size_t d = strspn(stored, "0123456789");
		int rc = hqv_is_ref(stored) ? hqv_number_of(c, stored, number, err, sizeof(err))
			 : stored[d] == '\0' && d <= HQV_NUMBER_MAX ? (memcpy(number, stored, d + 1), PM_OK)
			 : PM_EINVAL;   /* digits: a number already (a page that has one) */
		if (rc) {
			snprintf(out, outlen, "%s", rc == PM_ENOENT ? "(erased)" : "(unreadable)");
			return out;
		}
	}
	size_t n = strlen(number);
	if (unmasked) {
		snprintf(out, outlen, "%s", number);
		return out;
	}
	/* the last 4 digits only, and never all of a short one */
	const char *tail = n > 8 ? number + n - 4 : "";
	snprintf(out, outlen, "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 %s", tail);
	return out;
}

int console_card_stored(PGconn *c, const char *number, char *out, size_t outlen)
{
	/* a number typed by an operator (or a ref pasted from SQL) to the ref HQ stores */
	char ref[HQV_REF_LEN + 1], err[200];
	size_t n = strlen(number);
	if (n == 0 || outlen <= HQV_REF_LEN ||
	    (!hqv_is_ref(number) && (n > HQV_NUMBER_MAX || strspn(number, "0123456789") != n)))
		return PM_EINVAL;
	int rc = hqv_card_ref(c, number, false, ref, err, sizeof(err));
	if (rc)
		return rc;
	memcpy(out, ref, HQV_REF_LEN + 1);
	return PM_OK;
}

/* A card reference: base64url(nonce | secretbox(stored)) under the console's secret,
 * so links to a card's page never carry its number (analysts' pages, logs, Referer). */
int console_card_ref_make(PGconn *c, const char *stored, char *ref, size_t len)
{
	unsigned char key[32], buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 128];
	size_t n = strlen(stored);
	if (n > 128 || console_secret(c, key))
		return PM_EINVAL;
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const unsigned char *)stored, n, buf, key);
	sodium_memzero(key, sizeof(key));
	size_t total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	if (len < sodium_base64_ENCODED_LEN(total, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return PM_EINVAL;
	sodium_bin2base64(ref, len, buf, total, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return PM_OK;
}

int console_card_ref_open(PGconn *c, const char *ref, char *stored, size_t len)
{
	unsigned char key[32], buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 128];
	size_t n = 0;
	if (console_secret(c, key))
		return PM_EINVAL;
	if (sodium_base642bin(buf, sizeof(buf), ref, strlen(ref), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
	    n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES >= len) {
		sodium_memzero(key, sizeof(key));
		return PM_EINVAL;
	}
	size_t m = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	int bad = crypto_secretbox_open_easy((unsigned char *)stored, buf + crypto_secretbox_NONCEBYTES,
					     n - crypto_secretbox_NONCEBYTES, buf, key);
	sodium_memzero(key, sizeof(key));
	if (bad)
		return PM_EINVAL;
	stored[m] = '\0';
	return strlen(stored) == m ? PM_OK : PM_EINVAL;
}

static bool col_is_card(const json_t *col)
{
	const char *t = json_string_value(json_object_get(col, "type"));
	return t && !strcmp(t, "card");
}

void console_mask_document(PGconn *c, json_t *doc, bool unmasked)
{
	char label[160], ref[300];
	size_t i, k;
	json_t *t, *f, *row;
	json_array_foreach(json_object_get(doc, "tables"), i, t) {
		json_t *cols = json_object_get(t, "columns"), *col, *refs = NULL;
		json_array_foreach(cols, k, col) {
			if (!col_is_card(col))
				continue;
			json_t *rr = json_array();
			size_t j;
			json_array_foreach(json_object_get(t, "rows"), j, row) {
				json_t *v = json_array_get(row, k);
				const char *s = json_string_value(v);
				if (!s) {
					json_array_append_new(rr, json_null());
					if (v && !json_is_null(v)) /* a number in a card column: never shown as is */
						json_array_set_new(row, k, json_null());
					continue;
				}
				json_array_append_new(rr, console_card_ref_make(c, s, ref, sizeof(ref)) ? json_null()
												       : json_string(ref));
				json_array_set_new(row, k, json_string(console_card_label(c, s, unmasked, label, sizeof(label))));
			}
			if (!refs)
				refs = json_object();
			json_object_set_new(refs, json_string_value(json_object_get(col, "key")), rr);
		}
		if (refs)
			json_object_set_new(t, "card_refs", refs);
	}
	json_array_foreach(json_object_get(doc, "figures"), i, f) {
		if (!col_is_card(f))
			continue;
		const char *s = json_string_value(json_object_get(f, "value"));
		json_object_set_new(f, "value", s ? json_string(console_card_label(c, s, unmasked, label, sizeof(label)))
						  : json_null());
	}
	/* the page's own parameters name the card too */
	json_t *params = json_object_get(doc, "params");
	const char *pc = json_string_value(json_object_get(params, "card"));
	if (pc && *pc)
		json_object_set_new(params, "card", json_string(console_card_label(c, pc, unmasked, label, sizeof(label))));
}

/* ---- values as text -------------------------------------------------------- */

void console_html_esc(struct pm_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': pm_buf_adds(b, "&lt;"); break;
		case '>': pm_buf_adds(b, "&gt;"); break;
		case '&': pm_buf_adds(b, "&amp;"); break;
		case '"': pm_buf_adds(b, "&quot;"); break;
		case '\'': pm_buf_adds(b, "&#39;"); break;
		default: pm_buf_addc(b, *s);
		}
	}
}

static void cents_text(struct pm_buf *b, json_int_t v)
{
	unsigned long long a = v < 0 ? (unsigned long long)-(v + 1) + 1 : (unsigned long long)v;
	pm_buf_printf(b, "%s%llu.%02llu", v < 0 ? "-" : "", a / 100, a % 100);
}

/* A value as a person reads it (not escaped). */
void console_value_text(struct pm_buf *b, const char *type, const json_t *v)
{
	if (!v || json_is_null(v)) {
		pm_buf_adds(b, "\u2013");
		return;
	}
	if (!type)
		type = "text";
	if (json_is_string(v)) {
		pm_buf_adds(b, json_string_value(v));
	} else if (!strcmp(type, "cents") && json_is_integer(v)) {
		cents_text(b, json_integer_value(v));
	} else if (!strcmp(type, "ratio") && json_is_number(v)) {
		pm_buf_printf(b, "%.1f%%", json_number_value(v) * 100.0);
	} else if (!strcmp(type, "interval") && json_is_array(v)) {
		console_value_text(b, "ratio", json_array_get(v, 0));
		pm_buf_adds(b, " \u2013 ");
		console_value_text(b, "ratio", json_array_get(v, 1));
	} else if (!strcmp(type, "date") && json_is_integer(v)) {
		time_t t = (time_t)(json_integer_value(v) / 1000000);
		struct tm tm;
		char s[32];
		gmtime_r(&t, &tm);
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
		pm_buf_adds(b, s);
	} else if (json_is_integer(v)) {
		pm_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		pm_buf_printf(b, "%.3f", json_real_value(v));
	} else if (json_is_true(v) || json_is_false(v)) {
		pm_buf_adds(b, json_is_true(v) ? "yes" : "no");
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		pm_buf_adds(b, s ? s : "");
		free(s);
	}
}

/* A value for sorting and for machines (CSV, data-v): numbers as numbers. */
static void value_raw(struct pm_buf *b, const json_t *v)
{
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v))
		pm_buf_adds(b, json_string_value(v));
	else if (json_is_integer(v))
		pm_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		pm_buf_printf(b, "%.6g", json_real_value(v));
	else if (json_is_array(v) && json_array_size(v) == 2) {
		value_raw(b, json_array_get(v, 0));
		pm_buf_addc(b, ';');
		value_raw(b, json_array_get(v, 1));
	} else if (json_is_boolean(v))
		pm_buf_adds(b, json_is_true(v) ? "true" : "false");
}

/* ---- CSV ------------------------------------------------------------------ */

const json_t *console_find_table(const json_t *doc, const char *name)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(doc, "tables"), i, t) {
		const char *n = json_string_value(json_object_get(t, "name"));
		if (n && !strcmp(n, name))
			return t;
	}
	return NULL;
}

int console_col_index(const json_t *t, const char *key)
{
	size_t k;
	json_t *col;
	json_array_foreach(json_object_get(t, "columns"), k, col) {
		const char *n = json_string_value(json_object_get(col, "key"));
		if (n && key && !strcmp(n, key))
			return (int)k;
	}
	return -1;
}

static void csv_field(struct pm_buf *b, const char *s)
{
	/* a leading =, +, - or @ would be a formula in a spreadsheet: quoted with a ' */
	bool formula = s[0] == '=' || s[0] == '+' || s[0] == '@' || (s[0] == '-' && strspn(s + 1, "0123456789.") != strlen(s + 1));
	if (!formula && !strpbrk(s, ",\"\r\n")) {
		pm_buf_adds(b, s);
		return;
	}
	pm_buf_addc(b, '"');
	if (formula)
		pm_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			pm_buf_addc(b, '"');
		pm_buf_addc(b, *s);
	}
	pm_buf_addc(b, '"');
}

int console_render_csv(const json_t *doc, const char *table, struct pm_buf *b)
{
	const json_t *t = console_find_table(doc, table);
	size_t i, k;
	json_t *col, *row;
	if (!t)
		return PM_ENOENT;
	json_t *cols = json_object_get(t, "columns");
	json_array_foreach(cols, k, col) {
		if (k)
			pm_buf_addc(b, ',');
		csv_field(b, json_string_value(json_object_get(col, "key")) ? json_string_value(json_object_get(col, "key")) : "");
	}
	pm_buf_adds(b, "\r\n");
	json_array_foreach(json_object_get(t, "rows"), i, row) {
		json_array_foreach(cols, k, col) {
			struct pm_buf v = { 0 };
			if (k)
				pm_buf_addc(b, ',');
			value_raw(&v, json_array_get(row, k));
			csv_field(b, pm_buf_cstr(&v) ? pm_buf_cstr(&v) : "");
			pm_buf_free(&v);
		}
		pm_buf_adds(b, "\r\n");
	}
	return PM_OK;
}

/* ---- the HTML page ------------------------------------------------------------ */

void console_html_head(struct pm_buf *b, const char *title)
{
	pm_buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	console_html_esc(b, title);
	pm_buf_adds(b, " \u2013 posmark HQ</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\">"
		       "<script src=\"/console/assets/console.js\" defer></script></head><body>");
}

static void url_esc(struct pm_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-_.~", ch))
			pm_buf_addc(b, (char)ch);
		else
			pm_buf_printf(b, "%%%02X", ch);
	}
}

static void render_menu(const json_t *doc, const struct console_user *u, const char *const *menu, struct pm_buf *b)
{
	const char *page = json_string_value(json_object_get(doc, "page"));
	pm_buf_adds(b, "<header><nav><span class=\"brand\">posmark HQ</span>");
	for (size_t i = 0; menu[i]; i++) {
		pm_buf_printf(b, "<a href=\"/console/page/%s\"%s>", menu[i],
			      page && !strcmp(page, menu[i]) ? " class=\"here\" aria-current=\"page\"" : "");
		console_html_esc(b, menu[i]);
		pm_buf_adds(b, "</a>");
	}
	pm_buf_adds(b, "</nav><div class=\"who\">");
	console_html_esc(b, u->name);
	pm_buf_printf(b, " <span class=\"role\">(%s)</span><form method=\"post\" action=\"/console/logout\">"
		      "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button>Log out</button></form></div></header>",
		      u->operator ? "operator" : "analyst", u->csrf);
}

static void day_of(const json_t *params, const char *key, char *out, size_t n)
{
	json_int_t us = json_integer_value(json_object_get(params, key));
	out[0] = '\0';
	if (us > 0) {
		time_t t = (time_t)(us / 1000000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(out, n, "%Y-%m-%d", &tm);
	}
}

/* The GET form: period and store for every page, then the document's own "inputs". */
static void render_filters(const json_t *doc, struct pm_buf *b)
{
	const json_t *params = json_object_get(doc, "params"), *in;
	char from[16], to[16];
	size_t i;
	day_of(params, "from_us", from, sizeof(from));
	day_of(params, "to_us", to, sizeof(to));
	pm_buf_printf(b, "<form class=\"filters\" method=\"get\"><label>From <input type=\"date\" name=\"from\" value=\"%s\">"
		      "</label><label>To <input type=\"date\" name=\"to\" value=\"%s\"></label><label>Store "
		      "<input type=\"text\" name=\"store\" size=\"10\" placeholder=\"whole chain\" value=\"", from, to);
	console_html_esc(b, json_string_value(json_object_get(params, "store")));
	pm_buf_adds(b, "\"></label>");
	/* the other parameters of struct hq_page_params a page says it used */
	static const struct { const char *key, *label, *type; } more[] = {
		{ "campaign", "Campaign", "text" }, { "window_days", "Window (days)", "number" }, { "limit", "Rows", "number" } };
	for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
		const json_t *v = json_object_get(params, more[k].key);
		struct pm_buf raw = { 0 };
		if (!v)
			continue;
		value_raw(&raw, v);
		pm_buf_printf(b, "<label>%s <input type=\"%s\" name=\"%s\" size=\"10\" value=\"", more[k].label, more[k].type,
			      more[k].key);
		console_html_esc(b, pm_buf_cstr(&raw));
		pm_buf_adds(b, "\"></label>");
		pm_buf_free(&raw);
	}
	json_array_foreach(json_object_get(doc, "inputs"), i, in) {
		const char *type = json_string_value(json_object_get(in, "type"));
		pm_buf_adds(b, "<label>");
		console_html_esc(b, json_string_value(json_object_get(in, "label")));
		pm_buf_printf(b, " <input type=\"%s\" name=\"", type ? type : "text");
		console_html_esc(b, json_string_value(json_object_get(in, "name")));
		pm_buf_adds(b, "\" value=\"");
		console_html_esc(b, json_string_value(json_object_get(in, "value")));
		pm_buf_adds(b, "\"></label>");
	}
	pm_buf_adds(b, "<button>Show</button></form>");
}

static void render_figures(const json_t *doc, struct pm_buf *b)
{
	const json_t *figs = json_object_get(doc, "figures"), *f;
	size_t i;
	if (!json_array_size(figs))
		return;
	const char *cur = json_string_value(json_object_get(doc, "currency"));
	pm_buf_adds(b, "<section class=\"figures\">");
	json_array_foreach(figs, i, f) {
		const char *type = json_string_value(json_object_get(f, "type"));
		struct pm_buf raw = { 0 }, txt = { 0 };
		value_raw(&raw, json_object_get(f, "value"));
		console_value_text(&txt, type, json_object_get(f, "value"));
		pm_buf_adds(b, "<div class=\"tile\" data-key=\"");
		console_html_esc(b, json_string_value(json_object_get(f, "key")));
		pm_buf_adds(b, "\" data-v=\"");
		console_html_esc(b, pm_buf_cstr(&raw));
		pm_buf_adds(b, "\"><span class=\"label\">");
		console_html_esc(b, json_string_value(json_object_get(f, "label")));
		pm_buf_adds(b, "</span><span class=\"value\">");
		console_html_esc(b, pm_buf_cstr(&txt));
		if (type && !strcmp(type, "cents") && cur) {
			pm_buf_adds(b, " <small>");
			console_html_esc(b, cur);
			pm_buf_adds(b, "</small>");
		}
		pm_buf_adds(b, "</span></div>");
		pm_buf_free(&raw);
		pm_buf_free(&txt);
	}
	pm_buf_adds(b, "</section>");
}

/* A cell: its text, a link to the card's page for a card, data-v for sorting. */
static void render_cell(const json_t *t, const json_t *col, size_t row, const json_t *v, struct pm_buf *b)
{
	const char *type = json_string_value(json_object_get(col, "type"));
	const char *key = json_string_value(json_object_get(col, "key"));
	struct pm_buf raw = { 0 }, txt = { 0 };
	if (type && (strcmp(type, "text") && strcmp(type, "card") && strcmp(type, "store") && strcmp(type, "day")))
		value_raw(&raw, v);
	console_value_text(&txt, type, v);
	pm_buf_adds(b, "<td");
	if (raw.len) {
		pm_buf_adds(b, " class=\"num\" data-v=\"");
		console_html_esc(b, pm_buf_cstr(&raw));
		pm_buf_adds(b, "\"");
	}
	pm_buf_adds(b, ">");
	const char *ref = json_string_value(json_array_get(json_object_get(json_object_get(t, "card_refs"), key ? key : ""), row));
	if (ref) {
		pm_buf_adds(b, "<a href=\"/console/page/card?ref=");
		url_esc(b, ref);
		pm_buf_adds(b, "\">");
	}
	console_html_esc(b, pm_buf_cstr(&txt));
	if (ref)
		pm_buf_adds(b, "</a>");
	pm_buf_adds(b, "</td>");
	pm_buf_free(&raw);
	pm_buf_free(&txt);
}

/* Row actions (operators): one small POST form per row and action. */
static void render_row_actions(const json_t *t, const json_t *row, const struct console_user *u, struct pm_buf *b)
{
	const json_t *acts = json_object_get(t, "row_actions"), *a;
	size_t i;
	if (!json_array_size(acts))
		return;
	pm_buf_adds(b, "<td class=\"actions\">");
	json_array_foreach(acts, i, a) {
		int ki = console_col_index(t, json_string_value(json_object_get(a, "field")));
		struct pm_buf v = { 0 };
		value_raw(&v, ki >= 0 ? json_array_get(row, (size_t)ki) : NULL);
		pm_buf_adds(b, "<form method=\"post\" action=\"/console/action/");
		console_html_esc(b, json_string_value(json_object_get(a, "action")));
		pm_buf_printf(b, "\"><input type=\"hidden\" name=\"csrf\" value=\"%s\"><input type=\"hidden\" name=\"", u->csrf);
		console_html_esc(b, json_string_value(json_object_get(a, "field")));
		pm_buf_adds(b, "\" value=\"");
		console_html_esc(b, pm_buf_cstr(&v));
		pm_buf_adds(b, "\"><input type=\"hidden\" name=\"decision\" value=\"");
		console_html_esc(b, json_string_value(json_object_get(a, "decision")));
		pm_buf_adds(b, "\"><button>");
		console_html_esc(b, json_string_value(json_object_get(a, "label")));
		pm_buf_adds(b, "</button></form>");
		pm_buf_free(&v);
	}
	pm_buf_adds(b, "</td>");
}

static void render_table(const json_t *t, const struct console_user *u, const char *query, struct pm_buf *b)
{
	const json_t *cols = json_object_get(t, "columns"), *col, *row;
	const char *name = json_string_value(json_object_get(t, "name"));
	bool acts = u->operator && json_array_size(json_object_get(t, "row_actions"));
	size_t i, k;
	pm_buf_adds(b, "<section class=\"table\"><h2>");
	console_html_esc(b, json_string_value(json_object_get(t, "title")));
	pm_buf_printf(b, " <small>%zu row(s)</small></h2><p class=\"export\"><a href=\"?", json_array_size(json_object_get(t, "rows")));
	console_html_esc(b, query);
	pm_buf_adds(b, *query ? "&amp;" : "");
	pm_buf_adds(b, "format=csv&amp;table=");
	url_esc(b, name ? name : "");
	pm_buf_adds(b, "\">CSV</a></p><table class=\"sortable\" data-name=\"");
	console_html_esc(b, name);
	pm_buf_adds(b, "\"><thead><tr>");
	json_array_foreach(cols, k, col) {
		pm_buf_adds(b, "<th data-key=\"");
		console_html_esc(b, json_string_value(json_object_get(col, "key")));
		pm_buf_adds(b, "\" data-type=\"");
		console_html_esc(b, json_string_value(json_object_get(col, "type")));
		pm_buf_adds(b, "\">");
		console_html_esc(b, json_string_value(json_object_get(col, "label")));
		pm_buf_adds(b, "</th>");
	}
	if (acts)
		pm_buf_adds(b, "<th>Decide</th>");
	pm_buf_adds(b, "</tr></thead><tbody>");
	json_array_foreach(json_object_get(t, "rows"), i, row) {
		pm_buf_adds(b, "<tr>");
		json_array_foreach(cols, k, col)
			render_cell(t, col, i, json_array_get(row, k), b);
		if (acts)
			render_row_actions(t, row, u, b);
		pm_buf_adds(b, "</tr>");
	}
	pm_buf_adds(b, "</tbody></table></section>");
}

/* The document's forms (operators' actions): each a POST with the CSRF token. */
static void render_forms(const json_t *doc, const struct console_user *u, struct pm_buf *b)
{
	const json_t *forms = json_object_get(doc, "forms"), *f, *fld;
	size_t i, k;
	json_array_foreach(forms, i, f) {
		if (json_is_true(json_object_get(f, "operator")) && !u->operator)
			continue;
		pm_buf_adds(b, "<section class=\"form\"><h2>");
		console_html_esc(b, json_string_value(json_object_get(f, "title")));
		pm_buf_adds(b, "</h2><form method=\"post\" action=\"/console/action/");
		console_html_esc(b, json_string_value(json_object_get(f, "action")));
		pm_buf_printf(b, "\"%s><input type=\"hidden\" name=\"csrf\" value=\"%s\">",
			      json_is_true(json_object_get(f, "upload")) ? " enctype=\"multipart/form-data\"" : "", u->csrf);
		json_array_foreach(json_object_get(f, "fields"), k, fld) {
			const char *type = json_string_value(json_object_get(fld, "type"));
			const char *label = json_string_value(json_object_get(fld, "label"));
			type = type ? type : "text";
			if (label) {
				pm_buf_adds(b, "<label>");
				console_html_esc(b, label);
				pm_buf_adds(b, " ");
			}
			pm_buf_printf(b, "<input type=\"%s\" name=\"", type);
			console_html_esc(b, json_string_value(json_object_get(fld, "name")));
			pm_buf_adds(b, "\" value=\"");
			console_html_esc(b, json_string_value(json_object_get(fld, "value")));
			pm_buf_adds(b, label ? "\"></label>" : "\">");
		}
		pm_buf_adds(b, "<button>");
		console_html_esc(b, json_string_value(json_object_get(f, "submit")));
		pm_buf_adds(b, "</button></form>");
		if (json_string_value(json_object_get(f, "note"))) {
			pm_buf_adds(b, "<p class=\"note\">");
			console_html_esc(b, json_string_value(json_object_get(f, "note")));
			pm_buf_adds(b, "</p>");
		}
		pm_buf_adds(b, "</section>");
	}
}

void console_render_page(const json_t *doc, const struct console_user *u, const char *const *menu,
			 const char *query, const char *notice, struct pm_buf *b)
{
	const char *title = json_string_value(json_object_get(doc, "title"));
	const json_t *x;
	size_t i;
	console_html_head(b, title ? title : "page");
	render_menu(doc, u, menu, b);
	pm_buf_adds(b, "<main><h1>");
	console_html_esc(b, title);
	pm_buf_adds(b, "</h1>");
	if (!notice || !*notice)
		notice = json_string_value(json_object_get(doc, "notice"));
	if (notice && *notice) {
		pm_buf_adds(b, "<p class=\"notice\" role=\"status\">");
		console_html_esc(b, notice);
		pm_buf_adds(b, "</p>");
	}
	render_filters(doc, b);
	render_figures(doc, b);
	/* the data layer's caveats (what a figure leaves out), for the reader of the numbers */
	json_array_foreach(json_object_get(doc, "notes"), i, x) {
		if (!json_is_string(x))
			continue;
		pm_buf_adds(b, "<p class=\"note\">");
		console_html_esc(b, json_string_value(x));
		pm_buf_adds(b, "</p>");
	}
	json_array_foreach(json_object_get(doc, "charts"), i, x) {
		struct pm_buf svg = { 0 };
		console_render_chart(doc, x, &svg);
		if (svg.len) { /* a chart without rows is left out */
			pm_buf_adds(b, "<figure class=\"chart\"><figcaption>");
			console_html_esc(b, json_string_value(json_object_get(x, "title")));
			pm_buf_adds(b, "</figcaption>");
			pm_buf_add(b, svg.data, svg.len);
			pm_buf_adds(b, "</figure>");
		}
		pm_buf_free(&svg);
	}
	json_array_foreach(json_object_get(doc, "tables"), i, x)
		render_table(x, u, query, b);
	render_forms(doc, u, b);
	pm_buf_adds(b, "</main></body></html>\n");
}
