/*
 * daemon_sync.c - the daemon's upload to HQ and rule-set refresh. Every
 * hq.interval_s it runs `posmark sync --once --result-line` as a child
 * process and reads its versioned result line (docs/daemon.md):
 * the child has its own LMDB handle and its own network timeouts, so a slow
 * or dead HQ never stalls a lane. When the child installed a new signed
 * rule set, the lanes switch to it at once.
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void daemon_rules_name(struct daemon *d)
{
	char path[1100];
	json_t *doc;
	snprintf(path, sizeof(path), "%s/rules.json", d->cfg.data_dir);
	d->rules_version[0] = '\0';
	if ((doc = json_load_file(path, 0, NULL))) {
		snprintf(d->rules_version, sizeof(d->rules_version), "%s (v%lld, %zu rules)",
			 json_string_value(json_object_get(doc, "name")) ?: "unnamed",
			 (long long)json_integer_value(json_object_get(doc, "version")),
			 json_array_size(json_object_get(doc, "rules")));
		json_decref(doc);
	}
}

void daemon_reload_rules(struct daemon *d)
{
	char path[1100], err[600];
	struct ofr_rules *fresh = NULL;
	snprintf(path, sizeof(path), "%s/rules.json", d->cfg.data_dir);
	int rc = term_rules_read(path, d->db, d->cfg.store_id, &fresh, err, sizeof(err));
	if (rc) {
		pm_err("rule set not reloaded, the old one stays: %s", err[0] ? err : pm_strerror(rc));
		return;
	}
	/* Under the engine lock: a lane's decision may be running on the commit thread. */
	term_offers_lock(&d->offers);
	struct ofr_rules *old = d->offers.rules;
	d->offers.rules = d->cfg.offers_enabled ? fresh : NULL;
	if (!d->cfg.offers_enabled)
		ofr_rules_free(fresh);
	for (size_t i = 0; i < d->n_lanes; i++) {
		struct till *t = &d->lanes[i]->till;
		t->offers.rules = d->offers.rules;
		if (d->lanes[i]->committing) {
			/* Its sale decides with the new rules and no history profile (built for the old). */
			ofr_profile_free(t->profile);
			t->profile = NULL;
		}
	}
	ofr_rules_free(old);
	term_offers_unlock(&d->offers);
	for (size_t i = 0; i < d->n_lanes; i++) {
		struct till *t = &d->lanes[i]->till;
		if (t->card[0] && !d->lanes[i]->committing)
			till_offers_card(t);   /* the open sale's profile against the new rules */
	}
	daemon_rules_name(d);
	pm_info("rule set loaded: %s", d->rules_version[0] ? d->rules_version : "none installed");
}

void daemon_sync_tick(struct daemon *d)
{
	int64_t now = pm_now_us();
	int fds[2];
	daemon_compact_tick(d);   /* an erasure's compaction, between requests */
	if (!d->cfg.hq.url[0] || d->sync_pid > 0 || (now < d->next_sync_us && !d->sync_soon))
		return;
	d->sync_soon = false;
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(d->hq_state, sizeof(d->hq_state), "cannot start a sync: %s", strerror(errno));
		d->next_sync_us = now + (int64_t)d->cfg.hq.interval_s * 1000000;
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		char *argv[12];
		int n = 0;
		argv[n++] = (char *)"posmark";
		argv[n++] = (char *)"sync";
		argv[n++] = (char *)"--once";
		argv[n++] = (char *)"--result-line";
		argv[n++] = (char *)"--data";
		argv[n++] = d->cfg.data_dir;
		if (d->config_path) {
			argv[n++] = (char *)"--config";
			argv[n++] = (char *)d->config_path;
		}
		argv[n] = NULL;
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		d->next_sync_us = now + (int64_t)d->cfg.hq.interval_s * 1000000;
		return;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	d->sync_pid = pid;
	d->sync_fd = fds[0];
	d->sync_out_len = 0;
}

/* The last result line of the child's output (it prints one per round). */
static int last_result_line(const char *out, size_t len, struct term_sync_result *r)
{
	int rc = PM_EPROTO;
	size_t tl = strlen(TERM_SYNC_RESULT_TAG);
	for (size_t start = 0; start < len;) {
		const char *nl = memchr(out + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - out) : len;
		if (end - start > tl && !strncmp(out + start, TERM_SYNC_RESULT_TAG, tl))
			rc = term_sync_result_parse(out + start, end - start, r);
		start = end + 1;
	}
	return rc;
}

void daemon_sync_read(struct daemon *d)
{
	ssize_t n;
	while ((n = read(d->sync_fd, d->sync_out + d->sync_out_len,
			 sizeof(d->sync_out) - 1 - d->sync_out_len)) > 0)
		d->sync_out_len += (size_t)n;
	if (n < 0 && errno == EAGAIN)
		return;
	/* End of the child's output: collect it. */
	int status = 0;
	close(d->sync_fd);
	d->sync_fd = -1;
	waitpid(d->sync_pid, &status, 0);
	d->sync_pid = 0;
	d->sync_out[d->sync_out_len] = '\0';
	int64_t now = pm_now_us();
	d->last_sync_us = now;
	d->next_sync_us = now + (int64_t)d->cfg.hq.interval_s * 1000000;
	int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	struct term_sync_result r;
	int prc = last_result_line(d->sync_out, d->sync_out_len, &r);
	if (prc) {
		/* Nothing is lost: what HQ did not acknowledge goes at the next sync. */
		snprintf(d->hq_state, sizeof(d->hq_state), "sync child gave %s (exit %d); sales stay queued "
			 "and go at the next sync", prc == PM_EVERSION ? "a result line of another version"
			 : "no readable result line", exit_status);
		pm_err("sync to HQ: %s; hint: run 'posmark sync --once' by hand to see why, and check that "
		       "the daemon and bin/posmark are the same version", d->hq_state);
	} else if (r.rc == PM_OK) {
		snprintf(d->hq_state, sizeof(d->hq_state), "reachable; last sync sent %llu sales, %llu events",
			 r.sales, r.events);
		pm_info("sync to HQ: %llu sales and %llu events in %llu batches", r.sales, r.events, r.batches);
		if (r.rules > 0)
			daemon_reload_rules(d);
	} else if (r.rc == PM_ECORRUPT) {
		/* The log is damaged: not HQ's fault, and retrying will not help. */
		snprintf(d->hq_state, sizeof(d->hq_state), "not synced: purchase log '%.120s/data.mdb' is "
			 "damaged (sync exit %d)", d->cfg.data_dir, exit_status);
		pm_err("sync to HQ stopped: %s; hint: %s", d->hq_state, LOY_DAMAGED_HINT);
	} else {
		snprintf(d->hq_state, sizeof(d->hq_state), "unreachable or refusing (%s, sync exit %d); sales "
			 "stay queued and go at the next sync", pm_errname(r.rc), exit_status);
		pm_warn("sync to HQ failed; %s", d->hq_state);
	}
}

void daemon_sync_stop(struct daemon *d)
{
	if (d->sync_pid <= 0)
		return;
	kill(d->sync_pid, SIGTERM);
	waitpid(d->sync_pid, NULL, 0);
	d->sync_pid = 0;
	if (d->sync_fd >= 0)
		close(d->sync_fd);
	d->sync_fd = -1;
}
