/*
 * prn_file.c - the escpos: printer backend: appends the raw ESC/POS bytes
 * of each receipt to a file ("-" = stdout), for inspection, for a printer
 * device node the kernel already drives, and for `posmark receipt --escpos`.
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

static int op_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
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
		snprintf(errbuf, errlen, "cannot open ESC/POS capture file '%s': %s; check the path in printer=",
			 arg, strerror(e));
		return pm_from_errno(e);
	}
	return PM_OK;
}

static int op_write(struct prn_dev *p, const unsigned char *buf, size_t n)
{
	struct file_priv *t = p->priv;
	if (fwrite(buf, 1, n, t->f) != n || fflush(t->f) != 0)
		return pm_from_errno(errno);
	return PM_OK;
}

static void op_close(struct prn_dev *p)
{
	struct file_priv *t = p->priv;
	if (t->f && !t->is_stdout)
		fclose(t->f);
}

const struct prn_ops prn_escpos_file_ops = {
	.name = "ESC/POS capture file",
	.scheme = "escpos",
	.priv_size = sizeof(struct file_priv),
	.open = op_open,
	.write = op_write,
	.close = op_close,
};
