/*
 * prn_usb.c - the usb:VID:PID printer backend through libusb: the USB
 * printer class (interface class 7), ESC/POS on the bulk OUT endpoint,
 * status from the class request GET_PORT_STATUS. The kernel's usblp driver
 * is detached (libusb_kernel_driver_active + libusb_detach_kernel_driver,
 * not auto-detach, which fails where detaching is unsupported). Every
 * transfer has the device's timeout. Opened lazily and reopened after
 * LIBUSB_ERROR_NO_DEVICE, so an unplugged printer comes back by itself.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USB_CLASS_PRINTER 7
#define REQ_GET_PORT_STATUS 1

struct usb_priv {
	struct drv_usb usb;        /* ep: the bulk OUT endpoint */
};

int prni_usb_port_status(unsigned char st)
{
	if (st & 0x20)
		return PRN_PAPER_OUT;
	if (!(st & 0x10) || !(st & 0x08))
		return PRN_OFFLINE;
	return PRN_READY;
}

static void release(struct usb_priv *u)
{
	drv_usb_release(&u->usb);
}

/* Open and claim the printer; absent or unplugged is PM_EOFFLINE (it comes back by itself). */
static int ensure_open(struct prn_dev *p)
{
	struct usb_priv *u = p->priv;
	int rc = drv_usb_open(&u->usb, USB_CLASS_PRINTER, LIBUSB_TRANSFER_TYPE_BULK, false, p->name);
	if (rc == PM_ENODEV)
		pm_info("prn %s: no USB device %04x:%04x", p->name, u->usb.vid, u->usb.pid);
	return rc == PM_ENODEV ? PM_EOFFLINE : rc;
}

static int op_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	struct usb_priv *u = p->priv;
	if (drv_usb_parse_ids(arg, &u->usb.vid, &u->usb.pid)) {
		snprintf(errbuf, errlen, "USB printer '%s' is not VID:PID in hex; write e.g. usb:04b8:0202", arg);
		return PM_EINVAL;
	}
	int r = libusb_init(&u->usb.ctx);
	if (r) {
		snprintf(errbuf, errlen, "cannot start libusb: %s", libusb_strerror(r));
		return drv_usb_err(r);
	}
	ensure_open(p);            /* absent now is fine: connected on the next print */
	return PM_OK;
}

static int op_status(struct prn_dev *p, int *state)
{
	struct usb_priv *u = p->priv;
	unsigned char st = 0;
	int rc;
	*state = PRN_OFFLINE;
	if ((rc = ensure_open(p)))
		return rc;
	int r = libusb_control_transfer(u->usb.h, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS |
					LIBUSB_RECIPIENT_INTERFACE, REQ_GET_PORT_STATUS, 0,
					(uint16_t)u->usb.iface, &st, 1, (unsigned)p->timeout_ms);
	if (r != 1) {
		rc = r < 0 ? drv_usb_err(r) : PM_EPROTO;
		pm_warn("prn %s: GET_PORT_STATUS failed: %s", p->name, pm_strerror(rc));
		if (rc == PM_ENODEV)
			release(u);
		return rc;
	}
	*state = prni_usb_port_status(st);
	return PM_OK;
}

static int op_write(struct prn_dev *p, const unsigned char *buf, size_t n)
{
	struct usb_priv *u = p->priv;
	for (size_t off = 0; off < n;) {
		int chunk = (int)(n - off > 4096 ? 4096 : n - off), done = 0;
		int r = libusb_bulk_transfer(u->usb.h, u->usb.ep, (unsigned char *)buf + off, chunk, &done,
					     (unsigned)p->timeout_ms);
		off += (size_t)done;
		if (r) {
			int rc = drv_usb_err(r);
			pm_warn("prn %s: bulk write failed after %zu of %zu bytes: %s", p->name, off, n,
				libusb_strerror(r));
			if (rc == PM_ENODEV)
				release(u);
			return rc;
		}
	}
	return PM_OK;
}

static void op_close(struct prn_dev *p)
{
	struct usb_priv *u = p->priv;
	release(u);
	if (u->usb.ctx)
		libusb_exit(u->usb.ctx);
}

const struct prn_ops prn_usb_ops = {
	.name = "USB printer class (libusb)",
	.scheme = "usb",
	.priv_size = sizeof(struct usb_priv),
	.open = op_open,
	.write = op_write,
	.status = op_status,
	.close = op_close,
};
