/*
 * test_daemon.c - the local API through the real socket of a real
 * `posmark daemon`: concurrent POS clients on 8 lanes (group commit), a
 * client sending garbage, one leaving mid-message, SIGKILL mid-sale and
 * SIGTERM with an open sale; two lanes spending one card's points, and a
 * return kept open over a restart (docs/accounts.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"

#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fx {
	char *dir;
	char data[4200], sock[200];
	pid_t pid;
};

static const char *bin(void)
{
	const char *p = getenv("POSMARK");
	return (p && access(p, X_OK) == 0) ? p : NULL;
}

static int connect_sock(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; i < 200; i++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		usleep(10000);
	}
	close(fd);
	return -1;
}

static void start_daemon(struct fx *f)
{
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		if (!getenv("TEST_DAEMON_STDERR"))
			freopen("/dev/null", "w", stderr);
		execl(bin(), bin(), "daemon", "--data", f->data, "--socket", f->sock, (char *)NULL);
		_exit(127);
	}
	int fd = connect_sock(f->sock);
	assert_true(fd >= 0);
	close(fd);
}

static void stop_daemon(struct fx *f, int sig)
{
	int status;
	kill(f->pid, sig);
	waitpid(f->pid, &status, 0);
	if (sig == SIGTERM)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int setup(void **state)
{
	if (!bin())
		return -1;
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_mkdtemp();
	snprintf(f->data, sizeof(f->data), "%s/log", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/pm.sock", f->dir);
	start_daemon(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->pid > 0)
		stop_daemon(f, SIGKILL);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

/* Send one request, read one reply line. */
static json_t *call(int fd, const char *fmt, ...)
{
	char req[2048], buf[65536];
	size_t have = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req, sizeof(req) - 1, fmt, ap);
	va_end(ap);
	strcat(req, "\n");
	if (write(fd, req, strlen(req)) < 0)
		return NULL;
	while (have < sizeof(buf) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			return NULL;
		ssize_t n = read(fd, buf + have, 1);
		if (n <= 0)
			return NULL;
		if (buf[have] == '\n')
			break;
		have++;
	}
	buf[have] = '\0';
	return json_loads(buf, 0, NULL);
}

static bool is_ok(json_t *r)
{
	return r && json_is_true(json_object_get(r, "ok"));
}

struct lane_arg {
	const char *sock;
	int lane;
	int sales;
	int ok;
};

static void *pos_client(void *p)
{
	struct lane_arg *a = p;
	int fd = connect_sock(a->sock);
	for (int s = 0; s < a->sales; s++) {
		json_t *r = call(fd, "{\"op\":\"sale_open\",\"lane\":\"L%d\",\"pos_sale_id\":\"L%d-%d\"}", a->lane, a->lane, s);
		bool good = is_ok(r);
		json_decref(r);
		for (int i = 0; i < 3 && good; i++) {
			r = call(fd, "{\"op\":\"line_add\",\"lane\":\"L%d\",\"gtin\":\"4006381333931\",\"price_cents\":%d}",
				 a->lane, 100 + i);
			good = is_ok(r);
			json_decref(r);
		}
		r = call(fd, "{\"id\":%d,\"op\":\"tender\",\"lane\":\"L%d\",\"kind\":\"card\"}", s, a->lane);
		if (good && is_ok(r) && json_integer_value(json_object_get(r, "total_cents")) == 303 &&
		    json_integer_value(json_object_get(r, "id")) == s)
			a->ok++;
		json_decref(r);
	}
	close(fd);
	return NULL;
}

/* Eight POS clients, one lane each, `sales` sales each; every tender acknowledged. */
static void run_pos_lanes(const char *sock, int sales)
{
	pthread_t th[8];
	struct lane_arg a[8];
	for (int i = 0; i < 8; i++) {
		a[i] = (struct lane_arg){ sock, i, sales, 0 };
		pthread_create(&th[i], NULL, pos_client, &a[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].ok, sales);
	}
}

static void test_concurrent_lanes(void **state)
{
	struct fx *f = *state;
	run_pos_lanes(f->sock, 25);
	int fd = connect_sock(f->sock);
	json_t *r = call(fd, "{\"op\":\"status\"}");
	assert_true(is_ok(r));
	json_t *c = json_object_get(r, "commits");
	assert_int_equal(json_integer_value(json_object_get(c, "sales")), 200);
	/* Sales that arrived together shared a commit. */
	print_message("200 sales in %lld group commits\n", (long long)json_integer_value(json_object_get(c, "groups")));
	assert_true(json_integer_value(json_object_get(c, "groups")) < 200);
	json_decref(r);
	close(fd);
	stop_daemon(f, SIGTERM);
	f->pid = 0;
	struct loy_db *db;
	struct loy_stats st;
	assert_int_equal(loy_open(f->data, NULL, &db, NULL, 0), PM_OK);
	loy_stats(db, &st);
	assert_int_equal(st.sales, 200);
	loy_close(db);
}

/* A lane that keeps selling until the daemon dies under it; it notes every sale acknowledged. */
struct acked_arg {
	const char *sock;
	int lane;
	int acked[4000];
	int n_acked;
};

static void *acking_client(void *p)
{
	struct acked_arg *a = p;
	int fd = connect_sock(a->sock);
	for (int s = 0; s < 4000; s++) {
		json_t *r = call(fd, "{\"op\":\"sale_open\",\"lane\":\"K%d\",\"pos_sale_id\":\"K%d-%d\"}", a->lane,
				 a->lane, s);
		bool alive = r != NULL;
		json_decref(r);
		if (alive) {
			r = call(fd, "{\"op\":\"line_add\",\"lane\":\"K%d\",\"gtin\":\"4006381333931\",\"price_cents\":%d}",
				 a->lane, 100 + s % 50);
			alive = r != NULL;
			json_decref(r);
		}
		if (alive) {
			r = call(fd, "{\"op\":\"tender\",\"lane\":\"K%d\",\"kind\":\"card\"}", a->lane);
			alive = r != NULL;
			if (is_ok(r) && !strcmp(json_string_value(json_object_get(r, "event")) ?: "", "sale_committed"))
				a->acked[a->n_acked++] = s;
			json_decref(r);
		}
		if (!alive)
			break;
	}
	close(fd);
	return NULL;
}

/*
 * SIGKILL while eight lanes sell flat out (groups in flight, one held for its
 * sync): every sale the daemon acknowledged is in the log exactly once, with
 * its amount, and the restarted daemon takes sales again.
 */
static void test_kill_under_load(void **state)
{
	struct fx *f = *state;
	pthread_t th[8];
	struct acked_arg *a = calloc(8, sizeof(*a));
	for (int i = 0; i < 8; i++) {
		a[i].sock = f->sock;
		a[i].lane = i;
		pthread_create(&th[i], NULL, acking_client, &a[i]);
	}
	usleep(400000);
	stop_daemon(f, SIGKILL);
	int acked = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		acked += a[i].n_acked;
	}
	print_message("%d sales acknowledged before the SIGKILL\n", acked);
	assert_true(acked > 0);
	struct loy_db *db;
	struct loy_stats st;
	assert_int_equal(loy_open(f->data, NULL, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_true(st.sales >= (uint64_t)acked);      /* the unanswered ones may be there too */
	assert_int_equal(st.sales, st.last_sale_seq);   /* dense: nothing torn */
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < a[i].n_acked; k++) {
			char ext[32];
			uint64_t seq = 0;
			snprintf(ext, sizeof(ext), "pos:K%d-%d", i, a[i].acked[k]);   /* the till prefixes POS ids */
			assert_int_equal(loy_sale_find_ext(db, ext, &seq), PM_OK);
			assert_true(seq > 0);
		}
	loy_close(db);
	free(a);
	start_daemon(f);
	int fd = connect_sock(f->sock);
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"A\",\"pos_sale_id\":\"after\"}"));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"A\",\"gtin\":\"4006381333931\",\"price_cents\":5}"));
	json_t *r = call(fd, "{\"op\":\"tender\",\"lane\":\"A\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(r, "sale_id")), (json_int_t)st.sales + 1);
	json_decref(r);
	close(fd);
}

/* A daemon with a config file and a standalone till (scanner, printer). */
static void start_till_daemon(struct fx *f, const char *conf, const char *scanner, const char *printer)
{
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		if (!getenv("TEST_DAEMON_STDERR"))
			freopen("/dev/null", "w", stderr);
		execl(bin(), bin(), "daemon", "--config", conf, "--socket", f->sock, "--scanner", scanner,
		      "--printer", printer, (char *)NULL);
		_exit(127);
	}
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/*
 * The standalone till (a scanner) beside the POS API: its lane shares the
 * daemon's offers engine, so a SIGHUP that reloads the rule set and the
 * stop that follows free that rule set once (ASan checks).
 */
static void test_standalone_till_reload(void **state)
{
	struct fx *f = *state;
	char conf[4300], rules[4300], scans[4300], receipts[4300];
	stop_daemon(f, SIGTERM);
	snprintf(conf, sizeof(conf), "%s/posmark.conf", f->dir);
	snprintf(rules, sizeof(rules), "%s/rules.json", f->data);
	snprintf(scans, sizeof(scans), "%s/day.scans", f->dir);
	snprintf(receipts, sizeof(receipts), "%s/receipts.txt", f->dir);
	char text[9000];
	snprintf(text, sizeof(text), "[store]\ndata = %s\n", f->data);
	write_text(conf, text);
	write_text(rules, "{\"format\":\"posmark-rules\",\"version\":1,\"rules\":[{\"id\":\"r1\",\"kind\":\"cross_sell\","
			  "\"when\":{\"basket\":{\"all\":[{\"item\":\"4006381333931\"}]}},"
			  "\"offer\":{\"item\":\"4000000000006\",\"percent_off\":10}}]}\n");
	write_text(scans, "#tender cash\n");
	char scanner[4400], printer[4400];
	snprintf(scanner, sizeof(scanner), "script:%s", scans);
	snprintf(printer, sizeof(printer), "text:%s", receipts);
	start_till_daemon(f, conf, scanner, printer);
	int fd = connect_sock(f->sock);
	assert_true(fd >= 0);
	json_t *r = call(fd, "{\"op\":\"status\"}");
	assert_true(is_ok(r));
	assert_true(json_integer_value(json_object_get(json_object_get(r, "lanes"), "known")) >= 1);   /* "till" */
	json_decref(r);
	kill(f->pid, SIGHUP);
	usleep(200000);
	r = call(fd, "{\"op\":\"echo\"}");
	assert_true(is_ok(r));
	json_decref(r);
	close(fd);
	stop_daemon(f, SIGTERM);   /* asserts a clean exit */
	f->pid = 0;
}

static void test_garbage_and_half_messages(void **state)
{
	struct fx *f = *state;
	int fd = connect_sock(f->sock);
	json_t *r = call(fd, "this is not json");
	assert_false(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "error")), "PM_EPROTO");
	json_decref(r);
	r = call(fd, "{\"op\":\"warp\"}");
	assert_false(is_ok(r));
	json_decref(r);
	r = call(fd, "{\"op\":\"line_add\",\"lane\":\"X\",\"gtin\":\"4006381333932\",\"price_cents\":1}");
	assert_false(is_ok(r));     /* no open sale */
	json_decref(r);
	r = call(fd, "{\"op\":\"sale_open\",\"lane\":\"X\"}");
	json_decref(r);
	r = call(fd, "{\"op\":\"line_add\",\"lane\":\"X\",\"gtin\":\"4006381333932\",\"price_cents\":1}");
	assert_false(is_ok(r));     /* bad check digit */
	assert_string_equal(json_string_value(json_object_get(r, "error")), "PM_ECHECK");
	json_decref(r);
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"X\",\"kind\":\"cash\"}");
	assert_false(is_ok(r));     /* tender without items */
	json_decref(r);
	/* A client that leaves mid-message. */
	int fd2 = connect_sock(f->sock);
	assert_true(write(fd2, "{\"op\":\"sale_open\",\"la", 21) == 21);
	close(fd2);
	/* Binary garbage. */
	int fd3 = connect_sock(f->sock);
	unsigned char junk[3000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	junk[sizeof(junk) - 1] = '\n';
	assert_true(write(fd3, junk, sizeof(junk)) > 0);
	close(fd3);
	/* The daemon still serves. */
	r = call(fd, "{\"op\":\"echo\",\"id\":\"still here\"}");
	assert_true(is_ok(r));
	json_decref(r);
	close(fd);
}

static void test_kill_and_restart(void **state)
{
	struct fx *f = *state;
	int fd = connect_sock(f->sock);
	json_t *r;
	/* One committed sale, one open sale. */
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"1\",\"pos_sale_id\":\"S1\"}"));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"1\",\"gtin\":\"4006381333931\",\"price_cents\":500}"));
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	json_int_t seq = json_integer_value(json_object_get(r, "sale_id"));
	json_decref(r);
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"1\",\"pos_sale_id\":\"S2\"}"));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"1\",\"gtin\":\"4006381333931\",\"price_cents\":700}"));
	close(fd);
	/* SIGKILL: the committed sale stays; the open one is dropped (documented). */
	stop_daemon(f, SIGKILL);
	start_daemon(f);
	fd = connect_sock(f->sock);
	r = call(fd, "{\"op\":\"sale_status\",\"pos_sale_id\":\"S1\"}");
	assert_true(json_is_true(json_object_get(r, "committed")));
	assert_int_equal(json_integer_value(json_object_get(r, "sale_id")), seq);
	json_decref(r);
	/* The POS resends S1's tender after a lost reply: it is not committed twice. */
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"1\",\"pos_sale_id\":\"S1\"}"));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"1\",\"gtin\":\"4006381333931\",\"price_cents\":500}"));
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "event")), "sale_already_committed");
	json_decref(r);
	/* SIGTERM with an open sale: it is kept and resumed. */
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"2\",\"pos_sale_id\":\"S3\"}"));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"2\",\"gtin\":\"4006381333931\",\"price_cents\":900,\"qty\":2}"));
	close(fd);
	stop_daemon(f, SIGTERM);
	start_daemon(f);
	fd = connect_sock(f->sock);
	r = call(fd, "{\"op\":\"sale_open\",\"lane\":\"2\",\"pos_sale_id\":\"S3\"}");
	assert_true(json_is_true(json_object_get(r, "resumed")));
	assert_int_equal(json_integer_value(json_object_get(r, "subtotal_cents")), 1800);
	json_decref(r);
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"2\",\"kind\":\"card\"}");
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(r, "total_cents")), 1800);
	json_decref(r);
	close(fd);
	stop_daemon(f, SIGTERM);
	f->pid = 0;
	struct loy_db *db;
	struct loy_stats st;
	assert_int_equal(loy_open(f->data, NULL, &db, NULL, 0), PM_OK);
	loy_stats(db, &st);
	assert_int_equal(st.sales, 2);    /* S1 once, S3; S2 was dropped by the SIGKILL */
	loy_close(db);
}

/*
 * Map growth under load: a 64 KiB first map, so it doubles many times while
 * eight POS lanes (the commit thread) and the standalone till (the event
 * loop) write at once. Every acknowledged sale is in the log exactly once.
 */
static void test_growth_under_busy_lanes(void **state)
{
	struct fx *f = *state;
	char conf[4300], scans[4300], catalog[4300], cmd[9000], text[9000];
	stop_daemon(f, SIGTERM);
	snprintf(conf, sizeof(conf), "%s/posmark.conf", f->dir);
	snprintf(scans, sizeof(scans), "%s/day.scans", f->dir);
	snprintf(catalog, sizeof(catalog), "%s/catalog.csv", f->dir);
	snprintf(text, sizeof(text), "[store]\ndata = %s\n[loyalty]\nmap_size_kb = 64\n", f->data);
	write_text(conf, text);
	write_text(catalog, "gtin,name,category,price_cents\n4006381333931,Pen,Office,150\n");
	snprintf(cmd, sizeof(cmd), "'%s' catalog import '%s' --data '%s' >/dev/null 2>&1", bin(), catalog, f->data);
	assert_int_equal(system(cmd), 0);
	FILE *sf = fopen(scans, "w");
	for (int s = 0; s < 600; s++) {
		for (int i = 0; i < 20; i++)
			fputs("4006381333931\n", sf);
		fputs("#tender cash\n", sf);
	}
	fclose(sf);
	char scanner[4400];
	snprintf(scanner, sizeof(scanner), "script:%s", scans);
	start_till_daemon(f, conf, scanner, "text:/dev/null");
	run_pos_lanes(f->sock, 60);
	/* Let the standalone till finish its script. */
	int fd = connect_sock(f->sock);
	int64_t map = 0;
	for (int i = 0; i < 500; i++) {
		json_t *r = call(fd, "{\"op\":\"status\"}");
		assert_true(is_ok(r));
		json_t *log = json_object_get(r, "log");
		json_int_t sales = json_integer_value(json_object_get(log, "sales"));
		map = json_integer_value(json_object_get(log, "map_bytes"));
		json_decref(r);
		if (sales == 8 * 60 + 600)
			break;
		usleep(20000);
	}
	close(fd);
	stop_daemon(f, SIGTERM);
	f->pid = 0;
	print_message("1080 sales from 9 writers: the map grew from 64 KiB to %lld KiB\n", (long long)map / 1024);
	assert_true(map >= 64 * 1024 * 8);    /* doubled three times or more */
	struct loy_db *db;
	struct loy_stats st;
	assert_int_equal(loy_open(f->data, NULL, &db, NULL, 0), PM_OK);
	assert_int_equal(loy_stats(db, &st), PM_OK);
	assert_int_equal(st.sales, 8 * 60 + 600);
	assert_int_equal(st.last_sale_seq, st.sales);   /* dense: nothing torn, nothing twice */
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 60; k++) {
			char ext[32];
			uint64_t seq = 0;
			snprintf(ext, sizeof(ext), "pos:L%d-%d", i, k);
			assert_int_equal(loy_sale_find_ext(db, ext, &seq), PM_OK);
			assert_true(seq > 0);
		}
	loy_close(db);
}

/* Read reply lines until EOF or `ms` of silence; returns how many, the first in *first. */
static int read_lines(int fd, int ms, json_t **first)
{
	static char buf[1 << 20];
	size_t have = 0;
	int lines = 0;
	*first = NULL;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, ms) <= 0)
			break;
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	for (char *s = buf, *nl; (nl = strchr(s, '\n')); s = nl + 1) {
		if (lines++ == 0)
			*first = json_loadb(s, (size_t)(nl - s), 0, NULL);
	}
	return lines;
}

/*
 * Issue 15 item 6: a request line over 64 KiB gets one error reply and none
 * of it runs (its tail was run as a request: a smuggled sale_cancel).
 */
static void test_long_line_runs_nothing(void **state)
{
	struct fx *f = *state;
	int pos = connect_sock(f->sock);
	json_t *r = call(pos, "{\"op\":\"sale_open\",\"lane\":\"P\",\"pos_sale_id\":\"P-1\"}");
	assert_true(is_ok(r));
	json_decref(r);
	json_decref(call(pos, "{\"op\":\"line_add\",\"lane\":\"P\",\"gtin\":\"4006381333931\",\"price_cents\":5}"));
	int evil = connect_sock(f->sock);
	size_t pad = 70 * 1024;
	const char *tail = "{\"op\":\"sale_cancel\",\"lane\":\"P\"}\n";
	char *line = malloc(pad + strlen(tail) + 1);
	memset(line, ' ', pad);
	strcpy(line + pad, tail);
	size_t off = 0, len = strlen(line);
	while (off < len) {
		ssize_t n = send(evil, line + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;   /* the daemon may close after its error reply */
		off += (size_t)n;
	}
	free(line);
	json_t *first;
	int lines = read_lines(evil, 1000, &first);
	assert_int_equal(lines, 1);
	assert_non_null(first);
	assert_false(is_ok(first));
	assert_string_equal(json_string_value(json_object_get(first, "error")), "PM_EINVAL");
	assert_non_null(json_string_value(json_object_get(first, "hint")));
	json_decref(first);
	/* The connection stays usable from the next line on. */
	r = call(evil, "{\"op\":\"echo\",\"id\":\"after\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "id")), "after");
	json_decref(r);
	close(evil);
	r = call(pos, "{\"op\":\"status\"}");
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "lanes"), "open")), 1);
	json_decref(r);
	r = call(pos, "{\"op\":\"tender\",\"lane\":\"P\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));   /* the sale was still open */
	json_decref(r);
	close(pos);
}

/* A daemon on a config file (no devices). */
static void start_conf_daemon(struct fx *f, const char *extra)
{
	char conf[4300], text[9000];
	stop_daemon(f, SIGTERM);
	snprintf(conf, sizeof(conf), "%s/posmark.conf", f->dir);
	snprintf(text, sizeof(text), "[store]\ndata = %s\n%s", f->data, extra);
	write_text(conf, text);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		if (!getenv("TEST_DAEMON_STDERR"))
			freopen("/dev/null", "w", stderr);
		execl(bin(), bin(), "daemon", "--config", conf, "--socket", f->sock, (char *)NULL);
		_exit(127);
	}
	int fd = connect_sock(f->sock);
	assert_true(fd >= 0);
	close(fd);
}

/*
 * Issue 15 item 6: idle connections time out, and with every slot taken by
 * idle clients a new POS client is still served (the longest idle goes).
 */
static void test_idle_clients(void **state)
{
	struct fx *f = *state;
	start_conf_daemon(f, "[daemon]\nidle_timeout_s = 2\n");
	int idle[64];
	for (int i = 0; i < 64; i++) {
		idle[i] = connect_sock(f->sock);
		assert_true(idle[i] >= 0);
	}
	usleep(200000);
	int fd = connect_sock(f->sock);
	json_t *r = call(fd, "{\"op\":\"echo\",\"id\":\"new\"}");
	assert_true(is_ok(r));
	json_decref(r);
	/* Idle for longer than idle_timeout_s: closed (EOF, after at most a goodbye line). */
	char buf[512];
	struct pollfd p = { idle[63], POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 5000), 1);
	ssize_t n;
	while ((n = read(idle[63], buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, 0);
	for (int i = 0; i < 64; i++)
		close(idle[i]);
	close(fd);
}

static long vm_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(fp);
	return kb;
}

/*
 * Issue 15 item 6: a client that sends requests and never reads its replies
 * is cut off at a bounded output buffer; the daemon's memory stays bounded
 * and other clients are served.
 */
static void test_unread_replies_bounded(void **state)
{
	struct fx *f = *state;
	int other = connect_sock(f->sock);
	json_t *r = call(other, "{\"op\":\"echo\"}");
	assert_true(is_ok(r));
	json_decref(r);
	long before = vm_rss_kb(f->pid);
	int greedy = connect_sock(f->sock);
	char req[1100];
	int k = snprintf(req, sizeof(req), "{\"op\":\"echo\",\"id\":\"");
	memset(req + k, 'x', 1000);
	strcpy(req + k + 1000, "\"}\n");
	size_t len = strlen(req);
	size_t sent = 0;
	for (int i = 0; i < 40000; i++) {   /* 40 MB of replies nobody reads */
		ssize_t n = send(greedy, req, len, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	usleep(300000);
	r = call(other, "{\"op\":\"echo\",\"id\":\"other\"}");
	assert_true(is_ok(r));
	json_decref(r);
	long after = vm_rss_kb(f->pid);
	print_message("%zu KiB of requests never read: daemon VmRSS %ld KiB -> %ld KiB\n", sent / 1024, before, after);
	assert_true(before > 0 && after > 0);
	assert_true(after - before < 16 * 1024);
	close(greedy);
	close(other);
}

/*
 * Two lanes, one card: each lane's points_spend passes against the balance it
 * reads, but the commit checks again inside its transaction, so the second
 * tender is refused (the sale stays open, without the points). Then a return
 * opened on a lane survives SIGTERM and commits after the restart.
 */
static void test_points_two_lanes_and_return(void **state)
{
	struct fx *f = *state;
	int fd = connect_sock(f->sock);
	const char *card = "6036010000001000005";
	json_t *r;
	/* 90.00: 90 points. The offline allowance (1000) is not what limits here. */
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"A\",\"pos_sale_id\":\"E1\"}"));
	json_decref(call(fd, "{\"op\":\"card\",\"lane\":\"A\",\"card\":\"%s\"}", card));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"A\",\"gtin\":\"4006381333931\",\"price_cents\":3000,\"qty\":3}"));
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"A\",\"kind\":\"card\"}");
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(r, "points_balance")), 90);
	json_t *earn_ref = json_incref(json_object_get(r, "sale_ref"));
	json_decref(r);
	for (int l = 0; l < 2; l++) {
		json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"%c\",\"pos_sale_id\":\"P%d\"}", 'A' + l, l));
		json_decref(call(fd, "{\"op\":\"card\",\"lane\":\"%c\",\"card\":\"%s\"}", 'A' + l, card));
		json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"%c\",\"gtin\":\"4006381333931\",\"price_cents\":1000}", 'A' + l));
		r = call(fd, "{\"op\":\"points_spend\",\"lane\":\"%c\",\"points\":60}", 'A' + l);
		assert_true(is_ok(r));
		json_decref(r);
	}
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"A\",\"kind\":\"card\"}");
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(r, "points_spent")), 60);
	json_decref(r);
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"B\",\"kind\":\"card\"}");
	assert_false(is_ok(r));
	assert_non_null(strstr(json_string_value(json_object_get(r, "message")), "cannot spend 60 points now"));
	json_decref(r);
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"B\",\"kind\":\"card\"}");   /* the sale stayed open */
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(r, "points_spent")), 0);
	json_decref(r);
	/* A return of the first sale, one unit on it, kept over SIGTERM. */
	r = call(fd, "{\"op\":\"return_open\",\"lane\":\"R\",\"sale\":\"%s\",\"pos_sale_id\":\"RET1\"}",
		 json_string_value(earn_ref));
	assert_true(is_ok(r));
	json_decref(r);
	r = call(fd, "{\"op\":\"line_add\",\"lane\":\"R\",\"gtin\":\"4006381333931\"}");
	assert_true(is_ok(r));
	assert_int_equal(json_integer_value(json_object_get(r, "line_cents")), 3000);
	json_decref(r);
	close(fd);
	stop_daemon(f, SIGTERM);
	start_daemon(f);
	fd = connect_sock(f->sock);
	r = call(fd, "{\"op\":\"line_add\",\"lane\":\"R\",\"gtin\":\"4006381333931\",\"qty\":3}");  /* 1 + 3 > 3 */
	assert_false(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "error")), "PM_EREFUSED");
	json_decref(r);
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"R\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "event")), "return_committed");
	assert_string_equal(json_string_value(json_object_get(r, "return_of")), json_string_value(earn_ref));
	assert_int_equal(json_integer_value(json_object_get(r, "refund_cents")), 3000);
	assert_int_equal(json_integer_value(json_object_get(r, "points_clawed_back")), 30);
	json_decref(r);
	/* The POS app retrying that return (lost reply): not committed twice. */
	json_decref(call(fd, "{\"op\":\"return_open\",\"lane\":\"R\",\"sale\":\"%s\",\"pos_sale_id\":\"RET1\"}",
			 json_string_value(earn_ref)));
	json_decref(call(fd, "{\"op\":\"line_add\",\"lane\":\"R\",\"gtin\":\"4006381333931\"}"));
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"R\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "event")), "sale_already_committed");
	json_decref(r);
	r = call(fd, "{\"op\":\"card_info\",\"card\":\"%s\"}", card);
	/* 90 - 60 spent + 9 earned on the 9.40 paid + 10 earned by lane B - 30 taken back */
	assert_int_equal(json_integer_value(json_object_get(r, "points")), 90 - 60 + 9 + 10 - 30);
	json_decref(r);
	json_decref(earn_ref);
	close(fd);
}

/* The error reply of one request: not ok, with error, message containing want, and a hint. */
static void assert_error(int fd, const char *want, const char *req)
{
	json_t *r = call(fd, "%s", req);
	assert_non_null(r);
	assert_false(is_ok(r));
	const char *msg = json_string_value(json_object_get(r, "message"));
	const char *hint = json_string_value(json_object_get(r, "hint"));
	if (!msg || !strstr(msg, want) || !hint || !*hint)
		fail_msg("%s -> %s / %s (wanted '%s' and a hint)", req, msg ? msg : "(none)", hint ? hint : "(no hint)",
			 want);
	json_decref(r);
}

/*
 * The POS app's contract (issue 14): errors name the real cause and carry a
 * hint; a repeated tender of the committed sale is not a new sale; the app's
 * product name is kept; a second daemon on the same log is refused naming
 * the pid of the first.
 */
static void test_pos_contract(void **state)
{
	struct fx *f = *state;
	int fd = connect_sock(f->sock);
	json_t *r;
	assert_error(fd, "\"lane\" must be a JSON string, not a number", "{\"op\":\"sale_open\",\"lane\":5}");
	assert_error(fd, "lane name is too long", "{\"op\":\"sale_open\",\"lane\":\"0123456789012345678901234567890123456789\"}");
	assert_error(fd, "\"price_cents\" must be a whole number", "{\"op\":\"line_add\",\"lane\":\"1\",\"gtin\":\"4006381333931\",\"price_cents\":2.5}");
	assert_error(fd, "unknown op", "{\"op\":\"nope\"}");
	assert_error(fd, "no open sale", "{\"op\":\"line_add\",\"lane\":\"zz\",\"gtin\":\"4006381333931\"}");
	r = call(fd, "{\"op\":\"sale_open\",\"lane\":\"1\",\"pos_sale_id\":\"C1\"}");
	assert_true(is_ok(r));
	json_decref(r);
	assert_error(fd, "line_add needs \"gtin\"", "{\"op\":\"line_add\",\"lane\":\"1\"}");
	assert_error(fd, "tender needs \"kind\"", "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"barter\"}");
	assert_error(fd, "tender without items", "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"cash\"}");
	r = call(fd, "{\"op\":\"line_add\",\"lane\":\"1\",\"gtin\":\"4006381333931\",\"price_cents\":250,\"name\":\"Apple Juice 1L\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "name")), "Apple Juice 1L");
	json_decref(r);
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "event")), "sale_committed");
	json_int_t seq = json_integer_value(json_object_get(r, "sale_id"));
	json_decref(r);
	/* The reply was lost, the app tenders again: told, nothing stored twice. */
	r = call(fd, "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"cash\"}");
	assert_true(is_ok(r));
	assert_string_equal(json_string_value(json_object_get(r, "event")), "sale_already_committed");
	assert_int_equal(json_integer_value(json_object_get(r, "sale_id")), seq);
	json_decref(r);
	r = call(fd, "{\"op\":\"status\"}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "log"), "sales")), 1);
	json_decref(r);
	/* A new sale on the lane is not mistaken for that retry. */
	json_decref(call(fd, "{\"op\":\"sale_open\",\"lane\":\"1\",\"pos_sale_id\":\"C2\"}"));
	assert_error(fd, "tender without items", "{\"op\":\"tender\",\"lane\":\"1\",\"kind\":\"cash\"}");
	close(fd);

	/* A second daemon on the same log, another socket: refused, naming the first one's pid. */
	char cmd[9000], out[2000] = "", pid[32];
	snprintf(cmd, sizeof(cmd), "'%s' daemon --data '%s' --socket '%s/other.sock' 2>&1; echo rc=$?", bin(), f->data,
		 f->dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	snprintf(pid, sizeof(pid), "pid %ld", (long)f->pid);
	if (!strstr(out, "is in use by another posmark daemon") || !strstr(out, pid) || !strstr(out, "hint:") ||
	    !strstr(out, "rc=1"))
		fail_msg("second daemon: %s", out);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!bin()) {
		printf("[  SKIPPED ] POSMARK not set\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent_lanes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_and_half_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_under_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standalone_till_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_under_busy_lanes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_runs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unread_replies_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_points_two_lanes_and_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pos_contract, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
