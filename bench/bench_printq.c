/*
 * bench_printq.c - what the durable print queue costs a sale (docs/till.md,
 * "Receipt queue and reprint"), each figure beside its baseline from the
 * same run, on the same log:
 *   baseline  loy_sale_commit of a sale alone (what a sale with a ready
 *             printer cost before the queue: one durable transaction);
 *   queued    the same commit carrying its receipt (a 1.5 KB receipt
 *             record written in the sale's transaction: the paper-out case);
 *   printed   queued + loy_printq_done with two OFFER_ISSUED events (a sale
 *             whose receipt printed: two durable transactions).
 * Median and p99 per sale over ROUNDS rounds of N sales (medians of the
 * rounds). Usage: bench_printq DIR [N] [ROUNDS]
 */
#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char receipt[1500];

static int give_receipt(void *ctx, const struct loy_sale *s, const struct loy_commit_result *res,
			const void **rec, size_t *len)
{
	(void)ctx;
	(void)res;
	memcpy(receipt, &s->seq, sizeof(s->seq));
	*rec = receipt;
	*len = sizeof(receipt);
	return PM_OK;
}

static int give_issued(void *ctx, const struct loy_printq_entry *e, const struct loy_sale *sale,
		       const struct loy_event_new **evs, size_t *n)
{
	static struct loy_event_new ev[2];
	static char payload[2][120];
	(void)ctx;
	(void)sale;
	for (int i = 0; i < 2; i++) {
		memcpy(payload[i], &e->seq, sizeof(e->seq));
		ev[i] = (struct loy_event_new){ .type = LOY_EV_OFFER_ISSUED, .time_us = e->time_us,
						.payload = payload[i], .payload_len = sizeof(payload[i]),
						.cap_campaign = "spring", .cap_rule = i ? "r2" : "r1", .cap_card = "" };
	}
	*evs = ev;
	*n = 2;
	return PM_OK;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* One round of n sales in mode 0 (baseline), 1 (queued), 2 (printed): median and p99 in us. */
static int round_of(struct loy_db *db, int mode, int n, int64_t *lat, int64_t *med, int64_t *p99)
{
	struct loy_item it = { .gtin = "05012342000018", .qty = 2, .unit_price_cents = 199, .line_cents = 398 };
	for (int i = 0; i < n; i++) {
		struct loy_sale s = { .items = &it, .n_items = 1, .total_cents = 398, .tendered_cents = 398,
				      .time_us = pm_now_us() };
		struct loy_commit_result res;
		if (mode)
			s.receipt_cb = give_receipt;
		int64_t t0 = pm_mono_ns();
		int rc = loy_sale_commit(db, &s, &res);
		if (rc == PM_OK && mode == 2)
			rc = loy_printq_done(db, res.seq, give_issued, NULL, NULL);
		lat[i] = (pm_mono_ns() - t0) / 1000;
		if (rc)
			return rc;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	*med = lat[n / 2];
	*p99 = lat[(n * 99) / 100];
	return PM_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_printq DIR [N] [ROUNDS]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 300, rounds = argc > 3 ? atoi(argv[3]) : 3;
	struct loy_db *db;
	char err[300];
	if (n < 10 || rounds < 1 || loy_open(argv[1], NULL, &db, err, sizeof(err))) {
		fprintf(stderr, "bench_printq: cannot open the log in '%s'\n", argv[1]);
		return 1;
	}
	int64_t *lat = malloc((size_t)n * sizeof(*lat)), med[3][16], p99[3][16];
	if (rounds > 16)
		rounds = 16;
	/* Modes interleaved per round, so a disk that slows down hits all three alike. */
	for (int r = 0; r < rounds; r++)
		for (int m = 0; m < 3; m++)
			if (round_of(db, m, n, lat, &med[m][r], &p99[m][r])) {
				fprintf(stderr, "bench_printq: a commit failed\n");
				return 1;
			}
	const char *name[3] = { "baseline: sale commit alone", "queued: sale + its receipt in one txn",
				"printed: queued + print confirm txn" };
	int64_t base = 0;
	printf("print queue, %d sales x %d rounds, one writer, median of rounds (us per sale):\n", n, rounds);
	for (int m = 0; m < 3; m++) {
		qsort(med[m], (size_t)rounds, sizeof(int64_t), cmp);
		qsort(p99[m], (size_t)rounds, sizeof(int64_t), cmp);
		int64_t md = med[m][rounds / 2], p = p99[m][rounds / 2];
		if (m == 0)
			base = md;
		printf("  %-40s median %6lld  p99 %6lld  %.2fx baseline\n", name[m], (long long)md, (long long)p,
		       base ? (double)md / (double)base : 0.0);
	}
	free(lat);
	loy_close(db);
	return 0;
}
