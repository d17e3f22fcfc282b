/*
 * hq_pages.h - the data behind each page of HQ's web console (issue 18).
 *
 * Two layers meet here. The data layer (hq_pages*.c, hq_rollup*.c) answers
 * "what does page P show" from rollup tables that ingest maintains in each
 * batch's own transaction; the web layer (hq_console*.c) authenticates,
 * checks the role, masks card numbers for analysts, and renders any page
 * generically (tables, charts, CSV export) from the document below. Neither
 * parses text the other wrote: they share this one JSON document shape
 * (jansson objects, built and read in-process).
 *
 * The page document (docs/console.md keeps the full description):
 *   { "page": "overview", "title": "Program overview", "as_of_us": <int>,
 *     "params": { ...the parameters used, after defaults... },
 *     "tables": [ { "name": "by_day", "title": "Sales by day",
 *                   "columns": [ { "key": "day", "label": "Day", "type": T }, ... ],
 *                   "rows": [ [ <value per column> ], ... ] } ],
 *     "charts": [ { "type": "line"|"bar"|"stacked_bar", "title": "...",
 *                   "table": "by_day", "x": "day", "y": [ "sales", ... ] } ],
 *     "figures": [ { "key": "members", "label": "Members", "type": T, "value": <v> } ] }
 * Column/figure types T: "int", "cents" (integer cents; the document's
 * "currency" member names the currency), "points", "ratio" (0..1 as a
 * number), "text", "date" (UTC microseconds), "day" ("YYYY-MM-DD"), "card"
 * (a card as stored at HQ: the web layer turns it into a masked number for
 * analysts, the number for operators, via the vault), "store", "interval"
 * ([low, high] ratios). Values are JSON integers, numbers, strings or null.
 *
 * Threads: every function takes the caller's connection and may be called
 * from any thread with its own connection. Lifetimes: the returned document
 * belongs to the caller (json_decref).
 */
#ifndef HQ_PAGES_H
#define HQ_PAGES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stddef.h>

/* Parameters every page accepts (zero = the page's default). */
struct hq_page_params {
	int64_t from_us, to_us;       /* period; 0 = the last 90 days up to now */
	char store[64];               /* "" = the whole chain */
	char campaign[128];           /* campaigns page: one campaign, "" = all */
	int window_days;              /* campaigns: conversion window after the offer (default 14) */
	char card[64];                /* card page: the card as stored at HQ */
	int limit;                    /* list pages (lapsed, at-risk): rows, default 100, max 10000 */
};

/* The page document for `page` (a name from hq_page_names()), or NULL with
 * err set: PM_ENOENT-style "no such page" for an unknown name, or the
 * database's error. */
json_t *hq_page_data(PGconn *c, const char *page, const struct hq_page_params *p, char *err, size_t errlen);

/* NULL-terminated list of the page names hq_page_data() answers, in menu order. */
const char *const *hq_page_names(void);

#endif
