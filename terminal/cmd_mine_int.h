/*
 * cmd_mine_int.h - PRIVATE to posmark mine (cmd_mine.c, cmd_mine_hq.c):
 * the progress line, and reading HQ's sales through posmark-hq baskets.
 */
#ifndef CMD_MINE_INT_H
#define CMD_MINE_INT_H

#include "mining/mining.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress_state {
	double start, last;
	bool quiet, shown, tty;
};

/* Monotonic seconds. */
double mine_cli_now(void);
/* The miner's progress callback: a line on stderr at most once a second (ctx: progress_state). */
void mine_cli_progress(void *ctx, const struct mine_progress *p);
/* Bytes as whole MB, rounded up. */
int mine_cli_mb(size_t bytes);

/* The sales to mine at HQ (posmark-hq baskets' options). */
struct hq_selection {
	const char *store;            /* NULL: every store */
	const char *terminal;         /* NULL: every terminal */
	int64_t since_us;             /* INT64_MIN: no bound */
	int64_t until_us;             /* excluded; INT64_MAX: no bound */
};

/*
 * Read HQ's selected sales into db through `posmark-hq baskets` (wire.h), with
 * cards and times into seq when it is not NULL (the store's rule set: explore
 * rules). 0, or the exit status of a failure already told (cli_fail).
 */
int mine_cli_read_hq(const char *conninfo, const struct hq_selection *q, const char *since, const char *until,
		     struct mine_db *db, struct mine_seq *seq, struct progress_state *ps);

#endif
