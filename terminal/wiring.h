/*
 * wiring.h - terminal/ connects the leaf modules, which never include each
 * other's headers: offers/ reads loyalty/'s catalog, card and history
 * through small sources filled here, and its caps ledger starts from the
 * log's caps state (offers_wiring.c); hostsync/ reads the log and applies
 * HQ's requests through struct hs_source (sync_wiring.c).
 *
 * Threads: the daemon's lanes share one struct term_offers between the
 * event loop and the commit thread; its rules and ledger are read and
 * changed only under term_offers_lock. Lifetimes: sources borrow the
 * struct loy_db they are given; it must outlive them.
 */
#ifndef TERM_WIRING_H
#define TERM_WIRING_H

#include "terminal/cli.h"
#include "offers/offers.h"

struct term_offers {
	struct ofr_rules *rules;      /* NULL = no rule set installed (or invalid): no offers */
	struct ofr_ledger *ledger;    /* issued coupons: the log's caps state + later events */
	struct ofr_coupon_key key;
	char prefix[8];               /* coupon prefix (cards.coupon_prefix) */
	/* Guards rules and ledger, which the daemon's lanes share between its
	 * event loop and its commit thread (decisions run inside the commit).
	 * Copies of this struct share it; NULL before term_offers_open. */
	void *lock;
	uint64_t replayed;            /* events read at open to catch the caps up (0 normally) */
};
/*
 * Key, caps ledger and DATA/rules.json. PM_OK with rules NULL when none is
 * installed. The ledger starts from the log's caps state (loy_caps_load) and
 * replays only the events after it, then stores the caught-up state (a
 * failure there is logged; caps then start from what could be read).
 * Errors, with a line in err: PM_ECORRUPT (DATA/coupon.key damaged), the
 * read's or create's error for the key, or term_rules_read's. Call
 * term_offers_close even on failure.
 */
int term_offers_open(const struct term_config *cfg, struct loy_db *db, struct term_offers *to,
		     char *err, size_t errlen);
/* Free what term_offers_open made (NULL-safe fields; the struct is zeroed). Not on a copy. */
void term_offers_close(struct term_offers *to);
/*
 * Read and compile a rule file against db's catalog (db may be NULL).
 * PM_OK with *out NULL when the file is absent (no rule set installed: no
 * offers); PM_OK with *out set (free with ofr_rules_free); otherwise the
 * loader's or the read's error, with a line for people in err (which file,
 * how many errors, the first one).
 */
int term_rules_read(const char *path, struct loy_db *db, const char *store_id, struct ofr_rules **out,
		    char *err, size_t errlen);
/* The same for a rule set in memory (e.g. one downloaded, before it is
 * installed); what names it in err. Never PM_OK with *out NULL. */
int term_rules_compile(const char *text, size_t len, const char *what, struct loy_db *db,
		       const char *store_id, struct ofr_rules **out, char *err, size_t errlen);
/*
 * Install DATA_DIR/rules.json atomically and durably (pm_file_replace): a
 * reader or a power cut sees the old set or the new one, whole. PM_OK, or
 * pm_file_replace's error (PM_EFULL, PM_EIO, ...) with a line in err.
 */
int term_rules_install(const char *data_dir, const char *text, size_t len, char *err, size_t errlen);
void term_offers_catalog(struct loy_db *db, struct ofr_catalog_source *out);
void term_offers_history(struct loy_db *db, struct ofr_history_source *out);
/* Snapshot of a card for a decision (before this sale is committed); number "" or unknown: known false. */
void term_offers_card(struct loy_db *db, const char *number, struct ofr_card *out);
/* The most rules a rule set may hold on this terminal (config offers.max_rules; 0 = the
 * engine's default). Process-wide, like the config it comes from; term_rules_compile uses it. */
void term_rules_set_max(size_t max_rules);
size_t term_rules_max(void);
/* The card's consent as the log says now (enum ofr_consent; UNKNOWN for no card or no record). */
int term_offers_consent(struct loy_db *db, const char *number);
/* Take and drop the engine lock (NULL-safe, not recursive). */
void term_offers_lock(struct term_offers *to);
void term_offers_unlock(struct term_offers *to);

/* sync_wiring.c: hostsync's view of the purchase log (struct hs_source). */
struct hs_source;
struct term_sync_ctx {
	struct loy_db *db;
	const char *store_id;
	const char *data_dir;
};
void term_sync_source(struct hs_source *src, struct term_sync_ctx *sc);
/* sync_wiring.c: the till's lookups at HQ (struct till_hq) over hostsync,
 * with cfg's [hq] options; all NULL when no HQ URL is configured. ctx is
 * made here and freed by term_till_hq_release. */
struct till_hq;
void term_till_hq(struct till_hq *out, const struct term_config *cfg, struct loy_db *db);
void term_till_hq_release(struct till_hq *hq);
/* sync_wiring.c: [hq] options as hostsync's client config (strings point into cfg). */
struct hs_client_config;
void term_sync_client_config(const struct term_config *cfg, struct hs_client_config *hc);

/*
 * erase_wiring.c: erasing a card at this terminal (docs/privacy.md, "At the
 * store"). term_card_erase scrubs the log (loy_card_erase_queue) and queues
 * for HQ: nothing without hq.url (a standalone shop), the number sealed to
 * hq.rules_public_key with one, the clear number (deleted once HQ
 * acknowledged it) with hq.url but no key. *queued says which, for people.
 * PM_EBUSY (*queued says why) while DATA/open-sales.json keeps a sale with
 * the card (the daemon would restore it and write the number again).
 */
int term_card_erase(const struct term_config *cfg, struct loy_db *db, const char *card, uint64_t *unlinked,
		    const char **queued);
/*
 * Compact the log if an erasure marked it (loy_compact): PM_OK (*compacted
 * says whether it ran), PM_EBUSY (another process has the log open; err
 * says so), or loy_compact's error. db must not be in a transaction.
 */
int term_compact_if_pending(struct loy_db *db, bool *compacted, char *err, size_t errlen);

#endif
