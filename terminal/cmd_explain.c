/*
 * cmd_explain.c - posmark explain --card CARD --basket GTIN,... --data DIR:
 * what the offers engine would choose for this basket and card, with every
 * candidate rule, whether it fired, why not, and the final ranking. Uses the
 * installed rule set (or --rules FILE), the catalog, the card's history and
 * the issue ledger of the terminal; it records nothing. --at TIME decides as
 * at that UTC time (the card's history then, the caps, validity windows), so
 * a replayed or past sale's decision can be explained; each chosen offer
 * names the signal that chose it (basket rule, personal, explore, back-fill)
 * and the numbers behind it.
 */
#include "terminal/wiring.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <jansson.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

struct row {
	char rule[OFR_ID_MAX + 1], campaign[OFR_ID_MAX + 1], why[200];
	int verdict, rank;
};
struct rows {
	struct row *v;
	size_t n, cap;
};

static void on_note(void *ctx, const char *rule, const char *campaign, int verdict, const char *why, int rank)
{
	struct rows *rs = ctx;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct row *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return;
		rs->v = v;
		rs->cap = cap;
	}
	struct row *r = &rs->v[rs->n++];
	snprintf(r->rule, sizeof(r->rule), "%s", rule);
	snprintf(r->campaign, sizeof(r->campaign), "%s", campaign);
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->verdict = verdict;
	r->rank = rank;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if ((x->rank > 0) != (y->rank > 0))
		return x->rank > 0 ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

/* --at: "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" (00:00 UTC) in microseconds; -1 if neither. */
static int parse_at(const char *s, int64_t *us)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return -1;
	*us = (int64_t)timegm(&tm) * 1000000;
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db = NULL;
	struct term_offers to;
	struct ofr_rules *alt = NULL;
	struct ofr_line lines[256];
	struct ofr_card card;
	struct ofr_profile *prof = NULL;
	struct ofr_history_source hist;
	struct ofr_decision dec;
	struct rows rs = { 0 };
	const char *card_no = NULL, *basket = NULL, *rules_file = NULL, *at = NULL, *v;
	bool all = false;
	char err[600];
	size_t n = 0;
	int status = 1, rc = cli_setup(&argc, argv, &co, &cfg);
	if (rc)
		return rc;
	memset(&to, 0, sizeof(to));
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--card")))
			card_no = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--basket")))
			basket = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--rules")))
			rules_file = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--at")))
			at = v;
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else
			return cli_fail("explain", "see posmark explain --help", "unexpected argument '%s'", argv[i]) + 1;
	}
	if (co.help) {
		term_help_command("explain", stdout);
		return 0;
	}
	if (!basket)
		return cli_fail("explain", "give --basket GTIN,GTIN,...", "no basket given") + 1;
	int64_t now = pm_now_us();
	if (at && parse_at(at, &now))
		return cli_fail("explain", "give a UTC time like 2026-11-24T08:00:00Z (the sale's time) or a day "
				"like 2026-11-24", "--at '%s' is not a time", at) + 1;
	if (cli_open_log_ro("explain", &cfg, &db))
		return 1;
	if ((rc = term_offers_open(&cfg, db, &to, err, sizeof(err))) && !to.ledger) {
		cli_fail("explain", NULL, "%s", err[0] ? err : pm_strerror(rc));
		goto out;
	}
	if (rules_file) {
		if ((rc = term_rules_read(rules_file, db, cfg.store_id, &alt, err, sizeof(err))) || !alt) {
			cli_fail("explain", "run 'posmark rules check FILE' for every error", "%s",
				 err[0] ? err : "cannot read the rule file");
			goto out;
		}
	} else if (!to.rules) {
		cli_fail("explain", "install one with 'posmark rules load FILE --data DIR'", "%s",
			 err[0] ? err : "no rule set installed on this terminal");
		goto out;
	}
	struct ofr_rules *rules = alt ? alt : to.rules;
	char *copy = strdup(basket), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && n < 256; tok = strtok_r(NULL, ",", &save)) {
		struct scan_result r;
		struct loy_product p;
		scan_decode(&cfg.scan, tok, strlen(tok), NULL, &r);
		if (r.kind != SCAN_ITEM) {
			cli_fail("explain", "give item GTINs separated by commas", "'%s' is not an item GTIN: %s", tok,
				 r.error[0] ? r.error : "another kind of code");
			free(copy);
			goto out;
		}
		memset(&lines[n], 0, sizeof(lines[n]));
		memcpy(lines[n].gtin, r.gtin, sizeof(lines[n].gtin));
		lines[n].qty = 1;
		lines[n].line_cents = loy_catalog_get(db, r.gtin, &p) == PM_OK ? p.price_cents : 0;
		n++;
	}
	free(copy);
	term_offers_card(db, card_no, &card);
	term_offers_history(db, &hist);
	if (card_no && card.consent == OFR_CONSENT_YES &&
	    (rc = ofr_profile_build(rules, &card, &hist, now, &prof))) {
		cli_fail("explain", NULL, "cannot read the card's history: %s", pm_strerror(rc));
		goto out;
	}
	struct ofr_request req = { .items = lines, .n_items = n, .card = &card, .profile = prof,
				   .ledger = to.ledger, .now_us = now, .max_offers = cfg.offers_max,
				   .naive = true, .coupon_prefix = to.prefix };
	struct ofr_trace tr = { &rs, on_note };
	if ((rc = ofr_decide(rules, &req, &dec, &tr))) {
		cli_fail("explain", NULL, "decision failed: %s", pm_strerror(rc));
		goto out;
	}
	if (rs.n)
		qsort(rs.v, rs.n, sizeof(*rs.v), cmp_row);
	if (co.json) {
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:[]}", "rules", ofr_rules_name(rules),
				      "rule_count", (json_int_t)ofr_rules_count(rules),
				      "consent", card.consent == OFR_CONSENT_YES ? "yes" : card.consent == OFR_CONSENT_NO ? "no" : "unknown",
				      "segment", ofr_profile_segment(prof), "candidates");
		json_t *cands = json_object_get(o, "candidates"), *chosen = json_array();
		for (size_t i = 0; i < rs.n; i++) {
			if (!all && rs.v[i].verdict == OFR_V_NOT_MATCHED && !rs.v[i].rank && strstr(rs.v[i].why, "basket has 0"))
				continue;
			json_array_append_new(cands, json_pack("{s:s, s:s, s:s, s:s, s:i}", "rule", rs.v[i].rule,
							       "campaign", rs.v[i].campaign, "verdict",
							       ofr_verdict_name(rs.v[i].verdict), "why", rs.v[i].why,
							       "rank", rs.v[i].rank));
		}
		for (size_t i = 0; i < dec.n; i++)
			json_array_append_new(chosen, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:f, s:b}",
								"rank", (int)i + 1, "rule", dec.offers[i].rule_id,
								"campaign", dec.offers[i].campaign,
								"kind", ofr_kind_name(dec.offers[i].kind), "gtin", dec.offers[i].gtin,
								"name", dec.offers[i].name, "held_back", dec.offers[i].held_back,
								"priority", dec.offers[i].priority,
								"signal", ofr_signal_name(dec.offers[i].signal),
								"score", dec.offers[i].score, "repeat", dec.offers[i].repeat));
		json_object_set_new(o, "ranking", chosen);
		json_object_set_new(o, "at", json_integer((json_int_t)now));
		char *s = json_dumps(o, JSON_COMPACT);
		puts(s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		char when[32];
		time_t ts = (time_t)(now / 1000000);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&ts));
		printf("at %s: rule set '%s' (%zu rules); card %s, consent %s, segment %s, %llu past sales\n", when,
		       ofr_rules_name(rules), ofr_rules_count(rules), card_no ? "given" : "none",
		       card.consent == OFR_CONSENT_YES ? "yes" : card.consent == OFR_CONSENT_NO ? "no" : "not asked",
		       ofr_profile_segment(prof), (unsigned long long)ofr_profile_sales(prof));
		printf("%-4s %-24s %-20s %-13s %s\n", "rank", "rule", "campaign", "verdict", "why");
		size_t hidden = 0;
		for (size_t i = 0; i < rs.n; i++) {
			if (!all && rs.v[i].verdict == OFR_V_NOT_MATCHED && strstr(rs.v[i].why, "basket has 0")) {
				hidden++;
				continue;
			}
			char rank[8] = "-";
			if (rs.v[i].rank)
				snprintf(rank, sizeof(rank), "%d", rs.v[i].rank);
			printf("%-4s %-24s %-20s %-13s %s\n", rank, rs.v[i].rule, rs.v[i].campaign,
			       ofr_verdict_name(rs.v[i].verdict), rs.v[i].why);
		}
		if (hidden)
			printf("(%zu rules not triggered by this basket; --all lists them)\n", hidden);
		printf("final ranking:\n");
		for (size_t i = 0; i < dec.n; i++)
			printf("  %zu. %s (%s, %s) %s  [%s, score %.3f%s]%s\n", i + 1, dec.offers[i].name,
			       dec.offers[i].campaign, ofr_kind_name(dec.offers[i].kind), dec.offers[i].gtin,
			       ofr_signal_name(dec.offers[i].signal), dec.offers[i].score,
			       dec.offers[i].repeat ? ", bought before" : "",
			       dec.offers[i].held_back ? "  [control group: not printed]" : "");
		if (!dec.n)
			printf("  (no offer)\n");
	}
	status = 0;
out:
	free(rs.v);
	ofr_profile_free(prof);
	ofr_rules_free(alt);
	term_offers_close(&to);
	loy_close(db);
	return status;
}
