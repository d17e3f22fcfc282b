/*
 * drv_usb.c - what the libusb backends (prn_usb.c, scan_usb.c) share: the
 * usb:VID:PID string, libusb codes as pm_err, and finding, opening and
 * claiming a device's interface of one class with the kernel driver
 * detached explicitly (auto-detach fails where detaching is unsupported).
 */
#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"

#include <stdlib.h>

int drv_usb_err(int r)
{
	switch (r) {
	case LIBUSB_SUCCESS: return PM_OK;
	case LIBUSB_ERROR_TIMEOUT: return PM_ETIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE: case LIBUSB_ERROR_NOT_FOUND: return PM_ENODEV;
	case LIBUSB_ERROR_BUSY: return PM_EBUSY;
	case LIBUSB_ERROR_NO_MEM: return PM_ENOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED: return PM_ENOTSUP;
	default: return PM_EIO;
	}
}

int drv_usb_parse_ids(const char *arg, uint16_t *vid, uint16_t *pid)
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

/* The first interface of class cls with an endpoint of the type and direction asked. */
static int find_iface(libusb_device *dev, uint8_t cls, int xfer_type, bool in, struct drv_usb *u)
{
	struct libusb_config_descriptor *cfg;
	int rc = PM_ENOTSUP;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return PM_EIO;
	for (int i = 0; i < cfg->bNumInterfaces && rc; i++) {
		if (cfg->interface[i].num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *id = &cfg->interface[i].altsetting[0];
		if (id->bInterfaceClass != cls)
			continue;
		for (int e = 0; e < id->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &id->endpoint[e];
			if ((ep->bmAttributes & 3) == xfer_type &&
			    !!(ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) == in) {
				u->iface = id->bInterfaceNumber;
				u->ep = ep->bEndpointAddress;
				u->max_packet = ep->wMaxPacketSize ? ep->wMaxPacketSize : 8;
				u->subclass = id->bInterfaceSubClass;
				u->protocol = id->bInterfaceProtocol;
				rc = PM_OK;
				break;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	return rc;
}

int drv_usb_open(struct drv_usb *u, uint8_t cls, int xfer_type, bool in, const char *name)
{
	libusb_device **list;
	libusb_device *dev = NULL;
	int rc, r;
	if (u->h)
		return PM_OK;
	ssize_t n = libusb_get_device_list(u->ctx, &list);
	if (n < 0)
		return drv_usb_err((int)n);
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
	if ((rc = find_iface(dev, cls, xfer_type, in, u))) {
		libusb_free_device_list(list, 1);
		pm_warn("%s: no class-%u interface with a %s %s endpoint", name, cls,
			xfer_type == LIBUSB_TRANSFER_TYPE_BULK ? "bulk" : "interrupt", in ? "IN" : "OUT");
		return rc;
	}
	r = libusb_open(dev, &u->h);
	libusb_free_device_list(list, 1);
	if (r) {
		u->h = NULL;
		pm_warn("%s: cannot open: %s", name, libusb_strerror(r));
		return drv_usb_err(r);
	}
	if ((r = libusb_kernel_driver_active(u->h, u->iface)) == 1) {
		if ((r = libusb_detach_kernel_driver(u->h, u->iface)) != 0) {
			pm_warn("%s: cannot detach the kernel driver: %s", name, libusb_strerror(r));
			drv_usb_release(u);
			return drv_usb_err(r);
		}
		u->detached = true;
	}
	if ((r = libusb_claim_interface(u->h, u->iface)) != 0) {
		pm_warn("%s: cannot claim interface %d: %s", name, u->iface, libusb_strerror(r));
		drv_usb_release(u);
		return drv_usb_err(r);
	}
	u->claimed = true;
	return PM_OK;
}

void drv_usb_release(struct drv_usb *u)
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
