/*
 * hq_console_pages.c - the console's own pages, as page documents in the
 * shape of hq_pages.h so the one renderer shows them (docs/console.md):
 *   card      a card's account, ledger and sales across stores; an operator
 *             can ask for its erasure (a request in the review queue)
 *   mining    association rules over HQ's baskets (a store or the chain, a
 *             period) with support, confidence and lift; operators publish
 *             them as a campaign, or upload a rule set
 *   requests  the review queue: operators approve or reject (operators)
 *   audit     what operators did, newest first (operators)
 * Extensions to the document the renderer knows: "inputs" (more GET
 * fields), "forms" (POST forms, "operator": true for operators only) and a
 * table's "row_actions" (a button per row posting one column's value).
 */
#include "hq/hq_console_int.h"
#include "hq/hq_int.h"
#include "hq/hq_pages.h"
#include "mining/mining.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
	const char *name;
	bool operator_only;
} own_pages[] = { { "card", false }, { "mining", false }, { "requests", true }, { "audit", true } };

bool console_own_page(const char *name, bool *operator_only)
{
	for (size_t i = 0; i < sizeof(own_pages) / sizeof(own_pages[0]); i++)
		if (!strcmp(name, own_pages[i].name)) {
			if (operator_only)
				*operator_only = own_pages[i].operator_only;
			return true;
		}
	return false;
}

/* ---- building documents -------------------------------------------------------- */

static json_t *doc_new(const char *page, const char *title, const struct hq_page_params *p)
{
	return json_pack("{s:s, s:s, s:I, s:{s:I, s:I, s:s}, s:[], s:[], s:[]}", "page", page, "title", title, "as_of_us",
			 (json_int_t)time(NULL) * 1000000, "params", "from_us", (json_int_t)p->from_us, "to_us",
			 (json_int_t)p->to_us, "store", p->store, "tables", "charts", "figures");
}

/* A table whose columns are "key:label:type" triples separated by '|'. */
static json_t *table_add(json_t *doc, const char *name, const char *title, const char *cols)
{
	json_t *c = json_array();
	char buf[600];
	snprintf(buf, sizeof(buf), "%s", cols);
	for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		char *l = strchr(tok, ':'), *t = l ? strchr(l + 1, ':') : NULL;
		if (!t)
			continue;
		*l++ = '\0';
		*t++ = '\0';
		json_array_append_new(c, json_pack("{s:s, s:s, s:s}", "key", tok, "label", l, "type", t));
	}
	json_t *tab = json_pack("{s:s, s:s, s:o, s:[]}", "name", name, "title", title, "columns", c, "rows");
	json_array_append_new(json_object_get(doc, "tables"), tab);
	return tab;
}

/* The rows of r into table t; kinds per column: i integer, n number, s text, z text or null. */
static void rows_of(json_t *t, PGresult *r, const char *kinds)
{
	json_t *rows = json_object_get(t, "rows");
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *row = json_array();
		for (int k = 0; kinds[k]; k++) {
			const char *v = PQgetvalue(r, i, k);
			if (PQgetisnull(r, i, k))
				json_array_append_new(row, json_null());
			else if (kinds[k] == 'i')
				json_array_append_new(row, json_integer(strtoll(v, NULL, 10)));
			else if (kinds[k] == 'n')
				json_array_append_new(row, json_real(strtod(v, NULL)));
			else
				json_array_append_new(row, json_string(v));
		}
		json_array_append_new(rows, row);
	}
}

static void figure(json_t *doc, const char *key, const char *label, const char *type, json_t *v)
{
	json_array_append_new(json_object_get(doc, "figures"),
			      json_pack("{s:s, s:s, s:s, s:o}", "key", key, "label", label, "type", type, "value", v ? v : json_null()));
}

static void input(json_t *doc, const char *name, const char *label, const char *type, const char *value)
{
	json_t *in = json_object_get(doc, "inputs");
	if (!in)
		json_object_set_new(doc, "inputs", in = json_array());
	json_array_append_new(in, json_pack("{s:s, s:s, s:s, s:s}", "name", name, "label", label, "type", type, "value",
					    value ? value : ""));
}

static json_t *form_add(json_t *doc, const char *action, const char *title, const char *submit, bool upload)
{
	json_t *forms = json_object_get(doc, "forms");
	if (!forms)
		json_object_set_new(doc, "forms", forms = json_array());
	json_t *f = json_pack("{s:s, s:s, s:s, s:b, s:b, s:[]}", "action", action, "title", title, "submit", submit,
			      "operator", 1, "upload", upload, "fields");
	json_array_append_new(forms, f);
	return f;
}

static void field(json_t *form, const char *name, const char *label, const char *type, const char *value)
{
	json_t *f = json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "value", value ? value : "");
	if (label)
		json_object_set_new(f, "label", json_string(label));
	json_array_append_new(json_object_get(form, "fields"), f);
}

static PGresult *q(PGconn *c, const char *sql, int n, const char *const *pv, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

static const char *arg(const struct console_req *r, const char *k)
{
	return MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, k);
}

/* ---- card ---------------------------------------------------------------------- */

static int card_account(const struct console_req *r, json_t *doc, const char *card, char *err, size_t errlen)
{
	char since[24];
	snprintf(since, sizeof(since), "%" PRId64,
		 (int64_t)time(NULL) * 1000000 - (int64_t)r->tiers->window_days * 86400 * 1000000);
	const char *pv[2] = { card, since };
	PGresult *a = q(r->db, "SELECT a.points, CASE WHEN a.tier_floor_until_us > $2::bigint THEN a.tier_floor ELSE 0 END,"
			" coalesce(k.consent, 'unknown'), a.last_visit_us, (SELECT coalesce(sum(" HQI_MONEY_SQL "), 0)"
			" FROM sales s WHERE s.card = $1 AND s.time_us >= $2::bigint),"
			" (SELECT count(*) FROM review_requests v WHERE v.card = $1 AND v.type = 'erasure'"
			"  AND v.status = 'pending'), (SELECT string_agg(store_id, ' ' ORDER BY store_id) FROM store_cards"
			"  WHERE card = $1)"
			" FROM accounts a LEFT JOIN cards k ON k.card = a.card WHERE a.card = $1 AND NOT a.erased",
			2, pv, err, errlen);
	if (!a)
		return PM_EIO;
	if (PQntuples(a) != 1) {
		PQclear(a);
		snprintf(err, errlen, "HQ has no account of this card (never seen, or erased)");
		return PM_ENOENT;
	}
	int64_t spend = strtoll(PQgetvalue(a, 0, 4), NULL, 10);
	int tier = hqi_tier_of(r->tiers, spend, atoi(PQgetvalue(a, 0, 1)));
	figure(doc, "card", "Card", "card", json_string(card));
	figure(doc, "points", "Balance (points)", "points", json_integer(strtoll(PQgetvalue(a, 0, 0), NULL, 10)));
	figure(doc, "tier", "Tier", "text", json_string(r->tiers->name[tier]));
	figure(doc, "window_spend", "Spend in the tier window", "cents", json_integer(spend));
	figure(doc, "consent", "Consent to targeted offers", "text", json_string(PQgetvalue(a, 0, 2)));
	figure(doc, "last_visit", "Last visit", "date", json_integer(strtoll(PQgetvalue(a, 0, 3), NULL, 10)));
	figure(doc, "stores", "Stores that know it", "text", json_string(PQgetvalue(a, 0, 6)));
	if (atoi(PQgetvalue(a, 0, 5)) > 0)
		json_object_set_new(doc, "notice", json_string("an erasure of this card waits in the review queue"));
	PQclear(a);
	return PM_OK;
}

static json_t *page_card(const struct console_req *r, const struct hq_page_params *p, int *status, char *err,
			 size_t errlen)
{
	char card[160];
	const char *ref = arg(r, "ref");
	json_t *doc = doc_new("card", "Card", p);
	input(doc, "card", "Card number", "text", "");
	if (!ref || !*ref)
		return doc;
	if (console_card_ref_open(r->db, ref, card, sizeof(card))) {
		json_decref(doc);
		*status = 400;
		snprintf(err, errlen, "this link to a card is not valid here; look the card up by its number");
		return NULL;
	}
	json_object_set_new(json_object_get(doc, "params"), "card", json_string(card));
	int rc = card_account(r, doc, card, err, errlen);
	if (rc) {
		json_decref(doc);
		*status = rc == PM_ENOENT ? 404 : 503;
		return NULL;
	}
	const char *pv[1] = { card };
	PGresult *l = q(r->db, "SELECT time_us, store_id, terminal, seq, kind, points, reason FROM ledger WHERE card = $1"
			" ORDER BY time_us DESC, terminal_key, seq LIMIT 1000", 1, pv, err, errlen);
	PGresult *s = l ? q(r->db, "SELECT time_us, store_id, terminal, seq, type, CASE WHEN type = 'return'"
			    " THEN -refund_cents ELSE total_cents END, jsonb_array_length(items), points_earned FROM sales"
			    " WHERE card = $1 ORDER BY time_us DESC, store_id, terminal, seq LIMIT 1000", 1, pv, err, errlen)
			  : NULL;
	if (!s) {
		PQclear(l);
		json_decref(doc);
		*status = 503;
		return NULL;
	}
	rows_of(table_add(doc, "ledger", "Ledger (newest first)",
			  "time:Time:date|store:Store:store|terminal:Terminal:text|seq:Seq:int|kind:Kind:text|"
			  "points:Points:points|reason:Reason:text"), l, "izsisiz");
	rows_of(table_add(doc, "history", "Sales across stores (newest first)",
			  "time:Time:date|store:Store:store|terminal:Terminal:text|seq:Seq:int|type:Type:text|"
			  "total:Total:cents|items:Lines:int|points:Points earned:points"), s, "issisiii");
	PQclear(l);
	PQclear(s);
	json_t *f = form_add(doc, "erase", "Erasure", "Ask for erasure", false);
	field(f, "ref", NULL, "hidden", ref);
	json_object_set_new(f, "note", json_string("The request goes to the review queue (Requests); another operator"
						   " approves it, and only then is the card erased at HQ and at the stores."));
	return doc;
}

/* ---- requests and audit ----------------------------------------------------------- */

static json_t *page_requests(const struct console_req *r, const struct hq_page_params *p, int *status, char *err,
			     size_t errlen)
{
	json_t *doc = doc_new("requests", "Review queue: erasure and consent", p);
	PGresult *pend = q(r->db, "SELECT id, store_id, terminal, type, card, consent, event_us, received_us, reason"
			   " FROM review_requests WHERE status = 'pending' ORDER BY id LIMIT 1000", 0, NULL, err, errlen);
	PGresult *done = pend ? q(r->db, "SELECT id, store_id, type, card, status, decided_us FROM review_requests"
				  " WHERE status <> 'pending' ORDER BY decided_us DESC NULLS LAST, id DESC LIMIT 100",
				  0, NULL, err, errlen)
			      : NULL;
	if (!done) {
		PQclear(pend);
		json_decref(doc);
		*status = 503;
		return NULL;
	}
	figure(doc, "pending", "Pending requests", "int", json_integer(PQntuples(pend)));
	json_t *t = table_add(doc, "pending", "Pending",
			      "id:Id:int|store:Store:store|terminal:Terminal or requester:text|type:Type:text|card:Card:card|"
			      "consent:Consent:text|event:Event time:date|received:Received:date|reason:Why it waits:text");
	rows_of(t, pend, "issssziis");
	json_object_set_new(t, "row_actions", json_pack("[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "label", "Approve",
							"action", "requests", "field", "id", "decision", "approve", "label",
							"Reject", "action", "requests", "field", "id", "decision", "reject"));
	rows_of(table_add(doc, "decided", "Decided (last 100)",
			  "id:Id:int|store:Store:store|type:Type:text|card:Card:card|status:Decision:text|decided:Decided:date"),
		done, "issssi");
	PQclear(pend);
	PQclear(done);
	return doc;
}

static json_t *page_audit(const struct console_req *r, const struct hq_page_params *p, int *status, char *err,
			  size_t errlen)
{
	char from[24], to[24];
	json_t *doc = doc_new("audit", "Audit log", p);
	snprintf(from, sizeof(from), "%" PRId64, p->from_us);
	snprintf(to, sizeof(to), "%" PRId64, p->to_us ? p->to_us : INT64_MAX);
	const char *pv[2] = { from, to };
	PGresult *a = q(r->db, "SELECT id, at_us, actor, action, details::text FROM audit_log"
			" WHERE at_us >= $1::bigint AND at_us < $2::bigint ORDER BY id DESC LIMIT 1000", 2, pv, err, errlen);
	if (!a) {
		json_decref(doc);
		*status = 503;
		return NULL;
	}
	figure(doc, "entries", "Entries shown", "int", json_integer(PQntuples(a)));
	rows_of(table_add(doc, "log", "Newest first (at most 1000)",
			  "id:Id:int|at:When:date|actor:Who:text|action:What:text|details:Details:text"), a, "iisss");
	PQclear(a);
	return doc;
}

/* ---- mining --------------------------------------------------------------------- */

struct mine_feed {
	struct mine_db *db;
	int rc;
};

static int feed(void *ctx, const char *const *gtins, uint32_t n)
{
	struct mine_feed *f = ctx;
	if ((f->rc = mine_txn_begin(f->db)))
		return f->rc;
	for (uint32_t i = 0; i < n; i++)
		if ((f->rc = mine_txn_item(f->db, gtins[i], strlen(gtins[i]))))
			return f->rc;
	return f->rc = mine_txn_end(f->db);
}

int console_mine(const struct console_req *r, const struct hq_page_params *p, const char *support, double confidence,
		 unsigned max_len, struct mine_db **dbp, struct mine_result **resp, char *err, size_t errlen)
{
	struct hq_basket_query bq = { p->store[0] ? p->store : NULL, NULL, p->from_us ? p->from_us : INT64_MIN,
				      p->to_us ? p->to_us : INT64_MAX };
	struct hq_basket_stats st = { 0 };
	struct mine_feed f = { NULL, 0 };
	struct mine_params mp = { .min_confidence = confidence, .max_len = max_len, .mem_limit = 512u << 20 };
	*dbp = NULL;
	*resp = NULL;
	if (mine_db_new(&f.db))
		return PM_ENOMEM;
	mine_db_set_limit(f.db, 512u << 20);
	int rc = hq_baskets(r->conninfo, &bq, feed, &f, &st, err, errlen);
	if (!rc && (rc = mine_min_count(support, mine_db_txns(f.db), &mp.min_count)))
		snprintf(err, errlen, "minimum support '%s' is not a number in (0, 1]", support);
	if (!rc && (rc = mine_run(f.db, &mp, resp, NULL)))
		snprintf(err, errlen, "mining failed (%s); raise the minimum support", pm_strerror(rc));
	else if (rc && !err[0])
		snprintf(err, errlen, "cannot read HQ's baskets (%s)", pm_strerror(rc));
	if (rc) {
		mine_db_free(f.db);
		return rc;
	}
	*dbp = f.db;
	return PM_OK;
}

/* The mining page's operator forms: publish these rules (the page's settings in hidden
 * fields, so the same mining runs again), or upload a rule-set file. */
static void publish_forms(json_t *doc, const struct hq_page_params *p, const char *support, const char *conf,
			  const char *len)
{
	json_t *f = form_add(doc, "publish_mined", "Publish these rules as a campaign", "Sign and publish", false);
	field(f, "campaign", "Campaign name", "text", "mined-cross-sell");
	field(f, "percent_off", "Percent off", "number", "10");
	field(f, "holdout_pct", "Control group %", "number", "10");
	char from_s[24], to_s[24];
	snprintf(from_s, sizeof(from_s), "%" PRId64, p->from_us);
	snprintf(to_s, sizeof(to_s), "%" PRId64, p->to_us);
	field(f, "store", NULL, "hidden", p->store);
	field(f, "from_us", NULL, "hidden", from_s);
	field(f, "to_us", NULL, "hidden", to_s);
	field(f, "min_support", NULL, "hidden", support);
	field(f, "min_confidence", NULL, "hidden", conf);
	field(f, "max_len", NULL, "hidden", len);
	json_object_set_new(f, "note", json_string("The same mining runs again and its rules (GTIN items only) become"
						   " one signed rule set; the stores fetch it on their next sync."));
	json_t *u = form_add(doc, "publish_file", "Publish a rule-set file", "Upload, sign and publish", true);
	field(u, "file", "Rule set (posmark-rules JSON)", "file", "");
}

/* Most confident first, then the most baskets (the miner's own order is by itemset). */
static int by_confidence(const void *a, const void *b)
{
	const struct mine_rule *x = a, *y = b;
	if (x->confidence != y->confidence)
		return x->confidence < y->confidence ? 1 : -1;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static json_t *page_mining(const struct console_req *r, const struct hq_page_params *p, int *status, char *err,
			   size_t errlen)
{
	const char *support = arg(r, "min_support"), *conf = arg(r, "min_confidence"), *len = arg(r, "max_len");
	support = support && *support ? support : "0.005";
	conf = conf && *conf ? conf : "0.1";
	len = len && *len ? len : "3";
	double c = strtod(conf, NULL);
	int ml = atoi(len);
	if (c <= 0 || c > 1 || ml < 2 || ml > 8) {
		*status = 400;
		snprintf(err, errlen, "minimum confidence is in (0, 1] and the longest rule 2 to 8 items");
		return NULL;
	}
	struct mine_db *db;
	struct mine_result *res;
	if (console_mine(r, p, support, c, (unsigned)ml, &db, &res, err, errlen)) {
		*status = 400;
		return NULL;
	}
	json_t *doc = doc_new("mining", p->store[0] ? "Association rules of the store" : "Association rules of the chain", p);
	input(doc, "min_support", "Min. support", "text", support);
	input(doc, "min_confidence", "Min. confidence", "text", conf);
	input(doc, "max_len", "Longest rule", "number", len);
	size_t n = mine_n_rules(res), shown = n < 500 ? n : 500;
	figure(doc, "baskets", "Baskets", "int", json_integer(mine_db_txns(db)));
	figure(doc, "rules", "Rules", "int", json_integer((json_int_t)n));
	json_t *t = table_add(doc, "rules", shown < n ? "Rules (the 500 most confident)" : "Rules",
			      "lhs:If the basket holds:text|rhs:Offer:text|support:Support:ratio|confidence:Confidence:ratio|"
			      "lift:Lift:number|count:Baskets:int");
	struct mine_rule *all = calloc(n ? n : 1, sizeof(*all));
	json_int_t by_len[MINE_MAX_LEN + 2] = { 0 };
	for (size_t i = 0; all && i < n; i++) {
		mine_rule_get(res, i, &all[i]);
		by_len[all[i].lhs_len + 1]++;
	}
	if (all)
		qsort(all, n, sizeof(*all), by_confidence);
	for (size_t i = 0; all && i < shown; i++) {
		struct pm_buf lhs = { 0 };
		size_t nl;
		for (unsigned k = 0; k < all[i].lhs_len; k++) {
			const char *nm = mine_item_name(db, all[i].lhs[k], &nl);
			if (k)
				pm_buf_adds(&lhs, ", ");
			pm_buf_add(&lhs, nm, nl);
		}
		const char *rn = mine_item_name(db, all[i].rhs, &nl);
		json_array_append_new(json_object_get(t, "rows"),
				      json_pack("[s, s%, f, f, f, I]", pm_buf_cstr(&lhs) ? lhs.data : "", rn, nl, all[i].support,
						all[i].confidence, all[i].lift, (json_int_t)all[i].count));
		pm_buf_free(&lhs);
	}
	free(all);
	mine_result_free(res);
	mine_db_free(db);
	/* how long the rules are: a picture of what the settings found */
	json_t *bl = table_add(doc, "by_length", "Rules by their number of items", "items:Items:int|rules:Rules:int");
	for (int k = 2; k <= ml; k++)
		json_array_append_new(json_object_get(bl, "rows"), json_pack("[i, I]", k, by_len[k]));
	json_array_append_new(json_object_get(doc, "charts"),
			      json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "type", "bar", "title", "Rules by their number of items",
					"table", "by_length", "x", "items", "y", "rules"));
	publish_forms(doc, p, support, conf, len);
	return doc;
}

json_t *console_own_page_data(const struct console_req *r, const char *name, const struct hq_page_params *p,
			      int *status, char *err, size_t errlen)
{
	*status = 200;
	if (!strcmp(name, "card"))
		return page_card(r, p, status, err, errlen);
	if (!strcmp(name, "mining"))
		return page_mining(r, p, status, err, errlen);
	if (!strcmp(name, "requests"))
		return page_requests(r, p, status, err, errlen);
	if (!strcmp(name, "audit"))
		return page_audit(r, p, status, err, errlen);
	*status = 404;
	snprintf(err, errlen, "no such page");
	return NULL;
}
