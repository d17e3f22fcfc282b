/*
 * test_umock_printer.c - the usb:VID:PID printer backend's real libusb path
 * against an emulated USB printer-class device (umockdev, umock_usb.h).
 * The device models an Epson TM-T88V (04b8:0202): one interface of class 7
 * (printer, subclass 1, protocol 2 bidirectional), bulk OUT 0x01 and bulk IN
 * 0x82, 64-byte packets; GET_PORT_STATUS answers from the emulated state.
 * Everything written to bulk OUT is parsed back as ESC/POS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drv_backend.h"
#include "common/pm_err.h"
#include "tests/unit/testutil.h"
#include "tests/unit/umock_usb.h"

static const char printer_desc[] =
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-2\n"
	"N: bus/usb/001/002\n"
	"E: DEVNAME=/dev/bus/usb/001/002\n"
	"E: DEVTYPE=usb_device\n"
	"E: SUBSYSTEM=usb\n"
	"E: BUSNUM=001\n"
	"E: DEVNUM=002\n"
	"E: PRODUCT=4b8/202/100\n"
	"A: busnum=1\\n\n"
	"A: devnum=2\\n\n"
	"A: dev=189:1\\n\n"
	"A: speed=12\\n\n"
	"A: bConfigurationValue=1\\n\n"
	"A: idVendor=04b8\\n\n"
	"A: idProduct=0202\\n\n"
	"H: descriptors=1201000200000040b804020200010102030109022000010100c001"
	"0904000002070102000705010240000007058202400000\n";

struct printer_state {
	unsigned char port_status;  /* GET_PORT_STATUS byte */
	int writes;                 /* bulk OUT transfers */
	int vanish_after_writes;    /* unplug during the Nth write (0 = never) */
	struct prn_doc doc;
	struct prni_escpos_parser ps;
	unsigned char tail[8192];   /* bytes of an incomplete command */
	size_t tail_n;
	struct emu_usb *emu;
};

static int prn_control(struct emu_usb *e, const unsigned char *setup, unsigned char *data, int len)
{
	struct printer_state *p = e->user;
	if (setup[0] == 0xa1 && setup[1] == 0x01 && len >= 1) {   /* GET_PORT_STATUS */
		data[0] = p->port_status;
		return 1;
	}
	return -EPIPE;
}

static int prn_bulk_out(struct emu_usb *e, unsigned char ep, const unsigned char *data, int len)
{
	struct printer_state *p = e->user;
	if (ep != 0x01)
		return -EPIPE;
	p->writes++;
	if (p->vanish_after_writes && p->writes >= p->vanish_after_writes) {
		e->gone = true;             /* under e->mu already */
		return -ESHUTDOWN;
	}
	if (p->tail_n + (size_t)len > sizeof(p->tail))
		return -EOVERFLOW;
	memcpy(p->tail + p->tail_n, data, (size_t)len);
	p->tail_n += (size_t)len;
	long used = prni_escpos_parser_feed(&p->ps, p->tail, p->tail_n);
	if (used < 0)
		return -EIO;
	memmove(p->tail, p->tail + used, p->tail_n - (size_t)used);
	p->tail_n -= (size_t)used;
	return 0;
}

static const struct emu_usb_ops printer_ops = {
	.control = prn_control,
	.bulk_out = prn_bulk_out,
};

struct fixture {
	UMockdevTestbed *tb;
	struct emu_usb emu;
	struct printer_state st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tb = umockdev_testbed_new();
	if (!umockdev_in_mock_environment()) {
		fprintf(stderr, "not under umockdev-wrapper\n");
		return -1;
	}
	f->st.port_status = 0x18;
	prn_doc_init(&f->st.doc, 42);
	prni_escpos_parser_init(&f->st.ps, &f->st.doc);
	if (!emu_usb_init(&f->emu, f->tb, &printer_ops, printer_desc, "/dev/bus/usb/001/002",
			  "/devices/pci0000:00/0000:00:14.0/usb1/1-2"))
		return -1;
	f->emu.user = &f->st;
	f->st.emu = &f->emu;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	emu_usb_release(&f->emu);
	g_object_unref(f->tb);
	prn_doc_release(&f->st.doc);
	free(f);
	return 0;
}

static void build_doc(struct prn_doc *d)
{
	prn_doc_init(d, 42);
	prn_doc_text(d, PRN_CENTER, PRN_BOLD, "posmark store");
	prn_doc_pair(d, 0, "Coffee 500g", "€6.49");
	for (int i = 0; i < 40; i++)
		prn_doc_pair(d, 0, "Line item", "1.00");
	prn_doc_barcode(d, PRN_CODE128, "PM-COUPON-42");
	prn_doc_qr(d, "PM-COUPON-42");
	prn_doc_cut(d);
}

static void set_status(struct fixture *f, unsigned char st)
{
	pthread_mutex_lock(&f->emu.mu);
	f->st.port_status = st;
	pthread_mutex_unlock(&f->emu.mu);
}

static void test_usb_print_and_paper_out(void **state)
{
	struct fixture *f = *state;
	struct prn_dev *p;
	struct prn_doc d;
	char err[256];
	int st;
	build_doc(&d);
	assert_int_equal(prn_open("usb:04b8:0202,timeout=200,profile=epson-tm-t88v", &p, err, sizeof(err)), PM_OK);
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_READY);
	assert_int_equal(prn_print(p, &d), PM_OK);
	pthread_mutex_lock(&f->emu.mu);
	assert_int_equal(f->st.ps.cuts, 1);
	assert_true(f->st.writes >= 1);
	const struct prn_elem *first = NULL, *qr = NULL;
	for (size_t i = 0; i < f->st.doc.n; i++) {
		if (!first && f->st.doc.elems[i].kind == PRN_TEXT)
			first = &f->st.doc.elems[i];
		if (f->st.doc.elems[i].kind == PRN_QR)
			qr = &f->st.doc.elems[i];
	}
	assert_string_equal(first->text, "posmark store");
	assert_int_equal(first->style, PRN_BOLD);
	assert_string_equal(qr->text, "PM-COUPON-42");
	assert_non_null(strstr(f->st.doc.elems[1].text, "€6.49"));
	pthread_mutex_unlock(&f->emu.mu);

	/* Paper out (bit 5): refused, nothing written. */
	set_status(f, 0x38);
	int writes = f->st.writes;
	assert_int_equal(prn_status(p, &st), PM_OK);
	assert_int_equal(st, PRN_PAPER_OUT);
	assert_int_equal(prn_print(p, &d), PM_EPAPER);
	assert_int_equal(f->st.writes, writes);
	/* Deselected (offline). */
	set_status(f, 0x08);
	assert_int_equal(prn_print(p, &d), PM_EOFFLINE);
	/* Back: prints. */
	set_status(f, 0x18);
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_int_equal(f->st.ps.cuts, 2);
	prn_close(p);
	prn_doc_release(&d);
}

static void test_usb_vanishes_mid_write(void **state)
{
	struct fixture *f = *state;
	struct prn_dev *p;
	struct prn_doc d;
	char err[256];
	int st;
	build_doc(&d);
	assert_int_equal(prn_open("usb:04b8:0202,timeout=200", &p, err, sizeof(err)), PM_OK);
	pthread_mutex_lock(&f->emu.mu);
	f->st.vanish_after_writes = f->st.writes + 2;   /* the second 4 KiB chunk */
	pthread_mutex_unlock(&f->emu.mu);
	int rc = prn_print(p, &d);
	assert_true(rc == PM_ENODEV || rc == PM_EIO);
	/* Unplugged: offline, not a crash or a hang. */
	umockdev_testbed_remove_device(f->tb, f->emu.syspath);
	emu_usb_unplug_finish(&f->emu);
	assert_int_equal(prn_status(p, &st), PM_EOFFLINE);
	assert_int_equal(st, PRN_OFFLINE);
	assert_int_equal(prn_print(p, &d), PM_EOFFLINE);
	/* Plugged back in: found again by VID:PID and the receipt prints. */
	pthread_mutex_lock(&f->emu.mu);
	f->st.vanish_after_writes = 0;
	pthread_mutex_unlock(&f->emu.mu);
	assert_true(emu_usb_plug(&f->emu));
	assert_int_equal(prn_print(p, &d), PM_OK);
	assert_true(f->st.ps.cuts >= 1);
	prn_close(p);
	prn_doc_release(&d);
}

static void test_usb_absent_and_wrong_class(void **state)
{
	(void)state;
	struct prn_dev *p;
	char err[256];
	int st;
	/* No such device: opens (a till may start before its printer), reports offline. */
	assert_int_equal(prn_open("usb:1234:5678,timeout=100", &p, err, sizeof(err)), PM_OK);
	assert_int_equal(prn_status(p, &st), PM_EOFFLINE);
	assert_int_equal(st, PRN_OFFLINE);
	prn_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usb_print_and_paper_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usb_vanishes_mid_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usb_absent_and_wrong_class, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
