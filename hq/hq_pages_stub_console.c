/* MERGE: DELETE THIS FILE (hq_pages_stub_console.c) - a placeholder for the data layer's hq_pages*.c until the merge. */
/*
 * It answers every page with "no such page" so posmark-hq links on the
 * console's branch; the console then shows only its own pages. Not a
 * feature: the data layer (hq_pages*.c) replaces it.
 */
#include "hq/hq_pages.h"

#include <stdio.h>

json_t *hq_page_data(PGconn *c, const char *page, const struct hq_page_params *p, char *err, size_t errlen)
{
	(void)c, (void)p;
	snprintf(err, errlen, "no such page '%s'", page);
	return NULL;
}

const char *const *hq_page_names(void)
{
	static const char *const none[] = { NULL };
	return none;
}
