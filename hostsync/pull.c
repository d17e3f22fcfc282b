/*
 * pull.c - what the terminal fetches from HQ for the chain account
 * (docs/accounts.md, docs/hostsync.md "Accounts down" and "Lookups"):
 *  - the accounts pull of `posmark sync`: GET /v1/accounts?after=CURSOR
 *    pages, each applied with its cursor in one transaction, until HQ says
 *    no more; retried like the other GETs, never applied from a cut reply;
 *  - the till's lookups (account, sale, coupon): one attempt, the whole
 *    answer within cfg->lookup_budget_ms, connect included.
 */
#include "hostsync/hostsync.h"
#include "hostsync/hs_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one decoded page of posmark-accounts ---------------------------------- */

struct page {
	struct wire_accounts_header h;
	bool have_header;
	struct wire_account *a;
	size_t n, cap;
	char why[300];                /* the decoder's reason when the page was refused */
};

static int page_header(void *ctx, const struct wire_accounts_header *h)
{
	struct page *p = ctx;
	p->h = *h;
	p->have_header = true;
	return 0;
}

static int page_account(void *ctx, const struct wire_account *a)
{
	struct page *p = ctx;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct wire_account *n = realloc(p->a, cap * sizeof(*n));
		if (!n)
			return PM_ENOMEM;
		p->a = n;
		p->cap = cap;
	}
	p->a[p->n++] = *a;
	return 0;
}

static void page_reset(struct page *p)
{
	p->n = 0;
	p->have_header = false;
	memset(&p->h, 0, sizeof(p->h));
	p->why[0] = '\0';
}

/* Decode cl->resp into the page: PM_OK only for a whole, valid page. */
static int page_decode(struct client *cl, struct page *p)
{
	struct wire_accounts_cb cb = { p, page_header, page_account };
	page_reset(p);
	int rc = wire_accounts_decode(cl->resp.data ? cl->resp.data : "", cl->resp.len, &cb, p->why, sizeof(p->why));
	if (!rc && !p->have_header) {
		snprintf(p->why, sizeof(p->why), "no header line");
		rc = PM_EPROTO;
	}
	return rc;
}

/* A 200 whose body decodes whole (the decoder checks gzip, header, count),
 * or HQ's 404 for an endpoint it does not have (an HQ older than accounts). */
static bool accounts_reply_ok(struct client *cl, long status)
{
	json_t *j = NULL;
	if (status == 404) {
		bool ok = hsi_body_is_json(cl, &j) && json_is_string(json_object_get(j, "status")) &&
			  !strcmp(json_string_value(json_object_get(j, "status")), "not_found");
		json_decref(j);
		return ok;
	}
	if (status != 200)
		return false;
	int rc = page_decode(cl, cl->reply_ctx);
	if (rc)
		pm_warn("HQ's accounts page refused: %s", ((struct page *)cl->reply_ctx)->why);
	return rc == PM_OK;
}

/* The header must be for this terminal: included_sale_seq is about its seqs. */
static int page_check(const struct page *p, const char *terminal, char *err, size_t errlen)
{
	if (p->h.terminal[0] && terminal && strcmp(p->h.terminal, terminal)) {
		snprintf(err, errlen, "HQ sent account states computed for terminal '%s', this is '%s'", p->h.terminal,
			 terminal);
		return PM_EPROTO;
	}
	return PM_OK;
}

int hsi_pull_accounts(struct client *cl, const struct hs_source *src, const char *terminal, char *err,
		      size_t errlen)
{
	struct page p;
	uint64_t cursor = 0;
	long status = 0;
	int rc;
	if (!src->accounts_cursor || !src->apply_accounts)
		return PM_OK;
	if ((rc = src->accounts_cursor(src->ctx, &cursor))) {
		snprintf(err, errlen, "cannot read the accounts cursor from the log: %s", pm_strerror(rc));
		return rc;
	}
	memset(&p, 0, sizeof(p));
	for (unsigned pages = 0;; pages++) {
		char path[96];
		snprintf(path, sizeof(path), "/v1/accounts?after=%" PRIu64, cursor);
		cl->reply_ctx = &p;
		rc = hsi_get_retry(cl, "the card accounts", path, NULL, accounts_reply_ok, &status, err, errlen);
		cl->reply_ctx = NULL;
		if (rc)
			break;
		if (status == 404) {
			pm_warn("HQ at %s does not serve card accounts (an older posmark-hq): none pulled", cl->cfg->url);
			break;
		}
		if ((rc = page_check(&p, terminal, err, errlen)))
			break;
		if (p.h.more && p.h.next_cursor <= cursor) {
			snprintf(err, errlen, "HQ's accounts page after %" PRIu64 " says more but its next cursor is %" PRIu64,
				 cursor, p.h.next_cursor);
			rc = PM_EPROTO;
			break;
		}
		/* one transaction: the page and its cursor (a page with nothing new changes nothing) */
		if (p.n > 0 || p.h.next_cursor != cursor) {
			rc = src->apply_accounts(src->ctx, &p.h, p.a, p.n);
			if (rc) {
				snprintf(err, errlen, "cannot apply HQ's account states to the log: %s", pm_strerror(rc));
				break;
			}
		}
		cl->st->accounts_applied += p.n;
		if (p.h.next_cursor > cursor)
			cursor = p.h.next_cursor;
		if (!p.h.more || hsi_cancelled(cl->cfg))
			break;
	}
	free(p.a);
	return rc;
}

/* ---- lookups while a customer waits --------------------------------------- */

/*
 * One GET within the lookup budget. PM_OK with *status 200 or 404 and the
 * body in cl->resp (whole: its Content-Length matched); PM_EOFFLINE (no
 * answer in time, or a 5xx: HQ cannot answer now); PM_EREFUSED (another
 * 4xx: the credential); PM_EPROTO (a cut reply).
 */
static int lookup_get(struct client *cl, const char *what, const char *path, long *status, char *err,
		      size_t errlen)
{
	if (cl->cfg->lookup_budget_ms <= 0) {
		snprintf(err, errlen, "HQ lookups are off (hq.lookup_budget_ms = 0)");
		return PM_EOFFLINE;
	}
	cl->budget_ms = cl->cfg->lookup_budget_ms;
	int rc = hsi_http(cl, "GET", path, NULL, 0, NULL, status);
	if (rc && cl->last_cc == CURLE_PARTIAL_FILE) {
		snprintf(err, errlen, "HQ's answer to the %s lookup was cut", what);
		return PM_EPROTO;
	}
	if (rc) {
		snprintf(err, errlen, "HQ did not answer the %s lookup within %d ms: %s", what, cl->cfg->lookup_budget_ms,
			 cl->errbuf[0] ? cl->errbuf : "no answer");
		return PM_EOFFLINE;
	}
	if (!hsi_reply_whole(cl)) {
		snprintf(err, errlen, "HQ's answer to the %s lookup was cut", what);
		return PM_EPROTO;
	}
	if (*status >= 500 || *status < 100) {
		snprintf(err, errlen, "HQ answered %ld to the %s lookup", *status, what);
		return PM_EOFFLINE;
	}
	if (*status == 200 || *status == 404)
		return PM_OK;
	json_t *j = NULL, *reason;
	bool posmark = hsi_body_is_json(cl, &j) && json_is_object(j);
	reason = posmark ? json_object_get(j, "reason") : NULL;
	snprintf(err, errlen, "HQ refused the %s lookup (HTTP %ld): %s", what, *status,
		 json_is_string(reason) ? json_string_value(reason) : "no reason given");
	json_decref(j);
	return *status >= 400 && *status < 500 && posmark ? PM_EREFUSED : PM_EPROTO;
}

static int lookup_open(struct client *cl, const struct hs_client_config *cfg, const char *terminal,
		       struct hs_sync_stats *st, char *err, size_t errlen)
{
	if (!cfg->url || !*cfg->url || !cfg->store || !cfg->store[0] || !cfg->credential || !cfg->credential[0]) {
		memset(cl, 0, sizeof(*cl));
		snprintf(err, errlen, "no HQ configured (hq.url, store.id, hq.store_credential)");
		return PM_EOFFLINE;
	}
	int rc = hsi_client_open(cl, cfg, terminal, st);
	if (rc)
		snprintf(err, errlen, "cannot set up an HQ request: %s", pm_strerror(rc));
	return rc;
}

/* Append s to path percent-encoded (RFC 3986 unreserved characters as they are). */
static void path_add(char *path, size_t cap, const char *s)
{
	size_t n = strlen(path);
	static const char hex[] = "0123456789ABCDEF";
	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strchr("-_.~", c)) {
			path[n++] = (char)c;
		} else {
			path[n++] = '%';
			path[n++] = hex[c >> 4];
			path[n++] = hex[c & 15];
		}
	}
	path[n] = '\0';
}

int hs_account_lookup(const struct hs_client_config *cfg, const struct hs_source *src, const char *terminal,
		      const char *card, char *err, size_t errlen)
{
	struct client cl;
	struct hs_sync_stats st;
	struct page p;
	char path[96], log_path[64], tail[16];
	long status = 0;
	int rc;
	if (!card || strlen(card) > WIRE_CARD_MAX || !*card || strspn(card, "0123456789") != strlen(card)) {
		snprintf(err, errlen, "'%s' is not a card number", pm_card_tail(card ? card : "", tail, sizeof(tail)));
		return PM_EINVAL;
	}
	pm_card_tail(card, tail, sizeof(tail)); /* logs and err never carry a full card number */
	if (!src || !src->apply_accounts) {
		snprintf(err, errlen, "no log to apply an account to");
		return PM_EINVAL;
	}
	memset(&st, 0, sizeof(st));
	if ((rc = lookup_open(&cl, cfg, terminal, &st, err, errlen)))
		goto out_close;
	snprintf(path, sizeof(path), "/v1/accounts/%s", card);
	snprintf(log_path, sizeof(log_path), "/v1/accounts/%s", tail);
	cl.log_path = log_path;
	if ((rc = lookup_get(&cl, "card account", path, &status, err, errlen)))
		goto out_close;
	if (status == 404) {
		snprintf(err, errlen, "HQ does not know card %s", tail);
		rc = PM_ENOENT;
		goto out_close;
	}
	memset(&p, 0, sizeof(p));
	if (page_decode(&cl, &p)) {
		snprintf(err, errlen, "HQ's answer to the card account lookup is not a posmark answer: %s", p.why);
		rc = PM_EPROTO;
	} else if (!(rc = page_check(&p, terminal, err, errlen))) {
		if (p.n == 0) {
			snprintf(err, errlen, "HQ does not know card %s", tail);
			rc = PM_ENOENT;
		} else if (p.n != 1 || strcmp(p.a[0].card, card)) {
			snprintf(err, errlen, "HQ answered the lookup of card %s with another card", tail);
			rc = PM_EPROTO;
		} else {
			p.h.next_cursor = 0; /* a single lookup: the pull's cursor stays */
			p.h.more = false;
			if ((rc = src->apply_accounts(src->ctx, &p.h, p.a, p.n)))
				snprintf(err, errlen, "cannot apply card %s's account to the log: %s", tail, pm_strerror(rc));
		}
	}
	free(p.a);
out_close:
	hsi_client_close(&cl);
	return rc;
}

int hs_sale_lookup(const struct hs_client_config *cfg, const char *terminal, const char *sale_terminal,
		   uint64_t sale_seq, struct wire_sale_lookup *out, char *err, size_t errlen)
{
	struct client cl;
	struct hs_sync_stats st;
	char path[256], why[300] = "";
	long status = 0;
	int rc;
	memset(out, 0, sizeof(*out));
	if (!sale_terminal || !*sale_terminal || strlen(sale_terminal) > WIRE_ID_MAX || sale_seq == 0) {
		snprintf(err, errlen, "'%s:%" PRIu64 "' is not a sale (TERMINAL:SEQ)", sale_terminal ? sale_terminal : "",
			 sale_seq);
		return PM_EINVAL;
	}
	memset(&st, 0, sizeof(st));
	if ((rc = lookup_open(&cl, cfg, terminal, &st, err, errlen)))
		goto out_close;
	snprintf(path, sizeof(path), "/v1/sales/");
	path_add(path, sizeof(path), sale_terminal);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%" PRIu64, sale_seq);
	if ((rc = lookup_get(&cl, "sale", path, &status, err, errlen)))
		goto out_close;
	if (status == 404) {
		snprintf(err, errlen, "HQ does not know sale %s:%" PRIu64, sale_terminal, sale_seq);
		rc = PM_ENOENT;
		goto out_close;
	}
	rc = wire_sale_lookup_decode(cl.resp.data ? cl.resp.data : "", cl.resp.len, out, why, sizeof(why));
	if (rc) {
		wire_sale_lookup_free(out);
		snprintf(err, errlen, "HQ's answer to the lookup of sale %s:%" PRIu64 " is not a posmark answer: %s",
			 sale_terminal, sale_seq, why);
		rc = rc == PM_ENOMEM ? rc : PM_EPROTO;
	} else if (out->sale.seq != sale_seq ||
		   (out->sale.terminal[0] && strcmp(out->sale.terminal, sale_terminal))) {
		snprintf(err, errlen, "HQ answered the lookup of sale %s:%" PRIu64 " with sale %s:%" PRIu64, sale_terminal,
			 sale_seq, out->sale.terminal, out->sale.seq);
		wire_sale_lookup_free(out);
		rc = PM_EPROTO;
	}
out_close:
	hsi_client_close(&cl);
	return rc;
}

int hs_coupon_lookup(const struct hs_client_config *cfg, const char *terminal, const char *coupon,
		     struct wire_coupon_status *out, char *err, size_t errlen)
{
	struct client cl;
	struct hs_sync_stats st;
	char path[256], why[300] = "";
	long status = 0;
	int rc;
	memset(out, 0, sizeof(*out));
	if (!coupon || !*coupon || strlen(coupon) > WIRE_COUPON_MAX) {
		snprintf(err, errlen, "'%s' is not a coupon code", coupon ? coupon : "");
		return PM_EINVAL;
	}
	memset(&st, 0, sizeof(st));
	if ((rc = lookup_open(&cl, cfg, terminal, &st, err, errlen)))
		goto out_close;
	snprintf(path, sizeof(path), "/v1/coupons/");
	path_add(path, sizeof(path), coupon);
	if ((rc = lookup_get(&cl, "coupon", path, &status, err, errlen)))
		goto out_close;
	if (status == 404) {
		snprintf(err, errlen, "HQ does not know coupon %s", coupon);
		rc = PM_ENOENT;
		goto out_close;
	}
	rc = wire_coupon_status_decode(cl.resp.data ? cl.resp.data : "", cl.resp.len, out, why, sizeof(why));
	if (rc) {
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen, "HQ's answer to the lookup of coupon %s is not a posmark answer: %s", coupon, why);
		rc = rc == PM_ENOMEM ? rc : PM_EPROTO;
	} else if (strcmp(out->coupon, coupon)) {
		snprintf(err, errlen, "HQ answered the lookup of coupon %s about coupon %s", coupon, out->coupon);
		memset(out, 0, sizeof(*out));
		rc = PM_EPROTO;
	}
out_close:
	hsi_client_close(&cl);
	return rc;
}
