/*
 * hq_admin_ask.c - the admin socket's client (`posmark-hq card CARD` asking the running serve;
 * docs/hq.md, "The admin socket") and the parts serve's side (hq_admin_sock.c) shares with it:
 * the request key, deadlines, the directory check. libc and libsodium only: the front program
 * (hq_front_main.c) links it without libpq. The protocol is described in hq_admin_sock.c.
 */
#include "hq/hq_lite_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int say(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = pm_tell_failure("posmark-hq", hint, fmt, ap);
	va_end(ap);
	return rc;
}

#define ASK_DEADLINE_MS 300    /* card: connect, send, the reply's first line */
#define BODY_IDLE_MS 2000      /* card: the reply's body, per read */

void hqi_admin_key(const char *conninfo, const struct hq_tiers *t, char hex[65])
{
	crypto_generichash_state st;
	unsigned char h[32];
	char buf[64];
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	const char *ci = conninfo ? conninfo : "";
	crypto_generichash_update(&st, (const unsigned char *)ci, strlen(ci) + 1);
	int n = snprintf(buf, sizeof(buf), "%d %d", t->n, t->window_days);
	crypto_generichash_update(&st, (const unsigned char *)buf, (size_t)n + 1);
	for (int i = 0; i < t->n && i < HQ_TIERS_MAX; i++) {
		n = snprintf(buf, sizeof(buf), "%lld %.24s", (long long)t->threshold_cents[i], t->name[i]);
		crypto_generichash_update(&st, (const unsigned char *)buf, (size_t)n + 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

int64_t hqi_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hqi_wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - hqi_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = ev };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

int hqi_send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		} else if (w < 0 && errno == EAGAIN && !hqi_wait_fd(fd, POLLOUT, deadline)) {
			return -1;
		}
	}
	return 0;
}

/* The directory of path must exist and be unwritable by others (nobody else can plant or swap the file). */
int hqi_admin_dir_ok(const char *path, char *why, size_t whylen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "the admin socket's directory '%s' does not exist", dir);
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(why, whylen, "the admin socket's directory '%s' is writable by others", dir);
		return -1;
	}
	return 0;
}

/* The whole reply (serve closes after it): the first bytes by the deadline, then each read within
 * BODY_IDLE_MS. The buffer (malloc'ed) or NULL. */
static char *read_reply(int fd, size_t *len, int64_t deadline)
{
	size_t cap = 4096, have = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (!hqi_wait_fd(fd, POLLIN, have ? hqi_now_ms() + BODY_IDLE_MS : deadline))
			break;
		if (have == cap) {
			char *nb = cap < HQI_ADMIN_OUT_MAX + 1024 ? realloc(buf, 2 * cap) : NULL;
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + have, cap - have, 0);
		if (r == 0) {
			*len = have;
			return buf;
		}
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			break;
		if (r > 0)
			have += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* A decimal number of at most 19 digits at *p, then the delimiter c: 0 and *p past c, or -1. */
static int number_then(const char **p, const char *end, char c, uint64_t *v)
{
	const char *s = *p;
	*v = 0;
	while (s < end && *s >= '0' && *s <= '9' && s - *p < 19)
		*v = *v * 10 + (uint64_t)(*s++ - '0');
	if (s == *p || s >= end || *s != c)
		return -1;
	*p = s + 1;
	return 0;
}

int hqi_admin_reply_parse(const char *rep, size_t len, const char **out, size_t *outlen, char *err, size_t errlen)
{
	/* exactly "OK " ["-"] RC " " OUTLEN " " ERRLEN "\n", then OUTLEN + ERRLEN bytes and no more */
	const char *p = rep, *end = rep + len;
	uint64_t rc, ol, el;
	if (len < 3 || memcmp(p, "OK ", 3))
		return HQI_ADMIN_NOT_ANSWERED;
	p += 3;
	bool neg = p < end && *p == '-';
	p += neg;
	if (number_then(&p, end, ' ', &rc) || number_then(&p, end, ' ', &ol) || number_then(&p, end, '\n', &el))
		return HQI_ADMIN_NOT_ANSWERED;
	int code = neg ? -(int)(rc > 1000 ? 1000 : rc) : (int)(rc > 1000 ? 1000 : rc);
	/* anything but the account or "no account": the direct path says it in its own words */
	size_t body = (size_t)(end - p);
	if ((code != PM_OK && code != PM_ENOENT) || el >= errlen || ol > body || el != body - ol ||
	    memchr(p + ol, '\0', (size_t)el))   /* err is text: a NUL in it is not serve's */
		return HQI_ADMIN_NOT_ANSWERED;
	memcpy(err, p + ol, (size_t)el);
	err[el] = '\0';
	*out = p;
	*outlen = (size_t)ol;
	return code;
}

static int ask(int fd, const char *conninfo, const struct hq_tiers *tiers, const char *card, bool json, FILE *out,
	       char *err, size_t errlen)
{
	char key[65], req[HQI_ADMIN_REQ_MAX + 1];
	int64_t deadline = hqi_now_ms() + ASK_DEADLINE_MS;
	hqi_admin_key(conninfo, tiers, key);
	int n = snprintf(req, sizeof(req), "card1 %d %s %s\n", json ? 1 : 0, key, card);
	size_t len, outlen;
	const char *body;
	char *rep;
	if (n <= 0 || n > HQI_ADMIN_REQ_MAX || hqi_send_all(fd, req, (size_t)n, deadline) ||
	    !(rep = read_reply(fd, &len, deadline)))
		return HQI_ADMIN_NOT_ANSWERED;
	int rc = hqi_admin_reply_parse(rep, len, &body, &outlen, err, errlen);
	if (rc != HQI_ADMIN_NOT_ANSWERED && outlen && fwrite(body, 1, outlen, out) != outlen)
		rc = PM_EIO;
	free(rep);
	return rc;
}

int hqi_admin_card_try(const char *path, const char *conninfo, const struct hq_tiers *tiers, const char *card,
		       bool json, FILE *out, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	char why[300];
	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path) || lstat(path, &st) || !S_ISSOCK(st.st_mode) ||
	    hqi_admin_dir_ok(path, why, sizeof(why)))
		return HQI_ADMIN_NOT_ANSWERED;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return HQI_ADMIN_NOT_ANSWERED;
	int rc = HQI_ADMIN_NOT_ANSWERED;
	/* a dead serve's socket refuses at once (ECONNREFUSED); a full backlog says EAGAIN: go direct */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		rc = ask(fd, conninfo, tiers, card, json, out, err, errlen);
	close(fd);
	return rc;
}

void hqi_admin_log(const char *card, int rc)
{
	pm_dbg("card %s %s", card, rc == HQI_ADMIN_NOT_ANSWERED ? "asked directly" : "answered by serve");
}

int hqi_admin_card(const char *path, const char *conninfo, const struct hq_tiers *tiers, const char *card, bool json,
		   FILE *out, char *err, size_t errlen)
{
	int rc = hqi_admin_card_try(path, conninfo, tiers, card, json, out, err, errlen);
	hqi_admin_log(card, rc);
	return rc;
}

int hqi_card_outcome(int rc, const char *err)
{
	if (rc == PM_ENOENT)
		return say("check the number; a card gets an account with its first sale, import or adjustment", "%s", err);
	if (rc)
		return say("check the database", "card failed: %s", err);
	if (fflush(stdout) || ferror(stdout))
		return say("check where the output goes", "cannot write the output");
	return 0;
}
