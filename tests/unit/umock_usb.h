/*
 * umock_usb.h - a small USB device emulator for the test_umock_* programs:
 * umockdev's library API answers the usbdevfs ioctls libusb issues, so the
 * real libusb code of drivers/ runs against an emulated device in this
 * process (the way libusb's own tests/umockdev.c and libfprint do it).
 *
 * A device is a umockdev-record text description (sysfs attributes and the
 * raw descriptors) plus behaviour callbacks: control requests, bulk OUT
 * data, and interrupt/bulk IN data when the device has some. URBs submitted
 * for IN endpoints wait until the device produces data; DISCARDURB (libusb's
 * timeout path) completes them with -ENOENT. emu_usb_vanish() makes every
 * later ioctl fail with ENODEV and completes waiting URBs with -ESHUTDOWN,
 * like an unplugged device; emu_usb_plug() brings it back.
 *
 * The ioctl handler runs in umockdev's worker thread: all state is under mu.
 */
#ifndef UMOCK_USB_H
#define UMOCK_USB_H

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <umockdev.h>

struct emu_usb;
struct emu_usb_ops {
	/* Control request: setup[8], data (IN: fill up to wLength; OUT: read). Returns bytes or -EPIPE. */
	int (*control)(struct emu_usb *e, const unsigned char *setup, unsigned char *data, int len);
	/* Bulk OUT data on endpoint ep. Returns 0 or a negative errno (URB status). */
	int (*bulk_out)(struct emu_usb *e, unsigned char ep, const unsigned char *data, int len);
	/* IN data for endpoint ep into buf[cap]: bytes (>0), or 0 for "nothing yet". */
	int (*data_in)(struct emu_usb *e, unsigned char ep, unsigned char *buf, int cap);
};

struct emu_usb {
	pthread_mutex_t mu;
	UMockdevTestbed *tb;
	UMockdevIoctlBase *handler;
	const struct emu_usb_ops *ops;
	const char *description;   /* umockdev-record text */
	char devnode[64];
	char syspath[256];
	GList *in_flight;          /* IN URBs waiting for data (UMockdevIoctlData refs) */
	GList *done;               /* URBs completed, to be reaped */
	bool gone;
	void *user;
};

static inline void emu_urb_finish(struct emu_usb *e, UMockdevIoctlData *urb_data, int status, int actual)
{
	struct usbdevfs_urb *urb = (struct usbdevfs_urb *)urb_data->data;
	urb->status = status;
	urb->actual_length = actual;
	e->done = g_list_append(e->done, urb_data);
}

static inline gboolean emu_handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer ud)
{
	struct emu_usb *e = ud;
	unsigned long req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	(void)handler;

	pthread_mutex_lock(&e->mu);
	if (e->gone && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_DISCARDURB &&
	    req != USBDEVFS_RELEASEINTERFACE) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		pthread_mutex_unlock(&e->mu);
		return TRUE;
	}
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
		*(guint32 *)d->data = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
				      USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
		umockdev_ioctl_client_complete(client, 0, 0);
		g_object_unref(d);
		break;
	}
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESET:
	case USBDEVFS_RESETEP:
	case USBDEVFS_DISCONNECT_CLAIM:
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	case USBDEVFS_GETDRIVER:
		umockdev_ioctl_client_complete(client, -1, ENODATA);
		break;
	case USBDEVFS_SUBMITURB: {
		UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
		struct usbdevfs_urb *urb = (struct usbdevfs_urb *)urb_data->data;
		UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(urb_data,
			G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length, NULL);
		if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
			int n = e->ops->control ? e->ops->control(e, buf->data, buf->data + 8, urb->buffer_length - 8)
						: -EPIPE;
			emu_urb_finish(e, urb_data, n < 0 ? n : 0, n < 0 ? 0 : n);
		} else if (!(urb->endpoint & 0x80)) {
			int st = e->ops->bulk_out ? e->ops->bulk_out(e, urb->endpoint, buf->data, urb->buffer_length) : 0;
			emu_urb_finish(e, urb_data, st, st < 0 ? 0 : urb->buffer_length);
		} else {
			e->in_flight = g_list_append(e->in_flight, urb_data);
		}
		umockdev_ioctl_client_complete(client, 0, 0);
		g_object_unref(buf);
		break;
	}
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY: {
		/* IN URBs the device has data for now. */
		for (GList *l = e->in_flight; l && !e->done; l = l->next) {
			UMockdevIoctlData *urb_data = l->data;
			struct usbdevfs_urb *urb = (struct usbdevfs_urb *)urb_data->data;
			unsigned char tmp[4096];
			int cap = urb->buffer_length < (int)sizeof(tmp) ? urb->buffer_length : (int)sizeof(tmp);
			int n = e->gone ? -ESHUTDOWN : e->ops->data_in ? e->ops->data_in(e, urb->endpoint, tmp, cap) : 0;
			if (n == 0)
				continue;
			if (n > 0)
				memcpy(urb->buffer, tmp, (size_t)n);   /* same process: the client's buffer */
			e->in_flight = g_list_delete_link(e->in_flight, l);
			emu_urb_finish(e, urb_data, n < 0 ? n : 0, n < 0 ? 0 : n);
			break;
		}
		if (!e->done) {
			umockdev_ioctl_client_complete(client, -1, e->gone ? ENODEV : EAGAIN);
			break;
		}
		UMockdevIoctlData *urb_data = e->done->data;
		e->done = g_list_delete_link(e->done, e->done);
		UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
		umockdev_ioctl_data_set_ptr(ptr, 0, urb_data);
		umockdev_ioctl_client_complete(client, 0, 0);
		g_object_unref(ptr);
		g_object_unref(urb_data);
		break;
	}
	case USBDEVFS_DISCARDURB: {
		GList *l;
		for (l = e->in_flight; l; l = l->next)
			if (((UMockdevIoctlData *)l->data)->client_addr == (gulong) * (void **)arg->data)
				break;
		if (l) {
			UMockdevIoctlData *urb_data = l->data;
			e->in_flight = g_list_delete_link(e->in_flight, l);
			emu_urb_finish(e, urb_data, -ENOENT, 0);
			umockdev_ioctl_client_complete(client, 0, 0);
		} else {
			umockdev_ioctl_client_complete(client, -1, EINVAL);
		}
		break;
	}
	default:
		pthread_mutex_unlock(&e->mu);
		return FALSE;
	}
	pthread_mutex_unlock(&e->mu);
	return TRUE;
}

/* Add the device to the testbed and attach the ioctl handler. Returns false on error. */
static inline bool emu_usb_plug(struct emu_usb *e)
{
	GError *err = NULL;
	pthread_mutex_lock(&e->mu);
	e->gone = false;
	pthread_mutex_unlock(&e->mu);
	if (!umockdev_testbed_attach_ioctl(e->tb, e->devnode, e->handler, &err)) {
		fprintf(stderr, "attach_ioctl: %s\n", err ? err->message : "?");
		return false;
	}
	if (!umockdev_testbed_add_from_string(e->tb, e->description, &err)) {
		fprintf(stderr, "add_from_string: %s\n", err ? err->message : "?");
		return false;
	}
	return true;
}

/* Unplug: pending and later I/O fail like on a real disconnect; enumeration no longer finds it. */
static inline void emu_usb_vanish(struct emu_usb *e)
{
	pthread_mutex_lock(&e->mu);
	e->gone = true;
	pthread_mutex_unlock(&e->mu);
	umockdev_testbed_remove_device(e->tb, e->syspath);
}

static inline void emu_usb_unplug_finish(struct emu_usb *e)
{
	umockdev_testbed_detach_ioctl(e->tb, e->devnode, NULL);
}

static inline bool emu_usb_init(struct emu_usb *e, UMockdevTestbed *tb, const struct emu_usb_ops *ops,
			 const char *description, const char *devnode, const char *syspath)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mu, NULL);
	e->tb = tb;
	e->ops = ops;
	e->description = description;
	snprintf(e->devnode, sizeof(e->devnode), "%s", devnode);
	snprintf(e->syspath, sizeof(e->syspath), "/sys%s", syspath);
	e->handler = umockdev_ioctl_base_new();
	g_signal_connect(e->handler, "handle-ioctl", G_CALLBACK(emu_handle_ioctl), e);
	return emu_usb_plug(e);
}

static inline void emu_usb_release(struct emu_usb *e)
{
	umockdev_testbed_detach_ioctl(e->tb, e->devnode, NULL);
	g_list_free_full(e->in_flight, g_object_unref);
	g_list_free_full(e->done, g_object_unref);
	e->in_flight = e->done = NULL;
	g_object_unref(e->handler);
	pthread_mutex_destroy(&e->mu);
}

#endif
