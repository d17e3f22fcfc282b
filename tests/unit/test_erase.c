/*
 * test_erase.c - an erasure at the store (docs/privacy.md, "At the store"):
 * the scrub of every live record in one transaction, the compaction that
 * takes the old bytes out of data.mdb (refused while another process has
 * the log open), the clear erasure kept only until HQ acknowledged it, and
 * wire's sealed erasure. Real LMDB files; the raw bytes of data.mdb are
 * searched for the number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "tests/unit/loy_fixture.h"
#include "wire/wire.h"
#include "common/pm_buf.h"

#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1790000000000000LL
#define CARD_A "6036010000001000005"
#define CARD_B "6036010000001000740"

static int setup(void **state) { return loyfx_setup(state, false); }
static int teardown(void **state) { return loyfx_teardown(state); }

/* How many times s occurs in DIR/data.mdb's raw bytes. */
static int in_file(const char *dir, const char *s)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	int hits = 0;
	for (const char *p = b; (p = memmem(p, (size_t)(n - (p - b)), s, strlen(s))); p++)
		hits++;
	free(b);
	return hits;
}

static void sell(struct fx *f, const char *card, int64_t t)
{
	struct sale_buf b;
	static const int qty[1] = { 2 };
	static const int64_t price[1] = { 450 };
	struct loy_commit_result res;
	sale_of(&b, card, t, 1, qty, price, 0);
	assert_int_equal(loy_sale_commit(f->db, &b.s, &res), PM_OK);
}

static void offer_event(struct fx *f, int type, const char *card, uint64_t sale)
{
	char p[300];
	int n = snprintf(p, sizeof(p), "{\"v\":1,\"sale\":%llu,\"campaign\":\"c\",\"rule\":\"r\",\"card\":\"%s\","
			 "\"coupon\":\"PM%s9\"}", (unsigned long long)sale, card, card);
	assert_int_equal(loy_event_append(f->db, type, T0 + 5, p, (size_t)n, NULL), PM_OK);
}

struct seen {
	int n;
	int type[16];
	char payload[16][320];
};

static int collect(void *ctx, const struct loy_event *ev)
{
	struct seen *s = ctx;
	assert_true(s->n < 16);
	s->type[s->n] = ev->type;
	snprintf(s->payload[s->n], sizeof(s->payload[0]), "%.*s", (int)ev->payload_len, (const char *)ev->payload);
	s->n++;
	return 0;
}

/* One transaction takes the number out of every live record; the compaction out of the file. */
static void test_scrub_and_compact(void **state)
{
	struct fx *f = *state;
	uint64_t n = 0;
	bool pending = true;
	struct loy_compact_report rep;
	char err[300];
	sell(f, CARD_A, T0);
	sell(f, CARD_B, T0 + 1);
	sell(f, CARD_A, T0 + 2);
	assert_int_equal(loy_card_set_consent(f->db, CARD_A, LOY_CONSENT_YES, LOY_SRC_TILL, T0 + 3), PM_OK);
	assert_int_equal(loy_watermark_set(f->db, true, 1), PM_OK);   /* HQ has A's first consent */
	assert_int_equal(loy_card_set_consent(f->db, CARD_B, LOY_CONSENT_NO, LOY_SRC_TILL, T0 + 3), PM_OK);
	assert_int_equal(loy_card_set_consent(f->db, CARD_A, LOY_CONSENT_NO, LOY_SRC_TILL, T0 + 4), PM_OK);
	offer_event(f, LOY_EV_OFFER_ISSUED, CARD_A, 1);
	offer_event(f, LOY_EV_OFFER_REDEEMED, CARD_B, 2);
	assert_true(in_file(f->dir, CARD_A) > 0);
	assert_int_equal(loy_compact_pending(f->db, &pending), PM_OK);
	assert_false(pending);

	assert_int_equal(loy_card_erase_queue(f->db, CARD_A, T0 + 10, "sealed1:opaque", 14, &n), PM_OK);
	assert_int_equal(n, 2);
	struct seen s = { 0 };
	assert_int_equal(loy_events_after(f->db, 0, 0, collect, &s), PM_OK);
	/* A's acknowledged consent gone; B's consent; A's unacknowledged consent now an erasure (an
	 * upload is a contiguous run of seqs); A's offer without the card; B's offer; the erasure */
	assert_int_equal(s.n, 5);
	assert_int_equal(s.type[0], LOY_EV_CONSENT);
	assert_string_equal(s.payload[0], CARD_B " no");
	assert_int_equal(s.type[1], LOY_EV_ERASURE);
	assert_string_equal(s.payload[1], "sealed1:opaque");
	assert_int_equal(s.type[2], LOY_EV_OFFER_ISSUED);
	assert_string_equal(s.payload[2], "{\"v\":1,\"sale\":1,\"campaign\":\"c\",\"rule\":\"r\",\"card\":\"\","
			    "\"coupon\":\"PM" CARD_A "9\"}");
	assert_non_null(strstr(s.payload[3], "\"card\":\"" CARD_B "\""));
	assert_int_equal(s.type[4], LOY_EV_ERASURE);
	assert_string_equal(s.payload[4], "sealed1:opaque");
	struct loy_stats st0;
	assert_int_equal(loy_stats(f->db, &st0), PM_OK);
	assert_int_equal(st0.last_event_seq, 6);
	struct loy_event ev = { .type = LOY_EV_ERASURE, .payload = s.payload[4], .payload_len = 14 };
	char card[LOY_CARD_MAX + 1];
	assert_int_equal(loy_event_card_fields(&ev, card, NULL), PM_ENOENT);   /* sealed: pass it on */

	struct loy_card c;
	assert_int_equal(loy_card_get(f->db, CARD_A, &c), PM_ENOENT);
	assert_int_equal(loy_card_get(f->db, CARD_B, &c), PM_OK);
	assert_int_equal(loy_compact_pending(f->db, &pending), PM_OK);
	assert_true(pending);
	assert_int_equal(loy_compact(f->db, &rep, err, sizeof(err)), PM_OK);
	assert_true(rep.records > 0 && rep.bytes_after > 0);
	assert_int_equal(loy_compact_pending(f->db, &pending), PM_OK);
	assert_false(pending);
	/* the coupon code embeds A's digits in the test's payload: only the quoted number was the card */
	assert_int_equal(in_file(f->dir, "\"" CARD_A "\""), 0);
	assert_int_equal(in_file(f->dir, CARD_A "\x01"), 0);
	assert_true(in_file(f->dir, CARD_B) > 0);
	/* the handle works after its reopen: B's account and a new sale */
	assert_int_equal(loy_card_get(f->db, CARD_B, &c), PM_OK);
	assert_int_equal(c.visits, 1);
	sell(f, CARD_B, T0 + 20);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.sales, 4);
	assert_int_equal(loy_card_erase_queue(f->db, CARD_A, T0 + 30, NULL, 0, &n), PM_ENOENT);
}

/* Without an offer payload in the way: after the compaction no byte of the number is left at all. */
static void test_no_byte_left(void **state)
{
	struct fx *f = *state;
	uint64_t n;
	for (int i = 0; i < 300; i++)
		sell(f, i % 3 ? CARD_B : CARD_A, T0 + i);
	assert_int_equal(loy_card_set_consent(f->db, CARD_A, LOY_CONSENT_NO, LOY_SRC_TILL, T0 + 400), PM_OK);
	assert_int_equal(loy_card_erase_queue(f->db, CARD_A, T0 + 500, NULL, 0, &n), PM_OK);
	assert_int_equal(n, 100);
	/* scrubbed but not compacted: LMDB's pages still hold it (the reason for compacting) */
	assert_true(in_file(f->dir, CARD_A) > 0);
	assert_int_equal(loy_compact(f->db, NULL, NULL, 0), PM_OK);
	assert_int_equal(in_file(f->dir, CARD_A), 0);
	assert_int_equal(in_file(f->dir, CARD_B) > 0, 1);
}

/* Another process has the log open: nothing is rewritten, the mark stays, the handle still works. */
static void test_compact_busy(void **state)
{
	struct fx *f = *state;
	uint64_t n;
	int ready[2], hold[2];
	char c;
	bool pending;
	sell(f, CARD_A, T0);
	assert_int_equal(loy_card_erase_queue(f->db, CARD_A, T0 + 1, NULL, 0, &n), PM_OK);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct loy_db *db;
		close(ready[0]);
		close(hold[1]);
		if (loy_open(f->dir, &f->cfg, &db, NULL, 0))
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);   /* no loy_close: the process's end releases the log */
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	char err[400];
	assert_int_equal(loy_compact(f->db, NULL, err, sizeof(err)), PM_EBUSY);
	assert_non_null(strstr(err, "open in another process"));
	assert_int_equal(loy_compact_pending(f->db, &pending), PM_OK);
	assert_true(pending);
	sell(f, CARD_B, T0 + 2);
	close(hold[1]);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	assert_int_equal(loy_compact(f->db, NULL, err, sizeof(err)), PM_OK);
	assert_int_equal(in_file(f->dir, CARD_A), 0);
	struct loy_stats st;
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.sales, 2);
}

/* No HQ key: the clear number waits for HQ's acknowledgement, then goes. */
static void test_clear_erasure_until_ack(void **state)
{
	struct fx *f = *state;
	uint64_t n, forgotten = 9;
	bool pending;
	struct loy_stats st;
	sell(f, CARD_A, T0);
	assert_int_equal(loy_card_erase(f->db, CARD_A, LOY_SRC_TILL, T0 + 1, &n), PM_OK);
	assert_int_equal(loy_compact(f->db, NULL, NULL, 0), PM_OK);
	assert_int_equal(in_file(f->dir, CARD_A), 1);   /* the erasure event, waiting for HQ */
	assert_int_equal(loy_events_forget_clear_erasures(f->db, &forgotten), PM_OK);
	assert_int_equal(forgotten, 0);
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(loy_watermark_set(f->db, true, st.last_event_seq), PM_OK);
	assert_int_equal(loy_events_forget_clear_erasures(f->db, &forgotten), PM_OK);
	assert_int_equal(forgotten, 1);
	assert_int_equal(loy_compact_pending(f->db, &pending), PM_OK);
	assert_true(pending);
	assert_int_equal(loy_compact(f->db, NULL, NULL, 0), PM_OK);
	assert_int_equal(in_file(f->dir, CARD_A), 0);
	/* HQ's own erasure queues nothing */
	sell(f, CARD_B, T0 + 2);
	uint64_t before = st.last_event_seq;
	assert_int_equal(loy_card_erase(f->db, CARD_B, LOY_SRC_HQ, T0 + 3, &n), PM_OK);
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(st.last_event_seq, before);
}

/* HQ's erasure: nothing queued; a consent HQ has not received keeps its seq until HQ's ack. */
static void test_hq_erasure_waits_for_ack(void **state)
{
	struct fx *f = *state;
	uint64_t n, forgotten = 9;
	struct loy_stats st;
	struct seen s = { 0 };
	sell(f, CARD_A, T0);
	sell(f, CARD_B, T0 + 1);
	assert_int_equal(loy_card_set_consent(f->db, CARD_A, LOY_CONSENT_YES, LOY_SRC_TILL, T0 + 2), PM_OK);
	assert_int_equal(loy_card_set_consent(f->db, CARD_B, LOY_CONSENT_YES, LOY_SRC_TILL, T0 + 3), PM_OK);
	assert_int_equal(loy_card_erase(f->db, CARD_A, LOY_SRC_HQ, T0 + 4, &n), PM_OK);
	assert_int_equal(loy_events_after(f->db, 0, 0, collect, &s), PM_OK);
	assert_int_equal(s.n, 2);   /* no hole in what HQ has yet to receive, nothing queued */
	assert_string_equal(s.payload[0], CARD_A " yes");
	assert_int_equal(loy_compact(f->db, NULL, NULL, 0), PM_OK);
	assert_int_equal(in_file(f->dir, CARD_A), 1);
	assert_int_equal(loy_events_forget_clear_erasures(f->db, &forgotten), PM_OK);
	assert_int_equal(forgotten, 0);   /* not acknowledged yet */
	assert_int_equal(loy_stats(f->db, &st), PM_OK);
	assert_int_equal(loy_watermark_set(f->db, true, st.last_event_seq), PM_OK);
	assert_int_equal(loy_events_forget_clear_erasures(f->db, &forgotten), PM_OK);
	assert_int_equal(forgotten, 1);   /* A's consent; B's (a card still known) stays */
	assert_int_equal(loy_compact(f->db, NULL, NULL, 0), PM_OK);
	assert_int_equal(in_file(f->dir, CARD_A), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(loy_events_after(f->db, 0, 0, collect, &s), PM_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.payload[0], CARD_B " yes");
}

/* wire's erasure v2: only the rule-signing secret key opens it; one length for every number. */
static void test_wire_sealed_erasure(void **state)
{
	(void)state;
	unsigned char pk[32], sk[64], pk2[32], sk2[64];
	struct pm_buf a = { 0 }, b = { 0 };
	struct wire_erasure_event e;
	struct wire_event_payload d;
	char err[200];
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(wire_erasure_seal(CARD_A, pk, &a), PM_OK);
	assert_int_equal(wire_erasure_seal("7", pk, &b), PM_OK);
	assert_int_equal(a.len, b.len);
	assert_null(memmem(a.data, a.len, CARD_A, strlen(CARD_A)));
	assert_int_equal(wire_event_payload_decode(WIRE_EV_ERASURE, a.data, a.len, &d, err, sizeof(err)), PM_OK);
	assert_true(d.sealed);
	assert_string_equal(d.card, "");
	assert_int_equal(wire_erasure_open(a.data, a.len, sk, &e, err, sizeof(err)), PM_OK);
	assert_string_equal(e.card, CARD_A);
	assert_int_equal(wire_erasure_open(b.data, b.len, sk, &e, err, sizeof(err)), PM_OK);
	assert_string_equal(e.card, "7");
	assert_int_equal(wire_erasure_open(a.data, a.len, sk2, &e, err, sizeof(err)), PM_EINVAL);
	assert_string_equal(e.card, "");
	((char *)a.data)[20] = ((char *)a.data)[20] == 'A' ? 'B' : 'A';
	assert_int_equal(wire_erasure_open(a.data, a.len, sk, &e, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(wire_erasure_decode("sealed1:abc", 11, &e, err, sizeof(err)), PM_EINVAL);
	assert_int_equal(wire_erasure_seal("12a", pk, &b), PM_EINVAL);
	/* v1 stays readable */
	assert_int_equal(wire_erasure_decode(CARD_B, strlen(CARD_B), &e, err, sizeof(err)), PM_OK);
	assert_false(e.sealed);
	assert_string_equal(e.card, CARD_B);
	pm_buf_free(&a);
	pm_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scrub_and_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_byte_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_erasure_until_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hq_erasure_waits_for_ack, setup, teardown),
		cmocka_unit_test(test_wire_sealed_erasure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
