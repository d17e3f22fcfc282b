/*
 * scan_evdev.c - the evdev:/dev/input/eventN scanner backend: a keyboard
 * wedge scanner the kernel drives, read as input events. The device is
 * grabbed (EVIOCGRAB) so its keystrokes do not also type into the desktop;
 * if the grab is refused the scanner still works (logged). Key presses
 * become characters with the shift/ctrl state; Enter ends a scan. A device
 * that goes away (ENODEV) is reopened by path on later reads.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct evdev_priv {
	char path[256];
	int fd;
	bool lshift, rshift, lctrl, rctrl;
	struct scani_line line;
	struct input_event pend[64]; /* events read but not yet decoded */
	size_t pend_n, pend_i;
};

static int reopen(struct scan_dev *s)
{
	struct evdev_priv *e = s->priv;
	if (e->fd >= 0)
		return PM_OK;
	e->fd = open(e->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (e->fd < 0)
		return pm_from_errno(errno);
	if (ioctl(e->fd, EVIOCGRAB, 1) < 0)
		pm_warn("scan %s: cannot grab the device (%s): its keys also reach the desktop",
			s->name, strerror(errno));
	e->lshift = e->rshift = e->lctrl = e->rctrl = false;
	memset(&e->line, 0, sizeof(e->line));
	e->pend_n = e->pend_i = 0;
	return PM_OK;
}

static int op_open(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen)
{
	struct evdev_priv *e = s->priv;
	e->fd = -1;
	if (!arg[0] || strlen(arg) >= sizeof(e->path)) {
		snprintf(errbuf, errlen, "scanner path '%s' is not valid; write evdev:/dev/input/eventN", arg);
		return PM_EINVAL;
	}
	snprintf(e->path, sizeof(e->path), "%s", arg);
	int rc = reopen(s);
	if (rc)
		snprintf(errbuf, errlen, "cannot open scanner '%s': %s; check the path (ls -l "
			 "/dev/input/by-id) and that posmark may read it (input group)", arg, pm_strerror(rc));
	return rc;
}

static void drop(struct evdev_priv *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

/* One key event; returns 1 when a scan completed. */
static int key_event(struct evdev_priv *e, unsigned code, int value, struct scan_raw *out)
{
	switch (code) {
	case KEY_LEFTSHIFT: e->lshift = value != 0; return 0;
	case KEY_RIGHTSHIFT: e->rshift = value != 0; return 0;
	case KEY_LEFTCTRL: e->lctrl = value != 0; return 0;
	case KEY_RIGHTCTRL: e->rctrl = value != 0; return 0;
	default: break;
	}
	if (value != 1)            /* releases and autorepeat */
		return 0;
	int c = scani_hid_usage_char(scani_evdev_to_usage(code), e->lshift || e->rshift,
				     e->lctrl || e->rctrl);
	return c >= 0 ? scani_line_push(&e->line, (char)c, out) : 0;
}

static int op_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	struct evdev_priv *e = s->priv;
	int64_t deadline = timeout_ms < 0 ? -1 : scani_now_ms() + timeout_ms;
	bool first = true;
	for (;;) {
		while (e->pend_i < e->pend_n) {
			const struct input_event *ev = &e->pend[e->pend_i++];
			if (ev->type == EV_KEY && key_event(e, ev->code, ev->value, out) == 1)
				return PM_OK;
		}
		size_t k;
		int r = scani_fd_read(s, &e->fd, reopen, deadline, &first, e->pend, sizeof(e->pend), &k,
				      "device gone");
		if (r == 0)
			continue;
		if (r < 0) {
			if (r == PM_ENODEV)
				drop(e);
			return r;
		}
		/* evdev returns whole events; a stray partial one is ignored. */
		e->pend_n = k / sizeof(e->pend[0]);
		e->pend_i = 0;
	}
}

static int op_fd(struct scan_dev *s)
{
	return ((struct evdev_priv *)s->priv)->fd;
}

static void op_close(struct scan_dev *s)
{
	struct evdev_priv *e = s->priv;
	if (e->fd >= 0)
		ioctl(e->fd, EVIOCGRAB, 0);
	drop(e);
}

const struct scan_ops scan_evdev_ops = {
	.name = "evdev keyboard scanner",
	.scheme = "evdev",
	.priv_size = sizeof(struct evdev_priv),
	.open = op_open,
	.read = op_read,
	.fd = op_fd,
	.close = op_close,
};
