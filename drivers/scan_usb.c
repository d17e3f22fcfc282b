/*
 * scan_usb.c - the usb:VID:PID scanner backend through libusb, for the two
 * kinds of USB barcode scanners stores have:
 *  - HID keyboard ("keyboard wedge") scanners, boot protocol: 8-byte
 *    reports of key usages, decoded with the shift/ctrl state until Enter;
 *  - HID POS scanners (report descriptor with usage page 0x8C): reports
 *    carrying the data and its AIM symbology id (scan_keys.c has the layout).
 * The kernel's usbhid driver is detached while posmark owns the scanner so
 * the keystrokes do not reach the desktop. Every transfer has a timeout.
 * Unplugged: the read returns PM_ENODEV once; later reads look for the
 * device again (by VID:PID) and carry on when it is back.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <libusb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define USB_CLASS_HID 3
#define HID_GET_DESCRIPTOR_REPORT 0x2200
#define HID_SET_IDLE 0x0a
#define HID_SET_PROTOCOL 0x0b

struct usbscan_priv {
	libusb_context *ctx;
	uint16_t vid, pid;
	libusb_device_handle *h;
	int iface;
	unsigned char ep_in;
	int max_packet;
	bool pos;                  /* HID POS (0x8C) rather than keyboard */
	bool claimed, detached;
	struct scani_kbd kbd;
	struct scani_pos posst;
};

static int from_libusb(int r)
{
	switch (r) {
	case LIBUSB_ERROR_TIMEOUT: return PM_ETIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE: case LIBUSB_ERROR_NOT_FOUND: return PM_ENODEV;
	case LIBUSB_ERROR_BUSY: return PM_EBUSY;
	case LIBUSB_ERROR_NO_MEM: return PM_ENOMEM;
	default: return PM_EIO;
	}
}

static void release(struct usbscan_priv *u)
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
	memset(&u->kbd, 0, sizeof(u->kbd));
	memset(&u->posst, 0, sizeof(u->posst));
}

/* The first HID interface with an interrupt IN endpoint. */
static int find_hid_iface(libusb_device *dev, struct usbscan_priv *u, bool *boot_kbd)
{
	struct libusb_config_descriptor *cfg;
	int rc = PM_ENODEV;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return PM_EIO;
	for (int i = 0; i < cfg->bNumInterfaces && rc; i++) {
		if (cfg->interface[i].num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *id = &cfg->interface[i].altsetting[0];
		if (id->bInterfaceClass != USB_CLASS_HID)
			continue;
		for (int e = 0; e < id->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &id->endpoint[e];
			if ((ep->bmAttributes & 3) == LIBUSB_TRANSFER_TYPE_INTERRUPT &&
			    (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN)) {
				u->iface = id->bInterfaceNumber;
				u->ep_in = ep->bEndpointAddress;
				u->max_packet = ep->wMaxPacketSize ? ep->wMaxPacketSize : 8;
				*boot_kbd = id->bInterfaceSubClass == 1 && id->bInterfaceProtocol == 1;
				rc = PM_OK;
				break;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	return rc;
}

/* Open and claim the scanner if present. PM_ENODEV when it is not plugged in. */
static int ensure_open(struct scan_dev *s)
{
	struct usbscan_priv *u = s->priv;
	libusb_device **list;
	libusb_device *dev = NULL;
	bool boot = false;
	int rc, r;
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
		return PM_ENODEV;
	}
	if ((rc = find_hid_iface(dev, u, &boot))) {
		libusb_free_device_list(list, 1);
		pm_warn("scan %s: no HID interface with an interrupt IN endpoint", s->name);
		return rc == PM_ENODEV ? PM_ENOTSUP : rc;
	}
	r = libusb_open(dev, &u->h);
	libusb_free_device_list(list, 1);
	if (r) {
		u->h = NULL;
		pm_warn("scan %s: cannot open: %s", s->name, libusb_strerror(r));
		return from_libusb(r);
	}
	if ((r = libusb_kernel_driver_active(u->h, u->iface)) == 1) {
		if ((r = libusb_detach_kernel_driver(u->h, u->iface)) != 0) {
			pm_warn("scan %s: cannot detach the kernel driver: %s", s->name, libusb_strerror(r));
			release(u);
			return from_libusb(r);
		}
		u->detached = true;
	}
	if ((r = libusb_claim_interface(u->h, u->iface)) != 0) {
		pm_warn("scan %s: cannot claim interface %d: %s", s->name, u->iface, libusb_strerror(r));
		release(u);
		return from_libusb(r);
	}
	u->claimed = true;
	/* HID POS or keyboard? The report descriptor says (usage page 0x8C). */
	unsigned char desc[512];
	r = libusb_control_transfer(u->h, LIBUSB_ENDPOINT_IN | LIBUSB_RECIPIENT_INTERFACE,
				    LIBUSB_REQUEST_GET_DESCRIPTOR, HID_GET_DESCRIPTOR_REPORT,
				    (uint16_t)u->iface, desc, sizeof(desc), 500);
	u->pos = r > 0 && scani_report_desc_is_pos(desc, (size_t)r);
	if (!u->pos) {
		/* Boot protocol: the 8-byte report layout decoded here, whatever the descriptor. */
		if (boot)
			libusb_control_transfer(u->h, LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
						HID_SET_PROTOCOL, 0, (uint16_t)u->iface, NULL, 0, 500);
		libusb_control_transfer(u->h, LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
					HID_SET_IDLE, 0, (uint16_t)u->iface, NULL, 0, 500);
	}
	pm_info("scan %s: opened as a %s scanner", s->name, u->pos ? "HID POS" : "HID keyboard");
	return PM_OK;
}

static int op_open(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen)
{
	struct usbscan_priv *u = s->priv;
	int r, rc;
	if (prni_usb_parse_ids(arg, &u->vid, &u->pid)) {
		snprintf(errbuf, errlen, "USB scanner '%s' is not VID:PID in hex; write e.g. usb:0c2e:0b61", arg);
		return PM_EINVAL;
	}
	if ((r = libusb_init(&u->ctx)) != 0) {
		snprintf(errbuf, errlen, "cannot start libusb: %s", libusb_strerror(r));
		return from_libusb(r);
	}
	if ((rc = ensure_open(s))) {
		snprintf(errbuf, errlen, "cannot open USB scanner %04x:%04x: %s; check that it is plugged in "
			 "and that posmark may use it (udev rule)", u->vid, u->pid, pm_strerror(rc));
		libusb_exit(u->ctx);
		u->ctx = NULL;
		return rc;
	}
	return PM_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int op_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	struct usbscan_priv *u = s->priv;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	bool first = true;
	for (;;) {
		int64_t left = deadline < 0 ? 1000 : deadline - now_ms();
		/* timeout 0 still looks once (a poll loop asks without waiting). */
		if (left <= 0 && !first)
			return PM_ETIMEOUT;
		first = false;
		if (left < 1)
			left = 1;
		int rc = ensure_open(s);
		if (rc == PM_ENODEV) {
			/* Unplugged: look again every 100 ms until the deadline. */
			struct timespec ts = { 0, (left < 100 ? left : 100) * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (rc)
			return rc;
		unsigned char rep[64];
		int got = 0;
		int len = u->max_packet < (int)sizeof(rep) ? u->max_packet : (int)sizeof(rep);
		int r = libusb_interrupt_transfer(u->h, u->ep_in, rep, len, &got,
						  (unsigned)(left > 1000 ? 1000 : left));
		if (r == LIBUSB_ERROR_TIMEOUT)
			continue;
		if (r) {
			rc = from_libusb(r);
			pm_warn("scan %s: read failed: %s%s", s->name, libusb_strerror(r),
				rc == PM_ENODEV ? " (unplugged; it is picked up again when plugged back in)" : "");
			release(u);
			return rc == PM_ENODEV ? PM_ENODEV : PM_EIO;
		}
		int done = u->pos ? scani_pos_report(&u->posst, rep, (size_t)got, out)
				  : scani_kbd_report(&u->kbd, rep, (size_t)got, out);
		if (done == PM_EPROTO)
			pm_dbg("scan %s: ignored a %d-byte report", s->name, got);
		if (done == 1)
			return PM_OK;
	}
}

static void op_close(struct scan_dev *s)
{
	struct usbscan_priv *u = s->priv;
	release(u);
	if (u->ctx)
		libusb_exit(u->ctx);
}

const struct scan_ops scan_usb_ops = {
	.name = "USB HID scanner (libusb)",
	.scheme = "usb",
	.priv_size = sizeof(struct usbscan_priv),
	.open = op_open,
	.read = op_read,
	.close = op_close,
};
