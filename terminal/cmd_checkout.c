/*
 * cmd_checkout.c - posmark checkout: one till driven by a scanner (a scan
 * script by default). Sales carry an idempotency key "<script hash>:<n>",
 * so rerunning the same script after a crash commits each sale once and
 * reports the ones already in the log (docs/till.md).
 */
#include "terminal/till.h"
#include "common/pm_err.h"
#include "common/pm_hash.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a 64 of a file's bytes: names a scan script's sales across restarts. */
static int script_hash(const char *path, uint64_t *out)
{
	FILE *f = fopen(path, "rb");
	unsigned char buf[65536];
	size_t n;
	uint64_t h = PM_FNV64_INIT;
	if (!f)
		return PM_ENOENT;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		h = pm_fnv1a64_update(h, buf, n);
	fclose(f);
	*out = h;
	return PM_OK;
}

/* The printer named on the command line, in the config, or DATA/receipts.txt. 0, or 1 after telling why. */
static int open_printer(const struct term_config *cfg, const char *printer_spec, struct prn_dev **printer)
{
	char pspec[1100], err[600];
	if (!printer_spec)
		printer_spec = cfg->printer[0] ? cfg->printer : NULL;
	if (!printer_spec) {
		snprintf(pspec, sizeof(pspec), "text:%s/receipts.txt", cfg->data_dir);
		printer_spec = pspec;
	}
	if (prn_open(printer_spec, printer, err, sizeof(err)))
		return cli_fail("checkout", "check the printer device string", "%s", err);
	if (cfg->printer_profile[0] && !strstr(printer_spec, ",profile=") &&
	    prn_set_profile(*printer, cfg->printer_profile))
		return cli_fail("checkout", "see docs/printers.md for the profile names",
				"devices.printer_profile '%s' is not a known printer profile", cfg->printer_profile);
	return 0;
}

/* Feed the scanner's scans to the till until the scans end. 0, or 1 after telling why. */
static int run_scans(struct till *t, struct scan_dev *scanner, const char *scanner_spec)
{
	int rc;
	for (;;) {
		struct scan_raw raw;
		/* Wake up every second so waiting receipts print when the printer is back. */
		rc = scan_read(scanner, &raw, 1000);
		if (rc == PM_ENOENT)
			break;
		if (rc == PM_ETIMEOUT) {
			till_retry_receipt(t, false);
			continue;
		}
		if (rc == PM_ENODEV) {
			/* Unplugged: the backend picks the scanner up again when it is back. */
			fprintf(stderr, "posmark checkout: scanner '%s' was disconnected; plug it back in "
				"(scans resume by themselves)\n", scanner_spec);
			continue;
		}
		if (rc) {
			cli_fail("checkout", "check the scanner", "scanner '%s' failed: %s", scanner_spec,
				 pm_strerror(rc));
			return 1;
		}
		if ((rc = till_feed(t, &raw)) == PM_ECORRUPT) {
			/* Stop: nothing more is committed onto a damaged log. */
			cli_log_failed("checkout", t->cfg, rc, "committing the sale (kept open, not committed)", NULL);
			return 1;
		}
		if (rc) {
			cli_fail("checkout", rc == PM_EFULL ? "free disk space (or raise loyalty.map_size_max_mb) "
				 "and rerun the same command: committed sales are not repeated" : NULL,
				 "sale not committed and kept open: %s", pm_strerror(rc));
			return 1;
		}
	}
	return 0;
}

int cmd_checkout(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db = NULL;
	struct scan_dev *scanner = NULL;
	struct prn_dev *printer = NULL;
	struct till *t = NULL;
	const char *scans = NULL, *scanner_spec = NULL, *printer_spec = NULL, *v;
	char spec[1100], err[600], ext[40] = "";
	int status = 1, rc = cli_setup(&argc, argv, &co, &cfg);

	if (rc)
		return rc;
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--scans")))
			scans = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--scanner")))
			scanner_spec = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--printer")))
			printer_spec = v;
		else
			return cli_fail("checkout", "see posmark checkout --help", "unexpected argument '%s'",
					argv[i]) + 1;
	}
	if (co.help) {
		term_help_command("checkout", stdout);
		return 0;
	}
	if (scans) {
		uint64_t h;
		if (script_hash(scans, &h))
			return cli_fail("checkout", "check the --scans path", "cannot read scan script '%s'", scans);
		snprintf(spec, sizeof(spec), "script:%s", scans);
		snprintf(ext, sizeof(ext), "script-%016llx", (unsigned long long)h);
		scanner_spec = spec;
	} else if (!scanner_spec) {
		scanner_spec = cfg.scanner[0] ? cfg.scanner : NULL;
	}
	if (!scanner_spec)
		return cli_fail("checkout", "give --scans FILE, --scanner DEV or devices.scanner in the config",
				"no scanner configured") + 1;
	if (cli_open_log_full("checkout", &cfg, &db))
		return 1;
	if ((rc = scan_open(scanner_spec, &cfg.scan, &scanner, err, sizeof(err)))) {
		cli_fail("checkout", "check the scanner device string", "%s", err);
		goto out;
	}
	if (open_printer(&cfg, printer_spec, &printer))
		goto out;
	if (!(t = malloc(sizeof(*t)))) {
		cli_fail("checkout", NULL, "out of memory");
		goto out;
	}
	till_init(t, db, &cfg, printer, co.json ? stdout : NULL, ext);
	/* HQ answers a card or a sale this terminal does not know, within hq.lookup_budget_ms. */
	term_till_hq(&t->hq, &cfg, db);
	/* Receipts a previous run left waiting print first, before any new sale's. */
	till_retry_receipt(t, true);
	if (run_scans(t, scanner, scanner_spec))
		goto out_release_till;
	if (t->open)
		till_emit(t, &(struct till_event){ .kind = TILL_EV_SALE_LEFT_OPEN, .count = t->n_lines });
	if (till_retry_receipt(t, true) > 0) {
		/* The sales are committed; their receipts wait in the log (print_queue) until they print. */
		fprintf(stderr, "posmark checkout: %zu receipt%s not printed yet (first: sale %llu); %s in the log\n"
			"hint: fix the printer, then print them with posmark receipt --pending --data %s [--printer DEV], "
			"or start the till again: it prints them first\n", t->queue_n,
			t->queue_n == 1 ? "" : "s", (unsigned long long)t->queue_first, t->queue_n == 1 ? "it waits" :
			"they wait", cfg.data_dir);
	}
	till_emit(t, &(struct till_event){ .kind = TILL_EV_CHECKOUT_DONE, .counts = &t->counts });
	if (!co.json)
		fprintf(stderr, "posmark checkout: %lu sales committed, %lu already in the log, "
			"%lu scans refused, %lu cancelled\n", t->counts.committed, t->counts.skipped,
			t->counts.refused_scans, t->counts.cancelled);
	status = 0;
out_release_till:
	term_till_hq_release(&t->hq);
	till_release(t);
out:
	free(t);
	prn_close(printer);
	scan_close(scanner);
	loy_close(db);
	return status;
}
