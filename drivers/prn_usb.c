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
	libusb_context *ctx;
	uint16_t vid, pid;
	libusb_device_handle *h;
	int iface;
	unsigned char ep_out;
	bool claimed, detached;
};

int prni_usb_port_status(unsigned char st)
{
	if (st & 0x20)
		return PRN_PAPER_OUT;
	if (!(st & 0x10) || !(st & 0x08))
		return PRN_OFFLINE;
	return PRN_READY;
}

static int from_libusb(int r)
{
	switch (r) {
	case LIBUSB_SUCCESS: return PM_OK;
	case LIBUSB_ERROR_TIMEOUT: return PM_ETIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE: return PM_ENODEV;
	case LIBUSB_ERROR_NOT_FOUND: return PM_ENODEV;
	case LIBUSB_ERROR_BUSY: return PM_EBUSY;
	case LIBUSB_ERROR_ACCESS: return PM_EIO;
	case LIBUSB_ERROR_NO_MEM: return PM_ENOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED: return PM_ENOTSUP;
	default: return PM_EIO;
	}
}

int prni_usb_parse_ids(const char *arg, uint16_t *vid, uint16_t *pid)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 16);
	if (end == arg || *end != ':' || v > 0xffff)
		return PM_EINVAL;
	const char *q = end + 1;
	unsigned long d = strtoul(q, &end, 16);
	if (end == q || *end || d > 0xffff)
		return PM_EINVAL;
	*vid = (uint16_t)v;
	*pid = (uint16_t)d;
	return PM_OK;
}

static void release(struct usb_priv *u)
{
	if (!u->h)
		return;
	if (u->claimed)
		libusb_release_interface(u->h, u->iface);
	if (u->detached)
		libusb_attach_kernel_driver(u->h, u->iface);
	libusb_close(u->h);
	u->h = NULL;
	u->claimed = u->detached = false;
}

/* Find the printer interface and its bulk OUT endpoint in the active configuration. */
static int find_printer_iface(libusb_device *dev, int *iface, unsigned char *ep_out)
{
	struct libusb_config_descriptor *cfg;
	int rc = PM_ENODEV;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return PM_EIO;
	for (int i = 0; i < cfg->bNumInterfaces && rc; i++) {
		const struct libusb_interface_descriptor *id = &cfg->interface[i].altsetting[0];
		if (cfg->interface[i].num_altsetting < 1 || id->bInterfaceClass != USB_CLASS_PRINTER)
			continue;
		for (int e = 0; e < id->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &id->endpoint[e];
			if ((ep->bmAttributes & 3) == LIBUSB_TRANSFER_TYPE_BULK &&
			    !(ep->bEndpointAddress & LIBUSB_ENDPOINT_IN)) {
				*iface = id->bInterfaceNumber;
				*ep_out = ep->bEndpointAddress;
				rc = PM_OK;
				break;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	return rc;
}

static int ensure_open(struct prn_dev *p)
{
	struct usb_priv *u = p->priv;
	libusb_device **list;
	libusb_device *dev = NULL;
	int rc;
	if (u->h)
		return PM_OK;
	ssize_t n = libusb_get_device_list(u->ctx, &list);
	if (n < 0)
		return from_libusb((int)n);
	for (ssize_t i = 0; i < n && !dev; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd) == 0 && dd.idVendor == u->vid &&
		    dd.idProduct == u->pid)
			dev = list[i];
	}
	if (!dev) {
		libusb_free_device_list(list, 1);
		pm_info("prn %s: no USB device %04x:%04x", p->name, u->vid, u->pid);
		return PM_EOFFLINE;
	}
	if ((rc = find_printer_iface(dev, &u->iface, &u->ep_out))) {
		libusb_free_device_list(list, 1);
		pm_warn("prn %s: device has no printer-class interface with a bulk OUT endpoint", p->name);
		return rc;
	}
	int r = libusb_open(dev, &u->h);
	libusb_free_device_list(list, 1);
	if (r) {
		u->h = NULL;
		pm_warn("prn %s: cannot open: %s", p->name, libusb_strerror(r));
		return r == LIBUSB_ERROR_NO_DEVICE ? PM_EOFFLINE : from_libusb(r);
	}
	r = libusb_kernel_driver_active(u->h, u->iface);
	if (r == 1) {
		if ((r = libusb_detach_kernel_driver(u->h, u->iface)) != 0) {
			pm_warn("prn %s: cannot detach the kernel driver: %s", p->name, libusb_strerror(r));
			release(u);
			return from_libusb(r);
		}
		u->detached = true;
	}
	if ((r = libusb_claim_interface(u->h, u->iface)) != 0) {
		pm_warn("prn %s: cannot claim interface %d: %s", p->name, u->iface, libusb_strerror(r));
		release(u);
		return from_libusb(r);
	}
	u->claimed = true;
	return PM_OK;
}

static int op_open(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen)
{
	struct usb_priv *u = p->priv;
	if (prni_usb_parse_ids(arg, &u->vid, &u->pid)) {
		snprintf(errbuf, errlen, "USB printer '%s' is not VID:PID in hex; write e.g. usb:04b8:0202", arg);
		return PM_EINVAL;
	}
	int r = libusb_init(&u->ctx);
	if (r) {
		snprintf(errbuf, errlen, "cannot start libusb: %s", libusb_strerror(r));
		return from_libusb(r);
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
	int r = libusb_control_transfer(u->h, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS |
					LIBUSB_RECIPIENT_INTERFACE, REQ_GET_PORT_STATUS, 0,
					(uint16_t)u->iface, &st, 1, (unsigned)p->timeout_ms);
	if (r != 1) {
		rc = r < 0 ? from_libusb(r) : PM_EPROTO;
		pm_warn("prn %s: GET_PORT_STATUS failed: %s", p->name, pm_strerror(rc));
		if (rc == PM_ENODEV)
			release(u);
		return rc;
	}
	*state = prni_usb_port_status(st);
	return PM_OK;
}

static int op_print(struct prn_dev *p, const struct prn_doc *doc)
{
	struct usb_priv *u = p->priv;
	struct prni_buf b = { 0 };
	int state, rc = op_status(p, &state);
	if (rc)
		return rc;
	if (state != PRN_READY)
		return state == PRN_OFFLINE ? PM_EOFFLINE : PM_EPAPER;
	rc = prni_escpos_encode(doc, p->profile, &b);
	for (size_t off = 0; rc == PM_OK && off < b.n;) {
		int chunk = (int)(b.n - off > 4096 ? 4096 : b.n - off), done = 0;
		int r = libusb_bulk_transfer(u->h, u->ep_out, b.p + off, chunk, &done,
					     (unsigned)p->timeout_ms);
		off += (size_t)done;
		if (r) {
			rc = from_libusb(r);
			pm_warn("prn %s: bulk write failed after %zu of %zu bytes: %s", p->name, off, b.n,
				libusb_strerror(r));
			if (rc == PM_ENODEV)
				release(u);
		}
	}
	prni_buf_release(&b);
	if (rc)
		return rc;
	if ((rc = op_status(p, &state)))
		return rc;
	return state == PRN_READY ? PM_OK : state == PRN_OFFLINE ? PM_EOFFLINE : PM_EPAPER;
}

static void op_close(struct prn_dev *p)
{
	struct usb_priv *u = p->priv;
	release(u);
	if (u->ctx)
		libusb_exit(u->ctx);
}

const struct prn_ops prn_usb_ops = {
	.name = "USB printer class (libusb)",
	.scheme = "usb",
	.priv_size = sizeof(struct usb_priv),
	.open = op_open,
	.print = op_print,
	.status = op_status,
	.close = op_close,
};
