/*
 * test_till_receipt.c - the till's receipt queue with a real purchase log
 * and a real tcp: printer (the emulator of escpos_emu.h on 127.0.0.1): a
 * receipt refused for paper out stays queued and the cashier is told why,
 * more sales queue behind it, all print in order when the paper is back,
 * #reprint prints a copy of the last receipt, a receipt left waiting is in
 * the log (with the card masked) and a till started again prints it first,
 * and a printer that never answers does not slow the lane (one timeout per
 * retry interval).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "terminal/till.h"
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_time.h"
#include "tests/unit/testutil.h"
#include "tests/unit/escpos_emu.h"

struct fx {
	char *dir;
	struct term_config cfg;
	struct loy_db *db;
	struct till *t;
	struct prn_dev *printer;
	FILE *events;
	struct emu emu;
};

static void feed(struct fx *f, const char *line)
{
	struct scan_raw raw;
	memset(&raw, 0, sizeof(raw));
	snprintf(raw.data, sizeof(raw.data), "%s", line);
	raw.len = strlen(raw.data);
	raw.is_key = line[0] == '#';
	assert_int_equal(till_feed(f->t, &raw), PM_OK);
}

static int count_events(struct fx *f, const char *what)
{
	char line[4096];
	int n = 0;
	fflush(f->events);
	rewind(f->events);
	while (fgets(line, sizeof(line), f->events))
		if (strstr(line, what))
			n++;
	fseek(f->events, 0, SEEK_END);
	return n;
}

static void fx_open(struct fx *f, int mode)
{
	char err[512], spec[128];
	struct loy_product p = { .gtin = "04006381333931", .name = "Pen Stabilo", .price_cents = 199 };
	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	term_config_default(&f->cfg);
	snprintf(f->cfg.data_dir, sizeof(f->cfg.data_dir), "%s", f->dir);
	assert_int_equal(loy_open(f->dir, &f->cfg.loy, &f->db, err, sizeof(err)), PM_OK);
	assert_int_equal(loy_catalog_put(f->db, &p, 1), PM_OK);
	emu_start(&f->emu, mode);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d,timeout=200", f->emu.port);
	assert_int_equal(prn_open(spec, &f->printer, err, sizeof(err)), PM_OK);
	f->events = tmpfile();
	f->t = malloc(sizeof(*f->t));
	till_init(f->t, f->db, &f->cfg, f->printer, f->events, "test");
}

static void fx_close(struct fx *f)
{
	till_release(f->t);
	free(f->t);
	prn_close(f->printer);
	emu_stop(&f->emu);
	loy_close(f->db);
	fclose(f->events);
	tu_rmdir(f->dir);
}

static void sale(struct fx *f)
{
	feed(f, "4006381333931");
	feed(f, "#tender cash");
}

static void test_paper_out_queue_and_reprint(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, EMU_PAPER_OUT);
	sale(&f);
	assert_int_equal(f.t->counts.committed, 1);
	assert_int_equal(f.t->queue_n, 1);
	assert_true(f.t->receipt_pending);
	assert_int_equal(count_events(&f, "\"receipt_pending\""), 1);
	assert_int_equal(count_events(&f, "out of paper"), 1);
	sale(&f);
	assert_int_equal(f.t->queue_n, 2);
	assert_int_equal(count_events(&f, "\"receipt_pending\""), 1);   /* same reason: told once */
	assert_int_equal(emu_wait_cuts(&f.emu, 0), 0);
	/* Cover open now: a new reason, told. */
	emu_set_mode(&f.emu, EMU_COVER_OPEN);
	assert_int_equal(till_retry_receipt(f.t, true), 2);
	assert_int_equal(count_events(&f, "cover is open"), 1);
	/* Paper back: both print, oldest first, at the next scan. */
	emu_set_mode(&f.emu, EMU_READY);
	f.t->queue_next_try_us = 0;
	feed(&f, "4006381333931");
	assert_int_equal(f.t->queue_n, 0);
	assert_false(f.t->receipt_pending);
	assert_int_equal(emu_wait_cuts(&f.emu, 2), 2);
	assert_int_equal(count_events(&f, "\"receipt_printed\""), 2);
	pthread_mutex_lock(&f.emu.mu);
	int sales_seen = 0;
	for (size_t i = 0; i < f.emu.doc.n; i++)
		if (f.emu.doc.elems[i].kind == PRN_TEXT && !strncmp(f.emu.doc.elems[i].text, "Sale ", 5))
			assert_int_equal(atoi(f.emu.doc.elems[i].text + 5), ++sales_seen);
	assert_int_equal(sales_seen, 2);
	pthread_mutex_unlock(&f.emu.mu);
	feed(&f, "#cancel");
	/* #reprint: a copy of the last receipt, marked. */
	feed(&f, "#reprint");
	assert_int_equal(emu_wait_cuts(&f.emu, 3), 3);
	pthread_mutex_lock(&f.emu.mu);
	bool copy = false;
	for (size_t i = 0; i < f.emu.doc.n; i++)
		if (f.emu.doc.elems[i].kind == PRN_TEXT && strstr(f.emu.doc.elems[i].text, "*** COPY ***"))
			copy = true;
	pthread_mutex_unlock(&f.emu.mu);
	assert_true(copy);
	assert_int_equal(count_events(&f, "\"reprint\":true"), 1);
	fx_close(&f);
}

static void test_silent_printer_does_not_slow_the_lane(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, EMU_SILENT);
	int64_t t0 = pm_now_us();
	sale(&f);                          /* one timed-out attempt (3 status waits at most) */
	assert_int_equal(f.t->queue_n, 1);
	for (int i = 0; i < 50; i++)
		feed(&f, "4006381333931");     /* within the retry interval: no printer I/O */
	int64_t ms = (pm_now_us() - t0) / 1000;
	assert_true(ms < 1500);
	assert_int_equal(count_events(&f, "offline"), 1);
	feed(&f, "#cancel");
	emu_set_mode(&f.emu, EMU_READY);
	assert_int_equal(till_retry_receipt(f.t, true), 0);
	assert_int_equal(emu_wait_cuts(&f.emu, 1), 1);
	fx_close(&f);
}

/* A receipt that waits is in the log (masked card only): a till started again prints it first. */
static void test_restart_prints_the_waiting_receipt(void **state)
{
	(void)state;
	struct fx f;
	struct loy_printq_entry e;
	uint64_t n;
	fx_open(&f, EMU_PAPER_OUT);
	feed(&f, "#card 6036000000000013");
	sale(&f);
	assert_int_equal(loy_printq_count(f.db, &n, NULL), PM_OK);
	assert_int_equal(n, 1);
	assert_int_equal(loy_printq_next(f.db, 0, &e), PM_OK);
	assert_int_equal(e.seq, 1);
	assert_null(memmem(e.receipt, e.receipt_len, "6036000000000013", 16));
	assert_non_null(memmem(e.receipt, e.receipt_len, "************0013", 16));
	free((void *)e.receipt);
	/* The till goes away (its memory with it); a new one on the same log, paper back. */
	till_release(f.t);
	emu_set_mode(&f.emu, EMU_READY);
	till_init(f.t, f.db, &f.cfg, f.printer, f.events, "test2");
	assert_int_equal(f.t->queue_n, 1);
	assert_int_equal(till_retry_receipt(f.t, true), 0);
	assert_int_equal(emu_wait_cuts(&f.emu, 1), 1);
	assert_int_equal(count_events(&f, "\"receipt_printed\",\"sale_id\":1"), 1);
	assert_int_equal(loy_printq_count(f.db, &n, NULL), PM_OK);
	assert_int_equal(n, 0);
	/* The next sale's receipt prints at once, quietly. */
	sale(&f);
	assert_int_equal(emu_wait_cuts(&f.emu, 2), 2);
	assert_int_equal(count_events(&f, "\"receipt_printed\""), 1);
	fx_close(&f);
}

static void test_reprint_without_receipt(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, EMU_READY);
	feed(&f, "#reprint");
	assert_int_equal(f.t->counts.refused_scans, 1);
	sale(&f);
	assert_int_equal(f.t->queue_n, 0);
	assert_int_equal(emu_wait_cuts(&f.emu, 1), 1);
	assert_int_equal(count_events(&f, "\"receipt_printed\""), 0);  /* the normal case stays quiet */
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paper_out_queue_and_reprint),
		cmocka_unit_test(test_restart_prints_the_waiting_receipt),
		cmocka_unit_test(test_silent_printer_does_not_slow_the_lane),
		cmocka_unit_test(test_reprint_without_receipt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
