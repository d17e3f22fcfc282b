/*
 * daemon_int.h - the daemon's parts. committer.c: the group-commit thread;
 * daemon.c: event loop, clients, signals, lanes; daemon_api.c: the JSON-lines
 * operations of the local API (docs/daemon.md); daemon_sync.c: the
 * background `posmark sync` child and rule reloads.
 *
 * Threads: everything runs on the event loop except the commit thread,
 * which commits lanes' pending sales (and runs their offer step inside the
 * transaction, see till.h). A lane with `committing` set is not touched by
 * the event loop until its job comes back from committer_take_done().
 */
#ifndef DAEMON_INT_H
#define DAEMON_INT_H

#include "terminal/till.h"
#include "wire/wire.h"

#include <jansson.h>

/* ---- group commit (committer.c) -------------------------------------- */

struct commit_job {
	struct till_pending *pending;    /* the lane's, valid until the job is done */
	struct loy_commit_result res;
	int rc;
	void *owner;                     /* the lane */
	struct commit_job *next;
};

struct committer;
/* Start the thread; *notify_fd becomes readable when jobs are done. */
int committer_start(struct loy_db *db, struct committer **out, int *notify_fd);
/* Queue a job; every job queued while a commit is syncing goes into the next group. */
void committer_submit(struct committer *c, struct commit_job *job);
/* Finished jobs, oldest first (drains the notification). */
struct commit_job *committer_take_done(struct committer *c);
/*
 * Lanes in the middle of a sale at machine speed (a request within the last
 * millisecond, no tender at the committer yet): their tenders are likely to
 * come within a sync's time, so a group waits briefly for them.
 */
void committer_expect(struct committer *c, unsigned hot_lanes);
/* Groups and sales committed so far. */
void committer_counts(struct committer *c, uint64_t *groups, uint64_t *sales);
/* Finish queued work and stop the thread. */
void committer_stop(struct committer *c);

/* ---- HQ lookups off the event loop (daemon_lookup.c) ------------------ */

enum lookup_kind { LOOKUP_ACCOUNT, LOOKUP_SALE, LOOKUP_COUPON };

struct lane;
struct lookup_job {
	enum lookup_kind kind;
	char key[64];                    /* the card or the coupon */
	char terminal[LOY_TERMINAL_MAX + 1];  /* LOOKUP_SALE: the sale */
	uint64_t seq;
	int64_t queued_ns;
	int rc;                          /* the lookup's result (PM_EOFFLINE: not asked in time) */
	struct wire_sale_lookup sale;    /* LOOKUP_SALE's answer, until handed to the till */
	bool sale_taken;
	struct wire_coupon_status coupon;
	struct lane *lane;               /* the parked op: its lane, request and client */
	json_t *req;
	int slot;
	unsigned gen;
	struct lookup_job *next;
};
struct lookuper;
/* Start the lookup thread with its own HQ client. PM_ENOENT: no HQ configured. */
int lookuper_start(const struct term_config *cfg, struct loy_db *db, struct lookuper **out, int *notify_fd);
void lookuper_submit(struct lookuper *lk, struct lookup_job *j);
/* Finished jobs, oldest first (drains the notification). */
struct lookup_job *lookuper_take_done(struct lookuper *lk);
/* Finish the lookup under way, drop the queued ones, stop the thread. */
void lookuper_stop(struct lookuper *lk);
void lookup_job_free(struct lookup_job *j);

/* ---- lanes and clients (daemon.c) ------------------------------------ */

#define DAEMON_MAX_LANES 64
#define DAEMON_MAX_CLIENTS 64
#define DAEMON_LINE_MAX 65536
/* Replies a client has not read yet: past this it is cut off (it never reads). */
#define DAEMON_OUT_MAX (1024 * 1024)

struct lane {
	char name[32];
	struct till till;
	bool committing;                 /* a tender is at the committer */
	int64_t active_ns;               /* monotonic time of its last request */
	struct commit_job job;
	struct till_pending pending;
	int reply_client;                /* client slot waiting for the tender reply, -1 none */
	unsigned reply_client_gen;
	json_t *reply_id;                /* the request's id, echoed */
	struct till_sale_result result;  /* the last finished sale, for the tender reply */
	char refusal[256];               /* why the till last refused a scan, tender or coupon */
	json_t *coupon_accepted;         /* the last coupon_accepted event, rendered, for its reply */
	struct lookup_job *lookup;       /* an op parked until HQ answers (daemon_lookup.c), or NULL */
	struct lookup_job *prefetched;   /* while that op runs again: HQ's answer for its hooks */
};

struct client {
	int fd;                          /* -1 = free slot */
	unsigned gen;                    /* changes when the slot is reused */
	char in[DAEMON_LINE_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_cap;
	bool eof;                        /* the client half-closed: answer, then close */
	bool skipping;                   /* inside a line over DAEMON_LINE_MAX: drop up to its newline */
	int64_t last_ns;                 /* monotonic time of its last read or write (idle timeout) */
};

struct daemon {
	struct term_config cfg;
	const char *config_path;
	struct loy_db *db;
	struct committer *committer;
	int commit_fd;
	int listen_fd;
	int lock_fd;                     /* DATA/daemon.lock, flock()ed: one daemon per log */
	char socket_path[108];
	struct lane *lanes[DAEMON_MAX_LANES];
	size_t n_lanes;
	struct client clients[DAEMON_MAX_CLIENTS];
	struct scan_dev *scanner;        /* standalone till, or NULL */
	struct prn_dev *printer;
	struct lane *till_lane;          /* the standalone lane */
	int64_t started_us;
	uint64_t requests, errors;
	struct term_offers offers;       /* one engine for all lanes (shared caps) */
	struct till_hq hq;               /* the standalone till's lookups at HQ (term_till_hq; zero = none) */
	struct lookuper *lookuper;       /* the API lanes' lookups, off the loop (NULL = no HQ) */
	int lookup_fd;                   /* readable when lookups are done, -1 = none */
	uint64_t lookups;                /* ops that waited for HQ so far */
	char rules_version[96];          /* name of the installed rule set, "" = none */
	/* background upload: a `posmark sync --once` child every hq.interval_s */
	pid_t sync_pid;
	int sync_fd;                     /* its stdout (the result line, docs/daemon.md), -1 when idle */
	char sync_out[4096];
	size_t sync_out_len;
	int64_t next_sync_us, last_sync_us;
	bool sync_soon;                  /* a return committed: sync at the next turn, not at next_sync_us */
	char hq_state[200];
	/* open sales kept at a stop (open_sales.c): the reserved file, its size */
	int open_sales_fd;               /* -1 = no reserve */
	size_t open_sales_reserved;
	bool open_sales_warned;          /* "cannot reserve" said once until it works again */
};

/* Serve the socket (and the standalone till when scanner_spec is set) until SIGTERM. Exit status. */
int daemon_run(struct daemon *d, const char *socket_path, const char *scanner_spec,
	       const char *printer_spec);

/* Open sales over a stop (open_sales.c, docs/daemon.md "Signals"): restore
 * at start, then reserve the file's space (spaces, durably); grow it as lanes
 * fill (every loop turn, O(lanes)); save in place at SIGTERM. */
void open_sales_restore(struct daemon *d);
void open_sales_reserve(struct daemon *d);
void open_sales_reserve_tick(struct daemon *d);
void open_sales_save(struct daemon *d);
void open_sales_close(struct daemon *d);

/* Background sync (daemon_sync.c). */
void daemon_sync_tick(struct daemon *d);
void daemon_sync_read(struct daemon *d);
void daemon_sync_stop(struct daemon *d);
/* Erasure (daemon_erase.c): the card_erase op; the compaction an erasure left, at a quiet moment. */
void daemon_op_card_erase(struct daemon *d, int slot, json_t *req);
void daemon_compact_tick(struct daemon *d);
/* rules_version from the installed DATA/rules.json. */
void daemon_rules_name(struct daemon *d);
/* Reload DATA/rules.json into the shared engine; lanes see it at once. */
void daemon_reload_rules(struct daemon *d);

struct lane *daemon_lane(struct daemon *d, const char *name, bool create);
/* Queue a reply line (takes ownership of obj). */
void daemon_reply(struct daemon *d, int slot, json_t *obj);
/* Handle one request line from client slot. */
void daemon_handle(struct daemon *d, int slot, const char *line, size_t len);
/* Run one parsed request (daemon_api.c's op table). */
void daemon_run_op(struct daemon *d, int slot, json_t *req);
/* Handle the complete lines a parked client sent meanwhile (daemon.c). */
void daemon_client_resume(struct daemon *d, int slot);

/* daemon_lookup.c: a lane's till_hq hooks (answers fetched first; none without HQ). */
void daemon_lane_hooks(struct daemon *d, struct lane *l);
/* Whether the op must wait for HQ first: true = parked (its reply comes when
 * HQ answered or the budget passed), false = run it now. key: the card, the
 * coupon, or the sale "TERMINAL:SEQ". */
bool daemon_lookup_first(struct daemon *d, int slot, json_t *req, struct lane *l, enum lookup_kind kind,
			 const char *key);
/* A client with an op parked: its further lines wait, unread, in order. */
bool daemon_client_parked(const struct daemon *d, int slot);
bool daemon_any_lookup(const struct daemon *d);
/* Run the parked ops whose lookups are done, then their clients' waiting lines. */
void daemon_lookups_done(struct daemon *d);
/* A sale's result arrived from the committer. */
void daemon_commit_done(struct daemon *d, struct commit_job *job);
/* Forget every lane (their open sales too): shutdown, and the API fuzzer between inputs. */
void daemon_lanes_clear(struct daemon *d);
/* The status object (also for `posmark status`). */
json_t *daemon_status(struct daemon *d);

#endif
