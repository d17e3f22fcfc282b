/* scan_core.c - scanner dispatch: parse the device string, pick the backend. */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct scan_ops *const scan_backends[] = {
	&scan_script_ops,
	&scan_usb_ops,
	&scan_evdev_ops,
	&scan_serial_ops,
};

int scan_open(const char *spec, const struct scan_config *cfg, struct scan_dev **out,
	      char *errbuf, size_t errlen)
{
	const struct scan_ops *ops = NULL;
	const char *colon;
	struct scan_dev *s;
	int rc;

	*out = NULL;
	if (!spec || !(colon = strchr(spec, ':'))) {
		snprintf(errbuf, errlen, "scanner '%s' is not a device string; use usb:VID:PID, "
			 "evdev:/dev/input/eventN, serial:/dev/ttyACM0 or script:FILE", spec ? spec : "");
		return PM_EINVAL;
	}
	for (size_t i = 0; i < sizeof(scan_backends) / sizeof(scan_backends[0]); i++)
		if (strlen(scan_backends[i]->scheme) == (size_t)(colon - spec) &&
		    !strncmp(spec, scan_backends[i]->scheme, (size_t)(colon - spec)))
			ops = scan_backends[i];
	if (!ops) {
		snprintf(errbuf, errlen, "scanner kind '%.*s' is unknown; use usb:, evdev:, serial: or script:",
			 (int)(colon - spec), spec);
		return PM_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return PM_ENOMEM;
	s->ops = ops;
	if (cfg)
		s->cfg = *cfg;
	else
		scan_config_default(&s->cfg);
	snprintf(s->name, sizeof(s->name), "%s", spec);
	if (ops->priv_size && !(s->priv = calloc(1, ops->priv_size))) {
		free(s);
		return PM_ENOMEM;
	}
	rc = ops->open(s, colon + 1, errbuf, errlen);
	if (rc < 0) {
		free(s->priv);
		free(s);
		return rc;
	}
	*out = s;
	return PM_OK;
}

int scan_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	if (!s || !out)
		return PM_EINVAL;
	memset(out, 0, sizeof(*out));
	return s->ops->read(s, out, timeout_ms);
}

int scan_fd(struct scan_dev *s)
{
	return (s && s->ops->fd) ? s->ops->fd(s) : -1;
}

const char *scan_dev_name(const struct scan_dev *s)
{
	return s ? s->name : "";
}

void scan_close(struct scan_dev *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s->priv);
	free(s);
}
