/*
 * prn_file.c - the two file printer backends; each appends every receipt to
 * a file ("-" = stdout):
 *  text:    the receipt as plain text (the default printer and the demo's);
 *           bounded: before a receipt that would take the file past max_kb
 *           (default 8 MiB) it becomes FILE.1, FILE.1 becomes FILE.2, ...,
 *           keeping `keep` old files (default 3; docs/printers.md)
 *  escpos:  the raw ESC/POS bytes, for inspection, for a printer device
 *           node the kernel already drives, and for `posmark receipt --escpos`
 * Both may simulate a printer's state (",status=FILE", docs/printers.md): the
 * first word of FILE, read at every status query, is ready, paper_out,
 * cover_open or offline (no file: ready); a state other than ready refuses
 * the receipt as a real printer would (PM_EPAPER, PM_EOFFLINE).
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_priv {
	FILE *f;
	bool is_stdout;
	char path[1024];           /* the file, for rotation ("" = too long to rotate) */
};

/* Open arg for appending; what names the file in the error message. */
static int file_open(struct prn_dev *p, const char *arg, const char *what, char *errbuf,
		     size_t errlen)
{
	struct file_priv *t = p->priv;
	if (!strcmp(arg, "-")) {
		t->f = stdout;
		t->is_stdout = true;
		return PM_OK;
	}
	if (strlen(arg) < sizeof(t->path) - 4)
		snprintf(t->path, sizeof(t->path), "%s", arg);
	t->f = fopen(arg, "ab");
	if (!t->f) {
		int e = errno;
		snprintf(errbuf, errlen, "cannot open %s '%s': %s; check the path in printer=", what, arg,
			 strerror(e));
		return pm_from_errno(e);
	}
	return PM_OK;
}

/* Append and flush: the receipt is in the file (or the pipe) on PM_OK. */
static int file_append(struct prn_dev *p, const void *buf, size_t n)
{
	struct file_priv *t = p->priv;
	errno = 0;
	if (fwrite(buf, 1, n, t->f) != n || fflush(t->f) != 0)
		return errno ? pm_from_errno(errno) : PM_EIO;
	return PM_OK;
}

static void op_close(struct prn_dev *p)
{
	struct file_priv *t = p->priv;
	if (t->f && !t->is_stdout)
		fclose(t->f);
}

static int text_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	return file_open(p, arg, "receipt file", errbuf, errlen);
}

/*
 * Before appending len bytes: if they would take the file past its bound,
 * FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1, and a new FILE. A failed
 * rename is logged and the receipt goes to the current file: a full receipt
 * file never stops the till.
 */
static void text_rotate(struct prn_dev *p, size_t len)
{
	struct file_priv *t = p->priv;
	char from[1100], to[1100];
	struct stat st;
	FILE *f;

	if (t->is_stdout || !t->path[0] || p->file_max_bytes <= 0 || fstat(fileno(t->f), &st) ||
	    !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size + (long long)len <= p->file_max_bytes)
		return;
	for (int i = p->file_keep - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", t->path, i);
		snprintf(to, sizeof(to), "%s.%d", t->path, i + 1);
		if (rename(from, to) && errno != ENOENT)
			pm_warn("prn %s: cannot rename '%s' to '%s': %s", p->name, from, to, strerror(errno));
	}
	snprintf(to, sizeof(to), "%s.1", t->path);
	if (p->file_keep > 0 ? rename(t->path, to) : unlink(t->path)) {
		pm_warn("prn %s: cannot rotate the receipt file '%s': %s; it keeps growing", p->name, t->path,
			strerror(errno));
		return;
	}
	if (!(f = fopen(t->path, "ab"))) {
		pm_warn("prn %s: cannot start a new receipt file '%s': %s; writing to '%s'", p->name, t->path,
			strerror(errno), p->file_keep > 0 ? to : "(removed file)");
		return;
	}
	fclose(t->f);
	t->f = f;
	pm_info("prn %s: receipt file reached %lld KiB, the old one is now '%s'", p->name,
		(long long)st.st_size >> 10, p->file_keep > 0 ? to : "(removed)");
}

/* The simulated state: ",status=FILE"'s first word (docs/printers.md). */
static int op_status(struct prn_dev *p, int *state)
{
	char word[32] = "";
	*state = PRN_READY;
	if (!p->status_file[0])
		return PM_OK;
	FILE *f = fopen(p->status_file, "r");
	if (!f)
		return PM_OK;   /* no file: ready */
	if (fscanf(f, "%31s", word) != 1)
		word[0] = '\0';
	fclose(f);
	if (!strcmp(word, "paper_out"))
		*state = PRN_PAPER_OUT;
	else if (!strcmp(word, "cover_open"))
		*state = PRN_COVER_OPEN;
	else if (!strcmp(word, "offline"))
		*state = PRN_OFFLINE;
	else if (strcmp(word, "ready") && word[0])
		pm_warn("prn %s: status file '%s' says '%s'; expected ready, paper_out, cover_open or offline",
			p->name, p->status_file, word);
	return PM_OK;
}

static int text_print(struct prn_dev *p, const struct prn_doc *doc)
{
	char *text;
	size_t len;
	int state;
	op_status(p, &state);
	if (state != PRN_READY)
		return state == PRN_OFFLINE ? PM_EOFFLINE : PM_EPAPER;
	int rc = prn_doc_to_text(doc, &text, &len);
	if (rc)
		return rc;
	text_rotate(p, len);
	rc = file_append(p, text, len);
	free(text);
	return rc;
}

const struct prn_ops prn_text_ops = {
	.name = "text file",
	.scheme = "text",
	.priv_size = sizeof(struct file_priv),
	.open = text_open,
	.print = text_print,
	.status = op_status,
	.close = op_close,
};

static int escpos_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	return file_open(p, arg, "ESC/POS capture file", errbuf, errlen);
}

static int escpos_write(struct prn_dev *p, const unsigned char *buf, size_t n)
{
	return file_append(p, buf, n);
}

const struct prn_ops prn_escpos_file_ops = {
	.name = "ESC/POS capture file",
	.scheme = "escpos",
	.priv_size = sizeof(struct file_priv),
	.open = escpos_open,
	.write = escpos_write,
	.status = op_status,
	.close = op_close,
};
