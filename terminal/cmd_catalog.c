/*
 * cmd_catalog.c - posmark catalog import FILE: CSV with a header
 * gtin,name,category,price_cents[,brand,...]. All or nothing by default:
 * any broken line is reported (file:line: what, and the way out) and
 * nothing is imported; --skip-bad imports the good lines.
 */
#include "terminal/cli.h"
#include "common/pm_gs1.h"
#include "terminal/csv.h"
#include "common/pm_err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int col_index(const struct csv_record *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->field[i], name))
			return (int)i;
	return -1;
}

/* Validate one data record into *p; NULL or the reason it is refused. */
static const char *product_from(const struct csv_record *r, const int col[5], struct loy_product *p,
				char *why, size_t len)
{
	const char *g, *price;
	size_t gl;
	char *end;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 4; i++)
		if (col[i] >= (int)r->n)
			return "has fewer fields than the header";
	g = r->field[col[0]];
	gl = strlen(g);
	if ((gl != 8 && gl != 12 && gl != 13 && gl != 14) || strspn(g, "0123456789") != gl) {
		snprintf(why, len, "gtin '%.20s' is not 8, 12, 13 or 14 digits", g);
		return why;
	}
	if (pm_gs1_check_digit(g, gl - 1) != g[gl - 1] - '0') {
		snprintf(why, len, "gtin '%s' has a bad check digit (expected %d)", g,
			 pm_gs1_check_digit(g, gl - 1));
		return why;
	}
	memset(p->gtin, '0', 14 - gl);
	memcpy(p->gtin + 14 - gl, g, gl + 1);
	if (!r->field[col[1]][0] || strlen(r->field[col[1]]) >= sizeof(p->name))
		return "name is empty or longer than 63 bytes";
	strcpy(p->name, r->field[col[1]]);
	if (strlen(r->field[col[2]]) >= sizeof(p->category))
		return "category is longer than 47 bytes";
	strcpy(p->category, r->field[col[2]]);
	price = r->field[col[3]];
	errno = 0;
	long long c = strtoll(price, &end, 10);
	if (errno || end == price || *end || c < 0 || c > 100000000LL) {
		snprintf(why, len, "price_cents '%.20s' is not a whole number of cents (0..100000000)", price);
		return why;
	}
	p->price_cents = c;
	if (col[4] >= 0 && col[4] < (int)r->n) {
		if (strlen(r->field[col[4]]) >= sizeof(p->brand))
			return "brand is longer than 47 bytes";
		strcpy(p->brand, r->field[col[4]]);
	}
	return NULL;
}

static int import(const char *file, bool skip_bad, struct loy_db *db)
{
	FILE *f = fopen(file, "r");
	struct csv_record *rec;
	struct loy_product *prods = NULL;
	size_t n = 0, cap = 0, bad = 0;
	unsigned long line = 0;
	const char *why;
	char whybuf[160];
	int col[5], rc, status = 1;

	if (!f)
		return cli_fail("catalog", "check the file name", "cannot open catalog '%s': %s", file,
				strerror(errno));
	rec = malloc(sizeof(*rec));
	if (!rec) {
		fclose(f);
		return cli_fail("catalog", NULL, "out of memory");
	}
	rc = csv_read(f, rec, &line, &why);
	if (rc <= 0) {
		cli_fail("catalog", "the first line must be: gtin,name,category,price_cents[,brand]",
			 "%s:1: %s", file, rc == 0 ? "file is empty" : why);
		goto out;
	}
	col[0] = col_index(rec, "gtin");
	col[1] = col_index(rec, "name");
	col[2] = col_index(rec, "category");
	col[3] = col_index(rec, "price_cents");
	col[4] = col_index(rec, "brand");
	if (col[0] < 0 || col[1] < 0 || col[2] < 0 || col[3] < 0) {
		cli_fail("catalog", "the first line must be: gtin,name,category,price_cents[,brand]",
			 "%s:1: header lacks one of gtin, name, category, price_cents", file);
		goto out;
	}
	for (;;) {
		unsigned long at = line + 1;
		rc = csv_read(f, rec, &line, &why);
		if (rc == 0)
			break;
		if (rc == 1 && rec->n == 1 && rec->field[0][0] == '\0')
			continue; /* blank line */
		if (rc == 1) {
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				struct loy_product *np = realloc(prods, cap * sizeof(*np));
				if (!np) {
					cli_fail("catalog", NULL, "out of memory after %zu products", n);
					goto out;
				}
				prods = np;
			}
			why = product_from(rec, col, &prods[n], whybuf, sizeof(whybuf));
			if (!why) {
				n++;
				continue;
			}
		}
		bad++;
		fprintf(stderr, "posmark catalog: %s:%lu: %s; fix the line%s\n", file, at, why,
			skip_bad ? " (skipped)" : " or rerun with --skip-bad");
	}
	if (bad && !skip_bad) {
		cli_fail("catalog", "fix the lines above, or rerun with --skip-bad to import the rest",
			 "%zu broken line(s) in '%s': nothing imported", bad, file);
		goto out;
	}
	if ((rc = loy_catalog_put(db, prods, n))) {
		cli_fail("catalog", rc == PM_EFULL ? "free disk space, then import again" : NULL,
			 "cannot store the catalog: %s; nothing imported", pm_strerror(rc));
		goto out;
	}
	fprintf(stderr, "posmark catalog: imported %zu products%s\n", n,
		bad ? " (broken lines skipped)" : "");
	status = 0;
out:
	free(prods);
	free(rec);
	fclose(f);
	return status;
}

int cmd_catalog(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct loy_db *db;
	bool skip_bad = false;
	const char *file = NULL;
	int rc = cli_setup(&argc, argv, &co, &cfg);

	if (rc)
		return rc;
	if (co.help || argc < 2 || strcmp(argv[1], "import")) {
		term_help_command("catalog", co.help ? stdout : stderr);
		return co.help ? 0 : 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--skip-bad"))
			skip_bad = true;
		else if (!file)
			file = argv[i];
		else
			return cli_fail("catalog", "give one FILE", "unexpected argument '%s'", argv[i]) + 1;
	}
	if (!file)
		return cli_fail("catalog", "posmark catalog import FILE --data DIR", "no FILE given") + 1;
	if (cli_open_log("catalog", &cfg, &db))
		return 1;
	rc = import(file, skip_bad, db);
	loy_close(db);
	return rc;
}
