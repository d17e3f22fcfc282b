/*
 * cmd_receipt.c - posmark receipt: show a receipt as the printer would
 * print it, without a printer. Either a committed sale from the purchase
 * log (laid out by receipt.c, the same layout the till prints) or an
 * ESC/POS capture (what escpos:FILE wrote, or bytes captured from a real
 * printer's port) read back by the drivers' ESC/POS reader. A reprint has
 * the store header and the coupons as printed (from the sale's offer events).
 * Output: text on stdout and/or a PNG drawn from the ESC/POS bytes (the
 * drivers' interpreter), one pixel per printer dot. docs/printers.md, docs/till.md.
 * --pending prints (or, with --list, lists) the receipts waiting in the
 * log's print queue (docs/till.md, "Receipt queue and reprint").
 */
#include "terminal/till.h"
#include "terminal/receipt_rec.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_time.h"

#include <stdlib.h>
#include <string.h>

struct receipt_ctx {
	const struct term_config *cfg;
	struct loy_db *db;
	struct prn_doc *doc;
	int rc;
};

/* Lay out one sale (called with the log's view of it, valid only here). */
static int layout_sale(void *vctx, const struct loy_sale *s)
{
	struct receipt_ctx *ctx = vctx;
	struct loy_commit_result res;
	struct loy_card card;
	struct till_line *lines = calloc(s->n_items ? s->n_items : 1, sizeof(*lines));
	if (!lines) {
		ctx->rc = PM_ENOMEM;
		return 1;
	}
	for (uint32_t i = 0; i < s->n_items; i++) {
		struct loy_product p;
		lines[i].item = s->items[i];
		if (loy_catalog_get(ctx->db, s->items[i].gtin, &p) == PM_OK)
			snprintf(lines[i].name, sizeof(lines[i].name), "%s", p.name);
		else
			snprintf(lines[i].name, sizeof(lines[i].name), "%s", s->items[i].gtin);
	}
	/* Points as committed; balance and tier as they are now (a reprint says so). */
	memset(&res, 0, sizeof(res));
	res.seq = s->seq;
	res.points_earned = s->points_earned;
	if (s->card[0] && loy_card_get(ctx->db, s->card, &card) == PM_OK) {
		res.points_balance = card.points;
		res.tier = card.tier;
	}
	/* The coupons as printed: from the sale's OFFER_ISSUED events in the log. */
	struct ofr_decision *issued = calloc(1, sizeof(*issued));
	if (!issued || receipt_sale_offers(ctx->db, ctx->cfg, s, issued)) {
		free(issued);
		free(lines);
		ctx->rc = PM_ENOMEM;
		return 1;
	}
	ctx->rc = receipt_build(ctx->doc, ctx->cfg, ctx->db, s, &res, lines, s->n_items, issued);
	free(issued);
	free(lines);
	return 1;
}

static bool profile_known(const char *name)
{
	const char *names[96];
	size_t n = prn_profile_names(names, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* --escpos FILE: the capture read into doc; with png, drawn from its own bytes. 0 or 1 (told). */
static int from_capture(const char *escpos, const char *profile, const char *png, struct prn_doc *doc)
{
	char *bytes;
	size_t len;
	int rc = pm_file_read(escpos, 0, &bytes, &len);
	if (rc)
		return cli_fail("receipt", "check the --escpos path", "cannot read '%s': %s", escpos, pm_strerror(rc));
	rc = prn_escpos_to_doc(bytes, len, doc);
	/* the preview of a capture is drawn from its bytes, not from what the reader understood */
	int prc = png ? prn_escpos_render_png((const unsigned char *)bytes, len, profile, png, NULL) : PM_OK;
	free(bytes);
	if (prc)
		return cli_fail("receipt", prc == PM_EINVAL ? "see docs/printers.md for the profile names"
				: "check that the directory of --png exists and is writable",
				"cannot draw the receipt into '%s': %s", png, pm_strerror(prc));
	if (rc == PM_EPROTO)
		fprintf(stderr, "posmark receipt: '%s' ends inside a command; showing what came before\n", escpos);
	else if (rc)
		return cli_fail("receipt", NULL, "cannot read '%s' as ESC/POS: %s", escpos, pm_strerror(rc));
	return 0;
}

/* --sale SEQ: the sale laid out from the log into doc. 0 or 1 (told). */
static int from_sale(const char *sale, const struct term_config *cfg, struct loy_db **db, struct prn_doc *doc)
{
	char *end;
	unsigned long long seq = strtoull(sale, &end, 10);
	if (*end || seq == 0)
		return cli_fail("receipt", "sale numbers are the seq of sale_committed, 1 and up",
				"--sale '%s' is not a sale number", sale);
	if (cli_open_log_ro("receipt", cfg, db))
		return 1;
	struct receipt_ctx ctx = { .cfg = cfg, .db = *db, .doc = doc, .rc = PM_ENOENT };
	int rc = loy_sale_get(*db, seq, layout_sale, &ctx);
	if (rc == PM_ENOENT || (rc >= 0 && ctx.rc == PM_ENOENT))
		return cli_fail("receipt", "list the sales with posmark history CARD, or check --data",
				"no sale %llu in '%s'", seq, cfg->data_dir);
	if (rc < 0 || ctx.rc)
		return cli_fail("receipt", NULL, "cannot lay out sale %llu: %s", seq, pm_strerror(rc < 0 ? rc : ctx.rc));
	return 0;
}

/* --printer DEV: a copy marked as such. 0 or 1 (told). */
static int reprint(const char *printer, const char *profile, const struct prn_doc *doc)
{
	struct prn_dev *dev;
	struct prn_doc copy;
	char err[600];
	int rc = prn_open(printer, &dev, err, sizeof(err));
	if (rc)
		return cli_fail("receipt", "check the printer device string", "%s", err);
	if (profile && *profile && !strstr(printer, ",profile=") && prn_set_profile(dev, profile)) {
		prn_close(dev);
		return cli_fail("receipt", "see docs/printers.md for the profile names", "printer profile '%s' is unknown",
				profile);
	}
	prn_doc_init(&copy, doc->columns);
	rc = prn_doc_text(&copy, PRN_CENTER, PRN_BOLD, "*** COPY ***");
	if (rc == PM_OK)
		rc = prn_doc_append(&copy, doc);
	if (rc == PM_OK)
		rc = prn_print(dev, &copy);
	int state = PRN_READY;
	if (rc)
		prn_status(dev, &state);
	prn_doc_release(&copy);
	prn_close(dev);
	if (rc)
		return cli_fail("receipt", rc == PM_EPAPER || rc == PM_EOFFLINE || rc == PM_ETIMEOUT
				? prn_state_words(state) : NULL, "receipt not printed on '%s': %s", printer,
				pm_strerror(rc));
	return 0;
}

/* ---- --pending: the receipts waiting in the log's print queue ---- */

/* One waiting receipt for --list (text line or JSON object). */
static int list_one(void *ctx, const struct loy_printq_entry *e)
{
	json_t *arr = ctx;
	struct receipt_rec r;
	char when[40];
	int rc = receipt_rec_decode(e->receipt, e->receipt_len, &r);
	pm_fmt_utc(e->time_us, when, sizeof(when));
	if (arr) {
		json_t *codes = json_array();
		for (size_t i = 0; rc == PM_OK && i < r.n_offers; i++)
			json_array_append_new(codes, json_string(r.offers[i].coupon));
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:o, s:b}", "sale", (json_int_t)e->seq,
						     "time", when, "kind", r.is_return ? "return" : "sale",
						     "elements", (json_int_t)r.doc.n, "coupons", codes,
						     "readable", rc == PM_OK));
	} else {
		printf("%-8llu %-22s %-7s %3zu coupon%s%s\n", (unsigned long long)e->seq, when,
		       rc ? "?" : r.is_return ? "return" : "sale", r.n_offers, r.n_offers == 1 ? " " : "s",
		       rc ? "  (unreadable: reprint it with posmark receipt --sale)" : "");
	}
	receipt_rec_release(&r);
	return 0;
}

static int pending_list(const struct term_config *cfg, bool json)
{
	struct loy_db *db = NULL;
	json_t *arr = json ? json_array() : NULL;
	if (cli_open_log_ro("receipt", cfg, &db)) {
		json_decref(arr);
		return 1;
	}
	if (!json)
		printf("%-8s %-22s %-7s %s\n", "sale", "time (UTC)", "kind", "coupons");
	int rc = loy_printq_each(db, list_one, arr);
	loy_close(db);
	if (rc) {
		json_decref(arr);
		return cli_fail("receipt", LOY_DAMAGED_HINT, "cannot read the print queue of '%s': %s", cfg->data_dir,
				pm_strerror(rc));
	}
	if (json) {
		json_t *o = json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(arr), "pending", arr);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	}
	return 0;
}

/* Print every waiting receipt, oldest first; each leaves the queue (coupons counted) once printed. */
static int pending_print(const struct term_config *cfg, const char *printer_spec, const char *profile)
{
	struct loy_db *db = NULL;
	struct prn_dev *dev = NULL;
	char pspec[1100], err[600];
	uint64_t after = 0, n = 0, first = 0;
	size_t printed = 0, unreadable = 0;
	int status = 1, rc;
	if (cli_open_log("receipt", cfg, &db))
		return 1;
	if ((rc = loy_printq_count(db, &n, &first))) {
		cli_fail("receipt", LOY_DAMAGED_HINT, "cannot read the print queue of '%s': %s", cfg->data_dir,
			 pm_strerror(rc));
		goto out;
	}
	if (n == 0) {
		printf("no receipts waiting in '%s'\n", cfg->data_dir);
		status = 0;
		goto out;
	}
	/* The till's printer: --printer, devices.printer, else the text file checkout writes. */
	if (!printer_spec)
		printer_spec = cfg->printer[0] ? cfg->printer : NULL;
	if (!printer_spec) {
		snprintf(pspec, sizeof(pspec), "text:%s/receipts.txt", cfg->data_dir);
		printer_spec = pspec;
	}
	if (prn_open(printer_spec, &dev, err, sizeof(err))) {
		cli_fail("receipt", "check the printer device string", "%s", err);
		goto out;
	}
	if (profile && *profile && !strstr(printer_spec, ",profile=") && prn_set_profile(dev, profile)) {
		cli_fail("receipt", "see docs/printers.md for the profile names", "printer profile '%s' is unknown", profile);
		goto out;
	}
	for (;;) {
		struct loy_printq_entry e;
		struct receipt_rec r;
		if ((rc = loy_printq_next(db, after, &e)) == PM_ENOENT)
			break;
		if (rc) {
			cli_fail("receipt", NULL, "cannot read the print queue of '%s': %s", cfg->data_dir, pm_strerror(rc));
			goto out;
		}
		after = e.seq;
		rc = receipt_rec_decode(e.receipt, e.receipt_len, &r);
		free((void *)e.receipt);
		if (rc) {
			fprintf(stderr, "posmark receipt: the waiting receipt of sale %llu cannot be read (%s); it stays "
				"in the queue\nhint: print it from the sale with posmark receipt --sale %llu --printer DEV\n",
				(unsigned long long)e.seq, pm_strerror(rc), (unsigned long long)e.seq);
			receipt_rec_release(&r);
			unreadable++;
			continue;
		}
		if ((rc = prn_print(dev, &r.doc))) {
			int state = PRN_READY;
			prn_status(dev, &state);
			receipt_rec_release(&r);
			loy_printq_count(db, &n, NULL);
			cli_fail("receipt", rc == PM_EPAPER || rc == PM_EOFFLINE || rc == PM_ETIMEOUT ? prn_state_words(state)
				 : "check the printer", "receipt of sale %llu not printed on '%s': %s; %llu receipt%s still "
				 "wait%s in the log (run this again once the printer is ready)", (unsigned long long)e.seq,
				 printer_spec, pm_strerror(rc), (unsigned long long)n, n == 1 ? "" : "s", n == 1 ? "s" : "");
			goto out;
		}
		bool removed = false;
		rc = till_receipt_printed(db, NULL, e.seq, &r, pm_now_us(), &removed);
		receipt_rec_release(&r);
		if (rc) {
			cli_fail("receipt", "free disk space (or see posmark log check); the receipt may print again",
				 "receipt of sale %llu printed, but the log could not record it: %s", (unsigned long long)e.seq,
				 pm_strerror(rc));
			goto out;
		}
		printf("printed the receipt of sale %llu%s\n", (unsigned long long)e.seq,
		       removed ? "" : " (another till had printed it meanwhile)");
		printed++;
	}
	if (unreadable) {
		fprintf(stderr, "posmark receipt: %zu waiting receipt%s could not be read\n", unreadable,
			unreadable == 1 ? "" : "s");
		goto out;
	}
	status = 0;
out:
	prn_close(dev);
	loy_close(db);
	return status;
}

int cmd_receipt(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db = NULL;
	struct prn_doc doc;
	const char *png = NULL, *escpos = NULL, *sale = NULL, *profile = NULL, *printer = NULL, *v;
	bool text = false, pending = false, list = false;
	int status = 1, rc = cli_setup(&argc, argv, &co, &cfg);

	if (rc)
		return rc;
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--png")))
			png = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--sale")))
			sale = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--escpos")))
			escpos = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--profile")))
			profile = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--printer")))
			printer = v;
		else if (!strcmp(argv[i], "--text"))
			text = true;
		else if (!strcmp(argv[i], "--pending"))
			pending = true;
		else if (!strcmp(argv[i], "--list"))
			list = true;
		else
			return cli_fail("receipt", "see posmark receipt --help", "unexpected argument '%s'",
					argv[i]) + 1;
	}
	if (co.help) {
		term_help_command("receipt", stdout);
		return 0;
	}
	if (list && !pending)
		return cli_fail("receipt", "--list goes with --pending", "--list without --pending") + 1;
	if (pending && (sale || escpos || png || text))
		return cli_fail("receipt", "give --pending alone (with --data, --printer, --profile, --list, --json)",
				"--pending excludes --sale, --escpos, --png and --text") + 1;
	if (pending && !list && !co.json) {
		if (!profile)
			profile = cfg.printer_profile;
		return pending_print(&cfg, printer, profile);
	}
	if (pending)
		return pending_list(&cfg, co.json);
	if (!sale == !escpos)
		return cli_fail("receipt", "give --sale SEQ (with --data DIR) or --escpos FILE",
				"%s", sale ? "--sale and --escpos exclude each other" : "nothing to show") + 1;
	if (!profile)
		profile = cfg.printer_profile;
	if (profile && *profile && !profile_known(profile)) {
		char names[600];
		prn_profile_list(names, sizeof(names));
		return cli_fail("receipt", "use one of the known profiles, or add the model to the printer "
				"capabilities file (docs/printers.md)", "printer profile '%s' is unknown; the known "
				"ones: %s", profile, names) + 1;
	}
	if (!png && !printer)
		text = true;
	prn_doc_init(&doc, cfg.receipt_columns);
	if (escpos ? from_capture(escpos, profile, png, &doc) : from_sale(sale, &cfg, &db, &doc))
		goto out;
	if (png && !escpos && (rc = prn_doc_render_png(&doc, profile, png))) {
		cli_fail("receipt", rc == PM_EINVAL ? "see docs/printers.md for the profile names"
			 : "check that the directory of --png exists and is writable",
			 "cannot draw the receipt into '%s': %s", png, pm_strerror(rc));
		goto out;
	}
	if (printer && reprint(printer, profile, &doc))
		goto out;
	if (text) {
		char *t;
		size_t len;
		if ((rc = prn_doc_to_text(&doc, &t, &len)) == PM_OK) {
			fwrite(t, 1, len, stdout);
			free(t);
		}
	}
	status = 0;
out:
	prn_doc_release(&doc);
	loy_close(db);
	return status;
}
