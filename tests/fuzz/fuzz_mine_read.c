/*
 * fuzz_mine_read.c - the mining readers and a small mining run on any bytes.
 * The first byte picks the format (even: basket, odd: FIMI); the input is
 * copied into an exact-size buffer so ASan sees over-reads. No state is
 * kept between runs.
 */
#include "offers/offers.h"
#include "common/pm_err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ofr_mine_db *db;
	struct ofr_mine_result *res = NULL;
	struct ofr_mine_params p = { .min_count = 1, .max_len = 4, .min_confidence = 0.5 };
	char err[200];
	char *buf;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (ofr_mine_db_new(&db) == PM_OK) {
		ofr_mine_db_set_limit(db, 64u << 20);
		if (ofr_mine_read(db, buf, size - 1, (data[0] & 1) ? OFR_MINE_FIMI : OFR_MINE_BASKET, NULL, NULL,
				  err, sizeof(err)) == PM_OK &&
		    ofr_mine_db_txns(db) > 0) {
			p.min_count = 1 + ofr_mine_db_txns(db) / 4;
			p.mem_limit = 64u << 20;
			if (ofr_mine_run(db, &p, &res, NULL) == PM_OK) {
				FILE *f = fopen("/dev/null", "w");
				size_t w, s;
				if (f) {
					ofr_mine_write_text(res, f);
					ofr_mine_write_ruleset(res, f, &w, &s);
					fclose(f);
				}
			}
		}
		ofr_mine_result_free(res);
		ofr_mine_db_free(db);
	}
	free(buf);
	return 0;
}
