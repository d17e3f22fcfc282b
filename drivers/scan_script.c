/*
 * scan_script.c - the simulated scanner and keypad: a scan script file
 * (docs/scanning.md), one scan or cashier key per line. Blank lines and lines
 * starting with "//" are skipped; "#..." lines are cashier keys.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct script_priv {
	FILE *f;
	unsigned long line;
};

static int op_open(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen)
{
	struct script_priv *p = s->priv;
	p->f = fopen(arg, "r");
	if (!p->f) {
		int e = errno;
		snprintf(errbuf, errlen, "cannot open scan script '%s': %s", arg, strerror(e));
		return pm_from_errno(e);
	}
	return PM_OK;
}

static int op_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	struct script_priv *p = s->priv;
	char line[sizeof(out->data)];
	(void)timeout_ms;
	while (fgets(line, sizeof(line), p->f)) {
		size_t n = strlen(line);
		p->line++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || !strncmp(line, "//", 2))
			continue;
		memcpy(out->data, line, n + 1);
		out->len = n;
		out->is_key = line[0] == '#';
		return PM_OK;
	}
	return ferror(p->f) ? PM_EIO : PM_ENOENT;
}

static void op_close(struct scan_dev *s)
{
	struct script_priv *p = s->priv;
	if (p->f)
		fclose(p->f);
}

const struct scan_ops scan_script_ops = {
	.name = "scan script",
	.scheme = "script",
	.priv_size = sizeof(struct script_priv),
	.open = op_open,
	.read = op_read,
	.close = op_close,
};
