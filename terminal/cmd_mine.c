/*
 * cmd_mine.c - posmark mine: frequent itemsets and cross-sell rules from
 * baskets (basket CSV, FIMI, or the terminal's own purchase log with
 * --data DIR). The mining itself is mining/mine_*.c; this file reads the
 * input, guards memory, reports progress and writes the chosen output.
 * With --hq-db it reads HQ's sales through `posmark-hq baskets`
 * (cmd_mine_hq.c): this program does not link libpq.
 */
#include "terminal/cli.h"
#include "terminal/cmd_mine_int.h"
#include "common/pm_err.h"
#include "mining/mining.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


double mine_cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mine_cli_progress(void *ctx, const struct mine_progress *p)
{
	struct progress_state *ps = ctx;
	double t = mine_cli_now();

	if (ps->quiet || t - ps->start < 1.0 || t - ps->last < 1.0)
		return;
	ps->last = t;
	ps->shown = true;
	if (!strcmp(p->phase, "reading"))
		fprintf(stderr, "posmark mine: reading: %llu transactions, %llu items (%.0f s)%s",
			(unsigned long long)p->transactions, (unsigned long long)p->items, t - ps->start,
			ps->tty ? "\033[K\r" : "\n");
	else
		fprintf(stderr, "posmark mine: %s: %llu transactions, %llu frequent items, %llu itemsets, %llu rules (%.0f s)%s",
			p->phase, (unsigned long long)p->transactions, (unsigned long long)p->items,
			(unsigned long long)p->itemsets, (unsigned long long)p->rules, t - ps->start,
			ps->tty ? "\033[K\r" : "\n");
}

/* MemAvailable from /proc/meminfo in bytes, 0 if unknown. */
static size_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (size_t)(kb * 1024);
}

/*
 * What mining a file of size bytes will hold at its peak, from a sample of
 * its start: per item occurrence the stored id, its rank and (at worst) one
 * tree node; per transaction an offset and a path record.
 */
static size_t estimate_bytes(const char *buf, size_t size)
{
	size_t sample = size < (4u << 20) ? size : (4u << 20), seps = 0, lines = 0;
	double occ, txns;

	for (size_t i = 0; i < sample; i++) {
		if (buf[i] == '\n')
			lines++;
		else if (buf[i] == ',' || buf[i] == ' ')
			seps++;
	}
	if (!sample)
		return 0;
	occ = (double)(seps + lines + 1) * ((double)size / (double)sample);
	txns = (double)(lines + 1) * ((double)size / (double)sample);
	return (size_t)(occ * (4 + 4 + 16) + txns * (8 + 16));
}

struct sales_feed {
	struct mine_db *db;
	size_t sales, empty;
	int rc;
	struct progress_state *ps;
	struct mine_seq *seq;         /* the store's rule set: card histories for explore rules */
	const char **names;           /* scratch: one sale's item names */
	size_t cap_names;
};

/* A sale with a card also goes to the sequential miner (explore offers, docs/mining.md). */
static int feed_seq(struct sales_feed *sf, const struct loy_sale *s)
{
	if (!sf->seq || !s->card[0])
		return PM_OK;
	if (s->n_items > sf->cap_names) {
		const char **v = realloc(sf->names, s->n_items * sizeof(*v));
		if (!v)
			return PM_ENOMEM;
		sf->names = v;
		sf->cap_names = s->n_items;
	}
	for (uint32_t i = 0; i < s->n_items; i++)
		sf->names[i] = s->items[i].gtin;
	return mine_seq_add(sf->seq, s->card, s->time_us, sf->names, s->n_items);
}

static int feed_sale(void *ctx, const struct loy_sale *s)
{
	struct sales_feed *sf = ctx;
	int rc;

	if (s->n_items == 0) {
		sf->empty++;
		return 0;
	}
	if ((rc = mine_txn_begin(sf->db)))
		return sf->rc = rc;
	for (uint32_t i = 0; i < s->n_items; i++)
		if ((rc = mine_txn_item(sf->db, s->items[i].gtin, strlen(s->items[i].gtin))))
			return sf->rc = rc;
	if ((rc = mine_txn_end(sf->db)) || (rc = feed_seq(sf, s)))
		return sf->rc = rc;
	if (++sf->sales % 65536 == 0) {
		struct mine_progress p = { .phase = "reading", .transactions = sf->sales,
					       .items = mine_db_items(sf->db) };
		mine_cli_progress(sf->ps, &p);
	}
	return 0;
}

int mine_cli_mb(size_t bytes)
{
	return (int)((bytes + (1u << 20) - 1) >> 20);
}

static int read_file(const char *path, enum mine_format fmt, struct mine_db *db,
		     size_t limit, struct progress_state *ps)
{
	struct stat st;
	char err[300];
	const char *buf;
	size_t est;
	int fd, rc;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return cli_fail("mine", "check the --input path", "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return cli_fail("mine", "give a regular file to --input", "'%s' is not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return cli_fail("mine", "give a file with one transaction per line", "'%s' is empty", path);
	}
	buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (buf == MAP_FAILED)
		return cli_fail("mine", NULL, "cannot read '%s': %s", path, strerror(errno));
	madvise((void *)buf, (size_t)st.st_size, MADV_SEQUENTIAL);
	est = estimate_bytes(buf, (size_t)st.st_size);
	if (limit && est > limit) {
		munmap((void *)buf, (size_t)st.st_size);
		return cli_fail("mine", "mine a sample or a shorter period, or raise --max-memory if the machine has the memory",
				"'%s' is too large: mining it needs about %d MB, the limit is %d MB",
				path, mine_cli_mb(est), mine_cli_mb(limit));
	}
	rc = mine_read(db, buf, (size_t)st.st_size, fmt, mine_cli_progress, ps, err, sizeof(err));
	munmap((void *)buf, (size_t)st.st_size);
	if (rc == PM_ENOMEM)
		return cli_fail("mine", "mine a sample or a shorter period, or raise --max-memory",
				"'%s' does not fit in memory: %s (limit %d MB)", path, err, mine_cli_mb(limit));
	if (rc)
		return cli_fail("mine", fmt == MINE_FIMI
				? "FIMI input is one transaction per line of integer items separated by spaces"
				: "basket input is one transaction per line, items separated by commas; quote items with commas",
				"cannot read '%s': %s", path, err[0] ? err : pm_strerror(rc));
	return 0;
}

static int read_log(const struct term_config *cfg, struct mine_db *db, struct mine_seq *seq,
		    struct progress_state *ps)
{
	struct loy_db *ldb;
	struct sales_feed sf = { .db = db, .ps = ps, .seq = seq };
	int rc;

	if (cli_open_log("mine", cfg, &ldb))
		return 1;
	rc = loy_sales_after_net(ldb, 0, 0, feed_sale, &sf);   /* baskets net of returns */
	loy_close(ldb);
	free(sf.names);
	if (sf.rc == PM_ENOMEM)
		return cli_fail("mine", "mine at HQ over an export, or raise --max-memory",
				"the purchase log in '%s' does not fit in memory (needs more than %d MB)",
				cfg->data_dir, mine_cli_mb(mine_db_need(db)));
	if (rc || sf.rc)
		return cli_fail("mine", "check the log with 'posmark history' or 'posmark card show'",
				"cannot read the sales of '%s': %s", cfg->data_dir,
				pm_strerror(sf.rc ? sf.rc : rc));
	if (sf.empty)
		fprintf(stderr, "posmark mine: %zu sale(s) without items left out\n", sf.empty);
	return 0;
}

/* "YYYY-MM-DD" -> the start of that UTC day in microseconds; -1 if not a date. */
static int parse_day(const char *s, int64_t *us)
{
	struct tm tm = { 0 }, back;
	char *end;
	time_t t;

	if (!s || strlen(s) != 10 || !(end = strptime(s, "%Y-%m-%d", &tm)) || *end)
		return -1;
	back = tm;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != back.tm_mday || tm.tm_mon != back.tm_mon)
		return -1;   /* 2026-02-30 */
	*us = (int64_t)t * 1000000;
	return 0;
}

static int parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0 && v <= 1) || isnan(v))
		return -1;
	*out = v;
	return 0;
}

/* The store's rule set (--output-format rules from --data or --hq-db): explore and personal parameters. */
struct store_opts {
	struct mine_seq_params seq;
	struct mine_store_params st;
};

/* One of the store rule set's options at argv[*i]: 1 taken, 0 not one of them, -1 bad value (said). */
static int store_opt(int argc, char **argv, int *i, struct store_opts *so)
{
	static const struct { const char *name; long lo, hi; } opts[] = {
		{ "--personal-half-life", 0, 3650 }, { "--explore-min-customers", 1, 1000000 },
		{ "--explore-per-item", 0, 1000 }, { "--backfill", 0, 1000 }, { "--max-repeats", 0, 8 },
		{ "--holdout", 0, 100 }, { "--cross-sell-weight", 0, 100 },
	};
	const char *v;
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		if (!(v = cli_opt_value(argc, argv, i, opts[k].name)))
			continue;
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || n < opts[k].lo || n > opts[k].hi) {
			cli_fail("mine", "see posmark mine --help", "%s '%s' is not a whole number in %ld..%ld",
				 opts[k].name, v, opts[k].lo, opts[k].hi);
			return -1;
		}
		int *dst[] = { &so->st.personal_half_life_days, NULL, NULL, NULL, &so->st.max_repeats,
			       &so->st.holdout_pct, &so->st.cross_sell_weight_pct };
		if (k == 1)
			so->seq.min_customers = (uint32_t)n;
		else if (k == 2)
			so->seq.per_item = (unsigned)n;
		else if (k == 3)
			so->seq.popular = (unsigned)n;
		else
			*dst[k] = (int)n;
		return 1;
	}
	if ((v = cli_opt_value(argc, argv, i, "--explore-weight"))) {
		char *end;
		so->st.explore_weight = strtod(v, &end);
		if (*end || !(so->st.explore_weight >= 0 && so->st.explore_weight <= 100)) {
			cli_fail("mine", "a weight from 0 (explore ranks by confidence) to 100, e.g. 1.2",
				 "--explore-weight '%s' is not a number from 0 to 100", v);
			return -1;
		}
		return 1;
	}
	if ((v = cli_opt_value(argc, argv, i, "--explore-min-lift"))) {
		char *end;
		so->seq.min_lift = strtod(v, &end);
		if (*end || !(so->seq.min_lift >= 0) || isinf(so->seq.min_lift)) {
			cli_fail("mine", "lift is a ratio, e.g. 1.5", "--explore-min-lift '%s' is not a number", v);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* Mine the explore rules and write the store's whole rule set (docs/mining.md, "Rule sets for a store"). */
static int write_store(const struct mine_result *res, const struct mine_seq *seq, const struct store_opts *so,
		       FILE *out, bool quiet)
{
	struct mine_seq_rule *v = NULL;
	size_t n = 0, written, skipped;
	uint64_t steps = 0;
	struct mine_store_params st = so->st;
	int rc;
	if (seq && (rc = mine_seq_run(seq, &so->seq, &v, &n, &steps, &st.explore_novelty)))
		return rc;
	rc = mine_write_store_ruleset(res, seq, v, n, &st, out, &written, &skipped);
	size_t n_explore = 0, n_rates = 0;
	for (size_t i = 0; i < n; i++) {
		n_rates += v[i].from == v[i].to;
		n_explore += v[i].from != v[i].to;
	}
	if (rc == PM_OK && !quiet)
		fprintf(stderr, "posmark mine: store rule set: %zu basket rule(s), %zu explore rule(s) (back-fill "
			"included) and %zu repeat rates from %llu visit-to-visit steps of %u card(s), personal "
			"campaign %s\n", res ? mine_n_rules(res) : 0, n_explore, n_rates,
			(unsigned long long)steps, seq ? mine_seq_customers(seq) : 0,
			so->st.personal_half_life_days ? "on" : "off");
	if (rc == PM_OK && skipped)
		fprintf(stderr, "posmark mine: %zu rule(s) left out of the rule set: an item is not a valid GTIN\n",
			skipped);
	free(v);
	return rc;
}

int cmd_mine(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct mine_params p = { .max_len = 10 };
	struct progress_state ps = { .start = mine_cli_now() };
	const char *input = NULL, *in_fmt = "basket", *support = NULL, *conf = NULL, *lift = NULL;
	const char *output = NULL, *out_fmt = "text", *maxlen = NULL, *maxmem = NULL, *v;
	const char *hq_db = NULL, *since = NULL, *until = NULL;
	struct hq_selection q = { .since_us = INT64_MIN, .until_us = INT64_MAX };
	enum mine_format fmt;
	struct mine_db *db = NULL;
	struct mine_result *res = NULL;
	struct mine_seq *seq = NULL;
	struct store_opts so = { .seq = { .min_customers = 10, .min_lift = 2.0, .per_item = 10, .popular = 20 },
				 .st = { .personal_half_life_days = 90, .personal_percent = 5, .explore_percent = 10,
					 .cross_sell_percent = 10, .holdout_pct = 10, .max_repeats = 3, .explore_weight = 1.6,
					 .cross_sell_weight_pct = 25 } };
	int sr;
	FILE *out = stdout;
	size_t need = 0, limit;
	int rc = cli_setup(&argc, argv, &co, &cfg), status = 1;

	if (rc)
		return rc;
	if (co.help) {
		term_help_command("mine", stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--input-format")))
			in_fmt = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--input")))
			input = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--min-support")))
			support = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--min-confidence")))
			conf = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--min-lift")))
			lift = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--max-len")))
			maxlen = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--output-format")))
			out_fmt = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--output")))
			output = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--max-memory")))
			maxmem = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--hq-db")))
			hq_db = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--store")))
			q.store = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--terminal")))
			q.terminal = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--since")))
			since = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--until")))
			until = v;
		else if (!strcmp(argv[i], "--quiet"))
			ps.quiet = true;
		else if ((sr = store_opt(argc, argv, &i, &so)) != 0) {
			if (sr < 0)
				return 2;
		} else {
			fprintf(stderr, "posmark mine: unknown or incomplete option '%s'\n", argv[i]);
			term_help_command("mine", stderr);
			return 2;
		}
	}
	if (!strcmp(in_fmt, "basket"))
		fmt = MINE_BASKET;
	else if (!strcmp(in_fmt, "fimi"))
		fmt = MINE_FIMI;
	else
		return cli_fail("mine", "use --input-format basket or fimi", "unknown input format '%s'", in_fmt) + 1;
	if (strcmp(out_fmt, "text") && strcmp(out_fmt, "rules") && strcmp(out_fmt, "itemsets"))
		return cli_fail("mine", "use --output-format text, rules or itemsets",
				"unknown output format '%s'", out_fmt) + 1;
	p.no_rules = !strcmp(out_fmt, "itemsets");
	if (!support)
		return cli_fail("mine", "add --min-support S, e.g. 0.001 (a fraction of transactions)",
				"--min-support is required") + 1;
	double sdummy;
	if (parse_fraction(support, &sdummy))
		return cli_fail("mine", "support is a fraction of transactions: 0.001 is 0.1%",
				"--min-support '%s' is not a number in (0,1]", support) + 1;
	if (!p.no_rules && !conf)
		return cli_fail("mine", "add --min-confidence C, e.g. 0.8", "--min-confidence is required") + 1;
	if (conf && parse_fraction(conf, &p.min_confidence))
		return cli_fail("mine", "confidence is a fraction: 0.8 is 80%",
				"--min-confidence '%s' is not a number in (0,1]", conf) + 1;
	if (lift) {
		char *end;
		p.min_lift = strtod(lift, &end);
		if (*end || !(p.min_lift > 0) || isinf(p.min_lift))
			return cli_fail("mine", "lift is a ratio, e.g. 1.5", "--min-lift '%s' is not a positive number",
					lift) + 1;
	}
	if (maxlen) {
		char *end;
		long n = strtol(maxlen, &end, 10);
		if (*end || n < 1 || n > MINE_MAX_LEN)
			return cli_fail("mine", "a rule of 2 items is --max-len 2", "--max-len '%s' is not in 1..%d",
					maxlen, MINE_MAX_LEN) + 1;
		p.max_len = (unsigned)n;
	}
	limit = mem_available() / 10 * 9;
	if (maxmem) {
		char *end;
		long n = strtol(maxmem, &end, 10);
		if (*end || n < 1)
			return cli_fail("mine", "give megabytes, e.g. --max-memory 2048", "--max-memory '%s' is not a size",
					maxmem) + 1;
		limit = (size_t)n << 20;
	}
	if ((input && hq_db) || (co.data && (input || hq_db)))
		return cli_fail("mine", "mine one source: --input FILE, --data DIR or --hq-db CONNINFO",
				"more than one source of baskets given") + 1;
	if (!hq_db && (q.store || q.terminal || since || until))
		return cli_fail("mine", "--store, --terminal, --since and --until select sales at HQ: add --hq-db CONNINFO",
				"a selection of sales without --hq-db") + 1;
	if (since && parse_day(since, &q.since_us))
		return cli_fail("mine", "write the day as YYYY-MM-DD, e.g. 2026-11-01", "--since '%s' is not a day",
				since) + 1;
	if (until && parse_day(until, &q.until_us))
		return cli_fail("mine", "write the day as YYYY-MM-DD, e.g. 2026-11-30", "--until '%s' is not a day",
				until) + 1;
	if (until)
		q.until_us += 86400LL * 1000000;   /* the whole last day */
	if (since && until && q.since_us >= q.until_us)
		return cli_fail("mine", "--since is the first day, --until the last", "--since %s is after --until %s",
				since, until) + 1;
	/* the log only when named: never open (and create) the built-in default */
	if (!input && !hq_db && !(co.data || (co.config && *co.config && cfg.data_dir[0])))
		return cli_fail("mine", "give --input FILE (basket or FIMI), --data DIR (the purchase log) or "
				"--hq-db CONNINFO (HQ's sales)", "nothing to mine") + 1;
	ps.tty = isatty(2);
	if (mine_db_new(&db))
		return cli_fail("mine", NULL, "out of memory");
	mine_db_set_limit(db, limit);
	/* From the log or HQ, the rule set carries explore rules mined from the cards' histories too. */
	if (!input && !strcmp(out_fmt, "rules")) {
		if (mine_seq_new(&seq)) {
			cli_fail("mine", NULL, "out of memory");
			goto out;
		}
		mine_seq_set_limit(seq, limit);
	}
	if (input ? read_file(input, fmt, db, limit, &ps)
		  : hq_db ? mine_cli_read_hq(hq_db, &q, since, until, db, seq, &ps) : read_log(&cfg, db, seq, &ps))
		goto out;
	if (mine_db_txns(db) == 0) {
		cli_fail("mine", "record some sales first, or mine an export with --input", "no transactions to mine");
		goto out;
	}
	if (mine_min_count(support, mine_db_txns(db), &p.min_count)) {
		cli_fail("mine", "write the support as a decimal, e.g. 0.001", "--min-support '%s' cannot be used", support);
		goto out;
	}
	p.mem_limit = limit;
	p.progress = mine_cli_progress;
	p.progress_ctx = &ps;
	rc = mine_run(db, &p, &res, &need);
	if (rc == PM_ENOMEM) {
		cli_fail("mine", "raise --min-support or lower --max-len (fewer itemsets), or raise --max-memory",
			 "mining needs about %d MB, more than the %d MB limit", mine_cli_mb(need), mine_cli_mb(limit));
		goto out;
	}
	if (rc) {
		cli_fail("mine", NULL, "mining failed: %s", pm_strerror(rc));
		goto out;
	}
	if (ps.shown && ps.tty)
		fputc('\n', stderr);
	if (output && !(out = fopen(output, "w"))) {
		cli_fail("mine", "check the directory of --output", "cannot write '%s': %s", output, strerror(errno));
		out = stdout;
		goto out;
	}
	if (!strcmp(out_fmt, "rules") && !input) {
		rc = write_store(res, seq, &so, out, ps.quiet);
	} else if (!strcmp(out_fmt, "rules")) {
		size_t written, skipped;
		rc = mine_write_ruleset(res, out, &written, &skipped);
		if (skipped && rc == PM_OK)
			fprintf(stderr, "posmark mine: %zu of %zu rule(s) left out of the rule set: "
				"an item is not a valid GTIN\n", skipped, written + skipped);
	} else if (!strcmp(out_fmt, "itemsets")) {
		rc = mine_write_itemsets(res, out);
	} else {
		rc = mine_write_text(res, out);
	}
	if (out != stdout && fclose(out))
		rc = PM_EIO;
	out = stdout;
	if (rc) {
		cli_fail("mine", "check free space where the output goes", "cannot write the result: %s",
			 pm_strerror(rc));
		goto out;
	}
	if (!ps.quiet)
		fprintf(stderr, "posmark mine: %u transactions, %u items, min count %u, %zu frequent itemsets, %zu rules (%.2f s)\n",
			mine_db_txns(db), mine_db_items(db), p.min_count, mine_n_itemsets(res),
			mine_n_rules(res), mine_cli_now() - ps.start);
	status = 0;
out:
	if (out != stdout)
		fclose(out);
	mine_result_free(res);
	mine_db_free(db);
	mine_seq_free(seq);
	return status;
}
