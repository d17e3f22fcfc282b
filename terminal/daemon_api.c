/*
 * daemon_api.c - the local API: one JSON object per line each way over the
 * Unix socket. Every request may carry "id" (echoed). Replies are
 * {"ok":true,...} or {"ok":false,"error":"PM_E...","message":"...","hint":"..."}.
 * The operations and their fields are in docs/daemon.md.
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"
#include "common/pm_version.h"

#include <stdlib.h>
#include <string.h>

static json_t *ok_reply(json_t *req)
{
	json_t *r = json_pack("{s:b}", "ok", 1);
	json_t *id = json_object_get(req, "id");
	if (id)
		json_object_set(r, "id", id);
	return r;
}

static void fail(struct daemon *d, int slot, json_t *req, int code, const char *msg, const char *hint)
{
	json_t *r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", pm_errname(code), "message", msg, "hint",
			      hint ? hint : "see docs/daemon.md for this op's fields and their values");
	json_t *id = req ? json_object_get(req, "id") : NULL;
	if (id)
		json_object_set(r, "id", id);
	d->errors++;
	daemon_reply(d, slot, r);
}

static const char *str(json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

static struct lane *lane_of(struct daemon *d, int slot, json_t *req, bool create)
{
	const char *name = str(req, "lane");
	struct lane *l;
	if (!name) {
		fail(d, slot, req, PM_EINVAL, "request has no \"lane\"", "name the lane, e.g. \"lane\":\"3\"");
		return NULL;
	}
	if (!*name || strlen(name) >= sizeof(l->name)) {
		char msg[120];
		snprintf(msg, sizeof(msg), "lane name %s (%zu bytes; 1 to %zu allowed)", *name ? "is too long" : "is empty",
			 strlen(name), sizeof(l->name) - 1);
		fail(d, slot, req, PM_EINVAL, msg, "use a short lane name, e.g. the till number \"3\"");
		return NULL;
	}
	l = daemon_lane(d, name, create);
	if (!l) {
		fail(d, slot, req, create ? PM_EBUSY : PM_ENOENT,
		     create ? "cannot open another lane: the daemon serves 64 lanes at most"
			    : "this lane has no open sale",
		     create ? "reuse the lanes already known (see status: lanes.known), or restart the daemon to forget them"
			    : "open one with {\"op\":\"sale_open\",...}");
		return NULL;
	}
	if (l->committing) {
		fail(d, slot, req, PM_EBUSY, "this lane's sale is being committed", "wait for the tender reply");
		return NULL;
	}
	if (l->lookup) {
		fail(d, slot, req, PM_EBUSY, "this lane is waiting for HQ's answer to its last scan",
		     "wait for that request's reply (at most hq.lookup_budget_ms)");
		return NULL;
	}
	return l;
}

static void add_coupon_block(struct daemon *d, struct lane *l, uint64_t seq, json_t *r);

static json_t *sale_state(struct lane *l, json_t *r)
{
	json_object_set_new(r, "lane", json_string(l->name));
	json_object_set_new(r, "lines", json_integer((json_int_t)l->till.n_lines));
	json_object_set_new(r, "subtotal_cents", json_integer(till_subtotal(&l->till)));
	if (l->till.returning)
		json_object_set_new(r, "return_of", json_string(l->till.return_of));
	return r;
}

static void op_sale_open(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, true);
	const char *id = str(req, "pos_sale_id");
	if (!l)
		return;
	if (l->till.open && l->till.n_lines) {
		/* The POS app reconnecting after a restart of either side resumes its sale. */
		if (id && !strcmp(id, l->till.pos_sale_id)) {
			json_t *r = sale_state(l, ok_reply(req));
			json_object_set_new(r, "resumed", json_true());
			daemon_reply(d, slot, r);
			return;
		}
		fail(d, slot, req, PM_EBUSY, "this lane has an open sale", "tender or cancel it first");
		return;
	}
	if (id && strlen(id) > 58) {
		fail(d, slot, req, PM_EINVAL, "pos_sale_id is longer than 58 bytes", NULL);
		return;
	}
	till_cancel(&l->till);
	l->result.committed = false;   /* a tender now is this sale's, not a retry of the last one */
	snprintf(l->till.pos_sale_id, sizeof(l->till.pos_sale_id), "%s", id ? id : "");
	l->till.open = true;
	daemon_reply(d, slot, sale_state(l, ok_reply(req)));
}

static void op_line_add(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	struct scan_result r;
	struct loy_product p;
	const char *gtin = str(req, "gtin");
	json_t *price = json_object_get(req, "price_cents");
	json_int_t qty = json_object_get(req, "qty") ? json_integer_value(json_object_get(req, "qty")) : 1;
	char msg[256];

	if (!l)
		return;
	if (!l->till.open) {
		fail(d, slot, req, PM_EBADSTATE, "no open sale on this lane", "send sale_open first");
		return;
	}
	if (!gtin) {
		fail(d, slot, req, PM_EINVAL, "line_add needs \"gtin\"", NULL);
		return;
	}
	scan_decode(&d->cfg.scan, gtin, strlen(gtin), NULL, &r);
	if (r.kind != SCAN_ITEM && r.kind != SCAN_VARIABLE_MEASURE) {
		snprintf(msg, sizeof(msg), "gtin '%.40s' refused: %s", gtin, r.kind == SCAN_UNKNOWN ? r.error : "not a product code");
		fail(d, slot, req, r.kind == SCAN_UNKNOWN ? PM_ECHECK : PM_EINVAL, msg, NULL);
		return;
	}
	if (qty < 1 || qty > 9999 || (price && (!json_is_integer(price) || json_integer_value(price) < 0))) {
		fail(d, slot, req, PM_EINVAL, "qty must be 1..9999 and price_cents a whole number >= 0", NULL);
		return;
	}
	bool known = loy_catalog_get(d->db, r.gtin, &p) == PM_OK;
	int64_t unit = price ? json_integer_value(price)
		: r.kind == SCAN_VARIABLE_MEASURE ? r.price_cents : known ? p.price_cents : -1;
	if (l->till.returning)
		unit = 0;   /* a returned unit is priced from its sale */
	if (unit < 0) {
		snprintf(msg, sizeof(msg), "product %s is not in the catalog and the request has no price_cents", r.gtin);
		fail(d, slot, req, PM_ENOENT, msg, "send the app's price with the line");
		return;
	}
	if (r.kind == SCAN_VARIABLE_MEASURE)
		qty = 1;
	const char *name = str(req, "name");
	if (name && strlen(name) >= sizeof(p.name)) {
		snprintf(msg, sizeof(msg), "\"name\" is %zu bytes, %zu at most", strlen(name), sizeof(p.name) - 1);
		fail(d, slot, req, PM_EINVAL, msg, "shorten the product name");
		return;
	}
	l->refusal[0] = '\0';
	int rc = till_add_priced(&l->till, r.gtin, (int32_t)qty, unit, name ? name : known ? p.name : NULL);
	if (rc == PM_OK && name && *name && !l->till.returning && (!known || strcmp(p.name, name))) {
		/* The app's name is kept in the terminal's catalog: receipts reprinted from the log show it. */
		if (!known) {
			memset(&p, 0, sizeof(p));
			snprintf(p.gtin, sizeof(p.gtin), "%s", r.gtin);
			p.price_cents = unit;
		}
		snprintf(p.name, sizeof(p.name), "%s", name);
		int prc = loy_catalog_put(d->db, &p, 1);
		if (prc)
			pm_warn("lane %s: product name for %s not kept: %s", l->name, r.gtin, pm_strerror(prc));
	}
	if (rc == PM_EREFUSED) {
		fail(d, slot, req, rc, l->refusal[0] ? l->refusal : "line refused", "the sale goes on");
		return;
	}
	if (rc) {
		fail(d, slot, req, rc, "line not added (the sale has 500 lines at most)", NULL);
		return;
	}
	json_t *rep = sale_state(l, ok_reply(req));
	json_object_set_new(rep, "line", json_integer((json_int_t)l->till.n_lines));
	json_object_set_new(rep, "gtin", json_string(r.gtin));
	json_object_set_new(rep, "name", json_string(l->till.lines[l->till.n_lines - 1].name));
	json_object_set_new(rep, "line_cents", json_integer(l->till.lines[l->till.n_lines - 1].item.line_cents));
	daemon_reply(d, slot, rep);
}

static void op_line_void(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	if (!l)
		return;
	json_int_t line = json_object_get(req, "line") ? json_integer_value(json_object_get(req, "line"))
		: (json_int_t)l->till.n_lines;
	if (line < 1 || till_void_line(&l->till, (size_t)line - 1)) {
		fail(d, slot, req, PM_ENOENT, "no such line in the open sale", "lines are numbered from 1");
		return;
	}
	daemon_reply(d, slot, sale_state(l, ok_reply(req)));
}

static void op_card(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	struct scan_result r;
	const char *scan = str(req, "scan"), *keyed = str(req, "card");
	if (!l)
		return;
	if (scan)
		scan_decode(&d->cfg.scan, scan, strlen(scan), NULL, &r);
	else
		scan_decode_keyed_card(&d->cfg.scan, keyed ? keyed : "", &r);
	if (r.kind != SCAN_CARD) {
		fail(d, slot, req, PM_ECHECK, r.kind == SCAN_UNKNOWN ? r.error : "not a loyalty card",
		     "rescan the card or key its number");
		return;
	}
	if (!l->till.returning && till_card_wants_hq(d->db, r.card) && daemon_lookup_first(d, slot, req, l, LOOKUP_ACCOUNT, r.card))
		return;   /* runs again when HQ answered */
	till_set_card(&l->till, &r);
	const struct ofr_card *c = &l->till.card_snap;   /* the record till_set_card read */
	json_t *rep = sale_state(l, ok_reply(req));
	json_object_set_new(rep, "card", json_string(r.card));
	json_object_set_new(rep, "known", json_boolean(c->known));
	json_object_set_new(rep, "points", json_integer(c->points));
	json_object_set_new(rep, "tier", json_string(loy_tier_name(d->db, c->tier)));
	daemon_reply(d, slot, rep);
}

static void op_consent(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	json_t *t = json_object_get(req, "targeted");
	if (!l)
		return;
	if (!l->till.card[0] || !json_is_boolean(t)) {
		fail(d, slot, req, PM_EINVAL, "consent needs an attached card and \"targeted\": true|false", NULL);
		return;
	}
	int rc = till_set_consent(&l->till, json_is_true(t));
	if (rc) {
		fail(d, slot, req, rc, "consent not recorded", NULL);
		return;
	}
	daemon_reply(d, slot, sale_state(l, ok_reply(req)));
}

static void op_coupon(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	const char *code = str(req, "code");
	struct scan_result r;
	if (!l)
		return;
	if (!code) {
		fail(d, slot, req, PM_EINVAL, "coupon needs \"code\" (as scanned)", NULL);
		return;
	}
	scan_decode(&d->cfg.scan, code, strlen(code), NULL, &r);
	if (r.kind != SCAN_COUPON) {
		fail(d, slot, req, PM_EINVAL, r.kind == SCAN_UNKNOWN ? r.error : "not a coupon code", NULL);
		return;
	}
	/* Only a coupon this till would accept is worth asking HQ about (a guess never is). */
	if (till_coupon_valid_here(&l->till, &r) && daemon_lookup_first(d, slot, req, l, LOOKUP_COUPON, r.coupon))
		return;   /* runs again when HQ answered */
	l->refusal[0] = '\0';
	json_decref(l->coupon_accepted);
	l->coupon_accepted = NULL;
	if (till_coupon_scan(&l->till, code, &r) != PM_OK) {
		fail(d, slot, req, PM_EREFUSED, l->refusal[0] ? l->refusal : "coupon refused",
		     "hand the coupon back; the sale goes on");
		return;
	}
	json_t *rep = sale_state(l, ok_reply(req));
	if (l->coupon_accepted)
		json_object_update(rep, l->coupon_accepted);
	daemon_reply(d, slot, rep);
}

static void op_tender(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	const char *kind = str(req, "kind");
	json_t *amount = json_object_get(req, "amount_cents");
	int tk = kind ? loy_tender_parse(kind) : -1;
	if (!l)
		return;
	if (tk < 0) {
		fail(d, slot, req, PM_EINVAL, "tender needs \"kind\": cash, card or other",
		     "e.g. {\"op\":\"tender\",\"lane\":\"3\",\"kind\":\"cash\"}");
		return;
	}
	if (!l->till.open && l->result.committed && l->result.seq) {
		/* The POS app repeating the tender of the sale just committed (a lost reply): not a new sale. */
		json_t *r = ok_reply(req);
		json_object_set_new(r, "event", json_string("sale_already_committed"));
		json_object_set_new(r, "sale_id", json_integer((json_int_t)l->result.seq));
		json_object_set_new(r, "sale_ref", json_string(l->result.ref));
		add_coupon_block(d, l, l->result.seq, r);
		daemon_reply(d, slot, r);
		return;
	}
	l->refusal[0] = '\0';
	if (till_sale_prepare(&l->till, tk, amount ? json_integer_value(amount) : -1, &l->pending)) {
		fail(d, slot, req, PM_EINVAL, l->refusal[0] ? l->refusal : "sale cannot be tendered",
		     "the sale stays as it is: fix what the message says, then tender again");
		return;
	}
	l->committing = true;
	l->reply_client = slot;
	l->reply_client_gen = d->clients[slot].gen;
	json_decref(l->reply_id);
	l->reply_id = json_incref(json_object_get(req, "id"));
	memset(&l->job, 0, sizeof(l->job));
	l->job.pending = &l->pending;
	l->job.owner = l;
	committer_submit(d->committer, &l->job);
}

/* #points N on the lane's open sale (docs/accounts.md, "Spending offline"). */
static void op_points_spend(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	json_t *pts = json_object_get(req, "points");
	if (!l)
		return;
	if (!l->till.open) {
		fail(d, slot, req, PM_EBADSTATE, "no open sale on this lane", "send sale_open first");
		return;
	}
	if (!json_is_integer(pts)) {
		fail(d, slot, req, PM_EINVAL, "points_spend needs \"points\": a whole number, 1 or more", NULL);
		return;
	}
	l->refusal[0] = '\0';
	if (till_points_spend(&l->till, json_integer_value(pts), "points_spend")) {
		fail(d, slot, req, PM_EREFUSED, l->refusal[0] ? l->refusal : "points refused",
		     "the sale goes on without them");
		return;
	}
	json_t *rep = sale_state(l, ok_reply(req));
	json_object_set_new(rep, "points", json_integer(l->till.points_spend));
	json_object_set_new(rep, "value_cents", json_integer(l->till.points_spend * d->cfg.loy.point_value_cents));
	daemon_reply(d, slot, rep);
}

/* Open a return of "sale" (TERMINAL:SEQ) on the lane; line_add then gives returned units. */
static void op_return_open(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, true);
	const char *ref = str(req, "sale"), *id = str(req, "pos_sale_id");
	if (!l)
		return;
	if (!ref) {
		fail(d, slot, req, PM_EINVAL, "return_open needs \"sale\": \"TERMINAL:SEQ\" as on the receipt", NULL);
		return;
	}
	if (id && strlen(id) > 58) {
		fail(d, slot, req, PM_EINVAL, "pos_sale_id is longer than 58 bytes", NULL);
		return;
	}
	if (!(l->till.open && l->till.returning) && daemon_lookup_first(d, slot, req, l, LOOKUP_SALE, ref))
		return;   /* runs again when HQ answered (what it knows of the sale and its returns) */
	if (l->till.open && !l->till.n_lines && !l->till.card[0] && !l->till.returning)
		till_cancel(&l->till);   /* an empty sale_open: the return replaces it */
	l->refusal[0] = '\0';
	/* The idempotency key first: a POS app retrying a committed return is told so at tender. */
	if (!l->till.open)
		snprintf(l->till.pos_sale_id, sizeof(l->till.pos_sale_id), "%s", id ? id : "");
	if (till_return_open(&l->till, ref, "return_open")) {
		fail(d, slot, req, PM_EREFUSED, l->refusal[0] ? l->refusal : "return refused", NULL);
		return;
	}
	const struct loy_return_basis *b = &l->till.ret;
	json_t *rep = sale_state(l, ok_reply(req)), *items = json_array();
	for (uint32_t i = 0; i < b->sale.n_items; i++) {
		bool seen = false;
		for (uint32_t k = 0; k < i && !seen; k++)
			seen = !strcmp(b->sale.items[k].gtin, b->sale.items[i].gtin);
		if (seen)
			continue;
		int32_t sold, returned;
		loy_return_units(b, b->sale.items[i].gtin, &sold, &returned);
		json_array_append_new(items, json_pack("{s:s, s:i, s:i}", "gtin", b->sale.items[i].gtin,
						       "sold", (int)sold, "returned", (int)returned));
	}
	json_object_set_new(rep, "return_of", json_string(l->till.return_of));
	json_object_set_new(rep, "card", b->sale.card[0] ? json_string(b->sale.card) : json_null());
	json_object_set_new(rep, "items", items);
	daemon_reply(d, slot, rep);
}

/* One receipt element for the POS app (docs/daemon.md "Receipt elements"). NULL: not for the app. */
static json_t *elem_json(const struct prn_elem *e)
{
	static const char *const align[] = { "left", "center", "right" };
	const char *al = align[e->align >= 0 && e->align <= 2 ? e->align : 0];
	switch (e->kind) {
	case PRN_TEXT:
		return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "type", "text", "text", e->text ? e->text : "",
				 "align", al, "bold", !!(e->style & PRN_BOLD), "double_height", !!(e->style & PRN_DOUBLE),
				 "underline", !!(e->style & PRN_UNDERLINE));
	case PRN_BARCODE:
		/* human_readable: print data once as text under the bars (the receipt has no other copy) */
		return json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "barcode", "symbology",
				 e->barcode == PRN_EAN13 ? "EAN13" : "CODE128", "data", e->text ? e->text : "", "align", al,
				 "human_readable", 1);
	case PRN_QR:
		return json_pack("{s:s, s:s, s:s}", "type", "qr", "data", e->text ? e->text : "", "align", al);
	case PRN_FEED:
		return json_pack("{s:s, s:i}", "type", "feed", "lines", e->lines);
	case PRN_CUT:
		return json_pack("{s:s}", "type", "cut");
	default:
		return NULL;   /* drawer, raster images: not part of the coupon block */
	}
}

/*
 * The coupon blocks of the lane's last sale for the POS app's receipt, as
 * "receipt" (structured elements: text with style, barcode with symbology
 * and data, QR) and as "receipt_lines" (plain text, the older form).
 */
static void add_coupon_block(struct daemon *d, struct lane *l, uint64_t seq, json_t *r)
{
	json_t *lines = json_array(), *elems = json_array();
	struct prn_doc doc;
	char *text = NULL;
	size_t printed = 0;
	json_object_set_new(r, "receipt_lines", lines);
	json_object_set_new(r, "receipt", elems);
	if (l->till.decision_sale != seq)
		return;
	for (size_t i = 0; i < l->till.decision.n; i++)
		printed += !l->till.decision.offers[i].held_back && l->till.decision.offers[i].coupon[0];
	if (!printed)
		return;   /* most sales: no coupon block to lay out */
	prn_doc_init(&doc, d->cfg.receipt_columns);
	receipt_coupons(&doc, &l->till.decision, d->cfg.loy.currency);
	for (size_t i = 0; i < doc.n; i++) {
		json_t *e = elem_json(&doc.elems[i]);
		if (e)
			json_array_append_new(elems, e);
	}
	if (prn_doc_to_text(&doc, &text, NULL) == PM_OK && text) {
		char *save = NULL;
		for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save))
			json_array_append_new(lines, json_string(ln));
	}
	free(text);
	prn_doc_release(&doc);
}

void daemon_commit_done(struct daemon *d, struct commit_job *job)
{
	struct lane *l = job->owner;
	l->refusal[0] = '\0';
	int rc = till_sale_finish(&l->till, &l->pending, job->rc, &job->res, &l->result);
	if (rc == TILL_COMMIT_AGAIN) {
		/* A coupon was used before: it was dropped from the sale, which goes again. */
		memset(&job->res, 0, sizeof(job->res));
		committer_submit(d->committer, job);
		return;
	}
	l->committing = false;
	int slot = l->reply_client;
	l->reply_client = -1;
	if (slot < 0 || d->clients[slot].fd < 0 || d->clients[slot].gen != l->reply_client_gen)
		return; /* the client left; the sale is committed and sale_status tells it */
	json_t *r;
	if (rc == PM_EINVAL) {
		r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", pm_errname(PM_EINVAL), "message",
			      l->refusal[0] ? l->refusal : "sale not tendered; it stays open", "hint",
			      "the sale stays open: fix what the message says, then tender again");
	} else if (rc) {
		r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", pm_errname(PM_EFULL), "message",
			      "sale not committed and kept open: the log refused it", "hint",
			      "free disk space on the terminal, then tender again");
	} else {
		r = json_pack("{s:b}", "ok", 1);
		json_t *sale = till_sale_result_json(&l->result);
		if (sale)
			json_object_update(r, sale);
		json_decref(sale);
		add_coupon_block(d, l, l->result.seq, r);
		/* Other stores learn of a return only from HQ: send it now, not at the next interval,
		 * so that the window in which a unit could be returned twice stays seconds wide. */
		if (l->result.is_return)
			d->sync_soon = true;
	}
	if (l->reply_id)
		json_object_set(r, "id", l->reply_id);
	daemon_reply(d, slot, r);
}

/* The POS app printed the receipt with posmark's coupons: now they count as issued. */
static void op_receipt_printed(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	if (!l)
		return;
	till_offers_printed(&l->till);
	daemon_reply(d, slot, sale_state(l, ok_reply(req)));
}

static void op_sale_cancel(struct daemon *d, int slot, json_t *req)
{
	struct lane *l = lane_of(d, slot, req, false);
	if (!l)
		return;
	till_cancel(&l->till);
	l->result.committed = false;
	l->till.pos_sale_id[0] = '\0';
	daemon_reply(d, slot, sale_state(l, ok_reply(req)));
}

static void op_card_info(struct daemon *d, int slot, json_t *req)
{
	struct scan_result r;
	struct loy_card c;
	scan_decode_keyed_card(&d->cfg.scan, str(req, "card") ? str(req, "card") : "", &r);
	if (r.kind != SCAN_CARD) {
		fail(d, slot, req, PM_ECHECK, r.error, NULL);
		return;
	}
	int rc = loy_card_get(d->db, r.card, &c);
	if (rc) {
		fail(d, slot, req, rc, rc == PM_ENOENT ? "card never used at this terminal" : pm_strerror(rc), NULL);
		return;
	}
	json_t *rep = ok_reply(req);
	json_object_set_new(rep, "card", json_string(r.card));
	json_object_set_new(rep, "points", json_integer(c.points));
	json_object_set_new(rep, "pending_points", json_integer(c.pending_points));
	json_object_set_new(rep, "tier", json_string(loy_tier_name(d->db, c.tier)));
	json_object_set_new(rep, "visits", json_integer((json_int_t)c.visits));
	json_object_set_new(rep, "chain_as_of", c.chain_as_of_us ? json_integer(c.chain_as_of_us) : json_null());
	daemon_reply(d, slot, rep);
}

static void op_sale_status(struct daemon *d, int slot, json_t *req)
{
	const char *id = str(req, "pos_sale_id");
	char ext[80];
	uint64_t seq = 0;
	if (!id) {
		fail(d, slot, req, PM_EINVAL, "sale_status needs \"pos_sale_id\"", NULL);
		return;
	}
	snprintf(ext, sizeof(ext), "pos:%.58s", id);
	loy_sale_find_ext(d->db, ext, &seq);
	json_t *rep = ok_reply(req);
	json_object_set_new(rep, "committed", json_boolean(seq != 0));
	if (seq)
		json_object_set_new(rep, "sale_id", json_integer((json_int_t)seq));
	daemon_reply(d, slot, rep);
}

json_t *daemon_status(struct daemon *d)
{
	struct loy_stats st;
	uint64_t groups = 0, sales = 0;
	int open = 0;
	loy_stats(d->db, &st);
	committer_counts(d->committer, &groups, &sales);
	for (size_t i = 0; i < d->n_lanes; i++)
		open += d->lanes[i]->till.open;
	int pstate = PRN_READY;
	uint64_t waiting = 0;
	if (d->printer)
		prn_status(d->printer, &pstate);
	loy_printq_count(d->db, &waiting, NULL);   /* receipts in the log's print queue */
	return json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:s, s:s, s:s, s:I},"
			 " s:{s:i, s:i}, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:s, s:s, s:I, s:I}, s:{s:s}}",
			 "version", PM_VERSION, "store", d->cfg.store_id, "terminal", d->cfg.loy.terminal_id,
			 "uptime_s", (json_int_t)((pm_now_us() - d->started_us) / 1000000),
			 "log", "path", d->cfg.data_dir, "sales", (json_int_t)st.sales, "cards", (json_int_t)st.cards,
			 "last_sale_seq", (json_int_t)st.last_sale_seq,
			 "unsent_sales", (json_int_t)(st.last_sale_seq - st.sales_acked),
			 "unsent_events", (json_int_t)(st.last_event_seq - st.events_acked),
			 "map_bytes", (json_int_t)st.map_size, "used_bytes", (json_int_t)st.used_bytes,
			 "devices", "scanner", d->scanner ? scan_dev_name(d->scanner) : "none",
			 "printer", d->printer ? prn_dev_name(d->printer) : "none",
			 "printer_state", prn_state_words(pstate), "receipts_waiting", (json_int_t)waiting,
			 "lanes", "known", (int)d->n_lanes, "open", open,
			 "commits", "groups", (json_int_t)groups, "sales", (json_int_t)sales,
			 "api", "requests", (json_int_t)d->requests, "errors", (json_int_t)d->errors,
			 "hq", "url", d->cfg.hq.url, "state", d->hq_state,
			 "last_sync_us", (json_int_t)d->last_sync_us, "lookups", (json_int_t)d->lookups,
			 "rules", "version", d->rules_version[0] ? d->rules_version : "none installed");
}

static void op_status(struct daemon *d, int slot, json_t *req)
{
	json_t *rep = ok_reply(req), *st = daemon_status(d);
	json_object_update(rep, st);
	json_decref(st);
	daemon_reply(d, slot, rep);
}

static void op_echo(struct daemon *d, int slot, json_t *req)
{
	daemon_reply(d, slot, ok_reply(req));
}

static const struct {
	const char *name;
	void (*run)(struct daemon *d, int slot, json_t *req);
} ops[] = {
	{ "sale_open", op_sale_open }, { "line_add", op_line_add }, { "line_void", op_line_void },
	{ "card", op_card }, { "coupon", op_coupon }, { "consent", op_consent }, { "tender", op_tender }, { "sale_cancel", op_sale_cancel },
	{ "receipt_printed", op_receipt_printed }, { "card_info", op_card_info }, { "sale_status", op_sale_status }, { "status", op_status },
	{ "echo", op_echo }, { "points_spend", op_points_spend }, { "return_open", op_return_open },
	{ "card_erase", daemon_op_card_erase },
};

/*
 * A field of the wrong JSON type is said as such (a lane given as a number is
 * not "no lane"), before any op runs. True after replying.
 */
static bool bad_field_type(struct daemon *d, int slot, json_t *req)
{
	static const char *const strings[] = { "op", "lane", "gtin", "name", "card", "scan", "code", "kind",
					       "pos_sale_id", "sale" };
	static const char *const ints[] = { "price_cents", "qty", "amount_cents", "line", "points" };
	char msg[200], hint[200];
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		json_t *v = json_object_get(req, strings[i]);
		if (v && !json_is_string(v)) {
			snprintf(msg, sizeof(msg), "\"%s\" must be a JSON string, not %s", strings[i],
				 json_is_number(v) ? "a number" : json_is_null(v) ? "null" : json_is_boolean(v) ? "a boolean"
				 : "an array or object");
			snprintf(hint, sizeof(hint), "quote the value, e.g. \"%s\":\"%s\"", strings[i],
				 json_is_integer(v) ? "3" : "...");
			if (json_is_integer(v))
				snprintf(hint, sizeof(hint), "quote the value, e.g. \"%s\":\"%lld\"", strings[i],
					 (long long)json_integer_value(v));
			fail(d, slot, req, PM_EINVAL, msg, hint);
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		json_t *v = json_object_get(req, ints[i]);
		if (v && !json_is_integer(v)) {
			snprintf(msg, sizeof(msg), "\"%s\" must be a whole number (JSON integer)", ints[i]);
			snprintf(hint, sizeof(hint), "send it unquoted without a decimal point, e.g. \"%s\":%s", ints[i],
				 strstr(ints[i], "cents") ? "250 for 2.50" : "1");
			fail(d, slot, req, PM_EINVAL, msg, hint);
			return true;
		}
	}
	return false;
}

void daemon_handle(struct daemon *d, int slot, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr);
	d->requests++;
	if (!json_is_object(req)) {
		char msg[300];
		snprintf(msg, sizeof(msg), "request is not a JSON object: %s (column %d)",
			 req ? "not an object" : jerr.text, jerr.column);
		fail(d, slot, NULL, PM_EPROTO, msg, "send one JSON object per line, see docs/daemon.md");
		json_decref(req);
		return;
	}
	daemon_run_op(d, slot, req);
	json_decref(req);
}

void daemon_run_op(struct daemon *d, int slot, json_t *req)
{
	const char *op = str(req, "op");
	if (bad_field_type(d, slot, req))
		return;
	for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].name)) {
			ops[i].run(d, slot, req);
			return;
		}
	fail(d, slot, req, PM_EINVAL, op ? "unknown op" : "request has no \"op\"",
	     "ops: sale_open line_add line_void card coupon consent points_spend tender return_open receipt_printed "
	     "sale_cancel card_info sale_status status echo card_erase");
}
