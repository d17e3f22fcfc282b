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
	struct drv_usb usb;        /* ep: the interrupt IN endpoint */
	bool pos;                  /* HID POS (0x8C) rather than keyboard */
	struct scani_kbd kbd;
	struct scani_pos posst;
};

static void release(struct usbscan_priv *u)
{
	drv_usb_release(&u->usb);
	memset(&u->kbd, 0, sizeof(u->kbd));
	memset(&u->posst, 0, sizeof(u->posst));
}

/* Open and claim the scanner if present. PM_ENODEV when it is not plugged in. */
static int ensure_open(struct scan_dev *s)
{
	struct usbscan_priv *u = s->priv;
	int rc, r;
	if (u->usb.h)
		return PM_OK;
	rc = drv_usb_open(&u->usb, USB_CLASS_HID, LIBUSB_TRANSFER_TYPE_INTERRUPT, true, s->name);
	if (rc)
		return rc;
	bool boot = u->usb.subclass == 1 && u->usb.protocol == 1;
	/* HID POS or keyboard? The report descriptor says (usage page 0x8C). */
	unsigned char desc[512];
	r = libusb_control_transfer(u->usb.h, LIBUSB_ENDPOINT_IN | LIBUSB_RECIPIENT_INTERFACE,
				    LIBUSB_REQUEST_GET_DESCRIPTOR, HID_GET_DESCRIPTOR_REPORT,
				    (uint16_t)u->usb.iface, desc, sizeof(desc), 500);
	u->pos = r > 0 && scani_report_desc_is_pos(desc, (size_t)r);
	if (!u->pos) {
		/* Boot protocol: the 8-byte report layout decoded here, whatever the descriptor. */
		if (boot)
			libusb_control_transfer(u->usb.h, LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
						HID_SET_PROTOCOL, 0, (uint16_t)u->usb.iface, NULL, 0, 500);
		libusb_control_transfer(u->usb.h, LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
					HID_SET_IDLE, 0, (uint16_t)u->usb.iface, NULL, 0, 500);
	}
	pm_info("scan %s: opened as a %s scanner", s->name, u->pos ? "HID POS" : "HID keyboard");
	return PM_OK;
}

static int op_open(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen)
{
	struct usbscan_priv *u = s->priv;
	int r, rc;
	if (drv_usb_parse_ids(arg, &u->usb.vid, &u->usb.pid)) {
		snprintf(errbuf, errlen, "USB scanner '%s' is not VID:PID in hex; write e.g. usb:0c2e:0b61", arg);
		return PM_EINVAL;
	}
	if ((r = libusb_init(&u->usb.ctx)) != 0) {
		snprintf(errbuf, errlen, "cannot start libusb: %s", libusb_strerror(r));
		return drv_usb_err(r);
	}
	if ((rc = ensure_open(s))) {
		snprintf(errbuf, errlen, "cannot open USB scanner %04x:%04x: %s; check that it is plugged in "
			 "and that posmark may use it (udev rule)", u->usb.vid, u->usb.pid, pm_strerror(rc));
		libusb_exit(u->usb.ctx);
		u->usb.ctx = NULL;
		return rc;
	}
	return PM_OK;
}

static int op_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	struct usbscan_priv *u = s->priv;
	int64_t deadline = timeout_ms < 0 ? -1 : scani_now_ms() + timeout_ms;
	bool first = true;
	for (;;) {
		int64_t left = deadline < 0 ? 1000 : deadline - scani_now_ms();
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
		int len = u->usb.max_packet < (int)sizeof(rep) ? u->usb.max_packet : (int)sizeof(rep);
		int r = libusb_interrupt_transfer(u->usb.h, u->usb.ep, rep, len, &got,
						  (unsigned)(left > 1000 ? 1000 : left));
		if (r == LIBUSB_ERROR_TIMEOUT)
			continue;
		if (r) {
			rc = drv_usb_err(r);
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
	if (u->usb.ctx)
		libusb_exit(u->usb.ctx);
}

const struct scan_ops scan_usb_ops = {
	.name = "USB HID scanner (libusb)",
	.scheme = "usb",
	.priv_size = sizeof(struct usbscan_priv),
	.open = op_open,
	.read = op_read,
	.close = op_close,
};
