/*
 * hq_lite_int.h - the parts of hq/ that need libc and libsodium only: hq.conf's reader
 * (hq_conf.c), the tier table (hq_tiers.c; declared in hq.h) and the admin socket's client
 * (hq_admin_ask.c). bin/posmark-hq, the front program (hq_front_main.c), links these and
 * nothing that needs libpq, libmicrohttpd or GnuTLS: its link line has no such library, so
 * a change that makes one of these files need one fails to link (docs/hq.md, "The front
 * program"). Private to hq/; tests may include it.
 */
#ifndef HQ_LITE_INT_H
#define HQ_LITE_INT_H

#include "hq/hq.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- hq.conf (hq_conf.c; docs/hq.md, "hq.conf") ---- */

#define HQI_WORKERS_MAX 32   /* serve's PostgreSQL pool: --workers and workers, 1..32 */

/* What hq.conf says; "" / 0: not set. */
struct hqi_conf {
	char db[1024], listen_addr[128], key[1024], tls_cert[1024], tls_key[1024], card_key[1024];
	char admin_socket[108];       /* sizeof(sockaddr_un.sun_path) */
	int workers;
	unsigned max_connections, per_ip_connections;
	struct hq_tiers tiers;        /* [loyalty] tiers, tier_window_days (else the till's defaults) */
	const char *hint;             /* what to do about the setting refused */
};

/*
 * Pick hq.conf as every posmark-hq command does (pm_conf_pick: cli = --config, else
 * $POSMARK_HQ_CONFIG, else PM_SYSCONFDIR/posmark/hq.conf if it exists) and read it into hc
 * (zeroed first; tiers start as the till's defaults). *path: the file read, or NULL (none,
 * built-in defaults); it may point into pathbuf. Returns 0, or pm_conf_read's code with the
 * message in err and what to do in *hint.
 */
int hqi_conf_load(const char *cli, struct hqi_conf *hc, char *pathbuf, size_t pathlen, const char **path,
		  char *err, size_t errlen, const char **hint);

/* A number of serve's workers, "1".."32": 0 and the number, or -1 (not one). */
int hqi_workers_parse(const char *s, int *out);

/* ---- the admin socket's shared parts and client (hq_admin_ask.c; docs/hq.md) ---- */

#define HQI_ADMIN_REQ_MAX 256         /* "card1 J " + 64 hex + " " + card + "\n" fits well */
#define HQI_ADMIN_OUT_MAX (64u << 20) /* the largest reply body card accepts */

/* BLAKE2b-256 (hex) of what makes two processes' answers the same: the database and the tiers. */
void hqi_admin_key(const char *conninfo, const struct hq_tiers *t, char hex[65]);
int64_t hqi_now_ms(void);
/* Wait for fd to be ready (POLLIN/POLLOUT) until deadline (hqi_now_ms): 1 ready, 0 timed out or failed. */
int hqi_wait_fd(int fd, short ev, int64_t deadline);
/* Send all of p by deadline: 0, or -1. */
int hqi_send_all(int fd, const char *p, size_t n, int64_t deadline);
/* The directory of path exists and others cannot write it: 0, or -1 with why. */
int hqi_admin_dir_ok(const char *path, char *why, size_t whylen);

/*
 * A reply as card reads it: "OK RC OUTLEN ERRLEN\n" OUT ERR, all of rep[0..len) (rep need
 * not be NUL-terminated). PM_OK or PM_ENOENT with *out and *outlen the output (inside rep) and
 * err the err text (NUL-terminated), or HQI_ADMIN_NOT_ANSWERED for anything else (OTHER, ERR,
 * a short or malformed reply, another return code, an err text longer than errlen - 1 or with a NUL).
 */
#define HQI_ADMIN_NOT_ANSWERED 1
int hqi_admin_reply_parse(const char *rep, size_t len, const char **out, size_t *outlen, char *err, size_t errlen);

/*
 * card: ask the serve at path (NULL: none configured). hq_card_show's PM_OK or PM_ENOENT with
 * its output written to out and its err text (PM_EIO if writing out failed), or
 * HQI_ADMIN_NOT_ANSWERED (no serve, a dead one, another database or tier table, too slow, any
 * other outcome): nothing written, ask the database directly. Logs (debug) which it was.
 */
int hqi_admin_card(const char *path, const char *conninfo, const struct hq_tiers *tiers, const char *card, bool json,
		   FILE *out, char *err, size_t errlen);
/* The same without the debug line, and the line itself ("card CARD answered by serve" or
 * "... asked directly"): the front program logs only an answer, as the full program it runs
 * otherwise logs its own. */
int hqi_admin_card_try(const char *path, const char *conninfo, const struct hq_tiers *tiers, const char *card,
		       bool json, FILE *out, char *err, size_t errlen);
void hqi_admin_log(const char *card, int rc);

/* The end of `card CARD` once answered (by serve or the database): rc PM_OK flushes stdout,
 * PM_ENOENT and any other code say so with err (card's messages and hints). The exit code: 0
 * or 1. One function, so the front program and the full one say the same. */
int hqi_card_outcome(int rc, const char *err);

/*
 * Set by the front program in the environment of the full program it runs after it asked
 * the socket in vain: the full program does not ask again (a stuck serve costs its deadline
 * once) and removes the variable (so nothing it runs inherits it).
 */
#define HQI_ADMIN_ASKED_ENV "POSMARK_HQ_ADMIN_ASKED"

#endif
