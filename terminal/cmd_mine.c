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

/*
 * The command line as given. parse_args only sorts the words into fields;
 * check_mining_opts and check_source then judge them in a fixed order, so that
 * of several mistakes the same one is told first.
 */
struct mine_opts {
	const char *input, *in_fmt, *support, *conf, *lift, *maxlen, *maxmem;
	const char *output, *out_fmt;
	const char *hq_db, *since, *until;
	struct hq_selection q;        /* --store, --terminal; since/until as bounds once checked */
	struct store_opts so;         /* the store's rule set (--output-format rules without --input) */
	bool quiet;
	/* from the checks: */
	enum mine_format fmt;
	struct mine_params p;         /* min_count is set once the transactions are counted */
	size_t limit;                 /* bytes mining may hold */
};

/* Sort argv into o, defaults first. 0, or 2 (a usage error, already told). */
static int parse_args(int argc, char **argv, struct mine_opts *o)
{
	const char *v;
	int sr;

	*o = (struct mine_opts){
		.in_fmt = "basket", .out_fmt = "text",
		.q = { .since_us = INT64_MIN, .until_us = INT64_MAX },
		.so = { .seq = { .min_customers = 10, .min_lift = 2.0, .per_item = 10, .popular = 20 },
			.st = { .personal_half_life_days = 90, .personal_percent = 5, .explore_percent = 10,
				.cross_sell_percent = 10, .holdout_pct = 10, .max_repeats = 3, .explore_weight = 1.6,
				.cross_sell_weight_pct = 25 } },
		.p = { .max_len = 10 },
	};
	for (int i = 1; i < argc; i++) {
		if ((v = cli_opt_value(argc, argv, &i, "--input-format")))
			o->in_fmt = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--input")))
			o->input = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--min-support")))
			o->support = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--min-confidence")))
			o->conf = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--min-lift")))
			o->lift = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--max-len")))
			o->maxlen = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--output-format")))
			o->out_fmt = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--output")))
			o->output = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--max-memory")))
			o->maxmem = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--hq-db")))
			o->hq_db = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--store")))
			o->q.store = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--terminal")))
			o->q.terminal = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--since")))
			o->since = v;
		else if ((v = cli_opt_value(argc, argv, &i, "--until")))
			o->until = v;
		else if (!strcmp(argv[i], "--quiet"))
			o->quiet = true;
		else if ((sr = store_opt(argc, argv, &i, &o->so)) != 0) {
			if (sr < 0)
				return 2;
		} else {
			fprintf(stderr, "posmark mine: unknown or incomplete option '%s'\n", argv[i]);
			term_help_command("mine", stderr);
			return 2;
		}
	}
	return 0;
}

/*
 * The formats, thresholds and memory limit: fills o->fmt, o->p and o->limit.
 * 0, or 2 (a usage error, already told).
 */
static int check_mining_opts(struct mine_opts *o)
{
	double sdummy;   /* the support is only checked here: mine_min_count turns it into a count later */

	if (!strcmp(o->in_fmt, "basket"))
		o->fmt = MINE_BASKET;
	else if (!strcmp(o->in_fmt, "fimi"))
		o->fmt = MINE_FIMI;
	else
		return cli_fail("mine", "use --input-format basket or fimi", "unknown input format '%s'", o->in_fmt) + 1;
	if (strcmp(o->out_fmt, "text") && strcmp(o->out_fmt, "rules") && strcmp(o->out_fmt, "itemsets"))
		return cli_fail("mine", "use --output-format text, rules or itemsets",
				"unknown output format '%s'", o->out_fmt) + 1;
	o->p.no_rules = !strcmp(o->out_fmt, "itemsets");
	if (!o->support)
		return cli_fail("mine", "add --min-support S, e.g. 0.001 (a fraction of transactions)",
				"--min-support is required") + 1;
	if (parse_fraction(o->support, &sdummy))
		return cli_fail("mine", "support is a fraction of transactions: 0.001 is 0.1%",
				"--min-support '%s' is not a number in (0,1]", o->support) + 1;
	if (!o->p.no_rules && !o->conf)
		return cli_fail("mine", "add --min-confidence C, e.g. 0.8", "--min-confidence is required") + 1;
	if (o->conf && parse_fraction(o->conf, &o->p.min_confidence))
		return cli_fail("mine", "confidence is a fraction: 0.8 is 80%",
				"--min-confidence '%s' is not a number in (0,1]", o->conf) + 1;
	if (o->lift) {
		char *end;
		o->p.min_lift = strtod(o->lift, &end);
		if (*end || !(o->p.min_lift > 0) || isinf(o->p.min_lift))
			return cli_fail("mine", "lift is a ratio, e.g. 1.5", "--min-lift '%s' is not a positive number",
					o->lift) + 1;
	}
	if (o->maxlen) {
		char *end;
		long n = strtol(o->maxlen, &end, 10);
		if (*end || n < 1 || n > MINE_MAX_LEN)
			return cli_fail("mine", "a rule of 2 items is --max-len 2", "--max-len '%s' is not in 1..%d",
					o->maxlen, MINE_MAX_LEN) + 1;
		o->p.max_len = (unsigned)n;
	}
	/* default 90% of MemAvailable (docs/mining.md): a tenth stays for the rest of the machine */
	o->limit = mem_available() / 10 * 9;
	if (o->maxmem) {
		char *end;
		long n = strtol(o->maxmem, &end, 10);
		if (*end || n < 1)
			return cli_fail("mine", "give megabytes, e.g. --max-memory 2048", "--max-memory '%s' is not a size",
					o->maxmem) + 1;
		o->limit = (size_t)n << 20;
	}
	return 0;
}

/*
 * Exactly one source of baskets, and an HQ selection only with --hq-db: turns
 * --since/--until into o->q's bounds. 0, or 2 (a usage error, already told).
 */
static int check_source(struct mine_opts *o, const struct cli_common *co, const struct term_config *cfg)
{
	struct hq_selection *q = &o->q;

	if ((o->input && o->hq_db) || (co->data && (o->input || o->hq_db)))
		return cli_fail("mine", "mine one source: --input FILE, --data DIR or --hq-db CONNINFO",
				"more than one source of baskets given") + 1;
	if (!o->hq_db && (q->store || q->terminal || o->since || o->until))
		return cli_fail("mine", "--store, --terminal, --since and --until select sales at HQ: add --hq-db CONNINFO",
				"a selection of sales without --hq-db") + 1;
	if (o->since && parse_day(o->since, &q->since_us))
		return cli_fail("mine", "write the day as YYYY-MM-DD, e.g. 2026-11-01", "--since '%s' is not a day",
				o->since) + 1;
	if (o->until && parse_day(o->until, &q->until_us))
		return cli_fail("mine", "write the day as YYYY-MM-DD, e.g. 2026-11-30", "--until '%s' is not a day",
				o->until) + 1;
	if (o->until)
		q->until_us += 86400LL * 1000000;   /* the whole last day */
	if (o->since && o->until && q->since_us >= q->until_us)
		return cli_fail("mine", "--since is the first day, --until the last", "--since %s is after --until %s",
				o->since, o->until) + 1;
	/* the log only when named: never open (and create) the built-in default */
	if (!o->input && !o->hq_db && !(co->data || (co->config && *co->config && cfg->data_dir[0])))
		return cli_fail("mine", "give --input FILE (basket or FIMI), --data DIR (the purchase log) or "
				"--hq-db CONNINFO (HQ's sales)", "nothing to mine") + 1;
	return 0;
}

/* The store's rule set needs the cards' histories: only the log and HQ have cards. */
static bool wants_store_ruleset(const struct mine_opts *o)
{
	return !o->input && !strcmp(o->out_fmt, "rules");
}

/* Read the chosen source (--input FILE, --hq-db or the log) into db, and seq when not NULL. 0, or failure told. */
static int read_baskets(const struct mine_opts *o, const struct term_config *cfg, struct mine_db *db,
			struct mine_seq *seq, struct progress_state *ps)
{
	if (o->input)
		return read_file(o->input, o->fmt, db, o->limit, ps);
	if (o->hq_db)
		return mine_cli_read_hq(o->hq_db, &o->q, o->since, o->until, db, seq, ps);
	return read_log(cfg, db, seq, ps);
}

/* Frequent itemsets and rules of db into *res; sets o->p.min_count. 0, or 1 (failure told). */
static int mine_baskets(struct mine_db *db, struct mine_opts *o, struct progress_state *ps,
			struct mine_result **res)
{
	size_t need = 0;
	int rc;

	if (mine_db_txns(db) == 0) {
		cli_fail("mine", "record some sales first, or mine an export with --input", "no transactions to mine");
		return 1;
	}
	/* the support is a fraction: only now that the transactions are counted is it a count */
	if (mine_min_count(o->support, mine_db_txns(db), &o->p.min_count)) {
		cli_fail("mine", "write the support as a decimal, e.g. 0.001", "--min-support '%s' cannot be used",
			 o->support);
		return 1;
	}
	o->p.mem_limit = o->limit;
	o->p.progress = mine_cli_progress;
	o->p.progress_ctx = ps;
	rc = mine_run(db, &o->p, res, &need);
	if (rc == PM_ENOMEM) {
		cli_fail("mine", "raise --min-support or lower --max-len (fewer itemsets), or raise --max-memory",
			 "mining needs about %d MB, more than the %d MB limit", mine_cli_mb(need), mine_cli_mb(o->limit));
		return 1;
	}
	if (rc) {
		cli_fail("mine", NULL, "mining failed: %s", pm_strerror(rc));
		return 1;
	}
	return 0;
}

/* The rule set of a basket file: no cards, so the basket rules alone. */
static int write_basket_ruleset(const struct mine_result *res, FILE *out)
{
	size_t written, skipped;
	int rc = mine_write_ruleset(res, out, &written, &skipped);

	if (skipped && rc == PM_OK)
		fprintf(stderr, "posmark mine: %zu of %zu rule(s) left out of the rule set: "
			"an item is not a valid GTIN\n", skipped, written + skipped);
	return rc;
}

/* Write the result in --output-format to --output (stdout if none). 0, or 1 (failure told). */
static int write_result(const struct mine_opts *o, const struct mine_result *res, const struct mine_seq *seq)
{
	FILE *out = stdout;
	int rc;

	if (o->output && !(out = fopen(o->output, "w"))) {
		cli_fail("mine", "check the directory of --output", "cannot write '%s': %s", o->output, strerror(errno));
		return 1;
	}
	if (wants_store_ruleset(o))
		rc = write_store(res, seq, &o->so, out, o->quiet);
	else if (!strcmp(o->out_fmt, "rules"))
		rc = write_basket_ruleset(res, out);
	else if (!strcmp(o->out_fmt, "itemsets"))
		rc = mine_write_itemsets(res, out);
	else
		rc = mine_write_text(res, out);
	/* a full disk may show only when the buffered rest is flushed */
	if (out != stdout && fclose(out))
		rc = PM_EIO;
	if (rc) {
		cli_fail("mine", "check free space where the output goes", "cannot write the result: %s",
			 pm_strerror(rc));
		return 1;
	}
	return 0;
}

int cmd_mine(int argc, char **argv)
{
	struct cli_common co;
	struct term_config cfg;
	struct mine_opts o;
	struct progress_state ps = { .start = mine_cli_now() };
	struct mine_db *db = NULL;
	struct mine_result *res = NULL;
	struct mine_seq *seq = NULL;
	int rc = cli_setup(&argc, argv, &co, &cfg), status = 1;

	if (rc)
		return rc;
	if (co.help) {
		term_help_command("mine", stdout);
		return 0;
	}
	if ((rc = parse_args(argc, argv, &o)) || (rc = check_mining_opts(&o)) || (rc = check_source(&o, &co, &cfg)))
		return rc;
	ps.quiet = o.quiet;
	ps.tty = isatty(2);
	if (mine_db_new(&db))
		return cli_fail("mine", NULL, "out of memory");
	mine_db_set_limit(db, o.limit);
	/* From the log or HQ, the rule set carries explore rules mined from the cards' histories too. */
	if (wants_store_ruleset(&o)) {
		if (mine_seq_new(&seq)) {
			cli_fail("mine", NULL, "out of memory");
			goto out;
		}
		mine_seq_set_limit(seq, o.limit);
	}
	if (read_baskets(&o, &cfg, db, seq, &ps) || mine_baskets(db, &o, &ps, &res))
		goto out;
	if (ps.shown && ps.tty)
		fputc('\n', stderr);   /* end the progress line before the summary */
	if (write_result(&o, res, seq))
		goto out;
	if (!ps.quiet)
		fprintf(stderr, "posmark mine: %u transactions, %u items, min count %u, %zu frequent itemsets, %zu rules (%.2f s)\n",
			mine_db_txns(db), mine_db_items(db), o.p.min_count, mine_n_itemsets(res),
			mine_n_rules(res), mine_cli_now() - ps.start);
	status = 0;
out:
	mine_result_free(res);
	mine_db_free(db);
	mine_seq_free(seq);
	return status;
}
