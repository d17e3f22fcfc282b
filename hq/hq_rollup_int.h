/*
 * hq_rollup_int.h - the console's rollup tables (issue 18), private to hq/:
 * what ingest calls in a batch's own transaction (hq_rollup.c), the
 * migration that creates and back-fills them, and the lift arithmetic of
 * the campaigns page (hq_pages_campaigns.c), which tests call directly.
 * docs/console.md, "Page data", defines every table and figure.
 */
#ifndef HQ_ROLLUP_INT_H
#define HQ_ROLLUP_INT_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stddef.h>

/* Migration 7's SQL (tables, functions, triggers) and its step in C: the
 * back-fill from the rows already stored (rollup_rebuild()). hq_schema.c. */
extern const char hqr_migration_sql[];
int hqr_backfill(PGconn *c, char *err, size_t errlen);

/*
 * The rollups of one stored batch, in the ingest transaction, after its rows
 * are in sales or events (and after pending erasures unlinked their cards):
 * records of (store, terminal) with after < seq <= last. months: the month
 * starts (UTC us) the batch's sales touch (partition pruning; may be NULL for
 * an events batch). Idempotent with the batch: called once per batch stored,
 * never for a duplicate. PM_OK or PM_EIO (err: the server's message).
 */
int hq_rollup_batch(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		    uint64_t last, const int64_t *months, int n_months, char *err, size_t errlen);

/* Longest conversion window the rollup keeps (days): a conversion later than
 * this after the offer is never recorded; the page clamps window_days to it. */
#define HQR_MAX_WINDOW_DAYS 90

/* ---- lift (hq_pages_campaigns.c) ------------------------------------------ */
/* Wilson score interval of x successes in n at z (1.959964 for 95%); n = 0: [0, 1]. */
void hqr_wilson(int64_t x, int64_t n, double z, double *lo, double *hi);
/* Difference of two proportions p1 - p2 (x1/n1 treated, x2/n2 control) with
 * Newcombe's hybrid score interval (method 10, no continuity correction).
 * PM_OK, PM_EINVAL when n1 or n2 is 0 (no estimate). */
struct hqr_lift {
	double p1, p2;                /* treated and control conversion */
	double diff, diff_lo, diff_hi;/* p1 - p2 and its interval */
	double ratio, ratio_lo, ratio_hi; /* p1 / p2 with the log (Katz) interval; NAN when undefined */
};
int hqr_lift(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double z, struct hqr_lift *out);

#endif
