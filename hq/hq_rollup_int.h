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
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Migration 7's SQL (tables, functions, triggers) and its step in C: the
 * back-fill from the rows already stored (rollup_rebuild()). hq_schema.c. */
extern const char hqr_migration_sql[];
int hqr_backfill(PGconn *c, char *err, size_t errlen);

/* Migration 10's SQL: the months a card's rollups need move into its rollup_card row
 * (active, recent_m, recent_s), rollup_card_month goes, and rollup_erase() and
 * rollup_rebuild() are redefined; back-filled by rollup_rebuild(). */
extern const char hqr_migration10_sql[];

/* Migration 12's SQL: a card's rollup columns move into its accounts row (one row per
 * card), rollup_card becomes a read-only view of them, rollup_erase() and rollup_rebuild()
 * are redefined over accounts. Keeps the rows it moves; no back-fill. */
extern const char hqr_migration12_sql[];

/*
 * A sales batch's card months, gathered while it is decoded (hq_rollup_cards.c):
 * one entry per stored sale or return with a card, summed per (card, month) when
 * applied. The caller keeps it in its batch state: reset per attempt, freed once.
 */
#define HQR_CARD_MAX 32
struct hqr_card_month {
	char card[HQR_CARD_MAX];      /* the card's ref */
	int month;                    /* UTC year * 12 + month - 1 */
	int64_t visits, spend;        /* sales (not returns); money paid net of returns (HQI_MONEY_SQL) */
	int64_t first_us, last_us;    /* of its sales: INT64_MAX / INT64_MIN when none */
	bool fresh;                   /* the ref was made by this batch: the card has no rollup row */
};
struct hqr_tiers { int n; int tier[16]; int64_t threshold[16]; };
struct hqr_job;
struct hqr_cards {
	struct hqr_card_month *v;
	size_t n, cap;
	/* between hqr_cards_begin and hqr_cards_finish */
	bool begun;                   /* the serial lock is held, the tiers read, the old rows asked for */
	struct hqr_job *job;          /* the old rows' read and the new rows' computation beside the
	                               * accounts (hq_rollup_cards.c); NULL: both at finish, on c */
	bool staged;                  /* hqr_cards_stage put the new rows in HQR_STAGED */
	bool staged_aside;            /* ... computed from the second connection's read */
	struct hqr_tiers tiers;
	int64_t t_begin, t_stage;     /* POSMARK_HQ_INGEST_TIMES */
};
struct wire_sale;
void hqr_cards_reset(struct hqr_cards *b);
void hqr_cards_free(struct hqr_cards *b);
/* One stored record of the card ref (fresh: made by this batch, so not in rollup_card:
 * its old row is not looked for). PM_OK, PM_ENOMEM, PM_EINVAL (ref too long). */
int hqr_cards_sale(struct hqr_cards *b, const char *ref, bool fresh, const struct wire_sale *s);
/* rollup_card and the cohort, tier, tier-move and RFM counts moved by the batch's
 * cards, in the ingest transaction of c, in two halves so that the old rows are read
 * while c does other work: begin takes HQI_SERIAL_LOCK (held to the end of the
 * transaction), sorts and merges b and sends the read of the old rows on c's side
 * connection (hqi_side_conn); hqr_cards_stage (below) collects them and stages the new
 * rows for the accounts' statements; finish writes the counts on c (a batch begun but
 * never staged fails there: its rows would be lost). Nothing else may write rollup_card
 * in between (c's own transaction does not). PM_OK or PM_EIO (err). reset and free drop a read in flight. */
int hqr_cards_begin(PGconn *c, struct hqr_cards *b, char *err, size_t errlen);
int hqr_cards_finish(PGconn *c, struct hqr_cards *b, char *err, size_t errlen);
/*
 * Between begin and finish, just before the batch's accounts are written (hq_ledger.c's
 * hook): the old rows collected, the new ones computed and put in the temporary table
 * HQR_STAGED (one row per card, ON COMMIT DELETE ROWS), so that the accounts' own
 * statements write each card's rollups with its balance, joining HQR_STAGED as r with
 * HQR_ACCOUNT_*: one new version of the card's row per batch instead of two (migration 12).
 * finish then writes only the counts. Returns 1 (rows staged), 0 (nothing to stage: the
 * accounts' statements need no join) or PM_EIO (err). Every card staged must be written
 * by those statements: ingest stages only the cards of the batch's sales with a ref, and
 * each of them has its delta in the accounts' batch (hqi_acct_sale).
 */
int hqr_cards_stage(PGconn *c, struct hqr_cards *b, char *err, size_t errlen);
#define HQR_STAGED "rb_card_new"
#define HQR_ACCOUNT_COLS ", rolled, roll_first_us, roll_last_us, roll_visits, roll_spend_cents, roll_window_cents," \
	" roll_tier, roll_mb, roll_fm, roll_lm, roll_active, roll_recent_m, roll_recent_s"
#define HQR_ACCOUNT_VALUES ", r.card IS NOT NULL, r.first_us, r.last_us, coalesce(r.visits, 0)," \
	" coalesce(r.spend_cents, 0), coalesce(r.window_cents, 0), coalesce(r.tier, 0), coalesce(r.mb, 0), r.fm, r.lm," \
	" coalesce(r.active, '{}'), coalesce(r.recent_m, '{}'), coalesce(r.recent_s, '{}')"
#define HQR_ACCOUNT_JOIN " LEFT JOIN " HQR_STAGED " r ON r.card = b.card"
/* ON CONFLICT: a card with a staged row takes it, one without keeps its own */
#define HQR_KEEP_(col) ", " col " = CASE WHEN EXCLUDED.rolled THEN EXCLUDED." col " ELSE accounts." col " END"
#define HQR_ACCOUNT_SET ", rolled = accounts.rolled OR EXCLUDED.rolled" HQR_KEEP_("roll_first_us") \
	HQR_KEEP_("roll_last_us") HQR_KEEP_("roll_visits") HQR_KEEP_("roll_spend_cents") HQR_KEEP_("roll_window_cents") \
	HQR_KEEP_("roll_tier") HQR_KEEP_("roll_mb") HQR_KEEP_("roll_fm") HQR_KEEP_("roll_lm") HQR_KEEP_("roll_active") \
	HQR_KEEP_("roll_recent_m") HQR_KEEP_("roll_recent_s")
/* POSMARK_HQ_INGEST_TIMES=1: the rollups log each statement's time. */
int hqr_timed(void);

/*
 * The rollups of one stored batch, in the ingest transaction, after its rows
 * are in sales or events (and after pending erasures unlinked their cards):
 * records of (store, terminal) with after < seq <= last. months: the month
 * starts (UTC us) the batch's sales touch (partition pruning; may be NULL for
 * an events batch); cards: the sales batch's card months (NULL for events), whose
 * rollups it begins (hqr_cards_begin): the caller finishes them (hqr_cards_finish).
 * Idempotent with the batch: called once per batch stored, never for a
 * duplicate. PM_OK or PM_EIO (err: the server's message).
 */
int hq_rollup_batch(PGconn *c, const char *store, const char *terminal, int batch_kind, uint64_t after,
		    uint64_t last, const int64_t *months, int n_months, struct hqr_cards *cards, char *err,
		    size_t errlen);

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
