/* cmd_history.c - posmark history CARD: every sale of a card, oldest first, net of returns. */
#include "terminal/cli.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The JSON shape of one sale, shared with HQ's history (docs/hq.md, "history CARD --json"). */
json_t *term_sale_json(const struct loy_sale *s);
json_t *term_sale_json(const struct loy_sale *s)
{
	json_t *items = json_array();
	for (uint32_t i = 0; i < s->n_items; i++)
		json_array_append_new(items, json_pack("{s:s, s:i, s:I, s:I}", "gtin", s->items[i].gtin,
						       "qty", (int)s->items[i].qty, "price_cents",
						       (json_int_t)s->items[i].unit_price_cents, "line_cents",
						       (json_int_t)s->items[i].line_cents));
	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:o}", "sale_id", (json_int_t)s->seq,
			 "terminal", s->terminal, "seq", (json_int_t)s->seq, "time_us",
			 (json_int_t)s->time_us, "total_cents", (json_int_t)s->total_cents, "currency",
			 s->currency, "tender", loy_tender_name(s->tender), "points_earned",
			 (json_int_t)s->points_earned, "items", items);
}

struct hist_ctx {
	bool json;
	size_t n;
	struct loy_db *db;
};

static int print_sale(void *ctx, const struct loy_sale *s)
{
	struct hist_ctx *h = ctx;
	char when[32], m[32];
	h->n++;
	if (h->json) {
		json_t *o = term_sale_json(s);
		char *txt = json_dumps(o, JSON_COMPACT);
		if (txt)
			puts(txt);
		free(txt);
		json_decref(o);
		return 0;
	}
	printf("%s UTC  sale %llu  %s  %s %s  %u item(s)\n", pm_fmt_utc(s->time_us, when, sizeof(when)),
	       (unsigned long long)s->seq, s->terminal, term_money(s->total_cents, m, sizeof(m)),
	       s->currency, s->n_items);
	for (uint32_t i = 0; i < s->n_items; i++) {
		struct loy_product p;
		bool named = loy_catalog_get(h->db, s->items[i].gtin, &p) == PM_OK;
		printf("    %s  %4d x %8s  %s\n", s->items[i].gtin, (int)s->items[i].qty,
		       term_money(s->items[i].unit_price_cents, m, sizeof(m)), named ? p.name : "");
	}
	return 0;
}

int cmd_history(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db;
	struct scan_result r;
	struct hist_ctx h = { 0 };
	int rc = cli_setup(&argc, argv, &co, &cfg);

	if (rc)
		return rc;
	if (co.help || argc != 2) {
		term_help_command("history", co.help ? stdout : stderr);
		return co.help ? 0 : 2;
	}
	scan_decode_keyed_card(&cfg.scan, argv[1], &r);
	if (r.kind != SCAN_CARD)
		return cli_fail("history", "give the full card number as printed", "card '%s' refused: %s",
				argv[1], r.error) + 1;
	if (cli_open_log_ro("history", &cfg, &db))
		return 1;
	h.json = co.json;
	h.db = db;
	/* Net of returns (docs/accounts.md): returned units are off their sale, a sale returned whole is gone. */
	rc = loy_card_history_net(db, r.card, print_sale, &h);
	loy_close(db);
	if (rc)
		return cli_log_failed("history", &cfg, rc, "reading the card's history",
				      "check the log with 'posmark log check'");
	if (!co.json && h.n == 0)
		fprintf(stderr, "posmark history: no sales for this card in '%s'\n", cfg.data_dir);
	return 0;
}
