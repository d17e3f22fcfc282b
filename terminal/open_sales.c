/*
 * open_sales.c - the daemon keeps its open sales over a SIGTERM in
 * DATA/open-sales.json, even when the disk is full (docs/daemon.md,
 * "Signals").
 *
 * Writing a new file at SIGTERM needs free blocks exactly when a full disk
 * has none (it left a 0-byte temp file and lost the sales). So the space is
 * reserved while there is some: the file is written full of spaces at start
 * and grown while lanes fill (open_sales_reserve_tick), and at SIGTERM the
 * JSON is written over its start in place, then fdatasync. JSON allows the
 * trailing spaces. A power cut in the middle leaves a prefix of the JSON
 * followed by spaces, which does not parse: those sales are dropped, as a
 * power cut drops open sales anyway. After a restore the file is blanked
 * again, never removed, so the reservation stays.
 *
 * Limits: a copy-on-write filesystem (btrfs, zfs) needs new blocks even to
 * overwrite; there the reservation does not help (ext4, xfs, tmpfs: it does).
 */
#include "terminal/daemon_int.h"
#include "common/pm_err.h"
#include "common/pm_file.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESERVE_MIN (256u * 1024u)   /* bytes; about 500 lines at their largest */
#define LANE_BOUND 500u              /* JSON of a lane without its lines (points, return_of too), at most */
#define LINE_BOUND 520u              /* JSON of one line, name escaped at its worst */

static void path_of(const struct daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/open-sales.json", d->cfg.data_dir);
}

/* Write spaces over [from, to) of the reserve. PM_OK, PM_EFULL, PM_EIO. */
static int blank(int fd, size_t from, size_t to)
{
	char sp[8192];
	memset(sp, ' ', sizeof(sp));
	while (from < to) {
		size_t n = to - from < sizeof(sp) ? to - from : sizeof(sp);
		ssize_t w = pwrite(fd, sp, n, (off_t)from);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) ? PM_EFULL : PM_EIO;
		from += (size_t)w;
	}
	return PM_OK;
}

/* The most the open sales' JSON can take now (names at their longest, escaped). */
static size_t bound(const struct daemon *d)
{
	size_t b = 64;
	for (size_t i = 0; i < d->n_lanes; i++)
		if (d->lanes[i]->till.open && d->lanes[i] != d->till_lane)
			b += LANE_BOUND + d->lanes[i]->till.n_lines * LINE_BOUND;
	return b;
}

/* Grow the reserve to at least `want` bytes of spaces, durably. */
static int grow(struct daemon *d, size_t want)
{
	if (want <= d->open_sales_reserved)
		return PM_OK;
	size_t to = d->open_sales_reserved * 2 > want ? d->open_sales_reserved * 2 : want;
	int rc = blank(d->open_sales_fd, d->open_sales_reserved, to);
	struct stat st;
	/* What was written before a full disk stopped it still counts. */
	if (fstat(d->open_sales_fd, &st) == 0 && (size_t)st.st_size > d->open_sales_reserved)
		d->open_sales_reserved = (size_t)st.st_size;
	if (rc == PM_OK && fdatasync(d->open_sales_fd))
		rc = PM_EIO;
	return rc;
}

void open_sales_reserve(struct daemon *d)
{
	char path[1200];
	path_of(d, path, sizeof(path));
	d->open_sales_reserved = 0;
	d->open_sales_warned = false;
	d->open_sales_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (d->open_sales_fd < 0) {
		pm_warn("cannot reserve %s for the open sales: %s; hint: make the data directory writable, "
			"or open sales are lost at a stop while the disk is full", path, strerror(errno));
		return;
	}
	struct stat st;
	if (fstat(d->open_sales_fd, &st) == 0)
		d->open_sales_reserved = (size_t)st.st_size;
	/* Blank what is there (the sales in it were resumed), then reserve. */
	int rc = blank(d->open_sales_fd, 0, d->open_sales_reserved);
	if (rc == PM_OK)
		rc = grow(d, RESERVE_MIN);
	pm_fsync_parent(path);
	if (rc)
		pm_warn("could reserve only %zu bytes for open sales in %s (%s); hint: free disk space in the "
			"data directory, or open sales may be lost at a stop while the disk is full",
			d->open_sales_reserved, path, pm_errname(rc));
}

void open_sales_reserve_tick(struct daemon *d)
{
	if (d->open_sales_fd < 0)
		return;
	size_t need = bound(d);
	if (need <= d->open_sales_reserved)
		return;
	int rc = grow(d, need);
	if (rc && !d->open_sales_warned) {
		d->open_sales_warned = true;
		pm_warn("the disk is full: cannot reserve %zu bytes for the open sales (%zu reserved); "
			"hint: free disk space in %s, or the newest open sales may be lost at a stop",
			need, d->open_sales_reserved, d->cfg.data_dir);
	} else if (rc == PM_OK) {
		d->open_sales_warned = false;
	}
}

static json_t *lanes_json(struct daemon *d)
{
	json_t *lanes = json_array();
	for (size_t i = 0; i < d->n_lanes; i++) {
		struct till *t = &d->lanes[i]->till;
		if (!t->open || d->lanes[i] == d->till_lane)
			continue;
		json_t *lines = json_array();
		for (size_t k = 0; k < t->n_lines; k++)
			json_array_append_new(lines, json_pack("{s:s, s:i, s:I, s:s}", "gtin", t->lines[k].item.gtin,
							       "qty", (int)t->lines[k].item.qty, "unit_price_cents",
							       (json_int_t)t->lines[k].item.unit_price_cents, "name",
							       t->lines[k].name));
		json_array_append_new(lanes, json_pack("{s:s, s:s, s:s, s:o, s:I, s:s}", "lane", d->lanes[i]->name,
						       "pos_sale_id", t->pos_sale_id, "card", t->card, "lines", lines,
						       "points", (json_int_t)t->points_spend, "return_of", t->return_of));
	}
	return lanes;
}

/* In place over the reserve; PM_EFULL when it does not fit (the caller falls back). */
static int write_reserved(struct daemon *d, const char *text, size_t len)
{
	if (d->open_sales_fd < 0 || len > d->open_sales_reserved)
		return PM_EFULL;
	for (size_t done = 0; done < len;) {
		ssize_t w = pwrite(d->open_sales_fd, text + done, len - done, (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return PM_EIO;
		done += (size_t)w;
	}
	return fdatasync(d->open_sales_fd) ? PM_EIO : PM_OK;
}

/* SIGTERM keeps open sales (docs/daemon.md). */
void open_sales_save(struct daemon *d)
{
	char path[1200];
	json_t *lanes = lanes_json(d);
	size_t n = json_array_size(lanes);
	path_of(d, path, sizeof(path));
	if (n == 0) {
		json_decref(lanes);
		if (d->open_sales_fd < 0)
			unlink(path);   /* no reserve: nothing must stay to be resumed */
		return;             /* the reserve is blank since the start */
	}
	json_t *doc = json_pack("{s:i, s:o}", "version", 1, "lanes", lanes);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc = text ? write_reserved(d, text, strlen(text)) : PM_ENOMEM;
	const char *how = "in its reserved space";
	if (rc == PM_EFULL && text) {
		/* Larger than the reserve (the disk filled while lanes grew): a new file. */
		rc = pm_file_replace(path, text, strlen(text), 0640);
		how = "as a new file";
	}
	if (rc == PM_OK)
		pm_info("kept %zu open sale(s) in %s (%s)", n, path, how);
	else
		pm_err("cannot keep open sales in %s: %s (%s); hint: free disk space in the data directory, "
		       "the POS app must ring those sales again", path, strerror(errno), pm_errname(rc));
	free(text);
	json_decref(doc);
}

void open_sales_restore(struct daemon *d)
{
	char path[1200];
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	path_of(d, path, sizeof(path));
	if (pm_file_read(path, 64u * 1024 * 1024, &text, &len) != PM_OK)
		return;
	size_t k = 0;
	while (k < len && (text[k] == ' ' || text[k] == '\n'))
		k++;
	if (k == len) {
		free(text);   /* blank: a reserve with nothing kept */
		return;
	}
	json_t *doc = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!doc) {
		pm_err("open sales in %s cannot be read (%s: a stop cut short by a power cut?); they are "
		       "dropped; hint: the POS app asks sale_status and rings them again", path, jerr.text);
		return;   /* open_sales_reserve blanks it */
	}
	size_t i, j;
	json_t *ln, *item;
	json_array_foreach(json_object_get(doc, "lanes"), i, ln) {
		struct lane *l = daemon_lane(d, json_string_value(json_object_get(ln, "lane")) ?: "", true);
		if (!l)
			continue;
		snprintf(l->till.pos_sale_id, sizeof(l->till.pos_sale_id), "%s",
			 json_string_value(json_object_get(ln, "pos_sale_id")) ?: "");
		/* A return resumes as a return (its sale read again); one that cannot (another
		 * terminal's sale, HQ not answering now) is dropped, never rung as a sale. */
		const char *ret = json_string_value(json_object_get(ln, "return_of"));
		if (ret && *ret && till_return_open(&l->till, ret, "return_open")) {
			pm_warn("lane %s: the open return of %s cannot resume (%s); the POS app opens it again",
				l->name, ret, l->refusal);
			till_cancel(&l->till);
			l->till.pos_sale_id[0] = '\0';
			continue;
		}
		json_array_foreach(json_object_get(ln, "lines"), j, item)
			till_add_priced(&l->till, json_string_value(json_object_get(item, "gtin")) ?: "",
					(int32_t)json_integer_value(json_object_get(item, "qty")),
					json_integer_value(json_object_get(item, "unit_price_cents")),
					json_string_value(json_object_get(item, "name")));
		const char *card = json_string_value(json_object_get(ln, "card"));
		if (card && *card) {
			struct scan_result r;
			scan_decode_keyed_card(&d->cfg.scan, card, &r);
			till_set_card(&l->till, &r);
		}
		json_int_t pts = json_integer_value(json_object_get(ln, "points"));
		if (pts > 0)
			till_points_spend(&l->till, pts, "points_spend");
		l->till.open = true;
	}
	pm_info("resumed %zu open sale(s) from %s", json_array_size(json_object_get(doc, "lanes")), path);
	json_decref(doc);
}

void open_sales_close(struct daemon *d)
{
	if (d->open_sales_fd >= 0)
		close(d->open_sales_fd);
	d->open_sales_fd = -1;
}
