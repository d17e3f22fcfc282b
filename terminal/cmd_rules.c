/*
 * cmd_rules.c - posmark rules check FILE [--data DIR] | rules load FILE --data DIR.
 * check: every error and warning with its line (FILE:LINE: ...); with --data,
 * GTINs are also checked against that terminal's catalog.
 * load: the same checks against the terminal's catalog, then an atomic
 * install as DATA/rules.json (the path hostsync's signed downloads use too).
 */
#include "terminal/wiring.h"
#include "common/pm_err.h"
#include "common/pm_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_diags(const char *file, const struct ofr_diags *d, size_t max)
{
	for (size_t i = 0; i < d->n && i < max; i++)
		fprintf(stderr, "%s:%d: %s: %s%s%s%s\n", file, d->v[i].line, d->v[i].warning ? "warning" : "error",
			d->v[i].msg, d->v[i].path[0] ? " (at " : "", d->v[i].path, d->v[i].path[0] ? ")" : "");
	if (d->n > max)
		fprintf(stderr, "%s: %zu more findings not shown\n", file, d->n - max);
}

int cmd_rules(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db = NULL;
	struct ofr_rules *rules = NULL;
	struct ofr_diags d = { 0 };
	struct ofr_catalog_source cat;
	const char *verb = NULL, *file = NULL;
	char err[600];
	size_t len = 0;
	int status = 1, rc = cli_setup(&argc, argv, &co, &cfg);
	if (rc)
		return rc;
	for (int i = 1; i < argc; i++) {
		if (!verb)
			verb = argv[i];
		else if (!file)
			file = argv[i];
		else
			return cli_fail("rules", "see posmark rules --help", "unexpected argument '%s'", argv[i]) + 1;
	}
	if (co.help || !verb) {
		term_help_command("rules", stdout);
		return co.help ? 0 : 2;
	}
	bool load = !strcmp(verb, "load");
	if (!load && strcmp(verb, "check"))
		return cli_fail("rules", "use 'rules check FILE' or 'rules load FILE --data DIR'",
				"unknown subcommand '%s'", verb) + 1;
	if (!file)
		return cli_fail("rules", "name the rule-set file", "rules %s needs a FILE", verb) + 1;
	char *text = NULL;
	if ((rc = pm_file_read(file, 0, &text, &len)))
		return cli_fail("rules", "check the path", "cannot read rule set '%s': %s", file, pm_strerror(rc));
	if ((load || co.data) && cli_open_log("rules", &cfg, &db))
		goto out;
	if (db)
		term_offers_catalog(db, &cat);
	term_rules_set_max((size_t)cfg.offers_max_rules);
	rc = ofr_rules_load_max(text, len, db ? &cat : NULL, cfg.store_id, term_rules_max(), &rules, &d);
	print_diags(file, &d, 200);
	if (rc) {
		cli_fail("rules", rc == PM_EVERSION ? "this build reads version 1; update posmark or ask HQ for a v1 file"
			 : "fix the lines named above and run 'posmark rules check' again",
			 "rule set '%s' refused: %zu errors, %zu warnings%s", file, d.errors, d.warnings,
			 load ? "; nothing installed" : "");
		goto out;
	}
	if (load) {
		if ((rc = term_rules_install(cfg.data_dir, text, len, err, sizeof(err)))) {
			cli_fail("rules", "check the data directory's permissions and free space", "%s", err);
			goto out;
		}
		fprintf(stderr, "posmark rules: installed '%s' (%s): %zu rules, %zu warnings\n", file,
			ofr_rules_name(rules), ofr_rules_count(rules), d.warnings);
	} else {
		fprintf(stderr, "posmark rules: '%s' (%s) is valid: %zu rules, %zu warnings\n", file,
			ofr_rules_name(rules), ofr_rules_count(rules), d.warnings);
	}
	status = 0;
out:
	ofr_rules_free(rules);
	ofr_diags_release(&d);
	free(text);
	loy_close(db);
	return status;
}
