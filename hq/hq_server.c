/*
 * hq_server.c - HQ's HTTP API on GNU libmicrohttpd (docs/hq.md):
 *   POST /v1/batches          a gzip NDJSON batch -> ack {"acked_seq":..}
 *   GET  /v1/requests         erasure/consent requests for the store
 *   POST /v1/requests/ack?up_to=ID
 *   GET  /v1/rules            the newest signed rule set (ETag, 304)
 *   GET  /v1/health
 * Stores authenticate with X-Posmark-Store + Authorization: Bearer.
 * The receiver keeps no state of its own (all of it is in PostgreSQL), so
 * several run behind one load balancer.
 */
#include "hq/hq_int.h"
#include "hq/hq_console_int.h"
#include "wire/wire.h"
#include "common/pm_buf.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_notify.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#define BODY_MAX (64u << 20)

/* A small pool of database connections shared by MHD's worker threads. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *conninfo;
	int n;
	PGconn *conns[32];
	int free_idx[32], n_free;
};
static struct pool g_pool;

static PGconn *pool_get(int *slot)
{
	PGconn *c;
	pthread_mutex_lock(&g_pool.mu);
	while (g_pool.n_free == 0)
		pthread_cond_wait(&g_pool.cv, &g_pool.mu);
	*slot = g_pool.free_idx[--g_pool.n_free];
	c = g_pool.conns[*slot];
	pthread_mutex_unlock(&g_pool.mu);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		char err[300];
		if (c)
			PQreset(c);
		if (!c || PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = hq_connect(g_pool.conninfo, err, sizeof(err));
			if (!c)
				pm_err("%s", err);
		}
		g_pool.conns[*slot] = c;
	}
	return c;
}

static void pool_put(int slot)
{
	pthread_mutex_lock(&g_pool.mu);
	g_pool.free_idx[g_pool.n_free++] = slot;
	pthread_cond_signal(&g_pool.cv);
	pthread_mutex_unlock(&g_pool.mu);
}

/* One request's state, from its first call of the access handler to its end. */
struct req {
	char store[WIRE_ID_MAX + 1];  /* the authenticated store ("" for /v1/health) */
	int answered;                 /* a response was queued before the body was read */
	int too_big;
	struct pm_buf body;
};

/* An answer; for a rule set also its ETag, signature and serial (0: none). */
static enum MHD_Result reply_signed(struct MHD_Connection *con, unsigned code, const char *type,
				    const void *data, size_t len, const char *etag, const char *sig,
				    uint64_t serial)
{
	char serial_s[24];
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (etag)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	if (sig)
		MHD_add_response_header(r, "X-Posmark-Signature", sig);
	if (serial) {
		snprintf(serial_s, sizeof(serial_s), "%" PRIu64, serial);
		MHD_add_response_header(r, WIRE_RULES_SERIAL_HEADER, serial_s);
	}
	ret = MHD_queue_response(con, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *con, unsigned code, const char *type,
			     const void *data, size_t len, const char *etag, const char *sig)
{
	return reply_signed(con, code, type, data, len, etag, sig, 0);
}

static enum MHD_Result reply_json(struct MHD_Connection *con, unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result reply_json(struct MHD_Connection *con, unsigned code, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)strlen(buf);
	return reply(con, code, "application/json", buf, (size_t)n, NULL, NULL);
}

/* A reason as a JSON string body (quotes and backslashes escaped). */
static void json_escape(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 7 < n; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, n - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

/*
 * A header value as it may go into the log: printable ASCII only (anything
 * else as \xNN, so no terminal escape sequence or forged line reaches the
 * log), at most 64 bytes of it, "..." when cut.
 */
static const char *log_str(const char *in, char *out, size_t n)
{
	size_t o = 0, used = 0;
	if (!in)
		in = "-";
	for (; *in && o + 8 < n && used < 64; in++, used++) {
		unsigned char c = (unsigned char)*in;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
	}
	if (*in)
		o += (size_t)snprintf(out + o, n - o, "...");
	out[o] = '\0';
	return out;
}

/* The authenticated store, or NULL after queueing 401 (503 when the
 * database fails). on_headers calls it at a request's first call, before
 * any body is read; handle() then has the store in rq->store. */
static const char *authenticate(struct MHD_Connection *con, PGconn *db, enum MHD_Result *ret)
{
	const char *store = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Posmark-Store");
	const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char shown[300];
	int rc = PM_EREFUSED;
	if (store && auth && !strncmp(auth, "Bearer ", 7) && *store && strlen(store) <= WIRE_ID_MAX)
		rc = db ? hq_store_auth(db, store, auth + 7) : PM_EIO;
	if (rc == PM_OK)
		return store;
	if (rc == PM_EIO)
		*ret = reply_json(con, 503, "{\"status\":\"error\",\"reason\":\"HQ database unavailable; retry later\"}");
	else {
		pm_warn("refused a request: unknown store or bad credential (store '%s')",
			log_str(store, shown, sizeof(shown)));
		*ret = reply_json(con, 401, "{\"status\":\"unauthorized\",\"reason\":\"unknown store or bad"
				  " credential; check hq.store_credential in the terminal's config\"}");
	}
	return NULL;
}

/*
 * The request is whole and its store authenticated (rq->store): dispatch by
 * path. One line per endpoint; docs/hq.md has the table.
 */
static enum MHD_Result handle(struct MHD_Connection *con, struct req *rq, const char *url,
			      const char *method, PGconn *db)
{
	enum MHD_Result ret = MHD_NO;
	const char *store = rq->store;

	if (hq_console_route(url)) /* the web console: its own sessions (hq_console.c) */
		return hq_console_handle(con, db, url, method, rq->body.data, rq->body.len);

	if (!strcmp(url, "/v1/rules") && !strcmp(method, "GET")) {
		struct hq_rules rs;
		const char *inm = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
		int rc = hq_rules_latest(db, &rs);
		if (rc == PM_ENOENT)
			return reply_json(con, 404, "{\"status\":\"none\",\"reason\":\"no rule set published\"}");
		if (rc)
			return reply_json(con, 503, "{\"status\":\"error\",\"reason\":\"HQ database unavailable\"}");
		if (inm && !strcmp(inm, rs.etag))
			ret = reply(con, 304, "application/json", "", 0, rs.etag, NULL);
		else
			ret = reply_signed(con, 200, "application/json", rs.body, rs.len, rs.etag, rs.sig_hex, rs.serial);
		free(rs.body);
		return ret;
	}
	if (!strcmp(url, "/v1/requests") && !strcmp(method, "GET")) {
		char *j = hq_requests_json(db, store);
		if (!j)
			return reply_json(con, 503, "{\"status\":\"error\",\"reason\":\"HQ database unavailable\"}");
		ret = reply(con, 200, "application/json", j, strlen(j), NULL, NULL);
		free(j);
		return ret;
	}
	if (!strcmp(url, "/v1/requests/ack") && !strcmp(method, "POST")) {
		const char *up = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "up_to");
		if (!up || !*up || strlen(up) > 18 || strspn(up, "0123456789") != strlen(up))
			return reply_json(con, 400, "{\"status\":\"rejected\",\"reason\":\"up_to=ID missing\"}");
		if (hq_requests_ack(db, store, strtoll(up, NULL, 10)))
			return reply_json(con, 503, "{\"status\":\"error\",\"reason\":\"HQ database unavailable\"}");
		return reply_json(con, 200, "{\"status\":\"ok\"}");
	}
	if (!strcmp(url, "/v1/batches") && !strcmp(method, "POST")) {
		struct hq_ack ack;
		char reason[2 * sizeof(ack.reason)];
		if (rq->too_big)
			return reply_json(con, 413, "{\"status\":\"rejected\",\"reason\":\"batch over %u bytes;"
					  " lower hq.batch_max_sales\"}", BODY_MAX);
		hq_ingest(db, store, rq->body.data ? rq->body.data : "", rq->body.len, &ack);
		json_escape(ack.reason, reason, sizeof(reason));
		if (ack.http_status != 200)
			pm_warn("batch from store '%s' answered %d: %s", store, ack.http_status, ack.reason);
		return reply_json(con, (unsigned)ack.http_status,
				  "{\"status\":\"%s\",\"acked_seq\":%" PRIu64 ",\"stored\":%" PRIu64
				  ",\"duplicate\":%s,\"reason\":\"%s\"}",
				  ack.http_status == 200 ? "ok" : ack.http_status == 409 ? "gap" : "rejected",
				  ack.acked_seq, ack.stored, ack.duplicate ? "true" : "false", reason);
	}
	if (hq_accounts_route(url)) { /* the chain account down to the stores: hq_accounts.c */
		struct pm_buf body = { 0 };
		struct hq_answer a = { 0, NULL, &body };
		if (!(store = authenticate(con, db, &ret)))
			return ret;
		hq_accounts_handle(db, store, MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Posmark-Terminal"), url,
				   method, MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "after"),
				   MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "limit"), &a);
		ret = reply(con, (unsigned)a.status, a.type, body.data ? body.data : "", body.len, NULL, NULL);
		pm_buf_free(&body);
		return ret;
	}
	return reply_json(con, 404, "{\"status\":\"not_found\",\"reason\":\"no such endpoint; see docs/hq.md\"}");
}

static const char health_json[] = "{\"status\":\"ok\"}";

/* The first call for a request: its headers are all here, none of its body.
 * /v1/health needs nothing; everything else authenticates now, and a batch
 * announcing more than BODY_MAX is refused before it is sent. A refusal is
 * queued at once: libmicrohttpd then closes the connection after the
 * answer instead of reading the body. */
static enum MHD_Result on_headers(struct MHD_Connection *con, struct req *rq, const char *url)
{
	enum MHD_Result ret = MHD_YES;
	const char *cl, *store;
	int slot;
	if (!strcmp(url, "/v1/health"))
		return MHD_YES;
	if (hq_console_route(url)) /* the web console: its own sessions and body limit (hq_console.c) */
		return hq_console_headers(con, &rq->answered);
	PGconn *db = pool_get(&slot);
	store = authenticate(con, db, &ret);
	if (store) {
		snprintf(rq->store, sizeof(rq->store), "%s", store);
		/* what the terminal reports (docs/hostsync.md, "Store status"): never fails the request */
		(void)hqi_store_status_record(db, rq->store,
					      MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Posmark-Terminal"),
					      MHD_lookup_connection_value(con, MHD_HEADER_KIND, WIRE_STATUS_HEADER));
	}
	pool_put(slot);
	if (!store) {
		rq->answered = 1;
		return ret;
	}
	cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > BODY_MAX) {
		rq->answered = 1;
		return reply_json(con, 413, "{\"status\":\"rejected\",\"reason\":\"batch over %u bytes;"
				  " lower hq.batch_max_sales\"}", BODY_MAX);
	}
	return MHD_YES;
}

static struct hqi_guard *guard_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	(void)cls;
	(void)version;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		hqi_guard_phase(guard_of(con), HQI_GUARD_BODY);
		return on_headers(con, rq, url);
	}
	if (rq->answered) {           /* refused on the headers: the body is never kept */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > BODY_MAX)
			rq->too_big = 1;
		else if (pm_buf_add(&rq->body, upload_data, *upload_size))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	hqi_guard_phase(guard_of(con), HQI_GUARD_BUSY);
	/* health never waits on the database pool */
	if (!strcmp(url, "/v1/health"))
		return reply(con, 200, "application/json", health_json, strlen(health_json), NULL, NULL);
	int slot;
	PGconn *db = pool_get(&slot);
	enum MHD_Result ret = db ? handle(con, rq, url, method, db)
		: reply_json(con, 503, "{\"status\":\"error\",\"reason\":\"HQ database unavailable\"}");
	pool_put(slot);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *con, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	(void)cls;
	(void)toe;
	hqi_guard_phase(guard_of(con), HQI_GUARD_HEADERS);   /* the next request's headers */
	if (rq) {
		pm_buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? hqi_guard_open(ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		hqi_guard_close(*socket_context);
		*socket_context = NULL;
	}
}

static int parse_listen(const char *listen_addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(listen_addr, ':');
	if (!colon || colon == listen_addr || (size_t)(colon - listen_addr) >= sizeof(host)) {
		pm_err("--listen wants HOST:PORT, e.g. 127.0.0.1:8080");
		return PM_EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_addr), listen_addr);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		pm_err("--listen: '%s' is not an IPv4 address", host);
		return PM_EINVAL;
	}
	return PM_OK;
}

/* The daemon with its limits (docs/hq.md, "Connections and limits"), TLS when configured. */
static struct MHD_Daemon *start_daemon(const struct hq_serve_config *cfg, struct sockaddr_in *sa)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL },
					 { MHD_OPTION_END, 0, NULL } };
	if (cfg->tls_cert_pem) {
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert_pem };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key_pem };
	}
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HQ_IDLE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_connections,
				MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512u << 10),
				MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

/* Each connection takes two descriptors (its socket and the guard's dup):
 * raise the soft limit to the hard one (systemd's soft default is 1024). */
static void raise_fd_limit(unsigned max_connections)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * (rlim_t)max_connections + 100)
		pm_warn("open-file limit %llu is low for max_connections = %u; raise LimitNOFILE (systemd) or"
			" lower max_connections in hq.conf", (unsigned long long)rl.rlim_cur, max_connections);
}

int hq_serve(const struct hq_serve_config *cfg)
{
	struct sockaddr_in sa;
	sigset_t set;
	int sig, workers = cfg->workers;
	struct MHD_Daemon *d;

	if (parse_listen(cfg->listen_addr, &sa))
		return PM_EINVAL;
	if (cfg->tls_cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		pm_err("this libmicrohttpd was built without TLS; hint: serve plain HTTP behind a TLS proxy"
		       " (docs/hq.md, TLS)");
		return PM_ENOTSUP;
	}
	if (workers < 1)
		workers = 1;
	if (workers > 32)
		workers = 32;
	pthread_mutex_init(&g_pool.mu, NULL);
	pthread_cond_init(&g_pool.cv, NULL);
	g_pool.conninfo = cfg->conninfo;
	g_pool.n = workers;
	for (int i = 0; i < workers; i++)
		g_pool.free_idx[g_pool.n_free++] = i;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg->max_connections);
	if (hqi_guard_start(cfg->header_deadline_s, cfg->request_deadline_s)) {
		pm_err("cannot start the connection watchdog thread");
		return PM_ENOMEM;
	}
	hq_console_start(cfg->conninfo, cfg->tls_cert_pem != NULL);
	if (!(d = start_daemon(cfg, &sa))) {
		hqi_guard_stop();
		if (cfg->tls_cert_pem)
			pm_err("cannot listen on %s with TLS (port in use, not a local address, or the certificate and"
			       " key do not load or match: libmicrohttpd's reason is above)", cfg->listen_addr);
		else
			pm_err("cannot listen on %s (port in use, or not a local address)", cfg->listen_addr);
		return PM_EIO;
	}
	fprintf(stderr, "posmark-hq: listening on %s%s\n", cfg->listen_addr, cfg->tls_cert_pem ? " (TLS)" : "");
	if (pm_notifyf("READY=1\nSTATUS=listening on %s, %d database connection(s)\nMAINPID=%ld",
		       cfg->listen_addr, workers, (long)getpid()))
		pm_warn("cannot tell the service manager READY=1 through NOTIFY_SOCKET: %s", strerror(errno));
	sigwait(&set, &sig);
	pm_notify("STOPPING=1");
	MHD_stop_daemon(d);
	hqi_guard_stop();
	for (int i = 0; i < workers; i++)
		PQfinish(g_pool.conns[i]);
	return PM_OK;
}
