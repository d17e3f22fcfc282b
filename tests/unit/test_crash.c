/*
 * test_crash.c - crash safety of the till, shown with the real binary:
 * start `posmark checkout --json` on a long scan script, SIGKILL it at
 * random moments (CRASH_KILLS times, default 200), restart it on the same
 * log, and check that every sale announced as committed is in the log
 * exactly once, that every sale of the script ends up committed once, and
 * that nothing half-written is visible (card aggregates match the sales).
 * The sales carry offers (a rule that fires on every sale, with a holdout
 * group; a cross-sell rule) and coupon redemptions (some coupons scanned a
 * second time, refused): every committed sale has exactly its offer events,
 * none missing, none twice, none for a sale that was not committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "offers/offers.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SALES 1500
#define MAX_SEQ 100000
#define COUPONS 100
#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
/* Product 1 in a sale without product 2: the cross-sell rule offers product 2. */
#define CROSS_IF "05012340000010"
#define CROSS_TO "05012340000027"

static const char *posmark_bin(void)
{
	const char *p = getenv("POSMARK");
	return (p && access(p, X_OK) == 0) ? p : NULL;
}

static void write_catalog(const char *path)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "gtin,name,category,price_cents\n");
	for (int i = 1; i <= 50; i++) {
		char g[32];
		snprintf(g, sizeof(g), "501234%06d", i);
		int sum = 0;
		for (int k = 0; k < 12; k++)
			sum += (g[11 - k] - '0') * (k % 2 == 0 ? 3 : 1);
		fprintf(f, "%s%d,Product %d,Test,%d\n", g, (10 - sum % 10) % 10, i, 100 + i * 7);
	}
	fclose(f);
}

static void write_rules_and_key(const char *data)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/rules.json", data);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"format\":\"posmark-rules\",\"version\":1,\"rules\":["
		"{\"id\":\"every\",\"campaign\":\"promo\",\"kind\":\"promotion\",\"holdout_pct\":30,"
		"\"offer\":{\"category\":\"Test\",\"percent_off\":5}},"
		"{\"id\":\"cross\",\"campaign\":\"cross\",\"kind\":\"cross_sell\","
		"\"when\":{\"basket\":{\"all\":[{\"item\":\"%s\"}]}},"
		"\"offer\":{\"item\":\"%s\",\"percent_off\":10}}]}\n", CROSS_IF, CROSS_TO);
	fclose(f);
	snprintf(path, sizeof(path), "%s/coupon.key", data);
	f = fopen(path, "w");
	fputs(KEY_HEX, f);
	fclose(f);
}

/* Basket coupons (50 cents off, any card) as the engine prints them. */
static void mint_coupons(char codes[COUPONS][64])
{
	struct ofr_coupon_key key;
	ofr_coupon_key_from_text(KEY_HEX, &key);
	for (int i = 0; i < COUPONS; i++) {
		struct ofr_coupon c = { .version = 1, .benefit = OFR_AMOUNT_BASKET, .value = 50,
					.campaign_tag = ofr_campaign_tag("promo"),
					.expiry_day = (int32_t)(time(NULL) / 86400 + 365), .serial = (uint32_t)(900000 + i) };
		assert_int_equal(ofr_coupon_encode(&key, "PM", &c, codes[i], 64), PM_OK);
	}
}

static void write_script(const char *path, char cards[8][20], char codes[COUPONS][64])
{
	FILE *f = fopen(path, "w");
	unsigned seed = 42;
	for (int s = 0; s < SALES; s++) {
		int n = 1 + (int)(rand_r(&seed) % 8);
		if (rand_r(&seed) % 3)
			fprintf(f, "%s\n", cards[rand_r(&seed) % 8]);
		/* A coupon on every 15th sale, scanned again (refused) 7 sales later. */
		if (s % 15 == 0 && s / 15 < COUPONS)
			fprintf(f, "%s\n", codes[s / 15]);
		if (s % 15 == 7 && s / 15 < COUPONS)
			fprintf(f, "%s\n", codes[s / 15]);
		for (int i = 0; i < n; i++) {
			int p = 1 + (int)(rand_r(&seed) % 50);
			char g[32];
			snprintf(g, sizeof(g), "501234%06d", p);
			int sum = 0;
			for (int k = 0; k < 12; k++)
				sum += (g[11 - k] - '0') * (k % 2 == 0 ? 3 : 1);
			if (rand_r(&seed) % 10 == 0)
				fprintf(f, "#qty 2\n");
			fprintf(f, "%s%d\n", g, (10 - sum % 10) % 10);
		}
		fprintf(f, "#tender card\n");
	}
	fclose(f);
}

struct announced {
	int64_t total[MAX_SEQ];
	int count[MAX_SEQ];          /* announcements per seq across runs */
};

/* Run checkout until it exits or the kill deadline passes; parse every full line. */
static int run_once(const char *bin, const char *dir, const char *script, long kill_after_us,
		    struct announced *ann, int *finished)
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
		execl(bin, bin, "checkout", "--data", dir, "--scans", script, "--json", "--printer",
		      "text:/dev/null", (char *)NULL);
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
			if (ev && !strcmp(ev, "sale_committed")) {
				json_int_t seq = json_integer_value(json_object_get(o, "sale_id"));
				assert_true(seq > 0 && seq < MAX_SEQ);
				ann->count[seq]++;
				ann->total[seq] = json_integer_value(json_object_get(o, "total_cents"));
			}
			if (ev && !strcmp(ev, "checkout_done"))
				*finished = 1;
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

struct verify {
	struct announced *ann;
	uint64_t n;
	int64_t per_card_spend[8];
	uint64_t per_card_visits[8];
	char (*cards)[20];
	char ext_seen[SALES + 1];
	bool cross_expected[MAX_SEQ];
	int n_redeemed[MAX_SEQ];
	uint64_t total_redeemed;
};

/* Offer events per committed sale, from the outbox (wire's codec). */
struct offer_counts {
	uint64_t max_sale;
	int every[MAX_SEQ], cross[MAX_SEQ], redeemed[MAX_SEQ];
	int held, issued;
};

static int count_offer_event(void *ctx, const struct loy_event *ev)
{
	struct offer_counts *c = ctx;
	struct wire_offer_event e;
	char err[160];
	if (ev->type < LOY_EV_OFFER_ISSUED)
		return 0;
	assert_int_equal(wire_offer_decode(ev->payload, ev->payload_len, &e, err, sizeof(err)), PM_OK);
	assert_true(e.sale >= 1 && e.sale <= c->max_sale);   /* never for an uncommitted sale */
	if (ev->type == LOY_EV_OFFER_REDEEMED) {
		c->redeemed[e.sale]++;
		return 0;
	}
	c->held += ev->type == LOY_EV_OFFER_HELD_BACK;
	c->issued += ev->type == LOY_EV_OFFER_ISSUED;
	if (!strcmp(e.rule, "every"))
		c->every[e.sale]++;
	else if (!strcmp(e.rule, "cross"))
		c->cross[e.sale]++;
	else
		fail_msg("offer event of an unknown rule '%s'", e.rule);
	return 0;
}

static void check_offer_events(struct loy_db *db, const struct verify *v)
{
	struct offer_counts *c = calloc(1, sizeof(*c));
	c->max_sale = v->n;
	assert_int_equal(loy_events_after(db, 0, 0, count_offer_event, c), PM_OK);
	for (uint64_t s = 1; s <= v->n; s++) {
		assert_int_equal(c->every[s], 1);                        /* fires on every sale, once */
		assert_int_equal(c->cross[s], v->cross_expected[s] ? 1 : 0);
		assert_int_equal(c->redeemed[s], v->n_redeemed[s]);     /* each redemption once */
	}
	assert_true(c->held > 0 && c->issued > 0);                   /* both kinds were exercised */
	free(c);
}

static int verify_sale(void *ctx, const struct loy_sale *s)
{
	struct verify *v = ctx;
	int64_t sum = 0;
	v->n++;
	assert_int_equal(s->seq, v->n);                  /* dense, in order */
	for (uint32_t i = 0; i < s->n_items; i++)
		sum += s->items[i].line_cents;
	assert_int_equal(sum - s->discount_cents, s->total_cents);   /* a whole sale, not a part */
	bool has_if = false, has_to = false;
	for (uint32_t i = 0; i < s->n_items; i++) {
		has_if |= !strcmp(s->items[i].gtin, CROSS_IF);
		has_to |= !strcmp(s->items[i].gtin, CROSS_TO);
	}
	assert_true(s->seq < MAX_SEQ);
	v->cross_expected[s->seq] = has_if && !has_to;
	v->n_redeemed[s->seq] = (int)s->n_redeemed;
	v->total_redeemed += s->n_redeemed;
	const char *colon = strrchr(s->ext_id, ':');
	assert_non_null(colon);
	long ord = strtol(colon + 1, NULL, 10);
	assert_true(ord >= 1 && ord <= SALES);
	assert_int_equal(v->ext_seen[ord], 0);           /* each script sale once */
	v->ext_seen[ord] = 1;
	if (v->ann->count[s->seq])
		assert_int_equal(v->ann->total[s->seq], s->total_cents);
	for (int c = 0; c < 8; c++)
		if (!strcmp(s->card, v->cards[c])) {
			v->per_card_spend[c] += s->total_cents;
			v->per_card_visits[c]++;
		}
	return 0;
}

/* One round: a fresh log, kills until the script completes, then the checks. */
static int crash_round(const char *bin, const char *dir, unsigned *seed, int *runs_out)
{
	char data[4200], script[4200], catalog[4200], cmd[9000];
	char cards[8][20];
	char (*codes)[64] = calloc(COUPONS, 64);
	struct announced *ann = calloc(1, sizeof(*ann));
	int kills = 0, runs = 0, finished = 0;
	for (int c = 0; c < 8; c++) {
		snprintf(cards[c], sizeof(cards[c]), "603601%012d", 5000 + c * 11);
		tu_luhn_complete(cards[c]);
	}
	snprintf(data, sizeof(data), "%s/log", dir);
	snprintf(script, sizeof(script), "%s/long.scans", dir);
	snprintf(catalog, sizeof(catalog), "%s/catalog.csv", dir);
	write_catalog(catalog);
	mint_coupons(codes);
	write_script(script, cards, codes);
	snprintf(cmd, sizeof(cmd), "'%s' catalog import '%s' --data '%s' 2>/dev/null", bin, catalog, data);
	assert_int_equal(system(cmd), 0);
	write_rules_and_key(data);
	/* Kill moments spread from process start-up to deep into the run. */
	while (!finished && kills < 400) {
		long delay = (long)(rand_r(seed) % 40000u);
		kills += run_once(bin, data, script, delay, ann, &finished);
		runs++;
	}
	for (int i = 0; i < 50 && !finished; i++, runs++)
		run_once(bin, data, script, 600000000L, ann, &finished);
	assert_true(finished);

	struct loy_db *db;
	struct verify *v = calloc(1, sizeof(*v));
	v->ann = ann;
	v->cards = cards;
	assert_int_equal(loy_open(data, NULL, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_sales_after(db, 0, 0, verify_sale, v), PM_OK);
	assert_int_equal(v->n, SALES);                   /* every sale of the script, once */
	for (int s = 1; s < MAX_SEQ; s++) {
		assert_true(ann->count[s] <= 1);             /* never announced twice */
		if (ann->count[s])
			assert_true((uint64_t)s <= v->n);        /* announced => in the log */
	}
	for (int c = 0; c < 8; c++) {
		struct loy_card card;
		if (v->per_card_visits[c] == 0)
			continue;
		assert_int_equal(loy_card_get(db, cards[c], &card), PM_OK);
		assert_int_equal(card.visits, v->per_card_visits[c]);
		assert_int_equal(card.spend_cents, v->per_card_spend[c]);
	}
	assert_int_equal(v->total_redeemed, COUPONS);   /* each coupon once; its second scan refused */
	check_offer_events(db, v);
	loy_close(db);
	free(codes);
	free(v);
	free(ann);
	*runs_out += runs;
	return kills;
}

static void test_sigkill_at_random_moments(void **state)
{
	(void)state;
	const char *bin = posmark_bin();
	if (!bin)
		skip();
	const char *k = getenv("CRASH_KILLS");
	int kills_wanted = k ? atoi(k) : 200;
	unsigned seed = (unsigned)time(NULL);
	const char *seed_env = getenv("CRASH_SEED");
	if (seed_env)
		seed = (unsigned)atoi(seed_env);
	print_message("crash test seed %u (CRASH_SEED to repeat)\n", seed);
	int kills = 0, runs = 0, rounds = 0;
	while (kills < kills_wanted) {
		char *dir = tu_mkdtemp();
		kills += crash_round(bin, dir, &seed, &runs);
		rounds++;
		tu_rmdir(dir);
	}
	print_message("crash test: %d SIGKILLs over %d runs in %d rounds of %d sales; "
		      "every announced sale found once, none duplicated or torn, each with exactly its offer events\n", kills, runs, rounds, SALES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_at_random_moments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
