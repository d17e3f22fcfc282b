/*
 * hq_front_main.c - bin/posmark-hq, the front program (docs/hq.md, "The front program").
 *
 * `posmark-hq card CARD [--json]` is answered by the running serve over its admin socket in a
 * few milliseconds, but a program linked with libpq spends most of them in the dynamic loader
 * (Debian's libpq pulls GnuTLS, Kerberos and LDAP; libmicrohttpd GnuTLS again). This program
 * links libc and libsodium only (the request key is BLAKE2b): it answers exactly that lookup
 * when an admin socket is configured and serve answers, and for everything else - every other
 * command, --help, --version, an option or a config it does not take, no socket, no answer -
 * it execs the full program (hq_main.c) with argv and the environment unchanged.
 *
 * Where the full program is: libexec/posmark-hq/posmark-hq-main beside this program's bin/
 * directory (make install), else posmark-hq-main in the same directory (the build tree),
 * both found from /proc/self/exe, so a copy of the tree works wherever it is.
 *
 * What the user sees is the full program's, byte for byte: the same reply (hq_admin_ask.c,
 * shared with it), the same messages (pm_tell_failure) and exit codes, the same hq.conf
 * reading (hq_conf.c): a file the full program refuses is never used here, it says why.
 */
#include "hq/hq_lite_int.h"
#include "wire/wire.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAIN_NAME "posmark-hq-main"

/* Run the full program in this process; returns only if it cannot (after saying why): 127. */
static int run_main(char **argv, bool asked)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "posmark-hq: cannot find this program's directory: %s\nhint: check that /proc is mounted\n",
			strerror(errno));
		return 127;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	if (asked)
		setenv(HQI_ADMIN_ASKED_ENV, "1", 1);
	const char *where[] = { "/../libexec/posmark-hq/" MAIN_NAME, "/" MAIN_NAME };
	int first_err = 0;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", self, where[i]);
		execv(path, argv);
		if (!first_err || errno != ENOENT)
			first_err = errno;
	}
	unsetenv(HQI_ADMIN_ASKED_ENV);
	fprintf(stderr, "posmark-hq: cannot run %s%s or %s/%s: %s\nhint: reinstall posmark-hq: its full program"
		" belongs in ../libexec/posmark-hq/ or beside it (docs/hq.md)\n", self, where[0], self, MAIN_NAME,
		strerror(first_err));
	return 127;
}

/* What `card CARD` needs of the command line; false: leave it to the full program. */
struct card_args {
	const char *card, *config, *db, *admin_socket;
	bool json;
};

static bool parse_card(int argc, char **argv, struct card_args *a)
{
	memset(a, 0, sizeof(*a));
	if (argc < 3 || strcmp(argv[1], "card"))
		return false;
	if ((a->db = getenv("POSMARK_HQ_DB")) && !*a->db)
		a->db = NULL;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--json")) {
			a->json = true;
			continue;
		}
		/* the options of card a lookup may carry; --card-key does not change the answer */
		const char **dst = !strcmp(o, "--db") ? &a->db : !strcmp(o, "--config") ? &a->config
				   : !strcmp(o, "--admin-socket") ? &a->admin_socket : NULL;
		if (dst || !strcmp(o, "--card-key")) {
			if (!v)
				return false;
			if (dst)
				*dst = v;
			i++;
			continue;
		}
		if (o[0] == '-' || a->card)   /* --help, --version, any other option, a second word */
			return false;
		a->card = o;
	}
	/* a number, as the socket takes it (a ref, card ref, card adjust: the full program) */
	return a->card && *a->card && strspn(a->card, "0123456789") == strlen(a->card) &&
	       strlen(a->card) <= WIRE_CARD_MAX;
}

int main(int argc, char **argv)
{
	struct card_args a;
	struct hqi_conf hc;
	char pathbuf[1024], err[1500];
	const char *path, *hint;
	if (!parse_card(argc, argv, &a))
		return run_main(argv, false);
	/* hq.conf as the full program reads it; one it refuses, it refuses in its own words */
	if (hqi_conf_load(a.config, &hc, pathbuf, sizeof(pathbuf), &path, err, sizeof(err), &hint))
		return run_main(argv, false);
	if (!a.db && hc.db[0])
		a.db = hc.db;
	if (!a.admin_socket && hc.admin_socket[0])
		a.admin_socket = hc.admin_socket;
	if (!a.admin_socket || sodium_init() < 0)
		return run_main(argv, false);
	pm_log_init_from_env(PM_LOG_WARN);
	int rc = hqi_admin_card_try(a.admin_socket, a.db, &hc.tiers, a.card, a.json, stdout, err, sizeof(err));
	if (rc == HQI_ADMIN_NOT_ANSWERED)
		return run_main(argv, true);
	hqi_admin_log(a.card, rc);
	return hqi_card_outcome(rc, err);
}
