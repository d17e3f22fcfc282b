/* scan_core.c - scanner dispatch: parse the device string, pick the backend. */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int64_t scani_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int scani_fd_wait(struct scan_dev *s, const int *fd, int (*reopen)(struct scan_dev *),
		  int64_t deadline_ms, bool *first)
{
	int64_t left = deadline_ms < 0 ? 1000 : deadline_ms - scani_now_ms();
	if (left <= 0 && !*first)
		return PM_ETIMEOUT;
	*first = false;
	if (left < 1)
		left = 1;
	if (reopen(s)) {
		struct timespec ts = { 0, (left < 100 ? left : 100) * 1000000L };
		nanosleep(&ts, NULL);
		return 0;
	}
	struct pollfd pfd = { .fd = *fd, .events = POLLIN };
	int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
	if (r < 0 && errno != EINTR)
		return pm_from_errno(errno);
	return r > 0;
}

int scani_fd_read(struct scan_dev *s, const int *fd, int (*reopen)(struct scan_dev *),
		  int64_t deadline_ms, bool *first, void *buf, size_t cap, size_t *got,
		  const char *what)
{
	*got = 0;
	int w = scani_fd_wait(s, fd, reopen, deadline_ms, first);
	if (w <= 0)
		return w;
	ssize_t k = read(*fd, buf, cap);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (k <= 0) {
		pm_warn("scan %s: %s (%s); it is reopened when it comes back", s->name, what,
			k < 0 ? strerror(errno) : "end of file");
		return PM_ENODEV;
	}
	*got = (size_t)k;
	return 1;
}
