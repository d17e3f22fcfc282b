/*
 * fuzz_mine_read.c - the mining readers and a small mining run on any bytes.
 * The first byte picks the format (even: basket, odd: FIMI); the input is
 * copied into an exact-size buffer so ASan sees over-reads. No state is
 * kept between runs.
 */
#include "mining/mining.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mine_db *db;
	struct mine_result *res = NULL;
	struct mine_params p = { .min_count = 1, .max_len = 4, .min_confidence = 0.5 };
	char err[200];
	char *buf;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (mine_db_new(&db) == PM_OK) {
		mine_db_set_limit(db, 64u << 20);
		if (mine_read(db, buf, size - 1, (data[0] & 1) ? MINE_FIMI : MINE_BASKET, NULL, NULL,
				  err, sizeof(err)) == PM_OK &&
		    mine_db_txns(db) > 0) {
			p.min_count = 1 + mine_db_txns(db) / 4;
			p.mem_limit = 64u << 20;
			if (mine_run(db, &p, &res, NULL) == PM_OK) {
				FILE *f = fopen("/dev/null", "w");
				size_t w, s;
				if (f) {
					mine_write_text(res, f);
					mine_write_ruleset(res, f, &w, &s);
					fclose(f);
				}
			}
		}
		mine_result_free(res);
		mine_db_free(db);
	}
	free(buf);
	return 0;
}
