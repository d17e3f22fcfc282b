/*
 * drv_backend.h - ops tables the scanner and printer backends fill in.
 * Provided by scan_core.c (scanner dispatch) and prn_core.c (printer
 * dispatch); each backend file exports one const ops table.
 */
#ifndef DRV_BACKEND_H
#define DRV_BACKEND_H

#include "drivers/drivers.h"

struct scan_ops {
	const char *name;          /* shown in logs: "script", "usb-hid", ... */
	const char *scheme;        /* device-string prefix before ':' */
	size_t priv_size;          /* the core allocates this much backend state */
	/* Open the device named by arg (the part after "scheme:"). Required. */
	int (*open)(struct scan_dev *s, const char *arg, char *errbuf, size_t errlen);
	/* Next raw scan within timeout_ms (-1 forever). Required. */
	int (*read)(struct scan_dev *s, struct scan_raw *out, int timeout_ms);
	/* Pollable fd or -1. Optional: NULL means -1. */
	int (*fd)(struct scan_dev *s);
	void (*close)(struct scan_dev *s);   /* Required; frees nothing the core owns */
};

struct scan_dev {
	const struct scan_ops *ops;
	struct scan_config cfg;
	char name[128];
	void *priv;                /* priv_size bytes, zeroed, owned by the core */
};

struct prn_ops {
	const char *name;
	const char *scheme;
	size_t priv_size;
	int (*open)(struct prn_dev *p, const char *arg, char *errbuf, size_t errlen);
	/* Print the document; PM_EPAPER/PM_EOFFLINE/PM_ETIMEOUT leave it unprinted. */
	int (*print)(struct prn_dev *p, const struct prn_doc *doc);
	/* Optional: NULL means always ready. */
	int (*status)(struct prn_dev *p, int *state);
	void (*close)(struct prn_dev *p);
};

struct prn_dev {
	const struct prn_ops *ops;
	char name[128];
	void *priv;
};

extern const struct scan_ops scan_script_ops;
extern const struct prn_ops prn_text_ops;

#endif
