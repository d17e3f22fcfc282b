/*
 * hq_console_actions.c - what operators change from the console
 * (docs/console.md, "Operators' actions"); every one in audit_log.
 *   requests        approve or reject a request of the review queue
 *                   (hq_review_decide); an erasure asked for in the console
 *                   needs a second operator
 *   erase           ask for a card's erasure: a request in the review queue
 *                   (store "hq-console", the asker in its terminal column)
 *   publish_mined   mine again with the page's settings, name the campaign,
 *                   sign and publish the rule set
 *   publish_file    sign and publish an uploaded rule set
 * Publishing does what `posmark-hq rules publish` does: the offers engine
 * must load the set, then it is signed with the serve's --key (rules_key in
 * hq.conf) under the next serial and stored.
 */
#include "hq/hq_console_int.h"
#include "hq/hq_int.h"
#include "hq/hq_pages.h"
#include "mining/mining.h"
#include "offers/offers.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_file.h"

#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static const char *fld(json_t *form, const char *k)
{
	const char *v = json_string_value(json_object_get(form, k));
	return v ? v : "";
}

static int64_t now_us(void)
{
	return (int64_t)time(NULL) * 1000000;
}

static int act_requests(const struct console_req *r, json_t *form, char *msg, size_t msglen)
{
	const char *id = fld(form, "id"), *decision = fld(form, "decision");
	bool approve = !strcmp(decision, "approve");
	char what[300] = "", err[400] = "";
	if (!*id || strspn(id, "0123456789") != strlen(id) || strlen(id) > 18 || (!approve && strcmp(decision, "reject"))) {
		snprintf(msg, msglen, "a decision needs a request id and approve or reject");
		return 400;
	}
	/* four eyes: an erasure asked for in the console is approved by another operator */
	const char *pv[2] = { id, r->user->name };
	PGresult *q = PQexecParams(r->db, "SELECT 1 FROM review_requests WHERE id = $1::bigint AND store_id = 'hq-console'"
				   " AND terminal = $2 AND status = 'pending'", 2, NULL, pv, NULL, NULL, 0);
	bool own = PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) == 1;
	PQclear(q);
	if (own && approve) {
		snprintf(msg, msglen, "you asked for this erasure: another operator approves it (or reject it to withdraw it)");
		return 403;
	}
	int rc = hq_review_decide(r->db, strtoll(id, NULL, 10), approve, what, sizeof(what), err, sizeof(err));
	if (rc == PM_ENOENT) {
		snprintf(msg, msglen, "request %s is not pending (decided already, or no such id)", id);
		return 404;
	}
	if (rc) {
		snprintf(msg, msglen, "the decision was not stored: %s", err);
		return 503;
	}
	console_audit(r->db, r->user->name, approve ? "request_approve" : "request_reject",
		      json_pack("{s:I, s:s}", "id", (json_int_t)strtoll(id, NULL, 10), "result", what));
	snprintf(msg, msglen, "request %s %s: %s", id, approve ? "approved" : "rejected", what);
	return 303;
}

static int act_erase(const struct console_req *r, json_t *form, char *msg, size_t msglen, char *back, size_t backlen)
{
	char card[160], now[24], reason[200];
	const char *ref = fld(form, "ref");
	if (console_card_ref_open(r->db, ref, card, sizeof(card))) {
		snprintf(msg, msglen, "not a valid card link; open the card's page again");
		return 400;
	}
	snprintf(now, sizeof(now), "%" PRId64, now_us());
	snprintf(reason, sizeof(reason), "erasure asked for in the console by %s", r->user->name);
	const char *pv[4] = { r->user->name, card, now, reason };
	PGresult *q = PQexecParams(r->db, "INSERT INTO review_requests (store_id, terminal, seq, type, card, event_us,"
				   " received_us, reason) SELECT 'hq-console', $1, 0, 'erasure', $2, $3::bigint, $3::bigint, $4"
				   " WHERE NOT EXISTS (SELECT 1 FROM review_requests WHERE card = $2 AND type = 'erasure'"
				   " AND status = 'pending') RETURNING id", 4, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(q) != PGRES_TUPLES_OK) {
		snprintf(msg, msglen, "the request was not stored: %s", PQresultErrorMessage(q));
		PQclear(q);
		return 503;
	}
	bool added = PQntuples(q) == 1;
	int64_t id = added ? strtoll(PQgetvalue(q, 0, 0), NULL, 10) : 0;
	PQclear(q);
	snprintf(back, backlen, "/console/page/card?ref=%s", ref);
	if (!added) {
		snprintf(msg, msglen, "an erasure of this card already waits in the review queue");
		return 303;
	}
	/* the log outlives the erasure: it names the card by its SHA-256 (as HQ's erasures table), never the number */
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)card, strlen(card));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	console_audit(r->db, r->user->name, "erasure_request", json_pack("{s:I, s:s}", "id", (json_int_t)id, "card_sha256", hex));
	snprintf(msg, msglen, "erasure request %" PRId64 " is in the review queue; another operator approves it", id);
	return 303;
}

/* Check, sign and store a rule set (what `posmark-hq rules publish` does). */
static int publish(const struct console_req *r, const char *body, size_t len, uint64_t *serial, char *msg, size_t msglen)
{
	const char *keyfile = console_rules_key();
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char *khex = NULL, err[400] = "";
	size_t klen = 0, sklen = 0;
	if (!keyfile) {
		snprintf(msg, msglen, "publishing is not set up: start posmark-hq serve with --key FILE (rules_key in hq.conf)");
		return 409;
	}
	if (len == 0 || len > WIRE_RULES_MAX) {
		snprintf(msg, msglen, "a rule set is 1 byte to %u bytes (terminals download at most that)", WIRE_RULES_MAX);
		return 400;
	}
	struct ofr_diags d = { 0 };
	struct ofr_rules *rs = NULL;
	int lrc = ofr_rules_load(body, len, NULL, "", &rs, &d);
	ofr_rules_free(rs);
	if (lrc) {
		const struct ofr_diag *e = NULL;
		for (size_t i = 0; i < d.n && !e; i++)
			if (!d.v[i].warning)
				e = &d.v[i];
		snprintf(msg, msglen, "the rule set does not load in the offers engine (%zu error(s)%s%s%s): nothing published;"
			 " fix it ('posmark rules check FILE' shows every error)", d.errors, e ? "; first: " : "",
			 e ? e->path : "", e ? e->msg : "");
		ofr_diags_release(&d);
		return 400;
	}
	ofr_diags_release(&d);
	if (pm_file_read(keyfile, 4096, &khex, &klen) ||
	    sodium_hex2bin(sk, sizeof(sk), khex, klen, " \n", &sklen, NULL) || sklen != sizeof(sk)) {
		free(khex);
		snprintf(msg, msglen, "the signing key '%s' cannot be read: check the serve's --key", keyfile);
		return 503;
	}
	free(khex);
	int rc = hq_rules_publish(r->db, body, len, sk, serial, err, sizeof(err));
	sodium_memzero(sk, sizeof(sk));
	if (rc) {
		snprintf(msg, msglen, "the rule set was not stored: %s", err);
		return 503;
	}
	return 0;
}

static bool campaign_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* The mined rule set (mining's writer) with the operator's campaign name, benefit and control group. */
static char *mined_set(const struct console_req *r, json_t *form, size_t *len, size_t *n_rules, char *msg, size_t msglen)
{
	struct hq_page_params p = { 0 };
	const char *camp = fld(form, "campaign");
	int pct = atoi(fld(form, "percent_off")), hold = atoi(fld(form, "holdout_pct"));
	double conf = strtod(fld(form, "min_confidence"), NULL);
	int ml = atoi(fld(form, "max_len"));
	if (!campaign_name_ok(camp) || pct < 1 || pct > 99 || hold < 0 || hold > 100 || conf <= 0 || conf > 1 || ml < 2 ||
	    ml > 8) {
		snprintf(msg, msglen, "give a campaign name (a-z, 0-9, '-', '_'), a percent off of 1 to 99 and a control"
			 " group of 0 to 100%%");
		return NULL;
	}
	snprintf(p.store, sizeof(p.store), "%s", fld(form, "store"));
	p.from_us = strtoll(fld(form, "from_us"), NULL, 10);
	p.to_us = strtoll(fld(form, "to_us"), NULL, 10);
	struct mine_db *db;
	struct mine_result *res;
	char err[400] = "", *text = NULL;
	size_t tlen = 0, skipped = 0;
	if (console_mine(r, &p, fld(form, "min_support"), conf, (unsigned)ml, &db, &res, err, sizeof(err))) {
		snprintf(msg, msglen, "%s", err);
		return NULL;
	}
	FILE *f = open_memstream(&text, &tlen);
	int rc = f ? mine_write_ruleset(res, f, n_rules, &skipped) : PM_ENOMEM;
	if (f)
		fclose(f);
	mine_result_free(res);
	mine_db_free(db);
	/* a rule set is a document for the stores: edited here as one (jansson), then signed */
	json_t *set = rc ? NULL : json_loadb(text, tlen, 0, NULL), *rule;
	free(text);
	if (!set || !*n_rules) {
		json_decref(set);
		snprintf(msg, msglen, "no rule to publish (%zu left out: an item is not a GTIN); lower the minimum support",
			 skipped);
		return NULL;
	}
	size_t i;
	json_array_foreach(json_object_get(set, "rules"), i, rule) {
		json_object_set_new(rule, "campaign", json_string(camp));
		json_object_set_new(json_object_get(rule, "offer"), "percent_off", json_integer(pct));
	}
	json_object_set_new(set, "name", json_string(camp));
	json_object_set_new(set, "generated_by", json_string("posmark-hq console (mining)"));
	json_object_set_new(set, "campaigns", json_pack("{s:{s:i}}", camp, "holdout_pct", hold));
	char *out = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	*len = out ? strlen(out) : 0;
	return out;
}

static int act_publish(const struct console_req *r, json_t *form, bool mined, char *msg, size_t msglen)
{
	size_t len = 0, n_rules = 0;
	uint64_t serial = 0;
	char *owned = NULL;
	const char *body;
	if (mined) {
		if (!(body = owned = mined_set(r, form, &len, &n_rules, msg, msglen)))
			return 400;
	} else {
		body = fld(form, "file");
		len = strlen(body);
	}
	int st = publish(r, body, len, &serial, msg, msglen);
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)body, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	free(owned);
	if (st)
		return st;
	console_audit(r->db, r->user->name, mined ? "publish_mined" : "publish_file",
		      json_pack("{s:I, s:I, s:s, s:s}", "serial", (json_int_t)serial, "bytes", (json_int_t)len, "sha256", hex,
				"campaign", mined ? fld(form, "campaign") : ""));
	snprintf(msg, msglen, "rule set published (serial %" PRIu64 ", %zu bytes%s); the stores fetch it on their next sync",
		 serial, len, mined ? ", mined" : "");
	return 303;
}

int console_action(const struct console_req *r, const char *name, json_t *form, char *msg, size_t msglen,
		   char *back, size_t backlen)
{
	if (!r->user->operator) {
		snprintf(msg, msglen, "only operators may do this; ask one, or an admin to give you the operator role");
		return 403;
	}
	if (!strcmp(name, "requests")) {
		snprintf(back, backlen, "/console/page/requests");
		return act_requests(r, form, msg, msglen);
	}
	if (!strcmp(name, "erase"))
		return act_erase(r, form, msg, msglen, back, backlen);
	if (!strcmp(name, "publish_mined") || !strcmp(name, "publish_file")) {
		/* back to the same rules (the form's hidden fields are the page's settings) */
		char st[200];
		size_t o = 0;
		for (const char *c = fld(form, "store"); *c && o + 4 < sizeof(st); c++)
			o += (size_t)snprintf(st + o, sizeof(st) - o, isalnum((unsigned char)*c) ? "%c" : "%%%02X", (unsigned char)*c);
		st[o] = '\0';
		snprintf(back, backlen, "/console/page/mining?store=%s&min_support=%.12s&min_confidence=%.12s&max_len=%d", st,
			 strspn(fld(form, "min_support"), "0123456789.e-") == strlen(fld(form, "min_support")) ? fld(form, "min_support") : "",
			 strspn(fld(form, "min_confidence"), "0123456789.") == strlen(fld(form, "min_confidence")) ? fld(form, "min_confidence") : "",
			 atoi(fld(form, "max_len")));
		return act_publish(r, form, !strcmp(name, "publish_mined"), msg, msglen);
	}
	snprintf(msg, msglen, "no such action");
	return 404;
}
