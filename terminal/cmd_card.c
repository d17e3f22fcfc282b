/* cmd_card.c - posmark card show|consent|erase CARD: the card holder's data and consent. */
#include "terminal/cli.h"
#include "terminal/wiring.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *consent_word(int c)
{
	return c == LOY_CONSENT_YES ? "yes" : c == LOY_CONSENT_NO ? "no" : "not asked";
}

static int show(struct loy_db *db, const char *card, bool json)
{
	struct loy_card c;
	char when[32], m[32];
	int rc = loy_card_get(db, card, &c);
	if (rc == PM_ENOENT)
		return cli_fail("card", "the card has never been used at this terminal, or was erased",
				"no data for this card");
	if (rc)
		return cli_fail("card", NULL, "cannot read the card: %s", pm_strerror(rc));
	const char *consent = c.consent == LOY_CONSENT_YES ? "yes" : c.consent == LOY_CONSENT_NO ? "no" : "unknown";
	if (json) {
		/* points: what the card may spend here now (HQ's balance + pending_points, docs/accounts.md). */
		json_t *o = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:s, s:o}", "card", c.number,
				      "points", (json_int_t)c.points, "tier", loy_tier_name(db, c.tier),
				      "visits", (json_int_t)c.visits, "spend_cents", (json_int_t)c.spend_cents,
				      "last_visit_us", (json_int_t)c.last_visit_us, "created_us",
				      (json_int_t)c.created_us, "consent_targeted", consent,
				      "consent_changed_us", (json_int_t)c.consent_changed_us,
				      "pending_points", (json_int_t)c.pending_points, "consent", consent,
				      "chain_as_of", c.chain_as_of_us ? json_integer(c.chain_as_of_us) : json_null());
		char *s = json_dumps(o, JSON_COMPACT);
		puts(s ? s : "{}");
		free(s);
		json_decref(o);
		return 0;
	}
	printf("card            %s\n", c.number);
	printf("tier            %s\n", loy_tier_name(db, c.tier));
	printf("points          %lld\n", (long long)c.points);
	if (c.chain_as_of_us)
		printf("chain account   HQ's balance as of %s UTC, plus %lld from sales here HQ has not "
		       "counted yet\n", pm_fmt_utc(c.chain_as_of_us, when, sizeof(when)), (long long)c.pending_points);
	else
		printf("chain account   none from HQ yet: the points are this terminal's own\n");
	printf("visits          %llu\n", (unsigned long long)c.visits);
	printf("lifetime spend  %s %s\n", term_money(c.spend_cents, m, sizeof(m)), loy_db_config(db)->currency);
	printf("last visit      %s\n", c.last_visit_us ? pm_fmt_utc(c.last_visit_us, when, sizeof(when)) : "never");
	printf("targeted offers %s (%s)\n", consent_word(c.consent),
	       c.consent_source == LOY_SRC_HQ ? "set by HQ" : "set at the till");
	return 0;
}

/*
 * Erase, then compact the log so the number's old bytes leave data.mdb too
 * (docs/privacy.md, "At the store"). If another process has the log open,
 * the erasure stands and the compaction waits: a running daemon does it at
 * its next quiet moment (it checks the log's mark every second).
 */
static int erase(const struct term_config *cfg, struct loy_db *db, const char *card)
{
	uint64_t n;
	const char *queued = "";
	char err[600];
	bool compacted;
	int rc = term_card_erase(cfg, db, card, &n, &queued);
	if (rc == PM_ENOENT)
		return cli_fail("card", "nothing to erase", "this card has no data at this terminal");
	if (rc == PM_EBUSY)
		return cli_fail("card", "start the posmark daemon, finish or cancel that sale, then erase again "
				"(or send card_erase to the daemon)", "card not erased: %s", queued);
	if (rc)
		return cli_fail("card", "free disk space or check the data directory, then rerun 'posmark card erase'",
				"cannot erase the card: %s", pm_strerror(rc));
	printf("card erased: record and history removed, %llu sale(s) kept without the card; %s\n",
	       (unsigned long long)n, queued);
	rc = term_compact_if_pending(db, &compacted, err, sizeof(err));
	if (rc == PM_EBUSY) {
		printf("purchase log not compacted yet: %s; a running posmark daemon compacts it within seconds, "
		       "otherwise run 'posmark log compact' once nothing else uses the log\n", err);
		return 0;
	}
	if (rc)
		return cli_fail("card", "stop posmark and run 'posmark log compact'",
				"the card is erased, but the purchase log is not compacted: %s", err[0] ? err : pm_strerror(rc));
	printf("purchase log compacted: the card's old bytes are gone from '%s'\n", cfg->data_dir);
	return 0;
}

int cmd_card(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db;
	struct scan_result r;
	const char *targeted = NULL, *v, *verb, *card = NULL;
	int rc = cli_setup(&argc, argv, &co, &cfg), status;

	if (rc)
		return rc;
	if (co.help || argc < 3) {
		term_help_command("card", co.help ? stdout : stderr);
		return co.help ? 0 : 2;
	}
	verb = argv[1];
	for (int i = 2; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--targeted")))
			targeted = v;
		else if (!card)
			card = argv[i];
		else
			return cli_fail("card", NULL, "unexpected argument '%s'", argv[i]) + 1;
	}
	if (strcmp(verb, "show") && strcmp(verb, "consent") && strcmp(verb, "erase"))
		return cli_fail("card", "use show, consent or erase", "unknown action '%s'", verb) + 1;
	scan_decode_keyed_card(&cfg.scan, card ? card : "", &r);
	if (r.kind != SCAN_CARD)
		return cli_fail("card", "give the full card number as printed", "card refused: %s", r.error) + 1;
	if (!strcmp(verb, "consent") && (!targeted || (strcmp(targeted, "yes") && strcmp(targeted, "no"))))
		return cli_fail("card", "posmark card consent CARD --targeted yes|no",
				"consent needs --targeted yes or --targeted no") + 1;
	if ((strcmp(verb, "show") ? cli_open_log : cli_open_log_ro)("card", &cfg, &db))
		return 1;
	if (!strcmp(verb, "show")) {
		status = show(db, r.card, co.json);
	} else if (!strcmp(verb, "consent")) {
		rc = loy_card_set_consent(db, r.card, !strcmp(targeted, "yes") ? LOY_CONSENT_YES : LOY_CONSENT_NO,
					  LOY_SRC_TILL, pm_now_us());
		status = rc ? cli_fail("card", NULL, "cannot record consent: %s", pm_strerror(rc)) : 0;
		if (!rc)
			printf("targeted offers for this card: %s (HQ will be told at the next sync)\n", targeted);
	} else {
		status = erase(&cfg, db, r.card);
	}
	loy_close(db);
	return status;
}
