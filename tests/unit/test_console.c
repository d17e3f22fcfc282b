/*
 * test_console.c - the console's security pieces and renderer without a
 * database or a server (hq/hq_console_int.h; docs/console.md): session tokens
 * and their stored hash, CSRF tokens (derivation, constant-time check,
 * every wrong form refused), password hashing (argon2id) and checking, the
 * one masking function and the masking of whole page documents, CSV
 * (quoting, spreadsheet formulas), HTML escaping and the SVG charts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hq/hq_console_int.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

static const char tok_a[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_token(void **state)
{
	(void)state;
	char a[CONSOLE_TOKEN_HEX + 1], b[CONSOLE_TOKEN_HEX + 1], h[65];
	console_token_new(a);
	console_token_new(b);
	assert_int_equal(strlen(a), CONSOLE_TOKEN_HEX);
	assert_int_equal(strspn(a, "0123456789abcdef"), CONSOLE_TOKEN_HEX);
	assert_string_not_equal(a, b);
	/* what the database keeps: SHA-256 of the token's text (psql: sha256('...'::bytea)) */
	assert_int_equal(console_token_hash(tok_a, h), PM_OK);
	assert_string_equal(h, "a8ae6e6ee929abea3afcfc5258c8ccd6f85273e0d4626d26c7279f3250f77c8e");
	assert_int_equal(console_token_hash("short", h), PM_EINVAL);
	assert_int_equal(console_token_hash(NULL, h), PM_EINVAL);
	char upper[sizeof(tok_a)];
	memcpy(upper, tok_a, sizeof(tok_a));
	upper[10] = 'A'; /* not our hex: refused, not normalised */
	assert_int_equal(console_token_hash(upper, h), PM_EINVAL);
}

static void test_csrf(void **state)
{
	(void)state;
	char c1[CONSOLE_CSRF_HEX + 1], c1b[CONSOLE_CSRF_HEX + 1], c2[CONSOLE_CSRF_HEX + 1], other[CONSOLE_TOKEN_HEX + 1];
	assert_int_equal(console_csrf_of(tok_a, c1), PM_OK);
	assert_int_equal(console_csrf_of(tok_a, c1b), PM_OK);
	assert_string_equal(c1, c1b);                   /* per session: stable */
	console_token_new(other);
	assert_int_equal(console_csrf_of(other, c2), PM_OK);
	assert_string_not_equal(c1, c2);                /* another session, another token */
	assert_string_not_equal(c1, tok_a);             /* never the session token itself */
	assert_true(console_csrf_ok(tok_a, c1));
	assert_false(console_csrf_ok(tok_a, c2));
	assert_false(console_csrf_ok(tok_a, NULL));
	assert_false(console_csrf_ok(tok_a, ""));
	assert_false(console_csrf_ok(tok_a, tok_a));
	char bad[CONSOLE_CSRF_HEX + 1];
	memcpy(bad, c1, sizeof(bad));
	bad[CONSOLE_CSRF_HEX - 1] = bad[CONSOLE_CSRF_HEX - 1] == '0' ? '1' : '0';
	assert_false(console_csrf_ok(tok_a, bad));      /* the last character differs */
	bad[CONSOLE_CSRF_HEX - 1] = '\0';
	assert_false(console_csrf_ok(tok_a, bad));      /* a prefix */
	assert_false(console_csrf_ok("not a token", c1));
}

static void test_password(void **state)
{
	(void)state;
	char h[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
	assert_int_equal(console_pw_hash("correct horse battery", h, sizeof(h)), PM_OK);
	assert_memory_equal(h, "$argon2id$", 10);
	assert_null(strstr(h, "correct"));
	assert_true(console_pw_verify(h, "correct horse battery"));
	assert_false(console_pw_verify(h, "correct horse batterY"));
	assert_false(console_pw_verify(h, ""));
	assert_false(console_pw_verify(NULL, "correct horse battery"));
	assert_false(console_pw_verify("not a hash", "correct horse battery"));
	assert_int_equal(console_pw_hash("short", h2, sizeof(h2)), PM_EINVAL);
	assert_int_equal(console_pw_hash("correct horse battery", h2, 10), PM_EINVAL);
}

static void test_card_label(void **state)
{
	(void)state;
	char out[100];
	assert_string_equal(console_card_label(NULL, "6036010000001000005", false, out, sizeof(out)),
			    "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 0005");
	assert_string_equal(console_card_label(NULL, "6036010000001000005", true, out, sizeof(out)), "6036010000001000005");
	/* a short value is never shown in part: all of it would be too much */
	assert_string_equal(console_card_label(NULL, "12345678", false, out, sizeof(out)),
			    "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 ");
	assert_string_equal(console_card_label(NULL, NULL, false, out, sizeof(out)), "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 ");
	/* a typed number to what HQ stores (its vault ref: console.sh looks one up): digits
	 * only, refused before the database is asked */
	assert_int_equal(console_card_stored(NULL, "6036 0100", out, sizeof(out)), PM_EINVAL);
	assert_int_equal(console_card_stored(NULL, "", out, sizeof(out)), PM_EINVAL);
	assert_int_equal(console_card_stored(NULL, "<script>", out, sizeof(out)), PM_EINVAL);
	char tiny[6];
	console_card_label(NULL, "6036010000001000005", true, tiny, sizeof(tiny));
	assert_string_equal(tiny, "60360");
}

static json_t *sample_doc(void)
{
	return json_loads("{\"page\":\"t\",\"title\":\"Test <page>\",\"params\":{\"card\":\"6036010000001000005\"},"
			  "\"currency\":\"EUR\",\"tables\":[{\"name\":\"by_day\",\"title\":\"By day\",\"columns\":["
			  "{\"key\":\"day\",\"label\":\"Day\",\"type\":\"day\"},{\"key\":\"card\",\"label\":\"Card\",\"type\":\"card\"},"
			  "{\"key\":\"sales\",\"label\":\"Sales\",\"type\":\"cents\"},{\"key\":\"note\",\"label\":\"Note\",\"type\":\"text\"},"
			  "{\"key\":\"conv\",\"label\":\"Conversion\",\"type\":\"ratio\"}],\"rows\":["
			  "[\"2026-11-23\",\"6036010000001000005\",123456,\"=HYPERLINK(1)\",0.25],"
			  "[\"2026-11-24\",6036010000001000377,-5,\"a, \\\"quoted\\\" <b>\",null]]}],"
			  "\"charts\":[{\"type\":\"bar\",\"title\":\"Sales\",\"table\":\"by_day\",\"x\":\"day\",\"y\":[\"sales\"]}],"
			  "\"figures\":[{\"key\":\"top\",\"label\":\"Top card\",\"type\":\"card\",\"value\":\"6036010000001000740\"},"
			  "{\"key\":\"sales\",\"label\":\"Sales\",\"type\":\"cents\",\"value\":1050}],"
			  "\"notes\":[\"the store filter <does not> apply here\"]}", 0, NULL);
}

static void test_mask_document(void **state)
{
	(void)state;
	json_t *doc = sample_doc();
	assert_non_null(doc);
	console_mask_document(NULL, doc, false);
	char *s = json_dumps(doc, JSON_COMPACT);
	assert_null(strstr(s, "6036010000001000005"));
	assert_null(strstr(s, "6036010000001000740"));
	assert_null(strstr(s, "6036010000001000377")); /* a number where a string belongs: dropped */
	assert_non_null(strstr(s, "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 0005"));
	assert_non_null(strstr(s, "\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 0740"));
	free(s);
	json_decref(doc);
	/* an operator sees them whole */
	doc = sample_doc();
	console_mask_document(NULL, doc, true);
	s = json_dumps(doc, JSON_COMPACT);
	assert_non_null(strstr(s, "\"6036010000001000005\""));
	free(s);
	json_decref(doc);
}

static void test_csv(void **state)
{
	(void)state;
	json_t *doc = sample_doc();
	struct pm_buf b = { 0 };
	console_mask_document(NULL, doc, false);
	assert_int_equal(console_render_csv(doc, "nope", &b), PM_ENOENT);
	assert_int_equal(console_render_csv(doc, "by_day", &b), PM_OK);
	assert_string_equal(pm_buf_cstr(&b), "day,card,sales,note,conv\r\n"
					     "2026-11-23,\u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 0005,123456,\"'=HYPERLINK(1)\",0.25\r\n"
					     "2026-11-24,,-5,\"a, \"\"quoted\"\" <b>\",\r\n");
	pm_buf_free(&b);
	json_decref(doc);
}

static void test_html(void **state)
{
	(void)state;
	json_t *doc = sample_doc();
	struct pm_buf b = { 0 };
	struct console_user u = { .name = "ana<x>", .operator = false };
	const char *menu[] = { "overview", "card", NULL };
	console_csrf_of(tok_a, u.csrf);
	console_mask_document(NULL, doc, false);
	console_render_page(doc, &u, menu, "from=2026-11-01", NULL, &b);
	const char *h = pm_buf_cstr(&b);
	assert_null(strstr(h, "6036010000001000005"));
	assert_null(strstr(h, "<b>"));                 /* text is escaped */
	assert_non_null(strstr(h, "a, &quot;quoted&quot; &lt;b&gt;"));
	assert_non_null(strstr(h, "Test &lt;page&gt;"));
	assert_non_null(strstr(h, "ana&lt;x&gt;"));
	assert_non_null(strstr(h, "1234.56"));         /* cents as units */
	assert_non_null(strstr(h, "data-v=\"123456\""));
	assert_non_null(strstr(h, "25.0%"));           /* a ratio as a percentage */
	assert_non_null(strstr(h, "10.50 <small>EUR</small>"));
	assert_non_null(strstr(h, "?from=2026-11-01&amp;format=csv&amp;table=by_day"));
	assert_non_null(strstr(h, u.csrf));            /* the logout form carries the token */
	assert_non_null(strstr(h, "<svg"));
	assert_null(strstr(h, "name=\"campaign\""));  /* a page that did not use it: no field */
	/* the data layer's notes are shown, escaped */
	assert_non_null(strstr(h, "<p class=\"note\">the store filter &lt;does not&gt; apply here</p>"));
	pm_buf_reset(&b);
	json_object_set_new(json_object_get(doc, "params"), "campaign", json_string("spring<>"));
	json_object_set_new(json_object_get(doc, "params"), "window_days", json_integer(14));
	console_render_page(doc, &u, menu, "", NULL, &b);
	assert_non_null(strstr(pm_buf_cstr(&b), "name=\"campaign\" size=\"10\" value=\"spring&lt;&gt;\""));
	assert_non_null(strstr(pm_buf_cstr(&b), "name=\"window_days\" size=\"10\" value=\"14\""));
	pm_buf_free(&b);
	json_decref(doc);
}

static void test_chart(void **state)
{
	(void)state;
	json_t *doc = sample_doc();
	struct pm_buf b = { 0 };
	json_t *chart = json_array_get(json_object_get(doc, "charts"), 0);
	console_render_chart(doc, chart, &b);
	const char *s = pm_buf_cstr(&b);
	/* two bars (one row each) and one legend box */
	size_t rects = 0;
	for (const char *p = s; (p = strstr(p, "<rect")); p++)
		rects++;
	assert_int_equal(rects, 3);
	assert_non_null(strstr(s, "1234.56"));         /* the axis' top, in currency units */
	pm_buf_reset(&b);
	json_object_set_new(chart, "table", json_string("missing"));
	console_render_chart(doc, chart, &b);
	assert_int_equal(b.len, 0);                    /* nothing for a chart without its table */
	json_object_set_new(chart, "table", json_string("by_day"));
	json_object_set_new(chart, "type", json_string("line"));
	console_render_chart(doc, chart, &b);
	assert_non_null(strstr(pm_buf_cstr(&b), "<polyline"));
	/* stacked bars: one rect per row and series, the axis' top at the largest row sum */
	pm_buf_reset(&b);
	json_t *rows = json_object_get(json_array_get(json_object_get(doc, "tables"), 0), "rows");
	json_array_set_new(json_array_get(rows, 1), 2, json_integer(400));
	json_object_set_new(chart, "type", json_string("stacked_bar"));
	json_object_set_new(chart, "y", json_pack("[s, s]", "sales", "conv"));
	console_render_chart(doc, chart, &b);
	rects = 0;
	for (const char *p = pm_buf_cstr(&b); (p = strstr(p, "<rect")); p++)
		rects++;
	assert_int_equal(rects, 2 * 2 + 2);
	assert_non_null(strstr(pm_buf_cstr(&b), ">1234.56<"));
	pm_buf_free(&b);
	json_decref(doc);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),	     cmocka_unit_test(test_csrf),	  cmocka_unit_test(test_password),
		cmocka_unit_test(test_card_label),  cmocka_unit_test(test_mask_document), cmocka_unit_test(test_csv),
		cmocka_unit_test(test_html),	     cmocka_unit_test(test_chart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
