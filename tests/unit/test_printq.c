/*
 * test_printq.c - the print queue (docs/storage.md, "print_queue";
 * docs/till.md, "The receipt record"), with real LMDB files:
 *  - the receipt record codec: a receipt with every element kind and its
 *    coupons round-trips byte for byte; every truncation and a newer
 *    version are refused, never over-read;
 *  - loyalty: a receipt queued by the sale's own commit (nothing queued when
 *    the commit is refused), listed oldest first, removed once with its
 *    coupons' events and caps in one transaction; a second removal counts
 *    nothing; a log written before the table existed gets it at open;
 *  - the one-transaction property under SIGKILL: a child commits sales
 *    with their receipts and prints (removes) them while it is killed at
 *    random moments; after each kill every committed sale has either its
 *    queue entry or its "printed" event (exactly one), and no queue entry
 *    or printed event names a sale the log does not have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "terminal/receipt_rec.h"
#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <lmdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the receipt record codec ---- */

static void sample(struct prn_doc *d, struct ofr_decision *dec)
{
	static const unsigned char bits[2 * 3] = { 0xff, 0x80, 0x00, 0x01, 0xaa, 0x55 };
	prn_doc_init(d, 48);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "%s", "Café Zürich");
	prn_doc_pair(d, 0, "Card ************0013", "Tier gold");
	prn_doc_rule(d, '-');
	prn_doc_text(d, PRN_LEFT, 0, "%s", "");
	prn_doc_barcode(d, PRN_CODE128, "store1-lane1:42");
	prn_doc_qr(d, "https://example.com/r/42");
	prn_doc_image(d, PRN_RIGHT, 9, 3, bits);
	prn_doc_feed(d, 2);
	prn_doc_drawer(d);
	prn_doc_cut(d);
	memset(dec, 0, sizeof(*dec));
	dec->n = 3;
	struct ofr_offer *o = &dec->offers[0];
	snprintf(o->campaign, sizeof(o->campaign), "spring");
	snprintf(o->rule_id, sizeof(o->rule_id), "pasta-sauce");
	snprintf(o->gtin, sizeof(o->gtin), "05012342000018");
	snprintf(o->coupon, sizeof(o->coupon), "PM1234567890123");
	o->kind = OFR_CROSS_SELL;
	o->benefit = OFR_PERCENT_ITEM;
	o->value = 15;
	o->expires_us = 1800000000000000LL;
	dec->offers[1] = *o;
	dec->offers[1].held_back = true;   /* control group: not on the receipt, not in the record */
	dec->offers[2] = *o;
	snprintf(dec->offers[2].coupon, sizeof(dec->offers[2].coupon), "PM9999");
	dec->offers[2].gtin[0] = '\0';
	dec->offers[2].value = -5;
}

static void test_codec_roundtrip(void **state)
{
	(void)state;
	struct prn_doc d;
	struct ofr_decision dec;
	struct pm_buf a = { 0 }, b = { 0 };
	struct receipt_rec r;
	sample(&d, &dec);
	assert_int_equal(receipt_rec_encode(&d, true, &dec, &a), PM_OK);
	assert_int_equal(receipt_rec_decode(a.data, a.len, &r), PM_OK);
	assert_true(r.is_return);
	assert_int_equal(r.doc.columns, 48);
	assert_int_equal(r.doc.n, d.n);
	for (size_t i = 0; i < d.n; i++) {
		const struct prn_elem *x = &d.elems[i], *y = &r.doc.elems[i];
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->align, y->align);
		assert_int_equal(x->style, y->style);
		assert_int_equal(x->lines, y->lines);
		assert_int_equal(x->text == NULL, y->text == NULL);
		if (x->text)
			assert_string_equal(x->text, y->text);
		if (x->kind == PRN_IMAGE) {
			assert_int_equal(x->width, y->width);
			assert_memory_equal(x->bits, y->bits, 6);
		}
	}
	assert_int_equal(r.n_offers, 2);
	assert_string_equal(r.offers[0].coupon, "PM1234567890123");
	assert_string_equal(r.offers[0].rule_id, "pasta-sauce");
	assert_int_equal(r.offers[0].expires_us, 1800000000000000LL);
	assert_string_equal(r.offers[1].coupon, "PM9999");
	assert_int_equal(r.offers[1].value, -5);
	/* The decoded record encodes to the same bytes. */
	struct ofr_decision again = { .n = r.n_offers };
	memcpy(again.offers, r.offers, sizeof(r.offers));
	assert_int_equal(receipt_rec_encode(&r.doc, r.is_return, &again, &b), PM_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* The text is what the receipt prints: the same rendering. */
	char *t1, *t2;
	size_t l1, l2;
	assert_int_equal(prn_doc_to_text(&d, &t1, &l1), PM_OK);
	assert_int_equal(prn_doc_to_text(&r.doc, &t2, &l2), PM_OK);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	receipt_rec_release(&r);
	prn_doc_release(&d);
	pm_buf_free(&a);
	pm_buf_free(&b);
}

static void test_codec_refuses_damage(void **state)
{
	(void)state;
	struct prn_doc d;
	struct ofr_decision dec;
	struct pm_buf a = { 0 };
	struct receipt_rec r;
	sample(&d, &dec);
	assert_int_equal(receipt_rec_encode(&d, false, &dec, &a), PM_OK);
	/* Every proper prefix, copied into an exact-size buffer (ASan sees any over-read). */
	for (size_t n = 0; n < a.len; n++) {
		unsigned char *cut = malloc(n ? n : 1);
		memcpy(cut, a.data, n);
		assert_int_equal(receipt_rec_decode(cut, n, &r), PM_ECORRUPT);
		receipt_rec_release(&r);
		free(cut);
	}
	/* Trailing bytes, a newer version, a bad flag. */
	unsigned char *more = malloc(a.len + 1);
	memcpy(more, a.data, a.len);
	more[a.len] = 0;
	assert_int_equal(receipt_rec_decode(more, a.len + 1, &r), PM_ECORRUPT);
	receipt_rec_release(&r);
	more[0] = RECEIPT_REC_V1 + 1;
	assert_int_equal(receipt_rec_decode(more, a.len, &r), PM_EVERSION);
	receipt_rec_release(&r);
	more[0] = RECEIPT_REC_V1;
	more[1] = 0x80;
	assert_int_equal(receipt_rec_decode(more, a.len, &r), PM_ECORRUPT);
	receipt_rec_release(&r);
	free(more);
	/* A string the format cannot carry is refused at encode, nothing appended. */
	size_t before = a.len;
	memset(dec.offers[0].campaign, 'x', OFR_ID_MAX);
	dec.offers[0].kind = 300;
	assert_int_equal(receipt_rec_encode(&d, false, &dec, &a), PM_EINVAL);
	assert_int_equal(a.len, before);
	prn_doc_release(&d);
	pm_buf_free(&a);
}

/* ---- loyalty: queued in the commit, removed once with its events ---- */

struct rcpt {
	char bytes[32];
	size_t len;
	int calls;
};

static int give_receipt(void *ctx, const struct loy_sale *s, const struct loy_commit_result *res, const void **rec,
			size_t *len)
{
	struct rcpt *r = ctx;
	r->calls++;
	/* What a receipt knows only inside the commit: seq and balance. */
	r->len = (size_t)snprintf(r->bytes, sizeof(r->bytes), "R%llu/%lld", (unsigned long long)s->seq,
				  (long long)res->points_balance);
	*rec = r->bytes;
	*len = r->len;
	return PM_OK;
}

struct issued {
	char card[LOY_CARD_MAX + 1];
	char payload[16];
	struct loy_event_new ev;
	bool seen_sale;
};

static int give_issue(void *ctx, const struct loy_printq_entry *e, const struct loy_sale *sale,
		      const struct loy_event_new **evs, size_t *n)
{
	struct issued *x = ctx;
	x->seen_sale = sale && sale->seq == e->seq;
	snprintf(x->card, sizeof(x->card), "%s", sale ? sale->card : "");
	memcpy(x->payload, &e->seq, 8);
	x->ev = (struct loy_event_new){ .type = LOY_EV_OFFER_ISSUED, .time_us = 1, .payload = x->payload,
					.payload_len = 8, .cap_campaign = "spring", .cap_rule = "r1",
					.cap_card = x->card };
	*evs = &x->ev;
	*n = 1;
	return PM_OK;
}

static int count_cap(void *ctx, const struct loy_cap *c)
{
	if (!c->rule && !strcmp(c->campaign, "spring"))
		*(uint64_t *)ctx = c->issued;
	return 0;
}

static int list_seq(void *ctx, const struct loy_printq_entry *e)
{
	uint64_t *last = ctx;
	assert_true(e->seq > *last);   /* oldest first */
	*last = e->seq;
	return 0;
}

static void test_queue_in_commit(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), err[300];
	struct loy_db *db;
	struct loy_item it = { .gtin = "05012342000018", .qty = 1, .unit_price_cents = 500, .line_cents = 500 };
	struct loy_sale s = { .items = &it, .n_items = 1, .total_cents = 500, .tendered_cents = 500,
			      .card = "6036000000000013", .time_us = 1700000000000000LL };
	struct loy_commit_result res;
	struct rcpt rc = { .len = 0 };
	struct loy_printq_entry e;
	uint64_t n, first, caps_seq, issued = 0, last = 0;
	assert_int_equal(loy_open(dir, NULL, &db, err, sizeof(err)), PM_OK);
	s.receipt_cb = give_receipt;
	s.receipt_ctx = &rc;
	assert_int_equal(loy_sale_commit(db, &s, &res), PM_OK);
	assert_int_equal(loy_sale_commit(db, &s, &res), PM_OK);
	/* A refused commit queues nothing: points on a sale without a card. */
	struct loy_sale bad = s;
	bad.card[0] = '\0';
	bad.points_spent = 10;
	assert_int_equal(loy_sale_commit(db, &bad, &res), PM_EREFUSED);
	assert_int_equal(loy_printq_count(db, &n, &first), PM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(first, 1);
	assert_int_equal(loy_printq_each(db, list_seq, &last), PM_OK);
	assert_int_equal(last, 2);
	assert_int_equal(loy_printq_next(db, 0, &e), PM_OK);
	assert_int_equal(e.seq, 1);
	assert_int_equal(e.time_us, s.time_us);
	assert_int_equal(e.receipt_len, 4);
	assert_memory_equal(e.receipt, "R1/5", 4);   /* laid out with the commit's seq and balance (5 points) */
	free((void *)e.receipt);
	assert_int_equal(loy_printq_next(db, 2, &e), PM_ENOENT);
	/* Printed: removed with its issued event and its caps count, once. */
	struct issued x;
	bool removed;
	struct loy_stats st0, st1;
	assert_int_equal(loy_stats(db, &st0), PM_OK);
	assert_int_equal(loy_printq_done(db, 1, give_issue, &x, &removed), PM_OK);
	assert_true(removed);
	assert_true(x.seen_sale);
	assert_string_equal(x.card, "6036000000000013");
	assert_int_equal(loy_printq_done(db, 1, give_issue, &x, &removed), PM_OK);
	assert_false(removed);
	assert_int_equal(loy_stats(db, &st1), PM_OK);
	assert_int_equal(st1.last_event_seq, st0.last_event_seq + 1);
	assert_int_equal(loy_caps_load(db, count_cap, &issued, &caps_seq), PM_OK);
	assert_int_equal(issued, 1);
	assert_int_equal(loy_printq_count(db, &n, &first), PM_OK);
	assert_int_equal(n, 1);
	assert_int_equal(first, 2);
	/* An erased card: the issue names no card. */
	uint64_t unlinked;
	assert_int_equal(loy_card_erase(db, "6036000000000013", LOY_SRC_TILL, 2, &unlinked), PM_OK);
	assert_int_equal(loy_printq_done(db, 2, give_issue, &x, &removed), PM_OK);
	assert_true(removed);
	assert_string_equal(x.card, "");
	assert_int_equal(loy_printq_count(db, &n, NULL), PM_OK);
	assert_int_equal(n, 0);
	loy_close(db);
	/* The new table passes the whole-log check. */
	struct loy_check_report rep;
	assert_int_equal(loy_check(dir, NULL, &rep, err, sizeof(err)), PM_OK);
	tu_rmdir(dir);
}

/* A log written before the table existed (print_queue dropped with LMDB's own API) gets it at open. */
static void test_older_log_upgrades_at_open(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp(), err[300];
	struct loy_db *db;
	struct loy_item it = { .gtin = "05012342000018", .qty = 1, .unit_price_cents = 100, .line_cents = 100 };
	struct loy_sale s = { .items = &it, .n_items = 1, .total_cents = 100, .tendered_cents = 100, .time_us = 1 };
	struct loy_commit_result res;
	struct rcpt rc = { .len = 0 };
	uint64_t n;
	assert_int_equal(loy_open(dir, NULL, &db, err, sizeof(err)), PM_OK);
	assert_int_equal(loy_sale_commit(db, &s, &res), PM_OK);   /* a sale from before */
	loy_close(db);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "print_queue", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "print_queue", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	/* Opened by this posmark: the table is there, the old sale reads, a receipt queues. */
	assert_int_equal(loy_open(dir, NULL, &db, err, sizeof(err)), PM_OK);
	assert_int_equal(loy_printq_count(db, &n, NULL), PM_OK);
	assert_int_equal(n, 0);
	s.receipt_cb = give_receipt;
	s.receipt_ctx = &rc;
	assert_int_equal(loy_sale_commit(db, &s, &res), PM_OK);
	assert_int_equal(res.seq, 2);
	assert_int_equal(loy_printq_count(db, &n, NULL), PM_OK);
	assert_int_equal(n, 1);
	loy_close(db);
	struct loy_check_report rep;
	assert_int_equal(loy_check(dir, NULL, &rep, err, sizeof(err)), PM_OK);
	tu_rmdir(dir);
}

/* ---- SIGKILL during commits and prints ---- */

#define CRASH_ROUNDS 25

static int printed_one(void *ctx, const struct loy_printq_entry *e, const struct loy_sale *sale,
		       const struct loy_event_new **evs, size_t *n)
{
	struct loy_event_new *ev = ctx;
	static uint64_t seq;
	(void)sale;
	seq = e->seq;
	*ev = (struct loy_event_new){ .type = LOY_EV_OFFER_ISSUED, .time_us = 1, .payload = &seq, .payload_len = 8 };
	*evs = ev;
	*n = 1;
	return PM_OK;
}

/* The child: commit sales with their receipts, print every other one (oldest first), until killed. */
static void crash_child(const char *dir, unsigned seed)
{
	struct loy_db *db;
	struct loy_item it = { .gtin = "05012342000018", .qty = 1, .unit_price_cents = 100, .line_cents = 100 };
	struct rcpt rc = { .len = 0 };
	struct loy_event_new ev;
	if (loy_open(dir, NULL, &db, NULL, 0))
		_exit(2);
	srand(seed);
	for (unsigned i = 0;; i++) {
		struct loy_sale s = { .items = &it, .n_items = 1, .total_cents = 100, .tendered_cents = 100,
				      .time_us = 1700000000000000LL + i, .receipt_cb = give_receipt, .receipt_ctx = &rc };
		struct loy_commit_result res;
		struct loy_printq_entry e;
		if (rand() % 5 == 0)
			snprintf(s.card, sizeof(s.card), "60360000000000%02u", i % 7);
		if (loy_sale_commit(db, &s, &res))
			_exit(3);
		if (i % 2 && loy_printq_next(db, 0, &e) == PM_OK) {
			free((void *)e.receipt);
			if (loy_printq_done(db, e.seq, printed_one, &ev, NULL))
				_exit(4);
		}
	}
}

struct seen {
	unsigned char *printed;       /* per seq: printed events */
	size_t cap;
	uint64_t bad;                 /* events or entries naming no sale */
};

static int each_event(void *ctx, const struct loy_event *ev)
{
	struct seen *x = ctx;
	uint64_t seq;
	if (ev->type != LOY_EV_OFFER_ISSUED || ev->payload_len != 8)
		return 0;
	memcpy(&seq, ev->payload, 8);
	if (seq >= x->cap)
		x->bad++;
	else
		x->printed[seq]++;
	return 0;
}

static void test_sigkill_one_transaction(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	unsigned seed = (unsigned)time(NULL);
	uint64_t total_sales = 0;
	print_message("seed %u\n", seed);
	srand(seed);
	for (int round = 0; round < CRASH_ROUNDS; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(dir, seed + (unsigned)round);
		struct timespec ts = { 0, (long)(5 + rand() % 40) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));   /* it was still committing, not failed */
		/* Check: every sale has its entry or its printed event, exactly one. */
		struct loy_db *db;
		struct loy_stats st;
		char err[300];
		assert_int_equal(loy_open(dir, NULL, &db, err, sizeof(err)), PM_OK);
		assert_int_equal(loy_stats(db, &st), PM_OK);
		struct seen x = { .cap = st.last_sale_seq + 1 };
		x.printed = calloc(x.cap, 1);
		assert_int_equal(loy_events_after(db, 0, 0, each_event, &x), PM_OK);   /* 0: every event */
		unsigned char *queued = calloc(x.cap, 1);
		for (uint64_t after = 0;;) {
			struct loy_printq_entry e;
			int rc = loy_printq_next(db, after, &e);
			if (rc == PM_ENOENT)
				break;
			assert_int_equal(rc, PM_OK);
			free((void *)e.receipt);
			if (e.seq >= x.cap)
				x.bad++;
			else
				queued[e.seq]++;
			after = e.seq;
		}
		assert_int_equal(x.bad, 0);
		for (uint64_t s = 1; s < x.cap; s++)
			if (queued[s] + x.printed[s] != 1)
				fail_msg("round %d: sale %llu has %d queue entries and %d printed events", round,
					 (unsigned long long)s, queued[s], x.printed[s]);
		total_sales = st.last_sale_seq;
		free(queued);
		free(x.printed);
		loy_close(db);
	}
	print_message("%llu sales over %d kills\n", (unsigned long long)total_sales, CRASH_ROUNDS);
	assert_true(total_sales > (uint64_t)CRASH_ROUNDS);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_refuses_damage),
		cmocka_unit_test(test_queue_in_commit),
		cmocka_unit_test(test_older_log_upgrades_at_open),
		cmocka_unit_test(test_sigkill_one_transaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
