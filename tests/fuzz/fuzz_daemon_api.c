/*
 * fuzz_daemon_api.c - the daemon's local API (terminal/daemon_api.c) on what
 * a POS application, or anything else that reaches the socket, might send:
 * each input is split into lines, each line handled as a request; tenders
 * go through the real commit thread into a real LMDB log. Every request
 * must be answered by well-formed JSON lines with "ok", never a crash.
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct daemon d;
static char dir[] = "/tmp/posmark-fuzz-daemon-XXXXXX";

/* The log lives only as long as the fuzzer: its files are unlinked as soon
 * as LMDB has them open (libFuzzer does not always run atexit handlers). */
static void remove_log(void)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	char path[sizeof(dir) + 300];
	while (dh && (e = readdir(dh)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (dh)
		closedir(dh);
	rmdir(dir);
}

static void setup_once(void)
{
	if (!mkdtemp(dir))
		abort();
	pm_log_level = -1;   /* quiet: the fuzzer's output is the point */
	term_config_default(&d.cfg);
	snprintf(d.cfg.data_dir, sizeof(d.cfg.data_dir), "%s", dir);
	d.cfg.loy.defer_meta_sync = true;
	if (loy_open(dir, &d.cfg.loy, &d.db, NULL, 0) || committer_start(d.db, &d.committer, &d.commit_fd))
		abort();
	remove_log();
	for (int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		d.clients[i].fd = -1;
	d.clients[0].fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	d.sync_fd = -1;
}

/* A tender waits for its commit: finish it as the event loop would. */
static void settle_commits(void)
{
	for (;;) {
		bool waiting = false;
		for (size_t i = 0; i < d.n_lanes; i++)
			waiting |= d.lanes[i]->committing;
		if (!waiting)
			return;
		struct pollfd pfd = { d.commit_fd, POLLIN, 0 };
		if (poll(&pfd, 1, 10000) <= 0)
			abort();   /* a commit that never finishes is a bug too */
		for (struct commit_job *j = committer_take_done(d.committer), *next; j; j = next) {
			next = j->next;
			daemon_commit_done(&d, j);
		}
	}
}

/* Every reply line is a JSON object with a boolean "ok". */
static void check_replies(void)
{
	struct client *c = &d.clients[0];
	char *p = c->out, *end = c->out + c->out_len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			abort();
		json_t *r = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (!json_is_object(r) || !json_is_boolean(json_object_get(r, "ok")))
			abort();
		json_decref(r);
		p = nl + 1;
	}
	c->out_len = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup_once();
		ready = true;
	}
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		if (len)
			daemon_handle(&d, 0, p, len);
		settle_commits();
		check_replies();
		p += len + 1;
	}
	daemon_lanes_clear(&d);
	return 0;
}
