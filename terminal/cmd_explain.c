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

/* What the command line asked for (besides cli_setup's common options). */
struct explain_opts {
	const char *card_no;     /* --card; NULL: explain for a sale without a card */
	const char *basket;      /* --basket GTIN,GTIN,... (required) */
	const char *rules_file;  /* --rules FILE; NULL: the installed rule set */
	const char *at;          /* --at TIME; NULL: now */
	bool all;                /* --all: also list the rules this basket did not trigger */
};

/*
 * Everything one explanation opens, reads and decides, in one place so that
 * explain_close can free it whatever step failed. Zeroed before use: the
 * free functions below are NULL-safe and term_offers_close takes a zeroed
 * struct.
 */
struct explain {
	struct term_config cfg;
	struct loy_db *db;
	struct term_offers to;
	struct ofr_rules *alt;        /* --rules FILE's set (owned); NULL: the installed one */
	struct ofr_rules *rules;      /* the set decided with: alt or to.rules (not owned) */
	struct ofr_line lines[256];   /* the basket; GTINs past 256 are ignored */
	size_t n;
	struct ofr_card card;
	struct ofr_profile *prof;     /* NULL without a card that consented */
	struct ofr_history_source hist;
	struct ofr_decision dec;
	struct rows rs;               /* the engine's note on every rule looked at, sorted */
	int64_t now;                  /* the decision's time: --at, or now */
	/* Shared by term_offers_open and term_rules_read: a failed --rules FILE
	 * read that says nothing itself reports what the installed set's read said. */
	char err[600];
};

/*
 * Parse the command's own options into o. 0, or the exit status (2) after
 * telling what was wrong; an unknown argument is refused before --help is
 * looked at, as before the split.
 */
static int explain_parse_args(int argc, char **argv, struct explain_opts *o)
{
	const char *v;
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--card")))
			o->card_no = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--basket")))
			o->basket = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--rules")))
			o->rules_file = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--at")))
			o->at = v;
		else if (!strcmp(argv[i], "--all"))
			o->all = true;
		else
			return cli_fail("explain", "see posmark explain --help", "unexpected argument '%s'", argv[i]) + 1;
	}
	return 0;
}

/* The options that need no data directory to be refused: --basket given, --at readable. 0 or exit status 2. */
static int explain_check_opts(const struct explain_opts *o, int64_t *now)
{
	if (!o->basket)
		return cli_fail("explain", "give --basket GTIN,GTIN,...", "no basket given") + 1;
	*now = pm_now_us();
	if (o->at && parse_at(o->at, now))
		return cli_fail("explain", "give a UTC time like 2026-11-24T08:00:00Z (the sale's time) or a day "
				"like 2026-11-24", "--at '%s' is not a time", o->at) + 1;
	return 0;
}

/*
 * Open the offers engine (key, caps ledger, installed rules) and pick the rule
 * set to explain: --rules FILE if given, else the installed one. A failure of
 * term_offers_open that still left a ledger is not fatal: --rules FILE may
 * stand in for a broken installed set. 0, or -1 after telling why.
 */
static int explain_open_rules(struct explain *ex, const char *rules_file)
{
	int rc;
	if ((rc = term_offers_open(&ex->cfg, ex->db, &ex->to, ex->err, sizeof(ex->err))) && !ex->to.ledger) {
		cli_fail("explain", NULL, "%s", ex->err[0] ? ex->err : pm_strerror(rc));
		return -1;
	}
	if (rules_file) {
		if ((rc = term_rules_read(rules_file, ex->db, ex->cfg.store_id, &ex->alt, ex->err, sizeof(ex->err))) ||
		    !ex->alt) {
			cli_fail("explain", "run 'posmark rules check FILE' for every error", "%s",
				 ex->err[0] ? ex->err : "cannot read the rule file");
			return -1;
		}
	} else if (!ex->to.rules) {
		cli_fail("explain", "install one with 'posmark rules load FILE --data DIR'", "%s",
			 ex->err[0] ? ex->err : "no rule set installed on this terminal");
		return -1;
	}
	ex->rules = ex->alt ? ex->alt : ex->to.rules;
	return 0;
}

/*
 * The basket as sale lines: each comma-separated code must scan as an item;
 * one of each, at the catalog's price (0 for an item not in the catalog).
 * 0, or -1 after naming the code that is not an item.
 */
static int explain_read_basket(struct explain *ex, const char *basket)
{
	char *copy = strdup(basket), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && ex->n < 256; tok = strtok_r(NULL, ",", &save)) {
		struct scan_result r;
		struct loy_product p;
		struct ofr_line *line = &ex->lines[ex->n];
		scan_decode(&ex->cfg.scan, tok, strlen(tok), NULL, &r);
		if (r.kind != SCAN_ITEM) {
			cli_fail("explain", "give item GTINs separated by commas", "'%s' is not an item GTIN: %s", tok,
				 r.error[0] ? r.error : "another kind of code");
			free(copy);
			return -1;
		}
		memset(line, 0, sizeof(*line));
		memcpy(line->gtin, r.gtin, sizeof(line->gtin));
		line->qty = 1;
		line->line_cents = loy_catalog_get(ex->db, r.gtin, &p) == PM_OK ? p.price_cents : 0;
		ex->n++;
	}
	free(copy);
	return 0;
}

/*
 * Decide as the till would at ex->now, with the card's history only when the
 * card consented, recording every rule's verdict through the trace; the rows
 * are then sorted chosen-first by rank, then by rule id. 0, or -1 after telling why.
 */
static int explain_decide(struct explain *ex, const char *card_no)
{
	int rc;
	term_offers_card(ex->db, card_no, &ex->card);
	term_offers_history(ex->db, &ex->hist);
	if (card_no && ex->card.consent == OFR_CONSENT_YES &&
	    (rc = ofr_profile_build(ex->rules, &ex->card, &ex->hist, ex->now, &ex->prof))) {
		cli_fail("explain", NULL, "cannot read the card's history: %s", pm_strerror(rc));
		return -1;
	}
	/* naive: evaluate every rule, not only the indexed walk's first passes, so each gets a verdict */
	struct ofr_request req = { .items = ex->lines, .n_items = ex->n, .card = &ex->card, .profile = ex->prof,
				   .ledger = ex->to.ledger, .now_us = ex->now, .max_offers = ex->cfg.offers_max,
				   .naive = true, .coupon_prefix = ex->to.prefix };
	struct ofr_trace tr = { &ex->rs, on_note };
	if ((rc = ofr_decide(ex->rules, &req, &ex->dec, &tr))) {
		cli_fail("explain", NULL, "decision failed: %s", pm_strerror(rc));
		return -1;
	}
	if (ex->rs.n)
		qsort(ex->rs.v, ex->rs.n, sizeof(*ex->rs.v), cmp_row);
	return 0;
}

/* A rule the basket did not trigger at all: hidden unless --all, as most of a big rule set is. */
static bool untriggered(const struct row *r)
{
	return r->verdict == OFR_V_NOT_MATCHED && strstr(r->why, "basket has 0");
}

/* The JSON "candidates": every rule looked at; an untriggered one without a rank only with --all. */
static void explain_json_candidates(const struct rows *rs, bool all, json_t *cands)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		if (!all && !r->rank && untriggered(r))
			continue;
		json_array_append_new(cands, json_pack("{s:s, s:s, s:s, s:s, s:i}", "rule", r->rule,
						       "campaign", r->campaign, "verdict",
						       ofr_verdict_name(r->verdict), "why", r->why,
						       "rank", r->rank));
	}
}

/* The JSON "ranking": the chosen offers in order, with the signal and score that chose each. */
static json_t *explain_json_ranking(const struct ofr_decision *dec)
{
	json_t *chosen = json_array();
	for (size_t i = 0; i < dec->n; i++) {
		const struct ofr_offer *of = &dec->offers[i];
		json_array_append_new(chosen, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:f, s:b}",
							"rank", (int)i + 1, "rule", of->rule_id,
							"campaign", of->campaign,
							"kind", ofr_kind_name(of->kind), "gtin", of->gtin,
							"name", of->name, "held_back", of->held_back,
							"priority", of->priority,
							"signal", ofr_signal_name(of->signal),
							"score", of->score, "repeat", of->repeat));
	}
	return chosen;
}

/* --json: the same explanation as one compact object on one line. */
static void explain_print_json(const struct explain *ex, bool all)
{
	const struct ofr_card *card = &ex->card;
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:[]}", "rules", ofr_rules_name(ex->rules),
			      "rule_count", (json_int_t)ofr_rules_count(ex->rules),
			      "consent", card->consent == OFR_CONSENT_YES ? "yes" : card->consent == OFR_CONSENT_NO ? "no" : "unknown",
			      "segment", ofr_profile_segment(ex->prof), "candidates");
	explain_json_candidates(&ex->rs, all, json_object_get(o, "candidates"));
	json_object_set_new(o, "ranking", explain_json_ranking(&ex->dec));
	json_object_set_new(o, "at", json_integer((json_int_t)ex->now));
	char *s = json_dumps(o, JSON_COMPACT);
	puts(s ? s : "{}");
	free(s);
	json_decref(o);
}

/* The first line: when, which rule set, and what is known of the card. */
static void explain_print_header(const struct explain *ex, const char *card_no)
{
	char when[32];
	time_t ts = (time_t)(ex->now / 1000000);
	int consent = ex->card.consent;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&ts));
	printf("at %s: rule set '%s' (%zu rules); card %s, consent %s, segment %s, %llu past sales\n", when,
	       ofr_rules_name(ex->rules), ofr_rules_count(ex->rules), card_no ? "given" : "none",
	       consent == OFR_CONSENT_YES ? "yes" : consent == OFR_CONSENT_NO ? "no" : "not asked",
	       ofr_profile_segment(ex->prof), (unsigned long long)ofr_profile_sales(ex->prof));
}

/* The table of rules looked at, with verdict and why; untriggered ones are counted, not listed, without --all. */
static void explain_print_candidates(const struct rows *rs, bool all)
{
	size_t hidden = 0;
	printf("%-4s %-24s %-20s %-13s %s\n", "rank", "rule", "campaign", "verdict", "why");
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		if (!all && untriggered(r)) {
			hidden++;
			continue;
		}
		char rank[8] = "-";
		if (r->rank)
			snprintf(rank, sizeof(rank), "%d", r->rank);
		printf("%-4s %-24s %-20s %-13s %s\n", rank, r->rule, r->campaign, ofr_verdict_name(r->verdict), r->why);
	}
	if (hidden)
		printf("(%zu rules not triggered by this basket; --all lists them)\n", hidden);
}

/* The offers the till would print, in order, each with the signal that chose it. */
static void explain_print_ranking(const struct ofr_decision *dec)
{
	printf("final ranking:\n");
	for (size_t i = 0; i < dec->n; i++) {
		const struct ofr_offer *of = &dec->offers[i];
		printf("  %zu. %s (%s, %s) %s  [%s, score %.3f%s]%s\n", i + 1, of->name,
		       of->campaign, ofr_kind_name(of->kind), of->gtin,
		       ofr_signal_name(of->signal), of->score,
		       of->repeat ? ", bought before" : "",
		       of->held_back ? "  [control group: not printed]" : "");
	}
	if (!dec->n)
		printf("  (no offer)\n");
}

static void explain_close(struct explain *ex)
{
	free(ex->rs.v);
	ofr_profile_free(ex->prof);
	ofr_rules_free(ex->alt);
	term_offers_close(&ex->to);
	loy_close(ex->db);
}

int cmd_explain(int argc, char **argv)
{
	struct cli_common co;
	struct explain_opts o;
	struct explain ex;
	int status = 1, rc;
	memset(&ex, 0, sizeof(ex));
	if ((rc = cli_setup(&argc, argv, &co, &ex.cfg)))
		return rc;
	if ((rc = explain_parse_args(argc, argv, &o)))
		return rc;
	if (co.help) {
		term_help_command("explain", stdout);
		return 0;
	}
	if ((rc = explain_check_opts(&o, &ex.now)))
		return rc;
	if (cli_open_log_ro("explain", &ex.cfg, &ex.db))
		return 1;
	if (!explain_open_rules(&ex, o.rules_file) && !explain_read_basket(&ex, o.basket) &&
	    !explain_decide(&ex, o.card_no)) {
		if (co.json)
			explain_print_json(&ex, o.all);
		else {
			explain_print_header(&ex, o.card_no);
			explain_print_candidates(&ex.rs, o.all);
			explain_print_ranking(&ex.dec);
		}
		status = 0;
	}
	explain_close(&ex);
	return status;
}
