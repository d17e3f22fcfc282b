/*
 * prn_file.c - the two file printer backends; each appends every receipt to
 * a file ("-" = stdout):
 *  text:    the receipt as plain text (the default printer and the demo's)
 *  escpos:  the raw ESC/POS bytes, for inspection, for a printer device
 *           node the kernel already drives, and for `posmark receipt --escpos`
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct file_priv {
	FILE *f;
	bool is_stdout;
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

static int text_print(struct prn_dev *p, const struct prn_doc *doc)
{
	char *text;
	size_t len;
	int rc = prn_doc_to_text(doc, &text, &len);
	if (rc)
		return rc;
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
	.close = op_close,
};
