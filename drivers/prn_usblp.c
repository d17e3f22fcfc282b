/*
 * prn_usblp.c - the usblp: printer backend: a USB printer the kernel's
 * usblp driver owns (/dev/usb/lpN). ESC/POS bytes are written to the node;
 * status is the USB printer class port status byte the driver fetches with
 * GET_PORT_STATUS for the LPGETSTATUS ioctl. Opened lazily; a printer
 * unplugged and plugged back in is reopened by the next print.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/lp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct usblp_priv {
	struct prni_fd io;         /* first: prni_fd_op_write/close use it */
	char path[256];
};

static int op_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	struct usblp_priv *t = p->priv;
	t->io.fd = -1;
	if (!arg[0] || strlen(arg) >= sizeof(t->path)) {
		snprintf(errbuf, errlen, "printer device path '%s' is not valid; write usblp:/dev/usb/lp0", arg);
		return PM_EINVAL;
	}
	snprintf(t->path, sizeof(t->path), "%s", arg);
	return PM_OK;
}

static int ensure_open(struct prn_dev *p)
{
	struct usblp_priv *t = p->priv;
	if (t->io.fd >= 0)
		return PM_OK;
	t->io.fd = open(t->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->io.fd < 0) {
		int e = errno;
		pm_info("prn %s: cannot open: %s", p->name, strerror(e));
		return e == EACCES ? PM_EIO : PM_EOFFLINE;
	}
	return PM_OK;
}

static int op_status(struct prn_dev *p, int *state)
{
	struct usblp_priv *t = p->priv;
	int st = 0, rc;
	*state = PRN_OFFLINE;
	if ((rc = ensure_open(p)))
		return rc;
	if (ioctl(t->io.fd, LPGETSTATUS, &st) < 0) {
		int e = errno;
		pm_warn("prn %s: LPGETSTATUS failed: %s", p->name, strerror(e));
		prni_fd_disconnect(&t->io);
		return e == ENODEV ? PM_ENODEV : PM_EIO;
	}
	*state = prni_usb_port_status((unsigned char)st);
	return PM_OK;
}

const struct prn_ops prn_usblp_ops = {
	.name = "USB printer (kernel usblp)",
	.scheme = "usblp",
	.priv_size = sizeof(struct usblp_priv),
	.open = op_open,
	.write = prni_fd_op_write,
	.status = op_status,
	.close = prni_fd_op_close,
};
