/*
 * prn_text.c - the text: printer backend: appends each receipt as plain text
 * to a file ("-" = stdout). The default printer and the demo's.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct text_priv {
	FILE *f;
	bool is_stdout;
};

static int op_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	struct text_priv *t = p->priv;
	if (!strcmp(arg, "-")) {
		t->f = stdout;
		t->is_stdout = true;
		return PM_OK;
	}
	t->f = fopen(arg, "a");
	if (!t->f) {
		int e = errno;
		snprintf(errbuf, errlen, "cannot open receipt file '%s': %s; check the path in printer=",
			 arg, strerror(e));
		return pm_from_errno(e);
	}
	return PM_OK;
}

static int op_print(struct prn_dev *p, const struct prn_doc *doc)
{
	struct text_priv *t = p->priv;
	char *text;
	size_t len;
	int rc = prn_doc_to_text(doc, &text, &len);
	if (rc)
		return rc;
	if (fwrite(text, 1, len, t->f) != len || fflush(t->f) != 0) {
		int e = errno;
		free(text);
		return pm_from_errno(e);
	}
	free(text);
	return PM_OK;
}

static void op_close(struct prn_dev *p)
{
	struct text_priv *t = p->priv;
	if (t->f && !t->is_stdout)
		fclose(t->f);
}

const struct prn_ops prn_text_ops = {
	.name = "text file",
	.scheme = "text",
	.priv_size = sizeof(struct text_priv),
	.open = op_open,
	.print = op_print,
	.close = op_close,
};
