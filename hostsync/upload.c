/*
 * upload.c - the terminal's side of HQ sync with libcurl: batches of sales
 * and events after the watermark, POSTed with an idempotency key; the
 * watermark moves only on HQ's ack. Transport errors, 5xx and garbage
 * answers are retried with exponential backoff and full jitter; a batch HQ
 * rejects (4xx) stops the sync with HQ's reason and nothing is lost (the
 * log keeps everything not acknowledged: store-and-forward).
 */
#include "hostsync/hostsync.h"
#include "hostsync/hs_int.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "common/pm_time.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void hs_client_config_default(struct hs_client_config *c)
{
	memset(c, 0, sizeof(*c));
	c->url = "";
	c->store = "";
	c->credential = "";
	c->ca_file = "";
	c->tls_verify = true;
	c->rules_public_key = "";
	c->data_dir = ".";
	c->batch_max_sales = 20000;
	c->max_attempts = 8;
	c->backoff_initial_ms = 200;
	c->backoff_max_ms = 30000;
	c->timeout_s = 60;
}

bool hsi_cancelled(const struct hs_client_config *cfg)
{
	return cfg->cancel && *cfg->cancel;
}

/* libcurl progress callback: a non-zero return aborts the transfer. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return hsi_cancelled(ctx) ? 1 : 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
	struct client *cl = ctx;
	if (cl->resp.len + sz * n > WIRE_RULES_MAX) /* HQ never sends this much: garbage */
		return 0;
	return pm_buf_add(&cl->resp, p, sz * n) ? 0 : sz * n;
}

static void header_value(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl))
		return;
	line += nl;
	len -= nl;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len < cap)
		snprintf(dst, cap, "%.*s", (int)len, line);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
	struct client *cl = ctx;
	header_value(p, sz * n, "etag:", cl->etag, sizeof(cl->etag));
	header_value(p, sz * n, "x-posmark-signature:", cl->sig_hex, sizeof(cl->sig_hex));
	header_value(p, sz * n, WIRE_RULES_SERIAL_HEADER ":", cl->rules_serial, sizeof(cl->rules_serial));
	return sz * n;
}

/*
 * One HTTP exchange. PM_OK with *status set when HQ answered anything;
 * PM_EOFFLINE when the transport failed (no answer, cut, timeout).
 */
int hsi_http(struct client *cl, const char *method, const char *path, const void *body, size_t len,
		struct curl_slist *extra, long *status)
{
	char url[2048];
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	size_t ul = strlen(cl->cfg->url);
	while (ul > 0 && cl->cfg->url[ul - 1] == '/')
		ul--;
	snprintf(url, sizeof(url), "%.*s%s", (int)ul, cl->cfg->url, path);
	cl->resp.len = 0;
	cl->etag[0] = cl->sig_hex[0] = cl->rules_serial[0] = '\0';
	curl_easy_reset(cl->h);
	curl_easy_setopt(cl->h, CURLOPT_URL, url);
	curl_easy_setopt(cl->h, CURLOPT_ERRORBUFFER, cl->errbuf);
	curl_easy_setopt(cl->h, CURLOPT_NOSIGNAL, 1L);
	if (cl->budget_ms > 0) {
		/* a lookup while a customer waits: the whole answer, connect included */
		curl_easy_setopt(cl->h, CURLOPT_TIMEOUT_MS, cl->budget_ms);
		curl_easy_setopt(cl->h, CURLOPT_CONNECTTIMEOUT_MS, cl->budget_ms);
	} else {
		curl_easy_setopt(cl->h, CURLOPT_TIMEOUT, cl->cfg->timeout_s);
		curl_easy_setopt(cl->h, CURLOPT_CONNECTTIMEOUT, 10L);
	}
	curl_easy_setopt(cl->h, CURLOPT_SSL_VERIFYPEER, cl->cfg->tls_verify ? 1L : 0L);
	curl_easy_setopt(cl->h, CURLOPT_SSL_VERIFYHOST, cl->cfg->tls_verify ? 2L : 0L);
	if (cl->cfg->ca_file && *cl->cfg->ca_file)
		curl_easy_setopt(cl->h, CURLOPT_CAINFO, cl->cfg->ca_file);
	curl_easy_setopt(cl->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cl->h, CURLOPT_WRITEDATA, cl);
	curl_easy_setopt(cl->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cl->h, CURLOPT_HEADERDATA, cl);
	if (cl->cfg->cancel) {
		curl_easy_setopt(cl->h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(cl->h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(cl->h, CURLOPT_XFERINFODATA, (void *)cl->cfg);
	}
	for (struct curl_slist *s = cl->auth; s; s = s->next)
		hdrs = curl_slist_append(hdrs, s->data);
	for (struct curl_slist *s = extra; s; s = s->next)
		hdrs = curl_slist_append(hdrs, s->data);
	hdrs = curl_slist_append(hdrs, "Expect:");
	hdrs = hsi_status_header(cl, hdrs);
	curl_easy_setopt(cl->h, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(cl->h, CURLOPT_POST, 1L);
		curl_easy_setopt(cl->h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(cl->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	cl->errbuf[0] = '\0';
	cc = curl_easy_perform(cl->h);
	cl->last_cc = cc;
	curl_slist_free_all(hdrs);
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
		/* say what to do: this is HQ's certificate, not the network */
		char why[CURL_ERROR_SIZE];
		snprintf(why, sizeof(why), "%s", cl->errbuf[0] ? cl->errbuf : curl_easy_strerror(cc));
		snprintf(cl->errbuf, sizeof(cl->errbuf), "HQ's TLS certificate does not verify (%.120s); set"
			 " hq.ca_file to the CA that signed it, and check that hq.url names the certificate's host", why);
	}
	if (cc != CURLE_OK) {
		pm_info("HQ request %s %s failed: %s", method, cl->log_path ? cl->log_path : path,
			cl->errbuf[0] ? cl->errbuf : curl_easy_strerror(cc));
		return PM_EOFFLINE;
	}
	curl_easy_getinfo(cl->h, CURLINFO_RESPONSE_CODE, status);
	return PM_OK;
}

void hsi_backoff_sleep(const struct hs_client_config *cfg, int attempt)
{
	/* Full jitter: uniform in [d/2, d], d doubling up to the cap, so many
	 * stores coming back online at once do not hammer HQ in step. */
	int64_t d = cfg->backoff_initial_ms;
	for (int i = 1; i < attempt && d < cfg->backoff_max_ms; i++)
		d *= 2;
	if (d > cfg->backoff_max_ms)
		d = cfg->backoff_max_ms;
	int64_t ms = d / 2 + (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1));
	/* in steps, so a daemon shutting down is not held up */
	while (ms > 0 && !hsi_cancelled(cfg)) {
		int64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* ---- batches ----------------------------------------------------------- */

static int enc_sale_cb(void *ctx, const struct wire_sale *s); /* counts ledger entries: below struct prep */

static int enc_event_cb(void *ctx, const struct wire_event *e)
{
	return wire_enc_event(ctx, e);
}

/*
 * Send one encoded batch until HQ answers definitively. On success
 * *acked = HQ's position (>= the batch's last seq). PM_EAGAIN-like gap: 
 * returns PM_EEXIST with *acked = HQ's position (the caller resends from there).
 */
static int send_batch(struct client *cl, const struct wire_encoder *e, const struct pm_buf *gz,
		      uint64_t *acked, char *err, size_t errlen)
{
	char key[200];
	struct curl_slist *extra = NULL;
	int rc = PM_EOFFLINE;
	snprintf(key, sizeof(key), "Idempotency-Key: %s/%s/%s/%" PRIu64 "-%" PRIu64, e->h.store, e->h.terminal,
		 e->h.kind == WIRE_BATCH_SALES ? "sales" : "events", e->h.first_seq, e->h.last_seq);
	extra = curl_slist_append(extra, key);
	extra = curl_slist_append(extra, "Content-Type: application/x-ndjson");
	extra = curl_slist_append(extra, "Content-Encoding: gzip");
	for (int attempt = 1; attempt <= cl->cfg->max_attempts && !hsi_cancelled(cl->cfg); attempt++) {
		long status = 0;
		if (attempt > 1) {
			cl->st->retries++;
			hsi_backoff_sleep(cl->cfg, attempt - 1);
		}
		rc = hsi_http(cl, "POST", "/v1/batches", gz->data, gz->len, extra, &status);
		if (rc) {
			snprintf(err, errlen, "HQ at %s unreachable: %s", cl->cfg->url,
				 cl->errbuf[0] ? cl->errbuf : "no answer");
			continue;
		}
		json_t *j = json_loadb(cl->resp.data ? cl->resp.data : "", cl->resp.len, 0, NULL);
		json_t *ack = json_object_get(j, "acked_seq"), *reason = json_object_get(j, "reason");
		const char *why = json_is_string(reason) ? json_string_value(reason) : "no reason given";
		if (status >= 400 && status < 500 && status != 409 && json_is_object(j)) {
			/* HQ refused (credential, bad batch): retrying the same bytes cannot help */
			snprintf(err, errlen, "HQ refused batch %s (HTTP %ld): %s", key + 17, status, why);
			pm_err("%s", err);
			json_decref(j);
			rc = PM_EREFUSED;
			break;
		}
		if (status >= 500 || status == 0 || !json_is_object(j) || !json_is_integer(ack)) {
			snprintf(err, errlen, "HQ answered %ld %s; will retry", status,
				 json_is_object(j) ? why : "with something that is not a posmark answer");
			pm_warn("batch %s: %s", key + 17, err);
			json_decref(j);
			rc = PM_EPROTO;
			continue;
		}
		*acked = (uint64_t)json_integer_value(ack);
		if (status == 200 && *acked >= e->h.last_seq) {
			json_decref(j);
			rc = PM_OK;
			break;
		}
		if (status == 409 && *acked + 1 < e->h.first_seq) {
			snprintf(err, errlen, "HQ reports a sequence gap: %s", why);
			pm_warn("batch %s: %s; resending from seq %" PRIu64, key + 17, why, *acked + 1);
			json_decref(j);
			rc = PM_EEXIST;
			break;
		}
		if (status == 200) { /* an ack that does not cover the batch: not trusted */
			snprintf(err, errlen, "HQ acknowledged up to %" PRIu64 " for a batch ending at %" PRIu64,
				 *acked, e->h.last_seq);
			json_decref(j);
			rc = PM_EPROTO;
			continue;
		}
		snprintf(err, errlen, "HQ rejected batch %s (HTTP %ld): %s", key + 17, status, why);
		pm_err("%s", err);
		json_decref(j);
		rc = PM_EREFUSED;
		break;
	}
	curl_slist_free_all(extra);
	return rc;
}

/* One batch read from the log and encoded, possibly in a helper thread so
 * the next batch is ready when HQ acknowledges this one (the log is read
 * in its own LMDB read transaction; the till is never blocked). */
struct prep {
	const struct hs_source *src;
	const struct hs_client_config *cfg;
	const char *terminal;
	bool events;
	uint64_t after;
	struct wire_encoder e;
	struct pm_buf gz;
	size_t raw;
	int rc;
	bool threaded;
	pthread_t th;
	uint64_t ledger_floor;        /* the status's count: entries of sales after this seq */
	uint64_t ledger;              /* ... in this batch */
};

static int enc_sale_cb(void *ctx, const struct wire_sale *s)
{
	struct prep *p = ctx;
	if (s->seq > p->ledger_floor)
		p->ledger += s->n_ledger;
	return wire_enc_sale(&p->e, s);
}

static void *prep_run(void *arg)
{
	struct prep *p = arg;
	int64_t t0 = pm_mono_ns();
	wire_enc_begin(&p->e, p->events ? WIRE_BATCH_EVENTS : WIRE_BATCH_SALES, p->cfg->store, p->terminal);
	memset(&p->gz, 0, sizeof(p->gz));
	p->ledger = 0;
	p->rc = p->events ? p->src->events_after(p->src->ctx, p->after, p->cfg->batch_max_sales, enc_event_cb, &p->e)
			  : p->src->sales_after(p->src->ctx, p->after, p->cfg->batch_max_sales, enc_sale_cb, p);
	if (!p->rc && p->e.h.count > 0)
		p->rc = wire_enc_finish(&p->e, &p->gz, &p->raw);
	pm_info("read and encoded %" PRIu64 " records in %.0f ms", p->e.h.count, (double)(pm_mono_ns() - t0) / 1e6);
	return NULL;
}

static void prep_start(struct prep *p, uint64_t after)
{
	p->after = after;
	p->threaded = pthread_create(&p->th, NULL, prep_run, p) == 0;
	if (!p->threaded)
		prep_run(p);
}

static void prep_wait(struct prep *p)
{
	if (p->threaded)
		pthread_join(p->th, NULL);
	p->threaded = false;
}

static void prep_release(struct prep *p)
{
	prep_wait(p);
	pm_buf_free(&p->gz);
	wire_enc_release(&p->e);
}

/* Upload all sales (events=false) or events after the watermark. */
static int upload_kind(struct client *cl, const struct hs_source *src, const char *terminal, bool events,
		       char *err, size_t errlen)
{
	struct hs_positions pos;
	struct prep a, b, *cur = &a, *nxt = &b;
	int rc = src->positions(src->ctx, &pos), gaps = 0;
	if (rc) {
		snprintf(err, errlen, "cannot read the log's positions: %s", pm_strerror(rc));
		return rc;
	}
	uint64_t next = events ? pos.events_acked : pos.sales_acked;
	uint64_t last = events ? pos.last_event_seq : pos.last_sale_seq;
	if (next >= last)
		return PM_OK;
	memset(&a, 0, sizeof(a));
	a.src = src;
	a.cfg = cl->cfg;
	a.terminal = terminal;
	a.events = events;
	a.ledger_floor = cl->ledger_floor;
	b = a;
	prep_start(cur, next);
	for (;;) {
		bool ahead = false;
		uint64_t acked = 0;
		prep_wait(cur);
		if (cur->rc) {
			snprintf(err, errlen, "cannot read or encode a batch from the log: %s", pm_strerror(cur->rc));
			rc = cur->rc;
			prep_release(cur);
			return rc;
		}
		if (cur->e.h.count == 0) {
			prep_release(cur);
			return PM_OK;
		}
		if (cur->e.h.last_seq < last) { /* read the next batch while this one travels */
			prep_start(nxt, cur->e.h.last_seq);
			ahead = true;
		}
		int64_t t0 = pm_mono_ns();
		rc = send_batch(cl, &cur->e, &cur->gz, &acked, err, errlen);
		pm_info("batch %" PRIu64 "..%" PRIu64 " (%zu bytes): HQ answered in %.0f ms", cur->e.h.first_seq,
			cur->e.h.last_seq, cur->gz.len, (double)(pm_mono_ns() - t0) / 1e6);
		if (rc == PM_OK) {
			cl->st->batches++;
			cl->st->bytes_raw += cur->raw;
			cl->st->bytes_sent += cur->gz.len;
			if (events)
				cl->st->events_sent += cur->e.h.count;
			else
				cl->st->sales_sent += cur->e.h.count;
			next = cur->e.h.last_seq;
			rc = src->watermark_set(src->ctx, events, next);
			if (rc)
				snprintf(err, errlen, "cannot record HQ's ack in the log: %s", pm_strerror(rc));
			/* the next request reports what is left */
			if (!events)
				hsi_status_acked_ledger(cl, cur->ledger);
			if (!rc && !src->positions(src->ctx, &pos))
				hsi_status_positions(cl, &pos);
		} else if (rc == PM_EEXIST && gaps++ < 3) {
			/* HQ lost what we thought it had (a restored backup): resend from there */
			if (ahead)
				prep_release(nxt);
			memset(&nxt->e, 0, sizeof(nxt->e));
			prep_start(nxt, acked);
			ahead = true;
			rc = PM_OK;
		}
		prep_release(cur);
		if (rc || !ahead) {
			if (ahead)
				prep_release(nxt);
			return rc;
		}
		struct prep *t = cur;
		cur = nxt;
		nxt = t;
	}
}

/* ---- requests from HQ and rule sets ---------------------------------------- */

/*
 * GETs are idempotent and follow the batches' retry rules (same backoff,
 * same max_attempts): no answer, a 5xx, a reply shorter than its
 * Content-Length, or a body that is not the posmark answer expected (cut
 * JSON: reply_ok says) is retried; a well-formed refusal (4xx with a posmark
 * JSON body) is not, and err carries HQ's reason. On PM_OK the caller may use
 * cl->resp: it passed reply_ok, so nothing is ever applied from a partial reply.
 * (hsi_get_retry below; hs_int.h declares both.)
 */
bool hsi_body_is_json(const struct client *cl, json_t **out)
{
	json_t *j = json_loadb(cl->resp.data ? cl->resp.data : "", cl->resp.len, 0, NULL);
	bool ok = json_is_object(j) || json_is_array(j);
	if (out && ok)
		*out = j;
	else
		json_decref(j);
	return ok;
}

bool hsi_reply_whole(struct client *cl)
{
	curl_off_t clen = -1;
	if (curl_easy_getinfo(cl->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen) != CURLE_OK)
		clen = -1;
	return clen < 0 || (uint64_t)clen == (uint64_t)cl->resp.len;
}

int hsi_get_retry(struct client *cl, const char *what, const char *path, struct curl_slist *extra,
			  hsi_reply_ok_fn reply_ok, long *status, char *err, size_t errlen)
{
	int rc = PM_EOFFLINE, attempt;
	char why[400] = "no answer";
	for (attempt = 1; attempt <= cl->cfg->max_attempts && !hsi_cancelled(cl->cfg); attempt++) {
		curl_off_t clen = -1;
		json_t *j = NULL;
		if (attempt > 1) {
			cl->st->retries++;
			hsi_backoff_sleep(cl->cfg, attempt - 1);
		}
		*status = 0;
		rc = hsi_http(cl, "GET", path, NULL, 0, extra, status);
		if (rc) {
			snprintf(why, sizeof(why), "HQ at %s unreachable: %s", cl->cfg->url,
				 cl->errbuf[0] ? cl->errbuf : "no answer");
			continue;
		}
		rc = PM_EPROTO;
		if (curl_easy_getinfo(cl->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen) != CURLE_OK)
			clen = -1;
		if (!hsi_reply_whole(cl)) {
			snprintf(why, sizeof(why), "HQ's reply to GET %s was cut (%zu of %" PRId64 " bytes)", path,
				 cl->resp.len, (int64_t)clen);
		} else if (*status >= 500 || *status < 100) {
			snprintf(why, sizeof(why), "HQ answered %ld to GET %s", *status, path);
		} else if (reply_ok(cl, *status)) {
			return PM_OK;
		} else if (*status >= 400 && *status < 500 && hsi_body_is_json(cl, &j) && json_is_object(j)) {
			/* HQ refused (credential, no such endpoint): asking again cannot help */
			json_t *reason = json_object_get(j, "reason");
			snprintf(err, errlen, "cannot fetch %s: HQ refused GET %s (HTTP %ld): %s", what, path, *status,
				 json_is_string(reason) ? json_string_value(reason) : "no reason given");
			json_decref(j);
			pm_err("%s", err);
			return PM_EREFUSED;
		} else {
			json_decref(j);
			snprintf(why, sizeof(why), "HQ's reply to GET %s (HTTP %ld) was cut or is not a posmark answer",
				 path, *status);
		}
		if (attempt < cl->cfg->max_attempts)
			pm_warn("%s; will retry", why);
	}
	snprintf(err, errlen, "cannot fetch %s after %d attempts: %s", what, attempt - 1, why);
	return rc;
}

/* 200 with {"requests": [...]}: anything else is cut or not HQ's. */
static bool requests_reply_ok(struct client *cl, long status)
{
	json_t *j = NULL;
	bool ok = status == 200 && hsi_body_is_json(cl, &j) && json_is_array(json_object_get(j, "requests"));
	json_decref(j);
	return ok;
}

/* 304 (unchanged), 404 {"status":"none"} (nothing published), or 200 with a
 * body that is whole: JSON, or bytes whose signature verifies (a cut body
 * neither parses nor verifies; a whole one signed by another key parses and
 * is refused later, without a retry). */
static bool rules_reply_ok(struct client *cl, long status)
{
	json_t *j = NULL;
	unsigned char sig[crypto_sign_BYTES];
	size_t sig_len = 0;
	if (status == 304)
		return true;
	if (status == 404) {
		bool ok = hsi_body_is_json(cl, &j) && json_is_string(json_object_get(j, "status")) &&
			  !strcmp(json_string_value(json_object_get(j, "status")), "none");
		json_decref(j);
		return ok;
	}
	if (status != 200)
		return false;
	if (hsi_body_is_json(cl, NULL))
		return true;
	if (sodium_hex2bin(sig, sizeof(sig), cl->sig_hex, strlen(cl->sig_hex), NULL, &sig_len, NULL))
		sig_len = 0;
	return hs_rules_verify_serial(cl->cfg->rules_public_key, strtoull(cl->rules_serial, NULL, 10),
				      cl->resp.data ? cl->resp.data : "", cl->resp.len, sig_len ? sig : NULL,
				      sig_len) == PM_OK;
}

static int pull_requests(struct client *cl, const struct hs_source *src, char *err, size_t errlen)
{
	long status = 0;
	int rc = hsi_get_retry(cl, "HQ's requests", "/v1/requests", NULL, requests_reply_ok, &status, err, errlen);
	if (rc)
		return rc;
	json_t *j = json_loadb(cl->resp.data ? cl->resp.data : "", cl->resp.len, 0, NULL), *r;
	json_t *arr = json_object_get(j, "requests");
	size_t i;
	int64_t up_to = 0;
	if (!json_is_array(arr)) {
		json_decref(j);
		snprintf(err, errlen, "HQ's request list is not a posmark answer");
		return PM_EPROTO;
	}
	json_array_foreach(arr, i, r) {
		json_t *id = json_object_get(r, "id"), *type = json_object_get(r, "type");
		json_t *card = json_object_get(r, "card"), *consent = json_object_get(r, "consent");
		const char *c = json_string_value(card);
		if (!json_is_integer(id) || !json_is_string(type) || !c || !*c || strlen(c) > WIRE_CARD_MAX ||
		    strspn(c, "0123456789") != strlen(c))
			break;
		if (!strcmp(json_string_value(type), "erasure"))
			rc = src->apply_erasure(src->ctx, c);
		else if (!strcmp(json_string_value(type), "consent") && json_is_string(consent))
			rc = src->apply_consent(src->ctx, c, !strcmp(json_string_value(consent), "yes"));
		if (rc == PM_ENOENT)
			rc = PM_OK; /* a card this terminal never saw: nothing to do */
		if (rc)
			break;
		cl->st->requests_applied++;
		up_to = json_integer_value(id);
	}
	json_decref(j);
	if (rc) {
		snprintf(err, errlen, "cannot apply HQ's request: %s", pm_strerror(rc));
		return rc;
	}
	if (up_to > 0) {
		char path[64];
		snprintf(path, sizeof(path), "/v1/requests/ack?up_to=%" PRId64, up_to);
		if ((rc = hsi_http(cl, "POST", path, "", 0, NULL, &status)) || status != 200)
			return PM_OK; /* applied again next time: erasure is idempotent */
	}
	return PM_OK;
}

static int pull_rules(struct client *cl, const struct hs_source *src, char *err, size_t errlen)
{
	char path[4200], etag[80] = "", hdr[120];
	struct curl_slist *extra = NULL;
	unsigned char sig[crypto_sign_BYTES];
	size_t sig_len = 0;
	long status = 0;
	FILE *f;
	snprintf(path, sizeof(path), "%s/rules.etag", cl->cfg->data_dir);
	if ((f = fopen(path, "r"))) {
		if (!fgets(etag, sizeof(etag), f))
			etag[0] = '\0';
		fclose(f);
		etag[strcspn(etag, "\r\n")] = '\0';
	}
	if (etag[0]) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
		extra = curl_slist_append(extra, hdr);
	}
	int rc = hsi_get_retry(cl, "the rule set", "/v1/rules", extra, rules_reply_ok, &status, err, errlen);
	curl_slist_free_all(extra);
	if (rc)
		return rc;
	if (status == 304 || status == 404)
		return 0;
	if (status != 200) {
		snprintf(err, errlen, "cannot fetch the rule set: HQ answered %ld", status);
		return PM_EPROTO;
	}
	if (sodium_hex2bin(sig, sizeof(sig), cl->sig_hex, strlen(cl->sig_hex), NULL, &sig_len, NULL))
		sig_len = 0;
	/* signed but unusable (the engine cannot load it): refused too, old set kept */
	uint64_t serial = strtoull(cl->rules_serial, NULL, 10), installed = 0;
	if (src->rules_check && !hs_rules_verify_serial(cl->cfg->rules_public_key, serial,
							cl->resp.data ? cl->resp.data : "", cl->resp.len,
							sig_len ? sig : NULL, sig_len)) {
		char why[300];
		if (src->rules_check(src->ctx, cl->resp.data ? cl->resp.data : "", cl->resp.len, why, sizeof(why))) {
			snprintf(err, errlen, "rule set from HQ refused: signed but not valid (%s); the old rule set stays",
				 why);
			pm_err("%s", err);
			return PM_EINVAL;
		}
	}
	/* signature, then the engine, then the serial: only a newer publication is installed */
	rc = hs_rules_install_serial(cl->cfg->data_dir, cl->cfg->rules_public_key, serial,
				     cl->resp.data ? cl->resp.data : "", cl->resp.len, sig_len ? sig : NULL, sig_len,
				     cl->etag[0] ? cl->etag : NULL, &installed);
	if (rc >= 0)
		return rc;
	if (rc == PM_EREFUSED) {
		snprintf(err, errlen, "rule set from HQ refused: its serial %" PRIu64 " is older than the installed "
			 "set's %" PRIu64 " (an old set put back at HQ, or a replayed answer); the installed set stays",
			 serial, installed);
		pm_err("%s", err);
	} else if (rc == PM_ECHECK) {
		snprintf(err, errlen, "rule set from HQ refused: missing or bad signature; the old rule set stays");
		pm_err("%s", err);
	} else if (rc == PM_EINVAL) {
		snprintf(err, errlen, "hq.rules_public_key is not a 64-hex-digit Ed25519 public key");
	} else if (rc) {
		snprintf(err, errlen, "cannot install the rule set in '%s': %s", cl->cfg->data_dir, pm_strerror(rc));
	}
	return rc;
}

int hsi_client_open(struct client *cl, const struct hs_client_config *cfg, const char *terminal,
		    struct hs_sync_stats *st)
{
	char hdr[200];
	memset(cl, 0, sizeof(*cl));
	if (sodium_init() < 0)
		return PM_ENOMEM;
	cl->cfg = cfg;
	cl->st = st;
	if (!(cl->h = curl_easy_init()))
		return PM_ENOMEM;
	snprintf(hdr, sizeof(hdr), "X-Posmark-Store: %s", cfg->store);
	cl->auth = curl_slist_append(NULL, hdr);
	snprintf(hdr, sizeof(hdr), "X-Posmark-Terminal: %s", terminal ? terminal : "");
	cl->auth = curl_slist_append(cl->auth, hdr);
	{
		/* the credential lives only in this header list; never printed */
		size_t n = strlen(cfg->credential) + 32;
		char *a = malloc(n);
		if (a) {
			snprintf(a, n, "Authorization: Bearer %s", cfg->credential);
			cl->auth = curl_slist_append(cl->auth, a);
			sodium_memzero(a, n);
			free(a);
		}
	}
	return PM_OK;
}

void hsi_client_close(struct client *cl)
{
	for (struct curl_slist *s = cl->auth; s; s = s->next)
		sodium_memzero(s->data, strlen(s->data));
	curl_slist_free_all(cl->auth);
	pm_buf_free(&cl->resp);
	if (cl->h)
		curl_easy_cleanup(cl->h);
	memset(cl, 0, sizeof(*cl));
}

int hs_sync_once(const struct hs_client_config *cfg, const struct hs_source *src, const char *terminal,
		 struct hs_sync_stats *st, char *err, size_t errlen)
{
	struct client cl;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(err, errlen, "ok");
	if (!cfg->url || !*cfg->url || !cfg->store[0] || !cfg->credential[0]) {
		snprintf(err, errlen, "hq.url, store.id and hq.store_credential must be set to sync");
		return PM_EINVAL;
	}
	if ((rc = hsi_client_open(&cl, cfg, terminal, st))) {
		hsi_client_close(&cl);
		return rc;
	}
	hsi_status_begin(&cl, src);
	/* uploads first: a state pulled after them includes them (docs/accounts.md) */
	rc = upload_kind(&cl, src, terminal, false, err, errlen);
	if (!rc)
		rc = upload_kind(&cl, src, terminal, true, err, errlen);
	if (!rc)
		rc = pull_requests(&cl, src, err, errlen);
	if (!rc)
		rc = hsi_pull_accounts(&cl, src, terminal, err, errlen);
	if (!rc && cfg->rules_public_key && *cfg->rules_public_key) {
		int r = pull_rules(&cl, src, err, errlen);
		st->rules = r;
		rc = r < 0 ? r : PM_OK;
	}
	hsi_client_close(&cl);
	return rc;
}
