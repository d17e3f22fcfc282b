/*
 * hq_console.c - HQ's web console over HTTP (docs/console.md): everything
 * under /console/ on posmark-hq serve's port.
 *   GET  /console/assets/NAME        the stylesheet and the table-sorting script
 *   GET  /console/login              the login form; POST checks it (rate limited)
 *   POST /console/logout
 *   GET  /console/page/NAME[?from=DAY&to=DAY&store=S&...][&format=csv&table=T|&format=json]
 *   POST /console/action/NAME        operators' actions (hq_console_actions.c)
 * A request without a session: a page is redirected to the login form, CSV,
 * JSON and every POST get 401. Every POST but the login needs the session's
 * CSRF token (form field csrf or header X-CSRF-Token) and, when the browser
 * sends one, an Origin of this host. Pages come from the console's own
 * pages first, then the data layer (hq_page_data); every card value goes
 * through console_mask_document before any rendering.
 */
#include "hq/hq_console_int.h"
#include "hq/hq_int.h"
#include "hq/hq_pages.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COOKIE "pm_console"

static struct {
	const char *rules_key;
	struct hq_tiers tiers;
	bool tiers_set;
	const char *conninfo;
	bool tls;
} g_console;

const char *console_rules_key(void)
{
	return g_console.rules_key;
}

void hq_console_config(const char *rules_key, const struct hq_tiers *tiers)
{
	g_console.rules_key = rules_key;
	if (tiers) {
		g_console.tiers = *tiers;
		g_console.tiers_set = true;
	}
}

void hq_console_start(const char *conninfo, bool tls)
{
	g_console.conninfo = conninfo;
	g_console.tls = tls;
	if (!g_console.tiers_set) {
		hq_tiers_default(&g_console.tiers);
		g_console.tiers_set = true;
	}
}

bool hq_console_route(const char *url)
{
	return !strcmp(url, "/console") || !strncmp(url, "/console/", 9);
}

/* ---- answers ------------------------------------------------------------------ */

extern const char console_asset_css[], console_asset_css_end[], console_asset_js[], console_asset_js_end[];

static enum MHD_Result answer(struct MHD_Connection *con, unsigned status, const char *type, const void *data,
			    size_t len, const char *location, const char *cookie, const char *disposition)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
				" form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (location)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
	if (cookie)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	if (disposition)
		MHD_add_response_header(r, "Content-Disposition", disposition);
	enum MHD_Result ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *con, unsigned status, const char *text)
{
	return answer(con, status, "text/plain; charset=utf-8", text, strlen(text), NULL, NULL, NULL);
}

static enum MHD_Result redirect(struct MHD_Connection *con, const char *to, const char *cookie)
{
	return answer(con, 303, "text/plain; charset=utf-8", "", 0, to, cookie, NULL);
}

/* A small page in the frame (errors, the login form). */
static enum MHD_Result send_message(struct MHD_Connection *con, unsigned status, const char *title, const char *msg)
{
	struct pm_buf b = { 0 };
	console_html_head(&b, title);
	pm_buf_adds(&b, "<main class=\"narrow\"><h1>");
	console_html_esc(&b, title);
	pm_buf_adds(&b, "</h1><p>");
	console_html_esc(&b, msg);
	pm_buf_adds(&b, "</p><p><a href=\"/console/\">Back to the console</a></p></main></body></html>\n");
	enum MHD_Result ret = answer(con, status, "text/html; charset=utf-8", b.data, b.len, NULL, NULL, NULL);
	pm_buf_free(&b);
	return ret;
}

static enum MHD_Result login_form(struct MHD_Connection *con, unsigned status, const char *msg)
{
	struct pm_buf b = { 0 };
	console_html_head(&b, "Log in");
	pm_buf_adds(&b, "<main class=\"narrow\"><h1>posmark HQ console</h1>");
	if (msg) {
		pm_buf_adds(&b, "<p class=\"error\" role=\"alert\">");
		console_html_esc(&b, msg);
		pm_buf_adds(&b, "</p>");
	}
	pm_buf_adds(&b, "<form method=\"post\" action=\"/console/login\" class=\"login\">"
			"<label>Name <input name=\"name\" autocomplete=\"username\" required autofocus></label>"
			"<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
			"</label><button>Log in</button></form></main></body></html>\n");
	enum MHD_Result ret = answer(con, status, "text/html; charset=utf-8", b.data, b.len, NULL, NULL, NULL);
	pm_buf_free(&b);
	return ret;
}

/* ---- request pieces ----------------------------------------------------------- */

static const char *arg(struct MHD_Connection *con, const char *k)
{
	return MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, k);
}

static void client_ip(struct MHD_Connection *con, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "?");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, (socklen_t)n);
	else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out, (socklen_t)n);
}

struct form_ctx {
	json_t *o;
	size_t total;
};

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				  const char *type, const char *enc, const char *data, uint64_t off, size_t size)
{
	struct form_ctx *f = cls;
	(void)kind, (void)filename, (void)type, (void)enc, (void)off;
	if (!key || (f->total += size) > (16u << 20))
		return MHD_NO;
	const char *had = json_string_value(json_object_get(f->o, key));
	struct pm_buf b = { 0 };
	pm_buf_adds(&b, had ? had : "");
	pm_buf_add(&b, data, size);
	json_object_set_new(f->o, key, json_stringn(pm_buf_cstr(&b) ? b.data : "", b.len));
	pm_buf_free(&b);
	return MHD_YES;
}

/* The POST body's fields (urlencoded or multipart) as a JSON object of strings. */
static json_t *form_of(struct MHD_Connection *con, const char *body, size_t len)
{
	struct form_ctx f = { json_object(), 0 };
	struct MHD_PostProcessor *pp = MHD_create_post_processor(con, 64 * 1024, form_field, &f);
	if (pp) {
		if (len)
			MHD_post_process(pp, body, len);
		MHD_destroy_post_processor(pp);
	}
	return f.o;
}

/* The session token from the Cookie header, or NULL. */
static const char *session_cookie(struct MHD_Connection *con)
{
	return MHD_lookup_connection_value(con, MHD_COOKIE_KIND, COOKIE);
}

/* An Origin header, when the browser sends one, names this host. */
static bool origin_ok(struct MHD_Connection *con)
{
	const char *origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (!origin)
		return true;
	size_t skip = !strncmp(origin, "https://", 8) ? 8 : !strncmp(origin, "http://", 7) ? 7 : 0;
	return skip && host && !strcmp(origin + skip, host);
}

static int64_t day_us(const char *s, bool end)
{
	struct tm tm = { 0 };
	if (!s || !*s || !strptime(s, "%Y-%m-%d", &tm))
		return 0;
	return ((int64_t)timegm(&tm) + (end ? 86400 : 0)) * 1000000;
}

static void page_params(struct MHD_Connection *con, struct hq_page_params *p)
{
	const char *v;
	memset(p, 0, sizeof(*p));
	p->from_us = day_us(arg(con, "from"), false);
	p->to_us = day_us(arg(con, "to"), true);
	if ((v = arg(con, "store")))
		snprintf(p->store, sizeof(p->store), "%s", v);
	if ((v = arg(con, "campaign")))
		snprintf(p->campaign, sizeof(p->campaign), "%s", v);
	if ((v = arg(con, "window_days")))
		p->window_days = atoi(v);
	if ((v = arg(con, "limit")))
		p->limit = atoi(v);
}

/* An action's message comes back to the page in the URL (the 303 after a POST); it is shown
 * only with its MAC (keyed BLAKE2b under the console's secret, "nsig"), so a link made
 * elsewhere cannot put words of its own into the console's page. */
static bool notice_sig(PGconn *db, const char *notice, char hex[33])
{
	unsigned char key[32], h[16];
	if (console_secret(db, key))
		return false;
	crypto_generichash(h, sizeof(h), (const unsigned char *)notice, strlen(notice), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	sodium_bin2hex(hex, 33, h, sizeof(h));
	return true;
}

static const char *notice_of(struct MHD_Connection *con, PGconn *db)
{
	const char *n = arg(con, "notice"), *sig = arg(con, "nsig");
	char want[33];
	if (!n || !sig || strlen(sig) != 32 || !notice_sig(db, n, want) || sodium_memcmp(want, sig, 32))
		return NULL;
	return n;
}

/* The query string again (for the CSV links), without format, table and notice. */
struct qs_ctx {
	struct pm_buf *b;
};
static enum MHD_Result qs_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct pm_buf *b = ((struct qs_ctx *)cls)->b;
	(void)kind;
	if (!strcmp(key, "format") || !strcmp(key, "table") || !strcmp(key, "notice") || !strcmp(key, "nsig") ||
	    !strcmp(key, "card"))
		return MHD_YES;
	if (b->len)
		pm_buf_addc(b, '&');
	for (const char *s = key; *s; s++)
		pm_buf_printf(b, strchr("&=%+# ", *s) || (unsigned char)*s < 0x21 ? "%%%02X" : "%c", (unsigned char)*s);
	pm_buf_addc(b, '=');
	for (const char *s = value ? value : ""; *s; s++)
		pm_buf_printf(b, strchr("&=%+# ", *s) || (unsigned char)*s < 0x21 ? "%%%02X" : "%c", (unsigned char)*s);
	return MHD_YES;
}

/* The menu: the data layer's pages, then the console's own (operators see all). */
static void menu_of(const struct console_user *u, const char **menu, size_t cap)
{
	static const char *const own[] = { "card", "mining", "requests", "audit" };
	const char *const *data = hq_page_names();
	size_t n = 0;
	for (size_t i = 0; data && data[i] && n + 1 < cap; i++)
		if (!console_own_page(data[i], NULL))
			menu[n++] = data[i];
	for (size_t i = 0; i < 4 && n + 1 < cap; i++) {
		bool op = false;
		console_own_page(own[i], &op);
		if (!op || u->operator)
			menu[n++] = own[i];
	}
	menu[n] = NULL;
}

/* ---- pages ------------------------------------------------------------------- */

static enum MHD_Result page(struct MHD_Connection *con, PGconn *db, const struct console_user *u, const char *name)
{
	struct hq_page_params p;
	struct console_req r = { db, u, con, g_console.conninfo, &g_console.tiers };
	char err[400] = "";
	int status = 200;
	bool op = false;
	const char *fmt = arg(con, "format");
	json_t *doc;

	if (arg(con, "card") && *arg(con, "card")) { /* a typed number: to a reference, so the page's links never carry it */
		char ref[300], loc[400], stored[160];
		if (console_card_stored(db, arg(con, "card"), stored, sizeof(stored)) ||
		    console_card_ref_make(db, stored, ref, sizeof(ref)))
			return send_message(con, 400, "Not a card", "Give the card's number (digits).");
		snprintf(loc, sizeof(loc), "/console/page/card?ref=%s", ref);
		return redirect(con, loc, NULL);
	}
	page_params(con, &p);
	if (console_own_page(name, &op)) {
		if (op && !u->operator)
			return send_message(con, 403, "Operators only", "This page is for operators; ask one, or an admin"
					    " to give you the operator role.");
		doc = console_own_page_data(&r, name, &p, &status, err, sizeof(err));
	} else {
		const char *const *names = hq_page_names();
		size_t k = 0;
		while (names && names[k] && strcmp(names[k], name))
			k++;
		if (!names || !names[k])
			return send_message(con, 404, "Not found", "No such page; the menu lists them.");
		doc = hq_page_data(db, name, &p, err, sizeof(err));
		status = doc ? 200 : 503;
	}
	if (!doc)
		return send_message(con, (unsigned)status, status == 404 ? "Not found" : "Cannot show the page",
				    err[0] ? err : "no such page");
	console_mask_document(db, doc, u->operator);
	struct pm_buf b = { 0 };
	enum MHD_Result ret;
	if (fmt && !strcmp(fmt, "csv")) {
		const char *table = arg(con, "table");
		char disp[200];
		if (!table || console_render_csv(doc, table, &b)) {
			json_decref(doc);
			pm_buf_free(&b);
			return send_text(con, 404, "no such table on this page; the page's CSV links name its tables\n");
		}
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%.60s.csv\"", name,
			 strspn(table, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(table) ? table : "table");
		ret = answer(con, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len, NULL, NULL, disp);
	} else if (fmt && !strcmp(fmt, "json")) {
		char *s = json_dumps(doc, JSON_COMPACT);
		ret = answer(con, 200, "application/json", s ? s : "{}", s ? strlen(s) : 2, NULL, NULL, NULL);
		free(s);
	} else {
		const char *menu[40];
		struct pm_buf q = { 0 };
		struct qs_ctx qc = { &q };
		MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, qs_add, &qc);
		menu_of(u, menu, 40);
		console_render_page(doc, u, menu, pm_buf_cstr(&q) ? q.data : "", notice_of(con, db), &b);
		ret = answer(con, (unsigned)status, "text/html; charset=utf-8", b.data, b.len, NULL, NULL, NULL);
		pm_buf_free(&q);
	}
	pm_buf_free(&b);
	json_decref(doc);
	return ret;
}

static enum MHD_Result login(struct MHD_Connection *con, PGconn *db, json_t *form)
{
	const char *name = json_string_value(json_object_get(form, "name"));
	const char *pw = json_string_value(json_object_get(form, "password"));
	char ip[64], token[CONSOLE_TOKEN_HEX + 1], cookie[300];
	client_ip(con, ip, sizeof(ip));
	int rc = name && pw ? console_login(db, name, pw, ip, token) : PM_EREFUSED;
	if (rc == PM_EBUSY)
		return login_form(con, 429, "Too many attempts; wait a minute and try again.");
	if (rc == PM_EIO)
		return login_form(con, 503, "HQ's database is unavailable; try again later.");
	if (rc) {
		pm_warn("console: failed login from %s", ip);
		return login_form(con, 401, "Wrong name or password.");
	}
	console_audit(db, name, "login", json_pack("{s:s}", "ip", ip));
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/console; HttpOnly; SameSite=Strict; Max-Age=%d%s", token,
		 CONSOLE_SESSION_HOURS * 3600, g_console.tls ? "; Secure" : "");
	sodium_memzero(token, sizeof(token));
	return redirect(con, "/console/", cookie);
}

/* A POST with a session: the CSRF token, then logout or an action (303 back with a notice). */
static enum MHD_Result handle_post(struct MHD_Connection *con, PGconn *db, const struct console_user *u, const char *url,
				   const char *body, size_t body_len)
{
	json_t *form = form_of(con, body, body_len);
	const char *csrf = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-CSRF-Token");
	if (!csrf)
		csrf = json_string_value(json_object_get(form, "csrf"));
	enum MHD_Result ret;
	if (!console_csrf_ok(u->token, csrf)) {
		pm_warn("console: POST %s by '%s' without a valid CSRF token", url, u->name);
		ret = send_text(con, 403, "missing or wrong CSRF token: reload the page and try again\n");
	} else if (!strcmp(url, "/console/logout")) {
		console_logout(db, u->token);
		ret = redirect(con, "/console/login", COOKIE "=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
	} else if (!strncmp(url, "/console/action/", 16)) {
		struct console_req r = { db, u, con, g_console.conninfo, &g_console.tiers };
		char msg[600] = "", back[700] = "/console/", loc[1600];
		int st = console_action(&r, url + 16, form, msg, sizeof(msg), back, sizeof(back));
		if (st == 303) {
			struct pm_buf q = { 0 };
			for (const char *s = msg; *s; s++)
				pm_buf_printf(&q, isalnum((unsigned char)*s) ? "%c" : "%%%02X", (unsigned char)*s);
			char sig[33] = "";
			notice_sig(db, msg, sig);
			snprintf(loc, sizeof(loc), "%s%snotice=%s&nsig=%s", back, strchr(back, '?') ? "&" : "?",
				 pm_buf_cstr(&q) ? q.data : "", sig);
			pm_buf_free(&q);
			ret = redirect(con, loc, NULL);
		} else {
			ret = send_message(con, (unsigned)st, st == 403 ? "Operators only" : "Not done", msg);
		}
	} else {
		ret = send_text(con, 404, "no such action\n");
	}
	json_decref(form);
	return ret;
}

enum MHD_Result hq_console_headers(struct MHD_Connection *con, int *answered)
{
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl || strtoull(cl, NULL, 10) <= HQ_CONSOLE_BODY_MAX)
		return MHD_YES;
	*answered = 1;
	return send_text(con, 413, "request body too large for the console (16 MiB at most)\n");
}

enum MHD_Result hq_console_handle(struct MHD_Connection *con, PGconn *db, const char *url, const char *method,
				  const char *body, size_t body_len)
{
	bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	const char *fmt = arg(con, "format");

	if (get && !strcmp(url, "/console/assets/console.css"))
		return answer(con, 200, "text/css; charset=utf-8", console_asset_css,
			    (size_t)(console_asset_css_end - console_asset_css), NULL, NULL, NULL);
	if (get && !strcmp(url, "/console/assets/console.js"))
		return answer(con, 200, "text/javascript; charset=utf-8", console_asset_js,
			    (size_t)(console_asset_js_end - console_asset_js), NULL, NULL, NULL);
	if (!get && !post)
		return send_text(con, 405, "the console takes GET and POST\n");
	if (!db)
		return send_message(con, 503, "HQ unavailable", "HQ's database is unavailable; try again later.");
	if (post && !origin_ok(con))
		return send_text(con, 403, "cross-origin request refused\n");
	if (!strcmp(url, "/console/login")) {
		if (!post)
			return login_form(con, 200, NULL);
		json_t *form = form_of(con, body, body_len);
		enum MHD_Result ret = login(con, db, form);
		json_decref(form);
		return ret;
	}
	struct console_user u;
	const char *token = session_cookie(con);
	int rc = token ? console_session(db, token, &u) : PM_ENOENT;
	if (rc == PM_EIO)
		return send_message(con, 503, "HQ unavailable", "HQ's database is unavailable; try again later.");
	if (rc) {
		if (post || (fmt && *fmt))
			return send_text(con, 401, "no session: log in at /console/login\n");
		return redirect(con, "/console/login", NULL);
	}
	if (post)
		return handle_post(con, db, &u, url, body, body_len);
	if (!strcmp(url, "/console") || !strcmp(url, "/console/")) {
		const char *menu[40];
		char loc[200];
		menu_of(&u, menu, 40);
		snprintf(loc, sizeof(loc), "/console/page/%s", menu[0] ? menu[0] : "card");
		return redirect(con, loc, NULL);
	}
	if (!strncmp(url, "/console/page/", 14) && url[14] && !strchr(url + 14, '/'))
		return page(con, db, &u, url + 14);
	return send_message(con, 404, "Not found", "No such page; the menu lists them.");
}
