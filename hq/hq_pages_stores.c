/*
 * hq_pages_stores.c - the console's stores page (hq_pages.h; docs/console.md,
 * "stores"): per store what HQ holds of it (last batch, newest sale, lag)
 * and what its terminals report with every request (store_status, written
 * by hq_store_status.c from wire's Posmark-Status header): unsent counts,
 * the rule set each runs against the newest published, clock skew.
 */
#include "hq/hq_pages_int.h"
#include "common/pm_err.h"

#include <inttypes.h>
#include <stdio.h>

/* The newest published rule set (what a store fetches: hq_rules_latest's order)
 * and each terminal's state against it. */
#define NEWEST_SQL                                                                                         \
	"newest AS (SELECT serial, trim(both '\"' FROM etag) AS rid FROM rule_sets ORDER BY id DESC LIMIT 1),"   \
	" term AS (SELECT ss.*, n.serial AS newest_serial,"                                                  \
	"  CASE WHEN n.rid IS NULL THEN 'none published' WHEN ss.rules_id = n.rid THEN 'current'"              \
	"   WHEN ss.rules_id IS NULL THEN 'behind: none installed' ELSE 'behind' END AS rules_state,"          \
	"  (ss.terminal_us - ss.received_us) / 1000000 AS skew_s"                                             \
	"  FROM store_status ss LEFT JOIN newest n ON true)"

static int stores_table(struct hqp_ctx *x, json_t *doc, const char *const *pv)
{
	static const struct hqp_col cols[] = {
		{ "store", "Store", "store" }, { "terminals", "Terminals", "int" },
		{ "last_batch_us", "Last batch received", "date" }, { "newest_record_us", "Newest sale held", "date" },
		{ "lag_s", "Lag (s): now - newest sale", "int" }, { "sales", "Sales in the period", "int" },
		{ "sales_cents", "Sales value in the period", "cents" }, { "acked_sales_seq", "Sales seq held (sum)", "int" },
		{ "acked_events_seq", "Events seq held (sum)", "int" },
		{ "unsent_sales", "Unsent sales (reported)", "int" }, { "unsent_events", "Unsent events (reported)", "int" },
		{ "unsent_ledger", "Unsent ledger entries (reported)", "int" },
		{ "reported_us", "Last report", "date" }, { "rules_serial", "Rule set running (lowest serial)", "int" },
		{ "terminals_behind", "Terminals behind the newest rule set", "int" },
		{ "rules", "Rule set", "text" }, { "clock_skew_s", "Clock skew (s, largest)", "int" },
	};
	return hqp_table_sql(x, doc, "stores", "Stores", cols, 17,
			     "WITH " NEWEST_SQL
			     " SELECT s.store_id, u.terminals, u.last_us, d.newest, greatest($5::bigint - d.newest, 0) / 1000000,"
			     " coalesce(p.sales, 0), coalesce(p.cents, 0), u.sales_seq, u.events_seq,"
			     " t.us, t.ue, t.ul, t.rep, t.rs, t.behind,"
			     " CASE WHEN t.store_id IS NULL THEN 'not reported' WHEN t.nonepub THEN 'none published'"
			     "  WHEN t.behind > 0 THEN 'behind' ELSE 'current' END, t.skew"
			     " FROM stores s"
			     " LEFT JOIN (SELECT store_id, count(DISTINCT terminal) AS terminals,"
			     "  (extract(epoch FROM max(updated_at)) * 1000000)::bigint AS last_us,"
			     "  sum(acked_seq) FILTER (WHERE kind = 'sales') AS sales_seq,"
			     "  sum(acked_seq) FILTER (WHERE kind = 'events') AS events_seq FROM upload_progress"
			     "  GROUP BY store_id) u ON u.store_id = s.store_id"
			     " LEFT JOIN (SELECT store_id, max(last_us) AS newest FROM rollup_store_day GROUP BY store_id) d"
			     "  ON d.store_id = s.store_id"
			     " LEFT JOIN (SELECT store_id, sum(sales) AS sales, sum(sales_cents) AS cents FROM rollup_store_day"
			     "  WHERE day BETWEEN $1::int AND $2::int AND currency = $4 GROUP BY store_id) p"
			     "  ON p.store_id = s.store_id"
			     " LEFT JOIN (SELECT store_id, sum(unsent_sales) AS us, sum(unsent_events) AS ue,"
			     "  sum(unsent_ledger) AS ul, max(received_us) AS rep, min(coalesce(rules_serial, 0)) AS rs,"
			     "  count(*) FILTER (WHERE rules_state LIKE 'behind%') AS behind,"
			     "  bool_and(rules_state = 'none published') AS nonepub,"
			     "  (array_agg(skew_s ORDER BY abs(skew_s) DESC))[1] AS skew FROM term GROUP BY store_id) t"
			     "  ON t.store_id = s.store_id"
			     " WHERE $3 = '' OR s.store_id = $3 ORDER BY s.store_id", 5, pv);
}

static int terminals_table(struct hqp_ctx *x, json_t *doc)
{
	static const struct hqp_col cols[] = {
		{ "store", "Store", "store" }, { "terminal", "Terminal", "text" },
		{ "last_batch_us", "Last batch received", "date" }, { "reported_us", "Last report", "date" },
		{ "unsent_sales", "Unsent sales", "int" }, { "unsent_events", "Unsent events", "int" },
		{ "unsent_ledger", "Unsent ledger entries", "int" }, { "rules_id", "Rule set running (id)", "text" },
		{ "rules_serial", "Its serial", "int" }, { "newest_serial", "Newest published serial", "int" },
		{ "rules", "Rule set", "text" }, { "clock_skew_s", "Clock skew (s): terminal - HQ", "int" },
		{ "version", "posmark version", "text" },
	};
	const char *pv[1] = { x->p.store };
	return hqp_table_sql(x, doc, "terminals", "Terminals (as each reported)", cols, 13,
			     "WITH " NEWEST_SQL
			     " SELECT k.store_id, k.terminal, u.last_us, t.received_us, t.unsent_sales, t.unsent_events,"
			     " t.unsent_ledger, t.rules_id, t.rules_serial, (SELECT serial FROM newest),"
			     " coalesce(t.rules_state, 'not reported'), t.skew_s, t.version"
			     " FROM (SELECT store_id, terminal FROM upload_progress UNION SELECT store_id, terminal"
			     "  FROM store_status) k"
			     " LEFT JOIN term t ON t.store_id = k.store_id AND t.terminal = k.terminal"
			     " LEFT JOIN (SELECT store_id, terminal, (extract(epoch FROM max(updated_at)) * 1000000)::bigint"
			     "  AS last_us FROM upload_progress GROUP BY 1, 2) u ON u.store_id = k.store_id AND u.terminal = k.terminal"
			     " WHERE $1 = '' OR k.store_id = $1 ORDER BY 1, 2", 1, pv);
}

json_t *hqp_stores(struct hqp_ctx *x)
{
	json_t *doc = hqp_doc(x, "stores", "Stores");
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, x->now_us);
	const char *pv[5] = { x->s_from_day, x->s_to_day, x->p.store, x->currency, now };
	if (stores_table(x, doc, pv) || terminals_table(x, doc)) {
		json_decref(doc);
		return NULL;
	}
	PGresult *r = hqp_query(x, "SELECT (SELECT serial FROM rule_sets ORDER BY id DESC LIMIT 1),"
				" (SELECT (extract(epoch FROM published_at) * 1000000)::bigint FROM rule_sets ORDER BY id DESC"
				" LIMIT 1), (SELECT sum(unsent_sales) FROM store_status WHERE $1 = '' OR store_id = $1)",
				1, pv + 2);
	if (!r) {
		json_decref(doc);
		return NULL;
	}
	json_t *stores = json_object_get(json_array_get(json_object_get(doc, "tables"), 0), "rows");
	json_int_t behind = 0;
	size_t i;
	json_t *row;
	json_array_foreach(stores, i, row)
		behind += json_integer_value(json_array_get(row, 14)) > 0;
	hqp_figure(doc, "stores", "Stores registered", "int", json_integer((json_int_t)json_array_size(stores)));
	hqp_figure(doc, "rules_serial_published", "Newest rule set published (serial)", "int",
		   PQgetisnull(r, 0, 0) ? json_null() : json_integer(hqp_int(r, 0, 0)));
	hqp_figure(doc, "rules_published_us", "Published at", "date",
		   PQgetisnull(r, 0, 1) ? json_null() : json_integer(hqp_int(r, 0, 1)));
	hqp_figure(doc, "stores_behind", "Stores with a terminal behind the newest rule set", "int", json_integer(behind));
	hqp_figure(doc, "unsent_sales", "Unsent sales (as last reported)", "int",
		   PQgetisnull(r, 0, 2) ? json_null() : json_integer(hqp_int(r, 0, 2)));
	PQclear(r);
	hqp_chart(doc, "bar", "Lag by store (s)", "stores", "store", "lag_s");
	hqp_chart(doc, "bar", "Unsent sales by store (reported)", "stores", "store", "unsent_sales");
	hqp_note(doc, "unsent counts, rule sets and clocks are what each terminal reported with its last request to"
		 " HQ (a sync, even with nothing to send), as of its last report; a terminal that stopped syncing"
		 " keeps its last report. A terminal is behind when the rule set it runs (SHA-256 of its rules.json)"
		 " is not the newest published: it fetches that at its next sync. Clock skew = the terminal's clock"
		 " minus HQ's when the request arrived (network delay included).");
	return doc;
}
