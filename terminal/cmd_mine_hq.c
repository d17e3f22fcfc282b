/*
 * cmd_mine_hq.c - posmark mine --hq-db: HQ's sales through `posmark-hq
 * baskets` (a child process, wire.h's contract; bin/posmark does not link
 * libpq), streamed into the miner as lines arrive; with --output-format
 * rules also each sale's card and time (--with-cards) for the explore rules.
 * Split from cmd_mine.c.
 */
#include "terminal/cmd_mine_int.h"
#include "terminal/cli.h"
#include "common/pm_err.h"
#include "wire/wire.h" /* posmark-hq baskets' exit statuses */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the selection was, for messages: " of store S1, since 2026-01-01". */
static void describe(char *buf, size_t len, const struct hq_selection *q, const char *since,
		     const char *until)
{
	size_t n = 0;
	buf[0] = '\0';
	if (q->store && *q->store)
		n += (size_t)snprintf(buf + n, len - n, " of store '%s'", q->store);
	if (n < len && q->terminal && *q->terminal)
		n += (size_t)snprintf(buf + n, len - n, " of terminal '%s'", q->terminal);
	if (n < len && since)
		n += (size_t)snprintf(buf + n, len - n, " since %s", since);
	if (n < len && until)
		snprintf(buf + n, len - n, " until %s", until);
}

/* posmark-hq beside this program (a build's bin/, an installation's bindir), else from $PATH. */
static void hq_program(char *path, size_t len)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/'))) {
			snprintf(path, len, "%.*s/posmark-hq", (int)(slash - self), self);
			if (access(path, X_OK) == 0)
				return;
		}
	}
	snprintf(path, len, "posmark-hq");
}

/* The child's stderr (at most errlen-1 bytes); *first gets its first line without "posmark-hq: ". */
static void child_messages(FILE *f, char *buf, size_t len, char *first, size_t flen)
{
	size_t n;
	char *p;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	p = buf;
	if (!strncmp(p, "posmark-hq: ", 12))
		p += 12;
	snprintf(first, flen, "%.*s", (int)strcspn(p, "\n"), p);
	if (!first[0])
		snprintf(first, flen, "(no message)");
}

/*
 * Whole lines of `posmark-hq baskets --with-cards` (wire.h): "TIME_US<tab>CARD<tab>GTIN,GTIN,...":
 * each sale to the basket miner, and with a card to the sequential one (explore rules).
 */
static int feed_card_lines(struct mine_db *db, struct mine_seq *seq, char *buf, size_t len, const char ***names,
			   size_t *cap, char *err, size_t errlen)
{
	for (char *line = buf, *end = buf + len, *nl; line < end; line = nl + 1) {
		char *t1, *t2, *p, *num_end;
		size_t n = 0;
		int rc;
		if (!(nl = memchr(line, '\n', (size_t)(end - line))))
			nl = end;
		*nl = '\0';
		int64_t time_us = strtoll(line, &num_end, 10);
		if (num_end == line || *num_end != '\t' || !(t2 = strchr(t1 = num_end + 1, '\t'))) {
			snprintf(err, errlen, "a line of posmark-hq baskets --with-cards is not TIME<tab>CARD<tab>ITEMS");
			return PM_ECORRUPT;
		}
		*t2 = '\0';
		for (p = t2 + 1; *p;) {
			char *comma = strchr(p, ',');
			if (n == *cap) {
				const char **v = realloc(*names, (*cap ? *cap * 2 : 64) * sizeof(*v));
				if (!v)
					return PM_ENOMEM;
				*names = v;
				*cap = *cap ? *cap * 2 : 64;
			}
			(*names)[n++] = p;
			if (!comma)
				break;
			*comma = '\0';
			p = comma + 1;
		}
		if (!n)
			continue;
		if ((rc = mine_txn_begin(db)))
			return rc;
		for (size_t i = 0; i < n; i++)
			if ((rc = mine_txn_item(db, (*names)[i], strlen((*names)[i]))))
				return rc;
		if ((rc = mine_txn_end(db)) || (rc = mine_seq_add(seq, t1, time_us, *names, n)))
			return rc;
	}
	return PM_OK;
}

/*
 * Stream `posmark-hq baskets` (wire.h: WIRE_BASKETS_*) into the miner's
 * basket reader, whole lines at a time, while PostgreSQL and posmark-hq are
 * still producing them. Returns the miner's error, if it stopped the read.
 */
static int read_baskets(int fd, struct mine_db *db, struct mine_seq *seq, struct progress_state *ps, char *err,
			size_t errlen)
{
	const char **names = NULL;
	size_t cap_names = 0;
	size_t cap = 4u << 20, have = 0;
	char *buf = malloc(cap), *nl;
	int rc = PM_OK;
	ssize_t n;

	if (!buf)
		return PM_ENOMEM;
	for (;;) {
		if (have == cap) {     /* one line longer than the buffer */
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = PM_ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (have)        /* a last line without its newline */
				rc = seq ? feed_card_lines(db, seq, buf, have, &names, &cap_names, err, errlen)
					 : mine_read(db, buf, have, MINE_BASKET, mine_cli_progress, ps, err, errlen);
			break;
		}
		have += (size_t)n;
		if (!(nl = memrchr(buf, '\n', have)))
			continue;
		size_t upto = (size_t)(nl - buf) + 1;
		if ((rc = seq ? feed_card_lines(db, seq, buf, upto, &names, &cap_names, err, errlen)
			      : mine_read(db, buf, upto, MINE_BASKET, mine_cli_progress, ps, err, errlen)))
			break;
		memmove(buf, buf + upto, have - upto);
		have -= upto;
	}
	free(names);
	free(buf);
	return rc;
}

/* The arguments of `posmark-hq baskets` for the selection; sn and un hold the times' text. */
static void baskets_argv(const char *argv[16], const char *prog, const char *conninfo, const struct hq_selection *q,
			 bool quiet, bool with_cards, char sn[24], char un[24])
{
	int argc = 0;
	argv[argc++] = prog;
	argv[argc++] = "baskets";
	argv[argc++] = "--db";
	argv[argc++] = conninfo;
	if (q->store && *q->store) {
		argv[argc++] = "--store";
		argv[argc++] = q->store;
	}
	if (q->terminal && *q->terminal) {
		argv[argc++] = "--terminal";
		argv[argc++] = q->terminal;
	}
	if (q->since_us != INT64_MIN) {
		snprintf(sn, 24, "%" PRId64, q->since_us);
		argv[argc++] = "--since-us";
		argv[argc++] = sn;
	}
	if (q->until_us != INT64_MAX) {
		snprintf(un, 24, "%" PRId64, q->until_us);
		argv[argc++] = "--until-us";
		argv[argc++] = un;
	}
	if (quiet)
		argv[argc++] = "--quiet";
	if (with_cards)
		argv[argc++] = "--with-cards";   /* the store's rule set: explore rules need cards and times */
	argv[argc] = NULL;
}

/*
 * Start posmark-hq: its stdout into *out_fd (a pipe), its stderr into *errf (a temporary
 * file: its messages are read once it has ended, so it never blocks on a full pipe).
 * 0 when started; else the message is out and cli_fail's exit status (1) returned.
 */
static int baskets_spawn(const char *prog, const char *const *argv, pid_t *pid, int *out_fd, FILE **errf)
{
	posix_spawn_file_actions_t fa;
	int fds[2], spawn_rc;

	if (!(*errf = tmpfile()) || pipe2(fds, O_CLOEXEC)) {
		if (*errf)
			fclose(*errf);
		return cli_fail("mine", NULL, "cannot start posmark-hq: %s", strerror(errno));
	}
	fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);   /* fewer wake-ups; the default 64 KB also works */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(*errf), 2);
	spawn_rc = posix_spawnp(pid, prog, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (spawn_rc) {
		close(fds[0]);
		fclose(*errf);
		return cli_fail("mine", "install posmark-hq beside posmark (the same bin/ directory) or on $PATH: "
				"posmark mine --hq-db reads HQ's sales through it",
				"cannot run '%s': %s", prog, strerror(spawn_rc));
	}
	*out_fd = fds[0];
	return 0;
}

/* How posmark-hq ended (it was read to its end): its exit status (wire.h) as this command's
 * message and exit status. msgs: all it said; first: its first line. */
static int baskets_exit(int status, const char *prog, const char *what, const char *msgs, const char *first)
{
	if (WIFSIGNALED(status))
		return cli_fail("mine", "run the same 'posmark-hq baskets' by hand to see more",
				"'%s' was killed by signal %d: %s", prog, WTERMSIG(status), first);
	switch (WEXITSTATUS(status)) {
	case WIRE_BASKETS_OK:
		fputs(msgs, stderr);   /* its notes, e.g. sales without items left out */
		return 0;
	case WIRE_BASKETS_OFFLINE:
		return cli_fail("mine", "check --hq-db (host, port, dbname, user; the password belongs in ~/.pgpass "
				"or PGPASSWORD) and that PostgreSQL is running and reachable from here",
				"cannot connect to HQ's database: %s", first);
	case WIRE_BASKETS_NOT_HQ:
		return cli_fail("mine", "give the database posmark-hq serve stores into (its --db)",
				"cannot mine this database: %s", first);
	case WIRE_BASKETS_NONE:
		return cli_fail("mine", "check --store, --terminal, --since and --until; "
				"'posmark-hq report sales-by-day' lists the stores and days HQ has",
				"HQ has no sales%s", what);
	case WIRE_BASKETS_USAGE:
		return cli_fail("mine", "install posmark and posmark-hq from the same build",
				"'%s' refused the options posmark mine gave it: %s", prog, first);
	case 127:
		return cli_fail("mine", "install posmark-hq beside posmark (the same bin/ directory) or on $PATH",
				"cannot run '%s': %s", prog, first);
	default:
		return cli_fail("mine", "check the database with 'posmark-hq report sales-by-day --db CONNINFO'",
				"cannot read the sales from HQ's database: %s", first);
	}
}

int mine_cli_read_hq(const char *conninfo, const struct hq_selection *q, const char *since,
		   const char *until, struct mine_db *db, struct mine_seq *seq, struct progress_state *ps)
{
	char prog[4200], sn[24], un[24], err[400], what[300], msgs[4096], first[1024];
	const char *argv[16];
	int fd = -1, status = 0, rc;
	FILE *errf = NULL;
	pid_t pid = 0;

	describe(what, sizeof(what), q, since, until);
	if (!ps->quiet)
		fprintf(stderr, "posmark mine: reading the sales%s from HQ's database\n", what);
	hq_program(prog, sizeof(prog));
	baskets_argv(argv, prog, conninfo, q, ps->quiet, seq != NULL, sn, un);
	if ((rc = baskets_spawn(prog, argv, &pid, &fd, &errf)))
		return rc;
	err[0] = '\0';
	rc = read_baskets(fd, db, seq, ps, err, sizeof(err));
	close(fd);
	if (rc)
		kill(pid, SIGTERM);  /* the miner stopped: so does the reader */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child_messages(errf, msgs, sizeof(msgs), first, sizeof(first));
	fclose(errf);
	if (rc == PM_ENOMEM)
		return cli_fail("mine", "select fewer sales (--store, --since, --until), or raise --max-memory",
				"the sales%s do not fit in memory (needs more than %d MB)", what,
				mine_cli_mb(mine_db_need(db)));
	if (rc)
		return cli_fail("mine", NULL, "cannot mine the sales of HQ: %s", err[0] ? err : pm_strerror(rc));
	return baskets_exit(status, prog, what, msgs, first);
}
