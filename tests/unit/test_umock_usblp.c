/*
 * test_umock_usblp.c - the usblp: printer backend against an emulated
 * /dev/usb/lp0 (umockdev: the node's ioctls and writes are answered here).
 * It models what the kernel's usblp driver does for a USB printer-class
 * device (the Epson TM-T88V, 04b8:0202, of test_umock_printer.c): writes
 * carry the ESC/POS stream, LPGETSTATUS returns the GET_PORT_STATUS byte.
 * Tested: a receipt read back, paper out, offline, an unplugged printer
 * (ENODEV) and its return.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "common/pm_log.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/lp.h>
#include <pthread.h>
#include <umockdev.h>

static const char lp_desc[] =
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-5/1-5:1.0/usbmisc/lp0\n"
	"N: usb/lp0\n"
	"E: DEVNAME=/dev/usb/lp0\n"
	"E: SUBSYSTEM=usbmisc\n"
	"E: MAJOR=180\n"
	"E: MINOR=0\n"
	"A: dev=180:0\\n\n";

struct lp {
	pthread_mutex_t mu;
	int status;                 /* port status byte for LPGETSTATUS */
	bool gone;
	int ioctls, writes;
	struct prn_doc doc;
	struct prni_escpos_parser ps;
	unsigned char tail[8192];
	size_t tail_n;
};

static gboolean lp_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer ud)
{
	struct lp *lp = ud;
	(void)h;
	unsigned long req = umockdev_ioctl_client_get_request(client);
	pthread_mutex_lock(&lp->mu);
	lp->ioctls++;
	if (lp->gone) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
	} else if (req == LPGETSTATUS) {
		UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(int), NULL);
		*(int *)d->data = lp->status;
		umockdev_ioctl_client_complete(client, 0, 0);
		g_object_unref(d);
	} else {
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
	}
	pthread_mutex_unlock(&lp->mu);
	return TRUE;
}

static gboolean lp_write(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer ud)
{
	struct lp *lp = ud;
	(void)h;
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	pthread_mutex_lock(&lp->mu);
	lp->writes++;
	if (lp->gone) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
	} else {
		size_t n = (size_t)arg->data_len;
		if (lp->tail_n + n > sizeof(lp->tail))
			n = sizeof(lp->tail) - lp->tail_n;
		memcpy(lp->tail + lp->tail_n, arg->data, n);
		lp->tail_n += n;
		long used = prni_escpos_parser_feed(&lp->ps, lp->tail, lp->tail_n);
		if (used > 0) {
			memmove(lp->tail, lp->tail + used, lp->tail_n - (size_t)used);
			lp->tail_n -= (size_t)used;
		}
		umockdev_ioctl_client_complete(client, (long)n, 0);
	}
	pthread_mutex_unlock(&lp->mu);
	return TRUE;
}

static void build_doc(struct prn_doc *d)
{
	prn_doc_init(d, 48);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD | PRN_DOUBLE, "posmark store");
	prn_doc_pair(d, 0, "Pen Stabilo", "1.99");
	prn_doc_barcode(d, PRN_EAN13, "4006381333931");
	prn_doc_cut(d);
}

static void test_usblp(void **state)
{
	(void)state;
	UMockdevTestbed *tb = umockdev_testbed_new();
	assert_true(umockdev_in_mock_environment());
	struct lp lp;
	memset(&lp, 0, sizeof(lp));
	pthread_mutex_init(&lp.mu, NULL);
	lp.status = 0x18;
	prn_doc_init(&lp.doc, 48);
	prni_escpos_parser_init(&lp.ps, &lp.doc);
	UMockdevIoctlBase *h = umockdev_ioctl_base_new();
	g_signal_connect(h, "handle-ioctl", G_CALLBACK(lp_ioctl), &lp);
	g_signal_connect(h, "handle-write", G_CALLBACK(lp_write), &lp);
	GError *err = NULL;
	assert_true(umockdev_testbed_attach_ioctl(tb, "/dev/usb/lp0", h, &err));
	assert_true(umockdev_testbed_add_from_string(tb, lp_desc, &err));

	struct prn_dev *p;
	struct prn_doc d;
	char e[256];
	int st;
	build_doc(&d);
	assert_int_equal(prn_open("usblp:/dev/usb/lp0,timeout=200", &p, e, sizeof(e)), PM_OK);
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_READY);
	assert_int_equal(prn_print(p, &d), PM_OK);
	pthread_mutex_lock(&lp.mu);
	assert_int_equal(lp.ps.cuts, 1);
	assert_string_equal(lp.doc.elems[0].text, "posmark store");
	assert_int_equal(lp.doc.elems[0].style, PRN_BOLD | PRN_DOUBLE);
	bool bar = false;
	for (size_t i = 0; i < lp.doc.n; i++)
		if (lp.doc.elems[i].kind == PRN_BARCODE && !strcmp(lp.doc.elems[i].text, "400638133393"))
			bar = true;
	assert_true(bar);
	lp.status = 0x38;                   /* paper empty */
	int writes = lp.writes;
	pthread_mutex_unlock(&lp.mu);
	assert_int_equal(prn_print(p, &d), PM_EPAPER);
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_PAPER_OUT);
	assert_int_equal(lp.writes, writes);
	pthread_mutex_lock(&lp.mu);
	lp.status = 0x08;                   /* not selected: offline */
	pthread_mutex_unlock(&lp.mu);
	assert_int_equal(prn_print(p, &d), PM_EOFFLINE);
	/* Unplugged: ENODEV from the driver, reported, no crash; back: prints. */
	pthread_mutex_lock(&lp.mu);
	lp.gone = true;
	pthread_mutex_unlock(&lp.mu);
	int old = pm_log_level;
	pm_log_level = PM_LOG_ERR;
	assert_int_equal(prn_status(p, &st), PM_ENODEV);
	assert_int_equal(st, PRN_OFFLINE);
	pm_log_level = old;
	pthread_mutex_lock(&lp.mu);
	lp.gone = false;
	lp.status = 0x18;
	pthread_mutex_unlock(&lp.mu);
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_int_equal(lp.ps.cuts, 2);
	prn_close(p);
	prn_doc_release(&d);
	umockdev_testbed_detach_ioctl(tb, "/dev/usb/lp0", NULL);
	g_object_unref(h);
	g_object_unref(tb);
	prn_doc_release(&lp.doc);
	pthread_mutex_destroy(&lp.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usblp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
