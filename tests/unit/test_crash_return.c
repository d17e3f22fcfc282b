/*
 * test_crash_return.c - a till killed mid-return keeps none or all of it,
 * shown with the real binary (the pattern of test_crash.c): `posmark
 * checkout --json` runs a script of sales, returns of earlier sales
 * (#return TERMINAL:SEQ, partial and completing) and #points, is SIGKILLed
 * at random moments (CRASH_KILLS times, default 100) and restarted on the
 * same log until the script is done. Then: every record of the script is in
 * the log once; every return announced is there; for each sale the units,
 * refund and points its return records took equal the log's bookkeeping of
 * it (never more than sold); and each card's balance is exactly the sum of
 * its records' ledger entries: no return half-written, none twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SALES 600
#define MAX_REC 2000
#define NCARDS 6
#define NPROD 20

static const char *posmark_bin(void)
{
	const char *p = getenv("POSMARK");
	return (p && access(p, X_OK) == 0) ? p : NULL;
}

static void gtin_of(int i, char out[32])
{
	char g[16];
	snprintf(g, sizeof(g), "501234%06d", i % 1000000);
	int sum = 0;
	for (int k = 0; k < 12; k++)
		sum += (g[11 - k] - '0') * (k % 2 == 0 ? 3 : 1);
	snprintf(out, 32, "%.12s%d", g, (10 - sum % 10) % 10);
}

static void write_catalog(const char *path)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "gtin,name,category,price_cents\n");
	for (int i = 1; i <= NPROD; i++) {
		char g[32];
		gtin_of(i, g);
		fprintf(f, "%s,Product %d,Test,%d\n", g, i, 300 + i * 91);
	}
	fclose(f);
}

/* What the generator knows of each sale record, to write only valid returns. */
struct gen_sale {
	int prod[4], qty[4], n, left[4];
};

/* The script; returns the number of records it commits. */
static int write_script(const char *path, char cards[NCARDS][20], unsigned seed)
{
	FILE *f = fopen(path, "w");
	static struct gen_sale sales[MAX_REC];
	int rec = 0;
	memset(sales, 0, sizeof(sales));
	for (int s = 0; s < SALES; s++) {
		struct gen_sale *g = &sales[++rec];
		fprintf(f, "%s\n", cards[rand_r(&seed) % NCARDS]);
		g->n = 1 + (int)(rand_r(&seed) % 3);
		for (int i = 0; i < g->n; i++) {
			char gt[32];
			g->prod[i] = 1 + i * 6 + (int)(rand_r(&seed) % 6);    /* distinct per line */
			g->qty[i] = g->left[i] = 1 + (int)(rand_r(&seed) % 3);
			gtin_of(g->prod[i], gt);
			fprintf(f, "#qty %d\n%s\n", g->qty[i], gt);
		}
		if (rand_r(&seed) % 4 == 0)
			fprintf(f, "#points %u\n", 1 + rand_r(&seed) % 30);   /* refused when not covered: fine */
		fprintf(f, "#tender card\n");
		/* Often a return of an earlier sale with units left: part of it, or the rest. */
		if (rand_r(&seed) % 2 == 0) {
			int target = 1 + (int)(rand_r(&seed) % (unsigned)rec);
			struct gen_sale *t = &sales[target];
			if (!t->n)
				continue;
			int lines = 0;
			for (int i = 0; i < t->n; i++)
				lines += t->left[i] > 0;
			if (!lines)
				continue;
			fprintf(f, "#return store1-lane1:%d\n", target);
			for (int i = 0; i < t->n; i++) {
				if (!t->left[i] || rand_r(&seed) % 2)
					continue;
				int u = 1 + (int)(rand_r(&seed) % (unsigned)t->left[i]);
				char gt[32];
				gtin_of(t->prod[i], gt);
				fprintf(f, "#qty %d\n%s\n", u, gt);
				t->left[i] -= u;
				lines = -1;
			}
			if (lines != -1) {   /* nothing chosen: the first line with units left, all of them */
				for (int i = 0; i < t->n; i++)
					if (t->left[i]) {
						char gt[32];
						gtin_of(t->prod[i], gt);
						fprintf(f, "#qty %d\n%s\n", t->left[i], gt);
						t->left[i] = 0;
						break;
					}
			}
			fprintf(f, "#tender cash\n");
			++rec;   /* a return record: never returned itself */
		}
	}
	fclose(f);
	return rec;
}

struct announced {
	int count[MAX_REC];
	int64_t refund[MAX_REC];
	bool finished;
};

static int run_once(const char *bin, const char *dir, const char *script, long kill_after_us, struct announced *ann)
{
	int fds[2];
	char buf[65536];
	size_t have = 0;
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		close(fds[0]);
		execl(bin, bin, "checkout", "--data", dir, "--scans", script, "--json", "--printer", "text:/dev/null",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool killed = false;
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long el = (now.tv_sec - t0.tv_sec) * 1000000L + (now.tv_nsec - t0.tv_nsec) / 1000;
		if (!killed && el >= kill_after_us) {
			kill(pid, SIGKILL);
			killed = true;
		}
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		int timeout = killed ? 1000 : (int)((kill_after_us - el) / 1000) + 1;
		if (poll(&pfd, 1, timeout) <= 0)
			continue;
		ssize_t n = read(fds[0], buf + have, sizeof(buf) - have - 1);
		if (n <= 0)
			break;
		have += (size_t)n;
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			json_t *o = json_loads(line, 0, NULL);
			const char *ev = o ? json_string_value(json_object_get(o, "event")) : NULL;
			if (ev && (!strcmp(ev, "sale_committed") || !strcmp(ev, "return_committed"))) {
				json_int_t seq = json_integer_value(json_object_get(o, "sale_id"));
				assert_true(seq > 0 && seq < MAX_REC);
				ann->count[seq]++;
				ann->refund[seq] = !strcmp(ev, "return_committed")
					? json_integer_value(json_object_get(o, "refund_cents")) : -1;
			}
			/* The script writes only valid returns: none may be refused, even on a rerun. */
			if (ev && !strcmp(ev, "scan_refused")) {
				const char *r = json_string_value(json_object_get(o, "reason"));
				const char *in = json_string_value(json_object_get(o, "input"));
				if (!in || strncmp(in, "#points", 7))
					fail_msg("refused '%s': %s", in ? in : "?", r ? r : "?");
			}
			if (ev && !strcmp(ev, "checkout_done"))
				ann->finished = true;
			json_decref(o);
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		assert_int_equal(WEXITSTATUS(status), 0);
	return killed && WIFSIGNALED(status) ? 1 : 0;
}

/* Per original sale: what its return records took. */
struct taken {
	int64_t units[MAX_REC][NPROD + 1];
	int64_t refund[MAX_REC], claw[MAX_REC];
	uint64_t n;
	int returns;
	struct announced *ann;
	char ext_seen[MAX_REC];
};

static int prod_of(const char *gtin)
{
	for (int i = 1; i <= NPROD; i++) {
		char g[32], g14[16];
		gtin_of(i, g);
		snprintf(g14, sizeof(g14), "0%.13s", g);
		if (!strcmp(g14, gtin))
			return i;
	}
	return 0;
}

static int scan_record(void *ctx, const struct loy_sale *s)
{
	struct taken *t = ctx;
	t->n++;
	assert_int_equal(s->seq, t->n);                     /* dense, in order */
	const char *colon = strrchr(s->ext_id, ':');
	assert_non_null(colon);
	long ord = strtol(colon + 1, NULL, 10);
	assert_true(ord >= 1 && ord < MAX_REC);
	assert_int_equal(t->ext_seen[ord], 0);              /* each script record once */
	t->ext_seen[ord] = 1;
	if (t->ann->count[s->seq] && s->type == LOY_RETURN)
		assert_int_equal(t->ann->refund[s->seq], s->refund_cents);
	if (s->type != LOY_RETURN)
		return 0;
	t->returns++;
	assert_true(s->return_of_seq < s->seq);
	for (uint32_t i = 0; i < s->n_items; i++) {
		int p = prod_of(s->items[i].gtin);
		assert_true(p > 0);
		t->units[s->return_of_seq][p] += s->items[i].qty;
	}
	t->refund[s->return_of_seq] += s->refund_cents;
	t->claw[s->return_of_seq] += s->points_clawed_back;
	return 0;
}

static int card_sum(void *ctx, const struct loy_sale *s)
{
	int64_t *sum = ctx;
	struct loy_ledger_entry e[LOY_LEDGER_PER_SALE];
	size_t n = loy_sale_ledger(s, e);
	for (size_t i = 0; i < n; i++)
		*sum += e[i].points;
	return 0;
}

static void verify(const char *data, char cards[NCARDS][20], int expected, struct announced *ann)
{
	struct loy_db *db;
	struct taken *t = calloc(1, sizeof(*t));
	t->ann = ann;
	assert_int_equal(loy_open(data, NULL, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_sales_after(db, 0, 0, scan_record, t), PM_OK);
	assert_int_equal(t->n, (uint64_t)expected);          /* every record of the script, once */
	assert_true(t->returns > 0);
	for (int s = 1; s < MAX_REC; s++) {
		assert_true(ann->count[s] <= 1);                   /* never announced twice */
		if (ann->count[s])
			assert_true((uint64_t)s <= t->n);              /* announced => in the log */
	}
	/* The bookkeeping of each sale equals what its return records took, within what it sold. */
	for (uint64_t s = 1; s <= t->n; s++) {
		struct loy_return_basis b;
		assert_int_equal(loy_return_basis_get(db, s, &b), PM_OK);
		if (b.sale.type == LOY_SALE) {
			assert_int_equal(b.refund_cents, t->refund[s]);
			assert_int_equal(b.points_clawed_back, t->claw[s]);
			assert_true(b.refund_cents <= b.sale.total_cents);
			for (uint32_t i = 0; i < b.sale.n_items; i++) {
				int32_t sold, ret;
				loy_return_units(&b, b.sale.items[i].gtin, &sold, &ret);
				assert_int_equal(ret, t->units[s][prod_of(b.sale.items[i].gtin)]);
				assert_true(ret <= sold);
				if (ret == sold && i == b.sale.n_items - 1) {
					bool all = true;
					for (uint32_t k = 0; k < b.sale.n_items; k++) {
						int32_t s2, r2;
						loy_return_units(&b, b.sale.items[k].gtin, &s2, &r2);
						all &= r2 == s2;
					}
					if (all) {   /* a sale returned whole: exactly its total and its points */
						assert_int_equal(b.refund_cents, b.sale.total_cents);
						assert_int_equal(b.points_clawed_back, b.sale.points_earned);
					}
				}
			}
		}
		loy_return_basis_free(&b);
	}
	/* Each card's balance: exactly the sum of its records' ledger entries. */
	for (int c = 0; c < NCARDS; c++) {
		struct loy_card card;
		int64_t sum = 0;
		if (loy_card_get(db, cards[c], &card) != PM_OK)
			continue;
		assert_int_equal(loy_card_history(db, cards[c], card_sum, &sum), PM_OK);
		assert_int_equal(card.points, sum);
	}
	loy_close(db);
	free(t);
}

static int crash_round(const char *bin, const char *dir, unsigned *seed, int *runs_out, int max_kills)
{
	char data[4200], script[4200], catalog[4200], cmd[9000];
	char cards[NCARDS][20];
	struct announced *ann = calloc(1, sizeof(*ann));
	int kills = 0, runs = 0;
	for (int c = 0; c < NCARDS; c++) {
		snprintf(cards[c], sizeof(cards[c]), "603601%012d", 7000 + c * 13);
		tu_luhn_complete(cards[c]);
	}
	snprintf(data, sizeof(data), "%s/log", dir);
	snprintf(script, sizeof(script), "%s/returns.scans", dir);
	snprintf(catalog, sizeof(catalog), "%s/catalog.csv", dir);
	write_catalog(catalog);
	int expected = write_script(script, cards, *seed);
	snprintf(cmd, sizeof(cmd), "'%s' catalog import '%s' --data '%s' 2>/dev/null", bin, catalog, data);
	assert_int_equal(system(cmd), 0);
	while (!ann->finished && kills < max_kills) {
		long delay = (long)(rand_r(seed) % 60000u);
		kills += run_once(bin, data, script, delay, ann);
		runs++;
	}
	for (int i = 0; i < 20 && !ann->finished; i++, runs++)
		run_once(bin, data, script, 600000000L, ann);
	assert_true(ann->finished);
	verify(data, cards, expected, ann);
	free(ann);
	*runs_out += runs;
	return kills;
}

static void test_sigkill_mid_return(void **state)
{
	(void)state;
	const char *bin = posmark_bin();
	if (!bin)
		skip();
	const char *k = getenv("CRASH_KILLS");
	int kills_wanted = k ? atoi(k) / 2 : 100;
	unsigned seed = (unsigned)time(NULL);
	const char *seed_env = getenv("CRASH_SEED");
	if (seed_env)
		seed = (unsigned)atoi(seed_env);
	print_message("crash test (returns) seed %u (CRASH_SEED to repeat)\n", seed);
	int kills = 0, runs = 0, rounds = 0;
	if (kills_wanted < 1)
		kills_wanted = 1;
	while (kills < kills_wanted) {
		char *dir = tu_mkdtemp();
		kills += crash_round(bin, dir, &seed, &runs, kills_wanted - kills);
		rounds++;
		tu_rmdir(dir);
	}
	print_message("crash test (returns): %d SIGKILLs over %d runs in %d rounds of %d sales with returns; "
		      "every return whole or absent, bookkeeping and balances equal the records\n", kills, runs, rounds,
		      SALES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_mid_return),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
