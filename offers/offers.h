/*
 * offers.h - the on-device rules engine: rule sets, offer decisions, the
 * issue ledger (caps), and coupon codes. Depends on libc, jansson (rule
 * files) and libsodium (coupon MACs) only. Card data, purchase history and
 * the catalog reach it through the small plain-data interfaces below that
 * terminal/ fills from loyalty (terminal/offers_wiring.c).
 *
 * Usual pattern (one till):
 *   ofr_rules_load(text, len, &catalog, store_id, &rules, &diags);  // once
 *   ofr_ledger_new(&ledger); ofr_ledger_record(...) per past issue event;
 *   at card attach:  ofr_profile_build(rules, &card, &history, now, &prof);
 *   after commit:    ofr_decide(rules, &req, &decision, NULL);
 *   printed ok:      ofr_ledger_record(ledger, ...) for each printed offer.
 *
 * What it is not: it stores nothing. Issued/held-back/redeemed coupons are
 * recorded by the terminal in loyalty's event outbox; single use of a coupon
 * is enforced by loyalty's commit.
 *
 * Traps:
 *  - ofr_decide() keeps scratch state inside struct ofr_rules: one decision
 *    at a time per rule set (the till is single-threaded; a second lane
 *    loads its own).
 *  - ofr_rules_load() sorts with qsort() through a file-level pointer (C11's
 *    qsort has no context argument): load rule sets from one thread.
 *  - Rule-set GTINs are GTIN-14 digit strings; basket lines must be too.
 *  - docs/rules.md is the file format; docs/coupons.md the code layout.
 */
#ifndef OFFERS_H
#define OFFERS_H

/* ======================================================================
 * Market-basket mining (ofr_mine_*): offers/mine_*.c, docs/mining.md.
 * Owned by the mining work; the rules engine's declarations are elsewhere
 * in this header.
 *
 * Frequent itemsets and association rules with the definitions of arules
 * (R) and Weka: support = fraction of transactions; a transaction's repeated
 * items count once; rules X => y have one item on the right and a non-empty
 * left side; the rule's support is that of X u {y}; --max-len counts the
 * items of the whole rule. Supports are integer counts: an itemset is
 * frequent iff count >= min_count, min_count = ceil(S * N) computed exactly
 * from the decimal text of S (ofr_mine_min_count), never in floating point.
 *
 * Usual calling pattern:
 *     struct ofr_mine_db *db;
 *     ofr_mine_db_new(&db);
 *     ofr_mine_read(db, buf, len, OFR_MINE_BASKET, NULL, NULL, err, sizeof(err));
 *     (or per transaction: ofr_mine_txn_begin, ofr_mine_txn_item..., ofr_mine_txn_end)
 *     ofr_mine_min_count("0.001", ofr_mine_db_txns(db), &params.min_count);
 *     ofr_mine_run(db, &params, &res, &need);
 *     ofr_mine_write_text(res, stdout);
 *     ofr_mine_result_free(res); ofr_mine_db_free(db);
 * Item names are kept byte for byte (no trimming). Items are identified by
 * a dense id (0..ofr_mine_db_items()-1) in order of first appearance.
 * ====================================================================== */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ofr_mine_db;       /* transactions with interned item names */
struct ofr_mine_result;   /* frequent itemsets and rules of one run */

enum ofr_mine_format { OFR_MINE_BASKET = 0, OFR_MINE_FIMI = 1 };

/* What a progress callback sees (phase: "reading", "mining", "rules"). */
struct ofr_mine_progress {
	const char *phase;
	uint64_t transactions;    /* read so far */
	uint64_t items;           /* distinct items so far */
	uint64_t itemsets;        /* frequent itemsets found so far */
	uint64_t rules;           /* rules found so far */
};
typedef void (*ofr_mine_progress_fn)(void *ctx, const struct ofr_mine_progress *p);

struct ofr_mine_params {
	uint32_t min_count;       /* minimum support count, >= 1 (ofr_mine_min_count) */
	double min_confidence;    /* rules: confidence >= this, in (0, 1] */
	double min_lift;          /* rules: lift >= this; 0 = no filter */
	unsigned max_len;         /* items per itemset / whole rule, 1..OFR_MINE_MAX_LEN */
	bool no_rules;            /* itemsets only */
	size_t mem_limit;         /* bytes the run may hold; 0 = no limit */
	ofr_mine_progress_fn progress;  /* may be NULL; called every so often */
	void *progress_ctx;
};
#define OFR_MINE_MAX_LEN 64

/* New empty store; *out NULL on failure. Returns PM_OK or PM_ENOMEM. */
int ofr_mine_db_new(struct ofr_mine_db **out);
void ofr_mine_db_free(struct ofr_mine_db *db);   /* NULL-safe */
/* Refuse to grow past limit bytes (0 = none): PM_ENOMEM, ofr_mine_db_need() says how much. */
void ofr_mine_db_set_limit(struct ofr_mine_db *db, size_t limit);
/* After PM_ENOMEM from the store or a run: bytes the failed step needed in all. */
size_t ofr_mine_db_need(const struct ofr_mine_db *db);
size_t ofr_mine_db_mem(const struct ofr_mine_db *db);   /* bytes held now */

/*
 * Build one transaction: begin, any number of items (repeats count once),
 * end. A transaction without items still counts in N. Names are copied.
 * Returns PM_OK, PM_ENOMEM (limit or malloc), PM_EBADSTATE (nesting),
 * PM_EINVAL (more than 2^32-2 items or transactions).
 */
int ofr_mine_txn_begin(struct ofr_mine_db *db);
int ofr_mine_txn_item(struct ofr_mine_db *db, const char *name, size_t len);
int ofr_mine_txn_end(struct ofr_mine_db *db);

uint32_t ofr_mine_db_txns(const struct ofr_mine_db *db);
uint32_t ofr_mine_db_items(const struct ofr_mine_db *db);
/* Name of item id (not NUL-terminated), its length in *len. */
const char *ofr_mine_item_name(const struct ofr_mine_db *db, uint32_t id, size_t *len);

/*
 * Parse a whole input (buf, len) and add its transactions. basket: one
 * transaction per line, items separated by commas, a field may be quoted
 * ("a, b" and "" for a quote), a trailing CR is dropped, unquoted empty
 * fields are ignored. fimi: integer items separated by spaces or tabs.
 * An empty line, a NUL byte (not a text file), a bad quote or a non-integer
 * FIMI item is PM_EINVAL with "line N: ..." in err. PM_ENOMEM as above.
 */
int ofr_mine_read(struct ofr_mine_db *db, const char *buf, size_t len, enum ofr_mine_format fmt,
		  ofr_mine_progress_fn progress, void *progress_ctx, char *err, size_t errlen);

/*
 * Minimum support count for support text S ("0.001", "1e-3", "1") and n
 * transactions: ceil(S * n) in exact decimal arithmetic, at least 1.
 * Returns PM_OK or PM_EINVAL (not a number, or S outside (0, 1]).
 */
int ofr_mine_min_count(const char *support, uint64_t n, uint32_t *out);

/*
 * Mine frequent itemsets (FP-growth) and, unless p->no_rules, the rules.
 * db must not change while *out lives. *need (may be NULL) gets the bytes
 * the run would need when it returns PM_ENOMEM because of p->mem_limit.
 * Returns PM_OK, PM_EINVAL (bad params), PM_ENOMEM.
 */
int ofr_mine_run(const struct ofr_mine_db *db, const struct ofr_mine_params *p,
		 struct ofr_mine_result **out, size_t *need);
void ofr_mine_result_free(struct ofr_mine_result *res);   /* NULL-safe */

size_t ofr_mine_n_itemsets(const struct ofr_mine_result *res);
size_t ofr_mine_n_rules(const struct ofr_mine_result *res);
/* Itemset i: item ids into ids (room for OFR_MINE_MAX_LEN), *len, *count. */
void ofr_mine_itemset(const struct ofr_mine_result *res, size_t i, uint32_t *ids, unsigned *len,
		      uint32_t *count);
struct ofr_mine_rule {
	uint32_t lhs[OFR_MINE_MAX_LEN]; /* left item ids (lhs_len of them) */
	unsigned lhs_len;
	uint32_t rhs;             /* right item id */
	uint32_t count;           /* transactions with left and right side */
	uint32_t lhs_count;       /* transactions with the left side */
	uint32_t rhs_count;       /* transactions with the right item */
	double support, confidence, lift;
};
void ofr_mine_rule_get(const struct ofr_mine_result *res, size_t i, struct ofr_mine_rule *out);

/*
 * Writers (docs/mining.md): text = one rule per line
 * "lhs1,lhs2 => rhs\tsupport\tconfidence\tlift", 6 decimals, left items and
 * lines sorted bytewise; itemsets = "item1,item2\tsupport\tcount" sorted;
 * rules = the posmark-rules v1 JSON rule set for the offers engine (only
 * rules whose items are all GTINs; *skipped gets how many were left out).
 * Returns PM_OK, PM_EIO (write failed), PM_ENOMEM.
 */
int ofr_mine_write_text(const struct ofr_mine_result *res, FILE *f);
int ofr_mine_write_itemsets(const struct ofr_mine_result *res, FILE *f);
int ofr_mine_write_ruleset(const struct ofr_mine_result *res, FILE *f, size_t *written,
			   size_t *skipped);
/* ==================== end of market-basket mining ==================== */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFR_GTIN_LEN 14
#define OFR_ID_MAX 63          /* rule ids and campaign names */
#define OFR_CODE_MAX 63        /* coupon code text */
#define OFR_MAX_OFFERS 8       /* hard ceiling of offers per receipt */
#define OFR_FORMAT_VERSION 1   /* "version" of the rule-set files this build reads */

/* ---- the catalog, as the engine sees it ---------------------------------- */
struct ofr_product {
	const char *gtin;          /* GTIN-14 */
	const char *name;
	const char *category;      /* "" = none */
	const char *brand;         /* "" = none */
	int64_t price_cents;
};
typedef int (*ofr_product_cb)(void *cb_ctx, const struct ofr_product *p);
/* each() calls cb for every product; returns 0 or a pm_err (or cb's non-zero). */
struct ofr_catalog_source {
	void *ctx;
	int (*each)(void *ctx, ofr_product_cb cb, void *cb_ctx);
};

/* ---- card and history ------------------------------------------------------ */
enum ofr_consent { OFR_CONSENT_UNKNOWN = 0, OFR_CONSENT_YES = 1, OFR_CONSENT_NO = 2 };

struct ofr_card {
	char number[20];           /* "" = no card on this sale */
	bool known;                /* the log has a record of it */
	int consent;               /* enum ofr_consent */
	int tier;
	int64_t points;
	uint64_t visits;
	int64_t spend_cents;       /* lifetime */
	int64_t last_visit_us;     /* 0 = never (before this sale) */
};

struct ofr_line {
	char gtin[OFR_GTIN_LEN + 1];
	int32_t qty;
	int64_t line_cents;
};

struct ofr_sale_view {
	int64_t time_us;
	int64_t total_cents;
	size_t n_items;
	const struct ofr_line *items;
};
typedef int (*ofr_sale_cb)(void *cb_ctx, const struct ofr_sale_view *sale);
/* each_sale() streams a card's past sales, oldest first. */
struct ofr_history_source {
	void *ctx;
	int (*each_sale)(void *ctx, const char *card, ofr_sale_cb cb, void *cb_ctx);
};

/* ---- rule sets ---------------------------------------------------------- */
struct ofr_rules;

/* One finding of the rule-set checker, with the line it is on (1-based; 0 = whole file). */
struct ofr_diag {
	int line;
	bool warning;              /* false = error (the file is refused) */
	char path[96];             /* e.g. rules[3].offer.percent_off */
	char msg[200];
};
struct ofr_diags {
	size_t n, cap;
	struct ofr_diag *v;
	size_t errors, warnings;
};
void ofr_diags_release(struct ofr_diags *d);

/*
 * Parse, validate and compile a rule set (docs/rules.md).
 *  text,len  the file's bytes (not retained)
 *  catalog   may be NULL: then unknown GTINs are not detected and up-sell
 *            offers cannot resolve their product (they never fire)
 *  store_id  this store, for per-store scope ("" = ignore scope)
 *  out       on PM_OK the compiled rule set; NULL otherwise
 *  diags     every error and warning with its line (caller releases)
 * Returns PM_OK (warnings allowed), PM_EINVAL (errors: see diags),
 * PM_EVERSION (a newer format), PM_ENOMEM.
 */
int ofr_rules_load(const char *text, size_t len, const struct ofr_catalog_source *catalog,
		   const char *store_id, struct ofr_rules **out, struct ofr_diags *diags);
void ofr_rules_free(struct ofr_rules *r);   /* NULL-safe */
size_t ofr_rules_count(const struct ofr_rules *r);
const char *ofr_rules_name(const struct ofr_rules *r);
/* The campaign whose 6-digit coupon tag is tag, or NULL. */
const char *ofr_rules_campaign_by_tag(const struct ofr_rules *r, uint32_t tag);

/* ---- per-card profile (built when the card is attached) -------------------- */
struct ofr_profile;
/*
 * Summarise a card's history for history conditions (bought within N days,
 * RFM segment). Reads the whole history once; call it when the card is
 * attached so the decision after tender does not wait for it.
 * Returns PM_OK, PM_ENOMEM, or the source's error. *out NULL on failure.
 */
int ofr_profile_build(const struct ofr_rules *r, const struct ofr_card *card,
		      const struct ofr_history_source *hist, int64_t now_us,
		      struct ofr_profile **out);
void ofr_profile_free(struct ofr_profile *p);  /* NULL-safe */
/* RFM segment name: champions, loyal, new, promising, at_risk, lapsed, regular, none. */
const char *ofr_profile_segment(const struct ofr_profile *p);
uint64_t ofr_profile_sales(const struct ofr_profile *p);

/* ---- issue ledger: what was issued, for frequency caps and budgets --------- */
struct ofr_ledger;
int ofr_ledger_new(struct ofr_ledger **out);
void ofr_ledger_free(struct ofr_ledger *l);    /* NULL-safe */
/* One printed coupon of campaign/rule to card ("" = no card) at time_us. */
int ofr_ledger_record(struct ofr_ledger *l, const char *campaign, const char *rule_id,
		      const char *card, int64_t time_us);
uint64_t ofr_ledger_issued(const struct ofr_ledger *l, const char *campaign);

/* ---- decisions ---------------------------------------------------------- */
enum ofr_kind { OFR_CROSS_SELL = 0, OFR_UP_SELL = 1, OFR_PROMOTION = 2, OFR_POINTS_BONUS = 3 };
const char *ofr_kind_name(int kind);
/* What the coupon gives (the code carries it; docs/coupons.md). */
enum ofr_benefit {
	OFR_PERCENT_ITEM = 1,      /* value % off one unit of the item */
	OFR_AMOUNT_ITEM = 2,       /* value cents off one unit of the item */
	OFR_POINTS_MULT = 3,       /* value = points multiplier x100 on the item */
	OFR_PERCENT_CATEGORY = 4,  /* value % off one unit in the category */
	OFR_AMOUNT_BASKET = 5,     /* value cents off the basket */
	OFR_POINTS_BONUS_FLAT = 6, /* value bonus points on the next sale */
};

struct ofr_offer {
	char rule_id[OFR_ID_MAX + 1];
	char campaign[OFR_ID_MAX + 1];
	int kind;                  /* enum ofr_kind */
	int benefit;               /* enum ofr_benefit */
	int32_t value;
	char gtin[OFR_GTIN_LEN + 1];  /* the offered item; "" for category/basket */
	char category[48];
	char name[64];             /* product name, or the rule's "text" */
	int priority;              /* per-mille expected acceptance */
	double confidence;         /* stats.confidence, or priority/1000 */
	bool held_back;            /* control group: recorded, not printed */
	int64_t expires_us;        /* coupon valid until (inclusive, end of that UTC day) */
	char coupon[OFR_CODE_MAX + 1]; /* "" until ofr_decide fills it (with a key) */
};

struct ofr_decision {
	size_t n;                  /* offers[0..n): chosen ones, printed and held back */
	struct ofr_offer offers[OFR_MAX_OFFERS];
	size_t candidates;         /* rules looked at */
	size_t fired;              /* rules whose conditions held */
};

struct ofr_coupon_key {
	unsigned char k[32];
};

struct ofr_request {
	const struct ofr_line *items;
	size_t n_items;
	const struct ofr_card *card;       /* NULL or number "" = no card */
	const struct ofr_profile *profile; /* NULL = no history available */
	const struct ofr_ledger *ledger;   /* NULL = no caps state (all zero) */
	const struct ofr_coupon_key *key;  /* NULL = no coupon codes */
	int64_t now_us;
	uint64_t sale_seq;                 /* coupon serials and anonymous holdouts */
	const char *coupon_prefix;         /* NULL = "PM" (config cards.coupon_prefix) */
	int max_offers;                    /* 0 = the rule set's limit (default 3) */
	bool naive;                        /* evaluate every rule (baseline, explain --all) */
};

/* Why a rule did or did not make it (explain). */
enum ofr_verdict {
	OFR_V_CHOSEN = 0, OFR_V_HELD_BACK, OFR_V_RANKED_OUT, OFR_V_NOT_MATCHED,
	OFR_V_NO_CONSENT, OFR_V_NO_CARD, OFR_V_OUT_OF_WINDOW, OFR_V_OTHER_STORE,
	OFR_V_IN_BASKET, OFR_V_FREQUENCY, OFR_V_BUDGET, OFR_V_NO_TARGET, OFR_V_LIFT,
	OFR_V_DUPLICATE,
};
const char *ofr_verdict_name(int v);
struct ofr_trace {
	void *ctx;
	/* called once per rule looked at, in rule-file order of evaluation;
	 * rank is 1-based among chosen/held-back/ranked-out, 0 otherwise */
	void (*note)(void *ctx, const char *rule_id, const char *campaign, int verdict,
		     const char *why, int rank);
};

/*
 * Choose the receipt's offers. Never fails for bad data: a rule that
 * cannot apply is skipped (and traced). Returns PM_OK or PM_ENOMEM.
 * out is filled first (n = 0).
 */
int ofr_decide(struct ofr_rules *r, const struct ofr_request *req, struct ofr_decision *out,
	       const struct ofr_trace *trace);

/* ---- coupons (coupon.c; docs/coupons.md) ---------------------------------- */
/* A key from config text: 64 hex digits as is, anything else hashed into 32 bytes. */
void ofr_coupon_key_from_text(const char *text, struct ofr_coupon_key *out);

struct ofr_coupon {
	int version;
	int benefit;               /* enum ofr_benefit */
	int32_t value;
	uint32_t target_tag;       /* item/category tag (7 digits), 0 = basket */
	uint32_t campaign_tag;     /* 6 digits */
	uint32_t card_tag;         /* 6 digits, 0 = any card or none */
	int32_t expiry_day;        /* days since 1970-01-01 UTC, valid through that day */
	uint32_t serial;
};
/* The 7-digit tags a coupon uses for an item GTIN or a category name. */
uint32_t ofr_target_tag_item(const char *gtin14);
uint32_t ofr_target_tag_category(const char *category);
uint32_t ofr_campaign_tag(const char *campaign);
uint32_t ofr_card_tag(const struct ofr_coupon_key *key, const char *card);

/* Write the printed code ("PMK..."), prefix configured (default "PM"). */
int ofr_coupon_encode(const struct ofr_coupon_key *key, const char *prefix,
		      const struct ofr_coupon *c, char *out, size_t outlen);
/*
 * Check a scanned code: layout, MAC, expiry against now_us, and the card
 * (card "" = none on the sale yet: card not checked, *card_pending set).
 * Returns PM_OK with *out filled; PM_EINVAL (not a posmark coupon / damaged),
 * PM_ECHECK (MAC does not verify: forged or altered), PM_EEXPIRED,
 * PM_EREFUSED (issued to another card). reason gets words for the cashier.
 */
int ofr_coupon_verify(const struct ofr_coupon_key *key, const char *prefix, const char *code,
		      const char *card, int64_t now_us, struct ofr_coupon *out,
		      bool *card_pending, char *reason, size_t reason_len);
/* Discount for a verified coupon on a basket: cents, and the matched line (-1 = none). */
int64_t ofr_coupon_discount(const struct ofr_coupon *c, const struct ofr_line *items, size_t n,
			    const struct ofr_rules *r, int *line_out);

#endif
