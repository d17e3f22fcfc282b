/*
 * offers.h - the on-device rules engine: rule sets, offer decisions, the
 * issue ledger (caps), and coupon codes. Depends on common/, libc, jansson
 * (rule files) and libsodium (coupon MACs) only: no other posmark module. Card data, purchase history and
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
 *  - Different rule sets may be loaded and decided on different threads at
 *    once (the sorts' qsort context is per thread); a ledger or profile is
 *    used by one thread at a time.
 *  - Rule-set GTINs are GTIN-14 digit strings; basket lines must be too.
 *  - docs/rules.md is the file format; docs/rules.md ("Coupons") the code layout.
 *
 * Errors: functions return PM_OK or a negative pm_err (common/pm_err.h),
 * listed above each; out-parameters are cleared first. Lifetimes: the
 * caller frees each handle with its *_free (NULL-safe) and releases diags
 * with ofr_diags_release; strings returned by ofr_rules_name,
 * ofr_rules_campaign_by_tag and ofr_profile_segment live as long as the
 * rule set or profile, ofr_kind_name/ofr_verdict_name return static text.
 * This is offers/'s one public header; offers/ofr_int.h is private to it.
 */
#ifndef OFFERS_H
#define OFFERS_H

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
/* The same, refusing (PM_EINVAL, a diag that says so) a set of more than max_rules
 * rules (0 = OFR_MAX_RULES_DEFAULT) before building anything for them. */
#define OFR_MAX_RULES_DEFAULT 1000000   /* about 500 MB at load (docs/rules.md, "Performance") */
int ofr_rules_load_max(const char *text, size_t len, const struct ofr_catalog_source *catalog,
		       const char *store_id, size_t max_rules, struct ofr_rules **out, struct ofr_diags *diags);
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
/* Items of the card's personal candidates (best first) and the history they rest on. */
size_t ofr_profile_personal_count(const struct ofr_profile *p);
/* RFM segment name: champions, loyal, new, promising, at_risk, lapsed, regular, none. */
const char *ofr_profile_segment(const struct ofr_profile *p);
uint64_t ofr_profile_sales(const struct ofr_profile *p);

/* ---- issue ledger: what was issued, for frequency caps and budgets --------- */
struct ofr_ledger;
/* An empty ledger. PM_OK or PM_ENOMEM (*out NULL). */
int ofr_ledger_new(struct ofr_ledger **out);
void ofr_ledger_free(struct ofr_ledger *l);    /* NULL-safe */
/* One printed coupon of campaign/rule to card ("" = no card) at time_us. PM_OK or PM_ENOMEM. */
int ofr_ledger_record(struct ofr_ledger *l, const char *campaign, const char *rule_id,
		      const char *card, int64_t time_us);
uint64_t ofr_ledger_issued(const struct ofr_ledger *l, const char *campaign);

/* ---- decisions ---------------------------------------------------------- */
enum ofr_kind { OFR_CROSS_SELL = 0, OFR_UP_SELL = 1, OFR_PROMOTION = 2, OFR_POINTS_BONUS = 3,
		OFR_PERSONAL = 4,     /* the card's own likely next items (history, time-decayed) */
		OFR_EXPLORE = 5 };    /* items new to the card that buyers of the basket went on to buy */
/* Which signal chose an offer (docs/rules.md, "One ranking"). */
enum ofr_signal { OFR_SIG_RULE = 0,      /* a basket rule (cross_sell, up_sell, ...) */
		  OFR_SIG_PERSONAL = 1,  /* the card's history */
		  OFR_SIG_EXPLORE = 2,   /* an explore rule */
		  OFR_SIG_BACKFILL = 3 };/* taken past the repeat limit so the receipt is not empty */
const char *ofr_signal_name(int signal);
const char *ofr_kind_name(int kind);
/* What the coupon gives (the code carries it; docs/rules.md, "Coupons"). */
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
	int signal;                /* enum ofr_signal */
	double score;              /* the ranking's estimate that the card buys it next (0..1) */
	bool repeat;               /* the card bought this item before */
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
	OFR_V_DUPLICATE, OFR_V_REPEAT_LIMIT, OFR_V_BOUGHT_BEFORE,
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

/* ---- coupons (coupon.c; docs/rules.md, "Coupons") ---------------------------------- */
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
	uint32_t serial;           /* v2 prints serial % 10 */
	uint32_t v1_card_tag;      /* v1 codes only: the 6-digit card tag as printed (0 = card_tag) */
};
/* The 7-digit tags a coupon uses for an item GTIN or a category name. */
uint32_t ofr_target_tag_item(const char *gtin14);
uint32_t ofr_target_tag_category(const char *category);
uint32_t ofr_campaign_tag(const char *campaign);
/* The 4-digit card tag (1..9999; 0 for no card) a coupon is bound with. */
uint32_t ofr_card_tag(const struct ofr_coupon_key *key, const char *card);

/* Write the printed code: version 2 (default; 21 characters, "P" + 20 digits with the prefix "PM"),
 * or version 1 when c->version == 1 or the prefix does not start with a capital letter
 * ("PMK" + 48 digits). PM_EINVAL for values out of range or too small a buffer. */
int ofr_coupon_encode(const struct ofr_coupon_key *key, const char *prefix,
		      const struct ofr_coupon *c, char *out, size_t outlen);
/*
 * Check a scanned code: layout, MAC, expiry against now_us, and the card
 * (card "" = none on the sale yet: card not checked, *card_pending set).
 * v2 codes name their offer by a tag: it is looked up in rules (NULL = no
 * rule set: every v2 code is refused). v1 codes carry it whole.
 * Returns PM_OK with *out filled; PM_EINVAL (not a posmark coupon / damaged),
 * PM_ECHECK (MAC does not verify: forged or altered), PM_EEXPIRED,
 * PM_EREFUSED (issued to another card, or its offer is not in rules).
 * reason gets words for the cashier.
 */
int ofr_coupon_verify(const struct ofr_coupon_key *key, const struct ofr_rules *rules, const char *prefix,
		      const char *code, const char *card, int64_t now_us, struct ofr_coupon *out,
		      bool *card_pending, char *reason, size_t reason_len);
/* When a code printed at issued_us expires (end of that UTC day), read from the code alone (a
 * reprint); 0 if it is not a posmark coupon layout. Nothing is verified. */
int64_t ofr_coupon_expires_us(const char *prefix, const char *code, int64_t issued_us);
/* Discount for a verified coupon on a basket: cents, and the matched line (-1 = none). */
int64_t ofr_coupon_discount(const struct ofr_coupon *c, const struct ofr_line *items, size_t n,
			    const struct ofr_rules *r, int *line_out);

#endif
