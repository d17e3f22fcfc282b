/*
 * hq_cmd_accounts.c - posmark-hq's account and data commands (docs/hq.md): card (asked of the
 * running serve's admin socket first), card ref, card adjust, keys rotate, cards import, page,
 * requests, baskets. hq_main.c parses the command line and hq.conf and calls these.
 */
#include "hq/hq_cli_int.h"
#include "hq/hq_int.h"
#include "hq/hq_lite_int.h"
#include "hq/hq_vault.h"
#include "hq/hq_pages.h"
#include "wire/wire.h"
#include "common/pm_err.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* posmark-hq requests list|approve ID|reject ID: the review queue (hq_requests.c). */
int hqc_cmd_requests(const struct opts *o)
{
	char err[600], what[300];
	PGconn *c;
	int rc;
	bool list = o->npos == 2 && !strcmp(o->pos[1], "list");
	bool decide = o->npos == 3 && (!strcmp(o->pos[1], "approve") || !strcmp(o->pos[1], "reject"));
	if ((!list && !decide) || (decide && (strspn(o->pos[2], "0123456789") != strlen(o->pos[2]) ||
					      !*o->pos[2] || strlen(o->pos[2]) > 18)))
		return hqc_fail("posmark-hq requests list, then requests approve ID or requests reject ID",
			    "usage: requests list|approve ID|reject ID");
	if (!(c = hqc_open_db(o, 1)))
		return 1;
	if (list) {
		rc = hq_review_list(c, stdout, err, sizeof(err));
		PQfinish(c);
		return rc ? hqc_fail("check the database", "cannot list the requests: %s", err) : 0;
	}
	rc = hq_review_decide(c, strtoll(o->pos[2], NULL, 10), !strcmp(o->pos[1], "approve"), what, sizeof(what),
			      err, sizeof(err));
	PQfinish(c);
	if (rc == PM_ENOENT)
		return hqc_fail("see the pending ones with 'posmark-hq requests list'", "no pending request %s", o->pos[2]);
	if (rc)
		return hqc_fail("check the database; nothing was changed", "cannot %s request %s: %s", o->pos[1],
			    o->pos[2], err);
	fprintf(stderr, "posmark-hq: request %s %s: %s\n", o->pos[2],
		!strcmp(o->pos[1], "approve") ? "approved" : "rejected", what);
	return 0;
}

/* ---- posmark-hq baskets: the stream posmark mine --hq-db reads (wire.h) ---- */
struct basket_out {
	FILE *f;
	int rc;
};

static int write_basket(void *ctx, const char *const *gtins, uint32_t n)
{
	struct basket_out *bo = ctx;
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			putc_unlocked(',', bo->f);
		fputs_unlocked(gtins[i], bo->f);
	}
	if (putc_unlocked('\n', bo->f) == EOF)
		return bo->rc = PM_EIO;   /* the reader went away: stop */
	return 0;
}

/* --with-cards (wire.h): TIME_US, tab, card ("" anonymous), tab, then the GTINs. */
static int write_sale(void *ctx, const char *card, int64_t time_us, const char *const *gtins, uint32_t n)
{
	fprintf(((struct basket_out *)ctx)->f, "%" PRId64 "\t%s\t", time_us, card);
	return write_basket(ctx, gtins, n);
}

static int parse_us(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !*s || *end)
		return -1;
	*out = v;
	return 0;
}

int hqc_cmd_baskets(const struct opts *o)
{
	struct hq_basket_query q = { o->store, o->terminal, INT64_MIN, INT64_MAX };
	struct hq_basket_stats st;
	struct basket_out bo = { stdout, 0 };
	static char obuf[1 << 20];
	char err[600];

	if (o->npos != 1) {
		hqc_fail("see posmark-hq --help", "usage: baskets --db CONNINFO [--store S] [--terminal T] "
		     "[--since-us US] [--until-us US] [--with-cards]");
		return WIRE_BASKETS_USAGE;
	}
	if ((o->since_us && parse_us(o->since_us, &q.since_us)) || (o->until_us && parse_us(o->until_us, &q.until_us))) {
		hqc_fail("give UTC microseconds since 1970, e.g. 1764547200000000", "--since-us/--until-us is not a number");
		return WIRE_BASKETS_USAGE;
	}
	if (!o->db) {
		hqc_fail("give --db 'host=... dbname=...' (a libpq connection string)", "no database named");
		return WIRE_BASKETS_USAGE;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	int rc = o->with_cards ? hq_baskets_sales(o->db, &q, write_sale, &bo, &st, err, sizeof(err))
			       : hq_baskets(o->db, &q, write_basket, &bo, &st, err, sizeof(err));
	if (!rc && fflush(stdout))
		rc = bo.rc = PM_EIO;
	if (bo.rc) {
		hqc_fail("the reader of the baskets stopped; see its own message", "cannot write the baskets: %s",
		     strerror(errno));
		return WIRE_BASKETS_FAILED;
	}
	switch (rc) {
	case PM_OK:
		break;
	case PM_EOFFLINE:
		hqc_fail("check --db and that PostgreSQL is running", "%s", err);
		return WIRE_BASKETS_OFFLINE;
	case PM_EVERSION:
		hqc_fail("give the database posmark-hq serve stores into (its --db)", "%s", err);
		return WIRE_BASKETS_NOT_HQ;
	case PM_ECORRUPT:
		hqc_fail("find the sale with 'posmark-hq report sales-by-day' and correct or remove it", "%s", err);
		return WIRE_BASKETS_CORRUPT;
	default:
		hqc_fail("check the database", "cannot read the sales: %s", err[0] ? err : pm_strerror(rc));
		return WIRE_BASKETS_FAILED;
	}
	if (st.sales == 0) {
		hqc_fail("check --store, --terminal, --since-us and --until-us", "HQ has no sales in this selection");
		return WIRE_BASKETS_NONE;
	}
	if (st.empty && !o->quiet)
		fprintf(stderr, "posmark-hq: %" PRIu64 " sale(s) without items left out\n", st.empty);
	return WIRE_BASKETS_OK;
}

/* `page NAME`: a console page's data document (hq_pages.h) as one JSON object. */
int hqc_cmd_page(const struct opts *o)
{
	struct hq_page_params p = { 0 };
	char err[600];
	if (o->npos != 2)
		return hqc_fail("posmark-hq page overview|liability|tiers|campaigns|segments|cohorts|stores --db CONNINFO",
			    "usage: page NAME");
	p.from_us = o->since_us ? strtoll(o->since_us, NULL, 10) : 0;
	p.to_us = o->until_us ? strtoll(o->until_us, NULL, 10) : 0;
	snprintf(p.store, sizeof(p.store), "%s", o->store ? o->store : "");
	snprintf(p.campaign, sizeof(p.campaign), "%s", o->campaign ? o->campaign : "");
	p.window_days = o->window_days ? atoi(o->window_days) : 0;
	p.limit = o->limit ? atoi(o->limit) : 0;
	PGconn *c = hqc_open_db(o, 1);
	if (!c)
		return 1;
	json_t *doc = hq_page_data(c, o->pos[1], &p, err, sizeof(err));
	PQfinish(c);
	if (!doc)
		return hqc_fail("see 'posmark-hq page --help' for the page names", "%s", err);
	json_dumpf(doc, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(doc);
	return 0;
}

int hqc_cmd_card(const struct opts *o)
{
	char err[600];
	PGconn *c;
	int rc;
	if (o->npos == 2 && hqc_is_card(o->pos[1])) {
		/* a running serve answers over its admin socket (hq_admin_sock.c), else the database */
		if (o->admin_asked)   /* the front program asked already: not twice */
			hqi_admin_log(o->pos[1], rc = HQI_ADMIN_NOT_ANSWERED);
		else
			rc = hqi_admin_card(o->admin_socket, o->db, o->tiers, o->pos[1], o->json, stdout, err,
					    sizeof(err));
		if (rc != HQI_ADMIN_NOT_ANSWERED)
			goto answered;
		/* the lookup carries the schema check (one round trip, docs/benchmarks.md); only
		 * a schema that is not this build's costs the migration step and a second look */
		if (!(c = hqc_open_db(o, 0)))
			return 1;
		rc = hq_card_show(c, o->pos[1], o->tiers, o->json, stdout, err, sizeof(err));
		if (rc == PM_EVERSION) {
			if (hqc_migrate_db(c)) {
				PQfinish(c);
				return 1;
			}
			rc = hq_card_show(c, o->pos[1], o->tiers, o->json, stdout, err, sizeof(err));
		}
		PQfinish(c);
answered:
		if ((rc = hqi_card_outcome(rc, err)))
			return rc;
		return hqc_quick_exit_ok();
	}
	if (o->npos == 3 && !strcmp(o->pos[1], "ref") && hqc_is_card(o->pos[2])) {
		/* the card's pseudonym, for SQL by hand (every table names cards by it) */
		char ref[HQV_REF_LEN + 1];
		if (!(c = hqc_open_db(o, 1)))
			return 1;
		rc = hqv_card_ref(c, o->pos[2], false, ref, err, sizeof(err));
		PQfinish(c);
		if (rc == PM_ENOENT)
			return hqc_fail("check the number; HQ gives a card its ref at its first sale, event or lookup",
				    "HQ has no card with that number");
		if (rc)
			return hqc_fail("check the database and the card key file", "card ref failed: %s", err);
		printf("%s\n", ref);
		return hqc_quick_exit_ok();
	}
	if (o->npos == 4 && !strcmp(o->pos[1], "adjust")) {
		char *end;
		errno = 0;
		long long pts = strtoll(o->pos[3], &end, 10);
		if (!hqc_is_card(o->pos[2]))
			return hqc_fail("give the full card number (digits)", "'%s' is not a card number", o->pos[2]);
		if (!*o->pos[3] || *end || errno || pts == 0 || pts > WIRE_POINTS_MAX || pts < -WIRE_POINTS_MAX)
			return hqc_fail("give a whole number of points, e.g. 250 or -250, not 0, at most 10^12",
				    "'%s' is not a number of points to adjust by", o->pos[3]);
		if (!o->reason || !*o->reason || strlen(o->reason) > 500)
			return hqc_fail("say why with --reason TEXT (up to 500 characters); it stays in the ledger",
				    "an adjustment needs a reason");
		if (!(c = hqc_open_db(o, 1)))
			return 1;
		rc = hq_card_adjust(c, o->pos[2], pts, o->reason, err, sizeof(err));
		PQfinish(c);
		if (rc)
			return hqc_fail("check the database", "adjust failed: %s", err);
		fprintf(stderr, "posmark-hq: card %s adjusted by %lld points; the stores that know it learn it at their "
			"next sync\n", o->pos[2], pts);
		return 0;
	}
	return hqc_fail("posmark-hq card CARD [--json] | card ref CARD | card adjust CARD POINTS --reason TEXT",
		    "usage: card CARD, card ref CARD, or card adjust CARD POINTS --reason TEXT");
}

/* posmark-hq keys rotate: a new card key (hq_vault.h; docs/privacy.md). */
int hqc_cmd_keys(const struct opts *o)
{
	char err[700];
	uint64_t rows = 0;
	if (o->npos != 2 || strcmp(o->pos[1], "rotate"))
		return hqc_fail("posmark-hq keys rotate --db CONNINFO", "usage: keys rotate");
	PGconn *c = hqc_open_db(o, 1);
	if (!c)
		return 1;
	int rc = hqv_rotate(c, &rows, err, sizeof(err));
	PQfinish(c);
	if (rc)
		return hqc_fail("check the database and the card key file; nothing changed unless the message says so",
			    "key rotation failed: %s", err);
	fprintf(stderr, "posmark-hq: card key rotated: %" PRIu64 " card(s) re-keyed, %s replaced; the old key is gone,"
		" so the card numbers in old WAL and dead rows can no longer be read\n", rows, hqv_key_file());
	return 0;
}

int hqc_cmd_cards(const struct opts *o)
{
	struct hq_import_result res;
	char err[600];
	size_t len = 0;
	if (o->npos != 3 || strcmp(o->pos[1], "import"))
		return hqc_fail("posmark-hq cards import FILE --db CONNINFO", "usage: cards import FILE");
	char *text = hqc_read_file(o->pos[2], &len);
	if (!text)
		return hqc_fail("check the path", "cannot read '%s': %s", o->pos[2], strerror(errno));
	PGconn *c = hqc_open_db(o, 1);
	if (!c) {
		free(text);
		return 1;
	}
	int rc = hq_cards_import(c, text, len, o->tiers, stderr, &res, err, sizeof(err));
	PQfinish(c);
	free(text);
	if (rc == PM_EINVAL)
		return hqc_fail("fix the lines above (CSV card,points[,tier]; docs/hq.md) and import again",
			    "'%s': %u bad line(s): nothing imported", o->pos[2], res.bad_lines);
	if (rc)
		return hqc_fail("check the database; nothing was imported", "import failed: %s", err);
	fprintf(stderr, "posmark-hq: %" PRIu64 " card(s) read, %" PRId64 " balance(s) imported%s\n", res.rows,
		res.added, res.added == 0 && res.rows ? " (this file was imported before)" : "");
	return 0;
}
