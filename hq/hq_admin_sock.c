/*
 * hq_admin_sock.c - serve's local admin socket (docs/hq.md, "The admin socket"):
 * `posmark-hq card CARD` asked of the running serve over a Unix-domain socket, so a
 * lookup costs no new PostgreSQL backend, connection or cold plan.
 *
 * Who may ask: whoever may open the socket file (0660, serve's user and group, in a
 * directory others cannot write) - the trust of someone who can read hq.conf's
 * database credentials. Only the read-only card lookup goes over it.
 *
 * The client's side, the key and the shared helpers are hq_admin_ask.c's (libc and libsodium
 * only: the front program, hq_front_main.c, asks without libpq).
 *
 * Protocol (one request per connection; both ends are this build's programs):
 *   request  "card1 J KEY CARD\n"      J 0|1 (--json), KEY 64 hex = BLAKE2b-256 of the
 *                                     conninfo and the tier table, CARD digits; at most
 *                                     HQI_ADMIN_REQ_MAX bytes, within 1 s of connecting
 *   reply    "OK RC OUTLEN ERRLEN\n" OUT ERR   hq_card_show's return code, its output
 *                                     and its err text
 *            "OTHER\n"                serve has another database or tier table: ask directly
 *            "ERR reason\n"           the request was refused
 */
#include "hq/hq.h"
#include "hq/hq_int.h"
#include "hq/hq_lite_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQ_MAX HQI_ADMIN_REQ_MAX
#define REQ_DEADLINE_MS 1000   /* serve: the whole request line */
#define HANDLERS_MAX 16

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* ------------------------------------------------------------------ serve */

static struct {
	int lfd, wake[2];
	pthread_t thr;
	pthread_mutex_t mu;        /* the connection and the handler count */
	pthread_cond_t idle;
	PGconn *db;
	const char *conninfo;
	const struct hq_tiers *tiers;
	char key[65], path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	int handlers, started;
	atomic_int stopping;
} g = { .lfd = -1, .wake = { -1, -1 } };

static void refuse(int fd, const char *why)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "ERR %s\n", why);
	hqi_send_all(fd, line, (size_t)n, hqi_now_ms() + REQ_DEADLINE_MS);
}

/* Read the request line: its length without '\n', or -1 (too long, too slow, closed). */
static int read_request(int fd, char *buf)
{
	int64_t deadline = hqi_now_ms() + REQ_DEADLINE_MS;
	size_t have = 0;
	while (have < REQ_MAX) {
		if (!hqi_wait_fd(fd, POLLIN, deadline))
			return -1;
		ssize_t r = recv(fd, buf + have, REQ_MAX - have, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		char *nl = memchr(buf + have, '\n', (size_t)r);
		have += (size_t)r;
		if (nl) {
			*nl = '\0';
			return (int)(nl - buf);
		}
	}
	return -1;
}

/* The lookup on serve's own connection, reconnecting if it broke. */
static int lookup(const char *card, bool json, FILE *out, char *err, size_t errlen)
{
	pthread_mutex_lock(&g.mu);
	if (g.db && PQstatus(g.db) != CONNECTION_OK)
		PQreset(g.db);
	if (!g.db || PQstatus(g.db) != CONNECTION_OK) {
		PQfinish(g.db);
		g.db = hq_connect(g.conninfo, err, errlen);
	}
	int rc = g.db ? hq_card_show(g.db, card, g.tiers, json, out, err, errlen) : PM_EIO;
	pthread_mutex_unlock(&g.mu);
	return rc;
}

static void answer(int fd)
{
	char req[REQ_MAX + 1], key[65], card[32], err[600] = "";
	int json;
	if (read_request(fd, req) < 0) {
		refuse(fd, "request too long, too slow or cut off");
		return;
	}
	/* exact shape only: "card1 J KEY CARD" */
	int end = 0;
	if (sscanf(req, "card1 %1d %64[0-9a-f] %31[0-9]%n", &json, key, card, &end) != 3 ||
	    req[end] || (json != 0 && json != 1) || strlen(key) != 64 || !*card || strlen(card) > WIRE_CARD_MAX) {
		refuse(fd, "malformed request");
		return;
	}
	if (strcmp(key, g.key)) {
		hqi_send_all(fd, "OTHER\n", 6, hqi_now_ms() + REQ_DEADLINE_MS);
		return;
	}
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	if (!f) {
		refuse(fd, "out of memory");
		return;
	}
	int rc = lookup(card, json, f, err, sizeof(err));
	if (fclose(f) && !rc)
		rc = PM_ENOMEM;
	char head[80];
	int n = snprintf(head, sizeof(head), "OK %d %zu %zu\n", rc, outlen, strlen(err));
	int64_t deadline = hqi_now_ms() + 5000;
	if (!hqi_send_all(fd, head, (size_t)n, deadline) && !hqi_send_all(fd, out, outlen, deadline))
		hqi_send_all(fd, err, strlen(err), deadline);
	free(out);
}

static void *handler(void *arg)
{
	int fd = (int)(intptr_t)arg;
	answer(fd);
	close(fd);
	pthread_mutex_lock(&g.mu);
	if (--g.handlers == 0)
		pthread_cond_broadcast(&g.idle);
	pthread_mutex_unlock(&g.mu);
	return NULL;
}

static void *acceptor(void *arg)
{
	(void)arg;
	struct pollfd p[2] = { { .fd = g.lfd, .events = POLLIN }, { .fd = g.wake[0], .events = POLLIN } };
	while (!g.stopping) {
		if (poll(p, 2, -1) < 0 || p[1].revents)
			continue;
		int fd = accept4(g.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&g.mu);
		int full = g.handlers >= HANDLERS_MAX;
		if (!full)
			g.handlers++;
		pthread_mutex_unlock(&g.mu);
		pthread_t t;
		if (full || pthread_create(&t, NULL, handler, (void *)(intptr_t)fd)) {
			if (!full) {
				pthread_mutex_lock(&g.mu);
				g.handlers--;
				pthread_mutex_unlock(&g.mu);
			}
			refuse(fd, "busy");
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

/* An existing file at path: a dead serve's socket is removed; a live one, or anything else, refused. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "cannot look at '%s': %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "'%s' exists and is not a socket", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live = fd >= 0 && !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (fd >= 0)
		close(fd);
	if (live) {
		snprintf(err, errlen, "another posmark-hq serve answers on '%s'", path);
		return -1;
	}
	if (unlink(path)) {
		snprintf(err, errlen, "cannot remove the stale socket '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_at(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	if (fill_addr(path, &sa)) {
		snprintf(err, errlen, "the admin socket path must be 1 to %zu characters", sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (hqi_admin_dir_ok(path, err, errlen) || clear_stale(path, &sa, err, errlen))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0117);   /* never wider than 0660, not even for an instant */
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	struct stat st;
	if (rc || chmod(path, 0660) || listen(fd, 64) || stat(path, &st)) {
		snprintf(err, errlen, "cannot listen on '%s': %s", path, strerror(errno));
		if (!rc)
			unlink(path);
		close(fd);
		return -1;
	}
	g.dev = st.st_dev;
	g.ino = st.st_ino;
	return fd;
}

int hqi_admin_sock_start(const char *path, const char *conninfo, const struct hq_tiers *tiers, char *err,
			 size_t errlen)
{
	if ((g.lfd = listen_at(path, err, errlen)) < 0)
		return PM_EIO;
	snprintf(g.path, sizeof(g.path), "%s", path);
	g.conninfo = conninfo;
	g.tiers = tiers;
	g.stopping = 0;
	hqi_admin_key(conninfo, tiers, g.key);
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.idle, NULL);
	if (!(g.db = hq_connect(conninfo, err, errlen)))   /* warm now; a failure retries on the first lookup */
		pm_warn("admin socket: %s (tried again on the first lookup)", err);
	/* every signal stays with serve's main thread (it sigwaits SIGINT/SIGTERM) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pipe2(g.wake, O_CLOEXEC) ? -1 : pthread_create(&g.thr, NULL, acceptor, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	g.started = !rc;
	if (rc) {
		snprintf(err, errlen, "cannot start the admin socket's thread");
		hqi_admin_sock_stop();
		return PM_ENOMEM;
	}
	return PM_OK;
}

void hqi_admin_sock_stop(void)
{
	if (g.lfd < 0)
		return;
	g.stopping = 1;
	if (g.started) {
		(void)!write(g.wake[1], "x", 1);
		pthread_join(g.thr, NULL);
		g.started = 0;
	}
	struct stat st;   /* remove the file only if it is still ours */
	if (!lstat(g.path, &st) && st.st_dev == g.dev && st.st_ino == g.ino)
		unlink(g.path);
	close(g.lfd);
	g.lfd = -1;
	pthread_mutex_lock(&g.mu);   /* handlers finish within their deadlines */
	while (g.handlers)
		pthread_cond_wait(&g.idle, &g.mu);
	PQfinish(g.db);
	g.db = NULL;
	pthread_mutex_unlock(&g.mu);
	for (int i = 0; i < 2; i++)
		if (g.wake[i] >= 0)
			close(g.wake[i]);
	g.wake[0] = g.wake[1] = -1;
}
