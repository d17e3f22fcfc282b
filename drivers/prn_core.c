/* prn_core.c - printer dispatch: parse the device string, pick the backend. */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct prn_ops *const prn_backends[] = {
	&prn_text_ops,
};

const char *prn_state_words(int state)
{
	switch (state) {
	case PRN_READY: return "printer ready";
	case PRN_PAPER_OUT: return "printer is out of paper: load a new roll";
	case PRN_COVER_OPEN: return "printer cover is open: close it";
	case PRN_OFFLINE: return "printer is offline: check its cable and power";
	default: return "printer state unknown";
	}
}

int prn_open(const char *spec, struct prn_dev **out, char *errbuf, size_t errlen)
{
	const struct prn_ops *ops = NULL;
	const char *colon;
	struct prn_dev *p;
	int rc;

	*out = NULL;
	if (!spec || !(colon = strchr(spec, ':'))) {
		snprintf(errbuf, errlen, "printer '%s' is not a device string; use text:FILE, escpos:FILE, "
			 "usb:VID:PID, usblp:/dev/usb/lp0 or tcp:HOST[:PORT]", spec ? spec : "");
		return PM_EINVAL;
	}
	for (size_t i = 0; i < sizeof(prn_backends) / sizeof(prn_backends[0]); i++)
		if (strlen(prn_backends[i]->scheme) == (size_t)(colon - spec) &&
		    !strncmp(spec, prn_backends[i]->scheme, (size_t)(colon - spec)))
			ops = prn_backends[i];
	if (!ops) {
		snprintf(errbuf, errlen, "printer kind '%.*s' is unknown; use text:, escpos:, usb:, usblp: or tcp:",
			 (int)(colon - spec), spec);
		return PM_EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return PM_ENOMEM;
	p->ops = ops;
	snprintf(p->name, sizeof(p->name), "%s", spec);
	if (ops->priv_size && !(p->priv = calloc(1, ops->priv_size))) {
		free(p);
		return PM_ENOMEM;
	}
	rc = ops->open(p, colon + 1, errbuf, errlen);
	if (rc < 0) {
		free(p->priv);
		free(p);
		return rc;
	}
	*out = p;
	return PM_OK;
}

int prn_print(struct prn_dev *p, const struct prn_doc *doc)
{
	if (!p || !doc)
		return PM_EINVAL;
	return p->ops->print(p, doc);
}

int prn_status(struct prn_dev *p, int *state)
{
	*state = PRN_READY;
	if (!p)
		return PM_EINVAL;
	return p->ops->status ? p->ops->status(p, state) : PM_OK;
}

const char *prn_dev_name(const struct prn_dev *p)
{
	return p ? p->name : "";
}

void prn_close(struct prn_dev *p)
{
	if (!p)
		return;
	p->ops->close(p);
	free(p->priv);
	free(p);
}
