/*
 * hq_console_int.h - HQ's web console (issue 18; docs/console.md): the web
 * layer. Users and roles, sessions, CSRF, the login rate limit and the
 * audit log (hq_console_auth.c); HTTP routing under /console/
 * (hq_console.c); the generic page renderer: figures, tables, SVG charts,
 * CSV and JSON from a page document (hq_console_render.c); the console's
 * own pages card, mining, requests and audit (hq_console_pages.c) and
 * their actions (hq_console_actions.c); the embedded assets
 * (hq_console_assets.c). The page data of the other pages comes from
 * hq_pages.h (the data layer).
 * Private to hq/ (hq_server.c, hq_main.c and the unit tests use it).
 *
 * Threads: every function takes the caller's connection; the only shared
 * state is the configuration set once before hq_serve and the secret key
 * loaded at the first request (under a mutex).
 */
#ifndef HQ_CONSOLE_INT_H
#define HQ_CONSOLE_INT_H

#include "hq/hq.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- configuration (hq_main.c before hq_serve; hq_server.c at start) ---- */
/* rules_key: the signing key file for publishing from the console (NULL:
 * publishing answers that it is not configured); tiers: hq.conf's table. */
void hq_console_config(const char *rules_key, const struct hq_tiers *tiers);
/* conninfo (mining reads HQ's baskets on a connection of its own) and
 * whether the server speaks TLS (the session cookie is then Secure). */
void hq_console_start(const char *conninfo, bool tls);

/* ---- HTTP (hq_server.c) -------------------------------------------------- */
/* The largest request body the console reads (a rule set of 8 MiB in a form, and room). */
#define HQ_CONSOLE_BODY_MAX (16u << 20)
/* Whether url belongs to the console (then the store authentication of the
 * stores' API does not apply and hq_console_handle answers it). */
bool hq_console_route(const char *url);
/* A console request's headers are in: refuse (413, *answered = 1) a body
 * announced over HQ_CONSOLE_BODY_MAX before it is read; else MHD_YES. */
enum MHD_Result hq_console_headers(struct MHD_Connection *con, int *answered);
/* Answer one whole request (body: the request body, may be NULL). */
enum MHD_Result hq_console_handle(struct MHD_Connection *con, PGconn *db, const char *url, const char *method,
				  const char *body, size_t body_len);

/* ---- `posmark-hq user` (hq_main.c) --------------------------------------- */
/* pos: the command's words after "user" (add NAME | list | remove NAME |
 * passwd NAME); role for add; password_file: first line is the password
 * (NULL: read one line from stdin). Prints for people; returns the exit
 * status (0, 1 failed, 2 usage). */
int hq_console_user_cmd(PGconn *c, int npos, const char *const *pos, const char *role, const char *password_file);

/* ---- the pieces the unit tests check (hq_console_auth.c) ----------------- */
#define CONSOLE_TOKEN_HEX 64          /* a session token: 32 random bytes in hex */
#define CONSOLE_CSRF_HEX 64
#define CONSOLE_PW_MIN 10             /* characters of a password, at least */
/* A new random session token (hex, NUL-terminated, CONSOLE_TOKEN_HEX + 1 bytes). */
void console_token_new(char out[CONSOLE_TOKEN_HEX + 1]);
/* What the database keeps of a token: SHA-256 in hex. PM_OK, PM_EINVAL (not a token). */
int console_token_hash(const char *token, char out[65]);
/* The session's CSRF token: keyed BLAKE2b of a fixed label under the session
 * token, in hex. PM_OK, PM_EINVAL (not a token). */
int console_csrf_of(const char *token, char out[CONSOLE_CSRF_HEX + 1]);
/* Whether given equals the session's CSRF token, compared in constant time. */
bool console_csrf_ok(const char *token, const char *given);
/* Hash a password (argon2id, libsodium's interactive limits) into out
 * (crypto_pwhash_STRBYTES). PM_OK, PM_EINVAL (shorter than CONSOLE_PW_MIN
 * or longer than 1024), PM_ENOMEM. */
int console_pw_hash(const char *password, char *out, size_t outlen);
/* Whether password matches the stored hash. */
bool console_pw_verify(const char *stored, const char *password);

/* ---- between the console's files ------------------------------------------ */
#define CONSOLE_NAME_MAX 63
#define CONSOLE_SESSION_HOURS 12      /* a session ends this long after login, active or not */
#define CONSOLE_IDLE_MIN 30           /* ... or after this long without a request */
#define CONSOLE_FAILS_PER_NAME 5      /* failed logins per minute for one name ... */
#define CONSOLE_FAILS_PER_IP 20       /* ... and from one client address */
struct console_user {
	char name[CONSOLE_NAME_MAX + 1];
	bool operator;                /* role operator (else analyst) */
	char token[CONSOLE_TOKEN_HEX + 1];
	char csrf[CONSOLE_CSRF_HEX + 1];
};
/* The session of token: PM_OK (u filled), PM_ENOENT (none, expired or idle), PM_EIO. */
int console_session(PGconn *c, const char *token, struct console_user *u);
/* Check a login; on success a new session's token. PM_OK, PM_EREFUSED
 * (wrong name or password), PM_EBUSY (too many failures a minute), PM_EIO. */
int console_login(PGconn *c, const char *name, const char *password, const char *ip,
		  char token[CONSOLE_TOKEN_HEX + 1]);
void console_logout(PGconn *c, const char *token);
/* Append to audit_log (details: a JSON object, taken). PM_OK or PM_EIO. */
int console_audit(PGconn *c, const char *actor, const char *action, json_t *details);
/* The console's 32-byte secret (card references), loaded once. PM_OK or PM_EIO. */
int console_secret(PGconn *c, unsigned char key[32]);

/* The page request as the console's pages see it. */
struct console_req {
	PGconn *db;
	const struct console_user *user;
	struct MHD_Connection *con;   /* for query arguments beyond the common ones */
	const char *conninfo;         /* for mining (hq_baskets opens its own connection) */
	const struct hq_tiers *tiers;
};
struct hq_page_params;
/* The console's own pages (hq_console_pages.c): whether name is one (and,
 * when operator_only is not NULL, whether it is for operators only), and its
 * document (NULL with *status, 400/403/404/503, and err for the person). */
bool console_own_page(const char *name, bool *operator_only);
json_t *console_own_page_data(const struct console_req *r, const char *name, const struct hq_page_params *p,
			      int *status, char *err, size_t errlen);
/* Actions (hq_console_actions.c): POST /console/action/NAME with the form
 * fields; status and a message for the person, 303 target in back. */
int console_action(const struct console_req *r, const char *name, json_t *form, char *msg, size_t msglen,
		   char *back, size_t backlen);
/* The serve's rule-signing key file (NULL: publishing is not set up). */
const char *console_rules_key(void);
/* Mine HQ's baskets of p's store and period (hq_baskets, then the miner) with the
 * page's settings; the caller frees *resp then *dbp. PM_OK, or an error with err. */
struct mine_db;
struct mine_result;
int console_mine(const struct console_req *r, const struct hq_page_params *p, const char *support, double confidence,
		 unsigned max_len, struct mine_db **dbp, struct mine_result **resp, char *err, size_t errlen);
/* Decrypt an opaque card reference (the links of card cells) to the stored value. PM_OK, PM_EINVAL. */
int console_card_ref_open(PGconn *c, const char *ref, char *stored, size_t len);
int console_card_ref_make(PGconn *c, const char *stored, char *ref, size_t len);
/* Replace every "card" value of doc by its label (console_card_label) and
 * add, per table with card columns, "card_refs": {"KEY": [ref per row]}. */
void console_mask_document(PGconn *c, json_t *doc, bool unmasked);

/* Rendering (hq_console_render.c) into b. */
struct pm_buf;
/* One table as CSV (RFC 4180, a header row of the column keys). PM_OK, PM_ENOENT (no such table). */
int console_render_csv(const json_t *doc, const char *table, struct pm_buf *b);
/* The page in the console's HTML frame: menu, filters, figures, charts, tables, forms. */
void console_render_page(const json_t *doc, const struct console_user *u, const char *const *menu,
			 const char *query, const char *notice, struct pm_buf *b);
/* The frame's start and end (the login page uses them without a user). */
void console_html_head(struct pm_buf *b, const char *title);
void console_html_esc(struct pm_buf *b, const char *s);
/* The SVG of one chart of doc (line, bar, stacked_bar) from its table;
 * nothing when the chart names no table, column or row. (hq_console_chart.c) */
void console_render_chart(const json_t *doc, const json_t *chart, struct pm_buf *b);
/* Shared by the renderers: a value as a person reads it (not escaped), a
 * table of doc by name (NULL: none), a column's index by key (-1: none). */
void console_value_text(struct pm_buf *b, const char *type, const json_t *v);
const json_t *console_find_table(const json_t *doc, const char *name);
int console_col_index(const json_t *t, const char *key);

/* ---- card numbers (hq_console_render.c) ---------------------------------- */
/* The ONE place a stored card value becomes what a console user sees: the
 * number for an operator (unmasked), "•••• •••• 1234" (the last 4 digits
 * only) for an analyst. `stored` is the value of a "card" column as HQ
 * stores it (today the number; with the card vault a pseudonym, and only
 * this body changes to call the vault). Returns out. */
const char *console_card_label(PGconn *c, const char *stored, bool unmasked, char *out, size_t outlen);

/* The other way, for a number a user typed (the card page's search): the
 * value HQ stores for it (today the number itself, digits only; with the
 * vault its pseudonym). PM_OK or PM_EINVAL (not a card number). */
int console_card_stored(PGconn *c, const char *number, char *out, size_t outlen);

#endif
