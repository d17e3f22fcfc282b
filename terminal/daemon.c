/*
 * daemon.c - `posmark daemon`: one process owns the log, the devices and
 * the local API socket, in one poll() loop. Sales of all lanes are
 * committed by the group-commit thread (committer.c). SIGTERM: finish the
 * commits in flight, keep open sales in DATA/open-sales.json (open_sales.c), exit.
 * SIGHUP: reload the config (docs/daemon.md).
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_log.h"
#include "common/pm_notify.h"
#include "common/pm_time.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t got_term, got_hup;
static int sig_pipe_w = -1;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
	if (sig_pipe_w >= 0 && write(sig_pipe_w, &c, 1) < 0) {
		/* the loop wakes up on its next timeout anyway */
	}
	errno = saved;
}

/* The lane's till tells its events here: keep what the replies need, log the rest. */
static void lane_sink(void *ctx, const struct till_event *ev)
{
	struct lane *l = ctx;
	switch (ev->kind) {
	case TILL_EV_SALE_COMMITTED:
		pm_info("lane %s: sale %llu committed, %lld cents", l->name, (unsigned long long)ev->sale->seq,
			(long long)ev->sale->total_cents);
		break;
	case TILL_EV_RETURN_COMMITTED:
		pm_info("lane %s: return %llu of sale %s committed, %lld cents refunded", l->name,
			(unsigned long long)ev->sale->seq, ev->sale->return_of, (long long)ev->sale->refund_cents);
		break;
	case TILL_EV_SCAN_REFUSED:
		if (l->reply_client < 0)
			pm_warn("lane %s: scan refused: %s", l->name, ev->reason);
		snprintf(l->refusal, sizeof(l->refusal), "%s", ev->reason);
		break;
	case TILL_EV_COUPON_REFUSED:
		snprintf(l->refusal, sizeof(l->refusal), "%s", ev->reason);
		break;
	case TILL_EV_COUPON_ACCEPTED:
		json_decref(l->coupon_accepted);
		l->coupon_accepted = till_event_json(ev);
		break;
	default:
		break;
	}
}

struct lane *daemon_lane(struct daemon *d, const char *name, bool create)
{
	for (size_t i = 0; i < d->n_lanes; i++)
		if (!strcmp(d->lanes[i]->name, name)) {
			d->lanes[i]->active_ns = pm_mono_ns();
			return d->lanes[i];
		}
	if (!create || d->n_lanes >= DAEMON_MAX_LANES || strlen(name) >= sizeof(d->lanes[0]->name) ||
	    !*name)
		return NULL;
	struct lane *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	snprintf(l->name, sizeof(l->name), "%s", name);
	till_init(&l->till, d->db, &d->cfg, NULL, NULL, NULL);
	daemon_lane_hooks(d, l);   /* lookups at HQ happen off the loop (daemon_lookup.c) */
	l->till.sink = lane_sink;
	l->till.sink_ctx = l;
	l->reply_client = -1;
	d->lanes[d->n_lanes++] = l;
	return l;
}

static void lane_free(struct lane *l)
{
	till_release(&l->till);
	till_pending_release(&l->pending);
	json_decref(l->reply_id);
	json_decref(l->coupon_accepted);
	free(l);
}

void daemon_lanes_clear(struct daemon *d)
{
	for (size_t i = 0; i < d->n_lanes; i++)
		lane_free(d->lanes[i]);
	d->n_lanes = 0;
	d->till_lane = NULL;
}

static void client_close(struct daemon *d, int slot);
static bool awaits_reply(struct daemon *d, int slot);

void daemon_reply(struct daemon *d, int slot, json_t *obj)
{
	struct client *c = &d->clients[slot];
	if (!obj || c->fd < 0) {
		json_decref(obj);
		return;
	}
	/* Dumped straight into the client's buffer: no copy, no allocation once it has grown. */
	for (;;) {
		size_t room = c->out_cap - c->out_len;
		size_t n = room > 1 ? json_dumpb(obj, c->out + c->out_len, room - 1, JSON_COMPACT) : 0;
		if (room > 1 && n == 0)
			break; /* cannot serialise (never for the objects built here) */
		if (n && n < room) {
			c->out[c->out_len + n] = '\n';
			c->out_len += n + 1;
			break;
		}
		size_t need = c->out_len + (n ? n : 4096) + 1, cap = c->out_cap ? c->out_cap : 4096;
		if (n && need > DAEMON_OUT_MAX) {
			/* It sends requests but does not read the replies: cut it off, memory stays bounded. */
			pm_warn("client %d: closed, %zu bytes of replies unread (limit %d): it does not read its "
				"replies; the POS app must read each reply line", slot, c->out_len, DAEMON_OUT_MAX);
			json_decref(obj);
			client_close(d, slot);
			return;
		}
		while (cap < need)
			cap *= 2;
		char *nb = realloc(c->out, cap);
		if (!nb)
			break;
		c->out = nb;
		c->out_cap = cap;
	}
	json_decref(obj);
}

static void client_close(struct daemon *d, int slot)
{
	struct client *c = &d->clients[slot];
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->eof = false;
	c->skipping = false;
	c->gen++;
	c->in_len = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_cap = 0;
}

static int listen_socket(struct daemon *d, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long (max %zu bytes)", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(d->socket_path, sizeof(d->socket_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file left by a killed daemon: remove it only if nobody answers. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "another posmark daemon is listening on '%s'", path);
		close(fd);
		return -1;
	}
	unlink(path);
	mode_t old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		snprintf(err, errlen, "cannot listen on '%s': %s", path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	chmod(path, 0660);
	if (d->cfg.socket_group[0]) {
		struct group *g = getgrnam(d->cfg.socket_group);
		if (!g || chown(path, (uid_t)-1, g->gr_gid))
			pm_warn("cannot give socket '%s' to group '%s'; POS users may not reach it", path,
				d->cfg.socket_group);
	}
	return fd;
}

/*
 * One daemon per log: DATA/daemon.lock, held with flock() for the daemon's
 * life (the kernel drops it when the process dies) and holding its pid, so a
 * second daemon on the same --data says who has it. -1 after telling why.
 */
static int lock_data_dir(const char *dir)
{
	char path[4200], pid[32] = "";
	snprintf(path, sizeof(path), "%s/daemon.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		cli_fail("daemon", "check the permissions of the log directory", "cannot open '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			cli_fail("daemon", "stop that daemon first (or give this one its own --data DIR); only one "
				 "daemon may own a purchase log", "purchase log '%s' is in use by another posmark daemon "
				 "(pid %s, lock %s)", dir, pid[0] ? pid : "unknown", path);
		else
			cli_fail("daemon", NULL, "cannot lock '%s': %s", path, strerror(e));
		close(fd);
		return -1;
	}
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)len, 0) != len)
		pm_warn("cannot write the pid into '%s': %s", path, strerror(errno));
	return fd;
}

/* Tell a client why it is closed (best effort: it may not read), then close it. */
static void client_goodbye(struct daemon *d, int slot, const char *message, const char *hint)
{
	struct client *c = &d->clients[slot];
	json_t *r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", pm_errname(PM_EBUSY), "message", message,
			      "hint", hint);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
	if (text && !c->out_len) {
		size_t len = strlen(text);
		text[len] = '\n';   /* json_dumps leaves the NUL: send it as the newline */
		if (write(c->fd, text, len + 1) < 0) { /* closing anyway */ }
	}
	free(text);
	json_decref(r);
	client_close(d, slot);
}

/*
 * May be closed for idleness: any client but one whose tender is at the
 * committer. Idle time counts from its last read or write, so a half request
 * left hanging or replies left unread count as idle too.
 */
static bool client_idle(struct daemon *d, int slot)
{
	return d->clients[slot].fd >= 0 && !awaits_reply(d, slot);
}

/* Clients idle for longer than daemon.idle_timeout_s are closed. */
static void close_idle_clients(struct daemon *d)
{
	int64_t now = pm_mono_ns(), limit = (int64_t)d->cfg.idle_timeout_s * 1000000000LL;
	for (int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		if (client_idle(d, i) && now - d->clients[i].last_ns >= limit) {
			pm_info("client %d: closed after %d s idle (daemon.idle_timeout_s)", i, d->cfg.idle_timeout_s);
			client_goodbye(d, i, "connection closed: idle for longer than daemon.idle_timeout_s",
				       "reconnect when there is a request to send");
		}
}

/* All slots taken: the client idle the longest makes room, or -1 when none is idle. */
static int evict_idle_client(struct daemon *d)
{
	int victim = -1;
	for (int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		if (client_idle(d, i) && (victim < 0 || d->clients[i].last_ns < d->clients[victim].last_ns))
			victim = i;
	if (victim >= 0) {
		pm_warn("all %d client slots taken: closing client %d, idle for %lld ms, to admit a new one",
			DAEMON_MAX_CLIENTS, victim, (long long)((pm_mono_ns() - d->clients[victim].last_ns) / 1000000));
		client_goodbye(d, victim, "connection closed: all client slots were taken and this one was the "
				"longest idle", "reconnect when there is a request to send");
	}
	return victim;
}

static void accept_clients(struct daemon *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int slot = -1;
		for (int i = 0; i < DAEMON_MAX_CLIENTS; i++)
			if (d->clients[i].fd < 0) {
				slot = i;
				break;
			}
		if (slot < 0)
			slot = evict_idle_client(d);
		if (slot < 0) {
			char msg[300];
			int n = snprintf(msg, sizeof(msg), "{\"ok\":false,\"error\":\"%s\",\"message\":\"too many clients "
					 "(%d), all busy\",\"hint\":\"retry in a moment; close connections that are not "
					 "in use\"}\n", pm_errname(PM_EBUSY), DAEMON_MAX_CLIENTS);
			if (n > 0 && write(fd, msg, (size_t)n) < 0) { /* closing anyway */ }
			close(fd);
			continue;
		}
		d->clients[slot].fd = fd;
		d->clients[slot].in_len = 0;
		d->clients[slot].last_ns = pm_mono_ns();
	}
}

/*
 * A line longer than DAEMON_LINE_MAX gets one error reply and none of it
 * runs: the rest of it, up to its newline, is read and dropped.
 */
static void line_too_long(struct daemon *d, int slot)
{
	struct client *c = &d->clients[slot];
	json_t *r = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", pm_errname(PM_EINVAL), "message",
			      "request line longer than 64 KiB: ignored, none of it was run", "hint",
			      "send one JSON object per line, each shorter than 64 KiB, ended by a newline");
	d->errors++;
	daemon_reply(d, slot, r);
	pm_warn("client %d: request line longer than %d bytes ignored", slot, DAEMON_LINE_MAX);
	c->skipping = true;
	c->in_len = 0;
}

/*
 * Handle the complete lines in the client's buffer, in order, until one parks
 * its lane waiting for HQ (the rest wait for daemon_client_resume). false:
 * the client was closed.
 */
static bool client_lines(struct daemon *d, int slot)
{
	struct client *c = &d->clients[slot];
	char *start = c->in, *nl;
	while (!daemon_client_parked(d, slot) &&
	       (nl = memchr(start, '\n', c->in_len - (size_t)(start - c->in)))) {
		*nl = '\0';
		if (c->skipping)
			c->skipping = false;    /* the end of the long line: drop it */
		else if (nl > start)
			daemon_handle(d, slot, start, (size_t)(nl - start));
		start = nl + 1;
		if (c->fd < 0)
			return false;
	}
	c->in_len -= (size_t)(start - c->in);
	memmove(c->in, start, c->in_len);
	return true;
}

static void client_read(struct daemon *d, int slot)
{
	struct client *c = &d->clients[slot];
	for (;;) {
		if (c->in_len == sizeof(c->in)) {
			if (c->skipping)
				c->in_len = 0;
			else
				line_too_long(d, slot);
		}
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0) {
			/* Half-closed, perhaps mid-message: the half line is dropped, replies still go. */
			c->eof = true;
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_close(d, slot);
			return;
		}
		if (n < 0)
			return;
		c->last_ns = pm_mono_ns();
		/* A short read drained the socket: skip the read that would say EAGAIN. */
		bool drained = (size_t)n < sizeof(c->in) - c->in_len;
		c->in_len += (size_t)n;
		if (!client_lines(d, slot) || drained || daemon_client_parked(d, slot))
			return;
	}
}

void daemon_client_resume(struct daemon *d, int slot)
{
	client_lines(d, slot);
}

static void client_write(struct daemon *d, int slot)
{
	struct client *c = &d->clients[slot];
	while (c->out_len > 0) {
		ssize_t n = write(c->fd, c->out, c->out_len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				client_close(d, slot);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
		c->last_ns = pm_mono_ns();
	}
}

/* The service manager's readiness (pm_notify.h); a failure is only logged. */
static void notify(const char *state)
{
	if (pm_notify(state))
		pm_warn("cannot tell the service manager '%.*s' through NOTIFY_SOCKET: %s",
			(int)strcspn(state, "\n"), state, strerror(errno));
}

static void reload_config(struct daemon *d, char *err, size_t errlen)
{
	struct term_config cfg;
	if (!d->config_path) {
		pm_info("SIGHUP: no config file to reload");
		return;
	}
	term_config_default(&cfg);
	if (term_config_load(d->config_path, &cfg, err, errlen)) {
		pm_err("SIGHUP: config not reloaded, the old one stays: %s", err);
		return;
	}
	/* The log directory and socket need a restart; everything else applies now. */
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", d->cfg.data_dir);
	d->cfg = cfg;
	pm_info("SIGHUP: configuration reloaded from %s", d->config_path);
	daemon_reload_rules(d);
}

static void reload(struct daemon *d)
{
	char err[600], msg[200];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify(msg);
	reload_config(d, err, sizeof(err));
	notify("READY=1\nSTATUS=serving the POS API");
}

static bool awaits_reply(struct daemon *d, int slot)
{
	if (daemon_client_parked(d, slot))
		return true;
	for (size_t i = 0; i < d->n_lanes; i++)
		if (d->lanes[i]->committing && d->lanes[i]->reply_client == slot)
			return true;
	return false;
}

/* See committer_expect(). */
#define HOT_LANE_NS 1000000
static unsigned hot_lanes(struct daemon *d)
{
	int64_t now = pm_mono_ns();
	unsigned n = 0;
	for (size_t i = 0; i < d->n_lanes; i++) {
		struct lane *l = d->lanes[i];
		n += l->till.open && !l->committing && now - l->active_ns < HOT_LANE_NS;
	}
	return n;
}

static bool any_committing(struct daemon *d)
{
	for (size_t i = 0; i < d->n_lanes; i++)
		if (d->lanes[i]->committing)
			return true;
	return false;
}

/* The standalone till: feed scans while the scanner has them. */
static void till_step(struct daemon *d)
{
	struct scan_raw raw;
	/* Receipts waiting for the printer print when it is back (at most every 3 s),
	 * also after the scanner is gone (a script that ended). */
	till_retry_receipt(&d->till_lane->till, false);
	for (int i = 0; d->scanner && i < 64; i++) {
		int rc = scan_read(d->scanner, &raw, 0);
		if (rc == PM_ENOENT) {
			pm_info("scanner '%s': end of input", scan_dev_name(d->scanner));
			scan_close(d->scanner);
			d->scanner = NULL;
			return;
		}
		if (rc)
			return;
		if (till_feed(&d->till_lane->till, &raw))
			pm_err("till: sale kept open: the log refused the commit");
	}
}

/* The standalone till's scanner and printer (lane "till"). 0, or 1 after telling why. */
static int open_standalone_till(struct daemon *d, const char *scanner_spec, const char *printer_spec)
{
	char err[700];
	if (scan_open(scanner_spec, &d->cfg.scan, &d->scanner, err, sizeof(err)))
		return cli_fail("daemon", "check devices.scanner", "%s", err);
	if (printer_spec && *printer_spec && prn_open(printer_spec, &d->printer, err, sizeof(err)))
		return cli_fail("daemon", "check devices.printer", "%s", err);
	if (d->printer && d->cfg.printer_profile[0] && !strstr(printer_spec, ",profile=") &&
	    prn_set_profile(d->printer, d->cfg.printer_profile))
		return cli_fail("daemon", "see docs/printers.md for the profile names",
				"devices.printer_profile '%s' is not a known printer profile", d->cfg.printer_profile);
	d->till_lane = daemon_lane(d, "till", true);
	d->till_lane->till.hq = d->hq;   /* its scanner is read on the loop: it asks HQ in line */
	d->till_lane->till.printer = d->printer;
	/* Receipts left waiting in the log (paper out, a crash) print now, before any new sale's. */
	if (d->printer && till_retry_receipt(&d->till_lane->till, true))
		pm_warn("%zu receipt%s waiting for the printer (first: sale %llu)", d->till_lane->till.queue_n,
			d->till_lane->till.queue_n == 1 ? "" : "s", (unsigned long long)d->till_lane->till.queue_first);
	return 0;
}

/* What the loop waits for: slot_of[i] is a client slot, or -1 signals, -2 commits,
 * -3 the listening socket, -4 the scanner, -5 the sync child, -6 HQ lookups. */
static nfds_t poll_set(struct daemon *d, int sig_fd, struct pollfd *pfd, int *slot_of)
{
	nfds_t n = 0;
	pfd[n] = (struct pollfd){ sig_fd, POLLIN, 0 };
	slot_of[n++] = -1;
	pfd[n] = (struct pollfd){ d->commit_fd, POLLIN, 0 };
	slot_of[n++] = -2;
	if (!got_term) {
		pfd[n] = (struct pollfd){ d->listen_fd, POLLIN, 0 };
		slot_of[n++] = -3;
	}
	if (d->sync_fd >= 0) {
		pfd[n] = (struct pollfd){ d->sync_fd, POLLIN, 0 };
		slot_of[n++] = -5;
	}
	if (d->lookup_fd >= 0) {
		pfd[n] = (struct pollfd){ d->lookup_fd, POLLIN, 0 };
		slot_of[n++] = -6;
	}
	int sfd = d->scanner ? scan_fd(d->scanner) : -1;
	if (sfd >= 0) {
		pfd[n] = (struct pollfd){ sfd, POLLIN, 0 };
		slot_of[n++] = -4;
	}
	for (int i = 0; i < DAEMON_MAX_CLIENTS; i++) {
		struct client *c = &d->clients[i];
		if (c->fd < 0)
			continue;
		if (c->eof && !c->out_len && !awaits_reply(d, i)) {
			client_close(d, i);
			continue;
		}
		/* A parked client's next lines wait in the socket (its buffer keeps order). */
		bool reading = !c->eof && !daemon_client_parked(d, i);
		short ev = (short)((reading ? POLLIN : 0) | (c->out_len ? POLLOUT : 0));
		if (!ev)
			continue;
		pfd[n] = (struct pollfd){ c->fd, ev, 0 };
		slot_of[n++] = i;
	}
	return n;
}

static void dispatch(struct daemon *d, int sig_fd, const struct pollfd *pfd, const int *slot_of, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (slot_of[i] == -1) {
			char buf[64];
			while (read(sig_fd, buf, sizeof(buf)) > 0)
				;
		} else if (slot_of[i] == -2) {
			struct commit_job *j = committer_take_done(d->committer);
			while (j) {
				struct commit_job *next = j->next;
				daemon_commit_done(d, j);
				j = next;
			}
			for (int k = 0; k < DAEMON_MAX_CLIENTS; k++)
				if (d->clients[k].fd >= 0 && d->clients[k].out_len)
					client_write(d, k);
		} else if (slot_of[i] == -5) {
			daemon_sync_read(d);
		} else if (slot_of[i] == -6) {
			daemon_lookups_done(d);
			for (int k = 0; k < DAEMON_MAX_CLIENTS; k++)
				if (d->clients[k].fd >= 0 && d->clients[k].out_len)
					client_write(d, k);
		} else if (slot_of[i] == -3) {
			accept_clients(d);
		} else if (slot_of[i] >= 0) {
			int s = slot_of[i];
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR) && !d->clients[s].eof)
				client_read(d, s);
			if (d->clients[s].fd >= 0 && d->clients[s].out_len)
				client_write(d, s);
		}
	}
}

/* Every client slot free, no open-sales file, no lock yet (-1: nothing to close on the way out). */
static void init_state(struct daemon *d)
{
	d->started_us = pm_now_us();
	for (int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	d->open_sales_fd = -1;
	d->lock_fd = -1;
}

/* SIGTERM, SIGINT and SIGHUP set a flag and write a byte to sig_pipe to wake poll(): the loop
 * does the work, not the handler. SIGPIPE is ignored: a client gone mid-reply is that client's
 * write error, not the daemon's death. 0, or 1 after telling why. */
static int install_signals(int sig_pipe[2])
{
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		return cli_fail("daemon", NULL, "cannot create a pipe: %s", strerror(errno));
	sig_pipe_w = sig_pipe[1];
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* HQ for the standalone till (asked on the loop) and the thread that answers the lanes'
 * account lookups; without that thread lanes decide on what the log knows. */
static void start_hq(struct daemon *d)
{
	term_till_hq(&d->hq, &d->cfg, d->db);
	d->lookup_fd = -1;
	if (d->hq.account_lookup && lookuper_start(&d->cfg, d->db, &d->lookuper, &d->lookup_fd))
		pm_warn("cannot start the HQ lookup thread: lanes decide on what the log knows");
}

/* Called before any lane exists, so every lane (the standalone till's too) shares this one
 * engine: one ledger for the caps, one rule set to reload. Without it, offers are off. */
static void share_offers_engine(struct daemon *d)
{
	char oerr[600];
	if (term_offers_open(&d->cfg, d->db, &d->offers, oerr, sizeof(oerr)))
		pm_warn("offers disabled: %s", oerr[0] ? oerr : "cannot open the offers engine");
	till_offers_share(&d->offers);   /* term_offers_open loaded the installed rule set */
}

/* What the loop starts from: the installed rule set's name for status replies, no sync child
 * yet, and the sales open at the last stop back on their lanes. */
static void restore_state(struct daemon *d)
{
	daemon_rules_name(d);
	d->sync_fd = -1;
	snprintf(d->hq_state, sizeof(d->hq_state), "%s", d->cfg.hq.url[0] ? "no sync yet" : "not configured (hq.url)");
	open_sales_restore(d);
	open_sales_reserve(d);   /* the space to keep them at a stop, even on a full disk */
}

/* Tell the log and the service manager (Type=notify) that clients may connect now. */
static void announce_ready(struct daemon *d, const char *socket_path)
{
	char msg[400];
	pm_info("posmark daemon ready: log %s, socket %s%s%s", d->cfg.data_dir, socket_path,
		d->scanner ? ", standalone till on " : "", d->scanner ? scan_dev_name(d->scanner) : "");
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving the POS API on %s\nMAINPID=%ld", socket_path,
		 (long)getpid());
	notify(msg);
}

/* The event loop. After SIGTERM it goes on while commits or HQ lookups are in flight, so that
 * their clients still get their replies; the standalone till and HQ sync are no longer stepped. */
static void serve(struct daemon *d, int sig_fd)
{
	while (!got_term || any_committing(d) || daemon_any_lookup(d)) {
		struct pollfd pfd[DAEMON_MAX_CLIENTS + 8];
		int slot_of[DAEMON_MAX_CLIENTS + 8];
		nfds_t n = poll_set(d, sig_fd, pfd, slot_of);
		committer_expect(d->committer, hot_lanes(d));
		/* A scanner without an fd (a script) is read between events. */
		int timeout = (d->scanner && scan_fd(d->scanner) < 0) ? 0 : 1000;
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		dispatch(d, sig_fd, pfd, slot_of, n);
		if (d->till_lane && !got_term)
			till_step(d);
		if (!got_term) {
			daemon_sync_tick(d);
			open_sales_reserve_tick(d);
		}
		close_idle_clients(d);
	}
}

/* Clients get what is already queued for them, then are closed; open sales are kept on disk
 * for the next start, and the sync child is stopped. */
static void stop_serving(struct daemon *d)
{
	pm_info("posmark daemon: shutting down");
	notify("STOPPING=1\nSTATUS=stopping: finishing commits, keeping open sales");
	for (int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		if (d->clients[i].fd >= 0) {
			client_write(d, i);
			client_close(d, i);
		}
	open_sales_save(d);
	daemon_sync_stop(d);
}

int daemon_run(struct daemon *d, const char *socket_path, const char *scanner_spec,
	       const char *printer_spec)
{
	char err[700];
	int sig_pipe[2];
	int rc = 1;

	init_state(d);
	if (install_signals(sig_pipe))
		return 1;   /* install_signals told why */

	/* The committer pipelines groups: one sync each (committer.c). */
	d->cfg.loy.defer_meta_sync = true;
	if (cli_open_log_full("daemon", &d->cfg, &d->db))
		goto out_close_pipe;
	if ((d->lock_fd = lock_data_dir(d->cfg.data_dir)) < 0) {
		loy_close(d->db);
		goto out_close_pipe;
	}
	start_hq(d);
	if ((d->listen_fd = listen_socket(d, socket_path, err, sizeof(err))) < 0) {
		cli_fail("daemon", "set daemon.socket in the config or pass --socket PATH", "%s", err);
		goto out_close_log;
	}
	if (committer_start(d->db, &d->committer, &d->commit_fd)) {
		cli_fail("daemon", NULL, "cannot start the commit thread");
		goto out_close_socket;
	}
	share_offers_engine(d);
	if (scanner_spec && *scanner_spec && open_standalone_till(d, scanner_spec, printer_spec))
		goto out_stop;
	restore_state(d);
	announce_ready(d, socket_path);

	serve(d, sig_pipe[0]);
	stop_serving(d);
	rc = 0;
out_stop:
	committer_stop(d->committer);
	scan_close(d->scanner);
	prn_close(d->printer);
out_close_socket:
	close(d->listen_fd);
	unlink(d->socket_path);
out_close_log:
	lookuper_stop(d->lookuper);
	d->lookuper = NULL;
	open_sales_close(d);
	daemon_lanes_clear(d);
	till_offers_share(NULL);
	term_offers_close(&d->offers);
	term_till_hq_release(&d->hq);
	loy_close(d->db);
	if (d->lock_fd >= 0)
		close(d->lock_fd);   /* the file stays: unlinking it would race a starting daemon */
out_close_pipe:
	sig_pipe_w = -1;
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	return rc;
}
