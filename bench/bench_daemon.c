/*
 * bench_daemon.c - the daemon through its socket, against the floors:
 *   round trip of line_add and tender vs a bare echo over the same kind of
 *   socket; durable sales/s with 1 and 8 lanes vs SQLite WAL FULL with 1 and
 *   8 writer threads doing the same sales; RSS with 1,000,000 sales in the
 *   log; cold start (exec to first answer). Medians of repeated runs.
 * Usage: bench_daemon POSMARK_BIN DIR [log_sales] [sales_per_lane]
 * BENCH_DAEMON_PART=lanes runs only the sales/s part; BENCH_DAEMON_STDERR=1
 * keeps the daemon's log on stderr.
 */
#include "loyalty/loyalty.h"
#include "common/pm_err.h"
#include "common/pm_time.h"

#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *bin, *dir;
static char sock_path[200];

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}
static double pct_us(int64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return v[(int)fmin(n - 1, floor(p * n))] / 1000.0;
}
static double med(double *v, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (v[j] < v[i]) { double t = v[i]; v[i] = v[j]; v[j] = t; }
	return v[n / 2];
}

static int connect_to(const char *path, int tries)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	for (int i = 0; i < tries; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		usleep(200);
	}
	return -1;
}

/* One request line, one reply line. */
static int rt(int fd, const char *req, char *buf, size_t len)
{
	size_t n = strlen(req), have = 0;
	if (write(fd, req, n) != (ssize_t)n)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, len - have - 1);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		if (buf[have - 1] == '\n')
			break;
	}
	buf[have] = '\0';
	return 0;
}

static pid_t start_daemon(const char *data, int64_t *ready_ns)
{
	int64_t t0 = pm_mono_ns();
	unlink(sock_path);
	pid_t pid = fork();
	if (pid == 0) {
		if (!getenv("BENCH_DAEMON_STDERR")) freopen("/dev/null", "w", stderr);
		execl(bin, bin, "daemon", "--data", data, "--socket", sock_path, (char *)NULL);
		_exit(127);
	}
	int fd = connect_to(sock_path, 100000);
	char buf[256];
	rt(fd, "{\"op\":\"echo\"}\n", buf, sizeof(buf));
	if (ready_ns)
		*ready_ns = pm_mono_ns() - t0;
	close(fd);
	return pid;
}

static void stop_daemon(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* The floor: a bare echo server over the same kind of socket. */
static void *echo_server(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
	return NULL;
}

struct lane_arg {
	int lane, sales;
	int64_t elapsed_ns;
	int ok;
};

static void *lane_worker(void *p)
{
	struct lane_arg *a = p;
	char req[256], buf[4096];
	int fd = connect_to(sock_path, 100);
	int64_t t0 = pm_mono_ns();
	for (int s = 0; s < a->sales; s++) {
		snprintf(req, sizeof(req), "{\"op\":\"sale_open\",\"lane\":\"B%d\",\"pos_sale_id\":\"B%d-%d-%lld\"}\n",
			 a->lane, a->lane, s, (long long)t0);
		rt(fd, req, buf, sizeof(buf));
		snprintf(req, sizeof(req), "{\"op\":\"line_add\",\"lane\":\"B%d\",\"gtin\":\"4006381333931\",\"price_cents\":199}\n", a->lane);
		rt(fd, req, buf, sizeof(buf));
		snprintf(req, sizeof(req), "{\"op\":\"tender\",\"lane\":\"B%d\",\"kind\":\"card\"}\n", a->lane);
		rt(fd, req, buf, sizeof(buf));
		a->ok += strstr(buf, "sale_committed") != NULL;
	}
	a->elapsed_ns = pm_mono_ns() - t0;
	close(fd);
	return NULL;
}

static double lanes_rate(int lanes, int per_lane)
{
	pthread_t th[16];
	struct lane_arg a[16];
	int64_t t0 = pm_mono_ns();
	for (int i = 0; i < lanes; i++) {
		a[i] = (struct lane_arg){ i, per_lane, 0, 0 };
		pthread_create(&th[i], NULL, lane_worker, &a[i]);
	}
	int ok = 0;
	for (int i = 0; i < lanes; i++) {
		pthread_join(th[i], NULL);
		ok += a[i].ok;
	}
	if (ok != lanes * per_lane)
		fprintf(stderr, "bench: only %d of %d sales acknowledged\n", ok, lanes * per_lane);
	return ok / ((pm_mono_ns() - t0) / 1e9);
}

struct sq_arg {
	const char *path;
	int sales, lane;
};

static void *sqlite_worker(void *p)
{
	struct sq_arg *a = p;
	sqlite3 *db;
	sqlite3_stmt *ins, *item;
	sqlite3_open(a->path, &db);
	sqlite3_busy_timeout(db, 60000);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO sales(ext_id, lane, time_us, total_cents) VALUES(?,?,?,?)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO sale_items(sale, gtin, qty, price_cents) VALUES(last_insert_rowid(),?,1,199)", -1, &item, NULL);
	for (int s = 0; s < a->sales; s++) {
		char ext[64];
		snprintf(ext, sizeof(ext), "S%d-%d-%lld", a->lane, s, (long long)pm_mono_ns());
		while (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_BUSY)
			;
		sqlite3_bind_text(ins, 1, ext, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ins, 2, a->lane);
		sqlite3_bind_int64(ins, 3, pm_mono_ns());
		sqlite3_bind_int64(ins, 4, 199);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_bind_text(item, 1, "04006381333931", -1, SQLITE_STATIC);
		sqlite3_step(item);
		sqlite3_reset(item);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(item);
	sqlite3_close(db);
	return NULL;
}

static double sqlite_rate(const char *path, int lanes, int per_lane)
{
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS sales(id INTEGER PRIMARY KEY, ext_id TEXT UNIQUE,"
		     " lane INTEGER, time_us INTEGER, total_cents INTEGER); CREATE TABLE IF NOT EXISTS sale_items(sale INTEGER,"
		     " gtin TEXT, qty INTEGER, price_cents INTEGER);", NULL, NULL, NULL);
	sqlite3_close(db);
	pthread_t th[16];
	struct sq_arg a[16];
	int64_t t0 = pm_mono_ns();
	for (int i = 0; i < lanes; i++) {
		a[i] = (struct sq_arg){ path, per_lane, i };
		pthread_create(&th[i], NULL, sqlite_worker, &a[i]);
	}
	for (int i = 0; i < lanes; i++)
		pthread_join(th[i], NULL);
	return lanes * per_lane / ((pm_mono_ns() - t0) / 1e9);
}

/* CPU time (ns) of each thread of pid: [0] the main (event loop) thread,
 * [1] the sum of the others (the committer). From /proc/PID/task/TID/schedstat. */
static void cpu_ns(pid_t pid, int64_t out[2])
{
	char path[96];
	out[0] = out[1] = 0;
	for (int tid = pid; tid < pid + 64; tid++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, tid);
		FILE *f = fopen(path, "r");
		long long ns;
		if (!f)
			continue;
		if (fscanf(f, "%lld", &ns) == 1)
			out[tid == pid ? 0 : 1] += ns;
		fclose(f);
	}
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_daemon POSMARK_BIN DIR [log_sales] [sales_per_lane]\n");
		return 2;
	}
	bin = argv[1];
	dir = argv[2];
	int log_sales = argc > 3 ? atoi(argv[3]) : 1000000;
	int per_lane = argc > 4 ? atoi(argv[4]) : 300;
	char data[4096], big[4096], sq[4096], buf[4096];
	snprintf(data, sizeof(data), "%s/log", dir);
	snprintf(big, sizeof(big), "%s/biglog", dir);
	snprintf(sq, sizeof(sq), "%s/lanes.sqlite", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/pm.sock", dir);
	signal(SIGPIPE, SIG_IGN);

	/* BENCH_DAEMON_PART=lanes runs part 2 alone (while tuning group commit). */
	const char *part = getenv("BENCH_DAEMON_PART");
	bool lanes_only = part && !strcmp(part, "lanes");
	/* 1. Round trips, and the bare echo floor on the same kind of socket. */
	pid_t pid = start_daemon(data, NULL);
	if (lanes_only)
		goto lanes;
	int fd = connect_to(sock_path, 100);
	enum { N = 3000 };
	static int64_t lat_add[N], lat_tender[400], lat_echo[N];
	rt(fd, "{\"op\":\"sale_open\",\"lane\":\"rt\"}\n", buf, sizeof(buf));
	for (int i = 0; i < N; i++) {
		int64_t t0 = pm_mono_ns();
		rt(fd, "{\"op\":\"line_add\",\"lane\":\"rt\",\"gtin\":\"4006381333931\",\"price_cents\":199}\n", buf, sizeof(buf));
		lat_add[i] = pm_mono_ns() - t0;
		if (i % 400 == 399) { /* keep the sale under its 500-line limit */
			rt(fd, "{\"op\":\"sale_cancel\",\"lane\":\"rt\"}\n", buf, sizeof(buf));
			rt(fd, "{\"op\":\"sale_open\",\"lane\":\"rt\"}\n", buf, sizeof(buf));
		}
	}
	rt(fd, "{\"op\":\"sale_cancel\",\"lane\":\"rt\"}\n", buf, sizeof(buf));
	for (int i = 0; i < 400; i++) {
		rt(fd, "{\"op\":\"sale_open\",\"lane\":\"rt\"}\n", buf, sizeof(buf));
		rt(fd, "{\"op\":\"line_add\",\"lane\":\"rt\",\"gtin\":\"4006381333931\",\"price_cents\":199}\n", buf, sizeof(buf));
		int64_t t0 = pm_mono_ns();
		rt(fd, "{\"op\":\"tender\",\"lane\":\"rt\",\"kind\":\"cash\"}\n", buf, sizeof(buf));
		lat_tender[i] = pm_mono_ns() - t0;
	}
	close(fd);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char echo_path[300];
	snprintf(echo_path, sizeof(echo_path), "%s/echo.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", echo_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(echo_path);
	bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
	listen(lfd, 1);
	pthread_t et;
	pthread_create(&et, NULL, echo_server, &lfd);
	int efd = connect_to(echo_path, 100);
	const char *same = "{\"op\":\"line_add\",\"lane\":\"rt\",\"gtin\":\"4006381333931\",\"price_cents\":199}\n";
	for (int i = 0; i < N; i++) {
		int64_t t0 = pm_mono_ns();
		rt(efd, same, buf, sizeof(buf));
		lat_echo[i] = pm_mono_ns() - t0;
	}
	close(efd);
	pthread_join(et, NULL);
	close(lfd);
	double e50 = pct_us(lat_echo, N, 0.5), e99 = pct_us(lat_echo, N, 0.99);
	double a50 = pct_us(lat_add, N, 0.5), a99 = pct_us(lat_add, N, 0.99);
	double t50 = pct_us(lat_tender, 400, 0.5), t99 = pct_us(lat_tender, 400, 0.99);
	printf("\n== daemon API round trips over the Unix socket (%d line_add, 400 tender) ==\n", N);
	printf("%-28s %10s %10s\n", "", "p50 us", "p99 us");
	printf("%-28s %10.1f %10.1f\n", "bare echo (floor)", e50, e99);
	printf("%-28s %10.1f %10.1f   %.2fx the echo p50 (target <= 3x)\n", "line_add", a50, a99, a50 / e50);
	printf("%-28s %10.1f %10.1f   (a durable commit)\n", "tender", t50, t99);

	/* 2. Durable sales per second, 1 and 8 lanes, vs SQLite. */
lanes:;
	double one[3], eight[3], sq1[3], sq8[3];
	int64_t cpu[4][2] = { { 0 } }, c0[2], c1[2];
	for (int r = 0; r < 3; r++) {
		cpu_ns(pid, c0);
		one[r] = lanes_rate(1, per_lane);
		cpu_ns(pid, c1);
		cpu[0][0] += c1[0] - c0[0];
		cpu[0][1] += c1[1] - c0[1];
		eight[r] = lanes_rate(8, per_lane);
		cpu_ns(pid, c0);
		cpu[1][0] += c0[0] - c1[0];
		cpu[1][1] += c0[1] - c1[1];
		sq1[r] = sqlite_rate(sq, 1, per_lane);
		sq8[r] = sqlite_rate(sq, 8, per_lane);
	}
	stop_daemon(pid);
	double m1 = med(one, 3), m8 = med(eight, 3), s1 = med(sq1, 3), s8 = med(sq8, 3);
	printf("\n== durable sales/s through the daemon (%d sales per lane, median of 3) ==\n", per_lane);
	printf("%-34s %10.0f\n", "posmark, 1 lane", m1);
	printf("%-34s %10.0f   %.2fx one lane (target >= 4x)\n", "posmark, 8 lanes (group commit)", m8, m8 / m1);
	printf("%-34s %10.0f\n", "SQLite WAL FULL, 1 writer", s1);
	printf("%-34s %10.0f   posmark 8 lanes is %.2fx (target >= 3x)\n", "SQLite WAL FULL, 8 writers", s8, m8 / s8);
	printf("daemon CPU per sale: 1 lane %.1f us loop + %.1f us commit thread; 8 lanes %.1f + %.1f us\n",
	       cpu[0][0] / 3e3 / per_lane, cpu[0][1] / 3e3 / per_lane, cpu[1][0] / 24e3 / per_lane,
	       cpu[1][1] / 24e3 / per_lane);
	if (lanes_only)
		return 0;

	/* 3. Memory with a big log, and cold start. */
	fprintf(stderr, "bench: building a log of %d sales...\n", log_sales);
	struct loy_config cfg;
	struct loy_db *db;
	loy_config_default(&cfg);
	cfg.bulk_nosync = true;
	if (loy_open(big, &cfg, &db, NULL, 0))
		return 1;
	struct loy_item items[8];
	struct loy_sale s;
	struct loy_commit_result res;
	for (int i = 0; i < log_sales; i++) {
		memset(&s, 0, sizeof(s));
		int n = 1 + i % 8;
		for (int k = 0; k < n; k++) {
			memset(&items[k], 0, sizeof(items[k]));
			snprintf(items[k].gtin, sizeof(items[k].gtin), "0501234%07u", (unsigned)(i * 7 + k) % 5000u);
			items[k].qty = 1;
			items[k].unit_price_cents = items[k].line_cents = 100 + k;
		}
		s.items = items;
		s.n_items = (uint32_t)n;
		s.time_us = 1790000000000000LL + (int64_t)i * 1000000;
		s.total_cents = 0;
		for (int k = 0; k < n; k++)
			s.total_cents += items[k].line_cents;
		if (i % 3)
			snprintf(s.card, sizeof(s.card), "603601%07u", 1000000u + (unsigned)(i % 40000));
		if (loy_sale_commit(db, &s, &res))
			return 1;
		if (i && i % 250000 == 0)
			fprintf(stderr, "bench: %d sales\n", i);
	}
	loy_close(db);
	double cold[9];
	long rss = 0;
	for (int r = 0; r < 9; r++) {
		int64_t ns;
		pid = start_daemon(big, &ns);
		cold[r] = ns / 1e6;
		if (r == 0) {
			/* a working day's traffic, then the resident size */
			pid_t p2 = pid;
			struct lane_arg a = { 0, 200, 0, 0 };
			lane_worker(&a);
			fd = connect_to(sock_path, 100);
			rt(fd, "{\"op\":\"status\"}\n", buf, sizeof(buf));
			close(fd);
			rss = rss_kib(p2);
		}
		stop_daemon(pid);
	}
	printf("\n== daemon with %d sales in the log ==\n", log_sales);
	printf("RSS after 200 sales and a status: %.1f MiB (target < 16 MiB)\n", rss / 1024.0);
	printf("cold start, exec to first answer: %.1f ms median of 9 (target < 50 ms)\n", med(cold, 9));
	return 0;
}
