/*
 * scan_usb.c - the usb:VID:PID scanner backend through libusb, for the two
 * kinds of USB barcode scanners stores have:
 *  - HID keyboard ("keyboard wedge") scanners, boot protocol: 8-byte
 *    reports of key usages, decoded with the shift/ctrl state until Enter;
 *  - HID POS scanners (report descriptor with usage page 0x8C): reports
 *    carrying the data and its AIM symbology id (scan_keys.c has the layout).
 * The kernel's usbhid driver is detached while posmark owns the scanner so
 * the keystrokes do not reach the desktop. One interrupt IN transfer stays
 * in flight (libusb's async API) and its reports queue here, so no report
 * is lost between reads and an event loop can wait on scan_fd(): an epoll
 * descriptor over libusb's own descriptors. (A sync transfer per read would
 * have to be cancelled at every timeout, and a report arriving during the
 * cancel is lost: one keystroke, one wrong barcode.)
 * Unplugged: the read returns PM_ENODEV once; later reads look for the
 * device again (by VID:PID) and carry on when it is back.
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <errno.h>
#include <libusb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define USB_CLASS_HID 3
#define HID_GET_DESCRIPTOR_REPORT 0x2200
#define HID_SET_IDLE 0x0a
#define HID_SET_PROTOCOL 0x0b

#define REPORT_QUEUE 256           /* reports received and not yet decoded */

struct usbscan_priv {
	struct drv_usb usb;        /* ep: the interrupt IN endpoint */
	bool pos;                  /* HID POS (0x8C) rather than keyboard */
	struct scani_kbd kbd;
	struct scani_pos posst;
	struct libusb_transfer *xfer;
	bool in_flight;
	int xfer_rc;               /* the transfer failed: PM_ENODEV (unplugged) or PM_EIO */
	unsigned char xbuf[64];
	unsigned char rep[REPORT_QUEUE][64];
	int rep_len[REPORT_QUEUE];
	unsigned rep_head, rep_tail;
	unsigned dropped;          /* reports lost to a full queue (nobody read for a long time) */
	int epfd;                  /* epoll over libusb's descriptors: scan_fd() */
	const char *name;
};

static void LIBUSB_CALL on_report(struct libusb_transfer *x)
{
	struct usbscan_priv *u = x->user_data;
	if (x->status == LIBUSB_TRANSFER_COMPLETED || x->status == LIBUSB_TRANSFER_TIMED_OUT) {
		if (x->status == LIBUSB_TRANSFER_COMPLETED && x->actual_length > 0) {
			if (u->rep_tail - u->rep_head < REPORT_QUEUE) {
				unsigned i = u->rep_tail++ % REPORT_QUEUE;
				memcpy(u->rep[i], x->buffer, (size_t)x->actual_length);
				u->rep_len[i] = x->actual_length;
			} else {
				u->dropped++;
			}
		}
		int r = libusb_submit_transfer(x);
		if (r == 0)
			return;
		u->xfer_rc = r == LIBUSB_ERROR_NO_DEVICE ? PM_ENODEV : PM_EIO;
	} else if (x->status != LIBUSB_TRANSFER_CANCELLED) {
		u->xfer_rc = x->status == LIBUSB_TRANSFER_NO_DEVICE ? PM_ENODEV : PM_EIO;
	}
	u->in_flight = false;
}

static void release(struct usbscan_priv *u)
{
	if (u->xfer) {
		if (u->in_flight && libusb_cancel_transfer(u->xfer) == 0) {
			/* The transfer may be freed only once its callback has run. */
			for (int i = 0; i < 50 && u->in_flight; i++) {
				struct timeval tv = { 0, 10000 };
				libusb_handle_events_timeout_completed(u->usb.ctx, &tv, NULL);
			}
		}
		if (!u->in_flight)
			libusb_free_transfer(u->xfer);
		else
			pm_warn("scan %s: a USB transfer did not finish cancelling; leaking it", u->name);
		u->xfer = NULL;
		u->in_flight = false;
	}
	drv_usb_release(&u->usb);
	memset(&u->kbd, 0, sizeof(u->kbd));
	memset(&u->posst, 0, sizeof(u->posst));
	u->rep_head = u->rep_tail = 0;
	u->xfer_rc = 0;
}

static int start_reading(struct scan_dev *s)
{
	struct usbscan_priv *u = s->priv;
	int len = u->usb.max_packet < (int)sizeof(u->xbuf) ? u->usb.max_packet : (int)sizeof(u->xbuf);
	if (!(u->xfer = libusb_alloc_transfer(0)))
		return PM_ENOMEM;
	/* No timeout: the transfer waits for the next scan as long as it takes. */
	libusb_fill_interrupt_transfer(u->xfer, u->usb.h, u->usb.ep, u->xbuf, len, on_report, u, 0);
	int r = libusb_submit_transfer(u->xfer);
	if (r) {
		libusb_free_transfer(u->xfer);
		u->xfer = NULL;
		return drv_usb_err(r);
	}
	u->in_flight = true;
	return PM_OK;
}

/* libusb's descriptors come and go (devices open and close): mirror them into epfd. */
static void LIBUSB_CALL fd_added(int fd, short events, void *ud)
{
	struct usbscan_priv *u = ud;
	struct epoll_event ev = { .events = (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0),
				  .data.fd = fd };
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) && errno == EEXIST)
		epoll_ctl(u->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void LIBUSB_CALL fd_removed(int fd, void *ud)
{
	struct usbscan_priv *u = ud;
	epoll_ctl(u->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static int watch_fds(struct usbscan_priv *u)
{
	const struct libusb_pollfd **fds = libusb_get_pollfds(u->usb.ctx);
	if (!fds)
		return PM_EIO;
	if ((u->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		libusb_free_pollfds(fds);
		return PM_EIO;
	}
	for (size_t i = 0; fds[i]; i++)
		fd_added(fds[i]->fd, fds[i]->events, u);
	libusb_free_pollfds(fds);
	libusb_set_pollfd_notifiers(u->usb.ctx, fd_added, fd_removed, u);
	return PM_OK;
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
	if ((rc = start_reading(s))) {
		pm_warn("scan %s: cannot start reading: %s", s->name, pm_strerror(rc));
		release(u);
		return rc;
	}
	pm_info("scan %s: opened as a %s scanner", s->name, u->pos ? "HID POS" : "HID keyboard");
	return PM_OK;
}

static int op_open(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen)
{
	struct usbscan_priv *u = s->priv;
	int r, rc;
	u->epfd = -1;
	if (drv_usb_parse_ids(arg, &u->usb.vid, &u->usb.pid)) {
		snprintf(errbuf, errlen, "USB scanner '%s' is not VID:PID in hex; write e.g. usb:0c2e:0b61", arg);
		return PM_EINVAL;
	}
	u->name = s->name;
	if ((r = libusb_init(&u->usb.ctx)) != 0) {
		snprintf(errbuf, errlen, "cannot start libusb: %s", libusb_strerror(r));
		return drv_usb_err(r);
	}
	if ((rc = watch_fds(u)) || (rc = ensure_open(s))) {
		snprintf(errbuf, errlen, "cannot open USB scanner %04x:%04x: %s; check that it is plugged in "
			 "and that posmark may use it (udev rule)", u->usb.vid, u->usb.pid, pm_strerror(rc));
		libusb_set_pollfd_notifiers(u->usb.ctx, NULL, NULL, NULL);
		libusb_exit(u->usb.ctx);
		u->usb.ctx = NULL;
		if (u->epfd >= 0)
			close(u->epfd);
		u->epfd = -1;
		return rc;
	}
	return PM_OK;
}

/* Decode queued reports; 1 when one completed a scan (in *out). */
static int decode_queued(struct scan_dev *s, struct scan_raw *out)
{
	struct usbscan_priv *u = s->priv;
	if (u->dropped) {
		pm_warn("scan %s: %u reports were dropped (nobody read the scanner); a scan may be cut",
			s->name, u->dropped);
		u->dropped = 0;
	}
	while (u->rep_head != u->rep_tail) {
		unsigned i = u->rep_head++ % REPORT_QUEUE;
		int done = u->pos ? scani_pos_report(&u->posst, u->rep[i], (size_t)u->rep_len[i], out)
				  : scani_kbd_report(&u->kbd, u->rep[i], (size_t)u->rep_len[i], out);
		if (done == PM_EPROTO)
			pm_dbg("scan %s: ignored a %d-byte report", s->name, u->rep_len[i]);
		if (done == 1)
			return 1;
	}
	return 0;
}

static int op_read(struct scan_dev *s, struct scan_raw *out, int timeout_ms)
{
	struct usbscan_priv *u = s->priv;
	int64_t deadline = timeout_ms < 0 ? -1 : scani_now_ms() + timeout_ms;
	bool first = true;
	for (;;) {
		if (decode_queued(s, out))
			return PM_OK;
		if (u->xfer_rc) {
			int rc = u->xfer_rc;
			pm_warn("scan %s: read failed: %s%s", s->name, pm_strerror(rc),
				rc == PM_ENODEV ? " (unplugged; it is picked up again when plugged back in)" : "");
			release(u);
			return rc;
		}
		int64_t left = deadline < 0 ? 1000 : deadline - scani_now_ms();
		/* timeout 0 still looks once (a poll loop asks without waiting). */
		if (left <= 0 && !first)
			return PM_ETIMEOUT;
		first = false;
		if (left < 0)
			left = 0;
		int rc = ensure_open(s);
		if (rc == PM_ENODEV) {
			/* Unplugged: look again every 100 ms until the deadline. */
			struct timespec ts = { 0, (left < 100 ? (left ? left : 1) : 100) * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (rc)
			return rc;
		struct timeval tv = { 0, (left > 1000 ? 1000 : left) * 1000 };
		if (tv.tv_usec >= 1000000) {
			tv.tv_sec = 1;
			tv.tv_usec = 0;
		}
		int r = libusb_handle_events_timeout_completed(u->usb.ctx, &tv, NULL);
		if (r && r != LIBUSB_ERROR_INTERRUPTED && r != LIBUSB_ERROR_TIMEOUT) {
			pm_warn("scan %s: libusb event handling failed: %s", s->name, libusb_strerror(r));
			release(u);
			return PM_EIO;
		}
	}
}

static int op_fd(struct scan_dev *s)
{
	return ((struct usbscan_priv *)s->priv)->epfd;
}

static void op_close(struct scan_dev *s)
{
	struct usbscan_priv *u = s->priv;
	release(u);
	if (u->usb.ctx) {
		libusb_set_pollfd_notifiers(u->usb.ctx, NULL, NULL, NULL);
		libusb_exit(u->usb.ctx);
	}
	if (u->epfd >= 0)
		close(u->epfd);
}

const struct scan_ops scan_usb_ops = {
	.name = "USB HID scanner (libusb)",
	.scheme = "usb",
	.priv_size = sizeof(struct usbscan_priv),
	.open = op_open,
	.read = op_read,
	.fd = op_fd,
	.close = op_close,
};
